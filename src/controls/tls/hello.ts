// A minimal TLS client: builds a ClientHello for any version from SSL 3.0 to TLS 1.3 (RFC 6101, 2246,
// 4346, 5246, 8446) and parses what the server answers up to ServerHelloDone (or, for TLS 1.3, the
// ServerHello: everything after it is encrypted). No keys are ever derived: the prober only needs to
// know what the server picks. Pure functions on buffers; the socket side is in handshake.ts.
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { PROTOCOL_VERSIONS, type Protocol } from './suites.ts';

export const CONTENT = { changeCipherSpec: 20, alert: 21, handshake: 22, applicationData: 23 } as const;
export const HS = { clientHello: 1, serverHello: 2, certificate: 11, serverKeyExchange: 12, certificateRequest: 13, serverHelloDone: 14, certificateStatus: 22 } as const;
export const EXT = {
  serverName: 0x0000,
  statusRequest: 0x0005,
  supportedGroups: 0x000a,
  ecPointFormats: 0x000b,
  signatureAlgorithms: 0x000d,
  extendedMasterSecret: 0x0017,
  sessionTicket: 0x0023,
  supportedVersions: 0x002b,
  pskKeyExchangeModes: 0x002d,
  keyShare: 0x0033,
  renegotiationInfo: 0xff01,
} as const;

/** TLS_FALLBACK_SCSV (RFC 7507) and TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746). */
export const FALLBACK_SCSV = 0x5600;
export const RENEGOTIATION_SCSV = 0x00ff;

/** Named groups (RFC 8446 §4.2.7, RFC 7919) with their strength in RSA-equivalent bits (NIST SP 800-57). */
export const GROUPS: Record<number, { name: string; bits: number; rsaEquivalent: number }> = {
  0x0017: { name: 'secp256r1', bits: 256, rsaEquivalent: 3072 },
  0x0018: { name: 'secp384r1', bits: 384, rsaEquivalent: 7680 },
  0x0019: { name: 'secp521r1', bits: 521, rsaEquivalent: 15360 },
  0x001d: { name: 'x25519', bits: 253, rsaEquivalent: 3072 },
  0x001e: { name: 'x448', bits: 448, rsaEquivalent: 7680 },
  0x0100: { name: 'ffdhe2048', bits: 2048, rsaEquivalent: 2048 },
  0x0101: { name: 'ffdhe3072', bits: 3072, rsaEquivalent: 3072 },
  0x0102: { name: 'ffdhe4096', bits: 4096, rsaEquivalent: 4096 },
  0x0103: { name: 'ffdhe6144', bits: 6144, rsaEquivalent: 6144 },
  0x0104: { name: 'ffdhe8192', bits: 8192, rsaEquivalent: 8192 },
};
const OFFERED_GROUPS = [0x001d, 0x0017, 0x0018, 0x0019, 0x001e, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104];
/** Every signature scheme of RFC 8446 plus the SHA-1 and SHA-224 ones of RFC 5246, so no server refuses for lack of one. */
const SIGNATURE_SCHEMES = [
  0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b,
  0x0401, 0x0501, 0x0601, 0x0303, 0x0301, 0x0302, 0x0203, 0x0201, 0x0202, 0x0402, 0x0502, 0x0602,
];

export const ALERTS: Record<number, string> = {
  0: 'close_notify', 10: 'unexpected_message', 20: 'bad_record_mac', 40: 'handshake_failure', 42: 'bad_certificate',
  47: 'illegal_parameter', 50: 'decode_error', 51: 'decrypt_error', 70: 'protocol_version', 71: 'insufficient_security',
  80: 'internal_error', 86: 'inappropriate_fallback', 90: 'user_canceled', 109: 'missing_extension', 110: 'unsupported_extension',
  112: 'unrecognized_name', 120: 'no_application_protocol',
};

/** SHA-256("HelloRetryRequest"): the random of a HelloRetryRequest (RFC 8446 §4.1.3). */
export const HRR_RANDOM = createHash('sha256').update('HelloRetryRequest').digest();

export interface ClientHelloOptions {
  protocol: Protocol;
  /** Cipher suite code points in the order offered. */
  suites: readonly number[];
  /** SNI host name (ignored when it is an IP address, as RFC 6066 says). */
  serverName?: string;
  /** Add TLS_FALLBACK_SCSV (RFC 7507). */
  fallbackScsv?: boolean;
  /** Ask for a stapled OCSP response (status_request). */
  statusRequest?: boolean;
  /** 32 bytes; default random (tests pass a fixed one). */
  random?: Buffer;
  /** TLS 1.3 key share for x25519 (32 bytes); default a fresh key pair's public key. */
  x25519PublicKey?: Buffer;
}

