// Lab siem's checks. Posture: the trail, the telemetry, the SIEM's sources and rules, the notification channel,
// read from the lab cloud as it is (the gateway's own reads, which CloudTrail does not record, so the grader adds
// nothing to what the SIEM sees). Business: the company's everyday work still succeeds.
import type { Check, CheckOutcome } from '../../src/engine/types.ts';
import type { LabSession } from '../../src/engine/session.ts';
import { SiemEngine, normalizeCloudTrail } from '../../src/controls/siem/index.ts';
import { recordConsoleSignIn } from '../../src/cloud/services/cloudtrail/console-signin.ts';
import { CloudTrailStore } from '../../src/cloud/services/cloudtrail/recorder.ts';
import { apiRound, emptyTally, labEnv } from './background.ts';
import { siemRun } from './run.ts';
import type { SiemLabEnv } from './company.ts';

const pass = (feedback: string): CheckOutcome => ({ passed: true, feedback });
const fail = (feedback: string): CheckOutcome => ({ passed: false, feedback });

interface Trail {
  Name: string;
  TrailARN?: string;
  HomeRegion?: string;
  S3BucketName?: string;
  S3KeyPrefix?: string;
  IsMultiRegionTrail?: boolean;
  IncludeGlobalServiceEvents?: boolean;
  LogFileValidationEnabled?: boolean;
  CloudWatchLogsLogGroupArn?: string;
}

interface TrailInfo {
  trail: Trail;
  logging: boolean;
  selectors: { ReadWriteType?: string; IncludeManagementEvents?: boolean; DataResources?: { Type?: string; Values?: string[] }[] }[];
}

const up = (s: LabSession) => s.gateway.upstream;

async function trails(s: LabSession): Promise<TrailInfo[]> {
  const list = (await up(s).json<{ trailList?: Trail[] }>(s.accountId, 'cloudtrail', 'DescribeTrails', {}, s.cloud.region)).trailList ?? [];
  const out: TrailInfo[] = [];
  for (const trail of list) {
    // Logging as the gateway delivers it (its own StartLogging/StopLogging state), not moto's status.
    const logging = s.gateway.service('cloudtrail').delivery.isLogging(s.accountId, trail.Name ?? '');
    const sel = await up(s).json<{ EventSelectors?: TrailInfo['selectors'] }>(s.accountId, 'cloudtrail', 'GetEventSelectors', { TrailName: trail.Name }, trail.HomeRegion ?? s.cloud.region).catch(() => ({ EventSelectors: [] }));
    out.push({ trail, logging, selectors: sel.EventSelectors ?? [] });
  }
  return out;
}

/** The trail that matters: logging, preferring a multi-region one. */
async function mainTrail(s: LabSession): Promise<TrailInfo | undefined> {
  const all = await trails(s);
  return all.find((t) => t.logging && t.trail.IsMultiRegionTrail) ?? all.find((t) => t.logging) ?? all[0];
}

const noTrail = fail('no trail in the account: CreateTrail (S3 bucket with the CloudTrail bucket policy), then StartLogging');

async function s3Keys(s: LabSession, bucket: string, prefix: string): Promise<string[]> {
  const r = await up(s).json<{ Contents?: { Key?: string }[] }>(s.accountId, 's3', 'ListObjectsV2', { Bucket: bucket, Prefix: prefix, MaxKeys: 50 }).catch(() => ({ Contents: [] }));
  return (r.Contents ?? []).map((o) => o.Key!).filter(Boolean);
}

const logGroupOf = (arn: string | undefined) => /:log-group:([^:]+)/.exec(arn ?? '')?.[1];

interface FlowLog { FlowLogId?: string; ResourceId?: string; TrafficType?: string; LogDestinationType?: string; LogGroupName?: string; LogDestination?: string; FlowLogStatus?: string; LogFormat?: string }

