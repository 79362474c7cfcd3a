// Macie findings as the Macie2 API reference shapes them (Finding, ClassificationDetails,
// ClassificationResult, SensitiveDataItem, CustomDataIdentifiers, ResourcesAffected, Severity,
// PolicyDetails), the severity Macie assigns, and the findingCriteria / sortCriteria / groupBy
// evaluation of ListFindings, GetFindings and GetFindingStatistics.
import { ApiError } from '../../gateway/api-error.ts';
import type { CustomDataIdentifier, Detection, Severity } from '../../../controls/dlp/types.ts';

export type JsonObject = { [k: string]: unknown };

/** A finding as GetFindings returns it (plus the lab's marker `seclab:emulated`). */
export interface Finding extends JsonObject {
  id: string;
  accountId: string;
  archived: boolean;
  category: 'CLASSIFICATION' | 'POLICY';
  count: number;
  createdAt: string;
  updatedAt: string;
  description: string;
  partition: 'aws';
  region: string;
  resourcesAffected: JsonObject;
  sample: boolean;
  schemaVersion: '1.0';
  severity: { description: 'Low' | 'Medium' | 'High'; score: number };
  title: string;
  type: string;
}

const LEVELS = { LOW: { description: 'Low', score: 1 }, MEDIUM: { description: 'Medium', score: 2 }, HIGH: { description: 'High', score: 3 } } as const;
export const severityOf = (s: Severity): Finding['severity'] => ({ ...LEVELS[s] });
const RANK: Record<Severity, number> = { LOW: 1, MEDIUM: 2, HIGH: 3 };
export const maxSeverity = (a: Severity, b: Severity): Severity => (RANK[a] >= RANK[b] ? a : b);

/**
 * Severity of managed-identifier detections of one category, by the number of occurrences (Macie User
 * Guide, "Severity scoring for sensitive data findings"): credentials are High at any count; financial
 * information Medium for one occurrence, High from two; personal information (PII, PHI) Low for one,
 * Medium for 2-99, High from 100.
 */
export function managedSeverity(category: string, occurrences: number): Severity {
  if (category === 'CREDENTIALS') return 'HIGH';
  if (category === 'FINANCIAL_INFORMATION') return occurrences >= 2 ? 'HIGH' : 'MEDIUM';
  return occurrences >= 100 ? 'HIGH' : occurrences >= 2 ? 'MEDIUM' : 'LOW';
}

/**
 * Severity of a custom identifier's detection from its severityLevels (the highest threshold reached;
 * none given: MEDIUM from one occurrence); undefined when the count is under the lowest threshold, in
 * which case Macie creates no finding for it (CreateCustomDataIdentifier, severityLevels).
 */
export function customSeverity(ci: Pick<CustomDataIdentifier, 'severityLevels'> | undefined, count: number): Severity | undefined {
  const levels = ci?.severityLevels?.length ? [...ci.severityLevels] : [{ occurrencesThreshold: 1, severity: 'MEDIUM' as Severity }];
  levels.sort((a, b) => a.occurrencesThreshold - b.occurrencesThreshold);
  let out: Severity | undefined;
  for (const l of levels) if (count >= l.occurrencesThreshold) out = l.severity;
  return out;
}

const TYPE_OF: Record<string, string> = {
  FINANCIAL_INFORMATION: 'SensitiveData:S3Object/Financial',
  PERSONAL_INFORMATION: 'SensitiveData:S3Object/Personal',
  CREDENTIALS: 'SensitiveData:S3Object/Credentials',
  CUSTOM_IDENTIFIER: 'SensitiveData:S3Object/CustomIdentifier',
};

export interface ClassificationOutcome {
  type: string;
  severity: Severity;
  /** ClassificationResult.sensitiveData. */
  sensitiveData: JsonObject[];
  /** ClassificationResult.customDataIdentifiers. */
  customDataIdentifiers: { detections: JsonObject[]; totalCount: number };
  /** Occurrences reported in the finding (Finding.count is 1 for sensitive data findings). */
  total: number;
}

/**
 * What a scan's detections make of a finding: the type (one category's type, or Multiple when the
 * object holds more than one category of sensitive data, custom identifiers counting as one
 * category), the severity (the highest of the categories'), and the result members. Custom
 * detections below their lowest severity threshold are left out; undefined: no finding.
 */
