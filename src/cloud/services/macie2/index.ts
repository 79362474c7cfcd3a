// Amazon Macie (`macie2`, REST-JSON, API version 2020-01-01) in the lab cloud, answered whole by the
// gateway (moto 5.2 has the session and membership calls only; never forwarded). Detection is the
// DLP engine's (src/controls/dlp: managed and custom data identifiers, allow lists, occurrences);
// this folder is the Macie2 API around it, following the Macie API reference and user guide:
//
// - Session: EnableMacie / GetMacieSession / UpdateMacieSession / DisableMacie (findings publishing
//   frequency FIFTEEN_MINUTES | ONE_HOUR | SIX_HOURS; status ENABLED | PAUSED). Every other call of an
//   account without Macie is refused with AccessDeniedException "Macie is not enabled"; disabling
//   deletes the account's Macie resources and findings, as Macie does.
// - Custom data identifiers (Create/Get/List/BatchGet/Delete, Test) with Macie's limits; a deleted
//   identifier stays readable with deleted=true and keeps serving the jobs that use it.
// - Allow lists (Create/Get/Update/List/Delete): a regex, or an S3 words list read through the lab
//   cloud as Macie's service-linked role reads it, with the list's status (OK, S3_OBJECT_NOT_FOUND,
//   S3_OBJECT_ACCESS_DENIED, S3_OBJECT_EMPTY, S3_OBJECT_OVERSIZE, UNKNOWN_ERROR).
// - Classification jobs (Create/Describe/List/Update): ONE_TIME and SCHEDULED (daily, weekly,
//   monthly, UTC midnight of the lab clock), bucketDefinitions or bucketCriteria, scoping (extension,
//   size, last modified, key, object tags), samplingPercentage, managed identifier selection, custom
//   identifiers, allow lists. A job runs on the lab clock's next flush after it is due: it lists and
//   reads the objects of the account's own buckets through the target; an object whose bucket policy
//   denies s3:GetObject to AWSServiceRoleForAmazonMacie is not read (its discovery result: SKIPPED,
//   PERMISSION_DENIED). Scheduled runs after the first analyse only objects created or changed since
//   the previous run.
// - Findings: sensitive data findings (SensitiveData:S3Object/Financial, Personal, Credentials,
//   CustomIdentifier, Multiple) with severity as findings.ts scores it, and policy findings
//   (Policy:IAMUser/S3BucketPublic, S3BucketSharedExternally, S3BlockPublicAccessDisabled,
//   S3BucketEncryptionDisabled, S3BucketReplicatedExternally) when a call through the gateway changes a
//   bucket so that the condition holds (a repeat raises the existing finding's count). ListFindings,
//   GetFindings, GetFindingStatistics with findingCriteria and sortCriteria.
// - EventBridge: a new finding is put on the account's default bus at once (source aws.macie,
//   detail-type "Macie Finding", detail the finding); updates of existing findings are put on the
//   session's publishing frequency.
// - Discovery results: with a PutClassificationExportConfiguration, each job run writes its sensitive
//   data discovery results (one JSON object per analysed object, JSON Lines, gzip) under
//   <prefix>/AWSLogs/<account>/Macie/<region>/<jobId>/ in the bucket, SSE-KMS with the configured key.
// - DescribeBuckets: object counts, classifiable counts and sizes, job details, public access, and a
//   sensitivity score from the jobs' findings (automated sensitive data discovery is not modelled).
//
// Nothing is random: ids (jobs, findings, custom identifiers, allow lists, discovery results) are derived
// from the account, region, what they name and a per-region counter, sampling from the job's name,
// clientToken and the object's bucket and key, and equal sort keys are ordered by id, so the same calls
// give the same results. An object whose analysis fails gets a SKIPPED result; the run goes on.
//
// Everything the lab synthesizes carries `seclab:emulated: true`. State is per account and region, in
// memory, dropped with the account. Authorization (macie2:* on the resources of the authz-map) and
// CloudTrail records are the gateway pipeline's.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { ApiError } from '../../gateway/api-error.ts';
import { jsonResult, type CallContext, type Reply, type ServiceExtension } from '../../gateway/extension.ts';
import { defineService, type CallOutcome, type Capabilities, type ControlHandler, type ServiceRuntime } from '../../gateway/service.ts';
import { evaluate } from '../../policy/evaluate.ts';
import type { PolicyDocument, Statement } from '../../policy/types.ts';
import { bucketPublicAccessBlock, combine, isPublicPolicy, type PublicAccessBlock } from '../s3/public-access.ts';
import * as dlp from '../../../controls/dlp/index.ts';
import type { AllowList as DlpAllowList, CustomDataIdentifier as DlpCustom, ManagedSelector, ScanOptions } from '../../../controls/dlp/types.ts';
import { checkCriteria, classify, GROUP_BY, matches, severityOf, sortFindings, valuesAt, type Finding, type JsonObject } from './findings.ts';
import { conflict, int, iso, notFound, oneOf, page, str, strings, validation } from './validate.ts';

const FREQUENCIES = { FIFTEEN_MINUTES: 15 * 60_000, ONE_HOUR: 3600_000, SIX_HOURS: 6 * 3600_000 } as const;
type Frequency = keyof typeof FREQUENCIES;
const SELECTORS: readonly ManagedSelector[] = ['ALL', 'EXCLUDE', 'INCLUDE', 'NONE', 'RECOMMENDED'];
const MACIE_ROLE = 'AWSServiceRoleForAmazonMacie';
/** Macie analyses these file types (User Guide, "Supported storage classes and formats"). */
const CLASSIFIABLE = new Set([
  'csv', 'tsv', 'json', 'jsonl', 'txt', 'log', 'xml', 'html', 'htm', 'md', 'yaml', 'yml', 'pdf', 'docx', 'xlsx', 'pptx',
  'avro', 'parquet', 'gz', 'gzip', 'zip', 'tar', 'bz2', 'snappy', 'eml', 'sql', 'js', 'py', 'java', 'c', 'cpp', 'sh', 'ini', 'conf', 'cfg', 'properties', 'env',
]);
/** An allow list's words file: at most 35 MB (Macie quotas); words 1-90 characters. */
const WORDS_FILE_MAX = 35 * 1024 * 1024;
/** The object-level and bucket-level S3 changes after which Macie re-evaluates a bucket's policy findings. */
const BUCKET_CHANGES = new Set([
  'CreateBucket', 'PutBucketPolicy', 'DeleteBucketPolicy', 'PutBucketAcl', 'PutPublicAccessBlock', 'DeletePublicAccessBlock',
  'PutBucketEncryption', 'DeleteBucketEncryption', 'PutBucketReplication',
]);

interface Session { status: 'ENABLED' | 'PAUSED'; frequency: Frequency; createdAt: number; updatedAt: number }

interface StoredCustom extends DlpCustom {
  arn: string;
  description?: string;
  createdAt: number;
  deleted: boolean;
  tags: Record<string, string>;
}

interface StoredAllowList {
  id: string;
  arn: string;
  name: string;
  description?: string;
  criteria: { regex?: string; s3WordsList?: { bucketName: string; objectKey: string } };
  createdAt: number;
  updatedAt: number;
  tags: Record<string, string>;
}

export interface ClassificationJob {
  jobId: string;
  jobArn: string;
  name: string;
  description?: string;
  clientToken: string;
  jobType: 'ONE_TIME' | 'SCHEDULED';
  jobStatus: 'RUNNING' | 'PAUSED' | 'CANCELLED' | 'COMPLETE' | 'IDLE' | 'USER_PAUSED';
  s3JobDefinition: JsonObject;
  scheduleFrequency?: JsonObject;
  samplingPercentage: number;
  initialRun: boolean;
  managedDataIdentifierSelector: ManagedSelector;
  managedDataIdentifierIds: string[];
  customDataIdentifierIds: string[];
  allowListIds: string[];
  tags: Record<string, string>;
  createdAt: number;
  lastRunTime?: number;
  /** Lab-clock time the next run is due (undefined: none). */
  nextRunAt?: number;
  numberOfRuns: number;
  approximateNumberOfObjectsToProcess: number;
  lastRunError?: string;
  userPausedAt?: number;
  /** What each run did, for graders: objects analysed, skipped, findings. */
  runs: Array<{ at: number; analysed: number; skipped: number; findings: string[] }>;
  /** Objects (key, ETag, last modified) earlier runs selected: a scheduled job's later runs skip them. */
  seen: Set<string>;
}

/** A sensitive data discovery result: one per object a run selected. */
interface DiscoveryResult extends JsonObject {}

/**
 * Objects an account's jobs may analyse in the lab cloud, in all (Macie's real limit is a monthly quota in
 * bytes): a responder that writes new sensitive objects for every finding must not grow the work of a
 * shared lab cloud without bound. Reached, the running job pauses as Macie pauses jobs at its quota.
 */
export const ACCOUNT_OBJECT_QUOTA = 10_000;

interface RegionState {
  account: string;
  region: string;
  /** Objects this account's jobs analysed (see ACCOUNT_OBJECT_QUOTA). */
  analysedObjects?: number;
  session?: Session;
  customs: Map<string, StoredCustom>;
  allowLists: Map<string, StoredAllowList>;
  jobs: Map<string, ClassificationJob>;
  findings: Map<string, Finding>;
  exportConfig?: { bucketName: string; keyPrefix?: string; kmsKeyArn: string };
  securityHub: { publishClassificationFindings: boolean; publishPolicyFindings: boolean };
  /** Findings updated since the last publication of updates, with when the update is due to go out. */
  updated: Map<string, number>;
  /** Buckets changed by calls since the last policy evaluation, with the change. */
  changedBuckets: Map<string, CallOutcome[]>;
  tokens: Map<string, string>;
  /** Ids made so far: with the account, region and what the id names, it derives the next id (no randomness). */
  seq: number;
}

export class Macie2Service implements ServiceRuntime {
  /** Objects an account's jobs may analyse here (ACCOUNT_OBJECT_QUOTA; tests lower it). */
  objectQuota = ACCOUNT_OBJECT_QUOTA;
  private readonly state = new Map<string, RegionState>();
  readonly extensions: ServiceExtension[];
  readonly control: Record<string, ControlHandler>;
  private running: Promise<void> = Promise.resolve();
  /** Results of the last runs, for graders (exported or not). */
  results: Array<{ account: string; jobId: string; result: DiscoveryResult }> = [];

