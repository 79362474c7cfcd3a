// End to end: an instance launched through the gateway with hardening user data gets a root folder
// (the Debian 12 image configured by its user data, gateway.service('ec2').hosts.rootOf), and the CIS
// engine scores it better than the image; the control endpoint and `seclab host fs` find it; dropping
// the account removes it. Skipped with the reason when the image is not built.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EC2Client, RunInstancesCommand, DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { useLabCloud } from '../helpers/cloud.ts';
import { imageStatus } from '../../src/host/image.ts';
import { probeExec } from '../../src/host/userdata/index.ts';
import { scan } from '../../src/controls/cis/index.ts';

const status = await imageStatus();
const skip = !status.built ? `the Debian 12 image is not built (${status.path}): npx tsx src/host/build.ts as root` : '';
if (skip) console.warn(`test/host/ec2-hosts: skipped: ${skip}`);

const HARDENING = `#cloud-config
write_files:
  - path: /etc/ssh/sshd_config.d/10-cis.conf
    permissions: '0600'
    content: |
      PermitRootLogin no
      MaxAuthTries 4
      ClientAliveInterval 15
      ClientAliveCountMax 3
      Banner /etc/issue.net
      AllowGroups sudo
  - path: /etc/sysctl.d/60-cis.conf
    content: |
      net.ipv4.ip_forward = 0
      net.ipv6.conf.all.forwarding = 0
      net.ipv4.conf.all.send_redirects = 0
      net.ipv4.conf.default.send_redirects = 0
      net.ipv4.conf.all.accept_redirects = 0
      net.ipv4.conf.default.accept_redirects = 0
      net.ipv6.conf.all.accept_redirects = 0
      net.ipv6.conf.default.accept_redirects = 0
      net.ipv4.conf.all.secure_redirects = 0
      net.ipv4.conf.default.secure_redirects = 0
ssh_pwauth: false
runcmd:
  - chmod 600 /etc/ssh/sshd_config
  - touch /etc/cron.allow && chmod 640 /etc/cron.allow
`;

describe.skipIf(!!skip)('EC2 instances get a host model configured by their user data', { timeout: 180_000 }, () => {
  const { cloud } = useLabCloud();

  it('RunInstances with hardening user data -> the instance folder -> CIS results improve over the image', async () => {
    const c = cloud();
    const root = c.createAccount();
    const ec2 = c.client(EC2Client, { credentials: { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey } });
    const amis = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
    const t0 = performance.now();
    const run = await ec2.send(new RunInstancesCommand({ ImageId: amis.Images![0]!.ImageId!, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', UserData: Buffer.from(HARDENING).toString('base64') }));
    const runMs = performance.now() - t0;
    const id = run.Instances![0]!.InstanceId!;
    const hosts = c.gateway.service('ec2').hosts;
    const host = await hosts.host(root.accountId, id);
    console.log(`RunInstances ${runMs.toFixed(0)} ms; materialise: clone ${host.cloneMs} ms (${host.mode}), user data ${host.applyMs} ms`);
    expect(host.root).toBe(await hosts.rootOf(root.accountId, id)); // materialised once
    expect(host.root.startsWith(hosts.runDir)).toBe(true);
    expect(host.root.endsWith(path.join(root.accountId, id))).toBe(true);
    const only = ['5.1.1', '5.1.4', '5.1.7', '5.1.16', '5.1.20', '3.3.1', '3.3.2', '3.3.5', '3.3.6', '2.4.1.8'];
    const before = scan(status.path, { only });
    const after = scan(host.root, { only });
    const verdict = (r: typeof before, id: string) => r.results.find((x) => x.id === id)?.status;
    for (const rec of ['5.1.16', '5.1.20', '3.3.1', '3.3.2', '3.3.5', '3.3.6', '5.1.4', '5.1.7']) {
      expect(verdict(before, rec), rec).toBe('fail');
      expect(verdict(after, rec), rec).toBe('pass');
    }
    if (probeExec().ok) {
      // runcmd ran inside the instance: permissions set by chmod, not by seclab.
      expect(host.userData!.modules.find((m) => m.module === 'scripts_user')!.status).toBe('ok');
      expect(verdict(after, '5.1.1')).toBe('pass');
      expect(verdict(after, '2.4.1.8')).toBe('pass');
    }
    expect(after.summary.fail).toBeLessThan(before.summary.fail);
    expect(readFileSync(path.join(host.root, 'var/log/cloud-init-output.log'), 'utf8')).toMatch(/\[write_files\] ok/);
    // The image itself is untouched.
    expect(existsSync(path.join(status.path, 'etc/ssh/sshd_config.d/10-cis.conf'))).toBe(false);

    // The control endpoint `seclab host fs` uses.
    const res = await fetch(`${c.url}/_seclab/instance-root?account=${root.accountId}&instance=${id}`, { headers: { 'x-seclab-control-token': c.gateway.controlToken } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { root: string }).root).toBe(host.root);
    const anon = await fetch(`${c.url}/_seclab/instance-root?account=${root.accountId}&instance=${id}`);
    expect(anon.status).not.toBe(200);
    const missing = await fetch(`${c.url}/_seclab/instance-root?account=${root.accountId}&instance=i-0123456789abcdef0`, { headers: { 'x-seclab-control-token': c.gateway.controlToken } });
    expect(missing.status).toBe(404);

    // An instance without user data is the image as it is (sharing /usr by hard links).
    const plain = await ec2.send(new RunInstancesCommand({ ImageId: amis.Images![0]!.ImageId!, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' }));
    const plainHost = await hosts.host(root.accountId, plain.Instances![0]!.InstanceId!);
    expect(plainHost.mode).toBe('link-usr');
    expect(plainHost.userData).toBeUndefined();

    c.gateway.dropAccount(root.accountId);
    expect(existsSync(host.root)).toBe(false);
  });
});
