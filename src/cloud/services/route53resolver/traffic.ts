// Instances' DNS lookups for scenarios and tests, seeded: a company's ordinary lookups (AWS endpoints,
// its buckets and domains, update mirrors, peers, an antivirus agent's hash lookups, search-list
// NXDOMAINs), a DNS tunnel carrying data in its labels, a malware beacon asking its C2 name, and a
// domain generation algorithm walking its list. Feed them to `route53resolver.lookups`.
import type { DnsQuery } from './index.ts';

/** What the generators need of a seeded generator (src/engine/random.ts `Random` fits). */
export interface Rng {
  next(): number;
  int(lo: number, hi: number): number;
}

const HOUR = 3600_000;
const B32 = 'abcdefghijklmnopqrstuvwxyz234567';
const HEX = '0123456789abcdef';
const CONSONANTS = 'bcdfghjklmnpqrstvwxz';

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(0, xs.length - 1)]!;
const token = (rng: Rng, alphabet: string, n: number): string => Array.from({ length: n }, () => alphabet[rng.int(0, alphabet.length - 1)]).join('');

export interface OrdinaryOptions {
  account: string;
  region: string;
  start: number;
  durationMs?: number;
  /** The company's own names (default: a small set under northwind-analytics.com and northwind.internal). */
  companyNames?: string[];
  /** Mean seconds between two cache misses of one instance (default 55: 20 to 90 s). */
  minGapMs?: number;
  maxGapMs?: number;
}

/** A company's ordinary lookups from its instances, sorted by time. */
export function ordinaryLookups(rng: Rng, hosts: Array<{ ip: string }>, o: OrdinaryOptions): DnsQuery[] {
  const { account, region } = o;
  const company = o.companyNames ?? ['api.northwind-analytics.com', 'www.northwind-analytics.com', 'auth.northwind-analytics.com', 'db-1.northwind.internal', 'app-2.northwind.internal'];
  const names = [
    `sts.${region}.amazonaws.com`, `ssm.${region}.amazonaws.com`, `ec2messages.${region}.amazonaws.com`, `ssmmessages.${region}.amazonaws.com`,
    `logs.${region}.amazonaws.com`, `monitoring.${region}.amazonaws.com`, `s3.${region}.amazonaws.com`, `dynamodb.${region}.amazonaws.com`,
    `kms.${region}.amazonaws.com`, `secretsmanager.${region}.amazonaws.com`, `${account}.dkr.ecr.${region}.amazonaws.com`, `api.ecr.${region}.amazonaws.com`,
    `northwind-data-7f3a9c21e4.s3.${region}.amazonaws.com`, `northwind-artifacts-${account}.s3.${region}.amazonaws.com`,
    `internal-northwind-app-alb-1234567890.${region}.elb.amazonaws.com`, `vpce-0a1b2c3d4e5f67890-abcdefgh.s3.${region}.vpce.amazonaws.com`,
    ...company,
    'deb.debian.org', 'security.debian.org', 'cdn.amazonlinux.com', `al2023-repos-${region}-de612dc2.s3.dualstack.${region}.amazonaws.com`,
    'archive.ubuntu.com', 'files.pythonhosted.org', 'pypi.org', 'registry.npmjs.org', 'github.com', 'objects.githubusercontent.com',
    'registry-1.docker.io', 'production.cloudflare.docker.com', 'd1o2okarmddd8n.cloudfront.net', 'time.aws.com', 'ntp.ubuntu.com',
    'sentry.io', 'o450123.ingest.sentry.io', 'api.stripe.com', 'hooks.slack.com',
  ];
  const end = o.start + (o.durationMs ?? 24 * HOUR);
  const qs: DnsQuery[] = [];
  for (const h of hosts) {
    for (let t = o.start + rng.int(0, 30_000); t < end; t += rng.int(o.minGapMs ?? 20_000, o.maxGapMs ?? 90_000)) {
      const roll = rng.next();
      if (roll < 0.02) {
        // an antivirus agent's file-reputation lookups: a hash per file, distinct names that look encoded
        qs.push({ srcaddr: h.ip, qname: `${token(rng, HEX, 32)}.sxl.sophosxl-example.net`, at: t, answers: ['127.0.0.1'] });
      } else if (roll < 0.08) {
        // peers in the VPC by their EC2 host names, and the customers' buckets (distinct names)
        qs.push(rng.next() < 0.5
          ? { srcaddr: h.ip, qname: `ip-10-0-${rng.int(0, 3)}-${rng.int(4, 250)}.ec2.internal`, at: t }
          : { srcaddr: h.ip, qname: `northwind-cust-${token(rng, HEX, 10)}.s3.${region}.amazonaws.com`, at: t });
      } else if (roll < 0.11) {
        // resolv.conf search-list expansions that do not exist
        qs.push({ srcaddr: h.ip, qname: `${pick(rng, ['db-1', 'app-2', 'cache', 'metrics'])}.northwind.internal.ec2.internal`, rcode: 'NXDOMAIN', at: t });
      } else if (roll < 0.14) {
        qs.push({ srcaddr: h.ip, qname: pick(rng, names), qtype: 'AAAA', at: t });
      } else {
        qs.push({ srcaddr: h.ip, qname: pick(rng, names), at: t, answers: [`10.0.${rng.int(0, 255)}.${rng.int(1, 254)}`] });
      }
    }
  }
  return qs.sort((a, b) => a.at - b.at);
}

