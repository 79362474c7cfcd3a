// The student's own DLP test suite (dlp/solution.ts, export dlpTests), graded by mutation (GRADING.md,
// last section): the suite runs on the student's environment as it is (twice: the second time at a
// seeded position among the mutants) and on copies with one control weakened at a time, each applied
// as the account root and restored exactly afterwards. In every variant the grader's own probes (the
// attack scenarios, a partner read of internal/, an administrator making staging public) say which
// ways out the variant opens, all of them before the suite runs on any variant (nothing a suite leaves
// behind can open a way out for them); a mutant is effective when it opens one the baseline kept
// shut, killed when the suite fails on it. Student code runs only through the engine's runner (sandbox, gateway
// channel, clock file, phase credentials), never in the grader's process.
import path from 'node:path';
import {
  S3Client, ListBucketsCommand, GetPublicAccessBlockCommand, PutPublicAccessBlockCommand, DeletePublicAccessBlockCommand,
  GetBucketPolicyCommand, PutBucketPolicyCommand, DeleteBucketPolicyCommand, GetObjectCommand, PutObjectCommand, DeleteObjectCommand, CreateBucketCommand,
  type PublicAccessBlockConfiguration,
} from '@aws-sdk/client-s3';
import {
  S3ControlClient, GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand,
  PutPublicAccessBlockCommand as PutAccountPublicAccessBlockCommand, DeletePublicAccessBlockCommand as DeleteAccountPublicAccessBlockCommand,
} from '@aws-sdk/client-s3-control';
import {
  IAMClient, GetRoleCommand, ListRolePoliciesCommand, GetRolePolicyCommand, PutRolePolicyCommand, DeleteRolePolicyCommand,
  ListAttachedRolePoliciesCommand, AttachRolePolicyCommand, DetachRolePolicyCommand, PutRolePermissionsBoundaryCommand, DeleteRolePermissionsBoundaryCommand,
} from '@aws-sdk/client-iam';
import { EventBridgeClient, ListEventBusesCommand, ListRulesCommand, DisableRuleCommand, EnableRuleCommand } from '@aws-sdk/client-eventbridge';
import type { Check, CheckOutcome, Scenario } from '../../src/engine/types.ts';
import type { LabSession } from '../../src/engine/session.ts';
import { studentContext } from '../../src/engine/grader.ts';
import { runStudentCode } from '../../src/engine/student-runner.ts';
import { escapeControl } from '../../src/engine/report/escape.ts';
import { attempt } from '../../scenarios/lib/attack.ts';
import { httpGet, objectUrl, reachDeadline, runProbe, startOfWeek } from '../../scenarios/lib/dlp.ts';
import { cardCopyOutsideScenario } from '../../scenarios/dlp-card-copy-outside.ts';
import { objectMadePublicScenario } from '../../scenarios/dlp-object-made-public.ts';
import { presignedUrlOutsideScenario } from '../../scenarios/dlp-presigned-url-outside.ts';
import { stagingDropScenario } from '../../scenarios/dlp-staging-drop.ts';
import { piiInLogScenario } from '../../scenarios/dlp-pii-in-log.ts';
import { renamedCompressedScenario } from '../../scenarios/dlp-renamed-compressed.ts';
import { ANALYST_ROLE, dlpEnv, type DlpLabEnv } from './company.ts';
import { companyActors, clientAs, opaqueBucketName } from './actors.ts';
import type { DlpHidden } from './provision.ts';

/** Per run of the suite (one stage). */
// Wall time for one stage of a suite: a hang guard, generous so that a loaded machine does not decide.
const RUN_TIMEOUT_MS = 300_000;
const STATE_LIMIT_BYTES = 64 * 1024;
const MAX_RESULTS = 200;
/** Addresses on the internet (RFC 5737 documentation range) for the test outsider and anonymous. */
const OUTSIDE_IP = '192.0.2.141';
const ANONYMOUS_IP = '192.0.2.142';
const CACHE = 'dlp-test-suite';

// ---- the suite's runs ----

interface SuiteRun {
  /** It ran, returned a valid answer with at least one result, and every result passed. */
  passed: boolean;
  tests: number;
  /** Failing tests: name and detail (escaped, capped). */
  failing: string[];
  /** Why it did not run or answer properly (crash, timeout, malformed answer). */
  error?: string;
}

