// Compiles a Sigma `detection` section into one predicate, once per rule: regular expressions, CIDR sets,
// lower-cased constants and field getters are all prepared here so that matching an event does no parsing.
//
// Semantics (Sigma rules specification v2 and modifiers appendix v2.1):
// - a map is the AND of its entries; a list of maps is the OR of the maps; a list of values is OR-linked
//   (AND-linked with `all`); a list of plain strings (or a `'|all'` map) is a keyword search over the whole event;
// - strings match case-insensitively, whole value, with `*` / `?` wildcards and backslash escaping;
// - `null` matches an absent or null field; `''` matches the empty string;
// - a field holding an array matches when any element matches; an object-valued field is matched through its
//   JSON text and through each of its leaf values (so `requestParameters|contains: x` works on nested parameters);
// - numbers and booleans in events compare through their string form (`enable: 'false'` matches `false`);
// - `re` values are RE2 expressions, matched in linear time (controls/patterns/regex.ts): the constructs that
//   need backtracking (backreferences, lookaround, atomic groups, possessive quantifiers) are refused at
//   compile time; wildcards are matched without regexes (controls/patterns/glob.ts).
import { BlockList, isIP } from 'node:net';
import { CompileError, type FieldPath } from './errors.ts';
import { compileGetter, leafStrings } from './fields.ts';
import { type CondNode, ConditionSyntaxError, expandPattern, parseCondition } from './condition.ts';
import { compileLinearRegex, UnsupportedRegexError } from '../../patterns/regex.ts';
import { compileParts, hasWildcards, literalOf, parseSigmaString, type Part, windash, wrap } from './strings.ts';

/** What a predicate looks at: the event record, and caches shared by all rules evaluated on that event. */
export interface MatchContext {
  readonly record: unknown;
  /** All leaf values as strings, computed on first keyword search. */
  leaves?: string[];
}

export type Predicate = (ctx: MatchContext) => boolean;

/**
 * Necessary conditions: for each field, the set of lower-cased values one of which the field must equal for the
 * rule to match. Used to index rules (e.g. by eventName) so that most rules are never evaluated on most events.
 */
export type Requirement = Map<string, Set<string>>;

export interface CompiledDetection {
  readonly predicate: Predicate;
  readonly requirement: Requirement | undefined;
  readonly identifiers: readonly string[];
}

type Prim = string | number | boolean;
type PrimTest = (x: Prim) => boolean;
type ValueTest = (x: unknown) => boolean;
type CtxGetter = (ctx: MatchContext) => unknown;

export const MODIFIERS = new Set([
  'contains', 'startswith', 'endswith', 'all', 'cased', 'exists', 'neq',
  're', 'i', 'm', 's',
  'base64', 'base64offset', 'utf16le', 'utf16be', 'utf16', 'wide', 'windash',
  'gt', 'gte', 'lt', 'lte',
  'cidr', 'fieldref', 'expand',
  'minute', 'hour', 'day', 'week', 'month', 'year',
]);
const WRAP = new Set(['contains', 'startswith', 'endswith']);
const COMPARE = new Set(['gt', 'gte', 'lt', 'lte']);
const ENCODE = new Set(['utf16le', 'utf16be', 'utf16', 'wide']);
const TIME = new Set(['minute', 'hour', 'day', 'week', 'month', 'year']);
const RE_FLAGS = new Set(['i', 'm', 's']);

const isPrim = (v: unknown): v is Prim => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** Applies a primitive test to a field value of any shape (see the header for the rules). */
function structured(t: PrimTest): ValueTest {
  const f = (x: unknown): boolean => {
    switch (typeof x) {
      case 'string':
      case 'number':
      case 'boolean':
        return t(x);
      case 'object': {
        if (x === null) return false;
        if (Array.isArray(x)) {
          for (const e of x) if (f(e)) return true;
          return false;
        }
        if (t(JSON.stringify(x))) return true;
        for (const leaf of leafStrings(x)) if (t(leaf)) return true;
        return false;
      }
      default:
        return false;
    }
  };
  return f;
}

