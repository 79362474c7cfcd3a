// Lab siem: the developer's access key leaked (a public repository) and someone probes what it may do from a
// hosting provider's address, mostly in another region (us-west-2, where nobody at Northwind works): launching
// instances, creating key pairs and users, reading data. Nearly every call is refused. Detected from the burst of
// AccessDenied in CloudTrail, which a trail sees only when it records every region.
import { EC2Client, RunInstancesCommand, CreateKeyPairCommand, DescribeInstancesCommand, DescribeSecurityGroupsCommand, AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand } from '@aws-sdk/client-ec2';
import { IAMClient, CreateUserCommand, ListUsersCommand, CreateAccessKeyCommand } from '@aws-sdk/client-iam';
import { S3Client, ListBucketsCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import type { Scenario } from '../src/engine/types.ts';
import type { LabSession } from '../src/engine/session.ts';
import { attempt } from './lib/attack.ts';
import { DEVELOPER, EXPORTS, randomRogueIp } from '../labs/siem/company.ts';
import { keyOf, labEnv, MINUTE } from '../labs/siem/background.ts';
import { injecting, observeAttack, siemRun } from '../labs/siem/run.ts';

interface State { ip: string; creds: { accessKeyId: string; secretAccessKey: string }; start: number }
export const ATTACK_REGION = 'us-west-2';

export const unauthorizedBurst: Scenario = {
  id: 'unauthorized-burst',
  title: 'A leaked key probes the account: a burst of refused calls, mostly in another region',
  description: "The developer's key leaked. From a hosting provider's address, someone tries to launch instances and create key pairs in us-west-2, create users and read customer data. Nearly all of it is refused.",
  techniques: ['T1078.004', 'T1580', 'T1087.004'],
  detections: ['seclab: Burst of Access-Denied API Calls by One Identity'],
  points: { blocked: 0, detected: 10 },
  async prepare(session: LabSession): Promise<State> {
    const creds = keyOf(session, DEVELOPER);
    if (!creds) throw new Error(`${DEVELOPER} has no access key to leak`);
    return { ip: randomRogueIp(), creds, start: 0 };
  },
  async inject(session, state) {
    const st = state as State;
    return injecting(session, st, async (run) => {
      const env = labEnv(session);
      const opts = { credentials: st.creds, sourceIp: st.ip, userAgent: 'python-requests/2.31.0' };
      const west = session.client(EC2Client, { ...opts, region: ATTACK_REGION });
      const iam = session.client(IAMClient, opts);
      const s3 = session.client(S3Client, opts);
      const steps = [
        await attempt(session, `list instances in ${ATTACK_REGION}`, () => west.send(new DescribeInstancesCommand({}))),
        await attempt(session, `list security groups in ${ATTACK_REGION}`, () => west.send(new DescribeSecurityGroupsCommand({}))),
      ];
      for (let i = 0; i < 3; i++) steps.push(await attempt(session, `launch a c5.24xlarge in ${ATTACK_REGION} (${i + 1})`, () => west.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', InstanceType: 'c5.24xlarge', MinCount: 1, MaxCount: 4 }))));
      for (let i = 0; i < 2; i++) steps.push(await attempt(session, `create a key pair in ${ATTACK_REGION}`, () => west.send(new CreateKeyPairCommand({ KeyName: `ops-${i}-${session.runId}` }))));
      steps.push(await attempt(session, `create a security group in ${ATTACK_REGION}`, () => west.send(new CreateSecurityGroupCommand({ GroupName: `ssh-${session.runId}`, Description: 'ssh' }))));
      steps.push(await attempt(session, `open SSH to the world in ${ATTACK_REGION}`, () => west.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: 'sg-0123456789abcdef0', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }))));
      steps.push(await attempt(session, `launch again in ${ATTACK_REGION}`, () => west.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', InstanceType: 'p3.16xlarge', MinCount: 1, MaxCount: 2 }))));
      steps.push(await attempt(session, 'list IAM users', () => iam.send(new ListUsersCommand({}))));
      steps.push(await attempt(session, 'create a user for persistence', () => iam.send(new CreateUserCommand({ UserName: `backup-svc-${session.runId}` }))));
      steps.push(await attempt(session, "create an access key for the administrator", () => iam.send(new CreateAccessKeyCommand({ UserName: 'alice' }))));
      steps.push(await attempt(session, 'list buckets', () => s3.send(new ListBucketsCommand({}))));
      steps.push(await attempt(session, 'read a customer export', () => s3.send(new GetObjectCommand({ Bucket: env.buckets.customerData, Key: EXPORTS[0] }))));
      return steps;
    });
  },
  async observe(session, steps, state) {
    const st = state as State;
    return observeAttack(session, await siemRun(session), st.start, steps, {
      what: 'the leaked key\'s burst of refused calls',
      techniques: ['T1078', 'T1580', 'T1087', 'T1526', 'T1110'],
      tactics: ['initial-access', 'discovery', 'credential-access'],
      isAttack: (e) => e.fields['sourceIPAddress'] === st.ip,
      deadlineMs: 15 * MINUTE,
      hint: `Most of the attacker's calls were in ${ATTACK_REGION}: does the trail record every region (IsMultiRegionTrail)? Does a rule correlate AccessDenied errors per identity (event_count, group-by userIdentity.arn)?`,
    });
  },
};
