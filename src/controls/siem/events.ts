// Normalisation of AWS telemetry into one event schema for the SIEM. The original record is kept as `fields`,
// which is what Sigma rules look fields up in (CloudTrail field names such as `userIdentity.arn`; VPC Flow Logs
// field names as AWS writes them in the header, such as `srcaddr`, `dstport`, `flow-direction`).
//
// Inputs understood:
// - CloudTrail: a log file `{"Records": [...]}` (as delivered to S3, usually gzipped), a JSON array of records,
//   JSON lines (one record per line, e.g. CloudWatch Logs exports), or a single record;
// - VPC Flow Logs: the space-separated text format, with a header line (S3 delivery: `version account-id ...`,
//   custom formats included) or without (the default v2 format, or a custom format given as `header`); JSON
//   objects with the same fields in camelCase (`srcAddr`, `dstPort`, ...) as some pipelines write them;
// - CloudWatch Logs events (`{timestamp, message}`) from any log group: CloudTrail and flow-log messages are
//   recognised, anything else becomes a `logs` event with the message (parsed when it is JSON).
// Gzipped inputs (magic bytes 1f 8b) are inflated first.
import { gunzipSync } from 'fflate';

export type EventSource = 'cloudtrail' | 'vpcflow' | 'logs';

export interface EventLogSource {
  readonly product: string;
  readonly service: string;
  readonly category?: string;
}

export interface SiemEvent {
  /** Event time, ISO 8601. */
  readonly time: string;
  /** Event time, milliseconds since the epoch (NaN when the record has no usable time). */
  readonly ts: number;
  /** Set when the time was not taken from the record's own time field (CloudTrail records with only `@timestamp`). */
  readonly timeFrom?: EventTimeSource;
  readonly source: EventSource;
  readonly logsource: EventLogSource;
  /** The original record (parsed), used for Sigma field lookups. */
  readonly fields: Record<string, unknown>;
  /** One line for humans. */
  readonly summary: string;
  /** The original text line for text formats (VPC Flow Logs, plain log messages). */
  readonly raw?: string;
  /** Where the event was read from. */
  readonly origin?: { readonly file?: string; readonly index?: number; readonly logGroup?: string; readonly logStream?: string };
}

export const CLOUDTRAIL_LOGSOURCE: EventLogSource = { product: 'aws', service: 'cloudtrail' };
export const VPCFLOW_LOGSOURCE: EventLogSource = { product: 'aws', service: 'vpcflowlogs' };
export const LOGS_LOGSOURCE: EventLogSource = { product: 'aws', service: 'cloudwatch' };

type Origin = SiemEvent['origin'];

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function iso(ts: number): string {
  return Number.isFinite(ts) ? new Date(ts).toISOString() : '';
}

// ---------------------------------------------------------------------------------------------------------------
// CloudTrail

/** True when a JSON object looks like a CloudTrail record. */
export function isCloudTrailRecord(v: unknown): v is Record<string, unknown> {
  return isObject(v) && typeof v['eventName'] === 'string' && (typeof v['eventSource'] === 'string' || typeof v['eventTime'] === 'string');
}

function principalOf(rec: Record<string, unknown>): string {
  const id = rec['userIdentity'];
  if (!isObject(id)) return 'unknown';
  const arn = id['arn'];
  if (typeof arn === 'string' && arn) return arn;
  const type = id['type'];
  const inv = id['invokedBy'];
  return [type, inv].filter((x) => typeof x === 'string').join(' ') || 'unknown';
}

// CloudTrail writes eventTime as ISO 8601 in UTC (`2024-07-30T21:31:10Z`); Date.parse alone also takes
// "Jul 30 2024" or "2024", which are no event times.
const ISO_8601 = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

function isoTime(v: unknown): number {
  if (typeof v !== 'string' || !ISO_8601.test(v.trim())) return NaN;
  return Date.parse(v.trim().replace(' ', 'T'));
}

/** Where a CloudTrail event's time came from: its `eventTime`, or `@timestamp` (some exports have only that). */
export type EventTimeSource = 'eventTime' | '@timestamp';