/**
 * A DNS tunnel sending data out: each query carries a chunk in its labels (base32 as iodine and
 * dnscat2 do, or hex), a sequence number, under the attacker's domain; TXT queries (the answer carries
 * the server's reply).
 */
export function tunnelLookups(rng: Rng, srcaddr: string, domain: string, o: { start: number; count: number; spacingMs?: number; encoding?: 'base32' | 'hex' }): DnsQuery[] {
  const chunk = () => (o.encoding === 'hex' ? `${token(rng, HEX, 60)}` : `${token(rng, B32, 52)}.${token(rng, B32, 20)}`);
  return Array.from({ length: o.count }, (_, i) => ({
    srcaddr, qname: `${chunk()}.${i.toString(16)}.${domain}`, qtype: 'TXT', at: o.start + i * (o.spacingMs ?? 1000), answers: [`"ack-${i}"`],
  }));
}

/** A beacon asking its command-and-control name every `periodMs` (± jitter) for `durationMs`. */
export function beaconLookups(rng: Rng, srcaddr: string, name: string, o: { start: number; durationMs: number; periodMs: number; jitterMs?: number; answer?: string }): DnsQuery[] {
  const out: DnsQuery[] = [];
  for (let t = o.start; t < o.start + o.durationMs; t += o.periodMs + (o.jitterMs ? rng.int(-o.jitterMs, o.jitterMs) : 0)) {
    out.push({ srcaddr, qname: name, at: t, ...(o.answer ? { answers: [o.answer] } : {}) });
  }
  return out;
}

/** Malware walking its domain generation algorithm's list: random consonant names, all NXDOMAIN but `found` (if given). */
export function dgaLookups(rng: Rng, srcaddr: string, o: { start: number; count: number; spacingMs?: number; tlds?: string[]; found?: { answer: string } }): DnsQuery[] {
  const tlds = o.tlds ?? ['com', 'net', 'info', 'biz'];
  return Array.from({ length: o.count }, (_, i) => {
    const last = i === o.count - 1 && o.found;
    return {
      srcaddr, qname: `${token(rng, CONSONANTS, rng.int(10, 14))}.${pick(rng, tlds)}`, at: o.start + i * (o.spacingMs ?? 2000),
      ...(last ? { answers: [o.found!.answer] } : { rcode: 'NXDOMAIN' }),
    };
  });
}
