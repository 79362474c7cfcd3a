// Reference solution of lab network (slide 14). Shown to a student only after they pass the lab.
// Builds the whole pipeline: flow logs on the production VPC → metric filters → alarms → SNS (email,
// SMS and the responder) → a Lambda responder that denies addresses in the network ACLs or isolates
// an instance, with a role that can do that and nothing else.
import { CloudWatchLogsClient, CreateLogGroupCommand, PutRetentionPolicyCommand, PutMetricFilterCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CloudWatchClient, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { EC2Client, CreateFlowLogsCommand, CreateSecurityGroupCommand, RevokeSecurityGroupEgressCommand } from '@aws-sdk/client-ec2';
import { IAMClient, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { LambdaClient, CreateFunctionCommand, AddPermissionCommand } from '@aws-sdk/client-lambda';
import { SNSClient, CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { zipDir, type LabInput } from 'seclab/kit';

interface Subnet { id: string; cidr: string; networkAclId: string }
interface Env {
  vpcs: { sensitive: { id: string; cidr: string }; sandbox: { id: string; cidr: string } };
  subnets: { web: Subnet; app: Subnet; db: Subnet; sandbox: Subnet };
  firstAllowRule: number;
  admins: { email: string; phone: string };
}

const FLOW_LOG_GROUP = '/northwind/vpc-flow-logs';
const NAMESPACE = 'Northwind/FlowLogs';
const RESPONDER = 'northwind-responder';

const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const trust = (service: string) => doc([{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }]);

export async function apply({ accountId, region, env }: LabInput<Env>) {
  const ec2 = new EC2Client({});
  const logs = new CloudWatchLogsClient({});
  const iam = new IAMClient({});
  const sns = new SNSClient({});
  const cloudwatch = new CloudWatchClient({});
  const lambda = new LambdaClient({});
  const vpc = env.vpcs.sensitive;
  const groupArn = `arn:aws:logs:${region}:${accountId}:log-group:${FLOW_LOG_GROUP}`;

  // ---- 1. VPC Flow Logs on the VPC that holds customer data, every packet, into CloudWatch Logs ----
  await logs.send(new CreateLogGroupCommand({ logGroupName: FLOW_LOG_GROUP }));
  await logs.send(new PutRetentionPolicyCommand({ logGroupName: FLOW_LOG_GROUP, retentionInDays: 90 }));
  const delivery = await iam.send(new CreateRoleCommand({ RoleName: 'northwind-flow-logs', AssumeRolePolicyDocument: trust('vpc-flow-logs.amazonaws.com') }));
  await iam.send(new PutRolePolicyCommand({
    RoleName: 'northwind-flow-logs', PolicyName: 'deliver-flow-logs',
    PolicyDocument: doc([{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogGroups', 'logs:DescribeLogStreams'], Resource: [groupArn, `${groupArn}:*`] }]),
  }));
  await ec2.send(new CreateFlowLogsCommand({
    ResourceType: 'VPC', ResourceIds: [vpc.id], TrafficType: 'ALL',
    LogDestinationType: 'cloud-watch-logs', LogGroupName: FLOW_LOG_GROUP, DeliverLogsPermissionArn: delivery.Role!.Arn!,
    MaxAggregationInterval: 60,
  }));

  // ---- 2. metric filters and alarms, notifying the administrators ----
  const topic = (await sns.send(new CreateTopicCommand({ Name: 'northwind-security-alerts' }))).TopicArn!;
  await sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: 'email', Endpoint: env.admins.email }));
  await sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: 'sms', Endpoint: env.admins.phone }));

  // Default (version 2) records: version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
  const inside = `${vpc.cidr.split('.').slice(0, 2).join('.')}.*`; // 10.20.* for 10.20.0.0/16
  const detections = [
    {
      metric: 'RejectedSSH', alarm: 'northwind-rejected-ssh', threshold: 10, value: '1',
      description: 'SSH connections refused in the production VPC: password guessing (brute force)',
      pattern: '[version, account, eni, srcaddr, dstaddr, srcport, dstport=22, protocol=6, packets, bytes, start, end, action=REJECT, status]',
    },
    {
      metric: 'RejectedFromOutside', alarm: 'northwind-unexpected-traffic', threshold: 100, value: '1',
      description: 'Connections from outside addresses refused by the network: scans and probing',
      pattern: `[version, account, eni, srcaddr!=${inside}, dstaddr=${inside}, srcport, dstport, protocol, packets, bytes, start, end, action=REJECT, status]`,
    },
    {
      // Any port, any protocol: data leaves by HTTPS, SFTP, QUIC (UDP) or whatever else gets out.
      metric: 'OutboundBytes', alarm: 'northwind-outbound-bytes', threshold: 100_000_000, value: '$bytes',
      description: 'Bytes sent from the production VPC to outside addresses: a normal minute is under 10 MB, the minute of the hourly backup under 30 MB',
      pattern: `[version, account, eni, srcaddr=${inside}, dstaddr!=${inside}, srcport, dstport, protocol, packets, bytes, start, end, action=ACCEPT, status]`,
    },
  ];
  for (const d of detections) {
    await logs.send(new PutMetricFilterCommand({
      logGroupName: FLOW_LOG_GROUP, filterName: d.metric, filterPattern: d.pattern,
      metricTransformations: [{ metricName: d.metric, metricNamespace: NAMESPACE, metricValue: d.value, defaultValue: 0 }],
    }));
    await cloudwatch.send(new PutMetricAlarmCommand({
      AlarmName: d.alarm, AlarmDescription: d.description, Namespace: NAMESPACE, MetricName: d.metric,
      Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: d.threshold, ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching', AlarmActions: [topic],
    }));
  }

  // ---- 3. the responder ----
  // Where isolated instances go: a security group with no rules at all.
  const quarantine = (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpc.id, GroupName: 'northwind-quarantine', Description: 'isolation: no traffic in or out' }))).GroupId!;
  await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: quarantine, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));

  const acls = [env.subnets.web, env.subnets.app, env.subnets.db].map((s) => s.networkAclId);
  const role = await iam.send(new CreateRoleCommand({ RoleName: RESPONDER, AssumeRolePolicyDocument: trust('lambda.amazonaws.com') }));
  await iam.send(new PutRolePolicyCommand({
    RoleName: RESPONDER, PolicyName: 'respond',
    PolicyDocument: doc([
      { Sid: 'ReadFlowLogs', Effect: 'Allow', Action: 'logs:FilterLogEvents', Resource: `${groupArn}:*` },
      { Sid: 'OwnLogs', Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `arn:aws:logs:${region}:${accountId}:log-group:/aws/lambda/${RESPONDER}:*` },
      { Sid: 'Look', Effect: 'Allow', Action: ['ec2:DescribeNetworkAcls', 'ec2:DescribeNetworkInterfaces'], Resource: '*' },
      // Adding deny entries to the production ACLs only: not replacing or deleting their entries, not deleting or
      // re-associating ACLs, not creating ACLs, not writing any other ACL.
      { Sid: 'DenyAddresses', Effect: 'Allow', Action: 'ec2:CreateNetworkAclEntry', Resource: acls.map((a) => `arn:aws:ec2:${region}:${accountId}:network-acl/${a}`) },
      { Sid: 'IsolateInstances', Effect: 'Allow', Action: 'ec2:ModifyInstanceAttribute', Resource: `arn:aws:ec2:${region}:${accountId}:instance/*` },
    ]),
  }));

  const fn = await lambda.send(new CreateFunctionCommand({
    FunctionName: RESPONDER, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: role.Role!.Arn!,
    Timeout: 30, MemorySize: 256, Code: { ZipFile: zipDir(new URL('./responder/', import.meta.url)) },
    Environment: {
      Variables: {
        FLOW_LOG_GROUP, VPC_CIDR: vpc.cidr, NETWORK_ACL_IDS: acls.join(','), QUARANTINE_GROUP_ID: quarantine,
        OUTBOUND_METRIC: 'OutboundBytes', FIRST_ALLOW_RULE: String(env.firstAllowRule), DENY_RULE_BASE: '10',
      },
    },
  }));
  await lambda.send(new AddPermissionCommand({ FunctionName: RESPONDER, StatementId: 'alerts-topic', Action: 'lambda:InvokeFunction', Principal: 'sns.amazonaws.com', SourceArn: topic }));
  await sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: 'lambda', Endpoint: fn.FunctionArn! }));
}
