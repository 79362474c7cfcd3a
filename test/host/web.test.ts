// The instance's web server for real: a synthetic instance root (written here, not the Debian image)
// with a modern TLS nginx config and a certificate from the company CA; the real nginx serves it on
// loopback and the TLS prober checks it. Also: config errors and escaping paths are results, and
// stopping leaves no nginx process. Skipped with the reason when nginx is not installed.
import https from 'node:https';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxStatus, startNginx, resolveInRoot, NginxConfigError } from '../../src/host/web/nginx.ts';
import { companyCa, issueServerCertificate, type CompanyCa } from '../../src/host/web/company-ca.ts';
import { probe } from '../../src/controls/tls/index.ts';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/seclab.js', import.meta.url));
/** `seclab ...` in a child process, as a student runs it. */
function seclab(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
  });
}

const st = nginxStatus();
const skip = st.installed ? '' : st.reason!;
if (skip) console.warn(`test/host/web: skipped: ${skip}`);

const MODERN = `user www-data;
worker_processes auto;
pid /run/nginx.pid;
error_log /var/log/nginx/error.log;
events { worker_connections 64; }
http {
    include /etc/nginx/mime.types;
    access_log /var/log/nginx/access.log;
    include /etc/nginx/sites-enabled/*;
}
`;
const SITE = `server {
    listen 80;
    listen [::]:80;
    server_name www.example.internal;
    return 301 https://$host$request_uri;
}
server {
    listen 443 ssl;
    listen [::]:443 ssl;
    server_name www.example.internal;
    root /var/www/html;
    ssl_certificate /etc/ssl/certs/www.pem;
    ssl_certificate_key /etc/ssl/private/www.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
    ssl_prefer_server_ciphers off;
    add_header Strict-Transport-Security "max-age=63072000" always;
    location / { try_files $uri $uri/ =404; }
}
`;

function nginxPids(marker: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes('nginx') && cmd.includes(marker)) pids.push(Number(d));
    } catch { /* gone */ }
  }
  return pids;
}

