// Network-anomaly model benchmark: the three models (robust per-host profiles = ours, per-feature
// threshold, isolation forest) on every labelled capture, their detection metrics and throughput.
//
//   npx tsx bench/anomaly.ts [flows-dir] [--window 60] [--fpr 0.01] [--train-fraction 0.5] [--json]
//
// flows-dir defaults to ../shared/datasets/flows/derived/ beside the repository (read in place, never
// copied): every *_labeled.csv there is one capture (Stratosphere Lab, CTU; GPL-2.0). Two protocols:
//   time split    per capture: train on the Benign-labelled host windows of the period of the earliest
//                 share of records, set thresholds on the latest quarter of those, evaluate on the
//                 windows that start after the split (never trained on);
//   cross-capture train on all Benign windows of capture A, evaluate on all of capture B (A ≠ B).
// Skips with a message when the folder is absent.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { evaluateCapture, evaluateWindows, extractFeatures, MODEL_KINDS, parseFlowLog, scoreWindow, trainModel, type AnomalyModel, type FlowRecord, type ModelMetrics } from '../src/controls/anomaly/index.ts';
import { decodeSubscription, parseFlowRecords, StreamDetector, validateModel } from '../src/controls/anomaly/stream.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    window: { type: 'string', default: '60' },
    fpr: { type: 'string', default: '0.01' },
    'train-fraction': { type: 'string', default: '0.5' },
    json: { type: 'boolean', default: false },
  },
});
const dir = resolve(positionals[0] ?? join(REPO, '..', 'shared', 'datasets', 'flows', 'derived'));
const windowSeconds = Number(args.window);
const fpr = Number(args.fpr);
const trainFraction = Number(args['train-fraction']);
const say = (s = '') => {
  if (!args.json) console.log(s);
};

if (!existsSync(dir)) {
  console.log(`anomaly benchmark skipped: no flow dataset at ${dir} (give the folder of labelled VPC flow CSVs as the first argument)`);
  process.exit(0);
}
const files = readdirSync(dir).filter((f) => f.endsWith('_labeled.csv')).sort();
if (!files.length) {
  console.log(`anomaly benchmark skipped: no *_labeled.csv captures in ${dir}`);
  process.exit(0);
}

const f4 = (x: number, d = 4) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));
/** Median of three timings (ms). */
function time(fn: () => void): number {
  const t: number[] = [];
  for (let i = 0; i < 3; i++) {
    const s = performance.now();
    fn();
    t.push(performance.now() - s);
  }
  return t.sort((a, b) => a - b)[1]!;
}

const captures: { name: string; records: FlowRecord[]; malformed: number; parseMs: number; bytes: number }[] = [];
for (const f of files) {
  const data = readFileSync(join(dir, f));
  let parsed = parseFlowLog(data);
  const parseMs = time(() => { parsed = parseFlowLog(data); });
  captures.push({ name: f.replace(/^vpc_/, '').replace(/_labeled\.csv$/, ''), records: parsed.records, malformed: parsed.malformed, parseMs, bytes: data.length });
}
// The same capture in AWS's own text format must read to the same records.
const awsFormat = readdirSync(dir).filter((f) => f.endsWith('.log'));

const header = `${'capture'.padEnd(16)} ${'model'.padEnd(10)} ${'ROC-AUC'.padStart(7)} ${'prec.'.padStart(6)} ${'recall'.padStart(6)} ${'FPR'.padStart(6)} ${'TTD s'.padStart(6)} ${'score rec/s'.padStart(11)}`;
const row = (name: string, m: ModelMetrics, rps: number) => `${name.padEnd(16)} ${m.model.padEnd(10)} ${f4(m.rocAuc).padStart(7)} ${f4(m.precision, 3).padStart(6)} ${f4(m.recall, 3).padStart(6)} ${f4(m.fprMeasured, 3).padStart(6)} ${(m.timeToDetectSeconds === null ? '-' : String(m.timeToDetectSeconds)).padStart(6)} ${String(rps).padStart(11)}`;

say(`anomaly benchmark: ${captures.length} labelled captures in ${dir}; host windows of ${windowSeconds} s, thresholds for a ${fpr * 100} % false-positive rate`);
say('');
say(`time split (train on the Benign windows before the first ${trainFraction * 100} % of records, evaluate after):`);
say(header);
const timeSplit = [];
for (const c of captures) {
  const e = evaluateCapture(c.records, { windowSeconds, fpr, trainFraction });
  const sorted = [...c.records].sort((a, b) => a.start - b.start);
  const featMs = time(() => extractFeatures(sorted, { windowSeconds }));
  const evalWindows = extractFeatures(sorted, { windowSeconds }).windows.filter((w) => w.windowStart >= e.split);
  const evalRecords = sorted.filter((r) => r.start >= e.split).length;
  const trainMs = time(() => trainModel(extractFeatures(sorted, { windowSeconds }).windows.filter((w) => w.windowEnd <= e.split && w.label === 'Benign'), { fpr }));
  const perModel = e.metrics.map((m) => {
    const ms = time(() => { for (const w of evalWindows) scoreWindow(e.model, m.model, w); });
    return { ...m, scoreRecordsPerSecond: rate(evalRecords, ms) };
  });
  for (const m of perModel) say(row(c.name, m, m.scoreRecordsPerSecond));
  const [robust, threshold, iforest] = MODEL_KINDS.map((k) => perModel.find((m) => m.model === k)!);
  timeSplit.push({
    capture: c.name, records: c.records.length, malformed: c.malformed, trainWindows: e.trainWindows, evalWindows: e.evalWindows,
    throughput: { parseRecordsPerSecond: rate(c.records.length, c.parseMs), featureRecordsPerSecond: rate(c.records.length, featMs), trainMs: Math.round(trainMs) },
    metrics: perModel,
    oursBeatsBoth: robust!.rocAuc > threshold!.rocAuc && robust!.rocAuc > iforest!.rocAuc, oursReachesGoal: robust!.rocAuc >= 0.97,
  });
}
say('');
for (const t of timeSplit) say(`  ${t.capture}: ${t.records} records (${t.malformed} malformed), ${t.trainWindows} training windows, evaluation ${t.evalWindows.malicious} malicious / ${t.evalWindows.benign} benign windows (${t.evalWindows.background} background left out); parse ${t.throughput.parseRecordsPerSecond} rec/s, features ${t.throughput.featureRecordsPerSecond} rec/s, training ${t.throughput.trainMs} ms`);

