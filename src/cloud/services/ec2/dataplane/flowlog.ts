// Flow-log records as AWS writes them (VPC user guide: "Flow log records", "Flow log record
// examples", "Publish flow logs to CloudWatch Logs", "Publish flow logs to Amazon S3"):
//
// - Format: `${field} ${field} ...`; no LogFormat means the default version-2 format. The version of
//   a custom format is the highest version among its fields. A field that does not apply to a record
//   is written `-`.
// - Aggregation: one record per network interface, 5-tuple (plus action and direction) and capture
//   window; packets and bytes are summed, TCP flags OR-ed; `start`/`end` are the first and last
//   packet seen in the window (Unix seconds). Windows are MaxAggregationInterval (60 or 600 s) long,
//   aligned on the epoch; a flow that spans windows is split across them in proportion to time.
// - Log status: OK; NODATA for an interface without traffic in a window (opt-in); SKIPDATA when a
//   window of an interface exceeded the capacity and records were skipped.
// - CloudWatch Logs: one stream per interface, `<eni-id>-all`, shared by every flow log writing to
//   the same group; the event timestamp is the record's start time.
// - S3: gzipped text files holding a header line of field names, delivered per 5-minute period under
//   `[prefix/]AWSLogs/<account>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>/[<hh>/]` (or the Hive-compatible
//   `aws-account-id=…/aws-service=vpcflowlogs/aws-region=…/year=…/month=…/day=…/[hour=…/]`), named
//   `<account>_vpcflowlogs_<region>_<flow-log-id>_<yyyymmddTHHmmZ>_<hash>.log.gz`; the timestamp is the
//   start of the 5-minute period holding the records' end times.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Action, Direction, Flow, FlowLogConfig, InterfaceVerdict, NetworkInterface, Subnet, Topology, TrafficType } from './model.ts';

export const DEFAULT_LOG_FORMAT =
  '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}';

/** Every field AWS documents, with the flow-log version that introduced it. */
export const FIELD_VERSIONS: Readonly<Record<string, number>> = {
  version: 2, 'account-id': 2, 'interface-id': 2, srcaddr: 2, dstaddr: 2, srcport: 2, dstport: 2, protocol: 2,
  packets: 2, bytes: 2, start: 2, end: 2, action: 2, 'log-status': 2,
  'vpc-id': 3, 'subnet-id': 3, 'instance-id': 3, 'tcp-flags': 3, type: 3, 'pkt-srcaddr': 3, 'pkt-dstaddr': 3,
  region: 4, 'az-id': 4, 'sublocation-type': 4, 'sublocation-id': 4,
  'pkt-src-aws-service': 5, 'pkt-dst-aws-service': 5, 'flow-direction': 5, 'traffic-path': 5,
  'ecs-cluster-arn': 7, 'ecs-cluster-name': 7, 'ecs-container-instance-arn': 7, 'ecs-container-instance-id': 7,
  'ecs-container-id': 7, 'ecs-second-container-id': 7, 'ecs-service-name': 7, 'ecs-task-definition-arn': 7,
  'ecs-task-arn': 7, 'ecs-task-id': 7,
  'reject-reason': 8,
};

export class FlowLogFormatError extends Error {
  readonly code = 'InvalidParameter';
}

export interface LogFormat {
  /** The format text as given (the default format when none was). */
  text: string;
  fields: string[];
  version: number;
  /** The S3 header line: the field names separated by spaces. */
  header: string;
  render: (r: FlowLogRecord) => string;
}

export type LogStatus = 'OK' | 'NODATA' | 'SKIPDATA';

/** One aggregated record, before rendering. Absent optional fields render as `-`. */
export interface FlowLogRecord {
  interfaceId: string;
  accountId: string;
  logStatus: LogStatus;
  /** Unix seconds. */
  start: number;
  end: number;
  srcaddr?: string;
  dstaddr?: string;
  srcport?: number;
  dstport?: number;
  protocol?: number;
  packets?: number;
  bytes?: number;
  action?: Action;
  vpcId?: string;
  subnetId?: string;
  instanceId?: string;
  tcpFlags?: number;
  type?: 'IPv4' | 'IPv6';
  pktSrcaddr?: string;
  pktDstaddr?: string;
  region?: string;
  azId?: string;
  pktSrcAwsService?: string;
  pktDstAwsService?: string;
  flowDirection?: Direction;
  trafficPath?: number;
}

