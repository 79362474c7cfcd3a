// Behaviour features per host and time window, computed incrementally as flow records arrive. The host
// is the record's srcaddr (what it sends); what it receives in the same window (records where it is the
// dstaddr) gives the inbound side. A window is emitted once the stream has moved past its end plus an
// allowed lateness, so a live feed (a Lambda fed by a subscription filter) and a file give the same rows.
import type { FlowRecord, Label } from './flows.ts';

export interface FeatureSpec {
  name: string;
  /** Counts and volumes are compared on a log scale (log1p); ratios as they are. */
  log: boolean;
  description: string;
}

export const FEATURES: readonly FeatureSpec[] = [
  { name: 'flows_out', log: true, description: 'records the host sent' },
  { name: 'bytes_out', log: true, description: 'bytes the host sent' },
  { name: 'packets_out', log: true, description: 'packets the host sent' },
  { name: 'flows_in', log: true, description: 'records the host received' },
  { name: 'bytes_in', log: true, description: 'bytes the host received' },
  { name: 'packets_in', log: true, description: 'packets the host received' },
  { name: 'peers_out', log: true, description: 'distinct destinations (fan-out)' },
  { name: 'dst_ports', log: true, description: 'distinct destination ports' },
  { name: 'fan_in', log: true, description: 'distinct sources that sent to the host' },
  { name: 'ports_in', log: true, description: 'distinct ports of the host that were contacted' },
  { name: 'new_peer_ratio', log: false, description: 'share of destinations never seen from this host before' },
  { name: 'rejected_out', log: true, description: 'rejected records the host sent (failed connections)' },
  { name: 'reject_ratio_out', log: false, description: 'share of the host\'s records that were rejected' },
  { name: 'rejected_in', log: true, description: 'rejected records sent to the host' },
  { name: 'bytes_per_packet_out', log: true, description: 'mean packet size sent' },
  { name: 'packets_per_flow_out', log: true, description: 'mean packets per record sent' },
  { name: 'in_out_bytes_ratio', log: false, description: 'log10 of (bytes received + 1) / (bytes sent + 1)' },
  { name: 'periodic_peers', log: true, description: 'destinations contacted at regular intervals (inter-arrival CV below the beacon limit)' },
  { name: 'beacon_cv', log: false, description: 'lowest coefficient of variation of inter-arrival times to one destination (capped at 3; 3 = no peer with enough arrivals)' },
];

export const FEATURE_NAMES = FEATURES.map((f) => f.name);

export interface FeatureWindow {
  host: string;
  /** Unix seconds, inclusive. */
  windowStart: number;
  /** Unix seconds, exclusive: when the window can be scored. */
  windowEnd: number;
  /** Raw feature values in FEATURES order. */
  values: number[];
  /** Records the host sent in the window. */
  records: number;
  /** Malicious if any record the host sent is Malicious, else Benign if any is Benign, else Background; absent for unlabelled input. */
  label?: Label;
  /** Start of the host's first Malicious record in the window. */
  firstMalicious?: number;
}

export interface ExtractorOptions {
  /** Window length in seconds (default 60). */
  windowSeconds?: number;
  /** How long after a window's end records for it may still arrive (default one window). */
  latenessSeconds?: number;
  /** Inter-arrival times kept per host and destination for periodicity (default 16 arrivals). */
  beaconArrivals?: number;
  /** Fewest arrivals before a CV means anything (default 5). */
  beaconMinArrivals?: number;
  /** A CV below this counts as periodic (default 0.25). */
  beaconCv?: number;
  /** Destinations and arrival histories not seen for this long are forgotten (default 7 days). */
  memorySeconds?: number;
  /** Where a previous extractor stopped (a model's training period), so a new feed does not start cold. */
  history?: HistoryState;
}

/** Per host: destinations with when they were last seen, and recent contact times per destination. */
export type HistoryState = Record<string, { peers: [string, number][]; arrivals: Record<string, number[]> }>;

interface Acc {
  host: string;
  win: number;
  flowsOut: number; bytesOut: number; packetsOut: number; rejectedOut: number;
  flowsIn: number; bytesIn: number; packetsIn: number; rejectedIn: number;
  peers: Set<string>; ports: Set<number>; sources: Set<string>; portsIn: Set<number>;
  malicious: number; benign: number; labelled: boolean; firstMalicious: number;
}

interface HostHistory {
  /** destination → last seen (s) */
  peers: Map<string, number>;
  /** destination → recent connection starts, ascending */
  arrivals: Map<string, number[]>;
}

