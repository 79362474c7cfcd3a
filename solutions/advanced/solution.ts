// Reference solution of lab advanced (slide 16), part 1. Shown to a student only after they pass.
// 1. model: trains the anomaly model on the fourteen baseline days (threshold for 1 % false alerts)
//    and stores the model file in the artifacts bucket;
// 2. detector: a Lambda function with that model in its package, fed by a subscription filter on the
//    flow-log group, that puts one event per alert on the default event bus;
// 3. guardduty: a detector (15-minute publishing, S3 data events), the company's threat feed as a
//    threat intel set, the contracted scanner's findings archived on arrival;
// 4. response: EventBridge rules (GuardDuty findings, anomaly events) → a responder Lambda that
//    isolates, revokes, deactivates or denies, and tells the admins (SNS email and SMS).
// Every role may do what its function does and nothing else.
import { writeFileSync } from 'node:fs';
import { CloudWatchLogsClient, PutSubscriptionFilterCommand } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client, CreateSecurityGroupCommand, RevokeSecurityGroupEgressCommand } from '@aws-sdk/client-ec2';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  GuardDutyClient, CreateDetectorCommand, CreateFilterCommand, CreateThreatIntelSetCommand, GetThreatIntelSetCommand, type FindingCriteria,
} from '@aws-sdk/client-guardduty';
import { IAMClient, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { LambdaClient, AddPermissionCommand, CreateFunctionCommand } from '@aws-sdk/client-lambda';
import { S3Client, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SNSClient, CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { zipDir, type LabInput } from 'seclab/kit';
import { trainFromFlowLogs } from 'seclab/kit/anomaly';

interface Subnet { id: string; cidr: string; networkAclId: string }
interface Instance { name: string; id: string; tier: string; vpc: 'sensitive' | 'sandbox'; privateIp: string; publicIp?: string }
interface Env {
  vpcs: { sensitive: { id: string; cidr: string }; sandbox: { id: string; cidr: string } };
  subnets: { web: Subnet; app: Subnet; db: Subnet; sandbox: Subnet };
  instances: Instance[];
  firstAllowRule: number;
  admins: { email: string; phone: string };
  flowLogs: { groupName: string };
  instanceRole: { name: string; arn: string };
  baseline: { bucket: string; keys: string[] };
  artifacts: { bucket: string; modelKey: string };
  threatIntel: { bucket: string; key: string };
  knownScanner: { ip: string; name: string };
  anomalyEvents: { source: string; detailType: string };
}

const DETECTOR = 'northwind-anomaly-detector';
const RESPONDER = 'northwind-responder';
/**
 * The share of normal host-minutes allowed to score above the threshold. Five production servers make
 * about 7,200 host-minutes a day: 1 % is some 70 anomalous minutes a day, while the quiet day's budget
 * is 3 alerts. The detector therefore reports a host only after three anomalous minutes in a row,
 * which a normal day does not have and every attack does; a lower rate (a higher threshold) would
 * miss the beacon and the flood, whose minutes score well under the hourly backup's.
 */
const FALSE_POSITIVE_RATE = 0.01;
const STATE_PREFIX = 'anomaly/state/';

const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const trust = (service: string) => doc([{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }]);

export async function apply({ accountId, region, env }: LabInput<Env>) {
  const s3 = new S3Client({ forcePathStyle: true });
  const iam = new IAMClient({});
  const lambda = new LambdaClient({});
  const logs = new CloudWatchLogsClient({});
  const gd = new GuardDutyClient({});
  const events = new EventBridgeClient({});
  const sns = new SNSClient({});
  const ec2 = new EC2Client({});
  const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${accountId}:${resource}`;
  const groupArn = arn('logs', `log-group:${env.flowLogs.groupName}`);
  const bus = arn('events', 'event-bus/default');
  const ownLogs = (fn: string) => ({
    Sid: 'OwnLogs', Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: [arn('logs', `log-group:/aws/lambda/${fn}`), arn('logs', `log-group:/aws/lambda/${fn}:*`)],
  });
  const production = env.instances.filter((i) => i.vpc === 'sensitive');

  // ---- 1. model: learn the company's normal traffic from the fourteen baseline days ----
  const days: string[] = [];
  for (const key of env.baseline.keys) {
    const o = await s3.send(new GetObjectCommand({ Bucket: env.baseline.bucket, Key: key }));
    days.push(await o.Body!.transformToString());
  }
  // The contracted scanner's daily scan is known and expected: the model learns without it, and the
  // detector leaves its records out too, so its scan is neither normal web traffic nor an alert.
  const scanner = ` ${env.knownScanner.ip} `;
  const { model, summary } = trainFromFlowLogs(days.map((d) => d.split('\n').filter((line) => !line.includes(scanner)).join('\n')), { fpr: FALSE_POSITIVE_RATE });
  console.log(`model: ${summary}`);
  const modelJson = JSON.stringify(model);
  await s3.send(new PutObjectCommand({ Bucket: env.artifacts.bucket, Key: env.artifacts.modelKey, Body: modelJson, ContentType: 'application/json' }));

  // ---- 2. detector: the model in a Lambda function fed by the flow logs ----
  const detectorDir = new URL('./detector/', import.meta.url);
  writeFileSync(new URL('./model.json', detectorDir), modelJson);
  const detectorRole = await iam.send(new CreateRoleCommand({ RoleName: DETECTOR, AssumeRolePolicyDocument: trust('lambda.amazonaws.com') }));
  await iam.send(new PutRolePolicyCommand({
    RoleName: DETECTOR, PolicyName: 'detect',
    PolicyDocument: doc([
      ownLogs(DETECTOR),
      { Sid: 'PublishAnomalies', Effect: 'Allow', Action: 'events:PutEvents', Resource: bus },
      // Which address is a log stream's interface, when its records cannot say.
      { Sid: 'Look', Effect: 'Allow', Action: 'ec2:DescribeNetworkInterfaces', Resource: '*' },
      // What the model remembers between invocations (peers, contact times): its own state files only.
      { Sid: 'State', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${env.artifacts.bucket}/${STATE_PREFIX}*` },
      // Without ListBucket a missing state file reads as AccessDenied instead of NoSuchKey.
      { Sid: 'StateMissing', Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${env.artifacts.bucket}`, Condition: { StringLike: { 's3:prefix': `${STATE_PREFIX}*` } } },
    ]),
  }));
  const detector = await lambda.send(new CreateFunctionCommand({
    FunctionName: DETECTOR, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: detectorRole.Role!.Arn!,
    Timeout: 30, MemorySize: 512, Code: { ZipFile: zipDir(detectorDir) },
    Environment: {
      Variables: {
        ANOMALY_SOURCE: env.anomalyEvents.source, ANOMALY_DETAIL_TYPE: env.anomalyEvents.detailType,
        INSTANCES: production.map((i) => `${i.privateIp}=${i.id}`).join(','),
        STATE_BUCKET: env.artifacts.bucket, STATE_PREFIX, IGNORE_ADDRESSES: env.knownScanner.ip,
      },
    },
  }));
  await lambda.send(new AddPermissionCommand({
    FunctionName: DETECTOR, StatementId: 'flow-logs', Action: 'lambda:InvokeFunction', Principal: 'logs.amazonaws.com',
    SourceArn: `${groupArn}:*`, SourceAccount: accountId,
  }));
  await logs.send(new PutSubscriptionFilterCommand({
    logGroupName: env.flowLogs.groupName, filterName: 'anomaly-detector', filterPattern: '', destinationArn: detector.FunctionArn!,
  }));

  // ---- 3. GuardDuty, with the company's threat feed, and quiet about the contracted scanner ----
  const { DetectorId } = await gd.send(new CreateDetectorCommand({
    Enable: true, FindingPublishingFrequency: 'FIFTEEN_MINUTES', Features: [{ Name: 'S3_DATA_EVENTS', Status: 'ENABLED' }],
  }));
  await loadThreatFeed(gd, DetectorId!, env.threatIntel);
  await suppressScanner(gd, DetectorId!, env.knownScanner);

  // ---- 4. response ----
  const topic = (await sns.send(new CreateTopicCommand({ Name: 'northwind-security-response' }))).TopicArn!;
  await sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: 'email', Endpoint: env.admins.email }));
  await sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: 'sms', Endpoint: env.admins.phone }));

  // Where isolated instances go: a security group with no rules at all.
  const quarantine = (await ec2.send(new CreateSecurityGroupCommand({ VpcId: env.vpcs.sensitive.id, GroupName: 'northwind-quarantine', Description: 'isolation: no traffic in or out' }))).GroupId!;
  await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: quarantine, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));

  // Each server's usual outside destinations (connections it opened, in the baseline): the responder
  // isolates a server that opens connections to an address outside this list and its recent past.
  const vpcPrefix = `${env.vpcs.sensitive.cidr.split('.').slice(0, 2).join('.')}.`;
  const servers = new Set(production.map((i) => i.privateIp));
  const knownPeers: Record<string, Set<string>> = {};
  for (const day of days) {
    for (const line of day.split('\n')) {
      const f = line.split(' ');
      if (f.length < 14 || !servers.has(f[3]!) || f[4]!.startsWith(vpcPrefix)) continue;
      if (Number(f[5]) <= Number(f[6])) continue; // a reply from a server port, not a connection it opened
      (knownPeers[f[3]!] ??= new Set()).add(f[4]!);
    }
  }
  const responderDir = new URL('./responder/', import.meta.url);
  writeFileSync(new URL('./known-peers.json', responderDir), JSON.stringify(Object.fromEntries(Object.entries(knownPeers).map(([h, s]) => [h, [...s].sort()]))));

  const acls = [env.subnets.web, env.subnets.app, env.subnets.db].map((s) => s.networkAclId);
  const responderRole = await iam.send(new CreateRoleCommand({ RoleName: RESPONDER, AssumeRolePolicyDocument: trust('lambda.amazonaws.com') }));
  await iam.send(new PutRolePolicyCommand({
    RoleName: RESPONDER, PolicyName: 'respond',
    PolicyDocument: doc([
      ownLogs(RESPONDER),
      { Sid: 'ReadFlowLogs', Effect: 'Allow', Action: 'logs:FilterLogEvents', Resource: [groupArn, `${groupArn}:*`] },
      { Sid: 'Look', Effect: 'Allow', Action: ['ec2:DescribeNetworkAcls', 'ec2:DescribeInstances'], Resource: '*' },
      { Sid: 'DenyAddresses', Effect: 'Allow', Action: 'ec2:CreateNetworkAclEntry', Resource: acls.map((a) => arn('ec2', `network-acl/${a}`)) },
      { Sid: 'IsolateInstances', Effect: 'Allow', Action: 'ec2:ModifyInstanceAttribute', Resource: production.map((i) => arn('ec2', `instance/${i.id}`)) },
      { Sid: 'RevokeInstanceRoleSessions', Effect: 'Allow', Action: 'iam:PutRolePolicy', Resource: env.instanceRole.arn },
      { Sid: 'DeactivateKeys', Effect: 'Allow', Action: 'iam:UpdateAccessKey', Resource: `arn:aws:iam::${accountId}:user/*` },
      { Sid: 'TellAdmins', Effect: 'Allow', Action: 'sns:Publish', Resource: topic },
    ]),
  }));
  const responder = await lambda.send(new CreateFunctionCommand({
    FunctionName: RESPONDER, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: responderRole.Role!.Arn!,
    Timeout: 30, MemorySize: 256, Code: { ZipFile: zipDir(responderDir) },
    Environment: {
      Variables: {
        TOPIC_ARN: topic, VPC_CIDR: env.vpcs.sensitive.cidr, NETWORK_ACL_IDS: acls.join(','), QUARANTINE_GROUP_ID: quarantine,
        FIRST_ALLOW_RULE: String(env.firstAllowRule), DENY_RULE_BASE: '10', FLOW_LOG_GROUP: env.flowLogs.groupName,
        NEVER_BLOCK: env.knownScanner.ip, ANOMALY_SOURCE: env.anomalyEvents.source,
      },
    },
  }));

  const rules: { name: string; pattern: object }[] = [
    {
      name: 'northwind-guardduty-findings',
      pattern: {
        source: ['aws.guardduty'], 'detail-type': ['GuardDuty Finding'],
        detail: {
          severity: [{ numeric: ['>=', 2] }],
          type: [
            { prefix: 'Backdoor:EC2/' }, { prefix: 'CryptoCurrency:EC2/' }, { prefix: 'Trojan:EC2/' }, { prefix: 'Behavior:EC2/' },
            { prefix: 'Recon:EC2/' }, { prefix: 'UnauthorizedAccess:EC2/' }, { prefix: 'UnauthorizedAccess:IAMUser/' }, { prefix: 'Recon:IAMUser/' },
          ],
        },
      },
    },
    { name: 'northwind-anomaly-events', pattern: { source: [env.anomalyEvents.source], 'detail-type': [env.anomalyEvents.detailType] } },
  ];
  for (const r of rules) {
    const rule = await events.send(new PutRuleCommand({ Name: r.name, EventPattern: JSON.stringify(r.pattern), State: 'ENABLED' }));
    await events.send(new PutTargetsCommand({ Rule: r.name, Targets: [{ Id: 'responder', Arn: responder.FunctionArn! }] }));
    await lambda.send(new AddPermissionCommand({
      FunctionName: RESPONDER, StatementId: r.name, Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com', SourceArn: rule.RuleArn!,
    }));
  }
}

/** The company's threat feed as a GuardDuty threat list (TXT, one address per line), checked ACTIVE. */
async function loadThreatFeed(gd: GuardDutyClient, DetectorId: string, feed: { bucket: string; key: string }): Promise<void> {
  const set = await gd.send(new CreateThreatIntelSetCommand({
    DetectorId, Name: 'northwind-threat-feed', Format: 'TXT', Activate: true,
    Location: `https://s3.amazonaws.com/${feed.bucket}/${feed.key}`,
  }));
  const status = (await gd.send(new GetThreatIntelSetCommand({ DetectorId, ThreatIntelSetId: set.ThreatIntelSetId }))).Status;
  if (status !== 'ACTIVE') throw new Error(`the threat intel set is ${status}, not ACTIVE: can GuardDuty read s3://${feed.bucket}/${feed.key}?`);
}

/** Findings about the contracted scanner arrive archived: one filter per place a finding names a remote address. */
async function suppressScanner(gd: GuardDutyClient, DetectorId: string, scanner: { ip: string; name: string }): Promise<void> {
  // The criteria of one filter must all hold, and each finding names the address in one place only.
  const paths = {
    connection: 'service.action.networkConnectionAction.remoteIpDetails.ipAddressV4',
    probe: 'service.action.portProbeAction.portProbeDetails.remoteIpDetails.ipAddressV4',
    api: 'service.action.awsApiCallAction.remoteIpDetails.ipAddressV4',
  };
  let rank = 1;
  for (const [name, path] of Object.entries(paths)) {
    const FindingCriteria: FindingCriteria = { Criterion: { [path]: { Equals: [scanner.ip] } } };
    await gd.send(new CreateFilterCommand({
      DetectorId, Name: `known-scanner-${name}`, Action: 'ARCHIVE', Rank: rank++, FindingCriteria,
      Description: `${scanner.name}, the contracted vulnerability scanner (${scanner.ip})`,
    }));
  }
}
