// The base image of the `host` lab: a Debian 12 (bookworm) root filesystem built with debootstrap from
// Debian's own packages, with what Debian's official EC2 images ship for an admin to log in and for
// user data to run (cloud-init, openssh-server, sudo, chrony, ...). Built once into seclab's cache
// (~/.cache/seclab/images/debian-12-<variant>), never committed. An instance gets a cheap copy of it
// (`cloneImage`). See src/host/README.md for the choices and the measurements.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, rename, rm, stat, writeFile, lstat } from 'node:fs/promises';
import path from 'node:path';
import { cacheDir } from '../cloud/targets/python.ts';

export const DEBIAN_SUITE = 'bookworm';
export const DEFAULT_VARIANT = 'ec2';

/**
 * Packages added to debootstrap's `minbase` for the `ec2` variant: what an admin and cloud-init need
 * on Debian's official EC2 image (debian-cloud-images "ec2" class) and its cloud kernel, without the
 * boot loader a folder never boots from (grub-pc/grub-efi need a disk to install to). All are in
 * Debian main (DFSG-free licences; each package's /usr/share/doc/<pkg>/copyright is kept in the image).
 */
export const EC2_PACKAGES: readonly string[] = [
  'systemd', 'systemd-sysv', 'dbus', 'udev', 'ifupdown', 'isc-dhcp-client', 'iproute2', 'netbase',
  'openssh-server', 'sudo', 'chrony', 'cloud-init', 'cloud-guest-utils', 'ca-certificates', 'curl',
  'gnupg', 'apt-utils', 'unattended-upgrades', 'cron', 'logrotate', 'less', 'procps', 'vim-tiny',
  'locales', 'python3', 'libpam-modules',
  // The kernel Debian's EC2 images boot (its modules under /lib/modules make "module not available"
  // checks real, and scanners such as OpenSCAP treat a root without a kernel as a container).
  `linux-image-cloud-${process.arch === 'arm64' ? 'arm64' : 'amd64'}`,
];

export const VARIANTS: Record<string, readonly string[]> = {
  ec2: EC2_PACKAGES,
  /** debootstrap's minbase alone: for quick experiments. */
  minbase: [],
};

export function imagesDir(): string {
  return path.join(cacheDir(), 'images');
}

export function imagePath(variant = DEFAULT_VARIANT): string {
  return path.join(imagesDir(), `debian-12-${variant}`);
}

/** The manifest written last into a finished image: its presence means the image is complete. */
export const MANIFEST = '.seclab-image.json';

export interface ImageManifest {
  distribution: 'debian';
  release: '12';
  suite: string;
  variant: string;
  mirror: string;
  packages: readonly string[];
  builtAt: string;
  debootstrapVersion: string;
  buildSeconds: number;
  bytes: number;
  files: number;
  installedPackages: number;
}

export interface ImageStatus {
  path: string;
  built: boolean;
  manifest?: ImageManifest;
}

export async function imageStatus(variant = DEFAULT_VARIANT): Promise<ImageStatus> {
  const p = imagePath(variant);
  try {
    const manifest = JSON.parse(await readFile(path.join(p, MANIFEST), 'utf8')) as ImageManifest;
    return { path: p, built: true, manifest };
  } catch {
    return { path: p, built: false };
  }
}

/** Where debootstrap is, or undefined (it lives in /usr/sbin, often not on a user's PATH). */
export function findDebootstrap(): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/sbin']) {
    if (!dir) continue;
    const p = path.join(dir, 'debootstrap');
    if (existsSync(p)) return p;
  }
  return undefined;
}

export function debootstrapVersion(bin = findDebootstrap()): string | undefined {
  if (!bin) return undefined;
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim().replace(/^debootstrap\s+/, '') : undefined;
}

export const INSTALL_DEBOOTSTRAP_HINT = 'apt-get install debootstrap (as root; on other distributions: the debootstrap package, or build the image on a Debian/Ubuntu machine)';

