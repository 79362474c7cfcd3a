// Lambda handlers run for real with their execution role's permissions; SNS delivers email and SMS
// into the outbox and invokes Lambda subscribers.
import { describe, expect, it } from 'vitest';
import { zipSync, strToU8 } from 'fflate';
import { IAMClient, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { LambdaClient, CreateFunctionCommand, InvokeCommand, AddPermissionCommand } from '@aws-sdk/client-lambda';
import { SNSClient, CreateTopicCommand, SubscribeCommand, PublishCommand } from '@aws-sdk/client-sns';
import { CloudWatchLogsClient, DescribeLogStreamsCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();

const HANDLER = `
import { EC2Client, DescribeVpcsCommand } from '@aws-sdk/client-ec2';
export const handler = async (event) => {
  console.log('event source', event.Records?.[0]?.EventSource ?? 'direct');
  if (event.sleep) await new Promise((r) => setTimeout(r, event.sleep));
  if (event.fail) throw new Error('asked to fail');
  try {
    const out = await new EC2Client({}).send(new DescribeVpcsCommand({}));
    return { vpcs: out.Vpcs.length };
  } catch (e) {
    return { error: e.name };
  }
};`;

// Functions get a generous timeout (a loaded machine is slow); the timeout test sets a short one.
async function setup(allowEc2: boolean, timeoutS = 30) {
  const c = cloud();
  const root = c.createAccount();
  const creds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
  const iam = c.client(IAMClient, { credentials: creds });
  await iam.send(new CreateRoleCommand({ RoleName: 'responder', AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) }));
  if (allowEc2) {
    await iam.send(new PutRolePolicyCommand({ RoleName: 'responder', PolicyName: 'ec2', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }] }) }));
  }
  const lambda = c.client(LambdaClient, { credentials: creds });
  await lambda.send(new CreateFunctionCommand({
    FunctionName: 'responder', Runtime: 'nodejs20.x', Handler: 'index.handler', Timeout: timeoutS,
    Role: `arn:aws:iam::${root.accountId}:role/responder`, Code: { ZipFile: zipSync({ 'index.mjs': strToU8(HANDLER) }) },
  }));
  const invoke = async (event: object) => {
    const r = await lambda.send(new InvokeCommand({ FunctionName: 'responder', Payload: Buffer.from(JSON.stringify(event)) }));
    return { error: r.FunctionError, payload: JSON.parse(Buffer.from(r.Payload!).toString()) };
  };
  return { c, root, creds, invoke };
}

describe('Lambda', () => {
  it('runs the handler with its role\'s permissions, enforced by the gateway', async () => {
    expect((await (await setup(true)).invoke({})).payload).toEqual({ vpcs: expect.any(Number) });
    expect((await (await setup(false)).invoke({})).payload).toEqual({ error: 'UnauthorizedOperation' });
  });

  it('reports errors and timeouts as FunctionError, and writes logs to /aws/lambda/<name>', async () => {
    const { c, creds, invoke } = await setup(true, 1);
    const failed = await invoke({ fail: true });
    expect(failed.error).toBe('Unhandled');
    expect(failed.payload).toMatchObject({ errorType: 'Error', errorMessage: 'asked to fail' });
    const slow = await invoke({ sleep: 8000 });
    expect(slow.error).toBe('Unhandled');
    expect(slow.payload.errorMessage).toMatch(/Task timed out after 1\.00 seconds/);
    const logs = c.client(CloudWatchLogsClient, { credentials: creds });
    const streams = (await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/lambda/responder' }))).logStreams!;
    const lines = (await Promise.all(streams.map((s) => logs.send(new GetLogEventsCommand({ logGroupName: '/aws/lambda/responder', logStreamName: s.logStreamName! })))))
      .flatMap((r) => r.events!.map((e) => e.message!));
    expect(lines.some((l) => l.startsWith('START RequestId:'))).toBe(true);
    expect(lines.some((l) => l.includes('\tINFO\tevent source direct'))).toBe(true);
    expect(lines.some((l) => l.startsWith('REPORT RequestId:'))).toBe(true);
  });
});

describe('SNS', () => {
  it('delivers email and SMS to the outbox and invokes Lambda subscribers', async () => {
    const { c, root, creds } = await setup(true);
    const sns = c.client(SNSClient, { credentials: creds });
    const topic = (await sns.send(new CreateTopicCommand({ Name: 'security-alerts' }))).TopicArn!;
    // The person reading soc@example.com confirms the subscription (email subscriptions wait for it).
    c.gateway.service('sns').outbox.addReader(root.accountId, 'soc@example.com');
    await sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: 'email', Endpoint: 'soc@example.com' }));
    await sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: 'sms', Endpoint: '+15555550100' }));
    await sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: 'lambda', Endpoint: `arn:aws:lambda:us-east-1:${root.accountId}:function:responder` }));
    // Without a resource policy letting SNS invoke it, the function is not invoked (as in AWS).
    await sns.send(new PublishCommand({ TopicArn: topic, Subject: 'ALARM', Message: 'not delivered to the function' }));
    await c.gateway.flush();
    expect(c.gateway.service('lambda').invocations.filter((i) => i.account === root.accountId).length).toBe(0);
    expect(c.gateway.service('lambda').refusals.filter((r) => r.account === root.accountId).length).toBe(1);
    await c.client(LambdaClient, { credentials: creds }).send(new AddPermissionCommand({ FunctionName: 'responder', StatementId: 'sns', Action: 'lambda:InvokeFunction', Principal: 'sns.amazonaws.com', SourceArn: topic }));
    await sns.send(new PublishCommand({ TopicArn: topic, Subject: 'ALARM', Message: 'rejected SSH burst' }));
    const denied = await fetch(`${c.url}/_seclab/outbox?account=${root.accountId}`);
    expect(denied.status).toBe(403);
    const res = await (await fetch(`${c.url}/_seclab/outbox?account=${root.accountId}`, { headers: { 'x-seclab-control-token': c.gateway.controlToken } })).json() as { deliveries: { protocol: string; endpoint: string; message: string; subject?: string }[] };
    expect(res.deliveries.map((d) => [d.protocol, d.endpoint, d.message])).toEqual([
      ['email', 'soc@example.com', expect.stringContaining('To confirm this subscription')],
      ['email', 'soc@example.com', 'not delivered to the function'],
      ['sms', '+15555550100', 'not delivered to the function'],
      ['email', 'soc@example.com', 'rejected SSH burst'],
      ['sms', '+15555550100', 'rejected SSH burst'],
    ]);
    const inv = c.gateway.service('lambda').invocations.filter((i) => i.account === root.accountId);
    expect(inv.length).toBe(1);
    expect((inv[0]!.event as { Records: { Sns: { Message: string } }[] }).Records[0]!.Sns.Message).toBe('rejected SSH burst');
  });
});
