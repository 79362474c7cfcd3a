// LocalStack in Docker through @testcontainers/localstack, installed on first use (localstack-support.ts).

import { SetupError } from './errors.ts';
import { dockerAvailable } from './docker.ts';
import { httpRequest } from './http.ts';
import { loadLocalstackModule } from './localstack-support.ts';
import { track } from './lifecycle.ts';
import type { Progress, Target } from './types.ts';

export const LOCALSTACK_IMAGE = 'localstack/localstack:4.14';

export interface StartLocalstackOptions {
  progress?: Progress;
  /** Image to run (default localstack/localstack:4.14; later images need LOCALSTACK_AUTH_TOKEN). */
  image?: string;
  /** Auth token; default $LOCALSTACK_AUTH_TOKEN. */
  authToken?: string;
}

export interface LocalstackTarget extends Target {
  kind: 'localstack';
  url: string;
  emulated: true;
  accountSelection: 'access-key';
  startupMs: number;
  image: string;
}

function imageNeedsToken(image: string): boolean {
  const tag = image.split(':')[1] ?? 'latest';
  if (tag === 'latest' || tag === 'stable') return true;
  const m = /^(\d+)\.(\d+)/.exec(tag);
  if (!m) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > 4 || (maj === 4 && min > 14);
}

export async function startLocalstack(opts: StartLocalstackOptions = {}): Promise<LocalstackTarget> {
  const progress = opts.progress ?? (() => {});
  const image = opts.image ?? process.env.SECLAB_LOCALSTACK_IMAGE ?? LOCALSTACK_IMAGE;
  const token = opts.authToken ?? process.env.LOCALSTACK_AUTH_TOKEN;
  const docker = await dockerAvailable();
  if (!docker.ok) {
    throw new SetupError(
      `--target localstack needs a Docker engine: ${docker.reason}.`,
      'Install and start Docker (or set DOCKER_HOST), or use the default target (--target moto), which needs only Python.',
    );
  }
  if (!token && imageNeedsToken(image)) {
    throw new SetupError(
      `The LocalStack image ${image} requires an auth token and LOCALSTACK_AUTH_TOKEN is not set.`,
      `Export LOCALSTACK_AUTH_TOKEN, or use ${LOCALSTACK_IMAGE}, the last image that runs without one.`,
    );
  }
  // Only now: importing testcontainers with no engine can hang on discovery. Not a dependency of
  // seclab: installed into seclab's cache on first use, with a progress message.
  const { LocalstackContainer } = await loadLocalstackModule(progress);
  progress(`Starting LocalStack (${image}) in Docker — the first pull takes a few minutes`);
  const t0 = performance.now();
  let container = new LocalstackContainer(image);
  if (token) container = container.withEnvironment({ LOCALSTACK_AUTH_TOKEN: token });
  let started;
  try {
    started = await container.start();
  } catch (e) {
    throw new SetupError(`LocalStack (${image}) did not start: ${(e as Error).message}`, 'Check `docker logs` of the container and that the image can be pulled; seclab doctor checks Docker.', { cause: e });
  }
  const url = started.getConnectionUri();
  const startupMs = Math.round(performance.now() - t0);
  const c = started;
  const untrack = track({
    name: `LocalStack container ${c.getId().slice(0, 12)}`,
    killNow: () => {
      // Cannot stop a container synchronously; testcontainers' Ryuk reaps it when we are gone.
    },
    stopAsync: async () => {
      await c.stop({ timeout: 2000 });
    },
  });
  let stopping: Promise<void> | undefined;
  return {
    kind: 'localstack',
    url,
    emulated: true,
    accountSelection: 'access-key',
    description: `LocalStack (${image}) on ${url}`,
    startupMs,
    image,
    async reset() {
      const res = await httpRequest(`${url}/_localstack/state/reset`, { method: 'POST', timeoutMs: 60_000 });
      if (res.status >= 300) {
        throw new Error(`LocalStack at ${url} cannot reset its state (POST /_localstack/state/reset answered HTTP ${res.status}); restart it to start clean`);
      }
    },
    stop() {
      stopping ??= (async () => {
        untrack();
        await c.stop({ timeout: 5000 });
      })();
      return stopping;
    },
    onDeath: () => () => {},
  };
}
