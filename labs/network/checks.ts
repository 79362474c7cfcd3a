// Lab network's checks: posture (flow logs, metric filters and alarms, notifications, the responder
// and its role) and business (customers, tiers, contractors, backups keep working). Each judges the
// lab cloud, never the student's code; alarms are judged by what they would do with simulated
// traffic, so any equivalent filter pattern or threshold counts.
import { SNSClient, ListTopicsCommand, ListSubscriptionsByTopicCommand, type Subscription } from '@aws-sdk/client-sns';
import { LambdaClient, ListFunctionsCommand, type FunctionConfiguration } from '@aws-sdk/client-lambda';
import type { Check, CheckOutcome } from '../../src/engine/types.ts';
import type { LabSession } from '../../src/engine/session.ts';
import type { Credential } from '../../src/cloud/gateway/credentials.ts';
import { parsePolicyText } from '../../src/cloud/services/iam/policy-store.ts';
import { functionActivity, invocationError } from '../../src/engine/report/lambda-debug.ts';
import type { MetricAlarm } from '../../src/cloud/services/cloudwatch/alarms/types.ts';
import { PROTO, exfiltration, flowLogsCovering, portScan, sshBruteForce, type Flow, type FlowLogConfig, type Topology } from '../../src/cloud/services/ec2/dataplane/index.ts';
import { normalFlows, probe, topology, MINUTE } from '../../scenarios/lib/network.ts';
import { instance, randomRogueIp, type NetworkLabEnv } from './company.ts';
import { applyFilters, extraDelaySeconds, recordsOf, seriesKey, watched, wouldFire, type MetricFilterSpec, type Series } from './simulate.ts';

const env = (s: LabSession) => s.env as unknown as NetworkLabEnv;
const pass = (feedback: string): CheckOutcome => ({ passed: true, feedback });
const fail = (feedback: string): CheckOutcome => ({ passed: false, feedback });

// ---- what the student built, read once per graded run ----

type Detection = 'ssh' | 'outbound' | 'unexpected';

interface Responder {
  fn: FunctionConfiguration;
  triggers: string[];
  role?: string;
}

interface Inspection {
  topology: Topology;
  /** Instance interfaces of the sensitive VPC. */
  sensitiveEnis: string[];
  /** Flow logs delivering to CloudWatch Logs that cover some interface of the sensitive VPC. */
  sensitiveLogs: FlowLogConfig[];
  /** The flow logs the other checks judge: the sensitive VPC's, or else every flow log of the account. */
  judged: FlowLogConfig[];
  alarms: MetricAlarm[];
  /**
   * Simulated series per detection (attack minute plus normal traffic), one per variant of the attack
   * (outbound volume: several ports and protocols), and for a normal day.
   */
  series: Record<Detection, { label: string; series: Series }[]>;
  normal: Series;
  /** Per metric series: how much later than with one-minute aggregation its records arrive (s). */
  delays: Map<string, number>;
  /** Topics with an email subscription for the administrators' address and an SMS one for their phone. */
  adminTopics: Set<string>;
  subscriptions: Map<string, Subscription[]>;
  responder?: Responder;
  functions: FunctionConfiguration[];
}

const inspections = new WeakMap<LabSession, Promise<Inspection>>();

function inspect(s: LabSession): Promise<Inspection> {
  let p = inspections.get(s);
  if (!p) {
    p = load(s);
    inspections.set(s, p);
  }
  return p;
}

