// The SIEM as a running component against the lab cloud, through the AWS SDK only: CloudTrail from the trail's
// bucket and log group, flow logs from CloudWatch Logs and S3, an application log group; incremental polling with a
// state file across restarts; alerts notified by email and SMS through SNS with the rule's author.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CloudTrailClient, CreateTrailCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateFlowLogsCommand, CreateSubnetCommand, CreateVpcCommand, EC2Client, RunInstancesCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand, ListUsersCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { useLabCloud } from '../helpers/cloud.ts';
import { parseSiemConfig } from '../../src/controls/siem/config.ts';
import { Siem, type SiemOptions } from '../../src/controls/siem/siem.ts';
import type { SiemEvent } from '../../src/controls/siem/events.ts';
import { PROTO } from '../../src/cloud/services/ec2/dataplane/index.ts';

const { cloud } = useLabCloud();
const MIN = 60_000;
const FLOW_FORMAT = '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${flow-direction}';

interface Env {
  account: string;
  root: { accessKeyId: string; secretAccessKey: string };
  siemKey: { accessKeyId: string; secretAccessKey: string };
  prowler: { accessKeyId: string; secretAccessKey: string };
  webIp: string;
  eni: string;
  topicArn: string;
  yml: string;
}

let env: Env;

async function setup(): Promise<Env> {
  const c = cloud();
  const r = c.createAccount();
  const root = { accessKeyId: r.accessKeyId, secretAccessKey: r.secretAccessKey };
  const account = r.accountId;
  const s3 = c.client(S3Client, { credentials: root });
  const iam = c.client(IAMClient, { credentials: root });
  const logs = c.client(CloudWatchLogsClient, { credentials: root });
  const ec2 = c.client(EC2Client, { credentials: root });
  const bucket = `trail-${account}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketPolicyCommand({
    Bucket: bucket,
    Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/AWSLogs/${account}/*` }] }),
  }));
  await s3.send(new CreateBucketCommand({ Bucket: `flows-${account}` }));
  await logs.send(new CreateLogGroupCommand({ logGroupName: 'trail' }));
  await logs.send(new CreateLogGroupCommand({ logGroupName: '/app/bastion' }));
  await logs.send(new CreateLogStreamCommand({ logGroupName: '/app/bastion', logStreamName: 'i-bastion/secure' }));

  // The SIEM's integration user: read access to the logs, publish to the topic.
  await iam.send(new CreateUserCommand({ UserName: 'siem' }));
  await iam.send(new PutUserPolicyCommand({
    UserName: 'siem', PolicyName: 'siem-read',
    PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket', 'logs:FilterLogEvents', 'logs:DescribeLogGroups', 'sns:Publish', 'sts:GetCallerIdentity'], Resource: '*' }] }),
  }));
  const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'siem' }))).AccessKey!;
  // Someone probing with a key that may do nothing.
  await iam.send(new CreateUserCommand({ UserName: 'intern' }));
  const p = (await iam.send(new CreateAccessKeyCommand({ UserName: 'intern' }))).AccessKey!;

  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!.VpcId!;
  const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.0.1.0/24' }))).Subnet!.SubnetId!;
  const inst = (await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, SubnetId: subnet, PrivateIpAddress: '10.0.1.10' }))).Instances![0]!;
  const eni = inst.NetworkInterfaces![0]!.NetworkInterfaceId!;
  const role = `arn:aws:iam::${account}:role/flow-logs`;
  await ec2.send(new CreateFlowLogsCommand({ ResourceType: 'VPC', ResourceIds: [vpc], TrafficType: 'ALL', LogGroupName: '/vpc/flows', DeliverLogsPermissionArn: role, MaxAggregationInterval: 60, LogFormat: FLOW_FORMAT }));
  await ec2.send(new CreateFlowLogsCommand({ ResourceType: 'VPC', ResourceIds: [vpc], TrafficType: 'ALL', LogDestinationType: 's3', LogDestination: `arn:aws:s3:::flows-${account}`, MaxAggregationInterval: 60 }));

  const sns = c.client(SNSClient, { credentials: root });
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: 'secops' }))).TopicArn!;
  c.gateway.service('sns').outbox.addReader(account, 'secops@example.com'); // confirms the email subscription
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'email', Endpoint: 'secops@example.com' }));
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sms', Endpoint: '+15555550100' }));

  const ct = c.client(CloudTrailClient, { credentials: root });
  await ct.send(new CreateTrailCommand({ Name: 'main', S3BucketName: bucket, IsMultiRegionTrail: true, CloudWatchLogsLogGroupArn: `arn:aws:logs:us-east-1:${account}:log-group:trail:*`, CloudWatchLogsRoleArn: role }));
  await ct.send(new StartLoggingCommand({ Name: 'main' }));
  const yml = [
    'sources:',
    '  - { name: trail, type: cloudtrail, s3: { bucket: "trail-${accountId}" } }',
    '  - { name: trail-logs, type: cloudtrail, logGroup: trail }',
    `  - { name: flows, type: vpcflow, logGroup: /vpc/flows, format: "${FLOW_FORMAT}" }`,
    '  - { name: flows-s3, type: vpcflow, s3: { bucket: "flows-${accountId}" } }',
    '  - { name: app, type: logs, logGroupPrefix: /app/ }',
    'channels:',
    '  - { name: secops, type: sns, topicArn: "arn:aws:sns:${region}:${accountId}:secops", minSeverity: medium }',
    'alerting: { minLevel: low }',
  ].join('\n');
  return {
    account, root, siemKey: { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! }, prowler: { accessKeyId: p.AccessKeyId!, secretAccessKey: p.SecretAccessKey! },
    webIp: '10.0.1.10', eni, topicArn, yml,
  };
}

