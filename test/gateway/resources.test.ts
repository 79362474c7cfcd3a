// Resource policies beyond S3 (KMS key policies), role trust policies, and session credentials.
import { describe, expect, it } from 'vitest';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand, CreateRoleCommand, PutRolePolicyCommand, ListUsersCommand, ListRolesCommand } from '@aws-sdk/client-iam';
import { KMSClient, CreateKeyCommand, EncryptCommand, PutKeyPolicyCommand, CreateAliasCommand } from '@aws-sdk/client-kms';
import { STSClient, AssumeRoleCommand, GetCallerIdentityCommand, GetSessionTokenCommand } from '@aws-sdk/client-sts';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

async function setup() {
  const c = cloud();
  const root = c.createAccount();
  const rootCreds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
  const iam = c.client(IAMClient, { credentials: rootCreds });
  const newUser = async (name: string, statements: object[]) => {
    await iam.send(new CreateUserCommand({ UserName: name }));
    await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: doc(statements) }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
    return { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
  };
  return { c, root, rootCreds, iam, newUser };
}

const errorName = (p: Promise<unknown>) => p.then(() => 'allowed', (e: Error) => e.name);

describe('KMS key policies', () => {
  it('grant nothing through identity policies unless the key policy delegates to the account', async () => {
    const { c, root, rootCreds, newUser } = await setup();
    const kmsRoot = c.client(KMSClient, { credentials: rootCreds });
    const key = (await kmsRoot.send(new CreateKeyCommand({}))).KeyMetadata!;
    const bob = await newUser('bob', [{ Effect: 'Allow', Action: 'kms:Encrypt', Resource: '*' }]);
    const kmsBob = c.client(KMSClient, { credentials: bob });
    // The default key policy delegates to the account root: bob's identity policy applies.
    expect(await errorName(kmsBob.send(new EncryptCommand({ KeyId: key.KeyId!, Plaintext: Buffer.from('x') })))).toBe('allowed');
    // A key policy naming only the root user: bob's identity policy no longer counts.
    await kmsRoot.send(new PutKeyPolicyCommand({
      KeyId: key.KeyId!, PolicyName: 'default',
      Policy: doc([{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${root.accountId}:user/nobody` }, Action: 'kms:*', Resource: '*' }]),
    }));
    expect(await errorName(kmsBob.send(new EncryptCommand({ KeyId: key.KeyId!, Plaintext: Buffer.from('x') })))).toBe('AccessDeniedException');
  });

  it('authorizes a call through an alias against the key it names', async () => {
    const { c, rootCreds, root, newUser } = await setup();
    const kmsRoot = c.client(KMSClient, { credentials: rootCreds });
    const key = (await kmsRoot.send(new CreateKeyCommand({}))).KeyMetadata!;
    await kmsRoot.send(new CreateAliasCommand({ AliasName: 'alias/app', TargetKeyId: key.KeyId! }));
    const bob = await newUser('bob', [{ Effect: 'Allow', Action: 'kms:Encrypt', Resource: key.Arn! }]);
    const kmsBob = c.client(KMSClient, { credentials: bob });
    expect(await errorName(kmsBob.send(new EncryptCommand({ KeyId: 'alias/app', Plaintext: Buffer.from('x') })))).toBe('allowed');
    void root;
  });
});

describe('roles and sessions', () => {
  it('AssumeRole needs both the caller\'s permission and the role\'s trust policy; the session acts as the role', async () => {
    const { c, root, iam, newUser } = await setup();
    await iam.send(new CreateRoleCommand({
      RoleName: 'auditor',
      AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${root.accountId}:user/bob` }, Action: 'sts:AssumeRole' }]),
    }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'auditor', PolicyName: 'read', PolicyDocument: doc([{ Effect: 'Allow', Action: 'iam:ListRoles', Resource: '*' }]) }));
    const roleArn = `arn:aws:iam::${root.accountId}:role/auditor`;
    const bob = await newUser('bob', [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn }]);
    const eve = await newUser('eve', [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }]);
    expect(await errorName(c.client(STSClient, { credentials: eve }).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'x' })))).toBe('AccessDenied');
    const out = await c.client(STSClient, { credentials: bob }).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'audit-1' }));
    const session = { accessKeyId: out.Credentials!.AccessKeyId!, secretAccessKey: out.Credentials!.SecretAccessKey!, sessionToken: out.Credentials!.SessionToken! };
    const who = await c.client(STSClient, { credentials: session }).send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toBe(`arn:aws:sts::${root.accountId}:assumed-role/auditor/audit-1`);
    const roleIam = c.client(IAMClient, { credentials: session });
    expect(await errorName(roleIam.send(new ListRolesCommand({})))).toBe('allowed');
    expect(await errorName(roleIam.send(new ListUsersCommand({})))).toBe('AccessDenied');
    // A session token that was tampered with is refused.
    const forged = c.client(IAMClient, { credentials: { ...session, sessionToken: `${session.sessionToken}x` } });
    expect(await errorName(forged.send(new ListRolesCommand({})))).toBe('InvalidClientTokenId');
    const ct = c.client(CloudTrailClient, { credentials: { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey } });
    const ev = (await ct.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'ListRoles' }] }))).Events!;
    const rec = JSON.parse(ev[0]!.CloudTrailEvent!);
    expect(rec.userIdentity).toMatchObject({ type: 'AssumedRole', arn: `arn:aws:sts::${root.accountId}:assumed-role/auditor/audit-1`, sessionContext: { sessionIssuer: { arn: roleArn } } });
  });

  it('expires session credentials on the lab clock', async () => {
    const { c, newUser } = await setup();
    const bob = await newUser('bob', [{ Effect: 'Allow', Action: 'iam:ListUsers', Resource: '*' }]);
    const out = await c.client(STSClient, { credentials: bob }).send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    const session = { accessKeyId: out.Credentials!.AccessKeyId!, secretAccessKey: out.Credentials!.SecretAccessKey!, sessionToken: out.Credentials!.SessionToken! };
    const iam = c.client(IAMClient, { credentials: session });
    // A session without MFA may not call IAM at all (AWS's rule for GetSessionToken credentials).
    expect(await errorName(iam.send(new ListUsersCommand({})))).toBe('AccessDenied');
    await c.gateway.clock.advance(901_000);
    expect(await errorName(c.client(STSClient, { credentials: session }).send(new GetCallerIdentityCommand({})))).toBe('ExpiredToken');
  });
});
