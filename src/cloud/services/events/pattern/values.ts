// Value-level matching: what one leaf of a pattern tests against one JSON value of the event.
import { inRange, ipToHex, type IpRange } from './ip.ts';

export type Primitive = string | number | boolean | null;

/**
 * event-ruler compares numbers as fixed-point values with six decimal places in [-5e9, 5e9]
 * ("Numeric matching ... is limited to values between -5.0e9 and +5.0e9 inclusive, with 15 digits of
 * precision, or six digits to the right of the decimal point"). Numbers outside that range are not
 * numeric for matching purposes. Math.round(x * 1e6) is exact for |x| <= 5e9 (below 2^53).
 */
export const NUMERIC_LIMIT = 5e9;

export function quantize(x: number): number | undefined {
  if (!Number.isFinite(x) || x < -NUMERIC_LIMIT || x > NUMERIC_LIMIT) return undefined;
  return Math.round(x * 1e6);
}

/** One entry of a field's value list in a pattern. */
export type ValueMatcher =
  | { kind: 'exact-string'; value: string }
  | { kind: 'exact-ip'; hex: string }
  | { kind: 'exact-number'; raw: number; q: number | undefined }
  | { kind: 'literal'; value: boolean | null }
  | { kind: 'prefix'; value: string; ignoreCase: boolean }
  | { kind: 'suffix'; value: string; ignoreCase: boolean }
  | { kind: 'equals-ignore-case'; value: string }
  | { kind: 'wildcard'; source: string; glob: Glob }
  | { kind: 'numeric'; lower?: number; lowerOpen: boolean; upper?: number; upperOpen: boolean }
  | { kind: 'cidr'; range: IpRange }
  | { kind: 'exists'; value: boolean }
  | { kind: 'anything-but'; strings: Set<string>; numbers: Set<number>; numeric: boolean }
  | { kind: 'anything-but-ignore-case'; lowered: Set<string> }
  | { kind: 'anything-but-prefix'; values: string[] }
  | { kind: 'anything-but-suffix'; values: string[] }
  | { kind: 'anything-but-wildcard'; globs: Glob[] };

/** A field's compiled test: the OR of its value matchers. */
export interface Leaf {
  matchers: ValueMatcher[];
  existsTrue: boolean;
  existsFalse: boolean;
  /** Whether the leaf can be satisfied by a present value (anything but a lone exists:false). */
  positive: boolean;
  test: ((v: Primitive) => boolean) | undefined;
}

const lower = (s: string) => s.toLowerCase();

/**
 * A wildcard pattern split at its (unescaped) stars: `parts[0]` must start the value, the last part must
 * end it, the others must appear in order. Matching is linear-time, with no regex backtracking.
 */
export interface Glob {
  parts: string[];
}

export function globMatch(g: Glob, v: string): boolean {
  const parts = g.parts;
  if (parts.length === 1) return v === parts[0];
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (v.length < first.length + last.length) return false;
  if (!v.startsWith(first) || !v.endsWith(last)) return false;
  let at = first.length;
  const end = v.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i]!;
    if (part === '') continue;
    const found = v.indexOf(part, at);
    if (found < 0 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}

