// Shared by lab host's attacks on the web server: where a directive of the instance's nginx config
// was written, plain HTTP(S) requests against the nginx run on loopback, and the result when there is
// nothing to attack.
import http from 'node:http';
import https from 'node:https';
import type { NginxServer } from '../../src/host/web/nginx.ts';
import type { LabSession } from '../../src/engine/session.ts';
import type { AttackStep, ScenarioResult } from '../../src/engine/types.ts';

/** The instance's file:line of each `name` directive of the nginx config nginx runs (empty: not set). */
export function directiveOrigins(server: NginxServer, name: string): { where: string; text: string }[] {
  const lines = server.config.text.split('\n');
  const out: { where: string; text: string }[] = [];
  const re = new RegExp(`^\\s*${name}\\s`);
  lines.forEach((l, i) => {
    if (re.test(l)) out.push({ where: server.config.origin[i] ?? 'the generated config', text: l.trim() });
  });
  return out;
}

/** "ssl_protocols TLSv1 TLSv1.2 (/etc/nginx/nginx.conf:36)" for a feedback line, or `unset`. */
export function describeDirective(server: NginxServer, name: string, unset: string): string {
  const found = directiveOrigins(server, name);
  return found.length ? found.map((d) => `${d.text} (${d.where})`).join('; ') : unset;
}

export interface HttpAnswer {
  status?: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Connection refused, TLS failure, timeout. */
  error?: string;
}

/**
 * One request to 127.0.0.1:port with the site's Host header (and, for HTTPS, its SNI name and the
 * company CA), as a browser on the café wifi would send it. Never follows redirects.
 */
export function request(o: {
  tls: boolean; port: number; hostName: string; method?: string; path?: string; body?: string;
  ca?: string | Buffer; headers?: Record<string, string>; timeoutMs?: number;
}): Promise<HttpAnswer> {
  const timeoutMs = o.timeoutMs ?? 5000;
  return new Promise((resolve) => {
    const headers: Record<string, string> = { host: o.hostName, 'user-agent': 'Mozilla/5.0 (victim on cafe wifi)', connection: 'close', ...o.headers };
    if (o.body !== undefined) {
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
      headers['content-length'] = String(Buffer.byteLength(o.body));
    }
    const base = { host: '127.0.0.1', port: o.port, method: o.method ?? 'GET', path: o.path ?? '/', headers, agent: false as const, timeout: timeoutMs };
    const onRes = (res: http.IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { if (body.length < 65536) body += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      res.on('error', (e) => resolve({ status: res.statusCode, headers: res.headers, body, error: e.message }));
    };
    const req = o.tls
      ? https.request({ ...base, servername: o.hostName, ...(o.ca ? { ca: o.ca } : {}), rejectUnauthorized: !!o.ca }, onRes)
      : http.request(base, onRes);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ headers: {}, body: '', error: e.code ?? e.message }));
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

/** What a scenario returns when there is nothing to attack (no instance, nginx does not run...). */
export function nothingToAttack(what: string, why: string, steps: AttackStep[] = []): ScenarioResult {
  return {
    detected: false,
    blocked: false,
    steps,
    evidence: [why],
    feedback: `not blocked: ${what} could not be judged: ${why}`,
  };
}

/** A step of an attack the grader plays itself (not a call through the gateway). */
export function step(s: LabSession | { now(): number }, description: string, allowed: boolean, errorCode?: string): AttackStep {
  const st: AttackStep = { description, allowed, ...(errorCode && !allowed ? { errorCode } : {}), at: s.now() };
  (s as LabSession).onAttackStep?.(st);
  return st;
}