const cap = (s: string, n: number) => escapeControl(s.length > n ? `${s.slice(0, n)}…` : s);

/** What dlpTests returned, checked: it comes from the student's process. */
function parseOutput(value: unknown): { results: { name: string; passed: boolean; detail?: string }[]; state: unknown } {
  if (!value || typeof value !== 'object') throw new Error('dlpTests() must return { results, state }');
  const v = value as { results?: unknown; state?: unknown };
  if (!Array.isArray(v.results)) throw new Error('dlpTests() returned no results array');
  if (v.results.length > MAX_RESULTS) throw new Error(`dlpTests() returned ${v.results.length} results (at most ${MAX_RESULTS})`);
  const results = v.results.map((r, i) => {
    const t = (r ?? {}) as { name?: unknown; passed?: unknown; detail?: unknown };
    if (typeof t.name !== 'string' || typeof t.passed !== 'boolean' || (t.detail !== undefined && typeof t.detail !== 'string')) {
      throw new Error(`dlpTests() result ${i} is not { name: string, passed: boolean, detail?: string }`);
    }
    return { name: t.name, passed: t.passed, ...(t.detail ? { detail: t.detail } : {}) };
  });
  const state = v.state === undefined ? undefined : JSON.stringify(v.state);
  if (state !== undefined && Buffer.byteLength(state) > STATE_LIMIT_BYTES) throw new Error(`dlpTests() returned a state of ${Buffer.byteLength(state)} bytes (at most ${STATE_LIMIT_BYTES} as JSON)`);
  return { results, state: state === undefined ? undefined : JSON.parse(state) };
}

/**
 * Credentials of another account for the student's sandboxed code: marked as handed over by this
 * account's owner (the gateway refuses other accounts' keys used from a submission's sandbox otherwise).
 */
function handOver(session: LabSession, accessKeyId: string): void {
  const cred = session.gateway.credentials.get(accessKeyId);
  if (cred) cred.parentAccessKeyId = session.root.accessKeyId;
}

/** The actors of one run, fresh credentials each; `end` revokes them. */
function actorsForRun(session: LabSession) {
  const hidden = session.hidden['dlp'] as DlpHidden;
  const company = companyActors(session);
  const insider = company.analyst();
  const app = company.app();
  const partner = company.partner();
  const outsideRoot = session.gateway.mintRootCredentials(hidden.testOutside.accountId);
  const outsider = { name: 'an outside account (yours, for tests)', accountId: hidden.testOutside.accountId, credentials: outsideRoot, sourceIp: OUTSIDE_IP, bucket: hidden.testOutside.dropBucket };
  const minted = [insider, app, partner, outsider].map((a) => a.credentials.accessKeyId);
  handOver(session, partner.credentials.accessKeyId);
  handOver(session, outsideRoot.accessKeyId);
  return {
    actors: { insider, app, partner, outsider, anonymous: { name: 'anyone on the internet', sourceIp: ANONYMOUS_IP } },
    end: () => minted.forEach((k) => session.gateway.credentials.setStatus(k, 'Deleted')),
  };
}

