// Shared by the attacks of lab advanced-ledger (slide 16 part 2; the list is scenarios/lib/ledger.ts, which
// re-exports this file — kept apart so that importing one scenario file first has no import cycle): ops-admin, an administrator of the run account
// (AdministratorAccess, its key held by the grader), read and changed customer records and now hides it by
// tampering with the student's audit ledger, the CloudTrail files behind it and the anchors.
//
// Every scenario has the same life:
// - prepare: the attacker keeps a copy of the ledger's checkpoint (what any reader sees), reads two
//   customer records, a minute later changes a third (S3 data events, so CloudTrail records them), then the
//   lab clock moves a minute at a time until the student's feed has put those events in the ledger (at
//   most LOG_WAIT_MINUTES; if it never does, the scenario says so and attacks nothing: there is nothing to
//   hide). The grader then takes the audit of the untampered ledger (the baseline) and the versions of the
//   ledger bucket (for revert).
// - inject: the tampering, as ops-admin through the gateway, each call an AttackStep.
// - observe: the grader's audit (trust.ts gradeAudit: the trust roots pinned after apply(), the evidence
//   that survives) must report the scenario's kind of discrepancy at the position the attacker touched,
//   and it must be new (not in the baseline). Blocked only where AWS can prevent the attack (Object Lock,
//   the key policy) and the lab cloud refused every step that mattered.
// - revert: the grader (the account root) puts back what the attacker changed, from the versions that
//   survived and from copies taken before the attack, so the next attack meets an intact ledger.
import {
  S3Client, GetObjectCommand, PutObjectCommand, DeleteObjectCommand, ListObjectVersionsCommand,
  GetBucketPolicyCommand, DeleteBucketPolicyCommand, PutBucketPolicyCommand,
} from '@aws-sdk/client-s3';
import { IAMClient, ListUsersCommand, GetRoleCommand, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import type { LabSession } from '../src/engine/session.ts';
import type { AttackStep, ScenarioResult } from '../src/engine/types.ts';
import type { AwsCredentials } from '../src/cloud/labcloud.ts';
import { MemoryStore } from '../src/controls/ledger/store.ts';
import { Ledger } from '../src/controls/ledger/log.ts';
import { entriesPath, tilePath, parseEntryBundle } from '../src/controls/ledger/tiles.ts';
import { decodeEntry, encodeEntry } from '../src/controls/ledger/entry.ts';
import { parseCheckpoint } from '../src/controls/ledger/checkpoint.ts';
import { splitNote, type NoteSigner } from '../src/controls/ledger/note.ts';
import type { AuditReport, Discrepancy, DiscrepancyKind } from '../src/controls/ledger/audit.ts';
import { ledgerEnv, ledgerHidden, type LedgerLabEnv } from '../labs/advanced-ledger/env.ts';
import { applyOutput, gradeAudit, pinnedTrust, recordWitnessed } from '../labs/advanced-ledger/trust.ts';
import { LambdaClient, InvokeCommand } from '@aws-sdk/client-lambda';
import { addSignatures } from '../src/controls/ledger/note.ts';
import { addCheckpointRequest } from '../src/controls/ledger/witness.ts';
import { attempt } from './lib/attack.ts';

export const MINUTE = 60_000;

/** The lab clock moves (CloudTrail delivers, subscriptions invoke the feed) and the invocations finish. */
export async function tick(session: LabSession, ms = MINUTE): Promise<void> {
  await session.gateway.clock.advance(ms);
  await session.gateway.service('lambda').settle();
}
/** How long (lab time) the feed may take to put the attacker's events in the ledger. */
export const LOG_WAIT_MINUTES = 15;
/** Entries per tile and per entry bundle (c2sp tlog-tiles, height 8). */
const TILE = 256;

// ---- where things are ----

export interface Target {
  env: LedgerLabEnv;
  attacker: AwsCredentials;
  /** The attacker works from the office. */
  ip: string;
  origin: string;
  ledger: { bucket: string; prefix: string };
  anchor?: { bucket: string; prefix: string };
  keyId?: string;
  /** The log key's note name (the name the checkpoints are signed under). */
  logKeyName?: string;
}

const targets = new WeakMap<LabSession, Target>();

export async function target(session: LabSession): Promise<Target> {
  const known = targets.get(session);
  if (known) return known;
  const env = ledgerEnv(session);
  const hidden = ledgerHidden(session);
  const pinned = await pinnedTrust(session);
  const t: Target = {
    env,
    attacker: { accessKeyId: hidden.opsAdmin.accessKeyId, secretAccessKey: hidden.opsAdmin.secretAccessKey },
    ip: `203.0.113.${session.random.fork('ledger-attacker-ip').int(20, 200)}`,
    origin: pinned.trust.origin,
    ledger: pinned.ledger,
    ...(pinned.anchors ? { anchor: { bucket: pinned.anchors.bucket, prefix: pinned.anchors.prefix } } : {}),
    ...(pinned.keyArn ? { keyId: pinned.keyArn } : {}),
    // The grader pins the log key under the lab's origin: the name checkpoints are signed with.
    logKeyName: pinned.trust.logVkeys[0]?.split('+')[0] ?? env.origin,
  };
  targets.set(session, t);
  return t;
}

/** The S3 key of a ledger path, as S3Store names it (the pinned prefix ends with '/'). */
export function objectKey(prefix: string, path: string): string {
  return prefix ? `${prefix.replace(/\/+$/, '')}/${path}` : path;
}

export function attackerClient<C extends { middlewareStack: { add: (...a: never[]) => unknown } }>(session: LabSession, t: Target, Ctor: new (cfg: never) => C): C {
  return session.client(Ctor, { credentials: t.attacker, sourceIp: t.ip });
}

// ---- reading a log as anyone who can read the bucket does ----

export interface LogView {
  note: string;
  size: number;
  entries: Buffer[];
}

/** Where entry `index` lives when the log has `size` entries: its bundle's tile number, width and path. */
export function bundleOf(index: number, size: number): { n: number; width: number; start: number; path: string; tile0: string } {
  const n = Math.floor(index / TILE);
  const width = Math.min(TILE, size - n * TILE);
  return {
    n, width, start: n * TILE,
    path: width === TILE ? entriesPath(n) : entriesPath(n, width),
    tile0: width === TILE ? tilePath(0, n) : tilePath(0, n, width),
  };
}

export async function readBody(s3: S3Client, bucket: string, key: string, versionId?: string): Promise<Buffer | undefined> {
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
    return Buffer.from(await r.Body!.transformToByteArray());
  } catch (e) {
    const name = (e as { name?: string }).name;
    if (name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchVersion') return undefined;
    throw e;
  }
}

/** The log as its bucket serves it now (unverified: the auditor verifies, the attacker does not need to). */
export async function readLog(s3: S3Client, ledger: { bucket: string; prefix: string }): Promise<LogView | undefined> {
  const noteBuf = await readBody(s3, ledger.bucket, objectKey(ledger.prefix, 'checkpoint'));
  if (!noteBuf) return undefined;
  const note = noteBuf.toString('utf8');
  const size = noteSize(note);
  const entries: Buffer[] = [];
  for (let start = 0; start < size; start += TILE) {
    const b = bundleOf(start, size);
    const data = await readBody(s3, ledger.bucket, objectKey(ledger.prefix, b.path));
    if (!data) break;
    entries.push(...parseEntryBundle(data));
  }
  return { note, size, entries };
}

function entrySource(e: Buffer): Record<string, string> | undefined {
  try {
    return decodeEntry(e).source;
  } catch {
    return undefined;
  }
}

// ---- the attacker's access to customer records ----

export interface AccessEvent {
  eventID: string;
  eventName: string;
  key: string;
  /** Its entry in the ledger, once logged. */
  index?: number;
}

export interface Prepared {
  target: Target;
  /** Lab time the attacker started. */
  start: number;
  /** The checkpoint note the attacker copied before acting (a genuine, older, signed checkpoint). */
  earlier?: string;
  events: AccessEvent[];
  /** The log once the feed had logged the attacker's events. */
  logged?: LogView;
  baseline?: AuditReport;
  /** Why the scenario could not attack (the ledger never logged the events...). */
  why?: string;
  /** The record the attacker changed, and its content before. */
  changed?: { key: string; body: Buffer };
  /** Versions of the ledger bucket before the attack (for revert). */
  before?: Snapshot;
  /** Copies of objects the attack may destroy, by bucket/key. */
  saved: Map<string, Buffer>;
  /** The bucket policies the attacker deleted to get in (restored on revert). */
  removedPolicies: Map<string, string>;
  /** Buckets whose policy the attacker already tried to delete. */
  policyTried: Set<string>;
  /** What the tampering changed in the ledger (steps that took effect); empty: nothing was altered. */
  altered: string[];
  /** The ledger role's trust policy before the attacker widened it (restored on revert). */
  trustPolicy?: string;
  /** What the witness cosigned for the attacker (the witness failing), for the feedback. */
  witnessCosigned?: string;
  /** The attacker's way into the ledger role, once tried (credentials when it worked). */
  role?: { steps: AttackStep[]; creds?: AwsCredentials };
}

/**
 * The attacker's access to customer records, then the lab clock moves until the ledger holds those events.
 * `label` makes the choice of records differ between scenarios (from the run's seed).
 */
export async function prepareAttack(session: LabSession, label: string): Promise<Prepared> {
  const t = await target(session);
  const st: Prepared = { target: t, start: session.now(), events: [], saved: new Map(), removedPolicies: new Map(), policyTried: new Set(), altered: [] };
  const s3 = attackerClient(session, t, S3Client);
  const root = session.client(S3Client);
  // What anyone reading the ledger has: the current checkpoint (the truncation puts it back later).
  st.earlier = (await readBody(s3, t.ledger.bucket, objectKey(t.ledger.prefix, 'checkpoint')).catch(() => undefined))?.toString('utf8');
  const records = ledgerHidden(session).records;
  if (records.length < 3) throw new Error('lab advanced-ledger provisioned fewer than 3 customer records');
  const rnd = session.random.fork(`ledger-${label}`);
  const pool = [...records];
  const picked: string[] = [];
  while (picked.length < 3) picked.push(pool.splice(rnd.int(0, pool.length - 1), 1)[0]!);
  const bucket = t.env.company.dataBucket;
  const mine = (name: string, key: string) => session.events().filter((e) => e.eventName === name && !e.errorCode
    && (e.userIdentity as { userName?: string } | undefined)?.userName === t.env.opsAdmin.userName
    && (e.requestParameters as { key?: string } | undefined)?.key === key && Date.parse(e.eventTime) >= Math.floor(st.start / 1000) * 1000).at(-1);
  // Two reads, then a minute later (another CloudTrail delivery, another log file) a change.
  for (const key of picked.slice(0, 2)) {
    await attempt(session, `prepare: ops-admin reads the customer record ${key}`, () => readBody(s3, bucket, key));
    const ev = mine('GetObject', key);
    if (ev) st.events.push({ eventID: ev.eventID, eventName: 'GetObject', key });
  }
  await tick(session);
  const key = picked[2]!;
  const body = await readBody(root, bucket, key);
  if (body) {
    st.changed = { key, body };
    await attempt(session, `prepare: ops-admin changes the customer record ${key}`, () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: alterRecord(body), ContentType: 'application/json' })));
    const ev = mine('PutObject', key);
    if (ev) st.events.push({ eventID: ev.eventID, eventName: 'PutObject', key });
  }
  if (!st.events.length) {
    st.why = 'the attacker\'s reads and writes of customer records are not in CloudTrail';
    return st;
  }
  // The clock moves until the feed has logged every one of them (CloudTrail delivers on each tick).
  for (let minute = 0; minute <= LOG_WAIT_MINUTES; minute++) {
    if (minute) await tick(session);
    const log = await readLog(root, t.ledger).catch(() => undefined);
    if (!log) continue;
    const where = new Map<string, number>();
    log.entries.forEach((e, i) => {
      const src = entrySource(e);
      if (src?.['eventID']) where.set(src['eventID'], i);
    });
    if (st.events.every((e) => where.has(e.eventID))) {
      for (const e of st.events) e.index = where.get(e.eventID)!;
      st.logged = log;
      break;
    }
  }
  if (!st.logged) {
    st.why = `the ledger did not log the attacker's ${st.events.map((e) => `${e.eventName} ${e.key}`).join(', ')} within ${LOG_WAIT_MINUTES} minutes of lab time (feed task): there was nothing to hide`;
    return st;
  }
  await session.gateway.service('lambda').settle();
  // A verifier fetches the witnessed checkpoint now (the grader keeps the cosigned checkpoints it saw).
  await recordWitnessed(session);
  st.baseline = await gradeAudit(session) as AuditReport;
  st.before = await snapshot(root, t.ledger.bucket, t.ledger.prefix);
  return st;
}

