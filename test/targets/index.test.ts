import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { SetupError } from '../../src/cloud/targets/errors.ts';
import { connectEndpoint } from '../../src/cloud/targets/endpoint.ts';
import { parseTargetSpec, startTarget } from '../../src/cloud/targets/index.ts';

async function serve(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void>; seen: string[] }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((r) => server.close(() => r())) };
}

describe('parseTargetSpec', () => {
  it('knows the four targets', () => {
    expect(parseTargetSpec(undefined)).toEqual({ kind: 'moto' });
    expect(parseTargetSpec('moto')).toEqual({ kind: 'moto' });
    expect(parseTargetSpec(' LocalStack ')).toEqual({ kind: 'localstack' });
    expect(parseTargetSpec('aws')).toEqual({ kind: 'aws' });
    expect(parseTargetSpec('endpoint=http://127.0.0.1:4566/')).toEqual({ kind: 'endpoint', url: 'http://127.0.0.1:4566' });
  });
  it('explains unknown or incomplete specs', () => {
    expect(() => parseTargetSpec('motto')).toThrow(SetupError);
    expect(() => parseTargetSpec('motto')).toThrow(/Unknown target "motto"/);
    try {
      parseTargetSpec('motto');
    } catch (e) {
      expect((e as SetupError).hint).toMatch(/moto.*localstack.*endpoint=<url>.*aws/);
    }
    expect(() => parseTargetSpec('endpoint')).toThrow(/needs a URL/);
    expect(() => parseTargetSpec('endpoint=')).toThrow(/needs a URL/);
    expect(() => parseTargetSpec('endpoint=ftp://x')).toThrow(/not http/);
    expect(() => parseTargetSpec('endpoint=http://x:1/some/path')).toThrow(/base URL/);
    try {
      parseTargetSpec('http://127.0.0.1:4566');
    } catch (e) {
      expect((e as SetupError).hint).toContain('endpoint=http://127.0.0.1:4566');
    }
  });
});

describe('startTarget', () => {
  it('localstack without a Docker engine is a clear SetupError', async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'tcp://127.0.0.1:1';
    try {
      const e = await startTarget('localstack').catch((x: unknown) => x);
      expect(e).toBeInstanceOf(SetupError);
      expect((e as SetupError).message).toMatch(/needs a Docker engine/);
      expect((e as SetupError).hint).toMatch(/--target moto/);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });

  it('aws without an account id is refused', async () => {
    await expect(startTarget('aws', { yes: true })).rejects.toThrow(/needs the id of the sandbox account/);
  });
});

describe('connectEndpoint', () => {
  it('fails clearly when nothing answers', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise((r) => probe.close(r));
    const e = await connectEndpoint(`http://127.0.0.1:${port}`).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SetupError);
    expect((e as SetupError).message).toContain(`127.0.0.1:${port}`);
  });

  it('fails within its timeout when the endpoint hangs', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const { port } = silent.address() as net.AddressInfo;
    const t0 = Date.now();
    await expect(connectEndpoint(`http://127.0.0.1:${port}`, { timeoutMs: 300 })).rejects.toThrow(SetupError);
    // It gives up instead of hanging; the bound is generous: a loaded machine is slow, not broken.
    expect(Date.now() - t0).toBeLessThan(20_000);
    silent.close();
  });

  it('accepts any HTTP answer and recognises a moto-compatible endpoint', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/moto-api/config') res.end(JSON.stringify({ lambda: { use_docker: false }, batch: { use_docker: false } }));
      else if (req.url === '/moto-api/reset') res.end('{}');
      else res.writeHead(403).end('<Error/>');
    });
    try {
      const t = await startTarget(`endpoint=${s.url}`);
      expect(t).toMatchObject({ kind: 'endpoint', url: s.url, emulated: true, accountSelection: 'header' });
      await t.reset();
      expect(s.seen).toContain('POST /moto-api/reset');
      await t.stop(); // not ours: nothing happens
    } finally {
      await s.close();
    }
  });

  it('an unknown emulator: fakecloud-style reset, one account', async () => {
    const s = await serve((req, res) => {
      if (req.method === 'POST' && req.url === '/_reset') res.end('{"ok":true}');
      else res.writeHead(404).end();
    });
    try {
      const t = await connectEndpoint(s.url);
      expect(t.flavour).toBe('unknown');
      expect(t.accountSelection).toBe('none');
      await t.reset();
      expect(s.seen).toEqual(expect.arrayContaining(['POST /_fakecloud/reset', 'POST /_reset']));
    } finally {
      await s.close();
    }
  });

  it('says so when the endpoint cannot be reset', async () => {
    const s = await serve((_req, res) => res.writeHead(404).end());
    try {
      const t = await connectEndpoint(s.url);
      await expect(t.reset()).rejects.toThrow(/no reset API/);
    } finally {
      await s.close();
    }
  });
});
