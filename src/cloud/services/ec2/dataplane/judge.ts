// Judging a flow against the security groups and network ACLs that really apply to the interfaces
// it crosses. AWS semantics (VPC user guide: "Security group rules", "Network ACLs", "Flow log
// record examples"):
//
// - Security groups are stateful and allow-only: a request passes when any rule of any group of the
//   interface allows it (protocol, port range or ICMP type/code, and the peer: an IPv4/IPv6 CIDR or
//   the private addresses of the interfaces in a referenced group). The response to an allowed
//   request passes whatever the rules say. Prefix-list peers are not modelled (never match).
// - Network ACLs are stateless: rules are evaluated in ascending rule number, the first rule that
//   matches (protocol, port range or ICMP type/code, CIDR of the other end) decides, and the `*`
//   rule denies what nothing matched. Outbound rules of the source subnet apply to traffic leaving
//   it, inbound rules of the destination subnet to traffic entering it, and the response crosses
//   the same ACLs in the opposite direction on the initiator's ephemeral port. Traffic that stays
//   inside one subnet is not evaluated by its network ACL (ACLs filter at the subnet boundary).
// - Interfaces of stopped or terminated instances, and detached interfaces, neither send nor
//   receive; AWS writes no record for traffic that never reached an interface.
//
// - Route tables, internet gateways, NAT and peering are not modelled: an outside address reaches an
//   interface by its public or its private address, and a private address is resolved in the
//   sender's own VPC (or the flow's `vpcId`).
//
// See model.ts for how a conversation's request and response legs are represented.
import {
  PROTO, protocolName,
  type Action, type Direction, type Flow, type FlowVerdict, type InterfaceVerdict, type Leg,
  type NetworkAclEntry, type NetworkInterface, type SecurityGroup, type SecurityGroupRule, type Subnet, type Topology,
} from './model.ts';
import { cidrContains, parseAddr, parseCidr, type Addr, type Cidr } from './net.ts';

interface CompiledSgRule {
  protocol: number;
  from: number;
  to: number;
  cidr: Cidr | undefined;
  groupId: string | undefined;
  group: SecurityGroup;
  rule: SecurityGroupRule;
}

interface CompiledAclEntry {
  ruleNumber: number;
  star: boolean;
  allow: boolean;
  protocol: number;
  from: number;
  to: number;
  icmpType: number;
  icmpCode: number;
  cidr: Cidr;
}

interface CompiledAcl {
  id: string;
  inbound: CompiledAclEntry[];
  outbound: CompiledAclEntry[];
}

export interface CompiledInterface {
  id: string;
  iface: NetworkInterface;
  subnet: Subnet | undefined;
  primary4: string | undefined;
  primary6: string | undefined;
  privateSet: Set<string>;
  sgIds: string[];
  ingress: CompiledSgRule[];
  egress: CompiledSgRule[];
  acl: CompiledAcl | undefined;
  vpcCidrs: Cidr[];
}

export interface CompiledTopology {
  topology: Topology;
  byId: Map<string, CompiledInterface>;
  /** Private IPv4 text or canonical IPv6 key (ipKey) → interfaces (several VPCs may reuse a range). */
  byPrivateIp: Map<string, CompiledInterface[]>;
  byPublicIp: Map<string, CompiledInterface>;
  /** Security group → private addresses of its member interfaces. */
  members4: Map<string, Set<number>>;
  members6: Map<string, Set<bigint>>;
  vpcCidrs: Map<string, Cidr[]>;
}

const compiledCache = new WeakMap<Topology, CompiledTopology>();

/** Lookup key of an address: IPv4 text as is, IPv6 canonical (so `2001:db8::1` and `2001:0db8:0:0::1` meet). */
function ipKey(ip: string): string {
  if (!ip.includes(':')) return ip;
  const a = parseAddr(ip);
  return a ? `v6:${a.v6.toString(16)}` : ip;
}

const ANY_V4 = parseCidr('0.0.0.0/0');
const ANY_V6 = parseCidr('::/0');

