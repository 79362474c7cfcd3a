// Shared by the attacks of lab dlp (scenarios/dlp-*.ts): plain HTTP requests to the gateway (anonymous
// GETs, presigned URLs opened elsewhere), the lab clock moved to the quarantine deadline with Macie,
// EventBridge and Lambda let run, and the judgement of a drop: out of circulation (moved by the
// responder, or tagged and unreadable) and found by Macie.
import { S3Client, GetObjectCommand, GetObjectTaggingCommand, ListObjectsV2Command, DeleteObjectCommand, type _Object } from '@aws-sdk/client-s3';
import { Macie2Client, ListFindingsCommand, GetFindingsCommand, type Finding } from '@aws-sdk/client-macie2';
import type { LabSession } from '../../src/engine/session.ts';
import type { AttackStep, Scenario, ScenarioResult } from '../../src/engine/types.ts';
import type { Random } from '../../src/engine/random.ts';
import { dlpEnv } from '../../labs/dlp/company.ts';
import { clientAs, companyActors } from '../../labs/dlp/actors.ts';
import { attempt } from './attack.ts';

/**
 * A generator for one run of an attack and a tag that makes its keys unique: the n-th fork of a label
 * is a new stream, so an attack run again in the same session (the mutation grader's probes) drops new
 * objects, and the same seed gives the same keys in the same order.
 */
export function runOf(session: LabSession, label: string): { rng: Random; tag: string } {
  const rng = session.random.fork(label);
  const tag = Array.from({ length: 10 }, () => 'abcdefghijklmnopqrstuvwxyz234567'[rng.int(0, 31)]).join('');
  return { rng, tag };
}

/** An S3 error body's <Code>. */
const codeOf = (body: string, status: number) => /<Code>([^<]+)<\/Code>/.exec(body)?.[1] ?? `HTTP${status}`;

/**
 * Refusals of the grader's own credentials (minted role sessions, presigned URLs): expired, unknown or
 * badly signed. They are no control of the student's — after the lab clock moved weeks, an expired
 * session would otherwise count as an attack blocked.
 */
const CREDENTIAL_FAILURES = new Set([
  'ExpiredToken', 'ExpiredTokenException', 'InvalidAccessKeyId', 'InvalidClientTokenId', 'InvalidToken', 'SignatureDoesNotMatch',
  'RequestTimeTooSkewed', 'RequestExpired', 'AuthorizationQueryParametersError', 'UnrecognizedClientException',
]);

/** Throws when a step of the grader's own actors was refused for its credentials, not by a control. */
export function ownCredentialsFailed(steps: AttackStep[]): void {
  const bad = steps.find((s) => s.errorCode && CREDENTIAL_FAILURES.has(s.errorCode));
  if (bad) throw new Error(`${bad.description}: the lab cloud refused the grader's own credentials (${bad.errorCode}), not a control`);
}

export interface HttpAnswer { status: number; body: string }

/**
 * A plain HTTP GET to the gateway (no SDK): an anonymous request when the URL carries no signature, a
 * presigned URL otherwise; `sourceIp` is where it comes from. Recorded as an attack step, allowed when
 * it returned the object (2xx).
 */
export async function httpGet(session: LabSession, description: string, url: string, sourceIp: string): Promise<{ step: AttackStep; answer?: HttpAnswer }> {
  let answer: HttpAnswer | undefined;
  const step = await attempt(session, description, async () => {
    const res = await fetch(url, { headers: { 'x-seclab-source-ip': sourceIp } });
    answer = { status: res.status, body: await res.text() };
    if (res.status >= 300) throw Object.assign(new Error(`HTTP ${res.status}`), { name: codeOf(answer.body, res.status), $metadata: { httpStatusCode: res.status } });
  });
  // S3 answers an expired (or not yet valid) presigned URL with AccessDenied: told apart by its message.
  if (!step.allowed && /X-Amz-Signature=/.test(url) && /Request has expired|Request is not valid yet/.test(answer?.body ?? '')) {
    throw new Error(`${description}: the presigned URL had expired (${step.errorCode}): the grader's own URL, not a control`);
  }
  ownCredentialsFailed([step]);
  return { step, ...(answer ? { answer } : {}) };
}

