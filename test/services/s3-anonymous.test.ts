// Anonymous S3 reads through the gateway (services/s3/anonymous.ts): an unsigned GetObject, HeadObject
// or ListObjects(V2) is served exactly when AWS would serve it to anyone on the internet (a bucket
// policy for everyone, an AllUsers ACL grant, subject to explicit denies, Block Public Access and Object
// Ownership), and every other unsigned request is refused as before. The refusals come first.
import http from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  S3Client, CreateBucketCommand, PutObjectCommand, PutBucketPolicyCommand, PutPublicAccessBlockCommand, DeletePublicAccessBlockCommand,
  PutBucketOwnershipControlsCommand, PutObjectAclCommand, PutBucketAclCommand, HeadObjectCommand, GetObjectCommand,
} from '@aws-sdk/client-s3';
import { S3ControlClient, PutPublicAccessBlockCommand as PutAccountPublicAccessBlockCommand } from '@aws-sdk/client-s3-control';
import { KMSClient, CreateKeyCommand } from '@aws-sdk/client-kms';
import { anonymousReads } from '../../src/cloud/services/s3/anonymous.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
// S3's runtime serves unsigned requests through serveUnsigned (gateway/server.ts); installed here the
// way S3Service would install it (services/s3/anonymous.ts, anonymousReads).
beforeAll(() => {
  const gw = cloud().gateway;
  const s3 = gw.service('s3');
  Object.assign(s3, { serveUnsigned: anonymousReads(s3, { clock: gw.clock, service: (name) => gw.service(name) }) });
});
const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const INTERNET_IP = '198.51.100.7';
const DATA = 'name,card\nAlice,4111111111111111\n';
let seq = 0;

interface Answer { status: number; code?: string; body: string; headers: http.IncomingHttpHeaders }

/** A raw HTTP request to the gateway, unsigned unless the headers say otherwise. */
function send(method: string, path: string, opts: { headers?: Record<string, string>; body?: string; sourceIp?: string } = {}): Promise<Answer> {
  const url = new URL(cloud().url);
  return new Promise((resolve, reject) => {
    const r = http.request({
      host: url.hostname, port: url.port, method, path,
      headers: { 'x-seclab-source-ip': opts.sourceIp ?? INTERNET_IP, ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}), ...opts.headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body, headers: res.headers, code: /<Code>([^<]+)<\/Code>/.exec(body)?.[1] ?? /"__type"\s*:\s*"([^"]+)"/.exec(body)?.[1] });
      });
    });
    r.on('error', reject);
    r.end(opts.body);
  });
}
const get = (bucket: string, key: string, sourceIp?: string) => send('GET', `/${bucket}/${key}`, { sourceIp });
const head = (bucket: string, key: string) => send('HEAD', `/${bucket}/${key}`);
const list = (bucket: string) => send('GET', `/${bucket}?list-type=2`);

/** A new account with a bucket holding data.csv, as AWS creates buckets (Block Public Access on, ACLs off). */
async function setup() {
  const c = cloud();
  const root = c.createAccount();
  const creds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
  const s3 = c.client(S3Client, { credentials: creds });
  const bucket = `anon-${root.accountId}-${++seq}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'data.csv', Body: DATA }));
  const control = c.client(S3ControlClient, { credentials: creds });
  const accountBlock = (cfg: Record<string, boolean>) => control.send(new PutAccountPublicAccessBlockCommand({ AccountId: root.accountId, PublicAccessBlockConfiguration: cfg }));
  /** Block Public Access off on the bucket and a bucket policy. */
  const policy = async (statements: object[]) => {
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: doc(statements) }));
  };
  /** ACLs on (ObjectWriter), Block Public Access off, data.csv public-read. */
  const publicAcl = async () => {
    await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: bucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] } }));
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
    await s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'data.csv', ACL: 'public-read' }));
  };
  const trail = () => c.gateway.service('cloudtrail').trail.all(root.accountId);
  return { c, root, creds, s3, bucket, accountBlock, policy, publicAcl, trail, arn: `arn:aws:s3:::${bucket}` };
}

const EVERYONE_READS = (bucket: string) => ({ Sid: 'Public', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` });

