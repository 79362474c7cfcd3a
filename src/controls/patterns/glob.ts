// Wildcard ("glob") matching without regular expressions, in time bounded by value length × pattern length.
//
// Patterns that students write (IAM Resource/Action/StringLike, Sigma `*`/`?` values, rule-name patterns) are
// evaluated inside the grader and the gateway, which serve a whole class. Compiled into a backtracking
// RegExp, `*a*a*a*a*a*b` against a long run of `a` takes time polynomial in the value with the number of
// stars as the exponent; these matchers never backtrack:
// - when every wildcard may match any character, the pattern is cut at its stars into fixed-length
//   segments; the first is anchored at the start, the last at the end, and each one between is placed at
//   its leftmost occurrence after the previous one (leftmost placement is always safe: a star can absorb
//   whatever an earlier placement leaves). O(value × pattern) in the worst case, O(value) typically.
// - when some wildcard may not match certain characters (IAM's `[^:]*` inside an ARN segment), leftmost
//   placement is no longer safe, and the pattern runs as a position-set automaton (Thompson simulation):
//   one pass over the value, the set of pattern positions reachable so far updated per character.

/** One piece of a wildcard pattern. `except`: characters the wildcard may not match (e.g. ':'). */
export type GlobPart =
  | { readonly k: 'lit'; readonly s: string }
  | { readonly k: 'star'; readonly except?: string }
  | { readonly k: 'one'; readonly except?: string }
  /** One character out of a set. */
  | { readonly k: 'cls'; readonly chars: readonly string[] };

export interface GlobOptions {
  /** Compare letters case-insensitively (each UTF-16 unit lower-cased on its own, so lengths never change). */
  readonly ignoreCase?: boolean;
}

/** Lower-cases a string unit by unit: `toLowerCase` can lengthen a string ('İ'), which would shift `?`. */
export function foldCase(s: string): string {
  const l = s.toLowerCase();
  if (l.length === s.length) return l;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const lc = c.toLowerCase();
    out += lc.length === 1 ? lc : c;
  }
  return out;
}

/** Splits a pattern in which only `*` is special (no escapes) into parts. */
export function starParts(pattern: string): GlobPart[] {
  const parts: GlobPart[] = [];
  pattern.split('*').forEach((s, i) => {
    if (i > 0) parts.push({ k: 'star' });
    if (s) parts.push({ k: 'lit', s });
  });
  return parts;
}

type Item = { readonly k: 'lit'; readonly s: string } | { readonly k: 'one'; readonly except?: string } | { readonly k: 'cls'; readonly chars: string };

/** Normalizes parts: folds case, merges adjacent literals, collapses runs of stars (an unrestricted star absorbs restricted ones). */
function normalize(parts: readonly GlobPart[], ignoreCase: boolean): GlobPart[] {
  const out: GlobPart[] = [];
  for (const p0 of parts) {
    let p: GlobPart = p0;
    if (ignoreCase && p.k === 'lit') p = { k: 'lit', s: foldCase(p.s) };
    if (ignoreCase && p.k === 'cls') p = { k: 'cls', chars: p.chars.map(foldCase) };
    if (p.k === 'lit' && p.s === '') continue;
    const last = out[out.length - 1];
    if (p.k === 'lit' && last?.k === 'lit') {
      out[out.length - 1] = { k: 'lit', s: last.s + p.s };
    } else if (p.k === 'star' && last?.k === 'star') {
      if (!last.except) continue;
      if (!p.except) out[out.length - 1] = p;
      else if (p.except !== last.except) out.push(p); // differently restricted: keep both
    } else {
      out.push(p);
    }
  }
  return out;
}

/** Compiles a wildcard pattern into a predicate over whole values. */
export function compileGlob(parts: readonly GlobPart[], options: GlobOptions = {}): (value: string) => boolean {
  const ignoreCase = options.ignoreCase ?? false;
  const ps = normalize(parts, ignoreCase);
  const fold = ignoreCase ? foldCase : (s: string) => s;
  if (ps.length === 0) return (v) => v === '';
  if (ps.length === 1 && ps[0]!.k === 'lit') {
    const want = ps[0].s;
    return (v) => fold(v) === want;
  }
  if (ps.length === 1 && ps[0]!.k === 'star' && !ps[0].except) return () => true;
  const restricted = ps.some((p) => (p.k === 'star' || p.k === 'one') && p.except);
  const m = restricted ? automaton(ps) : segments(ps);
  return (v) => m(fold(v));
}

// ---- unrestricted wildcards: segments placed leftmost ----

interface Segment {
  readonly items: readonly Item[];
  readonly length: number;
  /** The literal the segment starts with, for indexOf; '' when it starts with a wildcard. */
  readonly head: string;
  /** The whole segment when it is one literal (the common case), else undefined. */
  readonly literal: string | undefined;
}

function segment(items: Item[]): Segment {
  let length = 0;
  for (const it of items) length += it.k === 'lit' ? it.s.length : 1;
  const first = items[0];
  const literal = items.length === 0 ? '' : items.length === 1 && first!.k === 'lit' ? first.s : undefined;
  return { items, length, head: first?.k === 'lit' ? first.s : '', literal };
}

function toItem(p: GlobPart): Item {
  if (p.k === 'cls') return { k: 'cls', chars: p.chars.join('') };
  if (p.k === 'one') return p.except ? { k: 'one', except: p.except } : { k: 'one' };
  if (p.k === 'lit') return p;
  throw new Error('a star is not an item');
}

