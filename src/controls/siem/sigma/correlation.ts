// Evaluation of Sigma correlation rules over a stream of timestamped rule matches, with sliding windows.
//
// - event_count: number of matching events per group within `timespan`;
// - value_count: number of distinct values of `condition.field` per group within `timespan` (a field holding
//   an array contributes each element);
// - temporal: all referenced rules (or the given count / boolean expression over rule names) matched per group
//   within `timespan`, in any order;
// - temporal_ordered: the referenced rules matched in the order listed.
//
// Conditions with only lower bounds (gt/gte, or eq/neq on temporal types) fire as soon as they hold in the sliding
// window; the group's window is then cleared so that the next firing needs fresh events (deduplication of
// alerts merges repeated firings). Conditions with an upper bound (lt/lte/eq/neq on counts) can only be decided
// once a window is complete: they use a window opened by a group's first event and closed `timespan` later
// (checked as time advances and on flush).
import { compileGetter, setPath, type Getter } from './fields.ts';
import type { CondNode } from './condition.ts';

export interface CountBounds {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  eq?: number;
  neq?: number;
}

export function boundsHold(b: CountBounds, n: number): boolean {
  if (b.gt !== undefined && !(n > b.gt)) return false;
  if (b.gte !== undefined && !(n >= b.gte)) return false;
  if (b.lt !== undefined && !(n < b.lt)) return false;
  if (b.lte !== undefined && !(n <= b.lte)) return false;
  if (b.eq !== undefined && n !== b.eq) return false;
  if (b.neq !== undefined && n === b.neq) return false;
  return true;
}

export function hasUpperBound(b: CountBounds): boolean {
  return b.lt !== undefined || b.lte !== undefined || b.eq !== undefined || b.neq !== undefined;
}

/** One input to a correlation: a match of a referenced rule (or a firing of a referenced correlation). */
export interface CorrelationInput<E> {
  readonly ts: number;
  /** The record the group-by and value fields are read from. */
  readonly record: unknown;
  /** The events behind this input (one for a detection match, several for a chained correlation). */
  readonly events: readonly E[];
}

export interface CorrelationFiring<E> {
  /** Time of the last contributing input. */
  readonly ts: number;
  readonly firstTs: number;
  /** Stable key of the group (JSON of the group-by values). */
  readonly groupKey: string;
  /** group-by field → value. */
  readonly group: Readonly<Record<string, unknown>>;
  /** The count (events, distinct values, or distinct rules) that satisfied the condition. */
  readonly value: number;
  readonly events: readonly E[];
  /** A record carrying the group-by values, for correlations chained on this one. */
  readonly record: Record<string, unknown>;
}

export interface CorrelationSpec {
  readonly type: 'event_count' | 'value_count' | 'temporal' | 'temporal_ordered';
  /** Number of referenced rules (inputs are numbered in the order of `rules`). */
  readonly inputs: number;
  readonly groupBy: readonly string[];
  /** Per input, the field each group-by name is read from (aliases resolved). */
  readonly groupFields: readonly (readonly string[])[];
  readonly timespanMs: number;
  readonly bounds?: CountBounds;
  /** value_count: the field(s) whose distinct values are counted. */
  readonly valueFields?: readonly string[];
  /** temporal: a boolean expression over input names (`a and b`), compiled by the rule set. */
  readonly expression?: (present: ReadonlySet<number>) => boolean;
}

interface Entry<E> {
  ts: number;
  input: number;
  values?: string[];
  events: readonly E[];
}

interface Group<E> {
  entries: Entry<E>[];
  group: Record<string, unknown>;
  /** Tumbling window start for upper-bound conditions. */
  windowStart?: number;
}

const keyOf = (v: unknown): string => (v === undefined ? 'null' : JSON.stringify(v));

function primsOf(x: unknown, out: string[] = []): string[] {
  if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') out.push(String(x));
  else if (Array.isArray(x)) for (const e of x) primsOf(e, out);
  else if (x !== null && typeof x === 'object') out.push(JSON.stringify(x));
  return out;
}

