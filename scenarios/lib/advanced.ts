// Shared by lab advanced's scenarios: Northwind's traffic and an attack sent through the lab cloud's VPC
// data plane in steps of a few minutes on the lab clock (each step: the company's traffic of the step
// plus the attacker's, judged as the network is now, then the clock moves, which delivers flow-log
// records to the student's detector, lets GuardDuty analyse and runs the responders), and the judgement
// of what the student's controls made of it, by control:
//
// - an anomaly event counts only when the detector — the Lambda function subscribed to the flow-log
//   group — put it (the gateway's CloudTrail record of PutEvents is signed by the function's execution
//   role session, `assumed-role/<role>/<function>`, and no one assumed that role under that name), after
//   the attack began, naming a host of the attack;
// - a GuardDuty finding counts when the lab cloud's GuardDuty runtime holds it, created or updated after
//   the attack began, not archived, of an expected type, about the attack's resource;
// - a response counts by its effect: the attack's flows refused from some step on, stolen credentials
//   refused, the key inactive.
import { LambdaClient, GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { EC2Client, ModifyInstanceAttributeCommand, StartInstancesCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import type { LabSession } from '../../src/engine/session.ts';
import type { AttackStep, ScenarioResult } from '../../src/engine/types.ts';
import { judgeFlow, selectInterfaces, type Flow, type FlowVerdict, type Topology } from '../../src/cloud/services/ec2/dataplane/index.ts';
import type { Finding } from '../../src/cloud/services/guardduty/findings.ts';
import { advancedEnv, advancedProfile, ANOMALY_DETAIL_TYPE, ANOMALY_SOURCE, FLOW_LOG_GROUP, type AdvancedLabEnv } from '../../labs/advanced/company.ts';
import { companyFlows } from '../../labs/advanced/baseline.ts';
import { randomRogueIp } from '../../labs/network/company.ts';
import { describeRefusals, emptyTally, refusedCount, type BusinessTally } from './network.ts';

export { emptyTally, type BusinessTally } from './network.ts';

export const MINUTE = 60_000;
/** An attack step: this much lab time per delivery of flow logs to the detector (one invocation per interface). */
export const STEP_MS = 5 * MINUTE;
/** Steps of each attack (20 minutes), after one step of normal traffic. */
export const ATTACK_STEPS = 4;

export const labEnv = (s: LabSession): AdvancedLabEnv => advancedEnv(s.env);

/** Labels of legitimate business flows (the sandbox is not the company's business; the scanner is judged apart). */
const BUSINESS = new Set(['web', 'web-app', 'app-db', 'backup', 'update', 'contractor-ssh']);

export function topology(s: LabSession): Promise<Topology> {
  return s.gateway.service('ec2').dataplane.topology(s.accountId, s.cloud.region);
}

/** Northwind's normal traffic over [from, to), from the grading's seed (in the order the lab asks for it). */
export async function normalFlows(s: LabSession, from: number, to: number): Promise<Flow[]> {
  const env = labEnv(s);
  return companyFlows(env, await topology(s), env.knownScanner.ip, from, to, s.random.seedFor('traffic'));
}

function tally(into: BusinessTally, flows: Flow[], verdicts: FlowVerdict[]): void {
  flows.forEach((f, i) => {
    const label = f.label ?? '';
    const scanner = label === 'known-scanner';
    if (!BUSINESS.has(label) && !scanner) return;
    // The scanner's probes of closed ports are refused by the security groups as provisioned: only a
    // refused probe of an open port (443 on web-1, 22 on the bastion) means the scanner was blocked.
    if (scanner && !(f.packets > 1)) return;
    into.sent[label] = (into.sent[label] ?? 0) + 1;
    if (verdicts[i]!.action !== 'ACCEPT') {
      into.refused[label] = (into.refused[label] ?? 0) + 1;
      if (into.examples.length < 3) into.examples.push(`${label} ${f.srcaddr} → ${f.dstaddr}:${f.dstport}: ${verdicts[i]!.reason}`);
    }
  });
}

/** Tiers left without a running instance in their security group (a responder that shut the shop). */
async function tallyTiers(s: LabSession, into: BusinessTally): Promise<void> {
  const p = advancedProfile(labEnv(s));
  const t = await topology(s);
  for (const tier of (['web', 'app', 'db'] as const).filter((x) => !selectInterfaces(t, p[x]!).length)) {
    const label = `${tier} tier`;
    into.sent[label] = (into.sent[label] ?? 0) + 1;
    into.refused[label] = (into.refused[label] ?? 0) + 1;
    if (into.examples.length < 3 && !into.examples.some((e) => e.startsWith(label))) into.examples.push(`${label}: no instance left running in its security group`);
  }
}

export { refusedCount, describeRefusals };

export interface AttackStepRecord {
  from: number;
  flows: Flow[];
  verdicts: FlowVerdict[];
}

export interface AttackState {
  start: number;
  steps: AttackStepRecord[];
  business: BusinessTally;
}

/**
 * One step: normal traffic plus the attacker's flows over [now, now + ms), judged as the network is
 * now; `calls` (API calls of the attacker) run before the clock moves.
 */
export async function step(s: LabSession, ms: number, attack: (from: number, to: number) => Flow[], business: BusinessTally, extra: Flow[] = []): Promise<AttackStepRecord> {
  const from = s.now();
  const to = from + ms;
  const normal = [...await normalFlows(s, from, to), ...extra];
  const flows = attack(from, to);
  const verdicts = await s.gateway.service('ec2').dataplane.send(s.accountId, s.cloud.region, [...normal, ...flows]);
  tally(business, normal, verdicts.slice(0, normal.length));
  await s.gateway.clock.advance(ms);
  await tallyTiers(s, business);
  return { from, flows, verdicts: verdicts.slice(normal.length) };
}

/** Normal traffic only, sent at once for the whole period, then the clock moved in one step. */
export async function quiet(s: LabSession, ms: number, business: BusinessTally = emptyTally()): Promise<void> {
  await step(s, ms, () => [], business);
}

/**
 * One step of normal traffic, then ATTACK_STEPS steps in which `attack(i, from, to)` flows go out with
 * the company's traffic and `calls(i)` (the attacker's API calls) are made at the start of the step;
 * `business(i, from)` adds legitimate flows of the step (judged with the company's traffic).
 */
export async function runAttack(
  s: LabSession, st: AttackState, what: string,
  attack: (i: number, from: number, to: number) => Flow[],
  calls?: (i: number) => Promise<AttackStep[]>,
  business?: (i: number, from: number) => Flow[],
): Promise<AttackStep[]> {
  // A seeded gap of 1–3 steps of normal traffic (sent in bulk: one delivery) before each attack, so
  // when an attack starts cannot be read off the published schedule by a detector that keeps time.
  await quiet(s, s.random.fork('advanced-attack-gap').int(1, 3) * STEP_MS, st.business);
  st.start = s.now();
  const out: AttackStep[] = [];
  for (let i = 0; i < ATTACK_STEPS; i++) {
    const made = calls ? await calls(i) : [];
    out.push(...made);
    const rec = await step(s, STEP_MS, (from, to) => attack(i, from, to), st.business, business?.(i, s.now()) ?? []);
    st.steps.push(rec);
    if (rec.flows.length) {
      const accepted = rec.verdicts.filter((v) => v.action === 'ACCEPT').length;
      const st2: AttackStep = { description: `minutes ${i * STEP_MS / MINUTE + 1}-${(i + 1) * STEP_MS / MINUTE}: ${rec.flows.length} ${what}, ${accepted} accepted`, allowed: accepted > 0, ...(accepted < rec.flows.length ? { errorCode: 'REJECT' } : {}), at: rec.from };
      s.onAttackStep?.(st2);
      out.push(st2);
    }
  }
  return out;
}

/** The step index from which every attack flow was refused, through the last step; undefined when the last step let something through. */
export function blockedFrom(steps: AttackStepRecord[], refused: (v: FlowVerdict, f: Flow) => boolean = (v) => v.action !== 'ACCEPT'): number | undefined {
  let from: number | undefined;
  for (let i = steps.length - 1; i >= 0; i--) {
    const m = steps[i]!;
    if (m.flows.length && m.verdicts.every((v, j) => refused(v, m.flows[j]!))) from = i;
    else break;
  }
  return from;
}

/** Judges flows against the network as it is now, without recording them anywhere. */
export async function probe(s: LabSession, flows: Flow[]): Promise<FlowVerdict[]> {
  const t = await topology(s);
  return flows.map((f) => judgeFlow(f, t));
}

/** A rogue address no other scenario of this run uses. */
export function freshRogueIp(s: LabSession): string {
  return randomRogueIp(Object.values(s.hidden).filter((v): v is string => typeof v === 'string'), s.random);
}

// ---- detection ----

export interface AnomalyEvent {
  at: number;
  host: string;
  score?: number;
  function: string;
}

/** The detector functions: Lambda functions subscribed to the flow-log group, with their execution role. */
export async function detectors(s: LabSession): Promise<{ functionName: string; roleName: string; filterName: string }[]> {
  const { subscription } = await s.gateway.service('logs').filters(s.accountId, s.cloud.region, FLOW_LOG_GROUP);
  const lambda = s.client(LambdaClient);
  const out: { functionName: string; roleName: string; filterName: string }[] = [];
  for (const f of subscription) {
    const arn = f.destinationArn ?? '';
    if (!arn.startsWith('arn:aws:lambda:')) continue;
    const cfg = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: arn })).catch(() => undefined);
    if (!cfg?.Role || !cfg.FunctionName) continue;
    out.push({ functionName: cfg.FunctionName, roleName: cfg.Role.split('/').pop()!, filterName: f.filterName });
  }
  return out;
}

