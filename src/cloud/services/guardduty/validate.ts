// Request checks of the GuardDuty API in GuardDuty's wording (BadRequestException, 400, "The request
// is rejected because ..."), and pagination. GET list calls bind maxResults/nextToken from the query
// (member names MaxResults/NextToken), POST calls from the JSON body (maxResults/nextToken).
import { ApiError } from '../../gateway/api-error.ts';

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequestException', message.startsWith('The request is rejected') ? message : `The request is rejected because ${message}`);
}

export function str(p: Record<string, unknown>, name: string, opts: { required?: boolean; min?: number; max?: number; pattern?: RegExp } = {}): string | undefined {
  const v = p[name];
  if (v === undefined || v === null) {
    if (opts.required) throw badRequest(`the ${name} is missing (it is required).`);
    return undefined;
  }
  if (typeof v !== 'string') throw badRequest(`${name} must be a string.`);
  if (opts.min !== undefined && v.length < opts.min) throw badRequest(`${name} must contain at least ${opts.min} characters.`);
  if (opts.max !== undefined && v.length > opts.max) throw badRequest(`${name} can contain at most ${opts.max} characters.`);
  if (opts.pattern && !opts.pattern.test(v)) throw badRequest(`${name} "${v}" is not valid (expected ${opts.pattern.source}).`);
  return v;
}

export function bool(p: Record<string, unknown>, name: string, required = false): boolean | undefined {
  const v = p[name];
  if (v === undefined || v === null) {
    if (required) throw badRequest(`the ${name} is missing (it is required).`);
    return undefined;
  }
  if (typeof v !== 'boolean') throw badRequest(`${name} must be true or false.`);
  return v;
}

export function oneOf<T extends string>(p: Record<string, unknown>, name: string, allowed: readonly T[], required = false): T | undefined {
  const v = p[name];
  if (v === undefined || v === null) {
    if (required) throw badRequest(`the ${name} is missing (it is required; one of ${allowed.join(', ')}).`);
    return undefined;
  }
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw badRequest(`the ${name} value ${JSON.stringify(v)} is not valid: use one of ${allowed.join(', ')}.`);
  return v as T;
}

export function ids(p: Record<string, unknown>, name: string, max: number): string[] {
  const v = p[name];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw badRequest(`${name} must be a list of finding ids (it is required).`);
  if (v.length < 1 || v.length > max) throw badRequest(`${name} must contain 1-${max} ids (it contains ${v.length}).`);
  return v as string[];
}

export function tagsOf(raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw badRequest('tags must be a map of tag keys to values.');
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > 50) throw badRequest('a resource can have at most 50 tags.');
  for (const [k, v] of entries) {
    if (k.length < 1 || k.length > 128 || k.startsWith('aws:')) throw badRequest(`the tag key ${JSON.stringify(k)} is not valid (1-128 characters, not starting with aws:).`);
    if (typeof v !== 'string' || v.length > 256) throw badRequest(`the value of tag ${k} must be a string of at most 256 characters.`);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/** A page of `all`: maxResults 1-`limit` (default `limit`), nextToken an opaque offset. */
export function page<T>(all: T[], p: Record<string, unknown>, limit = 50): { items: T[]; nextToken?: string } {
  let raw = p['maxResults'] ?? p['MaxResults'];
  if (typeof raw === 'string' && raw !== '') raw = Number(raw);
  let max = limit;
  if (raw !== undefined && raw !== null && raw !== '') {
    if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1 || raw > limit) throw badRequest(`maxResults must be an integer from 1 through ${limit}.`);
    max = raw;
  }
  const token = p['nextToken'] ?? p['NextToken'];
  let start = 0;
  if (typeof token === 'string' && token) {
    start = Number.parseInt(Buffer.from(token, 'base64').toString('utf8'), 10);
    if (!Number.isInteger(start) || start < 0) throw badRequest('the nextToken is not valid (pass the nextToken of the previous response).');
  }
  const items = all.slice(start, start + max);
  return start + max < all.length ? { items, nextToken: Buffer.from(String(start + max)).toString('base64') } : { items };
}

export const iso = (ms: number): string => new Date(ms).toISOString();
/** Timestamps GuardDuty's model types as timestamps (REST-JSON: epoch seconds). */
export const epoch = (ms: number): number => ms / 1000;
