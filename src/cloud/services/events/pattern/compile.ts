// EventBridge event patterns: compiler and matcher.
//
// The compiler follows the grammar and the checks of aws/event-ruler's JsonRuleCompiler (the library
// EventBridge uses), reading the pattern the way Jackson does so that a refused pattern gets the same
// InvalidEventPatternException message, location included, as AWS returns. Semantics:
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
//
// A pattern compiles to one or more branches ("$or" forks them, as in event-ruler); each branch is a tree
// of the pattern's field paths with a leaf test per path. Matching walks the branch's tree over the event,
// only along the pattern's paths, and is array-consistent like event-ruler's rulesForJSONEvent: fields
// matched under one array must come from the same element. Field names are joined with "." as
// event-ruler joins them, in patterns and in events alike (see writeRules and dottedView).
//
// Where AWS's "Considerations when creating event patterns" and event-ruler disagree, event-ruler is
// followed (numbers compare by value; see values.ts), and test/events/considerations.test.ts says which.
import { JsonReader, JsonReadError, NestingDepthError, type Token } from './json-reader.ts';
import { InvalidEventPatternException } from './errors.ts';
import { CidrError, ipToHex, parseCidr } from './ip.ts';
import { buildLeaf, leafMatches, quantize, type Glob, type Leaf, type ValueMatcher } from './values.ts';

export interface CompiledEventPattern {
  /** The pattern text that was compiled. */
  readonly source: string;
  /** How many alternatives the pattern expands to ("$or" multiplies them). */
  readonly branchCount: number;
  /** Whether the event (a parsed JSON object) matches. */
  matches(event: object): boolean;
}

/** Above this many "$or" alternatives the pattern is refused rather than expanded (a safety net). */
const MAX_BRANCHES = 10_000;

const RESERVED_IN_OR = new Set([
  'exactly',
  'equals-ignore-case',
  'prefix',
  'suffix',
  'anything-but',
  'exists',
  'wildcard',
  'numeric',
  'cidr',
  '=',
  '<',
  '<=',
  '>',
  '>=',
  'regex',
  'not-wildcard',
  'not-equals-ignore-case',
  'date-after',
  'date-on-or-after',
  'date-before',
  'date-on-or-before',
  'in-date-range',
  'ip-address-in-range',
  'ip-address-not-in-range',
]);

const OUT_OF_RANGE = 'Value must be between -5.0E9 and 5.0E9, inclusive';

/** An error of a Java IllegalArgumentException kind, turned into a barf where event-ruler catches it. */
class IllegalArgument extends Error {}

/** event-ruler's JsonParseException re-thrown with a second location (its catch-and-barf blocks). */
class Doubled extends Error {
  constructor(
    readonly reason: string,
    readonly locations: string[],
  ) {
    super(reason);
  }
}

interface Field {
  path: string[];
  matchers: ValueMatcher[];
}
type Rule = Map<string, Field>;

const isNumber = (t: Token | undefined) => t === 'VALUE_NUMBER_INT' || t === 'VALUE_NUMBER_FLOAT';

function q(text: string): number {
  const v = quantize(Number(text));
  if (v === undefined) throw new IllegalArgument(OUT_OF_RANGE);
  return v;
}

class Compiler {
  constructor(private readonly r: JsonReader) {}

  compile(): Rule[] {
    const rules: Rule[] = [];
    if (this.r.nextToken() !== 'START_OBJECT') this.r.fail('Filter is not an object');
    this.parseObject(rules, [], false);
    return rules;
  }

  private parseObject(rules: Rule[], path: string[], insideOr: boolean): void {
    const r = this.r;
    let fieldsPresent = false;
    while (r.nextToken() !== 'END_OBJECT') {
      fieldsPresent = true;
      const name = r.currentName;
      if (name === '$or') {
        this.parseOr(rules, path);
        continue;
      }
      if (insideOr && RESERVED_IN_OR.has(name)) r.fail(`${name} is Ruler reserved fieldName which cannot be used inside $or.`);
      const t = r.nextToken();
      if (t === 'START_OBJECT') this.parseObject(rules, [...path, name], insideOr);
      else if (t === 'START_ARRAY') this.writeRules(rules, [...path, name]);
      else r.fail(`"${name}" must be an object or an array`);
    }
    if (!fieldsPresent) r.fail('Empty objects are not allowed');
  }

