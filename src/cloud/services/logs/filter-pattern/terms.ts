// Term patterns for unstructured events: `ERROR`, `ERROR ARGUMENTS`, `"INTERNAL SERVER ERROR"`,
// `?ERROR ?ARGUMENTS`, `ERROR -ARGUMENTS`, `%AUTHORIZED%`, `" "`.
// Source: "Using filter patterns to match terms in unstructured log events",
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-terms-unstructured-log-events
//
// - Terms are case-sensitive and all must appear (a term is found inside a longer word: ERROR
//   matches "ERRORCODE", earlier edition of the page); quoted phrases are one term.
// - `-term` excludes events holding the term.
// - `?term`s match events holding any of them, but "if you combine '?' with other filter patterns,
//   all question mark terms will be ignored": `?ERROR ?ARGUMENTS REQUEST` is `REQUEST`.
// - `" "` matches everything (so does `""`): a quoted phrase of nothing but spaces holds in every event.
// - `%regex%` terms search the event (see regex.ts).
// - Terms holding characters other than letters, digits and _ should be quoted; the characters
//   that cannot be written unquoted at all ( ( ) { } [ ] \ % and anything outside printable ASCII,
//   such as the curly quotes of a word processor) are refused with AWS's "Invalid character(s) in term".
import { invalidCharacters, PatternSyntaxError } from './errors.ts';
import { readQuoted, readRegex } from './syntax.ts';

type Term = (message: string) => boolean;

export interface CompiledTerms {
  readonly regexCount: number;
  test(message: string): boolean;
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

const FORBIDDEN_BARE = /[(){}[\]\\%"]|[^\x21-\x7e]/;

export function compileTerms(pattern: string): CompiledTerms {
  const include: Term[] = [];
  const exclude: Term[] = [];
  const optional: Term[] = [];
  let regexCount = 0;
  let i = 0;
  while (i < pattern.length) {
    if (isSpace(pattern[i])) {
      i++;
      continue;
    }
    let mode: 'include' | 'exclude' | 'optional' = 'include';
    const c = pattern[i];
    if (c === '-' || c === '?') {
      mode = c === '-' ? 'exclude' : 'optional';
      i++;
      // A lone '-' or '?' applies to the next term ("ERROR" - "Exiting" in the earlier edition).
      while (isSpace(pattern[i])) i++;
      if (i >= pattern.length) throw new PatternSyntaxError(`'${c}' at the end of the pattern applies to no term`);
    }
    let term: Term;
    const d = pattern[i];
    if (d === '"') {
      const q = readQuoted(pattern, i);
      i = q.next;
      const text = q.value;
      term = text.trim() === '' ? () => true : (m) => m.includes(text);
    } else if (d === '%') {
      const r = readRegex(pattern, i);
      i = r.next;
      const re = r.re;
      term = (m) => re.test(m);
      regexCount++;
    } else {
      let j = i;
      while (j < pattern.length && !isSpace(pattern[j])) j++;
      const text = pattern.slice(i, j);
      if (FORBIDDEN_BARE.test(text)) throw invalidCharacters(text);
      i = j;
      term = (m) => m.includes(text);
    }
    if (i < pattern.length && !isSpace(pattern[i])) {
      throw new PatternSyntaxError(`the term ending at character ${i} is followed by '${pattern[i]}' without a space`);
    }
    (mode === 'include' ? include : mode === 'exclude' ? exclude : optional).push(term);
  }

  let test: (m: string) => boolean;
  if (include.length === 0 && exclude.length === 0) {
    test = optional.length === 0 ? () => true : (m) => optional.some((t) => t(m));
  } else if (include.length === 1 && exclude.length === 0) {
    test = include[0]!;
  } else {
    test = (m) => {
      for (const t of include) if (!t(m)) return false;
      for (const t of exclude) if (t(m)) return false;
      return true;
    };
  }
  return { regexCount, test };
}
