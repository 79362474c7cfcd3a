// What the grader trusts in lab advanced-ledger, and the grader's audit of the student's ledger.
//
// pinnedTrust(session): computed once per session, after apply(), from what apply() returned
// (session.studentOutputs.apply) — but nothing in it is taken on the student's word, and nothing in it
// comes from what the attacker (ops-admin, AdministratorAccess in the run account) can change later:
//   - the log's vkey is derived by the grader from KMS GetPublicKey of the student's key (an
//     ECC_NIST_P256 SIGN_VERIFY key of the run account), named with the lab's origin;
//   - the witness's vkey is pinned only when the witness function lives in the witness account,
//     cosigns the ledger's current checkpoint with that key when asked, and refuses a checkpoint the
//     log key signed that is inconsistent with what it cosigned (the grader signs that probe itself,
//     with the emulator's KMS directly: nothing recorded, the key policy not consulted);
//   - where the ledger, the anchors, the trail files and the app audit log are: the ledger and anchor
//     buckets from apply() when they exist in the run account, the rest from provisioning.
// gradeAudit(session): audit() (src/controls/ledger/audit.ts) over S3Store with the grader's own
// credentials (the run account's root), the pinned trust and the evidence that survives: the anchors,
// the trail bucket's log files, the app audit log group and the cosigned checkpoints the grader saw.
import { S3Client, HeadBucketCommand, GetObjectLockConfigurationCommand } from '@aws-sdk/client-s3';
import { LambdaClient, InvokeCommand } from '@aws-sdk/client-lambda';
import { CloudWatchLogsClient, FilterLogEventsCommand, type FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import type { LabSession } from '../../src/engine/session.ts';
import { ledgerEnv, ledgerHidden, type LedgerApplyOutput } from './env.ts';
import { ledgerLib, ledgerLibSync, type AuditReport, type LedgerStoreLike, type TrustRoots } from './ledger-lib.ts';

export interface PinnedTrust {
  /** The trust roots the grader's audit uses (logVkeys empty when the key could not be pinned). */
  trust: TrustRoots;
  /** The KMS key (ARN) whose public key is the log key, when pinned. */
  keyArn?: string;
  ledger: { bucket: string; prefix: string };
  /** The student's anchor bucket, when it exists in the run account (objectLock: its default mode). */
  anchors?: { bucket: string; prefix: string; objectLock?: string };
  trail: { bucket: string; prefix: string; logGroup: string };
  appLogGroup: string;
  /** The witness function as the grader found it (pinned only when `trust.witnessVkeys` is not empty). */
  witness?: { accountId: string; functionName: string };
  /** The grader's probes of the witness: what it answered. */
  witnessProbes: { name: string; status: number; ok: boolean; detail: string }[];
  /** Why something was not pinned (feedback for the checks). */
  problems: string[];
}

const pinned = new WeakMap<LabSession, Promise<PinnedTrust>>();
const observed = new WeakMap<LabSession, string[]>();

/** Witnessed checkpoints the grader saw (cosigned with the pinned keys), oldest first. */
export function witnessedCheckpoints(session: LabSession): string[] {
  return observed.get(session) ?? [];
}

export function applyOutput(session: LabSession): LedgerApplyOutput | undefined {
  return session.studentOutputs['apply'] as LedgerApplyOutput | undefined;
}

/** The run account's root S3 client (the grader's own credentials). */
export function graderS3(session: LabSession): S3Client {
  return session.client(S3Client);
}

export function witnessCredentials(session: LabSession) {
  const w = ledgerHidden(session).witnessAccount;
  return { accessKeyId: w.accessKeyId, secretAccessKey: w.secretAccessKey };
}

/**
 * Memoized per session. Call it only after the feed has run a while (the checks drive the quiet
 * period first): a witness that has cosigned nothing accepts any first checkpoint, so its refusal
 * of an inconsistent one can only be probed once it holds one.
 */
export function pinnedTrust(session: LabSession): Promise<PinnedTrust> {
  let p = pinned.get(session);
  if (!p) {
    p = computeTrust(session);
    pinned.set(session, p);
  }
  return p;
}

async function computeTrust(session: LabSession): Promise<PinnedTrust> {
  const env = ledgerEnv(session);
  const lib = await ledgerLib();
  const out = applyOutput(session);
  const problems: string[] = [];
  const result: PinnedTrust = {
    trust: { origin: env.origin, logVkeys: [], witnessVkeys: [] },
    ledger: { bucket: env.ledgerBucket, prefix: '' },
    // The whole bucket: the auditor picks log files by their '/CloudTrail/' path element (not digests).
    trail: { bucket: env.trail.bucket, prefix: '', logGroup: env.trail.logGroup },
    appLogGroup: env.company.app.logGroup,
    witnessProbes: [],
    problems,
  };
  if (!out) {
    problems.push('apply() returned nothing the grader could read (see the first student step\'s error)');
    return result;
  }
  if (out.origin !== env.origin) problems.push(`apply() returned origin "${out.origin}", the lab's is "${env.origin}" (env.origin): the grader audits that origin`);
  if (out.ledger.bucket !== env.ledgerBucket) problems.push(`apply() names ledger bucket ${out.ledger.bucket}; the ledger must be in env.ledgerBucket (${env.ledgerBucket})`);
  result.ledger.prefix = normPrefix(out.ledger.prefix);

  // ---- the log key: the KMS key's own public key, never the vkey apply() claims ----
  const key = await pinLogKey(session);
  problems.push(...key.problems);
  if (key.vkey && key.keyArn) {
    result.trust.logVkeys = [key.vkey];
    result.keyArn = key.keyArn;
  }

  // ---- the anchor bucket: where the student says, if it is a bucket of the run account ----
  const s3 = graderS3(session);
  try {
    await s3.send(new HeadBucketCommand({ Bucket: out.anchor.bucket }));
    let objectLock: string | undefined;
    try {
      const lock = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: out.anchor.bucket }));
      objectLock = lock.ObjectLockConfiguration?.Rule?.DefaultRetention?.Mode ?? (lock.ObjectLockConfiguration?.ObjectLockEnabled ? 'enabled' : undefined);
    } catch { /* no Object Lock configuration: still evidence, weaker */ }
    if (out.anchor.bucket === env.ledgerBucket) problems.push('the anchor bucket is the ledger bucket: anchors must live apart from what they protect');
    else result.anchors = { bucket: out.anchor.bucket, prefix: normPrefix(out.anchor.prefix), ...(objectLock ? { objectLock } : {}) };
  } catch (e) {
    problems.push(`the anchor bucket ${out.anchor.bucket} is not a bucket of the run account (${(e as Error).name})`);
  }

  // ---- the witness: in the witness account, cosigns the current checkpoint, refuses an inconsistent one ----
  const witnessAccount = ledgerHidden(session).witnessAccount.accountId;
  const up = session.gateway.upstream;
  let witnessType = 0;
  try {
    witnessType = lib.verifierFromVkey(out.witness.vkey).type;
  } catch { /* reported below */ }
  // Only a c2sp tlog-cosignature key (0x04) of its own: the log's key (or its signature line echoed back)
  // is no witness.
  if (witnessType !== 0x04) problems.push(`apply()'s witness.vkey is not a c2sp tlog-cosignature key (type 0x04, cosignatureVkey(vkey)): ${out.witness.vkey.slice(0, 80)}`);
  else if (result.trust.logVkeys.some((v) => v === out.witness.vkey || v.split('+')[1] === out.witness.vkey.split('+')[1]) || out.witness.vkey.split('+')[0] === env.origin) problems.push('apply()\'s witness.vkey is the log\'s own key or name: the witness must cosign with a key of its own');
  else if (out.witness.accountId !== witnessAccount) problems.push(`apply() says the witness is in account ${out.witness.accountId}; it must be in the witness account (env.witnessAccount.accountId = ${witnessAccount})`);
  else if (!result.trust.logVkeys.length) problems.push('the witness cannot be probed without the log key');
  else {
    try {
      const fn = await up.json<{ Configuration?: { FunctionArn?: string } }>(witnessAccount, 'lambda', 'GetFunction', { FunctionName: out.witness.functionName }, env.region);
      if (!fn.Configuration?.FunctionArn?.includes(`:${witnessAccount}:`)) throw new Error('not found');
      const ok = await probeWitness(session, result, out, lib);
      if (ok) {
        result.trust.witnessVkeys = [out.witness.vkey];
        result.witness = { accountId: witnessAccount, functionName: out.witness.functionName };
      }
    } catch (e) {
      problems.push(`the witness function ${out.witness.functionName} is not in the witness account ${witnessAccount} (${(e as Error).message})`);
    }
  }
  if (result.trust.logVkeys.length) await recordWitnessed(session, result);
  return result;
}

