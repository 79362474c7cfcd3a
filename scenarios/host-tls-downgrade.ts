// A man in the middle between Fabrikam Travel's customers and the web server strips everything modern
// out of the handshake: it offers the server only old protocol versions (SSL 3.0, TLS 1.0, TLS 1.1) or,
// at TLS 1.2, only weak cipher suites (CBC without forward secrecy, RC4, 3DES, export grade, NULL
// encryption, anonymous), and plays the old browsers' fallback dance (retry with a lower version and
// TLS_FALLBACK_SCSV). Each is a real raw ClientHello (src/controls/tls) against the instance's nginx run
// on loopback from its root folder; a ServerHello with the offered version and an offered suite means
// the server accepted it. Blocked when the server refused every one.
import type { AttackStep, Scenario, ScenarioResult } from '../src/engine/types.ts';
import type { LabSession } from '../src/engine/session.ts';
import { rawHandshake, TlsProbeError } from '../src/controls/tls/handshake.ts';
import { accepted, refusalOf } from '../src/controls/tls/enumerate.ts';
import { suiteById, suitesFor, type CipherSuite, type Protocol } from '../src/controls/tls/suites.ts';
import type { NginxServer } from '../src/host/web/nginx.ts';
import { hostEnv } from '../labs/host/company.ts';
import { withWebServer } from '../labs/host/server.ts';
import { describeDirective, nothingToAttack, step } from './lib/host-web.ts';

export interface DowngradeAttempt {
  id: string;
  description: string;
  /** The nginx directive that decides it. */
  directive: 'ssl_protocols' | 'ssl_ciphers';
  accepted: boolean;
  /** What the server picked when it accepted (version and suite). */
  picked?: string;
  refusal?: string;
}

interface Offer {
  id: string;
  description: string;
  directive: 'ssl_protocols' | 'ssl_ciphers';
  protocol: Protocol;
  suites: CipherSuite[];
  fallbackScsv?: boolean;
}

const tls12 = suitesFor('TLSv1.2');
const weak12 = (f: (s: CipherSuite) => boolean) => tls12.filter(f);

/** What the man in the middle offers, one ClientHello each. */
export const OFFERS: readonly Offer[] = [
  { id: 'SSLv3', description: 'SSL 3.0 only (POODLE)', directive: 'ssl_protocols', protocol: 'SSLv3', suites: suitesFor('SSLv3') },
  { id: 'TLSv1', description: 'TLS 1.0 only (BEAST, SHA-1 handshake)', directive: 'ssl_protocols', protocol: 'TLSv1', suites: suitesFor('TLSv1') },
  { id: 'TLSv1.1', description: 'TLS 1.1 only (deprecated by RFC 8996)', directive: 'ssl_protocols', protocol: 'TLSv1.1', suites: suitesFor('TLSv1.1') },
  { id: 'cbc-no-fs', description: 'TLS 1.2 with only CBC suites without forward secrecy (static RSA key exchange: Lucky13, recorded traffic decryptable with the key)', directive: 'ssl_ciphers', protocol: 'TLSv1.2', suites: weak12((s) => s.cbc && !s.fs && !s.anonymous && !s.exportGrade && !s.block64 && s.bits > 0) },
  { id: 'rc4', description: 'TLS 1.2 with only RC4 suites (RFC 7465)', directive: 'ssl_ciphers', protocol: 'TLSv1.2', suites: weak12((s) => s.enc === 'RC4') },
  { id: '3des', description: 'TLS 1.2 with only 64-bit block ciphers (3DES, DES, IDEA: Sweet32)', directive: 'ssl_ciphers', protocol: 'TLSv1.2', suites: weak12((s) => s.block64 && !s.exportGrade) },
  { id: 'export', description: 'TLS 1.2 with only export-grade suites (FREAK, Logjam)', directive: 'ssl_ciphers', protocol: 'TLSv1.2', suites: weak12((s) => s.exportGrade) },
  { id: 'null', description: 'TLS 1.2 with only NULL-encryption suites (no encryption at all)', directive: 'ssl_ciphers', protocol: 'TLSv1.2', suites: weak12((s) => s.bits === 0 || s.enc === 'None') },
  { id: 'anon', description: 'TLS 1.2 with only anonymous suites (no certificate: any man in the middle)', directive: 'ssl_ciphers', protocol: 'TLSv1.2', suites: weak12((s) => s.anonymous) },
  { id: 'fallback', description: 'fallback dance: the modern hello is dropped, the client retries with TLS 1.1 and TLS_FALLBACK_SCSV', directive: 'ssl_protocols', protocol: 'TLSv1.1', suites: suitesFor('TLSv1.1'), fallbackScsv: true },
];

