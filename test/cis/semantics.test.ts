// The CIS engine's semantics on small synthetic root filesystems: each configuration reader follows the
// precedence rules of the program that reads the file on a running Debian 12 system.
import { describe, expect, it } from 'vitest';
import { scan } from '../../src/controls/cis/index.ts';
import { parseSshd } from '../../src/controls/cis/sshd.ts';
import { parseSysctl } from '../../src/controls/cis/config.ts';
import { RootFs } from '../../src/controls/cis/rootfs.ts';
import { check, makeRoot } from './fixture.ts';

const sshd = (text: string, extra: Record<string, string> = {}) => ({ 'etc/ssh/sshd_config': { text, mode: 0o600 }, ...extra });

describe('sshd_config', () => {
  it('the first value wins: an Include at the top beats a later line in sshd_config', () => {
    const r = check(sshd('Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n', { 'etc/ssh/sshd_config.d/50-cloud.conf': 'PermitRootLogin yes\n' }), '5.1.20');
    expect(r.status).toBe('fail');
    expect(r.evidence[0]).toMatchObject({ file: '/etc/ssh/sshd_config.d/50-cloud.conf', line: 1 });
    expect(r.detail).toMatch(/shadowing no at \/etc\/ssh\/sshd_config:2/);
  });

  it('a later Include is shadowed by an earlier directive', () => {
    const r = check(sshd('PermitRootLogin no\nInclude sshd_config.d/*.conf\n', { 'etc/ssh/sshd_config.d/10-bad.conf': 'PermitRootLogin yes\n' }), '5.1.20');
    expect(r.status).toBe('pass');
    expect(r.evidence[0]).toMatchObject({ file: '/etc/ssh/sshd_config', line: 1 });
  });

  it('included files are read in lexical order (10- before 9-), relative paths under /etc/ssh', () => {
    const root = makeRoot(sshd('Include sshd_config.d/*.conf\n', { 'etc/ssh/sshd_config.d/9-late.conf': 'MaxAuthTries 6\n', 'etc/ssh/sshd_config.d/10-early.conf': 'MaxAuthTries 3\n' }));
    const c = parseSshd(new RootFs(root));
    expect(c.files).toEqual(['/etc/ssh/sshd_config', '/etc/ssh/sshd_config.d/10-early.conf', '/etc/ssh/sshd_config.d/9-late.conf']);
    expect(c.get('maxauthtries')?.value).toBe('3');
  });

  it('keywords are case-insensitive and accept "=", comments are ignored', () => {
    expect(check(sshd('# PermitRootLogin yes\npermitrootlogin=no\n'), '5.1.20').status).toBe('pass');
  });

  it('a Match block does not set the global value, but a non-compliant override in it fails', () => {
    const root = makeRoot(sshd('PermitRootLogin no\nMatch Address 10.0.0.0/8\n  PermitRootLogin yes\n'));
    const c = parseSshd(new RootFs(root));
    expect(c.get('permitrootlogin')?.value).toBe('no');
    expect(c.inMatch('permitrootlogin')[0]?.match).toBe('Address 10.0.0.0/8');
    const r = scan(root, { only: ['5.1.20'] }).results[0]!;
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(/Match block overrides/);
  });

  it('directives after a Match line in sshd_config are conditional; a Match inside an included file ends with that file', () => {
    const inMatch = parseSshd(new RootFs(makeRoot(sshd('Match User bob\nMaxAuthTries 3\n'))));
    expect(inMatch.get('maxauthtries')).toBeUndefined();
    const included = parseSshd(new RootFs(makeRoot(sshd('Include /etc/ssh/sshd_config.d/*.conf\nMaxAuthTries 3\n', { 'etc/ssh/sshd_config.d/a.conf': 'Match User bob\n  X11Forwarding yes\n' }))));
    expect(included.get('maxauthtries')?.value).toBe('3');
  });

  it('unset keywords take OpenSSH 9.2 defaults (MaxAuthTries 6 fails, PermitEmptyPasswords no passes)', () => {
    expect(check(sshd('UsePAM yes\n'), '5.1.16').status).toBe('fail');
    expect(check(sshd('UsePAM yes\n'), '5.1.19').status).toBe('pass');
    expect(check(sshd('UsePAM yes\n'), '5.1.16').detail).toMatch(/OpenSSH 9\.2 default/);
  });

  it('algorithm lists: the default MACs include umac-64, "-" removes them, "+" adds weak ones', () => {
    expect(check(sshd(''), '5.1.15').status).toBe('fail');
    expect(check(sshd('MACs -umac-64*,hmac-sha1*\n'), '5.1.15').status).toBe('pass');
    expect(check(sshd('Ciphers +aes128-cbc\n'), '5.1.6').status).toBe('fail');
    expect(check(sshd('Ciphers aes256-gcm@openssh.com,aes256-ctr\n'), '5.1.6').status).toBe('pass');
  });

  it('time values with units (LoginGraceTime 1m passes, 2m fails), MaxStartups 10:30:60', () => {
    expect(check(sshd('LoginGraceTime 1m\n'), '5.1.13').status).toBe('pass');
    expect(check(sshd('LoginGraceTime 2m\n'), '5.1.13').status).toBe('fail');
    expect(check(sshd('MaxStartups 10:30:60\n'), '5.1.18').status).toBe('pass');
    expect(check(sshd(''), '5.1.18').status).toBe('fail');
  });

  it('an absolute symlink is followed inside the root, never onto the scanning machine', () => {
    const r = check({ 'etc/ssh/sshd_config': { link: '/srv/ssh/sshd_config' }, 'srv/ssh/sshd_config': { text: 'PermitRootLogin no\n', mode: 0o600 } }, '5.1.20');
    expect(r.status).toBe('pass');
    const escape = check({ 'etc/ssh/sshd_config': { link: '../../../../../../../../etc/hostname' } }, '5.1.20');
    expect(escape.status).toBe('fail'); // /etc/hostname inside the root does not exist: defaults apply
  });

  it('sshd_config and drop-ins must be 600 root:root; no openssh-server means not applicable', () => {
    expect(check({ 'etc/ssh/sshd_config': { text: 'Include sshd_config.d/*.conf\n', mode: 0o600 }, 'etc/ssh/sshd_config.d/x.conf': { text: '', mode: 0o644 } }, '5.1.1').status).toBe('fail');
    expect(check(sshd('PermitRootLogin no\n'), '5.1.1').status).toBe('pass');
    expect(check({ 'var/lib/dpkg/status': '' }, '5.1.20').status).toBe('notapplicable');
  });
});

