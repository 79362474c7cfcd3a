// Grading. Two public rule sets, applied to what the prober found:
//  - SSL Labs' SSL Server Rating Guide (github.com/ssllabs/research/wiki/SSL-Server-Rating-Guide):
//    protocol, key-exchange and cipher scores combined 30/30/40 into a letter, then the caps and
//    warnings SSL Labs announced since (2014: TLS 1.2 required for A, RC4, A+ for HSTS; 2017: 3DES and
//    64-bit blocks with TLS 1.1+ → C; 2018: no forward secrecy → B, no AEAD → B; 2020: TLS 1.0/1.1 → B),
//    and T (trust) / M (name mismatch) for certificates a browser would refuse.
//  - testssl.sh's severity labels per finding (OK, INFO, LOW, MEDIUM, HIGH, CRITICAL), with its ids.
import type { CertificateResult } from './cert.ts';
import type { ProtocolCiphers, ProtocolResult } from './enumerate.ts';
import type { HttpsResult, RedirectResult } from './http.ts';
import type { Protocol } from './suites.ts';

export type Severity = 'OK' | 'INFO' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL' | 'WARN';
export const SEVERITIES: readonly Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'WARN', 'INFO', 'OK'];

export interface Finding {
  /** testssl.sh's JSON id where it has one (SSLv3, TLS1, FS, cert_expirationStatus, HSTS…), else a seclab id. */
  id: string;
  severity: Severity;
  finding: string;
}

export type Grade = 'A+' | 'A' | 'A-' | 'B' | 'C' | 'D' | 'E' | 'F' | 'T' | 'M';
export const GRADE_ORDER: readonly Grade[] = ['A+', 'A', 'A-', 'B', 'C', 'D', 'E', 'F'];

export interface Cap {
  grade: Grade;
  reason: string;
}

export interface Rating {
  grade: Grade;
  /** The grade if the certificate were trusted and matched (SSL Labs shows it beside T and M). */
  gradeIgnoringTrust: Grade;
  score: number;
  protocolScore: number;
  keyExchangeScore: number;
  cipherScore: number;
  caps: Cap[];
  /** Why A+ was or was not given. */
  aPlus: string;
}

export interface RatingInput {
  /** SSL 2.0 offered (probed apart: its own hello format). */
  sslv2?: { offered: boolean; ciphers?: string[] };
  protocols: ProtocolResult[];
  ciphers: ProtocolCiphers[];
  certificate?: CertificateResult;
  https?: HttpsResult;
  redirect?: RedirectResult;
  fallbackScsv: boolean | null;
  secureRenegotiation: boolean | null;
}

/** Protocol scores of the guide (SSL 2.0 0, SSL 3.0 80, TLS 1.0 90, TLS 1.1 95, TLS 1.2 100; TLS 1.3 as TLS 1.2). */
export const PROTOCOL_SCORE: Record<Protocol | 'SSLv2', number> = { SSLv2: 0, SSLv3: 80, TLSv1: 90, 'TLSv1.1': 95, 'TLSv1.2': 100, 'TLSv1.3': 100 };

/** Key exchange strength in RSA-equivalent bits → score (guide table 3). */
export function keyExchangeScoreOf(bits: number, anonymous = false, exportGrade = false): number {
  if (anonymous) return 0;
  if (bits < 512) return 20;
  if (exportGrade || bits < 1024) return 40;
  if (bits < 2048) return 80;
  if (bits < 4096) return 90;
  return 100;
}

/** Cipher strength in bits → score (guide table 4). */
export function cipherScoreOf(bits: number): number {
  if (bits === 0) return 0;
  if (bits < 128) return 20;
  if (bits < 256) return 80;
  return 100;
}

export function gradeOfScore(score: number): Grade {
  if (score >= 80) return 'A';
  if (score >= 65) return 'B';
  if (score >= 50) return 'C';
  if (score >= 35) return 'D';
  if (score >= 20) return 'E';
  return 'F';
}

/** The worse of two letter grades (A+ best, F worst). */
export function worse(a: Grade, b: Grade): Grade {
  return GRADE_ORDER.indexOf(a) >= GRADE_ORDER.indexOf(b) ? a : b;
}

