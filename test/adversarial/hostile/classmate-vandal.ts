// Replaces every other submission's solution with an empty one.
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { attempt, emptyAudit } from './common.ts';

export const audit = emptyAudit;

export async function apply() {
  const me = path.dirname(fileURLToPath(import.meta.url));
  const classDir = path.resolve(me, '..', '..');
  await attempt(`list ${classDir}`, () => console.log(readdirSync(classDir)));
  for (const other of ['honest-a', 'honest-b', 'starter']) {
    await attempt(`overwrite ${other}`, () => writeFileSync(path.join(classDir, other, 'iam', 'solution.ts'), 'export async function audit() { return {}; }\nexport async function apply() {}\n'));
  }
}
