// Test servers for the TLS prober: an internal CA and leaf certificates made with node-forge (RSA
// keys from node:crypto, which is much faster than forge's own generator), Node TLS/HTTPS servers
// with chosen versions and suites, and the real nginx (Debian package) run unprivileged from a
// configuration in a temp folder on 127.0.0.1 high ports, with Mozilla's modern and intermediate
// profiles and a weak one.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import forge from 'node-forge';

export interface Pem {
  key: string;
  cert: string;
}

const DAY = 86_400_000;

function rsaKey(bits = 2048): { pem: string; forgeKey: forge.pki.rsa.PrivateKey; forgePub: forge.pki.rsa.PublicKey } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const forgeKey = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { pem, forgeKey, forgePub: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) };
}

let serial = 1;

export interface CertSpec {
  cn: string;
  /** DNS names and IP addresses for subjectAltName. */
  dns?: string[];
  ips?: string[];
  notBefore?: Date;
  notAfter?: Date;
  bits?: number;
  ca?: boolean;
  /** Signed by this CA; self-signed when absent. */
  issuer?: { pem: Pem; forgeKey: forge.pki.rsa.PrivateKey };
  md?: 'sha256' | 'sha1';
}

export interface Issued {
  pem: Pem;
  forgeKey: forge.pki.rsa.PrivateKey;
}

export function makeCert(spec: CertSpec): Issued {
  const k = rsaKey(spec.bits ?? 2048);
  const c = forge.pki.createCertificate();
  c.publicKey = k.forgePub;
  c.serialNumber = (0x1000 + serial++).toString(16);
  const now = Date.now();
  c.validity.notBefore = spec.notBefore ?? new Date(now - DAY);
  c.validity.notAfter = spec.notAfter ?? new Date(now + 365 * DAY);
  const subject = [{ name: 'commonName', value: spec.cn }, { name: 'organizationName', value: 'seclab test' }];
  c.setSubject(subject);
  const issuerCert = spec.issuer ? forge.pki.certificateFromPem(spec.issuer.pem.cert) : undefined;
  c.setIssuer(issuerCert ? issuerCert.subject.attributes : subject);
  const exts: object[] = [{ name: 'basicConstraints', cA: !!spec.ca, critical: true }];
  if (spec.ca) exts.push({ name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true });
  else {
    exts.push({ name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true });
    exts.push({ name: 'extKeyUsage', serverAuth: true });
    const alt = [...(spec.dns ?? []).map((value) => ({ type: 2, value })), ...(spec.ips ?? []).map((ip) => ({ type: 7, ip }))];
    if (alt.length) exts.push({ name: 'subjectAltName', altNames: alt });
  }
  exts.push({ name: 'subjectKeyIdentifier' });
  // authorityKeyIdentifier: RFC 5280 requires it, and sslyze's verifier (cryptography) refuses chains without it.
  const issuerForKeyId = issuerCert ?? c;
  exts.push({ name: 'authorityKeyIdentifier', keyIdentifier: issuerForKeyId.generateSubjectKeyIdentifier().getBytes() });
  c.setExtensions(exts);
  const md = spec.md === 'sha1' ? forge.md.sha1.create() : forge.md.sha256.create();
  c.sign(spec.issuer ? spec.issuer.forgeKey : k.forgeKey, md);
  return { pem: { key: k.pem, cert: forge.pki.certificateToPem(c) }, forgeKey: k.forgeKey };
}

/** An internal CA, an intermediate, and leaves for "localhost": valid, expired, wrong name, self-signed. */
export interface Pki {
  dir: string;
  caFile: string;
  ca: Issued;
  intermediate: Issued;
  /** leaf + intermediate, the way a server should send it. */
  good: Pem;
  expired: Pem;
  wrongName: Pem;
  selfSigned: Pem;
  cleanup(): void;
}

