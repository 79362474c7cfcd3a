// IP addresses and CIDR blocks as event-ruler (and so EventBridge) reads them.
// An address becomes the upper-case hex string of its bytes (8 digits for IPv4, 32 for IPv6); a CIDR
// block becomes the closed range [given address, given address with the host bits set]. Note that the
// bottom is the address as written, not the network address: "10.0.0.5/24" covers 10.0.0.5-10.0.0.255,
// exactly as event-ruler's CIDR.cidr computes it (its CIDRTest expects 36F0C4AB..36F0C4FF for
// "54.240.196.171/24").
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

const IPV4_SHAPE = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;
const IPV6_SHAPE = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/;

/** An error in a CIDR value; AWS reports these without a location. */
export class CidrError extends Error {}

export interface IpRange {
  bottom: string;
  top: string;
}

function looksLikeIp(s: string): boolean {
  return IPV4_SHAPE.test(s) || IPV6_SHAPE.test(s);
}

function toHex(bytes: ArrayLike<number>): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += bytes[i]!.toString(16).toUpperCase().padStart(2, '0');
  return out;
}

/** Bytes of an IPv4 or IPv6 literal, or undefined when it is not one. */
function parseBytes(s: string): number[] | undefined {
  if (IPV4_SHAPE.test(s)) {
    // Java's InetAddress reads each part as decimal, leading zeros included (no octal).
    const parts = s.split('.').map((p) => Number.parseInt(p, 10));
    if (parts.some((p) => p > 255)) return undefined;
    return parts;
  }
  if (IPV6_SHAPE.test(s) && isIP(s) === 6) {
    try {
      return ipaddr.IPv6.parse(s).toByteArray();
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Hex form of an IP literal, or undefined when the string is not an IP address. */
export function ipToHex(s: string): string | undefined {
  if (!looksLikeIp(s)) return undefined;
  const bytes = parseBytes(s);
  return bytes ? toHex(bytes) : undefined;
}

function bytesOrFail(s: string): number[] {
  if (!looksLikeIp(s)) throw new CidrError(`Nonstandard IP address: ${s}`);
  const bytes = parseBytes(s);
  if (!bytes) throw new CidrError(`Invalid IP address: ${s}`);
  return bytes;
}

/** Parses "address/bits" with event-ruler's checks and messages. */
export function parseCidr(cidr: string): IpRange {
  const parts = cidr.split('/');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop(); // Java's split drops trailing empties
  if (parts.length !== 2) throw new CidrError("Malformed CIDR, one '/' required");
  if (!/^[+-]?[0-9]+$/.test(parts[1]!)) throw new CidrError('Malformed CIDR, mask bits must be an integer');
  const bits = Number.parseInt(parts[1]!, 10);
  if (!Number.isSafeInteger(bits) || Math.abs(bits) > 2147483647) throw new CidrError('Malformed CIDR, mask bits must be an integer');
  if (bits < 0) throw new CidrError('Malformed CIDR, mask bits must not be negative');
  const ip = bytesOrFail(parts[0]!);
  if (ip.length === 4 && bits > 31) throw new CidrError('IPv4 mask bits must be < 32');
  if (ip.length === 16 && bits > 127) throw new CidrError('IPv6 mask bits must be < 128');
  let hostBits = ip.length * 8 - bits;
  const top = ip.slice();
  for (let i = top.length - 1; i >= 0; i--) {
    if (hostBits >= 8) top[i] = 0xff;
    else if (hostBits > 0) top[i] = ip[i]! | ((1 << hostBits) - 1);
    hostBits -= 8;
  }
  return { bottom: toHex(ip), top: toHex(top) };
}

/** Whether a hex address lies in a range of the same family. */
export function inRange(hex: string, range: IpRange): boolean {
  return hex.length === range.bottom.length && hex >= range.bottom && hex <= range.top;
}
