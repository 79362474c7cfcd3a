// Flow-log records: formats, rendering of the v2–v5 fields, aggregation per capture window,
// traffic types, coverage by VPC/subnet/ENI flow logs, and the S3 layout. No emulator.
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LOG_FORMAT, FlowLogAggregator, flowLogsCovering, parseLogFormat, renderRecord, s3FileName, s3Folder, validateLogFormat,
  type FlowLogRecord,
} from '../../src/cloud/services/ec2/dataplane/flowlog.ts';
import { DataPlane, invalidate, isEc2Mutation } from '../../src/cloud/services/ec2/dataplane/dataplane.ts';
import { MemorySinks, logEventBatches } from '../../src/cloud/services/ec2/dataplane/sinks.ts';
import { StaticTopologySource, parseDestination } from '../../src/cloud/services/ec2/dataplane/topology.ts';
import type { Flow, FlowLogConfig, Topology } from '../../src/cloud/services/ec2/dataplane/model.ts';
import { ACCOUNT, REGION, ROGUE, USER, aclDeny, flowLog, threeTier } from './fixtures.ts';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0); // on a 10-minute boundary
const S0 = T0 / 1000;
const tcp = (srcaddr: string, dstaddr: string, dstport: number, over: Partial<Flow> = {}): Flow => ({
  srcaddr, dstaddr, srcport: 50123, dstport, protocol: 6, packets: 10, bytes: 1500, start: T0 + 5000, end: T0 + 9000, ...over,
});
const V5 = '${version} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${start} ${end} ${type} ${packets} ${bytes} ${account-id} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${region} ${az-id} ${sublocation-type} ${sublocation-id} ${action} ${tcp-flags} ${pkt-srcaddr} ${pkt-dstaddr} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${traffic-path} ${flow-direction} ${log-status}';

function plane(t: Topology, opts: Partial<ConstructorParameters<typeof DataPlane>[0]> = {}) {
  const sinks = new MemorySinks();
  const p = new DataPlane({ topology: new StaticTopologySource([t]), sinks, ...opts });
  return { p, sinks };
}

describe('log formats', () => {
  it('uses the version 2 default when LogFormat is absent, with its header', () => {
    const f = parseLogFormat(undefined);
    expect(f.version).toBe(2);
    expect(f.text).toBe(DEFAULT_LOG_FORMAT);
    expect(f.header).toBe('version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status');
  });

  it('takes the highest version among the fields of a custom format', () => {
    expect(parseLogFormat('${srcaddr} ${dstaddr}').version).toBe(2);
    expect(parseLogFormat('${version} ${vpc-id} ${srcaddr}').version).toBe(3);
    expect(parseLogFormat('${az-id} ${srcaddr}').version).toBe(4);
    expect(parseLogFormat(V5).version).toBe(5);
    expect(parseLogFormat('${ecs-task-id}').version).toBe(7);
  });

  it('refuses what CreateFlowLogs refuses', () => {
    expect(validateLogFormat('${version} ${nope}')).toMatch(/unknown field 'nope'/);
    expect(validateLogFormat('${version},${srcaddr}')).toMatch(/not a field reference/);
    expect(validateLogFormat('version srcaddr')).toMatch(/not a field reference/);
    expect(validateLogFormat('${srcaddr} ${srcaddr}')).toMatch(/more than once/);
    expect(validateLogFormat(V5)).toBeUndefined();
  });

  it('renders the AWS guide examples, `-` where a field does not apply', () => {
    const rec: FlowLogRecord = {
      interfaceId: 'eni-1235b8ca123456789', accountId: '123456789010', logStatus: 'OK', start: 1418530010, end: 1418530070,
      srcaddr: '172.31.16.139', dstaddr: '172.31.16.21', srcport: 20641, dstport: 22, protocol: 6, packets: 20, bytes: 4249, action: 'ACCEPT',
    };
    expect(renderRecord(rec)).toBe('2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK');
    const nodata: FlowLogRecord = { interfaceId: 'eni-1235b8ca123456789', accountId: '123456789010', logStatus: 'NODATA', start: 1431280876, end: 1431280934 };
    expect(renderRecord(nodata)).toBe('2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA');
    // v5 example (S3 call from an instance, egress record)
    const v5: FlowLogRecord = {
      interfaceId: 'eni-1235b8ca123456789', accountId: '123456789012', logStatus: 'OK', start: 1616729292, end: 1616729349,
      srcaddr: '10.0.0.71', dstaddr: '52.95.128.179', srcport: 34210, dstport: 80, protocol: 6, packets: 7, bytes: 471, action: 'ACCEPT',
      type: 'IPv4', vpcId: 'vpc-abcdefab012345678', subnetId: 'subnet-aaaaaaaa012345678', instanceId: 'i-0c50d5961bcb2d47b',
      region: 'ap-southeast-2', azId: 'apse2-az3', tcpFlags: 3, pktSrcaddr: '10.0.0.71', pktDstaddr: '52.95.128.179',
      pktDstAwsService: 'S3', trafficPath: 8, flowDirection: 'egress',
    };
    expect(renderRecord(v5, '${version} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${start} ${end} ${type} ${packets} ${bytes} ${account-id} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${region} ${az-id} ${sublocation-type} ${sublocation-id} ${action} ${tcp-flags} ${pkt-srcaddr} ${pkt-dstaddr} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${traffic-path} ${flow-direction} ${log-status}'))
      .toBe('5 10.0.0.71 52.95.128.179 34210 80 6 1616729292 1616729349 IPv4 7 471 123456789012 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - ACCEPT 3 10.0.0.71 52.95.128.179 - S3 8 egress OK');
  });
});

