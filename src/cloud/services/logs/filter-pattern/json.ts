// JSON filter patterns: `{ $.eventType = "UpdateTrail" }`, `{ $.latency > 500 }`,
// `{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }`, `{ $.SomeObject IS NULL }`,
// `{ $.SomeOtherObject NOT EXISTS }`, `{ $.arrayKey[*] = %val.{2}% }`, `{ $.['cluster.name'] = "c" }`.
// Source: "Using filter patterns to match terms in JSON log events",
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-terms-json-log-events
//
// Rules taken from that page:
// - a selector must point at a value node (string or number; booleans are compared by IS TRUE /
//   IS FALSE or as the text true/false); pointing at an array, an object, null or nothing makes
//   both = and != false ("both {$.users = 1} and {$.users != 1} will fail to match" an array);
// - a wildcard selector (`$.*`, `[*]`) holds when any element satisfies the comparison; at most one
//   wildcard per selector and three wildcard selectors per pattern;
// - the event must be a JSON document; anything else does not match.
import { PatternSyntaxError } from './errors.ts';
import { FilterMatch } from './match.ts';
import { forEachLeaf, lex, parseCondition, readSelector, type Condition, type PathStep, type Selector } from './syntax.ts';
import { compileComparison } from './values.ts';

type Eval = (root: unknown) => boolean;

const MAX_WILDCARD_SELECTORS = 3;

const hasOwn = Object.prototype.hasOwnProperty;

/** Calls `fn` on each node the path reaches until it returns true; returns whether it did. */
function some(node: unknown, steps: readonly PathStep[], i: number, fn: (v: unknown) => boolean): boolean {
  if (i === steps.length) return fn(node);
  const step = steps[i]!;
  if (node === null || typeof node !== 'object') return false;
  switch (step.kind) {
    case 'key':
      if (Array.isArray(node) || !hasOwn.call(node, step.key)) return false;
      return some((node as Record<string, unknown>)[step.key], steps, i + 1, fn);
    case 'index':
      if (!Array.isArray(node) || step.index >= node.length) return false;
      return some(node[step.index], steps, i + 1, fn);
    case 'any':
      for (const v of Array.isArray(node) ? node : Object.values(node)) if (some(v, steps, i + 1, fn)) return true;
      return false;
  }
}

/**
 * The first string, number or boolean a selector reaches (booleans as "true"/"false"), or with
 * `where`, the first one that satisfies it (for wildcard selectors: the element that matched).
 */
export function firstScalar(root: unknown, steps: readonly PathStep[], where?: (v: unknown) => boolean): string | number | undefined {
  let found: string | number | undefined;
  some(root, steps, 0, (v) => {
    if (where && !where(v)) return false;
    if (typeof v === 'string' || typeof v === 'number') found = v;
    else if (typeof v === 'boolean') found = String(v);
    return found !== undefined;
  });
  return found;
}

function leafPredicate(leaf: Exclude<Condition<Selector>, { kind: 'and' | 'or' }>): (v: unknown) => boolean {
  switch (leaf.kind) {
    case 'cmp': {
      const test = compileComparison(leaf.op, leaf.literal);
      return (v) =>
        typeof v === 'string' ? test.text(v) : typeof v === 'number' ? test.num(v) : typeof v === 'boolean' ? test.text(String(v)) : false;
    }
    case 'is': {
      const want = leaf.value;
      return (v) => v === want;
    }
    case 'notExists':
      return () => false;
  }
}

function compileCondition(c: Condition<Selector>): Eval {
  switch (c.kind) {
    case 'and': {
      const l = compileCondition(c.left);
      const r = compileCondition(c.right);
      return (root) => l(root) && r(root);
    }
    case 'or': {
      const l = compileCondition(c.left);
      const r = compileCondition(c.right);
      return (root) => l(root) || r(root);
    }
    case 'notExists': {
      const steps = c.subject.steps;
      return (root) => !some(root, steps, 0, () => true);
    }
    case 'is': {
      const steps = c.subject.steps;
      const want = c.value;
      return (root) => some(root, steps, 0, (v) => v === want);
    }
    case 'cmp': {
      const steps = c.subject.steps;
      const onValue = leafPredicate(c);
      if (steps.length === 1 && steps[0]!.kind === 'key') {
        // Fast path for top-level properties: `$.eventName`.
        const key = steps[0].key;
        return (root) => {
          if (root === null || typeof root !== 'object' || Array.isArray(root) || !hasOwn.call(root, key)) return false;
          return onValue((root as Record<string, unknown>)[key]);
        };
      }
      return (root) => some(root, steps, 0, onValue);
    }
  }
}

