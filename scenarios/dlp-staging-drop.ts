// STUB (being written): attack dlp-staging-drop of lab dlp.
import type { Scenario } from '../src/engine/types.ts';

export const stagingDropScenario: Scenario = {
  id: 'dlp-staging-drop', title: 'dlp-staging-drop (not built yet)', description: 'not built yet', techniques: [], points: { blocked: 0 },
  inject: async () => [],
  observe: async () => ({ detected: false, blocked: false, steps: [], evidence: [], feedback: 'not built yet' }),
};
