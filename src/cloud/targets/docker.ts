// Is a Docker engine reachable? Checked with a short /_ping before anything imports testcontainers,
// whose own discovery can hang for a long time on a dead socket.

import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { httpRequest, type HttpOptions } from './http.ts';

export interface DockerStatus {
  ok: boolean;
  /** Why not, or where the engine answered. */
  reason: string;
  /** The DOCKER_HOST-style address that answered (unix:///var/run/docker.sock, tcp://...). */
  host?: string;
}

/** Sockets testcontainers also looks at when DOCKER_HOST is not set. */
function defaultSockets(): string[] {
  const home = os.homedir();
  const list = ['/var/run/docker.sock'];
  if (process.env.XDG_RUNTIME_DIR) list.push(path.join(process.env.XDG_RUNTIME_DIR, 'docker.sock'));
  list.push(path.join(home, '.docker', 'run', 'docker.sock'), path.join(home, '.docker', 'desktop', 'docker.sock'));
  if (typeof process.getuid === 'function') list.push(`/run/user/${process.getuid()}/docker.sock`);
  return [...new Set(list)];
}

async function ping(host: string, timeoutMs: number): Promise<DockerStatus> {
  let url: string;
  const opts: HttpOptions = { timeoutMs, maxBody: 1024 };
  if (host.startsWith('unix://')) {
    opts.socketPath = host.slice('unix://'.length);
    url = 'http://localhost/_ping';
  } else if (host.startsWith('tcp://') || host.startsWith('http://') || host.startsWith('https://')) {
    const verify = process.env.DOCKER_TLS_VERIFY ?? '';
    const tls = host.startsWith('https://') || (verify !== '' && verify !== '0');
    const u = new URL(host.replace(/^tcp:/, tls ? 'https:' : 'http:'));
    url = `${u.protocol}//${u.host}/_ping`;
    if (tls) {
      const dir = process.env.DOCKER_CERT_PATH ?? path.join(os.homedir(), '.docker');
      const read = (f: string): Buffer | undefined => {
        try {
          return readFileSync(path.join(dir, f));
        } catch {
          return undefined;
        }
      };
      opts.tls = { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
    }
  } else {
    return { ok: false, reason: `DOCKER_HOST=${host} uses a scheme seclab cannot check (use unix:// or tcp://)` };
  }
  try {
    const res = await httpRequest(url, opts);
    if (res.status === 200) return { ok: true, reason: `Docker engine answered at ${host}`, host };
    return { ok: false, reason: `the Docker engine at ${host} answered /_ping with HTTP ${res.status}`, host };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === 'ETIMEDOUT'
        ? `no answer within ${timeoutMs} ms`
        : err.code === 'ECONNREFUSED'
          ? 'connection refused (is the engine running?)'
          : err.code === 'EACCES'
            ? 'permission denied (add your user to the docker group)'
            : (err.code ?? err.message);
    return { ok: false, reason: `the Docker engine at ${host} is not reachable: ${why}`, host };
  }
}

/** Whether a Docker engine answers, within about `timeoutMs`. Never throws. */
export async function dockerAvailable(timeoutMs = 800): Promise<DockerStatus> {
  const envHost = process.env.DOCKER_HOST?.trim();
  if (envHost) return ping(envHost, timeoutMs);
  const sockets = defaultSockets().filter((s) => existsSync(s));
  if (sockets.length === 0) {
    return {
      ok: false,
      reason: 'no Docker engine: DOCKER_HOST is not set and there is no /var/run/docker.sock (a docker client alone is not enough)',
    };
  }
  let last: DockerStatus | undefined;
  for (const s of sockets) {
    last = await ping(`unix://${s}`, timeoutMs);
    if (last.ok) return last;
  }
  return last!;
}
