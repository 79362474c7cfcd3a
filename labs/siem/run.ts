// The student's SIEM as the grader runs it: the Siem class of src/controls/siem with <workspace>/siem/siem.yml,
// reading the lab account through the gateway with the SIEM integration user's key, polled every few simulated
// minutes while the company's background activity (and the scenario's attack) goes on. Then the judgement: an
// alert on the attacker's events, with the right ATT&CK technique or tactic, within the deadline, and its
// notification delivered to the administrators by email and by SMS.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { LabSession } from '../../src/engine/session.ts';
import type { AttackStep, ScenarioResult } from '../../src/engine/types.ts';
import { Siem, SiemEngine, loadSiemConfig, SiemConfigError, type Alert, type SiemAlert, type SiemEvent } from '../../src/controls/siem/index.ts';
import type { Flow } from '../../src/cloud/services/ec2/dataplane/index.ts';
import type { OutboxEntry } from '../../src/cloud/services/sns/outbox.ts';
import { adminConsoleSignIn, apiRound, appLogs, emptyTally, keyOf, labEnv, MINUTE, normalFlows, type BackgroundTally } from './background.ts';
import { SIEM_USER } from './company.ts';

export const CONFIG_LABEL = 'siem/siem.yml';

export interface Poll {
  /** Lab-clock time of the poll. */
  at: number;
  alerts: SiemAlert[];
}

export interface SiemRun {
  siem?: Siem;
  /** Why the SIEM could not run (its configuration, its credentials). */
  error?: string;
  /** Events the SIEM read, per source type, since the last `mark()`. */
  read: Record<SiemEvent['source'], number>;
  /** Every event the SIEM read since the last `mark()` (attack detection looks at what it read). */
  events: SiemEvent[];
  polls: Poll[];
  /** The first poll, after five minutes of background activity (and the student's own set-up calls). */
  warmup?: Poll;
  /** The events the SIEM read in that first poll. */
  warmupEvents: SiemEvent[];
  background: BackgroundTally;
}

const runs = new WeakMap<LabSession, Promise<SiemRun>>();

// ---- one timeline at a time ----
// The lab clock is shared by every grading in the process. A scenario's attack must not be stretched by another
// grading moving the clock between its calls (a burst of ten refusals in one minute would become ten refusals in an
// hour), so the time-sensitive parts of lab siem — the warm-up, and each scenario from its first attack call to its
// judgement — run one at a time. A holder that never releases (a crash between inject and observe) is let go after
// a minute of real time.
let timeline: Promise<void> = Promise.resolve();
const holders = new WeakMap<LabSession, () => void>();

async function acquire(): Promise<() => void> {
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const before = timeline;
  timeline = before.then(() => mine);
  await before;
  const timer = setTimeout(() => release(), 60_000);
  timer.unref();
  return () => {
    clearTimeout(timer);
    release();
  };
}

/** Takes the timeline for a scenario of this session (call at the start of inject). */
export async function beginAttack(s: LabSession): Promise<void> {
  holders.get(s)?.();
  holders.set(s, await acquire());
}

/** Gives the timeline back (call when the scenario's judgement is done, or when inject fails). */
export function endAttack(s: LabSession): void {
  holders.get(s)?.();
  holders.delete(s);
}

/** Where the workspace's SIEM configuration is. */
export function configFile(s: LabSession): string | undefined {
  return s.workspace ? path.join(s.workspace, 'siem', 'siem.yml') : undefined;
}

/**
 * The session's SIEM, created once from the workspace's siem.yml and warmed up: five minutes of background
 * activity, delivered and read, so that every source has something to show.
 */
export function siemRun(s: LabSession): Promise<SiemRun> {
  let r = runs.get(s);
  if (!r) {
    r = start(s);
    runs.set(s, r);
  }
  return r;
}

async function start(s: LabSession): Promise<SiemRun> {
  const run: SiemRun = { read: { cloudtrail: 0, vpcflow: 0, logs: 0 }, events: [], polls: [], background: emptyTally(), warmupEvents: [] };
  const file = configFile(s);
  if (!file) {
    run.error = 'no workspace to read siem/siem.yml from';
    return run;
  }
  if (!existsSync(file)) {
    run.error = `${CONFIG_LABEL} does not exist: create it (the starter has one) with your sources, rules and channels`;
    return run;
  }
  const key = keyOf(s, SIEM_USER);
  if (!key) {
    run.error = `the SIEM's integration user ${SIEM_USER} has no active access key: the grader runs your SIEM with it, leave it in place`;
    return run;
  }
  try {
    run.siem = new Siem(loadSiemConfig(file, CONFIG_LABEL), {
      endpoint: s.cloud.url, credentials: key, region: s.cloud.region, accountId: s.accountId, name: 'Northwind SIEM (lab siem)',
      onEvents: (events) => {
        for (const e of events) {
          run.read[e.source]++;
          run.events.push(e);
        }
      },
    });
  } catch (e) {
    run.error = e instanceof SiemConfigError ? e.message : `${CONFIG_LABEL}: ${(e as Error).message}`;
    return run;
  }
  try {
    // Holding the lab clock, from a whole hour: what the warm-up delivers (capture windows, trail files)
    // must not depend on the wall-clock moment it ran at, nor on other gradings.
    run.warmup = await s.gateway.clock.exclusive(async () => {
      const release = await acquire();
      try {
        await s.alignClock();
        return await simulate(s, run, 5);
      } finally {
        release();
      }
    });
    run.warmupEvents = run.events;
  } catch (e) {
    run.error = `the SIEM's first poll failed: ${(e as Error).message}`;
    run.siem = undefined;
  }
  return run;
}