/** Whether `seg` matches `v` at position `at` (the caller checks that it fits). */
function matchAt(seg: Segment, v: string, at: number): boolean {
  if (seg.literal !== undefined) return v.startsWith(seg.literal, at);
  let i = at;
  const items = seg.items;
  for (let k = 0; k < items.length; k++) {
    const it = items[k]!;
    if (it.k === 'lit') {
      if (!v.startsWith(it.s, i)) return false;
      i += it.s.length;
    } else if (it.k === 'one') {
      if (it.except && it.except.includes(v[i]!)) return false;
      i++;
    } else {
      if (!it.chars.includes(v[i]!)) return false;
      i++;
    }
  }
  return true;
}

/** The leftmost position in [from, last] where `seg` matches, or -1. */
function find(seg: Segment, v: string, from: number, last: number): number {
  let at = from;
  while (at <= last) {
    if (seg.head) {
      at = v.indexOf(seg.head, at);
      if (at < 0 || at > last) return -1;
    }
    if (matchAt(seg, v, at)) return at;
    at++;
  }
  return -1;
}

function segments(ps: readonly GlobPart[]): (v: string) => boolean {
  const segs: Segment[] = [];
  let cur: Item[] = [];
  for (const p of ps) {
    if (p.k === 'star') {
      segs.push(segment(cur));
      cur = [];
    } else cur.push(toItem(p));
  }
  segs.push(segment(cur));
  if (segs.length === 1) {
    const only = segs[0]!;
    return (v) => v.length === only.length && matchAt(only, v, 0);
  }
  const first = segs[0]!;
  const lastSeg = segs[segs.length - 1]!;
  const middle = segs.slice(1, -1).filter((s) => s.length > 0);
  const fixed = first.length + lastSeg.length;
  return (v) => {
    if (v.length < fixed) return false;
    if (!matchAt(first, v, 0)) return false;
    const end = v.length - lastSeg.length;
    if (!matchAt(lastSeg, v, end)) return false;
    let at = first.length;
    for (const seg of middle) {
      const found = find(seg, v, at, end - seg.length);
      if (found < 0) return false;
      at = found + seg.length;
    }
    return true;
  };
}

// ---- restricted wildcards: a position-set automaton ----

const CHAR = 0;
const ONE = 1;
const CLS = 2;
const STAR = 3;

function automaton(ps: readonly GlobPart[]): (v: string) => boolean {
  // One state per character position of the pattern, in parallel arrays; position m accepts.
  // CHAR: code = the character. ONE/STAR: code = the one excluded character (-1: none or several, see set).
  // CLS, and ONE/STAR excluding several characters: set = the characters.
  const kind: number[] = [];
  const code: number[] = [];
  const set: string[] = [];
  for (const p of ps) {
    if (p.k === 'lit') {
      for (let i = 0; i < p.s.length; i++) {
        kind.push(CHAR);
        code.push(p.s.charCodeAt(i));
        set.push('');
      }
    } else if (p.k === 'cls') {
      kind.push(CLS);
      code.push(-1);
      set.push(p.chars.join(''));
    } else {
      const except = p.except ?? '';
      kind.push(p.k === 'one' ? ONE : STAR);
      code.push(except.length === 1 ? except.charCodeAt(0) : -1);
      set.push(except.length === 1 ? '' : except);
    }
  }
  const m = kind.length;
  const first = ps[0]!;
  const last = ps[ps.length - 1]!;
  const prefix = first.k === 'lit' ? first.s : '';
  const suffix = last.k === 'lit' && ps.length > 1 ? last.s : '';
  // Sparse sets of active positions, deduplicated with a generation stamp; reused across calls (matching is
  // synchronous and never re-entered).
  let cur = new Int32Array(m + 1);
  let next = new Int32Array(m + 1);
  const stamp = new Uint32Array(m + 1);
  let gen = 0;
  let nextN = 0;
  const add = (i: number) => {
    // a star may also match nothing: reaching it reaches what follows it
    for (;;) {
      if (stamp[i] === gen) return;
      stamp[i] = gen;
      next[nextN++] = i;
      if (i === m || kind[i] !== STAR) return;
      i++;
    }
  };
  /** Whether a ONE or STAR state may consume character c. */
  const allowed = (i: number, c: number, v: string, j: number) => c !== code[i] && (set[i] === '' || !set[i]!.includes(v[j]!));
  return (v) => {
    if (!v.startsWith(prefix) || !v.endsWith(suffix)) return false; // necessary conditions, cheap
    if (gen > 0xfffffff0) {
      stamp.fill(0);
      gen = 0;
    }
    gen++;
    nextN = 0;
    add(0);
    let swap = cur;
    cur = next;
    next = swap;
    let curN = nextN;
    for (let j = 0; j < v.length; j++) {
      const c = v.charCodeAt(j);
      gen++;
      nextN = 0;
      for (let k = 0; k < curN; k++) {
        const i = cur[k]!;
        if (i === m) continue;
        const kd = kind[i];
        if (kd === CHAR) {
          if (code[i] === c) add(i + 1);
        } else if (kd === STAR) {
          if (allowed(i, c, v, j)) add(i);
        } else if (kd === ONE) {
          if (allowed(i, c, v, j)) add(i + 1);
        } else if (set[i]!.includes(v[j]!)) add(i + 1);
      }
      if (nextN === 0) return false;
      swap = cur;
      cur = next;
      next = swap;
      curN = nextN;
    }
    for (let k = 0; k < curN; k++) if (cur[k] === m) return true;
    return false;
  };
}