  private parseOr(rules: Rule[], path: string[]): void {
    const r = this.r;
    const current = rules.map((m) => new Map(m));
    rules.length = 0;
    if (r.nextToken() !== 'START_ARRAY') r.fail('It must be an Array followed with $or.');
    let count = 0;
    let t: Token | undefined;
    while ((t = r.nextToken()) !== 'END_ARRAY') {
      count++;
      if (t !== 'START_OBJECT') r.fail('Only JSON object is allowed in array of $or relationship.');
      const forked = current.map((m) => new Map(m));
      if (forked.length === 0) forked.push(new Map());
      this.parseObject(forked, path, true);
      rules.push(...forked);
      if (rules.length > MAX_BRANCHES) r.fail('Rule is too complex - try using fewer $or alternatives');
    }
    if (count < 2) r.fail('There must have at least 2 Objects in $or relationship.');
  }

  private writeRules(rules: Rule[], path: string[]): void {
    const r = this.r;
    const values: ValueMatcher[] = [];
    let t: Token | undefined;
    while ((t = r.nextToken()) !== 'END_ARRAY') {
      switch (t) {
        case 'START_OBJECT':
          values.push(this.matchExpression());
          break;
        case 'VALUE_STRING': {
          const text = r.getText();
          const hex = ipToHex(text);
          values.push(hex !== undefined ? { kind: 'exact-ip', hex } : { kind: 'exact-string', value: text });
          break;
        }
        case 'VALUE_NUMBER_INT':
        case 'VALUE_NUMBER_FLOAT': {
          const raw = Number(r.getText());
          values.push({ kind: 'exact-number', raw, q: quantize(raw) });
          break;
        }
        case 'VALUE_TRUE':
          values.push({ kind: 'literal', value: true });
          break;
        case 'VALUE_FALSE':
          values.push({ kind: 'literal', value: false });
          break;
        case 'VALUE_NULL':
          values.push({ kind: 'literal', value: null });
          break;
        default:
          r.fail('Match value must be String, number, true, false, or null');
      }
    }
    if (values.length === 0) r.fail('Empty arrays are not allowed');
    if (rules.length === 0) rules.push(new Map());
    // event-ruler names a field by joining its path with "." (Path.extendedName) and keeps the last
    // values written under a name (withOverriding). So {"a": {"b": [..]}} and {"a.b": [..]} name the
    // same field, and whichever comes later in the pattern wins. The AWS page says the same in its
    // considerations ("uses dot (.) as the joining character"; "only uses the last one").
    const name = path.join('.');
    for (const rule of rules) rule.set(name, { path: name.split('.'), matchers: values });
  }

  private endOfExpression(): void {
    if (this.r.nextToken() !== 'END_OBJECT') this.r.fail('Only one key allowed in match expression');
  }

  private stringOperand(message: string): string {
    if (this.r.nextToken() !== 'VALUE_STRING') this.r.fail(message);
    return this.r.getText();
  }