const isNullish: ValueTest = (x) => x === undefined || x === null;

function primString(t: (s: string) => boolean): PrimTest {
  return (x) => t(typeof x === 'string' ? x : String(x));
}

function toNumber(x: Prim): number {
  if (typeof x === 'number') return x;
  if (typeof x === 'string' && x.trim() !== '') return Number(x);
  return NaN;
}

function compareTest(op: string, v: number): PrimTest {
  switch (op) {
    case 'gt':
      return (x) => toNumber(x) > v;
    case 'gte':
      return (x) => toNumber(x) >= v;
    case 'lt':
      return (x) => toNumber(x) < v;
    default:
      return (x) => toNumber(x) <= v;
  }
}

function timeExtract(unit: string): (x: Prim) => number {
  return (x) => {
    const d = typeof x === 'number' ? new Date(x < 1e12 ? x * 1000 : x) : new Date(String(x));
    const t = d.getTime();
    if (Number.isNaN(t)) return NaN;
    switch (unit) {
      case 'minute':
        return d.getUTCMinutes();
      case 'hour':
        return d.getUTCHours();
      case 'day':
        return d.getUTCDate();
      case 'month':
        return d.getUTCMonth() + 1;
      case 'year':
        return d.getUTCFullYear();
      default: {
        // ISO week number
        const day = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
        const dow = day.getUTCDay() || 7;
        day.setUTCDate(day.getUTCDate() + 4 - dow);
        const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
        return Math.ceil(((day.getTime() - yearStart) / 86400000 + 1) / 7);
      }
    }
  };
}

function parseCidr(value: string): { net: string; prefix: number; type: 'ipv4' | 'ipv6' } | undefined {
  const [net, bits, extra] = value.split('/');
  if (!net || extra !== undefined) return undefined;
  const v = isIP(net);
  if (v === 0) return undefined;
  const max = v === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { net, prefix, type: v === 4 ? 'ipv4' : 'ipv6' };
}

function utf16(s: string, kind: string): Uint8Array {
  const le = kind !== 'utf16be';
  const bom = kind === 'utf16';
  const out = new Uint8Array(s.length * 2 + (bom ? 2 : 0));
  let o = 0;
  if (bom) {
    out[o++] = 0xff;
    out[o++] = 0xfe;
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[o++] = le ? c & 0xff : c >> 8;
    out[o++] = le ? c >> 8 : c & 0xff;
  }
  return out;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** The three shifted encodings of `base64offset`: a value seen anywhere inside a base64 text. */
function base64Offsets(bytes: Uint8Array): string[] {
  const starts = [0, 2, 3];
  const ends = [0, 3, 2];
  const out: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const padded = new Uint8Array(shift + bytes.length);
    padded.fill(0x20, 0, shift);
    padded.set(bytes, shift);
    const enc = b64(padded);
    const cut = ends[(bytes.length + shift) % 3]!;
    out.push(enc.slice(starts[shift], cut ? enc.length - cut : enc.length));
  }
  return out;
}

interface FieldCompiled {
  readonly pred: Predicate;
  readonly req?: readonly [string, Set<string>];
}

function keywordGetter(): CtxGetter {
  return (ctx) => (ctx.leaves ??= leafStrings(ctx.record));
}

function fieldGetter(field: string): CtxGetter {
  const g = compileGetter(field);
  return (ctx) => g(ctx.record);
}