describe('sysctl precedence', () => {
  const link = { 'etc/sysctl.d/99-sysctl.conf': { link: '../sysctl.conf' } };

  it('a later sysctl.d file overrides /etc/sysctl.conf (read as 99-sysctl.conf, Debian\'s link)', () => {
    const r = check({ ...link, 'etc/sysctl.conf': 'net.ipv4.ip_forward=1\nnet.ipv6.conf.all.forwarding = 0\n', 'etc/sysctl.d/99-zz-hardening.conf': 'net.ipv4.ip_forward = 0\n' }, '3.3.1');
    expect(r.status).toBe('pass');
    expect(r.evidence.map((e) => `${e.file}:${e.line}`)).toContain('/etc/sysctl.d/99-zz-hardening.conf:1');
  });

  it('an earlier-sorting sysctl.d file is overridden by /etc/sysctl.conf', () => {
    const r = check({ ...link, 'etc/sysctl.conf': 'net.ipv4.ip_forward=1\n', 'etc/sysctl.d/60-net.conf': 'net.ipv4.ip_forward=0\nnet.ipv6.conf.all.forwarding=0\n' }, '3.3.1');
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(/= 1 at \/etc\/sysctl.d\/99-sysctl.conf:1.*overrides 0 at \/etc\/sysctl.d\/60-net.conf:1/);
  });

  it('without the link, sysctl.conf is read last (procps sysctl --system)', () => {
    const s = parseSysctl(new RootFs(makeRoot({ 'etc/sysctl.conf': 'kernel.randomize_va_space=1\n', 'etc/sysctl.d/99-z.conf': 'kernel.randomize_va_space=2\n' })));
    expect(s.get('kernel.randomize_va_space')?.value).toBe('1');
  });

  it('/etc/sysctl.d/x.conf replaces /usr/lib/sysctl.d/x.conf of the same name; other names merge in lexical order', () => {
    const s = parseSysctl(new RootFs(makeRoot({
      'usr/lib/sysctl.d/50-default.conf': 'net.ipv4.conf.all.rp_filter = 2\n',
      'etc/sysctl.d/50-default.conf': 'net.ipv4.conf.all.rp_filter = 1\n',
      'usr/lib/sysctl.d/70-vendor.conf': 'net.ipv4.tcp_syncookies = 0\n',
      'etc/sysctl.d/60-site.conf': 'net.ipv4.tcp_syncookies = 1\nnet/ipv4/conf/default/rp_filter = 1\n',
    })));
    expect(s.get('net.ipv4.conf.all.rp_filter')?.value).toBe('1');
    expect(s.history('net.ipv4.conf.all.rp_filter')).toHaveLength(1);
    expect(s.get('net.ipv4.tcp_syncookies')?.value).toBe('0');
    expect(s.get('net.ipv4.conf.default.rp_filter')?.value).toBe('1');
    expect(s.files).toEqual(['/etc/sysctl.d/50-default.conf', '/etc/sysctl.d/60-site.conf', '/usr/lib/sysctl.d/70-vendor.conf']);
  });

  it('a key no file sets fails with the kernel default named, not guessed from the scanning machine', () => {
    const r = check({}, '3.3.2');
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(/not set in any sysctl configuration file.*kernel default is 1.*needs a running system/);
  });
});