function siem(stateFile?: string, extra: Partial<SiemOptions> = {}): Siem {
  return new Siem(parseSiemConfig(env.yml, 'siem/siem.yml', os.tmpdir()), {
    endpoint: cloud().url, credentials: env.siemKey, region: 'us-east-1', stateFile, name: 'test SIEM', ...extra,
  });
}

beforeAll(async () => {
  env = await setup();
}, 60_000);

describe('Siem against the lab cloud', () => {
  it('reads every source once, raises alerts with ATT&CK tags and notifies by email and SMS with the rule author', async () => {
    const c = cloud();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'siem-state-'));
    const state = path.join(dir, 'state.json');
    const seen: SiemEvent[] = [];
    const s = siem(state, { onEvents: (evs) => seen.push(...evs) });

    // A key probing what it may do: denied calls, in two regions.
    const ec2 = c.client(EC2Client, { credentials: env.prowler, sourceIp: '185.220.101.7', region: 'eu-west-1' });
    const iam = c.client(IAMClient, { credentials: env.prowler, sourceIp: '185.220.101.7' });
    for (let i = 0; i < 6; i++) await ec2.send(new DescribeInstancesCommand({})).catch(() => undefined);
    for (let i = 0; i < 6; i++) await iam.send(new ListUsersCommand({})).catch(() => undefined);
    // A large outbound transfer and bastion log lines. The flow starts just after a capture window
    // opens: one straddling two 60 s windows would be split in two smaller records, as AWS does.
    await c.gateway.clock.advance(Math.ceil(c.gateway.clock.nowMs() / MIN) * MIN + 1000 - c.gateway.clock.nowMs());
    const now = c.gateway.clock.nowMs();
    await c.gateway.service('ec2').dataplane.send(env.account, 'us-east-1', [
      { srcaddr: env.webIp, dstaddr: '198.51.100.99', srcport: 40000, dstport: 443, protocol: PROTO.TCP, packets: 60_000, bytes: 80_000_000, start: now, end: now + 20_000 },
    ]);
    const logs = c.client(CloudWatchLogsClient, { credentials: env.root });
    await logs.send(new PutLogEventsCommand({
      logGroupName: '/app/bastion', logStreamName: 'i-bastion/secure',
      logEvents: Array.from({ length: 22 }, (_, i) => ({ timestamp: now + i * 1000, message: `sshd[42${i}]: Failed password for root from 185.220.101.7 port 5${i}122 ssh2` })),
    }));
    await c.gateway.clock.advance(2 * MIN);

    const fresh = await s.poll();
    const titles = fresh.map((a) => a.rule.title);
    expect(titles).toContain('Burst of Access-Denied API Calls by One Identity');
    expect(titles).toContain('Large Outbound Transfer to an Internet Address (VPC Flow Logs)');
    expect(titles).toContain('Burst of SSH Authentication Failures in Host Logs (CloudWatch Logs)');
    const burst = fresh.find((a) => a.rule.title === 'Burst of Access-Denied API Calls by One Identity')!;
    expect(burst.attack.techniques).toContain('T1078.004');
    expect(burst.attack.tactics).toContain('initial-access');
    expect(burst.events.some((e) => e.fields['awsRegion'] === 'eu-west-1')).toBe(true);
    // The exfiltration flow came from both flow logs (CloudWatch Logs, custom format; S3, default format).
    const exfil = fresh.filter((a) => a.rule.title.startsWith('Large Outbound Transfer'));
    expect(exfil.length).toBe(1);
    expect(exfil[0]!.events.map((e) => e.origin?.logGroup ?? e.origin?.file?.slice(0, 5)).sort()).toEqual(['/vpc/flows', 's3://']);

    // Each CloudTrail event once, although the trail is read from S3 and CloudWatch Logs.
    const ids = seen.filter((e) => e.source === 'cloudtrail').map((e) => e.fields['eventID']);
    expect(new Set(ids).size).toBe(ids.length);
    expect(s.stats.duplicates).toBeGreaterThan(0);
    const byName = Object.fromEntries(s.sources().map((x) => [x.name, x]));
    for (const n of ['trail', 'trail-logs', 'flows', 'flows-s3', 'app']) expect(byName[n]!.error, n).toBeUndefined();
    expect(byName['trail']!.events).toBeGreaterThan(10);
    expect(byName['flows']!.events).toBeGreaterThan(0);
    expect(byName['app']!.events).toBe(22);

    // Notifications: email and SMS, each naming the rule's author.
    const out = c.gateway.service('sns').outbox.list(env.account);
    for (const protocol of ['email', 'sms']) {
      const mine = out.filter((d) => d.protocol === protocol && d.subject?.includes('Burst of Access-Denied'));
      expect(mine.length, protocol).toBe(1);
      expect(mine[0]!.message).toMatch(/rule by seclab/);
      expect(mine[0]!.message).toMatch(/T1078\.004/);
    }
    expect(burst.notifications).toEqual([expect.objectContaining({ channel: 'secops', topicArn: env.topicArn, messageId: expect.any(String) })]);
    expect(s.channels()[0]).toMatchObject({ sent: fresh.filter((a) => ['medium', 'high', 'critical'].includes(a.severity)).length, failed: 0 });

    // Nothing new: nothing read.
    seen.length = 0;
    await c.gateway.clock.advance(MIN);
    const again = await s.poll();
    expect(again.filter((a) => a.rule.title.startsWith('Burst of Access-Denied'))).toEqual([]);
    expect(seen.filter((e) => ids.includes(e.fields['eventID']))).toEqual([]);

    // Restart: the same state file, new activity; only the new data is read, earlier alerts are kept.
    s.close();
    const before = JSON.parse(readFileSync(state, 'utf8')) as { alerts: unknown[] };
    const seen2: SiemEvent[] = [];
    const s2 = siem(state, { onEvents: (evs) => seen2.push(...evs) });
    expect(s2.alerts().length).toBe(before.alerts.length);
    await c.client(IAMClient, { credentials: env.prowler, sourceIp: '185.220.101.7' }).send(new CreateUserCommand({ UserName: 'backdoor' })).catch(() => undefined);
    await c.gateway.clock.advance(2 * MIN);
    await s2.poll();
    const ct2 = seen2.filter((e) => e.source === 'cloudtrail');
    expect(ct2.some((e) => e.fields['eventName'] === 'CreateUser')).toBe(true);
    expect(ct2.filter((e) => ids.includes(e.fields['eventID']))).toEqual([]);
    expect(seen2.filter((e) => e.origin?.logGroup === '/app/bastion')).toEqual([]);
    // The earlier notifications were not sent again.
    expect(c.gateway.service('sns').outbox.list(env.account).filter((d) => d.protocol === 'sms' && d.subject?.includes('Burst of Access-Denied')).length).toBe(1);
    s2.close();
  });

  it('reports a source it cannot read and keeps reading the others', async () => {
    const yml = env.yml.replace('trail-${accountId}', 'no-such-bucket-${accountId}').replace('logGroup: trail }', 'logGroup: nope }');
    const s = new Siem(parseSiemConfig(yml, 'siem.yml', os.tmpdir()), { endpoint: cloud().url, credentials: env.siemKey, region: 'us-east-1' });
    await s.poll();
    const st = Object.fromEntries(s.sources().map((x) => [x.name, x]));
    expect(st['trail']!.error).toBe(`bucket no-such-bucket-${env.account} does not exist`);
    expect(st['trail-logs']!.error).toBe('log group nope does not exist (yet)');
    expect(st['flows']!.error).toBeUndefined();
    expect(st['flows']!.events).toBeGreaterThan(0);
    s.close();
  });

  it('says which permission is missing when its credentials may not read a source', async () => {
    const s = siem(undefined, { credentials: env.prowler, accountId: env.account });
    await s.poll();
    expect(s.sources().find((x) => x.name === 'trail')!.error).toMatch(/^access denied reading s3:\/\/trail-\d+\/: the SIEM's credentials need read access \(s3:ListBucket, s3:GetObject\)$/);
    s.close();
  });

  it('refuses a state file it cannot read, saying how to start over', () => {
    const f = path.join(mkdtempSync(path.join(os.tmpdir(), 'siem-state-')), 'state.json');
    writeFileSync(f, '{ not json');
    expect(() => siem(f)).toThrow(/state file .* cannot be read .*: delete it to start over/);
  });
});
