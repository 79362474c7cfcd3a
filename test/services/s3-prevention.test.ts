// The controls that keep PII and card data from leaving an account (lab `dlp`), enforced by the lab
// cloud as AWS enforces them, through the real gateway and moto with the AWS SDK v3, one test per
// documented rule (docs/moto-deviations.md, "S3"): bucket and identity policies with aws:ResourceAccount,
// aws:PrincipalOrgID and aws:ResourceOrgID, object tags (s3:ExistingObjectTag, s3:RequestObjectTag,
// s3:RequestObjectTagKeys), aws:SecureTransport, Block Public Access, ACLs and Object Ownership,
// presigned URLs, copies across accounts, SSE-KMS objects whose key another account cannot use, and
// calls through a VPC endpoint (aws:SourceVpce, endpoint policies).
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { describe, expect, it } from 'vitest';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand, DeleteUserPolicyCommand, ListUsersCommand } from '@aws-sdk/client-iam';
import {
  S3Client, CreateBucketCommand, PutBucketPolicyCommand, PutObjectCommand, GetObjectCommand, ListBucketsCommand, HeadObjectCommand, CopyObjectCommand,
  PutObjectTaggingCommand, GetObjectTaggingCommand, DeleteObjectTaggingCommand, PutBucketEncryptionCommand, CreateMultipartUploadCommand, UploadPartCopyCommand,
  PutPublicAccessBlockCommand, DeletePublicAccessBlockCommand, PutBucketOwnershipControlsCommand, PutObjectAclCommand, PutBucketAclCommand,
} from '@aws-sdk/client-s3';
import { S3ControlClient, PutPublicAccessBlockCommand as PutAccountPublicAccessBlockCommand } from '@aws-sdk/client-s3-control';
import { KMSClient, CreateKeyCommand, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { EC2Client, CreateVpcCommand, CreateVpcEndpointCommand, ModifyVpcEndpointCommand } from '@aws-sdk/client-ec2';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { OrganizationsClient } from '../../src/cloud/services/organizations/client.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
let seq = 0;

function accountOf(rootCreds: Creds, id: string) {
  const c = cloud();
  const iam = c.client(IAMClient, { credentials: rootCreds });
  const newUser = async (name: string, statements: object[]): Promise<Creds> => {
    await iam.send(new CreateUserCommand({ UserName: name }));
    if (statements.length) await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: doc(statements) }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
    return { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
  };
  const s3 = (credentials: Creds = rootCreds) => c.client(S3Client, { credentials });
  const kms = (credentials: Creds = rootCreds) => c.client(KMSClient, { credentials });
  /** A new bucket of this account, with an object `data.csv` in it. */
  const bucket = async (prefix: string, body = 'name,card\nAlice,4111111111111111\n', tagging?: string): Promise<string> => {
    const name = `${prefix}-${id}-${++seq}`;
    await s3().send(new CreateBucketCommand({ Bucket: name }));
    await s3().send(new PutObjectCommand({ Bucket: name, Key: 'data.csv', Body: body, ...(tagging ? { Tagging: tagging } : {}) }));
    return name;
  };
  return { c, id, rootCreds, iam, newUser, s3, kms, bucket, arn: (n: string) => `arn:aws:iam::${id}:user/${n}` };
}

function account() {
  const root = cloud().createAccount();
  return accountOf({ accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey }, root.accountId);
}

/** A management account with an organization and one member account, and an outside account. */
async function organization() {
  const c = cloud();
  const mgmt = account();
  const org = new OrganizationsClient(c.url, mgmt.rootCreds);
  const created = await org.send<{ Organization: { Id: string } }>('CreateOrganization', { FeatureSet: 'ALL' });
  const status = await org.send<{ CreateAccountStatus: { AccountId: string } }>('CreateAccount', { Email: 'dev@example.com', AccountName: 'dev' });
  const memberId = status.CreateAccountStatus.AccountId;
  const member = accountOf(c.gateway.mintRootCredentials(memberId), memberId);
  return { orgId: created.Organization.Id, mgmt, member, outsider: account() };
}

/** The error's name, or 'ok'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as Error).name;
  }
}

const S3_ALL = { Effect: 'Allow', Action: 's3:*', Resource: '*' };
const body = async (r: { Body?: { transformToString(): Promise<string> } }) => r.Body!.transformToString();

describe('aws:ResourceAccount, aws:PrincipalOrgID, aws:ResourceOrgID', () => {
  it('aws:ResourceAccount: an identity policy that limits a user to its own account\'s buckets refuses another account\'s bucket that welcomes it', async () => {
    const a = account();
    const b = account();
    const user = await a.newUser('analyst', [
      S3_ALL,
      { Effect: 'Deny', Action: 's3:*', Resource: '*', Condition: { StringNotEquals: { 'aws:ResourceAccount': a.id } } },
    ]);
    const own = await a.bucket('own');
    const outside = await b.bucket('outside');
    await b.s3().send(new PutBucketPolicyCommand({ Bucket: outside, Policy: doc([{ Effect: 'Allow', Principal: { AWS: a.arn('analyst') }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${outside}/*` }]) }));
    expect(await outcome(a.s3(user).send(new PutObjectCommand({ Bucket: own, Key: 'x', Body: 'x' })))).toBe('ok');
    expect(await outcome(a.s3(user).send(new PutObjectCommand({ Bucket: outside, Key: 'x', Body: 'x' })))).toBe('AccessDenied');
    // Without the deny the same upload succeeds: the bucket's owner, not the ARN, is the resource account.
    await a.iam.send(new PutUserPolicyCommand({ UserName: 'analyst', PolicyName: 'p', PolicyDocument: doc([S3_ALL]) }));
    expect(await outcome(a.s3(user).send(new PutObjectCommand({ Bucket: outside, Key: 'x', Body: 'x' })))).toBe('ok');
  });

  it('aws:PrincipalOrgID: a bucket policy that grants the organization lets a member account read and refuses an outside account', async () => {
    const { orgId, mgmt, member, outsider } = await organization();
    const shared = await mgmt.bucket('shared');
    await mgmt.s3().send(new PutBucketPolicyCommand({
      Bucket: shared,
      Policy: doc([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${shared}/*`, Condition: { StringEquals: { 'aws:PrincipalOrgID': orgId } } }]),
    }));
    const inside = await member.newUser('reader', [S3_ALL]);
    const outside = await outsider.newUser('reader', [S3_ALL]);
    expect(await body(await member.s3(inside).send(new GetObjectCommand({ Bucket: shared, Key: 'data.csv' })))).toContain('Alice');
    expect(await outcome(outsider.s3(outside).send(new GetObjectCommand({ Bucket: shared, Key: 'data.csv' })))).toBe('AccessDenied');
  });

  it('aws:ResourceOrgID: an identity policy that allows only the organization\'s buckets refuses an outside bucket whose policy allows the upload', async () => {
    const { orgId, mgmt, member, outsider } = await organization();
    const user = await member.newUser('etl', [
      S3_ALL,
      { Effect: 'Deny', Action: ['s3:PutObject', 's3:GetObject'], Resource: '*', Condition: { StringNotEquals: { 'aws:ResourceOrgID': orgId } } },
    ]);
    const inOrg = await mgmt.bucket('in-org');
    const dropbox = await outsider.bucket('dropbox');
    for (const [acct, name] of [[mgmt, inOrg], [outsider, dropbox]] as const) {
      await acct.s3().send(new PutBucketPolicyCommand({ Bucket: name, Policy: doc([{ Effect: 'Allow', Principal: { AWS: member.id }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${name}/*` }]) }));
    }
    expect(await outcome(member.s3(user).send(new PutObjectCommand({ Bucket: inOrg, Key: 'x', Body: 'x' })))).toBe('ok');
    expect(await outcome(member.s3(user).send(new PutObjectCommand({ Bucket: dropbox, Key: 'cards.csv', Body: '4111111111111111' })))).toBe('AccessDenied');
  });
});

describe('object tags', () => {
  it('s3:ExistingObjectTag is the object\'s current tags: a deny on classification=pii stops GetObject until the tag is removed', async () => {
    const a = account();
    const bucket = await a.bucket('tagged', 'ssn\n123-45-6789\n', 'classification=pii');
    await a.s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'public.txt', Body: 'hello', Tagging: 'classification=public' }));
    const user = await a.newUser('reader', [
      S3_ALL,
      { Effect: 'Deny', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*`, Condition: { StringEquals: { 's3:ExistingObjectTag/classification': 'pii' } } },
    ]);
    expect(await outcome(a.s3(user).send(new GetObjectCommand({ Bucket: bucket, Key: 'data.csv' })))).toBe('AccessDenied');
    expect(await outcome(a.s3(user).send(new HeadObjectCommand({ Bucket: bucket, Key: 'data.csv' })))).not.toBe('ok');
    expect(await body(await a.s3(user).send(new GetObjectCommand({ Bucket: bucket, Key: 'public.txt' })))).toBe('hello');
    // Tagged pii later: refused from then on; untagged: readable again.
    await a.s3().send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'public.txt', Tagging: { TagSet: [{ Key: 'classification', Value: 'pii' }] } }));
    expect(await outcome(a.s3(user).send(new GetObjectCommand({ Bucket: bucket, Key: 'public.txt' })))).toBe('AccessDenied');
    await a.s3().send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'data.csv' }));
    expect(await outcome(a.s3(user).send(new GetObjectCommand({ Bucket: bucket, Key: 'data.csv' })))).toBe('ok');
  });

  it('s3:ExistingObjectTag applies to the source of CopyObject: a pii-tagged object cannot be copied out', async () => {
    const a = account();
    const src = await a.bucket('src', 'card\n4111111111111111\n', 'classification=pii');
    const dst = await a.bucket('dst');
    const user = await a.newUser('copier', [
      S3_ALL,
      { Effect: 'Deny', Action: 's3:GetObject', Resource: '*', Condition: { StringEquals: { 's3:ExistingObjectTag/classification': 'pii' } } },
    ]);
    expect(await outcome(a.s3(user).send(new CopyObjectCommand({ Bucket: dst, Key: 'copy.csv', CopySource: `${src}/data.csv` })))).toBe('AccessDenied');
    await a.s3().send(new PutObjectCommand({ Bucket: src, Key: 'ok.csv', Body: 'x' }));
    expect(await outcome(a.s3(user).send(new CopyObjectCommand({ Bucket: dst, Key: 'copy.csv', CopySource: `${src}/ok.csv` })))).toBe('ok');
  });

  it('s3:RequestObjectTag and s3:RequestObjectTagKeys: uploads must carry classification, and only allowed tag keys (x-amz-tagging and PutObjectTagging)', async () => {
    const a = account();
    const bucket = await a.bucket('ingest');
    const user = await a.newUser('writer', [
      { Effect: 'Allow', Action: ['s3:PutObject', 's3:PutObjectTagging'], Resource: `arn:aws:s3:::${bucket}/*`,
        Condition: { StringLike: { 's3:RequestObjectTag/classification': '*' }, 'ForAllValues:StringEquals': { 's3:RequestObjectTagKeys': ['classification', 'owner'] } } },
    ]);
    const s3 = a.s3(user);
    expect(await outcome(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'x' })))).toBe('AccessDenied');
    expect(await outcome(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'x', Tagging: 'classification=internal' })))).toBe('ok');
    expect(await outcome(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'b', Body: 'x', Tagging: 'classification=internal&exfil=yes' })))).toBe('AccessDenied');
    expect(await outcome(s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'a', Tagging: { TagSet: [{ Key: 'owner', Value: 'bob' }] } })))).toBe('AccessDenied');
    expect(await outcome(s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'a', Tagging: { TagSet: [{ Key: 'classification', Value: 'public' }, { Key: 'owner', Value: 'bob' }] } })))).toBe('ok');
    const tags = await a.s3().send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'a' }));
    expect(tags.TagSet?.map((t) => t.Key).sort()).toEqual(['classification', 'owner']);
  });
});

describe('transport, public access, ACLs', () => {
  it('aws:SecureTransport: a bucket policy that denies non-TLS requests refuses HTTP and serves HTTPS', async () => {
    const a = account();
    const c = a.c;
    const bucket = await a.bucket('tls');
    await a.s3().send(new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: doc([{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } }]),
    }));
    expect(await outcome(a.s3().send(new GetObjectCommand({ Bucket: bucket, Key: 'data.csv' })))).toBe('AccessDenied');
    const secure = new S3Client({
      endpoint: c.gateway.tlsUrl, region: c.region, forcePathStyle: true, credentials: a.rootCreds,
      requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca: readFileSync(c.caFile!, 'utf8') }) }),
    });
    expect(await body(await secure.send(new GetObjectCommand({ Bucket: bucket, Key: 'data.csv' })))).toContain('Alice');
  });

  it('Block Public Access: a public bucket policy is refused at bucket level and, once the bucket setting is gone, at account level', async () => {
    const a = account();
    const bucket = await a.bucket('bpa');
    const publicRead = doc([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }]);
    expect(await outcome(a.s3().send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: publicRead })))).toBe('AccessDenied');
    await a.s3().send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
    await a.c.client(S3ControlClient, { credentials: a.rootCreds }).send(new PutAccountPublicAccessBlockCommand({
      AccountId: a.id, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
    }));
    expect(await outcome(a.s3().send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: publicRead })))).toBe('AccessDenied');
    // Pinned to the organization's principals the policy is not public, and is accepted.
    await a.s3().send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicPolicy: true } }));
    const pinned = doc([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*`, Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abcdefghij' } } }]);
    expect(await outcome(a.s3().send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: pinned })))).toBe('ok');
  });

  it('Object Ownership: BucketOwnerEnforced disables ACLs (public-read refused, bucket-owner-full-control accepted); ObjectWriter accepts ACLs', async () => {
    const a = account();
    const bucket = await a.bucket('owned');
    expect(await outcome(a.s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'p', Body: 'x', ACL: 'public-read' })))).toBe('AccessControlListNotSupported');
    expect(await outcome(a.s3().send(new PutObjectAclCommand({ Bucket: bucket, Key: 'data.csv', ACL: 'public-read' })))).toBe('AccessControlListNotSupported');
    expect(await outcome(a.s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'p', Body: 'x', ACL: 'bucket-owner-full-control' })))).toBe('ok');
    await a.s3().send(new PutBucketOwnershipControlsCommand({ Bucket: bucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] } }));
    await a.s3().send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
    expect(await outcome(a.s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'q', Body: 'x', ACL: 'private' })))).toBe('ok');
  });

  it('BlockPublicAcls: with ACLs enabled (ObjectWriter), public ACLs are refused on PutBucketAcl, PutObjectAcl and PutObject until the bucket and account settings allow them', async () => {
    const a = account();
    const bucket = await a.bucket('acls');
    await a.s3().send(new PutBucketOwnershipControlsCommand({ Bucket: bucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] } }));
    const AllUsers = 'uri="http://acs.amazonaws.com/groups/global/AllUsers"';
    expect(await outcome(a.s3().send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' })))).toBe('AccessDenied');
    expect(await outcome(a.s3().send(new PutBucketAclCommand({ Bucket: bucket, GrantRead: AllUsers })))).toBe('AccessDenied');
    expect(await outcome(a.s3().send(new PutObjectAclCommand({ Bucket: bucket, Key: 'data.csv', ACL: 'authenticated-read' })))).toBe('AccessDenied');
    expect(await outcome(a.s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'p', Body: 'x', ACL: 'public-read' })))).toBe('AccessDenied');
    expect(await outcome(a.s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'p', Body: 'x', ACL: 'private' })))).toBe('ok');
    await a.s3().send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
    expect(await outcome(a.s3().send(new PutObjectAclCommand({ Bucket: bucket, Key: 'data.csv', ACL: 'public-read' })))).toBe('ok');
    await a.c.client(S3ControlClient, { credentials: a.rootCreds }).send(new PutAccountPublicAccessBlockCommand({
      AccountId: a.id, PublicAccessBlockConfiguration: { BlockPublicAcls: true },
    }));
    expect(await outcome(a.s3().send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read-write' })))).toBe('AccessDenied');
    expect(await outcome(a.s3().send(new CreateBucketCommand({ Bucket: `acl-new-${a.id}`, ACL: 'public-read', ObjectOwnership: 'ObjectWriter' })))).toBe('AccessDenied');
  });

  // S3 User Guide, "Policy examples for ACLs"; a PutObject that sets an ACL also needs s3:PutObjectAcl (PutObject, "Permissions").
  it('a bucket policy can require bucket-owner-full-control from writers of another account (s3:x-amz-acl)', async () => {
    const a = account();
    const b = account();
    const bucket = await a.bucket('dropzone');
    await a.s3().send(new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: doc([{ Effect: 'Allow', Principal: { AWS: b.id }, Action: ['s3:PutObject', 's3:PutObjectAcl'], Resource: `arn:aws:s3:::${bucket}/*`, Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } } }]),
    }));
    const writer = await b.newUser('writer', [S3_ALL]);
    expect(await outcome(b.s3(writer).send(new PutObjectCommand({ Bucket: bucket, Key: 'r', Body: 'x' })))).toBe('AccessDenied');
    expect(await outcome(b.s3(writer).send(new PutObjectCommand({ Bucket: bucket, Key: 'r', Body: 'x', ACL: 'bucket-owner-full-control' })))).toBe('ok');
  });
});

describe('presigned URLs', () => {
  it('a presigned GET works until X-Amz-Expires on the lab clock, and only while its signer is allowed', async () => {
    const a = account();
    const c = a.c;
    const bucket = await a.bucket('share');
    const user = await a.newUser('sharer', [S3_ALL]);
    const sign = (expiresIn: number) => getSignedUrl(a.s3(user), new GetObjectCommand({ Bucket: bucket, Key: 'data.csv' }), { expiresIn });
    const url = await sign(300);
    expect(url).toContain('X-Amz-Expires=300');
    const first = await fetch(url);
    expect(first.status).toBe(200);
    expect(await first.text()).toContain('Alice');
    // The signer's permissions at use time: once its policy is gone the URL no longer works.
    await a.iam.send(new DeleteUserPolicyCommand({ UserName: 'sharer', PolicyName: 'p' }));
    const revoked = await fetch(url);
    expect(revoked.status).toBe(403);
    expect(await revoked.text()).toContain('AccessDenied');
    await a.iam.send(new PutUserPolicyCommand({ UserName: 'sharer', PolicyName: 'p', PolicyDocument: doc([S3_ALL]) }));
    expect((await fetch(url)).status).toBe(200);
    // A bucket policy that denies query-string authentication (s3:authType) refuses it too.
    await a.s3().send(new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: doc([{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `arn:aws:s3:::${bucket}/*`, Condition: { StringEquals: { 's3:authType': 'REST-QUERY-STRING' } } }]),
    }));
    expect((await fetch(url)).status).toBe(403);
    expect(await outcome(a.s3(user).send(new GetObjectCommand({ Bucket: bucket, Key: 'data.csv' })))).toBe('ok');
  });

  it('a presigned URL expires on the lab clock', async () => {
    const a = account();
    const c = a.c;
    const bucket = await a.bucket('expiring');
    const url = await getSignedUrl(a.s3(), new GetObjectCommand({ Bucket: bucket, Key: 'data.csv' }), { expiresIn: 60 });
    expect((await fetch(url)).status).toBe(200);
    // X-Amz-Date counts whole seconds: a URL signed in the second of a jump counts from after it (the
    // lenient reading), so each signing here is a second away from the jumps around it.
    await new Promise((r) => setTimeout(r, 1_100));
    await c.gateway.clock.advance(30_000);
    expect((await fetch(url)).status).toBe(200);
    // Signed after the clock jumped: its 60 seconds count from the lab time it was signed at.
    const later = await getSignedUrl(a.s3(), new GetObjectCommand({ Bucket: bucket, Key: 'data.csv' }), { expiresIn: 60 });
    await new Promise((r) => setTimeout(r, 1_100));
    await c.gateway.clock.advance(31_000);
    expect((await fetch(later)).status).toBe(200);
    const late = await fetch(url);
    expect(late.status).toBe(403);
    expect(await late.text()).toContain('expired');
    await c.gateway.clock.advance(30_000);
    expect((await fetch(later)).status).toBe(403);
  });
});

describe('copies across accounts', () => {
  it('CopyObject into another account\'s bucket needs s3:PutObject there (its bucket policy too) and s3:GetObject on the source', async () => {
    const a = account();
    const b = account();
    const src = await a.bucket('payroll');
    const dst = await b.bucket('exfil');
    const insider = await a.newUser('insider', [S3_ALL]);
    const copy = (creds: Creds, s3 = a.s3(creds)) => outcome(s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'loot.csv', CopySource: `${src}/data.csv` })));
    // B's bucket does not welcome A: refused.
    expect(await copy(insider)).toBe('AccessDenied');
    await b.s3().send(new PutBucketPolicyCommand({ Bucket: dst, Policy: doc([{ Effect: 'Allow', Principal: { AWS: a.id }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${dst}/*` }]) }));
    expect(await copy(insider)).toBe('ok');
    // A's bucket policy: reads only by principals of A's organization/account for a destination in A (aws:ResourceAccount on the put).
    await a.iam.send(new PutUserPolicyCommand({ UserName: 'insider', PolicyName: 'p', PolicyDocument: doc([S3_ALL, { Effect: 'Deny', Action: 's3:PutObject', Resource: '*', Condition: { StringNotEquals: { 'aws:ResourceAccount': a.id } } }]) }));
    expect(await copy(insider)).toBe('AccessDenied');
    // B's principal pulling from A: A's bucket policy must allow the read of the source.
    const puller = await b.newUser('puller', [S3_ALL]);
    expect(await copy(puller, b.s3(puller))).toBe('AccessDenied');
    await a.s3().send(new PutBucketPolicyCommand({ Bucket: src, Policy: doc([{ Effect: 'Allow', Principal: { AWS: b.arn('puller') }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${src}/*` }]) }));
    expect(await copy(puller, b.s3(puller))).toBe('ok');
  });

  it('UploadPartCopy needs s3:GetObject on the source: another account\'s part copy is refused without the source bucket\'s policy', async () => {
    const a = account();
    const b = account();
    const src = await a.bucket('ledger');
    const dst = await b.bucket('staging');
    const puller = await b.newUser('puller', [S3_ALL]);
    const { UploadId } = await b.s3(puller).send(new CreateMultipartUploadCommand({ Bucket: dst, Key: 'big.csv' }));
    const part = () => outcome(b.s3(puller).send(new UploadPartCopyCommand({ Bucket: dst, Key: 'big.csv', UploadId, PartNumber: 1, CopySource: `${src}/data.csv` })));
    expect(await part()).toBe('AccessDenied');
    await a.s3().send(new PutBucketPolicyCommand({ Bucket: src, Policy: doc([{ Effect: 'Allow', Principal: { AWS: b.id }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${src}/*` }]) }));
    expect(await part()).toBe('ok');
  });
});

describe('SSE-KMS', () => {
  it('PutObject into a bucket whose default encryption is a customer managed key needs kms:GenerateDataKey; GetObject needs kms:Decrypt', async () => {
    const a = account();
    const bucket = await a.bucket('kms');
    const { KeyMetadata } = await a.kms().send(new CreateKeyCommand({}));
    const keyArn = KeyMetadata!.Arn!;
    await a.s3().send(new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn } }] } }));
    const s3Only = await a.newUser('s3only', [S3_ALL]);
    expect(await outcome(a.s3(s3Only).send(new PutObjectCommand({ Bucket: bucket, Key: 'enc.csv', Body: 'secret' })))).toBe('AccessDenied');
    const writer = await a.newUser('writer', [S3_ALL, { Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: keyArn, Condition: { StringEquals: { 'kms:ViaService': `s3.${a.c.region}.amazonaws.com` } } }]);
    expect(await outcome(a.s3(writer).send(new PutObjectCommand({ Bucket: bucket, Key: 'enc.csv', Body: 'secret' })))).toBe('ok');
    const head = await a.s3().send(new HeadObjectCommand({ Bucket: bucket, Key: 'enc.csv' }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
    expect(await outcome(a.s3(s3Only).send(new GetObjectCommand({ Bucket: bucket, Key: 'enc.csv' })))).toBe('AccessDenied');
    expect(await outcome(a.s3(writer).send(new GetObjectCommand({ Bucket: bucket, Key: 'enc.csv' })))).toBe('AccessDenied');
    const reader = await a.newUser('reader', [S3_ALL, { Effect: 'Allow', Action: 'kms:Decrypt', Resource: keyArn, Condition: { StringEquals: { 'kms:ViaService': `s3.${a.c.region}.amazonaws.com` } } }]);
    expect(await body(await a.s3(reader).send(new GetObjectCommand({ Bucket: bucket, Key: 'enc.csv' })))).toBe('secret');
    // Reading is not writing: without kms:GenerateDataKey the reader cannot upload under the key.
    expect(await outcome(a.s3(reader).send(new PutObjectCommand({ Bucket: bucket, Key: 'y', Body: 'y', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn })))).toBe('AccessDenied');
  });

  it('another account that the bucket policy lets read still cannot read an SSE-KMS object until the key policy allows it', async () => {
    const a = account();
    const b = account();
    const bucket = await a.bucket('pci');
    const { KeyMetadata } = await a.kms().send(new CreateKeyCommand({}));
    const keyArn = KeyMetadata!.Arn!;
    await a.s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'cards.csv', Body: '4111111111111111', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
    await a.s3().send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: doc([{ Effect: 'Allow', Principal: { AWS: b.id }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }]) }));
    const outsider = await b.newUser('outsider', [S3_ALL, { Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' }]);
    // A plain object in the same bucket is readable: the bucket policy works.
    expect(await outcome(b.s3(outsider).send(new GetObjectCommand({ Bucket: bucket, Key: 'data.csv' })))).toBe('ok');
    expect(await outcome(b.s3(outsider).send(new GetObjectCommand({ Bucket: bucket, Key: 'cards.csv' })))).toBe('AccessDenied');
    // Copying it out is refused for the same reason.
    const dst = await b.bucket('loot');
    expect(await outcome(b.s3(outsider).send(new CopyObjectCommand({ Bucket: dst, Key: 'c', CopySource: `${bucket}/cards.csv` })))).toBe('AccessDenied');
    await a.kms().send(new PutKeyPolicyCommand({
      KeyId: keyArn, PolicyName: 'default',
      Policy: doc([
        { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${a.id}:root` }, Action: 'kms:*', Resource: '*' },
        { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${b.id}:root` }, Action: 'kms:Decrypt', Resource: '*', Condition: { StringEquals: { 'kms:ViaService': `s3.${a.c.region}.amazonaws.com` } } },
      ]),
    }));
    expect(await body(await b.s3(outsider).send(new GetObjectCommand({ Bucket: bucket, Key: 'cards.csv' })))).toBe('4111111111111111');
  });

  it('objects under the AWS managed key aws/s3 are readable in their account and by no other', async () => {
    const a = account();
    const b = account();
    const bucket = await a.bucket('awsmanaged');
    await a.s3().send(new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] } }));
    const local = await a.newUser('local', [S3_ALL]);
    expect(await outcome(a.s3(local).send(new PutObjectCommand({ Bucket: bucket, Key: 'm.csv', Body: 'm' })))).toBe('ok');
    expect(await outcome(a.s3(local).send(new GetObjectCommand({ Bucket: bucket, Key: 'm.csv' })))).toBe('ok');
    await a.s3().send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: doc([{ Effect: 'Allow', Principal: { AWS: b.id }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }]) }));
    const outsider = await b.newUser('outsider', [S3_ALL, { Effect: 'Allow', Action: 'kms:*', Resource: '*' }]);
    expect(await outcome(b.s3(outsider).send(new GetObjectCommand({ Bucket: bucket, Key: 'm.csv' })))).toBe('AccessDenied');
  });
});

/** A client whose calls go through a VPC endpoint: the lab's convention for a simulated host in a VPC. */
function through<C extends { middlewareStack: { add: (...a: never[]) => unknown } }>(client: C, vpce: string): C {
  (client.middlewareStack as unknown as { add: (mw: unknown, o: unknown) => void }).add(
    (next: (a: unknown) => unknown) => async (args: { request: { headers: Record<string, string> } }) => {
      args.request.headers['x-seclab-vpce'] = vpce;
      return next(args);
    },
    { step: 'finalizeRequest', name: 'seclabVpce' },
  );
  return client;
}

async function s3Endpoint(a: ReturnType<typeof account>, PolicyDocument?: string): Promise<{ vpcId: string; vpce: string }> {
  const ec2 = a.c.client(EC2Client, { credentials: a.rootCreds });
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }))).Vpc!.VpcId!;
  const ep = await ec2.send(new CreateVpcEndpointCommand({
    VpcId: vpcId, VpcEndpointType: 'Gateway', ServiceName: `com.amazonaws.${a.c.region}.s3`, ...(PolicyDocument ? { PolicyDocument } : {}),
  }));
  return { vpcId, vpce: ep.VpcEndpoint!.VpcEndpointId! };
}

