// The install's CA and the gateway's certificate: made once, the same for lab clouds that start at
// the same moment (parallel tests on a fresh machine), reused afterwards.
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cachedGatewayCertificate, labCa, serial } from '../../src/cloud/gateway/tls.ts';

describe('the lab cloud\'s certificate authority', () => {
  it('is one CA however many seclabs create it at once, its key private, the gateway certificate issued by it', async () => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'seclab-ca-')), 'ca');
    const code = `import('${new URL('../../src/cloud/gateway/tls.ts', import.meta.url).href}').then((m) => { const ca = m.labCa(${JSON.stringify(dir)}); const g = m.cachedGatewayCertificate(ca); console.log(JSON.stringify({ ca: ca.certPem, key: ca.keyPem.length, leaf: g.cert })); })`;
    const outs = await Promise.all(Array.from({ length: 4 }, () => new Promise<string>((resolve, reject) => {
      const c = spawn(process.execPath, ['--import', 'tsx', '-e', code]);
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.on('exit', (s) => (s === 0 ? resolve(out.trim()) : reject(new Error(`exit ${s}`))));
    })));
    const results = outs.map((o) => JSON.parse(o) as { ca: string; leaf: string });
    expect(new Set(results.map((r) => r.ca)).size).toBe(1);
    const ca = new X509Certificate(results[0]!.ca);
    for (const r of results) expect(new X509Certificate(r.leaf).checkIssued(ca)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['ca-key.pem', 'ca.pem', 'gateway.pem']);
    expect(statSync(path.join(dir, 'ca-key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dir, 'gateway.pem')).mode & 0o777).toBe(0o600);
    expect(readdirSync(path.dirname(dir))).toEqual(['ca']);
    // Reused, not remade: the same certificate comes back.
    const again = cachedGatewayCertificate(labCa(dir));
    const leaf = new X509Certificate(again.cert);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.subjectAltName).toMatch(/DNS:localhost.*IP Address:127\.0\.0\.1/);
    expect(cachedGatewayCertificate(labCa(dir)).cert).toBe(again.cert);
  });

  it('makes serial numbers OpenSSL accepts: positive and minimally encoded (a 00 byte before one below 0x80 is "illegal padding")', () => {
    for (let i = 0; i < 20_000; i++) {
      const s = serial();
      expect(s).toMatch(/^[0-9a-f]{32}$/);
      const first = parseInt(s.slice(0, 2), 16);
      expect(first >= 0x01 && first <= 0x7f).toBe(true);
    }
  });

  it('makes the CA again when the cached one cannot be read by OpenSSL', () => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'seclab-ca-')), 'ca');
    const first = labCa(dir);
    // What an older seclab could leave behind: a serial with a non-minimal encoding (00 4F ...).
    const bad = Buffer.from(first.certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const at = bad.indexOf(Buffer.from([0x02, 0x10])); // INTEGER, 16 bytes: the serial
    expect(at).toBeGreaterThan(0);
    bad[at + 2] = 0x00;
    bad[at + 3] = 0x4f;
    writeFileSync(path.join(dir, 'ca.pem'), `-----BEGIN CERTIFICATE-----\n${bad.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`);
    expect(() => new X509Certificate(readFileSync(path.join(dir, 'ca.pem')))).toThrow(/illegal padding|bad|asn1/i);
    const again = labCa(dir);
    expect(again.certPem).not.toBe(first.certPem);
    expect(() => new X509Certificate(again.certPem)).not.toThrow();
    expect(new X509Certificate(cachedGatewayCertificate(again).cert).checkIssued(new X509Certificate(again.certPem))).toBe(true);
  });
});
