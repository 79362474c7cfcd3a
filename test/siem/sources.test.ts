// The S3 and CloudWatch Logs readers against in-memory fakes of the two APIs (ListObjectsV2 with Delimiter and
// StartAfter, GetObject, FilterLogEvents with nextToken): incremental reading, files written late, day folders,
// organization trails, Hive-compatible flow-log folders.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { FilterLogEventsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { describeLocation, fileStamp, readLogs, readS3, type ResolvedSource, type SourceCheckpoint } from '../../src/controls/siem/sources.ts';

class FakeS3 {
  objects = new Map<string, Buffer>();
  calls: Array<{ op: string; input: Record<string, unknown> }> = [];
  put(key: string, body: string): void {
    this.objects.set(key, gzipSync(body));
  }
  async send(cmd: unknown): Promise<unknown> {
    const input = (cmd as { input: Record<string, unknown> }).input;
    if (cmd instanceof ListObjectsV2Command) {
      this.calls.push({ op: 'List', input });
      const prefix = String(input['Prefix'] ?? '');
      const after = String(input['StartAfter'] ?? '');
      const delim = input['Delimiter'] as string | undefined;
      const keys = [...this.objects.keys()].sort().filter((k) => k.startsWith(prefix) && k > after);
      if (!delim) return { Contents: keys.map((Key) => ({ Key })), IsTruncated: false };
      const prefixes = new Set<string>();
      const contents: string[] = [];
      for (const k of keys) {
        const i = k.indexOf(delim, prefix.length);
        if (i < 0) contents.push(k);
        else prefixes.add(k.slice(0, i + 1));
      }
      return { Contents: contents.map((Key) => ({ Key })), CommonPrefixes: [...prefixes].map((Prefix) => ({ Prefix })), IsTruncated: false };
    }
    if (cmd instanceof GetObjectCommand) {
      this.calls.push({ op: 'Get', input });
      const body = this.objects.get(String(input['Key']));
      if (!body) throw Object.assign(new Error('no such key'), { name: 'NoSuchKey' });
      return { Body: { transformToByteArray: async () => new Uint8Array(body) } };
    }
    throw new Error('unexpected command');
  }
}

