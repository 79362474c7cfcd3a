// The data plane against the real moto through the gateway: a three-tier VPC built with SDK calls,
// flows judged against what moto stores, flow-log records read back from CloudWatch Logs and S3.
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AuthorizeSecurityGroupEgressCommand, AuthorizeSecurityGroupIngressCommand, CreateFlowLogsCommand, CreateNetworkAclCommand, CreateNetworkAclEntryCommand,
  CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, DescribeFlowLogsCommand, DescribeNetworkAclsCommand,
  DescribeNetworkInterfacesCommand, EC2Client, ModifyInstanceAttributeCommand, ReplaceNetworkAclAssociationCommand,
  RevokeSecurityGroupEgressCommand, RunInstancesCommand, StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CloudWatchLogsClient, DescribeLogStreamsCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { useLabCloud } from '../helpers/cloud.ts';
import { DataPlane } from '../../src/cloud/services/ec2/dataplane/dataplane.ts';
import { EmulatorSinks } from '../../src/cloud/services/ec2/dataplane/sinks.ts';
import { MotoTopologySource } from '../../src/cloud/services/ec2/dataplane/topology.ts';
import type { Flow } from '../../src/cloud/services/ec2/dataplane/model.ts';
import { exfiltration, normalTraffic, portScan, sshBruteForce } from '../../src/cloud/services/ec2/dataplane/traffic.ts';

const { cloud } = useLabCloud();
const REGION = 'us-east-1';
const ROGUE = '203.0.113.66';
const USER = '198.51.100.7';
const V5 = '${version} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${account-id} ${type} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${protocol} ${bytes} ${packets} ${start} ${end} ${action} ${tcp-flags} ${region} ${az-id} ${flow-direction} ${traffic-path} ${log-status}';
// Capture windows closed an hour ago (moto accepts log events up to 14 days old).
const T0 = Math.floor(Date.now() / 600_000) * 600_000 - 3600_000;
const S0 = T0 / 1000;

interface Env {
  account: string;
  ec2: EC2Client;
  logs: CloudWatchLogsClient;
  s3: S3Client;
  plane: DataPlane;
  vpcId: string;
  subnets: Record<'web' | 'app' | 'db', string>;
  acls: Record<'web' | 'app' | 'db', string>;
  sgs: Record<'web' | 'app' | 'db', string>;
  instances: Record<'web' | 'app' | 'db' | 'spare', string>;
  enis: Record<'web' | 'app' | 'db' | 'spare', string>;
  flowLogs: Record<'vpc' | 's3' | 'rejects', string>;
}

let env: Env;
const tcp = (srcaddr: string, dstaddr: string, dstport: number, over: Partial<Flow> = {}): Flow => ({
  srcaddr, dstaddr, srcport: 50123, dstport, protocol: 6, packets: 10, bytes: 1500, start: T0 + 5_000, end: T0 + 9_000, ...over,
});
const after = (op: string, params: Record<string, unknown> = {}) => env.plane.afterEc2Call(env.account, REGION, op, params);

