// SSL Labs' rating rules and testssl.sh's severities on made-up scan results.
import { describe, expect, it } from 'vitest';
import type { CertificateResult } from '../../src/controls/tls/cert.ts';
import type { AcceptedSuite, ProtocolCiphers, ProtocolResult } from '../../src/controls/tls/enumerate.ts';
import { cipherScoreOf, findings, gradeOfScore, keyExchangeScoreOf, rate, worse, type RatingInput } from '../../src/controls/tls/rating.ts';
import { suiteById, type Protocol } from '../../src/controls/tls/suites.ts';
import { parseHsts } from '../../src/controls/tls/http.ts';

function suite(id: number, kxBits?: number): AcceptedSuite {
  const s = suiteById(id);
  return {
    hex: s.hex, iana: s.iana, openssl: s.openssl, kx: s.kx, bits: s.bits, fs: s.fs, aead: s.aead,
    ...(s.fs ? { kxGroup: kxBits && kxBits < 1000 ? 'x25519' : `DH ${kxBits ?? 2048}`, kxBits: kxBits ?? 253, kxRsaEquivalent: kxBits && kxBits >= 1000 ? kxBits : 3072 } : {}),
  };
}

function cert(over: Partial<CertificateResult> = {}, leaf: Partial<CertificateResult['leaf']> = {}): CertificateResult {
  return {
    protocol: 'TLSv1.3',
    leaf: { subject: 'CN=localhost', issuer: 'CN=CA', serialNumber: '01', notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2027-01-01T00:00:00.000Z', fingerprintSha256: 'AA', keyType: 'RSA', keyBits: 2048, signatureAlgorithm: 'sha256WithRSAEncryption', selfSigned: false, isCA: false, ...leaf },
    intermediates: [], subjectAltNames: ['DNS:localhost'], hostname: 'localhost', hostnameMatch: true, trusted: true, trustPath: [], trustStore: 'test',
    opensslVerify: 'ok', expired: false, notYetValid: false, daysLeft: 200, ocspStapled: false, ...over,
  };
}

const MODERN_12 = [0xc02f, 0xc030, 0xcca8];
const MODERN_13 = [0x1301, 0x1302, 0x1303];

function input(protos: Partial<Record<Protocol, number[]>>, over: Partial<RatingInput> = {}): RatingInput {
  const all: Protocol[] = ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
  const protocols: ProtocolResult[] = all.map((p) => (protos[p] ? { protocol: p, offered: true } : { protocol: p, offered: false, refusal: 'alert handshake_failure' }));
  const ciphers: ProtocolCiphers[] = all.filter((p) => protos[p]).map((p) => ({ protocol: p, serverOrder: true, suites: protos[p]!.map((id) => suite(id)) }));
  return {
    protocols, ciphers, certificate: cert(), fallbackScsv: true, secureRenegotiation: true,
    https: { status: 200, hsts: parseHsts('max-age=31536000; includeSubDomains') },
    ...over,
  };
}

describe('SSL Labs score tables', () => {
  it('key exchange, cipher strength, letters', () => {
    expect([keyExchangeScoreOf(256), keyExchangeScoreOf(512), keyExchangeScoreOf(1024), keyExchangeScoreOf(2048), keyExchangeScoreOf(4096)]).toEqual([20, 40, 80, 90, 100]);
    expect(keyExchangeScoreOf(4096, true)).toBe(0);
    expect([cipherScoreOf(0), cipherScoreOf(56), cipherScoreOf(128), cipherScoreOf(112), cipherScoreOf(256)]).toEqual([0, 20, 80, 20, 100]);
    expect([80, 79, 65, 50, 35, 20, 19].map(gradeOfScore)).toEqual(['A', 'B', 'B', 'C', 'D', 'E', 'F']);
    expect(worse('A', 'B')).toBe('B');
    expect(worse('C', 'A-')).toBe('C');
  });
});

describe('rating', () => {
  it('TLS 1.2 + 1.3, ECDHE AEAD, RSA 2048, HSTS one year: A+ (score: protocol 100, key 90, cipher 90)', () => {
    const r = rate(input({ 'TLSv1.2': MODERN_12, 'TLSv1.3': MODERN_13 }));
    expect(r).toMatchObject({ grade: 'A+', protocolScore: 100, keyExchangeScore: 90, cipherScore: 90, score: 93, caps: [] });
  });

  it('no HSTS, or a short max-age: A, not A+', () => {
    expect(rate(input({ 'TLSv1.3': MODERN_13 }, { https: { status: 200, hsts: parseHsts(undefined) } })).grade).toBe('A');
    const r = rate(input({ 'TLSv1.3': MODERN_13 }, { https: { status: 200, hsts: parseHsts('max-age=86400') } }));
    expect(r.grade).toBe('A');
    expect(r.aPlus).toMatch(/below 15552000/);
  });

  it('TLS 1.0 or 1.1 offered: capped at B', () => {
    const r = rate(input({ TLSv1: [0xc013], 'TLSv1.1': [0xc013], 'TLSv1.2': MODERN_12 }));
    expect(r.grade).toBe('B');
    expect(r.caps.map((c) => c.reason).join()).toMatch(/TLSv1 and TLSv1.1 offered/);
  });

  it('no forward secrecy: B; FS offered but not chosen for modern clients: B too', () => {
    expect(rate(input({ 'TLSv1.2': [0x009c, 0x009d] })).caps).toContainEqual(expect.objectContaining({ grade: 'B', reason: 'no forward secrecy' }));
    const r = rate(input({ 'TLSv1.2': [0x009c, 0xc02f] }));
    expect(r.grade).toBe('B');
    expect(r.caps.map((c) => c.reason).join()).toMatch(/modern clients/);
  });

  it('client order: a modern client picks FS and AEAD itself, so RSA-first lists are not capped', () => {
    const i = input({ 'TLSv1.2': [0x009c, 0xc02f] });
    i.ciphers[0]!.serverOrder = false;
    const r = rate(i);
    expect(r.caps).toEqual([]);
    expect(r.grade).toBe('A+');
  });

  it('no AEAD: B', () => {
    expect(rate(input({ 'TLSv1.2': [0xc013, 0xc014] })).caps).toContainEqual(expect.objectContaining({ grade: 'B', reason: expect.stringMatching(/AEAD/) }));
  });

  it('only TLS 1.0: C (no TLS 1.2)', () => {
    expect(rate(input({ TLSv1: [0xc013, 0x002f] })).grade).toBe('C');
  });

  it('SSL 2.0 offered: F, and it counts 0 in the protocol score', () => {
    const r = rate(input({ 'TLSv1.2': MODERN_12 }, { sslv2: { offered: true } }));
    expect(r.grade).toBe('F');
    expect(r.protocolScore).toBe(50);
    expect(findings(input({ 'TLSv1.2': MODERN_12 }, { sslv2: { offered: false } }), r).find((f) => f.id === 'SSLv2')).toMatchObject({ severity: 'OK' });
  });

  it('SSL 3.0 offered: C; SSL 3.0 alone: F', () => {
    expect(rate(input({ SSLv3: [0x002f], 'TLSv1.2': MODERN_12 })).grade).toBe('C');
    expect(rate(input({ SSLv3: [0x002f] })).grade).toBe('F');
  });

  it('RC4: B, with TLS 1.1+ C; 3DES with TLS 1.2: C', () => {
    expect(rate(input({ TLSv1: [0x0005], 'TLSv1.2': MODERN_12 })).caps).toContainEqual({ grade: 'B', reason: 'RC4 offered' });
    expect(rate(input({ 'TLSv1.2': [...MODERN_12, 0x0005] })).grade).toBe('C');
    expect(rate(input({ 'TLSv1.2': [...MODERN_12, 0x000a] })).grade).toBe('C');
  });

  it('anonymous, export, NULL suites: F', () => {
    expect(rate(input({ 'TLSv1.2': [...MODERN_12, 0xc018] })).grade).toBe('F');
    expect(rate(input({ TLSv1: [0x0003], 'TLSv1.2': MODERN_12 })).grade).toBe('F');
    expect(rate(input({ 'TLSv1.2': [...MODERN_12, 0x0002] })).grade).toBe('F');
  });

  it('DH parameters: 1024 bits cap B, 512 F', () => {
    const mk = (bits: number) => {
      const i = input({ 'TLSv1.2': MODERN_12 });
      i.ciphers[0]!.suites.push(suite(0x009e, bits));
      return rate(i);
    };
    expect(mk(1024).caps).toContainEqual({ grade: 'B', reason: 'DH parameters below 2048 bits' });
    expect(mk(512).grade).toBe('F');
    expect(mk(2048).grade).toBe('A+');
  });

  it('certificate: untrusted or expired → T, name mismatch → M, with the grade it would have had', () => {
    const t = rate(input({ 'TLSv1.3': MODERN_13 }, { certificate: cert({ trusted: false, trustError: 'self-signed certificate' }) }));
    expect(t).toMatchObject({ grade: 'T', gradeIgnoringTrust: 'A+' });
    expect(rate(input({ 'TLSv1.3': MODERN_13 }, { certificate: cert({ expired: true }) })).grade).toBe('T');
    expect(rate(input({ 'TLSv1.3': MODERN_13 }, { certificate: cert({ notYetValid: true }) })).grade).toBe('T');
    expect(rate(input({ 'TLSv1.3': MODERN_13 }, { certificate: cert({ hostnameMatch: false }) })).grade).toBe('M');
  });

  it('certificate key and signature: RSA 1024 caps B, 512 F; MD5 F; P-256 counts as 3072', () => {
    expect(rate(input({ 'TLSv1.3': MODERN_13 }, { certificate: cert({}, { keyBits: 1024 }) })).grade).toBe('B');
    expect(rate(input({ 'TLSv1.3': MODERN_13 }, { certificate: cert({}, { keyBits: 512 }) })).grade).toBe('F');
    expect(rate(input({ 'TLSv1.3': MODERN_13 }, { certificate: cert({}, { signatureAlgorithm: 'md5WithRSAEncryption' }) })).grade).toBe('F');
    expect(rate(input({ 'TLSv1.3': MODERN_13 }, { certificate: cert({}, { keyType: 'EC', keyBits: 256, curve: 'prime256v1' }) })).keyExchangeScore).toBe(90);
  });

  it('no fallback SCSV or no secure renegotiation: A-', () => {
    expect(rate(input({ 'TLSv1.2': MODERN_12, 'TLSv1.3': MODERN_13 }, { fallbackScsv: false })).grade).toBe('A-');
    expect(rate(input({ 'TLSv1.2': MODERN_12 }, { secureRenegotiation: false })).grade).toBe('A-');
  });

  it('nothing accepted: F', () => {
    expect(rate(input({})).grade).toBe('F');
  });
});

describe('testssl.sh severities', () => {
  const sev = (i: RatingInput, id: string) => findings(i, rate(i)).find((f) => f.id === id);
  it('protocols: SSLv3 HIGH, TLS 1.0/1.1 LOW, TLS 1.2 missing without 1.3 MEDIUM', () => {
    const i = input({ SSLv3: [0x002f], TLSv1: [0x002f] });
    expect(sev(i, 'SSLv3')).toMatchObject({ severity: 'HIGH', finding: 'offered' });
    expect(sev(i, 'TLS1')).toMatchObject({ severity: 'LOW', finding: 'offered (deprecated)' });
    expect(sev(i, 'TLS1_1')).toMatchObject({ severity: 'INFO', finding: 'not offered' });
    expect(sev(i, 'TLS1_2')).toMatchObject({ severity: 'MEDIUM' });
    expect(sev(input({ 'TLSv1.3': MODERN_13 }), 'TLS1_2')).toMatchObject({ severity: 'INFO' });
  });

  it('certificate, HSTS and redirect findings', () => {
    const i = input({ 'TLSv1.3': MODERN_13 }, {
      certificate: cert({ expired: true, daysLeft: -3, trusted: false, trustError: 'self-signed certificate', hostnameMatch: false }),
      https: { status: 200, hsts: parseHsts('max-age=600') },
      redirect: { port: 80, listening: true, status: 200, redirectsToHttps: false, servesPlainHttp: true },
    });
    expect(sev(i, 'cert_expirationStatus')!.severity).toBe('CRITICAL');
    expect(sev(i, 'cert_chain_of_trust')).toMatchObject({ severity: 'CRITICAL', finding: 'failed: self-signed certificate' });
    expect(sev(i, 'cert_trust')!.severity).toBe('HIGH');
    expect(sev(i, 'HSTS_time')!.severity).toBe('MEDIUM');
    expect(sev(i, 'http_redirect')!.severity).toBe('MEDIUM');
    const ok = input({ 'TLSv1.3': MODERN_13 }, { redirect: { port: 80, listening: true, status: 301, location: 'https://localhost/', redirectsToHttps: true, servesPlainHttp: false } });
    expect(sev(ok, 'http_redirect')!.severity).toBe('OK');
    expect(sev(ok, 'HSTS_time')!.severity).toBe('OK');
    expect(sev(input({ 'TLSv1.3': MODERN_13 }, { https: { status: 200, hsts: parseHsts(undefined) } }), 'HSTS')).toMatchObject({ severity: 'LOW', finding: 'not offered' });
  });
});

describe('HSTS header parsing (RFC 6797 §6.1)', () => {
  it('directives are case-insensitive, quoted values allowed, max-age required', () => {
    expect(parseHsts('Max-Age="31536000"; includeSubdomains; PRELOAD')).toMatchObject({ present: true, maxAge: 31536000, includeSubDomains: true, preload: true });
    expect(parseHsts('includeSubDomains').error).toBe('no max-age directive');
    expect(parseHsts('max-age=abc').error).toMatch(/not a number/);
    expect(parseHsts(['max-age=1', 'max-age=2']).error).toMatch(/several/);
    expect(parseHsts(undefined)).toEqual({ present: false, includeSubDomains: false, preload: false });
  });
});
