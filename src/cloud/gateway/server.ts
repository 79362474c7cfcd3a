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
import { extensions } from '../services/index.ts';
import { ApiError as Refusal } from './api-error.ts';
import { CredentialStore, newAccessKeyId, newSecret, type Credential } from './credentials.ts';
import { parseAuth, verifySignature, type SignedRequest } from './sigv4.ts';
import { Upstream, UpstreamDownError, type UpstreamResponse } from './upstream.ts';
import { identify, type ApiCall } from './protocol/identify.ts';
import { toAuthz, type AuthzCheck } from './protocol/authz-map.ts';
import { FORWARD_MARKER, foreignResource, wireProblem } from './protocol/wire.ts';
import { errorResponse, accessDeniedMessage, accessDeniedResponse, accessDeniedCode, accessDeniedStatus, authFailure, type AuthFailure } from './protocol/errors.ts';
import { guessCall, protocolErrorFor } from './protocol/target-errors.ts';
import { MfaRegistry, totpCode } from '../services/iam/mfa.ts';
import { PolicyStore, parsePolicyText } from '../services/iam/policy-store.ts';
import { evaluate } from '../services/iam/policy/evaluate.ts';
import { OrgDirectory } from '../services/organizations/directory.ts';
import type { AuthzRequest, Decision, PolicySet, RequestPrincipal } from '../services/iam/policy/types.ts';
import { CloudTrailDelivery } from '../services/cloudtrail/delivery.ts';
import { Sinks } from './sinks.ts';
import { LambdaRunner } from '../services/lambda/runner.ts';
import { Outbox } from '../services/sns/outbox.ts';
import { LogFilters } from '../services/logs/extension.ts';
import { MetricStore } from '../services/cloudwatch/alarms/metric-store.ts';
import { AlarmRuntime } from '../services/cloudwatch/runtime.ts';
import { EventBus } from '../services/events/bus.ts';
import { DataPlane, MotoTopologySource } from '../services/ec2/dataplane/index.ts';
import { CloudTrailStore, ctTime, isReadOnly, LookupError, toRequestParameters, type CloudTrailRecord, type UserIdentity } from '../services/cloudtrail/recorder.ts';

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
}