  constructor(private readonly caps: Capabilities) {
    this.extensions = [{ service: 'macie2', serve: (ctx) => this.serve(ctx) }];
    this.control = {
      '/_seclab/macie2/findings': async (q) => {
        const account = q.get('account') ?? '';
        if (!/^\d{12}$/.test(account)) return { status: 400, value: { error: 'account (12 digits) is required' } };
        await this.settle();
        return { status: 200, value: { findings: this.findings(account, q.get('region') ?? undefined) } };
      },
      '/_seclab/macie2/run': async () => {
        await this.runDue();
        return { status: 200, value: { ok: true } };
      },
    };
  }

  // ---- grader API ----

  /** The account's findings (every region, or one), newest first. */
  findings(account: string, region?: string): Finding[] {
    return [...this.state.values()]
      .filter((s) => s.account === account && (!region || s.region === region))
      .flatMap((s) => sortFindings([...s.findings.values()], { attributeName: 'createdAt', orderBy: 'DESC' }));
  }

  jobs(account: string, region?: string): ClassificationJob[] {
    return [...this.state.values()].filter((s) => s.account === account && (!region || s.region === region)).flatMap((s) => [...s.jobs.values()]);
  }

  session(account: string, region = this.caps.region): { status: string; findingPublishingFrequency: string } | undefined {
    const s = this.state.get(`${account}|${region}`)?.session;
    return s ? { status: s.status, findingPublishingFrequency: s.frequency } : undefined;
  }

  /** Runs every job that is due and evaluates changed buckets, now (graders need not wait for a flush). */
  runDue(): Promise<void> {
    const next = this.running.then(() => this.work(this.caps.clock.nowMs()));
    this.running = next.catch(() => undefined);
    return next;
  }

  /** Waits for work in flight. */
  async settle(): Promise<void> {
    await this.running;
  }

  async deliver(nowMs: number): Promise<void> {
    const next = this.running.then(() => this.work(nowMs));
    this.running = next.catch(() => undefined);
    await next.catch(() => undefined);
  }

  dropAccount(account: string): void {
    for (const k of this.state.keys()) if (k.startsWith(`${account}|`)) this.state.delete(k);
    this.results = this.results.filter((r) => r.account !== account);
  }

  /** Bucket changes made through the gateway: Macie learns of them from S3 and re-evaluates the bucket. */
  observe(outcome: CallOutcome): void {
    if (outcome.error) return;
    const { call } = outcome;
    const account = outcome.cred.account;
    if (call.service === 's3control' && /PublicAccessBlock$/.test(call.operation)) {
      for (const s of this.state.values()) if (s.account === account && s.session) pushTo(s.changedBuckets, '*', outcome);
      return;
    }
    if (call.service !== 's3' || !BUCKET_CHANGES.has(call.operation)) return;
    const bucket = call.params['Bucket'];
    if (typeof bucket !== 'string') return;
    const owner = this.caps.service('s3').bucketOwners.get(bucket) ?? account;
    for (const s of this.state.values()) {
      if (s.account === owner && s.session) pushTo(s.changedBuckets, bucket, outcome);
    }
  }

  /** A new id of the account and region: 32 hex characters derived from what it names and a counter
   * (the same calls in the same order give the same ids; nothing random). */
  private nextId(s: RegionState, ...what: string[]): string {
    s.seq++;
    return createHash('sha256').update([s.account, s.region, String(s.seq), ...what].join('\u0000')).digest('hex').slice(0, 32);
  }

  /** Macie finding ids: 32 hexadecimal characters, here derived from the account, region, origin (job
   * and run, or policy type), bucket, key and type, and the counter. */
  private findingId(s: RegionState, ...what: string[]): string {
    let id = this.nextId(s, 'finding', ...what);
    while (s.findings.has(id)) id = this.nextId(s, 'finding', ...what);
    return id;
  }

  private of(account: string, region: string): RegionState {
    const k = `${account}|${region}`;
    let s = this.state.get(k);
    if (!s) {
      s = {
        account, region, customs: new Map(), allowLists: new Map(), jobs: new Map(), findings: new Map(),
        securityHub: { publishClassificationFindings: false, publishPolicyFindings: true }, updated: new Map(),
        changedBuckets: new Map(), tokens: new Map(), seq: 0,
      };
      this.state.set(k, s);
    }
    return s;
  }

  // ---- time-driven work ----

  private async work(nowMs: number): Promise<void> {
    for (const s of [...this.state.values()]) {
      if (s.session?.status !== 'ENABLED') continue;
      if (s.changedBuckets.size) await this.evaluatePolicies(s).catch(() => undefined);
      for (const job of [...s.jobs.values()]) {
        if (job.nextRunAt === undefined || job.nextRunAt > nowMs) continue;
        if (job.jobStatus !== 'RUNNING' && job.jobStatus !== 'IDLE') continue;
        await this.runJob(s, job, nowMs);
      }
      // Updates to existing findings go out on the publishing frequency; new findings went out at once.
      for (const [id, due] of [...s.updated]) {
        if (due > nowMs) continue;
        s.updated.delete(id);
        const f = s.findings.get(id);
        if (f) await this.publish(s, f);
      }
    }
  }

  private async publish(s: RegionState, f: Finding): Promise<void> {
    const bus = this.caps.service('events');
    await bus.emit(s.account, s.region, bus.event(s.account, s.region, 'aws.macie', 'Macie Finding', f, [])).catch(() => 0);
  }

  private async addFinding(s: RegionState, f: Finding): Promise<void> {
    s.findings.set(f.id, f);
    await this.publish(s, f);
  }

  // ---- jobs ----

  private async runJob(s: RegionState, job: ClassificationJob, nowMs: number): Promise<void> {
    // Later runs of a scheduled job analyse only objects created or changed since the previous run
    // (compared by key, ETag and last-modified time as S3 reports them, not by the lab clock).
    const incremental = job.jobType === 'SCHEDULED' && job.numberOfRuns > 0;
    job.jobStatus = 'RUNNING';
    const run = { at: nowMs, analysed: 0, skipped: 0, findings: [] as string[] };
    const results: DiscoveryResult[] = [];
    try {
      const buckets = await this.jobBuckets(s, job);
      const selected: Array<{ bucket: BucketInfo; obj: S3ObjectInfo; version: string }> = [];
      for (const bucket of buckets) {
        for (const obj of await this.listObjects(s.account, bucket.name)) {
          const version = `${bucket.name}/${obj.key}|${obj.eTag}|${obj.lastModified}`;
          if (incremental && job.seen.has(version)) continue;
          // out of scope or not sampled: decided, and the same next time; a selected object is marked
          // seen only once its analysis is recorded (a run that stops early leaves it for the next)
          if (!(await this.inScope(s.account, bucket.name, obj, job.s3JobDefinition['scoping'])) || !sampled(job, bucket.name, obj)) {
            job.seen.add(version);
            continue;
          }
          selected.push({ bucket, obj, version });
        }
      }
      job.approximateNumberOfObjectsToProcess = selected.length;
      const customs = new Map<string, DlpCustom>();
      for (const id of job.customDataIdentifierIds) {
        const c = s.customs.get(id);
        if (c) customs.set(id, c);
      }
      const allowLists: DlpAllowList[] = [];
      for (const id of job.allowListIds) {
        const al = s.allowLists.get(id);
        if (!al) continue;
        if (al.criteria.regex) allowLists.push({ id, name: al.name, criteria: { regex: al.criteria.regex } });
        else {
          const words = await this.wordsList(s.account, al);
          if (words.words) allowLists.push({ id, name: al.name, criteria: { words: words.words } });
        }
      }
      const opts: ScanOptions = {
        managed: { selection: job.managedDataIdentifierSelector, ids: job.managedDataIdentifierIds },
        custom: [...customs.values()].map((c) => ({ id: c.id, name: c.name, arn: c.arn, regex: c.regex, keywords: c.keywords, ignoreWords: c.ignoreWords, maximumMatchDistance: c.maximumMatchDistance, severityLevels: c.severityLevels })),
        allowLists,
        maxOccurrences: 15,
      };
      const location = s.exportConfig ? this.resultsLocation(s, job) : undefined;
      for (const { bucket, obj, version } of selected) {
        if ((s.analysedObjects ?? 0) >= this.objectQuota) {
          // The rest stays unseen for when the job is resumed; a paused job does not run.
          job.jobStatus = 'PAUSED';
          break;
        }
        s.analysedObjects = (s.analysedObjects ?? 0) + 1;
        const base = this.objectResource(s, bucket, obj);
        if (!(await this.macieMayRead(s.account, bucket.name, obj.key))) {
          run.skipped++;
          results.push(this.result(s, job, base, { code: 'SKIPPED', reason: 'PERMISSION_DENIED' }, 0, 'application/octet-stream', [], { detections: [], totalCount: 0 }));
          job.seen.add(version);
          continue;
        }
        const bytes = await this.getObject(s.account, bucket.name, obj.key).catch(() => undefined);
        if (!bytes) {
          run.skipped++;
          results.push(this.result(s, job, base, { code: 'SKIPPED', reason: 'SOURCE_OBJECT_NO_LONGER_AVAILABLE' }, 0, 'application/octet-stream', [], { detections: [], totalCount: 0 }));
          job.seen.add(version);
          continue;
        }
        let scan: Awaited<ReturnType<typeof dlp.scanObject>>;
        try {
          scan = await dlp.scanObject(obj.key, bytes, opts);
        } catch {
          // this object's analysis failed (as Macie reports a file it cannot parse): the run goes on
          run.skipped++;
          results.push(this.result(s, job, base, { code: 'SKIPPED', reason: 'UNABLE_TO_PARSE_FILE' }, 0, 'application/octet-stream', [], { detections: [], totalCount: 0 }));
          job.seen.add(version);
          continue;
        }
        const status = scan.status === 'COMPLETE' ? { code: 'COMPLETE' } : { code: scan.status, reason: scan.skipped ?? 'UNABLE_TO_PARSE_FILE' };
        if (scan.status === 'SKIPPED') run.skipped++;
        else run.analysed++;
        const outcome = classify(scan.detections, customs);
        results.push(this.result(s, job, base, status, scan.sizeClassified, scan.fileType, outcome?.sensitiveData ?? [], outcome?.customDataIdentifiers ?? { detections: [], totalCount: 0 }));
        job.seen.add(version);
        if (!outcome) continue;
        const now = iso(this.caps.clock.nowMs());
        const f: Finding = {
          id: this.findingId(s, job.jobId, String(job.numberOfRuns), bucket.name, obj.key, obj.eTag, outcome.type), accountId: s.account, archived: false, category: 'CLASSIFICATION', count: 1, createdAt: now, updatedAt: now,
          description: `The S3 object contains ${DESCRIPTIONS[outcome.type]}.`,
          partition: 'aws', region: s.region, resourcesAffected: base, sample: false, schemaVersion: '1.0',
          severity: severityOf(outcome.severity), title: `The S3 object contains ${DESCRIPTIONS[outcome.type]}.`, type: outcome.type,
          classificationDetails: {
            ...(location ? { detailedResultsLocation: location } : {}),
            jobArn: job.jobArn, jobId: job.jobId, originType: 'SENSITIVE_DATA_DISCOVERY_JOB',
            result: {
              // a finding locates at most 15 occurrences per type (ClassificationResult.additionalOccurrences)
              additionalOccurrences: [...outcome.sensitiveData.flatMap((d) => d['detections'] as JsonObject[]), ...outcome.customDataIdentifiers.detections].some((d) => (d['count'] as number) > 15),
              mimeType: scan.fileType, sizeClassified: scan.sizeClassified, status,
              sensitiveData: outcome.sensitiveData, customDataIdentifiers: outcome.customDataIdentifiers,
            },
          },
          'seclab:emulated': true,
        };
        run.findings.push(f.id);
        await this.addFinding(s, f);
      }
      if (location && results.length) await this.exportResults(s, location, results).catch((e: Error) => { job.lastRunError = `export: ${e.message}`; });
      else job.lastRunError = undefined;
    } catch (e) {
      job.lastRunError = (e as Error).message;
    }
    for (const result of results) this.results.push({ account: s.account, jobId: job.jobId, result });
    if (this.results.length > 20_000) this.results.splice(0, 5_000);
    job.runs.push(run);
    job.numberOfRuns++;
    job.lastRunTime = nowMs;
    // A job the user paused or cancelled during the run keeps that status.
    if (job.jobStatus === 'RUNNING') {
      if (job.jobType === 'ONE_TIME') {
        job.jobStatus = 'COMPLETE';
        job.nextRunAt = undefined;
      } else {
        job.jobStatus = 'IDLE';
        job.nextRunAt = nextScheduled(job.scheduleFrequency ?? {}, nowMs);
      }
    }
  }

