// Lab advanced end to end on the real lab cloud: the reference solution (solutions/advanced) gets full
// marks — its model file passes the held-back evaluation, every attack detected (by the control the
// lab expects) and contained, the quiet day under its budget, no healthy instance taken out, the
// contracted scanner never blocked — and the untouched starter at most 10 %.
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradeLab } from '../../src/engine/grader.ts';
import { findLab, SOLUTIONS_DIR } from '../../src/engine/labs.ts';
import type { LabGrade } from '../../src/engine/types.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();

const ATTACKS = ['c2-beaconing', 'ddos-burst', 'port-scan', 'slow-exfiltration', 'stolen-instance-credentials', 'threat-list-login'];

async function grade(workspace: string): Promise<LabGrade> {
  return gradeLab(cloud(), await findLab('advanced'), { workspace, seed: 'advanced-test' });
}

const failed = (g: LabGrade) => [...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => c.id).sort();
/** What failed and why, for assertion messages. */
const detail = (g: LabGrade) => [...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => `${c.id} (${c.points}/${c.maxPoints}): ${c.feedback}`).join('\n');
/** One line per attack: detected by what, contained, times (for the measured results in solutions/advanced/README.md). */
const perAttack = (g: LabGrade) => g.scenarios.map((s) => `${s.id}: ${s.points}/${s.maxPoints} detected=${s.detected} blocked=${s.blocked} ttd=${s.timeToDetectMs ?? '-'} ttr=${s.timeToRespondMs ?? '-'} | ${s.feedback}`).join('\n');

describe('lab advanced', () => {
  it('gives the reference solution full marks: every attack detected and contained, the business intact', async () => {
    const g = await grade(SOLUTIONS_DIR);
    console.log(`reference ${g.score}/${g.maxScore}\n${perAttack(g)}`);
    expect(g.student.every((r) => r.ok), JSON.stringify(g.student)).toBe(true);
    expect(failed(g), detail(g)).toEqual([]);
    expect(g.checks.filter((c) => c.kind === 'business').length).toBeGreaterThan(0);
    expect(g.score, detail(g)).toBe(g.maxScore);
    expect(g.scenarios.map((s) => s.id).filter((id) => ATTACKS.includes(id)).sort()).toEqual(ATTACKS);
    for (const s of g.scenarios.filter((x) => ATTACKS.includes(x.id))) expect(s, s.feedback).toMatchObject({ detected: true, blocked: true, businessIntact: true });
  }, 1_800_000);

  it('gives the untouched starter at most 10 %', async () => {
    const ws = mkdtempSync(path.join(os.tmpdir(), 'seclab-advanced-starter-'));
    writeFileSync(path.join(ws, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
    cpSync((await findLab('advanced')).starter, ws, { recursive: true });
    const g = await grade(ws);
    console.log(`starter ${g.score}/${g.maxScore}\n${perAttack(g)}`);
    expect(g.student.every((r) => r.ok), JSON.stringify(g.student)).toBe(true);
    expect(g.score / g.maxScore, detail(g)).toBeLessThanOrEqual(0.1);
    for (const s of g.scenarios.filter((x) => ATTACKS.includes(x.id))) expect(s, s.feedback).toMatchObject({ detected: false, blocked: false });
  }, 1_800_000);
});
