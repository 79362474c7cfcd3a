// A customer on café wifi types http://www.fabrikam-travel.example/login; the attacker on the same
// wifi reads and rewrites plain HTTP (sslstrip). Played with real HTTP requests against the instance's
// nginx run on loopback:
//  (a) a first-time visitor: the plain-HTTP GET of /login on port 80, and a POST of credentials there.
//      Only a redirect to https:// on the same host keeps them off HTTP (the attacker can still strip
//      that first redirect, which is what HSTS preload is for; the grader counts the redirect);
//  (b) a returning visitor who already saw the HTTPS site: only HSTS (Strict-Transport-Security on the
//      HTTPS answer, max-age of a year recommended, at least 6 months) makes the browser go to https://
//      by itself; without it, sslstrip keeps them on HTTP.
// Blocked when every step was refused.
import { readFileSync } from 'node:fs';
import type { AttackStep, Scenario, ScenarioResult } from '../src/engine/types.ts';
import type { LabSession } from '../src/engine/session.ts';
import { parseHsts } from '../src/controls/tls/http.ts';
import type { NginxServer } from '../src/host/web/nginx.ts';
import { hostEnv } from '../labs/host/company.ts';
import { caBundle, withWebServer } from '../labs/host/server.ts';
import { directiveOrigins, nothingToAttack, request, step, type HttpAnswer } from './lib/host-web.ts';

/** One year: the max-age HSTS preload lists and the CIS/Mozilla guidance ask for. */
export const HSTS_RECOMMENDED = 31536000;
/** Six months: the least that carries a returning visitor across ordinary gaps between visits. */
export const HSTS_MINIMUM = 15768000;

export interface InterceptionAttempt {
  id: 'first-visit-get' | 'first-visit-post' | 'returning-visitor';
  description: string;
  /** The attacker got what it wanted (the page or the credentials over HTTP, or a visitor kept on HTTP). */
  allowed: boolean;
  detail: string;
  /** Short refusal code for the step. */
  code?: string;
}

export interface InterceptionOutcome {
  attempts: InterceptionAttempt[];
  notes: string[];
}

const VICTIM_FORM = 'username=camille.martin%40example.com&password=Summer2026%21';

function sameHostHttps(location: string | undefined, hostName: string): boolean {
  if (!location) return false;
  try {
    const u = new URL(location);
    return u.protocol === 'https:' && u.hostname.toLowerCase() === hostName.toLowerCase() && (u.port === '' || u.port === '443');
  } catch {
    return false;
  }
}

