// The VPC data plane the gateway runs: scenario traffic in, verdicts out, flow-log records
// buffered per flow log and delivered to CloudWatch Logs or S3 when their capture windows close.
//
//   const plane = new DataPlane({ topology: new MotoTopologySource(target.url), sinks });
//   const verdicts = await plane.send(account, region, flows);   // judged against the live topology
//   await plane.flush(clock.nowMs());                             // closed windows → destinations
//   await plane.afterEc2Call(account, region, op, params);        // gateway: after each EC2 mutation
//
// Topologies are cached per account and region and dropped by `invalidate(account)` (the gateway
// calls `afterEc2Call`, which does it, after every successful mutating EC2 call), so a deny entry a
// responder adds to a network ACL decides the flows sent after it.
import type { Flow, FlowLogConfig, FlowVerdict, Topology } from './model.ts';
import { compileTopology, inVpc, judgeFlow, type CompiledInterface } from './judge.ts';
import {
  buildS3Files, flowLogsCovering, FlowLogAggregator, logStreamName, parseLogFormat, recordsAction,
  type FlowLogRecord, type LogFormat, type RecordContext,
} from './flowlog.ts';
import type { FlowLogSinks, LogEvent } from './sinks.ts';
import type { TopologySource } from './topology.ts';

export interface DataPlaneOptions {
  topology: TopologySource;
  sinks: FlowLogSinks;
  /** Records per interface and capture window before the rest is skipped (SKIPDATA). Default: unlimited. */
  maxRecordsPerWindow?: number;
  /** Write NODATA records for covered interfaces without traffic in a closed window. Default: off. */
  noData?: boolean;
  /**
   * How long after a window closes its records are delivered (AWS: typically about 5 minutes to
   * CloudWatch Logs and 10 to S3). Default 0: as soon as the window closes.
   */
  deliveryDelayMs?: { cloudWatchLogs?: number; s3?: number };
  /**
   * Optional check of the flow log's delivery permissions (its role, the bucket policy); a message
   * means the records are not delivered and the message is reported as the delivery error.
   */
  authorizeDelivery?: (account: string, region: string, flowLog: FlowLogConfig) => Promise<string | undefined>;
}

export interface FlushResult {
  /** Records delivered (lines written). */
  records: number;
  logEvents: number;
  objects: { bucket: string; key: string; records: number }[];
  errors: { account: string; flowLogId: string; message: string }[];
}

export interface FlowLogStats {
  account: string;
  region: string;
  flowLogId: string;
  /** Records produced (after aggregation) and delivered so far. */
  produced: number;
  delivered: number;
  pending: number;
  lastDeliveryMs?: number;
  lastError?: string;
}

/**
 * Sees every judged flow, whether or not a flow log covers it: GuardDuty reads VPC flow logs through
 * its own, independent stream (GuardDuty User Guide, "Foundational data sources"), not the customer's.
 */
export type FlowListener = (topology: Topology, flows: Flow[], verdicts: FlowVerdict[]) => void;

/** A flow log the data plane has produced records for. */
export interface TrackedFlowLog {
  account: string;
  region: string;
  agg: FlowLogAggregator;
  format: LogFormat | undefined;
  formatError: string | undefined;
  /** Observations dropped since the last flush because the LogFormat is invalid. */
  dropped: number;
  stats: FlowLogStats;
}

const planes = new Set<WeakRef<DataPlane>>();

/** Drops the cached topologies of an account in every data plane (the gateway calls it after EC2 mutations). */
export function invalidate(account: string, region?: string): void {
  for (const ref of planes) {
    const p = ref.deref();
    if (p) p.invalidate(account, region);
    else planes.delete(ref);
  }
}

/** EC2 operations that can change what the data plane sees (everything but reads). */
export function isEc2Mutation(operation: string): boolean {
  return !/^(Describe|Get|List|Search|Export)/.test(operation);
}

const asBool = (v: unknown): boolean | undefined => (v === undefined ? undefined : v === true || v === 'true');

