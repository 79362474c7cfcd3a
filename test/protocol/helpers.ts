// Test helpers: capture the HTTP requests AWS SDK v3 clients build (signed, not sent) and turn
// them, or recorded fixtures, into the gateway's RawRequest.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rawRequest } from '../../src/cloud/gateway/protocol/identify.ts';
import type { RawRequest } from '../../src/cloud/gateway/protocol/types.ts';

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';

class Captured extends Error {
  constructor(readonly raw: RawRequest) {
    super('captured');
  }
}

interface SdkHttpRequest {
  method: string;
  hostname: string;
  port?: number;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

async function bodyBytes(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    const chunks: Buffer[] = [];
    for await (const c of body as AsyncIterable<Uint8Array | string>) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
    return Buffer.concat(chunks);
  }
  return Buffer.from(String(body));
}

export function toRaw(req: SdkHttpRequest, body: Buffer): RawRequest {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(req.query ?? {})) {
    if (v === null) query.append(k, '');
    else if (Array.isArray(v)) for (const x of v) query.append(k, x);
    else query.append(k, v);
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
  headers['host'] ??= req.port ? `${req.hostname}:${req.port}` : req.hostname;
  return { method: req.method, path: req.path, query, headers, body };
}

/** A requestHandler that records the signed request and aborts the call. */
export const captureHandler = {
  handle: async (req: SdkHttpRequest): Promise<never> => {
    throw new Captured(toRaw(req, await bodyBytes(req.body)));
  },
};

export const sdkConfig = {
  region: REGION,
  credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
  endpoint: 'http://localhost:4566',
  maxAttempts: 1,
};

interface SendingClient {
  send(command: never): Promise<unknown>;
}

/** Run a command on a client built with captureHandler and return what it would have sent. */
export async function capture(client: SendingClient, command: unknown): Promise<RawRequest> {
  try {
    await client.send(command as never);
  } catch (e) {
    if (e instanceof Captured) return e.raw;
    throw e;
  }
  throw new Error('request was not captured');
}

// ---------------------------------------------------------------------------------------------
// Fixtures

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  bodyBase64: string;
}

export interface BotocoreFixture {
  source: 'botocore';
  kind: string;
  service: string;
  signingName: string;
  protocol: string;
  operation: string;
  params: Record<string, unknown>;
  pathStyle: boolean;
  request: RecordedRequest;
}

export interface SdkJsFixture {
  source: 'sdk-js';
  package: string;
  version: string;
  operation: string;
  request: SdkHttpRequest & { bodyBase64: string };
}

const fixture = (name: string): unknown => JSON.parse(readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), 'utf8'));

export function botocoreFixtures(): BotocoreFixture[] {
  return (fixture('botocore-requests.json') as { requests: BotocoreFixture[] }).requests;
}

export function sdkJsFixtures(): SdkJsFixture[] {
  return (fixture('sdk-js-requests.json') as { requests: SdkJsFixture[] }).requests;
}

export function rawFromRecorded(r: RecordedRequest): RawRequest {
  const m = /^https?:\/\/([^/]+)(\/[^?]*)?(\?.*)?$/.exec(r.url);
  if (!m) throw new Error(`bad url ${r.url}`);
  return rawRequest(r.method, (m[2] ?? '/') + (m[3] ?? ''), { ...r.headers, host: m[1]! }, Buffer.from(r.bodyBase64, 'base64'));
}

export function rawFromSdkJs(f: SdkJsFixture): RawRequest {
  return toRaw(f.request, Buffer.from(f.request.bodyBase64, 'base64'));
}

/** Build a RawRequest by hand. */
export function req(method: string, url: string, headers: Record<string, string> = {}, body: string | Buffer = ''): RawRequest {
  return rawRequest(method, url, { host: 'localhost:4566', ...headers }, typeof body === 'string' ? Buffer.from(body) : body);
}

/** Authorization header for a SigV4 credential scope (signature not meaningful). */
export function sigv4(service: string, region = REGION, akid = 'AKIAIOSFODNN7EXAMPLE'): Record<string, string> {
  return {
    authorization: `AWS4-HMAC-SHA256 Credential=${akid}/20260101/${region}/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
    'x-amz-date': '20260101T000000Z',
  };
}
