// The HTTP side of a TLS site: the Strict-Transport-Security header of an HTTPS answer (RFC 6797) and
// what plain HTTP on port 80 (or another) does: redirect to https://, serve content, or nothing.
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';

export interface Hsts {
  present: boolean;
  raw?: string;
  maxAge?: number;
  includeSubDomains: boolean;
  preload: boolean;
  /** Header present but unusable (no or bad max-age, several headers). */
  error?: string;
}

export interface HttpsResult {
  /** HTTP status of GET / over TLS, or undefined when the request failed. */
  status?: number;
  error?: string;
  hsts: Hsts;
}

export interface RedirectResult {
  port: number;
  /** Whether anything answered plain HTTP on the port. */
  listening: boolean;
  status?: number;
  location?: string;
  /** A 301/302/303/307/308 to an https:// URL. */
  redirectsToHttps: boolean;
  /** Plain HTTP answered 2xx: content served without TLS. */
  servesPlainHttp: boolean;
  error?: string;
}

/** Parses a Strict-Transport-Security value (RFC 6797 §6.1): directives are case-insensitive, max-age is required. */
export function parseHsts(values: string | string[] | undefined): Hsts {
  if (values === undefined) return { present: false, includeSubDomains: false, preload: false };
  const list = Array.isArray(values) ? values : [values];
  const raw = list.join(', ');
  if (list.length > 1) return { present: true, raw, includeSubDomains: false, preload: false, error: 'several Strict-Transport-Security headers (RFC 6797 §8.1: only the first is processed)' };
  let maxAge: number | undefined;
  let includeSubDomains = false;
  let preload = false;
  let error: string | undefined;
  const seen = new Set<string>();
  for (const part of raw.split(';')) {
    const t = part.trim();
    if (!t) continue;
    const [k, ...rest] = t.split('=');
    const key = k!.trim().toLowerCase();
    let value = rest.join('=').trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (seen.has(key)) error = `directive ${key} repeated`;
    seen.add(key);
    if (key === 'max-age') {
      if (/^\d+$/.test(value)) maxAge = Number(value);
      else error = `max-age is not a number: "${value}"`;
    } else if (key === 'includesubdomains') includeSubDomains = true;
    else if (key === 'preload') preload = true;
  }
  if (maxAge === undefined && !error) error = 'no max-age directive';
  return { present: true, raw, ...(maxAge !== undefined ? { maxAge } : {}), includeSubDomains, preload, ...(error ? { error } : {}) };
}

function hostHeader(host: string, port: number, defaultPort: number): string {
  const h = isIP(host) === 6 ? `[${host}]` : host;
  return port === defaultPort ? h : `${h}:${port}`;
}

export function probeHttps(host: string, port: number, o: { serverName?: string; timeoutMs?: number; path?: string } = {}): Promise<HttpsResult> {
  const timeoutMs = o.timeoutMs ?? 5000;
  const name = o.serverName ?? host;
  return new Promise((resolve) => {
    const req = https.request({
      host, port, method: 'GET', path: o.path ?? '/',
      ...(isIP(name) ? {} : { servername: name }),
      headers: { host: hostHeader(name, port, 443), 'user-agent': 'seclab-tls-prober', connection: 'close' },
      rejectUnauthorized: false, minVersion: 'TLSv1', ciphers: 'ALL:@SECLEVEL=0', agent: false, timeout: timeoutMs,
    }, (res) => {
      res.resume();
      resolve({ status: res.statusCode, hsts: parseHsts(res.headers['strict-transport-security']) });
      res.destroy();
    });
    req.on('timeout', () => req.destroy(new Error(`no HTTP answer within ${timeoutMs} ms`)));
    req.on('error', (e) => resolve({ error: e.message, hsts: parseHsts(undefined) }));
    req.end();
  });
}

export function probeRedirect(host: string, port: number, o: { serverName?: string; timeoutMs?: number } = {}): Promise<RedirectResult> {
  const timeoutMs = o.timeoutMs ?? 5000;
  const name = o.serverName ?? host;
  return new Promise((resolve) => {
    const req = http.request({
      host, port, method: 'GET', path: '/',
      headers: { host: hostHeader(name, port, 80), 'user-agent': 'seclab-tls-prober', connection: 'close' },
      agent: false, timeout: timeoutMs,
    }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      const location = typeof res.headers.location === 'string' ? res.headers.location : undefined;
      const redirect = [301, 302, 303, 307, 308].includes(status);
      resolve({
        port, listening: true, status, ...(location ? { location } : {}),
        redirectsToHttps: redirect && !!location && /^https:\/\//i.test(location),
        servesPlainHttp: status >= 200 && status < 300,
      });
      res.destroy();
    });
    req.on('timeout', () => req.destroy(new Error(`no HTTP answer within ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({
      port, listening: e.code !== 'ECONNREFUSED' && e.code !== 'EHOSTUNREACH' && e.code !== 'ENETUNREACH', redirectsToHttps: false, servesPlainHttp: false, error: e.code ?? e.message,
    }));
    req.end();
  });
}