const dash = (v: string | number | undefined): string => (v === undefined || v === '' ? '-' : String(v));

function fieldRenderer(field: string, version: number): (r: FlowLogRecord) => string {
  switch (field) {
    case 'version': { const v = String(version); return () => v; }
    case 'account-id': return (r) => r.accountId;
    case 'interface-id': return (r) => r.interfaceId;
    case 'srcaddr': return (r) => dash(r.srcaddr);
    case 'dstaddr': return (r) => dash(r.dstaddr);
    case 'srcport': return (r) => dash(r.srcport);
    case 'dstport': return (r) => dash(r.dstport);
    case 'protocol': return (r) => dash(r.protocol);
    case 'packets': return (r) => dash(r.packets);
    case 'bytes': return (r) => dash(r.bytes);
    case 'start': return (r) => String(r.start);
    case 'end': return (r) => String(r.end);
    case 'action': return (r) => dash(r.action);
    case 'log-status': return (r) => r.logStatus;
    case 'vpc-id': return (r) => dash(r.vpcId);
    case 'subnet-id': return (r) => dash(r.subnetId);
    case 'instance-id': return (r) => dash(r.instanceId);
    case 'tcp-flags': return (r) => dash(r.tcpFlags);
    case 'type': return (r) => dash(r.type);
    case 'pkt-srcaddr': return (r) => dash(r.pktSrcaddr);
    case 'pkt-dstaddr': return (r) => dash(r.pktDstaddr);
    case 'region': return (r) => dash(r.region);
    case 'az-id': return (r) => dash(r.azId);
    case 'pkt-src-aws-service': return (r) => dash(r.pktSrcAwsService);
    case 'pkt-dst-aws-service': return (r) => dash(r.pktDstAwsService);
    case 'flow-direction': return (r) => dash(r.flowDirection);
    case 'traffic-path': return (r) => dash(r.trafficPath);
    default: return () => '-'; // sublocation-*, ecs-*, reject-reason: nothing in the lab has them
  }
}

const formatCache = new Map<string, LogFormat>();

/**
 * Parses a LogFormat (`${version} ${srcaddr} ...`). Throws FlowLogFormatError for unknown fields,
 * text outside `${...}` tokens, repeated fields or an empty format, as CreateFlowLogs refuses them.
 */
export function parseLogFormat(format?: string): LogFormat {
  const text = format === undefined || format.trim() === '' ? DEFAULT_LOG_FORMAT : format;
  const cached = formatCache.get(text);
  if (cached) return cached;
  const tokens = text.trim().split(/\s+/);
  const fields: string[] = [];
  for (const tok of tokens) {
    const m = /^\$\{([a-z0-9-]+)\}$/.exec(tok);
    if (!m) throw new FlowLogFormatError(`Invalid LogFormat: '${tok}' is not a field reference of the form \${field-name}`);
    const name = m[1]!;
    if (FIELD_VERSIONS[name] === undefined) throw new FlowLogFormatError(`Invalid LogFormat: unknown field '${name}'`);
    if (fields.includes(name)) throw new FlowLogFormatError(`Invalid LogFormat: field '${name}' appears more than once`);
    fields.push(name);
  }
  if (fields.length === 0) throw new FlowLogFormatError('Invalid LogFormat: specify at least one field');
  const version = Math.max(2, ...fields.map((f) => FIELD_VERSIONS[f]!));
  const renderers = fields.map((f) => fieldRenderer(f, version));
  const n = renderers.length;
  const render = (r: FlowLogRecord): string => {
    let s = renderers[0]!(r);
    for (let i = 1; i < n; i++) s += ' ' + renderers[i]!(r);
    return s;
  };
  const parsed: LogFormat = { text, fields, version, header: fields.join(' '), render };
  formatCache.set(text, parsed);
  return parsed;
}