export function makePki(): Pki {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seclab-tls-'));
  const ca = makeCert({ cn: 'seclab Test Root CA', ca: true, notAfter: new Date(Date.now() + 3650 * DAY) });
  const intermediate = makeCert({ cn: 'seclab Test Issuing CA', ca: true, issuer: ca });
  const chain = (leaf: Issued): Pem => ({ key: leaf.pem.key, cert: leaf.pem.cert + intermediate.pem.cert });
  const good = chain(makeCert({ cn: 'localhost', dns: ['localhost'], ips: ['127.0.0.1'], issuer: intermediate }));
  const expired = chain(makeCert({ cn: 'localhost', dns: ['localhost'], ips: ['127.0.0.1'], issuer: intermediate, notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - 30 * DAY) }));
  const wrongName = chain(makeCert({ cn: 'www.example.org', dns: ['www.example.org'], issuer: intermediate }));
  const selfSigned = makeCert({ cn: 'localhost', dns: ['localhost'], ips: ['127.0.0.1'] }).pem;
  const caFile = path.join(dir, 'ca.pem');
  writeFileSync(caFile, ca.pem.cert);
  return { dir, caFile, ca, intermediate, good, expired, wrongName, selfSigned, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Running {
  port: number;
  close(): Promise<void>;
}

export interface NodeServerSpec {
  pem: Pem;
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  ciphers?: string;
  honorCipherOrder?: boolean;
  /** HSTS header value for the HTTPS answer (https server only). */
  hsts?: string;
  /** Serve HTTPS (default) or raw TLS that closes after the handshake. */
  kind?: 'https' | 'tls';
  /** A stapled OCSP response to send (DER). */
  ocsp?: Buffer;
}

export async function nodeServer(s: NodeServerSpec): Promise<Running> {
  const opts: tls.TlsOptions = {
    key: s.pem.key, cert: s.pem.cert,
    ...(s.minVersion ? { minVersion: s.minVersion } : {}),
    ...(s.maxVersion ? { maxVersion: s.maxVersion } : {}),
    ...(s.ciphers ? { ciphers: s.ciphers } : {}),
    ...(s.honorCipherOrder !== undefined ? { honorCipherOrder: s.honorCipherOrder } : {}),
  };
  const server: tls.Server = s.kind === 'tls'
    ? tls.createServer(opts, (sock) => sock.end())
    : https.createServer(opts, (_req, res) => {
      if (s.hsts) res.setHeader('Strict-Transport-Security', s.hsts);
      res.end('hello over TLS\n');
    });
  if (s.ocsp) server.on('OCSPRequest', (_cert: Buffer, _issuer: Buffer, cb: (err: Error | null, resp?: Buffer) => void) => cb(null, s.ocsp));
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A plain-HTTP server that redirects to https://localhost:<httpsPort>/ (or serves content when httpsPort is null). */
export async function redirectServer(httpsPort: number | null): Promise<Running> {
  const server = http.createServer((req, res) => {
    if (httpsPort === null) res.end('plain content\n');
    else {
      res.writeHead(301, { location: `https://localhost:${httpsPort}${req.url ?? '/'}` });
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

// ---- nginx ----

export function nginxPath(): string | undefined {
  for (const p of [process.env['SECLAB_NGINX'], '/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx']) if (p && existsSync(p)) return p;
  const w = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' });
  return w.status === 0 && w.stdout.trim() ? w.stdout.trim() : undefined;
}

/** Mozilla's server-side TLS profiles (ssl-config.mozilla.org, version 5.7) for nginx, and a weak one. */
export const NGINX_PROFILES = {
  modern: {
    protocols: 'TLSv1.3',
    ciphers: '',
    preferServer: 'off',
    hsts: 'max-age=63072000',
  },
  intermediate: {
    protocols: 'TLSv1.2 TLSv1.3',
    ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305',
    preferServer: 'off',
    hsts: 'max-age=63072000',
  },
  // TLS 1.0 only, CBC suites with RSA key exchange, server order, no HSTS (OpenSSL 3 needs @SECLEVEL=0 for TLS 1.0).
  weak: {
    protocols: 'TLSv1',
    ciphers: 'AES128-SHA:AES256-SHA:ECDHE-RSA-AES128-SHA:@SECLEVEL=0',
    preferServer: 'on',
    hsts: '',
  },
} as const;

export interface NginxSpec {
  profile: keyof typeof NGINX_PROFILES;
  pem: Pem;
  /** Also listen for plain HTTP and redirect to HTTPS. */
  redirect?: boolean;
}

export interface RunningNginx extends Running {
  httpPort?: number;
  dir: string;
}

export async function startNginx(spec: NginxSpec): Promise<RunningNginx> {
  const bin = nginxPath();
  if (!bin) throw new Error('nginx is not installed');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seclab-nginx-'));
  const port = await freePort();
  const httpPort = spec.redirect ? await freePort() : undefined;
  const p = NGINX_PROFILES[spec.profile];
  writeFileSync(path.join(dir, 'cert.pem'), spec.pem.cert);
  writeFileSync(path.join(dir, 'key.pem'), spec.pem.key, { mode: 0o600 });
  const conf = `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port} ssl;
    server_name localhost;
    ssl_certificate ${dir}/cert.pem;
    ssl_certificate_key ${dir}/key.pem;
    ssl_protocols ${p.protocols};
    ${p.ciphers ? `ssl_ciphers ${p.ciphers};` : ''}
    ssl_prefer_server_ciphers ${p.preferServer};
    ssl_session_tickets off;
    ${p.hsts ? `add_header Strict-Transport-Security "${p.hsts}" always;` : ''}
    location / { return 200 "hello from nginx\\n"; }
  }
  ${httpPort ? `server { listen 127.0.0.1:${httpPort}; server_name localhost; location / { return 301 https://localhost:${port}$request_uri; } }` : ''}
}
`;
  writeFileSync(path.join(dir, 'nginx.conf'), conf);
  const child: ChildProcess = spawn(bin, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // Wait for the port to accept connections.
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${stderr}${existsSync(path.join(dir, 'error.log')) ? readFileSync(path.join(dir, 'error.log'), 'utf8') : ''}`);
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not listen on ${port} within 10 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    ...(httpPort ? { httpPort } : {}),
    dir,
    close: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A signed OCSP response for `leafCert` issued by `issuer`, made with the openssl CLI acting as the
 * CA's responder (`openssl ocsp -index`): status good, or revoked. undefined when openssl is missing.
 */
export function ocspResponse(issuer: Issued, leafCert: string, status: 'good' | 'revoked' = 'good'): Buffer | undefined {
  if (spawnSync('openssl', ['version']).status !== 0) return undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seclab-ocsp-'));
  try {
    const leafOnly = leafCert.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)![0];
    const serialHex = forge.pki.certificateFromPem(leafOnly).serialNumber.toUpperCase();
    const f = (n: string) => path.join(dir, n);
    writeFileSync(f('issuer.pem'), issuer.pem.cert);
    writeFileSync(f('issuer.key'), forge.pki.privateKeyToPem(issuer.forgeKey));
    writeFileSync(f('leaf.pem'), leafOnly);
    const line = status === 'good' ? `V\t351231000000Z\t\t${serialHex}\tunknown\t/CN=localhost\n` : `R\t351231000000Z\t250101000000Z\t${serialHex}\tunknown\t/CN=localhost\n`;
    writeFileSync(f('index.txt'), line);
    const a = spawnSync('openssl', ['ocsp', '-issuer', f('issuer.pem'), '-cert', f('leaf.pem'), '-reqout', f('req.der'), '-no_nonce'], { encoding: 'utf8' });
    if (a.status !== 0) throw new Error(a.stderr);
    const b = spawnSync('openssl', ['ocsp', '-index', f('index.txt'), '-rsigner', f('issuer.pem'), '-rkey', f('issuer.key'), '-CA', f('issuer.pem'), '-reqin', f('req.der'), '-respout', f('resp.der'), '-ndays', '1'], { encoding: 'utf8' });
    if (b.status !== 0) throw new Error(b.stderr);
    return readFileSync(f('resp.der'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A legacy server that Node's OpenSSL cannot talk to: answers SSL 2.0 with RC4-MD5, SSL 3.0 and TLS 1.0 ClientHellos with
 * RC4-SHA or DES-CBC3-SHA (its order), TLS 1.1+ offers with a TLS 1.0 ServerHello (downgrade), and
 * honours TLS_FALLBACK_SCSV. ServerHello + ServerHelloDone only: enough for the raw prober.
 */
export async function legacyServer(): Promise<Running> {
  const PREF = [0x0005, 0x000a];
  const server = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('error', () => {});
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 3 && buf[0]! & 0x80 && buf[2] === 1) {
        // SSL 2.0 CLIENT-HELLO: SERVER-HELLO with RC4-MD5, no certificate, a 16-byte connection id
        const m = Buffer.concat([Buffer.from([4, 0, 1, 0x00, 0x02, 0, 0, 0, 3, 0, 16]), Buffer.from([0x01, 0x00, 0x80]), Buffer.alloc(16, 5)]);
        sock.end(Buffer.concat([Buffer.from([0x80 | (m.length >> 8), m.length & 0xff]), m]));
        return;
      }
      if (buf.length < 5 || buf.length < 5 + buf.readUInt16BE(3)) return;
      const hello = buf.subarray(9);
      const version = hello.readUInt16BE(0);
      let p = 2 + 32;
      p += 1 + hello[p]!;
      const n = hello.readUInt16BE(p);
      const offered: number[] = [];
      for (let i = 0; i < n; i += 2) offered.push(hello.readUInt16BE(p + 2 + i));
      const alert = (desc: number) => sock.end(Buffer.from([21, 3, 1, 0, 2, 2, desc]));
      const negotiated = Math.min(version, 0x0301);
      if (offered.includes(0x5600) && negotiated < 0x0301) return alert(86);
      const pick = PREF.find((s) => offered.includes(s));
      if (pick === undefined) return alert(40);
      const body = Buffer.concat([Buffer.from([negotiated >> 8, negotiated & 0xff]), Buffer.alloc(32, 9), Buffer.from([0, pick >> 8, pick & 0xff, 0])]);
      const sh = Buffer.concat([Buffer.from([2, 0, body.length >> 8, body.length & 0xff]), body]);
      const done = Buffer.from([14, 0, 0, 0]);
      const hs = Buffer.concat([sh, done]);
      sock.end(Buffer.concat([Buffer.from([22, negotiated >> 8, negotiated & 0xff, hs.length >> 8, hs.length & 0xff]), hs]));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Accepts TCP connections and never answers (for timeouts). */
export async function silentServer(): Promise<Running> {
  const socks = new Set<net.Socket>();
  const server = net.createServer((s) => {
    socks.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => {
      for (const s of socks) s.destroy();
      server.close(() => r());
    }),
  };
}

/**
 * An ECDSA P-256 leaf for localhost signed by the PKI's (RSA) intermediate, with the intermediate in
 * the chain; made with the openssl CLI (node-forge has no EC keys). undefined when openssl is missing.
 */
export function makeEcdsaLeaf(pki: Pki): Pem | undefined {
  if (spawnSync('openssl', ['version']).status !== 0) return undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seclab-ec-'));
  try {
    const f = (n: string) => path.join(dir, n);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const key = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    writeFileSync(f('leaf.key'), key);
    writeFileSync(f('ca.pem'), pki.intermediate.pem.cert);
    writeFileSync(f('ca.key'), forge.pki.privateKeyToPem(pki.intermediate.forgeKey));
    writeFileSync(f('ext.cnf'), [
      'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth',
      'subjectAltName=DNS:localhost,IP:127.0.0.1', 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid',
    ].join('\n') + '\n');
    const csr = spawnSync('openssl', ['req', '-new', '-key', f('leaf.key'), '-subj', '/CN=localhost/O=seclab test', '-out', f('leaf.csr')], { encoding: 'utf8' });
    if (csr.status !== 0) throw new Error(csr.stderr);
    const crt = spawnSync('openssl', ['x509', '-req', '-in', f('leaf.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-set_serial', '0x7e57', '-days', '365', '-sha256', '-extfile', f('ext.cnf'), '-out', f('leaf.pem')], { encoding: 'utf8' });
    if (crt.status !== 0) throw new Error(crt.stderr);
    return { key, cert: readFileSync(f('leaf.pem'), 'utf8') + pki.intermediate.pem.cert };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
