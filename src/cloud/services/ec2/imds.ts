// The instance metadata service (IMDS) of the lab cloud's EC2 instances, as the EC2 User Guide
// describes it ("Use the Instance Metadata Service to access instance metadata", "Instance metadata
// categories"); docs/imds.md has the design, docs/moto-deviations.md ("EC2 instance metadata") what
// moto gets wrong and what is fixed here.
//
// Reachability. On AWS, IMDS is 169.254.169.254 as seen from the instance, without credentials. Here
// each instance gets, on first use, its own HTTP listener on 127.0.0.1 (port chosen by the system)
// whose every path starts with an unguessable per-instance prefix: `urlOf(account, instanceId)` =
// http://127.0.0.1:<port>/<32 random bytes, base64url>. The URL is a capability handed only to what
// runs "on the instance" (the lab's web app, a scenario's SSRF helper below) through this runtime;
// nothing in the gateway (no control endpoint, no link) hands it out, so code of another account
// that scans loopback ports finds listeners that answer 404 to every path it can guess. Nothing of
// src/cloud/gateway/** is involved: the listener is this runtime's own.
//
// What is modelled (each rule has a test in test/services/imds.test.ts):
//  - IMDSv1: GET without a token, when HttpTokens is optional.
//  - IMDSv2: PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds 1..21600 (else 400);
//    the token (valid on the lab clock, for this instance only) in X-aws-ec2-metadata-token; an
//    invalid or expired token is 401; with HttpTokens=required a GET without one is 401.
//  - A token PUT carrying X-Forwarded-For is refused (403), as AWS refuses it (a proxy in between).
//  - HttpPutResponseHopLimit: the PUT's response travels back through as many hops as the request
//    came through; the model of the network path is the header X-Seclab-Imds-Hops (default 1: a
//    process on the instance; a container on a bridge network adds one, a proxy one more). When it
//    exceeds the instance's hop limit the response is dropped: the connection is closed without an
//    answer, as the IP packet's TTL would expire on the way back. Only the token PUT is limited.
//  - HttpEndpoint=disabled: every request is 403 Forbidden (AWS re:Post, "troubleshoot instance
//    metadata": "403 - Forbidden ... IMDS is turned off"). A stopped or terminated instance answers
//    nothing (the connection is closed).
//  - iam/ exists only when an instance profile is associated (RunInstances IamInstanceProfile,
//    AssociateIamInstanceProfile, read back from moto's DescribeIamInstanceProfileAssociations);
//    iam/security-credentials/<role> hands out real temporary credentials of the profile's role,
//    minted into the gateway's credential store as a role session named after the instance id (as
//    AWS does: arn:aws:sts::ACCOUNT:assumed-role/ROLE/i-...), valid 6 hours on the lab clock and
//    replaced by fresh ones in their last 15 minutes (AWS: "at least five minutes before" expiry).
//    A role whose trust policy does not let ec2.amazonaws.com assume it gets AWS's
//    AssumeRoleUnauthorizedAccess answer instead of credentials.
//  - tags/instance/ only with InstanceMetadataTags=enabled.
//  - Giving an instance a role (RunInstances IamInstanceProfile, Associate/ReplaceIamInstanceProfileAssociation)
//    needs iam:PassRole on the role (resolve, hooked as the EC2 runtime's AuthorizationPart).
//  - Every request is kept in a per-instance access log (accessLog) as graders' evidence.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { ApiError } from '../../gateway/api-error.ts';
import { newAccessKeyId, newSecret, type Credential } from '../../gateway/credentials.ts';
import type { CallContext, ServiceExtension } from '../../gateway/extension.ts';
import type { Capabilities } from '../../gateway/service.ts';
import type { UpstreamResponse } from '../../gateway/upstream.ts';
import type { AuthzRequirement } from '../../gateway/protocol/authz-map.ts';
import type { ApiCall } from '../../gateway/protocol/types.ts';

/** The header that models the network path of a request to IMDS (hops between the caller and the instance's IMDS). */
export const HOPS_HEADER = 'x-seclab-imds-hops';
/** Lifetime of instance role credentials, and when before their expiry fresh ones are handed out. */
export const ROLE_CREDENTIALS_TTL_MS = 6 * 3600_000;
export const ROLE_CREDENTIALS_REFRESH_MS = 15 * 60_000;
/** The addresses by which an instance reaches its IMDS (IPv4, the instance-data name, IPv6 on Nitro). */
const IMDS_HOSTS = new Set(['169.254.169.254', 'instance-data', 'instance-data.ec2.internal', '[fd00:ec2::254]']);

export interface MetadataOptions {
  State?: string;
  HttpTokens?: string;
  HttpPutResponseHopLimit?: number;
  HttpEndpoint?: string;
  HttpProtocolIpv6?: string;
  InstanceMetadataTags?: string;
}

