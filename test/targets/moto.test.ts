import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SetupError, TargetDiedError } from '../../src/cloud/targets/errors.ts';
import { httpRequest } from '../../src/cloud/targets/http.ts';
import { startMoto, type MotoTarget } from '../../src/cloud/targets/moto.ts';
import { freePort } from '../../src/cloud/targets/ports.ts';
import { processGone, waitFor } from './helpers.ts';

const ACCOUNT = '111122223333';

let secret: Record<string, string> = {};

async function createBucket(url: string, name: string, account = ACCOUNT): Promise<number> {
  const res = await httpRequest(`${url}/${name}`, { method: 'PUT', headers: { 'x-moto-account-id': account, host: `127.0.0.1`, ...secret } });
  return res.status;
}

async function listBuckets(url: string, account = ACCOUNT): Promise<string> {
  return (await httpRequest(`${url}/`, { headers: { 'x-moto-account-id': account, ...secret } })).body;
}

describe('moto target', () => {
  let target: MotoTarget;
  const messages: string[] = [];

  beforeAll(async () => {
    target = await startMoto({ progress: (m) => messages.push(m) });
    secret = target.upstreamHeaders ?? {};
  });
  afterAll(async () => {
    await target?.stop();
  });

  it('starts on a loopback port, answers and reports its startup time', async () => {
    expect(target.kind).toBe('moto');
    expect(target.emulated).toBe(true);
    expect(target.accountSelection).toBe('header');
    expect(target.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(target.version).toMatch(/^5\.(2|[3-9])|^[6-9]/);
    expect(target.startupMs).toBeGreaterThan(0);
    // Reported, not judged: on a loaded machine a start takes what it takes (bench/ measures speed).
    // Reported so the measured startup shows in the test output.
    console.log(`moto startup: ${target.startupMs} ms (${target.description})`);
    const res = await httpRequest(`${target.url}/moto-api/`, { headers: secret });
    expect(res.status).toBe(200);
  });

  it('refuses every request without the per-run secret only the gateway holds, /moto-api/* included', async () => {
    expect(Object.keys(secret)).toEqual(['x-seclab-upstream-token']);
    expect(await createBucket(target.url, 'seclab-secret-test')).toBe(200);
    for (const [method, p] of [['GET', '/moto-api/'], ['GET', '/moto-api/data.json'], ['POST', '/moto-api/reset'], ['GET', '/'], ['POST', '/moto-api/config']] as const) {
      const res = await httpRequest(`${target.url}${p}`, { method, headers: { 'x-moto-account-id': ACCOUNT } });
      expect(res.status, `${method} ${p}`).toBe(403);
      const wrong = await httpRequest(`${target.url}${p}`, { method, headers: { 'x-moto-account-id': ACCOUNT, 'x-seclab-upstream-token': 'guess' } });
      expect(wrong.status, `${method} ${p} with a wrong secret`).toBe(403);
    }
    // the refused reset did nothing
    expect(await listBuckets(target.url)).toContain('seclab-secret-test');
    // the secret is in neither the command line nor the environment of moto's process
    const { readFileSync } = await import('node:fs');
    const token = secret['x-seclab-upstream-token']!;
    expect(readFileSync(`/proc/${target.pid}/cmdline`, 'utf8')).not.toContain(token);
    expect(readFileSync(`/proc/${target.pid}/environ`, 'utf8')).not.toContain(token);
  });

  it("selects moto's Docker-free Lambda backend", async () => {
    const cfg = JSON.parse((await httpRequest(`${target.url}/moto-api/config`, { headers: secret })).body) as Record<string, Record<string, unknown>>;
    expect(cfg.lambda?.use_docker).toBe(false);
    expect(cfg.batch?.use_docker).toBe(false);
  });

  it('reset wipes state and keeps the configuration', async () => {
    expect(await createBucket(target.url, 'seclab-reset-test')).toBe(200);
    expect(await listBuckets(target.url)).toContain('seclab-reset-test');
    // another account does not see it
    expect(await listBuckets(target.url, '444455556666')).not.toContain('seclab-reset-test');
    await target.reset();
    expect(await listBuckets(target.url)).not.toContain('seclab-reset-test');
    const cfg = JSON.parse((await httpRequest(`${target.url}/moto-api/config`, { headers: secret })).body) as Record<string, Record<string, unknown>>;
    expect(cfg.lambda?.use_docker).toBe(false);
  });

  it('refuses a requested port that is taken, naming it', async () => {
    const blocker = net.createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)));
    try {
      const err = await startMoto({ port }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SetupError);
      expect((err as SetupError).message).toContain(String(port));
      expect((err as SetupError).hint).toMatch(/--port/);
    } finally {
      blocker.close();
    }
  });

  it('listens on a requested free port', async () => {
    const port = await freePort();
    const t = await startMoto({ port });
    try {
      expect(t.url).toBe(`http://127.0.0.1:${port}`);
      expect(t.port).toBe(port);
    } finally {
      await t.stop();
    }
  });

  it('stop() is idempotent and leaves no process behind', async () => {
    const t = await startMoto({});
    const pid = t.pid!;
    expect(processGone(pid)).toBe(false);
    let died = false;
    t.onDeath(() => {
      died = true;
    });
    await Promise.all([t.stop(), t.stop()]);
    await t.stop();
    expect(await waitFor(() => processGone(pid), 30_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(died).toBe(false); // a requested stop is not a death
    await expect(httpRequest(`${t.url}/moto-api/`, { timeoutMs: 500 })).rejects.toThrow();
  });

  it('reports when moto dies mid-run', async () => {
    const t = await startMoto({});
    try {
      const death = new Promise<TargetDiedError>((resolve) => t.onDeath(resolve));
      process.kill(t.pid!, 'SIGKILL');
      const err = await death;
      expect(err).toBeInstanceOf(TargetDiedError);
      expect(err.message).toMatch(/^the lab cloud \(moto\) stopped unexpectedly: killed by SIGKILL; last output: /);
      expect(err.signal).toBe('SIGKILL');
      // later subscribers hear about it too, and reset() fails with the same message
      const late = await new Promise<TargetDiedError>((resolve) => t.onDeath(resolve));
      expect(late).toBe(err);
      await expect(t.reset()).rejects.toThrow(/stopped unexpectedly/);
    } finally {
      await t.stop();
    }
  });
});