const logKeys = new WeakMap<LabSession, Promise<{ vkey?: string; keyArn?: string; problems: string[] }>>();

/**
 * The log key as the grader derives it (memoized): KMS GetPublicKey of apply()'s keyId read from the
 * emulator directly, when it is an ECC_NIST_P256 SIGN_VERIFY key of the run account. The quiet period
 * reads sizes only from checkpoints that verify with it.
 */
export function pinLogKey(session: LabSession): Promise<{ vkey?: string; keyArn?: string; problems: string[] }> {
  let p = logKeys.get(session);
  if (!p) {
    p = derive(session);
    logKeys.set(session, p);
  }
  return p;
}

async function derive(session: LabSession): Promise<{ vkey?: string; keyArn?: string; problems: string[] }> {
  const env = ledgerEnv(session);
  const out = applyOutput(session);
  const problems: string[] = [];
  if (!out) return { problems };
  const lib = await ledgerLib();
  const up = session.gateway.upstream;
  try {
    const d = await up.json<{ KeyMetadata?: { Arn?: string; KeySpec?: string; KeyUsage?: string; AWSAccountId?: string; KeyState?: string } }>(
      env.accountId, 'kms', 'DescribeKey', { KeyId: out.keyId }, env.region);
    const m = d.KeyMetadata ?? {};
    if (m.AWSAccountId !== env.accountId) problems.push(`the signing key ${out.keyId} is not a key of the run account`);
    else if (m.KeySpec !== 'ECC_NIST_P256' || m.KeyUsage !== 'SIGN_VERIFY') problems.push(`the signing key ${out.keyId} is ${m.KeySpec}/${m.KeyUsage}; the log key must be ECC_NIST_P256 with KeyUsage SIGN_VERIFY`);
    else {
      const pk = await up.json<{ PublicKey?: Uint8Array }>(env.accountId, 'kms', 'GetPublicKey', { KeyId: m.Arn }, env.region);
      if (!pk.PublicKey) problems.push(`KMS GetPublicKey of ${m.Arn} returned no key`);
      else {
        const vkey = lib.ecdsaVkey(env.origin, Buffer.from(pk.PublicKey));
        if (out.logVkey && out.logVkey !== vkey) problems.push(`apply()'s logVkey differs from the key's public key as the grader derives it (${vkey}): sign with the name "${env.origin}"`);
        return { vkey, keyArn: m.Arn!, problems };
      }
    }
  } catch (e) {
    problems.push(`the signing key ${out.keyId} could not be read: ${(e as Error).message}`);
  }
  return { problems };
}

