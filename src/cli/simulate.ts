// Debugging a lab: `seclab check <lab> --keep` (the graded account and the lab cloud stay up, with
// what the AWS CLI needs to reach them) and `seclab simulate <lab>` (the company's normal activity
// played on the lab clock against the student's controls, and what their metrics, alarms and rules saw).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { solutionFile, writeFileAtomic } from '../engine/workspace.ts';
import type { LabCloud } from '../cloud/labcloud.ts';
import type { Lab, LabGrade } from '../engine/types.ts';
import type { SimulationReport } from '../engine/simulate.ts';
import { COMPARISON_SIGN } from '../engine/simulate.ts';
import type { Style } from '../engine/report/style.ts';
import { cloudStateFile, exportLines, type CloudState } from './cloud.ts';
import { labArg, openCloud, workspaceOf, type CommonOptions, type OpenCloud } from './context.ts';
import { EnvironmentError, ExitCode, UsageError } from './errors.ts';
import { onInterrupt } from './interrupt.ts';
import { terminalWidth, wrapLine } from './render.ts';
import type { Ui } from './ui.ts';

// ---- check --keep ----

export interface KeptAccount {
  /** The name `seclab env --name` / `seclab outbox --name` find it by. */
  name: string;
  accountId: string;
  region: string;
  endpoint: string;
  /** HTTP endpoint when the HTTPS one is the main one. */
  httpEndpoint?: string;
  caFile?: string;
  /** Environment for the AWS CLI and SDKs: endpoint, region, the account's root credentials, CA bundle. */
  env: Record<string, string>;
}

/** Fresh root credentials of the graded account and the environment that reaches it. */
export function keptAccess(cloud: LabCloud, lab: Lab, grade: Pick<LabGrade, 'accountId'>): KeptAccount | undefined {
  if (!grade.accountId) return undefined;
  const root = cloud.gateway.mintRootCredentials(grade.accountId);
  const tls = cloud.gateway.tlsUrl && cloud.caFile ? { url: cloud.gateway.tlsUrl, ca: cloud.caFile } : undefined;
  const name = `check-${lab.id}`;
  const env: Record<string, string> = {
    SECLAB_CLOUD: name,
    AWS_ENDPOINT_URL: tls?.url ?? cloud.url,
    ...(tls ? { AWS_CA_BUNDLE: tls.ca, NODE_EXTRA_CA_CERTS: tls.ca, SECLAB_HTTP_ENDPOINT_URL: cloud.url } : {}),
    SECLAB_PROXY: cloud.url,
    AWS_ACCESS_KEY_ID: root.accessKeyId,
    AWS_SECRET_ACCESS_KEY: root.secretAccessKey,
    AWS_REGION: cloud.region,
    AWS_DEFAULT_REGION: cloud.region,
  };
  return {
    name, accountId: grade.accountId, region: cloud.region, endpoint: tls?.url ?? cloud.url,
    ...(tls ? { httpEndpoint: cloud.url, caFile: tls.ca } : {}), env,
  };
}

/**
 * After `check --keep` printed its report: says how to reach the graded account, records the lab cloud
 * for `seclab env` / `seclab outbox` (as `cloud up` does), and waits until Ctrl-C, which stops the lab
 * cloud (the interrupt handlers) and exits 130; or until the lab cloud dies (exit 3).
 */
