// The web server as the checks and the attacks meet it: the instance the student launched (found by
// its Name tag), its root folder (the host model: the image plus what its user data did), its CIS
// scan, and its nginx run for real on loopback from the configuration in that folder.
import { EC2Client, DescribeInstancesCommand, DescribeVolumesCommand, type Instance, type Volume } from '@aws-sdk/client-ec2';
import type { LabSession } from '../../src/engine/session.ts';
import { scan, type Report } from '../../src/controls/cis/index.ts';
import { probe, type ProbeResult } from '../../src/controls/tls/index.ts';
import { startNginx, nginxStatus, type NginxServer } from '../../src/host/web/nginx.ts';
import type { InstanceHost } from '../../src/cloud/services/ec2/hosts.ts';
import { hostEnv } from './company.ts';

export interface WebServer {
  instance: Instance;
  /** Every running instance carrying the Name tag (the newest is judged). */
  candidates: number;
}

const found = new WeakMap<LabSession, Promise<WebServer | undefined>>();

/** The running instance tagged Name=<env.instanceName> (the newest when there are several). */
export function webInstance(s: LabSession): Promise<WebServer | undefined> {
  let p = found.get(s);
  if (!p) {
    p = (async () => {
      const ec2 = s.client(EC2Client);
      const out = await ec2.send(new DescribeInstancesCommand({
        Filters: [{ Name: 'tag:Name', Values: [hostEnv(s.env).instanceName] }, { Name: 'instance-state-name', Values: ['pending', 'running'] }],
      }));
      const all = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
      all.sort((a, b) => (b.LaunchTime?.getTime() ?? 0) - (a.LaunchTime?.getTime() ?? 0));
      return all[0] ? { instance: all[0], candidates: all.length } : undefined;
    })();
    found.set(s, p);
  }
  return p;
}

export const NO_SERVER = (s: LabSession) => `no running instance is tagged Name=${hostEnv(s.env).instanceName}: launch the web server (RunInstances with that tag) — task 3`;

/** The instance's host model (materialised on first ask: its user data applied). */
export async function hostOf(s: LabSession, instanceId: string): Promise<InstanceHost> {
  return s.gateway.service('ec2').hosts.host(s.accountId, instanceId);
}

/** The volumes attached to an instance, with their device names. */
export async function attachedVolumes(s: LabSession, instanceId: string): Promise<{ device: string; volume: Volume }[]> {
  const ec2 = s.client(EC2Client);
  const out = await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }] }));
  return (out.Volumes ?? []).map((v) => ({ device: v.Attachments?.find((a) => a.InstanceId === instanceId)?.Device ?? '', volume: v }));
}

const scans = new WeakMap<LabSession, Promise<{ host: InstanceHost; report: Report } | { error: string }>>();

/** CIS Level 1 scan of the web server's root folder (once per session). */
export function cisOf(s: LabSession): Promise<{ host: InstanceHost; report: Report } | { error: string }> {
  let p = scans.get(s);
  if (!p) {
    p = (async () => {
      const w = await webInstance(s);
      if (!w) return { error: NO_SERVER(s) };
      try {
        const host = await hostOf(s, w.instance.InstanceId!);
        return { host, report: scan(host.root, { profile: 'level1-server' }) };
      } catch (e) {
        return { error: `the web server's host could not be built: ${(e as Error).message}` };
      }
    })();
    scans.set(s, p);
  }
  return p;
}

/** The company CA bundle clients trust (the private CA's certificate). */
export async function caBundle(s: LabSession): Promise<string> {
  return (await s.gateway.service('acm').privateCa(s.accountId, s.cloud.region)).bundleFile;
}

/**
 * Runs `fn` with the web server's nginx started from its root folder (stopped afterwards). Undefined
 * server with `error`: no instance, no nginx config, nginx -t failed, or nginx is not installed here.
 */
export async function withWebServer<T>(s: LabSession, fn: (server: NginxServer, host: InstanceHost) => Promise<T>): Promise<{ value: T } | { error: string }> {
  const w = await webInstance(s);
  if (!w) return { error: NO_SERVER(s) };
  let host: InstanceHost;
  try {
    host = await hostOf(s, w.instance.InstanceId!);
  } catch (e) {
    return { error: `the web server's host could not be built: ${(e as Error).message}` };
  }
  const st = nginxStatus();
  if (!st.installed) return { error: `the grader cannot run the web server: ${st.reason}` };
  let started;
  try {
    started = await startNginx(host.root);
  } catch (e) {
    return { error: `nginx could not be started: ${(e as Error).message}` };
  }
  if (!started.ok) {
    // No configuration at all: nginx was never installed on the instance.
    const hint = /nginx\.conf/.test(started.message) && /no such file|not found|missing|does not exist/i.test(started.message)
      ? ' — is nginx installed on the instance? (packages: [nginx-light] in the user data)' : '';
    return { error: `the web server's nginx does not run: ${started.message}${hint}` };
  }
  try {
    return { value: await fn(started.server, host) };
  } finally {
    await started.server.stop();
  }
}

const probes = new WeakMap<LabSession, Promise<{ result: ProbeResult; server: { ports: number[] } } | { error: string }>>();

/** The TLS prober against the web server on its port 443 (and the redirect on its port 80), once per session. */
export function tlsOf(s: LabSession): Promise<{ result: ProbeResult; server: { ports: number[] } } | { error: string }> {
  let p = probes.get(s);
  if (!p) {
    p = (async () => {
      const caFile = await caBundle(s);
      const r = await withWebServer(s, async (server) => {
        const https = server.hostPort(443);
        if (https === undefined) return { error: `nginx listens on ${server.ports.map((x) => x.port).join(', ') || 'no port'}, not on 443` } as const;
        const ssl = server.ports.find((x) => x.port === 443)?.ssl;
        if (!ssl) return { error: 'port 443 is not a TLS listener (listen 443 ssl)' } as const;
        const http = server.hostPort(80);
        const result = await probe('127.0.0.1', https, { serverName: hostEnv(s.env).site.hostName, caFile, httpPort: http ?? null, now: new Date(s.now()) });
        return { result, server: { ports: server.ports.map((x) => x.port) } } as const;
      });
      if ('error' in r) return r;
      return r.value;
    })();
    probes.set(s, p);
  }
  return p;
}
