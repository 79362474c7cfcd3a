// STUB (being written): posture and business checks of lab dlp.
import type { Check } from '../../src/engine/types.ts';

export const checks: Check[] = [];
