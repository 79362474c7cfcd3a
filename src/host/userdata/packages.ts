// `packages:` the way cloud-init does it on Debian (apt-get update, then apt-get install with the
// archive's dependencies and recommends), split in two so that student input never meets the network:
// 1. seclab fetches: the *image's own* apt (built by seclab, never the instance's, whose apt
//    configuration user data may have changed) runs in bubblewrap over the read-only image with network
//    access to the Debian mirror, and downloads the .deb files into seclab's cache (images/.debs, the
//    same cache the image build fills). Only validated package names reach its command line.
// 2. the instance installs: apt-get inside the instance's sandbox (no network), from that cache mounted
//    read-only, so dpkg and the packages' maintainer scripts really run in the instance root.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { imagePath, imagesDir } from '../image.ts';
import { probeExec, procCovers, runInRoot, type RunResult } from './sandbox.ts';

/** A Debian package name, optionally =version (as cloud-init accepts `[name, version]`). */
export const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]{0,99}(=[A-Za-z0-9.+~:-]{1,100})?$/;

export function packageCache(): { debs: string; lists: string } {
  const debs = path.join(imagesDir(), '.debs');
  const lists = path.join(imagesDir(), '.apt-lists');
  for (const d of [debs, path.join(debs, 'partial'), lists, path.join(lists, 'partial')]) mkdirSync(d, { recursive: true });
  return { debs, lists };
}

const APT_OFFLINE_OPTS = ['-o', 'Debug::NoLocking=1', '-o', 'Dir::Cache::pkgcache=', '-o', 'Dir::Cache::srcpkgcache=', '-o', 'APT::Sandbox::User=root'];

/** Lists older than this are refreshed before a fetch. */
const LISTS_MAX_AGE_MS = 24 * 3600 * 1000;

function bwrapRun(args: string[], timeoutMs: number): Promise<RunResult> {
  const probe = probeExec();
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(probe.bwrap!, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: {} });
    let out = '';
    let timedOut = false;
    const on = (b: Buffer) => { if (out.length < 512 * 1024) out += b.toString(); };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    const t = setTimeout(() => { timedOut = true; try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, timeoutMs);
    child.on('error', (e) => { clearTimeout(t); reject(e); });
    child.on('close', (code, signal) => { clearTimeout(t); resolve({ code, signal, output: out, timedOut, truncated: false, ms: Math.round(performance.now() - started) }); });
  });
}

/**
 * Download what installing `names` into the instance needs (judged against the instance's own dpkg
 * status) into seclab's cache, with the image's apt and the Debian mirror. No-op for what is cached.
 */
export async function fetchPackages(instanceRoot: string, names: string[], log: (l: string) => void, image = imagePath()): Promise<RunResult> {
  const { debs, lists } = packageCache();
  const stale = !existsSync(path.join(lists, 'lock')) || Date.now() - statSync(path.join(lists, 'lock')).mtimeMs > LISTS_MAX_AGE_MS
    || !(await import('node:fs')).readdirSync(lists).some((f) => f.endsWith('_Packages') || f.endsWith('_Packages.lz4'));
  const base = ['--ro-bind', image, '/', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--tmpfs', '/run',
    '--bind', lists, '/var/lib/apt/lists', '--bind', debs, '/var/cache/apt/archives',
    '--ro-bind', path.join(instanceRoot, 'var/lib/dpkg/status'), '/var/lib/dpkg/status',
    '--ro-bind', '/etc/resolv.conf', '/etc/resolv.conf',
    '--unshare-ipc', '--unshare-pid', '--unshare-uts', '--die-with-parent', '--new-session', ...procCovers(),
    '--cap-drop', 'ALL', '--cap-add', 'CAP_CHOWN', '--cap-add', 'CAP_DAC_OVERRIDE', '--cap-add', 'CAP_FOWNER',
    '--clearenv', '--setenv', 'PATH', '/usr/sbin:/usr/bin:/sbin:/bin', '--setenv', 'DEBIAN_FRONTEND', 'noninteractive', '--setenv', 'LANG', 'C.UTF-8', '--'];
  if (process.getuid?.() !== 0) base.unshift('--unshare-user', '--uid', '0', '--gid', '0');
  if (stale) {
    log('apt-get update (seclab\'s package cache, with the image\'s apt)');
    const u = await bwrapRun([...base, 'apt-get', ...APT_OFFLINE_OPTS, '-q', 'update'], 300_000);
    if (u.code !== 0) return u;
    await writeFile(path.join(lists, 'lock'), '');
  }
  return bwrapRun([...base, 'apt-get', ...APT_OFFLINE_OPTS, '-q', '-y', '--download-only', 'install', ...names], 600_000);
}

/** `apt-get install` as cloud-init runs it, inside the instance (no network), from seclab's cache. */
export async function installPackages(root: string, names: string[], timeoutMs: number): Promise<RunResult> {
  const { debs, lists } = packageCache();
  return runInRoot(root, ['apt-get', '--option=Dpkg::Options::=--force-confold', '--option=Dpkg::options::=--force-unsafe-io',
    '-o', 'Dir::Cache::Archives=/tmp/.seclab-debs', '-o', 'Debug::NoLocking=1', '--no-download', '--assume-yes', '--quiet', 'install', ...names], {
    mounts: [{ host: debs, inside: '/tmp/.seclab-debs' }, { host: lists, inside: '/var/lib/apt/lists' }],
    env: { DEBIAN_FRONTEND: 'noninteractive' },
    limits: { timeoutMs, outputBytes: 4 * 1024 * 1024 },
  });
}
