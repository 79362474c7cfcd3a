// The SIEM's inputs, read the way SIEM integrations with AWS read them, through the AWS SDK only:
//
// - S3 (CloudTrail log files, VPC Flow Logs files): the AWS key layout `[prefix/]AWSLogs/[o-org/]<account>/
//   <CloudTrail|vpcflowlogs>/<region>/<yyyy>/<mm>/<dd>/...` (also the Hive-compatible flow-log layout). Accounts,
//   services and regions are discovered with delimiter listings; each region partition is then listed from the
//   oldest day that may still receive files (StartAfter), and files are read once: a file is new when its key has
//   not been read and its time stamp (in the file name) is not older than the newest file read minus `lookback`.
// - CloudWatch Logs (a CloudTrail trail's log group, flow logs, any application log group): FilterLogEvents from
//   the newest event time read minus `lookback`, with every page (nextToken), and the event ids read in that window
//   remembered, so late events are read and nothing is read twice.
//
// Checkpoints are plain JSON, persisted by the Siem class after every poll (at-least-once: a crash between reading
// and persisting reads the same data again; a restart with the state file neither re-reads nor skips).
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { DescribeLogGroupsCommand, FilterLogEventsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { SourceConfig } from './config.ts';
import {
  FLOW_V2_FIELDS,
  hasValidTime,
  normalizeLogEvent,
  parseFlowLogText,
  parseLogData,
  type EventSource,
  type SiemEvent,
} from './events.ts';

export const DEFAULT_LOOKBACK_MS = 10 * 60_000;

/** A resolved source: its configuration with placeholders replaced. */
export interface ResolvedSource extends SourceConfig {
  /** Where it reads, for humans and for the checkpoint key: `s3://bucket/prefix`, `logs:group`, `logs:prefix*`. */
  readonly location: string;
}

export interface S3Partition {
  /** Keys read whose time stamp is within `lookback` of `max`, with that time stamp. */
  seen: Record<string, number>;
  /** Newest file time stamp read. */
  max?: number;
  /** StartAfter for the next listing. */
  after?: string;
}

export interface LogGroupCheckpoint {
  /** Newest event time read. */
  t?: number;
  /** Event ids read with time ≥ t − lookback, with their time. */
  ids: Record<string, number>;
}

export type SourceCheckpoint =
  | { readonly kind: 's3'; partitions: Record<string, S3Partition> }
  | { readonly kind: 'logs'; groups: Record<string, LogGroupCheckpoint> };

export interface SourceStatus {
  readonly name: string;
  readonly type: SourceConfig['type'];
  /** Where it reads, placeholders replaced once known (`s3://bucket/prefix/`, `logs:group`, `logs:prefix*`). */
  location: string;
  /** The location as the configuration writes it. */
  readonly configured: string;
  readonly region: string;
  enabled: boolean;
  /** Events read (all polls, this process and before it when a state file is used). */
  events: number;
  /** Files (S3) or log groups (CloudWatch Logs) read from. */
  objects: number;
  /** Records or lines that could not be read, and files older than the lookback when they appeared. */
  skipped: number;
  /** Lab or wall time (ISO) of the last poll, and of the newest event read. */
  lastPoll?: string;
  newestEvent?: string;
  /** The last poll's problem (the source is retried on the next poll). */
  error?: string;
}

export interface SourceClients {
  s3(region: string): S3Client;
  logs(region: string): CloudWatchLogsClient;
}

export interface ReadResult {
  events: SiemEvent[];
  objects: number;
  skipped: number;
}

const WANTED: Record<EventSource, EventSource[]> = { cloudtrail: ['cloudtrail'], vpcflow: ['vpcflow'], logs: ['cloudtrail', 'vpcflow', 'logs'] };

/** Service folders of the AWS S3 layouts, per source type. */
const SERVICE_FOLDERS: Record<SourceConfig['type'], RegExp> = {
  cloudtrail: /^(CloudTrail)\/$/,
  vpcflow: /^(vpcflowlogs|aws-service=vpcflowlogs)\/$/,
  logs: /^(CloudTrail|vpcflowlogs|aws-service=vpcflowlogs)\/$/,
};

/** Log files (not digests, not Insights) of each type. */
const FILE_NAME: Record<SourceConfig['type'], RegExp> = {
  cloudtrail: /_CloudTrail_[^/]*\.json(\.gz)?$/,
  vpcflow: /_vpcflowlogs_[^/]*\.log(\.gz)?$/,
  logs: /(_CloudTrail_[^/]*\.json|_vpcflowlogs_[^/]*\.log)(\.gz)?$/,
};

const STAMP = /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})?Z[_.]/;
const DAY = /^((?:year=)?\d{4}\/(?:month=)?\d{2}\/(?:day=)?\d{2})\//;

