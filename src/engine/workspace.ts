// Workspaces: a folder with one sub-folder per lab (`<workspace>/<lab>/solution.ts`...), created from
// the labs' starters. `solutions/` is itself a workspace. Files are written atomically (temporary
// file + rename) so an interrupted command never leaves half a file behind.
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, statSync, rmSync, renameSync } from 'node:fs';
import { cp, mkdir, readdir, rename, rm, symlink, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SOLUTIONS_DIR } from './labs.ts';
import type { Lab } from './types.ts';

// ---- atomic writes ----

/** Temporary files and folders being written; removed if the process exits half-way. */
const pendingTemps = new Set<string>();
let exitHookInstalled = false;

function trackTemp(p: string): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const t of pendingTemps) {
        try {
          rmSync(t, { recursive: true, force: true });
        } catch {
          // best effort: we are exiting
        }
      }
    });
  }
  pendingTemps.add(p);
}

function tempName(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Writes `data` to `file` so that readers see either the old or the new content, never a part:
 * written to a temporary file in the same folder, then renamed over the target.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, opts: { mode?: number } = {}): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  trackTemp(tmp);
  try {
    await writeFile(tmp, data, { mode: opts.mode ?? 0o644 });
    if (opts.mode !== undefined) await chmod(tmp, opts.mode);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  } finally {
    pendingTemps.delete(tmp);
  }
}

/** Copies a folder to `dest` atomically: into a temporary sibling first, then one rename. `dest` must not exist. */
export async function copyDirAtomic(src: string, dest: string): Promise<void> {
  await mkdir(path.dirname(dest), { recursive: true });
  const tmp = tempName(dest);
  trackTemp(tmp);
  try {
    await cp(src, tmp, { recursive: true, errorOnExist: true, force: false });
    await rename(tmp, dest);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    pendingTemps.delete(tmp);
  }
}

// ---- layout ----

export const PROGRESS_DIR = '.seclab';

/** The folder of a lab in a workspace. */
export function labDir(workspace: string, labId: string): string {
  return path.join(workspace, labId);
}

/** The file the grader runs for a lab. */
export function solutionFile(workspace: string, labId: string): string {
  return path.join(labDir(workspace, labId), 'solution.ts');
}

/** The reference solutions: `solutions/` is itself a workspace. */
export function solutionsWorkspace(): string {
  return SOLUTIONS_DIR;
}

/** The reference solution file of a lab (`solutions/<lab>/solution.ts`). */
export function referenceSolution(labId: string): string {
  return solutionFile(SOLUTIONS_DIR, labId);
}

/**
 * The folder inside a lab's starter that becomes `<workspace>/<lab>/`: starters are laid out as
 * `starter/<lab>/...` (copied as they are to the workspace root); a starter without that level is the
 * lab folder itself.
 */
export function starterLabDir(lab: Lab): string {
  const nested = path.join(lab.starter, lab.id);
  return existsSync(nested) && statSync(nested).isDirectory() ? nested : lab.starter;
}

function isNonEmptyDir(p: string): boolean {
  try {
    return statSync(p).isDirectory() && readdirSync(p).length > 0;
  } catch {
    return false;
  }
}

/** Whether a folder looks like a workspace: it has seclab's state folder or a folder named after a lab. */
export function looksLikeWorkspace(dir: string, labIds: string[]): boolean {
  if (existsSync(path.join(dir, PROGRESS_DIR))) return true;
  return labIds.some((id) => existsSync(solutionFile(dir, id)));
}

export const DEFAULT_WORKSPACE_NAME = 'seclab-workspace';

/**
 * Which workspace a command uses when `--workspace` is not given:
 * 1. `$SECLAB_WORKSPACE`;
 * 2. the current folder, when it is a workspace (has `.seclab/` or a lab folder with a solution.ts);
 * 3. `./seclab-workspace` (created by `seclab init` or `seclab start`).
 */
export function resolveWorkspace(explicit: string | undefined, labIds: string[], cwd = process.cwd(), env = process.env): string {
  if (explicit) return path.resolve(cwd, explicit);
  const fromEnv = env['SECLAB_WORKSPACE'];
  if (fromEnv) return path.resolve(cwd, fromEnv);
  if (looksLikeWorkspace(cwd, labIds)) return path.resolve(cwd);
  return path.resolve(cwd, DEFAULT_WORKSPACE_NAME);
}

// ---- creating and restoring ----

