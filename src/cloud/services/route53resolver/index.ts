// Amazon Route 53 Resolver query logging (`route53resolver`, JSON 1.1, target prefix Route53Resolver)
// in the lab cloud, and the instances' DNS lookups in the VPC data plane. docs/route53resolver.md.
//
// Query logging configurations are served by the gateway, state per account and Region: moto 5.2.1
// stores them but has no DeleteResolverQueryLogConfig or DisassociateResolverQueryLogConfig, stamps
// CreationTime with the wall clock, accepts any DestinationArn and refuses a retry with the same
// CreatorRequestId. Every other Route 53 Resolver operation (endpoints, rules, DNSSEC) goes on to moto.
//
// Lookups: scenarios call `lookups(account, region, queries)` with what instances asked the VPC
// resolver (source address, name, type, lab-clock time, answer). Each query is tied to its instance and
// VPC through the data plane's topology, becomes a record in AWS's query-log format, is written to the
// destination of every configuration associated with the VPC (CloudWatch Logs through the lab cloud's
// sinks, so metric and subscription filters see it; gzip files in S3 under AWSLogs/<account>/
// vpcdnsquerylogs/...; Kinesis Data Firehose is accepted and delivers nothing), and is told to
// `onQueries` listeners whether or not query logging is configured: GuardDuty reads DNS logs through
// its own stream ("Foundational data sources"), not the customer's configuration.
//
// Nothing is random: ids derive from the account, Region, a per-Region counter and what they name.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { ApiError } from '../../gateway/api-error.ts';
import { jsonResult, type CallContext, type Reply, type ServiceExtension } from '../../gateway/extension.ts';
import { defineService, type AuthorizationPart, type Capabilities, type ServiceRuntime } from '../../gateway/service.ts';
import type { ApiCall } from '../../gateway/protocol/identify.ts';
import type { AuthzRequirement } from '../../gateway/protocol/authz-map.ts';
import type { Credential } from '../../gateway/credentials.ts';
import { evaluate } from '../../policy/evaluate.ts';
import type { NetworkInterface, Topology } from '../ec2/dataplane/model.ts';
import {
  checkName, DESTINATION_NAMES, fqdn, iso, parseDestination, queryTimestamp, S3_FILE_MS, s3Key, sourcePort,
  type Destination, type QueryLogAnswer, type QueryLogRecord,
} from './records.ts';

export type { QueryLogRecord, QueryLogAnswer, Destination } from './records.ts';

/** A lookup an instance made through the VPC resolver (AmazonProvidedDNS), as a scenario describes it. */
export interface DnsQuery {
  /** The private IPv4 (or IPv6) address of the instance's network interface that asked. */
  srcaddr: string;
  /** The name asked (with or without the trailing dot). */
  qname: string;
  /** A, AAAA, TXT, CNAME, MX, PTR, SRV, NS, SOA, ANY... Default A. */
  qtype?: string;
  /** When, in lab-clock milliseconds. */
  at: number;
  /** NOERROR (default), NXDOMAIN, SERVFAIL, REFUSED... */
  rcode?: string;
  /** Answers: Rdata strings (their Type is qtype) or full answers. Default none. */
  answers?: Array<string | { Rdata: string; Type?: string; Class?: string }>;
  srcport?: number;
  transport?: 'UDP' | 'TCP';
  /** Picks the VPC when several VPCs of the account use the same private ranges. */
  vpcId?: string;
}

/** A query tied to its instance and VPC, with its record. */
export interface ResolvedQuery {
  account: string;
  region: string;
  vpcId: string;
  interfaceId: string;
  instanceId?: string;
  at: number;
  record: QueryLogRecord;
}

export type QueryListener = (account: string, region: string, queries: ResolvedQuery[]) => void;

export interface LookupResult {
  /** Queries resolved to an interface (they reach listeners). */
  resolved: ResolvedQuery[];
  /** Records buffered for delivery (one per query and associated configuration). */
  logged: number;
  /** Queries from interfaces that cannot send (stopped instance, detached interface): no record, as the data plane does. */
  skipped: Array<{ query: DnsQuery; reason: string }>;
}

/** How a configuration's deliveries went (for graders, tests and `seclab` tools). */
export interface DeliveryStats {
  configId: string;
  name: string;
  destination: string;
  delivered: number;
  pending: number;
  /** Why nothing is delivered (Kinesis Data Firehose) or the last delivery failed. */
  note?: string;
}

