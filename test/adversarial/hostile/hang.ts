// Never returns.
import { emptyAudit } from './common.ts';

export const audit = emptyAudit;

export async function apply() {
  for (;;) {
    // spin
  }
}
