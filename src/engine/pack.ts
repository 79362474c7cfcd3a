// Instructor packs: hidden checks and extra scenarios kept outside the repository students clone
// (labs/*/checks.ts ships with the course). A pack is a folder with one file per lab,
// `<pack>/<lab>.ts` (or .mts/.mjs/.js), exporting `checks` and/or `scenarios` in the labs' own format
// (docs/instructor-pack.md). Pack checks are hidden unless they say `hidden: false`.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Check, Lab, Scenario } from './types.ts';

export class PackError extends Error {}

let hooked = false;

interface PackModule {
  checks?: Check[];
  scenarios?: Scenario[];
}

function fileFor(pack: string, labId: string): string | undefined {
  return ['.ts', '.mts', '.mjs', '.js'].map((ext) => path.join(pack, `${labId}${ext}`)).find((f) => existsSync(f));
}

/** The labs with each pack's checks and scenarios added (ids must not clash with the lab's). */
export async function applyPacks(labs: Lab[], packs: string[]): Promise<Lab[]> {
  if (!packs.length) return labs;
  // A pack may import the AWS SDK or seclab/kit without a node_modules of its own.
  if (!hooked) {
    const { registerFallbackResolve } = await import('../runtime/fallback-resolve.mjs');
    registerFallbackResolve();
    hooked = true;
  }
  const out: Lab[] = [];
  for (const pack of packs.map((p) => path.resolve(p))) {
    if (!existsSync(pack) || !statSync(pack).isDirectory()) throw new PackError(`--pack ${pack}: no such folder`);
    const known = new Set(labs.map((l) => l.id));
    const stray = readdirSync(pack).filter((f) => /\.(ts|mts|mjs|js)$/.test(f) && !known.has(f.replace(/\.(ts|mts|mjs|js)$/, '')));
    if (stray.length) throw new PackError(`--pack ${pack}: ${stray.join(', ')} name(s) no lab (labs: ${[...known].join(', ')})`);
  }
  for (const lab of labs) {
    let merged = lab;
    for (const pack of packs.map((p) => path.resolve(p))) {
      const file = fileFor(pack, lab.id);
      if (!file) continue;
      let mod: PackModule;
      try {
        mod = (await import(pathToFileURL(file).href)) as PackModule;
      } catch (e) {
        const cjs = /require\(\) ES Module|Cannot use import statement|require\(esm\)/.test((e as Error).message);
        throw new PackError(cjs
          ? `${file} is read as CommonJS: name it ${lab.id}.mts, or put a package.json with {"type": "module"} in ${pack}`
          : `${file} could not be loaded: ${(e as Error).message}`);
      }
      const checks = (mod.checks ?? []).map((c) => ({ ...c, hidden: c.hidden ?? true }));
      const scenarios = (mod.scenarios ?? []).map((s) => ({ ...s, hidden: s.hidden ?? true }));
      const ids = new Set([...merged.checks.map((c) => c.id), ...merged.scenarios.map((s) => s.id)]);
      for (const x of [...checks, ...scenarios]) {
        if (!x.id || typeof x.id !== 'string') throw new PackError(`${file}: every check and scenario needs an id`);
        if (ids.has(x.id)) throw new PackError(`${file}: "${x.id}" is already a check or scenario of lab ${lab.id}: choose another id`);
        ids.add(x.id);
      }
      for (const c of checks) {
        if (typeof c.run !== 'function' || !['posture', 'business'].includes(c.kind)) throw new PackError(`${file}: check "${c.id}" needs kind 'posture' or 'business' and a run(session) function`);
      }
      for (const s of scenarios) {
        if (typeof s.inject !== 'function' || typeof s.observe !== 'function') throw new PackError(`${file}: scenario "${s.id}" needs inject() and observe()`);
      }
      merged = { ...merged, checks: [...merged.checks, ...checks], scenarios: [...merged.scenarios, ...scenarios] };
    }
    out.push(merged);
  }
  return out;
}
