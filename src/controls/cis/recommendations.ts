// The file-checkable recommendations of the CIS Debian Linux 12 Benchmark v1.1.0 (Level 1 and Level 2 -
// Server). Numbers follow the benchmark; titles, rationales and remediations are seclab's own short
// wording (the benchmark's text is CIS's copyright: read it at cisecurity.org). Each check reads the
// folder only; what needs a running system says so in its result.

import { pamArg, pamStack, pwquality, keyValues, sudoersLines, systemdConf, type PamLine } from './config.ts';
import type { ScanContext } from './context.ts';
import {
  all, checkMode, eq, fail, fileMode, manual, moduleRec, mountOptionRec, na, packageInstalled, packagesAbsent, partitionRec,
  pass, pkgEvidence, rec, serviceNotInUse, sshdAlgorithmsRec, sshdRec, sshdSeconds, sshdValue, sysctlRec,
} from './helpers.ts';
import type { Line } from './rootfs.ts';
import { ev, type Evidence, type Outcome, type Recommendation } from './types.ts';

const L2 = 'level2-server' as const;
const num = (v: string | undefined) => (v === undefined || v.trim() === '' ? NaN : Number(v));

// ------------------------------------------------------------------------------------------ 1 Initial setup

const MODULE_RATIONALE = 'A file system or driver the server never uses is attack surface: a crafted image or device could exercise a kernel bug in it.';
const moduleFix = (m: string) => `Add "install ${m} /bin/false" and "blacklist ${m}" to a file in /etc/modprobe.d/ (e.g. /etc/modprobe.d/${m}.conf), and unload it with "modprobe -r ${m}" on the running host.`;

const mod = (id: string, m: string, what: string, profile?: typeof L2) => moduleRec({ id, title: `The ${m} kernel module (${what}) cannot be loaded`, rationale: MODULE_RATIONALE, remediation: moduleFix(m), ...(profile ? { profile } : {}) }, m);

const PARTITION_RATIONALE = 'A separate file system can be mounted with restrictive options and cannot fill the root file system.';
const OPTION_RATIONALE: Record<string, string> = {
  nodev: 'nodev stops device files created there from giving access to raw devices.',
  nosuid: 'nosuid stops set-user-ID programs placed there from gaining privileges.',
  noexec: 'noexec stops programs from being run directly from there (a common staging place for attackers).',
};
const mountOpts = (base: string, mp: string, opts: [string, string][], partitionId?: string, partitionProfile?: typeof L2): Recommendation[] => [
  ...(partitionId ? [partitionRec({ id: partitionId, title: `${mp} is a separate file system`, rationale: PARTITION_RATIONALE, remediation: `Mount ${mp} separately: an /etc/fstab entry (or, for /tmp, enable systemd's tmp.mount) with the options below.`, ...(partitionProfile ? { profile: partitionProfile } : {}) }, mp)] : []),
  ...opts.map(([id, o]) => mountOptionRec({ id, title: `${mp} is mounted with ${o}`, rationale: OPTION_RATIONALE[o]!, remediation: `Add ${o} to the options of ${mp} in /etc/fstab (or its mount unit) and remount: mount -o remount ${mp}.` }, mp, o)),
];

const BANNER_BAD = /\\[mrsv]|debian|gnu\/linux/i;
function banner(ctx: ScanContext, file: string): Outcome {
  const text = ctx.fs.read(file);
  if (text === null) return pass(`${file} does not exist`, [{ file }]);
  const lines = ctx.fs.lines(file);
  const bad = lines.filter((l) => BANNER_BAD.test(l.text));
  if (bad.length) return fail(`${file} reveals the operating system or version (escape sequences \\m \\r \\s \\v or the OS name)`, ev(...bad));
  if (!text.trim()) return pass(`${file} is empty`, [{ file }]);
  return pass(`${file} states the site's policy without revealing the system`, ev(lines[0]));
}

function grubCfg(ctx: ScanContext): string | undefined {
  return ['/boot/grub/grub.cfg', '/boot/grub2/grub.cfg'].find((p) => ctx.fs.exists(p));
}

const initialSetup: Recommendation[] = [
  mod('1.1.1.1', 'cramfs', 'compressed ROM file system'),
  mod('1.1.1.2', 'freevxfs', 'Veritas file system'),
  mod('1.1.1.3', 'hfs', 'Apple HFS'),
  mod('1.1.1.4', 'hfsplus', 'Apple HFS+'),
  mod('1.1.1.5', 'jffs2', 'flash file system'),
  mod('1.1.1.6', 'overlay', 'overlay file system', L2),
  mod('1.1.1.8', 'udf', 'DVD file system', L2),
  mod('1.1.1.9', 'usb-storage', 'USB mass storage'),
  rec({ id: '1.1.1.10', title: 'File system modules nobody uses are not available', assessment: 'manual', rationale: MODULE_RATIONALE, remediation: 'List /lib/modules/$(uname -r)/kernel/fs on the host, and disable those the server does not mount as for 1.1.1.1.' }, (ctx) =>
    manual(ctx.fs.list('/lib/modules').length ? 'a person decides which file systems are needed' : 'the folder has no kernel modules (/lib/modules is empty): review them on the running instance', [{ file: '/lib/modules' }])),
  ...mountOpts('tmp', '/tmp', [['1.1.2.1.2', 'nodev'], ['1.1.2.1.3', 'nosuid'], ['1.1.2.1.4', 'noexec']], '1.1.2.1.1'),
  ...mountOpts('shm', '/dev/shm', [['1.1.2.2.2', 'nodev'], ['1.1.2.2.3', 'nosuid'], ['1.1.2.2.4', 'noexec']], '1.1.2.2.1'),
  ...mountOpts('home', '/home', [['1.1.2.3.2', 'nodev'], ['1.1.2.3.3', 'nosuid']], '1.1.2.3.1', L2),
  ...mountOpts('var', '/var', [['1.1.2.4.2', 'nodev'], ['1.1.2.4.3', 'nosuid']], '1.1.2.4.1', L2),
  ...mountOpts('vartmp', '/var/tmp', [['1.1.2.5.2', 'nodev'], ['1.1.2.5.3', 'nosuid'], ['1.1.2.5.4', 'noexec']], '1.1.2.5.1', L2),
  ...mountOpts('varlog', '/var/log', [['1.1.2.6.2', 'nodev'], ['1.1.2.6.3', 'nosuid'], ['1.1.2.6.4', 'noexec']], '1.1.2.6.1', L2),
  ...mountOpts('audit', '/var/log/audit', [['1.1.2.7.2', 'nodev'], ['1.1.2.7.3', 'nosuid'], ['1.1.2.7.4', 'noexec']], '1.1.2.7.1', L2),
  rec({ id: '1.2.1.1', title: 'Package signing keys are the ones intended', assessment: 'manual', rationale: 'apt only trusts packages signed by keys it knows; a foreign key lets its owner ship anything.', remediation: 'Review /etc/apt/trusted.gpg.d, /usr/share/keyrings and the Signed-By of each source; remove keys nobody vouches for.' }, (ctx) =>
    manual('a person reviews the keys', [...ctx.fs.listFiles('/etc/apt/trusted.gpg.d').map((file) => ({ file })), { file: '/etc/apt/sources.list' }])),
  rec({ id: '1.2.1.2', title: 'Package repositories are the ones intended', assessment: 'manual', rationale: 'Packages come from the configured sources: an unexpected one can serve tampered software.', remediation: 'Review /etc/apt/sources.list and /etc/apt/sources.list.d/.' }, (ctx) => {
    const lines = [...ctx.fs.lines('/etc/apt/sources.list'), ...ctx.fs.listFiles('/etc/apt/sources.list.d').flatMap((f) => ctx.fs.lines(f))].filter((l) => /^\s*(deb|URIs:)/.test(l.text));
    return manual(`${lines.length} source line(s) for a person to review`, ev(...lines));
  }),
  rec({ id: '1.2.2.1', title: 'Updates and security patches are installed', assessment: 'manual', rationale: 'Known vulnerabilities are fixed by updates.', remediation: 'apt update && apt upgrade on the host (unattended-upgrades keeps security updates coming).' }, () =>
    manual('needs a running system with network access to the archive (apt list --upgradable)', [])),
  packageInstalled({ id: '1.3.1.1', title: 'AppArmor is installed', rationale: 'A mandatory access control system confines programs even when they run as root.', remediation: 'apt install apparmor apparmor-utils' }, ['apparmor', 'apparmor-utils']),
  rec({ id: '1.3.1.2', title: 'AppArmor is enabled on the kernel command line', rationale: 'AppArmor only confines processes when the kernel starts with it.', remediation: 'Add apparmor=1 security=apparmor to GRUB_CMDLINE_LINUX in /etc/default/grub and run update-grub.' }, (ctx) => {
    const cfg = grubCfg(ctx);
    if (!cfg) return manual('the folder has no boot loader configuration (/boot/grub/grub.cfg): check the instance\'s kernel command line', [{ file: '/boot/grub/grub.cfg' }]);
    const linux = ctx.fs.lines(cfg).filter((l) => /^\s*linux\s/.test(l.text));
    const bad = linux.filter((l) => !/\bapparmor=1\b/.test(l.text) || !/\bsecurity=apparmor\b/.test(l.text));
    return bad.length ? fail('kernel lines without apparmor=1 security=apparmor', ev(...bad)) : pass('every kernel line enables AppArmor', ev(...linux));
  }),
  rec({ id: '1.3.1.3', title: 'AppArmor profiles are in enforce or complain mode', rationale: 'A profile that is not loaded confines nothing.', remediation: 'aa-enforce /etc/apparmor.d/* (or aa-complain while tuning).' }, () =>
    manual('profile modes are a property of the running kernel (aa-status)', [])),
  rec({ id: '1.4.1', title: 'The boot loader has a password', rationale: 'Without one, anyone at the console can boot into single-user mode or change kernel options.', remediation: 'Set a superuser and password_pbkdf2 in /etc/grub.d/40_custom (grub-mkpasswd-pbkdf2) and run update-grub.' }, (ctx) => {
    const cfg = grubCfg(ctx);
    if (!cfg) return manual('the folder has no boot loader configuration: on EC2 the console is the serial console; check the instance', [{ file: '/boot/grub/grub.cfg' }]);
    const su = ctx.fs.lines(cfg).find((l) => /^\s*set\s+superusers=/.test(l.text));
    const pw = ctx.fs.lines(cfg).find((l) => /^\s*password_pbkdf2\s/.test(l.text));
    return su && pw ? pass('superusers and password_pbkdf2 set', ev(su, pw)) : fail('no superusers/password_pbkdf2 in the GRUB configuration', [{ file: cfg }]);
  }),
  rec({ id: '1.4.2', title: 'Only root can read the boot loader configuration', rationale: 'It can hold the boot password hash and kernel options.', remediation: 'chown root:root /boot/grub/grub.cfg && chmod u-x,go-rwx /boot/grub/grub.cfg' }, (ctx) => {
    const cfg = grubCfg(ctx);
    if (!cfg) return manual('the folder has no boot loader configuration: check the instance', [{ file: '/boot/grub/grub.cfg' }]);
    return checkMode(ctx, cfg, { max: 0o600 });
  }),
  sysctlRec({ id: '1.5.1', title: 'Address space layout randomization is on', rationale: 'Random memory layouts make memory-corruption exploits much harder.', remediation: 'kernel.randomize_va_space = 2 in a file in /etc/sysctl.d/, then sysctl --system.' }, [{ key: 'kernel.randomize_va_space', ok: eq('2'), want: '2', kernelDefault: '2' }]),
  sysctlRec({ id: '1.5.2', title: 'ptrace is restricted', rationale: 'An unrestricted ptrace lets one compromised process read the memory of the user\'s other processes (keys, passwords).', remediation: 'kernel.yama.ptrace_scope = 1 (or 2, 3) in /etc/sysctl.d/, then sysctl --system.' }, [{ key: 'kernel.yama.ptrace_scope', ok: (v) => ['1', '2', '3'].includes(v.trim()), want: '1, 2 or 3', kernelDefault: '0 on Debian' }]),
  rec({ id: '1.5.3', title: 'Core dumps are restricted', rationale: 'A core dump of a privileged program can contain secrets.', remediation: 'Add "* hard core 0" to /etc/security/limits.conf (or limits.d) and fs.suid_dumpable = 0 to /etc/sysctl.d/; with systemd-coredump, Storage=none and ProcessSizeMax=0.' }, (ctx) => {
    const files = ['/etc/security/limits.conf', ...ctx.fs.listFiles('/etc/security/limits.d', '.conf')];
    const lim = files.flatMap((f) => ctx.fs.lines(f)).filter((l) => /^\s*\*\s+hard\s+core\s+0\b/.test(l.text));
    const parts: Outcome[] = [lim.length ? pass('hard core limit 0 for everyone', ev(lim[0])) : fail('no "* hard core 0" in limits.conf or limits.d', [{ file: '/etc/security/limits.conf' }])];
    const s = ctx.sysctl().get('fs.suid_dumpable');
    parts.push(s && s.value === '0' ? pass('fs.suid_dumpable = 0', ev(s.at)) : fail(s ? `fs.suid_dumpable = ${s.value}` : 'fs.suid_dumpable is not set in any sysctl file', s ? ev(s.at) : [{ file: '/etc/sysctl.d' }]));
    if (ctx.installed('systemd-coredump')) {
      const c = systemdConf(ctx.fs, 'coredump.conf', 'Coredump');
      const st = c.get('Storage');
      const ps = c.get('ProcessSizeMax');
      parts.push(st?.value === 'none' && ps?.value === '0' ? pass('systemd-coredump stores nothing', ev(st.at, ps.at)) : fail('systemd-coredump is installed without Storage=none and ProcessSizeMax=0', ev(st?.at, ps?.at)));
    }
    return all(parts);
  }),
  packagesAbsent({ id: '1.5.4', title: 'prelink is not installed', rationale: 'prelink rewrites binaries, which defeats integrity checking (AIDE) and weakens ASLR.', remediation: 'prelink -ua && apt purge prelink' }, ['prelink']),
  rec({ id: '1.5.5', title: 'Automatic error reporting (apport) is off', rationale: 'Crash reports can carry sensitive memory to a third party.', remediation: 'apt purge apport, or set enabled=0 in /etc/default/apport and mask apport.service.' }, (ctx) => {
    if (!ctx.installed('apport')) return pass('apport is not installed', pkgEvidence(ctx, 'apport'));
    const e = ctx.fs.lines('/etc/default/apport').find((l) => /^\s*enabled\s*=\s*0\b/.test(l.text));
    return e ? pass('apport installed but enabled=0', ev(e)) : fail('apport is installed and enabled', pkgEvidence(ctx, 'apport'));
  }),
  rec({ id: '1.6.1', title: 'The message of the day reveals nothing about the system', rationale: 'Version strings in banners help an attacker pick exploits.', remediation: 'Write the site\'s policy text into /etc/motd without \\m \\r \\s \\v or the OS name.' }, (ctx) => banner(ctx, '/etc/motd')),
  rec({ id: '1.6.2', title: 'The local login banner (/etc/issue) reveals nothing about the system', rationale: 'Version strings in banners help an attacker pick exploits; a warning supports prosecution.', remediation: 'echo "Authorized users only. All activity may be monitored and reported." > /etc/issue' }, (ctx) => banner(ctx, '/etc/issue')),
  rec({ id: '1.6.3', title: 'The remote login banner (/etc/issue.net) reveals nothing about the system', rationale: 'Version strings in banners help an attacker pick exploits; a warning supports prosecution.', remediation: 'echo "Authorized users only. All activity may be monitored and reported." > /etc/issue.net' }, (ctx) => banner(ctx, '/etc/issue.net')),
  fileMode({ id: '1.6.4', title: '/etc/motd is root-owned and not writable by others', rationale: 'Whoever can write it can mislead every user who logs in.', remediation: 'chown root:root /etc/motd && chmod u-x,go-wx /etc/motd' }, ['/etc/motd'], { max: 0o644, missing: 'pass' }),
  fileMode({ id: '1.6.5', title: '/etc/issue is root-owned and not writable by others', rationale: 'Whoever can write it can change the login warning.', remediation: 'chown root:root /etc/issue && chmod u-x,go-wx /etc/issue' }, ['/etc/issue'], { max: 0o644, missing: 'pass' }),
  fileMode({ id: '1.6.6', title: '/etc/issue.net is root-owned and not writable by others', rationale: 'Whoever can write it can change the remote login warning.', remediation: 'chown root:root /etc/issue.net && chmod u-x,go-wx /etc/issue.net' }, ['/etc/issue.net'], { max: 0o644, missing: 'pass' }),
  packagesAbsent({ id: '1.7.1', title: 'The GNOME display manager is not installed', profile: L2, rationale: 'A server needs no graphical login.', remediation: 'apt purge gdm3' }, ['gdm3']),
];

