// Amazon Macie (macie2) served by the lab cloud, through the real gateway and moto with the AWS SDK v3:
// the session, custom data identifiers (Macie's limits, TestCustomDataIdentifier, soft delete), allow
// lists (regex and S3 words list with its status), a one-time classification job over a bucket with
// card numbers (CSV), SSNs (JSON) and a clean file, run on the lab clock: findings with Macie's types,
// severity and occurrences, statistics, the exported discovery results (gzip JSON Lines), the finding
// on EventBridge (SQS target); a bucket policy that denies Macie's service-linked role; a policy
// finding for a bucket made public; DescribeBuckets; IAM authorization of macie2 actions.
import { gunzipSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import {
  S3Client, CreateBucketCommand, PutObjectCommand, PutBucketPolicyCommand, ListObjectsV2Command, GetObjectCommand, PutPublicAccessBlockCommand,
  PutBucketEncryptionCommand,
} from '@aws-sdk/client-s3';
import { KMSClient, CreateKeyCommand } from '@aws-sdk/client-kms';
import { SQSClient, CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  Macie2Client, EnableMacieCommand, GetMacieSessionCommand, UpdateMacieSessionCommand, DisableMacieCommand,
  CreateCustomDataIdentifierCommand, GetCustomDataIdentifierCommand, ListCustomDataIdentifiersCommand, BatchGetCustomDataIdentifiersCommand,
  DeleteCustomDataIdentifierCommand, TestCustomDataIdentifierCommand, CreateAllowListCommand, GetAllowListCommand, ListAllowListsCommand,
  UpdateAllowListCommand, DeleteAllowListCommand, CreateClassificationJobCommand, DescribeClassificationJobCommand, ListClassificationJobsCommand,
  UpdateClassificationJobCommand, ListFindingsCommand, GetFindingsCommand, GetFindingStatisticsCommand, PutClassificationExportConfigurationCommand,
  DescribeBucketsCommand, ListManagedDataIdentifiersCommand, type DefaultDetection,
} from '@aws-sdk/client-macie2';
import { useLabCloud } from '../helpers/cloud.ts';
import { sampled } from '../../src/cloud/services/macie2/index.ts';
import { run, toolBin, toolInstalled } from '../../scripts/tools.ts';

const { cloud } = useLabCloud();
type Creds = { accessKeyId: string; secretAccessKey: string };
/** The DLP engine (src/controls/dlp) is written in parallel: the tests that scan objects need it. */

function account() {
  const c = cloud();
  const root = c.createAccount();
  const creds: Creds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
  return {
    c, id: root.accountId, creds,
    macie: (k: Creds = creds) => c.client(Macie2Client, { credentials: k }),
    s3: c.client(S3Client, { credentials: creds }),
    iam: c.client(IAMClient, { credentials: creds }),
    kms: c.client(KMSClient, { credentials: creds }),
    sqs: c.client(SQSClient, { credentials: creds }),
    events: c.client(EventBridgeClient, { credentials: creds }),
  };
}

async function errorOf(p: Promise<unknown>): Promise<{ name?: string; message?: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (e) {
    return e as { name?: string; message?: string };
  }
  throw new Error('expected the call to fail');
}

const CARDS_CSV = [
  'customer_id,name,credit_card_number,expiry',
  '1001,Ana Silva,4111 1111 1111 1111,04/29',
  '1002,Bo Chen,5555555555554444,11/28',
  '1003,Cy Okafor,378282246310005,01/30',
].join('\n');
const SSN_JSON = JSON.stringify({ customers: [{ name: 'Ana Silva', ssn: '536-22-8765' }, { name: 'Bo Chen', ssn: '234-56-7890' }] });
const CLEAN = 'Quarterly newsletter: the office moves to the third floor on Monday.\n';

describe('Macie2 session', () => {
  it('refuses calls before EnableMacie, then enables, updates, refuses a second enable and disables', async () => {
    const a = account();
    const m = a.macie();
    const before = await errorOf(m.send(new GetMacieSessionCommand({})));
    expect(before.name).toBe('AccessDeniedException');
    expect(before.$metadata?.httpStatusCode).toBe(403);
    await m.send(new EnableMacieCommand({ findingPublishingFrequency: 'ONE_HOUR' }));
    const s = await m.send(new GetMacieSessionCommand({}));
    expect(s.status).toBe('ENABLED');
    expect(s.findingPublishingFrequency).toBe('ONE_HOUR');
    expect(s.serviceRole).toBe(`arn:aws:iam::${a.id}:role/aws-service-role/macie.amazonaws.com/AWSServiceRoleForAmazonMacie`);
    expect(s.createdAt).toBeInstanceOf(Date);
    expect((await errorOf(m.send(new EnableMacieCommand({})))).name).toBe('ConflictException');
    expect((await errorOf(m.send(new UpdateMacieSessionCommand({ findingPublishingFrequency: 'TWO_HOURS' as never })))).name).toBe('ValidationException');
    await m.send(new UpdateMacieSessionCommand({ findingPublishingFrequency: 'SIX_HOURS', status: 'PAUSED' }));
    expect((await m.send(new GetMacieSessionCommand({}))).status).toBe('PAUSED');
    await m.send(new DisableMacieCommand({}));
    expect((await errorOf(m.send(new GetMacieSessionCommand({})))).name).toBe('AccessDeniedException');
  });

  it('authorizes macie2 actions with IAM: a user without macie2:CreateCustomDataIdentifier is refused', async () => {
    const a = account();
    await a.macie().send(new EnableMacieCommand({}));
    await a.iam.send(new CreateUserCommand({ UserName: 'analyst' }));
    await a.iam.send(new PutUserPolicyCommand({
      UserName: 'analyst', PolicyName: 'read',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['macie2:Get*', 'macie2:List*'], Resource: '*' }] }),
    }));
    const k = (await a.iam.send(new CreateAccessKeyCommand({ UserName: 'analyst' }))).AccessKey!;
    const analyst = a.macie({ accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! });
    expect((await analyst.send(new GetMacieSessionCommand({}))).status).toBe('ENABLED');
    const e = await errorOf(analyst.send(new CreateCustomDataIdentifierCommand({ name: 'x', regex: 'EMP-\\d{6}' })));
    expect(e.name).toBe('AccessDeniedException');
    expect(e.message).toContain('macie2:CreateCustomDataIdentifier');
  });
});

