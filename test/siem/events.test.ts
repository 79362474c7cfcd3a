// Normalisation of CloudTrail (Records files, arrays, JSON lines, gzip), VPC Flow Logs (default and custom
// formats, with or without a header) and CloudWatch Logs events into one schema, original kept.
import { gzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import {
  canonicalFlowField,
  normalizeLogEvent,
  parseFlowLogText,
  parseLogData,
} from '../../src/controls/siem/events.ts';

const record = (name: string, extra: Record<string, unknown> = {}) => ({
  eventVersion: '1.08',
  eventTime: '2024-03-01T10:00:00Z',
  eventSource: 's3.amazonaws.com',
  eventName: name,
  sourceIPAddress: '203.0.113.10',
  userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice' },
  ...extra,
});

describe('CloudTrail', () => {
  const recs = [record('GetObject'), record('PutObject', { errorCode: 'AccessDenied' })];
  const check = (parsed: ReturnType<typeof parseLogData>) => {
    expect(parsed.kind).toBe('cloudtrail');
    expect(parsed.events).toHaveLength(2);
    const [a, b] = parsed.events;
    expect(a).toMatchObject({ source: 'cloudtrail', logsource: { product: 'aws', service: 'cloudtrail' }, time: '2024-03-01T10:00:00Z', ts: Date.parse('2024-03-01T10:00:00Z') });
    expect(a!.fields).toEqual(recs[0]);
    expect(a!.summary).toBe('s3:GetObject by arn:aws:iam::111122223333:user/alice from 203.0.113.10');
    expect(b!.summary).toBe('s3:PutObject by arn:aws:iam::111122223333:user/alice from 203.0.113.10 → AccessDenied');
  };
  it('reads a log file with a Records array', () => check(parseLogData(JSON.stringify({ Records: recs }))));
  it('reads a JSON array', () => check(parseLogData(JSON.stringify(recs))));
  it('reads JSON lines', () => check(parseLogData(recs.map((r) => JSON.stringify(r)).join('\n') + '\n')));
  it('reads gzipped files (as CloudTrail delivers them to S3)', () => {
    check(parseLogData(gzipSync(new TextEncoder().encode(JSON.stringify({ Records: recs })))));
  });
  it('reads CloudWatch Logs exports whose messages are CloudTrail records', () => {
    const exp = { logGroup: 'trail-group', logStream: 's', logEvents: recs.map((r, i) => ({ id: String(i), timestamp: 1, message: JSON.stringify(r) })) };
    const parsed = parseLogData(JSON.stringify(exp));
    check(parsed);
    expect(parsed.events[0]!.origin).toMatchObject({ logGroup: 'trail-group', logStream: 's' });
  });
  it('records the origin of each event', () => {
    expect(parseLogData(JSON.stringify(recs), 'trail/x.json').events.map((e) => e.origin)).toEqual([
      { file: 'trail/x.json', index: 0 },
      { file: 'trail/x.json', index: 1 },
    ]);
  });
  it('recognises digest files and unknown JSON', () => {
    expect(parseLogData(JSON.stringify({ awsAccountId: '1', digestStartTime: 'x', digestSignatureAlgorithm: 'SHA256withRSA' })).kind).toBe('cloudtrail-digest');
    expect(parseLogData(JSON.stringify({ hello: 'world' })).kind).toBe('unknown');
    expect(parseLogData('').kind).toBe('empty');
  });
});

describe('VPC Flow Logs', () => {
  const header = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
  const line = '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';
  it('reads the default format with a header line (AWS documentation example)', () => {
    const parsed = parseLogData(`${header}\n${line}\n`, 'flows.log');
    expect(parsed.kind).toBe('vpcflow');
    const [e] = parsed.events;
    expect(e).toMatchObject({ source: 'vpcflow', logsource: { product: 'aws', service: 'vpcflowlogs' }, ts: 1418530010000, raw: line });
    expect(e!.fields).toEqual({
      version: 2,
      'account-id': '123456789010',
      'interface-id': 'eni-1235b8ca123456789',
      srcaddr: '172.31.16.139',
      dstaddr: '172.31.16.21',
      srcport: 20641,
      dstport: 22,
      protocol: 6,
      packets: 20,
      bytes: 4249,
      start: 1418530010,
      end: 1418530070,
      action: 'ACCEPT',
      'log-status': 'OK',
    });
    expect(e!.summary).toBe('172.31.16.139:20641 → 172.31.16.21:22 tcp 20 packets 4249 bytes ACCEPT');
  });
  it('reads the default format without a header, and NODATA records', () => {
    const parsed = parseLogData(`${line}\n2 123456789010 eni-1a2b3c4d - - - - - - - 1431280876 1431280934 - NODATA\n`);
    expect(parsed.events).toHaveLength(2);
    expect(parsed.events[1]!.fields).toMatchObject({ srcaddr: null, action: null, 'log-status': 'NODATA' });
  });
  it('reads custom formats given by a header line or by the caller', () => {
    const custom = '${version} ${vpc-id} ${srcaddr} ${dstaddr} ${dstport} ${bytes} ${flow-direction} ${pkt-dstaddr}';
    const text = '5 vpc-0a1b 10.0.1.5 198.51.100.9 443 90000000 egress 198.51.100.9\n';
    const withHeader = parseLogData(`${custom}\n${text}`);
    expect(withHeader.events[0]!.fields).toMatchObject({ 'vpc-id': 'vpc-0a1b', 'flow-direction': 'egress', bytes: 90000000, 'pkt-dstaddr': '198.51.100.9' });
    const given = parseFlowLogText(text, { header: custom });
    expect(given.events[0]!.fields).toEqual(withHeader.events[0]!.fields);
    const skipped = parseFlowLogText(text, { header: 'version srcaddr' });
    expect(skipped).toMatchObject({ events: [], skipped: 1 });
  });
  it('reads comma-separated exports with a header (extra columns kept)', () => {
    const csv = 'version,account_id,interface_id,srcaddr,dstaddr,srcport,dstport,protocol,packets,bytes,start,end,action,log_status,label\n2,1,eni-0,10.0.0.1,10.0.0.2,5,80,6,1,60,100,101,REJECT,OK,Benign\n';
    const [e] = parseLogData(csv).events;
    expect(e!.fields).toMatchObject({ 'account-id': '1', dstport: 80, action: 'REJECT', label: 'Benign' });
  });
  it('reads JSON records with camelCase fields (as some pipelines write them)', () => {
    const [e] = parseLogData(JSON.stringify([{ srcAddr: '10.0.0.1', dstAddr: '8.8.8.8', dstPort: 53, flowDirection: 'egress', action: 'ACCEPT', start: 100 }])).events;
    expect(e).toMatchObject({ source: 'vpcflow', fields: { srcaddr: '10.0.0.1', dstaddr: '8.8.8.8', dstport: 53, 'flow-direction': 'egress' } });
  });
  it('canonical field names', () => {
    expect(['srcAddr', 'pktSrcAddr', 'dst_port', '${log-status}', 'flowDirection', 'accountId', 'pktDstAwsService'].map(canonicalFlowField)).toEqual([
      'srcaddr',
      'pkt-srcaddr',
      'dstport',
      'log-status',
      'flow-direction',
      'account-id',
      'pkt-dst-aws-service',
    ]);
  });
});

describe('CloudWatch Logs events', () => {
  it('recognises CloudTrail records, flow records, JSON and plain messages', () => {
    expect(normalizeLogEvent({ timestamp: 5, message: JSON.stringify(record('GetObject')), logGroup: 'ct' }).source).toBe('cloudtrail');
    expect(normalizeLogEvent({ timestamp: 5, message: '2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 22 6 1 40 100 160 REJECT OK' }).fields).toMatchObject({ dstport: 22, action: 'REJECT' });
    const json = normalizeLogEvent({ timestamp: 5, message: '{"level":"error","msg":"login failed","user":"bob"}', logGroup: '/app/web' });
    expect(json).toMatchObject({ source: 'logs', logsource: { product: 'aws', service: 'cloudwatch' }, fields: { level: 'error', user: 'bob', logGroup: '/app/web' } });
    const text = normalizeLogEvent({ timestamp: 1700000000000, message: 'Failed password for root from 203.0.113.5', logGroup: '/var/log/secure' });
    expect(text).toMatchObject({ source: 'logs', time: '2023-11-14T22:13:20.000Z', fields: { message: 'Failed password for root from 203.0.113.5' } });
  });
});
