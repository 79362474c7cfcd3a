// The gateway: an HTTP server on 127.0.0.1 in front of the target emulator. For every request it
// identifies service, operation and principal, verifies the SigV4 signature, authorizes the call with
// IAM policy evaluation, checks MFA codes, records a CloudTrail event, and forwards to the target what
// the target does well. See DESIGN.md, "The gateway".
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { LabClock } from './clock.ts';
import type { SandboxKind } from '../sandbox/index.ts';
import { xmlTag, type CallContext, type Reply, type ServiceExtension } from './extension.ts';
import { ApiError as Refusal } from './api-error.ts';
import { CredentialStore, newAccessKeyId, newSecret, type Credential } from './credentials.ts';
import { parseAuth, verifySignature, type SignedRequest } from './sigv4.ts';
import { Upstream, UpstreamDownError, type UpstreamResponse } from './upstream.ts';
import { identify, type ApiCall } from './protocol/identify.ts';
import { forwardUrl, foreignResource, malformedRequest, wireProblem } from './protocol/wire.ts';
import { errorResponse, authFailure, bodyTooLargeResponse, internalErrorCode, type AuthFailure } from './protocol/errors.ts';
import { guessCall, protocolErrorFor } from './protocol/target-errors.ts';
import { Sinks } from './sinks.ts';
import { Authorizer } from './authorizer.ts';
import type { AuthzRequest, Decision } from '../policy/types.ts';
import type { AuthorizationPart, Capabilities, CallOutcome, ControlHandler, LabServices, LinkHandler, ServiceModule, ServiceName, ServiceRuntime } from './service.ts';

/** Where a request came from when it came through a sandbox's own socket (see Gateway.openChannel). */
interface Channel {
  account: string;
  /** "your code", "Lambda function responder"... */
  who: string;
}

/** The largest request body the gateway reads (S3 uploads in the labs are far smaller). */
export const REQUEST_BODY_LIMIT = 256 * 1024 * 1024;

/** Header that sets the simulated source IP of a request (documented in the README). */
export const SOURCE_IP_HEADER = 'x-seclab-source-ip';
/** The VPC endpoint a simulated client in a VPC sends its call through (aws:SourceVpce, endpoint policy). */
export const VPCE_HEADER = 'x-seclab-vpce';

/**
 * A request without any signature, as a service runtime that serves some itself sees it (S3's public
 * reads: services/s3/anonymous.ts). It carries no credential: whatever serves it acts for no one.
 */
export interface UnsignedRequest {
  call: ApiCall;
  signed: SignedRequest;
  rawUrl: string;
  sourceIp: string;
  userAgent: string;
  requestId: string;
  /** Over the HTTPS listener (aws:SecureTransport). */
  secure: boolean;
}

/** A runtime that answers some unsigned requests (undefined: not one of its own; the gateway refuses it). */
export interface ServesUnsigned {
  serveUnsigned(req: UnsignedRequest): Promise<Reply | undefined>;
}

export interface RootCredentials {
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface GatewayOptions {
  upstreamUrl: string;
  accountSelection?: 'header' | 'access-key';
  port?: number;
  /** Default region for clients. */
  region?: string;
  /** Certificate and key (PEM) for the HTTPS listener; without them the gateway speaks HTTP only. */
  tls?: { cert: string; key: string };
  tlsPort?: number;
  /** Headers every request to the target carries (moto's per-run secret). */
  upstreamHeaders?: Record<string, string>;
  /** The emulated services (src/cloud/services/index.ts), in flush order. */
  services: ServiceModule[];
}

export class Gateway {
  readonly clock = new LabClock();
  readonly credentials = new CredentialStore();
  readonly upstream: Upstream;
  readonly region: string;
  readonly sinks: Sinks;
  readonly authorizer: Authorizer;
  private readonly runtimes = new Map<string, ServiceRuntime>();
  private readonly extensions = new Map<string, ServiceExtension[]>();
  private readonly controls = new Map<string, ControlHandler>();
  private readonly links = new Map<string, LinkHandler>();
  private ticker: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** Required on control endpoints that hand out secrets (MFA codes of lab people). */
  readonly controlToken = randomBytes(16).toString('hex');
  private server: http.Server | undefined;
  private tlsServer: https.Server | undefined;
  private readonly violations = new Map<string, string[]>();
  /** How code a submission supplies runs (Lambda handlers here, students' solutions in the engine). */
  sandbox: SandboxKind = 'none';
  private accounts = new Set<string>();
  private sockets = new Set<import('node:net').Socket>();
  /** Requests handled, and the gateway's own time on them (excluding the target's), for benchmarks. */
  readonly stats = { requests: 0, ownMs: 0, upstreamMs: 0 };