interface QueryLogConfig {
  id: string;
  arn: string;
  name: string;
  destinationArn: string;
  destination: Destination;
  creatorRequestId: string;
  createdAt: number;
  tags: Record<string, string>;
  delivered: number;
  note?: string;
}

interface Association {
  id: string;
  configId: string;
  vpcId: string;
  createdAt: number;
  status: 'ACTIVE' | 'FAILED';
  error: 'NONE' | 'DESTINATION_NOT_FOUND' | 'ACCESS_DENIED' | 'INTERNAL_SERVICE_ERROR';
  errorMessage: string;
}

interface Pending {
  account: string;
  region: string;
  configId: string;
  vpcId: string;
  at: number;
  record: QueryLogRecord;
}

interface RegionState {
  account: string;
  region: string;
  configs: Map<string, QueryLogConfig>;
  associations: Map<string, Association>;
  seq: number;
}

/** The operations served here; the rest of Route 53 Resolver goes to the target. */
const SERVED = new Set([
  'CreateResolverQueryLogConfig', 'GetResolverQueryLogConfig', 'ListResolverQueryLogConfigs', 'DeleteResolverQueryLogConfig',
  'AssociateResolverQueryLogConfig', 'DisassociateResolverQueryLogConfig', 'GetResolverQueryLogConfigAssociation',
  'ListResolverQueryLogConfigAssociations',
]);
const TAG_OPS = new Set(['TagResource', 'UntagResource', 'ListTagsForResource']);
const NAME_PATTERN = /^(?![0-9]+$)[a-zA-Z0-9\-_ ']+$/;
/** Route 53 Resolver quotas: query logging configurations per Region; VPCs per configuration (Developer Guide, "Quotas on Route 53 VPC Resolver"). */
const MAX_CONFIGS = 1000;
const MAX_TAGS = 200;
/**
 * The lab's own limit, not AWS's: configurations one VPC may be associated with. Every lookup is
 * written once per association; a submission associating hundreds would multiply the lab cloud's
 * work for every query of a grading.
 */
const MAX_CONFIGS_PER_VPC = 10;
const CONFIG_FILTERS = ['Arn', 'AssociationCount', 'CreationTime', 'CreatorRequestId', 'Destination', 'DestinationArn', 'Id', 'Name', 'OwnerId', 'ShareStatus', 'Status'];
const ASSOCIATION_FILTERS = ['CreationTime', 'Error', 'Id', 'ResolverQueryLogConfigId', 'ResourceId', 'Status'];

/** A Route 53 Resolver error as its JSON 1.1 protocol carries it (members Message, FieldName, ResourceType). */
function fail(code: string, message: string, extra: Record<string, string> = {}): ApiError {
  return new ApiError(400, code, message, (requestId) => ({
    status: 400,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId, 'x-amzn-errortype': code },
    body: JSON.stringify({ __type: code, Message: message, ...extra }),
  }));
}
const invalid = (field: string, message: string) => fail('InvalidParameterException', message, { FieldName: field });
const notFound = (type: string, message: string) => fail('ResourceNotFoundException', message, { ResourceType: type });

function str(p: Record<string, unknown>, field: string, opts: { required?: boolean; min?: number; max?: number } = {}): string | undefined {
  const v = p[field];
  if (v === undefined || v === null) {
    if (opts.required) throw invalid(field, `The request has no ${field}; ${field} is required (see the API reference of this operation).`);
    return undefined;
  }
  if (typeof v !== 'string') throw invalid(field, `${field} must be a string.`);
  if (opts.min !== undefined && v.length < opts.min) throw invalid(field, `${field} must be at least ${opts.min} characters long.`);
  if (opts.max !== undefined && v.length > opts.max) throw invalid(field, `${field} must be at most ${opts.max} characters long.`);
  return v;
}

/** Filter and sort names: current (CreatorRequestId) and early (CREATOR_REQUEST_ID) spellings. */
const norm = (s: string): string => s.replace(/_/g, '').toLowerCase();

export class Route53ResolverService implements ServiceRuntime {
  private readonly state = new Map<string, RegionState>();
  private readonly pending: Pending[] = [];
  private readonly listeners = new Set<QueryListener>();
  readonly extensions: ServiceExtension[];
  readonly authorization: AuthorizationPart;

