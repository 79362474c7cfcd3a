// The raw ClientHello builder and the ServerHello/alert parser, byte by byte (RFC 5246, 8446).
import { describe, expect, it } from 'vitest';
import { buildClientHello, buildClientHelloMessage, buildSslv2ClientHello, EXT, parseSslv2Answer, FALLBACK_SCSV, FlightParser, HRR_RANDOM, parseServerHello, parseServerKeyExchange, RENEGOTIATION_SCSV } from '../../src/controls/tls/hello.ts';
import { protocolName, suiteById, SUITES, suitesFor } from '../../src/controls/tls/suites.ts';

const RANDOM = Buffer.alloc(32, 0xab);
const KEY = Buffer.alloc(32, 0x11);

/** Walks a ClientHello body and returns its fields. */
function parseClientHello(msg: Buffer) {
  expect(msg[0]).toBe(1);
  const len = msg.readUIntBE(1, 3);
  expect(msg.length).toBe(4 + len);
  let p = 4;
  const version = msg.readUInt16BE(p); p += 2;
  const random = msg.subarray(p, p + 32); p += 32;
  const sidLen = msg[p]!; p += 1 + sidLen;
  const suitesLen = msg.readUInt16BE(p); p += 2;
  const suites: number[] = [];
  for (let i = 0; i < suitesLen; i += 2) suites.push(msg.readUInt16BE(p + i));
  p += suitesLen;
  const compLen = msg[p]!; const comp = [...msg.subarray(p + 1, p + 1 + compLen)]; p += 1 + compLen;
  const exts = new Map<number, Buffer>();
  if (p < msg.length) {
    const end = p + 2 + msg.readUInt16BE(p); p += 2;
    while (p < end) {
      const t = msg.readUInt16BE(p); const l = msg.readUInt16BE(p + 2);
      exts.set(t, msg.subarray(p + 4, p + 4 + l)); p += 4 + l;
    }
    expect(p).toBe(msg.length);
  }
  return { version, random, sidLen, suites, comp, exts };
}

function record(type: number, body: Buffer, version = 0x0303): Buffer {
  const h = Buffer.alloc(5);
  h[0] = type; h.writeUInt16BE(version, 1); h.writeUInt16BE(body.length, 3);
  return Buffer.concat([h, body]);
}
function handshake(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type, (body.length >> 16) & 0xff, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
}
function serverHelloBody(version: number, suite: number, exts: [number, Buffer][] = [], random = Buffer.alloc(32, 7)): Buffer {
  const e = Buffer.concat(exts.map(([t, d]) => Buffer.concat([Buffer.from([t >> 8, t & 0xff, d.length >> 8, d.length & 0xff]), d])));
  return Buffer.concat([Buffer.from([version >> 8, version & 0xff]), random, Buffer.from([0, suite >> 8, suite & 0xff, 0]), exts.length ? Buffer.from([e.length >> 8, e.length & 0xff]) : Buffer.alloc(0), exts.length ? e : Buffer.alloc(0)]);
}

