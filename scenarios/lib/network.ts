// Shared by the network scenarios (lab network): the company's traffic and an attack sent through the
// lab cloud's VPC data plane minute by minute on the lab clock, and the judgement of what the
// student's pipeline made of it (flow logs → metric filters → alarms → SNS → responder).
//
// Each simulated minute: the company's normal traffic of that minute plus the attacker's flows are
// judged against the security groups and network ACLs as they are now, then the clock moves one
// minute, which delivers flow-log records, applies metric filters, evaluates alarms and runs the
// Lambda functions they trigger. A responder's deny entry or isolation decides the next minute.
import type { LabSession } from '../../src/engine/session.ts';
import type { AttackStep, ScenarioResult } from '../../src/engine/types.ts';
import { judgeFlow, normalTraffic, selectInterfaces, type Flow, type FlowVerdict, type Topology } from '../../src/cloud/services/ec2/dataplane/index.ts';
import type { OutboxEntry } from '../../src/cloud/services/sns/outbox.ts';
import { profileOf, randomRogueIp, sideTraffic, type NetworkLabEnv } from '../../labs/network/company.ts';

export const MINUTE = 60_000;

export const labEnv = (s: LabSession): NetworkLabEnv => s.env as unknown as NetworkLabEnv;

/** Labels of the generator's flows that are legitimate business (the sandbox is not the company's business). */
const BUSINESS = new Set(['web', 'web-app', 'app-db', 'backup', 'update', 'contractor-ssh']);

export function topology(s: LabSession): Promise<Topology> {
  return s.gateway.service('ec2').dataplane.topology(s.accountId, s.cloud.region);
}

/** The company's normal traffic over [from, to): customers, tiers, backups, updates, contractors, the sandbox. */
export async function normalFlows(s: LabSession, from: number, to: number): Promise<Flow[]> {
  const env = labEnv(s);
  const t = await topology(s);
  // From the grading's seed, in the order the lab asks for traffic: not from the (wall-clock) time.
  const seed = s.random.seedFor('traffic');
  return [...normalTraffic(t, profileOf(env), { from, to, seed }), ...sideTraffic(env, from, to, seed)];
}

/** Tiers left without a running instance in their security group (a responder that shut the shop). */
export async function tiersGone(s: LabSession): Promise<string[]> {
  const p = profileOf(labEnv(s));
  const t = await topology(s);
  return (['web', 'app', 'db'] as const).filter((tier) => !selectInterfaces(t, p[tier]!).length);
}

export interface BusinessTally {
  /** Legitimate flows sent, and those refused, per label. */
  sent: Record<string, number>;
  refused: Record<string, number>;
  /** A few refused flows with the rule that refused them. */
  examples: string[];
}

export const emptyTally = (): BusinessTally => ({ sent: {}, refused: {}, examples: [] });

function tally(into: BusinessTally, flows: Flow[], verdicts: FlowVerdict[]): void {
  flows.forEach((f, i) => {
    const label = f.label ?? '';
    if (!BUSINESS.has(label)) return;
    into.sent[label] = (into.sent[label] ?? 0) + 1;
    if (verdicts[i]!.action !== 'ACCEPT') {
      into.refused[label] = (into.refused[label] ?? 0) + 1;
      if (into.examples.length < 3) into.examples.push(`${label} ${f.srcaddr} → ${f.dstaddr}:${f.dstport}: ${verdicts[i]!.reason}`);
    }
  });
}

export const refusedCount = (t: BusinessTally): number => Object.values(t.refused).reduce((a, b) => a + b, 0);

export function describeRefusals(t: BusinessTally): string {
  const parts = Object.entries(t.refused).map(([label, n]) => `${n} of ${t.sent[label]} ${label}`);
  return `${parts.join(', ')} refused${t.examples.length ? ` (e.g. ${t.examples[0]})` : ''}`;
}

