// labs/host/ssh.ts sshdFor against the real sshd of the Debian 12 image: `sshd -T -C user=…,addr=…,
// host=…,laddr=…,lport=22` run in bubblewrap with the image as / and the test's /etc/ssh, /etc/passwd,
// /etc/group and /etc/shadow bound over it, on configurations with drop-ins, Match blocks (User,
// Group, Address with CIDR and negation, Host, LocalPort, Match all) and an Include inside a Match.
// Skipped with the reason when the image or bubblewrap is missing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imagePath } from '../../src/host/image.ts';
import { probeExec } from '../../src/host/userdata/sandbox.ts';
import { sshdFor, SSH_KEYWORDS, type Connection } from '../../labs/host/ssh.ts';

const image = imagePath();
const exec = probeExec();
const skip = !existsSync(path.join(image, 'usr/sbin/sshd'))
  ? `the Debian 12 image is not built (${image}/usr/sbin/sshd missing): npx tsx src/host/build.ts`
  : !exec.ok ? `bubblewrap cannot run here: ${exec.detail}` : '';
if (skip) console.warn(`test/host/ssh: sshd -T comparison skipped: ${skip}`);

const DEBIAN_SSHD = `Include /etc/ssh/sshd_config.d/*.conf
KbdInteractiveAuthentication no
UsePAM yes
X11Forwarding yes
PrintMotd no
AcceptEnv LANG LC_*
Subsystem\tsftp\t/usr/lib/openssh/sftp-server
`;
const PASSWD = `root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
debian:x:1000:1000:Debian:/home/debian:/bin/bash
amira:x:1001:1001:Amira Haddad:/home/amira:/bin/bash
bruno:x:1002:1002:Bruno Costa:/home/bruno:/bin/bash
eve:x:1003:100:Eve:/home/eve:/bin/bash
sshd:x:105:65534::/run/sshd:/usr/sbin/nologin
`;
const GROUP = `root:x:0:
daemon:x:1:
users:x:100:
sudo:x:27:debian,amira
debian:x:1000:
amira:x:1001:
bruno:x:1002:
sshusers:x:1100:amira,bruno
`;
const SHADOW = 'root:*:20000:0:99999:7:::\ndebian:!:20000::::::\namira:!:20000::::::\nbruno:!:20000::::::\neve:$6$x$y:20000::::::\n';

/** name → files under etc/ssh (sshd_config and drop-ins). */
const CONFIGS: Record<string, Record<string, string>> = {
  'drop-ins (first value wins, 10-* before 50-cloud-init)': {
    sshd_config: DEBIAN_SSHD,
    'sshd_config.d/50-cloud-init.conf': 'PasswordAuthentication yes\n',
    'sshd_config.d/10-hardening.conf': 'PermitRootLogin no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nMaxAuthTries 4\nAllowGroups sshusers sudo\nAllowUsers amira bruno@203.0.113.0/24\nDenyUsers eve\nPubkeyAcceptedAlgorithms -ssh-rsa*,rsa-sha2-256\nAuthenticationMethods publickey\n',
    'sshd_config.d/zz-late.conf': 'MaxAuthTries 10\nPermitRootLogin yes\nAllowGroups users\n',
  },
  'Match blocks': {
    sshd_config: `${DEBIAN_SSHD}PasswordAuthentication no
PermitRootLogin prohibit-password
AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/keys/%u
Match User amira,!bruno Address 10.0.0.0/8
    PasswordAuthentication yes
    MaxAuthTries 3
Match Group sshusers
    PasswordAuthentication yes
    AllowUsers amira
    AllowUsers bruno
    AuthorizedKeysFile /etc/ssh/authorized/%u
Match Address 203.0.113.0/24,!203.0.113.66
    PermitRootLogin without-password
    AuthenticationMethods publickey,password publickey,keyboard-interactive
Match Host *.office.example LocalPort 22
    PermitEmptyPasswords yes
    DenyGroups sudo
Match all
    PubkeyAuthentication yes
Match LocalPort 2222
    PubkeyAuthentication no
`,
    'sshd_config.d/05-first.conf': 'MaxAuthTries 5\nChallengeResponseAuthentication yes\n',
  },
  'Include inside a Match block': {
    sshd_config: `Include /etc/ssh/sshd_config.d/*.conf
UsePAM yes
Match Address 198.51.100.0/24
    Include /etc/ssh/match.d/*.conf
Match User !bruno
    MaxAuthTries 9
Match User debian
    PermitRootLogin forced-commands-only
    PasswordAuthentication no
`,
    'sshd_config.d/20-base.conf': 'PasswordAuthentication yes\nPubkeyAcceptedKeyTypes +ssh-dss\n',
    'match.d/a.conf': 'PasswordAuthentication no\nDenyUsers root\nPermitRootLogin no\n',
  },
};