function compileSgRule(group: SecurityGroup, rule: SecurityGroupRule): CompiledSgRule {
  const p = rule.protocol;
  let from = 0;
  let to = 65535;
  if (p === PROTO.TCP || p === PROTO.UDP) {
    if (rule.fromPort !== undefined && rule.fromPort !== -1) from = rule.fromPort;
    if (rule.toPort !== undefined && rule.toPort !== -1) to = rule.toPort;
  } else if (p === PROTO.ICMP || p === PROTO.ICMPV6) {
    from = rule.fromPort ?? -1; // type
    to = rule.toPort ?? -1; // code
  }
  let cidr: Cidr | undefined;
  if (rule.cidr) {
    try {
      cidr = parseCidr(rule.cidr);
    } catch {
      cidr = undefined;
    }
  }
  return { protocol: p, from, to, cidr, groupId: rule.groupId, group, rule };
}

function compileAclEntry(e: NetworkAclEntry): CompiledAclEntry {
  let from = 0;
  let to = 65535;
  if ((e.protocol === PROTO.TCP || e.protocol === PROTO.UDP) && e.portRange) {
    from = e.portRange.from;
    to = e.portRange.to;
  }
  return {
    ruleNumber: e.ruleNumber,
    star: e.ruleNumber >= 32767,
    allow: e.action === 'allow',
    protocol: e.protocol,
    from, to,
    icmpType: e.icmp?.type ?? -1,
    icmpCode: e.icmp?.code ?? -1,
    cidr: parseCidr(e.cidr),
  };
}

const starDeny = (cidr: Cidr): CompiledAclEntry => ({
  ruleNumber: 32767, star: true, allow: false, protocol: -1, from: 0, to: 65535, icmpType: -1, icmpCode: -1, cidr,
});

/** Indexes a topology for judging (memoized per topology object). */
export function compileTopology(t: Topology): CompiledTopology {
  const cached = compiledCache.get(t);
  if (cached) return cached;
  const groups = new Map(t.securityGroups.map((g) => [g.id, g]));
  const subnets = new Map(t.subnets.map((s) => [s.id, s]));
  const acls = new Map<string, CompiledAcl>();
  for (const acl of t.networkAcls) {
    // Ascending rule number; the `*` rules always end each list, whatever the API returned.
    const ins = acl.entries.filter((e) => !e.egress).map(compileAclEntry).sort((a, b) => a.ruleNumber - b.ruleNumber);
    const outs = acl.entries.filter((e) => e.egress).map(compileAclEntry).sort((a, b) => a.ruleNumber - b.ruleNumber);
    ins.push(starDeny(ANY_V4), starDeny(ANY_V6));
    outs.push(starDeny(ANY_V4), starDeny(ANY_V6));
    acls.set(acl.id, { id: acl.id, inbound: ins, outbound: outs });
  }
  const aclOfSubnet = new Map<string, string>();
  for (const acl of t.networkAcls) for (const s of acl.subnetIds) aclOfSubnet.set(s, acl.id);
  const defaultAclOfVpc = new Map<string, string>();
  for (const acl of t.networkAcls) if (acl.isDefault) defaultAclOfVpc.set(acl.vpcId, acl.id);
  const vpcCidrs = new Map<string, Cidr[]>();
  for (const v of t.vpcs) vpcCidrs.set(v.id, [...v.cidrs, ...v.ipv6Cidrs].map((c) => parseCidr(c)));

  const c: CompiledTopology = {
    topology: t, byId: new Map(), byPrivateIp: new Map(), byPublicIp: new Map(),
    members4: new Map(), members6: new Map(), vpcCidrs,
  };
  for (const iface of t.interfaces) {
    const subnet = subnets.get(iface.subnetId);
    const aclId = subnet?.networkAclId || aclOfSubnet.get(iface.subnetId) || defaultAclOfVpc.get(iface.vpcId);
    const ingress: CompiledSgRule[] = [];
    const egress: CompiledSgRule[] = [];
    for (const gid of iface.securityGroupIds) {
      const g = groups.get(gid);
      if (!g) continue;
      for (const r of g.ingress) ingress.push(compileSgRule(g, r));
      for (const r of g.egress) egress.push(compileSgRule(g, r));
    }
    const ci: CompiledInterface = {
      id: iface.id, iface, subnet,
      primary4: iface.privateIps[0], primary6: iface.ipv6Ips[0],
      privateSet: new Set([...iface.privateIps, ...iface.ipv6Ips]),
      sgIds: iface.securityGroupIds, ingress, egress,
      acl: aclId ? acls.get(aclId) : undefined,
      vpcCidrs: vpcCidrs.get(iface.vpcId) ?? [],
    };
    c.byId.set(iface.id, ci);
    for (const ip of [...iface.privateIps, ...iface.ipv6Ips]) {
      const key = ipKey(ip);
      const list = c.byPrivateIp.get(key);
      if (list) list.push(ci);
      else c.byPrivateIp.set(key, [ci]);
      const a = parseAddr(ip);
      if (!a) continue;
      for (const gid of iface.securityGroupIds) {
        if (a.family === 4) {
          let s = c.members4.get(gid);
          if (!s) c.members4.set(gid, (s = new Set()));
          s.add(a.v4);
        } else {
          let s = c.members6.get(gid);
          if (!s) c.members6.set(gid, (s = new Set()));
          s.add(a.v6);
        }
      }
    }
    for (const ip of iface.publicIps) c.byPublicIp.set(ipKey(ip), ci);
  }
  compiledCache.set(t, c);
  return c;
}