export interface InitResult {
  workspace: string;
  /** Lab folders created from their starters. */
  created: string[];
  /** Lab folders left alone because they already hold work. */
  kept: string[];
  /** Other files written (README.md, .gitignore, package.json). */
  files: string[];
}

export function workspaceReadme(labs: Lab[]): string {
  const rows = labs.map((l) => `| ${l.slide} | \`${l.id}\` | ${l.title} |`).join('\n');
  return `# My seclab workspace

One folder per lab. Each holds the code the grader runs (\`solution.ts\`): edit it, then check it.

| slide | lab | title |
|---|---|---|
${rows}

\`\`\`sh
npx seclab                 # the interactive menu
npx seclab start iam       # read the workbook page and the tasks
npx seclab check iam       # grade your work on a fresh lab cloud
npx seclab watch iam       # re-check whenever you save
npx seclab hint iam        # the next hint
npx seclab attack iam      # launch the attacks and watch what your controls catch
\`\`\`

Run the commands from this folder (or pass \`--workspace <this folder>\`). Your progress is kept in
\`.seclab/progress.json\`. \`seclab reset <lab>\` restores a starter (your old folder is kept as
\`<lab>.bak-<timestamp>\`).

\`npx seclab\` runs the seclab that created this workspace: \`package.json\` depends on it (\`"seclab":
"file:<its folder>"\`) and \`node_modules/seclab\` links to it, as \`npm install\` would make it. After moving
the workspace to another machine or reinstalling seclab, run \`seclab init .\` here (it repairs the link and
keeps your work), or \`npm install\`.
`;
}

/** The seclab running now (a clone, or a global install's `<prefix>/lib/node_modules/seclab`). */
export const SECLAB_HOME = fileURLToPath(new URL('../../', import.meta.url)).replace(/[\\/]$/, '');

/**
 * A workspace depends on the seclab that created it, so that `npx seclab` inside it runs that seclab
 * (without it npx asks the npm registry for a package named seclab). seclab is not published on the
 * registry, so the dependency is a `file:` link to its folder, which works offline and is what
 * `npm install <folder>` writes; published, it would be the version range (`^0.1.0`).
 */
export function seclabDependency(home = SECLAB_HOME): string {
  return `file:${home}`;
}

/** Solutions are ES modules: the student runner needs "type": "module" in a package.json above them. */
export function workspacePackageJson(home = SECLAB_HOME): string {
  return `${JSON.stringify({ name: 'seclab-workspace', private: true, type: 'module', devDependencies: { seclab: seclabDependency(home) } }, null, 2)}\n`;
}

