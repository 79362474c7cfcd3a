// The Condition element: operators, ...IfExists, Null, and the ForAllValues/ForAnyValue set qualifiers.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
import { BlockList, SocketAddress, isIP } from 'node:net';
import { substitute, wildcardMatch, type Context } from './patterns.ts';

/** What a positive operator needs to compare one context value with one policy value. */
interface Env {
  ctx: Context;
  /** Policy variables are only substituted in policies with Version 2012-10-17. */
  variables: boolean;
}

interface BaseOperator {
  /** Negated operators (StringNotEquals, NotIpAddress...) are true when no policy value matches. */
  negated: boolean;
  /** The positive comparison of one context value with one policy value. */
  test(contextValue: string, policyValue: string, env: Env): boolean;
}

function parseNumber(s: string): number | undefined {
  if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(s)) return undefined;
  return Number(s);
}

/** Milliseconds since the epoch from W3C ISO 8601 or from epoch seconds. */
function parseDate(s: string): number | undefined {
  const t = s.trim();
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const m = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/i.exec(t);
  if (!m) return undefined;
  // A time without a zone would be read as local time by Date.parse; policies mean UTC.
  const ms = Date.parse(m[3] && !m[6] ? t + 'Z' : t);
  return Number.isNaN(ms) ? undefined : ms;
}

const cidrCache = new Map<string, BlockList | null>();