  constructor(readonly caps: Capabilities) {
    this.extensions = [{ service: 'route53resolver', serve: (ctx) => this.serve(ctx) }];
    this.authorization = { resolve: async (req, cred, call) => this.resolveAuthz(req, cred, call) };
  }

  // ---- runtime API (scenarios, GuardDuty, graders) ----

  /** Sees every resolved lookup, whether or not query logging is configured (GuardDuty's own DNS stream). */
  onQueries(listener: QueryListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Instances' lookups through the VPC resolver: tied to their instance and VPC from the data plane's
   * topology, written to the destinations of the VPC's query logging configurations (delivered when the
   * lab clock reaches them), and told to listeners. An address that is no interface of the account is
   * an error in the scenario: it throws and nothing of the batch is recorded.
   */
  async lookups(account: string, region: string, queries: DnsQuery[]): Promise<LookupResult> {
    const topology = await this.caps.service('ec2').dataplane.topology(account, region);
    const resolved: ResolvedQuery[] = [];
    const skipped: LookupResult['skipped'] = [];
    const checked = queries.map((q, i) => ({ q, iface: this.interfaceOf(topology, q, i) }));
    for (const { q, iface } of checked) {
      if (!iface.active) {
        skipped.push({ query: q, reason: iface.inactiveReason ?? `${iface.id} cannot send` });
        continue;
      }
      const qtype = (q.qtype ?? 'A').toUpperCase();
      const answers: QueryLogAnswer[] = (q.answers ?? []).map((a) => (typeof a === 'string' ? { Rdata: a, Type: qtype, Class: 'IN' } : { Rdata: a.Rdata, Type: a.Type ?? qtype, Class: a.Class ?? 'IN' }));
      const record: QueryLogRecord = {
        version: '1.100000', account_id: account, region, vpc_id: iface.vpcId, query_timestamp: queryTimestamp(q.at),
        query_name: fqdn(q.qname), query_type: qtype, query_class: 'IN', rcode: (q.rcode ?? 'NOERROR').toUpperCase(), answers,
        srcaddr: q.srcaddr, srcport: String(q.srcport ?? sourcePort(q.srcaddr, q.qname, q.at)), transport: q.transport ?? 'UDP',
        srcids: iface.instanceId ? { instance: iface.instanceId } : {},
      };
      resolved.push({ account, region, vpcId: iface.vpcId, interfaceId: iface.id, ...(iface.instanceId ? { instanceId: iface.instanceId } : {}), at: q.at, record });
    }
    const s = this.state.get(`${account}|${region}`);
    let logged = 0;
    if (s) {
      for (const r of resolved) {
        for (const a of s.associations.values()) {
          if (a.vpcId !== r.vpcId) continue;
          this.pending.push({ account, region, configId: a.configId, vpcId: r.vpcId, at: r.at, record: r.record });
          logged++;
        }
      }
    }
    if (resolved.length) for (const l of this.listeners) l(account, region, resolved);
    return { resolved, logged, skipped };
  }

  /** Each configuration's deliveries in an account (every Region, or one). */
  deliveries(account: string, region?: string): DeliveryStats[] {
    return [...this.state.values()]
      .filter((s) => s.account === account && (!region || s.region === region))
      .flatMap((s) => [...s.configs.values()].map((c) => ({
        configId: c.id, name: c.name, destination: c.destinationArn, delivered: c.delivered,
        pending: this.pending.filter((p) => p.account === s.account && p.region === s.region && p.configId === c.id).length,
        ...(c.note ? { note: c.note } : {}),
      })));
  }