/** A changed customer record: one field of the JSON record rewritten (any text otherwise). */
function alterRecord(body: Buffer): Buffer {
  try {
    const rec = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    // The bank account first (the classic fraud), else any field but the id.
    const field = ['iban', 'annualValueUsd', 'email'].find((k) => k in rec) ?? Object.keys(rec).find((k) => k !== 'id');
    if (field) rec[field] = typeof rec[field] === 'number' ? (rec[field] as number) * 10 + 1 : `${String(rec[field])}-ops`;
    return Buffer.from(JSON.stringify(rec));
  } catch {
    return Buffer.concat([body, Buffer.from('\n')]);
  }
}

/** The attacker's first GetObject entry (the one every ledger attack wants to hide). */
export function hiddenRead(st: Prepared): AccessEvent {
  return st.events.find((e) => e.eventName === 'GetObject' && e.index !== undefined) ?? st.events.find((e) => e.index !== undefined)!;
}

// ---- writing as the attacker ----

/**
 * A write to a bucket as ops-admin; refused, the administrator deletes the bucket policy (which
 * AdministratorAccess allows) and writes again: a bucket policy does not stop an administrator. Still
 * refused, they take over the ledger role (its trust policy, as the fork attack does) and write as the
 * feed does. What took effect is recorded in `st.altered`.
 */
