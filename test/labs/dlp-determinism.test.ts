// Lab dlp, same work, same grade: the reference graded alone and then beside another grading of the lab
// (the lab clock moves weeks in each) gets the same score and the same outcome for every check and
// attack, whatever the seed; with the same seed also the same feedback, attack steps and lab times.
// (The other labs: test/engine/determinism.test.ts, whose comparison this follows.)
import { describe, expect, it } from 'vitest';
import { gradeLab } from '../../src/engine/grader.ts';
import { findLab, SOLUTIONS_DIR } from '../../src/engine/labs.ts';
import type { CheckGrade, LabGrade } from '../../src/engine/types.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();

const all = (g: LabGrade): CheckGrade[] => [...g.checks, ...g.scenarios];

/** What must not depend on the seed, the machine or other gradings. */
function outcomes(g: LabGrade) {
  return {
    score: g.score, maxScore: g.maxScore, error: g.error,
    checks: all(g).map((c) => ({
      id: c.id, kind: c.kind, passed: c.passed, points: c.points, detected: c.detected, blocked: c.blocked,
      businessIntact: c.businessIntact, timeToDetectMs: c.timeToDetectMs, timeToRespondMs: c.timeToRespondMs,
      steps: c.steps?.map((s) => ({ allowed: s.allowed, errorCode: s.errorCode })),
    })),
    student: g.student.map((r) => ({ export: r.export, ok: r.ok })),
  };
}

/**
 * Names the lab cloud makes unique per run (accounts, keys, the buckets' account suffix), not from the
 * seed; and the keys the reference's own suite makes unique (its lab time and Math.random: the
 * student's code, not the grader's), quoted in the feedback of a failing test.
 */
function normalize(text: string, g: LabGrade): string {
  return text
    .replaceAll(g.accountId, '<account>')
    .replace(/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, '<key>')
    // grader-made buckets in other accounts have opaque names derived from the run and the account
    .replace(/s3:\/\/[a-z][a-z0-9]{23}\//g, 's3://<opaque>/')
    .replace(/\b\d{12}\b/g, '<account>')
    .replace(/\b[0-9a-f]{8}\b/g, '<run>')
    .replace(/dlp-tests\/[0-9a-z-]*…?/g, 'dlp-tests/<stamp>');
}

/** With the same seed: also the feedback, the attack steps and their lab times (relative to the first attack step). */
function details(g: LabGrade) {
  const first = g.scenarios.flatMap((s) => s.steps ?? [])[0]?.at ?? 0;
  return all(g).map((c) => ({
    id: c.id, feedback: normalize(c.feedback, g),
    steps: c.steps?.map((s) => ({ description: normalize(s.description, g), at: s.at - first })),
  }));
}

describe('lab dlp, same work, same grade', () => {
  it('the reference gets the same grade alone and beside another grading, with any seed; with the same seed the same feedback, steps and lab times', async () => {
    const lab = await findLab('dlp');
    const alone = await gradeLab(cloud(), lab, { workspace: SOLUTIONS_DIR, seed: 'dlp-determinism-1' });
    const [same, other] = await Promise.all([
      gradeLab(cloud(), lab, { workspace: SOLUTIONS_DIR, seed: 'dlp-determinism-1' }),
      gradeLab(cloud(), lab, { workspace: SOLUTIONS_DIR, seed: 'dlp-determinism-2' }),
    ]);
    const failing = (g: LabGrade) => all(g).filter((c) => !c.passed).map((c) => `${c.id}: ${c.feedback}`).join('\n');
    for (const g of [alone, same, other]) {
      expect(g.error, failing(g)).toBeUndefined();
      expect(g.score, failing(g)).toBe(g.maxScore);
    }
    expect(outcomes(same)).toEqual(outcomes(alone));
    expect(outcomes(other)).toEqual(outcomes(alone));
    expect(details(same)).toEqual(details(alone));
  }, 900_000);
});
