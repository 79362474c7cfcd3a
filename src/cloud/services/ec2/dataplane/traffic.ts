// Traffic for the data plane: the lab company's normal activity and the attacks of the scenarios,
// on the lab clock, deterministic for a given seed.
//
// Normal activity (`normalTraffic`): internet users browsing the web tier over HTTPS, the web tier
// calling the app tier, the app tier querying the database, nightly-style backups to an S3
// endpoint and package updates pulled over HTTPS. Attacks: SSH brute force (many short TCP/22
// conversations from one address), a port scan (one address, many destination ports, one SYN
// each), exfiltration (large outbound volumes from an app-tier instance to a rogue host).
//
// Addresses default to documentation and benchmarking ranges (RFC 5737, RFC 2544): users from
// 198.18.0.0/15, 198.51.100.0/24 and 192.0.2.0/24, attackers from 203.0.113.0/24.
import { PROTO, type Flow, type NetworkInterface, type Topology } from './model.ts';
import { intToIpv4, parseCidr } from './net.ts';

// ---- deterministic randomness ----

/** A small seeded PRNG (mulberry32); same seed, same traffic. */
export class Rng {
  private s: number;
  constructor(seed: number | string = 1) {
    let h = 2166136261;
    const text = String(seed);
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
    this.s = h >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  /** Exponential with the given mean (Poisson arrivals). */
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
  /** Log-normal-ish size around `median`, spread by `spread` (≥ 1). */
  size(median: number, spread = 3): number {
    return Math.max(1, Math.round(median * Math.pow(spread, this.next() * 2 - 1)));
  }
}

/** Linux clients pick source ports in 32768–60999; Windows in 49152–65535. */
export const ephemeralPort = (rng: Rng, os: 'linux' | 'windows' = 'linux'): number =>
  os === 'linux' ? rng.int(32768, 60999) : rng.int(49152, 65535);

/** A random address inside a CIDR block (IPv4). */
export function addressIn(rng: Rng, cidr: string): string {
  const c = parseCidr(cidr);
  if (c.family !== 4) throw new Error(`IPv4 blocks only: ${cidr}`);
  const size = 2 ** (32 - c.prefix);
  const host = size <= 2 ? rng.int(0, size - 1) : rng.int(1, size - 2);
  return intToIpv4((c.net4 + host) >>> 0);
}

// ---- selecting interfaces ----

/** Which interfaces make up a tier: by id, subnet, security group or tags (all given criteria must hold). */
export interface TierSelector {
  interfaceIds?: string[];
  instanceIds?: string[];
  subnetIds?: string[];
  securityGroupIds?: string[];
  tags?: Record<string, string>;
}

export function selectInterfaces(topology: Topology, sel: TierSelector): NetworkInterface[] {
  return topology.interfaces.filter((i) =>
    i.active &&
    (!sel.interfaceIds || sel.interfaceIds.includes(i.id)) &&
    (!sel.instanceIds || (i.instanceId !== undefined && sel.instanceIds.includes(i.instanceId))) &&
    (!sel.subnetIds || sel.subnetIds.includes(i.subnetId)) &&
    (!sel.securityGroupIds || sel.securityGroupIds.some((g) => i.securityGroupIds.includes(g))) &&
    (!sel.tags || Object.entries(sel.tags).every(([k, v]) => i.tags?.[k] === v)),
  );
}

/** The address others use to reach an interface: its public IPv4 when `fromInternet` and it has one, else its primary private IPv4. */
export function addressOf(iface: NetworkInterface, fromInternet = false): string {
  if (fromInternet && iface.publicIps[0]) return iface.publicIps[0];
  const ip = iface.privateIps[0];
  if (!ip) throw new Error(`${iface.id} has no private IPv4 address`);
  return ip;
}

// ---- the company's normal traffic ----

export interface CompanyProfile {
  web: TierSelector;
  app?: TierSelector;
  db: TierSelector;
  webPort?: number;
  appPort?: number;
  dbPort?: number;
  /** Internet users of the web site. */
  webUsers?: { perMinute?: number; networks?: string[]; distinctUsers?: number };
  /** Share of web requests that call the app tier (default 0.8 when there is an app tier). */
  webToAppRatio?: number;
  /** Database queries per minute from the app tier (or the web tier without one). */
  dbQueriesPerMinute?: number;
  /**
   * Backups pushed from the database tier to an S3 endpoint: `bytes` each (the median), varying by a
   * factor up to `spread` either way (default 1.5; 1 = always exactly `bytes`).
   */
  backups?: { target?: string; port?: number; everyMs?: number; firstAtMs?: number; bytes?: number; spread?: number; awsService?: string } | false;
  /** Updates pulled over HTTPS by every instance. */
  updates?: { hosts?: string[]; port?: number; everyMs?: number; bytes?: number } | false;
}

export interface TimeRange {
  /** Lab-clock milliseconds; traffic starts at or after `from` and before `to`. */
  from: number;
  to: number;
  seed?: number | string;
}

export const DEFAULT_USER_NETWORKS = ['198.18.0.0/15', '198.51.100.0/24', '192.0.2.0/24'];
/** An address in S3's us-east-1 range, standing for the backup bucket's endpoint. */
export const DEFAULT_BACKUP_TARGET = '52.216.8.21';
export const DEFAULT_UPDATE_HOSTS = ['18.235.4.10', '3.233.150.30'];

function poisson(rng: Rng, range: TimeRange, perMinute: number, each: (t: number) => void): void {
  if (perMinute <= 0) return;
  const mean = 60_000 / perMinute;
  for (let t = range.from + rng.exp(mean); t < range.to; t += rng.exp(mean)) each(Math.floor(t));
}

/** The company's normal traffic over a time range, sorted by start. */
export function normalTraffic(topology: Topology, profile: CompanyProfile, range: TimeRange): Flow[] {
  const rng = new Rng(range.seed ?? 1);
  const web = selectInterfaces(topology, profile.web);
  const app = profile.app ? selectInterfaces(topology, profile.app) : [];
  const db = selectInterfaces(topology, profile.db);
  const webPort = profile.webPort ?? 443;
  const appPort = profile.appPort ?? 8080;
  const dbPort = profile.dbPort ?? 5432;
  const flows: Flow[] = [];
  const tcp = (f: Omit<Flow, 'protocol'>): void => {
    if (f.start < range.to) flows.push({ protocol: PROTO.TCP, ...f, end: Math.min(f.end, range.to - 1) });
  };

  // Internet users → web tier.
  if (web.length) {
    const users = profile.webUsers ?? {};
    const networks = users.networks ?? DEFAULT_USER_NETWORKS;
    const population = Array.from({ length: users.distinctUsers ?? 500 }, () => ({
      addr: addressIn(rng, rng.pick(networks)),
      os: rng.next() < 0.6 ? ('windows' as const) : ('linux' as const),
    }));
    const ratio = profile.webToAppRatio ?? 0.8;
    poisson(rng, range, users.perMinute ?? 120, (t) => {
      const user = rng.pick(population);
      const server = rng.pick(web);
      const dur = rng.int(150, 4000);
      const reqPackets = rng.int(6, 20);
      const respPackets = rng.int(8, 60);
      tcp({
        srcaddr: user.addr, dstaddr: addressOf(server, true), srcport: ephemeralPort(rng, user.os), dstport: webPort,
        packets: reqPackets, bytes: reqPackets * 60 + rng.size(900, 3),
        response: { packets: respPackets, bytes: respPackets * 60 + rng.size(30_000, 6) },
        start: t, end: t + dur, label: 'web',
      });
      if (app.length && rng.next() < ratio) {
        const a = rng.pick(app);
        const t2 = t + rng.int(5, 60);
        const p = rng.int(4, 12);
        tcp({
          srcaddr: addressOf(server), dstaddr: addressOf(a), srcport: ephemeralPort(rng), dstport: appPort,
          packets: p, bytes: p * 60 + rng.size(700, 3), response: { packets: p + 2, bytes: p * 60 + rng.size(12_000, 5) },
          start: t2, end: t2 + rng.int(20, Math.max(21, dur - 60)), label: 'web-app',
        });
      }
    });
  }

  // App tier (or web tier) → database.
  const dbClients = app.length ? app : web;
  if (db.length && dbClients.length) {
    poisson(rng, range, profile.dbQueriesPerMinute ?? 90, (t) => {
      const client = rng.pick(dbClients);
      const server = rng.pick(db);
      const p = rng.int(4, 16);
      tcp({
        srcaddr: addressOf(client), dstaddr: addressOf(server), srcport: ephemeralPort(rng), dstport: dbPort,
        packets: p, bytes: p * 60 + rng.size(600, 4), response: { packets: p + rng.int(0, 10), bytes: p * 60 + rng.size(8_000, 8) },
        start: t, end: t + rng.int(5, 800), label: 'app-db',
      });
    });
  }

  // Backups: database tier → S3 endpoint, large outbound volumes at a steady rhythm.
  if (profile.backups !== false && db.length) {
    const b = profile.backups ?? {};
    const every = b.everyMs ?? 60 * 60_000;
    for (let t = range.from + (b.firstAtMs ?? 10 * 60_000); t < range.to; t += every) {
      for (const server of db) {
        const bytes = rng.size(b.bytes ?? 20_000_000, b.spread ?? 1.5);
        const dur = Math.max(2000, Math.round(bytes / 25_000)); // ~25 MB/s
        const packets = Math.ceil(bytes / 1400);
        tcp({
          srcaddr: addressOf(server), dstaddr: b.target ?? DEFAULT_BACKUP_TARGET, srcport: ephemeralPort(rng), dstport: b.port ?? 443,
          packets, bytes, response: { packets: Math.ceil(packets / 2), bytes: Math.ceil(packets / 2) * 52 },
          pktDstAwsService: b.awsService ?? 'S3', start: t, end: t + dur, label: 'backup',
        });
      }
    }
  }

  // Updates: every instance pulls packages over HTTPS now and then.
  if (profile.updates !== false) {
    const u = profile.updates ?? {};
    const hosts = u.hosts ?? DEFAULT_UPDATE_HOSTS;
    const every = u.everyMs ?? 30 * 60_000;
    for (const iface of [...web, ...app, ...db]) {
      for (let t = range.from + rng.int(0, every - 1); t < range.to; t += every + rng.int(-every / 10, every / 10)) {
        const bytes = rng.size(u.bytes ?? 4_000_000, 2.5);
        const packets = Math.ceil(bytes / 1400);
        tcp({
          srcaddr: addressOf(iface), dstaddr: rng.pick(hosts), srcport: ephemeralPort(rng), dstport: u.port ?? 443,
          packets: rng.int(20, 60), bytes: rng.int(2_000, 9_000), response: { packets, bytes },
          start: t, end: t + Math.max(1000, Math.round(bytes / 5_000)), label: 'update',
        });
      }
    }
  }

  return flows.sort((a, b) => a.start - b.start);
}

// ---- attacks ----

export interface SshBruteForceOptions {
  attacker: string;
  target: string;
  start: number;
  attempts?: number;
  /** Mean time between attempts. */
  intervalMs?: number;
  port?: number;
  seed?: number | string;
}

/** Many short SSH conversations from one address: connect, a few password tries, disconnect. */
export function sshBruteForce(o: SshBruteForceOptions): Flow[] {
  const rng = new Rng(o.seed ?? `ssh:${o.attacker}`);
  const flows: Flow[] = [];
  let t = o.start;
  for (let i = 0; i < (o.attempts ?? 200); i++) {
    const p = rng.int(10, 22);
    flows.push({
      srcaddr: o.attacker, dstaddr: o.target, srcport: ephemeralPort(rng), dstport: o.port ?? 22, protocol: PROTO.TCP,
      packets: p, bytes: p * 66 + rng.int(800, 2400), response: { packets: p - rng.int(0, 3), bytes: p * 66 + rng.int(1500, 3500) },
      start: Math.floor(t), end: Math.floor(t) + rng.int(800, 3500), label: 'attack:ssh-brute-force',
    });
    t += rng.exp(o.intervalMs ?? 1500);
  }
  return flows;
}

export interface PortScanOptions {
  attacker: string;
  target: string;
  start: number;
  /** Ports to probe (default 1–1024). */
  ports?: number[];
  /** Ports a listener answers on (SYN-ACK); the others answer RST. */
  openPorts?: number[];
  intervalMs?: number;
  seed?: number | string;
}

/** One SYN per port from one address; listeners answer SYN-ACK, closed ports RST. */
export function portScan(o: PortScanOptions): Flow[] {
  const rng = new Rng(o.seed ?? `scan:${o.attacker}`);
  const ports = o.ports ?? Array.from({ length: 1024 }, (_, i) => i + 1);
  const open = new Set(o.openPorts ?? []);
  const srcport = ephemeralPort(rng);
  return ports.map((port, i) => {
    const t = o.start + Math.floor(i * (o.intervalMs ?? 20) + rng.int(0, 5));
    return {
      srcaddr: o.attacker, dstaddr: o.target, srcport, dstport: port, protocol: PROTO.TCP,
      packets: 1, bytes: 44, tcpFlags: 2,
      response: open.has(port) ? { packets: 1, bytes: 44, tcpFlags: 18 } : { packets: 1, bytes: 40, tcpFlags: 4 },
      start: t, end: t, label: 'attack:port-scan',
    };
  });
}

export interface ExfiltrationOptions {
  source: string;
  destination: string;
  start: number;
  durationMs?: number;
  totalBytes?: number;
  /** Number of connections the transfer is split into. */
  connections?: number;
  port?: number;
  seed?: number | string;
}

/** Large outbound volumes from an instance to a rogue host, over a few long connections. */
export function exfiltration(o: ExfiltrationOptions): Flow[] {
  const rng = new Rng(o.seed ?? `exfil:${o.source}`);
  const n = o.connections ?? 4;
  const total = o.totalBytes ?? 2_000_000_000;
  const duration = o.durationMs ?? 10 * 60_000;
  const flows: Flow[] = [];
  for (let i = 0; i < n; i++) {
    const bytes = Math.round(total / n);
    const packets = Math.ceil(bytes / 1448);
    const start = o.start + Math.floor((i * duration) / (n * 4));
    flows.push({
      srcaddr: o.source, dstaddr: o.destination, srcport: ephemeralPort(rng), dstport: o.port ?? 443, protocol: PROTO.TCP,
      packets, bytes, response: { packets: Math.ceil(packets / 2), bytes: Math.ceil(packets / 2) * 52 },
      start, end: o.start + duration - rng.int(0, 2000), label: 'attack:exfiltration',
    });
  }
  return flows;
}
