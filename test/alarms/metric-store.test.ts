import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ApiError } from '../../src/cloud/gateway/api-error.ts';
import { MetricStore, parsePercentile } from '../../src/cloud/services/cloudwatch/alarms/index.ts';

const T = (s: string) => new Date(`2024-01-01T${s}Z`);
const now = T('01:00:00');
const dims = [
  { Name: 'InstanceId', Value: 'i-1' },
  { Name: 'Az', Value: 'a' },
];

describe('metric store', () => {
  it('computes the five statistics over [start, end)', () => {
    const s = new MetricStore();
    s.putMetricData('NS', [1, 2, 3, 10].map((v, i) => ({ MetricName: 'M', Value: v, Timestamp: T(`00:0${i}:00`) })), now);
    const st = s.getStatistics('NS', 'M', [], T('00:00:00'), T('00:03:00'))!;
    expect([st.SampleCount, st.Sum, st.Minimum, st.Maximum, st.Average]).toEqual([3, 6, 1, 3, 2]);
    expect(s.getStatistic('NS', 'M', [], T('00:03:00'), T('00:04:00'), 'Sum')).toBe(10);
    expect(s.getStatistic('NS', 'M', [], T('00:04:00'), T('00:05:00'), 'Sum')).toBeUndefined();
  });

  it('identifies a metric by its dimension set, in any order', () => {
    const s = new MetricStore();
    s.putMetricData('NS', [{ MetricName: 'M', Dimensions: dims, Value: 5, Timestamp: T('00:00:10') }], now);
    expect(s.getStatistic('NS', 'M', [...dims].reverse(), T('00:00:00'), T('00:01:00'), 'Sum')).toBe(5);
    expect(s.getStatistic('NS', 'M', [dims[0]!], T('00:00:00'), T('00:01:00'), 'Sum')).toBeUndefined();
    expect(s.getStatistic('NS', 'M', [], T('00:00:00'), T('00:01:00'), 'Sum')).toBeUndefined();
  });

  it('takes Values with Counts and statistic sets', () => {
    const s = new MetricStore();
    s.putMetricData('NS', [{ MetricName: 'M', Values: [1, 5], Counts: [3, 1], Timestamp: T('00:00:10') }], now);
    s.putMetricData('NS', [{ MetricName: 'M', StatisticValues: { SampleCount: 2, Sum: 20, Minimum: 8, Maximum: 12 }, Timestamp: T('00:00:20') }], now);
    const st = s.getStatistics('NS', 'M', [], T('00:00:00'), T('00:01:00'))!;
    expect([st.SampleCount, st.Sum, st.Minimum, st.Maximum]).toEqual([6, 28, 1, 12]);
    expect(st.percentile(50)).toBeUndefined(); // a statistic set with Minimum != Maximum has no percentile
  });

  it('computes percentiles by nearest rank, with counts', () => {
    const s = new MetricStore();
    s.putMetricData('NS', [{ MetricName: 'M', Values: Array.from({ length: 100 }, (_, i) => i + 1), Timestamp: T('00:00:10') }], now);
    expect(s.getStatistic('NS', 'M', [], T('00:00:00'), T('00:01:00'), 'p99')).toBe(99);
    expect(s.getStatistic('NS', 'M', [], T('00:00:00'), T('00:01:00'), 'p50')).toBe(50);
    expect(s.getStatistic('NS', 'M', [], T('00:00:00'), T('00:01:00'), 'p99.9')).toBe(100);
    expect(s.getStatistic('NS', 'M', [], T('00:00:00'), T('00:01:00'), 'p0')).toBe(1);
    expect(s.getStatistic('NS', 'M', [], T('00:00:00'), T('00:01:00'), 'p100')).toBe(100);
    s.putMetricData('NS', [{ MetricName: 'C', StatisticValues: { SampleCount: 10, Sum: 70, Minimum: 7, Maximum: 7 }, Timestamp: T('00:00:10') }], now);
    expect(s.getStatistic('NS', 'C', [], T('00:00:00'), T('00:01:00'), 'p90')).toBe(7);
  });

  it('parses extended statistics', () => {
    expect(parsePercentile('p99')).toBe(99);
    expect(parsePercentile('p99.99')).toBe(99.99);
    expect(parsePercentile('p101')).toBeUndefined();
    expect(parsePercentile('tm99')).toBeUndefined();
  });

  it('filters by unit when asked', () => {
    const s = new MetricStore();
    s.putMetricData('NS', [{ MetricName: 'M', Value: 1, Unit: 'Bytes', Timestamp: T('00:00:10') }, { MetricName: 'M', Value: 2, Timestamp: T('00:00:20') }], now);
    expect(s.getStatistic('NS', 'M', [], T('00:00:00'), T('00:01:00'), 'Sum')).toBe(3);
    expect(s.getStatistic('NS', 'M', [], T('00:00:00'), T('00:01:00'), 'Sum', 'Bytes')).toBe(1);
    expect(s.getStatistic('NS', 'M', [], T('00:00:00'), T('00:01:00'), 'Sum', 'None')).toBe(2);
  });

  it('stamps datapoints without a timestamp with the lab clock', () => {
    const s = new MetricStore();
    s.putMetricData('NS', [{ MetricName: 'M', Value: 4 }], T('00:30:00'));
    expect(s.getStatistic('NS', 'M', [], T('00:30:00'), T('00:31:00'), 'Sum')).toBe(4);
  });

  it('refuses what PutMetricData refuses', () => {
    const s = new MetricStore();
    const bad: [unknown, string][] = [
      [{ MetricName: 'M', Value: 1, StatisticValues: { SampleCount: 1, Sum: 1, Minimum: 1, Maximum: 1 } }, 'InvalidParameterCombination'],
      [{ MetricName: 'M', Values: [1, 2], Counts: [1] }, 'InvalidParameterCombination'],
      [{ MetricName: 'M' }, 'MissingParameter'],
      [{ MetricName: 'M', Value: Number.NaN }, 'InvalidParameterValue'],
      [{ MetricName: 'M', Value: 1, Timestamp: T('03:30:00') }, 'InvalidParameterValue'],
      [{ MetricName: 'M', Value: 1, Timestamp: new Date(now.getTime() - 15 * 86400_000) }, 'InvalidParameterValue'],
    ];
    for (const [datum, code] of bad) {
      let err: unknown;
      try {
        s.putMetricData('NS', [datum as never], now);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).code).toBe(code);
    }
  });

  it('answers GetMetricStatistics and ListMetrics', () => {
    const s = new MetricStore();
    s.putMetricData('NS', [{ MetricName: 'M', Dimensions: dims, Value: 1, Timestamp: T('00:00:10') }, { MetricName: 'M', Dimensions: dims, Value: 3, Timestamp: T('00:10:10') }], now);
    const dps = s.getMetricStatistics({ Namespace: 'NS', MetricName: 'M', Dimensions: dims, StartTime: T('00:00:00'), EndTime: T('00:15:00'), Period: 300, Statistics: ['Sum', 'SampleCount'], ExtendedStatistics: ['p50'] });
    expect(dps).toEqual([
      { Timestamp: T('00:00:00'), Unit: 'None', Sum: 1, SampleCount: 1, ExtendedStatistics: { p50: 1 } },
      { Timestamp: T('00:10:00'), Unit: 'None', Sum: 3, SampleCount: 1, ExtendedStatistics: { p50: 3 } },
    ]);
    expect(s.listMetrics({ Namespace: 'NS' })).toEqual([{ Namespace: 'NS', MetricName: 'M', Dimensions: dims }]);
  });

  it('agrees with a naive aggregation for any data (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 3599 }), v: fc.integer({ min: -1000, max: 1000 }) }), { maxLength: 40 }),
        fc.integer({ min: 0, max: 3599 }),
        fc.integer({ min: 1, max: 3600 }),
        (points, from, len) => {
          const s = new MetricStore();
          const base = T('00:00:00').getTime();
          for (const p of points) s.putMetricData('NS', [{ MetricName: 'M', Value: p.v, Timestamp: new Date(base + p.at * 1000) }], now);
          const inside = points.filter((p) => p.at >= from && p.at < from + len).map((p) => p.v);
          const sum = s.getStatistic('NS', 'M', [], base + from * 1000, base + (from + len) * 1000, 'Sum');
          const max = s.getStatistic('NS', 'M', [], base + from * 1000, base + (from + len) * 1000, 'Maximum');
          if (inside.length === 0) expect(sum).toBeUndefined();
          else {
            expect(sum).toBe(inside.reduce((a, b) => a + b, 0));
            expect(max).toBe(Math.max(...inside));
          }
        },
      ),
    );
  });
});
