// Lab siem: the orders application's key was stolen from its server (an SSRF to the metadata service, say) and is
// used from a hosting provider's address to download the customer exports one by one. Every call is allowed: only
// the S3 data events of the customer-data bucket show it.
import { S3Client, ListObjectsV2Command, GetObjectCommand } from '@aws-sdk/client-s3';
import type { Scenario } from '../src/engine/types.ts';
import { attempt } from './lib/attack.ts';
import { APP_USER, EXPORTS, randomRogueIp } from '../labs/siem/company.ts';
import { keyOf, labEnv, MINUTE } from '../labs/siem/background.ts';
import { injecting, observeAttack, siemRun } from '../labs/siem/run.ts';

interface State { ip: string; creds: { accessKeyId: string; secretAccessKey: string }; start: number }
const STOLEN = 40;

export const s3Exfiltration: Scenario = {
  id: 's3-exfiltration',
  title: "Bulk download of customer data with the app's stolen key",
  description: `The orders application's key is used from a foreign hosting address to list the customer exports and download ${STOLEN} of them in a few minutes. Every call is allowed.`,
  techniques: ['T1530', 'T1552.005'],
  detections: ['seclab: Bulk S3 Object Reads From One Address'],
  points: { blocked: 0, detected: 10 },
  async prepare(session): Promise<State> {
    const creds = keyOf(session, APP_USER);
    if (!creds) throw new Error(`${APP_USER} has no access key to steal`);
    return { ip: randomRogueIp(), creds, start: 0 };
  },
  async inject(session, state) {
    const st = state as State;
    return injecting(session, st, async (run) => {
      const bucket = labEnv(session).buckets.customerData;
      const s3 = session.client(S3Client, { credentials: st.creds, sourceIp: st.ip, userAgent: 'aws-cli/1.29.0 Python/3.8 rclone' });
      const steps = [await attempt(session, 'list the customer exports', () => s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'exports/' })))];
      let ok = 0;
      let refused = 0;
      for (const key of EXPORTS.slice(0, STOLEN)) {
        try {
          const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
          await out.Body?.transformToByteArray();
          ok++;
        } catch {
          refused++;
        }
      }
      const step = { description: `download ${STOLEN} customer exports: ${ok} downloaded${refused ? `, ${refused} refused` : ''}`, allowed: ok > 0, ...(refused ? { errorCode: 'AccessDenied' } : {}), at: st.start };
      session.onAttackStep?.(step);
      steps.push(step);
      return steps;
    });
  },
  async observe(session, steps, state) {
    const st = state as State;
    return observeAttack(session, await siemRun(session), st.start, steps, {
      what: 'the bulk download of customer exports',
      techniques: ['T1530', 'T1537', 'T1567', 'T1048', 'T1020'],
      tactics: ['collection', 'exfiltration'],
      isAttack: (e) => e.fields['sourceIPAddress'] === st.ip,
      deadlineMs: 15 * MINUTE,
      hint: 'GetObject is an S3 data event: the trail records it only with an event selector for the customer-data bucket. Then count distinct objects read per source address (value_count).',
    });
  },
};
