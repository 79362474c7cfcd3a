// What students' code and their Lambda functions may import as 'seclab/kit/anomaly': the anomaly
// model of `seclab anomaly` (src/controls/anomaly) fed by a CloudWatch Logs subscription filter.
// docs/anomaly.md, "In a Lambda function". Plain Node.js (the lab cloud's Lambda runtime) loads it
// through src/kit/anomaly.mjs; TypeScript and tsx read this file.
//
//   import { decodeSubscription, parseFlowRecords, loadModel, createDetector, anomalyEvent } from 'seclab/kit/anomaly';
//   const batch = decodeSubscription(event);
//   const { records } = parseFlowRecords(batch.logEvents);
//   const { alerts } = createDetector(model).detect(records);
//   entries = alerts.map((a) => anomalyEvent(a, { source: 'northwind.anomaly', detailType: 'Network Anomaly' }));
import { AnomalyError, extractFeatures, parseFlowLog, trainModel, type AnomalyModel, type FlowRecord } from '../controls/anomaly/index.ts';
import { StreamDetector, validateModel, type AnomalyAlert, type DetectorOptions } from '../controls/anomaly/stream.ts';

export { AnomalyError, MODEL_FORMAT, MODEL_VERSION, FEATURES, type AnomalyModel, type FlowRecord } from '../controls/anomaly/index.ts';
export {
  decodeSubscription, parseFlowRecords, logFormatFields, ownerOf, ownerCandidates, interfaceOfStream, validateState, StreamDetector, STATE_FORMAT,
  type AnomalyAlert, type AnomalyReason, type DetectorOptions, type DetectorState, type DetectResult, type MessagesReport,
  type SubscriptionBatch, type SubscriptionLogEvent,
} from '../controls/anomaly/stream.ts';

/**
 * The model file `seclab anomaly train` wrote, from its text (e.g. `readFileSync(new URL('./model.json',
 * import.meta.url), 'utf8')`) or parsed JSON, checked before use: AnomalyError (with a `hint`) when
 * it is not one, of another version, or damaged.
 */
export function loadModel(input: string | Uint8Array | object): AnomalyModel {
  return validateModel(input);
}

/**
 * A detector for `model`: `detect(records)` scores every host window of a batch and returns the
 * alerts; `state()` is what to keep for the next invocation (give it back as `options.state`).
 */
export function createDetector(model: AnomalyModel, options: DetectorOptions = {}): StreamDetector {
  return new StreamDetector(model, options);
}

export interface TrainOptions {
  /** False-positive rate the thresholds are set for (default 0.01). */
  fpr?: number;
  /** Window length in seconds (default 60: a flow log's 1-minute aggregation interval). */
  windowSeconds?: number;
  /** Seed of the isolation forest (default 'anomaly', as `seclab anomaly train`). */
  seed?: string;
}

/**
 * `seclab anomaly train` on flow-log files already read (texts or buffers, e.g. the baseline's S3
 * objects, gzip or not): every window of the period is normal. The model and a one-line summary.
 */
export function trainFromFlowLogs(files: readonly (string | Uint8Array)[], options: TrainOptions = {}): { model: AnomalyModel; summary: string; records: number; malformed: number } {
  if (!Array.isArray(files) || !files.length) throw new AnomalyError('no flow-log files to train on', 'give the texts of the baseline files, e.g. the S3 objects under baseline/');
  const windowSeconds = options.windowSeconds ?? 60;
  const records: FlowRecord[] = [];
  let malformed = 0;
  for (const f of files) {
    const r = parseFlowLog(typeof f === 'string' ? f : Buffer.from(f));
    malformed += r.malformed;
    for (const rec of r.records) records.push(rec);
  }
  if (!records.length) throw new AnomalyError(`no flow records in the ${files.length} files (${malformed} malformed lines)`, 'are they VPC flow logs (version 2 text, with or without the header line)?');
  records.sort((a, b) => a.start - b.start);
  const { windows, extractor } = extractFeatures(records, { windowSeconds });
  const model = trainModel(windows, { fpr: options.fpr ?? 0.01, normal: 'all', windowSeconds, ...(options.seed ? { seed: options.seed } : {}) });
  model.history = extractor.snapshot(new Set(windows.map((w) => w.host)));
  const iso = (t: number) => new Date(t * 1000).toISOString().replace('.000Z', 'Z');
  const summary = `${records.length} records (${malformed} malformed lines), ${model.training.windows} host windows of ${windowSeconds} s, ${model.training.hosts} hosts, ${iso(model.training.from)} to ${iso(model.training.until)}; robust threshold ${model.thresholds.robust.toFixed(3)} for ${model.fpr * 100} % false positives`;
  return { model, summary, records: records.length, malformed };
}

/** A PutEvents entry as EventBridge's PutEventsCommand takes it. */
export interface PutEventsEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  EventBusName?: string;
  Resources?: string[];
  Time?: Date;
}

/**
 * The EventBridge PutEvents entry of an alert: its detail is the alert (host, window, score,
 * threshold, reasons, modelVersion, plus what `extra` adds, e.g. `{ instanceId }`).
 */
export function anomalyEvent(
  alert: AnomalyAlert,
  options: { source: string; detailType: string; eventBusName?: string; resources?: string[]; extra?: Record<string, unknown> },
): PutEventsEntry {
  if (!options || typeof options.source !== 'string' || !options.source || typeof options.detailType !== 'string' || !options.detailType) {
    throw new AnomalyError('anomalyEvent needs { source, detailType }', "e.g. { source: 'northwind.anomaly', detailType: 'Network Anomaly' }");
  }
  if (options.source.startsWith('aws.')) throw new AnomalyError(`the source "${options.source}" is reserved for AWS services`, 'use your own, e.g. northwind.anomaly');
  const detail = { ...alert, ...(options.extra ?? {}) };
  return {
    Source: options.source,
    DetailType: options.detailType,
    Detail: JSON.stringify(detail),
    ...(options.eventBusName ? { EventBusName: options.eventBusName } : {}),
    ...(options.resources?.length ? { Resources: options.resources } : {}),
  };
}
