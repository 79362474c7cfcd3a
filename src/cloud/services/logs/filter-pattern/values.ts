// Comparisons of one value (a JSON property or a space-delimited field) with a literal of a filter
// pattern: `= "UpdateTrail"`, `!= 123.123.*`, `= 4*`, `> 1000`, `= %regex%`.
//
// Semantics, from "Using filter patterns to match terms in JSON log events" and "... in
// space-delimited log events" (FilterAndPatternSyntax.html):
// - strings compare exactly and case-sensitively; '*' is a wildcard "at, before, or after a search
//   term" (`*Event`, `Event*`, `*html*`); a '*' inside the term is literal ("Ev*ent will only match
//   the actual string Ev*ent", earlier edition of the same page); '*' alone matches any value;
// - numbers compare numerically with = != < <= > >= (integers, decimals, signs, scientific
//   notation); a value that is not a number never satisfies < <= > >=;
// - `%regex%` searches the value.
// Each test works on a string, on a range of the log line (space-delimited fast path: no
// substring is made for exact and prefix comparisons or numbers), or on a JSON number.
import type { LinearRegex } from '../../../../controls/patterns/regex.ts';

export type CmpOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

export type Literal =
  | { kind: 'string'; text: string; quoted: boolean }
  | { kind: 'number'; text: string; value: number }
  | { kind: 'regex'; source: string; re: LinearRegex };

export interface ValueTest {
  /** Tests a string value. */
  text(t: string): boolean;
  /** Tests the characters [s, e) of `msg`. */
  range(msg: string, s: number, e: number): boolean;
  /** Tests a JSON number. */
  num(n: number): boolean;
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The number a literal or a value spells, or undefined (AWS's number grammar: sign, decimals, exponent). */
export function parseNumber(t: string): number | undefined {
  return NUMBER.test(t) ? Number(t) : undefined;
}

/** parseNumber over a range of a string; plain integers are read without making a substring. */
export function parseNumberRange(msg: string, s: number, e: number): number | undefined {
  if (s >= e) return undefined;
  let i = s;
  let neg = false;
  const c0 = msg.charCodeAt(i);
  if (c0 === 45 /* - */ || c0 === 43 /* + */) {
    neg = c0 === 45;
    i++;
    if (i === e) return undefined;
  }
  let v = 0;
  const digitsStart = i;
  while (i < e) {
    const c = msg.charCodeAt(i);
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
    i++;
  }
  if (i === e && i > digitsStart && i - digitsStart <= 15) return neg ? -v : v;
  return parseNumber(msg.slice(s, e));
}

type Wildcard = { mode: 'any' } | { mode: 'exact' | 'prefix' | 'suffix' | 'contains'; core: string };

function wildcard(text: string): Wildcard {
  if (text === '') return { mode: 'exact', core: '' };
  let lead = false;
  let trail = false;
  let core = text;
  if (core.startsWith('*')) {
    lead = true;
    core = core.replace(/^\*+/, '');
  }
  if (core.length === 0) return { mode: 'any' };
  if (core.endsWith('*')) {
    trail = true;
    core = core.replace(/\*+$/, '');
  }
  if (lead && trail) return { mode: 'contains', core };
  if (lead) return { mode: 'suffix', core };
  if (trail) return { mode: 'prefix', core };
  return { mode: 'exact', core };
}

function stringEquality(text: string): ValueTest {
  const w = wildcard(text);
  switch (w.mode) {
    case 'any':
      return { text: () => true, range: () => true, num: () => true };
    case 'exact': {
      const core = w.core;
      const len = core.length;
      return {
        text: (t) => t === core,
        range: (m, s, e) => e - s === len && m.startsWith(core, s),
        num: (n) => String(n) === core,
      };
    }
    case 'prefix': {
      const core = w.core;
      const len = core.length;
      return {
        text: (t) => t.startsWith(core),
        range: (m, s, e) => e - s >= len && m.startsWith(core, s),
        num: (n) => String(n).startsWith(core),
      };
    }
    case 'suffix': {
      const core = w.core;
      const len = core.length;
      return {
        text: (t) => t.endsWith(core),
        range: (m, s, e) => e - s >= len && m.startsWith(core, e - len),
        num: (n) => String(n).endsWith(core),
      };
    }
    case 'contains': {
      const core = w.core;
      return {
        text: (t) => t.includes(core),
        range: (m, s, e) => {
          const at = m.indexOf(core, s);
          return at >= 0 && at + core.length <= e;
        },
        num: (n) => String(n).includes(core),
      };
    }
  }
}

function numberTest(op: CmpOp, v: number, literalText: string): ValueTest {
  const cmp = (x: number): boolean => {
    switch (op) {
      case '=':
        return x === v;
      case '!=':
        return x !== v;
      case '<':
        return x < v;
      case '<=':
        return x <= v;
      case '>':
        return x > v;
      case '>=':
        return x >= v;
    }
  };
  // A value that is not a number: = and != fall back to comparing the text with the literal as written.
  const nonNumeric = op === '=' ? (t: string) => t === literalText : op === '!=' ? (t: string) => t !== literalText : () => false;
  return {
    text: (t) => {
      const x = parseNumber(t);
      return x === undefined ? nonNumeric(t) : cmp(x);
    },
    range: (m, s, e) => {
      const x = parseNumberRange(m, s, e);
      return x === undefined ? nonNumeric(m.slice(s, e)) : cmp(x);
    },
    num: cmp,
  };
}

function negate(t: ValueTest): ValueTest {
  return { text: (x) => !t.text(x), range: (m, s, e) => !t.range(m, s, e), num: (n) => !t.num(n) };
}

/** The test `value <op> literal`. Relational operators take only number literals (the parser checks). */
export function compileComparison(op: CmpOp, literal: Literal): ValueTest {
  if (literal.kind === 'number') return numberTest(op, literal.value, literal.text);
  let eq: ValueTest;
  if (literal.kind === 'regex') {
    const re = literal.re;
    eq = { text: (t) => re.test(t), range: (m, s, e) => re.test(m.slice(s, e)), num: (n) => re.test(String(n)) };
  } else {
    eq = stringEquality(literal.text);
  }
  if (op === '=') return eq;
  if (op === '!=') return negate(eq);
  throw new Error(`operator ${op} needs a number`); // unreachable: the parser refuses it first
}
