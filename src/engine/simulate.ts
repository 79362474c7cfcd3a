// `seclab simulate`: the company of a lab on an ordinary day. Provisions the lab in a fresh account,
// runs the student's code, then plays N minutes of the company's normal activity (no attacks) on the
// lab clock (the lab's `normalActivity`), and reads what the student's controls saw: every CloudWatch
// metric of the account per minute, each alarm's statistic per period and its state changes, and the
// SIEM rules that matched (reported by the lab). Deterministic for a seed, like grading.
import type { LabCloud } from '../cloud/labcloud.ts';
import type { MetricAlarm } from '../cloud/services/cloudwatch/alarms/types.ts';
import { provisionLab, runStudentSteps } from './grader.ts';
import { enterRandom, newSeed } from './random.ts';
import type { ActivityReport, Lab, StudentRun } from './types.ts';

export const DEFAULT_MINUTES = 30;
export const MAX_MINUTES = 24 * 60;

export interface SimulateLabOptions {
  workspace: string;
  minutes?: number;
  seed?: string;
  timeoutMs?: number;
  phase?(name: 'provision' | 'student code' | 'activity' | 'reading'): void;
  studentOutput?(line: string): void;
  /** Each simulated minute as it ends (1-based). */
  minute?(n: number): void;
}

export interface MetricSeen {
  namespace: string;
  name: string;
  /** "Name=Value,…" or "". */
  dimensions: string;
  /** Sum of the datapoints of each minute, null for a minute without any. */
  perMinute: (number | null)[];
  /** Datapoints received (SampleCount over the whole run). */
  datapoints: number;
  /** The largest minute sum. */
  maxPerMinute: number | null;
  /** The largest single datapoint. */
  maxValue: number | null;
}

export interface AlarmChange {
  /** Lab-clock ms from the start of the activity. */
  atMs: number;
  from: string;
  to: string;
}

export interface AlarmSeen {
  name: string;
  /** The metric it watches ("namespace/name"), or why none (metric math). */
  metric: string;
  statistic: string;
  period: number;
  comparison: string;
  threshold: number | null;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  /** The alarm's statistic for each of its periods in the run (null: no data). */
  perPeriod: (number | null)[];
  maxPerPeriod: number | null;
  changes: AlarmChange[];
  /** Its state at the end. */
  state: string;
  /** Periods whose value would breach the threshold. */
  breaching: number;
}

export interface SimulationReport {
  lab: string;
  accountId: string;
  seed: string;
  minutes: number;
  /** Lab-clock ms when the activity started. */
  startedAt: number;
  student: StudentRun[];
  metrics: MetricSeen[];
  alarms: AlarmSeen[];
  rules?: ActivityReport['rules'];
  correlations?: ActivityReport['correlations'];
  notes: string[];
}

const COMPARE: Record<string, (v: number, t: number) => boolean> = {
  GreaterThanOrEqualToThreshold: (v, t) => v >= t,
  GreaterThanThreshold: (v, t) => v > t,
  LessThanThreshold: (v, t) => v < t,
  LessThanOrEqualToThreshold: (v, t) => v <= t,
};
export const COMPARISON_SIGN: Record<string, string> = {
  GreaterThanOrEqualToThreshold: '>=', GreaterThanThreshold: '>', LessThanThreshold: '<', LessThanOrEqualToThreshold: '<=',
};

const dimText = (dims: { Name: string; Value: string }[] | undefined) => (dims ?? []).map((d) => `${d.Name}=${d.Value}`).join(',');