interface Ec2Instance {
  InstanceId?: string;
  ImageId?: string;
  InstanceType?: string;
  State?: { Name?: string };
  PrivateIpAddress?: string;
  PublicIpAddress?: string;
  PrivateDnsName?: string;
  PublicDnsName?: string;
  KeyName?: string;
  AmiLaunchIndex?: number;
  LaunchTime?: Date;
  RootDeviceName?: string;
  Architecture?: string;
  Placement?: { AvailabilityZone?: string };
  SecurityGroups?: { GroupName?: string; GroupId?: string }[];
  Tags?: { Key?: string; Value?: string }[];
  MetadataOptions?: MetadataOptions;
  NetworkInterfaces?: {
    NetworkInterfaceId?: string; MacAddress?: string; SubnetId?: string; VpcId?: string; OwnerId?: string;
    PrivateIpAddress?: string; PrivateDnsName?: string; Attachment?: { DeviceIndex?: number };
    Groups?: { GroupName?: string; GroupId?: string }[]; Association?: { PublicIp?: string; PublicDnsName?: string };
    PrivateIpAddresses?: { PrivateIpAddress?: string }[];
  }[];
}

interface Listener {
  account: string;
  region: string;
  instanceId: string;
  server: http.Server;
  sockets: Set<Socket>;
  url: string;
  prefix: string;
  /** IMDSv2 session tokens of this instance: token → expiry (lab clock, ms). */
  tokens: Map<string, number>;
  /** What was asked of this instance's IMDS (the newest ACCESS_LOG_LIMIT requests). */
  log: ImdsAccess[];
}

/** One request to an instance's IMDS, for graders (an SSRF leaves these traces; AWS keeps none). */
export interface ImdsAccess {
  /** Lab clock. */
  at: string;
  method: string;
  /** The path without the instance's prefix (/latest/meta-data/...). */
  path: string;
  /** 0: no answer (hop limit, instance not running). */
  status: number;
  /** IMDSv2 (a session token was sent, or this was the token PUT) or IMDSv1. */
  version: '1.0' | '2.0';
  hops: number;
  /** Role credentials this request handed out (AWS's CloudTrail ec2RoleDelivery is the version). */
  accessKeyId?: string;
}

const ACCESS_LOG_LIMIT = 1000;

/** What a request to IMDS got: an HTTP answer, or none (status 0: dropped, closed, not reachable). */
export interface ImdsResponse {
  status: number;
  body: string;
  headers: Record<string, string>;
  /** Why there was no answer (status 0). */
  error?: string;
}

export interface SsrfOptions {
  /** What the vulnerable app sends; an SSRF through a URL parameter is a GET without chosen headers. */
  method?: string;
  headers?: Record<string, string>;
  /** Hops between the app and IMDS: 1 on the instance itself, 2 from a container on a bridge network. */
  hops?: number;
  region?: string;
  timeoutMs?: number;
}

type Tree = { [name: string]: string | Tree | (() => Promise<string | undefined>) };

const ENUMS: Record<string, string[]> = {
  HttpTokens: ['optional', 'required'],
  HttpEndpoint: ['enabled', 'disabled'],
  HttpProtocolIpv6: ['enabled', 'disabled'],
  InstanceMetadataTags: ['enabled', 'disabled'],
};

/** Metadata options of a RunInstances or ModifyInstanceMetadataOptions call, as given (nothing defaulted). */
export function requestedOptions(params: Record<string, unknown>, nested: boolean): MetadataOptions {
  const src = (nested ? (params['MetadataOptions'] as Record<string, unknown> | undefined) : params) ?? {};
  const out: MetadataOptions = {};
  for (const k of ['HttpTokens', 'HttpEndpoint', 'HttpProtocolIpv6', 'InstanceMetadataTags'] as const) {
    if (src[k] !== undefined) out[k] = String(src[k]);
  }
  if (src['HttpPutResponseHopLimit'] !== undefined) out.HttpPutResponseHopLimit = Number(src['HttpPutResponseHopLimit']);
  return out;
}

/** AWS's checks of metadata options (moto stores whatever it is given). */
export function validateOptions(o: MetadataOptions): void {
  for (const [k, allowed] of Object.entries(ENUMS)) {
    const v = o[k as keyof MetadataOptions];
    if (v !== undefined && !allowed.includes(String(v))) {
      throw new ApiError(400, 'InvalidParameterValue', `Value (${String(v)}) for parameter ${k} is invalid. Valid values: ${allowed.join(', ')}`);
    }
  }
  const hop = o.HttpPutResponseHopLimit;
  if (hop !== undefined && !(Number.isInteger(hop) && hop >= 1 && hop <= 64)) {
    throw new ApiError(400, 'InvalidParameterValue', `The HttpPutResponseHopLimit value (${String(hop)}) is invalid. Specify a value between 1 and 64.`);
  }
}

const NOT_FOUND = '<?xml version="1.0" encoding="iso-8859-1"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n <head>\n  <title>404 - Not Found</title>\n </head>\n <body>\n  <h1>404 - Not Found</h1>\n </body>\n</html>\n';
const errorPage = (status: number, text: string) => NOT_FOUND.replaceAll('404 - Not Found', `${status} - ${text}`);

