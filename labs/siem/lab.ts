// Lab siem (slide 13): a SIEM wired to CloudTrail, CloudWatch Logs and VPC Flow Logs, rules for unauthorized access
// and exfiltration, and administrators notified by email and SMS — graded by running the student's SIEM (the Siem
// of src/controls/siem with <workspace>/siem/siem.yml) against attacks hidden in the company's normal activity.
import { fileURLToPath } from 'node:url';
import type { ActivityReport, Lab } from '../../src/engine/types.ts';
import type { LabSession } from '../../src/engine/session.ts';
import { compileGetter, SiemEngine, type Alert, type RuleSet, type SiemEvent } from '../../src/controls/siem/index.ts';
import { siemRun, simulate, standardAlerts } from './run.ts';
import { awayRound } from './background.ts';
import { provisionSiem } from './provision.ts';
import { checks } from './checks.ts';
import { quietDay } from '../../scenarios/siem-quiet-day.ts';
import { unauthorizedBurst } from '../../scenarios/siem-unauthorized-burst.ts';
import { consoleLoginWithoutMfa } from '../../scenarios/siem-console-login-no-mfa.ts';
import { s3Exfiltration } from '../../scenarios/siem-s3-exfiltration.ts';
import { flowExfiltration } from '../../scenarios/siem-flow-exfiltration.ts';
import { cloudtrailStopped } from '../../scenarios/siem-cloudtrail-stopped.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export const lab: Lab = {
  id: 'siem',
  slide: 13,
  title: 'SIEM: detect and notify',
  summary: 'Feed a SIEM with CloudTrail, CloudWatch Logs and VPC Flow Logs, write rules for unauthorized access and data exfiltration, and notify the administrators by email and SMS.',
  objectives: [
    'Set up a SIEM and integrate it with AWS services',
    'Feed it CloudTrail, CloudWatch Logs and VPC Flow Logs',
    'Create alerts for unauthorized access and data exfiltration',
    'Notify administrators by email and SMS',
  ],
  workbook: here('./workbook.md'),
  starter: here('./starter'),
  tasks: [
    {
      id: 'trail', title: 'A multi-region trail with log-file validation, to S3 and CloudWatch Logs',
      hints: [
        'Create a bucket for the trail (its name must be unique: put the account id in it) and give it the bucket policy CloudTrail needs: cloudtrail.amazonaws.com may s3:GetBucketAcl on the bucket and s3:PutObject on `arn:aws:s3:::<bucket>/AWSLogs/<account>/*` with the condition `s3:x-amz-acl` = `bucket-owner-full-control`. Without it nothing is delivered.',
        'CreateTrail with IsMultiRegionTrail: true, EnableLogFileValidation: true, IncludeGlobalServiceEvents: true, CloudWatchLogsLogGroupArn (`arn:aws:logs:<region>:<account>:log-group:<group>:*`) and CloudWatchLogsRoleArn; then StartLogging — a new trail does not log until you start it.',
        'GetObject is an S3 data event, not recorded by default: PutEventSelectors with DataResources [{ Type: "AWS::S3::Object", Values: `["arn:aws:s3:::<customer-data bucket>/"]` }] and IncludeManagementEvents: true. Only that bucket: recording reads of the trail\'s own bucket would log every read your SIEM makes.',
      ],
    },
    {
      id: 'telemetry', title: 'Flow logs on the production VPC; the application log groups',
      hints: [
        'CreateFlowLogs with ResourceType VPC, ResourceIds [env.vpc.id], TrafficType ALL, LogDestinationType cloud-watch-logs, LogGroupName e.g. /northwind/vpc/flow-logs and DeliverLogsPermissionArn (a role vpc-flow-logs.amazonaws.com may assume).',
        'MaxAggregationInterval 60 delivers records every minute instead of every ten: faster detection.',
        'The instances already ship their logs to env.logGroups.app and env.logGroups.bastion: nothing to create, but the SIEM has to read them.',
      ],
    },
    {
      id: 'siem', title: 'Connect the SIEM to its sources (siem/siem.yml)',
      hints: [
        'One source per input: type cloudtrail with s3: { bucket: "<trail bucket>" } (or logGroup: the trail\'s log group; with both, the SIEM counts each event once), type vpcflow with logGroup: the flow log\'s group, type logs with logGroup or logGroupPrefix: /northwind/.',
        'Names that contain the account id: write ${accountId} (and ${region}); the SIEM replaces them.',
        'A flow log with a custom LogFormat writes no header line to CloudWatch Logs: give the same format in the source (format: "${version} ${srcaddr} ...").',
        'Check what it reads: seclab cloud up --lab siem, run your solution, then seclab siem sources --workspace <ws>.',
      ],
    },
    {
      id: 'rules', title: 'Rules for unauthorized access and exfiltration',
      hints: [
        'The bundled pack (rules: { bundled: true }) has rules for all of it; `seclab siem rules` lists them. Your own rules go in siem/rules/*.yml (Sigma), with ATT&CK tags: the grader looks for the attack\'s technique or tactic on the alert.',
        'Unauthorized access: a correlation (type event_count, group-by userIdentity.arn, timespan 5m, condition gte 10) over a rule matching errorCode AccessDenied/UnauthorizedOperation; ConsoleLogin with additionalEventData.MFAUsed "No" and responseElements.ConsoleLogin "Success"; userIdentity.type Root.',
        'Exfiltration: value_count of requestParameters.key per sourceIPAddress for GetObject; a flow-log rule on bytes|gt with srcaddr|cidr private and dstaddr not private, on any port and protocol (the grader uploads over TCP 443, TCP 22 and UDP 443); and StopLogging/DeleteTrail, which hides what comes next.',
        'Noise costs points: a half hour of normal work (several people, addresses and sign-ins) may raise at most 2 alerts, counted with the default deduplication whatever alerting: sets. A rule on every AccessDenied, every console login or every internet flow will not do.',
      ],
    },
    {
      id: 'notify', title: 'Notify the administrators by email and SMS',
      hints: [
        'CreateTopic, then Subscribe with Protocol email (env.admins.email) and Protocol sms (env.admins.phone, E.164). An email subscription stays "PendingConfirmation" until its owner confirms it, as in AWS: the administrators confirm the request they receive.',
        'In siem.yml: channels: [{ name: secops, type: sns, topicArn: "arn:aws:sns:${region}:${accountId}:<topic>", minSeverity: medium }]. `seclab outbox` shows what the administrators received.',
      ],
    },
  ],
  provision: provisionSiem,
  studentSteps: [{ export: 'apply' }],
  checks,
  // The task whose hints help when an attack gets through (`seclab hint`): the rules.
  scenarios: [quietDay, unauthorizedBurst, consoleLoginWithoutMfa, s3Exfiltration, flowExfiltration, cloudtrailStopped].map((sc) => ({ ...sc, tasks: { detected: 'rules' } })),
  normalActivity,
};