describe('kernel modules (modprobe.d)', () => {
  it('install /bin/false and blacklist pass; underscores and dashes are the same module', () => {
    expect(check({ 'etc/modprobe.d/cis.conf': 'install cramfs /bin/false\nblacklist cramfs\n' }, '1.1.1.1').status).toBe('pass');
    expect(check({ 'etc/modprobe.d/usb.conf': 'install usb_storage /bin/true\nblacklist usb-storage\n' }, '1.1.1.9').status).toBe('pass');
  });

  it('blacklist alone fails (modprobe cramfs still loads it); install alone fails', () => {
    expect(check({ 'etc/modprobe.d/cis.conf': 'blacklist cramfs\n' }, '1.1.1.1').status).toBe('fail');
    expect(check({ 'etc/modprobe.d/cis.conf': 'install cramfs /bin/false\n' }, '1.1.1.1').status).toBe('fail');
  });

  it('the first install line wins, in lexical file order across directories', () => {
    const r = check({ 'etc/modprobe.d/10-debug.conf': 'install hfs /sbin/modprobe --ignore-install hfs\n', 'etc/modprobe.d/90-cis.conf': 'install hfs /bin/false\nblacklist hfs\n' }, '1.1.1.3');
    expect(r.status).toBe('fail');
    expect(r.evidence[0]).toMatchObject({ file: '/etc/modprobe.d/10-debug.conf', line: 1 });
  });

  it('/etc/modprobe.d/x.conf shadows /usr/lib/modprobe.d/x.conf', () => {
    expect(check({ 'usr/lib/modprobe.d/cis.conf': 'install jffs2 /bin/false\nblacklist jffs2\n', 'etc/modprobe.d/cis.conf': '# emptied\n' }, '1.1.1.5').status).toBe('fail');
    expect(check({ 'usr/lib/modprobe.d/cis.conf': 'install jffs2 /bin/false\nblacklist jffs2\n' }, '1.1.1.5').status).toBe('pass');
  });
});

