// Lab host's attacks on the web server itself, without a lab cloud: labs/host/ssh.ts on instance-root
// folders built here (drop-in order, Match blocks, AllowGroups, root login, StrictModes, restricted key
// lines), the SSH password brute force judged on them, and the TLS downgrade and the HTTP login
// interception against the real nginx run from a small root with a weak and a strong configuration.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { account, keyLogin, matchSelects, parseAuthorizedKey, passwordLogin, sshdFor } from '../../labs/host/ssh.ts';
import { makeAdmins } from '../../labs/host/company.ts';
import { bruteForce, judgeBruteForce, sshPasswordBruteForceScenario, BOTNET_ADDRESS } from '../../scenarios/host-ssh-brute-force.ts';
import { downgradeAttempts, judgeDowngrade, tlsDowngradeScenario } from '../../scenarios/host-tls-downgrade.ts';
import { interceptLogin, judgeInterception, httpLoginInterceptionScenario } from '../../scenarios/host-http-login-interception.ts';
import { describeDirective } from '../../scenarios/lib/host-web.ts';
import { nginxStatus, startNginx, type NginxServer } from '../../src/host/web/nginx.ts';
import { companyCa, issueServerCertificate, type CompanyCa } from '../../src/host/web/company-ca.ts';
import type { LabSession } from '../../src/engine/session.ts';

const DEBIAN_SSHD = `Include /etc/ssh/sshd_config.d/*.conf
KbdInteractiveAuthentication no
UsePAM yes
X11Forwarding yes
PrintMotd no
AcceptEnv LANG LC_*
Subsystem\tsftp\t/usr/lib/openssh/sftp-server
`;
const HASH = '$6$rounds=5000$salt$0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345678901234567890';
const { admins } = makeAdmins();
const [amira, bruno] = admins as [typeof admins[0], typeof admins[0]];

let tmp: string;
beforeAll(() => { tmp = mkdtempSync(path.join(os.tmpdir(), 'seclab-host-attacks-')); });
afterAll(() => { if (!process.env.SECLAB_KEEP) rmSync(tmp, { recursive: true, force: true }); });

let n = 0;
/**
 * A minimal instance root: /etc/ssh (sshd_config + drop-ins), /etc/passwd, /etc/shadow, /etc/group,
 * a shell, and the homes of debian, amira and bruno with their keys (modes and owners as on the
 * instance: we run as root in CI; elsewhere the ownership part is skipped).
 */