/**
 * Normal traffic only, for `minutes`, sent at once and then the clock moved in one step: lets alarms
 * of an earlier attack return to OK before the next one starts.
 */
export async function quietPeriod(s: LabSession, minutes: number, business: BusinessTally = emptyTally()): Promise<void> {
  const from = s.now();
  const flows = await normalFlows(s, from, from + minutes * MINUTE);
  const verdicts = await s.gateway.service('ec2').dataplane.send(s.accountId, s.cloud.region, flows);
  tally(business, flows, verdicts);
  await s.gateway.clock.advance(minutes * MINUTE);
  await tallyTiers(s, business);
}

async function tallyTiers(s: LabSession, into: BusinessTally): Promise<void> {
  for (const tier of await tiersGone(s)) {
    const label = `${tier} tier`;
    into.sent[label] = (into.sent[label] ?? 0) + 1;
    into.refused[label] = (into.refused[label] ?? 0) + 1;
    if (into.examples.length < 3 && !into.examples.some((e) => e.startsWith(label))) into.examples.push(`${label}: no instance left running in its security group`);
  }
}

export interface AttackMinute {
  from: number;
  flows: Flow[];
  verdicts: FlowVerdict[];
}

/**
 * One simulated minute: normal traffic plus the attacker's flows for [now, now + 1 min), judged as
 * the network is now; then the clock advances a minute (deliveries, alarms, responders).
 */
export async function attackMinute(s: LabSession, attack: (from: number, to: number) => Flow[], business: BusinessTally): Promise<AttackMinute> {
  const from = s.now();
  const to = from + MINUTE;
  const normal = await normalFlows(s, from, to);
  const flows = attack(from, to);
  const verdicts = await s.gateway.service('ec2').dataplane.send(s.accountId, s.cloud.region, [...normal, ...flows]);
  tally(business, normal, verdicts.slice(0, normal.length));
  await s.gateway.clock.advance(MINUTE);
  await tallyTiers(s, business);
  return { from, flows, verdicts: verdicts.slice(normal.length) };
}

/** One attack step per minute for the grade: how many of the attacker's flows got through. */
export function minuteStep(s: LabSession, m: AttackMinute, index: number, what: string): AttackStep {
  const accepted = m.verdicts.filter((v) => v.action === 'ACCEPT').length;
  const refusedBy = [...new Set(m.verdicts.filter((v) => v.action !== 'ACCEPT').map((v) => ruleKind(v.reason)))];
  const step: AttackStep = {
    description: `minute ${index + 1}: ${m.flows.length} ${what}, ${accepted} accepted${refusedBy.length ? `, refused by ${refusedBy.join(' and ')}` : ''}`,
    allowed: accepted > 0,
    ...(accepted < m.flows.length ? { errorCode: 'REJECT' } : {}),
    at: m.from,
  };
  s.onAttackStep?.(step);
  return step;
}

function ruleKind(reason: string): string {
  if (/network ACL/.test(reason)) return 'a network ACL';
  if (/security group/.test(reason)) return 'a security group';
  if (/stopped|terminated|no longer exists|not attached/.test(reason)) return 'the instance being gone';
  return 'the network';
}

/** Judges flows against the network as it is now, without recording them anywhere (probes). */
export async function probe(s: LabSession, flows: Flow[]): Promise<FlowVerdict[]> {
  const t = await topology(s);
  return flows.map((f) => judgeFlow(f, t));
}

// ---- detection ----

export interface Detection {
  detected: boolean;
  /** Alarms that went to ALARM since the attack started, with when. */
  alarms: { name: string; at: number }[];
  email?: OutboxEntry;
  sms?: OutboxEntry;
  timeToDetectMs?: number;
  evidence: string[];
  feedback: string;
}

