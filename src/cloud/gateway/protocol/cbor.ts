// Minimal CBOR (RFC 8949) for the smithy-rpc-v2-cbor protocol: decode request bodies into plain
// values, encode error bodies. Supports what Smithy emits: integers (incl. 64-bit, as number when
// safe, else bigint), byte strings (Uint8Array), text strings, arrays, maps, tag 1 (epoch
// timestamps -> Date), other tags (value kept), half/single/double floats, true/false/null/undefined,
// and indefinite-length strings/arrays/maps.

export class CborError extends Error {}

const BREAK = Symbol('break');

export function decodeCbor(data: Uint8Array): unknown {
  if (data.length === 0) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let pos = 0;
  const utf8 = new TextDecoder('utf-8', { fatal: false });

  const need = (n: number): void => {
    if (pos + n > data.length) throw new CborError('truncated CBOR data');
  };

  const readArg = (info: number): number | bigint => {
    if (info < 24) return info;
    switch (info) {
      case 24: need(1); return view.getUint8(pos++);
      case 25: { need(2); const v = view.getUint16(pos); pos += 2; return v; }
      case 26: { need(4); const v = view.getUint32(pos); pos += 4; return v; }
      case 27: {
        need(8);
        const v = view.getBigUint64(pos);
        pos += 8;
        return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
      }
      default: throw new CborError(`invalid additional info ${info}`);
    }
  };

  const len = (info: number): number => {
    const n = readArg(info);
    if (typeof n === 'bigint' || n > data.length) throw new CborError('CBOR length too large');
    return n;
  };

  const item = (): unknown => {
    need(1);
    const ib = view.getUint8(pos++);
    const major = ib >> 5;
    const info = ib & 0x1f;
    switch (major) {
      case 0: return readArg(info);
      case 1: {
        const n = readArg(info);
        return typeof n === 'bigint' ? -1n - n : -1 - n;
      }
      case 2:
      case 3: {
        let bytes: Uint8Array;
        if (info === 31) {
          const parts: Uint8Array[] = [];
          for (;;) {
            const p = item();
            if (p === BREAK) break;
            parts.push(typeof p === 'string' ? new TextEncoder().encode(p) : (p as Uint8Array));
          }
          bytes = concat(parts);
        } else {
          const n = len(info);
          need(n);
          bytes = data.subarray(pos, pos + n);
          pos += n;
        }
        return major === 3 ? utf8.decode(bytes) : Uint8Array.from(bytes);
      }
      case 4: {
        const arr: unknown[] = [];
        if (info === 31) {
          for (;;) {
            const v = item();
            if (v === BREAK) break;
            arr.push(v);
          }
        } else {
          const n = len(info);
          for (let i = 0; i < n; i++) arr.push(item());
        }
        return arr;
      }
      case 5: {
        const obj: Record<string, unknown> = {};
        const put = (k: unknown, v: unknown): void => {
          obj[typeof k === 'string' ? k : String(k)] = v;
        };
        if (info === 31) {
          for (;;) {
            const k = item();
            if (k === BREAK) break;
            put(k, item());
          }
        } else {
          const n = len(info);
          for (let i = 0; i < n; i++) put(item(), item());
        }
        return obj;
      }
      case 6: {
        const tag = readArg(info);
        const v = item();
        if (tag === 1 && typeof v === 'number') return new Date(Math.round(v * 1000));
        return v;
      }
      default: {
        // major 7: simple values and floats
        switch (info) {
          case 20: return false;
          case 21: return true;
          case 22: return null;
          case 23: return undefined;
          case 25: { need(2); const v = halfToFloat(view.getUint16(pos)); pos += 2; return v; }
          case 26: { need(4); const v = view.getFloat32(pos); pos += 4; return v; }
          case 27: { need(8); const v = view.getFloat64(pos); pos += 8; return v; }
          case 31: return BREAK;
          default:
            if (info < 20) return info;
            if (info === 24) { need(1); return view.getUint8(pos++); }
            throw new CborError(`invalid simple value ${info}`);
        }
      }
    }
  };

  const v = item();
  if (v === BREAK) throw new CborError('unexpected break');
  return v;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Encode strings, numbers, booleans, null, arrays, Uint8Array, Date and plain objects. */
export function encodeCbor(value: unknown): Buffer {
  const out: number[] = [];
  const head = (major: number, n: number): void => {
    if (n < 24) out.push((major << 5) | n);
    else if (n < 0x100) out.push((major << 5) | 24, n);
    else if (n < 0x10000) out.push((major << 5) | 25, n >> 8, n & 0xff);
    else if (n < 0x100000000) out.push((major << 5) | 26, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
    else {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(BigInt(n));
      out.push((major << 5) | 27, ...b);
    }
  };
  const enc = (v: unknown): void => {
    if (v === null) out.push(0xf6);
    else if (v === undefined) out.push(0xf7);
    else if (v === true) out.push(0xf5);
    else if (v === false) out.push(0xf4);
    else if (typeof v === 'number') {
      if (Number.isSafeInteger(v)) {
        if (v >= 0) head(0, v);
        else head(1, -1 - v);
      } else {
        const b = Buffer.alloc(8);
        b.writeDoubleBE(v);
        out.push(0xfb, ...b);
      }
    } else if (typeof v === 'string') {
      const b = Buffer.from(v, 'utf8');
      head(3, b.length);
      out.push(...b);
    } else if (v instanceof Uint8Array) {
      head(2, v.length);
      out.push(...v);
    } else if (v instanceof Date) {
      out.push(0xc1);
      enc(v.getTime() / 1000);
    } else if (Array.isArray(v)) {
      head(4, v.length);
      v.forEach(enc);
    } else if (typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
      head(5, entries.length);
      for (const [k, x] of entries) {
        enc(k);
        enc(x);
      }
    } else {
      throw new CborError(`cannot encode ${typeof v}`);
    }
  };
  enc(value);
  return Buffer.from(out);
}
