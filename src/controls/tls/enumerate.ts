// Protocol versions and cipher suites the way testssl.sh finds them: raw ClientHellos, one version at
// a time with every suite the prober knows; then, per accepted version, the suites one by one: offer
// the list, note the suite the server picks, take it out, offer again until the server refuses. When
// the server enforces its own order, that sequence is its preference order; whether it does is found by
// offering its first two picks in reverse.
import { GROUPS, parseServerKeyExchange, type KeyExchangeParams } from './hello.ts';
import { rawHandshake, type Endpoint, type HandshakeResult } from './handshake.ts';
import { PROTOCOL_VERSIONS, PROTOCOLS, protocolName, suiteById, suitesFor, type CipherSuite, type Protocol } from './suites.ts';

export interface ProtocolResult {
  protocol: Protocol;
  offered: boolean;
  /** Why it is refused: the alert, "closed", or "server answered with TLSv1.2" (a lower version). */
  refusal?: string;
}

export interface AcceptedSuite {
  hex: string;
  iana: string;
  openssl: string;
  kx: string;
  /** Key exchange group as the server chose it for our offer (ECDHE curve, DH prime size, TLS 1.3 key share). */
  kxGroup?: string;
  /** Size of that group in bits. */
  kxBits?: number;
  /** Strength of the key exchange in RSA-equivalent bits (the certificate's RSA key for RSA key exchange is added by the caller). */
  kxRsaEquivalent?: number;
  bits: number;
  fs: boolean;
  aead: boolean;
}

export interface ProtocolCiphers {
  protocol: Protocol;
  /** true: the server picks by its own order; false: it follows the client's; null: only one suite. */
  serverOrder: boolean | null;
  /** In the server's preference order when serverOrder is true, else in the order found. */
  suites: AcceptedSuite[];
}

export interface EnumerationOptions {
  serverName?: string;
  /** Stop after this many suites per protocol (a guard against a server that accepts anything). */
  maxSuitesPerProtocol?: number;
}

function hello(ep: Endpoint, protocol: Protocol, suites: readonly number[], o: EnumerationOptions, extra: { fallbackScsv?: boolean } = {}): Promise<HandshakeResult> {
  return rawHandshake(ep, { protocol, suites, ...(o.serverName ? { serverName: o.serverName } : {}), ...extra });
}

/** The version the server answered with equals the one offered. */
export function accepted(r: HandshakeResult, protocol: Protocol): boolean {
  return !!r.serverHello && r.serverHello.version === PROTOCOL_VERSIONS[protocol];
}

export function refusalOf(r: HandshakeResult): string {
  if (r.serverHello) return `server answered with ${protocolName(r.serverHello.version)}`;
  if (r.alert) return `alert ${r.alert.name}`;
  if (r.notTls) return 'the server does not speak TLS on this port';
  return 'connection closed';
}

export async function probeProtocols(ep: Endpoint, o: EnumerationOptions = {}): Promise<{ results: ProtocolResult[]; first: Map<Protocol, HandshakeResult> }> {
  const results: ProtocolResult[] = [];
  const first = new Map<Protocol, HandshakeResult>();
  for (const protocol of PROTOCOLS) {
    const r = await hello(ep, protocol, suitesFor(protocol).map((s) => s.id), o);
    if (r.notTls) throw new Error(`${ep.host}:${ep.port} does not speak TLS (it answered ${r.notTls.slice(0, 16)}…)`);
    const ok = accepted(r, protocol);
    results.push(ok ? { protocol, offered: true } : { protocol, offered: false, refusal: refusalOf(r) });
    if (ok) first.set(protocol, r);
  }
  return { results, first };
}

function describe(suite: CipherSuite, r: HandshakeResult): AcceptedSuite {
  const a: AcceptedSuite = { hex: suite.hex, iana: suite.iana, openssl: suite.openssl, kx: suite.kx, bits: suite.bits, fs: suite.fs, aead: suite.aead };
  let params: KeyExchangeParams | undefined;
  if (r.serverHello?.version === 0x0304) {
    const g = r.serverHello.keyShareGroup !== undefined ? GROUPS[r.serverHello.keyShareGroup] : undefined;
    if (g) params = { kind: 'ECDH', name: g.name, bits: g.bits };
  } else if (r.serverKeyExchange && (suite.kx === 'ECDH' || suite.kx === 'DH' || suite.kx === 'DH-export')) {
    params = parseServerKeyExchange(r.serverKeyExchange, suite.kx === 'ECDH' ? 'ECDH' : 'DH');
  }
  if (params) {
    a.kxGroup = params.name;
    a.kxBits = params.bits;
    const g = params.group !== undefined ? GROUPS[params.group] : Object.values(GROUPS).find((x) => x.name === params!.name);
    a.kxRsaEquivalent = params.kind === 'DH' ? params.bits : (g?.rsaEquivalent ?? 0);
  }
  return a;
}

export async function enumerateCiphers(ep: Endpoint, protocol: Protocol, o: EnumerationOptions = {}): Promise<ProtocolCiphers> {
  const max = o.maxSuitesPerProtocol ?? 128;
  let remaining = suitesFor(protocol).map((s) => s.id);
  const found: { suite: CipherSuite; r: HandshakeResult }[] = [];
  while (remaining.length && found.length < max) {
    const r = await hello(ep, protocol, remaining, o);
    if (!accepted(r, protocol)) break;
    const id = r.serverHello!.cipherSuite;
    if (!remaining.includes(id)) break; // a server that picks a suite it was not offered: stop, do not loop
    found.push({ suite: suiteById(id), r });
    remaining = remaining.filter((x) => x !== id);
  }
  let serverOrder: boolean | null = null;
  if (found.length >= 2) {
    // Offer everything found, reversed: a server with its own order still picks its first; one that
    // follows the client picks our first, its last.
    const reversed = found.map((f) => f.suite.id).reverse();
    const r = await hello(ep, protocol, reversed, o);
    serverOrder = accepted(r, protocol) ? r.serverHello!.cipherSuite === found[0]!.suite.id : null;
  }
  return { protocol, serverOrder, suites: found.map((f) => describe(f.suite, f.r)) };
}

/**
 * TLS_FALLBACK_SCSV (RFC 7507): offer the second-highest version the server speaks with the SCSV; a
 * server that supports it refuses with inappropriate_fallback. With a single version, offer the one
 * below it: only an inappropriate_fallback alert says something then (a server may as well refuse the
 * version itself). null when it cannot be told.
 */
export async function probeFallbackScsv(ep: Endpoint, offered: Protocol[], o: EnumerationOptions = {}): Promise<boolean | null> {
  const legacy = offered.filter((p) => p !== 'TLSv1.3');
  let below: Protocol | undefined = offered.includes('TLSv1.3') ? legacy[legacy.length - 1] : legacy[legacy.length - 2];
  const single = !below;
  if (single) {
    const lowest = offered[0];
    const i = lowest ? PROTOCOLS.indexOf(lowest) : -1;
    below = i > 0 ? PROTOCOLS[i - 1] : undefined;
  }
  if (!below) return null;
  const r = await hello(ep, below, suitesFor(below).map((s) => s.id), o, { fallbackScsv: true });
  if (r.alert?.description === 86) return true;
  if (single) return null;
  return accepted(r, below) ? false : null;
}