/** Why records may have come too late: flow logs of the sensitive VPC aggregating over 10 minutes. */
export async function lateRecords(s: LabSession): Promise<string | undefined> {
  const env = labEnv(s);
  const t = await topology(s);
  const slow = t.flowLogs.filter((f) => f.maxAggregationInterval !== 60 && (f.resourceId === env.vpcs.sensitive.id || [env.subnets.web.id, env.subnets.app.id, env.subnets.db.id].includes(f.resourceId)));
  return slow.length ? `${slow[0]!.id} aggregates over ${slow[0]!.maxAggregationInterval} s, so its records reach the logs up to 10 minutes late (MaxAggregationInterval 60)` : undefined;
}

/** Detected: an alarm went to ALARM after the attack started and the administrators got both an email and a text message. */
export async function detection(s: LabSession, attackStart: number): Promise<Detection> {
  const env = labEnv(s);
  const alarms = s.gateway.service('cloudwatch').alarms.history
    .filter((h) => h.account === s.accountId && h.HistoryItemType === 'StateUpdate' && h.Timestamp.getTime() >= attackStart)
    .filter((h) => (JSON.parse(h.HistoryData) as { newState?: { stateValue?: string } }).newState?.stateValue === 'ALARM')
    .map((h) => ({ name: h.AlarmName, at: h.Timestamp.getTime() }));
  const since = new Date(attackStart).toISOString();
  const inbox = s.gateway.service('sns').outbox.list(s.accountId, { since });
  const email = inbox.find((e) => (e.protocol === 'email' || e.protocol === 'email-json') && e.endpoint.toLowerCase() === env.admins.email.toLowerCase());
  const sms = inbox.find((e) => e.protocol === 'sms' && e.endpoint.replace(/[^\d+]/g, '') === env.admins.phone);
  const detected = alarms.length > 0 && !!email && !!sms;
  const evidence = [
    ...alarms.slice(0, 3).map((a) => `${new Date(a.at).toISOString()} alarm ${a.name} → ALARM`),
    ...(email ? [`${email.time} email to ${email.endpoint}: ${email.subject ?? email.message.slice(0, 80)}`] : []),
    ...(sms ? [`${sms.time} SMS to ${sms.endpoint}: ${sms.message.slice(0, 80)}`] : []),
  ];
  const late = alarms.length ? undefined : await lateRecords(s);
  const missing = [!alarms.length && `no alarm went to ALARM${late ? ` (${late})` : ''}`, !email && `no email reached ${env.admins.email}`, !sms && `no text message reached ${env.admins.phone}`].filter(Boolean);
  const ttd = detected ? Math.max(Date.parse(email!.time), Date.parse(sms!.time)) - attackStart : undefined;
  return {
    detected, alarms, ...(email ? { email } : {}), ...(sms ? { sms } : {}), ...(ttd !== undefined ? { timeToDetectMs: Math.max(0, ttd) } : {}), evidence,
    feedback: detected
      ? `detected: ${[...new Set(alarms.map((a) => a.name))].join(', ')} went to ALARM and the administrators were emailed and texted ${Math.round(ttd! / 1000)} s after the attack began`
      : `not detected: ${missing.join('; ')}`,
  };
}

// ---- response ----

/** API calls by which a responder blocks an address or isolates, stops or terminates an instance. */
const RESPONSES = new Set([
  'CreateNetworkAclEntry', 'ReplaceNetworkAclEntry', 'ReplaceNetworkAclAssociation', 'ModifyInstanceAttribute',
  'ModifyNetworkInterfaceAttribute', 'StopInstances', 'TerminateInstances', 'RevokeSecurityGroupEgress', 'RevokeSecurityGroupIngress',
]);

/** The first responding call made (successfully, by anyone) since the attack started. */
export function firstResponse(s: LabSession, since: number): { at: number; what: string } | undefined {
  const e = s.events().find((x) => RESPONSES.has(x.eventName) && !x.errorCode && Date.parse(x.eventTime) >= Math.floor(since / 1000) * 1000);
  if (!e) return undefined;
  const who = e.userIdentity.arn?.split(':').pop() ?? e.userIdentity.type;
  return { at: Date.parse(e.eventTime), what: `${e.eventName} by ${who}` };
}

