// `seclab tls scan` end to end: JSON and 80-column text, usage errors (exit 2), unreachable servers (exit 3).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePki, nodeServer, redirectServer, silentServer, type Pki, type Running } from './servers.ts';

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'seclab.js');

function seclab(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1', CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let pki: Pki;
let server: Running;
let http: Running;
beforeAll(async () => {
  pki = makePki();
  server = await nodeServer({ pem: pki.good, minVersion: 'TLSv1.2', honorCipherOrder: true, hsts: 'max-age=31536000', ciphers: 'TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-SHA' });
  http = await redirectServer(server.port);
});
afterAll(async () => {
  await http?.close();
  await server?.close();
  pki?.cleanup();
});

describe('seclab tls scan', () => {
  it('--format json: the probe result', async () => {
    const r = await seclab(['tls', 'scan', `127.0.0.1:${server.port}`, '--sni', 'localhost', '--ca', pki.caFile, '--http-port', String(http.port), '--format', 'json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.target).toMatchObject({ host: '127.0.0.1', port: server.port, serverName: 'localhost', httpPort: http.port });
    expect(j.protocols.filter((p: { offered: boolean }) => p.offered).map((p: { protocol: string }) => p.protocol)).toEqual(['TLSv1.2', 'TLSv1.3']);
    expect(j.ciphers[0].suites.map((s: { openssl: string }) => s.openssl)).toEqual(['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-SHA']);
    expect(j.certificate.trusted).toBe(true);
    expect(j.redirect.redirectsToHttps).toBe(true);
    expect(j.rating.grade).toBe('A+');
  });

  it('text: every line within 80 columns, the grade first', async () => {
    const r = await seclab(['tls', 'scan', `127.0.0.1:${server.port}`, '--sni', 'localhost', '--ca', pki.caFile, '--http-port', 'none']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`TLS scan of 127.0.0.1:${server.port} (SNI localhost)`);
    expect(lines[1]).toBe('Grade A+');
    expect(lines[2]).toMatch(/^  score \d+: protocol 100/);
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
    expect(r.stdout).toMatch(/TLSv1\.2: 2 suites, server order/);
    expect(r.stdout).toMatch(/trust +trusted via CN=seclab Test Root CA/);
  });

  it('usage errors exit 2; an unreachable or silent server exits 3 with the reason', async () => {
    const bad = await seclab(['tls', 'scan', 'localhost:99999']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad port/);
    const fmt = await seclab(['tls', 'scan', `127.0.0.1:${server.port}`, '--format', 'xml']);
    expect(fmt.code).toBe(2);
    const gone = await silentServer();
    await gone.close();
    const refused = await seclab(['tls', 'scan', `127.0.0.1:${gone.port}`, '--json']);
    expect(refused.code).toBe(3);
    expect(JSON.parse(refused.stdout).error.message).toMatch(/ECONNREFUSED/);
    const silent = await silentServer();
    try {
      const t = await seclab(['tls', 'scan', `127.0.0.1:${silent.port}`, '--timeout', '0.3']);
      expect(t.code).toBe(3);
      expect(t.stderr).toMatch(/did not answer an SSLv2 ClientHello within 300 ms/);
    } finally {
      await silent.close();
    }
  });
});
