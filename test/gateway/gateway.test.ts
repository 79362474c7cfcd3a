// The gateway end to end: real SDK clients -> gateway -> moto_server.
import { describe, expect, it } from 'vitest';
import {
  IAMClient, CreateUserCommand, CreateAccessKeyCommand, ListUsersCommand, PutUserPolicyCommand, UpdateAccessKeyCommand,
  CreateVirtualMFADeviceCommand, EnableMFADeviceCommand, SimulatePrincipalPolicyCommand, PutUserPermissionsBoundaryCommand,
  CreatePolicyCommand, CreateGroupCommand, AddUserToGroupCommand, AttachGroupPolicyCommand, GetUserCommand,
} from '@aws-sdk/client-iam';
import { S3Client, CreateBucketCommand, PutBucketPolicyCommand, GetObjectCommand, PutObjectCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import { STSClient, GetCallerIdentityCommand, GetSessionTokenCommand } from '@aws-sdk/client-sts';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { totp } from '../../src/kit/index.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

async function setup() {
  const c = cloud();
  const root = c.createAccount();
  const rootCreds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
  const iam = c.client(IAMClient, { credentials: rootCreds });
  const newUser = async (name: string, statements?: object[]) => {
    await iam.send(new CreateUserCommand({ UserName: name }));
    if (statements) await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: doc(statements) }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
    return { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
  };
  return { c, root, rootCreds, iam, newUser };
}

async function errorOf(p: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message };
  }
  throw new Error('expected the call to fail');
}

