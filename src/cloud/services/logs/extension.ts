// CloudWatch Logs in the gateway: metric filters and subscription filters applied to every log event
// (moto stores both and applies neither), on PutLogEvents from clients and on what the lab cloud
// delivers itself (CloudTrail, flow logs, Lambda logs); TestMetricFilter answered by the same engine;
// filter patterns AWS would reject are rejected.
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { jsonResult, type ServiceExtension } from '../../gateway/extension.ts';
import { ApiError } from '../../gateway/api-error.ts';
import { defineService, type Capabilities, type ServiceRuntime } from '../../gateway/service.ts';
import { filterLogEventsExtension } from './filter-log-events.ts';
import type { LogEvent } from '../../gateway/sinks.ts';
import { compile, testMetricFilter, validateMetricTransformation } from './filter-pattern/index.ts';
import { metricDataFor, type MetricFilter, type MetricTransformation } from './metric-filters.ts';


export interface SubscriptionFilter { filterName: string; filterPattern?: string; destinationArn?: string }

export interface GroupFilters { metric: MetricFilter[]; subscription: SubscriptionFilter[] }

/**
 * The CloudWatch Logs runtime: filters per account|region|group, read from the target and kept until
 * they change, applied to every event written (by clients or by the lab cloud's own deliveries).
 */
export class LogFilters implements ServiceRuntime {
  private cache = new Map<string, Promise<GroupFilters>>();
  readonly extensions: ServiceExtension[];

  constructor(private readonly caps: Capabilities) {
    this.extensions = [logsExtension(this), filterLogEventsExtension(caps)];
    // What the lab cloud writes to CloudWatch Logs itself goes through the same filters as clients' events.
    caps.sinks.onLogEvents((account, region, group, stream, events) => this.apply(account, region, group, stream, events));
  }

  invalidate(account: string, region: string, group: string): void {
    this.cache.delete(`${account}|${region}|${group}`);
  }

  /** A group's metric and subscription filters as they are applied (checks read them here too). */
  filters(account: string, region: string, group: string): Promise<GroupFilters> {
    const key = `${account}|${region}|${group}`;
    let p = this.cache.get(key);
    if (!p) {
      const up = this.caps.target;
      p = Promise.all([
        up.json<{ metricFilters?: MetricFilter[] }>(account, 'logs', 'DescribeMetricFilters', { logGroupName: group }, region).then((r) => r.metricFilters ?? [], () => []),
        up.json<{ subscriptionFilters?: SubscriptionFilter[] }>(account, 'logs', 'DescribeSubscriptionFilters', { logGroupName: group }, region).then((r) => r.subscriptionFilters ?? [], () => []),
      ]).then(([metric, subscription]) => ({ metric, subscription }));
      this.cache.set(key, p);
    }
    return p;
  }

  /** Runs a group's filters over new events: metrics into the metric store, matches to subscribers. */
  async apply(account: string, region: string, group: string, stream: string, events: LogEvent[]): Promise<void> {
    const { metric, subscription } = await this.filters(account, region, group);
    const metrics = this.caps.service('cloudwatch').metricsFor(account, region);
    for (const { namespace, datum } of metricDataFor(metric, events)) metrics.putMetricData(namespace, [datum], this.caps.clock.nowMs());
    for (const f of subscription) {
      const compiled = compile(f.filterPattern ?? '', { operation: 'PutSubscriptionFilter' });
      const matched = events.filter((e) => compiled.test(e.message));
      if (!matched.length || !f.destinationArn?.startsWith('arn:aws:lambda:')) continue;
      // The payload CloudWatch Logs sends to a Lambda subscriber: gzipped, base64, under awslogs.data.
      const data = gzipSync(JSON.stringify({
        messageType: 'DATA_MESSAGE', owner: account, logGroup: group, logStream: stream, subscriptionFilters: [f.filterName],
        logEvents: matched.map((e) => ({ id: randomBytes(28).toString('hex').replace(/\D/g, '').padEnd(56, '0').slice(0, 56), timestamp: e.timestamp, message: e.message })),
      })).toString('base64');
      this.caps.service('lambda').invokeAsync(account, f.destinationArn.split(':')[3] ?? region, f.destinationArn, { awslogs: { data } },
        { service: 'logs.amazonaws.com', sourceArn: `arn:aws:logs:${region}:${account}:log-group:${group}:*` });
    }
  }
}

/** The values PutRetentionPolicy accepts (CloudWatch Logs API Reference, PutRetentionPolicy); moto takes any. */
export const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

function validateRetention(value: unknown): void {
  if (typeof value === 'number' && RETENTION_DAYS.includes(value)) return;
  throw new ApiError(400, 'InvalidParameterException',
    `1 validation error detected: Value '${String(value ?? 'null')}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [${RETENTION_DAYS.join(', ')}]`);
}

export function logsExtension(logs: LogFilters): ServiceExtension {
  return {
    service: 'logs',

    async serve({ call, requestId }) {
      if (call.operation !== 'TestMetricFilter') return undefined;
      const p = call.params as { filterPattern?: string; logEventMessages?: string[] };
      return jsonResult(testMetricFilter(p.filterPattern ?? '', p.logEventMessages ?? []), requestId);
    },

    async before({ call }) {
      const p = call.params as { filterPattern?: string; metricTransformations?: MetricTransformation[] };
      if (call.operation === 'PutRetentionPolicy') validateRetention(call.params['retentionInDays']);
      if (call.operation === 'PutMetricFilter') {
        const compiled = compile(p.filterPattern ?? '', { operation: 'PutMetricFilter' });
        for (const t of p.metricTransformations ?? []) validateMetricTransformation(compiled, t);
      } else if (call.operation === 'PutSubscriptionFilter') {
        compile(p.filterPattern ?? '', { operation: 'PutSubscriptionFilter' });
      }
    },

    async after({ cred, call }) {
      const p = call.params as { logGroupName?: string; logStreamName?: string; logEvents?: LogEvent[] };
      const group = p.logGroupName ?? '';
      if (['PutMetricFilter', 'DeleteMetricFilter', 'PutSubscriptionFilter', 'DeleteSubscriptionFilter', 'DeleteLogGroup'].includes(call.operation)) {
        logs.invalidate(cred.account, call.region, group);
      } else if (call.operation === 'PutLogEvents') {
        await logs.apply(cred.account, call.region, group, p.logStreamName ?? '', p.logEvents ?? []);
      }
    },
  };
}

declare module '../../gateway/service.ts' {
  interface LabServices {
    logs: LogFilters;
  }
}

export const logsService = defineService('logs', (caps) => new LogFilters(caps));