/** The witness function as Lambda runs it: event { body } (an add-checkpoint request), reply { statusCode, headers, body }. */
export async function invokeWitness(session: LabSession, functionName: string, body: string): Promise<{ status: number; body: string; error?: string }> {
  const lambda = session.client(LambdaClient, { credentials: witnessCredentials(session) });
  const res = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify({ body })) }));
  const text = res.Payload ? Buffer.from(res.Payload).toString('utf8') : '';
  if (res.FunctionError) return { status: 0, body: text, error: `the function failed (${res.FunctionError}): ${text.slice(0, 300)}` };
  try {
    const r = JSON.parse(text) as { statusCode?: unknown; body?: unknown };
    if (typeof r.statusCode !== 'number' || typeof r.body !== 'string') throw new Error('shape');
    return { status: r.statusCode, body: r.body };
  } catch {
    return { status: 0, body: text, error: `the reply is not { statusCode, headers, body }: ${text.slice(0, 200)}` };
  }
}

async function probeWitness(session: LabSession, t: PinnedTrust, out: LedgerApplyOutput, lib: Awaited<ReturnType<typeof ledgerLib>>): Promise<boolean> {
  const env = ledgerEnv(session);
  const probes = t.witnessProbes;
  const store = ledgerStore(session, t);
  const note = (await store.get('checkpoint'))?.toString('utf8');
  if (!note) {
    t.problems.push('the ledger has no checkpoint yet: the witness cannot be probed');
    return false;
  }
  let text: string;
  try {
    text = lib.openNote(note, t.trust.logVkeys.map((v) => lib.verifierFromVkey(v))).text;
  } catch (e) {
    t.problems.push(`the ledger's checkpoint does not verify with the signing key's public key: ${(e as Error).message}`);
    return false;
  }
  const cp = lib.parseCheckpoint(text);
  let witnessVerifier;
  try {
    witnessVerifier = lib.verifierFromVkey(out.witness.vkey);
  } catch (e) {
    t.problems.push(`apply()'s witness.vkey is not a vkey: ${(e as Error).message}`);
    return false;
  }
  // 1. The genuine checkpoint again: a witness at that size cosigns it (same root) with its key.
  const same = await invokeWitness(session, out.witness.functionName, lib.addCheckpointRequest(cp.size, [], note));
  let cosigned = false;
  if (same.status === 200) {
    try {
      const merged = lib.addSignatures(note, same.body.split('\n').filter((l) => l.startsWith('— ')));
      cosigned = lib.openNote(merged, [witnessVerifier]).verified.some((v) => v.keyId === witnessVerifier.keyId && v.type === 0x04);
    } catch { /* reported below */ }
  }
  probes.push({ name: 'cosigns the current checkpoint', status: same.status, ok: cosigned, detail: same.error ?? (cosigned ? `cosigned size ${cp.size} with ${witnessVerifier.name}` : `answered ${same.status}: ${same.body.slice(0, 200)}`) });
  // 2. Log-signed checkpoints the witness must never cosign (the grader signs them through the emulator's
  // KMS: nothing recorded, the key policy not consulted). The first with a random consistency proof: a
  // 4xx other than 403/409 (422) is expected, and a 409 naming another size is followed once, as a log
  // would (a witness that forgot what it cosigned answers 409 "0" and then cosigns anything).
  const logVerifier = lib.verifierFromVkey(t.trust.logVkeys[0]!);
  // The probes' bogus roots and proofs come from the run's seed, like every other choice of the grading.
  const probeRandom = session.random.fork('ledger-witness-probes');
  const randomBytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => probeRandom.int(0, 255)));
  const signed = async (size: number): Promise<string> => {
    const text = lib.formatCheckpoint({ origin: cp.origin, size, root: randomBytes(32), extensions: [] });
    const sig = await session.gateway.upstream.json<{ Signature?: Uint8Array }>(env.accountId, 'kms', 'Sign',
      { KeyId: t.keyArn, Message: Buffer.from(text), MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' }, env.region);
    const keyId = Buffer.alloc(4);
    keyId.writeUInt32BE(logVerifier.keyId >>> 0);
    return `${text}\n— ${logVerifier.name} ${Buffer.concat([keyId, Buffer.from(sig.Signature ?? [])]).toString('base64')}\n`;
  };
  const fakeNote = await signed(cp.size + 1);
  let old = cp.size;
  let bad = await invokeWitness(session, out.witness.functionName, lib.addCheckpointRequest(old, [randomBytes(32)], fakeNote));
  const held = /^(\d+)\n?$/.exec(bad.body.trim());
  if (bad.status === 409 && held && Number(held[1]) !== old) {
    old = Number(held[1]);
    bad = await invokeWitness(session, out.witness.functionName, lib.addCheckpointRequest(old, old === 0 ? [] : [randomBytes(32)], fakeNote));
  }
  const failed: string[] = [];
  if (!(bad.status >= 400 && bad.status < 500 && bad.status !== 403 && bad.status !== 409)) failed.push(`answered ${bad.status || bad.error} to a log-signed checkpoint of size ${cp.size + 1} with a bad consistency proof from size ${old} (expected 422)`);
  // Then requests a witness that checks nothing would cosign: none may get a 200 (a cosignature).
  const never: [string, number, string][] = [
    [`size ${cp.size + 1}, random root, from size ${cp.size} with no proof`, cp.size, await signed(cp.size + 1)],
    [`size ${cp.size} with another root (a fork), from size ${cp.size}`, cp.size, await signed(cp.size)],
    [`size ${cp.size + 1}, random root, claiming it already holds size ${cp.size + 1}`, cp.size + 1, await signed(cp.size + 1)],
  ];
  for (const [what, from, n] of never) {
    const r = await invokeWitness(session, out.witness.functionName, lib.addCheckpointRequest(from, [], n));
    if (r.status === 200) failed.push(`cosigned a log-signed checkpoint of ${what}`);
  }
  const refused = failed.length === 0;
  probes.push({ name: 'refuses an inconsistent checkpoint', status: bad.status, ok: refused, detail: refused ? `refused a bad consistency proof (${bad.status}) and ${never.length} more inconsistent checkpoints (no proof, a fork, a size it does not hold)` : list2(failed) });
  if (!cosigned) t.problems.push(`the witness did not cosign the ledger's current checkpoint with the key ${out.witness.vkey}`);
  if (!refused) t.problems.push(`the witness ${list2(failed)}`);
  return cosigned && refused;
}

const list2 = (xs: string[]) => xs.slice(0, 2).join('; ') + (xs.length > 2 ? ` and ${xs.length - 2} more` : '');

/** Keeps the ledger's current checkpoint when it verifies with the pinned log key and is cosigned by a pinned witness. */
export async function recordWitnessed(session: LabSession, t?: PinnedTrust): Promise<string | undefined> {
  const trust = t ?? await pinnedTrust(session);
  if (!trust.trust.logVkeys.length || !trust.trust.witnessVkeys.length) return undefined;
  const lib = await ledgerLib();
  const note = (await ledgerStore(session, trust).get('checkpoint'))?.toString('utf8');
  if (!note) return undefined;
  try {
    const opened = lib.openNote(note, [...trust.trust.logVkeys, ...trust.trust.witnessVkeys].map((v) => lib.verifierFromVkey(v)));
    const byLog = opened.verified.some((v) => v.type === 0x02 || v.type === 0x01);
    const byWitness = opened.verified.some((v) => v.type === 0x04);
    if (!byLog || !byWitness) return undefined;
  } catch {
    return undefined;
  }
  const list = observed.get(session) ?? [];
  if (list[list.length - 1] !== note) list.push(note);
  observed.set(session, list);
  return note;
}

export function ledgerStore(session: LabSession, t: PinnedTrust): LedgerStoreLike {
  return new (ledgerLibSync().S3Store)({ client: graderS3(session), bucket: t.ledger.bucket, ...(t.ledger.prefix ? { prefix: t.ledger.prefix } : {}) });
}

/** The app's audit events still in its log group (what an auditor has left). */
export async function appEvents(session: LabSession, logGroup: string): Promise<{ id: string; logGroup: string; logStream: string; time: string; message: string }[]> {
  const logs = session.client(CloudWatchLogsClient);
  const events: FilteredLogEvent[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const r = await logs.send(new FilterLogEventsCommand({ logGroupName: logGroup, ...(nextToken ? { nextToken } : {}) }));
      events.push(...(r.events ?? []));
      nextToken = r.nextToken;
    } while (nextToken);
  } catch (e) {
    if ((e as Error).name === 'ResourceNotFoundException') return [];
    throw e;
  }
  // The app's own id (in its JSON message) is what ledger entries carry as source.id: CloudWatch Logs'
  // event ids differ between a subscription delivery and FilterLogEvents.
  const idOf = (e: FilteredLogEvent): string => {
    try {
      const m = JSON.parse(e.message ?? '') as { id?: unknown };
      if (typeof m.id === 'string' && m.id) return m.id;
    } catch { /* not the app's JSON: keep the log event's id */ }
    return `cwl:${e.eventId}`;
  };
  return events.map((e) => ({ id: idOf(e), logGroup, logStream: e.logStreamName!, time: new Date(e.timestamp!).toISOString(), message: e.message! }));
}

