// GuardDuty findings from behaviour in API calls: CloudTrail management events and S3 data events
// as the gateway records them (GuardDuty User Guide, "GuardDuty IAM finding types", "S3 Protection
// finding types"). docs/guardduty.md says how each type is produced; in short:
//
// - UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS (High): a role session
//   that an instance's metadata service issued (ec2/imds.ts `issuedTo`) calls from an address that
//   belongs to no instance, NAT gateway or Elastic IP of the lab cloud. `.InsideAWS` (High): from
//   an address of another account's instance (AWS: "an IP address that is owned by a different AWS
//   account"; service.action.awsApiCallAction.remoteAccountDetails names it). From any address of
//   the instance's own account (itself, another of its instances, its NAT gateway): nothing, as on
//   AWS. S3 data events count only with the detector's S3_DATA_EVENTS feature.
// - Recon:/UnauthorizedAccess:IAMUser/MaliciousIPCaller (Medium): a management event from an address
//   GuardDuty's own intelligence (intel.ts) knows as a malicious caller; Recon for Get/List/Describe.
// - Discovery:S3/AnomalousBehavior (Low) and Exfiltration:S3/AnomalousBehavior (High), with the
//   S3_DATA_EVENTS feature only: each principal (IAM user, role, root) is profiled for
//   `host.learningMs` from its first call seen by the detector; after that, a discovery API it never
//   called while learning, or more list calls / object reads in one sliding hour than FACTOR times
//   its busiest learned hour (and at least MIN_LISTS / MIN_READS), is reported. additionalInfo
//   carries what was unusual and the profiled baseline (anomalies, profiledBehavior, unusualBehavior,
//   as AWS's anomaly findings do) with the baseline period.
//
// Callers on an ACTIVE trusted IP list get no finding. Deterministic: the lab clock only.
import type { CallOutcome } from '../../gateway/service.ts';
import type { Credential } from '../../gateway/credentials.ts';
import { accessKeyResource, remoteIp, type Actor, type Draft, type JsonObject } from './findings.ts';
import type { BehaviourSource, GuardDutyHost } from './sources.ts';

/** Tunables of the S3 anomaly profiles (exported for tests and docs). */
export const S3_ANOMALY = {
  /** The sliding window volumes are counted in. */
  windowMs: 3600_000,
  /** A window is unusual above FACTOR times the busiest window learned... */
  factor: 4,
  /** ...and above these absolute counts (a principal that read 2 objects an hour may read 40). */
  minReads: 50,
  minLists: 20,
} as const;

/** S3 calls that list or describe buckets and objects (Discovery). */
const S3_LISTS = new Set(['ListObjects', 'ListObjectsV2', 'ListObjectVersions', 'ListMultipartUploads', 'ListParts']);
const S3_DISCOVERY = new Set([
  ...S3_LISTS, 'ListBuckets', 'GetBucketAcl', 'GetBucketPolicy', 'GetBucketPolicyStatus', 'GetBucketLocation', 'GetBucketLogging',
  'GetBucketPublicAccessBlock', 'GetBucketVersioning', 'GetBucketEncryption', 'GetBucketTagging', 'GetBucketWebsite', 'GetBucketCors',
  'GetBucketLifecycleConfiguration', 'GetBucketReplication', 'GetBucketOwnershipControls', 'GetObjectAcl',
]);
/** S3 calls that read object data (Exfiltration). */
const S3_READS = new Set(['GetObject', 'GetObjectTorrent', 'SelectObjectContent']);
const RECON = /^(Get|List|Describe)/;
/** EC2 calls after which an account's addresses may have changed. */
const EC2_READONLY = /^(Describe|Get|List)/;
/** How long an account's addresses are reused (lab clock); any EC2 change in the account drops them sooner. */
const ADDRESS_TTL_MS = 5 * 60_000;

