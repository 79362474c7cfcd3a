// An AWS-compatible endpoint that is already running (fakecloud, a moto or LocalStack started by hand...).
// Talked to over HTTP only.

import { SetupError } from './errors.ts';
import { httpRequest } from './http.ts';
import { configureMoto } from './moto.ts';
import type { AccountSelection, Target } from './types.ts';

/** What the endpoint turned out to be, from its control API. */
export type EndpointFlavour = 'moto' | 'localstack' | 'unknown';

export interface EndpointTarget extends Target {
  kind: 'endpoint';
  url: string;
  emulated: true;
  flavour: EndpointFlavour;
}

/** Normalise and check an endpoint URL (http or https, no path beyond "/"). */
export function parseEndpointUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new SetupError(`"${raw}" is not a URL.`, 'Give the endpoint as endpoint=http://host:port, e.g. --target endpoint=http://127.0.0.1:4566');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new SetupError(`The endpoint ${raw} is not http:// or https://.`, 'Give the endpoint as endpoint=http://host:port.');
  }
  if (u.search || u.hash || (u.pathname !== '/' && u.pathname !== '')) {
    throw new SetupError(`The endpoint ${raw} has a path or query; seclab needs the base URL.`, `Use ${u.protocol}//${u.host}`);
  }
  return `${u.protocol}//${u.host}`;
}

async function answers(url: string, timeoutMs: number): Promise<number | undefined> {
  try {
    return (await httpRequest(url, { timeoutMs, maxBody: 64 * 1024 })).status;
  } catch {
    return undefined;
  }
}

async function detectFlavour(url: string): Promise<EndpointFlavour> {
  const [moto, localstack] = await Promise.all([
    httpRequest(`${url}/moto-api/config`, { timeoutMs: 2000, maxBody: 64 * 1024 }).catch(() => undefined),
    httpRequest(`${url}/_localstack/health`, { timeoutMs: 2000, maxBody: 64 * 1024 }).catch(() => undefined),
  ]);
  const isJson = (body: string | undefined, key: string): boolean => {
    try {
      return typeof JSON.parse(body ?? '') === 'object' && (body ?? '').includes(key);
    } catch {
      return false;
    }
  };
  if (moto && moto.status < 300 && isJson(moto.body, 'lambda')) return 'moto';
  if (localstack && localstack.status < 300 && isJson(localstack.body, 'services')) return 'localstack';
  return 'unknown';
}

/** Reset routes tried, per flavour, in order; the first 2xx wins. */
const RESET_ROUTES: Record<EndpointFlavour, string[]> = {
  moto: ['/moto-api/reset'],
  localstack: ['/_localstack/state/reset'],
  // fakecloud documents POST /_fakecloud/reset (and /_reset in its SDKs).
  unknown: ['/_fakecloud/reset', '/_reset'],
};

export async function connectEndpoint(rawUrl: string, opts: { timeoutMs?: number } = {}): Promise<EndpointTarget> {
  const url = parseEndpointUrl(rawUrl);
  const timeoutMs = opts.timeoutMs ?? 3000;
  const t0 = performance.now();
  const status = await answers(`${url}/`, timeoutMs);
  if (status === undefined) {
    throw new SetupError(
      `Nothing answers at ${url} (no HTTP response within ${(timeoutMs / 1000).toFixed(0)} s).`,
      `Start the emulator first (e.g. FAKECLOUD_IAM=strict fakecloud, or moto_server -p ${new URL(url).port || '5000'}) and check the URL, or use --target moto to let seclab start one.`,
    );
  }
  const flavour = await detectFlavour(url);
  // A moto started by hand: select its Docker-free Lambda backend as seclab's own moto does.
  if (flavour === 'moto') await configureMoto(url);
  const accountSelection: AccountSelection = flavour === 'moto' ? 'header' : flavour === 'localstack' ? 'access-key' : 'none';
  const startupMs = Math.round(performance.now() - t0);
  return {
    kind: 'endpoint',
    url,
    emulated: true,
    accountSelection,
    flavour,
    startupMs,
    description: `endpoint ${url}${flavour === 'unknown' ? '' : ` (${flavour})`}`,
    async reset() {
      const tried: string[] = [];
      for (const route of RESET_ROUTES[flavour]) {
        const res = await httpRequest(`${url}${route}`, { method: 'POST', timeoutMs: 30_000 }).catch(() => undefined);
        if (res && res.status < 300) {
          if (flavour === 'moto') await configureMoto(url);
          return;
        }
        tried.push(`POST ${route} -> ${res ? `HTTP ${res.status}` : 'no answer'}`);
      }
      throw new Error(`The endpoint ${url} has no reset API seclab knows (${tried.join('; ')}); restart it to start clean`);
    },
    // Not ours: never stop it.
    stop: async () => {},
    onDeath: () => () => {},
  };
}