export class ImageBuildError extends Error {
  constructor(message: string, readonly fix?: string) {
    super(message);
    this.name = 'ImageBuildError';
  }
}

export interface BuildOptions {
  variant?: string;
  mirror?: string;
  /** Rebuild even when the image is there. */
  force?: boolean;
  /** Progress lines (debootstrap's own output goes here too). */
  log?: (line: string) => void;
}

/**
 * Build the image once (a no-op when it is there). Atomic: debootstrap works in
 * images/.tmp-debian-12-<variant>-<pid>, and only a finished tree with its manifest is renamed into
 * place. Resumable: downloaded .deb files are kept in images/.debs, so a build interrupted by a
 * network error does not download them again. Needs root (debootstrap chroots and sets owners).
 */
export async function buildImage(opts: BuildOptions = {}): Promise<ImageStatus> {
  const variant = opts.variant ?? DEFAULT_VARIANT;
  const packages = VARIANTS[variant];
  if (!packages) throw new ImageBuildError(`unknown image variant ${variant} (known: ${Object.keys(VARIANTS).join(', ')})`);
  const log = opts.log ?? (() => {});
  const current = await imageStatus(variant);
  if (current.built && !opts.force) return current;
  const bin = findDebootstrap();
  if (!bin) throw new ImageBuildError('debootstrap is not installed', INSTALL_DEBOOTSTRAP_HINT);
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new ImageBuildError('building the Debian image needs root (debootstrap chroots into it and sets file owners)', `run it as root once: sudo npx tsx src/host/build.ts (the image lands in ${imagesDir()} of that user; set SECLAB_CACHE_DIR to share it)`);
  }
  const mirror = opts.mirror ?? process.env.SECLAB_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
  const dir = imagesDir();
  const debs = path.join(dir, '.debs');
  await mkdir(debs, { recursive: true });
  // Leftovers of builds that died (their process is gone) are removed first.
  for (const name of await readdir(dir)) {
    const m = /^\.tmp-.*-(\d+)$/.exec(name);
    if (m && !pidAlive(Number(m[1]))) {
      // A build killed during apt may have left /proc mounted in its tree: unmount before removing.
      await run('umount', ['-l', path.join(dir, name, 'proc')], () => {}).catch(() => {});
      await rm(path.join(dir, name), { recursive: true, force: true });
    }
  }
  const tmp = path.join(dir, `.tmp-debian-12-${variant}-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  const started = performance.now();
  // debootstrap installs its own base with a naive ordering; the rest goes in with apt inside the
  // chroot (real dependency ordering, so postinst scripts such as python3's find what they need).
  const args = ['--variant=minbase', `--cache-dir=${debs}`, '--merged-usr', `--include=${BOOTSTRAP_PACKAGES.join(',')}`, DEBIAN_SUITE, tmp, mirror];
  log(`debootstrap ${args.join(' ')}`);
  try {
    await run(bin, args, log);
    if (packages.length) await aptInstall(tmp, debs, packages, log);
    await finishImage(tmp, log);
    const { bytes, files } = await treeSize(tmp);
    const status = await readFile(path.join(tmp, 'var/lib/dpkg/status'), 'utf8');
    const manifest: ImageManifest = {
      distribution: 'debian', release: '12', suite: DEBIAN_SUITE, variant, mirror, packages,
      builtAt: new Date().toISOString(), debootstrapVersion: debootstrapVersion(bin) ?? 'unknown',
      buildSeconds: Math.round((performance.now() - started) / 100) / 10,
      bytes, files, installedPackages: (status.match(/^Status: install ok installed$/gm) ?? []).length,
    };
    await writeFile(path.join(tmp, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
    const final = imagePath(variant);
    if (existsSync(final)) {
      const old = `${final}.old-${process.pid}`;
      await rename(final, old);
      await rename(tmp, final);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, final);
    }
    log(`image ready: ${final} (${manifest.buildSeconds} s, ${(bytes / 2 ** 20).toFixed(0)} MiB, ${files} files, ${manifest.installedPackages} packages)`);
    return { path: final, built: true, manifest };
  } catch (e) {
    // Keep debootstrap's own log for diagnosis before the half-built tree goes.
    await readFile(path.join(tmp, 'debootstrap/debootstrap.log')).then((b) => writeFile(path.join(dir, 'last-build-debootstrap.log'), b)).catch(() => {});
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    if (e instanceof ImageBuildError) throw e;
    throw new ImageBuildError(`building the Debian 12 image failed: ${(e as Error).message}`, `check the network access to ${mirror} (or set SECLAB_DEBIAN_MIRROR) and run the build again: downloaded packages are kept`);
  }
}

/** Installed by debootstrap itself: what apt needs to run in the chroot. */
export const BOOTSTRAP_PACKAGES: readonly string[] = ['apt', 'ca-certificates', 'debconf', 'gpgv'];

/**
 * apt-get install inside the chroot, with /proc mounted for the maintainer scripts, services kept from
 * starting (policy-rc.d exit 101, the Debian convention for image builds) and the .deb cache shared
 * with debootstrap's. Never runs anything on the build machine itself outside the chroot.
 */
async function aptInstall(root: string, debs: string, packages: readonly string[], log: (l: string) => void): Promise<void> {
  const policy = path.join(root, 'usr/sbin/policy-rc.d');
  await writeFile(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  const archives = path.join(root, 'var/cache/apt/archives');
  const proc = path.join(root, 'proc');
  await mkdir(proc, { recursive: true });
  await run('mount', ['-t', 'proc', 'proc', proc], log);
  try {
    // Reuse downloaded packages: copy the cache in (hard links when on the same file system).
    await run('sh', ['-c', `cp -l ${JSON.stringify(debs)}/*.deb ${JSON.stringify(archives)}/ 2>/dev/null || cp ${JSON.stringify(debs)}/*.deb ${JSON.stringify(archives)}/ 2>/dev/null || true`], log);
    await run('chroot', [root, 'apt-get', 'update', '-q'], log);
    await run('chroot', [root, 'apt-get', 'install', '-y', '-q', '--no-install-recommends', ...packages], log);
    await run('sh', ['-c', `cp -n ${JSON.stringify(archives)}/*.deb ${JSON.stringify(debs)}/ 2>/dev/null || true`], log);
  } finally {
    await run('umount', [proc], log).catch(() => run('umount', ['-l', proc], log).catch(() => {}));
    await rm(policy, { force: true });
  }
}

/** What a first boot would have made, minus caches: the image is a template, not a booted machine. */
async function finishImage(root: string, log: (l: string) => void): Promise<void> {
  await writeFile(path.join(root, 'etc/hostname'), 'localhost\n');
  // debootstrap leaves the build machine's mode on it (0755 here); Debian's is 0644.
  await chmod(path.join(root, 'etc/hostname'), 0o644);
  // Each instance gets its own machine-id on first boot (systemd), so the template has an empty one.
  await writeFile(path.join(root, 'etc/machine-id'), '');
  await rm(path.join(root, 'var/lib/dbus/machine-id'), { force: true });
  // Host keys are generated per instance (cloud-init does so on first boot); the template has none.
  for (const f of await readdir(path.join(root, 'etc/ssh')).catch(() => [] as string[])) {
    if (/^ssh_host_.*_key(\.pub)?$/.test(f)) await rm(path.join(root, 'etc/ssh', f), { force: true });
  }
  for (const d of ['var/cache/apt/archives', 'var/lib/apt/lists']) {
    for (const f of await readdir(path.join(root, d)).catch(() => [] as string[])) {
      if (f.endsWith('.deb') || (d.endsWith('lists') && f !== 'partial' && f !== 'lock')) await rm(path.join(root, d, f), { force: true, recursive: true });
    }
  }
  await rm(path.join(root, 'var/log/bootstrap.log'), { force: true });
  log('image finished (empty machine-id, no SSH host keys, no apt caches)');
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function run(bin: string, args: string[], log: (l: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C', PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` } });
    let tail = '';
    const onData = (b: Buffer) => {
      const s = b.toString();
      tail = (tail + s).slice(-4000);
      for (const line of s.split('\n')) if (line.trim()) log(line);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(bin)} exited with ${code}: ${tail.trim().split('\n').slice(-5).join(' | ')}`))));
  });
}

export async function treeSize(root: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  const seen = new Set<number>();
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const s = await lstat(p);
        files++;
        if (!seen.has(s.ino)) {
          seen.add(s.ino);
          bytes += s.size;
        }
      }
    }
  };
  await walk(root);
  return { bytes, files };
}

export type CloneMode = 'copy' | 'link-usr';

export interface CloneResult {
  path: string;
  mode: CloneMode;
  ms: number;
}

/**
 * A root filesystem for one instance, made from the image.
 * - `link-usr` (default): /usr (where Debian 12 keeps every program and library; /bin, /lib, /sbin are
 *   symlinks into it) is hard-linked, file by file, with `cp -al`; everything else (/etc, /var, /root,
 *   /home, ...) is copied with `cp -a --reflink=auto`. Cheap and fast, but a file under /usr shares its
 *   inode with the image: whoever writes into an instance's /usr must replace files (write a new file and
 *   rename it over, as dpkg does) and never write into them in place — `writeInstanceFile` does that.
 * - `copy`: `cp -a --reflink=auto` of everything (free on btrfs/XFS, a full copy on ext4).
 */
export async function cloneImage(dest: string, opts: { variant?: string; mode?: CloneMode; image?: string } = {}): Promise<CloneResult> {
  const src = opts.image ?? imagePath(opts.variant ?? DEFAULT_VARIANT);
  const mode = opts.mode ?? 'link-usr';
  if (!existsSync(path.join(src, MANIFEST))) throw new ImageBuildError(`the image ${src} is not built`, 'npx tsx src/host/build.ts (as root), or set SECLAB_BUILD_IMAGES=1 for the tests');
  if (existsSync(dest)) throw new ImageBuildError(`${dest} already exists`);
  const started = performance.now();
  const tmp = `${dest}.tmp-${process.pid}`;
  await mkdir(path.dirname(dest), { recursive: true });
  await rm(tmp, { recursive: true, force: true });
  try {
    if (mode === 'copy') {
      await run('cp', ['-a', '--reflink=auto', src, tmp], () => {});
    } else {
      await mkdir(tmp);
      const entries = await readdir(src);
      const rest = entries.filter((e) => e !== 'usr').map((e) => path.join(src, e));
      if (rest.length) await run('cp', ['-a', '--reflink=auto', ...rest, tmp], () => {});
      await run('cp', ['-al', path.join(src, 'usr'), path.join(tmp, 'usr')], () => {});
      const s = await stat(src);
      const { chmod, chown } = await import('node:fs/promises');
      await chmod(tmp, s.mode & 0o7777);
      await chown(tmp, s.uid, s.gid).catch(() => {});
    }
    await rename(tmp, dest);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw e;
  }
  return { path: dest, mode, ms: Math.round(performance.now() - started) };
}

/**
 * Write a file inside an instance's root filesystem without touching the image or the machine: the new
 * content goes into a fresh inode renamed over the old path (so a hard link into the image is broken,
 * not written through). Directories are resolved with chroot semantics: a symbolic link in the root
 * (absolute or relative, e.g. one a student's user data planted pointing at /etc) is followed *inside*
 * the root, never onto the machine's own files; a final component that is a link is replaced, not
 * followed. A replaced file keeps its owner, group and (unless `mode` is given) its mode, as an editor or
 * `install -m` would leave it. Returns the path written on the machine.
 */
export async function writeInstanceFile(root: string, rel: string, content: string | Uint8Array, mode?: number): Promise<string> {
  const rootAbs = path.resolve(root);
  const normalized = path.posix.resolve('/', rel);
  if (normalized === '/') throw new Error(`${rel} is not a file path`);
  const { RootFs } = await import('../controls/cis/rootfs.ts');
  // Walk the parent directories inside the root, following links there, creating what is missing.
  let cur = '/';
  for (const part of path.posix.dirname(normalized).split('/').filter(Boolean)) {
    const next = path.posix.join(cur, part);
    const resolved = new RootFs(rootAbs).resolve(next);
    if (resolved === null) {
      // Missing: create it, unless the entry is a link whose target (inside the root) is missing, which
      // fails as it would on the instance (ENOENT), rather than being created somewhere.
      if (await lstat(path.join(rootAbs, next)).then((x) => x.isSymbolicLink(), () => false)) {
        throw Object.assign(new Error(`${next} is a link to something that does not exist in the root filesystem`), { code: 'ENOENT' });
      }
      await mkdir(path.join(rootAbs, next));
      cur = next;
    } else {
      const st = await lstat(path.join(rootAbs, resolved));
      if (!st.isDirectory()) throw new Error(`${next} is not a directory in ${rootAbs}`);
      cur = resolved;
    }
  }
  const target = path.join(rootAbs, cur, path.posix.basename(normalized));
  if (!target.startsWith(rootAbs + path.sep)) throw new Error(`${rel} is outside the root filesystem`);
  const old = await lstat(target).catch(() => undefined);
  const tmp = `${target}.seclab-new-${process.pid}`;
  await writeFile(tmp, content, { flag: 'wx' });
  const { chmod, chown } = await import('node:fs/promises');
  await chmod(tmp, mode ?? (old?.isFile() ? old.mode & 0o7777 : 0o644));
  if (old?.isFile()) await chown(tmp, old.uid, old.gid).catch(() => {});
  await rename(tmp, target);
  return target;
}

/** `seclab doctor`'s row for the host lab: is debootstrap there, is the image built? (Optional.) */
export async function checkHostImage(): Promise<{ name: string; ok: boolean; optional: true; detail: string; fix?: string }> {
  const s = await imageStatus();
  const deb = findDebootstrap();
  if (s.built && s.manifest) {
    return { name: 'Host image', ok: true, optional: true, detail: `Debian 12 ${s.manifest.variant} image at ${s.path} (${(s.manifest.bytes / 2 ** 20).toFixed(0)} MiB, ${s.manifest.installedPackages} packages, built ${s.manifest.builtAt.slice(0, 10)})${deb ? '' : '; debootstrap not installed (only needed to rebuild it)'}` };
  }
  if (deb) return { name: 'Host image', ok: true, optional: true, detail: `not built yet; debootstrap ${debootstrapVersion(deb) ?? ''} will build it into ${s.path} on first use (as root, about 4-5 minutes, needs the Debian archive)`.replace('  ', ' ') };
  return { name: 'Host image', ok: false, optional: true, detail: `not built and debootstrap is not installed; only the host lab needs it`, fix: INSTALL_DEBOOTSTRAP_HINT };
}

/**
 * The image for tests and benchmarks: the cached one, or (with SECLAB_BUILD_IMAGES=1, as root, with
 * debootstrap) a fresh build; otherwise a reason to skip.
 */
export async function imageForTests(log: (l: string) => void = () => {}): Promise<{ path: string } | { skip: string }> {
  const s = await imageStatus();
  if (s.built) return { path: s.path };
  if (process.env.SECLAB_BUILD_IMAGES !== '1') return { skip: `the Debian 12 image is not built (${s.path}); set SECLAB_BUILD_IMAGES=1 to build it (about 4-5 minutes, root, network access to the Debian archive), or run npx tsx src/host/build.ts` };
  if (!findDebootstrap()) return { skip: `SECLAB_BUILD_IMAGES=1 but debootstrap is not installed: ${INSTALL_DEBOOTSTRAP_HINT}` };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return { skip: 'SECLAB_BUILD_IMAGES=1 but building the image needs root' };
  return { path: (await buildImage({ log })).path };
}
