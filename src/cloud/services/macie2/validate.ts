// Request checks of the Macie2 API in Macie's wording (ValidationException, 400), and pagination.
import { ApiError } from '../../gateway/api-error.ts';

export function validation(message: string): ApiError {
  return new ApiError(400, 'ValidationException', message);
}

export function notFound(what: string): ApiError {
  return new ApiError(404, 'ResourceNotFoundException', `${what} not found.`);
}

export function conflict(message: string): ApiError {
  return new ApiError(409, 'ConflictException', message);
}

export function str(p: Record<string, unknown>, name: string, opts: { required?: boolean; min?: number; max?: number } = {}): string | undefined {
  const v = p[name];
  if (v === undefined || v === null) {
    if (opts.required) throw validation(`${name} is required.`);
    return undefined;
  }
  if (typeof v !== 'string') throw validation(`${name} must be a string.`);
  if (opts.min !== undefined && v.length < opts.min) throw validation(`${name} must contain at least ${opts.min} characters.`);
  if (opts.max !== undefined && v.length > opts.max) throw validation(`${name} can contain at most ${opts.max} characters.`);
  return v;
}

export function int(p: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  let v = p[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') v = Number(v);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw validation(`${name} must be an integer from ${min} through ${max}.`);
  return v;
}

export function strings(p: Record<string, unknown>, name: string): string[] | undefined {
  const v = p[name];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw validation(`${name} must be an array of strings.`);
  return v as string[];
}

export function oneOf<T extends string>(p: Record<string, unknown>, name: string, allowed: readonly T[], required = false): T | undefined {
  const v = p[name];
  if (v === undefined || v === null) {
    if (required) throw validation(`${name} is required.`);
    return undefined;
  }
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw validation(`${name} must be one of: ${allowed.join(', ')}.`);
  return v as T;
}

/** A page of `all` from the token `nextToken` (an opaque offset), `max` items. */
export function page<T>(all: T[], p: Record<string, unknown>, defaultMax: number, limit: number): { items: T[]; nextToken?: string } {
  const max = int(p, 'maxResults', 1, limit) ?? defaultMax;
  const token = typeof p['nextToken'] === 'string' && p['nextToken'] ? p['nextToken'] : undefined;
  let start = 0;
  if (token) {
    start = Number.parseInt(Buffer.from(token, 'base64').toString('utf8'), 10);
    if (!Number.isInteger(start) || start < 0) throw validation('The nextToken is not valid.');
  }
  const items = all.slice(start, start + max);
  return start + max < all.length ? { items, nextToken: Buffer.from(String(start + max)).toString('base64') } : { items };
}

export const iso = (ms: number): string => new Date(ms).toISOString();