/** Forgets what the SIEM read so far (a scenario judges only what it read during the scenario). */
function mark(run: SiemRun): void {
  run.read = { cloudtrail: 0, vpcflow: 0, logs: 0 };
  run.events = [];
  run.polls = [];
}

export interface SimulateOptions {
  /** The attacker's flows for [from, to). */
  flows?: (from: number, to: number) => Flow[];
  /** The administrator signs in to the console at the start. */
  consoleSignIn?: boolean;
}

/**
 * `minutes` of the company's life: API calls, log lines and traffic for [now, now + minutes), then the lab clock
 * moves on (CloudTrail and flow-log delivery) and the SIEM polls. Returns the poll.
 */
export async function simulate(s: LabSession, run: SiemRun, minutes: number, opts: SimulateOptions = {}): Promise<Poll> {
  const from = s.now();
  const to = from + minutes * MINUTE;
  if (opts.consoleSignIn) adminConsoleSignIn(s);
  for (let i = 0; i < Math.max(1, Math.round(minutes / 5)); i++) await apiRound(s, run.background);
  await appLogs(s, from, to);
  const flows = [...(await normalFlows(s, from, to)), ...(opts.flows?.(from, to) ?? [])];
  await s.gateway.service('ec2').dataplane.send(s.accountId, s.cloud.region, flows);
  // By the step's length, not to `to`: other gradings may move the shared lab clock meanwhile.
  await s.gateway.clock.advance(minutes * MINUTE);
  const alerts = run.siem ? await run.siem.poll() : [];
  const poll = { at: s.now(), alerts };
  run.polls.push(poll);
  return poll;
}

// ---- what the rules raise, whatever siem.yml sets for deduplication and throttling ----

/** The grader's own deduplication: the SIEM's defaults (15 minutes per rule, identity and address or flow ends). */
export const STANDARD_DEDUP_MS = 15 * MINUTE;

/**
 * The alerts the student's rules raise on these events with the SIEM's default deduplication and no
 * throttle: what the grader judges noise and coverage on, so that neither an aggressive `dedupWindow`
 * nor a `throttle` in siem.yml can hide what a rule matches. The rules' own levels (and siem.yml's
 * `minLevel`, which turns rules off rather than merging their alerts) still apply.
 */
export function standardAlerts(run: SiemRun, events: readonly SiemEvent[]): Alert[] {
  if (!run.siem) return [];
  const engine = new SiemEngine(run.siem.ruleSet, {
    ...(run.siem.config.alerting.minLevel ? { minLevel: run.siem.config.alerting.minLevel } : {}),
    dedupWindowMs: STANDARD_DEDUP_MS,
    throttle: { maxAlerts: Number.MAX_SAFE_INTEGER, windowMs: 3_600_000 },
    maxEventsPerAlert: 1000,
  });
  return engine.run(events);
}

// ---- judging a scenario ----

export interface Expectation {
  /** What the attack is, for feedback ("a burst of refused calls"). */
  what: string;
  /** ATT&CK technique ids (a sub-technique's parent matches too) and tactic slugs that count. */
  techniques: string[];
  tactics: string[];
  /** The attacker's events (by their address, mostly). */
  isAttack(e: SiemEvent): boolean;
  deadlineMs: number;
  /** What to check when nothing was detected. */
  hint: string;
  /**
   * Parts of the attack that must each raise an alert of the right tactic or technique (judged with the
   * grader's standard deduplication, see standardAlerts): e.g. the same exfiltration over several ports
   * and protocols. Without parts, one alert on the attack is enough.
   */
  parts?: { what: string; isPart(e: SiemEvent): boolean }[];
}

