// Runs code that a submission supplies (students' solutions, Lambda handlers) isolated from the grader:
// on Linux inside bubblewrap namespaces (its own mount, PID, network, IPC and UTS namespaces), seeing
// only the runtime it needs and its own folder, reaching the lab cloud's gateway through one Unix
// socket and nothing else on the network, under a user id of its own with limits on memory, CPU
// time, processes, file size and open files. Everything it starts dies with it (PID namespace).
// docs/security.md says what each platform gets.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { randomInt } from 'node:crypto';

export type SandboxKind = 'bwrap' | 'none';

export interface SandboxProbe {
  kind: SandboxKind;
  /** Why there is no sandbox, or which one there is, for `seclab doctor` and error messages. */
  detail: string;
  /** Whether processes get a user id of their own (seclab runs as root): per-sandbox process limits. */
  ownUid: boolean;
}

export interface SandboxLimits {
  /** Data segment (heap, buffers) per process, MB. */
  memoryMb: number;
  /** CPU time per process, s. */
  cpuSeconds: number;
  /** Processes and threads (for the sandbox's own user id when seclab runs as root). */
  processes: number;
  /** Largest file it may write, MB. */
  fileSizeMb: number;
  openFiles: number;
}

export interface SandboxSpec {
  /** The program and its arguments (absolute paths). */
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** Host paths visible read-only at the same path inside. */
  readOnly: string[];
  /** Host paths visible read-write at the same path inside. */
  writable?: string[];
  /** Host path -> path inside (read-only unless rw): the lab clock, a submission's staged copy. */
  mounts?: { host: string; inside: string; rw?: boolean }[];
  /** The gateway's Unix socket: the only way out; shows inside as GATEWAY_SOCKET_INSIDE. */
  gatewaySocket?: string;
  limits: SandboxLimits;
}

export const GATEWAY_SOCKET_INSIDE = '/run/seclab/gateway.sock';

let probed: SandboxProbe | undefined;

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const f = path.join(dir, name);
    if (existsSync(f)) return f;
  }
  return undefined;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Whether this machine can sandbox submissions, tried once by running a trivial sandbox. */
export function probeSandbox(): SandboxProbe {
  if (probed) return probed;
  if (process.env['SECLAB_SANDBOX'] === 'off') return (probed = { kind: 'none', detail: 'turned off (SECLAB_SANDBOX=off)', ownUid: false });
  if (process.platform !== 'linux') {
    return (probed = { kind: 'none', detail: `no sandbox on ${process.platform} (seclab sandboxes with bubblewrap on Linux)`, ownUid: false });
  }
  const bwrap = bwrapPath();
  if (!bwrap) return (probed = { kind: 'none', detail: 'bubblewrap (bwrap) is not installed: apt-get install bubblewrap (or dnf/pacman install bubblewrap)', ownUid: false });
  const spec: SandboxSpec = { argv: ['/bin/true'], cwd: '/', env: {}, readOnly: [], limits: { memoryMb: 64, cpuSeconds: 5, processes: 64, fileSizeMb: 1, openFiles: 64 } };
  const { file, args } = sandboxCommand(spec, 'bwrap');
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || `exit ${String(r.status)}`).trim().split('\n')[0];
    return (probed = {
      kind: 'none', ownUid: false,
      detail: `bubblewrap cannot create namespaces here (${why}); on Ubuntu allow unprivileged user namespaces for bwrap (AppArmor), or run as root`,
    });
  }
  return (probed = { kind: 'bwrap', detail: `bubblewrap (${bwrap})${isRoot() ? ', a user id of its own per sandbox' : ''}`, ownUid: isRoot() });
}

function bwrapPath(): string | undefined {
  return process.env['SECLAB_BWRAP'] || findOnPath('bwrap');
}

/** A user id no account uses, different for every sandbox (process limits count per user id). */
export function sandboxUid(): number {
  return 200_000 + randomInt(0, 800_000);
}

/** The folder holding the Node.js installation (so /usr/bin/node and ~/.nvm/... both work). */
function nodePrefix(): string {
  const real = realpathSync(process.execPath);
  return path.dirname(path.dirname(real));
}