async function load(s: LabSession): Promise<Inspection> {
  const e = env(s);
  const t = await topology(s);
  const sensitiveEnis = t.interfaces.filter((i) => i.vpcId === e.vpcs.sensitive.id && i.instanceId && i.active).map((i) => i.id);
  const cw = t.flowLogs.filter((f) => f.destinationType === 'cloud-watch-logs' && f.logGroupName);
  const sensitiveLogs = cw.filter((f) => sensitiveEnis.some((eni) => flowLogsCovering(t, eni).includes(f)));
  const judged = sensitiveLogs.length ? sensitiveLogs : cw;

  // Metric filters of the judged groups, applied to the records each flow log would write there.
  const groups = [...new Set(judged.map((f) => f.logGroupName!))].map((g) => [g] as const);
  const filters = new Map<string, MetricFilterSpec[]>();
  for (const [group] of groups) {
    // As the gateway applies them to the group's events (not a separate read of moto).
    filters.set(group, (await s.gateway.service('logs').filters(s.accountId, s.cloud.region, group)).metric as MetricFilterSpec[]);
  }
  const W = Math.floor(s.now() / MINUTE) * MINUTE + 60 * MINUTE; // an aligned minute, away from real traffic
  const normalMinute = await normalFlows(s, W, W + MINUTE);
  const rogue = randomRogueIp();
  const pub = (n: string) => instance(e, n).publicIp ?? instance(e, n).privateIp;
  const exfil = (port: number, protocol: number) => exfiltration({ source: instance(e, 'app-1').privateIp, destination: rogue, start: W, durationMs: 50_000, connections: 4, totalBytes: 480_000_000, port })
    .map((f) => ({ ...f, protocol }));
  const attacks: Record<Detection, { label: string; flows: Flow[] }[]> = {
    ssh: [{ label: 'SSH', flows: ['web-1', 'bastion'].flatMap((n) => sshBruteForce({ attacker: rogue, target: pub(n), start: W, attempts: 24, intervalMs: 1500 })) }],
    unexpected: [{ label: 'a port scan', flows: ['web-1', 'bastion'].flatMap((n) => portScan({ attacker: rogue, target: pub(n), start: W, ports: Array.from({ length: 120 }, (_, i) => i + 1), intervalMs: 400 })) }],
    // Data leaves by whatever port and protocol gets out: volume is judged on each of these.
    outbound: OUTBOUND_CHANNELS.map((c) => ({ label: c.label, flows: exfil(c.port, c.protocol) })),
  };
  // Flow logs on the sensitive VPC write the records of the interfaces they cover. A flow log only
  // elsewhere (its placement costs the first check) is judged as if it were on the sensitive VPC: the
  // rest of its configuration — traffic type, aggregation interval, format, log group — is honoured.
  const simulated = sensitiveLogs.length ? judged : judged.map((f) => ({ ...f, resourceId: e.vpcs.sensitive.id }));
  const delays = new Map<string, number>();
  const run = (flows: Flow[]): Series => {
    const merged: Series = new Map();
    for (const fl of simulated) {
      const records = recordsOf(t, flows, fl);
      for (const [k, byWindow] of applyFilters(filters.get(fl.logGroupName!) ?? [], records, fl.logFormat)) {
        const into = merged.get(k) ?? new Map<number, number[]>();
        for (const [w, vs] of byWindow) into.set(w, [...(into.get(w) ?? []), ...vs]);
        merged.set(k, into);
        delays.set(k, Math.min(delays.get(k) ?? Infinity, extraDelaySeconds(fl)));
      }
    }
    return merged;
  };
  // The attack minute: its flows kept inside the one-minute window the alarms are judged on.
  const minute = (flows: Flow[]) => run([...normalMinute, ...flows].map((f) => ({ ...f, start: Math.min(f.start, W + MINUTE - 2000), end: Math.min(f.end, W + MINUTE - 1) })));
  const variants = (d: Detection) => attacks[d].map((a) => ({ label: a.label, series: minute(a.flows) }));
  const series = { ssh: variants('ssh'), unexpected: variants('unexpected'), outbound: variants('outbound') };
  const normal = run(await normalFlows(s, W, W + 15 * MINUTE));

  // Notifications.
  const sns = s.client(SNSClient);
  const subscriptions = new Map<string, Subscription[]>();
  let token: string | undefined;
  do {
    const page = await sns.send(new ListTopicsCommand({ NextToken: token }));
    for (const topic of page.Topics ?? []) {
      const subs: Subscription[] = [];
      let t2: string | undefined;
      do {
        const sp = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topic.TopicArn!, NextToken: t2 }));
        subs.push(...(sp.Subscriptions ?? []));
        t2 = sp.NextToken;
      } while (t2);
      subscriptions.set(topic.TopicArn!, subs);
    }
    token = page.NextToken;
  } while (token);
  const adminTopics = new Set([...subscriptions].filter(([, subs]) =>
    subs.some((x) => (x.Protocol === 'email' || x.Protocol === 'email-json') && x.Endpoint?.toLowerCase() === e.admins.email.toLowerCase())
    && subs.some((x) => x.Protocol === 'sms' && x.Endpoint?.replace(/[^\d+]/g, '') === e.admins.phone)).map(([arn]) => arn));

  const alarms = s.gateway.service('cloudwatch').alarms.list(s.accountId, s.cloud.region);

  // The responder: a function something in the pipeline invokes.
  const lambda = s.client(LambdaClient);
  const functions: FunctionConfiguration[] = [];
  let marker: string | undefined;
  do {
    const page = await lambda.send(new ListFunctionsCommand({ Marker: marker }));
    functions.push(...(page.Functions ?? []));
    marker = page.NextMarker;
  } while (marker);
  const alarmTopics = new Set(alarms.flatMap((a) => a.AlarmActions));
  const sameFn = (arn: string | undefined, fn: FunctionConfiguration) => !!arn && (arn === fn.FunctionArn || arn.startsWith(`${fn.FunctionArn}:`) || arn === fn.FunctionName);
  const rules: { name: string; pattern: string; targets: string[] }[] = [];
  if (functions.length) {
    // The rules events are matched against, as the gateway's event bus holds them.
    for (const r of await s.gateway.service('events').rulesOf(s.accountId, s.cloud.region)) {
      rules.push({ name: r.rule.Name!, pattern: r.rule.EventPattern!, targets: r.targets.map((x) => x.Arn ?? '') });
    }
  }
  const subscriptionFilters: { group: string; destination: string }[] = [];
  if (functions.length) {
    for (const [group] of groups) {
      const r = await s.gateway.service('logs').filters(s.accountId, s.cloud.region, group);
      for (const f of r.subscription) subscriptionFilters.push({ group, destination: f.destinationArn ?? '' });
    }
  }
  let responder: Responder | undefined;
  for (const fn of functions) {
    const triggers = [
      ...[...subscriptions].filter(([arn, subs]) => alarmTopics.has(arn) && subs.some((x) => x.Protocol === 'lambda' && sameFn(x.Endpoint, fn))).map(([arn]) => `the alarm topic ${arn.split(':').pop()}`),
      ...alarms.filter((a) => a.AlarmActions.some((x) => sameFn(x, fn))).map((a) => `alarm ${a.AlarmName}`),
      ...rules.filter((r) => /aws\.cloudwatch|CloudWatch Alarm State Change/.test(r.pattern) && r.targets.some((x) => sameFn(x, fn))).map((r) => `EventBridge rule ${r.name}`),
      ...subscriptionFilters.filter((f) => sameFn(f.destination, fn)).map((f) => `a subscription filter on ${f.group}`),
    ];
    if (triggers.length && (!responder || triggers.length > responder.triggers.length)) responder = { fn, triggers, ...(fn.Role ? { role: fn.Role } : {}) };
  }

  return { topology: t, sensitiveEnis, sensitiveLogs, judged, alarms, series, normal, delays, adminTopics, subscriptions, functions, ...(responder ? { responder } : {}) };
}

