// `seclab cloud up` (the lab cloud in the foreground, for working by hand with the AWS CLI),
// `seclab env` (its export lines) and `seclab doctor`.
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { cacheDir } from '../cloud/targets/python.ts';
import { writeFileAtomic } from '../engine/workspace.ts';
import { labArg, openCloud, type CommonOptions } from './context.ts';
import { EnvironmentError, ExitCode, UsageError } from './errors.ts';
import { onInterrupt } from './interrupt.ts';
import type { Ui } from './ui.ts';

export interface CloudState {
  pid: number;
  url: string;
  region: string;
  target: string;
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
  controlToken: string;
  startedAt: string;
  lab?: string;
  /** The HTTPS listener and the CA that signed its certificate. */
  tlsUrl?: string;
  caFile?: string;
}

/** Where `cloud up` records the running lab cloud for `seclab env` (mode 0600: it holds the lab account's key). */
export function cloudStateFile(): string {
  return path.join(cacheDir(), 'cloud-up.json');
}

export function exportLines(env: Record<string, string>, shell: string = 'sh'): string[] {
  const q = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  if (shell === 'fish') return Object.entries(env).map(([k, v]) => `set -gx ${k} ${q(v)}`);
  if (shell === 'powershell' || shell === 'pwsh') return Object.entries(env).map(([k, v]) => `$env:${k} = "${v.replace(/"/g, '`"')}"`);
  return Object.entries(env).map(([k, v]) => `export ${k}=${q(v)}`);
}

function envOfState(s: CloudState): Record<string, string> {
  return {
    // HTTPS, as AWS: aws:SecureTransport is true, deny-non-TLS policies behave as on AWS. The AWS CLI
    // and boto3 trust the lab cloud's CA through AWS_CA_BUNDLE, Node.js through NODE_EXTRA_CA_CERTS.
    AWS_ENDPOINT_URL: s.tlsUrl ?? s.url,
    ...(s.tlsUrl && s.caFile ? { AWS_CA_BUNDLE: s.caFile, NODE_EXTRA_CA_CERTS: s.caFile, SECLAB_HTTP_ENDPOINT_URL: s.url } : {}),
    // For clients that build host names (S3 virtual hosts, s3control): HTTPS_PROXY=$SECLAB_PROXY aws ...
    SECLAB_PROXY: s.url,
    AWS_ACCESS_KEY_ID: s.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s.secretAccessKey,
    AWS_REGION: s.region,
    AWS_DEFAULT_REGION: s.region,
  };
}

export function controlEndpoints(url: string, token: string): string[] {
  return [
    `GET  ${url}/_seclab/health                 is the lab cloud up (and its target alive)?`,
    `GET  ${url}/_seclab/clock                  the lab clock`,
    `  with the header x-seclab-control-token: ${token}`,
    `POST ${url}/_seclab/clock                  {"advanceSeconds": N} moves the lab clock forward`,
    `POST ${url}/_seclab/accounts               a new 12-digit account: root access key and secret`,
    `GET  ${url}/_seclab/outbox?account=<id>    email and SMS delivered by SNS`,
    `GET  ${url}/_seclab/mfa-code?account=<id>&serial=<arn>   the code a lab person's authenticator shows`,
    `Header X-Seclab-Source-Ip: <ip> on any AWS call sets the source address the gateway sees (CloudTrail, aws:SourceIp).`,
  ];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function healthy(url: string): Promise<boolean> {
  try {
    const r = await fetch(`${url}/_seclab/health`, { signal: AbortSignal.timeout(1500) });
    return r.ok && ((await r.json()) as { ok?: boolean }).ok === true;
  } catch {
    return false;
  }
}

/** The running `cloud up`, if any (stale state files are ignored). */
export async function runningCloud(): Promise<CloudState | undefined> {
  let s: CloudState;
  try {
    s = JSON.parse(readFileSync(cloudStateFile(), 'utf8')) as CloudState;
  } catch {
    return undefined;
  }
  if (!s.pid || !alive(s.pid) || !(await healthy(s.url))) return undefined;
  return s;
}

export async function cmdEnv(ui: Ui, opts: CommonOptions & { shell?: string }): Promise<number> {
  const s = await runningCloud();
  if (!s) {
    if (ui.json) ui.print(JSON.stringify({ running: false }));
    throw new EnvironmentError('no lab cloud is running', 'Start one with `seclab cloud up` in another terminal, then `eval "$(seclab env)"`.');
  }
  const env = envOfState(s);
  if (ui.json) ui.print(JSON.stringify({ running: true, ...s, env }, null, 2));
  else {
    for (const l of exportLines(env, opts.shell)) ui.print(l);
    ui.info(ui.err.dim(`# lab cloud ${s.url} (pid ${s.pid}), account ${s.accountId}${s.lab ? `, lab ${s.lab}` : ''}; load with: eval "$(seclab env)"`));
  }
  return ExitCode.OK;
}

export async function cmdCloudUp(ui: Ui, opts: CommonOptions & { port?: string; lab?: string; shell?: string }): Promise<number> {
  let port: number | undefined;
  if (opts.port !== undefined) {
    port = Number(opts.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port must be a port number (1-65535); got "${opts.port}"`);
  }
  const lab = opts.lab ? await labArg(opts.lab) : undefined;
  const oc = await openCloud(ui, { ...opts, port });
  const { cloud } = oc;
  const stateFile = cloudStateFile();
  const removeState = () => {
    try {
      const s = JSON.parse(readFileSync(stateFile, 'utf8')) as CloudState;
      if (s.pid === process.pid) rmSync(stateFile, { force: true });
    } catch {
      // not ours or gone
    }
  };
  onInterrupt(removeState);
  process.on('exit', removeState);
  try {
    let root: { accountId: string; accessKeyId: string; secretAccessKey: string };
    let facts: Record<string, unknown> | undefined;
    if (lab) {
      const { provisionLab } = await import('../engine/grader.ts');
      const session = await ui.task(`Provisioning lab ${lab.id}`, () => provisionLab(cloud, lab));
      root = session.root;
      facts = session.env;
    } else {
      root = cloud.createAccount();
    }
    const state: CloudState = {
      pid: process.pid, url: cloud.url, region: cloud.region, target: opts.target ?? 'moto', accountId: root.accountId,
      accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey, controlToken: cloud.gateway.controlToken,
      startedAt: new Date().toISOString(), ...(lab ? { lab: lab.id } : {}),
      ...(cloud.gateway.tlsUrl && cloud.caFile ? { tlsUrl: cloud.gateway.tlsUrl, caFile: cloud.caFile } : {}),
    };
    await writeFileAtomic(stateFile, JSON.stringify(state, null, 2), { mode: 0o600 });
    const env = envOfState(state);
    if (ui.json) ui.print(JSON.stringify({ ...state, env, ...(facts ? { labEnv: facts } : {}) }));
    else {
      const st = ui.out;
      ui.print('');
      ui.print(`${st.bold('Lab cloud')}  ${cloud.gateway.tlsUrl ?? cloud.url}${cloud.gateway.tlsUrl ? `  (and ${cloud.url} without TLS)` : ''}   ${st.dim(cloud.target.description)}`);
      ui.print(`${st.bold('Account')}    ${root.accountId}${lab ? `  (lab ${lab.id} provisioned)` : ''}   region ${cloud.region}`);
      ui.print('');
      ui.print(st.bold('For the AWS CLI and SDKs (or in another terminal: eval "$(seclab env)")'));
      for (const l of exportLines(env, opts.shell)) ui.print(`  ${l}`);
      ui.print(st.dim('  then e.g.: aws sts get-caller-identity'));
      if (facts) {
        ui.print('');
        ui.print(st.bold(`Lab ${lab!.id}: the company`));
        ui.print(JSON.stringify(facts, null, 2).split('\n').map((l) => `  ${l}`).join('\n'));
      }
      ui.print('');
      ui.print(st.bold('Control endpoints'));
      for (const l of controlEndpoints(cloud.url, cloud.gateway.controlToken)) ui.print(`  ${l}`);
      ui.print('');
      ui.print(st.dim('Running. Ctrl-C stops the lab cloud.'));
    }
    // Until Ctrl-C (the interrupt handlers stop the cloud and exit 130) or the target dies.
    await new Promise<void>((resolve) => {
      cloud.target.onDeath((err) => {
        ui.error(`the lab cloud's target stopped: ${err.message}`);
        resolve();
      });
    });
    throw new EnvironmentError('the lab cloud stopped unexpectedly', 'Run `seclab cloud up` again; `seclab doctor` checks the set-up.');
  } finally {
    removeState();
    await oc.close();
  }
}

