// Lab advanced-ledger: the eight attacks (scenarios/advanced-ledger-*.ts) on the real lab cloud, against
// ledger setups this test builds with the ledger library directly (not the lab's reference solution):
// - strong: checkpoints signed by a KMS key whose policy lets only the ledger role sign and no one change
//   the policy or delete the key, a witness Lambda in the witness account (seclab/kit/ledger's Witness,
//   its state in an S3 bucket of that account), cosigned checkpoints anchored in a COMPLIANCE Object Lock
//   bucket, and the ledger bucket itself under COMPLIANCE Object Lock. Every attack is detected with the
//   right kind; deletion, the key attack and the anchor attack are blocked.
// - no witness, no anchors (signed checkpoints only): truncation and the fork re-signed with the genuine
//   key are not detected — a valid, consistent, smaller or other log is all there is to see.
// - no Object Lock anywhere, and a key policy that delegates to IAM (so AdministratorAccess may sign):
//   deletion, the key attack and the anchor attack are not blocked.
// - the starter (no feed): nothing to hide, nothing credited, and the feedback says why.
// The feed here is grader-side code on the lab clock (a tick listener): after each tick it appends the
// data events of the customer-record bucket that CloudTrail recorded, signs with KMS as the ledger role,
// asks the witness Lambda for a cosignature and writes the anchor — what the student's feed Lambda does.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  S3Client, CreateBucketCommand, PutBucketVersioningCommand, PutObjectLockConfigurationCommand, PutObjectCommand, PutBucketPolicyCommand, GetBucketPolicyCommand,
} from '@aws-sdk/client-s3';
import { IAMClient, CreateRoleCommand, PutRolePolicyCommand, CreateUserCommand, PutUserPolicyCommand, CreateAccessKeyCommand, ListUsersCommand } from '@aws-sdk/client-iam';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import { KMSClient, CreateKeyCommand } from '@aws-sdk/client-kms';
import { LambdaClient, CreateFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import { zipDir } from 'seclab/kit';
import { LabSession } from '../../src/engine/session.ts';
import type { Scenario, ScenarioResult } from '../../src/engine/types.ts';
import type { AwsCredentials } from '../../src/cloud/labcloud.ts';
import { provisionLedger } from '../../labs/advanced-ledger/provision.ts';
import { ledgerEnv, ledgerHidden, type LedgerApplyOutput } from '../../labs/advanced-ledger/env.ts';
import { appMinute } from '../../labs/advanced-ledger/company.ts';
import { isDataEventOn, pinnedTrust } from '../../labs/advanced-ledger/trust.ts';
import { S3Store } from '../../src/controls/ledger/store.ts';
import { Ledger } from '../../src/controls/ledger/log.ts';
import { encodeEntry } from '../../src/controls/ledger/entry.ts';
import { kmsSigner } from '../../src/controls/ledger/signers.ts';
import { addSignatures, generateEd25519Key } from '../../src/controls/ledger/note.ts';
import { addCheckpointRequest } from '../../src/controls/ledger/witness.ts';
import { cosignatureVkey } from '../../src/controls/ledger/cosignature.ts';
import { cloudTrailEntry } from '../../src/kit/ledger.ts';
import { ledgerAttacks } from '../../scenarios/lib/ledger.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();

interface Setup {
  witness: boolean;
  anchors: boolean;
  /** Object Lock default retention on the ledger bucket and on the anchor bucket. */
  lock: boolean;
  /**
   * strict: only the ledger role signs, no one changes the policy; iam: the default policy (root kms:*);
   * deny-ops-admin: kms:* for the account but Sign/PutKeyPolicy/ScheduleKeyDeletion denied to ops-admin by name.
   */
  keyPolicy: 'strict' | 'iam' | 'deny-ops-admin';
  /** A witness that keeps no state: it cosigns any checkpoint the log key signed (review finding 2). */
  statelessWitness?: boolean;
  /**
   * The ledger bucket refuses writes, deletions and policy changes to everyone but the ledger role, and
   * ops-admin may not touch IAM (so it cannot take over the ledger role): tampering is prevented (finding 9).
   */
  guard?: boolean;
  /** Bucket policies on the ledger and anchor buckets refusing version deletion (an administrator can delete them). */
  denyPolicies?: boolean;
}

const doc = (Statement: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement });

const WITNESS_CODE = `import { S3Client } from '@aws-sdk/client-s3';
import { Witness, S3Store, witnessHandler } from 'seclab/kit/ledger';
const witness = new Witness({
  skey: process.env.WITNESS_SKEY,
  store: new S3Store({ client: new S3Client({ forcePathStyle: true }), bucket: process.env.STATE_BUCKET }),
  logs: [{ origin: process.env.ORIGIN, vkeys: [process.env.LOG_VKEY] }],
  now: () => Date.now(),
});
export const handler = witnessHandler(witness);
`;

// Forgets everything between calls and answers every request as if it were the first: it cosigns any
// checkpoint the log key signed (a fork, a rollback).
const STATELESS_WITNESS_CODE = `import { Witness, MemoryStore, witnessHandler } from 'seclab/kit/ledger';
export const handler = async (event) => {
  const witness = new Witness({ skey: process.env.WITNESS_SKEY, store: new MemoryStore(), logs: [{ origin: process.env.ORIGIN, vkeys: [process.env.LOG_VKEY] }], now: () => Date.now() });
  const body = String(event && event.body);
  const at = body.indexOf('\\n\\n');
  return witnessHandler(witness)({ body: 'old 0\\n\\n' + body.slice(at + 2) });
};
`;

interface Built {
  session: LabSession;
  problems: string[];
  stop: () => void;
}