describe('ClientHello builder', () => {
  it('TLS 1.2: legacy version 0x0303, the suites in order, SNI, groups, signature algorithms, renegotiation_info', () => {
    const msg = buildClientHelloMessage({ protocol: 'TLSv1.2', suites: [0xc02f, 0x009c], serverName: 'www.example.org', random: RANDOM });
    const h = parseClientHello(msg);
    expect(h.version).toBe(0x0303);
    expect(h.random.equals(RANDOM)).toBe(true);
    expect(h.suites).toEqual([0xc02f, 0x009c]);
    expect(h.comp).toEqual([0]);
    const sni = h.exts.get(EXT.serverName)!;
    // server_name_list length, type host_name (0), name length, name
    expect(sni.readUInt16BE(0)).toBe(sni.length - 2);
    expect(sni[2]).toBe(0);
    expect(sni.subarray(5).toString()).toBe('www.example.org');
    expect(h.exts.has(EXT.supportedGroups)).toBe(true);
    expect(h.exts.has(EXT.signatureAlgorithms)).toBe(true);
    expect([...h.exts.get(EXT.renegotiationInfo)!]).toEqual([0]);
    expect(h.exts.has(EXT.supportedVersions)).toBe(false);
  });

  it('no SNI for an IP address (RFC 6066 §3)', () => {
    const h = parseClientHello(buildClientHelloMessage({ protocol: 'TLSv1.2', suites: [0xc02f], serverName: '127.0.0.1', random: RANDOM }));
    expect(h.exts.has(EXT.serverName)).toBe(false);
  });

  it('TLS 1.0 and 1.1: their version, no signature_algorithms (TLS 1.2 only)', () => {
    for (const [p, v] of [['TLSv1', 0x0301], ['TLSv1.1', 0x0302]] as const) {
      const h = parseClientHello(buildClientHelloMessage({ protocol: p, suites: [0x002f], random: RANDOM }));
      expect(h.version).toBe(v);
      expect(h.exts.has(EXT.signatureAlgorithms)).toBe(false);
    }
  });

  it('SSL 3.0: version 0x0300 in the hello and the record, no extensions, the renegotiation SCSV instead', () => {
    const rec = buildClientHello({ protocol: 'SSLv3', suites: [0x002f, 0x000a], random: RANDOM });
    expect(rec[0]).toBe(22);
    expect(rec.readUInt16BE(1)).toBe(0x0300);
    expect(rec.readUInt16BE(3)).toBe(rec.length - 5);
    const h = parseClientHello(rec.subarray(5));
    expect(h.version).toBe(0x0300);
    expect(h.suites).toEqual([0x002f, 0x000a, RENEGOTIATION_SCSV]);
    expect(h.exts.size).toBe(0);
  });

  it('TLS 1.3: legacy version 0x0303, supported_versions [0x0304], an x25519 key share, a 32-byte session id', () => {
    const h = parseClientHello(buildClientHelloMessage({ protocol: 'TLSv1.3', suites: [0x1301], random: RANDOM, x25519PublicKey: KEY }));
    expect(h.version).toBe(0x0303);
    expect(h.sidLen).toBe(32);
    expect([...h.exts.get(EXT.supportedVersions)!]).toEqual([2, 0x03, 0x04]);
    const ks = h.exts.get(EXT.keyShare)!;
    expect(ks.readUInt16BE(0)).toBe(ks.length - 2);
    expect(ks.readUInt16BE(2)).toBe(0x001d);
    expect(ks.readUInt16BE(4)).toBe(32);
    expect(ks.subarray(6).equals(KEY)).toBe(true);
    expect(h.exts.has(EXT.pskKeyExchangeModes)).toBe(true);
  });

  it('the fallback SCSV goes last when asked (RFC 7507)', () => {
    const h = parseClientHello(buildClientHelloMessage({ protocol: 'TLSv1.1', suites: [0x002f], fallbackScsv: true, random: RANDOM }));
    expect(h.suites).toEqual([0x002f, FALLBACK_SCSV]);
  });

  it('the same inputs build the same bytes', () => {
    const o = { protocol: 'TLSv1.3' as const, suites: [0x1301, 0x1302], serverName: 'a.example', random: RANDOM, x25519PublicKey: KEY };
    expect(buildClientHello(o).equals(buildClientHello(o))).toBe(true);
  });
});