/** Whether a role's trust policy lets EC2 assume it (AWS otherwise answers AssumeRoleUnauthorizedAccess). */
export function trustsEc2(document: string | undefined): boolean {
  if (!document) return false;
  let doc: { Statement?: unknown };
  try {
    doc = JSON.parse(document.trim().startsWith('{') ? document : decodeURIComponent(document)) as { Statement?: unknown };
  } catch {
    return false;
  }
  const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return list(doc.Statement as Record<string, unknown>[] | Record<string, unknown>).some((s) => {
    if (s['Effect'] !== 'Allow') return false;
    const principal = s['Principal'] as Record<string, unknown> | string | undefined;
    const services = principal === '*' ? ['*'] : list((principal as Record<string, unknown> | undefined)?.['Service'] as string | string[] | undefined);
    if (!services.some((x) => x === 'ec2.amazonaws.com' || x === '*') && !(principal && typeof principal === 'object' && (principal as Record<string, unknown>)['AWS'] === '*')) return false;
    return list(s['Action'] as string | string[] | undefined).some((a) => ['sts:assumerole', 'sts:*', '*'].includes(a.toLowerCase()));
  });
}

export class InstanceMetadataService {
  private readonly listeners = new Map<string, Promise<Listener>>();
  /** Role credentials handed out per instance (account|region|instance). */
  private readonly roleCreds = new Map<string, Credential>();
  /** Every role-session key IMDS minted, with its instance (renewed keys too, until the account is dropped). */
  private readonly issued = new Map<string, { account: string; region: string; instanceId: string }>();
  /** Account|region pairs where instances were launched through the gateway. */
  private readonly launched = new Set<string>();
  /** Options of a ModifyInstanceMetadataOptions call, read before moto changes them (per call). */
  private readonly before = new WeakMap<CallContext, MetadataOptions>();

  constructor(private readonly caps: Capabilities) {}

  /**
   * The base URL of an instance's IMDS as code on that instance reaches it (what 169.254.169.254 is
   * there): append /latest/meta-data/... Starts the instance's listener on first use. Only for code
   * that runs on the instance: it is a capability, never to be shown to other accounts.
   */
  async urlOf(account: string, instanceId: string, region = this.caps.region): Promise<string> {
    return (await this.listener(account, instanceId, region)).url;
  }

