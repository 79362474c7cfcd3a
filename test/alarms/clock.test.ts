// An alarm evaluated on the lab clock, as the gateway will drive it: the clock jumps, the alarm is
// evaluated at each minute it skipped, and the caller carries out the returned actions.
import { describe, expect, it } from 'vitest';
import {
  createMetricAlarm,
  evaluateAlarm,
  evaluationTimes,
  MetricStore,
  validatePutMetricAlarm,
  type AlarmAction,
  type AlarmHistoryItem,
  type MetricAlarm,
  type PutMetricAlarmInput,
} from '../../src/cloud/services/cloudwatch/alarms/index.ts';

const base: PutMetricAlarmInput = {
  AlarmName: 'ssh-rejects',
  Namespace: 'SecLab/FlowLogs',
  MetricName: 'RejectedSSH',
  Statistic: 'Sum',
  Period: 300,
  EvaluationPeriods: 1,
  Threshold: 10,
  ComparisonOperator: 'GreaterThanOrEqualToThreshold',
  TreatMissingData: 'notBreaching',
  AlarmActions: ['arn:aws:sns:us-east-1:123456789012:admins'],
  OKActions: ['arn:aws:sns:us-east-1:123456789012:admins'],
};

describe('alarms on the lab clock', () => {
  it('lists the evaluation ticks a clock jump skipped', () => {
    const alarm = createMetricAlarm(base, { region: 'us-east-1', account: '123456789012', now: new Date(0) }).alarm;
    expect(evaluationTimes(alarm, new Date('2024-01-01T00:00:30Z'), new Date('2024-01-01T00:03:00Z')).map((d) => d.toISOString())).toEqual([
      '2024-01-01T00:01:00.000Z',
      '2024-01-01T00:02:00.000Z',
      '2024-01-01T00:03:00.000Z',
    ]);
    const fast = { ...alarm, Period: 10 };
    expect(evaluationTimes(fast, 0, 30_000)).toHaveLength(3);
  });

  it('detects an SSH brute force and recovers, with notifications', () => {
    const start = new Date('2024-06-01T10:00:00Z');
    let alarm: MetricAlarm = createMetricAlarm(base, { region: 'us-east-1', account: '123456789012', now: start }).alarm;
    const store = new MetricStore();
    const history: AlarmHistoryItem[] = [];
    const sent: AlarmAction[] = [];
    let clock = start.getTime();
    const advance = (ms: number) => {
      const to = clock + ms;
      for (const t of evaluationTimes(alarm, clock, to)) {
        const r = evaluateAlarm(alarm, store, t);
        alarm = r.alarm;
        history.push(...r.history);
        sent.push(...r.actions);
      }
      clock = to;
    };
    // quiet for 10 minutes: notBreaching -> OK at the first evaluation
    advance(10 * 60_000);
    expect(alarm.StateValue).toBe('OK');
    // 60 rejected SSH connections over two minutes
    for (let i = 0; i < 60; i++) store.putMetricData('SecLab/FlowLogs', [{ MetricName: 'RejectedSSH', Value: 1, Timestamp: new Date(clock + i * 2000) }], new Date(clock + i * 2000));
    advance(6 * 60_000);
    expect(alarm.StateValue).toBe('ALARM');
    const detectedAt = alarm.StateTransitionedTimestamp!;
    // evaluated every minute over the last full period: the first minute of the attack already sums 30
    expect(detectedAt.toISOString()).toBe('2024-06-01T10:11:00.000Z');
    // the attack stopped; 5-minute periods roll past it
    advance(30 * 60_000);
    expect(alarm.StateValue).toBe('OK');
    expect(history.map((h) => h.HistorySummary)).toEqual([
      'Alarm updated from INSUFFICIENT_DATA to OK',
      'Alarm updated from OK to ALARM',
      'Alarm updated from ALARM to OK',
    ]);
    expect(sent.map((a) => (a.type === 'sns' ? a.subject : a.arn))).toEqual([
      'OK: "ssh-rejects" in US East (N. Virginia)',
      'ALARM: "ssh-rejects" in US East (N. Virginia)',
      'OK: "ssh-rejects" in US East (N. Virginia)',
    ]);
  });

  it('an alarm that can never fire stays OK (threshold above any possible sum)', () => {
    let alarm = createMetricAlarm({ ...base, Threshold: 1e9 }, { region: 'us-east-1', account: '123456789012', now: new Date(0) }).alarm;
    const store = new MetricStore();
    const t = Date.parse('2024-06-01T10:00:00Z');
    for (let i = 0; i < 100; i++) store.putMetricData('SecLab/FlowLogs', [{ MetricName: 'RejectedSSH', Value: 1, Timestamp: new Date(t + i * 1000) }], new Date(t + i * 1000));
    for (const at of evaluationTimes(alarm, t, t + 20 * 60_000)) alarm = evaluateAlarm(alarm, store, at).alarm;
    expect(alarm.StateValue).toBe('OK');
  });

  it('validates PutMetricAlarm', () => {
    const bad: [Partial<PutMetricAlarmInput>, RegExp][] = [
      [{ Period: 45 }, /Period/],
      [{ Period: 3600, EvaluationPeriods: 200 }, /seven days/],
      [{ Period: 60, EvaluationPeriods: 1441 }, /one day/],
      [{ DatapointsToAlarm: 2 }, /DatapointsToAlarm/],
      [{ Statistic: undefined }, /Statistic and ExtendedStatistic/],
      [{ ExtendedStatistic: 'p99' }, /Statistic and ExtendedStatistic/],
      [{ ComparisonOperator: 'Bigger' as never }, /comparisonOperator/],
      [{ Threshold: undefined }, /Threshold/],
      [{ TreatMissingData: 'maybe' as never }, /TreatMissingData/],
      [{ AlarmName: 'été' }, /ASCII/],
    ];
    for (const [patch, message] of bad) expect(() => validatePutMetricAlarm({ ...base, ...patch })).toThrow(message);
    expect(() => validatePutMetricAlarm(base)).not.toThrow();
  });
});