/**
 * Anomaly events the detector put since `since` (and before `until`): CloudTrail's PutEvents records signed
 * by a detector function's execution role session, entries of env.anomalyEvents' source and detail type.
 */
export async function anomalyEvents(s: LabSession, since: number, until = Infinity): Promise<AnomalyEvent[]> {
  const dets = await detectors(s);
  if (!dets.length) return [];
  const events = s.events();
  // A session of the role named like the function that someone made with AssumeRole is not the function.
  const assumed = new Set(events.filter((e) => e.eventName === 'AssumeRole' && !e.errorCode).map((e) => `${String((e.requestParameters?.['roleArn'] as string | undefined)?.split('/').pop())}/${String(e.requestParameters?.['roleSessionName'])}`));
  const identities = new Map(dets.filter((d) => !assumed.has(`${d.roleName}/${d.functionName}`)).map((d) => [`arn:aws:sts::${s.accountId}:assumed-role/${d.roleName}/${d.functionName}`, d.functionName]));
  const from = Math.floor(since / 1000) * 1000;
  const out: AnomalyEvent[] = [];
  for (const e of events) {
    if (e.eventName !== 'PutEvents' || e.errorCode) continue;
    const at = Date.parse(e.eventTime);
    if (at < from || at >= until) continue;
    const fn = identities.get(e.userIdentity.arn ?? '');
    if (!fn || e.userIdentity.type !== 'AssumedRole') continue;
    const entries = (e.requestParameters?.['entries'] as { Source?: string; DetailType?: string; Detail?: string; EventBusName?: string }[] | undefined) ?? [];
    for (const entry of entries) {
      if (entry.Source !== ANOMALY_SOURCE || entry.DetailType !== ANOMALY_DETAIL_TYPE) continue;
      if (entry.EventBusName && !/(^|\/)default$/.test(entry.EventBusName)) continue;
      let detail: { host?: unknown; score?: unknown } = {};
      try {
        detail = JSON.parse(entry.Detail ?? '{}') as typeof detail;
      } catch {
        continue;
      }
      if (typeof detail.host !== 'string') continue;
      out.push({ at, host: detail.host, ...(typeof detail.score === 'number' ? { score: detail.score } : {}), function: fn });
    }
  }
  return out;
}

