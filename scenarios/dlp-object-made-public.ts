// Lab dlp: an insider (a data analyst's session, from the office) makes data public: deletes the
// account's and the buckets' Block Public Access, copies the customer file into staging and gives
// staging a public bucket policy, makes a support-logs object public-read with its ACL (the legacy
// bucket has ACLs on); then anyone on the internet GETs both without credentials.
//
// The anonymous GETs are real unsigned requests: the lab cloud serves them exactly when S3 would
// (services/s3/anonymous.ts: a bucket policy for everyone, an AllUsers grant with ACLs on, subject to
// explicit denies and Block Public Access). Blocked when no anonymous GET returned data.
import {
  S3Client, CopyObjectCommand, GetObjectCommand, PutObjectCommand, HeadObjectCommand, GetObjectAclCommand, PutObjectAclCommand, GetBucketPolicyCommand, PutBucketPolicyCommand, DeleteBucketPolicyCommand,
  GetPublicAccessBlockCommand, PutPublicAccessBlockCommand, DeletePublicAccessBlockCommand, DeleteObjectCommand,
  type PublicAccessBlockConfiguration, type Grant, type Owner,
} from '@aws-sdk/client-s3';
import {
  S3ControlClient, GetPublicAccessBlockCommand as GetAccountBlockCommand, PutPublicAccessBlockCommand as PutAccountBlockCommand, DeletePublicAccessBlockCommand as DeleteAccountBlockCommand,
} from '@aws-sdk/client-s3-control';
import type { AttackStep, Scenario, ScenarioResult } from '../src/engine/types.ts';
import { dlpEnv } from '../labs/dlp/company.ts';
import { clientAs, companyActors, internetAddress } from '../labs/dlp/actors.ts';
import { attempt } from './lib/attack.ts';
import { httpGet, objectUrl, ownCredentialsFailed, runOf, startOfWeek } from './lib/dlp.ts';


interface Saved {
  accountBlock?: PublicAccessBlockConfiguration;
  stagingBlock?: PublicAccessBlockConfiguration;
  logsBlock?: PublicAccessBlockConfiguration;
  stagingPolicy?: string;
  acl?: { Owner?: Owner; Grants?: Grant[] };
}

interface State {
  saved: Saved;
  /** The staging copy of the customer file. */
  sharedKey: string;
  /** The support-logs object made public-read (an existing log, or the attacker's own when there is none). */
  logKey: string;
  logIsOurs: boolean;
  customerFile: string;
  /** What the attacker changed (its call was accepted): only that is restored. */
  changed: { accountBlock?: boolean; stagingBlock?: boolean; logsBlock?: boolean; stagingPolicy?: boolean; acl?: boolean; shared?: boolean; logObject?: boolean };
}

const blockOf = <T>(p: Promise<{ PublicAccessBlockConfiguration?: T }>): Promise<T | undefined> => p.then((r) => r.PublicAccessBlockConfiguration, () => undefined);

async function present(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  return s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(() => true, () => false);
}

