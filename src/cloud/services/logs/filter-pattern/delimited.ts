// Space-delimited filter patterns: `[ip, user, username, timestamp, request, status_code = 4*, bytes > 1000]`.
// Source: "Using filter patterns to match terms in space-delimited log events",
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-term-space-delimited-log-events
// and the TestMetricFilter examples of the API reference (Apache access log).
//
// How an event is split: fields are separated by spaces; "characters between brackets ("[]") and
// double quotation marks ("") are considered single fields" (the brackets and quotes are not part of
// the value: `$timestamp` is `10/Oct/2000:13:25:15 -0700`).
// How fields line up with the pattern:
// - without an ellipsis, the event needs at least as many fields as the pattern; the last field of
//   the pattern takes the rest of the event, which is why `[w1=ERROR, w2]` matches
//   "ERROR 09/25/2014 12:00:02 Failed to process request" and why the page says to add "a blank w2
//   indicator after the w1 term";
// - `...` stands for any number of fields (zero included); `[]` matches every event;
// - a field's conditions may only name that field (`status_code = 4* && status_code != 403`).
// Extracted values: `$name` for named fields, `$N` (position in the event, from 1) for unnamed
// fields and for those the ellipsis covers.
//
// The flow-log path goes through here at ≥ 100,000 records/s, so `test` reads the event into
// reused offset buffers, compares ranges of the event in place, and stops reading fields as soon
// as the pattern has all it needs.
import { PatternSyntaxError } from './errors.ts';
import { FilterMatch } from './match.ts';
import { forEachLeaf, lex, parseCondition, type Condition, type Token } from './syntax.ts';
import { compileComparison } from './values.ts';

type RangeEval = (m: string, s: number, e: number) => boolean;

interface FieldSpec {
  readonly name: string | undefined;
  readonly test: RangeEval | undefined;
}

const NAME = /^[A-Za-z0-9_-]+$/;

// Scratch buffers for the fields of the event being tested: value start, value end, raw start.
let S = new Int32Array(64);
let E = new Int32Array(64);
let R = new Int32Array(64);
/** Index just after the last field read by `split`. */
let splitEnd = 0;

function grow(): void {
  const n = S.length * 2;
  const s = new Int32Array(n);
  const e = new Int32Array(n);
  const r = new Int32Array(n);
  s.set(S);
  e.set(E);
  r.set(R);
  S = s;
  E = e;
  R = r;
}

/** Reads up to `limit` fields of `m` from `from` into the scratch buffers; returns how many it read. */
function split(m: string, limit: number, from = 0, at = 0): number {
  const len = m.length;
  let i = from;
  let n = at;
  while (n < limit) {
    let c = m.charCodeAt(i);
    while (c === 32 || c === 9) c = m.charCodeAt(++i);
    if (i >= len) break;
    if (n >= S.length) grow();
    R[n] = i;
    if (c === 34 /* " */) {
      const j = m.indexOf('"', i + 1);
      S[n] = i + 1;
      if (j < 0) {
        E[n] = len;
        i = len;
      } else {
        E[n] = j;
        i = j + 1;
      }
    } else if (c === 91 /* [ */) {
      let depth = 1;
      let j = i + 1;
      for (; j < len; j++) {
        const d = m.charCodeAt(j);
        if (d === 91) depth++;
        else if (d === 93 && --depth === 0) break;
      }
      S[n] = i + 1;
      E[n] = j;
      i = j < len ? j + 1 : len;
    } else {
      S[n] = i;
      while (i < len) {
        c = m.charCodeAt(i);
        if (c === 32 || c === 9) break;
        i++;
      }
      E[n] = i;
    }
    n++;
  }
  splitEnd = i;
  return n;
}

function skipSpaces(m: string, i: number): number {
  let c = m.charCodeAt(i);
  while (c === 32 || c === 9) c = m.charCodeAt(++i);
  return i;
}

function trimEnd(m: string, end: number): number {
  let e = end;
  while (e > 0) {
    const c = m.charCodeAt(e - 1);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
    e--;
  }
  return e;
}

function compileRange(c: Condition<string>): RangeEval {
  switch (c.kind) {
    case 'and': {
      const l = compileRange(c.left);
      const r = compileRange(c.right);
      return (m, s, e) => l(m, s, e) && r(m, s, e);
    }
    case 'or': {
      const l = compileRange(c.left);
      const r = compileRange(c.right);
      return (m, s, e) => l(m, s, e) || r(m, s, e);
    }
    case 'cmp':
      return compileComparison(c.op, c.literal).range;
    default:
      throw new PatternSyntaxError('IS and NOT EXISTS only apply to JSON patterns'); // unreachable: parser is in delimited mode
  }
}

export interface CompiledDelimited {
  /** Field names in pattern order (unnamed fields and the ellipsis left out). */
  readonly names: readonly string[];
  readonly regexCount: number;
  test(message: string): boolean;
  match(message: string): FilterMatch;
}