/** One stage of the student's suite, in the sandbox, as the lab's other student code runs. */
async function runStage(session: LabSession, stage: 'attempt' | 'after-deadline', state: unknown): Promise<{ run: SuiteRun; state: unknown }> {
  const { lab } = await import('./lab.ts'); // lab.ts imports this file
  const cloud = session.cloud;
  const file = path.join(session.workspace ?? '.', 'dlp', 'solution.ts');
  const ctx = studentContext(session, lab);
  const { actors, end } = actorsForRun(session);
  let channel: { socketPath: string; close: () => Promise<void> } | undefined;
  let res: Awaited<ReturnType<typeof runStudentCode>>;
  try {
    channel = cloud.sandbox === 'bwrap' ? await cloud.gateway.openChannel(session.accountId, 'your DLP tests') : undefined;
    res = await runStudentCode({
      file, exports: ['dlpTests'], input: { ...(ctx.input as object), stage, state, actors }, env: ctx.env, timeoutMs: RUN_TIMEOUT_MS,
      sandbox: cloud.sandbox, gateway: { url: cloud.url, socketPath: channel?.socketPath }, clockFile: ctx.clockFile,
    });
  } finally {
    // Nothing the suite leaves running can act later.
    ctx.revoke();
    end();
    await channel?.close();
  }
  const failed = (error: string) => ({ run: { passed: false, tests: 0, failing: [], error: cap(error, 400) }, state: undefined });
  const r = res.runs.find((x) => x.export === 'dlpTests');
  if (!r?.ok) return failed(r?.error ?? 'dlpTests() did not run');
  if (!('dlpTests' in res.values)) return failed('dlpTests() returned nothing');
  let out: ReturnType<typeof parseOutput>;
  try {
    out = parseOutput(res.values['dlpTests']);
  } catch (e) {
    return failed((e as Error).message);
  }
  // What the student's own test said about its failure helps them most (escaped, capped).
  const failing = [...new Set(out.results.filter((t) => !t.passed).map((t) => cap(t.name, 80) + (t.detail ? ` (${cap(t.detail, 160)})` : '')))];
  return { run: { passed: failing.length === 0, tests: out.results.length, failing }, state: out.state };
}

/** Both stages with the lab clock moved past the quarantine deadline between them. */
async function runSuite(session: LabSession): Promise<SuiteRun> {
  // Each run starts at the same point of the week (daily and weekly Macie jobs run at 00:00 UTC).
  await startOfWeek(session);
  const env = dlpEnv(session.env);
  const first = await runStage(session, 'attempt', undefined);
  // As the attacks do: an hour at a time, so daily jobs run at 00:00 and the responder when the finding comes.
  await reachDeadline(session, session.now() + env.quarantineDeadlineMs);
  if (first.run.error) return first.run;
  const second = await runStage(session, 'after-deadline', first.state);
  if (second.run.error) return { ...second.run, error: `stage after-deadline: ${second.run.error}` };
  const tests = first.run.tests + second.run.tests;
  const failing = [...new Set([...first.run.failing, ...second.run.failing])];
  if (!tests) return { passed: false, tests, failing, error: 'dlpTests() returned no results at all' };
  return { passed: failing.length === 0, tests, failing };
}

// ---- the grader's probes: which ways out a variant leaves open ----

interface Probe { id: string; title: string; run(session: LabSession): Promise<boolean> }

/** An attack scenario as a probe (runProbe: prepare, inject, observe, revert): it got through when not blocked. */
function scenarioProbe(s: Scenario): Probe {
  return {
    id: s.id, title: s.title,
    run: async (session) => {
      const r = await runProbe(session, s);
      // A probe that could not run says nothing about the variant: the grading stops with its reason.
      if (!r.steps.length && r.feedback.startsWith(`the probe ${s.id} could not run`)) throw new Error(r.feedback);
      return !r.blocked;
    },
  };
}

/** The partner reads an internal aggregate (outside deidentified/). */
const partnerProbe: Probe = {
  id: 'partner-reads-internal', title: 'the partner reads analytics-exports outside deidentified/',
  run: async (session) => {
    const env = dlpEnv(session.env);
    const key = env.objects.analyticsExports.find((k) => !k.startsWith(env.partner.allowedPrefix));
    if (!key) throw new Error('no object outside deidentified/ in analytics-exports');
    const s3 = clientAs(session, S3Client, companyActors(session).partner());
    const step = await attempt(session, `partner GetObject ${key}`, () => s3.send(new GetObjectCommand({ Bucket: env.buckets.analyticsExports, Key: key })));
    return step.allowed;
  },
};

/**
 * Someone with the right to change bucket policies (here the account root) makes staging public, and
 * anyone on the internet reads through it (an unsigned GET): Block Public Access is what refuses this.
 */