// ---- matching ----

function portText(protocol: number, port: number, icmpType: number, icmpCode: number): string {
  if (protocol === PROTO.ICMP || protocol === PROTO.ICMPV6) return `${protocolName(protocol)} type ${icmpType} code ${icmpCode}`;
  if (protocol === PROTO.TCP || protocol === PROTO.UDP) return `${protocolName(protocol)} ${port}`;
  return protocolName(protocol);
}

function sgMatches(r: CompiledSgRule, c: CompiledTopology, protocol: number, port: number, icmpType: number, icmpCode: number, peer: Addr): boolean {
  if (r.protocol !== -1) {
    if (r.protocol !== protocol) return false;
    if (protocol === PROTO.TCP || protocol === PROTO.UDP) {
      if (port < r.from || port > r.to) return false;
    } else if (protocol === PROTO.ICMP || protocol === PROTO.ICMPV6) {
      if (r.from !== -1 && r.from !== icmpType) return false;
      if (r.to !== -1 && r.to !== icmpCode) return false;
    }
  }
  const cidr = r.cidr;
  if (cidr) {
    if (cidr.family !== peer.family) return false;
    if (peer.family === 4) return ((peer.v4 & cidr.mask4) >>> 0) === cidr.net4;
    return (peer.v6 & cidr.mask6) === cidr.net6;
  }
  if (r.groupId) {
    return peer.family === 4 ? (c.members4.get(r.groupId)?.has(peer.v4) ?? false) : (c.members6.get(r.groupId)?.has(peer.v6) ?? false);
  }
  return false; // prefix lists: not modelled
}

function aclMatches(e: CompiledAclEntry, protocol: number, port: number, icmpType: number, icmpCode: number, peer: Addr): boolean {
  const cidr = e.cidr;
  if (cidr.family !== peer.family) return false;
  if (peer.family === 4) {
    if (((peer.v4 & cidr.mask4) >>> 0) !== cidr.net4) return false;
  } else if ((peer.v6 & cidr.mask6) !== cidr.net6) return false;
  if (e.protocol === -1) return true;
  if (e.protocol !== protocol) return false;
  if (protocol === PROTO.TCP || protocol === PROTO.UDP) return port >= e.from && port <= e.to;
  if (protocol === PROTO.ICMP || protocol === PROTO.ICMPV6) {
    return (e.icmpType === -1 || e.icmpType === icmpType) && (e.icmpCode === -1 || e.icmpCode === icmpCode);
  }
  return true;
}

interface Decision {
  allow: boolean;
  reason: string;
}

function sgDecide(ci: CompiledInterface, c: CompiledTopology, inbound: boolean, protocol: number, port: number, icmpType: number, icmpCode: number, peer: Addr, peerText: string): Decision {
  const rules = inbound ? ci.ingress : ci.egress;
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!;
    if (sgMatches(r, c, protocol, port, icmpType, icmpCode, peer)) {
      const what = r.protocol === -1 ? 'all traffic' : portText(r.protocol, port, icmpType, icmpCode);
      const via = r.cidr ? r.cidr.text : `members of ${r.groupId}`;
      return { allow: true, reason: `security group ${r.group.id} (${r.group.name}) allows ${what} ${inbound ? 'from' : 'to'} ${via}` };
    }
  }
  const groups = ci.sgIds.length ? ci.sgIds.join(', ') : 'none';
  return {
    allow: false,
    reason: `no ${inbound ? 'inbound' : 'outbound'} rule of security group${ci.sgIds.length === 1 ? '' : 's'} ${groups} allows ${portText(protocol, port, icmpType, icmpCode)} ${inbound ? 'from' : 'to'} ${peerText}`,
  };
}

