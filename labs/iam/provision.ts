// Builds Northwind's account as the student finds it: a shared developer user whose key several
// people use, an admin without MFA, an analyst with "Action": "*", customer data, artifacts and
// reports buckets, and some history in CloudTrail (including denied calls from a rogue address).
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand, AttachUserPolicyCommand, CreateLoginProfileCommand, ListUsersCommand, ListMFADevicesCommand, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, ListBucketsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import type { LabSession } from '../../src/engine/session.ts';
import { hasWildcardAction } from './checks.ts';
import { ADMIN, ANALYST, companyEnv, OVERBROAD_POLICY, person, randomRogueIp, SHARED_POLICY, SHARED_USER, type IamLabEnv } from './company.ts';

const CUSTOMERS_CSV = [
  'customer_id,name,email,phone,date_of_birth,card_last4',
  '10001,Maria Lopez,maria.lopez@example.com,+1-202-555-0143,1984-03-12,4242',
  '10002,James Okafor,j.okafor@example.net,+1-202-555-0178,1979-11-02,1881',
  '10003,Yuki Tanaka,yuki.t@example.org,+1-202-555-0199,1991-07-23,0005',
].join('\n');

const doc = (statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

export async function provisionIam(session: LabSession): Promise<IamLabEnv & Record<string, unknown>> {
  const env = companyEnv(session.runId);
  const iam = session.client(IAMClient);
  const s3 = session.client(S3Client);

  for (const b of Object.values(env.buckets)) await s3.send(new CreateBucketCommand({ Bucket: b }));
  await s3.send(new PutObjectCommand({ Bucket: env.buckets.customerData, Key: env.objects.customers, Body: CUSTOMERS_CSV }));
  await s3.send(new PutObjectCommand({ Bucket: env.buckets.artifacts, Key: env.objects.artifact, Body: 'PK\u0003\u0004 build 1.4.2' }));
  await s3.send(new PutObjectCommand({ Bucket: env.buckets.reports, Key: env.objects.report, Body: 'quarter,revenue\nQ3,1830000\n' }));

  // alice: the admin, with full access and no MFA.
  await iam.send(new CreateUserCommand({ UserName: ADMIN, Tags: [{ Key: 'role', Value: 'admin' }] }));
  await iam.send(new AttachUserPolicyCommand({ UserName: ADMIN, PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
  await iam.send(new CreateLoginProfileCommand({ UserName: ADMIN, Password: `Nw-${session.runId}-Adm1n!`, PasswordResetRequired: false }));
  await iam.send(new CreateAccessKeyCommand({ UserName: ADMIN }));

  // dev-team: one user whose key ben and chloe share, with a sloppy policy.
  await iam.send(new CreateUserCommand({ UserName: SHARED_USER, Tags: [{ Key: 'note', Value: 'shared by the developers' }] }));
  await iam.send(new PutUserPolicyCommand({
    UserName: SHARED_USER, PolicyName: SHARED_POLICY,
    PolicyDocument: doc([
      { Sid: 'Buckets', Effect: 'Allow', Action: 's3:*', Resource: Object.values(env.buckets).flatMap((b) => [`arn:aws:s3:::${b}`, `arn:aws:s3:::${b}/*`]) },
      { Sid: 'ManageKeysAndPolicies', Effect: 'Allow', Action: ['iam:Get*', 'iam:List*', 'iam:CreateAccessKey', 'iam:AttachUserPolicy', 'iam:PutUserPolicy'], Resource: '*' },
    ]),
  }));
  await iam.send(new CreateAccessKeyCommand({ UserName: SHARED_USER }));

  // dan: an analyst who reads reports, with everything allowed.
  await iam.send(new CreateUserCommand({ UserName: ANALYST, Tags: [{ Key: 'role', Value: 'analyst' }] }));
  // Names an audit cannot know in advance: it has to look.
  const tag = session.runId.slice(0, 4);
  session.hidden['overBroadPolicy'] = `${OVERBROAD_POLICY}-${tag}`;
  await iam.send(new PutUserPolicyCommand({ UserName: ANALYST, PolicyName: `${OVERBROAD_POLICY}-${tag}`, PolicyDocument: doc([{ Effect: 'Allow', Action: '*', Resource: '*' }]) }));
  await iam.send(new CreateAccessKeyCommand({ UserName: ANALYST }));

  // A contractor who left last year; nobody removed the user or its key.
  await iam.send(new CreateUserCommand({ UserName: `contractor-${tag}`, Tags: [{ Key: 'note', Value: 'contract ended' }] }));
  await iam.send(new CreateAccessKeyCommand({ UserName: `contractor-${tag}` }));

  await plantHistory(session, env);
  return { ...env };
}

/** Last week's activity: the shared key used by two developers, and by someone else. */
async function plantHistory(session: LabSession, env: IamLabEnv): Promise<void> {
  const shared = session.keysOf(SHARED_USER)[0]!;
  const sharedCreds = { accessKeyId: shared.accessKeyId, secretAccessKey: shared.secret };
  for (const dev of ['ben', 'chloe']) {
    const opts = { credentials: sharedCreds, sourceIp: person(env, dev).officeIp, userAgent: `${dev}-laptop` };
    const s3 = session.client(S3Client, opts);
    await s3.send(new ListObjectsV2Command({ Bucket: env.buckets.artifacts, Prefix: 'releases/' }));
    await s3.send(new PutObjectCommand({ Bucket: env.buckets.artifacts, Key: `releases/${dev}-build.zip`, Body: 'PK' }));
    await session.client(IAMClient, opts).send(new ListAccessKeysCommand({ UserName: SHARED_USER }));
  }
  const danKey = session.keysOf(ANALYST)[0]!;
  const dan = session.client(S3Client, { credentials: { accessKeyId: danKey.accessKeyId, secretAccessKey: danKey.secret }, sourceIp: person(env, ANALYST).officeIp });
  await dan.send(new GetObjectCommand({ Bucket: env.buckets.reports, Key: env.objects.report }));

  // The rogue address: the shared key from outside the office, reaching beyond what it may do.
  const rogueIp = randomRogueIp();
  session.hidden['rogueIp'] = rogueIp;
  const opts = { credentials: sharedCreds, sourceIp: rogueIp, userAgent: 'python-requests/2.31' };
  const attempts: (() => Promise<unknown>)[] = [
    () => session.client(S3Client, opts).send(new ListBucketsCommand({})),
    () => session.client(S3Client, opts).send(new GetObjectCommand({ Bucket: env.buckets.customerData, Key: env.objects.customers })),
    () => session.client(IAMClient, opts).send(new CreateUserCommand({ UserName: 'support-backup' })),
    () => session.client(EC2Client, opts).send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, InstanceType: 'c5.24xlarge' })),
  ];
  for (const a of attempts) await a().catch(() => undefined);
}

/** What was planted, captured before the student's code runs: the audit is graded against it. */
export async function snapshotIam(session: LabSession): Promise<Record<string, unknown>> {
  const iam = session.client(IAMClient);
  const users = (await iam.send(new ListUsersCommand({}))).Users ?? [];
  const withoutMfa: string[] = [];
  for (const u of users) {
    const devices = (await iam.send(new ListMFADevicesCommand({ UserName: u.UserName }))).MFADevices ?? [];
    if (devices.length === 0) withoutMfa.push(u.UserName!);
  }
  const rogueIp = session.hidden['rogueIp'] as string;
  const deniedFromRogue = session.events().filter((e) => e.sourceIPAddress === rogueIp && e.errorCode).map((e) => e.eventName);
  // Names under which an audit may report a policy granting a wildcard action.
  const wildcardPolicies = new Set<string>();
  for (const u of users) {
    const set = await session.gateway.policies.forUser(session.accountId, u.UserName!);
    for (const p of set?.identity ?? []) {
      if (!hasWildcardAction(p.document as { Statement: unknown })) continue;
      const name = p.source.split(' policy ').pop()!;
      wildcardPolicies.add(name).add(`${u.UserName}/${name}`);
      if (p.source.includes('managed policy')) wildcardPolicies.add(`arn:aws:iam::aws:policy/${name}`).add(`arn:aws:iam::${session.accountId}:policy/${name}`);
    }
  }
  const refusedIps = [...new Set(session.events().filter((e) => e.errorCode).map((e) => e.sourceIPAddress))];
  return { usersWithoutMfa: withoutMfa.sort(), rogueIp, refusedIps, overBroadPolicy: session.hidden['overBroadPolicy'], wildcardPolicies: [...wildcardPolicies], deniedFromRogue, sharedUser: SHARED_USER, sharedKeyId: session.keysOf(SHARED_USER)[0]?.accessKeyId };
}