/** RSA-equivalent strength of the certificate key (NIST SP 800-57: P-256 ≈ RSA 3072, P-384 ≈ 7680). */
export function certKeyRsaEquivalent(c: { keyType: string; keyBits: number }): number {
  if (c.keyType === 'RSA' || c.keyType === 'RSA-PSS' || c.keyType === 'DSA') return c.keyBits;
  if (c.keyType === 'EC' || c.keyType === 'ED25519' || c.keyType === 'ED448') {
    if (c.keyBits >= 512) return 15360;
    if (c.keyBits >= 384) return 7680;
    if (c.keyBits >= 256) return 3072;
    if (c.keyBits >= 224) return 2048;
    return 1024;
  }
  return 0;
}

/**
 * The suite a modern client (one that prefers forward secrecy and AEAD) ends up with at a protocol:
 * the server's first choice when it enforces its order; otherwise the client's own preference among
 * the suites the server accepts (FS + AEAD, then FS, then AEAD, then the rest).
 */
export function modernPick(pc: ProtocolCiphers | undefined): ProtocolCiphers['suites'][number] | undefined {
  if (!pc || !pc.suites.length) return undefined;
  if (pc.serverOrder !== false) return pc.suites[0];
  const rank = (s: ProtocolCiphers['suites'][number]) => (s.fs ? 0 : 2) + (s.aead ? 0 : 1);
  return [...pc.suites].sort((a, b) => rank(a) - rank(b))[0];
}

export const HSTS_MIN_SECONDS = 15552000; // 180 days: testssl.sh's HSTS_MIN and SSL Labs' "long max-age" for A+

function offeredProtocols(i: RatingInput): Protocol[] {
  return i.protocols.filter((p) => p.offered).map((p) => p.protocol);
}

