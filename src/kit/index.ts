// What students' solutions may import as 'seclab/kit': small helpers, nothing that does the lab for them.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import * as OTPAuth from 'otpauth';

/**
 * The 6-digit code an authenticator app shows for a virtual MFA device seed (the Base32StringSeed of
 * CreateVirtualMFADevice) at `time` (default: the lab cloud's now). EnableMFADevice needs two consecutive codes:
 * `totp(seed, now - 30_000)` and `totp(seed)`.
 */
export function totp(seedBase32: string | Uint8Array, time: number = labNow()): string {
  const seed = typeof seedBase32 === 'string' ? seedBase32 : new TextDecoder().decode(seedBase32);
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(seed), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: time });
}

/** What every lab passes to a solution's exported functions. */
export interface LabInput<Env = Record<string, unknown>> {
  lab: string;
  accountId: string;
  region: string;
  /** The lab cloud's endpoint (also in AWS_ENDPOINT_URL). */
  endpoint: string;
  /** Lab cloud time in ms since the epoch (use it for TOTP codes: the lab clock may run ahead). */
  now: number;
  /** Facts about the lab's company: people, buckets, addresses. */
  env: Env;
}

/** The lab cloud's clock (it may run ahead of the wall clock when scenarios advance time). */
export function labNow(): number {
  const file = process.env['SECLAB_CLOCK_FILE'];
  if (file) {
    try {
      const text = readFileSync(file, 'utf8');
      // "=<ms>": a grading holds the lab clock at that time (it does not follow the wall clock then).
      if (text.startsWith('=')) return Number(text.slice(1));
      return Date.now() + Number(text);
    } catch {
      // fall back to the offset at start
    }
  }
  return Date.now() + Number(process.env['SECLAB_CLOCK_OFFSET_MS'] ?? 0);
}

/**
 * A zip of every file under `dir` (a path or a file: URL), paths relative to it, for Lambda's
 * CreateFunction (`Code: { ZipFile: zipDir(new URL('./responder/', import.meta.url)) }`).
 * Reproducible: entries sorted, fixed timestamps; node_modules and dotfiles are left out.
 */
export function zipDir(dir: string | URL): Uint8Array {
  const root = typeof dir === 'string' ? dir : fileURLToPath(dir);
  const files: Record<string, [Uint8Array, { mtime: Date }]> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.') || name === 'node_modules') continue;
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else files[path.relative(root, p).split(path.sep).join('/')] = [readFileSync(p), { mtime: new Date('1980-01-01T00:00:00Z') }];
    }
  };
  walk(root);
  if (!Object.keys(files).length) throw new Error(`zipDir: ${root} holds no files`);
  return zipSync(files, { level: 6 });
}

// ---- lab dlp: the student's own DLP test suite ----

/** Someone the DLP test suite acts as: credentials and where the calls come from. */
export interface Actor {
  /** Who it is, in words. */
  name: string;
  accountId: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** The address the calls come from (the lab cloud reads it as aws:SourceIp). */
  sourceIp: string;
  /** The VPC endpoint the actor's S3 calls go through (aws:SourceVpce), when it runs in the company's VPC. */
  vpce?: string;
}

/**
 * What the lab passes to `dlpTests`: the lab's facts, the actors the tests may act as, and the stage.
 * The suite runs twice per environment: stage 'attempt', then — after the lab clock has moved past the
 * quarantine deadline — stage 'after-deadline' with the `state` the first stage returned.
 */
export interface DlpTestInput<Env = Record<string, unknown>> extends LabInput<Env> {
  stage: 'attempt' | 'after-deadline';
  state?: unknown;
  actors: {
    /** A data analyst from the office (an insider who may read customer data). */
    insider: Actor;
    /** The company app in the VPC. */
    app: Actor;
    /** The analytics partner's ingest role, from the partner's network. */
    partner: Actor;
    /** An account outside the company, with a bucket that accepts anything the company's account drops in it. */
    outsider: Actor & { bucket: string };
    /** Anyone on the internet, without credentials. */
    anonymous: { name: string; sourceIp: string };
  };
}

