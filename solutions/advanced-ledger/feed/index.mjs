// Northwind's audit-ledger feed (reference). Subscription filters on the trail's log group and on the
// app's audit log group invoke it with batches of events; it turns each into a ledger entry, appends
// them to the ledger (c2sp tlog-tiles in the ledger bucket), signs a checkpoint with the KMS key (only
// this function's role may Sign), gets the witness's cosignature (a role in the witness account, the
// witness function there) and writes the cosigned checkpoint to the ledger and to the anchor bucket
// (Object Lock, COMPLIANCE).
//
// Deliveries run concurrently (each log group, each stream, each PutLogEvents is its own invocation),
// and two appends from the same size would fork the log. So each invocation first parks its entries
// under pending/ (a unique key), then takes the ledger's lock — an S3 conditional write (If-None-Match:
// *) of feed.lock — and the holder appends everything pending, oldest first. An invocation that does
// not get the lock in time leaves its entries for the next holder: nothing is lost, nothing forks.
import { randomUUID } from 'node:crypto';
import { S3Client, PutObjectCommand, GetObjectCommand, DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { KMSClient } from '@aws-sdk/client-kms';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import { LambdaClient, InvokeCommand } from '@aws-sdk/client-lambda';
import {
  Ledger, S3Store, kmsSigner, encodeEntry, addCheckpointRequest, addSignatures, parseCheckpoint, decodeSubscription, entriesFromSubscription,
} from 'seclab/kit/ledger';

const env = process.env;
const BUCKET = env.LEDGER_BUCKET;
const PREFIX = env.LEDGER_PREFIX ?? 'log/';
const ORIGIN = env.ORIGIN;
const LOCK = 'feed.lock';
const PENDING = 'pending/';
/** A lock older than this (wall clock: the functions' hosts share it) belongs to a crashed invocation. */
const STALE_MS = 90_000;
/** How long to wait for the lock before leaving the entries to the next holder. */
const WAIT_MS = 40_000;

const s3 = new S3Client({ forcePathStyle: true });
const kms = new KMSClient({});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const is412 = (e) => e?.name === 'PreconditionFailed' || e?.$metadata?.httpStatusCode === 412;

export async function handler(event, context) {
  const batch = decodeSubscription(event);
  if (batch.messageType !== 'DATA_MESSAGE') return { appended: 0 };
  const { entries, skipped } = entriesFromSubscription(batch);
  for (const s of skipped) console.log(`skipped ${s.id}: ${s.reason}`);
  if (entries.length) {
    const key = `${PENDING}${Date.now().toString().padStart(15, '0')}-${context?.awsRequestId ?? randomUUID()}.json`;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: JSON.stringify(entries), ContentType: 'application/json' }));
  }
  const owner = context?.awsRequestId ?? randomUUID();
  if (!(await lock(owner))) {
    console.log('the ledger is busy: the next holder of the lock appends these entries');
    return { appended: 0, deferred: entries.length };
  }
  try {
    return await drain();
  } finally {
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: LOCK })).catch((e) => console.log(`could not release the lock: ${e.message}`));
  }
}

async function lock(owner) {
  const until = Date.now() + WAIT_MS;
  for (let i = 0; ; i++) {
    try {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: LOCK, Body: JSON.stringify({ owner, at: Date.now() }), IfNoneMatch: '*' }));
      return true;
    } catch (e) {
      if (!is412(e)) throw e;
    }
    const held = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: LOCK })).then(async (o) => JSON.parse(await o.Body.transformToString()), () => undefined);
    if (held && Date.now() - held.at > STALE_MS) {
      console.log(`breaking a stale lock of ${held.owner}`);
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: LOCK }));
      continue;
    }
    if (Date.now() > until) return false;
    await sleep(150 + Math.floor(Math.random() * 250) + Math.min(i, 10) * 50);
  }
}

async function drain() {
  const keys = [];
  let token;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: PENDING, ContinuationToken: token }));
    keys.push(...(r.Contents ?? []).map((c) => c.Key));
    token = r.NextContinuationToken;
  } while (token);
  keys.sort();
  if (!keys.length) return { appended: 0 };
  const entries = [];
  for (const k of keys) {
    const o = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: k }));
    entries.push(...JSON.parse(await o.Body.transformToString()));
  }
  entries.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));

  const store = new S3Store({ client: s3, bucket: BUCKET, prefix: PREFIX });
  const ledger = await Ledger.open(store, { origin: ORIGIN });
  const before = ledger.size;
  await ledger.append(entries.map((e) => encodeEntry(e)));
  const signer = await kmsSigner(kms, env.KEY_ID, ORIGIN);
  const note = await ledger.checkpoint([signer]);
  // The entries are in the ledger for good (a failing witness below is caught up on the next drain:
  // it answers 409 with its size and gets a proof from there).
  for (const k of keys) await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: k }));
  const cosigned = await witness(ledger, note, before);
  await store.put('checkpoint', Buffer.from(cosigned));
  const size = parseCheckpoint(cosigned.slice(0, cosigned.indexOf('\n\n') + 1)).size;
  await s3.send(new PutObjectCommand({
    Bucket: env.ANCHOR_BUCKET, Key: `${env.ANCHOR_PREFIX ?? 'checkpoints/'}${String(size).padStart(12, '0')}`, Body: cosigned,
    ContentType: 'text/plain; charset=utf-8', ChecksumAlgorithm: 'SHA256',
  }));
  console.log(`appended ${entries.length} entries (${before} → ${size}), cosigned and anchored`);
  return { appended: entries.length, size };
}

/** The witness's cosignature on `note`, with a consistency proof from the size it last cosigned. */
async function witness(ledger, note, before) {
  const sts = new STSClient({});
  const c = (await sts.send(new AssumeRoleCommand({ RoleArn: env.WITNESS_ROLE_ARN, RoleSessionName: 'ledger-feed' }))).Credentials;
  const lambda = new LambdaClient({ credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken } });
  // Usually the witness cosigned the size before this append; if not, it says which (409).
  let old = before;
  for (let attempt = 0; attempt < 3; attempt++) {
    const proof = old > 0 && old < ledger.size ? await ledger.consistencyProof(old) : [];
    const res = await lambda.send(new InvokeCommand({ FunctionName: env.WITNESS_FUNCTION, Payload: Buffer.from(JSON.stringify({ body: addCheckpointRequest(old, proof, note) })) }));
    const text = Buffer.from(res.Payload ?? []).toString('utf8');
    if (res.FunctionError) throw new Error(`the witness failed: ${text}`);
    const reply = JSON.parse(text);
    if (reply.statusCode === 200) return addSignatures(note, reply.body.split('\n').filter((l) => l.startsWith('— ')));
    if (reply.statusCode === 409) {
      old = Number(reply.body.trim().split('\n')[0]);
      continue;
    }
    throw new Error(`the witness refused the checkpoint (${reply.statusCode}): ${reply.body}`);
  }
  throw new Error('the witness kept answering 409');
}
