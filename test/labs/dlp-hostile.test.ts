// Lab dlp against hostile submissions: what a submission does to its own account must not earn points
// for a control it did not build. Each case sets up, as root, what a hostile solution's apply() could
// do, then runs the lab's own checks.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import {
  S3Client, GetObjectCommand, PutObjectCommand, PutBucketPolicyCommand, CreateBucketCommand, PutBucketVersioningCommand, CreateMultipartUploadCommand, DeletePublicAccessBlockCommand,
} from '@aws-sdk/client-s3';
import {
  Macie2Client, EnableMacieCommand, CreateAllowListCommand, CreateClassificationJobCommand, ListClassificationJobsCommand, DescribeClassificationJobCommand,
  UpdateClassificationJobCommand, CreateCustomDataIdentifierCommand,
} from '@aws-sdk/client-macie2';
import { IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { LabSession } from '../../src/engine/session.ts';
import { runProbe } from '../../scenarios/lib/dlp.ts';
import { presignedUrlOutsideScenario } from '../../scenarios/dlp-presigned-url-outside.ts';
import { cardCopyOutsideScenario } from '../../scenarios/dlp-card-copy-outside.ts';
import { provisionLab } from '../../src/engine/grader.ts';
import type { CheckOutcome } from '../../src/engine/types.ts';
import { lab } from '../../labs/dlp/lab.ts';
import { testSuiteChecks, suiteGrading } from '../../labs/dlp/test-suite.ts';
import { provisionDlp, type DlpHidden } from '../../labs/dlp/provision.ts';
import { checks } from '../../labs/dlp/checks.ts';
import { FORMATS, TEST_CARD_NUMBERS, dlpEnv, type DlpLabEnv } from '../../labs/dlp/company.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
const byId = (id: string) => checks.find((c) => c.id === id)!;
const QA_ALLOW = `^(${TEST_CARD_NUMBERS.join('|')})$|@example\\.com$|^000-[0-9]{2}-[0-9]{4}$|555-01[0-9]{2}$`;

async function provisioned(name: string): Promise<{ session: LabSession; e: DlpLabEnv }> {
  const session = new LabSession(cloud(), cloud().createAccount(), name);
  const e = (await provisionDlp(session)) as DlpLabEnv;
  session.env = e as unknown as Record<string, unknown>;
  return { session, e };
}

/** Macie with an allow list (`regex`) and the daily job over every bucket but quarantine; the initial run happens at the first check. */
async function macieWith(session: LabSession, e: DlpLabEnv, regex: string): Promise<void> {
  const macie = session.client(Macie2Client);
  await macie.send(new EnableMacieCommand({ findingPublishingFrequency: 'FIFTEEN_MINUTES' }));
  const allow = (await macie.send(new CreateAllowListCommand({ name: 'qa', criteria: { regex } }))).id!;
  await macie.send(new CreateClassificationJobCommand({
    name: 'daily', clientToken: 'daily', jobType: 'SCHEDULED', scheduleFrequency: { dailySchedule: {} }, initialRun: true,
    s3JobDefinition: { bucketDefinitions: [{ accountId: session.accountId, buckets: (['customerData', 'supportLogs', 'staging', 'analyticsExports', 'qaFixtures'] as const).map((r) => e.buckets[r]) }] },
    allowListIds: [allow], managedDataIdentifierSelector: 'RECOMMENDED',
  }));
}

describe('lab dlp: hostile submissions', () => {
  it('QA data hidden from Macie during the job\'s run (then put back) earns neither allow-list nor findings-accurate; a real allow list does', async () => {
    // Hostile: an allow list that allows nothing, and the QA fixtures emptied while the job analyses them.
    const { session, e } = await provisioned('dlp-hostile-qa');
    const s3 = session.client(S3Client);
    const saved = new Map<string, string>();
    for (const k of e.objects.qaFixtures) {
      saved.set(k, await (await s3.send(new GetObjectCommand({ Bucket: e.buckets.qaFixtures, Key: k }))).Body!.transformToString());
      await s3.send(new PutObjectCommand({ Bucket: e.buckets.qaFixtures, Key: k, Body: 'nothing here\n' }));
    }
    await macieWith(session, e, '^never-matches-anything$');
    await session.gateway.service('macie2').runDue();
    await session.gateway.service('macie2').settle();
    for (const [k, body] of saved) await s3.send(new PutObjectCommand({ Bucket: e.buckets.qaFixtures, Key: k, Body: body }));
    const allow = await byId('allow-list').run(session);
    expect(allow.passed, allow.feedback).toBe(false);
    expect(allow.feedback).toMatch(/qa|QA/);
    const accurate = await byId('findings-accurate').run(session);
    expect(accurate.passed, accurate.feedback).toBe(false);

    // The honest control on an untouched account passes both.
    const ok = await provisioned('dlp-hostile-qa-ok');
    await macieWith(ok.session, ok.e, QA_ALLOW);
    const allowOk = await byId('allow-list').run(ok.session);
    expect(allowOk.passed, allowOk.feedback).toBe(true);
    const accurateOk = await byId('findings-accurate').run(ok.session);
    expect(accurateOk.passed, accurateOk.feedback).toBe(true);
  }, 240_000);

  it('an S3 words list larger than Macie takes (35 MB) beside a working list: not read by the grader, and the allow list fails', async () => {
    const { session, e } = await provisioned('dlp-hostile-words');
    await macieWith(session, e, QA_ALLOW);
    const macie = session.client(Macie2Client);
    const big = Buffer.alloc(36 * 1024 * 1024, 'x\n');
    await session.client(S3Client).send(new PutObjectCommand({ Bucket: e.buckets.staging, Key: 'lists/words.txt', Body: big }));
    const words = (await macie.send(new CreateAllowListCommand({ name: 'huge', criteria: { s3WordsList: { bucketName: e.buckets.staging, objectKey: 'lists/words.txt' } } }))).id!;
    const job = (await macie.send(new ListClassificationJobsCommand({}))).items![0]!;
    const d = await macie.send(new DescribeClassificationJobCommand({ jobId: job.jobId! }));
    await macie.send(new UpdateClassificationJobCommand({ jobId: job.jobId!, jobStatus: 'CANCELLED' }));
    await macie.send(new CreateClassificationJobCommand({
      name: 'daily-2', clientToken: 'daily-2', jobType: 'SCHEDULED', scheduleFrequency: { dailySchedule: {} }, initialRun: true,
      s3JobDefinition: d.s3JobDefinition, allowListIds: [...(d.allowListIds ?? []), words], managedDataIdentifierSelector: 'RECOMMENDED',
    }));
    const r = await byId('allow-list').run(session);
    expect(r.passed, r.feedback).toBe(false);
    expect(r.feedback).toMatch(/larger than 35 MB/);
  }, 240_000);

  it('more custom data identifiers than a job can use are not run in the grader: custom-identifiers fails and says so', async () => {
    const { session } = await provisioned('dlp-hostile-customs');
    const macie = session.client(Macie2Client);
    await macie.send(new EnableMacieCommand({ findingPublishingFrequency: 'FIFTEEN_MINUTES' }));
    await macie.send(new CreateCustomDataIdentifierCommand({ name: 'contoso-customer-id', regex: FORMATS.customerId.regex, keywords: [...FORMATS.customerId.keywords], maximumMatchDistance: 50 }));
    await macie.send(new CreateCustomDataIdentifierCommand({ name: 'contoso-card-ref', regex: FORMATS.cardReference.regex, keywords: [...FORMATS.cardReference.keywords], maximumMatchDistance: 50 }));
    // Harmless identifiers in bulk (a hostile submission would make thousands of costly ones).
    for (let i = 0; i < 10; i++) {
      await Promise.all(Array.from({ length: 10 }, (_, j) => macie.send(new CreateCustomDataIdentifierCommand({ name: `filler-${i}-${j}`, regex: `zz${i}q${j}x[0-9]{3}` }))));
    }
    const r = await byId('custom-identifiers').run(session);
    expect(r.passed, r.feedback).toBe(false);
    expect(r.feedback).toMatch(/more than 100 custom data identifiers/);
  }, 120_000);

  it('a suite that leaves a control open when it returns does not make mutants of controls never built look effective', async () => {
    // Only customer data's network perimeter is built; the hostile suite deletes it after each run but its first.
    const session = await provisionLab(cloud(), lab, 'dlp-hostile-hole');
    session.workspace = fileURLToPath(new URL('../fixtures/dlp-hostile/hole-opener/', import.meta.url));
    const e = dlpEnv(session.env);
    await session.client(S3Client).send(new PutBucketPolicyCommand({
      Bucket: e.buckets.customerData,
      Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{
        Sid: 'OfficeAndVpcOnly', Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${e.buckets.customerData}/*`,
        Condition: {
          StringNotEquals: { 'aws:SourceVpce': e.network.s3EndpointId }, NotIpAddress: { 'aws:SourceIp': e.network.officeCidr },
          ArnNotLike: { 'aws:PrincipalArn': [`arn:aws:iam::${session.accountId}:root`, `arn:aws:iam::${session.accountId}:role/aws-service-role/macie.amazonaws.com/AWSServiceRoleForAmazonMacie`] },
        },
      }] }),
    }));
    const outcomes: Record<string, CheckOutcome> = {};
    for (const c of testSuiteChecks) outcomes[c.id] = await c.run(session);
    const g = (await suiteGrading(session))!;
    const show = JSON.stringify({ outcomes, through: Object.fromEntries(Object.entries(g.mutants).map(([m, v]) => [m, v.through])), baseline: g.baseline.through }, null, 1);
    expect(outcomes['dlp-tests-pass']!.passed, show).toBe(true);
    expect(g.baseline.through, show).not.toContain('dlp-presigned-url-outside');
    // Only deleting the perimeter itself lets the presigned URL through; the controls never built weaken nothing.
    for (const [m, v] of Object.entries(g.mutants)) expect(v.through.includes('dlp-presigned-url-outside'), `${m}\n${show}`).toBe(m === 'customer-data-open');
    for (const m of ['insider-unrestricted', 'partner-widened', 'responder-off']) {
      expect(outcomes[`dlp-tests-catch-${m}`]!.feedback, show).toMatch(/^Nothing to weaken here yet/);
    }
    // The probes never touched the graded attacks' outside bucket: nothing in the logs tells a submission its name.
    const drop = (session.hidden['dlp'] as DlpHidden).outside.dropBucket;
    const trail = cloud().gateway.service('cloudtrail').trail;
    const seen = [session.accountId, (session.hidden['dlp'] as DlpHidden).outside.accountId].flatMap((a) => trail.all(a))
      .filter((r) => /^(PutObject|CopyObject)$/.test(String(r.eventName)) && JSON.stringify(r).includes(drop));
    expect(seen.map((r) => `${r.eventName} ${r.recipientAccountId}`)).toEqual([]);
    // (The graded attack itself does show in the submission's logs: what the probes must not reveal.)
    await runProbe(session, cardCopyOutsideScenario);
    expect(trail.all(session.accountId).some((r) => r.eventName === 'PutObject' && JSON.stringify(r).includes(drop))).toBe(true);
  }, 600_000);

  it('anonymous reads: a bucket public for GetObject and ListBucket answers nothing else without a signature (subresources, versions, parts, attributes)', async () => {
    const c = cloud();
    const root = c.createAccount();
    const s3 = c.client(S3Client, { credentials: { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey } });
    const bucket = `anon-hostile-${root.accountId}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'data.csv', Body: 'old secret\n', Tagging: 'class=secret' }))).VersionId!;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'data.csv', Body: 'public\n' }));
    const upload = (await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'big.bin' }))).UploadId!;
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [
      { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` },
      { Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${bucket}` },
    ] }) }));
    const url = new URL(c.url);
    const send = (method: string, p: string, headers: Record<string, string> = {}) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      const r = http.request({ host: url.hostname, port: url.port, method, path: p, headers: { 'x-seclab-source-ip': '198.51.100.9', ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
      r.on('error', reject);
      r.end();
    });
    // What the public grant gives.
    expect((await send('GET', `/${bucket}/data.csv`)).body).toBe('public\n');
    expect((await send('GET', `/${bucket}?list-type=2`)).status).toBe(200);
    // What it does not: each needs another permission (s3:GetObjectVersion, ListBucketVersions, ListBucketMultipartUploads, ListMultipartUploadParts, GetObjectAttributes, GetObjectTagging, ...).
    const others = [
      `/${bucket}/data.csv?versionId=${encodeURIComponent(v1)}`, `/${bucket}?versions`, `/${bucket}?uploads`, `/${bucket}/big.bin?uploadId=${encodeURIComponent(upload)}`,
      `/${bucket}/data.csv?attributes`, `/${bucket}/data.csv?tagging`, `/${bucket}/data.csv?acl`, `/${bucket}/data.csv?torrent`, `/${bucket}/data.csv?retention`, `/${bucket}/data.csv?legal-hold`,
      `/${bucket}?location`, `/${bucket}?acl`, `/${bucket}?policy`, `/${bucket}?policyStatus`, `/${bucket}?versioning`, `/${bucket}?tagging`, `/${bucket}?cors`, `/${bucket}?website`,
      `/${bucket}?lifecycle`, `/${bucket}?encryption`, `/${bucket}?logging`, `/${bucket}?notification`, `/${bucket}?replication`, `/${bucket}?ownershipControls`, `/${bucket}?publicAccessBlock`,
      `/${bucket}?object-lock`, `/${bucket}?requestPayment`, `/${bucket}?accelerate`, `/${bucket}?analytics`, `/${bucket}?inventory`, `/${bucket}?metrics`, `/${bucket}?intelligent-tiering`,
      `/${bucket}?list-type=2&versions`, `/${bucket}/data.csv?versionId=${encodeURIComponent(v1)}&x-id=GetObject`, `/${bucket}/data.csv?partNumber=1&versionId=${encodeURIComponent(v1)}`,
    ];
    const got: string[] = [];
    for (const p of others) {
      const r = await send('GET', p, p.endsWith('?attributes') ? { 'x-amz-object-attributes': 'ETag,ObjectSize' } : {});
      if (r.status < 300 || r.body.includes('old secret') || r.body.includes('secret')) got.push(`${p} → ${r.status} ${r.body.slice(0, 120)}`);
    }
    expect(got).toEqual([]);
  }, 60_000);

  it('denying the grader\'s known names and addresses instead of building the perimeters: the insider-perimeter check and the presigned-URL attack are not fooled', async () => {
    const { session, e } = await provisioned('dlp-hostile-names');
    // Hostile: the analysts denied writes to the bucket names the grader's source uses, customer data denied to the addresses it uses.
    await session.client(IAMClient).send(new PutRolePolicyCommand({
      RoleName: e.analysts.roleName, PolicyName: 'fake-perimeter',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 's3:PutObject', Resource: ['arn:aws:s3:::seclab-probe-*', 'arn:aws:s3:::drop-*'] }] }),
    }));
    await session.client(S3Client).send(new PutBucketPolicyCommand({
      Bucket: e.buckets.customerData,
      Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${e.buckets.customerData}/*`, Condition: { IpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '198.18.23.45/32'] } } }] }),
    }));
    const insider = await byId('insider-perimeter').run(session);
    expect(insider.feedback).toMatch(/PutObject into another account's bucket/);
    const presigned = await runProbe(session, presignedUrlOutsideScenario);
    expect(presigned.blocked, presigned.feedback).toBe(false);
  }, 120_000);
});
