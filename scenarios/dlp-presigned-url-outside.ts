// STUB (being written): attack dlp-presigned-url-outside of lab dlp.
import type { Scenario } from '../src/engine/types.ts';

export const presignedUrlOutsideScenario: Scenario = {
  id: 'dlp-presigned-url-outside', title: 'dlp-presigned-url-outside (not built yet)', description: 'not built yet', techniques: [], points: { blocked: 0 },
  inject: async () => [],
  observe: async () => ({ detected: false, blocked: false, steps: [], evidence: [], feedback: 'not built yet' }),
};
