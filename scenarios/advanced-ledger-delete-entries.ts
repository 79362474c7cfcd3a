// Lab advanced-ledger, attack 2: delete entries. ops-admin deletes the entry bundle holding their read of a
// customer record (a delete marker), then each of its versions, so no copy survives; a governance lock
// refuses, so they try again bypassing it (AdministratorAccess allows s3:BypassGovernanceRetention).
// Blocked when no version could be deleted: Object Lock in COMPLIANCE mode (or a lock whose bypass is
// denied) on the ledger bucket. Detected when the audit reports the bundle's entries missing at their
// positions (the level-0 tile and the signed root still say they were there).
import { S3Client } from '@aws-sdk/client-s3';
import type { AttackStep, Scenario } from '../src/engine/types.ts';
import { attempt } from './lib/attack.ts';
import {
  attackerClient, attackerDeleteVersion, bundleOf, hiddenRead, judge, listVersions, notRun, objectKey, prepareAttack, revertCommon, save,
  type Prepared,
} from './advanced-ledger-shared.ts';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';

interface State extends Prepared { range?: { start: number; end: number; path: string }; versions?: number; deleted?: number }

export const ledgerDeleteEntriesScenario: Scenario = {
  id: 'ledger-delete-entries',
  title: 'An administrator deletes ledger entries and every version of them',
  description: 'ops-admin deletes the entry bundle that holds their GetObject, then each of its versions (with the governance bypass when refused).',
  techniques: ['T1070', 'T1485'],
  detections: ['ledger audit: missing-entry'],
  points: { blocked: 4, detected: 4 },
  tasks: { detected: 'signing', blocked: 'anchor' },
  prepare: (session) => prepareAttack(session, 'delete-entries'),
  async inject(session, state) {
    const st = state as State;
    if (!st.logged) return [];
    const t = st.target;
    const s3 = attackerClient(session, t, S3Client);
    const read = hiddenRead(st);
    const b = bundleOf(read.index!, st.logged.size);
    const key = objectKey(t.ledger.prefix, b.path);
    st.range = { start: b.start, end: b.start + b.width, path: b.path };
    await save(session, st, t.ledger.bucket, key);
    const steps: AttackStep[] = [];
    steps.push(await attempt(session, `DeleteObject ${b.path} (entries ${b.start}-${b.start + b.width - 1}, ops-admin's GetObject ${read.key} among them)`,
      () => s3.send(new DeleteObjectCommand({ Bucket: t.ledger.bucket, Key: key }))));
    const versions = (await listVersions(session.client(S3Client), t.ledger.bucket, key)).get(key) ?? [];
    st.versions = versions.filter((v) => !v.deleteMarker).length;
    st.deleted = 0;
    for (const v of versions.filter((x) => !x.deleteMarker)) {
      const made = await attackerDeleteVersion(session, st, t.ledger.bucket, key, v.versionId);
      steps.push(...made);
      if (made.at(-1)!.allowed) st.deleted++;
    }
    return steps;
  },
  async observe(session, steps, state) {
    const st = state as State;
    if (!st.range) return notRun(st, steps);
    const blocked = st.versions! > 0 && st.deleted === 0;
    return judge(session, st, steps, {
      kinds: ['missing-entry'],
      at: (d) => d.index !== undefined && d.index >= st.range!.start && d.index < st.range!.end,
      what: `the entries ${st.range.start}-${st.range.end - 1} of ${st.range.path}`,
      needs: 'the audit needs signed checkpoints and tiles that say which entries must exist (signing task)',
    }, {
      blocked,
      text: blocked
        ? `blocked: Object Lock on the ledger bucket refused the deletion of all ${st.versions} version(s) of ${st.range.path} (only a delete marker was added)`
        : `not blocked: ${st.deleted} of ${st.versions} version(s) of ${st.range.path} were deleted for good — put the ledger bucket under Object Lock in COMPLIANCE mode with a default retention`,
    });
  },
  revert: (session, state) => revertCommon(session, state as State),
};
