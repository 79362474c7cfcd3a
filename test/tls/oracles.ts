// Independent implementations run against the same server as the prober, their output reduced to the
// same facts, compared field by field: testssl.sh (Debian package, its --jsonfile) and sslyze (pinned
// in seclab's tools venv, scripts/tools.ts, its --json_out). Used by test/tls/agreement.test.ts and
// bench/tls.ts.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { ProbeResult } from '../../src/controls/tls/index.ts';
import { SUITES, type Protocol } from '../../src/controls/tls/suites.ts';
import { run, toolBin, toolInstalled } from '../../scripts/tools.ts';

/** The facts compared. Missing keys: the tool does not report that fact. */
export interface Facts {
  /** SSL 2.0 offered. */
  sslv2?: boolean;
  protocols: Partial<Record<Protocol, boolean>>;
  /** Accepted suites per offered protocol, as sorted lowercase hex code points. */
  suites: Partial<Record<Protocol, string[]>>;
  /** Server enforces its cipher order, per protocol with at least two suites. */
  serverOrder?: Partial<Record<Protocol, boolean>>;
  /** The server's preference list (when it has one), per protocol. */
  preference?: Partial<Record<Protocol, string[]>>;
  fs?: boolean;
  fallbackScsv?: boolean | null;
  secureRenegotiation?: boolean | null;
  certTrusted?: boolean;
  certHostnameMatch?: boolean;
  certExpired?: boolean;
  /** trusted, in its validity period and matching the name: what a browser would accept. */
  certAccepted?: boolean;
  certKeyBits?: number;
  certNotAfter?: string;
  certSigHash?: string;
  hsts?: boolean;
  hstsMaxAge?: number | null;
}

export interface Comparison {
  field: string;
  ours: unknown;
  theirs: unknown;
  /** 'n/a': one side says the question does not apply (null) where the other answers (NOT_APPLICABLE says why). */
  agree: boolean | 'n/a';
}

/** Why a field is n/a on our side while a tool answers (docs/tls.md, "Agreement"). */
export const NOT_APPLICABLE: Record<string, string> = {
  fallbackScsv: 'a question of what counts as a downgrade: with one version only, the prober has nothing to fall back to (null) while sslyze counts any refused downgraded handshake as SCSV support; with TLS 1.2 + 1.3, the prober tests 1.3 → 1.2 and sees inappropriate_fallback while testssl.sh 3.0.8 only looks below TLS 1.2 ("no protocol below TLS 1.2 offered", null)',
  secureRenegotiation: 'TLS 1.3 only: TLS 1.3 has no renegotiation; sslyze still reports its OpenSSL flag',
};

const IANA_TO_HEX = new Map(SUITES.map((s) => [s.iana, s.hex]));
const PROTO_TESTSSL: Record<string, Protocol> = { SSLv3: 'SSLv3', TLS1: 'TLSv1', TLS1_1: 'TLSv1.1', TLS1_2: 'TLSv1.2', TLS1_3: 'TLSv1.3' };
const PROTO_CIPHER_ID: Record<string, Protocol> = { ssl3: 'SSLv3', tls1: 'TLSv1', tls1_1: 'TLSv1.1', tls1_2: 'TLSv1.2', tls1_3: 'TLSv1.3' };

function hex4(h: string): string {
  return `0x${h.replace(/^0?x/i, '').toLowerCase().padStart(4, '0')}`;
}

export function factsOfProbe(r: ProbeResult): Facts {
  const f: Facts = { protocols: {}, suites: {}, serverOrder: {}, preference: {} };
  f.sslv2 = r.sslv2.offered;
  for (const p of r.protocols) f.protocols[p.protocol] = p.offered;
  for (const pc of r.ciphers) {
    f.suites[pc.protocol] = pc.suites.map((s) => s.hex).sort();
    if (pc.serverOrder !== null) f.serverOrder![pc.protocol] = pc.serverOrder;
    if (pc.serverOrder) f.preference![pc.protocol] = pc.suites.map((s) => s.hex);
  }
  f.fs = r.forwardSecrecy.offered;
  f.fallbackScsv = r.fallbackScsv;
  f.secureRenegotiation = r.secureRenegotiation;
  const c = r.certificate;
  if (c) {
    f.certTrusted = c.trusted;
    f.certHostnameMatch = c.hostnameMatch;
    f.certExpired = c.expired;
    f.certAccepted = c.trusted && !c.expired && !c.notYetValid && c.hostnameMatch;
    f.certKeyBits = c.leaf.keyBits;
    f.certNotAfter = c.leaf.notAfter.slice(0, 16);
    f.certSigHash = /sha(\d+)/i.exec(c.leaf.signatureAlgorithm)?.[1] ? `sha${/sha(\d+)/i.exec(c.leaf.signatureAlgorithm)![1]}` : c.leaf.signatureAlgorithm;
  }
  if (r.https && !r.https.error) {
    f.hsts = r.https.hsts.present;
    f.hstsMaxAge = r.https.hsts.maxAge ?? null;
  }
  return f;
}

