// Lab advanced-ledger end to end on the real lab cloud: the reference solution (solutions/advanced-ledger)
// gets full marks — every event of the quiet period in the ledger in time, the key refused to ops-admin,
// the witness cosigning and refusing an inconsistent checkpoint, the anchors undeletable, a clean audit,
// and every attack detected (and blocked where AWS can block it) — and the untouched starter at most 10 %.
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradeLab } from '../../src/engine/grader.ts';
import { findLab, SOLUTIONS_DIR } from '../../src/engine/labs.ts';
import type { LabGrade } from '../../src/engine/types.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();

// LEDGER_TEST_SCENARIOS=none (or a comma-separated list of ids) grades only those attacks, when debugging.
const only = process.env['LEDGER_TEST_SCENARIOS'];
const picked = only === undefined ? undefined : only === 'none' ? [] : only.split(',');

async function grade(workspace: string, scenarios = picked): Promise<LabGrade> {
  return gradeLab(cloud(), await findLab('advanced-ledger'), { workspace, seed: 'advanced-ledger-test', ...(scenarios ? { scenarios } : {}) });
}

const failed = (g: LabGrade) => [...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => c.id).sort();
const detail = (g: LabGrade) => [...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => `${c.id} (${c.points}/${c.maxPoints}): ${c.feedback}`).join('\n');
const lines = (g: LabGrade) => [...g.checks, ...g.scenarios].map((c) => `${c.id}: ${c.points}/${c.maxPoints} ${c.kind === 'scenario' ? `detected=${c.detected} blocked=${c.blocked} ` : ''}| ${c.feedback}`).join('\n');

describe('lab advanced-ledger', () => {
  it('gives the reference solution full marks', async () => {
    const started = Date.now();
    const g = await grade(SOLUTIONS_DIR);
    console.log(`reference ${g.score}/${g.maxScore} in ${Math.round((Date.now() - started) / 1000)} s\n${lines(g)}\n${JSON.stringify(g.student)}`);
    expect(g.student.every((r) => r.ok), JSON.stringify(g.student)).toBe(true);
    if (!picked) expect(g.maxScore).toBe(100);
    expect(failed(g), detail(g)).toEqual([]);
    if (!picked) expect(g.score, detail(g)).toBe(g.maxScore);
  }, 1_800_000);

  it('gives the untouched starter at most 10 %', async () => {
    const ws = mkdtempSync(path.join(os.tmpdir(), 'seclab-advanced-ledger-starter-'));
    writeFileSync(path.join(ws, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
    cpSync((await findLab('advanced-ledger')).starter, ws, { recursive: true });
    const started = Date.now();
    const g = await grade(ws);
    console.log(`starter ${g.score}/${g.maxScore} in ${Math.round((Date.now() - started) / 1000)} s\n${lines(g)}`);
    expect(g.student.every((r) => r.ok), JSON.stringify(g.student)).toBe(true);
    expect(g.score / g.maxScore, detail(g)).toBeLessThanOrEqual(0.1);
  }, 1_800_000);
});
