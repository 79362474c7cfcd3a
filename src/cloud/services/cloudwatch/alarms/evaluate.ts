// CloudWatch metric alarm evaluation, driven by an explicit clock.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarm-evaluation
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
//
// At each evaluation CloudWatch retrieves more datapoints than EvaluationPeriods (N): the evaluation range
// (R periods, ending at the last full minute). Then:
//  - at least N datapoints exist in the range: the N most recent existing ones are evaluated, and
//    TreatMissingData plays no part;
//  - none exist: missing -> INSUFFICIENT_DATA, ignore -> state kept, breaching -> ALARM,
//    notBreaching -> OK;
//  - fewer than N exist: every existing one is evaluated, and for breaching/notBreaching the shortfall is
//    filled with breaching/non-breaching datapoints. For missing/ignore nothing is filled: the alarm goes
//    to ALARM with DatapointsToAlarm (M) breaching datapoints, to OK when a non-breaching datapoint is
//    there, and otherwise it cannot decide (INSUFFICIENT_DATA for missing, kept for ignore) - except that
//    a breaching datapoint at least M periods old with nothing non-breaching after it sends a "missing"
//    alarm to ALARM ("avoiding premature transitions").
// In every case the evaluated set is N datapoints; M or more breaching -> ALARM, else OK.
// This reproduces every row of the two tables in "Configuring how CloudWatch alarms treat missing data".
import { randomUUID } from 'node:crypto';
import { dbl, isoMillis, javaDouble, javaJson, plural, reasonDate, wasWere } from './format.ts';
import type { MetricStore } from './metric-store.ts';
import { parsePercentile, statisticValue } from './metric-store.ts';
import { alarmActions, alarmStateChangeEvent, stateUpdateHistoryItem } from './notifications.ts';
import type { AlarmAction, AlarmHistoryItem, AlarmTransition, MetricAlarm, StateValue, TreatMissingData } from './types.ts';
import { BAND_OPERATORS } from './types.ts';

export interface EvaluateOptions {
  /**
   * The evaluation range in periods, or a function of EvaluationPeriods. AWS does not document it
   * ("depends on the length of the alarm period and whether it is based on a metric with standard
   * resolution or high resolution"); its tables use 5 for N = 3, and an N = 1 alarm's reason data shows
   * 5 datapoints. Default: max(5, N + 2).
   */
  evaluationRange?: number | ((evaluationPeriods: number) => number);
  /** Anomaly-detection band per period start, for the band comparison operators. */
  band?: (periodStart: Date) => { lower: number; upper: number } | undefined;
  /** Id for the EventBridge event (default: a random UUID). */
  eventId?: string;
}

/** One period of the evaluation range, oldest first. */
export interface EvaluationSlot {
  start: Date;
  value?: number;
  sampleCount?: number;
  lower?: number;
  upper?: number;
  breaching?: boolean;
}

export type Outcome = StateValue | 'RETAIN' | 'UNSUPPORTED';

export interface AlarmEvaluation {
  /** The alarm after the evaluation (the same object when nothing changed). */
  alarm: MetricAlarm;
  changed: boolean;
  transition?: AlarmTransition;
  /** History items to record (the StateUpdate of a transition). */
  history: AlarmHistoryItem[];
  /** Actions to carry out for the new state (none when ActionsEnabled is false). */
  actions: AlarmAction[];
  /** The "CloudWatch Alarm State Change" event for the default event bus. */
  event?: ReturnType<typeof alarmStateChangeEvent>;
  /** What the evaluation saw and decided. */
  detail: {
    queryDate: Date;
    slots: EvaluationSlot[];
    outcome: Outcome;
    reason?: string;
    reasonData?: string;
    /** Why an alarm was not evaluated (UNSUPPORTED). */
    note?: string;
  };
}

// ---- the decision ----

export interface Decision {
  state: StateValue | 'RETAIN';
  /** Indices (into the oldest-first slots) of the real datapoints evaluated, newest first. */
  evaluated: number[];
  /** Missing datapoints filled in with the TreatMissingData setting. */
  fills: number;
  /** Indices of the slots the fills stand for, newest first. */
  fillSlots: number[];
  kind: 'enough' | 'all-missing' | 'filled' | 'partial' | 'premature' | 'undetermined';
}

