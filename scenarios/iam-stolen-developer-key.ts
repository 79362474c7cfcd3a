// A developer's access key is stolen (malware on the laptop); the attacker has no MFA device.
import { IAMClient, ListUsersCommand, CreateAccessKeyCommand, DeleteAccessKeyCommand } from '@aws-sdk/client-iam';
import { S3Client, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Scenario } from '../src/engine/types.ts';
import type { LabSession } from '../src/engine/session.ts';
import { attempt, judgeByRefusals } from './lib/attack.ts';
import { ADMIN, randomRogueIp, SHARED_USER, type IamLabEnv } from '../labs/iam/company.ts';

interface State { ip: string; victim: string; creds: { accessKeyId: string; secretAccessKey: string }; adminKeysBefore: string[] }

export const stolenDeveloperKey: Scenario = {
  id: 'stolen-developer-key',
  title: "A developer's stolen key reaches for customer data and IAM",
  description: "Ben's long-term access key is stolen. Without his MFA device the attacker tries customer data, a poisoned artifact and IAM changes from an outside address.",
  techniques: ['T1078.004', 'T1530', 'T1098.001'],
  detections: ['GuardDuty: UnauthorizedAccess:IAMUser/MaliciousIPCaller', 'Sigma: AWS IAM Access Key Created For Another User'],
  points: { blocked: 8 },
  async prepare(session: LabSession): Promise<State> {
    // Ben's own key when he has one, else the shared key he works with.
    const own = session.keysOf('ben')[0];
    const key = own ?? session.keysOf(SHARED_USER)[0];
    if (!key) throw new Error('no key for ben to steal: ben has no access key and the shared key is gone');
    return {
      ip: randomRogueIp(), victim: own ? 'ben' : SHARED_USER, creds: { accessKeyId: key.accessKeyId, secretAccessKey: key.secret },
      adminKeysBefore: session.keysOf(ADMIN).map((k) => k.accessKeyId),
    };
  },
  async inject(session, state) {
    const { ip, creds } = state as State;
    const e = session.env as unknown as IamLabEnv;
    const s3 = session.client(S3Client, { credentials: creds, sourceIp: ip });
    const iam = session.client(IAMClient, { credentials: creds, sourceIp: ip });
    return [
      await attempt(session, 'read customer data', () => s3.send(new GetObjectCommand({ Bucket: e.buckets.customerData, Key: e.objects.customers }))),
      await attempt(session, 'upload a poisoned artifact', () => s3.send(new PutObjectCommand({ Bucket: e.buckets.artifacts, Key: e.objects.artifact, Body: 'PK poisoned' }))),
      await attempt(session, 'enumerate users', () => iam.send(new ListUsersCommand({}))),
      await attempt(session, "create an access key for the admin", () => iam.send(new CreateAccessKeyCommand({ UserName: ADMIN }))),
    ];
  },
  async observe(session, steps, state) {
    const s = state as State;
    return judgeByRefusals(session, steps, s.ip, `stolen key of ${s.victim}`);
  },
  async revert(session, state) {
    // Keys the attacker managed to create would let later scenarios in; delete those only.
    const before = new Set((state as State).adminKeysBefore);
    for (const c of session.keysOf(ADMIN).filter((k) => !before.has(k.accessKeyId))) {
      await session.client(IAMClient).send(new DeleteAccessKeyCommand({ UserName: ADMIN, AccessKeyId: c.accessKeyId })).catch(() => undefined);
    }
  },
};