export async function attackerPut(session: LabSession, st: Prepared, bucket: string, key: string, body: Buffer, what: string): Promise<AttackStep[]> {
  const s3 = attackerClient(session, st.target, S3Client);
  const put = (client: S3Client, suffix = '') => attempt(session, `${what}${suffix}`, () => client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })));
  const done = (steps: AttackStep[]) => {
    if (steps.at(-1)!.allowed) st.altered.push(steps.at(-1)!.description);
    return steps;
  };
  const first = await put(s3);
  if (first.allowed || first.errorCode !== 'AccessDenied') return done([first]);
  const steps = [first, ...await dropBucketPolicy(session, st, bucket)];
  if (steps.at(-1)!.allowed) {
    steps.push(await put(s3, ' (without the bucket policy)'));
    if (steps.at(-1)!.allowed) return done(steps);
  }
  const role = await ledgerRoleClient(session, st, S3Client);
  steps.push(...role.steps);
  if (role.client) steps.push(await put(role.client, ' as the ledger role'));
  return done(steps);
}

/**
 * A session of the ledger role for ops-admin: their ARN added to the role's trust policy (the original kept
 * in `st.trustPolicy` for revert; AdministratorAccess allows it), then AssumeRole. Tried once per attack;
 * the steps are returned the first time only.
 */
