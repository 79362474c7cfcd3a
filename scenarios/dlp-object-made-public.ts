// STUB (being written): attack dlp-object-made-public of lab dlp.
import type { Scenario } from '../src/engine/types.ts';

export const objectMadePublicScenario: Scenario = {
  id: 'dlp-object-made-public', title: 'dlp-object-made-public (not built yet)', description: 'not built yet', techniques: [], points: { blocked: 0 },
  inject: async () => [],
  observe: async () => ({ detected: false, blocked: false, steps: [], evidence: [], feedback: 'not built yet' }),
};
