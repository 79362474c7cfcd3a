// Lexer and condition parser shared by JSON patterns (`{ $.a = 1 && $.b != x }`) and
// space-delimited patterns (`[ip, user, status = 4* || status = 5*, bytes > 1000]`).
//
// Grammar (FilterAndPatternSyntax.html, JSON compound expressions: "parentheses and the standard
// order of operations () > && > ||"):
//   or      := and ('||' and)*
//   and     := primary ('&&' primary)*
//   primary := '(' or ')' | comparison
//   comparison (JSON)      := selector op value | selector IS (NULL|TRUE|FALSE) | selector NOT EXISTS
//   comparison (delimited) := field op value
//   op      := = | != | < | <= | > | >=      (< <= > >= need a number)
//   value   := "quoted string" | %regex% | bare word (a number, or a string with '*' wildcards)
// Bare words may hold letters, digits and _ - . * + : /; anything else must be quoted ("Strings that
// have unicode and other characters such as '@', '$', '\' etc. must be enclosed in double quotes").
import { invalidCharacters, PatternSyntaxError } from './errors.ts';
import type { LinearRegex } from '../../../../controls/patterns/regex.ts';
import { compileAwsRegex } from './regex.ts';
import { parseNumber, type CmpOp, type Literal } from './values.ts';

export type PathStep = { kind: 'key'; key: string } | { kind: 'index'; index: number } | { kind: 'any' };

export interface Selector {
  /** As written, without spaces: the key of extractedValues. */
  readonly text: string;
  readonly steps: readonly PathStep[];
  readonly wildcards: number;
}

export type Token =
  | { t: '(' | ')' | '&&' | '||' | ','; pos: number }
  | { t: 'op'; op: CmpOp; pos: number }
  | { t: 'string'; value: string; pos: number }
  | { t: 'regex'; source: string; re: LinearRegex; pos: number }
  | { t: 'selector'; selector: Selector; pos: number }
  | { t: 'word'; text: string; pos: number };

const WORD_END = new Set([' ', '\t', '\n', '\r', '(', ')', ',', '=', '!', '<', '>', '&', '|', '"']);
const BARE = /^[A-Za-z0-9_\-.*+:/]+$/;
const NAME_CHAR = /[A-Za-z0-9_-]/;

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/** The run of characters starting at `i` that a term would span, for error messages. */
function termAt(src: string, i: number): string {
  let j = i;
  while (j < src.length && !isSpace(src[j])) j++;
  return src.slice(i, Math.max(j, i + 1));
}

/** Reads a quoted string starting at the opening '"'; supports \" and \\ escapes. */
export function readQuoted(src: string, start: number): { value: string; next: number } {
  let value = '';
  let i = start + 1;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\\' && (src[i + 1] === '"' || src[i + 1] === '\\')) {
      value += src[i + 1];
      i += 2;
      continue;
    }
    if (c === '"') return { value, next: i + 1 };
    value += c;
    i++;
  }
  throw new PatternSyntaxError(`the quoted string starting at character ${start + 1} is not closed by '"'`);
}

/** Reads `%regex%` starting at the first '%'. */
export function readRegex(src: string, start: number): { source: string; re: LinearRegex; next: number } {
  const close = src.indexOf('%', start + 1);
  if (close < 0) throw new PatternSyntaxError(`the regular expression starting at character ${start + 1} is not closed by '%'`);
  const source = src.slice(start + 1, close);
  return { source, re: compileAwsRegex(source), next: close + 1 };
}

