// The regular-expression subset CloudWatch Logs accepts between `%...%` in filter patterns,
// translated to RE2 syntax and matched in linear time (controls/patterns/regex.ts): students' metric
// filters run in the gateway on every log event, and a backtracking RegExp would let one expression stall
// it. The subset has no groups, so nothing it accepts needs backtracking. Source: "Supported regular expressions (regex) syntax",
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#regex-expressions
//
// What AWS documents, and so what is accepted here:
// - alphanumeric characters and the symbols ':' '_' '#' '=' '@' '/' ';' ',' '-'; and the space,
//   which the list leaves out but the page's own example `%^starting|^initializing|^shutting down%` uses;
// - the operators '^' '$' '?' '[' ']' '{' '}' '|' '\' '*' '+' '.';
// - `{m,n}` with either bound omitted, character classes with ranges (and '^' negation, which the
//   page itself uses in `ab[^c]$` and to explain `\D`), `\d \D \s \S \w \W`, `\xhh`, and '\' to
//   take an operator literally.
// What is refused: '(' and ')' (even escaped: "You cannot use parentheses to define a subpattern";
// use \x28 and \x29), every other symbol, multi-byte characters, escapes the page does
// not list (\b, \n, \t, ...), a quantifier with nothing to repeat, empty alternatives or classes.
import { compileLinearRegex, type LinearRegex } from '../../../../controls/patterns/regex.ts';
import { invalidCharacters, PatternSyntaxError } from './errors.ts';

const SYMBOLS = new Set([':', '_', '#', '=', '@', '/', ';', ',', '-', ' ']);
const OPERATORS = new Set(['^', '$', '?', '[', ']', '{', '}', '|', '\\', '*', '+', '.']);
const CLASS_ESCAPES: Record<string, string> = {
  d: '\\d',
  D: '\\D',
  w: '\\w',
  W: '\\W',
  // AWS: "Whitespace characters include the tab (\t), space ( ), and newline (\n) characters."
  s: '[\\t\\n\\v\\f\\r ]',
  S: '[^\\t\\n\\v\\f\\r ]',
};
// Inside a class \S is every character but those six, written as ranges (a class cannot hold a negated class).
const CLASS_ESCAPES_INSIDE: Record<string, string> = { d: '\\d', D: '\\D', w: '\\w', W: '\\W', s: '\\t\\n\\v\\f\\r ', S: '\\x00-\\x08\\x0e-\\x1f!-\\x{10FFFF}' };

function isAlnum(c: string): boolean {
  const x = c.charCodeAt(0);
  return (x >= 48 && x <= 57) || (x >= 65 && x <= 90) || (x >= 97 && x <= 122);
}

function isHex(c: string | undefined): boolean {
  return c !== undefined && /^[0-9A-Fa-f]$/.test(c);
}

/** Escapes one literal character for an RE2 source (outside or inside a class). */
function lit(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}

function bad(source: string, why: string): PatternSyntaxError {
  return new PatternSyntaxError(`the regular expression %${source}% is not one CloudWatch Logs accepts: ${why}`);
}

/** Checks that a character may appear in an AWS filter-pattern regex at all. */
function checkChar(source: string, c: string): void {
  if (c.charCodeAt(0) > 127) throw invalidCharacters(`%${source}%`);
  if (!isAlnum(c) && !SYMBOLS.has(c) && !OPERATORS.has(c)) throw invalidCharacters(`%${source}%`);
}

/**
 * Translates the text between the two '%' of a filter-pattern regex into a linear-time expression that
 * searches (unanchored unless '^' / '$' are used), case-sensitively. Throws PatternSyntaxError when AWS
 * would refuse the expression, or when it is too large to match in bounded time (repetition counts above
 * 1000, or a program over controls/patterns' MAX_PROGRAM_SIZE instructions).
 */