// The same event is usually tested by every filter of a log group in turn: parse it once.
let lastMessage: string | undefined;
let lastRoot: unknown;

/** The event as a JSON document, or undefined when it is not one. */
export function parseEvent(message: string): unknown {
  if (message === lastMessage) return lastRoot;
  let root: unknown;
  let i = 0;
  while (i < message.length && message.charCodeAt(i) <= 32) i++;
  const c = message.charCodeAt(i);
  if (c === 123 /* { */ || c === 91 /* [ */) {
    try {
      root = JSON.parse(message);
    } catch {
      root = undefined;
    }
  }
  lastMessage = message;
  lastRoot = root;
  return root;
}

const selectorCache = new Map<string, Selector | null>();

/** Parses a metric-value / dimension reference such as `$.latency`; null when it is not a selector. */
export function parseSelectorRef(ref: string): Selector | null {
  let s = selectorCache.get(ref);
  if (s !== undefined) return s;
  try {
    const r = readSelector(ref, 0);
    s = r.next === ref.length ? r.selector : null;
  } catch {
    s = null;
  }
  if (selectorCache.size > 10_000) selectorCache.clear();
  selectorCache.set(ref, s);
  return s;
}

export interface CompiledJson {
  readonly selectors: readonly Selector[];
  readonly regexCount: number;
  test(message: string): boolean;
  match(message: string): FilterMatch;
}

/** Compiles the inside of `{ ... }`. */
export function compileJson(inner: string): CompiledJson {
  const tokens = lex(inner, 'json');
  if (tokens.length === 0) throw new PatternSyntaxError('the JSON pattern {} holds no condition');
  const cond = parseCondition<Selector>(tokens, 0, tokens.length, 'json', (tok) => {
    if (tok?.t !== 'selector') {
      throw new PatternSyntaxError(
        `a JSON condition starts with a property selector such as $.eventName, not ${tok ? (tok.t === 'word' ? `'${tok.text}'` : tok.t) : 'nothing'}`,
      );
    }
    return tok.selector;
  });

  const selectors: Selector[] = [];
  /** For wildcard selectors: the comparisons made on them, to extract the element that matched. */
  const wherePredicates = new Map<string, ((v: unknown) => boolean)[]>();
  let wildcardSelectors = 0;
  let regexCount = 0;
  forEachLeaf(cond, (leaf) => {
    if (leaf.subject.wildcards > 0) {
      wildcardSelectors++;
      const list = wherePredicates.get(leaf.subject.text) ?? [];
      list.push(leafPredicate(leaf));
      wherePredicates.set(leaf.subject.text, list);
    }
    if (leaf.kind === 'cmp' && leaf.literal.kind === 'regex') regexCount++;
    if (!selectors.some((s) => s.text === leaf.subject.text)) selectors.push(leaf.subject);
  });
  const extractWhere = selectors.map((s) => {
    const preds = wherePredicates.get(s.text);
    return preds ? (v: unknown) => preds.some((p) => p(v)) : undefined;
  });
  if (wildcardSelectors > MAX_WILDCARD_SELECTORS) {
    throw new PatternSyntaxError(
      `the pattern uses ${wildcardSelectors} wildcard selectors; AWS allows up to ${MAX_WILDCARD_SELECTORS} in a filter pattern`,
      undefined,
      true,
    );
  }

  const evaluate = compileCondition(cond);
  const resolve = (root: unknown) => (ref: string) => {
    const sel = parseSelectorRef(ref);
    return sel ? firstScalar(root, sel.steps) : undefined;
  };

  return {
    selectors,
    regexCount,
    test(message) {
      const root = parseEvent(message);
      return root !== undefined && evaluate(root);
    },
    match(message) {
      const root = parseEvent(message);
      if (root === undefined || !evaluate(root)) return FilterMatch.NONE;
      const fields: Record<string, string | number> = {};
      selectors.forEach((s, k) => {
        const where = extractWhere[k];
        const v = (where && firstScalar(root, s.steps, where)) ?? firstScalar(root, s.steps);
        if (v !== undefined) fields[s.text] = v;
      });
      return new FilterMatch(true, fields, resolve(root));
    },
  };
}