describe('VPC endpoints', () => {
  it('aws:SourceVpce and aws:SourceVpc: a bucket policy that refuses access except through the endpoint (or from the VPC) serves only calls through it', async () => {
    const a = account();
    const { vpcId, vpce } = await s3Endpoint(a);
    const bucket = await a.bucket('vpc-only');
    const user = await a.newUser('app', [S3_ALL]);
    await a.s3().send(new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: doc([{ Sid: 'Access-to-specific-VPCE-only', Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*`, Condition: { StringNotEquals: { 'aws:SourceVpce': vpce } } }]),
    }));
    expect(await outcome(a.s3(user).send(new GetObjectCommand({ Bucket: bucket, Key: 'data.csv' })))).toBe('AccessDenied');
    expect(await body(await through(a.s3(user), vpce).send(new GetObjectCommand({ Bucket: bucket, Key: 'data.csv' })))).toContain('Alice');
    // Another account naming this endpoint is not in its VPC: the lab cloud knows no such endpoint for it.
    const other = account();
    expect(await outcome(through(other.s3(), vpce).send(new ListBucketsCommand({})))).toBe('InvalidRequest');
    await a.s3().send(new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: doc([{ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*`, Condition: { StringNotEquals: { 'aws:SourceVpc': vpcId } } }]),
    }));
    expect(await outcome(a.s3(user).send(new GetObjectCommand({ Bucket: bucket, Key: 'data.csv' })))).toBe('AccessDenied');
    expect(await outcome(through(a.s3(user), vpce).send(new GetObjectCommand({ Bucket: bucket, Key: 'data.csv' })))).toBe('ok');
    // Through an endpoint aws:SourceIp is absent (aws:VpcSourceIp instead), so a "deny unless from these
    // addresses" statement (NotIpAddress: true for a missing key) refuses every call through the endpoint.
    await a.s3().send(new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: doc([{ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*`, Condition: { NotIpAddress: { 'aws:SourceIp': '0.0.0.0/0' } } }]),
    }));
    expect(await outcome(a.s3(user).send(new GetObjectCommand({ Bucket: bucket, Key: 'data.csv' })))).toBe('ok');
    expect(await outcome(through(a.s3(user), vpce).send(new GetObjectCommand({ Bucket: bucket, Key: 'data.csv' })))).toBe('AccessDenied');
    await a.s3().send(new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: doc([{ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*`, Condition: { NotIpAddress: { 'aws:VpcSourceIp': '10.20.0.0/16' } } }]),
    }));
    expect(await outcome(through(a.c.client(S3Client, { credentials: user, sourceIp: '10.20.3.4' }), vpce).send(new GetObjectCommand({ Bucket: bucket, Key: 'data.csv' })))).toBe('ok');
    expect(await outcome(through(a.c.client(S3Client, { credentials: user, sourceIp: '10.99.3.4' }), vpce).send(new GetObjectCommand({ Bucket: bucket, Key: 'data.csv' })))).toBe('AccessDenied');
  });

  it('an endpoint policy limited to the account\'s own buckets refuses uploads to an outside bucket through the endpoint, whatever that bucket allows', async () => {
    const a = account();
    const b = account();
    const policy = doc([{ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*', Condition: { StringEquals: { 'aws:ResourceAccount': a.id } } }]);
    const { vpce } = await s3Endpoint(a, policy);
    const own = await a.bucket('own');
    const outside = await b.bucket('outside');
    await b.s3().send(new PutBucketPolicyCommand({ Bucket: outside, Policy: doc([{ Effect: 'Allow', Principal: { AWS: a.id }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${outside}/*` }]) }));
    const app = await a.newUser('app', [S3_ALL]);
    const inVpc = through(a.s3(app), vpce);
    expect(await outcome(inVpc.send(new PutObjectCommand({ Bucket: own, Key: 'x', Body: 'x' })))).toBe('ok');
    expect(await outcome(inVpc.send(new PutObjectCommand({ Bucket: outside, Key: 'cards.csv', Body: '4111111111111111' })))).toBe('AccessDenied');
    expect(await outcome(inVpc.send(new CopyObjectCommand({ Bucket: outside, Key: 'c', CopySource: `${own}/data.csv` })))).toBe('AccessDenied');
    // Not through the endpoint, its policy does not apply.
    expect(await outcome(a.s3(app).send(new PutObjectCommand({ Bucket: outside, Key: 'cards.csv', Body: 'x' })))).toBe('ok');
    // An explicit deny in the endpoint policy; then ResetPolicy restores full access.
    const ec2 = a.c.client(EC2Client, { credentials: a.rootCreds });
    await ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: vpce, PolicyDocument: doc([
      { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' },
      { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${own}/*` },
    ]) }));
    expect(await outcome(inVpc.send(new GetObjectCommand({ Bucket: own, Key: 'data.csv' })))).toBe('AccessDenied');
    await ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: vpce, ResetPolicy: true }));
    expect(await outcome(inVpc.send(new GetObjectCommand({ Bucket: own, Key: 'data.csv' })))).toBe('ok');
    expect(await outcome(inVpc.send(new PutObjectCommand({ Bucket: outside, Key: 'y', Body: 'y' })))).toBe('ok');
  });

  it('an S3 endpoint is not on the path of other services\' calls; an endpoint the lab cloud does not know is refused', async () => {
    const a = account();
    const { vpce } = await s3Endpoint(a, doc([{ Effect: 'Deny', Principal: '*', Action: '*', Resource: '*' }]));
    expect(await outcome(through(a.c.client(IAMClient, { credentials: a.rootCreds }), vpce).send(new ListUsersCommand({})))).toBe('ok');
    expect(await outcome(through(a.s3(), 'vpce-0123456789abcdef0').send(new GetObjectCommand({ Bucket: 'nope', Key: 'k' })))).toBe('InvalidRequest');
  });
});
