// STUB (being written): attack dlp-pii-in-log of lab dlp.
import type { Scenario } from '../src/engine/types.ts';

export const piiInLogScenario: Scenario = {
  id: 'dlp-pii-in-log', title: 'dlp-pii-in-log (not built yet)', description: 'not built yet', techniques: [], points: { blocked: 0 },
  inject: async () => [],
  observe: async () => ({ detected: false, blocked: false, steps: [], evidence: [], feedback: 'not built yet' }),
};
