// Issue 11 (lab dlp): a quarantine pipeline end to end through the real gateway with the AWS SDK v3:
// Macie sensitive data finding → EventBridge rule (Macie's documented pattern for sensitive data
// findings) → Lambda function (test/fixtures/quarantine/index.mjs, Node.js 20, run with its execution
// role's credentials) that tags the object quarantine=true, copies it to a quarantine bucket and
// deletes it from staging. Negatives: a rule whose pattern does not match (detail-type typo) does
// nothing; a role without s3:PutObjectTagging makes the invocation fail and leaves the object as it was.
// Latency is measured on the lab clock, held still (clock.exclusive) so that only what the pipeline
// itself takes counts; it is printed and documented in docs/moto-deviations.md ("Macie").
import { describe, expect, it } from 'vitest';
import { IAMClient, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { LambdaClient, CreateFunctionCommand, AddPermissionCommand } from '@aws-sdk/client-lambda';
import { Macie2Client, EnableMacieCommand, CreateClassificationJobCommand, DescribeClassificationJobCommand, ListFindingsCommand, GetFindingsCommand } from '@aws-sdk/client-macie2';
import { MANAGED_IDENTIFIERS } from '../../src/controls/dlp/index.ts';
import { zipDir } from '../../src/kit/index.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
/** The DLP engine (src/controls/dlp) must be there for jobs to find anything. */
const engineReady = MANAGED_IDENTIFIERS.length > 0;

const CARDS_CSV = [
  'customer_id,name,credit_card_number,expiry',
  '1001,Ana Silva,4111 1111 1111 1111,04/29',
  '1002,Bo Chen,5555555555554444,11/28',
  '1003,Cy Okafor,378282246310005,01/30',
].join('\n');
const CLEAN = 'Quarterly newsletter: the office moves to the third floor on Monday.\n';
/** Macie's documented event pattern for sensitive data findings. */
const SENSITIVE_DATA_PATTERN = { source: ['aws.macie'], 'detail-type': ['Macie Finding'], detail: { type: [{ prefix: 'SensitiveData' }] } };
const FUNCTION = 'quarantine';
const ROLE = 'quarantine';

interface Options { pattern?: object; allowTagging?: boolean }

async function pipeline({ pattern = SENSITIVE_DATA_PATTERN, allowTagging = true }: Options = {}) {
  const c = cloud();
  const root = c.createAccount();
  const id = root.accountId;
  const region = c.region;
  const credentials = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
  const s3 = c.client(S3Client, { credentials });
  const iam = c.client(IAMClient, { credentials });
  const events = c.client(EventBridgeClient, { credentials });
  const lambda = c.client(LambdaClient, { credentials });
  const macie = c.client(Macie2Client, { credentials });
  const buckets = { customers: `customer-data-${id}`, staging: `staging-${id}`, quarantine: `quarantine-${id}` };
  for (const b of Object.values(buckets)) await s3.send(new CreateBucketCommand({ Bucket: b }));
  await macie.send(new EnableMacieCommand({}));

  // The function's execution role: S3 object calls on the staging and quarantine buckets only.
  const actions = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', ...(allowTagging ? ['s3:PutObjectTagging'] : [])];
  await iam.send(new CreateRoleCommand({
    RoleName: ROLE,
    AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
  }));
  await iam.send(new PutRolePolicyCommand({
    RoleName: ROLE, PolicyName: 'quarantine-objects',
    PolicyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: actions, Resource: [`arn:aws:s3:::${buckets.staging}/*`, `arn:aws:s3:::${buckets.quarantine}/*`] }],
    }),
  }));
  const fn = await lambda.send(new CreateFunctionCommand({
    FunctionName: FUNCTION, Runtime: 'nodejs20.x', Handler: 'index.handler', Timeout: 30, Role: `arn:aws:iam::${id}:role/${ROLE}`,
    Code: { ZipFile: zipDir(new URL('../fixtures/quarantine/', import.meta.url)) },
    Environment: { Variables: { QUARANTINE_BUCKET: buckets.quarantine, WATCHED_BUCKETS: buckets.staging } },
  }));

  const rule = await events.send(new PutRuleCommand({ Name: 'macie-sensitive-data', EventPattern: JSON.stringify(pattern) }));
  await events.send(new PutTargetsCommand({ Rule: 'macie-sensitive-data', Targets: [{ Id: 'quarantine', Arn: fn.FunctionArn! }] }));
  await lambda.send(new AddPermissionCommand({
    FunctionName: FUNCTION, StatementId: 'macie-findings', Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com', SourceArn: rule.RuleArn!,
  }));

  const clock = c.gateway.clock;
  /** Uploads card data and a clean file into staging, runs a one-time job over staging and lets the lab cloud settle, on a held clock. */
  const run = () => clock.exclusive(async () => {
    await s3.send(new PutObjectCommand({ Bucket: buckets.customers, Key: 'crm/cards.csv', Body: CARDS_CSV, ContentType: 'text/csv' }));
    await s3.send(new PutObjectCommand({ Bucket: buckets.staging, Key: 'exports/cards.csv', Body: CARDS_CSV, ContentType: 'text/csv' }));
    await s3.send(new PutObjectCommand({ Bucket: buckets.staging, Key: 'notes/newsletter.txt', Body: CLEAN, ContentType: 'text/plain' }));
    const uploadedAt = clock.nowMs();
    const { jobId } = await macie.send(new CreateClassificationJobCommand({
      clientToken: 'staging-scan', name: 'staging-scan', jobType: 'ONE_TIME', s3JobDefinition: { bucketDefinitions: [{ accountId: id, buckets: [buckets.staging] }] },
    }));
    // One flush of the lab cloud: the job runs (it is due), its findings go to EventBridge at once,
    // the rule's target is invoked asynchronously, and the flush waits for the invocation.
    await c.gateway.flush();
    await c.gateway.service('macie2').settle();
    await c.gateway.service('lambda').settle();
    return { jobId: jobId!, uploadedAt, settledAt: clock.nowMs() };
  });

  const gone = async (bucket: string, key: string) => {
    try {
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return false;
    } catch (e) {
      return (e as { name?: string }).name === 'NotFound';
    }
  };
  const tags = async (bucket: string, key: string) =>
    Object.fromEntries(((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }))).TagSet ?? []).map((t) => [t.Key, t.Value]));
  const body = async (bucket: string, key: string) => (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
  const invocations = () => c.gateway.service('lambda').invocations.filter((i) => i.account === id && i.functionName === FUNCTION);
  const deliveries = () => c.gateway.service('events').deliveries.filter((d) => d.account === id && d.rule === 'macie-sensitive-data');
  const roleCalls = () => c.gateway.service('cloudtrail').trail.all(id).filter((r) => r.userIdentity.arn === `arn:aws:sts::${id}:assumed-role/${ROLE}/${FUNCTION}`);
  const findingsOf = async (jobId: string) => {
    const ids = (await macie.send(new ListFindingsCommand({ findingCriteria: { criterion: { 'classificationDetails.jobId': { eq: [jobId] } } } }))).findingIds!;
    return ids.length ? (await macie.send(new GetFindingsCommand({ findingIds: ids }))).findings! : [];
  };
  return { c, id, region, s3, macie, buckets, fn, rule, run, gone, tags, body, invocations, deliveries, roleCalls, findingsOf };
}

