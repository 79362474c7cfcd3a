// Throughput of the VPC data plane on one core, without network I/O: flows judged against a fixed
// three-tier topology, aggregated per capture window, rendered as flow-log records (two flow logs:
// VPC-level default format to CloudWatch Logs, subnet-level custom v5 format to S3).
// Usage: npx tsx bench/dataplane.ts [--flows 100000] [--rounds 3]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { DataPlane } from '../src/cloud/services/ec2/dataplane/dataplane.ts';
import { judgeFlow } from '../src/cloud/services/ec2/dataplane/judge.ts';
import { MemorySinks } from '../src/cloud/services/ec2/dataplane/sinks.ts';
import { metricDataFor } from '../src/cloud/services/logs/metric-filters.ts';
import { MetricStore } from '../src/cloud/services/cloudwatch/alarms/metric-store.ts';
import { StaticTopologySource } from '../src/cloud/services/ec2/dataplane/topology.ts';
import { exfiltration, normalTraffic, portScan, sshBruteForce } from '../src/cloud/services/ec2/dataplane/traffic.ts';
import type { Flow, NetworkAclEntry, NetworkInterface, Topology } from '../src/cloud/services/ec2/dataplane/model.ts';

const { values: args } = parseArgs({ options: { flows: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '3' } } });
const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const V5 = '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${flow-direction} ${traffic-path}';

function topology(): Topology {
  const acl = (id: string, subnet: string, entries: NetworkAclEntry[]) => ({ id, vpcId: 'vpc-1', isDefault: false, subnetIds: [subnet], entries });
  const e = (ruleNumber: number, egress: boolean, cidr: string, action: 'allow' | 'deny', protocol = -1, ports?: [number, number]): NetworkAclEntry =>
    ({ ruleNumber, egress, cidr, action, protocol, ...(ports ? { portRange: { from: ports[0], to: ports[1] } } : {}) });
  const interfaces: NetworkInterface[] = [];
  const add = (tier: string, subnet: string, n: number, third: number, sg: string) => {
    for (let i = 0; i < n; i++) {
      interfaces.push({
        id: `eni-${tier}${i}`, vpcId: 'vpc-1', subnetId: subnet, privateIps: [`10.0.${third}.${10 + i}`], ipv6Ips: [],
        publicIps: tier === 'web' ? [`54.0.0.${10 + i}`] : [], securityGroupIds: [sg], instanceId: `i-${tier}${i}`, ownerId: ACCOUNT,
        active: true, availabilityZoneId: 'use1-az1', tags: { Tier: tier },
      });
    }
  };
  add('web', 'subnet-web', 20, 1, 'sg-web');
  add('app', 'subnet-app', 10, 2, 'sg-app');
  add('db', 'subnet-db', 4, 3, 'sg-db');
  // A blocklist of 40 deny entries in front of the allow rules, as a busy responder leaves it.
  const blocklist = Array.from({ length: 40 }, (_, i) => e(10 + i, false, `203.0.113.${100 + i}/32`, 'deny'));
  return {
    account: ACCOUNT, region: REGION,
    vpcs: [{ id: 'vpc-1', cidrs: ['10.0.0.0/16'], ipv6Cidrs: [] }],
    subnets: ['web', 'app', 'db'].map((t, i) => ({ id: `subnet-${t}`, vpcId: 'vpc-1', cidr: `10.0.${i + 1}.0/24`, ipv6Cidrs: [], availabilityZoneId: 'use1-az1', networkAclId: `acl-${t}` })),
    interfaces,
    securityGroups: [
      { id: 'sg-web', vpcId: 'vpc-1', name: 'web', ingress: [{ protocol: 6, fromPort: 443, toPort: 443, cidr: '0.0.0.0/0' }, { protocol: 6, fromPort: 22, toPort: 22, cidr: '10.0.0.0/16' }], egress: [{ protocol: -1, cidr: '0.0.0.0/0' }] },
      { id: 'sg-app', vpcId: 'vpc-1', name: 'app', ingress: [{ protocol: 6, fromPort: 8080, toPort: 8080, groupId: 'sg-web' }], egress: [{ protocol: -1, cidr: '0.0.0.0/0' }] },
      { id: 'sg-db', vpcId: 'vpc-1', name: 'db', ingress: [{ protocol: 6, fromPort: 5432, toPort: 5432, groupId: 'sg-app' }], egress: [{ protocol: 6, fromPort: 443, toPort: 443, cidr: '0.0.0.0/0' }] },
    ],
    networkAcls: [
      acl('acl-web', 'subnet-web', [...blocklist, e(100, false, '0.0.0.0/0', 'allow', 6, [443, 443]), e(110, false, '10.0.0.0/16', 'allow'), e(120, false, '0.0.0.0/0', 'allow', 6, [1024, 65535]), e(100, true, '0.0.0.0/0', 'allow')]),
      acl('acl-app', 'subnet-app', [e(100, false, '10.0.0.0/16', 'allow'), e(120, false, '0.0.0.0/0', 'allow', 6, [1024, 65535]), e(100, true, '0.0.0.0/0', 'allow')]),
      acl('acl-db', 'subnet-db', [e(100, false, '10.0.2.0/24', 'allow', 6, [5432, 5432]), e(110, false, '0.0.0.0/0', 'allow', 6, [32768, 65535]), e(100, true, '10.0.2.0/24', 'allow', 6, [32768, 65535]), e(110, true, '0.0.0.0/0', 'allow', 6, [443, 443])]),
    ],
    flowLogs: [
      { id: 'fl-vpc', resourceId: 'vpc-1', trafficType: 'ALL', destinationType: 'cloud-watch-logs', logGroupName: 'flows', maxAggregationInterval: 60 },
      { id: 'fl-web', resourceId: 'subnet-web', trafficType: 'REJECT', destinationType: 's3', bucket: 'flowlogs', logFormat: V5, maxAggregationInterval: 600 },
    ],
  };
}