describe('coverage and destinations', () => {
  it('VPC, subnet and interface flow logs each cover an interface', () => {
    const t = threeTier([
      flowLog({ id: 'fl-a', resourceId: 'vpc-1' }),
      flowLog({ id: 'fl-b', resourceId: 'subnet-web' }),
      flowLog({ id: 'fl-c', resourceId: 'eni-web1' }),
      flowLog({ id: 'fl-d', resourceId: 'vpc-other' }),
    ]);
    expect(flowLogsCovering(t, 'eni-web1').map((f) => f.id)).toEqual(['fl-a', 'fl-b', 'fl-c']);
    expect(flowLogsCovering(t, 'eni-web2').map((f) => f.id)).toEqual(['fl-a', 'fl-b']);
    expect(flowLogsCovering(t, 'eni-db1').map((f) => f.id)).toEqual(['fl-a']);
  });

  it('parses destinations as DescribeFlowLogs returns them', () => {
    expect(parseDestination({ LogDestinationType: 's3', LogDestination: 'arn:aws:s3:::flow-log-bucket/custom-flow-logs/' }))
      .toEqual({ destinationType: 's3', bucket: 'flow-log-bucket', prefix: 'custom-flow-logs' });
    expect(parseDestination({ LogDestinationType: 's3', LogDestination: 'arn:aws:s3:::b' })).toEqual({ destinationType: 's3', bucket: 'b' });
    expect(parseDestination({ LogDestinationType: 'cloud-watch-logs', LogDestination: 'arn:aws:logs:us-east-1:123456789012:log-group:grp:*' }))
      .toEqual({ destinationType: 'cloud-watch-logs', logGroupName: 'grp' });
    expect(parseDestination({ LogGroupName: 'named' })).toEqual({ destinationType: 'cloud-watch-logs', logGroupName: 'named' });
  });

  it('lays out S3 keys as AWS does (default, hive, hourly), with the documented example name', () => {
    const cfg = flowLog({ id: 'fl-1234abcd', destinationType: 's3', bucket: 'b' });
    const t = Date.UTC(2018, 5, 20, 16, 20);
    expect(s3FileName(cfg, '123456789012', 'us-east-1', t, 'fe123456')).toBe('123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz');
    expect(s3Folder(cfg, '123456789012', 'us-east-1', t)).toBe('AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/');
    expect(s3Folder({ ...cfg, prefix: 'my-logs' }, '123456789012', 'us-east-1', t)).toBe('my-logs/AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/');
    expect(s3Folder({ ...cfg, destinationOptions: { perHourPartition: true } }, '123456789012', 'us-east-1', t))
      .toBe('AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/16/');
    expect(s3Folder({ ...cfg, destinationOptions: { hiveCompatiblePartitions: true, perHourPartition: true } }, '123456789012', 'us-east-1', t))
      .toBe('AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2018/month=06/day=20/hour=16/');
  });

  it('batches log events within PutLogEvents limits, in time order', () => {
    const events = Array.from({ length: 25_000 }, (_, i) => ({ timestamp: T0 + (25_000 - i), message: 'x' }));
    const batches = logEventBatches(events);
    expect(batches.map((b) => b.length)).toEqual([10_000, 10_000, 5_000]);
    expect(batches[0]![0]!.timestamp).toBe(T0 + 1);
  });
});