/** Every offer against 127.0.0.1:port; throws when nothing speaks TLS there. */
export async function downgradeAttempts(port: number, o: { serverName: string; timeoutMs?: number; host?: string }): Promise<DowngradeAttempt[]> {
  const ep = { host: o.host ?? '127.0.0.1', port, timeoutMs: o.timeoutMs ?? 5000 };
  const out: DowngradeAttempt[] = [];
  for (const offer of OFFERS) {
    const ids = offer.suites.map((s) => s.id);
    const r = await rawHandshake(ep, { protocol: offer.protocol, suites: ids, serverName: o.serverName, ...(offer.fallbackScsv ? { fallbackScsv: true } : {}) });
    if (r.notTls) throw new TlsProbeError(`port ${port} does not speak TLS (it answered ${r.notTls.slice(0, 16)}…)`, 'PROTOCOL');
    const ok = accepted(r, offer.protocol) && ids.includes(r.serverHello!.cipherSuite);
    out.push({
      id: offer.id, description: offer.description, directive: offer.directive, accepted: ok,
      ...(ok ? { picked: `${offer.protocol} ${suiteById(r.serverHello!.cipherSuite).openssl}` } : { refusal: refusalOf(r) }),
    });
  }
  return out;
}

const PROTOCOLS_FIX = 'ssl_protocols TLSv1.2 TLSv1.3;';
const CIPHERS_FIX = 'ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;';

/** Judges the attempts: blocked when every one was refused; the feedback names the directives to fix. */
export function judgeDowngrade(steps: AttackStep[], attempts: DowngradeAttempt[], where: { ssl_protocols: string; ssl_ciphers: string }): ScenarioResult {
  const got = attempts.filter((a) => a.accepted);
  const blocked = attempts.length > 0 && got.length === 0;
  const evidence = attempts.map((a) => `${a.id}: ${a.accepted ? `ACCEPTED (${a.picked})` : `refused (${a.refusal})`}`);
  if (blocked) {
    return { detected: false, blocked, steps, evidence, feedback: `blocked: the web server refused all ${attempts.length} downgrades (old protocols, weak suites at TLS 1.2, the fallback dance)` };
  }
  const proto = got.filter((a) => a.directive === 'ssl_protocols');
  const ciph = got.filter((a) => a.directive === 'ssl_ciphers');
  const fixes: string[] = [];
  if (proto.length) fixes.push(`${proto.map((a) => a.picked).join(', ')} accepted — set \`${PROTOCOLS_FIX}\` (now: ${where.ssl_protocols})`);
  if (ciph.length) fixes.push(`${ciph.map((a) => `${a.id} (${a.picked})`).join(', ')} accepted at TLS 1.2 — set \`${CIPHERS_FIX}\` with \`ssl_prefer_server_ciphers on;\` (now: ${where.ssl_ciphers})`);
  return { detected: false, blocked, steps, evidence, feedback: `not blocked: a man in the middle downgraded the connection ${got.length} of ${attempts.length} ways: ${fixes.join('; ')}` };
}

interface State { attempts?: DowngradeAttempt[]; where?: { ssl_protocols: string; ssl_ciphers: string }; error?: string }

function where(server: NginxServer): { ssl_protocols: string; ssl_ciphers: string } {
  return {
    ssl_protocols: describeDirective(server, 'ssl_protocols', "ssl_protocols not set (nginx 1.22's default includes TLSv1 and TLSv1.1)"),
    ssl_ciphers: describeDirective(server, 'ssl_ciphers', "ssl_ciphers not set (nginx's default HIGH:!aNULL:!MD5 keeps CBC suites without forward secrecy)"),
  };
}

export const tlsDowngradeScenario: Scenario = {
  id: 'tls-downgrade',
  title: 'A man in the middle downgrades HTTPS to old protocols and weak ciphers',
  description: "On the path between a customer and www.fabrikam-travel.example, an attacker rewrites the ClientHello: only SSL 3.0, TLS 1.0 or TLS 1.1, or at TLS 1.2 only suites it can break (no forward secrecy, RC4, 3DES, export grade, NULL, anonymous), then the fallback dance. A server that accepts any of them hands the attacker a connection it can attack.",
  techniques: ['T1557', 'T1040'],
  detections: ['TLS scanner (testssl.sh, SSL Labs): obsolete protocols or weak cipher suites offered', 'nginx access log with $ssl_protocol/$ssl_cipher: handshakes at TLS < 1.2'],
  points: { blocked: 10 },
  tasks: { blocked: 'tls' },
  async prepare(): Promise<State> {
    return {};
  },
  async inject(s: LabSession, state): Promise<AttackStep[]> {
    const st = state as State;
    const serverName = hostEnv(s.env).site.hostName;
    const r = await withWebServer(s, async (server) => {
      const port = server.hostPort(443);
      if (port === undefined) return { error: `nginx listens on ${server.ports.map((p) => p.port).join(', ') || 'no port'}, not on 443: the site has no HTTPS` };
      if (!server.ports.find((p) => p.port === 443)?.ssl) return { error: 'port 443 is not a TLS listener (`listen 443 ssl;`)' };
      try {
        return { attempts: await downgradeAttempts(port, { serverName }), where: where(server) };
      } catch (e) {
        return { error: `the HTTPS port could not be probed: ${(e as Error).message}` };
      }
    });
    const v = 'error' in r ? r : r.value;
    if ('error' in v) {
      st.error = v.error;
      return [];
    }
    st.attempts = v.attempts;
    st.where = v.where;
    return v.attempts.map((a) => step(s, `offer the server ${a.description}`, a.accepted, a.refusal));
  },
  async observe(_s, steps, state): Promise<ScenarioResult> {
    const st = state as State;
    if (st.error || !st.attempts || !st.where) return nothingToAttack('the downgrade', st.error ?? 'the attack did not run', steps);
    return judgeDowngrade(steps, st.attempts, st.where);
  },
};