/** GuardDuty findings (the lab cloud's runtime) created or updated since `since`, not archived. */
export async function guardDutyFindings(s: LabSession, since: number, until = Infinity): Promise<Finding[]> {
  const gd = s.gateway.service('guardduty');
  await gd.settle();
  const from = Math.floor(since / 1000) * 1000;
  return gd.findings(s.accountId, s.cloud.region).filter((f) => {
    const at = Date.parse(f.updatedAt);
    return !f.service.archived && at >= from && at < until && !(f.service.additionalInfo.value.includes('"sample":true'));
  });
}

/** When a finding first showed the activity at or after `since`. */
function findingTime(f: Finding, since: number): number {
  const created = Date.parse(f.createdAt);
  return created >= Math.floor(since / 1000) * 1000 ? created : Date.parse(f.updatedAt);
}

/** The hosts the run's earlier attacks involved (their windows may still arrive in the next attack's first delivery). */
const attackHosts = new WeakMap<LabSession, Set<string>>();
function earlierAttackHosts(s: LabSession): Set<string> {
  let set = attackHosts.get(s);
  if (!set) attackHosts.set(s, (set = new Set()));
  return set;
}

/**
 * From the second delivery of an attack on, anomaly events about hosts it does not involve are false
 * alarms; in the first, those about hosts no earlier attack involved.
 */