/** Provisions the lab and builds a ledger setup as the account root; the feed runs on every tick. */
async function build(seed: string, setup: Setup | undefined): Promise<Built> {
  const session = new LabSession(cloud(), cloud().createAccount(), seed);
  session.env = await provisionLedger(session);
  const env = ledgerEnv(session);
  const problems: string[] = [];
  if (!setup) return { session, problems, stop: () => undefined };
  const account = env.accountId;
  const iam = session.client(IAMClient);
  const s3 = session.client(S3Client);
  const roleArn = `arn:aws:iam::${account}:role/${env.names.ledgerRole}`;

  // Who runs the feed here (the Lambda service in the lab; a user of its own in this test).
  await iam.send(new CreateUserCommand({ UserName: 'feed-runner' }));
  await iam.send(new PutUserPolicyCommand({ UserName: 'feed-runner', PolicyName: 'assume', PolicyDocument: doc([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn }]) }));
  const runnerKey = (await iam.send(new CreateAccessKeyCommand({ UserName: 'feed-runner' }))).AccessKey!;
  const anchorBucket = `ledger-anchors-${account}`;
  await iam.send(new CreateRoleCommand({
    RoleName: env.names.ledgerRole,
    AssumeRolePolicyDocument: doc([
      { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:user/feed-runner` }, Action: 'sts:AssumeRole' },
    ]),
  }));
  await iam.send(new PutRolePolicyCommand({
    RoleName: env.names.ledgerRole, PolicyName: 'ledger',
    PolicyDocument: doc([
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:ListBucket'], Resource: [`arn:aws:s3:::${env.ledgerBucket}`, `arn:aws:s3:::${env.ledgerBucket}/*`, `arn:aws:s3:::${anchorBucket}`, `arn:aws:s3:::${anchorBucket}/*`] },
      { Effect: 'Allow', Action: ['kms:Sign', 'kms:GetPublicKey', 'kms:DescribeKey'], Resource: '*' },
      { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${env.witnessAccount.accountId}:role/${env.names.witnessInvokerRole}` },
    ]),
  }));

  // The signing key.
  const rootPrincipal = { AWS: `arn:aws:iam::${account}:root` };
  const policy = setup.keyPolicy === 'strict'
    ? doc([
      { Sid: 'read', Effect: 'Allow', Principal: rootPrincipal, Action: ['kms:DescribeKey', 'kms:GetPublicKey', 'kms:GetKeyPolicy', 'kms:ListResourceTags'], Resource: '*' },
      { Sid: 'sign', Effect: 'Allow', Principal: { AWS: roleArn }, Action: ['kms:Sign', 'kms:GetPublicKey', 'kms:DescribeKey'], Resource: '*' },
    ])
    : doc([
      { Sid: 'iam', Effect: 'Allow', Principal: rootPrincipal, Action: 'kms:*', Resource: '*' },
      { Sid: 'sign', Effect: 'Allow', Principal: { AWS: roleArn }, Action: ['kms:Sign', 'kms:GetPublicKey', 'kms:DescribeKey'], Resource: '*' },
      ...(setup.keyPolicy === 'deny-ops-admin'
        ? [{ Sid: 'not-ops-admin', Effect: 'Deny', Principal: { AWS: env.opsAdmin.arn }, Action: ['kms:Sign', 'kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion'], Resource: '*' }]
        : []),
    ]);
  const key = (await session.client(KMSClient).send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Policy: policy, BypassPolicyLockoutSafetyCheck: true }))).KeyMetadata!;

  if (setup.lock) {
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket: env.ledgerBucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } } } }));
  }
  if (setup.anchors) {
    await s3.send(new CreateBucketCommand({ Bucket: anchorBucket, ...(setup.lock ? { ObjectLockEnabledForBucket: true } : {}) }));
    if (setup.lock) await s3.send(new PutObjectLockConfigurationCommand({ Bucket: anchorBucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } } } }));
    else await s3.send(new PutBucketVersioningCommand({ Bucket: anchorBucket, VersioningConfiguration: { Status: 'Enabled' } }));
  }

  const denyPolicy = (bucket: string) => doc([{ Sid: 'keep', Effect: 'Deny', Principal: '*', Action: 's3:DeleteObjectVersion', Resource: `arn:aws:s3:::${bucket}/*` }]);
  if (setup.guard) {
    await s3.send(new PutBucketPolicyCommand({
      Bucket: env.ledgerBucket,
      Policy: doc([{
        Sid: 'only-the-ledger', Effect: 'Deny', Principal: '*',
        Action: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy'],
        Resource: [`arn:aws:s3:::${env.ledgerBucket}`, `arn:aws:s3:::${env.ledgerBucket}/*`],
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': roleArn } },
      }]),
    }));
    await iam.send(new PutUserPolicyCommand({ UserName: env.opsAdmin.userName, PolicyName: 'no-iam', PolicyDocument: doc([{ Effect: 'Deny', Action: 'iam:*', Resource: '*' }]) }));
  }
  if (setup.denyPolicies) {
    await s3.send(new PutBucketPolicyCommand({ Bucket: env.ledgerBucket, Policy: denyPolicy(env.ledgerBucket) }));
    if (setup.anchors) await s3.send(new PutBucketPolicyCommand({ Bucket: anchorBucket, Policy: denyPolicy(anchorBucket) }));
  }

  // The witness, in the witness account.
  const wroot = ledgerHidden(session).witnessAccount;
  const witnessCreds: AwsCredentials = { accessKeyId: wroot.accessKeyId, secretAccessKey: wroot.secretAccessKey };
  const witnessKey = generateEd25519Key(`witness.northwind.example/${account}`);
  const logVkey = (await kmsSigner(session.client(KMSClient), key.Arn!, env.origin)).vkey;
  const dirs: string[] = [];
  if (setup.witness) {
    const w = env.witnessAccount.accountId;
    const wiam = session.client(IAMClient, { credentials: witnessCreds });
    const stateBucket = `witness-state-${w}`;
    await session.client(S3Client, { credentials: witnessCreds }).send(new CreateBucketCommand({ Bucket: stateBucket }));
    await wiam.send(new CreateRoleCommand({ RoleName: 'witness', AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]) }));
    await wiam.send(new PutRolePolicyCommand({ RoleName: 'witness', PolicyName: 'state', PolicyDocument: doc([{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:ListBucket'], Resource: [`arn:aws:s3:::${stateBucket}`, `arn:aws:s3:::${stateBucket}/*`] }]) }));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ledger-witness-'));
    dirs.push(dir);
    writeFileSync(path.join(dir, 'index.mjs'), setup.statelessWitness ? STATELESS_WITNESS_CODE : WITNESS_CODE);
    const fn = await session.client(LambdaClient, { credentials: witnessCreds }).send(new CreateFunctionCommand({
      FunctionName: env.names.witnessFunction, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: `arn:aws:iam::${w}:role/witness`,
      Timeout: 30, MemorySize: 256, Code: { ZipFile: zipDir(dir) },
      Environment: { Variables: { WITNESS_SKEY: witnessKey.skey, STATE_BUCKET: stateBucket, ORIGIN: env.origin, LOG_VKEY: logVkey } },
    }));
    // The role the ledger role assumes to ask for cosignatures (the lab's convention).
    await wiam.send(new CreateRoleCommand({ RoleName: env.names.witnessInvokerRole, AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: roleArn }, Action: 'sts:AssumeRole' }]) }));
    await wiam.send(new PutRolePolicyCommand({ RoleName: env.names.witnessInvokerRole, PolicyName: 'invoke', PolicyDocument: doc([{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: fn.FunctionArn! }]) }));
  }

  // The feed, on every tick of the lab clock.
  const runner = { accessKeyId: runnerKey.AccessKeyId!, secretAccessKey: runnerKey.SecretAccessKey! };
  // Only what happens from now on (provisioning's own writes came before the trail logged).
  let cursor = session.events().length;
  let witnessed = 0;
  let busy = false;
  const feed = async () => {
    if (busy) return;
    busy = true;
    try {
      const all = session.events();
      const fresh = all.slice(cursor).filter((r) => isDataEventOn(r as unknown as Record<string, unknown>, env.company.dataBucket));
      cursor = all.length;
      if (!fresh.length) return;
      const r = await session.client(STSClient, { credentials: runner }).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'ledger-feed' }));
      const role = { accessKeyId: r.Credentials!.AccessKeyId!, secretAccessKey: r.Credentials!.SecretAccessKey!, sessionToken: r.Credentials!.SessionToken! };
      const roleS3 = session.client(S3Client, { credentials: role });
      const store = new S3Store({ client: roleS3, bucket: env.ledgerBucket });
      const log = await Ledger.open(store, { origin: env.origin });
      await log.append(fresh.map((x) => encodeEntry(cloudTrailEntry(JSON.parse(JSON.stringify(x)) as Record<string, unknown>))));
      let note = await log.checkpoint([await kmsSigner(session.client(KMSClient, { credentials: role }), key.Arn!, env.origin)]);
      if (setup.witness) {
        const body = addCheckpointRequest(witnessed, witnessed ? await log.consistencyProof(witnessed) : [], note);
        const res = await session.client(LambdaClient, { credentials: witnessCreds }).send(new InvokeCommand({ FunctionName: env.names.witnessFunction, Payload: Buffer.from(JSON.stringify({ body })) }));
        const reply = JSON.parse(Buffer.from(res.Payload ?? []).toString('utf8') || '{}') as { statusCode?: number; body?: string };
        if (reply.statusCode !== 200) {
          problems.push(`witness answered ${reply.statusCode}: ${reply.body ?? Buffer.from(res.Payload ?? []).toString('utf8')}`);
        } else {
          note = addSignatures(note, reply.body!.split('\n').filter((l) => l.startsWith('— ')));
          witnessed = log.size;
          await store.put('checkpoint', Buffer.from(note));
        }
      }
      if (setup.anchors) await roleS3.send(new PutObjectCommand({ Bucket: anchorBucket, Key: `checkpoints/${String(log.size).padStart(12, '0')}`, Body: note }));
    } catch (e) {
      problems.push(`feed: ${(e as Error).message}`);
    } finally {
      busy = false;
    }
  };
  const off = session.gateway.clock.onTick(feed);

  const apply: LedgerApplyOutput = {
    origin: env.origin,
    ledger: { bucket: env.ledgerBucket },
    keyId: key.Arn!,
    logVkey,
    witness: { accountId: env.witnessAccount.accountId, functionName: env.names.witnessFunction, roleArn: `arn:aws:iam::${env.witnessAccount.accountId}:role/${env.names.witnessInvokerRole}`, vkey: cosignatureVkey(witnessKey.vkey) },
    anchor: { bucket: setup.anchors ? anchorBucket : `no-anchors-${account}` },
    feed: { functionName: env.names.feedFunction },
  };
  session.studentOutputs['apply'] = apply;
  return { session, problems, stop: () => { off(); for (const d of dirs) rmSync(d, { recursive: true, force: true }); } };
}

/** The attacks as the grader runs them: the clock held, aligned, prepare → inject → observe → revert, in order. */
async function attacks(b: Built, only?: string[]): Promise<Record<string, ScenarioResult>> {
  const { session } = b;
  const out: Record<string, ScenarioResult> = {};
  await cloud().gateway.clock.exclusive(async () => {
    // The quiet period: the app's minutes feed the ledger; then the grader pins the trust roots.
    for (let i = 0; i < 3; i++) await appMinute(session);
    await session.gateway.service('lambda').settle();
    await pinnedTrust(session);
    await session.alignClock();
    for (const sc of ledgerAttacks) if (!only || only.includes(sc.id)) out[sc.id] = await run(session, sc);
  });
  return out;
}

async function run(session: LabSession, sc: Scenario): Promise<ScenarioResult> {
  let state: unknown;
  let r: ScenarioResult;
  try {
    state = sc.prepare ? await sc.prepare(session) : undefined;
    const steps = await sc.inject(session, state);
    r = await sc.observe(session, steps, state);
  } catch (e) {
    r = { detected: false, blocked: false, steps: [], evidence: [], feedback: `the scenario could not run: ${(e as Error).stack}` };
  }
  await sc.revert?.(session, state);
  return r;
}

const show = (r: ScenarioResult) => `${r.feedback}\n${r.evidence.join('\n')}\n${r.steps.map((s) => `${s.allowed ? 'ALLOWED' : 'refused'} ${s.errorCode ?? ''} ${s.description}`).join('\n')}`;

describe('lab advanced-ledger: the attacks', () => {
  it('lists eight attacks worth 55 points, the anchor attack last', () => {
    expect(ledgerAttacks.map((s) => s.id)).toEqual([
      'ledger-edit-entry', 'ledger-delete-entries', 'ledger-reorder-entries', 'ledger-truncate', 'ledger-fork',
      'ledger-replace-key', 'ledger-cloudtrail-tampering', 'ledger-delete-anchors',
    ]);
    expect(ledgerAttacks.reduce((a, s) => a + s.points.blocked + (s.points.detected ?? 0), 0)).toBe(55);
    // Blocking is graded only where AWS can prevent the attack.
    expect(ledgerAttacks.filter((s) => s.points.blocked > 0).map((s) => s.id)).toEqual(['ledger-delete-entries', 'ledger-replace-key', 'ledger-delete-anchors']);
  });

  it('against a witnessed, anchored, Object Lock ledger signed by a locked-down KMS key: all detected, deletion and the key and anchor attacks blocked', async () => {
    const b = await build('ledger-scenarios-strong', { witness: true, anchors: true, lock: true, keyPolicy: 'strict' });
    try {
      const r = await attacks(b);
      expect(b.problems).toEqual([]);
      const trust = await pinnedTrust(b.session);
      expect(trust.trust.witnessVkeys.length, `${trust.problems.join('; ')} ${JSON.stringify(trust.witnessProbes)}`).toBe(1);
      for (const sc of ledgerAttacks) {
        const x = r[sc.id]!;
        expect.soft(x.detected, `${sc.id}: ${show(x)}`).toBe(true);
        expect.soft(x.evidence.length, sc.id).toBeGreaterThan(0);
        expect.soft(x.blocked, `${sc.id}: ${show(x)}`).toBe(sc.points.blocked > 0);
        expect.soft(x.steps.length, sc.id).toBeGreaterThan(0);
      }
      expect(r['ledger-edit-entry']!.feedback).toMatch(/detected: .*edited-entry at entry \d+/);
      expect(r['ledger-fork']!.feedback).toMatch(/fork/);
      expect(r['ledger-replace-key']!.feedback).toMatch(/blocked: the key policy refused every call on the ledger key .* on every route \(ops-admin; ops-backup-\d+ from 198\.51\.100\.\d+\)/);
      // ops-admin made a second administrator to try again; revert deleted it.
      expect(r['ledger-replace-key']!.steps.some((s) => /iam:CreateAccessKey for ops-backup-/.test(s.description) && s.allowed)).toBe(true);
      const users = (await b.session.client(IAMClient).send(new ListUsersCommand({}))).Users ?? [];
      expect(users.map((u) => u.UserName).filter((n) => n?.startsWith('ops-backup-'))).toEqual([]);
      // The genuine witness, asked through its invoker role by the attacker holding the ledger role, refused the fork and the rollback.
      for (const id of ['ledger-fork', 'ledger-truncate']) {
        const ask = r[id]!.steps.find((s) => /Invoke ledger-witness: the witness asked to cosign/.test(s.description));
        expect(ask, `${id}: ${show(r[id]!)}`).toBeDefined();
        expect(ask!.allowed, id).toBe(false);
        expect(r[id]!.feedback, id).not.toMatch(/witness cosigned/);
      }
      expect(r['ledger-delete-anchors']!.feedback).toMatch(/blocked: Object Lock kept all/);
    } finally {
      b.stop();
    }
  }, 900_000);

  it('with signed checkpoints only (no witness, no anchors, no Object Lock), the truncation and the fork go unnoticed; edits, deletions and a foreign key do not', async () => {
    // (With Object Lock on the ledger bucket the older checkpoint versions survive and give the truncation away.)
    const b = await build('ledger-scenarios-nowitness', { witness: false, anchors: false, lock: false, keyPolicy: 'strict' });
    try {
      const r = await attacks(b);
      expect(b.problems).toEqual([]);
      for (const id of ['ledger-truncate', 'ledger-fork']) {
        expect(r[id]!.detected, `${id}: ${show(r[id]!)}`).toBe(false);
        expect(r[id]!.feedback, id).toMatch(/not detected: .*witness/);
      }
      for (const id of ['ledger-edit-entry', 'ledger-delete-entries', 'ledger-reorder-entries', 'ledger-replace-key']) {
        expect(r[id]!.detected, `${id}: ${show(r[id]!)}`).toBe(true);
      }
      // The key policy still refuses ops-admin; a key of their own is unknown to the audit.
      expect(r['ledger-replace-key']!.blocked).toBe(true);
      expect(r['ledger-replace-key']!.feedback).toMatch(/unknown-key/);
      expect(r['ledger-delete-entries']!.blocked).toBe(false);
      // Nothing to attack without anchors.
      expect(r['ledger-delete-anchors']!.detected).toBe(false);
      expect(r['ledger-delete-anchors']!.blocked).toBe(false);
      expect(r['ledger-delete-anchors']!.feedback).toMatch(/no anchor bucket/);
    } finally {
      b.stop();
    }
  }, 900_000);

  it('with a witness and anchors but without Object Lock, with bucket policies an administrator can delete and a key policy that delegates to IAM, nothing is blocked (and the witness still sees the re-signed rewrite)', async () => {
    const b = await build('ledger-scenarios-unlocked', { witness: true, anchors: true, lock: false, keyPolicy: 'iam', denyPolicies: true });
    try {
      const r = await attacks(b);
      expect(b.problems).toEqual([]);
      for (const id of ['ledger-delete-entries', 'ledger-replace-key', 'ledger-delete-anchors']) {
        expect(r[id]!.blocked, `${id}: ${show(r[id]!)}`).toBe(false);
        expect(r[id]!.feedback, id).toMatch(/not blocked/);
      }
      expect(r['ledger-delete-entries']!.steps.some((s) => /version/.test(s.description) && s.allowed)).toBe(true);
      // The bucket policy refused, so the administrator deleted it, and revert put it back.
      for (const id of ['ledger-delete-entries', 'ledger-delete-anchors']) {
        expect(r[id]!.steps.some((s) => /DeleteBucketPolicy/.test(s.description) && s.allowed), id).toBe(true);
      }
      const env = ledgerEnv(b.session);
      expect((await b.session.client(S3Client).send(new GetBucketPolicyCommand({ Bucket: env.ledgerBucket }))).Policy).toMatch(/DeleteObjectVersion/);
      // The administrator signed the rewrite with the genuine key: only the witness shows it.
      expect(r['ledger-replace-key']!.steps.find((s) => /kms:Sign with the ledger key/.test(s.description))!.allowed).toBe(true);
      expect(r['ledger-replace-key']!.detected, show(r['ledger-replace-key']!)).toBe(true);
      expect(r['ledger-replace-key']!.feedback).toMatch(/fork/);
    } finally {
      b.stop();
    }
  }, 900_000);

  it('a key policy that denies only ops-admin by name does not block the key attack: a second administrator from outside the office signs; a stateless witness cosigns the fork and the rollback (findings 1, 2)', async () => {
    const b = await build('ledger-scenarios-hostile', { witness: true, statelessWitness: true, anchors: true, lock: true, keyPolicy: 'deny-ops-admin' });
    try {
      const r = await attacks(b, ['ledger-truncate', 'ledger-fork', 'ledger-replace-key']);
      expect(b.problems).toEqual([]);
      const key = r['ledger-replace-key']!;
      expect(key.blocked, show(key)).toBe(false);
      expect(key.feedback).toMatch(/not blocked: the key policy let .*ops-backup-\d+ from 198\.51\.100\.\d+ Sign/);
      // ops-admin by name was refused; the second administrator was not.
      expect(key.steps.find((s) => /^ops-admin: kms:Sign with the ledger key/.test(s.description))!.allowed).toBe(false);
      for (const id of ['ledger-truncate', 'ledger-fork']) {
        const x = r[id]!;
        expect(x.steps.some((s) => /Invoke ledger-witness: the witness asked to cosign/.test(s.description) && s.allowed), `${id}: ${show(x)}`).toBe(true);
        expect(x.feedback, id).toMatch(/the witness cosigned .* for the attacker/);
      }
    } finally {
      b.stop();
    }
  }, 900_000);

  it('when a bucket policy only root can lift and an IAM deny refuse every route, edit, reorder and truncation are blocked and credited as detected (finding 9)', async () => {
    const b = await build('ledger-scenarios-guarded', { witness: true, anchors: true, lock: true, keyPolicy: 'strict', guard: true });
    try {
      const ids = ['ledger-edit-entry', 'ledger-reorder-entries', 'ledger-truncate'];
      const r = await attacks(b, ids);
      expect(b.problems).toEqual([]);
      for (const id of ids) {
        const x = r[id]!;
        expect(x.blocked, `${id}: ${show(x)}`).toBe(true);
        expect(x.detected, `${id}: ${show(x)}`).toBe(true);
        expect(x.evidence[0], id).toBe('prevented: nothing was altered');
        expect(x.feedback, id).toMatch(/blocked: every route .* was refused/);
        // It did try the ledger role's trust policy.
        expect(x.steps.some((s) => /UpdateAssumeRolePolicy ledger/.test(s.description) && !s.allowed), `${id}: ${show(x)}`).toBe(true);
        expect(x.steps.every((s) => !s.allowed || /^Invoke|AssumeRole/.test(s.description)), `${id}: ${show(x)}`).toBe(true);
      }
    } finally {
      b.stop();
    }
  }, 900_000);

  it('against the starter (no feed) nothing is credited and the feedback says the ledger never logged the attacker', async () => {
    const b = await build('ledger-scenarios-starter', undefined);
    const r = await attacks(b);
    for (const sc of ledgerAttacks) {
      const x = r[sc.id]!;
      expect(x.detected, sc.id).toBe(false);
      expect(x.blocked, sc.id).toBe(false);
      expect(x.feedback, sc.id).toMatch(/did not log the attacker's .* within 15 minutes of lab time \(feed task\)/);
    }
  }, 900_000);
});