/** The parts of the attack no alert of the right tactic or technique covers (standard deduplication). */
export function uncoveredParts(run: SiemRun, exp: Pick<Expectation, 'parts' | 'techniques' | 'tactics'>): { what: string; seen: boolean }[] {
  if (!exp.parts?.length) return [];
  const alerts = standardAlerts(run, run.events).filter((a) => attackMatches(a, exp));
  return exp.parts
    .filter((p) => !alerts.some((a) => a.events.some((e) => p.isPart(e))))
    .map((p) => ({ what: p.what, seen: run.events.some((e) => p.isPart(e)) }));
}

const techniqueMatches = (have: readonly string[], want: readonly string[]) =>
  have.some((h) => want.some((w) => h.toUpperCase() === w.toUpperCase() || h.toUpperCase().startsWith(`${w.toUpperCase()}.`) || w.toUpperCase().startsWith(`${h.toUpperCase()}.`)));

export function attackMatches(a: Alert, exp: Pick<Expectation, 'techniques' | 'tactics'>): boolean {
  return techniqueMatches(a.attack.techniques, exp.techniques) || a.attack.tactics.some((t) => exp.tactics.includes(t));
}

const fmt = (ms: number) => `${Math.round(ms / 60_000)} min`;
const tagsOf = (a: SiemAlert) => [...a.attack.tactics, ...a.attack.techniques].join(', ') || 'no ATT&CK tags';

export interface Detection {
  alert: SiemAlert;
  /** Simulated time of the scenario (its own steps) at the poll that first showed the alert on the attack. */
  at: number;
  /** Delivered to the administrators by email and SMS. */
  notified?: boolean;
}

/** Alerts on the attacker's events, with the scenario time of the poll at which each first showed one. */
export function alertsOnAttack(run: SiemRun, exp: Pick<Expectation, 'isAttack'>, elapsed: number, seen = new Map<string, Detection>()): Map<string, Detection> {
  if (!run.siem) return seen;
  for (const a of run.siem.alerts()) {
    if (seen.has(a.id) || !a.events.some((e) => exp.isAttack(e))) continue;
    seen.set(a.id, { alert: a, at: elapsed });
  }
  return seen;
}

/** The email and SMS deliveries to the administrators since `since` (lab time) that carry an alert. */
export function notificationsOf(s: LabSession, a: SiemAlert, since: number): { email?: OutboxEntry; sms?: OutboxEntry } {
  const env = labEnv(s);
  const carries = (d: OutboxEntry) => d.message.includes(a.id) || d.message.includes(a.rule.title);
  const list = s.gateway.service('sns').outbox.list(s.accountId, { since: new Date(since).toISOString() }).filter(carries);
  return {
    email: list.find((d) => (d.protocol === 'email' || d.protocol === 'email-json') && d.endpoint.toLowerCase() === env.admins.email),
    sms: list.find((d) => d.protocol === 'sms' && d.endpoint.replace(/[^\d+]/g, '') === env.admins.phone),
  };
}

export interface ScenarioRunOptions extends SimulateOptions {
  /** Simulated minutes per poll. */
  stepMinutes?: number;
}

/**
 * Runs the attack's `inject` with the timeline held (released by observeAttack, or here when it fails).
 */
export async function injecting<T>(s: LabSession, st: { start: number }, fn: (run: SiemRun) => Promise<T>): Promise<T> {
  const run = await siemRun(s); // the warm-up takes the timeline itself: before ours
  await beginAttack(s);
  try {
    // What the SIEM reads and raises from here on is the attack's.
    mark(run);
    st.start = s.now();
    return await fn(run);
  } catch (e) {
    endAttack(s);
    throw e;
  }
}

/**
 * Runs the background (and the attacker's flows) in steps until the attack is detected and notified on both
 * channels, or the deadline passes; then judges. Times are counted in the scenario's own simulated steps, so that
 * other gradings moving the shared lab clock at the same time change nothing.
 */
export async function observeAttack(s: LabSession, run: SiemRun, start: number, steps: AttackStep[], exp: Expectation, opts: ScenarioRunOptions = {}): Promise<ScenarioResult> {
  try {
    return await observeSteps(s, run, start, steps, exp, opts);
  } finally {
    endAttack(s);
  }
}

async function observeSteps(s: LabSession, run: SiemRun, start: number, steps: AttackStep[], exp: Expectation, opts: ScenarioRunOptions): Promise<ScenarioResult> {
  const step = (opts.stepMinutes ?? 5) * MINUTE;
  const found = new Map<string, Detection>();
  let notifiedAt: number | undefined;
  let coveredAt: number | undefined;
  let elapsed = 0;
  while (elapsed < exp.deadlineMs && (notifiedAt === undefined || coveredAt === undefined)) {
    await simulate(s, run, step / MINUTE, { ...opts, consoleSignIn: elapsed === 0 && opts.consoleSignIn });
    elapsed += step;
    alertsOnAttack(run, exp, elapsed, found);
    for (const d of found.values()) {
      if (notifiedAt !== undefined || !attackMatches(d.alert, exp)) continue;
      const n = notificationsOf(s, d.alert, start);
      if (n.email && n.sms) {
        notifiedAt = elapsed;
        d.notified = true;
      }
    }
    if (coveredAt === undefined && !uncoveredParts(run, exp).length) coveredAt = elapsed;
  }
  return judge(s, run, start, steps, exp, found, notifiedAt, coveredAt);
}

