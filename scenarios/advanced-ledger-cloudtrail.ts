// Lab advanced-ledger, attack 7: tamper with CloudTrail. The ledger's entries point at CloudTrail events;
// ops-admin removes the source: deletes the trail's log file holding their reads of customer records (and
// each of its versions), rewrites the file holding their change without their record (and deletes the
// original versions), then stops the trail's logging. The trail bucket is the company's, provisioned
// without Object Lock: graded on detection only. Detected when the audit reports, at the position of each
// of the attacker's entries whose CloudTrail record was removed, that its source event is missing from (or
// altered in) the trail's files: the ledger kept what the trail lost.
import { S3Client, DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { CloudTrailClient, StartLoggingCommand, StopLoggingCommand } from '@aws-sdk/client-cloudtrail';
import type { AttackStep, Scenario } from '../src/engine/types.ts';
import { attempt } from './lib/attack.ts';
import {
  attackerClient, attackerPut, deleteVersions, judge, listVersions, notRun, plain, prepareAttack, readBody, restore, revertCommon, save,
  tick, type Prepared, type Snapshot,
} from './advanced-ledger-shared.ts';
import { gunzipSync, gzipSync } from 'node:zlib';

interface State extends Prepared {
  files?: { key: string; events: string[]; how: 'deleted' | 'rewritten' }[];
  removed?: number[];
  trailBefore?: Snapshot;
  stopped?: boolean;
}

interface Records { Records: { eventID?: string }[] }

export const ledgerCloudTrailScenario: Scenario = {
  id: 'ledger-cloudtrail-tampering',
  title: 'An administrator deletes and rewrites CloudTrail log files and stops logging',
  description: 'ops-admin deletes the trail\'s log file with their reads (every version), rewrites the one with their change without it, and stops the trail.',
  techniques: ['T1070', 'T1562.008'],
  detections: ['ledger audit: source-log-missing', 'ledger audit: source-log-altered', 'ledger audit: logging-stopped'],
  points: { blocked: 0, detected: 6 },
  tasks: { detected: 'feed' },
  prepare: (session) => prepareAttack(session, 'cloudtrail'),
  async inject(session, state) {
    const st = state as State;
    if (!st.logged) return [];
    // The ledger itself is not touched (and the feed goes on appending): revert leaves it alone.
    st.before = undefined;
    const t = st.target;
    const s3 = attackerClient(session, t, S3Client);
    const bucket = t.env.trail.bucket;
    const root = session.client(S3Client);
    // The trail's log files holding the attacker's events.
    const prefix = `AWSLogs/${t.env.accountId}/CloudTrail/`;
    const keys: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const r = await root.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken }));
      keys.push(...(r.Contents ?? []).map((o) => o.Key!).filter((k) => k.includes(prefix) && k.endsWith('.json.gz')));
      ContinuationToken = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (ContinuationToken);
    const ids = new Set(st.events.map((e) => e.eventID));
    const holding: { key: string; events: string[] }[] = [];
    for (const key of keys.sort().reverse()) {
      const body = await readBody(root, bucket, key);
      if (!body) continue;
      const recs = (JSON.parse(gunzipSync(body).toString('utf8')) as Records).Records ?? [];
      const found = recs.map((r) => r.eventID ?? '').filter((id) => ids.has(id));
      if (found.length) holding.push({ key, events: found });
    }
    if (!holding.length) {
      st.why = `the trail bucket ${bucket} holds no log file with the attacker's events (CloudTrail delivery to S3)`;
      return [];
    }
    st.trailBefore = new Map();
    for (const h of holding) {
      await save(session, st, bucket, h.key);
      for (const [k, v] of await listVersions(root, bucket, h.key)) st.trailBefore.set(k, v);
    }
    // The reads' file is deleted; another file (the change's, when it is another) is rewritten without them.
    const reads = holding.find((h) => h.events.some((id) => st.events.find((e) => e.eventID === id)?.eventName === 'GetObject')) ?? holding[0]!;
    st.files = holding.map((h) => ({ ...h, how: h === reads ? 'deleted' : 'rewritten' }));
    const steps: AttackStep[] = [];
    for (const f of st.files) {
      const versions = ((await listVersions(root, bucket, f.key)).get(f.key) ?? []).filter((v) => !v.deleteMarker).map((v) => v.versionId);
      if (f.how === 'deleted') {
        steps.push(await attempt(session, `DeleteObject ${f.key} (the log file with ops-admin's reads)`, () => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: f.key }))));
      } else {
        const recs = JSON.parse(gunzipSync((await readBody(s3, bucket, f.key) ?? await readBody(root, bucket, f.key))!).toString('utf8')) as Records;
        const kept = { ...recs, Records: recs.Records.filter((r) => !ids.has(r.eventID ?? '')) };
        steps.push(...await attackerPut(session, st, bucket, f.key, gzipSync(JSON.stringify(kept)), `PutObject ${f.key}: rewritten without ops-admin's ${f.events.length} record(s)`));
      }
      if (versions.length) steps.push(plain(await deleteVersions(session, st, bucket, f.key, versions, 'the original log file')));
    }
    const ct = attackerClient(session, t, CloudTrailClient);
    const stop = await attempt(session, `cloudtrail:StopLogging ${t.env.trail.name}`, () => ct.send(new StopLoggingCommand({ Name: t.env.trail.name })));
    steps.push(stop);
    st.stopped = stop.allowed;
    // A few minutes pass: the StopLogging call itself is delivered (nothing after it).
    for (let i = 0; i < 3; i++) await tick(session);
    st.removed = st.files.flatMap((f) => f.events).map((id) => st.events.find((e) => e.eventID === id)!.index!);
    return steps;
  },
  async observe(session, steps, state) {
    const st = state as State;
    if (!st.removed) return notRun(st, steps);
    const need = new Set(st.removed);
    return judge(session, st, steps, {
      kinds: ['source-log-missing', 'source-log-altered'],
      at: (d) => d.index !== undefined && need.has(d.index),
      what: `the entries ${[...need].join(', ')} whose CloudTrail records were removed`,
      needs: 'the audit must compare each entry with the trail\'s log files (audit task) — the ledger keeps what the trail lost only if the feed logged it first (feed task)',
      lacks: (found) => {
        const missed = [...need].filter((i) => !found.some((d) => d.index === i));
        return missed.length ? `the audit flagged only part of the removed CloudTrail records (not the entries ${missed.join(', ')})` : undefined;
      },
    });
  },
  async revert(session, state) {
    const st = state as State;
    if (st.trailBefore) await restore(session, st.target.env.trail.bucket, 'AWSLogs/', st.trailBefore, st.saved, true).catch(() => undefined);
    await revertCommon(session, st);
    if (st.stopped) await session.client(CloudTrailClient).send(new StartLoggingCommand({ Name: st.target.env.trail.name })).catch(() => undefined);
  },
};