  private resultsLocation(s: RegionState, job: ClassificationJob): string {
    const c = s.exportConfig!;
    const prefix = c.keyPrefix ? `${c.keyPrefix.replace(/\/+$/, '')}/` : '';
    return `s3://${c.bucketName}/${prefix}AWSLogs/${s.account}/Macie/${s.region}/${job.jobId}/${s.account}/${uuidOf(this.nextId(s, 'results', job.jobId, String(job.numberOfRuns)))}.jsonl.gz`;
  }

  private async exportResults(s: RegionState, location: string, results: DiscoveryResult[]): Promise<void> {
    const c = s.exportConfig!;
    const key = location.slice(`s3://${c.bucketName}/`.length);
    const body = gzipSync(Buffer.from(results.map((r) => JSON.stringify(r)).join('\n') + '\n'));
    await this.caps.target.json(s.account, 's3', 'PutObject', {
      Bucket: c.bucketName, Key: key, Body: body, ContentType: 'application/gzip', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: c.kmsKeyArn,
    });
  }

  private result(s: RegionState, job: ClassificationJob, resources: JsonObject, status: JsonObject, size: number, mimeType: string, sensitiveData: JsonObject[], custom: JsonObject): DiscoveryResult {
    return {
      version: '1.0', accountId: s.account, category: 'CLASSIFICATION', createdAt: iso(this.caps.clock.nowMs()), id: uuidOf(this.nextId(s, 'result', job.jobId, String((resources['s3Object'] as JsonObject | undefined)?.['path'] ?? ''))), partition: 'aws', region: s.region,
      classificationDetails: { jobArn: job.jobArn, jobId: job.jobId, originType: 'SENSITIVE_DATA_DISCOVERY_JOB', result: { status, sizeClassified: size, mimeType, sensitiveData, customDataIdentifiers: custom, additionalOccurrences: false } },
      resourcesAffected: resources, 'seclab:emulated': true,
    };
  }

  private objectResource(s: RegionState, bucket: BucketInfo, obj: S3ObjectInfo): JsonObject {
    const dot = obj.key.lastIndexOf('.');
    return {
      s3Bucket: {
        arn: `arn:aws:s3:::${bucket.name}`, name: bucket.name, createdAt: bucket.createdAt ? iso(bucket.createdAt) : undefined,
        owner: { id: s.account }, defaultServerSideEncryption: { encryptionType: 'AES256' },
      },
      s3Object: {
        bucketArn: `arn:aws:s3:::${bucket.name}`, key: obj.key, path: `${bucket.name}/${obj.key}`, extension: dot > 0 ? obj.key.slice(dot + 1) : '',
        size: obj.size, eTag: obj.eTag, lastModified: iso(obj.lastModified), storageClass: obj.storageClass ?? 'STANDARD', publicAccess: false,
      },
    };
  }

