// Lab advanced-ledger: the account as provisioned, on the real lab cloud. The app reads and updates
// customer records with its own key and writes its audit events; CloudTrail delivers the data events
// on the data bucket (and no others) to the versioned trail bucket and to its log group; ops-admin's key
// works and is an administrator's; the witness account is another account whose root credentials work.
import { describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { S3Client, GetObjectCommand, ListObjectsV2Command, GetBucketVersioningCommand } from '@aws-sdk/client-s3';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { STSClient, GetCallerIdentityCommand, AssumeRoleCommand } from '@aws-sdk/client-sts';
import { IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { LabSession } from '../../src/engine/session.ts';
import { closeWitnessSetup, provisionLedger } from '../../labs/advanced-ledger/provision.ts';
import { ledgerEnv, ledgerHidden, parseApplyOutput } from '../../labs/advanced-ledger/env.ts';
import { appMinute, appTally } from '../../labs/advanced-ledger/company.ts';
import { isDataEventOn } from '../../labs/advanced-ledger/trust.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();

describe('lab advanced-ledger: provisioning', () => {
  it('builds the company; the app works; CloudTrail delivers its data events to the bucket and the log group', async () => {
    const session = new LabSession(cloud(), cloud().createAccount(), 'ledger-provision');
    session.env = await provisionLedger(session);
    const env = ledgerEnv(session);
    const hidden = ledgerHidden(session);
    const s3 = session.client(S3Client);
    expect(hidden.records.length).toBe(24);
    for (const b of [env.ledgerBucket, env.trail.bucket, env.company.dataBucket]) {
      expect((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, b).toBe('Enabled');
    }
    expect((await s3.send(new ListObjectsV2Command({ Bucket: env.ledgerBucket }))).KeyCount ?? 0).toBe(0);

    await session.gateway.clock.exclusive(async () => {
      for (let i = 0; i < 3; i++) await appMinute(session);
    });
    const tally = appTally(session);
    expect(tally.failures).toEqual([]);
    expect(tally.events.length).toBe(9);

    // The trail's files: every S3 data event on the data bucket the app made is there.
    const keys = (await s3.send(new ListObjectsV2Command({ Bucket: env.trail.bucket, Prefix: `AWSLogs/${env.accountId}/CloudTrail/` }))).Contents?.map((c) => c.Key!) ?? [];
    expect(keys.length).toBeGreaterThan(0);
    const records: Record<string, unknown>[] = [];
    for (const k of keys) {
      const o = await s3.send(new GetObjectCommand({ Bucket: env.trail.bucket, Key: k }));
      records.push(...(JSON.parse(gunzipSync(Buffer.from(await o.Body!.transformToByteArray())).toString('utf8')) as { Records: Record<string, unknown>[] }).Records);
    }
    const data = records.filter((r) => isDataEventOn(r, env.company.dataBucket));
    // 9 GetObject + 3 PutObject by the app (the provisioning's PutObjects came before StartLogging).
    const byApp = data.filter((r) => String((r['userIdentity'] as { arn?: string }).arn).endsWith(`:user/${env.company.app.userName}`));
    expect(byApp.map((r) => r['eventName']).sort()).toEqual([...Array(9).fill('GetObject'), ...Array(3).fill('PutObject')].sort());
    // ... and in the trail's log group.
    const logs = session.client(CloudWatchLogsClient);
    const inGroup = (await logs.send(new FilterLogEventsCommand({ logGroupName: env.trail.logGroup }))).events ?? [];
    const groupIds = new Set(inGroup.map((e) => (JSON.parse(e.message!) as { eventID: string }).eventID));
    for (const r of byApp) expect(groupIds.has(r['eventID'] as string)).toBe(true);
    // The app's audit events, JSON with its own ids.
    const app = (await logs.send(new FilterLogEventsCommand({ logGroupName: env.company.app.logGroup }))).events ?? [];
    expect(app.map((e) => (JSON.parse(e.message!) as { id: string }).id)).toEqual(tally.events.map((e) => e.id));

    // ops-admin is an administrator; the witness account is another account.
    const admin = session.client(IAMClient, { credentials: { accessKeyId: hidden.opsAdmin.accessKeyId, secretAccessKey: hidden.opsAdmin.secretAccessKey } });
    expect((await admin.send(new ListUsersCommand({}))).Users?.map((u) => u.UserName)).toContain('ops-admin');
    const who = await session.client(STSClient, { credentials: { accessKeyId: hidden.witnessAccount.accessKeyId, secretAccessKey: hidden.witnessAccount.secretAccessKey } }).send(new GetCallerIdentityCommand({}));
    expect(who.Account).toBe(env.witnessAccount.accountId);
    expect(who.Account).not.toBe(env.accountId);
    // The way into the witness account: the deployer (a run-account user) assumes the deploy role —
    // until the grader closes it; then neither the deployer nor ops-admin gets in.
    const deployer = session.client(STSClient, { credentials: { accessKeyId: env.witnessAccount.deployer.accessKeyId, secretAccessKey: env.witnessAccount.deployer.secretAccessKey } });
    const assumed = await deployer.send(new AssumeRoleCommand({ RoleArn: env.witnessAccount.deployRoleArn, RoleSessionName: 't' }));
    expect(assumed.AssumedRoleUser?.Arn).toContain(`:${env.witnessAccount.accountId}:assumed-role/`);
    const adminSts = session.client(STSClient, { credentials: { accessKeyId: hidden.opsAdmin.accessKeyId, secretAccessKey: hidden.opsAdmin.secretAccessKey } });
    const refused = (p: Promise<unknown>) => p.then(() => 'allowed', (e: Error) => e.name);
    expect(await refused(adminSts.send(new AssumeRoleCommand({ RoleArn: env.witnessAccount.deployRoleArn, RoleSessionName: 'x' })))).toBe('AccessDenied');
    await closeWitnessSetup(session);
    expect(await refused(deployer.send(new AssumeRoleCommand({ RoleArn: env.witnessAccount.deployRoleArn, RoleSessionName: 't2' })))).not.toBe('allowed');
  }, 300_000);

  it('tells the student what apply() must return', () => {
    expect(() => parseApplyOutput(undefined)).toThrow(/apply\(\) must return .*returned nothing/);
    expect(() => parseApplyOutput({ origin: 'o', ledger: { bucket: 'b' }, keyId: 'k', witness: { accountId: '1' }, anchor: { bucket: 'a' }, feed: { functionName: 'f' } })).toThrow(/witness/);
    const ok = parseApplyOutput({ origin: 'o', ledger: { bucket: 'b', prefix: 'log/' }, keyId: 'k', witness: { accountId: '1', functionName: 'w', roleArn: 'r', vkey: 'v' }, anchor: { bucket: 'a' }, feed: { functionName: 'f' }, extra: 1 });
    expect(ok).toEqual({ origin: 'o', ledger: { bucket: 'b', prefix: 'log/' }, keyId: 'k', witness: { accountId: '1', functionName: 'w', roleArn: 'r', vkey: 'v' }, anchor: { bucket: 'a' }, feed: { functionName: 'f' } });
  });
});
