// The anomaly model fed by a stream, as a Lambda function behind a CloudWatch Logs subscription filter
// runs it: the subscription payload decoded, its messages parsed as flow-log records, the model file
// validated (it comes from the student: data, never code), the batch's host windows scored, alerts
// shaped as the detail of an EventBridge event, and an explicit state the handler may keep between
// invocations (the lab cloud runs every invocation in a fresh process, which remembers nothing).
import { gunzipSync } from 'node:zlib';
import { FeatureExtractor, FEATURE_NAMES, type FeatureWindow, type HistoryState } from './features.ts';
import { parseFlowLog, DEFAULT_FIELDS, type FlowRecord } from './flows.ts';
import {
  AnomalyError, explain, loadModel as checkModel, MODEL_FORMAT, MODEL_VERSION, scoreWindow, type AnomalyModel,
} from './index.ts';
import { MODEL_KINDS, type ModelKind, type Profile } from './models.ts';

// ---------------------------------------------------------------- the subscription payload

export interface SubscriptionLogEvent {
  id: string;
  /** Milliseconds since the epoch. */
  timestamp: number;
  message: string;
}

/** What CloudWatch Logs sends a subscriber, once unpacked. */
export interface SubscriptionBatch {
  /** DATA_MESSAGE, or CONTROL_MESSAGE (AWS checks that the destination is reachable; no log events). */
  messageType: 'DATA_MESSAGE' | 'CONTROL_MESSAGE';
  owner: string;
  logGroup: string;
  logStream: string;
  subscriptionFilters: string[];
  logEvents: SubscriptionLogEvent[];
}

/** Largest unpacked payload accepted (AWS's own batches are at most about 1 MB packed). */
const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;
const HINT_SUBSCRIPTION = 'the function must be the destination of a subscription filter (PutSubscriptionFilter), which sends { awslogs: { data } }';

/**
 * Unpacks the event a Lambda function receives from a CloudWatch Logs subscription filter:
 * `{ awslogs: { data: <base64 of gzip of JSON> } }` → log group, log stream and log events.
 * Anything else is an AnomalyError saying what was wrong.
 */
export function decodeSubscription(event: unknown): SubscriptionBatch {
  const awslogs = event && typeof event === 'object' ? (event as { awslogs?: unknown }).awslogs : undefined;
  if (!awslogs || typeof awslogs !== 'object') {
    const keys = event && typeof event === 'object' ? Object.keys(event).slice(0, 5).join(', ') : typeof event;
    throw new AnomalyError(`not a CloudWatch Logs subscription event: expected { awslogs: { data } }, got ${keys ? `{ ${keys} }` : 'an empty object'}`, HINT_SUBSCRIPTION);
  }
  const data = (awslogs as { data?: unknown }).data;
  if (typeof data !== 'string' || !data) throw new AnomalyError('awslogs.data is missing or not a string', HINT_SUBSCRIPTION);
  if (!/^[A-Za-z0-9+/=\s]+$/.test(data)) throw new AnomalyError('awslogs.data is not base64', HINT_SUBSCRIPTION);
  let text: string;
  try {
    text = gunzipSync(Buffer.from(data, 'base64'), { maxOutputLength: MAX_PAYLOAD_BYTES }).toString('utf8');
  } catch (e) {
    throw new AnomalyError(`awslogs.data is not gzip-compressed data of at most ${MAX_PAYLOAD_BYTES / 1024 / 1024} MB (${(e as Error).message})`, HINT_SUBSCRIPTION);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new AnomalyError(`awslogs.data does not hold JSON (${(e as Error).message})`, HINT_SUBSCRIPTION);
  }
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const messageType = b['messageType'];
  if (messageType !== 'DATA_MESSAGE' && messageType !== 'CONTROL_MESSAGE') {
    throw new AnomalyError(`the subscription payload's messageType is ${JSON.stringify(messageType)}, not DATA_MESSAGE or CONTROL_MESSAGE`, HINT_SUBSCRIPTION);
  }
  const str = (k: string): string => (typeof b[k] === 'string' ? (b[k] as string) : '');
  const raw = b['logEvents'] ?? [];
  if (!Array.isArray(raw)) throw new AnomalyError('the subscription payload\'s logEvents is not a list', HINT_SUBSCRIPTION);
  const logEvents: SubscriptionLogEvent[] = raw.map((e: unknown, i) => {
    const ev = (e && typeof e === 'object' ? e : {}) as Record<string, unknown>;
    if (typeof ev['message'] !== 'string' || typeof ev['timestamp'] !== 'number') {
      throw new AnomalyError(`log event ${i} of the subscription payload has no message or timestamp`, HINT_SUBSCRIPTION);
    }
    return { id: String(ev['id'] ?? ''), timestamp: ev['timestamp'], message: ev['message'] };
  });
  if (messageType === 'DATA_MESSAGE' && (!str('logGroup') || !str('logStream'))) {
    throw new AnomalyError('the subscription payload names no logGroup or logStream', HINT_SUBSCRIPTION);
  }
  const filters = Array.isArray(b['subscriptionFilters']) ? (b['subscriptionFilters'] as unknown[]).map(String) : [];
  return { messageType, owner: str('owner'), logGroup: str('logGroup'), logStream: str('logStream'), subscriptionFilters: filters, logEvents };
}