  /** Whether Macie's service-linked role may read the object: the bucket policy decides (its identity policy allows s3:GetObject). */
  private async macieMayRead(account: string, bucket: string, key: string): Promise<boolean> {
    const doc = await this.caps.service('s3').policies.bucketPolicy(account, bucket).catch(() => undefined);
    if (!doc) return true;
    const roleArn = `arn:aws:iam::${account}:role/aws-service-role/macie.amazonaws.com/${MACIE_ROLE}`;
    const d = evaluate(
      {
        action: 's3:GetObject', resource: `arn:aws:s3:::${bucket}/${key}`, resourceAccount: account,
        principal: { arn: `arn:aws:sts::${account}:assumed-role/${MACIE_ROLE}/macie`, account, alternateArns: [roleArn], type: 'AssumedRole' },
        context: { 'aws:SecureTransport': 'true', 'aws:RequestedRegion': this.caps.region, 'aws:CalledVia': ['macie.amazonaws.com'], 'aws:ViaAWSService': 'true' },
      },
      {
        identity: [{ source: 'AmazonMacieServiceRolePolicy', document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:Get*', 's3:List*'], Resource: '*' }] } }],
        resource: { source: `bucket policy of ${bucket}`, document: doc, account },
      },
    );
    return d.decision === 'Allow';
  }

  private async getObject(account: string, bucket: string, key: string): Promise<Uint8Array> {
    const r = await this.caps.target.json<{ Body?: { transformToByteArray(): Promise<Uint8Array> } }>(account, 's3', 'GetObject', { Bucket: bucket, Key: key });
    return r.Body ? await r.Body.transformToByteArray() : new Uint8Array();
  }

  private async listObjects(account: string, bucket: string): Promise<S3ObjectInfo[]> {
    const out: S3ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const r = await this.caps.target.json<{ Contents?: Array<{ Key?: string; Size?: number; LastModified?: Date; ETag?: string; StorageClass?: string }>; NextContinuationToken?: string; IsTruncated?: boolean }>(
        account, 's3', 'ListObjectsV2', { Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) },
      );
      for (const o of r.Contents ?? []) {
        if (!o.Key) continue;
        out.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ? new Date(o.LastModified).getTime() : 0, eTag: (o.ETag ?? '').replace(/"/g, ''), storageClass: o.StorageClass });
      }
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  private async listBuckets(account: string): Promise<BucketInfo[]> {
    const r = await this.caps.target.json<{ Buckets?: Array<{ Name?: string; CreationDate?: Date }> }>(account, 's3', 'ListBuckets', {});
    const owners = this.caps.service('s3').bucketOwners;
    return (r.Buckets ?? [])
      .filter((b): b is { Name: string; CreationDate?: Date } => !!b.Name && (owners.get(b.Name) ?? account) === account)
      .map((b) => ({ name: b.Name, createdAt: b.CreationDate ? new Date(b.CreationDate).getTime() : undefined }));
  }

  private async bucketTags(account: string, bucket: string): Promise<Record<string, string>> {
    const r = await this.caps.target.json<{ TagSet?: Array<{ Key?: string; Value?: string }> }>(account, 's3', 'GetBucketTagging', { Bucket: bucket }).catch(() => ({ TagSet: [] }));
    return Object.fromEntries((r.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  }

  /** The job's buckets: its bucketDefinitions (the account's own only), or the account's buckets that meet bucketCriteria. */
  private async jobBuckets(s: RegionState, job: ClassificationJob): Promise<BucketInfo[]> {
    const all = await this.listBuckets(s.account);
    const defs = job.s3JobDefinition['bucketDefinitions'] as Array<{ accountId: string; buckets: string[] }> | undefined;
    if (defs) {
      const wanted = new Set(defs.filter((d) => d.accountId === s.account).flatMap((d) => d.buckets));
      return all.filter((b) => wanted.has(b.name));
    }
    const criteria = job.s3JobDefinition['bucketCriteria'] as { includes?: { and?: JsonObject[] }; excludes?: { and?: JsonObject[] } } | undefined;
    const out: BucketInfo[] = [];
    for (const b of all) {
      const facts = { ACCOUNT_ID: [s.account], S3_BUCKET_NAME: [b.name], S3_BUCKET_EFFECTIVE_PERMISSION: ['NOT_PUBLIC'], S3_BUCKET_SHARED_ACCESS: ['NOT_SHARED'] };
      const tags = criteria ? await this.bucketTags(s.account, b.name) : {};
      const holds = (c: JsonObject) => {
        const simple = c['simpleCriterion'] as { comparator?: string; key?: keyof typeof facts; values?: string[] } | undefined;
        if (simple?.key) return compareStrings(facts[simple.key] ?? [], simple.comparator ?? 'EQ', simple.values ?? []);
        const tag = c['tagCriterion'] as { comparator?: string; tagValues?: Array<{ key?: string; value?: string }> } | undefined;
        if (tag) {
          const any = (tag.tagValues ?? []).some((t) => t.key !== undefined && tags[t.key] !== undefined && (t.value === undefined || tags[t.key] === t.value));
          return tag.comparator === 'NE' ? !any : any;
        }
        return true;
      };
      if (criteria?.includes?.and && !criteria.includes.and.every(holds)) continue;
      if (criteria?.excludes?.and?.length && criteria.excludes.and.every(holds)) continue;
      out.push(b);
    }
    return out;
  }

  /** Whether an object is in a job's scope (scoping.includes / excludes: simpleScopeTerm and tagScopeTerm). */
  private async inScope(account: string, bucket: string, obj: S3ObjectInfo, scoping: unknown): Promise<boolean> {
    const sc = scoping as { includes?: { and?: JsonObject[] }; excludes?: { and?: JsonObject[] } } | undefined;
    if (!sc) return true;
    let tags: Record<string, string> | undefined;
    const holds = async (term: JsonObject): Promise<boolean> => {
      const simple = term['simpleScopeTerm'] as { comparator?: string; key?: string; values?: string[] } | undefined;
      if (simple) {
        const cmp = simple.comparator ?? 'EQ';
        const values = simple.values ?? [];
        switch (simple.key) {
          case 'OBJECT_EXTENSION': {
            const dot = obj.key.lastIndexOf('.');
            return compareStrings([dot > 0 ? obj.key.slice(dot + 1).toLowerCase() : ''], cmp, values.map((v) => v.toLowerCase().replace(/^\./, '')));
          }
          case 'OBJECT_KEY':
            return compareStrings([obj.key], cmp, values);
          case 'OBJECT_SIZE':
            return compareNumber(obj.size, cmp, values.map(Number));
          case 'OBJECT_LAST_MODIFIED_DATE':
            return compareNumber(obj.lastModified, cmp, values.map((v) => (/^\d+$/.test(v) ? Number(v) : Date.parse(v))));
          default:
            return true;
        }
      }
      const tag = term['tagScopeTerm'] as { comparator?: string; key?: string; tagValues?: Array<{ key?: string; value?: string }> } | undefined;
      if (tag) {
        tags ??= await this.objectTags(account, bucket, obj.key);
        const t = tags;
        const any = (tag.tagValues ?? []).some((v) => v.key !== undefined && t[v.key] !== undefined && (v.value === undefined || v.value === '' || t[v.key] === v.value));
        return tag.comparator === 'NE' ? !any : any;
      }
      return true;
    };
    for (const term of sc.includes?.and ?? []) if (!(await holds(term))) return false;
    const ex = sc.excludes?.and ?? [];
    if (ex.length) {
      let all = true;
      for (const term of ex) if (!(await holds(term))) all = false;
      if (all) return false;
    }
    return true;
  }

  private async objectTags(account: string, bucket: string, key: string): Promise<Record<string, string>> {
    const r = await this.caps.target.json<{ TagSet?: Array<{ Key?: string; Value?: string }> }>(account, 's3', 'GetObjectTagging', { Bucket: bucket, Key: key }).catch(() => ({ TagSet: [] }));
    return Object.fromEntries((r.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  }

  // ---- policy findings ----

  private async evaluatePolicies(s: RegionState): Promise<void> {
    const changes = new Map(s.changedBuckets);
    s.changedBuckets.clear();
    const all = changes.has('*') ? (await this.listBuckets(s.account)).map((b) => b.name) : [];
    const buckets = new Set([...changes.keys(), ...all].filter((b) => b !== '*'));
    for (const bucket of buckets) {
      const outcomes = [...(changes.get(bucket) ?? []), ...(changes.get('*') ?? [])];
      const last = outcomes[outcomes.length - 1];
      if (!last) continue;
      const ops = new Set(outcomes.map((o) => o.call.operation));
      const aclOrPolicy = ['CreateBucket', 'PutBucketPolicy', 'PutBucketAcl', 'PutPublicAccessBlock', 'DeletePublicAccessBlock'].some((o) => ops.has(o)) || changes.has('*');
      // calls after which no policy finding can follow (PutBucketEncryption, say) cost no reads of the bucket
      if (!aclOrPolicy && !['DeleteBucketEncryption', 'PutBucketReplication'].some((o) => ops.has(o))) continue;
      const state = await this.bucketState(s.account, bucket).catch(() => undefined);
      if (!state) continue;
      const found: string[] = [];
      if (aclOrPolicy && state.public) found.push('Policy:IAMUser/S3BucketPublic');
      if (aclOrPolicy && state.sharedWith.length) found.push('Policy:IAMUser/S3BucketSharedExternally');
      if ((ops.has('PutPublicAccessBlock') || ops.has('DeletePublicAccessBlock')) && state.bucketBlockAllOff) found.push('Policy:IAMUser/S3BlockPublicAccessDisabled');
      if (ops.has('DeleteBucketEncryption') && !state.encrypted) found.push('Policy:IAMUser/S3BucketEncryptionDisabled');
      if (ops.has('PutBucketReplication') && state.replicatedTo.length) found.push('Policy:IAMUser/S3BucketReplicatedExternally');
      for (const type of found) await this.policyFinding(s, bucket, type, state, last);
    }
  }

  private async bucketState(account: string, bucket: string): Promise<BucketState> {
    const s3 = this.caps.service('s3');
    const own = await bucketPublicAccessBlock(this.caps.target, account, bucket);
    // S3's cached settings: S3 forgets them itself when a call changes them (PutPublicAccessBlock,
    // s3control); forgetting them here too cost a second read of the same settings and a cold cache
    const effective: PublicAccessBlock = await s3.publicAccessBlock(account, bucket).then((b) => combine(b, own)).catch(() => combine(own));
    const doc: PolicyDocument | undefined = await this.caps.target.s3BucketPolicy(account, bucket).then((t) => (t ? (JSON.parse(t) as PolicyDocument) : undefined)).catch(() => undefined);
    const acl = await this.caps.target.json<{ Grants?: Array<{ Grantee?: { URI?: string; Type?: string }; Permission?: string }> }>(account, 's3', 'GetBucketAcl', { Bucket: bucket }).catch(() => ({ Grants: [] }));
    const publicAcl = (acl.Grants ?? []).some((g) => /\/global\/(AllUsers|AuthenticatedUsers)$/.test(g.Grantee?.URI ?? ''));
    const policyPublic = doc ? isPublicPolicy(doc) : false;
    const statements: Statement[] = doc ? (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]) : [];
    const sharedWith = [...new Set(statements.filter((st) => st?.Effect === 'Allow' && st.Principal && st.Principal !== '*').flatMap((st) => {
      const p = (st.Principal as Record<string, string | string[]>)['AWS'];
      return (Array.isArray(p) ? p : p ? [p] : []).map((a) => (/^\d{12}$/.test(a) ? a : /^arn:aws:iam::(\d{12}):/.exec(a)?.[1] ?? '')).filter((a) => a && a !== account);
    }))];
    const enc = await this.caps.target.json(account, 's3', 'GetBucketEncryption', { Bucket: bucket }).then(() => true).catch(() => false);
    const repl = await this.caps.target.json<{ ReplicationConfiguration?: { Rules?: Array<{ Destination?: { Bucket?: string; Account?: string } }> } }>(account, 's3', 'GetBucketReplication', { Bucket: bucket }).catch(() => ({ ReplicationConfiguration: undefined }));
    const owners = s3.bucketOwners;
    const replicatedTo = (repl.ReplicationConfiguration?.Rules ?? []).flatMap((r) => {
      const dest = r.Destination?.Account ?? owners.get((r.Destination?.Bucket ?? '').replace(/^arn:aws:s3:::/, ''));
      return dest && dest !== account ? [dest] : [];
    });
    return {
      public: (publicAcl && !effective.IgnorePublicAcls) || (policyPublic && !effective.RestrictPublicBuckets),
      publicAcl, policyPublic, block: effective, own,
      bucketBlockAllOff: !own || (!own.BlockPublicAcls && !own.IgnorePublicAcls && !own.BlockPublicPolicy && !own.RestrictPublicBuckets),
      sharedWith, encrypted: enc, replicatedTo,
    };
  }

  private async policyFinding(s: RegionState, bucket: string, type: string, state: BucketState, cause: CallOutcome): Promise<void> {
    const now = iso(this.caps.clock.nowMs());
    const existing = [...s.findings.values()].find((f) => f.category === 'POLICY' && f.type === type && !f.archived && valuesAt(f, 'resourcesAffected.s3Bucket.name')[0] === bucket);
    const api = { api: cause.call.operation, apiServiceName: 's3.amazonaws.com', firstSeen: now, lastSeen: now };
    if (existing) {
      existing.count++;
      existing.updatedAt = now;
      const details = existing['policyDetails'] as { action?: { apiCallDetails?: JsonObject } } | undefined;
      if (details?.action?.apiCallDetails) Object.assign(details.action.apiCallDetails, { api: api.api, lastSeen: now });
      // Published at the end of the current publishing period (counted from when Macie was enabled).
      if (!s.updated.has(existing.id) && s.session) {
        const period = FREQUENCIES[s.session.frequency];
        const at = this.caps.clock.nowMs();
        s.updated.set(existing.id, s.session.createdAt + (Math.floor((at - s.session.createdAt) / period) + 1) * period);
      }
      return;
    }
    const cred = cause.cred;
    const identity = cred.kind === 'root'
      ? { type: 'Root', root: { accountId: cred.account, arn: cred.arn, principalId: cred.account } }
      : cred.kind === 'user'
        ? { type: 'IAMUser', iamUser: { accountId: cred.account, arn: cred.arn, principalId: cred.userId ?? cred.accessKeyId, userName: cred.userName } }
        : { type: 'AssumedRole', assumedRole: { accountId: cred.account, arn: cred.arn, principalId: cred.accessKeyId, accessKeyId: cred.accessKeyId } };
    const f: Finding = {
      id: this.findingId(s, 'policy', type, bucket), accountId: s.account, archived: false, category: 'POLICY', count: 1, createdAt: now, updatedAt: now,
      description: POLICY_TYPES[type]!.description(bucket), title: POLICY_TYPES[type]!.title, partition: 'aws', region: s.region, sample: false, schemaVersion: '1.0',
      severity: severityOf(POLICY_TYPES[type]!.severity), type,
      resourcesAffected: {
        s3Bucket: {
          arn: `arn:aws:s3:::${bucket}`, name: bucket, owner: { id: s.account },
          defaultServerSideEncryption: state.encrypted ? { encryptionType: 'AES256' } : { encryptionType: 'NONE' },
          publicAccess: {
            effectivePermission: state.public ? 'PUBLIC' : 'NOT_PUBLIC',
            permissionConfiguration: {
              bucketLevelPermissions: {
                accessControlList: { allowsPublicReadAccess: state.publicAcl, allowsPublicWriteAccess: false },
                bucketPolicy: { allowsPublicReadAccess: state.policyPublic, allowsPublicWriteAccess: false },
                blockPublicAccess: blockOf(state.own),
              },
              accountLevelPermissions: { blockPublicAccess: blockOf(state.block) },
            },
          },
        },
      },
      policyDetails: {
        action: { actionType: 'AWS_API_CALL', apiCallDetails: api },
        actor: { ipAddressDetails: { ipAddressV4: cause.sourceIp }, userIdentity: identity },
      },
      'seclab:emulated': true,
    };
    await this.addFinding(s, f);
  }

  // ---- allow lists ----

  private async wordsList(account: string, al: StoredAllowList): Promise<{ code: string; description?: string; words?: string[] }> {
    const loc = al.criteria.s3WordsList;
    if (!loc) return { code: 'OK' };
    if (!(await this.macieMayRead(account, loc.bucketName, loc.objectKey))) return { code: 'S3_OBJECT_ACCESS_DENIED', description: 'Macie is not allowed to read the object (its bucket policy denies AWSServiceRoleForAmazonMacie).' };
    const owner = this.caps.service('s3').bucketOwners.get(loc.bucketName);
    if (owner && owner !== account) return { code: 'S3_USER_ACCESS_DENIED', description: 'The bucket belongs to another account.' };
    let bytes: Uint8Array;
    try {
      bytes = await this.getObject(account, loc.bucketName, loc.objectKey);
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NoSuchBucket' || name === 'NotFound') return { code: 'S3_OBJECT_NOT_FOUND', description: `s3://${loc.bucketName}/${loc.objectKey} does not exist.` };
      return { code: 'UNKNOWN_ERROR', description: (e as Error).message };
    }
    if (bytes.length === 0) return { code: 'S3_OBJECT_EMPTY', description: 'The words file is empty.' };
    if (bytes.length > WORDS_FILE_MAX) return { code: 'S3_OBJECT_OVERSIZE', description: 'The words file exceeds 35 MB.' };
    const words = Buffer.from(bytes).toString('utf8').split(/\r?\n/).map((w) => w.trim()).filter((w) => w.length >= 1 && w.length <= 90);
    if (!words.length) return { code: 'S3_OBJECT_EMPTY', description: 'The words file holds no word of 1-90 characters.' };
    return { code: 'OK', words };
  }

  // ---- the API ----

  private async serve(ctx: CallContext): Promise<Reply> {
    const { call, cred, requestId } = ctx;
    const p = call.params;
    const s = this.of(cred.account, call.region);
    const ok = (v: unknown = {}): Reply => jsonResult(v, requestId, 'application/json');
    const now = this.caps.clock.nowMs();
    const op = call.operation;
    if (op === 'EnableMacie') {
      if (s.session) throw conflict('Macie is already enabled for this account.');
      const frequency = oneOf(p, 'findingPublishingFrequency', Object.keys(FREQUENCIES) as Frequency[]) ?? 'FIFTEEN_MINUTES';
      const status = oneOf(p, 'status', ['ENABLED', 'PAUSED'] as const) ?? 'ENABLED';
      s.session = { status, frequency, createdAt: now, updatedAt: now };
      return ok();
    }
    if (!s.session) throw new ApiError(403, 'AccessDeniedException', 'Macie is not enabled.');
    const session = s.session;
    switch (op) {
      case 'GetMacieSession':
        return ok({
          createdAt: iso(session.createdAt), updatedAt: iso(session.updatedAt), findingPublishingFrequency: session.frequency, status: session.status,
          serviceRole: `arn:aws:iam::${cred.account}:role/aws-service-role/macie.amazonaws.com/${MACIE_ROLE}`,
        });
      case 'UpdateMacieSession': {
        const frequency = oneOf(p, 'findingPublishingFrequency', Object.keys(FREQUENCIES) as Frequency[]);
        const status = oneOf(p, 'status', ['ENABLED', 'PAUSED'] as const);
        if (frequency) session.frequency = frequency;
        if (status) session.status = status;
        session.updatedAt = now;
        return ok();
      }
      case 'DisableMacie':
        this.state.delete(`${cred.account}|${call.region}`);
        return ok();
      case 'PutFindingsPublicationConfiguration': {
        const c = p['securityHubConfiguration'] as { publishClassificationFindings?: boolean; publishPolicyFindings?: boolean } | undefined;
        if (c) s.securityHub = { publishClassificationFindings: !!c.publishClassificationFindings, publishPolicyFindings: !!c.publishPolicyFindings };
        return ok();
      }
      case 'GetFindingsPublicationConfiguration':
        return ok({ securityHubConfiguration: s.securityHub });
      case 'PutClassificationExportConfiguration':
        return ok({ configuration: await this.putExport(s, p) });
      case 'GetClassificationExportConfiguration':
        return ok({ configuration: s.exportConfig ? { s3Destination: s.exportConfig } : {} });
      case 'CreateCustomDataIdentifier':
        return ok({ customDataIdentifierId: this.createCustom(s, p, now) });
      case 'GetCustomDataIdentifier': {
        const c = s.customs.get(String(p['id']));
        if (!c) throw notFound(`Custom data identifier ${String(p['id'])}`);
        return ok({
          arn: c.arn, createdAt: iso(c.createdAt), deleted: c.deleted, description: c.description, id: c.id, name: c.name, regex: c.regex,
          keywords: c.keywords ?? [], ignoreWords: c.ignoreWords ?? [], maximumMatchDistance: c.maximumMatchDistance ?? 50,
          severityLevels: c.severityLevels ?? [{ occurrencesThreshold: 1, severity: 'MEDIUM' }], tags: c.tags,
        });
      }
      case 'ListCustomDataIdentifiers': {
        const all = [...s.customs.values()].filter((c) => !c.deleted).sort((a, b) => a.createdAt - b.createdAt);
        const { items, nextToken } = page(all, p, 100, 500);
        return ok({ items: items.map((c) => ({ arn: c.arn, createdAt: iso(c.createdAt), description: c.description, id: c.id, name: c.name })), ...(nextToken ? { nextToken } : {}) });
      }
      case 'BatchGetCustomDataIdentifiers': {
        const ids = strings(p, 'ids') ?? [];
        if (ids.length > 50) throw validation('ids can contain at most 50 identifiers.');
        const found = ids.map((id) => s.customs.get(id)).filter((c): c is StoredCustom => !!c);
        return ok({
          customDataIdentifiers: found.map((c) => ({ arn: c.arn, createdAt: iso(c.createdAt), deleted: c.deleted, description: c.description, id: c.id, name: c.name })),
          notFoundIdentifierIds: ids.filter((id) => !s.customs.has(id)),
        });
      }
      case 'DeleteCustomDataIdentifier': {
        const c = s.customs.get(String(p['id']));
        if (!c || c.deleted) throw notFound(`Custom data identifier ${String(p['id'])}`);
        // Macie soft-deletes: jobs that use the identifier keep using it.
        c.deleted = true;
        return ok();
      }
      case 'TestCustomDataIdentifier': {
        const def = checkCustom(p, false);
        const sampleText = str(p, 'sampleText', { required: true, min: 1, max: 1000 })!;
        return ok({ matchCount: dlp.testCustomDataIdentifier(def, sampleText) });
      }
      case 'ListManagedDataIdentifiers': {
        const all = dlp.MANAGED_IDENTIFIERS.map((m) => ({ category: m.category, id: m.id }));
        const { items, nextToken } = page(all, { nextToken: p['nextToken'], maxResults: 1000 }, 1000, 1000);
        return ok({ items, ...(nextToken ? { nextToken } : {}) });
      }
      case 'CreateAllowList': {
        const al = this.checkAllowList(s, p, undefined, now);
        s.allowLists.set(al.id, al);
        return ok({ arn: al.arn, id: al.id });
      }
      case 'GetAllowList': {
        const al = this.findAllowList(s, p);
        const status = await this.wordsList(cred.account, al);
        return ok({
          arn: al.arn, createdAt: iso(al.createdAt), updatedAt: iso(al.updatedAt), criteria: al.criteria, description: al.description, id: al.id, name: al.name,
          status: { code: status.code, ...(status.description ? { description: status.description } : {}) }, tags: al.tags,
        });
      }
      case 'UpdateAllowList': {
        const al = this.findAllowList(s, p);
        const next = this.checkAllowList(s, p, al, now);
        s.allowLists.set(al.id, next);
        return ok({ arn: al.arn, id: al.id });
      }
      case 'ListAllowLists': {
        const all = [...s.allowLists.values()].sort((a, b) => a.createdAt - b.createdAt);
        const { items, nextToken } = page(all, p, 100, 1000);
        return ok({ allowLists: items.map((a) => ({ arn: a.arn, createdAt: iso(a.createdAt), updatedAt: iso(a.updatedAt), description: a.description, id: a.id, name: a.name })), ...(nextToken ? { nextToken } : {}) });
      }
      case 'DeleteAllowList': {
        const al = this.findAllowList(s, p);
        // ignoreJobChecks: a query parameter (DeleteAllowListRequest in the service model)
        const ignore = String(p['ignoreJobChecks'] ?? 'false') === 'true';
        const users = [...s.jobs.values()].filter((j) => j.allowListIds.includes(al.id) && ['RUNNING', 'IDLE', 'PAUSED', 'USER_PAUSED'].includes(j.jobStatus));
        if (users.length && !ignore) throw validation(`The allow list is used by classification jobs (${users.map((j) => j.jobId).join(', ')}); set ignoreJobChecks to true to delete it anyway.`);
        s.allowLists.delete(al.id);
        return ok();
      }
      case 'CreateClassificationJob': {
        const job = this.createJob(s, p, now);
        return ok({ jobArn: job.jobArn, jobId: job.jobId });
      }
      case 'DescribeClassificationJob':
        return ok(this.describeJob(this.findJob(s, p), session));
      case 'ListClassificationJobs': {
        const all = this.filterJobs(s, p);
        const { items, nextToken } = page(all, p, 100, 200);
        return ok({
          items: items.map((j) => {
            const d = this.describeJob(j, session);
            return {
              jobId: j.jobId, jobType: j.jobType, jobStatus: d['jobStatus'], name: j.name, createdAt: iso(j.createdAt), lastRunErrorStatus: d['lastRunErrorStatus'],
              ...(j.s3JobDefinition['bucketDefinitions'] ? { bucketDefinitions: j.s3JobDefinition['bucketDefinitions'] } : {}),
              ...(j.s3JobDefinition['bucketCriteria'] ? { bucketCriteria: j.s3JobDefinition['bucketCriteria'] } : {}),
              ...(d['userPausedDetails'] ? { userPausedDetails: d['userPausedDetails'] } : {}),
            };
          }),
          ...(nextToken ? { nextToken } : {}),
        });
      }
      case 'UpdateClassificationJob': {
        const job = this.findJob(s, p);
        const status = oneOf(p, 'jobStatus', ['RUNNING', 'USER_PAUSED', 'CANCELLED'] as const, true)!;
        if (job.jobStatus === 'COMPLETE' || job.jobStatus === 'CANCELLED') throw validation(`The job's status is ${job.jobStatus}; its status can't be changed.`);
        if (status === 'CANCELLED') {
          job.jobStatus = 'CANCELLED';
          job.nextRunAt = undefined;
        } else if (status === 'USER_PAUSED') {
          job.jobStatus = 'USER_PAUSED';
          job.userPausedAt = now;
        } else {
          if (job.jobStatus !== 'USER_PAUSED') throw validation('Only a job that you paused (USER_PAUSED) can be resumed.');
          // A job paused for more than 30 days is cancelled (Macie User Guide).
          if (job.userPausedAt !== undefined && now - job.userPausedAt > 30 * 86400_000) {
            job.jobStatus = 'CANCELLED';
            job.nextRunAt = undefined;
            throw validation('The job was paused for more than 30 days and has been cancelled.');
          }
          job.userPausedAt = undefined;
          // A one-time job goes on with its run; a scheduled one waits for its next run (or the
          // initial run it has not made yet).
          const pendingRun = job.nextRunAt !== undefined && job.nextRunAt <= now;
          job.jobStatus = job.jobType === 'ONE_TIME' || pendingRun ? 'RUNNING' : 'IDLE';
          if (job.jobType === 'ONE_TIME') job.nextRunAt ??= now;
        }
        return ok();
      }
      case 'ListFindings': {
        checkCriteria(p['findingCriteria']);
        const all = sortFindings([...s.findings.values()].filter((f) => matches(f, p['findingCriteria'])), p['sortCriteria']);
        const { items, nextToken } = page(all, p, 50, 50);
        return ok({ findingIds: items.map((f) => f.id), ...(nextToken ? { nextToken } : {}) });
      }
      case 'GetFindings': {
        const ids = strings(p, 'findingIds');
        if (!ids) throw validation('findingIds is required.');
        if (ids.length > 50) throw validation('findingIds can contain at most 50 finding ids.');
        const found = ids.map((id) => s.findings.get(id)).filter((f): f is Finding => !!f);
        return ok({ findings: p['sortCriteria'] ? sortFindings(found, p['sortCriteria']) : found });
      }
      case 'GetFindingStatistics': {
        checkCriteria(p['findingCriteria']);
        const groupBy = oneOf(p, 'groupBy', GROUP_BY, true)!;
        const counts = new Map<string, number>();
        for (const f of s.findings.values()) {
          if (!matches(f, p['findingCriteria'])) continue;
          const key = String(valuesAt(f, groupBy)[0] ?? '');
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
        const sort = p['sortCriteria'] as { attributeName?: string; orderBy?: string } | undefined;
        const dir = sort?.orderBy === 'ASC' ? 1 : -1;
        let groups = [...counts].map(([groupKey, count]) => ({ count, groupKey }));
        groups.sort((a, b) => (sort?.attributeName === 'groupKey' ? (a.groupKey < b.groupKey ? -1 : 1) * (sort.orderBy === 'DESC' ? -1 : 1) : (a.count - b.count) * dir || (a.groupKey < b.groupKey ? -1 : 1)));
        const size = int(p, 'size', 1, 1000);
        if (size) groups = groups.slice(0, size);
        return ok({ countsByGroup: groups });
      }
      case 'DescribeBuckets':
        return ok(await this.describeBuckets(s, p));
      case 'TagResource':
      case 'UntagResource':
      case 'ListTagsForResource': {
        const arn = String(p['resourceArn'] ?? '');
        const res = [...s.customs.values(), ...s.allowLists.values(), ...s.jobs.values()].find((r) => ('arn' in r ? r.arn : (r as ClassificationJob).jobArn) === arn);
        if (!res) throw notFound(`Resource ${arn}`);
        if (op === 'TagResource') Object.assign(res.tags, tagsOf(p['tags']));
        if (op === 'UntagResource') for (const k of [p['tagKeys']].flat()) delete res.tags[String(k)];
        return op === 'ListTagsForResource' ? ok({ tags: res.tags }) : jsonResult({}, requestId, 'application/json');
      }
      default:
        throw new ApiError(501, 'NotImplemented', `${op} is not available in the lab cloud's Macie (it serves the session, custom data identifiers, allow lists, classification jobs, findings, statistics, DescribeBuckets, the export and publication configurations and tags).`);
    }
  }

  private async putExport(s: RegionState, p: Record<string, unknown>): Promise<JsonObject> {
    const c = p['configuration'] as { s3Destination?: { bucketName?: unknown; keyPrefix?: unknown; kmsKeyArn?: unknown } } | undefined;
    const d = c?.s3Destination;
    if (!d) throw validation('configuration.s3Destination is required.');
    const bucketName = str(d as Record<string, unknown>, 'bucketName', { required: true })!;
    const kmsKeyArn = str(d as Record<string, unknown>, 'kmsKeyArn', { required: true })!;
    const keyPrefix = str(d as Record<string, unknown>, 'keyPrefix');
    if (!/^arn:aws:kms:[a-z0-9-]+:\d{12}:(key|alias)\/.+$/.test(kmsKeyArn)) throw validation('kmsKeyArn must be the ARN of a symmetric KMS key.');
    // Macie checks that it can write to the bucket and use the key.
    await this.caps.target.json(s.account, 's3', 'HeadBucket', { Bucket: bucketName }).catch(() => {
      throw validation(`The S3 bucket ${bucketName} doesn't exist or Macie isn't allowed to write to it.`);
    });
    const region = kmsKeyArn.split(':')[3]!;
    await this.caps.target.json(kmsKeyArn.split(':')[4]!, 'kms', 'DescribeKey', { KeyId: kmsKeyArn }, region).catch(() => {
      throw validation(`The KMS key ${kmsKeyArn} doesn't exist or Macie isn't allowed to use it.`);
    });
    s.exportConfig = { bucketName, kmsKeyArn, ...(keyPrefix ? { keyPrefix } : {}) };
    return { s3Destination: s.exportConfig };
  }

  private createCustom(s: RegionState, p: Record<string, unknown>, now: number): string {
    const token = str(p, 'clientToken');
    if (token && s.tokens.has(`cdi|${token}`)) return s.tokens.get(`cdi|${token}`)!;
    const def = checkCustom(p, true);
    const name = str(p, 'name', { required: true, min: 1, max: 128 })!;
    const description = str(p, 'description', { max: 512 });
    if ([...s.customs.values()].some((c) => !c.deleted && c.name === name)) throw validation(`A custom data identifier named ${name} already exists.`);
    const id = uuidOf(this.nextId(s, 'custom-data-identifier', name, token ?? ''));
    s.customs.set(id, {
      ...def, id, name, arn: `arn:aws:macie2:${s.region}:${s.account}:custom-data-identifier/${id}`,
      ...(description !== undefined ? { description } : {}), createdAt: now, deleted: false, tags: tagsOf(p['tags']),
    });
    if (token) s.tokens.set(`cdi|${token}`, id);
    return id;
  }

  private findAllowList(s: RegionState, p: Record<string, unknown>): StoredAllowList {
    const al = s.allowLists.get(String(p['id']));
    if (!al) throw notFound(`Allow list ${String(p['id'])}`);
    return al;
  }

  private checkAllowList(s: RegionState, p: Record<string, unknown>, before: StoredAllowList | undefined, now: number): StoredAllowList {
    const name = str(p, 'name', { required: true, min: 1, max: 128 })!;
    const description = str(p, 'description', { max: 512 });
    const c = p['criteria'] as { regex?: unknown; s3WordsList?: { bucketName?: unknown; objectKey?: unknown } } | undefined;
    if (!c || typeof c !== 'object') throw validation('criteria is required.');
    if ((c.regex === undefined) === (c.s3WordsList === undefined)) throw validation('Specify either criteria.regex or criteria.s3WordsList, not both.');
    let criteria: StoredAllowList['criteria'];
    if (c.regex !== undefined) {
      if (typeof c.regex !== 'string' || c.regex.length < 1 || c.regex.length > 512) throw validation('criteria.regex must contain 1-512 characters.');
      try {
        new RegExp(c.regex);
      } catch {
        throw validation(`criteria.regex is not a valid regular expression: ${c.regex}`);
      }
      criteria = { regex: c.regex };
    } else {
      const w = c.s3WordsList!;
      if (typeof w.bucketName !== 'string' || w.bucketName.length < 3 || w.bucketName.length > 63) throw validation('criteria.s3WordsList.bucketName must contain 3-63 characters.');
      if (typeof w.objectKey !== 'string' || w.objectKey.length < 1 || w.objectKey.length > 1024) throw validation('criteria.s3WordsList.objectKey must contain 1-1024 characters.');
      criteria = { s3WordsList: { bucketName: w.bucketName, objectKey: w.objectKey } };
    }
    if ([...s.allowLists.values()].some((a) => a.name === name && a.id !== before?.id)) throw validation(`An allow list named ${name} already exists.`);
    if (!before && s.allowLists.size >= 10) throw new ApiError(402, 'ServiceQuotaExceededException', 'An account can have at most 10 allow lists.');
    const id = before?.id ?? this.nextId(s, 'allow-list', name).slice(0, 22);
    return {
      id, arn: `arn:aws:macie2:${s.region}:${s.account}:allow-list/${id}`, name, criteria,
      ...(description !== undefined ? { description } : {}),
      createdAt: before?.createdAt ?? now, updatedAt: now, tags: before?.tags ?? tagsOf(p['tags']),
    };
  }

  private createJob(s: RegionState, p: Record<string, unknown>, now: number): ClassificationJob {
    const clientToken = str(p, 'clientToken', { required: true })!;
    const known = s.tokens.get(`job|${clientToken}`);
    if (known && s.jobs.has(known)) return s.jobs.get(known)!;
    const name = str(p, 'name', { required: true, min: 1, max: 500 })!;
    const description = str(p, 'description', { max: 200 });
    const jobType = oneOf(p, 'jobType', ['ONE_TIME', 'SCHEDULED'] as const, true)!;
    const def = p['s3JobDefinition'] as JsonObject | undefined;
    if (!def || typeof def !== 'object') throw validation('s3JobDefinition is required.');
    const defs = def['bucketDefinitions'];
    const criteria = def['bucketCriteria'];
    if ((defs === undefined) === (criteria === undefined)) throw validation('s3JobDefinition must specify either bucketDefinitions or bucketCriteria, not both.');
    if (defs !== undefined) {
      if (!Array.isArray(defs) || !defs.length) throw validation('s3JobDefinition.bucketDefinitions must list at least one account and its buckets.');
      let n = 0;
      for (const d of defs as Array<{ accountId?: unknown; buckets?: unknown }>) {
        if (typeof d?.accountId !== 'string' || !/^\d{12}$/.test(d.accountId)) throw validation('bucketDefinitions.accountId must be a 12-digit account id.');
        if (!Array.isArray(d.buckets) || !d.buckets.length || d.buckets.some((b) => typeof b !== 'string')) throw validation('bucketDefinitions.buckets must list at least one bucket name.');
        n += d.buckets.length;
      }
      if (n > 1000) throw validation('A job can analyze objects in at most 1,000 buckets.');
    }
    let scheduleFrequency: JsonObject | undefined;
    if (jobType === 'SCHEDULED') {
      scheduleFrequency = p['scheduleFrequency'] as JsonObject | undefined;
      if (!scheduleFrequency || typeof scheduleFrequency !== 'object') throw validation('scheduleFrequency is required for a SCHEDULED job.');
      const kinds = ['dailySchedule', 'weeklySchedule', 'monthlySchedule'].filter((k) => scheduleFrequency![k] !== undefined);
      if (kinds.length !== 1) throw validation('scheduleFrequency must specify exactly one of dailySchedule, weeklySchedule or monthlySchedule.');
      const weekly = scheduleFrequency['weeklySchedule'] as { dayOfWeek?: unknown } | undefined;
      if (weekly && !['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'].includes(String(weekly.dayOfWeek))) throw validation('weeklySchedule.dayOfWeek must be a day of the week (SUNDAY-SATURDAY).');
      const monthly = scheduleFrequency['monthlySchedule'] as { dayOfMonth?: unknown } | undefined;
      if (monthly && !(Number.isInteger(monthly.dayOfMonth) && (monthly.dayOfMonth as number) >= 1 && (monthly.dayOfMonth as number) <= 31)) throw validation('monthlySchedule.dayOfMonth must be from 1 through 31.');
    } else if (p['scheduleFrequency'] !== undefined) {
      throw validation('scheduleFrequency applies to SCHEDULED jobs only.');
    }
    const samplingPercentage = int(p, 'samplingPercentage', 1, 100) ?? 100;
    const selector = oneOf(p, 'managedDataIdentifierSelector', SELECTORS) ?? 'RECOMMENDED';
    const managedIds = strings(p, 'managedDataIdentifierIds') ?? [];
    if ((selector === 'INCLUDE' || selector === 'EXCLUDE') && !managedIds.length) throw validation(`managedDataIdentifierIds is required when managedDataIdentifierSelector is ${selector}.`);
    if (!(selector === 'INCLUDE' || selector === 'EXCLUDE') && managedIds.length) throw validation(`managedDataIdentifierIds applies only when managedDataIdentifierSelector is INCLUDE or EXCLUDE.`);
    const knownManaged = new Set(dlp.MANAGED_IDENTIFIERS.map((m) => m.id));
    const unknownManaged = knownManaged.size ? managedIds.filter((id) => !knownManaged.has(id)) : [];
    if (unknownManaged.length) throw validation(`Unknown managed data identifiers: ${unknownManaged.join(', ')}.`);
    const customIds = strings(p, 'customDataIdentifierIds') ?? [];
    if (customIds.length > 30) throw validation('A job can use at most 30 custom data identifiers.');
    for (const id of customIds) if (!s.customs.get(id) || s.customs.get(id)!.deleted) throw notFound(`Custom data identifier ${id}`);
    if (selector === 'NONE' && !customIds.length) throw validation('A job that uses no managed data identifiers (NONE) must specify at least one custom data identifier.');
    const allowListIds = strings(p, 'allowListIds') ?? [];
    if (allowListIds.length > 10) throw validation('A job can use at most 10 allow lists.');
    for (const id of allowListIds) if (!s.allowLists.has(id)) throw notFound(`Allow list ${id}`);
    const initialRun = p['initialRun'] === undefined ? false : !!p['initialRun'];
    const jobId = this.nextId(s, 'classification-job', clientToken, name);
    const job: ClassificationJob = {
      jobId, jobArn: `arn:aws:macie2:${s.region}:${s.account}:classification-job/${jobId}`, name, ...(description !== undefined ? { description } : {}), clientToken,
      jobType, jobStatus: jobType === 'ONE_TIME' || initialRun ? 'RUNNING' : 'IDLE', s3JobDefinition: def, ...(scheduleFrequency ? { scheduleFrequency } : {}),
      samplingPercentage, initialRun, managedDataIdentifierSelector: selector, managedDataIdentifierIds: managedIds, customDataIdentifierIds: customIds, allowListIds,
      tags: tagsOf(p['tags']), createdAt: now, nextRunAt: jobType === 'ONE_TIME' || initialRun ? now : nextScheduled(scheduleFrequency!, now),
      numberOfRuns: 0, approximateNumberOfObjectsToProcess: 0, runs: [], seen: new Set(),
    };
    s.jobs.set(jobId, job);
    s.tokens.set(`job|${clientToken}`, jobId);
    return job;
  }

  private findJob(s: RegionState, p: Record<string, unknown>): ClassificationJob {
    const job = s.jobs.get(String(p['jobId']));
    if (!job) throw notFound(`Classification job ${String(p['jobId'])}`);
    return job;
  }

  private describeJob(j: ClassificationJob, session: Session): JsonObject {
    // While Macie is paused for the account, its jobs are PAUSED (Macie User Guide, "Suspending Macie").
    const status = session.status === 'PAUSED' && (j.jobStatus === 'RUNNING' || j.jobStatus === 'IDLE') ? 'PAUSED' : j.jobStatus;
    return {
      allowListIds: j.allowListIds, clientToken: j.clientToken, createdAt: iso(j.createdAt), customDataIdentifierIds: j.customDataIdentifierIds,
      ...(j.description !== undefined ? { description: j.description } : {}), initialRun: j.initialRun, jobArn: j.jobArn, jobId: j.jobId, jobStatus: status, jobType: j.jobType,
      lastRunErrorStatus: { code: j.lastRunError ? 'ERROR' : 'NONE' },
      ...(j.lastRunTime !== undefined ? { lastRunTime: iso(j.lastRunTime) } : {}),
      managedDataIdentifierIds: j.managedDataIdentifierIds, managedDataIdentifierSelector: j.managedDataIdentifierSelector, name: j.name,
      s3JobDefinition: j.s3JobDefinition, samplingPercentage: j.samplingPercentage, ...(j.scheduleFrequency ? { scheduleFrequency: j.scheduleFrequency } : {}),
      statistics: { approximateNumberOfObjectsToProcess: j.approximateNumberOfObjectsToProcess, numberOfRuns: j.numberOfRuns }, tags: j.tags,
      ...(j.jobStatus === 'USER_PAUSED' && j.userPausedAt !== undefined
        ? { userPausedDetails: { jobPausedAt: iso(j.userPausedAt), jobExpiresAt: iso(j.userPausedAt + 30 * 86400_000) } }
        : {}),
      ...(j.lastRunError ? { 'seclab:lastRunError': j.lastRunError } : {}),
    };
  }

  private filterJobs(s: RegionState, p: Record<string, unknown>): ClassificationJob[] {
    const fc = p['filterCriteria'] as { includes?: Array<{ comparator?: string; key?: string; values?: string[] }>; excludes?: Array<{ comparator?: string; key?: string; values?: string[] }> } | undefined;
    const field = (j: ClassificationJob, key?: string): string[] => {
      switch (key) {
        case 'jobType': return [j.jobType];
        case 'jobStatus': return [j.jobStatus];
        case 'name': return [j.name];
        case 'createdAt': return [String(j.createdAt)];
        default: return [];
      }
    };
    let jobs = [...s.jobs.values()];
    for (const c of fc?.includes ?? []) jobs = jobs.filter((j) => compareStrings(field(j, c.key), c.comparator ?? 'EQ', c.values ?? []));
    for (const c of fc?.excludes ?? []) jobs = jobs.filter((j) => !compareStrings(field(j, c.key), c.comparator ?? 'EQ', c.values ?? []));
    const sort = p['sortCriteria'] as { attributeName?: string; orderBy?: string } | undefined;
    const attr = sort?.attributeName ?? 'createdAt';
    const dir = sort?.orderBy === 'ASC' ? 1 : -1;
    return jobs.sort((a, b) => {
      const x = attr === 'createdAt' ? a.createdAt : String((a as unknown as JsonObject)[attr] ?? '');
      const y = attr === 'createdAt' ? b.createdAt : String((b as unknown as JsonObject)[attr] ?? '');
      return (x < y ? -1 : x > y ? 1 : a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0) * dir;
    });
  }

  private async describeBuckets(s: RegionState, p: Record<string, unknown>): Promise<JsonObject> {
    const criteria = (p['criteria'] ?? {}) as Record<string, { eq?: string[]; neq?: string[]; prefix?: string }>;
    const buckets = (await this.listBuckets(s.account)).filter((b) => {
      for (const [key, c] of Object.entries(criteria)) {
        const v = key === 'bucketName' ? b.name : key === 'accountId' ? s.account : undefined;
        if (v === undefined) continue;
        if (c.eq?.length && !c.eq.includes(v)) return false;
        if (c.neq?.length && c.neq.includes(v)) return false;
        if (c.prefix && !v.startsWith(c.prefix)) return false;
      }
      return true;
    }).sort((a, b) => (a.name < b.name ? -1 : 1));
    const { items, nextToken } = page(buckets, p, 50, 50);
    const out: JsonObject[] = [];
    for (const b of items) {
      const objects = await this.listObjects(s.account, b.name).catch(() => [] as S3ObjectInfo[]);
      const classifiable = objects.filter((o) => CLASSIFIABLE.has(o.key.slice(o.key.lastIndexOf('.') + 1).toLowerCase()) && o.key.includes('.'));
      const state = await this.bucketState(s.account, b.name).catch(() => undefined);
      const jobs = [...s.jobs.values()].filter((j) => (j.s3JobDefinition['bucketDefinitions'] as Array<{ buckets: string[] }> | undefined)?.some((d) => d.buckets.includes(b.name)) ?? !!j.s3JobDefinition['bucketCriteria']);
      const lastJob = jobs.filter((j) => j.lastRunTime !== undefined).sort((a, c) => c.lastRunTime! - a.lastRunTime!)[0];
      const sensitive = new Set([...s.findings.values()].filter((f) => f.category === 'CLASSIFICATION' && valuesAt(f, 'resourcesAffected.s3Bucket.name')[0] === b.name).map((f) => valuesAt(f, 'resourcesAffected.s3Object.key')[0]));
      const analysed = jobs.some((j) => j.numberOfRuns > 0);
      const score = !analysed ? 50 : sensitive.size === 0 ? 1 : Math.min(99, 51 + Math.round((48 * sensitive.size) / Math.max(1, classifiable.length)));
      out.push({
        accountId: s.account, bucketArn: `arn:aws:s3:::${b.name}`, bucketName: b.name, ...(b.createdAt ? { bucketCreatedAt: iso(b.createdAt) } : {}), region: s.region,
        objectCount: objects.length, sizeInBytes: objects.reduce((n, o) => n + o.size, 0),
        classifiableObjectCount: classifiable.length, classifiableSizeInBytes: classifiable.reduce((n, o) => n + o.size, 0),
        unclassifiableObjectCount: { fileType: objects.length - classifiable.length, storageClass: 0, total: objects.length - classifiable.length },
        unclassifiableObjectSizeInBytes: { fileType: objects.length ? objects.filter((o) => !classifiable.includes(o)).reduce((n, o) => n + o.size, 0) : 0, storageClass: 0, total: objects.filter((o) => !classifiable.includes(o)).reduce((n, o) => n + o.size, 0) },
        jobDetails: {
          isDefinedInJob: jobs.length ? 'TRUE' : 'FALSE', isMonitoredByJob: jobs.some((j) => j.jobType === 'SCHEDULED' && ['RUNNING', 'IDLE'].includes(j.jobStatus)) ? 'TRUE' : 'FALSE',
          ...(lastJob ? { lastJobId: lastJob.jobId, lastJobRunTime: iso(lastJob.lastRunTime!) } : {}),
        },
        publicAccess: { effectivePermission: state ? (state.public ? 'PUBLIC' : 'NOT_PUBLIC') : 'UNKNOWN' },
        sharedAccess: state?.sharedWith.length ? 'EXTERNAL' : 'NOT_SHARED',
        replicationDetails: { replicated: !!state?.replicatedTo.length, replicatedExternally: !!state?.replicatedTo.length, replicationAccounts: state?.replicatedTo ?? [] },
        serverSideEncryption: { type: state?.encrypted === false ? 'NONE' : 'AES256' },
        sensitivityScore: score, 'seclab:objectsWithFindings': sensitive.size, lastUpdated: iso(this.caps.clock.nowMs()),
        'seclab:emulated': true,
      });
    }
    return { buckets: out, ...(nextToken ? { nextToken } : {}) };
  }
}

interface BucketInfo { name: string; createdAt?: number }
interface S3ObjectInfo { key: string; size: number; lastModified: number; eTag: string; storageClass?: string }
interface BucketState {
  public: boolean;
  publicAcl: boolean;
  policyPublic: boolean;
  block: PublicAccessBlock;
  own: PublicAccessBlock | undefined;
  bucketBlockAllOff: boolean;
  sharedWith: string[];
  encrypted: boolean;
  replicatedTo: string[];
}

const DESCRIPTIONS: Record<string, string> = {
  'SensitiveData:S3Object/Financial': 'financial information',
  'SensitiveData:S3Object/Personal': 'personal information',
  'SensitiveData:S3Object/Credentials': 'credentials data',
  'SensitiveData:S3Object/CustomIdentifier': 'text that matches the criteria of a custom data identifier',
  'SensitiveData:S3Object/Multiple': 'more than one type of sensitive information',
};

/** Policy findings: title, description and severity (Macie User Guide, "Types of policy findings", "Severity scoring for policy findings"). */
const POLICY_TYPES: Record<string, { title: string; severity: 'LOW' | 'MEDIUM' | 'HIGH'; description: (bucket: string) => string }> = {
  'Policy:IAMUser/S3BucketPublic': { title: 'The S3 bucket is publicly accessible.', severity: 'HIGH', description: (b) => `An ACL or bucket policy for the S3 bucket ${b} was changed to allow access by anonymous users or all authenticated AWS Identity and Access Management (IAM) identities.` },
  'Policy:IAMUser/S3BucketSharedExternally': { title: 'The S3 bucket is shared with an external AWS account.', severity: 'HIGH', description: (b) => `An ACL or bucket policy for the S3 bucket ${b} was changed to allow the bucket to be shared with an AWS account that's external to your organization.` },
  'Policy:IAMUser/S3BlockPublicAccessDisabled': { title: 'Block public access settings are disabled for the S3 bucket.', severity: 'HIGH', description: (b) => `All bucket-level block public access settings were disabled for the S3 bucket ${b}. Access to the bucket is controlled by account-level block public access settings, ACLs and the bucket's policy.` },
  'Policy:IAMUser/S3BucketEncryptionDisabled': { title: 'Default encryption is disabled for the S3 bucket.', severity: 'LOW', description: (b) => `Default encryption settings were disabled for the S3 bucket ${b}. New objects are not encrypted by default.` },
  'Policy:IAMUser/S3BucketReplicatedExternally': { title: 'The S3 bucket is replicated to an external AWS account.', severity: 'HIGH', description: (b) => `Replication was enabled and configured to replicate objects from the S3 bucket ${b} to a bucket of an AWS account that's external to your organization.` },
};

function blockOf(b: PublicAccessBlock | undefined): JsonObject {
  return { blockPublicAcls: !!b?.BlockPublicAcls, ignorePublicAcls: !!b?.IgnorePublicAcls, blockPublicPolicy: !!b?.BlockPublicPolicy, restrictPublicBuckets: !!b?.RestrictPublicBuckets };
}

/** Appends to a map of lists (no copy per call: a burst of bucket changes stays linear). */
function pushTo<T>(m: Map<string, T[]>, k: string, v: T): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

/** 32 hexadecimal characters in the UUID shape (8-4-4-4-12), as Macie's custom identifier ids. */
const uuidOf = (hex: string): string => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;

function tagsOf(raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw validation('tags must be a map of tag keys to values.');
  return Object.fromEntries(Object.entries(raw as JsonObject).map(([k, v]) => [k, String(v)]));
}

/** The detection criteria of a custom data identifier, checked as Macie checks them. */
function checkCustom(p: Record<string, unknown>, creating: boolean): Omit<DlpCustom, 'id' | 'name'> {
  const regex = str(p, 'regex', { required: true, min: 1, max: 512 })!;
  try {
    new RegExp(regex);
  } catch {
    throw validation(`The regular expression isn't valid: ${regex}`);
  }
  const keywords = strings(p, 'keywords');
  if (keywords) {
    if (keywords.length > 50) throw validation('keywords can contain at most 50 keywords.');
    for (const k of keywords) if (k.length < 3 || k.length > 90) throw validation(`Each keyword must contain 3-90 characters: ${k}`);
  }
  const ignoreWords = strings(p, 'ignoreWords');
  if (ignoreWords) {
    if (ignoreWords.length > 10) throw validation('ignoreWords can contain at most 10 ignore words.');
    for (const w of ignoreWords) if (w.length < 4 || w.length > 90) throw validation(`Each ignore word must contain 4-90 characters: ${w}`);
  }
  const maximumMatchDistance = int(p, 'maximumMatchDistance', 1, 300) ?? 50;
  let severityLevels: DlpCustom['severityLevels'];
  if (creating && p['severityLevels'] !== undefined) {
    const raw = p['severityLevels'];
    if (!Array.isArray(raw) || raw.length < 1 || raw.length > 3) throw validation('severityLevels can contain 1-3 severity levels.');
    const levels = raw.map((l: { occurrencesThreshold?: unknown; severity?: unknown }) => {
      if (!Number.isInteger(l?.occurrencesThreshold) || (l.occurrencesThreshold as number) < 1) throw validation('occurrencesThreshold must be a positive integer.');
      if (!['LOW', 'MEDIUM', 'HIGH'].includes(String(l.severity))) throw validation('severity must be LOW, MEDIUM or HIGH.');
      return { occurrencesThreshold: l.occurrencesThreshold as number, severity: l.severity as 'LOW' | 'MEDIUM' | 'HIGH' };
    });
    if (new Set(levels.map((l) => l.severity)).size !== levels.length) throw validation('Each severity can appear once in severityLevels.');
    const order = { LOW: 1, MEDIUM: 2, HIGH: 3 };
    const sorted = [...levels].sort((a, b) => order[a.severity] - order[b.severity]);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]!.occurrencesThreshold <= sorted[i - 1]!.occurrencesThreshold) throw validation('Occurrence thresholds must increase with severity, from LOW to HIGH.');
    }
    severityLevels = levels;
  }
  return { regex, ...(keywords ? { keywords } : {}), ...(ignoreWords ? { ignoreWords } : {}), maximumMatchDistance, ...(severityLevels ? { severityLevels } : {}) };
}

function compareStrings(actual: string[], comparator: string, values: string[]): boolean {
  switch (comparator) {
    case 'EQ': return actual.some((a) => values.includes(a));
    case 'NE': return !actual.some((a) => values.includes(a));
    case 'STARTS_WITH': return actual.some((a) => values.some((v) => a.startsWith(v)));
    case 'CONTAINS': return actual.some((a) => values.some((v) => a.includes(v)));
    default: return false;
  }
}

function compareNumber(actual: number, comparator: string, values: number[]): boolean {
  const v = values[0];
  if (v === undefined || Number.isNaN(v)) return false;
  switch (comparator) {
    case 'EQ': return values.includes(actual);
    case 'NE': return !values.includes(actual);
    case 'GT': return actual > v;
    case 'GTE': return actual >= v;
    case 'LT': return actual < v;
    case 'LTE': return actual <= v;
    default: return false;
  }
}

/** Sampling: a stable choice of samplingPercentage % of the objects, by a hash of what the job was
 * created with (name, clientToken) and the object's bucket and key: the same job definition over the
 * same objects samples the same objects, run after run and lab after lab. */
export function sampled(job: Pick<ClassificationJob, 'samplingPercentage' | 'name' | 'clientToken'>, bucket: string, obj: Pick<S3ObjectInfo, 'key'>): boolean {
  if (job.samplingPercentage >= 100) return true;
  const h = createHash('sha256').update([job.name, job.clientToken, bucket, obj.key].join('\u0000')).digest().readUInt32BE(0);
  return h % 100 < job.samplingPercentage;
}

/** The next run of a schedule after `nowMs`: at 00:00 UTC of the next day, day of week or day of month. */
export function nextScheduled(freq: JsonObject, nowMs: number): number {
  const d = new Date(nowMs);
  const midnight = (y: number, m: number, day: number) => Date.UTC(y, m, day);
  if (freq['weeklySchedule']) {
    const want = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'].indexOf(String((freq['weeklySchedule'] as JsonObject)['dayOfWeek']));
    let days = (want - d.getUTCDay() + 7) % 7;
    if (days === 0) days = 7;
    return midnight(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + days);
  }
  if (freq['monthlySchedule']) {
    const day = Number((freq['monthlySchedule'] as JsonObject)['dayOfMonth']);
    // A day the month lacks runs on the month's last day.
    const at = (y: number, m: number) => midnight(y, m, Math.min(day, new Date(Date.UTC(y, m + 1, 0)).getUTCDate()));
    const thisMonth = at(d.getUTCFullYear(), d.getUTCMonth());
    return thisMonth > nowMs ? thisMonth : at(d.getUTCFullYear(), d.getUTCMonth() + 1);
  }
  return midnight(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
}

declare module '../../gateway/service.ts' {
  interface LabServices {
    macie2: Macie2Service;
  }
}

export const macie2Service = defineService('macie2', (caps) => new Macie2Service(caps));
