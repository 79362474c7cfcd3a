// `seclab siem …`: the SIEM of src/controls/siem from the terminal.
//
//   seclab siem scan <files or folders> [--rules <pack or folder>] [--format json|text]   offline, like Sigma tools
//   seclab siem alerts  [--workspace] [--json]   poll the running lab cloud with <workspace>/siem/siem.yml, list alerts
//   seclab siem sources [--workspace] [--json]   the same poll, then what each source has read
//   seclab siem rules   [--workspace] [--json]   the rules siem.yml loads (no lab cloud needed)
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Alert, RuleInfo, ScanResult, SiemAlert, SiemConfig } from '../controls/siem/index.ts';
import { attackLine, attributionLine } from '../controls/siem/notify.ts';
import { workspaceOf, type CommonOptions } from './context.ts';
import { EnvironmentError, ExitCode, UsageError } from './errors.ts';
import type { Ui } from './ui.ts';

export interface ScanOptions {
  rules?: string;
  format?: string;
  json?: boolean;
}

const SEV_ORDER = ['critical', 'high', 'medium', 'low', 'info'];

function severityText(ui: Ui, sev: string): string {
  const t = sev.toUpperCase().padEnd(8);
  if (sev === 'critical' || sev === 'high') return ui.out.red(t);
  if (sev === 'medium') return ui.out.yellow(t);
  return ui.out.dim(t);
}

function printAlert(ui: Ui, a: Alert, maxEvents = 3): void {
  ui.print(`${severityText(ui, a.severity)} ${ui.out.bold(a.rule.title)}  ${ui.out.dim(`${a.firstSeen}${a.lastSeen !== a.firstSeen ? ` → ${a.lastSeen}` : ''}, ${a.hits} hit${a.hits === 1 ? '' : 's'}`)}`);
  ui.print(`         ATT&CK: ${attackLine(a)}`);
  const group = Object.entries(a.group).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ');
  if (group) ui.print(`         ${group}`);
  ui.print(`         ${ui.out.dim(attributionLine(a))}`);
  for (const e of a.events.slice(0, maxEvents)) ui.print(`         ${ui.out.dim('·')} ${e.time} ${e.summary}${e.origin?.file ? ui.out.dim(`  (${e.origin.file}${e.origin.index !== undefined ? `#${e.origin.index}` : ''})`) : ''}`);
  const more = a.events.length + a.eventsOmitted - Math.min(maxEvents, a.events.length);
  if (more > 0) ui.print(`         ${ui.out.dim(`· … and ${more} more event${more === 1 ? '' : 's'}`)}`);
}

/** The SIEM (its AWS SDK clients, the rule compiler) is loaded only by the commands that use it. */
const siemModule = () => import('../controls/siem/index.ts');

// ---- scan ----

export async function cmdSiemScan(ui: Ui, paths: string[], opts: ScanOptions): Promise<number> {
  const format = opts.json ? 'json' : (opts.format ?? 'text');
  if (format !== 'json' && format !== 'text') throw new UsageError(`--format must be json or text, not "${opts.format}"`);
  for (const p of paths) if (!existsSync(p)) throw new UsageError(`no such file or folder: ${p}`, 'give CloudTrail files (Records JSON, JSON lines, gzipped trail files) or VPC flow-log files, or folders of them');
  if (opts.rules && !existsSync(opts.rules)) throw new UsageError(`--rules: no such file or folder: ${opts.rules}`, 'give a folder of Sigma rules (e.g. a copy of the bundled pack) or a rule file');
  const { scanFiles } = await siemModule();
  const result: ScanResult = await scanFiles(paths, opts.rules ? { rules: opts.rules } : {});
  if (format === 'json') {
    ui.print(JSON.stringify(result, null, 2));
  } else {
    const sorted = [...result.alerts].sort((a, b) => SEV_ORDER.indexOf(a.severity) - SEV_ORDER.indexOf(b.severity) || a.firstSeen.localeCompare(b.firstSeen));
    for (const a of sorted) {
      printAlert(ui, a);
      ui.print();
    }
    const unread = result.files.filter((f) => f.kind === 'unknown' || f.kind === 'error');
    for (const f of unread) ui.warn(`${f.path}: ${f.note ?? f.kind}`);
    for (const w of result.warnings) ui.warn(w);
    for (const n of result.notes) ui.info(`note: ${n}`);
    ui.print(`${result.alerts.length} alert${result.alerts.length === 1 ? '' : 's'} from ${result.events} event${result.events === 1 ? '' : 's'} in ${result.files.length} file${result.files.length === 1 ? '' : 's'} (${result.rules.detections} detection and ${result.rules.correlations} correlation rules)`);
  }
  for (const e of result.rules.errors) ui.warn(e);
  return ExitCode.OK;
}

