// Loopback ports for the lab cloud.

import net from 'node:net';
import { SetupError } from './errors.ts';

export const LOOPBACK = '127.0.0.1';

/** Ask the OS for a free port on `host` (bind port 0, read it, close). */
export function freePort(host: string = LOOPBACK): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('the OS returned no port'))));
    });
  });
}

/** Resolve when `port` can be bound on `host`; reject with the bind error (e.g. EADDRINUSE) when not. */
export function probePort(port: number, host: string = LOOPBACK): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve()));
  });
}

export function portInUseError(port: number, host: string = LOOPBACK): SetupError {
  return new SetupError(
    `Port ${port} on ${host} is already in use, so the lab cloud cannot listen there.`,
    `Pick another port (e.g. --port ${port === 65535 ? port - 1 : port + 1}), or leave --port out to use a free one; ` +
      `to see what holds ${port}: lsof -iTCP:${port} -sTCP:LISTEN (or ss -ltnp 'sport = :${port}').`,
  );
}

/** Check that a requested port is a valid number and free; throws a SetupError naming it otherwise. */
export async function assertPortFree(port: number, host: string = LOOPBACK): Promise<void> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new SetupError(`Port ${String(port)} is not a valid TCP port.`, 'Use a number from 1024 to 65535, or leave the port out to use a free one.');
  }
  try {
    await probePort(port, host);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw portInUseError(port, host);
    if (code === 'EACCES') {
      throw new SetupError(`Not allowed to listen on port ${port} on ${host}.`, 'Ports below 1024 need privileges: use a port from 1024 to 65535, or leave the port out.');
    }
    throw e;
  }
}