export class Gateway {
  readonly clock = new LabClock();
  readonly credentials = new CredentialStore();
  readonly mfa = new MfaRegistry();
  readonly trail = new CloudTrailStore();
  readonly upstream: Upstream;
  readonly policies: PolicyStore;
  /** AWS Organizations as the authorizer sees it: membership, org paths and SCPs of each account. */
  readonly organizations: OrgDirectory;
  readonly region: string;
  readonly sinks: Sinks;
  readonly cloudtrailDelivery: CloudTrailDelivery;
  readonly lambda: LambdaRunner;
  readonly outbox = new Outbox();
  readonly logFilters: LogFilters;
  readonly alarms: AlarmRuntime;
  readonly bus: EventBus;
  /** The VPC data plane: traffic judged by security groups and network ACLs, written as flow logs. */
  readonly dataplane: DataPlane;
  private ticker: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly metricStores = new Map<string, MetricStore>();
  /** S3 bucket names are global: which account created each bucket. */
  readonly bucketOwners = new Map<string, string>();
  private readonly extensions = new Map<string, ServiceExtension[]>();
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
    this.policies = new PolicyStore(this.upstream);
    this.organizations = new OrgDirectory(this.upstream);
    this.region = options.region ?? 'us-east-1';
    for (const ext of extensions) this.extensions.set(ext.service, [...(this.extensions.get(ext.service) ?? []), ext]);
    this.sinks = new Sinks(this.upstream);
    this.cloudtrailDelivery = new CloudTrailDelivery(this.trail, this.upstream, this.sinks);
    this.lambda = new LambdaRunner(this);
    this.logFilters = new LogFilters(this);
    this.alarms = new AlarmRuntime(this);
    this.bus = new EventBus(this);
    this.dataplane = new DataPlane({
      topology: new MotoTopologySource(options.upstreamUrl, { accountSelection: options.accountSelection ?? 'header', headers: options.upstreamHeaders }),
      sinks: {
        putLogEvents: (account, region, group, stream, events) => this.sinks.putLogEvents(account, region, group, stream, events),
        putObject: (account, bucket, key, body) => this.sinks.putObject(account, bucket, key, body),
      },
    });
    // What the lab cloud writes to CloudWatch Logs itself goes through the same filters as clients' events.
    this.sinks.onLogEvents((account, region, group, stream, events) => this.logFilters.apply(account, region, group, stream, events));
    // Time-driven work runs when the lab clock moves, and on flush().
    this.clock.onTick(() => {
      this.upstream.clockOffsetMs = this.clock.offset();
      return this.flush();
    });
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
          const r = errorResponse(call, 500, call.service === 's3' ? 'InternalError' : 'InternalFailure', `The lab cloud failed to process the request: ${String((e as Error).message).split('\n')[0]!.slice(0, 200)}`, randomUUID());
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
    this.dataplane.close();
    this.lambda.stopAll();
  }

  /**
   * Runs what AWS does on its own schedule, up to the lab clock's now: CloudTrail delivery (every few
   * minutes in AWS). Scenarios and graders call it before they look for deliveries.
   */
  async flush(): Promise<void> {
    // While a grading holds the lab clock, deliveries and evaluations happen on its ticks only.
    await this.clock.whenFree();
    // One flush at a time: a clock tick and a real-time tick must not deliver the same records twice.
    while (this.flushing) await this.flushing;
    this.flushing = (async () => {
      if (this.upstream.deathMessage) return;
      await this.dataplane.flush(this.clock.nowMs());
      await this.cloudtrailDelivery.deliverAll(this.clock.nowMs());
      await this.lambda.settle();
      await this.alarms.tick(this.clock.nowMs());
      await this.lambda.settle();
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
    this.mfa.dropAccount(accountId);
    this.trail.dropAccount(accountId);
    this.policies.dropAccount(accountId);
    this.organizations.invalidate();
    this.outbox.dropAccount(accountId);
    this.alarms.dropAccount(accountId);
    for (const k of this.metricStores.keys()) if (k.startsWith(`${accountId}|`)) this.metricStores.delete(k);
  }

  /** CloudWatch metrics of an account and region (PutMetricData, metric filters), for alarms. */
  metricsFor(account: string, region: string): MetricStore {
    const key = `${account}|${region}`;
    let m = this.metricStores.get(key);
    if (!m) this.metricStores.set(key, (m = new MetricStore()));
    return m;
  }

  /** What the authenticator app of the person holding this MFA device shows now (lab clock). */
  mfaCode(accountId: string, serial: string, offsetSteps = 0): string {
    const d = this.mfa.get(accountId, serial);
    if (!d) throw new Error(`no virtual MFA device ${serial} in account ${accountId}`);
    return totpCode(d.seedBase32, this.clock.nowMs() + offsetSteps * 30_000);
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
        const call = guessCall(req.headers, req.url ?? '/');
        const r = call.service === 's3'
          ? errorResponse(call, 400, 'EntityTooLarge', `Your proposed upload exceeds the maximum allowed size (the lab cloud accepts request bodies up to ${REQUEST_BODY_LIMIT / 1024 / 1024} MB)`, randomUUID())
          : errorResponse(call, 413, 'RequestEntityTooLarge', `The lab cloud accepts request bodies up to ${REQUEST_BODY_LIMIT / 1024 / 1024} MB`, randomUUID());
        res.writeHead(r.status, { ...r.headers, connection: 'close' });
        res.end(r.body);
        req.destroy();
        return;
      }
      chunks.push(c as Buffer);
    }
    const body = Buffer.concat(chunks);
    const rawUrl = req.url ?? '/';
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
      if (cred) this.record(cred, call, sourceIp, userAgent, requestId, { code, message });
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
    if (!auth) return authFail('missing-auth');
    const cred = this.credentials.get(auth.accessKeyId);
    // AWS answers the same for unknown, deactivated and deleted keys. Requests that fail
    // authentication are not recorded: nothing in them is verified (AWS does not log them either).
    if (!cred || cred.status !== 'Active') return authFail('unknown-key');
    const verdict = await verifySignature(signed, auth, cred.secret);
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
      await this.authorize(cred, call, sourceIp, userAgent);
      const ctx: CallContext = { gateway: this, cred, call, requestId, sourceIp, userAgent };
      const exts = this.extensions.get(call.service) ?? [];
      for (const ext of exts) {
        const served = await ext.serve?.(ctx);
        if (served) {
          this.record(cred, call, sourceIp, userAgent, requestId);
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
        this.record(cred, call, sourceIp, userAgent, requestId);
      } else {
        // moto's HTML pages (unimplemented operations, crashes on bad input) become the protocol's errors.
        upstream = protocolErrorFor(call, upstream, requestId, signed.body) ?? upstream;
        const text = upstream.body.toString('utf8');
        const code = xmlTag(text, 'Code') ?? (/"__type"\s*:\s*"(?:[^"#]*#)?([^"]+)"/.exec(text)?.[1]) ?? String(upstream.status);
        const message = xmlTag(text, 'Message') ?? (/"message"\s*:\s*"([^"]*)"/i.exec(text)?.[1]) ?? '';
        this.record(cred, call, sourceIp, userAgent, requestId, { code, message });
      }
      return { status: upstream.status, headers: upstream.headers, body: upstream.body };
    } catch (e) {
      if (e instanceof Refusal) {
        if (!e.respond) return refuse(e.status, e.code, e.message, cred);
        this.record(cred, call, sourceIp, userAgent, requestId, { code: e.code, message: e.message });
        return e.respond(requestId);
      }
      if (e instanceof LookupError) return refuse(400, e.code, e.message, cred);
      if (e instanceof UpstreamDownError) return errorResponse(call, 503, 'ServiceUnavailable', e.message, requestId);
      // The gateway's own failure: the protocol's InternalFailure, recorded like AWS records a 500.
      return refuse(500, call.service === 's3' ? 'InternalError' : 'InternalFailure', `The lab cloud failed to process ${call.operation}: ${String((e as Error).message).split('\n')[0]!.slice(0, 200)}`, cred);
    }
  }

  // ---- principals and authorization ----

  principalOf(cred: Credential): RequestPrincipal {
    if (cred.kind === 'root') return { arn: cred.arn, account: cred.account, type: 'Root' };
    if (cred.kind === 'role-session') {
      return { arn: cred.arn, account: cred.account, type: 'AssumedRole', alternateArns: cred.roleArn ? [cred.roleArn] : [] };
    }
    return { arn: cred.arn, account: cred.account, type: 'IAMUser' };
  }

  /** The policies that apply to a credential's principal. */
  async policySetOf(cred: Credential): Promise<PolicySet | undefined> {
    if (cred.kind === 'root') return { identity: [] };
    if (cred.kind === 'role-session') return this.policies.forRole(cred.account, cred.roleName ?? '');
    return this.policies.forUser(cred.account, cred.userName ?? '');
  }

  /** Condition keys AWS sets for a request by this credential. */
  contextOf(cred: Credential, sourceIp: string, userAgent: string, call: ApiCall): AuthzRequest['context'] {
    const now = this.clock.now();
    const ctx: AuthzRequest['context'] = {
      'aws:CurrentTime': now.toISOString(),
      'aws:EpochTime': String(Math.floor(now.getTime() / 1000)),
      'aws:SourceIp': sourceIp,
      'aws:UserAgent': userAgent,
      // True exactly for requests over the gateway's HTTPS listener.
      'aws:SecureTransport': call.secure ? 'true' : 'false',
      'aws:RequestedRegion': call.region,
      'aws:PrincipalAccount': cred.account,
      'aws:PrincipalArn': cred.kind === 'role-session' ? cred.roleArn : cred.arn,
      'aws:ViaAWSService': 'false',
    };
    if (cred.kind === 'user' || cred.kind === 'session') {
      ctx['aws:username'] = cred.userName;
      ctx['aws:userid'] = cred.userId;
      ctx['aws:PrincipalType'] = 'User';
    } else if (cred.kind === 'role-session') {
      ctx['aws:userid'] = `${cred.userId ?? ''}:${cred.sessionName ?? ''}`;
      ctx['aws:PrincipalType'] = 'AssumedRole';
    } else {
      ctx['aws:PrincipalType'] = 'Account';
    }
    // aws:MultiFactorAuthPresent is absent for long-term keys (why policies use BoolIfExists), and
    // present for temporary credentials, true only when the session was obtained with a valid code.
    if (cred.kind === 'session' || cred.kind === 'role-session') {
      ctx['aws:MultiFactorAuthPresent'] = cred.mfaAuthenticated ? 'true' : 'false';
      if (cred.issuedAt) ctx['aws:TokenIssueTime'] = cred.issuedAt.toISOString();
      if (cred.mfaAuthenticated && cred.mfaAuthTime) {
        ctx['aws:MultiFactorAuthAge'] = String(Math.floor((now.getTime() - cred.mfaAuthTime.getTime()) / 1000));
      }
    }
    return ctx;
  }

  private async resourcePolicyFor(account: string, region: string, resource: string): Promise<PolicySet['resource']> {
    if (resource.startsWith('arn:aws:s3:::')) {
      const bucket = resource.slice('arn:aws:s3:::'.length).split('/')[0]!;
      if (!bucket || bucket === '*') return undefined;
      // A policy that cannot be read fails the call (closed), rather than being ignored (open).
      const doc = await this.policies.bucketPolicy(account, bucket);
      return doc ? { source: `bucket policy of ${bucket}`, document: doc, account } : undefined;
    }
    const sns = /^arn:aws:sns:([^:]+):(\d{12}):([^:]+)$/.exec(resource);
    if (sns) {
      const doc = await this.policies.topicPolicy(account, sns[1]!, resource);
      return doc ? { source: `topic policy of ${sns[3]}`, document: doc, account: sns[2]! } : undefined;
    }
    const kms = /^arn:aws:kms:([^:]+):(\d{12}):key\/(.+)$/.exec(resource);
    if (kms) {
      const doc = await this.policies.keyPolicy(account, kms[1] ?? region, kms[3]!);
      return doc ? { source: `key policy of ${kms[3]}`, document: doc, account: kms[2]!, mustAllow: true } : undefined;
    }
    return undefined;
  }

  /** Evaluates one action on one resource for a credential (also used by the engine's checks). */
  async decide(cred: Credential, action: string, resource: string, context: AuthzRequest['context'], region = this.region): Promise<Decision> {
    const set = await this.policySetOf(cred);
    if (!set) {
      return { decision: 'ImplicitDeny', matched: [], reason: `the principal ${cred.arn} no longer exists` };
    }
    // S3 ARNs carry no account: the bucket's owner decides whether the request is cross-account.
    const bucket = resource.startsWith('arn:aws:s3:::') ? resource.slice(13).split('/')[0] : undefined;
    // CreateBucket acts in the caller's own account, even on a name another account holds (the S3
    // extension then answers BucketAlreadyExists, as AWS does).
    const owner = (bucket && action !== 's3:CreateBucket' && this.bucketOwners.get(bucket)) || cred.account;
    // Lockout recovery: the root user of the account that owns a bucket can always read, replace and
    // delete the bucket's policy, whatever the policy says (S3 User Guide, "I accidentally denied
    // everyone access to my bucket"): the bucket policy is left out (an SCP still applies).
    const lockoutRecovery = cred.kind === 'root' && !!bucket && owner === cred.account && resource === `arn:aws:s3:::${bucket}`
      && ['s3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy'].includes(action);
    const resourcePolicy = action === 'sts:AssumeRole' ? await this.trustPolicyFor(resource)
      : lockoutRecovery ? undefined : await this.resourcePolicyFor(owner, region, resource);
    // AWS Organizations: the SCPs that limit the caller's account, and the org condition keys of the
    // caller (aws:PrincipalOrgID, aws:PrincipalOrgPaths) and of the resource's account (aws:ResourceOrgID, aws:ResourceOrgPaths).
    const resourceAccount = bucket ? owner : resourcePolicy?.account ?? /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/.exec(resource)?.[1] ?? cred.account;
    const [principalOrg, resourceOrg] = await Promise.all([this.organizations.membership(cred.account), this.organizations.membership(resourceAccount)]);
    const orgContext: AuthzRequest['context'] = {
      ...(principalOrg ? { 'aws:PrincipalOrgID': principalOrg.orgId, 'aws:PrincipalOrgPaths': [principalOrg.orgPath] } : {}),
      ...(resourceOrg ? { 'aws:ResourceOrgID': resourceOrg.orgId, 'aws:ResourceOrgPaths': [resourceOrg.orgPath] } : {}),
    };
    return evaluate(
      { action, resource, principal: this.principalOf(cred), context: { ...orgContext, ...context }, resourceAccount: bucket ? owner : undefined },
      { ...set, ...(resourcePolicy ? { resource: resourcePolicy } : {}), ...(principalOrg?.scpLevels ? { scp: principalOrg.scpLevels } : {}) },
    );
  }

  private async authorize(cred: Credential, call: ApiCall, sourceIp: string, userAgent: string): Promise<void> {
    const authz = toAuthz(call, cred.account, { userName: cred.userName });
    if (authz.alwaysAllowed) return;
    // Temporary credentials from GetSessionToken cannot call IAM without MFA, nor STS except these.
    if (cred.kind === 'session') {
      if (call.service === 'iam' && !cred.mfaAuthenticated) {
        throw new Refusal(403, 'AccessDenied', 'Cannot call IAM APIs with session credentials obtained without MFA authentication.');
      }
      if (call.service === 'sts' && !['AssumeRole', 'GetCallerIdentity'].includes(call.operation)) {
        throw new Refusal(403, 'AccessDenied', `Cannot call ${call.operation} with session credentials`);
      }
    }
    // "Roles may not be assumed by root accounts" (long-term root keys and root sessions alike).
    if (cred.kind === 'root' && call.service === 'sts' && call.operation.startsWith('AssumeRole')) {
      throw new Refusal(403, 'AccessDenied', 'Roles may not be assumed by root accounts.');
    }
    const base = this.contextOf(cred, sourceIp, userAgent, call);
    const checks: AuthzCheck[] = [authz, ...(authz.additional ?? [])];
    if (authz.resolve?.kmsAliasArn) {
      // Authorize against the key the alias points to, as KMS does.
      const keyArn = await this.upstream
        .json<{ KeyMetadata?: { Arn?: string } }>(cred.account, 'kms', 'DescribeKey', { KeyId: authz.resolve.kmsAliasArn }, call.region)
        .then((r) => r.KeyMetadata?.Arn, () => undefined);
      if (keyArn) checks[0] = { ...authz, resources: [keyArn] };
    }
    // Every resource of every check must be allowed. (DeleteObjects: S3 would report refused keys
    // inside a successful response; the gateway refuses the whole call instead.)
    for (const check of checks) {
      const context = { ...base, ...check.context };
      for (const resource of check.resources) {
        const d = await this.decide(cred, check.action, resource, context, call.region);
        if (d.decision === 'Allow') continue;
        const byResource = d.matched.some((m) => m.effect === 'Deny' && /^(bucket|key|trust|topic) policy/.test(m.source));
        const byScp = d.matched.some((m) => m.effect === 'Deny' && m.policyType === 'scp');
        const reason = d.decision === 'ExplicitDeny'
          ? (byScp ? 'explicit-deny-scp' : byResource ? 'explicit-deny-resource' : d.reason.includes('boundary') ? 'explicit-deny-boundary' : 'explicit-deny-identity')
          : d.reason.startsWith('no service control policy') ? 'scp' : d.reason.includes('boundary') ? 'boundary'
            // AssumeRole: the role's trust policy (its resource policy) does not allow the caller.
            : check.action === 'sts:AssumeRole' && !d.matched.some((m) => m.policyType === 'resource' && m.effect === 'Allow') ? 'no-resource-policy'
            : 'no-identity-policy';
        const message = call.service === 's3' ? 'Access Denied' : accessDeniedMessage(cred.arn, check.action, resource, reason);
        throw new Refusal(accessDeniedStatus(call.service), accessDeniedCode(call.service), message, (requestId) => accessDeniedResponse(call, message, requestId));
      }
    }
  }

  /**
   * AssumeRole's resource policy is the role's trust policy, read in the account the role ARN names
   * (which may be another account than the caller's). Like a key policy it must allow the caller,
   * directly or by naming the caller's account; across accounts the caller's identity policy must
   * allow sts:AssumeRole too (evaluate's cross-account rule). A role that does not exist trusts nobody.
   */
  private async trustPolicyFor(roleArn: string): Promise<PolicySet['resource']> {
    const m = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
    if (!m) return undefined;
    const [, account, roleName] = m as unknown as [string, string, string];
    const role = (await this.policies.account(account)).roles.get(roleName);
    const arnMatches = role?.Arn === undefined || role.Arn === roleArn;
    const document = role?.AssumeRolePolicyDocument && arnMatches ? parsePolicyText(role.AssumeRolePolicyDocument) : { Statement: [] };
    return { source: `trust policy of ${roleName}`, document, account, mustAllow: true };
  }

  // ---- CloudTrail ----

  userIdentityOf(cred: Credential): UserIdentity {
    const base = { accountId: cred.account, accessKeyId: cred.accessKeyId };
    if (cred.kind === 'root') return { type: 'Root', principalId: cred.account, arn: cred.arn, ...base };
    const attributes = cred.issuedAt
      ? { attributes: { creationDate: ctTime(cred.issuedAt), mfaAuthenticated: (cred.mfaAuthenticated ? 'true' : 'false') as 'true' | 'false' } }
      : undefined;
    if (cred.kind === 'role-session') {
      return {
        type: 'AssumedRole', principalId: `${cred.userId}:${cred.sessionName}`, arn: cred.arn, ...base,
        sessionContext: { sessionIssuer: { type: 'Role', principalId: cred.userId, arn: cred.roleArn ?? '', accountId: cred.account, userName: cred.roleName ?? '' }, ...attributes! },
      };
    }
    return { type: 'IAMUser', principalId: cred.userId, arn: cred.arn, ...base, userName: cred.userName, ...(attributes ? { sessionContext: attributes } : {}) };
  }

  private record(cred: Credential, call: ApiCall, sourceIp: string, userAgent: string, requestId: string, error?: { code: string; message: string }): void {
    const dataEvent = call.service === 's3' && call.params['Key'] !== undefined;
    const authz = (() => {
      try {
        return toAuthz(call, cred.account);
      } catch {
        return undefined;
      }
    })();
    const record: CloudTrailRecord = {
      eventVersion: '1.08',
      userIdentity: this.userIdentityOf(cred),
      eventTime: ctTime(this.clock.now()),
      eventSource: call.eventSource,
      eventName: call.operation,
      awsRegion: call.region,
      sourceIPAddress: sourceIp,
      userAgent,
      requestParameters: toRequestParameters(call.service === 's3' ? s3RequestParameters(call.params, call.region) : call.params),
      responseElements: null,
      ...(error ? { errorCode: error.code, errorMessage: error.message } : {}),
      requestID: requestId,
      eventID: this.trail.newEventId(),
      readOnly: isReadOnly(call.operation),
      ...(authz && authz.resources.some((r) => r !== '*') ? { resources: authz.resources.filter((r) => r !== '*').map((ARN) => ({ ARN, accountId: cred.account })) } : {}),
      eventType: 'AwsApiCall',
      managementEvent: !dataEvent,
      recipientAccountId: cred.account,
      eventCategory: dataEvent ? 'Data' : 'Management',
    };
    // A cross-account AssumeRole, allowed or refused, is also logged in the role's account, where the
    // caller shows as another AWS account (userIdentity type AWSAccount), with a shared event id.
    const roleAccount = call.service === 'sts' && call.operation === 'AssumeRole' ? /^arn:aws[a-z-]*:iam::(\d{12}):role\//.exec(String(call.params['RoleArn'] ?? ''))?.[1] : undefined;
    if (roleAccount && roleAccount !== cred.account) {
      record.sharedEventID = randomUUID();
      this.trail.add(record);
      this.trail.add({
        ...record, eventID: this.trail.newEventId(), recipientAccountId: roleAccount,
        userIdentity: { type: 'AWSAccount', principalId: record.userIdentity.principalId, accountId: cred.account },
      });
      return;
    }
    this.trail.add(record);
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
    if (path === '/_seclab/outbox') {
      await this.flush();
      const account = url.searchParams.get('account') ?? '';
      return send(200, { deliveries: this.outbox.list(account, { protocol: url.searchParams.get('protocol') ?? undefined, endpoint: url.searchParams.get('endpoint') ?? undefined }) });
    }
    if (path === '/_seclab/mfa-code') {
      try {
        return send(200, { code: this.mfaCode(url.searchParams.get('account') ?? '', url.searchParams.get('serial') ?? '') });
      } catch (e) {
        return send(404, { error: (e as Error).message });
      }
    }
    return send(404, { error: `unknown control endpoint ${path}` });
  }
}


