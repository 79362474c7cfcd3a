// The administrator's password and key are phished, but not her MFA device.
import { IAMClient, CreateUserCommand } from '@aws-sdk/client-iam';
import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3';
import { STSClient, GetSessionTokenCommand } from '@aws-sdk/client-sts';
import type { Scenario } from '../src/engine/types.ts';
import type { LabSession } from '../src/engine/session.ts';
import { attempt, judgeByRefusals } from './lib/attack.ts';
import { ADMIN, person, type IamLabEnv } from '../labs/iam/company.ts';

interface State { ip: string; creds: { accessKeyId: string; secretAccessKey: string }; serial: string }

export const wrongMfa: Scenario = {
  id: 'wrong-mfa',
  title: 'A session with a wrong MFA code, then the bare key',
  description: "Malware on alice's laptop has her access key but not her MFA device: it guesses an MFA code, then tries the key without MFA, from her office address.",
  techniques: ['T1078.004', 'T1621', 'T1136.003'],
  detections: ['Sigma: AWS STS GetSessionToken Misuse', 'CloudTrail: errorCode AccessDenied on GetSessionToken'],
  points: { blocked: 8 },
  async prepare(session: LabSession): Promise<State> {
    const key = session.keysOf(ADMIN)[0];
    if (!key) throw new Error('alice has no active access key to phish');
    const serial = session.mfaDevicesOf(ADMIN)[0] ?? `arn:aws:iam::${session.accountId}:mfa/${ADMIN}`;
    // Malware on alice's laptop: the calls come from her office address, so only MFA can stop them.
    const ip = person(session.env as unknown as IamLabEnv, ADMIN).officeIp;
    return { ip, creds: { accessKeyId: key.accessKeyId, secretAccessKey: key.secret }, serial };
  },
  async inject(session, state) {
    const { ip, creds, serial } = state as State;
    const e = session.env as unknown as IamLabEnv;
    // A code that is certainly wrong now: the real one shifted by a constant.
    const real = session.mfaDevicesOf(ADMIN).length ? session.gateway.service('iam').mfaCode(session.accountId, serial) : '000000';
    const wrong = String((Number(real) + 123457) % 1_000_000).padStart(6, '0');
    const sts = session.client(STSClient, { credentials: creds, sourceIp: ip });
    const iam = session.client(IAMClient, { credentials: creds, sourceIp: ip });
    const s3 = session.client(S3Client, { credentials: creds, sourceIp: ip });
    return [
      await attempt(session, 'get a session with a guessed MFA code', () => sts.send(new GetSessionTokenCommand({ SerialNumber: serial, TokenCode: wrong }))),
      await attempt(session, 'create a user with the bare key', () => iam.send(new CreateUserCommand({ UserName: `helpdesk-${session.runId}` }))),
      await attempt(session, 'read customer data with the bare key', () => s3.send(new GetObjectCommand({ Bucket: e.buckets.customerData, Key: e.objects.customers }))),
    ];
  },
  async observe(session, steps, state) {
    return judgeByRefusals(session, steps, (state as State).ip, "alice's phished key without her MFA device");
  },
};