/** Compiles one `field|mod|mod: value(s)` entry (field empty for keyword searches). */
export function compileFieldEntry(key: string, value: unknown, path: FieldPath): FieldCompiled {
  const [field, ...mods] = key.split('|') as [string, ...string[]];
  const keyword = field === '';
  for (const m of mods) {
    if (!MODIFIERS.has(m)) {
      const hint = MODIFIERS.has(m.toLowerCase()) ? ` (modifiers are lower case: "${m.toLowerCase()}")` : '';
      throw new CompileError(path, `unknown modifier "${m}"${hint}`);
    }
  }
  const has = (m: string) => mods.includes(m);
  const dup = mods.find((m, i) => mods.indexOf(m) !== i);
  if (dup) throw new CompileError(path, `modifier "${dup}" given twice`);
  if (has('expand')) {
    throw new CompileError(path, 'placeholders (the "expand" modifier) need a processing pipeline and are not supported');
  }
  if (Array.isArray(value) && value.length === 0) throw new CompileError(path, 'empty list of values');
  const values = Array.isArray(value) ? value : [value];
  values.forEach((v, i) => {
    if (v !== null && !isPrim(v)) {
      throw new CompileError(Array.isArray(value) ? [...path, i] : path, 'expected a string, a number, a boolean or null');
    }
  });
  const all = has('all');
  const cased = has('cased');
  const neq = has('neq');
  const get = keyword ? keywordGetter() : fieldGetter(field);
  const only = (allowed: string[], what: string) => {
    const bad = mods.find((m) => !allowed.includes(m));
    if (bad) throw new CompileError(path, `modifier "${bad}" cannot be combined with "${what}"`);
  };
  const reFlags = mods.filter((m) => RE_FLAGS.has(m));
  if (reFlags.length && !has('re')) throw new CompileError(path, `modifier "${reFlags[0]}" is a sub-modifier of "re"`);
  if (keyword && (has('exists') || has('fieldref'))) {
    throw new CompileError(path, `modifier "${has('exists') ? 'exists' : 'fieldref'}" needs a field name`);
  }

  // exists: presence of the field, whatever its value (null included).
  if (has('exists')) {
    only(['exists'], 'exists');
    if (values.length !== 1 || typeof values[0] !== 'boolean') throw new CompileError(path, '"exists" takes true or false');
    const want = values[0];
    return { pred: (ctx) => (get(ctx) !== undefined) === want };
  }

  const nonNull = values.filter((v): v is Prim => v !== null);
  const hasNull = nonNull.length !== values.length;
  if (hasNull && mods.some((m) => !['all', 'cased', 'neq'].includes(m))) {
    throw new CompileError(path, `null cannot be combined with the "${mods.find((m) => !['all', 'cased', 'neq'].includes(m))}" modifier`);
  }

  // fieldref: compare with the value of another field of the same event.
  if (has('fieldref')) {
    only(['fieldref', 'contains', 'startswith', 'endswith', 'cased', 'all', 'neq'], 'fieldref');
    const refs = nonNull.map((v, i) => {
      if (typeof v !== 'string' || !v) throw new CompileError(Array.isArray(value) ? [...path, i] : path, '"fieldref" takes a field name');
      return compileGetter(v);
    });
    const norm = (s: string) => (cased ? s : s.toLowerCase());
    const cmp: (a: string, b: string) => boolean = has('contains')
      ? (a, b) => norm(a).includes(norm(b))
      : has('startswith')
        ? (a, b) => norm(a).startsWith(norm(b))
        : has('endswith')
          ? (a, b) => norm(a).endsWith(norm(b))
          : (a, b) => norm(a) === norm(b);
    const prims = (x: unknown, out: string[] = []): string[] => {
      if (isPrim(x)) out.push(String(x));
      else if (Array.isArray(x)) for (const e of x) prims(e, out);
      return out;
    };
    const tests: Predicate[] = refs.map((ref) => (ctx) => {
      const a = prims(get(ctx));
      if (!a.length) return false;
      const b = prims(ref(ctx.record));
      return b.some((bv) => a.some((av) => cmp(av, bv)));
    });
    return { pred: combine(tests, all, neq, get) };
  }

  // Time modifiers extract a number from a date, then compare.
  const timeMods = mods.filter((m) => TIME.has(m));
  if (timeMods.length > 1) throw new CompileError(path, `only one of ${[...TIME].join('/')} may be given`);
  const extract = timeMods.length ? timeExtract(timeMods[0]!) : undefined;

  const cmpMods = mods.filter((m) => COMPARE.has(m));
  if (cmpMods.length > 1) throw new CompileError(path, `only one of gt/gte/lt/lte may be given`);
  if (cmpMods.length || extract) {
    only([...cmpMods, ...timeMods, 'all', 'neq'], cmpMods[0] ?? timeMods[0]!);
    const tests = nonNull.map((v, i) => {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (!Number.isFinite(n)) {
        throw new CompileError(Array.isArray(value) ? [...path, i] : path, `"${cmpMods[0] ?? timeMods[0]}" takes a number`);
      }
      let t: PrimTest = cmpMods.length ? compareTest(cmpMods[0]!, n) : (x) => toNumber(x) === n;
      if (extract) {
        const inner = t;
        t = (x) => inner(extract(x));
      }
      return structured(t);
    });
    return { pred: combineValues(get, tests, hasNull, all, neq) };
  }

  if (has('re')) {
    only(['re', 'i', 'm', 's', 'all', 'neq'], 're');
    // Linear-time matching (RE2): a rule is evaluated inside the grader, so an expression that needs
    // backtracking (backreferences, lookaround) is refused here, at compile time, with its position.
    // Inline flags such as a leading `(?i)` (common in Sigma rules) are RE2 syntax too.
    const tests = nonNull.map((v, i) => {
      try {
        const re = compileLinearRegex(String(v), { ignoreCase: has('i'), multiline: has('m'), dotAll: has('s') });
        return structured(primString((s) => re.test(s)));
      } catch (e) {
        const at = Array.isArray(value) ? [...path, i] : path;
        if (e instanceof UnsupportedRegexError) {
          throw new CompileError(at, e.message.startsWith('invalid regular expression') ? e.message : `regular expression not supported: ${e.message}`);
        }
        throw new CompileError(at, `invalid regular expression: ${(e as Error).message}`);
      }
    });
    return { pred: combineValues(get, tests, hasNull, all, neq) };
  }

  if (has('cidr')) {
    only(['cidr', 'all', 'neq'], 'cidr');
    const tests = nonNull.map((v, i) => {
      const c = typeof v === 'string' ? parseCidr(v) : undefined;
      if (!c) throw new CompileError(Array.isArray(value) ? [...path, i] : path, `invalid CIDR "${String(v)}"`);
      const bl = new BlockList();
      bl.addSubnet(c.net, c.prefix, c.type);
      return structured((x) => {
        if (typeof x !== 'string') return false;
        const t = isIP(x);
        return t !== 0 && bl.check(x, t === 4 ? 'ipv4' : 'ipv6');
      });
    });
    return { pred: combineValues(get, tests, hasNull, all, neq) };
  }

  // Strings: transformations in the order given, then wildcard matching.
  interface SVal {
    parts: Part[];
    cased: boolean;
    enc?: string;
  }
  const explicitWrap = mods.some((m) => WRAP.has(m));
  let svals: SVal[] = nonNull.map((v) => ({
    parts: typeof v === 'string' ? parseSigmaString(v) : [{ k: 'lit', s: String(v) }],
    cased,
  }));
  for (const m of mods) {
    if (m === 'windash') svals = svals.map((s) => ({ ...s, parts: windash(s.parts) }));
    else if (ENCODE.has(m)) svals = svals.map((s) => ({ ...s, enc: m === 'wide' ? 'utf16le' : m }));
    else if (m === 'base64' || m === 'base64offset') {
      svals = svals.flatMap((s) => {
        const lit = literalOf(s.parts);
        if (lit === undefined) throw new CompileError(path, `"${m}" cannot encode a value with wildcards (put "contains" after "${m}")`);
        const bytes = s.enc ? utf16(lit, s.enc) : new Uint8Array(Buffer.from(lit, 'utf8'));
        const encoded = m === 'base64' ? [b64(bytes)] : base64Offsets(bytes);
        // Base64 text is case-sensitive by nature.
        return encoded.map((e) => ({ parts: [{ k: 'lit', s: e } as Part], cased: true }));
      });
    } else if (WRAP.has(m)) {
      svals = svals.map((s) => ({ ...s, parts: wrap(s.parts, m !== 'startswith', m !== 'endswith') }));
    }
  }
  if (svals.some((s) => s.enc)) throw new CompileError(path, 'utf16 modifiers must be followed by "base64" or "base64offset"');
  if (keyword && !explicitWrap) svals = svals.map((s) => ({ ...s, parts: wrap(s.parts, true, true) }));
  const tests = svals.map((s) => structured(primString(compileParts(s.parts, s.cased))));

  let req: readonly [string, Set<string>] | undefined;
  const plain = mods.every((m) => m === 'cased');
  if (!keyword && plain && !hasNull && !all && svals.every((s) => !hasWildcards(s.parts))) {
    req = [field, new Set(svals.map((s) => literalOf(s.parts)!.toLowerCase()))];
  }
  return { pred: combineValues(get, tests, hasNull, all, neq), req };
}

