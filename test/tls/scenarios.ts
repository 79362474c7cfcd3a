// The servers the prober is compared on (test/tls/agreement.test.ts and bench/tls.ts): Node servers
// with chosen versions/suites/order and, when nginx is installed, nginx with Mozilla's modern and
// intermediate profiles and a weak one.
import { makeEcdsaLeaf, nginxPath, nodeServer, redirectServer, startNginx, type Pki, type Running } from './servers.ts';

export interface Scenario {
  name: string;
  what: string;
  start(pki: Pki): Promise<{ port: number; httpPort?: number; stop(): Promise<void> }>;
}

async function withRedirect(s: Running): Promise<{ port: number; httpPort: number; stop(): Promise<void> }> {
  const r = await redirectServer(s.port);
  return { port: s.port, httpPort: r.port, stop: async () => { await r.close(); await s.close(); } };
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'node-modern',
    what: 'Node https, TLS 1.2+1.3, ECDHE AEAD in server order, HSTS 1 year, redirect',
    start: async (pki) => withRedirect(await nodeServer({
      pem: pki.good, minVersion: 'TLSv1.2', honorCipherOrder: true, hsts: 'max-age=31536000; includeSubDomains',
      ciphers: 'TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305',
    })),
  },
  {
    name: 'node-all',
    what: 'Node https, TLS 1.0-1.3, every suite OpenSSL 3 has (ALL:@SECLEVEL=0, anonymous ECDH too), server order',
    start: async (pki) => {
      const s = await nodeServer({ pem: pki.good, minVersion: 'TLSv1', ciphers: 'ALL:@SECLEVEL=0', honorCipherOrder: true, hsts: 'max-age=600' });
      return { port: s.port, stop: () => s.close() };
    },
  },
  {
    name: 'node-weak',
    what: 'Node https, TLS 1.0 only, AES-CBC with RSA key exchange, client order, expired certificate',
    start: async (pki) => {
      const s = await nodeServer({ pem: pki.expired, minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'AES128-SHA:AES256-SHA:ECDHE-RSA-AES128-SHA:@SECLEVEL=0', honorCipherOrder: false });
      return { port: s.port, stop: () => s.close() };
    },
  },
  {
    name: 'node-selfsigned',
    what: 'Node https, TLS 1.3, self-signed certificate',
    start: async (pki) => {
      const s = await nodeServer({ pem: pki.selfSigned, minVersion: 'TLSv1.3' });
      return { port: s.port, stop: () => s.close() };
    },
  },
  {
    name: 'node-wrongname',
    what: 'Node https, TLS 1.2+1.3, certificate for www.example.org',
    start: async (pki) => {
      const s = await nodeServer({ pem: pki.wrongName, minVersion: 'TLSv1.2' });
      return { port: s.port, stop: () => s.close() };
    },
  },
  {
    name: 'node-ecdsa',
    what: 'Node https, TLS 1.2+1.3, ECDSA P-256 certificate (RSA-signed), ECDHE-ECDSA suites in server order',
    start: async (pki) => {
      const pem = makeEcdsaLeaf(pki);
      if (!pem) throw new Error('openssl is needed to make the ECDSA certificate');
      const s = await nodeServer({ pem, minVersion: 'TLSv1.2', honorCipherOrder: true, ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA', hsts: 'max-age=31536000' });
      return { port: s.port, stop: () => s.close() };
    },
  },
  ...(['modern', 'intermediate', 'weak'] as const).map((profile): Scenario => ({
    name: `nginx-${profile}`,
    what: profile === 'weak' ? 'nginx, TLS 1.0, CBC/RSA first in server order, expired certificate, no HSTS' : `nginx, Mozilla ${profile} profile, HSTS 2 years, redirect from HTTP`,
    start: async (pki) => {
      const n = await startNginx({ profile, pem: profile === 'weak' ? pki.expired : pki.good, redirect: profile !== 'weak' });
      return { port: n.port, ...(n.httpPort ? { httpPort: n.httpPort } : {}), stop: () => n.close() };
    },
  })),
];

export function availableScenarios(): Scenario[] {
  return SCENARIOS.filter((s) => !s.name.startsWith('nginx-') || !!nginxPath());
}