describe('server flight parser', () => {
  it('a TLS 1.2 flight: ServerHello with renegotiation_info, Certificate, ECDHE ServerKeyExchange, ServerHelloDone', () => {
    const sh = handshake(2, serverHelloBody(0x0303, 0xc02f, [[0xff01, Buffer.from([0])]]));
    const cert = Buffer.from('3003020101', 'hex');
    const certMsg = handshake(11, Buffer.concat([Buffer.from([0, 0, cert.length + 3, 0, 0, cert.length]), cert]));
    const ske = handshake(12, Buffer.from([3, 0x00, 0x1d, 32, ...Buffer.alloc(32, 1)]));
    const done = handshake(14, Buffer.alloc(0));
    const bytes = record(22, Buffer.concat([sh, certMsg, ske, done]));
    const p = new FlightParser();
    // delivered in small pieces, as TCP may
    let finished = false;
    for (let i = 0; i < bytes.length; i += 7) finished = p.push(bytes.subarray(i, i + 7));
    expect(finished).toBe(true);
    expect(p.flight.serverHello).toMatchObject({ version: 0x0303, cipherSuite: 0xc02f, secureRenegotiation: true, helloRetryRequest: false });
    expect(p.flight.certificates).toHaveLength(1);
    expect(p.flight.certificates[0]!.equals(cert)).toBe(true);
    expect(parseServerKeyExchange(p.flight.serverKeyExchange!, 'ECDH')).toMatchObject({ name: 'x25519', bits: 253 });
    expect(p.flight.serverHelloDone).toBe(true);
  });

  it('handshake messages split across records are reassembled', () => {
    const sh = handshake(2, serverHelloBody(0x0301, 0x002f));
    const done = handshake(14, Buffer.alloc(0));
    const all = Buffer.concat([sh, done]);
    const p = new FlightParser();
    p.push(record(22, all.subarray(0, 10), 0x0301));
    expect(p.done).toBe(false);
    p.push(record(22, all.subarray(10), 0x0301));
    expect(p.done).toBe(true);
    expect(p.flight.serverHello!.cipherSuite).toBe(0x002f);
  });

  it('TLS 1.3: the version comes from supported_versions, the group from key_share; done at the ServerHello', () => {
    const ks = Buffer.from([0x00, 0x17, 0, 65, ...Buffer.alloc(65, 4)]);
    const p = new FlightParser();
    expect(p.push(record(22, handshake(2, serverHelloBody(0x0303, 0x1302, [[0x002b, Buffer.from([3, 4])], [0x0033, ks]]))))).toBe(true);
    expect(p.flight.serverHello).toMatchObject({ version: 0x0304, legacyVersion: 0x0303, cipherSuite: 0x1302, keyShareGroup: 0x0017 });
  });

  it('a HelloRetryRequest is recognised by its random', () => {
    const sh = parseServerHello(serverHelloBody(0x0303, 0x1301, [[0x002b, Buffer.from([3, 4])], [0x0033, Buffer.from([0, 0x17])]], HRR_RANDOM));
    expect(sh.helloRetryRequest).toBe(true);
    expect(sh.keyShareGroup).toBe(0x0017);
  });

  it('alerts: level, description and name', () => {
    const p = new FlightParser();
    expect(p.push(record(21, Buffer.from([2, 70])))).toBe(true);
    expect(p.flight.alert).toEqual({ level: 2, description: 70, name: 'protocol_version' });
    const q = new FlightParser();
    q.push(record(21, Buffer.from([2, 86])));
    expect(q.flight.alert!.name).toBe('inappropriate_fallback');
  });

  it('bytes that are not TLS (an HTTP server) end the flight', () => {
    const p = new FlightParser();
    expect(p.push(Buffer.from('HTTP/1.1 400 Bad Request\r\n'))).toBe(true);
    expect(p.flight.notTls).toBe(Buffer.from('HTTP/1.1 400 Ba').toString('hex') + Buffer.from('d').toString('hex'));
  });

  it('DHE ServerKeyExchange: the prime size in bits', () => {
    const prime = Buffer.concat([Buffer.from([0x00, 0x7f]), Buffer.alloc(255, 0xff)]); // a leading zero byte, then 7 + 255 * 8 bits
    const body = Buffer.concat([Buffer.from([prime.length >> 8, prime.length & 0xff]), prime, Buffer.from([0, 1, 2])]);
    expect(parseServerKeyExchange(body, 'DH')).toMatchObject({ kind: 'DH', bits: 2047, name: 'DH 2047' });
  });

  it('a truncated ServerHello throws rather than guessing', () => {
    expect(() => parseServerHello(Buffer.from([3, 3, 1, 2]))).toThrow(/truncated/);
  });
});