  private matchExpression(): ValueMatcher {
    const r = this.r;
    if (r.nextToken() !== 'FIELD_NAME') r.fail('Match expression name not found');
    const name = r.currentName;
    switch (name) {
      case 'exactly': {
        const value = this.stringOperand('exact match pattern must be a string');
        this.endOfExpression();
        return { kind: 'exact-string', value };
      }
      case 'prefix':
      case 'suffix': {
        const t = r.nextToken();
        if (t === 'START_OBJECT') return this.ignoreCaseAffix(name);
        if (t !== 'VALUE_STRING') r.fail(`${name} match pattern must be a string`);
        const value = r.getText();
        this.endOfExpression();
        return { kind: name, value, ignoreCase: false };
      }
      case 'numeric': {
        if (r.nextToken() !== 'START_ARRAY') r.fail('Value of numeric must be an array.');
        const range = this.numeric();
        if (r.nextToken() !== 'END_OBJECT') r.fail('Too many elements in numeric expression');
        return range;
      }
      case 'anything-but':
        return this.anythingBut();
      case 'exists': {
        const t = r.nextToken();
        if (t !== 'VALUE_TRUE' && t !== 'VALUE_FALSE') r.fail('exists match pattern must be either true or false.');
        this.endOfExpression();
        return { kind: 'exists', value: t === 'VALUE_TRUE' };
      }
      case 'cidr': {
        const text = this.stringOperand('prefix match pattern must be a string');
        const range = parseCidr(text); // CidrError: reported without a location, as AWS does
        this.endOfExpression();
        return { kind: 'cidr', range };
      }
      case 'equals-ignore-case': {
        const value = this.stringOperand('equals-ignore-case match pattern must be a string');
        this.endOfExpression();
        return { kind: 'equals-ignore-case', value };
      }
      case 'wildcard': {
        const source = this.stringOperand('wildcard match pattern must be a string');
        const glob = this.glob(source);
        this.endOfExpression();
        return { kind: 'wildcard', source, glob };
      }
      default:
        return r.fail(`Unrecognized match type ${name}`);
    }
  }

  private ignoreCaseAffix(kind: 'prefix' | 'suffix'): ValueMatcher {
    const r = this.r;
    const label = kind === 'prefix' ? 'Prefix' : 'Suffix';
    if (r.nextToken() !== 'FIELD_NAME') r.fail(`${label} expression name not found`);
    if (r.currentName !== 'equals-ignore-case') r.fail(`Unsupported ${kind} pattern: ${r.currentName}`);
    const value = this.stringOperand('equals-ignore-case match pattern must be a string');
    this.endOfExpression();
    this.endOfExpression();
    return { kind, value, ignoreCase: true };
  }

