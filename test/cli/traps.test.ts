// The traps of issue 9, closed, through the command line as a user runs it (`node bin/seclab.js`):
// a mistyped --workspace, lab clouds sharing one state file, --json errors that printed nothing.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tmpDir } from './fixtures.ts';

const BIN = fileURLToPath(new URL('../../bin/seclab.js', import.meta.url));

interface Run { code: number | null; stdout: string; stderr: string }

function seclab(args: string[], opts: { cwd?: string; env?: Record<string, string>; home?: string } = {}): Promise<Run> {
  const home = opts.home ?? tmpDir('seclab-home-');
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? tmpDir(),
    env: { PATH: process.env['PATH'] ?? '', HOME: home, SECLAB_CACHE_DIR: path.join(home, 'cache'), NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

interface JsonError { error: { message: string; hint?: string; kind: string; exitCode: number; [k: string]: unknown } }

/** stdout is exactly one JSON error object, and the exit code is the one it names. */
function jsonError(r: Run): JsonError['error'] {
  const parsed = JSON.parse(r.stdout) as JsonError;
  expect(parsed.error.message).toBeTruthy();
  expect(r.code).toBe(parsed.error.exitCode);
  expect(r.code).not.toBe(0);
  return parsed.error;
}

describe.concurrent('an unknown workspace is an error (except for init)', { timeout: 120_000 }, () => {
  it('--workspace naming no folder: exit 2, says to run seclab init, creates nothing', async () => {
    const cwd = tmpDir();
    const cmds = [['hint', 'iam'], ['start', 'iam'], ['list'], ['reset', 'iam', '--yes']];
    const runs = await Promise.all(cmds.map((cmd) => seclab([...cmd, '--workspace', 'my-wrok'], { cwd })));
    for (const [i, r] of runs.entries()) {
      expect(r.code, `${cmds[i]!.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/--workspace my-wrok: there is no workspace at/);
      expect(r.stderr).toContain('seclab init my-wrok');
      expect(r.stdout).toBe('');
    }
    expect(readdirSync(cwd)).toEqual([]);
  }, 120_000);

  it('with --json the same error is a JSON object on stdout', async () => {
    const cwd = tmpDir();
    const r = await seclab(['hint', 'iam', '--workspace', 'nope', '--json'], { cwd });
    const e = jsonError(r);
    expect(e).toMatchObject({ kind: 'usage', exitCode: 2 });
    expect(e.hint).toContain('seclab init nope');
    expect(existsSync(path.join(cwd, 'nope'))).toBe(false);
  });

  it('$SECLAB_WORKSPACE naming no folder is an error too; a folder with other files is no workspace', async () => {
    const cwd = tmpDir();
    const r = await seclab(['list'], { cwd, env: { SECLAB_WORKSPACE: 'gone' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\$SECLAB_WORKSPACE gone: there is no workspace/);
    mkdirSync(path.join(cwd, 'docs'));
    writeFileSync(path.join(cwd, 'docs', 'notes.txt'), 'mine\n');
    const other = await seclab(['start', 'iam', '--workspace', 'docs'], { cwd });
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/docs is not a seclab workspace/);
    expect(readdirSync(path.join(cwd, 'docs'))).toEqual(['notes.txt']);
  });

  it('init creates it; then it is used; an empty folder is accepted; without --workspace ./seclab-workspace still works', async () => {
    const cwd = tmpDir();
    expect((await seclab(['init', 'ws'], { cwd })).code).toBe(0);
    const h = await seclab(['hint', 'iam', '--workspace', 'ws', '--json'], { cwd });
    expect(h.code, h.stderr).toBe(0);
    expect((JSON.parse(h.stdout) as { lab: string }).lab).toBe('iam');
    mkdirSync(path.join(cwd, 'empty'));
    const e = await seclab(['start', 'iam', '--workspace', 'empty', '--json'], { cwd });
    expect(e.code, e.stderr).toBe(0);
    expect(existsSync(path.join(cwd, 'empty', 'iam', 'solution.ts'))).toBe(true);
    const fresh = tmpDir();
    const d = await seclab(['start', 'iam', '--json'], { cwd: fresh });
    expect(d.code, d.stderr).toBe(0);
    expect(existsSync(path.join(fresh, 'seclab-workspace', 'iam', 'solution.ts'))).toBe(true);
  });
});

describe.concurrent('--json commands fail with a JSON error object on stdout', { timeout: 120_000 }, () => {
  it('usage errors from the command line and from the commands', async () => {
    const unknownOption = jsonError(await seclab(['list', '--bogus', '--json']));
    expect(unknownOption).toMatchObject({ kind: 'usage', exitCode: 2 });
    expect(unknownOption.message).toContain("unknown option '--bogus'");
    expect(jsonError(await seclab(['check', 'nosuchlab', '--json'])).message).toMatch(/no lab "nosuchlab"/);
    expect(jsonError(await seclab(['hint', 'iam', 'no-such-task', '--json'])).kind).toBe('usage');
    expect(jsonError(await seclab(['grade', '--workspace', 'nope', '--format', 'json'])).message).toMatch(/--workspace nope/);
  });

  it('environment errors', async () => {
    const e = jsonError(await seclab(['env', '--json']));
    expect(e).toMatchObject({ kind: 'environment', exitCode: 3, running: false });
    expect(e.hint).toContain('seclab cloud up');
    expect(jsonError(await seclab(['outbox', '--json'])).exitCode).toBe(3);
  });

  it('without --json stdout stays empty on errors', async () => {
    const r = await seclab(['env']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
  });
});

// ---- lab cloud records ----

/** A stand-in for a running `cloud up`: a live process (for the pid) and a health endpoint. */
interface FakeCloud { name: string; pid: number; url: string; port: number; proc: ChildProcess; server: Server }
const fakes: FakeCloud[] = [];
afterAll(() => {
  for (const f of fakes) {
    f.proc.kill();
    f.server.close();
  }
});

async function fakeCloud(cache: string, name: string | undefined, opts: { legacy?: boolean } = {}): Promise<FakeCloud> {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ok: true }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const proc = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const f: FakeCloud = { name: name ?? 'cloud', pid: proc.pid!, url, port, proc, server };
  fakes.push(f);
  const state = {
    ...(name ? { name } : {}), pid: f.pid, url, region: 'us-east-1', target: 'moto', accountId: String(100000000000 + fakes.length),
    accessKeyId: `AKIA${name ?? 'LEGACY'}`, secretAccessKey: 'secret', controlToken: 't', startedAt: new Date(Date.now() + fakes.length).toISOString(),
  };
  const file = opts.legacy ? path.join(cache, 'cloud-up.json') : path.join(cache, 'clouds', `${f.pid}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(state), { mode: 0o600 });
  return f;
}

describe('each lab cloud has its own record; seclab env lists them and picks one clearly', { timeout: 120_000 }, () => {
  it('two running: env --list shows both, env asks which, --name / --port / SECLAB_CLOUD pick; a dead one is removed with a note', async () => {
    const home = tmpDir('seclab-home-');
    const cache = path.join(home, 'cache');
    const a = await fakeCloud(cache, 'iam');
    const b = await fakeCloud(cache, 'second');

    const list = await seclab(['env', '--list', '--json'], { home });
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { clouds: { name: string; port: number }[] }).clouds.map((c) => [c.name, c.port])).toEqual([['iam', a.port], ['second', b.port]]);

    const which = await seclab(['env'], { home });
    expect(which.code).toBe(2);
    expect(which.stdout).toBe('');
    expect(which.stderr).toMatch(/2 lab clouds are running; which one\?/);
    expect(which.stderr).toMatch(/iam .*127\.0\.0\.1/);
    expect(which.stderr).toMatch(/--name <name> or --port <port>/);
    const whichJson = jsonError(await seclab(['env', '--json'], { home }));
    expect((whichJson['clouds'] as unknown[]).length).toBe(2);

    const byName = await seclab(['env', '--name', 'second'], { home });
    expect(byName.code, byName.stderr).toBe(0);
    expect(byName.stdout).toContain(`export AWS_ENDPOINT_URL='${b.url}'`);
    expect(byName.stdout).toContain("export SECLAB_CLOUD='second'");
    const byPort = await seclab(['env', '--port', String(a.port), '--json'], { home });
    expect((JSON.parse(byPort.stdout) as { name: string; env: Record<string, string> }).env['AWS_ENDPOINT_URL']).toBe(a.url);
    const byShell = await seclab(['env'], { home, env: { SECLAB_CLOUD: 'iam' } });
    expect(byShell.stdout).toContain(`export AWS_ENDPOINT_URL='${a.url}'`);
    const noSuch = await seclab(['env', '--name', 'nope'], { home });
    expect(noSuch.code).toBe(3);
    expect(noSuch.stderr).toMatch(/no lab cloud named "nope" is running/);

    // The second stops (its process is gone, its record left behind): env still finds the first.
    b.proc.kill('SIGKILL');
    await new Promise((r) => b.proc.once('exit', r));
    const after = await seclab(['env'], { home });
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toContain(`export AWS_ENDPOINT_URL='${a.url}'`);
    expect(after.stderr).toMatch(/removed the record of lab cloud "second" .*its process is gone/);
    expect(readdirSync(path.join(cache, 'clouds'))).toEqual([`${a.pid}.json`]);
  });

  it('a record written by an older seclab (cloud-up.json) is still read, and removed once its process is gone', async () => {
    const home = tmpDir('seclab-home-');
    const cache = path.join(home, 'cache');
    const old = await fakeCloud(cache, undefined, { legacy: true });
    const r = await seclab(['env', '--json'], { home });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { name: string; url: string })).toMatchObject({ name: 'cloud', url: old.url });
    old.proc.kill('SIGKILL');
    await new Promise((res) => old.proc.once('exit', res));
    const gone = await seclab(['env'], { home });
    expect(gone.code).toBe(3);
    expect(gone.stderr).toMatch(/removed the record of lab cloud "cloud"/);
    expect(existsSync(path.join(cache, 'cloud-up.json'))).toBe(false);
  });
});

function motoInstalled(): boolean {
  for (const py of ['python3', 'python']) {
    try {
      execFileSync(py, ['-c', 'import moto'], { stdio: 'ignore', timeout: 20_000 });
      return true;
    } catch {
      // next
    }
  }
  return false;
}

describe.skipIf(!motoInstalled())('two real `seclab cloud up` (moto)', () => {
  it('each writes its own record; stopping the second leaves the first for seclab env', async () => {
    const home = tmpDir('seclab-home-');
    const env = { PATH: process.env['PATH'] ?? '', HOME: home, SECLAB_CACHE_DIR: path.join(home, 'cache'), NO_COLOR: '1' };
    const up = (name: string) => {
      const child = spawn(process.execPath, [BIN, 'cloud', 'up', '--name', name, '--json'], { cwd: home, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
      const ready = new Promise<{ name: string; url: string; pid: number }>((resolve, reject) => {
        child.stdout.on('data', () => {
          try {
            resolve(JSON.parse(out) as { name: string; url: string; pid: number });
          } catch {
            // not complete yet
          }
        });
        child.on('exit', (code) => reject(new Error(`cloud up ${name} exited ${code}`)));
      });
      return { child, ready };
    };
    const first = up('first');
    const second = up('second');
    try {
      const [s1, s2] = await Promise.all([first.ready, second.ready]);
      expect(s1.name).toBe('first');
      expect(s2.name).toBe('second');
      expect(readdirSync(path.join(home, 'cache', 'clouds')).sort()).toEqual([`${s1.pid}.json`, `${s2.pid}.json`].sort());
      const list = await seclab(['env', '--list', '--json'], { home });
      expect((JSON.parse(list.stdout) as { clouds: { name: string }[] }).clouds.map((c) => c.name).sort()).toEqual(['first', 'second']);

      second.child.kill('SIGINT');
      await new Promise((r) => second.child.once('exit', r));
      const r = await seclab(['env', '--json'], { home });
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { name: string; url: string })).toMatchObject({ name: 'first', url: s1.url });
      expect(readdirSync(path.join(home, 'cache', 'clouds'))).toEqual([`${s1.pid}.json`]);
    } finally {
      for (const c of [first.child, second.child]) if (c.exitCode === null) c.kill('SIGINT');
      await Promise.all([first.child, second.child].map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    }
  }, 120_000);
});