describe('SSL 2.0', () => {
  it('CLIENT-HELLO: 2-byte header, type 1, version 0x0002, seven 3-byte cipher specs, the challenge', () => {
    const ch = Buffer.alloc(16, 0x42);
    const b = buildSslv2ClientHello(ch);
    expect(b[0]! & 0x80).toBe(0x80);
    expect(((b[0]! & 0x7f) << 8) | b[1]!).toBe(b.length - 2);
    expect([...b.subarray(2, 5)]).toEqual([1, 0, 2]);
    expect(b.readUInt16BE(5)).toBe(21);
    expect(b.readUInt16BE(7)).toBe(0);
    expect(b.readUInt16BE(9)).toBe(16);
    expect([...b.subarray(11, 14)]).toEqual([0x01, 0x00, 0x80]);
    expect(b.subarray(-16).equals(ch)).toBe(true);
  });

  it('SERVER-HELLO: the cipher specs; a TLS alert or a partial message is no SERVER-HELLO', () => {
    const m = Buffer.concat([Buffer.from([4, 0, 1, 0, 2, 0, 2, 0, 6, 0, 16]), Buffer.from([0xaa, 0xbb]), Buffer.from([0x07, 0x00, 0xc0, 0x01, 0x00, 0x80]), Buffer.alloc(16)]);
    const msg = Buffer.concat([Buffer.from([0x80 | (m.length >> 8), m.length & 0xff]), m]);
    expect(parseSslv2Answer(msg)).toEqual({ serverHello: true, ciphers: ['DES-CBC3-MD5', 'RC4-MD5'], complete: true });
    expect(parseSslv2Answer(msg.subarray(0, 10)).complete).toBe(false);
    expect(parseSslv2Answer(Buffer.from([21, 3, 1, 0, 2, 2, 40]))).toMatchObject({ serverHello: false, complete: true, other: 'alert' });
  });
});

describe('cipher suite table', () => {
  it('unique code points; properties consistent with the IANA names', () => {
    expect(new Set(SUITES.map((s) => s.id)).size).toBe(SUITES.length);
    for (const s of SUITES) {
      expect(s.hex).toBe(`0x${s.id.toString(16).padStart(4, '0')}`);
      if (/_ECDHE_|_DHE_/.test(s.iana) || s.minProtocol === 'TLSv1.3') expect(s.fs, s.iana).toBe(true);
      if (/^TLS_RSA_WITH/.test(s.iana)) expect(s.fs, s.iana).toBe(false);
      if (/_GCM_|_CCM|CHACHA20/.test(s.iana)) expect(s.aead, s.iana).toBe(true);
      if (/_CBC_/.test(s.iana)) expect(s.aead, s.iana).toBe(false);
    }
    expect(suiteById(0xc02f).openssl).toBe('ECDHE-RSA-AES128-GCM-SHA256');
    expect(suiteById(0x000a)).toMatchObject({ bits: 112, block64: true });
    expect(suiteById(0xfefe).openssl).toBe('unknown-0xfefe');
  });

  it('per-protocol lists: TLS 1.3 has its own, older versions no AEAD or SHA-2 suites', () => {
    expect(suitesFor('TLSv1.3').map((s) => s.hex)).toEqual(['0x1301', '0x1302', '0x1303', '0x1304', '0x1305']);
    expect(suitesFor('TLSv1').some((s) => s.aead || /SHA(256|384)$/.test(s.iana))).toBe(false);
    expect(suitesFor('TLSv1.2').some((s) => s.minProtocol === 'TLSv1.3')).toBe(false);
    expect(protocolName(0x0302)).toBe('TLSv1.1');
    expect(protocolName(0x7f1c)).toBe('0x7f1c');
  });
});