function predicate(m: ValueMatcher): ((v: Primitive) => boolean) | undefined {
  switch (m.kind) {
    case 'exact-string':
      return undefined; // handled by the set in buildLeaf
    case 'exact-ip':
      return (v) => typeof v === 'string' && ipToHex(v) === m.hex;
    case 'exact-number':
      // By value, not by spelling. AWS's considerations say "For numbers, EventBridge uses string
      // representation. For example, 300, 300.0, and 3.0e2 aren't considered equal"; the engine does
      // otherwise and is followed: event-ruler's JsonRuleCompiler.writeRules adds a ComparableNumber
      // equality beside the literal, and ByteMachine.transitionOn compares a comparable event number by
      // value (ByteMachineTest: 300.0 matches "300", "3.0e+2", "300.0000"). A number outside the
      // comparable range keeps only the literal, which for a parsed JSON number is its value again.
      return (v) => typeof v === 'number' && (v === m.raw || (m.q !== undefined && quantize(v) === m.q));
    case 'literal':
      return (v) => v === m.value;
    case 'prefix':
      return m.ignoreCase
        ? ((p) => (v: Primitive) => typeof v === 'string' && lower(v).startsWith(p))(lower(m.value))
        : (v) => typeof v === 'string' && v.startsWith(m.value);
    case 'suffix':
      return m.ignoreCase
        ? ((p) => (v: Primitive) => typeof v === 'string' && lower(v).endsWith(p))(lower(m.value))
        : (v) => typeof v === 'string' && v.endsWith(m.value);
    case 'equals-ignore-case': {
      const want = lower(m.value);
      return (v) => typeof v === 'string' && lower(v) === want;
    }
    case 'wildcard':
      return (v) => typeof v === 'string' && globMatch(m.glob, v);
    case 'numeric':
      return (v) => {
        if (typeof v !== 'number') return false;
        const q = quantize(v);
        if (q === undefined) return false;
        if (m.lower !== undefined && (m.lowerOpen ? q <= m.lower : q < m.lower)) return false;
        if (m.upper !== undefined && (m.upperOpen ? q >= m.upper : q > m.upper)) return false;
        return true;
      };
    case 'cidr':
      return (v) => {
        if (typeof v !== 'string') return false;
        const hex = ipToHex(v);
        return hex !== undefined && inRange(hex, m.range);
      };
    case 'exists':
      return undefined; // handled by the leaf flags
    case 'anything-but':
      // A value fails an anything-but only when it equals one of the listed values of the same type
      // (event-ruler: anythingBut.isNumeric() == fieldValueIsNumeric). Null, booleans and values of the
      // other type all pass.
      return m.numeric
        ? (v) => {
            if (typeof v !== 'number') return true;
            const q = quantize(v);
            return q === undefined || !m.numbers.has(q);
          }
        : (v) => typeof v !== 'string' || !m.strings.has(v);
    case 'anything-but-ignore-case':
      return (v) => typeof v !== 'string' || !m.lowered.has(lower(v));
    case 'anything-but-prefix':
      return (v) => typeof v !== 'string' || !m.values.some((p) => v.startsWith(p));
    case 'anything-but-suffix':
      return (v) => typeof v !== 'string' || !m.values.some((p) => v.endsWith(p));
    case 'anything-but-wildcard':
      return (v) => typeof v !== 'string' || !m.globs.some((g) => globMatch(g, v));
  }
}

export function buildLeaf(matchers: ValueMatcher[]): Leaf {
  let existsTrue = false;
  let existsFalse = false;
  const exact = new Set<string>();
  const preds: ((v: Primitive) => boolean)[] = [];
  for (const m of matchers) {
    if (m.kind === 'exists') {
      if (m.value) existsTrue = true;
      else existsFalse = true;
    } else if (m.kind === 'exact-string') {
      exact.add(m.value);
    } else {
      const p = predicate(m);
      if (p) preds.push(p);
    }
  }
  let test: ((v: Primitive) => boolean) | undefined;
  if (exact.size > 0 && preds.length === 0) {
    test = exact.size === 1 ? ((one) => (v: Primitive) => v === one)([...exact][0]!) : (v) => typeof v === 'string' && exact.has(v);
  } else if (preds.length > 0) {
    const all = preds;
    const single = all.length === 1 ? all[0]! : undefined;
    test =
      exact.size > 0
        ? (v) => (typeof v === 'string' && exact.has(v)) || all.some((p) => p(v))
        : single ?? ((v) => all.some((p) => p(v)));
  }
  const positive = existsTrue || test !== undefined;
  return { matchers, existsTrue, existsFalse, positive, test };
}

/** Whether the value at a leaf's path holds at least one leaf value (objects are not leaves). */
export function hasLeafValue(value: unknown): boolean {
  return someLeafValue(value, () => true);
}

/**
 * Whether some leaf value at the path (array elements included, nested arrays flattened) passes. Arrays
 * are walked with an explicit stack, so an event's nesting depth cannot exhaust the call stack.
 */
export function someLeafValue(value: unknown, test: (v: Primitive) => boolean): boolean {
  if (value === undefined) return false;
  if (!Array.isArray(value)) return (value === null || typeof value !== 'object') && test(value as Primitive);
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]);
    } else if (v !== undefined && (v === null || typeof v !== 'object') && test(v as Primitive)) return true;
  }
  return false;
}

export function leafMatches(leaf: Leaf, value: unknown): boolean {
  if (leaf.existsTrue || leaf.existsFalse) {
    const present = hasLeafValue(value);
    if (present ? leaf.existsTrue : leaf.existsFalse) return true;
  }
  return leaf.test !== undefined && someLeafValue(value, leaf.test);
}
