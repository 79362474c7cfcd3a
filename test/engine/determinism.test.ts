// Same work, same grade: the reference solution of every lab graded alone and while another grading of the same
// lab runs on the same lab cloud gets the same score and the same outcome for every check and attack, whatever the
// seed; with the same seed even the feedback, attack steps and lab times are the same. The planted random values
// (attacker addresses, planted names) come from the seed: the same for the same seed, different for another.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { gradeLab, provisionLab } from '../../src/engine/grader.ts';
import { findLab, SOLUTIONS_DIR } from '../../src/engine/labs.ts';
import { labSeed, Random, withRandom } from '../../src/engine/random.ts';
import { LabClock } from '../../src/cloud/gateway/clock.ts';
import type { CheckGrade, LabGrade } from '../../src/engine/types.ts';
import { buildGrade, erroredLab } from '../../src/engine/report/record.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LABS = ['iam', 'network', 'siem'];

const all = (g: LabGrade): CheckGrade[] => [...g.checks, ...g.scenarios];

/** What a grade says about each check and attack (what must not depend on the seed, the machine or other gradings). */
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

/** Names the emulator or the lab cloud makes unique per run (accounts, resource ids, keys, run ids), not from the seed. */
function normalize(text: string, g: LabGrade): string {
  return text
    .replaceAll(g.accountId, '<account>')
    .replace(/\b(fl|eni|sg|acl|i|subnet|vpc|rtb|igw|eipalloc)-[0-9a-f]{8,17}\b/g, '$1-<id>')
    .replace(/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, '<key>')
    .replace(/\b[0-9a-f]{8}\b/g, '<run>');
}

/** With the same seed: also the feedback, the attack steps and their lab times (relative to the first attack step). */
function details(g: LabGrade) {
  const first = g.scenarios.flatMap((s) => s.steps ?? [])[0]?.at ?? 0;
  return all(g).map((c) => ({
    id: c.id, feedback: normalize(c.feedback, g),
    steps: c.steps?.map((s) => ({ description: normalize(s.description, g), at: s.at - first })),
  }));
}

describe('same work, same grade', () => {
  for (const id of LABS) {
    it(`lab ${id}: the reference gets the same grade alone and beside another grading, with any seed`, async () => {
      const lab = await findLab(id);
      const alone = await gradeLab(cloud(), lab, { workspace: SOLUTIONS_DIR, seed: 'determinism-1' });
      // Two gradings of the lab at once on the one lab cloud (and its one clock): one with the same seed.
      const [same, other] = await Promise.all([
        gradeLab(cloud(), lab, { workspace: SOLUTIONS_DIR, seed: 'determinism-1' }),
        gradeLab(cloud(), lab, { workspace: SOLUTIONS_DIR, seed: 'determinism-2' }),
      ]);
      expect(alone.error).toBeUndefined();
      expect(alone.score).toBe(alone.maxScore);
      expect([alone.seed, same.seed, other.seed]).toEqual(['determinism-1', 'determinism-1', 'determinism-2']);
      expect(outcomes(same)).toEqual(outcomes(alone));
      expect(outcomes(other)).toEqual(outcomes(alone));
      expect(details(same)).toEqual(details(alone));
    }, 300_000);
  }

  it('plants the random values the seed says: the same for the same seed, others for another seed', async () => {
    const planted = async (id: string, seed: string) => {
      const lab = await findLab(id);
      const s = await provisionLab(cloud(), lab, seed);
      // Each attack's foothold (the attacker's address...), drawn as a grading draws it.
      const prepared = await withRandom(s.random, async () => {
        const out: unknown[] = [];
        for (const sc of lab.scenarios) {
          const state = await sc.prepare?.(s);
          // Addresses, less the lab's own (the emulator gives instances their public addresses).
          const own = JSON.stringify(s.env);
          out.push((JSON.stringify(state ?? null).match(/\b\d{1,3}(\.\d{1,3}){3}\b/g) ?? []).filter((ip) => !own.includes(`"${ip}"`)));
          await sc.revert?.(s, state).catch(() => undefined);
        }
        return out;
      });
      const hidden = Object.fromEntries(Object.entries(s.hidden).filter(([, v]) => typeof v === 'string' && !/^(i|eni)-/.test(v)));
      cloud().gateway.dropAccount(s.accountId);
      return { hidden, prepared };
    };
    for (const id of LABS) {
      const a = await planted(id, 'plant-1');
      const b = await planted(id, 'plant-1');
      const c = await planted(id, 'plant-2');
      expect(a.prepared.flat().length + Object.keys(a.hidden).length).toBeGreaterThan(0);
      expect(b).toEqual(a);
      expect(c).not.toEqual(a);
    }
  }, 240_000);
});