const ACCOUNT = '111122223333';
let n = 0;
const record = (eventName: string, time: string) => ({
  eventVersion: '1.08', eventTime: time, eventSource: 'iam.amazonaws.com', eventName, awsRegion: 'us-east-1', sourceIPAddress: '198.51.100.7',
  userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/alice` }, eventID: `id-${++n}`, eventType: 'AwsApiCall', recipientAccountId: ACCOUNT,
});
const ctKey = (region: string, iso: string, suffix: string, org = '') => {
  const d = iso.slice(0, 10).replace(/-/g, '/');
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}Z`;
  return `logs/AWSLogs/${org}${ACCOUNT}/CloudTrail/${region}/${d}/${ACCOUNT}_CloudTrail_${region}_${stamp}_${suffix}.json.gz`;
};
const src = (over: Partial<ResolvedSource> = {}): ResolvedSource => {
  const base = { name: 'trail', type: 'cloudtrail' as const, s3: { bucket: 'b', prefix: 'logs' }, ...over };
  return { ...base, location: describeLocation(base) };
};
const s3cp = (): Extract<SourceCheckpoint, { kind: 's3' }> => ({ kind: 's3', partitions: {} });
const names = (r: { events: { fields: Record<string, unknown> }[] }) => r.events.map((e) => e.fields['eventName']);

describe('S3 source', () => {
  it('reads the stamp of CloudTrail and flow-log file names', () => {
    expect(fileStamp(`AWSLogs/${ACCOUNT}/CloudTrail/us-east-1/2026/01/05/${ACCOUNT}_CloudTrail_us-east-1_20260105T1205Z_ab12.json.gz`)).toBe(Date.UTC(2026, 0, 5, 12, 5));
    expect(fileStamp(`x/${ACCOUNT}_vpcflowlogs_us-east-1_fl-1234_20260105T2355Z_ab12.log.gz`)).toBe(Date.UTC(2026, 0, 5, 23, 55));
    expect(fileStamp('x/other.json')).toBeUndefined();
  });

  it('reads each log file once, in every region, skipping digests, and lists from the current day only', async () => {
    const s3 = new FakeS3();
    s3.put(ctKey('us-east-1', '2026-01-05T12:00:00Z', 'a1'), JSON.stringify({ Records: [record('ListUsers', '2026-01-05T11:59:10Z')] }));
    s3.put(ctKey('eu-west-1', '2026-01-05T12:00:00Z', 'b1'), JSON.stringify({ Records: [record('DescribeInstances', '2026-01-05T11:59:20Z')] }));
    s3.put(`logs/AWSLogs/${ACCOUNT}/CloudTrail-Digest/us-east-1/2026/01/05/${ACCOUNT}_CloudTrail-Digest_us-east-1_t_us-east-1_20260105T120000Z.json.gz`, '{"logFiles": []}');
    const cp = s3cp();
    const r1 = await readS3(src(), s3 as unknown as S3Client, cp, true);
    expect(names(r1).sort()).toEqual(['DescribeInstances', 'ListUsers']);
    expect(r1.objects).toBe(2);

    // Two files in the same minute: one sorts before the file already read (random suffixes).
    s3.put(ctKey('us-east-1', '2026-01-05T12:00:00Z', '0a'), JSON.stringify({ Records: [record('GetUser', '2026-01-05T12:00:05Z')] }));
    s3.put(ctKey('us-east-1', '2026-01-05T12:05:00Z', 'c3'), JSON.stringify({ Records: [record('ListRoles', '2026-01-05T12:04:00Z')] }));
    const r2 = await readS3(src(), s3 as unknown as S3Client, cp, false);
    expect(names(r2)).toEqual(['GetUser', 'ListRoles']);
    const r3 = await readS3(src(), s3 as unknown as S3Client, cp, false);
    expect(r3.events).toEqual([]);

    // The next day: the listing starts at the day folder still within the lookback.
    s3.put(ctKey('us-east-1', '2026-01-06T00:20:00Z', 'd4'), JSON.stringify({ Records: [record('ListGroups', '2026-01-06T00:19:00Z')] }));
    await readS3(src({ lookback: 60_000 }), s3 as unknown as S3Client, cp, false);
    s3.calls = [];
    s3.put(ctKey('us-east-1', '2026-01-06T00:25:00Z', 'e5'), JSON.stringify({ Records: [record('ListPolicies', '2026-01-06T00:24:00Z')] }));
    const r4 = await readS3(src({ lookback: 60_000 }), s3 as unknown as S3Client, cp, false);
    expect(names(r4)).toEqual(['ListPolicies']);
    const regionList = s3.calls.find((c) => c.op === 'List' && String(c.input['Prefix']).endsWith('/us-east-1/'))!;
    expect(regionList.input['StartAfter']).toBe(`logs/AWSLogs/${ACCOUNT}/CloudTrail/us-east-1/2026/01/06`);
  });

  it('counts a file written later than the lookback as skipped instead of reading it out of order', async () => {
    const s3 = new FakeS3();
    const cp = s3cp();
    s3.put(ctKey('us-east-1', '2026-01-05T12:30:00Z', 'a1'), JSON.stringify({ Records: [record('ListUsers', '2026-01-05T12:29:00Z')] }));
    await readS3(src({ lookback: 5 * 60_000 }), s3 as unknown as S3Client, cp, true);
    s3.put(ctKey('us-east-1', '2026-01-05T12:10:00Z', 'b2'), JSON.stringify({ Records: [record('GetUser', '2026-01-05T12:09:00Z')] }));
    s3.put(ctKey('us-east-1', '2026-01-05T12:27:00Z', 'c3'), JSON.stringify({ Records: [record('ListRoles', '2026-01-05T12:26:00Z')] }));
    const r = await readS3(src({ lookback: 5 * 60_000 }), s3 as unknown as S3Client, cp, false);
    expect(names(r)).toEqual(['ListRoles']);
    expect(r.skipped).toBe(1);
  });

  it('finds organization trails and Hive-compatible flow-log folders, and reads custom flow-log formats', async () => {
    const s3 = new FakeS3();
    s3.put(ctKey('us-east-1', '2026-01-05T12:00:00Z', 'a1', 'o-abc123/'), JSON.stringify({ Records: [record('ListUsers', '2026-01-05T11:59:00Z')] }));
    const org = await readS3(src(), s3 as unknown as S3Client, s3cp(), true);
    expect(names(org)).toEqual(['ListUsers']);

    const flows = new FakeS3();
    const hive = `AWSLogs/aws-account-id=${ACCOUNT}/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/month=01/day=05/hour=12/${ACCOUNT}_vpcflowlogs_us-east-1_fl-1_20260105T1205Z_ab.log.gz`;
    flows.put(hive, 'version srcaddr dstaddr dstport bytes start end action\n5 10.0.1.10 198.51.100.9 443 73400320 1767614700 1767614760 ACCEPT\n');
    const source = { name: 'flows', type: 'vpcflow' as const, s3: { bucket: 'f' } };
    const r = await readS3({ ...source, location: describeLocation(source) }, flows as unknown as S3Client, s3cp(), true);
    expect(r.events).toHaveLength(1);
    expect(r.events[0]!.fields).toMatchObject({ srcaddr: '10.0.1.10', dstport: 443, bytes: 73400320, action: 'ACCEPT' });
  });

  it('with startAt: now, marks what is there as read without reading it', async () => {
    const s3 = new FakeS3();
    s3.put(ctKey('us-east-1', '2026-01-05T12:00:00Z', 'a1'), JSON.stringify({ Records: [record('ListUsers', '2026-01-05T11:59:00Z')] }));
    const cp = s3cp();
    const r1 = await readS3(src({ startAt: 'now' }), s3 as unknown as S3Client, cp, true);
    expect(r1.events).toEqual([]);
    s3.put(ctKey('us-east-1', '2026-01-05T12:05:00Z', 'b2'), JSON.stringify({ Records: [record('GetUser', '2026-01-05T12:04:00Z')] }));
    expect(names(await readS3(src({ startAt: 'now' }), s3 as unknown as S3Client, cp, false))).toEqual(['GetUser']);
  });
});

class FakeLogs {
  events: Array<{ eventId: string; timestamp: number; message: string; logStreamName: string }> = [];
  pageSize = 2;
  calls: Array<Record<string, unknown>> = [];
  async send(cmd: unknown): Promise<unknown> {
    if (!(cmd instanceof FilterLogEventsCommand)) throw new Error('unexpected command');
    const input = cmd.input;
    this.calls.push(input as Record<string, unknown>);
    const all = this.events.filter((e) => input.startTime === undefined || e.timestamp >= input.startTime).sort((a, b) => a.timestamp - b.timestamp);
    const from = input.nextToken ? Number(input.nextToken) : 0;
    const page = all.slice(from, from + this.pageSize);
    return { events: page, ...(from + this.pageSize < all.length ? { nextToken: String(from + this.pageSize) } : {}) };
  }
}

describe('CloudWatch Logs source', () => {
  it('pages with nextToken, reads late events within the lookback, and never reads an event twice', async () => {
    const logs = new FakeLogs();
    let id = 0;
    const put = (timestamp: number, message: string) => logs.events.push({ eventId: String(++id), timestamp, message, logStreamName: 's1' });
    const t0 = Date.UTC(2026, 0, 5, 12);
    for (let i = 0; i < 5; i++) put(t0 + i * 1000, `line ${i}`);
    const source = { name: 'app', type: 'logs' as const, logGroup: '/app', lookback: 60_000 };
    const s = { ...source, location: describeLocation(source) };
    const cp: Extract<SourceCheckpoint, { kind: 'logs' }> = { kind: 'logs', groups: {} };
    const r1 = await readLogs(s, logs as unknown as CloudWatchLogsClient, cp, true);
    expect(r1.events.map((e) => e.fields['message'])).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
    expect(logs.calls.length).toBe(3);
    // A late event (older than the newest read, within the lookback), a new one, and one too late.
    put(t0 + 2500, 'late');
    put(t0 + 10_000, 'new');
    put(t0 + 4000 - 120_000, 'too late');
    const r2 = await readLogs(s, logs as unknown as CloudWatchLogsClient, cp, false);
    expect(r2.events.map((e) => e.fields['message'])).toEqual(['late', 'new']);
    expect(logs.calls.at(-1)!['startTime']).toBe(t0 + 4000 - 60_000);
    expect((await readLogs(s, logs as unknown as CloudWatchLogsClient, cp, false)).events).toEqual([]);
    // The checkpoint only keeps ids inside the window.
    expect(Object.keys(cp.groups['/app']!.ids).length).toBeLessThanOrEqual(7);
  });

  it('reads flow logs in a custom format (no header line in CloudWatch Logs)', async () => {
    const logs = new FakeLogs();
    logs.events.push({ eventId: '1', timestamp: 1767614700000, message: '5 vpc-1 10.0.1.10 198.51.100.9 443 73400320 1767614700 ACCEPT egress', logStreamName: 'eni-1-all' });
    const source = { name: 'flows', type: 'vpcflow' as const, logGroup: '/vpc', format: '${version} ${vpc-id} ${srcaddr} ${dstaddr} ${dstport} ${bytes} ${start} ${action} ${flow-direction}' };
    const r = await readLogs({ ...source, location: describeLocation(source) }, logs as unknown as CloudWatchLogsClient, { kind: 'logs', groups: {} }, true);
    expect(r.events[0]!.fields).toMatchObject({ 'vpc-id': 'vpc-1', srcaddr: '10.0.1.10', bytes: 73400320, 'flow-direction': 'egress' });
    expect(r.events[0]!.origin).toEqual({ logGroup: '/vpc', logStream: 'eni-1-all' });
  });
});
