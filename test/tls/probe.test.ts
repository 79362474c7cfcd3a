// The prober against real TLS servers on loopback: Node TLS/HTTPS servers with chosen versions,
// suites and order, a legacy server speaking SSL 3.0/RC4/3DES (which Node cannot), nginx with
// Mozilla's profiles when installed, and servers that do not answer.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe, TlsProbeError } from '../../src/controls/tls/index.ts';
import { renderText, WIDTH } from '../../src/controls/tls/text.ts';
import { legacyServer, makeCert, makeEcdsaLeaf, makePki, nginxPath, nodeServer, ocspResponse, redirectServer, silentServer, startNginx, type Pki, type Running } from './servers.ts';

/** The text rendering of a result fits 80 columns. */
function fits(r: Awaited<ReturnType<typeof probe>>): void {
  for (const l of renderText(r)) expect(l.length, l).toBeLessThanOrEqual(WIDTH);
}

let pki: Pki;
const open: Running[] = [];
async function keep<T extends Running>(r: Promise<T>): Promise<T> {
  const s = await r;
  open.push(s);
  return s;
}

beforeAll(() => {
  pki = makePki();
});
afterAll(async () => {
  for (const s of open) await s.close();
  pki?.cleanup();
});

const MODERN = 'TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305';

describe('Node servers', () => {
  it('a modern server (TLS 1.2 + 1.3, ECDHE AEAD, server order, trusted chain, HSTS, redirect): exact suites in order, A+', async () => {
    const s = await keep(nodeServer({ pem: pki.good, minVersion: 'TLSv1.2', ciphers: MODERN, honorCipherOrder: true, hsts: 'max-age=31536000; includeSubDomains' }));
    const http = await keep(redirectServer(s.port));
    const r = await probe('127.0.0.1', s.port, { serverName: 'localhost', caFile: pki.caFile, httpPort: http.port, timeoutMs: 10_000 });
    expect(r.protocols.filter((p) => p.offered).map((p) => p.protocol)).toEqual(['TLSv1.2', 'TLSv1.3']);
    expect(r.protocols.find((p) => p.protocol === 'TLSv1')!.refusal).toMatch(/alert/);
    expect(r.sslv2.offered).toBe(false);
    const t12 = r.ciphers.find((c) => c.protocol === 'TLSv1.2')!;
    expect(t12.serverOrder).toBe(true);
    expect(t12.suites.map((x) => x.openssl)).toEqual(['ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-CHACHA20-POLY1305']);
    expect(t12.suites[0]!.kxGroup).toBe('x25519');
    // Node's ciphers string orders TLS 1.3 suites too
    expect(r.ciphers.find((c) => c.protocol === 'TLSv1.3')!.suites.map((x) => x.iana)).toEqual(['TLS_AES_256_GCM_SHA384', 'TLS_AES_128_GCM_SHA256']);
    expect(r.forwardSecrecy).toEqual({ offered: true, all: true, modernClient: true });
    expect(r.fallbackScsv).toBe(true);
    expect(r.secureRenegotiation).toBe(true);
    const c = r.certificate!;
    expect(c).toMatchObject({ trusted: true, hostnameMatch: true, expired: false, ocspStapled: false });
    expect(c.leaf).toMatchObject({ keyType: 'RSA', keyBits: 2048, signatureAlgorithm: 'sha256WithRSAEncryption' });
    expect(c.intermediates.map((i) => i.subject)).toEqual(['CN=seclab Test Issuing CA, O=seclab test']);
    expect(c.trustPath).toHaveLength(3);
    expect(r.https!.hsts).toMatchObject({ present: true, maxAge: 31536000, includeSubDomains: true });
    expect(r.redirect).toMatchObject({ redirectsToHttps: true, status: 301 });
    expect(r.rating.grade).toBe('A+');
    fits(r);
  });

  it('client order: honorCipherOrder false is seen as no server preference', async () => {
    const s = await keep(nodeServer({ pem: pki.good, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256', honorCipherOrder: false, kind: 'tls' }));
    const r = await probe('127.0.0.1', s.port, { serverName: 'localhost', caFile: pki.caFile, noHttp: true });
    expect(r.ciphers).toHaveLength(1);
    expect(r.ciphers[0]!.serverOrder).toBe(false);
    expect(r.ciphers[0]!.suites.map((x) => x.hex).sort()).toEqual(['0xc02f', '0xc030']);
    expect(r.fallbackScsv).toBeNull(); // one protocol: nothing to fall back to
  });

  it('a weak server (TLS 1.0 only, CBC with RSA key exchange, expired certificate): T, C if trusted', async () => {
    const s = await keep(nodeServer({ pem: pki.expired, minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'AES128-SHA:AES256-SHA:@SECLEVEL=0', honorCipherOrder: true }));
    const r = await probe('127.0.0.1', s.port, { serverName: 'localhost', caFile: pki.caFile, httpPort: null });
    expect(r.protocols.filter((p) => p.offered).map((p) => p.protocol)).toEqual(['TLSv1']);
    expect(r.protocols.find((p) => p.protocol === 'TLSv1.2')!.refusal).toBe('server answered with TLSv1');
    expect(r.ciphers[0]!.suites.map((x) => x.openssl)).toEqual(['AES128-SHA', 'AES256-SHA']);
    expect(r.forwardSecrecy.offered).toBe(false);
    expect(r.certificate).toMatchObject({ trusted: true, expired: true });
    expect(r.rating.grade).toBe('T');
    expect(r.rating.gradeIgnoringTrust).toBe('C');
    fits(r);
    const ids = Object.fromEntries(r.findings.map((f) => [f.id, f.severity]));
    expect(ids).toMatchObject({ TLS1: 'LOW', TLS1_2: 'MEDIUM', FS: 'MEDIUM', BEAST: 'LOW', cert_expirationStatus: 'CRITICAL', cert_chain_of_trust: 'OK', HSTS: 'LOW' });
  });

  it('self-signed and wrong-name certificates: not trusted → T; name mismatch → M', async () => {
    const self = await keep(nodeServer({ pem: pki.selfSigned, minVersion: 'TLSv1.3', kind: 'tls' }));
    const a = await probe('127.0.0.1', self.port, { serverName: 'localhost', caFile: pki.caFile, noHttp: true });
    expect(a.certificate).toMatchObject({ trusted: false, trustError: 'self-signed certificate', hostnameMatch: true });
    expect(a.certificate!.leaf.selfSigned).toBe(true);
    expect(a.rating.grade).toBe('T');
    const wrong = await keep(nodeServer({ pem: pki.wrongName, minVersion: 'TLSv1.3', kind: 'tls' }));
    const b = await probe('127.0.0.1', wrong.port, { serverName: 'localhost', caFile: pki.caFile, noHttp: true });
    expect(b.certificate).toMatchObject({ trusted: true, hostnameMatch: false, subjectAltNames: ['DNS:www.example.org'] });
    expect(b.rating.grade).toBe('M');
    fits(a);
    fits(b);
    // the same server without the internal CA: the system store does not know it
    const c = await probe('127.0.0.1', wrong.port, { serverName: 'www.example.org', noHttp: true });
    expect(c.certificate).toMatchObject({ trusted: false, hostnameMatch: true });
    expect(c.certificate!.trustError).toMatch(/issuer not found.*seclab Test Root CA/);
  });

  it('a certificate not valid yet: T, with OpenSSL saying the same', async () => {
    const leaf = makeCert({ cn: 'localhost', dns: ['localhost'], issuer: pki.intermediate, notBefore: new Date(Date.now() + 10 * 86_400_000), notAfter: new Date(Date.now() + 400 * 86_400_000) });
    const s = await keep(nodeServer({ pem: { key: leaf.pem.key, cert: leaf.pem.cert + pki.intermediate.pem.cert }, minVersion: 'TLSv1.3', kind: 'tls' }));
    const r = await probe('127.0.0.1', s.port, { serverName: 'localhost', caFile: pki.caFile, noHttp: true });
    expect(r.certificate).toMatchObject({ trusted: true, expired: false, notYetValid: true });
    expect(r.certificate!.opensslVerify).toBe('CERT_NOT_YET_VALID');
    expect(r.rating.grade).toBe('T');
    expect(r.findings.find((f) => f.id === 'cert_expirationStatus')).toMatchObject({ severity: 'CRITICAL', finding: expect.stringMatching(/^not valid before/) });
  });

  it.skipIf(spawnSync('openssl', ['version']).status !== 0)('an ECDSA P-256 certificate: EC key, ECDHE-ECDSA suites, key exchange scored as RSA 3072', async () => {
    const s = await keep(nodeServer({ pem: makeEcdsaLeaf(pki)!, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', honorCipherOrder: true, ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256', kind: 'tls' }));
    const r = await probe('127.0.0.1', s.port, { serverName: 'localhost', caFile: pki.caFile, noHttp: true });
    expect(r.certificate!.leaf).toMatchObject({ keyType: 'EC', keyBits: 256, curve: 'prime256v1', signatureAlgorithm: 'sha256WithRSAEncryption' });
    expect(r.certificate).toMatchObject({ trusted: true, hostnameMatch: true });
    // the RSA suite is configured but cannot be used with an EC key
    expect(r.ciphers[0]!.suites.map((x) => x.openssl)).toEqual(['ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-AES128-SHA']);
    expect(r.rating.keyExchangeScore).toBe(90);
    expect(r.findings.find((f) => f.id === 'cert_keySize')!.finding).toBe('EC 256 bits (prime256v1)');
  });

  it.skipIf(spawnSync('openssl', ['version']).status !== 0)('a stapled OCSP response is seen with its status', async () => {
    const good = ocspResponse(pki.intermediate, pki.good.cert, 'good')!;
    const s = await keep(nodeServer({ pem: pki.good, minVersion: 'TLSv1.2', ocsp: good, kind: 'tls' }));
    const r = await probe('127.0.0.1', s.port, { serverName: 'localhost', caFile: pki.caFile, noHttp: true });
    expect(r.certificate).toMatchObject({ ocspStapled: true, ocspStatus: 'good' });
    expect(r.findings.find((f) => f.id === 'OCSP_stapling')).toMatchObject({ severity: 'OK', finding: 'offered (good)' });
    const revoked = ocspResponse(pki.intermediate, pki.good.cert, 'revoked')!;
    const s2 = await keep(nodeServer({ pem: pki.good, minVersion: 'TLSv1.2', ocsp: revoked, kind: 'tls' }));
    const r2 = await probe('127.0.0.1', s2.port, { serverName: 'localhost', caFile: pki.caFile, noHttp: true });
    expect(r2.certificate!.ocspStatus).toBe('revoked');
  });

  it('plain HTTP that serves content instead of redirecting is reported; a closed port is "nothing listens"', async () => {
    const s = await keep(nodeServer({ pem: pki.good, minVersion: 'TLSv1.3' }));
    const plain = await keep(redirectServer(null));
    const r = await probe('127.0.0.1', s.port, { serverName: 'localhost', caFile: pki.caFile, httpPort: plain.port });
    expect(r.redirect).toMatchObject({ listening: true, status: 200, servesPlainHttp: true, redirectsToHttps: false });
    expect(r.findings.find((f) => f.id === 'http_redirect')!.severity).toBe('MEDIUM');
    expect(r.https!.hsts.present).toBe(false);
    expect(r.rating.grade).toBe('A'); // no HSTS: no A+
    const closed = await keep(silentServer());
    await closed.close();
    open.pop();
    const r2 = await probe('127.0.0.1', s.port, { serverName: 'localhost', caFile: pki.caFile, httpPort: closed.port });
    expect(r2.redirect).toMatchObject({ listening: false });
  });

  it('deterministic: two probes give the same result; text lines fit 80 columns', async () => {
    const s = await keep(nodeServer({ pem: pki.good, minVersion: 'TLSv1', ciphers: 'ALL:@SECLEVEL=0', honorCipherOrder: true, hsts: 'max-age=600' }));
    const now = new Date();
    const a = await probe('127.0.0.1', s.port, { serverName: 'localhost', caFile: pki.caFile, httpPort: null, now });
    const b = await probe('127.0.0.1', s.port, { serverName: 'localhost', caFile: pki.caFile, httpPort: null, now });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const lines = renderText(a);
    expect(lines.join('\n')).toBe(renderText(b).join('\n'));
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(WIDTH);
    expect(lines.join('\n')).toMatch(/cipherlist_aNULL/); // ALL includes anonymous ECDH suites
  });
});

describe('what Node cannot speak: SSL 3.0, RC4, 3DES through raw ClientHellos', () => {
  it('a legacy server: SSL 2.0, SSL 3.0 and TLS 1.0 with RC4-SHA then DES-CBC3-SHA; fallback SCSV honoured; F', async () => {
    const s = await keep(legacyServer());
    const r = await probe('127.0.0.1', s.port, { noHttp: true });
    expect(r.sslv2).toEqual({ offered: true, ciphers: ['RC4-MD5'] });
    expect(r.protocols.map((p) => [p.protocol, p.offered])).toEqual([['SSLv3', true], ['TLSv1', true], ['TLSv1.1', false], ['TLSv1.2', false], ['TLSv1.3', false]]);
    for (const pc of r.ciphers) {
      expect(pc.serverOrder).toBe(true);
      expect(pc.suites.map((x) => x.openssl)).toEqual(['RC4-SHA', 'DES-CBC3-SHA']);
    }
    expect(r.fallbackScsv).toBe(true);
    expect(r.certificateError).toMatch(/TLS handshake failed|no TLS handshake/);
    expect(r.rating.grade).toBe('F');
    expect(r.rating.caps.map((c) => c.reason)).toEqual(expect.arrayContaining(['SSL 2.0 offered (DROWN)', 'SSL 3.0 offered (POODLE)', 'no TLS 1.2 or 1.3', 'RC4 offered', 'no forward secrecy']));
    expect(['C', 'F']).toContain(r.rating.grade);
    fits(r);
    const ids = Object.fromEntries(r.findings.map((f) => [f.id, f.severity]));
    expect(ids).toMatchObject({ SSLv2: 'CRITICAL', SSLv3: 'HIGH', RC4: 'HIGH', SWEET32: 'LOW' });
  });
});

describe('failures that say what happened', () => {
  it('connection refused, and a server that never answers, with the time waited', async () => {
    const gone = await silentServer();
    await gone.close();
    await expect(probe('127.0.0.1', gone.port, { timeoutMs: 2000 })).rejects.toThrow(/could not connect to 127\.0\.0\.1:\d+: ECONNREFUSED/);
    const silent = await keep(silentServer());
    const e = await probe('127.0.0.1', silent.port, { timeoutMs: 300 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TlsProbeError);
    expect((e as TlsProbeError).code).toBe('TIMEOUT');
    expect((e as Error).message).toMatch(/did not answer an SSLv2 ClientHello within 300 ms/);
  });

  it('a plain HTTP port is "does not speak TLS"', async () => {
    const plain = await keep(redirectServer(null));
    await expect(probe('127.0.0.1', plain.port, { timeoutMs: 3000 })).rejects.toThrow(/does not speak TLS/);
  });
});

describe.skipIf(!nginxPath())('nginx (Debian package) with Mozilla profiles', () => {
  it('modern: TLS 1.3 only, its three suites, client order, HSTS two years, redirect → A+', async () => {
    const n = await keep(startNginx({ profile: 'modern', pem: pki.good, redirect: true }));
    const r = await probe('127.0.0.1', n.port, { serverName: 'localhost', caFile: pki.caFile, httpPort: n.httpPort! });
    expect(r.protocols.filter((p) => p.offered).map((p) => p.protocol)).toEqual(['TLSv1.3']);
    expect(r.ciphers[0]!.suites.map((x) => x.hex).sort()).toEqual(['0x1301', '0x1302', '0x1303']);
    expect(r.ciphers[0]!.serverOrder).toBe(false);
    expect(r.secureRenegotiation).toBeNull();
    expect(r.https!.hsts.maxAge).toBe(63072000);
    expect(r.redirect!.redirectsToHttps).toBe(true);
    expect(r.rating.grade).toBe('A+');
  });

  it('intermediate: TLS 1.2 + 1.3, the ECDHE-RSA suites of the list (no DHE without ssl_dhparam) → A+', async () => {
    const n = await keep(startNginx({ profile: 'intermediate', pem: pki.good }));
    const r = await probe('127.0.0.1', n.port, { serverName: 'localhost', caFile: pki.caFile, httpPort: null });
    expect(r.protocols.filter((p) => p.offered).map((p) => p.protocol)).toEqual(['TLSv1.2', 'TLSv1.3']);
    expect(r.ciphers[0]!.suites.map((x) => x.openssl).sort()).toEqual(['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305']);
    expect(r.rating.grade).toBe('A+');
  });

  it('weak: TLS 1.0, CBC with RSA key exchange first, expired certificate → T (C if trusted)', async () => {
    const n = await keep(startNginx({ profile: 'weak', pem: pki.expired }));
    const r = await probe('127.0.0.1', n.port, { serverName: 'localhost', caFile: pki.caFile, httpPort: null });
    expect(r.protocols.filter((p) => p.offered).map((p) => p.protocol)).toEqual(['TLSv1']);
    expect(r.ciphers[0]).toMatchObject({ serverOrder: true });
    expect(r.ciphers[0]!.suites.map((x) => x.openssl)).toEqual(['AES128-SHA', 'AES256-SHA', 'ECDHE-RSA-AES128-SHA']);
    expect(r.forwardSecrecy).toEqual({ offered: true, all: false, modernClient: false });
    expect(r.certificate!.expired).toBe(true);
    expect(r.rating).toMatchObject({ grade: 'T', gradeIgnoringTrust: 'C' });
  });
});