const publicPolicyProbe: Probe = {
  id: 'admin-makes-public', title: 'a public bucket policy on staging, read by anyone on the internet',
  run: async (session) => {
    const env = dlpEnv(session.env);
    const s3 = session.client(S3Client);
    const bucket = env.buckets.staging;
    const key = `seclab-probe/public-${session.random.fork('dlp-public-probe').int(0, 1e9)}.txt`;
    const before = await bucketPolicy(session, bucket);
    let wrote = false;
    try {
      const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Public', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/${key}` }] });
      const made = await attempt(session, `PutBucketPolicy public on ${bucket}`, () => s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy })));
      if (!made.allowed) return false;
      // Written once the public policy replaced the bucket's own (whose statements could refuse the root).
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'seclab probe: public access\n', ContentType: 'text/plain' }));
      wrote = true;
      return (await httpGet(session, `anyone on the internet GETs ${key} without credentials`, objectUrl(session, bucket, key), OUTSIDE_IP)).step.allowed;
    } finally {
      if (wrote) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      await setBucketPolicy(session, bucket, before);
    }
  },
};

const PROBES: Probe[] = [
  scenarioProbe(cardCopyOutsideScenario),
  scenarioProbe(objectMadePublicScenario),
  scenarioProbe(presignedUrlOutsideScenario),
  scenarioProbe(stagingDropScenario),
  scenarioProbe(piiInLogScenario),
  scenarioProbe(renamedCompressedScenario),
  partnerProbe,
  publicPolicyProbe,
];

/**
 * An outside account of the probes' own, with a drop bucket as provisioned for the graded attacks':
 * the probes never use the graded attacks' outside account, so nothing the submission's logs show of
 * a probe (the bucket an insider wrote to) names what the graded attack will use.
 */
