// The lab cloud: a target (moto by default) with the gateway in front of it. Everything else talks
// to the gateway: the engine, students' code, the AWS CLI.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Gateway, SOURCE_IP_HEADER, type RootCredentials } from './gateway/server.ts';
import { services as allServices } from './services/index.ts';
import type { ServiceModule } from './gateway/service.ts';
import { startTarget } from './targets/index.ts';
import { cacheDir } from './targets/python.ts';
import { cachedGatewayCertificate, labCa } from './gateway/tls.ts';
import { probeSandbox, type SandboxKind } from './sandbox/index.ts';
import type { Progress, Target } from './targets/types.ts';

export interface LabCloudOptions {
  /** moto | localstack | endpoint=<url> */
  target?: string;
  /** Gateway port (default: a free one). */
  port?: number;
  region?: string;
  progress?: Progress;
  /**
   * Code a submission supplies (solutions, Lambda handlers): 'auto' sandboxes it where the machine
   * can (default), 'require' refuses to start without a sandbox, 'off' runs it as it is.
   */
  sandbox?: 'auto' | 'require' | 'off';
  /** HTTPS beside HTTP (default on). */
  tls?: boolean;
  tlsPort?: number;
  /** The emulated services (default: every folder of src/cloud/services/; tests add their own). */
  services?: ServiceModule[];
}

/** Grading untrusted work was asked for, and this machine cannot sandbox it. */
export class SandboxUnavailableError extends Error {
  override name = 'SandboxUnavailableError';
  constructor(readonly detail: string) {
    super(`no sandbox for submissions' code on this machine: ${detail}`);
  }
}

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface ClientOptions {
  credentials: AwsCredentials;
  /** Simulated source IP of the calls (X-Seclab-Source-Ip). */
  sourceIp?: string;
  region?: string;
  userAgent?: string;
}

/** Resolves localhost and every *.localhost name to 127.0.0.1, where the gateway listens. */
const localhostAgent = new http.Agent({
  keepAlive: true,
  lookup: ((host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) => {
    if (host !== 'localhost' && !host.endsWith('.localhost')) return cb(new Error(`only localhost names go to the lab cloud, not ${host}`));
    return opts?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4);
  }) as never,
});

export class LabCloud {
  private stopped = false;

  constructor(readonly target: Target, readonly gateway: Gateway, readonly region: string) {}

  get url(): string {
    return this.gateway.url;
  }

  createAccount(): RootCredentials {
    return this.gateway.createAccount();
  }

  /**
   * Configuration for an AWS SDK v3 client through the gateway. Middleware adds the simulated source
   * IP header; it is not signed, like the real client address is not.
   */
  clientConfig(opts: ClientOptions): Record<string, unknown> {
    return {
      endpoint: this.url,
      region: opts.region ?? this.region,
      credentials: opts.credentials,
      forcePathStyle: true,
      maxAttempts: 1,
      ...(opts.userAgent ? { customUserAgent: opts.userAgent } : {}),
    };
  }

  /**
   * Creates an SDK client through the gateway, e.g. `cloud.client(IAMClient, { credentials })`.
   * S3 Control's client puts the account id before the endpoint's host (`<account>.localhost`): it
   * gets the endpoint by name and a connection that takes every *.localhost to the gateway.
   */
  client<C extends { middlewareStack: { add: (...a: never[]) => unknown } }>(Ctor: new (cfg: never) => C, opts: ClientOptions): C {
    const config = this.clientConfig(opts);
    if (Ctor.name === 'S3ControlClient') {
      Object.assign(config, { endpoint: this.url.replace('//127.0.0.1:', '//localhost:'), requestHandler: { httpAgent: localhostAgent } });
    }
    const c = new Ctor(config as never);
    if (opts.sourceIp) {
      const ip = opts.sourceIp;
      (c.middlewareStack as unknown as { add: (mw: unknown, o: unknown) => void }).add(
        (next: (a: unknown) => unknown) => async (args: { request: { headers: Record<string, string> } }) => {
          args.request.headers[SOURCE_IP_HEADER] = ip;
          return next(args);
        },
        { step: 'finalizeRequest', name: 'seclabSourceIp' },
      );
    }
    return c;
  }

  /** Environment variables for the AWS CLI and SDKs (`seclab env`). */
  envFor(creds: AwsCredentials): Record<string, string> {
    return {
      AWS_ENDPOINT_URL: this.url,
      AWS_ACCESS_KEY_ID: creds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
      ...(creds.sessionToken ? { AWS_SESSION_TOKEN: creds.sessionToken } : {}),
      AWS_REGION: this.region,
      AWS_DEFAULT_REGION: this.region,
    };
  }

  /** The CA file that signed the gateway's HTTPS certificate (AWS_CA_BUNDLE). */
  caFile: string | undefined;

  /** How code a submission supplies runs here (students' solutions, Lambda handlers). */
  get sandbox(): SandboxKind {
    return this.gateway.sandbox;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.gateway.stop();
    await this.target.stop();
    if (this.gateway.clock.dir) rmSync(this.gateway.clock.dir, { recursive: true, force: true });
  }
}

export async function startLabCloud(opts: LabCloudOptions = {}): Promise<LabCloud> {
  const spec = opts.target ?? 'moto';
  if (spec === 'aws') {
    throw new Error('the labs grade through the lab cloud\'s gateway (MFA codes of the lab\'s people, CloudTrail, the clock); grading against real AWS is not available yet. Use --target moto (default), localstack or endpoint=<url>.');
  }
  const target = await startTarget(spec, { progress: opts.progress });
  const region = opts.region ?? process.env['AWS_REGION'] ?? 'us-east-1';
  if (!target.url) throw new Error(`target ${spec} has no endpoint URL`);
  // HTTPS beside HTTP, with the install's own CA (made once in seclab's cache folder).
  let tls: { pair: { cert: string; key: string }; caFile: string } | undefined;
  if (opts.tls !== false) {
    try {
      const ca = labCa(path.join(cacheDir(), 'ca'));
      tls = { pair: cachedGatewayCertificate(ca), caFile: ca.certFile };
    } catch (e) {
      opts.progress?.(`HTTPS is off: the lab cloud's certificate could not be made (${(e as Error).message})`);
    }
  }
  let gateway: Gateway;
  try {
    gateway = new Gateway({
      upstreamUrl: target.url,
      accountSelection: target.accountSelection === 'access-key' ? 'access-key' : 'header',
      port: opts.port,
      region,
      upstreamHeaders: target.upstreamHeaders,
      tls: tls?.pair,
      tlsPort: opts.tlsPort,
      services: opts.services ?? allServices,
    });
  } catch (e) {
    // A service that cannot be set up must not leave the emulator running.
    await target.stop();
    throw e;
  }
  const mode = opts.sandbox ?? 'auto';
  if (mode !== 'off') {
    const probe = probeSandbox();
    if (probe.kind === 'none' && mode === 'require') {
      await target.stop();
      throw new SandboxUnavailableError(probe.detail);
    }
    gateway.sandbox = probe.kind;
  }
  target.onDeath((err) => gateway.targetDied(err.message));
  gateway.clock.dir = mkdtempSync(path.join(os.tmpdir(), 'seclab-clock-'));
  // Sandboxed code runs under a user id of its own: it may reach its mirror file, not list the others.
  chmodSync(gateway.clock.dir, 0o711);
  try {
    await gateway.start();
  } catch (e) {
    await target.stop();
    throw e;
  }
  const cloud = new LabCloud(target, gateway, region);
  cloud.caFile = tls?.caFile;
  return cloud;
}