function combineValues(get: CtxGetter, tests: ValueTest[], hasNull: boolean, all: boolean, neq: boolean): Predicate {
  const list = hasNull ? [isNullish, ...tests] : tests;
  if (neq) {
    return (ctx) => {
      const x = get(ctx);
      if (x === undefined || x === null) return false;
      for (const t of list) if (t(x)) return false;
      return true;
    };
  }
  if (list.length === 1) {
    const t = list[0]!;
    return (ctx) => t(get(ctx));
  }
  if (all) {
    return (ctx) => {
      const x = get(ctx);
      for (const t of list) if (!t(x)) return false;
      return true;
    };
  }
  return (ctx) => {
    const x = get(ctx);
    for (const t of list) if (t(x)) return true;
    return false;
  };
}

function combine(tests: Predicate[], all: boolean, neq: boolean, get: CtxGetter): Predicate {
  if (neq) {
    return (ctx) => {
      const x = get(ctx);
      if (x === undefined || x === null) return false;
      return !tests.some((t) => t(ctx));
    };
  }
  return all ? (ctx) => tests.every((t) => t(ctx)) : (ctx) => tests.some((t) => t(ctx));
}

function andAll(preds: Predicate[]): Predicate {
  if (preds.length === 1) return preds[0]!;
  if (preds.length === 2) {
    const [a, b] = preds as [Predicate, Predicate];
    return (ctx) => a(ctx) && b(ctx);
  }
  return (ctx) => {
    for (const p of preds) if (!p(ctx)) return false;
    return true;
  };
}