/** The URL of an object at the gateway, path style, as an anonymous client would ask for it. */
export function objectUrl(session: LabSession, bucket: string, key: string): string {
  return `${session.cloud.url}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * Moves the lab clock to `at` unless it is there already (an attack observed twice, or after another
 * attack moved it, does not move it again), then lets what AWS does on its own run: Macie's due jobs,
 * the findings it publishes to EventBridge, the Lambda functions they invoke. The clock moves an hour at
 * a time, held, so that a daily job runs at its 00:00 UTC and the responder acts when the finding comes
 * (their times are what they would be in AWS, not the moment of one long jump).
 */
export async function reachDeadline(session: LabSession, at: number): Promise<void> {
  const clock = session.gateway.clock;
  await clock.exclusive(async () => {
    while (clock.nowMs() < at) await clock.advance(Math.min(HOUR, at - clock.nowMs()));
    await session.gateway.flush();
    const macie = session.gateway.service('macie2');
    await macie.runDue();
    await macie.settle();
    await session.gateway.service('lambda').settle();
    await session.gateway.flush();
  });
}

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** Sessions whose attacks have begun (the first started on a Monday). */
const weekStarted = new WeakSet<LabSession>();

/**
 * Moves the lab clock to where an attack starts, unless it is there, and lets what was due meanwhile
 * run: the first attack of a session (a probe of the mutation grading, or the first graded attack) on
 * the next Monday at 09:00 UTC, every later one at the next 09:00 UTC. Where the clock stands after the
 * checks depends on the wall clock; a drop's time to the next daily (or weekly) Macie run must not, or
 * the same work gets another time to detect (with a weekly job, another outcome) another day. After the
 * first Monday every move is the same lab time, so each attack falls on the same day of the week and
 * hour in every grading (a week-long wait before each attack would push the shared clock months ahead).
 */
export async function startOfWeek(session: LabSession): Promise<void> {
  const clock = session.gateway.clock;
  await clock.exclusive(async () => {
    const now = clock.nowMs();
    const day = Math.floor(now / DAY) * DAY;
    const first = !weekStarted.has(session);
    weekStarted.add(session);
    // 1 January 1970 was a Thursday (getUTCDay 4): Monday is (8 - day) % 7 days on.
    let at = day + (first ? ((8 - new Date(day).getUTCDay()) % 7) * DAY : 0) + 9 * HOUR;
    if (at < now) at += first ? 7 * DAY : DAY;
    if (at === now) return;
    await clock.advance(at - now);
    await session.gateway.flush();
    const macie = session.gateway.service('macie2');
    await macie.runDue();
    await macie.settle();
    await session.gateway.service('lambda').settle();
    await session.gateway.flush();
  });
}

/** The account's Macie sensitive-data findings for an object, read with Macie's API as the account root. */
export async function sensitiveFindings(session: LabSession, bucket: string, key: string): Promise<Finding[]> {
  const macie = session.client(Macie2Client);
  const ids: string[] = [];
  try {
    let nextToken: string | undefined;
    do {
      const page = await macie.send(new ListFindingsCommand({
        findingCriteria: { criterion: { 'resourcesAffected.s3Bucket.name': { eq: [bucket] }, 'resourcesAffected.s3Object.key': { eq: [key] } } },
        maxResults: 50, ...(nextToken ? { nextToken } : {}),
      }));
      ids.push(...(page.findingIds ?? []));
      nextToken = page.nextToken || undefined;
    } while (nextToken);
  } catch {
    return []; // Macie not enabled: nothing found
  }
  const out: Finding[] = [];
  for (let i = 0; i < ids.length; i += 50) {
    const got = await macie.send(new GetFindingsCommand({ findingIds: ids.slice(i, i + 50) }));
    out.push(...(got.findings ?? []));
  }
  return out.filter((f) => f.type?.startsWith('SensitiveData') && f.resourcesAffected?.s3Bucket?.name === bucket && f.resourcesAffected?.s3Object?.key === key);
}

/** An object one of the drop attacks put in a company bucket. */
export interface Drop {
  bucket: string;
  key: string;
  /** What it is, for feedback (e.g. "card data renamed meeting-notes.txt"). */
  what: string;
  /** The upload was accepted. */
  landed: boolean;
  etag?: string;
}

/** Where a dropped object is at the deadline, as the account root sees it. */
export interface DropFate {
  drop: Drop;
  /** Out of circulation: not where it was dropped, or there but tagged and unreadable. */
  out: boolean;
  how: string;
  findings: Finding[];
}

/** Whether the object is in the bucket: listed (a HeadObject would be refused where reads of tagged objects are denied). */
async function exists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1000 }));
  return (page.Contents ?? []).some((o) => o.Key === key);
}

/** Every object of a bucket (root's listing). */
async function listAll(s3: S3Client, bucket: string): Promise<_Object[]> {
  const out: _Object[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }));
    out.push(...(page.Contents ?? []));
    token = page.NextContinuationToken;
  } while (token);
  return out;
}

/**
 * Judges each drop at the deadline. A refused upload is not blocked (see below). Gone from its bucket counts only when the responder did it: a copy
 * in the quarantine bucket (same ETag, or a key ending with the dropped key), or a Lambda invocation of
 * the account since the drop whose event names the object. Still there counts when it is tagged and
 * the insider (an analyst, who may read everything as provisioned) is refused it.
 */
export async function fatesOf(session: LabSession, drops: Drop[], since: number): Promise<DropFate[]> {
  const env = dlpEnv(session.env);
  const s3 = session.client(S3Client);
  const quarantined = await listAll(s3, env.buckets.quarantine).catch(() => [] as _Object[]);
  const invocations = session.gateway.service('lambda').invocations.filter((i) => i.account === session.accountId && i.at >= since);
  const insider = clientAs(session, S3Client, companyActors(session).analyst());
  const fates: DropFate[] = [];
  for (const drop of drops) {
    const findings = drop.landed ? await sensitiveFindings(session, drop.bucket, drop.key) : [];
    const where = `s3://${drop.bucket}/${drop.key}`;
    if (!drop.landed) {
      // Staging and the logs are where drops and logs must land (the business needs them): refusing
      // every write there is not quarantine. What lands must be found and taken out of circulation.
      fates.push({ drop, out: false, how: `${drop.what}: the upload was refused — ${drop.bucket} must take drops and logs; find and quarantine what lands there instead`, findings });
      continue;
    }
    if (!(await exists(s3, drop.bucket, drop.key))) {
      const copy = quarantined.find((o) => (drop.etag && o.ETag === drop.etag) || o.Key === drop.key || o.Key?.endsWith(`/${drop.key}`));
      const fn = invocations.find((i) => JSON.stringify(i.event ?? null).includes(drop.key));
      if (copy) fates.push({ drop, out: true, how: `${drop.what}: moved to s3://${env.buckets.quarantine}/${copy.Key}`, findings });
      else if (fn) fates.push({ drop, out: true, how: `${drop.what}: removed from ${drop.bucket} by Lambda function ${fn.functionName}`, findings });
      else fates.push({ drop, out: false, how: `${drop.what}: gone from ${drop.bucket}, but not in the quarantine bucket and no Lambda function acted on it (a responder must move it to ${env.buckets.quarantine})`, findings });
      continue;
    }
    const tags = (await s3.send(new GetObjectTaggingCommand({ Bucket: drop.bucket, Key: drop.key })).catch(() => ({ TagSet: [] }))).TagSet ?? [];
    const read = await attempt(session, `at the deadline, the insider reads ${where}`, () => insider.send(new GetObjectCommand({ Bucket: drop.bucket, Key: drop.key })).then((r) => r.Body?.transformToByteArray()));
    // Refused for the insider's own session (expired...) is not "unreadable".
    ownCredentialsFailed([read]);
    if (tags.length && !read.allowed) fates.push({ drop, out: true, how: `${drop.what}: still in ${drop.bucket}, tagged (${tags.map((t) => `${t.Key}=${t.Value}`).join(', ')}) and refused to the insider (${read.errorCode})`, findings });
    else fates.push({ drop, out: false, how: `${drop.what}: still in ${where}${tags.length ? ` (tagged ${tags.map((t) => `${t.Key}=${t.Value}`).join(', ')})` : ''}${read.allowed ? ' and readable by the insider' : ''}`, findings });
  }
  // Quarantine is the response to what Macie found: a drop taken away without a finding for it was
  // taken by something that does not look at content (a responder on names or on every upload).
  return fates.map((f) => (f.out && !f.findings.length
    ? { ...f, out: false, how: `${f.how} — but Macie has no finding for it: quarantine what Macie finds, not files by name or every upload` }
    : f));
}

