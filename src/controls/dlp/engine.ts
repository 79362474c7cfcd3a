// The matching core: selected managed identifiers, keyword proximity, custom data identifiers, allow
// lists and overlap resolution, over one piece of text (a whole text file, or one value of structured
// data with its column name or JSON path as context).
//
// Keyword rules (Macie user guide, "Keyword requirements"): keywords are case-insensitive; a space in
// a keyword also matches no space, `_` or `-`; in unstructured text a keyword must end before the data
// and within the identifier's maximum match distance (30 characters for managed identifiers); in
// structured data (CSV/TSV/XLSX cells, JSON/JSON Lines fields) the keyword may instead be anywhere
// earlier in the same value or in the column name / field path.
// Custom data identifiers (Macie2 CreateCustomDataIdentifier): the regex runs with RE2 semantics (linear
// time); a keyword (case-insensitive, complete sequence) must precede the match and the distance from
// the keyword's end to the match's end is at most maximumMatchDistance (default 50); a match that
// contains an ignore word (case-sensitive) is dropped.

import { RE2JS } from 're2js';
import { compileLinearRegex } from '../patterns/regex.ts';
import { DETECTORS, MANAGED_IDENTIFIERS, QUICK, type Detector } from './identifiers.ts';
import type { AllowList, CustomDataIdentifier, ScanOptions, SensitiveDataCategory } from './types.ts';
import { work } from './work.ts';

export interface RawMatch {
  /** Managed id (or its no-keyword variant) or custom identifier id. */
  type: string;
  category?: SensitiveDataCategory;
  custom?: boolean;
  start: number;
  end: number;
  value: string;
}

interface CompiledCustom {
  ci: CustomDataIdentifier;
  re: RE2JS;
  keywords: string[];
  distance: number;
}

export interface Plan {
  detectors: { d: Detector; kw?: RegExp; distance: number }[];
  /** Managed ids reported (a detector may serve two ids of which one is selected). */
  enabled: Set<string>;
  custom: CompiledCustom[];
  allow: { re?: RE2JS; words?: Set<string> }[];
  maxOccurrences: number;
  includeValues: boolean;
}

export const DEFAULT_MANAGED_DISTANCE = 30;
export const DEFAULT_CUSTOM_DISTANCE = 50;

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One regex for a keyword list: case-insensitive, spaces match "", "_" or "-", whole words, plural s. */
export function keywordRegex(keywords: readonly string[]): RegExp {
  const alts = [...new Set(keywords.map((k) => k.toLowerCase()))]
    .sort((a, b) => b.length - a.length)
    .map((k) => escapeRe(k).replace(/ /g, '[ _-]?'));
  return new RegExp(`(?<![a-z0-9])(?:${alts.join('|')})s?(?![a-z])`, 'gi');
}