describe('kernel modules that the folder\'s kernel does not have', () => {
  const kernel = { 'lib/modules/6.1.0-50-cloud-amd64/kernel/fs/udf/udf.ko': 'x', 'boot/config-6.1.0-50-cloud-amd64': 'CONFIG_UDF_FS=m\n# CONFIG_CRAMFS is not set\nCONFIG_HFS_FS=y\n' };
  it('no module file in any kernel: not available, passes without configuration', () => {
    const r = check(kernel, '1.1.1.1');
    expect(r.status).toBe('pass');
    expect(r.detail).toMatch(/kernel 6\.1\.0-50-cloud-amd64 has no cramfs module/);
  });
  it('a module the kernel ships still needs install /bin/false and blacklist', () => {
    expect(check(kernel, '1.1.1.8').status).toBe('fail');
    expect(check({ ...kernel, 'etc/modprobe.d/udf.conf': 'install udf /bin/false\nblacklist udf\n' }, '1.1.1.8').status).toBe('pass');
  });
  it('a module built into the kernel (=y) cannot be made unavailable', () => {
    const r = check({ ...kernel, 'etc/modprobe.d/hfs.conf': 'install hfs /bin/false\nblacklist hfs\n' }, '1.1.1.3');
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(/built into kernel/);
  });
});

describe('mounts (fstab and mount units)', () => {
  const fstab = 'UUID=1 / ext4 defaults 0 1\ntmpfs /tmp tmpfs defaults,nodev,nosuid 0 0\n';
  it('option present passes, missing fails, with the fstab line as evidence', () => {
    expect(check({ 'etc/fstab': fstab }, '1.1.2.1.1').status).toBe('pass');
    expect(check({ 'etc/fstab': fstab }, '1.1.2.1.2').status).toBe('pass');
    const r = check({ 'etc/fstab': fstab }, '1.1.2.1.4');
    expect(r.status).toBe('fail');
    expect(r.evidence[0]).toMatchObject({ file: '/etc/fstab', line: 2 });
  });
  it('a mount point that is not separate: the partition fails, its options are not applicable', () => {
    expect(check({ 'etc/fstab': fstab }, '1.1.2.5.1').status).toBe('fail');
    expect(check({ 'etc/fstab': fstab }, '1.1.2.5.4').status).toBe('notapplicable');
  });
  it('/tmp from an enabled tmp.mount unit uses its Options=', () => {
    const unit = { 'usr/lib/systemd/system/tmp.mount': '[Mount]\nWhat=tmpfs\nWhere=/tmp\nOptions=mode=1777,strictatime,nosuid,nodev,noexec\n[Install]\nWantedBy=local-fs.target\n', 'etc/systemd/system/local-fs.target.wants/tmp.mount': { link: '/usr/lib/systemd/system/tmp.mount' } };
    expect(check(unit, '1.1.2.1.1').status).toBe('pass');
    expect(check(unit, '1.1.2.1.4').status).toBe('pass');
  });
  it('/dev/shm without an fstab entry is systemd\'s (nodev, nosuid) and lacks noexec', () => {
    expect(check({}, '1.1.2.2.2').status).toBe('pass');
    expect(check({}, '1.1.2.2.4').status).toBe('fail');
  });
});

describe('systemd units and packages', () => {
  const avahi = 'Package: avahi-daemon\nStatus: install ok installed\nVersion: 0.8\n\n';
  it('an installed service enabled through a wants/ link fails; masked (-> /dev/null) passes', () => {
    const unit = { 'var/lib/dpkg/status': avahi, 'lib/systemd/system/avahi-daemon.service': '[Install]\nWantedBy=multi-user.target\n' };
    const enabled = check({ ...unit, 'etc/systemd/system/multi-user.target.wants/avahi-daemon.service': { link: '/lib/systemd/system/avahi-daemon.service' } }, '2.1.2');
    expect(enabled.status).toBe('fail');
    expect(enabled.evidence.some((e) => e.file.includes('multi-user.target.wants'))).toBe(true);
    const masked = check({ ...unit, 'etc/systemd/system/avahi-daemon.service': { link: '/dev/null' } }, '2.1.2');
    expect(masked.status).toBe('pass');
    expect(masked.detail).toMatch(/masked/);
  });
  it('a package removed but not purged (config-files) counts as not installed', () => {
    expect(check({ 'var/lib/dpkg/status': 'Package: telnet\nStatus: deinstall ok config-files\nVersion: 1\n\n' }, '2.2.4').status).toBe('pass');
    expect(check({ 'var/lib/dpkg/status': 'Package: telnet\nStatus: install ok installed\nVersion: 1\n\n' }, '2.2.4').status).toBe('fail');
  });
  it('exactly one time daemon enabled', () => {
    const chrony = { 'var/lib/dpkg/status': 'Package: chrony\nStatus: install ok installed\nVersion: 4\n\n', 'lib/systemd/system/chrony.service': '[Install]\nWantedBy=multi-user.target\nAlias=chronyd.service\n' };
    expect(check(chrony, '2.3.1.1').status).toBe('fail');
    expect(check({ ...chrony, 'etc/systemd/system/multi-user.target.wants/chrony.service': { link: '/lib/systemd/system/chrony.service' } }, '2.3.1.1').status).toBe('pass');
  });
});