/**
 * What the responder did when the attacks triggered it: invocations that ended in an error (the
 * handler threw, timed out) are not responses, nor are triggers its resource policy refused.
 */
async function responderRan(s: LabSession, name: string, wired: string): Promise<CheckOutcome> {
  await s.gateway.service('lambda').settle();
  const { invocations, refusals } = functionActivity(s, name);
  const errors = invocations.map(invocationError).filter((e): e is { type: string; message: string } => !!e);
  const ok = invocations.length - errors.length;
  const first = errors[0] ? `${errors[0].type}: ${errors[0].message}` : '';
  if (!invocations.length && refusals.length) {
    return fail(`${name} never ran: ${refusals.length} trigger(s) refused — ${refusals[0]!.reason}`);
  }
  if (!invocations.length) return pass(`${wired} (the attacks did not trigger it: no alarm reached it)`);
  if (!ok) {
    return fail(`${name} was triggered ${invocations.length} time(s) during the attacks and failed every time (${first}): a responder that throws blocks nothing — its logs: /aws/lambda/${name} (\`seclab check network --keep\` keeps the account to look at them)`);
  }
  if (errors.length) return pass(`${wired}; but ${errors.length} of ${invocations.length} invocations failed (${first})`);
  return pass(`${wired}, and ran without error when the attacks triggered it`);
}

/** The ports and protocols an exfiltration is simulated on: the outbound-volume alarm must see each. */
const OUTBOUND_CHANNELS = [
  { label: 'HTTPS (TCP 443)', port: 443, protocol: PROTO.TCP },
  { label: 'SFTP (TCP 22)', port: 22, protocol: PROTO.TCP },
  { label: 'QUIC (UDP 443)', port: 443, protocol: PROTO.UDP },
];

/** wouldFire, with the delay of the flow logs that feed the alarm's metric. */
function fires(i: Inspection, alarm: MetricAlarm, series: Series) {
  const key = alarm.Namespace && alarm.MetricName ? seriesKey(alarm.Namespace, alarm.MetricName, alarm.Dimensions) : '';
  return wouldFire(alarm, series, i.delays.get(key) ?? 0);
}

/** The alarms that go off on one simulated attack minute and tell someone (an action). */
function firingOn(i: Inspection, series: Series): { alarm: MetricAlarm; value?: number }[] {
  return i.alarms.map((alarm) => ({ alarm, r: fires(i, alarm, series) }))
    .filter((x) => x.r.fires && x.alarm.ActionsEnabled && x.alarm.AlarmActions.length > 0)
    .map((x) => ({ alarm: x.alarm, ...(x.r.value !== undefined ? { value: x.r.value } : {}) }));
}