  private interfaceOf(t: Topology, q: DnsQuery, i: number): NetworkInterface {
    if (!q || typeof q.srcaddr !== 'string' || typeof q.qname !== 'string' || !Number.isFinite(q.at)) {
      throw new Error(`lookup ${i}: each query needs srcaddr (an instance's private address), qname and at (lab-clock ms)`);
    }
    const bad = checkName(q.qname);
    if (bad) throw new Error(`lookup ${i}: ${bad}`);
    const hits = t.interfaces.filter((n) => (n.privateIps.includes(q.srcaddr) || n.ipv6Ips.includes(q.srcaddr)) && (!q.vpcId || n.vpcId === q.vpcId));
    if (!hits.length) {
      throw new Error(`lookup ${i}: no network interface of account ${t.account} in ${t.region} has the private address ${q.srcaddr}${q.vpcId ? ` in ${q.vpcId}` : ''}; give the address of an instance's interface (DescribeInstances: PrivateIpAddress)`);
    }
    if (hits.length > 1) throw new Error(`lookup ${i}: several VPCs have an interface with ${q.srcaddr} (${hits.map((h) => h.vpcId).join(', ')}); give vpcId`);
    return hits[0]!;
  }

  // ---- delivery (lab clock) ----

  async deliver(nowMs: number): Promise<void> {
    const due: Pending[] = [];
    const keep: Pending[] = [];
    for (const p of this.pending) {
      const cfg = this.state.get(`${p.account}|${p.region}`)?.configs.get(p.configId);
      if (!cfg) continue; // deleted since: dropped
      // CloudWatch Logs: as soon as the clock reaches the query. S3: files per 5-minute period, once it ended.
      const ready = cfg.destination.kind === 's3' ? Math.floor(p.at / S3_FILE_MS) * S3_FILE_MS + S3_FILE_MS <= nowMs : p.at <= nowMs;
      (ready ? due : keep).push(p);
    }
    this.pending.length = 0;
    this.pending.push(...keep);
    const groups = new Map<string, Pending[]>();
    for (const p of due) {
      const s3 = this.state.get(`${p.account}|${p.region}`)!.configs.get(p.configId)!.destination.kind === 's3';
      const k = `${p.account}|${p.region}|${p.configId}|${p.vpcId}${s3 ? `|${Math.floor(p.at / S3_FILE_MS)}` : ''}`;
      const g = groups.get(k);
      if (g) g.push(p);
      else groups.set(k, [p]);
    }
    for (const batch of groups.values()) {
      const first = batch[0]!;
      const s = this.state.get(`${first.account}|${first.region}`)!;
      const cfg = s.configs.get(first.configId)!;
      batch.sort((a, b) => a.at - b.at);
      const message = await this.write(first.account, first.region, cfg, first.vpcId, batch).then(() => undefined, (e: Error) => e.message);
      // The associations of this configuration and VPC show how delivery goes (Status FAILED, Error).
      for (const a of s.associations.values()) {
        if (a.configId !== cfg.id || a.vpcId !== first.vpcId) continue;
        a.status = message ? 'FAILED' : 'ACTIVE';
        a.error = message ? (/does not exist|NoSuchBucket|not found/i.test(message) ? 'DESTINATION_NOT_FOUND' : /^access denied/i.test(message) ? 'ACCESS_DENIED' : 'INTERNAL_SERVICE_ERROR') : 'NONE';
        a.errorMessage = message ?? '';
      }
      if (message) cfg.note = message;
      else if (cfg.destination.kind !== 'firehose') {
        cfg.delivered += batch.length;
        cfg.note = undefined;
      }
    }
  }

