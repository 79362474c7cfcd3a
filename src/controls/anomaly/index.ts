// The network-anomaly engine: flow records → per-host window features → three models trained on normal
// windows → scores, alerts with explanations, and an honest evaluation (docs/anomaly.md).
import { extractFeatures, FEATURE_NAMES, FEATURES, type ExtractorOptions, type FeatureWindow, type HistoryState } from './features.ts';
import type { FlowRecord } from './flows.ts';
import {
  fitIForest, fitRobust, fitThreshold, judgeProfile as judgeProfileOf, MODEL_KINDS, scoreIForest, scoreRobust, scoreThreshold, transform, zRobust,
  type IForestModel, type ModelKind, type RobustModel, type ThresholdModel,
} from './models.ts';

export { parseFlowLog, DEFAULT_FIELDS, type FlowRecord, type ParseReport, type Label } from './flows.ts';
export { FeatureExtractor, extractFeatures, FEATURES, FEATURE_NAMES, type FeatureWindow, type ExtractorOptions, type HistoryState } from './features.ts';
export { MODEL_KINDS, type ModelKind } from './models.ts';

export const MODEL_FORMAT = 'seclab-anomaly-model';
export const MODEL_VERSION = 1;

export class AnomalyError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = 'AnomalyError';
  }
}

export interface AnomalyModel {
  format: typeof MODEL_FORMAT;
  version: typeof MODEL_VERSION;
  windowSeconds: number;
  features: string[];
  /** The false-positive rate the thresholds were set for, on held-out normal windows. */
  fpr: number;
  seed: string;
  training: {
    /** 'labels': windows whose records are all labelled Benign; 'all': every window of the training period, assumed normal. */
    normal: 'labels' | 'all';
    windows: number;
    fitWindows: number;
    calibrationWindows: number;
    hosts: number;
    /** Unix seconds: the training period. */
    from: number;
    until: number;
  };
  /** Score above which each model alerts. */
  thresholds: Record<ModelKind, number>;
  models: { threshold: ThresholdModel; iforest: IForestModel; robust: RobustModel };
  /**
   * The training hosts' destinations and recent contact times at the end of training, so scoring a
   * new file continues from there instead of finding every destination new and no periodicity yet.
   */
  history?: HistoryState;
}

export interface TrainOptions {
  fpr?: number;
  seed?: string;
  /** Share of the normal windows (the latest ones) held out to set the thresholds (default 0.25). */
  calibrationFraction?: number;
  normal?: 'labels' | 'all';
  windowSeconds?: number;
}

/** The score above which at most `fpr` of `scores` lie. */
export function thresholdFor(scores: readonly number[], fpr: number): number {
  const s = [...scores].sort((a, b) => a - b);
  const allowed = Math.floor(fpr * s.length);
  return s[s.length - 1 - allowed]!;
}

/** Trains the three models on normal windows (time order is kept: the latest part sets the thresholds). */
export function trainModel(normal: readonly FeatureWindow[], opts: TrainOptions = {}): AnomalyModel {
  const fpr = opts.fpr ?? 0.01;
  if (!(fpr > 0 && fpr < 1)) throw new AnomalyError(`the false-positive rate must be between 0 and 1, not ${opts.fpr}`, 'e.g. --fpr 0.01 for 1 %');
  const calib = opts.calibrationFraction ?? 0.25;
  const seed = opts.seed ?? 'anomaly';
  const rows = [...normal].sort((a, b) => a.windowEnd - b.windowEnd);
  if (rows.length < 20) throw new AnomalyError(`only ${rows.length} normal host windows to learn from; at least 20 are needed`, 'give more normal traffic (a longer period or more files), or a shorter --window');
  const nCal = Math.max(10, Math.floor(rows.length * calib));
  const fit = rows.slice(0, rows.length - nCal);
  const cal = rows.slice(rows.length - nCal);
  const t = fit.map((w) => transform(w.values));
  const hosts = fit.map((w) => w.host);
  const models = { threshold: fitThreshold(hosts, t), iforest: fitIForest(t, seed), robust: fitRobust(hosts, t) };
  const model: AnomalyModel = {
    format: MODEL_FORMAT, version: MODEL_VERSION, windowSeconds: opts.windowSeconds ?? (rows[0]!.windowEnd - rows[0]!.windowStart), features: [...FEATURE_NAMES], fpr, seed,
    training: { normal: opts.normal ?? 'labels', windows: rows.length, fitWindows: fit.length, calibrationWindows: cal.length, hosts: new Set(rows.map((w) => w.host)).size, from: rows[0]!.windowStart, until: rows[rows.length - 1]!.windowEnd },
    thresholds: { robust: 0, threshold: 0, iforest: 0 },
    models,
  };
  for (const k of MODEL_KINDS) model.thresholds[k] = thresholdFor(cal.map((w) => scoreWindow(model, k, w)), fpr);
  return model;
}