const probeOutsides = new WeakMap<LabSession, Promise<DlpHidden['outside']>>();
function probeOutside(session: LabSession): Promise<DlpHidden['outside']> {
  let p = probeOutsides.get(session);
  if (!p) {
    p = (async () => {
      const acct = session.cloud.createAccount();
      const dropBucket = opaqueBucketName(session, 'dlp-probe-outside', acct.accountId);
      const s3 = session.client(S3Client, { credentials: { accessKeyId: acct.accessKeyId, secretAccessKey: acct.secretAccessKey } });
      await s3.send(new CreateBucketCommand({ Bucket: dropBucket }));
      await s3.send(new PutBucketPolicyCommand({
        Bucket: dropBucket,
        Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'TakeDrops', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${session.accountId}:root` }, Action: ['s3:PutObject', 's3:PutObjectAcl'], Resource: `arn:aws:s3:::${dropBucket}/*` }] }),
      }));
      return { accountId: acct.accountId, accessKeyId: acct.accessKeyId, secretAccessKey: acct.secretAccessKey, dropBucket };
    })();
    probeOutsides.set(session, p);
  }
  return p;
}

/** Runs every probe; the ids of those that got through. Grading state the attacks touch is kept as it was. */
async function runProbes(session: LabSession): Promise<string[]> {
  const through: string[] = [];
  const { businessBroken, onAttackStep } = session;
  const hidden = session.hidden['dlp'] as DlpHidden;
  const graded = hidden.outside;
  hidden.outside = await probeOutside(session);
  session.onAttackStep = undefined;
  try {
    for (const p of PROBES) {
      if (await p.run(session)) through.push(p.id);
    }
  } finally {
    // Probes are not the graded attacks: what they see of legitimate work is judged there, not here.
    session.businessBroken = businessBroken;
    session.onAttackStep = onAttackStep;
    hidden.outside = graded;
  }
  return through;
}

// ---- mutants: one control weakened, saved and restored exactly ----

const MISSING = new Set(['NoSuchPublicAccessBlockConfiguration', 'NoSuchBucketPolicy']);
async function orMissing<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (e) {
    if (MISSING.has((e as { name?: string }).name ?? '')) return undefined;
    throw e;
  }
}

async function bucketPolicy(session: LabSession, bucket: string): Promise<string | undefined> {
  return (await orMissing(session.client(S3Client).send(new GetBucketPolicyCommand({ Bucket: bucket }))))?.Policy;
}
async function setBucketPolicy(session: LabSession, bucket: string, policy: string | undefined): Promise<void> {
  const s3 = session.client(S3Client);
  if (policy === undefined) await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
  else await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }));
}

type MutantId = 'public-access-off' | 'insider-unrestricted' | 'partner-widened' | 'customer-data-open' | 'responder-off';

interface Mutant {
  id: MutantId;
  /** What it does, for feedback. */
  does: string;
  task: string;
  /** The task's control, in words ("build ... first"). */
  control: string;
  /** What it changes, as it is now (JSON-comparable). */
  save(session: LabSession): Promise<unknown>;
  weaken(session: LabSession, saved: unknown): Promise<void>;
  restore(session: LabSession, saved: unknown): Promise<void>;
  /** What of a later save to compare with the first (default: all of it). */
  comparable?(after: unknown, saved: unknown): unknown;
}

interface PublicAccess { account?: PublicAccessBlockConfiguration; buckets: Record<string, PublicAccessBlockConfiguration | undefined> }

const publicAccessOff: Mutant = {
  id: 'public-access-off', does: 'Block Public Access deleted (account and every bucket)', task: 'public', control: 'Block Public Access',
  save: async (session): Promise<PublicAccess> => {
    const s3 = session.client(S3Client);
    const control = session.client(S3ControlClient);
    const account = (await orMissing(control.send(new GetAccountPublicAccessBlockCommand({ AccountId: session.accountId }))))?.PublicAccessBlockConfiguration;
    const names = ((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name!).sort();
    const buckets: PublicAccess['buckets'] = {};
    for (const b of names) buckets[b] = (await orMissing(s3.send(new GetPublicAccessBlockCommand({ Bucket: b }))))?.PublicAccessBlockConfiguration;
    return { account, buckets };
  },
  weaken: async (session, saved) => {
    const s = saved as PublicAccess;
    if (s.account) await session.client(S3ControlClient).send(new DeleteAccountPublicAccessBlockCommand({ AccountId: session.accountId }));
    for (const [b, c] of Object.entries(s.buckets)) if (c) await session.client(S3Client).send(new DeletePublicAccessBlockCommand({ Bucket: b }));
  },
  restore: async (session, saved) => {
    const s = saved as PublicAccess;
    const control = session.client(S3ControlClient);
    if (s.account) await control.send(new PutAccountPublicAccessBlockCommand({ AccountId: session.accountId, PublicAccessBlockConfiguration: s.account }));
    else await orMissing(control.send(new DeleteAccountPublicAccessBlockCommand({ AccountId: session.accountId })));
    for (const [b, c] of Object.entries(s.buckets)) {
      if (c) await session.client(S3Client).send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: c }));
      else await orMissing(session.client(S3Client).send(new DeletePublicAccessBlockCommand({ Bucket: b })));
    }
  },
  // Buckets made or deleted meanwhile (by the suite) are not the mutant's.
  comparable: (after, saved) => {
    const a = after as PublicAccess;
    const names = Object.keys((saved as PublicAccess).buckets).filter((b) => b in a.buckets);
    return { account: a.account, buckets: Object.fromEntries(names.map((b) => [b, a.buckets[b]])) };
  },
};

/**
 * The analysts' inline policy as provisioned (labs/dlp/provision.ts, apps(): AmazonS3FullAccess's
 * statement). Re-derived here, not imported: provision.ts does not export it. Keep the two in sync.
 */
const PROVISIONED_ANALYST_POLICY = { name: 'analyst-s3', doc: { Version: '2012-10-17', Statement: [{ Sid: 'S3FullAccess', Effect: 'Allow', Action: ['s3:*', 's3-object-lambda:*'], Resource: '*' }] } };

/**
 * The partner's bucket policy on analytics-exports as provisioned (provision.ts, storage(): the whole
 * bucket). Re-derived, as above.
 */
function provisionedPartnerPolicy(env: DlpLabEnv): string {
  const principal = { AWS: `arn:aws:iam::${env.partner.accountId}:root` };
  const bucket = `arn:aws:s3:::${env.buckets.analyticsExports}`;
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'PartnerRead', Effect: 'Allow', Principal: principal, Action: ['s3:GetObject'], Resource: `${bucket}/*` },
      { Sid: 'PartnerList', Effect: 'Allow', Principal: principal, Action: ['s3:ListBucket'], Resource: bucket },
    ],
  });
}