/**
 * A "/" encoded inside an S3 bucket name: the gateway and the target would split bucket and key
 * differently. (Everything else the two could read differently: protocol/wire.ts.)
 */
function malformedRequest(call: ApiCall, req: SignedRequest): { status?: number; code: string; message: string } | undefined {
  if (call.service === 's3' && /^\/[^/]*%2f/i.test(req.path)) {
    return { code: 'InvalidBucketName', message: 'The specified bucket is not valid.' };
  }
  return undefined;
}

/**
 * The URL to send the target, path-style: the target must see the bucket the gateway authorized.
 * A virtual-hosted request (bucket in the Host header) becomes /bucket/key; any other Host is
 * replaced, so the target cannot read a bucket from a Host the gateway did not.
 */
function forwardUrl(call: ApiCall, rawUrl: string, host: string | undefined): string {
  const bucket = call.service === 's3' ? call.params['Bucket'] : undefined;
  let url = rawUrl;
  if (typeof bucket === 'string' && bucket && host?.toLowerCase().startsWith(`${bucket.toLowerCase()}.`)) {
    url = `/${encodeURIComponent(bucket)}${rawUrl.startsWith('/') ? rawUrl : `/${rawUrl}`}`.replace(/^(\/[^/?]+)\/\?/, '$1?');
  }
  // A URL query that is never empty: moto would otherwise read parameters from a body that is not
  // a form (a JSON string holding "&Action=...") or from the request headers.
  const q = url.indexOf('?');
  if (q < 0) return `${url}?${FORWARD_MARKER}`;
  if (q === url.length - 1) return `${url}${FORWARD_MARKER}`;
  return url;
}

/** CloudTrail names S3's request parameters bucketName, key and Host, not as the API does. */
function s3RequestParameters(params: Record<string, unknown>, region: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    if (k === 'Bucket') out['BucketName'] = v;
    else if (k === 'Key') out['Key'] = v;
    else out[k] = v;
  }
  if (params['Bucket'] !== undefined) out['Host'] = `${String(params['Bucket'])}.s3.${region}.amazonaws.com`;
  return out;
}