export async function ledgerRoleSession(session: LabSession, st: Prepared): Promise<{ steps: AttackStep[]; creds?: AwsCredentials }> {
  if (st.role) return { steps: [], ...(st.role.creds ? { creds: st.role.creds } : {}) };
  const t = st.target;
  const iam = attackerClient(session, t, IAMClient);
  const role = t.env.names.ledgerRole;
  const steps: AttackStep[] = [];
  st.role = { steps };
  // The trust policy as ops-admin reads it, else as the grader does (an attacker refused GetRole can still
  // write one blind; the grader needs the original for revert either way).
  const got = await iam.send(new GetRoleCommand({ RoleName: role })).catch(() => undefined)
    ?? await session.client(IAMClient).send(new GetRoleCommand({ RoleName: role })).catch(() => undefined);
  const doc = got?.Role?.AssumeRolePolicyDocument;
  if (!doc) {
    steps.push(await attempt(session, `GetRole ${role}`, () => iam.send(new GetRoleCommand({ RoleName: role }))));
    return { steps };
  }
  const original = decodeURIComponent(doc);
  const policy = JSON.parse(original) as { Version?: string; Statement: unknown[] | unknown };
  const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
  const widened = { Version: policy.Version ?? '2012-10-17', Statement: [...statements, { Effect: 'Allow', Principal: { AWS: t.env.opsAdmin.arn }, Action: 'sts:AssumeRole' }] };
  const upd = await attempt(session, `UpdateAssumeRolePolicy ${role}: ops-admin may assume it`, () => iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: role, PolicyDocument: JSON.stringify(widened) })));
  steps.push(upd);
  if (!upd.allowed) return { steps };
  st.trustPolicy ??= original;
  const sts = attackerClient(session, t, STSClient);
  let creds: AwsCredentials | undefined;
  steps.push(await attempt(session, `AssumeRole ${role} as ops-admin`, async () => {
    const r = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${t.env.accountId}:role/${role}`, RoleSessionName: 'ledger-feed' }));
    creds = { accessKeyId: r.Credentials!.AccessKeyId!, secretAccessKey: r.Credentials!.SecretAccessKey!, sessionToken: r.Credentials!.SessionToken! };
  }));
  if (creds) st.role.creds = creds;
  return { steps, ...(creds ? { creds } : {}) };
}

/** A client acting as the ledger role (taken over by ops-admin), when the takeover worked. */
export async function ledgerRoleClient<C extends { middlewareStack: { add: (...a: never[]) => unknown } }>(session: LabSession, st: Prepared, Ctor: new (cfg: never) => C): Promise<{ steps: AttackStep[]; client?: C }> {
  const r = await ledgerRoleSession(session, st);
  return { steps: r.steps, ...(r.creds ? { client: session.client(Ctor, { credentials: r.creds, sourceIp: st.target.ip }) } : {}) };
}

/**
 * The attacker, holding the ledger role, asks the student's witness to cosign `note` as the feed does:
 * AssumeRole of the witness invoker role (apply()'s witness.roleArn), then Invoke of the witness function
 * with an add-checkpoint request (`old` size, `proof`). Returns the note with the witness's cosignature
 * lines when it answered 200 — the witness failing: it must never cosign a fork or a rollback.
 */
export async function askWitness(session: LabSession, st: Prepared, oldSize: number, proof: Buffer[], note: string, what: string): Promise<{ steps: AttackStep[]; cosigned?: string; status?: number }> {
  const w = applyOutput(session)?.witness;
  if (!w?.roleArn || !w.functionName) return { steps: [] };
  const role = await ledgerRoleSession(session, st);
  const steps = [...role.steps];
  if (!role.creds) return { steps };
  const sts = session.client(STSClient, { credentials: role.creds, sourceIp: st.target.ip });
  let inv: AwsCredentials | undefined;
  steps.push(await attempt(session, `AssumeRole ${w.roleArn} as the ledger role (the witness invoker)`, async () => {
    const r = await sts.send(new AssumeRoleCommand({ RoleArn: w.roleArn, RoleSessionName: 'ledger-feed' }));
    inv = { accessKeyId: r.Credentials!.AccessKeyId!, secretAccessKey: r.Credentials!.SecretAccessKey!, sessionToken: r.Credentials!.SessionToken! };
  }));
  if (!inv) return { steps };
  const lambda = session.client(LambdaClient, { credentials: inv, sourceIp: st.target.ip });
  let status: number | undefined;
  let cosigned: string | undefined;
  const ask = await attempt(session, `Invoke ${w.functionName}: the witness asked to cosign ${what} (old ${oldSize})`, async () => {
    const res = await lambda.send(new InvokeCommand({ FunctionName: w.functionName, Payload: Buffer.from(JSON.stringify({ body: addCheckpointRequest(oldSize, proof, note) })) }));
    const text = res.Payload ? Buffer.from(res.Payload).toString('utf8') : '';
    const r = (() => { try { return JSON.parse(text) as { statusCode?: unknown; body?: unknown }; } catch { return {}; } })();
    status = typeof r.statusCode === 'number' ? r.statusCode : undefined;
    const lines = typeof r.body === 'string' ? r.body.split('\n').filter((l) => l.startsWith('— ')) : [];
    if (status === 200 && lines.length) cosigned = addSignatures(note, lines);
  });
  // The invocation itself is not the attack: it took effect only if the witness cosigned.
  steps.push({ ...ask, allowed: !!cosigned, ...(cosigned ? {} : { errorCode: ask.errorCode ?? `witness answered ${status ?? 'nothing'}` }) });
  return { steps, ...(cosigned ? { cosigned } : {}), ...(status !== undefined ? { status } : {}) };
}

/** The ledger role's trust policy put back as it was before the attacker widened it. */
export async function restoreTrustPolicy(session: LabSession, st: Prepared): Promise<void> {
  if (!st.trustPolicy) return;
  await session.client(IAMClient).send(new UpdateAssumeRolePolicyCommand({ RoleName: st.target.env.names.ledgerRole, PolicyDocument: st.trustPolicy })).catch(() => undefined);
  delete st.trustPolicy;
}

export async function dropBucketPolicy(session: LabSession, st: Prepared, bucket: string): Promise<AttackStep[]> {
  if (st.policyTried.has(bucket)) return [];
  st.policyTried.add(bucket);
  const policy = await session.client(S3Client).send(new GetBucketPolicyCommand({ Bucket: bucket })).then((r) => r.Policy).catch(() => undefined);
  if (!policy) return [];
  const s3 = attackerClient(session, st.target, S3Client);
  const step = await attempt(session, `DeleteBucketPolicy ${bucket} (its policy refused ops-admin)`, () => s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket })));
  if (step.allowed) st.removedPolicies.set(bucket, policy);
  return [step];
}

/**
 * Deletes one version as ops-admin; refused, tries again with the governance bypass (allowed to an
 * administrator), then once more after deleting the bucket's policy (an administrator can, unless the
 * policy itself refuses it). Object Lock in COMPLIANCE mode refuses all of it.
 */
export async function attackerDeleteVersion(session: LabSession, st: Prepared, bucket: string, key: string, versionId: string): Promise<AttackStep[]> {
  const s3 = attackerClient(session, st.target, S3Client);
  const del = (bypass: boolean) => attempt(session, `DeleteObject ${key} version ${versionId.slice(0, 12)}${bypass ? ' with x-amz-bypass-governance-retention' : ''}`,
    () => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId, ...(bypass ? { BypassGovernanceRetention: true } : {}) })));
  const steps = [await del(false)];
  if (!steps[0]!.allowed) steps.push(await del(true));
  if (steps.at(-1)!.allowed) return steps;
  const dropped = await dropBucketPolicy(session, st, bucket);
  steps.push(...dropped);
  if (dropped.at(-1)?.allowed) steps.push(await del(true));
  return steps;
}

/** Remembers an object's content before the attack destroys it (for revert). */
export async function save(session: LabSession, st: Prepared, bucket: string, key: string): Promise<void> {
  const id = `${bucket}/${key}`;
  if (st.saved.has(id)) return;
  const body = await readBody(session.client(S3Client), bucket, key);
  if (body) st.saved.set(id, body);
}

// ---- versions: what revert needs ----

export interface VersionInfo { versionId: string; deleteMarker: boolean; isLatest: boolean }
export type Snapshot = Map<string, VersionInfo[]>;

export async function listVersions(s3: S3Client, bucket: string, prefix: string): Promise<Snapshot> {
  const out: Snapshot = new Map();
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  for (;;) {
    const r = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker, VersionIdMarker }));
    for (const v of r.Versions ?? []) push(out, v.Key!, { versionId: v.VersionId ?? 'null', deleteMarker: false, isLatest: !!v.IsLatest });
    for (const v of r.DeleteMarkers ?? []) push(out, v.Key!, { versionId: v.VersionId ?? 'null', deleteMarker: true, isLatest: !!v.IsLatest });
    if (!r.IsTruncated) break;
    KeyMarker = r.NextKeyMarker;
    VersionIdMarker = r.NextVersionIdMarker;
  }
  return out;
}

function push(m: Snapshot, key: string, v: VersionInfo): void {
  const list = m.get(key) ?? [];
  list.push(v);
  m.set(key, list);
}

export async function snapshot(s3: S3Client, bucket: string, prefix: string): Promise<Snapshot> {
  return listVersions(s3, bucket, prefix);
}

/**
 * Puts a bucket's objects under `prefix` back as they were in `before`, as the account root: versions
 * and delete markers made since are deleted (bypassing a governance lock; a compliance lock keeps them),
 * and where the current object is still not the one before, its content is put back (from the version
 * that survived, or from a copy saved before the attack).
 */
export async function restore(session: LabSession, bucket: string, prefix: string, before: Snapshot, saved: Map<string, Buffer>, onlyKnown = false): Promise<string[]> {
  const s3 = session.client(S3Client);
  const now = await listVersions(s3, bucket, prefix);
  const problems: string[] = [];
  for (const key of onlyKnown ? before.keys() : new Set([...before.keys(), ...now.keys()])) {
    const old = before.get(key) ?? [];
    const oldIds = new Set(old.map((v) => v.versionId));
    const added = (now.get(key) ?? []).filter((v) => !oldIds.has(v.versionId));
    const gone = old.filter((v) => !(now.get(key) ?? []).some((n) => n.versionId === v.versionId));
    if (!added.length && !gone.length) continue;
    for (const v of added) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: v.versionId, BypassGovernanceRetention: true })).catch(() => undefined);
    }
    const latestBefore = old.find((v) => v.isLatest);
    const after = await listVersions(s3, bucket, key).then((m) => m.get(key) ?? []);
    const latestNow = after.find((v) => v.isLatest);
    if (!latestBefore || latestBefore.deleteMarker) {
      // The key did not exist (or was deleted) before: hide what the attacker made of it.
      if (latestNow && !latestNow.deleteMarker) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
      continue;
    }
    if (latestNow?.versionId === latestBefore.versionId) continue;
    const body = (after.some((v) => v.versionId === latestBefore.versionId) ? await readBody(s3, bucket, key, latestBefore.versionId) : undefined) ?? saved.get(`${bucket}/${key}`);
    if (!body) {
      problems.push(`${bucket}/${key}: its content before the attack is lost`);
      continue;
    }
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  }
  return problems;
}

/** The bucket policies the attacker deleted, put back. */
export async function restorePolicies(session: LabSession, st: Prepared): Promise<void> {
  const root = session.client(S3Client);
  for (const [bucket, policy] of st.removedPolicies) await root.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy })).catch(() => undefined);
  st.removedPolicies.clear();
}

/** Puts the ledger, the data record, the bucket policies and the ledger role's trust policy back as they were. */
export async function revertCommon(session: LabSession, st: Prepared): Promise<void> {
  const root = session.client(S3Client);
  await restoreTrustPolicy(session, st);
  // The ledger first: a restored policy might refuse the grader's own cleanup.
  if (st.before) await restore(session, st.target.ledger.bucket, st.target.ledger.prefix, st.before, st.saved);
  if (st.changed) await root.send(new PutObjectCommand({ Bucket: st.target.env.company.dataBucket, Key: st.changed.key, Body: st.changed.body, ContentType: 'application/json' })).catch(() => undefined);
  await restorePolicies(session, st);
}

// ---- forging ----

/** Someone else in the account, whom the edited entry names instead of ops-admin. */
export async function scapegoat(session: LabSession, t: Target): Promise<string> {
  const users = await session.client(IAMClient).send(new ListUsersCommand({})).then((r) => (r.Users ?? []).map((u) => u.UserName!)).catch(() => [] as string[]);
  return users.find((u) => u !== t.env.opsAdmin.userName && u !== t.env.company.app.userName) ?? users.find((u) => u !== t.env.opsAdmin.userName) ?? 'backup-operator';
}

/** The entry rewritten so the event names `who` instead of ops-admin. */
export function blame(entry: Buffer, opsAdmin: string, who: string, account: string): Buffer {
  const e = decodeEntry(entry);
  const swap = (v: unknown): unknown => {
    if (typeof v === 'string') return v.split(`user/${opsAdmin}`).join(`user/${who}`).split(opsAdmin).join(who);
    if (Array.isArray(v)) return v.map(swap);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, swap(x)]));
    return v;
  };
  const event = swap(e.event) as Record<string, unknown>;
  // A believable identity: the scapegoat's own ARN in the account.
  const ui = event['userIdentity'] as Record<string, unknown> | undefined;
  if (ui) ui['arn'] = `arn:aws:iam::${account}:user/${who}`;
  return encodeEntry({ ...e, event });
}

/**
 * A complete log of `entries` built as the feed builds one (tiles, bundles) and signed with `signers`:
 * its objects by ledger path.
 */
export async function buildLog(origin: string, entries: Buffer[], signers: NoteSigner[]): Promise<{ files: Map<string, Buffer>; note: string }> {
  const mem = new MemoryStore();
  const log = await Ledger.open(mem, { origin });
  for (let i = 0; i < entries.length; i += 1000) await log.append(entries.slice(i, i + 1000));
  const note = await log.checkpoint(signers);
  const files = new Map<string, Buffer>();
  for (const path of await mem.list('')) files.set(path, (await mem.get(path))!);
  return { files, note };
}

/**
 * Publishes a forged log over the genuine one: every path whose content differs (the checkpoint last).
 */
export async function publish(session: LabSession, st: Prepared, files: Map<string, Buffer>, what: string): Promise<AttackStep[]> {
  const t = st.target;
  const root = session.client(S3Client);
  const steps: AttackStep[] = [];
  const paths = [...files.keys()].filter((p) => p !== 'checkpoint').sort();
  for (const p of [...paths, 'checkpoint']) {
    const body = files.get(p);
    if (!body) continue;
    const current = await readBody(root, t.ledger.bucket, objectKey(t.ledger.prefix, p));
    if (current?.equals(body)) continue;
    steps.push(...await attackerPut(session, st, t.ledger.bucket, objectKey(t.ledger.prefix, p), body, `${what}: PutObject ${p}`));
  }
  return steps;
}

// ---- judging ----

export interface Expectation {
  /** Kinds that name this tampering. */
  kinds: DiscrepancyKind[];
  /** The position the attacker touched (entry indexes); any position when absent. */
  at?: (d: Discrepancy) => boolean;
  /** What was tampered with, for the feedback. */
  what: string;
  /** Which control would have caught it (for the feedback when it was not detected). */
  needs: string;
  /** What the matching discrepancies still lack (every position must be flagged...), if anything. */
  lacks?: (found: Discrepancy[]) => string | undefined;
  /**
   * The tampering can be prevented outright (a bucket policy only root can lift, Object Lock): when every
   * route was refused and nothing was altered, the attack is blocked and credited as detected too — there
   * was nothing to detect, and a stronger control must not score less.
   */
  preventable?: boolean;
}

/**
 * The audit's new discrepancies of the expected kind at the attacker's position. New is judged on kind and
 * position only, never on the detail text: a kind the baseline audit already reported for the attacked
 * positions is never credited (a permanent finding — a junk anchor claiming a huge size — re-appears at
 * the new size with a new text after any change). A baseline finding of another kind, or elsewhere, does
 * not stand in the way.
 */
export function matching(report: AuditReport, baseline: AuditReport | undefined, exp: Expectation): Discrepancy[] {
  const inRange = (d: Discrepancy) => exp.kinds.includes(d.kind) && (!exp.at || exp.at(d));
  const already = new Set((baseline?.discrepancies ?? []).filter(inRange).map((d) => d.kind));
  return report.discrepancies.filter((d) => inRange(d) && !already.has(d.kind) && d.evidence.length > 0);
}

export function notRun(st: Prepared, steps: AttackStep[]): ScenarioResult {
  return { detected: false, blocked: false, steps, evidence: [], feedback: `not detected, not blocked: ${st.why}` };
}

/**
 * The result: detected when the grader's audit reports the expected discrepancy; `blocked` as the
 * scenario judged it (with its sentence).
 */
export async function judge(session: LabSession, st: Prepared, steps: AttackStep[], exp: Expectation,
  block: { blocked: boolean; text: string } = { blocked: false, text: '' }): Promise<ScenarioResult> {
  if (!st.logged) return notRun(st, steps);
  await session.gateway.service('lambda').settle();
  // Prevented = refused by a policy (access denied), not failed for another reason (that earns nothing).
  const byPolicy = (s: AttackStep) => s.allowed || /^Invoke /.test(s.description) || /denied|forbidden|notauthorized|unauthorized/i.test(s.errorCode ?? '');
  if (exp.preventable && steps.length && !st.altered.length && steps.every(byPolicy)) {
    const refused = steps.filter((s) => !s.allowed);
    return {
      detected: true,
      blocked: true,
      steps,
      evidence: ['prevented: nothing was altered', ...refused.slice(0, 6).map((s) => `  refused: ${s.description}${s.errorCode ? ` (${s.errorCode})` : ''}`)],
      feedback: `blocked: every route to ${exp.what} was refused (as ops-admin, without the bucket policy, as the ledger role taken over through its trust policy) — nothing was altered, so the detection points are credited too`,
    };
  }
  let report: AuditReport;
  try {
    report = await gradeAudit(session) as AuditReport;
  } catch (e) {
    return { detected: false, blocked: block.blocked, steps, evidence: [], feedback: `not detected: the audit could not run (${(e as Error).message})${block.text ? `; ${block.text}` : ''}` };
  }
  let found = matching(report, st.baseline, exp);
  const lack = found.length ? exp.lacks?.(found) : undefined;
  if (lack) found = [];
  const first = steps.find((s) => s.allowed) ?? steps[0];
  const evidence = found.slice(0, 5).flatMap((d) => [`${d.kind}${d.index !== undefined ? ` at entry ${d.index}` : ''}: ${d.detail}`, ...d.evidence.slice(0, 3).map((x) => `  ${x}`)]);
  const others = [...new Set(report.discrepancies.filter((d) => !found.includes(d)).map((d) => d.kind))];
  const detectedText = found.length
    ? `detected: the audit with the pinned trust roots reported ${[...new Set(found.map((d) => d.kind))].join(', ')}${found[0]!.index !== undefined ? ` at entry ${found[0]!.index}` : ''} (${found[0]!.detail})`
    : lack ? `not detected: ${lack}` : `not detected: the audit did not report ${exp.kinds.join(' or ')} for ${exp.what}${others.length ? ` (it reported only ${others.join(', ')})` : ''} — ${exp.needs}`;
  const witnessText = st.witnessCosigned ? `; the witness cosigned ${st.witnessCosigned} for the attacker (it must refuse a checkpoint that is not consistent with the one it holds: witness task)` : '';
  return {
    detected: found.length > 0,
    blocked: block.blocked,
    ...(found.length && first ? { timeToDetectMs: Math.max(0, session.now() - first.at) } : {}),
    steps,
    evidence,
    feedback: (block.text ? `${detectedText}; ${block.text}` : detectedText) + witnessText,
  };
}

/** Entries of the attacker (their positions), for the feedback. */
export function positions(st: Prepared): string {
  return st.events.map((e) => `${e.eventName} ${e.key} at entry ${e.index}`).join(', ');
}



// ---- many calls of one kind, reported as one step ----

/** Makes a call and says whether AWS did it (any error: it did not). Lab-cloud failures throw. */
export async function tryCall(call: () => Promise<unknown>): Promise<{ ok: boolean; code?: string }> {
  try {
    await call();
    return { ok: true };
  } catch (e) {
    const err = e as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
    const status = err.$metadata?.httpStatusCode ?? 0;
    if (status >= 500 || !status) throw new Error(`the lab cloud failed (${err.name}: ${(e as Error).message})`);
    return { ok: false, code: err.Code ?? err.name ?? 'Error' };
  }
}

/**
 * Runs `calls` (one kind of call on many objects) and reports them as one step: allowed when any of them
 * took effect; the refusals' error codes otherwise.
 */
export async function batchStep(session: LabSession, description: string, calls: (() => Promise<unknown>)[]): Promise<AttackStep & { done: number; total: number }> {
  const at = session.now();
  let done = 0;
  const codes = new Map<string, number>();
  for (const c of calls) {
    const r = await tryCall(c);
    if (r.ok) done++;
    else codes.set(r.code!, (codes.get(r.code!) ?? 0) + 1);
  }
  const refused = [...codes].map(([c, n]) => `${n} ${c}`).join(', ');
  const step: AttackStep & { done: number; total: number } = {
    description: `${description}: ${done} of ${calls.length} done${refused ? ` (refused: ${refused})` : ''}`,
    allowed: done > 0,
    ...(done < calls.length && codes.size ? { errorCode: [...codes.keys()][0]! } : {}),
    at, done, total: calls.length,
  };
  session.onAttackStep?.({ description: step.description, allowed: step.allowed, ...(step.errorCode ? { errorCode: step.errorCode } : {}), at });
  return step;
}

/** A step without the batch counters (what the grade records). */
export function plain(s: AttackStep & { done?: number; total?: number }): AttackStep {
  return { description: s.description, allowed: s.allowed, ...(s.errorCode ? { errorCode: s.errorCode } : {}), at: s.at };
}

/**
 * Deletes versions of an object as ops-admin (the evidence an auditor would use), retrying each refused
 * one with the governance bypass, as one step.
 */
export async function deleteVersions(session: LabSession, st: Prepared, bucket: string, key: string, versionIds: string[], what: string): Promise<AttackStep & { done: number; total: number }> {
  const s3 = attackerClient(session, st.target, S3Client);
  const one = (v: string) => async () => {
    const plainTry = await tryCall(() => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: v })));
    if (plainTry.ok) return;
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: v, BypassGovernanceRetention: true }));
  };
  const first = await batchStep(session, `${what}: DeleteObject of ${versionIds.length} version(s) of ${key} (with the governance bypass when refused)`, versionIds.map(one));
  if (first.done) st.altered.push(first.description);
  if (first.done === first.total) return first;
  // Refused: without the bucket policy, if the administrator may delete it.
  const dropped = await dropBucketPolicy(session, st, bucket);
  if (!dropped.at(-1)?.allowed) return first;
  const left: string[] = [];
  const all = (await listVersions(session.client(S3Client), bucket, key)).get(key) ?? [];
  for (const v of versionIds) if (all.some((x) => x.versionId === v)) left.push(v);
  const again = await batchStep(session, `${what}: again without the bucket policy`, left.map(one));
  if (again.done) st.altered.push(again.description);
  return { ...again, done: first.done + again.done, total: first.total };
}

/** The size a checkpoint note states. */
export function noteSize(note: string): number {
  return parseCheckpoint(splitNote(note).text).size;
}
