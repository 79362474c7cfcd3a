// A file-level CIS hardening of an instance's root filesystem (a copy of the base image): what an admin's
// user data would write. Used by the CIS tests and benchmark (engine vs OpenSCAP on a hardened host).
// It only writes files inside `root` (through writeInstanceFile, so links into the image are broken,
// never written through); it installs no package and runs nothing.

import { chmod, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeInstanceFile } from './image.ts';

const MODULES = ['cramfs', 'freevxfs', 'hfs', 'hfsplus', 'jffs2', 'usb-storage', 'overlay', 'udf', 'dccp', 'tipc', 'rds', 'sctp'];

const SYSCTL = `# CIS 1.5 and 3.3
kernel.randomize_va_space = 2
kernel.yama.ptrace_scope = 1
fs.suid_dumpable = 0
net.ipv4.ip_forward = 0
net.ipv6.conf.all.forwarding = 0
net.ipv4.conf.all.send_redirects = 0
net.ipv4.conf.default.send_redirects = 0
net.ipv4.icmp_ignore_bogus_error_responses = 1
net.ipv4.icmp_echo_ignore_broadcasts = 1
net.ipv4.conf.all.accept_redirects = 0
net.ipv4.conf.default.accept_redirects = 0
net.ipv6.conf.all.accept_redirects = 0
net.ipv6.conf.default.accept_redirects = 0
net.ipv4.conf.all.secure_redirects = 0
net.ipv4.conf.default.secure_redirects = 0
net.ipv4.conf.all.rp_filter = 1
net.ipv4.conf.default.rp_filter = 1
net.ipv4.conf.all.accept_source_route = 0
net.ipv4.conf.default.accept_source_route = 0
net.ipv6.conf.all.accept_source_route = 0
net.ipv6.conf.default.accept_source_route = 0
net.ipv4.conf.all.log_martians = 1
net.ipv4.conf.default.log_martians = 1
net.ipv4.tcp_syncookies = 1
net.ipv6.conf.all.accept_ra = 0
net.ipv6.conf.default.accept_ra = 0
`;

// The CIS sshd settings, put at the very top of sshd_config: sshd keeps the first value it reads, so
// they win over Debian's defaults further down and over the drop-ins its Include brings in.
const SSHD = `# CIS 5.1
Banner /etc/issue.net
Ciphers aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr,chacha20-poly1305@openssh.com
MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512,hmac-sha2-256
KexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp521,ecdh-sha2-nistp384,ecdh-sha2-nistp256,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256
ClientAliveInterval 300
ClientAliveCountMax 3
HostbasedAuthentication no
IgnoreRhosts yes
LoginGraceTime 60
LogLevel VERBOSE
MaxAuthTries 4
MaxSessions 10
MaxStartups 10:30:60
PermitEmptyPasswords no
PermitRootLogin no
PermitUserEnvironment no
UsePAM yes
DisableForwarding yes
GSSAPIAuthentication no
AllowGroups sudo admin
`;

const BANNER = 'Authorized uses only. All activity may be monitored and reported.\n';

const COMMON_AUTH = `# CIS 5.3.2: pam_faillock around pam_unix (the layout CIS and SSG describe for Debian)
auth\trequired\t\t\tpam_faillock.so preauth
auth\t[success=1 default=ignore]\tpam_unix.so
auth\t[default=die]\t\t\tpam_faillock.so authfail
auth\tsufficient\t\t\tpam_faillock.so authsucc
auth\trequisite\t\t\tpam_deny.so
auth\trequired\t\t\tpam_permit.so
`;
const COMMON_ACCOUNT = `account\t[success=1 new_authtok_reqd=done default=ignore]\tpam_unix.so
account\trequisite\t\t\tpam_deny.so
account\trequired\t\t\tpam_permit.so
account\trequired\t\t\tpam_faillock.so
`;
const COMMON_PASSWORD = `password\trequisite\t\t\tpam_pwhistory.so remember=24 enforce_for_root try_first_pass use_authtok
password\t[success=1 default=ignore]\tpam_unix.so obscure use_authtok try_first_pass yescrypt
password\trequisite\t\t\tpam_deny.so
password\trequired\t\t\tpam_permit.so
`;

async function editLines(root: string, rel: string, edit: (lines: string[]) => string[], mode?: number): Promise<void> {
  // writeInstanceFile keeps the file's owner, group and mode unless a mode is given.
  const p = path.join(root, rel);
  const text = await readFile(p, 'utf8').catch(() => '');
  await writeInstanceFile(root, rel, edit(text.split('\n')).join('\n'), mode);
}

