// Builds Contoso Pay's account as the student finds it: six buckets (customer data, support logs,
// analytics exports, staging, QA fixtures, quarantine) holding the seeded data set of company.ts,
// the company's app and export-job roles, the analytics partner's account with a role that reads the
// exports through a bucket policy that is broader than the business needs (the whole bucket, not only
// deidentified/), and an outside account (grader only, s.hidden) with a bucket that accepts drops
// from this account. Macie is not enabled; there is no bucket policy beyond the partner's; new
// buckets keep AWS's defaults (Block Public Access on, ACLs disabled); the legacy support-logs bucket
// has ACLs enabled (ObjectWriter) and no bucket-level Block Public Access, as buckets made before
// April 2023 do; no account-level Block Public Access.
import { IAMClient, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  S3Client, CreateBucketCommand, PutObjectCommand, PutBucketPolicyCommand, DeletePublicAccessBlockCommand,
} from '@aws-sdk/client-s3';
import { EC2Client, CreateVpcCommand, CreateRouteTableCommand, CreateVpcEndpointCommand } from '@aws-sdk/client-ec2';
import { OFFICE_CIDR, type LabSession } from '../../src/engine/session.ts';
import { opaqueBucketName } from './actors.ts';
import {
  ANALYST_ROLE, PARTNER_CIDR, QUARANTINE_DEADLINE_MS, VPC_CIDR, APP_ROLE, BUCKET_PREFIX, BUCKET_PURPOSE, COMPANY, EXPORTER_ROLE, FORMATS, PARTNER, PARTNER_PREFIX, PARTNER_READER_ROLE,
  cardReference, customerId, dataset, type BucketRole, type DlpLabEnv,
} from './company.ts';

const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const ROLES: BucketRole[] = ['customerData', 'supportLogs', 'analyticsExports', 'staging', 'qaFixtures', 'quarantine'];

/** What the grader keeps to itself (s.hidden['dlp']). */
export interface DlpHidden {
  /** An account outside the company (the attacker's): never in env. */
  outside: { accountId: string; accessKeyId: string; secretAccessKey: string; dropBucket: string };
  /**
   * Another outside account, for the student's own DLP tests (handed to their test suite at run time,
   * never in env): the graded attacks use `outside`, which the student's code never sees.
   */
  testOutside: { accountId: string; accessKeyId: string; secretAccessKey: string; dropBucket: string };
  /** The partner account's root credentials (the business check reads as the partner). */
  partnerRoot: { accountId: string; accessKeyId: string; secretAccessKey: string };
  /** Ground truth: what each seeded object holds (bucket role → key → identifiers). */
  holds: Record<BucketRole, Record<string, string[]>>;
}