const cross = [];
if (captures.length > 1) {
  say('');
  say('cross-capture (train on all Benign windows of one capture, evaluate on all of another):');
  say(header.replace('capture         ', 'train → eval    '));
  for (const a of captures) {
    const ta = extractFeatures([...a.records].sort((x, y) => x.start - y.start), { windowSeconds });
    const normal = ta.windows.filter((w) => w.label === 'Benign');
    const model = trainModel(normal, { fpr, windowSeconds });
    model.history = ta.extractor.snapshot(new Set(normal.map((w) => w.host)));
    for (const b of captures) {
      if (a === b) continue;
      const wb = extractFeatures(b.records, { windowSeconds, history: model.history }).windows;
      const metrics = evaluateWindows(model, wb);
      const name = `${a.name.slice(0, 3)} → ${b.name.slice(0, 3)}`;
      for (const m of metrics) say(row(name, m, NaN as unknown as number).replace(/ +NaN$/, ''));
      cross.push({ train: a.name, eval: b.name, metrics });
    }
  }
}

// A Lambda function behind a subscription filter: per batch of N records (one subscription payload),
// decode + parse + score with a fresh detector, as one invocation does; and loading the model file.
const lambda: { records: number; ms: number }[] = [];
let modelLoad: { bytes: number; ms: number } | undefined;
if (timeSplit.length) {
  const c = captures[0]!;
  const e = evaluateCapture(c.records, { windowSeconds, fpr, trainFraction });
  const model: AnomalyModel = e.model;
  const text = JSON.stringify(model);
  modelLoad = { bytes: Buffer.byteLength(text), ms: time(() => validateModel(text)) };
  const later = [...c.records].sort((a, b) => a.start - b.start);
  for (const n of [100, 1000, 10_000]) {
    const slice = later.slice(0, n);
    const logEvents = slice.map((r, i) => ({ id: String(i), timestamp: r.start * 1000, message: `2 123456789012 eni-1 ${r.srcaddr} ${r.dstaddr} ${r.srcport} ${r.dstport} ${r.protocol} ${r.packets} ${r.bytes} ${r.start} ${r.end} ${r.action} OK` }));
    const event = { awslogs: { data: gzipSync(JSON.stringify({ messageType: 'DATA_MESSAGE', owner: '123456789012', logGroup: 'flows', logStream: 'eni-1-all', subscriptionFilters: ['f'], logEvents })).toString('base64') } };
    const ms = time(() => new StreamDetector(model).detect(parseFlowRecords(decodeSubscription(event).logEvents).records));
    lambda.push({ records: slice.length, ms: Math.round(ms * 10) / 10 });
  }
  say('');
  say(`in a Lambda function (${c.name}, robust, the stream's own host scored, as a flow log's interface stream): loading the model file (${(modelLoad.bytes / 1024).toFixed(0)} KB) ${modelLoad.ms.toFixed(1)} ms; decode + parse + score a subscription batch of ${lambda.map((l) => `${l.records} records ${l.ms} ms`).join(', ')}`);
}

const awsCheck = awsFormat.map((f) => {
  const p = parseFlowLog(readFileSync(join(dir, f)));
  const csv = captures.find((c) => f.startsWith(`vpc_${c.name}`));
  return { file: f, records: p.records.length, malformed: p.malformed, sameAsCsv: csv ? JSON.stringify(csv.records.map(({ label: _l, ...r }) => r)) === JSON.stringify(p.records) : null };
});
for (const a of awsCheck) say(`\nAWS text format ${a.file}: ${a.records} records, ${a.malformed} malformed${a.sameAsCsv === null ? '' : a.sameAsCsv ? ', identical to its CSV' : ', DIFFERENT from its CSV'}`);

const every = timeSplit.every((t) => t.oursBeatsBoth && t.oursReachesGoal);
say('');
say(`goal (time split): ours ROC-AUC ≥ 0.97 and above both baselines on every capture: ${every ? 'met' : 'NOT met'} (${timeSplit.map((t) => `${t.capture} ${t.oursReachesGoal ? '≥' : '<'} 0.97, ${t.oursBeatsBoth ? 'beats' : 'does not beat'} both`).join('; ')})`);
if (args.json) console.log(JSON.stringify({ dataset: dir, windowSeconds, fpr, trainFraction, timeSplit, crossCapture: cross, lambda: { modelLoad, batches: lambda }, awsFormat: awsCheck, goalMet: every }, null, 2));
