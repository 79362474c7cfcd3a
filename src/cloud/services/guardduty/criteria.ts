// FindingCriteria (ListFindings, GetFindingsStatistics, filters) and SortCriteria over findings as
// GetFindings returns them. A criterion maps a dotted attribute path (type, severity,
// service.archived, resource.accessKeyDetails.userName, service.action.awsApiCallAction.
// remoteIpDetails.ipAddressV4...) to a Condition. Every operator of a condition must hold; a list
// condition holds when any value at the path meets it (paths through lists flatten them).
// Dates (createdAt, updatedAt, service.eventFirstSeen, service.eventLastSeen) compare as epoch
// milliseconds, as GuardDuty's criteria give them.
import type { JsonObject } from './findings.ts';
import { badRequest } from './validate.ts';

const LIST_OPS = ['eq', 'neq', 'equals', 'notEquals', 'matches', 'notMatches'] as const;
const NUMBER_OPS = ['gt', 'gte', 'lt', 'lte', 'greaterThan', 'greaterThanOrEqual', 'lessThan', 'lessThanOrEqual'] as const;
const OPERATORS: readonly string[] = [...LIST_OPS, ...NUMBER_OPS];
/** The attributes a criterion may name: the finding's own fields, and anything under resource or service. */
const ROOTS = new Set(['accountId', 'region', 'id', 'arn', 'type', 'severity', 'confidence', 'createdAt', 'updatedAt', 'partition', 'title', 'description', 'resource', 'service']);

export function valuesAt(obj: unknown, path: string): unknown[] {
  let cur: unknown[] = [obj];
  for (const part of path.split('.')) {
    const next: unknown[] = [];
    for (const v of cur) {
      for (const it of Array.isArray(v) ? v : [v]) {
        if (it && typeof it === 'object' && part in (it as JsonObject)) next.push((it as JsonObject)[part]);
      }
    }
    cur = next;
  }
  return cur.flatMap((v) => (Array.isArray(v) ? v : [v])).filter((v) => v !== undefined && v !== null);
}

function comparable(v: unknown): number | string {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v)) return Date.parse(v);
  return String(v);
}

/** Refuses criteria GuardDuty refuses: not an object, an unknown attribute root, an unknown operator, a bad value. */
export function checkCriteria(criteria: unknown, member = 'findingCriteria'): void {
  if (criteria === undefined || criteria === null) return;
  const criterion = (criteria as { criterion?: unknown }).criterion;
  if (typeof criteria !== 'object' || !criterion || typeof criterion !== 'object' || Array.isArray(criterion)) {
    throw badRequest(`${member}.criterion must be a map of attribute names to conditions.`);
  }
  for (const [field, cond] of Object.entries(criterion as JsonObject)) {
    const root = field.split('.')[0]!;
    if (!ROOTS.has(root) || field.endsWith('.') || field.includes('..')) {
      throw badRequest(`the filter criterion key ${field} is not valid (use a finding attribute such as type, severity, service.archived or resource.resourceType).`);
    }
    if (!cond || typeof cond !== 'object' || Array.isArray(cond)) throw badRequest(`the condition for ${field} must be an object such as {"eq": ["value"]}.`);
    const ops = Object.keys(cond as JsonObject);
    if (!ops.length) throw badRequest(`the condition for ${field} has no operator.`);
    for (const op of ops) {
      if (!OPERATORS.includes(op)) throw badRequest(`the operator ${op} for ${field} is not valid (use ${OPERATORS.join(', ')}).`);
      const v = (cond as JsonObject)[op];
      if ((LIST_OPS as readonly string[]).includes(op) && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) throw badRequest(`${field}.${op} must be a list of strings.`);
      if ((NUMBER_OPS as readonly string[]).includes(op) && (typeof v !== 'number' || !Number.isFinite(v))) throw badRequest(`${field}.${op} must be a number (dates in epoch milliseconds).`);
    }
  }
}

/**
 * A GuardDuty wildcard pattern (matches / notMatches): * any run of characters, ? one character.
 * Matched without regular expressions (greedy two-pointer, at most length x pattern steps): patterns
 * come from students' filters and must not backtrack without bound inside the gateway.
 */
export function wildcard(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

function equal(actual: number | string, wanted: string): boolean {
  if (typeof actual === 'number') {
    const n = /^\d{4}-\d{2}-\d{2}T/.test(wanted) ? Date.parse(wanted) : Number(wanted);
    return wanted.trim() !== '' && n === actual;
  }
  return actual === wanted;
}

/** Whether a finding meets FindingCriteria. */
export function matches(f: JsonObject, criteria: unknown): boolean {
  const criterion = (criteria as { criterion?: JsonObject } | undefined)?.criterion;
  if (!criterion) return true;
  for (const [field, raw] of Object.entries(criterion)) {
    const c = raw as Record<string, unknown>;
    const vals = valuesAt(f, field).map(comparable);
    const eq = [...((c['eq'] as string[]) ?? []), ...((c['equals'] as string[]) ?? [])];
    const neq = [...((c['neq'] as string[]) ?? []), ...((c['notEquals'] as string[]) ?? [])];
    if (eq.length && !vals.some((v) => eq.some((e) => equal(v, e)))) return false;
    if (neq.length && vals.some((v) => neq.some((e) => equal(v, e)))) return false;
    const m = (c['matches'] as string[] | undefined) ?? [];
    if (m.length && !vals.some((v) => m.some((p) => wildcard(p, String(v))))) return false;
    const nm = (c['notMatches'] as string[] | undefined) ?? [];
    if (nm.length && vals.some((v) => nm.some((p) => wildcard(p, String(v))))) return false;
    const nums = vals.filter((v): v is number => typeof v === 'number');
    const bound = (a: string, b: string) => (c[a] ?? c[b]) as number | undefined;
    const gt = bound('gt', 'greaterThan');
    const gte = bound('gte', 'greaterThanOrEqual');
    const lt = bound('lt', 'lessThan');
    const lte = bound('lte', 'lessThanOrEqual');
    if (gt !== undefined && !nums.some((n) => n > gt)) return false;
    if (gte !== undefined && !nums.some((n) => n >= gte)) return false;
    if (lt !== undefined && !nums.some((n) => n < lt)) return false;
    if (lte !== undefined && !nums.some((n) => n <= lte)) return false;
  }
  return true;
}

/** SortCriteria: attributeName (a dotted path) and orderBy ASC | DESC (default DESC); equal keys by id. */
export function sortFindings<T extends JsonObject & { id: string }>(list: T[], sort: unknown): T[] {
  const s = sort as { attributeName?: unknown; orderBy?: unknown } | undefined;
  if (s !== undefined && s !== null) {
    if (s.orderBy !== undefined && s.orderBy !== 'ASC' && s.orderBy !== 'DESC') throw badRequest(`sortCriteria.orderBy must be ASC or DESC, not ${JSON.stringify(s.orderBy)}.`);
    if (s.attributeName !== undefined && (typeof s.attributeName !== 'string' || !ROOTS.has(s.attributeName.split('.')[0]!))) {
      throw badRequest(`sortCriteria.attributeName ${JSON.stringify(s.attributeName)} is not a finding attribute.`);
    }
  }
  const attr = typeof s?.attributeName === 'string' ? s.attributeName : 'updatedAt';
  const dir = s?.orderBy === 'ASC' ? 1 : -1;
  const key = (f: T) => {
    const v = valuesAt(f, attr)[0];
    return v === undefined ? '' : comparable(v);
  };
  return [...list].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return (x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0) * dir;
  });
}
