// Builds Northwind's account as the student finds it: a shared developer user whose key several
// people use, an admin without MFA, an analyst with "Action": "*", customer data, artifacts and
// reports buckets, and some history in CloudTrail: denied calls from a rogue address, and the
// analyst's ordinary work from a hotel while visiting a client (outside the office, yet legitimate).
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand, AttachUserPolicyCommand, CreateLoginProfileCommand, GetLoginProfileCommand, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, GetBucketPolicyCommand, ListBucketsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import type { LabSession } from '../../src/engine/session.ts';
import { hasWildcardAction, type PlantedPolicy } from './checks.ts';
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
  const tag = session.random.int(0, 0xffff).toString(16).padStart(4, '0'); // from the grading's seed
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
  const danCreds = { accessKeyId: danKey.accessKeyId, secretAccessKey: danKey.secret };
  const danOpts = { credentials: danCreds, sourceIp: person(env, ANALYST).officeIp, userAgent: `${ANALYST}-laptop` };
  await session.client(S3Client, danOpts).send(new ListBucketsCommand({}));
  await session.client(S3Client, danOpts).send(new GetObjectCommand({ Bucket: env.buckets.reports, Key: env.objects.report }));

  // dan visits a client and works from the hotel: his own key, his own laptop, his usual reports,
  // and calls that fail without being refused (no bucket policy, no console password). Outside the
  // office, and legitimate.
  const travellerIp = randomRogueIp();
  let rogueIp = randomRogueIp();
  while (rogueIp === travellerIp) rogueIp = randomRogueIp();
  session.hidden['travellerIp'] = travellerIp;
  const awayOpts = { ...danOpts, sourceIp: travellerIp };
  const away = session.client(S3Client, awayOpts);
  await away.send(new ListBucketsCommand({}));
  await away.send(new GetBucketPolicyCommand({ Bucket: env.buckets.reports })).catch(() => undefined);
  await away.send(new ListObjectsV2Command({ Bucket: env.buckets.reports, Prefix: 'finance/' }));
  await away.send(new GetObjectCommand({ Bucket: env.buckets.reports, Key: env.objects.report }));
  await session.client(IAMClient, awayOpts).send(new GetLoginProfileCommand({ UserName: ANALYST })).catch(() => undefined);

  // The rogue address: the shared key from outside the office, reaching beyond what it may do.
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

/** Errors by which IAM refuses a caller, as CloudTrail records them. */
const REFUSALS = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'Client.UnauthorizedOperation', 'AuthorizationError']);

/**
 * What was planted, captured before the student's code runs: the audit is graded against it. Read
 * from the stores the gateway enforces with (its policy store and MFA registry), not from moto.
 */
export async function snapshotIam(session: LabSession): Promise<Record<string, unknown>> {
  const details = await session.gateway.service('iam').policies.account(session.accountId);
  const users = [...details.users.keys()];
  const withoutMfa = users.filter((u) => !session.mfaDevicesOf(u).length);
  const rogueIp = session.hidden['rogueIp'] as string;
  const deniedFromRogue = session.events().filter((e) => e.sourceIPAddress === rogueIp && e.errorCode && REFUSALS.has(e.errorCode)).map((e) => e.eventName);
  // Every policy that grants a wildcard action, with what an audit may call it.
  const wildcardPolicies: PlantedPolicy[] = [];
  for (const u of users) {
    const set = await session.gateway.service('iam').policies.forUser(session.accountId, u);
    for (const p of set?.identity ?? []) {
      if (!hasWildcardAction(p.document as { Statement: unknown })) continue;
      const m = /^(user|group) (\S+) (inline|managed) policy (.+)$/.exec(p.source);
      if (!m) continue;
      const [, kind, holder, type, name] = m as unknown as [string, string, string, string, string];
      if (type === 'inline') {
        wildcardPolicies.push({ user: u, name });
        continue;
      }
      const attached = kind === 'user' ? set!.user.AttachedManagedPolicies : details.groups.get(holder)?.AttachedManagedPolicies;
      const arn = attached?.find((a) => a.PolicyName === name || a.PolicyArn === name)?.PolicyArn;
      wildcardPolicies.push({ user: u, name: arn ? arn.split('/').pop()! : name, ...(arn ? { arn } : {}) });
    }
  }
  const overBroadPolicy: PlantedPolicy = { user: ANALYST, name: session.hidden['overBroadPolicy'] as string };
  const refusedIps = [...new Set(session.events().filter((e) => e.errorCode && REFUSALS.has(e.errorCode)).map((e) => e.sourceIPAddress))];
  return {
    usersWithoutMfa: withoutMfa.sort(), rogueIp, travellerIp: session.hidden['travellerIp'], refusedIps, overBroadPolicy, wildcardPolicies, deniedFromRogue,
    sharedUser: SHARED_USER, sharedKeyId: session.keysOf(SHARED_USER)[0]?.accessKeyId,
  };
}