/**
 * The time of a CloudTrail record: `eventTime` when it is an ISO 8601 time; otherwise `@timestamp` (an ISO 8601
 * string, or epoch milliseconds as Elastic-style exports write it); otherwise undefined: the record has no usable
 * time and must not enter time windows.
 */
export function cloudTrailTime(rec: Record<string, unknown>): { ts: number; time: string; from: EventTimeSource } | undefined {
  const t = isoTime(rec['eventTime']);
  if (Number.isFinite(t)) return { ts: t, time: String(rec['eventTime']).trim(), from: 'eventTime' };
  const at = rec['@timestamp'];
  const ts = typeof at === 'number' && Number.isInteger(at) && at > 0 ? at : isoTime(at);
  if (Number.isFinite(ts)) return { ts, time: new Date(ts).toISOString(), from: '@timestamp' };
  return undefined;
}

/**
 * Normalises a CloudTrail record. Its time is `eventTime`, else a valid `@timestamp` (then `timeFrom` says so);
 * a record with neither gets `ts` NaN and `time` '' (parseLogData and the SIEM's sources skip and count those;
 * the engine keeps them out of correlation windows).
 */
export function normalizeCloudTrail(rec: Record<string, unknown>, origin?: Origin): SiemEvent {
  const when = cloudTrailTime(rec);
  const err = typeof rec['errorCode'] === 'string' ? ` → ${rec['errorCode']}` : '';
  const src = typeof rec['eventSource'] === 'string' ? rec['eventSource'].replace(/\.amazonaws\.com$/, '') : '?';
  const ip = typeof rec['sourceIPAddress'] === 'string' ? ` from ${rec['sourceIPAddress']}` : '';
  return {
    time: when?.time ?? '',
    ts: when?.ts ?? NaN,
    ...(when?.from === '@timestamp' ? { timeFrom: '@timestamp' as const } : {}),
    source: 'cloudtrail',
    logsource: CLOUDTRAIL_LOGSOURCE,
    fields: rec,
    summary: `${src}:${String(rec['eventName'])} by ${principalOf(rec)}${ip}${err}`,
    origin,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// VPC Flow Logs

/** The default (version 2) format. */
export const FLOW_V2_FIELDS = [
  'version', 'account-id', 'interface-id', 'srcaddr', 'dstaddr', 'srcport', 'dstport',
  'protocol', 'packets', 'bytes', 'start', 'end', 'action', 'log-status',
] as const;

/** Every field name of VPC Flow Logs v2–v8 (AWS documentation), for recognising headers. */
export const FLOW_FIELDS = new Set<string>([
  ...FLOW_V2_FIELDS,
  'vpc-id', 'subnet-id', 'instance-id', 'tcp-flags', 'type', 'pkt-srcaddr', 'pkt-dstaddr',
  'region', 'az-id', 'sublocation-type', 'sublocation-id',
  'pkt-src-aws-service', 'pkt-dst-aws-service', 'flow-direction', 'traffic-path',
  'ecs-cluster-arn', 'ecs-cluster-name', 'ecs-container-instance-arn', 'ecs-container-instance-id',
  'ecs-container-id', 'ecs-second-container-id', 'ecs-service-name', 'ecs-task-definition-arn', 'ecs-task-arn',
  'ecs-task-id', 'reject-reason', 'resource-id', 'encryption-status',
]);

const FLOW_NUMERIC = new Set(['version', 'srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start', 'end', 'tcp-flags', 'traffic-path']);

const PROTOCOLS: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6' };

/** `srcAddr` / `src_addr` / `${srcaddr}` → `srcaddr`; `flowDirection` → `flow-direction`. */
export function canonicalFlowField(name: string): string {
  const bare = name.replace(/^\$\{(.*)\}$/, '$1').trim();
  const lower = bare.toLowerCase();
  if (FLOW_FIELDS.has(lower)) return lower;
  const dashed = bare
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/_/g, '-')
    .toLowerCase();
  if (FLOW_FIELDS.has(dashed)) return dashed;
  const joined = dashed.replace(/-(addr|port)$/, '$1').replace(/^(pkt-)?(src|dst)-(addr)$/, '$1$2$3');
  if (FLOW_FIELDS.has(joined)) return joined;
  return bare;
}

function flowValue(field: string, v: string): unknown {
  if (v === '-' || v === '') return null;
  if (FLOW_NUMERIC.has(field) && /^-?\d+$/.test(v)) return Number(v);
  return v;
}

function flowEvent(fields: Record<string, unknown>, raw: string | undefined, origin?: Origin): SiemEvent {
  const start = fields['start'];
  const ts =
    typeof start === 'number'
      ? start * 1000
      : typeof start === 'string'
        ? /^\d+$/.test(start)
          ? Number(start) * 1000
          : Date.parse(start)
        : NaN;
  const proto = typeof fields['protocol'] === 'number' ? (PROTOCOLS[fields['protocol']] ?? `proto ${fields['protocol']}`) : '';
  const s = (k: string) => (fields[k] === null || fields[k] === undefined ? '-' : String(fields[k]));
  return {
    time: iso(ts),
    ts,
    source: 'vpcflow',
    logsource: VPCFLOW_LOGSOURCE,
    fields,
    summary: `${s('srcaddr')}:${s('srcport')} → ${s('dstaddr')}:${s('dstport')} ${proto} ${s('packets')} packets ${s('bytes')} bytes ${s('action')}`.replace(/\s+/g, ' ').trim(),
    raw,
    origin,
  };
}

/** Normalises one flow-log record given as an object (any of the field spellings). */
export function normalizeFlowRecord(rec: Record<string, unknown>, origin?: Origin): SiemEvent {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rec)) {
    const name = canonicalFlowField(k);
    fields[name] = typeof v === 'string' ? flowValue(name, v) : v;
  }
  return flowEvent(fields, undefined, origin);
}