/**
 * `seclab simulate`: the company's ordinary activity as the quiet-day scenario plays it (people and the
 * orders app from their usual addresses, sign-ins, logs, traffic), the student's SIEM polling it; the
 * first five minutes are the SIEM's warm-up. Reports what each rule raised (the grader's counting:
 * default deduplication, no throttle), leaving out the student's own set-up calls (the account root).
 */
async function normalActivity(session: LabSession, minutes: number, onMinute?: (m: number) => void): Promise<ActivityReport> {
  const start = session.now();
  const run = await siemRun(session);
  let done = Math.round((session.now() - start) / 60_000);
  onMinute?.(Math.min(done, minutes));
  for (let i = 0; done < minutes; i++) {
    const step = Math.min(10, minutes - done);
    if (run.siem) {
      await awayRound(session, i, run.background);
      await simulate(session, run, step, { consoleSignIn: i === 0 });
    } else {
      await session.gateway.clock.advance(step * 60_000);
    }
    done += step;
    onMinute?.(done);
  }
  if (!run.siem) return { notes: [`your SIEM did not run: ${run.error ?? 'unknown reason'}`] };
  const setup = (a: Alert) => a.events.length > 0 && a.events.every((e) => (e.fields['userIdentity'] as { type?: string } | undefined)?.type === 'Root');
  const events = [...new Set([...run.warmupEvents, ...run.events])];
  const byRule = new Map<string, { rule: string; level: string; alerts: number; hits: number; firstAt?: number }>();
  for (const a of standardAlerts(run, events)) {
    if (setup(a)) continue;
    const r = byRule.get(a.rule.title) ?? { rule: a.rule.title, level: a.severity, alerts: 0, hits: 0 };
    r.alerts++;
    r.hits += a.hits;
    const t = Date.parse(a.firstSeen) - start;
    if (Number.isFinite(t) && (r.firstAt === undefined || t < r.firstAt)) r.firstAt = t;
    byRule.set(a.rule.title, r);
  }
  const read = { cloudtrail: 0, vpcflow: 0, logs: 0 };
  for (const e of events) read[e.source]++;
  return {
    rules: [...byRule.values()].sort((a, b) => b.alerts - a.alerts || a.rule.localeCompare(b.rule)),
    correlations: correlationPeaks(run.siem.ruleSet, events.filter((e) => (e.fields['userIdentity'] as { type?: string } | undefined)?.type !== 'Root')),
    notes: [`your SIEM read ${read.cloudtrail} CloudTrail events, ${read.vpcflow} flow-log records and ${read.logs} log lines (the first ${Math.min(done, 5)} minutes are its warm-up; alerts on your own set-up calls as root are left out)`],
  };
}