/**
 * Decides the alarm state from the evaluation range: `breaching[i]` for each period, oldest first,
 * undefined when the period has no datapoint.
 */
export function decide(breaching: readonly (boolean | undefined)[], n: number, m: number, treat: TreatMissingData): Decision {
  const existing: number[] = [];
  const missing: number[] = [];
  for (let i = breaching.length - 1; i >= 0; i--) (breaching[i] === undefined ? missing : existing).push(i);
  if (existing.length >= n) {
    const evaluated = existing.slice(0, n);
    const b = evaluated.filter((i) => breaching[i]).length;
    return { state: b >= m ? 'ALARM' : 'OK', evaluated, fills: 0, fillSlots: [], kind: 'enough' };
  }
  if (existing.length === 0) {
    const fillSlots = missing.slice(0, n);
    switch (treat) {
      case 'breaching':
        return { state: 'ALARM', evaluated: [], fills: n, fillSlots, kind: 'all-missing' };
      case 'notBreaching':
        return { state: 'OK', evaluated: [], fills: n, fillSlots, kind: 'all-missing' };
      case 'ignore':
        return { state: 'RETAIN', evaluated: [], fills: 0, fillSlots: [], kind: 'all-missing' };
      default:
        return { state: 'INSUFFICIENT_DATA', evaluated: [], fills: 0, fillSlots: [], kind: 'all-missing' };
    }
  }
  const b = existing.filter((i) => breaching[i]).length;
  if (treat === 'breaching' || treat === 'notBreaching') {
    const fills = n - existing.length;
    const total = b + (treat === 'breaching' ? fills : 0);
    return { state: total >= m ? 'ALARM' : 'OK', evaluated: existing, fills, fillSlots: missing.slice(0, fills), kind: 'filled' };
  }
  if (b >= m) return { state: 'ALARM', evaluated: existing, fills: 0, fillSlots: [], kind: 'partial' };
  if (existing.some((i) => !breaching[i])) return { state: 'OK', evaluated: existing, fills: 0, fillSlots: [], kind: 'partial' };
  // only breaching datapoints, fewer than M of them
  const oldest = existing[existing.length - 1]!;
  const age = breaching.length - oldest; // the newest period has age 1
  if (treat === 'missing' && age >= m) return { state: 'ALARM', evaluated: existing, fills: 0, fillSlots: [], kind: 'premature' };
  return { state: treat === 'ignore' ? 'RETAIN' : 'INSUFFICIENT_DATA', evaluated: existing, fills: 0, fillSlots: [], kind: 'undetermined' };
}

// ---- comparison ----

const CONDITION: Record<string, string> = {
  GreaterThanOrEqualToThreshold: 'greater than or equal to',
  GreaterThanThreshold: 'greater than',
  LessThanThreshold: 'less than',
  LessThanOrEqualToThreshold: 'less than or equal to',
};

export function isBreaching(op: MetricAlarm['ComparisonOperator'], value: number, threshold: number, lower?: number, upper?: number): boolean {
  switch (op) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
    case 'LessThanLowerOrGreaterThanUpperThreshold':
      return value < lower! || value > upper!;
    case 'LessThanLowerThreshold':
      return value < lower!;
    case 'GreaterThanUpperThreshold':
      return value > upper!;
  }
}

const isBand = (op: string) => (BAND_OPERATORS as readonly string[]).includes(op);

// ---- evaluation ----

function periodMillis(alarm: MetricAlarm): number {
  return (alarm.Period ?? 60) * 1000;
}

/** The end of the evaluation range: the last full minute (the last full period for 10/30 s periods). */
export function evaluationEnd(alarm: MetricAlarm, now: Date): number {
  const step = (alarm.Period ?? 60) < 60 ? periodMillis(alarm) : 60_000;
  return Math.floor(now.getTime() / step) * step;
}

/**
 * When CloudWatch evaluates an alarm between two instants: every minute (every 10 s for high-resolution
 * periods), at from < t <= to. Use it to evaluate on each tick when the lab clock jumps.
 */