/** A BlockList for "203.0.113.0/24", "2001:DB8::/32" or a bare address (/32 or /128); null when invalid. */
function cidrList(value: string): BlockList | null {
  const cached = cidrCache.get(value);
  if (cached !== undefined) return cached;
  let list: BlockList | null = null;
  const [address, prefixText, extra] = value.trim().split('/');
  // Validate with net.isIP first: other parsers read "010.1.2.3" as octal.
  const family = isIP(address ?? '');
  const max = family === 6 ? 128 : 32;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (family !== 0 && extra === undefined && prefix >= 0 && prefix <= max) {
    list = new BlockList();
    list.addSubnet(address!, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  if (cidrCache.size >= 10_000) cidrCache.clear();
  cidrCache.set(value, list);
  return list;
}

const addressCache = new Map<string, SocketAddress | null>();

/** The caller's address, parsed once: BlockList.check would otherwise build a SocketAddress per range. */
function socketAddress(ip: string): SocketAddress | null {
  let address = addressCache.get(ip);
  if (address === undefined) {
    const family = isIP(ip);
    address = family === 0 ? null : new SocketAddress({ address: ip, family: family === 6 ? 'ipv6' : 'ipv4' });
    if (addressCache.size >= 10_000) addressCache.clear();
    addressCache.set(ip, address);
  }
  return address;
}

function ipInRange(ip: string, range: string): boolean {
  const address = socketAddress(ip);
  const list = address === null ? null : cidrList(range);
  return list !== null && list.check(address!);
}

const stringEquals = (c: string, p: string, env: Env) => substitute(p, env.ctx, env.variables) === c;
const stringEqualsIgnoreCase = (c: string, p: string, env: Env) =>
  substitute(p, env.ctx, env.variables)?.toLowerCase() === c.toLowerCase();
const stringLike = (c: string, p: string, env: Env) => wildcardMatch(p, c, 'glob', env.ctx, env.variables);
const arnLike = (c: string, p: string, env: Env) => wildcardMatch(p, c, 'arn', env.ctx, env.variables);
function numeric(cmp: (a: number, b: number) => boolean) {
  return (c: string, p: string) => {
    const a = parseNumber(c);
    const b = parseNumber(p);
    return a !== undefined && b !== undefined && cmp(a, b);
  };
}
function date(cmp: (a: number, b: number) => boolean) {
  return (c: string, p: string) => {
    const a = parseDate(c);
    const b = parseDate(p);
    return a !== undefined && b !== undefined && cmp(a, b);
  };
}
function bool(c: string, p: string, env: Env): boolean {
  const want = substitute(p, env.ctx, env.variables)?.toLowerCase();
  const have = c.toLowerCase();
  return (want === 'true' || want === 'false') && want === have;
}

const positive = (test: BaseOperator['test']): BaseOperator => ({ negated: false, test });
const negative = (test: BaseOperator['test']): BaseOperator => ({ negated: true, test });

/** Base operators by lower-cased name. */
const OPERATORS = new Map<string, BaseOperator>([
  ['stringequals', positive(stringEquals)],
  ['stringnotequals', negative(stringEquals)],
  ['stringequalsignorecase', positive(stringEqualsIgnoreCase)],
  ['stringnotequalsignorecase', negative(stringEqualsIgnoreCase)],
  ['stringlike', positive(stringLike)],
  ['stringnotlike', negative(stringLike)],
  ['numericequals', positive(numeric((a, b) => a === b))],
  ['numericnotequals', negative(numeric((a, b) => a === b))],
  ['numericlessthan', positive(numeric((a, b) => a < b))],
  ['numericlessthanequals', positive(numeric((a, b) => a <= b))],
  ['numericgreaterthan', positive(numeric((a, b) => a > b))],
  ['numericgreaterthanequals', positive(numeric((a, b) => a >= b))],
  ['dateequals', positive(date((a, b) => a === b))],
  ['datenotequals', negative(date((a, b) => a === b))],
  ['datelessthan', positive(date((a, b) => a < b))],
  ['datelessthanequals', positive(date((a, b) => a <= b))],
  ['dategreaterthan', positive(date((a, b) => a > b))],
  ['dategreaterthanequals', positive(date((a, b) => a >= b))],
  ['bool', positive(bool)],
  ['binaryequals', positive((c, p) => c === p)],
  ['ipaddress', positive(ipInRange)],
  ['notipaddress', negative(ipInRange)],
  ['arnequals', positive(arnLike)],
  ['arnlike', positive(arnLike)],
  ['arnnotequals', negative(arnLike)],
  ['arnnotlike', negative(arnLike)],
]);

export interface ParsedOperator {
  qualifier?: 'ForAnyValue' | 'ForAllValues';
  /** undefined for Null. */
  base?: BaseOperator;
  ifExists: boolean;
}

const parsedCache = new Map<string, ParsedOperator | null>();

/** Parses "ForAnyValue:StringLikeIfExists"; null for an operator AWS does not define. */
export function parseOperator(name: string): ParsedOperator | null {
  const cached = parsedCache.get(name);
  if (cached !== undefined) return cached;
  let result: ParsedOperator | null = null;
  let rest = name.toLowerCase();
  let qualifier: ParsedOperator['qualifier'];
  if (rest.startsWith('foranyvalue:')) qualifier = 'ForAnyValue';
  else if (rest.startsWith('forallvalues:')) qualifier = 'ForAllValues';
  if (qualifier) rest = rest.slice(qualifier.length + 1);
  const ifExists = rest.endsWith('ifexists');
  if (ifExists) rest = rest.slice(0, -'ifexists'.length);
  if (rest === 'null') {
    // "You can add IfExists to the end of any condition operator name except the Null condition."
    if (!ifExists && !qualifier) result = { ifExists: false };
  } else {
    const base = OPERATORS.get(rest);
    if (base) result = { qualifier, base, ifExists };
  }
  if (parsedCache.size < 1000) parsedCache.set(name, result);
  return result;
}

/** Policy condition values: a string, number or boolean, or an array of them. null marks an unusable value. */
function policyValues(raw: unknown): (string | null)[] {
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((v) => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null));
}

function evaluateKey(op: ParsedOperator, values: (string | null)[], contextValue: string | string[] | undefined, env: Env): boolean {
  // An empty set counts as missing ("resolves to an empty data set").
  const missing = contextValue === undefined || (Array.isArray(contextValue) && contextValue.length === 0);
  if (!op.base) {
    // Null: "true" means the key is absent, "false" that it is present.
    return values.some((v) => v !== null && v.toLowerCase() === (missing ? 'true' : 'false'));
  }
  const base = op.base;
  if (op.qualifier === 'ForAllValues') {
    // True when every request value matches, and also when there are none.
    if (missing) return true;
    if (!Array.isArray(contextValue)) return matchesOne(base, contextValue!, values, env);
    for (const c of contextValue) if (!matchesOne(base, c, values, env)) return false;
    return true;
  }
  if (op.qualifier === 'ForAnyValue') {
    if (missing) return op.ifExists;
    if (!Array.isArray(contextValue)) return matchesOne(base, contextValue!, values, env);
    for (const c of contextValue) if (matchesOne(base, c, values, env)) return true;
    return false;
  }
  // A missing key fails the match, so negated operators are true; ...IfExists is true.
  if (missing) return op.ifExists || base.negated;
  // A multivalued key needs a set qualifier: without one the condition does not match.
  if (Array.isArray(contextValue)) return false;
  return matchesOne(base, contextValue as string, values, env);
}

/** One request value against the policy values: any match, or for a negated operator none. */
function matchesOne(base: BaseOperator, contextValue: string, values: (string | null)[], env: Env): boolean {
  let anyMatch = false;
  for (const p of values) {
    if (p !== null && base.test(contextValue, p, env)) {
      anyMatch = true;
      break;
    }
  }
  return base.negated ? !anyMatch : anyMatch;
}

interface CompiledKey {
  key: string;
  values: (string | null)[];
}

/** A Condition element prepared once (documents are not mutated after they are evaluated): operators
 * parsed, key names lower-cased, values normalized. */
type CompiledCondition = { name: string; op: ParsedOperator | null; keys: CompiledKey[] | null }[];

const compiledConditions = new WeakMap<object, CompiledCondition>();

function compileCondition(condition: object): CompiledCondition {
  let compiled = compiledConditions.get(condition);
  if (!compiled) {
    compiled = Object.entries(condition).map(([name, keys]) => ({
      name,
      op: parseOperator(name),
      keys:
        keys === null || typeof keys !== 'object' || Array.isArray(keys)
          ? null
          : Object.entries(keys).map(([key, raw]) => ({ key: key.toLowerCase(), values: policyValues(raw) })),
    }));
    compiledConditions.set(condition, compiled);
  }
  return compiled;
}

/**
 * Evaluates a Condition element: blocks and keys ANDed, values of a key ORed. An operator AWS does not
 * define makes the statement not match; its name is pushed to `unknown`.
 */
export function conditionsMatch(condition: unknown, ctx: Context, variables: boolean, unknown: string[]): boolean {
  if (condition === undefined) return true;
  if (condition === null || typeof condition !== 'object') return false;
  const env: Env = { ctx, variables };
  for (const block of compileCondition(condition)) {
    if (!block.op) {
      if (!unknown.includes(block.name)) unknown.push(block.name);
      return false;
    }
    if (!block.keys) return false;
    for (const { key, values } of block.keys) {
      if (!evaluateKey(block.op, values, ctx.get(key), env)) return false;
    }
  }
  return true;
}

/** Operator names AWS defines (without qualifiers and IfExists), for validation messages. */
export function isKnownOperator(name: string): boolean {
  return parseOperator(name) !== null;
}