  private async write(account: string, region: string, cfg: QueryLogConfig, vpcId: string, batch: Pending[]): Promise<void> {
    const d = cfg.destination;
    if (d.kind === 'firehose') return;
    if (d.kind === 'logs') {
      const found = await this.caps.target
        .json<{ logGroups?: Array<{ logGroupName?: string }> }>(d.account, 'logs', 'DescribeLogGroups', { logGroupNamePrefix: d.group }, d.region)
        .then((r) => (r.logGroups ?? []).some((g) => g.logGroupName === d.group), () => false);
      if (!found) throw new Error(`the log group ${d.group} does not exist in ${d.account} ${d.region}: create it (CreateLogGroup) or associate a configuration with an existing one`);
      // One stream per VPC and configuration (the stream name is the lab's choice).
      await this.caps.sinks.putLogEvents(d.account, d.region, d.group, `${vpcId}_${cfg.id}`, batch.map((p) => ({ timestamp: p.at, message: JSON.stringify(p.record) })));
      return;
    }
    const owner = this.caps.service('s3').bucketOwners.get(d.bucket);
    if (!owner) throw new Error(`the bucket ${d.bucket} does not exist: create it, or point the configuration at an existing bucket`);
    const body0 = `${d.prefix ? `${d.prefix}/` : ''}AWSLogs/${account}/`;
    if (owner !== account) {
      // Another account's bucket takes the logs only if its policy lets the log delivery service write them
      // for this account (as AWS requires; a configuration cannot write into a bucket that did not ask for it).
      const doc = await this.caps.service('s3').policies.bucketPolicy(owner, d.bucket).catch(() => undefined);
      const decision = doc
        ? evaluate(
          {
            action: 's3:PutObject', resource: `arn:aws:s3:::${d.bucket}/${body0}`, resourceAccount: owner,
            principal: { arn: 'delivery.logs.amazonaws.com', account, type: 'AWSService' },
            context: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceAccount': account, 'aws:SourceArn': cfg.arn },
          },
          { identity: [], resource: { source: `bucket policy of ${d.bucket}`, document: doc, account: owner } },
        ).decision
        : 'ImplicitDeny';
      if (decision !== 'Allow') throw new Error(`access denied: the bucket ${d.bucket} belongs to account ${owner} and its bucket policy does not allow delivery.logs.amazonaws.com to s3:PutObject under ${body0} for account ${account}`);
    }
    const body = gzipSync(Buffer.from(batch.map((p) => JSON.stringify(p.record)).join('\n') + '\n'));
    const period = Math.floor(batch[0]!.at / S3_FILE_MS) * S3_FILE_MS;
    await this.caps.sinks.putObject(owner, d.bucket, s3Key(d.prefix, account, vpcId, period, body), body);
  }

  dropAccount(account: string): void {
    for (const k of [...this.state.keys()]) if (k.startsWith(`${account}|`)) this.state.delete(k);
    for (let i = this.pending.length - 1; i >= 0; i--) if (this.pending[i]!.account === account) this.pending.splice(i, 1);
  }

  // ---- authorization: the configuration each call names (Service Authorization Reference) ----

  private async resolveAuthz(req: AuthzRequirement, cred: Credential, call: ApiCall): Promise<AuthzRequirement> {
    if (call.service !== 'route53resolver') return req;
    const base = `arn:aws:route53resolver:${call.region}:${cred.account}:resolver-query-log-config/`;
    const id = call.params['ResolverQueryLogConfigId'];
    switch (call.operation) {
      case 'CreateResolverQueryLogConfig':
        return { ...req, resources: [`${base}*`] };
      case 'GetResolverQueryLogConfig':
      case 'DeleteResolverQueryLogConfig':
      case 'AssociateResolverQueryLogConfig':
      case 'DisassociateResolverQueryLogConfig':
        return typeof id === 'string' && /^[A-Za-z0-9-]{1,64}$/.test(id) ? { ...req, resources: [`${base}${id}`] } : req;
      default:
        return req;
    }
  }

  // ---- the API ----

  private of(account: string, region: string): RegionState {
    const k = `${account}|${region}`;
    let s = this.state.get(k);
    if (!s) this.state.set(k, (s = { account, region, configs: new Map(), associations: new Map(), seq: 0 }));
    return s;
  }

  private nextId(s: RegionState, kind: 'qlc' | 'qla', ...what: string[]): string {
    s.seq++;
    return `rslvr-${kind}-${createHash('sha256').update([s.account, s.region, String(s.seq), ...what].join('\u0000')).digest('hex').slice(0, 17)}`;
  }

  private describe(s: RegionState, c: QueryLogConfig, status: 'CREATING' | 'CREATED' | 'DELETING' = 'CREATED'): Record<string, unknown> {
    return {
      Id: c.id, OwnerId: s.account, Status: status, ShareStatus: 'NOT_SHARED',
      AssociationCount: [...s.associations.values()].filter((a) => a.configId === c.id).length,
      Arn: c.arn, Name: c.name, DestinationArn: c.destinationArn, CreatorRequestId: c.creatorRequestId, CreationTime: iso(c.createdAt),
    };
  }

  private describeAssociation(a: Association, status?: 'CREATING' | 'DELETING'): Record<string, unknown> {
    return {
      Id: a.id, ResolverQueryLogConfigId: a.configId, ResourceId: a.vpcId, Status: status ?? a.status, Error: a.error, ErrorMessage: a.errorMessage,
      CreationTime: iso(a.createdAt),
    };
  }