export function rate(i: RatingInput): Rating {
  const offered = offeredProtocols(i);
  const caps: Cap[] = [];
  const cap = (grade: Grade, reason: string) => caps.push({ grade, reason });
  const all = i.ciphers.flatMap((pc) => pc.suites.map((s) => ({ ...s, protocol: pc.protocol })));
  if (!offered.length || !all.length) {
    return { grade: 'F', gradeIgnoringTrust: 'F', score: 0, protocolScore: 0, keyExchangeScore: 0, cipherScore: 0, caps: [{ grade: 'F', reason: 'no protocol or cipher suite accepted' }], aPlus: 'no' };
  }
  // Protocol support: average of the best and the worst protocol.
  const pScores = [...offered.map((p) => PROTOCOL_SCORE[p]), ...(i.sslv2?.offered ? [PROTOCOL_SCORE.SSLv2] : [])];
  const protocolScore = (Math.max(...pScores) + Math.min(...pScores)) / 2;
  // Key exchange: the weakest (certificate key for RSA key exchange, ephemeral group otherwise).
  const certBits = i.certificate ? certKeyRsaEquivalent(i.certificate.leaf) : 2048;
  const kxScores = all.map((s) => {
    const anonymous = s.iana.includes('_anon_');
    const exp = s.iana.includes('EXPORT');
    const bits = s.kx === 'RSA' || s.kx === 'RSA-export' ? certBits : Math.min(s.kxRsaEquivalent ?? certBits, certBits);
    return keyExchangeScoreOf(bits, anonymous, exp);
  });
  const keyExchangeScore = Math.min(...kxScores);
  // Cipher strength: average of the strongest and the weakest.
  const cScores = all.map((s) => cipherScoreOf(s.bits));
  const cipherScore = (Math.max(...cScores) + Math.min(...cScores)) / 2;
  const score = Math.round(protocolScore * 0.3 + keyExchangeScore * 0.3 + cipherScore * 0.4);

  // Protocol rules.
  if (i.sslv2?.offered) cap('F', 'SSL 2.0 offered (DROWN)');
  if (offered.includes('SSLv3')) {
    if (!offered.some((p) => p !== 'SSLv3')) cap('F', 'only SSL 3.0');
    else cap('C', 'SSL 3.0 offered (POODLE)');
  }
  if (!offered.includes('TLSv1.2') && !offered.includes('TLSv1.3')) cap('C', 'no TLS 1.2 or 1.3');
  if (offered.includes('TLSv1') || offered.includes('TLSv1.1')) cap('B', `${['TLSv1', 'TLSv1.1'].filter((p) => offered.includes(p as Protocol)).join(' and ')} offered (deprecated, capped at B since 2020)`);

  // Cipher rules.
  if (all.some((s) => s.iana.includes('_anon_'))) cap('F', 'anonymous cipher suites (no authentication)');
  if (all.some((s) => s.iana.includes('EXPORT'))) cap('F', 'export cipher suites');
  if (all.some((s) => s.bits === 0)) cap('F', 'NULL cipher suites (no encryption)');
  const rc4 = all.filter((s) => s.iana.includes('_RC4_'));
  if (rc4.some((s) => s.protocol === 'TLSv1.1' || s.protocol === 'TLSv1.2')) cap('C', 'RC4 with TLS 1.1 or 1.2');
  else if (rc4.length) cap('B', 'RC4 offered');
  const b64 = all.filter((s) => /_(3DES_EDE|DES|IDEA|RC2)_/.test(s.iana));
  if (b64.some((s) => s.protocol === 'TLSv1.1' || s.protocol === 'TLSv1.2')) cap('C', '64-bit block cipher (3DES/DES/IDEA) with TLS 1.1 or 1.2 (Sweet32)');
  // What a modern client gets at the highest protocol.
  const modern = modernPick(i.ciphers[i.ciphers.length - 1]);
  if (!all.some((s) => s.fs)) cap('B', 'no forward secrecy');
  else if (modern && !modern.fs) cap('B', `no forward secrecy with modern clients (the server picks ${modern.openssl})`);
  if (!all.some((s) => s.aead)) cap('B', 'no AEAD cipher suite (GCM, ChaCha20-Poly1305, CCM)');
  if ((protocolScore === 0 || keyExchangeScore === 0 || cipherScore === 0) && !caps.some((k) => k.grade === 'F')) cap('F', 'a score category is zero');
  // Weak ephemeral parameters.
  const dh = all.filter((s) => s.kx === 'DH' && s.kxBits);
  if (dh.some((s) => s.kxBits! < 1024)) cap('F', 'DH parameters below 1024 bits (Logjam)');
  else if (dh.some((s) => s.kxBits! < 2048)) cap('B', 'DH parameters below 2048 bits');

  // Certificate rules.
  const c = i.certificate;
  let trustGrade: Grade | undefined;
  if (c) {
    if (/^md[25]With/i.test(c.leaf.signatureAlgorithm)) cap('F', `insecure certificate signature (${c.leaf.signatureAlgorithm})`);
    const kb = certKeyRsaEquivalent(c.leaf);
    if (kb < 1024) cap('F', `certificate key below 1024 bits (${c.leaf.keyType} ${c.leaf.keyBits})`);
    else if (kb < 2048) cap('B', `certificate key below 2048 bits (${c.leaf.keyType} ${c.leaf.keyBits})`);
    if (!c.trusted || c.expired || c.notYetValid) trustGrade = 'T';
    else if (!c.hostnameMatch) trustGrade = 'M';
  }
  // Warnings: A-.
  if (i.fallbackScsv === false) cap('A-', 'no TLS_FALLBACK_SCSV (downgrade protection) with several protocols');
  if (i.secureRenegotiation === false) cap('A-', 'no secure renegotiation (RFC 5746)');

  let grade = gradeOfScore(score);
  for (const k of caps) grade = worse(grade, k.grade);
  // A+: A with no warnings and HSTS with a long max-age.
  let aPlus = 'no';
  if (grade === 'A') {
    const h = i.https?.hsts;
    if (h?.present && !h.error && (h.maxAge ?? 0) >= HSTS_MIN_SECONDS) {
      grade = 'A+';
      aPlus = `HSTS max-age ${h.maxAge} ≥ ${HSTS_MIN_SECONDS}`;
    } else aPlus = h?.present ? `HSTS max-age ${h.maxAge ?? 'missing'} below ${HSTS_MIN_SECONDS} (180 days)` : 'no HSTS header';
  } else aPlus = 'grade below A';
  if (c) {
    if (!c.trusted) caps.push({ grade: 'T', reason: `certificate not trusted: ${c.trustError ?? 'unknown'}` });
    if (c.expired) caps.push({ grade: 'T', reason: `certificate expired on ${c.leaf.notAfter}` });
    if (c.notYetValid) caps.push({ grade: 'T', reason: `certificate not valid before ${c.leaf.notBefore}` });
    if (!c.hostnameMatch) caps.push({ grade: 'M', reason: `certificate does not match ${c.hostname}` });
  }
  return { grade: trustGrade ?? grade, gradeIgnoringTrust: grade, score, protocolScore, keyExchangeScore, cipherScore, caps, aPlus };
}

// ---------------------------------------------------------------------------------------------------
// testssl.sh-style findings

