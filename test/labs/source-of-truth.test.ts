// Posture checks read the state the gateway enforces from, not moto behind its back (issue 7, item 2).
// Changes made straight in moto (bypassing the gateway, which students cannot do) must not make a
// check pass while the lab cloud still behaves as before. Lab iam's keys and MFA devices are covered
// in iam.test.ts; this file covers the other labs.
import { describe, expect, it } from 'vitest';
import { S3Client, CreateBucketCommand, PutBucketPolicyCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { CloudTrailClient, CreateTrailCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { findLab } from '../../src/engine/labs.ts';
import { LabSession } from '../../src/engine/session.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();

describe('lab siem: the trail is logging as the gateway delivers it', () => {
  it('a trail started in moto only is not logging, and delivers nothing', async () => {
    const lab = await findLab('siem');
    const session = new LabSession(cloud(), cloud().createAccount());
    const bucket = `trail-${session.runId}`;
    const s3 = session.client(S3Client);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:GetBucketAcl', Resource: `arn:aws:s3:::${bucket}` },
          { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/AWSLogs/${session.accountId}/*`, Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } } },
        ],
      }),
    }));
    const ct = session.client(CloudTrailClient);
    await ct.send(new CreateTrailCommand({ Name: 'main', S3BucketName: bucket, IsMultiRegionTrail: true }));
    // Straight to moto: its status says logging, but the gateway never saw StartLogging.
    await cloud().gateway.upstream.json(session.accountId, 'cloudtrail', 'StartLogging', { Name: 'main' });
    const status = await cloud().gateway.upstream.json<{ IsLogging?: boolean }>(session.accountId, 'cloudtrail', 'GetTrailStatus', { Name: 'main' });
    expect(status.IsLogging).toBe(true);

    const check = lab.checks.find((c) => c.id === 'trail-multi-region')!;
    const out = await check.run(session);
    expect(out.passed).toBe(false);
    expect(out.feedback).toContain('not logging');
    // And the lab cloud indeed delivers nothing for it.
    await cloud().gateway.clock.advance(3600_000);
    await cloud().gateway.flush();
    const delivered = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'AWSLogs/' }));
    expect(delivered.Contents ?? []).toEqual([]);

    // Started through the gateway, it is logging, and the check says so.
    await ct.send(new StartLoggingCommand({ Name: 'main' }));
    expect((await check.run(session)).passed).toBe(true);
  });
});
