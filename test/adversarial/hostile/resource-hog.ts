// Takes the machine: memory, processes, output.
import { spawn } from 'node:child_process';
import { attempt, emptyAudit } from './common.ts';

export const audit = emptyAudit;

export async function apply() {
  await attempt('fork 400 processes', () => {
    for (let i = 0; i < 400; i++) spawn('/bin/sh', ['-c', 'sleep 120 # seclab-hostile-survivor'], { stdio: 'ignore', detached: true }).on('error', () => undefined);
  });
  await attempt('print 40 MB', () => {
    const line = 'x'.repeat(1023);
    for (let i = 0; i < 40 * 1024; i++) console.log(line);
  });
  await attempt('take 4 GB', () => {
    const hog: Buffer[] = [];
    for (let i = 0; i < 64; i++) hog.push(Buffer.alloc(64 * 1024 * 1024, 1));
    console.log(`hostile: holding ${hog.length * 64} MB`);
  });
}
