// S3 Block Public Access enforced as AWS does for bucket policies (moto stores the settings only):
// BlockPublicPolicy refuses public policies, RestrictPublicBuckets voids their public statements.
import { describe, expect, it } from 'vitest';
import {
  S3Client, CreateBucketCommand, PutBucketPolicyCommand, DeletePublicAccessBlockCommand, PutPublicAccessBlockCommand,
  PutObjectCommand, GetObjectCommand, DeleteBucketPolicyCommand,
} from '@aws-sdk/client-s3';
import { S3ControlClient, PutPublicAccessBlockCommand as PutAccountPublicAccessBlockCommand, DeletePublicAccessBlockCommand as DeleteAccountPublicAccessBlockCommand } from '@aws-sdk/client-s3-control';
import { IAMClient, CreateUserCommand, PutUserPolicyCommand, CreateAccessKeyCommand } from '@aws-sdk/client-iam';
import { useLabCloud } from '../helpers/cloud.ts';
import { isPublicPolicy } from '../../src/cloud/services/s3/public-access.ts';

const { cloud } = useLabCloud();

function account() {
  const root = cloud().createAccount();
  return { root, credentials: { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey } };
}

const policy = (statement: Record<string, unknown>) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', ...statement }] });

async function failure(p: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message };
  }
  throw new Error('expected the call to fail');
}

describe('what counts as a public bucket policy (S3 User Guide, "The meaning of public")', () => {
  const r = 'arn:aws:s3:::b/*';
  it.each([
    ['Principal *', { Principal: '*', Resource: r }, true],
    ['Principal AWS *', { Principal: { AWS: '*' }, Resource: r }, true],
    ['an account', { Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Resource: r }, false],
    ['a service', { Principal: { Service: 'cloudtrail.amazonaws.com' }, Resource: r }, false],
    ['a wildcard ARN', { Principal: { AWS: 'arn:aws:iam::111122223333:user/*' }, Resource: r }, true],
    ['* limited to an office CIDR', { Principal: '*', Resource: r, Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } }, false],
    ['* with aws:SourceIp 0.0.0.0/0', { Principal: '*', Resource: r, Condition: { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } } }, true],
    ['* pinned to an organization', { Principal: '*', Resource: r, Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123' } } }, false],
    ['* with a wildcard org condition', { Principal: '*', Resource: r, Condition: { StringLike: { 'aws:PrincipalOrgID': 'o-*' } } }, true],
    ['* pinned to a source account', { Principal: '*', Resource: r, Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } } }, false],
    ['* with an unrelated condition', { Principal: '*', Resource: r, Condition: { Bool: { 'aws:SecureTransport': 'true' } } }, true],
    ['NotPrincipal', { NotPrincipal: { AWS: 'arn:aws:iam::111122223333:root' }, Resource: r }, true],
  ])('%s', (_name, st, expected) => {
    expect(isPublicPolicy(JSON.parse(policy(st)))).toBe(expected);
    // A Deny never makes a policy public.
    expect(isPublicPolicy({ Statement: [{ ...(JSON.parse(policy(st)).Statement[0]), Effect: 'Deny' }] })).toBe(false);
  });
});

describe('Block Public Access in the lab cloud', () => {
  it('BlockPublicPolicy (on for new buckets) refuses a public policy, root included; non-public ones pass; turned off, it passes', async () => {
    const a = account();
    const s3 = cloud().client(S3Client, a);
    await s3.send(new CreateBucketCommand({ Bucket: 'bpa-one' }));
    const open = policy({ Principal: '*', Resource: 'arn:aws:s3:::bpa-one/*' });
    const f = await failure(s3.send(new PutBucketPolicyCommand({ Bucket: 'bpa-one', Policy: open })));
    expect(f).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(f.message).toMatch(/BlockPublicPolicy/);
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'bpa-one', Policy: policy({ Principal: { AWS: `arn:aws:iam::${a.root.accountId}:root` }, Resource: 'arn:aws:s3:::bpa-one/*' }) }));
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'bpa-one' }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'bpa-one', Policy: open }));
    // The refusal is in CloudTrail like any other.
    const events = cloud().gateway.service('cloudtrail').trail.all(a.root.accountId).filter((e) => e.eventName === 'PutBucketPolicy');
    expect(events.map((e) => e.errorCode ?? 'ok')).toEqual(['AccessDenied', 'ok', 'ok']);
  });

  it('RestrictPublicBuckets: the public statement grants another account nothing; without it, it does', async () => {
    const owner = account();
    const other = account();
    const s3 = cloud().client(S3Client, owner);
    await s3.send(new CreateBucketCommand({ Bucket: 'bpa-shared' }));
    await s3.send(new PutObjectCommand({ Bucket: 'bpa-shared', Key: 'k', Body: 'data' }));
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: 'bpa-shared', PublicAccessBlockConfiguration: { BlockPublicPolicy: false, RestrictPublicBuckets: true } }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'bpa-shared', Policy: policy({ Principal: '*', Resource: 'arn:aws:s3:::bpa-shared/*' }) }));
    // A user of the other account whose own policy allows the read.
    const iam = cloud().client(IAMClient, other);
    await iam.send(new CreateUserCommand({ UserName: 'reader' }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'reader', PolicyName: 'read', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] }) }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'reader' }))).AccessKey!;
    const reader = cloud().client(S3Client, { credentials: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! } });
    expect(await failure(reader.send(new GetObjectCommand({ Bucket: 'bpa-shared', Key: 'k' })))).toMatchObject({ status: 403 });
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: 'bpa-shared', PublicAccessBlockConfiguration: { BlockPublicPolicy: false, RestrictPublicBuckets: false } }));
    const got = await reader.send(new GetObjectCommand({ Bucket: 'bpa-shared', Key: 'k' }));
    expect(await got.Body!.transformToString()).toBe('data');
    // The owner's root can always remove its bucket's policy.
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: 'bpa-shared' }));
  });

  it("the account's setting (S3 Control) applies to every bucket, whatever the bucket's own", async () => {
    const a = account();
    const s3 = cloud().client(S3Client, a);
    const control = cloud().client(S3ControlClient, a);
    await s3.send(new CreateBucketCommand({ Bucket: 'bpa-account' }));
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'bpa-account' }));
    const open = policy({ Principal: '*', Resource: 'arn:aws:s3:::bpa-account/*' });
    await control.send(new PutAccountPublicAccessBlockCommand({ AccountId: a.root.accountId, PublicAccessBlockConfiguration: { BlockPublicPolicy: true } }));
    expect(await failure(s3.send(new PutBucketPolicyCommand({ Bucket: 'bpa-account', Policy: open })))).toMatchObject({ name: 'AccessDenied', status: 403 });
    await control.send(new DeleteAccountPublicAccessBlockCommand({ AccountId: a.root.accountId }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'bpa-account', Policy: open }));
  });
});
