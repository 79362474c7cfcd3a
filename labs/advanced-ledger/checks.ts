// Lab advanced-ledger's checks. They judge behaviour on the lab cloud, never configuration text:
// the grader drives a quiet period of the app (QUIET_MINUTES of lab time, a minute at a time) and reads
// what the ledger holds after each minute (through checkpoints signed by the pinned key only, entries
// replayed to the signed root); it tries the key as ops-admin and as a second administrator ops-admin
// creates; it asks the witness to cosign and to accept checkpoints inconsistent with what it cosigned; it
// tries to delete an anchor version as the account's root (after ops-admin lifts any legal hold); it
// audits the untouched ledger. Business (gates): the app's calls never fail,
// and the ledger keeps up (every source event of the quiet period has its entry within MAX_LAG_MS).
import { KMSClient, SignCommand, PutKeyPolicyCommand, ScheduleKeyDeletionCommand, CreateGrantCommand, DisableKeyCommand, UpdateAliasCommand } from '@aws-sdk/client-kms';
import { IAMClient, AttachUserPolicyCommand, CreateAccessKeyCommand, CreateUserCommand, DeleteAccessKeyCommand, DeleteUserCommand, DetachUserPolicyCommand, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { S3Client, ListObjectVersionsCommand, DeleteObjectCommand, GetObjectCommand, GetObjectLegalHoldCommand, PutObjectLegalHoldCommand } from '@aws-sdk/client-s3';
import type { Check } from '../../src/engine/types.ts';
import type { LabSession } from '../../src/engine/session.ts';
import { ledgerEnv, ledgerHidden } from './env.ts';
import { appMinute, appTally, MINUTE } from './company.ts';
import { applyOutput, gradeAudit, isDataEventOn, pinLogKey, pinnedTrust } from './trust.ts';
import { ledgerLib, ledgerLibSync } from './ledger-lib.ts';
import { leafHash, MerkleAccumulator } from '../../src/kit/ledger.ts';
import { closeWitnessSetup } from './provision.ts';

const TILE = 256;

/** What the quiet period showed: each source event, and when (lab time) its entry was first seen. */
export interface QuietResult {
  from: number;
  to: number;
  /**
   * Source events that must be logged: CloudTrail data events on the data bucket and app events, with
   * what their entry must say (event name, object key, principal); `wrong` when the entry carrying the
   * event's id says something else.
   */
  events: { kind: 'cloudtrail' | 'app'; id: string; at: number; name: string; expect: Record<string, string>; seenAt?: number; index?: number; wrong?: string }[];
  /** Ledger size after each minute (from checkpoints that verify with the pinned log key only). */
  sizes: { at: number; size: number }[];
  /** Why the ledger could not be read, if it could not. */
  problem?: string;
  failures: number;
}

const quiet = new WeakMap<LabSession, Promise<QuietResult>>();

type Entry = ReturnType<Awaited<ReturnType<typeof ledgerLib>>['decodeEntry']>;

function store(session: LabSession) {
  const out = applyOutput(session)!;
  return new (ledgerLibSync().S3Store)({ client: session.client(S3Client), bucket: ledgerEnv(session).ledgerBucket, ...(out.ledger.prefix ? { prefix: out.ledger.prefix } : {}) });
}

/**
 * The ledger's checkpoint (size and root) when it verifies with the log key the grader derives from KMS
 * and names the lab's origin; size 0 otherwise (an unsigned size is never believed).
 */
async function signedCheckpoint(session: LabSession): Promise<{ size: number; root?: Buffer; problem?: string }> {
  if (!applyOutput(session)) return { size: 0 };
  const key = await pinLogKey(session);
  if (!key.vkey) return { size: 0, problem: key.problems[0] ?? 'the log key could not be pinned' };
  const lib = ledgerLibSync();
  try {
    const note = (await store(session).get('checkpoint'))?.toString('utf8');
    if (!note) return { size: 0, problem: 'there is no checkpoint' };
    const cp = lib.parseCheckpoint(lib.openNote(note, [lib.verifierFromVkey(key.vkey)]).text);
    if (cp.origin !== ledgerEnv(session).origin) return { size: 0, problem: `the checkpoint's origin is "${cp.origin}"` };
    return { size: cp.size, root: cp.root };
  } catch (e) {
    return { size: 0, problem: `the checkpoint does not verify with the signing key's public key: ${(e as Error).message}` };
  }
}

/**
 * The entries of the ledger up to a signed checkpoint — only when their leaves hash to its signed root
 * (RFC 9162, replayed with the library's MerkleAccumulator). Reads only bundles the store lists, stops at
 * the first missing or short one: a bogus size costs one listing, never a GET per claimed bundle.
 */
export async function readEntries(session: LabSession, cp: { size: number; root?: Buffer }): Promise<{ entries: (Entry | undefined)[]; problem?: string }> {
  if (!cp.size || !cp.root) return { entries: [] };
  const lib = ledgerLibSync();
  const s = store(session);
  const listed = new Set(await s.list('tile/entries/'));
  const acc = new MerkleAccumulator();
  const entries: (Entry | undefined)[] = [];
  for (let n = 0; n * TILE < cp.size; n++) {
    const width = Math.min(TILE, cp.size - n * TILE);
    const path = lib.entriesPath(n, width === TILE ? undefined : width);
    if (!listed.has(path)) return { entries: [], problem: `the entry bundle ${path} of the signed size ${cp.size} is missing` };
    const data = await s.get(path);
    let bundle: Buffer[] = [];
    try {
      bundle = data ? lib.parseEntryBundle(data) : [];
    } catch { /* below */ }
    if (bundle.length < width) return { entries: [], problem: `the entry bundle ${path} holds ${bundle.length} of its ${width} entries` };
    for (let i = 0; i < width; i++) {
      const b = bundle[i]!;
      acc.append(leafHash(b));
      try {
        entries.push(lib.decodeEntry(b));
      } catch {
        entries.push(undefined);
      }
    }
  }
  if (!acc.root().equals(cp.root)) return { entries: [], problem: `the ${cp.size} entries in the bundles do not hash to the checkpoint's signed root` };
  return { entries };
}

/** What an entry says that its source event must say too: event name, object key, principal. */
function said(e: Entry): Record<string, string> {
  const ev = e.event as Record<string, unknown>;
  if (e.kind === 'app') return { action: String(ev['action'] ?? ''), record: String(ev['record'] ?? ''), actor: String(ev['actor'] ?? '') };
  const params = ev['requestParameters'] as Record<string, unknown> | undefined;
  const who = ev['userIdentity'] as Record<string, unknown> | undefined;
  return { eventName: String(ev['eventName'] ?? ''), key: String(params?.['key'] ?? ''), principal: String(who?.['arn'] ?? '') };
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
    sizes.push({ at: session.now(), size: (await signedCheckpoint(session)).size });
  }
  const to = session.now();
  const events: QuietResult['events'] = [
    ...session.events()
      .filter((r) => Date.parse(r.eventTime) >= from && Date.parse(r.eventTime) < to && isDataEventOn(r as unknown as Record<string, unknown>, env.company.dataBucket))
      .map((r) => {
        const key = String((r.requestParameters as Record<string, unknown> | undefined)?.['key'] ?? '');
        const principal = String((r.userIdentity as unknown as Record<string, unknown> | undefined)?.['arn'] ?? '');
        return { kind: 'cloudtrail' as const, id: r.eventID, at: Date.parse(r.eventTime), name: `${r.eventName} ${key}`, expect: { eventName: r.eventName, key, principal } };
      }),
    ...tally.events.slice(firstApp).map((e) => ({ kind: 'app' as const, id: e.id, at: Date.parse(e.time), name: `app ${e.action} ${e.record}`, expect: { action: e.action, record: e.record, actor: e.actor } })),
  ];
  // Let the feed catch up (no new events), a minute at a time, up to the allowed lag.
  let cp = await signedCheckpoint(session);
  for (let waited = 0; waited < env.quiet.maxLagMs; waited += MINUTE) {
    const { entries } = await readEntries(session, cp).catch(() => ({ entries: [] as (Entry | undefined)[] }));
    const have = new Set(entries.map((e) => (e ? (e.kind === 'app' ? `app:${e.source['id']}` : `cloudtrail:${e.source['eventID']}`) : '')));
    if (events.every((e) => have.has(`${e.kind}:${e.id}`))) break;
    await session.gateway.clock.advance(MINUTE);
    cp = await signedCheckpoint(session);
    sizes.push({ at: session.now(), size: cp.size });
  }
  let problem: string | undefined = cp.problem;
  let entries: (Entry | undefined)[] = [];
  try {
    const r = await readEntries(session, cp);
    entries = r.entries;
    problem ??= r.problem;
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
    const got = said(entries[i]!);
    const differ = Object.keys(e.expect).filter((k) => (got[k] ?? '') !== e.expect[k]);
    if (differ.length) {
      e.wrong = `entry ${i} says ${differ.map((k) => `${k} "${got[k]}"`).join(', ')}, the event ${differ.map((k) => `"${e.expect[k]}"`).join(', ')}`;
      continue;
    }
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
      const wrong = q.events.filter((e) => e.wrong);
      const missing = q.events.filter((e) => e.index === undefined && !e.wrong);
      const ct = q.events.filter((e) => e.kind === 'cloudtrail');
      const app = q.events.filter((e) => e.kind === 'app');
      if (!ct.length || !app.length) return { passed: false, feedback: `the quiet period had ${ct.length} data events and ${app.length} app events: nothing to judge` };
      if (wrong.length) return { passed: false, feedback: `${wrong.length} of ${q.events.length} source events have an entry that says something else: ${list(wrong.map((e) => `${e.kind} ${e.name} (${e.id}): ${e.wrong}`), 2)}. An entry holds the source event itself (CloudTrail: the record; app: the audit event's JSON).` };
      if (missing.length) return { passed: false, feedback: `${missing.length} of ${q.events.length} source events have no entry in the ledger up to its signed checkpoint${q.problem ? ` (${q.problem})` : ''}: ${list(missing.map((e) => `${e.kind} ${e.name} (${e.id})`))}. Subscribe the feed to both ${ledgerEnv(session).trail.logGroup} and ${ledgerEnv(session).company.app.logGroup}; entries of kind 'cloudtrail' carry source.eventID, of kind 'app' source.id (the app event's id).` };
      return { passed: true, feedback: `${ct.length} CloudTrail data events and ${app.length} app events, each with its entry (event, object and principal as in the source), in a log whose entries hash to the signed root` };
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
    id: 'signing-admin-refused', title: 'No administrator can sign with the ledger key, grant it, change its policy or alias, disable it or schedule its deletion', kind: 'posture', points: 10, task: 'signing', restrictive: true,
    async run(session) {
      await quietPeriod(session);
      const t = await pinnedTrust(session);
      if (!t.keyArn) return { passed: false, feedback: `no signing key to try: ${list(about(t.problems, /key/), 2)}` };
      const env = ledgerEnv(session);
      const h = ledgerHidden(session).opsAdmin;
      const up = session.gateway.upstream;
      const keyArn = t.keyArn;
      const policy = (await up.json<{ Policy?: string }>(env.accountId, 'kms', 'GetKeyPolicy', { KeyId: keyArn, PolicyName: 'default' }, env.region)).Policy ?? '';
      const alias = (await up.json<{ Aliases?: { AliasName?: string }[] }>(env.accountId, 'kms', 'ListAliases', { KeyId: keyArn }, env.region).catch(() => ({ Aliases: [] }))).Aliases?.[0]?.AliasName;
      const tried: { who: string; action: string; allowed: boolean; code?: string }[] = [];
      const grants: string[] = [];
      let disabled = false;
      /** Every call on the key as one principal from one address; each one that went through is undone. */
      const route = async (who: string, kms: KMSClient, principal: string) => {
        const one = async (action: string, call: () => Promise<unknown>) => tried.push({ who, action, ...await asAdmin(session, call) });
        await one('Sign', () => kms.send(new SignCommand({ KeyId: keyArn, Message: Buffer.from('grader probe'), MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' })));
        await one('CreateGrant', async () => {
          const g = await kms.send(new CreateGrantCommand({ KeyId: keyArn, GranteePrincipal: principal, Operations: ['Sign'] }));
          if (g.GrantId) grants.push(g.GrantId);
        });
        // The current policy again: if it is allowed, nothing changes.
        await one('PutKeyPolicy', () => kms.send(new PutKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default', Policy: policy, BypassPolicyLockoutSafetyCheck: true })));
        // The alias onto the key it names already (AWS authorizes UpdateAlias on the current key too).
        if (alias) await one('UpdateAlias', () => kms.send(new UpdateAliasCommand({ AliasName: alias, TargetKeyId: keyArn })));
        await one('DisableKey', async () => {
          await kms.send(new DisableKeyCommand({ KeyId: keyArn }));
          disabled = true;
        });
        await one('ScheduleKeyDeletion', async () => {
          await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyArn, PendingWindowInDays: 30 }));
          disabled = true;
        });
        // Undo what went through (through the emulator): the student's key must not stay granted, disabled
        // or pending deletion because of the grader.
        for (const g of grants.splice(0)) await up.json(env.accountId, 'kms', 'RevokeGrant', { KeyId: keyArn, GrantId: g }, env.region).catch(() => undefined);
        if (disabled) {
          await up.json(env.accountId, 'kms', 'CancelKeyDeletion', { KeyId: keyArn }, env.region).catch(() => undefined);
          await up.json(env.accountId, 'kms', 'EnableKey', { KeyId: keyArn }, env.region).catch(() => undefined);
          disabled = false;
        }
      };
      // 1. ops-admin, from the office.
      await route('ops-admin', session.client(KMSClient, { credentials: { accessKeyId: h.accessKeyId, secretAccessKey: h.secretAccessKey }, sourceIp: '203.0.113.77' }), env.opsAdmin.arn);
      // 2. A second administrator ops-admin creates, from outside the office range: a Deny naming ops-admin
      // or an address range does not stop an administrator.
      const iam = session.client(IAMClient, { credentials: { accessKeyId: h.accessKeyId, secretAccessKey: h.secretAccessKey }, sourceIp: '203.0.113.77' });
      const second = `grader-admin-${session.random.fork('ledger-check-second-admin').int(1000, 9999)}`;
      let secondNote = '';
      try {
        const arn = (await iam.send(new CreateUserCommand({ UserName: second }))).User!.Arn!;
        try {
          await iam.send(new AttachUserPolicyCommand({ UserName: second, PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
          const k = (await iam.send(new CreateAccessKeyCommand({ UserName: second }))).AccessKey!;
          const outside = `198.51.100.${session.random.fork('ledger-check-outside-ip').int(20, 200)}`;
          await route(`${second} from ${outside}`, session.client(KMSClient, { credentials: { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! }, sourceIp: outside }), arn);
        } catch (e) {
          secondNote = ` (ops-admin could not make ${second} an administrator: ${(e as Error).name})`;
        }
      } catch (e) {
        secondNote = ` (ops-admin could not create a second user: ${(e as Error).name})`;
      } finally {
        // The second administrator goes again, whatever happened (as the account's root).
        const root = session.client(IAMClient);
        const keys = await root.send(new ListAccessKeysCommand({ UserName: second })).then((r) => r.AccessKeyMetadata ?? [], () => []);
        for (const k of keys) await root.send(new DeleteAccessKeyCommand({ UserName: second, AccessKeyId: k.AccessKeyId! })).catch(() => undefined);
        await root.send(new DetachUserPolicyCommand({ UserName: second, PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' })).catch(() => undefined);
        await root.send(new DeleteUserCommand({ UserName: second })).catch(() => undefined);
      }
      const allowed = tried.filter((r) => r.allowed);
      if (allowed.length) return { passed: false, feedback: `${list(allowed.map((r) => `${r.who} could ${r.action}`), 4)} on the ledger key: the key policy must not delegate the key to the account (no "kms:*" for the root principal: every administrator gets it), allow Sign to the ledger role only, and Deny PutKeyPolicy, ScheduleKeyDeletion, DisableKey, CreateGrant and UpdateAlias to everyone — not to ops-admin by name or to an address range` };
      const routes = [...new Set(tried.map((r) => r.who))];
      return { passed: true, feedback: `${routes.map((w) => `as ${w}: ${tried.filter((r) => r.who === w).map((r) => `${r.action} → ${r.code}`).join(', ')}`).join('; ')}${secondNote}` };
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
        cosigned = lib.openNote(note, [lib.verifierFromVkey(out.witness.vkey)]).verified.some((v) => v.type === 0x04);
      } catch { /* below */ }
      if (!cosigned) return { passed: false, feedback: `the ledger's checkpoint carries no valid c2sp tlog-cosignature (type 0x04) of ${out.witness.vkey.split('+')[0]}: the feed must ask the witness (add-checkpoint) and add its cosignature line to the checkpoint it stores` };
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
      const target = `${newest.Key}@${newest.VersionId}`;
      const del = () => s3.send(new DeleteObjectCommand({ Bucket: t.anchors!.bucket, Key: newest.Key!, VersionId: newest.VersionId, BypassGovernanceRetention: true })).then(() => 'allowed', (e: Error) => e.name);
      const first = await del();
      if (first === 'allowed') return { passed: false, feedback: `the account's root deleted the anchor version ${target} (with x-amz-bypass-governance-retention): create the bucket with Object Lock and a default retention in COMPLIANCE mode` };
      // A legal hold is no lock against an administrator: ops-admin lifts it (s3:PutObjectLegalHold), then
      // the delete is tried again. A hold the grader lifted is put back when the version survived.
      const hold = await s3.send(new GetObjectLegalHoldCommand({ Bucket: t.anchors.bucket, Key: newest.Key!, VersionId: newest.VersionId })).then((r) => r.LegalHold?.Status, () => undefined);
      let lifted = 'no legal hold to lift';
      if (hold === 'ON') {
        const h = ledgerHidden(session).opsAdmin;
        const admin = session.client(S3Client, { credentials: { accessKeyId: h.accessKeyId, secretAccessKey: h.secretAccessKey }, sourceIp: '203.0.113.77' });
        lifted = await admin.send(new PutObjectLegalHoldCommand({ Bucket: t.anchors.bucket, Key: newest.Key!, VersionId: newest.VersionId, LegalHold: { Status: 'OFF' } })).then(() => 'allowed', (e: Error) => e.name);
        if (lifted === 'allowed') {
          const again = await del();
          if (again === 'allowed') return { passed: false, feedback: `ops-admin lifted the legal hold of the anchor version ${target} (s3:PutObjectLegalHold) and the account's root then deleted it: a legal hold is no lock against an administrator; use a default retention in COMPLIANCE mode` };
          await s3.send(new PutObjectLegalHoldCommand({ Bucket: t.anchors.bucket, Key: newest.Key!, VersionId: newest.VersionId, LegalHold: { Status: 'ON' } })).catch(() => undefined);
        }
        lifted = `ops-admin lifting its legal hold: ${lifted}`;
      }
      return { passed: true, feedback: `deleting ${target} as the account's root was refused (${first}); ${lifted}; ${versions.length} anchored checkpoints (default retention: ${t.anchors.objectLock ?? 'none'})` };
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