interface AnalystRole { inline: Record<string, string>; attached: string[]; boundary?: string }
/** IAM returns policy documents URL-encoded (as AWS does); the SDK leaves them so. */
const policyText = (doc: string) => (doc.trimStart().startsWith('{') ? doc : decodeURIComponent(doc));

const insiderUnrestricted: Mutant = {
  id: 'insider-unrestricted', does: 'the analysts\' role as provisioned (its own S3 full access only: your policies, attached policies and permissions boundary removed)', task: 'perimeter', control: 'a data perimeter on the analysts',
  save: async (session): Promise<AnalystRole> => {
    const iam = session.client(IAMClient);
    const inline: Record<string, string> = {};
    let marker: string | undefined;
    do {
      const page = await iam.send(new ListRolePoliciesCommand({ RoleName: ANALYST_ROLE, Marker: marker }));
      for (const name of page.PolicyNames ?? []) inline[name] = policyText((await iam.send(new GetRolePolicyCommand({ RoleName: ANALYST_ROLE, PolicyName: name }))).PolicyDocument!);
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    const attached: string[] = [];
    do {
      const page = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: ANALYST_ROLE, Marker: marker }));
      attached.push(...(page.AttachedPolicies ?? []).map((p) => p.PolicyArn!));
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    const boundary = (await iam.send(new GetRoleCommand({ RoleName: ANALYST_ROLE }))).Role?.PermissionsBoundary?.PermissionsBoundaryArn;
    return { inline: Object.fromEntries(Object.entries(inline).sort()), attached: attached.sort(), ...(boundary ? { boundary } : {}) };
  },
  weaken: async (session, saved) => {
    const s = saved as AnalystRole;
    const iam = session.client(IAMClient);
    for (const name of Object.keys(s.inline)) if (name !== PROVISIONED_ANALYST_POLICY.name) await iam.send(new DeleteRolePolicyCommand({ RoleName: ANALYST_ROLE, PolicyName: name }));
    await iam.send(new PutRolePolicyCommand({ RoleName: ANALYST_ROLE, PolicyName: PROVISIONED_ANALYST_POLICY.name, PolicyDocument: JSON.stringify(PROVISIONED_ANALYST_POLICY.doc) }));
    for (const arn of s.attached) await iam.send(new DetachRolePolicyCommand({ RoleName: ANALYST_ROLE, PolicyArn: arn }));
    if (s.boundary) await iam.send(new DeleteRolePermissionsBoundaryCommand({ RoleName: ANALYST_ROLE }));
  },
  restore: async (session, saved) => {
    const s = saved as AnalystRole;
    const iam = session.client(IAMClient);
    if (!(PROVISIONED_ANALYST_POLICY.name in s.inline)) await iam.send(new DeleteRolePolicyCommand({ RoleName: ANALYST_ROLE, PolicyName: PROVISIONED_ANALYST_POLICY.name }));
    for (const [name, doc] of Object.entries(s.inline)) await iam.send(new PutRolePolicyCommand({ RoleName: ANALYST_ROLE, PolicyName: name, PolicyDocument: doc }));
    for (const arn of s.attached) await iam.send(new AttachRolePolicyCommand({ RoleName: ANALYST_ROLE, PolicyArn: arn }));
    if (s.boundary) await iam.send(new PutRolePermissionsBoundaryCommand({ RoleName: ANALYST_ROLE, PermissionsBoundary: s.boundary }));
  },
};

const partnerWidened: Mutant = {
  id: 'partner-widened', does: 'analytics-exports\' bucket policy back as provisioned (the whole bucket to the partner)', task: 'partner', control: 'the partner\'s scope',
  save: async (session) => ({ policy: await bucketPolicy(session, dlpEnv(session.env).buckets.analyticsExports) }),
  weaken: async (session) => {
    const env = dlpEnv(session.env);
    await setBucketPolicy(session, env.buckets.analyticsExports, provisionedPartnerPolicy(env));
  },
  restore: async (session, saved) => setBucketPolicy(session, dlpEnv(session.env).buckets.analyticsExports, (saved as { policy?: string }).policy),
};