// ---------------------------------------------------------------- flow-log messages

export interface MessagesReport {
  records: FlowRecord[];
  /** NODATA / SKIPDATA records: nothing to count, not an error. */
  noData: number;
  malformed: number;
  /** The first few malformed messages: index in the list given, and why. */
  examples: { index: number; reason: string }[];
}

/** The field names of a flow log's LogFormat (`${version} ${srcaddr} …`); 'v2 default' or nothing: the 14 default fields. */
export function logFormatFields(format?: string): string[] {
  if (format === undefined || format.trim() === '' || /^v2( default)?$/i.test(format.trim())) return [...DEFAULT_FIELDS];
  const tokens = format.trim().split(/\s+/);
  const fields = tokens.map((t) => /^\$\{([a-z0-9-]+)\}$/.exec(t)?.[1]);
  const bad = tokens.find((_, i) => !fields[i]);
  if (bad !== undefined) {
    throw new AnomalyError(`the log format has "${bad}" where a field like \${srcaddr} belongs`, 'give the flow log\'s LogFormat as DescribeFlowLogs shows it, e.g. "${version} ${srcaddr} ${dstaddr} …", or nothing for the default format');
  }
  const missing = ['srcaddr', 'dstaddr', 'srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start', 'end', 'action'].filter((f) => !fields.includes(f));
  if (missing.length) {
    throw new AnomalyError(`the log format lacks ${missing.map((f) => `\${${f}}`).join(', ')}, which the model needs`, 'add them to the flow log\'s LogFormat (or use the default format)');
  }
  return fields as string[];
}

/**
 * Flow-log records from CloudWatch Logs messages (strings, or the log events of a subscription batch):
 * the default version 2 format unless `format` gives the flow log's LogFormat. Malformed messages are
 * counted and skipped, never fatal (the flow-log parser of `seclab anomaly`, src/controls/anomaly/flows.ts).
 */