function setKey(lines: string[], key: string, value: string, sep = '\t'): string[] {
  // Replace every active setting of the key (the last one would win anyway); append when there is none.
  const re = new RegExp(`^\\s*${key}\\b`);
  let done = false;
  const out = lines.map((l) => (re.test(l) ? ((done = true), `${key}${sep}${value}`) : l));
  return done ? out : [...out, `${key}${sep}${value}`];
}

/** Harden `root` (a copy of the base image) at file level. Returns the files written, inside the root. */
export async function hardenCis(root: string): Promise<string[]> {
  const w: string[] = [];
  const put = async (rel: string, text: string, mode?: number) => {
    await writeInstanceFile(root, rel, text, mode);
    w.push('/' + rel);
  };
  await put('etc/modprobe.d/60-cis.conf', MODULES.map((m) => `install ${m} /bin/false\nblacklist ${m}\n`).join(''));
  await editLines(root, 'etc/fstab', (ls) => [...ls.filter((l) => !/\s\/(tmp|dev\/shm)\s/.test(l) && l.trim() !== ''), 'tmpfs /tmp tmpfs defaults,rw,nosuid,nodev,noexec,relatime,size=1G 0 0', 'tmpfs /dev/shm tmpfs defaults,rw,nosuid,nodev,noexec,relatime 0 0', '']);
  w.push('/etc/fstab');
  await put('etc/sysctl.d/60-cis.conf', SYSCTL);
  await put('etc/security/limits.d/60-cis.conf', '* hard core 0\n');
  for (const f of ['etc/motd', 'etc/issue', 'etc/issue.net']) await put(f, BANNER);
  // At the top of sshd_config itself (first value wins, before Debian's Include of sshd_config.d):
  // SSG's Debian 12 checks read only this file, so both scanners see the same settings.
  await editLines(root, 'etc/ssh/sshd_config', (ls) => [...SSHD.trimEnd().split('\n'), ...ls.filter((l) => !l.startsWith('# CIS 5.1'))], 0o600);
  w.push('/etc/ssh/sshd_config');
  await put('etc/sudoers.d/60-cis', 'Defaults use_pty\nDefaults logfile="/var/log/sudo.log"\n', 0o440);
  await editLines(root, 'etc/pam.d/su', (ls) => [...ls.filter((l) => !/pam_wheel\.so/.test(l)), 'auth       required   pam_wheel.so use_uid group=sugroup', '']);
  await editLines(root, 'etc/group', (ls) => [...ls.filter((l) => l.trim() && !l.startsWith('sugroup:')), 'sugroup:x:990:', '']);
  await editLines(root, 'etc/gshadow', (ls) => [...ls.filter((l) => l.trim() && !l.startsWith('sugroup:')), 'sugroup:!::', '']);
  await put('etc/pam.d/common-auth', COMMON_AUTH);
  await put('etc/pam.d/common-account', COMMON_ACCOUNT);
  await put('etc/pam.d/common-password', COMMON_PASSWORD);
  await put('etc/security/faillock.conf', 'deny = 5\nunlock_time = 900\n');
  await editLines(root, 'etc/login.defs', (ls) => setKey(setKey(setKey(ls, 'PASS_MAX_DAYS', '365'), 'UMASK', '027'), 'ENCRYPT_METHOD', 'YESCRYPT'));
  await editLines(root, 'etc/default/useradd', (ls) => setKey(ls, 'INACTIVE', '45', '='));
  await put('etc/profile.d/60-cis.sh', 'readonly TMOUT=900 ; export TMOUT\numask 027\n');
  for (const f of ['etc/profile', 'etc/bash.bashrc']) await editLines(root, f, (ls) => [...ls.filter((l) => !/^\s*umask\s/.test(l)), 'umask 027', '']);
  await put('etc/systemd/journald.conf.d/60-cis.conf', '[Journal]\nStorage=persistent\nCompress=yes\nForwardToSyslog=no\n');
  for (const d of ['etc/cron.hourly', 'etc/cron.daily', 'etc/cron.weekly', 'etc/cron.monthly', 'etc/cron.d']) await chmod(path.join(root, d), 0o700).catch(() => {});
  await chmod(path.join(root, 'etc/crontab'), 0o600).catch(() => {});
  await put('etc/cron.allow', 'root\n', 0o640);
  w.push('/etc/login.defs', '/etc/default/useradd', '/etc/pam.d/su', '/etc/group', '/etc/gshadow', '/etc/profile', '/etc/bash.bashrc');
  return w;
}