describe('Macie2 custom data identifiers and allow lists', () => {
  it('validates as Macie, creates, reads, lists, batch-gets and soft-deletes custom data identifiers', async () => {
    const a = account();
    const m = a.macie();
    await m.send(new EnableMacieCommand({}));
    const bad = async (input: object) => (await errorOf(m.send(new CreateCustomDataIdentifierCommand({ name: 'n', regex: 'x', ...input } as never)))).name;
    expect(await bad({ regex: 'a'.repeat(513) })).toBe('ValidationException');
    expect(await bad({ keywords: ['ab'] })).toBe('ValidationException');
    expect(await bad({ keywords: Array.from({ length: 51 }, (_, i) => `kw${i}x`) })).toBe('ValidationException');
    expect(await bad({ ignoreWords: ['abc'] })).toBe('ValidationException');
    expect(await bad({ maximumMatchDistance: 301 })).toBe('ValidationException');
    expect(await bad({ maximumMatchDistance: 0 })).toBe('ValidationException');
    expect(await bad({ severityLevels: [{ occurrencesThreshold: 10, severity: 'LOW' }, { occurrencesThreshold: 5, severity: 'HIGH' }] })).toBe('ValidationException');

    const { customDataIdentifierId: id } = await m.send(new CreateCustomDataIdentifierCommand({
      name: 'employee-id', description: 'Company employee ids', regex: 'EMP-\\d{6}', keywords: ['employee'], ignoreWords: ['EMP-000000'],
      severityLevels: [{ occurrencesThreshold: 1, severity: 'LOW' }, { occurrencesThreshold: 3, severity: 'HIGH' }],
    }));
    const got = await m.send(new GetCustomDataIdentifierCommand({ id }));
    expect(got).toMatchObject({ id, name: 'employee-id', regex: 'EMP-\\d{6}', keywords: ['employee'], ignoreWords: ['EMP-000000'], maximumMatchDistance: 50, deleted: false });
    expect(got.arn).toBe(`arn:aws:macie2:${a.c.region}:${a.id}:custom-data-identifier/${id}`);
    expect((await m.send(new ListCustomDataIdentifiersCommand({}))).items?.map((i) => i.id)).toEqual([id]);
    const batch = await m.send(new BatchGetCustomDataIdentifiersCommand({ ids: [id!, 'nope'] }));
    expect(batch.customDataIdentifiers?.map((c) => c.id)).toEqual([id]);
    expect(batch.notFoundIdentifierIds).toEqual(['nope']);
    await m.send(new DeleteCustomDataIdentifierCommand({ id }));
    expect((await m.send(new GetCustomDataIdentifierCommand({ id }))).deleted).toBe(true);
    expect((await m.send(new ListCustomDataIdentifiersCommand({}))).items).toEqual([]);
    expect((await errorOf(m.send(new GetCustomDataIdentifierCommand({ id: 'missing' })))).name).toBe('ResourceNotFoundException');
  });

  it('TestCustomDataIdentifier counts matches with keywords and ignore words', async () => {
    const a = account();
    const m = a.macie();
    await m.send(new EnableMacieCommand({}));
    const r = await m.send(new TestCustomDataIdentifierCommand({
      regex: 'EMP-\\d{6}', keywords: ['employee'], ignoreWords: ['EMP-000000'],
      sampleText: 'employee EMP-123456, employee EMP-000000, and far away with no keyword nearby at all ............................................................ EMP-654321',
    }));
    expect(r.matchCount).toBe(1);
  });

  it('keeps allow lists: regex, and an S3 words list whose status follows the object', async () => {
    const a = account();
    const m = a.macie();
    await m.send(new EnableMacieCommand({}));
    await a.s3.send(new CreateBucketCommand({ Bucket: `allow-${a.id}` }));
    const rx = await m.send(new CreateAllowListCommand({ name: 'test-cards', criteria: { regex: '4111 1111 1111 1111' }, clientToken: 't1' }));
    expect(rx.arn).toBe(`arn:aws:macie2:${a.c.region}:${a.id}:allow-list/${rx.id}`);
    expect((await m.send(new GetAllowListCommand({ id: rx.id }))).status?.code).toBe('OK');
    const words = await m.send(new CreateAllowListCommand({ name: 'names', criteria: { s3WordsList: { bucketName: `allow-${a.id}`, objectKey: 'words.txt' } }, clientToken: 't2' }));
    expect((await m.send(new GetAllowListCommand({ id: words.id }))).status?.code).toBe('S3_OBJECT_NOT_FOUND');
    await a.s3.send(new PutObjectCommand({ Bucket: `allow-${a.id}`, Key: 'words.txt', Body: '' }));
    expect((await m.send(new GetAllowListCommand({ id: words.id }))).status?.code).toBe('S3_OBJECT_EMPTY');
    await a.s3.send(new PutObjectCommand({ Bucket: `allow-${a.id}`, Key: 'words.txt', Body: 'Ana Silva\nBo Chen\n' }));
    expect((await m.send(new GetAllowListCommand({ id: words.id }))).status?.code).toBe('OK');
    expect((await errorOf(m.send(new CreateAllowListCommand({ name: 'both', criteria: { regex: 'x', s3WordsList: { bucketName: 'bbb', objectKey: 'k' } }, clientToken: 't3' })))).name).toBe('ValidationException');
    await m.send(new UpdateAllowListCommand({ id: rx.id, name: 'test-cards', description: 'Visa test number', criteria: { regex: '4111[ -]?1111[ -]?1111[ -]?1111' } }));
    expect((await m.send(new GetAllowListCommand({ id: rx.id }))).description).toBe('Visa test number');
    expect((await m.send(new ListAllowListsCommand({}))).allowLists?.map((l) => l.name).sort()).toEqual(['names', 'test-cards']);
    await m.send(new DeleteAllowListCommand({ id: words.id }));
    expect((await errorOf(m.send(new GetAllowListCommand({ id: words.id })))).name).toBe('ResourceNotFoundException');
    // DeleteAllowList with a job that uses the list: refused unless ignoreJobChecks (a query parameter in the service model)
    await m.send(new CreateClassificationJobCommand({
      clientToken: 'al-job', name: 'uses-list', jobType: 'SCHEDULED', scheduleFrequency: { dailySchedule: {} }, initialRun: false,
      s3JobDefinition: { bucketDefinitions: [{ accountId: a.id, buckets: [`allow-${a.id}`] }] }, allowListIds: [rx.id!],
    }));
    expect((await errorOf(m.send(new DeleteAllowListCommand({ id: rx.id })))).name).toBe('ValidationException');
    await m.send(new DeleteAllowListCommand({ id: rx.id, ignoreJobChecks: 'true' }));
    expect((await errorOf(m.send(new GetAllowListCommand({ id: rx.id })))).name).toBe('ResourceNotFoundException');
  });
});

