// `seclab anomaly train|score|eval <flow files>`: the network-anomaly model (src/controls/anomaly,
// docs/anomaly.md) on VPC Flow Log files. Exit codes: 0 ok (score: no alert), 1 score raised alerts,
// 2 usage (missing files, bad options, a model file that cannot be used, unlabelled files for eval).
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ExitCode, UsageError } from './errors.ts';
import type { Ui } from './ui.ts';
import type { FlowRecord, ModelKind, ParseReport } from '../controls/anomaly/index.ts';

type Run = (action: (ui: Ui) => Promise<number>, json: boolean) => void;

const FILES_HELP = 'VPC Flow Log files (the default v2 format as AWS writes it, with or without its header line; CSV with those columns and optionally a "label" column; .gz) or folders of them';

export interface AnomalyOptions {
  json?: boolean;
  format?: string;
  out?: string;
  model?: string;
  kind?: string;
  window?: string;
  fpr?: string;
  normal?: string;
  trainFraction?: string;
  seed?: string;
  top?: string;
}

/** Registers `seclab anomaly …` on the program (called from main.ts). */
export function registerAnomaly(program: Command, run: Run): void {
  const anomaly = program.command('anomaly').description('the network-anomaly model: learn normal behaviour per host from flow logs, score, evaluate (docs/anomaly.md)');
  const opts = (cmd: Command) => cmd.optsWithGlobals() as AnomalyOptions;
  const json = (cmd: Command) => !!opts(cmd).json || opts(cmd).format === 'json';
  const common = (c: Command) => c
    .option('--json', 'machine-readable output on stdout (no spinners, no colors)')
    .option('-f, --format <format>', 'text (default) or json');
  const training = (c: Command) => c
    .option('--window <seconds>', 'feature window length in seconds (default 60)')
    .option('--fpr <rate>', 'false-positive rate the alert thresholds are set for, on held-out normal windows (default 0.01)')
    .option('--normal <which>', 'what is normal: labels (windows labelled Benign; needs a label column) or all (every window of the training period); default labels when the files are labelled')
    .option('--seed <seed>', 'seed of the isolation forest (default "anomaly")');
  common(training(anomaly.command('train')))
    .argument('<files...>', FILES_HELP)
    .requiredOption('-o, --out <file>', 'where to write the model (JSON)')
    .option('--train-fraction <share>', 'learn only from the earliest share of the records (default 1: all), keeping the rest for evaluation')
    .description('learn normal behaviour per host from flow logs; write a versioned model file')
    .action((files: string[], _o, cmd: Command) => run((ui) => cmdAnomalyTrain(ui, files, opts(cmd)), json(cmd)));
  common(anomaly.command('score'))
    .argument('<files...>', FILES_HELP)
    .requiredOption('-m, --model <file>', 'a model file from `seclab anomaly train`')
    .option('--kind <model>', 'robust (ours, default), threshold or iforest')
    .option('--top <n>', 'alerts to print in text output (default 20; json has all)')
    .description('score every host window against a trained model; alerts with explanations; exit 1 when there are alerts')
    .action((files: string[], _o, cmd: Command) => run((ui) => cmdAnomalyScore(ui, files, opts(cmd)), json(cmd)));
  common(training(anomaly.command('eval')))
    .argument('<files...>', 'labelled flow files (a "label" column: Malicious, Benign, Background), each one capture')
    .option('-m, --model <file>', 'evaluate this trained model on the whole of each file (cross-capture) instead of the time split')
    .option('--train-fraction <share>', 'time split: train on the period of the earliest share of each capture\'s records (default 0.5), evaluate on the rest')
    .description('ROC-AUC, precision/recall at the chosen false-positive rate and time to detect, per capture, for the three models')
    .action((files: string[], _o, cmd: Command) => run((ui) => cmdAnomalyEval(ui, files, opts(cmd)), json(cmd)));
}

