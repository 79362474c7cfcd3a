// Posture checks read the state the gateway enforces from, not moto behind its back (issue 7, item 2).
// Changes made straight in moto (bypassing the gateway, which students cannot do) must not make a
// check pass while the lab cloud still behaves as before. Lab iam's keys and MFA devices are covered
// in iam.test.ts; this file covers the other labs.
import { describe, expect, it } from 'vitest';
import { S3Client, CreateBucketCommand, PutBucketPolicyCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { CloudTrailClient, CreateTrailCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient, CreateLogGroupCommand, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CloudWatchClient, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { EC2Client, CreateFlowLogsCommand } from '@aws-sdk/client-ec2';
import { IAMClient, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { SNSClient, CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { findLab } from '../../src/engine/labs.ts';
import { provisionLab } from '../../src/engine/grader.ts';
import { exfiltration } from '../../src/cloud/services/ec2/dataplane/index.ts';
import type { SiemLabEnv } from '../../labs/siem/company.ts';
import type { NetworkLabEnv } from '../../labs/network/company.ts';
import { LabSession } from '../../src/engine/session.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();

describe('lab siem: the trail is logging as the gateway delivers it', () => {
  it('a trail started in moto only is not logging, and delivers nothing', async () => {
    const lab = await findLab('siem');
    const session = new LabSession(cloud(), cloud().createAccount());
    const bucket = `trail-${session.runId}`;
    const s3 = session.client(S3Client);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:GetBucketAcl', Resource: `arn:aws:s3:::${bucket}` },
          { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/AWSLogs/${session.accountId}/*`, Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } } },
        ],
      }),
    }));
    const ct = session.client(CloudTrailClient);
    await ct.send(new CreateTrailCommand({ Name: 'main', S3BucketName: bucket, IsMultiRegionTrail: true }));
    // Straight to moto: its status says logging, but the gateway never saw StartLogging.
    await cloud().gateway.upstream.json(session.accountId, 'cloudtrail', 'StartLogging', { Name: 'main' });
    const status = await cloud().gateway.upstream.json<{ IsLogging?: boolean }>(session.accountId, 'cloudtrail', 'GetTrailStatus', { Name: 'main' });
    expect(status.IsLogging).toBe(true);

    const check = lab.checks.find((c) => c.id === 'trail-multi-region')!;
    const out = await check.run(session);
    expect(out.passed).toBe(false);
    expect(out.feedback).toContain('not logging');
    // And the lab cloud indeed delivers nothing for it.
    await cloud().gateway.clock.advance(3600_000);
    await cloud().gateway.flush();
    const delivered = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'AWSLogs/' }));
    expect(delivered.Contents ?? []).toEqual([]);

    // Started through the gateway, it is logging, and the check says so.
    await ct.send(new StartLoggingCommand({ Name: 'main' }));
    expect((await check.run(session)).passed).toBe(true);
  });

  it('a flow log created in moto only is not a flow log, and the data plane writes nothing for it', async () => {
    const lab = await findLab('siem');
    const session = await provisionLab(cloud(), lab);
    const env = session.env as unknown as SiemLabEnv;
    const { accountId } = session;
    const region = cloud().region;
    const group = `/moto-only/${session.runId}`;
    await session.client(CloudWatchLogsClient).send(new CreateLogGroupCommand({ logGroupName: group }));
    await cloud().gateway.service('ec2').dataplane.topology(accountId, region); // what the data plane works from
    // Straight to moto, bypassing the gateway (which would have told the data plane).
    await cloud().gateway.upstream.json(accountId, 'ec2', 'CreateFlowLogs', {
      ResourceType: 'VPC', ResourceIds: [env.vpc.id], TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs', LogGroupName: group,
      DeliverLogsPermissionArn: `arn:aws:iam::${accountId}:role/flow-logs`, MaxAggregationInterval: 60,
    }, region);
    const listed = await cloud().gateway.upstream.json<{ FlowLogs?: { LogGroupName?: string }[] }>(accountId, 'ec2', 'DescribeFlowLogs', {}, region);
    expect(listed.FlowLogs!.some((f) => f.LogGroupName === group)).toBe(true);

    const out = await lab.checks.find((c) => c.id === 'flow-logs')!.run(session);
    expect(out.passed).toBe(false);

    const app = env.vpc.instances.find((i) => i.tier === 'app')!;
    await cloud().gateway.service('ec2').dataplane.send(accountId, region, exfiltration({ source: app.privateIp, destination: '198.51.100.7', start: session.now(), durationMs: 10_000, connections: 1, totalBytes: 10_000_000 }));
    await cloud().gateway.clock.advance(600_000);
    await cloud().gateway.flush();
    const written = await session.client(CloudWatchLogsClient).send(new FilterLogEventsCommand({ logGroupName: group }));
    expect(written.events ?? []).toEqual([]);
  });
});

describe('lab network: metric filters as the gateway applies them', () => {
  it('a metric filter created in moto only is not applied: the alarm check fails and the attack goes unseen', async () => {
    const lab = await findLab('network');
    const session = await provisionLab(cloud(), lab);
    const env = session.env as unknown as NetworkLabEnv;
    const { accountId } = session;
    const region = cloud().region;
    const group = `/northwind/flows-${session.runId}`;
    const groupArn = `arn:aws:logs:${region}:${accountId}:log-group:${group}`;
    // Everything else through the gateway, as the reference does it.
    await session.client(CloudWatchLogsClient).send(new CreateLogGroupCommand({ logGroupName: group }));
    const iam = session.client(IAMClient);
    const role = await iam.send(new CreateRoleCommand({ RoleName: 'flow-logs', AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'vpc-flow-logs.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'flow-logs', PolicyName: 'deliver', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogGroups', 'logs:DescribeLogStreams'], Resource: [groupArn, `${groupArn}:*`] }] }) }));
    await session.client(EC2Client).send(new CreateFlowLogsCommand({
      ResourceType: 'VPC', ResourceIds: [env.vpcs.sensitive.id], TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs', LogGroupName: group,
      DeliverLogsPermissionArn: role.Role!.Arn!, MaxAggregationInterval: 60,
    }));
    const sns = session.client(SNSClient);
    const topic = (await sns.send(new CreateTopicCommand({ Name: 'alerts' }))).TopicArn!;
    await sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: 'email', Endpoint: env.admins.email }));
    await sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: 'sms', Endpoint: env.admins.phone }));
    await session.client(CloudWatchClient).send(new PutMetricAlarmCommand({
      AlarmName: 'rejected-ssh', Namespace: 'Northwind/Network', MetricName: 'RejectedSSH', Statistic: 'Sum', Period: 60, EvaluationPeriods: 1,
      Threshold: 10, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching', AlarmActions: [topic],
    }));
    // The gateway has read the group's filters (as it does when the first records arrive)...
    expect((await cloud().gateway.service('logs').filters(accountId, region, group)).metric).toEqual([]);
    // ...and then one is added straight to moto, behind its back.
    await cloud().gateway.upstream.json(accountId, 'logs', 'PutMetricFilter', {
      logGroupName: group, filterName: 'RejectedSSH',
      filterPattern: '[version, account, eni, srcaddr, dstaddr, srcport, dstport=22, protocol=6, packets, bytes, start, end, action=REJECT, status]',
      metricTransformations: [{ metricName: 'RejectedSSH', metricNamespace: 'Northwind/Network', metricValue: '1', defaultValue: 0 }],
    }, region);
    const listed = await cloud().gateway.upstream.json<{ metricFilters?: unknown[] }>(accountId, 'logs', 'DescribeMetricFilters', { logGroupName: group }, region);
    expect(listed.metricFilters!.length).toBe(1);

    const out = await lab.checks.find((c) => c.id === 'alarm-rejected-ssh')!.run(session);
    expect(out.passed).toBe(false);

    const scenario = lab.scenarios.find((x) => x.id === 'ssh-brute-force')!;
    const state = await scenario.prepare!(session);
    const steps = await scenario.inject(session, state);
    const result = await scenario.observe(session, steps, state);
    expect(result.detected).toBe(false);
  });
});