  private config(s: RegionState, p: Record<string, unknown>): QueryLogConfig {
    const id = str(p, 'ResolverQueryLogConfigId', { required: true, min: 1, max: 64 })!;
    const c = s.configs.get(id);
    if (!c) throw notFound('ResolverQueryLogConfig', `The resolver query log config ${id} does not exist in account ${s.account} in ${s.region}.`);
    return c;
  }

  private async serve(ctx: CallContext): Promise<Reply | undefined> {
    const { call, cred, requestId } = ctx;
    const op = call.operation;
    const p = call.params;
    if (!SERVED.has(op) && !(TAG_OPS.has(op) && /:resolver-query-log-config\//.test(String(p['ResourceArn'] ?? '')))) return undefined;
    const s = this.of(cred.account, call.region);
    const ok = (v: unknown): Reply => jsonResult(v, requestId);
    const now = this.caps.clock.nowMs();
    switch (op) {
      case 'CreateResolverQueryLogConfig': {
        const name = str(p, 'Name', { required: true, min: 1, max: 64 })!;
        if (!NAME_PATTERN.test(name)) throw invalid('Name', `The name ${name} is not valid: use letters, digits, spaces, - _ and ', not only digits.`);
        const destinationArn = str(p, 'DestinationArn', { required: true, min: 1, max: 600 })!;
        const creatorRequestId = str(p, 'CreatorRequestId', { required: true, min: 1, max: 255 })!;
        const tags = this.tagsOf(p['Tags']);
        const prior = [...s.configs.values()].find((c) => c.creatorRequestId === creatorRequestId);
        if (prior) {
          // A retry of the same request gets the same configuration; another request with the same id is refused.
          if (prior.name === name && prior.destinationArn === destinationArn) return ok({ ResolverQueryLogConfig: this.describe(s, prior) });
          throw fail('ResourceExistsException', `A resolver query log config with CreatorRequestId ${creatorRequestId} already exists (${prior.id}); use a new CreatorRequestId for a new configuration.`, { ResourceType: 'ResolverQueryLogConfig' });
        }
        const destination = parseDestination(destinationArn);
        if (typeof destination === 'string') throw invalid('DestinationArn', `${destination}.`);
        if (destination.kind !== 's3' && destination.region !== call.region) {
          throw invalid('DestinationArn', `The destination ${destinationArn} is in ${destination.region}; Resolver sends query logs to a destination in the configuration's Region (${call.region}).`);
        }
        if (destination.kind !== 's3' && destination.account !== cred.account) {
          throw invalid('DestinationArn', `The destination ${destinationArn} belongs to account ${destination.account}; a log group or delivery stream must be in this account (${cred.account}).`);
        }
        if (s.configs.size >= MAX_CONFIGS) throw fail('LimitExceededException', `Account ${s.account} has reached the quota of ${MAX_CONFIGS} query logging configurations in ${s.region}; delete one first.`, { ResourceType: 'ResolverQueryLogConfig' });
        const id = this.nextId(s, 'qlc', name, creatorRequestId);
        const c: QueryLogConfig = {
          id, arn: `arn:aws:route53resolver:${s.region}:${s.account}:resolver-query-log-config/${id}`, name, destinationArn, destination, creatorRequestId, createdAt: now, tags, delivered: 0,
          ...(destination.kind === 'firehose' ? { note: 'The lab cloud has no Kinesis Data Firehose: query logs for this configuration are accepted and not delivered.' } : {}),
        };
        s.configs.set(id, c);
        return ok({ ResolverQueryLogConfig: { ...this.describe(s, c, 'CREATING'), ...(c.note ? { 'seclab:note': c.note } : {}) } });
      }
      case 'GetResolverQueryLogConfig':
        return ok({ ResolverQueryLogConfig: this.describe(s, this.config(s, p)) });
      case 'DeleteResolverQueryLogConfig': {
        const c = this.config(s, p);
        const vpcs = [...s.associations.values()].filter((a) => a.configId === c.id).map((a) => a.vpcId);
        if (vpcs.length) throw fail('InvalidRequestException', `The resolver query log config ${c.id} is still associated with ${vpcs.join(', ')}: disassociate every VPC first (DisassociateResolverQueryLogConfig).`);
        const out = this.describe(s, c, 'DELETING');
        s.configs.delete(c.id);
        return ok({ ResolverQueryLogConfig: out });
      }
      case 'AssociateResolverQueryLogConfig': {
        const c = this.config(s, p);
        const vpcId = str(p, 'ResourceId', { required: true, min: 1, max: 64 })!;
        const topology = await this.caps.service('ec2').dataplane.topology(s.account, s.region);
        if (!topology.vpcs.some((v) => v.id === vpcId)) throw invalid('ResourceId', `The VPC ${vpcId} does not exist in account ${s.account} in ${s.region} (the VPC and the configuration must be in the same Region).`);
        if ([...s.associations.values()].some((a) => a.configId === c.id && a.vpcId === vpcId)) {
          throw fail('ResourceExistsException', `The resolver query log config ${c.id} is already associated with ${vpcId}.`, { ResourceType: 'ResolverQueryLogConfigAssociation' });
        }
        const onVpc = [...s.associations.values()].filter((x) => x.vpcId === vpcId).length;
        if (onVpc >= MAX_CONFIGS_PER_VPC) {
          throw fail('LimitExceededException', `${vpcId} is already associated with ${onVpc} query logging configurations, the lab cloud's limit per VPC (${MAX_CONFIGS_PER_VPC}); disassociate one first.`, { ResourceType: 'ResolverQueryLogConfigAssociation' });
        }
        const a: Association = { id: this.nextId(s, 'qla', c.id, vpcId), configId: c.id, vpcId, createdAt: now, status: 'ACTIVE', error: 'NONE', errorMessage: '' };
        s.associations.set(a.id, a);
        return ok({ ResolverQueryLogConfigAssociation: this.describeAssociation(a, 'CREATING') });
      }
      case 'DisassociateResolverQueryLogConfig': {
        const c = this.config(s, p);
        const vpcId = str(p, 'ResourceId', { required: true, min: 1, max: 64 })!;
        const a = [...s.associations.values()].find((x) => x.configId === c.id && x.vpcId === vpcId);
        if (!a) throw notFound('ResolverQueryLogConfigAssociation', `The resolver query log config ${c.id} is not associated with ${vpcId}.`);
        s.associations.delete(a.id);
        return ok({ ResolverQueryLogConfigAssociation: this.describeAssociation(a, 'DELETING') });
      }
      case 'GetResolverQueryLogConfigAssociation': {
        const id = str(p, 'ResolverQueryLogConfigAssociationId', { required: true, min: 1, max: 64 })!;
        const a = s.associations.get(id);
        if (!a) throw notFound('ResolverQueryLogConfigAssociation', `The resolver query log config association ${id} does not exist in account ${s.account} in ${s.region}.`);
        return ok({ ResolverQueryLogConfigAssociation: this.describeAssociation(a) });
      }
      case 'ListResolverQueryLogConfigs': {
        const all = [...s.configs.values()].map((c) => this.describe(s, c));
        const rows = this.filterSort(all, p, CONFIG_FILTERS, (row, name) => (name === 'Destination' ? DESTINATION_NAMES[s.configs.get(String(row['Id']))!.destination.kind] : row[name]));
        const { items, next } = this.page(rows, p);
        return ok({ ...(next ? { NextToken: next } : {}), TotalCount: all.length, TotalFilteredCount: rows.length, ResolverQueryLogConfigs: items });
      }
      case 'ListResolverQueryLogConfigAssociations': {
        const all = [...s.associations.values()].map((a) => this.describeAssociation(a));
        const rows = this.filterSort(all, p, ASSOCIATION_FILTERS, (row, name) => row[name]);
        const { items, next } = this.page(rows, p);
        return ok({ ...(next ? { NextToken: next } : {}), TotalCount: all.length, TotalFilteredCount: rows.length, ResolverQueryLogConfigAssociations: items });
      }
      case 'TagResource':
      case 'UntagResource':
      case 'ListTagsForResource': {
        const arn = String(p['ResourceArn']);
        const c = [...s.configs.values()].find((x) => x.arn === arn);
        if (!c) throw notFound('ResolverQueryLogConfig', `The resource ${arn} does not exist in account ${s.account} in ${s.region}.`);
        if (op === 'TagResource') {
          const add = this.tagsOf(p['Tags']);
          if (Object.keys({ ...c.tags, ...add }).length > MAX_TAGS) throw fail('LimitExceededException', `A resource can have at most ${MAX_TAGS} tags.`, { ResourceType: 'ResolverQueryLogConfig' });
          Object.assign(c.tags, add);
          return ok({});
        }
        if (op === 'UntagResource') {
          const keys = p['TagKeys'];
          if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string')) throw invalid('TagKeys', 'TagKeys must be a list of tag keys.');
          for (const k of keys as string[]) delete c.tags[k];
          return ok({});
        }
        return ok({ Tags: Object.entries(c.tags).map(([Key, Value]) => ({ Key, Value })) });
      }
      default:
        return undefined;
    }
  }

  private tagsOf(raw: unknown): Record<string, string> {
    if (raw === undefined) return {};
    if (!Array.isArray(raw)) throw invalid('Tags', 'Tags must be a list of {Key, Value}.');
    if (raw.length > MAX_TAGS) throw invalid('Tags', `at most ${MAX_TAGS} tags.`);
    const out: Record<string, string> = {};
    for (const t of raw as Array<{ Key?: unknown; Value?: unknown }>) {
      if (typeof t?.Key !== 'string' || t.Key.length < 1 || t.Key.length > 128 || typeof t.Value !== 'string' || t.Value.length > 256) {
        throw invalid('Tags', 'each tag needs a Key (1 to 128 characters) and a Value (up to 256 characters).');
      }
      out[t.Key] = t.Value;
    }
    return out;
  }

  /** Filters (Name/Values, any value matches) and SortBy/SortOrder of the List operations. */
  private filterSort(rows: Record<string, unknown>[], p: Record<string, unknown>, names: string[], valueOf: (row: Record<string, unknown>, name: string) => unknown): Record<string, unknown>[] {
    const known = (raw: unknown, field: string): string => {
      const n = typeof raw === 'string' ? names.find((x) => norm(x) === norm(raw)) : undefined;
      if (!n) throw invalid(field, `${String(raw)} is not a valid ${field === 'SortBy' ? 'sort key' : 'filter name'} here; use one of ${names.join(', ')}.`);
      return n;
    };
    let out = rows;
    const filters = p['Filters'];
    if (filters !== undefined) {
      if (!Array.isArray(filters)) throw invalid('Filters', 'Filters must be a list of {Name, Values}.');
      for (const f of filters as Array<{ Name?: unknown; Values?: unknown }>) {
        const name = known(f?.Name, 'Filters');
        const values = f.Values;
        if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) throw invalid('Filters', `the filter ${name} needs Values, a list of strings.`);
        out = out.filter((row) => (values as string[]).includes(String(valueOf(row, name))));
      }
    }
    const sortBy = p['SortBy'];
    const order = p['SortOrder'];
    if (order !== undefined && order !== 'ASCENDING' && order !== 'DESCENDING') throw invalid('SortOrder', 'SortOrder must be ASCENDING or DESCENDING.');
    if (sortBy !== undefined) {
      const key = known(sortBy, 'SortBy');
      const dir = order === 'DESCENDING' ? -1 : 1;
      out = [...out].sort((a, b) => {
        const x = valueOf(a, key);
        const y = valueOf(b, key);
        return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0) * dir;
      });
    }
    return out;
  }

  private page<T>(rows: T[], p: Record<string, unknown>): { items: T[]; next?: string } {
    const max = p['MaxResults'];
    if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 100)) throw invalid('MaxResults', 'MaxResults must be an integer from 1 through 100.');
    const token = p['NextToken'];
    let start = 0;
    if (token !== undefined) {
      const m = typeof token === 'string' ? /^o(\d{1,6})$/.exec(Buffer.from(token, 'base64url').toString()) : null;
      if (!m) throw fail('InvalidNextTokenException', 'The NextToken is not valid: pass the NextToken of the previous answer unchanged.');
      start = Number(m[1]);
    }
    const n = (max as number | undefined) ?? 100;
    const items = rows.slice(start, start + n);
    return start + n < rows.length ? { items, next: Buffer.from(`o${start + n}`).toString('base64url') } : { items };
  }
}

declare module '../../gateway/service.ts' {
  interface LabServices {
    route53resolver: Route53ResolverService;
  }
}

export const route53resolverService = defineService('route53resolver', (caps) => new Route53ResolverService(caps));