export function parseFlowRecords(messages: readonly (string | { message: string })[], format?: string): MessagesReport {
  const fields = logFormatFields(format);
  const examples: MessagesReport['examples'] = [];
  let malformed = 0;
  const lines = messages.map((m, i) => {
    const text = typeof m === 'string' ? m : m && typeof m.message === 'string' ? m.message : undefined;
    // One message is one record: a line break or a header would change how the others are read.
    const why = text === undefined ? 'not a string' : /[\r\n]/.test(text) ? 'more than one line' : /(^|\s)(srcaddr|dstaddr)(\s|$)/.test(text) ? 'a header line, not a record' : undefined;
    if (why) {
      malformed++;
      if (examples.length < 5) examples.push({ index: i, reason: why });
      return '';
    }
    return text!;
  });
  // Line 1 is the header naming the columns; message i is line i + 2.
  const report = parseFlowLog(`${fields.join(' ')}\n${lines.join('\n')}`);
  for (const e of report.examples) if (examples.length < 5) examples.push({ index: e.line - 2, reason: e.reason });
  examples.sort((a, b) => a.index - b.index);
  return { records: report.records, noData: report.noData, malformed: malformed + report.malformed, examples };
}

// ---------------------------------------------------------------- the model file

/** Largest model file accepted (a 14-day model of a small company is well under 1 MB). */
export const MAX_MODEL_BYTES = 32 * 1024 * 1024;

const HINT_RETRAIN = 'make the file with `seclab anomaly train <flow files> --out model.json` and do not edit it';

function finite(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

function checkProfile(p: unknown, where: string, d: number): void {
  const o = p as Partial<Profile> | null;
  if (!o || typeof o !== 'object') throw new AnomalyError(`the model file's ${where} is not a profile`, HINT_RETRAIN);
  if (!finite(o.n) || o.n < 0) throw new AnomalyError(`the model file's ${where}.n is not a count`, HINT_RETRAIN);
  for (const k of ['center', 'scale'] as const) {
    const v = o[k];
    if (!Array.isArray(v) || v.length !== d || !v.every(finite)) throw new AnomalyError(`the model file's ${where}.${k} is not ${d} numbers`, HINT_RETRAIN);
  }
  if (o.scale!.some((s) => s < 0)) throw new AnomalyError(`the model file's ${where}.scale has a negative spread`, HINT_RETRAIN);
}

/**
 * The model file, checked as data before anything scores with it: the format and version
 * `seclab anomaly train` writes, the features this seclab computes, and every number and list the
 * scoring reads (finite numbers, lists of the right length, isolation trees whose children come after
 * their parent, so no tree can loop). Takes the file's text or its parsed JSON.
 */
export function validateModel(input: string | Uint8Array | unknown): AnomalyModel {
  let json: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
    if (size > MAX_MODEL_BYTES) throw new AnomalyError(`the model file is ${(size / 1024 / 1024).toFixed(1)} MB, more than ${MAX_MODEL_BYTES / 1024 / 1024} MB`, HINT_RETRAIN);
    const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new AnomalyError(`the model file is not JSON (${(e as Error).message})`, HINT_RETRAIN);
    }
  }
  const m = checkModel(json);
  const d = FEATURE_NAMES.length;
  if (!Number.isInteger(m.windowSeconds) || m.windowSeconds > 86_400) throw new AnomalyError(`the model's window of ${m.windowSeconds} s is not a whole number of seconds up to a day`, HINT_RETRAIN);
  for (const k of MODEL_KINDS) if (!finite(m.thresholds[k])) throw new AnomalyError(`the model file's ${k} threshold is not a number`, HINT_RETRAIN);
  const r = m.models.robust;
  if (r.kind !== 'robust' || !finite(r.shrinkage) || r.shrinkage < 0 || !Number.isInteger(r.top) || r.top < 1 || r.top > d) throw new AnomalyError('the model file\'s robust model settings (kind, shrinkage, top) are wrong', HINT_RETRAIN);
  checkProfile(r.global, 'models.robust.global', d);
  if (!r.hosts || typeof r.hosts !== 'object') throw new AnomalyError('the model file\'s models.robust.hosts is not an object', HINT_RETRAIN);
  for (const [h, p] of Object.entries(r.hosts)) checkProfile(p, `models.robust.hosts["${h}"]`, d);
  const t = m.models.threshold;
  if (t.kind !== 'threshold' || !finite(t.minHostWindows)) throw new AnomalyError('the model file\'s threshold model settings are wrong', HINT_RETRAIN);
  checkProfile(t.global, 'models.threshold.global', d);
  if (!t.hosts || typeof t.hosts !== 'object') throw new AnomalyError('the model file\'s models.threshold.hosts is not an object', HINT_RETRAIN);
  for (const [h, p] of Object.entries(t.hosts)) checkProfile(p, `models.threshold.hosts["${h}"]`, d);
  const f = m.models.iforest;
  if (f.kind !== 'iforest' || !Number.isInteger(f.sampleSize) || f.sampleSize < 1 || !Array.isArray(f.trees) || !f.trees.length || f.trees.length > 1000) {
    throw new AnomalyError('the model file\'s isolation forest settings (sampleSize, trees) are wrong', HINT_RETRAIN);
  }
  f.trees.forEach((tree, i) => {
    const n = Array.isArray(tree?.feature) ? tree.feature.length : -1;
    const ok = n > 0 && [tree.value, tree.left, tree.right].every((a) => Array.isArray(a) && a.length === n);
    if (!ok) throw new AnomalyError(`isolation tree ${i} of the model file is malformed`, HINT_RETRAIN);
    for (let k = 0; k < n; k++) {
      const feat = tree.feature[k];
      if (!Number.isInteger(feat) || feat! >= d || !finite(tree.value[k])) throw new AnomalyError(`isolation tree ${i}, node ${k}: feature or value out of range`, HINT_RETRAIN);
      // A child always comes after its parent (the trainer writes them so): no tree can loop.
      if (feat! >= 0 && !(tree.left[k]! > k && tree.left[k]! < n && tree.right[k]! > k && tree.right[k]! < n)) throw new AnomalyError(`isolation tree ${i}, node ${k}: children out of order`, HINT_RETRAIN);
    }
  });
  if (m.history !== undefined) checkHistory(m.history, 'the model file\'s history', HINT_RETRAIN);
  return m;
}

