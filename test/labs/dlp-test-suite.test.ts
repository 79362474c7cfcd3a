// Lab dlp: the student's own DLP test suite, graded by mutation (labs/dlp/test-suite.ts). Each case
// provisions the lab, builds the controls the hints describe as the account root (or none), points
// the session at a fixture workspace (test/fixtures/dlp-suites/<name>/dlp/solution.ts) and runs the
// suite's checks in order, as the grader does. strong tries every way out; weak only the copy to
// another account; counter passes on its first run only; crash throws.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { IAMClient, CreateRoleCommand, PutRolePolicyCommand, GetRolePolicyCommand, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { S3Client, PutBucketOwnershipControlsCommand, PutPublicAccessBlockCommand, PutBucketPolicyCommand, GetBucketPolicyCommand, GetPublicAccessBlockCommand } from '@aws-sdk/client-s3';
import { S3ControlClient, PutPublicAccessBlockCommand as PutAccountPublicAccessBlockCommand, GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand } from '@aws-sdk/client-s3-control';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand, ListRulesCommand } from '@aws-sdk/client-eventbridge';
import { LambdaClient, CreateFunctionCommand, AddPermissionCommand } from '@aws-sdk/client-lambda';
import { Macie2Client, EnableMacieCommand, CreateClassificationJobCommand } from '@aws-sdk/client-macie2';
import { provisionLab } from '../../src/engine/grader.ts';
import type { LabSession } from '../../src/engine/session.ts';
import type { CheckOutcome } from '../../src/engine/types.ts';
import { zipDir } from '../../src/kit/index.ts';
import { lab } from '../../labs/dlp/lab.ts';
import { dlpEnv } from '../../labs/dlp/company.ts';
import { testSuiteChecks, suiteGrading } from '../../labs/dlp/test-suite.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
const FIXTURES = fileURLToPath(new URL('../fixtures/dlp-suites/', import.meta.url));
const MUTANTS = ['public-access-off', 'insider-unrestricted', 'partner-widened', 'customer-data-open', 'responder-off'];
const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

