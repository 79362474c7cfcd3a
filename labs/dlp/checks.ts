// Posture and business checks of lab dlp (GRADING.md, "Points"). Everything is judged from what the lab
// cloud does: Macie's configuration and findings read through the Macie API as root (after the grader
// has made the due jobs run), the custom data identifiers run by the DLP engine on held-out samples, and
// real calls through the gateway as the company's people and workloads (labs/dlp/actors.ts). What a
// probe writes goes under seclab-check/ and is deleted at once; a probe that changed access is undone
// at once, as root.
import {
  S3Client, GetObjectCommand, PutObjectCommand, DeleteObjectCommand, CopyObjectCommand, ListObjectsV2Command, HeadObjectCommand,
  CreateBucketCommand, PutBucketPolicyCommand, GetBucketPolicyCommand, DeleteBucketPolicyCommand, PutObjectAclCommand,
  GetPublicAccessBlockCommand, PutPublicAccessBlockCommand, DeletePublicAccessBlockCommand, GetBucketOwnershipControlsCommand, PutObjectTaggingCommand,
  type PublicAccessBlockConfiguration,
} from '@aws-sdk/client-s3';
import {
  S3ControlClient, GetPublicAccessBlockCommand as GetAccountPabCommand, PutPublicAccessBlockCommand as PutAccountPabCommand,
  DeletePublicAccessBlockCommand as DeleteAccountPabCommand,
} from '@aws-sdk/client-s3-control';
import { EventBridgeClient, ListRulesCommand, ListTargetsByRuleCommand, TestEventPatternCommand, type Rule } from '@aws-sdk/client-eventbridge';
import { LambdaClient, GetPolicyCommand, GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { GetMacieSessionCommand } from '@aws-sdk/client-macie2';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Check, CheckOutcome } from '../../src/engine/types.ts';
import type { LabSession } from '../../src/engine/session.ts';
import { scanObject, scanText, type AllowList } from '../../src/controls/dlp/index.ts';
import { evaluate } from '../../src/cloud/policy/evaluate.ts';
import { parsePolicyText } from '../../src/cloud/services/iam/policy-store.ts';
import { cardNumber, ssn, type BucketRole } from './company.ts';
import { companyActors, clientAs, opaqueBucketName, roleSession } from './actors.ts';
import {
  CHECK_PREFIX, JOB_BUCKETS, MAX_CUSTOM_IDENTIFIERS, REFUSAL, allowLists, customIdentifierIds, customIdentifiers, env, fail, findingBucket, findingKey, findings, gradedJob, hidden,
  identifierSamples, isSensitive, jobBuckets, macieClient, macieUnavailable, outcome, pass, qaNotAnalysed, settleMacie, type Job,
} from './check-helpers.ts';

const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const s3root = (s: LabSession) => s.client(S3Client);
const customerCsv = (s: LabSession) => env(s).objects.customerData.find((k) => k.endsWith('.csv'))!;
const partnerExport = (s: LabSession) => env(s).objects.analyticsExports.find((k) => k.startsWith(env(s).partner.allowedPrefix))!;
const quiet = (p: Promise<unknown>) => p.then(() => undefined, () => undefined);
/** Managed identifiers the job must keep, and the category each finding must show. */
const KEPT = ['CREDIT_CARD_NUMBER', 'USA_SOCIAL_SECURITY_NUMBER', 'EMAIL_ADDRESS', 'PHONE_NUMBER'];
const CATEGORY: Record<string, string> = { CREDIT_CARD_NUMBER: 'FINANCIAL_INFORMATION', USA_SOCIAL_SECURITY_NUMBER: 'PERSONAL_INFORMATION' };
const ALL_FOUR = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const;
/** Macie's limit on an allow list's words file. */
const WORDS_FILE_MAX = 35 * 1024 * 1024;
const offOf = (c: PublicAccessBlockConfiguration | undefined) => ALL_FOUR.filter((k) => c?.[k] !== true);

/** A probe's verdict: refused, or what it got. */
async function refusedOr(call: Promise<unknown>): Promise<{ refused: boolean; code?: string }> {
  const code = await outcome(call);
  return { refused: code !== undefined && REFUSAL.test(code), ...(code ? { code } : {}) };
}

// ---- Macie: the graded job and its findings ----

function jobProblems(s: LabSession, j: Job, customIds: Set<string>, allowIds: Set<string>): string[] {
  const e = env(s);
  const names = jobBuckets(s, j);
  const missing = JOB_BUCKETS.filter((r) => !names.has(e.buckets[r])).map((r) => e.buckets[r]);
  const sel = j.managedDataIdentifierSelector ?? 'RECOMMENDED';
  const ids = new Set(j.managedDataIdentifierIds ?? []);
  const dropped = sel === 'NONE' ? KEPT : sel === 'INCLUDE' ? KEPT.filter((k) => !ids.has(k)) : sel === 'EXCLUDE' ? KEPT.filter((k) => ids.has(k)) : [];
  const customs = (j.customDataIdentifierIds ?? []).filter((id) => customIds.has(id));
  const lists = (j.allowListIds ?? []).filter((id) => allowIds.has(id));
  return [
    j.jobType !== 'SCHEDULED' ? `it is ${j.jobType}: make it SCHEDULED so that what lands later is found` : '',
    j.jobType === 'SCHEDULED' && !j.scheduleFrequency?.dailySchedule ? 'its schedule is not daily (scheduleFrequency { dailySchedule: {} }): drops must be found within the deadline' : '',
    j.jobType === 'SCHEDULED' && !j.initialRun ? 'it has no initial run (initialRun true): what is already there is never analysed' : '',
    !['RUNNING', 'IDLE'].includes(j.jobStatus ?? '') ? `it is ${j.jobStatus}` : '',
    missing.length ? `it does not cover ${missing.join(', ')}` : '',
    names.has(e.buckets.quarantine) ? `it covers the quarantine bucket (${e.buckets.quarantine}): what was quarantined would be found and moved again` : '',
    customs.length < 2 ? `it uses ${customs.length} custom data identifier(s) of the account: both of yours (customer ids and card references) belong in customDataIdentifierIds` : '',
    !lists.length ? 'it uses no allow list (allowListIds): the QA fixtures would be reported' : '',
    dropped.length ? `its managed identifiers (${sel}) leave out ${dropped.join(', ')}: use RECOMMENDED or ALL` : '',
    j.samplingPercentage !== undefined && j.samplingPercentage < 100 ? `it samples ${j.samplingPercentage}% of the objects: a drop may be skipped — samplingPercentage 100` : '',
    JSON.stringify(j.s3JobDefinition?.scoping ?? {}).includes('OBJECT_EXTENSION') ? 'it scopes objects by file extension: renamed files (meeting-notes.txt holding card data) slip through — drop that scoping' : '',
  ].filter(Boolean);
}