describe.skipIf(!engineReady)('Macie quarantine pipeline: finding → EventBridge → Lambda', () => {
  it('quarantines the object with card data (tagged, moved, gone from staging), leaves the clean one, on the role\'s credentials', async () => {
    const p = await pipeline();
    const { jobId, uploadedAt, settledAt } = await p.run();
    expect((await p.macie.send(new DescribeClassificationJobCommand({ jobId }))).jobStatus).toBe('COMPLETE');

    // The finding.
    const findings = await p.findingsOf(jobId);
    expect(findings).toHaveLength(1);
    const finding = findings[0]!;
    expect(finding.type).toBe('SensitiveData:S3Object/Financial');
    expect(finding.resourcesAffected?.s3Bucket?.name).toBe(p.buckets.staging);
    expect(finding.resourcesAffected?.s3Object?.key).toBe('exports/cards.csv');

    // EventBridge delivered it to the function, once.
    expect(p.deliveries().map((d) => [d.target, (d.event.detail as { id: string }).id])).toEqual([[p.fn.FunctionArn, finding.id]]);
    expect(p.c.gateway.service('lambda').refusals.filter((r) => r.account === p.id)).toEqual([]);

    // The function got the event as EventBridge sends it: the envelope, with the finding as detail.
    const inv = p.invocations();
    expect(inv).toHaveLength(1);
    const event = inv[0]!.event as Record<string, unknown> & { detail: { id: string; resourcesAffected: { s3Bucket: { name: string }; s3Object: { key: string } } } };
    expect(Object.keys(event).sort()).toEqual(['account', 'detail', 'detail-type', 'id', 'region', 'resources', 'source', 'time', 'version']);
    expect(event).toMatchObject({ version: '0', source: 'aws.macie', 'detail-type': 'Macie Finding', account: p.id, region: p.region, resources: [] });
    expect(event['id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(event['time']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(event.detail.id).toBe(finding.id);
    expect(event.detail.resourcesAffected.s3Bucket.name).toBe(p.buckets.staging);
    expect(event.detail.resourcesAffected.s3Object.key).toBe('exports/cards.csv');
    expect(inv[0]!.result.functionError).toBeUndefined();
    expect(inv[0]!.result.payload).toEqual({
      quarantined: `s3://${p.buckets.quarantine}/${p.buckets.staging}/exports/cards.csv`, from: `s3://${p.buckets.staging}/exports/cards.csv`, eventId: event['id'], findingId: finding.id,
    });

    // Moved: in the quarantine bucket, tagged, with the finding in its metadata; gone from staging.
    const qKey = `${p.buckets.staging}/exports/cards.csv`;
    expect(await p.body(p.buckets.quarantine, qKey)).toBe(CARDS_CSV);
    expect(await p.tags(p.buckets.quarantine, qKey)).toEqual({ quarantine: 'true' });
    expect((await p.s3.send(new HeadObjectCommand({ Bucket: p.buckets.quarantine, Key: qKey }))).Metadata).toMatchObject({ 'macie-finding-id': finding.id, 'source-bucket': p.buckets.staging });
    expect(await p.gone(p.buckets.staging, 'exports/cards.csv')).toBe(true);
    // Untouched: the clean object in staging, and the customer-data bucket (not in the job).
    expect(await p.body(p.buckets.staging, 'notes/newsletter.txt')).toBe(CLEAN);
    expect(await p.tags(p.buckets.staging, 'notes/newsletter.txt')).toEqual({});
    expect(await p.body(p.buckets.customers, 'crm/cards.csv')).toBe(CARDS_CSV);
    expect(await p.tags(p.buckets.customers, 'crm/cards.csv')).toEqual({});
    expect((await p.s3.send(new ListObjectsV2Command({ Bucket: p.buckets.quarantine }))).KeyCount).toBe(1);

    // CloudTrail: the function's calls, made with its execution role's session.
    const calls = p.roleCalls();
    expect(calls.map((r) => [r.eventSource, r.eventName, r.requestParameters?.['bucketName'] ?? r.requestParameters?.['Bucket'], r.errorCode ?? 'ok'])).toEqual([
      ['s3.amazonaws.com', 'PutObjectTagging', p.buckets.staging, 'ok'],
      ['s3.amazonaws.com', 'GetObject', p.buckets.staging, 'ok'],
      ['s3.amazonaws.com', 'PutObject', p.buckets.quarantine, 'ok'],
      ['s3.amazonaws.com', 'DeleteObject', p.buckets.staging, 'ok'],
    ]);
    for (const r of calls) {
      expect(r.userIdentity.type).toBe('AssumedRole');
      expect(r.userIdentity.sessionContext?.sessionIssuer?.arn).toBe(`arn:aws:iam::${p.id}:role/${ROLE}`);
    }

    // Latency on the lab clock (held still: only what the pipeline itself takes counts).
    const quarantinedAt = inv[0]!.at;
    const deleteTime = Date.parse(calls.at(-1)!.eventTime);
    console.log(`[macie quarantine] lab-clock latency upload → quarantine: ${quarantinedAt - uploadedAt} ms (invocation recorded at +${quarantinedAt - uploadedAt} ms, DeleteObject eventTime ${calls.at(-1)!.eventTime}, settled at +${settledAt - uploadedAt} ms)`);
    expect(quarantinedAt).toBeGreaterThanOrEqual(uploadedAt);
    expect(deleteTime).toBeLessThanOrEqual(settledAt);
  });

  it('a rule whose pattern does not match (detail-type typo) delivers nothing: no invocation, the object stays', async () => {
    const p = await pipeline({ pattern: { ...SENSITIVE_DATA_PATTERN, 'detail-type': ['Macie Findings'] } });
    const { jobId } = await p.run();
    expect((await p.findingsOf(jobId)).map((f) => f.resourcesAffected?.s3Object?.key)).toEqual(['exports/cards.csv']);
    expect(p.deliveries()).toEqual([]);
    expect(p.invocations()).toEqual([]);
    expect(p.roleCalls()).toEqual([]);
    expect(await p.body(p.buckets.staging, 'exports/cards.csv')).toBe(CARDS_CSV);
    expect(await p.tags(p.buckets.staging, 'exports/cards.csv')).toEqual({});
    expect((await p.s3.send(new ListObjectsV2Command({ Bucket: p.buckets.quarantine }))).KeyCount).toBe(0);
  });

  it('a role without s3:PutObjectTagging: the invocation fails (recorded), the object is untouched', async () => {
    const p = await pipeline({ allowTagging: false });
    const { jobId } = await p.run();
    const [finding] = await p.findingsOf(jobId);
    expect(finding?.resourcesAffected?.s3Object?.key).toBe('exports/cards.csv');
    expect(p.deliveries()).toHaveLength(1);
    const inv = p.invocations();
    expect(inv).toHaveLength(1);
    expect(inv[0]!.result.functionError).toBe('Unhandled');
    expect(inv[0]!.result.payload).toMatchObject({ errorType: 'AccessDenied' });
    expect(inv[0]!.result.logs.some((l) => l.includes('quarantining s3://'))).toBe(true);
    expect(p.roleCalls().map((r) => [r.eventName, r.errorCode])).toEqual([['PutObjectTagging', 'AccessDenied']]);
    expect(await p.body(p.buckets.staging, 'exports/cards.csv')).toBe(CARDS_CSV);
    expect(await p.tags(p.buckets.staging, 'exports/cards.csv')).toEqual({});
    expect((await p.s3.send(new ListObjectsV2Command({ Bucket: p.buckets.quarantine }))).KeyCount).toBe(0);
  });
});
