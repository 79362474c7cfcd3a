// An in-memory CloudWatch metric store: PutMetricData in, statistics over a time window out.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Statistic
//
// A metric is its namespace, name and full set of dimensions (order does not matter). Datapoints keep
// their unit; a query with a unit sees only datapoints of that unit. Raw values (Value, or Values with
// Counts) keep every value so that percentiles are exact; statistic sets keep SampleCount/Sum/Min/Max,
// and a window holding a statistic set with Minimum != Maximum has no percentile (CloudWatch cannot
// compute one either).
import { ApiError } from '../../../gateway/api-error.ts';
import type { Dimension, Statistic } from './types.ts';

export interface StatisticSet {
  SampleCount: number;
  Sum: number;
  Minimum: number;
  Maximum: number;
}

/** A MetricDatum of PutMetricData. */
export interface MetricDatum {
  MetricName: string;
  Dimensions?: Dimension[];
  /** Defaults to the time of the put. */
  Timestamp?: Date | string | number;
  Value?: number;
  Values?: number[];
  Counts?: number[];
  StatisticValues?: StatisticSet;
  Unit?: string;
  StorageResolution?: number;
}

export interface Statistics {
  SampleCount: number;
  Sum: number;
  Minimum: number;
  Maximum: number;
  Average: number;
  /** Percentile p (0-100) of the window, undefined when it cannot be computed. */
  percentile(p: number): number | undefined;
}

interface Point {
  t: number;
  unit: string;
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Raw values and their counts (absent for a statistic set). */
  values?: number[];
  counts?: number[];
}

interface Series {
  namespace: string;
  metricName: string;
  dimensions: Dimension[];
  points: Point[];
}

const MAX_VALUE = 2 ** 360;
const MIN_MAGNITUDE = 2 ** -260;

/** "p99", "p99.9", "p0.5" ... (ExtendedStatistic); returns the percentile or undefined. */
export function parsePercentile(stat: string): number | undefined {
  const m = /^p(\d{1,3}(?:\.\d{1,10})?)$/.exec(stat);
  if (!m) return undefined;
  const p = Number(m[1]);
  return p >= 0 && p <= 100 ? p : undefined;
}

function seriesKey(namespace: string, metricName: string, dimensions: readonly Dimension[] | undefined): string {
  const dims = (dimensions ?? []).map((d) => `${d.Name}\u0001${d.Value}`).sort();
  return `${namespace}\u0000${metricName}\u0000${dims.join('\u0000')}`;
}

function toMillis(t: Date | string | number): number {
  return t instanceof Date ? t.getTime() : typeof t === 'number' ? t : Date.parse(t);
}

function invalid(message: string, code = 'InvalidParameterValue'): ApiError {
  return new ApiError(400, code, message);
}

function checkValue(v: number, where: string): void {
  if (!Number.isFinite(v)) throw invalid(`The value ${v} for parameter ${where} is invalid.`);
  const abs = Math.abs(v);
  if (abs > MAX_VALUE || (abs !== 0 && abs < MIN_MAGNITUDE)) throw invalid(`The value ${v} for parameter ${where} is invalid.`);
}

export class MetricStore {
  private readonly series = new Map<string, Series>();

  /**
   * PutMetricData. `now` is the lab clock: it stamps datapoints without a Timestamp and bounds the
   * accepted times (at most two weeks in the past and two hours in the future, as CloudWatch).
   */
  putMetricData(namespace: string, data: MetricDatum[], now: Date | number = Date.now()): void {
    const nowMs = toMillis(now);
    if (!namespace || namespace.startsWith(':')) throw invalid(`The value ${namespace} for parameter Namespace is invalid.`);
    data.forEach((d, i) => this.putOne(namespace, d, nowMs, `MetricData.member.${i + 1}`));
  }