/** The active flow logs as the data plane writes them (its topology), not a separate read of moto. */
async function flowLogs(s: LabSession): Promise<FlowLog[]> {
  const t = await s.gateway.service('ec2').dataplane.topology(s.accountId, s.cloud.region);
  return t.flowLogs.map((f) => ({
    FlowLogId: f.id, ResourceId: f.resourceId, TrafficType: f.trafficType, LogDestinationType: f.destinationType, FlowLogStatus: 'ACTIVE',
    ...(f.logGroupName ? { LogGroupName: f.logGroupName } : {}),
    ...(f.logDestination ? { LogDestination: f.logDestination } : f.bucket ? { LogDestination: `arn:aws:s3:::${f.bucket}${f.prefix ? `/${f.prefix}` : ''}` } : {}),
    ...(f.logFormat ? { LogFormat: f.logFormat } : {}),
  }));
}

/** Flow logs covering the production VPC (on the VPC itself, or on all of its subnets or interfaces). */
async function vpcFlowLogs(s: LabSession, env: SiemLabEnv): Promise<FlowLog[]> {
  const all = await flowLogs(s);
  const onVpc = all.filter((f) => f.ResourceId === env.vpc.id);
  if (onVpc.length) return onVpc;
  // Subnet- or ENI-level flow logs count when they cover every instance.
  const topology = await s.gateway.service('ec2').dataplane.topology(s.accountId, s.cloud.region);
  const ifaces = topology.interfaces.filter((i) => env.vpc.instances.some((x) => x.id === i.instanceId));
  const covering = all.filter((f) => ifaces.some((i) => i.id === f.ResourceId || i.subnetId === f.ResourceId));
  const covered = ifaces.every((i) => covering.some((f) => f.ResourceId === i.id || f.ResourceId === i.subnetId));
  return covered ? covering : [];
}

function flowDestination(f: FlowLog): { kind: 'logs' | 's3'; name: string } | undefined {
  if ((f.LogDestinationType ?? 'cloud-watch-logs') === 'cloud-watch-logs') {
    const name = f.LogGroupName ?? logGroupOf(f.LogDestination);
    return name ? { kind: 'logs', name } : undefined;
  }
  const bucket = /^arn:aws:s3:::([^/]+)/.exec(f.LogDestination ?? '')?.[1];
  return bucket ? { kind: 's3', name: bucket } : undefined;
}

/** Does a SIEM source location read a CloudWatch Logs group or an S3 bucket? */
function sourceReads(location: string, kind: 'logs' | 's3', name: string): boolean {
  if (kind === 's3') return location === `s3://${name}/` || location.startsWith(`s3://${name}/`);
  if (location.endsWith('*')) return name.startsWith(location.slice('logs:'.length, -1));
  return location === `logs:${name}`;
}

async function siemOutcome(s: LabSession): Promise<CheckOutcome | undefined> {
  const run = await siemRun(s);
  return run.siem ? undefined : fail(`your SIEM could not start: ${run.error}`);
}