describe('refused: an anonymous request gets nothing a public grant does not give', () => {
  it('without a runtime that serves unsigned requests (S3Service has not installed anonymousReads), even a public object is refused', async () => {
    const s = await setup();
    await s.policy([EVERYONE_READS(s.bucket)]);
    const runtime = s.c.gateway.service('s3') as unknown as { serveUnsigned?: unknown };
    const hook = runtime.serveUnsigned;
    delete runtime.serveUnsigned;
    try {
      expect(await get(s.bucket, 'data.csv')).toMatchObject({ status: 403, code: 'AccessDenied' });
    } finally {
      runtime.serveUnsigned = hook;
    }
    expect((await get(s.bucket, 'data.csv')).status).toBe(200);
  });

  it('a new bucket (no policy, ACLs off, Block Public Access on): GET, HEAD and list are AccessDenied in S3\'s XML', async () => {
    const { bucket } = await setup();
    const g = await get(bucket, 'data.csv');
    expect(g).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(g.body).not.toContain('Alice');
    expect((await head(bucket, 'data.csv')).status).toBe(403);
    expect(await list(bucket)).toMatchObject({ status: 403, code: 'AccessDenied' });
  });

  it('a bucket policy for another principal (an account, a user) grants anonymous nothing', async () => {
    const s = await setup();
    await s.policy([
      { Effect: 'Allow', Principal: { AWS: '111122223333' }, Action: 's3:*', Resource: [s.arn, `${s.arn}/*`] },
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${s.root.accountId}:user/alice` }, Action: 's3:GetObject', Resource: `${s.arn}/*` },
      { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:GetObject', Resource: `${s.arn}/*` },
    ]);
    expect((await get(s.bucket, 'data.csv')).status).toBe(403);
    expect((await list(s.bucket)).status).toBe(403);
  });

  it('a public policy whose conditions anonymous cannot meet (aws:PrincipalAccount, s3:authType) grants nothing', async () => {
    const s = await setup();
    await s.policy([
      { ...EVERYONE_READS(s.bucket), Condition: { StringEquals: { 'aws:PrincipalAccount': s.root.accountId } } },
      { Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: s.arn, Condition: { StringEquals: { 's3:authType': 'REST-HEADER' } } },
    ]);
    expect((await get(s.bucket, 'data.csv')).status).toBe(403);
    expect((await list(s.bucket)).status).toBe(403);
  });

  it('an explicit Deny on aws:SourceIp refuses what a public Allow grants, from that address only', async () => {
    const s = await setup();
    await s.policy([
      EVERYONE_READS(s.bucket),
      { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `${s.arn}/*`, Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } },
    ]);
    expect((await get(s.bucket, 'data.csv', '203.0.113.9')).status).toBe(403);
    const ok = await get(s.bucket, 'data.csv', '198.51.100.7');
    expect(ok.status).toBe(200);
    expect(ok.body).toBe(DATA);
  });

  it('a data-perimeter Deny on aws:PrincipalAccount (StringNotEquals) refuses anonymous callers, who have no account', async () => {
    const s = await setup();
    await s.policy([EVERYONE_READS(s.bucket), { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `${s.arn}/*`, Condition: { StringNotEquals: { 'aws:PrincipalAccount': s.root.accountId } } }]);
    expect((await get(s.bucket, 'data.csv')).status).toBe(403);
    // ...IfExists is true when the key is absent: denied too. Without the Deny, served.
    await s.s3.send(new PutBucketPolicyCommand({ Bucket: s.bucket, Policy: doc([EVERYONE_READS(s.bucket), { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `${s.arn}/*`, Condition: { StringNotEqualsIfExists: { 'aws:PrincipalAccount': s.root.accountId } } }]) }));
    expect((await get(s.bucket, 'data.csv')).status).toBe(403);
    await s.s3.send(new PutBucketPolicyCommand({ Bucket: s.bucket, Policy: doc([EVERYONE_READS(s.bucket)]) }));
    expect((await get(s.bucket, 'data.csv')).status).toBe(200);
  });

  it('a Deny on aws:SecureTransport false refuses plain HTTP', async () => {
    const s = await setup();
    await s.policy([EVERYONE_READS(s.bucket), { Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:*', Resource: `${s.arn}/*`, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }]);
    expect((await get(s.bucket, 'data.csv')).status).toBe(403);
  });

  it('RestrictPublicBuckets, of the bucket or of the account, refuses a public policy\'s grant', async () => {
    const s = await setup();
    await s.policy([EVERYONE_READS(s.bucket)]);
    expect((await get(s.bucket, 'data.csv')).status).toBe(200);
    await s.s3.send(new PutPublicAccessBlockCommand({ Bucket: s.bucket, PublicAccessBlockConfiguration: { RestrictPublicBuckets: true } }));
    expect((await get(s.bucket, 'data.csv')).status).toBe(403);
    await s.s3.send(new DeletePublicAccessBlockCommand({ Bucket: s.bucket }));
    expect((await get(s.bucket, 'data.csv')).status).toBe(200);
    await s.accountBlock({ RestrictPublicBuckets: true });
    expect((await get(s.bucket, 'data.csv')).status).toBe(403);
  });

  it('RestrictPublicBuckets with a public policy also refuses what an AllUsers ACL grants', async () => {
    const s = await setup();
    await s.publicAcl();
    await s.s3.send(new PutBucketPolicyCommand({ Bucket: s.bucket, Policy: doc([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${s.arn}/other/*` }]) }));
    expect((await get(s.bucket, 'data.csv')).status).toBe(200);
    await s.s3.send(new PutPublicAccessBlockCommand({ Bucket: s.bucket, PublicAccessBlockConfiguration: { RestrictPublicBuckets: true } }));
    expect((await get(s.bucket, 'data.csv')).status).toBe(403);
  });

  it('IgnorePublicAcls, of the bucket or of the account, refuses an AllUsers READ grant', async () => {
    const s = await setup();
    await s.publicAcl();
    expect((await get(s.bucket, 'data.csv')).status).toBe(200);
    await s.s3.send(new PutPublicAccessBlockCommand({ Bucket: s.bucket, PublicAccessBlockConfiguration: { IgnorePublicAcls: true } }));
    expect((await get(s.bucket, 'data.csv')).status).toBe(403);
    await s.s3.send(new DeletePublicAccessBlockCommand({ Bucket: s.bucket }));
    expect((await get(s.bucket, 'data.csv')).status).toBe(200);
    await s.accountBlock({ IgnorePublicAcls: true });
    expect((await get(s.bucket, 'data.csv')).status).toBe(403);
    expect((await head(s.bucket, 'data.csv')).status).toBe(403);
  });

  it('BucketOwnerEnforced (ACLs disabled): an object\'s AllUsers grant, and a bucket\'s, grant nothing', async () => {
    const s = await setup();
    await s.publicAcl();
    await s.s3.send(new PutBucketAclCommand({ Bucket: s.bucket, ACL: 'public-read' }));
    expect((await get(s.bucket, 'data.csv')).status).toBe(200);
    expect((await list(s.bucket)).status).toBe(200);
    await s.s3.send(new PutBucketOwnershipControlsCommand({ Bucket: s.bucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
    expect((await get(s.bucket, 'data.csv')).status).toBe(403);
    expect((await list(s.bucket)).status).toBe(403);
  });

  it('a bucket\'s public-read ACL lets anyone list it, not read its objects', async () => {
    const s = await setup();
    await s.s3.send(new PutBucketOwnershipControlsCommand({ Bucket: s.bucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] } }));
    await s.s3.send(new DeletePublicAccessBlockCommand({ Bucket: s.bucket }));
    await s.s3.send(new PutBucketAclCommand({ Bucket: s.bucket, ACL: 'public-read' }));
    const l = await list(s.bucket);
    expect(l.status).toBe(200);
    expect(l.body).toContain('<Key>data.csv</Key>');
    expect((await get(s.bucket, 'data.csv')).status).toBe(403);
  });

  it('signed requests that fail authentication stay refused, even for a public object', async () => {
    const s = await setup();
    await s.policy([EVERYONE_READS(s.bucket)]);
    const wrong = s.c.client(S3Client, { credentials: { ...s.creds, secretAccessKey: 'wrong' } });
    await expect(wrong.send(new GetObjectCommand({ Bucket: s.bucket, Key: 'data.csv' }))).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
    const unknown = s.c.client(S3Client, { credentials: { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x' } });
    await expect(unknown.send(new GetObjectCommand({ Bucket: s.bucket, Key: 'data.csv' }))).rejects.toMatchObject({ name: 'InvalidAccessKeyId' });
    // A garbled Authorization header, a partial presigned URL, a session token alone: not anonymous.
    for (const r of [
      await send('GET', `/${s.bucket}/data.csv`, { headers: { authorization: 'AWS4-HMAC-SHA256 garbage' } }),
      await send('GET', `/${s.bucket}/data.csv`, { headers: { authorization: `AWS ${s.creds.accessKeyId}:bad` } }),
      await send('GET', `/${s.bucket}/data.csv?X-Amz-Credential=${s.creds.accessKeyId}%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=00`),
      await send('GET', `/${s.bucket}/data.csv?AWSAccessKeyId=${s.creds.accessKeyId}&Signature=x`),
      await send('GET', `/${s.bucket}/data.csv`, { headers: { 'x-amz-security-token': 'token' } }),
    ]) {
      expect(r.status).toBe(403);
      expect(r.body).not.toContain('Alice');
    }
  });

  it('anonymous writes and other operations are refused, even where a policy grants everyone s3:*', async () => {
    const s = await setup();
    await s.policy([{ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: [s.arn, `${s.arn}/*`] }]);
    expect((await get(s.bucket, 'data.csv')).status).toBe(200);
    expect((await send('PUT', `/${s.bucket}/data.csv`, { body: 'overwritten' })).status).toBe(403);
    expect((await send('PUT', `/${s.bucket}/new.txt`, { body: 'x' })).status).toBe(403);
    expect((await send('DELETE', `/${s.bucket}/data.csv`)).status).toBe(403);
    expect((await send('PUT', `/${s.bucket}?policy`, { body: doc([{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `${s.arn}/*` }]) })).status).toBe(403);
    expect((await send('DELETE', `/${s.bucket}?policy`)).status).toBe(403);
    expect((await send('GET', `/${s.bucket}/data.csv?acl`)).status).toBe(403);
    expect((await send('GET', `/${s.bucket}/data.csv?tagging`)).status).toBe(403);
    expect((await send('GET', `/${s.bucket}?policy`)).status).toBe(403);
    expect((await send('GET', `/${s.bucket}?versions`)).status).toBe(403);
    expect((await send('GET', '/')).status).toBe(403); // ListBuckets
    // Nothing changed.
    expect(await (await s.s3.send(new GetObjectCommand({ Bucket: s.bucket, Key: 'data.csv' }))).Body!.transformToString()).toBe(DATA);
    await expect(s.s3.send(new HeadObjectCommand({ Bucket: s.bucket, Key: 'new.txt' }))).rejects.toMatchObject({ name: 'NotFound' });
    expect((await get(s.bucket, 'data.csv')).status).toBe(200);
  });

  it('other services refuse unsigned requests as before (the wire check: only S3 is served unsigned)', async () => {
    const iam = await send('POST', '/', { headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: 'Action=ListUsers&Version=2010-05-08' });
    expect(iam).toMatchObject({ status: 400, code: 'MalformedQueryString' });
    expect(iam.body).not.toContain('ListUsersResult');
    const kms = await send('POST', '/', { headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.ListKeys' }, body: '{}' });
    expect(kms.status).toBeGreaterThanOrEqual(400);
    expect(kms.body).not.toContain('"Keys"');
  });

  it('a response-* override is refused on an anonymous GET (GetObject: they need a signed request)', async () => {
    const s = await setup();
    await s.policy([EVERYONE_READS(s.bucket)]);
    const r = await send('GET', `/${s.bucket}/data.csv?response-content-type=text%2Fhtml`);
    expect(r).toMatchObject({ status: 400, code: 'InvalidRequest' });
  });

  it('an SSE-KMS object is refused to anonymous callers even where a policy makes it public', async () => {
    const s = await setup();
    const key = await s.c.client(KMSClient, { credentials: s.creds }).send(new CreateKeyCommand({}));
    await s.s3.send(new PutObjectCommand({ Bucket: s.bucket, Key: 'kms.csv', Body: DATA, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.KeyMetadata!.Arn }));
    await s.policy([EVERYONE_READS(s.bucket)]);
    const r = await get(s.bucket, 'kms.csv');
    expect(r).toMatchObject({ status: 400, code: 'InvalidArgument' });
    expect(r.body).not.toContain('Alice');
    expect((await get(s.bucket, 'data.csv')).status).toBe(200);
  });

  it('a missing key is 403 to a caller that may not list the bucket, 404 to one that may', async () => {
    const s = await setup();
    await s.policy([EVERYONE_READS(s.bucket)]);
    expect((await get(s.bucket, 'nothing-here.csv')).status).toBe(403);
    await s.s3.send(new PutBucketPolicyCommand({ Bucket: s.bucket, Policy: doc([EVERYONE_READS(s.bucket), { Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: s.arn }]) }));
    expect(await get(s.bucket, 'nothing-here.csv')).toMatchObject({ status: 404, code: 'NoSuchKey' });
  });

  it('an unknown bucket is refused as before', async () => {
    expect((await get('no-such-bucket-anywhere-1234', 'data.csv')).status).toBe(403);
  });
});

describe('served: what a public grant gives', () => {
  it('a public bucket policy: GET returns the object with S3\'s headers, HEAD its metadata, path and virtual-host style', async () => {
    const s = await setup();
    await s.policy([EVERYONE_READS(s.bucket), { Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:ListBucket', Resource: s.arn }]);
    const g = await get(s.bucket, 'data.csv');
    expect(g.status).toBe(200);
    expect(g.body).toBe(DATA);
    expect(g.headers['etag']).toBeTruthy();
    expect(g.headers['content-length']).toBe(String(DATA.length));
    const h = await head(s.bucket, 'data.csv');
    expect(h.status).toBe(200);
    expect(h.headers['etag']).toBe(g.headers['etag']);
    expect(h.body).toBe('');
    const v = await send('GET', '/data.csv', { headers: { host: `${s.bucket}.localhost:${new URL(s.c.url).port}` } });
    expect(v.status).toBe(200);
    expect(v.body).toBe(DATA);
    const l = await list(s.bucket);
    expect(l.status).toBe(200);
    expect(l.body).toContain('<Key>data.csv</Key>');
    expect((await send('GET', `/${s.bucket}`)).status).toBe(200); // ListObjects (v1)
    await s.s3.send(new PutObjectCommand({ Bucket: s.bucket, Key: 'dir/a b+c é.csv', Body: DATA }));
    expect((await send('GET', `/${s.bucket}/dir/a%20b%2Bc%20%C3%A9.csv`)).body).toBe(DATA);
  });

  it('a policy pinned to a source address serves that address only; a NotPrincipal Allow serves anonymous too', async () => {
    const s = await setup();
    await s.policy([{ ...EVERYONE_READS(s.bucket), Condition: { IpAddress: { 'aws:SourceIp': '198.51.100.0/24' } } }]);
    expect((await get(s.bucket, 'data.csv', '198.51.100.20')).status).toBe(200);
    expect((await get(s.bucket, 'data.csv', '192.0.2.1')).status).toBe(403);
    await s.s3.send(new PutBucketPolicyCommand({ Bucket: s.bucket, Policy: doc([{ Effect: 'Allow', NotPrincipal: { AWS: '111122223333' }, Action: 's3:GetObject', Resource: `${s.arn}/*` }]) }));
    expect((await get(s.bucket, 'data.csv', '192.0.2.1')).status).toBe(200);
  });

  it('a policy on an object tag (s3:ExistingObjectTag) serves the tagged objects only', async () => {
    const s = await setup();
    await s.s3.send(new PutObjectCommand({ Bucket: s.bucket, Key: 'open.csv', Body: DATA, Tagging: 'share=public' }));
    await s.policy([{ ...EVERYONE_READS(s.bucket), Condition: { StringEquals: { 's3:ExistingObjectTag/share': 'public' } } }]);
    expect((await get(s.bucket, 'open.csv')).status).toBe(200);
    expect((await get(s.bucket, 'data.csv')).status).toBe(403);
  });

  it('Block Public Access settings that only stop new grants (BlockPublicAcls, BlockPublicPolicy) leave existing ones served, as in AWS', async () => {
    const s = await setup();
    await s.publicAcl();
    await s.s3.send(new PutBucketPolicyCommand({ Bucket: s.bucket, Policy: doc([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${s.arn}/open/*` }]) }));
    await s.s3.send(new PutObjectCommand({ Bucket: s.bucket, Key: 'open/x.csv', Body: DATA }));
    await s.s3.send(new PutPublicAccessBlockCommand({ Bucket: s.bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true } }));
    expect((await get(s.bucket, 'data.csv')).status).toBe(200);
    expect((await get(s.bucket, 'open/x.csv')).status).toBe(200);
  });

  it('CloudTrail records anonymous reads, allowed and refused, in the bucket owner\'s account as ANONYMOUS_PRINCIPAL, and nothing as the owner', async () => {
    const s = await setup();
    await s.policy([EVERYONE_READS(s.bucket)]);
    const before = s.trail().length;
    expect((await get(s.bucket, 'data.csv')).status).toBe(200);
    expect((await list(s.bucket)).status).toBe(403);
    const recs = s.trail().slice(before);
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({
      eventName: 'GetObject', eventSource: 's3.amazonaws.com', sourceIPAddress: INTERNET_IP, recipientAccountId: s.root.accountId,
      userIdentity: { type: 'AWSAccount', principalId: '', accountId: 'ANONYMOUS_PRINCIPAL' }, eventCategory: 'Data',
      requestParameters: { bucketName: s.bucket, key: 'data.csv' },
    });
    expect(recs[0]!.errorCode).toBeUndefined();
    expect(recs[1]).toMatchObject({ eventName: 'ListObjectsV2', errorCode: 'AccessDenied', userIdentity: { accountId: 'ANONYMOUS_PRINCIPAL' } });
    expect(recs.some((r) => r.userIdentity.type === 'Root' || r.userIdentity.accessKeyId)).toBe(false);
  });
});