function checkHistory(h: unknown, where: string, hint: string): asserts h is HistoryState {
  if (!h || typeof h !== 'object' || Array.isArray(h)) throw new AnomalyError(`${where} is not an object of hosts`, hint);
  for (const [host, v] of Object.entries(h as Record<string, unknown>)) {
    const e = v as { peers?: unknown; arrivals?: unknown } | null;
    if (!e || !Array.isArray(e.peers) || !e.peers.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && finite(p[1]))) {
      throw new AnomalyError(`${where} of ${host}: peers must be [address, seconds] pairs`, hint);
    }
    if (!e.arrivals || typeof e.arrivals !== 'object' || !Object.values(e.arrivals).every((a) => Array.isArray(a) && a.length <= 1024 && a.every(finite))) {
      throw new AnomalyError(`${where} of ${host}: arrivals must be lists of times`, hint);
    }
  }
}

// ---------------------------------------------------------------- the detector

export interface AnomalyReason {
  feature: string;
  /** The window's value. */
  value: number;
  /** The host's normal value (its profile's centre). */
  normal: number;
  /** How far from normal, in robust standard deviations (capped at 20). */
  z: number;
  direction: 'above' | 'below';
  description: string;
}

/** One alert: the detail of an anomaly event (lab `advanced`: source northwind.anomaly, detail-type Network Anomaly). */
export interface AnomalyAlert {
  host: string;
  /** ISO 8601. */
  windowStart: string;
  windowEnd: string;
  score: number;
  threshold: number;
  reasons: { feature: string; value: number; normal: number; z: number; direction: 'above' | 'below' }[];
  modelVersion: number;
  /** Records the host sent in the window. */
  records: number;
}