export function evaluationTimes(alarm: MetricAlarm, from: Date | number, to: Date | number): Date[] {
  const step = (alarm.Period ?? 60) < 60 ? 10_000 : 60_000;
  const a = typeof from === 'number' ? from : from.getTime();
  const b = typeof to === 'number' ? to : to.getTime();
  const out: Date[] = [];
  for (let t = Math.floor(a / step) * step + step; t <= b; t += step) out.push(new Date(t));
  return out;
}

function rangeSize(alarm: MetricAlarm, options: EvaluateOptions): number {
  const n = alarm.EvaluationPeriods;
  const r = options.evaluationRange;
  const size = r === undefined ? Math.max(5, n + 2) : typeof r === 'number' ? r : r(n);
  return Math.max(size, n);
}

function treatOf(alarm: MetricAlarm): TreatMissingData {
  // "Alarms that evaluate metrics in the AWS/DynamoDB namespace always ignore missing data"
  if (alarm.Namespace === 'AWS/DynamoDB') return 'ignore';
  return alarm.TreatMissingData ?? 'missing';
}

function unsupported(alarm: MetricAlarm, now: Date, note: string): AlarmEvaluation {
  return { alarm, changed: false, history: [], actions: [], detail: { queryDate: now, slots: [], outcome: 'UNSUPPORTED', note } };
}

/**
 * Evaluates a single-metric alarm at `now` against the metric store. Pure: the alarm passed in is not
 * modified; the result carries the updated alarm, the history item, the actions to carry out and the
 * EventBridge event when the state changes.
 */
export function evaluateAlarm(alarm: MetricAlarm, store: MetricStore, now: Date | number, options: EvaluateOptions = {}): AlarmEvaluation {
  const at = typeof now === 'number' ? new Date(now) : now;
  if (alarm.Metrics && alarm.Metrics.length > 0) return unsupported(alarm, at, 'metric math alarms are not evaluated');
  if (!alarm.MetricName || !alarm.Namespace || !alarm.Period) return unsupported(alarm, at, 'the alarm names no metric');
  const statistic = alarm.ExtendedStatistic ?? alarm.Statistic;
  if (!statistic) return unsupported(alarm, at, 'the alarm has no statistic');
  const band = isBand(alarm.ComparisonOperator);
  if (band && !options.band) return unsupported(alarm, at, 'band operators need an anomaly detection band');

  const p = periodMillis(alarm);
  const end = evaluationEnd(alarm, at);
  const r = rangeSize(alarm, options);
  const slots: EvaluationSlot[] = [];
  for (let i = r; i >= 1; i--) {
    const start = end - i * p;
    const slot: EvaluationSlot = { start: new Date(start) };
    const stats = store.getStatistics(alarm.Namespace, alarm.MetricName, alarm.Dimensions, start, start + p, alarm.Unit);
    const value = stats ? statisticValue(stats, statistic) : undefined;
    if (stats && value !== undefined) {
      const bounds = band ? options.band!(slot.start) : undefined;
      if (!band || bounds) {
        slot.value = value;
        slot.sampleCount = stats.SampleCount;
        if (bounds) {
          slot.lower = bounds.lower;
          slot.upper = bounds.upper;
        }
        slot.breaching = isBreaching(alarm.ComparisonOperator, value, alarm.Threshold ?? 0, bounds?.lower, bounds?.upper);
      }
    }
    slots.push(slot);
  }

  const n = alarm.EvaluationPeriods;
  const m = alarm.DatapointsToAlarm ?? n;
  const treat = treatOf(alarm);
  const decision = decide(
    slots.map((s) => s.breaching),
    n,
    m,
    treat,
  );

  if (decision.state !== 'RETAIN' && lowSampleCountIgnored(alarm, slots, decision)) {
    return { alarm, changed: false, history: [], actions: [], detail: { queryDate: at, slots, outcome: 'RETAIN', note: 'low sample count ignored' } };
  }
  if (decision.state === 'RETAIN') {
    return { alarm, changed: false, history: [], actions: [], detail: { queryDate: at, slots, outcome: 'RETAIN' } };
  }
  const reason = stateReason(alarm, slots, decision, treat);
  const reasonData = stateReasonData(alarm, slots, decision, at, statistic);
  const detail = { queryDate: at, slots, outcome: decision.state as Outcome, reason, reasonData };
  if (decision.state === alarm.StateValue) {
    return { alarm, changed: false, history: [], actions: [], detail };
  }
  return { ...applyState(alarm, decision.state, reason, reasonData, at, options), detail };
}