/** An S3 data event (CloudTrail: object-level calls and object listings). */
export function isS3DataEvent(call: { service: string; operation: string; params: Record<string, unknown> }): boolean {
  return call.service === 's3' && (call.params['Key'] !== undefined || S3_LISTS.has(call.operation) || S3_READS.has(call.operation));
}

function actorOf(cred: Credential): Actor {
  if (cred.kind === 'root') return { accessKeyId: cred.accessKeyId, principalId: cred.account, userName: 'Root', userType: 'Root' };
  if (cred.kind === 'role-session') return { accessKeyId: cred.accessKeyId, principalId: `${cred.userId ?? cred.roleName ?? ''}:${cred.sessionName ?? ''}`, userName: cred.roleName ?? '', userType: 'AssumedRole' };
  return { accessKeyId: cred.accessKeyId, principalId: cred.userId ?? cred.accessKeyId, userName: cred.userName ?? '', userType: 'IAMUser' };
}

/** The IAM entity a baseline belongs to: a role's sessions share their role's profile. */
function principalOf(cred: Credential): string {
  if (cred.kind === 'role-session') return cred.roleArn ?? cred.arn.replace(/:assumed-role\/([^/]+)\/.*/, ':role/$1');
  return cred.arn;
}

const iso = (ms: number) => new Date(ms).toISOString();

// ---- the S3 profiles ----

interface Window {
  /** Call times in the current sliding window, oldest first. */
  times: number[];
  /** The busiest window while learning. */
  learnedMax: number;
  /** Reported in the current excursion (re-armed once the window falls back under the threshold). */
  alerted: boolean;
}

interface Profile {
  firstSeen: number;
  learnedUntil: number;
  /** Discovery APIs the principal called while learning, with how often. */
  apis: Map<string, number>;
  lists: Window;
  reads: Window;
}

const newWindow = (): Window => ({ times: [], learnedMax: 0, alerted: false });

/** Counts a call in a sliding window; returns the window's count now. */
function slide(w: Window, now: number): number {
  w.times.push(now);
  let drop = 0;
  while (drop < w.times.length && w.times[drop]! <= now - S3_ANOMALY.windowMs) drop++;
  if (drop) w.times.splice(0, drop);
  return w.times.length;
}

export function threshold(learnedMax: number, min: number): number {
  return Math.max(min, S3_ANOMALY.factor * learnedMax);
}

interface AccountState {
  detectorId: string;
  profiles: Map<string, Profile>;
  /** The account's own addresses (instances, NAT gateways, Elastic IPs) and when they were read. */
  addresses?: { at: number; set: Set<string> };
}