export const WORKSPACE_PACKAGE_JSON = workspacePackageJson();

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes `<workspace>/node_modules/seclab` (a link to seclab's folder) and `node_modules/.bin/seclab`, the
 * layout `npm install` gives a `file:` dependency, without running npm (instant, offline). Only when
 * package.json declares seclab as a `file:` dependency (added to a seclab-workspace package.json made by an
 * older seclab, which had none). A package.json whose `file:` seclab is gone (the
 * workspace moved, seclab reinstalled elsewhere) is pointed at this seclab. Returns whether it linked.
 */
export async function linkSeclab(workspace: string, home = SECLAB_HOME): Promise<boolean> {
  const pkgFile = path.join(workspace, 'package.json');
  let pkg: { name?: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
  try {
    pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as typeof pkg;
  } catch {
    return false;
  }
  if (pkg.name === 'seclab-workspace' && pkg.devDependencies?.seclab === undefined && pkg.dependencies?.seclab === undefined) {
    // A workspace made before workspaces depended on seclab.
    pkg.devDependencies = { ...pkg.devDependencies, seclab: seclabDependency(home) };
    await writeFileAtomic(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
  }
  const field = pkg.devDependencies?.seclab !== undefined ? 'devDependencies' : pkg.dependencies?.seclab !== undefined ? 'dependencies' : undefined;
  const spec = field ? pkg[field]!.seclab! : undefined;
  if (!field || !spec?.startsWith('file:')) return false;
  let target = path.resolve(workspace, spec.slice('file:'.length));
  if (!existsSync(path.join(target, 'package.json'))) {
    target = home;
    pkg[field]!.seclab = seclabDependency(home);
    await writeFileAtomic(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
  }
  const nm = path.join(workspace, 'node_modules');
  const link = path.join(nm, 'seclab');
  if (exists(link) && !existsSync(path.join(link, 'package.json'))) await rm(link, { force: true }); // dangling
  if (exists(link)) return false;
  await mkdir(path.join(nm, '.bin'), { recursive: true });
  const win = process.platform === 'win32';
  await symlink(win ? target : path.relative(nm, target), link, win ? 'junction' : 'dir');
  const bin = path.join(nm, '.bin', win ? 'seclab.cmd' : 'seclab');
  await rm(bin, { force: true });
  if (win) await writeFile(bin, '@node "%~dp0\\..\\seclab\\bin\\seclab.js" %*\r\n');
  else await symlink(path.join('..', 'seclab', 'bin', 'seclab.js'), bin);
  return true;
}

export const WORKSPACE_GITIGNORE = `# seclab
.seclab/
*.bak-*
node_modules/
`;

/**
 * Creates a workspace (or completes one): every lab's starter is copied in, except where the lab
 * folder already holds something (never overwritten). README.md and .gitignore are written when missing.
 */
export async function initWorkspace(dir: string, labs: Lab[]): Promise<InitResult> {
  const workspace = path.resolve(dir);
  await mkdir(workspace, { recursive: true });
  const result: InitResult = { workspace, created: [], kept: [], files: [] };
  for (const lab of labs) {
    const dest = labDir(workspace, lab.id);
    if (isNonEmptyDir(dest) || (existsSync(dest) && !statSync(dest).isDirectory())) {
      result.kept.push(lab.id);
      continue;
    }
    if (existsSync(dest)) await rm(dest, { recursive: true }); // an empty folder
    await copyDirAtomic(starterLabDir(lab), dest);
    result.created.push(lab.id);
  }
  result.files = await ensureWorkspaceFiles(workspace, labs);
  return result;
}

/**
 * README.md, .gitignore, package.json ({"type": "module"}, seclab as a dependency) and .seclab/, each only when
 * missing, and node_modules/seclab (see linkSeclab). Returns the files it wrote.
 */
export async function ensureWorkspaceFiles(workspace: string, labs: Lab[]): Promise<string[]> {
  const written: string[] = [];
  const files: [string, string][] = [['README.md', workspaceReadme(labs)], ['.gitignore', WORKSPACE_GITIGNORE], ['package.json', workspacePackageJson()]];
  for (const [name, text] of files) {
    const file = path.join(workspace, name);
    if (existsSync(file)) continue;
    await writeFileAtomic(file, text);
    written.push(name);
  }
  await mkdir(path.join(workspace, PROGRESS_DIR), { recursive: true });
  // `npx seclab` in the workspace: best effort (a file system without links still has package.json).
  await linkSeclab(workspace).catch(() => false);
  return written;
}

/**
 * Creates `<workspace>/<lab>/` from the starter when it is missing or empty (and the workspace's own
 * files when they are missing). Returns whether it created the lab folder.
 */
export async function ensureLabFolder(workspace: string, lab: Lab, labs: Lab[] = [lab]): Promise<boolean> {
  const dest = labDir(workspace, lab.id);
  if (isNonEmptyDir(dest)) return false;
  await ensureWorkspaceFiles(workspace, labs);
  if (existsSync(dest)) await rm(dest, { recursive: true });
  await copyDirAtomic(starterLabDir(lab), dest);
  return true;
}

function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/**
 * Restores a lab's starter. The old folder is kept as `<lab>.bak-<timestamp>`; the new one is copied
 * beside it first and swapped in with renames, so an interruption leaves either the old or the new.
 */
export async function resetLab(workspace: string, lab: Lab, now = new Date()): Promise<{ backup?: string; folder: string }> {
  const dest = labDir(workspace, lab.id);
  const staged = tempName(dest);
  trackTemp(staged);
  try {
    await cp(starterLabDir(lab), staged, { recursive: true });
    let backup: string | undefined;
    if (existsSync(dest)) {
      backup = `${dest}.bak-${stamp(now)}`;
      let n = 1;
      while (existsSync(backup)) backup = `${dest}.bak-${stamp(now)}-${n++}`;
      renameSync(dest, backup);
    }
    try {
      await rename(staged, dest);
    } catch (e) {
      if (backup) renameSync(backup, dest); // put the work back
      throw e;
    }
    return { backup, folder: dest };
  } finally {
    pendingTemps.delete(staged);
    await rm(staged, { recursive: true, force: true });
  }
}

/** Lab ids with a folder in the workspace. */
export async function labsInWorkspace(workspace: string, labIds: string[]): Promise<string[]> {
  const names = new Set(await readdir(workspace).catch(() => [] as string[]));
  return labIds.filter((id) => names.has(id));
}