export const FALSE_ALARM_AFTER_MS = STEP_MS + STEP_MS / 2;

export interface Expect {
  /** GuardDuty finding types that count, and whether a finding concerns the attack (its resource). */
  guardDuty: { types: string[]; about: (f: Finding) => boolean };
  /** Hosts (addresses) an anomaly event may name; undefined: the model is not expected to see it. */
  anomalyHosts?: string[];
}

export interface Detection {
  detected: boolean;
  by: string[];
  timeToDetectMs?: number;
  evidence: string[];
  feedback: string;
}

export async function detection(s: LabSession, start: number, x: Expect): Promise<Detection> {
  const findings = (await guardDutyFindings(s, start)).filter((f) => x.guardDuty.types.includes(f.type) && x.guardDuty.about(f));
  const hosts = new Set(x.anomalyHosts ?? []);
  const all = x.anomalyHosts ? await anomalyEvents(s, start) : [];
  // A detector that names every host (or a scripted list) "detects" every attack: the company's hosts
  // it names during the attack that the attack does not involve are false alarms, and one of them
  // voids the model's detection. The first delivery may still carry the previous attack's windows.
  const company = new Map(labEnv(s).instances.flatMap((i) => [[i.privateIp, i.name] as const, ...(i.publicIp ? [[i.publicIp, i.name] as const] : [])]));
  // Only hosts of earlier attacks are excused in the first delivery: a detector naming every host
  // there (where an attack's first windows arrive) would otherwise be credited with every attack.
  const earlier = earlierAttackHosts(s);
  const falseAlarms = [...new Set(all.filter((e) => company.has(e.host) && !hosts.has(e.host) && (e.at >= start + FALSE_ALARM_AFTER_MS || !earlier.has(e.host))).map((e) => company.get(e.host)!))];
  for (const h of hosts) earlier.add(h);
  const named = all.filter((e) => hosts.has(e.host));
  const anomalies = falseAlarms.length ? [] : named;
  const times = [...findings.map((f) => findingTime(f, start)), ...anomalies.map((a) => a.at)];
  const first = times.length ? Math.min(...times) : undefined;
  const by = [...new Set([...findings.map((f) => `GuardDuty ${f.type}`), ...(anomalies.length ? [`anomaly model (${anomalies[0]!.function})`] : [])])];
  const evidence = [
    ...findings.slice(0, 3).map((f) => `${f.createdAt} GuardDuty ${f.type} (severity ${f.severity}, count ${f.service.count}): ${f.title}`),
    ...anomalies.slice(0, 3).map((a) => `${new Date(a.at).toISOString()} anomaly event for ${a.host}${a.score !== undefined ? ` (score ${a.score})` : ''} by ${a.function}`),
  ];
  if (by.length) {
    return { detected: true, by, timeToDetectMs: Math.max(0, first! - start), evidence, feedback: `detected by ${by.join(' and ')} ${Math.round((first! - start) / 1000)} s after the attack began` };
  }
  const dets = await detectors(s);
  const gd = s.gateway.service('guardduty').detector(s.accountId, s.cloud.region);
  const why = [
    !gd ? 'GuardDuty is not enabled (no detector)' : gd.status !== 'ENABLED' ? 'the GuardDuty detector is disabled' : `GuardDuty reported no ${x.guardDuty.types.join(' / ')} finding about it (unarchived)`,
    ...(falseAlarms.length ? [`the detector's events during the attack also named ${falseAlarms.join(', ')}, which it does not involve: an alarm on hosts regardless of their traffic is no detection, so the model's events do not count`] : []),
    ...(x.anomalyHosts && !(falseAlarms.length && named.length) ? [!dets.length ? `no Lambda function is subscribed to ${FLOW_LOG_GROUP}, so no anomaly model saw the traffic` : `the detector (${dets.map((d) => d.functionName).join(', ')}) put no ${ANOMALY_DETAIL_TYPE} event naming ${[...hosts].slice(0, 3).join(', ')}${hosts.size > 3 ? ', …' : ''}`] : []),
  ];
  return { detected: false, by: [], evidence, feedback: `not detected: ${why.join('; ')}` };
}

