// The prober's result as text for a terminal: every line at most 80 columns, nothing that changes
// between two runs against the same server (no timings, no random values).
import type { ProbeResult } from './index.ts';
import { SEVERITIES, type Severity } from './rating.ts';

export interface TextStyle {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
}

const plain: TextStyle = { bold: (s) => s, dim: (s) => s, red: (s) => s, green: (s) => s, yellow: (s) => s };

export const WIDTH = 80;

/** Word-wraps `text` after a label column of `indent` characters. */
export function wrap(label: string, text: string, indent = 18, width = WIDTH): string[] {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let cur = label.padEnd(indent);
  let empty = true;
  for (let w of words) {
    // A single word longer than the room left is cut (fingerprints, long names).
    while (w.length > width - indent) {
      if (!empty) {
        lines.push(cur);
        cur = ' '.repeat(indent);
      }
      lines.push(cur + w.slice(0, width - indent));
      w = w.slice(width - indent);
      cur = ' '.repeat(indent);
      empty = true;
    }
    if (!w) continue;
    if (!empty && cur.length + 1 + w.length > width) {
      lines.push(cur);
      cur = ' '.repeat(indent) + w;
    } else cur += (empty ? '' : ' ') + w;
    empty = false;
  }
  lines.push(cur.trimEnd());
  return lines;
}

function sev(st: TextStyle, s: Severity): string {
  const t = s.padEnd(8);
  if (s === 'CRITICAL' || s === 'HIGH') return st.red(t);
  if (s === 'MEDIUM' || s === 'WARN') return st.yellow(t);
  if (s === 'OK') return st.green(t);
  return st.dim(t);
}

export function renderText(r: ProbeResult, st: TextStyle = plain): string[] {
  const out: string[] = [];
  const line = (label: string, text: string) => out.push(...wrap(label, text));
  const t = r.target;
  out.push(st.bold(`TLS scan of ${t.host}:${t.port}${t.serverName && t.serverName !== t.host ? ` (SNI ${t.serverName})` : ''}`));
  const g = r.rating;
  out.push(`Grade ${st.bold(g.grade)}${g.grade !== g.gradeIgnoringTrust ? ` (${g.gradeIgnoringTrust} if the certificate were trusted and matched)` : ''}`);
  out.push(`  score ${g.score}: protocol ${g.protocolScore}, key exchange ${g.keyExchangeScore}, cipher ${g.cipherScore} (30/30/40)`);
  for (const c of g.caps) out.push(...wrap(`  cap ${c.grade}`, c.reason, 10));
  if (g.grade === 'A' || g.aPlus !== 'grade below A') out.push(...wrap('  A+', g.aPlus, 10));
  out.push('');
  out.push(st.bold('Protocols'));
  line('  SSLv2', r.sslv2.offered ? `OFFERED: ${r.sslv2.ciphers.join(' ')}` : `not offered (${r.sslv2.refusal})`);
  for (const p of r.protocols) line(`  ${p.protocol}`, p.offered ? 'offered' : `not offered (${p.refusal})`);
  out.push('');
  out.push(st.bold('Cipher suites'));
  for (const pc of r.ciphers) {
    const order = pc.serverOrder === null ? '' : pc.serverOrder ? ', server order' : ', client order (no server preference)';
    out.push(`  ${pc.protocol}: ${pc.suites.length} suite${pc.suites.length === 1 ? '' : 's'}${order}`);
    for (const s of pc.suites) {
      const kx = s.kxGroup ? `${s.kx} ${s.kxGroup}` : s.kx;
      const flags = [s.fs ? 'FS' : 'no FS', s.aead ? 'AEAD' : ''].filter(Boolean).join(' ');
      const row = `    ${s.hex} ${s.openssl.padEnd(30)} ${kx.padEnd(15)} ${String(s.bits).padStart(3)} ${flags}`;
      out.push(row.length > WIDTH ? row.slice(0, WIDTH) : row);
    }
  }
  out.push('');
  const fs = r.forwardSecrecy;
  line('Forward secrecy', fs.all ? 'every suite' : fs.offered ? `offered${fs.modernClient ? ' (modern clients get it)' : ', but not chosen for modern clients'}` : 'none');
  if (r.negotiated) line('Modern client', `${r.negotiated.protocol} ${r.negotiated.suite}${r.negotiated.group ? ` (${r.negotiated.group})` : ''}`);
  line('Fallback SCSV', r.fallbackScsv === null ? 'n/a (one protocol)' : r.fallbackScsv ? 'supported' : 'NOT supported');
  line('Renegotiation', r.secureRenegotiation === null ? 'n/a (TLS 1.3 only)' : r.secureRenegotiation ? 'secure (RFC 5746)' : 'NOT secure');
  out.push('');
  out.push(st.bold('Certificate'));
  const c = r.certificate;
  if (!c) line('  error', r.certificateError ?? 'none');
  else {
    line('  subject', c.leaf.subject);
    line('  issuer', c.leaf.issuer);
    line('  SAN', c.subjectAltNames.join(' ') || 'none');
    line('  host name', `${c.hostname}: ${c.hostnameMatch ? 'matches' : 'DOES NOT MATCH'}`);
    line('  key', `${c.leaf.keyType} ${c.leaf.keyBits} bits${c.leaf.curve ? ` (${c.leaf.curve})` : ''}`);
    line('  signature', c.leaf.signatureAlgorithm);
    line('  valid', `${c.leaf.notBefore.slice(0, 10)} to ${c.leaf.notAfter.slice(0, 10)}${c.expired ? ' EXPIRED' : c.notYetValid ? ' NOT YET VALID' : ''}`);
    line('  chain', `${c.intermediates.length} intermediate${c.intermediates.length === 1 ? '' : 's'} sent: ${c.intermediates.map((i) => i.subject).join('; ') || 'none'}`);
    line('  trust', c.trusted ? `trusted via ${c.trustPath[c.trustPath.length - 1]}` : `NOT trusted: ${c.trustError}`);
    line('  trust store', c.trustStore);
    line('  OCSP stapling', c.ocspStapled ? `yes (${c.ocspStatus})` : 'no');
  }
  out.push('');
  out.push(st.bold('HTTP'));
  if (r.https) {
    const h = r.https;
    line('  HSTS', h.error ? `no HTTP answer: ${h.error}` : !h.hsts.present ? 'none' : h.hsts.error ? `invalid: ${h.hsts.error}` : `max-age=${h.hsts.maxAge}${h.hsts.includeSubDomains ? ' includeSubDomains' : ''}${h.hsts.preload ? ' preload' : ''}`);
  } else line('  HSTS', 'not checked');
  if (r.redirect) {
    const d = r.redirect;
    line(`  port ${d.port}`, !d.listening ? 'nothing listens' : d.redirectsToHttps ? `${d.status} to ${d.location}` : d.servesPlainHttp ? `serves plain HTTP (${d.status}), no redirect` : `${d.error ?? d.status}${d.location ? ` to ${d.location}` : ''}, no redirect to HTTPS`);
  }
  out.push('');
  out.push(st.bold('Findings (testssl.sh severities)'));
  const sorted = [...r.findings].sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity));
  for (const f of sorted) {
    const w = wrap(`  ${f.severity.padEnd(8)} ${f.id}`, f.finding, 37);
    w[0] = `  ${sev(st, f.severity)} ${w[0]!.slice(11)}`;
    out.push(...w);
  }
  return out;
}
