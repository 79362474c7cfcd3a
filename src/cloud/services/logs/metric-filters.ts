// What metric filters publish for a batch of log events. CloudWatch Logs aggregates a filter's values
// per minute before publishing (one statistic set per metric, dimensions and minute), which is also
// what makes this cheap for thousands of flow-log records a second.
import { compile, dimensionValues, metricValue, type CompiledPattern } from './filter-pattern/index.ts';
import type { MetricDatum } from '../cloudwatch/alarms/metric-store.ts';

export interface MetricTransformation {
  metricName: string;
  metricNamespace: string;
  metricValue: string;
  defaultValue?: number;
  dimensions?: Record<string, string>;
  unit?: string;
}

export interface MetricFilter {
  filterName: string;
  filterPattern?: string;
  metricTransformations?: MetricTransformation[];
}

export interface LogEventLike {
  timestamp: number;
  message: string;
}

interface Bucket { namespace: string; datum: MetricDatum & { StatisticValues: { SampleCount: number; Sum: number; Minimum: number; Maximum: number } } }

/** Statistic sets per namespace, metric, dimensions and minute for the events of one log group. */
export function metricDataFor(filters: readonly MetricFilter[], events: readonly LogEventLike[]): { namespace: string; datum: MetricDatum }[] {
  const buckets = new Map<string, Bucket>();
  for (const f of filters) {
    const compiled: CompiledPattern = compile(f.filterPattern ?? '');
    const transformations = f.metricTransformations ?? [];
    for (const e of events) {
      const m = compiled.match(e.message);
      for (const t of transformations) {
        const value = metricValue(compiled, m, t);
        if (value === undefined) continue;
        const dims = t.dimensions ? Object.entries(dimensionValues(compiled, m, t.dimensions)).map(([Name, Value]) => ({ Name, Value })) : [];
        const minute = Math.floor(e.timestamp / 60_000) * 60_000;
        const key = `${t.metricNamespace}\u0000${t.metricName}\u0000${minute}\u0000${dims.map((d) => `${d.Name}=${d.Value}`).join(',')}`;
        const b = buckets.get(key);
        if (b) {
          const s = b.datum.StatisticValues;
          s.SampleCount++;
          s.Sum += value;
          if (value < s.Minimum) s.Minimum = value;
          if (value > s.Maximum) s.Maximum = value;
        } else {
          buckets.set(key, {
            namespace: t.metricNamespace,
            datum: {
              MetricName: t.metricName, Timestamp: minute, StatisticValues: { SampleCount: 1, Sum: value, Minimum: value, Maximum: value },
              ...(t.unit ? { Unit: t.unit } : {}), ...(dims.length ? { Dimensions: dims } : {}),
            },
          });
        }
      }
    }
  }
  return [...buckets.values()];
}