  /** event-ruler's wildcard parser: "*" any run, "\*" a star, "\\" a backslash, no "**". */
  private glob(text: string): Glob {
    const parts: string[] = [];
    let cur = '';
    // positions are UTF-8 byte offsets in the quoted value, as event-ruler reports them
    let pos = 1;
    const chars = Array.from(text);
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      if (c === '*') {
        if (chars[i + 1] === '*') this.r.fail(`Consecutive wildcard characters at pos ${pos}`);
        parts.push(cur);
        cur = '';
      } else if (c === '\\') {
        const next = chars[i + 1];
        if (next !== '*' && next !== '\\') this.r.fail(`Invalid escape character at pos ${pos}`);
        cur += next;
        i++;
        pos += 1;
      } else {
        cur += c;
      }
      pos += Buffer.byteLength(c);
    }
    parts.push(cur);
    return { parts };
  }

  private numeric(): ValueMatcher {
    const r = this.r;
    if (r.nextToken() !== 'VALUE_STRING') r.fail(`Invalid member in numeric match: ${r.getText()}`);
    const op = r.getText();
    let t = r.nextToken();
    try {
      switch (op) {
        case '=': {
          if (!isNumber(t)) r.fail('Value of equals must be numeric');
          const v = q(r.getText());
          if (r.nextToken() !== 'END_ARRAY') r.fail('Too many elements in numeric expression');
          return { kind: 'numeric', lower: v, lowerOpen: false, upper: v, upperOpen: false };
        }
        case '>=':
        case '>': {
          if (!isNumber(t)) r.fail(`Value of ${op} must be numeric`);
          const bottom = q(r.getText());
          t = r.nextToken();
          if (t === 'END_ARRAY') return { kind: 'numeric', lower: bottom, lowerOpen: op === '>', upperOpen: false };
          return this.completeRange(t, bottom, op === '>');
        }
        case '<=':
        case '<': {
          if (!isNumber(t)) r.fail(`Value of ${op} must be numeric`);
          const top = q(r.getText());
          if (r.nextToken() !== 'END_ARRAY') r.fail('Too many elements in numeric expression');
          return { kind: 'numeric', upper: top, upperOpen: op === '<', lowerOpen: false };
        }
        default:
          return r.fail(`Unrecognized numeric range operator: ${op}`);
      }
    } catch (e) {
      if (e instanceof IllegalArgument) r.fail(e.message);
      throw e;
    }
  }

  private completeRange(t: Token | undefined, bottom: number, lowerOpen: boolean): ValueMatcher {
    const r = this.r;
    if (t !== 'VALUE_STRING') r.fail(`Bad value in numeric range: ${r.getText()}`);
    const op = r.getText();
    if (op !== '<' && op !== '<=') r.fail(`Bad numeric range operator: ${op}`);
    if (!isNumber(r.nextToken())) r.fail(`Value of ${op} must be numeric`);
    const top = q(r.getText());
    if (r.nextToken() !== 'END_ARRAY') r.fail('Too many terms in numeric range expression');
    if (bottom >= top) throw new IllegalArgument('Bottom must be less than top');
    return { kind: 'numeric', lower: bottom, lowerOpen, upper: top, upperOpen: op === '<' };
  }

  private anythingBut(): ValueMatcher {
    const r = this.r;
    type Kind = 'plain' | 'ignore-case' | 'prefix' | 'suffix' | 'wildcard';
    let kind: Kind = 'plain';
    let t = r.nextToken();
    if (t === 'START_OBJECT') {
      if (r.nextToken() !== 'FIELD_NAME') r.fail('Anything-But expression name not found');
      const op = r.currentName;
      if (op === 'equals-ignore-case') kind = 'ignore-case';
      else if (op === 'prefix' || op === 'suffix' || op === 'wildcard') kind = op;
      else r.fail(`Unsupported anything-but pattern: ${op}`);
      t = r.nextToken();
    }
    if (t !== 'START_ARRAY' && t !== 'VALUE_STRING' && !isNumber(t)) {
      r.fail('Value of anything-but must be an array or single string/number value.');
    }
    let result: ValueMatcher;
    if (t === 'START_ARRAY') result = kind === 'plain' ? this.anythingButList() : this.anythingButSet(kind, true);
    else if (kind === 'plain') {
      if (t === 'VALUE_STRING') result = { kind: 'anything-but', strings: new Set([r.getText()]), numbers: new Set(), numeric: false };
      else {
        // outside event-ruler's try/catch: the range error surfaces raw, without a location
        const v = quantize(Number(r.getText()));
        if (v === undefined) throw new InvalidEventPatternException(OUT_OF_RANGE);
        result = { kind: 'anything-but', strings: new Set(), numbers: new Set([v]), numeric: true };
      }
    } else result = this.anythingButSet(kind, false);
    if (r.nextToken() !== 'END_OBJECT') r.fail('Too many elements in numeric expression');
    if (kind !== 'plain' && r.nextToken() !== 'END_OBJECT') r.fail('Too many elements in numeric expression');
    return result;
  }

  /** Runs a list loop the way event-ruler does: its errors are caught and re-thrown with the location again. */
  private rethrowing<T>(body: () => T): T {
    try {
      return body();
    } catch (e) {
      if (e instanceof JsonReadError) throw new Doubled(e.reason, [e.location, this.r.location()]);
      if (e instanceof IllegalArgument) this.r.fail(e.message);
      throw e;
    }
  }

  private anythingButList(): ValueMatcher {
    const r = this.r;
    const strings = new Set<string>();
    const numbers = new Set<number>();
    let hasNumber = false;
    let hasString = false;
    this.rethrowing(() => {
      let t: Token | undefined;
      while ((t = r.nextToken()) !== 'END_ARRAY') {
        if (t === 'VALUE_STRING') {
          strings.add(r.getText());
          hasString = true;
        } else if (isNumber(t)) {
          numbers.add(q(r.getText()));
          hasNumber = true;
        } else r.fail('Inside anything but list, start|null|boolean is not supported.');
      }
    });
    if (hasNumber === hasString) r.fail('Inside anything but list, either all values are number or string, mixed type is not supported');
    return { kind: 'anything-but', strings, numbers, numeric: hasNumber };
  }

  private anythingButSet(kind: 'ignore-case' | 'prefix' | 'suffix' | 'wildcard', list: boolean): ValueMatcher {
    const r = this.r;
    const values: string[] = [];
    const typeError =
      kind === 'ignore-case'
        ? 'Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.'
        : kind === 'wildcard'
          ? 'wildcard match pattern must be a string'
          : 'prefix/suffix match pattern must be a string';
    const take = (t: Token | undefined) => {
      if (t !== 'VALUE_STRING') r.fail(typeError);
      const text = r.getText();
      if ((kind === 'prefix' || kind === 'suffix') && text === '') r.fail('Null prefix/suffix not allowed');
      values.push(text);
    };
    if (list) {
      this.rethrowing(() => {
        let t: Token | undefined;
        while ((t = r.nextToken()) !== 'END_ARRAY') take(t);
      });
    } else take(r.currentToken());
    switch (kind) {
      case 'ignore-case':
        return { kind: 'anything-but-ignore-case', lowered: new Set(values.map((v) => v.toLowerCase())) };
      case 'prefix':
        return { kind: 'anything-but-prefix', values };
      case 'suffix':
        return { kind: 'anything-but-suffix', values };
      case 'wildcard':
        return { kind: 'anything-but-wildcard', globs: values.map((v) => this.glob(v)) };
    }
  }
}