export class CorrelationWindow<E> {
  private readonly groups = new Map<string, Group<E>>();
  private readonly getters: Getter[][];
  private readonly valueGetters: Getter[];
  private readonly deferred: boolean;
  private adds = 0;
  private now = -Infinity;

  constructor(readonly spec: CorrelationSpec) {
    this.getters = spec.groupFields.map((fields) => fields.map(compileGetter));
    this.valueGetters = (spec.valueFields ?? []).map(compileGetter);
    this.deferred = (spec.type === 'event_count' || spec.type === 'value_count') && !!spec.bounds && hasUpperBound(spec.bounds);
  }

  /** Feeds a match of input `input` (index into the correlation's `rules`); returns firings. */
  add(input: number, item: CorrelationInput<E>): CorrelationFiring<E>[] {
    const fired: CorrelationFiring<E>[] = [];
    if (item.ts > this.now) {
      this.now = item.ts;
      if (this.deferred) fired.push(...this.advance(item.ts));
    }
    if (++this.adds % 1024 === 0) this.sweep();

    const getters = this.getters[input]!;
    const values = getters.map((g) => g(item.record));
    const key = values.map(keyOf).join('\u0000');
    let g = this.groups.get(key);
    if (!g) {
      const group: Record<string, unknown> = {};
      this.spec.groupBy.forEach((name, i) => (group[name] = values[i] ?? null));
      g = { entries: [], group };
      this.groups.set(key, g);
    }
    const entry: Entry<E> = { ts: item.ts, input, events: item.events };
    if (this.spec.type === 'value_count') {
      const vals: string[] = [];
      for (const vg of this.valueGetters) primsOf(vg(item.record), vals);
      if (this.valueGetters.length > 1) {
        // Several fields: count distinct combinations.
        entry.values = [JSON.stringify(this.valueGetters.map((vg) => primsOf(vg(item.record))))];
      } else entry.values = vals;
    }
    // Keep entries ordered by time (inputs may arrive slightly out of order).
    let at = g.entries.length;
    while (at > 0 && g.entries[at - 1]!.ts > item.ts) at--;
    g.entries.splice(at, 0, entry);

    if (this.deferred) {
      g.windowStart ??= item.ts;
      return fired;
    }
    // Sliding window ending at this input.
    const from = item.ts - this.spec.timespanMs;
    let drop = 0;
    while (drop < g.entries.length && g.entries[drop]!.ts < from) drop++;
    if (drop) g.entries.splice(0, drop);
    const hit = this.evaluate(g.entries);
    if (hit) {
      fired.push(this.fire(key, g, g.entries.slice(hit.from), hit.value));
      g.entries = [];
    }
    return fired;
  }

  /** Advances time (closing tumbling windows of upper-bound conditions); returns firings. */
  advance(now: number): CorrelationFiring<E>[] {
    if (now > this.now) this.now = now;
    if (!this.deferred) return [];
    const out: CorrelationFiring<E>[] = [];
    for (const [key, g] of this.groups) {
      while (g.windowStart !== undefined && now > g.windowStart + this.spec.timespanMs) {
        const end = g.windowStart + this.spec.timespanMs;
        const inWindow = g.entries.filter((e) => e.ts <= end);
        const hit = this.evaluate(inWindow);
        if (hit) out.push(this.fire(key, g, inWindow.slice(hit.from), hit.value));
        g.entries = g.entries.filter((e) => e.ts > end);
        g.windowStart = g.entries[0]?.ts;
      }
      if (!g.entries.length) this.groups.delete(key);
    }
    return out;
  }

  /** Closes every open window (end of a batch). */
  flush(): CorrelationFiring<E>[] {
    return this.advance(Infinity);
  }