function aclDecide(acl: CompiledAcl | undefined, inbound: boolean, protocol: number, port: number, icmpType: number, icmpCode: number, peer: Addr, peerText: string): Decision {
  if (!acl) return { allow: true, reason: 'no network ACL' };
  const entries = inbound ? acl.inbound : acl.outbound;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (!aclMatches(e, protocol, port, icmpType, icmpCode, peer)) continue;
    const dir = inbound ? 'inbound' : 'outbound';
    const what = portText(protocol, port, icmpType, icmpCode);
    if (e.star) return { allow: false, reason: `network ACL ${acl.id} ${dir} rule * denies ${what} ${inbound ? 'from' : 'to'} ${peerText} (no numbered rule matched)` };
    return {
      allow: e.allow,
      reason: `network ACL ${acl.id} ${dir} rule ${e.ruleNumber} ${e.allow ? 'allows' : 'denies'} ${what} ${inbound ? 'from' : 'to'} ${peerText} (${e.cidr.text})`,
    };
  }
  return { allow: false, reason: `network ACL ${acl.id} denies (no rule matched)` };
}

// ---- resolving addresses to interfaces ----

function resolvePrivate(c: CompiledTopology, addr: string, vpcId: string | undefined): CompiledInterface | undefined {
  const list = c.byPrivateIp.get(ipKey(addr));
  if (!list) return undefined;
  if (list.length === 1) return vpcId === undefined || list[0]!.iface.vpcId === vpcId ? list[0] : undefined;
  if (vpcId !== undefined) return list.find((x) => x.iface.vpcId === vpcId);
  // Prefer an active interface, then one outside the default VPC.
  const defaults = new Set(c.topology.vpcs.filter((v) => v.isDefault).map((v) => v.id));
  return list.find((x) => x.iface.active && !defaults.has(x.iface.vpcId)) ?? list.find((x) => x.iface.active) ?? list[0];
}

const ECHO_REPLY: Record<number, number> = { 8: 0, 128: 129 };

function defaultResponse(flow: Flow): { packets: number; bytes: number; tcpFlags?: number } | undefined {
  if (flow.response === false) return undefined;
  if (flow.response) return flow.response;
  const p = flow.protocol;
  if (p === PROTO.TCP) return { packets: flow.packets, bytes: flow.packets * 40 };
  if (p === PROTO.UDP) return { packets: flow.packets, bytes: flow.bytes };
  if ((p === PROTO.ICMP || p === PROTO.ICMPV6) && ECHO_REPLY[flow.icmpType ?? (p === PROTO.ICMP ? 8 : 128)] !== undefined) {
    return { packets: flow.packets, bytes: flow.bytes };
  }
  return undefined;
}

/** The interface's own address in a record: its primary private IPv4 (AWS always reports it), or the IPv6 address used. */
function ownAddr(ci: CompiledInterface, used: string, family: 4 | 6): string {
  if (family === 4) return ci.primary4 ?? used;
  return ci.privateSet.has(used) ? used : ci.primary6 ?? used;
}

/** The packet-level address: the private address the packet carried (a secondary one stays), never the public one. */
function pktAddr(ci: CompiledInterface, used: string, family: 4 | 6): string {
  return ci.privateSet.has(used) ? used : ownAddr(ci, used, family);
}

interface JudgeState {
  flow: Flow;
  family: 4 | 6;
  srcIf: CompiledInterface | undefined;
  dstIf: CompiledInterface | undefined;
  srcport: number;
  dstport: number;
  out: InterfaceVerdict[];
}

