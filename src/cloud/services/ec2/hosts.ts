// The host model of EC2 instances: an instance of the lab cloud gets a root filesystem, a copy of the
// Debian 12 image (src/host/image.ts) configured by its user data as cloud-init would on first boot
// (src/host/userdata/). Materialised lazily, the first time a lab, a grader or `seclab host fs` asks
// for it (RunInstances stays as fast as before; most instances of other labs never need a root), in
// seclab's cache: ~/.cache/seclab/instances/<run>/<account>/<instance-id>, one <run> folder per lab
// cloud so that two lab clouds never share or remove each other's instances. Removed when the account
// is dropped or the lab cloud stops; leftovers of lab clouds that died are removed by the next one.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Capabilities, ControlHandler } from '../../gateway/service.ts';
import type { ServiceExtension } from '../../gateway/extension.ts';
import { cacheDir } from '../../targets/python.ts';
import { cloneImage, imagePath, MANIFEST } from '../../../host/image.ts';
import { applyParsed, parseUserData, type ApplyResult } from '../../../host/userdata/index.ts';

export interface InstanceHost {
  account: string;
  instanceId: string;
  region: string;
  /** The root folder. */
  root: string;
  /** What the user data did (undefined: the instance had none). */
  userData?: ApplyResult;
  /** Copying the image, applying the user data, ms. */
  cloneMs: number;
  applyMs: number;
  mode: 'copy' | 'link-usr';
}

