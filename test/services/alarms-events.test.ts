// The monitoring path on the lab clock: log events -> metric filter -> metric -> alarm -> SNS (email,
// SMS) and the alarm state-change event -> EventBridge rule -> Lambda.
import { describe, expect, it } from 'vitest';
import { zipSync, strToU8 } from 'fflate';
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutMetricFilterCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CloudWatchClient, PutMetricAlarmCommand, DescribeAlarmsCommand, DescribeAlarmHistoryCommand } from '@aws-sdk/client-cloudwatch';
import { SNSClient, CreateTopicCommand, SubscribeCommand, SetTopicAttributesCommand, PublishCommand } from '@aws-sdk/client-sns';
import { CreateUserCommand, PutUserPolicyCommand, CreateAccessKeyCommand } from '@aws-sdk/client-iam';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand, PutEventsCommand, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import { IAMClient, CreateRoleCommand } from '@aws-sdk/client-iam';
import { LambdaClient, CreateFunctionCommand, AddPermissionCommand } from '@aws-sdk/client-lambda';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();

async function setup() {
  const c = cloud();
  const root = c.createAccount();
  const credentials = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
  await c.client(IAMClient, { credentials }).send(new CreateRoleCommand({ RoleName: 'r', AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) }));
  await c.client(LambdaClient, { credentials }).send(new CreateFunctionCommand({
    FunctionName: 'on-event', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: `arn:aws:iam::${root.accountId}:role/r`,
    Code: { ZipFile: zipSync({ 'index.mjs': strToU8('export const handler = async (e) => e["detail-type"] ?? "sns";') }) },
  }));
  await c.client(LambdaClient, { credentials }).send(new AddPermissionCommand({ FunctionName: 'on-event', StatementId: 'events', Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com' }));
  return { c, root, credentials, fn: `arn:aws:lambda:us-east-1:${root.accountId}:function:on-event` };
}

describe('alarms on the lab clock', () => {
  it('fire from metric-filter metrics and notify by email, SMS and EventBridge', async () => {
    const { c, root, credentials, fn } = await setup();
    const logs = c.client(CloudWatchLogsClient, { credentials });
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'app' }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: 'app', logStreamName: 's' }));
    await logs.send(new PutMetricFilterCommand({ logGroupName: 'app', filterName: 'denied', filterPattern: '{ $.errorCode = "AccessDenied" }', metricTransformations: [{ metricName: 'Denied', metricNamespace: 'Lab', metricValue: '1' }] }));
    const sns = c.client(SNSClient, { credentials });
    const topic = (await sns.send(new CreateTopicCommand({ Name: 'admins' }))).TopicArn!;
    c.gateway.service('sns').outbox.addReader(root.accountId, 'admin@example.com'); // confirms the email subscription
    await sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: 'email', Endpoint: 'admin@example.com' }));
    await sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: 'sms', Endpoint: '+15555550123' }));
    const cw = c.client(CloudWatchClient, { credentials });
    await cw.send(new PutMetricAlarmCommand({
      AlarmName: 'denied-burst', Namespace: 'Lab', MetricName: 'Denied', Statistic: 'Sum', Period: 60, EvaluationPeriods: 1,
      Threshold: 3, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching', AlarmActions: [topic],
    }));
    const events = c.client(EventBridgeClient, { credentials });
    await events.send(new PutRuleCommand({ Name: 'alarms', EventPattern: JSON.stringify({ source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], detail: { state: { value: ['ALARM'] } } }) }));
    await events.send(new PutTargetsCommand({ Rule: 'alarms', Targets: [{ Id: 'fn', Arn: fn }] }));

    const now = c.gateway.clock.nowMs();
    await logs.send(new PutLogEventsCommand({ logGroupName: 'app', logStreamName: 's', logEvents: [1, 2, 3, 4].map((i) => ({ timestamp: now + i, message: JSON.stringify({ errorCode: 'AccessDenied', n: i }) })) }));
    await c.gateway.clock.advance(2 * 60_000);

    const alarm = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['denied-burst'] }))).MetricAlarms![0]!;
    expect(alarm.StateValue).toBe('ALARM');
    expect(alarm.StateReason).toMatch(/Threshold Crossed: 1 datapoint \[4\.0/);
    const out = c.gateway.service('sns').outbox.list(root.accountId).filter((d) => d.subject !== 'AWS Notification - Subscription Confirmation');
    expect(out.map((d) => d.protocol).sort()).toEqual(['email', 'sms']);
    expect(out.find((d) => d.protocol === 'email')!.subject).toMatch(/^ALARM: "denied-burst" in US East/);
    expect(JSON.parse(out.find((d) => d.protocol === 'sms')!.message)).toMatchObject({ AlarmName: 'denied-burst', NewStateValue: 'ALARM', OldStateValue: 'INSUFFICIENT_DATA' });
    const inv = c.gateway.service('lambda').invocations.filter((i) => i.account === root.accountId);
    expect(inv.map((i) => i.result.payload)).toEqual(['CloudWatch Alarm State Change']);
    const history = (await cw.send(new DescribeAlarmHistoryCommand({ AlarmName: 'denied-burst', HistoryItemType: 'StateUpdate' }))).AlarmHistoryItems!;
    expect(history[0]!.HistorySummary).toBe('Alarm updated from INSUFFICIENT_DATA to ALARM');
  });
});