export function scoreWindow(model: AnomalyModel, kind: ModelKind, w: FeatureWindow): number {
  const t = transform(w.values);
  switch (kind) {
    case 'threshold': return scoreThreshold(model.models.threshold, w.host, t);
    case 'iforest': return scoreIForest(model.models.iforest, t);
    case 'robust': return scoreRobust(model.models.robust, w.host, t);
  }
}

export interface Explanation {
  feature: string;
  description: string;
  value: number;
  /** The host's normal value (its profile's centre, on the feature's own scale). */
  normal: number;
  /** How far from normal, in robust standard deviations (capped at 20). */
  z: number;
  direction: 'above' | 'below';
}

/** The features that deviate most from the host's normal profile. */
export function explain(model: AnomalyModel, w: FeatureWindow, top = 3): Explanation[] {
  const t = transform(w.values);
  const z = zRobust(model.models.robust, w.host, t);
  const p = judgeProfileOf(model.models.robust, w.host, t);
  return z
    .map((zj, j) => ({ zj, j }))
    .sort((a, b) => b.zj - a.zj)
    .slice(0, top)
    .map(({ zj, j }) => {
      const f = FEATURES[j]!;
      const c = p.center[j]!;
      return { feature: f.name, description: f.description, value: round(w.values[j]!), normal: round(f.log ? Math.expm1(c) : c), z: round(zj), direction: t[j]! >= c ? 'above' as const : 'below' as const };
    });
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export interface Alert {
  host: string;
  windowStart: number;
  windowEnd: number;
  model: ModelKind;
  score: number;
  threshold: number;
  explanation: Explanation[];
  label?: string;
}

export function alertsOf(model: AnomalyModel, kind: ModelKind, windows: readonly FeatureWindow[]): Alert[] {
  const out: Alert[] = [];
  for (const w of windows) {
    const score = scoreWindow(model, kind, w);
    if (score > model.thresholds[kind]) out.push({ host: w.host, windowStart: w.windowStart, windowEnd: w.windowEnd, model: kind, score: round(score), threshold: round(model.thresholds[kind]), explanation: explain(model, w), ...(w.label ? { label: w.label } : {}) });
  }
  return out;
}

/** Checks a parsed model file and returns it; refuses what this version cannot score. */
export function loadModel(json: unknown): AnomalyModel {
  const m = json as Partial<AnomalyModel> | null;
  if (!m || typeof m !== 'object' || m.format !== MODEL_FORMAT) throw new AnomalyError('not a seclab anomaly model file (no "format": "seclab-anomaly-model")', 'make one with `seclab anomaly train <flow files> --out model.json`');
  if (m.version !== MODEL_VERSION) throw new AnomalyError(`model file version ${String(m.version)}; this seclab reads version ${MODEL_VERSION}`, 'retrain it with this seclab: `seclab anomaly train`');
  if (!Array.isArray(m.features) || m.features.join(',') !== FEATURE_NAMES.join(',')) throw new AnomalyError('the model was trained on other features than this seclab computes', 'retrain it with this seclab: `seclab anomaly train`');
  if (!m.models?.robust || !m.models.threshold || !m.models.iforest || !m.thresholds || !(typeof m.windowSeconds === 'number' && m.windowSeconds > 0)) throw new AnomalyError('the model file is incomplete (models, thresholds or windowSeconds missing)', 'retrain it: `seclab anomaly train`');
  return m as AnomalyModel;
}

// ---------------------------------------------------------------- evaluation

/** ROC-AUC by the Mann-Whitney statistic (ties count one half); NaN without both classes. */
export function rocAuc(scores: readonly number[], positive: readonly boolean[]): number {
  const idx = scores.map((s, i) => ({ s, p: positive[i]! })).sort((a, b) => a.s - b.s);
  let rankSum = 0, nPos = 0;
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j < idx.length && idx[j]!.s === idx[i]!.s) j++;
    const avg = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (idx[k]!.p) { rankSum += avg; nPos++; }
    i = j;
  }
  const nNeg = idx.length - nPos;
  if (!nPos || !nNeg) return NaN;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