/** The graded job's sensitive-data findings, after the due jobs ran. */
async function jobFindings(s: LabSession) {
  const off = await macieUnavailable(s);
  if (off) return { error: off, findings: [] };
  await settleMacie(s);
  const { job } = await gradedJob(s);
  if (!job) return { error: 'there is no classification job: CreateClassificationJob (SCHEDULED, daily, initialRun true) over the company\'s buckets', findings: [] };
  const all = (await findings(s)).filter((f) => isSensitive(f) && f.classificationDetails?.jobId === job.jobId);
  return { job, findings: all };
}

/** Why Macie could not analyse an object, when its last result says so (a bucket policy that denies Macie's role...). */
function skipReason(s: LabSession, jobId: string, bucket: string, key: string): string | undefined {
  const r = [...s.gateway.service('macie2').results].reverse().find((x) => x.account === s.accountId && x.jobId === jobId
    && (x.result.resourcesAffected as { s3Object?: { path?: string } }).s3Object?.path === `${bucket}/${key}`);
  const status = (r?.result.classificationDetails as { result?: { status?: { code?: string; reason?: string } } } | undefined)?.result?.status;
  return status && status.code !== 'COMPLETE' ? `${status.code}${status.reason ? ` ${status.reason}` : ''}` : undefined;
}

// ---- the custom data identifiers, judged by the engine on held-out samples ----

async function judgeIdentifiers(s: LabSession): Promise<CheckOutcome> {
  const off = await macieUnavailable(s);
  if (off) return fail(off);
  // The student's regexes run in the grader's process (RE2, budgeted): a bounded number of them.
  const ids = await customIdentifierIds(s, MAX_CUSTOM_IDENTIFIERS);
  if (ids.length > MAX_CUSTOM_IDENTIFIERS) return fail(`the account has more than ${MAX_CUSTOM_IDENTIFIERS} custom data identifiers (a job takes at most 30): delete the ones you do not use`);
  const customs = await customIdentifiers(s, ids);
  if (!customs.length) return fail('the account has no custom data identifier: CreateCustomDataIdentifier for customer ids (CP-CUST-########) and card references (cref_ + 24 of a-z2-7)');
  const { real, decoys } = identifierSamples(s.random.fork('dlp-identifier-samples'));
  // The engine runs the student's regexes with RE2 (linear time, program size budgeted): nothing of
  // theirs runs in a backtracking engine in the grader's process.
  const opts = { managed: { selection: 'NONE' as const }, custom: customs, includeValues: true, maxOccurrences: 10_000 };
  const found = async (files: Record<string, string>) => {
    const out: Record<string, string[]> = {};
    for (const [name, text] of Object.entries(files)) {
      const r = await scanObject(name, new TextEncoder().encode(text), opts);
      out[name] = r.detections.filter((d) => d.custom).flatMap((d) => d.values ?? []);
    }
    return out;
  };
  let hits: Record<string, string[]>, falseHits: Record<string, string[]>;
  try {
    hits = await found(real.files);
    falseHits = await found(decoys.files);
  } catch (err) {
    return fail(`a custom data identifier cannot be evaluated: ${(err as Error).message}`);
  }
  const problems: string[] = [];
  for (const [name, values] of Object.entries(hits)) {
    const text = real.files[name]!;
    const kind = name.endsWith('.csv') ? 'a CSV export (columns customer_id, card_ref)' : name.endsWith('.log') ? 'a log line (customer=… card_ref=…)' : 'JSON (fields customer_id, card_ref)';
    const missedIds = real.customerIds.filter((v) => text.includes(v) && !values.includes(v));
    const missedRefs = real.cardRefs.filter((v) => text.includes(v) && !values.includes(v));
    if (missedIds.length) problems.push(`customer ids in ${kind} are not found (e.g. ${missedIds[0]})`);
    if (missedRefs.length) problems.push(`card references in ${kind} are not found (e.g. ${missedRefs[0]})`);
  }
  const wrong = [...new Set(Object.values(falseHits).flat())];
  if (wrong.length) problems.push(`near misses are reported: ${wrong.slice(0, 3).join(', ')}${wrong.length > 3 ? ', …' : ''} (the formats are exactly CP-CUST- and 8 digits, cref_ and 24 of a-z and 2-7; regexes are case-sensitive)`);
  return problems.length
    ? fail(`${customs.length} custom data identifier(s) (${customs.map((c) => c.name).join(', ')}), run on held-out samples: ${problems.join('; ')}. Check the regex, the keywords and maximumMatchDistance with TestCustomDataIdentifier`)
    : pass(`${customs.map((c) => c.name).join(', ')}: every customer id and card reference found in CSV, log and JSON samples, none of ${decoys.customerIds.length + decoys.cardRefs.length} near misses`);
}

// ---- allow lists: they must not hide real data ----