function instanceRoot(o: { dropIns?: Record<string, string>; sshd?: string; shadow?: Record<string, string>; shells?: Record<string, string>; cloudInitRoot?: boolean } = {}): string {
  const root = path.join(tmp, `root-${++n}`);
  const shell = (u: string, d: string) => o.shells?.[u] ?? d;
  const pw = (u: string, d: string) => o.shadow?.[u] ?? d;
  const files: Record<string, string> = {
    'etc/ssh/sshd_config': o.sshd ?? DEBIAN_SSHD,
    'etc/passwd': [
      `root:x:0:0:root:/root:${shell('root', '/bin/bash')}`,
      'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
      `debian:x:1000:1000:Debian:/home/debian:${shell('debian', '/bin/bash')}`,
      `amira:x:1001:1001:Amira Haddad:/home/amira:${shell('amira', '/bin/bash')}`,
      `bruno:x:1002:1100:Bruno Costa:/home/bruno:${shell('bruno', '/bin/bash')}`,
      `backup:x:34:34:backup:/var/backups:${shell('backup', '/usr/sbin/nologin')}`,
      '',
    ].join('\n'),
    'etc/shadow': ['root', 'daemon', 'debian', 'amira', 'bruno', 'backup'].map((u) => `${u}:${pw(u, u === 'daemon' || u === 'root' || u === 'backup' ? '*' : '!')}:20000:0:99999:7:::`).join('\n') + '\n',
    // bruno's primary group is sshusers (gid 1100), amira is a listed member.
    'etc/group': 'root:x:0:\ndaemon:x:1:\nsudo:x:27:debian,amira\ndebian:x:1000:\namira:x:1001:\nsshusers:x:1100:amira\nbackup:x:34:\n',
    'bin/bash': '#!/bin/sh\n',
    'usr/sbin/nologin': '#!/bin/sh\nexit 1\n',
    'home/amira/.ssh/authorized_keys': `${amira.publicKey}\n`,
    'home/bruno/.ssh/authorized_keys': `# bruno\n${bruno.publicKey}\n`,
    'home/debian/.ssh/authorized_keys': `${amira.publicKey}\n`,
    'root/.ssh/authorized_keys': o.cloudInitRoot === false ? `${amira.publicKey}\n`
      : `no-port-forwarding,no-agent-forwarding,no-X11-forwarding,command="echo 'Please login as the user \\"debian\\" rather than the user \\"root\\".';echo;sleep 10;exit 142" ${amira.publicKey}\n`,
  };
  for (const [f, text] of Object.entries({ ...files, ...Object.fromEntries(Object.entries(o.dropIns ?? {}).map(([k, v]) => [`etc/ssh/sshd_config.d/${k}`, v])) })) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), text);
  }
  mkdirSync(path.join(root, 'etc/ssh/sshd_config.d'), { recursive: true });
  chmodSync(path.join(root, 'bin/bash'), 0o755);
  chmodSync(path.join(root, 'usr/sbin/nologin'), 0o755);
  for (const [u, uid, gid] of [['amira', 1001, 1001], ['bruno', 1002, 1100], ['debian', 1000, 1000]] as const) {
    const home = path.join(root, 'home', u);
    chmodSync(home, 0o750);
    chmodSync(path.join(home, '.ssh'), 0o700);
    chmodSync(path.join(home, '.ssh/authorized_keys'), 0o600);
    if (process.getuid?.() === 0) for (const p of [home, path.join(home, '.ssh'), path.join(home, '.ssh/authorized_keys')]) chownSync(p, uid, gid);
  }
  chmodSync(path.join(root, 'root'), 0o700);
  chmodSync(path.join(root, 'home'), 0o755);
  return root;
}

const OFFICE = '203.0.113.10';
const CLOUD_INIT_PW = { '50-cloud-init.conf': 'PasswordAuthentication yes\n' };
const HARDENING = '10-hardening.conf';
const HARD = 'PermitRootLogin no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nMaxAuthTries 4\nAllowGroups sshusers\n';