export async function stayUp(ui: Ui, oc: OpenCloud, lab: Lab, kept: KeptAccount | undefined, opts: { shell?: string } = {}): Promise<void> {
  const { cloud } = oc;
  if (!kept) {
    ui.warn('--keep: no account was graded (provisioning failed), so there is nothing to keep up');
    await oc.close();
    return;
  }
  const stateFile = cloudStateFile();
  const state: CloudState = {
    name: kept.name, pid: process.pid, url: cloud.url, region: cloud.region, target: cloud.target.description, accountId: kept.accountId,
    accessKeyId: kept.env['AWS_ACCESS_KEY_ID']!, secretAccessKey: kept.env['AWS_SECRET_ACCESS_KEY']!, controlToken: cloud.gateway.controlToken,
    startedAt: new Date().toISOString(), lab: lab.id, ...(kept.caFile && kept.httpEndpoint ? { tlsUrl: kept.endpoint, caFile: kept.caFile } : {}),
  };
  const removeState = () => {
    try {
      const s = JSON.parse(readFileSync(stateFile, 'utf8')) as CloudState;
      if (s.pid === process.pid) rmSync(stateFile, { force: true });
    } catch {
      // not there
    }
  };
  const offState = onInterrupt(removeState);
  process.on('exit', removeState);
  try {
    await writeFileAtomic(stateFile, JSON.stringify(state, null, 2), { mode: 0o600 }).catch(() => undefined);
    if (!ui.json) {
      const st = ui.out;
      const width = terminalWidth();
      ui.print('');
      ui.print(st.bold(`The graded account stays up (--keep): account ${kept.accountId}, ${kept.region}`));
      ui.print(wrapLine(st.dim(`Lab cloud ${kept.endpoint}${kept.httpEndpoint ? ` (and ${kept.httpEndpoint} without TLS)` : ''}`), width, 2).join('\n'));
      ui.print('');
      ui.print(st.bold('For the AWS CLI, in another terminal:'));
      for (const l of exportLines(kept.env, opts.shell)) ui.print(`  ${l}`);
      ui.print(st.dim(`  (or: eval "$(seclab env --name ${kept.name})")`));
      ui.print('');
      ui.print(st.dim('  then e.g.: aws sts get-caller-identity'));
      ui.print(st.dim('             aws lambda list-functions'));
      ui.print(st.dim('             aws logs filter-log-events --log-group-name /aws/lambda/<function>'));
      ui.print(st.dim('             aws cloudwatch describe-alarm-history'));
      ui.print(st.dim(`             seclab outbox --name ${kept.name}`));
      ui.print('');
      ui.print(st.dim('Running. Ctrl-C stops the lab cloud and throws the account away.'));
    }
    await new Promise<void>((resolve) => {
      cloud.target.onDeath((err) => {
        ui.error(`the lab cloud's target stopped: ${err.message}`);
        resolve();
      });
    });
    throw new EnvironmentError('the lab cloud stopped while it was kept up', 'Run `seclab check --keep` again; `seclab doctor` checks the set-up.');
  } finally {
    offState();
    removeState();
    await oc.close();
  }
}

// ---- simulate ----

export interface SimulateOptions extends CommonOptions {
  minutes?: string;
  seed?: string;
  timeout?: string;
}

/** 1234 → "1234", 12345678 → "12.3M", 0.25 → "0.25". */
export function fmtNum(v: number): string {
  const a = Math.abs(v);
  const short = (x: number, unit: string) => `${x >= 100 ? Math.round(x) : Number(x.toFixed(1))}${unit}`;
  if (a >= 1e9) return `${v < 0 ? '-' : ''}${short(a / 1e9, 'G')}`;
  if (a >= 1e6) return `${v < 0 ? '-' : ''}${short(a / 1e6, 'M')}`;
  if (a >= 1e4) return `${v < 0 ? '-' : ''}${short(a / 1e3, 'k')}`;
  return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(2)));
}

/** Lab time from the start of the activity: +12:00. */
const at = (ms: number) => `+${Math.floor(ms / 60_000)}:${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}`;

/** Values in columns that fit `width`, `pad` spaces in, "·" for no data. */
export function valueRows(values: (number | null)[], width: number, pad: number): string[] {
  const cells = values.map((v) => (v === null ? '·' : fmtNum(v)));
  const w = Math.max(1, ...cells.map((c) => c.length)) + 1;
  const per = Math.max(1, Math.floor((width - pad) / w));
  const rows: string[] = [];
  for (let i = 0; i < cells.length; i += per) rows.push(`${' '.repeat(pad)}${cells.slice(i, i + per).map((c) => c.padStart(w)).join('')}`);
  return rows;
}