/**
 * The minute index from which every attack flow was refused, through the last minute; undefined
 * when the last minute still let something through.
 */
export function blockedFrom(minutes: AttackMinute[], refused: (v: FlowVerdict, f: Flow) => boolean = (v) => v.action !== 'ACCEPT'): number | undefined {
  let from: number | undefined;
  for (let i = minutes.length - 1; i >= 0; i--) {
    const m = minutes[i]!;
    if (m.flows.length && m.verdicts.every((v, j) => refused(v, m.flows[j]!))) from = i;
    else break;
  }
  return from;
}

/** What every network scenario reports once it knows whether and from when the attack was blocked. */
export async function judgeAttack(
  s: LabSession,
  st: { start: number; minutes: AttackMinute[]; business: BusinessTally },
  steps: AttackStep[],
  d: Detection,
  outcome: { blockedFrom: number | undefined; blocked: boolean; blockedText: (response: string) => string; notBlockedText: string },
): Promise<ScenarioResult> {
  const response = firstResponse(s, st.start);
  const from = outcome.blockedFrom;
  const respondedAt = outcome.blocked && from !== undefined ? Math.min(st.minutes[from]!.from, response?.at ?? Infinity) : undefined;
  const broken = refusedCount(st.business) > 0;
  const late = !outcome.blocked && d.detected ? await lateRecords(s) : undefined;
  if (broken) s.businessBroken = true;
  return {
    detected: d.detected,
    blocked: outcome.blocked,
    ...(d.timeToDetectMs !== undefined ? { timeToDetectMs: d.timeToDetectMs } : {}),
    ...(respondedAt !== undefined ? { timeToRespondMs: Math.max(0, respondedAt - st.start) } : {}),
    steps,
    evidence: [...d.evidence, ...(response ? [`${new Date(response.at).toISOString()} ${response.what}`] : [])],
    feedback: [
      d.feedback,
      outcome.blocked ? outcome.blockedText(response ? ` (${response.what})` : '') : outcome.notBlockedText,
      ...(broken ? [`legitimate traffic was refused during the attack: ${describeRefusals(st.business)}`] : []),
      ...(late ? [`note: ${late}`] : []),
      // A trigger the function's resource policy refused is a common reason for no response.
      ...[...new Set(s.gateway.service('lambda').refusals.filter((r) => r.account === s.accountId && r.at >= st.start).map((r) => r.reason))].map((r) => `note: not invoked: ${r}`),
    ].join('; '),
  };
}

/** Every network attack: a quiet spell of normal traffic, then this many minutes of attack. */
export const QUIET_MINUTES = 6;
export const ATTACK_MINUTES = 6;

/** A rogue address no other scenario of this run uses. */
export function freshRogueIp(s: LabSession): string {
  return randomRogueIp(Object.values(s.hidden).filter((v): v is string => typeof v === 'string'), s.random);
}

/**
 * Runs the quiet spell, then ATTACK_MINUTES minutes in which `attack(minute, from, to)` flows go out
 * with the company's traffic; records them in `st` and returns one step per minute.
 */
export async function runAttack(
  s: LabSession,
  st: { start: number; minutes: AttackMinute[]; business: BusinessTally },
  what: string,
  attack: (minute: number, from: number, to: number) => Flow[],
): Promise<AttackStep[]> {
  await quietPeriod(s, QUIET_MINUTES, st.business);
  st.start = s.now();
  const steps: AttackStep[] = [];
  for (let i = 0; i < ATTACK_MINUTES; i++) {
    const m = await attackMinute(s, (from, to) => attack(i, from, to), st.business);
    st.minutes.push(m);
    steps.push(minuteStep(s, m, i, what));
  }
  return steps;
}
