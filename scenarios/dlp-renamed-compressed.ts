// Lab dlp: an insider (a data analyst, from the office) disguises card data before dropping it into
// staging under ordinary seeded names: the extract renamed as a .txt, gzipped as a .log.gz, and zipped
// as a .zip holding export.dat. The lab clock then moves to the quarantine deadline and Macie, EventBridge and
// Lambda do what they do by then. Blocked when all three are out of circulation at the deadline (moved
// to the quarantine bucket by the responder, or tagged and refused to the insider); detected when Macie
// has a sensitive-data finding for each (a job scoped by file extension misses them; Macie reads gzip
// and ZIP and looks inside).
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import type { AttackStep, Scenario, ScenarioResult } from '../src/engine/types.ts';
import { customers, dlpEnv } from '../labs/dlp/company.ts';
import { clientAs, companyActors } from '../labs/dlp/actors.ts';
import { attempt } from './lib/attack.ts';
import { fatesOf, judgeDrops, ownCredentialsFailed, reachDeadline, removeDrops, runOf, startOfWeek, type Drop, fileNames } from './lib/dlp.ts';

interface State { injectedAt: number; drops: Drop[] }

export const renamedCompressedScenario: Scenario = {
  id: 'dlp-renamed-compressed',
  title: 'Card data renamed and compressed to slip past detection',
  description: 'A data analyst drops card data into staging disguised three ways, under ordinary names: renamed as a .txt, gzipped as a .log.gz, and inside a .zip as export.dat. By the quarantine deadline all three must be found and out of circulation.',
  techniques: ['T1560', 'T1027', 'T1074'],
  detections: ['Macie: SensitiveData:S3Object/Financial on each object (Macie analyses the files inside gzip and ZIP archives)'],
  points: { blocked: 3, detected: 2 },
  tasks: { blocked: 'responder', detected: 'job' },
  async prepare(session): Promise<State> {
    await startOfWeek(session);
    const env = dlpEnv(session.env);
    const { tag, rng } = runOf(session, 'dlp-renamed-compressed');
    const b = env.buckets.staging;
    // Seeded ordinary names: a responder cannot pick the drops out by name.
    const [txt, gz, zip] = fileNames(rng, 3);
    return {
      injectedAt: 0,
      drops: [
        { bucket: b, key: `team/${tag}/${txt}.txt`, what: `card data renamed ${txt}.txt`, landed: false },
        { bucket: b, key: `team/${tag}/${gz}.log.gz`, what: `card data gzipped as ${gz}.log.gz`, landed: false },
        { bucket: b, key: `team/${tag}/${zip}.zip`, what: `card data zipped as ${zip}.zip (export.dat)`, landed: false },
      ],
    };
  },
  async inject(session, state): Promise<AttackStep[]> {
    const st = state as State;
    const { rng } = runOf(session, 'dlp-renamed-compressed-data');
    const extract = () => customers(rng, 10).map((c) => `${c.name}; ${c.email}; card ${c.cardNumber} exp ${c.cardExpiry}`).join('\n') + '\n';
    const bodies: Uint8Array[] = [
      Buffer.from(extract()),
      new Uint8Array(gzipSync(extract())),
      zipSync({ 'export.dat': [Buffer.from(extract()), { mtime: new Date('2026-11-30T00:00:00Z') }] }),
    ];
    const types = ['text/plain', 'application/gzip', 'application/zip'];
    const s3 = clientAs(session, S3Client, companyActors(session).analyst());
    st.injectedAt = session.now();
    const steps: AttackStep[] = [];
    for (const [i, drop] of st.drops.entries()) {
      const step = await attempt(session, `the insider drops ${drop.what} into s3://${drop.bucket}/${drop.key}`, async () => {
        drop.etag = (await s3.send(new PutObjectCommand({ Bucket: drop.bucket, Key: drop.key, Body: bodies[i], ContentType: types[i] }))).ETag;
      });
      drop.landed = step.allowed && !step.errorCode;
      steps.push(step);
    }
    ownCredentialsFailed(steps);
    return steps;
  },
  async observe(session, steps, state): Promise<ScenarioResult> {
    const st = state as State;
    await reachDeadline(session, st.injectedAt + dlpEnv(session.env).quarantineDeadlineMs);
    const fates = await fatesOf(session, st.drops, st.injectedAt);
    return judgeDrops(session, { steps, fates, injectedAt: st.injectedAt, what: 'renamed and compressed card data in staging' });
  },
  async revert(session, state) {
    const st = state as State | undefined;
    if (st) await removeDrops(session, st.drops);
  },
};