function orAll(preds: Predicate[]): Predicate {
  if (preds.length === 1) return preds[0]!;
  return (ctx) => {
    for (const p of preds) if (p(ctx)) return true;
    return false;
  };
}

function reqAnd(a: Requirement | undefined, b: Requirement | undefined): Requirement | undefined {
  if (!a) return b;
  if (!b) return a;
  const out: Requirement = new Map(a);
  for (const [f, s] of b) {
    const cur = out.get(f);
    out.set(f, cur ? new Set([...cur].filter((v) => s.has(v))) : s);
  }
  return out;
}

function reqOr(a: Requirement | undefined, b: Requirement | undefined): Requirement | undefined {
  if (!a || !b) return undefined;
  const out: Requirement = new Map();
  for (const [f, s] of a) {
    const t = b.get(f);
    if (t) out.set(f, new Set([...s, ...t]));
  }
  return out.size ? out : undefined;
}

interface SearchCompiled {
  readonly pred: Predicate;
  readonly req: Requirement | undefined;
}

function compileMap(map: Record<string, unknown>, path: FieldPath): SearchCompiled {
  const entries = Object.entries(map);
  if (!entries.length) throw new CompileError(path, 'empty selection');
  let req: Requirement | undefined;
  const preds = entries.map(([k, v]) => {
    const f = compileFieldEntry(k, v, [...path, k]);
    if (f.req) req = reqAnd(req, new Map([f.req]));
    return f.pred;
  });
  return { pred: andAll(preds), req };
}

