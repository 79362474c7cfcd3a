// The SIEM's detection engine: compiled Sigma rules evaluated on normalised events, correlation windows, and
// alerts with severity, ATT&CK tags, the matching events, deduplication and throttling.
//
//   const engine = new SiemEngine(loadBundledRules());
//   engine.push(event)        // streaming: returns the alerts this event raised (new alerts only)
//   engine.flush()            // closes open correlation windows (end of a batch)
//   engine.alerts             // every alert raised so far (deduplicated alerts are updated in place)
//   engine.run(events)        // batch: sorts by time, pushes everything, flushes; returns the alerts
//   engine.evaluate(event)    // stateless: which detection rules match this one event
//
// Deduplication: a hit of a rule whose alert for the same group (correlation group-by values, or for single-event
// rules the principal and source address of CloudTrail events / the address pair of flows) was opened less than
// `dedupWindowMs` before is merged into that alert (its `hits`, `events` and `lastSeen` grow).
// Throttling: at most `throttle.maxAlerts` new alerts per rule per `throttle.windowMs`; hits beyond that are
// counted in the rule's latest alert (`suppressed`) and in `stats.throttled`.
import { createHash } from 'node:crypto';
import type { EventSource, SiemEvent } from './events.ts';
import type { MatchContext } from './sigma/compile.ts';
import { CorrelationWindow, type CorrelationFiring, type CorrelationInput } from './sigma/correlation.ts';
import { compileGetter, type Getter } from './sigma/fields.ts';
import {
  LEVEL_RANK,
  type CorrelationRule,
  type DetectionRule,
  type RuleSet,
  type Severity,
  type SigmaRule,
} from './sigma/ruleset.ts';
import type { Level, LogSource } from './sigma/schema.ts';

export interface RuleMatch {
  readonly rule: DetectionRule;
  readonly event: SiemEvent;
}

/** The rule behind an alert, with the attribution the rule's license asks for (DRL 1.1 for SigmaHQ rules). */
export interface AlertRule {
  readonly id: string;
  readonly name?: string;
  readonly title: string;
  readonly kind: 'detection' | 'correlation';
  readonly level: Level;
  readonly status?: string;
  readonly description?: string;
  readonly author?: string;
  readonly references: readonly string[];
  readonly license?: string;
  /** File the rule came from, relative to its pack. */
  readonly source: string;
  /** Upstream URL of the rule (for rules from a pack that gives one, e.g. SigmaHQ). */
  readonly url?: string;
  /** e.g. "SigmaHQ (https://github.com/SigmaHQ/sigma), Detection Rule License 1.1". */
  readonly attribution?: string;
}

export interface Alert {
  /** Stable id: hash of rule id, group and first time. */
  readonly id: string;
  readonly rule: AlertRule;
  readonly severity: Severity;
  readonly tags: readonly string[];
  /** ATT&CK tactics (slugs such as `persistence`) and technique ids (`T1078.004`) from the rule's tags. */
  readonly attack: { readonly tactics: readonly string[]; readonly techniques: readonly string[] };
  /** What the alert is grouped on (dedup key / correlation group-by values). */
  readonly group: Readonly<Record<string, unknown>>;
  firstSeen: string;
  lastSeen: string;
  /** Rule hits merged into this alert (events for single-event rules, firings for correlations). */
  hits: number;
  /** The matching events (at most `maxEventsPerAlert`; `eventsOmitted` counts the rest). */
  readonly events: SiemEvent[];
  eventsOmitted: number;
  /** Hits of this rule dropped by throttling after this alert was raised. */
  suppressed: number;
  /** For correlation alerts: the type, the count that met the condition, and the window. */
  readonly correlation?: { readonly type: CorrelationRule['type']; value: number; readonly timespanMs: number; readonly groupBy: readonly string[] };
}

export interface EngineOptions {
  /** Merge hits of the same rule and group within this window into one alert (default 15 minutes). */
  readonly dedupWindowMs?: number;
  /** At most `maxAlerts` new alerts per rule per `windowMs` (default 100 per hour). */
  readonly throttle?: { readonly maxAlerts: number; readonly windowMs: number };
  /** Events kept per alert (default 50). */
  readonly maxEventsPerAlert?: number;
  /** Rules below this level do not raise alerts on their own (default: informational, i.e. all). */
  readonly minLevel?: Level;
  /** Fields that group single-event alerts, per event source (see the header for the defaults). */
  readonly dedupFields?: Partial<Record<EventSource, readonly string[]>>;
  /** Called for every new alert and every update of an alert (deduplicated hit). */
  readonly onAlert?: (alert: Alert, change: 'new' | 'update') => void;
}

