// Address arithmetic for the data plane: IPv4 as unsigned 32-bit numbers (the hot path), IPv6 as
// bigints. Strict parsing: no leading zeros in IPv4 octets (ipaddr.js would read `010` as octal).

export type Family = 4 | 6;

/** A parsed address: IPv4 in `v4` (unsigned), IPv6 in `v6`. */
export interface Addr {
  family: Family;
  v4: number;
  v6: bigint;
}

/** A parsed CIDR block. */
export interface Cidr {
  family: Family;
  /** Network and mask (IPv4, unsigned 32-bit). */
  net4: number;
  mask4: number;
  /** Network and mask (IPv6). */
  net6: bigint;
  mask6: bigint;
  prefix: number;
  text: string;
}

/** IPv4 text to an unsigned 32-bit number, or -1 when the text is not a dotted-quad IPv4 address. */
export function ipv4ToInt(s: string): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  const n = s.length;
  if (n < 7 || n > 15) return -1;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
      if (dots > 3) return -1;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return -1; // leading zero
      octet = octet * 10 + (c - 48);
      digits++;
      if (octet > 255) return -1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

export function intToIpv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** IPv6 text to a bigint, or undefined. Accepts `::` compression and an embedded IPv4 tail. */
export function ipv6ToBigInt(text: string): bigint | undefined {
  let s = text;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (!s.includes(':')) return undefined;
  const lastColon = s.lastIndexOf(':');
  const maybeV4 = s.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    // Embedded IPv4 tail (::ffff:192.0.2.1): rewrite it as two hex groups.
    const v4 = ipv4ToInt(maybeV4);
    if (v4 < 0) return undefined;
    s = `${s.slice(0, lastColon + 1)}${((v4 >>> 16) & 0xffff).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const parts = s.split('::');
  if (parts.length > 2) return undefined;
  const parse = (p: string): number[] | undefined => {
    if (p === '') return [];
    const out: number[] = [];
    for (const g of p.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parse(parts[0]!);
  const rest = parts.length === 2 ? parse(parts[1]!) : [];
  if (!head || !rest) return undefined;
  let groups: number[];
  if (parts.length === 2) {
    const fill = 8 - head.length - rest.length;
    if (fill < 1) return undefined;
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  } else {
    if (head.length !== 8) return undefined;
    groups = head;
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  return v;
}

/** Parses an address; undefined when it is neither IPv4 nor IPv6. */
export function parseAddr(s: string): Addr | undefined {
  const v4 = ipv4ToInt(s);
  if (v4 >= 0) return { family: 4, v4, v6: 0n };
  const v6 = ipv6ToBigInt(s);
  if (v6 !== undefined) return { family: 6, v4: 0, v6 };
  return undefined;
}

export function familyOf(s: string): Family | undefined {
  if (ipv4ToInt(s) >= 0) return 4;
  if (ipv6ToBigInt(s) !== undefined) return 6;
  return undefined;
}

const MASK128 = (1n << 128n) - 1n;

/** Parses `a.b.c.d/n` or `x::/n`; throws on malformed text. */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  const ip = slash < 0 ? text : text.slice(0, slash);
  const a = parseAddr(ip);
  if (!a) throw new Error(`not a CIDR block: ${text}`);
  const max = a.family === 4 ? 32 : 128;
  const prefix = slash < 0 ? max : Number(text.slice(slash + 1));
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw new Error(`not a CIDR block: ${text}`);
  if (a.family === 4) {
    const mask4 = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    return { family: 4, net4: (a.v4 & mask4) >>> 0, mask4, net6: 0n, mask6: 0n, prefix, text };
  }
  const mask6 = prefix === 0 ? 0n : (MASK128 << BigInt(128 - prefix)) & MASK128;
  return { family: 6, net4: 0, mask4: 0, net6: a.v6 & mask6, mask6, prefix, text };
}

export function cidrContains(c: Cidr, a: Addr): boolean {
  if (c.family !== a.family) return false;
  if (a.family === 4) return ((a.v4 & c.mask4) >>> 0) === c.net4;
  return (a.v6 & c.mask6) === c.net6;
}

export function inCidr(cidr: string, addr: string): boolean {
  const a = parseAddr(addr);
  return a ? cidrContains(parseCidr(cidr), a) : false;
}
