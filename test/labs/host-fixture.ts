// Shared by the lab host end-to-end tests (host.test.ts: reference and starter; host-defects.test.ts:
// seeded defects), split in two files so that vitest grades them on both cores.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect } from 'vitest';
import { gradeLab } from '../../src/engine/grader.ts';
import { findLab, SOLUTIONS_DIR } from '../../src/engine/labs.ts';
import type { LabGrade } from '../../src/engine/types.ts';
import type { LabCloud } from '../../src/cloud/labcloud.ts';
import { imageForTests } from '../../src/host/image.ts';
import { nginxStatus } from '../../src/host/web/nginx.ts';

export const REFERENCE = path.join(SOLUTIONS_DIR, 'host');

/** Why the host lab cannot be graded on this machine (no image, no nginx), or undefined. */
export async function hostLabSkip(): Promise<string | undefined> {
  const image = await imageForTests();
  const nginx = nginxStatus();
  return 'skip' in image ? image.skip : !nginx.installed ? nginx.reason : undefined;
}

type Edit = [file: 'solution.ts' | 'user-data.yaml', from: string | RegExp, to: string];

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** An empty workspace folder (removed after the file's tests). */
export function workspace(prefix = 'seclab-host-'): string {
  const ws = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(ws);
  writeFileSync(path.join(ws, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  return ws;
}

/** A workspace whose host/ folder is the reference with the edits applied. */
export function variant(...edits: Edit[]): string {
  const ws = workspace();
  cpSync(REFERENCE, path.join(ws, 'host'), { recursive: true });
  for (const [file, from, to] of edits) {
    const p = path.join(ws, 'host', file);
    const text = readFileSync(p, 'utf8');
    if (typeof from === 'string') {
      expect(text, `${file} should contain ${from}`).toContain(from);
      writeFileSync(p, text.split(from).join(to));
    } else {
      expect(text, `${file} should match ${from}`).toMatch(from);
      writeFileSync(p, text.replace(from, to));
    }
  }
  return ws;
}

export const failed = (g: LabGrade) => [...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => c.id).sort();
export const detail = (g: LabGrade) => [...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => `${c.id}: ${c.feedback}`).join('\n');

export async function grade(cloud: LabCloud, ws: string): Promise<LabGrade> {
  return gradeLab(cloud, await findLab('host'), { workspace: ws });
}