// ---- response ----

/** API calls by which a responder blocks an address, isolates or stops an instance, revokes sessions or disables a key. */
const RESPONSES = new Set([
  'CreateNetworkAclEntry', 'ReplaceNetworkAclEntry', 'ReplaceNetworkAclAssociation', 'ModifyInstanceAttribute', 'ModifyNetworkInterfaceAttribute',
  'StopInstances', 'TerminateInstances', 'RevokeSecurityGroupEgress', 'RevokeSecurityGroupIngress',
  'UpdateAccessKey', 'DeleteAccessKey', 'PutRolePolicy', 'AttachRolePolicy', 'DisassociateIamInstanceProfile',
]);

/** The first responding call made (successfully, by anyone) since `since`. */
export function firstResponse(s: LabSession, since: number): { at: number; what: string } | undefined {
  const e = s.events().find((x) => RESPONSES.has(x.eventName) && !x.errorCode && Date.parse(x.eventTime) >= Math.floor(since / 1000) * 1000);
  if (!e) return undefined;
  const who = e.userIdentity.arn?.split(':').pop() ?? e.userIdentity.type;
  return { at: Date.parse(e.eventTime), what: `${e.eventName} by ${who}` };
}

/** What every scenario of the lab reports once it knows whether and from when the response took effect. */
export function judge(
  s: LabSession, st: AttackState, steps: AttackStep[], d: Detection,
  outcome: { blocked: boolean; effectiveAt?: number; blockedText: (by: string) => string; notBlockedText: string; extraBusiness?: string[] },
): ScenarioResult {
  const response = firstResponse(s, st.start);
  const respondedAt = outcome.blocked ? Math.min(outcome.effectiveAt ?? Infinity, response?.at ?? Infinity) : undefined;
  const broken = refusedCount(st.business) > 0 || (outcome.extraBusiness?.length ?? 0) > 0;
  if (broken) s.businessBroken = true;
  return {
    detected: d.detected,
    blocked: outcome.blocked,
    ...(d.timeToDetectMs !== undefined ? { timeToDetectMs: d.timeToDetectMs } : {}),
    ...(respondedAt !== undefined && Number.isFinite(respondedAt) ? { timeToRespondMs: Math.max(0, respondedAt - st.start) } : {}),
    steps,
    evidence: [...d.evidence, ...(response ? [`${new Date(response.at).toISOString()} ${response.what}`] : [])],
    feedback: [
      d.feedback,
      outcome.blocked ? outcome.blockedText(response ? ` (${response.what})` : '') : outcome.notBlockedText,
      ...(refusedCount(st.business) > 0 ? [`legitimate traffic was refused: ${describeRefusals(st.business)}`] : []),
      ...(outcome.extraBusiness ?? []),
      ...[...new Set(s.gateway.service('lambda').refusals.filter((r) => r.account === s.accountId && r.at >= st.start).map((r) => r.reason))].map((r) => `note: not invoked: ${r}`),
    ].join('; '),
  };
}

