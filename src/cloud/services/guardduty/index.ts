// Amazon GuardDuty (`guardduty`, REST-JSON, API version 2017-11-28) in the lab cloud, answered whole
// by the gateway (moto 5.2 has detector CRUD only; never forwarded, so state stays in one place).
// Following the GuardDuty API reference and user guide:
//
// - Detectors: Create/Get/Update/Delete/ListDetectors. One detector per account and Region
//   (BadRequestException otherwise); findingPublishingFrequency FIFTEEN_MINUTES | ONE_HOUR | SIX_HOURS
//   (default SIX_HOURS); protection plans as `features` (S3_DATA_EVENTS, EKS_AUDIT_LOGS,
//   EBS_MALWARE_PROTECTION, RDS_LOGIN_EVENTS, EKS_RUNTIME_MONITORING, LAMBDA_NETWORK_LOGS,
//   RUNTIME_MONITORING... with additionalConfiguration) or the older `dataSources` (never both);
//   GetDetector answers both views; the foundational sources (CloudTrail, DNS logs, flow logs) are
//   always enabled. A disabled detector (enable=false) makes no findings.
// - Findings: the finding JSON of findings.ts; CreateSampleFindings; ListFindings / GetFindings with
//   FindingCriteria and SortCriteria (criteria.ts); GetFindingsStatistics (COUNT_BY_SEVERITY and
//   groupBy ACCOUNT | DATE | FINDING_TYPE | RESOURCE | SEVERITY); Archive/UnarchiveFindings;
//   UpdateFindingsFeedback. A repeat of the same activity (same type, resource and actor) raises the
//   existing finding's count and eventLastSeen instead of making a new finding.
// - Filters with action NOOP | ARCHIVE and rank: an ARCHIVE filter is a suppression rule, a new
//   finding that matches it arrives archived and is not published.
// - IPSets (trusted IP lists) and ThreatIntelSets (threat lists) read from S3 through the lab cloud as
//   GuardDuty's service-linked role reads them (the bucket policy decides), TXT format (lists.ts);
//   status ACTIVE, INACTIVE or ERROR with the reason in `seclab:statusReason`.
// - EventBridge: a new finding is put on the account's default bus at once (source aws.guardduty,
//   detail-type "GuardDuty Finding", detail the finding); updates of existing findings go out at the
//   end of the detector's publishing period, on the lab clock.
// - Findings from the lab cloud's own calls (the CloudTrail management events the gateway records):
//   Policy:IAMUser/RootCredentialUsage, Stealth:IAMUser/CloudTrailLoggingDisabled, PenTest:IAMUser/
//   KaliLinux (and Parrot, Pentoo), Recon:/UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom; no
//   CloudTrail-based finding for a caller address on an active trusted IP list. docs/guardduty.md.
//
// Nothing is random: ids derive from the account, region, what they name and a per-region counter.
// Everything synthesized carries `seclab:emulated: true`. State is per account and Region, in memory.
import { createHash } from 'node:crypto';
import { ApiError } from '../../gateway/api-error.ts';
import { jsonResult, type CallContext, type Reply, type ServiceExtension } from '../../gateway/extension.ts';
import { defineService, type CallOutcome, type Capabilities, type ControlHandler, type ServiceRuntime } from '../../gateway/service.ts';
import type { Credential } from '../../gateway/credentials.ts';
import { evaluate } from '../../policy/evaluate.ts';
import { checkCriteria, matches, sortFindings, valuesAt } from './criteria.ts';
import { accessKeyResource, eventDetail, remoteIp, render, sampleDraft, TYPES, type Actor, type Draft, type Finding, type JsonObject } from './findings.ts';
import { listed, parseLocation, parseTxt, type ParsedList } from './lists.ts';
import type { BehaviourSource, GuardDutyHost } from './sources.ts';
import { ThreatIntel } from './intel.ts';
import { flowBehaviour } from './flows.ts';
import { dnsBehaviour } from './dns.ts';
import { callBehaviour } from './behaviour.ts';
import { badRequest, bool, epoch, ids, iso, oneOf, page, str, tagsOf } from './validate.ts';

const FREQUENCIES = { FIFTEEN_MINUTES: 15 * 60_000, ONE_HOUR: 3600_000, SIX_HOURS: 6 * 3600_000 } as const;
type Frequency = keyof typeof FREQUENCIES;
const ROLE = 'AWSServiceRoleForAmazonGuardDuty';
/** Protection plans a request may name (DetectorFeature); the results add the foundational sources. */
const FEATURES = ['S3_DATA_EVENTS', 'EKS_AUDIT_LOGS', 'EBS_MALWARE_PROTECTION', 'RDS_LOGIN_EVENTS', 'EKS_RUNTIME_MONITORING', 'LAMBDA_NETWORK_LOGS', 'RUNTIME_MONITORING', 'AI_PROTECTION'] as const;
type Feature = (typeof FEATURES)[number];
const FOUNDATIONAL = ['CLOUD_TRAIL', 'DNS_LOGS', 'FLOW_LOGS'] as const;
/** Additional configuration each feature takes (FeatureAdditionalConfiguration). */
const ADDITIONAL: Partial<Record<Feature, readonly string[]>> = {
  EKS_RUNTIME_MONITORING: ['EKS_ADDON_MANAGEMENT'],
  RUNTIME_MONITORING: ['EKS_ADDON_MANAGEMENT', 'ECS_FARGATE_AGENT_MANAGEMENT', 'EC2_AGENT_MANAGEMENT'],
};
const LIST_FORMATS = ['TXT', 'STIX', 'OTX_CSV', 'ALIEN_VAULT', 'PROOF_POINT', 'FIRE_EYE'] as const;
/** GuardDuty quotas: trusted IP lists per account and Region, threat lists, entries, filters. */
const MAX_IP_SETS = 1;
const MAX_THREAT_SETS = 6;
const MAX_IP_ENTRIES = 2000;
const MAX_THREAT_ENTRIES = 250_000;
const MAX_FILTERS = 100;
const NOT_OWNED = 'The request is rejected because the input detectorId is not owned by the current account.';
const NO_SUCH = 'The request is rejected since no such resource found.';

interface FeatureState { status: 'ENABLED' | 'DISABLED'; updatedAt: number; additional: Map<string, { status: 'ENABLED' | 'DISABLED'; updatedAt: number }> }

