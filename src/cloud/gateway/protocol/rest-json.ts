// REST-JSON request identification (Lambda, GuardDuty, Macie2): match method + path against the
// services' URI templates (generated from the API models into rest-json-routes.ts).

import { REST_JSON_ROUTES } from './rest-json-routes.ts';
import { isSigningParam } from './query.ts';

export interface RestRoute {
  m: string;
  /** URI template: `{Label}` matches one segment, `{Label+}` the rest of the path. */
  p: string;
  op: string;
  /** Literal query parameters in the template (`?find=LayerVersion`). */
  lq?: Record<string, string>;
  /** Query wire name -> member name, where they differ. */
  q?: Record<string, string>;
  /** Header wire name (lower case) -> member name. */
  h?: Record<string, string>;
  /** Path label -> member name, where they differ (S3 Control's `{name}` is `Name`). */
  l?: Record<string, string>;
  /** Member bound to the whole body. */
  payload?: string;
}

interface Compiled {
  route: RestRoute;
  segments: Array<{ literal: string } | { label: string; greedy: boolean }>;
  literals: number;
}

const compiled = new Map<string, Compiled[]>();

function compile(service: string, table: RestRoute[] = REST_JSON_ROUTES[service] ?? []): Compiled[] {
  let list = compiled.get(service);
  if (list) return list;
  list = table.map((route) => {
    const segments = route.p
      .split('/')
      .filter((s) => s !== '')
      .map((s) => {
        const m = /^\{([^}+]+)(\+?)\}$/.exec(s);
        return m ? { label: m[1]!, greedy: m[2] === '+' } : { literal: s };
      });
    return { route, segments, literals: segments.filter((s) => 'literal' in s).length };
  });
  compiled.set(service, list);
  return list;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function matchPath(c: Compiled, parts: string[]): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  let i = 0;
  for (const seg of c.segments) {
    if ('literal' in seg) {
      if (parts[i] !== seg.literal) return undefined;
      i++;
    } else if (seg.greedy) {
      if (i >= parts.length) return undefined;
      labels[seg.label] = parts.slice(i).map(decode).join('/');
      i = parts.length;
    } else {
      if (i >= parts.length || parts[i] === '') return undefined;
      labels[seg.label] = decode(parts[i]!);
      i++;
    }
  }
  return i === parts.length ? labels : undefined;
}

export interface RestMatch {
  operation: string;
  params: Record<string, unknown>;
  /**
   * A member given in more than one place (path label, query, header, JSON body). The target reads
   * query first, then body, then path, while the route binds each member to one place: refused.
   */
  conflict?: string;
}

/** Identify a REST-JSON call; undefined when no route of the service matches. */
export function matchRestJson(
  service: string,
  method: string,
  rawPath: string,
  query: URLSearchParams,
  headers: Record<string, string>,
  body: Buffer,
): RestMatch | undefined {
  return matchRoutes(service, undefined, method, rawPath, query, headers, body, parseJsonBody);
}

function parseJsonBody(body: Buffer): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // not JSON: ignore
  }
}

/**
 * Identify a call of a route table (REST-JSON, or REST-XML with `parseBody` reading the XML body's
 * root element); undefined when no route matches. `table`: the service's own table when not REST-JSON.
 */
export function matchRoutes(
  service: string,
  table: RestRoute[] | undefined,
  method: string,
  rawPath: string,
  query: URLSearchParams,
  headers: Record<string, string>,
  body: Buffer,
  parseBody: (body: Buffer) => Record<string, unknown> | undefined,
): RestMatch | undefined {
  const parts = rawPath.split('/').filter((s) => s !== '');
  const m = method.toUpperCase();
  let best: { c: Compiled; labels: Record<string, string>; score: number } | undefined;
  for (const c of compile(service, table)) {
    if (c.route.m !== m) continue;
    const labels = matchPath(c, parts);
    if (!labels) continue;
    let score = c.literals * 10;
    if (c.route.lq) {
      const ok = Object.entries(c.route.lq).every(([k, v]) => query.has(k) && (v === '' || query.get(k) === v));
      if (!ok) continue;
      score += 5;
    }
    if (!best || score > best.score) best = { c, labels, score };
  }
  if (!best) return undefined;
  const r = best.c.route;
  const params: Record<string, unknown> = {};
  const places = new Map<string, string>();
  let conflict: string | undefined;
  const place = (name: string, where: string) => {
    const before = places.get(name);
    if (before !== undefined && before !== where) conflict ??= `${name} is given both in the ${before} and in the ${where}`;
    places.set(name, where);
  };
  if (r.payload) {
    if (body.length > 0) params[r.payload] = parseBody === parseJsonBody ? body.toString('utf8') : (parseBody(body) ?? body.toString('utf8'));
  } else if (body.length > 0) {
    const parsed = parseBody(body);
    if (parsed) {
      Object.assign(params, parsed);
      for (const k of Object.keys(parsed)) place(k, 'body');
    }
  }
  for (const [k, v] of query) {
    if (isSigningParam(k) || r.lq?.[k] !== undefined) continue;
    params[r.q?.[k] ?? k] = v;
    place(k, 'query');
    place(r.q?.[k] ?? k, 'query');
  }
  for (const [h, member] of Object.entries(r.h ?? {})) {
    const v = headers[h];
    if (v !== undefined) params[member] = v;
  }
  const labels = Object.fromEntries(Object.entries(best.labels).map(([k, v]) => [r.l?.[k] ?? k, v]));
  Object.assign(params, labels);
  for (const k of Object.keys(labels)) place(k, 'path');
  return { operation: r.op, params, ...(conflict ? { conflict } : {}) };
}

/** Services with a REST-JSON route table. */
export function hasRestRoutes(service: string): boolean {
  return REST_JSON_ROUTES[service] !== undefined;
}