/** One interface's view of one leg, with the addresses as that interface reports them. */
function record(j: JudgeState, ci: CompiledInterface, action: Action, reason: string, direction: Direction, leg: Leg): InterfaceVerdict {
  const { flow, family, srcIf, dstIf } = j;
  const request = leg === 'request';
  const fromIf = request ? srcIf : dstIf;
  const toIf = request ? dstIf : srcIf;
  const fromText = request ? flow.srcaddr : flow.dstaddr;
  const toText = request ? flow.dstaddr : flow.srcaddr;
  const v: InterfaceVerdict = {
    eni: ci.id, action, reason, direction, leg,
    srcaddr: fromIf === ci ? ownAddr(ci, fromText, family) : fromText,
    dstaddr: toIf === ci ? ownAddr(ci, toText, family) : toText,
    srcport: request ? j.srcport : j.dstport,
    dstport: request ? j.dstport : j.srcport,
    pktSrcaddr: fromIf ? pktAddr(fromIf, fromText, family) : fromText,
    pktDstaddr: toIf ? pktAddr(toIf, toText, family) : toText,
    packets: 0, bytes: 0, tcpFlags: 0,
  };
  j.out.push(v);
  return v;
}

/**
 * Judges one flow: for every VPC interface it crosses (the source interface's egress and/or the
 * destination interface's ingress, and the response legs in return) whether the traffic was
 * accepted or rejected and by which rule.
 */
