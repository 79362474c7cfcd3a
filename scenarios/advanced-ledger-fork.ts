// Lab advanced-ledger, attack 5: a fork — two logs for two verifiers. ops-admin cannot use the ledger key
// themselves, but the ledger role can: they add themselves to the role's trust policy (AdministratorAccess
// allows it), assume the role and sign, with the ledger's own KMS key, a log in which their read and
// change of customer records name a colleague; they publish it in the ledger bucket, tiles and checkpoint,
// and delete the genuine checkpoint's versions. Whoever reads the bucket now verifies the forged log; the
// witness (another account) still holds the genuine checkpoint it cosigned. Nothing in AWS stops an
// administrator of the account here: graded on detection only. Detected when the audit reports a fork —
// two checkpoints of the same origin, both signed by the log key, not consistent with each other.
import { S3Client } from '@aws-sdk/client-s3';
import { KMSClient } from '@aws-sdk/client-kms';
import type { Scenario } from '../src/engine/types.ts';
import { kmsSigner } from '../src/controls/ledger/signers.ts';
import { attempt } from './lib/attack.ts';
import {
  askWitness, attackerPut, blame, buildLog, deleteVersions, judge, ledgerRoleSession, listVersions, notRun, objectKey, plain, prepareAttack, publish,
  restoreTrustPolicy, revertCommon, save, scapegoat,
  type Prepared,
} from './advanced-ledger-shared.ts';

interface State extends Prepared { forked?: boolean }

// The takeover of the ledger role lives with the other shared helpers (every tampering attack escalates to it).
export { ledgerRoleSession, restoreTrustPolicy } from './advanced-ledger-shared.ts';

/** The genuine entries with every entry of the attacker's events blamed on `who`. */
export function forgedEntries(st: Prepared, who: string): Buffer[] {
  const mine = new Set(st.events.map((e) => e.index!));
  return st.logged!.entries.map((e, i) => (mine.has(i) ? blame(e, st.target.env.opsAdmin.userName, who, st.target.env.accountId) : e));
}

export const ledgerForkScenario: Scenario = {
  id: 'ledger-fork',
  title: 'An administrator serves a forked ledger signed with the ledger\'s own key',
  description: 'ops-admin assumes the ledger role, signs with the ledger KMS key a log in which their reads name a colleague, publishes it in the ledger bucket and deletes the genuine checkpoint\'s versions; the witness still holds the genuine checkpoint.',
  techniques: ['T1565.001', 'T1098', 'T1070'],
  detections: ['ledger audit: fork'],
  points: { blocked: 0, detected: 8 },
  tasks: { detected: 'witness' },
  prepare: (session) => prepareAttack(session, 'fork'),
  async inject(session, state) {
    const st = state as State;
    if (!st.logged) return [];
    const t = st.target;
    if (!t.keyId || !t.logKeyName) {
      st.why = 'no signing key is pinned (signing task)';
      return [];
    }
    const { steps, creds } = await ledgerRoleSession(session, st);
    if (!creds) return steps;
    const who = await scapegoat(session, t);
    const ckKey = objectKey(t.ledger.prefix, 'checkpoint');
    await save(session, st, t.ledger.bucket, ckKey);
    const kms = session.client(KMSClient, { credentials: creds, sourceIp: t.ip });
    let built: Awaited<ReturnType<typeof buildLog>> | undefined;
    steps.push(await attempt(session, `kms:Sign as the ledger role: a log of ${st.logged.size} entries in which ops-admin's reads name ${who}`, async () => {
      built = await buildLog(t.origin, forgedEntries(st, who), [await kmsSigner(kms, t.keyId!, t.logKeyName!)]);
    }));
    if (!built) return steps;
    steps.push(...await publish(session, st, built.files, 'the forked log'));
    st.forked = true;
    // The witness, asked as the feed asks it: a fork of the same size with no proof. A witness that
    // cosigns it vouches for the fork; the cosigned note then replaces the forged checkpoint.
    const w = await askWitness(session, st, st.logged.size, [], built.note, `the forked checkpoint of ${st.logged.size} entries`);
    steps.push(...w.steps);
    if (w.cosigned) {
      st.witnessCosigned = `the forked checkpoint of ${st.logged.size} entries`;
      steps.push(...await attackerPut(session, st, t.ledger.bucket, ckKey, Buffer.from(w.cosigned), 'PutObject checkpoint: the fork with the witness\'s cosignature'));
    }
    // The genuine checkpoints in the bucket's versions would give the fork away: delete them.
    const versions = (await listVersions(session.client(S3Client), t.ledger.bucket, ckKey)).get(ckKey) ?? [];
    const genuine = versions.filter((v) => !v.deleteMarker && !v.isLatest).map((v) => v.versionId);
    if (genuine.length) steps.push(plain(await deleteVersions(session, st, t.ledger.bucket, ckKey, genuine, 'hiding the genuine checkpoints')));
    return steps;
  },
  async observe(session, steps, state) {
    const st = state as State;
    if (!st.logged) return notRun(st, steps);
    if (!st.forked) return { detected: false, blocked: false, steps, evidence: [], feedback: `the attacker could not sign a forked log${st.why ? `: ${st.why}` : ''} (not graded on blocking: an administrator can always reach the signing role)` };
    return judge(session, st, steps, {
      kinds: ['fork'],
      what: 'the forked log served from the ledger bucket',
      needs: 'a fork signed with the genuine key is valid by itself: only a witness in another account (witness task) or anchors under Object Lock (anchor task) keep the genuine checkpoint to compare with',
    });
  },
  async revert(session, state) {
    await restoreTrustPolicy(session, state as State);
    await revertCommon(session, state as State);
  },
};
