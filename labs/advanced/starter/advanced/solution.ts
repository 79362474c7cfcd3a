// Lab advanced (slide 16) — your solution. `seclab check advanced` provisions Northwind's network
// (six months after lab network: flow logs already on), runs apply(), checks what it built, evaluates
// your anomaly model on traffic you have not seen, then attacks the network while normal traffic flows.
// apply() runs with the lab account's administrator credentials in the environment (AWS_ENDPOINT_URL,
// AWS_ACCESS_KEY_ID...), so `new S3Client({})` just works. Read the workbook: `seclab start advanced`.
import { S3Client } from '@aws-sdk/client-s3';
// import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
// import { GuardDutyClient, CreateDetectorCommand, CreateThreatIntelSetCommand, CreateFilterCommand } from '@aws-sdk/client-guardduty';
// import { LambdaClient, CreateFunctionCommand, AddPermissionCommand } from '@aws-sdk/client-lambda';
// import { CloudWatchLogsClient, PutSubscriptionFilterCommand } from '@aws-sdk/client-cloudwatch-logs';
// import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
// import { IAMClient, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
// import { SNSClient, CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
// import { EC2Client, CreateSecurityGroupCommand, RevokeSecurityGroupEgressCommand } from '@aws-sdk/client-ec2';
import type { LabInput } from 'seclab/kit';
// For the model:     import { trainFromFlowLogs } from 'seclab/kit/anomaly';
// For the functions: import { zipDir } from 'seclab/kit';  zipDir(new URL('./detector/', import.meta.url))

interface Subnet { id: string; cidr: string; networkAclId: string }
interface Instance { name: string; id: string; tier: string; vpc: 'sensitive' | 'sandbox'; privateIp: string; publicIp?: string }
interface Env {
  accountId: string;
  vpcs: {
    sensitive: { id: string; name: string; cidr: string; holds: string };
    sandbox: { id: string; name: string; cidr: string; holds: string };
  };
  subnets: { web: Subnet; app: Subnet; db: Subnet; sandbox: Subnet };
  securityGroups: { web: string; bastion: string; app: string; db: string; sandbox: string };
  instances: Instance[];
  /** Allow rules of the production network ACLs start at this number. */
  firstAllowRule: number;
  /** Who must be told: by email and by text message. */
  admins: { email: string; phone: string };
  contractors: string[];
  ports: { web: number; app: number; db: number; ssh: number };
  /** The production VPC's flow logs (already on): all traffic, 60 s, into this CloudWatch Logs group. */
  flowLogs: { groupName: string; flowLogId: string; format: string };
  /** Customer data (objects under customers/). */
  dataBucket: string;
  /** The role of app-1 and app-2 (their instance profile). */
  instanceRole: { name: string; arn: string; profileArn: string };
  /** A developer and her access key. */
  developer: { userName: string; accessKeyId: string };
  /** 14 days of normal flow logs, one object per day (default format, with a header line). */
  baseline: { bucket: string; prefix: string; days: number; keys: string[] };
  /** Where your trained model file goes. */
  artifacts: { bucket: string; modelKey: string };
  /** The company's threat feed: one address per line. */
  threatIntel: { bucket: string; key: string };
  /** The contracted vulnerability scanner: it scans web-1 and the bastion every day. */
  knownScanner: { ip: string; name: string };
  /** What your detector puts on the default event bus for each alert. */
  anomalyEvents: { source: string; detailType: string };
  /** The quiet day before the attacks: at most `budget` alerts (anomaly events + GuardDuty findings). */
  quietDay: { hours: number; budget: number };
}

const s3 = new S3Client({ forcePathStyle: true });

export async function apply({ accountId, region, env }: LabInput<Env>) {
  void accountId;
  void region;
  void s3;
  console.log(`flow logs of ${env.vpcs.sensitive.id} in ${env.flowLogs.groupName}; ${env.baseline.keys.length} days of baseline`);
  // TODO model: GetObject each of env.baseline.keys, train (trainFromFlowLogs, or `seclab anomaly
  //             train` by hand) with a false-positive rate the quiet day's budget allows, and
  //             PutObject the model file at env.artifacts.modelKey in env.artifacts.bucket.
  // TODO detector: write model.json into detector/, deploy detector/ (Lambda, nodejs20.x) with a role
  //             that may put events, AddPermission for logs.amazonaws.com, PutSubscriptionFilter on
  //             env.flowLogs.groupName.
  // TODO guardduty: CreateDetector (FIFTEEN_MINUTES, S3 data events), env.threatIntel as an activated
  //             TXT ThreatIntelSet, ARCHIVE filters for env.knownScanner.ip.
  // TODO response: SNS topic (email + SMS to env.admins), a quarantine security group, responder/ as a
  //             Lambda with a least-privilege role, EventBridge rules (GuardDuty findings, anomaly
  //             events) targeting it, AddPermission for events.amazonaws.com.
}