  private putOne(namespace: string, d: MetricDatum, nowMs: number, member: string): void {
    const t = d.Timestamp === undefined ? nowMs : toMillis(d.Timestamp);
    if (!Number.isFinite(t)) throw invalid(`The value for parameter ${member}.Timestamp is invalid.`);
    if (t < nowMs - 14 * 86400_000 || t > nowMs + 2 * 3600_000) {
      throw invalid(`The parameter ${member}.Timestamp must specify a time no more than two weeks in the past and no more than two hours in the future.`);
    }
    const given = [d.Value !== undefined, d.Values !== undefined, d.StatisticValues !== undefined].filter(Boolean).length;
    if (given > 1) {
      const names = [d.Value !== undefined && 'Value', d.Values !== undefined && 'Values', d.StatisticValues !== undefined && 'StatisticValues'].filter(Boolean);
      throw invalid(`The parameters ${member}.${names[0]} and ${member}.${names[1]} are mutually exclusive and you have specified both.`, 'InvalidParameterCombination');
    }
    if (given === 0) throw invalid(`At least one of the parameters ${member}.Value, ${member}.Values or ${member}.StatisticValues must be specified.`, 'MissingParameter');
    const unit = d.Unit ?? 'None';
    let point: Point;
    if (d.StatisticValues) {
      const s = d.StatisticValues;
      for (const [k, v] of Object.entries(s)) checkValue(v, `${member}.StatisticValues.${k}`);
      if (s.SampleCount <= 0) throw invalid(`The value ${s.SampleCount} for parameter ${member}.StatisticValues.SampleCount is invalid.`);
      if (s.Minimum > s.Maximum) throw invalid(`The parameter ${member}.StatisticValues.Maximum must be greater than ${member}.StatisticValues.Minimum.`);
      point = { t, unit, count: s.SampleCount, sum: s.Sum, min: s.Minimum, max: s.Maximum };
    } else {
      const values = d.Values ?? [d.Value!];
      const counts = d.Counts ?? values.map(() => 1);
      if (d.Counts && d.Counts.length !== values.length) {
        throw invalid(`The parameters ${member}.Values and ${member}.Counts must be of the same size.`, 'InvalidParameterCombination');
      }
      if (values.length === 0) return;
      let count = 0;
      let sum = 0;
      let min = Infinity;
      let max = -Infinity;
      values.forEach((v, i) => {
        checkValue(v, d.Values ? `${member}.Values.member.${i + 1}` : `${member}.Value`);
        const c = counts[i]!;
        count += c;
        sum += v * c;
        if (v < min) min = v;
        if (v > max) max = v;
      });
      point = { t, unit, count, sum, min, max, values: [...values], counts: [...counts] };
    }
    const key = seriesKey(namespace, d.MetricName, d.Dimensions);
    let s = this.series.get(key);
    if (!s) {
      s = { namespace, metricName: d.MetricName, dimensions: [...(d.Dimensions ?? [])], points: [] };
      this.series.set(key, s);
    }
    insertSorted(s.points, point);
  }

  /** Statistics of the datapoints with start <= timestamp < end; undefined when there are none. */
  getStatistics(
    namespace: string,
    metricName: string,
    dimensions: readonly Dimension[] | undefined,
    start: Date | number,
    end: Date | number,
    unit?: string,
  ): Statistics | undefined {
    const s = this.series.get(seriesKey(namespace, metricName, dimensions));
    if (!s) return undefined;
    const from = toMillis(start);
    const to = toMillis(end);
    const pts = s.points;
    let count = 0;
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    const inWindow: Point[] = [];
    for (let i = lowerBound(pts, from); i < pts.length && pts[i]!.t < to; i++) {
      const p = pts[i]!;
      if (unit !== undefined && p.unit !== unit) continue;
      count += p.count;
      sum += p.sum;
      if (p.min < min) min = p.min;
      if (p.max > max) max = p.max;
      inWindow.push(p);
    }
    if (inWindow.length === 0) return undefined;
    return {
      SampleCount: count,
      Sum: sum,
      Minimum: min,
      Maximum: max,
      Average: sum / count,
      percentile: (p: number) => percentileOf(inWindow, count, p),
    };
  }

  /**
   * One statistic ("Sum", "Average", ..., or an extended statistic such as "p99") over start <= t < end.
   */
  getStatistic(
    namespace: string,
    metricName: string,
    dimensions: readonly Dimension[] | undefined,
    start: Date | number,
    end: Date | number,
    statistic: Statistic | string,
    unit?: string,
  ): number | undefined {
    const stats = this.getStatistics(namespace, metricName, dimensions, start, end, unit);
    if (!stats) return undefined;
    return statisticValue(stats, statistic);
  }