export const checks: Check[] = [
  // ---- task 1: the trail ----
  {
    id: 'trail-multi-region', title: 'A trail records every region and is logging', kind: 'posture', points: 4, task: 'trail',
    async run(s) {
      const t = await mainTrail(s);
      if (!t) return noTrail;
      if (!t.logging) return fail(`trail ${t.trail.Name} is not logging: StartLogging`);
      if (!t.trail.IsMultiRegionTrail) return fail(`trail ${t.trail.Name} records only ${t.trail.HomeRegion}: attackers work where you do not look — IsMultiRegionTrail: true`);
      return pass(`trail ${t.trail.Name} records every region and is logging`);
    },
  },
  {
    id: 'trail-log-validation', title: 'Log-file validation is on', kind: 'posture', points: 2, task: 'trail',
    async run(s) {
      const t = await mainTrail(s);
      if (!t) return noTrail;
      return t.trail.LogFileValidationEnabled
        ? pass(`trail ${t.trail.Name} writes signed digest files (log-file validation)`)
        : fail(`trail ${t.trail.Name} has no log-file validation: EnableLogFileValidation: true, so tampering with delivered logs can be proven`);
    },
  },
  {
    id: 'trail-delivers-to-s3', title: 'The trail delivers log files to its S3 bucket', kind: 'posture', points: 4, task: 'trail',
    async run(s) {
      const t = await mainTrail(s);
      if (!t) return noTrail;
      if (!t.trail.S3BucketName) return fail(`trail ${t.trail.Name} has no S3 bucket`);
      await s.gateway.flush();
      const prefix = `${t.trail.S3KeyPrefix ? `${t.trail.S3KeyPrefix}/` : ''}AWSLogs/${s.accountId}/CloudTrail/`;
      const keys = await s3Keys(s, t.trail.S3BucketName, prefix);
      if (keys.length) return pass(`log files are delivered to s3://${t.trail.S3BucketName}/${prefix}`);
      const status = s.gateway.service('cloudtrail').delivery.status(s.accountId, t.trail.Name);
      return fail(`nothing delivered to s3://${t.trail.S3BucketName}/${prefix}${status?.error ? `: ${status.error}` : ''} — the bucket policy must let cloudtrail.amazonaws.com s3:PutObject under AWSLogs/${s.accountId}/ (with s3:x-amz-acl bucket-owner-full-control) and s3:GetBucketAcl`);
    },
  },
  {
    id: 'trail-to-cloudwatch-logs', title: 'The trail also sends its events to CloudWatch Logs', kind: 'posture', points: 2, task: 'trail',
    async run(s) {
      const t = await mainTrail(s);
      if (!t) return noTrail;
      const group = logGroupOf(t.trail.CloudWatchLogsLogGroupArn);
      if (!group) return fail(`trail ${t.trail.Name} sends nothing to CloudWatch Logs: set CloudWatchLogsLogGroupArn (and CloudWatchLogsRoleArn)`);
      await s.gateway.flush();
      const r = await up(s).json<{ events?: unknown[] }>(s.accountId, 'logs', 'FilterLogEvents', { logGroupName: group, limit: 1 }, s.cloud.region).catch(() => ({ events: [] }));
      return r.events?.length ? pass(`events arrive in log group ${group}`) : fail(`log group ${group} receives no events: does it exist?`);
    },
  },
  {
    id: 'trail-s3-data-events', title: 'Object reads of the customer-data bucket are recorded (S3 data events)', kind: 'posture', points: 3, task: 'trail',
    async run(s) {
      const t = await mainTrail(s);
      if (!t) return noTrail;
      const bucket = labEnv(s).buckets.customerData;
      const ok = t.selectors.some((sel) => sel.ReadWriteType !== 'WriteOnly' && (sel.DataResources ?? []).some((d) => d.Type === 'AWS::S3::Object' && (d.Values ?? []).some((v) => v === 'arn:aws:s3' || v === 'arn:aws:s3:::' || `arn:aws:s3:::${bucket}/`.startsWith(v) || v.startsWith(`arn:aws:s3:::${bucket}/`))));
      return ok
        ? pass(`GetObject on ${bucket} is recorded`)
        : fail(`downloads from ${bucket} leave no trace: PutEventSelectors with DataResources [{ Type: AWS::S3::Object, Values: [arn:aws:s3:::${bucket}/] }] (ReadWriteType All or ReadOnly)`);
    },
  },
  {
    id: 'trail-global-events', title: 'Global service events (IAM, STS) are recorded', kind: 'posture', points: 1, task: 'trail', hidden: true,
    async run(s) {
      const t = await mainTrail(s);
      if (!t) return noTrail;
      return t.trail.IncludeGlobalServiceEvents === false ? fail(`trail ${t.trail.Name} leaves out IAM and STS events`) : pass('IAM and STS events are recorded');
    },
  },

  // ---- task 2: telemetry ----
  {
    id: 'flow-logs', title: 'Flow logs capture all traffic of the production VPC', kind: 'posture', points: 4, task: 'telemetry',
    async run(s) {
      const env = labEnv(s);
      const logs = await vpcFlowLogs(s, env);
      if (!logs.length) return fail(`no flow log on ${env.vpc.id} (${env.vpc.name}): CreateFlowLogs on the VPC, TrafficType ALL, to CloudWatch Logs or S3`);
      const all = logs.find((f) => f.TrafficType === 'ALL' && (f.FlowLogStatus ?? 'ACTIVE') === 'ACTIVE');
      if (!all) return fail(`the flow log of ${env.vpc.id} captures only ${logs[0]!.TrafficType} traffic: exfiltration is accepted traffic — TrafficType ALL`);
      const d = flowDestination(all);
      return pass(`flow log ${all.FlowLogId} captures all traffic of ${env.vpc.name}${d ? ` into ${d.kind === 'logs' ? 'log group' : 'bucket'} ${d.name}` : ''}`);
    },
  },

  // ---- task 3: the SIEM's sources ----
  {
    id: 'siem-config', title: 'siem/siem.yml is valid and its rules compile', kind: 'posture', points: 2, task: 'siem',
    async run(s) {
      const broken = await siemOutcome(s);
      if (broken) return broken;
      const siem = (await siemRun(s)).siem!;
      const problems = siem.problems();
      return problems.length ? fail(`rule problems: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (+${problems.length - 3} more)` : ''}`) : pass(`${siem.rules().filter((r) => r.alerting).length} alerting rules, ${siem.sources().length} sources, ${siem.channels().length} channels`);
    },
  },
  {
    id: 'siem-reads-cloudtrail', title: 'The SIEM reads the trail', kind: 'posture', points: 4, task: 'siem',
    async run(s) {
      const broken = await siemOutcome(s);
      if (broken) return broken;
      const siem = (await siemRun(s)).siem!;
      const t = await mainTrail(s);
      if (!t) return noTrail;
      const group = logGroupOf(t.trail.CloudWatchLogsLogGroupArn);
      const reading = siem.sources().filter((x) => (t.trail.S3BucketName && sourceReads(x.location, 's3', t.trail.S3BucketName)) || (group && sourceReads(x.location, 'logs', group)));
      if (!reading.length) return fail(`no source of siem.yml reads the trail's bucket ${t.trail.S3BucketName ?? '-'}${group ? ` or its log group ${group}` : ''}: add one (type cloudtrail)`);
      const ok = reading.find((x) => !x.error && x.events > 0);
      if (!ok) return fail(`source ${reading[0]!.name} read no events${reading[0]!.error ? `: ${reading[0]!.error}` : ' (is the trail delivering?)'}`);
      return pass(`source ${ok.name} read ${ok.events} CloudTrail events from ${ok.location}`);
    },
  },
  {
    id: 'siem-reads-flow-logs', title: 'The SIEM reads the VPC flow logs', kind: 'posture', points: 3, task: 'siem',
    async run(s) {
      const broken = await siemOutcome(s);
      if (broken) return broken;
      const siem = (await siemRun(s)).siem!;
      const dests = (await vpcFlowLogs(s, labEnv(s))).map(flowDestination).filter((d): d is NonNullable<typeof d> => !!d);
      if (!dests.length) return fail('there is no flow log on the production VPC to read yet (task 2)');
      const reading = siem.sources().filter((x) => dests.some((d) => sourceReads(x.location, d.kind, d.name)));
      if (!reading.length) return fail(`no source of siem.yml reads the flow logs (${dests.map((d) => d.name).join(', ')}): add one (type vpcflow)`);
      const ok = reading.find((x) => !x.error && x.events > 0);
      if (!ok) return fail(`source ${reading[0]!.name} read no flow-log records${reading[0]!.error ? `: ${reading[0]!.error}` : ''} (a custom LogFormat needs the same format in the source)`);
      return pass(`source ${ok.name} read ${ok.events} flow-log records`);
    },
  },
  {
    id: 'siem-reads-app-logs', title: 'The SIEM reads the application and bastion log groups', kind: 'posture', points: 3, task: 'siem',
    async run(s) {
      const broken = await siemOutcome(s);
      if (broken) return broken;
      const siem = (await siemRun(s)).siem!;
      const groups = Object.values(labEnv(s).logGroups);
      const missing = groups.filter((g) => !siem.sources().some((x) => sourceReads(x.location, 'logs', g) && !x.error));
      if (missing.length) return fail(`no working source reads ${missing.join(' and ')}: add them (type logs; logGroup, or logGroupPrefix for several)`);
      return pass(`${groups.join(' and ')} are read`);
    },
  },
  {
    id: 'rules-root-use', title: 'The rules catch use of the root user', kind: 'posture', points: 3, task: 'rules', hidden: true,
    async run(s) {
      const broken = await siemOutcome(s);
      if (broken) return broken;
      const siem = (await siemRun(s)).siem!;
      // Root signing in with MFA from the office and creating an access key: rare, legitimate-looking, and exactly
      // what the root user must never be used for.
      const store = new CloudTrailStore();
      const when = new Date(s.now() + 3600_000);
      const signIn = recordConsoleSignIn({ trail: store, clock: { now: () => when } }, { account: s.accountId, sourceIp: '203.0.113.10', mfaUsed: true });
      const call = {
        ...signIn, eventSource: 'iam.amazonaws.com', eventName: 'CreateAccessKey', eventType: 'AwsApiCall', requestParameters: null,
        responseElements: null, additionalEventData: undefined, userAgent: 'aws-cli/2.17.0', eventID: 'root-check-2', readOnly: false,
      };
      const alerts = new SiemEngine(siem.ruleSet).run([normalizeCloudTrail(signIn as never), normalizeCloudTrail(call as never)]);
      const hit = alerts.find((a) => a.attack.techniques.some((t) => t.startsWith('T1078')) || a.attack.tactics.some((t) => ['privilege-escalation', 'initial-access', 'persistence'].includes(t)));
      return hit ? pass(`root use raises "${hit.rule.title}"`) : fail('a root console sign-in and a root API call raise no alert tagged T1078 (Valid Accounts) or privilege-escalation: add a rule on userIdentity.type Root');
    },
  },

  // ---- task 5: notifications ----
  {
    id: 'notify-email', title: 'An SNS topic emails the administrators', kind: 'posture', points: 2, task: 'notify',
    async run(s) {
      const env = labEnv(s);
      const subs = await subscriptions(s);
      const sub = subs.find((x) => (x.Protocol === 'email' || x.Protocol === 'email-json') && x.Endpoint?.toLowerCase() === env.admins.email);
      return sub ? pass(`${env.admins.email} is subscribed to ${sub.TopicArn}`) : fail(`no topic has an email subscription for ${env.admins.email}`);
    },
  },
  {
    id: 'notify-sms', title: 'An SNS topic texts the administrators', kind: 'posture', points: 2, task: 'notify',
    async run(s) {
      const env = labEnv(s);
      const sub = (await subscriptions(s)).find((x) => x.Protocol === 'sms' && x.Endpoint?.replace(/[^\d+]/g, '') === env.admins.phone);
      return sub ? pass(`${env.admins.phone} is subscribed to ${sub.TopicArn}`) : fail(`no topic has an SMS subscription for ${env.admins.phone} (Protocol sms, E.164 number)`);
    },
  },
  {
    id: 'siem-channel', title: 'The SIEM notifies through that topic', kind: 'posture', points: 1, task: 'notify',
    async run(s) {
      const broken = await siemOutcome(s);
      if (broken) return broken;
      const siem = (await siemRun(s)).siem!;
      const env = labEnv(s);
      const subs = await subscriptions(s);
      const admin = (arn: string) => subs.some((x) => x.TopicArn === arn && (x.Endpoint?.toLowerCase() === env.admins.email || x.Endpoint?.replace(/[^\d+]/g, '') === env.admins.phone));
      const ch = siem.channels().find((c) => c.enabled && admin(c.topicArn));
      if (!ch) return fail(siem.channels().length ? `no channel of siem.yml publishes to a topic the administrators are subscribed to (${siem.channels().map((c) => c.topicArn).join(', ')})` : 'siem.yml has no channel: add one of type sns with the topic\'s ARN');
      return ch.lastError ? fail(`channel ${ch.name}: ${ch.lastError}`) : pass(`channel ${ch.name} publishes alerts of severity ${ch.minSeverity} and above to ${ch.topicArn}`);
    },
  },

  // ---- business ----
  {
    id: 'company-work-continues', title: "The company's everyday work still succeeds", kind: 'business', points: 0,
    async run(s) {
      const t = await apiRound(s, emptyTally());
      return t.refused.length ? fail(`refused: ${t.refused.slice(0, 3).join('; ')}`) : pass(`${t.calls} everyday calls (people and the orders app) succeeded`);
    },
  },
];

async function subscriptions(s: LabSession): Promise<{ TopicArn?: string; Protocol?: string; Endpoint?: string }[]> {
  const out: { TopicArn?: string; Protocol?: string; Endpoint?: string }[] = [];
  let NextToken: string | undefined;
  do {
    const page = await up(s).json<{ Subscriptions?: typeof out; NextToken?: string }>(s.accountId, 'sns', 'ListSubscriptions', { NextToken }, s.cloud.region);
    out.push(...(page.Subscriptions ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}