async function build(): Promise<Env> {
  const root = cloud().createAccount();
  const credentials = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
  const ec2 = cloud().client(EC2Client, { credentials });
  const logs = cloud().client(CloudWatchLogsClient, { credentials });
  const s3 = cloud().client(S3Client, { credentials });
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!.VpcId!;
  const tiers = ['web', 'app', 'db'] as const;
  const subnets = {} as Env['subnets'];
  const acls = {} as Env['acls'];
  const sgs = {} as Env['sgs'];
  for (const [i, tier] of tiers.entries()) {
    subnets[tier] = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.0.${i + 1}.0/24` }))).Subnet!.SubnetId!;
    acls[tier] = (await ec2.send(new CreateNetworkAclCommand({ VpcId: vpcId }))).NetworkAcl!.NetworkAclId!;
    sgs[tier] = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: tier, Description: `${tier} tier`, VpcId: vpcId }))).GroupId!;
  }
  // Network ACLs: web takes HTTPS from anywhere and SSH from inside; return traffic on ephemeral ports.
  const entry = (acl: string, n: number, egress: boolean, cidr: string, action: 'allow' | 'deny', protocol = '-1', ports?: [number, number]) =>
    ec2.send(new CreateNetworkAclEntryCommand({
      NetworkAclId: acl, RuleNumber: n, Egress: egress, CidrBlock: cidr, RuleAction: action, Protocol: protocol,
      ...(ports ? { PortRange: { From: ports[0], To: ports[1] } } : {}),
    }));
  await entry(acls.web, 100, false, '0.0.0.0/0', 'allow', '6', [443, 443]);
  await entry(acls.web, 110, false, '10.0.0.0/16', 'allow', '6', [22, 22]);
  await entry(acls.web, 120, false, '0.0.0.0/0', 'allow', '6', [1024, 65535]);
  await entry(acls.web, 100, true, '0.0.0.0/0', 'allow');
  await entry(acls.app, 100, false, '10.0.0.0/16', 'allow');
  await entry(acls.app, 120, false, '0.0.0.0/0', 'allow', '6', [1024, 65535]);
  await entry(acls.app, 100, true, '0.0.0.0/0', 'allow');
  await entry(acls.db, 100, false, '10.0.2.0/24', 'allow', '6', [5432, 5432]);
  await entry(acls.db, 110, false, '0.0.0.0/0', 'allow', '6', [32768, 65535]);
  await entry(acls.db, 100, true, '10.0.2.0/24', 'allow', '6', [32768, 65535]);
  await entry(acls.db, 110, true, '0.0.0.0/0', 'allow', '6', [443, 443]);
  const described = await ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }));
  for (const tier of tiers) {
    const assoc = described.NetworkAcls!.flatMap((a) => a.Associations ?? []).find((a) => a.SubnetId === subnets[tier])!;
    await ec2.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: assoc.NetworkAclAssociationId!, NetworkAclId: acls[tier] }));
  }
  // Security groups: web 443 from anywhere and 22 from the VPC, app 8080 from web, db 5432 from app and only 443 out.
  const ingress = (g: string, port: number, peer: { cidr?: string; group?: string }) => ec2.send(new AuthorizeSecurityGroupIngressCommand({
    GroupId: g,
    IpPermissions: [{ IpProtocol: 'tcp', FromPort: port, ToPort: port, ...(peer.cidr ? { IpRanges: [{ CidrIp: peer.cidr }] } : { UserIdGroupPairs: [{ GroupId: peer.group }] }) }],
  }));
  await ingress(sgs.web, 443, { cidr: '0.0.0.0/0' });
  await ingress(sgs.web, 22, { cidr: '10.0.0.0/16' });
  await ingress(sgs.app, 8080, { group: sgs.web });
  await ingress(sgs.db, 5432, { group: sgs.app });
  await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: sgs.db, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
  await ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: sgs.db, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));

  const run = async (tier: 'web' | 'app' | 'db', ip: string) => {
    const r = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, SubnetId: subnets[tier], SecurityGroupIds: [sgs[tier]], PrivateIpAddress: ip }));
    const i = r.Instances![0]!;
    return { id: i.InstanceId!, eni: i.NetworkInterfaces![0]!.NetworkInterfaceId! };
  };
  const web = await run('web', '10.0.1.10');
  const app = await run('app', '10.0.2.10');
  const db = await run('db', '10.0.3.10');
  const spare = await run('app', '10.0.2.20');

  await s3.send(new CreateBucketCommand({ Bucket: `flowlogs-${root.accountId}` }));
  const role = `arn:aws:iam::${root.accountId}:role/flow-logs`;
  const vpcLog = await ec2.send(new CreateFlowLogsCommand({
    ResourceType: 'VPC', ResourceIds: [vpcId], TrafficType: 'ALL', LogGroupName: 'vpc-flows', DeliverLogsPermissionArn: role, MaxAggregationInterval: 60,
  }));
  const s3Log = await ec2.send(new CreateFlowLogsCommand({
    ResourceType: 'Subnet', ResourceIds: [subnets.web], TrafficType: 'ALL', LogDestinationType: 's3', LogDestination: `arn:aws:s3:::flowlogs-${root.accountId}`,
    LogFormat: V5, MaxAggregationInterval: 600, DestinationOptions: { FileFormat: 'plain-text', HiveCompatiblePartitions: true, PerHourPartition: true },
  }));
  const rejects = await ec2.send(new CreateFlowLogsCommand({
    ResourceType: 'NetworkInterface', ResourceIds: [web.eni], TrafficType: 'REJECT', LogDestinationType: 'cloud-watch-logs',
    LogDestination: `arn:aws:logs:${REGION}:${root.accountId}:log-group:web-rejects`, DeliverLogsPermissionArn: role, LogFormat: V5, MaxAggregationInterval: 60,
  }));
  expect(s3Log.Unsuccessful ?? []).toEqual([]);

  const url = cloud().target.url!;
  const secret = cloud().target.upstreamHeaders;
  const plane = new DataPlane({ topology: new MotoTopologySource(url, { headers: secret }), sinks: new EmulatorSinks(url, 'header', secret) });
  const e: Env = {
    account: root.accountId, ec2, logs, s3, plane, vpcId, subnets, acls, sgs,
    instances: { web: web.id, app: app.id, db: db.id, spare: spare.id },
    enis: { web: web.eni, app: app.eni, db: db.eni, spare: spare.eni },
    flowLogs: { vpc: vpcLog.FlowLogIds![0]!, s3: s3Log.FlowLogIds![0]!, rejects: rejects.FlowLogIds![0]! },
  };
  // The gateway reports CreateFlowLogs with its parameters (wire names), as it will in production.
  await plane.afterEc2Call(e.account, REGION, 'CreateFlowLogs', {
    ResourceId: [subnets.web], LogDestination: `arn:aws:s3:::flowlogs-${root.accountId}`,
    DestinationOptions: { FileFormat: 'plain-text', HiveCompatiblePartitions: 'true', PerHourPartition: 'true' },
  });
  return e;
}

async function logLines(group: string, eni: string): Promise<string[]> {
  const r = await env.logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: `${eni}-all`, startFromHead: true }));
  return (r.events ?? []).map((e) => e.message!);
}

beforeAll(async () => {
  env = await build();
}, 120_000);

describe('topology read from moto', () => {
  it('has the subnets, their network ACLs, the security groups and the instances', async () => {
    const t = await env.plane.topology(env.account, REGION);
    const web = t.interfaces.find((i) => i.id === env.enis.web)!;
    expect(web).toMatchObject({ subnetId: env.subnets.web, privateIps: ['10.0.1.10'], securityGroupIds: [env.sgs.web], instanceId: env.instances.web, active: true, ownerId: env.account });
    expect(t.subnets.find((s) => s.id === env.subnets.db)!.networkAclId).toBe(env.acls.db);
    const acl = t.networkAcls.find((a) => a.id === env.acls.db)!;
    expect(acl.entries.filter((e) => !e.egress).map((e) => [e.ruleNumber, e.protocol, e.cidr, e.portRange?.from, e.action]))
      .toEqual(expect.arrayContaining([[100, 6, '10.0.2.0/24', 5432, 'allow'], [110, 6, '0.0.0.0/0', 32768, 'allow']]));
    expect(t.securityGroups.find((g) => g.id === env.sgs.app)!.ingress).toEqual([{ protocol: 6, fromPort: 8080, toPort: 8080, groupId: env.sgs.web }]);
    expect(t.flowLogs.map((f) => [f.id, f.resourceId, f.trafficType, f.destinationType, f.logGroupName ?? f.bucket, f.maxAggregationInterval]).sort()).toEqual([
      [env.flowLogs.vpc, env.vpcId, 'ALL', 'cloud-watch-logs', 'vpc-flows', 60],
      [env.flowLogs.s3, env.subnets.web, 'ALL', 's3', `flowlogs-${env.account}`, 600],
      [env.flowLogs.rejects, env.enis.web, 'REJECT', 'cloud-watch-logs', 'web-rejects', 60],
    ].sort());
    expect(t.flowLogs.find((f) => f.id === env.flowLogs.s3)!.destinationOptions).toEqual({ fileFormat: 'plain-text', hiveCompatiblePartitions: true, perHourPartition: true });
  });
});

describe('verdicts against moto\'s configuration', () => {
  it('security groups are stateful, network ACLs stateless, SG references hold', async () => {
    const [web, ssh, appDb, webDb, dbOut, dbBadPort] = await env.plane.send(env.account, REGION, [
      tcp(USER, '10.0.1.10', 443),
      tcp(ROGUE, '10.0.1.10', 22),
      tcp('10.0.2.10', '10.0.3.10', 5432, { srcport: 40001 }),
      tcp('10.0.1.10', '10.0.3.10', 5432, { srcport: 40002 }),
      tcp('10.0.3.10', '52.216.8.21', 443, { srcport: 45000 }),
      tcp('10.0.2.10', '10.0.3.10', 5432, { srcport: 3000 }),
    ]);
    expect(web!.action).toBe('ACCEPT');
    expect(web!.interfaces.map((o) => `${o.leg} ${o.direction} ${o.action}`)).toEqual(['request ingress ACCEPT', 'response egress ACCEPT']);
    expect(ssh!.action).toBe('REJECT');
    expect(appDb!.action).toBe('ACCEPT'); // db's security group allows nothing out on 5432: the response is tracked
    expect(appDb!.interfaces.map((o) => `${o.eni === env.enis.db ? 'db' : 'app'} ${o.leg} ${o.direction} ${o.action}`)).toEqual([
      'app request egress ACCEPT', 'db request ingress ACCEPT', 'db response egress ACCEPT', 'app response ingress ACCEPT',
    ]);
    expect(webDb!.action).toBe('REJECT');
    expect(dbOut!.action).toBe('ACCEPT');
    expect(dbBadPort!.reason).toMatch(new RegExp(`response dropped: network ACL ${env.acls.db} outbound rule \\* denies tcp 3000`));
  });

  it('a deny entry numbered after the allow changes nothing; numbered before it blocks later flows', async () => {
    await env.ec2.send(new CreateNetworkAclEntryCommand({ NetworkAclId: env.acls.web, RuleNumber: 150, Egress: false, CidrBlock: `${ROGUE}/32`, RuleAction: 'deny', Protocol: '-1' }));
    await after('CreateNetworkAclEntry');
    expect((await env.plane.send(env.account, REGION, [tcp(ROGUE, '10.0.1.10', 443, { srcport: 50200 })]))[0]!.action).toBe('ACCEPT');

    await env.ec2.send(new CreateNetworkAclEntryCommand({ NetworkAclId: env.acls.web, RuleNumber: 50, Egress: false, CidrBlock: `${ROGUE}/32`, RuleAction: 'deny', Protocol: '-1' }));
    await after('CreateNetworkAclEntry');
    const [rogue, user] = await env.plane.send(env.account, REGION, [tcp(ROGUE, '10.0.1.10', 443, { srcport: 50201 }), tcp(USER, '10.0.1.10', 443, { srcport: 50202 })]);
    expect(rogue!.action).toBe('REJECT');
    expect(rogue!.reason).toMatch(new RegExp(`network ACL ${env.acls.web} inbound rule 50 denies tcp 443 from ${ROGUE}`));
    expect(user!.action).toBe('ACCEPT'); // business intact
  });

  it('isolating an instance (ModifyInstanceAttribute groups) stops its exfiltration, and moto is kept consistent', async () => {
    const iso = (await env.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'isolation', Description: 'no traffic', VpcId: env.vpcId }))).GroupId!;
    await env.ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: iso, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    await after('RevokeSecurityGroupEgress');
    const exfil = exfiltration({ source: '10.0.2.20', destination: ROGUE, start: T0 + 20_000, durationMs: 30_000, connections: 1, totalBytes: 50_000_000 });
    expect((await env.plane.send(env.account, REGION, exfil))[0]!.action).toBe('ACCEPT');
    await env.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: env.instances.spare, Groups: [iso] }));
    await after('ModifyInstanceAttribute', { InstanceId: env.instances.spare, GroupId: [iso] });
    const eni = (await env.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [env.enis.spare] }))).NetworkInterfaces![0]!;
    expect(eni.Groups!.map((g) => g.GroupId)).toEqual([iso]);
    const v = (await env.plane.send(env.account, REGION, exfil.map((f) => ({ ...f, srcport: f.srcport + 1 }))))[0]!;
    expect(v.action).toBe('REJECT');
    expect(v.interfaces).toEqual([expect.objectContaining({ eni: env.enis.spare, direction: 'egress', action: 'REJECT' })]);
  });

  it('a stopped instance gets no traffic and leaves no record', async () => {
    await env.ec2.send(new StopInstancesCommand({ InstanceIds: [env.instances.spare] }));
    await after('StopInstances');
    const v = (await env.plane.send(env.account, REGION, [tcp('10.0.1.10', '10.0.2.20', 8080, { srcport: 41000 })]))[0]!;
    expect(v.action).toBe('REJECT');
    expect(v.reason).toMatch(/is stopped/);
    expect(v.interfaces.map((o) => o.eni)).toEqual([env.enis.web]);
  });
});

describe('flow-log records in moto', () => {
  it('writes the default v2 format to CloudWatch Logs, one stream per interface, aggregated per 60-second window', async () => {
    // two conversations with the same 5-tuple in one window aggregate; a third, two windows later, does not
    await env.plane.send(env.account, REGION, [
      tcp(USER, '10.0.1.10', 443, { srcport: 61000, start: T0 + 120_000, end: T0 + 121_000 }),
      tcp(USER, '10.0.1.10', 443, { srcport: 61000, start: T0 + 150_000, end: T0 + 152_000 }),
      tcp(USER, '10.0.1.10', 443, { srcport: 61000, start: T0 + 250_000, end: T0 + 251_000 }),
    ]);
    const r = await env.plane.flush(T0 + 10 * 60_000);
    expect(r.errors).toEqual([]);
    const lines = await logLines('vpc-flows', env.enis.web);
    expect(lines).toContain(`2 ${env.account} ${env.enis.web} ${USER} 10.0.1.10 61000 443 6 20 3000 ${S0 + 120} ${S0 + 152} ACCEPT OK`);
    expect(lines).toContain(`2 ${env.account} ${env.enis.web} ${USER} 10.0.1.10 61000 443 6 10 1500 ${S0 + 250} ${S0 + 251} ACCEPT OK`);
    expect(lines).toContain(`2 ${env.account} ${env.enis.web} 10.0.1.10 ${USER} 443 61000 6 20 800 ${S0 + 120} ${S0 + 152} ACCEPT OK`);
    expect(lines).toContain(`2 ${env.account} ${env.enis.web} ${ROGUE} 10.0.1.10 50123 22 6 10 1500 ${S0 + 5} ${S0 + 9} REJECT OK`);
    expect(lines).toContain(`2 ${env.account} ${env.enis.web} ${ROGUE} 10.0.1.10 50201 443 6 10 1500 ${S0 + 5} ${S0 + 9} REJECT OK`);
    // the event timestamp is the record's start
    const ev = await env.logs.send(new GetLogEventsCommand({ logGroupName: 'vpc-flows', logStreamName: `${env.enis.web}-all`, startFromHead: true }));
    const first = ev.events!.find((e) => e.message!.includes(' 61000 443 6 20 '))!;
    expect(first.timestamp).toBe((S0 + 120) * 1000);
    // every interface that saw traffic has its stream; the stopped one has none
    const streams = (await env.logs.send(new DescribeLogStreamsCommand({ logGroupName: 'vpc-flows' }))).logStreams!.map((s) => s.logStreamName).sort();
    expect(streams).toEqual([`${env.enis.app}-all`, `${env.enis.db}-all`, `${env.enis.spare}-all`, `${env.enis.web}-all`].sort());
    expect(await logLines('vpc-flows', env.enis.db)).toContain(`2 ${env.account} ${env.enis.db} 10.0.3.10 10.0.2.10 5432 3000 6 10 400 ${S0 + 5} ${S0 + 9} REJECT OK`);
  });

  it('writes the custom v5 format, and only REJECT records for a REJECT flow log', async () => {
    const lines = await logLines('web-rejects', env.enis.web);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.split(' ')[18] === 'REJECT')).toBe(true);
    const ssh = lines.find((l) => l.includes(' 50123 22 '))!.split(' ');
    expect(ssh.slice(0, 20).join(' ')).toBe(
      `5 ${env.vpcId} ${env.subnets.web} ${env.instances.web} ${env.enis.web} ${env.account} IPv4 ${ROGUE} 10.0.1.10 50123 22 ${ROGUE} 10.0.1.10 6 1500 10 ${S0 + 5} ${S0 + 9} REJECT 2`,
    );
    expect(ssh.slice(20)).toEqual([REGION, expect.stringMatching(/^use1-az\d$/), 'ingress', '-', 'OK']);
  });

  it('writes gzipped files with a header line to S3 at the Hive-compatible, hourly key layout', async () => {
    const bucket = `flowlogs-${env.account}`;
    const list = await env.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (list.Contents ?? []).map((o) => o.Key!);
    expect(keys.length).toBeGreaterThan(0);
    const d = new Date(T0);
    const p2 = (n: number) => String(n).padStart(2, '0');
    const folder = `AWSLogs/aws-account-id=${env.account}/aws-service=vpcflowlogs/aws-region=${REGION}/year=${d.getUTCFullYear()}/month=${p2(d.getUTCMonth() + 1)}/day=${p2(d.getUTCDate())}/hour=${p2(d.getUTCHours())}/`;
    for (const k of keys) {
      expect(k.startsWith(folder)).toBe(true);
      expect(k.slice(folder.length)).toMatch(new RegExp(`^${env.account}_vpcflowlogs_${REGION}_${env.flowLogs.s3}_\\d{8}T\\d{4}Z_[0-9a-f]{8}\\.log\\.gz$`));
    }
    const obj = await env.s3.send(new GetObjectCommand({ Bucket: bucket, Key: keys[0] }));
    const text = gunzipSync(Buffer.from(await obj.Body!.transformToByteArray())).toString('utf8');
    const [header, ...rows] = text.trimEnd().split('\n');
    expect(header).toBe(V5.replace(/\$\{([^}]+)\}/g, '$1'));
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      const f = row.split(' ');
      expect(f[0]).toBe('5');
      expect(f[2]).toBe(env.subnets.web); // a subnet-level flow log covers the web subnet's interfaces only
    }
  });

  it('moto keeps the flow logs but marks CloudWatch delivery FAILED when the group did not exist; the data plane created it', async () => {
    const fl = (await env.ec2.send(new DescribeFlowLogsCommand({ FlowLogIds: [env.flowLogs.vpc] }))).FlowLogs![0]!;
    expect(fl.LogFormat).toBe('${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}');
    expect(fl.DeliverLogsStatus).toBe('FAILED'); // moto's view at creation time; delivery works all the same
    expect((await logLines('vpc-flows', env.enis.app)).length).toBeGreaterThan(0);
  });
});

describe('scenario traffic through moto', () => {
  it('normal traffic is accepted while the attacks are rejected or recorded', async () => {
    const t = await env.plane.topology(env.account, REGION);
    const normal = normalTraffic(t, {
      web: { subnetIds: [env.subnets.web] }, app: { instanceIds: [env.instances.app] }, db: { subnetIds: [env.subnets.db] },
      webUsers: { perMinute: 60 }, dbQueriesPerMinute: 30,
    }, { from: T0 + 300_000, to: T0 + 420_000, seed: 7 });
    const verdicts = await env.plane.send(env.account, REGION, normal);
    const byLabel = new Map<string, string[]>();
    normal.forEach((f, i) => byLabel.set(f.label!, [...(byLabel.get(f.label!) ?? []), verdicts[i]!.action]));
    expect([...byLabel.keys()].sort()).toEqual(['app-db', 'update', 'web', 'web-app'].filter((l) => byLabel.has(l)).sort());
    for (const [label, actions] of byLabel) expect({ label, rejected: actions.filter((a) => a !== 'ACCEPT').length }).toEqual({ label, rejected: 0 });

    const ssh = await env.plane.send(env.account, REGION, sshBruteForce({ attacker: '203.0.113.77', target: '10.0.1.10', start: T0 + 300_000, attempts: 20 }));
    expect(ssh.every((v) => v.action === 'REJECT')).toBe(true);
    const scan = await env.plane.send(env.account, REGION, portScan({ attacker: '203.0.113.78', target: '10.0.1.10', start: T0 + 300_000, ports: [21, 22, 23, 80, 443, 3389] }));
    expect(scan.map((v) => v.action)).toEqual(['REJECT', 'REJECT', 'REJECT', 'REJECT', 'ACCEPT', 'REJECT']);
    const r = await env.plane.flush(T0 + 20 * 60_000);
    expect(r.errors).toEqual([]);
    expect((await logLines('web-rejects', env.enis.web)).filter((l) => l.includes(' 203.0.113.77 ')).length).toBe(20);
  });
});
