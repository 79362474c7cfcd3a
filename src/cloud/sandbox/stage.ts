// A submission's folder copied for one sandboxed run: the code may change its copy, never the
// submission itself, nor see anything else. Symlinks are copied as links (inside the sandbox they
// point nowhere), never followed: a link to the reference solution stays a dangling link.
import { chownSync, cpSync, lstatSync, mkdtempSync, readdirSync, rmSync, chmodSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A copy larger than this is refused (a submission is code and configuration). */
export const STAGE_LIMIT_BYTES = 64 * 1024 * 1024;

export interface Staged {
  /** Mounts for the sandbox: the copy shows at the original paths. */
  mounts: { host: string; inside: string; rw?: boolean }[];
  remove(): void;
}

export class StageError extends Error {}

function sizeOf(dir: string, limit: number): number {
  let total = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === 'node_modules') continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) total += lstatSync(p).size;
      if (total > limit) throw new StageError(`${dir} holds more than ${Math.round(limit / 1024 / 1024)} MB (without node_modules): a submission is code and configuration`);
    }
  };
  walk(dir);
  return total;
}

function chownTree(p: string, uid: number): void {
  chownSync(p, uid, uid);
  const st = lstatSync(p);
  if (st.isDirectory()) for (const e of readdirSync(p)) chownTree(path.join(p, e), uid);
}

/**
 * Copies `labDir` (and the workspace's package.json and tsconfig.json beside it) for a sandbox whose
 * processes run as `uid` (root only: otherwise the copy is the caller's).
 */
export function stageLabFolder(labDir: string, uid?: number, opts: { esmPackageJson?: boolean } = {}): Staged {
  const workspace = path.dirname(labDir);
  // A lab folder that is itself a link would mount its target (someone else's work) writable.
  if (!lstatSync(labDir).isDirectory()) throw new StageError(`${labDir} is not a folder of the submission (a link?): not run`);
  sizeOf(labDir, STAGE_LIMIT_BYTES);
  const root = mkdtempSync(path.join(os.tmpdir(), 'seclab-stage-'));
  const remove = () => rmSync(root, { recursive: true, force: true });
  try {
    chmodSync(root, 0o711);
    const copy = path.join(root, 'lab');
    cpSync(labDir, copy, { recursive: true, verbatimSymlinks: true, filter: (src) => path.basename(src) !== 'node_modules' || src === labDir });
    const mounts: Staged['mounts'] = [{ host: copy, inside: labDir, rw: true }];
    for (const name of ['package.json', 'tsconfig.json']) {
      const f = path.join(workspace, name);
      try {
        if (!lstatSync(f).isFile()) continue;
      } catch {
        continue;
      }
      const c = path.join(root, name);
      cpSync(f, c);
      mounts.push({ host: c, inside: f });
    }
    if (opts.esmPackageJson && !mounts.some((m) => m.inside === path.join(workspace, 'package.json'))) {
      // A folder without any package.json (a copy of solutions/): an ES module workspace, as `seclab init` makes.
      const c = path.join(root, 'package.json');
      writeFileSync(c, '{ "type": "module", "private": true }\n');
      mounts.push({ host: c, inside: path.join(workspace, 'package.json') });
    }
    // The student's own dependencies, read-only (real folders only).
    for (const nm of [path.join(workspace, 'node_modules'), path.join(labDir, 'node_modules')]) {
      try {
        if (lstatSync(nm).isDirectory()) mounts.push({ host: nm, inside: nm });
      } catch {
        // none
      }
    }
    if (uid !== undefined && process.getuid?.() === 0) chownTree(root, uid);
    return { mounts, remove };
  } catch (e) {
    remove();
    throw e;
  }
}
