// Lab dlp (in progress, no lab.ts yet): the account as provisioned. The same seed gives the same data,
// another seed other data; the DLP engine finds raw card numbers and SSNs where the company keeps them
// (customer-data) and where they leaked (support-logs), nothing raw in the partner's de-identified
// exports, and in qa-fixtures only test data (the allow list's job, documented below).
import { describe, expect, it } from 'vitest';
import { S3Client, GetObjectCommand, ListObjectsV2Command, GetBucketPolicyCommand, GetBucketOwnershipControlsCommand, GetPublicAccessBlockCommand } from '@aws-sdk/client-s3';
import { LabSession } from '../../src/engine/session.ts';
import { findSensitiveData, isCardNumber, isSsn, scanObject, testCustomDataIdentifier, type Detection } from '../../src/controls/dlp/index.ts';
import { provisionDlp, type DlpHidden } from '../../labs/dlp/provision.ts';
import { FORMATS, TEST_CARD_NUMBERS, dataset, type BucketRole, type DlpLabEnv } from '../../labs/dlp/company.ts';
import { Random } from '../../src/engine/random.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
const ROLES: BucketRole[] = ['customerData', 'supportLogs', 'analyticsExports', 'staging', 'qaFixtures', 'quarantine'];

async function provision(seed: string) {
  const session = new LabSession(cloud(), cloud().createAccount(), seed);
  const env = await provisionDlp(session);
  const s3 = session.client(S3Client);
  const contents: Record<string, Record<string, Uint8Array>> = {};
  for (const r of ROLES) {
    contents[r] = {};
    const keys = (await s3.send(new ListObjectsV2Command({ Bucket: env.buckets[r] }))).Contents?.map((c) => c.Key!) ?? [];
    expect(keys.sort()).toEqual([...env.objects[r]].sort());
    for (const k of keys) contents[r]![k] = await (await s3.send(new GetObjectCommand({ Bucket: env.buckets[r], Key: k }))).Body!.transformToByteArray();
  }
  return { session, env: env as DlpLabEnv, s3, contents, hidden: session.hidden['dlp'] as DlpHidden };
}

const types = (d: readonly Detection[]) => new Set(d.filter((x) => x.count > 0).map((x) => x.type));
const ALL = { managed: { selection: 'ALL' as const } };