export interface ModelMetrics {
  model: ModelKind;
  rocAuc: number;
  threshold: number;
  alerts: number;
  tp: number; fp: number; fn: number; tn: number;
  precision: number;
  recall: number;
  /** False-positive rate measured on the evaluation period's Benign windows. */
  fprMeasured: number;
  /** Seconds from the first Malicious record of the evaluation period to the end of the first alerted Malicious window; null when none. */
  timeToDetectSeconds: number | null;
}

/** Metrics of each model on labelled windows (Background windows are left out: they are unlabelled, not benign). */
export function evaluateWindows(model: AnomalyModel, windows: readonly FeatureWindow[], kinds: readonly ModelKind[] = MODEL_KINDS): ModelMetrics[] {
  const labelled = windows.filter((w) => w.label === 'Malicious' || w.label === 'Benign');
  const pos = labelled.map((w) => w.label === 'Malicious');
  const firstMal = Math.min(...labelled.filter((w) => w.firstMalicious !== undefined).map((w) => w.firstMalicious!));
  return kinds.map((kind) => {
    const scores = labelled.map((w) => scoreWindow(model, kind, w));
    const th = model.thresholds[kind];
    let tp = 0, fp = 0, fn = 0, tn = 0;
    let detectedAt = Infinity;
    scores.forEach((s, i) => {
      const alert = s > th;
      if (pos[i]) {
        if (alert) { tp++; detectedAt = Math.min(detectedAt, labelled[i]!.windowEnd); } else fn++;
      } else if (alert) fp++; else tn++;
    });
    return {
      model: kind, rocAuc: rocAuc(scores, pos), threshold: th, alerts: tp + fp, tp, fp, fn, tn,
      precision: tp + fp ? tp / (tp + fp) : NaN, recall: tp + fn ? tp / (tp + fn) : NaN, fprMeasured: fp + tn ? fp / (fp + tn) : NaN,
      timeToDetectSeconds: Number.isFinite(detectedAt) && Number.isFinite(firstMal) ? Math.max(0, detectedAt - firstMal) : null,
    };
  });
}

export interface CaptureEvaluation {
  protocol: string;
  records: number;
  split: number;
  trainWindows: number;
  evalWindows: { malicious: number; benign: number; background: number };
  model: AnomalyModel;
  metrics: ModelMetrics[];
}

export interface EvalOptions extends TrainOptions, ExtractorOptions {
  /** Share of the capture's records (in time order) whose period trains the models (default 0.5). */
  trainFraction?: number;
}

/**
 * The time-split protocol: features over the whole capture in time order; the models learn from the
 * normal windows that end before the split (Benign-labelled ones with normal 'labels'), and are
 * evaluated on the windows that start after it. The evaluation period is never trained on.
 */
export function evaluateCapture(records: readonly FlowRecord[], opts: EvalOptions = {}): CaptureEvaluation {
  const frac = opts.trainFraction ?? 0.5;
  if (!(frac > 0 && frac < 1)) throw new AnomalyError(`the training share must be between 0 and 1, not ${opts.trainFraction}`);
  const sorted = [...records].sort((a, b) => a.start - b.start);
  if (!sorted.length) throw new AnomalyError('no flow records to evaluate');
  const split = sorted[Math.floor(sorted.length * frac)]!.start;
  const { windows } = extractFeatures(sorted, opts);
  const normal = opts.normal ?? 'labels';
  const train = windows.filter((w) => w.windowEnd <= split && (normal === 'all' || w.label === 'Benign'));
  const test = windows.filter((w) => w.windowStart >= split);
  const model = trainModel(train, { ...opts, normal, windowSeconds: opts.windowSeconds ?? 60 });
  return {
    protocol: `time split: train on ${normal === 'labels' ? 'Benign-labelled' : 'all'} windows ending before the first ${Math.round(frac * 100)} % of records, evaluate on windows starting after`,
    records: records.length, split, trainWindows: train.length,
    evalWindows: { malicious: test.filter((w) => w.label === 'Malicious').length, benign: test.filter((w) => w.label === 'Benign').length, background: test.filter((w) => w.label !== 'Malicious' && w.label !== 'Benign').length },
    model, metrics: evaluateWindows(model, test),
  };
}
