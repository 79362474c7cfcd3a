// What students' code and their Lambda functions may import as 'seclab/kit/ledger': the ledger library
// (src/controls/ledger: the Merkle log over tiles, stores, entries, signed notes and checkpoints, the KMS
// signer, witness cosignatures and the witness, the auditor) plus the glue a feed and a witness need in
// a Lambda function. Plain Node.js (the lab cloud's Lambda runtime) loads it through src/kit/ledger.mjs;
// TypeScript and tsx read this file. docs/ledger.md describes the formats.
//
//   import { decodeSubscription, entriesFromSubscription, encodeEntry, Ledger, S3Store, kmsSigner } from 'seclab/kit/ledger';
//   const { entries } = entriesFromSubscription(decodeSubscription(event));
//   const ledger = await Ledger.open(new S3Store({ client: s3, bucket, prefix: 'log/' }), { origin });
//   await ledger.append(entries.map(encodeEntry));
//   const note = await ledger.checkpoint([await kmsSigner(kms, keyId, origin)]);
import { decodeSubscription, type SubscriptionBatch, type SubscriptionLogEvent } from '../controls/anomaly/stream.ts';

// Each part of the library (index.ts gathers the same files).
export * from '../controls/ledger/hash.ts';
export * from '../controls/ledger/tree.ts';
export * from '../controls/ledger/tiles.ts';
export * from '../controls/ledger/store.ts';
export * from '../controls/ledger/log.ts';
export * from '../controls/ledger/entry.ts';
export * from '../controls/ledger/note.ts';
export * from '../controls/ledger/checkpoint.ts';
export * from '../controls/ledger/signers.ts';
export * from '../controls/ledger/cosignature.ts';
export * from '../controls/ledger/witness.ts';
export * from '../controls/ledger/audit.ts';
export { decodeSubscription, type SubscriptionBatch, type SubscriptionLogEvent };

/** One audited event, as contract and docs/ledger.md define it (src/controls/ledger/entry.ts). */
export interface KitLedgerEntry {
  v: 1;
  kind: 'cloudtrail' | 'app';
  source: Record<string, string>;
  time: string;
  event: Record<string, unknown>;
}

export class KitError extends Error {
  constructor(message: string, readonly hint: string) {
    super(`${message} — ${hint}`);
    this.name = 'LedgerKitError';
  }
}

/** The ledger entry of one CloudTrail record (as CloudTrail delivers it to CloudWatch Logs or in a log file). */
export function cloudTrailEntry(record: Record<string, unknown>): KitLedgerEntry {
  const s = (k: string) => (typeof record[k] === 'string' ? (record[k] as string) : '');
  if (!s('eventID') || !s('eventSource') || !s('eventName') || !s('eventTime')) {
    throw new KitError('not a CloudTrail record: eventID, eventSource, eventName and eventTime are needed', 'give one element of a log file\'s Records, or the JSON message of the trail\'s log group');
  }
  return { v: 1, kind: 'cloudtrail', source: { type: 'cloudtrail', eventID: s('eventID'), eventSource: s('eventSource'), eventName: s('eventName') }, time: s('eventTime'), event: record };
}

/**
 * The ledger entry of one application audit event: the app writes JSON messages with an `id` (its own,
 * stable: CloudWatch Logs' event ids differ between a subscription and FilterLogEvents) and a `time`.
 */
export function appEntry(message: Record<string, unknown>, where: { logGroup: string; logStream: string }): KitLedgerEntry {
  const id = message['id'];
  if (typeof id !== 'string' || !id) throw new KitError('an app audit event without an id', 'the app\'s messages are JSON objects with "id" and "time"');
  const time = typeof message['time'] === 'string' ? (message['time'] as string) : '';
  if (!time || Number.isNaN(Date.parse(time))) throw new KitError(`the app audit event ${id} has no ISO 8601 time`, 'the app\'s messages carry "time"');
  return { v: 1, kind: 'app', source: { type: 'app-audit', logGroup: where.logGroup, logStream: where.logStream, id }, time, event: message };
}

/**
 * The entries of one subscription delivery: CloudTrail records (a message with eventID/eventSource) and
 * app audit events (a message with id/time). Messages that are neither are listed in `skipped` with
 * the reason, never dropped silently.
 */
export function entriesFromSubscription(batch: SubscriptionBatch): { entries: KitLedgerEntry[]; skipped: { id: string; reason: string }[] } {
  const entries: KitLedgerEntry[] = [];
  const skipped: { id: string; reason: string }[] = [];
  for (const e of batch.logEvents) {
    let msg: unknown;
    try {
      msg = JSON.parse(e.message);
    } catch {
      skipped.push({ id: e.id, reason: 'the message is not JSON' });
      continue;
    }
    if (!msg || typeof msg !== 'object' || Array.isArray(msg)) {
      skipped.push({ id: e.id, reason: 'the message is not a JSON object' });
      continue;
    }
    const m = msg as Record<string, unknown>;
    try {
      entries.push('eventID' in m && 'eventSource' in m ? cloudTrailEntry(m) : appEntry(m, { logGroup: batch.logGroup, logStream: batch.logStream }));
    } catch (err) {
      skipped.push({ id: e.id, reason: (err as Error).message });
    }
  }
  return { entries, skipped };
}

/** What the witness function answers (a Lambda function URL's shape): the c2sp tlog-witness response. */
export interface WitnessReply { statusCode: number; headers: Record<string, string>; body: string }

/**
 * A Lambda handler for a witness: event `{ body }` (a c2sp tlog-witness add-checkpoint request) →
 * `{ statusCode, headers, body }`. `witness` is a Witness (or anything with the same addCheckpoint).
 */
export function witnessHandler(witness: { addCheckpoint(body: string): Promise<{ status: number; contentType: string; body: string }> }): (event: unknown) => Promise<WitnessReply> {
  return async (event: unknown) => {
    const body = event && typeof event === 'object' ? (event as { body?: unknown }).body : undefined;
    if (typeof body !== 'string') return { statusCode: 400, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'expected an event { "body": "<add-checkpoint request>" }\n' };
    const r = await witness.addCheckpoint(body);
    return { statusCode: r.status, headers: { 'content-type': r.contentType }, body: r.body };
  };
}