export interface EngineStats {
  events: number;
  /** Detection-rule matches (including rules used only by correlations). */
  matches: number;
  alerts: number;
  deduplicated: number;
  throttled: number;
  /** Events without a usable time: evaluated by single-event rules, kept out of correlation windows. */
  untimed: number;
}

const DEFAULT_DEDUP: Record<EventSource, readonly string[]> = {
  cloudtrail: ['userIdentity.arn', 'sourceIPAddress'],
  vpcflow: ['srcaddr', 'dstaddr'],
  logs: ['logGroup'],
};

const SERVICE_ALIASES: Record<string, string> = {
  vpcflow: 'vpcflowlogs',
  'vpc-flow-logs': 'vpcflowlogs',
  vpc_flow_logs: 'vpcflowlogs',
  flowlogs: 'vpcflowlogs',
  cloudwatchlogs: 'cloudwatch',
  cloudwatch_logs: 'cloudwatch',
  logs: 'cloudwatch',
};

const norm = (s: string | undefined) => s?.toLowerCase();
const service = (s: string | undefined) => {
  const n = norm(s);
  return n === undefined ? undefined : (SERVICE_ALIASES[n] ?? n);
};

/** Sigma logsource matching: every attribute the rule sets must equal the event's (case-insensitive). */
export function logsourceMatches(rule: LogSource, event: { product?: string; service?: string; category?: string }): boolean {
  if (rule.product !== undefined && norm(rule.product) !== norm(event.product)) return false;
  if (rule.service !== undefined && service(rule.service) !== service(event.service)) return false;
  if (rule.category !== undefined && norm(rule.category) !== norm(event.category)) return false;
  return true;
}

/** Rules indexed on one field they all require an exact value of. */
interface IndexLevel {
  readonly field: string;
  readonly get: Getter;
  readonly index: Map<string, DetectionRule[]>;
  /** Every rule of this level (when the field holds an array or an object, any of them may match). */
  readonly rules: DetectionRule[];
}

interface Plan {
  /** Index levels: the first on the field most rules require (eventName for CloudTrail), the next on the field most
   *  of the remaining rules require (eventSource, userIdentity.type, ...), and so on. */
  readonly levels: IndexLevel[];
  /** Rules that require no exact value of any field: evaluated on every event. */
  readonly rest: DetectionRule[];
}

function ruleInfo(rule: SigmaRule): AlertRule {
  return {
    id: rule.id,
    name: rule.name,
    title: rule.title,
    kind: rule.kind,
    level: rule.level,
    status: rule.status,
    description: rule.description,
    author: rule.author,
    references: rule.references,
    license: rule.license,
    source: rule.source,
    url: rule.url,
    attribution: rule.pack?.attribution,
  };
}

export class SiemEngine {
  readonly stats: EngineStats = { events: 0, matches: 0, alerts: 0, deduplicated: 0, throttled: 0, untimed: 0 };
  private readonly active: DetectionRule[];
  private readonly plans = new Map<string, Plan>();
  private readonly windows = new Map<CorrelationRule, CorrelationWindow<SiemEvent>>();
  private readonly deferred: Array<[CorrelationRule, CorrelationWindow<SiemEvent>]> = [];
  private readonly open = new Map<string, { alert: Alert; firstTs: number }>();
  private readonly created = new Map<string, number[]>();
  private readonly lastOfRule = new Map<string, Alert>();
  private readonly list: Alert[] = [];
  private readonly dedupGetters: Record<EventSource, Array<[string, Getter]>>;
  private readonly dedupWindowMs: number;
  private readonly throttle: { maxAlerts: number; windowMs: number };
  private readonly maxEvents: number;
  private readonly minRank: number;
  private clock = 0;
  private pushes = 0;

  constructor(
    readonly rules: RuleSet,
    private readonly options: EngineOptions = {},
  ) {
    this.active = rules.detections.filter((r) => r.standalone || r.parents.length > 0);
    for (const c of rules.correlations) {
      if (!c.standalone && !c.parents.length) continue;
      const w = new CorrelationWindow<SiemEvent>(c.spec);
      this.windows.set(c, w);
      const b = c.spec.bounds;
      if ((c.type === 'event_count' || c.type === 'value_count') && b && (b.lt ?? b.lte ?? b.eq ?? b.neq) !== undefined) this.deferred.push([c, w]);
    }
    const dedup = { ...DEFAULT_DEDUP, ...options.dedupFields };
    this.dedupGetters = {
      cloudtrail: dedup.cloudtrail.map((f) => [f, compileGetter(f)]),
      vpcflow: dedup.vpcflow.map((f) => [f, compileGetter(f)]),
      logs: dedup.logs.map((f) => [f, compileGetter(f)]),
    };
    this.dedupWindowMs = options.dedupWindowMs ?? 15 * 60_000;
    this.throttle = options.throttle ?? { maxAlerts: 100, windowMs: 3_600_000 };
    this.maxEvents = options.maxEventsPerAlert ?? 50;
    this.minRank = LEVEL_RANK[options.minLevel ?? 'informational'];
  }

