// The cloud-config modules of the user-data interpreter on a small synthetic root (no image, no shell:
// exec off), and write_files' containment: `..` and symbolic links planted in the root never lead out.
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyUserData } from '../../src/host/userdata/index.ts';

const made: string[] = [];
/** mkdtemp, removed after the file's tests. */
function tmp(prefix: string): string {
  const d = mkdtempSync(prefix);
  made.push(d);
  return d;
}
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function fakeRoot(): string {
  const r = tmp(path.join(os.tmpdir(), 'seclab-ud-'));
  for (const d of ['etc/ssh/sshd_config.d', 'etc/skel', 'etc/sudoers.d', 'etc/chrony', 'usr/share/zoneinfo/Europe', 'root', 'home', 'var/log', 'var/lib/cloud', 'usr/bin']) mkdirSync(path.join(r, d), { recursive: true });
  writeFileSync(path.join(r, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
  writeFileSync(path.join(r, 'etc/group'), 'root:x:0:\nadm:x:4:\ndialout:x:20:\nfloppy:x:25:\ncdrom:x:24:\nsudo:x:27:\naudio:x:29:\ndip:x:30:\nvideo:x:44:\nplugdev:x:46:\nnetdev:x:106:\nshadow:x:42:\nusers:x:100:\nnogroup:x:65534:\n');
  writeFileSync(path.join(r, 'etc/shadow'), 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n', { mode: 0o640 });
  writeFileSync(path.join(r, 'etc/gshadow'), 'root:*::\nadm:*::\nsudo:*::\nshadow:*::\nusers:*::\nnogroup:*::\n', { mode: 0o640 });
  writeFileSync(path.join(r, 'etc/skel/.bashrc'), '# bashrc\n');
  writeFileSync(path.join(r, 'etc/ssh/sshd_config'), 'Include /etc/ssh/sshd_config.d/*.conf\n#PasswordAuthentication yes\nKbdInteractiveAuthentication no\n');
  writeFileSync(path.join(r, 'etc/fstab'), '# /etc/fstab\nUUID=x / ext4 defaults 0 1\n');
  writeFileSync(path.join(r, 'usr/share/zoneinfo/Europe/Paris'), 'TZif');
  return r;
}

const apply = (root: string, ud: string) => applyUserData(root, ud, { exec: false, instanceId: 'i-0123456789abcdef0' });
const read = (root: string, p: string) => readFileSync(path.join(root, p), 'utf8');
const mode = (root: string, p: string) => statSync(path.join(root, p)).mode & 0o7777;

describe('cloud-config modules on a synthetic root', () => {
  it('write_files: content, b64, gzip, permissions, owner, append, defer', async () => {
    const r = fakeRoot();
    const gz = gzipSync('zipped\n').toString('base64');
    const res = await apply(r, `#cloud-config
users: [default]
write_files:
  - path: /etc/ssh/sshd_config.d/50-cis.conf
    content: "PermitRootLogin no\\n"
    permissions: '0600'
  - path: /etc/b64
    encoding: b64
    content: ${Buffer.from('decoded\n').toString('base64')}
  - path: /etc/gz
    encoding: gz+b64
    content: ${gz}
  - path: /etc/ssh/sshd_config
    append: true
    content: "MaxAuthTries 4\\n"
  - path: /home/debian/app.conf
    owner: debian:debian
    permissions: 0640
    defer: true
    content: x
  - path: /etc/too-early
    owner: debian:debian
    content: y
`);
    expect(read(r, 'etc/ssh/sshd_config.d/50-cis.conf')).toBe('PermitRootLogin no\n');
    expect(mode(r, 'etc/ssh/sshd_config.d/50-cis.conf')).toBe(0o600);
    expect(read(r, 'etc/b64')).toBe('decoded\n');
    expect(read(r, 'etc/gz')).toBe('zipped\n');
    expect(read(r, 'etc/ssh/sshd_config')).toMatch(/KbdInteractiveAuthentication no\nMaxAuthTries 4\n$/);
    const st = statSync(path.join(r, 'home/debian/app.conf'));
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([1000, 1000, 0o640]);
    // Not deferred: write_files runs before users are created, as on cloud-init: reported, not written.
    expect(existsSync(path.join(r, 'etc/too-early'))).toBe(false);
    const wf = res.modules.find((m) => m.module === 'write_files')!;
    expect(wf.status).toBe('failed');
    expect(wf.messages.join('\n')).toMatch(/no user debian.*use defer: true/);
    expect(res.modules.find((m) => m.module === 'write_files_deferred')!.status).toBe('ok');
  });

  it('write_files never leaves the root: .. and links planted in the root are resolved inside it', async () => {
    const r = fakeRoot();
    const outside = tmp(path.join(os.tmpdir(), 'seclab-outside-'));
    writeFileSync(path.join(outside, 'victim'), 'untouched\n');
    symlinkSync(outside, path.join(r, 'etc/escape'));           // absolute link to a host folder
    symlinkSync('../../../../../../..' + outside, path.join(r, 'etc/rel-escape'));
    symlinkSync(path.join(outside, 'victim'), path.join(r, 'etc/victim-link'));
    await apply(r, `#cloud-config
write_files:
  - { path: "/../../../../${outside}/victim", content: "pwned-dotdot\\n" }
  - { path: /etc/escape/victim, content: "pwned-abs\\n" }
  - { path: /etc/rel-escape/victim, content: "pwned-rel\\n" }
  - { path: /etc/victim-link, content: "pwned-final\\n" }
`);
    expect(read(outside, 'victim')).toBe('untouched\n');
    // `..` above / stays at /, and the links resolve inside the root: all three land at the same path
    // inside the root, as they would on the instance (the last one wins).
    expect(read(r, path.join(outside, 'victim'))).toBe('pwned-rel\n');
    // The final link is replaced by a file, not followed.
    expect(lstatSync(path.join(r, 'etc/victim-link')).isFile()).toBe(true);
  });

  it('users and groups: passwd, group, shadow (locked), home from skel, sudoers.d, authorized_keys', async () => {
    const r = fakeRoot();
    const res = await apply(r, `#cloud-config
groups:
  - admins
  - ops: [root]
users:
  - default
  - name: alice
    gecos: Alice
    shell: /bin/bash
    groups: [admins, sudo]
    sudo: ALL=(ALL) NOPASSWD:ALL
    ssh_authorized_keys: [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA alice@laptop" ]
  - name: svc
    system: true
    lock_passwd: true
  - name: bob
    hashed_passwd: "$6$salt$hash"
    lock_passwd: false
`);
    expect(res.modules.find((m) => m.module === 'users_groups')!.status).toBe('ok');
    const passwd = read(r, 'etc/passwd');
    // Groups are created first (admins 1000, ops 1001); then the named users; the default user last (as
    // cloud-init's normalize_users_groups orders them); a user's own group takes its uid when free.
    expect(passwd).toMatch(/^alice:x:1000:1002:Alice:\/home\/alice:\/bin\/bash$/m);
    expect(passwd).toMatch(/^svc:x:999:999::\/home\/svc:\/usr\/sbin\/nologin$/m);
    expect(passwd).toMatch(/^bob:x:1001:1003::/m);
    expect(passwd).toMatch(/^debian:x:1002:1004:Debian:\/home\/debian:\/bin\/bash$/m);
    const group = read(r, 'etc/group');
    expect(group).toMatch(/^sudo:x:27:alice,debian$/m);
    expect(group).toMatch(/^admins:x:\d+:alice$/m);
    expect(group).toMatch(/^ops:x:\d+:root$/m);
    const shadow = read(r, 'etc/shadow');
    expect(shadow).toMatch(/^alice:!:/m);
    expect(shadow).toMatch(/^bob:\$6\$salt\$hash:/m);
    expect(mode(r, 'etc/shadow')).toBe(0o640);
    expect(statSync(path.join(r, 'etc/shadow')).gid).toBe(42);
    expect(read(r, 'etc/sudoers.d/90-cloud-init-users')).toMatch(/^alice ALL=\(ALL\) NOPASSWD:ALL$[\s\S]*^debian ALL=\(ALL\) NOPASSWD:ALL$/m);
    expect(mode(r, 'etc/sudoers.d/90-cloud-init-users')).toBe(0o440);
    expect(read(r, 'home/alice/.ssh/authorized_keys')).toBe('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA alice@laptop\n');
    expect(mode(r, 'home/alice/.ssh')).toBe(0o700);
    expect(mode(r, 'home/alice/.ssh/authorized_keys')).toBe(0o600);
    expect(statSync(path.join(r, 'home/alice/.ssh/authorized_keys')).uid).toBe(1000);
    expect(read(r, 'home/alice/.bashrc')).toBe('# bashrc\n');
  });

  it('ssh_authorized_keys go to the default user; disable_root makes root\'s keys print a message; ssh_pwauth edits sshd_config', async () => {
    const r = fakeRoot();
    await apply(r, '#cloud-config\nssh_authorized_keys: ["ssh-ed25519 AAAA admin"]\nssh_pwauth: false\n');
    expect(read(r, 'home/debian/.ssh/authorized_keys')).toBe('ssh-ed25519 AAAA admin\n');
    expect(read(r, 'root/.ssh/authorized_keys')).toMatch(/^no-port-forwarding,.*command="echo 'Please login as the user \\"debian\\" rather than the user \\"root\\".';echo;sleep 10;exit 142" ssh-ed25519 AAAA admin$/m);
    // Debian 12's cloud-init puts it in a drop-in when sshd_config includes sshd_config.d (it does).
    expect(read(r, 'etc/ssh/sshd_config.d/50-cloud-init.conf')).toBe('PasswordAuthentication no\n');
    expect(mode(r, 'etc/ssh/sshd_config.d/50-cloud-init.conf')).toBe(0o600);
    expect(read(r, 'etc/ssh/sshd_config')).not.toMatch(/^PasswordAuthentication/m);
    const r3 = fakeRoot();
    writeFileSync(path.join(r3, 'etc/ssh/sshd_config'), 'PasswordAuthentication yes\nUsePAM yes\n');
    await apply(r3, '#cloud-config\nssh_pwauth: false\n');
    expect(read(r3, 'etc/ssh/sshd_config')).toBe('PasswordAuthentication no\nUsePAM yes\n');
    const r2 = fakeRoot();
    await apply(r2, '#cloud-config\nssh_authorized_keys: ["ssh-ed25519 AAAA admin"]\ndisable_root: false\n');
    expect(read(r2, 'root/.ssh/authorized_keys')).toBe('ssh-ed25519 AAAA admin\n');
  });

  it('timezone, ntp (chrony), mounts (fstab with comment=cloudconfig)', async () => {
    const r = fakeRoot();
    const res = await apply(r, `#cloud-config
timezone: Europe/Paris
ntp:
  enabled: true
  servers: [169.254.169.123]
mounts:
  - [ tmpfs, /tmp, tmpfs, "defaults,rw,nosuid,nodev,noexec,relatime", "0", "0" ]
`);
    expect(res.ok).toBe(true);
    expect(read(r, 'etc/timezone')).toBe('Europe/Paris\n');
    expect(readlinkSync(path.join(r, 'etc/localtime'))).toBe('/usr/share/zoneinfo/Europe/Paris');
    expect(read(r, 'etc/chrony/chrony.conf')).toMatch(/^server 169\.254\.169\.123 iburst$/m);
    expect(read(r, 'etc/fstab')).toMatch(/^tmpfs\t\/tmp\ttmpfs\tdefaults,rw,nosuid,nodev,noexec,relatime,comment=cloudconfig\t0\t0$/m);
    const bad = await apply(fakeRoot(), '#cloud-config\ntimezone: Mars/Olympus\n');
    expect(bad.modules.find((m) => m.module === 'timezone')!.status).toBe('failed');
  });

  it('unknown keys are warnings; shell parts are refused (not run) without execution, with the reason; the log is in the instance', async () => {
    const r = fakeRoot();
    const res = await apply(r, '#cloud-config\napt: {primary: []}\nfoo: 1\nfinal_message: done\nruncmd: [ "touch /ran" ]\npackages: [auditd]\n');
    expect(res.warnings.join('\n')).toMatch(/apt: this cloud-config key is not interpreted/);
    expect(res.warnings.join('\n')).toMatch(/foo: this cloud-config key is not interpreted/);
    expect(res.warnings.join('\n')).toMatch(/final_message: acts on a running machine/);
    expect(res.modules.find((m) => m.module === 'scripts_user')).toMatchObject({ status: 'refused' });
    expect(res.modules.find((m) => m.module === 'package_update_upgrade_install')).toMatchObject({ status: 'refused' });
    expect(res.ok).toBe(false);
    expect(existsSync(path.join(r, 'ran'))).toBe(false);
    const log = read(r, 'var/log/cloud-init-output.log');
    expect(log).toMatch(/\[scripts_user\] refused/);
    expect(log).toMatch(/WARNING: foo/);
    expect(read(r, 'var/lib/cloud/instances/i-0123456789abcdef0/scripts/runcmd')).toBe('#!/bin/sh\ntouch /ran\n');
    expect(mode(r, 'var/lib/cloud/instances/i-0123456789abcdef0/user-data.txt')).toBe(0o600);
    chmodSync(r, 0o755);
  });
});