function plainAnswer(a: HttpAnswer): string {
  const form = /<form|type=["']?password/i.test(a.body) ? ' with a login form' : '';
  return `${a.status}${form}${a.body ? `, ${a.body.length} bytes` : ''}`;
}

/**
 * The three steps against the web server's ports on 127.0.0.1 (httpPort: where its port 80 is served,
 * undefined when it has none; httpsPort likewise for 443).
 */
export async function interceptLogin(o: { httpPort?: number; httpsPort?: number; hostName: string; ca?: string | Buffer; timeoutMs?: number }): Promise<InterceptionOutcome> {
  const attempts: InterceptionAttempt[] = [];
  const notes: string[] = [];
  const base = { hostName: o.hostName, ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) };

  // (a) first visit, plain HTTP.
  const getDesc = `first-time visitor: GET http://${o.hostName}/login over the café wifi`;
  const postDesc = `first-time visitor: POST of the login form (username, password) to http://${o.hostName}/login`;
  if (o.httpPort === undefined) {
    attempts.push({ id: 'first-visit-get', description: getDesc, allowed: false, code: 'NoPlainHttp', detail: 'nothing listens on port 80: no page over HTTP for the attacker to read' });
    attempts.push({ id: 'first-visit-post', description: postDesc, allowed: false, code: 'NoPlainHttp', detail: 'nothing listens on port 80' });
    notes.push('nothing answers on port 80: visitors typing http:// get an error; a port 80 server doing only `return 301 https://$host$request_uri;` brings them to HTTPS');
  } else {
    const get = await request({ ...base, tls: false, port: o.httpPort, path: '/login' });
    const loc = typeof get.headers.location === 'string' ? get.headers.location : undefined;
    if (get.error) {
      attempts.push({ id: 'first-visit-get', description: getDesc, allowed: false, code: 'NoPlainHttp', detail: `port 80 did not answer HTTP (${get.error})` });
    } else if (get.status && get.status >= 300 && get.status < 400 && sameHostHttps(loc, o.hostName)) {
      attempts.push({ id: 'first-visit-get', description: getDesc, allowed: false, code: `Redirect${get.status}`, detail: `port 80 answered ${get.status} → ${loc}` });
      if (get.status !== 301 && get.status !== 308) notes.push(`port 80 redirects with ${get.status}: use a permanent 301 (browsers and caches remember it)`);
    } else if (get.status && get.status >= 300 && get.status < 400) {
      attempts.push({ id: 'first-visit-get', description: getDesc, allowed: true, detail: `port 80 redirects to ${loc ?? '(no Location)'}, not to https://${o.hostName}/: the visitor stays on plain HTTP` });
    } else {
      attempts.push({ id: 'first-visit-get', description: getDesc, allowed: true, detail: `port 80 answered over plain HTTP (${plainAnswer(get)}) instead of redirecting: the attacker reads and rewrites the page` });
    }
    const post = await request({ ...base, tls: false, port: o.httpPort, method: 'POST', path: '/login', body: VICTIM_FORM });
    const ploc = typeof post.headers.location === 'string' ? post.headers.location : undefined;
    if (post.error) attempts.push({ id: 'first-visit-post', description: postDesc, allowed: false, code: 'NoPlainHttp', detail: `port 80 did not answer (${post.error})` });
    else if (post.status && post.status >= 200 && post.status < 300) attempts.push({ id: 'first-visit-post', description: postDesc, allowed: true, detail: `the server accepted the credentials over plain HTTP (${post.status})` });
    else if (post.status && post.status >= 300 && post.status < 400 && sameHostHttps(ploc, o.hostName)) attempts.push({ id: 'first-visit-post', description: postDesc, allowed: false, code: `Redirect${post.status}`, detail: `refused over HTTP: ${post.status} → ${ploc}` });
    else if (post.status && post.status >= 300 && post.status < 400) attempts.push({ id: 'first-visit-post', description: postDesc, allowed: true, detail: `redirected to ${ploc ?? '(no Location)'}, not to HTTPS` });
    else attempts.push({ id: 'first-visit-post', description: postDesc, allowed: false, code: `Http${post.status}`, detail: `not accepted over HTTP (${post.status})` });
  }

  // (b) returning visitor: only HSTS from an earlier HTTPS visit protects them.
  const retDesc = `returning visitor: the attacker strips https:// (sslstrip); only HSTS from the visitor's earlier visit to https://${o.hostName}/ sends the browser to HTTPS by itself`;
  if (o.httpsPort === undefined) {
    attempts.push({ id: 'returning-visitor', description: retDesc, allowed: true, detail: 'no HTTPS on port 443 (nothing listens there, or not with `listen 443 ssl`): there is no HTTPS site to have sent HSTS' });
  } else {
    const r = await request({ ...base, tls: true, port: o.httpsPort, path: '/', ...(o.ca ? { ca: o.ca } : {}) });
    if (r.error) {
      attempts.push({ id: 'returning-visitor', description: retDesc, allowed: true, detail: `the HTTPS site did not answer a browser trusting the company CA (${r.error}): no HSTS ever reached it` });
    } else {
      const h = parseHsts(r.headers['strict-transport-security']);
      if (!h.present) attempts.push({ id: 'returning-visitor', description: retDesc, allowed: true, detail: `https://${o.hostName}/ (${r.status}) sends no Strict-Transport-Security header: the browser keeps following http:// links` });
      else if (h.error || h.maxAge === undefined) attempts.push({ id: 'returning-visitor', description: retDesc, allowed: true, detail: `Strict-Transport-Security "${h.raw}" is unusable: ${h.error ?? 'no max-age'}` });
      else if (h.maxAge < HSTS_MINIMUM) attempts.push({ id: 'returning-visitor', description: retDesc, allowed: true, detail: `Strict-Transport-Security max-age=${h.maxAge} is under 6 months (${HSTS_MINIMUM}): the browser forgets it between visits` });
      else {
        attempts.push({ id: 'returning-visitor', description: retDesc, allowed: false, code: 'HSTS', detail: `Strict-Transport-Security "${h.raw}" on the HTTPS answer` });
        if (h.maxAge < HSTS_RECOMMENDED) notes.push(`HSTS max-age=${h.maxAge} is at least 6 months; a year (${HSTS_RECOMMENDED}) is recommended`);
        notes.push(h.includeSubDomains ? 'HSTS includeSubDomains: the subdomains are covered too (and the site may be preloaded with `preload`)' : 'HSTS without includeSubDomains: a subdomain (login.…) can still be stripped; add includeSubDomains');
      }
    }
  }
  return { attempts, notes };
}

