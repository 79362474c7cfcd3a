// Where moto 5.2 differs from AWS's documented behaviour and the gateway answers as AWS does
// (docs/moto-deviations.md): S3, EC2, CloudWatch, CloudWatch Logs, SNS.
import { describe, expect, it } from 'vitest';
import {
  S3Client, CreateBucketCommand, GetBucketEncryptionCommand, GetPublicAccessBlockCommand, GetBucketOwnershipControlsCommand,
  PutObjectCommand, PutBucketPolicyCommand, DeletePublicAccessBlockCommand,
} from '@aws-sdk/client-s3';
import {
  EC2Client, DescribeInternetGatewaysCommand, DescribeRouteTablesCommand, DescribeVpcsCommand, RunInstancesCommand, DescribeSecurityGroupsCommand,
} from '@aws-sdk/client-ec2';
import { CloudWatchClient, PutMetricAlarmCommand, DescribeAlarmsCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, CreateLogGroupCommand, PutRetentionPolicyCommand, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  SNSClient, CreateTopicCommand, SubscribeCommand, ListSubscriptionsByTopicCommand, ListSubscriptionsCommand, PublishCommand, ConfirmSubscriptionCommand, GetSubscriptionAttributesCommand,
} from '@aws-sdk/client-sns';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();

function account() {
  const root = cloud().createAccount();
  return { root, credentials: { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey } };
}

async function failure(p: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message };
  }
  throw new Error('expected the call to fail');
}

