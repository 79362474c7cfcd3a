// Trusted IP lists (IPSets) and threat lists (ThreatIntelSets): where they are (an S3 object, given as
// an https://... or s3:// URL) and what they hold. TXT: one IPv4/IPv6 address or CIDR range per line
// (threat lists may also hold domain names); blank lines and lines starting with # are skipped.
// Other formats (STIX, OTX_CSV, ALIEN_VAULT, PROOF_POINT, FIRE_EYE) are accepted but not read by the
// lab cloud: the set's status is ERROR and says so.
import { BlockList, isIP } from 'node:net';

export interface S3Location { bucket: string; key: string }

/** The bucket and key of a list location, in the forms GuardDuty accepts; undefined when not one of them. */
export function parseLocation(location: string): S3Location | undefined {
  let m = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  if (m) return { bucket: m[1]!, key: m[2]! };
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  const path = decodeURIComponent(url.pathname.replace(/^\//, ''));
  // path style: https://s3.amazonaws.com/bucket/key, https://s3.<region>.amazonaws.com/bucket/key, https://s3-<region>.amazonaws.com/bucket/key
  if (/^s3([.-][a-z0-9-]+)?\.amazonaws\.com$/.test(url.hostname)) {
    m = /^([^/]+)\/(.+)$/.exec(path);
    return m ? { bucket: m[1]!, key: m[2]! } : undefined;
  }
  // virtual-hosted style: https://bucket.s3.amazonaws.com/key, https://bucket.s3.<region>.amazonaws.com/key
  m = /^(.+)\.s3([.-][a-z0-9-]+)?\.amazonaws\.com$/.exec(url.hostname);
  if (m && path) return { bucket: m[1]!, key: path };
  return undefined;
}

export interface ParsedList {
  ips: BlockList;
  domains: Set<string>;
  entries: number;
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$/i;

/** Reads a TXT list; throws an Error naming the first bad line. */
export function parseTxt(text: string, opts: { domains: boolean; maxEntries: number }): ParsedList {
  const ips = new BlockList();
  const domains = new Set<string>();
  let entries = 0;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line || line.startsWith('#')) continue;
    const [addr, prefix, extra] = line.split('/');
    const family = isIP(addr!);
    if (family && extra === undefined) {
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) ips.addAddress(addr!, type);
      else {
        const bits = Number(prefix);
        if (!/^\d{1,3}$/.test(prefix) || bits > (family === 4 ? 32 : 128)) throw new Error(`line ${i + 1}: ${line} is not a valid CIDR range`);
        ips.addSubnet(addr!, bits, type);
      }
    } else if (opts.domains && DOMAIN.test(line)) {
      domains.add(line.toLowerCase().replace(/\.$/, ''));
    } else {
      throw new Error(`line ${i + 1}: ${JSON.stringify(line)} is not an IP address or CIDR range${opts.domains ? ' or domain name' : ''}`);
    }
    if (++entries > opts.maxEntries) throw new Error(`the list holds more than ${opts.maxEntries} entries (GuardDuty's limit for this kind of list)`);
  }
  return { ips, domains, entries };
}

/** Whether an address is in a parsed list. */
export function listed(list: ParsedList | undefined, ip: string): boolean {
  const family = isIP(ip);
  if (!list || !family) return false;
  return list.ips.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}
