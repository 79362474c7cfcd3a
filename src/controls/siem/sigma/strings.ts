// Sigma string values: wildcards `*` and `?`, backslash escaping, and their compilation into fast tests.
// Specification (rules, "String Wildcard" and "Escaping"):
//   `*` any sequence, `?` one character; `\*` and `\?` are literal; `\\` before a wildcard is a literal backslash;
//   a backslash not followed by a wildcard or a backslash is a plain backslash.
// Matching is case-insensitive unless the `cased` modifier is given.
import { compileGlob, type GlobPart } from '../../patterns/glob.ts';

export type Part =
  | { readonly k: 'lit'; readonly s: string }
  | { readonly k: 'star' }
  | { readonly k: 'one' }
  /** One character out of a set (used by `windash`). */
  | { readonly k: 'cls'; readonly chars: readonly string[] };

export type Parts = readonly Part[];

const STAR: Part = { k: 'star' };
const ONE: Part = { k: 'one' };

/** Parses a Sigma string value into literal runs and wildcards. */
export function parseSigmaString(value: string): Part[] {
  const parts: Part[] = [];
  let lit = '';
  const flush = () => {
    if (lit) parts.push({ k: 'lit', s: lit });
    lit = '';
  };
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\') {
      const next = value[i + 1];
      if (next === '*' || next === '?' || next === '\\') {
        lit += next;
        i++;
      } else {
        lit += '\\';
      }
    } else if (c === '*') {
      flush();
      parts.push(STAR);
    } else if (c === '?') {
      flush();
      parts.push(ONE);
    } else {
      lit += c;
    }
  }
  flush();
  return parts;
}

/** Literal parts only (no wildcard, no character class). */
export function literalOf(parts: Parts): string | undefined {
  let s = '';
  for (const p of parts) {
    if (p.k !== 'lit') return undefined;
    s += p.s;
  }
  return s;
}

export function hasWildcards(parts: Parts): boolean {
  return parts.some((p) => p.k !== 'lit');
}

export function wrap(parts: Parts, start: boolean, end: boolean): Part[] {
  const out = [...parts];
  if (start && out[0]?.k !== 'star') out.unshift(STAR);
  if (end && out[out.length - 1]?.k !== 'star') out.push(STAR);
  return out;
}

/** Replaces each `-` and `/` (and the dash look-alikes) with a class of all of them (the `windash` modifier). */
const DASHES = ['-', '/', '\u2013', '\u2014', '\u2015'];
export function windash(parts: Parts): Part[] {
  const out: Part[] = [];
  for (const p of parts) {
    if (p.k !== 'lit') {
      out.push(p);
      continue;
    }
    let lit = '';
    for (const c of p.s) {
      if (DASHES.includes(c)) {
        if (lit) out.push({ k: 'lit', s: lit });
        lit = '';
        out.push({ k: 'cls', chars: DASHES });
      } else lit += c;
    }
    if (lit) out.push({ k: 'lit', s: lit });
  }
  return out;
}

/** The glob parts of Sigma parts (the same pieces; `cls` holds single characters). */
function globParts(parts: Parts): GlobPart[] {
  return parts.map((p) => (p.k === 'cls' ? { k: 'cls', chars: p.chars } : p));
}

/**
 * Compiles parts into a predicate over a string; `cased` selects case-sensitive matching. No regular expression
 * is built: a student's `*a*a*a*a*b` against a long value would make a backtracking RegExp take polynomial
 * time, while the glob matcher (controls/patterns/glob.ts) needs at most value × pattern steps.
 */
export function compileParts(parts: Parts, cased: boolean): (s: string) => boolean {
  // Collapse runs of stars.
  const ps: Part[] = [];
  for (const p of parts) if (!(p.k === 'star' && ps[ps.length - 1]?.k === 'star')) ps.push(p);
  const norm = (s: string) => (cased ? s : s.toLowerCase());

  if (ps.length === 0) return (s) => s === '';
  if (ps.length === 1 && ps[0]!.k === 'star') return () => true;
  const lit = literalOf(ps);
  if (lit !== undefined) {
    const want = norm(lit);
    return cased ? (s) => s === want : (s) => s === want || s.toLowerCase() === want;
  }
  // star lit / lit star / star lit star: plain string operations.
  const inner = ps.filter((p) => p.k !== 'star');
  if (inner.length === 1 && inner[0]!.k === 'lit') {
    const want = norm(inner[0].s);
    const starStart = ps[0]!.k === 'star';
    const starEnd = ps[ps.length - 1]!.k === 'star';
    if (starStart && starEnd && ps.length === 3) return (s) => norm(s).includes(want);
    if (starStart && ps.length === 2) return (s) => norm(s).endsWith(want);
    if (starEnd && ps.length === 2) return (s) => norm(s).startsWith(want);
  }
  return compileGlob(globParts(ps), { ignoreCase: !cased });
}

/** Renders parts back into Sigma notation (for messages and debugging). */
export function renderParts(parts: Parts): string {
  return parts
    .map((p) =>
      p.k === 'lit' ? p.s.replace(/[*?\\]/g, '\\$&') : p.k === 'star' ? '*' : p.k === 'one' ? '?' : `[${p.chars.join('')}]`,
    )
    .join('');
}