interface Detector {
  id: string;
  enabled: boolean;
  frequency: Frequency;
  createdAt: number;
  updatedAt: number;
  features: Map<Feature, FeatureState>;
  tags: Record<string, string>;
}

interface Filter {
  name: string;
  action: 'NOOP' | 'ARCHIVE';
  rank: number;
  description?: string;
  criteria: JsonObject;
  createdAt: number;
  updatedAt: number;
  version: number;
  tags: Record<string, string>;
}

interface ListSet {
  id: string;
  name: string;
  format: (typeof LIST_FORMATS)[number];
  location: string;
  expectedBucketOwner?: string;
  status: 'ACTIVE' | 'INACTIVE' | 'ERROR';
  reason?: string;
  parsed?: ParsedList;
  tags: Record<string, string>;
}

interface RegionState {
  account: string;
  region: string;
  detector?: Detector;
  findings: Map<string, Finding>;
  /** Aggregation key (type, resource, actor) -> finding id. */
  byKey: Map<string, string>;
  filters: Map<string, Filter>;
  ipSets: Map<string, ListSet>;
  threatSets: Map<string, ListSet>;
  /** Findings updated since their last publication, with when the update is due to go out. */
  updated: Map<string, number>;
  /** clientToken of Create* calls -> what they created: a retry with the same token gets the same answer. */
  tokens: Map<string, string>;
  seq: number;
}

export class GuardDutyService implements ServiceRuntime, GuardDutyHost {
  private readonly state = new Map<string, RegionState>();
  /** GuardDuty's own threat intelligence: what a lab declares the world knows (intel.ts). */
  readonly intel = new ThreatIntel();
  /**
   * How long behaviour-based analysers learn an account's normal activity after its detector is
   * created before they report anything unusual (GuardDuty: about 7 to 14 days; a lab may shorten it).
   */
  learningMs = 7 * 24 * 3600_000;
  /** The behaviour analysers, one per data source (sources.ts). */
  private readonly sources: BehaviourSource[];
  readonly extensions: ServiceExtension[];
  readonly control: Record<string, ControlHandler>;
  private running: Promise<void> = Promise.resolve();

  constructor(readonly caps: Capabilities) {
    this.sources = [flowBehaviour(this), dnsBehaviour(this), callBehaviour(this)];
    this.extensions = [{ service: 'guardduty', serve: (ctx) => this.serve(ctx) }];
    this.control = {
      '/_seclab/guardduty/findings': async (q) => {
        const account = q.get('account') ?? '';
        if (!/^\d{12}$/.test(account)) return { status: 400, value: { error: 'account (12 digits) is required' } };
        await this.settle();
        return { status: 200, value: { findings: this.findings(account, q.get('region') ?? undefined) } };
      },
      '/_seclab/guardduty/lists': async (q) => {
        const account = q.get('account') ?? '';
        if (!/^\d{12}$/.test(account)) return { status: 400, value: { error: 'account (12 digits) is required' } };
        return { status: 200, value: { lists: this.lists(account, q.get('region') ?? undefined) } };
      },
    };
  }

  // ---- grader API ----

  /** The account's findings (every Region, or one), newest first. */
  findings(account: string, region?: string): Finding[] {
    return [...this.state.values()]
      .filter((s) => s.account === account && (!region || s.region === region))
      .flatMap((s) => sortFindings([...s.findings.values()], { attributeName: 'createdAt', orderBy: 'DESC' }));
  }

  /** The account's detector in a Region (undefined: none). */
  detector(account: string, region = this.caps.region): { detectorId: string; status: string; findingPublishingFrequency: string } | undefined {
    const d = this.state.get(`${account}|${region}`)?.detector;
    return d ? { detectorId: d.id, status: d.enabled ? 'ENABLED' : 'DISABLED', findingPublishingFrequency: d.frequency } : undefined;
  }

  /** The account's IP sets and threat intel sets with their status and, for ERROR, why (the SDKs drop the
   * `seclab:statusReason` member GetIPSet / GetThreatIntelSet add, as it is not in GuardDuty's model). */
  lists(account: string, region = this.caps.region): Array<{ kind: 'IPSet' | 'ThreatIntelSet'; id: string; name: string; status: string; reason?: string; entries?: number }> {
    const s = this.state.get(`${account}|${region}`);
    if (!s) return [];
    const row = (kind: 'IPSet' | 'ThreatIntelSet') => (x: ListSet) => ({ kind, id: x.id, name: x.name, status: x.status, ...(x.reason ? { reason: x.reason } : {}), ...(x.parsed ? { entries: x.parsed.entries } : {}) });
    return [...[...s.ipSets.values()].map(row('IPSet')), ...[...s.threatSets.values()].map(row('ThreatIntelSet'))];
  }

  /** Waits for analysis of recorded calls in flight. */
  async settle(): Promise<void> {
    await this.running;
  }

  async deliver(nowMs: number): Promise<void> {
    await this.settle();
    for (const src of this.sources) await src.deliver?.(nowMs);
    await this.settle();
    for (const s of [...this.state.values()]) {
      for (const [id, due] of [...s.updated]) {
        if (due > nowMs) continue;
        s.updated.delete(id);
        const f = s.findings.get(id);
        if (f && !f.service.archived) await this.publish(s, f);
      }
    }
  }

  dropAccount(account: string): void {
    for (const k of this.state.keys()) if (k.startsWith(`${account}|`)) this.state.delete(k);
    for (const src of this.sources) src.dropAccount?.(account);
  }

  close(): void {
    for (const src of this.sources) src.close?.();
  }

  /** Every call the gateway decided is a CloudTrail management event GuardDuty analyses. */
  observe(outcome: CallOutcome): void {
    const s = this.state.get(`${outcome.cred.account}|${outcome.call.region}`);
    if (!s?.detector?.enabled) return;
    this.enqueue(async () => {
      await this.analyse(s, outcome);
      for (const src of this.sources) await src.observe?.(outcome);
    });
  }

  // ---- what the behaviour analysers use (sources.ts) ----

  enqueue(work: () => Promise<void>): void {
    const next = this.running.then(work);
    this.running = next.catch(() => undefined);
  }

  enabledDetector(account: string, region: string): { id: string; createdAt: number } | undefined {
    const d = this.state.get(`${account}|${region}`)?.detector;
    return d?.enabled ? { id: d.id, createdAt: d.createdAt } : undefined;
  }