/** What a detector remembers between invocations: per host, destinations and recent contact times. */
export interface DetectorState {
  format: 'seclab-anomaly-state';
  version: 1;
  /** The training period's end of the model the state was made with (Unix s). */
  modelTrainedUntil: number;
  /** The latest record start seen (Unix s). */
  seenUntil: number;
  /** The address of the interface whose stream this detector scored (hosts 'owner'). */
  owner?: string;
  history: HistoryState;
}

export const STATE_FORMAT = 'seclab-anomaly-state';

export interface DetectorOptions {
  /** Which model scores (default robust, the one with explanations). */
  model?: ModelKind;
  /**
   * Which hosts' windows are scored. 'owner' (default): a batch is one network interface's log stream
   * (a VPC flow log writes one per interface), and only the interface's own address is scored, since
   * the stream holds all of its traffic and only part of its peers' (`detect(records, { owner })`
   * names it; otherwise `ownerFor` finds it, and a batch where it cannot is not scored).
   * 'private': every RFC 1918 address; 'all': every sender; or a list of addresses and CIDR blocks
   * (IPv4): for batches that hold a whole flow log (every interface), e.g. a file.
   */
  hosts?: 'owner' | 'private' | 'all' | readonly string[];
  /** What a previous invocation's `state()` returned (JSON-parsed), so history carries across processes. */
  state?: unknown;
  /** Features per alert in `reasons` (default 3). */
  reasons?: number;
  /** Destinations kept per host in `state()` (default 2048; the model file keeps 256). */
  maxPeers?: number;
  /**
   * Addresses whose network interfaces the flow log covers (IPv4 addresses and CIDR blocks, or
   * 'private' for every RFC 1918 address, the default; [] for none). A conversation between two of
   * them is logged by both interfaces: a training file of the whole flow log holds it twice, one
   * interface's log stream once. With hosts 'owner' such records are counted twice, as in training.
   */
  covered?: 'private' | readonly string[];
}

export interface DetectResult {
  alerts: AnomalyAlert[];
  /** Host windows scored, and windows left out by the host selection. */
  scored: number;
  skipped: number;
  /** The hosts scored (for 'owner': the interface's address, when found). */
  hosts: string[];
  /** Records earlier than what the state had already seen (a redelivered batch): left out. */
  stale: number;
}