/** Reads a JSON property selector starting at '$': `$.a.b`, `$.a[0]`, `$.a[*]`, `$.*`, `$.['a.b']`. */
export function readSelector(src: string, start: number): { selector: Selector; next: number } {
  let i = start + 1;
  const steps: PathStep[] = [];
  let wildcards = 0;
  const fail = (): never => {
    throw invalidCharacters(termAt(src, start));
  };
  for (;;) {
    const c = src[i];
    if (c === '.') {
      const n = src[i + 1];
      if (n === '*') {
        steps.push({ kind: 'any' });
        wildcards++;
        i += 2;
      } else if (n === '[') {
        i += 1; // `$.['cluster.name']`: the bracket is read on the next turn
      } else if (n !== undefined && NAME_CHAR.test(n)) {
        let j = i + 1;
        while (j < src.length && NAME_CHAR.test(src[j]!)) j++;
        steps.push({ kind: 'key', key: src.slice(i + 1, j) });
        i = j;
      } else {
        fail();
      }
    } else if (c === '[') {
      const n = src[i + 1];
      if (n === '*' && src[i + 2] === ']') {
        steps.push({ kind: 'any' });
        wildcards++;
        i += 3;
      } else if (n !== undefined && /\d/.test(n)) {
        let j = i + 1;
        while (j < src.length && /\d/.test(src[j]!)) j++;
        if (src[j] !== ']') fail();
        steps.push({ kind: 'index', index: Number(src.slice(i + 1, j)) });
        i = j + 1;
      } else if (n === "'" || n === '"') {
        const close = src.indexOf(n, i + 2);
        if (close < 0 || src[close + 1] !== ']') fail();
        steps.push({ kind: 'key', key: src.slice(i + 2, close) });
        i = close + 2;
      } else {
        fail();
      }
    } else {
      break;
    }
  }
  if (steps.length === 0) fail();
  // What follows a selector must end it: a space, an operator or a closing parenthesis.
  const after = src[i];
  if (after !== undefined && !isSpace(after) && !'=!<>)&|'.includes(after)) fail();
  if (wildcards > 1) {
    throw new PatternSyntaxError(
      `the selector ${src.slice(start, i)} uses ${wildcards} wildcards; AWS allows one wildcard selector per property selector`,
      undefined,
      true,
    );
  }
  return { selector: { text: src.slice(start, i), steps, wildcards }, next: i };
}

/** Splits the inside of a JSON or space-delimited pattern into tokens. */
export function lex(src: string, mode: 'json' | 'delimited'): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (isSpace(c)) {
      i++;
      continue;
    }
    const pos = i;
    switch (c) {
      case '(':
      case ')':
        out.push({ t: c, pos });
        i++;
        continue;
      case ',':
        if (mode === 'json') throw new PatternSyntaxError(`a ',' at character ${i + 1} separates nothing in a JSON pattern; join conditions with && or ||`);
        out.push({ t: ',', pos });
        i++;
        continue;
      case '&':
      case '|':
        if (src[i + 1] !== c) throw invalidCharacters(termAt(src, i));
        out.push({ t: c === '&' ? '&&' : '||', pos });
        i += 2;
        continue;
      case '=':
        if (src[i + 1] === '=') throw new PatternSyntaxError(`'==' at character ${i + 1}: the equality operator is a single '='`);
        out.push({ t: 'op', op: '=', pos });
        i++;
        continue;
      case '!':
        if (src[i + 1] !== '=') throw invalidCharacters(termAt(src, i));
        out.push({ t: 'op', op: '!=', pos });
        i += 2;
        continue;
      case '<':
      case '>':
        if (src[i + 1] === '=') {
          out.push({ t: 'op', op: c === '<' ? '<=' : '>=', pos });
          i += 2;
        } else {
          out.push({ t: 'op', op: c, pos });
          i++;
        }
        continue;
      case '"': {
        const q = readQuoted(src, i);
        out.push({ t: 'string', value: q.value, pos });
        i = q.next;
        continue;
      }
      case '%': {
        const r = readRegex(src, i);
        out.push({ t: 'regex', source: r.source, re: r.re, pos });
        i = r.next;
        continue;
      }
      case '$': {
        if (mode !== 'json') throw invalidCharacters(termAt(src, i));
        const s = readSelector(src, i);
        out.push({ t: 'selector', selector: s.selector, pos });
        i = s.next;
        continue;
      }
      default: {
        let j = i;
        while (j < src.length && !WORD_END.has(src[j]!)) j++;
        const text = src.slice(i, j);
        if (!BARE.test(text)) throw invalidCharacters(text);
        out.push({ t: 'word', text, pos });
        i = j;
      }
    }
  }
  return out;
}

export type Condition<S> =
  | { kind: 'and' | 'or'; left: Condition<S>; right: Condition<S> }
  | { kind: 'cmp'; subject: S; op: CmpOp; literal: Literal }
  | { kind: 'is'; subject: S; value: null | true | false }
  | { kind: 'notExists'; subject: S };

