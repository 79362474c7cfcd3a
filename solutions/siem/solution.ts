// Reference solution of lab siem (slide 13), with siem.yml and rules/ beside it. Shown to a student only after
// they pass the lab. apply() wires the account to the SIEM: a multi-region trail with log-file validation to S3 and
// CloudWatch Logs (and S3 data events for the customer data), flow logs on the production VPC, and an SNS topic
// that emails and texts the administrators. siem.yml tells the SIEM what to read, which rules to run and where to
// send alerts.
import { S3Client, CreateBucketCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { CloudTrailClient, CreateTrailCommand, PutEventSelectorsCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { IAMClient, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { EC2Client, CreateFlowLogsCommand } from '@aws-sdk/client-ec2';
import { SNSClient, CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import type { LabInput } from 'seclab/kit';

interface Env {
  admins: { email: string; phone: string };
  buckets: { customerData: string };
  vpc: { id: string };
}

const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

export async function apply({ accountId, region, env }: LabInput<Env>) {
  const s3 = new S3Client({ forcePathStyle: true });
  const iam = new IAMClient({});
  const logs = new CloudWatchLogsClient({});

  // ---- task 1: the trail ----
  const bucket = `nw-cloudtrail-${accountId}`;
  const trailName = 'northwind-audit';
  const trailArn = `arn:aws:cloudtrail:${region}:${accountId}:trail/${trailName}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketPolicyCommand({
    Bucket: bucket,
    Policy: doc([
      { Sid: 'AclCheck', Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:GetBucketAcl', Resource: `arn:aws:s3:::${bucket}`, Condition: { StringEquals: { 'aws:SourceArn': trailArn } } },
      {
        Sid: 'Write', Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/AWSLogs/${accountId}/*`,
        Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceArn': trailArn } },
      },
    ]),
  }));
  const trailGroup = '/northwind/cloudtrail';
  await logs.send(new CreateLogGroupCommand({ logGroupName: trailGroup }));
  const trailRole = await iam.send(new CreateRoleCommand({
    RoleName: 'cloudtrail-to-logs',
    AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 'sts:AssumeRole' }]),
  }));
  await iam.send(new PutRolePolicyCommand({
    RoleName: 'cloudtrail-to-logs', PolicyName: 'write-trail-events',
    PolicyDocument: doc([{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `arn:aws:logs:${region}:${accountId}:log-group:${trailGroup}:*` }]),
  }));
  const ct = new CloudTrailClient({});
  await ct.send(new CreateTrailCommand({
    Name: trailName, S3BucketName: bucket, IsMultiRegionTrail: true, IncludeGlobalServiceEvents: true, EnableLogFileValidation: true,
    CloudWatchLogsLogGroupArn: `arn:aws:logs:${region}:${accountId}:log-group:${trailGroup}:*`, CloudWatchLogsRoleArn: trailRole.Role!.Arn!,
  }));
  // Downloads of customer data are data events: record them for that bucket only (not for the trail's own bucket,
  // which the SIEM reads all day).
  await ct.send(new PutEventSelectorsCommand({
    TrailName: trailName,
    EventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: true, DataResources: [{ Type: 'AWS::S3::Object', Values: [`arn:aws:s3:::${env.buckets.customerData}/`] }] }],
  }));
  await ct.send(new StartLoggingCommand({ Name: trailName }));

  // ---- task 2: flow logs ----
  const flowRole = await iam.send(new CreateRoleCommand({
    RoleName: 'vpc-flow-logs',
    AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { Service: 'vpc-flow-logs.amazonaws.com' }, Action: 'sts:AssumeRole' }]),
  }));
  await iam.send(new PutRolePolicyCommand({
    RoleName: 'vpc-flow-logs', PolicyName: 'write-flow-logs',
    PolicyDocument: doc([{ Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogGroups', 'logs:DescribeLogStreams'], Resource: '*' }]),
  }));
  await new EC2Client({}).send(new CreateFlowLogsCommand({
    ResourceType: 'VPC', ResourceIds: [env.vpc.id], TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs',
    LogGroupName: '/northwind/vpc/flow-logs', DeliverLogsPermissionArn: flowRole.Role!.Arn!, MaxAggregationInterval: 60,
  }));

  // ---- task 5: the administrators' channel ----
  const sns = new SNSClient({});
  const topic = await sns.send(new CreateTopicCommand({ Name: 'secops-alerts' }));
  await sns.send(new SubscribeCommand({ TopicArn: topic.TopicArn!, Protocol: 'email', Endpoint: env.admins.email }));
  await sns.send(new SubscribeCommand({ TopicArn: topic.TopicArn!, Protocol: 'sms', Endpoint: env.admins.phone }));
}