/** Runs the simulation on an open lab cloud. The account is left as it is (the caller may drop it). */
export async function simulateLab(cloud: LabCloud, lab: Lab, opts: SimulateLabOptions): Promise<SimulationReport> {
  const minutes = Math.round(opts.minutes ?? DEFAULT_MINUTES);
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_MINUTES) throw new RangeError(`minutes must be between 1 and ${MAX_MINUTES}; got ${opts.minutes}`);
  const seed = opts.seed ?? newSeed();
  opts.phase?.('provision');
  const session = await provisionLab(cloud, lab, seed);
  session.workspace = opts.workspace;
  enterRandom(session.random);
  let student: StudentRun[] = [];
  if (lab.studentSteps.length) {
    opts.phase?.('student code');
    student = await runStudentSteps(session, lab, { workspace: opts.workspace, timeoutMs: opts.timeoutMs, onOutput: opts.studentOutput });
  }
  const notes: string[] = [];
  const account = session.accountId;
  const region = cloud.region;
  // Held like a grading: the day unfolds the same way whatever else runs on this lab cloud.
  return cloud.gateway.clock.exclusive(async () => {
    await session.alignClock();
    const start = session.now();
    opts.phase?.('activity');
    let activity: ActivityReport = {};
    if (lab.normalActivity) activity = await lab.normalActivity(session, minutes, opts.minute);
    else {
      notes.push(`lab ${lab.id} has no normal activity to simulate: the clock only moved on`);
      await cloud.gateway.clock.advance(minutes * 60_000);
    }
    await cloud.gateway.service('lambda').settle().catch(() => undefined);
    opts.phase?.('reading');
    const end = start + minutes * 60_000;
    const cw = cloud.gateway.service('cloudwatch');
    const store = cw.metricsFor(account, region);
    const metrics: MetricSeen[] = [];
    for (const m of store.listMetrics()) {
      const dps = store.getMetricStatistics({ Namespace: m.Namespace, MetricName: m.MetricName, Dimensions: m.Dimensions, StartTime: start, EndTime: end, Period: 60, Statistics: ['Sum', 'SampleCount', 'Maximum'] });
      const perMinute: (number | null)[] = Array.from({ length: minutes }, () => null);
      let datapoints = 0;
      let maxValue: number | null = null;
      for (const dp of dps) {
        const i = Math.floor((dp.Timestamp.getTime() - start) / 60_000);
        if (i < 0 || i >= minutes) continue;
        perMinute[i] = dp['Sum'] as number;
        datapoints += dp['SampleCount'] as number;
        maxValue = Math.max(maxValue ?? -Infinity, dp['Maximum'] as number);
      }
      const sums = perMinute.filter((v): v is number => v !== null);
      metrics.push({
        namespace: m.Namespace, name: m.MetricName, dimensions: dimText(m.Dimensions), perMinute, datapoints,
        maxPerMinute: sums.length ? Math.max(...sums) : null, maxValue,
      });
    }
    metrics.sort((a, b) => `${a.namespace}/${a.name}/${a.dimensions}`.localeCompare(`${b.namespace}/${b.name}/${b.dimensions}`));
    const alarms = cw.alarms.list(account, region).map((a) => alarmSeen(cw, account, region, a, start, end));
    alarms.sort((a, b) => a.name.localeCompare(b.name));
    return {
      lab: lab.id, accountId: account, seed, minutes, startedAt: start, student, metrics, alarms,
      ...(activity.rules ? { rules: activity.rules } : {}), ...(activity.correlations ? { correlations: activity.correlations } : {}), notes: [...notes, ...(activity.notes ?? [])],
    };
  });
}

function alarmSeen(
  cw: { metricsFor(a: string, r: string): { getMetricStatistics(p: never): { Timestamp: Date; [k: string]: unknown }[] }; alarms: { history: { account: string; AlarmName: string; Timestamp: Date; HistoryItemType: string; HistorySummary: string }[] } },
  account: string, region: string, a: MetricAlarm, start: number, end: number,
): AlarmSeen {
  const period = a.Period ?? 60;
  const statistic = a.Statistic ?? a.ExtendedStatistic ?? 'Sum';
  const n = Math.max(1, Math.floor((end - start) / (period * 1000)));
  const perPeriod: (number | null)[] = Array.from({ length: n }, () => null);
  if (a.Namespace && a.MetricName && !a.Metrics?.length) {
    const dps = cw.metricsFor(account, region).getMetricStatistics({
      Namespace: a.Namespace, MetricName: a.MetricName, Dimensions: a.Dimensions, StartTime: start, EndTime: start + n * period * 1000, Period: period,
      ...(a.Statistic ? { Statistics: [a.Statistic] } : { ExtendedStatistics: [statistic] }),
    } as never);
    for (const dp of dps) {
      const i = Math.floor((dp.Timestamp.getTime() - start) / (period * 1000));
      const v = a.Statistic ? dp[a.Statistic] : (dp['ExtendedStatistics'] as Record<string, number> | undefined)?.[statistic];
      if (i >= 0 && i < n && typeof v === 'number') perPeriod[i] = v;
    }
  }
  const changes: AlarmChange[] = [];
  for (const h of cw.alarms.history) {
    if (h.account !== account || h.AlarmName !== a.AlarmName || h.HistoryItemType !== 'StateUpdate') continue;
    const t = h.Timestamp.getTime();
    if (t < start || t > end) continue;
    const m = /from (\S+) to (\S+)/.exec(h.HistorySummary);
    if (m) changes.push({ atMs: t - start, from: m[1]!, to: m[2]! });
  }
  const values = perPeriod.filter((v): v is number => v !== null);
  const cmp = COMPARE[a.ComparisonOperator] as ((v: number, t: number) => boolean) | undefined;
  return {
    name: a.AlarmName,
    metric: a.Metrics?.length ? 'metric math (not evaluated by the lab cloud)' : `${a.Namespace ?? '?'}/${a.MetricName ?? '?'}${a.Dimensions.length ? ` {${dimText(a.Dimensions)}}` : ''}`,
    statistic, period, comparison: a.ComparisonOperator, threshold: a.Threshold ?? null,
    evaluationPeriods: a.EvaluationPeriods, datapointsToAlarm: a.DatapointsToAlarm ?? a.EvaluationPeriods,
    perPeriod, maxPerPeriod: values.length ? Math.max(...values) : null, changes, state: a.StateValue,
    breaching: cmp && a.Threshold !== undefined ? values.filter((v) => cmp(v, a.Threshold!)).length : 0,
  };
}