function u8(n: number): Buffer {
  return Buffer.from([n & 0xff]);
}
function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
function u24(n: number): Buffer {
  return Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}
/** A vector with a length prefix of 1, 2 or 3 bytes. */
function vec(lenBytes: 1 | 2 | 3, body: Buffer): Buffer {
  const len = lenBytes === 1 ? u8(body.length) : lenBytes === 2 ? u16(body.length) : u24(body.length);
  return Buffer.concat([len, body]);
}
function ext(type: number, body: Buffer): Buffer {
  return Buffer.concat([u16(type), vec(2, body)]);
}
function list16(values: readonly number[]): Buffer {
  return Buffer.concat(values.map(u16));
}

export function x25519PublicKey(): Buffer {
  const { publicKey } = generateKeyPairSync('x25519');
  // The raw key is the last 32 bytes of the SPKI DER.
  return publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
}

/** The ClientHello handshake message (type, length, body), without the record header. */
export function buildClientHelloMessage(o: ClientHelloOptions): Buffer {
  const version = PROTOCOL_VERSIONS[o.protocol];
  const tls13 = o.protocol === 'TLSv1.3';
  const random = o.random ?? randomBytes(32);
  const sessionId = tls13 ? createHash('sha256').update(random).digest() : Buffer.alloc(0);
  const suites = [...o.suites];
  if (o.protocol === 'SSLv3') suites.push(RENEGOTIATION_SCSV);
  if (o.fallbackScsv) suites.push(FALLBACK_SCSV);
  const exts: Buffer[] = [];
  if (o.protocol !== 'SSLv3') {
    if (o.serverName && !isIP(o.serverName)) {
      const name = Buffer.from(o.serverName, 'ascii');
      exts.push(ext(EXT.serverName, vec(2, Buffer.concat([u8(0), vec(2, name)]))));
    }
    if (o.statusRequest) exts.push(ext(EXT.statusRequest, Buffer.from([1, 0, 0, 0, 0])));
    exts.push(ext(EXT.supportedGroups, vec(2, list16(OFFERED_GROUPS))));
    exts.push(ext(EXT.ecPointFormats, vec(1, Buffer.from([0]))));
    if (o.protocol === 'TLSv1.2' || tls13) exts.push(ext(EXT.signatureAlgorithms, vec(2, list16(SIGNATURE_SCHEMES))));
    exts.push(ext(EXT.sessionTicket, Buffer.alloc(0)));
    exts.push(ext(EXT.extendedMasterSecret, Buffer.alloc(0)));
    exts.push(ext(EXT.renegotiationInfo, Buffer.from([0])));
    if (tls13) {
      exts.push(ext(EXT.supportedVersions, vec(1, u16(0x0304))));
      exts.push(ext(EXT.pskKeyExchangeModes, vec(1, Buffer.from([1]))));
      const key = o.x25519PublicKey ?? x25519PublicKey();
      exts.push(ext(EXT.keyShare, vec(2, Buffer.concat([u16(0x001d), vec(2, key)]))));
    }
  }
  const body = Buffer.concat([
    u16(tls13 ? 0x0303 : version),
    random,
    vec(1, sessionId),
    vec(2, list16(suites)),
    vec(1, Buffer.from([0])), // compression: null only
    ...(exts.length ? [vec(2, Buffer.concat(exts))] : []),
  ]);
  return Buffer.concat([u8(HS.clientHello), u24(body.length), body]);
}

/** The ClientHello in one record (record version 0x0300 for SSL 3.0, else 0x0301 as browsers send). */
export function buildClientHello(o: ClientHelloOptions): Buffer {
  const msg = buildClientHelloMessage(o);
  return Buffer.concat([u8(CONTENT.handshake), u16(o.protocol === 'SSLv3' ? 0x0300 : 0x0301), vec(2, msg)]);
}

// ---------------------------------------------------------------------------------------------------
// Parsing the server's flight

export interface ServerHello {
  /** The negotiated version (supported_versions for TLS 1.3, else the legacy field). */
  version: number;
  legacyVersion: number;
  cipherSuite: number;
  compression: number;
  sessionIdLength: number;
  /** Extension types in the order the server sent them. */
  extensions: number[];
  helloRetryRequest: boolean;
  /** The renegotiation_info extension was present (secure renegotiation, RFC 5746). */
  secureRenegotiation: boolean;
  /** For TLS 1.3: the key share group the server chose (or asked for in a HelloRetryRequest). */
  keyShareGroup?: number;
}

export interface KeyExchangeParams {
  kind: 'ECDH' | 'DH';
  /** Named group id for ECDH. */
  group?: number;
  /** A name like "secp256r1" or "DH 2048". */
  name: string;
  /** Size of the group in bits (curve size or DH prime size). */
  bits: number;
}

