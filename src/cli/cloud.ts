// `seclab cloud up` (the lab cloud in the foreground, for working by hand with the AWS CLI),
// `seclab env` (its export lines) and `seclab doctor`.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { cacheDir } from '../cloud/targets/python.ts';
import { writeFileAtomic } from '../engine/workspace.ts';
import { labArg, openCloud, type CommonOptions } from './context.ts';
import { EnvironmentError, ExitCode, UsageError } from './errors.ts';
import { onInterrupt } from './interrupt.ts';
import { terminalWidth, textWidth, wrapLine } from './render.ts';
import type { Ui } from './ui.ts';

export interface CloudState {
  /** Its name (`cloud up --name`; default the lab id, else "cloud"), unique among the running ones. */
  name?: string;
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

/**
 * Each `cloud up` records its lab cloud in its own file, `<cache>/clouds/<pid>.json` (mode 0600: it
 * holds the lab account's key), for `seclab env`, `outbox` and `siem`; it removes its own file when it
 * stops. Records whose process is gone are removed by the next reader.
 */
export function cloudStateDir(): string {
  return path.join(cacheDir(), 'clouds');
}

export function cloudStateFile(pid: number = process.pid): string {
  return path.join(cloudStateDir(), `${pid}.json`);
}

/** The single record of seclab versions before per-cloud records (still read, and cleaned when stale). */
function legacyStateFile(): string {
  return path.join(cacheDir(), 'cloud-up.json');
}

const DEFAULT_NAME = 'cloud';
const nameOf = (s: CloudState): string => s.name ?? DEFAULT_NAME;
const portOf = (s: CloudState): string => {
  try {
    return new URL(s.url).port;
  } catch {
    return '';
  }
};

export function exportLines(env: Record<string, string>, shell: string = 'sh'): string[] {
  const q = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  if (shell === 'fish') return Object.entries(env).map(([k, v]) => `set -gx ${k} ${q(v)}`);
  if (shell === 'powershell' || shell === 'pwsh') return Object.entries(env).map(([k, v]) => `$env:${k} = "${v.replace(/"/g, '`"')}"`);
  return Object.entries(env).map(([k, v]) => `export ${k}=${q(v)}`);
}

function envOfState(s: CloudState): Record<string, string> {
  return {
    // Which lab cloud this shell uses: `seclab outbox`, `seclab siem ...` and `seclab env` pick it.
    SECLAB_CLOUD: nameOf(s),
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

function readState(file: string): CloudState | undefined {
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as CloudState;
    return typeof s === 'object' && s && typeof s.pid === 'number' && typeof s.url === 'string' ? s : undefined;
  } catch {
    return undefined;
  }
}

function stateFiles(): string[] {
  let names: string[] = [];
  try {
    names = readdirSync(cloudStateDir()).filter((n) => /^\d+\.json$/.test(n));
  } catch {
    // no lab cloud ever recorded
  }
  return [...names.map((n) => path.join(cloudStateDir(), n)), legacyStateFile()];
}

/**
 * The lab clouds recorded by running `cloud up`s that answer. A record whose process is gone is
 * removed; one whose process lives but does not answer is left alone and skipped; each with a note.
 */
export async function runningClouds(note: (m: string) => void = () => {}): Promise<CloudState[]> {
  const found = await Promise.all(stateFiles().map(async (file) => {
    let raw: string;
    try {
      raw = readFileSync(file, 'utf8');
    } catch {
      return undefined; // none there (or removed meanwhile)
    }
    const s = readState(file);
    const what = s ? `lab cloud "${nameOf(s)}" (${s.url}, pid ${s.pid})` : `lab cloud record ${file}`;
    if (!s || !alive(s.pid)) {
      // A record that is not JSON is not ours to keep either (writes are atomic: never half a file).
      rmSync(file, { force: true });
      note(`removed the record of ${what}: ${s ? 'its process is gone' : `unreadable (${raw.length} bytes)`}`);
      return undefined;
    }
    if (!(await healthy(s.url))) {
      note(`skipped ${what}: the process runs but the lab cloud does not answer (still starting, or the pid was reused)`);
      return undefined;
    }
    return s;
  }));
  const list = found.filter((s): s is CloudState => !!s);
  return list.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.pid - b.pid);
}

export interface CloudSelector {
  /** `--name`: the name given to `cloud up --name` (or its lab). */
  name?: string;
  /** `--port`: the gateway's port. */
  port?: string | number;
}

/** One line per running lab cloud, for lists and errors. */
export function cloudLine(s: CloudState): string {
  return `${nameOf(s).padEnd(12)} ${(s.tlsUrl ?? s.url).padEnd(24)} ${String(s.pid).padEnd(7)} ${s.accountId.padEnd(12)} ${s.startedAt.slice(11, 19)}${s.lab ? `  ${s.lab}` : ''}`;
}
const CLOUD_HEADER = `${'name'.padEnd(12)} ${'endpoint'.padEnd(24)} ${'pid'.padEnd(7)} ${'account'.padEnd(12)} ${'since'.padEnd(8)}  lab`;

function summary(s: CloudState): Record<string, unknown> {
  return { name: nameOf(s), url: s.url, ...(s.tlsUrl ? { tlsUrl: s.tlsUrl } : {}), port: Number(portOf(s)) || null, pid: s.pid, accountId: s.accountId, target: s.target, ...(s.lab ? { lab: s.lab } : {}), startedAt: s.startedAt };
}

/**
 * The lab cloud a command uses: the one named by `--name` / `--port`, else the one this shell points at
 * (`SECLAB_CLOUD`, or `AWS_ENDPOINT_URL` / `SECLAB_PROXY` from `seclab env`), else the only one running.
 * Undefined when none runs; a usage error when several run and nothing says which.
 */
export async function runningCloud(sel: CloudSelector = {}, note: (m: string) => void = (m) => process.stderr.write(`! ${m}\n`)): Promise<CloudState | undefined> {
  const all = await runningClouds(note);
  const listed = () => [CLOUD_HEADER, ...all.map(cloudLine)].map((l) => `  ${l}`).join('\n');
  const data = () => ({ clouds: all.map(summary) });
  if (sel.name !== undefined || sel.port !== undefined) {
    const port = sel.port === undefined ? undefined : String(sel.port);
    const hit = all.filter((s) => (sel.name === undefined || nameOf(s) === sel.name) && (port === undefined || portOf(s) === port || (s.tlsUrl && new URL(s.tlsUrl).port === port)));
    const asked = [sel.name !== undefined ? `named "${sel.name}"` : '', port !== undefined ? `on port ${port}` : ''].filter(Boolean).join(' ');
    if (hit.length === 1) return hit[0];
    if (!all.length) return undefined;
    throw new EnvironmentError(`no lab cloud ${asked} is running; running:\n${listed()}`, 'Pick one of them with --name <name> or --port <port> (`seclab env --list` lists them).').with(data());
  }
  if (all.length <= 1) return all[0];
  const wanted = process.env['SECLAB_CLOUD'];
  if (wanted) {
    const hit = all.find((s) => nameOf(s) === wanted);
    if (hit) return hit;
    note(`SECLAB_CLOUD=${wanted}: no lab cloud of that name runs any more`);
  }
  const urls = ['AWS_ENDPOINT_URL', 'SECLAB_PROXY', 'SECLAB_HTTP_ENDPOINT_URL'].map((k) => process.env[k]).filter((u): u is string => !!u);
  const byUrl = all.filter((s) => urls.includes(s.url) || (!!s.tlsUrl && urls.includes(s.tlsUrl)));
  if (byUrl.length === 1) return byUrl[0];
  throw new UsageError(`${all.length} lab clouds are running; which one?\n${listed()}`, `Pick one with --name <name> or --port <port>, e.g. \`seclab env --name ${nameOf(all[0]!)}\`.`).with(data());
}

export async function cmdEnv(ui: Ui, opts: CommonOptions & CloudSelector & { shell?: string; list?: boolean }): Promise<number> {
  const note = (m: string) => ui.warn(m);
  if (opts.list) {
    const all = await runningClouds(note);
    if (ui.json) ui.print(JSON.stringify({ clouds: all.map(summary) }, null, 2));
    else if (!all.length) ui.info('No lab cloud is running (`seclab cloud up` starts one).');
    else {
      ui.print(ui.out.bold(CLOUD_HEADER));
      for (const s of all) ui.print(cloudLine(s));
    }
    return ExitCode.OK;
  }
  const s = await runningCloud({ name: opts.name, port: opts.port }, note);
  if (!s) throw new EnvironmentError('no lab cloud is running', 'Start one with `seclab cloud up` in another terminal, then `eval "$(seclab env)"`.').with({ running: false });
  const env = envOfState(s);
  if (ui.json) ui.print(JSON.stringify({ running: true, ...s, name: nameOf(s), env }, null, 2));
  else {
    for (const l of exportLines(env, opts.shell)) ui.print(l);
    const pick = opts.name !== undefined ? ` --name ${nameOf(s)}` : opts.port !== undefined ? ` --port ${opts.port}` : '';
    ui.info(ui.err.dim(`# lab cloud "${nameOf(s)}" ${s.tlsUrl ?? s.url} (pid ${s.pid}), account ${s.accountId}${s.lab ? `, lab ${s.lab}` : ''}; load with: eval "$(seclab env${pick})"`));
  }
  return ExitCode.OK;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;

export async function cmdCloudUp(ui: Ui, opts: CommonOptions & { port?: string; lab?: string; shell?: string; name?: string }): Promise<number> {
  let port: number | undefined;
  if (opts.port !== undefined) {
    port = Number(opts.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port must be a port number (1-65535); got "${opts.port}"`);
  }
  if (opts.name !== undefined && !NAME_RE.test(opts.name)) throw new UsageError(`--name must be letters, digits, ".", "_" or "-" (at most 40); got "${opts.name}"`);
  const lab = opts.lab ? await labArg(opts.lab) : undefined;
  // A name no running lab cloud has: `seclab env --name <name>` picks this one.
  let taken = new Set((await runningClouds((m) => ui.warn(m))).map(nameOf));
  if (opts.name !== undefined && taken.has(opts.name)) {
    throw new UsageError(`a lab cloud named "${opts.name}" is already running`, 'Give this one another --name (`seclab env --list` lists the running ones).');
  }
  const base = opts.name ?? lab?.id ?? DEFAULT_NAME;
  const freeName = () => {
    let n = base;
    for (let i = 2; taken.has(n); i++) n = `${base}-${i}`;
    return n;
  };
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
    // Named once it runs: another `cloud up` started meanwhile may have taken the name.
    taken = new Set((await runningClouds()).filter((c) => c.pid !== process.pid).map(nameOf));
    const name = freeName();
    if (opts.name !== undefined && name !== opts.name) ui.warn(`another lab cloud took the name "${opts.name}" meanwhile: this one is "${name}"`);
    const state: CloudState = {
      name, pid: process.pid, url: cloud.url, region: cloud.region, target: opts.target ?? 'moto', accountId: root.accountId,
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
      const width = terminalWidth();
      ui.print(wrapLine(`${st.bold('Lab cloud')}  ${cloud.gateway.tlsUrl ?? cloud.url}${cloud.gateway.tlsUrl ? `  (and ${cloud.url} without TLS)` : ''}`, width, 11).join('\n'));
      ui.print(wrapLine(`           ${st.dim(cloud.target.description)}`, width, 11).join('\n'));
      ui.print(`${st.bold('Account')}    ${root.accountId}${lab ? `  (lab ${lab.id} provisioned)` : ''}   region ${cloud.region}`);
      ui.print(wrapLine(`${st.bold('Name')}       ${name}${taken.size ? st.dim(`   (${taken.size} other lab cloud${taken.size === 1 ? '' : 's'} running)`) : ''}`, width, 11).join('\n'));
      ui.print('');
      ui.print(wrapLine(st.bold(`For the AWS CLI and SDKs (or in another terminal: eval "$(seclab env${taken.size ? ` --name ${name}` : ''})")`), width, 2).join('\n'));
      for (const l of exportLines(env, opts.shell)) ui.print(`  ${l}`);
      ui.print(st.dim('  then e.g.: aws sts get-caller-identity'));
      if (facts) {
        ui.print('');
        ui.print(st.bold(`Lab ${lab!.id}: the company`));
        ui.print(JSON.stringify(facts, null, 2).split('\n').map((l) => `  ${l}`).join('\n'));
      }
      ui.print('');
      ui.print(st.bold('Control endpoints'));
      // An endpoint and what it does on one line when it fits, else what it does on the next line.
      for (const l of controlEndpoints(cloud.url, cloud.gateway.controlToken)) {
        const [call, what] = l.split(/ {3,}/);
        if (textWidth(l) + 2 <= width || !what) ui.print(wrapLine(`  ${l}`, width, 4).join('\n'));
        else ui.print(`  ${call}\n${wrapLine(`      ${st.dim(what)}`, width, 6).join('\n')}`);
      }
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
export async function cmdOutbox(ui: Ui, opts: CommonOptions & CloudSelector & { protocol?: string }): Promise<number> {
  const s = await runningCloud({ name: opts.name, port: opts.port }, (m) => ui.warn(m));
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