export class DataPlane {
  private readonly cache = new Map<string, Promise<Topology>>();
  private readonly latest = new Map<string, Topology>();
  private readonly tracked = new Map<string, TrackedFlowLog>();
  /** Fast path: the tracked state of a flow-log config object of the current topology. */
  private readonly trackedByConfig = new WeakMap<FlowLogConfig, TrackedFlowLog>();
  private readonly destinationOptions = new Map<string, NonNullable<FlowLogConfig['destinationOptions']>>();
  private readonly contexts = new WeakMap<Topology, Map<string, RecordContext>>();
  private readonly ref = new WeakRef(this);
  private readonly flowListeners = new Set<FlowListener>();

  constructor(private readonly opts: DataPlaneOptions) {
    planes.add(this.ref);
  }

  /** Stops listening to module-level invalidations. */
  close(): void {
    planes.delete(this.ref);
    this.opts.topology.close?.();
  }

  // ---- topology ----

  /** The cached snapshot of an account and region (read from the source when missing). */
  topology(account: string, region: string): Promise<Topology> {
    const key = `${account}|${region}`;
    let p = this.cache.get(key);
    if (!p) {
      p = this.opts.topology.load(account, region).then((t) => this.withRememberedOptions(t));
      this.cache.set(key, p);
      p.then(
        (t) => { if (this.cache.get(key) === p) this.latest.set(key, t); },
        () => { if (this.cache.get(key) === p) this.cache.delete(key); },
      );
    }
    return p;
  }

  invalidate(account: string, region?: string): void {
    for (const key of [...this.cache.keys()]) {
      const [a, r] = key.split('|');
      if (a === account && (region === undefined || r === region)) this.cache.delete(key);
    }
  }

  /**
   * The gateway calls this after every successful EC2 call: drops the account's topology, lets the
   * source keep the emulator consistent, and remembers what the emulator does not store
   * (CreateFlowLogs' DestinationOptions). `params` are the decoded query parameters (wire names).
   */
  async afterEc2Call(account: string, region: string, operation: string, params: Record<string, unknown>): Promise<void> {
    if (!isEc2Mutation(operation)) return;
    if (operation === 'CreateFlowLogs') this.rememberDestinationOptions(account, region, params);
    this.invalidate(account, region);
    await this.opts.topology.afterEc2Call?.(account, region, operation, params);
    this.invalidate(account, region);
  }

  private rememberDestinationOptions(account: string, region: string, params: Record<string, unknown>): void {
    const o = params['DestinationOptions'] as Record<string, unknown> | undefined;
    if (!o || typeof o !== 'object') return;
    const options = {
      ...(o['FileFormat'] ? { fileFormat: String(o['FileFormat']) as 'plain-text' | 'parquet' } : {}),
      ...(asBool(o['HiveCompatiblePartitions']) !== undefined ? { hiveCompatiblePartitions: asBool(o['HiveCompatiblePartitions'])! } : {}),
      ...(asBool(o['PerHourPartition']) !== undefined ? { perHourPartition: asBool(o['PerHourPartition'])! } : {}),
    };
    const ids = params['ResourceId'];
    for (const id of Array.isArray(ids) ? ids : [ids]) {
      this.destinationOptions.set(`${account}|${region}|${String(id)}|${String(params['LogDestination'] ?? '')}`, options);
    }
  }

  private withRememberedOptions(t: Topology): Topology {
    if (!this.destinationOptions.size) return t;
    for (const fl of t.flowLogs) {
      if (fl.destinationOptions) continue;
      const o = this.destinationOptions.get(`${t.account}|${t.region}|${fl.resourceId}|${fl.logDestination ?? ''}`);
      if (o) fl.destinationOptions = o;
    }
    return t;
  }

  // ---- traffic ----

  /** Judges flows against the account's current topology and buffers their flow-log records. */
  async send(account: string, region: string, flows: Flow[]): Promise<FlowVerdict[]> {
    const topology = await this.topology(account, region);
    return this.sendWith(topology, flows);
  }