describe('PAM, pwquality, faillock, login.defs', () => {
  const pkgs = 'Package: libpam-pwquality\nStatus: install ok installed\nVersion: 1.4.5\n\nPackage: libpam-modules\nStatus: install ok installed\nVersion: 1.5.2\n\n';
  const pw = (line = 'password requisite pam_pwquality.so retry=3') => ({ 'var/lib/dpkg/status': pkgs, 'etc/pam.d/common-password': `${line}\npassword [success=1 default=ignore] pam_unix.so obscure use_authtok try_first_pass yescrypt\n` });

  it('pwquality.conf is read after pwquality.conf.d/*.conf and wins', () => {
    expect(check({ ...pw(), 'etc/security/pwquality.conf.d/50-len.conf': 'minlen = 8\n', 'etc/security/pwquality.conf': 'minlen = 14\n' }, '5.3.3.2.2').status).toBe('pass');
    expect(check({ ...pw(), 'etc/security/pwquality.conf.d/50-len.conf': 'minlen = 14\n', 'etc/security/pwquality.conf': 'minlen = 9\n' }, '5.3.3.2.2').status).toBe('fail');
  });

  it('arguments on the PAM line beat the configuration files', () => {
    const r = check({ ...pw('password requisite pam_pwquality.so minlen=10'), 'etc/security/pwquality.conf.d/50-len.conf': 'minlen = 14\n' }, '5.3.3.2.2');
    expect(r.status).toBe('fail');
    expect(r.evidence[0]).toMatchObject({ file: '/etc/pam.d/common-password', line: 1 });
  });

  it('defaults apply when nothing is set (minlen 8 fails, dictcheck 1 passes); no pam_pwquality line fails', () => {
    expect(check(pw(), '5.3.3.2.2').status).toBe('fail');
    expect(check(pw(), '5.3.3.2.6').status).toBe('pass');
    expect(check({ ...pw(''), 'etc/security/pwquality.conf': 'minlen = 14\n' }, '5.3.3.2.2').status).toBe('fail');
  });

  it('@include is expanded: pam_faillock in common-auth through an include', () => {
    const files = {
      'var/lib/dpkg/status': pkgs,
      'etc/pam.d/common-auth': '@include faillock-auth\nauth [success=1 default=ignore] pam_unix.so\nauth [default=die] pam_faillock.so authfail\n',
      'etc/pam.d/faillock-auth': 'auth requisite pam_faillock.so preauth\n',
      'etc/pam.d/common-account': 'account required pam_unix.so\naccount required pam_faillock.so\n',
      'etc/security/faillock.conf': 'deny = 4\nunlock_time = 900\n',
    };
    expect(check(files, '5.3.2.2').status).toBe('pass');
    expect(check(files, '5.3.3.1.1').status).toBe('pass');
    expect(check(files, '5.3.3.1.2').status).toBe('pass');
    expect(check({ ...files, 'etc/security/faillock.conf': 'deny = 10\n' }, '5.3.3.1.1').status).toBe('fail');
  });

  it('pam_unix nullok fails; yescrypt and use_authtok pass', () => {
    expect(check({ 'etc/pam.d/common-auth': 'auth [success=1 default=ignore] pam_unix.so nullok\n' }, '5.3.3.4.1').status).toBe('fail');
    expect(check(pw(), '5.3.3.4.3').status).toBe('pass');
    expect(check(pw(), '5.3.3.4.4').status).toBe('pass');
  });

  it('login.defs: PASS_MAX_DAYS, ENCRYPT_METHOD', () => {
    expect(check({ 'etc/login.defs': 'PASS_MAX_DAYS\t99999\nENCRYPT_METHOD SHA512\n' }, '5.4.1.1').status).toBe('fail');
    expect(check({ 'etc/login.defs': 'PASS_MAX_DAYS 365\nENCRYPT_METHOD YESCRYPT\n' }, '5.4.1.4').status).toBe('pass');
  });
});

