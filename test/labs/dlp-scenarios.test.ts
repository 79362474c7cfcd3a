// Lab dlp: the six attacks (scenarios/dlp-*.ts) against the account as provisioned, where every one gets
// through unseen, and against controls this test builds as the account root (Block Public Access, ACLs
// off on the legacy bucket, a perimeter on the analysts, a network perimeter on customer data, a Macie
// scheduled job and a quarantine responder: Macie finding → EventBridge → Lambda), where every one is
// blocked and the three drops are found. Reverting leaves the account as it was.
import { describe, expect, it } from 'vitest';
import { zipSync, strToU8 } from 'fflate';
import { IAMClient, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  S3Client, DeleteObjectCommand, DeleteBucketPolicyCommand, PutObjectTaggingCommand, GetObjectAclCommand, GetBucketPolicyCommand, GetPublicAccessBlockCommand, ListObjectsV2Command, PutBucketOwnershipControlsCommand, PutBucketPolicyCommand, PutPublicAccessBlockCommand,
} from '@aws-sdk/client-s3';
import { S3ControlClient, GetPublicAccessBlockCommand as GetAccountBlockCommand, PutPublicAccessBlockCommand as PutAccountBlockCommand } from '@aws-sdk/client-s3-control';
import { Macie2Client, EnableMacieCommand, CreateClassificationJobCommand } from '@aws-sdk/client-macie2';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand, DisableRuleCommand } from '@aws-sdk/client-eventbridge';
import { LambdaClient, CreateFunctionCommand, AddPermissionCommand } from '@aws-sdk/client-lambda';
import { LabSession } from '../../src/engine/session.ts';
import type { Scenario, ScenarioResult } from '../../src/engine/types.ts';
import { provisionDlp, type DlpHidden } from '../../labs/dlp/provision.ts';
import { dlpEnv, type DlpLabEnv } from '../../labs/dlp/company.ts';
import { lab } from '../../labs/dlp/lab.ts';
import { cardCopyOutsideScenario } from '../../scenarios/dlp-card-copy-outside.ts';
import { objectMadePublicScenario } from '../../scenarios/dlp-object-made-public.ts';
import { presignedUrlOutsideScenario } from '../../scenarios/dlp-presigned-url-outside.ts';
import { stagingDropScenario } from '../../scenarios/dlp-staging-drop.ts';
import { piiInLogScenario } from '../../scenarios/dlp-pii-in-log.ts';
import { renamedCompressedScenario } from '../../scenarios/dlp-renamed-compressed.ts';
import { runProbe } from '../../scenarios/lib/dlp.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();

const SCENARIOS: Scenario[] = [cardCopyOutsideScenario, objectMadePublicScenario, presignedUrlOutsideScenario, stagingDropScenario, piiInLogScenario, renamedCompressedScenario];
const DROPS = new Set(['dlp-staging-drop', 'dlp-pii-in-log', 'dlp-renamed-compressed']);
const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

async function provision(seed: string) {
  const session = new LabSession(cloud(), cloud().createAccount(), seed);
  session.env = await provisionDlp(session);
  return { session, env: dlpEnv(session.env), hidden: session.hidden['dlp'] as DlpHidden };
}

/** The quarantine responder: moves what a Macie finding names in staging or support-logs into the quarantine bucket. */
const RESPONDER = `
import { S3Client, GetObjectCommand, PutObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
const s3 = new S3Client({});
const WATCHED = process.env.WATCHED_BUCKETS.split(',');
export const handler = async (event) => {
  const bucket = event.detail?.resourcesAffected?.s3Bucket?.name;
  const key = event.detail?.resourcesAffected?.s3Object?.key;
  if (!bucket || !key || !WATCHED.includes(bucket)) return { skipped: bucket };
  const obj = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  await s3.send(new PutObjectCommand({ Bucket: process.env.QUARANTINE_BUCKET, Key: bucket + '/' + key, Body: await obj.Body.transformToByteArray(), ContentType: obj.ContentType }));
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  return { moved: bucket + '/' + key };
};
`;