describe('gateway: identity and signatures', () => {
  it('answers GetCallerIdentity for the account root and for a user', async () => {
    const { c, root, newUser } = await setup();
    const me = await c.client(STSClient, { credentials: { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey } }).send(new GetCallerIdentityCommand({}));
    expect(me.Account).toBe(root.accountId);
    expect(me.Arn).toBe(`arn:aws:iam::${root.accountId}:root`);
    const bob = await newUser('bob');
    const who = await c.client(STSClient, { credentials: bob }).send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toBe(`arn:aws:iam::${root.accountId}:user/bob`);
  });

  it('refuses a wrong secret the way AWS does', async () => {
    const { c, newUser } = await setup();
    const bob = await newUser('bob', [{ Effect: 'Allow', Action: 'iam:*', Resource: '*' }]);
    // Change the last character for certain (a fixed replacement could equal it).
    const wrong = bob.secretAccessKey.slice(0, -1) + (bob.secretAccessKey.endsWith('x') ? 'y' : 'x');
    const err = await errorOf(c.client(IAMClient, { credentials: { ...bob, secretAccessKey: wrong } }).send(new ListUsersCommand({})));
    expect(err.name).toBe('SignatureDoesNotMatch');
    expect(err.status).toBe(403);
    const s3err = await errorOf(c.client(S3Client, { credentials: { ...bob, secretAccessKey: 'wrong' } }).send(new ListBucketsCommand({})));
    expect(s3err.name).toBe('SignatureDoesNotMatch');
  });

  it('refuses unknown and deactivated keys', async () => {
    const { c, iam, newUser } = await setup();
    const unknown = await errorOf(c.client(IAMClient, { credentials: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' } }).send(new ListUsersCommand({})));
    expect(unknown.name).toBe('InvalidClientTokenId');
    const bob = await newUser('bob', [{ Effect: 'Allow', Action: 'iam:*', Resource: '*' }]);
    await c.client(IAMClient, { credentials: bob }).send(new ListUsersCommand({}));
    await iam.send(new UpdateAccessKeyCommand({ UserName: 'bob', AccessKeyId: bob.accessKeyId, Status: 'Inactive' }));
    const inactive = await errorOf(c.client(IAMClient, { credentials: bob }).send(new ListUsersCommand({})));
    expect(inactive.name).toBe('InvalidClientTokenId');
  });

  it('keeps accounts\' buckets apart: S3 names are global, access is not', async () => {
    const a = await setup();
    const b = await setup();
    await a.c.client(S3Client, { credentials: a.rootCreds }).send(new CreateBucketCommand({ Bucket: `only-a-${a.root.accountId}` }));
    await a.c.client(S3Client, { credentials: a.rootCreds }).send(new PutObjectCommand({ Bucket: `only-a-${a.root.accountId}`, Key: 'k', Body: 'secret' }));
    const err = await errorOf(b.c.client(S3Client, { credentials: b.rootCreds }).send(new GetObjectCommand({ Bucket: `only-a-${a.root.accountId}`, Key: 'k' })));
    expect(err.name).toBe('AccessDenied');
  });

  it('refuses requests the gateway and the target could read differently', async () => {
    const { c, newUser } = await setup();
    const bob = await newUser('bob', [{ Effect: 'Allow', Action: 'iam:ListUsers', Resource: '*' }]);
    // Action given twice: the gateway must not authorize one and forward the other. The body is
    // changed before signing, so the signature is valid.
    const iam = c.client(IAMClient, { credentials: bob });
    iam.middlewareStack.add((next) => async (args) => {
      const r = args.request as { body: string; headers: Record<string, string> };
      r.body = 'Action=AttachUserPolicy&Action=ListUsers&UserName=bob&PolicyArn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FAdministratorAccess&Version=2010-05-08';
      r.headers['content-length'] = String(Buffer.byteLength(r.body));
      return next(args);
    }, { step: 'build' });
    const err = await errorOf(iam.send(new ListUsersCommand({})));
    const res = { status: err.status ?? 0, text: async () => err.name };
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('MalformedQueryString');
  });

  it('keeps accounts apart', async () => {
    const a = await setup();
    const b = await setup();
    await a.iam.send(new CreateUserCommand({ UserName: 'only-in-a' }));
    const users = (await b.iam.send(new ListUsersCommand({}))).Users ?? [];
    expect(users.map((u) => u.UserName)).not.toContain('only-in-a');
  });
});

describe('gateway: authorization', () => {
  it('denies what no policy allows, in the protocol\'s AccessDenied format', async () => {
    const { c, root, newUser } = await setup();
    const bob = await newUser('bob', [{ Effect: 'Allow', Action: 'iam:List*', Resource: '*' }]);
    const iam = c.client(IAMClient, { credentials: bob });
    await iam.send(new ListUsersCommand({}));
    const err = await errorOf(iam.send(new CreateUserCommand({ UserName: 'eve' })));
    expect(err.name).toBe('AccessDenied');
    expect(err.message).toContain(`User: arn:aws:iam::${root.accountId}:user/bob is not authorized to perform: iam:CreateUser`);
    const s3err = await errorOf(c.client(S3Client, { credentials: bob }).send(new ListBucketsCommand({})));
    expect(s3err.name).toBe('AccessDenied');
    expect(s3err.status).toBe(403);
  });

  it('lets explicit deny win and honours group managed policies', async () => {
    const { c, iam, newUser } = await setup();
    const bob = await newUser('bob', [{ Effect: 'Deny', Action: 'iam:CreateUser', Resource: '*' }]);
    const policy = await iam.send(new CreatePolicyCommand({ PolicyName: 'iam-all', PolicyDocument: doc([{ Effect: 'Allow', Action: 'iam:*', Resource: '*' }]) }));
    await iam.send(new CreateGroupCommand({ GroupName: 'g' }));
    await iam.send(new AttachGroupPolicyCommand({ GroupName: 'g', PolicyArn: policy.Policy!.Arn! }));
    await iam.send(new AddUserToGroupCommand({ GroupName: 'g', UserName: 'bob' }));
    const bobIam = c.client(IAMClient, { credentials: bob });
    await bobIam.send(new ListUsersCommand({}));
    expect((await errorOf(bobIam.send(new CreateUserCommand({ UserName: 'x' })))).name).toBe('AccessDenied');
  });

  it('applies aws:SourceIp from the simulated source address', async () => {
    const { c, newUser } = await setup();
    const bob = await newUser('bob', [
      { Effect: 'Allow', Action: 'iam:ListUsers', Resource: '*' },
      { Effect: 'Deny', Action: '*', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } },
    ]);
    await c.client(IAMClient, { credentials: bob, sourceIp: '203.0.113.7' }).send(new ListUsersCommand({}));
    const err = await errorOf(c.client(IAMClient, { credentials: bob, sourceIp: '198.51.100.9' }).send(new ListUsersCommand({})));
    expect(err.name).toBe('AccessDenied');
  });

  it('enforces bucket policies, including a deny for the account\'s own user', async () => {
    const { c, rootCreds, root, newUser } = await setup();
    const s3root = c.client(S3Client, { credentials: rootCreds });
    await s3root.send(new CreateBucketCommand({ Bucket: 'secret-data' }));
    await s3root.send(new PutObjectCommand({ Bucket: 'secret-data', Key: 'a.txt', Body: 'x' }));
    const bob = await newUser('bob', [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }]);
    const s3bob = c.client(S3Client, { credentials: bob });
    await s3bob.send(new GetObjectCommand({ Bucket: 'secret-data', Key: 'a.txt' }));
    await s3root.send(new PutBucketPolicyCommand({
      Bucket: 'secret-data',
      Policy: doc([{ Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${root.accountId}:user/bob` }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::secret-data/*' }]),
    }));
    expect((await errorOf(s3bob.send(new GetObjectCommand({ Bucket: 'secret-data', Key: 'a.txt' })))).name).toBe('AccessDenied');
  });

  it('serves permission boundaries (moto lacks PutUserPermissionsBoundary)', async () => {
    const { c, iam, newUser } = await setup();
    const bob = await newUser('bob', [{ Effect: 'Allow', Action: 'iam:*', Resource: '*' }]);
    const boundary = await iam.send(new CreatePolicyCommand({ PolicyName: 'b', PolicyDocument: doc([{ Effect: 'Allow', Action: 'iam:List*', Resource: '*' }]) }));
    await iam.send(new PutUserPermissionsBoundaryCommand({ UserName: 'bob', PermissionsBoundary: boundary.Policy!.Arn! }));
    const bobIam = c.client(IAMClient, { credentials: bob });
    await bobIam.send(new ListUsersCommand({}));
    expect((await errorOf(bobIam.send(new GetUserCommand({ UserName: 'bob' })))).name).toBe('AccessDenied');
  });

  it('answers SimulatePrincipalPolicy with the same evaluator', async () => {
    const { root, iam, newUser } = await setup();
    await newUser('bob', [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::reports/*' }]);
    const out = await iam.send(new SimulatePrincipalPolicyCommand({
      PolicySourceArn: `arn:aws:iam::${root.accountId}:user/bob`,
      ActionNames: ['s3:GetObject', 's3:PutObject'],
      ResourceArns: ['arn:aws:s3:::reports/q3.csv'],
    }));
    expect(out.EvaluationResults?.map((r) => [r.EvalActionName, r.EvalDecision])).toEqual([
      ['s3:GetObject', 'allowed'],
      ['s3:PutObject', 'implicitDeny'],
    ]);
  });
});

describe('gateway: MFA with real TOTP', () => {
  it('checks codes on EnableMFADevice and GetSessionToken; MFA sessions satisfy aws:MultiFactorAuthPresent', async () => {
    const { c, iam, newUser } = await setup();
    const bob = await newUser('bob', [
      { Effect: 'Allow', Action: ['iam:ListUsers', 'sts:GetSessionToken'], Resource: '*' },
      { Effect: 'Deny', Action: 'iam:ListUsers', Resource: '*', Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } } },
    ]);
    const device = (await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: 'bob' }))).VirtualMFADevice!;
    const seed = device.Base32StringSeed!;
    const now = c.gateway.clock.nowMs();
    const bad = await errorOf(iam.send(new EnableMFADeviceCommand({ UserName: 'bob', SerialNumber: device.SerialNumber!, AuthenticationCode1: '123456', AuthenticationCode2: '654321' })));
    expect(bad.name).toBe('InvalidAuthenticationCodeException');
    await iam.send(new EnableMFADeviceCommand({ UserName: 'bob', SerialNumber: device.SerialNumber!, AuthenticationCode1: totp(seed, now - 30_000), AuthenticationCode2: totp(seed, now) }));

    // The long-term key has no aws:MultiFactorAuthPresent: BoolIfExists denies it.
    expect((await errorOf(c.client(IAMClient, { credentials: bob }).send(new ListUsersCommand({})))).name).toBe('AccessDenied');
    const sts = c.client(STSClient, { credentials: bob });
    const wrong = await errorOf(sts.send(new GetSessionTokenCommand({ SerialNumber: device.SerialNumber!, TokenCode: String((Number(totp(seed, now)) + 1) % 1e6).padStart(6, '0') })));
    expect(wrong.name).toBe('AccessDenied');
    expect(wrong.message).toContain('MultiFactorAuthentication failed');
    await c.gateway.clock.advance(30_000); // a fresh time step: the enabling code may not be replayed
    const session = (await sts.send(new GetSessionTokenCommand({ SerialNumber: device.SerialNumber!, TokenCode: totp(seed, c.gateway.clock.nowMs()) }))).Credentials!;
    const withMfa = { accessKeyId: session.AccessKeyId!, secretAccessKey: session.SecretAccessKey!, sessionToken: session.SessionToken! };
    const users = await c.client(IAMClient, { credentials: withMfa }).send(new ListUsersCommand({}));
    expect(users.Users?.length).toBeGreaterThan(0);
  });
});

describe('gateway: CloudTrail', () => {
  it('records every call, allowed or denied, and serves LookupEvents with filters', async () => {
    const { c, rootCreds, newUser } = await setup();
    const bob = await newUser('bob', [{ Effect: 'Allow', Action: 'iam:ListUsers', Resource: '*' }]);
    await errorOf(c.client(IAMClient, { credentials: bob, sourceIp: '198.51.100.77' }).send(new CreateUserCommand({ UserName: 'eve' })));
    const ct = c.client(CloudTrailClient, { credentials: rootCreds });
    const out = await ct.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateUser' }] }));
    const records = (out.Events ?? []).map((e) => JSON.parse(e.CloudTrailEvent!));
    const denied = records.find((r) => r.sourceIPAddress === '198.51.100.77');
    expect(denied).toMatchObject({
      eventSource: 'iam.amazonaws.com', eventName: 'CreateUser', errorCode: 'AccessDenied', readOnly: false,
      userIdentity: { type: 'IAMUser', userName: 'bob', accessKeyId: bob.accessKeyId },
      requestParameters: { userName: 'eve' },
    });
    expect(denied.eventID).toMatch(/^[0-9a-f-]{36}$/);
    expect(records.filter((r) => !r.errorCode).length).toBe(1); // the root's CreateUser bob
    const byUser = await ct.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: 'bob' }] }));
    expect(byUser.Events?.every((e) => e.Username === 'bob')).toBe(true);
  });

  it('stamps events with the lab clock, which control endpoints can advance', async () => {
    const { c, rootCreds } = await setup();
    const before = await (await fetch(`${c.url}/_seclab/clock`)).json() as { now: string };
    expect((await fetch(`${c.url}/_seclab/clock`, { method: 'POST', body: JSON.stringify({ advanceSeconds: 3600 }) })).status).toBe(403);
    const token = { 'x-seclab-control-token': c.gateway.controlToken };
    expect((await fetch(`${c.url}/_seclab/clock`, { method: 'POST', headers: token, body: JSON.stringify({ advanceSeconds: 1e13 }) })).status).toBe(400);
    const after = await (await fetch(`${c.url}/_seclab/clock`, { method: 'POST', headers: token, body: JSON.stringify({ advanceSeconds: 3600 }) })).json() as { now: string };
    expect(Date.parse(after.now) - Date.parse(before.now)).toBeGreaterThanOrEqual(3600_000);
    await c.client(IAMClient, { credentials: rootCreds }).send(new ListUsersCommand({}));
    const ev = (await c.client(CloudTrailClient, { credentials: rootCreds }).send(new LookupEventsCommand({ MaxResults: 1 }))).Events![0]!;
    expect(ev.EventTime!.getTime()).toBeGreaterThanOrEqual(Date.parse(after.now) - 1000);
  });
});