describe('audit rules (level 2)', () => {
  const pkgs = { 'var/lib/dpkg/status': 'Package: auditd\nStatus: install ok installed\nVersion: 3\n\n' };
  it('watches and syscalls from /etc/audit/rules.d/*.rules; -e 2 must be last', () => {
    const rules = {
      ...pkgs,
      'etc/audit/rules.d/50-scope.rules': '-w /etc/sudoers -p wa -k scope\n-w /etc/sudoers.d -p wa -k scope\n',
      'etc/audit/rules.d/50-time.rules': '-a always,exit -F arch=b64 -S adjtimex,settimeofday,clock_settime -k time-change\n-w /etc/localtime -p wa -k time-change\n',
      'etc/audit/rules.d/99-finalize.rules': '-e 2\n',
    };
    expect(check(rules, '6.2.3.1').status).toBe('pass');
    expect(check(rules, '6.2.3.4').status).toBe('pass');
    expect(check(rules, '6.2.3.20').status).toBe('pass');
    expect(check({ ...rules, 'etc/audit/rules.d/99-zz.rules': '-w /etc/hosts -p wa\n' }, '6.2.3.20').status).toBe('fail');
    expect(check({ ...pkgs, 'etc/audit/rules.d/50-scope.rules': '-w /etc/sudoers -p r -k scope\n' }, '6.2.3.1').status).toBe('fail');
  });
  it('audit recommendations are level 2: not in a level 1 scan', () => {
    expect(scan(makeRoot({}), { profile: 'level1-server' }).results.some((r) => r.id.startsWith('6.2.'))).toBe(false);
  });
});

describe('permissions, accounts and results that need a running system', () => {
  it('/etc/shadow 0644 fails with mode and owner as evidence; 0640 root:shadow passes', () => {
    const r = check({ 'etc/shadow': { text: 'root:*:1::::::\n', mode: 0o644 } }, '7.1.5');
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(/0644 is more permissive than 0640/);
    expect(check({}, '7.1.5').status).toBe('pass');
  });
  it('a second UID 0 account fails with its passwd line', () => {
    const r = check({ 'etc/passwd': 'root:x:0:0::/root:/bin/bash\ntoor:x:0:0::/root:/bin/bash\n' }, '5.4.2.1');
    expect(r.status).toBe('fail');
    expect(r.evidence[0]).toMatchObject({ file: '/etc/passwd', line: 2 });
  });
  it('listening sockets and patch level are manual, with the reason', () => {
    const r = check({}, '2.1.22');
    expect(r.status).toBe('manual');
    expect(r.detail).toMatch(/running system/);
    expect(check({}, '1.2.2.1').status).toBe('manual');
  });
  it('no boot loader configuration in the folder: GRUB recommendations are manual, not guessed', () => {
    expect(check({}, '1.4.1').status).toBe('manual');
  });
  it('banners naming the OS fail; a policy text passes', () => {
    expect(check({ 'etc/issue.net': 'Debian GNU/Linux 12\n' }, '1.6.3').status).toBe('fail');
    expect(check({ 'etc/issue.net': 'Authorized users only.\n' }, '1.6.3').status).toBe('pass');
    expect(check({ 'etc/issue': '\\S \\r\n' }, '1.6.2').status).toBe('fail');
  });
  it('a whole scan has a summary and every result has number, title, profile, rationale and remediation', () => {
    const r = scan(makeRoot({}), { profile: 'level2-server' });
    expect(r.summary.total).toBe(r.results.length);
    expect(r.results.length).toBeGreaterThan(150);
    for (const x of r.results) {
      expect(x.id).toMatch(/^\d+(\.\d+)+$/);
      expect(x.title && x.rationale && x.remediation).toBeTruthy();
      expect(['pass', 'fail', 'notapplicable', 'manual']).toContain(x.status);
    }
    expect(new Set(r.results.map((x) => x.id)).size).toBe(r.results.length);
  });
});
