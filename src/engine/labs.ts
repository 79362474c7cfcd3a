// The lab registry: one folder per lab under labs/, each exporting `lab` from lab.ts.
import { readdirSync, existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import type { Lab } from './types.ts';

export const LABS_DIR = fileURLToPath(new URL('../../labs/', import.meta.url));
export const SOLUTIONS_DIR = fileURLToPath(new URL('../../solutions/', import.meta.url));

export async function loadLabs(): Promise<Lab[]> {
  const labs: Lab[] = [];
  for (const name of readdirSync(LABS_DIR).sort()) {
    const file = path.join(LABS_DIR, name, 'lab.ts');
    if (!existsSync(file)) continue;
    const mod = (await import(pathToFileURL(file).href)) as { lab: Lab };
    labs.push(mod.lab);
  }
  return labs.sort((a, b) => a.slide - b.slide);
}

export async function findLab(id: string): Promise<Lab> {
  const labs = await loadLabs();
  const lab = labs.find((l) => l.id === id);
  if (!lab) throw new Error(`no lab "${id}"; labs: ${labs.map((l) => l.id).join(', ')}`);
  return lab;
}
