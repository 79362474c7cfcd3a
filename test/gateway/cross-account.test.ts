// Several accounts behave like several AWS accounts: cross-account AssumeRole (trust policy in the
// role's account AND the caller's identity policy), and the root user's special rules.
import { describe, expect, it } from 'vitest';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand, CreateRoleCommand, PutRolePolicyCommand, ListRolesCommand } from '@aws-sdk/client-iam';
import { STSClient, AssumeRoleCommand, GetCallerIdentityCommand, GetSessionTokenCommand } from '@aws-sdk/client-sts';
import { S3Client, CreateBucketCommand, PutBucketPolicyCommand, GetBucketPolicyCommand, DeleteBucketPolicyCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const errorName = (p: Promise<unknown>) => p.then(() => 'allowed', (e: Error) => e.name);

function account() {
  const c = cloud();
  const root = c.createAccount();
  const rootCreds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
  const iam = c.client(IAMClient, { credentials: rootCreds });
  const newUser = async (name: string, statements: object[]) => {
    await iam.send(new CreateUserCommand({ UserName: name }));
    if (statements.length) await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: doc(statements) }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
    return { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
  };
  return { c, id: root.accountId, rootCreds, iam, newUser };
}

const sessionOf = (out: { Credentials?: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string } }) => ({
  accessKeyId: out.Credentials!.AccessKeyId!, secretAccessKey: out.Credentials!.SecretAccessKey!, sessionToken: out.Credentials!.SessionToken!,
});