function traffic(t: Topology, n: number): Flow[] {
  const from = Date.UTC(2026, 0, 5, 8);
  const flows: Flow[] = [];
  for (let hour = 0; flows.length < n; hour++) {
    const range = { from: from + hour * 3600_000, to: from + (hour + 1) * 3600_000, seed: hour };
    const hourFlows = [
      ...normalTraffic(t, {
        web: { tags: { Tier: 'web' } }, app: { tags: { Tier: 'app' } }, db: { tags: { Tier: 'db' } },
        webUsers: { perMinute: 2400 }, dbQueriesPerMinute: 1500,
      }, range),
      ...sshBruteForce({ attacker: '203.0.113.9', target: '54.0.0.10', start: range.from, attempts: 2000, intervalMs: 1000 }),
      ...portScan({ attacker: '203.0.113.10', target: '10.0.1.10', start: range.from + 60_000 }),
      ...exfiltration({ source: '10.0.2.10', destination: '198.51.100.200', start: range.from + 1800_000 }),
    ].sort((a, b) => a.start - b.start);
    for (const f of hourFlows) flows.push(f);
  }
  return flows.slice(0, n);
}

const t = topology();
const flows = traffic(t, Number(args.flows));
console.log(`topology: ${t.interfaces.length} interfaces, ${t.networkAcls.reduce((s, a) => s + a.entries.length, 0)} network ACL entries, ${t.flowLogs.length} flow logs; ${flows.length} flows`);

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
// The flows as the lab cloud receives them: one batch per simulated minute.
const byMinute: { minute: number; flows: Flow[] }[] = [];
for (const f of flows) {
  const minute = Math.floor(f.start / 60_000) * 60_000 + 60_000;
  const last = byMinute[byMinute.length - 1];
  if (last && last.minute === minute) last.flows.push(f);
  else byMinute.push({ minute, flows: [f] });
}
for (let round = 1; round <= Number(args.rounds); round++) {
  // judge only
  let t0 = performance.now();
  let observations = 0;
  for (const f of flows) observations += judgeFlow(f, t).interfaces.length;
  const judgeMs = performance.now() - t0;

  // judge + aggregate + render (no sinks), flushing as the lab clock passes each minute
  const plane = new DataPlane({ topology: new StaticTopologySource([t]), sinks: new MemorySinks() });
  let records = 0;
  let bytes = 0;
  const drain = (now: number, force = false) => {
    for (const { tracked, records: recs } of plane.collect(now, { force })) {
      for (const r of recs) bytes += tracked.format!.render(r).length;
      records += recs.length;
    }
  };
  t0 = performance.now();
  for (const chunk of byMinute) {
    plane.sendWith(t, chunk.flows);
    drain(chunk.minute);
  }
  drain(Number.MAX_SAFE_INTEGER, true);
  const pipelineMs = performance.now() - t0;
  plane.close();

  // the same with delivery into memory sinks (CloudWatch Logs batching, S3 gzip)
  const sinks = new MemorySinks();
  const plane2 = new DataPlane({ topology: new StaticTopologySource([t]), sinks });
  let delivered = 0;
  t0 = performance.now();
  for (const chunk of byMinute) {
    plane2.sendWith(t, chunk.flows);
    delivered += (await plane2.flush(chunk.minute)).records;
    if (sinks.logEvents.size > 1000) sinks.logEvents.clear();
    sinks.objects.clear();
  }
  delivered += (await plane2.flush(Number.MAX_SAFE_INTEGER, { force: true })).records;
  const flushMs = performance.now() - t0;
  plane2.close();
  const flushed = { records: delivered };

  // the figure: records through the data plane AND metric filters into the metric store,
  // as the gateway does (delivery to CloudWatch Logs -> filters -> metrics), without the emulator.
  const metrics = new MetricStore();
  const filters = [
    { filterName: 'ssh', filterPattern: '[version, account, eni, source, destination, srcport, destport="22", protocol="6", packets, bytes, windowstart, windowend, action="REJECT", flowlogstatus]', metricTransformations: [{ metricName: 'RejectedSSH', metricNamespace: 'Bench', metricValue: '1' }] },
    { filterName: 'out', filterPattern: '[version, account, eni, source=10.*, destination!=10.*, srcport, destport, protocol, packets, bytes, windowstart, windowend, action="ACCEPT", flowlogstatus]', metricTransformations: [{ metricName: 'OutboundBytes', metricNamespace: 'Bench', metricValue: '$bytes' }] },
    { filterName: 'rej', filterPattern: '[..., action="REJECT", flowlogstatus]', metricTransformations: [{ metricName: 'Rejected', metricNamespace: 'Bench', metricValue: '1' }] },
  ];
  let filtered = 0;
  const plane3 = new DataPlane({
    topology: new StaticTopologySource([t]),
    sinks: {
      async putLogEvents(_a, _r, _g, _s, events) {
        for (const { namespace, datum } of metricDataFor(filters, events)) metrics.putMetricData(namespace, [datum], Number(datum.Timestamp));
        filtered += events.length;
      },
      async putObject() {},
    },
  });
  t0 = performance.now();
  for (const chunk of byMinute) {
    plane3.sendWith(t, chunk.flows);
    await plane3.flush(chunk.minute);
  }
  await plane3.flush(Number.MAX_SAFE_INTEGER, { force: true });
  const filterMs = performance.now() - t0;
  plane3.close();

  console.log(
    `round ${round}: judge ${fmt(flows.length / (judgeMs / 1000))} flows/s (${fmt(observations / (judgeMs / 1000))} interface verdicts/s); ` +
    `judge+aggregate+render ${fmt(records / (pipelineMs / 1000))} records/s (${fmt(records)} records, ${(bytes / 1e6).toFixed(1)} MB, ${fmt(flows.length / (pipelineMs / 1000))} flows/s); ` +
    `with delivery to memory ${fmt(flushed.records / (flushMs / 1000))} records/s; ` +
    `data plane + 3 metric filters + metric store ${fmt(filtered / (filterMs / 1000))} records/s (goal ≥ 100,000 per core)`,
  );
}
