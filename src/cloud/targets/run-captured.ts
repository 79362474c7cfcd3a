// Runs an installer (pip, npm) to completion with its output kept (the last 8 KB, for the error
// message when it fails) and a hard time limit.
import { spawn } from 'node:child_process';

export function runCaptured(
  cmd: string,
  args: string[],
  opts: { timeoutMs: number; env?: Record<string, string>; shell?: boolean },
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true, shell: opts.shell ?? false, env: { ...process.env, ...opts.env } });
    let output = '';
    const keep = (c: Buffer): void => {
      output = (output + c.toString('utf8')).slice(-8000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
