// Helpers of lab dlp's checks: the account's Macie state read through the Macie API as root, the graded
// classification job, refusals of real calls, and the held-out samples the custom data identifiers are
// judged on.
import {
  Macie2Client, ListClassificationJobsCommand, DescribeClassificationJobCommand, ListFindingsCommand, GetFindingsCommand,
  ListCustomDataIdentifiersCommand, GetCustomDataIdentifierCommand, GetMacieSessionCommand, ListAllowListsCommand, GetAllowListCommand,
  type DescribeClassificationJobCommandOutput, type Finding, type GetAllowListCommandOutput,
} from '@aws-sdk/client-macie2';
import type { LabSession } from '../../src/engine/session.ts';
import type { CustomDataIdentifier } from '../../src/controls/dlp/index.ts';
import { createHash } from 'node:crypto';
import { Random } from '../../src/engine/random.ts';
import { cardReference, customerId, dataset, dlpEnv, type BucketRole, type DlpLabEnv } from './company.ts';
import type { DlpHidden } from './provision.ts';

export const env = (s: LabSession): DlpLabEnv => dlpEnv(s.env);
export const hidden = (s: LabSession): DlpHidden => s.hidden['dlp'] as DlpHidden;
export const pass = (feedback: string) => ({ passed: true, feedback });
export const fail = (feedback: string) => ({ passed: false, feedback });

/** Where grader-made objects go (deleted right after). */
export const CHECK_PREFIX = 'seclab-check/';

/** The buckets the classification job must cover (everything but quarantine). */
export const JOB_BUCKETS: BucketRole[] = ['customerData', 'supportLogs', 'staging', 'analyticsExports', 'qaFixtures'];

/** Error name of a call, or undefined when it succeeded. */
export async function outcome(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
    return undefined;
  } catch (e) {
    return (e as { name?: string }).name ?? 'Error';
  }
}

/** Errors that say the caller was refused (not that the call was malformed). */
export const REFUSAL = /AccessDenied|Forbidden|AllAccessDisabled|AccessControlListNotSupported|UnauthorizedOperation|InvalidAccessKeyId|ExpiredToken/;

/**
 * Makes the lab cloud do what is due: Macie's due jobs run, their findings reach EventBridge and the
 * responders they trigger finish. What the grader's checks judge is the state after that.
 */
export async function settleMacie(s: LabSession): Promise<void> {
  const macie = s.gateway.service('macie2');
  await macie.runDue().catch(() => undefined);
  await macie.settle();
  await s.gateway.service('lambda').settle().catch(() => undefined);
}

export const macieClient = (s: LabSession) => s.client(Macie2Client);

/** Why the Macie API cannot be used (Macie not enabled...), or undefined when it can. */
export async function macieUnavailable(s: LabSession): Promise<string | undefined> {
  const r = await macieClient(s).send(new GetMacieSessionCommand({})).catch((err: Error) => err);
  if (r instanceof Error) return `Macie is not enabled (${r.name}): EnableMacie first`;
  return r.status === 'ENABLED' ? undefined : `Macie is ${r.status}: its jobs do not run (UpdateMacieSession status ENABLED)`;
}

/** At most this many custom data identifiers are judged (Macie: 30 per job); more is refused, not run. */
export const MAX_CUSTOM_IDENTIFIERS = 100;

/** The ids of the account's custom data identifiers (not deleted); listing stops past `limit`. */
export async function customIdentifierIds(s: LabSession, limit = Infinity): Promise<string[]> {
  const macie = macieClient(s);
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const r = await macie.send(new ListCustomDataIdentifiersCommand({ nextToken }));
    ids.push(...(r.items ?? []).map((i) => i.id!).filter(Boolean));
    nextToken = r.nextToken;
  } while (nextToken && ids.length <= limit);
  return ids;
}

/** The account's custom data identifiers (not deleted), as the engine takes them; `ids` when listed already. */
export async function customIdentifiers(s: LabSession, listed?: string[]): Promise<CustomDataIdentifier[]> {
  const macie = macieClient(s);
  const ids = listed ?? await customIdentifierIds(s);
  const out: CustomDataIdentifier[] = [];
  for (const id of ids) {
    const c = await macie.send(new GetCustomDataIdentifierCommand({ id }));
    if (c.deleted || !c.regex) continue;
    out.push({
      id, name: c.name ?? id, regex: c.regex, ...(c.keywords?.length ? { keywords: c.keywords } : {}), ...(c.ignoreWords?.length ? { ignoreWords: c.ignoreWords } : {}),
      ...(c.maximumMatchDistance !== undefined ? { maximumMatchDistance: c.maximumMatchDistance } : {}),
      ...(c.severityLevels?.length ? { severityLevels: c.severityLevels.map((l) => ({ occurrencesThreshold: Number(l.occurrencesThreshold), severity: l.severity as 'LOW' | 'MEDIUM' | 'HIGH' })) } : {}),
    });
  }
  return out;
}