export function judge(s: LabSession, run: SiemRun, start: number, steps: AttackStep[], exp: Expectation, found: Map<string, Detection>, notifiedAt?: number, coveredAt?: number): ScenarioResult {
  const env = labEnv(s);
  const base = { blocked: false, steps };
  if (!run.siem) return { ...base, detected: false, evidence: [], feedback: `your SIEM did not run: ${run.error}` };
  const all = [...found.values()];
  const inTime = all.filter((d) => d.at <= exp.deadlineMs);
  const tagged = inTime.filter((d) => attackMatches(d.alert, exp));
  const evidence = all.slice(0, 5).map((d) => `+${fmt(d.at)} ${d.alert.severity} "${d.alert.rule.title}" (${tagsOf(d.alert)}), ${d.alert.hits} hit(s), rule by ${d.alert.rule.author ?? 'unknown'}`);
  const attackRead = run.events.filter((e) => exp.isAttack(e)).length;
  const wanted = `${exp.tactics.join(' or ')} (${exp.techniques.join(', ')})`;
  if (!tagged.length) {
    let feedback: string;
    if (inTime.length) {
      feedback = `${exp.what}: your SIEM raised "${inTime[0]!.alert.rule.title}" on it, but that rule is not tagged with the ATT&CK tactic or technique of the attack — ${wanted}; add the tags (e.g. attack.${exp.tactics[0]}, attack.${exp.techniques[0]!.toLowerCase()}) to the rule`;
    } else {
      const sources = run.siem.sources().map((x) => `${x.name}: ${x.error ? `error: ${x.error}` : `${x.events} events`}`).join('; ');
      feedback = `${exp.what}: no alert on the attacker's activity within ${fmt(exp.deadlineMs)}; your SIEM read ${attackRead} of the attacker's events (sources — ${sources || 'none'}). ${exp.hint}`;
    }
    return { ...base, detected: false, evidence, feedback };
  }
  const d = tagged.find((x) => x.notified) ?? tagged[0]!;
  const uncovered = exp.parts?.length && coveredAt === undefined ? uncoveredParts(run, exp) : [];
  if (uncovered.length) {
    const covered = exp.parts!.filter((p) => !uncovered.some((u) => u.what === p.what)).map((p) => p.what);
    const unseen = uncovered.filter((u) => !u.seen).map((u) => u.what);
    return {
      ...base, detected: false, evidence,
      feedback: `${exp.what}: your rules raised "${d.alert.rule.title}" on ${covered.length ? covered.join(', ') : 'part of it'}, but no alert tagged ${wanted} on ${uncovered.map((u) => u.what).join(', ')}${unseen.length ? ` (your SIEM did not even read ${unseen.join(', ')})` : ''} — the same attack by another port or protocol must be caught too: judge volume, not the port (judged with the SIEM's default deduplication, whatever siem.yml sets)`,
    };
  }
  if (notifiedAt === undefined) {
    const n = notificationsOf(s, d.alert, start);
    const missing = [!n.email && `email to ${env.admins.email}`, !n.sms && `SMS to ${env.admins.phone}`].filter(Boolean);
    const errors = run.siem.channels().map((c) => c.lastError && `${c.name}: ${c.lastError}`).filter(Boolean);
    const channels = run.siem.channels().length ? '' : ' (siem.yml has no channel)';
    return {
      ...base, detected: false, timeToDetectMs: d.at, evidence,
      feedback: `${exp.what}: detected in ${fmt(d.at)} by "${d.alert.rule.title}" (${tagsOf(d.alert)}), but no ${missing.join(' and no ')} carried the alert within ${fmt(exp.deadlineMs)}${channels}${errors.length ? `; channel errors: ${errors.join('; ')}` : ''} — the administrators must be told on both channels`,
    };
  }
  return {
    ...base, detected: true, timeToDetectMs: Math.max(d.at, coveredAt ?? 0), timeToRespondMs: Math.max(notifiedAt, coveredAt ?? 0), evidence,
    feedback: `${exp.what}: detected in ${fmt(d.at)} by "${d.alert.rule.title}" (rule by ${d.alert.rule.author ?? 'unknown'}; ${tagsOf(d.alert)}); the administrators were told by email and SMS`,
  };
}