/** The controls the lab's hints describe (tasks public, perimeter, partner, network, responder, and Macie's job), built as the root. */
async function buildControls(session: LabSession, skip: string[] = []): Promise<void> {
  const env = dlpEnv(session.env);
  const account = session.accountId;
  const s3 = session.client(S3Client);
  const iam = session.client(IAMClient);
  const arn = (b: string, p?: string) => `arn:aws:s3:::${b}${p === undefined ? '' : `/${p}`}`;
  const { buckets } = env;

  // public
  const all = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
  await session.client(S3ControlClient).send(new PutAccountPublicAccessBlockCommand({ AccountId: account, PublicAccessBlockConfiguration: all }));
  await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: env.legacyAclBucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
  await s3.send(new PutPublicAccessBlockCommand({ Bucket: env.legacyAclBucket, PublicAccessBlockConfiguration: all }));

  // perimeter: nothing written outside the account, nothing made public
  await iam.send(new PutRolePolicyCommand({
    RoleName: env.analysts.roleName, PolicyName: 'data-perimeter',
    PolicyDocument: doc([
      { Sid: 'NoWritesOutside', Effect: 'Deny', Action: ['s3:PutObject', 's3:PutObjectAcl', 's3:ReplicateObject', 's3:RestoreObject'], Resource: '*', Condition: { StringNotEquals: { 'aws:ResourceAccount': account } } },
      { Sid: 'NoPublic', Effect: 'Deny', Action: ['s3:PutBucketPolicy', 's3:DeleteBucketPolicy', 's3:PutBucketAcl', 's3:PutObjectAcl', 's3:PutBucketPublicAccessBlock', 's3:PutAccountPublicAccessBlock', 's3:PutBucketOwnershipControls'], Resource: '*' },
    ]),
  }));

  // partner: deidentified/ only
  const partner = { AWS: `arn:aws:iam::${env.partner.accountId}:root` };
  if (!skip.includes('partner')) await s3.send(new PutBucketPolicyCommand({
    Bucket: buckets.analyticsExports,
    Policy: doc([
      { Sid: 'PartnerRead', Effect: 'Allow', Principal: partner, Action: 's3:GetObject', Resource: arn(buckets.analyticsExports, `${env.partner.allowedPrefix}*`) },
      { Sid: 'PartnerList', Effect: 'Allow', Principal: partner, Action: 's3:ListBucket', Resource: arn(buckets.analyticsExports), Condition: { StringLike: { 's3:prefix': `${env.partner.allowedPrefix}*` } } },
    ]),
  }));

  // network: customer data from the office and the VPC endpoint only (the root and Macie excepted)
  if (!skip.includes('network')) await s3.send(new PutBucketPolicyCommand({
    Bucket: buckets.customerData,
    Policy: doc([{
      Sid: 'OfficeAndVpcOnly', Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: arn(buckets.customerData, '*'),
      Condition: {
        StringNotEquals: { 'aws:SourceVpce': env.network.s3EndpointId },
        NotIpAddress: { 'aws:SourceIp': env.network.officeCidr },
        ArnNotLike: { 'aws:PrincipalArn': [`arn:aws:iam::${account}:root`, `arn:aws:iam::${account}:role/aws-service-role/macie.amazonaws.com/AWSServiceRoleForAmazonMacie`] },
      },
    }]),
  }));

  // Macie and its daily job
  const macie = session.client(Macie2Client);
  await macie.send(new EnableMacieCommand({ findingPublishingFrequency: 'FIFTEEN_MINUTES' }));
  await macie.send(new CreateClassificationJobCommand({
    clientToken: 'daily', name: 'daily', jobType: 'SCHEDULED', initialRun: true, scheduleFrequency: { dailySchedule: {} }, managedDataIdentifierSelector: 'RECOMMENDED',
    s3JobDefinition: { bucketDefinitions: [{ accountId: account, buckets: [buckets.customerData, buckets.supportLogs, buckets.analyticsExports, buckets.staging, buckets.qaFixtures] }] },
  }));

  // responder: Macie finding → EventBridge → Lambda that moves the object to quarantine (staging and support-logs only)
  await iam.send(new CreateRoleCommand({ RoleName: 'quarantine', AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]) }));
  await iam.send(new PutRolePolicyCommand({
    RoleName: 'quarantine', PolicyName: 'quarantine',
    PolicyDocument: doc([{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:PutObjectTagging'], Resource: [arn(buckets.staging, '*'), arn(buckets.supportLogs, '*'), arn(buckets.quarantine, '*')] }]),
  }));
  const lambda = session.client(LambdaClient);
  const fn = await lambda.send(new CreateFunctionCommand({
    FunctionName: 'quarantine', Runtime: 'nodejs20.x', Handler: 'index.handler', Timeout: 30, Role: `arn:aws:iam::${account}:role/quarantine`,
    Code: { ZipFile: zipDir(new URL('../fixtures/quarantine/', import.meta.url)) },
    Environment: { Variables: { QUARANTINE_BUCKET: buckets.quarantine, WATCHED_BUCKETS: `${buckets.staging},${buckets.supportLogs}` } },
  }));
  const events = session.client(EventBridgeClient);
  const rule = await events.send(new PutRuleCommand({ Name: 'macie-quarantine', EventPattern: JSON.stringify({ source: ['aws.macie'], 'detail-type': ['Macie Finding'], detail: { type: [{ prefix: 'SensitiveData:' }] } }) }));
  await events.send(new PutTargetsCommand({ Rule: 'macie-quarantine', Targets: [{ Id: 'quarantine', Arn: fn.FunctionArn! }] }));
  await lambda.send(new AddPermissionCommand({ FunctionName: 'quarantine', StatementId: 'events', Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com', SourceArn: rule.RuleArn! }));
}

/** What the mutants touch, as it is (to see that grading left it as it found it). */
async function controlsNow(session: LabSession) {
  const env = dlpEnv(session.env);
  const s3 = session.client(S3Client);
  const iam = session.client(IAMClient);
  const policy = (b: string) => s3.send(new GetBucketPolicyCommand({ Bucket: b })).then((r) => r.Policy, () => undefined);
  const names = (await iam.send(new ListRolePoliciesCommand({ RoleName: env.analysts.roleName }))).PolicyNames ?? [];
  return {
    account: await session.client(S3ControlClient).send(new GetAccountPublicAccessBlockCommand({ AccountId: session.accountId })).then((r) => r.PublicAccessBlockConfiguration, () => undefined),
    buckets: await Promise.all(Object.values(env.buckets).map((b) => s3.send(new GetPublicAccessBlockCommand({ Bucket: b })).then((r) => r.PublicAccessBlockConfiguration, () => undefined))),
    analyst: await Promise.all(names.map(async (n) => [n, (await iam.send(new GetRolePolicyCommand({ RoleName: env.analysts.roleName, PolicyName: n }))).PolicyDocument])),
    partner: await policy(env.buckets.analyticsExports),
    customers: await policy(env.buckets.customerData),
    rules: ((await session.client(EventBridgeClient).send(new ListRulesCommand({}))).Rules ?? []).map((r) => [r.Name, r.State]),
  };
}

interface Graded { outcomes: Record<string, CheckOutcome & { points: number }>; session: LabSession; ms: number }

async function grade(suite: string, controls: boolean, skip: string[] = []): Promise<Graded> {
  const session = await provisionLab(cloud(), lab, `dlp-test-suite-${suite}`);
  session.workspace = path.join(FIXTURES, suite);
  if (controls) await buildControls(session, skip);
  const before = await controlsNow(session);
  const started = Date.now();
  const outcomes: Graded['outcomes'] = {};
  for (const c of testSuiteChecks) {
    const out = await c.run(session);
    outcomes[c.id] = { ...out, points: out.passed ? c.points : 0 };
  }
  const ms = Date.now() - started;
  // Every mutant restored exactly (absent policies stay absent); the sandboxed suite used no key it was not handed.
  expect(await controlsNow(session)).toEqual(before);
  expect(cloud().gateway.violationsOf(session.accountId)).toEqual([]);
  const g = await suiteGrading(session);
  const through = g ? [`  baseline: ${g.baseline.through.join(', ') || 'nothing'} through`, ...Object.entries(g.mutants).map(([m, v]) => `  ${m}: ${v.through.join(', ') || 'nothing'} through`)] : [];
  console.log(`dlp test suite "${suite}"${controls ? (skip.length ? ` (controls but ${skip.join(', ')})` : '') : ' (no controls)'}, sandbox ${cloud().sandbox}: graded in ${(ms / 1000).toFixed(1)} s\n${Object.entries(outcomes).map(([id, o]) => `  ${id} ${o.points}: ${o.feedback}`).join('\n')}\n${through.join('\n')}`);
  return { outcomes, session, ms };
}

const points = (g: Graded) => Object.values(g.outcomes).reduce((a, o) => a + o.points, 0);

describe('lab dlp: the student\'s DLP test suite, graded by mutation', () => {
  it('a strong suite passes on the controls, twice, and kills every mutant', async () => {
    const g = await grade('strong', true);
    const grading = (await suiteGrading(g.session))!;
    expect(g.outcomes['dlp-tests-pass']).toMatchObject({ passed: true });
    expect(grading.baseline.through).toEqual([]);
    for (const m of MUTANTS) {
      expect(grading.mutants[m as keyof typeof grading.mutants]?.through.length, m).toBeGreaterThan(0);
      expect(g.outcomes[`dlp-tests-catch-${m}`], m).toMatchObject({ passed: true });
      expect(g.outcomes[`dlp-tests-catch-${m}`]!.feedback).toMatch(/^Killed/);
    }
    expect(points(g)).toBe(20);
  }, 900_000);

  it('a weak suite (the copy to another account only) kills the unrestricted insider, and nothing else; with no partner scope and no network perimeter, those mutants weaken nothing', async () => {
    const g = await grade('weak', true, ['partner', 'network']);
    expect(g.outcomes['dlp-tests-pass']!.passed).toBe(true);
    expect(g.outcomes['dlp-tests-catch-insider-unrestricted']!.passed).toBe(true);
    for (const m of ['public-access-off', 'responder-off']) {
      expect(g.outcomes[`dlp-tests-catch-${m}`], m).toMatchObject({ passed: false });
      expect(g.outcomes[`dlp-tests-catch-${m}`]!.feedback).toMatch(/^Survived.*got through/);
    }
    expect(g.outcomes['dlp-tests-catch-partner-widened']).toMatchObject({ passed: false });
    expect(g.outcomes['dlp-tests-catch-partner-widened']!.feedback).toMatch(/^Nothing to weaken here yet.*build the partner's scope first \(task partner\)/i);
    expect(g.outcomes['dlp-tests-catch-customer-data-open']!.feedback).toMatch(/^Nothing to weaken here yet.*task network/);
    expect(points(g)).toBe(8);
  }, 900_000);

  it('a suite that passes on its first run only earns nothing (flaky, or counting its runs)', async () => {
    const g = await grade('counter', true);
    expect(g.outcomes['dlp-tests-pass']).toMatchObject({ passed: false });
    expect(g.outcomes['dlp-tests-pass']!.feedback).toMatch(/flaky or depends on earlier runs/);
    expect(g.outcomes['dlp-tests-pass']!.feedback).toContain('"first run"');
    for (const m of MUTANTS) expect(g.outcomes[`dlp-tests-catch-${m}`]!.feedback, m).toMatch(/^Not graded/);
    expect(points(g)).toBe(0);
  }, 900_000);

  it('a suite that throws earns nothing, and the feedback names the error', async () => {
    const g = await grade('crash', true);
    expect(g.outcomes['dlp-tests-pass']!.passed).toBe(false);
    expect(g.outcomes['dlp-tests-pass']!.feedback).toContain('the suite exploded');
    expect(g.outcomes['dlp-tests-pass']!.feedback).toContain('solution.ts');
    expect(points(g)).toBe(0);
  }, 300_000);

  it('on the environment as provisioned (no controls) the strong suite fails its baseline: nothing counts', async () => {
    const g = await grade('strong', false);
    expect(g.outcomes['dlp-tests-pass']!.passed).toBe(false);
    expect(g.outcomes['dlp-tests-pass']!.feedback).toMatch(/fails on your own controls.*"the insider cannot copy card data into another account"/);
    for (const m of MUTANTS) expect(g.outcomes[`dlp-tests-catch-${m}`]!.feedback, m).toMatch(/^Not graded/);
    expect(points(g)).toBe(0);
  }, 300_000);
});
