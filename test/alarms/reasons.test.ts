// State reasons and reason data as AWS writes them. Each case rebuilds an alarm seen in the wild (the
// quoted reason/reason data come from DescribeAlarms output, SNS notifications and EventBridge events
// recorded from AWS, and the CloudWatch user guide) and checks the engine writes the same text.
import { describe, expect, it } from 'vitest';
import { evaluateAlarm, MetricStore, type MetricAlarm } from '../../src/cloud/services/cloudwatch/alarms/index.ts';
import { makeAlarm } from './helpers.ts';

function put(store: MetricStore, alarm: MetricAlarm, at: string, values: number[]): void {
  store.putMetricData(alarm.Namespace!, [{ MetricName: alarm.MetricName!, Dimensions: alarm.Dimensions, Values: values, Timestamp: new Date(at) }], new Date(at));
}

describe('state reasons and reason data recorded from AWS', () => {
  it('single datapoint, no DatapointsToAlarm (DBConnectionErrors, Sum, 300 s)', () => {
    const alarm = makeAlarm({ Namespace: 'Lab/RDSApp', MetricName: 'DBConnectionErrors', Statistic: 'Sum', Period: 300, Threshold: 3, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching' });
    const store = new MetricStore();
    put(store, alarm, '2026-01-17T17:03:10Z', Array(63).fill(1));
    const r = evaluateAlarm(alarm, store, new Date('2026-01-17T17:07:38.154Z'));
    expect(r.alarm.StateReason).toBe('Threshold Crossed: 1 datapoint [63.0 (17/01/26 17:02:00)] was greater than the threshold (3.0).');
    expect(r.alarm.StateReasonData).toBe(
      '{"version":"1.0","queryDate":"2026-01-17T17:07:38.154+0000","startDate":"2026-01-17T17:02:00.000+0000","statistic":"Sum","period":300,"recentDatapoints":[63.0],"threshold":3.0,"evaluatedDatapoints":[{"timestamp":"2026-01-17T17:02:00.000+0000","sampleCount":63.0,"value":63.0}]}',
    );
  });

  it('3 out of 3 not breaching, ALARM -> OK needs 1 (mem_used_percent, Average)', () => {
    const alarm = {
      ...makeAlarm({ Namespace: 'CWAgent', MetricName: 'mem_used_percent', Statistic: 'Average', Period: 300, EvaluationPeriods: 3, DatapointsToAlarm: 3, Threshold: 80 }),
      StateValue: 'INSUFFICIENT_DATA' as const,
    };
    const store = new MetricStore();
    put(store, alarm, '2022-01-26T13:14:30Z', Array(4).fill(38.364239895660816));
    put(store, alarm, '2022-01-26T13:19:30Z', Array(4).fill(38.391752618786896));
    put(store, alarm, '2022-01-26T13:24:30Z', Array(4).fill(38.395433048854194));
    const r = evaluateAlarm(alarm, store, new Date('2022-01-26T13:29:29.292Z'));
    expect(r.alarm.StateValue).toBe('OK');
    expect(r.alarm.StateReason).toBe(
      'Threshold Crossed: 3 out of the last 3 datapoints [38.395433048854194 (26/01/22 13:24:00), 38.391752618786896 (26/01/22 13:19:00), 38.364239895660816 (26/01/22 13:14:00)] were not greater than or equal to the threshold (80.0) (minimum 1 datapoint for ALARM -> OK transition).',
    );
    expect(r.alarm.StateReasonData).toBe(
      '{"version":"1.0","queryDate":"2022-01-26T13:29:29.292+0000","startDate":"2022-01-26T13:14:00.000+0000","statistic":"Average","period":300,"recentDatapoints":[38.364239895660816,38.391752618786896,38.395433048854194],"threshold":80.0,"evaluatedDatapoints":[{"timestamp":"2022-01-26T13:24:00.000+0000","sampleCount":4.0,"value":38.395433048854194}]}',
    );
  });

  it('2 out of 2 breaching (RDS CPUUtilization, Average, 5 samples each)', () => {
    const alarm = makeAlarm({
      Namespace: 'AWS/RDS',
      MetricName: 'CPUUtilization',
      Statistic: 'Average',
      Dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'database-1-instance-1' }],
      Period: 300,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      Threshold: 10,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    const store = new MetricStore();
    put(store, alarm, '2022-01-17T14:37:30Z', Array(5).fill(11.488333333333333));
    put(store, alarm, '2022-01-17T14:42:30Z', Array(5).fill(15.398333333333332));
    // AWS evaluated these periods at 14:48:42 (RDS data arrives late); on the engine's minute grid they are
    // the latest full periods at 14:47:42.
    const r = evaluateAlarm(alarm, store, new Date('2022-01-17T14:47:42.271Z'));
    expect(r.alarm.StateReason).toBe(
      'Threshold Crossed: 2 out of the last 2 datapoints [15.398333333333332 (17/01/22 14:42:00), 11.488333333333333 (17/01/22 14:37:00)] were greater than the threshold (10.0) (minimum 2 datapoints for OK -> ALARM transition).',
    );
    expect(r.alarm.StateReasonData).toBe(
      '{"version":"1.0","queryDate":"2022-01-17T14:47:42.271+0000","startDate":"2022-01-17T14:37:00.000+0000","statistic":"Average","period":300,"recentDatapoints":[11.488333333333333,15.398333333333332],"threshold":10.0,"evaluatedDatapoints":[{"timestamp":"2022-01-17T14:42:00.000+0000","sampleCount":5.0,"value":15.398333333333332},{"timestamp":"2022-01-17T14:37:00.000+0000","sampleCount":5.0,"value":11.488333333333333}]}',
    );
  });

  it('1 out of 20 with 19 missing datapoints treated as NonBreaching (WAF BlockedRequests)', () => {
    const alarm = makeAlarm({ Namespace: 'AWS/WAFV2', MetricName: 'BlockedRequests', Statistic: 'Sum', Period: 60, EvaluationPeriods: 20, DatapointsToAlarm: 1, Threshold: 1, TreatMissingData: 'notBreaching' });
    const store = new MetricStore();
    put(store, alarm, '2024-03-16T12:15:20Z', [613]);
    const r = evaluateAlarm({ ...alarm, StateValue: 'OK' }, store, new Date('2024-03-16T12:16:45.770Z'));
    expect(r.alarm.StateReason).toBe(
      'Threshold Crossed: 1 out of the last 20 datapoints [613.0 (16/03/24 12:15:00)] was greater than or equal to the threshold (1.0) and 19 missing datapoints were treated as [NonBreaching] (minimum 1 datapoint for OK -> ALARM transition).',
    );
  });

  it('older datapoint used when the newest period is empty (user guide event, CPUUtilization ALARM -> OK)', () => {
    const alarm = { ...makeAlarm({ Namespace: 'AWS/EC2', MetricName: 'CPUUtilization', Statistic: 'Average', DatapointsToAlarm: 1, Threshold: 50, ComparisonOperator: 'GreaterThanThreshold' }), StateValue: 'ALARM' as const };
    const store = new MetricStore();
    put(store, alarm, '2019-10-01T13:46:10Z', [0.0666851903306472]);
    const r = evaluateAlarm(alarm, store, new Date('2019-10-01T13:56:40.985Z'));
    expect(r.alarm.StateReason).toBe(
      'Threshold Crossed: 1 out of the last 1 datapoints [0.0666851903306472 (01/10/19 13:46:00)] was not greater than the threshold (50.0) (minimum 1 datapoint for ALARM -> OK transition).',
    );
  });

  it('3 datapoints breaching, 180 s period, no DatapointsToAlarm', () => {
    const alarm = makeAlarm({ Period: 180, EvaluationPeriods: 3, Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    const store = new MetricStore();
    put(store, alarm, '2026-08-19T05:44:30Z', [1]);
    put(store, alarm, '2026-08-19T05:47:30Z', [3]);
    put(store, alarm, '2026-08-19T05:50:30Z', [2]);
    const r = evaluateAlarm(alarm, store, new Date('2026-08-19T05:53:32.119Z'));
    expect(r.alarm.StateReason).toBe('Threshold Crossed: 3 datapoints [2.0 (19/08/26 05:50:00), 3.0 (19/08/26 05:47:00), 1.0 (19/08/26 05:44:00)] were greater than the threshold (0.0).');
  });

  it('1 datapoint not breaching and 7 missing treated as Breaching (900 s, LessThanOrEqualToThreshold)', () => {
    const alarm = { ...makeAlarm({ Period: 900, EvaluationPeriods: 8, Threshold: 0, ComparisonOperator: 'LessThanOrEqualToThreshold', TreatMissingData: 'breaching' }), StateValue: 'ALARM' as const };
    const store = new MetricStore();
    put(store, alarm, '2026-08-19T09:40:00Z', [2]);
    const r = evaluateAlarm(alarm, store, new Date('2026-08-19T09:51:49.318Z'));
    expect(r.alarm.StateValue).toBe('OK');
    expect(r.alarm.StateReason).toBe('Threshold Crossed: 1 datapoint [2.0 (19/08/26 09:36:00)] was not less than or equal to the threshold (0.0) and 7 missing datapoints were treated as [Breaching].');
  });

  it('no datapoints: missing datapoints treated as Breaching / NonBreaching', () => {
    const store = new MetricStore();
    const at = new Date('2026-08-19T08:00:00Z');
    const b = evaluateAlarm(makeAlarm({ Period: 900, EvaluationPeriods: 8, TreatMissingData: 'breaching' }), store, at);
    expect(b.alarm.StateReason).toBe('Threshold Crossed: no datapoints were received for 8 periods and 8 missing datapoints were treated as [Breaching].');
    const nb = evaluateAlarm(makeAlarm({ EvaluationPeriods: 2, TreatMissingData: 'notBreaching' }), store, at);
    expect(nb.alarm.StateReason).toBe('Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were treated as [NonBreaching].');
    const one = evaluateAlarm(makeAlarm({ TreatMissingData: 'breaching' }), store, at);
    expect(one.alarm.StateReason).toBe('Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [Breaching].');
  });

  it('a received datapoint that does not count toward the new state ("1 datapoint was received for 3 periods")', () => {
    const alarm = { ...makeAlarm({ Period: 60, EvaluationPeriods: 3, DatapointsToAlarm: 2, Threshold: 1, TreatMissingData: 'breaching' }), StateValue: 'OK' as const };
    const store = new MetricStore();
    put(store, alarm, '2026-09-05T10:09:10Z', [0]);
    const r = evaluateAlarm(alarm, store, new Date('2026-09-05T10:10:05Z'));
    expect(r.alarm.StateValue).toBe('ALARM');
    expect(r.alarm.StateReason).toBe('Threshold Crossed: 1 datapoint was received for 3 periods and 2 missing datapoints were treated as [Breaching].');
  });

  it('Insufficient Data lists every unknown datapoint of the range (BillingAlarm)', () => {
    const alarm = { ...makeAlarm({ Namespace: 'AWS/Billing', MetricName: 'EstimatedCharges', Statistic: 'Maximum', Threshold: 10 }), StateValue: 'ALARM' as const };
    const r = evaluateAlarm(alarm, new MetricStore(), new Date('2021-10-14T14:49:54.786Z'));
    expect(r.alarm.StateValue).toBe('INSUFFICIENT_DATA');
    expect(r.alarm.StateReason).toBe('Insufficient Data: 5 datapoints were unknown.');
    const data = JSON.parse(r.alarm.StateReasonData!);
    expect(data).toMatchObject({ version: '1.0', statistic: 'Maximum', period: 300, recentDatapoints: [], threshold: 10 });
    expect(data.evaluatedDatapoints).toHaveLength(5);
    expect(Object.keys(data.evaluatedDatapoints[0])).toEqual(['timestamp']);
    expect(data.startDate).toBeUndefined();
  });

  it('2 datapoints not breaching, DynamoDB, wider evaluation range', () => {
    const alarm = {
      ...makeAlarm({ Namespace: 'AWS/DynamoDB', MetricName: 'ConsumedWriteCapacityUnits', Statistic: 'Sum', Period: 60, EvaluationPeriods: 2, Threshold: 42, ComparisonOperator: 'GreaterThanThreshold' }),
      StateValue: 'ALARM' as const,
    };
    const store = new MetricStore();
    put(store, alarm, '2023-01-09T14:01:10Z', [1]);
    put(store, alarm, '2023-01-09T14:02:10Z', [0]);
    const r = evaluateAlarm(alarm, store, new Date('2023-01-09T14:07:25.504Z'), { evaluationRange: 6 });
    expect(r.alarm.StateReason).toBe('Threshold Crossed: 2 datapoints [0.0 (09/01/23 14:02:00), 1.0 (09/01/23 14:01:00)] were not greater than the threshold (42.0).');
    expect(r.alarm.StateReasonData).toBe(
      '{"version":"1.0","queryDate":"2023-01-09T14:07:25.504+0000","startDate":"2023-01-09T14:01:00.000+0000","statistic":"Sum","period":60,"recentDatapoints":[1.0,0.0],"threshold":42.0,"evaluatedDatapoints":[{"timestamp":"2023-01-09T14:02:00.000+0000","sampleCount":1.0,"value":0.0}]}',
    );
  });

  it('writes the unit into the reason data (pdf-processing-time, Milliseconds, daily period)', () => {
    const alarm = makeAlarm({ Namespace: 'pdf-converter', MetricName: 'pdf-processing-time', Statistic: 'Average', Period: 86400, Unit: 'Milliseconds', Threshold: 15000 });
    const store = new MetricStore();
    store.putMetricData('pdf-converter', [{ MetricName: 'pdf-processing-time', Value: 1200, Unit: 'Milliseconds', Timestamp: new Date('2022-10-08T09:40:00Z') }], new Date('2022-10-08T09:40:00Z'));
    const r = evaluateAlarm(alarm, store, new Date('2022-10-09T09:39:13.827Z'));
    expect(r.alarm.StateReason).toBe('Threshold Crossed: 1 datapoint [1200.0 (08/10/22 09:39:00)] was not greater than or equal to the threshold (15000.0).');
    expect(r.alarm.StateReasonData).toBe(
      '{"version":"1.0","queryDate":"2022-10-09T09:39:13.827+0000","startDate":"2022-10-08T09:39:00.000+0000","unit":"Milliseconds","statistic":"Average","period":86400,"recentDatapoints":[1200.0],"threshold":15000.0,"evaluatedDatapoints":[{"timestamp":"2022-10-08T09:39:00.000+0000","sampleCount":1.0,"value":1200.0}]}',
    );
  });

  it('anomaly band reasons (user guide example), when a band is supplied', () => {
    const alarm = {
      ...makeAlarm({ Namespace: 'AWS/EC2', MetricName: 'CPUUtilization', Statistic: 'Average', Period: 60, DatapointsToAlarm: 1, ComparisonOperator: 'LessThanLowerOrGreaterThanUpperThreshold', ThresholdMetricId: 'ad1' }),
      StateValue: 'OK' as const,
    };
    const store = new MetricStore();
    put(store, alarm, '2019-10-03T15:58:10Z', [0]);
    const band = () => ({ lower: 0.020599444741798756, upper: 0.3006915352732461 });
    const r = evaluateAlarm(alarm, store, new Date('2019-10-03T16:00:04.650Z'), { band, evaluationRange: 2 });
    expect(r.alarm.StateReason).toBe(
      'Thresholds Crossed: 1 out of the last 1 datapoints [0.0 (03/10/19 15:58:00)] was less than the lower thresholds [0.020599444741798756] or greater than the upper thresholds [0.3006915352732461] (minimum 1 datapoint for OK -> ALARM transition).',
    );
    const data = JSON.parse(r.alarm.StateReasonData!);
    expect(data.recentLowerThresholds).toEqual([0.020599444741798756]);
    expect(data.threshold).toBeUndefined();
    expect(evaluateAlarm(alarm, store, new Date('2019-10-03T16:00:04.650Z')).detail.outcome).toBe('UNSUPPORTED');
  });
});

describe('comparison operators', () => {
  const cases: [string, number, boolean, string][] = [
    ['GreaterThanOrEqualToThreshold', 10, true, 'greater than or equal to'],
    ['GreaterThanOrEqualToThreshold', 9.5, false, 'greater than or equal to'],
    ['GreaterThanThreshold', 10, false, 'greater than'],
    ['GreaterThanThreshold', 10.5, true, 'greater than'],
    ['LessThanThreshold', 10, false, 'less than'],
    ['LessThanThreshold', 9.5, true, 'less than'],
    ['LessThanOrEqualToThreshold', 10, true, 'less than or equal to'],
    ['LessThanOrEqualToThreshold', 10.5, false, 'less than or equal to'],
  ];
  for (const [op, value, breaching, words] of cases) {
    it(`${op} with ${value} against 10`, () => {
      const alarm = makeAlarm({ ComparisonOperator: op as never, Threshold: 10, Statistic: 'Maximum' });
      const store = new MetricStore();
      put(store, alarm, '2024-01-01T00:01:00Z', [value]);
      const r = evaluateAlarm(alarm, store, new Date('2024-01-01T00:05:30Z'));
      expect(r.alarm.StateValue).toBe(breaching ? 'ALARM' : 'OK');
      const shown = value % 1 === 0 ? `${value}.0` : String(value);
      expect(r.alarm.StateReason).toBe(`Threshold Crossed: 1 datapoint [${shown} (01/01/24 00:00:00)] was ${breaching ? '' : 'not '}${words} the threshold (10.0).`);
    });
  }
  const bands: [string, number, boolean][] = [
    ['LessThanLowerOrGreaterThanUpperThreshold', 5, false],
    ['LessThanLowerOrGreaterThanUpperThreshold', 0, true],
    ['LessThanLowerOrGreaterThanUpperThreshold', 11, true],
    ['LessThanLowerThreshold', 0, true],
    ['LessThanLowerThreshold', 11, false],
    ['GreaterThanUpperThreshold', 11, true],
    ['GreaterThanUpperThreshold', 0, false],
  ];
  for (const [op, value, breaching] of bands) {
    it(`${op} with ${value} against the band [1, 10]`, () => {
      const alarm = makeAlarm({ ComparisonOperator: op as never, ThresholdMetricId: 'ad1', Threshold: undefined, Statistic: 'Maximum' });
      const store = new MetricStore();
      put(store, alarm, '2024-01-01T00:01:00Z', [value]);
      const r = evaluateAlarm(alarm, store, new Date('2024-01-01T00:05:30Z'), { band: () => ({ lower: 1, upper: 10 }) });
      expect(r.alarm.StateValue).toBe(breaching ? 'ALARM' : 'OK');
      expect(r.alarm.StateReason.startsWith('Thresholds Crossed: 1 datapoint')).toBe(true);
    });
  }
});

describe('statistics in alarms', () => {
  for (const [stat, want] of [
    ['SampleCount', 4],
    ['Sum', 10],
    ['Average', 2.5],
    ['Minimum', 1],
    ['Maximum', 4],
    ['p50', 2],
    ['p99', 4],
  ] as const) {
    it(`${stat} of 1, 2, 3, 4`, () => {
      const alarm = makeAlarm(stat.startsWith('p') ? { Statistic: undefined, ExtendedStatistic: stat } : { Statistic: stat as never });
      const store = new MetricStore();
      put(store, alarm, '2024-01-01T00:01:00Z', [1, 2, 3, 4]);
      const r = evaluateAlarm(alarm, store, new Date('2024-01-01T00:05:30Z'));
      expect(r.detail.slots.at(-1)!.value).toBe(want);
      if (stat.startsWith('p')) expect(JSON.parse(r.alarm.StateReasonData!).extendedStatistic).toBe(stat);
    });
  }

  it('EvaluateLowSampleCountPercentile=ignore keeps the state while samples are too few', () => {
    const alarm = { ...makeAlarm({ Statistic: undefined, ExtendedStatistic: 'p99', EvaluateLowSampleCountPercentile: 'ignore' }), StateValue: 'OK' as const };
    const store = new MetricStore();
    put(store, alarm, '2024-01-01T00:01:00Z', [5, 6, 7]);
    expect(evaluateAlarm(alarm, store, new Date('2024-01-01T00:05:30Z')).changed).toBe(false);
    const evaluate = { ...alarm, EvaluateLowSampleCountPercentile: 'evaluate' };
    expect(evaluateAlarm(evaluate, store, new Date('2024-01-01T00:05:30Z')).alarm.StateValue).toBe('ALARM');
  });

  it('only counts datapoints of the alarm unit when it has one', () => {
    const alarm = makeAlarm({ Unit: 'Count' });
    const store = new MetricStore();
    store.putMetricData('Lab/Net', [{ MetricName: 'RejectedSSH', Value: 5, Unit: 'Bytes', Timestamp: new Date('2024-01-01T00:01:00Z') }], new Date('2024-01-01T00:01:00Z'));
    expect(evaluateAlarm(alarm, store, new Date('2024-01-01T00:05:30Z')).alarm.StateValue).toBe('INSUFFICIENT_DATA');
    store.putMetricData('Lab/Net', [{ MetricName: 'RejectedSSH', Value: 5, Unit: 'Count', Timestamp: new Date('2024-01-01T00:02:00Z') }], new Date('2024-01-01T00:02:00Z'));
    expect(evaluateAlarm(alarm, store, new Date('2024-01-01T00:05:30Z')).alarm.StateValue).toBe('ALARM');
  });

  it('does not evaluate metric math alarms', () => {
    const alarm = { ...makeAlarm(), Metrics: [{ Id: 'e1', Expression: 'm1 + m2' }] };
    expect(evaluateAlarm(alarm, new MetricStore(), new Date()).detail.outcome).toBe('UNSUPPORTED');
  });
});
