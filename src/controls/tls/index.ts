// The TLS prober: real handshakes against host:port. Protocols and cipher suites through raw
// ClientHellos (hello.ts: every version from SSL 3.0 to TLS 1.3, whatever Node's OpenSSL can speak),
// the certificate through a full handshake with Node's TLS, HSTS and the plain-HTTP redirect through
// HTTP requests; then SSL Labs' rating and testssl.sh's severities (rating.ts). See docs/tls.md.
import { probeCertificate, type CertificateResult } from './cert.ts';
import { enumerateCiphers, probeFallbackScsv, probeProtocols, type ProtocolCiphers, type ProtocolResult } from './enumerate.ts';
import { connectTcp, sslv2Handshake, TlsProbeError, type Endpoint, type Sslv2Result } from './handshake.ts';
import { probeHttps, probeRedirect, type HttpsResult, type RedirectResult } from './http.ts';
import { findings, modernPick, rate, type Finding, type Rating } from './rating.ts';
import type { Protocol } from './suites.ts';

export { TlsProbeError } from './handshake.ts';
export type { CertificateResult } from './cert.ts';
export type { ProtocolCiphers, ProtocolResult, AcceptedSuite } from './enumerate.ts';
export type { HttpsResult, RedirectResult, Hsts } from './http.ts';
export type { Finding, Rating, Grade, Severity } from './rating.ts';

export interface ProbeOptions {
  /** SNI and the name the certificate must match (default: the host). */
  serverName?: string;
  /** PEM bundle of trusted CAs (default: the system store). */
  caFile?: string;
  /** Plain-HTTP port to check for a redirect (default 80; null: do not check). */
  httpPort?: number | null;
  /** Per connection step (default 5000 ms). */
  timeoutMs?: number;
  /** "Now" for certificate dates (default the current time). */
  now?: Date;
  /** Skip the HTTP checks (HSTS, redirect) for servers that do not speak HTTP. */
  noHttp?: boolean;
}

export interface ProbeResult {
  target: { host: string; port: number; serverName?: string; httpPort?: number };
  /** SSL 2.0 (its own hello format), probed apart from the TLS family. */
  sslv2: Sslv2Result;
  protocols: ProtocolResult[];
  /** Per offered protocol, oldest first. */
  ciphers: ProtocolCiphers[];
  forwardSecrecy: { offered: boolean; all: boolean; modernClient: boolean };
  /** What a modern client gets at the highest version (the server's first choice, or with client order the best FS/AEAD suite). */
  negotiated?: { protocol: Protocol; suite: string; group?: string };
  fallbackScsv: boolean | null;
  secureRenegotiation: boolean | null;
  certificate?: CertificateResult;
  certificateError?: string;
  https?: HttpsResult;
  redirect?: RedirectResult;
  findings: Finding[];
  rating: Rating;
  /** Raw handshakes made. */
  handshakes: number;
}

/** "host:port" or "[v6]:port" → parts. */
export function parseTarget(target: string, defaultPort = 443): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(target) ?? /^([^:]+)(?::(\d+))?$/.exec(target);
  if (!m) throw new TlsProbeError(`not a host:port: "${target}"`, 'CONNECT');
  const port = m[2] ? Number(m[2]) : defaultPort;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TlsProbeError(`bad port in "${target}"`, 'CONNECT');
  return { host: m[1]!, port };
}

export async function probe(host: string, port: number, o: ProbeOptions = {}): Promise<ProbeResult> {
  const counter = { handshakes: 0 };
  const ep: Endpoint = { host, port, timeoutMs: o.timeoutMs ?? 5000, counter };
  // Fail fast and clearly when nothing listens.
  (await connectTcp(ep)).destroy();
  const serverName = o.serverName ?? host;
  const eo = { serverName };
  const sslv2 = await sslv2Handshake(ep);
  const { results: protocols, first } = await probeProtocols(ep, eo);
  const offered = protocols.filter((p) => p.offered).map((p) => p.protocol);
  const ciphers: ProtocolCiphers[] = [];
  for (const p of offered) {
    const pc = await enumerateCiphers(ep, p, eo);
    ciphers.push(pc);
  }
  const fallbackScsv = await probeFallbackScsv(ep, offered, eo);
  const legacyTop = [...offered].reverse().find((p) => p !== 'TLSv1.3');
  const secureRenegotiation = legacyTop ? (first.get(legacyTop)?.serverHello?.secureRenegotiation ?? null) : null;
  let certificate: CertificateResult | undefined;
  let certificateError: string | undefined;
  if (offered.some((p) => p !== 'SSLv3')) {
    try {
      certificate = await probeCertificate(ep, { serverName, ...(o.caFile ? { caFile: o.caFile } : {}), ...(o.now ? { now: o.now } : {}) });
    } catch (e) {
      if (e instanceof TlsProbeError && /CA bundle/.test(e.message)) throw e;
      certificateError = (e as Error).message;
    }
  } else certificateError = 'no TLS version Node can speak is offered (SSL 3.0 only)';
  let https: HttpsResult | undefined;
  let redirect: RedirectResult | undefined;
  if (!o.noHttp && certificate) https = await probeHttps(host, port, { serverName, timeoutMs: ep.timeoutMs! });
  const httpPort = o.httpPort === undefined ? 80 : o.httpPort;
  if (!o.noHttp && httpPort !== null) redirect = await probeRedirect(host, httpPort, { serverName, timeoutMs: ep.timeoutMs! });

  const all = ciphers.flatMap((c) => c.suites);
  const top = ciphers[ciphers.length - 1];
  const modern = modernPick(top);
  const input = { sslv2, protocols, ciphers, fallbackScsv, secureRenegotiation, ...(certificate ? { certificate } : {}), ...(https ? { https } : {}), ...(redirect ? { redirect } : {}) };
  const rating = rate(input);
  return {
    target: { host, port, ...(o.serverName ? { serverName: o.serverName } : {}), ...(redirect ? { httpPort: redirect.port } : {}) },
    sslv2,
    protocols,
    ciphers,
    forwardSecrecy: { offered: all.some((s) => s.fs), all: all.length > 0 && all.every((s) => s.fs), modernClient: !!modern?.fs },
    ...(top && modern ? { negotiated: { protocol: top.protocol, suite: modern.openssl, ...(modern.kxGroup ? { group: modern.kxGroup } : {}) } } : {}),
    fallbackScsv,
    secureRenegotiation,
    ...(certificate ? { certificate } : {}),
    ...(certificateError ? { certificateError } : {}),
    ...(https ? { https } : {}),
    ...(redirect ? { redirect } : {}),
    findings: findings(input, rating),
    rating,
    handshakes: counter.handshakes,
  };
}