  /** Same as `send` with a given topology (no I/O). */
  sendWith(topology: Topology, flows: Flow[]): FlowVerdict[] {
    const c = compileTopology(topology);
    const key = `${topology.account}|${topology.region}`;
    if (!this.cache.has(key)) this.latest.set(key, topology);
    const out = new Array<FlowVerdict>(flows.length);
    for (let i = 0; i < flows.length; i++) {
      const flow = flows[i]!;
      const v = judgeFlow(flow, topology);
      out[i] = v;
      for (const obs of v.interfaces) {
        const logs = flowLogsCovering(topology, obs.eni);
        if (logs.length === 0) continue;
        const ci = c.byId.get(obs.eni)!;
        const ctx = this.contextOf(topology, ci);
        let trafficPath: number | undefined;
        if (obs.direction === 'egress') trafficPath = flow.trafficPath ?? (inVpc(c, ci.iface.vpcId, obs.dstaddr) ? 1 : 8);
        for (const fl of logs) {
          if (!recordsAction(fl.trafficType, obs.action)) continue;
          const t = this.track(topology.account, topology.region, fl);
          if (t.format) t.agg.add(obs, flow, ctx, trafficPath);
          else t.dropped++;
        }
      }
    }
    for (const l of this.flowListeners) l(topology, flows, out);
    return out;
  }

  /** Calls `listener` with every batch of judged flows; returns how to stop. */
  onFlows(listener: FlowListener): () => void {
    this.flowListeners.add(listener);
    return () => this.flowListeners.delete(listener);
  }

  private contextOf(topology: Topology, ci: CompiledInterface): RecordContext {
    let m = this.contexts.get(topology);
    if (!m) this.contexts.set(topology, (m = new Map()));
    let ctx = m.get(ci.id);
    if (!ctx) m.set(ci.id, (ctx = { iface: ci.iface, subnet: ci.subnet, region: topology.region }));
    return ctx;
  }

  private track(account: string, region: string, fl: FlowLogConfig): TrackedFlowLog {
    const known = this.trackedByConfig.get(fl);
    if (known) return known;
    const key = `${account}|${region}|${fl.id}`;
    let t = this.tracked.get(key);
    if (!t) {
      let format: LogFormat | undefined;
      let formatError: string | undefined;
      try {
        format = parseLogFormat(fl.logFormat);
      } catch (e) {
        formatError = (e as Error).message;
      }
      t = {
        account, region, agg: new FlowLogAggregator(fl, { maxRecordsPerWindow: this.opts.maxRecordsPerWindow }), format, formatError, dropped: 0,
        stats: { account, region, flowLogId: fl.id, produced: 0, delivered: 0, pending: 0, ...(formatError ? { lastError: formatError } : {}) },
      };
      this.tracked.set(key, t);
    } else {
      t.agg.config = fl;
    }
    this.trackedByConfig.set(fl, t);
    return t;
  }

  /** Records buffered and not yet delivered, over every flow log. */
  pending(): number {
    let n = 0;
    for (const t of this.tracked.values()) n += t.agg.pending;
    return n;
  }

  stats(): FlowLogStats[] {
    return [...this.tracked.values()].map((t) => ({ ...t.stats, pending: t.agg.pending }));
  }

  // ---- delivery ----

  /** The records of closed windows, rendered, without delivering them (tests, tools). */
  collect(now: number, opts: { force?: boolean } = {}): { tracked: TrackedFlowLog; records: FlowLogRecord[] }[] {
    const cwDelay = this.opts.deliveryDelayMs?.cloudWatchLogs ?? 0;
    const s3Delay = this.opts.deliveryDelayMs?.s3 ?? 0;
    const out: { tracked: TrackedFlowLog; records: FlowLogRecord[] }[] = [];
    for (const t of this.tracked.values()) {
      const cfg = t.agg.config;
      const delay = cfg.destinationType === 's3' ? s3Delay : cwDelay;
      let noDataFor: RecordContext[] | undefined;
      if (this.opts.noData) {
        const topo = this.latest.get(`${t.account}|${t.region}`);
        if (topo) {
          const c = compileTopology(topo);
          noDataFor = topo.interfaces
            .filter((i) => i.active && flowLogsCovering(topo, i.id).some((f) => f.id === cfg.id))
            .map((i) => this.contextOf(topo, c.byId.get(i.id)!));
        }
      }
      const records = t.agg.flush(now - delay, { force: opts.force, ...(noDataFor ? { noDataFor } : {}) });
      t.stats.produced += records.length;
      if (records.length) out.push({ tracked: t, records });
    }
    return out;
  }

