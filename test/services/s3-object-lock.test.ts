// S3 Object Lock through the real gateway and moto with the AWS SDK v3, as AWS documents it (S3 User
// Guide "Locking objects with Object Lock", "Managing Object Lock"; API reference). The audit ledger's
// checkpoint anchors rely on it. Each test names what moto 5.2.1 alone gets wrong (docs/s3-object-lock.md).
import { describe, expect, it } from 'vitest';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import {
  S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, DeleteObjectCommand, DeleteObjectsCommand, DeleteBucketCommand,
  GetObjectLockConfigurationCommand, PutObjectLockConfigurationCommand, GetBucketVersioningCommand, PutBucketVersioningCommand,
  GetObjectRetentionCommand, PutObjectRetentionCommand, GetObjectLegalHoldCommand, PutObjectLegalHoldCommand, ListObjectVersionsCommand,
  CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand, CopyObjectCommand, PutBucketPolicyCommand, DeleteBucketPolicyCommand,
} from '@aws-sdk/client-s3';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
type Creds = { accessKeyId: string; secretAccessKey: string };
const LOCKED = 'Access Denied because object protected by object lock.';
const DAY = 86_400_000;
let seq = 0;

function account() {
  const c = cloud();
  const root = c.createAccount();
  const rootCreds: Creds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
  const s3 = (credentials: Creds = rootCreds) => c.client(S3Client, { credentials });
  const iam = c.client(IAMClient, { credentials: rootCreds });
  const user = async (actions: string[], denied: string[] = []): Promise<Creds> => {
    const name = `u${++seq}`;
    await iam.send(new CreateUserCommand({ UserName: name }));
    const Statement = [{ Effect: 'Allow', Action: actions, Resource: '*' }, ...(denied.length ? [{ Effect: 'Deny', Action: denied, Resource: '*' }] : [])];
    await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement }) }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
    return { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
  };
  /** A new bucket with Object Lock enabled at creation. */
  const lockBucket = async (): Promise<string> => {
    const name = `anchors-${root.accountId}-${++seq}`;
    await s3().send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: true }));
    return name;
  };
  return { c, s3, user, lockBucket, id: root.accountId };
}

const now = () => cloud().gateway.clock.nowMs();

