// CloudWatch (signing name "monitoring") in the gateway: metric data into the lab cloud's metric
// store, alarms mirrored for evaluation on the lab clock.
import type { ServiceExtension } from '../../gateway/extension.ts';
import { validatePutMetricAlarm, type MetricDatum, type PutMetricAlarmInput, type StateValue } from './alarms/index.ts';

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

export const cloudwatchExtension: ServiceExtension = {
  service: 'monitoring',

  async before({ call }) {
    if (call.operation === 'PutMetricAlarm') validatePutMetricAlarm(numbers(call.params) as unknown as PutMetricAlarmInput);
  },

  async after({ gateway, cred, call }) {
    const p = numbers(call.params) as Record<string, unknown>;
    switch (call.operation) {
      case 'PutMetricData':
        gateway.metricsFor(cred.account, call.region).putMetricData(String(p['Namespace']), (p['MetricData'] as MetricDatum[]) ?? [], gateway.clock.nowMs());
        break;
      case 'PutMetricAlarm':
        gateway.alarms.put(cred.account, call.region, p as unknown as PutMetricAlarmInput);
        break;
      case 'DeleteAlarms':
        gateway.alarms.remove(cred.account, call.region, (p['AlarmNames'] as string[]) ?? []);
        break;
      case 'SetAlarmState':
        await gateway.alarms.setState(cred.account, call.region, String(p['AlarmName']), p['StateValue'] as StateValue, String(p['StateReason'] ?? ''), p['StateReasonData'] as string | undefined);
        break;
    }
  },
};