/** EvaluateLowSampleCountPercentile=ignore: "the alarm state does not change during periods with too few data points". */
function lowSampleCountIgnored(alarm: MetricAlarm, slots: EvaluationSlot[], decision: Decision): boolean {
  if (alarm.EvaluateLowSampleCountPercentile !== 'ignore' || !alarm.ExtendedStatistic) return false;
  const pct = parsePercentile(alarm.ExtendedStatistic);
  if (pct === undefined) return false;
  const f = pct / 100;
  const needed = f >= 0.5 ? 10 / (1 - f) : 10 / f;
  return decision.evaluated.some((i) => (slots[i]!.sampleCount ?? 0) < needed);
}

/**
 * Moves an alarm to a new state: the updated alarm, its StateUpdate history item, the actions for the new
 * state and the EventBridge event. Used by evaluation and by SetAlarmState.
 */
export function applyState(
  alarm: MetricAlarm,
  state: StateValue,
  reason: string,
  reasonData: string | undefined,
  now: Date,
  options: { eventId?: string } = {},
): Omit<AlarmEvaluation, 'detail'> {
  const transition: AlarmTransition = {
    alarmName: alarm.AlarmName,
    alarmArn: alarm.AlarmArn,
    oldState: { value: alarm.StateValue, reason: alarm.StateReason, reasonData: alarm.StateReasonData, timestamp: alarm.StateUpdatedTimestamp },
    newState: { value: state, reason, reasonData, timestamp: now },
  };
  const updated: MetricAlarm = {
    ...alarm,
    StateValue: state,
    StateReason: reason,
    StateReasonData: reasonData,
    StateUpdatedTimestamp: now,
    StateTransitionedTimestamp: now,
  };
  return {
    alarm: updated,
    changed: true,
    transition,
    history: [stateUpdateHistoryItem(transition)],
    actions: alarmActions(updated, transition),
    event: alarmStateChangeEvent(updated, transition, { id: options.eventId ?? randomUUID() }),
  };
}

// ---- reasons ----

const TREATED: Record<string, string> = { breaching: 'Breaching', notBreaching: 'NonBreaching' };

function datapointList(alarm: MetricAlarm, slots: EvaluationSlot[], indices: number[]): string {
  return `[${indices.map((i) => `${javaDouble(slots[i]!.value!)} (${reasonDate(slots[i]!.start)})`).join(', ')}]`;
}

function conditionText(alarm: MetricAlarm, slots: EvaluationSlot[], listed: number[], toAlarm: boolean): string {
  const not = toAlarm ? '' : 'not ';
  const op = alarm.ComparisonOperator;
  if (!isBand(op)) return `${not}${CONDITION[op]} the threshold (${javaDouble(alarm.Threshold ?? 0)})`;
  const lowers = `[${listed.map((i) => javaDouble(slots[i]!.lower!)).join(', ')}]`;
  const uppers = `[${listed.map((i) => javaDouble(slots[i]!.upper!)).join(', ')}]`;
  if (op === 'LessThanLowerThreshold') return `${not}less than the lower thresholds ${lowers}`;
  if (op === 'GreaterThanUpperThreshold') return `${not}greater than the upper thresholds ${uppers}`;
  return `${not}less than the lower thresholds ${lowers} or ${not}greater than the upper thresholds ${uppers}`;
}