/** Ordinary file names, for drops and harmless files alike (a responder cannot tell them apart by name). */
const FILE_NAMES = ['export', 'customers', 'q4-report', 'notes', 'agenda', 'list', 'backup', 'data', 'summary', 'draft', 'update', 'extract'];
/** `n` distinct names from FILE_NAMES, drawn from `rng`. */
export function fileNames(rng: Random, n: number): string[] {
  const pool = [...FILE_NAMES];
  return Array.from({ length: n }, () => pool.splice(rng.int(0, pool.length - 1), 1)[0]!);
}

/** Deletes the attack's objects, as the account root, wherever they still are (errors ignored). */
export async function removeDrops(session: LabSession, drops: { bucket: string; key: string }[]): Promise<void> {
  const s3 = session.client(S3Client);
  for (const d of drops) await s3.send(new DeleteObjectCommand({ Bucket: d.bucket, Key: d.key })).catch(() => undefined);
}

/** The result of a drop attack from the fates of its sensitive drops (and anything else that must hold). */
export function judgeDrops(session: LabSession, o: { steps: AttackStep[]; fates: DropFate[]; injectedAt: number; also?: { ok: boolean; what: string }[]; what: string }): ScenarioResult {
  const also = o.also ?? [];
  const landed = o.fates.filter((f) => f.drop.landed);
  const blocked = o.fates.length > 0 && o.fates.every((f) => f.out) && also.every((a) => a.ok);
  const detected = landed.length > 0 && landed.every((f) => f.findings.length > 0);
  const firstFinding = landed.flatMap((f) => f.findings).map((f) => Date.parse(String(f.createdAt ?? ''))).filter((t) => Number.isFinite(t)).sort((a, b) => a - b)[0];
  const responded = session.gateway.service('lambda').invocations.filter((i) => i.account === session.accountId && i.at >= o.injectedAt && landed.some((f) => JSON.stringify(i.event ?? null).includes(f.drop.key)))[0];
  const evidence = [
    ...o.fates.map((f) => `${f.out ? 'out of circulation' : 'STILL IN CIRCULATION'}: ${f.how}`),
    ...also.map((a) => `${a.ok ? 'ok' : 'FAILED'}: ${a.what}`),
    ...landed.map((f) => (f.findings.length ? `Macie: ${f.findings.map((x) => `${x.type} (${x.id})`).join(', ')} for s3://${f.drop.bucket}/${f.drop.key}` : `Macie: no sensitive-data finding for s3://${f.drop.bucket}/${f.drop.key}`)),
  ];
  const notOut = o.fates.filter((f) => !f.out);
  const failed = also.filter((a) => !a.ok);
  const unfound = landed.filter((f) => !f.findings.length);
  const parts: string[] = [];
  if (blocked) parts.push(`blocked: ${o.fates.map((f) => f.how).join('; ')}${also.length ? `; ${also.map((a) => a.what).join('; ')}` : ''}`);
  else {
    if (notOut.length) parts.push(`not blocked at the deadline: ${notOut.map((f) => f.how).join('; ')}`);
    if (failed.length) parts.push(`not blocked: ${failed.map((a) => a.what).join('; ')}`);
  }
  if (detected) parts.push(`Macie found ${landed.length === 1 ? 'it' : `all ${landed.length}`}`);
  else if (landed.length) parts.push(`Macie has no sensitive-data finding for ${unfound.map((f) => f.drop.key).join(', ')}: a scheduled daily classification job over every bucket but quarantine, with its managed identifiers, finds it by the deadline`);
  return {
    blocked, detected, steps: o.steps, evidence,
    ...(detected && firstFinding !== undefined ? { timeToDetectMs: Math.max(0, firstFinding - o.injectedAt) } : {}),
    ...(blocked && responded ? { timeToRespondMs: Math.max(0, responded.at - o.injectedAt) } : {}),
    feedback: `${o.what}: ${parts.join('. ')}`,
  };
}

/**
 * Runs an attack as a probe (the mutation grader's): prepare, inject, observe, then revert whatever
 * happened. Errors become a result that is neither blocked nor detected, with the reason.
 */
export async function runProbe(session: LabSession, scenario: Scenario): Promise<ScenarioResult> {
  let state: unknown;
  let result: ScenarioResult;
  try {
    state = scenario.prepare ? await scenario.prepare(session) : undefined;
    const steps = await scenario.inject(session, state);
    result = await scenario.observe(session, steps, state);
  } catch (e) {
    result = { detected: false, blocked: false, steps: [], evidence: [], feedback: `the probe ${scenario.id} could not run: ${(e as Error).message}` };
  } finally {
    await scenario.revert?.(session, state).catch(() => undefined);
  }
  return result;
}