describe('S3', () => {
  it('a name another account holds is BucketAlreadyExists; the owner re-creating it is 200 in us-east-1, BucketAlreadyOwnedByYou elsewhere', async () => {
    const a = account();
    const b = account();
    const s3a = cloud().client(S3Client, a);
    await s3a.send(new CreateBucketCommand({ Bucket: 'dev-taken-name' }));
    const other = await failure(cloud().client(S3Client, b).send(new CreateBucketCommand({ Bucket: 'dev-taken-name' })));
    expect(other).toMatchObject({ name: 'BucketAlreadyExists', status: 409 });
    await expect(s3a.send(new CreateBucketCommand({ Bucket: 'dev-taken-name' }))).resolves.toBeDefined();
    const west = cloud().client(S3Client, { ...a, region: 'eu-west-1' });
    expect(await failure(west.send(new CreateBucketCommand({ Bucket: 'dev-taken-name', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }))))
      .toMatchObject({ name: 'BucketAlreadyOwnedByYou', status: 409 });
  });

  it('new buckets have SSE-S3, Block Public Access and BucketOwnerEnforced', async () => {
    const a = account();
    const s3 = cloud().client(S3Client, a);
    await s3.send(new CreateBucketCommand({ Bucket: 'dev-defaults' }));
    const enc = await s3.send(new GetBucketEncryptionCommand({ Bucket: 'dev-defaults' }));
    expect(enc.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
    const pab = await s3.send(new GetPublicAccessBlockCommand({ Bucket: 'dev-defaults' }));
    expect(pab.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
    const own = await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: 'dev-defaults' }));
    expect(own.OwnershipControls?.Rules?.[0]?.ObjectOwnership).toBe('BucketOwnerEnforced');
    // ACLs disabled: a public-read object ACL is refused, the bucket owner's full control accepted.
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: 'dev-defaults', Key: 'k', Body: 'x', ACL: 'public-read' }))))
      .toMatchObject({ name: 'AccessControlListNotSupported', status: 400 });
    await s3.send(new PutObjectCommand({ Bucket: 'dev-defaults', Key: 'k', Body: 'x', ACL: 'bucket-owner-full-control' }));
    // A client may still change the defaults, as in AWS.
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'dev-defaults' }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'dev-defaults', Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::dev-defaults/*' }] }) }));
  });

  it('CreateBucket honours a requested ObjectOwnership and refuses a public ACL with BucketOwnerEnforced', async () => {
    const s3 = cloud().client(S3Client, account());
    await s3.send(new CreateBucketCommand({ Bucket: 'dev-writer', ObjectOwnership: 'ObjectWriter' }));
    const own = await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: 'dev-writer' }));
    expect(own.OwnershipControls?.Rules?.[0]?.ObjectOwnership).toBe('ObjectWriter');
    // ACLs are accepted (a public one would be refused by the new bucket's Block Public Access, BlockPublicAcls).
    await s3.send(new PutObjectCommand({ Bucket: 'dev-writer', Key: 'k', Body: 'x', ACL: 'private' }));
    expect(await failure(s3.send(new CreateBucketCommand({ Bucket: 'dev-public-acl', ACL: 'public-read' }))))
      .toMatchObject({ name: 'InvalidBucketAclWithObjectOwnership', status: 400 });
  });
});

describe('EC2', () => {
  it('the default VPC has an internet gateway and a default route to it', async () => {
    for (const region of ['us-east-1', 'us-west-2']) {
      const ec2 = cloud().client(EC2Client, { ...account(), region });
      const vpc = (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs![0]!;
      const igws = (await ec2.send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpc.VpcId!] }] }))).InternetGateways!;
      expect(igws).toHaveLength(1);
      const main = (await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }, { Name: 'association.main', Values: ['true'] }] }))).RouteTables![0]!;
      expect(main.Routes).toContainEqual(expect.objectContaining({ DestinationCidrBlock: '0.0.0.0/0', GatewayId: igws[0]!.InternetGatewayId }));
    }
  });

  it('RunInstances with an image that does not exist is InvalidAMIID.NotFound; an existing one launches', async () => {
    const a = account();
    for (const region of ['us-east-1', 'us-west-2']) {
      const ec2 = cloud().client(EC2Client, { ...a, region });
      const err = await failure(ec2.send(new RunInstancesCommand({ ImageId: 'ami-0123456789abcdef0', MinCount: 1, MaxCount: 1 })));
      expect(err).toMatchObject({ name: 'InvalidAMIID.NotFound', status: 400, message: "The image id '[ami-0123456789abcdef0]' does not exist" });
      const ok = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1 }));
      expect(ok.Instances).toHaveLength(1);
    }
  });

  it('InvalidGroup.NotFound names the group as AWS does (no Python set)', async () => {
    const ec2 = cloud().client(EC2Client, account());
    const err = await failure(ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-0123456789abcdef0'] })));
    expect(err).toMatchObject({ name: 'InvalidGroup.NotFound', status: 400, message: "The security group 'sg-0123456789abcdef0' does not exist" });
    const byName = await failure(ec2.send(new DescribeSecurityGroupsCommand({ GroupNames: ['nope'] })));
    expect(byName.name).toBe('InvalidGroup.NotFound');
    expect(byName.message).toMatch(/^The security group 'nope' does not exist in default VPC 'vpc-[0-9a-f]+'$/);
    expect((await ec2.send(new DescribeSecurityGroupsCommand({ GroupNames: ['default'] }))).SecurityGroups).toHaveLength(1);
  });
});

describe('CloudWatch', () => {
  it('a new alarm starts INSUFFICIENT_DATA; an update keeps its state', async () => {
    const cw = cloud().client(CloudWatchClient, account());
    const put = () => cw.send(new PutMetricAlarmCommand({
      AlarmName: 'a', Namespace: 'Lab', MetricName: 'M', Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    }));
    await put();
    let alarm = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['a'] }))).MetricAlarms![0]!;
    expect(alarm.StateValue).toBe('INSUFFICIENT_DATA');
    expect(alarm.StateReason).toBe('Unchecked: Initial alarm creation');
    await cw.send(new SetAlarmStateCommand({ AlarmName: 'a', StateValue: 'ALARM', StateReason: 'testing' }));
    await put();
    alarm = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['a'] }))).MetricAlarms![0]!;
    expect(alarm.StateValue).toBe('ALARM');
  });
});

describe('CloudWatch Logs', () => {
  it('PutRetentionPolicy accepts only the documented values', async () => {
    const logs = cloud().client(CloudWatchLogsClient, account());
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'g' }));
    const err = await failure(logs.send(new PutRetentionPolicyCommand({ logGroupName: 'g', retentionInDays: 8 })));
    expect(err).toMatchObject({ name: 'InvalidParameterException', status: 400 });
    expect(err.message).toMatch(/Value '8' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: \[1, 3, 5, 7, 14, 30/);
    for (const days of [1, 400, 3653]) await logs.send(new PutRetentionPolicyCommand({ logGroupName: 'g', retentionInDays: days }));
    expect((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: 'g' }))).logGroups![0]!.retentionInDays).toBe(3653);
  });
});

describe('SNS', () => {
  it('an email subscription waits for confirmation: nothing is delivered until ConfirmSubscription with the token from the confirmation message', async () => {
    const { root, credentials } = account();
    const sns = cloud().client(SNSClient, { credentials });
    const topic = (await sns.send(new CreateTopicCommand({ Name: 'alerts' }))).TopicArn!;
    const sub = await sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: 'email', Endpoint: 'me@example.com' }));
    expect(sub.SubscriptionArn).toBe('pending confirmation');
    const listed = (await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topic }))).Subscriptions!;
    expect(listed).toEqual([expect.objectContaining({ SubscriptionArn: 'PendingConfirmation', Protocol: 'email', Endpoint: 'me@example.com' })]);
    const [request] = cloud().gateway.service('sns').outbox.list(root.accountId);
    expect(request).toMatchObject({ protocol: 'email', endpoint: 'me@example.com', subject: 'AWS Notification - Subscription Confirmation' });
    expect(request!.message).toContain(`TopicArn=${encodeURIComponent(topic)}`);
    await sns.send(new PublishCommand({ TopicArn: topic, Message: 'before confirmation' }));
    expect(cloud().gateway.service('sns').outbox.list(root.accountId).map((d) => d.message)).not.toContain('before confirmation');
    expect(await failure(sns.send(new ConfirmSubscriptionCommand({ TopicArn: topic, Token: 'f'.repeat(128) })))).toMatchObject({ name: 'InvalidParameterException', status: 400 }); // wire code InvalidParameter
    const token = /Token=([0-9a-f]+)/.exec(request!.message)![1]!;
    const confirmed = await sns.send(new ConfirmSubscriptionCommand({ TopicArn: topic, Token: token }));
    expect(confirmed.SubscriptionArn).toMatch(new RegExp(`^${topic}:`));
    const attrs = await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: confirmed.SubscriptionArn! }));
    expect(attrs.Attributes?.['PendingConfirmation']).toBe('false');
    expect((await sns.send(new ListSubscriptionsCommand({}))).Subscriptions![0]!.SubscriptionArn).toBe(confirmed.SubscriptionArn);
    await sns.send(new PublishCommand({ TopicArn: topic, Message: 'after confirmation' }));
    expect(cloud().gateway.service('sns').outbox.list(root.accountId).map((d) => d.message)).toContain('after confirmation');
  });

  it('ReturnSubscriptionArn shows the pending ARN; email-json gets the SubscriptionConfirmation document; a lab person who reads the mailbox confirms', async () => {
    const { root, credentials } = account();
    const sns = cloud().client(SNSClient, { credentials });
    const topic = (await sns.send(new CreateTopicCommand({ Name: 'alerts' }))).TopicArn!;
    const sub = await sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: 'email-json', Endpoint: 'json@example.com', ReturnSubscriptionArn: true }));
    expect(sub.SubscriptionArn).toMatch(new RegExp(`^${topic}:`));
    expect((await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: sub.SubscriptionArn! }))).Attributes?.['PendingConfirmation']).toBe('true');
    const doc = JSON.parse(cloud().gateway.service('sns').outbox.list(root.accountId, { endpoint: 'json@example.com' })[0]!.message);
    expect(doc).toMatchObject({ Type: 'SubscriptionConfirmation', TopicArn: topic, Token: expect.stringMatching(/^[0-9a-f]+$/), SubscribeURL: expect.stringContaining('Action=ConfirmSubscription') });

    cloud().gateway.service('sns').outbox.addReader(root.accountId, 'Admin@Example.com');
    expect((await sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: 'email', Endpoint: 'admin@example.com' }))).SubscriptionArn).toBe('pending confirmation');
    await sns.send(new PublishCommand({ TopicArn: topic, Message: 'hello' }));
    const got = cloud().gateway.service('sns').outbox.list(root.accountId).filter((d) => d.message === 'hello' || d.message.includes('"Message":"hello"'));
    expect(got.map((d) => d.endpoint)).toEqual(['admin@example.com']);
  });
});
