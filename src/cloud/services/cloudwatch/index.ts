// CloudWatch (signing name "monitoring") in the lab cloud: the metric store (PutMetricData and the
// logs service's metric filters write to it), alarms evaluated on the lab clock (runtime.ts).
import { defineService, type Capabilities, type ServiceRuntime } from '../../gateway/service.ts';
import type { ServiceExtension } from '../../gateway/extension.ts';
import type { LabClock } from '../../gateway/clock.ts';
import type { Upstream } from '../../gateway/upstream.ts';
import { MetricStore } from './alarms/metric-store.ts';
import { AlarmRuntime } from './runtime.ts';
import { cloudwatchExtension } from './extension.ts';

export class CloudWatchService implements ServiceRuntime {
  readonly alarms: AlarmRuntime;
  readonly clock: LabClock;
  readonly target: Upstream;
  readonly extensions: ServiceExtension[];
  private readonly metricStores = new Map<string, MetricStore>();

  constructor(caps: Capabilities) {
    this.clock = caps.clock;
    this.target = caps.target;
    this.alarms = new AlarmRuntime(caps);
    this.extensions = [cloudwatchExtension(this)];
  }

  /** CloudWatch metrics of an account and region (PutMetricData, metric filters), for alarms. */
  metricsFor(account: string, region: string): MetricStore {
    const key = `${account}|${region}`;
    let m = this.metricStores.get(key);
    if (!m) this.metricStores.set(key, (m = new MetricStore()));
    return m;
  }

  /** Alarms evaluated at every minute the lab clock passed. */
  evaluate(nowMs: number): Promise<void> {
    return this.alarms.tick(nowMs);
  }

  dropAccount(account: string): void {
    this.alarms.dropAccount(account);
    for (const k of this.metricStores.keys()) if (k.startsWith(`${account}|`)) this.metricStores.delete(k);
  }
}

declare module '../../gateway/service.ts' {
  interface LabServices {
    cloudwatch: CloudWatchService;
  }
}

export const cloudwatchService = defineService('cloudwatch', (caps) => new CloudWatchService(caps));
