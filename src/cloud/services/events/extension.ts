// EventBridge in the gateway: PutEvents delivered by the lab cloud's bus (moto cannot deliver to Lambda
// or SNS targets), TestEventPattern and rule patterns checked by the same engine.
import { jsonResult, type ServiceExtension } from '../../gateway/extension.ts';
import { compilePattern, testEventPattern } from './pattern/index.ts';
import type { EventBus } from './bus.ts';

interface PutEventsEntry { Source?: string; DetailType?: string; Detail?: string; Resources?: string[]; EventBusName?: string; Time?: string | number }

export function eventsExtension(events: EventBus): ServiceExtension {
  return {
    service: 'events',

    async serve({ cred, call, requestId }) {
      if (call.operation === 'TestEventPattern') {
        const p = call.params as { EventPattern?: string; Event?: string };
        return jsonResult({ Result: testEventPattern(p.EventPattern ?? '', p.Event ?? '') }, requestId);
      }
      if (call.operation !== 'PutEvents') return undefined;
      const entries = (call.params['Entries'] as PutEventsEntry[] | undefined) ?? [];
      const results: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[] = [];
      for (const e of entries) {
        let detail: unknown;
        try {
          detail = JSON.parse(e.Detail ?? '{}');
        } catch {
          results.push({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' });
          continue;
        }
        if (e.Source?.startsWith('aws.')) {
          // Sources of AWS services are reserved: a client cannot forge their events.
          results.push({ ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' });
          continue;
        }
        if (!e.Source || !e.DetailType) {
          results.push({ ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameters Source and DetailType are required.' });
          continue;
        }
        const ev = events.event(cred.account, call.region, e.Source, e.DetailType, detail, e.Resources ?? []);
        const bus = (e.EventBusName ?? 'default').split('/').pop()!;
        await events.emit(cred.account, call.region, ev, bus);
        results.push({ EventId: ev.id });
      }
      return jsonResult({ FailedEntryCount: results.filter((r) => r.ErrorCode).length, Entries: results }, requestId);
    },

    async before({ call }) {
      if (call.operation === 'PutRule' && call.params['EventPattern'] !== undefined) compilePattern(String(call.params['EventPattern']));
    },

    async after({ cred, call }) {
      if (['PutRule', 'DeleteRule', 'PutTargets', 'RemoveTargets', 'EnableRule', 'DisableRule'].includes(call.operation)) {
        events.invalidate(cred.account, call.region);
      }
    },
  };
}
