// The interpreter against the real thing: the image ships cloud-init 22.4.2 (Debian 12's), so the same
// user data is given to the real cloud-init — run on a copy of the image inside the sandbox, from a
// NoCloud seed, stages init-local, init, config and final as on a first boot — and to seclab's
// interpreter on another copy; the files both write must be the same (owners and modes included).
// Skipped with the reason when the image is not built or bubblewrap cannot run.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageStatus } from '../../src/host/image.ts';
import { applyUserData, probeExec, runInRoot } from '../../src/host/userdata/index.ts';

const status = await imageStatus();
const probe = probeExec();
const skip = !status.built ? `the Debian 12 image is not built (${status.path})` : !probe.ok ? probe.detail : '';
if (skip) console.warn(`test/host/cloud-init-diff: skipped: ${skip}`);

const USER_DATA = `#cloud-config
groups:
  - webadmins
users:
  - default
  - name: alice
    gecos: Alice Admin
    shell: /bin/bash
    groups: [sudo, webadmins]
    sudo: "ALL=(ALL) NOPASSWD:ALL"
    ssh_authorized_keys: [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAlice alice@laptop" ]
  - name: deploy
    system: true
    shell: /usr/sbin/nologin
ssh_authorized_keys: [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdmin admin@corp" ]
ssh_pwauth: false
disable_root: true
write_files:
  - path: /etc/ssh/sshd_config.d/10-cis.conf
    permissions: '0600'
    content: |
      PermitRootLogin no
      MaxAuthTries 4
  - path: /etc/login.defs
    append: true
    content: |
      PASS_MAX_DAYS 365
      PASS_MIN_DAYS 1
  - path: /etc/sysctl.d/60-cis.conf
    content: |
      net.ipv4.ip_forward = 0
  - path: /etc/issue.net
    content: "Authorized users only.\\n"
    append: true
  - path: /home/alice/app.env
    owner: alice:alice
    permissions: '0640'
    defer: true
    content: MODE=prod
  - path: /opt/app/config.b64
    encoding: b64
    content: ${Buffer.from('decoded\n').toString('base64')}
timezone: Europe/Paris
ntp:
  enabled: true
  servers: [169.254.169.123]
mounts:
  - [ tmpfs, /tmp, tmpfs, "defaults,rw,nosuid,nodev,noexec,relatime", "0", "0" ]
runcmd:
  - systemctl disable cron
  - [ sh, -c, "echo ran > /root/runcmd-ran" ]
`;

const EXACT = ['etc/passwd', 'etc/group', 'etc/gshadow', 'etc/ssh/sshd_config', 'etc/ssh/sshd_config.d/10-cis.conf', 'etc/ssh/sshd_config.d/50-cloud-init.conf',
  'etc/sysctl.d/60-cis.conf', 'etc/issue.net', 'home/alice/app.env', 'opt/app/config.b64', 'home/alice/.ssh/authorized_keys', 'home/debian/.ssh/authorized_keys',
  'root/.ssh/authorized_keys', 'etc/timezone', 'etc/fstab', 'etc/hostname', 'root/runcmd-ran', 'home/alice/.bashrc'];
const MODES = [...EXACT, 'etc/shadow', 'etc/sudoers.d/90-cloud-init-users', 'home/alice', 'home/alice/.ssh', 'home/debian', 'home/debian/.ssh', 'root/.ssh', 'opt/app'];

describe.skipIf(!!skip)('seclab\'s interpreter and the real cloud-init 22.4.2 write the same files', { timeout: 240_000 }, () => {
  let dir: string;
  let real: string;
  let ours: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'seclab-ci-diff-'));
    real = path.join(dir, 'real');
    ours = path.join(dir, 'ours');
    execFileSync('cp', ['-a', '--reflink=auto', status.path, real]);
    execFileSync('cp', ['-a', '--reflink=auto', status.path, ours]);
    // The real cloud-init, from a NoCloud seed, the four stages of a first boot, inside the sandbox.
    mkdirSync(path.join(real, 'var/lib/cloud/seed/nocloud'), { recursive: true });
    writeFileSync(path.join(real, 'var/lib/cloud/seed/nocloud/user-data'), USER_DATA);
    writeFileSync(path.join(real, 'var/lib/cloud/seed/nocloud/meta-data'), 'instance-id: i-0123456789abcdef0\nlocal-hostname: ip-10-0-0-10\n');
    writeFileSync(path.join(real, 'etc/cloud/cloud.cfg.d/99-seclab-test.cfg'), 'datasource_list: [ NoCloud, None ]\n');
    const r = await runInRoot(real, ['/bin/sh', '-c', 'cloud-init init --local && cloud-init init && cloud-init modules --mode config; cloud-init modules --mode final'], { limits: { timeoutMs: 180_000, outputBytes: 8 * 1024 * 1024 } });
    if (r.code !== 0) console.warn(r.output.slice(-3000));
    const res = await applyUserData(ours, USER_DATA, { instanceId: 'i-0123456789abcdef0', localHostname: 'ip-10-0-0-10' });
    if (!res.ok) console.warn(res.log);
  }, 240_000);
  afterAll(() => { if (!process.env.SECLAB_KEEP) rmSync(dir, { recursive: true, force: true }); });

  const text = (root: string, p: string) => (existsSync(path.join(root, p)) ? readFileSync(path.join(root, p), 'utf8') : '<missing>');
  const meta = (root: string, p: string) => {
    try {
      const st = lstatSync(path.join(root, p));
      return `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
    } catch {
      return '<missing>';
    }
  };

  it.each(EXACT)('%s: same content', (p) => {
    expect(text(ours, p)).toBe(text(real, p));
  });

  it.each(MODES)('%s: same mode and owner', (p) => {
    expect(meta(ours, p)).toBe(meta(real, p));
  });

  it('/etc/shadow: same entries (the day of the last change aside)', () => {
    const norm = (s: string) => s.split('\n').map((l) => l.split(':').filter((_, i) => i !== 2).join(':')).join('\n');
    expect(norm(text(ours, 'etc/shadow'))).toBe(norm(text(real, 'etc/shadow')));
    // useradd read the login.defs write_files changed before users were created (write_files runs first).
    expect(text(real, 'etc/shadow')).toMatch(/^alice:!:\d+:1:365:7:::$/m);
  });

  it('sudoers rules, chrony servers, time zone link, disabled service: the same', () => {
    const rules = (s: string) => s.split('\n').filter((l) => l && !l.startsWith('# Created by cloud-init')).join('\n');
    expect(rules(text(ours, 'etc/sudoers.d/90-cloud-init-users'))).toBe(rules(text(real, 'etc/sudoers.d/90-cloud-init-users')));
    const directives = (s: string) => s.split('\n').filter((l) => l.trim() && !l.startsWith('#')).join('\n');
    expect(directives(text(ours, 'etc/chrony/chrony.conf'))).toBe(directives(text(real, 'etc/chrony/chrony.conf')));
    expect(readlinkSync(path.join(ours, 'etc/localtime'))).toBe(readlinkSync(path.join(real, 'etc/localtime')));
    expect(existsSync(path.join(ours, 'etc/systemd/system/multi-user.target.wants/cron.service'))).toBe(false);
    expect(lstatSync(path.join(real, 'etc/systemd/system/multi-user.target.wants')).isDirectory()).toBe(true);
  });
});