  constructor(private readonly options: GatewayOptions) {
    this.upstream = new Upstream(options.upstreamUrl, options.accountSelection ?? 'header', options.upstreamHeaders);
    this.region = options.region ?? 'us-east-1';
    this.sinks = new Sinks(this.upstream);
    // Filled as the services register, below; the services are fixed once constructed.
    const authorizationParts: AuthorizationPart[] = [];
    this.authorizer = new Authorizer(this.clock, this.region, () => authorizationParts);
    const caps: Capabilities = {
      clock: this.clock,
      target: this.upstream,
      sinks: this.sinks,
      region: this.region,
      credentials: this.credentials,
      accounts: { create: (id) => void this.createAccount(id) },
      authorizer: this.authorizer,
      sandboxing: {
        kind: () => this.sandbox,
        url: () => this.url,
        openChannel: (account, who) => this.openChannel(account, who),
        trackKey: (key) => this.trackKey(key),
      },
      flush: () => this.flush(),
      service: (name) => this.service(name),
    };
    for (const mod of options.services) {
      if (this.runtimes.has(mod.name)) throw new Error(`two services named ${mod.name}`);
      const rt = mod.create(caps);
      this.runtimes.set(mod.name, rt);
      if (rt.authorization) authorizationParts.push(rt.authorization);
      for (const ext of rt.extensions ?? []) this.extensions.set(ext.service, [...(this.extensions.get(ext.service) ?? []), ext]);
      for (const [p, handler] of Object.entries(rt.control ?? {})) {
        if (!p.startsWith('/_seclab/') || this.controls.has(p) || ['/_seclab/health', '/_seclab/clock', '/_seclab/accounts'].includes(p)) throw new Error(`service ${mod.name}: control endpoint ${p} is taken or not under /_seclab/`);
        this.controls.set(p, handler);
      }
      for (const [prefix, handler] of Object.entries(rt.links ?? {})) {
        if (!/^[a-z][a-z0-9-]*$/.test(prefix) || this.links.has(prefix)) throw new Error(`service ${mod.name}: link prefix ${prefix} is taken or not a plain name`);
        this.links.set(prefix, handler);
      }
    }
    // Time-driven work runs when the lab clock moves, and on flush().
    this.clock.onTick(() => {
      this.upstream.clockOffsetMs = this.clock.offset();
      return this.flush();
    });
  }

  /** A service's runtime (outbox, Lambda runner, CloudTrail...), for labs, graders and tests. */
  service<K extends ServiceName>(name: K): LabServices[K] {
    const rt = this.runtimes.get(name);
    if (!rt) throw new Error(`the lab cloud has no service ${name} (see src/cloud/services/index.ts)`);
    return rt as LabServices[K];
  }

  get url(): string {
    const a = this.server?.address() as AddressInfo | null;
    if (!a) throw new Error('gateway not started');
    return `http://127.0.0.1:${a.port}`;
  }

  /** CONNECT host:port — only to this gateway's own listeners, under localhost names or 127.0.0.1. */
  private connectTunnel(req: http.IncomingMessage, client: import('node:net').Socket, head: Buffer): void {
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(req.url ?? '');
    const host = m?.[1]?.toLowerCase() ?? '';
    const port = Number(m?.[2]);
    const own = [this.server, this.tlsServer].map((s) => (s?.address() as AddressInfo | null | undefined)?.port).filter((p): p is number => !!p);
    const local = host === 'localhost' || host.endsWith('.localhost') || host === '127.0.0.1' || host === '::1';
    if (!local || !own.includes(port)) {
      client.end('HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\n\r\nthe lab cloud only tunnels to itself (localhost names)\n');
      return;
    }
    const upstream = net.connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  }

  /** The HTTPS listener (when the gateway has a certificate): same API, aws:SecureTransport true. */
  get tlsUrl(): string | undefined {
    const a = this.tlsServer?.address() as AddressInfo | null | undefined;
    return a ? `https://localhost:${a.port}` : undefined;
  }