  /**
   * What a vulnerable web app on the instance does with a URL a user supplies (SSRF): fetches it and
   * returns what came back. Only the instance's own IMDS addresses are modelled (169.254.169.254,
   * instance-data, [fd00:ec2::254] when HttpProtocolIpv6 is enabled); other hosts answer status 0.
   */
  async ssrf(account: string, instanceId: string, url: string, opts: SsrfOptions = {}): Promise<ImdsResponse> {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return { status: 0, body: '', headers: {}, error: `not a URL: ${url}` };
    }
    if (u.protocol !== 'http:' || !IMDS_HOSTS.has(u.hostname) || (u.port && u.port !== '80')) {
      return { status: 0, body: '', headers: {}, error: `${u.host} is not reachable from the lab's instance (only its instance metadata service is modelled)` };
    }
    if (u.hostname === '[fd00:ec2::254]') {
      const inst = await this.instance(account, instanceId, opts.region ?? this.caps.region);
      if (inst?.MetadataOptions?.HttpProtocolIpv6 !== 'enabled') return { status: 0, body: '', headers: {}, error: 'the IPv6 endpoint of IMDS is not enabled (HttpProtocolIpv6)' };
    }
    return this.request(account, instanceId, `${u.pathname}${u.search}`, opts);
  }

  /**
   * A request to an instance's IMDS from code on the instance (path such as /latest/meta-data/instance-id),
   * `hops` away (1: the instance itself).
   */
  async request(account: string, instanceId: string, path: string, opts: SsrfOptions = {}): Promise<ImdsResponse> {
    const l = await this.listener(account, instanceId, opts.region ?? this.caps.region);
    const target = new URL(l.url);
    return new Promise<ImdsResponse>((resolve) => {
      const req = http.request({
        host: target.hostname, port: target.port, method: opts.method ?? 'GET', path: `${l.prefix}${path.startsWith('/') ? path : `/${path}`}`,
        headers: { ...(opts.headers ?? {}), [HOPS_HEADER]: String(opts.hops ?? 1) }, timeout: opts.timeoutMs ?? 5000,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers });
        });
        res.on('error', (e) => resolve({ status: 0, body: '', headers: {}, error: e.message }));
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (e) => resolve({ status: 0, body: '', headers: {}, error: `no response (${e.message})` }));
      req.end();
    });
  }

  /**
   * What an AWS SDK on the instance does to read a path: IMDSv2 first (token PUT with a 6-hour TTL),
   * and IMDSv1 when no token could be had (the SDKs' fallback unless IMDSv1 is disabled in them).
   */
  async sdkGet(account: string, instanceId: string, path: string, opts: SsrfOptions & { v1Fallback?: boolean } = {}): Promise<ImdsResponse> {
    const put = await this.request(account, instanceId, '/latest/api/token', { ...opts, method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' }, timeoutMs: opts.timeoutMs ?? 1000 });
    if (put.status === 200) return this.request(account, instanceId, path, { ...opts, method: 'GET', headers: { 'x-aws-ec2-metadata-token': put.body } });
    if (opts.v1Fallback === false) return put;
    return this.request(account, instanceId, path, { ...opts, method: 'GET', headers: {} });
  }

  /** The requests made to an instance's IMDS, oldest first (empty when nothing reached it). */
  async accessLog(account: string, instanceId: string, region = this.caps.region): Promise<ImdsAccess[]> {
    const p = this.listeners.get(`${account}|${region}|${instanceId}`);
    const l = p ? await p.catch(() => undefined) : undefined;
    return l ? [...l.log] : [];
  }

  /**
   * The instance IMDS issued a role-session access key to (undefined: not instance credentials).
   * GuardDuty's InstanceCredentialExfiltration findings start from it.
   */
  issuedTo(accessKeyId: string): { account: string; region: string; instanceId: string } | undefined {
    const i = this.issued.get(accessKeyId);
    return i ? { ...i } : undefined;
  }

  /** The accounts and Regions where instances were launched through the gateway (GuardDuty looks up another account's instance by address). */
  launchedIn(): Array<{ account: string; region: string }> {
    return [...this.launched].map((k) => {
      const [account, region] = k.split('|');
      return { account: account!, region: region! };
    });
  }

  /** The role credentials currently handed out for an instance (tests, graders). */
  credentialsOf(account: string, instanceId: string, region = this.caps.region): Credential | undefined {
    return this.roleCreds.get(`${account}|${region}|${instanceId}`);
  }

  private listener(account: string, instanceId: string, region: string): Promise<Listener> {
    const key = `${account}|${region}|${instanceId}`;
    let p = this.listeners.get(key);
    if (!p) {
      p = this.start(account, instanceId, region);
      this.listeners.set(key, p);
      p.catch(() => this.listeners.delete(key));
    }
    return p;
  }

  private async start(account: string, instanceId: string, region: string): Promise<Listener> {
    if (!(await this.instance(account, instanceId, region))) {
      throw new Error(`no instance ${instanceId} in account ${account} (${region})`);
    }
    const prefix = `/${randomBytes(32).toString('base64url')}`;
    const sockets = new Set<Socket>();
    const l: Listener = { account, region, instanceId, server: http.createServer(), sockets, url: '', prefix, tokens: new Map(), log: [] };
    l.server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    l.server.on('request', (req, res) => {
      this.serve(l, req, res).catch(() => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/html' });
          res.end(errorPage(500, 'Internal Server Error'));
        } else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      l.server.once('error', reject);
      l.server.listen(0, '127.0.0.1', () => resolve());
    });
    l.url = `http://127.0.0.1:${(l.server.address() as AddressInfo).port}${prefix}`;
    return l;
  }

  private async instance(account: string, instanceId: string, region: string): Promise<Ec2Instance | undefined> {
    try {
      const out = await this.caps.target.json<{ Reservations?: { OwnerId?: string; ReservationId?: string; Instances?: Ec2Instance[] }[] }>(
        account, 'ec2', 'DescribeInstances', { InstanceIds: [instanceId] }, region);
      const r = out.Reservations?.find((x) => x.Instances?.some((i) => i.InstanceId === instanceId));
      const i = r?.Instances?.find((x) => x.InstanceId === instanceId);
      return i ? Object.assign(i, { reservationId: r?.ReservationId }) : undefined;
    } catch {
      return undefined;
    }
  }

  private async serve(l: Listener, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = (req.url ?? '/').split('?')[0]!;
    if (raw !== l.prefix && !raw.startsWith(`${l.prefix}/`)) {
      res.writeHead(404, { 'content-type': 'text/html', server: 'EC2ws' });
      return void res.end(NOT_FOUND);
    }
    const path = raw.slice(l.prefix.length) || '/';
    const entry: ImdsAccess = {
      at: this.caps.clock.now().toISOString(), method: req.method ?? 'GET', path, status: 0,
      version: req.headers['x-aws-ec2-metadata-token'] !== undefined || path === '/latest/api/token' ? '2.0' : '1.0', hops: Number(req.headers[HOPS_HEADER] ?? 1),
    };
    l.log.push(entry);
    if (l.log.length > ACCESS_LOG_LIMIT) l.log.splice(0, l.log.length - ACCESS_LOG_LIMIT);
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      entry.status = status;
      res.writeHead(status, { 'content-type': status === 200 ? 'text/plain' : 'text/html', server: 'EC2ws', ...headers });
      res.end(body);
    };
    const inst = await this.instance(l.account, l.instanceId, l.region);
    // Nothing runs on an instance that is not running: nobody answers.
    if (!inst || inst.State?.Name !== 'running') return void res.socket?.destroy();
    const o = inst.MetadataOptions ?? {};
    if ((o.HttpEndpoint ?? 'enabled') === 'disabled') return send(403, errorPage(403, 'Forbidden'));
    const nowMs = this.caps.clock.nowMs();

    if (path === '/latest/api/token') {
      if (req.method !== 'PUT') return send(405, errorPage(405, 'Method Not Allowed'), { allow: 'OPTIONS, PUT' });
      // A token request that came through a proxy is refused (AWS: X-Forwarded-For).
      if (req.headers['x-forwarded-for'] !== undefined) return send(403, errorPage(403, 'Forbidden'));
      const ttlHeader = req.headers['x-aws-ec2-metadata-token-ttl-seconds'];
      const ttl = Number(ttlHeader);
      if (ttlHeader === undefined || Array.isArray(ttlHeader) || !/^\d+$/.test(ttlHeader) || ttl < 1 || ttl > 21600) {
        return send(400, errorPage(400, 'Bad Request'));
      }
      // The response goes back through as many hops as the request came: past the hop limit it is lost.
      const hops = Number(req.headers[HOPS_HEADER] ?? 1);
      if (!(hops <= (o.HttpPutResponseHopLimit ?? 1))) return void res.socket?.destroy();
      for (const [t, exp] of l.tokens) if (exp <= nowMs) l.tokens.delete(t);
      const token = `AQAEA${randomBytes(42).toString('base64url')}==`;
      l.tokens.set(token, nowMs + ttl * 1000);
      return send(200, token, { 'x-aws-ec2-metadata-token-ttl-seconds': String(ttl) });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, errorPage(405, 'Method Not Allowed'), { allow: 'OPTIONS, GET' });
    const token = req.headers['x-aws-ec2-metadata-token'];
    const extra: Record<string, string> = {};
    if (token !== undefined) {
      const exp = typeof token === 'string' ? l.tokens.get(token) : undefined;
      if (exp === undefined || exp <= nowMs) return send(401, errorPage(401, 'Unauthorized'));
      extra['x-aws-ec2-metadata-token-ttl-seconds'] = String(Math.floor((exp - nowMs) / 1000));
    } else if (o.HttpTokens === 'required') {
      return send(401, errorPage(401, 'Unauthorized'));
    }
    const value = await this.lookup(l, inst, path, entry);
    if (value === undefined) return send(404, NOT_FOUND);
    return send(200, req.method === 'HEAD' ? '' : value, extra);
  }

  /** The value at a path of the instance's metadata (a listing for a category), undefined when none. */
  private async lookup(l: Listener, inst: Ec2Instance, path: string, entry: ImdsAccess): Promise<string | undefined> {
    const parts = path.split('/').filter(Boolean);
    if (parts.length === 0) return 'latest';
    if (parts[0] !== 'latest') return undefined;
    const userData = async () => {
      const out = await this.caps.target.json<{ UserData?: { Value?: string } }>(l.account, 'ec2', 'DescribeInstanceAttribute', { InstanceId: l.instanceId, Attribute: 'userData' }, l.region).catch(() => ({} as { UserData?: { Value?: string } }));
      const v = out.UserData?.Value;
      return v ? Buffer.from(v, 'base64').toString('utf8') : undefined;
    };
    // Only the category asked for is read from the target (a listing of /latest needs to know about user data).
    const root: Tree = {
      'dynamic': { 'instance-identity': { document: async () => JSON.stringify(this.identityDocument(l, inst), null, 2) } },
      'meta-data': parts[1] === 'meta-data' ? await this.metadataTree(l, inst, entry) : {},
    };
    const ud = parts.length === 1 || parts[1] === 'user-data' ? await userData() : undefined;
    if (ud !== undefined) root['user-data'] = ud;
    let node: Tree[string] = root;
    for (const p of parts.slice(1)) {
      if (typeof node !== 'object') return undefined;
      node = (node as Tree)[p] as Tree[string];
      if (node === undefined) return undefined;
    }
    if (typeof node === 'function') return node();
    if (typeof node === 'string') return node;
    return Object.entries(node).map(([k, v]) => (typeof v === 'object' ? `${k}/` : k)).join('\n');
  }

  private identityDocument(l: Listener, inst: Ec2Instance) {
    return {
      accountId: l.account, architecture: inst.Architecture ?? 'x86_64', availabilityZone: inst.Placement?.AvailabilityZone ?? `${l.region}a`,
      billingProducts: null, devpayProductCodes: null, marketplaceProductCodes: null, imageId: inst.ImageId, instanceId: l.instanceId,
      instanceType: inst.InstanceType, kernelId: null, pendingTime: inst.LaunchTime ? new Date(inst.LaunchTime).toISOString().replace(/\.\d{3}Z$/, 'Z') : undefined,
      privateIp: inst.PrivateIpAddress, ramdiskId: null, region: l.region, version: '2017-09-30',
    };
  }

  private async metadataTree(l: Listener, inst: Ec2Instance, entry: ImdsAccess): Promise<Tree> {
    const o = inst.MetadataOptions ?? {};
    const eni = inst.NetworkInterfaces?.find((n) => (n.Attachment?.DeviceIndex ?? 0) === 0) ?? inst.NetworkInterfaces?.[0];
    const mac = eni?.MacAddress ?? '02:00:00:00:00:00';
    const groups = inst.SecurityGroups ?? eni?.Groups ?? [];
    const publicIp = inst.PublicIpAddress ?? eni?.Association?.PublicIp;
    const az = inst.Placement?.AvailabilityZone ?? `${l.region}a`;
    const macTree: Tree = {
      'device-number': String(eni?.Attachment?.DeviceIndex ?? 0),
      'interface-id': eni?.NetworkInterfaceId ?? '',
      'local-hostname': eni?.PrivateDnsName ?? inst.PrivateDnsName ?? '',
      'local-ipv4s': (eni?.PrivateIpAddresses?.map((a) => a.PrivateIpAddress ?? '').filter(Boolean) ?? [inst.PrivateIpAddress ?? '']).join('\n'),
      'mac': mac,
      'owner-id': eni?.OwnerId ?? l.account,
      'security-group-ids': groups.map((g) => g.GroupId ?? '').join('\n'),
      'security-groups': groups.map((g) => g.GroupName ?? '').join('\n'),
      ...(eni?.SubnetId ? { 'subnet-id': eni.SubnetId } : {}),
      ...(eni?.VpcId ? { 'vpc-id': eni.VpcId } : {}),
    };
    if (publicIp) {
      macTree['public-ipv4s'] = publicIp;
      if (inst.PublicDnsName) macTree['public-hostname'] = inst.PublicDnsName;
    }
    const tree: Tree = {
      'ami-id': inst.ImageId ?? '',
      'ami-launch-index': String(inst.AmiLaunchIndex ?? 0),
      'ami-manifest-path': '(unknown)',
      'block-device-mapping': { ami: inst.RootDeviceName ?? '/dev/xvda', root: inst.RootDeviceName ?? '/dev/xvda' },
      'hostname': inst.PrivateDnsName ?? '',
      'instance-action': 'none',
      'instance-id': l.instanceId,
      'instance-life-cycle': 'on-demand',
      'instance-type': inst.InstanceType ?? '',
      'local-hostname': inst.PrivateDnsName ?? '',
      'local-ipv4': inst.PrivateIpAddress ?? '',
      'mac': mac,
      'network': { interfaces: { macs: { [mac]: macTree } } },
      'placement': { 'availability-zone': az, 'region': l.region },
      'reservation-id': (inst as { reservationId?: string }).reservationId ?? '',
      'security-groups': groups.map((g) => g.GroupName ?? '').join('\n'),
      'services': { domain: 'amazonaws.com', partition: 'aws' },
    };
    if (publicIp) {
      tree['public-ipv4'] = publicIp;
      tree['public-hostname'] = inst.PublicDnsName ?? '';
    }
    if (inst.KeyName) tree['public-keys'] = { [`0=${inst.KeyName}`]: { 'openssh-key': '(the key pair\'s public key)' } };
    if (o.InstanceMetadataTags === 'enabled') {
      const tags: Tree = {};
      // Keys IMDS cannot show (with '/' or spaces) are left out, as AWS leaves them out.
      for (const t of inst.Tags ?? []) if (t.Key && !/[/\s]/.test(t.Key) && t.Key !== '.' && t.Key !== '..') tags[t.Key] = t.Value ?? '';
      tree['tags'] = { instance: tags };
    }
    const profile = await this.profileOf(l.account, l.instanceId, l.region);
    if (profile) {
      const updated = isoSeconds(this.caps.clock.now());
      const unauthorized = (roleName: string) => JSON.stringify({
        Code: 'AssumeRoleUnauthorizedAccess',
        Message: `EC2 cannot assume the role ${roleName}. Please see documentation at https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html#troubleshoot_iam-ec2_errors-info-doc.`,
        LastUpdated: updated,
      }, null, 2);
      const role = profile.role;
      tree['iam'] = {
        'info': async () => (role && !role.trusted ? unauthorized(role.name) : JSON.stringify({ Code: 'Success', LastUpdated: updated, InstanceProfileArn: profile.arn, InstanceProfileId: profile.id }, null, 2)),
        'security-credentials': role ? {
          [role.name]: async () => {
            if (!role.trusted) return unauthorized(role.name);
            const c = this.roleCredentials(l, role);
            entry.accessKeyId = c.accessKeyId;
            // CloudTrail's sessionContext.ec2RoleDelivery: 1.0 once these credentials went out over IMDSv1.
            if (c.ec2RoleDelivery !== '1.0') c.ec2RoleDelivery = entry.version;
            return JSON.stringify({
              Code: 'Success', LastUpdated: isoSeconds(c.issuedAt!), Type: 'AWS-HMAC', AccessKeyId: c.accessKeyId,
              SecretAccessKey: c.secret, Token: c.sessionToken, Expiration: isoSeconds(c.expiresAt!),
            }, null, 2);
          },
        } : {},
      };
    }
    return tree;
  }

  /** The instance profile associated with an instance and its role, read from the target. */
  private async profileOf(account: string, instanceId: string, region: string): Promise<{ arn: string; id: string; role?: { name: string; arn: string; id?: string; trusted: boolean } } | undefined> {
    const assoc = await this.caps.target.json<{ IamInstanceProfileAssociations?: { InstanceId?: string; State?: string; IamInstanceProfile?: { Arn?: string; Id?: string } }[] }>(
      account, 'ec2', 'DescribeIamInstanceProfileAssociations', { Filters: [{ Name: 'instance-id', Values: [instanceId] }] }, region).catch(() => ({ IamInstanceProfileAssociations: [] }));
    const a = assoc.IamInstanceProfileAssociations?.find((x) => x.InstanceId === instanceId && (x.State ?? 'associated') === 'associated');
    const arn = a?.IamInstanceProfile?.Arn;
    if (!arn) return undefined;
    const name = arn.split('/').pop()!;
    const ip = await this.caps.target.json<{ InstanceProfile?: { Arn?: string; InstanceProfileId?: string; Roles?: { RoleName?: string; Arn?: string; RoleId?: string; AssumeRolePolicyDocument?: string }[] } }>(
      account, 'iam', 'GetInstanceProfile', { InstanceProfileName: name }).catch(() => ({ InstanceProfile: undefined }));
    const p = ip.InstanceProfile;
    if (!p) return undefined;
    const r = p.Roles?.[0];
    return {
      arn: p.Arn ?? arn, id: p.InstanceProfileId ?? a?.IamInstanceProfile?.Id ?? '',
      ...(r?.RoleName ? { role: { name: r.RoleName, arn: r.Arn ?? `arn:aws:iam::${account}:role/${r.RoleName}`, id: r.RoleId, trusted: trustsEc2(r.AssumeRolePolicyDocument) } } : {}),
    };
  }

  /** The instance's current role session credentials, minted (or renewed near their expiry) on the lab clock. */
  private roleCredentials(l: Listener, role: { name: string; arn: string; id?: string }): Credential {
    const key = `${l.account}|${l.region}|${l.instanceId}`;
    const now = this.caps.clock.now();
    const held = this.roleCreds.get(key);
    if (held && held.roleArn === role.arn && held.expiresAt!.getTime() - now.getTime() > ROLE_CREDENTIALS_REFRESH_MS && this.caps.credentials.get(held.accessKeyId)) return held;
    // The old credentials stay valid until they expire, as on AWS.
    const cred = this.caps.credentials.add({
      accessKeyId: newAccessKeyId('ASIA'), secret: newSecret(), sessionToken: randomBytes(96).toString('base64'), account: l.account,
      kind: 'role-session', roleName: role.name, roleArn: role.arn, sessionName: l.instanceId, userId: role.id,
      arn: `arn:aws:sts::${l.account}:assumed-role/${role.name}/${l.instanceId}`,
      status: 'Active', issuedAt: now, expiresAt: new Date(now.getTime() + ROLE_CREDENTIALS_TTL_MS), mfaAuthenticated: false,
    });
    this.roleCreds.set(key, cred);
    this.issued.set(cred.accessKeyId, { account: l.account, region: l.region, instanceId: l.instanceId });
    return cred;
  }

  /**
   * Handing an instance a role is passing the role to EC2: RunInstances with IamInstanceProfile,
   * AssociateIamInstanceProfile and ReplaceIamInstanceProfileAssociation also need iam:PassRole on the
   * profile's role (iam:PassedToService ec2.amazonaws.com), as AWS requires ("Using an IAM role to grant
   * permissions to applications running on Amazon EC2 instances"). Without it anyone allowed to launch
   * could give an instance, and so themselves through its metadata, any role of the account.
   */
  async resolve(requirement: AuthzRequirement, cred: Credential, call: ApiCall): Promise<AuthzRequirement> {
    if (call.service !== 'ec2' || !['RunInstances', 'AssociateIamInstanceProfile', 'ReplaceIamInstanceProfileAssociation'].includes(call.operation)) return requirement;
    const ip = call.params['IamInstanceProfile'] as Record<string, unknown> | undefined;
    const name = ip?.['Name'] !== undefined ? String(ip['Name']) : ip?.['Arn'] !== undefined ? String(ip['Arn']).split('/').pop() : undefined;
    const account = cred.account;
    if (!name) return requirement;
    const out = await this.caps.target.json<{ InstanceProfile?: { Roles?: { Arn?: string }[] } }>(account, 'iam', 'GetInstanceProfile', { InstanceProfileName: name })
      .catch(() => ({ InstanceProfile: undefined }));
    const roles = (out.InstanceProfile?.Roles ?? []).map((r) => r.Arn).filter((a): a is string => !!a);
    if (!roles.length) return requirement;
    return {
      ...requirement,
      additional: [...(requirement.additional ?? []), { action: 'iam:PassRole', resources: roles, context: { 'iam:PassedToService': 'ec2.amazonaws.com' } }],
    };
  }

  /** Hooks on EC2 calls: AWS's checks of metadata options, and ModifyInstanceMetadataOptions as AWS applies it. */
  extension(): ServiceExtension {
    return {
      service: 'ec2',
      before: async (ctx) => {
        const { call, cred } = ctx;
        if (call.operation === 'RunInstances') {
          validateOptions(requestedOptions(call.params, true));
          this.launched.add(`${cred.account}|${call.region}`);
        }
        if (call.operation !== 'ModifyInstanceMetadataOptions') return;
        validateOptions(requestedOptions(call.params, false));
        // moto ignores DryRun here (it would apply the change): AWS's answer for an authorized dry run.
        if (call.params['DryRun'] === true || String(call.params['DryRun']).toLowerCase() === 'true') {
          throw new ApiError(412, 'DryRunOperation', 'Request would have succeeded, but DryRun flag is set.');
        }
        const inst = await this.instance(cred.account, String(call.params['InstanceId'] ?? ''), call.region);
        if (inst?.MetadataOptions) this.before.set(ctx, inst.MetadataOptions);
      },
      after: async (ctx, res) => this.afterModify(ctx, res),
    };
  }

  /**
   * moto replaces all of an instance's options with those of the call (what it leaves out becomes
   * empty, the hop limit 1); AWS keeps what the call does not name. The merged options are written
   * back and the answer says "pending", as AWS's does for a running instance.
   */
  private async afterModify(ctx: CallContext, res: UpstreamResponse): Promise<UpstreamResponse | void> {
    const { call, cred } = ctx;
    if (call.operation !== 'ModifyInstanceMetadataOptions') return;
    const prior = this.before.get(ctx) ?? {};
    const merged = { ...defaults(prior), ...requestedOptions(call.params, false) };
    const instanceId = String(call.params['InstanceId'] ?? '');
    await this.caps.target.json(cred.account, 'ec2', 'ModifyInstanceMetadataOptions', {
      InstanceId: instanceId, HttpTokens: merged.HttpTokens, HttpPutResponseHopLimit: merged.HttpPutResponseHopLimit, HttpEndpoint: merged.HttpEndpoint,
      HttpProtocolIpv6: merged.HttpProtocolIpv6, InstanceMetadataTags: merged.InstanceMetadataTags,
    }, call.region);
    const xml = `<instanceMetadataOptions><state>pending</state><httpTokens>${merged.HttpTokens}</httpTokens><httpPutResponseHopLimit>${merged.HttpPutResponseHopLimit}</httpPutResponseHopLimit><httpEndpoint>${merged.HttpEndpoint}</httpEndpoint><httpProtocolIpv6>${merged.HttpProtocolIpv6}</httpProtocolIpv6><instanceMetadataTags>${merged.InstanceMetadataTags}</instanceMetadataTags></instanceMetadataOptions>`;
    const body = res.body.toString('utf8');
    const replaced = /<instanceMetadataOptions>[\s\S]*?<\/instanceMetadataOptions>/.test(body)
      ? body.replace(/<instanceMetadataOptions>[\s\S]*?<\/instanceMetadataOptions>/, xml)
      : body.replace(/<\/ModifyInstanceMetadataOptionsResponse>/, `${xml}</ModifyInstanceMetadataOptionsResponse>`);
    return { ...res, body: Buffer.from(replaced) };
  }

  /** Forgets an account's listeners, tokens and handed-out credentials (the credential store drops the keys itself). */
  dropAccount(account: string): void {
    for (const [k, p] of this.listeners) {
      if (!k.startsWith(`${account}|`)) continue;
      this.listeners.delete(k);
      void p.then((l) => this.stop(l), () => undefined);
    }
    for (const k of [...this.roleCreds.keys()]) if (k.startsWith(`${account}|`)) this.roleCreds.delete(k);
    for (const [k, i] of [...this.issued]) if (i.account === account) this.issued.delete(k);
    for (const k of [...this.launched]) if (k.startsWith(`${account}|`)) this.launched.delete(k);
  }

  close(): void {
    for (const p of this.listeners.values()) void p.then((l) => this.stop(l), () => undefined);
    this.listeners.clear();
  }

  private stop(l: Listener): void {
    for (const s of l.sockets) s.destroy();
    l.server.close();
  }
}

/** Options as AWS defaults them for an instance launched through the API with no account defaults. */
function defaults(o: MetadataOptions): Required<Omit<MetadataOptions, 'State'>> {
  return {
    HttpTokens: o.HttpTokens ?? 'optional',
    HttpPutResponseHopLimit: o.HttpPutResponseHopLimit ?? 1,
    HttpEndpoint: o.HttpEndpoint ?? 'enabled',
    HttpProtocolIpv6: o.HttpProtocolIpv6 ?? 'disabled',
    InstanceMetadataTags: o.InstanceMetadataTags ?? 'disabled',
  };
}

const isoSeconds = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