describe('EventBridge', () => {
  it('delivers PutEvents to matching rules\' Lambda targets and answers TestEventPattern', async () => {
    const { c, root, credentials, fn } = await setup();
    const events = c.client(EventBridgeClient, { credentials });
    await events.send(new PutRuleCommand({ Name: 'ssh', EventPattern: JSON.stringify({ source: ['lab.network'], detail: { port: [22], src: [{ cidr: '198.51.100.0/24' }] } }) }));
    await events.send(new PutTargetsCommand({ Rule: 'ssh', Targets: [{ Id: 'fn', Arn: fn }] }));
    await events.send(new PutEventsCommand({ Entries: [
      { Source: 'lab.network', DetailType: 'flow', Detail: JSON.stringify({ port: 22, src: '198.51.100.7' }) },
      { Source: 'lab.network', DetailType: 'flow', Detail: JSON.stringify({ port: 443, src: '198.51.100.7' }) },
    ] }));
    await c.gateway.flush();
    expect(c.gateway.service('lambda').invocations.filter((i) => i.account === root.accountId).length).toBe(1);
    const ok = await events.send(new TestEventPatternCommand({
      EventPattern: JSON.stringify({ source: [{ prefix: 'aws.' }] }),
      Event: JSON.stringify({ id: '1', account: root.accountId, source: 'aws.ec2', time: '2024-01-01T00:00:00Z', region: 'us-east-1', resources: [], 'detail-type': 'x', detail: {} }),
    }));
    expect(ok.Result).toBe(true);
    const bad = await events.send(new PutRuleCommand({ Name: 'bad', EventPattern: '{"source": "not-an-array"}' })).then(() => 'accepted', (e: Error) => e.name);
    expect(bad).toBe('InvalidEventPatternException');
  });
});

describe('SNS topic policies', () => {
  it('are enforced by the gateway', async () => {
    const { c, root, credentials } = await setup();
    const iam = c.client(IAMClient, { credentials });
    await iam.send(new CreateUserCommand({ UserName: 'app' }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'app', PolicyName: 'p', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }] }) }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'app' }))).AccessKey!;
    const sns = c.client(SNSClient, { credentials });
    const topic = (await sns.send(new CreateTopicCommand({ Name: 'locked' }))).TopicArn!;
    const app = c.client(SNSClient, { credentials: { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! } });
    await app.send(new PublishCommand({ TopicArn: topic, Message: 'ok' }));
    await sns.send(new SetTopicAttributesCommand({ TopicArn: topic, AttributeName: 'Policy', AttributeValue: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${root.accountId}:user/app` }, Action: 'sns:Publish', Resource: topic }] }) }));
    const denied = await app.send(new PublishCommand({ TopicArn: topic, Message: 'no' })).then(() => 'allowed', (e: Error) => e.name);
    expect(denied).toBe('AuthorizationErrorException');
  });
});
