// What a submission folder may not contain: links that lead out of it. A student's workspace is
// copied into the sandbox as it is (links stay links), but a link to the reference solution or to a
// classmate's folder is an attempt to grade someone else's work, and instructors are told.
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';

/** Links under `dir` whose target lies outside `dir`, described for an instructor (at most 20). */
export function escapingLinks(dir: string): string[] {
  const out: string[] = [];
  const root = path.resolve(dir);
  const walk = (d: string, depth: number) => {
    if (depth > 20 || out.length >= 20) return;
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isSymbolicLink()) {
        const target = path.resolve(path.dirname(p), readlinkSync(p));
        if (target !== root && !target.startsWith(root + path.sep)) out.push(`${path.relative(root, p)} is a link to ${target}, outside the submission`);
      } else if (e.isDirectory() && e.name !== 'node_modules') {
        walk(p, depth + 1);
      }
    }
  };
  try {
    if (lstatSync(root).isSymbolicLink()) return [`${root} is a link to ${readlinkSync(root)}, not a folder of the submission`];
  } catch {
    return out;
  }
  walk(root, 0);
  return out;
}