/** How many processes and threads this user runs now (RLIMIT_NPROC counts them all). */
export function tasksOfThisUser(): number {
  const uid = process.getuid?.();
  let n = 0;
  try {
    for (const e of readdirSync('/proc')) {
      if (!/^\d+$/.test(e)) continue;
      try {
        const st = readFileSync(`/proc/${e}/status`, 'utf8');
        const u = /^Uid:\s+(\d+)/m.exec(st);
        const t = /^Threads:\s+(\d+)/m.exec(st);
        if (u && Number(u[1]) === uid) n += Number(t?.[1] ?? 1);
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    return 4096;
  }
  return n;
}

/**
 * The command that runs `spec.argv` in the sandbox: bwrap, then (as root) setpriv to a user id of its
 * own, then prlimit with the limits, then the program. Without a sandbox: prlimit (where present) and
 * the program as it is.
 */
export function sandboxCommand(spec: SandboxSpec, kind: SandboxKind, uid = sandboxUid()): { file: string; args: string[] } {
  const l = spec.limits;
  const root = isRoot();
  const nproc = kind !== 'bwrap' ? 0 : root ? l.processes : tasksOfThisUser() + l.processes;
  const prlimit = existsSync('/usr/bin/prlimit') ? ['/usr/bin/prlimit',
    `--data=${l.memoryMb * 1024 * 1024}`, `--cpu=${l.cpuSeconds}`, `--fsize=${l.fileSizeMb * 1024 * 1024}`,
    `--nofile=${l.openFiles}`, `--core=0`, ...(kind === 'bwrap' ? [`--nproc=${nproc}`] : []), '--'] : [];
  if (kind === 'none') {
    const all = [...prlimit, ...spec.argv];
    return { file: all[0]!, args: all.slice(1) };
  }
  const a: string[] = [];
  // As root: no user namespace (its mapping would keep uid 0, which process limits exempt); setpriv
  // below switches to an unprivileged user id of its own instead.
  if (root) a.push('--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try');
  else a.push('--unshare-all');
  a.push('--die-with-parent', '--new-session');
  if (root) a.push('--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID', '--cap-add', 'CAP_SETPCAP');
  // The system's programs and libraries, nothing of its configuration but what a runtime reads.
  a.push('--ro-bind', '/usr', '/usr');
  for (const d of ['/bin', '/sbin', '/lib', '/lib64', '/lib32']) {
    try {
      const st = statSync(d);
      if (!st.isDirectory()) continue;
      const link = realpathSync(d);
      if (link !== d && link.startsWith('/usr/')) a.push('--symlink', link.slice(1), d);
      else a.push('--ro-bind', d, d);
    } catch {
      // not on this system
    }
  }
  // bwrap creates the parents of a mount point private (0700): create them readable first, or the
  // sandbox's own user id could not reach what is mounted.
  const made = new Set<string>(['/', '/usr', '/tmp', '/proc', '/dev']);
  const parents = (dest: string) => {
    const missing: string[] = [];
    for (let d = path.dirname(dest); !made.has(d) && d !== path.dirname(d); d = path.dirname(d)) missing.unshift(d);
    for (const d of missing) {
      a.push('--dir', d);
      made.add(d);
    }
  };
  const mount = (flag: string, host: string, inside: string) => {
    parents(inside);
    a.push(flag, host, inside);
  };
  // A private /tmp the sandbox's user may write, bounded (it is memory).
  a.push('--proc', '/proc', '--dev', '/dev', '--perms', '1777', '--size', String(256 * 1024 * 1024), '--tmpfs', '/tmp');
  for (const f of ['/etc/alternatives', '/etc/ld.so.cache', '/etc/localtime', '/etc/hosts', '/etc/nsswitch.conf', '/etc/ssl', '/etc/ca-certificates']) {
    if (existsSync(f)) mount('--ro-bind', f, f);
  }
  const prefix = nodePrefix();
  if (!prefix.startsWith('/usr')) mount('--ro-bind', prefix, prefix);
  parents(GATEWAY_SOCKET_INSIDE);
  for (const p of spec.readOnly) mount('--ro-bind', p, p);
  for (const p of spec.writable ?? []) mount('--bind', p, p);
  for (const m of spec.mounts ?? []) mount(m.rw ? '--bind' : '--ro-bind', m.host, m.inside);
  if (spec.gatewaySocket) mount('--bind', spec.gatewaySocket, GATEWAY_SOCKET_INSIDE);
  a.push('--chdir', spec.cwd);
  a.push('--');
  if (root) a.push('/usr/bin/setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--');
  a.push(...prlimit, ...spec.argv);
  return { file: bwrapPath()!, args: a };
}

/** For tests: forget the probe (after changing SECLAB_SANDBOX). */
export function resetSandboxProbe(): void {
  probed = undefined;
}