// ---- the workspace's SIEM against the running lab cloud ----

export interface WorkspaceSiemOptions extends CommonOptions {
  config?: string;
}

async function loadConfig(opts: WorkspaceSiemOptions): Promise<{ config: SiemConfig; file: string; workspace: string }> {
  const { loadSiemConfig, SiemConfigError } = await siemModule();
  const workspace = await workspaceOf(opts);
  const file = opts.config ? path.resolve(opts.config) : path.join(workspace, 'siem', 'siem.yml');
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new UsageError(`no SIEM configuration at ${path.relative(process.cwd(), file) || file}`, 'create siem/siem.yml in your workspace (`seclab start siem` creates it from the starter), or give --workspace / --config');
  }
  try {
    return { config: loadSiemConfig(file, path.relative(process.cwd(), file) || file), file, workspace };
  } catch (e) {
    if (e instanceof SiemConfigError) throw new UsageError(e.message, 'fix the configuration and run the command again');
    throw e;
  }
}

async function workspaceSiem(opts: WorkspaceSiemOptions) {
  const { Siem } = await siemModule();
  const { config, file } = await loadConfig(opts);
  const { runningCloud } = await import('./cloud.ts');
  const s = await runningCloud();
  if (!s) throw new EnvironmentError('no lab cloud is running', 'Start one with `seclab cloud up --lab siem` in another terminal; the SIEM reads the trail, flow logs and log groups of its account.');
  const { cacheDir } = await import('../cloud/targets/python.ts');
  const stateFile = path.join(cacheDir(), 'siem', `${s.accountId}-${createHash('sha256').update(file).digest('hex').slice(0, 12)}.json`);
  // The SIEM's own credentials when the environment gives them (its integration user), else the account's root.
  const envKey = process.env['AWS_ACCESS_KEY_ID'] && process.env['AWS_SECRET_ACCESS_KEY']
    ? { accessKeyId: process.env['AWS_ACCESS_KEY_ID'], secretAccessKey: process.env['AWS_SECRET_ACCESS_KEY'], ...(process.env['AWS_SESSION_TOKEN'] ? { sessionToken: process.env['AWS_SESSION_TOKEN'] } : {}) }
    : undefined;
  const credentials = envKey ?? { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey };
  let siem;
  try {
    siem = new Siem(config, { endpoint: s.url, credentials, region: s.region, accountId: s.accountId, stateFile, name: `seclab siem (${path.basename(path.dirname(file))}/${path.basename(file)})` });
  } catch (e) {
    throw new EnvironmentError((e as Error).message);
  }
  return { siem, stateFile };
}

async function polled(ui: Ui, opts: WorkspaceSiemOptions) {
  const { siem, stateFile } = await workspaceSiem(opts);
  const fresh = await ui.task('Reading the SIEM\'s sources', () => siem.poll(), (a) => `Read the sources: ${a.length} new alert${a.length === 1 ? '' : 's'}`);
  siem.close();
  return { siem, fresh, stateFile };
}

export async function cmdSiemAlerts(ui: Ui, opts: WorkspaceSiemOptions & { all?: boolean }): Promise<number> {
  const { siem, fresh } = await polled(ui, opts);
  const alerts = siem.alerts();
  if (ui.json) {
    ui.print(JSON.stringify({ alerts, new: fresh.map((a) => a.id), problems: siem.problems() }, null, 2));
    return ExitCode.OK;
  }
  for (const p of siem.problems()) ui.warn(p);
  if (!alerts.length) {
    ui.print('No alerts yet. Make some activity (or launch an attack: seclab attack siem), wait for the trail to deliver it (the lab clock), then ask again.');
  }
  const freshIds = new Set(fresh.map((a) => a.id));
  for (const a of alerts as readonly SiemAlert[]) {
    printAlert(ui, a);
    const sent = a.notifications.filter((n) => !n.error).map((n) => n.channel);
    const failed = a.notifications.filter((n) => n.error);
    if (sent.length || failed.length) ui.print(`         ${ui.out.dim(`notified: ${sent.length ? [...new Set(sent)].join(', ') : 'none'}${failed.length ? `; failed: ${failed.map((n) => `${n.channel} (${n.error})`).join('; ')}` : ''}`)}${freshIds.has(a.id) ? ` ${ui.out.green('new')}` : ''}`);
    ui.print();
  }
  if (alerts.length) ui.info(ui.err.dim(`${alerts.length} alert${alerts.length === 1 ? '' : 's'}, ${fresh.length} new since the last time you asked`));
  return ExitCode.OK;
}