/** Compiles the inside of `[ ... ]`. */
export function compileDelimited(inner: string): CompiledDelimited {
  const tokens = lex(inner, 'delimited');
  const before: FieldSpec[] = [];
  const after: FieldSpec[] = [];
  let ellipsis = false;
  let regexCount = 0;

  if (tokens.length > 0) {
    // Split on top-level commas.
    const segments: [number, number][] = [];
    let depth = 0;
    let start = 0;
    tokens.forEach((tok, k) => {
      if (tok.t === '(') depth++;
      else if (tok.t === ')') depth--;
      else if (tok.t === ',' && depth === 0) {
        segments.push([start, k]);
        start = k + 1;
      }
    });
    segments.push([start, tokens.length]);

    for (const [from, to] of segments) {
      const field = parseField(tokens, from, to);
      if (field === 'ellipsis') {
        if (ellipsis) throw new PatternSyntaxError("a space-delimited pattern can use '...' only once", undefined, true);
        ellipsis = true;
        continue;
      }
      regexCount += field.regexes;
      (ellipsis ? after : before).push({ name: field.name, test: field.test });
    }
  } else {
    ellipsis = true; // `[]` extracts every field and matches every event
  }

  const names = [...before, ...after].flatMap((f) => (f.name === undefined ? [] : [f.name]));
  const nb = before.length;
  const na = after.length;
  const beforeTests = before.map((f) => f.test);
  const afterTests = after.map((f) => f.test);

  /**
   * Splits the event as far as the pattern needs and checks the conditions. Leaves the field
   * ranges in the scratch buffers: fields 0..nb-1 for the leading part, and for an ellipsis with
   * trailing fields every field of the event (returned count). Returns -1 when it does not match.
   */
  function run(m: string, full: boolean): number {
    if (!ellipsis) {
      // nb ≥ 1 here. Read nb-1 fields, then the last pattern field takes the rest of the event.
      let single: boolean; // whether the rest of the event is one field
      let restFrom: number;
      if (full) {
        const got = split(m, Infinity);
        if (got < nb) return -1;
        single = got === nb;
        restFrom = R[nb - 1]!;
      } else {
        if (split(m, nb - 1) < nb - 1) return -1;
        restFrom = skipSpaces(m, splitEnd);
        if (restFrom >= m.length) return -1;
        split(m, nb, restFrom, nb - 1);
        single = skipSpaces(m, splitEnd) >= m.length;
      }
      let lastS = S[nb - 1]!;
      let lastE = E[nb - 1]!;
      if (!single) {
        lastS = restFrom;
        lastE = trimEnd(m, m.length);
      }
      for (let k = 0; k < nb - 1; k++) {
        const t = beforeTests[k];
        if (t !== undefined && !t(m, S[k]!, E[k]!)) return -1;
      }
      const last = beforeTests[nb - 1];
      if (last !== undefined && !last(m, lastS, lastE)) return -1;
      // Keep the range of the last pattern field where `match` expects it.
      S[nb - 1] = lastS;
      E[nb - 1] = lastE;
      return nb;
    }
    const got = split(m, na === 0 && !full ? nb : Infinity);
    if (got < nb + na) return -1;
    for (let k = 0; k < nb; k++) {
      const t = beforeTests[k];
      if (t !== undefined && !t(m, S[k]!, E[k]!)) return -1;
    }
    const base = got - na;
    for (let k = 0; k < na; k++) {
      const t = afterTests[k];
      if (t !== undefined && !t(m, S[base + k]!, E[base + k]!)) return -1;
    }
    return got;
  }

  const positional = (m: string) => (ref: string) => {
    const k = /^\$([1-9]\d*)$/.exec(ref);
    if (!k) return undefined;
    const idx = Number(k[1]) - 1;
    const got = split(m, idx + 1);
    return got > idx ? m.slice(S[idx]!, E[idx]!) : undefined;
  };

  return {
    names,
    regexCount,
    test(message) {
      return run(message, false) >= 0;
    },
    match(message) {
      const got = run(message, true);
      if (got < 0) return FilterMatch.NONE;
      const fields: Record<string, string | number> = {};
      if (!ellipsis) {
        for (let k = 0; k < nb; k++) fields[before[k]!.name !== undefined ? `$${before[k]!.name}` : `$${k + 1}`] = message.slice(S[k]!, E[k]!);
      } else {
        for (let k = 0; k < got; k++) {
          let key: string;
          if (k < nb) key = before[k]!.name !== undefined ? `$${before[k]!.name}` : `$${k + 1}`;
          else if (k >= got - na) {
            const f = after[k - (got - na)]!;
            key = f.name !== undefined ? `$${f.name}` : `$${k + 1}`;
          } else key = `$${k + 1}`;
          fields[key] = message.slice(S[k]!, E[k]!);
        }
      }
      return new FilterMatch(true, fields, positional(message));
    },
  };
}

function parseField(
  tokens: readonly Token[],
  from: number,
  to: number,
): 'ellipsis' | { name: string | undefined; test: RangeEval | undefined; regexes: number } {
  if (from === to) return { name: undefined, test: undefined, regexes: 0 };
  const first = tokens[from]!;
  if (to - from === 1) {
    if (first.t === 'word' && first.text === '...') return 'ellipsis';
    if (first.t === 'word' && NAME.test(first.text)) return { name: first.text, test: undefined, regexes: 0 };
    throw new PatternSyntaxError(
      `a field of a space-delimited pattern is a name (letters, digits, _ and -), '...', or a condition such as status_code = 4*; found ${first.t === 'word' ? `'${first.text}'` : first.t}`,
    );
  }
  let name: string | undefined;
  const cond = parseCondition<string>(tokens, from, to, 'delimited', (tok) => {
    if (tok?.t !== 'word' || !NAME.test(tok.text) || tok.text === '...') {
      throw new PatternSyntaxError(
        `a condition in a space-delimited pattern starts with the field's name (letters, digits, _ and -), not ${tok ? (tok.t === 'word' ? `'${tok.text}'` : tok.t) : 'nothing'}`,
      );
    }
    if (name !== undefined && name !== tok.text) {
      throw new PatternSyntaxError(
        `the conditions of one field name two fields ('${name}' and '${tok.text}'); separate fields with a comma and give each its own conditions`,
      );
    }
    name = tok.text;
    return tok.text;
  });
  let regexes = 0;
  forEachLeaf(cond, (leaf) => {
    if (leaf.kind === 'cmp' && leaf.literal.kind === 'regex') regexes++;
  });
  return { name, test: compileRange(cond), regexes };
}