describe('the seeded generator', () => {
  it('draws the same sequence from the same seed, another from another seed; forks do not disturb each other', () => {
    const draw = (r: Random) => Array.from({ length: 20 }, () => r.next());
    expect(draw(new Random('a'))).toEqual(draw(new Random('a')));
    expect(draw(new Random('a'))).not.toEqual(draw(new Random('b')));
    const r1 = new Random('s');
    const r2 = new Random('s');
    r2.next();
    r2.seedFor('other');
    expect(r1.seedFor('traffic')).toBe(r2.seedFor('traffic'));
    expect(r1.seedFor('traffic')).not.toBe(r1.seedFor('traffic'));
    expect(labSeed('run', 'iam')).not.toBe(labSeed('run', 'siem'));
    const xs = draw(new Random('range'));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const ints = Array.from({ length: 1000 }, () => new Random(String(Math.random())).int(2, 5));
    expect(new Set(ints)).toEqual(new Set([2, 3, 4, 5]));
  });
});

describe('the lab clock held by a grading', () => {
  it('stands still but for its holder\'s advances; others\' advances wait; it never goes back', async () => {
    const clock = new LabClock();
    await clock.advance(1000);
    let inside = 0;
    let otherDone = false;
    // Another grading's advance, asked for while this one holds the clock.
    const other = new Promise((r) => setTimeout(r, 20)).then(() => clock.advance(5000)).then(() => (otherDone = true));
    await clock.exclusive(async () => {
      const t0 = clock.nowMs();
      await new Promise((r) => setTimeout(r, 60));
      expect(clock.nowMs()).toBe(t0); // wall time does not move it
      expect(otherDone).toBe(false); // waits for the holder
      await clock.advance(60_000);
      expect(clock.nowMs()).toBe(t0 + 60_000);
      await clock.exclusive(async () => (inside = clock.nowMs())); // re-entrant
      expect(clock.recentTimes()).toContain(t0); // where it stood before the jump
    });
    const after = clock.nowMs();
    expect(after).toBeGreaterThanOrEqual(inside);
    await other;
    expect(otherDone).toBe(true);
    expect(clock.nowMs()).toBeGreaterThanOrEqual(after + 5000);
  });
});

describe('the seed in the grade record', () => {
  it('is the run seed: given to buildGrade, or the one its labs share', () => {
    const base = { student: 's', workspace: '/w', target: 'moto', version: '0', startedAt: new Date(0) };
    const lab = { ...erroredLab('iam', 'IAM', 100, 'x'), seed: 'from-lab' };
    expect(buildGrade({ ...base, labs: [lab] }).seed).toBe('from-lab');
    expect(buildGrade({ ...base, labs: [lab], seed: 'run' }).seed).toBe('run');
    expect(buildGrade({ ...base, labs: [lab, { ...lab, seed: 'other' }] }).seed).toBeUndefined();
  });

  it('seclab grade --seed takes printable text without spaces (else a usage error, exit 2)', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/seclab.js'), 'grade', '--workspace', ROOT, '--seed', 'two words'], {
      encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--seed must be 1 to 128 printable characters/);
  }, 150_000);
});
