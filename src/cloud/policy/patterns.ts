// Wildcard patterns and policy variables of the IAM policy language.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html (wildcards)
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html (variables)
//
// Wildcards are matched without regular expressions (controls/patterns/glob.ts): policies are written by
// students and evaluated by the gateway on every request, and a backtracking RegExp compiled from
// `*a*a*a*a*a*b` takes time polynomial in the value; the glob matcher needs at most value × pattern steps.
import { compileGlob, type GlobPart } from '../../controls/patterns/glob.ts';

/** Condition context with lower-cased key names (AWS compares key names case-insensitively). */
export type Context = ReadonlyMap<string, string | string[]>;

type Token =
  | { kind: 'text'; text: string }
  | { kind: 'star' }
  | { kind: 'one' }
  | { kind: 'var'; key: string; fallback?: string };

/**
 * How a pattern's wildcards match:
 * - glob: `*` any run of characters, `?` any one (Action, StringLike);
 * - resource: Resource element rule: wildcards stay inside a colon-separated segment, except a `*` that ends
 *   a segment, which "can expand to match beyond the colon boundaries";
 * - arn: ArnLike/ArnEquals: "each of the six colon-delimited components of the ARN is checked separately".
 */
export type WildcardMode = 'glob' | 'resource' | 'arn';

type Matcher = (value: string) => boolean;

/** A pattern split once into tokens, with the matchers compiled from it so far. */
interface Pattern {
  tokens: Token[];
  hasVariables: boolean;
  /** By mode, case and (for patterns with variables) the variables' values; null: matches nothing. */
  matchers: Map<string, Matcher | null>;
}

const MAX_CACHE = 10_000;
// One cache per variables setting, so that lookups need no key concatenation.
const withVariables = new Map<string, Pattern>();
const withoutVariables = new Map<string, Pattern>();

function remember<V>(cache: Map<string, V>, key: string, value: V): V {
  // A gateway sees a bounded set of policies; the cap only guards against unbounded growth.
  if (cache.size >= MAX_CACHE) cache.clear();
  cache.set(key, value);
  return value;
}

const VARIABLE = /^\s*([^,]+?)\s*(?:,\s*'([^']*)')?\s*$/;

/** Splits a pattern into text, wildcards and (when the policy version supports them) variables. */
function parse(pattern: string, variables: boolean): Pattern {
  const cache = variables ? withVariables : withoutVariables;
  const cached = cache.get(pattern);
  if (cached) return cached;
  const tokens: Token[] = [];
  let text = '';
  const flush = () => {
    if (text) tokens.push({ kind: 'text', text });
    text = '';
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' || c === '?') {
      flush();
      tokens.push({ kind: c === '*' ? 'star' : 'one' });
    } else if (variables && c === '$' && pattern[i + 1] === '{' && pattern.indexOf('}', i + 2) !== -1) {
      const end = pattern.indexOf('}', i + 2);
      const inner = pattern.slice(i + 2, end);
      i = end;
      // ${*}, ${?} and ${$} stand for the literal characters.
      if (inner === '*' || inner === '?' || inner === '$') {
        text += inner;
        continue;
      }
      const m = VARIABLE.exec(inner);
      if (!m) {
        text += '${' + inner + '}';
        continue;
      }
      flush();
      tokens.push({ kind: 'var', key: m[1]!.toLowerCase(), fallback: m[2] });
    } else {
      text += c;
    }
  }
  flush();
  const hasVariables = tokens.some((t) => t.kind === 'var');
  return remember(cache, pattern, { tokens, hasVariables, matchers: new Map() });
}

/** The single value a variable stands for, or undefined: missing and multivalued keys have no value. */
function variableValue(t: { key: string; fallback?: string }, ctx: Context): string | undefined {
  const v = ctx.get(t.key);
  if (typeof v === 'string') return v;
  return t.fallback;
}

