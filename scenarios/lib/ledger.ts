// The attacks of lab advanced-ledger (slide 16 part 2): ops-admin hides that they read and changed
// customer records by tampering with the student's audit ledger. Filled in by the scenario files.
import type { Scenario } from '../../src/engine/types.ts';

/** The attacks in the order they run (the anchor attack last: it is the one nothing can revert). */
export const ledgerAttacks: Scenario[] = [];