const customerDataOpen: Mutant = {
  id: 'customer-data-open', does: 'customer-data\'s bucket policy deleted', task: 'network', control: 'a network perimeter on customer data',
  save: async (session) => ({ policy: await bucketPolicy(session, dlpEnv(session.env).buckets.customerData) }),
  weaken: async (session, saved) => {
    if ((saved as { policy?: string }).policy !== undefined) await setBucketPolicy(session, dlpEnv(session.env).buckets.customerData, undefined);
  },
  restore: async (session, saved) => setBucketPolicy(session, dlpEnv(session.env).buckets.customerData, (saved as { policy?: string }).policy),
};

interface RuleState { bus: string; name: string; state: string }
const responderOff: Mutant = {
  id: 'responder-off', does: 'every enabled EventBridge rule on Macie findings disabled', task: 'responder', control: 'a quarantine responder',
  // The rules whose pattern names Macie, with their state.
  save: async (session): Promise<RuleState[]> => {
    const events = session.client(EventBridgeClient);
    const buses = ((await events.send(new ListEventBusesCommand({}))).EventBuses ?? []).map((b) => b.Name!);
    const rules: RuleState[] = [];
    for (const bus of buses.length ? buses : ['default']) {
      let token: string | undefined;
      do {
        const page = await events.send(new ListRulesCommand({ EventBusName: bus, NextToken: token }));
        for (const r of page.Rules ?? []) if (/macie/i.test(r.EventPattern ?? '')) rules.push({ bus, name: r.Name!, state: r.State ?? '' });
        token = page.NextToken;
      } while (token);
    }
    return rules.sort((a, b) => `${a.bus}/${a.name}`.localeCompare(`${b.bus}/${b.name}`));
  },
  weaken: async (session, saved) => {
    const events = session.client(EventBridgeClient);
    for (const r of saved as RuleState[]) if (r.state === 'ENABLED') await events.send(new DisableRuleCommand({ EventBusName: r.bus, Name: r.name }));
  },
  restore: async (session, saved) => {
    const events = session.client(EventBridgeClient);
    for (const r of saved as RuleState[]) if (r.state === 'ENABLED') await events.send(new EnableRuleCommand({ EventBusName: r.bus, Name: r.name }));
  },
};

const MUTANTS: Mutant[] = [publicAccessOff, insiderUnrestricted, partnerWidened, customerDataOpen, responderOff];

/** Applies `m`, runs `fn`, restores what `m` changed and checks it is as it was. */
async function withMutant<T>(session: LabSession, m: Mutant, fn: () => Promise<T>): Promise<T> {
  const saved = await m.save(session);
  try {
    await m.weaken(session, saved);
    return await fn();
  } finally {
    await m.restore(session, saved);
    const after = await m.save(session);
    if (JSON.stringify(m.comparable?.(after, saved) ?? after) !== JSON.stringify(saved)) {
      throw new Error(`after mutant ${m.id}, the account is not as it was before it (did your DLP suite change it?)`);
    }
  }
}

// ---- grading: every variant once, cached on the session ----

interface VariantResult { suite: SuiteRun; through: string[] }
interface Grading {
  baseline: VariantResult;
  baseline2?: SuiteRun;
  mutants: Partial<Record<MutantId, VariantResult>>;
}

/** Baseline first; then the mutants in a seeded order, the second baseline at a seeded place among them. */
function order(session: LabSession): (Mutant | 'baseline')[] {
  const rng = session.random.fork('dlp-mutants');
  const rest = [...MUTANTS];
  const out: (Mutant | 'baseline')[] = [];
  while (rest.length) out.push(rest.splice(rng.int(0, rest.length - 1), 1)[0]!);
  out.splice(rng.int(1, out.length), 0, 'baseline');
  return out;
}

