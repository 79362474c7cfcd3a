// Metric filters and subscription filters applied to log events, by the lab cloud.
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { zipSync, strToU8 } from 'fflate';
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutMetricFilterCommand, PutLogEventsCommand, TestMetricFilterCommand, PutSubscriptionFilterCommand } from '@aws-sdk/client-cloudwatch-logs';
import { IAMClient, CreateRoleCommand } from '@aws-sdk/client-iam';
import { LambdaClient, CreateFunctionCommand, AddPermissionCommand } from '@aws-sdk/client-lambda';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
const SSH_REJECT = '[version, account, eni, source, destination, srcport, destport="22", protocol="6", packets, bytes, windowstart, windowend, action="REJECT", flowlogstatus]';
const line = (src: string, port: number, action: string, t: number) => `2 123456789012 eni-0a1b2c3d ${src} 10.0.1.10 49152 ${port} 6 3 180 ${t} ${t + 60} ${action} OK`;

async function setup() {
  const c = cloud();
  const root = c.createAccount();
  const creds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
  const logs = c.client(CloudWatchLogsClient, { credentials: creds });
  await logs.send(new CreateLogGroupCommand({ logGroupName: 'vpc-flow' }));
  await logs.send(new CreateLogStreamCommand({ logGroupName: 'vpc-flow', logStreamName: 'eni-0a1b2c3d-all' }));
  return { c, root, creds, logs };
}

describe('metric filters', () => {
  it('turn matching log events into metric datapoints', async () => {
    const { c, root, logs } = await setup();
    await logs.send(new PutMetricFilterCommand({
      logGroupName: 'vpc-flow', filterName: 'ssh-rejects', filterPattern: SSH_REJECT,
      metricTransformations: [{ metricName: 'RejectedSSH', metricNamespace: 'Lab/Network', metricValue: '1', defaultValue: 0 }],
    }));
    const t = Math.floor(c.gateway.clock.nowMs() / 1000);
    await logs.send(new PutLogEventsCommand({
      logGroupName: 'vpc-flow', logStreamName: 'eni-0a1b2c3d-all',
      logEvents: [
        { timestamp: t * 1000, message: line('198.51.100.7', 22, 'REJECT', t) },
        { timestamp: t * 1000, message: line('198.51.100.7', 22, 'REJECT', t) },
        { timestamp: t * 1000, message: line('203.0.113.9', 443, 'ACCEPT', t) },
      ],
    }));
    const stats = c.gateway.service('cloudwatch').metricsFor(root.accountId, 'us-east-1').getStatistics('Lab/Network', 'RejectedSSH', undefined, t * 1000 - 60_000, t * 1000 + 60_000);
    expect(stats?.Sum).toBe(2);
    expect(stats?.SampleCount).toBe(3); // the default value counts for the event that did not match
  });

  it('answers TestMetricFilter and rejects patterns AWS rejects', async () => {
    const { logs } = await setup();
    const out = await logs.send(new TestMetricFilterCommand({ filterPattern: SSH_REJECT, logEventMessages: [line('1.2.3.4', 22, 'REJECT', 1), line('1.2.3.4', 80, 'REJECT', 1)] }));
    expect(out.matches?.map((m) => m.eventNumber)).toEqual([1]);
    expect(out.matches?.[0]?.extractedValues?.['$destport']).toBe('22');
    const bad = await logs.send(new PutMetricFilterCommand({
      logGroupName: 'vpc-flow', filterName: 'bad', filterPattern: '{ $.eventName = ',
      metricTransformations: [{ metricName: 'X', metricNamespace: 'Y', metricValue: '1' }],
    })).then(() => 'accepted', (e: Error) => e.name);
    expect(bad).toBe('InvalidParameterException');
  });
});

describe('subscription filters', () => {
  it('send matching events to a Lambda function in the awslogs format', async () => {
    const { c, root, creds, logs } = await setup();
    await c.client(IAMClient, { credentials: creds }).send(new CreateRoleCommand({ RoleName: 'r', AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) }));
    await c.client(LambdaClient, { credentials: creds }).send(new CreateFunctionCommand({
      FunctionName: 'sink', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: `arn:aws:iam::${root.accountId}:role/r`,
      Code: { ZipFile: zipSync({ 'index.mjs': strToU8('export const handler = async () => "ok";') }) },
    }));
    await c.client(LambdaClient, { credentials: creds }).send(new AddPermissionCommand({ FunctionName: 'sink', StatementId: 'logs', Action: 'lambda:InvokeFunction', Principal: 'logs.amazonaws.com', SourceArn: `arn:aws:logs:us-east-1:${root.accountId}:log-group:vpc-flow:*` }));
    await logs.send(new PutSubscriptionFilterCommand({ logGroupName: 'vpc-flow', filterName: 'to-responder', filterPattern: SSH_REJECT, destinationArn: `arn:aws:lambda:us-east-1:${root.accountId}:function:sink` }));
    const t = Math.floor(c.gateway.clock.nowMs() / 1000);
    await logs.send(new PutLogEventsCommand({ logGroupName: 'vpc-flow', logStreamName: 'eni-0a1b2c3d-all', logEvents: [
      { timestamp: t * 1000, message: line('198.51.100.7', 22, 'REJECT', t) },
      { timestamp: t * 1000, message: line('203.0.113.9', 443, 'ACCEPT', t) },
    ] }));
    await c.gateway.flush();
    const inv = c.gateway.service('lambda').invocations.filter((i) => i.account === root.accountId);
    expect(inv.length).toBe(1);
    const payload = JSON.parse(gunzipSync(Buffer.from((inv[0]!.event as { awslogs: { data: string } }).awslogs.data, 'base64')).toString());
    expect(payload).toMatchObject({ messageType: 'DATA_MESSAGE', logGroup: 'vpc-flow', subscriptionFilters: ['to-responder'] });
    expect(payload.logEvents.map((e: { message: string }) => e.message)).toEqual([line('198.51.100.7', 22, 'REJECT', t)]);
  });
});