export interface ServerFlight {
  serverHello?: ServerHello;
  /** DER certificates of the Certificate message (TLS ≤ 1.2 only: TLS 1.3 encrypts it). */
  certificates: Buffer[];
  /** Raw ServerKeyExchange body (TLS ≤ 1.2, DHE and ECDHE suites). */
  serverKeyExchange?: Buffer;
  /** The server sent a CertificateStatus message (a stapled OCSP response). */
  certificateStatus?: Buffer;
  serverHelloDone: boolean;
  alert?: { level: number; description: number; name: string };
  /** Bytes that are not TLS (an HTTP server, an SSH banner…), hex of the first bytes. */
  notTls?: string;
}

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  get left(): number {
    return this.buf.length - this.pos;
  }
  need(n: number): void {
    if (this.left < n) throw new RangeError(`truncated: need ${n} bytes at ${this.pos}, have ${this.left}`);
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u24(): number {
    this.need(3);
    const v = (this.buf[this.pos]! << 16) | (this.buf[this.pos + 1]! << 8) | this.buf[this.pos + 2]!;
    this.pos += 3;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
}

export function parseServerHello(body: Buffer): ServerHello {
  const r = new Reader(body);
  const legacyVersion = r.u16();
  const random = r.bytes(32);
  const sessionIdLength = r.u8();
  r.bytes(sessionIdLength);
  const cipherSuite = r.u16();
  const compression = r.u8();
  const extensions: number[] = [];
  let version = legacyVersion;
  let secureRenegotiation = false;
  let keyShareGroup: number | undefined;
  if (r.left >= 2) {
    const end = r.u16() + r.pos;
    while (r.pos < end) {
      const type = r.u16();
      const data = r.bytes(r.u16());
      extensions.push(type);
      if (type === EXT.supportedVersions && data.length >= 2) version = data.readUInt16BE(0);
      if (type === EXT.renegotiationInfo) secureRenegotiation = true;
      if (type === EXT.keyShare && data.length >= 2) keyShareGroup = data.readUInt16BE(0);
    }
  }
  return { version, legacyVersion, cipherSuite, compression, sessionIdLength, extensions, helloRetryRequest: random.equals(HRR_RANDOM), secureRenegotiation, ...(keyShareGroup !== undefined ? { keyShareGroup } : {}) };
}

/** The group of a ServerKeyExchange (RFC 8422 §5.4 for ECDHE, RFC 5246 §7.4.3 for DHE). */
export function parseServerKeyExchange(body: Buffer, kind: 'ECDH' | 'DH'): KeyExchangeParams | undefined {
  try {
    const r = new Reader(body);
    if (kind === 'ECDH') {
      const curveType = r.u8();
      if (curveType !== 3) return { kind, name: `explicit curve (type ${curveType})`, bits: 0 };
      const group = r.u16();
      const g = GROUPS[group];
      return { kind, group, name: g?.name ?? `group 0x${group.toString(16).padStart(4, '0')}`, bits: g?.bits ?? 0 };
    }
    const p = r.bytes(r.u16());
    let i = 0;
    while (i < p.length && p[i] === 0) i++;
    const bits = p.length - i === 0 ? 0 : (p.length - i - 1) * 8 + (32 - Math.clz32(p[i]!));
    return { kind, name: `DH ${bits}`, bits };
  } catch {
    return undefined;
  }
}

/**
 * Parses records as they arrive. `push` returns true once the flight is complete (an alert, a
 * ServerHelloDone, a TLS 1.3 ServerHello or HelloRetryRequest, or bytes that are not TLS).
 */
export class FlightParser {
  private pending = Buffer.alloc(0);
  private hs = Buffer.alloc(0);
  readonly flight: ServerFlight = { certificates: [], serverHelloDone: false };
  done = false;

  push(data: Buffer): boolean {
    if (this.done) return true;
    this.pending = Buffer.concat([this.pending, data]);
    while (this.pending.length >= 5 && !this.done) {
      const type = this.pending[0]!;
      const major = this.pending[1]!;
      if (type < 20 || type > 23 || major !== 3) {
        this.flight.notTls = this.pending.subarray(0, 16).toString('hex');
        this.done = true;
        break;
      }
      const len = this.pending.readUInt16BE(3);
      if (len > 18432) {
        this.flight.notTls = this.pending.subarray(0, 16).toString('hex');
        this.done = true;
        break;
      }
      if (this.pending.length < 5 + len) break;
      const fragment = this.pending.subarray(5, 5 + len);
      this.pending = this.pending.subarray(5 + len);
      if (type === CONTENT.alert) {
        if (fragment.length >= 2) this.flight.alert = { level: fragment[0]!, description: fragment[1]!, name: ALERTS[fragment[1]!] ?? `alert ${fragment[1]}` };
        this.done = true;
      } else if (type === CONTENT.handshake) {
        this.hs = Buffer.concat([this.hs, fragment]);
        this.drainHandshake();
      } else {
        // change_cipher_spec or encrypted records: TLS 1.3 after the ServerHello
        if (this.flight.serverHello) this.done = true;
      }
    }
    return this.done;
  }

  private drainHandshake(): void {
    while (this.hs.length >= 4 && !this.done) {
      const type = this.hs[0]!;
      const len = (this.hs[1]! << 16) | (this.hs[2]! << 8) | this.hs[3]!;
      if (this.hs.length < 4 + len) return;
      const body = this.hs.subarray(4, 4 + len);
      this.hs = this.hs.subarray(4 + len);
      if (type === HS.serverHello) {
        this.flight.serverHello = parseServerHello(body);
        const sh = this.flight.serverHello;
        if (sh.version === 0x0304 || sh.helloRetryRequest) this.done = true;
      } else if (type === HS.certificate) {
        const r = new Reader(body);
        const end = r.u24() + r.pos;
        while (r.pos < end) this.flight.certificates.push(Buffer.from(r.bytes(r.u24())));
      } else if (type === HS.serverKeyExchange) {
        this.flight.serverKeyExchange = Buffer.from(body);
      } else if (type === HS.certificateStatus) {
        this.flight.certificateStatus = Buffer.from(body);
      } else if (type === HS.serverHelloDone) {
        this.flight.serverHelloDone = true;
        this.done = true;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// SSL 2.0 (its own record and message format): a CLIENT-HELLO with every SSL 2.0 cipher spec, and the
// SERVER-HELLO that a server speaking SSL 2.0 answers with (the cipher specs both support).

export const SSLV2_CIPHERS: Record<number, string> = {
  0x010080: 'RC4-MD5', 0x020080: 'EXP-RC4-MD5', 0x030080: 'RC2-CBC-MD5', 0x040080: 'EXP-RC2-CBC-MD5',
  0x050080: 'IDEA-CBC-MD5', 0x060040: 'DES-CBC-MD5', 0x0700c0: 'DES-CBC3-MD5',
};

export function buildSslv2ClientHello(challenge: Buffer = randomBytes(16)): Buffer {
  const specs = Buffer.concat(Object.keys(SSLV2_CIPHERS).map((k) => Buffer.from([(Number(k) >> 16) & 0xff, (Number(k) >> 8) & 0xff, Number(k) & 0xff])));
  const body = Buffer.concat([Buffer.from([1, 0x00, 0x02]), u16(specs.length), u16(0), u16(challenge.length), specs, challenge]);
  return Buffer.concat([Buffer.from([0x80 | (body.length >> 8), body.length & 0xff]), body]);
}

export interface Sslv2Answer {
  /** The server answered with an SSL 2.0 SERVER-HELLO. */
  serverHello: boolean;
  /** Cipher spec names the SERVER-HELLO lists. */
  ciphers: string[];
  /** Complete: a SERVER-HELLO, or something else that settles it (a TLS alert, other bytes). */
  complete: boolean;
  other?: string;
}

/** Reads an SSL 2.0 answer from the bytes received so far. */
export function parseSslv2Answer(buf: Buffer): Sslv2Answer {
  if (buf.length < 3) return { serverHello: false, ciphers: [], complete: false };
  if (!(buf[0]! & 0x80)) return { serverHello: false, ciphers: [], complete: true, other: buf[0] === CONTENT.alert ? 'alert' : buf.subarray(0, 8).toString('hex') };
  const len = ((buf[0]! & 0x7f) << 8) | buf[1]!;
  if (buf.length < 2 + len) return { serverHello: false, ciphers: [], complete: false };
  const m = buf.subarray(2, 2 + len);
  if (m[0] !== 4 || m.length < 11) return { serverHello: false, ciphers: [], complete: true, other: `SSL 2.0 message ${m[0]}` };
  const certLen = m.readUInt16BE(5);
  const specsLen = m.readUInt16BE(7);
  const specs = m.subarray(11 + certLen, 11 + certLen + specsLen);
  const ciphers: string[] = [];
  for (let i = 0; i + 3 <= specs.length; i += 3) {
    const id = (specs[i]! << 16) | (specs[i + 1]! << 8) | specs[i + 2]!;
    ciphers.push(SSLV2_CIPHERS[id] ?? `0x${id.toString(16).padStart(6, '0')}`);
  }
  return { serverHello: true, ciphers, complete: true };
}