export function compileAwsRegex(source: string): LinearRegex {
  if (source.length === 0) throw bad(source, 'it is empty');
  for (const c of source) checkChar(source, c);

  let out = '';
  let i = 0;
  /** Whether the last thing emitted can take a quantifier, and whether it already has one. */
  let canQuantify = false;
  let quantified = false;
  let altEmpty = true; // the current alternative has nothing yet

  const quantify = (q: string) => {
    if (!canQuantify) throw bad(source, `'${q}' has nothing before it to repeat`);
    if (quantified) {
      // `a*?`, `a+?`, `a{2}?`: in a search these accept exactly what the greedy form accepts.
      if (q === '?') {
        out += '?';
        canQuantify = false;
        return;
      }
      throw bad(source, `'${q}' follows another repetition operator`);
    }
    out += q;
    quantified = true;
  };

  while (i < source.length) {
    const c = source[i]!;
    switch (c) {
      case '\\': {
        const n = source[i + 1];
        if (n === undefined) throw bad(source, 'it ends with a lone backslash');
        if (n in CLASS_ESCAPES) {
          out += CLASS_ESCAPES[n];
          i += 2;
        } else if (n === 'x') {
          const h1 = source[i + 2];
          const h2 = source[i + 3];
          if (!isHex(h1) || !isHex(h2)) throw bad(source, '\\x must be followed by two hexadecimal digits');
          out += `\\x${h1}${h2}`;
          i += 4;
        } else if (OPERATORS.has(n) || SYMBOLS.has(n)) {
          out += lit(n);
          i += 2;
        } else {
          throw bad(source, `the escape \\${n} is not supported (supported: \\d \\D \\s \\S \\w \\W \\xhh and \\ before an operator)`);
        }
        canQuantify = true;
        quantified = false;
        altEmpty = false;
        break;
      }
      case '[': {
        const end = parseClass(source, i);
        out += end.js;
        i = end.next;
        canQuantify = true;
        quantified = false;
        altEmpty = false;
        break;
      }
      case ']':
        throw bad(source, "']' closes no character class (write \\] for the character)");
      case '}':
        throw bad(source, "'}' closes no repetition (write \\} for the character)");
      case '{': {
        const close = source.indexOf('}', i);
        if (close < 0) throw bad(source, "'{' is not closed by '}'");
        const body = source.slice(i + 1, close);
        const m = /^(\d*)(,?)(\d*)$/.exec(body);
        if (!m || (m[1] === '' && m[3] === '') || (m[2] === '' && m[3] !== '')) throw bad(source, `'{${body}}' is not a repetition {m,n}`);
        const lo = m[1] === '' ? 0 : Number(m[1]);
        const hi = m[3] === '' ? undefined : Number(m[3]);
        if (hi !== undefined && hi < lo) throw bad(source, `in '{${body}}' the maximum is below the minimum`);
        quantify(m[2] === '' ? `{${lo}}` : `{${lo},${hi ?? ''}}`);
        i = close + 1;
        break;
      }
      case '*':
      case '+':
      case '?':
        quantify(c);
        i++;
        break;
      case '|':
        if (altEmpty) throw bad(source, "an alternative on one side of '|' is empty");
        out += '|';
        altEmpty = true;
        canQuantify = false;
        quantified = false;
        i++;
        break;
      case '^':
      case '$':
        out += c;
        canQuantify = false;
        quantified = false;
        altEmpty = false;
        i++;
        break;
      case '.':
        out += '.';
        canQuantify = true;
        quantified = false;
        altEmpty = false;
        i++;
        break;
      default:
        out += lit(c);
        canQuantify = true;
        quantified = false;
        altEmpty = false;
        i++;
    }
  }
  if (altEmpty) throw bad(source, "an alternative on one side of '|' is empty");
  try {
    // dotAll: AWS's '.' "matches any single character", newlines included.
    return compileLinearRegex(out, { dotAll: true });
  } catch (e) {
    const reason = (e as Error).message.replace(/^invalid regular expression: /, '').replace(/ \(at character \d+\)$/, '');
    throw bad(source, /repeat count/.test(reason) ? `${reason} (at most 1000 repetitions)` : reason);
  }
}

/** Parses a character class starting at `start` ('['); returns its JS form and the index after ']'. */
function parseClass(source: string, start: number): { js: string; next: number } {
  let i = start + 1;
  let js = '[';
  if (source[i] === '^') {
    js += '^';
    i++;
  }
  let items = 0;
  while (i < source.length && source[i] !== ']') {
    const c = source[i]!;
    let piece: string;
    let single: string | undefined; // the literal character, when the item can start or end a range
    if (c === '\\') {
      const n = source[i + 1];
      if (n === undefined) throw bad(source, 'a character class ends with a lone backslash');
      if (n in CLASS_ESCAPES_INSIDE) {
        piece = CLASS_ESCAPES_INSIDE[n]!;
        i += 2;
      } else if (n === 'x') {
        if (!isHex(source[i + 2]) || !isHex(source[i + 3])) throw bad(source, '\\x must be followed by two hexadecimal digits');
        single = String.fromCharCode(parseInt(source.slice(i + 2, i + 4), 16));
        piece = `\\x${source.slice(i + 2, i + 4)}`;
        i += 4;
      } else if (OPERATORS.has(n) || SYMBOLS.has(n)) {
        single = n;
        piece = lit(n);
        i += 2;
      } else {
        throw bad(source, `the escape \\${n} is not supported inside a character class`);
      }
    } else {
      single = c;
      piece = lit(c);
      i++;
    }
    // A range a-z: '-' between two single characters, not last in the class.
    if (single !== undefined && source[i] === '-' && source[i + 1] !== undefined && source[i + 1] !== ']') {
      let hiChar: string;
      let hiPiece: string;
      const n = source[i + 1]!;
      if (n === '\\') {
        const e = source[i + 2];
        if (e === 'x' && isHex(source[i + 3]) && isHex(source[i + 4])) {
          hiChar = String.fromCharCode(parseInt(source.slice(i + 3, i + 5), 16));
          hiPiece = `\\x${source.slice(i + 3, i + 5)}`;
          i += 5;
        } else if (e !== undefined && (OPERATORS.has(e) || SYMBOLS.has(e))) {
          hiChar = e;
          hiPiece = lit(e);
          i += 3;
        } else {
          throw bad(source, 'a range in a character class must end with a single character');
        }
      } else {
        hiChar = n;
        hiPiece = lit(n);
        i += 2;
      }
      if (hiChar.charCodeAt(0) < single.charCodeAt(0)) throw bad(source, `the range ${single}-${hiChar} is out of order`);
      piece = `${piece}-${hiPiece}`;
    }
    js += piece;
    items++;
  }
  if (i >= source.length) throw bad(source, "'[' is not closed by ']'");
  if (items === 0) throw bad(source, 'a character class is empty');
  js += ']';
  return { js, next: i + 1 };
}
