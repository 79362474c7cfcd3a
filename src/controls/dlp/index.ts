// DLP engine with Amazon Macie's managed data identifier semantics (docs/dlp.md): managed and custom
// data identifiers, allow lists, and Macie-shaped occurrences for text, CSV/TSV, JSON/JSON Lines,
// Parquet, XLSX, DOCX, and gzip/ZIP/TAR archives. Used by `seclab dlp scan` and the lab cloud's Macie2 service.

import { countCustomMatches, findInText, makePlan, type Plan, type RawMatch } from './engine.ts';
import { LineIndex, scanFile, type FileResult, type Located } from './formats.ts';
import type { CustomDataIdentifier, Detection, ObjectFileResult, ObjectScanResult, Occurrences, ScanOptions } from './types.ts';

export type * from './types.ts';
export { MANAGED_IDENTIFIERS } from './identifiers.ts';
export { customSeverity, keywordRegex, type RawMatch } from './engine.ts';
export { UnsupportedRegexError } from '../patterns/regex.ts';
export { cardBrand, ibanChecksum, isCardNumber, isIban, isItin, isSsn, luhn } from './checks.ts';
export { LIMITS, MIME } from './formats.ts';

/** Groups located matches into Macie detections: count of all, locations of the first maxOccurrences. */
function aggregate(found: readonly Located[], plan: Plan, customs: readonly CustomDataIdentifier[]): Detection[] {
  const by = new Map<string, Located[]>();
  for (const f of found) {
    const k = `${f.m.custom ? 'c' : 'm'}:${f.m.type}`;
    let list = by.get(k);
    if (!list) by.set(k, (list = []));
    list.push(f);
  }
  const out: Detection[] = [];
  for (const list of by.values()) {
    const first = list[0]!.m;
    const occ: Occurrences = {};
    const shown = list.slice(0, plan.maxOccurrences);
    for (const { loc } of shown) {
      for (const [k, v] of Object.entries(loc) as [keyof Occurrences, never][]) ((occ[k] ??= []) as unknown[]).push(v);
    }
    const d: Detection = { type: first.type, count: list.length, occurrences: occ };
    if (first.custom) {
      const ci = customs.find((c) => c.id === first.type);
      d.custom = true;
      if (ci) {
        d.name = ci.name;
        if (ci.arn) d.arn = ci.arn;
      }
    } else if (first.category) d.category = first.category;
    if (plan.includeValues) d.values = shown.map((s) => s.m.value);
    out.push(d);
  }
  return out.sort((a, b) => (a.custom ? 1 : 0) - (b.custom ? 1 : 0) || b.count - a.count || a.type.localeCompare(b.type));
}

/** Sensitive data in a text, with lineRanges occurrences (lines and columns from 1). */
export function scanText(text: string, opts: ScanOptions = {}): Detection[] {
  const plan = makePlan(opts);
  const matches = findInText(text, plan);
  if (!matches.length) return [];
  const idx = new LineIndex(text);
  return aggregate(matches.map((m) => ({ m, loc: { lineRanges: idx.range(m.start, m.end) } })), plan, opts.custom ?? []);
}

/** Every match in a text with its character offsets (for benchmarks, redaction and RevealSensitiveData). */
export function findSensitiveData(text: string, opts: ScanOptions = {}): RawMatch[] {
  return findInText(text, makePlan(opts));
}

/** An S3 object's bytes (any supported file type, archives included), as a Macie classification job sees it. */
export async function scanObject(name: string, bytes: Uint8Array, opts: ScanOptions = {}): Promise<ObjectScanResult> {
  const plan = makePlan(opts);
  const r = await scanFile(name, bytes, plan);
  const customs = opts.custom ?? [];
  // names inside nested archives carry the archive's path: "a/b.zip/deep/cards.csv"
  const flat = (f: FileResult, prefix: string): ObjectFileResult[] =>
    f.files
      ? f.files.flatMap((x) => flat(x, f === r ? '' : f.fileType === 'application/gzip' ? prefix : `${prefix}${f.name}/`))
      : [{ name: prefix + f.name, fileType: f.fileType, status: f.status, ...(f.reason ? { skipped: f.reason } : {}), detections: aggregate(f.found, plan, customs) }];
  const sizeClassified = (f: FileResult): number => (f.files ? f.files.reduce((n, x) => n + sizeClassified(x), 0) : f.status === 'SKIPPED' ? 0 : f.size);
  return {
    fileType: r.fileType,
    detections: aggregate(r.found, plan, customs),
    status: r.status,
    ...(r.reason ? { skipped: r.reason } : {}),
    sizeClassified: sizeClassified(r),
    ...(r.files ? { files: flat(r, '') } : {}),
  };
}

/** Macie2 TestCustomDataIdentifier: the number of matches in the sample text. */
export function testCustomDataIdentifier(ci: Omit<CustomDataIdentifier, 'id' | 'name'> & { id?: string; name?: string }, sampleText: string): number {
  return countCustomMatches(ci, sampleText);
}

/** Something sensitive was found. */
export const hasFindings = (d: readonly Detection[]) => d.some((x) => x.count > 0);
