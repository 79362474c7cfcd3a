import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { dockerAvailable } from '../../src/cloud/targets/docker.ts';

const saved = process.env.DOCKER_HOST;
afterEach(() => {
  if (saved === undefined) delete process.env.DOCKER_HOST;
  else process.env.DOCKER_HOST = saved;
});

function listen(server: net.Server, where: string | number): Promise<void> {
  return new Promise((resolve) => server.listen(where as never, '127.0.0.1' as never, () => resolve()));
}

describe('dockerAvailable', () => {
  it('says no quickly on a machine without an engine (docker client only)', async () => {
    delete process.env.DOCKER_HOST;
    const t0 = Date.now();
    const s = await dockerAvailable();
    // This machine has no engine; on one that has, the check must still be quick.
    if (!s.ok) expect(s.reason).toMatch(/Docker engine|docker\.sock/);
    expect(Date.now() - t0).toBeLessThan(20_000); // no hang; generous: a loaded machine is slow, not broken
  });

  it('reports a refused tcp DOCKER_HOST without hanging', async () => {
    const probe = net.createServer();
    await listen(probe, 0);
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    process.env.DOCKER_HOST = `tcp://127.0.0.1:${port}`;
    const s = await dockerAvailable(500);
    expect(s.ok).toBe(false);
    expect(s.reason).toContain(`tcp://127.0.0.1:${port}`);
  });

  it('times out on an engine that never answers', async () => {
    const silent = net.createServer(() => {}); // accepts, never replies
    await listen(silent, 0);
    process.env.DOCKER_HOST = `tcp://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    const t0 = Date.now();
    const s = await dockerAvailable(300);
    silent.close();
    expect(s.ok).toBe(false);
    expect(s.reason).toMatch(/no answer within 300 ms/);
    expect(Date.now() - t0).toBeLessThan(20_000); // no hang; generous: a loaded machine is slow, not broken
  });

  it('says yes when /_ping answers OK over a unix socket', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'seclab-docker-'));
    const sock = path.join(dir, 'docker.sock');
    const server = http.createServer((req, res) => {
      if (req.url === '/_ping') res.end('OK');
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(sock, () => resolve()));
    try {
      process.env.DOCKER_HOST = `unix://${sock}`;
      const s = await dockerAvailable();
      expect(s).toMatchObject({ ok: true, host: `unix://${sock}` });
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects DOCKER_HOST schemes it cannot check', async () => {
    process.env.DOCKER_HOST = 'ssh://user@host';
    const s = await dockerAvailable();
    expect(s.ok).toBe(false);
    expect(s.reason).toContain('ssh://user@host');
  });
});
