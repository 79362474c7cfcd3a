// Shell parts of user data really run — inside the instance root, in bubblewrap — on a copy of the
// real Debian 12 image (skipped with the reason when the image is not built or bubblewrap cannot run).
// Isolation: the machine's files, network and processes are out of reach; limits stop runaway commands.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageStatus } from '../../src/host/image.ts';
import { applyUserData, probeExec, runInRoot, ExecRefused } from '../../src/host/userdata/index.ts';
import { resetExecProbe } from '../../src/host/userdata/sandbox.ts';

const status = await imageStatus();
const probe = probeExec();
const skip = !status.built ? `the Debian 12 image is not built (${status.path}): npx tsx src/host/build.ts as root` : !probe.ok ? probe.detail : '';
if (skip) console.warn(`test/host/userdata-exec: skipped: ${skip}`);

describe.skipIf(!!skip)('user data shell execution inside the instance root (bubblewrap)', { timeout: 180_000 }, () => {
  let dir: string;
  let root: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'seclab-ud-exec-'));
    root = path.join(dir, 'root');
    execFileSync('cp', ['-a', '--reflink=auto', status.path, root]);
  }, 120_000);
  afterAll(() => { if (!process.env.SECLAB_KEEP) rmSync(dir, { recursive: true, force: true }); });
  const read = (p: string) => readFileSync(path.join(root, p), 'utf8');

  it('runcmd: systemctl disable/mask/enable offline, apt-get purge with the real dpkg; #! parts run before runcmd', async () => {
    const ud = [
      'Content-Type: multipart/mixed; boundary="XX"', 'MIME-Version: 1.0', '',
      '--XX', 'Content-Type: text/cloud-config', '', '#cloud-config', 'runcmd:', '  - systemctl disable cron', '  - systemctl mask chrony.service',
      '  - [ apt-get, purge, -y, vim-tiny ]', '  - systemctl disable ssh.service', '  - rm -f /etc/systemd/system/sshd.service', '  - systemctl enable ssh.service', '  - echo runcmd >> /root/order', '',
      '--XX', 'Content-Type: text/x-shellscript', '', '#!/bin/bash', 'echo script >> /root/order', 'echo "$(id -u) $HOSTNAME" > /root/whoami', '',
      '--XX--', '',
    ].join('\n');
    const r = await applyUserData(root, Buffer.from(ud).toString('base64'), { instanceId: 'i-0aaaaaaaaaaaaaaaa' });
    expect(r.modules.find((m) => m.module === 'scripts_user')).toMatchObject({ status: 'ok' });
    expect(read('root/order')).toBe('script\nruncmd\n');
    expect(read('root/whoami')).toMatch(/^0 /);
    expect(existsSync(path.join(root, 'etc/systemd/system/multi-user.target.wants/cron.service'))).toBe(false);
    expect(execFileSync('readlink', [path.join(root, 'etc/systemd/system/chrony.service')]).toString().trim()).toBe('/dev/null');
    // enable: the [Install] section's links, re-created offline
    expect(readlinkSync(path.join(root, 'etc/systemd/system/multi-user.target.wants/ssh.service'))).toBe('/lib/systemd/system/ssh.service');
    expect(readlinkSync(path.join(root, 'etc/systemd/system/sshd.service'))).toBe('/lib/systemd/system/ssh.service');
    const dpkg = read('var/lib/dpkg/status');
    expect(dpkg).not.toMatch(/^Package: vim-tiny$/m);
    expect(existsSync(path.join(root, 'usr/bin/vim.tiny'))).toBe(false);
    expect(existsSync(path.join(status.path, 'usr/bin/vim.tiny'))).toBe(true); // the image is untouched
    expect(read('var/log/cloud-init-output.log')).toMatch(/Removing vim-tiny/);
    expect(r.ms).toBeLessThan(60_000);
  });

  it('isolation: the machine\'s /etc/passwd, /tmp and files are out of reach; writes land in the instance', async () => {
    const hostPasswd = readFileSync('/etc/passwd', 'utf8');
    const marker = `seclab-escape-${process.pid}`;
    const secret = path.join(dir, 'grader-secret');
    writeFileSync(secret, 'reference solution\n');
    const r = await applyUserData(root, `#cloud-config
runcmd:
  - echo "pwned:x:0:0::/root:/bin/sh" >> /etc/passwd
  - echo x > /tmp/${marker}
  - cat ${secret} > /root/stolen 2>&1 || echo "no secret" > /root/stolen
  - ls /proc/1/root${dir} > /root/proc-escape 2>&1 || echo "no escape" > /root/proc-escape
  - mount -t tmpfs none /mnt > /root/mount 2>&1 || echo "mount refused" >> /root/mount
  - cat /proc/1/cmdline | tr '\\0' ' ' > /root/pid1
  - ps -e --no-headers | wc -l > /root/processes
`, { instanceId: 'i-0bbbbbbbbbbbbbbbb' });
    expect(r.modules.find((m) => m.module === 'scripts_user')!.status).toBe('ok');
    expect(readFileSync('/etc/passwd', 'utf8')).toBe(hostPasswd);
    expect(read('etc/passwd')).toMatch(/^pwned:x:0:0:/m);
    expect(existsSync(`/tmp/${marker}`)).toBe(false);
    expect(read('root/stolen')).toMatch(/no secret|No such file/);
    expect(read('root/proc-escape')).toMatch(/no escape|No such file/);
    expect(read('root/mount')).toMatch(/mount refused/);
    expect(Number(read('root/processes').trim())).toBeLessThan(10); // its own PID namespace
  });

  it('isolation: kernel settings of the machine are read-only; no new privileges (file capabilities do not escalate)', async () => {
    const aslr = readFileSync('/proc/sys/kernel/randomize_va_space', 'utf8');
    await applyUserData(root, `#cloud-config
runcmd:
  - echo 0 > /proc/sys/kernel/randomize_va_space 2> /root/sysctl || true; cat /proc/sys/kernel/randomize_va_space >> /root/sysctl
  - sysctl -w kernel.randomize_va_space=0 >> /root/sysctl 2>&1 || true
  - grep NoNewPrivs /proc/self/status > /root/nnp
  - cp /usr/bin/mount /root/mnt && setcap cap_sys_admin+ep /root/mnt && (/root/mnt -t tmpfs none /mnt > /root/fcaps 2>&1 || echo "no escalation" >> /root/fcaps)
`);
    expect(readFileSync('/proc/sys/kernel/randomize_va_space', 'utf8')).toBe(aslr);
    expect(read('root/sysctl')).toMatch(/^2\n[\s\S]*(permission denied|Read-only file system)/);
    expect(read('root/nnp')).toMatch(/NoNewPrivs:\s+1/);
    expect(read('root/fcaps')).toMatch(/no escalation/);
  });

  it('isolation: no network (no DNS, no route, only an unconfigured loopback)', async () => {
    await applyUserData(root, `#cloud-config
runcmd:
  - curl -sS -m 5 http://deb.debian.org/ > /root/curl 2>&1; echo "exit $?" >> /root/curl
  - python3 -c "import socket; socket.create_connection(('1.1.1.1', 80), timeout=3)" > /root/tcp 2>&1; echo "exit $?" >> /root/tcp
  - ip -o link > /root/links 2>&1
`);
    expect(read('root/curl')).toMatch(/Could not resolve host[\s\S]*exit 6/);
    expect(read('root/tcp')).toMatch(/Network is unreachable[\s\S]*exit 1/);
    expect(read('root/links').trim().split('\n')).toHaveLength(1);
  });

  it('limits: a command over its time or output limit is stopped and the module fails', async () => {
    const slow = await applyUserData(root, '#cloud-config\nruncmd: [ "sleep 60" ]\n', { limits: { timeoutMs: 1500 } });
    const m = slow.modules.find((x) => x.module === 'scripts_user')!;
    expect(m.status).toBe('failed');
    expect(m.messages.join('\n')).toMatch(/time limit of 1.5 s reached/);
    expect(m.ms).toBeLessThan(10_000);
    const loud = await runInRoot(root, ['/bin/sh', '-c', 'yes'], { limits: { outputBytes: 10_000 } });
    expect(loud.truncated).toBe(true);
    // The file-size limit is set outside the sandbox: replacing the instance's prlimit does not lift it.
    const big = await runInRoot(root, ['/bin/sh', '-c', 'cp /bin/true /usr/bin/prlimit; head -c 3000000 /dev/zero > /root/big; echo "exit $?"; rm -f /root/big'], { limits: { fileSizeMb: 1 } });
    expect(big.output).toMatch(/File size limit exceeded|exit 153|exit 1/);
    const mem = await runInRoot(root, ['/usr/bin/python3', '-c', 'x = bytearray(3 * 1024**3)']);
    expect(mem.output).toMatch(/MemoryError/);
    // Many files under the size limit: the disk watch stops the command.
    const fill = await runInRoot(root, ['/bin/sh', '-c', 'i=0; while [ $i -lt 40 ]; do head -c 50000000 /dev/zero > /root/fill$i; i=$((i+1)); done'], { limits: { diskMb: 200 } });
    for (const f of readdirSync(path.join(root, 'root'))) if (f.startsWith('fill')) rmSync(path.join(root, 'root', f));
    expect(fill.diskFull).toBe(true);
    expect(fill.output).toMatch(/more than 200 MB of disk/);
    expect(loud.output.length).toBeLessThan(11_000);
  });

  it('refuses a root that shares /usr with the image (hard links): a write in place would reach the image', async () => {
    const shared = path.join(dir, 'shared');
    const { cloneImage } = await import('../../src/host/image.ts');
    await cloneImage(shared, { mode: 'link-usr' });
    await expect(runInRoot(shared, ['/bin/true'])).rejects.toBeInstanceOf(ExecRefused);
    const r = await applyUserData(shared, '#cloud-config\nruncmd: [ "echo x >> /usr/bin/ls" ]\n');
    expect(r.modules.find((x) => x.module === 'scripts_user')!.status).toBe('refused');
    rmSync(shared, { recursive: true, force: true });
  });

  it('without bubblewrap (or turned off) shell parts are refused with the reason; files are still written', async () => {
    process.env.SECLAB_HOST_EXEC = 'off';
    resetExecProbe();
    try {
      const r = await applyUserData(root, '#!/bin/sh\ntouch /root/should-not-exist\n');
      expect(r.modules.find((x) => x.module === 'scripts_user')).toMatchObject({ status: 'refused' });
      expect(r.modules.find((x) => x.module === 'scripts_user')!.messages[0]).toMatch(/not run: turned off/);
      expect(existsSync(path.join(root, 'root/should-not-exist'))).toBe(false);
    } finally {
      delete process.env.SECLAB_HOST_EXEC;
      resetExecProbe();
    }
  });

  it.skipIf(process.env.SECLAB_TEST_OFFLINE === '1')('packages: really installed by apt/dpkg inside the root (fetched by seclab into its cache)', async () => {
    const r = await applyUserData(root, '#cloud-config\npackages: [auditd]\n');
    const m = r.modules.find((x) => x.module === 'package_update_upgrade_install')!;
    expect(m.status, m.messages.join('\n')).toBe('ok');
    expect(read('var/lib/dpkg/status')).toMatch(/^Package: auditd\nStatus: install ok installed$/m);
    expect(existsSync(path.join(root, 'etc/audit/auditd.conf'))).toBe(true);
    // (a link to /lib/...: read it, do not follow it onto the machine)
    expect(readlinkSync(path.join(root, 'etc/systemd/system/multi-user.target.wants/auditd.service'))).toBe('/lib/systemd/system/auditd.service');
    expect(existsSync(path.join(root, 'tmp/.seclab-debs'))).toBe(false);
  });
});