const CONNECTIONS: Connection[] = [
  { user: 'amira', address: '10.1.2.3' },
  { user: 'bruno', address: '10.1.2.3' },
  { user: 'bruno', address: '203.0.113.5' },
  { user: 'root', address: '203.0.113.66' },
  { user: 'root', address: '203.0.113.7' },
  { user: 'debian', address: '198.51.100.9', host: 'laptop.office.example' },
  { user: 'eve', address: '192.0.2.1', host: 'x.office.example' },
  { user: 'nobody-here', address: '198.51.100.1' },
];

describe.skipIf(!!skip)('sshdFor agrees with sshd -T (Debian 12 image)', () => {
  let tmp: string;
  let hostKey: string;
  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'seclab-sshd-'));
    mkdirSync(path.join(tmp, 'keys'));
    // A throwaway host key, made by the image's own ssh-keygen (sshd -T wants one).
    const r = spawnSync(exec.bwrap!, ['--ro-bind', image, '/', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--bind', path.join(tmp, 'keys'), '/tmp/out', '--unshare-all', '--die-with-parent', '--', '/usr/bin/ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', '/tmp/out/hk'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
    hostKey = path.join(tmp, 'keys/hk');
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const rootFor = (name: string, files: Record<string, string>): string => {
    const root = path.join(tmp, name.replace(/\W+/g, '-'));
    for (const [f, text] of Object.entries({ 'etc/passwd': PASSWD, 'etc/group': GROUP, 'etc/shadow': SHADOW, ...Object.fromEntries(Object.entries(files).map(([k, v]) => [`etc/ssh/${k}`, v])) })) {
      mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      writeFileSync(path.join(root, f), text);
    }
    mkdirSync(path.join(root, 'etc/ssh/sshd_config.d'), { recursive: true });
    return root;
  };

  const sshdT = (root: string | undefined, c: Connection): Record<string, string> => {
    const spec = `user=${c.user},addr=${c.address},host=${c.host ?? c.address},laddr=10.0.0.10,lport=${c.localPort ?? 22}`;
    const r = spawnSync(exec.bwrap!, [
      '--ro-bind', image, '/',
      ...(root ? ['--ro-bind', path.join(root, 'etc/ssh'), '/etc/ssh', ...['passwd', 'group', 'shadow'].flatMap((f) => ['--ro-bind', path.join(root, 'etc', f), `/etc/${f}`])] : []),
      '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--tmpfs', '/run', '--dir', '/run/sshd', '--ro-bind', hostKey, '/run/hk',
      '--unshare-all', '--die-with-parent', '--', '/usr/sbin/sshd', '-T', '-f', '/etc/ssh/sshd_config', '-h', '/run/hk', '-C', spec,
    ], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`sshd -T -C ${spec}: ${r.stderr}`);
    const out: Record<string, string[]> = {};
    for (const line of r.stdout.split('\n')) {
      const m = /^(\S+)\s*(.*)$/.exec(line);
      if (m) (out[m[1]!] ??= []).push(m[2]!);
    }
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(out)) flat[k] = v.join(' ');
    if (flat.permitrootlogin === 'without-password') flat.permitrootlogin = 'prohibit-password';
    for (const k of ['allowusers', 'allowgroups', 'denyusers', 'denygroups']) flat[k] ??= '';
    return flat;
  };

  it("the image's own configuration (Debian's sshd_config, no drop-in)", () => {
    for (const c of [{ user: 'root', address: '198.51.100.23' }, { user: 'debian', address: '203.0.113.10' }]) {
      const real = sshdT(undefined, c);
      const ours = sshdFor(image, c).settings;
      for (const k of SSH_KEYWORDS) expect(`${k} ${ours[k]}`).toBe(`${k} ${real[k]}`);
    }
  });

  for (const [name, files] of Object.entries(CONFIGS)) {
    it(name, () => {
      const root = rootFor(name, files);
      const diffs: string[] = [];
      let compared = 0;
      for (const c of CONNECTIONS) {
        const real = sshdT(root, c);
        const ours = sshdFor(root, c).settings;
        for (const k of SSH_KEYWORDS) {
          compared++;
          if (real[k] !== ours[k]) diffs.push(`${c.user}@${c.address} ${k}: sshd -T "${real[k]}", sshdFor "${ours[k]}"`);
        }
      }
      expect(diffs).toEqual([]);
      expect(compared).toBe(CONNECTIONS.length * SSH_KEYWORDS.length);
    });
  }
});