/** The alarms that go off on some variant of a detection's simulated attack minute. */
function firing(i: Inspection, d: Detection): { alarm: MetricAlarm; value?: number }[] {
  return [...new Map(i.series[d].flatMap((v) => firingOn(i, v.series)).map((x) => [x.alarm.AlarmName, x])).values()];
}

/** Alarms on metrics the flow-log filters produce. */
function flowLogAlarms(i: Inspection): MetricAlarm[] {
  const all = [...i.series.ssh, ...i.series.outbound, ...i.series.unexpected].map((v) => v.series);
  return i.alarms.filter((a) => [...all, i.normal].some((sr) => watched(a, sr)));
}

function alarmCheck(d: Detection, what: string, advice: string): (s: LabSession) => Promise<CheckOutcome> {
  return async (s) => {
    const i = await inspect(s);
    if (!i.judged.length) return fail('there is no flow log delivering to CloudWatch Logs for metric filters to read (task 1)');
    const variants = i.series[d];
    const on = (v: { label: string }) => (variants.length > 1 ? ` over ${v.label}` : '');
    const missed = variants.filter((v) => !firingOn(i, v.series).length);
    if (!missed.length) return pass(`${firing(i, d).map((x) => x.alarm.AlarmName).join(', ')} would go off on ${what}${variants.length > 1 ? ` (over ${variants.map((v) => v.label).join(', ')})` : ''}`);
    const v = missed[0]!;
    const caught = variants.filter((x) => !missed.includes(x));
    const partly = caught.length ? `${firing(i, d).map((x) => x.alarm.AlarmName).join(', ')} would go off over ${caught.map((x) => x.label).join(', ')}, but not over ${missed.map((x) => x.label).join(', ')} — data leaves by any port and protocol: don't tie the filter to one` : '';
    // Alarms on a metric this attack moves (a metric that stays 0 is about something else).
    const moved = (a: MetricAlarm) => [...(watched(a, v.series)?.values() ?? [])].some((vs) => vs.some((x) => x !== 0));
    const candidates = i.alarms.filter(moved).map((a) => {
      const r = fires(i, a, v.series);
      const silent = !a.AlarmActions.length || !a.ActionsEnabled;
      return `${a.AlarmName}: ${r.fires && silent ? 'it would go off but has no alarm action (or actions are disabled)' : r.why}`;
    });
    if (partly) return fail(`${partly}${candidates.length ? ` (${candidates.join('; ')})` : ''}`);
    // Records the flow logs never write: their traffic type leaves out what this attack looks like.
    const needs = d === 'outbound' ? 'ACCEPT' : 'REJECT';
    const blind = i.judged.every((f) => f.trafficType !== 'ALL' && f.trafficType !== needs);
    if (blind) return fail(`no alarm would go off on ${what}: your flow logs record only ${[...new Set(i.judged.map((f) => f.trafficType))].join(', ')} traffic, and this attack is ${needs === 'ACCEPT' ? 'accepted' : 'rejected'} traffic — it never reaches the logs (TrafficType ALL)`);
    if (candidates.length) return fail(`no alarm would go off on ${what}${on(v)}: ${candidates.join('; ')}`);
    return fail(`no alarm watches a metric that ${what}${on(v)} moves — ${advice}`);
  };
}

// ---- role decisions ----

async function roleDecides(s: LabSession, roleArn: string, action: string, resource: string): Promise<boolean> {
  const roleName = roleArn.split('/').pop() ?? '';
  const now = s.gateway.clock.now();
  const cred: Credential = {
    accessKeyId: 'ASIASIMULATED0000000', secret: '', account: s.accountId, kind: 'role-session', roleName, roleArn,
    sessionName: 'seclab-grader', arn: `arn:aws:sts::${s.accountId}:assumed-role/${roleName}/seclab-grader`, status: 'Active',
    issuedAt: now, expiresAt: new Date(now.getTime() + 3600_000),
  };
  const context = s.gateway.contextOf(cred, '127.0.0.1', 'seclab-grader', { region: s.cloud.region });
  return (await s.gateway.decide(cred, action, resource, context, s.cloud.region)).decision === 'Allow';
}

