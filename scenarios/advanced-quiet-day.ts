// Lab advanced: a whole day of Northwind's normal traffic before the attacks (customers, tiers, backups,
// updates, contractors, and the contracted scanner's daily scan), sent through the data plane in bulk and
// the clock moved a day in one step (one flow-log delivery to the detector per interface). Graded like
// a business check: the anomaly model and GuardDuty together may raise at most env.quietDay.budget
// alerts on it (anomaly events the detector put + unarchived GuardDuty findings), no healthy instance may
// be isolated or stopped, the known scanner must not be blocked and legitimate traffic must flow.
import type { Scenario } from '../src/engine/types.ts';
import { QUIET_BUDGET, QUIET_HOURS } from '../labs/advanced/company.ts';
import {
  anomalyEvents, describeRefusals, detectors, emptyTally, guardDutyFindings, healthyTakenOut, labEnv, quiet, refusedCount, scannerBlocked, type BusinessTally,
} from './lib/advanced.ts';

interface State { start: number; end: number; business: BusinessTally }

export const quietDayScenario: Scenario = {
  id: 'quiet-day',
  title: 'A quiet day: no alert storm, nobody healthy taken out',
  description: `${QUIET_HOURS} hours of Northwind's ordinary traffic and nothing else, including the contracted scanner's daily scan of web-1 and the bastion. Your anomaly model and GuardDuty may raise at most ${QUIET_BUDGET} alerts on it (anomaly events + unarchived findings); your responder must not isolate or stop a healthy instance or block the scanner.`,
  techniques: [],
  points: { blocked: 0, detected: 12 },
  tasks: { detected: 'model' },
  async prepare(session) {
    // From here on legitimate responses may have disabled what the business checks look at (dana's key).
    session.hidden['advancedAttacksBegan'] = true;
    return { start: 0, end: 0, business: emptyTally() } satisfies State;
  },
  async inject(session, state) {
    const st = state as State;
    st.start = session.now();
    await quiet(session, QUIET_HOURS * 3600_000, st.business);
    st.end = session.now();
    const step = { description: `${QUIET_HOURS} hours of normal traffic (customers, tiers, backups, updates, contractors, the scanner's daily scan)`, allowed: true, at: st.start };
    session.onAttackStep?.(step);
    return [step];
  },
  async observe(session, steps, state) {
    const st = state as State;
    const env = labEnv(session);
    const events = await anomalyEvents(session, st.start, st.end + 60_000);
    const findings = await guardDutyFindings(session, st.start, st.end + 60_000);
    const alerts = events.length + findings.length;
    const dets = await detectors(session);
    const gd = session.gateway.service('guardduty').detector(session.accountId, session.cloud.region);
    const invoked = session.gateway.service('lambda').invocations.filter((i) => i.account === session.accountId && i.at >= st.start && dets.some((d) => d.functionName === i.functionName)).length;
    const takenOut = await healthyTakenOut(session);
    const scanner = await scannerBlocked(session);
    const business = [
      ...(takenOut.length ? [`healthy instances were taken out during the quiet day: ${takenOut.join(', ')}`] : []),
      ...(scanner ? [scanner] : []),
      ...(refusedCount(st.business) > 0 ? [`legitimate traffic was refused: ${describeRefusals(st.business)}`] : []),
    ];
    if (business.length) session.businessBroken = true;
    const evidence = [
      ...events.slice(0, 4).map((e) => `${new Date(e.at).toISOString()} anomaly event for ${e.host}${e.score !== undefined ? ` (score ${e.score})` : ''}`),
      ...findings.slice(0, 4).map((f) => `${f.updatedAt} GuardDuty ${f.type}: ${f.title}`),
    ];
    const watched = [!dets.length && `no detector is subscribed to ${env.flowLogs.groupName}`, dets.length && !invoked && 'the detector was never invoked', !gd && 'GuardDuty is not enabled'].filter(Boolean);
    const counted = `${events.length} anomaly event${events.length === 1 ? '' : 's'} and ${findings.length} unarchived GuardDuty finding${findings.length === 1 ? '' : 's'} (budget ${env.quietDay.budget})`;
    const types = [...new Set(findings.map((f) => f.type))];
    const quietEnough = alerts <= env.quietDay.budget;
    const detected = quietEnough && watched.length === 0;
    const feedback = [
      watched.length ? `nothing watched the quiet day (${watched.join('; ')}): staying quiet earns nothing without a detector and GuardDuty` : quietEnough
        ? `quiet: ${counted} on a normal day`
        : `too noisy: ${counted} on a normal day${types.length ? ` (GuardDuty: ${types.join(', ')} — the scanner's findings need an ARCHIVE filter)` : ''}${events.length ? ` — set the model's threshold for 1 % false positives on the baseline, not lower` : ''}`,
      ...business,
    ].join('; ');
    return { detected, blocked: false, steps, evidence, feedback };
  },
};