async function allowListHidesRealData(s: LabSession, lists: AllowList[]): Promise<string | undefined> {
  const rng = s.random.fork('dlp-allow-list-samples');
  const lines = Array.from({ length: 6 }, () => `customer wrote: my card_number is ${cardNumber(rng)} and my ssn is ${ssn(rng)}`).join('\n');
  const count = (d: ReturnType<typeof scanText>) => d.reduce((n, x) => n + x.count, 0);
  try {
    const without = count(scanText(lines, { managed: { selection: 'RECOMMENDED' } }));
    const withLists = count(scanText(lines, { managed: { selection: 'RECOMMENDED' }, allowLists: lists }));
    return withLists < without ? `your allow list also hides real customers' card numbers or SSNs (${without - withLists} of ${without} in held-out samples): make it match only the published test numbers, example.com, SSN area 000 and 555-01xx` : undefined;
  } catch (err) {
    return `the allow list cannot be evaluated: ${(err as Error).message}`;
  }
}

// ---- the quarantine responder ----

interface Chain { rule: string; problems: string[] }

async function judgeResponder(s: LabSession): Promise<CheckOutcome> {
  const e = env(s);
  await settleMacie(s);
  // A real sensitive-data finding Macie produced here, as Macie put it on the bus (the raw finding).
  const raw = s.gateway.service('macie2').findings(s.accountId).filter((f) => f.category === 'CLASSIFICATION' && String(f.type).startsWith('SensitiveData:'));
  const bucketOf = (f: (typeof raw)[number]) => (f.resourcesAffected as { s3Bucket?: { name?: string } }).s3Bucket?.name;
  // A card or personal data finding where such data must not be; failing one there (the job may not
  // have reached staging or the logs), a real one from elsewhere, moved to staging: the responder's
  // rule is judged on the findings it must act on, not on ones it rightly ignores (the partner's
  // card references, customer data where it belongs).
  const watched = [e.buckets.supportLogs, e.buckets.staging];
  const raw2 = raw.filter((f) => !String(f.type).endsWith('/CustomIdentifier'));
  const found = raw2.find((f) => watched.includes(bucketOf(f) ?? '')) ?? raw2[0] ?? raw[0];
  const finding = found && !watched.includes(bucketOf(found) ?? '') ? inStaging(found, e.buckets.staging) : found;
  if (!finding) return fail('Macie has produced no sensitive data finding in this account to test your rule with: enable Macie and run the classification job (macie and job tasks) first');
  const event = {
    version: '0', id: `${finding.id.slice(0, 8)}-${finding.id.slice(8, 12)}-${finding.id.slice(12, 16)}-${finding.id.slice(16, 20)}-${finding.id.slice(20, 32)}`,
    'detail-type': 'Macie Finding', source: 'aws.macie', account: s.accountId, time: new Date(s.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: e.region, resources: [], detail: finding,
  };
  const events = s.client(EventBridgeClient);
  const lambda = s.client(LambdaClient);
  const rules: Rule[] = [];
  let nextToken: string | undefined;
  do {
    const r = await events.send(new ListRulesCommand({ EventBusName: 'default', NextToken: nextToken }));
    rules.push(...(r.Rules ?? []));
    nextToken = r.NextToken;
  } while (nextToken);
  const matching: Rule[] = [];
  for (const r of rules) {
    if (r.State !== 'ENABLED' || !r.EventPattern) continue;
    const t = await events.send(new TestEventPatternCommand({ EventPattern: r.EventPattern, Event: JSON.stringify(event) })).catch(() => undefined);
    if (t?.Result) matching.push(r);
  }
  const where = `${bucketOf(finding)}/${(finding.resourcesAffected as { s3Object?: { key?: string } }).s3Object?.key}`;
  if (!matching.length) return fail(`no enabled EventBridge rule on the default bus matches Macie's finding event (${finding.type} for ${where}; source aws.macie, detail-type "Macie Finding"): ${rules.length ? `your ${rules.length} rule(s) do not match it — test the pattern with TestEventPattern` : 'PutRule with a pattern on aws.macie findings'}`);
  const chains: Chain[] = [];
  for (const r of matching) {
    const targets = (await events.send(new ListTargetsByRuleCommand({ Rule: r.Name!, EventBusName: 'default' }))).Targets ?? [];
    const fns = targets.map((t) => t.Arn ?? '').filter((a) => /^arn:aws:lambda:[^:]+:\d{12}:function:/.test(a));
    if (!fns.length) {
      chains.push({ rule: r.Name!, problems: ['it targets no Lambda function (PutTargets with your function\'s ARN)'] });
      continue;
    }
    for (const fnArn of fns) {
      const name = fnArn.split(':')[6]!;
      const problems: string[] = [];
      const cfg = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fnArn })).catch(() => undefined);
      if (!cfg) {
        chains.push({ rule: r.Name!, problems: [`its target ${name} does not exist`] });
        continue;
      }
      const text = await lambda.send(new GetPolicyCommand({ FunctionName: fnArn })).then((p) => p.Policy, () => undefined);
      const invoke = text ? evaluate(
        { action: 'lambda:InvokeFunction', resource: cfg.FunctionArn!, principal: { arn: 'events.amazonaws.com', account: s.accountId, type: 'AWSService' }, context: { 'aws:SourceArn': r.Arn!, 'aws:SourceAccount': s.accountId } },
        { identity: [], resource: { source: `resource policy of ${name}`, document: parsePolicyText(text), account: s.accountId } },
      ).decision : 'ImplicitDeny';
      if (invoke !== 'Allow') problems.push(`${name}'s resource policy does not let events.amazonaws.com invoke it from ${r.Name} (lambda AddPermission with SourceArn ${r.Arn})`);
      // The function's role can quarantine: move (a real PutObject into the quarantine bucket) or tag in
      // place (a real PutObjectTagging on an object in staging), with a session of that role as Lambda
      // would hand it. Either way of taking data out of circulation is fine (the attacks judge the result).
      const creds = roleSession(s, s.accountId, cfg.Role!, name);
      const asRole = s.client(S3Client, { credentials: creds });
      const key = `${CHECK_PREFIX}responder-probe-${name}.txt`;
      const put = await outcome(asRole.send(new PutObjectCommand({ Bucket: e.buckets.quarantine, Key: key, Body: 'grader probe: may the responder write here?' })));
      if (put === undefined) await quiet(s3root(s).send(new DeleteObjectCommand({ Bucket: e.buckets.quarantine, Key: key })));
      let tag: string | undefined = 'not tried';
      if (put !== undefined) {
        await s3root(s).send(new PutObjectCommand({ Bucket: e.buckets.staging, Key: key, Body: 'grader probe: may the responder tag this?' }));
        tag = await outcome(asRole.send(new PutObjectTaggingCommand({ Bucket: e.buckets.staging, Key: key, Tagging: { TagSet: [{ Key: 'seclab-probe', Value: 'quarantine' }] } })));
        await quiet(s3root(s).send(new DeleteObjectCommand({ Bucket: e.buckets.staging, Key: key })));
      }
      if (put !== undefined && tag !== undefined) problems.push(`${name}'s role (${cfg.Role}) can neither move objects into ${e.buckets.quarantine} (s3:PutObject: ${put}) nor tag them in staging (s3:PutObjectTagging: ${tag})`);
      chains.push({ rule: r.Name!, problems });
    }
  }
  const ok = chains.find((c) => !c.problems.length);
  if (!ok) return fail(`rule(s) ${matching.map((r) => r.Name).join(', ')} match Macie's finding event, but: ${chains.map((c) => `${c.rule}: ${c.problems.join('; ')}`).join(' — ')}`);
  // It must leave what belongs where it is: customer data and the partner's exports.
  const s3 = s3root(s);
  const gone: string[] = [];
  for (const [role, keys] of [['customerData', e.objects.customerData], ['analyticsExports', e.objects.analyticsExports.filter((k) => k.startsWith(e.partner.allowedPrefix))]] as [BucketRole, string[]][]) {
    for (const k of keys) if (/^(NotFound|NoSuchKey)$/.test((await outcome(s3.send(new HeadObjectCommand({ Bucket: e.buckets[role], Key: k })))) ?? '')) gone.push(`${e.buckets[role]}/${k}`);
  }
  if (gone.length) return fail(`the responder is wired (${ok.rule}), but ${gone.slice(0, 2).join(', ')}${gone.length > 2 ? ', …' : ''} is gone: act only on findings in staging and support-logs (customer data belongs where it is; the partner reads its exports)`);
  return pass(`${ok.rule} matches Macie's finding event and invokes its function, which may quarantine (move or tag); customer data and the partner's exports are where they belong`);
}

