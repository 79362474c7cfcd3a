// Lab siem: half an hour of Northwind's normal work and nothing else, spread over people, addresses and sign-ins
// (the office, the administrator at home, the developer at a hotel, the orders app). The SIEM must read it (CloudTrail
// and flow logs) and stay quiet: alerts on the company's ordinary activity beyond a small budget cost the points.
// Noise is counted on what the rules raise with the SIEM's default deduplication and no throttle (standardAlerts),
// whatever siem.yml's alerting section sets: a long dedupWindow or a throttle cannot hide an over-broad rule.
import type { AttackStep, Scenario, ScenarioResult } from '../src/engine/types.ts';
import type { LabSession } from '../src/engine/session.ts';
import { endAttack, injecting, siemRun, simulate, standardAlerts, type SiemRun } from '../labs/siem/run.ts';
import { awayRound } from '../labs/siem/background.ts';
import type { Alert } from '../src/controls/siem/index.ts';

/** Alerts on benign activity the SIEM may raise in the quiet half hour. */
export const FALSE_POSITIVE_BUDGET = 2;
const DAY_MINUTES = 30;

export const quietDay: Scenario = {
  id: 'quiet-day',
  title: 'A normal half hour of work: no alert storm (false-positive budget)',
  description: `Thirty minutes of the company's ordinary activity: people and the orders app calling AWS from their usual addresses (including a developer's occasional AccessDenied), some of them working from home or a hotel, the administrator's console sign-ins with MFA from the office and from home, application and bastion logs, customers, tiers, backups and updates on the network. Your rules may raise at most ${FALSE_POSITIVE_BUDGET} alerts on it, counted with the SIEM's default deduplication whatever siem.yml sets.`,
  techniques: [],
  points: { blocked: 0, detected: 10 },
  async inject(session) {
    return injecting(session, { start: 0 }, (run) => day(session, run));
  },
  async observe(session, steps) {
    try {
      return await judgeDay(session, steps);
    } finally {
      endAttack(session);
    }
  },
};

async function day(session: LabSession, run: SiemRun): Promise<AttackStep[]> {
  const start = session.now();
  const calls = run.background.calls;
  for (let i = 0; i < DAY_MINUTES / 10; i++) {
    await awayRound(session, i, run.background);
    await simulate(session, run, 10, { consoleSignIn: i === 0 });
  }
  const step = { description: `${DAY_MINUTES} minutes of normal activity (${run.background.calls - calls} API calls by four identities from seven addresses, the administrator's console sign-ins, logs and traffic)`, allowed: true, at: start };
  session.onAttackStep?.(step);
  return [step];
}

async function judgeDay(session: LabSession, steps: AttackStep[]): Promise<ScenarioResult> {
  const run = await siemRun(session);
  if (!run.siem) return { detected: false, blocked: false, steps, evidence: [], feedback: `your SIEM did not run: ${run.error}` };
  // Alerts on normal work: those of the half hour and of the SIEM's first poll (five minutes of normal work too),
  // but not those on the student's own set-up, which apply() did as the account's root.
  const setup = (a: Alert) => a.events.length > 0 && a.events.every((e) => (e.fields['userIdentity'] as { type?: string } | undefined)?.type === 'Root');
  const sent = [...(run.warmup?.alerts ?? []), ...run.polls.flatMap((p) => p.alerts)].filter((a) => !setup(a));
  // What the rules raise on the SIEM's first poll and the half hour with the default deduplication and no throttle,
  // whatever siem.yml's alerting section sets.
  const raised = standardAlerts(run, [...run.warmupEvents, ...run.events]).filter((a) => !setup(a));
  const how = raised.length > sent.length
    ? ` (counted with the SIEM's default deduplication — 15 minutes per rule and identity/address or flow — and no throttle; your siem.yml's alerting settings let only ${sent.length} through, which hides the rule, not the noise)`
    : '';
  const evidence = raised.slice(0, 8).map((a) => `${a.severity} "${a.rule.title}" on ${a.events[0]?.summary ?? '?'}`);
  const missing = [run.read.cloudtrail === 0 && 'CloudTrail events', run.read.vpcflow === 0 && 'VPC flow-log records'].filter(Boolean);
  if (missing.length) {
    return { detected: false, blocked: false, steps, evidence, feedback: `your SIEM read no ${missing.join(' and no ')} during the half hour: a SIEM that reads nothing raises no false alarm but sees nothing either — connect the sources in siem/siem.yml` };
  }
  const titles = [...new Set(raised.map((a) => a.rule.title))];
  const read = `read ${run.read.cloudtrail} CloudTrail events, ${run.read.vpcflow} flow-log records and ${run.read.logs} log lines in ${DAY_MINUTES} minutes`;
  if (raised.length > FALSE_POSITIVE_BUDGET) {
    return {
      detected: false, blocked: false, steps, evidence,
      feedback: `your SIEM ${read} and raised ${raised.length} alerts on normal work (budget ${FALSE_POSITIVE_BUDGET})${how}, from: ${titles.slice(0, 5).map((t) => `"${t}"`).join(', ')}${titles.length > 5 ? ', …' : ''} — make those rules specific to what attackers do (or thresholds above normal), or turn them off`,
    };
  }
  return { detected: true, blocked: false, steps, evidence, feedback: `your SIEM ${read} and raised ${raised.length} alert${raised.length === 1 ? '' : 's'} on normal work (budget ${FALSE_POSITIVE_BUDGET})${titles.length ? `: ${titles.join(', ')}` : ''}` };
}