  /** Every alert raised so far, in the order raised. */
  get alerts(): readonly Alert[] {
    return this.list;
  }

  private plan(ls: { product?: string; service?: string; category?: string }): Plan {
    const key = `${norm(ls.product) ?? ''}|${service(ls.service) ?? ''}|${norm(ls.category) ?? ''}`;
    let p = this.plans.get(key);
    if (p) return p;
    let remaining = this.active.filter((r) => logsourceMatches(r.logsource, ls));
    const levels: IndexLevel[] = [];
    // Greedy: index on the field that leaves the fewest candidates per indexed rule (many rules, small buckets:
    // eventName for CloudTrail rather than eventSource, which many rules also require), then repeat with the
    // rules left, so that rules without an eventName (on eventSource or userIdentity.type only) are not run on
    // every event. Cost of a field: size-weighted mean bucket size (the candidates an event meets when its value is
    // indexed) divided by the number of rules it indexes.
    for (;;) {
      const buckets = new Map<string, { rules: number; sizes: Map<string, number> }>();
      for (const r of remaining) {
        for (const [f, vals] of r.requirement ?? []) {
          let b = buckets.get(f);
          if (!b) buckets.set(f, (b = { rules: 0, sizes: new Map() }));
          b.rules++;
          for (const v of vals) b.sizes.set(v, (b.sizes.get(v) ?? 0) + 1);
        }
      }
      let field: string | undefined;
      let best = Infinity;
      for (const [f, b] of buckets) {
        let sum = 0;
        let sq = 0;
        for (const n of b.sizes.values()) [sum, sq] = [sum + n, sq + n * n];
        const cost = sum ? sq / sum / b.rules : Infinity;
        if (cost < best) [field, best] = [f, cost];
      }
      if (!field) break;
      const index = new Map<string, DetectionRule[]>();
      const rules: DetectionRule[] = [];
      const rest: DetectionRule[] = [];
      for (const r of remaining) {
        const vals = r.requirement?.get(field);
        if (!vals) {
          rest.push(r);
          continue;
        }
        rules.push(r);
        for (const v of vals) {
          const l = index.get(v);
          if (l) l.push(r);
          else index.set(v, [r]);
        }
      }
      levels.push({ field, get: compileGetter(field), index, rules });
      remaining = rest;
    }
    p = { levels, rest: remaining };
    this.plans.set(key, p);
    return p;
  }

  /** The detection rules (including rules used only by correlations) that match one event. Stateless. */
  evaluate(event: SiemEvent): RuleMatch[] {
    const p = this.plan(event.logsource);
    const ctx: MatchContext = { record: event.fields };
    const out: RuleMatch[] = [];
    for (const r of p.rest) if (r.matches(ctx)) out.push({ rule: r, event });
    for (const level of p.levels) {
      const v = level.get(event.fields);
      let candidates: readonly DetectionRule[] | undefined;
      if (typeof v === 'string' || typeof v === 'number') candidates = level.index.get(typeof v === 'string' ? v.toLowerCase() : String(v));
      else if (v !== undefined && v !== null) candidates = level.rules; // an array or object: any element may match
      if (candidates) for (const r of candidates) if (r.matches(ctx)) out.push({ rule: r, event });
    }
    return out;
  }

  /** Streaming: evaluates one event, updates correlation windows and alerts; returns the new alerts it raised. */
  push(event: SiemEvent): Alert[] {
    this.stats.events++;
    // An event without a time (NaN) must not open, extend or close a time window: it would count at whatever
    // time the stream is at. Single-event rules still judge it (their match does not depend on time).
    const timed = Number.isFinite(event.ts);
    if (!timed) this.stats.untimed++;
    const ts = timed ? event.ts : this.clock;
    if (ts > this.clock) this.clock = ts;
    const out: Alert[] = [];
    for (const [rule, w] of this.deferred) for (const f of w.advance(ts)) this.fired(rule, f, out);
    const matches = this.evaluate(event);
    this.stats.matches += matches.length;
    for (const { rule } of matches) {
      if (rule.standalone && LEVEL_RANK[rule.level] >= this.minRank) {
        const [key, group] = this.eventGroup(event);
        const a = this.raise(rule, ts, key, group, [event]);
        if (a) out.push(a);
      }
      if (timed) for (const { rule: parent, input } of rule.parents) this.feed(parent, input, { ts, record: event.fields, events: [event] }, out);
    }
    if (++this.pushes % 4096 === 0) this.prune();
    return out;
  }