function trusts(document: string | undefined, service: string): boolean {
  if (!document) return false;
  try {
    const doc = parsePolicyText(document) as { Statement?: unknown };
    const statements = (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]) as { Effect?: string; Action?: string | string[]; Principal?: { Service?: string | string[] } | string }[];
    return statements.some((st) => st?.Effect === 'Allow'
      && [st.Action ?? []].flat().some((a) => /^(sts:AssumeRole|sts:\*|\*)$/.test(a))
      && (st.Principal === '*' || (typeof st.Principal === 'object' && [st.Principal.Service ?? []].flat().includes(service))));
  } catch {
    return false;
  }
}

const arnOf = (s: LabSession, type: string, id: string) => `arn:aws:ec2:${s.cloud.region}:${s.accountId}:${type}/${id}`;

/**
 * Probes of network ACL administration a responder must not be able to do: [action, resource, what].
 * Each action is probed on the resource the lab cloud authorizes it against ('*' for the actions
 * without resource-level permissions there) and on the ACL ARNs AWS documents for it, so a grant
 * limited to the production ACLs' ARNs is caught as well as one on '*'.
 */
function aclAdministration(s: LabSession): [string, string, string][] {
  const e = env(s);
  const production = [e.subnets.web, e.subnets.app, e.subnets.db].map((x) => x.networkAclId);
  const others = [e.subnets.sandbox.networkAclId, 'acl-0123456789abcdef0'];
  const out: [string, string, string][] = [];
  for (const acl of production) {
    for (const action of ['ec2:ReplaceNetworkAclEntry', 'ec2:DeleteNetworkAclEntry', 'ec2:DeleteNetworkAcl', 'ec2:ReplaceNetworkAclAssociation']) {
      out.push([action, arnOf(s, 'network-acl', acl), 'on the production network ACLs']);
    }
  }
  for (const acl of others) out.push(['ec2:CreateNetworkAclEntry', arnOf(s, 'network-acl', acl), 'on network ACLs outside the production subnets']);
  for (const action of ['ec2:ReplaceNetworkAclAssociation', 'ec2:CreateNetworkAcl', 'ec2:DeleteNetworkAcl', 'ec2:ReplaceNetworkAclEntry', 'ec2:DeleteNetworkAclEntry', 'ec2:CreateNetworkAclEntry']) {
    out.push([action, '*', 'on any network ACL']);
  }
  out.push(['ec2:CreateNetworkAcl', arnOf(s, 'vpc', e.vpcs.sensitive.id), 'in the production VPC']);
  out.push(['ec2:CreateNetworkAcl', arnOf(s, 'network-acl', '*'), 'in the production VPC']);
  return out;
}

// ---- business: legitimate traffic the controls must leave alone ----

async function businessProbe(s: LabSession, minutes: number, labels: string[], who: string): Promise<CheckOutcome> {
  const from = s.now();
  const flows = (await normalFlows(s, from, from + minutes * MINUTE)).filter((f) => labels.includes(f.label ?? ''));
  if (!flows.length) return fail(`no ${who} traffic could be generated: are the instances running in their security groups?`);
  const verdicts = await probe(s, flows);
  const refused = flows.map((f, k) => ({ f, v: verdicts[k]! })).filter((x) => x.v.action !== 'ACCEPT');
  if (!refused.length) return pass(`${flows.length} ${who} connections went through`);
  const ex = refused[0]!;
  return fail(`${refused.length} of ${flows.length} ${who} connections were refused, e.g. ${ex.f.srcaddr} → ${ex.f.dstaddr}:${ex.f.dstport}: ${ex.v.reason}`);
}

