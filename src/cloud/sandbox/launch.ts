// Starts a Node.js script (the student-code runner, the Lambda runtime) for code a submission
// supplies: inside the sandbox when there is one, with a message link back to seclab.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Duplex } from 'node:stream';
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

/**
 * What of seclab a sandboxed Node.js process needs: dependencies, package.json (for `seclab/kit`), hooks,
 * what `seclab/kit/anomaly` loads (the anomaly engine and the seeded random numbers it imports) and what
 * `seclab/kit/ledger` loads (the ledger library: its other imports are packages).
 */
export function runtimePaths(script: string): string[] {
  return [
    path.join(SECLAB_ROOT, 'node_modules'),
    path.join(SECLAB_ROOT, 'package.json'),
    path.join(SECLAB_ROOT, 'src', 'runtime'),
    path.join(SECLAB_ROOT, 'src', 'kit'),
    path.join(SECLAB_ROOT, 'src', 'controls', 'anomaly'),
    path.join(SECLAB_ROOT, 'src', 'controls', 'ledger'),
    path.join(SECLAB_ROOT, 'src', 'engine', 'random.ts'),
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
  // fd 3: the message link (src/runtime/parent-link.mjs), read by linkMessages with a size limit.
  return spawn(file, args, { cwd: l.kind === 'bwrap' ? '/' : l.cwd, env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], detached: true });
}

export interface MessageLink {
  send(message: unknown): void;
}

/** The largest message a child may send (results, errors): more is abuse, and the child is stopped. */
export const MESSAGE_LIMIT_BYTES = 8 * 1024 * 1024;

/**
 * Newline-delimited JSON with the child over fd 3. Every message is read with a size limit; a message
 * over the limit, or one that is not JSON, ends the link (`onAbuse`, and the caller stops the child)
 * instead of growing seclab's memory.
 */
export function linkMessages(child: ChildProcess, onMessage: (message: unknown) => void, onAbuse: (why: string) => void, limit = MESSAGE_LIMIT_BYTES): MessageLink {
  const stream = child.stdio[3] as Duplex | undefined;
  if (!stream) throw new Error('the child has no message link (fd 3)');
  let pending: Buffer[] = [];
  let size = 0;
  let broken = false;
  const abuse = (why: string) => {
    if (broken) return;
    broken = true;
    pending = [];
    stream.destroy();
    onAbuse(why);
  };
  stream.on('error', () => undefined);
  stream.on('data', (chunk: Buffer) => {
    if (broken) return;
    let start = 0;
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, start)) {
      pending.push(chunk.subarray(start, i));
      const line = Buffer.concat(pending).toString('utf8');
      pending = [];
      size = 0;
      start = i + 1;
      if (!line) continue;
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        return abuse('sent seclab a message that is not JSON');
      }
      onMessage(message);
      if (broken) return;
    }
    const rest = chunk.subarray(start);
    size += rest.length;
    if (size > limit) return abuse(`sent seclab a message larger than ${limit / 1024 / 1024} MB`);
    if (rest.length) pending.push(rest);
  });
  return {
    send: (message) => {
      if (!broken && stream.writable) stream.write(`${JSON.stringify(message)}\n`);
    },
  };
}
