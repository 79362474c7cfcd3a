// `seclab check` as a student runs it, on a workspace made by `seclab init`: its report ends with the
// timeline of the attacks (before the score line), every line of it within 80 columns.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(path.join(os.tmpdir(), 'seclab-check-timeline-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function seclab(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const home = path.join(work, 'home');
  mkdirSync(home, { recursive: true });
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/seclab.js'), ...args], {
    cwd: work, env: { ...process.env, HOME: home, XDG_CONFIG_HOME: '', NO_COLOR: '1', COLUMNS: '80' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('seclab check', () => {
  it('ends with the timeline of the attacks, in 80 columns', async () => {
    const ws = path.join(work, 'ws');
    const init = await seclab(['init', ws]);
    expect(init.code, init.stderr).toBe(0);
    // The reference solution but for retiring the shared key: that attack gets through, the others are blocked.
    const reference = readFileSync(path.join(ROOT, 'solutions/iam/solution.ts'), 'utf8');
    const cut = reference.indexOf('  // Retire the shared credential');
    const end = reference.indexOf('  void accountId;');
    writeFileSync(path.join(ws, 'iam', 'solution.ts'), reference.slice(0, cut) + reference.slice(end));
    const r = await seclab(['check', 'iam', '--workspace', ws, '--timeout', '30']);
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('Timeline of the attacks'));
    expect(at, r.stdout).toBeGreaterThan(0);
    const block = lines.slice(at, lines.indexOf('', at));
    for (const l of block) expect(l.length, l).toBeLessThanOrEqual(80);
    // Header, column titles, one row per attack of the lab (5), the legend.
    expect(block).toHaveLength(2 + 5 + 1);
    const leaked = block.find((l) => l.includes('The leaked shared key'))!;
    expect(leaked).toMatch(/\+0:00\s+\((\+\d+:\d\d|—)\)\s+—$/);
    for (const l of block.slice(2, 7).filter((x) => x !== leaked)) expect(l).toMatch(/\+\d+:\d\d\s+\((\+\d+:\d\d|—)\)\s+\+\d+:\d\d$/);
    // Then only the score (and what to do next).
    expect(lines.slice(at + block.length).find((l) => l.trim())).toMatch(/^Score \d+\/\d+/);
  }, 180_000);
});