export const checks: Check[] = [
  // ---- task 1: flow logs ----
  {
    id: 'flow-logs-sensitive-vpc', title: 'VPC Flow Logs cover the VPC that holds customer data, into CloudWatch Logs', kind: 'posture', points: 8, task: 'flow-logs',
    async run(s) {
      const e = env(s);
      const i = await inspect(s);
      const t = i.topology;
      const uncovered = i.sensitiveEnis.filter((eni) => !flowLogsCovering(t, eni).some((f) => f.destinationType === 'cloud-watch-logs' && f.logGroupName));
      if (!uncovered.length && i.sensitiveEnis.length) {
        const slow = i.sensitiveLogs.filter((f) => f.maxAggregationInterval !== 60);
        return pass(`${e.vpcs.sensitive.name}'s traffic goes to ${[...new Set(i.sensitiveLogs.map((f) => f.logGroupName))].join(', ')} (${i.sensitiveLogs.map((f) => f.id).join(', ')})${slow.length ? `; note: MaxAggregationInterval is ${slow[0]!.maxAggregationInterval} s, so records arrive up to 10 minutes late — 60 s lets alarms react within minutes` : ''}`);
      }
      const elsewhere = t.flowLogs.filter((f) => f.resourceId === e.vpcs.sandbox.id || f.resourceId === e.subnets.sandbox.id);
      const toS3 = t.flowLogs.filter((f) => f.destinationType !== 'cloud-watch-logs' && i.sensitiveEnis.some((eni) => flowLogsCovering(t, eni).includes(f)));
      if (!t.flowLogs.length) return fail(`there is no flow log: create one on ${e.vpcs.sensitive.name} (${e.vpcs.sensitive.id}) delivering to a CloudWatch Logs group`);
      if (toS3.length && !i.sensitiveLogs.length) return fail(`${toS3[0]!.id} delivers to ${toS3[0]!.destinationType}; metric filters and alarms read CloudWatch Logs — deliver to a log group`);
      if (elsewhere.length && !i.sensitiveLogs.length) return fail(`the flow log is on ${e.vpcs.sandbox.name}, which holds no customer data; ${e.vpcs.sensitive.name} (${e.vpcs.sensitive.id}) has none`);
      const names = uncovered.map((eni) => t.interfaces.find((x) => x.id === eni)).map((x) => e.instances.find((n) => n.id === x?.instanceId)?.name ?? x?.id);
      return fail(`traffic of ${names.join(', ')} is not captured: put the flow log on the whole VPC ${e.vpcs.sensitive.id}`);
    },
  },
  {
    id: 'flow-logs-all-traffic', title: 'The flow logs capture accepted and rejected traffic', kind: 'posture', points: 4, task: 'flow-logs',
    async run(s) {
      const i = await inspect(s);
      if (!i.judged.length) return fail('there is no flow log to CloudWatch Logs yet');
      const types = new Set(i.judged.map((f) => f.trafficType));
      if (types.has('ALL') || (types.has('ACCEPT') && types.has('REJECT'))) return pass(`traffic type ${[...types].join(' + ')}: refused connections (scans, brute force) are recorded too`);
      return fail(`traffic type ${[...types].join(', ')} only: ${types.has('ACCEPT') ? 'rejected connections — SSH guesses, port scans — never reach the logs' : 'accepted connections — a transfer out of the network — never reach the logs'}; use ALL`);
    },
  },
  {
    id: 'flow-logs-delivery-role', title: 'The flow logs deliver with a role that VPC Flow Logs may assume and that may write the log group', kind: 'posture', points: 3, task: 'flow-logs', hidden: true,
    async run(s) {
      const i = await inspect(s);
      if (!i.judged.length) return fail('there is no flow log to CloudWatch Logs yet');
      const details = await s.gateway.service('iam').policies.account(s.accountId);
      const problems: string[] = [];
      for (const f of i.judged) {
        const arn = f.deliverLogsPermissionArn;
        if (!arn) { problems.push(`${f.id} names no DeliverLogsPermissionArn`); continue; }
        const role = details.roles.get(arn.split('/').pop() ?? '');
        if (!role) { problems.push(`${f.id}: the role ${arn} does not exist`); continue; }
        if (!trusts(role.AssumeRolePolicyDocument, 'vpc-flow-logs.amazonaws.com')) problems.push(`${role.RoleName}'s trust policy does not let vpc-flow-logs.amazonaws.com assume it`);
        const group = `arn:aws:logs:${s.cloud.region}:${s.accountId}:log-group:${f.logGroupName}:log-stream:${'eni-0000-all'}`;
        for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents']) {
          if (!(await roleDecides(s, role.Arn, action, group))) problems.push(`${role.RoleName} may not ${action} in ${f.logGroupName}`);
        }
      }
      return problems.length ? fail(problems.join('; ')) : pass('the delivery role trusts vpc-flow-logs.amazonaws.com and may write the log group');
    },
  },

  // ---- task 2: metric filters and alarms ----
  {
    id: 'alarm-rejected-ssh', title: 'An alarm goes off on a burst of rejected SSH attempts', kind: 'posture', points: 5, task: 'alarms',
    run: alarmCheck('ssh', 'a minute of rejected SSH attempts from one address (about 25)', 'count REJECT records with destination port 22 (a metric filter on the flow-log group), and alarm on their Sum per minute'),
  },
  {
    id: 'alarm-outbound-bytes', title: 'An alarm goes off on unusual volumes sent to addresses outside the VPC', kind: 'posture', points: 5, task: 'alarms',
    run: alarmCheck('outbound', 'half a gigabyte sent in a minute from an application server to an outside address', 'sum the bytes of records whose source is inside the VPC and destination outside (metric value $bytes), and alarm well above a normal minute'),
  },
  {
    id: 'alarm-unexpected-traffic', title: 'An alarm goes off on traffic from unexpected addresses (rejected connections from outside)', kind: 'posture', points: 5, task: 'alarms',
    run: alarmCheck('unexpected', 'a minute of a port scan from an outside address (about 240 refused probes)', 'count REJECT records whose source is outside the VPC, and alarm on their Sum per minute'),
  },
  {
    id: 'admins-notified', title: 'The alarms notify the administrators by email and SMS', kind: 'posture', points: 5, task: 'alarms',
    async run(s) {
      const e = env(s);
      const i = await inspect(s);
      const detecting = [...new Map((['ssh', 'outbound', 'unexpected'] as const).flatMap((d) => firing(i, d)).map((x) => [x.alarm.AlarmName, x.alarm])).values()];
      if (!i.adminTopics.size) {
        const partial = [...i.subscriptions].filter(([, subs]) => subs.length).map(([arn, subs]) => `${arn.split(':').pop()}: ${subs.map((x) => `${x.Protocol} ${x.Endpoint}`).join(', ')}`);
        return fail(`no SNS topic has both an email subscription for ${e.admins.email} and an SMS subscription for ${e.admins.phone}${partial.length ? ` (found ${partial.join('; ')})` : ''}`);
      }
      if (!detecting.length) return fail('the administrators\' topic is ready, but no alarm that would go off on an attack notifies anyone yet (task 2)');
      const silent = detecting.filter((a) => !a.AlarmActions.some((x) => i.adminTopics.has(x)));
      if (silent.length) return fail(`${silent.map((a) => a.AlarmName).join(', ')} do(es) not notify the administrators' topic (AlarmActions)`);
      return pass(`${detecting.map((a) => a.AlarmName).join(', ')} notify ${[...i.adminTopics].map((x) => x.split(':').pop()).join(', ')}: email and SMS`);
    },
  },
  {
    id: 'alarms-quiet-on-normal-traffic', title: 'No alarm goes off on a normal day', kind: 'posture', points: 4, task: 'alarms', hidden: true,
    async run(s) {
      const i = await inspect(s);
      const ours = flowLogAlarms(i);
      if (!ours.length) return fail('there is no alarm on a flow-log metric yet');
      const noisy = ours.filter((a) => wouldFire(a, i.normal).fires);
      if (noisy.length) return fail(`${noisy.map((a) => `${a.AlarmName} (${wouldFire(a, i.normal).value} on normal traffic)`).join(', ')} would go off on normal traffic: alert fatigue hides real attacks — raise the threshold above a normal minute`);
      return pass(`${ours.length} flow-log alarm(s) stay quiet on 15 minutes of normal traffic`);
    },
  },

  // ---- task 3: the responder ----
  {
    id: 'responder-deployed', title: 'A Lambda responder is deployed and triggered by the detection', kind: 'posture', points: 4, task: 'responder',
    // Wired is not triggered: after the attacks, a responder every invocation of which failed (or whose
    // triggers were all refused) did not respond, and this check says so.
    afterAttacks: true,
    async run(s) {
      const i = await inspect(s);
      if (!i.responder) {
        if (i.functions.length) return fail(`${i.functions.map((f) => f.FunctionName).join(', ')} exist(s) but nothing invokes them: subscribe the function to the alarm topic, or add an EventBridge rule on alarm state changes, or a subscription filter on the flow-log group`);
        return fail('there is no Lambda function: deploy network/responder with CreateFunction (a zip of index.mjs)');
      }
      const fn = i.responder.fn;
      if (fn.Runtime && !fn.Runtime.startsWith('nodejs')) return fail(`${fn.FunctionName} runs ${fn.Runtime}; the lab cloud runs Node.js functions`);
      const wired = `${fn.FunctionName} is invoked by ${i.responder.triggers.join(', ')}`;
      if (!s.attacksRan) return pass(wired);
      return responderRan(s, fn.FunctionName!, wired);
    },
  },
  {
    id: 'responder-can-block', title: "The responder's role may deny addresses in the network ACLs and isolate an instance", kind: 'posture', points: 4, task: 'responder',
    async run(s) {
      const e = env(s);
      const i = await inspect(s);
      if (!i.responder?.role) return fail('there is no responder with an execution role yet');
      const role = i.responder.role;
      const missing: string[] = [];
      if (!(await roleDecides(s, role, 'ec2:CreateNetworkAclEntry', arnOf(s, 'network-acl', e.subnets.web.networkAclId)))) {
        missing.push(`ec2:CreateNetworkAclEntry on the web subnet's network ACL ${e.subnets.web.networkAclId}`);
      }
      const app = instance(e, 'app-1');
      let isolate = false;
      for (const action of ['ec2:ModifyInstanceAttribute', 'ec2:StopInstances', 'ec2:TerminateInstances']) if (await roleDecides(s, role, action, arnOf(s, 'instance', app.id))) isolate = true;
      if (!isolate && (await roleDecides(s, role, 'ec2:ModifyNetworkInterfaceAttribute', '*'))) isolate = true;
      if (!isolate) missing.push(`a way to isolate ${app.name} (ec2:ModifyInstanceAttribute to swap its security groups, or ec2:StopInstances / ec2:TerminateInstances)`);
      return missing.length ? fail(`${role.split('/').pop()} may not: ${missing.join('; ')}`) : pass(`${role.split('/').pop()} may add network ACL entries and isolate an instance`);
    },
  },
  {
    id: 'responder-least-privilege', title: "The responder's role can do nothing else of consequence", kind: 'posture', points: 5, task: 'responder', restrictive: true,
    async run(s) {
      const e = env(s);
      const i = await inspect(s);
      if (!i.responder?.role) return fail('there is no responder with an execution role yet');
      const role = i.responder.role;
      const roleName = role.split('/').pop() ?? '';
      const group = i.judged[0]?.logGroupName ?? 'flow-logs';
      const probes: [action: string, resource: string, what?: string][] = [
        ['iam:PutRolePolicy', `arn:aws:iam::${s.accountId}:role/${roleName}`],
        ['iam:AttachRolePolicy', `arn:aws:iam::${s.accountId}:role/${roleName}`],
        ['iam:CreateUser', `arn:aws:iam::${s.accountId}:user/backdoor`],
        ['iam:PassRole', `arn:aws:iam::${s.accountId}:role/${roleName}`],
        ['s3:GetObject', 'arn:aws:s3:::northwind-customer-exports/customers.csv'],
        ['ec2:DeleteFlowLogs', '*'],
        ['ec2:AuthorizeSecurityGroupIngress', arnOf(s, 'security-group', e.securityGroups.db)],
        ['ec2:RunInstances', '*'],
        ['ec2:DeleteVpc', '*'],
        ['logs:DeleteLogGroup', `arn:aws:logs:${s.cloud.region}:${s.accountId}:log-group:${group}:log-stream:`],
        ['logs:DeleteMetricFilter', `arn:aws:logs:${s.cloud.region}:${s.accountId}:log-group:${group}:log-stream:`],
        ['cloudwatch:DeleteAlarms', `arn:aws:cloudwatch:${s.cloud.region}:${s.accountId}:alarm:${i.alarms[0]?.AlarmName ?? 'x'}`],
        ['cloudwatch:DisableAlarmActions', `arn:aws:cloudwatch:${s.cloud.region}:${s.accountId}:alarm:${i.alarms[0]?.AlarmName ?? 'x'}`],
        ['lambda:UpdateFunctionCode', i.responder.fn.FunctionArn ?? '*'],
        ['sns:DeleteTopic', [...i.adminTopics][0] ?? `arn:aws:sns:${s.cloud.region}:${s.accountId}:x`],
        // Administration of the network ACLs themselves: blocking adds deny entries to the production
        // ACLs; replacing or deleting their entries (the allow rules), deleting or re-associating the
        // ACLs, creating ACLs, or writing entries of any other ACL is not responding.
        ...aclAdministration(s),
      ];
      const allowed: string[] = [];
      for (const [action, resource, what] of probes) {
        if (await roleDecides(s, role, action, resource)) {
          const text = what ? `${action} ${what}` : action;
          if (!allowed.includes(text)) allowed.push(text);
        }
      }
      return allowed.length
        ? fail(`${roleName} may also: ${allowed.join(', ')} — a responder's credentials are a target too: grant only what blocking needs`)
        : pass(`${roleName} is limited to what responding needs, network ACL administration included`);
    },
  },

  // ---- business ----
  {
    id: 'customers-reach-web-site', title: 'Customers can still reach the web site', kind: 'business', points: 0,
    run: (s) => businessProbe(s, 1, ['web'], 'customer HTTPS'),
  },
  {
    id: 'tiers-work', title: 'The web tier reaches the app tier and the app tier the database', kind: 'business', points: 0,
    run: (s) => businessProbe(s, 1, ['web-app', 'app-db'], 'web → app and app → database'),
  },
  {
    id: 'contractors-reach-bastion', title: 'Contractors can still SSH to the bastion', kind: 'business', points: 0,
    run: (s) => businessProbe(s, 20, ['contractor-ssh'], 'contractor SSH'),
  },
  {
    id: 'backups-and-updates', title: 'Backups and package updates still go out', kind: 'business', points: 0,
    run: (s) => businessProbe(s, 60, ['backup', 'update'], 'backup and update'),
  },
];
