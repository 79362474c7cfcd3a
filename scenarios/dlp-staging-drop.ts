// Lab dlp: an insider (a data analyst, from the office) drops an extract of customers with their card
// numbers into the staging bucket, with a harmless file beside it; the lab clock then moves to the
// quarantine deadline (env.quarantineDeadlineMs after the drop) and Macie, EventBridge and Lambda do what
// they do by then. Blocked when, at the deadline, the card file is out of circulation (moved to the
// quarantine bucket by the responder, or still there but tagged and refused to the insider) and the
// harmless file is still in staging and readable (a responder that empties staging blocks nothing).
// Detected when Macie has a sensitive-data finding for the card file.
import { S3Client, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { AttackStep, Scenario, ScenarioResult } from '../src/engine/types.ts';
import { customers, dlpEnv } from '../labs/dlp/company.ts';
import { clientAs, companyActors } from '../labs/dlp/actors.ts';
import { attempt } from './lib/attack.ts';
import { fatesOf, judgeDrops, ownCredentialsFailed, reachDeadline, removeDrops, runOf, startOfWeek, type Drop, fileNames } from './lib/dlp.ts';

interface State { injectedAt: number; drops: Drop[]; harmless: Drop & { body: string } }

const HARMLESS = 'Agenda, data team weekly\n1. Warehouse migration status\n2. Dashboard requests from finance\n3. On-call rota for December\n';

export const stagingDropScenario: Scenario = {
  id: 'dlp-staging-drop',
  title: 'Card data dropped into staging',
  description: 'A data analyst drops an extract of customers with card numbers, SSNs and emails into the staging bucket (with a harmless meeting agenda beside it) and leaves it there. By the quarantine deadline it must be found and out of circulation; the agenda must stay.',
  techniques: ['T1074', 'T1530'],
  detections: ['Macie: SensitiveData:S3Object/Financial (or /Multiple) on the staging object'],
  points: { blocked: 3, detected: 2 },
  tasks: { blocked: 'responder', detected: 'job' },
  async prepare(session): Promise<State> {
    await startOfWeek(session);
    const env = dlpEnv(session.env);
    const { tag, rng } = runOf(session, 'dlp-staging-drop');
    // Seeded ordinary names, the harmless file's drawn from the same list: only the content tells them apart.
    const [card, harmless] = fileNames(rng, 2);
    const harmlessExt = rng.pick(['csv', 'txt']);
    return {
      injectedAt: 0,
      drops: [{ bucket: env.buckets.staging, key: `uploads/${tag}/${card}.csv`, what: 'the card extract', landed: false }],
      harmless: { bucket: env.buckets.staging, key: `uploads/${tag}/${harmless}.${harmlessExt}`, what: 'the harmless agenda', landed: false, body: HARMLESS },
    };
  },
  async inject(session, state): Promise<AttackStep[]> {
    const st = state as State;
    const { rng } = runOf(session, 'dlp-staging-drop-data');
    const people = customers(rng, 12);
    const csv = ['customer_id,name,email,ssn,card_number,card_expiry', ...people.map((c) => [c.customerId, c.name, c.email, c.ssn, c.cardNumber, c.cardExpiry].join(','))].join('\n') + '\n';
    const s3 = clientAs(session, S3Client, companyActors(session).analyst());
    st.injectedAt = session.now();
    const steps: AttackStep[] = [];
    const card = st.drops[0]!;
    steps.push(await attempt(session, `the insider drops card data into s3://${card.bucket}/${card.key}`, async () => {
      card.etag = (await s3.send(new PutObjectCommand({ Bucket: card.bucket, Key: card.key, Body: csv, ContentType: 'text/csv' }))).ETag;
    }));
    card.landed = !!steps[0]!.allowed && !steps[0]!.errorCode;
    const h = st.harmless;
    const put = await attempt(session, `the insider drops a harmless file beside it, s3://${h.bucket}/${h.key}`, () => s3.send(new PutObjectCommand({ Bucket: h.bucket, Key: h.key, Body: h.body, ContentType: 'text/plain' })));
    h.landed = put.allowed && !put.errorCode;
    steps.push(put);
    ownCredentialsFailed(steps);
    return steps;
  },
  async observe(session, steps, state): Promise<ScenarioResult> {
    const st = state as State;
    await reachDeadline(session, st.injectedAt + dlpEnv(session.env).quarantineDeadlineMs);
    const fates = await fatesOf(session, st.drops, st.injectedAt);
    // The harmless file: still there, and the insider reads it as it was.
    const h = st.harmless;
    const insider = clientAs(session, S3Client, companyActors(session).analyst());
    let body: string | undefined;
    const read = await attempt(session, `at the deadline, the insider reads the harmless s3://${h.bucket}/${h.key}`, async () => {
      body = await (await insider.send(new GetObjectCommand({ Bucket: h.bucket, Key: h.key }))).Body!.transformToString();
    });
    ownCredentialsFailed([read]);
    const readable = read.allowed && !read.errorCode;
    const ok = h.landed && readable && body === h.body;
    const what = ok ? `the harmless file is still in ${h.bucket} and readable`
      : !h.landed ? `the harmless file could not even be dropped into ${h.bucket} (the analysts must still be able to use staging)`
        : `the harmless file s3://${h.bucket}/${h.key} is ${readable ? 'changed' : `gone or unreadable (${read.errorCode})`} at the deadline: quarantine what Macie found, not everything in staging`;
    return judgeDrops(session, { steps, fates, injectedAt: st.injectedAt, also: [{ ok, what }], what: 'card data dropped into staging' });
  },
  async revert(session, state) {
    const st = state as State | undefined;
    if (st) await removeDrops(session, [...st.drops, st.harmless]);
  },
};
