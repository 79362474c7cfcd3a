import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { processGone, waitFor } from './helpers.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const fixture = path.join(here, 'fixtures', 'hold-moto.ts');

/** Run the fixture (a seclab-like process holding a moto) and read the moto pid it prints. */
async function holdMoto(args: string[] = []): Promise<{ parent: ChildProcess; pid: number; output: () => string }> {
  const parent = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  parent.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  parent.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const ok = await waitFor(() => out.includes('\n') || parent.exitCode !== null, 30_000);
  if (!ok || !out.includes('\n')) {
    parent.kill('SIGKILL');
    throw new Error(`fixture did not start moto: ${out}\n${err}`);
  }
  const { pid } = JSON.parse(out.split('\n')[0]!) as { pid: number };
  return { parent, pid, output: () => out };
}

function exited(p: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve({ code: p.exitCode, signal: p.signalCode });
  return new Promise((resolve) => p.once('exit', (code, signal) => resolve({ code, signal })));
}

function cleanup(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

describe('no orphaned moto', () => {
  it('moto exits when its parent is killed with SIGKILL', async () => {
    const { parent, pid } = await holdMoto();
    try {
      expect(processGone(pid)).toBe(false);
      parent.kill('SIGKILL');
      await exited(parent);
      const t0 = Date.now();
      expect(await waitFor(() => processGone(pid), 30_000)).toBe(true);
      console.log(`moto exited ${Date.now() - t0} ms after its parent was SIGKILLed`);
    } finally {
      cleanup(pid);
    }
  });

  it('SIGTERM stops moto and the parent still dies of SIGTERM', async () => {
    const { parent, pid } = await holdMoto();
    try {
      parent.kill('SIGTERM');
      const { signal } = await exited(parent);
      expect(signal).toBe('SIGTERM');
      expect(await waitFor(() => processGone(pid), 30_000)).toBe(true);
    } finally {
      cleanup(pid);
    }
  });

  it("leaves SIGINT to the program's own handler, and moto still goes when it exits", async () => {
    const { parent, pid, output } = await holdMoto(['extra-sigint-listener']);
    try {
      parent.kill('SIGINT');
      const { code } = await exited(parent);
      expect(code).toBe(130);
      expect(output()).toContain('cleanup');
      expect(await waitFor(() => processGone(pid), 30_000)).toBe(true);
    } finally {
      cleanup(pid);
    }
  });
});