export function renderSimulation(r: SimulationReport, st: Style, width = 80): string[] {
  const out: string[] = [];
  const wrap = (line: string, hang = 4) => wrapLine(line, width, hang);
  out.push(...wrap(st.bold(`${r.lab}: ${r.minutes} minutes of the company's normal activity, no attacks`), 2));
  out.push(...wrap(st.dim(`account ${r.accountId} · seed ${r.seed} (--seed ${r.seed} plays the same day again)`), 2));
  const failed = r.student.filter((x) => !x.ok);
  if (failed.length) {
    out.push('', st.red(st.bold('✘ Your code failed (the activity ran against what it had done):')));
    for (const x of failed) out.push(...wrap(st.red(`    ${x.export}(): ${x.error ?? 'failed'}`), 6));
  } else if (r.student.length) out.push(`${st.green('✔')} your code ran: ${r.student.map((x) => `${x.export}()`).join(', ')}`);

  out.push('', st.bold('Metrics') + st.dim(' (sum of the datapoints of each minute; · no data)'));
  if (!r.metrics.length) out.push(...wrap(st.yellow('  No metric got any datapoint: no metric filter matched (or none exists).'), 4));
  for (const m of r.metrics) {
    const withData = m.perMinute.filter((v) => v !== null).length;
    out.push(...wrap(`  ${st.cyan(`${m.namespace}/${m.name}`)}${m.dimensions ? st.dim(` {${m.dimensions}}`) : ''}`, 4));
    out.push(...wrap(`    max per minute ${m.maxPerMinute === null ? '—' : st.bold(fmtNum(m.maxPerMinute))} · largest datapoint ${m.maxValue === null ? '—' : fmtNum(m.maxValue)} · ${m.datapoints} datapoints in ${withData}/${r.minutes} min`, 6));
    out.push(...valueRows(m.perMinute, width, 4).map((l) => st.dim(l)));
  }

  out.push('', st.bold('Alarms'));
  if (!r.alarms.length) out.push('  No alarm in the account.');
  for (const a of r.alarms) {
    const need = a.datapointsToAlarm === a.evaluationPeriods ? `${a.evaluationPeriods}` : `${a.datapointsToAlarm} of ${a.evaluationPeriods}`;
    const rule = `${a.statistic} over ${a.period} s ${COMPARISON_SIGN[a.comparison] ?? a.comparison} ${a.threshold === null ? '?' : fmtNum(a.threshold)}, ${need} period(s)`;
    out.push(...wrap(`  ${st.cyan(a.name)}  ${st.dim(rule)}`, 4));
    out.push(...wrap(`    on ${a.metric}`, 6).map((l) => st.dim(l)));
    const n = a.perPeriod.length;
    const breach = a.breaching ? st.red(`${a.breaching} of ${n} periods breaching`) : st.green(`0 of ${n} periods breaching`);
    out.push(...wrap(`    max per period ${a.maxPerPeriod === null ? '— (no data)' : st.bold(fmtNum(a.maxPerPeriod))} · ${breach} · now ${a.state === 'ALARM' ? st.red(a.state) : a.state}`, 6));
    if (a.perPeriod.length <= 120) out.push(...valueRows(a.perPeriod, width, 4).map((l) => st.dim(l)));
    const changes = a.changes.map((c) => `${at(c.atMs)} ${c.from} → ${c.to === 'ALARM' ? st.red(c.to) : c.to}`);
    out.push(...wrap(`    state changes: ${changes.length ? changes.join(', ') : `none (${a.state} throughout)`}`, 6));
  }

  if (r.rules) {
    out.push('', st.bold('SIEM rules') + st.dim(' (alerts with the default deduplication, no throttle)'));
    if (!r.rules.length) out.push('  No rule matched: your SIEM stayed quiet.');
    for (const x of r.rules) {
      const first = x.firstAt !== undefined && x.firstAt >= 0 ? `, first at ${at(x.firstAt)}` : '';
      out.push(...wrap(`  ${x.alerts > 0 ? st.yellow(String(x.alerts).padStart(3)) : '  0'} alert${x.alerts === 1 ? ' ' : 's'}  ${x.rule} ${st.dim(`(${x.level}, ${x.hits} hit${x.hits === 1 ? '' : 's'}${first})`)}`, 14));
    }
  }
  if (r.correlations?.length) {
    out.push('', st.bold('Correlation rules') + st.dim(' (the largest count in one window, and the rule\'s condition)'));
    const seen = [...r.correlations].filter((c) => c.max > 0).sort((a, b) => b.max - a.max || a.rule.localeCompare(b.rule));
    const none = r.correlations.length - seen.length;
    for (const c of seen) {
      const span = c.timespanMs % 60_000 ? `${c.timespanMs / 1000}s` : `${c.timespanMs / 60_000}m`;
      out.push(...wrap(`  ${st.bold(String(c.max).padStart(3))} in ${span}  ${c.rule} ${st.dim(`(${c.type}, fires at ${c.condition || '?'})`)}`, 6));
      if (c.group) out.push(...wrap(st.dim(`      for ${c.group}`), 10));
    }
    if (none) out.push(...wrap(st.dim(`  ${seen.length ? 'and ' : ''}${none} rule${none === 1 ? '' : 's'} counted nothing in any window (--json lists them)`), 4));
  }
  if (r.notes.length) {
    out.push('');
    for (const n of r.notes) out.push(...wrap(st.dim(`Note: ${n}`), 6));
  }
  if (r.metrics.length || r.alarms.length || r.rules?.length || r.correlations?.length) {
    out.push('', ...wrap(st.dim('Choose thresholds above what a normal minute (or period) shows here, and below what an attack adds: the workbook says how big the attacks are.'), 0));
  }
  return out;
}