describe('aggregation', () => {
  it('sums a 5-tuple per interface within a window and splits flows across windows', async () => {
    const t = threeTier([flowLog({ maxAggregationInterval: 60 })]);
    const { p, sinks } = plane(t);
    const f = (start: number, end: number, packets = 10) => tcp(USER, '10.0.1.10', 443, { start, end, packets, bytes: packets * 100, response: false });
    p.sendWith(t, [f(T0 + 1_000, T0 + 2_000), f(T0 + 30_000, T0 + 31_000), f(T0 + 59_000, T0 + 121_000, 62)]);
    const r = await p.flush(T0 + 10 * 60_000);
    expect(r.errors).toEqual([]);
    const lines = sinks.messages(ACCOUNT, REGION, 'vpc-flow-logs');
    // window 1: 10 + 10 + the first second of the long flow (1 packet of 62 over 62 s); windows 2 and 3 the rest
    expect(lines).toEqual([
      `2 ${ACCOUNT} eni-web1 ${USER} 10.0.1.10 50123 443 6 21 2100 ${S0 + 1} ${S0 + 59} ACCEPT OK`,
      `2 ${ACCOUNT} eni-web1 ${USER} 10.0.1.10 50123 443 6 60 6000 ${S0 + 60} ${S0 + 119} ACCEPT OK`,
      `2 ${ACCOUNT} eni-web1 ${USER} 10.0.1.10 50123 443 6 1 100 ${S0 + 120} ${S0 + 121} ACCEPT OK`,
    ]);
    const events = [...sinks.logEvents.values()][0]!;
    expect(events.map((e) => e.timestamp)).toEqual([(S0 + 1) * 1000, (S0 + 60) * 1000, (S0 + 120) * 1000]);
    expect([...sinks.logEvents.keys()]).toEqual([`${ACCOUNT}|${REGION}|vpc-flow-logs|eni-web1-all`]);
  });

  it('keeps a window open until it closes, and 600-second windows aggregate more', async () => {
    const t = threeTier([flowLog({ id: 'fl-60', maxAggregationInterval: 60, logGroupName: 'g60' }), flowLog({ id: 'fl-600', maxAggregationInterval: 600, logGroupName: 'g600' })]);
    const { p, sinks } = plane(t);
    for (let i = 0; i < 5; i++) p.sendWith(t, [tcp(USER, '10.0.1.10', 443, { start: T0 + i * 60_000 + 10, end: T0 + i * 60_000 + 20, response: false })]);
    await p.flush(T0 + 5 * 60_000);
    expect(sinks.messages(ACCOUNT, REGION, 'g60')).toHaveLength(5);
    expect(sinks.messages(ACCOUNT, REGION, 'g600')).toHaveLength(0); // the 10-minute window is still open
    expect(p.pending()).toBe(1);
    await p.flush(T0 + 10 * 60_000);
    expect(sinks.messages(ACCOUNT, REGION, 'g600')).toEqual([`2 ${ACCOUNT} eni-web1 ${USER} 10.0.1.10 50123 443 6 50 7500 ${S0} ${S0 + 240} ACCEPT OK`]);
  });

  it('honours traffic types: ACCEPT, REJECT and ALL flow logs each get their share', async () => {
    const t = threeTier([
      flowLog({ id: 'fl-all', trafficType: 'ALL', logGroupName: 'all' }),
      flowLog({ id: 'fl-acc', trafficType: 'ACCEPT', logGroupName: 'acc' }),
      flowLog({ id: 'fl-rej', trafficType: 'REJECT', logGroupName: 'rej' }),
    ]);
    const { p, sinks } = plane(t);
    p.sendWith(t, [tcp(USER, '10.0.1.10', 443), tcp(ROGUE, '10.0.1.10', 22)]);
    await p.flush(T0 + 60_000);
    expect(sinks.messages(ACCOUNT, REGION, 'all').map((l) => l.split(' ').slice(3, 7).concat(l.split(' ')[12]!).join(' '))).toEqual([
      `${USER} 10.0.1.10 50123 443 ACCEPT`, `10.0.1.10 ${USER} 443 50123 ACCEPT`, `${ROGUE} 10.0.1.10 50123 22 REJECT`,
    ]);
    expect(sinks.messages(ACCOUNT, REGION, 'acc').every((l) => l.includes(' ACCEPT '))).toBe(true);
    expect(sinks.messages(ACCOUNT, REGION, 'acc')).toHaveLength(2);
    expect(sinks.messages(ACCOUNT, REGION, 'rej')).toEqual([`2 ${ACCOUNT} eni-web1 ${ROGUE} 10.0.1.10 50123 22 6 10 1500 ${S0 + 5} ${S0 + 9} REJECT OK`]);
  });

  it('renders v5 fields from the topology and the flow', async () => {
    const t = threeTier([flowLog({ logFormat: V5 })]);
    const { p, sinks } = plane(t);
    p.sendWith(t, [tcp('10.0.3.10', '52.216.8.21', 443, { srcport: 45000, pktDstAwsService: 'S3', response: { packets: 3, bytes: 200 } })]);
    await p.flush(T0 + 60_000);
    expect(sinks.messages(ACCOUNT, REGION, 'vpc-flow-logs')).toEqual([
      `5 10.0.3.10 52.216.8.21 45000 443 6 ${S0 + 5} ${S0 + 9} IPv4 10 1500 ${ACCOUNT} vpc-1 subnet-db i-db1 eni-db1 us-east-1 use1-az1 - - ACCEPT 3 10.0.3.10 52.216.8.21 - S3 8 egress OK`,
      `5 52.216.8.21 10.0.3.10 443 45000 6 ${S0 + 5} ${S0 + 9} IPv4 3 200 ${ACCOUNT} vpc-1 subnet-db i-db1 eni-db1 us-east-1 use1-az1 - - ACCEPT 19 52.216.8.21 10.0.3.10 S3 - - ingress OK`,
    ]);
  });

  it('writes SKIPDATA past the capacity and NODATA for quiet interfaces when asked', async () => {
    const t = threeTier([flowLog({ resourceId: 'subnet-web' })]);
    const { p, sinks } = plane(t, { maxRecordsPerWindow: 3, noData: true });
    await p.topology(ACCOUNT, REGION);
    p.sendWith(t, Array.from({ length: 5 }, (_, i) => tcp(USER, '10.0.1.10', 443, { srcport: 40000 + i, response: false })));
    await p.flush(T0 + 60_000);
    const lines = sinks.messages(ACCOUNT, REGION, 'vpc-flow-logs');
    expect(lines.filter((l) => l.endsWith(' OK'))).toHaveLength(3);
    expect(lines).toContain(`2 ${ACCOUNT} eni-web1 - - - - - - - ${S0} ${S0 + 59} - SKIPDATA`);
    expect(lines).toContain(`2 ${ACCOUNT} eni-web2 - - - - - - - ${S0} ${S0 + 59} - NODATA`);
  });

  it('aggregator: splitting keeps packet and byte totals', () => {
    const agg = new FlowLogAggregator(flowLog({ maxAggregationInterval: 60 }));
    const t = threeTier();
    const iface = t.interfaces[0]!;
    let packets = 0;
    for (let i = 0; i < 50; i++) {
      const start = T0 + i * 7919;
      const n = 1 + ((i * 37) % 500);
      packets += n;
      agg.add({ eni: iface.id, action: 'ACCEPT', reason: '', direction: 'ingress', leg: 'request', srcaddr: USER, dstaddr: '10.0.1.10', srcport: 1000 + i, dstport: 443, pktSrcaddr: USER, pktDstaddr: '10.0.1.10', packets: n, bytes: n * 10, tcpFlags: 2 },
        { ...tcp(USER, '10.0.1.10', 443), start, end: start + i * 4999 }, { iface, subnet: t.subnets[0], region: REGION });
    }
    const recs = agg.flush(Number.MAX_SAFE_INTEGER);
    expect(recs.reduce((s, r) => s + r.packets!, 0)).toBe(packets);
    expect(recs.reduce((s, r) => s + r.bytes!, 0)).toBe(packets * 10);
    for (const r of recs) {
      expect(Math.floor(r.start / 60)).toBe(Math.floor(r.end / 60));
      expect(r.end).toBeGreaterThanOrEqual(r.start);
    }
  });
});