export const objectMadePublicScenario: Scenario = {
  id: 'dlp-object-made-public',
  title: 'An insider makes customer data public',
  description: 'A data analyst turns off Block Public Access (account and buckets), copies the customer file into staging and gives staging a public bucket policy, makes a support log public-read with its ACL; then anyone on the internet downloads both without credentials.',
  techniques: ['T1530', 'T1562'],
  detections: ['CloudTrail: DeletePublicAccessBlock, PutBucketPolicy, PutObjectAcl by contoso-analyst', 'Macie policy findings: Policy:IAMUser/S3BlockPublicAccessDisabled, Policy:IAMUser/S3BucketPublic'],
  points: { blocked: 5 },
  tasks: { blocked: 'perimeter' },
  async prepare(session): Promise<State> {
    await startOfWeek(session);
    const env = dlpEnv(session.env);
    const s3 = session.client(S3Client);
    const control = session.client(S3ControlClient);
    const { tag } = runOf(session, 'dlp-object-made-public');
    // The log to expose: a seeded one still there (a responder may have quarantined the leaky ones), else the attacker's own.
    let logKey: string | undefined;
    for (const k of env.objects.supportLogs) if (await present(s3, env.buckets.supportLogs, k)) { logKey = k; break; }
    const saved: Saved = {
      accountBlock: await blockOf(control.send(new GetAccountBlockCommand({ AccountId: session.accountId }))),
      stagingBlock: await blockOf(s3.send(new GetPublicAccessBlockCommand({ Bucket: env.buckets.staging }))),
      logsBlock: await blockOf(s3.send(new GetPublicAccessBlockCommand({ Bucket: env.buckets.supportLogs }))),
      stagingPolicy: await s3.send(new GetBucketPolicyCommand({ Bucket: env.buckets.staging })).then((r) => r.Policy, () => undefined),
    };
    if (logKey) {
      const acl = await s3.send(new GetObjectAclCommand({ Bucket: env.buckets.supportLogs, Key: logKey })).catch(() => undefined);
      if (acl) saved.acl = { ...(acl.Owner ? { Owner: acl.Owner } : {}), ...(acl.Grants ? { Grants: acl.Grants } : {}) };
    }
    return {
      saved, sharedKey: `shared/${tag}/customers.csv`, logKey: logKey ?? `payment-api/debug-${tag}.log`, logIsOurs: !logKey,
      customerFile: env.objects.customerData.find((k) => k.endsWith('.csv')) ?? env.objects.customerData[0]!, changed: {},
    };
  },
  async inject(session, state): Promise<AttackStep[]> {
    const st = state as State;
    const env = dlpEnv(session.env);
    const analyst = companyActors(session).analyst();
    const s3 = clientAs(session, S3Client, analyst);
    const control = clientAs(session, S3ControlClient, analyst);
    const steps: AttackStep[] = [];
    const step = async (description: string, flag: keyof State['changed'], call: () => Promise<unknown>) => {
      const s = await attempt(session, description, call);
      if (s.allowed && !s.errorCode) st.changed[flag] = true;
      steps.push(s);
    };
    await step(`the insider deletes the account's Block Public Access (${env.accountId})`, 'accountBlock', () => control.send(new DeleteAccountBlockCommand({ AccountId: env.accountId })));
    await step(`the insider deletes the Block Public Access of ${env.buckets.staging}`, 'stagingBlock', () => s3.send(new DeletePublicAccessBlockCommand({ Bucket: env.buckets.staging })));
    await step(`the insider deletes the Block Public Access of ${env.buckets.supportLogs}`, 'logsBlock', () => s3.send(new DeletePublicAccessBlockCommand({ Bucket: env.buckets.supportLogs })));
    await step(`the insider copies the customer file to s3://${env.buckets.staging}/${st.sharedKey}`, 'shared', () =>
      s3.send(new CopyObjectCommand({ Bucket: env.buckets.staging, Key: st.sharedKey, CopySource: `${env.buckets.customerData}/${st.customerFile}` })));
    await step(`the insider gives ${env.buckets.staging} a public bucket policy (s3:GetObject for everyone)`, 'stagingPolicy', () => s3.send(new PutBucketPolicyCommand({
      Bucket: env.buckets.staging,
      Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Share', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${env.buckets.staging}/*` }] }),
    })));
    if (st.logIsOurs) {
      await step(`the insider writes a debug log s3://${env.buckets.supportLogs}/${st.logKey}`, 'logObject', async () => {
        const body = await (await s3.send(new GetObjectCommand({ Bucket: env.buckets.customerData, Key: st.customerFile }))).Body!.transformToByteArray();
        return s3.send(new PutObjectCommand({ Bucket: env.buckets.supportLogs, Key: st.logKey, Body: body, ContentType: 'text/plain' }));
      });
    }
    await step(`the insider makes s3://${env.buckets.supportLogs}/${st.logKey} public-read (PutObjectAcl)`, 'acl', () => s3.send(new PutObjectAclCommand({ Bucket: env.buckets.supportLogs, Key: st.logKey, ACL: 'public-read' })));
    ownCredentialsFailed(steps);

    // Anyone on the internet: plain GETs without credentials.
    for (const [bucket, key] of [[env.buckets.staging, st.sharedKey], [env.buckets.supportLogs, st.logKey]] as const) {
      const { step: get } = await httpGet(session, `anyone on the internet GETs s3://${bucket}/${key} without credentials`, objectUrl(session, bucket, key), internetAddress(session));
      steps.push(get);
    }
    return steps;
  },
  async observe(session, steps): Promise<ScenarioResult> {
    const gets = steps.slice(-2);
    const got = gets.filter((g) => g.allowed);
    const blocked = gets.length === 2 && got.length === 0;
    const refused = steps.slice(0, -2).filter((s) => !s.allowed);
    return {
      blocked, detected: false, steps,
      evidence: steps.map((s) => `${s.allowed ? (s.errorCode ? `accepted, then ${s.errorCode}` : 'allowed') : `refused (${s.errorCode})`}: ${s.description}`),
      feedback: blocked
        ? `blocked: no anonymous GET returned data${refused.length ? ` (refused to the insider: ${refused.map((s) => s.description.replace(/^the insider /, '')).join('; ')})` : ''}`
        : `not blocked: ${got.length} of 2 objects readable by anyone (${got.map((g) => g.description.split(' without credentials')[0]!.replace(/^anyone on the internet GETs /, '')).join(', ')}). Account-level Block Public Access, ACLs off on ${dlpEnv(session.env).legacyAclBucket}, and deny the analysts the calls that change public access (Put/DeletePublicAccessBlock, PutBucketPolicy, PutObjectAcl, PutBucketOwnershipControls)`,
    };
  },
  async revert(session, state) {
    const st = state as State | undefined;
    if (!st) return;
    const env = dlpEnv(session.env);
    const s3 = session.client(S3Client);
    const control = session.client(S3ControlClient);
    const ignore = () => undefined;
    await s3.send(new DeleteObjectCommand({ Bucket: env.buckets.staging, Key: st.sharedKey })).catch(ignore);
    if (st.logIsOurs) await s3.send(new DeleteObjectCommand({ Bucket: env.buckets.supportLogs, Key: st.logKey })).catch(ignore);
    // The policy before the Block Public Access that might refuse it; each setting only if the attacker changed it.
    if (st.changed.stagingPolicy) {
      if (st.saved.stagingPolicy) await s3.send(new PutBucketPolicyCommand({ Bucket: env.buckets.staging, Policy: st.saved.stagingPolicy })).catch(ignore);
      else await s3.send(new DeleteBucketPolicyCommand({ Bucket: env.buckets.staging })).catch(ignore);
    }
    if (st.changed.acl && !st.logIsOurs && st.saved.acl) {
      const ownerOnly = (st.saved.acl.Grants ?? []).every((g) => g.Grantee?.ID === st.saved.acl!.Owner?.ID && g.Permission === 'FULL_CONTROL');
      await s3.send(new PutObjectAclCommand(ownerOnly
        ? { Bucket: env.buckets.supportLogs, Key: st.logKey, ACL: 'private' }
        : { Bucket: env.buckets.supportLogs, Key: st.logKey, AccessControlPolicy: st.saved.acl })).catch(ignore);
    }
    if (st.changed.stagingBlock && st.saved.stagingBlock) await s3.send(new PutPublicAccessBlockCommand({ Bucket: env.buckets.staging, PublicAccessBlockConfiguration: st.saved.stagingBlock })).catch(ignore);
    if (st.changed.logsBlock && st.saved.logsBlock) await s3.send(new PutPublicAccessBlockCommand({ Bucket: env.buckets.supportLogs, PublicAccessBlockConfiguration: st.saved.logsBlock })).catch(ignore);
    if (st.changed.accountBlock && st.saved.accountBlock) await control.send(new PutAccountBlockCommand({ AccountId: session.accountId, PublicAccessBlockConfiguration: st.saved.accountBlock })).catch(ignore);
  },
};