export async function allowLists(s: LabSession): Promise<Map<string, GetAllowListCommandOutput>> {
  const macie = macieClient(s);
  const out = new Map<string, GetAllowListCommandOutput>();
  let nextToken: string | undefined;
  do {
    const r = await macie.send(new ListAllowListsCommand({ nextToken }));
    for (const a of r.allowLists ?? []) if (a.id) out.set(a.id, await macie.send(new GetAllowListCommand({ id: a.id })));
    nextToken = r.nextToken;
  } while (nextToken);
  return out;
}

export type Job = DescribeClassificationJobCommandOutput;

export async function jobs(s: LabSession): Promise<Job[]> {
  const macie = macieClient(s);
  const out: Job[] = [];
  let nextToken: string | undefined;
  do {
    const r = await macie.send(new ListClassificationJobsCommand({ nextToken }));
    for (const j of r.items ?? []) out.push(await macie.send(new DescribeClassificationJobCommand({ jobId: j.jobId! })));
    nextToken = r.nextToken;
  } while (nextToken);
  return out;
}

/** The buckets of this account a job names (bucketDefinitions). */
export function jobBuckets(s: LabSession, j: Job): Set<string> {
  return new Set((j.s3JobDefinition?.bucketDefinitions ?? []).filter((d) => d.accountId === s.accountId).flatMap((d) => d.buckets ?? []));
}

const ACTIVE = new Set(['RUNNING', 'IDLE']);

/**
 * The job the grader judges: an active SCHEDULED job, the one covering most of the company's buckets;
 * when there is none, the newest job of any kind (so that feedback can say what is wrong with it).
 */
export async function gradedJob(s: LabSession): Promise<{ job?: Job; all: Job[] }> {
  const all = await jobs(s);
  const e = env(s);
  const covered = (j: Job) => JOB_BUCKETS.filter((r) => jobBuckets(s, j).has(e.buckets[r])).length;
  const scheduled = all.filter((j) => j.jobType === 'SCHEDULED' && ACTIVE.has(j.jobStatus ?? '')).sort((a, b) => covered(b) - covered(a));
  const newest = [...all].sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0))[0];
  return { job: scheduled[0] ?? newest, all };
}

/** Every finding of the account (archived ones too: a suppression rule hides a finding, it does not prevent it). */
export async function findings(s: LabSession): Promise<Finding[]> {
  const macie = macieClient(s);
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const r = await macie.send(new ListFindingsCommand({ nextToken, maxResults: 50 }));
    ids.push(...(r.findingIds ?? []));
    nextToken = r.nextToken;
  } while (nextToken);
  const out: Finding[] = [];
  for (let i = 0; i < ids.length; i += 50) out.push(...((await macie.send(new GetFindingsCommand({ findingIds: ids.slice(i, i + 50) }))).findings ?? []));
  return out;
}

export const findingBucket = (f: Finding) => f.resourcesAffected?.s3Bucket?.name ?? '';
export const findingKey = (f: Finding) => f.resourcesAffected?.s3Object?.key ?? '';
export const isSensitive = (f: Finding) => f.category === 'CLASSIFICATION' && (f.type ?? '').startsWith('SensitiveData:');

/**
 * Seeded QA objects the job did not analyse as they were seeded (a COMPLETE result of `jobId` whose
 * ETag is the seeded body's): QA data emptied, deleted, scoped out or refused to Macie shows no finding
 * without any allow list, so "no finding in qa-fixtures" alone proves nothing. The seeded bodies are
 * the provisioning's own (the same seed, the same first fork).
 */