describe('cross-account AssumeRole', () => {
  it('needs the trust policy of the role in its own account and the caller\'s identity policy; the session acts in the role\'s account', async () => {
    const a = account();
    const b = account();
    const c = a.c;
    await b.iam.send(new CreateRoleCommand({
      RoleName: 'auditor',
      AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${a.id}:root` }, Action: 'sts:AssumeRole' }]),
    }));
    await b.iam.send(new PutRolePolicyCommand({ RoleName: 'auditor', PolicyName: 'read', PolicyDocument: doc([{ Effect: 'Allow', Action: 'iam:ListRoles', Resource: '*' }]) }));
    // A role of the same name in A that A's user could assume: B's role must be the one used.
    await a.iam.send(new CreateRoleCommand({
      RoleName: 'auditor',
      AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${a.id}:root` }, Action: 'sts:AssumeRole' }]),
    }));
    const roleArn = `arn:aws:iam::${b.id}:role/auditor`;
    const alice = await a.newUser('alice', [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn }]);
    const nopol = await a.newUser('nopol', []);
    const out = await c.client(STSClient, { credentials: alice }).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'x-acct' }));
    const session = sessionOf(out);
    const who = await c.client(STSClient, { credentials: session }).send(new GetCallerIdentityCommand({}));
    expect(who.Account).toBe(b.id);
    expect(who.Arn).toBe(`arn:aws:sts::${b.id}:assumed-role/auditor/x-acct`);
    expect(out.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${b.id}:assumed-role/auditor/x-acct`);
    // No longer than the role's MaxSessionDuration (1 h by default).
    expect(await errorName(c.client(STSClient, { credentials: alice }).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'long', DurationSeconds: 7200 })))).toBe('ValidationError');
    // It acts in B: ListRoles shows B's roles (B's auditor only), with B's role policy.
    const roles = (await c.client(IAMClient, { credentials: session }).send(new ListRolesCommand({}))).Roles!;
    expect(roles.map((r) => r.Arn)).toEqual([roleArn]);
    // Role chaining: a role session may assume a role for one hour at most.
    await b.iam.send(new CreateRoleCommand({ RoleName: 'chain', AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: roleArn }, Action: 'sts:AssumeRole' }]) }));
    await b.iam.send(new PutRolePolicyCommand({ RoleName: 'auditor', PolicyName: 'chain', PolicyDocument: doc([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${b.id}:role/chain` }]) }));
    const chainSts = c.client(STSClient, { credentials: session });
    expect(await errorName(chainSts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${b.id}:role/chain`, RoleSessionName: 'c', DurationSeconds: 7200 })))).toBe('ValidationError');
    expect(await errorName(chainSts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${b.id}:role/chain`, RoleSessionName: 'c', DurationSeconds: 3600 })))).toBe('allowed');
    // The identity policy is needed too: the trust policy names the whole account A.
    expect(await errorName(c.client(STSClient, { credentials: nopol }).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'y' })))).toBe('AccessDenied');
    // B's CloudTrail shows who from outside assumed (or tried to assume) its role.
    const lookup = (creds: typeof alice) => c.client(CloudTrailClient, { credentials: creds })
      .send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'AssumeRole' }] }))
      .then((r) => r.Events!.map((e) => JSON.parse(e.CloudTrailEvent!)));
    const inB = (await lookup(b.rootCreds)).filter((e) => e.userIdentity.type === 'AWSAccount');
    expect(inB.map((e) => [e.userIdentity.accountId, e.recipientAccountId, e.errorCode ?? 'ok']).sort()).toEqual([[a.id, b.id, 'AccessDenied'], [a.id, b.id, 'ValidationError'], [a.id, b.id, 'ok']]);
    const inA = await lookup(a.rootCreds);
    expect(inA.filter((e) => e.recipientAccountId === a.id).length).toBe(3);
    expect(new Set([...inA, ...inB].map((e) => e.sharedEventID)).size).toBe(3);
  });

  it('is refused when the trust policy does not name the caller or its account', async () => {
    const a = account();
    const b = account();
    const other = account();
    await b.iam.send(new CreateRoleCommand({
      RoleName: 'ops',
      AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${other.id}:root` }, Action: 'sts:AssumeRole' }]),
    }));
    const alice = await a.newUser('alice', [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }]);
    const sts = a.c.client(STSClient, { credentials: alice });
    const e = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${b.id}:role/ops`, RoleSessionName: 'x' })).then(() => undefined, (err: Error) => err);
    expect(e?.name).toBe('AccessDenied');
    expect(e?.message).toBe(`User: arn:aws:iam::${a.id}:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${b.id}:role/ops because no resource-based policy allows the sts:AssumeRole action`);
    // A role that does not exist is refused the same way.
    expect(await errorName(sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${b.id}:role/none`, RoleSessionName: 'x' })))).toBe('AccessDenied');
  });

  it('honours a trust policy naming the user ARN, with an sts:ExternalId condition', async () => {
    const a = account();
    const b = account();
    await b.iam.send(new CreateRoleCommand({
      RoleName: 'vendor',
      AssumeRolePolicyDocument: doc([{
        Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${a.id}:user/alice` }, Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': 'shared-secret-42' } },
      }]),
    }));
    const roleArn = `arn:aws:iam::${b.id}:role/vendor`;
    const alice = await a.newUser('alice', [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${b.id}:role/*` }]);
    const bobInA = await a.newUser('bob', [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }]);
    const sts = a.c.client(STSClient, { credentials: alice });
    expect(await errorName(sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'v' })))).toBe('AccessDenied');
    expect(await errorName(sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'v', ExternalId: 'wrong' })))).toBe('AccessDenied');
    expect(await errorName(sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'v', ExternalId: 'shared-secret-42' })))).toBe('allowed');
    // Another user of the trusted account is not named.
    expect(await errorName(a.c.client(STSClient, { credentials: bobInA }).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'v', ExternalId: 'shared-secret-42' })))).toBe('AccessDenied');
  });
});

describe('the root user', () => {
  it('may not assume roles, not even its own account\'s', async () => {
    const a = account();
    await a.iam.send(new CreateRoleCommand({
      RoleName: 'admin',
      AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${a.id}:root` }, Action: 'sts:AssumeRole' }]),
    }));
    const e = await a.c.client(STSClient, { credentials: a.rootCreds })
      .send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${a.id}:role/admin`, RoleSessionName: 'r' }))
      .then(() => undefined, (err: Error) => err);
    expect(e?.name).toBe('AccessDenied');
    expect(e?.message).toBe('Roles may not be assumed by root accounts.');
  });

  it('gets sessions of at most one hour from GetSessionToken', async () => {
    const a = account();
    const sts = a.c.client(STSClient, { credentials: a.rootCreds });
    expect(await errorName(sts.send(new GetSessionTokenCommand({ DurationSeconds: 7200 })))).toBe('ValidationError');
    const now = a.c.gateway.clock.nowMs();
    const out = await sts.send(new GetSessionTokenCommand({}));
    const ttl = out.Credentials!.Expiration!.getTime() - now;
    expect(ttl).toBeGreaterThan(3500_000);
    expect(ttl).toBeLessThanOrEqual(3600_000 + 5_000);
    // A root session is still the root user: it may not assume roles either.
    expect(await errorName(a.c.client(STSClient, { credentials: sessionOf(out) }).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${a.id}:role/x`, RoleSessionName: 'r' })))).toBe('AccessDenied');
  });

  it('can always read, replace and delete its bucket\'s policy, even one that denies everyone', async () => {
    const a = account();
    const s3 = a.c.client(S3Client, { credentials: a.rootCreds });
    const bucket = `lockout-${a.id}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: doc([{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } }]),
    }));
    // Everything else is denied, to the root user too.
    expect(await errorName(s3.send(new ListObjectsV2Command({ Bucket: bucket })))).toBe('AccessDenied');
    expect(await errorName(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' })))).toBe('AccessDenied');
    // The escape hatch: the owner account's root manages the policy.
    expect(await errorName(s3.send(new GetBucketPolicyCommand({ Bucket: bucket })))).toBe('allowed');
    expect(await errorName(s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket })))).toBe('allowed');
    expect(await errorName(s3.send(new ListObjectsV2Command({ Bucket: bucket })))).toBe('allowed');
    // Not for an IAM user with full permissions, nor for another account's root.
    await s3.send(new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: doc([{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`] }]),
    }));
    const admin = await a.newUser('admin', [{ Effect: 'Allow', Action: '*', Resource: '*' }]);
    expect(await errorName(a.c.client(S3Client, { credentials: admin }).send(new DeleteBucketPolicyCommand({ Bucket: bucket })))).toBe('AccessDenied');
    const b = account();
    expect(await errorName(a.c.client(S3Client, { credentials: b.rootCreds }).send(new DeleteBucketPolicyCommand({ Bucket: bucket })))).toBe('AccessDenied');
    expect(await errorName(s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: doc([{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${a.id}:root` }, Action: 's3:*', Resource: `arn:aws:s3:::${bucket}/*` }]) })))).toBe('allowed');
  });
});