/** Compiles one search identifier's value (map, list of maps, or keyword list). */
export function compileSearch(value: unknown, path: FieldPath): SearchCompiled {
  if (value === null || value === undefined) throw new CompileError(path, 'empty search identifier');
  if (Array.isArray(value)) {
    if (!value.length) throw new CompileError(path, 'empty list');
    const maps = value.filter((v) => v !== null && typeof v === 'object' && !Array.isArray(v));
    if (maps.length === value.length) {
      const parts = value.map((m, i) => compileMap(m as Record<string, unknown>, [...path, i]));
      return { pred: orAll(parts.map((p) => p.pred)), req: parts.map((p) => p.req).reduce((a, b) => reqOr(a, b)) };
    }
    if (maps.length === 0) return { pred: compileFieldEntry('', value, path).pred, req: undefined };
    throw new CompileError(path, 'a list must hold either maps (selections) or values (keywords), not both');
  }
  if (typeof value === 'object') return compileMap(value as Record<string, unknown>, path);
  if (isPrim(value)) return { pred: compileFieldEntry('', value, path).pred, req: undefined };
  throw new CompileError(path, 'expected a map, a list of maps or a list of keywords');
}

/** Keys of `detection` that are not search identifiers. */
const RESERVED = new Set(['condition', 'timeframe']);

/** Compiles a whole detection section. `basePath` prefixes error paths (default `detection`). */
export function compileDetection(detection: Record<string, unknown>, basePath: FieldPath = ['detection']): CompiledDetection {
  const identifiers = Object.keys(detection).filter((k) => !RESERVED.has(k));
  const searches = new Map<string, SearchCompiled>();
  for (const id of identifiers) searches.set(id, compileSearch(detection[id], [...basePath, id]));

  const condPath = [...basePath, 'condition'];
  const raw = detection['condition'];
  const conds = Array.isArray(raw) ? raw : [raw];
  if (raw === undefined || raw === null) throw new CompileError(condPath, 'missing condition');
  const built = conds.map((c, i) => {
    const p = Array.isArray(raw) ? [...condPath, i] : condPath;
    if (typeof c !== 'string') throw new CompileError(p, 'expected a string');
    let ast: CondNode;
    try {
      ast = parseCondition(c);
    } catch (e) {
      if (e instanceof ConditionSyntaxError) throw new CompileError(p, e.message);
      throw e;
    }
    return buildCondition(ast, searches, identifiers, p);
  });
  const predicate = orAll(built.map((b) => b.pred));
  const requirement = built.map((b) => b.req).reduce((a, b) => reqOr(a, b));
  return { predicate, requirement, identifiers };
}

/** Compiles a parsed condition over compiled searches. Exported for correlation conditions. */
export function buildCondition(
  node: CondNode,
  searches: ReadonlyMap<string, SearchCompiled>,
  identifiers: readonly string[],
  path: FieldPath,
): SearchCompiled {
  switch (node.t) {
    case 'id': {
      const s = searches.get(node.name);
      if (!s) {
        const known = identifiers.length ? ` (defined: ${identifiers.join(', ')})` : '';
        throw new CompileError(path, `unknown search identifier "${node.name}"${known}`);
      }
      return s;
    }
    case 'not': {
      const a = buildCondition(node.a, searches, identifiers, path).pred;
      return { pred: (ctx) => !a(ctx), req: undefined };
    }
    case 'and': {
      const a = buildCondition(node.a, searches, identifiers, path);
      const b = buildCondition(node.b, searches, identifiers, path);
      return { pred: andAll([a.pred, b.pred]), req: reqAnd(a.req, b.req) };
    }
    case 'or': {
      const a = buildCondition(node.a, searches, identifiers, path);
      const b = buildCondition(node.b, searches, identifiers, path);
      return { pred: orAll([a.pred, b.pred]), req: reqOr(a.req, b.req) };
    }
    case 'of': {
      const names = expandPattern(node.pattern, identifiers);
      if (!names.length) {
        throw new CompileError(path, `"${node.quant === 'all' ? 'all' : '1'} of ${node.pattern}" matches no search identifier`);
      }
      const parts = names.map((n) => searches.get(n)!);
      if (node.quant === 'all') {
        return { pred: andAll(parts.map((p) => p.pred)), req: parts.map((p) => p.req).reduce((a, b) => reqAnd(a, b)) };
      }
      return { pred: orAll(parts.map((p) => p.pred)), req: parts.map((p) => p.req).reduce((a, b) => reqOr(a, b)) };
    }
  }
}