export async function cmdSiemSources(ui: Ui, opts: WorkspaceSiemOptions): Promise<number> {
  const { siem } = await polled(ui, opts);
  if (ui.json) {
    ui.print(JSON.stringify({ sources: siem.sources(), channels: siem.channels(), stats: siem.stats }, null, 2));
    return ExitCode.OK;
  }
  if (!siem.sources().length) ui.print('siem.yml names no sources: add the trail\'s bucket or log group, the flow logs and the application log groups.');
  for (const s of siem.sources()) {
    const mark = s.error ? ui.out.red('✘') : s.events ? ui.out.green('✔') : ui.out.yellow('…');
    ui.print(`${mark} ${ui.out.bold(s.name.padEnd(16))} ${s.type.padEnd(10)} ${s.location}`);
    ui.print(`    ${s.events} events from ${s.objects} ${s.location.startsWith('s3://') ? (s.objects === 1 ? 'file' : 'files') : s.objects === 1 ? 'log-group read' : 'log-group reads'}${s.skipped ? `, ${s.skipped} skipped` : ''}${s.newestEvent ? `, newest ${s.newestEvent}` : ''}`);
    if (s.error) ui.print(`    ${ui.out.red(s.error)}`);
  }
  for (const c of siem.channels()) {
    ui.print(`${c.lastError ? ui.out.red('✘') : ui.out.green('✔')} channel ${ui.out.bold(c.name)} sns ${c.topicArn} (≥ ${c.minSeverity}): ${c.sent} sent, ${c.failed} failed${c.lastError ? ` — ${c.lastError}` : ''}`);
  }
  const failed = siem.sources().some((s) => s.error) || siem.channels().some((c) => c.lastError);
  return failed ? ExitCode.FAILED : ExitCode.OK;
}

export async function cmdSiemRules(ui: Ui, opts: WorkspaceSiemOptions): Promise<number> {
  const { Siem, parseSiemConfig } = await siemModule();
  const workspace = await workspaceOf(opts);
  const file = opts.config ? path.resolve(opts.config) : path.join(workspace, 'siem', 'siem.yml');
  // Without a configuration: the bundled pack, as a SIEM with default settings would load it.
  const config = existsSync(file) ? (await loadConfig(opts)).config : parseSiemConfig('{}', '(bundled pack)', workspace);
  const siem = new Siem(config);
  const rules: RuleInfo[] = siem.rules();
  if (ui.json) {
    ui.print(JSON.stringify({ config: existsSync(file) ? file : null, rules, problems: siem.problems() }, null, 2));
    return siem.problems().length ? ExitCode.FAILED : ExitCode.OK;
  }
  const shown = rules.filter((r) => r.alerting || r.disabled);
  for (const r of shown.sort((a, b) => SEV_ORDER.indexOf(a.severity) - SEV_ORDER.indexOf(b.severity) || a.title.localeCompare(b.title))) {
    const tags = [r.attack.tactics.join(','), r.attack.techniques.join(',')].filter(Boolean).join(' ');
    ui.print(`${r.disabled ? ui.out.dim('off     ') : severityText(ui, r.severity)} ${r.disabled ? ui.out.dim(r.title) : r.title}  ${ui.out.dim(`${tags} · ${r.kind} · by ${r.author ?? '?'} · ${r.source}`)}`);
    if (r.disabled) ui.print(`         ${ui.out.dim(`disabled: ${r.disabled}`)}`);
  }
  ui.info(ui.err.dim(`${shown.filter((r) => r.alerting).length} alerting rules, ${rules.length - shown.length} used only by correlations, ${shown.filter((r) => r.disabled).length} disabled${existsSync(file) ? ` (${path.relative(process.cwd(), file)})` : ' (no siem.yml: the bundled pack)'}`));
  for (const p of siem.problems()) ui.warn(p);
  return siem.problems().length ? ExitCode.FAILED : ExitCode.OK;
}