export class FeatureExtractor {
  readonly windowSeconds: number;
  private readonly lateness: number;
  private readonly beaconArrivals: number;
  private readonly beaconMin: number;
  private readonly beaconCv: number;
  private readonly memory: number;
  private open = new Map<string, Acc>();
  private history = new Map<string, HostHistory>();
  /** Every window with an index below this is closed. */
  private closedBelow = -Infinity;
  private watermark = -Infinity;
  private lastSweep = -Infinity;
  /** Records that arrived after their window had closed (counted into the oldest open window). */
  late = 0;
  records = 0;

  constructor(opts: ExtractorOptions = {}) {
    this.windowSeconds = opts.windowSeconds ?? 60;
    if (!(this.windowSeconds > 0)) throw new RangeError(`window must be a positive number of seconds, not ${opts.windowSeconds}`);
    this.lateness = opts.latenessSeconds ?? this.windowSeconds;
    this.beaconArrivals = opts.beaconArrivals ?? 16;
    this.beaconMin = opts.beaconMinArrivals ?? 5;
    this.beaconCv = opts.beaconCv ?? 0.25;
    this.memory = opts.memorySeconds ?? 7 * 86400;
    for (const [host, h] of Object.entries(opts.history ?? {})) {
      this.history.set(host, { peers: new Map(h.peers), arrivals: new Map(Object.entries(h.arrivals).map(([p, a]) => [p, [...a]])) });
    }
  }