describe.skipIf(!!skip)('instance web server (real nginx)', () => {
  let tmp: string;
  let ca: CompanyCa;
  const instance = (name: string, site: string, conf = MODERN): string => {
    const root = path.join(tmp, name);
    const files: Record<string, string> = {
      'etc/nginx/nginx.conf': conf,
      'etc/nginx/mime.types': 'types { text/html html; }\n',
      'etc/nginx/sites-available/default': site,
      'var/www/html/index.html': '<h1>company</h1>\n',
    };
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      writeFileSync(path.join(root, f), text);
    }
    mkdirSync(path.join(root, 'etc/nginx/sites-enabled'), { recursive: true });
    // Debian's layout: an absolute symlink, which must resolve inside the instance root.
    symlinkSync('/etc/nginx/sites-available/default', path.join(root, 'etc/nginx/sites-enabled/default'));
    const leaf = issueServerCertificate(ca, 'www.example.internal');
    mkdirSync(path.join(root, 'etc/ssl/certs'), { recursive: true });
    mkdirSync(path.join(root, 'etc/ssl/private'), { recursive: true });
    writeFileSync(path.join(root, 'etc/ssl/certs/www.pem'), leaf.chainPem);
    writeFileSync(path.join(root, 'etc/ssl/private/www.key'), leaf.keyPem, { mode: 0o600 });
    return root;
  };

  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'seclab-web-'));
    ca = companyCa(path.join(tmp, 'company-ca'));
  });
  afterAll(() => { if (!process.env.SECLAB_KEEP) rmSync(tmp, { recursive: true, force: true }); });

  it('`seclab host web <root> --scan` runs the folder\'s nginx and probes it as the lab does; a broken config is a clear error', async () => {
    const root = instance('cli', SITE);
    const r = await seclab(['host', 'web', root, '--scan', '--sni', 'www.example.internal', '--ca', ca.bundleFile, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { protocols: { protocol: string; offered: boolean }[]; certificate?: { trusted: boolean }; redirect?: { redirectsToHttps: boolean } };
    expect(res.protocols.filter((p) => p.offered).map((p) => p.protocol).sort()).toEqual(['TLSv1.2', 'TLSv1.3']);
    expect(res.certificate?.trusted).toBe(true);
    expect(res.redirect?.redirectsToHttps).toBe(true);
    expect(nginxPids(root)).toEqual([]);
    const broken = instance('cli-broken', SITE.replace('ssl_protocols TLSv1.2 TLSv1.3;', 'ssl_protocols TLSv1.2 TLSv1.3'));
    const b = await seclab(['host', 'web', broken, '--scan']);
    expect(b.code).not.toBe(0);
    expect(b.stderr).toMatch(/nginx does not run|nginx -t|unexpected/);
  });

  it('a config that would write outside the instance, feed OpenSSL the machine\'s files or reach its services is refused', async () => {
    for (const [i, line] of ['proxy_cache_path /etc/evil levels=1 keys_zone=z:1m;', 'ssl_conf_command ChainCAFile /etc/passwd;'].entries()) {
      const r = await startNginx(instance(`escape-http-${i}`, SITE, MODERN.replace('http {', `http {\n    ${line}`)));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).toMatch(/not allowed in the lab/);
    }
    const p = await startNginx(instance('escape-pass', SITE.replace('location / { try_files $uri $uri/ =404; }', 'location / { proxy_pass http://127.0.0.1:5000/; }')));
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.message).toMatch(/proxy_pass: not allowed/);
  });

  it('the grader\'s machine is protected: worker_connections capped, worker_rlimit_nofile and ssl_engine dropped, with notes', async () => {
    const root = instance('greedy', SITE, MODERN.replace('events { worker_connections 64; }', 'worker_rlimit_nofile 1048576;\nssl_engine dynamic;\nevents { worker_connections 1000000; }'));
    const r = await startNginx(root);
    if (!r.ok) throw new Error(`${r.kind}: ${r.message}`);
    try {
      expect(r.server.config.text).toContain('worker_connections 1024;');
      expect(r.server.config.text).not.toMatch(/worker_rlimit_nofile|ssl_engine|1000000/);
      expect(r.server.config.notes.join('\n')).toMatch(/1000000 lowered to 1024/);
    } finally {
      await r.server.stop();
    }
  });

  it('serves the modern TLS config on loopback: TLS 1.2/1.3 only, trusted chain, HSTS, port 80 redirects; stop leaves no process', async () => {
    const root = instance('modern', SITE);
    const r = await startNginx(root);
    if (!r.ok) throw new Error(`${r.kind}: ${r.message}`);
    const { server } = r;
    try {
      expect(server.ports.map((p) => p.port).sort()).toEqual([443, 80]);
      const https = server.hostPort(443)!;
      const http = server.hostPort(80)!;
      expect(https).not.toBe(443);
      expect(server.config.notes.join('\n')).toMatch(/user.*dropped/);
      expect(server.config.text).toContain(`ssl_certificate "${root}/etc/ssl/certs/www.pem";`);
      expect(server.config.text).not.toMatch(/ "\/etc\//);
      const res = await probe('127.0.0.1', https, { serverName: 'www.example.internal', caFile: ca.bundleFile, httpPort: http });
      const offered = res.protocols.filter((p) => p.offered).map((p) => p.protocol).sort();
      expect(offered).toEqual(['TLSv1.2', 'TLSv1.3']);
      expect(res.certificate?.trusted).toBe(true);
      expect(res.forwardSecrecy.all).toBe(true);
      expect(res.https?.status).toBe(200);
      expect(res.https?.hsts.present).toBe(true);
      expect(res.https?.hsts.maxAge).toBe(63072000);
      expect(res.redirect?.redirectsToHttps).toBe(true);
      expect(nginxPids(server.config.configFile).length).toBeGreaterThan(0);
    } finally {
      await server.stop();
    }
    expect(nginxPids(server.config.configFile)).toEqual([]);
  }, 60_000);

  it("a symlink in the document root to the grader's files is not served, whatever the config says", async () => {
    const secret = path.join(tmp, 'grader-secret.txt');
    writeFileSync(secret, 'grade key\n');
    const root = instance('symlinked', SITE.replace('server_name', 'disable_symlinks off;\n    server_name'));
    symlinkSync(secret, path.join(root, 'var/www/html/leak.txt'));
    writeFileSync(path.join(root, 'var/www/html/plain.txt'), 'public\n');
    const r = await startNginx(root);
    if (!r.ok) throw new Error(`${r.kind}: ${r.message}`);
    const get = (p: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port: r.server.hostPort(443)!, path: p, servername: 'www.example.internal', ca: readFileSync(ca.bundleFile) }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
    });
    try {
      expect(r.server.config.notes.join('\n')).toMatch(/disable_symlinks.*dropped/);
      expect(r.server.config.text).toMatch(/disable_symlinks on;/);
      expect(r.server.config.text).not.toMatch(/disable_symlinks off/);
      expect(await get('/plain.txt')).toEqual({ status: 200, body: 'public\n' });
      const leak = await get('/leak.txt');
      expect(leak.body).not.toContain('grade key');
      expect(leak.status).toBeGreaterThanOrEqual(400);
    } finally {
      await r.server.stop();
    }
  }, 60_000);

  it('a configuration error is a clear result, not a crash', async () => {
    const root = instance('broken', SITE.replace('ssl_protocols TLSv1.2 TLSv1.3;', 'ssl_protocols TLSv1.2 TLSv1.3'));
    const r = await startNginx(root);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.kind).toBe('config');
      expect(r.message).toMatch(/in \/etc\/nginx\/sites-enabled\/default:14/);
    }
    const root2 = instance('unknown', SITE.replace('ssl_prefer_server_ciphers off;', 'ssl_prefer_server_cipher off;'));
    const r2 = await startNginx(root2);
    expect(r2.ok).toBe(false);
    if (!r2.ok) {
      expect(r2.kind).toBe('config');
      expect(r2.message).toMatch(/nginx -t: .*unknown directive "ssl_prefer_server_cipher"/);
      expect(r2.message).not.toContain(tmp);
    }
  }, 30_000);

  it('paths escaping the instance root are refused (.. and symlinks)', async () => {
    const root = instance('dotdot', SITE.replace('/etc/ssl/private/www.key', '/etc/ssl/../../../../etc/shadow'));
    const r = await startNginx(root);
    expect(r.ok).toBe(false);
    if (!r.ok) { expect(r.kind).toBe('refused'); expect(r.message).toMatch(/leaves the instance's root folder/); }

    const root2 = instance('link', SITE);
    rmSync(path.join(root2, 'etc/ssl/private/www.key'));
    symlinkSync('../../../../../../../../etc/ssl/private/host.key', path.join(root2, 'etc/ssl/private/www.key'));
    const r2 = await startNginx(root2);
    expect(r2.ok).toBe(false);
    if (!r2.ok) { expect(r2.kind).toBe('refused'); expect(r2.message).toMatch(/symbolic link .* leaves the instance's root folder/); }

    // An absolute link target stays inside the root (as on the instance).
    symlinkSync('/etc/hostname', path.join(root2, 'abs'));
    expect(resolveInRoot(root2, '/abs')).toBe(path.join(root2, 'etc/hostname'));
    expect(() => resolveInRoot(root2, '/../etc')).toThrow(NginxConfigError);
  }, 30_000);

  it('without HSTS configured, none is reported; a missing nginx is a clear error', async () => {
    const root = instance('nohsts', SITE.replace(/\s*add_header Strict-Transport-Security[^\n]*/, ''));
    const r = await startNginx(root);
    if (!r.ok) throw new Error(`${r.kind}: ${r.message}`);
    try {
      const res = await probe('127.0.0.1', r.server.hostPort(443)!, { serverName: 'www.example.internal', caFile: ca.bundleFile, httpPort: r.server.hostPort(80)! });
      expect(res.https?.hsts.present).toBe(false);
    } finally {
      await r.server.stop();
    }
    expect(nginxPids(r.server.config.configFile)).toEqual([]);
    await expect(startNginx(root, { bin: path.join(tmp, 'no-nginx') })).rejects.toThrow(/nginx is not installed .*apt-get install nginx-light/);
  }, 60_000);

  it('the company CA issues certificates for the requested name, chained to the bundle', async () => {
    const { X509Certificate } = await import('node:crypto');
    const leaf = issueServerCertificate(ca, 'app.example.internal', { altNames: ['10.0.1.5'] });
    const x = new X509Certificate(leaf.certPem);
    expect(x.subjectAltName).toMatch(/DNS:app\.example\.internal/);
    expect(x.subjectAltName).toMatch(/IP Address:10\.0\.1\.5/);
    expect(x.checkIssued(new X509Certificate(readFileSync(ca.bundleFile, 'utf8')))).toBe(true);
    expect(companyCa(path.join(tmp, 'company-ca')).certPem).toBe(ca.certPem);
  });
});