/** Healthy instances the response took out (isolated from their groups, stopped, terminated), by name. */
export async function healthyTakenOut(s: LabSession, except: string[] = []): Promise<string[]> {
  const env = labEnv(s);
  const t = await topology(s);
  const groupOf: Record<string, string> = { web: env.securityGroups.web, bastion: env.securityGroups.bastion, app: env.securityGroups.app, db: env.securityGroups.db };
  const out: string[] = [];
  for (const i of env.instances) {
    if (i.vpc !== 'sensitive' || except.includes(i.name)) continue;
    const iface = t.interfaces.find((x) => x.instanceId === i.id);
    if (!iface || !iface.active || !iface.securityGroupIds.includes(groupOf[i.tier]!)) out.push(i.name);
  }
  return out;
}

/** Is the known scanner still let in (its probe of web-1's HTTPS and the bastion's SSH accepted)? */
export async function scannerBlocked(s: LabSession): Promise<string | undefined> {
  const env = labEnv(s);
  const now = s.now();
  const web = env.instances.find((i) => i.name === 'web-1')!;
  const bastion = env.instances.find((i) => i.name === 'bastion')!;
  const v = await probe(s, [
    { srcaddr: env.knownScanner.ip, dstaddr: web.publicIp ?? web.privateIp, srcport: 40001, dstport: env.ports.web, protocol: 6, packets: 5, bytes: 400, start: now, end: now + 500 },
    { srcaddr: env.knownScanner.ip, dstaddr: bastion.publicIp ?? bastion.privateIp, srcport: 40002, dstport: env.ports.ssh, protocol: 6, packets: 5, bytes: 400, start: now, end: now + 500 },
  ]);
  const refused = v.find((x) => x.action !== 'ACCEPT');
  return refused ? `the contracted scanner ${env.knownScanner.ip} is blocked (${refused.reason})` : undefined;
}

/** How long after an attack on an instance is judged its replacement waits (normal traffic flows meanwhile). */
export const RESTORE_WAIT_MS = 20 * MINUTE;

/**
 * After an attack on an instance is judged: operations replace the compromised server with a clean one in
 * its place (here: the same instance, back in its tier's security group and running), so the next attack
 * meets a whole tier — two attacks isolate the two application servers in turn.
 */
export async function restoreInstance(s: LabSession, name: string): Promise<void> {
  // Findings and events about the attack still in flight (GuardDuty publishes updates of a finding at the
  // end of its 15-minute period) reach the responder first: then the server is replaced.
  await quiet(s, RESTORE_WAIT_MS);
  const env = labEnv(s);
  const i = env.instances.find((x) => x.name === name);
  if (!i) return;
  const group = ({ web: env.securityGroups.web, bastion: env.securityGroups.bastion, app: env.securityGroups.app, db: env.securityGroups.db } as Record<string, string>)[i.tier];
  const ec2 = s.client(EC2Client);
  const d = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [i.id] })).catch(() => undefined))?.Reservations?.[0]?.Instances?.[0];
  if (!d || d.State?.Name === 'terminated' || d.State?.Name === 'shutting-down') return;
  if (d.State?.Name === 'stopped' || d.State?.Name === 'stopping') await ec2.send(new StartInstancesCommand({ InstanceIds: [i.id] })).catch(() => undefined);
  const groups = (d.SecurityGroups ?? []).map((g) => g.GroupId);
  if (group && (groups.length !== 1 || groups[0] !== group)) await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: i.id, Groups: [group] }));
}