  /** Delivers the records of every capture window closed at `now` (lab-clock ms); `force` delivers all. */
  async flush(now: number, opts: { force?: boolean } = {}): Promise<FlushResult> {
    const result: FlushResult = { records: 0, logEvents: 0, objects: [], errors: [] };
    const streams = new Map<string, { account: string; region: string; group: string; stream: string; events: LogEvent[]; owners: Map<TrackedFlowLog, number> }>();
    const files: { t: TrackedFlowLog; bucket: string; key: string; body: Buffer; records: number }[] = [];
    const fail = (t: TrackedFlowLog, message: string) => {
      t.stats.lastError = message;
      result.errors.push({ account: t.account, flowLogId: t.stats.flowLogId, message });
    };

    for (const t of this.tracked.values()) {
      if (t.dropped > 0) {
        fail(t, `${t.dropped} observations not recorded: ${t.formatError}`);
        t.dropped = 0;
      }
    }
    for (const { tracked: t, records } of this.collect(now, opts)) {
      const cfg = t.agg.config;
      const format = t.format!;
      if (this.opts.authorizeDelivery) {
        const denied = await this.opts.authorizeDelivery(t.account, t.region, cfg).catch((e: Error) => e.message);
        if (denied) {
          fail(t, denied);
          continue;
        }
      }
      if (cfg.destinationType === 'cloud-watch-logs') {
        if (!cfg.logGroupName) {
          fail(t, `flow log ${cfg.id} names no log group`);
          continue;
        }
        for (const r of records) {
          const stream = logStreamName(r.interfaceId);
          const key = `${t.account}|${t.region}|${cfg.logGroupName}|${stream}`;
          let s = streams.get(key);
          if (!s) streams.set(key, (s = { account: t.account, region: t.region, group: cfg.logGroupName, stream, events: [], owners: new Map() }));
          s.owners.set(t, (s.owners.get(t) ?? 0) + 1);
          s.events.push({ timestamp: r.start * 1000, message: format.render(r) });
        }
        t.stats.delivered += records.length;
      } else if (cfg.destinationType === 's3') {
        if (cfg.destinationOptions?.fileFormat === 'parquet') {
          fail(t, `flow log ${cfg.id}: Parquet files are not written by the lab cloud; use plain-text`);
          continue;
        }
        for (const f of buildS3Files(cfg, t.account, t.region, records, format)) files.push({ t, bucket: f.bucket, key: f.key, body: f.body, records: f.records });
        t.stats.delivered += records.length;
      } else {
        fail(t, `flow log ${cfg.id}: destination type ${cfg.destinationType} is not delivered by the lab cloud`);
      }
    }

    const tasks: (() => Promise<void>)[] = [];
    for (const s of streams.values()) {
      tasks.push(async () => {
        try {
          await this.opts.sinks.putLogEvents(s.account, s.region, s.group, s.stream, s.events);
          result.logEvents += s.events.length;
          result.records += s.events.length;
        } catch (e) {
          for (const [t, n] of s.owners) {
            t.stats.delivered -= n;
            fail(t, `PutLogEvents to ${s.group}/${s.stream}: ${(e as Error).message}`);
          }
        }
      });
    }
    for (const f of files) {
      tasks.push(async () => {
        try {
          await this.opts.sinks.putObject(f.t.account, f.bucket, f.key, f.body);
          result.objects.push({ bucket: f.bucket, key: f.key, records: f.records });
          result.records += f.records;
        } catch (e) {
          f.t.stats.delivered -= f.records;
          fail(f.t, `PutObject s3://${f.bucket}/${f.key}: ${(e as Error).message}`);
        }
      });
    }
    await pool(tasks, 8);
    for (const t of this.tracked.values()) if (t.stats.produced) t.stats.lastDeliveryMs = now;
    result.objects.sort((a, b) => a.key.localeCompare(b.key));
    return result;
  }

  /** Flushes on every tick of the lab clock; returns the unsubscribe function. */
  bindClock(clock: { onTick(listener: (now: Date) => void | Promise<void>): () => void }): () => void {
    return clock.onTick(async (now) => {
      await this.flush(now.getTime());
    });
  }
}

async function pool(tasks: (() => Promise<void>)[], width: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, worker));
}
