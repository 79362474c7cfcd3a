// Builds Northwind as the student finds it in lab advanced: lab network's VPCs, subnets, network ACLs,
// security groups and instances (provisionNetwork), plus what six months brought: VPC flow logs on the
// production VPC into CloudWatch Logs (ALL, 60 s, with their delivery role), a customer-data bucket the
// application servers read through an instance role, a developer with an access key, fourteen days of
// normal traffic as flow-log files, a bucket for the student's model, the company's threat feed and a
// contracted vulnerability scanner. No anomaly detection, no GuardDuty, no automated response.
import { EC2Client, CreateFlowLogsCommand, AssociateIamInstanceProfileCommand } from '@aws-sdk/client-ec2';
import {
  IAMClient, CreateRoleCommand, PutRolePolicyCommand, CreateInstanceProfileCommand, AddRoleToInstanceProfileCommand,
  CreateUserCommand, PutUserPolicyCommand, CreateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { S3Client, CreateBucketCommand, PutObjectCommand, PutPublicAccessBlockCommand } from '@aws-sdk/client-s3';
import type { LabSession } from '../../src/engine/session.ts';
import { Rng } from '../../src/cloud/services/ec2/dataplane/index.ts';
import { provisionNetwork } from '../network/provision.ts';
import { instance, randomRogueIp } from '../network/company.ts';
import {
  ANOMALY_DETAIL_TYPE, ANOMALY_SOURCE, BASELINE_DAYS, BASELINE_PREFIX, DEVELOPER, FLOW_LOG_GROUP, FLOW_LOG_ROLE, GUARDDUTY_LEARNING_MS,
  INSTANCE_PROFILE, INSTANCE_ROLE, INTEL_KEY, MODEL_KEY, QUIET_BUDGET, QUIET_HOURS, scannerIp, type AdvancedHidden, type AdvancedLabEnv,
} from './company.ts';
import { baselineFiles } from './baseline.ts';

const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const BLOCK_ALL = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
export const SCANNER_NAME = 'Qualys (contracted vulnerability scanning, daily)';

/** Addresses of the company's threat feed besides the two the attacks use: hosting and VPN ranges from abuse reports. */
function feedAddresses(rng: Rng, n: number, avoid: string[]): string[] {
  const prefixes = ['103.145.13', '146.70.88', '179.43.187', '194.26.29', '212.70.149', '89.248.165', '45.9.148', '162.247.74', '23.129.64', '109.70.100'];
  const out = new Set<string>();
  while (out.size < n) {
    const ip = `${rng.pick(prefixes)}.${rng.int(2, 253)}`;
    if (!avoid.includes(ip)) out.add(ip);
  }
  return [...out];
}

export async function provisionAdvanced(session: LabSession): Promise<AdvancedLabEnv & Record<string, unknown>> {
  const net = await provisionNetwork(session);
  const account = session.accountId;
  const region = session.cloud.region;
  const rng = session.random.fork('advanced');
  const ec2 = session.client(EC2Client);
  const iam = session.client(IAMClient);
  const s3 = session.client(S3Client);
  const logs = session.client(CloudWatchLogsClient);
  const id = session.runId;
  const buckets = { data: `northwind-customer-data-${id}`, baseline: `northwind-flow-baseline-${id}`, artifacts: `northwind-ml-artifacts-${id}`, intel: `northwind-security-intel-${id}` };

  // ---- the flow log on the production VPC ----
  const flowLog = async () => {
    const role = (await iam.send(new CreateRoleCommand({
      RoleName: FLOW_LOG_ROLE, Description: 'VPC Flow Logs delivers to CloudWatch Logs',
      AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { Service: 'vpc-flow-logs.amazonaws.com' }, Action: 'sts:AssumeRole' }]),
    }))).Role!;
    await iam.send(new PutRolePolicyCommand({
      RoleName: FLOW_LOG_ROLE, PolicyName: 'deliver',
      PolicyDocument: doc([{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'], Resource: [`arn:aws:logs:${region}:${account}:log-group:${FLOW_LOG_GROUP}`, `arn:aws:logs:${region}:${account}:log-group:${FLOW_LOG_GROUP}:*`] }]),
    }));
    await logs.send(new CreateLogGroupCommand({ logGroupName: FLOW_LOG_GROUP }));
    const out = await ec2.send(new CreateFlowLogsCommand({
      ResourceIds: [net.vpcs.sensitive.id], ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs',
      LogGroupName: FLOW_LOG_GROUP, DeliverLogsPermissionArn: role.Arn!, MaxAggregationInterval: 60,
    }));
    const flowLogId = out.FlowLogIds?.[0];
    if (!flowLogId) throw new Error(`CreateFlowLogs made no flow log: ${JSON.stringify(out.Unsuccessful ?? [])}`);
    return flowLogId;
  };

  // ---- the application servers' role, on app-1 and app-2 ----
  const instanceRole = async () => {
    const role = (await iam.send(new CreateRoleCommand({
      RoleName: INSTANCE_ROLE, Description: 'the application servers: read customer data',
      AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }]),
    }))).Role!;
    await iam.send(new PutRolePolicyCommand({
      RoleName: INSTANCE_ROLE, PolicyName: 'read-customer-data',
      PolicyDocument: doc([{ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: [`arn:aws:s3:::${buckets.data}`, `arn:aws:s3:::${buckets.data}/*`] }]),
    }));
    const profile = (await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: INSTANCE_PROFILE }))).InstanceProfile!;
    await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: INSTANCE_PROFILE, RoleName: INSTANCE_ROLE }));
    for (const name of ['app-1', 'app-2']) {
      await ec2.send(new AssociateIamInstanceProfileCommand({ InstanceId: instance(net, name).id, IamInstanceProfile: { Arn: profile.Arn! } }));
    }
    return { name: INSTANCE_ROLE, arn: role.Arn!, profileArn: profile.Arn! } as AdvancedLabEnv['instanceRole'];
  };

  // ---- the developer ----
  const developer = async () => {
    await iam.send(new CreateUserCommand({ UserName: DEVELOPER, Tags: [{ Key: 'team', Value: 'analytics' }] }));
    await iam.send(new PutUserPolicyCommand({
      UserName: DEVELOPER, PolicyName: 'developer',
      PolicyDocument: doc([
        { Effect: 'Allow', Action: ['ec2:Describe*', 's3:ListAllMyBuckets', 'logs:Describe*', 'logs:FilterLogEvents', 'logs:GetLogEvents', 'sts:GetCallerIdentity'], Resource: '*' },
        { Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: [`arn:aws:s3:::${buckets.data}`, `arn:aws:s3:::${buckets.data}/*`] },
      ]),
    }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: DEVELOPER }))).AccessKey!;
    return { userName: DEVELOPER, accessKeyId: key.AccessKeyId! } as AdvancedLabEnv['developer'];
  };

  // ---- buckets: customer data, the baseline, the model's place, the threat feed ----
  const bucket = async (name: string) => {
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: name, PublicAccessBlockConfiguration: BLOCK_ALL }));
  };
  const customers = async () => {
    await bucket(buckets.data);
    const r = new Rng(`${session.seed}|customers`);
    const regions = ['emea', 'amer', 'apac'];
    await Promise.all(regions.map((reg) => {
      const rows = Array.from({ length: 40 }, (_, i) => `NW-${reg.toUpperCase()}-${String(10_000 + i * 7 + r.int(0, 6))},account-${r.int(100, 999)},${r.int(1, 400) * 250}`);
      return s3.send(new PutObjectCommand({ Bucket: buckets.data, Key: `customers/${reg}.csv`, Body: `customer_id,account,annual_value_usd\n${rows.join('\n')}\n`, ContentType: 'text/csv' }));
    }));
  };

  const [flowLogId, role, dev] = await Promise.all([
    flowLog(), instanceRole(), developer(),
    customers(), bucket(buckets.baseline), bucket(buckets.artifacts), bucket(buckets.intel),
  ]);

  // ---- addresses only the grader knows, and the threat feed that hides two of them ----
  const scanner = scannerIp(rng);
  const c2Ip = randomRogueIp([scanner], rng);
  const threatLoginIp = randomRogueIp([scanner, c2Ip], rng);
  const feed = [...feedAddresses(new Rng(`${session.seed}|feed`), 28, [c2Ip, threatLoginIp, scanner]), c2Ip, threatLoginIp]
    .map((ip) => [rng.next(), ip] as const).sort((a, b) => a[0] - b[0]).map(([, ip]) => ip);
  await s3.send(new PutObjectCommand({
    Bucket: buckets.intel, Key: INTEL_KEY, ContentType: 'text/plain',
    Body: `# Northwind threat feed: addresses seen attacking us or our sector (one per line)\n${feed.join('\n')}\n`,
  }));
  const hidden: AdvancedHidden = { c2Ip, threatLoginIp, evaluationSeed: session.random.seedFor('evaluation') };
  session.hidden['advanced'] = hidden;
  // Top-level strings: lab network's freshRogueIp avoids them.
  session.hidden['c2Ip'] = c2Ip;
  session.hidden['threatLoginIp'] = threatLoginIp;
  session.hidden['knownScannerIp'] = scanner;

  // GuardDuty in this lab: behaviour baselines learned over the quiet day; its own intelligence knows the C2.
  const gd = session.gateway.service('guardduty');
  gd.learningMs = GUARDDUTY_LEARNING_MS;
  gd.intel.add([{ kind: 'command-and-control', value: c2Ip, list: 'ProofPoint' }]);

  // ---- fourteen days of normal traffic, as the flow log would have written it ----
  const t = await session.gateway.service('ec2').dataplane.topology(account, region);
  const config = t.flowLogs.find((f) => f.id === flowLogId);
  if (!config) throw new Error(`the flow log ${flowLogId} is not in the data plane's topology`);
  const files = baselineFiles(net, t, config, { scannerIp: scanner, seed: session.random.seedFor('baseline'), days: BASELINE_DAYS, before: session.now(), prefix: BASELINE_PREFIX });
  await Promise.all(files.map((f) => s3.send(new PutObjectCommand({ Bucket: buckets.baseline, Key: f.key, Body: f.body, ContentType: 'text/plain' }))));

  const env: AdvancedLabEnv = {
    ...net,
    accountId: account,
    flowLogs: { groupName: FLOW_LOG_GROUP, flowLogId, format: 'v2 default' },
    dataBucket: buckets.data,
    instanceRole: role,
    developer: dev,
    baseline: { bucket: buckets.baseline, prefix: BASELINE_PREFIX, days: BASELINE_DAYS, keys: files.map((f) => f.key) },
    artifacts: { bucket: buckets.artifacts, modelKey: MODEL_KEY },
    threatIntel: { bucket: buckets.intel, key: INTEL_KEY },
    knownScanner: { ip: scanner, name: SCANNER_NAME },
    anomalyEvents: { source: ANOMALY_SOURCE, detailType: ANOMALY_DETAIL_TYPE },
    quietDay: { hours: QUIET_HOURS, budget: QUIET_BUDGET },
  };
  return { ...env };
}
