// Starts a Node.js script (the student-code runner, the Lambda runtime) for code a submission
// supplies: inside the sandbox when there is one, with an IPC channel back to seclab.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sandboxCommand, GATEWAY_SOCKET_INSIDE, type SandboxKind, type SandboxLimits } from './index.ts';

/** seclab's own folder: its node_modules and runtime hooks are what sandboxed code may read of it. */
export const SECLAB_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface NodeLaunch {
  kind: SandboxKind;
  /** Absolute path of the .mjs to run (inside seclab). */
  script: string;
  execArgv?: string[];
  cwd: string;
  env: Record<string, string>;
  /** The gateway: its URL (AWS_ENDPOINT_URL points there) and Unix socket (the sandbox's only way out). */
  gateway: { url: string; socketPath?: string };
  /** Host paths the code may read, besides seclab's runtime. */
  readOnly?: string[];
  /** Host paths it may write (its own copy of the submission). */
  writable?: string[];
  mounts?: { host: string; inside: string; rw?: boolean }[];
  limits: SandboxLimits;
  uid?: number;
}

/** What of seclab a sandboxed Node.js process needs: dependencies, package.json (for `seclab/kit`), hooks. */
function runtimePaths(script: string): string[] {
  return [
    path.join(SECLAB_ROOT, 'node_modules'),
    path.join(SECLAB_ROOT, 'package.json'),
    path.join(SECLAB_ROOT, 'src', 'runtime'),
    path.join(SECLAB_ROOT, 'src', 'kit'),
    script,
  ];
}

export function launchNode(l: NodeLaunch): ChildProcess {
  const env: Record<string, string> = { ...l.env };
  if (l.kind === 'bwrap') {
    if (!l.gateway.socketPath) throw new Error('the gateway has no Unix socket for the sandbox');
    const port = new URL(l.gateway.url).port;
    // The same URL works inside: the bridge listens on that port of the sandbox's own loopback.
    Object.assign(env, { SECLAB_GATEWAY_SOCKET: GATEWAY_SOCKET_INSIDE, SECLAB_GATEWAY_PORT: port, HOME: '/tmp', TMPDIR: '/tmp' });
    const nodeBin = path.dirname(process.execPath);
    env['PATH'] = [nodeBin, '/usr/local/bin', '/usr/bin', '/bin'].filter((v, i, a) => a.indexOf(v) === i).join(':');
  }
  const argv = [process.execPath, ...(l.execArgv ?? []), l.script];
  const { file, args } = sandboxCommand({
    argv, cwd: l.cwd, env, limits: l.limits,
    readOnly: [...runtimePaths(l.script), ...(l.readOnly ?? [])],
    writable: l.writable, mounts: l.mounts, gatewaySocket: l.gateway.socketPath,
  }, l.kind, l.uid);
  // Its own process group, so everything it starts can be stopped with it.
  return spawn(file, args, { cwd: l.kind === 'bwrap' ? '/' : l.cwd, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
}