const TESTSSL_PROTOCOL_ID: Record<Protocol, string> = { SSLv3: 'SSLv3', TLSv1: 'TLS1', 'TLSv1.1': 'TLS1_1', 'TLSv1.2': 'TLS1_2', 'TLSv1.3': 'TLS1_3' };

export function findings(i: RatingInput, rating: Rating): Finding[] {
  const out: Finding[] = [];
  const add = (id: string, severity: Severity, finding: string) => out.push({ id, severity, finding });
  const offered = new Set(offeredProtocols(i));
  if (i.sslv2) add('SSLv2', i.sslv2.offered ? 'CRITICAL' : 'OK', i.sslv2.offered ? `offered (${(i.sslv2.ciphers ?? []).join(' ')})` : 'not offered');
  for (const p of i.protocols) {
    const id = TESTSSL_PROTOCOL_ID[p.protocol];
    if (p.protocol === 'SSLv3') add(id, p.offered ? 'HIGH' : 'OK', p.offered ? 'offered' : 'not offered');
    else if (p.protocol === 'TLSv1' || p.protocol === 'TLSv1.1') add(id, p.offered ? 'LOW' : 'INFO', p.offered ? 'offered (deprecated)' : 'not offered');
    else if (p.protocol === 'TLSv1.2') add(id, p.offered ? 'OK' : offered.has('TLSv1.3') ? 'INFO' : 'MEDIUM', p.offered ? 'offered' : 'not offered');
    else add(id, p.offered ? 'OK' : 'INFO', p.offered ? 'offered with final' : 'not offered');
  }
  const all = i.ciphers.flatMap((pc) => pc.suites.map((s) => ({ ...s, protocol: pc.protocol })));
  const names = (xs: { openssl: string }[]) => [...new Set(xs.map((s) => s.openssl))].join(' ');
  const nul = all.filter((s) => s.bits === 0);
  add('cipherlist_NULL', nul.length ? 'HIGH' : 'OK', nul.length ? `offered: ${names(nul)}` : 'not offered');
  const anon = all.filter((s) => s.iana.includes('_anon_'));
  add('cipherlist_aNULL', anon.length ? 'CRITICAL' : 'OK', anon.length ? `offered: ${names(anon)}` : 'not offered');
  const exp = all.filter((s) => s.iana.includes('EXPORT'));
  add('cipherlist_EXPORT', exp.length ? 'HIGH' : 'OK', exp.length ? `offered: ${names(exp)}` : 'not offered');
  const rc4 = all.filter((s) => s.iana.includes('_RC4_'));
  add('RC4', rc4.length ? 'HIGH' : 'OK', rc4.length ? `offered: ${names(rc4)}` : 'not offered');
  const b64 = all.filter((s) => /_(3DES_EDE|DES|IDEA|RC2)_/.test(s.iana));
  add('SWEET32', b64.length ? 'LOW' : 'OK', b64.length ? `64-bit block ciphers offered: ${names(b64)}` : 'no 64-bit block cipher');
  const cbcOld = all.filter((s) => (s.protocol === 'TLSv1' || s.protocol === 'SSLv3') && /_CBC_/.test(s.iana));
  add('BEAST', cbcOld.length ? 'LOW' : 'OK', cbcOld.length ? `CBC ciphers with ${[...new Set(cbcOld.map((s) => s.protocol))].join(', ')}` : 'no CBC cipher with SSL 3.0 or TLS 1.0');
  const fs = all.filter((s) => s.fs);
  add('FS', fs.length ? 'OK' : 'MEDIUM', fs.length ? `offered (${fs.length} suites)` : 'no cipher suite with forward secrecy');
  const nofs = all.filter((s) => !s.fs);
  if (fs.length && nofs.length) add('FS_not_all', 'INFO', `suites without forward secrecy also offered: ${names(nofs)}`);
  for (const pc of i.ciphers) {
    if (pc.suites.length < 2) continue;
    const id = `cipher_order-${pc.protocol.replace('TLSv1.', 'tls1_').replace('TLSv1', 'tls1').replace('SSLv3', 'ssl3')}`;
    add(id, pc.serverOrder ? 'OK' : 'LOW', pc.serverOrder ? 'server' : 'NOT a cipher order configured');
  }
  if (i.secureRenegotiation !== null) add('secure_renego', i.secureRenegotiation ? 'OK' : 'HIGH', i.secureRenegotiation ? 'supported' : 'not supported');
  if (i.fallbackScsv !== null) add('fallback_SCSV', i.fallbackScsv ? 'OK' : 'MEDIUM', i.fallbackScsv ? 'supported' : 'downgrade attack prevention NOT supported');
  const c = i.certificate;
  if (c) {
    const kb = certKeyRsaEquivalent(c.leaf);
    add('cert_keySize', kb < 1024 ? 'CRITICAL' : kb < 2048 ? 'MEDIUM' : 'OK', `${c.leaf.keyType} ${c.leaf.keyBits} bits${c.leaf.curve ? ` (${c.leaf.curve})` : ''}`);
    const sig = c.leaf.signatureAlgorithm;
    add('cert_signatureAlgorithm', /^md[25]/i.test(sig) ? 'CRITICAL' : /sha1/i.test(sig) ? 'MEDIUM' : 'OK', sig);
    add('cert_subjectAltName', c.subjectAltNames.length ? 'INFO' : 'HIGH', c.subjectAltNames.length ? c.subjectAltNames.join(' ') : 'missing (browsers ignore the CN)');
    add('cert_trust', c.hostnameMatch ? (c.subjectAltNames.length ? 'OK' : 'MEDIUM') : 'HIGH', c.hostnameMatch ? `Ok via ${c.subjectAltNames.length ? 'SAN' : 'CN only (no SAN)'} (${c.hostname})` : `certificate does not match ${c.hostname}`);
    add('cert_chain_of_trust', c.trusted ? 'OK' : 'CRITICAL', c.trusted ? `passed (${c.trustStore})` : `failed: ${c.trustError ?? 'unknown'}`);
    if (c.expired) add('cert_expirationStatus', 'CRITICAL', `expired ${-c.daysLeft} days ago (${c.leaf.notAfter})`);
    else if (c.notYetValid) add('cert_expirationStatus', 'CRITICAL', `not valid before ${c.leaf.notBefore}`);
    else add('cert_expirationStatus', c.daysLeft < 30 ? 'HIGH' : c.daysLeft < 60 ? 'MEDIUM' : 'OK', `${c.daysLeft} >= 0 days`);
    add('OCSP_stapling', c.ocspStapled ? (c.ocspStatus === 'revoked' ? 'CRITICAL' : 'OK') : 'INFO', c.ocspStapled ? `offered (${c.ocspStatus})` : 'not offered');
  }
  const h = i.https;
  if (h) {
    if (h.error) add('HSTS', 'WARN', `no HTTP answer over TLS: ${h.error}`);
    else if (!h.hsts.present) add('HSTS', 'LOW', 'not offered');
    else if (h.hsts.error) add('HSTS_time', 'MEDIUM', `misconfiguration: ${h.hsts.error}`);
    else {
      const age = h.hsts.maxAge ?? 0;
      if (age === 0) add('HSTS_time', 'LOW', '0. HSTS is disabled');
      else add('HSTS_time', age >= HSTS_MIN_SECONDS ? 'OK' : 'MEDIUM', `${Math.floor(age / 86400)} days (=${age} seconds) ${age >= HSTS_MIN_SECONDS ? '>' : '<'} ${HSTS_MIN_SECONDS} seconds`);
      add('HSTS_subdomains', h.hsts.includeSubDomains ? 'OK' : 'INFO', h.hsts.includeSubDomains ? 'includes subdomains' : 'only for this domain');
      add('HSTS_preload', h.hsts.preload ? 'OK' : 'INFO', h.hsts.preload ? 'domain IS marked for preloading' : 'domain is NOT marked for preloading');
    }
  }
  const r = i.redirect;
  if (r) {
    if (!r.listening) add('http_redirect', 'INFO', `nothing listens for plain HTTP on port ${r.port}`);
    else if (r.redirectsToHttps) add('http_redirect', 'OK', `port ${r.port}: ${r.status} to ${r.location}`);
    else if (r.servesPlainHttp) add('http_redirect', 'MEDIUM', `port ${r.port} serves content over plain HTTP (status ${r.status}), no redirect to HTTPS`);
    else add('http_redirect', 'LOW', `port ${r.port}: ${r.error ?? `status ${r.status}${r.location ? ` to ${r.location}` : ''}`}, no redirect to HTTPS`);
  }
  add('overall_grade', rating.grade.startsWith('A') ? 'OK' : rating.grade === 'B' ? 'MEDIUM' : rating.grade === 'C' ? 'HIGH' : 'CRITICAL', rating.grade === rating.gradeIgnoringTrust ? rating.grade : `${rating.grade} (${rating.gradeIgnoringTrust} if the certificate were trusted)`);
  return out;
}