export async function cmdDoctor(ui: Ui): Promise<number> {
  const { runDoctor } = await import('../cloud/targets/doctor.ts');
  const checks = await ui.task('Checking this machine', () => runDoctor());
  const failedRequired = checks.filter((c) => !c.ok && !c.optional);
  if (ui.json) ui.print(JSON.stringify({ ok: failedRequired.length === 0, checks }, null, 2));
  else {
    const st = ui.out;
    for (const c of checks) {
      const mark = c.ok ? st.green('✔') : c.optional ? st.yellow('!') : st.red('✘');
      ui.print(`${mark} ${st.bold(c.name.padEnd(18))} ${c.detail}`);
      if (!c.ok && c.fix) ui.print(st.dim(`  ${''.padEnd(18)} → ${c.fix}`));
    }
    ui.print('');
    ui.print(failedRequired.length ? st.red(`Not ready: ${failedRequired.map((c) => c.name).join(', ')}.`) : st.green('Ready: the lab cloud can start.'));
  }
  return failedRequired.length ? ExitCode.FAILED : ExitCode.OK;
}


/** `seclab outbox`: the email and SMS the running lab cloud delivered (SNS), newest last. */
export async function cmdOutbox(ui: Ui, opts: CommonOptions & { protocol?: string }): Promise<number> {
  const s = await runningCloud();
  if (!s) throw new EnvironmentError('no lab cloud is running', 'Start one with `seclab cloud up`; its deliveries are listed here while it runs.');
  const q = new URLSearchParams({ account: s.accountId, ...(opts.protocol ? { protocol: opts.protocol } : {}) });
  const res = (await (await fetch(`${s.url}/_seclab/outbox?${q}`, { headers: { 'x-seclab-control-token': s.controlToken } })).json()) as { deliveries: { time: string; protocol: string; endpoint: string; subject?: string; message: string }[] };
  if (ui.json) {
    ui.print(JSON.stringify(res.deliveries, null, 2));
    return ExitCode.OK;
  }
  if (!res.deliveries.length) ui.print('No email or SMS delivered yet (subscribe an address to an SNS topic, then publish to it).');
  for (const d of res.deliveries) {
    ui.print(`${ui.out.dim(d.time)}  ${d.protocol.padEnd(10)} ${d.endpoint}${d.subject ? `  ${ui.out.bold(d.subject)}` : ''}`);
    ui.print(`  ${d.message.length > 400 ? `${d.message.slice(0, 400)}…` : d.message}`);
  }
  return ExitCode.OK;
}