const FIX_REDIRECT = 'a port 80 server that only does `return 301 https://$host$request_uri;`';
const FIX_HSTS = `\`add_header Strict-Transport-Security "max-age=${HSTS_RECOMMENDED}; includeSubDomains" always;\` in the 443 server`;

export function judgeInterception(steps: AttackStep[], out: InterceptionOutcome, where: { http: string; hsts: string }): ScenarioResult {
  const allowed = out.attempts.filter((a) => a.allowed);
  const blocked = out.attempts.length > 0 && allowed.length === 0;
  const evidence = [...out.attempts.map((a) => `${a.id}: ${a.allowed ? 'ATTACKER WINS' : 'refused'}: ${a.detail}`), ...out.notes];
  if (blocked) return { detected: false, blocked, steps, evidence, feedback: `blocked: plain HTTP only redirects to HTTPS and HSTS keeps returning visitors on HTTPS${out.notes.length ? ` (${out.notes.join('; ')})` : ''}` };
  const fixes: string[] = [];
  const first = allowed.filter((a) => a.id !== 'returning-visitor');
  if (first.length) fixes.push(`${first.map((a) => a.detail).join('; ')} — use ${FIX_REDIRECT} (now: ${where.http})`);
  if (allowed.some((a) => a.id === 'returning-visitor')) fixes.push(`${allowed.find((a) => a.id === 'returning-visitor')!.detail} — add ${FIX_HSTS} (now: ${where.hsts})`);
  return { detected: false, blocked, steps, evidence, feedback: `not blocked: the attacker on the café wifi read the login over plain HTTP: ${fixes.join('; ')}` };
}

function where(server: NginxServer): { http: string; hsts: string } {
  const p80 = server.hostPort(80);
  const listen80 = p80 === undefined ? [] : directiveOrigins(server, 'listen').filter((d) => d.text.includes(`:${p80}`) || d.text.includes(` ${p80}`));
  const hsts = directiveOrigins(server, 'add_header').filter((d) => /strict-transport-security/i.test(d.text));
  return {
    http: p80 === undefined ? 'no server listens on port 80' : `the port 80 server at ${listen80.map((d) => d.where).join(', ') || 'the nginx config'}`,
    hsts: hsts.length ? hsts.map((d) => `${d.text} (${d.where})`).join('; ') : 'no add_header Strict-Transport-Security',
  };
}

interface State { outcome?: InterceptionOutcome; where?: { http: string; hsts: string }; error?: string }

export const httpLoginInterceptionScenario: Scenario = {
  id: 'http-login-interception',
  title: 'A login typed as http:// on café wifi',
  description: 'A customer types http://www.fabrikam-travel.example/login on café wifi; an attacker on the same network reads plain HTTP and strips the redirects to HTTPS (sslstrip). First-time visitors are protected by a redirect from port 80 to HTTPS, returning ones by HSTS.',
  techniques: ['T1557', 'T1557.002', 'T1040'],
  detections: ['TLS scanner: no redirect from HTTP to HTTPS, no Strict-Transport-Security header', 'nginx access log: POST /login on port 80'],
  points: { blocked: 10 },
  tasks: { blocked: 'tls' },
  async prepare(): Promise<State> {
    return {};
  },
  async inject(s: LabSession, state): Promise<AttackStep[]> {
    const st = state as State;
    const hostName = hostEnv(s.env).site.hostName;
    let ca: Buffer;
    try {
      ca = readFileSync(await caBundle(s));
    } catch (e) {
      st.error = `the company CA bundle could not be read: ${(e as Error).message}`;
      return [];
    }
    const r = await withWebServer(s, async (server) => {
      const httpsPort = server.ports.find((p) => p.port === 443 && p.ssl) ? server.hostPort(443) : undefined;
      const outcome = await interceptLogin({ hostName, ca, ...(server.hostPort(80) !== undefined ? { httpPort: server.hostPort(80)! } : {}), ...(httpsPort !== undefined ? { httpsPort } : {}) });
      return { outcome, where: where(server) };
    });
    if ('error' in r) {
      st.error = r.error;
      return [];
    }
    st.outcome = r.value.outcome;
    st.where = r.value.where;
    return r.value.outcome.attempts.map((a) => step(s, a.description, a.allowed, a.code));
  },
  async observe(_s, steps, state): Promise<ScenarioResult> {
    const st = state as State;
    if (st.error || !st.outcome || !st.where) return nothingToAttack('the HTTP interception', st.error ?? 'the attack did not run', steps);
    return judgeInterception(steps, st.outcome, st.where);
  },
};
