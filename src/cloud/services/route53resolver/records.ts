// Route 53 Resolver query-log records as AWS writes them (Route 53 Developer Guide, "Values that appear
// in VPC Resolver query logs" and "Resolver query log example"), the destinations a query logging
// configuration names (DestinationArn), and the S3 object layout of delivered files
// (AWSLogs/<account>/vpcdnsquerylogs/<vpc>/yyyy/mm/dd/<vpc>_vpcdnsquerylogs_<account>_<yyyymmddThhmmZ>_<hash>.log.gz,
// one JSON record per line, gzip).
import { createHash } from 'node:crypto';

/** One answer of a query (Rdata as text, Type the record type, Class IN). */
export interface QueryLogAnswer {
  Rdata: string;
  Type: string;
  Class: string;
}

/** A query-log record, with its members in the order AWS's format page lists them. */
export interface QueryLogRecord {
  version: '1.100000';
  account_id: string;
  region: string;
  vpc_id: string;
  /** ISO 8601, seconds, UTC ("2021-02-04T17:51:55Z"). */
  query_timestamp: string;
  /** With a trailing dot ("example.com."). */
  query_name: string;
  query_type: string;
  query_class: 'IN';
  rcode: string;
  answers: QueryLogAnswer[];
  srcaddr: string;
  /** A string in AWS's records ("56067"). */
  srcport: string;
  transport: 'UDP' | 'TCP';
  srcids: { instance?: string };
}

export type Destination =
  | { kind: 'logs'; account: string; region: string; group: string }
  | { kind: 's3'; bucket: string; prefix: string }
  | { kind: 'firehose'; account: string; region: string; stream: string };

/** The filter value `Destination` takes for each kind (ListResolverQueryLogConfigs). */
export const DESTINATION_NAMES = { logs: 'CloudWatchLogs', s3: 'S3', firehose: 'KinesisFirehose' } as const;

/**
 * A DestinationArn as the API reference gives its forms: arn:aws:s3:::bucket (optionally /prefix/),
 * arn:aws:logs:<region>:<account>:log-group:<name> (optionally :*), and a Kinesis Data Firehose delivery
 * stream (arn:aws:firehose:<region>:<account>:deliverystream/<name>). A message saying what is wrong otherwise.
 */
export function parseDestination(arn: string): Destination | string {
  const s3 = /^arn:aws[a-z-]*:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(arn);
  if (s3) {
    const prefix = (s3[2] ?? '').replace(/^\/+|\/+$/g, '');
    return { kind: 's3', bucket: s3[1]!, prefix };
  }
  const logs = /^arn:aws[a-z-]*:logs:([a-z0-9-]+):(\d{12}):log-group:([.\-_/#A-Za-z0-9]{1,512}?)(?::\*)?$/.exec(arn);
  if (logs) return { kind: 'logs', region: logs[1]!, account: logs[2]!, group: logs[3]! };
  const fh = /^arn:aws[a-z-]*:firehose:([a-z0-9-]+):(\d{12}):deliverystream\/([a-zA-Z0-9_.-]{1,64})$/.exec(arn);
  if (fh) return { kind: 'firehose', region: fh[1]!, account: fh[2]!, stream: fh[3]! };
  return `${arn} is not the ARN of an S3 bucket (arn:aws:s3:::<bucket>[/<prefix>/]), a CloudWatch Logs log group (arn:aws:logs:<region>:<account>:log-group:<name>) or a Kinesis Data Firehose delivery stream (arn:aws:firehose:<region>:<account>:deliverystream/<name>)`;
}

/** A query name as the log writes it: lower-case is not forced (DNS is case-insensitive; AWS logs what was asked), trailing dot added. */
export function fqdn(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

/** Checks a query name: labels of 1..63 octets, 253 in all (RFC 1035). A message when it is not one. */
export function checkName(name: string): string | undefined {
  const n = name.replace(/\.$/, '');
  if (!n) return 'a query name is empty';
  if (n.length > 253) return `the query name ${n.slice(0, 40)}… is longer than 253 characters`;
  const bad = n.split('.').find((l) => l.length < 1 || l.length > 63 || !/^[\x21-\x7e]+$/.test(l));
  return bad === undefined ? undefined : `the query name ${n} has a label that is empty, longer than 63 characters or not printable ASCII`;
}

export const iso = (ms: number): string => new Date(ms).toISOString();
/** query_timestamp: whole seconds, as AWS writes it. */
export const queryTimestamp = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}Z`;

/** Files in S3 cover 5 minutes of query times (the lab's choice; AWS delivers about every few minutes). */
export const S3_FILE_MS = 5 * 60_000;

/** The S3 key of the file holding one VPC's queries of one 5-minute period. */
export function s3Key(prefix: string, account: string, vpcId: string, periodStartMs: number, body: Buffer): string {
  const d = new Date(periodStartMs);
  const p2 = (n: number) => String(n).padStart(2, '0');
  const [y, m, day, h, min] = [d.getUTCFullYear(), p2(d.getUTCMonth() + 1), p2(d.getUTCDate()), p2(d.getUTCHours()), p2(d.getUTCMinutes())];
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 8);
  const folder = `${prefix ? `${prefix}/` : ''}AWSLogs/${account}/vpcdnsquerylogs/${vpcId}/${y}/${m}/${day}/`;
  return `${folder}${vpcId}_vpcdnsquerylogs_${account}_${y}${m}${day}T${h}${min}Z_${hash}.log.gz`;
}

/** A deterministic ephemeral source port for a query (1024..65535) when the scenario gives none. */
export function sourcePort(srcaddr: string, qname: string, at: number): number {
  const h = createHash('sha256').update(`${srcaddr}|${qname}|${at}`).digest();
  return 1024 + (h.readUInt32BE(0) % (65536 - 1024));
}