describe('data plane', () => {
  it('delivers S3 files with the header line, gzipped, at the AWS key layout', async () => {
    const cfg: FlowLogConfig = flowLog({ id: 'fl-s3', destinationType: 's3', bucket: 'logs', prefix: 'vpc', logGroupName: undefined, maxAggregationInterval: 60 });
    const t = threeTier([cfg]);
    const { p, sinks } = plane(t);
    p.sendWith(t, [tcp(USER, '10.0.1.10', 443), tcp(USER, '10.0.1.10', 443, { start: T0 + 6 * 60_000, end: T0 + 6 * 60_000 + 10 })]);
    const r = await p.flush(T0 + 10 * 60_000);
    expect(r.objects.map((o) => o.key.replace(/_[0-9a-f]{8}\.log\.gz$/, '_HASH.log.gz'))).toEqual([
      `vpc/AWSLogs/${ACCOUNT}/vpcflowlogs/us-east-1/2026/01/05/${ACCOUNT}_vpcflowlogs_us-east-1_fl-s3_20260105T1200Z_HASH.log.gz`,
      `vpc/AWSLogs/${ACCOUNT}/vpcflowlogs/us-east-1/2026/01/05/${ACCOUNT}_vpcflowlogs_us-east-1_fl-s3_20260105T1205Z_HASH.log.gz`,
    ]);
    const text = gunzipSync(sinks.objects.get(`${ACCOUNT}|logs|${r.objects[0]!.key}`)!).toString();
    expect(text.split('\n')).toEqual([
      'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
      `2 ${ACCOUNT} eni-web1 ${USER} 10.0.1.10 50123 443 6 10 1500 ${S0 + 5} ${S0 + 9} ACCEPT OK`,
      `2 ${ACCOUNT} eni-web1 10.0.1.10 ${USER} 443 50123 6 10 400 ${S0 + 5} ${S0 + 9} ACCEPT OK`,
      '',
    ]);
  });

  it('re-reads the topology after invalidation, so a responder\'s deny entry decides later flows', async () => {
    const source = new StaticTopologySource([threeTier([flowLog()])]);
    const sinks = new MemorySinks();
    const p = new DataPlane({ topology: source, sinks });
    expect((await p.send(ACCOUNT, REGION, [tcp(ROGUE, '10.0.1.10', 443)]))[0]!.action).toBe('ACCEPT');
    const blocked = threeTier([flowLog()]);
    blocked.networkAcls[0]!.entries.push(aclDeny(50, false, `${ROGUE}/32`));
    source.set(blocked);
    expect((await p.send(ACCOUNT, REGION, [tcp(ROGUE, '10.0.1.10', 443)]))[0]!.action).toBe('ACCEPT'); // cached
    invalidate(ACCOUNT);
    expect((await p.send(ACCOUNT, REGION, [tcp(ROGUE, '10.0.1.10', 443)]))[0]!.action).toBe('REJECT');
    await p.afterEc2Call(ACCOUNT, REGION, 'DescribeInstances', {});
    expect(isEc2Mutation('CreateNetworkAclEntry')).toBe(true);
    expect(isEc2Mutation('DescribeNetworkAcls')).toBe(false);
    p.close();
  });

  it('remembers CreateFlowLogs destination options the emulator does not store', async () => {
    const cfg = flowLog({ id: 'fl-h', destinationType: 's3', bucket: 'logs', logDestination: 'arn:aws:s3:::logs', logGroupName: undefined });
    const source = new StaticTopologySource([threeTier([cfg])]);
    const p = new DataPlane({ topology: source, sinks: new MemorySinks() });
    await p.afterEc2Call(ACCOUNT, REGION, 'CreateFlowLogs', {
      ResourceId: ['vpc-1'], LogDestination: 'arn:aws:s3:::logs', DestinationOptions: { FileFormat: 'plain-text', HiveCompatiblePartitions: 'true', PerHourPartition: 'false' },
    });
    source.set(threeTier([{ ...cfg }]));
    const t = await p.topology(ACCOUNT, REGION);
    expect(t.flowLogs[0]!.destinationOptions).toEqual({ fileFormat: 'plain-text', hiveCompatiblePartitions: true, perHourPartition: false });
    p.close();
  });

  it('reports records dropped for a LogFormat the emulator accepted but AWS would not', async () => {
    const t = threeTier([flowLog({ logFormat: '${version} ${bogus}' })]);
    const { p, sinks } = plane(t);
    p.sendWith(t, [tcp(USER, '10.0.1.10', 443)]);
    const r = await p.flush(T0 + 60_000);
    expect(r.errors).toEqual([{ account: ACCOUNT, flowLogId: 'fl-vpc', message: "2 observations not recorded: Invalid LogFormat: unknown field 'bogus'" }]);
    expect(sinks.logEvents.size).toBe(0);
    expect((await p.flush(T0 + 120_000)).errors).toEqual([]);
  });

  it('reports delivery errors per flow log and keeps going', async () => {
    const t = threeTier([flowLog({ id: 'fl-ok', logGroupName: 'ok' }), flowLog({ id: 'fl-bad', destinationType: 's3', bucket: 'missing', logGroupName: undefined })]);
    const sinks = new MemorySinks();
    sinks.putObject = async () => { throw new Error('NoSuchBucket'); };
    const p = new DataPlane({ topology: new StaticTopologySource([t]), sinks });
    p.sendWith(t, [tcp(USER, '10.0.1.10', 443)]);
    const r = await p.flush(T0 + 60_000);
    expect(r.errors).toEqual([{ account: ACCOUNT, flowLogId: 'fl-bad', message: expect.stringMatching(/PutObject s3:\/\/missing\/.*NoSuchBucket/) }]);
    expect(sinks.messages(ACCOUNT, REGION, 'ok')).toHaveLength(2);
    expect(p.stats().find((s) => s.flowLogId === 'fl-bad')).toMatchObject({ produced: 2, delivered: 0, lastError: expect.stringMatching(/NoSuchBucket/) });
  });
});
