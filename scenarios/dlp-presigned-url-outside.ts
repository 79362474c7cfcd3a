// Lab dlp: an insider (a data analyst's session, from the office) presigns a GetObject URL for the
// customer master file and hands it to someone outside, who opens it from an outside address. A
// presigned URL carries the signer's permission to whoever holds it: only a condition on where the call
// comes from (customer-data's bucket policy: the VPC endpoint or the office) or on the kind of
// authentication (s3:authType) refuses it. Blocked when the URL returns no data.
import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { AttackStep, Scenario, ScenarioResult } from '../src/engine/types.ts';
import { dlpEnv } from '../labs/dlp/company.ts';
import { clientAs, companyActors } from '../labs/dlp/actors.ts';
import { httpGet, startOfWeek } from './lib/dlp.ts';

/** Seven days, the longest a SigV4 presigned URL may be valid: what someone sharing data picks. */
const EXPIRES = 7 * 24 * 3600;

interface State { key: string; got?: number }

export const presignedUrlOutsideScenario: Scenario = {
  id: 'dlp-presigned-url-outside',
  title: 'A presigned URL to the customer file, opened from outside',
  description: 'A data analyst presigns a GetObject URL for the customer master file (valid seven days) and sends it outside the company; the recipient opens it from an outside address.',
  techniques: ['T1567', 'T1530'],
  detections: ['CloudTrail: GetObject with authentication by query string (presigned) from an address outside the office and the VPC'],
  points: { blocked: 5 },
  tasks: { blocked: 'network' },
  async prepare(session): Promise<State> {
    await startOfWeek(session);
    const env = dlpEnv(session.env);
    return { key: env.objects.customerData.find((k) => k.endsWith('.csv')) ?? env.objects.customerData[0]! };
  },
  async inject(session, state): Promise<AttackStep[]> {
    const st = state as State;
    const env = dlpEnv(session.env);
    const actors = companyActors(session);
    // Signing is local (no call): the URL is the analyst's permission, usable by whoever holds it.
    const url = await getSignedUrl(clientAs(session, S3Client, actors.analyst()), new GetObjectCommand({ Bucket: env.buckets.customerData, Key: st.key }), { expiresIn: EXPIRES });
    const outsider = actors.outsider();
    const { step, answer } = await httpGet(session, `the outsider opens the insider's presigned URL for s3://${env.buckets.customerData}/${st.key} from ${outsider.sourceIp}`, url, outsider.sourceIp);
    if (step.allowed && answer) st.got = answer.body.length;
    return [step];
  },
  async observe(session, steps, state): Promise<ScenarioResult> {
    const st = state as State;
    const step = steps[0];
    const blocked = !!step && !step.allowed;
    return {
      blocked, detected: false, steps,
      evidence: step ? [`${step.description}: ${step.allowed ? `200, ${st.got ?? 0} bytes of customer data` : step.errorCode}`] : [],
      feedback: blocked
        ? `blocked: the presigned URL opened from outside returned no data (${step!.errorCode})`
        : `not blocked: a presigned URL signed by an analyst returned the customer file to an outside address. Deny s3:GetObject on ${dlpEnv(session.env).buckets.customerData} unless aws:SourceVpce is the company's endpoint or aws:SourceIp the office (a bucket policy), or deny s3:authType REST-QUERY-STRING`,
    };
  },
};
