// Runs a command of the user data *inside* an instance's root filesystem, never on the grader's own:
// bubblewrap with the instance folder as `/`, a fresh /proc, /dev, /tmp and /run, no network (its own
// empty network namespace), its own PID, IPC and UTS namespaces, dying with seclab, under a time limit
// and an output limit. As root on the machine: root inside with every capability dropped except what
// package scripts, chown and chmod need (no CAP_SYS_ADMIN, so no mount, no namespace escape). As
// another user: a user namespace in which that user is root (files it cannot map stay nobody's).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, statSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { tasksOfThisUser } from '../../cloud/sandbox/index.ts';

export interface ShellLimits {
  /** Wall-clock limit of one command, ms. */
  timeoutMs: number;
  /** Output kept (stdout and stderr together); more stops the command. */
  outputBytes: number;
  /** Largest file a command may write, MB (RLIMIT_FSIZE). */
  fileSizeMb: number;
  /**
   * Disk space a command may take, MB: the free space of the file system holding the root is watched
   * and the command stopped when it drops by more than this (or below 256 MiB free).
   */
  diskMb: number;
}

export const DEFAULT_LIMITS: ShellLimits = { timeoutMs: 120_000, outputBytes: 1024 * 1024, fileSizeMb: 512, diskMb: 2048 };

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  timedOut: boolean;
  truncated: boolean;
  /** Stopped for taking more disk space than limits.diskMb. */
  diskFull?: boolean;
  ms: number;
}

export interface Mount {
  host: string;
  inside: string;
  rw?: boolean;
}

export interface RunOptions {
  limits?: Partial<ShellLimits>;
  env?: Record<string, string>;
  /** Extra mounts (read-only unless rw): seclab's package cache for `packages`. */
  mounts?: Mount[];
  /** Working directory inside (default /). */
  cwd?: string;
  /** stdin content. */
  input?: string;
  /**
   * A fixed command of seclab's own (ssh-keygen for host keys), not the user data's: allowed in a root
   * that shares /usr with the image, since it writes only where it is told to.
   */
  ownCommand?: boolean;
}

export interface ExecProbe {
  ok: boolean;
  detail: string;
  bwrap?: string;
}

let probed: ExecProbe | undefined;
const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

function bwrapPath(): string | undefined {
  if (process.env.SECLAB_BWRAP) return process.env.SECLAB_BWRAP;
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin', '/bin']) {
    if (dir && existsSync(path.join(dir, 'bwrap'))) return path.join(dir, 'bwrap');
  }
  return undefined;
}

