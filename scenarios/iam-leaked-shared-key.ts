// The shared dev-team key leaked (a laptop, a public repository) and is used from an outside address.
import { IAMClient, CreateUserCommand } from '@aws-sdk/client-iam';
import { S3Client, ListBucketsCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Scenario } from '../src/engine/types.ts';
import type { LabSession } from '../src/engine/session.ts';
import { attempt, judgeByRefusals } from './lib/attack.ts';
import { randomRogueIp, SHARED_USER, type IamLabEnv } from '../labs/iam/company.ts';

interface State { ip: string; creds: { accessKeyId: string; secretAccessKey: string } }

export const leakedSharedKey: Scenario = {
  id: 'leaked-shared-key',
  title: 'The leaked shared key is used from a rogue address',
  description: 'An attacker found the dev-team access key and uses it from outside the office to read customer data, plant a build artifact and create a user.',
  techniques: ['T1078.004', 'T1552.001', 'T1530'],
  detections: ['Sigma: AWS IAM User Created By Unusual Source', 'GuardDuty: UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS'],
  points: { blocked: 8 },
  async prepare(session: LabSession): Promise<State> {
    // The attacker holds the key as it leaked, whatever became of it since.
    const key = session.gateway.credentials.forUser(session.accountId, SHARED_USER).find((c) => c.kind === 'user');
    if (!key) throw new Error('the lab has no dev-team key to leak');
    return { ip: randomRogueIp(), creds: { accessKeyId: key.accessKeyId, secretAccessKey: key.secret } };
  },
  async inject(session, state) {
    const { ip, creds } = state as State;
    const e = session.env as unknown as IamLabEnv;
    const s3 = session.client(S3Client, { credentials: creds, sourceIp: ip, userAgent: 'python-requests/2.31' });
    const iam = session.client(IAMClient, { credentials: creds, sourceIp: ip, userAgent: 'python-requests/2.31' });
    return [
      await attempt(session, 'list buckets', () => s3.send(new ListBucketsCommand({}))),
      await attempt(session, 'read customer data', () => s3.send(new GetObjectCommand({ Bucket: e.buckets.customerData, Key: e.objects.customers }))),
      await attempt(session, 'plant a backdoored build artifact', () => s3.send(new PutObjectCommand({ Bucket: e.buckets.artifacts, Key: 'releases/app-1.4.3.zip', Body: 'PK backdoor' }))),
      await attempt(session, 'create a user for persistence', () => iam.send(new CreateUserCommand({ UserName: `svc-backup-${session.runId}` }))),
    ];
  },
  async observe(session, steps, state) {
    return judgeByRefusals(session, steps, (state as State).ip, 'leaked shared key');
  },
};