/** True when a JSON object looks like a flow-log record. */
export function isFlowRecord(v: unknown): v is Record<string, unknown> {
  if (!isObject(v)) return false;
  const keys = new Set(Object.keys(v).map(canonicalFlowField));
  return keys.has('srcaddr') && keys.has('dstaddr') && (keys.has('dstport') || keys.has('action') || keys.has('bytes'));
}

function splitHeader(line: string): string[] {
  return line.trim().split(/[\s,]+/).map(canonicalFlowField);
}

/** True when a line is a flow-log header (names AWS flow-log fields). */
export function isFlowHeader(line: string): boolean {
  const names = splitHeader(line);
  const known = names.filter((n) => FLOW_FIELDS.has(n)).length;
  return names.includes('srcaddr') || names.includes('dstaddr') || (known >= 3 && known >= names.length / 2);
}

const FLOW_V2_LINE = /^\s*\d+\s+(\d{12}|unknown|-)\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s*$/;

/** True when a line looks like a default-format (v2) flow record. */
export function isFlowV2Line(line: string): boolean {
  return FLOW_V2_LINE.test(line);
}

export interface FlowParseOptions {
  /** Field names for files without a header line (a custom format): a list or a space-separated string. */
  readonly header?: string | readonly string[];
  readonly file?: string;
}

/**
 * Parses VPC Flow Logs text. A header line (first line, or any line that names flow fields) sets the fields of the
 * lines after it; without one, `options.header` or the default v2 fields are used. Comma-separated files with a
 * header (e.g. Athena or CSV exports) are accepted too. Lines that do not have the expected number of fields are
 * skipped and counted in `skipped`.
 */