/** The error CreateFlowLogs would give for this LogFormat, or undefined when it is valid. */
export function validateLogFormat(format: string): string | undefined {
  try {
    parseLogFormat(format);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

export function renderRecord(record: FlowLogRecord, format?: string | LogFormat): string {
  const f = typeof format === 'object' ? format : parseLogFormat(format);
  return f.render(record);
}

/** Does a flow log with this traffic type record this action? */
export function recordsAction(trafficType: TrafficType, action: Action): boolean {
  return trafficType === 'ALL' || trafficType === action;
}

// ---- which flow logs cover an interface ----

const coverageCache = new WeakMap<Topology, Map<string, FlowLogConfig[]>>();

/** Flow logs whose resource is the interface, its subnet or its VPC; each produces records independently. */
export function flowLogsCovering(topology: Topology, interfaceId: string): FlowLogConfig[] {
  let byEni = coverageCache.get(topology);
  if (!byEni) {
    byEni = new Map();
    for (const iface of topology.interfaces) {
      byEni.set(iface.id, topology.flowLogs.filter((fl) => fl.resourceId === iface.id || fl.resourceId === iface.subnetId || fl.resourceId === iface.vpcId));
    }
    coverageCache.set(topology, byEni);
  }
  return byEni.get(interfaceId) ?? [];
}

// ---- aggregation ----

/** What the aggregator needs to know about the observing interface. */
export interface RecordContext {
  iface: NetworkInterface;
  subnet: Subnet | undefined;
  region: string;
}

interface Entry {
  rec: FlowLogRecord;
  first: number;
  last: number;
}

interface Window {
  entries: Map<string, Entry>;
  /** Per interface: records held and whether some were skipped. */
  perInterface: Map<string, { count: number; skipped: boolean; ctx: RecordContext }>;
}

export interface AggregatorOptions {
  /** Capacity per interface and window; beyond it new 5-tuples are skipped and a SKIPDATA record written. */
  maxRecordsPerWindow?: number;
}

/** Buffers one flow log's records per capture window until the window closes. */
export class FlowLogAggregator {
  readonly intervalMs: number;
  private windows = new Map<number, Window>();
  private readonly capacity: number;
  private pendingCount = 0;
  /** Per interface: the first window not yet checked for NODATA. */
  private noDataCursor = new Map<string, number>();

  constructor(public config: FlowLogConfig, opts: AggregatorOptions = {}) {
    this.intervalMs = (config.maxAggregationInterval === 60 ? 60 : 600) * 1000;
    this.capacity = opts.maxRecordsPerWindow ?? Infinity;
  }

  /** Records still buffered. */
  get pending(): number {
    return this.pendingCount;
  }

  /** Adds one interface's observation of a flow leg (already filtered by traffic type). */
  add(v: InterfaceVerdict, flow: Flow, ctx: RecordContext, trafficPath?: number): void {
    if (v.packets <= 0) return;
    const I = this.intervalMs;
    const start = flow.start;
    const end = flow.end >= flow.start ? flow.end : flow.start;
    const w0 = Math.floor(start / I) * I;
    if (end < w0 + I) {
      this.addPiece(w0, start, end, v.packets, v.bytes, v, flow, ctx, trafficPath);
      return;
    }
    // Spread over the windows the flow spans, in proportion to time; cumulative rounding keeps the sums.
    const dur = end - start;
    let prevP = 0;
    let prevB = 0;
    let last: [number, number, number] | undefined;
    for (let w = w0; w <= end; w += I) {
      const pieceStart = Math.max(start, w);
      const pieceEnd = Math.min(end, w + I - 1);
      const upTo = Math.min(end, w + I) - start;
      const cumP = Math.round((upTo * v.packets) / dur);
      const p = cumP - prevP;
      prevP = cumP;
      if (p <= 0) continue; // no packet in this window: its bytes go with the next piece
      const cumB = Math.round((upTo * v.bytes) / dur);
      this.addPiece(w, pieceStart, pieceEnd, p, cumB - prevB, v, flow, ctx, trafficPath);
      prevB = cumB;
      last = [w, pieceStart, pieceEnd];
    }
    if (last && prevB < v.bytes) this.addPiece(last[0], last[1], last[2], 0, v.bytes - prevB, v, flow, ctx, trafficPath);
  }

  private addPiece(ws: number, first: number, last: number, packets: number, bytes: number, v: InterfaceVerdict, flow: Flow, ctx: RecordContext, trafficPath: number | undefined): void {
    let win = this.windows.get(ws);
    if (!win) {
      win = { entries: new Map(), perInterface: new Map() };
      this.windows.set(ws, win);
    }
    const key = v.eni + ' ' + v.srcaddr + ' ' + v.srcport + ' ' + v.dstaddr + ' ' + v.dstport + ' ' + flow.protocol + ' ' + v.action + ' ' + v.direction;
    const e = win.entries.get(key);
    if (e) {
      const r = e.rec;
      r.packets! += packets;
      r.bytes! += bytes;
      r.tcpFlags = (r.tcpFlags ?? 0) | v.tcpFlags;
      if (first < e.first) e.first = first;
      if (last > e.last) e.last = last;
      return;
    }
    let per = win.perInterface.get(v.eni);
    if (!per) {
      per = { count: 0, skipped: false, ctx };
      win.perInterface.set(v.eni, per);
    }
    if (per.count >= this.capacity) {
      per.skipped = true;
      return;
    }
    per.count++;
    const iface = ctx.iface;
    const egress = v.direction === 'egress';
    const rec: FlowLogRecord = {
      interfaceId: v.eni,
      accountId: iface.ownerId,
      logStatus: 'OK',
      start: 0, end: 0,
      srcaddr: v.srcaddr, dstaddr: v.dstaddr, srcport: v.srcport, dstport: v.dstport,
      protocol: flow.protocol, packets, bytes, action: v.action,
      vpcId: iface.vpcId, subnetId: iface.subnetId,
      instanceId: iface.requesterManaged ? undefined : iface.instanceId,
      tcpFlags: v.tcpFlags,
      type: v.srcaddr.includes(':') ? 'IPv6' : 'IPv4',
      pktSrcaddr: v.pktSrcaddr, pktDstaddr: v.pktDstaddr,
      region: ctx.region, azId: ctx.subnet?.availabilityZoneId ?? iface.availabilityZoneId,
      pktSrcAwsService: v.leg === 'request' ? flow.pktSrcAwsService : flow.pktDstAwsService,
      pktDstAwsService: v.leg === 'request' ? flow.pktDstAwsService : flow.pktSrcAwsService,
      flowDirection: v.direction,
      trafficPath: egress ? trafficPath : undefined,
    };
    win.entries.set(key, { rec, first, last });
    this.pendingCount++;
  }

  /**
   * Takes the records of every window closed at `now` (all windows with `force`), in window and
   * insertion order. With `noDataFor`, also writes NODATA records for those interfaces' closed windows
   * without traffic since the last flush (at most `maxNoDataWindows` per interface).
   */
  flush(now: number, opts: { force?: boolean; noDataFor?: RecordContext[]; maxNoDataWindows?: number } = {}): FlowLogRecord[] {
    const I = this.intervalMs;
    const out: FlowLogRecord[] = [];
    const closed = [...this.windows.keys()].filter((ws) => opts.force || ws + I <= now).sort((a, b) => a - b);
    const seen = new Map<string, Set<number>>();
    for (const ws of closed) {
      const win = this.windows.get(ws)!;
      this.windows.delete(ws);
      const wStartS = Math.floor(ws / 1000);
      const wEndS = Math.floor((ws + I) / 1000) - 1;
      for (const e of win.entries.values()) {
        const r = e.rec;
        r.start = Math.max(wStartS, Math.floor(e.first / 1000));
        r.end = Math.min(wEndS, Math.max(r.start, Math.floor(e.last / 1000)));
        out.push(r);
      }
      for (const [eni, per] of win.perInterface) {
        if (per.skipped) out.push(this.statusRecord(eni, per.ctx, 'SKIPDATA', ws));
        let s = seen.get(eni);
        if (!s) seen.set(eni, (s = new Set()));
        s.add(ws);
      }
      this.pendingCount -= win.entries.size;
    }
    if (opts.noDataFor) {
      const lastClosed = Math.floor(now / I) * I - I;
      const cap = opts.maxNoDataWindows ?? 1440;
      for (const ctx of opts.noDataFor) {
        const eni = ctx.iface.id;
        let from = this.noDataCursor.get(eni);
        if (from === undefined) from = lastClosed; // start tracking with the latest closed window
        if (lastClosed - from > cap * I) from = lastClosed - (cap - 1) * I;
        const had = seen.get(eni);
        for (let ws = from; ws <= lastClosed; ws += I) {
          if (!had?.has(ws) && !this.windows.has(ws)) out.push(this.statusRecord(eni, ctx, 'NODATA', ws));
        }
        this.noDataCursor.set(eni, lastClosed + I);
      }
    }
    return out;
  }

  private statusRecord(eni: string, ctx: RecordContext, status: LogStatus, ws: number): FlowLogRecord {
    const iface = ctx.iface;
    return {
      interfaceId: eni, accountId: iface.ownerId, logStatus: status,
      start: Math.floor(ws / 1000), end: Math.floor((ws + this.intervalMs) / 1000) - 1,
      vpcId: iface.vpcId, subnetId: iface.subnetId, instanceId: iface.requesterManaged ? undefined : iface.instanceId,
      region: ctx.region, azId: ctx.subnet?.availabilityZoneId ?? iface.availabilityZoneId,
    };
  }
}

// ---- destinations ----

/** CloudWatch Logs stream of an interface (shared by every flow log writing to the same group). */
export const logStreamName = (interfaceId: string): string => `${interfaceId}-all`;

/** The S3 folder (with the optional prefix) a file delivered at `fileTimeMs` goes to. */
export function s3Folder(cfg: FlowLogConfig, account: string, region: string, fileTimeMs: number): string {
  const d = new Date(fileTimeMs);
  const yyyy = String(d.getUTCFullYear());
  const mm = String(d.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(d.getUTCDate()).padStart(2, '0');
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const hive = cfg.destinationOptions?.hiveCompatiblePartitions === true;
  const hourly = cfg.destinationOptions?.perHourPartition === true;
  const prefix = cfg.prefix ? `${cfg.prefix.replace(/\/+$/, '')}/` : '';
  const parts = hive
    ? [`aws-account-id=${account}`, 'aws-service=vpcflowlogs', `aws-region=${region}`, `year=${yyyy}`, `month=${mm}`, `day=${dd}`, ...(hourly ? [`hour=${hh}`] : [])]
    : [account, 'vpcflowlogs', region, yyyy, mm, dd, ...(hourly ? [hh] : [])];
  return `${prefix}AWSLogs/${parts.join('/')}/`;
}

/** `<account>_vpcflowlogs_<region>_<flow-log-id>_<yyyymmddTHHmmZ>_<hash>.log.gz` */
export function s3FileName(cfg: FlowLogConfig, account: string, region: string, fileTimeMs: number, hash: string): string {
  const iso = new Date(fileTimeMs).toISOString(); // 2018-06-20T16:20:00.000Z
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}Z`;
  return `${account}_vpcflowlogs_${region}_${cfg.id}_${stamp}_${hash}.log.gz`;
}

export interface S3LogFile {
  bucket: string;
  key: string;
  body: Buffer;
  records: number;
  /** The uncompressed text (header line first). */
  text: string;
}

const FILE_PERIOD_MS = 5 * 60_000;

/** Groups records into the 5-minute files AWS would deliver (by record end time) and gzips them. */
export function buildS3Files(cfg: FlowLogConfig, account: string, region: string, records: FlowLogRecord[], format: LogFormat): S3LogFile[] {
  if (!cfg.bucket || records.length === 0) return [];
  const byPeriod = new Map<number, string[]>();
  for (const r of records) {
    const p = Math.floor((r.end * 1000) / FILE_PERIOD_MS) * FILE_PERIOD_MS;
    let lines = byPeriod.get(p);
    if (!lines) byPeriod.set(p, (lines = []));
    lines.push(format.render(r));
  }
  const files: S3LogFile[] = [];
  for (const [period, lines] of [...byPeriod].sort((a, b) => a[0] - b[0])) {
    const text = `${format.header}\n${lines.join('\n')}\n`;
    const hash = createHash('sha256').update(`${cfg.id}\n${period}\n`).update(text).digest('hex').slice(0, 8);
    const key = s3Folder(cfg, account, region, period) + s3FileName(cfg, account, region, period, hash);
    files.push({ bucket: cfg.bucket, key, body: gzipSync(text), records: lines.length, text });
  }
  return files;
}
