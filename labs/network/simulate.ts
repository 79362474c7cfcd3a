// What the student's metric filters and alarms would make of a minute of traffic, without sending
// anything: flows are judged against the network as it is, turned into flow-log records in a given
// log format, run through the log group's metric filters with the lab cloud's filter-pattern engine,
// and the resulting datapoints compared with each alarm's statistic, threshold and period. The
// posture checks judge meaning, not text: any pattern that matches the right records counts.
import {
  FlowLogAggregator, compileTopology, judgeFlow, parseLogFormat, recordsAction,
  type Flow, type FlowLogConfig, type FlowLogRecord, type LogFormat, type Topology,
} from '../../src/cloud/services/ec2/dataplane/index.ts';
import { inVpc } from '../../src/cloud/services/ec2/dataplane/judge.ts';
import { compile, dimensionValues, metricValue } from '../../src/cloud/services/logs/filter-pattern/index.ts';
import { isBreaching } from '../../src/cloud/services/cloudwatch/alarms/evaluate.ts';
import { parsePercentile } from '../../src/cloud/services/cloudwatch/alarms/metric-store.ts';
import type { MetricAlarm } from '../../src/cloud/services/cloudwatch/alarms/types.ts';

export interface MetricFilterSpec {
  filterName?: string;
  filterPattern?: string;
  metricTransformations?: { metricName?: string; metricNamespace?: string; metricValue?: string; defaultValue?: number; dimensions?: Record<string, string> }[];
}

/** Datapoint values per metric series ("namespace|name|dims") and per one-minute window. */
export type Series = Map<string, Map<number, number[]>>;

export const seriesKey = (namespace: string, name: string, dims: Record<string, string> | { Name: string; Value: string }[] | undefined): string => {
  const pairs = Array.isArray(dims) ? dims.map((d) => [d.Name, d.Value] as const) : Object.entries(dims ?? {});
  return `${namespace}|${name}|${pairs.map(([k, v]) => `${k}=${v}`).sort().join(',')}`;
};

/**
 * The records one flow log would write for these flows, as the lab cloud's data plane writes them:
 * only for the interfaces it covers (its VPC, subnet or interface), only the actions its traffic
 * type records (ACCEPT, REJECT or ALL), aggregated over its MaxAggregationInterval.
 */
export function recordsOf(t: Topology, flows: Flow[], flowLog: FlowLogConfig): FlowLogRecord[] {
  const c = compileTopology(t);
  const agg = new FlowLogAggregator(flowLog);
  for (const f of flows) {
    for (const obs of judgeFlow(f, t).interfaces) {
      const ci = c.byId.get(obs.eni);
      if (!ci || ![ci.iface.id, ci.iface.subnetId, ci.iface.vpcId].includes(flowLog.resourceId) || !recordsAction(flowLog.trafficType, obs.action)) continue;
      const path = obs.direction === 'egress' ? (f.trafficPath ?? (inVpc(c, ci.iface.vpcId, obs.dstaddr) ? 1 : 8)) : undefined;
      agg.add(obs, f, { iface: ci.iface, subnet: ci.subnet, region: t.region }, path);
    }
  }
  return agg.flush(Number.MAX_SAFE_INTEGER, { force: true });
}

/** How much later than with one-minute aggregation a flow log's records can reach its log group (seconds). */
export const extraDelaySeconds = (flowLog: Pick<FlowLogConfig, 'maxAggregationInterval'>): number => (flowLog.maxAggregationInterval === 60 ? 0 : 600 - 60);

