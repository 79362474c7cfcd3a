// Lab advanced-ledger, attack 3: reorder entries. ops-admin swaps the entry of their read of a customer
// record with its neighbour in the entry bundle and rewrites the level-0 tile to match (its two leaf
// hashes swapped), so the bundle and the tile agree again and the read seems to come at another moment.
// Nothing in AWS refuses an administrator's overwrite: graded on detection only. Detected when the audit
// reports the entries reordered at the swapped positions (the signed root no longer matches the tiles,
// and the bundle's earlier version shows the original order).
import { S3Client } from '@aws-sdk/client-s3';
import type { AttackStep, Scenario } from '../src/engine/types.ts';
import { parseEntryBundle, formatEntryBundle } from '../src/controls/ledger/tiles.ts';
import {
  attackerClient, attackerPut, bundleOf, hiddenRead, judge, notRun, objectKey, prepareAttack, readBody, revertCommon,
  type Prepared,
} from './advanced-ledger-shared.ts';

interface State extends Prepared { swapped?: [number, number] }

export const ledgerReorderEntriesScenario: Scenario = {
  id: 'ledger-reorder-entries',
  title: 'An administrator reorders ledger entries',
  description: 'ops-admin swaps the entry of their GetObject with its neighbour in the entry bundle and rewrites the level-0 tile so the hashes match the new order.',
  techniques: ['T1565.001', 'T1070'],
  detections: ['ledger audit: reordered-entries'],
  points: { blocked: 0, detected: 6 },
  tasks: { detected: 'signing' },
  prepare: (session) => prepareAttack(session, 'reorder-entries'),
  async inject(session, state) {
    const st = state as State;
    if (!st.logged) return [];
    const t = st.target;
    const s3 = attackerClient(session, t, S3Client);
    const i = hiddenRead(st).index!;
    const b = bundleOf(i, st.logged.size);
    if (b.width < 2) {
      st.why = `entry ${i} is alone in its bundle: nothing to swap it with`;
      return [];
    }
    // Swapped with the entry before it (someone else's, usually), else the one after.
    const j = i - 1 >= b.start ? i - 1 : i + 1;
    const bundleKey = objectKey(t.ledger.prefix, b.path);
    const tileKey = objectKey(t.ledger.prefix, b.tile0);
    const data = await readBody(s3, t.ledger.bucket, bundleKey) ?? await readBody(session.client(S3Client), t.ledger.bucket, bundleKey);
    const tile = await readBody(s3, t.ledger.bucket, tileKey) ?? await readBody(session.client(S3Client), t.ledger.bucket, tileKey);
    if (!data || !tile || tile.length < b.width * 32) {
      st.why = `the bundle ${b.path} or the tile ${b.tile0} is not readable`;
      return [];
    }
    st.swapped = [Math.min(i, j), Math.max(i, j)];
    const entries = parseEntryBundle(data);
    const [a, c] = [i - b.start, j - b.start];
    [entries[a], entries[c]] = [entries[c]!, entries[a]!];
    const hashes = Buffer.from(tile);
    const ha = Buffer.from(tile.subarray(a * 32, a * 32 + 32));
    tile.copy(hashes, a * 32, c * 32, c * 32 + 32);
    ha.copy(hashes, c * 32);
    const steps: AttackStep[] = [];
    steps.push(...await attackerPut(session, st, t.ledger.bucket, bundleKey, formatEntryBundle(entries), `PutObject ${b.path}: entries ${i} and ${j} swapped`));
    steps.push(...await attackerPut(session, st, t.ledger.bucket, tileKey, hashes, `PutObject ${b.tile0}: their leaf hashes swapped to match`));
    return steps;
  },
  async observe(session, steps, state) {
    const st = state as State;
    if (!st.swapped) return notRun(st, steps);
    return judge(session, st, steps, {
      kinds: ['reordered-entries'],
      at: (d) => d.index !== undefined && d.index >= st.swapped![0] && d.index <= st.swapped![1],
      what: `the swapped entries ${st.swapped[0]} and ${st.swapped[1]}`,
      preventable: true,
      needs: 'the audit needs a signed root (signing task) and the bucket\'s earlier versions to show the original order',
    });
  },
  revert: (session, state) => revertCommon(session, state as State),
};
