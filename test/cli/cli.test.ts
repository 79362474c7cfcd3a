// The command line as a user runs it: `node bin/seclab.js ...` in a child process (no lab cloud).
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { signGrade, gradeKey } from '../../src/engine/report/sign.ts';
import { fakeGrade, tmpDir } from './fixtures.ts';

const BIN = fileURLToPath(new URL('../../bin/seclab.js', import.meta.url));

function seclab(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const home = tmpDir('seclab-home-');
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? tmpDir(),
    env: { PATH: process.env['PATH'] ?? '', HOME: home, SECLAB_CACHE_DIR: path.join(home, 'cache'), NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 30_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe.concurrent('seclab command line', () => {
  it('--help lists the commands and the exit codes', async () => {
    const r = await seclab(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['list', 'start', 'check', 'attack', 'hint', 'watch', 'reset', 'solution', 'init', 'env', 'cloud', 'doctor', 'grade']) expect(r.stdout).toContain(`  ${c}`);
    expect(r.stdout).toMatch(/Exit codes: 0 ok/);
  });

  it('without arguments and without a terminal prints the help', async () => {
    const r = await seclab([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: seclab');
  });

  it('list --json describes the labs', async () => {
    const r = await seclab(['list', '--json']);
    expect(r.code).toBe(0);
    const labs = JSON.parse(r.stdout) as { id: string; slide: number; title: string; maxScore: number; progress: unknown }[];
    const iam = labs.find((l) => l.id === 'iam');
    expect(iam).toMatchObject({ slide: 11, progress: null });
    expect(iam!.maxScore).toBeGreaterThan(0);
    expect(r.stderr).toBe('');
  });

  it('list fits 80 columns: long titles are cut, the progress column lines up', async () => {
    const r = await seclab(['list']);
    expect(r.code).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => /^\d+\s/.test(l));
    expect(rows.length).toBeGreaterThanOrEqual(5);
    for (const l of rows) expect(l.length, l).toBeLessThanOrEqual(80);
    expect(new Set(rows.map((l) => l.search(/not started|\d+\/\d+|passed/))).size).toBe(1);
  });

  it('an unknown lab is a usage error (exit 2) naming the labs', async () => {
    const r = await seclab(['check', 'nosuchlab']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no lab "nosuchlab"\. Labs: .*iam/);
    expect(r.stdout).toBe('');
  });

  it('unknown commands and options, and grade without a source, are usage errors', async () => {
    expect((await seclab(['frobnicate'])).code).toBe(2);
    expect((await seclab(['list', '--bogus'])).code).toBe(2);
    const g = await seclab(['grade']);
    expect(g.code).toBe(2);
    expect(g.stderr).toMatch(/--workspace <dir>.*--submissions <dir>/);
    expect((await seclab(['grade', '--workspace', '.', '--format', 'pdf'])).code).toBe(2);
    expect((await seclab(['grade', '--workspace', '.', '--format', 'json,csv'])).stderr).toMatch(/need --out/);
  });

  it('init creates a workspace and does not overwrite work; hint records progress', async () => {
    const cwd = tmpDir();
    const r = await seclab(['init', 'ws'], { cwd });
    expect(r.code).toBe(0);
    const sol = path.join(cwd, 'ws', 'iam', 'solution.ts');
    writeFileSync(sol, '// mine\n');
    const again = await seclab(['init', 'ws', '--json'], { cwd });
    expect(again.code).toBe(0);
    const second = JSON.parse(again.stdout) as { created: string[]; kept: string[] };
    expect(second.created).toEqual([]);
    expect(second.kept).toContain('iam');
    expect(readFileSync(sol, 'utf8')).toBe('// mine\n');
    const h = await seclab(['hint', 'iam', '--json'], { cwd: path.join(cwd, 'ws') });
    expect(h.code).toBe(0);
    expect(JSON.parse(h.stdout)).toMatchObject({ lab: 'iam', number: 1, reason: 'first' });
    const progress = JSON.parse(readFileSync(path.join(cwd, 'ws', '.seclab', 'progress.json'), 'utf8'));
    expect(Object.values(progress.labs.iam.hintsSeen)).toEqual([1]);
    expect((await seclab(['hint', 'iam', 'nosuchtask'], { cwd: path.join(cwd, 'ws') })).code).toBe(2);
    const s = await seclab(['solution', 'iam'], { cwd: path.join(cwd, 'ws') });
    expect(s.code).toBe(1);
    expect(s.stdout).toMatch(/opens once you pass/);
  });

  it('grade verify accepts signed records and detects tampering (exit 1)', async () => {
    const env = { SECLAB_GRADE_KEY: 'cli-test-key' };
    const dir = tmpDir();
    const file = path.join(dir, 'grades.json');
    const signed = [signGrade(fakeGrade('alice'), gradeKey({ env })), signGrade(fakeGrade('bob'), gradeKey({ env }))];
    writeFileSync(file, JSON.stringify(signed, null, 2));
    const ok = await seclab(['grade', 'verify', file], { env });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/alice.*signature valid/);
    signed[1]!.labs[0]!.score = 45;
    writeFileSync(file, JSON.stringify(signed));
    const bad = await seclab(['grade', 'verify', file, '--json'], { env });
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject([{ student: 'alice', ok: true }, { student: 'bob', ok: false }]);
    // no key at all: an environment error
    expect((await seclab(['grade', 'verify', file])).code).toBe(3);
  });

  it('env without a running lab cloud says to start one (exit 3)', async () => {
    const r = await seclab(['env']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/seclab cloud up/);
  });
});
