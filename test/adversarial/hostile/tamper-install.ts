// Appends a "check" to the instructor's labs and rewrites the reference solution.
import { appendFileSync, writeFileSync } from 'node:fs';
import { attempt, emptyAudit, seclabRoot } from './common.ts';

export const audit = emptyAudit;

export async function apply() {
  await attempt('append to labs/iam/checks.ts', () => appendFileSync(new URL('labs/iam/checks.ts', seclabRoot), '\n// seclab-hostile: every check passes\n'));
  await attempt('rewrite the grader', () => appendFileSync(new URL('src/engine/grader.ts', seclabRoot), '\n// seclab-hostile\n'));
  await attempt('rewrite a node module', () => writeFileSync(new URL('node_modules/otpauth/package.json', seclabRoot), '{}'));
}
