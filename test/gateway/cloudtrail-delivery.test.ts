// CloudTrail delivery to S3 (log files and signed, chained digests) and to CloudWatch Logs, on the
// lab clock; StopLogging stops delivery and is itself delivered.
import { createHash, createPublicKey, createVerify } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { IAMClient, ListUsersCommand, CreateUserCommand } from '@aws-sdk/client-iam';
import { S3Client, CreateBucketCommand, PutBucketPolicyCommand, ListObjectsV2Command, GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { CloudTrailClient, CreateTrailCommand, StartLoggingCommand, StopLoggingCommand, ListPublicKeysCommand } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient, CreateLogGroupCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();

function trailBucketPolicy(bucket: string, account: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'AclCheck', Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:GetBucketAcl', Resource: `arn:aws:s3:::${bucket}` },
      {
        Sid: 'Write', Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:PutObject',
        Resource: `arn:aws:s3:::${bucket}/AWSLogs/${account}/*`,
        Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } },
      },
    ],
  });
}

async function setup(withPolicy: boolean) {
  const c = cloud();
  const root = c.createAccount();
  const creds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
  const s3 = c.client(S3Client, { credentials: creds });
  const ct = c.client(CloudTrailClient, { credentials: creds });
  const bucket = `trail-${root.accountId}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  if (withPolicy) await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: trailBucketPolicy(bucket, root.accountId) }));
  await c.client(CloudWatchLogsClient, { credentials: creds }).send(new CreateLogGroupCommand({ logGroupName: 'trail-events' }));
  await ct.send(new CreateTrailCommand({
    Name: 'main-trail', S3BucketName: bucket, IsMultiRegionTrail: true, EnableLogFileValidation: true,
    CloudWatchLogsLogGroupArn: `arn:aws:logs:us-east-1:${root.accountId}:log-group:trail-events:*`,
    CloudWatchLogsRoleArn: `arn:aws:iam::${root.accountId}:role/ct-logs`,
  }));
  await ct.send(new StartLoggingCommand({ Name: 'main-trail' }));
  return { c, root, creds, s3, ct, bucket };
}

async function objects(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  return ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!).sort();
}

async function records(s3: S3Client, bucket: string, key: string): Promise<{ eventName: string; requestParameters?: { userName?: string } }[]> {
  const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray();
  return (JSON.parse(gunzipSync(body).toString()) as { Records: { eventName: string; requestParameters?: { userName?: string } }[] }).Records;
}

describe('CloudTrail delivery', () => {
  it('writes gzipped Records files with AWS\'s key layout and events to CloudWatch Logs', async () => {
    const { c, root, creds, s3, bucket } = await setup(true);
    await c.client(IAMClient, { credentials: creds }).send(new ListUsersCommand({}));
    await c.gateway.clock.advance(5 * 60_000);
    const keys = await objects(s3, bucket, `AWSLogs/${root.accountId}/CloudTrail/`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys[0]).toMatch(new RegExp(`^AWSLogs/${root.accountId}/CloudTrail/us-east-1/\\d{4}/\\d{2}/\\d{2}/${root.accountId}_CloudTrail_us-east-1_\\d{8}T\\d{4}Z_[0-9a-f]{16}\\.json\\.gz$`));
    const names = (await Promise.all(keys.map((k) => records(s3, bucket, k)))).flat().map((r) => r.eventName);
    expect(names).toContain('StartLogging');
    expect(names).toContain('ListUsers');
    expect(names).not.toContain('CreateTrail'); // before logging started
    const logs = await c.client(CloudWatchLogsClient, { credentials: creds }).send(new GetLogEventsCommand({ logGroupName: 'trail-events', logStreamName: `${root.accountId}_CloudTrail_us-east-1` }));
    expect(logs.events!.map((e) => JSON.parse(e.message!).eventName)).toContain('ListUsers');
  });

  it('stops after StopLogging, which is itself delivered', async () => {
    const { c, root, creds, s3, ct, bucket } = await setup(true);
    const iam = c.client(IAMClient, { credentials: creds });
    await iam.send(new CreateUserCommand({ UserName: 'before-stop' }));
    await ct.send(new StopLoggingCommand({ Name: 'main-trail' }));
    await iam.send(new CreateUserCommand({ UserName: 'after-stop' }));
    await c.gateway.clock.advance(5 * 60_000);
    const all = (await Promise.all((await objects(s3, bucket, `AWSLogs/${root.accountId}/CloudTrail/`)).map((k) => records(s3, bucket, k)))).flat();
    const users = all.filter((r) => r.eventName === 'CreateUser').map((r) => r.requestParameters?.userName);
    expect(users).toEqual(['before-stop']);
    expect(all.map((r) => r.eventName)).toContain('StopLogging');
  });

  it('writes hourly digest files, signed and chained, that validate with ListPublicKeys', async () => {
    const { c, root, creds, s3, ct, bucket } = await setup(true);
    const iam = c.client(IAMClient, { credentials: creds });
    for (let hour = 0; hour < 2; hour++) {
      await iam.send(new ListUsersCommand({}));
      await c.gateway.clock.advance(5 * 60_000);
      await c.gateway.clock.advance(56 * 60_000);
    }
    const digests = await objects(s3, bucket, `AWSLogs/${root.accountId}/CloudTrail-Digest/us-east-1/`);
    expect(digests.length).toBe(2);
    const keys = (await ct.send(new ListPublicKeysCommand({}))).PublicKeyList!;
    const publicKey = createPublicKey({ key: Buffer.from(keys[0]!.Value!), format: 'der', type: 'pkcs1' });
    let previousSignature = 'null';
    for (const key of digests) {
      const raw = gunzipSync(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
      const digest = JSON.parse(raw.toString()) as { digestEndTime: string; previousDigestSignature: string | null; logFiles: { s3Object: string; hashValue: string }[] };
      const meta = (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).Metadata!;
      const toSign = `${digest.digestEndTime}\n${bucket}/${key}\n${createHash('sha256').update(raw).digest('hex')}\n${previousSignature}`;
      expect(createVerify('RSA-SHA256').update(toSign).verify(publicKey, Buffer.from(meta['signature']!, 'hex'))).toBe(true);
      expect(digest.previousDigestSignature ?? 'null').toBe(previousSignature);
      // Each listed log file is unchanged.
      for (const f of digest.logFiles) {
        const body = gunzipSync(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: f.s3Object }))).Body!.transformToByteArray());
        expect(createHash('sha256').update(body).digest('hex')).toBe(f.hashValue);
      }
      expect(digest.logFiles.length).toBeGreaterThan(0);
      previousSignature = meta['signature']!;
    }
  });

  it('delivers nothing when the bucket policy does not let CloudTrail write', async () => {
    const { c, root, creds, s3, bucket } = await setup(false);
    await c.client(IAMClient, { credentials: creds }).send(new ListUsersCommand({}));
    await c.gateway.clock.advance(5 * 60_000);
    expect(await objects(s3, bucket, 'AWSLogs/')).toEqual([]);
    expect(c.gateway.service('cloudtrail').delivery.status(root.accountId, 'main-trail')?.error).toMatch(/bucket policy/);
  });
});
