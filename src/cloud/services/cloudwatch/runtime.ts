// CloudWatch alarms evaluated on the lab clock (moto stores alarms and never evaluates them): alarms
// are mirrored from PutMetricAlarm calls, evaluated at every minute the clock passes, their state
// written back to the target (so DescribeAlarms shows it), and their actions carried out: SNS
// notifications in AWS's format, Lambda actions, and the state-change event on the default bus.
import type { Capabilities } from '../../gateway/service.ts';
import {
  createMetricAlarm, updateMetricAlarm, deleteMetricAlarm, setAlarmState, evaluateAlarm, evaluationTimes, actionHistoryItem,
  type MetricAlarm, type PutMetricAlarmInput, type AlarmHistoryItem, type AlarmAction, type StateValue,
} from './alarms/index.ts';

interface Entry { alarm: MetricAlarm; lastEvaluated: number }

export class AlarmRuntime {
  private alarms = new Map<string, Entry>(); // account|region|name
  readonly history: (AlarmHistoryItem & { account: string })[] = [];

  constructor(private readonly caps: Capabilities) {}

  private key(account: string, region: string, name: string): string {
    return `${account}|${region}|${name}`;
  }

  list(account: string, region?: string): MetricAlarm[] {
    return [...this.alarms.entries()].filter(([k]) => k.startsWith(`${account}|${region ?? ''}`)).map(([, e]) => e.alarm);
  }

  put(account: string, region: string, input: PutMetricAlarmInput): void {
    const now = this.caps.clock.now();
    const k = this.key(account, region, input.AlarmName);
    const existing = this.alarms.get(k);
    const { alarm, history } = existing ? updateMetricAlarm(existing.alarm, input, now) : createMetricAlarm(input, { region, account, now });
    this.alarms.set(k, { alarm, lastEvaluated: existing?.lastEvaluated ?? now.getTime() });
    this.record(account, history);
  }

  remove(account: string, region: string, names: string[]): void {
    for (const name of names) {
      const e = this.alarms.get(this.key(account, region, name));
      if (!e) continue;
      this.record(account, [deleteMetricAlarm(e.alarm, this.caps.clock.now())]);
      this.alarms.delete(this.key(account, region, name));
    }
  }

  /** SetAlarmState by a client: the state changes and actions run, as in AWS. */
  async setState(account: string, region: string, name: string, state: StateValue, reason: string, reasonData?: string): Promise<void> {
    const e = this.alarms.get(this.key(account, region, name));
    if (!e) return;
    const r = setAlarmState(e.alarm, { StateValue: state, StateReason: reason, StateReasonData: reasonData }, this.caps.clock.now());
    e.alarm = r.alarm;
    this.record(account, r.history);
    await this.act(account, region, e.alarm, r.actions, r.event);
  }

  private record(account: string, items: AlarmHistoryItem[]): void {
    for (const i of items) this.history.push({ ...i, account });
    if (this.history.length > 50_000) this.history.splice(0, 5_000);
  }

  /** Evaluates every alarm at each minute between its last evaluation and now. */
  async tick(now: number): Promise<void> {
    for (const [k, e] of this.alarms) {
      const [account, region] = k.split('|') as [string, string];
      for (const t of evaluationTimes(e.alarm, e.lastEvaluated, now)) {
        const r = evaluateAlarm(e.alarm, this.caps.service('cloudwatch').metricsFor(account, region), t);
        e.lastEvaluated = t.getTime();
        if (!r.changed) continue;
        e.alarm = r.alarm;
        this.record(account, r.history);
        // Keep the target's copy in step, so DescribeAlarms through the gateway shows the state.
        await this.caps.target.json(account, 'cloudwatch', 'SetAlarmState', {
          AlarmName: e.alarm.AlarmName, StateValue: e.alarm.StateValue, StateReason: e.alarm.StateReason,
          ...(e.alarm.StateReasonData ? { StateReasonData: e.alarm.StateReasonData } : {}),
        }, region).catch(() => undefined);
        await this.act(account, region, e.alarm, r.actions, r.event);
      }
      if (e.lastEvaluated < now - 60_000) e.lastEvaluated = now;
    }
  }

  private async act(account: string, region: string, alarm: MetricAlarm, actions: AlarmAction[], event: unknown): Promise<void> {
    const at = this.caps.clock.now();
    for (const a of actions) {
      try {
        if (a.type === 'sns') await this.caps.service('sns').publishAsService(account, a.arn, a.message, a.subject, a.emailMessage);
        else if (a.type === 'lambda') this.caps.service('lambda').invokeAsync(account, a.arn.split(':')[3] ?? region, a.arn, JSON.parse(a.payload), { service: 'lambda.alarms.cloudwatch.amazonaws.com', sourceArn: alarm.AlarmArn });
        else throw new Error(`${a.type} alarm actions are not emulated`);
        this.record(account, [actionHistoryItem(alarm, a, { ok: true }, at)]);
      } catch (err) {
        this.record(account, [actionHistoryItem(alarm, a, { ok: false, error: (err as Error).message }, at)]);
      }
    }
    if (event) await this.caps.service('events').emit(account, region, event as never).catch(() => 0);
  }

  dropAccount(account: string): void {
    for (const k of this.alarms.keys()) if (k.startsWith(`${account}|`)) this.alarms.delete(k);
  }
}