export function parseFlowLogText(text: string, options: FlowParseOptions = {}): { events: SiemEvent[]; skipped: number } {
  let header: string[] = options.header
    ? typeof options.header === 'string'
      ? splitHeader(options.header)
      : options.header.map(canonicalFlowField)
    : [...FLOW_V2_FIELDS];
  let csv = false;
  const events: SiemEvent[] = [];
  let skipped = 0;
  let index = 0;
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    if (isFlowHeader(line) && !/^\s*\d/.test(line)) {
      csv = line.includes(',');
      header = splitHeader(line);
      continue;
    }
    const values = csv ? line.split(',') : line.trim().split(/\s+/);
    if (values.length < header.length || (!csv && values.length > header.length)) {
      skipped++;
      continue;
    }
    const fields: Record<string, unknown> = {};
    header.forEach((name, i) => (fields[name] = flowValue(name, values[i]!.trim())));
    events.push(flowEvent(fields, line, { file: options.file, index: index++ }));
  }
  return { events, skipped };
}

// ---------------------------------------------------------------------------------------------------------------
// CloudWatch Logs

/** Normalises a CloudWatch Logs event from any log group (CloudTrail and flow-log messages are recognised). */
export function normalizeLogEvent(
  ev: { timestamp?: number; message: string; logGroup?: string; logStream?: string; [k: string]: unknown },
  origin?: Origin,
): SiemEvent {
  const where: Origin = { ...origin, logGroup: ev.logGroup ?? origin?.logGroup, logStream: ev.logStream ?? origin?.logStream };
  const msg = ev.message;
  const trimmed = msg.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = JSON.parse(msg) as unknown;
      if (isCloudTrailRecord(parsed)) return normalizeCloudTrail(parsed, where);
      if (isFlowRecord(parsed)) return normalizeFlowRecord(parsed, where);
      if (isObject(parsed)) return logsEvent(ev, { ...parsed, message: msg }, where);
    } catch {
      // not JSON: a plain message
    }
  } else if (isFlowV2Line(msg)) {
    const { events } = parseFlowLogText(msg);
    if (events[0]) return { ...events[0], origin: where };
  }
  return logsEvent(ev, { message: msg }, where);
}