export function callBehaviour(host: GuardDutyHost): BehaviourSource {
  const accounts = new Map<string, AccountState>();

  const stateOf = (account: string, region: string, detectorId: string): AccountState => {
    const k = `${account}|${region}`;
    let s = accounts.get(k);
    // A new detector starts from nothing (GuardDuty forgets what a deleted detector learned).
    if (!s || s.detectorId !== detectorId) accounts.set(k, (s = { detectorId, profiles: new Map() }));
    return s;
  };

  const s3Protection = (account: string, region: string): boolean => host.featureEnabled(account, region, 'S3_DATA_EVENTS');

  /** Every address of an account's instances, NAT gateways and Elastic IPs in a Region. */
  const readAddresses = async (account: string, region: string): Promise<Set<string>> => {
    const set = new Set<string>();
    const target = host.caps.target;
    type Eni = { PrivateIpAddress?: string; PrivateIpAddresses?: { PrivateIpAddress?: string; Association?: { PublicIp?: string } }[]; Association?: { PublicIp?: string }; Ipv6Addresses?: { Ipv6Address?: string }[] };
    const inst = await target.json<{ Reservations?: { Instances?: { State?: { Name?: string }; PrivateIpAddress?: string; PublicIpAddress?: string; Ipv6Address?: string; NetworkInterfaces?: Eni[] }[] }[] }>(
      account, 'ec2', 'DescribeInstances', {}, region).catch(() => ({ Reservations: [] }));
    for (const i of (inst.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
      if (i.State?.Name === 'terminated') continue;
      for (const a of [i.PrivateIpAddress, i.PublicIpAddress, i.Ipv6Address]) if (a) set.add(a);
      for (const n of i.NetworkInterfaces ?? []) {
        for (const a of [n.PrivateIpAddress, n.Association?.PublicIp, ...(n.PrivateIpAddresses ?? []).flatMap((p) => [p.PrivateIpAddress, p.Association?.PublicIp]), ...(n.Ipv6Addresses ?? []).map((x) => x.Ipv6Address)]) if (a) set.add(a);
      }
    }
    const nat = await target.json<{ NatGateways?: { State?: string; NatGatewayAddresses?: { PublicIp?: string; PrivateIp?: string }[] }[] }>(account, 'ec2', 'DescribeNatGateways', {}, region).catch(() => ({ NatGateways: [] }));
    for (const g of nat.NatGateways ?? []) if (g.State !== 'deleted') for (const a of g.NatGatewayAddresses ?? []) for (const x of [a.PublicIp, a.PrivateIp]) if (x) set.add(x);
    const eips = await target.json<{ Addresses?: { PublicIp?: string }[] }>(account, 'ec2', 'DescribeAddresses', {}, region).catch(() => ({ Addresses: [] }));
    for (const a of eips.Addresses ?? []) if (a.PublicIp) set.add(a.PublicIp);
    return set;
  };

  const ownAddresses = async (s: AccountState, account: string, region: string): Promise<Set<string>> => {
    const now = host.caps.clock.nowMs();
    if (!s.addresses || now - s.addresses.at > ADDRESS_TTL_MS || now < s.addresses.at) s.addresses = { at: now, set: await readAddresses(account, region) };
    return s.addresses.set;
  };

  /** Recent answers of otherAccountAt (a stolen key calls many times from one address; a lab cloud may hold many accounts). */
  const elsewhere = new Map<string, { at: number; account?: string }>();

  /** The other account of the lab cloud whose instance (or NAT gateway, Elastic IP) has this address. */
  const otherAccountAt = async (ip: string, account: string): Promise<string | undefined> => {
    // Private addresses repeat from VPC to VPC: only a public address names another account.
    if (isPrivate(ip)) return undefined;
    const now = host.caps.clock.nowMs();
    const k = `${account}|${ip}`;
    const hit = elsewhere.get(k);
    if (hit && now >= hit.at && now - hit.at <= ADDRESS_TTL_MS) return hit.account;
    let launched: Array<{ account: string; region: string }> = [];
    try {
      launched = host.caps.service('ec2').imds.launchedIn();
    } catch {
      return undefined;
    }
    let found: string | undefined;
    for (const o of launched.filter((x) => x.account !== account).sort((a, b) => (a.account + a.region < b.account + b.region ? -1 : 1))) {
      if ((await readAddresses(o.account, o.region)).has(ip)) {
        found = o.account;
        break;
      }
    }
    if (elsewhere.size > 10_000) elsewhere.clear();
    elsewhere.set(k, { at: now, ...(found ? { account: found } : {}) });
    return found;
  };

  const apiAction = (o: CallOutcome, extra: JsonObject = {}): JsonObject => ({
    actionType: 'AWS_API_CALL',
    awsApiCallAction: {
      api: o.call.operation, serviceName: `${o.call.service}.amazonaws.com`, callerType: 'Remote IP', remoteIpDetails: remoteIp(o.sourceIp, false),
      userAgent: o.userAgent, ...(o.error ? { errorCode: o.error.code } : {}), affectedResources: {}, ...extra,
    },
  });

  const who = (a: Actor) => (a.userType === 'Root' ? 'Root' : a.userName);

  async function exfiltration(o: CallOutcome, s: AccountState): Promise<Draft | undefined> {
    const { cred } = o;
    if (cred.kind !== 'role-session') return undefined;
    let issued: { account: string; region: string; instanceId: string } | undefined;
    try {
      issued = host.caps.service('ec2').imds.issuedTo(cred.accessKeyId);
    } catch {
      return undefined;
    }
    if (!issued) return undefined;
    const ip = o.sourceIp;
    // The instance's own account: the instance itself, its other instances, its NAT gateways and EIPs.
    const own = issued.account === o.cred.account && issued.region === o.call.region ? await ownAddresses(s, issued.account, issued.region) : await readAddresses(issued.account, issued.region);
    if (own.has(ip)) return undefined;
    const other = await otherAccountAt(ip, issued.account);
    const actor = actorOf(cred);
    const type = other ? 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS' : 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS';
    const extra: JsonObject = other ? { remoteAccountDetails: { accountId: other, affiliated: false } } : {};
    if (o.call.service === 's3' && o.call.params['Bucket'] !== undefined) extra['affectedResources'] = { 'AWS::S3::Bucket': String(o.call.params['Bucket']) };
    return {
      type, resource: accessKeyResource(actor), action: apiAction(o, extra), resourceRole: 'TARGET',
      additionalInfo: { userAgent: { fullUserAgent: o.userAgent }, instanceId: issued.instanceId, ...(cred.ec2RoleDelivery ? { ec2RoleDelivery: cred.ec2RoleDelivery } : {}) },
      vars: { api: o.call.operation, ip, user: actor.userName },
      key: `exfil|${type}|${actor.accessKeyId}|${ip}`,
    };
  }

  function maliciousCaller(o: CallOutcome): Draft | undefined {
    if (isS3DataEvent(o.call)) return undefined;
    if (!host.intel.address(o.sourceIp).includes('malicious-caller')) return undefined;
    const actor = actorOf(o.cred);
    const api = o.call.operation;
    const type = RECON.test(api) ? 'Recon:IAMUser/MaliciousIPCaller' : 'UnauthorizedAccess:IAMUser/MaliciousIPCaller';
    const list = host.intel.feedOf(o.sourceIp, 'malicious-caller') ?? 'ProofPoint';
    return {
      type, resource: accessKeyResource(actor), action: apiAction(o), resourceRole: 'TARGET',
      additionalInfo: { userAgent: { fullUserAgent: o.userAgent }, threatListName: list },
      evidence: { threatIntelligenceDetails: [{ threatListName: list, threatNames: [] }] },
      vars: { api, ip: o.sourceIp, user: who(actor), list },
      key: `intel|${type}|${actor.accessKeyId}|${o.sourceIp}`,
    };
  }

  function s3Anomalies(o: CallOutcome, s: AccountState): Draft[] {
    const api = o.call.operation;
    const discovery = S3_DISCOVERY.has(api);
    const read = S3_READS.has(api);
    if (o.call.service !== 's3' || (!discovery && !read)) return [];
    const now = host.caps.clock.nowMs();
    const principal = principalOf(o.cred);
    let p = s.profiles.get(principal);
    if (!p) s.profiles.set(principal, (p = { firstSeen: now, learnedUntil: now + host.learningMs, apis: new Map(), lists: newWindow(), reads: newWindow() }));
    const learning = now < p.learnedUntil;
    const drafts: Draft[] = [];
    const actor = actorOf(o.cred);
    const bucket = o.call.params['Bucket'] !== undefined ? String(o.call.params['Bucket']) : undefined;
    const baseline = (): JsonObject => ({
      baselinePeriod: { start: iso(p!.firstSeen), end: iso(p!.learnedUntil) },
      profiledAPIs: Object.fromEntries([...p!.apis].sort((a, b) => (a[0] < b[0] ? -1 : 1))),
      maxListCallsPerHour: p!.lists.learnedMax, maxObjectReadsPerHour: p!.reads.learnedMax,
    });
    const draft = (type: string, key: string, unusual: JsonObject): Draft => {
      const resource = accessKeyResource(actor);
      if (bucket) {
        resource['resourceType'] = 'S3Bucket';
        resource['s3BucketDetails'] = [{ arn: `arn:aws:s3:::${bucket}`, name: bucket, type: 'Destination' }];
      }
      return {
        type, resource, resourceRole: 'TARGET',
        action: apiAction(o, bucket ? { affectedResources: { 'AWS::S3::Bucket': bucket } } : {}),
        additionalInfo: {
          userAgent: { fullUserAgent: o.userAgent },
          anomalies: { anomalousAPIs: `s3.amazonaws.com:[${api}:${o.error ? 'failed' : 'success'}]` },
          unusualBehavior: unusual,
          profiledBehavior: baseline(),
          'seclab:baselinePeriod': `${iso(p!.firstSeen)}/${iso(p!.learnedUntil)}`,
        },
        vars: { api, ip: o.sourceIp, user: who(actor) },
        key: `s3|${type}|${principal}|${key}`,
      };
    };
    const volume = (w: Window, min: number, type: string, what: string): void => {
      const n = slide(w, now);
      if (learning) {
        w.learnedMax = Math.max(w.learnedMax, n);
        return;
      }
      const limit = threshold(w.learnedMax, min);
      if (n <= limit) {
        w.alerted = false;
        return;
      }
      if (w.alerted) return;
      w.alerted = true;
      drafts.push(draft(type, what, { [what]: n, [`${what}Threshold`]: limit, windowMinutes: S3_ANOMALY.windowMs / 60_000 }));
    };
    if (discovery) {
      if (learning) p.apis.set(api, (p.apis.get(api) ?? 0) + 1);
      else if (!p.apis.has(api)) drafts.push(draft('Discovery:S3/AnomalousBehavior', `api|${api}`, { isUnusualAPI: true, api }));
      if (S3_LISTS.has(api) || api === 'ListBuckets') volume(p.lists, S3_ANOMALY.minLists, 'Discovery:S3/AnomalousBehavior', 'listCallsInHour');
    }
    if (read) volume(p.reads, S3_ANOMALY.minReads, 'Exfiltration:S3/AnomalousBehavior', 'objectReadsInHour');
    return drafts;
  }

  return {
    async observe(o: CallOutcome): Promise<void> {
      const account = o.cred.account;
      const region = o.call.region;
      const det = host.enabledDetector(account, region);
      if (!det) return;
      const s = stateOf(account, region, det.id);
      // An EC2 change in the account may move its addresses.
      if (o.call.service === 'ec2' && !o.error && !EC2_READONLY.test(o.call.operation)) s.addresses = undefined;
      if (host.trusted(account, region, o.sourceIp)) return;
      const dataEvent = isS3DataEvent(o.call);
      const s3 = s3Protection(account, region);
      if (dataEvent && !s3) return;
      const drafts: Draft[] = [];
      const exfil = await exfiltration(o, s);
      if (exfil) drafts.push(exfil);
      const intel = maliciousCaller(o);
      if (intel) drafts.push(intel);
      if (s3) drafts.push(...s3Anomalies(o, s));
      for (const d of drafts) await host.report(account, region, d);
    },
    dropAccount(account: string): void {
      for (const k of [...accounts.keys()]) if (k.startsWith(`${account}|`)) accounts.delete(k);
      // Another account's addresses may have named this one.
      elsewhere.clear();
    },
  };
}

/**
 * RFC 1918, link-local, CGNAT and IPv6 unique-local/link-local addresses. Not 127.0.0.0/8: moto hands
 * out instances' public addresses and Elastic IPs from it.
 */
function isPrivate(ip: string): boolean {
  if (ip.includes(':')) return /^(fc|fd|fe80)/i.test(ip);
  const [a, b] = ip.split('.').map(Number);
  return a === 10 || (a === 172 && b! >= 16 && b! < 32) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b! >= 64 && b! < 128);
}