/** The error's name and message, or 'ok'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

describe('S3 Object Lock in the lab cloud', () => {
  it('a bucket created with Object Lock has versioning on, which cannot be suspended, and Object Lock cannot be turned off', async () => {
    const a = account();
    const b = await a.lockBucket();
    expect((await a.s3().send(new GetObjectLockConfigurationCommand({ Bucket: b }))).ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled' });
    expect((await a.s3().send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBe('Enabled');
    // moto lets versioning be suspended.
    expect(await outcome(a.s3().send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } })))).toBe(
      'InvalidBucketState: An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.');
    expect((await a.s3().send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBe('Enabled');
    // Only "Enabled" is a valid ObjectLockEnabled: a configuration without it does not turn Object Lock off.
    expect(await outcome(a.s3().send(new PutObjectLockConfigurationCommand({ Bucket: b, ObjectLockConfiguration: { Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } } })))).toMatch(/^MalformedXML/);
    expect((await a.s3().send(new GetObjectLockConfigurationCommand({ Bucket: b }))).ObjectLockConfiguration?.ObjectLockEnabled).toBe('Enabled');
  });

  it('Object Lock can be enabled on an existing versioned bucket that holds objects, not on an unversioned one', async () => {
    const a = account();
    const b = `existing-${a.id}-${++seq}`;
    await a.s3().send(new CreateBucketCommand({ Bucket: b }));
    expect(await outcome(a.s3().send(new GetObjectLockConfigurationCommand({ Bucket: b })))).toBe(
      'ObjectLockConfigurationNotFoundError: Object Lock configuration does not exist for this bucket');
    const cfg = { ObjectLockEnabled: 'Enabled' as const, Rule: { DefaultRetention: { Mode: 'COMPLIANCE' as const, Days: 1 } } };
    expect(await outcome(a.s3().send(new PutObjectLockConfigurationCommand({ Bucket: b, ObjectLockConfiguration: cfg })))).toBe(
      "InvalidBucketState: Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration");
    await a.s3().send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    const old = await a.s3().send(new PutObjectCommand({ Bucket: b, Key: 'before.txt', Body: 'old' }));
    // moto: "Bucket needs to be empty".
    await a.s3().send(new PutObjectLockConfigurationCommand({ Bucket: b, ObjectLockConfiguration: cfg }));
    expect((await a.s3().send(new GetObjectLockConfigurationCommand({ Bucket: b }))).ObjectLockConfiguration).toEqual(cfg);
    // The default applies to new versions only.
    expect(await outcome(a.s3().send(new GetObjectRetentionCommand({ Bucket: b, Key: 'before.txt', VersionId: old.VersionId })))).toMatch(/^NoSuchObjectLockConfiguration/);
    const put = await a.s3().send(new PutObjectCommand({ Bucket: b, Key: 'after.txt', Body: 'new' }));
    const r = (await a.s3().send(new GetObjectRetentionCommand({ Bucket: b, Key: 'after.txt', VersionId: put.VersionId }))).Retention!;
    expect(r.Mode).toBe('COMPLIANCE');
    expect(Math.abs(r.RetainUntilDate!.getTime() - (now() + DAY))).toBeLessThan(60_000);
    expect(await outcome(a.s3().send(new DeleteObjectCommand({ Bucket: b, Key: 'after.txt', VersionId: put.VersionId })))).toBe(`AccessDenied: ${LOCKED}`);
    expect(await outcome(a.s3().send(new DeleteObjectCommand({ Bucket: b, Key: 'before.txt', VersionId: old.VersionId })))).toBe('ok');
  });

  it('default retention counts from the lab clock, in Days or Years, and can be changed while the bucket holds objects', async () => {
    const a = account();
    const b = await a.lockBucket();
    await a.s3().send(new PutObjectLockConfigurationCommand({ Bucket: b, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 2 } } } }));
    // The lab clock runs ahead of the wall clock (moto's): a default from moto's clock would already have run out.
    await a.c.gateway.clock.advance(10 * DAY);
    const first = await a.s3().send(new PutObjectCommand({ Bucket: b, Key: 'a', Body: 'a' }));
    const r1 = (await a.s3().send(new GetObjectRetentionCommand({ Bucket: b, Key: 'a', VersionId: first.VersionId }))).Retention!;
    expect(r1.Mode).toBe('GOVERNANCE');
    expect(Math.abs(r1.RetainUntilDate!.getTime() - (now() + 2 * DAY))).toBeLessThan(60_000);
    // moto refuses to change the default once the bucket holds objects.
    await a.s3().send(new PutObjectLockConfigurationCommand({ Bucket: b, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Years: 1 } } } }));
    const second = await a.s3().send(new PutObjectCommand({ Bucket: b, Key: 'a', Body: 'b' }));
    const r2 = (await a.s3().send(new GetObjectRetentionCommand({ Bucket: b, Key: 'a', VersionId: second.VersionId }))).Retention!;
    const inAYear = new Date(now());
    inAYear.setUTCFullYear(inAYear.getUTCFullYear() + 1);
    expect(r2.Mode).toBe('COMPLIANCE');
    expect(Math.abs(r2.RetainUntilDate!.getTime() - inAYear.getTime())).toBeLessThan(60_000);
    // A copy is a new version: it gets the default too.
    const copy = await a.s3().send(new CopyObjectCommand({ Bucket: b, Key: 'copy', CopySource: `${b}/a` }));
    expect((await a.s3().send(new GetObjectRetentionCommand({ Bucket: b, Key: 'copy', VersionId: copy.VersionId }))).Retention?.Mode).toBe('COMPLIANCE');
    // Removing the default: new versions get no retention (moto would still apply its own).
    await a.s3().send(new PutObjectLockConfigurationCommand({ Bucket: b, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } }));
    const third = await a.s3().send(new PutObjectCommand({ Bucket: b, Key: 'a', Body: 'c' }));
    expect(await outcome(a.s3().send(new GetObjectRetentionCommand({ Bucket: b, Key: 'a', VersionId: third.VersionId })))).toBe(
      'NoSuchObjectLockConfiguration: The specified object does not have a ObjectLock configuration');
    // Both Days and Years, or a period that is not positive, are refused.
    expect(await outcome(a.s3().send(new PutObjectLockConfigurationCommand({ Bucket: b, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1, Years: 1 } } } })))).toMatch(/^MalformedXML/);
    expect(await outcome(a.s3().send(new PutObjectLockConfigurationCommand({ Bucket: b, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 0 } } } })))).toMatch(/^InvalidArgument/);
  });

  it('explicit retention on PutObject: a date in the future and a mode, both; the bucket must have Object Lock; permissions', async () => {
    const a = account();
    const b = await a.lockBucket();
    const until = new Date(now() + DAY);
    const put = await a.s3().send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until, ObjectLockLegalHoldStatus: 'OFF' }));
    // moto answers GetObjectRetention with XML the SDK cannot parse.
    const r = (await a.s3().send(new GetObjectRetentionCommand({ Bucket: b, Key: 'k', VersionId: put.VersionId }))).Retention!;
    expect(r).toEqual({ Mode: 'COMPLIANCE', RetainUntilDate: until });
    expect((await a.s3().send(new GetObjectLegalHoldCommand({ Bucket: b, Key: 'k' }))).LegalHold?.Status).toBe('OFF');
    // moto accepts these two.
    expect(await outcome(a.s3().send(new PutObjectCommand({ Bucket: b, Key: 'p', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: new Date(now() - 1000) })))).toBe(
      'InvalidArgument: The retain until date must be in the future!');
    expect(await outcome(a.s3().send(new PutObjectCommand({ Bucket: b, Key: 'p', Body: 'x', ObjectLockMode: 'COMPLIANCE' })))).toBe(
      'InvalidArgument: x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied');
    const plain = `plain-${a.id}-${++seq}`;
    await a.s3().send(new CreateBucketCommand({ Bucket: plain }));
    expect(await outcome(a.s3().send(new PutObjectCommand({ Bucket: plain, Key: 'p', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until })))).toBe(
      'InvalidRequest: Bucket is missing Object Lock Configuration');
    // Setting a retention on upload needs s3:PutObjectRetention, a legal hold s3:PutObjectLegalHold.
    const writer = await a.user(['s3:PutObject']);
    expect(await outcome(a.s3(writer).send(new PutObjectCommand({ Bucket: b, Key: 'w', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until })))).toBe('AccessDenied: Access Denied');
    expect(await outcome(a.s3(writer).send(new PutObjectCommand({ Bucket: b, Key: 'w', Body: 'x', ObjectLockLegalHoldStatus: 'ON' })))).toBe('AccessDenied: Access Denied');
    expect(await outcome(a.s3(writer).send(new PutObjectCommand({ Bucket: b, Key: 'w', Body: 'x' })))).toBe('ok');
    const locker = await a.user(['s3:PutObject', 's3:PutObjectRetention']);
    expect(await outcome(a.s3(locker).send(new PutObjectCommand({ Bucket: b, Key: 'w', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until })))).toBe('ok');
  });

  it('compliance mode: no one deletes a locked version, root included, bypass or not; a delete marker is allowed; the version survives overwrites', async () => {
    const a = account();
    const b = await a.lockBucket();
    const until = new Date(now() + DAY);
    const v1 = await a.s3().send(new PutObjectCommand({ Bucket: b, Key: 'checkpoint', Body: 'size 1', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until }));
    expect(await outcome(a.s3().send(new DeleteObjectCommand({ Bucket: b, Key: 'checkpoint', VersionId: v1.VersionId })))).toBe(`AccessDenied: ${LOCKED}`);
    expect(await outcome(a.s3().send(new DeleteObjectCommand({ Bucket: b, Key: 'checkpoint', VersionId: v1.VersionId, BypassGovernanceRetention: true })))).toBe(`AccessDenied: ${LOCKED}`);
    // Overwriting makes a new version; deleting without a version id only adds a delete marker.
    await a.s3().send(new PutObjectCommand({ Bucket: b, Key: 'checkpoint', Body: 'size 2 (forged)' }));
    const marker = await a.s3().send(new DeleteObjectCommand({ Bucket: b, Key: 'checkpoint' }));
    expect(marker.DeleteMarker).toBe(true);
    const got = await a.s3().send(new GetObjectCommand({ Bucket: b, Key: 'checkpoint', VersionId: v1.VersionId }));
    expect(await got.Body!.transformToString()).toBe('size 1');
    expect(got.ObjectLockMode).toBe('COMPLIANCE');
    // The bucket cannot be deleted while versions remain.
    expect(await outcome(a.s3().send(new DeleteBucketCommand({ Bucket: b })))).toMatch(/^BucketNotEmpty/);
    // Once the retention has run out (lab clock), the version can go; moto's wall clock would still refuse.
    await a.c.gateway.clock.advance(2 * DAY);
    expect(await outcome(a.s3().send(new DeleteObjectCommand({ Bucket: b, Key: 'checkpoint', VersionId: v1.VersionId })))).toBe('ok');
  });

  it('governance mode: bypass needs the header AND s3:BypassGovernanceRetention; s3:DeleteObjectVersion alone is not enough', async () => {
    const a = account();
    const b = await a.lockBucket();
    const put = (key: string) => a.s3().send(new PutObjectCommand({ Bucket: b, Key: key, Body: key, ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: new Date(now() + DAY) }));
    const deleter = await a.user(['s3:DeleteObject', 's3:DeleteObjectVersion']);
    const admin = await a.user(['s3:*']);
    const g1 = await put('g1');
    // moto lets anyone through with the header; AWS authorizes s3:BypassGovernanceRetention.
    expect(await outcome(a.s3(deleter).send(new DeleteObjectCommand({ Bucket: b, Key: 'g1', VersionId: g1.VersionId, BypassGovernanceRetention: true })))).toBe('AccessDenied: Access Denied');
    expect(await outcome(a.s3(deleter).send(new DeleteObjectCommand({ Bucket: b, Key: 'g1', VersionId: g1.VersionId })))).toBe(`AccessDenied: ${LOCKED}`);
    expect(await outcome(a.s3(admin).send(new DeleteObjectCommand({ Bucket: b, Key: 'g1', VersionId: g1.VersionId })))).toBe(`AccessDenied: ${LOCKED}`);
    expect(await outcome(a.s3(admin).send(new DeleteObjectCommand({ Bucket: b, Key: 'g1', VersionId: g1.VersionId, BypassGovernanceRetention: true })))).toBe('ok');
    const g2 = await put('g2');
    expect(await outcome(a.s3().send(new DeleteObjectCommand({ Bucket: b, Key: 'g2', VersionId: g2.VersionId, BypassGovernanceRetention: true })))).toBe('ok');
    // An explicit deny of the bypass wins over s3:*.
    const g3 = await put('g3');
    const denied = await a.user(['s3:*'], ['s3:BypassGovernanceRetention']);
    expect(await outcome(a.s3(denied).send(new DeleteObjectCommand({ Bucket: b, Key: 'g3', VersionId: g3.VersionId, BypassGovernanceRetention: true })))).toBe('AccessDenied: Access Denied');
    // The bypass is authorized with the whole request context: a bucket policy that denies it to every
    // IAM user of the account (aws:PrincipalArn) holds against an administrator.
    const admin2 = await a.user(['s3:*']);
    await a.s3().send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{
      Effect: 'Deny', Principal: '*', Action: 's3:BypassGovernanceRetention', Resource: `arn:aws:s3:::${b}/*`, Condition: { StringLike: { 'aws:PrincipalArn': `arn:aws:iam::${a.id}:user/*` } },
    }] }) }));
    expect(await outcome(a.s3(admin2).send(new DeleteObjectCommand({ Bucket: b, Key: 'g3', VersionId: g3.VersionId, BypassGovernanceRetention: true })))).toBe('AccessDenied: Access Denied');
    await a.s3().send(new DeleteBucketPolicyCommand({ Bucket: b }));
    const limited = await a.user(['s3:DeleteObjectVersion', 's3:BypassGovernanceRetention']);
    expect(await outcome(a.s3(limited).send(new DeleteObjectCommand({ Bucket: b, Key: 'g3', VersionId: g3.VersionId, BypassGovernanceRetention: true })))).toBe('ok');
  });

  it('a legal hold blocks deletion whatever the mode, until it is removed', async () => {
    const a = account();
    const b = await a.lockBucket();
    const v = await a.s3().send(new PutObjectCommand({ Bucket: b, Key: 'held', Body: 'x' }));
    // moto answers an empty LegalHold.
    expect(await outcome(a.s3().send(new GetObjectLegalHoldCommand({ Bucket: b, Key: 'held' })))).toMatch(/^NoSuchObjectLockConfiguration/);
    await a.s3().send(new PutObjectLegalHoldCommand({ Bucket: b, Key: 'held', VersionId: v.VersionId, LegalHold: { Status: 'ON' } }));
    expect((await a.s3().send(new GetObjectLegalHoldCommand({ Bucket: b, Key: 'held', VersionId: v.VersionId }))).LegalHold?.Status).toBe('ON');
    expect(await outcome(a.s3().send(new DeleteObjectCommand({ Bucket: b, Key: 'held', VersionId: v.VersionId, BypassGovernanceRetention: true })))).toBe(`AccessDenied: ${LOCKED}`);
    await a.s3().send(new PutObjectLegalHoldCommand({ Bucket: b, Key: 'held', VersionId: v.VersionId, LegalHold: { Status: 'OFF' } }));
    expect(await outcome(a.s3().send(new DeleteObjectCommand({ Bucket: b, Key: 'held', VersionId: v.VersionId })))).toBe('ok');
  });

  it('PutObjectRetention: compliance only extended, never shortened or turned into governance; governance shortened only with the bypass', async () => {
    const a = account();
    const b = await a.lockBucket();
    const until = new Date(now() + 2 * DAY);
    const c1 = await a.s3().send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until }));
    const ret = (Mode: 'COMPLIANCE' | 'GOVERNANCE', RetainUntilDate: Date, extra: object = {}) =>
      a.s3().send(new PutObjectRetentionCommand({ Bucket: b, Key: 'c', VersionId: c1.VersionId, Retention: { Mode, RetainUntilDate }, ...extra }));
    // moto lets all of these through.
    expect(await outcome(ret('COMPLIANCE', new Date(now() + DAY)))).toBe(`AccessDenied: ${LOCKED}`);
    expect(await outcome(ret('COMPLIANCE', new Date(now() + DAY), { BypassGovernanceRetention: true }))).toBe(`AccessDenied: ${LOCKED}`);
    expect(await outcome(ret('GOVERNANCE', new Date(now() + 3 * DAY), { BypassGovernanceRetention: true }))).toBe(`AccessDenied: ${LOCKED}`);
    const later = new Date(now() + 5 * DAY);
    expect(await outcome(ret('COMPLIANCE', later))).toBe('ok');
    expect((await a.s3().send(new GetObjectRetentionCommand({ Bucket: b, Key: 'c', VersionId: c1.VersionId }))).Retention?.RetainUntilDate).toEqual(later);
    expect(await outcome(ret('COMPLIANCE', new Date(now() - 1000)))).toBe('InvalidArgument: The retain until date must be in the future!');
    // Removing it, or aiming at the current version behind a delete marker, is refused too.
    expect(await outcome(a.s3().send(new PutObjectRetentionCommand({ Bucket: b, Key: 'c', VersionId: c1.VersionId, Retention: {}, BypassGovernanceRetention: true })))).toBe(`AccessDenied: ${LOCKED}`);
    await a.s3().send(new DeleteObjectCommand({ Bucket: b, Key: 'c' }));
    expect(await outcome(a.s3().send(new PutObjectRetentionCommand({ Bucket: b, Key: 'c', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(now() + DAY) } })))).toBe('NoSuchKey: The specified key does not exist.');
    expect((await a.s3().send(new GetObjectRetentionCommand({ Bucket: b, Key: 'c', VersionId: c1.VersionId }))).Retention).toEqual({ Mode: 'COMPLIANCE', RetainUntilDate: later });

    const g = await a.s3().send(new PutObjectCommand({ Bucket: b, Key: 'g', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until }));
    const gret = (creds: Creds | undefined, RetainUntilDate: Date, bypass: boolean) =>
      a.s3(creds).send(new PutObjectRetentionCommand({ Bucket: b, Key: 'g', VersionId: g.VersionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate }, ...(bypass ? { BypassGovernanceRetention: true } : {}) }));
    const retainer = await a.user(['s3:PutObjectRetention']);
    expect(await outcome(gret(retainer, new Date(now() + 3 * DAY), false))).toBe('ok'); // extending needs no bypass
    expect(await outcome(gret(retainer, new Date(now() + DAY), true))).toBe('AccessDenied: Access Denied'); // no s3:BypassGovernanceRetention
    expect(await outcome(gret(undefined, new Date(now() + DAY), false))).toBe(`AccessDenied: ${LOCKED}`);
    expect(await outcome(gret(undefined, new Date(now() + DAY), true))).toBe('ok');
    // Governance to compliance is a change of governance settings too: only with the bypass.
    const toCompliance = (bypass: boolean) => a.s3().send(new PutObjectRetentionCommand({ Bucket: b, Key: 'g', VersionId: g.VersionId, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(now() + 4 * DAY) }, ...(bypass ? { BypassGovernanceRetention: true } : {}) }));
    expect(await outcome(toCompliance(false))).toBe(`AccessDenied: ${LOCKED}`);
    expect(await outcome(toCompliance(true))).toBe('ok');
    expect((await a.s3().send(new GetObjectRetentionCommand({ Bucket: b, Key: 'g', VersionId: g.VersionId }))).Retention?.Mode).toBe('COMPLIANCE');
    // Once the retention has run out (lab clock), any change is allowed again.
    await a.c.gateway.clock.advance(6 * DAY);
    expect(await outcome(ret('GOVERNANCE', new Date(now() + DAY)))).toBe('ok');
  });

  it('DeleteObjects decides every key: locked versions are reported, the others deleted', async () => {
    const a = account();
    const b = await a.lockBucket();
    const until = new Date(now() + DAY);
    const comp = await a.s3().send(new PutObjectCommand({ Bucket: b, Key: 'comp', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until }));
    const gov = await a.s3().send(new PutObjectCommand({ Bucket: b, Key: 'gov', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until }));
    const free = await a.s3().send(new PutObjectCommand({ Bucket: b, Key: 'free', Body: 'x' }));
    const deleter = await a.user(['s3:DeleteObject', 's3:DeleteObjectVersion']);
    const r = await a.s3(deleter).send(new DeleteObjectsCommand({
      Bucket: b,
      Delete: { Objects: [{ Key: 'comp', VersionId: comp.VersionId }, { Key: 'gov', VersionId: gov.VersionId }, { Key: 'free', VersionId: free.VersionId }, { Key: 'comp' }] },
    }));
    expect((r.Errors ?? []).map((e) => [e.Key, e.Code, e.Message])).toEqual([['comp', 'AccessDenied', LOCKED], ['gov', 'AccessDenied', LOCKED]]);
    expect((r.Deleted ?? []).map((d) => [d.Key, d.VersionId ?? null, d.DeleteMarker ?? false])).toEqual([['free', free.VersionId, false], ['comp', null, true]]);
    // With the bypass header, a caller not allowed s3:BypassGovernanceRetention is refused (the gateway
    // refuses the whole call when a key is not authorized, see authz-map.ts).
    expect(await outcome(a.s3(deleter).send(new DeleteObjectsCommand({ Bucket: b, BypassGovernanceRetention: true, Delete: { Objects: [{ Key: 'gov', VersionId: gov.VersionId }] } })))).toBe('AccessDenied: Access Denied');
    // Root with the bypass: governance goes, compliance stays.
    const r2 = await a.s3().send(new DeleteObjectsCommand({ Bucket: b, BypassGovernanceRetention: true, Delete: { Objects: [{ Key: 'comp', VersionId: comp.VersionId }, { Key: 'gov', VersionId: gov.VersionId }] } }));
    expect((r2.Errors ?? []).map((e) => e.Key)).toEqual(['comp']);
    expect((r2.Deleted ?? []).map((d) => d.Key)).toEqual(['gov']);
    const left = await a.s3().send(new ListObjectVersionsCommand({ Bucket: b }));
    expect((left.Versions ?? []).map((v) => v.VersionId)).toEqual([comp.VersionId]);
  });

  it('a bucket policy limits retention periods with s3:object-lock-remaining-retention-days, counted on the lab clock', async () => {
    const a = account();
    const b = await a.lockBucket();
    // The S3 User Guide's example ("Setting limits on retention periods with a bucket policy"): at most 10 days.
    await a.s3().send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{
      Sid: 'MaxRetention', Effect: 'Deny', Principal: '*', Action: 's3:PutObjectRetention', Resource: `arn:aws:s3:::${b}/*`,
      Condition: { NumericGreaterThan: { 's3:object-lock-remaining-retention-days': '10' } },
    }] }) }));
    const put = (days: number) => a.s3().send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: new Date(now() + days * DAY) }));
    expect(await outcome(put(30))).toMatch(/^AccessDenied/);
    const v = await put(10);
    const retain = (days: number) => a.s3().send(new PutObjectRetentionCommand({ Bucket: b, Key: 'k', VersionId: v.VersionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(now() + days * DAY) } }));
    expect(await outcome(retain(11))).toMatch(/^AccessDenied/);
    // Lab time moves on: 5 days from the lab clock are more than 15 from the wall clock (moto's).
    await a.c.gateway.clock.advance(10 * DAY);
    expect(now() - Date.now()).toBeGreaterThan(10 * DAY);
    expect(await outcome(retain(5))).toBe('ok');
  });

  it('a multipart upload keeps the retention it was started with', async () => {
    const a = account();
    const b = await a.lockBucket();
    const until = new Date(now() + DAY);
    const up = await a.s3().send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'big', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until }));
    const part = await a.s3().send(new UploadPartCommand({ Bucket: b, Key: 'big', UploadId: up.UploadId, PartNumber: 1, Body: 'x'.repeat(1024) }));
    const done = await a.s3().send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'big', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    const r = (await a.s3().send(new GetObjectRetentionCommand({ Bucket: b, Key: 'big', VersionId: done.VersionId }))).Retention!;
    expect(r.Mode).toBe('COMPLIANCE');
    expect(await outcome(a.s3().send(new DeleteObjectCommand({ Bucket: b, Key: 'big', VersionId: done.VersionId })))).toBe(`AccessDenied: ${LOCKED}`);
  });
});
