// An anomaly detector as a Lambda function (docs/anomaly.md, "In a Lambda
// function"). A CloudWatch Logs subscription filter on a VPC flow-log group
// feeds it; it scores each batch with the model packaged beside it
// (model.json from `seclab anomaly train`) and puts one EventBridge event per
// alert on the default bus. An example, not a lab's solution.
//
// Environment:
//   ANOMALY_SOURCE, ANOMALY_DETAIL_TYPE  the events' source and detail-type
//   STATE_BUCKET  optional: keeps each log stream's history between calls
//   LOG_FORMAT    optional: the flow log's LogFormat, if not the default
//   INSTANCES     optional: "10.0.2.10=i-0abc,10.0.3.10=i-0def" (instanceId)
// Execution role: events:PutEvents on the default bus,
// ec2:DescribeNetworkInterfaces; with STATE_BUCKET s3:GetObject and
// s3:PutObject on <bucket>/anomaly-state/* and s3:ListBucket on the bucket.
import { readFileSync } from 'node:fs';
import {
  DescribeNetworkInterfacesCommand, EC2Client,
} from '@aws-sdk/client-ec2';
import {
  EventBridgeClient, PutEventsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  GetObjectCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import {
  anomalyEvent, createDetector, decodeSubscription, interfaceOfStream,
  loadModel, parseFlowRecords,
} from 'seclab/kit/anomaly';

// Init, once per process: read and check the model (a bad file fails here).
const loading = performance.now();
const modelText = readFileSync(new URL('./model.json', import.meta.url));
const model = loadModel(modelText);
// Milliseconds since the process started (the cold start), and the model's.
const init = {
  coldStartMs: Math.round(performance.now()),
  modelLoadMs: Math.round(performance.now() - loading),
};
const SOURCE = process.env.ANOMALY_SOURCE ?? 'northwind.anomaly';
const DETAIL_TYPE = process.env.ANOMALY_DETAIL_TYPE ?? 'Network Anomaly';
const STATE_BUCKET = process.env.STATE_BUCKET;
const INSTANCES = Object.fromEntries((process.env.INSTANCES ?? '')
  .split(',').filter(Boolean).map((pair) => pair.split('=')));
const events = new EventBridgeClient({});
const ec2 = new EC2Client({});
const s3 = new S3Client({ forcePathStyle: true });

// Each invocation may be a fresh process: what the detector learnt about a
// host (destinations seen, times of recent contacts) is kept per log stream
// (one per network interface) in S3.
const stateKey = (stream) => `anomaly-state/${encodeURIComponent(stream)}.json`;

async function loadState(stream) {
  if (!STATE_BUCKET) return undefined;
  try {
    const o = await s3.send(
      new GetObjectCommand({ Bucket: STATE_BUCKET, Key: stateKey(stream) }));
    return JSON.parse(await o.Body.transformToString());
  } catch (e) {
    if (e.name !== 'NoSuchKey') console.warn(`no state: ${stream} ${e.name}`);
    return undefined;
  }
}

async function saveState(stream, state) {
  if (!STATE_BUCKET) return;
  await s3.send(new PutObjectCommand({
    Bucket: STATE_BUCKET, Key: stateKey(stream),
    Body: JSON.stringify(state), ContentType: 'application/json',
  }));
}

// A batch is one network interface's log stream. When the interface talked
// with one other address only, the records cannot tell which address is its
// own: ask EC2 (the stream is named after the interface).
async function interfaceAddress(stream) {
  const id = interfaceOfStream(stream);
  if (!id) return undefined;
  try {
    const out = await ec2.send(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] }));
    return out.NetworkInterfaces?.[0]?.PrivateIpAddress;
  } catch (e) {
    console.warn(`${id} not described (${e.name}): batch not scored`);
    return undefined;
  }
}

export const handler = async (event) => {
  let batch;
  try {
    batch = decodeSubscription(event);
  } catch (e) {
    // Log and return: throwing makes Lambda retry a payload that never parses.
    const hint = e.hint ? ` (${e.hint})` : '';
    console.error(`not a flow-log batch: ${e.message}${hint}`);
    return { ok: false, error: e.message };
  }
  if (batch.messageType !== 'DATA_MESSAGE') return { ok: true, alerts: 0 };
  const parsed = parseFlowRecords(batch.logEvents, process.env.LOG_FORMAT);
  if (parsed.malformed) {
    const first = parsed.examples[0];
    console.warn(`${parsed.malformed} messages are not flow-log records`
      + ` (first: #${first?.index}, ${first?.reason})`);
  }
  const state = await loadState(batch.logStream);
  let detector;
  try {
    detector = createDetector(model, { state });
  } catch (e) {
    console.warn(`saved state of ${batch.logStream} ignored: ${e.message}`);
    detector = createDetector(model);
  }
  let owner = detector.ownerFor(parsed.records);
  if (!owner && parsed.records.length) {
    owner = await interfaceAddress(batch.logStream);
  }
  const scoring = performance.now();
  const { alerts, hosts } = detector.detect(parsed.records, { owner });
  const detectMs = Math.round((performance.now() - scoring) * 10) / 10;
  await saveState(batch.logStream, detector.state());

  const entries = alerts.map((a) => anomalyEvent(a, {
    source: SOURCE, detailType: DETAIL_TYPE,
    extra: INSTANCES[a.host] ? { instanceId: INSTANCES[a.host] } : {},
  }));
  // PutEvents takes at most 10 entries per call.
  for (let i = 0; i < entries.length; i += 10) {
    const Entries = entries.slice(i, i + 10);
    const out = await events.send(new PutEventsCommand({ Entries }));
    if (out.FailedEntryCount) {
      console.error(`events not put: ${JSON.stringify(out.Entries)}`);
    }
  }
  for (const a of alerts) {
    const why = a.reasons
      .map((r) => `${r.feature} ${r.value} (normal ${r.normal})`).join(', ');
    console.log(`anomaly ${a.host} ${a.windowStart} score ${a.score}: ${why}`);
  }
  return {
    ok: true, stream: batch.logStream, records: parsed.records.length,
    hosts, alerts: alerts.length, ...init, detectMs,
  };
};