  /** The history of `hosts` (all when absent), at most `maxPeers` most recent destinations each. */
  snapshot(hosts?: Iterable<string>, maxPeers = 256): HistoryState {
    const out: HistoryState = {};
    const wanted = hosts ? new Set(hosts) : undefined;
    for (const [host, h] of [...this.history].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (wanted && !wanted.has(host)) continue;
      const peers = [...h.peers].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, maxPeers);
      const keep = new Set(peers.map(([p]) => p));
      const arrivals: Record<string, number[]> = {};
      for (const [p, a] of h.arrivals) if (keep.has(p)) arrivals[p] = [...a];
      out[host] = { peers, arrivals };
    }
    return out;
  }

  private acc(host: string, win: number): Acc {
    const key = `${host}\u0000${win}`;
    let a = this.open.get(key);
    if (!a) {
      a = { host, win, flowsOut: 0, bytesOut: 0, packetsOut: 0, rejectedOut: 0, flowsIn: 0, bytesIn: 0, packetsIn: 0, rejectedIn: 0, peers: new Set(), ports: new Set(), sources: new Set(), portsIn: new Set(), malicious: 0, benign: 0, labelled: false, firstMalicious: Infinity };
      this.open.set(key, a);
    }
    return a;
  }

  /** Adds one record; returns the windows this closed (in time order). */
  push(r: FlowRecord): FeatureWindow[] {
    this.records++;
    let win = Math.floor(r.start / this.windowSeconds);
    if (win < this.closedBelow) {
      this.late++;
      win = this.closedBelow;
    }
    const out = this.acc(r.srcaddr, win);
    out.flowsOut++;
    out.bytesOut += r.bytes;
    out.packetsOut += r.packets;
    if (r.action === 'REJECT') out.rejectedOut++;
    out.peers.add(r.dstaddr);
    out.ports.add(r.dstport);
    if (r.label !== undefined) {
      out.labelled = true;
      if (r.label === 'Malicious') {
        out.malicious++;
        out.firstMalicious = Math.min(out.firstMalicious, r.start);
      } else if (r.label === 'Benign') out.benign++;
    }
    const inb = this.acc(r.dstaddr, win);
    inb.flowsIn++;
    inb.bytesIn += r.bytes;
    inb.packetsIn += r.packets;
    if (r.action === 'REJECT') inb.rejectedIn++;
    inb.sources.add(r.srcaddr);
    inb.portsIn.add(r.dstport);
    this.arrival(r.srcaddr, r.dstaddr, r.start);
    if (r.start > this.watermark) this.watermark = r.start;
    return this.closeUpTo(Math.floor((this.watermark - this.lateness) / this.windowSeconds) - 1);
  }

  /** Closes every open window (end of a file or a batch). */
  flush(): FeatureWindow[] {
    return this.closeUpTo(Infinity);
  }

  private arrival(host: string, peer: string, t: number): void {
    const h = this.hist(host);
    let a = h.arrivals.get(peer);
    if (!a) h.arrivals.set(peer, (a = []));
    // Several records in one second are one contact (a retry, both halves of a connection).
    if (a.includes(t)) return;
    let i = a.length;
    while (i > 0 && a[i - 1]! > t) i--;
    a.splice(i, 0, t);
    if (a.length > this.beaconArrivals) a.shift();
  }

  private hist(host: string): HostHistory {
    let h = this.history.get(host);
    if (!h) this.history.set(host, (h = { peers: new Map(), arrivals: new Map() }));
    return h;
  }

  /** The lowest inter-arrival CV over the destinations in `peers` with enough arrivals, and how many are periodic. */
  private periodicity(host: string, peers: Set<string>): { cv: number; periodic: number } {
    const h = this.history.get(host);
    let best = 3;
    let periodic = 0;
    if (!h) return { cv: best, periodic };
    for (const p of peers) {
      const a = h.arrivals.get(p);
      if (!a || a.length < this.beaconMin) continue;
      const gaps: number[] = [];
      for (let i = 1; i < a.length; i++) gaps.push(a[i]! - a[i - 1]!);
      const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
      if (mean <= 0) continue;
      const sd = Math.sqrt(gaps.reduce((s, g) => s + (g - mean) ** 2, 0) / gaps.length);
      const cv = Math.min(3, sd / mean);
      if (cv < best) best = cv;
      if (cv < this.beaconCv) periodic++;
    }
    return { cv: best, periodic };
  }

  private closeUpTo(lastWin: number): FeatureWindow[] {
    // A window closes once the watermark is past its end plus the lateness.
    if (lastWin + 1 <= this.closedBelow) return [];
    const ready: Acc[] = [];
    for (const [k, a] of this.open) {
      if (a.win <= lastWin) {
        ready.push(a);
        this.open.delete(k);
      }
    }
    if (Number.isFinite(lastWin)) this.closedBelow = lastWin + 1;
    ready.sort((x, y) => x.win - y.win || (x.host < y.host ? -1 : x.host > y.host ? 1 : 0));
    const rows: FeatureWindow[] = [];
    for (const a of ready) {
      // Hosts that only received traffic are described by their inbound side in the sender's rows.
      if (a.flowsOut === 0) continue;
      const h = this.hist(a.host);
      let fresh = 0;
      for (const p of a.peers) if (!h.peers.has(p)) fresh++;
      const end = (a.win + 1) * this.windowSeconds;
      for (const p of a.peers) h.peers.set(p, end);
      const { cv, periodic } = this.periodicity(a.host, a.peers);
      const values = [
        a.flowsOut, a.bytesOut, a.packetsOut, a.flowsIn, a.bytesIn, a.packetsIn,
        a.peers.size, a.ports.size, a.sources.size, a.portsIn.size,
        fresh / a.peers.size,
        a.rejectedOut, a.rejectedOut / a.flowsOut, a.rejectedIn,
        a.packetsOut ? a.bytesOut / a.packetsOut : 0, a.packetsOut / a.flowsOut,
        Math.log10((a.bytesIn + 1) / (a.bytesOut + 1)),
        periodic, cv,
      ];
      const row: FeatureWindow = { host: a.host, windowStart: a.win * this.windowSeconds, windowEnd: end, values, records: a.flowsOut };
      if (a.labelled) {
        row.label = a.malicious ? 'Malicious' : a.benign ? 'Benign' : 'Background';
        if (a.malicious) row.firstMalicious = a.firstMalicious;
      }
      rows.push(row);
    }
    this.sweep();
    return rows;
  }

  /** Forgets destinations and arrival histories older than the memory, so a long feed stays bounded. */
  private sweep(): void {
    if (!Number.isFinite(this.watermark) || this.watermark - this.lastSweep < this.memory / 8) return;
    this.lastSweep = this.watermark;
    const before = this.watermark - this.memory;
    for (const [host, h] of this.history) {
      for (const [p, t] of h.peers) if (t < before) h.peers.delete(p);
      for (const [p, a] of h.arrivals) if (a[a.length - 1]! < before) h.arrivals.delete(p);
      if (!h.peers.size && !h.arrivals.size) this.history.delete(host);
    }
  }
}

/** All feature windows of a list of records, in start order (a file read at once). */
export function extractFeatures(records: readonly FlowRecord[], opts: ExtractorOptions = {}): { windows: FeatureWindow[]; late: number; extractor: FeatureExtractor } {
  const ex = new FeatureExtractor(opts);
  const sorted = [...records].sort((a, b) => a.start - b.start);
  const windows: FeatureWindow[] = [];
  for (const r of sorted) windows.push(...ex.push(r));
  windows.push(...ex.flush());
  return { windows, late: ex.late, extractor: ex };
}
