// GuardDuty findings from DNS logs: the instances' lookups through the VPC resolver, which GuardDuty
// reads through its own stream whether or not the customer configured Route 53 Resolver query logging
// (GuardDuty User Guide, "Foundational data sources"; here `route53resolver.onQueries`). Each finding
// concerns the instance that asked (resource.instanceDetails of the real instance, resourceRole ACTOR)
// with a DNS_REQUEST action (domain, domainWithSuffix, protocol UDP, blocked false), and is made only
// for an enabled detector (host.report); a repeat of the same activity raises the finding's count.
//
// - Backdoor:EC2/C&CActivity.B!DNS, CryptoCurrency:EC2/BitcoinTool.B!DNS: the name (or a parent
//   domain) is in GuardDuty's own threat intelligence (intel.ts) as command-and-control or
//   cryptocurrency; the feed's name is the evidence's threatListName.
// - A name (or a parent domain) on one of the account's ACTIVE ThreatIntelSets: reported as
//   Backdoor:EC2/C&CActivity.B!DNS with the customer's list as evidence (threatListName, and
//   additionalInfo.threatListName), the way GuardDuty names customer-list activity by the finding type
//   of the behaviour and the list in the evidence (UnauthorizedAccess:EC2/MaliciousIPCaller.Custom is
//   the flow-log counterpart; GuardDuty has no ".Custom" DNS type). docs/guardduty.md.
// - Trojan:EC2/DNSDataExfiltration: many distinct names under one registered domain whose subdomain
//   labels look like encoded data (long, high entropy, digits mixed with letters) — the shape of DNS
//   tunnelling (iodine, dnscat2, DNSExfiltrator put base32/hex chunks of the data in the labels).
// - Trojan:EC2/DGADomainRequest.B: many distinct registered domains that do not exist (NXDOMAIN) and
//   look machine-generated, asked by one instance in a short time — malware walking its domain
//   generation algorithm's list until one resolves.
//
// Deterministic: decisions depend only on the queries and their lab-clock times.
import { getDomain, getPublicSuffix } from 'tldts';
import type { ResolvedQuery } from '../route53resolver/index.ts';
import type { Draft, JsonObject } from './findings.ts';
import type { BehaviourSource, GuardDutyHost } from './sources.ts';

// ---- DNS data exfiltration ----
/** The sliding window in which encoded names are counted. */
export const EXFIL_WINDOW_MS = 10 * 60_000;
/**
 * Distinct encoded names under one registered domain from one instance within the window. Tunnelling
 * tools send a query per 30 to 200 bytes of data, so even a small file makes dozens; an occasional
 * long hashed name (an antivirus reputation lookup, a CDN object) stays far below.
 */
export const EXFIL_MIN_NAMES = 20;
/** Subdomain characters (without dots) a name needs before it can carry data worth counting. */
export const ENCODED_MIN_CHARS = 24;
/**
 * The longest run of characters between dots, hyphens and underscores: encoders fill labels with one
 * token (base32, hex, base64url, up to 63 characters); AWS's own names carry ids of 17 hex digits at
 * most (vpce-0a1b2c3d4e5f67890) between words (northwind-data-7f3a9c21.s3...), names of many short
 * labels are structure (reverse lookups), not data.
 */
export const ENCODED_MIN_TOKEN = 20;
/**
 * Shannon entropy of that token, bits per character. Base32 of random or compressed data measures
 * 4.2 to 4.8 at these lengths and hex 3.2 to 3.9; words measure 3.0 to 3.9 too, which is why digits
 * must be mixed in as well (next constant).
 */
export const ENCODED_MIN_ENTROPY = 3.2;
/** Share of digits: base32 has 6 digits in 32 symbols (about 19 %), hex 10 in 16; names made of words have few or none. */
export const ENCODED_MIN_DIGITS = 0.1;

// ---- domain generation algorithms ----
export const DGA_WINDOW_MS = 10 * 60_000;
/** Distinct generated-looking registered domains answered NXDOMAIN from one instance within the window. */
export const DGA_MIN_DOMAINS = 10;
/** The registered label (without the public suffix) must be at least this long to be judged. */
export const DGA_MIN_LABEL = 8;
/** Vowels in generated labels are rare (uniform letters give about 19 %); pronounceable names have 30 % or more. */
export const DGA_MAX_VOWELS = 0.25;

