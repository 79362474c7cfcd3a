// Northwind's anomaly detector (reference). A subscription filter on the flow-log group invokes it with
// each batch of records (one network interface's log stream); it scores every host window of the batch
// with the model packaged beside it (model.json, written by solution.ts) and puts one event per alert on
// the default event bus. The lab cloud, like a cold Lambda, starts a fresh process per invocation: what
// the model must remember between batches (each host's peers and contact times, for new destinations
// and beaconing) is kept in S3, one small state file per log stream.
import { readFileSync } from 'node:fs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { S3Client, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { anomalyEvent, createDetector, decodeSubscription, loadModel, parseFlowRecords } from 'seclab/kit/anomaly';

const model = loadModel(readFileSync(new URL('./model.json', import.meta.url), 'utf8'));
const events = new EventBridgeClient({});
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

export const handler = async (event) => {
  const batch = decodeSubscription(event);
  if (batch.messageType !== 'DATA_MESSAGE' || !batch.logEvents.length) return { alerts: 0 };
  const parsed = parseFlowRecords(batch.logEvents);
  const records = parsed.records.filter((r) => !IGNORE.has(r.srcaddr) && !IGNORE.has(r.dstaddr));
  let state = await loadState(batch.logStream);
  let detector;
  try {
    detector = createDetector(model, { state });
  } catch (e) {
    // A state from another model (retrained since): start again from the model's own history.
    console.log(`state of ${batch.logStream} not usable (${e.message}): starting fresh`);
    state = undefined;
    detector = createDetector(model);
  }
  const result = detector.detect(records);
  await saveState(batch.logStream, detector.state());
  const entries = result.alerts.map((a) => anomalyEvent(a, {
    source: SOURCE, detailType: DETAIL_TYPE, extra: INSTANCES[a.host] ? { instanceId: INSTANCES[a.host] } : {},
  }));
  for (let i = 0; i < entries.length; i += 10) {
    const r = await events.send(new PutEventsCommand({ Entries: entries.slice(i, i + 10) }));
    if (r.FailedEntryCount) throw new Error(`EventBridge refused ${r.FailedEntryCount} anomaly events`);
  }
  for (const a of result.alerts) console.log(`anomaly ${a.host} ${a.windowStart} score ${a.score} > ${a.threshold}: ${a.reasons.map((x) => x.feature).join(', ')}`);
  return { alerts: result.alerts.length, scored: result.scored, malformed: parsed.malformed };
};