describe('labs/host/ssh.ts: sshd for one connection', () => {
  it('drop-ins: the first value read wins (10-* before 50-cloud-init.conf), with file:line', () => {
    const weak = instanceRoot({ dropIns: CLOUD_INIT_PW, shadow: { debian: HASH } });
    const v = sshdFor(weak, { user: 'debian', address: BOTNET_ADDRESS });
    expect(v.settings.passwordauthentication).toBe('yes');
    expect(v.evidence.passwordauthentication).toBe('/etc/ssh/sshd_config.d/50-cloud-init.conf:1');
    expect(v.settings.kbdinteractiveauthentication).toBe('no');
    expect(v.evidence.kbdinteractiveauthentication).toBe('/etc/ssh/sshd_config:2');
    expect(v.settings.permitrootlogin).toBe('prohibit-password');
    expect(v.evidence.permitrootlogin).toMatch(/^default/);
    const ok = passwordLogin(weak, 'debian', BOTNET_ADDRESS);
    expect(ok.ok).toBe(true);
    expect(ok.reasons.join(' ')).toContain('PasswordAuthentication yes (/etc/ssh/sshd_config.d/50-cloud-init.conf:1)');

    const hard = instanceRoot({ dropIns: { ...CLOUD_INIT_PW, [HARDENING]: HARD }, shadow: { debian: HASH } });
    const h = sshdFor(hard, { user: 'debian', address: BOTNET_ADDRESS });
    expect(h.settings).toMatchObject({ passwordauthentication: 'no', permitrootlogin: 'no', maxauthtries: '4', allowgroups: 'sshusers' });
    expect(h.evidence.passwordauthentication).toBe('/etc/ssh/sshd_config.d/10-hardening.conf:2');
    const refused = passwordLogin(hard, 'debian', BOTNET_ADDRESS);
    expect(refused.ok).toBe(false);
    expect(refused.reasons.join('\n')).toMatch(/PasswordAuthentication no \(\/etc\/ssh\/sshd_config.d\/10-hardening.conf:2\)/);
    expect(refused.reasons.join('\n')).toMatch(/AllowGroups sshusers: debian is in none/);
    // A later drop-in cannot undo it.
    const late = instanceRoot({ dropIns: { [HARDENING]: HARD, '99-late.conf': 'PasswordAuthentication yes\nPermitRootLogin yes\n' } });
    expect(sshdFor(late, { user: 'root', address: OFFICE }).settings).toMatchObject({ passwordauthentication: 'no', permitrootlogin: 'no' });
  });

  it('Match blocks: User, Group (primary group from /etc/passwd), Address with CIDR and !, Host, LocalPort, Match all', () => {
    const sshd = `${DEBIAN_SSHD}PasswordAuthentication no
Match Address 10.0.0.0/8,!10.9.9.9
    PasswordAuthentication yes
Match Group sshusers User *,!bruno
    MaxAuthTries 2
Match Host *.office.example
    PermitRootLogin yes
Match all
    PubkeyAuthentication yes
Match LocalPort 2222
    PubkeyAuthentication no
`;
    const root = instanceRoot({ sshd, shadow: { debian: HASH, root: HASH } });
    expect(passwordLogin(root, 'debian', '10.1.2.3').ok).toBe(true);
    expect(passwordLogin(root, 'debian', '10.1.2.3').reasons.join(' ')).toMatch(/PasswordAuthentication yes \(\/etc\/ssh\/sshd_config:10 \(Match Address 10.0.0.0\/8,!10.9.9.9\)\)/);
    expect(passwordLogin(root, 'debian', '10.9.9.9').ok).toBe(false);
    expect(passwordLogin(root, 'debian', BOTNET_ADDRESS).ok).toBe(false);
    // amira is a listed member of sshusers; bruno's primary group is sshusers but he is excluded.
    expect(sshdFor(root, { user: 'amira', address: OFFICE }).settings.maxauthtries).toBe('2');
    expect(sshdFor(root, { user: 'bruno', address: OFFICE }).settings.maxauthtries).toBe('6');
    expect(sshdFor(root, { user: 'debian', address: OFFICE }).settings.maxauthtries).toBe('6');
    expect(sshdFor(root, { user: 'root', address: OFFICE, host: 'pc1.office.example' }).settings.permitrootlogin).toBe('yes');
    expect(sshdFor(root, { user: 'root', address: OFFICE }).settings.permitrootlogin).toBe('prohibit-password');
    expect(sshdFor(root, { user: 'amira', address: OFFICE, localPort: 2222 }).settings.pubkeyauthentication).toBe('no');
    expect(sshdFor(root, { user: 'amira', address: OFFICE }).settings.pubkeyauthentication).toBe('yes');
    const c = { user: 'amira', address: '192.0.2.7', host: 'x.example', localAddress: '10.30.1.5', localPort: 22 };
    const amiraAcct = account(root, 'amira');
    expect(amiraAcct?.groups.sort()).toEqual(['amira', 'sshusers', 'sudo']);
    expect(account(root, 'bruno')?.groups).toEqual(['sshusers']);
    expect(matchSelects('User a?ira', c, amiraAcct)).toBe(true);
    expect(matchSelects('User *,!amira', c, amiraAcct)).toBe(false);
    expect(matchSelects('Group sudo,!nobody Address 192.0.2.0/24', c, amiraAcct)).toBe(true);
    expect(matchSelects('LocalAddress 10.30.0.0/16 LocalPort 22', c, amiraAcct)).toBe(true);
    expect(matchSelects('Group wheel', c, amiraAcct)).toBe(false);
  });

  it('root: PermitRootLogin no / prohibit-password / forced-commands-only refuse passwords; yes lets one in', () => {
    for (const v of ['no', 'prohibit-password', 'without-password', 'forced-commands-only']) {
      const r = instanceRoot({ dropIns: { '10-root.conf': `PermitRootLogin ${v}\nPasswordAuthentication yes\n` }, shadow: { root: HASH } });
      const p = passwordLogin(r, 'root', BOTNET_ADDRESS);
      expect(p.ok, v).toBe(false);
      expect(p.reasons.join(' ')).toMatch(/PermitRootLogin (no|prohibit-password|forced-commands-only) \(\/etc\/ssh\/sshd_config.d\/10-root.conf:1\)/);
    }
    const yes = instanceRoot({ dropIns: { '10-root.conf': 'PermitRootLogin yes\nPasswordAuthentication yes\n' }, shadow: { root: HASH } });
    expect(passwordLogin(yes, 'root', BOTNET_ADDRESS)).toMatchObject({ ok: true });
    // ... but root's password is '*' on the image: nothing to guess.
    const star = instanceRoot({ dropIns: { '10-root.conf': 'PermitRootLogin yes\nPasswordAuthentication yes\n' } });
    expect(passwordLogin(star, 'root', BOTNET_ADDRESS).reasons.join(' ')).toMatch(/locked or unset/);
  });

  it('accounts: locked/unset/empty passwords, PermitEmptyPasswords, nologin shells, AuthenticationMethods, Deny/AllowUsers', () => {
    const pwYes = { '50-cloud-init.conf': 'PasswordAuthentication yes\n' };
    for (const f of ['!', '*', '!*', `!${HASH}`]) expect(passwordLogin(instanceRoot({ dropIns: pwYes, shadow: { debian: f } }), 'debian', BOTNET_ADDRESS).ok, f).toBe(false);
    const empty = passwordLogin(instanceRoot({ dropIns: pwYes, shadow: { debian: '' } }), 'debian', BOTNET_ADDRESS);
    expect(empty.ok).toBe(false);
    expect(empty.reasons.join(' ')).toMatch(/empty and PermitEmptyPasswords no/);
    expect(passwordLogin(instanceRoot({ dropIns: { ...pwYes, '60-empty.conf': 'PermitEmptyPasswords yes\n' }, shadow: { debian: '' } }), 'debian', BOTNET_ADDRESS).ok).toBe(true);
    const nologin = passwordLogin(instanceRoot({ dropIns: pwYes, shadow: { debian: HASH }, shells: { debian: '/usr/sbin/nologin' } }), 'debian', BOTNET_ADDRESS);
    expect(nologin).toMatchObject({ ok: false });
    expect(nologin.reasons.join(' ')).toMatch(/nologin/);
    // keyboard-interactive asks the password through PAM.
    const kbd = instanceRoot({ dropIns: { '10-x.conf': 'PasswordAuthentication no\nKbdInteractiveAuthentication yes\n' }, shadow: { debian: HASH } });
    expect(passwordLogin(kbd, 'debian', BOTNET_ADDRESS).ok).toBe(true);
    const noPam = instanceRoot({ sshd: 'Include /etc/ssh/sshd_config.d/*.conf\nUsePAM no\n', dropIns: { '10-x.conf': 'PasswordAuthentication no\nKbdInteractiveAuthentication yes\n' }, shadow: { debian: HASH } });
    expect(passwordLogin(noPam, 'debian', BOTNET_ADDRESS).ok).toBe(false);
    const methods = instanceRoot({ dropIns: { ...pwYes, '60-am.conf': 'AuthenticationMethods publickey,password\n' }, shadow: { debian: HASH } });
    expect(passwordLogin(methods, 'debian', BOTNET_ADDRESS).reasons.join(' ')).toMatch(/AuthenticationMethods publickey,password requires more than a password/);
    const deny = instanceRoot({ dropIns: { ...pwYes, '60-deny.conf': 'DenyUsers deb*\nAllowUsers amira debian@203.0.113.0/24\n' }, shadow: { debian: HASH, amira: HASH } });
    expect(passwordLogin(deny, 'debian', OFFICE).reasons.join(' ')).toMatch(/DenyUsers deb\* refuses debian/);
    expect(passwordLogin(deny, 'amira', BOTNET_ADDRESS).ok).toBe(true);
    expect(passwordLogin(deny, 'bruno', BOTNET_ADDRESS).reasons.join(' ')).toMatch(/AllowUsers .* does not name bruno/);
    expect(passwordLogin(deny, 'nobody', BOTNET_ADDRESS).ok).toBe(false);
  });

  it('keys: authorized_keys with StrictModes, AllowGroups, PubkeyAcceptedAlgorithms, AuthorizedKeysFile tokens, restricted lines', () => {
    const root = instanceRoot({ dropIns: { [HARDENING]: HARD } });
    expect(keyLogin(root, 'amira', amira.publicKey, OFFICE)).toMatchObject({ ok: true, reasons: ['key in /home/amira/.ssh/authorized_keys:1', expect.stringMatching(/PubkeyAuthentication yes/)] });
    expect(keyLogin(root, 'bruno', bruno.publicKey, OFFICE).ok).toBe(true); // primary group sshusers
    expect(keyLogin(root, 'amira', bruno.publicKey, OFFICE).reasons.join(' ')).toMatch(/the key is in none of \/home\/amira\/.ssh\/authorized_keys, \/home\/amira\/.ssh\/authorized_keys2/);
    // debian holds amira's key but is not in sshusers.
    expect(keyLogin(root, 'debian', amira.publicKey, OFFICE).reasons.join(' ')).toMatch(/AllowGroups sshusers: debian is in none of them/);
    // cloud-init's disable_root line: a forced command, no shell.
    const r2 = instanceRoot({ dropIns: { '10-root.conf': 'PermitRootLogin prohibit-password\n' } });
    expect(keyLogin(r2, 'root', amira.publicKey, OFFICE).reasons.join(' ')).toMatch(/\/root\/.ssh\/authorized_keys:1: the key is restricted to command=/);
    expect(keyLogin(instanceRoot({ cloudInitRoot: false }), 'root', amira.publicKey, OFFICE).ok).toBe(true);
    expect(keyLogin(instanceRoot({ cloudInitRoot: false, dropIns: { [HARDENING]: HARD } }), 'root', amira.publicKey, OFFICE).reasons.join(' ')).toMatch(/PermitRootLogin no/);
    // StrictModes: a group-writable home, another owner.
    const loose = instanceRoot();
    chmodSync(path.join(loose, 'home/amira'), 0o775);
    const lr = keyLogin(loose, 'amira', amira.publicKey, OFFICE);
    expect(lr.ok).toBe(false);
    expect(lr.reasons.join(' ')).toMatch(/StrictModes: bad modes for folder \/home\/amira: 0775/);
    const off = instanceRoot({ dropIns: { '10-sm.conf': 'StrictModes no\n' } });
    chmodSync(path.join(off, 'home/amira'), 0o777);
    expect(keyLogin(off, 'amira', amira.publicKey, OFFICE).ok).toBe(true);
    if (process.getuid?.() === 0) {
      const owned = instanceRoot();
      chownSync(path.join(owned, 'home/amira/.ssh/authorized_keys'), 1002, 1100);
      expect(keyLogin(owned, 'amira', amira.publicKey, OFFICE).reasons.join(' ')).toMatch(/bad ownership of file \/home\/amira\/.ssh\/authorized_keys: uid 1002/);
    }
    chmodSync(path.join(loose, 'home/amira'), 0o755);
    chmodSync(path.join(loose, 'home/amira/.ssh/authorized_keys'), 0o666);
    expect(keyLogin(loose, 'amira', amira.publicKey, OFFICE).reasons.join(' ')).toMatch(/bad modes for file \/home\/amira\/.ssh\/authorized_keys: 0666/);
    // Algorithms, PubkeyAuthentication, central key files with %u, from=.
    expect(keyLogin(instanceRoot({ dropIns: { '10-alg.conf': 'PubkeyAcceptedAlgorithms -ssh-ed25519*\n' } }), 'amira', amira.publicKey, OFFICE).reasons.join(' ')).toMatch(/does not accept ssh-ed25519/);
    expect(keyLogin(instanceRoot({ dropIns: { '10-pk.conf': 'PubkeyAuthentication no\n' } }), 'amira', amira.publicKey, OFFICE).ok).toBe(false);
    const central = instanceRoot({ dropIns: { '10-akf.conf': 'AuthorizedKeysFile /etc/ssh/authorized_keys/%u\n' } });
    expect(keyLogin(central, 'amira', amira.publicKey, OFFICE).ok).toBe(false);
    mkdirSync(path.join(central, 'etc/ssh/authorized_keys'));
    writeFileSync(path.join(central, 'etc/ssh/authorized_keys/amira'), `from="203.0.113.0/24,!203.0.113.66" ${amira.publicKey}\n`, { mode: 0o644 });
    expect(keyLogin(central, 'amira', amira.publicKey, OFFICE)).toMatchObject({ ok: true, reasons: ['key in /etc/ssh/authorized_keys/amira:1', expect.any(String)] });
    expect(keyLogin(central, 'amira', amira.publicKey, '203.0.113.66').reasons.join(' ')).toMatch(/from=.* does not include 203.0.113.66/);
    // A locked account (cloud-init's lock_passwd "!") logs in with a key under PAM, not without it.
    const noPam = instanceRoot({ sshd: 'UsePAM no\n' });
    expect(keyLogin(noPam, 'amira', amira.publicKey, OFFICE).reasons.join(' ')).toMatch(/locked .* UsePAM no/);
    expect(parseAuthorizedKey('restrict,command="a b, c" ssh-ed25519 AAAA x y')).toMatchObject({ options: { restrict: true, command: 'a b, c' }, type: 'ssh-ed25519', blob: 'AAAA', comment: 'x y' });
  });
});