function ipv4(a: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(a);
  if (!m) return undefined;
  const p = m.slice(1).map(Number);
  if (p.some((x) => x > 255)) return undefined;
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

function cidrTest(spec: string): (a: string) => boolean {
  const [base, bits] = spec.split('/');
  const b = ipv4(base ?? '');
  const n = bits === undefined ? 32 : Number(bits);
  if (b === undefined || !Number.isInteger(n) || n < 0 || n > 32) throw new AnomalyError(`"${spec}" is not an IPv4 address or CIDR block`, 'give hosts as ["10.0.0.0/16", "10.1.2.3"]');
  const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
  return (a) => {
    const x = ipv4(a);
    return x !== undefined && ((x & mask) >>> 0) === ((b & mask) >>> 0);
  };
}

const PRIVATE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'].map(cidrTest);
const isPrivate = (a: string) => PRIVATE.some((t) => t(a));

/** The addresses every record has as source or destination: a network interface's own, and its only peer's when it had one. */
export function ownerCandidates(records: readonly FlowRecord[]): string[] {
  if (!records.length) return [];
  let common = [records[0]!.srcaddr, records[0]!.dstaddr].filter((a, i, l) => l.indexOf(a) === i);
  for (const r of records) {
    if (!common.length) return [];
    common = common.filter((a) => a === r.srcaddr || a === r.dstaddr);
  }
  return common;
}

/**
 * The network interface's own address in a batch of one interface's log stream: the address every
 * record has as source or destination. When the interface talked with a single peer, both are; then
 * `known` (the owner found before) decides, or the one inside `covered` when the other is not, else
 * there is no telling (undefined).
 */
export function ownerOf(records: readonly FlowRecord[], covered: (a: string) => boolean = isPrivate, known?: string): string | undefined {
  const common = ownerCandidates(records);
  if (common.length === 1) return common[0];
  if (known && common.includes(known)) return known;
  const inside = common.filter(covered);
  return inside.length === 1 ? inside[0] : undefined;
}

/** The network interface a flow log's log stream is named after (`eni-0abc…-all` → `eni-0abc…`). */
export function interfaceOfStream(logStream: string): string | undefined {
  return /^(eni-[0-9a-f]+)(-(all|accept|reject))?$/.exec(logStream)?.[1];
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * Scores the windows of flow-log batches per host with a trained model. One detector may see many
 * batches (a long-running process); a fresh process per invocation starts from the model's training
 * history, or from a previous `state()`.
 */
export class StreamDetector {
  readonly kind: ModelKind;
  private readonly extractor: FeatureExtractor;
  private readonly hostsOption: NonNullable<DetectorOptions['hosts']>;
  private readonly hostTest?: (a: string) => boolean;
  private readonly reasons: number;
  private readonly maxPeers: number;
  private readonly covered: (a: string) => boolean;
  private readonly remembered = new Set<string>();
  private seenUntil = -Infinity;
  /** The interface's address, once known (from the state, a batch, or `detect`'s option). */
  owner: string | undefined;

  constructor(readonly model: AnomalyModel, opts: DetectorOptions = {}) {
    this.kind = opts.model ?? 'robust';
    if (!MODEL_KINDS.includes(this.kind)) throw new AnomalyError(`no model "${String(opts.model)}": choose one of ${MODEL_KINDS.join(', ')}`);
    this.hostsOption = opts.hosts ?? 'owner';
    if (Array.isArray(this.hostsOption)) {
      const tests = this.hostsOption.map(cidrTest);
      this.hostTest = (a) => tests.some((t) => t(a));
    } else if (!['owner', 'private', 'all'].includes(this.hostsOption as string)) {
      throw new AnomalyError(`hosts must be 'owner', 'private', 'all' or a list of CIDR blocks, not ${JSON.stringify(this.hostsOption)}`);
    }
    this.reasons = opts.reasons ?? 3;
    this.maxPeers = opts.maxPeers ?? 2048;
    const covered = opts.covered ?? 'private';
    if (covered === 'private') this.covered = isPrivate;
    else if (Array.isArray(covered)) {
      const tests = covered.map(cidrTest);
      this.covered = (a) => tests.some((t) => t(a));
    } else throw new AnomalyError(`covered must be 'private' or a list of CIDR blocks, not ${JSON.stringify(covered)}`);
    const history: HistoryState = { ...(model.history ?? {}) };
    if (opts.state !== undefined && opts.state !== null) {
      const s = validateState(opts.state);
      Object.assign(history, s.history);
      for (const h of Object.keys(s.history)) this.remembered.add(h);
      this.seenUntil = s.seenUntil;
      this.owner = s.owner;
    }
    this.extractor = new FeatureExtractor({ windowSeconds: model.windowSeconds, history });
  }

  /**
   * Scores every window of the records (a batch holds whole capture windows: all are closed at its
   * end). `owner`: the address of the interface whose log stream the batch is (hosts 'owner').
   */
  detect(records: readonly FlowRecord[], options: { owner?: string } = {}): DetectResult {
    const fresh = records.filter((r) => r.start >= this.seenUntil - this.model.windowSeconds);
    const stale = records.length - fresh.length;
    let sorted = [...fresh].sort((a, b) => a.start - b.start);
    const owner = this.hostsOption === 'owner' ? options.owner ?? this.ownerFor(sorted) : undefined;
    if (owner) this.owner = owner;
    if (owner) {
      // One interface's stream: what its owner exchanged with another covered interface is in that
      // interface's stream too, and so twice in a training file of the whole flow log.
      const twice: FlowRecord[] = [];
      for (const r of sorted) {
        twice.push(r);
        if (this.covered(r.srcaddr === owner ? r.dstaddr : r.srcaddr)) twice.push(r);
      }
      sorted = twice;
    }
    const windows: FeatureWindow[] = [];
    for (const r of sorted) windows.push(...this.extractor.push(r));
    windows.push(...this.extractor.flush());
    if (sorted.length) this.seenUntil = Math.max(this.seenUntil, sorted[sorted.length - 1]!.start);
    let test: (a: string) => boolean;
    let hosts: string[] = [];
    if (this.hostsOption === 'all') test = () => true;
    else if (this.hostsOption === 'private') test = isPrivate;
    else if (this.hostsOption === 'owner') test = owner ? (a) => a === owner : () => false;
    else test = this.hostTest!;
    const alerts: AnomalyAlert[] = [];
    let scored = 0;
    const seen = new Set<string>();
    for (const w of windows) {
      if (!test(w.host)) continue;
      scored++;
      seen.add(w.host);
      this.remembered.add(w.host);
      const score = scoreWindow(this.model, this.kind, w);
      const threshold = this.model.thresholds[this.kind];
      if (!(score > threshold)) continue;
      alerts.push({
        host: w.host, windowStart: new Date(w.windowStart * 1000).toISOString(), windowEnd: new Date(w.windowEnd * 1000).toISOString(),
        score: round(score), threshold: round(threshold),
        reasons: explain(this.model, w, this.reasons).map((e) => ({ feature: e.feature, value: e.value, normal: e.normal, z: e.z, direction: e.direction })),
        modelVersion: this.model.version, records: w.records,
      });
    }
    hosts = [...seen].sort();
    return { alerts, scored, skipped: windows.length - scored, hosts, stale };
  }

  /**
   * Whose stream the records are (hosts 'owner'): see `ownerOf`; undefined when the batch cannot tell
   * (the interface talked with one other covered address only): then give `detect` the owner, e.g. the
   * address of the interface the stream is named after (EC2 DescribeNetworkInterfaces).
   */
  ownerFor(records: readonly FlowRecord[]): string | undefined {
    return ownerOf(records, this.covered, this.owner);
  }

  /** What to keep for the next invocation (JSON): the history of the hosts scored so far (and of the state given). */
  state(): DetectorState {
    return {
      format: STATE_FORMAT, version: 1, modelTrainedUntil: this.model.training.until,
      seenUntil: Number.isFinite(this.seenUntil) ? this.seenUntil : 0,
      ...(this.owner ? { owner: this.owner } : {}),
      history: this.extractor.snapshot(this.remembered, this.maxPeers),
    };
  }
}

/** A detector's state as a previous invocation saved it (parsed JSON or its text); AnomalyError when it is not one. */
export function validateState(input: unknown): DetectorState {
  let s = input;
  if (typeof input === 'string') {
    try {
      s = JSON.parse(input);
    } catch (e) {
      throw new AnomalyError(`the detector state is not JSON (${(e as Error).message})`, 'start without a state (delete the saved one)');
    }
  }
  const o = s as Partial<DetectorState> | null;
  const hint = 'save what detector.state() returns, as JSON, and give it back unchanged (or start without one)';
  if (!o || typeof o !== 'object' || o.format !== STATE_FORMAT) throw new AnomalyError(`not a detector state (no "format": "${STATE_FORMAT}")`, hint);
  if (o.version !== 1) throw new AnomalyError(`detector state version ${String(o.version)}; this seclab reads version 1`, hint);
  if (!finite(o.seenUntil)) throw new AnomalyError('the detector state has no seenUntil time', hint);
  if (o.owner !== undefined && (typeof o.owner !== 'string' || ipv4(o.owner) === undefined)) throw new AnomalyError('the detector state\'s owner is not an IPv4 address', hint);
  checkHistory(o.history, 'the detector state\'s history', hint);
  return o as DetectorState;
}

export { MODEL_FORMAT, MODEL_VERSION };
