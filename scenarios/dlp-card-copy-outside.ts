// STUB (being written): attack dlp-card-copy-outside of lab dlp.
import type { Scenario } from '../src/engine/types.ts';

export const cardCopyOutsideScenario: Scenario = {
  id: 'dlp-card-copy-outside', title: 'dlp-card-copy-outside (not built yet)', description: 'not built yet', techniques: [], points: { blocked: 0 },
  inject: async () => [],
  observe: async () => ({ detected: false, blocked: false, steps: [], evidence: [], feedback: 'not built yet' }),
};
