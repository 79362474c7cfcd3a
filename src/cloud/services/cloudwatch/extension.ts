// CloudWatch (signing name "monitoring") in the gateway: metric data into the lab cloud's metric
// store, alarms mirrored for evaluation on the lab clock.
import { jsonResult, queryResult, xmlEscape, type ServiceExtension } from '../../gateway/extension.ts';
import { validatePutMetricAlarm, type MetricDatum, type PutMetricAlarmInput, type StateValue } from './alarms/index.ts';
import type { CloudWatchService } from './index.ts';

/** Query-protocol numbers arrive as strings; the JSON protocol sends numbers. */
function numbers<T>(o: T): T {
  if (Array.isArray(o)) return o.map(numbers) as T;
  if (o && typeof o === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
      out[k] = typeof v === 'string' && ['Value', 'Threshold', 'Period', 'EvaluationPeriods', 'DatapointsToAlarm', 'SampleCount', 'Sum', 'Minimum', 'Maximum', 'StorageResolution'].includes(k) ? Number(v)
        : k === 'ActionsEnabled' && typeof v === 'string' ? v === 'true' : numbers(v);
    }
    return out as T;
  }
  return o;
}

export function cloudwatchExtension(cloudwatch: CloudWatchService): ServiceExtension {
  return {
    service: 'monitoring',

    /** DescribeAlarmHistory from the lab cloud's own evaluations (moto records none). */
    async serve({ cred, call, requestId }) {
      if (call.operation !== 'DescribeAlarmHistory') return undefined;
      const p = call.params as { AlarmName?: string; HistoryItemType?: string; StartDate?: string | number; EndDate?: string | number; MaxRecords?: number | string; ScanBy?: string };
      const time = (v: string | number | undefined) => (v === undefined ? undefined : typeof v === 'number' ? v * 1000 : Number.isNaN(Number(v)) ? Date.parse(v) : Number(v) * 1000);
      const start = time(p.StartDate);
      const end = time(p.EndDate);
      let items = cloudwatch.alarms.history.filter((h) => h.account === cred.account
        && (!p.AlarmName || h.AlarmName === p.AlarmName) && (!p.HistoryItemType || h.HistoryItemType === p.HistoryItemType)
        && (start === undefined || h.Timestamp.getTime() >= start) && (end === undefined || h.Timestamp.getTime() <= end));
      items = p.ScanBy === 'TimestampAscending' ? items : [...items].reverse();
      items = items.slice(0, Number(p.MaxRecords ?? 100));
      if (call.protocol === 'query') {
        const members = items.map((h) => `<member><AlarmName>${xmlEscape(h.AlarmName)}</AlarmName><AlarmType>${h.AlarmType}</AlarmType><Timestamp>${h.Timestamp.toISOString()}</Timestamp><HistoryItemType>${h.HistoryItemType}</HistoryItemType><HistorySummary>${xmlEscape(h.HistorySummary)}</HistorySummary><HistoryData>${xmlEscape(h.HistoryData)}</HistoryData></member>`).join('');
        return queryResult('monitoring', 'DescribeAlarmHistory', `<AlarmHistoryItems>${members}</AlarmHistoryItems>`, requestId);
      }
      return jsonResult({ AlarmHistoryItems: items.map(({ account: _a, ...h }) => ({ ...h, Timestamp: h.Timestamp.getTime() / 1000 })) }, requestId, 'application/x-amz-json-1.0');
    },

    async before({ call }) {
      if (call.operation === 'PutMetricAlarm') validatePutMetricAlarm(numbers(call.params) as unknown as PutMetricAlarmInput);
    },

    async after({ cred, call }) {
      const p = numbers(call.params) as Record<string, unknown>;
      switch (call.operation) {
        case 'PutMetricData':
          cloudwatch.metricsFor(cred.account, call.region).putMetricData(String(p['Namespace']), (p['MetricData'] as MetricDatum[]) ?? [], cloudwatch.clock.nowMs());
          break;
        case 'PutMetricAlarm': {
          const input = p as unknown as PutMetricAlarmInput;
          cloudwatch.alarms.put(cred.account, call.region, input);
          // AWS: a new alarm starts INSUFFICIENT_DATA, an updated one keeps its state. moto starts every
          // alarm it stores (new or replaced) as OK, so its copy gets the runtime's state.
          const alarm = cloudwatch.alarms.list(cred.account, call.region).find((a) => a.AlarmName === input.AlarmName);
          if (alarm) {
            await cloudwatch.target.json(cred.account, 'cloudwatch', 'SetAlarmState', {
              AlarmName: alarm.AlarmName, StateValue: alarm.StateValue, StateReason: alarm.StateReason,
              ...(alarm.StateReasonData ? { StateReasonData: alarm.StateReasonData } : {}),
            }, call.region);
          }
          break;
        }
        case 'DeleteAlarms':
          cloudwatch.alarms.remove(cred.account, call.region, (p['AlarmNames'] as string[]) ?? []);
          break;
        case 'SetAlarmState':
          await cloudwatch.alarms.setState(cred.account, call.region, String(p['AlarmName']), p['StateValue'] as StateValue, String(p['StateReason'] ?? ''), p['StateReasonData'] as string | undefined);
          break;
      }
    },
  };
}