export async function provisionDlp(session: LabSession): Promise<DlpLabEnv & Record<string, unknown>> {
  const account = session.accountId;
  const region = session.cloud.region;
  const iam = session.client(IAMClient);
  const s3 = session.client(S3Client);
  const data = dataset(session.random.fork('dlp-data'));
  const formatsRng = session.random.fork('dlp-formats');

  const buckets = Object.fromEntries(ROLES.map((r) => [r, `${BUCKET_PREFIX[r]}-${session.runId}`])) as Record<BucketRole, string>;
  const arn = (r: BucketRole, path?: string) => `arn:aws:s3:::${buckets[r]}${path === undefined ? '' : `/${path}`}`;

  // ---- the other accounts: the analytics partner and an outsider ----
  const partnerRoot = session.cloud.createAccount();
  const outsideRoot = session.cloud.createAccount();
  const testOutsideRoot = session.cloud.createAccount();
  const partnerCreds = { accessKeyId: partnerRoot.accessKeyId, secretAccessKey: partnerRoot.secretAccessKey };
  const outsideCreds = { accessKeyId: outsideRoot.accessKeyId, secretAccessKey: outsideRoot.secretAccessKey };

  // ---- buckets and objects ----
  const storage = async () => {
    await Promise.all(ROLES.map(async (r) => {
      if (r === 'supportLogs') {
        // Legacy: ACLs enabled, no bucket-level Block Public Access (made before S3's 2023 defaults).
        await s3.send(new CreateBucketCommand({ Bucket: buckets[r], ObjectOwnership: 'ObjectWriter' }));
        await s3.send(new DeletePublicAccessBlockCommand({ Bucket: buckets[r] }));
      } else {
        await s3.send(new CreateBucketCommand({ Bucket: buckets[r] }));
      }
      await Promise.all(data.objects[r].map((o) => s3.send(new PutObjectCommand({
        Bucket: buckets[r], Key: o.key, Body: o.body, ContentType: o.contentType,
      }))));
    }));
    // The partner's access as it is today: the whole analytics bucket, not only deidentified/.
    await s3.send(new PutBucketPolicyCommand({
      Bucket: buckets.analyticsExports,
      Policy: doc([
        { Sid: 'PartnerRead', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${partnerRoot.accountId}:root` }, Action: ['s3:GetObject'], Resource: arn('analyticsExports', '*') },
        { Sid: 'PartnerList', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${partnerRoot.accountId}:root` }, Action: ['s3:ListBucket'], Resource: arn('analyticsExports') },
      ]),
    }));
  };

  // ---- the company's workloads ----
  const apps = async () => {
    const trust = (service: string) => doc([
      { Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' },
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'sts:AssumeRole' },
    ]);
    const app = (await iam.send(new CreateRoleCommand({ RoleName: APP_ROLE, AssumeRolePolicyDocument: trust('ecs-tasks.amazonaws.com'), Description: 'Contoso Pay app: reads customer data, writes its logs' }))).Role!;
    await iam.send(new PutRolePolicyCommand({
      RoleName: APP_ROLE, PolicyName: 'app-data',
      PolicyDocument: doc([
        { Sid: 'ReadCustomers', Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: [arn('customerData'), arn('customerData', '*')] },
        { Sid: 'WriteLogs', Effect: 'Allow', Action: ['s3:PutObject'], Resource: arn('supportLogs', '*') },
      ]),
    }));
    const exporter = (await iam.send(new CreateRoleCommand({ RoleName: EXPORTER_ROLE, AssumeRolePolicyDocument: trust('lambda.amazonaws.com'), Description: 'nightly export: de-identifies customer data for the analytics partner' }))).Role!;
    await iam.send(new PutRolePolicyCommand({
      RoleName: EXPORTER_ROLE, PolicyName: 'export',
      PolicyDocument: doc([
        { Sid: 'ReadCustomers', Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: [arn('customerData'), arn('customerData', '*')] },
        { Sid: 'WriteExports', Effect: 'Allow', Action: ['s3:PutObject'], Resource: arn('analyticsExports', '*') },
      ]),
    }));
    // The data analysts, as they are today: S3 full access (AmazonS3FullAccess's statement), anywhere.
    const analyst = (await iam.send(new CreateRoleCommand({ RoleName: ANALYST_ROLE, AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'sts:AssumeRole' }]), Description: 'data analysts (single sign-on from the office)' }))).Role!;
    await iam.send(new PutRolePolicyCommand({
      RoleName: ANALYST_ROLE, PolicyName: 'analyst-s3',
      PolicyDocument: doc([{ Sid: 'S3FullAccess', Effect: 'Allow', Action: ['s3:*', 's3-object-lambda:*'], Resource: '*' }]),
    }));
    return { app: app.Arn!, exporter: exporter.Arn!, analyst: analyst.Arn! };
  };

  // ---- the company's VPC and its S3 gateway endpoint (full-access policy, as created by default) ----
  const network = async () => {
    const ec2 = session.client(EC2Client);
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: VPC_CIDR }))).Vpc!.VpcId!;
    const rt = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
    const ep = (await ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, ServiceName: `com.amazonaws.${region}.s3`, VpcEndpointType: 'Gateway', RouteTableIds: [rt] }))).VpcEndpoint!;
    return { vpcId, s3EndpointId: ep.VpcEndpointId! };
  };

  // ---- the partner's side: a role in its account that reads the exports ----
  const partner = async () => {
    const piam = session.client(IAMClient, { credentials: partnerCreds });
    const role = (await piam.send(new CreateRoleCommand({
      RoleName: PARTNER_READER_ROLE, Description: `${PARTNER}: ingests ${COMPANY}'s exports`,
      AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${partnerRoot.accountId}:root` }, Action: 'sts:AssumeRole' }]),
    }))).Role!;
    await piam.send(new PutRolePolicyCommand({
      RoleName: PARTNER_READER_ROLE, PolicyName: 'read-contoso-exports',
      PolicyDocument: doc([{ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: [arn('analyticsExports'), arn('analyticsExports', '*')] }]),
    }));
    return role.Arn!;
  };

  // ---- the outsider: a bucket that takes whatever this account drops in it ----
  // The graded attacks' drop bucket has an opaque name: a Deny on a name pattern (drop-*) must not stand in for a perimeter.
  const dropBucket = opaqueBucketName(session, 'dlp-outside-drop', outsideRoot.accountId);
  const testDropBucket = `drop-${session.runId}-${testOutsideRoot.accountId}`;
  const testOutsideCreds = { accessKeyId: testOutsideRoot.accessKeyId, secretAccessKey: testOutsideRoot.secretAccessKey };
  const outside = async (creds: typeof outsideCreds, bucket: string) => {
    const os3 = session.client(S3Client, { credentials: creds });
    await os3.send(new CreateBucketCommand({ Bucket: bucket }));
    await os3.send(new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: doc([{ Sid: 'TakeDrops', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: ['s3:PutObject', 's3:PutObjectAcl'], Resource: `arn:aws:s3:::${bucket}/*` }]),
    }));
  };

  const [, roles, partnerRoleArn, net] = await Promise.all([
    storage(), apps(), partner(), network(), outside(outsideCreds, dropBucket), outside(testOutsideCreds, testDropBucket),
  ]);

  const hidden: DlpHidden = {
    outside: { accountId: outsideRoot.accountId, ...outsideCreds, dropBucket },
    testOutside: { accountId: testOutsideRoot.accountId, ...testOutsideCreds, dropBucket: testDropBucket },
    partnerRoot: { accountId: partnerRoot.accountId, ...partnerCreds },
    holds: Object.fromEntries(ROLES.map((r) => [r, Object.fromEntries(data.objects[r].map((o) => [o.key, o.holds]))])) as DlpHidden['holds'],
  };
  session.hidden['dlp'] = hidden;

  const env: DlpLabEnv = {
    company: COMPANY,
    region,
    accountId: account,
    buckets,
    purposes: { ...BUCKET_PURPOSE },
    legacyAclBucket: buckets.supportLogs,
    formats: {
      customerId: { description: FORMATS.customerId.description, example: customerId(formatsRng) },
      cardReference: { description: FORMATS.cardReference.description, example: cardReference(formatsRng) },
    },
    apps: {
      app: { roleName: APP_ROLE, roleArn: roles.app, reads: [buckets.customerData], writes: [buckets.supportLogs] },
      exporter: { roleName: EXPORTER_ROLE, roleArn: roles.exporter, reads: [buckets.customerData], writes: [buckets.analyticsExports] },
    },
    partner: { name: PARTNER, accountId: partnerRoot.accountId, readerRoleName: PARTNER_READER_ROLE, readerRoleArn: partnerRoleArn, allowedPrefix: PARTNER_PREFIX },
    objects: Object.fromEntries(ROLES.map((r) => [r, data.objects[r].map((o) => o.key)])) as Record<BucketRole, string[]>,
    analysts: { roleName: ANALYST_ROLE, roleArn: roles.analyst, reads: [buckets.customerData, buckets.analyticsExports], writes: [buckets.analyticsExports] },
    network: { officeCidr: OFFICE_CIDR, vpcId: net.vpcId, vpcCidr: VPC_CIDR, s3EndpointId: net.s3EndpointId, partnerCidr: PARTNER_CIDR },
    quarantineDeadlineMs: QUARANTINE_DEADLINE_MS,
  };
  return { ...env };
}
