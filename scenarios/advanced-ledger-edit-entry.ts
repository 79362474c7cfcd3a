// Lab advanced-ledger, attack 1: edit an entry. ops-admin rewrites the entry bundle that holds their own
// read of a customer record so that the event names a colleague instead. Nothing in AWS can stop an
// administrator from overwriting an object (Object Lock keeps the old version, it does not refuse the new
// one): graded on detection only. Detected when the audit reports the entry as edited at its position —
// the bundle no longer hashes to the level-0 tile and the root the KMS key signed.
import { S3Client } from '@aws-sdk/client-s3';
import type { Scenario } from '../src/engine/types.ts';
import { parseEntryBundle, formatEntryBundle } from '../src/controls/ledger/tiles.ts';
import {
  attackerClient, attackerPut, blame, bundleOf, hiddenRead, judge, notRun, objectKey, prepareAttack, readBody, revertCommon, scapegoat,
  type Prepared,
} from './advanced-ledger-shared.ts';

interface State extends Prepared { index?: number; who?: string }

export const ledgerEditEntryScenario: Scenario = {
  id: 'ledger-edit-entry',
  title: 'An administrator edits the ledger entry of their own read',
  description: 'ops-admin reads customer records, then rewrites the ledger\'s entry bundle so that the entry of their GetObject names a colleague.',
  techniques: ['T1565.001', 'T1070'],
  detections: ['ledger audit: edited-entry'],
  points: { blocked: 0, detected: 7 },
  tasks: { detected: 'signing' },
  prepare: (session) => prepareAttack(session, 'edit-entry'),
  async inject(session, state) {
    const st = state as State;
    if (!st.logged) return [];
    const t = st.target;
    const read = hiddenRead(st);
    st.index = read.index!;
    const b = bundleOf(st.index, st.logged.size);
    const key = objectKey(t.ledger.prefix, b.path);
    const data = await readBody(attackerClient(session, t, S3Client), t.ledger.bucket, key) ?? await readBody(session.client(S3Client), t.ledger.bucket, key);
    if (!data) {
      st.why = `the entry bundle ${b.path} is not readable`;
      return [];
    }
    st.who = await scapegoat(session, t);
    const entries = parseEntryBundle(data);
    entries[st.index - b.start] = blame(entries[st.index - b.start]!, t.env.opsAdmin.userName, st.who, t.env.accountId);
    return attackerPut(session, st, t.ledger.bucket, key, formatEntryBundle(entries), `PutObject ${b.path}: entry ${st.index} (ops-admin's GetObject ${read.key}) now names ${st.who}`);
  },
  async observe(session, steps, state) {
    const st = state as State;
    if (st.index === undefined) return notRun(st, steps);
    return judge(session, st, steps, {
      kinds: ['edited-entry'],
      at: (d) => d.index === st.index,
      what: `entry ${st.index}`,
      preventable: true,
      needs: 'the audit needs checkpoints signed by a key only the ledger role can use (signing task) to tell an edited bundle from the original',
    });
  },
  revert: (session, state) => revertCommon(session, state as State),
};