function describe(tok: Token | undefined): string {
  if (!tok) return 'the end of the pattern';
  switch (tok.t) {
    case 'op':
      return `'${tok.op}'`;
    case 'string':
      return `"${tok.value}"`;
    case 'regex':
      return `%${tok.source}%`;
    case 'selector':
      return tok.selector.text;
    case 'word':
      return `'${tok.text}'`;
    default:
      return `'${tok.t}'`;
  }
}

/** Parses tokens [from, to) as one condition; `subject` reads what a comparison is about. */
export function parseCondition<S>(
  tokens: readonly Token[],
  from: number,
  to: number,
  mode: 'json' | 'delimited',
  subject: (tok: Token | undefined) => S,
): Condition<S> {
  let p = from;
  const peek = () => (p < to ? tokens[p] : undefined);
  const expected = (what: string): never => {
    throw new PatternSyntaxError(`expected ${what} but found ${describe(peek())}`);
  };

  const literal = (op: CmpOp): Literal => {
    const tok = peek();
    let lit: Literal;
    if (tok?.t === 'string') lit = { kind: 'string', text: tok.value, quoted: true };
    else if (tok?.t === 'regex') lit = { kind: 'regex', source: tok.source, re: tok.re };
    else if (tok?.t === 'word') {
      const n = parseNumber(tok.text);
      lit = n === undefined ? { kind: 'string', text: tok.text, quoted: false } : { kind: 'number', text: tok.text, value: n };
    } else return expected(`a value after '${op}'`);
    if (op !== '=' && op !== '!=' && lit.kind !== 'number') {
      throw new PatternSyntaxError(`'${op}' compares numbers, but ${describe(tok)} is not a number`);
    }
    p++;
    return lit;
  };

  const comparison = (): Condition<S> => {
    const subj = subject(peek());
    p++;
    const tok = peek();
    if (tok?.t === 'op') {
      p++;
      return { kind: 'cmp', subject: subj, op: tok.op, literal: literal(tok.op) };
    }
    if (mode === 'json' && tok?.t === 'word') {
      const kw = tok.text.toUpperCase();
      if (kw === 'IS') {
        p++;
        const v = peek();
        const what = v?.t === 'word' ? v.text.toUpperCase() : '';
        if (what === 'NOT') throw new PatternSyntaxError("'IS NOT' is not supported by CloudWatch Logs (use != or NOT EXISTS)");
        if (what !== 'NULL' && what !== 'TRUE' && what !== 'FALSE') return expected('NULL, TRUE or FALSE after IS');
        p++;
        return { kind: 'is', subject: subj, value: what === 'NULL' ? null : what === 'TRUE' };
      }
      if (kw === 'NOT') {
        p++;
        const v = peek();
        if (v?.t !== 'word' || v.text.toUpperCase() !== 'EXISTS') return expected('EXISTS after NOT');
        p++;
        return { kind: 'notExists', subject: subj };
      }
      if (kw === 'EXISTS') throw new PatternSyntaxError("'EXISTS' is not supported by CloudWatch Logs (use = * to require a value)");
    }
    return expected(mode === 'json' ? 'a comparison operator, IS or NOT EXISTS' : 'a comparison operator');
  };

  const primary = (): Condition<S> => {
    const tok = peek();
    if (tok?.t === '(') {
      p++;
      const inner = or();
      if (peek()?.t !== ')') expected("')'");
      p++;
      return inner;
    }
    return comparison();
  };
  const and = (): Condition<S> => {
    let left = primary();
    while (peek()?.t === '&&') {
      p++;
      left = { kind: 'and', left, right: primary() };
    }
    return left;
  };
  function or(): Condition<S> {
    let left = and();
    while (peek()?.t === '||') {
      p++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  }

  if (from >= to) expected('a condition');
  const cond = or();
  if (p < to) expected("'&&', '||' or the end of the condition");
  return cond;
}

/** Visits every comparison of a condition. */
export function forEachLeaf<S>(c: Condition<S>, fn: (leaf: Exclude<Condition<S>, { kind: 'and' | 'or' }>) => void): void {
  switch (c.kind) {
    case 'and':
    case 'or':
      forEachLeaf(c.left, fn);
      forEachLeaf(c.right, fn);
      return;
    default:
      fn(c);
  }
}