// ---- the analysts' perimeter ----

/** A bucket of a fresh outside account that accepts PutObject from the company account (the grader's own). */
const probeBuckets = new WeakMap<LabSession, Promise<string>>();
function probeBucket(s: LabSession): Promise<string> {
  let p = probeBuckets.get(s);
  if (!p) {
    p = (async () => {
      const acct = s.cloud.createAccount();
      // A name of no pattern the student could deny instead of building the perimeter (the grader's source is public).
      const bucket = opaqueBucketName(s, 'dlp-probe-bucket', acct.accountId);
      const os3 = s.client(S3Client, { credentials: { accessKeyId: acct.accessKeyId, secretAccessKey: acct.secretAccessKey } });
      await os3.send(new CreateBucketCommand({ Bucket: bucket }));
      await os3.send(new PutBucketPolicyCommand({
        Bucket: bucket,
        Policy: doc([{ Sid: 'TakeDrops', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${s.accountId}:root` }, Action: ['s3:PutObject', 's3:PutObjectAcl'], Resource: `arn:aws:s3:::${bucket}/*` }]),
      }));
      return bucket;
    })();
    probeBuckets.set(s, p);
  }
  return p;
}

async function judgeInsider(s: LabSession): Promise<CheckOutcome> {
  const e = env(s);
  const analyst = companyActors(s).analyst();
  const as3 = clientAs(s, S3Client, analyst);
  const acontrol = clientAs(s, S3ControlClient, analyst);
  const root = s3root(s);
  const rootControl = s.client(S3ControlClient);
  const probe = await probeBucket(s);
  const got: string[] = [];
  const note = (what: string, r: { refused: boolean; code?: string }) => { if (!r.refused) got.push(`${what} (${r.code ?? 'succeeded'})`); };

  // Writes into another account's bucket.
  const put = await refusedOr(as3.send(new PutObjectCommand({ Bucket: probe, Key: `${CHECK_PREFIX}exfil.csv`, Body: 'customer_id,card_number\n' })));
  note('PutObject into another account\'s bucket', put);
  const copy = await refusedOr(as3.send(new CopyObjectCommand({ Bucket: probe, Key: `${CHECK_PREFIX}copy.csv`, CopySource: `${e.buckets.customerData}/${customerCsv(s)}` })));
  note('CopyObject of customer data into another account\'s bucket', copy);

  // A public bucket policy on staging (restored at once).
  const staging = e.buckets.staging;
  const before = await root.send(new GetBucketPolicyCommand({ Bucket: staging })).then((r) => r.Policy, () => undefined);
  const pol = await refusedOr(as3.send(new PutBucketPolicyCommand({ Bucket: staging, Policy: doc([{ Sid: 'SeclabCheckPublic', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${staging}/${CHECK_PREFIX}*` }]) })));
  if (!pol.code) await (before ? root.send(new PutBucketPolicyCommand({ Bucket: staging, Policy: before })) : root.send(new DeleteBucketPolicyCommand({ Bucket: staging })));
  note('PutBucketPolicy (public) on staging', pol);

  // A public-read ACL on an object of the legacy bucket (the grader's own object, deleted after).
  const aclKey = `${CHECK_PREFIX}acl-probe.log`;
  await root.send(new PutObjectCommand({ Bucket: e.legacyAclBucket, Key: aclKey, Body: 'grader probe\n' }));
  const acl = await refusedOr(as3.send(new PutObjectAclCommand({ Bucket: e.legacyAclBucket, Key: aclKey, ACL: 'public-read' })));
  await quiet(root.send(new DeleteObjectCommand({ Bucket: e.legacyAclBucket, Key: aclKey })));
  note('PutObjectAcl public-read', acl);

  // Bucket Block Public Access off (restored at once).
  const pabBefore = await root.send(new GetPublicAccessBlockCommand({ Bucket: staging })).then((r) => r.PublicAccessBlockConfiguration, () => undefined);
  const restorePab = () => (pabBefore ? root.send(new PutPublicAccessBlockCommand({ Bucket: staging, PublicAccessBlockConfiguration: pabBefore })) : root.send(new DeletePublicAccessBlockCommand({ Bucket: staging })));
  const offAll = { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false };
  const pabPut = await refusedOr(as3.send(new PutPublicAccessBlockCommand({ Bucket: staging, PublicAccessBlockConfiguration: offAll })));
  if (!pabPut.code) await restorePab();
  note('PutPublicAccessBlock (all off) on staging', pabPut);
  const pabDel = await refusedOr(as3.send(new DeletePublicAccessBlockCommand({ Bucket: staging })));
  if (!pabDel.code) await restorePab();
  note('DeletePublicAccessBlock on staging', pabDel);

  // Account Block Public Access off (restored at once).
  const accBefore = await rootControl.send(new GetAccountPabCommand({ AccountId: s.accountId })).then((r) => r.PublicAccessBlockConfiguration, () => undefined);
  const restoreAcc = () => (accBefore ? rootControl.send(new PutAccountPabCommand({ AccountId: s.accountId, PublicAccessBlockConfiguration: accBefore })) : rootControl.send(new DeleteAccountPabCommand({ AccountId: s.accountId })));
  const accPut = await refusedOr(acontrol.send(new PutAccountPabCommand({ AccountId: s.accountId, PublicAccessBlockConfiguration: offAll })));
  if (!accPut.code) await restoreAcc();
  note('S3 Control PutPublicAccessBlock (all off) for the account', accPut);
  const accDel = await refusedOr(acontrol.send(new DeleteAccountPabCommand({ AccountId: s.accountId })));
  if (!accDel.code) await restoreAcc();
  note('S3 Control DeletePublicAccessBlock for the account', accDel);

  return got.length
    ? fail(`${analyst.name} may still: ${got.join('; ')}. Deny writes where aws:ResourceAccount is not ${s.accountId}, and the calls that change public access, in the analysts' role`)
    : pass('the analysts can write into no other account\'s bucket and cannot make data public (bucket policy, ACL, bucket and account Block Public Access)');
}

// ---- the checks ----

export const checks: Check[] = [
  // ---- task macie ----
  {
    id: 'macie-enabled', title: 'Macie is enabled, publishing finding updates every 15 minutes', kind: 'posture', points: 3, task: 'macie',
    async run(s) {
      const r = await macieClient(s).send(new GetMacieSessionCommand({})).catch((err: Error) => err);
      if (r instanceof Error) return fail(`Macie is not enabled (${r.name}): EnableMacie with findingPublishingFrequency FIFTEEN_MINUTES`);
      if (r.status !== 'ENABLED') return fail(`Macie is ${r.status}: UpdateMacieSession status ENABLED`);
      if (r.findingPublishingFrequency !== 'FIFTEEN_MINUTES') return fail(`findings are published every ${r.findingPublishingFrequency}: FIFTEEN_MINUTES (UpdateMacieSession) so that updates reach the responder in time`);
      return pass('Macie ENABLED, findings published every 15 minutes');
    },
  },
  {
    id: 'custom-identifiers', title: 'Custom data identifiers find the company\'s customer ids and card references, and nothing that only looks like them', kind: 'posture', points: 6, task: 'macie',
    run: judgeIdentifiers,
  },
  {
    id: 'allow-list', title: 'The job uses an allow list, and reports nothing in the QA fixtures', kind: 'posture', points: 3, task: 'macie',
    async run(s) {
      const e = env(s);
      const r = await jobFindings(s);
      if (!r.job) return fail(r.error ?? 'there is no classification job');
      const lists = await allowLists(s);
      const used = (r.job.allowListIds ?? []).filter((id) => lists.has(id));
      if (!used.length) return fail(`the job ${r.job.name} uses no allow list: CreateAllowList (a regex for the QA data, or an S3 words list) and name it in allowListIds`);
      if (!jobBuckets(s, r.job).has(e.buckets.qaFixtures)) return fail(`the job ${r.job.name} does not analyse ${e.buckets.qaFixtures}: include it — the allow list is what keeps its test data out of the findings`);
      const qa = r.findings.filter((f) => findingBucket(f) === e.buckets.qaFixtures);
      if (qa.length) return fail(`the job reported ${qa.length} finding(s) in ${e.buckets.qaFixtures} (${[...new Set(qa.map(findingKey))].join(', ')}): your allow list must cover the published test cards, example.com, SSN area 000 and 555-01xx`);
      const unseen = qaNotAnalysed(s, r.job.jobId!);
      if (unseen.length) return fail(`Macie did not analyse the QA data as it was provided (${unseen.slice(0, 2).join(', ')}${unseen.length > 2 ? ', …' : ''}): leave qa-fixtures as it is and readable by Macie — the allow list, not hiding the data, is what keeps it out of the findings`);
      // What each list allows, as Macie reads it: the regex, or the words of the S3 object (as root).
      const judged: AllowList[] = [];
      for (const id of used) {
        const c = lists.get(id)!.criteria;
        if (c?.regex) judged.push({ id, criteria: { regex: c.regex } });
        else if (c?.s3WordsList?.bucketName && c.s3WordsList.objectKey) {
          const where = { Bucket: c.s3WordsList.bucketName, Key: c.s3WordsList.objectKey };
          // Sized first: the words file is the student's, of any size; Macie takes at most 35 MB.
          // (The size from a one-byte range: the lab cloud's HeadObject answers Content-Length 0.)
          const size = await s3root(s).send(new GetObjectCommand({ ...where, Range: 'bytes=0-0' })).then(async (o) => {
            await o.Body?.transformToByteArray();
            return Number(/\/(\d+)$/.exec(o.ContentRange ?? '')?.[1] ?? 0);
          }, () => 0);
          if (size > WORDS_FILE_MAX) return fail(`Macie cannot use the allow list ${lists.get(id)!.name ?? id}: its words file s3://${where.Bucket}/${where.Key} is larger than 35 MB (S3_OBJECT_OVERSIZE) — keep it to the QA data's values`);
          const text = await s3root(s).send(new GetObjectCommand({ ...where, Range: `bytes=0-${WORDS_FILE_MAX - 1}` })).then((o) => o.Body?.transformToString(), () => undefined);
          const words = (text ?? '').split(/\r?\n/).map((w) => w.trim()).filter(Boolean).slice(0, 100_000);
          if (words.length) judged.push({ id, criteria: { words } });
        }
      }
      const hides = judged.length ? await allowListHidesRealData(s, judged) : undefined;
      if (hides) return fail(hides);
      return pass(`${used.map((id) => lists.get(id)!.name ?? id).join(', ')} in use; no finding in ${e.buckets.qaFixtures}`);
    },
  },

  // ---- task job ----
  {
    id: 'classification-job', title: 'A scheduled daily classification job over every company bucket but quarantine, with the custom identifiers and an allow list', kind: 'posture', points: 4, task: 'job',
    async run(s) {
      const off = await macieUnavailable(s);
      if (off) return fail(off);
      const { job } = await gradedJob(s);
      if (!job) return fail('there is no classification job: CreateClassificationJob with jobType SCHEDULED, a daily schedule and initialRun true');
      const customIds = new Set(await customIdentifierIds(s));
      const problems = jobProblems(s, job, customIds, new Set((await allowLists(s)).keys()));
      return problems.length ? fail(`job ${job.name}: ${problems.join('; ')}`) : pass(`job ${job.name}: SCHEDULED daily with an initial run over ${jobBuckets(s, job).size} buckets, ${job.customDataIdentifierIds!.length} custom identifiers, an allow list, managed ${job.managedDataIdentifierSelector}`);
    },
  },
  {
    id: 'findings-accurate', title: 'The job\'s findings are accurate: every seeded object with card data or SSNs found, nothing in QA data or the de-identified exports', kind: 'posture', points: 6, task: 'job',
    async run(s) {
      const e = env(s);
      const h = hidden(s);
      const r = await jobFindings(s);
      if (!r.job) return fail(r.error ?? 'there is no classification job');
      const missed: string[] = [];
      const wrongCategory: string[] = [];
      const falsePositives: string[] = [];
      for (const role of ['customerData', 'supportLogs', 'analyticsExports', 'qaFixtures'] as BucketRole[]) {
        const bucket = e.buckets[role];
        for (const [key, holds] of Object.entries(h.holds[role])) {
          const on = r.findings.filter((f) => findingBucket(f) === bucket && findingKey(f) === key);
          const managed: string[] = on.flatMap((f) => (f.classificationDetails?.result?.sensitiveData ?? []).map((d) => String(d.category ?? '')));
          if (holds.includes('TEST_DATA') || key.startsWith(e.partner.allowedPrefix)) {
            // QA data: nothing at all; de-identified exports: card references (a custom identifier) only.
            if (holds.includes('TEST_DATA') ? on.length : managed.length) falsePositives.push(`${bucket}/${key} (${[...new Set(on.map((f) => f.type))].join(', ')})`);
            continue;
          }
          const want = [...new Set(holds.filter((x) => CATEGORY[x]).map((x) => CATEGORY[x]!))];
          if (!want.length) continue;
          if (!on.length) {
            const why = skipReason(s, r.job.jobId!, bucket, key);
            missed.push(`${bucket}/${key}${why ? ` (Macie could not analyse it: ${why}${/PERMISSION/.test(why) ? ' — a bucket policy denies Macie\'s service-linked role' : ''})` : ''}`);
          } else {
            const lacking = want.filter((c) => !managed.includes(c));
            if (lacking.length) wrongCategory.push(`${bucket}/${key} has no ${lacking.join(', ')} finding`);
          }
        }
      }
      const unseen = qaNotAnalysed(s, r.job.jobId!);
      const problems = [
        unseen.length ? `Macie did not analyse the QA data as it was provided (${unseen.slice(0, 2).join(', ')}${unseen.length > 2 ? ', …' : ''}): leave qa-fixtures as it is and readable by Macie` : '',
        missed.length ? `no finding for ${missed.slice(0, 3).join(', ')}${missed.length > 3 ? `, and ${missed.length - 3} more` : ''}` : '',
        wrongCategory.length ? wrongCategory.slice(0, 3).join(', ') : '',
        falsePositives.length ? `false positives on ${falsePositives.slice(0, 3).join(', ')} (QA data must be allow-listed; the de-identified exports hold nothing but card references)` : '',
      ].filter(Boolean);
      return problems.length ? fail(`job ${r.job.name}: ${problems.join('; ')}`) : pass(`job ${r.job.name}: ${r.findings.length} sensitive data findings; every seeded object with card numbers or SSNs found with the right category, nothing in the QA fixtures or the de-identified exports`);
    },
  },

  // ---- task public ----
  {
    id: 'account-public-access', title: 'Account-level Block Public Access, all four settings', kind: 'posture', points: 4, task: 'public',
    async run(s) {
      const c = await s.client(S3ControlClient).send(new GetAccountPabCommand({ AccountId: s.accountId })).then((r) => r.PublicAccessBlockConfiguration, () => undefined);
      if (!c) return fail('the account has no Block Public Access: S3 Control PutPublicAccessBlock with AccountId and all four settings true');
      const off = offOf(c);
      return off.length ? fail(`account Block Public Access leaves ${off.join(', ')} off: turn all four on`) : pass('the account blocks public ACLs and policies (all four settings)');
    },
  },
  {
    id: 'legacy-bucket', title: 'The legacy support-logs bucket: ACLs disabled and Block Public Access on', kind: 'posture', points: 3, task: 'public',
    async run(s) {
      const b = env(s).legacyAclBucket;
      const s3 = s3root(s);
      const own = await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: b })).then((r) => r.OwnershipControls?.Rules?.[0]?.ObjectOwnership, () => undefined);
      const pab = await s3.send(new GetPublicAccessBlockCommand({ Bucket: b })).then((r) => r.PublicAccessBlockConfiguration, () => undefined);
      const problems = [
        own !== 'BucketOwnerEnforced' ? `Object Ownership is ${own ?? 'not set'}: PutBucketOwnershipControls BucketOwnerEnforced turns ACLs off` : '',
        !pab ? 'it has no bucket Block Public Access: PutPublicAccessBlock with all four settings' : offOf(pab).length ? `its Block Public Access leaves ${offOf(pab).join(', ')} off` : '',
      ].filter(Boolean);
      return problems.length ? fail(`${b}: ${problems.join('; ')}`) : pass(`${b}: BucketOwnerEnforced (ACLs off), Block Public Access on`);
    },
  },

  // ---- task perimeter, partner, network ----
  {
    id: 'insider-perimeter', title: 'An analyst can neither write into another account\'s bucket nor make data public', kind: 'posture', points: 5, task: 'perimeter', restrictive: true,
    run: judgeInsider,
  },
  {
    id: 'partner-scope', title: 'The partner reads and lists nothing outside deidentified/', kind: 'posture', points: 5, task: 'partner', restrictive: true,
    async run(s) {
      const e = env(s);
      const partner = companyActors(s).partner();
      const p3 = clientAs(s, S3Client, partner);
      const bucket = e.buckets.analyticsExports;
      // The grader's own internal/ object, so the probe does not depend on what the student left there.
      const key = `internal/${CHECK_PREFIX}probe.csv`;
      await s3root(s).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'date,transactions\n' }));
      const got: string[] = [];
      try {
        for (const [what, call] of [
          [`GetObject ${key}`, () => p3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))],
          ['ListBucket without a prefix', () => p3.send(new ListObjectsV2Command({ Bucket: bucket }))],
          ['ListBucket with prefix internal/', () => p3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'internal/' }))],
        ] as [string, () => Promise<unknown>][]) {
          const r = await refusedOr(call());
          if (!r.refused) got.push(`${what} (${r.code ?? 'allowed'})`);
        }
      } finally {
        await quiet(s3root(s).send(new DeleteObjectCommand({ Bucket: bucket, Key: key })));
      }
      return got.length
        ? fail(`${partner.name} may still ${got.join('; ')}: s3:GetObject on ${bucket}/${e.partner.allowedPrefix}* only, s3:ListBucket with Condition StringLike s3:prefix ${e.partner.allowedPrefix}*`)
        : pass(`the partner is refused outside ${e.partner.allowedPrefix} (read and list)`);
    },
  },
  {
    id: 'network-perimeter', title: 'Customer data is refused outside the office and the company VPC, presigned URLs included', kind: 'posture', points: 5, task: 'network', restrictive: true,
    async run(s) {
      const e = env(s);
      const bucket = e.buckets.customerData;
      const key = customerCsv(s);
      const actors = companyActors(s);
      const analyst = actors.analyst();
      const rng = s.random.fork('dlp-network-perimeter');
      const outsideIp = `198.18.${rng.int(0, 255)}.${rng.int(1, 254)}`;
      const get = (who: Parameters<typeof clientAs>[2]) => outcome(clientAs(s, S3Client, who).send(new GetObjectCommand({ Bucket: bucket, Key: key })).then((r) => r.Body?.transformToString()));
      // The same session from the office must work: the refusal outside must be the network condition.
      const inOffice = await get(analyst);
      if (inOffice) return fail(`${analyst.name} cannot read ${bucket}/${key} from the office (${inOffice}): the perimeter must refuse outside addresses, not the analysts`);
      const problems: string[] = [];
      const outside = await get({ ...analyst, sourceIp: outsideIp });
      if (!outside || !REFUSAL.test(outside)) problems.push(`the analyst's session reads it from ${outsideIp}${outside ? ` (${outside})` : ''}`);
      const url = await getSignedUrl(s.client(S3Client, { credentials: analyst.credentials }), new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 900 });
      const res = await fetch(url, { headers: { 'x-seclab-source-ip': outsideIp } });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 400) problems.push(`a presigned GetObject URL signed by the analyst opens from ${outsideIp} (HTTP ${res.status})`);
      const app = await get(actors.app());
      if (app) problems.push(`the app cannot read it through the VPC endpoint (${app}): that is a blanket deny, not a network perimeter`);
      return problems.length
        ? fail(`${bucket}: ${problems.join('; ')}. A bucket policy Deny with StringNotEquals aws:SourceVpce ${e.network.s3EndpointId} and NotIpAddress aws:SourceIp ${e.network.officeCidr}`)
        : pass(`${bucket}: refused from ${outsideIp} (signed calls and presigned URLs); the office and the VPC endpoint read it`);
    },
  },

  // ---- task responder ----
  {
    id: 'quarantine-responder', title: 'A quarantine responder: Macie finding → EventBridge rule → Lambda that may write to quarantine', kind: 'posture', points: 6, task: 'responder',
    run: judgeResponder,
  },

  // ---- business (the due jobs run first: a responder that quarantines customer data breaks them) ----
  {
    id: 'app-reads-customer-data', title: 'The app, through the VPC endpoint, reads the customer data and writes its log to support-logs', kind: 'business', points: 0,
    async run(s) {
      const e = env(s);
      await settleMacie(s);
      const app = companyActors(s).app();
      const a3 = clientAs(s, S3Client, app);
      const key = customerCsv(s);
      const read = await outcome(a3.send(new GetObjectCommand({ Bucket: e.buckets.customerData, Key: key })).then((r) => r.Body?.transformToString()));
      if (read) return fail(`${app.name} cannot read ${e.buckets.customerData}/${key} through the VPC endpoint (${read}): the app must keep working`);
      const logKey = `${CHECK_PREFIX}app-health.log`;
      const wrote = await outcome(a3.send(new PutObjectCommand({ Bucket: e.buckets.supportLogs, Key: logKey, Body: '2026-11-30T12:00:00Z INFO app health check ok\n', ContentType: 'text/plain' })));
      await quiet(s3root(s).send(new DeleteObjectCommand({ Bucket: e.buckets.supportLogs, Key: logKey })));
      if (wrote) return fail(`${app.name} cannot write its log to ${e.buckets.supportLogs} (${wrote})`);
      return pass(`${app.name} reads the customer data and writes its log`);
    },
  },
  {
    id: 'exporter-writes-exports', title: 'The export job reads customer data and writes the partner\'s de-identified export', kind: 'business', points: 0,
    async run(s) {
      const e = env(s);
      await settleMacie(s);
      const exporter = companyActors(s).exporter();
      const x3 = clientAs(s, S3Client, exporter);
      const key = customerCsv(s);
      const read = await outcome(x3.send(new GetObjectCommand({ Bucket: e.buckets.customerData, Key: key })).then((r) => r.Body?.transformToString()));
      if (read) return fail(`${exporter.name} cannot read ${e.buckets.customerData}/${key} (${read})`);
      const outKey = `${e.partner.allowedPrefix}${CHECK_PREFIX}export-probe.csv`;
      const wrote = await outcome(x3.send(new PutObjectCommand({ Bucket: e.buckets.analyticsExports, Key: outKey, Body: 'date,country,amount\n2026-11-30,US,10.00\n', ContentType: 'text/csv' })));
      await quiet(s3root(s).send(new DeleteObjectCommand({ Bucket: e.buckets.analyticsExports, Key: outKey })));
      if (wrote) return fail(`${exporter.name} cannot write ${e.buckets.analyticsExports}/${e.partner.allowedPrefix}… (${wrote})`);
      return pass(`${exporter.name} reads the customer data and writes the de-identified export`);
    },
  },
  {
    id: 'partner-reads-exports', title: 'The partner lists and reads deidentified/', kind: 'business', points: 0,
    async run(s) {
      const e = env(s);
      await settleMacie(s);
      const partner = companyActors(s).partner();
      const p3 = clientAs(s, S3Client, partner);
      const key = partnerExport(s);
      const list = await p3.send(new ListObjectsV2Command({ Bucket: e.buckets.analyticsExports, Prefix: e.partner.allowedPrefix })).catch((err: Error) => err);
      if (list instanceof Error) return fail(`${partner.name} cannot list ${e.buckets.analyticsExports}/${e.partner.allowedPrefix} (${list.name})`);
      if (!(list.Contents ?? []).some((c) => c.Key === key)) return fail(`${partner.name} does not find ${key} in its listing of ${e.partner.allowedPrefix}: the export must stay where the partner reads it`);
      const read = await outcome(p3.send(new GetObjectCommand({ Bucket: e.buckets.analyticsExports, Key: key })).then((r) => r.Body?.transformToString()));
      if (read) return fail(`${partner.name} cannot read ${key} (${read})`);
      return pass(`${partner.name} lists and reads ${e.partner.allowedPrefix}`);
    },
  },
  {
    id: 'analysts-work', title: 'The analysts, from the office, read customer data and write internal/ aggregates', kind: 'business', points: 0,
    async run(s) {
      const e = env(s);
      const analyst = companyActors(s).analyst();
      const a3 = clientAs(s, S3Client, analyst);
      const key = customerCsv(s);
      const read = await outcome(a3.send(new GetObjectCommand({ Bucket: e.buckets.customerData, Key: key })).then((r) => r.Body?.transformToString()));
      if (read) return fail(`${analyst.name} cannot read ${e.buckets.customerData}/${key} (${read})`);
      const outKey = `internal/${CHECK_PREFIX}aggregate.csv`;
      const wrote = await outcome(a3.send(new PutObjectCommand({ Bucket: e.buckets.analyticsExports, Key: outKey, Body: 'date,transactions\n2026-11-30,1200\n', ContentType: 'text/csv' })));
      await quiet(s3root(s).send(new DeleteObjectCommand({ Bucket: e.buckets.analyticsExports, Key: outKey })));
      if (wrote) return fail(`${analyst.name} cannot write ${e.buckets.analyticsExports}/internal/ (${wrote})`);
      return pass(`${analyst.name} reads customer data and writes internal/ aggregates`);
    },
  },
];

/** A copy of a Macie finding as Macie would report it for the same object found in `bucket`. */
function inStaging<F extends { resourcesAffected: unknown }>(finding: F, bucket: string): F {
  const f = structuredClone(finding) as F & { resourcesAffected: { s3Bucket?: Record<string, unknown>; s3Object?: Record<string, unknown> } };
  const b = f.resourcesAffected.s3Bucket ?? (f.resourcesAffected.s3Bucket = {});
  b['name'] = bucket;
  b['arn'] = `arn:aws:s3:::${bucket}`;
  const o = f.resourcesAffected.s3Object;
  if (o) {
    o['bucketArn'] = `arn:aws:s3:::${bucket}`;
    if (typeof o['key'] === 'string') o['path'] = `${bucket}/${o['key']}`;
  }
  return f;
}
