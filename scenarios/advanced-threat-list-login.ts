// Lab advanced: dana's access key used from an address on the company's threat feed. A copy of the key
// (leaked from a laptop) is used every five minutes for twenty minutes to look around: who am I, which
// buckets, what is in the customer-data bucket, which instances. A GuardDuty ThreatIntelSet made from the
// feed names the address. Blocked when the calls are refused from some step on and the key is inactive.
import { S3Client, ListBucketsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { EC2Client, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import type { AttackStep, Scenario } from '../src/engine/types.ts';
import type { AwsCredentials } from '../src/cloud/labcloud.ts';
import { advancedHidden } from '../labs/advanced/company.ts';
import { attempt } from './lib/attack.ts';
import { ATTACK_STEPS, detection, emptyTally, judge, labEnv, runAttack, type AttackState } from './lib/advanced.ts';

interface State extends AttackState { ip: string; key?: AwsCredentials; refusedSteps: boolean[] }

export const threatListLoginScenario: Scenario = {
  id: 'threat-list-login',
  title: 'The developer\'s key used from an address on the threat feed',
  description: 'A copy of dana\'s access key is used from an address on Northwind\'s threat feed to look around the account: caller identity, buckets, customer data, instances — every five minutes.',
  techniques: ['T1078.004', 'T1087.004', 'T1580', 'T1619'],
  detections: ['GuardDuty: UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom', 'GuardDuty: Recon:IAMUser/MaliciousIPCaller.Custom'],
  points: { detected: 4, blocked: 4 },
  async prepare(session): Promise<State> {
    const env = labEnv(session);
    // The attacker's copy: the key as it was issued (whatever its status is now).
    const k = session.gateway.credentials.forUser(session.accountId, env.developer.userName).find((c) => c.accessKeyId === env.developer.accessKeyId);
    return { ip: advancedHidden(session.hidden).threatLoginIp, ...(k ? { key: { accessKeyId: k.accessKeyId, secretAccessKey: k.secret } } : {}), start: 0, steps: [], business: emptyTally(), refusedSteps: [] };
  },
  async inject(session, state) {
    const st = state as State;
    const env = labEnv(session);
    if (!st.key) return [];
    const opts = { credentials: st.key, sourceIp: st.ip };
    const sts = session.client(STSClient, opts);
    const s3 = session.client(S3Client, opts);
    const ec2 = session.client(EC2Client, opts);
    return runAttack(session, st, '', () => [], async (i): Promise<AttackStep[]> => {
      const steps = [
        await attempt(session, `step ${i + 1}: GetCallerIdentity from ${st.ip}`, () => sts.send(new GetCallerIdentityCommand({}))),
        await attempt(session, `step ${i + 1}: ListBuckets`, () => s3.send(new ListBucketsCommand({}))),
        await attempt(session, `step ${i + 1}: ListObjectsV2 ${env.dataBucket}`, () => s3.send(new ListObjectsV2Command({ Bucket: env.dataBucket }))),
        await attempt(session, `step ${i + 1}: DescribeInstances`, () => ec2.send(new DescribeInstancesCommand({}))),
      ];
      st.refusedSteps.push(steps.every((x) => !x.allowed));
      return steps;
    });
  },
  async observe(session, steps, state) {
    const st = state as State;
    const env = labEnv(session);
    if (!st.key) return { detected: false, blocked: false, steps, evidence: [], feedback: `the scenario found no key ${env.developer.accessKeyId} of ${env.developer.userName} (deleted before the attack?)` };
    const d = await detection(session, st.start, {
      guardDuty: {
        types: ['UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom', 'Recon:IAMUser/MaliciousIPCaller.Custom', 'UnauthorizedAccess:IAMUser/MaliciousIPCaller', 'Recon:IAMUser/MaliciousIPCaller'],
        about: (f) => JSON.stringify(f.resource).includes(st.key!.accessKeyId),
      },
    });
    let from: number | undefined;
    for (let i = st.refusedSteps.length - 1; i >= 0 && st.refusedSteps[i]; i--) from = i;
    const status = session.gateway.credentials.forUser(session.accountId, env.developer.userName).find((c) => c.accessKeyId === st.key!.accessKeyId)?.status ?? 'Deleted';
    const inactive = status !== 'Active';
    const allowed = steps.filter((x) => x.allowed).length;
    const firstRefused = from !== undefined ? steps.find((x) => !x.allowed && x.at >= (st.steps[from]?.from ?? 0)) : undefined;
    return judge(session, st, steps, d, {
      blocked: from !== undefined && inactive, ...(firstRefused ? { effectiveAt: firstRefused.at } : {}),
      blockedText: (by) => `blocked: the key was ${status.toLowerCase()} and refused from step ${from! + 1} of ${ATTACK_STEPS}${by} (${allowed} calls got through before)`,
      notBlockedText: from === undefined
        ? `not blocked: the key still worked from ${st.ip} in the last step (${allowed} calls got through) — disable it (UpdateAccessKey Status Inactive) when GuardDuty reports it`
        : `not blocked: the calls were refused, but the key is still ${status} — disable the key itself (UpdateAccessKey Inactive), not only the address`,
    });
  },
};