function formatOf(o: AnomalyOptions): 'json' | 'text' {
  const f = o.json ? 'json' : (o.format ?? 'text');
  if (f !== 'json' && f !== 'text') throw new UsageError(`--format must be json or text, not "${o.format}"`);
  return f;
}

function num(name: string, v: string | undefined, dflt: number, ok: (x: number) => boolean, what: string): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (!/^\s*[0-9.eE+-]+\s*$/.test(v) || !Number.isFinite(x) || !ok(x)) throw new UsageError(`${name} must be ${what}, not "${v}"`);
  return x;
}

function filesOf(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) for (const e of readdirSync(p).sort()) walk(path.join(p, e));
    else if (st.isFile()) out.push(p);
  };
  for (const p of paths) {
    if (!existsSync(p)) throw new UsageError(`no such file or folder: ${p}`, FILES_HELP);
    walk(p);
  }
  if (!out.length) throw new UsageError('no files in the folders given', FILES_HELP);
  return out;
}

async function readFlows(ui: Ui, file: string): Promise<ParseReport> {
  const { parseFlowLog } = await import('../controls/anomaly/index.ts');
  const r = parseFlowLog(readFileSync(file));
  if (r.malformed) {
    const ex = r.examples.map((e) => `line ${e.line}: ${e.reason}`).join('; ');
    ui.warn(`${file}: ${r.malformed} of ${r.lines} lines are not flow records and were skipped (${ex})`);
  }
  if (!r.records.length) throw new UsageError(`${file}: no flow records`, FILES_HELP);
  return r;
}

function normalOf(o: AnomalyOptions, labelled: boolean): 'labels' | 'all' {
  const n = o.normal ?? (labelled ? 'labels' : 'all');
  if (n !== 'labels' && n !== 'all') throw new UsageError(`--normal must be labels or all, not "${o.normal}"`);
  if (n === 'labels' && !labelled) throw new UsageError('--normal labels needs labelled files (a "label" column), and these have none', 'use --normal all to treat the whole training period as normal (only if it is)');
  return n;
}

function kindOf(o: AnomalyOptions): ModelKind {
  const k = o.kind ?? 'robust';
  if (k !== 'robust' && k !== 'threshold' && k !== 'iforest') throw new UsageError(`--kind must be robust, threshold or iforest, not "${o.kind}"`);
  return k;
}