export function qaNotAnalysed(s: LabSession, jobId: string): string[] {
  const bucket = env(s).buckets.qaFixtures;
  const seeded = dataset(new Random(s.random.seed).fork('dlp-data')).objects.qaFixtures;
  const results = s.gateway.service('macie2').results.filter((r) => r.account === s.accountId && r.jobId === jobId);
  const seen = new Map<string, boolean>();
  for (const r of results) {
    const o = (r.result.resourcesAffected as { s3Object?: { path?: string; eTag?: string } }).s3Object;
    const status = (r.result.classificationDetails as { result?: { status?: { code?: string } } } | undefined)?.result?.status?.code;
    if (o?.path?.startsWith(`${bucket}/`)) seen.set(`${o.path}#${String(o.eTag ?? '').replace(/"/g, '')}`, status === 'COMPLETE');
  }
  const md5 = (b: SeedBody) => createHash('md5').update(typeof b === 'string' ? b : Buffer.from(b)).digest('hex');
  return seeded.filter((o) => !seen.get(`${bucket}/${o.key}#${md5(o.body)}`)).map((o) => `${bucket}/${o.key}`);
}
type SeedBody = string | Uint8Array;

// ---- held-out samples for the custom data identifiers ----

export interface IdentifierSamples {
  /** Files as the company writes them: name → text. */
  files: Record<string, string>;
  /** Values that must each be found. */
  customerIds: string[];
  cardRefs: string[];
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const digitsOf = (rng: Random, n: number) => Array.from({ length: n }, () => rng.int(0, 9)).join('');

/** Near misses of the company's formats: none may be reported. */
export function decoyValues(rng: Random): { customerIds: string[]; cardRefs: string[] } {
  const ref = () => cardReference(rng).slice(5);
  const at = (r: string, i: number, ch: string) => r.slice(0, i) + ch + r.slice(i + 1);
  return {
    customerIds: [`CP-CUST-${digitsOf(rng, 7)}`, `CP-CUST-${digitsOf(rng, 7)}`, `cp-cust-${digitsOf(rng, 8)}`, `Cp-Cust-${digitsOf(rng, 8)}`],
    cardRefs: [
      `cref_${at(ref(), rng.int(6, 18), rng.pick(['A', 'K', 'Q', 'Z']))}`, `cref_${ref().toUpperCase()}`,
      `cref_${at(ref(), rng.int(6, 18), rng.pick(['0', '1', '8', '9']))}`, `cref_${at(ref(), rng.int(6, 18), rng.pick(['0', '1', '8', '9']))}`,
      `cref_${ref().slice(0, 23)}`, `CREF_${ref()}`,
    ],
  };
}

/** A CSV export, a payment API log and a JSON Lines file holding `ids` and `refs` (in the company's own fields). */
export function sampleFiles(rng: Random, ids: string[], refs: string[], tag: string): Record<string, string> {
  const n = Math.max(ids.length, refs.length);
  const id = (i: number) => ids[i % ids.length]!;
  const ref = (i: number) => refs[i % refs.length]!;
  const amount = () => (rng.int(1500, 250000) / 100).toFixed(2);
  const country = () => rng.pick(['US', 'GB', 'DE', 'FR']);
  const csvRows = Array.from({ length: n }, (_, i) => `2026-11-${pad(rng.int(1, 30), 2)},${id(i)},${country()},${ref(i)},${amount()}`);
  const log = Array.from({ length: n }, (_, i) =>
    `2026-11-${pad(rng.int(1, 30), 2)}T${pad(rng.int(0, 23), 2)}:${pad(rng.int(0, 59), 2)}:00Z INFO payment-api request_id=${digitsOf(rng, 12)} POST /v1/charges status=201 customer=${id(i)} card_ref=${ref(i)} latency_ms=${rng.int(40, 900)}`);
  const json = Array.from({ length: n }, (_, i) => JSON.stringify({ event: 'payment.captured', customer_id: id(i), card_ref: ref(i), amount: Number(amount()), country: country() }));
  return {
    [`${tag}/transactions.csv`]: ['date,customer_id,country,card_ref,amount', ...csvRows].join('\n') + '\n',
    [`${tag}/payment-api.log`]: log.join('\n') + '\n',
    [`${tag}/events.jsonl`]: json.join('\n') + '\n',
  };
}

export function identifierSamples(rng: Random): { real: IdentifierSamples; decoys: IdentifierSamples } {
  const customerIds = Array.from({ length: 6 }, () => customerId(rng));
  const cardRefs = Array.from({ length: 6 }, () => cardReference(rng));
  const d = decoyValues(rng);
  return {
    real: { files: sampleFiles(rng, customerIds, cardRefs, 'real'), customerIds, cardRefs },
    decoys: { files: sampleFiles(rng, d.customerIds, d.cardRefs, 'decoy'), customerIds: d.customerIds, cardRefs: d.cardRefs },
  };
}