/** The controls a good solution builds, as the account root. */
async function buildControls(session: LabSession, env: DlpLabEnv): Promise<void> {
  const account = env.accountId;
  const s3 = session.client(S3Client);
  const all = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
  await session.client(S3ControlClient).send(new PutAccountBlockCommand({ AccountId: account, PublicAccessBlockConfiguration: all }));
  await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: env.legacyAclBucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
  await s3.send(new PutPublicAccessBlockCommand({ Bucket: env.legacyAclBucket, PublicAccessBlockConfiguration: all }));
  const iam = session.client(IAMClient);
  await iam.send(new PutRolePolicyCommand({
    RoleName: env.analysts.roleName, PolicyName: 'data-perimeter',
    PolicyDocument: doc([
      { Sid: 'CompanyBucketsOnly', Effect: 'Deny', Action: ['s3:PutObject', 's3:PutObjectAcl', 's3:PutObjectTagging', 's3:DeleteObject', 's3:RestoreObject'], Resource: '*', Condition: { StringNotEquals: { 'aws:ResourceAccount': account } } },
      { Sid: 'NoPublicAccess', Effect: 'Deny', Action: ['s3:PutBucketPolicy', 's3:DeleteBucketPolicy', 's3:PutBucketAcl', 's3:PutObjectAcl', 's3:PutBucketPublicAccessBlock', 's3:PutAccountPublicAccessBlock', 's3:PutBucketOwnershipControls'], Resource: '*' },
    ]),
  }));
  const cd = env.buckets.customerData;
  await s3.send(new PutBucketPolicyCommand({
    Bucket: cd,
    Policy: doc([{
      Sid: 'OfficeOrVpcOnly', Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${cd}/*`,
      Condition: {
        StringNotEquals: { 'aws:SourceVpce': env.network.s3EndpointId },
        NotIpAddress: { 'aws:SourceIp': env.network.officeCidr },
        ArnNotEquals: { 'aws:PrincipalArn': `arn:aws:iam::${account}:role/aws-service-role/macie.amazonaws.com/AWSServiceRoleForAmazonMacie` },
      },
    }]),
  }));

  // Macie: a daily job over every bucket but quarantine, with its first run now.
  const macie = session.client(Macie2Client);
  await macie.send(new EnableMacieCommand({ findingPublishingFrequency: 'FIFTEEN_MINUTES' }));
  await macie.send(new CreateClassificationJobCommand({
    clientToken: 'daily', name: 'daily-pii', jobType: 'SCHEDULED', scheduleFrequency: { dailySchedule: {} }, initialRun: true, managedDataIdentifierSelector: 'RECOMMENDED',
    s3JobDefinition: { bucketDefinitions: [{ accountId: account, buckets: Object.entries(env.buckets).filter(([r]) => r !== 'quarantine').map(([, b]) => b) }] },
  }));

  // The responder.
  await iam.send(new CreateRoleCommand({ RoleName: 'quarantine-responder', AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]) }));
  await iam.send(new PutRolePolicyCommand({
    RoleName: 'quarantine-responder', PolicyName: 'move',
    PolicyDocument: doc([{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: [env.buckets.staging, env.buckets.supportLogs, env.buckets.quarantine].map((b) => `arn:aws:s3:::${b}/*`) }]),
  }));
  const lambda = session.client(LambdaClient);
  const fn = await lambda.send(new CreateFunctionCommand({
    FunctionName: 'quarantine', Runtime: 'nodejs20.x', Handler: 'index.handler', Timeout: 30, Role: `arn:aws:iam::${account}:role/quarantine-responder`,
    Code: { ZipFile: zipSync({ 'index.mjs': [strToU8(RESPONDER), { mtime: new Date('1980-01-01T00:00:00Z') }] }) },
    Environment: { Variables: { QUARANTINE_BUCKET: env.buckets.quarantine, WATCHED_BUCKETS: `${env.buckets.staging},${env.buckets.supportLogs}` } },
  }));
  const events = session.client(EventBridgeClient);
  const rule = await events.send(new PutRuleCommand({ Name: 'macie-sensitive-data', EventPattern: JSON.stringify({ source: ['aws.macie'], 'detail-type': ['Macie Finding'], detail: { type: [{ prefix: 'SensitiveData:' }] } }) }));
  await events.send(new PutTargetsCommand({ Rule: 'macie-sensitive-data', Targets: [{ Id: 'quarantine', Arn: fn.FunctionArn! }] }));
  await lambda.send(new AddPermissionCommand({ FunctionName: 'quarantine', StatementId: 'macie', Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com', SourceArn: rule.RuleArn! }));
  // The job's first run (and the responder on what it finds in support-logs).
  await session.gateway.service('macie2').runDue();
  await session.gateway.flush();
  await session.gateway.service('lambda').settle();
}

/** What the attacks may change, read as the account root (and the outside bucket, as its owner). */
async function snapshot(session: LabSession, env: DlpLabEnv, hidden: DlpHidden) {
  const s3 = session.client(S3Client);
  const keys = async (client: S3Client, Bucket: string) => ((await client.send(new ListObjectsV2Command({ Bucket }))).Contents ?? []).map((c) => c.Key!).sort();
  const block = (p: Promise<{ PublicAccessBlockConfiguration?: unknown }>) => p.then((r) => r.PublicAccessBlockConfiguration, (e: Error) => e.name);
  const logKey = env.objects.supportLogs[0]!;
  return {
    account: await block(session.client(S3ControlClient).send(new GetAccountBlockCommand({ AccountId: env.accountId }))),
    staging: await block(s3.send(new GetPublicAccessBlockCommand({ Bucket: env.buckets.staging }))),
    logs: await block(s3.send(new GetPublicAccessBlockCommand({ Bucket: env.buckets.supportLogs }))),
    stagingPolicy: await s3.send(new GetBucketPolicyCommand({ Bucket: env.buckets.staging })).then((r) => r.Policy, (e: Error) => e.name),
    logAcl: await s3.send(new GetObjectAclCommand({ Bucket: env.buckets.supportLogs, Key: logKey })).then((r) => r.Grants, (e: Error) => e.name),
    stagingKeys: await keys(s3, env.buckets.staging),
    logKeys: await keys(s3, env.buckets.supportLogs),
    outsideKeys: await keys(session.client(S3Client, { credentials: hidden.outside }), hidden.outside.dropBucket),
  };
}

const outcome = (r: ScenarioResult) => ({ blocked: r.blocked, detected: r.detected });
const stepOutcomes = (r: ScenarioResult) => r.steps.map((s) => [s.description.replace(/[a-z2-7]{10}/g, '<tag>'), s.allowed, s.errorCode ?? null]);

describe('lab dlp: the attacks', () => {
  it('are the lab\'s attacks, with tasks of the lab and MITRE techniques', () => {
    expect(lab.scenarios.map((s) => s.id)).toEqual(SCENARIOS.map((s) => s.id));
    const tasks = new Set(lab.tasks.map((t) => t.id));
    for (const s of SCENARIOS) {
      expect(tasks.has(s.tasks!.blocked!), s.id).toBe(true);
      if (DROPS.has(s.id)) expect(s.tasks!.detected).toBe('job');
      for (const t of s.techniques) expect(t).toMatch(/^T\d{4}(\.\d{3})?$/);
    }
  });

  it('on the account as provisioned every attack gets through unseen; reverting leaves the account as it was', async () => {
    const { session, env, hidden } = await provision('dlp-attacks-open');
    const before = await snapshot(session, env, hidden);
    for (const s of SCENARIOS) {
      const r = await runProbe(session, s);
      expect(outcome(r), `${s.id}: ${r.feedback}`).toEqual({ blocked: false, detected: false });
      expect(r.steps.length, s.id).toBeGreaterThan(0);
      expect(r.steps.some((st) => st.allowed), s.id).toBe(true);
      expect(await snapshot(session, env, hidden), `after ${s.id}`).toEqual(before);
    }
  }, 90_000);

  it('revert restores what the public attack changed: run twice, the same outcome; Block Public Access of the account and the buckets back', async () => {
    const { session, env, hidden } = await provision('dlp-attacks-revert');
    // An account-level Block Public Access the insider may still delete (no perimeter on the analysts).
    const all = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
    await session.client(S3ControlClient).send(new PutAccountBlockCommand({ AccountId: env.accountId, PublicAccessBlockConfiguration: all }));
    const before = await snapshot(session, env, hidden);
    expect(before.account).toEqual(all);
    expect(before.staging).toEqual(all);
    const first = await runProbe(session, objectMadePublicScenario);
    expect(await snapshot(session, env, hidden)).toEqual(before);
    const second = await runProbe(session, objectMadePublicScenario);
    expect(await snapshot(session, env, hidden)).toEqual(before);
    expect(outcome(first)).toEqual({ blocked: false, detected: false });
    expect(stepOutcomes(second)).toEqual(stepOutcomes(first));
    // The insider deleted both settings and opened both objects.
    expect(first.steps.filter((s) => /Block Public Access/.test(s.description)).every((s) => s.allowed)).toBe(true);
    expect(first.steps.slice(-2).map((s) => s.allowed)).toEqual([true, true]);
  }, 60_000);

  it('with the controls built, every attack is blocked and the three drops are found by Macie', async () => {
    const { session, env, hidden } = await provision('dlp-attacks-closed');
    await buildControls(session, env);
    const before = await snapshot(session, env, hidden);
    const results: Record<string, ScenarioResult> = {};
    for (const s of SCENARIOS) {
      const start = session.now();
      const r = await runProbe(session, s);
      results[s.id] = r;
      expect(r.blocked, `${s.id}: ${r.feedback}`).toBe(true);
      expect(r.detected, `${s.id}: ${r.feedback}`).toBe(DROPS.has(s.id));
      if (DROPS.has(s.id)) {
        // The clock reached the deadline once, and a second observe does not move it again.
        expect(session.now() - start).toBeGreaterThanOrEqual(env.quarantineDeadlineMs);
        expect(r.timeToDetectMs).toBeLessThanOrEqual(env.quarantineDeadlineMs);
      }
      expect(await snapshot(session, env, hidden), `after ${s.id}`).toEqual(before);
    }
    // How they were blocked: refused calls for the prevention attacks, the responder for the drops.
    expect(results['dlp-card-copy-outside']!.steps.slice(1).map((s) => s.errorCode)).toEqual(['AccessDenied', 'AccessDenied']);
    expect(results['dlp-presigned-url-outside']!.steps[0]!.errorCode).toBe('AccessDenied');
    for (const id of DROPS) expect(results[id]!.feedback, id).toMatch(/moved to s3:\/\/contoso-quarantine-/);
    expect(results['dlp-staging-drop']!.evidence.join('\n')).toContain('ok: the harmless file is still in');
    const quarantined = ((await session.client(S3Client).send(new ListObjectsV2Command({ Bucket: env.buckets.quarantine }))).Contents ?? []).map((c) => c.Key!);
    expect(quarantined.filter((k) => k.startsWith(`${env.buckets.staging}/`)).length).toBe(4); // card extract + the three disguised drops

    // The responder's rule disabled (the mutation grader's responder-off): found, no longer blocked; the drop is cleaned up.
    await session.client(EventBridgeClient).send(new DisableRuleCommand({ Name: 'macie-sensitive-data' }));
    const off = await runProbe(session, stagingDropScenario);
    expect(outcome(off), off.feedback).toEqual({ blocked: false, detected: true });
    expect(off.feedback).toMatch(/still in s3:\/\/contoso-staging-.* and readable by the insider/);
    expect(await snapshot(session, env, hidden)).toEqual(before);
  }, 150_000);

  it('a responder that empties staging blocks nothing in the staging attack; observing again does not move the clock', async () => {
    const { session, env } = await provision('dlp-attacks-wipe');
    const state = await stagingDropScenario.prepare!(session);
    const steps = await stagingDropScenario.inject(session, state);
    // Someone deletes everything in staging (a lifecycle rule, a careless script): both files gone, no responder.
    const s3 = session.client(S3Client);
    for (const k of ((await s3.send(new ListObjectsV2Command({ Bucket: env.buckets.staging }))).Contents ?? []).map((c) => c.Key!)) await s3.send(new DeleteObjectCommand({ Bucket: env.buckets.staging, Key: k }));
    const r = await stagingDropScenario.observe(session, steps, state);
    expect(r.blocked, r.feedback).toBe(false);
    expect(r.feedback).toMatch(/not in the quarantine bucket and no Lambda function acted on it/);
    expect(r.feedback).toMatch(/harmless file .* gone or unreadable/);
    const at = session.now();
    await stagingDropScenario.observe(session, steps, state);
    expect(session.now() - at).toBeLessThan(env.quarantineDeadlineMs);
    await stagingDropScenario.revert!(session, state);
  }, 60_000);

  it('a drop tagged in place and refused to the insider, with no Macie finding for it, is not out of circulation (quarantine follows findings); the untagged harmless file stays readable', async () => {
    const { session, env } = await provision('dlp-attacks-tag');
    const state = await stagingDropScenario.prepare!(session);
    const steps = await stagingDropScenario.inject(session, state);
    const s3 = session.client(S3Client);
    const card = (state as { drops: { key: string }[] }).drops[0]!.key;
    await s3.send(new PutObjectTaggingCommand({ Bucket: env.buckets.staging, Key: card, Tagging: { TagSet: [{ Key: 'quarantine', Value: 'true' }] } }));
    await s3.send(new PutBucketPolicyCommand({
      Bucket: env.buckets.staging,
      Policy: doc([{ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${env.buckets.staging}/*`, Condition: { StringEquals: { 's3:ExistingObjectTag/quarantine': 'true' } } }]),
    }));
    const r = await stagingDropScenario.observe(session, steps, state);
    // Tagged and refused counts as out of circulation only after Macie found it: without Macie here, it does not.
    expect(outcome(r), r.feedback).toEqual({ blocked: false, detected: false });
    expect(r.feedback).toMatch(/tagged \(quarantine=true\) and refused to the insider \(AccessDenied\) — but Macie has no finding for it/);
    await stagingDropScenario.revert!(session, state);
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: env.buckets.staging }));
    expect((await s3.send(new ListObjectsV2Command({ Bucket: env.buckets.staging }))).KeyCount).toBe(0);
  }, 60_000);
});