const prims = (x: unknown): string[] => (x === undefined || x === null ? [] : Array.isArray(x) ? x.flatMap(prims) : [typeof x === 'object' ? JSON.stringify(x) : String(x)]);

/**
 * For each counting correlation (event_count, value_count): the largest count normal activity reaches
 * in one window of its timespan, for one group, whether or not it crosses the rule's condition — what
 * a threshold is chosen from.
 */
export function correlationPeaks(ruleSet: RuleSet, events: readonly SiemEvent[]): NonNullable<ActivityReport['correlations']> {
  const counting = ruleSet.correlations.filter((c) => c.type === 'event_count' || c.type === 'value_count');
  if (!counting.length) return [];
  const engine = new SiemEngine(ruleSet, {});
  const per = counting.map((c) => ({
    c, getters: c.spec.groupFields.map((fs) => fs.map(compileGetter)), values: (c.spec.valueFields ?? []).map(compileGetter),
    groups: new Map<string, { ts: number; vals: string[] }[]>(),
  }));
  for (const e of [...events].filter((x) => Number.isFinite(x.ts)).sort((a, b) => a.ts - b.ts)) {
    const matched = new Set(engine.evaluate(e).map((m) => m.rule.id));
    for (const p of per) {
      p.c.rules.forEach((r, i) => {
        if (!matched.has(r.id)) return;
        const key = (p.getters[i] ?? []).map((g) => JSON.stringify(g(e.fields) ?? null)).join(', ');
        const list = p.groups.get(key) ?? [];
        list.push({ ts: e.ts, vals: p.values.flatMap((g) => prims(g(e.fields))) });
        p.groups.set(key, list);
      });
    }
  }
  return per.map(({ c, groups }) => {
    let max = 0;
    let group: string | undefined;
    for (const [key, list] of groups) {
      let lo = 0;
      for (let hi = 0; hi < list.length; hi++) {
        while (list[hi]!.ts - list[lo]!.ts > c.timespanMs) lo++;
        const n = c.type === 'event_count' ? hi - lo + 1 : new Set(list.slice(lo, hi + 1).flatMap((x) => x.vals)).size;
        if (n > max) {
          max = n;
          group = key;
        }
      }
    }
    const condition = Object.entries(c.spec.bounds ?? {}).map(([k, v]) => `${k} ${v}`).join(' and ');
    return { rule: c.title, type: c.type, timespanMs: c.timespanMs, condition, max, ...(group ? { group } : {}) };
  });
}
