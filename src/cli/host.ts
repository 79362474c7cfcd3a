// `seclab host fs <instance-id>`: the root folder of an instance of the running lab cloud (its host
// model: the Debian 12 image plus what its user data did), to inspect or scan (`seclab cis scan`).
// `seclab host apply <root-folder> <user-data-file>`: the user-data interpreter on a folder of your own,
// to try user data before launching an instance with it (docs/host-userdata.md).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { runningCloud, type CloudSelector } from './cloud.ts';
import { EnvironmentError, ExitCode, UsageError } from './errors.ts';
import type { Ui } from './ui.ts';

export async function cmdHostFs(ui: Ui, instanceId: string, opts: CloudSelector & { account?: string; json?: boolean }): Promise<number> {
  if (!/^i-[0-9a-f]{8,17}$/.test(instanceId)) throw new UsageError(`${instanceId} is not an instance id (i-...)`);
  const s = await runningCloud({ name: opts.name, port: opts.port }, (m) => ui.warn(m));
  if (!s) throw new EnvironmentError('no lab cloud is running', 'Start one with `seclab cloud up`, launch an instance, then ask for its folder.');
  const account = opts.account ?? s.accountId;
  const q = new URLSearchParams({ account, instance: instanceId });
  const res = await fetch(`${s.url}/_seclab/instance-root?${q}`, { headers: { 'x-seclab-control-token': s.controlToken } });
  const v = (await res.json()) as { root?: string; error?: string; mode?: string; cloneMs?: number; applyMs?: number; userData?: { ok: boolean; modules: { module: string; status: string }[]; warnings: string[] } };
  if (res.status === 404) throw new UsageError(v.error ?? `no instance ${instanceId}`);
  if (!res.ok || !v.root) throw new EnvironmentError(`the lab cloud could not make the instance's folder: ${v.error ?? res.status}`);
  if (ui.json) {
    ui.print(JSON.stringify(v, null, 2));
    return ExitCode.OK;
  }
  ui.print(v.root);
  if (v.userData) {
    const bad = v.userData.modules.filter((m) => m.status !== 'ok');
    if (bad.length) ui.warn(`user data: ${bad.map((m) => `${m.module} ${m.status}`).join(', ')} — see ${v.root}/var/log/cloud-init-output.log`);
    for (const w of v.userData.warnings) ui.warn(w);
  }
  return ExitCode.OK;
}

export async function cmdHostApply(ui: Ui, root: string, file: string, opts: { instanceId?: string; exec?: boolean; fetch?: boolean; json?: boolean }): Promise<number> {
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new UsageError(`no such folder: ${root}`, 'make one from the host image first, e.g. cp -a ~/.cache/seclab/images/debian-12-ec2 ./my-root (as root)');
  if (!existsSync(`${root}/etc`) || !existsSync(`${root}/usr`)) throw new UsageError(`${root} is not a root filesystem (no etc/ or usr/)`);
  if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
  const { applyUserData } = await import('../host/userdata/index.ts');
  const r = await applyUserData(root, readFileSync(file), { instanceId: opts.instanceId, exec: opts.exec, fetch: opts.fetch, log: (l) => { if (!ui.json) process.stderr.write(`  ${l}\n`); } });
  if (ui.json) ui.print(JSON.stringify(r, null, 2));
  else ui.print(r.log.trimEnd());
  return r.ok ? ExitCode.OK : ExitCode.FAILED;
}

/**
 * `seclab host web <instance-id|root-folder>`: the instance's nginx, run as the lab's checks run it
 * (real nginx on loopback, ports mapped), so a student can try it with curl or `seclab tls scan`.
 * Runs until Ctrl-C; with --scan, probes port 443 once with the TLS prober and stops.
 */
export async function cmdHostWeb(ui: Ui, target: string, opts: CloudSelector & { account?: string; json?: boolean; scan?: boolean; sni?: string; ca?: string }): Promise<number> {
  let root = target;
  if (/^i-[0-9a-f]{8,17}$/.test(target)) {
    const s = await runningCloud({ name: opts.name, port: opts.port }, (m) => ui.warn(m));
    if (!s) throw new EnvironmentError('no lab cloud is running', 'Start one with `seclab cloud up`, or give a root folder instead of an instance id.');
    const q = new URLSearchParams({ account: opts.account ?? s.accountId, instance: target });
    const res = await fetch(`${s.url}/_seclab/instance-root?${q}`, { headers: { 'x-seclab-control-token': s.controlToken } });
    const v = (await res.json()) as { root?: string; error?: string };
    if (res.status === 404) throw new UsageError(v.error ?? `no instance ${target}`);
    if (!res.ok || !v.root) throw new EnvironmentError(`the lab cloud could not make the instance's folder: ${v.error ?? res.status}`);
    root = v.root;
  } else if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new UsageError(`${target} is neither an instance id (i-...) nor a folder`);
  }
  const { startNginx, nginxStatus } = await import('../host/web/nginx.ts');
  const st = nginxStatus();
  if (!st.installed) throw new EnvironmentError(st.reason ?? 'nginx is not installed', 'apt-get install nginx-light');
  const started = await startNginx(root);
  if (!started.ok) {
    ui.error(`the instance's nginx does not run (${started.kind}): ${started.message}`);
    for (const n of started.notes) ui.warn(n);
    return ExitCode.FAILED;
  }
  const server = started.server;
  try {
    for (const n of server.config.notes) ui.warn(n);
    const lines = server.ports.map((p) => `${p.ssl ? 'https' : 'http'}://127.0.0.1:${p.hostPort}/  ← the instance's port ${p.port}`);
    if (opts.scan) {
      const https = server.hostPort(443);
      if (https === undefined) throw new UsageError('the instance\'s nginx does not listen on 443');
      const { probe } = await import('../controls/tls/index.ts');
      const { renderText } = await import('../controls/tls/text.ts');
      const r = await probe('127.0.0.1', https, { ...(opts.sni ? { serverName: opts.sni } : {}), ...(opts.ca ? { caFile: opts.ca } : {}), httpPort: server.hostPort(80) ?? null });
      ui.print(ui.json ? JSON.stringify(r, null, 2) : renderText(r).join('\n'));
      return ExitCode.OK;
    }
    if (ui.json) ui.print(JSON.stringify({ pid: server.pid, ports: server.ports }, null, 2));
    else ui.print(`${lines.join('\n')}\nnginx runs the instance's configuration; Ctrl-C stops it.`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    return ExitCode.OK;
  } finally {
    await server.stop();
  }
}