export function classify(detections: Detection[], customs: Map<string, CustomDataIdentifier>): ClassificationOutcome | undefined {
  const byCategory = new Map<string, Detection[]>();
  const custom: Array<{ d: Detection; severity: Severity }> = [];
  for (const d of detections) {
    if (d.count <= 0) continue;
    if (d.custom) {
      const severity = customSeverity(customs.get(d.type), d.count);
      if (severity) custom.push({ d, severity });
    } else if (d.category) {
      byCategory.set(d.category, [...(byCategory.get(d.category) ?? []), d]);
    }
  }
  const categories = [...byCategory.keys()];
  if (custom.length) categories.push('CUSTOM_IDENTIFIER');
  if (!categories.length) return undefined;
  let severity: Severity = 'LOW';
  const sensitiveData: JsonObject[] = [];
  for (const [category, ds] of byCategory) {
    const totalCount = ds.reduce((n, d) => n + d.count, 0);
    // Each managed type is scored by its own occurrences; the category takes its highest.
    for (const d of ds) severity = maxSeverity(severity, managedSeverity(category, d.count));
    sensitiveData.push({ category, totalCount, detections: ds.map((d) => ({ type: d.type, count: d.count, occurrences: d.occurrences })) });
  }
  for (const c of custom) severity = maxSeverity(severity, c.severity);
  const customTotal = custom.reduce((n, c) => n + c.d.count, 0);
  return {
    type: categories.length > 1 ? 'SensitiveData:S3Object/Multiple' : TYPE_OF[categories[0]!]!,
    severity,
    sensitiveData,
    customDataIdentifiers: {
      detections: custom.map(({ d }) => ({ arn: d.arn, name: d.name, count: d.count, occurrences: d.occurrences })),
      totalCount: customTotal,
    },
    total: sensitiveData.reduce((n, s) => n + (s['totalCount'] as number), 0) + customTotal,
  };
}

// ---- findingCriteria, sortCriteria, groupBy ----

/** The values at a dotted path, arrays flattened (classificationDetails.result.sensitiveData.category). */
export function valuesAt(obj: unknown, path: string): unknown[] {
  let cur: unknown[] = [obj];
  for (const part of path.split('.')) {
    const next: unknown[] = [];
    for (const v of cur) {
      const items = Array.isArray(v) ? v : [v];
      for (const it of items) {
        if (it && typeof it === 'object' && part in (it as JsonObject)) next.push((it as JsonObject)[part]);
      }
    }
    cur = next;
  }
  return cur.flatMap((v) => (Array.isArray(v) ? v : [v])).filter((v) => v !== undefined && v !== null);
}

/** Dates are compared as epoch milliseconds (the criteria give them so). */
function comparable(v: unknown): number | string | boolean {
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v)) return Date.parse(v);
  return v as number | string | boolean;
}

const OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'eqExactMatch'];

export function checkCriteria(criteria: unknown): void {
  const criterion = (criteria as { criterion?: unknown } | undefined)?.criterion;
  if (criteria === undefined) return;
  if (!criterion || typeof criterion !== 'object') throw new ApiError(400, 'ValidationException', 'findingCriteria.criterion must be a map of field names to conditions.');
  for (const [field, cond] of Object.entries(criterion as JsonObject)) {
    if (!cond || typeof cond !== 'object') throw new ApiError(400, 'ValidationException', `The condition for ${field} must be an object.`);
    for (const op of Object.keys(cond as JsonObject)) {
      if (!OPERATORS.includes(op)) throw new ApiError(400, 'ValidationException', `Unsupported operator ${op} for ${field} (use ${OPERATORS.join(', ')}).`);
    }
  }
}

/** Whether a finding meets findingCriteria (every field's condition, every operator of it). */
export function matches(f: Finding, criteria: unknown): boolean {
  const criterion = (criteria as { criterion?: JsonObject } | undefined)?.criterion;
  if (!criterion) return true;
  for (const [field, raw] of Object.entries(criterion)) {
    const cond = raw as { eq?: unknown[]; neq?: unknown[]; eqExactMatch?: unknown[]; gt?: number; gte?: number; lt?: number; lte?: number };
    const vals = valuesAt(f, field).map(comparable);
    const asStrings = vals.map(String);
    const eq = [...(cond.eq ?? []), ...(cond.eqExactMatch ?? [])];
    if (eq.length && !eq.some((e) => asStrings.includes(String(e)))) return false;
    if (cond.neq?.length && cond.neq.some((e) => asStrings.includes(String(e)))) return false;
    const nums = vals.filter((v): v is number => typeof v === 'number');
    if (cond.gt !== undefined && !nums.some((n) => n > Number(cond.gt))) return false;
    if (cond.gte !== undefined && !nums.some((n) => n >= Number(cond.gte))) return false;
    if (cond.lt !== undefined && !nums.some((n) => n < Number(cond.lt))) return false;
    if (cond.lte !== undefined && !nums.some((n) => n <= Number(cond.lte))) return false;
  }
  return true;
}

export function sortFindings(list: Finding[], sort: unknown): Finding[] {
  const s = sort as { attributeName?: string; orderBy?: string } | undefined;
  const attr = s?.attributeName ?? 'updatedAt';
  const dir = s?.orderBy === 'ASC' ? 1 : s?.orderBy === 'DESC' || !s ? -1 : -1;
  const key = (f: Finding) => {
    const v = valuesAt(f, attr)[0];
    return v === undefined ? '' : comparable(v);
  };
  return [...list].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    // equal keys: by id (derived, so the order is the same for the same work)
    return (x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0) * dir;
  });
}

export const GROUP_BY = ['resourcesAffected.s3Bucket.name', 'type', 'classificationDetails.jobId', 'severity.description'];