/** Can this machine run user-data commands in an isolated root? (Tried once.) */
export function probeExec(): ExecProbe {
  if (probed) return probed;
  if (process.env.SECLAB_SANDBOX === 'off' || process.env.SECLAB_HOST_EXEC === 'off') {
    return (probed = { ok: false, detail: 'turned off (SECLAB_SANDBOX=off or SECLAB_HOST_EXEC=off)' });
  }
  if (process.platform !== 'linux') return (probed = { ok: false, detail: `no bubblewrap on ${process.platform}` });
  const bwrap = bwrapPath();
  if (!bwrap) return (probed = { ok: false, detail: 'bubblewrap (bwrap) is not installed: apt-get install bubblewrap' });
  const r = spawnSync(bwrap, [...namespaceArgs(), '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--', '/bin/true'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) {
    return (probed = { ok: false, detail: `bubblewrap cannot create namespaces here (${(r.stderr || r.error?.message || `exit ${String(r.status)}`).trim().split('\n')[0]}); allow unprivileged user namespaces, or run as root` });
  }
  return (probed = { ok: true, bwrap, detail: `bubblewrap (${bwrap}), ${isRoot() ? 'root inside with reduced capabilities' : 'root inside a user namespace'}, no network` });
}

/** For tests. */
export function resetExecProbe(): void {
  probed = undefined;
}

/** What package scripts, chown/chmod, useradd and setcap need; nothing else (no SYS_ADMIN, NET_*, MKNOD, SYS_*). */
export const KEPT_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_SETUID', 'CAP_SETGID', 'CAP_SETFCAP', 'CAP_KILL', 'CAP_AUDIT_WRITE'];

function namespaceArgs(): string[] {
  const a: string[] = [];
  if (isRoot()) a.push('--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try');
  else a.push('--unshare-all', '--uid', '0', '--gid', '0');
  a.push('--die-with-parent', '--new-session', '--cap-drop', 'ALL');
  for (const c of KEPT_CAPS) a.push('--cap-add', c);
  return a;
}

/**
 * Refuses a root whose /usr shares inodes with the image (cloneImage's `link-usr`): a command writing
 * into a file in place (`echo >> /usr/...`) would change the image and every other instance.
 */
export function sharedUsr(root: string): boolean {
  for (const f of ['usr/bin/dash', 'usr/bin/bash', 'usr/bin/dpkg']) {
    try {
      const st = lstatSync(path.join(root, f));
      if (st.isFile()) return st.nlink > 1;
    } catch {
      // not there
    }
  }
  return false;
}

export class ExecRefused extends Error {}

/**
 * The parts of /proc that reach the machine's kernel rather than the sandbox's namespaces: root (uid 0,
 * even without capabilities) could write kernel settings in /proc/sys (kernel.*, vm.*, fs.* are global:
 * `echo 0 > /proc/sys/kernel/randomize_va_space` would turn ASLR off on the grader), trigger SysRq, or
 * read kernel memory maps. As container runtimes do (Docker's readonly and masked paths), they are made
 * read-only (a read-only bind of the machine's own, so reading sysctls still works) or masked.
 */
export const PROC_READONLY = ['sys', 'sysrq-trigger', 'irq', 'bus', 'fs'];
export const PROC_MASKED = ['kcore', 'keys', 'timer_list', 'sched_debug', 'latency_stats', 'kallsyms', 'kmsg', 'kpagecount', 'kpageflags', 'kpagecgroup', 'acpi', 'scsi', 'config.gz'];

export function procCovers(): string[] {
  const a: string[] = [];
  for (const e of PROC_READONLY) if (existsSync(`/proc/${e}`)) a.push('--ro-bind', `/proc/${e}`, `/proc/${e}`);
  for (const e of PROC_MASKED) {
    let st;
    try {
      st = lstatSync(`/proc/${e}`);
    } catch {
      continue;
    }
    if (st.isDirectory()) a.push('--tmpfs', `/proc/${e}`, '--remount-ro', `/proc/${e}`);
    else a.push('--ro-bind', '/dev/null', `/proc/${e}`);
  }
  return a;
}

/** The bwrap command line for `argv` in `root` (exported for the isolation tests). */
export function bwrapArgs(root: string, argv: string[], opts: RunOptions = {}): string[] {
  // cloud-init's scripts run from a systemd unit: PATH and the locale, no HOME, USER or TERM (a script
  // relying on ~ behaves on the model as on AWS).
  const env: Record<string, string> = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', ...opts.env };
  const a = ['--bind', root, '/', ...namespaceArgs(), '--hostname', 'ip-10-0-0-10', '--proc', '/proc', ...procCovers(), '--dev', '/dev'];
  a.push('--tmpfs', '/tmp', '--chmod', '1777', '/tmp', '--tmpfs', '/run', '--dir', '/run/lock');
  for (const m of opts.mounts ?? []) a.push(m.rw ? '--bind' : '--ro-bind', m.host, m.inside);
  a.push('--clearenv');
  for (const [k, v] of Object.entries(env)) a.push('--setenv', k, v);
  a.push('--chdir', opts.cwd ?? '/');
  a.push('--', ...argv);
  return a;
}

/**
 * The limits, set by the machine's own prlimit around bwrap (inherited by everything inside; a script
 * cannot replace that prlimit as it could the instance's): file size, 2 GiB of data per process, processes (RLIMIT_NPROC counts
 * this user id's processes on the machine, so the current count plus a margin), no core dumps.
 */
export function limitedCommand(bwrap: string, args: string[], limits: ShellLimits): { file: string; args: string[] } {
  const prlimit = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p));
  if (!prlimit) return { file: bwrap, args };
  return { file: prlimit, args: [`--fsize=${limits.fileSizeMb * 1024 * 1024}`, `--data=${2 * 1024 ** 3}`, `--nproc=${tasksOfThisUser() + 512}`, '--core=0', '--nofile=4096', '--', bwrap, ...args] };
}

/** Run one command inside the instance root. */
export function runInRoot(root: string, argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const probe = probeExec();
  if (!probe.ok) return Promise.reject(new ExecRefused(`shell commands of user data are not run on this machine: ${probe.detail}`));
  const abs = path.resolve(root);
  if (!statSync(abs).isDirectory()) return Promise.reject(new ExecRefused(`${root} is not a folder`));
  if (!opts.ownCommand && sharedUsr(abs)) return Promise.reject(new ExecRefused(`${root} shares /usr with the image by hard links (a link-usr copy): a command writing a file in place would change the image; use a full copy (cloneImage mode 'copy')`));
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const { file, args } = limitedCommand(probe.bwrap!, bwrapArgs(abs, argv, opts), limits);
    const child = spawn(file, args, { stdio: [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'], detached: true, env: {} });
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    let timedOut = false;
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    };
    const onData = (b: Buffer) => {
      if (truncated) return;
      if (size + b.length > limits.outputBytes) {
        chunks.push(b.subarray(0, limits.outputBytes - size));
        size = limits.outputBytes;
        truncated = true;
        kill();
        return;
      }
      chunks.push(b);
      size += b.length;
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, limits.timeoutMs);
    const free = () => {
      const f = statfsSync(abs);
      return f.bavail * f.bsize;
    };
    const freeAtStart = free();
    let diskFull = false;
    const watch = setInterval(() => {
      const now = free();
      if (freeAtStart - now > limits.diskMb * 1024 * 1024 || now < 256 * 1024 * 1024) {
        diskFull = true;
        kill();
      }
    }, 250);
    child.on('error', (e) => {
      clearTimeout(timer);
      clearInterval(watch);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(watch);
      let output = Buffer.concat(chunks).toString('utf8');
      if (truncated) output += `\n[seclab: output over ${limits.outputBytes} bytes: the command was stopped]\n`;
      if (timedOut) output += `\n[seclab: time limit of ${limits.timeoutMs / 1000} s reached: the command was stopped]\n`;
      if (diskFull) output += `\n[seclab: the command took more than ${limits.diskMb} MB of disk: it was stopped]\n`;
      resolve({ code, signal, output, timedOut, truncated, diskFull, ms: Math.round(performance.now() - started) });
    });
  });
}