export async function cmdSimulate(ui: Ui, labId: string | undefined, opts: SimulateOptions): Promise<number> {
  const lab = await labArg(labId);
  const ws = await workspaceOf(opts);
  if (!existsSync(solutionFile(ws, lab.id))) {
    throw new UsageError(`there is no ${solutionFile(ws, lab.id)}`, `create it from the starter with \`seclab start ${lab.id}\` (or \`seclab init\`), or pass --workspace <dir>`);
  }
  const { simulateLab, DEFAULT_MINUTES, MAX_MINUTES } = await import('../engine/simulate.ts');
  const minutes = opts.minutes === undefined ? DEFAULT_MINUTES : Number(opts.minutes);
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_MINUTES) throw new UsageError(`--minutes must be a whole number from 1 to ${MAX_MINUTES}; got "${opts.minutes}"`);
  let timeoutMs: number | undefined;
  if (opts.timeout !== undefined) {
    const s = Number(opts.timeout);
    if (!Number.isFinite(s) || s <= 0) throw new UsageError(`--timeout must be a number of seconds; got "${opts.timeout}"`);
    timeoutMs = s * 1000;
  }
  const oc = await openCloud(ui, opts);
  let report: SimulationReport;
  try {
    const PHASES = { provision: 'provisioning the lab environment', 'student code': 'running your code', activity: 'playing the company\'s normal activity', reading: 'reading metrics and alarms' };
    const spinner = ui.spin(`${lab.id}: ${PHASES.provision}`);
    try {
      report = await simulateLab(oc.cloud, lab, {
        workspace: ws, minutes, seed: opts.seed, timeoutMs,
        phase: (p) => spinner.text(`${lab.id}: ${PHASES[p]}`),
        studentOutput: (line) => ui.info(ui.err.dim(`  │ ${line}`)),
        minute: (n) => spinner.text(`${lab.id}: ${PHASES.activity}, minute ${n}/${minutes}`),
      });
    } catch (e) {
      spinner.fail(`${lab.id}: the simulation failed`);
      throw e;
    }
    spinner.succeed(`${lab.id}: ${minutes} minutes simulated`);
    oc.cloud.gateway.dropAccount(report.accountId);
  } finally {
    await oc.close();
  }
  if (ui.json) ui.print(JSON.stringify(report, null, 2));
  else {
    ui.print('');
    for (const l of renderSimulation(report, ui.out, terminalWidth())) ui.print(l);
  }
  return report.student.every((x) => x.ok) ? ExitCode.OK : ExitCode.FAILED;
}