/** The grader's audit of the student's ledger with the pinned trust and the surviving evidence. */
export async function gradeAudit(session: LabSession): Promise<AuditReport> {
  const t = await pinnedTrust(session);
  const lib = await ledgerLib();
  const s3 = graderS3(session);
  const env = ledgerEnv(session);
  return lib.audit(ledgerStore(session, t), t.trust, {
    witnessed: witnessedCheckpoints(session),
    ...(t.anchors ? { anchors: new lib.S3Store({ client: s3, bucket: t.anchors.bucket, ...(t.anchors.prefix ? { prefix: t.anchors.prefix } : {}) }) } : {}),
    trail: { store: new lib.S3Store({ client: s3, bucket: t.trail.bucket, ...(t.trail.prefix ? { prefix: t.trail.prefix } : {}) }) },
    appEvents: await appEvents(session, t.appLogGroup),
    mustLog: (kind, event) => kind === 'app' || isDataEventOn(event, env.company.dataBucket),
  });
}

/** An S3 data event (object-level) on the company's data bucket: what the ledger must hold. */
export function isDataEventOn(event: Record<string, unknown>, bucket: string): boolean {
  if (event['eventSource'] !== 's3.amazonaws.com' || event['managementEvent'] === true) return false;
  const params = event['requestParameters'] as Record<string, unknown> | undefined;
  return params?.['bucketName'] === bucket;
}

const normPrefix = (p?: string) => (p ? (p.endsWith('/') ? p : `${p}/`) : '');

