// Reading and writing inside an instance root with chroot semantics (links followed inside the root,
// never onto the machine). Writes go through src/host/image.ts's writeInstanceFile.
import { chown, lstat, mkdir, readFile, symlink, rm, chmod } from 'node:fs/promises';
import path from 'node:path';
import { RootFs } from '../../controls/cis/rootfs.ts';
import { writeInstanceFile } from '../image.ts';

export { writeInstanceFile };

/** The machine path of `p` inside `root`, links resolved inside the root; undefined when missing. */
export function resolveIn(root: string, p: string): string | undefined {
  const r = new RootFs(root).resolve(p);
  return r === null ? undefined : path.join(path.resolve(root), r);
}

export async function readIn(root: string, p: string): Promise<string | undefined> {
  const h = resolveIn(root, p);
  if (!h) return undefined;
  try {
    return await readFile(h, 'utf8');
  } catch {
    return undefined;
  }
}

/** mkdir -p inside the root (through writeInstanceFile's walk: a placeholder file created and removed). */
export async function mkdirIn(root: string, dir: string, mode = 0o755, owner?: { uid: number; gid: number }): Promise<string> {
  const existing = resolveIn(root, dir);
  if (existing) {
    const st = await lstat(existing);
    if (!st.isDirectory()) throw new Error(`${dir} exists and is not a directory`);
    return existing;
  }
  const placeholder = await writeInstanceFile(root, path.posix.join(path.posix.resolve('/', dir), '.seclab-mkdir'), '');
  await rm(placeholder, { force: true });
  const made = path.dirname(placeholder);
  await chmod(made, mode);
  if (owner) await chown(made, owner.uid, owner.gid);
  return made;
}

/** Write a file and set its owner (numeric) and mode. */
export async function writeIn(root: string, p: string, content: string | Buffer, mode?: number, owner?: { uid: number; gid: number }): Promise<string> {
  const h = await writeInstanceFile(root, p, content, mode);
  if (owner) await chown(h, owner.uid, owner.gid);
  if (mode !== undefined) await chmod(h, mode); // chown clears set-id bits
  return h;
}

/** A symbolic link at `p` (replacing what is there), its parent resolved inside the root. */
export async function symlinkIn(root: string, p: string, target: string): Promise<void> {
  const abs = path.posix.resolve('/', p);
  const parent = await mkdirIn(root, path.posix.dirname(abs));
  const dest = path.join(parent, path.posix.basename(abs));
  await rm(dest, { force: true });
  await symlink(target, dest);
}

export async function mkdirHost(p: string): Promise<void> {
  await mkdir(p, { recursive: true });
}