async function loadModelFile(file: string) {
  const a = await import('../controls/anomaly/index.ts');
  if (!existsSync(file)) throw new UsageError(`no such model file: ${file}`, 'make one with `seclab anomaly train <flow files> --out model.json`');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file} is not JSON: ${(e as Error).message}`, 'give a model file from `seclab anomaly train`');
  }
  try {
    return a.loadModel(parsed);
  } catch (e) {
    if (e instanceof a.AnomalyError) throw new UsageError(`${file}: ${e.message}`, e.hint);
    throw e;
  }
}

/** Engine errors about the user's data or options are usage errors. */
async function usage<T>(fn: () => T): Promise<T> {
  const { AnomalyError } = await import('../controls/anomaly/index.ts');
  try {
    return fn();
  } catch (e) {
    if (e instanceof AnomalyError) throw new UsageError(e.message, e.hint);
    throw e;
  }
}

export async function cmdAnomalyTrain(ui: Ui, paths: string[], o: AnomalyOptions): Promise<number> {
  const format = formatOf(o);
  const windowSeconds = num('--window', o.window, 60, (x) => x > 0, 'a positive number of seconds');
  const fpr = num('--fpr', o.fpr, 0.01, (x) => x > 0 && x < 1, 'a rate between 0 and 1 (e.g. 0.01)');
  const frac = num('--train-fraction', o.trainFraction, 1, (x) => x > 0 && x <= 1, 'a share above 0 and at most 1');
  const files = filesOf(paths);
  const a = await import('../controls/anomaly/index.ts');
  const reports = [];
  for (const f of files) reports.push(await readFlows(ui, f));
  const normal = normalOf(o, reports.every((r) => r.labelled));
  const records = reports.flatMap((r) => r.records).sort((x, y) => x.start - y.start);
  const until = frac < 1 ? records[Math.floor(records.length * frac)]!.start : Infinity;
  // Only the training period is read, so nothing after it (not even its destinations) reaches the model.
  const { windows, extractor } = a.extractFeatures(records.filter((r) => r.start < until), { windowSeconds });
  const train = windows.filter((w) => w.windowEnd <= until && (normal === 'all' || w.label === 'Benign'));
  const model = await usage(() => a.trainModel(train, { fpr, normal, windowSeconds, ...(o.seed ? { seed: o.seed } : {}) }));
  model.history = extractor.snapshot(new Set(train.map((w) => w.host)));
  writeFileSync(o.out!, `${JSON.stringify(model)}\n`);
  const summary = { model: o.out, version: model.version, windowSeconds, fpr, normal, records: records.length, malformed: reports.reduce((n, r) => n + r.malformed, 0), training: model.training, thresholds: model.thresholds };
  if (format === 'json') ui.print(JSON.stringify(summary, null, 2));
  else {
    ui.print(`trained on ${model.training.windows} normal host windows of ${windowSeconds} s (${model.training.hosts} hosts, ${normal === 'labels' ? 'labelled Benign' : 'all windows of the period, assumed normal'}) from ${iso(model.training.from)} to ${iso(model.training.until)}`);
    ui.print(`thresholds for a ${fpr * 100} % false-positive rate on the latest ${model.training.calibrationWindows} of them: ${a.MODEL_KINDS.map((k) => `${k} ${model.thresholds[k].toFixed(3)}`).join(', ')}`);
    ui.print(`model written to ${o.out} (format ${model.format} version ${model.version})`);
  }
  return ExitCode.OK;
}

function iso(t: number): string {
  return new Date(t * 1000).toISOString().replace('.000Z', 'Z');
}

export async function cmdAnomalyScore(ui: Ui, paths: string[], o: AnomalyOptions): Promise<number> {
  const format = formatOf(o);
  const kind = kindOf(o);
  const top = num('--top', o.top, 20, (x) => Number.isInteger(x) && x >= 0, 'a whole number');
  const files = filesOf(paths);
  const model = await loadModelFile(o.model!);
  const a = await import('../controls/anomaly/index.ts');
  const records: FlowRecord[] = [];
  let malformed = 0;
  for (const f of files) {
    const r = await readFlows(ui, f);
    records.push(...r.records);
    malformed += r.malformed;
  }
  const t0 = performance.now();
  const { windows, late } = a.extractFeatures(records, { windowSeconds: model.windowSeconds, ...(model.history ? { history: model.history } : {}) });
  const alerts = a.alertsOf(model, kind, windows);
  const seconds = (performance.now() - t0) / 1000;
  if (format === 'json') {
    ui.print(JSON.stringify({ model: kind, threshold: model.thresholds[kind], fpr: model.fpr, records: records.length, malformed, late, windows: windows.length, alerts }, null, 2));
  } else {
    for (const al of alerts.slice(0, top)) {
      ui.print(`${iso(al.windowStart)} ${al.host.padEnd(16)} score ${al.score.toFixed(2)} > ${al.threshold.toFixed(2)}${al.label ? ` [${al.label}]` : ''}`);
      for (const e of al.explanation) ui.print(`    ${e.feature.padEnd(22)} ${fmt(e.value).padStart(10)}  normal ${fmt(e.normal).padStart(10)}  ${e.z.toFixed(1)} sd ${e.direction}`);
    }
    if (alerts.length > top) ui.print(`… ${alerts.length - top} more alerts (--top, or --format json for all)`);
    ui.print(`${alerts.length} alert${alerts.length === 1 ? '' : 's'} in ${windows.length} host windows of ${model.windowSeconds} s from ${records.length} records (model ${kind}, set for a ${model.fpr * 100} % false-positive rate; ${Math.round(records.length / Math.max(seconds, 1e-6))} records/s)`);
  }
  return alerts.length ? ExitCode.FAILED : ExitCode.OK;
}

function fmt(x: number): string {
  return Math.abs(x) >= 1000 ? String(Math.round(x)) : String(Math.round(x * 100) / 100);
}

export async function cmdAnomalyEval(ui: Ui, paths: string[], o: AnomalyOptions): Promise<number> {
  const format = formatOf(o);
  const windowSeconds = num('--window', o.window, 60, (x) => x > 0, 'a positive number of seconds');
  const fpr = num('--fpr', o.fpr, 0.01, (x) => x > 0 && x < 1, 'a rate between 0 and 1 (e.g. 0.01)');
  const trainFraction = num('--train-fraction', o.trainFraction, 0.5, (x) => x > 0 && x < 1, 'a share between 0 and 1');
  const files = filesOf(paths);
  const a = await import('../controls/anomaly/index.ts');
  const given = o.model ? await loadModelFile(o.model) : undefined;
  const results = [];
  for (const f of files) {
    const r = await readFlows(ui, f);
    if (!r.labelled) throw new UsageError(`${f} has no "label" column: eval needs labelled flows`, 'use `seclab anomaly score` on unlabelled flow logs');
    const normal = normalOf(o, true);
    if (given) {
      const { windows } = a.extractFeatures(r.records, { windowSeconds: given.windowSeconds, ...(given.history ? { history: given.history } : {}) });
      const from = Math.min(...r.records.map((x) => x.start));
      const to = Math.max(...r.records.map((x) => x.end));
      if (from < given.training.until && to > given.training.from) ui.warn(`${f} overlaps the model's training period (${iso(given.training.from)}–${iso(given.training.until)}): if it is the same capture, these numbers are not an honest evaluation`);
      results.push({ capture: f, protocol: 'the given model on the whole capture', records: r.records.length, malformed: r.malformed, metrics: a.evaluateWindows(given, windows) });
    } else {
      const e = await usage(() => a.evaluateCapture(r.records, { windowSeconds, fpr, trainFraction, normal, ...(o.seed ? { seed: o.seed } : {}) }));
      results.push({ capture: f, protocol: e.protocol, records: e.records, malformed: r.malformed, split: e.split, trainWindows: e.trainWindows, evalWindows: e.evalWindows, metrics: e.metrics });
    }
  }
  if (format === 'json') ui.print(JSON.stringify({ windowSeconds: given?.windowSeconds ?? windowSeconds, fpr: given?.fpr ?? fpr, captures: results }, null, 2));
  else {
    ui.print(`${'capture'.padEnd(34)} ${'model'.padEnd(10)} ${'ROC-AUC'.padStart(7)} ${'precision'.padStart(9)} ${'recall'.padStart(7)} ${'FPR'.padStart(6)} ${'TTD s'.padStart(6)} ${'alerts'.padStart(6)}`);
    for (const c of results) {
      for (const m of c.metrics) ui.print(`${path.basename(c.capture).slice(0, 34).padEnd(34)} ${m.model.padEnd(10)} ${f4(m.rocAuc).padStart(7)} ${f4(m.precision, 3).padStart(9)} ${f4(m.recall, 3).padStart(7)} ${f4(m.fprMeasured, 3).padStart(6)} ${(m.timeToDetectSeconds === null ? '-' : String(m.timeToDetectSeconds)).padStart(6)} ${String(m.alerts).padStart(6)}`);
    }
    ui.print(`protocol: ${results[0]!.protocol}; thresholds set for a ${(given?.fpr ?? fpr) * 100} % false-positive rate; host windows of ${given?.windowSeconds ?? windowSeconds} s labelled Malicious if any record the host sent is, Background windows left out`);
  }
  return ExitCode.OK;
}

function f4(x: number, d = 4): string {
  return Number.isFinite(x) ? x.toFixed(d) : '-';
}
