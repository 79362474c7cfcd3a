// Northwind's anomaly detector (reference). A subscription filter on the flow-log group invokes it with
// each batch of records (one network interface's log stream); it scores every host window of the batch
// with the model packaged beside it (model.json, written by solution.ts) and puts one event per alert on
// the default event bus. The lab cloud, like a cold Lambda, starts a fresh process per invocation: what
// the model must remember between batches (each host's peers and contact times, for new destinations
// and beaconing) is kept in S3, one small state file per log stream.
//
// An event needs three anomalous minutes in a row of the same host: a normal hour has its odd minute
// (the backup's, once an hour), an attack lasts. Measured on a held-out baseline day with the model
// set for 1 %: 207 anomalous host-minutes, 1 run of two, none of three — while every minute of the
// lab's attacks scores above the threshold. It delays a detection by two minutes at most.
import { readFileSync } from 'node:fs';
import { DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { S3Client, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { anomalyEvent, createDetector, decodeSubscription, interfaceOfStream, loadModel, parseFlowRecords } from 'seclab/kit/anomaly';

const model = loadModel(readFileSync(new URL('./model.json', import.meta.url), 'utf8'));
const events = new EventBridgeClient({});
const ec2 = new EC2Client({});
const s3 = new S3Client({ forcePathStyle: true });

const env = process.env;
const SOURCE = env.ANOMALY_SOURCE;
const DETAIL_TYPE = env.ANOMALY_DETAIL_TYPE;
const STATE_BUCKET = env.STATE_BUCKET;
const STATE_PREFIX = env.STATE_PREFIX ?? 'anomaly/state/';
// A contracted scanner's traffic is known and expected: left out before scoring (as in training).
const IGNORE = new Set((env.IGNORE_ADDRESSES ?? '').split(',').filter(Boolean));
/** private address → instance id, for the responder. */
const INSTANCES = Object.fromEntries((env.INSTANCES ?? '').split(',').filter(Boolean).map((kv) => kv.split('=')));

const MINUTE_MS = 60_000;
/** Anomalous minutes in a row before an event; then at most one event per host per REPEAT_MS. */
const CONFIRM = Number(env.CONFIRM_WINDOWS ?? 3);
const REPEAT_MS = 15 * MINUTE_MS;

const stateKey = (stream) => `${STATE_PREFIX}${stream.replace(/[^A-Za-z0-9._-]/g, '_')}.json`;

async function loadState(stream) {
  if (!STATE_BUCKET) return undefined;
  try {
    const o = await s3.send(new GetObjectCommand({ Bucket: STATE_BUCKET, Key: stateKey(stream) }));
    return JSON.parse(await o.Body.transformToString());
  } catch (e) {
    if (e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404) return undefined;
    throw e;
  }
}

async function saveState(stream, state) {
  if (!STATE_BUCKET) return;
  await s3.send(new PutObjectCommand({ Bucket: STATE_BUCKET, Key: stateKey(stream), Body: JSON.stringify(state), ContentType: 'application/json' }));
}

/**
 * The alerts to report: those ending a run of CONFIRM anomalous windows of their host, at most one per
 * host every REPEAT_MS. `runs` (kept in the state) says, per host, where its current run started and
 * ended, and when it was last reported.
 */
function confirmed(alerts, runs) {
  const out = [];
  for (const a of [...alerts].sort((x, y) => Date.parse(x.windowStart) - Date.parse(y.windowStart))) {
    const start = Date.parse(a.windowStart);
    const r = runs[a.host];
    const run = r && r.last === start - MINUTE_MS ? { ...r, last: start } : { first: start, last: start, reported: r?.reported ?? 0 };
    runs[a.host] = run;
    const length = (run.last - run.first) / MINUTE_MS + 1;
    if (length >= CONFIRM && start - run.reported >= REPEAT_MS) {
      run.reported = start;
      out.push(a);
    }
  }
  return out;
}

/** The interface's own address, from EC2 (a stream is named after its interface), when a batch cannot tell. */
async function interfaceAddress(stream) {
  const id = interfaceOfStream(stream);
  if (!id) return undefined;
  const out = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] })).catch((e) => {
    console.log(`${id} not described (${e.name}): batch not scored`);
    return undefined;
  });
  return out?.NetworkInterfaces?.[0]?.PrivateIpAddress;
}

export const handler = async (event) => {
  let batch;
  try {
    batch = decodeSubscription(event);
  } catch (e) {
    // Logged, not thrown: a payload that never parses would only be retried.
    console.log(`not a flow-log batch: ${e.message}`);
    return { alerts: 0, error: e.message };
  }
  if (batch.messageType !== 'DATA_MESSAGE' || !batch.logEvents.length) return { alerts: 0 };
  const parsed = parseFlowRecords(batch.logEvents);
  const records = parsed.records.filter((r) => !IGNORE.has(r.srcaddr) && !IGNORE.has(r.dstaddr));
  const saved = await loadState(batch.logStream);
  let detector;
  try {
    detector = createDetector(model, { state: saved?.detector });
  } catch (e) {
    // A state from another model (retrained since): start again from the model's own history.
    console.log(`state of ${batch.logStream} not usable (${e.message}): starting fresh`);
    detector = createDetector(model);
  }
  // An interface that talked with one other address only: its records cannot say which is its own.
  const owner = detector.ownerFor(records) ?? (records.length ? await interfaceAddress(batch.logStream) : undefined);
  const result = detector.detect(records, owner ? { owner } : {});
  const runs = saved?.runs ?? {};
  const report = confirmed(result.alerts, runs);
  await saveState(batch.logStream, { detector: detector.state(), runs });
  const entries = report.map((a) => anomalyEvent(a, {
    source: SOURCE, detailType: DETAIL_TYPE, extra: INSTANCES[a.host] ? { instanceId: INSTANCES[a.host] } : {},
  }));
  for (let i = 0; i < entries.length; i += 10) {
    const r = await events.send(new PutEventsCommand({ Entries: entries.slice(i, i + 10) }));
    if (r.FailedEntryCount) throw new Error(`EventBridge refused ${r.FailedEntryCount} anomaly events`);
  }
  for (const a of report) console.log(`anomaly ${a.host} ${a.windowStart} score ${a.score} > ${a.threshold}: ${a.reasons.map((x) => x.feature).join(', ')}`);
  return { alerts: result.alerts.length, reported: report.length, scored: result.scored, malformed: parsed.malformed };
};
