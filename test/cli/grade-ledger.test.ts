// The grade ledger: `seclab grade --ledger [dir]` records every grade record; `seclab grade verify
// <file> --ledger [dir]` proves that exact record is in it, and says when a file was altered or never
// recorded. One real grading on the lab cloud, the rest on fake records.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultGradeLedgerDir, KEY_FILE, openGradeLedger, recordGrades, VKEY_FILE } from '../../src/engine/grade-ledger.ts';
import { signGrade, gradeKey } from '../../src/engine/report/sign.ts';
import { tilePath } from '../../src/controls/ledger/tiles.ts';
import { fakeGrade, fakeLabGrade, tmpDir } from './fixtures.ts';

const BIN = fileURLToPath(new URL('../../bin/seclab.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENV = { SECLAB_GRADE_KEY: 'grade-ledger-test-key' };

function seclab(args: string[], opts: { env?: Record<string, string>; timeout?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const home = tmpDir('seclab-home-');
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: tmpDir(),
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: '', SECLAB_GRADE_KEY: '', NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: opts.timeout ?? 60_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const key = gradeKey({ env: ENV });

describe('the grade ledger', () => {
  it('makes its key once (0600), appends every record and signs a checkpoint each time', async () => {
    const dir = path.join(tmpDir(), 'ledger');
    const a = await recordGrades(dir, [signGrade(fakeGrade('alice'), key), signGrade(fakeGrade('bob'), key)]);
    expect(a).toMatchObject({ first: 0, size: 2 });
    expect(statSync(path.join(dir, KEY_FILE)).mode & 0o777).toBe(0o600);
    const skey = readFileSync(path.join(dir, KEY_FILE), 'utf8');
    const b = await recordGrades(dir, [signGrade(fakeGrade('cy'), key)]);
    expect(b).toMatchObject({ first: 2, size: 3, origin: a.origin });
    expect(readFileSync(path.join(dir, KEY_FILE), 'utf8')).toBe(skey);
    expect(readFileSync(path.join(dir, 'checkpoint'), 'utf8')).toMatch(new RegExp(`^${a.origin.replace('.', '\\.')}\\n3\\n`));
    const l = await openGradeLedger(dir);
    expect(l.ledger.size).toBe(3);
  });

  it('gradings recording at once take turns: one log, no fork, every record once', async () => {
    const dir = path.join(tmpDir(), 'ledger');
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const rs = await Promise.all(names.map((n) => recordGrades(dir, [fakeGrade(n)])));
    expect(rs.map((r) => r.first).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    const a = await seclab(['ledger', 'audit', dir, '--vkey', path.join(dir, VKEY_FILE), '--json']);
    expect(JSON.parse(a.stdout)).toMatchObject({ ok: true, size: 6, entries: 6 });
    expect(readdirSync(dir)).not.toContain('ledger.lock');
  });

  it('refuses a key file other users can read', async () => {
    const dir = path.join(tmpDir(), 'ledger');
    await recordGrades(dir, [fakeGrade('alice')]);
    const { chmodSync } = await import('node:fs');
    chmodSync(path.join(dir, KEY_FILE), 0o644);
    await expect(recordGrades(dir, [fakeGrade('bob')])).rejects.toThrow(/can be read by other users/);
  });

  it('grade verify --ledger: recorded, altered (with the changed fields), never recorded; exit 1 unless all are recorded', async () => {
    const work = tmpDir();
    const dir = path.join(work, 'ledger');
    const alice = signGrade(fakeGrade('alice'), key);
    const bob = signGrade(fakeGrade('bob', [fakeLabGrade({ score: 40 })]), key);
    await recordGrades(dir, [alice, bob]);
    const file = path.join(work, 'grades.json');
    writeFileSync(file, JSON.stringify([alice, bob], null, 2));
    const ok = await seclab(['grade', 'verify', file, '--ledger', dir, '--json'], { env: ENV });
    expect(ok.code, ok.stderr).toBe(0);
    const okOut = JSON.parse(ok.stdout) as { size: number; results: { status: string; entry: number; signature: string; proof: { hashes: string[] } }[] };
    expect(okOut.size).toBe(2);
    expect(okOut.results.map((r) => [r.status, r.entry, r.signature])).toEqual([['recorded', 0, 'valid'], ['recorded', 1, 'valid']]);
    expect(okOut.results[0]!.proof.hashes).toHaveLength(1);

    const altered = { ...bob, score: 45, percent: 100 };
    const carol = signGrade(fakeGrade('carol'), key);
    writeFileSync(file, JSON.stringify([alice, altered, carol]));
    const bad = await seclab(['grade', 'verify', file, '--ledger', dir], { env: ENV });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/✔ .*\[0\] \(alice\): recorded as entry 0 of 2/);
    expect(bad.stdout).toMatch(/✘ .*\[1\] \(bob\): the file was altered: .*entry 1.*changed: percent, score/);
    expect(bad.stdout).toMatch(/✘ .*\[2\] \(carol\): this record was never recorded/);
  });

  it('grade verify --ledger with the default folder, and clear errors for a missing or tampered ledger', async () => {
    const home = tmpDir('seclab-home-');
    const dir = defaultGradeLedgerDir({ HOME: home });
    expect(dir).toBe(path.join(home, '.config', 'seclab', 'grade-ledger'));
    const alice = signGrade(fakeGrade('alice'), key);
    await recordGrades(dir, [alice]);
    const file = path.join(home, 'g.json');
    writeFileSync(file, JSON.stringify(alice));
    const r = await seclab(['grade', 'verify', file, '--ledger'], { env: { ...ENV, HOME: home } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/recorded as entry 0 of 1; inclusion proof \(0 hashes\) verified/);

    const none = await seclab(['grade', 'verify', file, '--ledger', path.join(home, 'nowhere')], { env: ENV });
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/no grade ledger in .*nowhere/);

    // Someone changes the checkpoint's size: its signature no longer verifies.
    const cp = path.join(dir, 'checkpoint');
    writeFileSync(cp, readFileSync(cp, 'utf8').replace(/\n1\n/, '\n2\n'));
    const t = await seclab(['grade', 'verify', file, '--ledger', dir], { env: ENV });
    expect(t.code).toBe(3);
    expect(t.stderr).toMatch(/checkpoint does not verify.*seclab ledger audit/s);
  });

  it('a ledger whose tiles were rewritten: the inclusion proof fails and the audit names the tile', async () => {
    const work = tmpDir();
    const dir = path.join(work, 'ledger');
    const records = ['a', 'b', 'c'].map((s) => signGrade(fakeGrade(s), key));
    await recordGrades(dir, records);
    const tile = path.join(dir, ...tilePath(0, 0, 3).split('/'));
    const data = readFileSync(tile);
    data[5] ^= 0xff; // the leaf hash of record a: c's proof holds the hash of a and b
    writeFileSync(tile, data);
    const file = path.join(work, 'c.json');
    writeFileSync(file, JSON.stringify(records[2]));
    const r = await seclab(['grade', 'verify', file, '--ledger', dir, '--json'], { env: ENV });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).results[0]).toMatchObject({ status: 'bad-checkpoint', entry: 2 });
    const vkey = path.join(dir, VKEY_FILE);
    const a = await seclab(['ledger', 'audit', dir, '--vkey', vkey, '--json']);
    expect(a.code).toBe(1);
    // The records still hash to the signed root: the tile is the altered side.
    expect(JSON.parse(a.stdout).discrepancies).toMatchObject([{ kind: 'tile-mismatch', index: 0 }]);
  });
});

describe('seclab grade --ledger on the lab cloud', () => {
  it('records the grade it wrote, and grade verify proves it', async () => {
    const work = tmpDir('seclab-grade-ledger-');
    const ws = path.join(work, 'dana');
    mkdirSync(path.join(ws, 'iam'), { recursive: true });
    writeFileSync(path.join(ws, 'package.json'), '{ "type": "module", "private": true }\n');
    writeFileSync(path.join(ws, 'iam', 'solution.ts'), readFileSync(path.join(ROOT, 'labs/iam/starter/iam/solution.ts'), 'utf8'));
    const ledger = path.join(work, 'ledger');
    const out = path.join(work, 'out');
    const g = await seclab(['grade', '--workspace', ws, '--lab', 'iam', '--timeout', '30', '--seed', 'grade-ledger', '--out', out, '--format', 'json', '--ledger', ledger], { env: ENV, timeout: 400_000 });
    expect(g.code, g.stderr).toBe(0);
    expect(g.stderr).toMatch(/Recorded 1 grade record\(s\) in the grade ledger/);
    expect(readdirSync(ledger)).toEqual(expect.arrayContaining(['checkpoint', 'tile', KEY_FILE, VKEY_FILE]));
    const file = path.join(out, 'grades.json');
    const v = await seclab(['grade', 'verify', file, '--ledger', ledger, '--json'], { env: ENV });
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout).results).toMatchObject([{ status: 'recorded', entry: 0, signature: 'valid', student: 'dana' }]);
    const rec = JSON.parse(readFileSync(file, 'utf8')) as { score: number };
    writeFileSync(file, JSON.stringify({ ...rec, score: rec.score + 10 }));
    const x = await seclab(['grade', 'verify', file, '--ledger', ledger, '--json'], { env: ENV });
    expect(x.code).toBe(1);
    expect(JSON.parse(x.stdout).results).toMatchObject([{ status: 'altered', changed: ['score'] }]);

    // A ledger that cannot be written does not cost the grades: they are written, the exit code is 3.
    const { chmodSync } = await import('node:fs');
    chmodSync(path.join(ledger, KEY_FILE), 0o644);
    const out2 = path.join(work, 'out2');
    const g2 = await seclab(['grade', '--workspace', ws, '--lab', 'iam', '--timeout', '30', '--seed', 'grade-ledger', '--out', out2, '--format', 'json', '--ledger', ledger], { env: ENV, timeout: 400_000 });
    expect(g2.code).toBe(3);
    expect(g2.stderr).toMatch(/not recorded in the grade ledger: .*can be read by other users/);
    expect(readdirSync(out2)).toContain('grades.json');
  }, 800_000);
});