/** The time stamp in a CloudTrail or flow-log file name (`..._20260101T1205Z_...`), or undefined. */
export function fileStamp(key: string): number | undefined {
  const m = STAMP.exec(key.slice(key.lastIndexOf('/') + 1));
  if (!m) return undefined;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
}

export function describeLocation(s: SourceConfig): string {
  if (s.s3) return `s3://${s.s3.bucket}/${s.s3.prefix ? `${s.s3.prefix.replace(/\/+$/, '')}/` : ''}`;
  if (s.logGroup) return `logs:${s.logGroup}`;
  return `logs:${s.logGroupPrefix}*`;
}

export function emptyCheckpoint(s: SourceConfig): SourceCheckpoint {
  return s.s3 ? { kind: 's3', partitions: {} } : { kind: 'logs', groups: {} };
}

const errName = (e: unknown) => (e as { name?: string }).name ?? '';

/** Turns SDK errors into messages that say what to do. */
export function explainSourceError(s: ResolvedSource, e: unknown): string {
  const n = errName(e);
  const msg = (e as Error).message ?? String(e);
  if (n === 'NoSuchBucket') return `bucket ${s.s3?.bucket} does not exist`;
  if (n === 'ResourceNotFoundException') return `log group ${s.logGroup ?? s.logGroupPrefix} does not exist (yet)`;
  if (n === 'AccessDenied' || n === 'AccessDeniedException' || /not authorized|Access Denied/i.test(msg)) return `access denied reading ${s.location}: the SIEM's credentials need read access (${s.s3 ? 's3:ListBucket, s3:GetObject' : 'logs:FilterLogEvents, logs:DescribeLogGroups'})`;
  return `${n ? `${n}: ` : ''}${msg}`;
}

// ---------------------------------------------------------------------------------------------------------------
// S3

async function listAll(client: S3Client, input: { Bucket: string; Prefix: string; Delimiter?: string; StartAfter?: string }): Promise<{ keys: string[]; prefixes: string[] }> {
  const keys: string[] = [];
  const prefixes: string[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ ...input, StartAfter: input.StartAfter || undefined, ContinuationToken }));
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    for (const p of page.CommonPrefixes ?? []) if (p.Prefix) prefixes.push(p.Prefix);
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  return { keys, prefixes };
}

/** Region partitions (`.../AWSLogs/<account>/<service>/<region>/`) of a bucket prefix, for a source type. */
async function s3Partitions(client: S3Client, bucket: string, base: string, type: SourceConfig['type']): Promise<string[]> {
  const level1 = (await listAll(client, { Bucket: bucket, Prefix: base, Delimiter: '/' })).prefixes;
  const accounts: string[] = [];
  for (const p of level1) {
    const name = p.slice(base.length, -1);
    // Organization trails: AWSLogs/o-xxxx/<account>/...
    if (/^o-[a-z0-9]+$/.test(name)) accounts.push(...(await listAll(client, { Bucket: bucket, Prefix: p, Delimiter: '/' })).prefixes);
    else accounts.push(p);
  }
  const out: string[] = [];
  for (const a of accounts) {
    const services = (await listAll(client, { Bucket: bucket, Prefix: a, Delimiter: '/' })).prefixes.filter((p) => SERVICE_FOLDERS[type].test(p.slice(a.length)));
    for (const s of services) out.push(...(await listAll(client, { Bucket: bucket, Prefix: s, Delimiter: '/' })).prefixes);
  }
  return out;
}