/** Bits per character of a string's character distribution. */
export function entropy(s: string): number {
  if (!s) return 0;
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** The registered domain (eTLD+1, Public Suffix List) of a name; undefined for names outside the public DNS. */
export function registeredDomain(name: string): string | undefined {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (n.endsWith('.arpa') || n === 'arpa') return undefined; // reverse lookups: structure, not names
  return getDomain(n, { allowPrivateDomains: false }) ?? undefined;
}

/** Whether a name's subdomain labels look like encoded data (see the constants above). */
export function looksEncoded(name: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  const reg = registeredDomain(n);
  if (!reg || n === reg) return false;
  const sub = n.slice(0, -reg.length - 1);
  if (sub.replace(/\./g, '').length < ENCODED_MIN_CHARS || !/^[a-z0-9_.-]+$/.test(sub)) return false;
  const token = sub.split(/[._-]/).reduce((a, b) => (b.length > a.length ? b : a), '');
  if (token.length < ENCODED_MIN_TOKEN) return false;
  const digits = token.replace(/[^0-9]/g, '').length / token.length;
  return digits >= ENCODED_MIN_DIGITS && entropy(token) >= ENCODED_MIN_ENTROPY;
}

/** Whether a registered domain's own label looks machine-generated (see the DGA constants). */
export function looksGenerated(registered: string): boolean {
  const suffix = getPublicSuffix(registered) ?? '';
  const label = registered.slice(0, registered.length - suffix.length).replace(/\.$/, '');
  if (label.length < DGA_MIN_LABEL || !/^[a-z0-9]+$/.test(label)) return false;
  const letters = label.replace(/[0-9]/g, '');
  if (!letters.length) return false;
  const vowels = letters.replace(/[^aeiouy]/g, '').length / letters.length;
  return vowels <= DGA_MAX_VOWELS && entropy(label) >= 2.8;
}

interface Window {
  /** Distinct names (or domains) seen, with when each was last seen. */
  seen: Map<string, number>;
  lastReport?: number;
}

/** instanceDetails of the real instance, as GuardDuty's findings fill it from EC2. */
interface Ec2Instance {
  InstanceId?: string; InstanceType?: string; LaunchTime?: Date | string; Platform?: string; ImageId?: string;
  ProductCodes?: Array<{ ProductCodeId?: string; ProductCodeType?: string }>;
  IamInstanceProfile?: { Arn?: string; Id?: string };
  State?: { Name?: string };
  Placement?: { AvailabilityZone?: string };
  Tags?: Array<{ Key?: string; Value?: string }>;
  OutpostArn?: string;
  NetworkInterfaces?: Array<{
    NetworkInterfaceId?: string; PrivateDnsName?: string; PrivateIpAddress?: string; SubnetId?: string; VpcId?: string;
    PrivateIpAddresses?: Array<{ PrivateDnsName?: string; PrivateIpAddress?: string }>;
    Ipv6Addresses?: Array<{ Ipv6Address?: string }>;
    Association?: { PublicDnsName?: string; PublicIp?: string };
    Groups?: Array<{ GroupId?: string; GroupName?: string }>;
  }>;
}

function instanceDetails(i: Ec2Instance): JsonObject {
  const launch = i.LaunchTime instanceof Date ? i.LaunchTime.toISOString() : i.LaunchTime;
  return {
    instanceId: i.InstanceId, instanceType: i.InstanceType, ...(launch ? { launchTime: launch } : {}), platform: i.Platform ?? null,
    productCodes: (i.ProductCodes ?? []).map((p) => ({ productCodeId: p.ProductCodeId, productCodeType: p.ProductCodeType })),
    ...(i.IamInstanceProfile?.Arn ? { iamInstanceProfile: { arn: i.IamInstanceProfile.Arn, id: i.IamInstanceProfile.Id } } : {}),
    networkInterfaces: (i.NetworkInterfaces ?? []).map((n) => ({
      ipv6Addresses: (n.Ipv6Addresses ?? []).map((a) => a.Ipv6Address), networkInterfaceId: n.NetworkInterfaceId, privateDnsName: n.PrivateDnsName,
      privateIpAddress: n.PrivateIpAddress, privateIpAddresses: (n.PrivateIpAddresses ?? []).map((a) => ({ privateDnsName: a.PrivateDnsName, privateIpAddress: a.PrivateIpAddress })),
      ...(n.Association?.PublicIp ? { publicDnsName: n.Association.PublicDnsName, publicIp: n.Association.PublicIp } : {}),
      securityGroups: (n.Groups ?? []).map((g) => ({ groupId: g.GroupId, groupName: g.GroupName })), subnetId: n.SubnetId, vpcId: n.VpcId,
    })),
    ...(i.OutpostArn ? { outpostArn: i.OutpostArn } : {}),
    tags: (i.Tags ?? []).map((t) => ({ key: t.Key, value: t.Value })),
    instanceState: i.State?.Name, availabilityZone: i.Placement?.AvailabilityZone, imageId: i.ImageId,
  };
}

export function dnsBehaviour(host: GuardDutyHost): BehaviourSource {
  const exfil = new Map<string, Window>();
  const dga = new Map<string, Window>();
  let unsubscribe: (() => void) | undefined;

  // The resolver may be created after GuardDuty (or be absent from a test's lab cloud): subscribe when it exists.
  const subscribe = (): void => {
    if (unsubscribe) return;
    try {
      unsubscribe = host.caps.service('route53resolver').onQueries((account, region, queries) => host.enqueue(() => analyse(account, region, queries)));
    } catch {
      // no Route 53 Resolver in this lab cloud: no DNS logs
    }
  };

  // An instance's details for a minute of lab time (a beacon's every query need not describe the instance again).
  const described = new Map<string, { at: number; details: JsonObject }>();
  const instanceOf = async (account: string, region: string, id: string): Promise<JsonObject> => {
    const k = `${account}|${region}|${id}`;
    const now = host.caps.clock.nowMs();
    const hit = described.get(k);
    if (hit && now - hit.at < 60_000 && now >= hit.at) return structuredClone(hit.details);
    const r = await host.caps.target
      .json<{ Reservations?: Array<{ Instances?: Ec2Instance[] }> }>(account, 'ec2', 'DescribeInstances', { InstanceIds: [id] }, region)
      .catch(() => ({ Reservations: [] }));
    const i = r.Reservations?.flatMap((x) => x.Instances ?? []).find((x) => x.InstanceId === id);
    const details = instanceDetails(i ?? { InstanceId: id });
    described.set(k, { at: now, details });
    return structuredClone(details);
  };

  const draft = async (q: ResolvedQuery, type: string, key: string, name: string, info: JsonObject, evidenceList?: string): Promise<Draft> => ({
    type,
    resource: { resourceType: 'Instance', instanceDetails: await instanceOf(q.account, q.region, q.instanceId!) },
    resourceRole: 'ACTOR',
    action: {
      actionType: 'DNS_REQUEST',
      dnsRequestAction: { domain: name, protocol: q.record.transport, blocked: false, ...(registeredDomain(name) ? { domainWithSuffix: registeredDomain(name) } : {}), vpcOwnerAccountId: q.account },
    },
    additionalInfo: info,
    ...(evidenceList ? { evidence: { threatIntelligenceDetails: [{ threatListName: evidenceList, threatNames: [] }] } } : {}),
    vars: { instance: q.instanceId!, domain: name },
    key,
  });

  /** The name and its parent domains, longest first, down to the registered domain (or the last two labels). */
  const candidates = (name: string): string[] => {
    const labels = name.split('.');
    const stop = registeredDomain(name)?.split('.').length ?? Math.min(2, labels.length);
    const out: string[] = [];
    for (let i = 0; labels.length - i >= stop; i++) out.push(labels.slice(i).join('.'));
    return out;
  };

  /** Adds a name at a time to a window; true when the window reaches `min` and has not been reported within it. */
  const count = (windows: Map<string, Window>, key: string, item: string, at: number, windowMs: number, min: number): boolean => {
    let w = windows.get(key);
    if (!w) windows.set(key, (w = { seen: new Map() }));
    w.seen.set(item, Math.max(at, w.seen.get(item) ?? at));
    for (const [k, t] of w.seen) if (t <= at - windowMs) w.seen.delete(k);
    if (w.seen.size < min || (w.lastReport !== undefined && at - w.lastReport < windowMs)) return false;
    w.lastReport = at;
    return true;
  };

  async function analyse(account: string, region: string, queries: ResolvedQuery[]): Promise<void> {
    if (!host.enabledDetector(account, region)) return;
    for (const q of [...queries].sort((a, b) => a.at - b.at)) {
      // GuardDuty's EC2 DNS findings concern the instance that asked.
      if (!q.instanceId) continue;
      const name = q.record.query_name.toLowerCase().replace(/\.$/, '');
      const reg = registeredDomain(name);
      const names = candidates(name);

      // A customer's threat list first (its name is the evidence), then GuardDuty's own intelligence.
      const custom = names.map((d) => ({ d, list: host.threatList(account, region, d) })).find((x) => x.list);
      if (custom) {
        const type = 'Backdoor:EC2/C&CActivity.B!DNS';
        await host.report(account, region, await draft(q, type, `dns|custom|${q.instanceId}|${custom.d}`, name, { threatListName: custom.list!, domain: custom.d }, custom.list));
      } else {
        const known = host.intel.domain(name);
        const type = known?.kind === 'command-and-control' ? 'Backdoor:EC2/C&CActivity.B!DNS' : known?.kind === 'cryptocurrency' ? 'CryptoCurrency:EC2/BitcoinTool.B!DNS' : undefined;
        if (known && type) await host.report(account, region, await draft(q, type, `dns|intel|${type}|${q.instanceId}|${known.domain}`, name, { threatListName: known.list, domain: known.domain }, known.list));
      }

      if (reg && looksEncoded(name)) {
        const k = `${account}|${region}|${q.instanceId}|${reg}`;
        if (count(exfil, k, name, q.at, EXFIL_WINDOW_MS, EXFIL_MIN_NAMES)) {
          const w = exfil.get(k)!;
          await host.report(account, region, await draft(q, 'Trojan:EC2/DNSDataExfiltration', `dns|exfil|${q.instanceId}|${reg}`, name, {
            domain: reg, distinctNamesInWindow: w.seen.size, windowMinutes: EXFIL_WINDOW_MS / 60_000,
            sampleQueries: [...w.seen.keys()].slice(-3),
            rule: `${EXFIL_MIN_NAMES}+ distinct names under ${reg} with encoded-looking labels (${ENCODED_MIN_CHARS}+ characters, entropy >= ${ENCODED_MIN_ENTROPY} bits, digits >= ${ENCODED_MIN_DIGITS * 100} %) within ${EXFIL_WINDOW_MS / 60_000} minutes`,
          }));
        }
      }

      if (reg && q.record.rcode === 'NXDOMAIN' && looksGenerated(reg)) {
        const k = `${account}|${region}|${q.instanceId}`;
        if (count(dga, k, reg, q.at, DGA_WINDOW_MS, DGA_MIN_DOMAINS)) {
          const w = dga.get(k)!;
          await host.report(account, region, await draft(q, 'Trojan:EC2/DGADomainRequest.B', `dns|dga|${q.instanceId}`, name, {
            distinctDomainsInWindow: w.seen.size, windowMinutes: DGA_WINDOW_MS / 60_000, sampleDomains: [...w.seen.keys()].slice(-5),
          }));
        }
      }
    }
  }

  subscribe();
  return {
    async deliver(): Promise<void> {
      subscribe();
    },
    dropAccount(account: string): void {
      for (const m of [exfil, dga, described]) for (const k of [...m.keys()]) if (k.startsWith(`${account}|`)) m.delete(k);
    },
    close(): void {
      unsubscribe?.();
      unsubscribe = undefined;
    },
  };
}
