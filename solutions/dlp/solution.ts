// Reference solution of lab dlp (slide 15). Shown to a student only after they pass the lab.
// Finds Contoso Pay's card and personal data with Macie (custom identifiers for its own formats, an
// allow list for QA data, a daily job), keeps it in with S3 and IAM (Block Public Access, ACLs off on
// the legacy bucket, a data perimeter on the analysts, the partner held to deidentified/, customer data
// reachable from the office and the VPC only), quarantines what lands in staging or the logs (Macie
// finding → EventBridge → Lambda), and proves it with a DLP test suite of exfiltration attempts.
import {
  Macie2Client, EnableMacieCommand, CreateCustomDataIdentifierCommand, CreateAllowListCommand, CreateClassificationJobCommand,
} from '@aws-sdk/client-macie2';
import {
  S3Client, PutBucketOwnershipControlsCommand, PutPublicAccessBlockCommand, PutBucketPolicyCommand, DeleteBucketPolicyCommand,
  DeletePublicAccessBlockCommand, GetBucketPolicyCommand, GetObjectCommand, PutObjectCommand, CopyObjectCommand, PutObjectAclCommand, DeleteObjectCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import {
  S3ControlClient, PutPublicAccessBlockCommand as PutAccountPublicAccessBlockCommand, DeletePublicAccessBlockCommand as DeleteAccountPublicAccessBlockCommand,
} from '@aws-sdk/client-s3-control';
import { IAMClient, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { LambdaClient, CreateFunctionCommand, AddPermissionCommand } from '@aws-sdk/client-lambda';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  actorClient, fromAddress, refused, s3ControlConfig, zipDir, type Actor, type DlpTestInput, type DlpTestOutput, type DlpTestResult, type LabInput,
} from 'seclab/kit';

type BucketRole = 'customerData' | 'supportLogs' | 'analyticsExports' | 'staging' | 'qaFixtures' | 'quarantine';
interface Env {
  company: string;
  accountId: string;
  buckets: Record<BucketRole, string>;
  legacyAclBucket: string;
  formats: { customerId: { description: string; example: string }; cardReference: { description: string; example: string } };
  apps: { app: { roleArn: string }; exporter: { roleArn: string } };
  partner: { name: string; accountId: string; readerRoleArn: string; allowedPrefix: string };
  objects: Record<BucketRole, string[]>;
  analysts: { roleName: string; roleArn: string };
  network: { officeCidr: string; vpcId: string; vpcCidr: string; s3EndpointId: string };
  quarantineDeadlineMs: number;
}

const RESPONDER = 'contoso-quarantine';
const RULE = 'contoso-macie-sensitive-data';
/** The card networks' published test numbers (what qa-fixtures uses). */
const TEST_CARDS = [
  '4111111111111111', '4242424242424242', '4012888888881881', '5555555555554444', '5105105105105100',
  '2223003122003222', '378282246310005', '371449635398431', '6011111111111117', '3530111333300000',
];

const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const arn = (bucket: string, path?: string) => `arn:aws:s3:::${bucket}${path === undefined ? '' : `/${path}`}`;

export async function apply({ accountId, region, env }: LabInput<Env>) {
  const macie = new Macie2Client({});
  const s3 = new S3Client({ forcePathStyle: true });
  const iam = new IAMClient({});
  const events = new EventBridgeClient({});
  const lambda = new LambdaClient({});
  const b = env.buckets;

  // ---- public: Block Public Access for the account; the legacy bucket without ACLs ----
  const allFour = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
  await new S3ControlClient(s3ControlConfig()).send(new PutAccountPublicAccessBlockCommand({ AccountId: accountId, PublicAccessBlockConfiguration: allFour }));
  await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: env.legacyAclBucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
  await s3.send(new PutPublicAccessBlockCommand({ Bucket: env.legacyAclBucket, PublicAccessBlockConfiguration: allFour }));

  // ---- perimeter: analysts write to the company's buckets only and cannot make anything public ----
  // A policy of its own beside analyst-s3: their business (read customer data, write internal/) stays.
  await iam.send(new PutRolePolicyCommand({
    RoleName: env.analysts.roleName, PolicyName: 'data-perimeter',
    PolicyDocument: doc([
      // s3:* and not only PutObject: CopyObject, multipart uploads, replication and ACL grants all write.
      { Sid: 'CompanyBucketsOnly', Effect: 'Deny', Action: 's3:*', Resource: '*', Condition: { StringNotEquals: { 'aws:ResourceAccount': accountId } } },
      {
        Sid: 'NoPublicAccessChanges', Effect: 'Deny', Resource: '*',
        Action: [
          's3:PutBucketPolicy', 's3:DeleteBucketPolicy', 's3:PutBucketAcl', 's3:PutObjectAcl', 's3:PutObjectVersionAcl',
          's3:PutBucketPublicAccessBlock', 's3:PutAccountPublicAccessBlock', 's3:PutBucketOwnershipControls',
        ],
      },
    ]),
  }));

  // ---- partner: deidentified/ only ----
  const partner = { AWS: `arn:aws:iam::${env.partner.accountId}:root` };
  const prefix = env.partner.allowedPrefix;
  await s3.send(new PutBucketPolicyCommand({
    Bucket: b.analyticsExports,
    Policy: doc([
      { Sid: 'PartnerReadsDeidentified', Effect: 'Allow', Principal: partner, Action: 's3:GetObject', Resource: arn(b.analyticsExports, `${prefix}*`) },
      { Sid: 'PartnerListsDeidentified', Effect: 'Allow', Principal: partner, Action: 's3:ListBucket', Resource: arn(b.analyticsExports), Condition: { StringLike: { 's3:prefix': `${prefix}*` } } },
    ]),
  }));

  // ---- network: customer data from the office and the company VPC only ----
  // Both negated conditions must hold for the Deny: outside the endpoint AND outside the office. The
  // account root (administration, grading) and Macie's service-linked role keep their way in.
  await s3.send(new PutBucketPolicyCommand({
    Bucket: b.customerData,
    Policy: doc([{
      Sid: 'OfficeAndVpcOnly', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [arn(b.customerData), arn(b.customerData, '*')],
      Condition: {
        StringNotEquals: { 'aws:SourceVpce': env.network.s3EndpointId },
        NotIpAddress: { 'aws:SourceIp': env.network.officeCidr },
        ArnNotLike: { 'aws:PrincipalArn': [`arn:aws:iam::${accountId}:root`, `arn:aws:iam::${accountId}:role/aws-service-role/macie.amazonaws.com/AWSServiceRoleForAmazonMacie`] },
      },
    }]),
  }));

  // ---- responder: Macie finding → EventBridge → Lambda that moves the object to quarantine ----
  const watched = [b.staging, b.supportLogs];
  const role = await iam.send(new CreateRoleCommand({
    RoleName: RESPONDER, Description: 'quarantines sensitive data Macie finds in staging and the support logs',
    AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]),
  }));
  await iam.send(new PutRolePolicyCommand({
    RoleName: RESPONDER, PolicyName: 'quarantine',
    PolicyDocument: doc([
      // CopyObject reads the source (and its tags) and writes the copy; then the original goes.
      { Sid: 'TakeOut', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectTagging', 's3:DeleteObject'], Resource: watched.map((w) => arn(w, '*')) },
      { Sid: 'PutInQuarantine', Effect: 'Allow', Action: ['s3:PutObject', 's3:PutObjectTagging'], Resource: arn(b.quarantine, '*') },
      { Sid: 'OwnLogs', Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `arn:aws:logs:${region}:${accountId}:log-group:/aws/lambda/${RESPONDER}:*` },
    ]),
  }));
  const fn = await lambda.send(new CreateFunctionCommand({
    FunctionName: RESPONDER, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: role.Role!.Arn!, Timeout: 60, MemorySize: 256,
    Code: { ZipFile: zipDir(new URL('./responder/', import.meta.url)) },
    Environment: { Variables: { QUARANTINE_BUCKET: b.quarantine, WATCHED_BUCKETS: watched.join(',') } },
  }));
  const rule = await events.send(new PutRuleCommand({
    Name: RULE, Description: 'Macie sensitive data found where it must not be: staging and the support logs',
    EventPattern: JSON.stringify({
      source: ['aws.macie'], 'detail-type': ['Macie Finding'],
      detail: { type: [{ prefix: 'SensitiveData' }], resourcesAffected: { s3Bucket: { name: watched } } },
    }),
  }));
  await events.send(new PutTargetsCommand({ Rule: RULE, Targets: [{ Id: 'quarantine', Arn: fn.FunctionArn! }] }));
  await lambda.send(new AddPermissionCommand({
    FunctionName: RESPONDER, StatementId: 'macie-findings', Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com', SourceArn: rule.RuleArn!,
  }));

  // ---- macie: on, with the company's formats and the QA data allowed; then the daily job ----
  // Last, so that what its first run finds already reaches the responder.
  await macie.send(new EnableMacieCommand({ findingPublishingFrequency: 'FIFTEEN_MINUTES', status: 'ENABLED' }));
  const customerId = await macie.send(new CreateCustomDataIdentifierCommand({
    name: 'contoso-customer-id', description: env.formats.customerId.description,
    regex: '\\bCP-CUST-[0-9]{8}\\b', keywords: ['customer', 'customer_id', 'customer id', 'cust'], maximumMatchDistance: 50,
  }));
  const cardRef = await macie.send(new CreateCustomDataIdentifierCommand({
    name: 'contoso-card-reference', description: env.formats.cardReference.description,
    regex: '\\bcref_[a-z2-7]{24}\\b', keywords: ['card_ref', 'card ref', 'card reference', 'cref'], maximumMatchDistance: 60,
  }));
  // Exactly the QA data, anchored: the published test cards, example.com addresses, SSNs in area 000
  // (never issued) and 555-01xx numbers (reserved for fiction).
  const allowList = await macie.send(new CreateAllowListCommand({
    name: 'contoso-qa-test-data', description: 'published test card numbers, example.com, SSN area 000, 555-01xx phones',
    criteria: { regex: `^(${TEST_CARDS.join('|')}|[A-Za-z0-9._%+-]+@example\\.com|000-[0-9]{2}-[0-9]{4}|(\\+?1[-. ]?)?\\(?[0-9]{3}\\)?[-. ]?555[-. ]?01[0-9]{2})$` },
  }));
  await macie.send(new CreateClassificationJobCommand({
    clientToken: 'contoso-daily-dlp', name: 'contoso-daily-dlp', jobType: 'SCHEDULED', scheduleFrequency: { dailySchedule: {} }, initialRun: true,
    s3JobDefinition: { bucketDefinitions: [{ accountId, buckets: [b.customerData, b.supportLogs, b.staging, b.analyticsExports, b.qaFixtures] }] },
    managedDataIdentifierSelector: 'RECOMMENDED', customDataIdentifierIds: [customerId.customDataIdentifierId!, cardRef.customDataIdentifierId!],
    allowListIds: [allowList.id!],
  }));
}