describe('Macie2 classification jobs and findings', () => {
  it('validates jobs and pauses, resumes and cancels a scheduled job', async () => {
    const a = account();
    const m = a.macie();
    await m.send(new EnableMacieCommand({}));
    const def = { bucketDefinitions: [{ accountId: a.id, buckets: ['nothing-here'] }] };
    expect((await errorOf(m.send(new CreateClassificationJobCommand({ clientToken: 'a', name: 'j', jobType: 'SCHEDULED', s3JobDefinition: def })))).name).toBe('ValidationException');
    expect((await errorOf(m.send(new CreateClassificationJobCommand({ clientToken: 'b', name: 'j', jobType: 'ONE_TIME', s3JobDefinition: def, managedDataIdentifierSelector: 'INCLUDE' })))).name).toBe('ValidationException');
    expect((await errorOf(m.send(new CreateClassificationJobCommand({ clientToken: 'c', name: 'j', jobType: 'ONE_TIME', s3JobDefinition: def, customDataIdentifierIds: ['nope'] })))).name).toBe('ResourceNotFoundException');
    const { jobId } = await m.send(new CreateClassificationJobCommand({
      clientToken: 'weekly', name: 'weekly-scan', jobType: 'SCHEDULED', scheduleFrequency: { weeklySchedule: { dayOfWeek: 'MONDAY' } }, s3JobDefinition: def, initialRun: false,
    }));
    const again = await m.send(new CreateClassificationJobCommand({
      clientToken: 'weekly', name: 'weekly-scan', jobType: 'SCHEDULED', scheduleFrequency: { weeklySchedule: { dayOfWeek: 'MONDAY' } }, s3JobDefinition: def,
    }));
    expect(again.jobId).toBe(jobId);
    expect((await m.send(new DescribeClassificationJobCommand({ jobId }))).jobStatus).toBe('IDLE');
    await m.send(new UpdateClassificationJobCommand({ jobId, jobStatus: 'USER_PAUSED' }));
    const paused = await m.send(new DescribeClassificationJobCommand({ jobId }));
    expect(paused.jobStatus).toBe('USER_PAUSED');
    expect(paused.userPausedDetails?.jobExpiresAt).toBeInstanceOf(Date);
    await m.send(new UpdateClassificationJobCommand({ jobId, jobStatus: 'RUNNING' }));
    expect((await m.send(new DescribeClassificationJobCommand({ jobId }))).jobStatus).toBe('IDLE');
    await m.send(new UpdateClassificationJobCommand({ jobId, jobStatus: 'CANCELLED' }));
    expect((await errorOf(m.send(new UpdateClassificationJobCommand({ jobId, jobStatus: 'RUNNING' })))).name).toBe('ValidationException');
    const list = await m.send(new ListClassificationJobsCommand({ filterCriteria: { includes: [{ key: 'jobStatus', comparator: 'EQ', values: ['CANCELLED'] }] } }));
    expect(list.items?.map((j) => j.jobId)).toEqual([jobId]);
  });

  it('a one-time job finds card numbers and SSNs, scores them, exports results and publishes to EventBridge', async () => {
    const a = account();
    const m = a.macie();
    const data = `customer-data-${a.id}`;
    const results = `discovery-results-${a.id}`;
    await m.send(new EnableMacieCommand({}));
    await a.s3.send(new CreateBucketCommand({ Bucket: data }));
    await a.s3.send(new CreateBucketCommand({ Bucket: results }));
    await a.s3.send(new PutObjectCommand({ Bucket: data, Key: 'exports/cards.csv', Body: CARDS_CSV, ContentType: 'text/csv' }));
    await a.s3.send(new PutObjectCommand({ Bucket: data, Key: 'exports/customers.json', Body: SSN_JSON, ContentType: 'application/json' }));
    await a.s3.send(new PutObjectCommand({ Bucket: data, Key: 'notes/newsletter.txt', Body: CLEAN }));
    const key = (await a.kms.send(new CreateKeyCommand({ Description: 'Macie results' }))).KeyMetadata!;
    await m.send(new PutClassificationExportConfigurationCommand({ configuration: { s3Destination: { bucketName: results, keyPrefix: 'macie', kmsKeyArn: key.Arn! } } }));
    // EventBridge: a rule for Macie findings with an SQS queue as target.
    const q = await a.sqs.send(new CreateQueueCommand({ QueueName: 'macie-findings' }));
    const qArn = (await a.sqs.send(new GetQueueAttributesCommand({ QueueUrl: q.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!['QueueArn']!;
    await a.events.send(new PutRuleCommand({ Name: 'macie', EventPattern: JSON.stringify({ source: ['aws.macie'], 'detail-type': ['Macie Finding'] }) }));
    await a.events.send(new PutTargetsCommand({ Rule: 'macie', Targets: [{ Id: 'q', Arn: qArn }] }));

    const managed = await m.send(new ListManagedDataIdentifiersCommand({}));
    expect(managed.items?.some((i) => i.id === 'CREDIT_CARD_NUMBER' && i.category === 'FINANCIAL_INFORMATION')).toBe(true);

    const { jobId, jobArn } = await m.send(new CreateClassificationJobCommand({
      clientToken: 'once', name: 'customer-data-scan', jobType: 'ONE_TIME', s3JobDefinition: { bucketDefinitions: [{ accountId: a.id, buckets: [data] }] },
    }));
    expect(jobArn).toBe(`arn:aws:macie2:${a.c.region}:${a.id}:classification-job/${jobId}`);
    expect((await m.send(new DescribeClassificationJobCommand({ jobId }))).jobStatus).toBe('RUNNING');
    await a.c.gateway.clock.advance(60_000);
    await a.c.gateway.service('macie2').settle();
    const job = await m.send(new DescribeClassificationJobCommand({ jobId }));
    expect(job.jobStatus).toBe('COMPLETE');
    expect(job.statistics).toEqual({ approximateNumberOfObjectsToProcess: 3, numberOfRuns: 1 });
    expect(job.lastRunErrorStatus?.code).toBe('NONE');

    const ids = (await m.send(new ListFindingsCommand({ findingCriteria: { criterion: { 'classificationDetails.jobId': { eq: [jobId!] } } } }))).findingIds!;
    expect(ids).toHaveLength(2);
    const findings = (await m.send(new GetFindingsCommand({ findingIds: ids }))).findings!;
    const byKey = Object.fromEntries(findings.map((f) => [f.resourcesAffected?.s3Object?.key, f]));
    const cards = byKey['exports/cards.csv']!;
    expect(cards.type).toBe('SensitiveData:S3Object/Financial');
    expect(cards.severity).toEqual({ description: 'High', score: 3 });
    expect(cards.category).toBe('CLASSIFICATION');
    const cardData = cards.classificationDetails?.result?.sensitiveData?.[0];
    expect(cardData?.category).toBe('FINANCIAL_INFORMATION');
    const cc = cardData?.detections?.find((d: DefaultDetection) => d.type === 'CREDIT_CARD_NUMBER');
    expect(cc?.count).toBe(3);
    expect(cc?.occurrences?.cells?.[0]).toMatchObject({ column: 3, columnName: 'credit_card_number' });
    expect(cards.classificationDetails?.jobArn).toBe(jobArn);
    expect(cards.classificationDetails?.detailedResultsLocation).toMatch(new RegExp(`^s3://${results}/macie/AWSLogs/${a.id}/Macie/${a.c.region}/${jobId}/`));
    expect(cards.resourcesAffected?.s3Bucket?.name).toBe(data);
    const ssn = byKey['exports/customers.json']!;
    expect(ssn.type).toBe('SensitiveData:S3Object/Personal');
    expect(ssn.severity?.description).toBe('Medium');
    const ssnDet = ssn.classificationDetails?.result?.sensitiveData?.[0]?.detections?.find((d: DefaultDetection) => d.type === 'USA_SOCIAL_SECURITY_NUMBER');
    expect(ssnDet?.count).toBe(2);
    expect(ssnDet?.occurrences?.records?.map((r: { jsonPath?: string }) => r.jsonPath)).toEqual(['$.customers[0].ssn', '$.customers[1].ssn']);
    expect(byKey['notes/newsletter.txt']).toBeUndefined();

    const high = await m.send(new ListFindingsCommand({ findingCriteria: { criterion: { 'severity.description': { eq: ['High'] } } } }));
    expect(high.findingIds).toEqual([cards.id]);
    const scored = await m.send(new ListFindingsCommand({ findingCriteria: { criterion: { 'severity.score': { gte: 2 } } }, sortCriteria: { attributeName: 'severity.score', orderBy: 'ASC' } }));
    expect(scored.findingIds).toEqual([ssn.id, cards.id]);
    const stats = await m.send(new GetFindingStatisticsCommand({ groupBy: 'type' }));
    expect(stats.countsByGroup?.map((g) => [g.groupKey, g.count]).sort()).toEqual([['SensitiveData:S3Object/Financial', 1], ['SensitiveData:S3Object/Personal', 1]]);

    // Sensitive data discovery results: one JSON line per object, gzip, SSE-KMS with the configured key.
    const listed = await a.s3.send(new ListObjectsV2Command({ Bucket: results, Prefix: `macie/AWSLogs/${a.id}/Macie/` }));
    expect(listed.Contents).toHaveLength(1);
    const obj = await a.s3.send(new GetObjectCommand({ Bucket: results, Key: listed.Contents![0]!.Key! }));
    expect(obj.ServerSideEncryption).toBe('aws:kms');
    const lines = gunzipSync(Buffer.from(await obj.Body!.transformToByteArray())).toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.resourcesAffected.s3Object.key).sort()).toEqual(['exports/cards.csv', 'exports/customers.json', 'notes/newsletter.txt']);
    expect(lines.every((l) => l.classificationDetails.result.status.code === 'COMPLETE')).toBe(true);

    // EventBridge: each new finding at once.
    const got: Array<{ source: string; 'detail-type': string; detail: { id: string } }> = [];
    for (let i = 0; i < 5 && got.length < 2; i++) {
      const r = await a.sqs.send(new ReceiveMessageCommand({ QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      for (const msg of r.Messages ?? []) got.push(JSON.parse(msg.Body!));
    }
    expect(got.map((e) => e.detail.id).sort()).toEqual([cards.id, ssn.id].sort());
    expect(got[0]).toMatchObject({ source: 'aws.macie', 'detail-type': 'Macie Finding' });

    const buckets = await m.send(new DescribeBucketsCommand({ criteria: { bucketName: { eq: [data] } } }));
    expect(buckets.buckets?.[0]).toMatchObject({ bucketName: data, objectCount: 3, classifiableObjectCount: 3 });
    expect(buckets.buckets?.[0]?.jobDetails).toMatchObject({ isDefinedInJob: 'TRUE', lastJobId: jobId });
    expect(buckets.buckets?.[0]?.sensitivityScore).toBeGreaterThan(50);
    expect(a.c.gateway.service('macie2').findings(a.id)).toHaveLength(2);
  });

  it('an account whose jobs reach the lab cloud\'s object quota: the running job pauses, the rest is left for later', async () => {
    const a = account();
    const m = a.macie();
    const svc = a.c.gateway.service('macie2');
    const bucket = `quota-${a.id}`;
    await m.send(new EnableMacieCommand({}));
    await a.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const k of ['a.csv', 'b.csv', 'c.csv']) await a.s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: CARDS_CSV }));
    const quota = svc.objectQuota;
    svc.objectQuota = 2;
    try {
      const { jobId } = await m.send(new CreateClassificationJobCommand({ clientToken: 'q', name: 'quota', jobType: 'ONE_TIME', s3JobDefinition: { bucketDefinitions: [{ accountId: a.id, buckets: [bucket] }] } }));
      await svc.runDue();
      expect((await m.send(new DescribeClassificationJobCommand({ jobId }))).jobStatus).toBe('PAUSED');
      expect(svc.jobs(a.id).find((j) => j.jobId === jobId)!.runs[0]).toMatchObject({ analysed: 2 });
      // paused: the next flush analyses nothing more
      await svc.runDue();
      expect(svc.jobs(a.id).find((j) => j.jobId === jobId)!.runs).toHaveLength(1);
    } finally {
      svc.objectQuota = quota;
    }
  });

  it("skips objects whose bucket policy denies Macie's service-linked role", async () => {
    const a = account();
    const m = a.macie();
    const bucket = `locked-${a.id}`;
    await m.send(new EnableMacieCommand({}));
    await a.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await a.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cards.csv', Body: CARDS_CSV }));
    await a.s3.send(new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{
          Sid: 'NoMacie', Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*`,
          Condition: { StringLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/aws-service-role/macie.amazonaws.com/AWSServiceRoleForAmazonMacie' } },
        }],
      }),
    }));
    const { jobId } = await m.send(new CreateClassificationJobCommand({ clientToken: 'x', name: 'locked', jobType: 'ONE_TIME', s3JobDefinition: { bucketDefinitions: [{ accountId: a.id, buckets: [bucket] }] } }));
    await a.c.gateway.service('macie2').runDue();
    expect((await m.send(new DescribeClassificationJobCommand({ jobId }))).jobStatus).toBe('COMPLETE');
    expect((await m.send(new ListFindingsCommand({}))).findingIds).toEqual([]);
    const job = a.c.gateway.service('macie2').jobs(a.id).find((j) => j.jobId === jobId)!;
    expect(job.runs[0]).toMatchObject({ analysed: 0, skipped: 1 });
    const r = a.c.gateway.service('macie2').results.find((x) => x.jobId === jobId)!.result as { classificationDetails: { result: { status: unknown } } };
    expect(r.classificationDetails.result.status).toEqual({ code: 'SKIPPED', reason: 'PERMISSION_DENIED' });
  });

  it('custom identifiers make CustomIdentifier findings scored by severityLevels, and Multiple with managed data; a daily job analyses only new objects', async () => {
    const a = account();
    const m = a.macie();
    const bucket = `hr-${a.id}`;
    await m.send(new EnableMacieCommand({}));
    await a.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const { customDataIdentifierId } = await m.send(new CreateCustomDataIdentifierCommand({
      name: 'employee-id', regex: 'EMP-[0-9]{6}', keywords: ['employee'],
      severityLevels: [{ occurrencesThreshold: 1, severity: 'LOW' }, { occurrencesThreshold: 3, severity: 'HIGH' }],
    }));
    await a.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'staff.txt', Body: 'employee EMP-123456\nemployee EMP-234567\nemployee EMP-345678\n' }));
    await a.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'one.txt', Body: 'employee EMP-456789\n' }));
    const { jobId } = await m.send(new CreateClassificationJobCommand({
      clientToken: 'daily', name: 'hr-daily', jobType: 'SCHEDULED', scheduleFrequency: { dailySchedule: {} }, initialRun: true,
      customDataIdentifierIds: [customDataIdentifierId!], s3JobDefinition: { bucketDefinitions: [{ accountId: a.id, buckets: [bucket] }] },
    }));
    await a.c.gateway.service('macie2').runDue();
    let job = await m.send(new DescribeClassificationJobCommand({ jobId }));
    expect(job.jobStatus).toBe('IDLE');
    expect(job.statistics).toEqual({ approximateNumberOfObjectsToProcess: 2, numberOfRuns: 1 });
    const first = (await m.send(new GetFindingsCommand({ findingIds: (await m.send(new ListFindingsCommand({}))).findingIds! }))).findings!;
    const byKey = Object.fromEntries(first.map((f) => [f.resourcesAffected?.s3Object?.key, f]));
    expect(byKey['staff.txt']?.type).toBe('SensitiveData:S3Object/CustomIdentifier');
    expect(byKey['staff.txt']?.severity?.description).toBe('High');
    expect(byKey['staff.txt']?.classificationDetails?.result?.customDataIdentifiers?.detections?.[0]).toMatchObject({ count: 3, name: 'employee-id' });
    expect(byKey['one.txt']?.severity?.description).toBe('Low');

    // The next day's run analyses only what changed since the first run.
    await a.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'mixed.csv', Body: 'employee,credit_card_number\nEMP-567890,4111 1111 1111 1111\n' }));
    await a.c.gateway.clock.advance(24 * 3600_000 + 60_000);
    await a.c.gateway.service('macie2').settle();
    job = await m.send(new DescribeClassificationJobCommand({ jobId }));
    expect(job.statistics).toEqual({ approximateNumberOfObjectsToProcess: 1, numberOfRuns: 2 });
    const all = (await m.send(new ListFindingsCommand({}))).findingIds!;
    expect(all).toHaveLength(3);
    const mixed = (await m.send(new GetFindingsCommand({ findingIds: all }))).findings!.find((f) => f.resourcesAffected?.s3Object?.key === 'mixed.csv')!;
    expect(mixed.type).toBe('SensitiveData:S3Object/Multiple');
    expect(mixed.severity?.description).toBe('Medium'); // one card number (Medium), one employee id (Low)
  });

  it('reports a policy finding when a bucket is made public, and publishes it to EventBridge', async () => {
    const a = account();
    const m = a.macie();
    const bucket = `website-${a.id}`;
    await m.send(new EnableMacieCommand({}));
    await a.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await a.s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false } }));
    await a.s3.send(new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }] }),
    }));
    await a.c.gateway.service('macie2').runDue();
    const ids = (await m.send(new ListFindingsCommand({ findingCriteria: { criterion: { category: { eq: ['POLICY'] } } } }))).findingIds!;
    const findings = (await m.send(new GetFindingsCommand({ findingIds: ids }))).findings!;
    const types = findings.map((f) => f.type).sort();
    expect(types).toEqual(['Policy:IAMUser/S3BlockPublicAccessDisabled', 'Policy:IAMUser/S3BucketPublic']);
    const pub = findings.find((f) => f.type === 'Policy:IAMUser/S3BucketPublic')!;
    expect(pub.severity?.description).toBe('High');
    expect(pub.resourcesAffected?.s3Bucket?.publicAccess?.effectivePermission).toBe('PUBLIC');
    expect(pub.policyDetails?.action?.apiCallDetails?.api).toBe('PutBucketPolicy');
    expect(pub.policyDetails?.actor?.userIdentity?.type).toBe('Root');
    // A repeat raises the count; the update goes to EventBridge on the publishing frequency (15 minutes).
    await a.events.send(new PutRuleCommand({ Name: 'macie', EventPattern: JSON.stringify({ source: ['aws.macie'] }) }));
    const q = await a.sqs.send(new CreateQueueCommand({ QueueName: 'macie-policy' }));
    const qArn = (await a.sqs.send(new GetQueueAttributesCommand({ QueueUrl: q.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!['QueueArn']!;
    await a.events.send(new PutTargetsCommand({ Rule: 'macie', Targets: [{ Id: 'q', Arn: qArn }] }));
    await a.s3.send(new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:*', Resource: `arn:aws:s3:::${bucket}/*` }] }),
    }));
    await a.c.gateway.service('macie2').runDue();
    const updated = (await m.send(new GetFindingsCommand({ findingIds: [pub.id!] }))).findings![0]!;
    expect(updated.count).toBe(2);
    const published = () => a.c.gateway.service('events').deliveries.filter((d) => d.account === a.id && d.event.source === 'aws.macie' && (d.event.detail as { id: string }).id === pub.id);
    expect(published()).toHaveLength(0);
    await a.c.gateway.clock.advance(15 * 60_000 + 1000);
    await a.c.gateway.service('macie2').settle();
    expect(published()).toHaveLength(1);
    expect((published()[0]!.event.detail as { count: number }).count).toBe(2);
  });

  it('same work, same results: job and finding ids are derived (not random), sampling is a stable hash, ties sort by id', async () => {
    const a = account();
    const m = a.macie();
    const bucket = `sampled-${a.id}`;
    await m.send(new EnableMacieCommand({}));
    await a.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const keys = Array.from({ length: 24 }, (_, i) => `people/p${String(i).padStart(2, '0')}.txt`);
    for (const Key of keys) await a.s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: `SSN: 219-45-6789 (${Key})\n` }));
    const once = async () => {
      const { jobId } = await m.send(new CreateClassificationJobCommand({
        clientToken: 'half', name: 'half-sample', jobType: 'ONE_TIME', samplingPercentage: 50, s3JobDefinition: { bucketDefinitions: [{ accountId: a.id, buckets: [bucket] }] },
      }));
      // the lab clock held: every finding of the run has the same createdAt and updatedAt, so the order is the id's
      await a.c.gateway.clock.exclusive(() => a.c.gateway.service('macie2').runDue());
      const ids = (await m.send(new ListFindingsCommand({}))).findingIds!;
      const findings = (await m.send(new GetFindingsCommand({ findingIds: ids }))).findings!;
      return { jobId, ids, analysed: findings.map((f) => f.resourcesAffected!.s3Object!.key!).sort() };
    };
    const first = await once();
    expect(first.jobId).toMatch(/^[0-9a-f]{32}$/);
    for (const id of first.ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    // the sample: the objects the stable hash of (job name, clientToken, bucket, key) picks, about half
    const expected = keys.filter((key) => sampled({ samplingPercentage: 50, name: 'half-sample', clientToken: 'half' }, bucket, { key }));
    expect(first.analysed).toEqual(expected);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(keys.length);
    expect(first.ids).toEqual([...first.ids].sort().reverse()); // the default order (updatedAt, newest first): equal times by id
    // disabling drops Macie's state; the same calls again give the same ids, sample and order
    await m.send(new DisableMacieCommand({}));
    await m.send(new EnableMacieCommand({}));
    const second = await once();
    expect(second).toEqual(first);
  });

  it('a bucket change after which no policy finding can follow costs Macie no reads of the bucket', async () => {
    const a = account();
    const m = a.macie();
    const bucket = `quiet-${a.id}`;
    await m.send(new EnableMacieCommand({}));
    await a.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const macie = a.c.gateway.service('macie2');
    await macie.runDue(); // evaluates the new bucket
    const target = a.c.gateway.upstream;
    const spy = vi.spyOn(target, 'json');
    try {
      await a.s3.send(new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } }));
      const before = spy.mock.calls.length;
      await macie.runDue();
      const byMacie = spy.mock.calls.slice(before).filter((c) => c[0] === a.id && c[1] === 's3');
      expect(byMacie.map((c) => c[2])).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });

  it('a JSON Lines object nested too deep fails only its own analysis; the run goes on and records it', async () => {
    const a = account();
    const m = a.macie();
    const bucket = `deep-${a.id}`;
    await m.send(new EnableMacieCommand({}));
    await a.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const deep = '['.repeat(300) + '1' + ']'.repeat(300);
    await a.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a-deep.jsonl', Body: `{"ok":1}\n${deep}\n` }));
    await a.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'b-customers.json', Body: SSN_JSON }));
    const { jobId } = await m.send(new CreateClassificationJobCommand({
      clientToken: 'deep', name: 'deep', jobType: 'SCHEDULED', scheduleFrequency: { dailySchedule: {} }, initialRun: true,
      s3JobDefinition: { bucketDefinitions: [{ accountId: a.id, buckets: [bucket] }] },
    }));
    const macie = a.c.gateway.service('macie2');
    await macie.runDue();
    const job = await m.send(new DescribeClassificationJobCommand({ jobId }));
    expect(job.lastRunErrorStatus?.code).toBe('NONE');
    const run = macie.jobs(a.id).find((j) => j.jobId === jobId)!;
    expect(run.runs[0]).toMatchObject({ analysed: 1, skipped: 1 });
    expect(run.runs[0]!.findings).toHaveLength(1);
    const status = (key: string) => (macie.results.find((x) => x.jobId === jobId && (x.result['resourcesAffected'] as { s3Object: { key: string } }).s3Object.key === key)!.result as { classificationDetails: { result: { status: unknown } } }).classificationDetails.result.status;
    expect(status('a-deep.jsonl')).toEqual({ code: 'SKIPPED', reason: 'JSON_NESTING_LEVEL_OVER_LIMIT' });
    expect(status('b-customers.json')).toEqual({ code: 'COMPLETE' });
    // both analyses were recorded: both objects are seen, a later run does not take them again
    expect([...run.seen].map((v) => v.split('|')[0]).sort()).toEqual([`${bucket}/a-deep.jsonl`, `${bucket}/b-customers.json`]);
  });
});

// The AWS CLI (awscli 1.x from seclab's tool cache, as test/compat/awscli.test.ts installs it): what a
// student types. Skipped when the CLI is not installed yet (that test installs it).
describe.skipIf(!toolInstalled('awscli'))('Macie2 with the AWS CLI', () => {
  it('enable-macie, get-macie-session, create and test a custom data identifier, list-findings, an error in the protocol format', async () => {
    const a = account();
    const env = {
      PATH: process.env.PATH, HOME: '/nonexistent', LANG: 'C.UTF-8', AWS_ENDPOINT_URL: a.c.url,
      AWS_ACCESS_KEY_ID: a.creds.accessKeyId, AWS_SECRET_ACCESS_KEY: a.creds.secretAccessKey, AWS_DEFAULT_REGION: a.c.region,
      AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_PAGER: '', AWS_MAX_ATTEMPTS: '1',
    };
    const aws = (...args: string[]) => run(toolBin('awscli', 'aws'), ['macie2', ...args, '--output', 'json'], { env, timeoutMs: 60_000 });
    const json = async (...args: string[]) => {
      const r = await aws(...args);
      expect(r.code, `aws macie2 ${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout.trim() ? JSON.parse(r.stdout) : {};
    };
    const denied = await aws('get-macie-session');
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('(AccessDeniedException)');
    await json('enable-macie', '--finding-publishing-frequency', 'FIFTEEN_MINUTES');
    expect(await json('get-macie-session')).toMatchObject({ status: 'ENABLED', findingPublishingFrequency: 'FIFTEEN_MINUTES' });
    const { customDataIdentifierId } = await json('create-custom-data-identifier', '--name', 'employee-id', '--regex', 'EMP-[0-9]{6}', '--keywords', 'employee');
    expect((await json('get-custom-data-identifier', '--id', customDataIdentifierId)).name).toBe('employee-id');
    expect((await json('test-custom-data-identifier', '--regex', 'EMP-[0-9]{6}', '--keywords', 'employee', '--sample-text', 'employee EMP-123456')).matchCount).toBe(1);
    expect((await json('list-findings')).findingIds).toEqual([]);
    const bad = await aws('create-custom-data-identifier', '--name', 'x', '--regex', 'x', '--maximum-match-distance', '301');
    expect(bad.stderr).toContain('(ValidationException)');
  }, 120_000);
});
