// Reading Sigma YAML: one file may hold several documents (`---`), e.g. a correlation and the rules it uses.
// YAML warnings are errors (an unknown tag would otherwise silently become a string), duplicate keys are errors,
// and every problem names the file, the field and the line.
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import { z } from 'zod';
import { SigmaRuleError, formatPath, type FieldPath } from './errors.ts';
import {
  CorrelationRuleSchema,
  DetectionRuleSchema,
  FilterRuleSchema,
  type CorrelationRuleDoc,
  type DetectionRuleDoc,
  type FilterRuleDoc,
} from './schema.ts';

interface DocBase {
  /** The file as given to the loader. */
  readonly file: string;
  /** `file`, or `file#n` (1-based) for the n-th document of a multi-document file. */
  readonly source: string;
  /** 1-based line of a path inside the document, when it can be found. */
  readonly lineOf: (path: FieldPath) => number | undefined;
  /** The document as plain data (verbatim, for display and attribution). */
  readonly raw: Record<string, unknown>;
}

export type SigmaDocument =
  | (DocBase & { readonly kind: 'detection'; readonly doc: DetectionRuleDoc })
  | (DocBase & { readonly kind: 'correlation'; readonly doc: CorrelationRuleDoc })
  | (DocBase & { readonly kind: 'filter'; readonly doc: FilterRuleDoc });

function zodPath(issue: z.core.$ZodIssue): FieldPath {
  return issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
}

function describeIssue(issue: z.core.$ZodIssue, raw: Record<string, unknown>): string {
  const path = zodPath(issue);
  // A missing mandatory attribute reads better as "missing" than as a type error about undefined.
  let cur: unknown = raw;
  for (const p of path) cur = cur !== null && typeof cur === 'object' ? (cur as Record<string | number, unknown>)[p] : undefined;
  if (cur === undefined && issue.code === 'invalid_type') return 'missing (mandatory)';
  if (issue.code === 'unrecognized_keys') return `unknown attribute(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return issue.message;
}

/**
 * Parses the YAML text of a rule file into Sigma documents. Throws SigmaRuleError on the first problem
 * (YAML syntax, warnings, or a document that is not a valid detection, correlation or filter rule).
 */
export function parseSigmaFile(text: string, file: string): SigmaDocument[] {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const docs: Document.Parsed[] = Array.isArray(parsed) ? parsed : [];
  for (const d of docs) {
    const problem = d.errors[0] ?? d.warnings[0];
    if (problem) {
      const line = problem.linePos?.[0]?.line ?? (problem.pos ? lineCounter.linePos(problem.pos[0]).line : undefined);
      throw new SigmaRuleError(file, '', `invalid YAML: ${problem.message.split('\n')[0]}`, line);
    }
  }
  const nonEmpty = docs.filter((d) => d.contents !== null);
  if (!nonEmpty.length) throw new SigmaRuleError(file, '', 'empty file: no Sigma document');
  const multi = nonEmpty.length > 1;
  return nonEmpty.map((d, i) => {
    const source = multi ? `${file}#${i + 1}` : file;
    const lineOf = (path: FieldPath): number | undefined => {
      for (let n = path.length; n >= 0; n--) {
        const node = d.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
        if (node && typeof node === 'object' && node.range) return lineCounter.linePos(node.range[0]).line;
      }
      return undefined;
    };
    const data = d.toJS({ maxAliasCount: 100 }) as unknown;
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new SigmaRuleError(source, '', 'a Sigma document must be a map of attributes', lineOf([]));
    }
    const raw = data as Record<string, unknown>;
    if (raw['action'] !== undefined) {
      throw new SigmaRuleError(source, 'action', 'Sigma 1.0 rule collections ("action: global/reset/repeat") are not supported', lineOf(['action']));
    }
    const base = { file, source, lineOf, raw };
    const check = <S extends z.ZodType>(schema: S): z.output<S> => {
      const r = schema.safeParse(raw);
      if (r.success) return r.data;
      const issue = r.error.issues[0]!;
      const path = zodPath(issue);
      throw new SigmaRuleError(source, formatPath(path), describeIssue(issue, raw), lineOf(path));
    };
    if (raw['correlation'] !== undefined) return { ...base, kind: 'correlation' as const, doc: check(CorrelationRuleSchema) };
    if (raw['filter'] !== undefined) return { ...base, kind: 'filter' as const, doc: check(FilterRuleSchema) };
    if (raw['detection'] !== undefined) return { ...base, kind: 'detection' as const, doc: check(DetectionRuleSchema) };
    // A rule with a log source but no detection: name the missing section.
    if (raw['logsource'] !== undefined) throw new SigmaRuleError(source, 'detection', 'missing (mandatory)', lineOf([]));
    throw new SigmaRuleError(source, '', 'not a Sigma rule: expected a "detection", "correlation" or "filter" section', lineOf([]));
  });
}