  private sweep(): void {
    if (this.deferred) return;
    const from = this.now - this.spec.timespanMs;
    for (const [key, g] of this.groups) {
      const last = g.entries[g.entries.length - 1];
      if (!last || last.ts < from) this.groups.delete(key);
    }
  }

  /** The count that satisfies the condition and the first entry that belongs to the match, or undefined. */
  private evaluate(entries: readonly Entry<E>[]): { value: number; from: number } | undefined {
    const { spec } = this;
    if (!entries.length) return undefined;
    switch (spec.type) {
      case 'event_count': {
        const n = entries.length;
        return boundsHold(spec.bounds ?? {}, n) ? { value: n, from: 0 } : undefined;
      }
      case 'value_count': {
        const distinct = new Set<string>();
        for (const e of entries) for (const v of e.values ?? []) distinct.add(v);
        const n = distinct.size;
        return boundsHold(spec.bounds ?? {}, n) ? { value: n, from: 0 } : undefined;
      }
      case 'temporal': {
        const present = new Set(entries.map((e) => e.input));
        return this.temporalHolds(present) ? { value: present.size, from: 0 } : undefined;
      }
      case 'temporal_ordered': {
        // Greedy: the earliest match of rule 0, then the earliest later match of rule 1, and so on.
        let next = 0;
        let lastTs = -Infinity;
        let from = -1;
        for (let i = 0; i < entries.length; i++) {
          const e = entries[i]!;
          if (e.input === next && e.ts >= lastTs) {
            if (next === 0) from = i;
            next++;
            lastTs = e.ts;
            if (next === spec.inputs) break;
          }
        }
        const present = new Set<number>();
        for (let i = 0; i < next; i++) present.add(i);
        const ok = spec.expression || spec.bounds ? this.temporalHolds(present) : next === spec.inputs;
        return ok && from >= 0 ? { value: next, from } : undefined;
      }
    }
  }

  private temporalHolds(present: ReadonlySet<number>): boolean {
    if (this.spec.expression) return this.spec.expression(present);
    if (this.spec.bounds) return boundsHold(this.spec.bounds, present.size);
    return present.size === this.spec.inputs;
  }

  private fire(key: string, g: Group<E>, entries: readonly Entry<E>[], value: number): CorrelationFiring<E> {
    const events: E[] = [];
    for (const e of entries) for (const ev of e.events) events.push(ev);
    const record: Record<string, unknown> = {};
    for (const [name, v] of Object.entries(g.group)) setPath(record, name, v);
    return {
      ts: entries[entries.length - 1]!.ts,
      firstTs: entries[0]!.ts,
      groupKey: key,
      group: g.group,
      value,
      events,
      record,
    };
  }
}

/** Parses `5m`, `90s`, `1h`, `2d` into milliseconds; undefined when malformed. */
export function parseTimespan(s: string): number | undefined {
  const m = /^(\d+)([smhd])$/.exec(s.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return n > 0 ? n * unit : undefined;
}

/** Compiles a temporal condition expression over input names into a test on the set of present inputs. */
export function compileTemporalExpression(node: CondNode, indexOf: (name: string) => number[]): (present: ReadonlySet<number>) => boolean {
  switch (node.t) {
    case 'id': {
      const idx = indexOf(node.name);
      return (p) => idx.some((i) => p.has(i));
    }
    case 'not': {
      const a = compileTemporalExpression(node.a, indexOf);
      return (p) => !a(p);
    }
    case 'and': {
      const a = compileTemporalExpression(node.a, indexOf);
      const b = compileTemporalExpression(node.b, indexOf);
      return (p) => a(p) && b(p);
    }
    case 'or': {
      const a = compileTemporalExpression(node.a, indexOf);
      const b = compileTemporalExpression(node.b, indexOf);
      return (p) => a(p) || b(p);
    }
    case 'of': {
      const idx = indexOf(node.pattern);
      return node.quant === 'all' ? (p) => idx.every((i) => p.has(i)) : (p) => idx.some((i) => p.has(i));
    }
  }
}
