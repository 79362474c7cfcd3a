// Instructor packs: hidden checks and extra scenarios from a folder outside the repository, added to
// a lab for one grading; hidden from students' feedback, counted in the score.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Grade } from '../../src/engine/types.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PACK = fileURLToPath(new URL('./fixtures/pack/', import.meta.url));
const work = mkdtempSync(path.join(os.tmpdir(), 'seclab-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function grade(...args: string[]) {
  return spawnSync(process.execPath, [path.join(ROOT, 'bin/seclab.js'), 'grade', '--lab', 'iam', ...args], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, SECLAB_GRADE_KEY: 'pack-test', NO_COLOR: '1' }, timeout: 240_000,
  });
}

describe('instructor packs', () => {
  it('add hidden checks and scenarios to a grading, kept out of the student feedback', () => {
    const out = path.join(work, 'out');
    const r = grade('--workspace', 'solutions', '--pack', PACK, '--out', out, '--format', 'json,feedback');
    expect(r.status, r.stderr).toBe(0);
    const g = JSON.parse(readFileSync(path.join(out, 'grades.json'), 'utf8')) as Grade;
    const lab = g.labs[0]!;
    expect(lab.maxScore).toBe(110);
    const check = lab.checks.find((c) => c.id === 'pack-shared-key-gone')!;
    expect(check).toMatchObject({ hidden: true, passed: true, points: 5 });
    const scenario = lab.checks.find((c) => c.id === 'pack-analyst-deletes-report')!;
    expect(scenario).toMatchObject({ kind: 'scenario', hidden: true, blocked: true, points: 5 });
    const feedback = readFileSync(path.join(out, 'feedback', 'solutions.md'), 'utf8');
    expect(feedback).not.toMatch(/No active key is left on the shared user|the shared user holds no active key|The analyst deletes the quarterly report|could not delete the report/);
    expect(g.score).toBe(110);
  });

  it('refuse a pack whose ids clash with the lab\'s, or that names no lab, saying what to fix', () => {
    const bad = path.join(work, 'bad');
    mkdirSync(bad);
    writeFileSync(path.join(bad, 'iam.mts'), "export const checks = [{ id: 'shared-credential-retired', title: 'x', kind: 'posture', points: 1, run: async () => ({ passed: true, feedback: '' }) }];\n");
    const clash = grade('--workspace', 'solutions', '--pack', bad);
    expect(clash.status).toBe(2);
    expect(clash.stderr).toMatch(/"shared-credential-retired" is already a check or scenario of lab iam/);
    const stray = path.join(work, 'stray');
    mkdirSync(stray);
    writeFileSync(path.join(stray, 'iamm.ts'), 'export const checks = [];\n');
    const r = grade('--workspace', 'solutions', '--pack', stray);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/iamm\.ts name\(s\) no lab/);
    const cjs = path.join(work, 'cjs');
    mkdirSync(cjs);
    writeFileSync(path.join(cjs, 'iam.ts'), 'export const checks = [];\n');
    const c = grade('--workspace', 'solutions', '--pack', cjs);
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/is read as CommonJS: name it iam\.mts, or put a package\.json/);
  });
});
