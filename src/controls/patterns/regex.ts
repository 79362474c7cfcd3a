// Regular expressions that students write, evaluated in linear time.
//
// A JavaScript RegExp backtracks: `(a+)+$` against 50,000 'a' and a '!' never returns, and the grader and
// the gateway evaluate students' expressions (Sigma `re` values, CloudWatch Logs `%regex%` filter patterns)
// in the process that serves the whole class. These are compiled with RE2 (the `re2js` port), whose
// matching time is linear in the input. RE2 has no backreferences, lookaround, atomic groups, possessive
// quantifiers or recursion (the constructs that need backtracking); an expression using one is refused
// when it is compiled, with the construct and its position named, instead of being accepted and hanging
// later. Linear is not cheap enough on its own: when RE2's DFA gives up (large counted repetitions such as
// `[a-z]{1000}` repeated), matching costs input length × program size, so the program size is budgeted too
// (MAX_PROGRAM_SIZE instructions; real detection patterns use well under a hundred). Other differences from a
// JavaScript RegExp: `\u` escapes are written `\x{hhhh}`; `.` and classes
// match a code point (a surrogate pair is one character); `\s` is [\t\n\f\r ] (ASCII, as in Perl/PCRE).
import { RE2JS } from 're2js';

/** A compiled expression; `test` searches (unanchored unless the expression anchors itself), like RegExp#test. */
export interface LinearRegex {
  readonly source: string;
  test(input: string): boolean;
}

export interface RegexFlags {
  /** `i`: case-insensitive. */
  readonly ignoreCase?: boolean;
  /** `m`: `^` and `$` also match at line breaks. */
  readonly multiline?: boolean;
  /** `s`: `.` also matches a newline. */
  readonly dotAll?: boolean;
}

/** An expression the linear-time engine cannot (or, being invalid, nobody can) evaluate. */
export class UnsupportedRegexError extends Error {
  override readonly name = 'UnsupportedRegexError';
  constructor(
    readonly source: string,
    /** What is wrong, without the expression itself. */
    readonly reason: string,
    /** 0-based position in `source` of the construct, when known. */
    readonly index?: number,
  ) {
    super(`${reason}${index === undefined ? '' : ` (at character ${index + 1})`}`);
  }
}

/**
 * The largest RE2 program accepted, in instructions (RE2JS#programSize). Matching costs at most about this many
 * steps per input character: with 500, a 20,000-character value takes well under a second even in the worst case.
 */
export const MAX_PROGRAM_SIZE = 500;

const LINEAR = 'seclab evaluates regular expressions in linear time (RE2 syntax), which has no';

/** Finds constructs that need a backtracking engine; returns the first, with a message that says what to do. */
function unsupported(src: string): { reason: string; index: number } | undefined {
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      const n = src[i + 1];
      if (n === undefined) return undefined; // RE2 reports the trailing backslash
      if (!inClass && n >= '1' && n <= '9') {
        return { reason: `backreferences such as \\${n} are not supported: ${LINEAR} backreferences (for a character code write \\x{hh})`, index: i };
      }
      if (!inClass && (n === 'k' || n === 'g') && /[<{'0-9-]/.test(src[i + 2] ?? '')) {
        return { reason: `backreferences such as \\${n}${src[i + 2]}...${src[i + 2] === '<' ? '>' : ''} are not supported: ${LINEAR} backreferences`, index: i };
      }
      if (n === 'u') return { reason: `the escape \\u is not supported: write a character code as \\x{hhhh}`, index: i };
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      else if (c === '[' && src[i + 1] === ':') {
        const end = src.indexOf(':]', i + 2);
        if (end > 0) i = end + 1; // [[:alpha:]]
      }
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (src[i + 1] === '^') i++;
      if (src[i + 1] === ']') i++; // a ']' first in a class is literal
      continue;
    }
    if (c === '(' && src[i + 1] === '?') {
      const rest = src.slice(i + 2, i + 5);
      if (rest.startsWith('=') || rest.startsWith('!')) {
        return { reason: `lookahead assertions ((?${rest[0]}...)) are not supported: ${LINEAR} lookaround; match the text itself, or use a second condition`, index: i };
      }
      if (rest.startsWith('<=') || rest.startsWith('<!')) {
        return { reason: `lookbehind assertions ((?${rest.slice(0, 2)}...)) are not supported: ${LINEAR} lookaround; match the text itself, or use a second condition`, index: i };
      }
      if (rest.startsWith('P=')) return { reason: `backreferences such as (?P=name) are not supported: ${LINEAR} backreferences`, index: i };
      if (rest.startsWith('>')) return { reason: `atomic groups ((?>...)) are not supported: ${LINEAR} atomic groups; write a plain group (?:...)`, index: i };
      if (rest.startsWith('(')) return { reason: `conditional groups ((?(...)...)) are not supported: ${LINEAR} conditionals`, index: i };
      if (/^(R|&|[+-]?\d)/.test(rest)) return { reason: `recursion and subroutine calls ((?${rest[0]}...)) are not supported: ${LINEAR} recursion`, index: i };
      continue;
    }
    if ((c === '*' || c === '+' || c === '?' || c === '}') && src[i + 1] === '+') {
      return { reason: `possessive quantifiers (${c}+) are not supported: ${LINEAR} possessive quantifiers; write the plain quantifier ${c}`, index: i + 1 };
    }
  }
  return undefined;
}

/** Where in `src` RE2's error message points (it quotes the offending text between backquotes). */
function locate(src: string, message: string): number | undefined {
  const m = /`([^`]*)`\s*$/.exec(message);
  if (!m || !m[1]) return undefined;
  const at = src.indexOf(m[1]);
  return at < 0 ? undefined : at;
}

/**
 * Compiles `source` for linear-time matching. Throws UnsupportedRegexError when the expression is invalid or
 * uses a construct that needs backtracking.
 */
export function compileLinearRegex(source: string, flags: RegexFlags = {}): LinearRegex {
  const bad = unsupported(source);
  if (bad) throw new UnsupportedRegexError(source, bad.reason, bad.index);
  let f = 0;
  if (flags.ignoreCase) f |= RE2JS.CASE_INSENSITIVE;
  if (flags.multiline) f |= RE2JS.MULTILINE;
  if (flags.dotAll) f |= RE2JS.DOTALL;
  let re: RE2JS;
  try {
    re = RE2JS.compile(source, f);
  } catch (e) {
    const message = (e as Error).message.replace(/^error parsing regexp:\s*/, '');
    throw new UnsupportedRegexError(source, `invalid regular expression: ${message}`, locate(source, message));
  }
  const size = re.programSize();
  if (size > MAX_PROGRAM_SIZE) {
    throw new UnsupportedRegexError(
      source,
      `the expression is too large to match safely: it compiles to ${size} instructions, at most ${MAX_PROGRAM_SIZE} are allowed (large counted repetitions such as {1000} cost the most: use smaller counts, or + and *)`,
    );
  }
  return { source, test: (input) => re.test(input) };
}