// ---- the DLP test suite: each test tries a way out and passes when it fails ----

interface State { stamp: string; cards?: string; harmless?: string }

const text = async (r: { Body?: { transformToString(): Promise<string> } }) => (r.Body ? await r.Body.transformToString() : '');
const errorName = (e: unknown) => (e as { name?: string }).name ?? String(e);

async function test(name: string, fn: () => Promise<string | undefined>): Promise<DlpTestResult> {
  try {
    const failure = await fn();
    return failure ? { name, passed: false, detail: failure } : { name, passed: true };
  } catch (e) {
    return { name, passed: false, detail: `the test could not run: ${errorName(e)}: ${(e as Error).message}` };
  }
}

/** An anonymous GET from the internet: the body when it returned data, undefined when refused. */
async function anonymousGet(input: DlpTestInput<Env>, bucket: string, key: string): Promise<string | undefined> {
  const r = await fetch(`${input.endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`, { headers: fromAddress(input.actors.anonymous) });
  return r.status === 200 ? await r.text() : undefined;
}

export async function dlpTests(input: DlpTestInput<Env>): Promise<DlpTestOutput> {
  const { env, actors } = input;
  const b = env.buckets;
  const s3As = (a: Actor) => actorClient(S3Client, a, { region: input.region });
  const insider = s3As(actors.insider);
  const customersKey = env.objects.customerData.find((k) => k.endsWith('.csv'))!;

  if (input.stage === 'after-deadline') {
    const state = input.state as State | undefined;
    return {
      results: [await test('card data dropped into staging is out of circulation by the deadline', async () => {
        if (!state?.cards || !state.harmless) return 'the attempt stage left no state: nothing was dropped';
        const still = await insider.send(new GetObjectCommand({ Bucket: b.staging, Key: state.cards })).then(text, (e) => {
          if (['NoSuchKey', 'NotFound', 'AccessDenied'].includes(errorName(e))) return undefined;
          throw e;
        });
        if (still !== undefined) return `s3://${b.staging}/${state.cards} is still there and readable after the deadline: the responder did not quarantine it`;
        // A responder that empties staging is broken too.
        const harmless = await insider.send(new GetObjectCommand({ Bucket: b.staging, Key: state.harmless })).then(text, () => undefined);
        await insider.send(new DeleteObjectCommand({ Bucket: b.staging, Key: state.harmless })).catch(() => undefined);
        if (harmless === undefined) return `the harmless file s3://${b.staging}/${state.harmless} is gone too: the responder must take out what holds card data only`;
        return undefined;
      })],
    };
  }

  const stamp = `${input.now}-${Math.random().toString(36).slice(2, 8)}`;
  const results: DlpTestResult[] = [];
  // What an insider would take: the customer file (or, if the office cannot read it, a line like it).
  const customers = await insider.send(new GetObjectCommand({ Bucket: b.customerData, Key: customersKey })).then(text, () => 'customer_id,card_number\nCP-CUST-10000001,4556737586899855\n');

  results.push(await test('the insider cannot upload customer data to an outside account', async () => {
    const key = `dlp-tests/${stamp}/customers.csv`;
    if (!(await refused(insider.send(new PutObjectCommand({ Bucket: actors.outsider.bucket, Key: key, Body: customers })))))
      return `PutObject into s3://${actors.outsider.bucket} (another account) succeeded`;
    return undefined;
  }));
  results.push(await test('the insider cannot copy customer data to an outside account', async () => {
    const key = `dlp-tests/${stamp}/copy.csv`;
    if (!(await refused(insider.send(new CopyObjectCommand({ Bucket: actors.outsider.bucket, Key: key, CopySource: `${b.customerData}/${customersKey}` })))))
      return `CopyObject from customer-data into s3://${actors.outsider.bucket} (another account) succeeded`;
    return undefined;
  }));

  results.push(await test('the insider cannot make data public', async () => {
    const probe = { key: `dlp-tests/${stamp}/public-probe.txt`, body: `public access probe ${stamp}\n` };
    await insider.send(new PutObjectCommand({ Bucket: b.staging, Key: probe.key, Body: probe.body }));
    await insider.send(new PutObjectCommand({ Bucket: b.supportLogs, Key: probe.key, Body: probe.body }));
    const control = actorClient(S3ControlClient, actors.insider, { region: input.region });
    const got: string[] = [];
    const undo: (() => Promise<unknown>)[] = [];
    if (!(await refused(control.send(new DeleteAccountPublicAccessBlockCommand({ AccountId: env.accountId }))))) {
      got.push('deleted the account\'s Block Public Access');
      undo.push(() => control.send(new PutAccountPublicAccessBlockCommand({ AccountId: env.accountId, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true } })));
    }
    for (const bucket of [b.staging, b.supportLogs]) {
      if (!(await refused(insider.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }))))) {
        got.push(`deleted ${bucket}'s Block Public Access`);
        undo.push(() => insider.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true } })));
      }
    }
    const publicRead = doc([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: arn(b.staging, '*') }]);
    if (!(await refused(insider.send(new PutBucketPolicyCommand({ Bucket: b.staging, Policy: publicRead }))))) {
      got.push(`put a public bucket policy on ${b.staging}`);
      undo.push(() => insider.send(new DeleteBucketPolicyCommand({ Bucket: b.staging })));
    }
    if (!(await refused(insider.send(new PutObjectAclCommand({ Bucket: b.supportLogs, Key: probe.key, ACL: 'public-read' }))))) {
      got.push(`made s3://${b.supportLogs}/${probe.key} public-read`);
      undo.push(() => insider.send(new PutObjectAclCommand({ Bucket: b.supportLogs, Key: probe.key, ACL: 'private' })));
    }
    const read: string[] = [];
    for (const bucket of [b.staging, b.supportLogs]) if ((await anonymousGet(input, bucket, probe.key)) !== undefined) read.push(`s3://${bucket}/${probe.key}`);
    // Leave the account as it was, whatever got through (later runs must meet the same controls).
    for (const u of undo.reverse()) await u().catch(() => undefined);
    for (const bucket of [b.staging, b.supportLogs]) await insider.send(new DeleteObjectCommand({ Bucket: bucket, Key: probe.key })).catch(() => undefined);
    if (got.length || read.length) return [got.length ? `the insider ${got.join(', ')}` : '', read.length ? `anyone on the internet read ${read.join(', ')}` : ''].filter(Boolean).join('; ');
    return undefined;
  }));

  // Block Public Access is there for the administrators' mistakes too: the suite runs with the lab
  // account's administrator credentials in its environment, as apply() does.
  results.push(await test('Block Public Access refuses a public bucket policy, even from an administrator', async () => {
    const admin = new S3Client({ forcePathStyle: true, region: input.region });
    const probe = `dlp-tests/${stamp}/admin-probe.txt`;
    await admin.send(new PutObjectCommand({ Bucket: b.staging, Key: probe, Body: `public access probe ${stamp}\n` }));
    const before = await admin.send(new GetBucketPolicyCommand({ Bucket: b.staging })).then((r) => r.Policy, () => undefined);
    const publicRead = doc([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: arn(b.staging, '*') }]);
    let problem: string | undefined;
    if (!(await refused(admin.send(new PutBucketPolicyCommand({ Bucket: b.staging, Policy: publicRead }))))) {
      problem = `a public bucket policy on ${b.staging} was accepted`;
      const read = await s3As(actors.outsider).send(new GetObjectCommand({ Bucket: b.staging, Key: probe })).then(() => true, () => false);
      if (read) problem += `, and ${actors.outsider.name} read s3://${b.staging}/${probe}`;
      await (before ? admin.send(new PutBucketPolicyCommand({ Bucket: b.staging, Policy: before })) : admin.send(new DeleteBucketPolicyCommand({ Bucket: b.staging }))).catch(() => undefined);
    }
    await admin.send(new DeleteObjectCommand({ Bucket: b.staging, Key: probe })).catch(() => undefined);
    return problem;
  }));

  results.push(await test('a presigned URL for customer data does not work outside the office', async () => {
    const url = await getSignedUrl(insider, new GetObjectCommand({ Bucket: b.customerData, Key: customersKey }), { expiresIn: 600 });
    // The URL must work where it is meant to (the office): otherwise this test proves nothing.
    const office = await fetch(url, { headers: fromAddress(actors.insider) });
    if (office.status !== 200) return `the URL does not work from the office either (HTTP ${office.status}): the test cannot tell the network perimeter from a broken URL`;
    const outside = await fetch(url, { headers: fromAddress(actors.outsider) });
    if (outside.status === 200) return `the insider's presigned URL returned the customer file to ${actors.outsider.name} from ${actors.outsider.sourceIp}`;
    return undefined;
  }));

  results.push(await test('the partner reads deidentified/ and nothing else', async () => {
    const partner = s3As(actors.partner);
    const allowed = env.objects.analyticsExports.find((k) => k.startsWith(env.partner.allowedPrefix))!;
    const internal = env.objects.analyticsExports.find((k) => !k.startsWith(env.partner.allowedPrefix))!;
    const problems: string[] = [];
    await partner.send(new GetObjectCommand({ Bucket: b.analyticsExports, Key: allowed })).catch((e) => problems.push(`it cannot read ${allowed} (${errorName(e)}), which it needs`));
    if (!(await refused(partner.send(new GetObjectCommand({ Bucket: b.analyticsExports, Key: internal }))))) problems.push(`it read ${internal}`);
    if (!(await refused(partner.send(new ListObjectsV2Command({ Bucket: b.analyticsExports, Prefix: 'internal/' }))))) problems.push('it listed internal/');
    return problems.length ? `the partner: ${problems.join('; ')}` : undefined;
  }));

  // Card data dropped into staging, with a harmless file beside it: judged after the deadline.
  const state: State = { stamp };
  results.push(await test('card data can be dropped into staging (checked after the deadline)', async () => {
    state.cards = `dlp-tests/${stamp}/card-dump.csv`;
    state.harmless = `dlp-tests/${stamp}/readme.txt`;
    await insider.send(new PutObjectCommand({ Bucket: b.staging, Key: state.cards, Body: customers, ContentType: 'text/csv' }));
    await insider.send(new PutObjectCommand({ Bucket: b.staging, Key: state.harmless, Body: 'Nothing to see: the team meets on Thursday.\n', ContentType: 'text/plain' }));
    return undefined;
  }));
  return { results, state };
}