describe('lab dlp: provisioning', () => {
  let a: Awaited<ReturnType<typeof provision>>;

  it('the same seed gives the same objects; another seed other ones', async () => {
    a = await provision('dlp-seed-1');
    const b = await provision('dlp-seed-1');
    const c = await provision('dlp-seed-2');
    expect(b.env.buckets.customerData).not.toBe(a.env.buckets.customerData); // run ids differ
    expect(b.env.formats).toEqual(a.env.formats);
    for (const r of ROLES) {
      expect(Object.keys(b.contents[r]!)).toEqual(Object.keys(a.contents[r]!));
      for (const k of Object.keys(a.contents[r]!)) expect(Buffer.from(b.contents[r]![k]!).equals(Buffer.from(a.contents[r]![k]!)), `${r}/${k}`).toBe(true);
    }
    for (const r of ['customerData', 'supportLogs', 'analyticsExports', 'qaFixtures'] as const) {
      for (const k of Object.keys(a.contents[r]!)) expect(Buffer.from(c.contents[r]![k]!).equals(Buffer.from(a.contents[r]![k]!)), `${r}/${k}`).toBe(false);
    }
    expect(c.env.formats.customerId.example).not.toBe(a.env.formats.customerId.example);
  }, 120_000);

  it('builds the account as the student finds it: partner and outsider accounts, the partner reading the whole analytics bucket, a legacy ACL bucket', async () => {
    const { env, s3, hidden, session } = a;
    expect(env.partner.accountId).not.toBe(session.accountId);
    expect(hidden.outside.accountId).not.toBe(session.accountId);
    expect(hidden.outside.accountId).not.toBe(env.partner.accountId);
    expect(JSON.stringify(env)).not.toContain(hidden.outside.accountId);
    expect(env.formats.customerId.example).toMatch(/^CP-CUST-\d{8}$/);
    expect(env.formats.cardReference.example).toMatch(/^cref_[a-z2-7]{24}$/);
    const policy = JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: env.buckets.analyticsExports }))).Policy!);
    expect(JSON.stringify(policy)).toContain(`arn:aws:s3:::${env.buckets.analyticsExports}/*`); // too broad: the student narrows it to deidentified/*
    const ownership = await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: env.legacyAclBucket }));
    expect(ownership.OwnershipControls?.Rules?.[0]?.ObjectOwnership).toBe('ObjectWriter');
    await expect(s3.send(new GetPublicAccessBlockCommand({ Bucket: env.legacyAclBucket }))).rejects.toThrow();
    // The partner reads its exports today (and, too broadly, the internal aggregates).
    const partner = session.client(S3Client, { credentials: hidden.partnerRoot });
    for (const key of env.objects.analyticsExports) {
      const got = await partner.send(new GetObjectCommand({ Bucket: env.buckets.analyticsExports, Key: key }));
      expect(got.$metadata.httpStatusCode).toBe(200);
    }
    await expect(partner.send(new GetObjectCommand({ Bucket: env.buckets.customerData, Key: env.objects.customerData[0]! }))).rejects.toThrow();
  });

  it('customer-data and support-logs hold raw card numbers and SSNs the engine finds (CSV, JSON Lines, JSON, text, gzip)', async () => {
    const found: Record<string, Set<string>> = {};
    for (const r of ['customerData', 'supportLogs'] as const) {
      for (const [k, bytes] of Object.entries(a.contents[r]!)) {
        const res = await scanObject(k, bytes, ALL);
        expect(res.status, `${r}/${k}`).toBe('COMPLETE');
        found[`${r}/${k}`] = types(res.detections);
      }
    }
    for (const [k, t] of Object.entries(found)) expect(t.has('CREDIT_CARD_NUMBER') || t.has('USA_SOCIAL_SECURITY_NUMBER'), `${k}: ${[...t]}`).toBe(true);
    const all = new Set(Object.values(found).flatMap((s) => [...s]));
    for (const id of ['CREDIT_CARD_NUMBER', 'USA_SOCIAL_SECURITY_NUMBER', 'EMAIL_ADDRESS', 'PHONE_NUMBER', 'INTERNATIONAL_BANK_ACCOUNT_NUMBER']) expect(all, id).toContain(id);
    // The smuggled lines: the support desk's tickets carry SSNs and cards typed by customers.
    const tickets = Object.entries(found).find(([k]) => k.includes('support-desk'))![1];
    expect(tickets).toContain('USA_SOCIAL_SECURITY_NUMBER');
    expect(tickets).toContain('CREDIT_CARD_NUMBER');
    // The seeded values are what they claim: every card passes Luhn in an issuer range, every SSN is issuable.
    const master = Buffer.from(a.contents.customerData![Object.keys(a.contents.customerData!).find((k) => k.endsWith('.csv'))!]!).toString('utf8');
    const rows = master.trim().split('\n').slice(1).map((l) => l.split(','));
    expect(rows.length).toBe(40);
    for (const row of rows) {
      expect(isCardNumber(row[7]!), row[7]).toBe(true);
      expect(TEST_CARD_NUMBERS).not.toContain(row[7]);
      expect(isSsn(row[6]!.replace(/-/g, '')), row[6]).toBe(true);
    }
  });

  it('analytics-exports holds nothing raw: card references, hashes and tokens only', async () => {
    for (const [k, bytes] of Object.entries(a.contents.analyticsExports!)) {
      const res = await scanObject(k, bytes, ALL);
      expect(res.status).toBe('COMPLETE');
      expect([...types(res.detections)], k).toEqual([]);
    }
    const text = Buffer.from(a.contents.analyticsExports![a.env.objects.analyticsExports.find((k) => k.startsWith('deidentified/'))!]!).toString('utf8');
    expect(text).toMatch(/cref_[a-z2-7]{24}/);
    expect(text).not.toMatch(/CP-CUST-\d{8}/);
    expect(text).not.toContain('@');
  });

  it('qa-fixtures holds only test data; the engine still matches its test cards, example.com emails and 555-01xx phones (the allow list\'s job), never its 000-xx SSNs', async () => {
    const matched = new Set<string>();
    for (const [k, bytes] of Object.entries(a.contents.qaFixtures!)) {
      const res = await scanObject(k, bytes, ALL);
      for (const t of types(res.detections)) matched.add(t);
      const text = Buffer.from(bytes).toString('utf8');
      for (const m of findSensitiveData(text, ALL)) {
        if (m.type === 'CREDIT_CARD_NUMBER' || m.type === 'CREDIT_CARD_NUMBER_(NO_KEYWORD)') expect(TEST_CARD_NUMBERS, m.value).toContain(m.value.replace(/\D/g, ''));
        if (m.type === 'EMAIL_ADDRESS') expect(m.value).toMatch(/@example\.com$/);
        if (m.type === 'PHONE_NUMBER') expect(m.value).toMatch(/555-01\d\d$/);
      }
    }
    // What the allow list has to cover (documented for the workbook): published test cards and example.com emails.
    expect(matched).toContain('CREDIT_CARD_NUMBER');
    expect(matched).toContain('EMAIL_ADDRESS');
    // Area 000 is never issued: Macie's SSN identifier does not match them, no allow list needed.
    expect(matched).not.toContain('USA_SOCIAL_SECURITY_NUMBER');
    expect(a.contents.staging).toEqual({});
    expect(a.contents.quarantine).toEqual({});
  });

  it('whatever the seed, the support logs leak at least one card and one SSN; the company formats match its own ids', async () => {
    for (const seed of ['s1', 's2', 's3', 's4', 's5', 's6']) {
      const d = dataset(new Random(seed));
      for (const o of d.objects.supportLogs) {
        const t = types((await scanObject(o.key, typeof o.body === 'string' ? Buffer.from(o.body) : o.body, ALL)).detections);
        expect(t.has('CREDIT_CARD_NUMBER'), `${seed} ${o.key}`).toBe(true);
        if (o.key.startsWith('support-desk/')) expect(t.has('USA_SOCIAL_SECURITY_NUMBER'), `${seed} ${o.key}`).toBe(true);
      }
      const master = d.objects.customerData.find((o) => o.key.endsWith('.csv'))!.body as string;
      expect(testCustomDataIdentifier({ regex: FORMATS.customerId.regex }, master)).toBe(40);
      expect(testCustomDataIdentifier({ regex: FORMATS.cardReference.regex }, master)).toBe(40);
      const partnerFile = d.objects.analyticsExports.find((o) => o.key.startsWith('deidentified/'))!.body as string;
      expect(testCustomDataIdentifier({ regex: FORMATS.customerId.regex }, partnerFile)).toBe(0);
    }
  });
});