/** Applies metric filters to records rendered in `format`, as CloudWatch Logs would on delivery. */
export function applyFilters(filters: MetricFilterSpec[], records: FlowLogRecord[], format: string | undefined): Series {
  let f: LogFormat;
  try {
    f = parseLogFormat(format);
  } catch {
    f = parseLogFormat(undefined);
  }
  const lines = records.map((r) => ({ window: r.start - (r.start % 60), message: f.render(r) }));
  const series: Series = new Map();
  for (const mf of filters) {
    let compiled;
    try {
      compiled = compile(mf.filterPattern ?? '');
    } catch {
      continue;
    }
    for (const line of lines) {
      const m = compiled.match(line.message);
      for (const t of mf.metricTransformations ?? []) {
        const value = metricValue(compiled, m, { metricValue: t.metricValue ?? '1', defaultValue: t.defaultValue });
        if (value === undefined) continue;
        const key = seriesKey(t.metricNamespace ?? '', t.metricName ?? '', dimensionValues(compiled, m, t.dimensions));
        let byWindow = series.get(key);
        if (!byWindow) series.set(key, (byWindow = new Map()));
        const vs = byWindow.get(line.window);
        if (vs) vs.push(value);
        else byWindow.set(line.window, [value]);
      }
    }
  }
  return series;
}

/** The alarm's statistic over one minute of datapoints, scaled to its period (sums and counts grow with it). */
export function periodValue(alarm: MetricAlarm, values: number[]): number | undefined {
  if (!values.length) return undefined;
  const k = (alarm.Period ?? 60) / 60;
  const sum = values.reduce((a, b) => a + b, 0);
  switch (alarm.Statistic) {
    case 'Sum': return sum * k;
    case 'SampleCount': return values.length * k;
    case 'Average': return sum / values.length;
    case 'Minimum': return Math.min(...values);
    case 'Maximum': return Math.max(...values);
    default: {
      const p = alarm.ExtendedStatistic ? parsePercentile(alarm.ExtendedStatistic) : undefined;
      if (p === undefined) return undefined;
      const sorted = [...values].sort((a, b) => a - b);
      return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
    }
  }
}

/** The datapoints an alarm watches, per window, in a simulated series. */
export function watched(alarm: MetricAlarm, series: Series): Map<number, number[]> | undefined {
  if (!alarm.Namespace || !alarm.MetricName) return undefined;
  return series.get(seriesKey(alarm.Namespace, alarm.MetricName, alarm.Dimensions));
}

/** Minutes an attack lasts in the scenarios: an alarm must be able to go off within them. */
export const ATTACK_SECONDS = 360;

/**
 * Would the alarm go off when every minute looks like `series`' worst window? Needs a breaching
 * statistic and enough breaching periods (DatapointsToAlarm × Period) within the attack.
 */
export function wouldFire(alarm: MetricAlarm, series: Series, extraDelaySeconds = 0): { fires: boolean; value?: number; why?: string } {
  const w = watched(alarm, series);
  if (!w) return { fires: false, why: 'its metric gets no data from this traffic' };
  if (alarm.Metrics?.length) return { fires: false, why: 'metric math alarms are not evaluated by the lab cloud' };
  let best: number | undefined;
  for (const values of w.values()) {
    const v = periodValue(alarm, values);
    if (v === undefined) continue;
    if (isBreaching(alarm.ComparisonOperator, v, alarm.Threshold ?? 0)) {
      const m = alarm.DatapointsToAlarm ?? alarm.EvaluationPeriods;
      if (m * (alarm.Period ?? 60) > ATTACK_SECONDS) return { fires: false, value: v, why: `it needs ${m} breaching period(s) of ${alarm.Period} s, longer than the attack lasts` };
      if (m * (alarm.Period ?? 60) + extraDelaySeconds > ATTACK_SECONDS) {
        return { fires: false, value: v, why: `its records arrive up to ${extraDelaySeconds + 60} s after the traffic (MaxAggregationInterval), so with ${m} period(s) of ${alarm.Period} s it goes off only after the attack is over` };
      }
      return { fires: true, value: v };
    }
    best = best === undefined ? v : Math.max(best, v);
  }
  return { fires: false, ...(best !== undefined ? { value: best } : {}), why: `the ${alarm.Statistic ?? alarm.ExtendedStatistic} per period (${best ?? 'none'}) does not cross the threshold (${alarm.ComparisonOperator} ${alarm.Threshold})` };
}