// ---- testssl.sh ----

export function testsslPath(): string | undefined {
  for (const c of [process.env['SECLAB_TESTSSL'], '/usr/bin/testssl', '/usr/local/bin/testssl.sh', '/usr/bin/testssl.sh']) if (c && existsSync(c)) return c;
  const w = spawnSync('sh', ['-c', 'command -v testssl || command -v testssl.sh'], { encoding: 'utf8' });
  return w.status === 0 && w.stdout.trim() ? w.stdout.trim() : undefined;
}

interface TestsslEntry {
  id: string;
  severity: string;
  finding: string;
}

export function factsOfTestssl(entries: TestsslEntry[]): Facts {
  const f: Facts = { protocols: {}, suites: {}, serverOrder: {}, preference: {} };
  // WARN: testssl.sh could not test it (e.g. "OpenSSL handshake didn't succeed" with its own openssl): no answer.
  const get = (id: string) => entries.find((e) => e.id === id && e.severity !== 'WARN');
  const v2 = get('SSLv2');
  if (v2) f.sslv2 = /^offered/.test(v2.finding);
  for (const [id, p] of Object.entries(PROTO_TESTSSL)) {
    const e = get(id);
    if (e) f.protocols[p] = /^offered/.test(e.finding);
  }
  for (const e of entries) {
    const m = /^cipher-(ssl3|tls1|tls1_1|tls1_2|tls1_3)_x([0-9a-f]+)$/i.exec(e.id);
    if (!m) continue;
    const p = PROTO_CIPHER_ID[m[1]!]!;
    (f.suites[p] ??= []).push(hex4(m[2]!));
  }
  for (const p of Object.keys(f.suites) as Protocol[]) f.suites[p] = [...new Set(f.suites[p])].sort();
  // -P: "cipher_order" (server / NOT a cipher order configured) and cipherorder_<proto> with the list.
  const order = get('cipher_order');
  for (const e of entries) {
    const m = /^cipherorder_(SSLv3|TLSv1|TLSv1_1|TLSv1_2|TLSv1_3)$/.exec(e.id);
    if (!m) continue;
    const p = m[1]!.replace('_', '.') as Protocol;
    const names = e.finding.trim().split(/\s+/);
    const bySsl = new Map(SUITES.map((s) => [s.openssl, s.hex]));
    f.preference![p] = names.map((n) => bySsl.get(n) ?? IANA_TO_HEX.get(n) ?? n);
  }
  if (order) {
    const server = /^server/i.test(order.finding);
    for (const p of Object.keys(f.suites) as Protocol[]) if ((f.suites[p]?.length ?? 0) >= 2) f.serverOrder![p] = server;
    if (!server) f.preference = {};
  }
  const fs = get('PFS') ?? get('FS');
  if (fs) f.fs = /^offered/.test(fs.finding);
  const reneg = get('secure_renego');
  if (reneg) f.secureRenegotiation = /TLS 1\.3 only/i.test(reneg.finding) ? null : /^supported/i.test(reneg.finding);
  const scsv = get('fallback_SCSV');
  if (scsv) f.fallbackScsv = /^supported/i.test(scsv.finding) ? true : /NOT supported/i.test(scsv.finding) ? false : null;
  const trust = get('cert_chain_of_trust');
  // testssl.sh's chain check includes the dates ("failed (expired)."); the chain itself is what is compared.
  if (trust) f.certTrusted = /^passed/i.test(trust.finding) || /^failed \((expired|not yet valid)\)\.?$/i.test(trust.finding);
  const host = get('cert_trust');
  if (host) f.certHostnameMatch = !/does not match/i.test(host.finding);
  const exp = get('cert_expirationStatus');
  if (exp) f.certExpired = /expired/i.test(exp.finding);
  const key = get('cert_keySize');
  if (key) f.certKeyBits = Number(/(\d+) bits/.exec(key.finding)?.[1]);
  const na = get('cert_notAfter');
  if (na) f.certNotAfter = na.finding.replace(' ', 'T').slice(0, 16);
  const sig = get('cert_signatureAlgorithm');
  if (sig) f.certSigHash = /SHA(\d+)/i.exec(sig.finding) ? `sha${/SHA(\d+)/i.exec(sig.finding)![1]}` : sig.finding;
  if (f.certTrusted !== undefined && f.certExpired !== undefined && f.certHostnameMatch !== undefined) f.certAccepted = f.certTrusted && !f.certExpired && f.certHostnameMatch;
  const hsts = get('HSTS');
  const hstsTime = get('HSTS_time');
  if (hsts || hstsTime) {
    f.hsts = !!hstsTime || !/not offered/i.test(hsts!.finding);
    const m = hstsTime && /=(\d+) seconds/.exec(hstsTime.finding);
    f.hstsMaxAge = m ? Number(m[1]) : null;
  }
  return f;
}