/** Column names and JSON paths: split camelCase and path punctuation so "customerSsn" holds "ssn". */
export function normalizeContext(ctx: string): string {
  return ctx.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[$.[\]'"]+/g, ' ');
}

/**
 * The managed identifier ids a selection enables, as a Macie job's managedDataIdentifierSelector
 * (API reference, CreateClassificationJob): RECOMMENDED (default) the recommended set; ALL every
 * identifier; INCLUDE only the listed ids; EXCLUDE all but the listed ids; NONE none. The two card
 * ids (CREDIT_CARD_NUMBER and CREDIT_CARD_NUMBER_(NO_KEYWORD)) are selected independently.
 */
export function enabledManagedIds(opts: ScanOptions): Set<string> {
  const sel = opts.managed?.selection ?? 'RECOMMENDED';
  const ids = new Set(opts.managed?.ids ?? []);
  const all = MANAGED_IDENTIFIERS;
  switch (sel) {
    case 'ALL': return new Set(all.map((m) => m.id));
    case 'NONE': return new Set();
    case 'RECOMMENDED': return new Set(all.filter((m) => m.recommended).map((m) => m.id));
    case 'INCLUDE': return new Set(all.filter((m) => ids.has(m.id)).map((m) => m.id));
    case 'EXCLUDE': return new Set(all.filter((m) => !ids.has(m.id)).map((m) => m.id));
  }
}

function selectDetectors(enabled: Set<string>): Detector[] {
  return DETECTORS.filter((d) => enabled.has(d.meta.id) || (d.noKeywordId !== undefined && enabled.has(d.noKeywordId)));
}

/** Compiles a custom identifier's regex (RE2: linear time; refuses backreferences and lookaround). */
export function compileCustom(ci: Pick<CustomDataIdentifier, 'regex'>): RE2JS {
  if (ci.regex.length > 512) throw new Error('custom data identifier regex is longer than 512 characters');
  compileLinearRegex(ci.regex); // validation with a clear message, program size budget
  return RE2JS.compile(ci.regex);
}

const planCache = new WeakMap<ScanOptions, Plan>();

export function makePlan(opts: ScanOptions = {}): Plan {
  const cached = planCache.get(opts);
  if (cached) return cached;
  const enabled = enabledManagedIds(opts);
  const plan: Plan = {
    enabled,
    detectors: selectDetectors(enabled).map((d) => ({
      d,
      ...(d.meta.keywords?.length ? { kw: keywordRegex(d.meta.keywords) } : {}),
      distance: d.meta.maximumMatchDistance ?? DEFAULT_MANAGED_DISTANCE,
    })),
    custom: (opts.custom ?? []).map((ci) => ({
      ci,
      re: compileCustom(ci),
      keywords: (ci.keywords ?? []).map((k) => k.toLowerCase()),
      distance: Math.min(300, Math.max(1, ci.maximumMatchDistance ?? DEFAULT_CUSTOM_DISTANCE)),
    })),
    allow: (opts.allowLists ?? []).map(compileAllowList),
    maxOccurrences: opts.maxOccurrences ?? 15,
    includeValues: !!opts.includeValues,
  };
  planCache.set(opts, plan);
  return plan;
}

function compileAllowList(a: AllowList): Plan['allow'][number] {
  return {
    ...(a.criteria.regex ? { re: compileCustom({ regex: a.criteria.regex }) } : {}),
    ...(a.criteria.words ? { words: new Set(a.criteria.words.map((w) => w.trim().toLowerCase()).filter(Boolean)) } : {}),
  };
}

function allowed(plan: Plan, value: string): boolean {
  for (const a of plan.allow) {
    if (a.words?.has(value.trim().toLowerCase())) return true;
    if (a.re && a.re.matcher(value).find()) return true;
  }
  return false;
}

/** Is there a keyword ending at most `distance` characters before `start` (and not after it)? */
function keywordBefore(kw: RegExp, text: string, start: number, distance: number): boolean {
  // a window, not the rest of the text: a global regex searches to the end when nothing is near
  const from = Math.max(0, start - distance - 41);
  const win = text.slice(from, start);
  kw.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = kw.exec(win)) !== null) {
    if (m.index === 0 && from > 0) continue; // its left boundary lies outside the window
    const end = from + m.index + m[0].length;
    if (start - end <= distance) return true;
  }
  return false;
}

function keywordAnywhereBefore(kw: RegExp, text: string, start: number): boolean {
  kw.lastIndex = 0;
  const m = kw.exec(text);
  return m !== null && m.index + m[0].length <= start;
}

export interface SegmentContext {
  /** Column name or JSON path of a structured value. */
  context?: string;
  /** The text is one structured value: a keyword anywhere before the match in it counts. */
  structured?: boolean;
}

const normalized = new Map<string, string>();
function contextHas(kw: RegExp, ctx: string | undefined): boolean {
  if (!ctx) return false;
  let n = normalized.get(ctx);
  if (n === undefined) {
    if (normalized.size > 10_000) normalized.clear();
    normalized.set(ctx, (n = normalizeContext(ctx)));
  }
  kw.lastIndex = 0;
  return kw.test(n);
}

/** Every occurrence of sensitive data in `text`, sorted by position. */
export function findInText(text: string, plan: Plan, seg: SegmentContext = {}): RawMatch[] {
  const managed: (RawMatch & { priority: number })[] = [];
  for (const { d, kw, distance } of plan.detectors) {
    const quick = QUICK[d.meta.id];
    if (quick && !quick.test(text)) continue;
    const cands = d.find(text);
    if (!cands.length) continue;
    const ctxKw = kw ? contextHas(kw, seg.context) : false;
    for (const c of cands) {
      const needs = c.needsKeyword ?? d.meta.keywordsRequired;
      let type = c.id ?? d.meta.id;
      if (needs || d.noKeywordId) {
        const ok = !!kw && (ctxKw || (seg.structured ? keywordAnywhereBefore(kw, text, c.start) : keywordBefore(kw, text, c.start, distance)));
        if (!ok) {
          if (!d.noKeywordId) continue;
          type = d.noKeywordId;
        }
      }
      if (!plan.enabled.has(type)) continue;
      const value = text.slice(c.start, c.end);
      if (plan.allow.length && allowed(plan, value)) continue;
      managed.push({ type, category: d.meta.category, start: c.start, end: c.end, value, priority: d.priority });
    }
  }
  // overlaps: the identifier with the lower priority number keeps the text (n log n: a text can hold
  // hundreds of thousands of candidates)
  managed.sort((a, b) => a.priority - b.priority || a.start - b.start);
  const kept: typeof managed = [];
  let starts: number[] = [];
  let maxEnds: number[] = [];
  const overlapsKept = (m: { start: number; end: number }) => {
    let lo = 0;
    let hi = starts.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! < m.end) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return at >= 0 && maxEnds[at]! > m.start;
  };
  for (let i = 0; i < managed.length; ) {
    const p = managed[i]!.priority;
    const lastEnd = new Map<string, number>();
    for (; i < managed.length && managed[i]!.priority === p; i++) {
      const m = managed[i]!;
      if (overlapsKept(m) || (lastEnd.get(m.type) ?? -1) > m.start) continue;
      lastEnd.set(m.type, m.end);
      kept.push(m);
    }
    const sorted = [...kept].sort((a, b) => a.start - b.start);
    starts = sorted.map((k) => k.start);
    let mx = -1;
    maxEnds = sorted.map((k) => (mx = Math.max(mx, k.end)));
  }
  const out: RawMatch[] = kept.map(({ priority: _p, ...m }) => m);
  for (const c of plan.custom) out.push(...customMatches(c, text, plan, seg));
  return out.sort((a, b) => a.start - b.start || a.end - b.end);
}