function logsEvent(ev: { timestamp?: number; message: string; logGroup?: string; logStream?: string }, fields: Record<string, unknown>, origin: Origin): SiemEvent {
  const ts = typeof ev.timestamp === 'number' ? ev.timestamp : NaN;
  const all: Record<string, unknown> = { ...fields };
  if (ev.logGroup !== undefined) all['logGroup'] ??= ev.logGroup;
  if (ev.logStream !== undefined) all['logStream'] ??= ev.logStream;
  all['timestamp'] ??= ev.timestamp;
  return {
    time: iso(ts),
    ts,
    source: 'logs',
    logsource: LOGS_LOGSOURCE,
    fields: all,
    summary: `${ev.logGroup ?? 'logs'}: ${ev.message.replace(/\s+/g, ' ').slice(0, 160)}`,
    raw: ev.message,
    origin,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Files

export type FileKind = 'cloudtrail' | 'vpcflow' | 'logs' | 'cloudtrail-digest' | 'empty' | 'unknown';

export interface ParsedFile {
  readonly kind: FileKind;
  readonly events: SiemEvent[];
  /** Records or lines that could not be read (including `untimed`). */
  readonly skipped: number;
  /** CloudTrail records skipped because they have no valid time (no ISO 8601 `eventTime`, no valid `@timestamp`). */
  readonly untimed?: number;
  /** CloudTrail records without `eventTime` whose `@timestamp` was taken as the event time. */
  readonly timestampFallback?: number;
  /** Why nothing was read, for unknown files. */
  readonly note?: string;
}

/** False for a CloudTrail event without a usable time: such events are skipped (and counted), never evaluated. */
export function hasValidTime(e: SiemEvent): boolean {
  return e.source !== 'cloudtrail' || Number.isFinite(e.ts);
}

/** Inflates gzip data (by magic bytes); other data is returned unchanged. */
export function maybeGunzip(data: Uint8Array): Uint8Array {
  return data.length > 2 && data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : data;
}

interface Counts {
  skipped: number;
  digest: boolean;
  untimed: number;
  timestamp: number;
}

function keep(e: SiemEvent, out: SiemEvent[], counts: Counts): void {
  if (!hasValidTime(e)) {
    counts.untimed++;
    counts.skipped++;
    return;
  }
  if (e.timeFrom) counts.timestamp++;
  out.push(e);
}

function fromJsonValue(v: unknown, file: string | undefined, out: SiemEvent[], counts: Counts): void {
  if (Array.isArray(v)) {
    for (const x of v) fromJsonValue(x, file, out, counts);
    return;
  }
  if (!isObject(v)) {
    counts.skipped++;
    return;
  }
  if (Array.isArray(v['Records'])) {
    fromJsonValue(v['Records'], file, out, counts);
    return;
  }
  // CloudWatch Logs exports / subscription payloads: {logEvents: [...], logGroup, logStream}.
  if (Array.isArray(v['logEvents'])) {
    for (const le of v['logEvents']) {
      if (isObject(le) && typeof le['message'] === 'string') {
        keep(normalizeLogEvent({ ...(le as { message: string }), logGroup: v['logGroup'] as string, logStream: v['logStream'] as string }, { file, index: out.length }), out, counts);
      } else counts.skipped++;
    }
    return;
  }
  if (isCloudTrailRecord(v)) keep(normalizeCloudTrail(v, { file, index: out.length }), out, counts);
  else if (isFlowRecord(v)) out.push(normalizeFlowRecord(v, { file, index: out.length }));
  else if (typeof v['message'] === 'string') keep(normalizeLogEvent(v as { message: string }, { file, index: out.length }), out, counts);
  else if (typeof v['digestStartTime'] === 'string' || typeof v['digestSignatureAlgorithm'] === 'string') counts.digest = true;
  else counts.skipped++;
}

/**
 * Parses the content of a log file of any supported format (see the header). `file` is recorded in each event's
 * origin. `flowHeader` gives the fields of a flow-log file without a header line.
 */
export function parseLogData(data: Uint8Array | string, file?: string, flowHeader?: string | readonly string[]): ParsedFile {
  const text = typeof data === 'string' ? data : new TextDecoder().decode(maybeGunzip(data));
  const body = text.replace(/^\uFEFF/, '');
  const first = body.trimStart();
  if (!first) return { kind: 'empty', events: [], skipped: 0 };
  const out: SiemEvent[] = [];
  const counts: Counts = { skipped: 0, digest: false, untimed: 0, timestamp: 0 };
  if (first.startsWith('{') || first.startsWith('[')) {
    let whole: unknown;
    let parsedWhole = false;
    try {
      whole = JSON.parse(body);
      parsedWhole = true;
    } catch {
      // JSON lines
    }
    if (parsedWhole) fromJsonValue(whole, file, out, counts);
    else {
      for (const line of body.split(/\r?\n/)) {
        if (!line.trim()) continue;
        try {
          fromJsonValue(JSON.parse(line), file, out, counts);
        } catch {
          counts.skipped++;
        }
      }
    }
    if (!out.length && counts.digest) return { kind: 'cloudtrail-digest', events: [], skipped: 0, note: 'CloudTrail digest file (no events)' };
    const times = { ...(counts.untimed ? { untimed: counts.untimed } : {}), ...(counts.timestamp ? { timestampFallback: counts.timestamp } : {}) };
    if (!out.length && counts.untimed) return { kind: 'cloudtrail', events: [], skipped: counts.skipped, ...times, note: 'CloudTrail records without a valid eventTime or @timestamp' };
    const kind: FileKind = out.length ? (out.every((e) => e.source === out[0]!.source) ? out[0]!.source : 'logs') : 'unknown';
    return { kind, events: out, skipped: counts.skipped, ...times, note: out.length ? undefined : 'JSON without CloudTrail records, flow records or log events' };
  }
  const firstLine = first.split(/\r?\n/, 1)[0]!;
  if (flowHeader || isFlowHeader(firstLine) || isFlowV2Line(firstLine)) {
    const { events, skipped } = parseFlowLogText(body, { header: flowHeader, file });
    return { kind: 'vpcflow', events, skipped };
  }
  return { kind: 'unknown', events: [], skipped: 0, note: 'not CloudTrail JSON and not VPC Flow Logs text' };
}
