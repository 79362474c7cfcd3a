// Lab dlp: the company app (in its VPC, through the S3 endpoint) writes an application log to
// support-logs in which one DEBUG line dumps a request with a customer's SSN and card number. The lab
// clock then moves to the quarantine deadline and Macie, EventBridge and Lambda do what they do by then.
// Blocked when, at the deadline, the log is out of circulation (moved to the quarantine bucket by the
// responder, or still there but tagged and refused to the insider). Detected when Macie has a
// sensitive-data finding for it.
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import type { AttackStep, Scenario, ScenarioResult } from '../src/engine/types.ts';
import { customers, dlpEnv, DATA_MONTH } from '../labs/dlp/company.ts';
import { clientAs, companyActors } from '../labs/dlp/actors.ts';
import { attempt } from './lib/attack.ts';
import { fatesOf, judgeDrops, ownCredentialsFailed, reachDeadline, removeDrops, runOf, startOfWeek, type Drop } from './lib/dlp.ts';

interface State { injectedAt: number; drops: Drop[]; tag: string }

export const piiInLogScenario: Scenario = {
  id: 'dlp-pii-in-log',
  title: 'An SSN and a card number smuggled into a support log',
  description: 'The company app writes its log to support-logs; one DEBUG line dumps a verification request with the customer\'s SSN and card number. By the quarantine deadline the log must be found and out of circulation.',
  techniques: ['T1074'],
  detections: ['Macie: SensitiveData:S3Object/Multiple (SSN and card number) on the log object'],
  points: { blocked: 3, detected: 2 },
  tasks: { blocked: 'responder', detected: 'job' },
  async prepare(session): Promise<State> {
    await startOfWeek(session);
    const env = dlpEnv(session.env);
    const { tag } = runOf(session, 'dlp-pii-in-log');
    return { injectedAt: 0, tag, drops: [{ bucket: env.buckets.supportLogs, key: `payment-api/${DATA_MONTH}-30-${tag}.log`, what: 'the log with an SSN and a card number', landed: false }] };
  },
  async inject(session, state): Promise<AttackStep[]> {
    const st = state as State;
    const { rng } = runOf(session, 'dlp-pii-in-log-data');
    const [who, ...others] = customers(rng, 6);
    const at = (i: number) => `${DATA_MONTH}-30T09:${String(10 + i).padStart(2, '0')}:${String(rng.int(0, 59)).padStart(2, '0')}Z`;
    const rid = () => Array.from({ length: 12 }, () => '0123456789abcdef'[rng.int(0, 15)]).join('');
    const lines = others.map((c, i) => `${at(i)} INFO payment-api request_id=${rid()} POST /v1/charges status=201 customer=${c.customerId} card_ref=${c.cardRef} latency_ms=${rng.int(40, 900)}`);
    lines.splice(2, 0, `${at(9)} DEBUG payment-api request_id=${rid()} verify payload={"customer_id":"${who!.customerId}","ssn":"${who!.ssn}","card_number":"${who!.cardNumber}","exp":"${who!.cardExpiry}"}`);
    const app = clientAs(session, S3Client, companyActors(session).app());
    const drop = st.drops[0]!;
    st.injectedAt = session.now();
    const step = await attempt(session, `the app writes its log with a DEBUG line holding an SSN and a card number to s3://${drop.bucket}/${drop.key}`, async () => {
      drop.etag = (await app.send(new PutObjectCommand({ Bucket: drop.bucket, Key: drop.key, Body: lines.join('\n') + '\n', ContentType: 'text/plain' }))).ETag;
    });
    drop.landed = step.allowed && !step.errorCode;
    ownCredentialsFailed([step]);
    return [step];
  },
  async observe(session, steps, state): Promise<ScenarioResult> {
    const st = state as State;
    await reachDeadline(session, st.injectedAt + dlpEnv(session.env).quarantineDeadlineMs);
    const fates = await fatesOf(session, st.drops, st.injectedAt);
    return judgeDrops(session, { steps, fates, injectedAt: st.injectedAt, what: 'PII in a support log' });
  },
  async revert(session, state) {
    const st = state as State | undefined;
    if (st) await removeDrops(session, st.drops);
  },
};
