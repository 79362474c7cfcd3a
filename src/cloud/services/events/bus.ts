// EventBridge delivery, which moto does not do for Lambda and SNS targets: events put by clients and
// emitted by the lab cloud (alarm state changes) are matched against the rules of the bus with the
// event-pattern engine and delivered to their targets.
import { randomUUID } from 'node:crypto';
import { defineService, type Capabilities, type ServiceRuntime } from '../../gateway/service.ts';
import type { ServiceExtension } from '../../gateway/extension.ts';
import { eventsExtension } from './extension.ts';
import { compilePattern, type CompiledEventPattern } from './pattern/index.ts';

interface Rule { Name: string; Arn?: string; EventPattern?: string; State?: string; EventBusName?: string }
interface Target { Id: string; Arn: string; Input?: string; InputPath?: string }
export interface RuleWithTargets { rule: Rule; pattern?: CompiledEventPattern; targets: Target[] }

export interface BusEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
}

export class EventBus implements ServiceRuntime {
  private rules = new Map<string, Promise<RuleWithTargets[]>>();
  /** Every delivery made, for graders and tests. */
  readonly deliveries: { account: string; rule: string; target: string; event: BusEvent }[] = [];

  readonly extensions: ServiceExtension[] = [eventsExtension(this)];

  constructor(private readonly caps: Capabilities) {}

  invalidate(account: string, region: string): void {
    for (const k of this.rules.keys()) if (k.startsWith(`${account}|${region}|`)) this.rules.delete(k);
  }

  /** The enabled rules of a bus with their targets, as events are matched against them (checks read them here too). */
  rulesOf(account: string, region: string, bus = 'default'): Promise<RuleWithTargets[]> {
    return this.load(account, region, bus);
  }

  private load(account: string, region: string, bus: string): Promise<RuleWithTargets[]> {
    const key = `${account}|${region}|${bus}`;
    let p = this.rules.get(key);
    if (!p) {
      const up = this.caps.target;
      p = (async () => {
        const rules = (await up.json<{ Rules?: Rule[] }>(account, 'events', 'ListRules', { EventBusName: bus }, region)).Rules ?? [];
        const out: RuleWithTargets[] = [];
        for (const rule of rules) {
          if (rule.State === 'DISABLED' || !rule.EventPattern) continue;
          const targets = (await up.json<{ Targets?: Target[] }>(account, 'events', 'ListTargetsByRule', { Rule: rule.Name, EventBusName: bus }, region)).Targets ?? [];
          out.push({ rule, pattern: compilePattern(rule.EventPattern), targets });
        }
        return out;
      })();
      this.rules.set(key, p);
      p.catch(() => this.rules.delete(key));
    }
    return p;
  }

  /** Builds an event as EventBridge stamps it. */
  event(account: string, region: string, source: string, detailType: string, detail: unknown, resources: string[] = []): BusEvent {
    return { version: '0', id: randomUUID(), 'detail-type': detailType, source, account, time: this.caps.clock.now().toISOString().replace(/\.\d{3}Z$/, 'Z'), region, resources, detail };
  }

  /** Matches an event against the bus's rules and delivers it to their targets. Returns how many rules matched. */
  async emit(account: string, region: string, event: BusEvent, bus = 'default'): Promise<number> {
    let matched = 0;
    for (const { rule, pattern, targets } of await this.load(account, region, bus)) {
      if (!pattern?.matches(event)) continue;
      matched++;
      for (const t of targets) {
        let payload: unknown = event;
        if (t.Input) payload = JSON.parse(t.Input);
        else if (t.InputPath) payload = t.InputPath.replace(/^\$\.?/, '').split('.').filter(Boolean).reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], event);
        this.deliveries.push({ account, rule: rule.Name, target: t.Arn, event });
        if (this.deliveries.length > 10_000) this.deliveries.splice(0, 1_000);
        await this.sendToTarget(account, region, t.Arn, payload, rule.Arn ?? `arn:aws:events:${region}:${account}:rule/${rule.Name}`).catch(() => undefined);
      }
    }
    return matched;
  }

  private async sendToTarget(account: string, region: string, arn: string, payload: unknown, ruleArn: string): Promise<void> {
    const service = arn.split(':')[2];
    if (service === 'lambda') this.caps.service('lambda').invokeAsync(account, arn.split(':')[3] ?? region, arn, payload, { service: 'events.amazonaws.com', sourceArn: ruleArn });
    else if (service === 'sns') await this.caps.service('sns').publishAsService(account, arn, JSON.stringify(payload));
    else if (service === 'sqs') {
      const [, , , r, acct, name] = arn.split(':');
      const queueUrl = `${this.caps.target.url}/${acct}/${name}`;
      await this.caps.target.json(account, 'sqs', 'SendMessage', { QueueUrl: queueUrl, MessageBody: JSON.stringify(payload) }, r);
    } else if (service === 'logs') {
      const group = /:log-group:([^:]+)/.exec(arn)?.[1];
      if (group) await this.caps.sinks.putLogEvents(account, arn.split(':')[3] ?? region, group, `events-${this.caps.clock.now().toISOString().slice(0, 10)}`, [{ timestamp: this.caps.clock.nowMs(), message: JSON.stringify(payload) }]);
    }
  }
}

declare module '../../gateway/service.ts' {
  interface LabServices {
    events: EventBus;
  }
}

export const eventsService = defineService('events', (caps) => new EventBus(caps));