  /** Pushes events in the order given; returns the new alerts. */
  pushAll(events: Iterable<SiemEvent>): Alert[] {
    const out: Alert[] = [];
    for (const e of events) out.push(...this.push(e));
    return out;
  }

  /** Closes open correlation windows (for conditions with an upper bound); returns the new alerts. */
  flush(): Alert[] {
    const out: Alert[] = [];
    for (const [rule, w] of this.deferred) for (const f of w.flush()) this.fired(rule, f, out);
    return out;
  }

  /** Batch: sorts the events by time, pushes them all and flushes; returns the alerts raised. */
  run(events: readonly SiemEvent[]): Alert[] {
    const sorted = events
      .map((e, i) => [e, i] as const)
      .sort((a, b) => (a[0].ts || 0) - (b[0].ts || 0) || a[1] - b[1])
      .map(([e]) => e);
    return [...this.pushAll(sorted), ...this.flush()];
  }

  private feed(rule: CorrelationRule, input: number, item: CorrelationInput<SiemEvent>, out: Alert[]): void {
    const w = this.windows.get(rule);
    if (!w) return;
    for (const f of w.add(input, item)) this.fired(rule, f, out);
  }

  private fired(rule: CorrelationRule, f: CorrelationFiring<SiemEvent>, out: Alert[]): void {
    if (rule.standalone && LEVEL_RANK[rule.level] >= this.minRank) {
      const a = this.raise(rule, f.ts, f.groupKey, f.group, f.events, f);
      if (a) out.push(a);
    }
    for (const { rule: parent, input } of rule.parents) this.feed(parent, input, { ts: f.ts, record: f.record, events: f.events }, out);
  }

  private eventGroup(event: SiemEvent): [string, Record<string, unknown>] {
    const group: Record<string, unknown> = {};
    const parts: string[] = [];
    for (const [name, g] of this.dedupGetters[event.source] ?? []) {
      const v = g(event.fields) ?? null;
      group[name] = v;
      parts.push(JSON.stringify(v));
    }
    return [parts.join('\u0000'), group];
  }

  private raise(
    rule: SigmaRule,
    ts: number,
    groupKey: string,
    group: Record<string, unknown>,
    events: readonly SiemEvent[],
    firing?: CorrelationFiring<SiemEvent>,
  ): Alert | undefined {
    const key = `${rule.id}\u0000${groupKey}`;
    const cur = this.open.get(key);
    if (cur && Math.abs(ts - cur.firstTs) <= this.dedupWindowMs) {
      const a = cur.alert;
      a.hits++;
      this.addEvents(a, events);
      if (ts > Date.parse(a.lastSeen) || !a.lastSeen) a.lastSeen = iso(ts);
      if (firing && a.correlation && firing.value > a.correlation.value) a.correlation.value = firing.value;
      this.stats.deduplicated++;
      this.options.onAlert?.(a, 'update');
      return undefined;
    }
    const times = (this.created.get(rule.id) ?? []).filter((t) => t > ts - this.throttle.windowMs);
    this.created.set(rule.id, times);
    if (times.length >= this.throttle.maxAlerts) {
      this.stats.throttled++;
      const last = this.lastOfRule.get(rule.id);
      if (last) last.suppressed++;
      return undefined;
    }
    times.push(ts);
    const first = firing ? firing.firstTs : ts;
    const alert: Alert = {
      id: createHash('sha256').update(`${rule.id}\u0000${groupKey}\u0000${first}`).digest('hex').slice(0, 16),
      rule: ruleInfo(rule),
      severity: rule.severity,
      tags: rule.tags,
      attack: { tactics: rule.attack.tactics, techniques: rule.attack.techniques },
      group,
      firstSeen: iso(first),
      lastSeen: iso(ts),
      hits: 1,
      events: [],
      eventsOmitted: 0,
      suppressed: 0,
      correlation:
        rule.kind === 'correlation' && firing
          ? { type: rule.type, value: firing.value, timespanMs: rule.timespanMs, groupBy: rule.groupBy }
          : undefined,
    };
    this.addEvents(alert, events);
    this.open.set(key, { alert, firstTs: ts });
    this.lastOfRule.set(rule.id, alert);
    this.list.push(alert);
    this.stats.alerts++;
    this.options.onAlert?.(alert, 'new');
    return alert;
  }

  private addEvents(a: Alert, events: readonly SiemEvent[]): void {
    for (const e of events) {
      if (a.events.length < this.maxEvents) {
        if (!a.events.includes(e)) a.events.push(e);
      } else a.eventsOmitted++;
    }
  }

  private prune(): void {
    for (const [k, v] of this.open) if (this.clock - v.firstTs > this.dedupWindowMs) this.open.delete(k);
  }
}

function iso(ts: number): string {
  return Number.isFinite(ts) ? new Date(ts).toISOString() : '';
}