  private handler(channel?: Channel) {
    return (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.handle(req, res, channel).catch((e) => {
        if (!res.headersSent) {
          // In the protocol of the call (as far as its headers tell), without stack text.
          const call = guessCall(req.headers, req.url ?? '/');
          const r = errorResponse(call, 500, internalErrorCode(call.service), `The lab cloud failed to process the request: ${String((e as Error).message).split('\n')[0]!.slice(0, 200)}`, randomUUID());
          res.writeHead(r.status, r.headers);
          res.end(r.body);
        }
      });
    };
  }

  /**
   * A Unix socket of its own for one sandboxed process working in `account` (a student's code, one
   * Lambda invocation): what comes through it is known to come from that process, so attempts to
   * leave its account (another account's credentials, the control endpoints, the emulator's API) are
   * refused and recorded against the account as isolation violations.
   */
  async openChannel(account: string, who: string): Promise<{ socketPath: string; close: () => Promise<void> }> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'seclab-ch-'));
    chmodSync(dir, 0o711);
    const socketPath = path.join(dir, 'gateway.sock');
    const channel: Channel = { account, who };
    const server = http.createServer(this.handler(channel));
    const sockets = new Set<import('node:net').Socket>();
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    chmodSync(socketPath, 0o666);
    let closed = false;
    return {
      socketPath,
      close: async () => {
        if (closed) return;
        closed = true;
        for (const s of sockets) s.destroy();
        await new Promise<void>((r) => server.close(() => r()));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }

  private readonly busyKeys = new Map<string, { inflight: number; since: number; totalMs: number }>();

  /**
   * Measures how long the gateway spends serving requests signed with `accessKeyId`. A lab cloud on a
   * loaded machine answers slower than AWS; what a Lambda function waits for it must not make the
   * function time out, or the same work would grade differently on a busy machine.
   */
  trackKey(accessKeyId: string): { waitedMs: () => number; stop: () => void } {
    const t = { inflight: 0, since: 0, totalMs: 0 };
    this.busyKeys.set(accessKeyId, t);
    return {
      waitedMs: () => t.totalMs + (t.inflight ? Date.now() - t.since : 0),
      stop: () => void this.busyKeys.delete(accessKeyId),
    };
  }

  /**
   * Whether a session was obtained, through a chain of AssumeRole/GetSessionToken calls, with
   * credentials of `account`: a role another account lets this one assume is not a stolen key.
   */
  private obtainedIn(cred: Credential, account: string): boolean {
    let c: Credential | undefined = cred;
    for (let depth = 0; c && depth < 20; depth++) {
      if (c.account === account) return true;
      c = c.parentAccessKeyId ? this.credentials.get(c.parentAccessKeyId) : undefined;
    }
    return false;
  }

  /** Isolation violations attempted from an account's sandboxed processes (see openChannel). */
  violationsOf(account: string): string[] {
    return [...(this.violations.get(account) ?? [])];
  }

  private violation(channel: Channel, what: string): void {
    const list = this.violations.get(channel.account) ?? [];
    if (list.length < 50 && !list.includes(`${channel.who}: ${what}`)) list.push(`${channel.who}: ${what}`);
    this.violations.set(channel.account, list);
  }

  async start(): Promise<string> {
    const handler = this.handler();
    const server = http.createServer(handler);
    server.keepAliveTimeout = 30_000;
    // An HTTP CONNECT proxy to itself: clients that build host names the machine cannot resolve (S3
    // virtual-hosted buckets `<bucket>.localhost`, s3control's `<account>.localhost`) reach the lab
    // cloud with HTTPS_PROXY set to the gateway, without editing /etc/hosts. Nothing else is proxied.
    server.on('connect', (req: http.IncomingMessage, client: import('node:net').Socket, head: Buffer) => this.connectTunnel(req, client, head));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => {
        reject(e.code === 'EADDRINUSE'
          ? new Error(`port ${this.options.port} is already in use on 127.0.0.1; choose another with --port, or stop what is using it`)
          : e);
      });
      server.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    if (this.options.tls) {
      const secure = https.createServer({ cert: this.options.tls.cert, key: this.options.tls.key, minVersion: 'TLSv1.2' }, handler);
      secure.keepAliveTimeout = 30_000;
      secure.on('secureConnection', (s) => {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
      });
      await new Promise<void>((resolve, reject) => {
        secure.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new Error(`port ${this.options.tlsPort} is already in use on 127.0.0.1; choose another, or stop what is using it`) : e));
        secure.listen(this.options.tlsPort ?? 0, '127.0.0.1', () => resolve());
      });
      this.tlsServer = secure;
    }
    // Without scenario clock jumps (`cloud up`), AWS's own schedule still runs, in real time.
    this.ticker = setInterval(() => void this.flush().catch(() => undefined), 10_000);
    this.ticker.unref();
    return this.url;
  }

  async stop(): Promise<void> {
    clearInterval(this.ticker);
    const s = this.server;
    this.server = undefined;
    for (const sock of this.sockets) sock.destroy();
    if (s) await new Promise<void>((r) => s.close(() => r()));
    const t = this.tlsServer;
    this.tlsServer = undefined;
    if (t) await new Promise<void>((r) => t.close(() => r()));
    this.upstream.close();
    for (const rt of this.runtimes.values()) rt.close?.();
  }

  /**
   * Runs what AWS does on its own schedule, up to the lab clock's now (CloudTrail and flow-log
   * deliveries, alarm evaluations), in phases: every service delivers, work in flight settles (Lambda
   * invocations the deliveries caused), every service evaluates, work in flight settles again.
   * Scenarios and graders call it before they look for deliveries.
   */
  async flush(): Promise<void> {
    // While a grading holds the lab clock, deliveries and evaluations happen on its ticks only.
    await this.clock.whenFree();
    // One flush at a time: a clock tick and a real-time tick must not deliver the same records twice.
    while (this.flushing) await this.flushing;
    this.flushing = (async () => {
      if (this.upstream.deathMessage) return;
      const rts = [...this.runtimes.values()];
      for (const rt of rts) await rt.deliver?.(this.clock.nowMs());
      for (const rt of rts) await rt.settle?.();
      for (const rt of rts) await rt.evaluate?.(this.clock.nowMs());
      for (const rt of rts) await rt.settle?.();
    })();
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  /** Marks the target as dead: every later call fails with this message instead of hanging. */
  targetDied(message: string): void {
    this.upstream.deathMessage = message;
  }

  // ---- accounts ----

  createAccount(accountId?: string): RootCredentials {
    let id = accountId;
    if (id && !/^\d{12}$/.test(id)) throw new Error(`an account id has 12 digits; got ${id}`);
    if (id && this.accounts.has(id)) throw new Error(`account ${id} already exists`);
    while (!id || this.accounts.has(id)) {
      id = String(100000000000 + Math.floor(Math.random() * 899999999999));
    }
    this.accounts.add(id);
    const cred = this.credentials.add({
      accessKeyId: newAccessKeyId('AKIA'), secret: newSecret(), account: id, kind: 'root',
      arn: `arn:aws:iam::${id}:root`, status: 'Active',
    });
    return { accountId: id, accessKeyId: cred.accessKeyId, secretAccessKey: cred.secret };
  }

  /** Another set of root credentials for an account (one per student phase, revoked after it). */
  mintRootCredentials(accountId: string): { accessKeyId: string; secretAccessKey: string } {
    const cred = this.credentials.add({
      accessKeyId: newAccessKeyId('AKIA'), secret: newSecret(), account: accountId, kind: 'root',
      arn: `arn:aws:iam::${accountId}:root`, status: 'Active',
    });
    return { accessKeyId: cred.accessKeyId, secretAccessKey: cred.secret };
  }

  /** Forgets an account's credentials, devices and events (its resources stay in the emulator until reset). */
  dropAccount(accountId: string): void {
    this.accounts.delete(accountId);
    this.violations.delete(accountId);
    this.credentials.dropAccount(accountId);
    for (const rt of this.runtimes.values()) rt.dropAccount?.(accountId);
  }

  // ---- request handling ----

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, channel?: Channel): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      // One request's body is held in memory while it is authorized: a bound keeps one client from
      // exhausting the lab cloud every student shares.
      if (size > REQUEST_BODY_LIMIT) {
        // In the protocol of the call: S3's EntityTooLarge (400), elsewhere 413.
        const r = bodyTooLargeResponse(guessCall(req.headers, req.url ?? '/'), REQUEST_BODY_LIMIT, randomUUID());
        res.writeHead(r.status, { ...r.headers, connection: 'close' });
        res.end(r.body);
        req.destroy();
        return;
      }
      chunks.push(c as Buffer);
    }
    const body = Buffer.concat(chunks);
    const rawUrl = req.url ?? '/';
    // A download link (GET /_seclab/<prefix>/<token>): whoever holds the URL may fetch it, as in AWS.
    const link = req.method === 'GET' ? /^\/_seclab\/([a-z][a-z0-9-]*)\/([A-Za-z0-9_-]{16,128})$/.exec(rawUrl.split('?')[0]!) : null;
    const linkHandler = link ? this.links.get(link[1]!) : undefined;
    if (link && linkHandler) {
      const found = await linkHandler(link[2]!);
      res.writeHead(found ? 200 : 404, { 'content-type': found?.contentType ?? 'application/xml' });
      res.end(found?.body ?? '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>');
      return;
    }
    if (channel) {
      const p = rawUrl.split('?')[0]!;
      if (p.startsWith('/_seclab/') && !(p === '/_seclab/health' || (p === '/_seclab/clock' && req.method !== 'POST'))) {
        this.violation(channel, `called the lab cloud's control endpoint ${req.method} ${p}`);
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `${p} is not for submissions' code` }));
        return;
      }
      if (p.startsWith('/moto-api')) this.violation(channel, `tried the emulator's own API (${p})`);
    }
    if (rawUrl.startsWith('/_seclab/')) return this.control(req, res, rawUrl, body);
    const qIndex = rawUrl.indexOf('?');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
    // Node keeps one of some repeated headers and joins others; the target may choose differently.
    const seen = new Set<string>();
    const repeatedHeaders = new Set<string>();
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!.toLowerCase();
      if (seen.has(name)) repeatedHeaders.add(name);
      seen.add(name);
    }
    const rawQuery = qIndex < 0 ? '' : rawUrl.slice(qIndex + 1);
    const signed: SignedRequest = {
      method: req.method ?? 'GET',
      path: qIndex < 0 ? rawUrl : rawUrl.slice(0, qIndex),
      query: new URLSearchParams(rawQuery),
      rawQuery,
      repeatedHeaders: [...repeatedHeaders],
      headers, body,
    };
    const t0 = performance.now();
    const upstreamBefore = this.stats.upstreamMs;
    // Time spent here on a tracked key's requests (a Lambda invocation's own credentials) is time the
    // function waited for the lab cloud, not its own: its timeout does not count it (see trackKey).
    const key = this.busyKeys.size ? parseAuth(signed)?.accessKeyId : undefined;
    const busy = key ? this.busyKeys.get(key) : undefined;
    if (busy && busy.inflight++ === 0) busy.since = Date.now();
    let reply: Reply;
    try {
      reply = await this.process(signed, rawUrl, req.socket.remoteAddress ?? '127.0.0.1', channel, (req.socket as TLSSocket).encrypted === true);
    } finally {
      if (busy && --busy.inflight === 0) busy.totalMs += Date.now() - busy.since;
    }
    this.stats.requests++;
    this.stats.ownMs += performance.now() - t0 - (this.stats.upstreamMs - upstreamBefore);
    const outHeaders = { ...reply.headers };
    delete outHeaders['transfer-encoding'];
    delete outHeaders['connection'];
    delete outHeaders['content-length'];
    const payload = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
    outHeaders['content-length'] = String(payload.length);
    res.writeHead(reply.status, outHeaders);
    res.end(req.method === 'HEAD' ? undefined : payload);
  }

  private async process(signed: SignedRequest, rawUrl: string, remoteAddress: string, channel?: Channel, secure = false): Promise<Reply> {
    const requestId = randomUUID();
    const call = identify(signed);
    call.secure = secure;
    const sourceIp = signed.headers[SOURCE_IP_HEADER] ?? (remoteAddress.startsWith('::ffff:') ? remoteAddress.slice(7) : remoteAddress);
    const userAgent = signed.headers['user-agent'] ?? '';
    const auth = parseAuth(signed);
    const refuse = (status: number, code: string, message: string, cred?: Credential): Reply => {
      if (cred) this.record({ cred, call, sourceIp, userAgent, requestId, error: { code, message } });
      return errorResponse(call, status, code, message, requestId);
    };
    const authFail = (kind: AuthFailure, cred?: Credential): Reply => {
      const f = authFailure(call, kind, { accessKeyId: auth?.accessKeyId });
      return refuse(f.status, f.code, f.message, cred);
    };

    // Anything the target could read otherwise than identify() did is refused before it is
    // authorized, forwarded or recorded (see protocol/wire.ts).
    const malformed = wireProblem(call, signed, { repeatedHeaders: signed.repeatedHeaders, headerSigned: signed.headers['authorization'] !== undefined })
      ?? malformedRequest(call, signed);
    if (malformed) return refuse(malformed.status ?? 400, malformed.code, malformed.message);
    if (!auth) {
      // Unsigned: a service may serve some itself, as AWS serves S3's public reads to anyone (a runtime's
      // serveUnsigned, see UnsignedRequest); everything else is refused as it always was. Not through a VPC endpoint.
      if (signed.headers[VPCE_HEADER] === undefined) {
        for (const rt of this.runtimes.values()) {
          const served = await (rt as Partial<ServesUnsigned>).serveUnsigned?.({ call, signed, rawUrl, sourceIp, userAgent, requestId, secure });
          if (served) return served;
        }
      }
      return authFail('missing-auth');
    }
    const cred = this.credentials.get(auth.accessKeyId);
    // AWS answers the same for unknown, deactivated and deleted keys. Requests that fail
    // authentication are not recorded: nothing in them is verified (AWS does not log them either).
    if (!cred || cred.status !== 'Active') return authFail('unknown-key');
    const verdict = await verifySignature(signed, auth, cred.secret, Date.now(), (w) => this.clock.labTimeAt(w));
    if (!verdict.ok) {
      if ('status' in verdict) return refuse(verdict.status, verdict.code, verdict.message);
      return authFail(verdict.code === 'RequestExpired' ? 'clock-skew' : 'bad-signature');
    }
    const token = signed.headers['x-amz-security-token'] ?? signed.query.get('X-Amz-Security-Token') ?? undefined;
    if (token !== cred.sessionToken) return authFail('invalid-token');
    if (cred.expiresAt && this.clock.nowMs() > cred.expiresAt.getTime()) return authFail('expired-token', cred);
    // A sandboxed process works in its own account: valid credentials of another are stolen ones.
    if (channel && cred.account !== channel.account && !this.obtainedIn(cred, channel.account)) {
      this.violation(channel, `used credentials of another account (${cred.account})`);
      return authFail('unknown-key');
    }

    // The target acts in the caller's account and the request's region, whatever an ARN says.
    const foreign = foreignResource(call, cred.account);
    if (foreign) return refuse(foreign.status, foreign.code, foreign.message, cred);

    try {
      const account = cred.account;
      const vpce = signed.headers[VPCE_HEADER];
      const ctx: CallContext = { cred, call, requestId, sourceIp, userAgent, ...(vpce ? { vpce } : {}) };
      const exts = this.extensions.get(call.service) ?? [];
      await this.authorizer.authorize(ctx, exts);
      for (const ext of exts) {
        const served = await ext.serve?.(ctx);
        if (served) {
          this.record(ctx);
          return served;
        }
      }
      for (const ext of exts) await ext.before?.(ctx);
      let upstream: UpstreamResponse;
      try {
        const tu = performance.now();
        upstream = await this.upstream.forward(account, { method: signed.method, url: forwardUrl(call, rawUrl, signed.headers['host']), headers: { ...signed.headers, host: new URL(this.upstream.url).host }, body: signed.body });
        this.stats.upstreamMs += performance.now() - tu;
      } catch (e) {
        const msg = e instanceof UpstreamDownError ? e.message : `the lab cloud's emulator did not answer: ${(e as Error).message}`;
        return errorResponse(call, 503, 'ServiceUnavailable', msg, requestId);
      }
      if (upstream.status < 300) {
        for (const ext of exts) {
          // The call succeeded in the target: a failing hook must not turn it into an error.
          try {
            upstream = (await ext.after?.(ctx, upstream)) ?? upstream;
          } catch (e) {
            process.emitWarning(`seclab gateway: after ${call.service}:${call.operation}: ${(e as Error).message}`);
          }
        }
        this.record(ctx);
      } else {
        // moto's HTML pages (unimplemented operations, crashes on bad input) become the protocol's errors.
        upstream = protocolErrorFor(call, upstream, requestId, signed.body) ?? upstream;
        const text = upstream.body.toString('utf8');
        const code = xmlTag(text, 'Code') ?? (/"__type"\s*:\s*"(?:[^"#]*#)?([^"]+)"/.exec(text)?.[1]) ?? String(upstream.status);
        const message = xmlTag(text, 'Message') ?? (/"message"\s*:\s*"([^"]*)"/i.exec(text)?.[1]) ?? '';
        this.record({ ...ctx, error: { code, message } });
      }
      return { status: upstream.status, headers: upstream.headers, body: upstream.body };
    } catch (e) {
      if (e instanceof Refusal) {
        if (!e.respond) return refuse(e.status, e.code, e.message, cred);
        this.record({ cred, call, sourceIp, userAgent, requestId, error: { code: e.code, message: e.message } });
        return e.respond(requestId);
      }
      if (e instanceof UpstreamDownError) return errorResponse(call, 503, 'ServiceUnavailable', e.message, requestId);
      // The gateway's own failure: the protocol's InternalFailure, recorded like AWS records a 500.
      return refuse(500, internalErrorCode(call.service), `The lab cloud failed to process ${call.operation}: ${String((e as Error).message).split('\n')[0]!.slice(0, 200)}`, cred);
    }
  }

  // ---- authorization and recording ----

  /** Evaluates one action on one resource for a credential (the engine's checks use it). */
  decide(cred: Credential, action: string, resource: string, context: AuthzRequest['context'], region = this.region): Promise<Decision> {
    return this.authorizer.decide(cred, action, resource, context, region);
  }

  /** Condition keys AWS sets for a request by this credential. */
  contextOf(...args: Parameters<Authorizer['contextOf']>): AuthzRequest['context'] {
    return this.authorizer.contextOf(...args);
  }

  /** Hands a decided call to the services that record calls (CloudTrail). */
  private record(outcome: CallOutcome): void {
    for (const rt of this.runtimes.values()) {
      try {
        rt.observe?.(outcome);
      } catch (e) {
        process.emitWarning(`seclab gateway: recording ${outcome.call.service}:${outcome.call.operation}: ${(e as Error).message}`);
      }
    }
  }

  // ---- control endpoints: /_seclab/... (documented in the README) ----

  private async control(req: http.IncomingMessage, res: http.ServerResponse, rawUrl: string, body: Buffer): Promise<void> {
    const url = new URL(rawUrl, 'http://gateway');
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    let input: Record<string, unknown> = {};
    try {
      input = body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
    } catch {
      return send(400, { error: 'the body must be JSON' });
    }
    const path = url.pathname;
    // Open to anyone on the machine: whether the lab cloud is up, and what time it is. Everything
    // else needs the control token (held by seclab, printed by `cloud up`, never given to students'
    // code): it moves time, makes accounts, reads other accounts' deliveries and MFA codes.
    if (path === '/_seclab/health') return send(200, { ok: !this.upstream.deathMessage, error: this.upstream.deathMessage });
    if (path === '/_seclab/clock' && req.method !== 'POST') return send(200, { now: this.clock.now().toISOString(), offsetMs: this.clock.offset() });
    if (req.headers['x-seclab-control-token'] !== this.controlToken) {
      return send(403, { error: `${path} needs the header x-seclab-control-token (printed by \`seclab cloud up\`)` });
    }
    if (path === '/_seclab/clock') {
      const seconds = Number(input['advanceSeconds'] ?? 0);
      if (!Number.isFinite(seconds) || seconds < 0 || seconds > 366 * 86400) return send(400, { error: 'advanceSeconds must be a number of seconds between 0 and 31622400 (a year)' });
      await this.clock.advance(seconds * 1000);
      return send(200, { now: this.clock.now().toISOString(), offsetMs: this.clock.offset() });
    }
    if (path === '/_seclab/accounts' && req.method === 'POST') {
      try {
        return send(200, this.createAccount(input['accountId'] as string | undefined));
      } catch (e) {
        return send(400, { error: (e as Error).message });
      }
    }
    const handler = this.controls.get(path);
    if (handler) {
      const r = await handler(url.searchParams, input);
      return send(r.status, r.value);
    }
    return send(404, { error: `unknown control endpoint ${path}` });
  }
}