  /** GetMetricStatistics-style datapoints, one per period that has data, oldest first. */
  getMetricStatistics(params: {
    Namespace: string;
    MetricName: string;
    Dimensions?: Dimension[];
    StartTime: Date | number;
    EndTime: Date | number;
    Period: number;
    Statistics?: Statistic[];
    ExtendedStatistics?: string[];
    Unit?: string;
  }): { Timestamp: Date; Unit: string; [stat: string]: unknown }[] {
    const out: { Timestamp: Date; Unit: string; [stat: string]: unknown }[] = [];
    const start = toMillis(params.StartTime);
    const end = toMillis(params.EndTime);
    for (let t = start; t < end; t += params.Period * 1000) {
      const stats = this.getStatistics(params.Namespace, params.MetricName, params.Dimensions, t, Math.min(t + params.Period * 1000, end), params.Unit);
      if (!stats) continue;
      const dp: { Timestamp: Date; Unit: string; [stat: string]: unknown } = { Timestamp: new Date(t), Unit: params.Unit ?? this.unitAt(params, t) };
      for (const s of params.Statistics ?? []) dp[s] = statisticValue(stats, s);
      if (params.ExtendedStatistics?.length) {
        dp.ExtendedStatistics = Object.fromEntries(params.ExtendedStatistics.map((e) => [e, statisticValue(stats, e)]));
      }
      out.push(dp);
    }
    return out;
  }

  private unitAt(params: { Namespace: string; MetricName: string; Dimensions?: Dimension[] }, t: number): string {
    const s = this.series.get(seriesKey(params.Namespace, params.MetricName, params.Dimensions));
    const p = s?.points[lowerBound(s.points, t)];
    return p?.unit ?? 'None';
  }

  /** ListMetrics: the metrics that have datapoints, optionally filtered. */
  listMetrics(filter: { Namespace?: string; MetricName?: string } = {}): { Namespace: string; MetricName: string; Dimensions: Dimension[] }[] {
    const out: { Namespace: string; MetricName: string; Dimensions: Dimension[] }[] = [];
    for (const s of this.series.values()) {
      if (filter.Namespace !== undefined && s.namespace !== filter.Namespace) continue;
      if (filter.MetricName !== undefined && s.metricName !== filter.MetricName) continue;
      out.push({ Namespace: s.namespace, MetricName: s.metricName, Dimensions: s.dimensions.map((d) => ({ ...d })) });
    }
    return out;
  }

  /** Drops datapoints older than `before` (CloudWatch keeps 1-minute data for 15 days). */
  prune(before: Date | number): void {
    const t = toMillis(before);
    for (const s of this.series.values()) {
      const i = lowerBound(s.points, t);
      if (i > 0) s.points.splice(0, i);
    }
  }
}

export function statisticValue(stats: Statistics, statistic: Statistic | string): number | undefined {
  switch (statistic) {
    case 'SampleCount':
      return stats.SampleCount;
    case 'Sum':
      return stats.Sum;
    case 'Minimum':
      return stats.Minimum;
    case 'Maximum':
      return stats.Maximum;
    case 'Average':
      return stats.Average;
    default: {
      const p = parsePercentile(statistic);
      return p === undefined ? undefined : stats.percentile(p);
    }
  }
}

/** Nearest-rank percentile over the values (with counts) of the window. */
function percentileOf(points: Point[], total: number, p: number): number | undefined {
  const pairs: [number, number][] = [];
  for (const pt of points) {
    if (pt.values && pt.counts) pt.values.forEach((v, i) => pairs.push([v, pt.counts![i]!]));
    else if (pt.min === pt.max) pairs.push([pt.min, pt.count]);
    else return undefined;
  }
  pairs.sort((a, b) => a[0] - b[0]);
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (const [v, c] of pairs) {
    seen += c;
    if (seen >= rank) return v;
  }
  return pairs[pairs.length - 1]?.[0];
}

function lowerBound(points: Point[], t: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid]!.t < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(points: Point[], p: Point): void {
  if (points.length === 0 || points[points.length - 1]!.t <= p.t) {
    points.push(p);
    return;
  }
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid]!.t <= p.t) lo = mid + 1;
    else hi = mid;
  }
  points.splice(lo, 0, p);
}