function customMatches(c: CompiledCustom, text: string, plan: Plan | undefined, seg: SegmentContext): RawMatch[] {
  const out: RawMatch[] = [];
  const m = c.re.matcher(text);
  const ctx = c.keywords.length && seg.context ? normalizeContext(seg.context).toLowerCase() : '';
  const ctxOk = c.keywords.some((k) => ctx.includes(k) || ctx.includes(k.replace(/ /g, '')));
  const maxKw = c.keywords.reduce((n, k) => Math.max(n, k.length), 0);
  // structured values: where each keyword's first complete occurrence ends (computed once, on demand)
  let firstEnds: number[] | undefined;
  while (m.find()) {
    const start = m.start();
    const end = m.end();
    if (end === start) continue;
    const value = text.slice(start, end);
    if (c.ci.ignoreWords?.some((w) => value.includes(w))) continue;
    if (c.keywords.length && !ctxOk) {
      let ok = false;
      if (seg.structured) {
        if (!firstEnds) {
          const lower = text.toLowerCase();
          work.customKeywordChars += text.length;
          firstEnds = c.keywords.map((k) => {
            const i = lower.indexOf(k);
            return i < 0 ? Infinity : i + k.length;
          });
        }
        ok = firstEnds.some((e) => e <= start);
      } else {
        // a complete keyword that ends at or before the match start and at most `distance` characters
        // before the match end: only that window is looked at (never the rest of the text)
        const from = Math.max(0, end - c.distance - maxKw);
        const win = from < start ? text.slice(from, start).toLowerCase() : '';
        work.customKeywordChars += win.length;
        for (const k of c.keywords) {
          if (win.indexOf(k, Math.max(0, end - c.distance - k.length - from)) >= 0) {
            ok = true;
            break;
          }
        }
      }
      if (!ok) continue;
    }
    if (plan?.allow.length && allowed(plan, value)) continue;
    out.push({ type: c.ci.id, custom: true, start, end, value });
  }
  return out;
}

/** Macie2 TestCustomDataIdentifier: how many times the identifier matches the sample text. */
export function countCustomMatches(ci: Omit<CustomDataIdentifier, 'id' | 'name'> & { id?: string; name?: string }, sample: string): number {
  const full: CustomDataIdentifier = { id: ci.id ?? 'test', name: ci.name ?? 'test', ...ci };
  const c: CompiledCustom = {
    ci: full,
    re: compileCustom(full),
    keywords: (full.keywords ?? []).map((k) => k.toLowerCase()),
    distance: Math.min(300, Math.max(1, full.maximumMatchDistance ?? DEFAULT_CUSTOM_DISTANCE)),
  };
  return customMatches(c, sample, undefined, {}).length;
}

/** Macie's severity for a custom identifier's finding: the highest level whose threshold is reached. */
export function customSeverity(ci: CustomDataIdentifier, count: number): 'LOW' | 'MEDIUM' | 'HIGH' | undefined {
  const levels = ci.severityLevels?.length ? ci.severityLevels : [{ occurrencesThreshold: 1, severity: 'MEDIUM' as const }];
  let best: 'LOW' | 'MEDIUM' | 'HIGH' | undefined;
  for (const l of [...levels].sort((a, b) => a.occurrencesThreshold - b.occurrencesThreshold)) {
    if (count >= l.occurrencesThreshold) best = l.severity;
  }
  return best;
}
