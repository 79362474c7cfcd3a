// Lab advanced-ledger's checks. They judge behaviour on the lab cloud, never configuration text:
// the grader drives a quiet period of the app (QUIET_MINUTES of lab time, a minute at a time) and reads
// what the ledger holds after each minute; it tries the key as ops-admin; it asks the witness to cosign
// and to accept a checkpoint inconsistent with what it cosigned; it tries to delete an anchor version as
// the account's root; it audits the untouched ledger. Business (gates): the app's calls never fail,
// and the ledger keeps up (every source event of the quiet period has its entry within MAX_LAG_MS).
import { KMSClient, SignCommand, PutKeyPolicyCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { S3Client, ListObjectVersionsCommand, DeleteObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import type { Check } from '../../src/engine/types.ts';
import type { LabSession } from '../../src/engine/session.ts';
import { ledgerEnv, ledgerHidden } from './env.ts';
import { appMinute, appTally, MINUTE } from './company.ts';
import { applyOutput, gradeAudit, isDataEventOn, pinnedTrust } from './trust.ts';
import { ledgerLib } from './ledger-lib.ts';
import { closeWitnessSetup } from './provision.ts';

const TILE = 256;

/** What the quiet period showed: each source event, and when (lab time) its entry was first seen. */
export interface QuietResult {
  from: number;
  to: number;
  /** Source events that must be logged: CloudTrail data events on the data bucket and app events. */
  events: { kind: 'cloudtrail' | 'app'; id: string; at: number; name: string; seenAt?: number; index?: number }[];
  /** Ledger size after each minute. */
  sizes: { at: number; size: number }[];
  /** Why the ledger could not be read, if it could not. */
  problem?: string;
  failures: number;
}

const quiet = new WeakMap<LabSession, Promise<QuietResult>>();

/** Reads the checkpoint's size (not verified: the posture checks verify) from where apply() put the ledger. */
async function ledgerSize(session: LabSession): Promise<number> {
  const out = applyOutput(session);
  if (!out) return 0;
  const s3 = session.client(S3Client);
  const prefix = out.ledger.prefix ? out.ledger.prefix.replace(/\/*$/, '/') : '';
  try {
    const o = await s3.send(new GetObjectCommand({ Bucket: ledgerEnv(session).ledgerBucket, Key: `${prefix}checkpoint` }));
    const lines = (await o.Body!.transformToString()).split('\n');
    const n = Number(lines[1]);
    return Number.isSafeInteger(n) && n >= 0 ? n : 0;
  } catch {
    return 0;
  }
}

/** Every entry up to `size` from the ledger's bundles (undefined where a bundle is missing). */
export async function readEntries(session: LabSession, size: number): Promise<(ReturnType<Awaited<ReturnType<typeof ledgerLib>>['decodeEntry']> | undefined)[]> {
  const lib = await ledgerLib();
  const out = applyOutput(session)!;
  const store = new lib.S3Store({ client: session.client(S3Client), bucket: ledgerEnv(session).ledgerBucket, ...(out.ledger.prefix ? { prefix: out.ledger.prefix } : {}) });
  const entries: (ReturnType<typeof lib.decodeEntry> | undefined)[] = [];
  for (let n = 0; n * TILE < size; n++) {
    const width = Math.min(TILE, size - n * TILE);
    const data = await store.get(lib.entriesPath(n, width === TILE ? undefined : width)).catch(() => undefined);
    const bundle = data ? (() => { try { return lib.parseEntryBundle(data); } catch { return []; } })() : [];
    for (let i = 0; i < width; i++) {
      const b = bundle[i];
      try {
        entries.push(b ? lib.decodeEntry(b) : undefined);
      } catch {
        entries.push(undefined);
      }
    }
  }
  return entries;
}

/**
 * The quiet period, once per session: QUIET_MINUTES of the app, then up to MAX_LAG_MS more lab time
 * without it (the feed may still be catching up); the ledger's size after each minute.
 */
export function quietPeriod(session: LabSession): Promise<QuietResult> {
  let p = quiet.get(session);
  if (!p) {
    p = runQuiet(session);
    quiet.set(session, p);
  }
  return p;
}

async function runQuiet(session: LabSession): Promise<QuietResult> {
  await closeWitnessSetup(session);
  const env = ledgerEnv(session);
  const tally = appTally(session);
  const firstApp = tally.events.length;
  const failuresBefore = tally.failures.length;
  const from = session.now();
  const sizes: QuietResult['sizes'] = [];
  for (let m = 0; m < env.quiet.minutes; m++) {
    await appMinute(session);
    sizes.push({ at: session.now(), size: await ledgerSize(session) });
  }
  const to = session.now();
  const events: QuietResult['events'] = [
    ...session.events()
      .filter((r) => Date.parse(r.eventTime) >= from && Date.parse(r.eventTime) < to && isDataEventOn(r as unknown as Record<string, unknown>, env.company.dataBucket))
      .map((r) => ({ kind: 'cloudtrail' as const, id: r.eventID, at: Date.parse(r.eventTime), name: `${r.eventName} ${String((r.requestParameters as Record<string, unknown> | undefined)?.['key'] ?? '')}` })),
    ...tally.events.slice(firstApp).map((e) => ({ kind: 'app' as const, id: e.id, at: Date.parse(e.time), name: `app ${e.action} ${e.record}` })),
  ];
  // Let the feed catch up (no new events), a minute at a time, up to the allowed lag.
  let size = sizes[sizes.length - 1]?.size ?? 0;
  for (let waited = 0; waited < env.quiet.maxLagMs; waited += MINUTE) {
    let entries: Awaited<ReturnType<typeof readEntries>>;
    try {
      entries = await readEntries(session, size);
    } catch {
      entries = [];
    }
    const have = new Set(entries.map((e) => (e ? (e.kind === 'app' ? `app:${e.source['id']}` : `cloudtrail:${e.source['eventID']}`) : '')));
    if (events.every((e) => have.has(`${e.kind}:${e.id}`))) break;
    await session.gateway.clock.advance(MINUTE);
    size = await ledgerSize(session);
    sizes.push({ at: session.now(), size });
  }
  let problem: string | undefined;
  let entries: Awaited<ReturnType<typeof readEntries>> = [];
  try {
    entries = await readEntries(session, size);
  } catch (e) {
    problem = `the ledger could not be read: ${(e as Error).message}`;
  }
  const index = new Map<string, number>();
  entries.forEach((e, i) => {
    if (!e) return;
    const key = e.kind === 'app' ? `app:${e.source['id']}` : `cloudtrail:${e.source['eventID']}`;
    if (!index.has(key)) index.set(key, i);
  });
  for (const e of events) {
    const i = index.get(`${e.kind}:${e.id}`);
    if (i === undefined) continue;
    e.index = i;
    e.seenAt = sizes.find((s) => s.size > i)?.at;
  }
  return { from, to, events, sizes, failures: tally.failures.length - failuresBefore, ...(problem ? { problem } : {}) };
}

/** The pinning problems about one part (key, witness, anchor), or all of them when none is. */
const about = (problems: string[], word: RegExp) => {
  const mine = problems.filter((p) => word.test(p));
  return mine.length ? mine : problems;
};
const mins = (ms: number) => `${Math.round(ms / 6000) / 10} min`;
const list = (xs: string[], n = 3) => xs.slice(0, n).join('; ') + (xs.length > n ? ` and ${xs.length - n} more` : '');

/** Tries a call as ops-admin; what the lab cloud answered. */
async function asAdmin(session: LabSession, call: () => Promise<unknown>): Promise<{ allowed: boolean; code?: string }> {
  try {
    await call();
    return { allowed: true };
  } catch (e) {
    return { allowed: false, code: (e as Error).name };
  }
}

export const checks: Check[] = [
  {
    id: 'app-works', title: 'The app\'s reads and writes of customer records never fail', kind: 'business', points: 0,
    async run(session) {
      const q = await quietPeriod(session);
      const t = appTally(session);
      if (t.failures.length) return { passed: false, feedback: `${t.failures.length} of the app's ${t.calls} calls failed: ${list(t.failures.map((f) => `${f.what}: ${f.error}`))}. The ledger must not stand in the company's way.` };
      return { passed: true, feedback: `the app made ${t.calls} calls (${q.events.filter((e) => e.kind === 'app').length} audit events in the quiet period), none failed` };
    },
  },
  {
    id: 'ledger-keeps-up', title: 'The ledger keeps up: every event of the quiet period has its entry within the allowed lag', kind: 'business', points: 0, task: 'feed',
    async run(session) {
      const env = ledgerEnv(session);
      const q = await quietPeriod(session);
      if (!applyOutput(session)) return { passed: false, feedback: 'apply() returned nothing the grader could read: there is no ledger to judge' };
      if (!q.events.length) return { passed: false, feedback: 'the quiet period had no source events (CloudTrail did not deliver?)' };
      const missing = q.events.filter((e) => e.seenAt === undefined);
      const late = q.events.filter((e) => e.seenAt !== undefined && e.seenAt - e.at > env.quiet.maxLagMs);
      const lags = q.events.filter((e) => e.seenAt !== undefined).map((e) => e.seenAt! - e.at);
      const worst = lags.length ? Math.max(...lags) : 0;
      if (missing.length) return { passed: false, feedback: `${missing.length} of the ${q.events.length} events of the quiet period have no entry in the ledger (${env.ledgerBucket}/${applyOutput(session)!.ledger.prefix ?? ''}) ${mins(env.quiet.maxLagMs)} after it: ${list(missing.map((e) => `${e.kind} ${e.name}`))}${q.problem ? ` (${q.problem})` : ''}` };
      if (late.length) return { passed: false, feedback: `${late.length} events reached the ledger later than ${mins(env.quiet.maxLagMs)} (worst ${mins(worst)})` };
      return { passed: true, feedback: `all ${q.events.length} events of the quiet period are in the ledger, the slowest after ${mins(worst)} (allowed ${mins(env.quiet.maxLagMs)})` };
    },
  },
  {
    id: 'feed-logged', title: 'The feed logged every data event and app event of the quiet period, once, as ledger entries', kind: 'posture', points: 10, task: 'feed',
    async run(session) {
      const q = await quietPeriod(session);
      if (!applyOutput(session)) return { passed: false, feedback: 'apply() returned nothing the grader could read' };
      const missing = q.events.filter((e) => e.index === undefined);
      const ct = q.events.filter((e) => e.kind === 'cloudtrail');
      const app = q.events.filter((e) => e.kind === 'app');
      if (!ct.length || !app.length) return { passed: false, feedback: `the quiet period had ${ct.length} data events and ${app.length} app events: nothing to judge` };
      if (missing.length) return { passed: false, feedback: `${missing.length} of ${q.events.length} source events have no entry: ${list(missing.map((e) => `${e.kind} ${e.name} (${e.id})`))}. Subscribe the feed to both ${ledgerEnv(session).trail.logGroup} and ${ledgerEnv(session).company.app.logGroup}; entries of kind 'cloudtrail' carry source.eventID, of kind 'app' source.id (the app event's id).` };
      return { passed: true, feedback: `${ct.length} CloudTrail data events and ${app.length} app events, each with its entry` };
    },
  },
  {
    id: 'signing-verifies', title: 'The ledger\'s checkpoints are signed with the KMS key', kind: 'posture', points: 5, task: 'signing',
    async run(session) {
      await quietPeriod(session);
      const t = await pinnedTrust(session);
      if (!t.trust.logVkeys.length) return { passed: false, feedback: `the log key could not be pinned: ${list(about(t.problems, /key/), 2)}` };
      const lib = await ledgerLib();
      const store = new lib.S3Store({ client: session.client(S3Client), bucket: t.ledger.bucket, ...(t.ledger.prefix ? { prefix: t.ledger.prefix } : {}) });
      const note = (await store.get('checkpoint'))?.toString('utf8');
      if (!note) return { passed: false, feedback: `there is no checkpoint in ${t.ledger.bucket}/${t.ledger.prefix}` };
      try {
        const opened = lib.openNote(note, t.trust.logVkeys.map((v) => lib.verifierFromVkey(v)));
        const cp = lib.parseCheckpoint(opened.text);
        if (cp.origin !== t.trust.origin) return { passed: false, feedback: `the checkpoint's origin is "${cp.origin}", not the lab's "${t.trust.origin}"` };
        return { passed: true, feedback: `the checkpoint (size ${cp.size}) verifies with the public key of ${t.keyArn}` };
      } catch (e) {
        return { passed: false, feedback: `the checkpoint does not verify with the public key of ${t.keyArn} (as "${t.trust.origin}"): ${(e as Error).message}` };
      }
    },
  },
  {
    id: 'signing-admin-refused', title: 'ops-admin cannot sign with the ledger key, change its policy or schedule its deletion', kind: 'posture', points: 10, task: 'signing', restrictive: true,
    async run(session) {
      await quietPeriod(session);
      const t = await pinnedTrust(session);
      if (!t.keyArn) return { passed: false, feedback: `no signing key to try: ${list(about(t.problems, /key/), 2)}` };
      const env = ledgerEnv(session);
      const h = ledgerHidden(session).opsAdmin;
      const kms = session.client(KMSClient, { credentials: { accessKeyId: h.accessKeyId, secretAccessKey: h.secretAccessKey }, sourceIp: '203.0.113.77' });
      const up = session.gateway.upstream;
      const policy = (await up.json<{ Policy?: string }>(env.accountId, 'kms', 'GetKeyPolicy', { KeyId: t.keyArn, PolicyName: 'default' }, env.region)).Policy ?? '';
      const tries = {
        Sign: await asAdmin(session, () => kms.send(new SignCommand({ KeyId: t.keyArn, Message: Buffer.from('grader probe'), MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' }))),
        // The current policy again: if it is allowed, nothing changes.
        PutKeyPolicy: await asAdmin(session, () => kms.send(new PutKeyPolicyCommand({ KeyId: t.keyArn, PolicyName: 'default', Policy: policy, BypassPolicyLockoutSafetyCheck: true }))),
        ScheduleKeyDeletion: await asAdmin(session, () => kms.send(new ScheduleKeyDeletionCommand({ KeyId: t.keyArn, PendingWindowInDays: 30 }))),
      };
      if (tries.ScheduleKeyDeletion.allowed) {
        // Undo the probe: the student's key must not stay pending deletion because of the grader.
        await up.json(env.accountId, 'kms', 'CancelKeyDeletion', { KeyId: t.keyArn }, env.region).catch(() => undefined);
        await up.json(env.accountId, 'kms', 'EnableKey', { KeyId: t.keyArn }, env.region).catch(() => undefined);
      }
      const allowed = Object.entries(tries).filter(([, r]) => r.allowed).map(([k]) => k);
      if (allowed.length) return { passed: false, feedback: `ops-admin (AdministratorAccess) could ${allowed.join(', ')} on the ledger key: the key policy must not delegate those to the account (no "kms:*" for the root principal), Sign only for the ledger role, and Deny PutKeyPolicy and ScheduleKeyDeletion to everyone` };
      return { passed: true, feedback: `as ops-admin: ${Object.entries(tries).map(([k, r]) => `${k} → ${r.code}`).join(', ')}` };
    },
  },
  {
    id: 'witness-cosigned', title: 'The witness in the witness account cosigned the ledger\'s latest checkpoint', kind: 'posture', points: 5, task: 'witness',
    async run(session) {
      await quietPeriod(session);
      const t = await pinnedTrust(session);
      const probe = t.witnessProbes.find((p) => p.name === 'cosigns the current checkpoint');
      const lib = await ledgerLib();
      const out = applyOutput(session);
      if (!out || !t.trust.logVkeys.length) return { passed: false, feedback: `nothing to judge: ${list(about(t.problems, /key|witness/), 2)}` };
      const store = new lib.S3Store({ client: session.client(S3Client), bucket: t.ledger.bucket, ...(t.ledger.prefix ? { prefix: t.ledger.prefix } : {}) });
      const note = (await store.get('checkpoint'))?.toString('utf8') ?? '';
      let cosigned = false;
      try {
        cosigned = lib.openNote(note, [lib.verifierFromVkey(out.witness.vkey)]).verified.length > 0;
      } catch { /* below */ }
      if (!cosigned) return { passed: false, feedback: `the ledger's checkpoint carries no valid cosignature of ${out.witness.vkey.split('+')[0]}: the feed must ask the witness (add-checkpoint) and add its cosignature line to the checkpoint it stores` };
      if (!probe?.ok) return { passed: false, feedback: `the checkpoint is cosigned, but the witness function ${out.witness.functionName} in the witness account did not cosign it when the grader asked: ${probe?.detail ?? list(t.problems, 2)}` };
      return { passed: true, feedback: `the checkpoint is cosigned by ${out.witness.vkey.split('+')[0]}; ${probe.detail}` };
    },
  },
  {
    id: 'witness-refuses', title: 'The witness refuses a checkpoint inconsistent with what it cosigned', kind: 'posture', points: 5, task: 'witness',
    async run(session) {
      await quietPeriod(session);
      const t = await pinnedTrust(session);
      const probe = t.witnessProbes.find((p) => p.name === 'refuses an inconsistent checkpoint');
      if (!probe) return { passed: false, feedback: `the witness could not be probed: ${list(about(t.problems, /witness|log key/), 2)}` };
      if (!probe.ok) return { passed: false, feedback: `${probe.detail}: a witness must check the consistency proof from the size it cosigned (c2sp tlog-witness: 422)` };
      if (!t.trust.witnessVkeys.length) return { passed: false, feedback: `it refused (${probe.detail}), but ${list(t.problems, 2)}` };
      return { passed: true, feedback: probe.detail };
    },
  },
  {
    id: 'anchor-locked', title: 'Anchored checkpoints cannot be deleted, not even by the account\'s root (Object Lock, COMPLIANCE)', kind: 'posture', points: 5, task: 'anchor', restrictive: true,
    async run(session) {
      await quietPeriod(session);
      const t = await pinnedTrust(session);
      if (!t.anchors) return { passed: false, feedback: `no anchor bucket: ${list(about(t.problems, /anchor/), 2)}` };
      const s3 = session.client(S3Client);
      const versions = (await s3.send(new ListObjectVersionsCommand({ Bucket: t.anchors.bucket, Prefix: t.anchors.prefix }))).Versions ?? [];
      if (!versions.length) return { passed: false, feedback: `the anchor bucket ${t.anchors.bucket} holds no checkpoint under "${t.anchors.prefix}": the feed must put every cosigned checkpoint there` };
      const lib = await ledgerLib();
      const newest = [...versions].sort((a, b) => (b.LastModified?.getTime() ?? 0) - (a.LastModified?.getTime() ?? 0))[0]!;
      const body = await (await s3.send(new GetObjectCommand({ Bucket: t.anchors.bucket, Key: newest.Key!, VersionId: newest.VersionId }))).Body!.transformToString();
      try {
        lib.openNote(body, t.trust.logVkeys.map((v) => lib.verifierFromVkey(v)));
      } catch (e) {
        return { passed: false, feedback: `the newest anchor ${newest.Key} is not a checkpoint signed by the ledger key: ${(e as Error).message}` };
      }
      // The probe: the account's root deletes that version for good, bypassing governance retention
      // (which the root may): only COMPLIANCE (or a legal hold) refuses it.
      const del = await s3.send(new DeleteObjectCommand({ Bucket: t.anchors.bucket, Key: newest.Key!, VersionId: newest.VersionId, BypassGovernanceRetention: true })).then(() => 'allowed', (e: Error) => e.name);
      if (del === 'allowed') return { passed: false, feedback: `the account's root deleted the anchor version ${newest.Key}@${newest.VersionId} (with x-amz-bypass-governance-retention): create the bucket with Object Lock and a default retention in COMPLIANCE mode` };
      return { passed: true, feedback: `deleting ${newest.Key}@${newest.VersionId} as the account's root was refused (${del}); ${versions.length} anchored checkpoints (default retention: ${t.anchors.objectLock ?? 'none'})` };
    },
  },
  {
    id: 'audit-clean', title: 'The grader\'s audit of the untouched ledger reports nothing, with the trust roots apply() returned', kind: 'posture', points: 5, task: 'audit',
    async run(session) {
      await quietPeriod(session);
      const t = await pinnedTrust(session);
      if (!t.trust.logVkeys.length || !t.trust.witnessVkeys.length) return { passed: false, feedback: `the trust roots could not be pinned: ${list(t.problems, 3)}` };
      const r = await gradeAudit(session);
      const kinds = [...new Set(r.discrepancies.map((d) => d.kind))].map((k) => `${r.discrepancies.filter((d) => d.kind === k).length} ${k}`).join(', ');
      if (!r.ok) return { passed: false, feedback: `the audit found ${r.discrepancies.length} discrepancies in the untouched ledger (${kinds}): ${list(r.discrepancies.map((d) => `${d.kind}${d.index !== undefined ? ` at ${d.index}` : ''}: ${d.detail}`), 2)}` };
      return { passed: true, feedback: `${r.entries} entries replayed, checkpoint size ${r.size}, witnessed up to ${r.witnessedSize}: no discrepancy` };
    },
  },
];