/** The folder all lab clouds' instance roots live under. */
export function instancesDir(): string {
  return path.join(cacheDir(), 'instances');
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class Ec2Hosts {
  /** This lab cloud's folder under instancesDir(). */
  readonly runDir: string;
  private readonly known = new Map<string, { region: string; userData?: string }>();
  private readonly hosts = new Map<string, Promise<InstanceHost>>();
  /** Control endpoints (need the control token). */
  readonly control: Record<string, ControlHandler>;

  constructor(private readonly caps: Pick<Capabilities, 'target' | 'region'>, opts: { image?: string } = {}) {
    this.image = opts.image;
    this.runDir = path.join(instancesDir(), `run-${process.pid}-${randomBytes(4).toString('hex')}`);
    this.control = {
      '/_seclab/instance-root': async (q) => {
        const account = q.get('account') ?? '';
        const instance = q.get('instance') ?? '';
        if (!/^\d{12}$/.test(account) || !/^i-[0-9a-f]{8,17}$/.test(instance)) return { status: 400, value: { error: 'account (12 digits) and instance (i-...) are required' } };
        try {
          const h = await this.host(account, instance);
          return { status: 200, value: { root: h.root, region: h.region, mode: h.mode, cloneMs: h.cloneMs, applyMs: h.applyMs, userData: h.userData ? { ok: h.userData.ok, modules: h.userData.modules.map((m) => ({ module: m.module, status: m.status })), warnings: h.userData.warnings } : undefined } };
        } catch (e) {
          return { status: /does not exist|not found/i.test((e as Error).message) ? 404 : 500, value: { error: (e as Error).message } };
        }
      },
    };
  }

  private readonly image: string | undefined;

  /** Learns instances launched through the gateway (their region and user data). */
  extension(): ServiceExtension {
    return {
      service: 'ec2',
      after: async ({ cred, call }, res) => {
        if (call.operation !== 'RunInstances' || res.status !== 200) return;
        const body = res.body.toString('utf8');
        const ud = call.params['UserData'];
        for (const m of body.matchAll(/<instanceId>(i-[0-9a-f]+)<\/instanceId>/g)) {
          this.known.set(`${cred.account}/${m[1]}`, { region: call.region, userData: typeof ud === 'string' ? ud : undefined });
        }
      },
    };
  }

  /** The root folder of an instance, materialised on first use. */
  async rootOf(account: string, instanceId: string): Promise<string> {
    return (await this.host(account, instanceId)).root;
  }

  /** The instance's host, materialised on first use (concurrent callers share one materialisation). */
  host(account: string, instanceId: string): Promise<InstanceHost> {
    const key = `${account}/${instanceId}`;
    let p = this.hosts.get(key);
    if (!p) {
      p = this.materialise(account, instanceId);
      this.hosts.set(key, p);
      p.catch(() => this.hosts.delete(key));
    }
    return p;
  }

  private async lookup(account: string, instanceId: string): Promise<{ region: string; userData?: string }> {
    const seen = this.known.get(`${account}/${instanceId}`);
    if (seen) return seen;
    // Launched some other way (a launch template, before this lab cloud's hook saw it): ask the target.
    try {
      const r = await this.caps.target.json<{ UserData?: { Value?: string } }>(account, 'ec2', 'DescribeInstanceAttribute', { InstanceId: instanceId, Attribute: 'userData' }, this.caps.region);
      return { region: this.caps.region, userData: r.UserData?.Value };
    } catch (e) {
      throw new Error(`instance ${instanceId} does not exist in account ${account} (region ${this.caps.region}): ${(e as Error).message}`);
    }
  }

  private async materialise(account: string, instanceId: string): Promise<InstanceHost> {
    const { region, userData } = await this.lookup(account, instanceId);
    const image = this.image ?? imagePath();
    if (!existsSync(path.join(image, MANIFEST))) throw new Error(`the host image is not built (${image}): run \`sudo npx tsx src/host/build.ts\` once (see src/host/README.md)`);
    if (!existsSync(this.runDir)) this.sweep();
    const root = path.join(this.runDir, account, instanceId);
    const parsed = userData ? parseUserData(userData) : undefined;
    // A root where commands run gets its own /usr (a command writing a file in place must not reach
    // the image); one only configured by file writes shares /usr with the image by hard links.
    const runs = !!parsed && (parsed.parts.some((p) => p.kind === 'shellscript' || p.kind === 'boothook')
      || ['runcmd', 'bootcmd', 'packages'].some((k) => parsed.config[k] !== undefined));
    rmSync(root, { recursive: true, force: true });
    const clone = await cloneImage(root, { image, mode: runs ? 'copy' : 'link-usr' });
    let applied: ApplyResult | undefined;
    const t = performance.now();
    if (parsed) applied = await applyParsed(root, parsed, { instanceId, image, localHostname: await this.localHostname(account, instanceId, region) });
    return { account, instanceId, region, root, userData: applied, cloneMs: clone.ms, applyMs: Math.round(performance.now() - t), mode: clone.mode };
  }

  /** EC2's local-hostname (ip-10-0-1-23, from the private address), which cloud-init sets on first boot. */
  private async localHostname(account: string, instanceId: string, region: string): Promise<string | undefined> {
    try {
      const r = await this.caps.target.json<{ Reservations?: { Instances?: { PrivateIpAddress?: string }[] }[] }>(account, 'ec2', 'DescribeInstances', { InstanceIds: [instanceId] }, region);
      const ip = r.Reservations?.[0]?.Instances?.[0]?.PrivateIpAddress;
      return ip ? `ip-${ip.replace(/\./g, '-')}` : undefined;
    } catch {
      return undefined;
    }
  }

  /** Removes the folders of lab clouds that are gone. */
  private sweep(): void {
    mkdirSync(this.runDir, { recursive: true });
    for (const name of readdirSync(instancesDir())) {
      const m = /^run-(\d+)-/.exec(name);
      if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) rmSync(path.join(instancesDir(), name), { recursive: true, force: true });
    }
  }

  dropAccount(account: string): void {
    for (const k of [...this.hosts.keys()]) if (k.startsWith(`${account}/`)) this.hosts.delete(k);
    for (const k of [...this.known.keys()]) if (k.startsWith(`${account}/`)) this.known.delete(k);
    rmSync(path.join(this.runDir, account), { recursive: true, force: true });
  }

  close(): void {
    this.hosts.clear();
    rmSync(this.runDir, { recursive: true, force: true });
  }
}