/** One test's outcome: passed means the control held (the exfiltration attempt failed). */
export interface DlpTestResult {
  name: string;
  passed: boolean;
  detail?: string;
}

/** What `dlpTests` returns. */
export interface DlpTestOutput {
  results: DlpTestResult[];
  /** Kept for the 'after-deadline' stage (JSON, at most 64 KiB). */
  state?: unknown;
}

/**
 * An AWS SDK client acting as `actor`: its credentials, its source address, its VPC endpoint.
 * `actorClient(S3Client, input.actors.insider)`.
 */
export function actorClient<C extends { middlewareStack: { add: (...a: never[]) => unknown } }>(
  Ctor: new (cfg: never) => C, actor: Actor, config: Record<string, unknown> = {},
): C {
  const extra = Ctor.name === 'S3ControlClient' ? s3ControlConfig() : {};
  const client = new Ctor({ credentials: actor.credentials, forcePathStyle: true, ...extra, ...config } as never);
  const headers: Record<string, string> = { 'x-seclab-source-ip': actor.sourceIp, ...(actor.vpce ? { 'x-seclab-vpce': actor.vpce } : {}) };
  (client.middlewareStack as unknown as { add: (mw: unknown, o: unknown) => void }).add(
    (next: (a: unknown) => unknown) => async (args: { request: { headers: Record<string, string> } }) => {
      Object.assign(args.request.headers, headers);
      return next(args);
    },
    { step: 'finalizeRequest', name: 'seclabActor' },
  );
  return client;
}

/** Headers that make a plain fetch() come from `from` (a presigned URL opened by an outsider, an anonymous GET). */
export function fromAddress(from: { sourceIp: string }): Record<string, string> {
  return { 'x-seclab-source-ip': from.sourceIp };
}

/**
 * True when an AWS SDK call was refused by a control (AccessDenied and its kin), false when it succeeded;
 * other errors are thrown — bad or expired credentials too, so a test cannot pass because its own
 * credentials were wrong.
 */
export async function refused(call: Promise<unknown>): Promise<boolean> {
  try {
    await call;
    return false;
  } catch (e) {
    const name = (e as { name?: string; Code?: string }).name ?? '';
    if (/AccessDenied|Forbidden|AllAccessDisabled|AccessControlListNotSupported|UnauthorizedOperation/.test(name)) return true;
    throw e;
  }
}

/**
 * Configuration for S3 Control in the lab cloud: `new S3ControlClient(s3ControlConfig())`. S3 Control
 * puts the account id in front of the endpoint's host (`<account>.127.0.0.1` is no address): the
 * endpoint is named localhost and every *.localhost name connects to the lab cloud's address. Without
 * a lab endpoint (real AWS) it is empty.
 */
export function s3ControlConfig(): Record<string, unknown> {
  const url = process.env['AWS_ENDPOINT_URL'];
  if (!url) return {};
  const u = new URL(url);
  const address = u.hostname === '[::1]' ? '::1' : u.hostname === 'localhost' || u.hostname === '127.0.0.1' ? '127.0.0.1' : undefined;
  if (!address) return {};
  const family = address === '::1' ? 6 : 4;
  const lookup = (host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) => {
    if (host !== 'localhost' && !host.endsWith('.localhost')) return cb(new Error(`only the lab cloud is reachable, not ${host}`));
    return opts?.all ? cb(null, [{ address, family }]) : cb(null, address, family);
  };
  u.hostname = 'localhost';
  return {
    endpoint: u.toString().replace(/\/$/, ''),
    requestHandler: { httpAgent: new http.Agent({ keepAlive: true, lookup: lookup as never }), httpsAgent: new https.Agent({ keepAlive: true, lookup: lookup as never }) },
  };
}