// ------------------------------------------------------------------------------------------------ 2 Services

const SVC_RATIONALE = 'Every network service that is not needed is one more thing to patch and attack.';
const svc = (id: string, what: string, pkgs: string[], units: string[], profile?: typeof L2) =>
  serviceNotInUse({ id, title: `${what} is not in use`, rationale: SVC_RATIONALE, remediation: `apt purge ${pkgs.join(' ')} (or, when another package needs it: systemctl stop and mask ${units.join(' ')})`, ...(profile ? { profile } : {}) }, pkgs, units);
const client = (id: string, what: string, pkgs: string[]) =>
  packagesAbsent({ id, title: `The ${what} client is not installed`, rationale: 'Legacy clients send credentials in clear text and are rarely needed on a server.', remediation: `apt purge ${pkgs.join(' ')}` }, pkgs);

function mtaLocalOnly(ctx: ScanContext): Outcome {
  if (ctx.installed('postfix')) {
    const l = ctx.fs.lines('/etc/postfix/main.cf').find((x) => /^\s*inet_interfaces\s*=/.test(x.text));
    const v = l?.text.split('=')[1]?.trim() ?? 'all';
    return ['loopback-only', 'localhost', '127.0.0.1', '[::1]'].some((ok) => v.includes(ok)) && !/\ball\b/.test(v) ? pass(`postfix inet_interfaces = ${v}`, ev(l)) : fail(`postfix listens on ${v}`, l ? ev(l) : [{ file: '/etc/postfix/main.cf', text: 'inet_interfaces not set: all' }]);
  }
  if (ctx.installed('exim4-daemon-light') || ctx.installed('exim4-daemon-heavy')) {
    const l = ctx.fs.lines('/etc/exim4/update-exim4.conf.conf').find((x) => /^\s*dc_local_interfaces\s*=/.test(x.text));
    const v = l?.text.split('=')[1]?.replace(/'/g, '').trim() ?? '';
    return v && v.split(';').every((a) => /^(127\.0\.0\.1|::1)$/.test(a.trim())) ? pass(`exim4 dc_local_interfaces = ${v}`, ev(l)) : fail(`exim4 listens on ${v || 'all interfaces'}`, l ? ev(l) : [{ file: '/etc/exim4/update-exim4.conf.conf' }]);
  }
  return pass('no mail transfer agent installed', [{ file: '/var/lib/dpkg/status' }]);
}

function timeSync(ctx: ScanContext): Outcome {
  const chrony = ctx.installed('chrony') ? ctx.systemd.unit('chrony.service') : undefined;
  const timesyncd = ctx.installed('systemd-timesyncd') ? ctx.systemd.unit('systemd-timesyncd.service') : undefined;
  const ntp = ctx.installed('ntp') || ctx.installed('ntpsec') ? ctx.systemd.unit(ctx.installed('ntpsec') ? 'ntpsec.service' : 'ntp.service') : undefined;
  const on = [chrony, timesyncd, ntp].filter((u) => u && u.state === 'enabled');
  const e = on.flatMap((u) => u!.evidence.map((file) => ({ file })));
  if (on.length === 1) return pass(`exactly one time daemon enabled: ${on[0]!.unit}`, e);
  if (!on.length) return fail('no time synchronization daemon is enabled (chrony or systemd-timesyncd)', [{ file: '/etc/systemd/system/multi-user.target.wants' }]);
  return fail(`several time daemons enabled: ${on.map((u) => u!.unit).join(', ')}`, e);
}

function chronyConfigs(ctx: ScanContext): Line[] {
  const files = ['/etc/chrony/chrony.conf', ...ctx.fs.listFiles('/etc/chrony/conf.d', '.conf'), ...ctx.fs.listFiles('/etc/chrony/sources.d', '.sources')];
  return files.flatMap((f) => ctx.fs.lines(f));
}

function cronAllow(ctx: ScanContext): Outcome {
  if (!ctx.installed('cron') && !ctx.installed('cronie')) return na('cron is not installed', [{ file: '/var/lib/dpkg/status' }]);
  const parts: Outcome[] = [];
  if (!ctx.fs.exists('/etc/cron.allow')) parts.push(fail('/etc/cron.allow does not exist (without it every user may use crontab unless listed in cron.deny)', [{ file: '/etc/cron.allow' }]));
  else parts.push(checkMode(ctx, '/etc/cron.allow', { max: 0o640, groups: ['root', 'crontab'] }));
  if (ctx.fs.exists('/etc/cron.deny')) parts.push(checkMode(ctx, '/etc/cron.deny', { max: 0o640, groups: ['root', 'crontab'] }));
  return all(parts);
}

function atAllow(ctx: ScanContext): Outcome {
  if (!ctx.installed('at')) return na('at is not installed', pkgEvidence(ctx, 'at'));
  const parts: Outcome[] = [];
  if (!ctx.fs.exists('/etc/at.allow')) parts.push(fail('/etc/at.allow does not exist', [{ file: '/etc/at.allow' }]));
  else parts.push(checkMode(ctx, '/etc/at.allow', { max: 0o640, groups: ['root', 'daemon'] }));
  if (ctx.fs.exists('/etc/at.deny')) parts.push(checkMode(ctx, '/etc/at.deny', { max: 0o640, groups: ['root', 'daemon'] }));
  return all(parts);
}

const cronDir = (id: string, p: string) => rec({ id, title: `${p} is root-owned and private`, rationale: 'Whoever can write or read the scheduled jobs can run code as root or learn what runs when.', remediation: `chown root:root ${p} && chmod og-rwx ${p}` }, (ctx) =>
  !ctx.installed('cron') && !ctx.installed('cronie') ? na('cron is not installed', [{ file: '/var/lib/dpkg/status' }]) : checkMode(ctx, p, { max: p === '/etc/crontab' ? 0o600 : 0o700, missing: 'pass' }));

const services: Recommendation[] = [
  svc('2.1.1', 'autofs', ['autofs'], ['autofs.service']),
  svc('2.1.2', 'The Avahi (mDNS) daemon', ['avahi-daemon'], ['avahi-daemon.service', 'avahi-daemon.socket']),
  svc('2.1.3', 'A DHCP server', ['isc-dhcp-server'], ['isc-dhcp-server.service', 'isc-dhcp-server6.service']),
  svc('2.1.4', 'A DNS server', ['bind9'], ['named.service', 'bind9.service']),
  svc('2.1.5', 'dnsmasq', ['dnsmasq'], ['dnsmasq.service']),
  svc('2.1.6', 'An FTP server', ['vsftpd'], ['vsftpd.service']),
  svc('2.1.7', 'An LDAP server', ['slapd'], ['slapd.service']),
  svc('2.1.8', 'An IMAP/POP3 server', ['dovecot-imapd', 'dovecot-pop3d'], ['dovecot.service', 'dovecot.socket']),
  svc('2.1.9', 'An NFS server', ['nfs-kernel-server'], ['nfs-server.service']),
  svc('2.1.10', 'A NIS server', ['ypserv'], ['ypserv.service']),
  svc('2.1.11', 'A print server', ['cups'], ['cups.service', 'cups.socket']),
  svc('2.1.12', 'rpcbind', ['rpcbind'], ['rpcbind.service', 'rpcbind.socket']),
  svc('2.1.13', 'An rsync daemon', ['rsync'], ['rsync.service']),
  svc('2.1.14', 'A Samba server', ['samba'], ['smbd.service']),
  svc('2.1.15', 'An SNMP agent', ['snmpd'], ['snmpd.service']),
  svc('2.1.16', 'A TFTP server', ['tftpd-hpa'], ['tftpd-hpa.service']),
  svc('2.1.17', 'A web proxy', ['squid'], ['squid.service']),
  svc('2.1.18', 'A web server', ['apache2', 'nginx'], ['apache2.service', 'nginx.service']),
  svc('2.1.19', 'xinetd', ['xinetd'], ['xinetd.service']),
  packagesAbsent({ id: '2.1.20', title: 'The X Window server is not installed', profile: L2, rationale: 'A server needs no graphical display.', remediation: 'apt purge xserver-common' }, ['xserver-common']),
  rec({ id: '2.1.21', title: 'The mail transfer agent only listens on loopback', rationale: 'A server that is not a mail relay should not accept mail from the network.', remediation: 'postfix: inet_interfaces = loopback-only in /etc/postfix/main.cf; exim4: dc_local_interfaces=\'127.0.0.1 ; ::1\'.' }, mtaLocalOnly),
  rec({ id: '2.1.22', title: 'Only approved services listen on the network', assessment: 'manual', rationale: 'Each listening socket is attack surface.', remediation: 'ss -plntu on the host; remove or mask what is not approved.' }, () => manual('listening sockets are a property of a running system (ss -plntu)', [])),
  client('2.2.1', 'NIS', ['nis']),
  client('2.2.2', 'rsh', ['rsh-client']),
  client('2.2.3', 'talk', ['talk']),
  client('2.2.4', 'telnet', ['telnet', 'inetutils-telnet']),
  client('2.2.5', 'LDAP', ['ldap-utils']),
  client('2.2.6', 'FTP', ['ftp', 'tnftp']),
  rec({ id: '2.3.1.1', title: 'Exactly one time synchronization daemon is enabled', rationale: 'Log correlation, Kerberos and TLS validity need a correct clock; two daemons fight over it.', remediation: 'Keep chrony (Debian\'s EC2 images use it with the Amazon Time Sync Service) or systemd-timesyncd, enabled, and remove the other.' }, timeSync),
  rec({ id: '2.3.2.1', title: 'systemd-timesyncd has an authorized time server', rationale: 'Time from an arbitrary server can be skewed by an attacker.', remediation: 'NTP= (and FallbackNTP=) in /etc/systemd/timesyncd.conf.d/*.conf.' }, (ctx) => {
    if (ctx.systemd.unit('systemd-timesyncd.service').state !== 'enabled') return na('systemd-timesyncd is not the enabled time daemon', []);
    const c = systemdConf(ctx.fs, 'timesyncd.conf', 'Time');
    const n = c.get('NTP') ?? c.get('FallbackNTP');
    return n?.value ? pass(`time server ${n.value}`, ev(n.at)) : fail('no NTP= or FallbackNTP= in timesyncd.conf', [{ file: '/etc/systemd/timesyncd.conf' }]);
  }),
  rec({ id: '2.3.3.1', title: 'chrony has an authorized time server', rationale: 'Time from an arbitrary server can be skewed by an attacker.', remediation: 'A server or pool line in /etc/chrony/chrony.conf or /etc/chrony/sources.d/ (on EC2: server 169.254.169.123 prefer iburst).' }, (ctx) => {
    if (!ctx.installed('chrony')) return na('chrony is not installed', pkgEvidence(ctx, 'chrony'));
    const s = chronyConfigs(ctx).filter((l) => /^\s*(server|pool)\s+\S+/.test(l.text));
    return s.length ? pass(`${s.length} server/pool line(s)`, ev(...s)) : fail('no server or pool line in the chrony configuration', [{ file: '/etc/chrony/chrony.conf' }]);
  }),
  rec({ id: '2.3.3.2', title: 'chronyd runs as the _chrony user', rationale: 'A time daemon reachable from the network should not run as root.', remediation: 'Remove any "user" directive other than "user _chrony" from the chrony configuration (Debian\'s default is _chrony).' }, (ctx) => {
    if (!ctx.installed('chrony')) return na('chrony is not installed', pkgEvidence(ctx, 'chrony'));
    const u = chronyConfigs(ctx).find((l) => /^\s*user\s+/.test(l.text));
    return !u || /^\s*user\s+_chrony\s*$/.test(u.text) ? pass(u ? 'user _chrony' : 'no user directive: Debian\'s chronyd runs as _chrony', ev(u)) : fail(`chronyd is configured to run as ${u.text.trim().split(/\s+/)[1]}`, ev(u));
  }),
  rec({ id: '2.3.3.3', title: 'chrony is enabled', rationale: 'The chosen time daemon must start at boot.', remediation: 'systemctl unmask chrony.service && systemctl --now enable chrony.service' }, (ctx) => {
    if (!ctx.installed('chrony')) return na('chrony is not installed', pkgEvidence(ctx, 'chrony'));
    const u = ctx.systemd.unit('chrony.service');
    return u.state === 'enabled' ? pass('chrony.service enabled (whether it runs now needs a running system)', u.evidence.map((file) => ({ file }))) : fail(`chrony.service is ${u.state}`, u.evidence.map((file) => ({ file })));
  }),
  rec({ id: '2.4.1.1', title: 'The cron daemon is enabled', rationale: 'Scheduled maintenance (log rotation, integrity checks) relies on it.', remediation: 'systemctl unmask cron.service && systemctl --now enable cron.service' }, (ctx) => {
    if (!ctx.installed('cron') && !ctx.installed('cronie')) return na('cron is not installed', [{ file: '/var/lib/dpkg/status' }]);
    const u = ctx.systemd.unit('cron.service');
    return u.state === 'enabled' ? pass('cron.service enabled', u.evidence.map((file) => ({ file }))) : fail(`cron.service is ${u.state}`, u.evidence.map((file) => ({ file })));
  }),
  cronDir('2.4.1.2', '/etc/crontab'),
  cronDir('2.4.1.3', '/etc/cron.hourly'),
  cronDir('2.4.1.4', '/etc/cron.daily'),
  cronDir('2.4.1.5', '/etc/cron.weekly'),
  cronDir('2.4.1.6', '/etc/cron.monthly'),
  cronDir('2.4.1.7', '/etc/cron.d'),
  rec({ id: '2.4.1.8', title: 'crontab is restricted to listed users', rationale: 'An allow list is safer than a deny list: new accounts get no scheduled jobs by default.', remediation: 'touch /etc/cron.allow && chown root:root /etc/cron.allow && chmod 640 /etc/cron.allow (add the users who need crontab).' }, cronAllow),
  rec({ id: '2.4.2.1', title: 'at is restricted to listed users', rationale: 'An allow list is safer than a deny list.', remediation: 'touch /etc/at.allow && chown root:root /etc/at.allow && chmod 640 /etc/at.allow' }, atAllow),
];

// ---------------------------------------------------------------------------------------------- 3 Network

const NET = 'The host is not a router; these settings stop it from being used to redirect, spoof or flood traffic.';
const sys = (key: string, want: string, kernelDefault: string) => ({ key, ok: eq(want), want, kernelDefault });
const network: Recommendation[] = [
  rec({ id: '3.1.1', title: 'IPv6 status is known', assessment: 'manual', rationale: 'An unplanned IPv6 stack is an unmonitored path into the host.', remediation: 'Decide whether the host uses IPv6; if not, disable it on the kernel command line or with sysctl.' }, () => manual('a person decides whether IPv6 is used', [])),
  rec({ id: '3.1.2', title: 'Wireless interfaces are disabled', rationale: 'A server has no business with Wi-Fi.', remediation: 'Blacklist the wireless drivers in /etc/modprobe.d/.' }, (ctx) =>
    ctx.fs.list('/lib/modules').length ? manual('wireless drivers are present: check interfaces on the running system (nmcli radio all)', []) : pass('the folder has no kernel drivers; EC2 instances have no wireless interfaces', [{ file: '/lib/modules' }])),
  svc('3.1.3', 'Bluetooth', ['bluez'], ['bluetooth.service']),
  mod('3.2.1', 'dccp', 'DCCP protocol', L2),
  mod('3.2.2', 'tipc', 'TIPC protocol', L2),
  mod('3.2.3', 'rds', 'RDS protocol', L2),
  mod('3.2.4', 'sctp', 'SCTP protocol', L2),
  sysctlRec({ id: '3.3.1', title: 'IP forwarding is off', rationale: NET, remediation: 'net.ipv4.ip_forward = 0 and net.ipv6.conf.all.forwarding = 0 in /etc/sysctl.d/60-netipv4_sysctl.conf (and …ipv6…), then sysctl --system.' }, [sys('net.ipv4.ip_forward', '0', '0'), sys('net.ipv6.conf.all.forwarding', '0', '0')]),
  sysctlRec({ id: '3.3.2', title: 'The host sends no ICMP redirects', rationale: NET, remediation: 'net.ipv4.conf.all.send_redirects = 0 and net.ipv4.conf.default.send_redirects = 0 in /etc/sysctl.d/.' }, [sys('net.ipv4.conf.all.send_redirects', '0', '1'), sys('net.ipv4.conf.default.send_redirects', '0', '1')]),
  sysctlRec({ id: '3.3.3', title: 'Bogus ICMP error responses are ignored', rationale: NET, remediation: 'net.ipv4.icmp_ignore_bogus_error_responses = 1 in /etc/sysctl.d/.' }, [sys('net.ipv4.icmp_ignore_bogus_error_responses', '1', '1')]),
  sysctlRec({ id: '3.3.4', title: 'Broadcast ICMP echo requests are ignored', rationale: NET, remediation: 'net.ipv4.icmp_echo_ignore_broadcasts = 1 in /etc/sysctl.d/.' }, [sys('net.ipv4.icmp_echo_ignore_broadcasts', '1', '1')]),
  sysctlRec({ id: '3.3.5', title: 'ICMP redirects are not accepted', rationale: NET, remediation: 'accept_redirects = 0 for net.ipv4.conf.{all,default} and net.ipv6.conf.{all,default} in /etc/sysctl.d/.' }, [sys('net.ipv4.conf.all.accept_redirects', '0', '1'), sys('net.ipv4.conf.default.accept_redirects', '0', '1'), sys('net.ipv6.conf.all.accept_redirects', '0', '1'), sys('net.ipv6.conf.default.accept_redirects', '0', '1')]),
  sysctlRec({ id: '3.3.6', title: 'Secure ICMP redirects are not accepted', rationale: NET, remediation: 'net.ipv4.conf.all.secure_redirects = 0 and net.ipv4.conf.default.secure_redirects = 0 in /etc/sysctl.d/.' }, [sys('net.ipv4.conf.all.secure_redirects', '0', '1'), sys('net.ipv4.conf.default.secure_redirects', '0', '1')]),
  sysctlRec({ id: '3.3.7', title: 'Reverse path filtering is on', rationale: NET, remediation: 'net.ipv4.conf.all.rp_filter = 1 and net.ipv4.conf.default.rp_filter = 1 in /etc/sysctl.d/.' }, [sys('net.ipv4.conf.all.rp_filter', '1', '0'), sys('net.ipv4.conf.default.rp_filter', '1', '0')]),
  sysctlRec({ id: '3.3.8', title: 'Source-routed packets are not accepted', rationale: NET, remediation: 'accept_source_route = 0 for net.ipv4.conf.{all,default} and net.ipv6.conf.{all,default} in /etc/sysctl.d/.' }, [sys('net.ipv4.conf.all.accept_source_route', '0', '0'), sys('net.ipv4.conf.default.accept_source_route', '0', '1'), sys('net.ipv6.conf.all.accept_source_route', '0', '0'), sys('net.ipv6.conf.default.accept_source_route', '0', '0')]),
  sysctlRec({ id: '3.3.9', title: 'Suspicious packets are logged', rationale: 'Martian packets (impossible source addresses) are a sign of spoofing and worth a log line.', remediation: 'net.ipv4.conf.all.log_martians = 1 and net.ipv4.conf.default.log_martians = 1 in /etc/sysctl.d/.' }, [sys('net.ipv4.conf.all.log_martians', '1', '0'), sys('net.ipv4.conf.default.log_martians', '1', '0')]),
  sysctlRec({ id: '3.3.10', title: 'TCP SYN cookies are on', rationale: 'SYN cookies keep the host reachable during a SYN flood.', remediation: 'net.ipv4.tcp_syncookies = 1 in /etc/sysctl.d/.' }, [sys('net.ipv4.tcp_syncookies', '1', '1')]),
  sysctlRec({ id: '3.3.11', title: 'IPv6 router advertisements are not accepted', rationale: 'A rogue router advertisement can reroute the host\'s traffic.', remediation: 'net.ipv6.conf.all.accept_ra = 0 and net.ipv6.conf.default.accept_ra = 0 in /etc/sysctl.d/.' }, [sys('net.ipv6.conf.all.accept_ra', '0', '1'), sys('net.ipv6.conf.default.accept_ra', '0', '1')]),
];

// --------------------------------------------------------------------------------------------- 4 Firewall

const FIREWALLS: [string, string][] = [['ufw', 'ufw.service'], ['nftables', 'nftables.service'], ['iptables-persistent', 'netfilter-persistent.service']];
const firewall: Recommendation[] = [
  rec({ id: '4.1.1', title: 'Exactly one firewall configuration utility is in use', rationale: 'Two tools writing the same netfilter tables produce rules nobody understands; none leaves the host open.', remediation: 'Install and enable one of ufw, nftables or iptables-persistent (on EC2 security groups filter too, but the host firewall is defence in depth).' }, (ctx) => {
    const on = FIREWALLS.filter(([p, u]) => ctx.installed(p) && ctx.systemd.unit(u).state === 'enabled');
    if (on.length === 1) return pass(`${on[0]![0]} is the enabled firewall`, ctx.systemd.unit(on[0]![1]).evidence.map((file) => ({ file })));
    if (!on.length) return fail('no firewall utility (ufw, nftables, iptables-persistent) is installed and enabled', [{ file: '/var/lib/dpkg/status' }]);
    return fail(`several firewall utilities enabled: ${on.map(([p]) => p).join(', ')}`, []);
  }),
  rec({ id: '4.2', title: 'The firewall\'s rules (default deny, loopback, outbound, open ports) are configured', rationale: 'The loaded rule set decides what reaches the host.', remediation: 'ufw default deny incoming; ufw allow in on lo; ufw allow <each listening service>; ufw enable (or the nftables/iptables equivalents).' }, () =>
    manual('the loaded rule set is a property of a running kernel (ufw status verbose, nft list ruleset, iptables -L)', [])),
];

// ------------------------------------------------------------------------------------------------ 5 Access

const SSH = 'The SSH daemon is the way in for admins, and for attackers who guess or steal credentials.';
const WEAK_CIPHERS = ['3des-cbc', 'aes128-cbc', 'aes192-cbc', 'aes256-cbc', 'blowfish-cbc', 'cast128-cbc', 'arcfour', 'arcfour128', 'arcfour256', 'rijndael-cbc@lysator.liu.se'];
const WEAK_MACS = ['hmac-md5', 'hmac-md5-96', 'hmac-ripemd160', 'hmac-sha1-96', 'umac-64@openssh.com', 'hmac-md5-etm@openssh.com', 'hmac-md5-96-etm@openssh.com', 'hmac-ripemd160-etm@openssh.com', 'hmac-sha1-96-etm@openssh.com', 'umac-64-etm@openssh.com'];
const WEAK_KEX = ['diffie-hellman-group1-sha1', 'diffie-hellman-group14-sha1', 'diffie-hellman-group-exchange-sha1'];
const yes = (v: string) => v.toLowerCase() === 'yes';
const no = (v: string) => v.toLowerCase() === 'no';

function sshdFiles(ctx: ScanContext): string[] {
  return [...new Set(['/etc/ssh/sshd_config', ...ctx.sshd().files])].filter((f) => ctx.fs.exists(f));
}

function hostKeys(ctx: ScanContext, pub: boolean): string[] {
  return ctx.fs.list('/etc/ssh').filter((n) => /^ssh_host_.*_key(\.pub)?$/.test(n) && n.endsWith('.pub') === pub).map((n) => `/etc/ssh/${n}`);
}

function pamPassword(ctx: ScanContext): PamLine[] {
  return pamStack(ctx.fs, 'common-password').filter((l) => l.type === 'password');
}
function pamAuth(ctx: ScanContext): PamLine[] {
  return pamStack(ctx.fs, 'common-auth').filter((l) => l.type === 'auth');
}

function faillockSetting(ctx: ScanContext, key: string): { value: string; at: Line } | undefined {
  // pam_faillock reads /etc/security/faillock.conf; arguments on the PAM line override it.
  let v: { value: string; at: Line } | undefined;
  for (const kv of keyValues(ctx.fs, '/etc/security/faillock.conf')) if (kv.key === key) v = { value: kv.value, at: kv.at };
  for (const l of [...pamAuth(ctx), ...pamStack(ctx.fs, 'common-account')].filter((x) => x.module === 'pam_faillock.so')) {
    const a = pamArg(l, key);
    if (a !== undefined) v = { value: a, at: l.at };
  }
  return v;
}

function pwq(ctx: ScanContext): { settings: ReturnType<typeof pwquality>; line?: PamLine } {
  const line = pamPassword(ctx).find((l) => l.module === 'pam_pwquality.so');
  return { settings: pwquality(ctx.fs, line), line };
}

const PWQ_DEFAULTS: Record<string, string> = { difok: '1', minlen: '8', minclass: '0', dcredit: '0', ucredit: '0', lcredit: '0', ocredit: '0', maxrepeat: '0', maxsequence: '0', dictcheck: '1', enforcing: '1' };
function pwqRec(id: string, title: string, keys: string[], ok: (v: Record<string, number>, present: Record<string, boolean>) => boolean, want: string, remediation: string): Recommendation {
  return rec({ id, title, rationale: 'Password quality rules make guessed and reused passwords less likely to work.', remediation }, (ctx) => {
    if (!ctx.installed('libpam-pwquality')) return fail('libpam-pwquality is not installed, so no quality rule applies', pkgEvidence(ctx, 'libpam-pwquality'));
    const { settings, line } = pwq(ctx);
    const v: Record<string, number> = {};
    const present: Record<string, boolean> = {};
    const e: Evidence[] = [];
    for (const k of keys) {
      const s = settings.get(k);
      present[k] = !!s;
      v[k] = Number(s ? (s.value === '' ? '1' : s.value) : PWQ_DEFAULTS[k] ?? 'NaN');
      if (s) e.push(...ev(s.at));
    }
    if (!line) return fail('pam_pwquality is not in the password stack (/etc/pam.d/common-password)', [{ file: '/etc/pam.d/common-password' }]);
    const shown = keys.map((k) => `${k}=${present[k] ? v[k] : `${v[k]} (default)`}`).join(', ');
    return ok(v, present) ? pass(shown, e) : fail(`${shown}; wants ${want}`, e.length ? e : [{ file: '/etc/security/pwquality.conf' }]);
  });
}

function pamModuleIn(ctx: ScanContext, services: string[], module: string): { found: PamLine[]; missing: string[] } {
  const found: PamLine[] = [];
  const missing: string[] = [];
  for (const s of services) {
    const [svc, type] = s.split(':') as [string, string];
    const hit = pamStack(ctx.fs, svc).filter((l) => l.type === type && l.module === module);
    if (hit.length) found.push(...hit);
    else missing.push(`${svc} (${type})`);
  }
  return { found, missing };
}

const pamEnabled = (id: string, module: string, stacks: string[], pkg: string, why: string) =>
  rec({ id, title: `${module} is in the PAM stacks`, rationale: why, remediation: `Enable it with pam-auth-update (a profile in /usr/share/pam-configs/) so that ${stacks.join(', ')} use it.` }, (ctx) => {
    if (!ctx.installed(pkg)) return fail(`${pkg} is not installed`, pkgEvidence(ctx, pkg));
    const { found, missing } = pamModuleIn(ctx, stacks, module);
    return missing.length ? fail(`${module} missing from ${missing.join(', ')}`, ev(...found.map((f) => f.at)).concat(missing.map((m) => ({ file: `/etc/pam.d/${m.split(' ')[0]}` })))) : pass(`${module} in ${stacks.join(', ')}`, ev(...found.map((f) => f.at)));
  });

function sudoDefaults(ctx: ScanContext): Line[] {
  return sudoersLines(ctx.fs).filter((l) => /^\s*Defaults\b/.test(l.text));
}

const access: Recommendation[] = [
  rec({ id: '5.1.1', title: 'sshd_config and its drop-ins are root-owned and private', rationale: SSH, remediation: 'chown root:root /etc/ssh/sshd_config /etc/ssh/sshd_config.d/*.conf && chmod 600 them.' }, (ctx) => {
    if (!ctx.installed('openssh-server') && !ctx.sshd().exists) return na('openssh-server is not installed', []);
    return all(sshdFiles(ctx).map((f) => checkMode(ctx, f, { max: 0o600 })));
  }),
  rec({ id: '5.1.2', title: 'SSH private host keys are private', rationale: 'A stolen host key lets an attacker impersonate the server.', remediation: 'chown root:root /etc/ssh/ssh_host_*_key && chmod 600 /etc/ssh/ssh_host_*_key' }, (ctx) => {
    const keys = hostKeys(ctx, false);
    if (!keys.length) return na('no SSH host keys in the folder (they are generated on the instance\'s first boot)', [{ file: '/etc/ssh' }]);
    return all(keys.map((k) => checkMode(ctx, k, { max: 0o600, groups: ['root', '_ssh', 'ssh_keys'] })));
  }),
  rec({ id: '5.1.3', title: 'SSH public host keys are not writable by others', rationale: 'A replaced public key breaks clients\' trust in the server.', remediation: 'chown root:root /etc/ssh/ssh_host_*_key.pub && chmod 644 /etc/ssh/ssh_host_*_key.pub' }, (ctx) => {
    const keys = hostKeys(ctx, true);
    if (!keys.length) return na('no SSH host keys in the folder (they are generated on the instance\'s first boot)', [{ file: '/etc/ssh' }]);
    return all(keys.map((k) => checkMode(ctx, k, { max: 0o644 })));
  }),
  rec({ id: '5.1.4', title: 'sshd limits which users or groups may log in', rationale: SSH, remediation: 'AllowGroups (or AllowUsers, DenyUsers, DenyGroups) in /etc/ssh/sshd_config.d/, e.g. AllowGroups ssh-users admin.' }, (ctx) => {
    if (!ctx.installed('openssh-server') && !ctx.sshd().exists) return na('openssh-server is not installed', []);
    const d = ['allowusers', 'allowgroups', 'denyusers', 'denygroups'].flatMap((k) => ctx.sshd().all(k));
    return d.length ? pass(d.map((x) => `${x.keyword} ${x.value}`).join('; '), ev(...d.map((x) => x.at))) : fail('no AllowUsers, AllowGroups, DenyUsers or DenyGroups: every account with a key or password may log in', [{ file: '/etc/ssh/sshd_config' }]);
  }),
  rec({ id: '5.1.5', title: 'sshd shows a warning banner', rationale: 'A warning before login supports legal action against intruders.', remediation: 'Banner /etc/issue.net in /etc/ssh/sshd_config.d/.' }, (ctx) => {
    if (!ctx.installed('openssh-server') && !ctx.sshd().exists) return na('openssh-server is not installed', []);
    const v = sshdValue(ctx, 'Banner');
    if (!v.value || v.value.toLowerCase() === 'none') return fail(`Banner is none (${v.from})`, v.evidence);
    return ctx.fs.exists(v.value) ? pass(`Banner ${v.value} (${v.from})`, v.evidence) : fail(`Banner ${v.value} does not exist`, v.evidence);
  }),
  sshdAlgorithmsRec({ id: '5.1.6', title: 'sshd offers no weak ciphers', rationale: 'CBC-mode and RC4 ciphers have practical attacks.', remediation: 'Ciphers -3des-cbc,aes128-cbc,aes192-cbc,aes256-cbc (or an explicit strong list) in /etc/ssh/sshd_config.d/.' }, 'Ciphers', WEAK_CIPHERS),
  rec({ id: '5.1.7', title: 'sshd drops unresponsive sessions', rationale: 'Abandoned sessions are an open door on an unattended terminal.', remediation: 'ClientAliveInterval 15 and ClientAliveCountMax 3 in /etc/ssh/sshd_config.d/.' }, (ctx) => {
    if (!ctx.installed('openssh-server') && !ctx.sshd().exists) return na('openssh-server is not installed', []);
    const i = sshdValue(ctx, 'ClientAliveInterval');
    const c = sshdValue(ctx, 'ClientAliveCountMax');
    const okI = sshdSeconds(i.value) > 0;
    const okC = num(c.value) > 0;
    return okI && okC ? pass(`ClientAliveInterval ${i.value}, ClientAliveCountMax ${c.value}`, [...i.evidence, ...c.evidence]) : fail(`ClientAliveInterval ${i.value} (${i.from}), ClientAliveCountMax ${c.value} (${c.from}): both must be above 0`, [...i.evidence, ...c.evidence]);
  }),
  sshdRec({ id: '5.1.8', title: 'sshd disables all forwarding', profile: L2, rationale: 'Forwarded ports and agents let an attacker pivot through the server.', remediation: 'DisableForwarding yes' }, 'DisableForwarding', yes, 'yes'),
  sshdRec({ id: '5.1.9', title: 'sshd disables GSSAPI authentication', profile: L2, rationale: 'Unused authentication methods are attack surface.', remediation: 'GSSAPIAuthentication no' }, 'GSSAPIAuthentication', no, 'no'),
  sshdRec({ id: '5.1.10', title: 'sshd refuses host-based authentication', rationale: 'Trusting a client host\'s word for who the user is was never safe.', remediation: 'HostbasedAuthentication no' }, 'HostbasedAuthentication', no, 'no'),
  sshdRec({ id: '5.1.11', title: 'sshd ignores .rhosts files', rationale: 'rhosts trust relationships bypass passwords and keys.', remediation: 'IgnoreRhosts yes' }, 'IgnoreRhosts', yes, 'yes'),
  sshdAlgorithmsRec({ id: '5.1.12', title: 'sshd offers no weak key exchange algorithms', rationale: 'SHA-1 and 1024-bit Diffie-Hellman key exchanges are breakable.', remediation: 'KexAlgorithms -diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,diffie-hellman-group-exchange-sha1' }, 'KexAlgorithms', WEAK_KEX),
  sshdRec({ id: '5.1.13', title: 'sshd gives at most 60 seconds to log in', rationale: 'A long grace time lets many unauthenticated connections pile up.', remediation: 'LoginGraceTime 60' }, 'LoginGraceTime', (v) => { const s = sshdSeconds(v); return s >= 1 && s <= 60; }, 'between 1 and 60 seconds'),
  sshdRec({ id: '5.1.14', title: 'sshd logs at INFO or VERBOSE', rationale: 'Login records are the first thing an investigation needs.', remediation: 'LogLevel VERBOSE (or INFO)' }, 'LogLevel', (v) => ['info', 'verbose'].includes(v.toLowerCase()), 'INFO or VERBOSE'),
  sshdAlgorithmsRec({ id: '5.1.15', title: 'sshd offers no weak MACs', rationale: 'MD5, RIPEMD-160, truncated SHA-1 and 64-bit UMAC tags are too weak.', remediation: 'MACs -hmac-md5,hmac-md5-96,hmac-ripemd160,hmac-sha1-96,umac-64@openssh.com,hmac-md5-etm@openssh.com,hmac-md5-96-etm@openssh.com,hmac-ripemd160-etm@openssh.com,hmac-sha1-96-etm@openssh.com,umac-64-etm@openssh.com' }, 'MACs', WEAK_MACS),
  sshdRec({ id: '5.1.16', title: 'sshd allows at most 4 authentication attempts per connection', rationale: 'Fewer tries per connection slow down password guessing and get it logged sooner.', remediation: 'MaxAuthTries 4' }, 'MaxAuthTries', (v) => num(v) >= 1 && num(v) <= 4, '4 or fewer'),
  sshdRec({ id: '5.1.17', title: 'sshd allows at most 10 sessions per connection', rationale: 'Limits resource exhaustion through one connection.', remediation: 'MaxSessions 10' }, 'MaxSessions', (v) => num(v) >= 1 && num(v) <= 10, '10 or fewer'),
  sshdRec({ id: '5.1.18', title: 'sshd throttles unauthenticated connections (MaxStartups 10:30:60 or stricter)', rationale: 'Limits a flood of half-open logins.', remediation: 'MaxStartups 10:30:60' }, 'MaxStartups', (v) => { const [a, b, c] = v.split(':').map(Number); return a! <= 10 && (b === undefined || b >= 30) && (c === undefined ? a! <= 60 : c <= 60); }, '10:30:60 or stricter'),
  sshdRec({ id: '5.1.19', title: 'sshd refuses empty passwords', rationale: 'An account without a password must not be reachable over the network.', remediation: 'PermitEmptyPasswords no' }, 'PermitEmptyPasswords', no, 'no'),
  sshdRec({ id: '5.1.20', title: 'sshd refuses root logins', rationale: 'Admins log in as themselves and use sudo, so actions are attributable and root\'s password is not guessable over SSH.', remediation: 'PermitRootLogin no' }, 'PermitRootLogin', no, 'no'),
  sshdRec({ id: '5.1.21', title: 'sshd ignores user environment files', rationale: 'A user-set environment (LD_PRELOAD...) can subvert the login.', remediation: 'PermitUserEnvironment no' }, 'PermitUserEnvironment', no, 'no'),
  sshdRec({ id: '5.1.22', title: 'sshd uses PAM', rationale: 'Lockout, password quality and session limits are enforced by PAM.', remediation: 'UsePAM yes' }, 'UsePAM', yes, 'yes'),
  packageInstalled({ id: '5.2.1', title: 'sudo is installed', rationale: 'sudo gives admins root rights per command, with a log, instead of a shared root password.', remediation: 'apt install sudo' }, ['sudo']),
  rec({ id: '5.2.2', title: 'sudo runs commands in a pseudo-terminal', rationale: 'Without a pty, a background process started with sudo can keep access to the terminal after sudo exits.', remediation: 'Defaults use_pty in /etc/sudoers.d/ (visudo -f).' }, (ctx) => {
    if (!ctx.installed('sudo')) return na('sudo is not installed', []);
    const d = sudoDefaults(ctx);
    const on = d.find((l) => /\buse_pty\b/.test(l.text) && !/!use_pty/.test(l.text));
    const off = d.find((l) => /!use_pty/.test(l.text));
    return on && !off ? pass('Defaults use_pty', ev(on)) : fail(off ? 'use_pty is turned off' : 'no "Defaults use_pty" in sudoers', off ? ev(off) : [{ file: '/etc/sudoers' }]);
  }),
  rec({ id: '5.2.3', title: 'sudo keeps its own log file', rationale: 'A dedicated log of privileged commands is easy to review and protect.', remediation: 'Defaults logfile="/var/log/sudo.log" in /etc/sudoers.d/.' }, (ctx) => {
    if (!ctx.installed('sudo')) return na('sudo is not installed', []);
    const l = sudoDefaults(ctx).find((x) => /\blogfile\s*=/.test(x.text));
    return l ? pass(l.text.trim(), ev(l)) : fail('no Defaults logfile= in sudoers', [{ file: '/etc/sudoers' }]);
  }),
  rec({ id: '5.2.4', title: 'sudo asks for a password', profile: L2, rationale: 'NOPASSWD turns a stolen session into root without any further check.', remediation: 'Remove NOPASSWD from sudoers rules.' }, (ctx) => {
    const l = sudoersLines(ctx.fs).filter((x) => /\bNOPASSWD\b/.test(x.text));
    return l.length ? fail('NOPASSWD in sudoers', ev(...l)) : pass('no NOPASSWD rule', [{ file: '/etc/sudoers' }]);
  }),
  rec({ id: '5.2.5', title: 'sudo re-authentication is not turned off', rationale: '!authenticate lets anyone at a logged-in terminal run commands as root.', remediation: 'Remove "!authenticate" from sudoers.' }, (ctx) => {
    const l = sudoersLines(ctx.fs).filter((x) => /!authenticate\b/.test(x.text));
    return l.length ? fail('!authenticate in sudoers', ev(...l)) : pass('no !authenticate in sudoers', [{ file: '/etc/sudoers' }]);
  }),
  rec({ id: '5.2.6', title: 'sudo credentials expire within 15 minutes', rationale: 'A long timestamp lets anyone at an unattended terminal use sudo without the password.', remediation: 'Defaults timestamp_timeout=15 (or less) in /etc/sudoers.d/.' }, (ctx) => {
    if (!ctx.installed('sudo')) return na('sudo is not installed', []);
    const l = sudoDefaults(ctx).filter((x) => /\btimestamp_timeout\s*=/.test(x.text)).at(-1);
    if (!l) return pass('timestamp_timeout not set: sudo\'s default is 15 minutes', [{ file: '/etc/sudoers' }]);
    const v = Number(/timestamp_timeout\s*=\s*(-?\d+)/.exec(l.text)?.[1]);
    return v >= 0 && v <= 15 ? pass(`timestamp_timeout=${v}`, ev(l)) : fail(`timestamp_timeout=${v} (15 or less, not negative)`, ev(l));
  }),
  rec({ id: '5.2.7', title: 'su is restricted to an empty group', rationale: 'Only sudo (logged, per user) should grant root; su with root\'s password should be closed.', remediation: 'groupadd sugroup; add "auth required pam_wheel.so use_uid group=sugroup" to /etc/pam.d/su.' }, (ctx) => {
    const l = pamStack(ctx.fs, 'su').find((x) => x.type === 'auth' && x.module === 'pam_wheel.so' && x.args.includes('use_uid'));
    if (!l) return fail('no "auth required pam_wheel.so use_uid group=..." in /etc/pam.d/su', [{ file: '/etc/pam.d/su' }]);
    const g = pamArg(l, 'group') ?? 'root';
    const grp = ctx.group().find((x) => x.name === g);
    return grp && !grp.members.length ? pass(`su restricted to the empty group ${g}`, ev(l.at, grp.at)) : fail(`su restricted to group ${g}, which ${grp ? `has members ${grp.members.join(',')}` : 'does not exist'}`, ev(l.at, grp?.at));
  }),
  rec({ id: '5.3.1.1', title: 'PAM is at least version 1.5.2-6', rationale: 'Older PAM lacks the modules and fixes the later recommendations rely on.', remediation: 'apt upgrade libpam-runtime' }, (ctx) => {
    const p = ctx.packages().get('libpam-runtime');
    if (!p) return fail('libpam-runtime is not installed', [{ file: '/var/lib/dpkg/status' }]);
    return pass(`libpam-runtime ${p.version} (newer versions from the archive need a running system with network: apt list --upgradable)`, ev(p.at));
  }),
  packageInstalled({ id: '5.3.1.2', title: 'libpam-modules is installed', rationale: 'It provides pam_faillock and pam_pwhistory.', remediation: 'apt install libpam-modules' }, ['libpam-modules']),
  packageInstalled({ id: '5.3.1.3', title: 'libpam-pwquality is installed', rationale: 'It enforces password quality.', remediation: 'apt install libpam-pwquality' }, ['libpam-pwquality']),
  pamEnabled('5.3.2.1', 'pam_unix.so', ['common-auth:auth', 'common-account:account', 'common-password:password', 'common-session:session'], 'libpam-modules', 'pam_unix checks local passwords; the other modules stack around it.'),
  pamEnabled('5.3.2.2', 'pam_faillock.so', ['common-auth:auth', 'common-account:account'], 'libpam-modules', 'Locking an account after repeated failures stops online password guessing (SSH brute force).'),
  pamEnabled('5.3.2.3', 'pam_pwquality.so', ['common-password:password'], 'libpam-pwquality', 'Weak new passwords are refused.'),
  pamEnabled('5.3.2.4', 'pam_pwhistory.so', ['common-password:password'], 'libpam-modules', 'Users cannot cycle back to an old password.'),
  rec({ id: '5.3.3.1.1', title: 'Accounts lock after at most 5 failed logins', rationale: 'Locking after a few failures stops online password guessing.', remediation: 'deny = 5 in /etc/security/faillock.conf (or fewer).' }, (ctx) => {
    const v = faillockSetting(ctx, 'deny');
    if (!pamModuleIn(ctx, ['common-auth:auth'], 'pam_faillock.so').found.length) return fail('pam_faillock is not in common-auth, so no lockout happens', [{ file: '/etc/pam.d/common-auth' }]);
    const n = v ? Number(v.value) : 3;
    return n >= 1 && n <= 5 ? pass(`deny = ${n}${v ? '' : ' (pam_faillock default)'}`, ev(v?.at)) : fail(`deny = ${v?.value}`, ev(v?.at));
  }),
  rec({ id: '5.3.3.1.2', title: 'Locked accounts stay locked at least 15 minutes', rationale: 'A short lock lets guessing continue at nearly full speed.', remediation: 'unlock_time = 900 (or 0: only an admin unlocks) in /etc/security/faillock.conf.' }, (ctx) => {
    if (!pamModuleIn(ctx, ['common-auth:auth'], 'pam_faillock.so').found.length) return fail('pam_faillock is not in common-auth, so no lockout happens', [{ file: '/etc/pam.d/common-auth' }]);
    const v = faillockSetting(ctx, 'unlock_time');
    const n = v ? Number(v.value) : 600;
    return n === 0 || n >= 900 ? pass(`unlock_time = ${n}`, ev(v?.at)) : fail(`unlock_time = ${n}${v ? '' : ' (pam_faillock default)'}: wants 0 or at least 900`, ev(v?.at).length ? ev(v?.at) : [{ file: '/etc/security/faillock.conf' }]);
  }),
  rec({ id: '5.3.3.1.3', title: 'Lockout applies to root too', profile: L2, rationale: 'root is the most guessed account.', remediation: 'even_deny_root and root_unlock_time = 60 (or more) in /etc/security/faillock.conf.' }, (ctx) => {
    const e = faillockSetting(ctx, 'even_deny_root');
    const r = faillockSetting(ctx, 'root_unlock_time');
    return e || (r && Number(r.value) >= 60) ? pass('root is subject to lockout', ev(e?.at, r?.at)) : fail('neither even_deny_root nor root_unlock_time >= 60', [{ file: '/etc/security/faillock.conf' }]);
  }),
  pwqRec('5.3.3.2.1', 'A new password differs from the old one in at least 2 characters', ['difok'], (v) => v.difok! >= 2, 'difok >= 2', 'difok = 2 in /etc/security/pwquality.conf.d/50-pwdifok.conf'),
  pwqRec('5.3.3.2.2', 'Passwords are at least 14 characters', ['minlen'], (v) => v.minlen! >= 14, 'minlen >= 14', 'minlen = 14 in /etc/security/pwquality.conf.d/50-pwlength.conf'),
  pwqRec('5.3.3.2.3', 'Passwords mix character classes', ['minclass', 'dcredit', 'ucredit', 'lcredit', 'ocredit'], (v) => v.minclass! >= 4 || (v.dcredit! < 0 && v.ucredit! < 0 && v.lcredit! < 0 && v.ocredit! < 0), 'minclass = 4 (or every *credit negative)', 'minclass = 4 in /etc/security/pwquality.conf.d/50-pwcomplexity.conf'),
  pwqRec('5.3.3.2.4', 'Passwords repeat a character at most 3 times in a row', ['maxrepeat'], (v) => v.maxrepeat! >= 1 && v.maxrepeat! <= 3, 'maxrepeat between 1 and 3', 'maxrepeat = 3 in /etc/security/pwquality.conf.d/50-pwrepeat.conf'),
  pwqRec('5.3.3.2.5', 'Passwords contain at most 3 sequential characters', ['maxsequence'], (v) => v.maxsequence! >= 1 && v.maxsequence! <= 3, 'maxsequence between 1 and 3', 'maxsequence = 3 in /etc/security/pwquality.conf.d/50-pwmaxsequence.conf'),
  pwqRec('5.3.3.2.6', 'Passwords are checked against a dictionary', ['dictcheck'], (v) => v.dictcheck !== 0, 'dictcheck not 0', 'Remove dictcheck = 0 (the default checks).'),
  pwqRec('5.3.3.2.7', 'Password quality is enforced, not just advised', ['enforcing'], (v) => v.enforcing !== 0, 'enforcing not 0', 'Remove enforcing = 0 (the default enforces).'),
  rec({ id: '5.3.3.2.8', title: 'Password quality applies to root', rationale: 'root\'s password is the most valuable one.', remediation: 'enforce_for_root in /etc/security/pwquality.conf.d/50-pwroot.conf.' }, (ctx) => {
    const { settings, line } = pwq(ctx);
    if (!line) return fail('pam_pwquality is not in the password stack', [{ file: '/etc/pam.d/common-password' }]);
    const s = settings.get('enforce_for_root');
    return s ? pass('enforce_for_root', ev(s.at)) : fail('enforce_for_root is not set', [{ file: '/etc/security/pwquality.conf' }]);
  }),
  rec({ id: '5.3.3.3.1', title: 'The last 24 passwords are remembered', rationale: 'Users cannot cycle back to a compromised password.', remediation: 'remember=24 on the pam_pwhistory line (pam-auth-update profile) or in /etc/security/pwhistory.conf.' }, (ctx) => {
    const l = pamPassword(ctx).find((x) => x.module === 'pam_pwhistory.so');
    if (!l) return fail('pam_pwhistory is not in the password stack', [{ file: '/etc/pam.d/common-password' }]);
    const arg = pamArg(l, 'remember');
    const conf = keyValues(ctx.fs, '/etc/security/pwhistory.conf').filter((k) => k.key === 'remember').at(-1);
    const n = Number(arg ?? conf?.value ?? '10');
    return n >= 24 ? pass(`remember=${n}`, ev(arg !== undefined ? l.at : conf?.at)) : fail(`remember=${n}${arg === undefined && !conf ? ' (default)' : ''}: wants 24 or more`, ev(l.at, conf?.at));
  }),
  rec({ id: '5.3.3.3.2', title: 'Password history applies to root', rationale: 'root\'s password is the most valuable one.', remediation: 'enforce_for_root on the pam_pwhistory line.' }, (ctx) => {
    const l = pamPassword(ctx).find((x) => x.module === 'pam_pwhistory.so');
    if (!l) return fail('pam_pwhistory is not in the password stack', [{ file: '/etc/pam.d/common-password' }]);
    const conf = keyValues(ctx.fs, '/etc/security/pwhistory.conf').find((k) => k.key === 'enforce_for_root');
    return pamArg(l, 'enforce_for_root') !== undefined || conf ? pass('enforce_for_root', ev(l.at, conf?.at)) : fail('pam_pwhistory without enforce_for_root', ev(l.at));
  }),
  rec({ id: '5.3.3.3.3', title: 'pam_pwhistory uses the password already entered (use_authtok)', rationale: 'Every module must check the same new password.', remediation: 'use_authtok on the pam_pwhistory line.' }, (ctx) => {
    const l = pamPassword(ctx).find((x) => x.module === 'pam_pwhistory.so');
    if (!l) return fail('pam_pwhistory is not in the password stack', [{ file: '/etc/pam.d/common-password' }]);
    return pamArg(l, 'use_authtok') !== undefined ? pass('use_authtok', ev(l.at)) : fail('pam_pwhistory without use_authtok', ev(l.at));
  }),
  rec({ id: '5.3.3.4.1', title: 'pam_unix does not accept empty passwords (no nullok)', rationale: 'nullok lets an account with an empty password log in.', remediation: 'Remove nullok from pam_unix lines (the Debian pam-auth-update "unix" profile).' }, (ctx) => {
    const ls = ['common-auth', 'common-account', 'common-password', 'common-session'].flatMap((s) => pamStack(ctx.fs, s)).filter((l) => l.module === 'pam_unix.so' && l.args.includes('nullok'));
    return ls.length ? fail('pam_unix has nullok', ev(...ls.map((l) => l.at))) : pass('no nullok on pam_unix', [{ file: '/etc/pam.d/common-auth' }]);
  }),
  rec({ id: '5.3.3.4.2', title: 'pam_unix does not keep the password history (no remember)', rationale: 'pam_pwhistory does that, with a safer store.', remediation: 'Remove remember= from pam_unix lines.' }, (ctx) => {
    const ls = ['common-auth', 'common-account', 'common-password', 'common-session'].flatMap((s) => pamStack(ctx.fs, s)).filter((l) => l.module === 'pam_unix.so' && pamArg(l, 'remember') !== undefined);
    return ls.length ? fail('pam_unix has remember=', ev(...ls.map((l) => l.at))) : pass('no remember= on pam_unix', [{ file: '/etc/pam.d/common-password' }]);
  }),
  rec({ id: '5.3.3.4.3', title: 'pam_unix hashes passwords with yescrypt or SHA-512', rationale: 'Weak hashes crack fast once /etc/shadow leaks.', remediation: 'yescrypt (or sha512) on the pam_unix password line.' }, (ctx) => {
    const l = pamPassword(ctx).find((x) => x.module === 'pam_unix.so');
    if (!l) return fail('pam_unix is not in the password stack', [{ file: '/etc/pam.d/common-password' }]);
    return l.args.some((a) => a === 'yescrypt' || a === 'sha512') ? pass(`pam_unix ${l.args.join(' ')}`, ev(l.at)) : fail('pam_unix password line names neither yescrypt nor sha512', ev(l.at));
  }),
  rec({ id: '5.3.3.4.4', title: 'pam_unix uses the password already entered (use_authtok)', rationale: 'pam_unix must store the password the quality modules accepted.', remediation: 'use_authtok on the pam_unix password line (after pam_pwquality).' }, (ctx) => {
    const stack = pamPassword(ctx);
    const i = stack.findIndex((x) => x.module === 'pam_unix.so');
    if (i < 0) return fail('pam_unix is not in the password stack', [{ file: '/etc/pam.d/common-password' }]);
    const l = stack[i]!;
    if (l.args.includes('use_authtok')) return pass('use_authtok', ev(l.at));
    // First in the stack, pam_unix itself asks for the new password: use_authtok there would find none
    // and break every password change.
    return i === 0 ? pass('pam_unix is the first password module (it prompts itself; use_authtok applies once a quality module precedes it)', ev(l.at)) : fail('pam_unix password line without use_authtok after another password module', ev(stack[0]!.at, l.at));
  }),
  rec({ id: '5.4.1.1', title: 'Passwords expire within 365 days', rationale: 'A stolen password stops working eventually.', remediation: 'PASS_MAX_DAYS 365 in /etc/login.defs, and chage --maxdays 365 <user> for existing users with a password.' }, (ctx) => {
    const d = ctx.loginDefs().get('PASS_MAX_DAYS');
    const parts: Outcome[] = [];
    const n = Number(d?.value ?? '99999');
    parts.push(n >= 1 && n <= 365 ? pass(`PASS_MAX_DAYS ${n}`, ev(d?.at)) : fail(`PASS_MAX_DAYS ${d?.value ?? '99999 (not set)'} in /etc/login.defs`, d ? ev(d.at) : [{ file: '/etc/login.defs' }]));
    const bad = ctx.shadow().filter((s) => /^\$/.test(s.hash) && !(Number(s.max) >= 1 && Number(s.max) <= 365));
    parts.push(bad.length ? fail(`users with a password that never expires within 365 days: ${bad.map((s) => s.name).join(', ')}`, ev(...bad.map((s) => ({ ...s.at, text: `${s.name}:…:${s.max}` })))) : pass('every user with a password expires within 365 days', [{ file: '/etc/shadow' }]));
    return all(parts);
  }),
  rec({ id: '5.4.1.3', title: 'Users are warned at least 7 days before their password expires', rationale: 'A warning gives time to choose a good password rather than a rushed one.', remediation: 'PASS_WARN_AGE 7 in /etc/login.defs.' }, (ctx) => {
    const d = ctx.loginDefs().get('PASS_WARN_AGE');
    const n = Number(d?.value ?? '7');
    return n >= 7 ? pass(`PASS_WARN_AGE ${n}`, ev(d?.at)) : fail(`PASS_WARN_AGE ${n}`, ev(d?.at));
  }),
  rec({ id: '5.4.1.4', title: 'login.defs hashes with yescrypt or SHA-512', rationale: 'Weak hashes crack fast once /etc/shadow leaks.', remediation: 'ENCRYPT_METHOD YESCRYPT (or SHA512) in /etc/login.defs.' }, (ctx) => {
    const d = ctx.loginDefs().get('ENCRYPT_METHOD');
    return d && ['SHA512', 'YESCRYPT'].includes(d.value.toUpperCase()) ? pass(`ENCRYPT_METHOD ${d.value}`, ev(d.at)) : fail(`ENCRYPT_METHOD ${d?.value ?? 'not set'}`, d ? ev(d.at) : [{ file: '/etc/login.defs' }]);
  }),
  rec({ id: '5.4.1.5', title: 'Accounts lock 45 days after their password expires', rationale: 'Unused accounts with expired passwords are targets.', remediation: 'useradd -D -f 45 (INACTIVE=45 in /etc/default/useradd), and chage --inactive 45 for existing users.' }, (ctx) => {
    const l = ctx.fs.lines('/etc/default/useradd').find((x) => /^\s*INACTIVE\s*=/.test(x.text));
    const n = Number(l?.text.split('=')[1] ?? '-1');
    return n >= 0 && n <= 45 ? pass(`INACTIVE=${n}`, ev(l)) : fail(`INACTIVE=${l ? n : '-1 (not set: never)'}`, l ? ev(l) : [{ file: '/etc/default/useradd' }]);
  }),
  rec({ id: '5.4.1.6', title: 'No password change date lies in the future', rationale: 'A future date defeats expiry.', remediation: 'Investigate the account and reset its password.' }, (ctx) => {
    const today = Math.floor(Date.now() / 86400000);
    const bad = ctx.shadow().filter((s) => Number(s.lastChange) > today);
    return bad.length ? fail(`future change dates: ${bad.map((s) => s.name).join(', ')}`, ev(...bad.map((s) => s.at))) : pass('all change dates are in the past', [{ file: '/etc/shadow' }]);
  }),
  rec({ id: '5.4.2.1', title: 'root is the only account with UID 0', rationale: 'Any UID 0 account is root under another name.', remediation: 'Remove the account or give it another UID.' }, (ctx) => {
    const bad = ctx.passwd().filter((p) => p.uid === 0 && p.name !== 'root');
    return bad.length ? fail(`UID 0: ${bad.map((p) => p.name).join(', ')}`, ev(...bad.map((p) => p.at))) : pass('only root has UID 0', [{ file: '/etc/passwd' }]);
  }),
  rec({ id: '5.4.2.2', title: 'root is the only account with primary GID 0', rationale: 'GID 0 gives access to root-group files.', remediation: 'usermod -g <another group> <user>' }, (ctx) => {
    const bad = ctx.passwd().filter((p) => p.gid === 0 && !['root', 'sync', 'shutdown', 'halt', 'operator'].includes(p.name));
    return bad.length ? fail(`GID 0: ${bad.map((p) => p.name).join(', ')}`, ev(...bad.map((p) => p.at))) : pass('only root has GID 0', [{ file: '/etc/passwd' }]);
  }),
  rec({ id: '5.4.2.3', title: 'root is the only group with GID 0', rationale: 'Another GID 0 group is the root group under another name.', remediation: 'groupmod -g <another gid> <group>' }, (ctx) => {
    const bad = ctx.group().filter((g) => g.gid === 0 && g.name !== 'root');
    return bad.length ? fail(`GID 0: ${bad.map((g) => g.name).join(', ')}`, ev(...bad.map((g) => g.at))) : pass('only the root group has GID 0', [{ file: '/etc/group' }]);
  }),
  rec({ id: '5.4.2.4', title: 'root has a password or is locked', rationale: 'An empty root password is an open door.', remediation: 'passwd root, or usermod -L root.' }, (ctx) => {
    const r = ctx.shadow().find((s) => s.name === 'root');
    if (!r) return fail('no root entry in /etc/shadow', [{ file: '/etc/shadow' }]);
    return r.hash === '' ? fail('root has an empty password', ev(r.at)) : pass(r.hash.startsWith('!') || r.hash === '*' ? 'root is locked' : 'root has a password', [{ file: r.at.file, line: r.at.line, text: 'root:<hash hidden>' }]);
  }),
  rec({ id: '5.4.2.5', title: 'root\'s PATH has no writable or relative directories', rationale: 'A writable directory in root\'s PATH lets anyone plant a program root will run.', remediation: 'Fix PATH in /root/.profile, /root/.bashrc and /etc/login.defs (ENV_SUPATH).' }, (ctx) => {
    const l = ctx.loginDefs().get('ENV_SUPATH');
    const p = l?.value.replace(/^PATH=/, '') ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
    const bad: string[] = [];
    for (const d of p.split(':')) {
      if (!d || d === '.' || !d.startsWith('/')) bad.push(`"${d}" is relative or empty`);
      else {
        const s = ctx.fs.stat(d);
        if (s && (s.mode & 0o022 || s.uid !== 0)) bad.push(`${d} is writable by others or not owned by root`);
      }
    }
    return bad.length ? fail(bad.join('; '), ev(l?.at)) : pass(`PATH ${p} (root's shell startup files may change it on the running system)`, ev(l?.at));
  }),
  rec({ id: '5.4.2.6', title: 'root\'s umask is 027 or stricter', rationale: 'Files root creates should not be readable by everyone.', remediation: 'umask 0027 in /root/.bash_profile and /root/.bashrc (or remove looser umask lines).' }, (ctx) => {
    const ls = ['/root/.bash_profile', '/root/.bashrc', '/root/.profile'].flatMap((f) => ctx.fs.lines(f)).filter((l) => /^\s*umask\s+/.test(l.text));
    const weak = ls.filter((l) => { const m = /umask\s+0?([0-7]{3})/.exec(l.text); return !m || (parseInt(m[1]!, 8) & 0o027) !== 0o027; });
    return weak.length ? fail('a looser umask is set for root', ev(...weak)) : pass(ls.length ? 'root\'s umask is 027 or stricter' : 'no umask in root\'s startup files (login.defs UMASK applies)', ev(...ls));
  }),
  rec({ id: '5.4.2.7', title: 'System accounts have no login shell', rationale: 'A service account with a shell is a way in that nobody watches.', remediation: 'usermod -s /usr/sbin/nologin <account>' }, (ctx) => {
    const uidMin = Number(ctx.loginDefs().get('UID_MIN')?.value ?? '1000');
    const shells = validShells(ctx);
    const bad = ctx.passwd().filter((p) => p.uid < uidMin && !['root', 'halt', 'sync', 'shutdown', 'nfsnobody'].includes(p.name) && shells.includes(p.shell));
    return bad.length ? fail(`system accounts with a login shell: ${bad.map((p) => p.name).join(', ')}`, ev(...bad.map((p) => p.at))) : pass('no system account has a login shell', [{ file: '/etc/passwd' }]);
  }),
  rec({ id: '5.4.2.8', title: 'Accounts without a login shell are locked', rationale: 'They should not authenticate by any other path (su, FTP) either.', remediation: 'usermod -L <account>' }, (ctx) => {
    const shells = validShells(ctx);
    const sh = new Map(ctx.shadow().map((s) => [s.name, s]));
    const bad = ctx.passwd().filter((p) => p.name !== 'root' && !shells.includes(p.shell)).filter((p) => { const h = sh.get(p.name)?.hash ?? '*'; return !(h.startsWith('!') || h.startsWith('*')); });
    return bad.length ? fail(`unlocked accounts without a login shell: ${bad.map((p) => p.name).join(', ')}`, ev(...bad.map((p) => sh.get(p.name)!.at))) : pass('accounts without a login shell are locked', [{ file: '/etc/shadow' }]);
  }),
  rec({ id: '5.4.3.1', title: 'nologin is not a listed shell', profile: L2, rationale: '/etc/shells lists real shells; nologin there confuses tools that trust it.', remediation: 'Remove /usr/sbin/nologin and /sbin/nologin from /etc/shells.' }, (ctx) => {
    const l = ctx.fs.lines('/etc/shells').filter((x) => /nologin/.test(x.text));
    return l.length ? fail('nologin in /etc/shells', ev(...l)) : pass('no nologin in /etc/shells', [{ file: '/etc/shells' }]);
  }),
  rec({ id: '5.4.3.2', title: 'Idle shells time out within 15 minutes', rationale: 'An unattended root shell is an open door.', remediation: 'readonly TMOUT=900 ; export TMOUT in /etc/profile.d/tmout.sh' }, (ctx) => {
    const files = ['/etc/profile', '/etc/bash.bashrc', ...ctx.fs.listFiles('/etc/profile.d', '.sh')];
    const ls = files.flatMap((f) => ctx.fs.lines(f));
    const set = ls.filter((l) => /^\s*(readonly\s+|export\s+|typeset\s+-xr\s+|declare\s+-xr\s+)?TMOUT=\d+/.test(l.text));
    if (!set.length) return fail('TMOUT is not set in /etc/profile, /etc/profile.d or /etc/bash.bashrc', [{ file: '/etc/profile.d' }]);
    const big = set.filter((l) => Number(/TMOUT=(\d+)/.exec(l.text)![1]) > 900 || Number(/TMOUT=(\d+)/.exec(l.text)![1]) === 0);
    const ro = ls.some((l) => /\breadonly\s+TMOUT\b|typeset\s+-xr\s+TMOUT|declare\s+-xr\s+TMOUT/.test(l.text));
    const ex = ls.some((l) => /\bexport\s+(.*\s)?TMOUT\b|typeset\s+-xr\s+TMOUT|declare\s+-xr\s+TMOUT/.test(l.text));
    if (big.length) return fail('TMOUT above 900 or 0', ev(...big));
    return ro && ex ? pass('TMOUT set, readonly and exported', ev(...set)) : fail(`TMOUT is set but not ${!ro ? 'readonly' : 'exported'}`, ev(...set));
  }),
  rec({ id: '5.4.3.3', title: 'The default umask is 027 or stricter', rationale: 'New files should not be readable by every user.', remediation: 'UMASK 027 in /etc/login.defs (pam_umask applies it) and umask 027 in /etc/profile.d/.' }, (ctx) => {
    const d = ctx.loginDefs().get('UMASK');
    const prof = ['/etc/profile', '/etc/bash.bashrc', ...ctx.fs.listFiles('/etc/profile.d', '.sh')].flatMap((f) => ctx.fs.lines(f)).filter((l) => /^\s*umask\s+\d+/.test(l.text));
    const strict = (v: string) => (parseInt(v, 8) & 0o027) === 0o027;
    const weakProf = prof.filter((l) => !strict(/umask\s+(\d+)/.exec(l.text)![1]!));
    if (weakProf.length) return fail('a looser umask is set for login shells', ev(...weakProf));
    if (prof.length) return pass('umask 027 or stricter in the shell startup files', ev(...prof));
    return d && strict(d.value) ? pass(`UMASK ${d.value} in login.defs`, ev(d.at)) : fail(`UMASK ${d?.value ?? 'not set'} in /etc/login.defs and no umask in /etc/profile.d`, d ? ev(d.at) : [{ file: '/etc/login.defs' }]);
  }),
];

function validShells(ctx: ScanContext): string[] {
  return ctx.fs.lines('/etc/shells').map((l) => l.text.trim()).filter((t) => t.startsWith('/') && !/nologin|false/.test(t));
}

// ------------------------------------------------------------------------------------ 6 Logging and auditing

const AUDIT = 'A record of security-relevant changes is what lets an incident be detected and reconstructed.';
const b64 = (r: import('./config.ts').AuditRule) => r.fields.includes('arch=b64');

function watch(ctx: ScanContext, paths: string[], perms = 'wa'): Outcome {
  const rules = ctx.audit();
  const missing: string[] = [];
  const found: Line[] = [];
  for (const p of paths) {
    const r = rules.find((x) => (x.watch === p && (x.perms ?? 'rwxa').includes(perms[0]!) && (x.perms ?? 'rwxa').includes(perms.at(-1)!)) || (x.fields.includes(`path=${p}`) || x.fields.includes(`dir=${p}`)) && x.fields.some((f) => f.startsWith('perm=') && f.includes(perms.at(-1)!)));
    if (r) found.push(r.at);
    else missing.push(p);
  }
  return missing.length ? fail(`no watch (-w ... -p ${perms}) on ${missing.join(', ')}`, ev(...found).concat([{ file: '/etc/audit/rules.d' }])) : pass(`watched: ${paths.join(', ')}`, ev(...found));
}

function syscalls(ctx: ScanContext, names: string[], extra?: (r: import('./config.ts').AuditRule) => boolean): Outcome {
  const rules = ctx.audit().filter((r) => r.action && /always,exit|exit,always/.test(r.action) && b64(r) && (!extra || extra(r)));
  const missing = names.filter((n) => !rules.some((r) => r.syscalls.includes(n)));
  const found = rules.filter((r) => r.syscalls.some((s) => names.includes(s)));
  return missing.length ? fail(`no 64-bit "-a always,exit -S" rule for ${missing.join(', ')}`, ev(...found.map((r) => r.at)).concat([{ file: '/etc/audit/rules.d' }])) : pass(`audited: ${names.join(', ')}`, ev(...found.map((r) => r.at)));
}

function auditApplies(ctx: ScanContext, o: () => Outcome): Outcome {
  if (!ctx.installed('auditd')) return fail('auditd is not installed, so no audit rule is loaded', pkgEvidence(ctx, 'auditd'));
  return o();
}

const auditRec = (id: string, title: string, remediation: string, f: (ctx: ScanContext) => Outcome) => rec({ id, title, profile: L2, rationale: AUDIT, remediation }, (ctx) => auditApplies(ctx, () => f(ctx)));

function journaldIsTheLogger(ctx: ScanContext): boolean {
  return !ctx.installed('rsyslog');
}

const logging: Recommendation[] = [
  rec({ id: '6.1.1.1', title: 'journald is enabled', rationale: 'journald collects the logs every other check relies on.', remediation: 'systemctl unmask systemd-journald.service (it is static: started by systemd itself).' }, (ctx) => {
    const u = ctx.systemd.unit('systemd-journald.service');
    return u.state === 'static' || u.state === 'enabled' ? pass(`systemd-journald.service is ${u.state}`, u.evidence.map((file) => ({ file }))) : fail(`systemd-journald.service is ${u.state}`, u.evidence.map((file) => ({ file })));
  }),
  rec({ id: '6.1.1.2', title: 'Journal files are readable only by their owners and admins', assessment: 'manual', rationale: 'Logs carry user names, addresses and sometimes secrets.', remediation: 'Review /usr/lib/tmpfiles.d/systemd.conf overrides in /etc/tmpfiles.d/ (journal files 0640 or stricter).' }, (ctx) =>
    manual('a person reviews the tmpfiles.d rules for /var/log/journal', [...ctx.fs.listFiles('/etc/tmpfiles.d', '.conf').map((file) => ({ file }))])),
  rec({ id: '6.1.1.3', title: 'Journal rotation fits the site\'s retention policy', assessment: 'manual', rationale: 'Logs must last long enough for an investigation without filling the disk.', remediation: 'SystemMaxUse=, SystemKeepFree=, MaxRetentionSec= in /etc/systemd/journald.conf.d/.' }, () => manual('a person decides the retention', [{ file: '/etc/systemd/journald.conf' }])),
  rec({ id: '6.1.1.4', title: 'Exactly one logging system is in use', rationale: 'Two log pipelines mean duplicated or lost records.', remediation: 'Use journald alone (with systemd-journal-remote/upload) or rsyslog fed by journald.' }, (ctx) => {
    const rs = ctx.installed('rsyslog') && ctx.systemd.unit('rsyslog.service').state === 'enabled';
    const fwd = systemdConf(ctx.fs, 'journald.conf', 'Journal').get('ForwardToSyslog');
    if (rs) return fwd?.value.toLowerCase() === 'yes' ? pass('rsyslog enabled and fed by journald', ev(fwd.at)) : pass('rsyslog enabled (journald forwards to it by default on Debian when it is installed)', [{ file: '/etc/systemd/journald.conf' }]);
    return pass('journald is the only logging system (rsyslog is not enabled)', [{ file: '/etc/systemd/journald.conf' }]);
  }),
  packageInstalled({ id: '6.1.2.1.1', title: 'systemd-journal-remote is installed', rationale: 'Logs kept only on the host are lost or altered when the host is compromised.', remediation: 'apt install systemd-journal-remote' }, ['systemd-journal-remote']),
  rec({ id: '6.1.2.1.3', title: 'systemd-journal-upload is enabled', rationale: 'Sends the journal to a central log server.', remediation: 'Configure URL= in /etc/systemd/journal-upload.conf and systemctl --now enable systemd-journal-upload.service.' }, (ctx) => {
    if (!journaldIsTheLogger(ctx)) return na('rsyslog is installed: the rsyslog recommendations apply instead', []);
    const u = ctx.systemd.unit('systemd-journal-upload.service');
    if (u.state !== 'enabled') return fail(`systemd-journal-upload.service is ${u.state}`, u.evidence.map((file) => ({ file })));
    // Enabled without a server to send to, the service fails at every start: nothing leaves the host.
    // journal-upload.conf(5): the main file, then drop-ins in name order; the last URL= wins.
    const files = ['/etc/systemd/journal-upload.conf', ...ctx.fs.listFiles('/etc/systemd/journal-upload.conf.d', '.conf')];
    let url: { file: string; line: number; text: string } | undefined;
    for (const f of files) {
      let section = '';
      for (const l of ctx.fs.lines(f)) {
        const t = l.text.trim();
        if (/^\[.*\]$/.test(t)) section = t;
        else if (section === '[Upload]' && /^URL\s*=\s*\S/.test(t)) url = { file: f, line: l.line, text: t };
      }
    }
    if (!url) return fail('systemd-journal-upload.service is enabled but no URL= is set in [Upload] (journal-upload.conf or journal-upload.conf.d/*.conf): it has nowhere to send the journal', u.evidence.map((file) => ({ file })));
    return pass(`systemd-journal-upload.service enabled, sending to ${url.text.replace(/^URL\s*=\s*/, '')}`, [...u.evidence.map((file) => ({ file })), { file: url.file, line: url.line, text: url.text }]);
  }),
  rec({ id: '6.1.2.1.4', title: 'The host does not accept remote journals', rationale: 'A client should not listen for logs from elsewhere.', remediation: 'systemctl --now mask systemd-journal-remote.socket systemd-journal-remote.service' }, (ctx) => {
    const s = ctx.systemd.unit('systemd-journal-remote.socket');
    const v = ctx.systemd.unit('systemd-journal-remote.service');
    const on = [s, v].filter((u) => u.state === 'enabled');
    return on.length ? fail(`${on.map((u) => u.unit).join(', ')} enabled`, on.flatMap((u) => u.evidence.map((file) => ({ file })))) : pass('systemd-journal-remote is not enabled', []);
  }),
  ...([['6.1.2.2', 'ForwardToSyslog', 'no', 'journald does not forward to syslog', 'When journald is the logging system, forwarding only duplicates records.'], ['6.1.2.3', 'Compress', 'yes', 'journald compresses large entries', 'Compression keeps large logs from filling the disk.'], ['6.1.2.4', 'Storage', 'persistent', 'journald keeps logs on disk', 'Logs kept in memory are lost at reboot, when an investigation needs them.']] as const).map(([id, key, want, title, why]) =>
    rec({ id, title, rationale: why, remediation: `${key}=${want} in /etc/systemd/journald.conf.d/60-journald.conf under [Journal], then systemctl restart systemd-journald.` }, (ctx) => {
      if (!journaldIsTheLogger(ctx)) return na('rsyslog is installed: the rsyslog recommendations apply instead', []);
      const v = systemdConf(ctx.fs, 'journald.conf', 'Journal').get(key);
      const def = key === 'Compress' ? 'yes' : key === 'Storage' ? 'auto' : 'no';
      const val = (v?.value ?? def).toLowerCase();
      return val === want ? pass(`${key}=${val}${v ? '' : ' (default)'}`, ev(v?.at)) : fail(`${key}=${val}${v ? '' : ' (default)'}; wants ${want}`, v ? ev(v.at) : [{ file: '/etc/systemd/journald.conf' }]);
    })),
  rec({ id: '6.1.3.1', title: 'rsyslog is installed (when rsyslog is the chosen logger)', rationale: 'rsyslog can ship logs off the host.', remediation: 'apt install rsyslog' }, (ctx) => (journaldIsTheLogger(ctx) ? na('journald is the chosen logging system (rsyslog not installed)', []) : pass('rsyslog installed', pkgEvidence(ctx, 'rsyslog')))),
  rec({ id: '6.1.3.4', title: 'rsyslog creates log files 0640 or stricter', rationale: 'Logs carry sensitive data.', remediation: '$FileCreateMode 0640 in /etc/rsyslog.d/60-rsyslog.conf' }, (ctx) => {
    if (journaldIsTheLogger(ctx)) return na('journald is the chosen logging system (rsyslog not installed)', []);
    const l = ['/etc/rsyslog.conf', ...ctx.fs.listFiles('/etc/rsyslog.d', '.conf')].flatMap((f) => ctx.fs.lines(f)).filter((x) => /^\s*\$FileCreateMode\s+/.test(x.text)).at(-1);
    const v = l ? parseInt(/\$FileCreateMode\s+(\d+)/.exec(l.text)?.[1] ?? '644', 8) : 0o644;
    return (v & ~0o640) === 0 ? pass(`$FileCreateMode ${v.toString(8)}`, ev(l)) : fail(`$FileCreateMode ${l ? v.toString(8) : 'not set (0644)'}`, l ? ev(l) : [{ file: '/etc/rsyslog.conf' }]);
  }),
  rec({ id: '6.1.3.7', title: 'rsyslog does not receive logs from the network', rationale: 'A client should not listen for logs from elsewhere.', remediation: 'Remove imtcp/imudp module loads and inputs from the rsyslog configuration.' }, (ctx) => {
    if (journaldIsTheLogger(ctx)) return na('journald is the chosen logging system (rsyslog not installed)', []);
    const l = ['/etc/rsyslog.conf', ...ctx.fs.listFiles('/etc/rsyslog.d', '.conf')].flatMap((f) => ctx.fs.lines(f)).filter((x) => /^\s*(module\(load="im(tcp|udp)"|\$ModLoad\s+im(tcp|udp)|input\(type="im(tcp|udp)"|\$(InputTCPServerRun|UDPServerRun))/.test(x.text));
    return l.length ? fail('rsyslog loads a network input', ev(...l)) : pass('no network input in rsyslog', [{ file: '/etc/rsyslog.conf' }]);
  }),
  packageInstalled({ id: '6.2.1.1', title: 'auditd is installed', profile: L2, rationale: AUDIT, remediation: 'apt install auditd audispd-plugins' }, ['auditd', 'audispd-plugins']),
  rec({ id: '6.2.1.2', title: 'auditd is enabled', profile: L2, rationale: AUDIT, remediation: 'systemctl --now enable auditd' }, (ctx) => {
    const u = ctx.systemd.unit('auditd.service');
    return u.state === 'enabled' ? pass('auditd.service enabled', u.evidence.map((file) => ({ file }))) : fail(`auditd.service is ${u.state}`, u.evidence.map((file) => ({ file })));
  }),
  auditRec('6.2.3.1', 'Changes to sudoers are audited', '-w /etc/sudoers -p wa -k scope and -w /etc/sudoers.d -p wa -k scope in /etc/audit/rules.d/50-scope.rules', (ctx) => watch(ctx, ['/etc/sudoers', '/etc/sudoers.d'])),
  auditRec('6.2.3.4', 'Changes to date and time are audited', '-a always,exit -F arch=b64 -S adjtimex,settimeofday,clock_settime -k time-change and -w /etc/localtime -p wa in /etc/audit/rules.d/50-time-change.rules', (ctx) => all([syscalls(ctx, ['adjtimex', 'settimeofday', 'clock_settime']), watch(ctx, ['/etc/localtime'])])),
  auditRec('6.2.3.5', 'Changes to the network environment are audited', '-a always,exit -F arch=b64 -S sethostname,setdomainname -k system-locale and watches on /etc/issue, /etc/issue.net, /etc/hosts, /etc/networks, /etc/network/', (ctx) => all([syscalls(ctx, ['sethostname', 'setdomainname']), watch(ctx, ['/etc/issue', '/etc/issue.net', '/etc/hosts', '/etc/networks', '/etc/network'])])),
  auditRec('6.2.3.8', 'Changes to users and groups are audited', '-w /etc/group -p wa -k identity (and passwd, gshadow, shadow, security/opasswd, nsswitch.conf, pam.conf, pam.d)', (ctx) => watch(ctx, ['/etc/group', '/etc/passwd', '/etc/gshadow', '/etc/shadow', '/etc/security/opasswd', '/etc/nsswitch.conf', '/etc/pam.conf', '/etc/pam.d'])),
  auditRec('6.2.3.9', 'Permission and ownership changes are audited', '-a always,exit -F arch=b64 -S chmod,fchmod,fchmodat,chown,fchown,lchown,fchownat,setxattr,lsetxattr,fsetxattr,removexattr,lremovexattr,fremovexattr -F auid>=1000 -F auid!=unset -k perm_mod', (ctx) => syscalls(ctx, ['chmod', 'fchmod', 'fchmodat', 'chown', 'fchown', 'fchownat', 'lchown', 'setxattr', 'lsetxattr', 'fsetxattr', 'removexattr', 'lremovexattr', 'fremovexattr'])),
  auditRec('6.2.3.10', 'Successful mounts are audited', '-a always,exit -F arch=b64 -S mount -F auid>=1000 -F auid!=unset -k mounts', (ctx) => syscalls(ctx, ['mount'])),
  auditRec('6.2.3.11', 'Session starts are audited', '-w /var/run/utmp -p wa -k session; -w /var/log/wtmp -p wa -k session; -w /var/log/btmp -p wa -k session', (ctx) => watch(ctx, ['/var/run/utmp', '/var/log/wtmp', '/var/log/btmp'])),
  auditRec('6.2.3.12', 'Logins and logouts are audited', '-w /var/log/lastlog -p wa -k logins; -w /var/run/faillock -p wa -k logins', (ctx) => watch(ctx, ['/var/log/lastlog', '/var/run/faillock'])),
  auditRec('6.2.3.13', 'File deletions by users are audited', '-a always,exit -F arch=b64 -S rename,unlink,unlinkat,renameat -F auid>=1000 -F auid!=unset -k delete', (ctx) => syscalls(ctx, ['unlink', 'unlinkat', 'rename', 'renameat'])),
  auditRec('6.2.3.19', 'Kernel module loading and unloading are audited', '-a always,exit -F arch=b64 -S init_module,finit_module,delete_module,create_module,query_module -F auid>=1000 -F auid!=unset -k kernel_modules and -a always,exit -F path=/usr/bin/kmod -F perm=x -F auid>=1000 -F auid!=unset -k kernel_modules', (ctx) => syscalls(ctx, ['init_module', 'finit_module', 'delete_module'])),
  auditRec('6.2.3.20', 'The audit configuration is immutable', '-e 2 as the last line of /etc/audit/rules.d/99-finalize.rules', (ctx) => {
    const r = ctx.audit();
    const last = r.at(-1);
    return last && /^-e\s+2\b/.test(last.text) ? pass('-e 2 is the last rule', ev(last.at)) : fail('the rules do not end with -e 2', last ? ev(last.at) : [{ file: '/etc/audit/rules.d' }]);
  }),
  packageInstalled({ id: '6.3.1', title: 'AIDE is installed', rationale: 'File integrity checking detects tampered binaries and configuration.', remediation: 'apt install aide aide-common && aideinit' }, ['aide', 'aide-common']),
  rec({ id: '6.3.2', title: 'File integrity is checked regularly', rationale: 'An integrity database nobody compares against detects nothing.', remediation: 'systemctl --now enable dailyaidecheck.timer (aide-common), or a cron job running aide --check.' }, (ctx) => {
    if (!ctx.installed('aide')) return fail('AIDE is not installed', pkgEvidence(ctx, 'aide'));
    const t = ctx.systemd.unit('dailyaidecheck.timer');
    if (t.state === 'enabled') return pass('dailyaidecheck.timer enabled', t.evidence.map((file) => ({ file })));
    const cron = ['/etc/crontab', ...ctx.fs.listFiles('/etc/cron.d'), ...ctx.fs.listFiles('/etc/cron.daily')].flatMap((f) => ctx.fs.lines(f)).find((l) => /aide/.test(l.text) && !/^\s*#/.test(l.text));
    return cron ? pass('a cron job runs AIDE', ev(cron)) : fail('no enabled dailyaidecheck.timer and no cron job running aide', [{ file: '/etc/cron.daily' }]);
  }),
];

// ------------------------------------------------------------------------------------ 7 System maintenance

const SENSITIVE = 'Account databases decide who can log in and as whom; they must be writable only by root (and the hashes readable only by root and shadow).';
const perm = (id: string, p: string, max: number, groups: string[], missing: 'pass' | 'notapplicable' | 'fail' = 'fail') =>
  fileMode({ id, title: `${p} is ${max.toString(8).padStart(3, '0')} or stricter, owned by root:${groups.join('/')}`, rationale: SENSITIVE, remediation: `chown root:${groups.at(-1)} ${p} && chmod ${max.toString(8)} ${p}` }, [p], { max, groups, missing });

const maintenance: Recommendation[] = [
  perm('7.1.1', '/etc/passwd', 0o644, ['root']),
  perm('7.1.2', '/etc/passwd-', 0o644, ['root'], 'pass'),
  perm('7.1.3', '/etc/group', 0o644, ['root']),
  perm('7.1.4', '/etc/group-', 0o644, ['root'], 'pass'),
  perm('7.1.5', '/etc/shadow', 0o640, ['root', 'shadow']),
  perm('7.1.6', '/etc/shadow-', 0o640, ['root', 'shadow'], 'pass'),
  perm('7.1.7', '/etc/gshadow', 0o640, ['root', 'shadow']),
  perm('7.1.8', '/etc/gshadow-', 0o640, ['root', 'shadow'], 'pass'),
  perm('7.1.9', '/etc/shells', 0o644, ['root']),
  fileMode({ id: '7.1.10', title: '/etc/security/opasswd is 600, owned by root', rationale: 'It keeps old password hashes.', remediation: 'chown root:root /etc/security/opasswd && chmod 600 /etc/security/opasswd' }, ['/etc/security/opasswd', '/etc/security/opasswd.old'], { max: 0o600, missing: 'notapplicable' }),
  rec({ id: '7.1.11', title: 'World-writable files are secured and world-writable directories are sticky', rationale: 'Anyone can change a world-writable file; without the sticky bit anyone can delete others\' files in a shared directory.', remediation: 'chmod o-w <file>; chmod +t <directory>.' }, (ctx) => {
    const files: string[] = [];
    const dirs: string[] = [];
    for (const s of ctx.tree()) {
      if (s.isLink || !(s.mode & 0o002)) continue;
      if (s.isDir) { if (!(s.mode & 0o1000)) dirs.push(s.path); } else if (s.isFile) files.push(s.path);
    }
    const e = [...files, ...dirs].slice(0, 20).map((file) => ({ file }));
    return files.length || dirs.length ? fail(`${files.length} world-writable file(s), ${dirs.length} world-writable director(y/ies) without the sticky bit`, e) : pass('no world-writable file; world-writable directories are sticky', []);
  }),
  rec({ id: '7.1.12', title: 'Every file has an existing owner and group', rationale: 'An orphaned file is adopted by whoever next gets its UID.', remediation: 'chown <user>:<group> the files listed (or remove them).' }, (ctx) => {
    const uids = new Set(ctx.passwd().map((p) => p.uid));
    const gids = new Set(ctx.group().map((g) => g.gid));
    const bad: string[] = [];
    for (const s of ctx.tree()) if (!uids.has(s.uid) || !gids.has(s.gid)) bad.push(`${s.path} (${s.uid}:${s.gid})`);
    return bad.length ? fail(`${bad.length} file(s) without an existing owner or group`, bad.slice(0, 20).map((file) => ({ file }))) : pass('every file has an existing owner and group', [{ file: '/etc/passwd' }, { file: '/etc/group' }]);
  }),
  rec({ id: '7.1.13', title: 'Set-user-ID and set-group-ID programs are reviewed', assessment: 'manual', rationale: 'Each such program runs with its owner\'s rights; an unexpected one is a privilege escalation.', remediation: 'Review the list; remove the bit from programs nobody needs (chmod u-s).' }, (ctx) => {
    const found: string[] = [];
    for (const s of ctx.tree()) if (s.isFile && s.mode & 0o6000) found.push(s.path);
    return manual(`${found.length} SUID/SGID program(s) for a person to review`, found.sort().map((file) => ({ file })));
  }),
  rec({ id: '7.2.1', title: 'Accounts use shadowed passwords', rationale: '/etc/passwd is world-readable; hashes belong in /etc/shadow.', remediation: 'pwconv' }, (ctx) => {
    const bad = ctx.passwd().filter((p) => p.password !== 'x');
    return bad.length ? fail(`password field not "x" for ${bad.map((p) => p.name).join(', ')}`, ev(...bad.map((p) => p.at))) : pass('every account points to /etc/shadow', [{ file: '/etc/passwd' }]);
  }),
  rec({ id: '7.2.2', title: 'No account has an empty password', rationale: 'An empty password lets anyone log in as that account.', remediation: 'passwd -l <account>' }, (ctx) => {
    const bad = ctx.shadow().filter((s) => s.hash === '');
    return bad.length ? fail(`empty password: ${bad.map((s) => s.name).join(', ')}`, ev(...bad.map((s) => s.at))) : pass('no empty password field', [{ file: '/etc/shadow' }]);
  }),
  rec({ id: '7.2.3', title: 'Every primary group exists', rationale: 'A missing group is adopted by whoever next gets its GID.', remediation: 'Create the group or change the user\'s primary group.' }, (ctx) => {
    const gids = new Set(ctx.group().map((g) => g.gid));
    const bad = ctx.passwd().filter((p) => !gids.has(p.gid));
    return bad.length ? fail(`missing groups for ${bad.map((p) => `${p.name} (${p.gid})`).join(', ')}`, ev(...bad.map((p) => p.at))) : pass('every primary group exists', [{ file: '/etc/group' }]);
  }),
  rec({ id: '7.2.4', title: 'The shadow group has no members', rationale: 'Members of shadow can read every password hash.', remediation: 'Remove the members from the shadow group in /etc/group.' }, (ctx) => {
    const g = ctx.group().find((x) => x.name === 'shadow');
    const prim = g ? ctx.passwd().filter((p) => p.gid === g.gid) : [];
    return g && (g.members.length || prim.length) ? fail(`shadow group members: ${[...g.members, ...prim.map((p) => p.name)].join(', ')}`, ev(g.at, ...prim.map((p) => p.at))) : pass('the shadow group is empty', ev(g?.at));
  }),
  ...([['7.2.5', 'UIDs', (c: ScanContext) => c.passwd().map((p) => ({ k: String(p.uid), at: p.at })), '/etc/passwd'], ['7.2.6', 'GIDs', (c: ScanContext) => c.group().map((g) => ({ k: String(g.gid), at: g.at })), '/etc/group'], ['7.2.7', 'user names', (c: ScanContext) => c.passwd().map((p) => ({ k: p.name, at: p.at })), '/etc/passwd'], ['7.2.8', 'group names', (c: ScanContext) => c.group().map((g) => ({ k: g.name, at: g.at })), '/etc/group']] as const).map(([id, what, get, file]) =>
    rec({ id, title: `No duplicate ${what}`, rationale: 'Two accounts sharing an identity cannot be told apart in logs or permissions.', remediation: `Give each entry a unique value in ${file}.` }, (ctx) => {
      const seen = new Map<string, Line[]>();
      for (const x of get(ctx)) seen.set(x.k, [...(seen.get(x.k) ?? []), x.at]);
      const dup = [...seen.entries()].filter(([, v]) => v.length > 1);
      return dup.length ? fail(`duplicates: ${dup.map(([k]) => k).join(', ')}`, ev(...dup.flatMap(([, v]) => v))) : pass(`${what} are unique`, [{ file }]);
    })),
  rec({ id: '7.2.9', title: 'Interactive users\' home directories exist, are theirs and are 750 or stricter', rationale: 'Another user who can write a home directory can plant startup files.', remediation: 'mkdir, chown <user> and chmod 750 each home directory.' }, (ctx) => {
    const shells = validShells(ctx);
    const users = ctx.passwd().filter((p) => shells.includes(p.shell) && p.name !== 'root' && p.uid >= Number(ctx.loginDefs().get('UID_MIN')?.value ?? '1000'));
    if (!users.length) return pass('no local interactive user besides root', [{ file: '/etc/passwd' }]);
    return all(users.map((u) => {
      const s = ctx.fs.stat(u.home);
      if (!s) return fail(`${u.name}: home ${u.home} does not exist`, ev(u.at));
      const probs = [s.uid !== u.uid ? `owned by ${ctx.userName(s.uid)}` : '', s.mode & 0o027 ? `mode ${s.mode.toString(8)}` : ''].filter(Boolean);
      return probs.length ? fail(`${u.home}: ${probs.join(', ')}`, [{ file: u.home }]) : pass(`${u.home} ok`, [{ file: u.home }]);
    }));
  }),
  rec({ id: '7.2.10', title: 'Interactive users\' dot files are theirs and not writable by others; no .forward, .rhosts or .netrc', rationale: 'Writable startup files run code as the user; .rhosts and .netrc hold trust and passwords.', remediation: 'chmod go-w the dot files, remove .forward, .rhosts and .netrc.' }, (ctx) => {
    const shells = validShells(ctx);
    const users = ctx.passwd().filter((p) => shells.includes(p.shell));
    const bad: Evidence[] = [];
    for (const u of users) {
      for (const n of ctx.fs.list(u.home).filter((x) => x.startsWith('.'))) {
        const p = `${u.home}/${n}`;
        const s = ctx.fs.stat(p);
        if (!s || !s.isFile) continue;
        if (['.forward', '.rhosts', '.netrc'].includes(n)) bad.push({ file: p, text: 'must not exist' });
        else if (s.mode & 0o022 || s.uid !== u.uid) bad.push({ file: p, text: `${s.mode.toString(8)} ${ctx.userName(s.uid)}` });
      }
    }
    return bad.length ? fail(`${bad.length} dot file problem(s)`, bad) : pass('dot files are private', []);
  }),
];

export const RECOMMENDATIONS: readonly Recommendation[] = [...initialSetup, ...services, ...network, ...firewall, ...access, ...logging, ...maintenance];

export const SECTIONS: Record<string, string> = {
  '1': 'Initial setup',
  '2': 'Services',
  '3': 'Network',
  '4': 'Host based firewall',
  '5': 'Access control',
  '6': 'Logging and auditing',
  '7': 'System maintenance',
};