describe('scenario ssh-password-brute-force (host configuration)', () => {
  it('the image with cloud-init ssh_pwauth and a password on debian: not blocked, naming the user and file:line', () => {
    const weak = instanceRoot({ dropIns: CLOUD_INIT_PW, shadow: { debian: HASH } });
    const attempts = bruteForce(weak, ['amira', 'bruno']);
    expect(attempts.map((a) => a.user)).toEqual(['root', 'debian', 'amira', 'bruno', 'admin', 'ubuntu', 'test']);
    const r = judgeBruteForce(attempts.map((a) => ({ description: a.user, allowed: a.verdict.ok, at: 0 })), attempts);
    expect(r.blocked).toBe(false);
    expect(r.feedback).toMatch(/as debian \(PasswordAuthentication yes \(\/etc\/ssh\/sshd_config.d\/50-cloud-init.conf:1\)/);
    expect(r.feedback).not.toMatch(/as root/);
  });

  it('a hardening drop-in read first: blocked; a student account with a password is on the list too', () => {
    const hard = instanceRoot({ dropIns: { ...CLOUD_INIT_PW, [HARDENING]: HARD }, shadow: { debian: HASH, root: HASH, backup: HASH } });
    const attempts = bruteForce(hard, ['amira', 'bruno']);
    expect(attempts.every((a) => !a.verdict.ok)).toBe(true);
    expect(judgeBruteForce([], attempts).feedback).toMatch(/^blocked/);
    const extra = instanceRoot({ dropIns: CLOUD_INIT_PW, shadow: { bruno: HASH } });
    const a2 = bruteForce(extra, []);
    expect(a2.find((a) => a.user === 'bruno')).toMatchObject({ why: 'an account with a password', verdict: { ok: true } });
  });

  it('nothing to attack: not blocked, saying why', async () => {
    const s = { now: () => 0 } as unknown as LabSession;
    for (const sc of [sshPasswordBruteForceScenario, tlsDowngradeScenario, httpLoginInterceptionScenario]) {
      expect(sc.points).toEqual({ blocked: 10 });
      const r = await sc.observe(s, [], { error: 'no running instance is tagged Name=fabrikam-web' });
      expect(r).toMatchObject({ blocked: false, detected: false });
      expect(r.feedback).toMatch(/not blocked: .*no running instance is tagged Name=fabrikam-web/);
    }
    expect(sshPasswordBruteForceScenario.tasks).toEqual({ blocked: 'launch' });
    expect(tlsDowngradeScenario.tasks).toEqual({ blocked: 'tls' });
    expect(httpLoginInterceptionScenario.tasks).toEqual({ blocked: 'tls' });
  });
});

// ---- the web server for real -------------------------------------------------------------------------

const HOST = 'www.fabrikam-travel.example';
const NGINX_CONF = `user www-data;
events { worker_connections 64; }
http {
    include /etc/nginx/sites-enabled/*;
}
`;
const WEAK_SITE = `server {
    listen 80;
    server_name ${HOST};
    root /var/www/html;
}
server {
    listen 443 ssl;
    server_name ${HOST};
    root /var/www/html;
    ssl_certificate /etc/ssl/certs/www.pem;
    ssl_certificate_key /etc/ssl/private/www.key;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2;
    ssl_ciphers ALL:@SECLEVEL=0;
}
`;
const STRONG_SITE = `server {
    listen 80;
    listen [::]:80;
    server_name ${HOST};
    return 301 https://$host$request_uri;
}
server {
    listen 443 ssl;
    server_name ${HOST};
    root /var/www/html;
    ssl_certificate /etc/ssl/certs/www.pem;
    ssl_certificate_key /etc/ssl/private/www.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
    ssl_prefer_server_ciphers on;
    add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;
}
`;

const st = nginxStatus();
if (!st.installed) console.warn(`test/labs/host-scenarios-host: web server tests skipped: ${st.reason}`);

describe.skipIf(!st.installed)('scenarios tls-downgrade and http-login-interception against the real nginx', () => {
  let ca: CompanyCa;
  beforeAll(() => { ca = companyCa(path.join(tmp, 'company-ca')); });

  const webRoot = (site: string): string => {
    const root = path.join(tmp, `web-${++n}`);
    const leaf = issueServerCertificate(ca, HOST);
    const files: Record<string, string> = {
      'etc/nginx/nginx.conf': NGINX_CONF,
      'etc/nginx/sites-available/default': site,
      'var/www/html/index.html': '<h1>Fabrikam Travel</h1>\n',
      'var/www/html/login': '<form method="post"><input name="username"><input type="password" name="password"></form>\n',
      'etc/ssl/certs/www.pem': leaf.chainPem,
      'etc/ssl/private/www.key': leaf.keyPem,
    };
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      writeFileSync(path.join(root, f), text);
    }
    mkdirSync(path.join(root, 'etc/nginx/sites-enabled'), { recursive: true });
    symlinkSync('/etc/nginx/sites-available/default', path.join(root, 'etc/nginx/sites-enabled/default'));
    return root;
  };
  const withNginx = async <T>(root: string, fn: (s: NginxServer) => Promise<T>): Promise<T> => {
    const r = await startNginx(root);
    if (!r.ok) throw new Error(`${r.kind}: ${r.message}`);
    try { return await fn(r.server); } finally { await r.server.stop(); }
  };
  const stepsOf = (xs: { description: string; accepted?: boolean; allowed?: boolean }[]) => xs.map((x) => ({ description: x.description, allowed: !!(x.accepted ?? x.allowed), at: 0 }));

  it('weak config (TLSv1, TLSv1.1, ALL ciphers, no HSTS, port 80 serving the page): both not blocked, with the directives to fix', async () => {
    const root = webRoot(WEAK_SITE);
    await withNginx(root, async (server) => {
      const attempts = await downgradeAttempts(server.hostPort(443)!, { serverName: HOST });
      const got = Object.fromEntries(attempts.map((a) => [a.id, a.accepted]));
      expect(got).toMatchObject({ SSLv3: false, TLSv1: true, 'TLSv1.1': true, 'cbc-no-fs': true, fallback: false });
      const where = { ssl_protocols: describeDirective(server, 'ssl_protocols', 'unset'), ssl_ciphers: describeDirective(server, 'ssl_ciphers', 'unset') };
      expect(where.ssl_protocols).toBe('ssl_protocols TLSv1 TLSv1.1 TLSv1.2; (/etc/nginx/sites-enabled/default:12)');
      const r = judgeDowngrade(stepsOf(attempts), attempts, where);
      expect(r.blocked).toBe(false);
      expect(r.feedback).toMatch(/TLSv1 .*accepted — set `ssl_protocols TLSv1.2 TLSv1.3;` \(now: ssl_protocols TLSv1 TLSv1.1 TLSv1.2; \(\/etc\/nginx\/sites-enabled\/default:12\)\)/);
      expect(r.feedback).toMatch(/cbc-no-fs \(TLSv1.2 [A-Z0-9-]+\).* accepted at TLS 1.2 — set `ssl_ciphers ECDHE/);

      const out = await interceptLogin({ httpPort: server.hostPort(80)!, httpsPort: server.hostPort(443)!, hostName: HOST, ca: ca.certPem });
      const by = Object.fromEntries(out.attempts.map((a) => [a.id, a]));
      expect(by['first-visit-get']).toMatchObject({ allowed: true, detail: expect.stringMatching(/answered over plain HTTP \(200 with a login form/) });
      expect(by['returning-visitor']).toMatchObject({ allowed: true, detail: expect.stringMatching(/sends no Strict-Transport-Security/) });
      const j = judgeInterception(stepsOf(out.attempts), out, { http: 'the port 80 server', hsts: 'no add_header Strict-Transport-Security' });
      expect(j.blocked).toBe(false);
      expect(j.feedback).toMatch(/return 301 https:\/\/\$host\$request_uri/);
      expect(j.feedback).toMatch(/add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always/);
    });
  }, 90_000);

  it('TLS 1.2 only but nginx\'s default ciphers: CBC without forward secrecy still gets through', async () => {
    const root = webRoot(STRONG_SITE.replace(/\s*ssl_ciphers [^\n]*/, ''));
    await withNginx(root, async (server) => {
      const attempts = await downgradeAttempts(server.hostPort(443)!, { serverName: HOST });
      expect(attempts.filter((a) => a.accepted).map((a) => a.id)).toEqual(['cbc-no-fs']);
    });
  }, 60_000);

  it('strong config (TLS 1.2+, ECDHE AEAD only, 301 from port 80, HSTS a year with includeSubDomains): both blocked', async () => {
    const root = webRoot(STRONG_SITE);
    await withNginx(root, async (server) => {
      const attempts = await downgradeAttempts(server.hostPort(443)!, { serverName: HOST });
      expect(attempts.filter((a) => a.accepted)).toEqual([]);
      expect(attempts).toHaveLength(10);
      const r = judgeDowngrade(stepsOf(attempts), attempts, { ssl_protocols: describeDirective(server, 'ssl_protocols', 'unset'), ssl_ciphers: '' });
      expect(r.blocked).toBe(true);

      const out = await interceptLogin({ httpPort: server.hostPort(80)!, httpsPort: server.hostPort(443)!, hostName: HOST, ca: ca.certPem });
      expect(out.attempts.map((a) => [a.id, a.allowed])).toEqual([['first-visit-get', false], ['first-visit-post', false], ['returning-visitor', false]]);
      expect(out.attempts[0]!.detail).toBe(`port 80 answered 301 → https://${HOST}/login`);
      expect(out.notes.join(' ')).toMatch(/includeSubDomains: the subdomains are covered/);
      expect(judgeInterception(stepsOf(out.attempts), out, { http: '', hsts: '' }).blocked).toBe(true);
    });
  }, 60_000);

  it('HSTS: 6 months is enough (with a note), a day is not; a redirect to another host or to http:// is not a redirect to HTTPS', async () => {
    const sixMonths = webRoot(STRONG_SITE.replace('max-age=31536000; includeSubDomains', 'max-age=15768000'));
    await withNginx(sixMonths, async (server) => {
      const out = await interceptLogin({ httpPort: server.hostPort(80)!, httpsPort: server.hostPort(443)!, hostName: HOST, ca: ca.certPem });
      expect(out.attempts.every((a) => !a.allowed)).toBe(true);
      expect(out.notes.join(' ')).toMatch(/a year \(31536000\) is recommended.*add includeSubDomains/);
    });
    const aDay = webRoot(STRONG_SITE.replace('max-age=31536000; includeSubDomains', 'max-age=86400').replace('return 301 https://$host$request_uri;', 'return 301 http://evil.example/;'));
    await withNginx(aDay, async (server) => {
      const out = await interceptLogin({ httpPort: server.hostPort(80)!, httpsPort: server.hostPort(443)!, hostName: HOST, ca: ca.certPem });
      expect(out.attempts.map((a) => a.allowed)).toEqual([true, true, true]);
      expect(out.attempts[2]!.detail).toMatch(/max-age=86400 is under 6 months/);
    });
  }, 60_000);
});