// ---- matching ----

interface Node {
  children: [string, Node][];
  leaf: Leaf | undefined;
  /** Whether some leaf below can match a present value (decides how arrays are walked). */
  positive: boolean;
}

function buildTree(rule: Rule): Node {
  const root: Node = { children: [], leaf: undefined, positive: false };
  for (const field of rule.values()) {
    let node = root;
    for (const step of field.path) {
      let next = node.children.find(([k]) => k === step)?.[1];
      if (!next) {
        next = { children: [], leaf: undefined, positive: false };
        node.children.push([step, next]);
      }
      node = next;
    }
    node.leaf = buildLeaf(field.matchers);
  }
  const mark = (n: Node): boolean => {
    let positive = n.leaf?.positive ?? false;
    for (const [, c] of n.children) if (mark(c)) positive = true;
    n.positive = positive;
    return positive;
  };
  mark(root);
  return root;
}

/**
 * Matches a pattern node against the value found at its path. Arrays holding objects are walked
 * array-consistently: a subtree that needs present values must be satisfied by one element; a subtree of
 * only "exists": false tests must hold for every element (the field must be absent from all of them).
 */
function matchNode(node: Node, value: unknown): boolean {
  if (node.leaf && !leafMatches(node.leaf, value)) return false;
  if (node.children.length === 0) return true;
  if (Array.isArray(value)) {
    const elements: unknown[] = [];
    flattenInto(value, elements);
    if (node.positive) {
      for (const e of elements) if (matchChildren(node, e)) return true;
      return false;
    }
    for (const e of elements) if (!matchChildren(node, e)) return false;
    return true;
  }
  return matchChildren(node, value);
}

function matchChildren(node: Node, value: unknown): boolean {
  const obj = isPlainObject(value) ? dottedView(value) : undefined;
  for (const [key, child] of node.children) {
    const v = obj && Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
    if (!matchNode(child, v)) return false;
  }
  return true;
}

type JsonObject = Record<string, unknown>;

function isPlainObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Event field names with dots. event-ruler flattens an event into field names joined with "." (Event's
 * flattening and Path.name), so an event key literally named "a.b" and a key "b" nested in "a" are the
 * same field "a.b", and a pattern's "a.b" (however it is spelt) matches either (event-ruler README,
 * "Caveat: Compiled rules and JSON keys with dots"; AWS's considerations say so for patterns). When
 * both spellings occur in one event, the field has the values of both.
 *
 * The matcher walks objects step by step, so an object with dotted keys is seen through a view in which
 * "a.b.c": v is filed under "a" as {"b.c": v} (the next step's view splits it again) and merged with
 * what "a" already holds: objects merge key by key, an object joins every object element of an array
 * (a field outside an array goes with any element, as event-ruler's array-consistency check allows),
 * and anything else becomes the list of both values (any of them may match). Objects without dotted
 * keys are used as they are.
 */
function dottedView(obj: JsonObject): JsonObject {
  const keys = Object.keys(obj);
  let dotted = false;
  for (const k of keys) {
    if (k.includes('.')) {
      dotted = true;
      break;
    }
  }
  if (!dotted) return obj;
  const out: JsonObject = Object.create(null);
  for (const k of keys) {
    const dot = k.indexOf('.');
    const head = dot < 0 ? k : k.slice(0, dot);
    let v: unknown = obj[k];
    if (dot >= 0) {
      const nested: JsonObject = Object.create(null);
      nested[k.slice(dot + 1)] = v;
      v = nested;
    }
    out[head] = Object.prototype.hasOwnProperty.call(out, head) ? combine(out[head], v) : v;
  }
  return out;
}

function combine(a: unknown, b: unknown): unknown {
  if (isPlainObject(a) && isPlainObject(b)) {
    const out: JsonObject = Object.create(null);
    for (const k of Object.keys(a)) out[k] = a[k];
    for (const k of Object.keys(b)) out[k] = Object.prototype.hasOwnProperty.call(out, k) ? combine(out[k], b[k]) : b[k];
    return out;
  }
  if (Array.isArray(a) && isPlainObject(b) && a.some(isPlainObject)) return a.map((e) => (isPlainObject(e) ? combine(e, b) : e));
  if (isPlainObject(a) && Array.isArray(b) && b.some(isPlainObject)) return b.map((e) => (isPlainObject(e) ? combine(a, e) : e));
  return [...(Array.isArray(a) ? a : [a]), ...(Array.isArray(b) ? b : [b])];
}

/** The elements of an array, nested arrays flattened in order (iteratively: event depth is not bounded here). */
function flattenInto(value: unknown[], out: unknown[]): void {
  const stack: [unknown[], number][] = [[value, 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [arr, i] = top;
    if (i >= arr.length) {
      stack.pop();
      continue;
    }
    top[1] = i + 1;
    const e = arr[i];
    if (Array.isArray(e)) stack.push([e, 0]);
    else out.push(e);
  }
}

class Pattern implements CompiledEventPattern {
  readonly branchCount: number;
  constructor(
    readonly source: string,
    private readonly trees: Node[],
  ) {
    this.branchCount = trees.length;
  }

  matches(event: object): boolean {
    for (const tree of this.trees) if (matchChildren(tree, event)) return true;
    return false;
  }
}

/**
 * Compiles an EventBridge event pattern. Throws InvalidEventPatternException with AWS's message for a
 * pattern AWS refuses. An object is serialized with JSON.stringify first (locations in errors then refer
 * to that text).
 */
export function compilePattern(json: string | object): CompiledEventPattern {
  const source = typeof json === 'string' ? json : JSON.stringify(json);
  const reader = new JsonReader(source);
  let rules: Rule[];
  try {
    rules = new Compiler(reader).compile();
  } catch (e) {
    if (e instanceof JsonReadError) throw new InvalidEventPatternException(e.reason, e.location);
    if (e instanceof Doubled) throw new InvalidEventPatternException(e.reason, e.locations);
    if (e instanceof CidrError || e instanceof IllegalArgument || e instanceof NestingDepthError) throw new InvalidEventPatternException(e.message);
    throw e;
  }
  return new Pattern(source, rules.map(buildTree));
}