export async function readS3(s: ResolvedSource, client: S3Client, cp: Extract<SourceCheckpoint, { kind: 's3' }>, first: boolean): Promise<ReadResult> {
  const bucket = s.s3!.bucket;
  const base = `${s.s3!.prefix ? `${s.s3!.prefix.replace(/\/+$/, '')}/` : ''}AWSLogs/`;
  const lookback = s.lookback ?? DEFAULT_LOOKBACK_MS;
  const wanted = WANTED[s.type];
  const out: ReadResult = { events: [], objects: 0, skipped: 0 };
  for (const partition of await s3Partitions(client, bucket, base, s.type)) {
    const st = (cp.partitions[partition] ??= { seen: {} });
    const { keys } = await listAll(client, { Bucket: bucket, Prefix: partition, StartAfter: st.after });
    const horizon = st.max === undefined ? -Infinity : st.max - lookback;
    const fresh: Array<{ key: string; stamp: number }> = [];
    for (const key of keys) {
      if (!FILE_NAME[s.type].test(key) || key in st.seen) continue;
      const stamp = fileStamp(key) ?? Number.NaN;
      if (Number.isFinite(stamp) && stamp < horizon) {
        out.skipped++; // arrived later than `lookback` after newer files: beyond what the source waits for
        st.seen[key] = stamp;
        continue;
      }
      fresh.push({ key, stamp });
    }
    fresh.sort((a, b) => (a.stamp || 0) - (b.stamp || 0) || (a.key < b.key ? -1 : 1));
    for (const { key, stamp } of fresh) {
      if (!(first && s.startAt === 'now')) {
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const body = await res.Body!.transformToByteArray();
        const parsed = parseLogData(body, `s3://${bucket}/${key}`, s.type === 'vpcflow' ? s.format : undefined);
        out.skipped += parsed.skipped;
        for (const e of parsed.events) {
          if (wanted.includes(e.source)) out.events.push(e);
          else out.skipped++;
        }
        out.objects++;
      }
      st.seen[key] = Number.isFinite(stamp) ? stamp : Date.now();
      if (Number.isFinite(stamp) && (st.max === undefined || stamp > st.max)) st.max = stamp;
    }
    // Forget what is older than the window and list from the oldest day still inside it.
    if (st.max !== undefined) {
      // Late files (older than the horizon) stay known for one more window so they are counted once.
      const keep = st.max - 2 * lookback;
      for (const [k, t] of Object.entries(st.seen)) if (t < keep) delete st.seen[k];
      let after: string | undefined;
      for (const k of Object.keys(st.seen)) {
        const day = DAY.exec(k.slice(partition.length))?.[1];
        const candidate = day ? `${partition}${day}` : undefined;
        if (candidate && (after === undefined || candidate < after)) after = candidate;
      }
      if (after !== undefined) st.after = after;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// CloudWatch Logs

async function logGroups(s: ResolvedSource, client: CloudWatchLogsClient): Promise<string[]> {
  if (s.logGroup) return [s.logGroup];
  const out: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: s.logGroupPrefix, nextToken }));
    for (const g of page.logGroups ?? []) if (g.logGroupName) out.push(g.logGroupName);
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

const FLOW_HEADER = FLOW_V2_FIELDS.join(' ');

function logEventToSiem(s: ResolvedSource, ev: { timestamp: number; message: string; logGroup: string; logStream?: string }, out: ReadResult): void {
  const origin = { logGroup: ev.logGroup, logStream: ev.logStream };
  if (s.type === 'vpcflow' && !ev.message.trimStart().startsWith('{')) {
    const { events, skipped } = parseFlowLogText(ev.message, { header: s.format ?? FLOW_HEADER });
    out.skipped += skipped;
    for (const e of events) out.events.push({ ...e, origin });
    return;
  }
  const e = normalizeLogEvent(ev, origin);
  // A CloudTrail message without a valid eventTime (or @timestamp) is counted as skipped, never evaluated.
  if (WANTED[s.type].includes(e.source) && hasValidTime(e)) out.events.push(e);
  else out.skipped++;
}

export async function readLogs(s: ResolvedSource, client: CloudWatchLogsClient, cp: Extract<SourceCheckpoint, { kind: 'logs' }>, first: boolean): Promise<ReadResult> {
  const lookback = s.lookback ?? DEFAULT_LOOKBACK_MS;
  const out: ReadResult = { events: [], objects: 0, skipped: 0 };
  for (const group of await logGroups(s, client)) {
    const st = (cp.groups[group] ??= { ids: {} });
    const discard = first && s.startAt === 'now';
    let nextToken: string | undefined;
    let newest = st.t;
    const startTime = st.t === undefined ? undefined : Math.max(0, st.t - lookback);
    let read = 0;
    do {
      const page = await client.send(new FilterLogEventsCommand({ logGroupName: group, startTime, nextToken }));
      for (const ev of page.events ?? []) {
        const id = ev.eventId ?? `${ev.logStreamName}|${ev.timestamp}|${ev.message}`;
        const ts = ev.timestamp ?? 0;
        if (id in st.ids) continue;
        st.ids[id] = ts;
        if (newest === undefined || ts > newest) newest = ts;
        read++;
        if (!discard) logEventToSiem(s, { timestamp: ts, message: ev.message ?? '', logGroup: group, logStream: ev.logStreamName }, out);
      }
      nextToken = page.nextToken;
    } while (nextToken);
    if (read) out.objects++;
    st.t = newest;
    if (newest !== undefined) {
      const keep = newest - lookback;
      for (const [k, t] of Object.entries(st.ids)) if (t < keep) delete st.ids[k];
    }
  }
  return out;
}
