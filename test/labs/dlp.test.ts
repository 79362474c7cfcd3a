// Lab dlp end to end on the real lab cloud: the reference solution (solutions/dlp) gets full marks —
// every check and attack passed, the business intact, its own DLP test suite passing and killing every
// weakened copy — the starter at most 10 %, and the reference without its administrator's test of Block
// Public Access loses that mutant only.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradeLab } from '../../src/engine/grader.ts';
import { findLab, SOLUTIONS_DIR } from '../../src/engine/labs.ts';
import type { LabGrade } from '../../src/engine/types.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();

async function grade(workspace: string): Promise<LabGrade> {
  return gradeLab(cloud(), await findLab('dlp'), { workspace, seed: 'dlp-test' });
}

/** A workspace whose dlp/ folder is the reference with `from` replaced by `to` in solution.ts. */
function variant(from: string, to: string): string {
  const ws = mkdtempSync(path.join(os.tmpdir(), 'seclab-dlp-'));
  writeFileSync(path.join(ws, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  cpSync(path.join(SOLUTIONS_DIR, 'dlp'), path.join(ws, 'dlp'), { recursive: true });
  const file = path.join(ws, 'dlp', 'solution.ts');
  const text = readFileSync(file, 'utf8');
  expect(text).toContain(from);
  writeFileSync(file, text.split(from).join(to));
  return ws;
}

const failed = (g: LabGrade) => [...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => c.id).sort();
/** What failed and why, for assertion messages. */
const detail = (g: LabGrade) => [...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => `${c.id} (${c.points}/${c.maxPoints}): ${c.feedback}`).join('\n');

describe('lab dlp', () => {
  it('gives the reference solution full marks: every check and attack passed, the business intact', async () => {
    const g = await grade(SOLUTIONS_DIR);
    expect(g.student.every((r) => r.ok), JSON.stringify(g.student)).toBe(true);
    expect(failed(g), detail(g)).toEqual([]);
    expect(g.checks.filter((c) => c.kind === 'business').length).toBeGreaterThan(0);
    expect(g.score, detail(g)).toBe(g.maxScore);
    expect(g.maxScore).toBe(100);
    expect(g.scenarios.map((s) => s.id).sort()).toEqual([
      'dlp-card-copy-outside', 'dlp-object-made-public', 'dlp-pii-in-log', 'dlp-presigned-url-outside', 'dlp-renamed-compressed', 'dlp-staging-drop',
    ]);
    for (const s of g.scenarios) expect(s, s.feedback).toMatchObject({ blocked: true, businessIntact: true });
  }, 900_000);

  it('gives the untouched starter at most 10 %', async () => {
    const ws = mkdtempSync(path.join(os.tmpdir(), 'seclab-dlp-starter-'));
    writeFileSync(path.join(ws, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
    cpSync((await findLab('dlp')).starter, ws, { recursive: true });
    const g = await grade(ws);
    expect(g.student.every((r) => r.ok), JSON.stringify(g.student)).toBe(true);
    expect(g.score / g.maxScore, detail(g)).toBeLessThanOrEqual(0.1);
    expect(g.scenarios.every((s) => !s.blocked || s.points === 0)).toBe(true);
  }, 900_000);

  it('a suite without the administrator\'s public-policy test: Block Public Access deleted opens a way out it does not notice (that mutant survives, nothing else changes)', async () => {
    const g = await grade(variant("results.push(await test('Block Public Access refuses a public bucket policy", "void (await test('Block Public Access refuses a public bucket policy"));
    expect(failed(g), detail(g)).toEqual(['dlp-tests-catch-public-access-off']);
    expect(g.checks.find((c) => c.id === 'dlp-tests-catch-public-access-off')!.feedback).toMatch(/^Survived: .*public bucket policy on staging/);
    expect(g.score).toBe(97);
  }, 900_000);
});
