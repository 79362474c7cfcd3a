// A developer signs in with MFA; an infostealer on his laptop copies the session and uses it from
// outside. MFA cannot help any more (the session is valid and carries aws:MultiFactorAuthPresent):
// least privilege decides what the stolen session reaches (or a source-address condition on the
// office range, which refuses it altogether).
import { IAMClient, CreateAccessKeyCommand, DeleteAccessKeyCommand } from '@aws-sdk/client-iam';
import { S3Client, GetObjectCommand, DeleteObjectCommand, PutBucketPolicyCommand, GetBucketPolicyCommand, DeleteBucketPolicyCommand, PutObjectCommand, GetPublicAccessBlockCommand, DeletePublicAccessBlockCommand, PutPublicAccessBlockCommand, type PublicAccessBlockConfiguration } from '@aws-sdk/client-s3';
import type { Scenario } from '../src/engine/types.ts';
import type { LabSession } from '../src/engine/session.ts';
import type { AwsCredentials } from '../src/cloud/labcloud.ts';
import { attempt, judgeByRefusals } from './lib/attack.ts';
import { ADMIN, person, randomRogueIp, SHARED_USER, type IamLabEnv } from '../labs/iam/company.ts';

interface State {
  ip: string;
  who: string;
  mfa: boolean;
  creds: AwsCredentials;
  adminKeysBefore: string[];
  artifactsPolicy?: string;
  artifactsBlock?: PublicAccessBlockConfiguration;
}

export const stolenMfaSession: Scenario = {
  id: 'stolen-mfa-session',
  title: "A developer's stolen MFA session is used from a rogue address",
  description: "Ben signs in with MFA at the office; malware copies his session credentials, and the attacker uses them from outside to read customer data and reports, delete a release, open the artifacts bucket to the world and create a key for the administrator.",
  techniques: ['T1550.001', 'T1078.004', 'T1530', 'T1485', 'T1098.001'],
  detections: ['GuardDuty: UnauthorizedAccess:IAMUser/MaliciousIPCaller', 'CloudTrail: one session (accessKeyId ASIA…) used from a second source address', 'Sigma: AWS S3 Bucket Policy Made Public'],
  points: { blocked: 8 },
  async prepare(session: LabSession): Promise<State> {
    const e = session.env as unknown as IamLabEnv;
    const office = person(e, 'ben').officeIp;
    // The credentials ben really works with: his own key (in an MFA session when he has a device),
    // else the shared key still on his laptop.
    const who = session.keysOf('ben').length ? 'ben' : SHARED_USER;
    const creds = await session.signIn(who, office);
    if (!creds) throw new Error('ben cannot sign in: no active access key for ben or the shared user');
    const artifactsPolicy = await session.client(S3Client).send(new GetBucketPolicyCommand({ Bucket: e.buckets.artifacts })).then((r) => r.Policy, () => undefined);
    const artifactsBlock = await session.client(S3Client).send(new GetPublicAccessBlockCommand({ Bucket: e.buckets.artifacts })).then((r) => r.PublicAccessBlockConfiguration, () => undefined);
    return {
      ip: randomRogueIp(), who, mfa: !!creds.sessionToken, creds, artifactsPolicy, artifactsBlock,
      adminKeysBefore: session.keysOf(ADMIN).map((k) => k.accessKeyId),
    };
  },
  async inject(session, state) {
    const { ip, creds } = state as State;
    const e = session.env as unknown as IamLabEnv;
    const ua = 'aws-cli/2.15.30 Python/3.11.8 Linux/5.15 exe/x86_64';
    const s3 = session.client(S3Client, { credentials: creds, sourceIp: ip, userAgent: ua });
    const iam = session.client(IAMClient, { credentials: creds, sourceIp: ip, userAgent: ua });
    const publicRead = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${e.buckets.artifacts}/*` }] });
    return [
      await attempt(session, 'read customer data', () => s3.send(new GetObjectCommand({ Bucket: e.buckets.customerData, Key: e.objects.customers }))),
      await attempt(session, 'read the finance report', () => s3.send(new GetObjectCommand({ Bucket: e.buckets.reports, Key: e.objects.report }))),
      await attempt(session, 'delete the current release', () => s3.send(new DeleteObjectCommand({ Bucket: e.buckets.artifacts, Key: e.objects.artifact }))),
      // As in AWS, Block Public Access (on for new buckets) refuses a public policy: the attacker turns it off first.
      await attempt(session, 'open the artifacts bucket to the world', async () => {
        await s3.send(new DeletePublicAccessBlockCommand({ Bucket: e.buckets.artifacts }));
        return s3.send(new PutBucketPolicyCommand({ Bucket: e.buckets.artifacts, Policy: publicRead }));
      }),
      await attempt(session, 'create an access key for the administrator', () => iam.send(new CreateAccessKeyCommand({ UserName: ADMIN }))),
    ];
  },
  async observe(session, steps, state) {
    const s = state as State;
    return judgeByRefusals(session, steps, s.ip, `${s.mfa ? 'stolen MFA session' : 'stolen key'} of ${s.who}`);
  },
  async revert(session, state) {
    // Undo what got through, so later scenarios and checks meet the student's controls.
    const s = state as State;
    const e = session.env as unknown as IamLabEnv;
    const s3 = session.client(S3Client);
    await s3.send(new PutObjectCommand({ Bucket: e.buckets.artifacts, Key: e.objects.artifact, Body: 'PK\u0003\u0004 build 1.4.2' })).catch(() => undefined);
    if (s.artifactsPolicy) await s3.send(new PutBucketPolicyCommand({ Bucket: e.buckets.artifacts, Policy: s.artifactsPolicy })).catch(() => undefined);
    else await s3.send(new DeleteBucketPolicyCommand({ Bucket: e.buckets.artifacts })).catch(() => undefined);
    if (s.artifactsBlock) await s3.send(new PutPublicAccessBlockCommand({ Bucket: e.buckets.artifacts, PublicAccessBlockConfiguration: s.artifactsBlock })).catch(() => undefined);
    else await s3.send(new DeletePublicAccessBlockCommand({ Bucket: e.buckets.artifacts })).catch(() => undefined);
    const before = new Set(s.adminKeysBefore);
    for (const c of session.keysOf(ADMIN).filter((k) => !before.has(k.accessKeyId))) {
      await session.client(IAMClient).send(new DeleteAccessKeyCommand({ UserName: ADMIN, AccessKeyId: c.accessKeyId })).catch(() => undefined);
    }
  },
};