/** The StateReason CloudWatch writes, e.g. "Threshold Crossed: 1 datapoint [5.0 (14/05/24 12:35:00)] was greater than the threshold (1.0)." */
export function stateReason(alarm: MetricAlarm, slots: EvaluationSlot[], d: Decision, treat: TreatMissingData): string {
  const n = alarm.EvaluationPeriods;
  if (d.state === 'INSUFFICIENT_DATA') {
    const unknown = slots.filter((s) => s.breaching === undefined).length;
    return `Insufficient Data: ${plural(unknown, 'datapoint')} ${wasWere(unknown)} unknown.`;
  }
  const toAlarm = d.state === 'ALARM';
  const prefix = isBand(alarm.ComparisonOperator) ? 'Thresholds Crossed: ' : 'Threshold Crossed: ';
  const treated = TREATED[treat] ?? treat;
  if (d.evaluated.length === 0) {
    return `${prefix}no datapoints were received for ${plural(n, 'period')} and ${plural(d.fills, 'missing datapoint')} ${wasWere(d.fills)} treated as [${treated}].`;
  }
  const listed = d.evaluated.filter((i) => slots[i]!.breaching === toAlarm);
  const fillsClause = d.fills > 0 ? ` and ${plural(d.fills, 'missing datapoint')} ${wasWere(d.fills)} treated as [${treated}]` : '';
  if (listed.length === 0) {
    const received = d.evaluated.length;
    return `${prefix}${plural(received, 'datapoint')} ${wasWere(received)} received for ${plural(n, 'period')}${fillsClause}.`;
  }
  const k = listed.length;
  const body = `${datapointList(alarm, slots, listed)} ${wasWere(k)} ${conditionText(alarm, slots, listed, toAlarm)}`;
  if (alarm.DatapointsToAlarm === undefined) {
    return `${prefix}${plural(k, 'datapoint')} ${body}${fillsClause}.`;
  }
  const m = alarm.DatapointsToAlarm;
  const minimum = toAlarm ? m : n - m + 1;
  const transition = toAlarm ? 'OK -> ALARM' : 'ALARM -> OK';
  return `${prefix}${k} out of the last ${n} datapoints ${body}${fillsClause} (minimum ${plural(minimum, 'datapoint')} for ${transition} transition).`;
}

/** The StateReasonData JSON: version, queryDate, startDate, [unit], statistic, period, recentDatapoints, threshold, evaluatedDatapoints. */
export function stateReasonData(alarm: MetricAlarm, slots: EvaluationSlot[], d: Decision, queryDate: Date, statistic: string): string {
  const band = isBand(alarm.ComparisonOperator);
  const evaluatedSlots = [...d.evaluated, ...d.fillSlots].sort((a, b) => a - b);
  const real = [...d.evaluated].sort((a, b) => a - b); // oldest first
  const data: Record<string, unknown> = { version: '1.0', queryDate: isoMillis(queryDate) };
  if (evaluatedSlots.length > 0) data.startDate = isoMillis(slots[evaluatedSlots[0]!]!.start);
  if (alarm.Unit) data.unit = alarm.Unit;
  if (alarm.ExtendedStatistic) data.extendedStatistic = statistic;
  else data.statistic = statistic;
  data.period = alarm.Period;
  data.recentDatapoints = real.map((i) => dbl(slots[i]!.value!));
  if (band) {
    data.recentLowerThresholds = real.map((i) => dbl(slots[i]!.lower!));
    data.recentUpperThresholds = real.map((i) => dbl(slots[i]!.upper!));
  } else {
    data.threshold = dbl(alarm.Threshold ?? 0);
  }
  data.evaluatedDatapoints = evaluatedDatapoints(alarm, slots, d);
  return javaJson(data);
}

/** The datapoints that decided the state, newest first (all of the range when data is insufficient). */
function evaluatedDatapoints(alarm: MetricAlarm, slots: EvaluationSlot[], d: Decision): unknown[] {
  const entry = (i: number) => {
    const s = slots[i]!;
    if (s.value === undefined) return { timestamp: isoMillis(s.start) };
    return { timestamp: isoMillis(s.start), sampleCount: dbl(s.sampleCount ?? 0), value: dbl(s.value) };
  };
  if (d.state === 'INSUFFICIENT_DATA') {
    const all: number[] = [];
    for (let i = slots.length - 1; i >= 0; i--) all.push(i);
    return all.map(entry);
  }
  const n = alarm.EvaluationPeriods;
  const m = alarm.DatapointsToAlarm ?? n;
  const toAlarm = d.state === 'ALARM';
  const minimum = toAlarm ? m : n - m + 1;
  const fillBreaching = alarm.TreatMissingData === 'breaching';
  const candidates = [...d.evaluated.map((i) => ({ i, breaching: slots[i]!.breaching! })), ...d.fillSlots.map((i) => ({ i, breaching: fillBreaching }))]
    .filter((c) => c.breaching === toAlarm)
    .sort((a, b) => b.i - a.i)
    .slice(0, minimum);
  return candidates.map((c) => entry(c.i));
}