async function gradeSuite(session: LabSession): Promise<Grading> {
  return session.gateway.clock.exclusive(async () => {
    // A suite failing on the student's own controls: the probes and mutants say nothing.
    const first = await runSuite(session);
    if (!first.passed) return { baseline: { suite: first, through: [] }, mutants: {} };
    // Which ways out each variant opens, from the grader's probes alone, before the suite runs on any
    // variant: what a suite leaves behind when it returns (a control it deleted, to be put back in its
    // next run) cannot make a mutant look effective.
    const baselineThrough = await runProbes(session);
    const through: Partial<Record<MutantId, string[]>> = {};
    for (const m of MUTANTS) through[m.id] = await withMutant(session, m, () => runProbes(session));
    const g: Grading = { baseline: { suite: first, through: baselineThrough }, mutants: {} };
    for (const v of order(session)) {
      if (v === 'baseline') {
        g.baseline2 = await runSuite(session);
        // Fails on an unchanged environment: nothing it does on a mutant can count.
        if (!g.baseline2.passed) return g;
      } else {
        g.mutants[v.id] = { suite: await withMutant(session, v, () => runSuite(session)), through: through[v.id]! };
      }
    }
    return g;
  });
}

function grading(session: LabSession): Promise<Grading> {
  // The first check computes everything; the others read the same promise.
  const cached = session.hidden[CACHE] as Promise<Grading> | undefined;
  if (cached) return cached;
  const p = gradeSuite(session);
  session.hidden[CACHE] = p;
  return p;
}

// ---- feedback ----

const names = (xs: string[]) => (xs.length > 5 ? `${xs.slice(0, 5).map((n) => `"${n}"`).join(', ')} and ${xs.length - 5} more` : xs.map((n) => `"${n}"`).join(', '));
const why = (r: SuiteRun) => r.error ?? `failing: ${names(r.failing)}`;
const title = (id: string) => PROBES.find((p) => p.id === id)?.title ?? id;

function baselineOutcome(g: Grading): CheckOutcome {
  const b = g.baseline.suite;
  if (b.error) return { passed: false, feedback: `Your DLP suite did not run to the end on your own controls (${b.error}): fix it; nothing of the mutation grading counts until it passes.` };
  if (!b.passed) return { passed: false, feedback: `Your DLP suite fails on your own controls (${why(b)}): fix the control the test found open, or the test; nothing of the mutation grading counts until it passes.` };
  if (g.baseline2 && !g.baseline2.passed) return { passed: false, feedback: `Your DLP suite passed on your controls the first time, then failed on the same unchanged environment (${why(g.baseline2)}): it is flaky or depends on earlier runs (leftovers, counters). It earns nothing until it passes every time.` };
  if (!g.baseline2) return { passed: false, feedback: 'Your DLP suite was not run a second time on your controls.' };
  return { passed: true, feedback: `Your DLP suite passed on your controls, twice (${b.tests} test results).` };
}

function mutantOutcome(g: Grading, m: Mutant): CheckOutcome {
  if (!baselineOutcome(g).passed) return { passed: false, feedback: 'Not graded: your suite must first pass on your own controls, every time (see dlp-tests-pass).' };
  const v = g.mutants[m.id];
  if (!v) return { passed: false, feedback: 'Not graded (the grading stopped before this mutant).' };
  const opened = v.through.filter((id) => !g.baseline.through.includes(id));
  if (!opened.length) return { passed: false, feedback: `Nothing to weaken here yet: with ${m.does}, no attack got through that your controls stopped. Build ${m.control} first (task ${m.task}).` };
  if (!v.suite.passed) return { passed: true, feedback: `Killed: with ${m.does}, your suite failed (${why(v.suite)}).` };
  return { passed: false, feedback: `Survived: with ${m.does}, ${opened.map((id) => `"${title(id)}"`).join(', ')} got through, and your suite still passed: add a test that tries that way out.` };
}

export const testSuiteChecks: Check[] = [
  {
    id: 'dlp-tests-pass', title: 'Your DLP test suite passes on your controls, every time', kind: 'posture', points: 5, task: 'tests',
    run: async (session) => baselineOutcome(await grading(session)),
  },
  ...MUTANTS.map((m): Check => ({
    id: `dlp-tests-catch-${m.id}`, title: `Your DLP test suite catches: ${m.does}`, kind: 'posture', points: 3, task: 'tests',
    run: async (session) => mutantOutcome(await grading(session), m),
  })),
];

/** For tests and reports: what the grading found, per variant (after a check of this file ran). */
export function suiteGrading(session: LabSession): Promise<Grading> | undefined {
  return session.hidden[CACHE] as Promise<Grading> | undefined;
}
export type { Grading, MutantId };