export interface OracleRun {
  facts: Facts;
  durationMs: number;
  raw: unknown;
}

/**
 * testssl.sh against host:port with SNI `name` (via --ip so it connects to `ip`). `full` adds the
 * per-protocol cipher list (-E) and server preferences (-P); without it only protocols, FS, the
 * certificate and headers (a focused, faster run); full also adds renegotiation (-R) and fallback SCSV (-Z).
 */
export async function runTestssl(o: { name: string; ip: string; port: number; caFile?: string; full?: boolean; timeoutMs?: number }): Promise<OracleRun> {
  const bin = testsslPath();
  if (!bin) throw new Error('testssl.sh is not installed (apt-get install testssl.sh)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seclab-testssl-'));
  const json = path.join(dir, 'out.json');
  const args = ['--quiet', '--warnings', 'off', '--color', '0', '--nodns', 'min', '--ip', o.ip, '--jsonfile', json, '-p', '-f', '-S', '-h'];
  if (o.full) args.push('-E', '-P', '-R', '-Z');
  if (o.caFile) args.push('--add-ca', o.caFile);
  args.push(`${o.name}:${o.port}`);
  const r = await run(bin, args, { timeoutMs: o.timeoutMs ?? 600_000 });
  try {
    if (!existsSync(json)) throw new Error(`testssl.sh wrote no JSON (exit ${r.code}): ${(r.stdout + r.stderr).slice(-800)}`);
    const entries = JSON.parse(readFileSync(json, 'utf8')) as TestsslEntry[];
    return { facts: factsOfTestssl(entries), durationMs: r.durationMs, raw: entries };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- sslyze ----

export function sslyzeAvailable(): boolean {
  return toolInstalled('sslyze');
}

interface SslyzeSuite { cipher_suite: { name: string }; ephemeral_key: unknown }

export function factsOfSslyze(doc: any, caFile?: string, now = new Date()): Facts {
  const f: Facts = { protocols: {}, suites: {} };
  const sr = doc.server_scan_results?.[0];
  if (!sr || sr.connectivity_status !== 'COMPLETED') throw new Error(`sslyze could not connect: ${sr?.connectivity_error_trace ?? 'no result'}`);
  const res = sr.scan_result;
  const map: [string, Protocol][] = [['ssl_3_0_cipher_suites', 'SSLv3'], ['tls_1_0_cipher_suites', 'TLSv1'], ['tls_1_1_cipher_suites', 'TLSv1.1'], ['tls_1_2_cipher_suites', 'TLSv1.2'], ['tls_1_3_cipher_suites', 'TLSv1.3']];
  const v2 = res.ssl_2_0_cipher_suites?.result;
  if (v2) f.sslv2 = !!v2.is_tls_version_supported;
  let fs = false;
  for (const [key, p] of map) {
    const r = res[key]?.result;
    if (!r) continue;
    f.protocols[p] = !!r.is_tls_version_supported;
    if (r.is_tls_version_supported) {
      f.suites[p] = (r.accepted_cipher_suites as SslyzeSuite[]).map((s) => IANA_TO_HEX.get(s.cipher_suite.name) ?? s.cipher_suite.name).sort();
      if ((r.accepted_cipher_suites as SslyzeSuite[]).some((s) => s.ephemeral_key)) fs = true;
    }
  }
  f.fs = fs;
  const scsv = res.tls_fallback_scsv?.result;
  if (scsv) f.fallbackScsv = scsv.supports_fallback_scsv;
  const reneg = res.session_renegotiation?.result;
  if (reneg) f.secureRenegotiation = reneg.supports_secure_renegotiation;
  const dep = res.certificate_info?.result?.certificate_deployments?.[0];
  if (dep) {
    const leaf = dep.received_certificate_chain[0];
    f.certKeyBits = leaf.public_key.key_size;
    f.certNotAfter = String(leaf.not_valid_after).slice(0, 16);
    f.certExpired = now.getTime() > Date.parse(leaf.not_valid_after);
    f.certSigHash = leaf.signature_hash_algorithm?.name ?? undefined;
    // sslyze validates with cryptography's verifier: chain, dates and host name together.
    const pv = (dep.path_validation_results as { trust_store: { path: string }; was_validation_successful: boolean }[])
      .find((v) => (caFile ? v.trust_store.path === caFile : true));
    if (pv) f.certAccepted = pv.was_validation_successful;
  }
  const h = res.http_headers?.result;
  if (h) {
    const s = h.strict_transport_security_header;
    f.hsts = !!s;
    f.hstsMaxAge = s ? (s.max_age ?? null) : null;
  }
  return f;
}

export async function runSslyze(o: { name: string; ip: string; port: number; caFile?: string; timeoutMs?: number }): Promise<OracleRun> {
  if (!sslyzeAvailable()) throw new Error('sslyze is not installed in seclab\'s tools venv (npx tsx -e "import(\'./scripts/tools.ts\').then(m => m.ensureTool(\'sslyze\'))")');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seclab-sslyze-'));
  const json = path.join(dir, 'out.json');
  const args = ['--quiet', `--json_out=${json}`, '--certinfo', '--sslv2', '--sslv3', '--tlsv1', '--tlsv1_1', '--tlsv1_2', '--tlsv1_3', '--fallback', '--reneg', '--http_headers'];
  if (o.caFile) args.push(`--certinfo_ca_file=${o.caFile}`);
  args.push(`${o.name}:${o.port}{${o.ip}}`);
  const r = await run(toolBin('sslyze', 'sslyze'), args, { timeoutMs: o.timeoutMs ?? 300_000, env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
  try {
    if (!existsSync(json)) throw new Error(`sslyze wrote no JSON (exit ${r.code}): ${(r.stdout + r.stderr).slice(-800)}`);
    const doc = JSON.parse(readFileSync(json, 'utf8'));
    return { facts: factsOfSslyze(doc, o.caFile), durationMs: r.durationMs, raw: doc };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- comparison ----

/** Every fact both sides report, compared; `skip` names fields to leave out (with a documented reason). */
export function compareFacts(ours: Facts, theirs: Facts, skip: string[] = []): Comparison[] {
  const out: Comparison[] = [];
  const cmp = (field: string, a: unknown, b: unknown) => {
    if (b === undefined || a === undefined || skip.includes(field) || skip.includes(field.split('.')[0]!)) return;
    const agree = JSON.stringify(a) === JSON.stringify(b) ? true : (a === null || b === null) && NOT_APPLICABLE[field] ? 'n/a' as const : false;
    out.push({ field, ours: a, theirs: b, agree });
  };
  cmp('protocol.SSLv2', ours.sslv2, theirs.sslv2);
  for (const p of ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as Protocol[]) {
    cmp(`protocol.${p}`, ours.protocols[p], theirs.protocols[p]);
    // Suites only from a tool run that listed them (testssl.sh without -E does not).
    if ((ours.protocols[p] || theirs.protocols[p]) && Object.keys(theirs.suites).length) cmp(`suites.${p}`, ours.suites[p] ?? [], theirs.suites[p] ?? []);
    if (theirs.serverOrder?.[p] !== undefined) cmp(`serverOrder.${p}`, ours.serverOrder?.[p], theirs.serverOrder[p]);
    if (theirs.preference?.[p]?.length && ours.preference?.[p]) cmp(`preference.${p}`, ours.preference[p], theirs.preference[p]);
  }
  for (const k of ['fs', 'fallbackScsv', 'secureRenegotiation', 'certTrusted', 'certHostnameMatch', 'certExpired', 'certAccepted', 'certKeyBits', 'certNotAfter', 'certSigHash', 'hsts', 'hstsMaxAge'] as const) {
    cmp(k, ours[k], theirs[k]);
  }
  return out;
}
