// The attacks of lab advanced-ledger (slide 16 part 2), in the order they run, and their shared helpers
// (scenarios/advanced-ledger-shared.ts). ops-admin, an administrator of the run account, read and changed
// customer records and hides it by tampering with the student's ledger, CloudTrail and the anchors.
// Points (55): edit 7, delete 4+4, reorder 6, truncate 7, fork 8, key 4+3, CloudTrail 6, anchors 4+2.
import type { Scenario } from '../../src/engine/types.ts';
import { ledgerEditEntryScenario } from '../advanced-ledger-edit-entry.ts';
import { ledgerDeleteEntriesScenario } from '../advanced-ledger-delete-entries.ts';
import { ledgerReorderEntriesScenario } from '../advanced-ledger-reorder-entries.ts';
import { ledgerTruncateScenario } from '../advanced-ledger-truncate.ts';
import { ledgerForkScenario } from '../advanced-ledger-fork.ts';
import { ledgerReplaceKeyScenario } from '../advanced-ledger-replace-key.ts';
import { ledgerCloudTrailScenario } from '../advanced-ledger-cloudtrail.ts';
import { ledgerDeleteAnchorsScenario } from '../advanced-ledger-delete-anchors.ts';

export * from '../advanced-ledger-shared.ts';

/** The attacks in the order they run: the anchor attack last (what it destroys cannot always be put back). */
export const ledgerAttacks: Scenario[] = [
  ledgerEditEntryScenario,
  ledgerDeleteEntriesScenario,
  ledgerReorderEntriesScenario,
  ledgerTruncateScenario,
  ledgerForkScenario,
  ledgerReplaceKeyScenario,
  ledgerCloudTrailScenario,
  ledgerDeleteAnchorsScenario,
];