/** Replaces variables with their (literal) values; undefined when one has no value. */
function resolve(pattern: Pattern, ctx: Context): Token[] | undefined {
  if (!pattern.hasVariables) return pattern.tokens;
  const out: Token[] = [];
  for (const t of pattern.tokens) {
    if (t.kind !== 'var') {
      out.push(t);
      continue;
    }
    const value = variableValue(t, ctx);
    if (value === undefined) return undefined;
    const last = out[out.length - 1];
    if (last?.kind === 'text') out[out.length - 1] = { kind: 'text', text: last.text + value };
    else out.push({ kind: 'text', text: value });
  }
  return out;
}

/** The values the pattern's variables take (all resolvable: checked by resolve), as a cache key. */
function variableValues(pattern: Pattern, ctx: Context): string {
  let key = '';
  for (const t of pattern.tokens) if (t.kind === 'var') key += '\u0000' + variableValue(t, ctx);
  return key;
}

/** The glob parts of resolved tokens in a mode, or null when the pattern can match nothing. */
function globParts(tokens: Token[], mode: WildcardMode): GlobPart[] | null {
  const parts: GlobPart[] = [];
  let colons = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'text') {
      parts.push({ k: 'lit', s: t.text });
      for (const c of t.text) if (c === ':') colons++;
      continue;
    }
    if (t.kind === 'var') return null; // resolved before
    let crossesColons: boolean;
    if (mode === 'glob') crossesColons = true;
    else if (mode === 'arn') crossesColons = colons >= 5; // only the resource part may hold colons
    else {
      const next = tokens[i + 1];
      crossesColons = t.kind === 'star' && (next === undefined || (next.kind === 'text' && next.text.startsWith(':')));
    }
    const except = crossesColons ? undefined : ':';
    parts.push(t.kind === 'star' ? { k: 'star', except } : { k: 'one', except });
  }
  if (mode === 'arn' && colons < 5) return null; // not a six-part ARN: matches nothing
  return parts;
}

function compile(tokens: Token[], mode: WildcardMode, ignoreCase: boolean): Matcher | null {
  const parts = globParts(tokens, mode);
  return parts === null ? null : compileGlob(parts, { ignoreCase });
}

/**
 * Whether `value` matches `pattern`. Variables are substituted from `ctx` (when `variables`), and a
 * variable without a value makes the pattern match nothing (reference_policies_variables.html#policy-vars-no-value).
 */
export function wildcardMatch(
  pattern: string,
  value: string,
  mode: WildcardMode,
  ctx: Context,
  variables: boolean,
  ignoreCase = false,
): boolean {
  const parsed = parse(pattern, variables);
  const tokens = resolve(parsed, ctx);
  if (!tokens) return false;
  if (tokens.length === 1 && tokens[0]!.kind === 'text' && mode !== 'arn') {
    const text = tokens[0].text;
    return ignoreCase ? text.toLowerCase() === value.toLowerCase() : text === value;
  }
  if (tokens.length === 1 && tokens[0]!.kind === 'star' && mode !== 'arn') return true;
  const flags = ignoreCase ? 'i' : '';
  const key = parsed.hasVariables ? mode + flags + variableValues(parsed, ctx) : mode + flags;
  let m = parsed.matchers.get(key);
  if (m === undefined) {
    if (parsed.matchers.size >= 256) parsed.matchers.clear(); // many distinct variable values
    parsed.matchers.set(key, (m = compile(tokens, mode, ignoreCase)));
  }
  return m !== null && m(value);
}

/** A condition value with its variables substituted and wildcards kept literal; undefined if unresolvable. */
export function substitute(pattern: string, ctx: Context, variables: boolean): string | undefined {
  if (!variables || !pattern.includes('${')) return pattern;
  const tokens = resolve(parse(pattern, true), ctx);
  if (!tokens) return undefined;
  let out = '';
  for (const t of tokens) out += t.kind === 'text' ? t.text : t.kind === 'star' ? '*' : t.kind === 'one' ? '?' : '';
  return out;
}

/** Action names are case-insensitive ("s3:getobject" matches "s3:GetObject"). */
export function actionMatches(pattern: string, action: string): boolean {
  if (pattern === '*') return true;
  return wildcardMatch(pattern, action, 'glob', EMPTY, false, true);
}

const EMPTY: Context = new Map();
