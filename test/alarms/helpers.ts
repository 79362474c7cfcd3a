import { createMetricAlarm, MetricStore, type MetricAlarm, type PutMetricAlarmInput } from '../../src/cloud/services/cloudwatch/alarms/index.ts';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

export function makeAlarm(input: Partial<PutMetricAlarmInput> = {}, now = new Date('2024-01-01T00:00:00Z'), region = REGION, account = ACCOUNT): MetricAlarm {
  return createMetricAlarm(
    {
      AlarmName: 'test-alarm',
      Namespace: 'Lab/Net',
      MetricName: 'RejectedSSH',
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      ...input,
    },
    { region, account, now },
  ).alarm;
}

/** Puts one datapoint per value at the start of consecutive periods ending before `end`. */
export function putSeries(store: MetricStore, alarm: MetricAlarm, values: (number | undefined)[], end: Date): void {
  const p = (alarm.Period ?? 60) * 1000;
  values.forEach((v, i) => {
    if (v === undefined) return;
    const start = end.getTime() - (values.length - i) * p;
    store.putMetricData(alarm.Namespace!, [{ MetricName: alarm.MetricName!, Dimensions: alarm.Dimensions, Value: v, Timestamp: new Date(start + 1000) }], end);
  });
}
