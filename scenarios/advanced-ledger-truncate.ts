// Lab advanced-ledger, attack 4: truncate the log. ops-admin puts back the checkpoint they copied before
// touching customer records (genuine, signed by the ledger's key, just older), deletes the tiles and entry
// bundles of everything after it, and tries to delete the newer checkpoint versions (the evidence). The
// log the bucket serves is then a valid, consistent, smaller log: only something that saw the larger one
// can tell — the witness (its cosigned size) or the Object Lock anchors. Nothing in AWS refuses it (the
// checkpoint is simply overwritten): graded on detection only.
import { S3Client } from '@aws-sdk/client-s3';
import type { AttackStep, Scenario } from '../src/engine/types.ts';
import { parseTilePath } from '../src/controls/ledger/tiles.ts';
import {
  askWitness, attackerClient, attackerPut, batchStep, deleteVersions, judge, ledgerRoleClient, listVersions, noteSize, notRun, objectKey, plain, prepareAttack, readBody,
  revertCommon, save,
  type Prepared,
} from './advanced-ledger-shared.ts';
import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';

interface State extends Prepared { oldSize?: number; size?: number }

/** The number of entries up to the end of a tile or bundle path (tile/<L>/<N>[.p/<W>], tile/entries/<N>[.p/<W>]). */
export function coverageEnd(path: string): number | undefined {
  const p = parseTilePath(path);
  return p ? (p.n * 256 + p.width) * 256 ** Math.max(0, p.level) : undefined;
}

export const ledgerTruncateScenario: Scenario = {
  id: 'ledger-truncate',
  title: 'An administrator truncates the ledger to an older checkpoint',
  description: 'ops-admin puts back a checkpoint from before their reads, deletes the tiles and bundles after it and the newer checkpoint versions.',
  techniques: ['T1070', 'T1565.001'],
  detections: ['ledger audit: truncated', 'ledger audit: stale-checkpoint'],
  points: { blocked: 0, detected: 7 },
  tasks: { detected: 'witness' },
  prepare: (session) => prepareAttack(session, 'truncate'),
  async inject(session, state) {
    const st = state as State;
    if (!st.logged) return [];
    const t = st.target;
    const s3 = attackerClient(session, t, S3Client);
    const first = Math.min(...st.events.map((e) => e.index!));
    if (!st.earlier || noteSize(st.earlier) > first) {
      st.why = 'the ledger had no checkpoint before the attacker\'s reads';
      return [];
    }
    st.oldSize = noteSize(st.earlier);
    st.size = st.logged.size;
    const steps: AttackStep[] = [];
    const ckKey = objectKey(t.ledger.prefix, 'checkpoint');
    await save(session, st, t.ledger.bucket, ckKey);
    steps.push(...await attackerPut(session, st, t.ledger.bucket, ckKey, Buffer.from(st.earlier), `PutObject checkpoint: the older checkpoint of ${st.oldSize} entries put back (the log had ${st.size})`));
    // The tail: every tile and bundle that reaches past the old size.
    const prefix = objectKey(t.ledger.prefix, 'tile/');
    const tail: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const r = await s3.send(new ListObjectsV2Command({ Bucket: t.ledger.bucket, Prefix: prefix, ContinuationToken }));
      for (const o of r.Contents ?? []) {
        const path = o.Key!.slice(prefix.length - 'tile/'.length);
        const end = coverageEnd(path);
        if (end !== undefined && end > st.oldSize) tail.push(o.Key!);
      }
      ContinuationToken = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (ContinuationToken);
    for (const k of tail) await save(session, st, t.ledger.bucket, k);
    const left = new Set(tail);
    const deleteTail = async (client: S3Client, who: string) => {
      const keys = [...left];
      const b = await batchStep(session, `DeleteObject of the ${keys.length} tiles and bundles past entry ${st.oldSize}${who}`,
        keys.map((k) => async () => {
          await client.send(new DeleteObjectCommand({ Bucket: t.ledger.bucket, Key: k }));
          left.delete(k);
        }));
      if (b.done) st.altered.push(b.description);
      steps.push(plain(b));
    };
    await deleteTail(s3, '');
    if (left.size) {
      // Refused: as the ledger role (taken over through its trust policy), which the feed writes as.
      const role = await ledgerRoleClient(session, st, S3Client);
      steps.push(...role.steps);
      if (role.client) await deleteTail(role.client, ' as the ledger role');
    }
    // The evidence: the newer checkpoints in the bucket's versions.
    const versions = (await listVersions(session.client(S3Client), t.ledger.bucket, ckKey)).get(ckKey) ?? [];
    const newer: string[] = [];
    for (const v of versions.filter((x) => !x.deleteMarker && !x.isLatest)) {
      const body = await readBody(session.client(S3Client), t.ledger.bucket, ckKey, v.versionId);
      if (body && noteSize(body.toString('utf8')) > st.oldSize) newer.push(v.versionId);
    }
    if (newer.length) steps.push(plain(await deleteVersions(session, st, t.ledger.bucket, ckKey, newer, 'hiding the newer checkpoints')));
    // The witness, asked as the feed asks it, to cosign the older checkpoint again (old = its size, no
    // proof): a witness that remembers the larger size refuses; one that cosigns vouches for the rollback.
    const w = await askWitness(session, st, st.oldSize, [], st.earlier, `the older checkpoint of ${st.oldSize} entries`);
    steps.push(...w.steps);
    if (w.cosigned) {
      st.witnessCosigned = `the older checkpoint of ${st.oldSize} entries`;
      steps.push(...await attackerPut(session, st, t.ledger.bucket, ckKey, Buffer.from(w.cosigned), 'PutObject checkpoint: the older checkpoint with the witness\'s new cosignature'));
    }
    return steps;
  },
  async observe(session, steps, state) {
    const st = state as State;
    if (st.oldSize === undefined) return notRun(st, steps);
    return judge(session, st, steps, {
      kinds: ['truncated', 'stale-checkpoint'],
      at: (d) => d.index === undefined || (d.index >= st.oldSize! && d.index <= st.size!),
      what: `the log cut from ${st.size} back to ${st.oldSize} entries`,
      preventable: true,
      needs: 'an older checkpoint signed by the log key is valid by itself: only a witness that cosigned the larger size (witness task) or anchors under Object Lock (anchor task) show the log was longer',
    });
  },
  revert: (session, state) => revertCommon(session, state as State),
};
