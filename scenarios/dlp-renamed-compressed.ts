// STUB (being written): attack dlp-renamed-compressed of lab dlp.
import type { Scenario } from '../src/engine/types.ts';

export const renamedCompressedScenario: Scenario = {
  id: 'dlp-renamed-compressed', title: 'dlp-renamed-compressed (not built yet)', description: 'not built yet', techniques: [], points: { blocked: 0 },
  inject: async () => [],
  observe: async () => ({ detected: false, blocked: false, steps: [], evidence: [], feedback: 'not built yet' }),
};