export function judgeFlow(flow: Flow, topology: Topology): FlowVerdict {
  const c = compileTopology(topology);
  const src = parseAddr(flow.srcaddr);
  const dst = parseAddr(flow.dstaddr);
  if (!src || !dst) throw new TypeError(`flow addresses must be IPv4 or IPv6: ${flow.srcaddr} → ${flow.dstaddr}`);
  if (src.family !== dst.family) throw new TypeError(`flow mixes IPv4 and IPv6: ${flow.srcaddr} → ${flow.dstaddr}`);
  const family = src.family;
  const protocol = flow.protocol;
  const isIcmp = protocol === PROTO.ICMP || protocol === PROTO.ICMPV6;
  const icmpType = isIcmp ? (flow.icmpType ?? (protocol === PROTO.ICMP ? 8 : 128)) : -1;
  const icmpCode = isIcmp ? (flow.icmpCode ?? 0) : -1;
  const srcport = isIcmp ? 0 : flow.srcport;
  const dstport = isIcmp ? 0 : flow.dstport;

  const srcIf = resolvePrivate(c, flow.srcaddr, flow.vpcId) ?? c.byPublicIp.get(ipKey(flow.srcaddr));
  // A private destination is reachable from inside its own VPC (or from a caller that names none).
  const dstIf = resolvePrivate(c, flow.dstaddr, srcIf ? srcIf.iface.vpcId : flow.vpcId) ?? c.byPublicIp.get(ipKey(flow.dstaddr));

  if (!srcIf && !dstIf) return { action: 'UNOBSERVED', reason: 'neither address belongs to a network interface of this account and region', interfaces: [] };
  if (srcIf && srcIf === dstIf) return { action: 'ACCEPT', reason: 'traffic to itself never leaves the interface', interfaces: [] };
  if (srcIf && !srcIf.iface.active) {
    return { action: 'REJECT', reason: `${srcIf.id} sends nothing: ${srcIf.iface.inactiveReason ?? 'inactive'}`, interfaces: [] };
  }

  const out: InterfaceVerdict[] = [];
  const crossesSubnet = !srcIf || !dstIf || srcIf.iface.subnetId !== dstIf.iface.subnetId;
  const isTcp = protocol === PROTO.TCP;
  const j: JudgeState = { flow, family, srcIf, dstIf, srcport, dstport, out };
  const observe = (ci: CompiledInterface, action: Action, reason: string, direction: Direction, leg: Leg) => record(j, ci, action, reason, direction, leg);

  const response = defaultResponse(flow);
  const requestObs: InterfaceVerdict[] = [];
  const responseObs: InterfaceVerdict[] = [];
  let verdict: Action = 'ACCEPT';
  let reason = '';

  // Request: leaves the source interface...
  req: {
    if (srcIf) {
      const sg = sgDecide(srcIf, c, false, protocol, dstport, icmpType, icmpCode, dst, flow.dstaddr);
      if (!sg.allow) {
        requestObs.push(observe(srcIf, 'REJECT', sg.reason, 'egress', 'request'));
        verdict = 'REJECT'; reason = sg.reason;
        break req;
      }
      let why = sg.reason;
      if (crossesSubnet) {
        const acl = aclDecide(srcIf.acl, false, protocol, dstport, icmpType, icmpCode, dst, flow.dstaddr);
        if (!acl.allow) {
          requestObs.push(observe(srcIf, 'REJECT', acl.reason, 'egress', 'request'));
          verdict = 'REJECT'; reason = acl.reason;
          break req;
        }
        why += `; ${acl.reason}`;
      }
      requestObs.push(observe(srcIf, 'ACCEPT', why, 'egress', 'request'));
    }
    // ...and enters the destination interface.
    if (dstIf) {
      if (!dstIf.iface.active) {
        verdict = 'REJECT'; reason = `${dstIf.id} receives nothing: ${dstIf.iface.inactiveReason ?? 'inactive'}`;
        break req;
      }
      let why = '';
      if (crossesSubnet) {
        const acl = aclDecide(dstIf.acl, true, protocol, dstport, icmpType, icmpCode, src, flow.srcaddr);
        if (!acl.allow) {
          requestObs.push(observe(dstIf, 'REJECT', acl.reason, 'ingress', 'request'));
          verdict = 'REJECT'; reason = acl.reason;
          break req;
        }
        why = `${acl.reason}; `;
      }
      const sg = sgDecide(dstIf, c, true, protocol, dstport, icmpType, icmpCode, src, flow.srcaddr);
      if (!sg.allow) {
        requestObs.push(observe(dstIf, 'REJECT', sg.reason, 'ingress', 'request'));
        verdict = 'REJECT'; reason = sg.reason;
        break req;
      }
      requestObs.push(observe(dstIf, 'ACCEPT', why + sg.reason, 'ingress', 'request'));
    }
    reason = requestObs.map((o) => o.reason).join('; ');
    if (!response) break req;

    // Response: security groups track the connection; network ACLs judge it again, on the initiator's port.
    const rType = isIcmp ? (ECHO_REPLY[icmpType] ?? icmpType) : -1;
    const rCode = isIcmp ? 0 : -1;
    const tracked = 'response to an allowed request (security groups are stateful)';
    if (dstIf) {
      let why = tracked;
      if (crossesSubnet) {
        const acl = aclDecide(dstIf.acl, false, protocol, srcport, rType, rCode, src, flow.srcaddr);
        if (!acl.allow) {
          responseObs.push(observe(dstIf, 'REJECT', `response dropped: ${acl.reason}`, 'egress', 'response'));
          verdict = 'REJECT'; reason = `response dropped: ${acl.reason}`;
          break req;
        }
        why += `; ${acl.reason}`;
      }
      responseObs.push(observe(dstIf, 'ACCEPT', why, 'egress', 'response'));
    }
    if (srcIf) {
      let why = tracked;
      if (crossesSubnet) {
        const acl = aclDecide(srcIf.acl, true, protocol, srcport, rType, rCode, dst, flow.dstaddr);
        if (!acl.allow) {
          responseObs.push(observe(srcIf, 'REJECT', `response dropped: ${acl.reason}`, 'ingress', 'response'));
          verdict = 'REJECT'; reason = `response dropped: ${acl.reason}`;
          break req;
        }
        why += `; ${acl.reason}`;
      }
      responseObs.push(observe(srcIf, 'ACCEPT', why, 'ingress', 'response'));
    }
  }

  // Volumes and TCP flags: SYN|FIN (3) and SYN-ACK|FIN (19) for a completed short connection, SYN (2)
  // and SYN-ACK (18) when it never completed (the flow-log examples' values).
  const established = verdict === 'ACCEPT';
  for (const o of requestObs) {
    o.packets = flow.packets;
    o.bytes = flow.bytes;
    o.tcpFlags = isTcp ? (flow.tcpFlags ?? (established && response ? 3 : 2)) : 0;
  }
  if (response) {
    for (const o of responseObs) {
      o.packets = response.packets;
      o.bytes = response.bytes;
      o.tcpFlags = isTcp ? (response.tcpFlags ?? (established ? 19 : 18)) : 0;
    }
  }

  let interfaces = out;
  if (flow.interfaceId) interfaces = interfaces.filter((o) => o.eni === flow.interfaceId && (!flow.direction || o.direction === flow.direction));
  return { action: verdict, reason, interfaces };
}

/** Does the address fall inside one of the VPC's CIDR blocks? (traffic-path 1 vs leaving the VPC) */
export function inVpc(c: CompiledTopology, vpcId: string, addr: string): boolean {
  const a = parseAddr(addr);
  if (!a) return false;
  for (const cidr of c.vpcCidrs.get(vpcId) ?? []) if (cidrContains(cidr, a)) return true;
  return false;
}