  featureEnabled(account: string, region: string, feature: string): boolean {
    const d = this.state.get(`${account}|${region}`)?.detector;
    return !!d?.enabled && d.features.get(feature as Feature)?.status === 'ENABLED';
  }

  threatList(account: string, region: string, addressOrDomain: string): string | undefined {
    const s = this.state.get(`${account}|${region}`);
    if (!s) return undefined;
    const domain = addressOrDomain.toLowerCase().replace(/\.$/, '');
    const hit = [...s.threatSets.values()].find((set) => set.status === 'ACTIVE' && (listed(set.parsed, addressOrDomain) || (set.parsed?.domains.has(domain) ?? false)));
    return hit?.name;
  }

  trusted(account: string, region: string, address: string): boolean {
    const s = this.state.get(`${account}|${region}`);
    return !!s && [...s.ipSets.values()].some((set) => set.status === 'ACTIVE' && listed(set.parsed, address));
  }

  async report(account: string, region: string, draft: Draft): Promise<Finding | undefined> {
    const s = this.state.get(`${account}|${region}`);
    if (!s?.detector?.enabled) return undefined;
    return this.occur(s, draft);
  }

  // ---- ids ----

  private nextId(s: RegionState, ...what: string[]): string {
    s.seq++;
    return createHash('sha256').update([s.account, s.region, String(s.seq), ...what].join('\u0000')).digest('hex').slice(0, 32);
  }

  private of(account: string, region: string): RegionState {
    const k = `${account}|${region}`;
    let s = this.state.get(k);
    if (!s) {
      s = { account, region, findings: new Map(), byKey: new Map(), filters: new Map(), ipSets: new Map(), threatSets: new Map(), updated: new Map(), tokens: new Map(), seq: 0 };
      this.state.set(k, s);
    }
    return s;
  }

  // ---- findings ----

  private async publish(s: RegionState, f: Finding): Promise<void> {
    const bus = this.caps.service('events');
    await bus.emit(s.account, s.region, bus.event(s.account, s.region, 'aws.guardduty', 'GuardDuty Finding', eventDetail(f), [])).catch(() => 0);
  }

  /** A new occurrence of activity: a new finding, or the existing one's count raised. */
  private async occur(s: RegionState, d: Draft): Promise<Finding> {
    const det = s.detector!;
    const now = this.caps.clock.nowMs();
    const at = iso(now);
    const existingId = s.byKey.get(d.key);
    const existing = existingId ? s.findings.get(existingId) : undefined;
    if (existing) {
      existing.service.count++;
      existing.service.eventLastSeen = at;
      existing.updatedAt = at;
      existing.service.action = d.action;
      existing.service.additionalInfo = { value: JSON.stringify(d.additionalInfo), type: 'default' };
      existing.title = render(TYPES[d.type]!.title, d.vars);
      existing.description = render(TYPES[d.type]!.description, d.vars);
      // Published at the end of the current publishing period (counted from the detector's creation).
      if (!s.updated.has(existing.id)) {
        const period = FREQUENCIES[det.frequency];
        s.updated.set(existing.id, det.createdAt + (Math.floor((now - det.createdAt) / period) + 1) * period);
      }
      return existing;
    }
    const t = TYPES[d.type]!;
    let id = this.nextId(s, 'finding', det.id, d.type, d.key);
    while (s.findings.has(id)) id = this.nextId(s, 'finding', det.id, d.type, d.key);
    const f: Finding = {
      schemaVersion: '2.0', accountId: s.account, region: s.region, partition: 'aws', id,
      arn: `arn:aws:guardduty:${s.region}:${s.account}:detector/${det.id}/finding/${id}`, type: d.type, resource: d.resource,
      service: {
        serviceName: 'guardduty', detectorId: det.id, action: d.action, resourceRole: d.resourceRole,
        additionalInfo: { value: JSON.stringify(d.additionalInfo), type: 'default' }, eventFirstSeen: at, eventLastSeen: at, archived: false, count: 1,
        featureName: t.feature, ...(d.evidence ? { evidence: d.evidence } : {}),
      },
      severity: t.severity, createdAt: at, updatedAt: at, title: render(t.title, d.vars), description: render(t.description, d.vars),
      'seclab:emulated': true,
    };
    s.findings.set(id, f);
    s.byKey.set(d.key, id);
    // Suppression rules (ARCHIVE filters, by rank): the finding arrives archived and is not exported.
    const suppressed = [...s.filters.values()].sort((a, b) => a.rank - b.rank).find((flt) => flt.action === 'ARCHIVE' && matches(eventDetail(f), flt.criteria));
    if (suppressed) {
      f.service.archived = true;
      f['seclab:suppressedBy'] = suppressed.name;
    } else {
      await this.publish(s, f);
    }
    return f;
  }

  private actor(cred: Credential): Actor {
    if (cred.kind === 'root') return { accessKeyId: cred.accessKeyId, principalId: cred.account, userName: 'Root', userType: 'Root' };
    if (cred.kind === 'user') return { accessKeyId: cred.accessKeyId, principalId: cred.userId ?? cred.accessKeyId, userName: cred.userName ?? '', userType: 'IAMUser' };
    if (cred.kind === 'role-session') return { accessKeyId: cred.accessKeyId, principalId: `${cred.roleName ?? ''}:${cred.sessionName ?? ''}`, userName: cred.roleName ?? '', userType: 'AssumedRole' };
    // GetSessionToken / GetFederationToken sessions act as their user
    return { accessKeyId: cred.accessKeyId, principalId: cred.userId ?? cred.accessKeyId, userName: cred.userName ?? '', userType: 'IAMUser' };
  }

  /** CloudTrail-based findings for one recorded call. */
  private async analyse(s: RegionState, o: CallOutcome): Promise<void> {
    if (!s.detector?.enabled) return;
    const ip = o.sourceIp;
    // Trusted IP lists: no CloudTrail-based findings for activity from their addresses.
    if ([...s.ipSets.values()].some((set) => set.status === 'ACTIVE' && listed(set.parsed, ip))) return;
    const actor = this.actor(o.cred);
    const api = o.call.operation;
    const serviceName = `${o.call.service === 'monitoring' ? 'monitoring' : o.call.service}.amazonaws.com`;
    const who = actor.userType === 'Root' ? 'Root' : actor.userName;
    const apiAction = (extra: JsonObject = {}): JsonObject => ({
      actionType: 'AWS_API_CALL',
      awsApiCallAction: {
        api, serviceName, callerType: 'Remote IP', remoteIpDetails: remoteIp(ip, false), userAgent: o.userAgent,
        ...(o.error ? { errorCode: o.error.code } : {}), affectedResources: {}, ...extra,
      },
    });
    const base = (type: string, key: string, info: JsonObject = {}, extra: JsonObject = {}, vars: Record<string, string> = {}): Draft => ({
      type, resource: accessKeyResource(actor), action: apiAction(extra), resourceRole: 'TARGET',
      additionalInfo: { userAgent: { fullUserAgent: o.userAgent }, ...info }, vars: { api, ip, user: who, ...vars }, key,
    });
    const drafts: Draft[] = [];
    // one finding per root access key; its count, last API and last-seen time follow the calls
    if (o.cred.kind === 'root') drafts.push(base('Policy:IAMUser/RootCredentialUsage', `root|${actor.accessKeyId}`));
    if (!o.error && o.call.service === 'cloudtrail' && (api === 'StopLogging' || api === 'DeleteTrail')) {
      const name = String(o.call.params['Name'] ?? '');
      const trail = name.startsWith('arn:') ? name : `arn:aws:cloudtrail:${o.call.region}:${s.account}:trail/${name}`;
      drafts.push(base('Stealth:IAMUser/CloudTrailLoggingDisabled', `trail-off|${actor.accessKeyId}|${trail}`, {}, { affectedResources: { 'AWS::CloudTrail::Trail': trail } }, { trail: name.replace(/^.*:trail\//, '') }));
    }
    const ua = o.userAgent.toLowerCase();
    const pentest = ua.includes('kali') ? 'KaliLinux' : ua.includes('parrot') ? 'ParrotLinux' : ua.includes('pentoo') ? 'PentooLinux' : undefined;
    if (pentest) drafts.push(base(`PenTest:IAMUser/${pentest}`, `pentest|${pentest}|${actor.accessKeyId}|${ip}`));
    const threat = [...s.threatSets.values()].find((set) => set.status === 'ACTIVE' && listed(set.parsed, ip));
    if (threat) {
      const recon = /^(Get|List|Describe)/.test(api);
      const type = recon ? 'Recon:IAMUser/MaliciousIPCaller.Custom' : 'UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom';
      const d = base(type, `threat|${type}|${actor.accessKeyId}|${ip}`, { threatListName: threat.name }, {}, { list: threat.name });
      d.evidence = { threatIntelligenceDetails: [{ threatListName: threat.name, threatNames: [] }] };
      drafts.push(d);
    }
    for (const d of drafts) await this.occur(s, d);
  }

  // ---- lists (IP sets, threat intel sets) ----

  /** Reads a list as GuardDuty's service-linked role: the object's bucket policy decides. */
  private async load(s: RegionState, set: ListSet, threat: boolean): Promise<void> {
    set.parsed = undefined;
    set.reason = undefined;
    const fail = (reason: string) => {
      set.status = 'ERROR';
      set.reason = reason;
    };
    if (set.format !== 'TXT') return fail(`The lab cloud reads lists in TXT format only (one IP address, CIDR range${threat ? ' or domain' : ''} per line); ${set.format} is not read.`);
    const loc = parseLocation(set.location);
    if (!loc) return fail(`The location ${set.location} is not an S3 object URL (https://s3.amazonaws.com/<bucket>/<key> or s3://<bucket>/<key>).`);
    const owner = this.caps.service('s3').bucketOwners.get(loc.bucket) ?? s.account;
    if (set.expectedBucketOwner && set.expectedBucketOwner !== owner) return fail(`The bucket ${loc.bucket} is not owned by the expected bucket owner ${set.expectedBucketOwner}.`);
    const doc = await this.caps.service('s3').policies.bucketPolicy(owner, loc.bucket).catch(() => undefined);
    const d = evaluate(
      {
        action: 's3:GetObject', resource: `arn:aws:s3:::${loc.bucket}/${loc.key}`, resourceAccount: owner,
        principal: { arn: `arn:aws:sts::${s.account}:assumed-role/${ROLE}/guardduty`, account: s.account, alternateArns: [`arn:aws:iam::${s.account}:role/aws-service-role/guardduty.amazonaws.com/${ROLE}`], type: 'AssumedRole' },
        context: { 'aws:SecureTransport': 'true', 'aws:RequestedRegion': s.region, 'aws:CalledVia': ['guardduty.amazonaws.com'], 'aws:ViaAWSService': 'true' },
      },
      {
        // GuardDuty adds a policy allowing s3:GetObject on the list's location to its service-linked role.
        identity: [{ source: `${ROLE} list access`, document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: `arn:aws:s3:::${loc.bucket}/${loc.key}` }] } }],
        ...(doc ? { resource: { source: `bucket policy of ${loc.bucket}`, document: doc, account: owner } } : {}),
      },
    );
    if (d.decision !== 'Allow') return fail(`GuardDuty's service-linked role ${ROLE} may not read s3://${loc.bucket}/${loc.key} (${owner !== s.account && !doc ? 'the bucket belongs to another account and its policy grants no access' : 'the bucket policy denies it'}).`);
    let text: string;
    try {
      const r = await this.caps.target.json<{ Body?: { transformToString(): Promise<string> } }>(owner, 's3', 'GetObject', { Bucket: loc.bucket, Key: loc.key });
      text = r.Body ? await r.Body.transformToString() : '';
    } catch (e) {
      const name = (e as { name?: string }).name;
      return fail(name === 'NoSuchKey' || name === 'NoSuchBucket' || name === 'NotFound' ? `s3://${loc.bucket}/${loc.key} does not exist.` : `s3://${loc.bucket}/${loc.key} could not be read: ${(e as Error).message}`);
    }
    try {
      set.parsed = parseTxt(text, { domains: threat, maxEntries: threat ? MAX_THREAT_ENTRIES : MAX_IP_ENTRIES });
    } catch (e) {
      return fail(`s3://${loc.bucket}/${loc.key}: ${(e as Error).message}.`);
    }
    if (!set.parsed.entries) return fail(`s3://${loc.bucket}/${loc.key} holds no entry.`);
    set.status = 'ACTIVE';
  }

  private async createSet(s: RegionState, p: Record<string, unknown>, threat: boolean): Promise<string> {
    const sets = threat ? s.threatSets : s.ipSets;
    const name = str(p, 'name', { required: true, min: 1, max: 300 })!;
    const format = oneOf(p, 'format', LIST_FORMATS, true)!;
    const location = str(p, 'location', { required: true, min: 1, max: 300 })!;
    const activate = bool(p, 'activate', true)!;
    const expectedBucketOwner = str(p, 'expectedBucketOwner', { pattern: /^\d{12}$/ });
    if ([...sets.values()].some((x) => x.name === name)) throw badRequest(`a ${threat ? 'ThreatIntelSet' : 'IPSet'} named ${name} already exists.`);
    const max = threat ? MAX_THREAT_SETS : MAX_IP_SETS;
    if (sets.size >= max) throw badRequest(`the number of ${threat ? 'ThreatIntelSets' : 'IPSets'} exceeded the limit (${max} per account and Region); delete one first.`);
    if (!parseLocation(location)) throw badRequest(`the location ${location} is not valid (use https://s3.amazonaws.com/<bucket>/<key> or s3://<bucket>/<key>).`);
    const id = this.nextId(s, threat ? 'threatintelset' : 'ipset', name);
    const set: ListSet = { id, name, format, location, ...(expectedBucketOwner ? { expectedBucketOwner } : {}), status: 'INACTIVE', tags: tagsOf(p['tags']) };
    if (activate) await this.load(s, set, threat);
    sets.set(id, set);
    return id;
  }

  private async updateSet(s: RegionState, set: ListSet, p: Record<string, unknown>, threat: boolean): Promise<void> {
    const name = str(p, 'name', { min: 1, max: 300 });
    const location = str(p, 'location', { min: 1, max: 300 });
    const activate = bool(p, 'activate');
    const expectedBucketOwner = str(p, 'expectedBucketOwner', { pattern: /^\d{12}$/ });
    if (location !== undefined && !parseLocation(location)) throw badRequest(`the location ${location} is not valid (use https://s3.amazonaws.com/<bucket>/<key> or s3://<bucket>/<key>).`);
    if (name !== undefined) set.name = name;
    if (location !== undefined) set.location = location;
    if (expectedBucketOwner !== undefined) set.expectedBucketOwner = expectedBucketOwner;
    const active = activate ?? set.status !== 'INACTIVE';
    if (!active) {
      set.status = 'INACTIVE';
      set.parsed = undefined;
      set.reason = undefined;
    } else {
      // Activating or changing an active list reads it again (GuardDuty reloads the file).
      await this.load(s, set, threat);
    }
  }

  private describeSet(set: ListSet): JsonObject {
    return {
      name: set.name, format: set.format, location: set.location, status: set.status, tags: set.tags,
      ...(set.expectedBucketOwner ? { expectedBucketOwner: set.expectedBucketOwner } : {}),
      ...(set.reason ? { 'seclab:statusReason': set.reason } : {}),
      ...(set.parsed ? { 'seclab:entries': set.parsed.entries } : {}),
    };
  }

  // ---- detectors ----

  private features(p: Record<string, unknown>, det: Detector | undefined, now: number): Map<Feature, FeatureState> {
    const out = new Map<Feature, FeatureState>(det ? [...det.features].map(([k, v]) => [k, { ...v, additional: new Map(v.additional) }]) : FEATURES.map((f) => [f, { status: 'DISABLED', updatedAt: now, additional: new Map() }]));
    const set = (f: Feature, status: 'ENABLED' | 'DISABLED') => {
      const cur = out.get(f)!;
      if (cur.status !== status) out.set(f, { ...cur, status, updatedAt: now });
    };
    const raw = p['features'];
    const ds = p['dataSources'];
    if (raw !== undefined && ds !== undefined) throw badRequest('the request specifies both dataSources and features; use features (dataSources is the older form).');
    if (raw !== undefined) {
      if (!Array.isArray(raw)) throw badRequest('features must be a list of {name, status, additionalConfiguration}.');
      const seen = new Set<string>();
      for (const item of raw as JsonObject[]) {
        const name = oneOf(item, 'name', FEATURES, true)!;
        const status = oneOf(item, 'status', ['ENABLED', 'DISABLED'] as const) ?? out.get(name)!.status;
        if (seen.has(name)) throw badRequest(`the feature ${name} is given more than once.`);
        seen.add(name);
        set(name, status);
        const extra = item['additionalConfiguration'];
        if (extra !== undefined) {
          const allowed = ADDITIONAL[name] ?? [];
          if (!Array.isArray(extra)) throw badRequest(`features.${name}.additionalConfiguration must be a list.`);
          if (!allowed.length && extra.length) throw badRequest(`the feature ${name} takes no additionalConfiguration.`);
          for (const a of extra as JsonObject[]) {
            const an = oneOf(a, 'name', allowed, true)!;
            const as = oneOf(a, 'status', ['ENABLED', 'DISABLED'] as const, true)!;
            const cur = out.get(name)!.additional.get(an);
            if (cur?.status !== as) out.get(name)!.additional.set(an, { status: as, updatedAt: now });
          }
        }
      }
      if (seen.has('EKS_RUNTIME_MONITORING') && seen.has('RUNTIME_MONITORING')) throw badRequest('both EKS_RUNTIME_MONITORING and RUNTIME_MONITORING are specified; RUNTIME_MONITORING includes EKS, give one of them.');
    }
    if (ds !== undefined) {
      if (!ds || typeof ds !== 'object') throw badRequest('dataSources must be an object.');
      const d = ds as { s3Logs?: { enable?: unknown }; kubernetes?: { auditLogs?: { enable?: unknown } }; malwareProtection?: { scanEc2InstanceWithFindings?: { ebsVolumes?: unknown } } };
      const flag = (v: unknown, what: string): 'ENABLED' | 'DISABLED' => {
        if (typeof v !== 'boolean') throw badRequest(`dataSources.${what} must be true or false.`);
        return v ? 'ENABLED' : 'DISABLED';
      };
      if (d.s3Logs) set('S3_DATA_EVENTS', flag(d.s3Logs.enable, 's3Logs.enable'));
      if (d.kubernetes?.auditLogs) set('EKS_AUDIT_LOGS', flag(d.kubernetes.auditLogs.enable, 'kubernetes.auditLogs.enable'));
      if (d.malwareProtection?.scanEc2InstanceWithFindings) set('EBS_MALWARE_PROTECTION', flag(d.malwareProtection.scanEc2InstanceWithFindings.ebsVolumes, 'malwareProtection.scanEc2InstanceWithFindings.ebsVolumes'));
    }
    return out;
  }

  private describeDetector(s: RegionState, d: Detector): JsonObject {
    const st = (f: Feature) => d.features.get(f)!.status;
    const role = `arn:aws:iam::${s.account}:role/aws-service-role/guardduty.amazonaws.com/${ROLE}`;
    return {
      createdAt: iso(d.createdAt), updatedAt: iso(d.updatedAt), findingPublishingFrequency: d.frequency, serviceRole: role, status: d.enabled ? 'ENABLED' : 'DISABLED', tags: d.tags,
      dataSources: {
        cloudTrail: { status: 'ENABLED' }, dnsLogs: { status: 'ENABLED' }, flowLogs: { status: 'ENABLED' }, s3Logs: { status: st('S3_DATA_EVENTS') },
        kubernetes: { auditLogs: { status: st('EKS_AUDIT_LOGS') } },
        malwareProtection: { scanEc2InstanceWithFindings: { ebsVolumes: { status: st('EBS_MALWARE_PROTECTION') } }, serviceRole: `arn:aws:iam::${s.account}:role/aws-service-role/malware-protection.guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDutyMalwareProtection` },
      },
      features: [
        ...FOUNDATIONAL.map((name) => ({ name, status: 'ENABLED', updatedAt: epoch(d.createdAt) })),
        ...[...d.features].map(([name, f]) => ({
          name, status: f.status, updatedAt: epoch(f.updatedAt),
          ...(ADDITIONAL[name] ? { additionalConfiguration: [...f.additional].map(([an, a]) => ({ name: an, status: a.status, updatedAt: epoch(a.updatedAt) })) } : {}),
        })),
      ],
      'seclab:emulated': true,
    };
  }

  // ---- filters ----

  private checkFilter(s: RegionState, p: Record<string, unknown>, before: Filter | undefined, now: number): Filter {
    const name = before?.name ?? str(p, 'name', { required: true, min: 3, max: 64, pattern: /^[A-Za-z0-9_.-]+$/ })!;
    if (!before && s.filters.has(name)) throw badRequest(`a filter named ${name} already exists; choose another name or use UpdateFilter.`);
    if (!before && s.filters.size >= MAX_FILTERS) throw badRequest(`the number of filters exceeded the limit (${MAX_FILTERS} per account and Region).`);
    const action = oneOf(p, 'action', ['NOOP', 'ARCHIVE'] as const) ?? before?.action ?? 'NOOP';
    const description = str(p, 'description', { max: 512 }) ?? before?.description;
    let rank = p['rank'] === undefined || p['rank'] === null ? undefined : p['rank'];
    if (rank !== undefined && (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 1 || rank > 100)) throw badRequest('rank must be an integer from 1 through 100.');
    const criteria = p['findingCriteria'] ?? before?.criteria;
    if (criteria === undefined) throw badRequest('the findingCriteria is missing (it is required).');
    checkCriteria(criteria);
    return {
      name, action, rank: (rank as number | undefined) ?? before?.rank ?? s.filters.size + 1, ...(description !== undefined ? { description } : {}),
      criteria: criteria as JsonObject, createdAt: before?.createdAt ?? now, updatedAt: now, version: (before?.version ?? 0) + 1, tags: before?.tags ?? tagsOf(p['tags']),
    };
  }

  // ---- statistics ----

  private statistics(s: RegionState, p: Record<string, unknown>): JsonObject {
    checkCriteria(p['findingCriteria']);
    const types = p['findingStatisticTypes'];
    const groupBy = oneOf(p, 'groupBy', ['ACCOUNT', 'DATE', 'FINDING_TYPE', 'RESOURCE', 'SEVERITY'] as const);
    if (types === undefined && !groupBy) throw badRequest('neither findingStatisticTypes nor groupBy is given; give one of them.');
    if (types !== undefined && (!Array.isArray(types) || types.some((t) => t !== 'COUNT_BY_SEVERITY'))) throw badRequest('findingStatisticTypes must be ["COUNT_BY_SEVERITY"].');
    const list = [...s.findings.values()].filter((f) => matches(eventDetail(f), p['findingCriteria']));
    const out: JsonObject = {};
    if (types !== undefined) {
      const counts: Record<string, number> = {};
      for (const f of list) counts[f.severity.toFixed(1)] = (counts[f.severity.toFixed(1)] ?? 0) + 1;
      out['countBySeverity'] = counts;
    }
    if (groupBy) {
      let raw = p['maxResults'];
      if (raw !== undefined && (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1 || raw > 100)) throw badRequest('maxResults must be an integer from 1 through 100.');
      const max = (raw as number | undefined) ?? 25;
      const order = oneOf(p, 'orderBy', ['ASC', 'DESC'] as const) ?? 'DESC';
      const groups = new Map<string, { total: number; last: number; severity: number; sample: Finding }>();
      const keyOf = (f: Finding): string => {
        switch (groupBy) {
          case 'ACCOUNT': return f.accountId;
          case 'DATE': return f.updatedAt.slice(0, 10);
          case 'FINDING_TYPE': return f.type;
          case 'SEVERITY': return String(f.severity);
          default: return resourceId(f);
        }
      };
      for (const f of list) {
        const k = keyOf(f);
        const g = groups.get(k) ?? { total: 0, last: 0, severity: 0, sample: f };
        g.total++;
        g.last = Math.max(g.last, Date.parse(f.updatedAt));
        g.severity = Math.max(g.severity, f.severity);
        groups.set(k, g);
      }
      const sorted = [...groups].sort((a, b) => (a[1].total - b[1].total) * (order === 'ASC' ? 1 : -1) || (a[0] < b[0] ? -1 : 1)).slice(0, max);
      const row = ([k, g]: [string, { total: number; last: number; severity: number; sample: Finding }]): JsonObject => {
        const common = { lastGeneratedAt: epoch(g.last), totalFindings: g.total };
        switch (groupBy) {
          case 'ACCOUNT': return { accountId: k, ...common };
          case 'DATE': return { date: epoch(Date.parse(`${k}T00:00:00Z`)), severity: g.severity, ...common };
          case 'FINDING_TYPE': return { findingType: k, ...common };
          case 'SEVERITY': return { severity: Number(k), ...common };
          default: return { accountId: g.sample.accountId, resourceId: k, resourceType: String(g.sample.resource['resourceType'] ?? ''), ...common };
        }
      };
      const member = { ACCOUNT: 'groupedByAccount', DATE: 'groupedByDate', FINDING_TYPE: 'groupedByFindingType', RESOURCE: 'groupedByResource', SEVERITY: 'groupedBySeverity' }[groupBy];
      out[member] = sorted.map(row);
    }
    return { findingStatistics: out };
  }

  // ---- the API ----

  private async serve(ctx: CallContext): Promise<Reply> {
    const { call, cred, requestId } = ctx;
    const p = call.params;
    const s = this.of(cred.account, call.region);
    const ok = (v: unknown = {}): Reply => jsonResult(v, requestId, 'application/json');
    const now = this.caps.clock.nowMs();
    const op = call.operation;
    switch (op) {
      case 'CreateDetector': {
        const enable = bool(p, 'enable', true)!;
        const token = this.retried(s, op, p);
        if (token && s.detector?.id === token) return ok({ detectorId: token });
        if (s.detector) throw badRequest('a detector already exists for the current account.');
        const frequency = oneOf(p, 'findingPublishingFrequency', Object.keys(FREQUENCIES) as Frequency[]) ?? 'SIX_HOURS';
        const features = this.features(p, undefined, now);
        s.detector = { id: this.nextId(s, 'detector'), enabled: enable, frequency, createdAt: now, updatedAt: now, features, tags: tagsOf(p['tags']) };
        this.remember(s, op, p, s.detector.id);
        return ok({ detectorId: s.detector.id });
      }
      case 'ListDetectors': {
        const { items, nextToken } = page(s.detector ? [s.detector.id] : [], p);
        return ok({ detectorIds: items, ...(nextToken ? { nextToken } : {}) });
      }
      case 'TagResource':
      case 'UntagResource':
      case 'ListTagsForResource': {
        const arn = String(p['ResourceArn'] ?? '');
        const tags = this.tagsAt(s, arn);
        if (!tags) throw new ApiError(400, 'BadRequestException', NO_SUCH);
        if (op === 'TagResource') {
          const add = tagsOf(p['tags']);
          if (Object.keys({ ...tags, ...add }).length > 50) throw badRequest('a resource can have at most 50 tags.');
          Object.assign(tags, add);
        }
        if (op === 'UntagResource') for (const k of [p['TagKeys'] ?? p['tagKeys']].flat()) delete tags[String(k)];
        return op === 'ListTagsForResource' ? ok({ tags }) : ok({});
      }
      // Member and organization calls: this account administers none and has no administrator.
      case 'ListInvitations':
        return ok({ invitations: [] });
      case 'GetInvitationsCount':
        return ok({ invitationsCount: 0 });
      case 'ListOrganizationAdminAccounts':
        return ok({ adminAccounts: [] });
      default:
        break;
    }
    // Everything else names the detector.
    const det = s.detector;
    if (!det || p['DetectorId'] !== det.id) throw new ApiError(400, 'BadRequestException', NOT_OWNED);
    switch (op) {
      case 'GetDetector':
        return ok(this.describeDetector(s, det));
      case 'UpdateDetector': {
        const enable = bool(p, 'enable');
        const frequency = oneOf(p, 'findingPublishingFrequency', Object.keys(FREQUENCIES) as Frequency[]);
        det.features = this.features(p, det, now);
        if (enable !== undefined) det.enabled = enable;
        if (frequency) det.frequency = frequency;
        det.updatedAt = now;
        return ok({});
      }
      case 'DeleteDetector':
        // Deleting the detector deletes its findings, filters and lists (GuardDuty User Guide, "Suspending or disabling GuardDuty").
        this.state.delete(`${cred.account}|${call.region}`);
        return ok({});
      case 'ListMembers':
        return ok({ members: [] });
      case 'GetMasterAccount':
      case 'GetAdministratorAccount':
        return ok({});
      case 'ListPublishingDestinations':
        return ok({ destinations: [] });
      case 'CreateSampleFindings': {
        const raw = p['findingTypes'];
        if (raw !== undefined && (!Array.isArray(raw) || raw.some((t) => typeof t !== 'string'))) throw badRequest('findingTypes must be a list of finding types.');
        const wanted = (raw as string[] | undefined)?.length ? (raw as string[]) : Object.keys(TYPES);
        const unknown = wanted.filter((t) => !TYPES[t]);
        if (unknown.length) throw badRequest(`the finding type ${unknown.join(', ')} is not valid or not generated by the lab cloud (supported: ${Object.keys(TYPES).join(', ')}).`);
        for (const t of wanted) await this.occur(s, sampleDraft(t, s.account));
        return ok({});
      }
      case 'ListFindings': {
        checkCriteria(p['findingCriteria']);
        const all = sortFindings([...s.findings.values()].filter((f) => matches(eventDetail(f), p['findingCriteria'])), p['sortCriteria']);
        const { items, nextToken } = page(all, p);
        return ok({ findingIds: items.map((f) => f.id), ...(nextToken ? { nextToken } : {}) });
      }
      case 'GetFindings': {
        const want = ids(p, 'findingIds', 50);
        const found = want.map((id) => s.findings.get(id)).filter((f): f is Finding => !!f);
        return ok({ findings: p['sortCriteria'] ? sortFindings(found, p['sortCriteria']) : found });
      }
      case 'GetFindingsStatistics':
        return ok(this.statistics(s, p));
      case 'ArchiveFindings':
      case 'UnarchiveFindings': {
        const want = ids(p, 'findingIds', 50);
        const missing = want.filter((id) => !s.findings.has(id));
        if (missing.length) throw badRequest(`the finding ids ${missing.join(', ')} do not exist for detector ${det.id}.`);
        for (const id of want) {
          const f = s.findings.get(id)!;
          f.service.archived = op === 'ArchiveFindings';
          f.updatedAt = iso(now);
        }
        return ok({});
      }
      case 'UpdateFindingsFeedback': {
        const want = ids(p, 'findingIds', 50);
        const feedback = oneOf(p, 'feedback', ['USEFUL', 'NOT_USEFUL'] as const, true)!;
        const comments = str(p, 'comments', { max: 4000 });
        const missing = want.filter((id) => !s.findings.has(id));
        if (missing.length) throw badRequest(`the finding ids ${missing.join(', ')} do not exist for detector ${det.id}.`);
        for (const id of want) {
          const f = s.findings.get(id)!;
          f.service.userFeedback = feedback;
          if (comments !== undefined) f['seclab:feedbackComments'] = comments;
        }
        return ok({});
      }
      case 'CreateFilter': {
        const token = this.retried(s, op, p);
        if (token && s.filters.has(token)) return ok({ name: token });
        const f = this.checkFilter(s, p, undefined, now);
        s.filters.set(f.name, f);
        this.remember(s, op, p, f.name);
        return ok({ name: f.name });
      }
      case 'GetFilter': {
        const f = s.filters.get(String(p['FilterName']));
        if (!f) throw new ApiError(400, 'BadRequestException', NO_SUCH);
        return ok({ name: f.name, action: f.action, rank: f.rank, findingCriteria: f.criteria, tags: f.tags, createdAt: epoch(f.createdAt), updatedAt: epoch(f.updatedAt), version: f.version, ...(f.description !== undefined ? { description: f.description } : {}) });
      }
      case 'UpdateFilter': {
        const before = s.filters.get(String(p['FilterName']));
        if (!before) throw new ApiError(400, 'BadRequestException', NO_SUCH);
        const f = this.checkFilter(s, p, before, now);
        s.filters.set(f.name, f);
        return ok({ name: f.name });
      }
      case 'DeleteFilter': {
        if (!s.filters.delete(String(p['FilterName']))) throw new ApiError(400, 'BadRequestException', NO_SUCH);
        return ok({});
      }
      case 'ListFilters': {
        const all = [...s.filters.values()].sort((a, b) => a.rank - b.rank || (a.name < b.name ? -1 : 1)).map((f) => f.name);
        const { items, nextToken } = page(all, p);
        return ok({ filterNames: items, ...(nextToken ? { nextToken } : {}) });
      }
      case 'CreateIPSet':
      case 'CreateThreatIntelSet': {
        const threat = op === 'CreateThreatIntelSet';
        const token = this.retried(s, op, p);
        const id = token && (threat ? s.threatSets : s.ipSets).has(token) ? token : await this.createSet(s, p, threat);
        this.remember(s, op, p, id);
        return ok(threat ? { threatIntelSetId: id } : { ipSetId: id });
      }
      case 'GetIPSet':
      case 'GetThreatIntelSet':
        return ok(this.describeSet(this.findSet(s, p, op === 'GetThreatIntelSet')));
      case 'UpdateIPSet':
      case 'UpdateThreatIntelSet': {
        const threat = op === 'UpdateThreatIntelSet';
        await this.updateSet(s, this.findSet(s, p, threat), p, threat);
        return ok({});
      }
      case 'DeleteIPSet':
      case 'DeleteThreatIntelSet': {
        const threat = op === 'DeleteThreatIntelSet';
        const set = this.findSet(s, p, threat);
        (threat ? s.threatSets : s.ipSets).delete(set.id);
        return ok({});
      }
      case 'ListIPSets':
      case 'ListThreatIntelSets': {
        const threat = op === 'ListThreatIntelSets';
        const { items, nextToken } = page([...(threat ? s.threatSets : s.ipSets).keys()], p);
        return ok({ [threat ? 'threatIntelSetIds' : 'ipSetIds']: items, ...(nextToken ? { nextToken } : {}) });
      }
      default:
        throw new ApiError(501, 'NotImplemented', `${op} is not available in the lab cloud's GuardDuty (it serves detectors, findings and sample findings, statistics, feedback, filters, IP sets, threat intel sets and tags; see docs/guardduty.md).`);
    }
  }

  /** What an earlier call with the same clientToken created (undefined: a first call, or no token). */
  private retried(s: RegionState, op: string, p: Record<string, unknown>): string | undefined {
    const token = p['clientToken'];
    return typeof token === 'string' && token ? s.tokens.get(`${op}|${token}`) : undefined;
  }

  private remember(s: RegionState, op: string, p: Record<string, unknown>, id: string): void {
    const token = p['clientToken'];
    if (typeof token === 'string' && token) s.tokens.set(`${op}|${token}`, id);
  }

  private findSet(s: RegionState, p: Record<string, unknown>, threat: boolean): ListSet {
    const id = String((threat ? p['ThreatIntelSetId'] : p['IpSetId']) ?? '');
    const set = (threat ? s.threatSets : s.ipSets).get(id);
    if (!set) throw new ApiError(400, 'BadRequestException', NO_SUCH);
    return set;
  }

  /** The tags of a detector, filter, IP set or threat intel set by ARN (undefined: not this account's). */
  private tagsAt(s: RegionState, arn: string): Record<string, string> | undefined {
    const det = s.detector;
    if (!det) return undefined;
    const base = `arn:aws:guardduty:${s.region}:${s.account}:detector/${det.id}`;
    if (arn === base) return det.tags;
    if (!arn.startsWith(`${base}/`)) return undefined;
    const [type, id] = arn.slice(base.length + 1).split('/');
    if (type === 'filter') return s.filters.get(id ?? '')?.tags;
    if (type === 'ipset') return s.ipSets.get(id ?? '')?.tags;
    if (type === 'threatintelset') return s.threatSets.get(id ?? '')?.tags;
    return undefined;
  }
}

/** The resource a finding concerns, for grouping: access key, instance or bucket. */
function resourceId(f: Finding): string {
  return String(
    valuesAt(f, 'resource.s3BucketDetails.name')[0]
      ?? valuesAt(f, 'resource.instanceDetails.instanceId')[0]
      ?? valuesAt(f, 'resource.accessKeyDetails.accessKeyId')[0]
      ?? '',
  );
}

declare module '../../gateway/service.ts' {
  interface LabServices {
    guardduty: GuardDutyService;
  }
}

export const guarddutyService = defineService('guardduty', (caps) => new GuardDutyService(caps));
