// GuardDuty findings from VPC flow logs. GuardDuty reads flow logs through its own, independent
// stream (GuardDuty User Guide, "Foundational data sources"): here the data plane's `onFlows`
// listener, which sees every judged flow whether or not the customer has a flow log. Only accounts
// and Regions with an enabled detector are looked at, only flows that touch an interface of one of
// the account's instances, and only flows that end after the detector was created.
//
// How it works: the listener only counts (per account and Region, per 5-minute window of the lab
// clock taken from the flow's start time, per instance, direction and remote address); when the lab
// clock passes a window's end, `deliver` queues its analysis (host.enqueue), which applies the rules
// below and reports finding drafts. A repeat in a later window raises the same finding's count
// (Draft.key: type|instance|remote...). Nothing depends on the wall clock or on randomness.
//
// Rules (thresholds are the named constants below; docs/guardduty.md has the same table):
// - Recon:EC2/PortProbeUnprotectedPort (TARGET, PORT_PROBE): a remote address outside the account's
//   VPCs touches at least PROBE_MIN_TARGETS distinct instance ports of the account in a window and
//   at least one of them was ACCEPTed (security groups and network ACLs let it through: unprotected).
//   GuardDuty reports probes by known scanners; the lab cloud has no scanner reputation, so a remote
//   that probes several ports stands for one. One finding per instance and remote.
// - Recon:EC2/Portscan (ACTOR): an instance sends probe-sized connections (≤ PROBE_MAX_PACKETS
//   request packets) to PORTSCAN_MIN_PORTS distinct ports of one host or to PORTSCAN_MIN_HOSTS hosts.
// - UnauthorizedAccess:EC2/SSHBruteForce: SSH_MIN_ATTEMPTS short TCP connections to port 22 between
//   an instance and one remote in a window; inbound: the instance is the TARGET, outbound: the ACTOR.
// - UnauthorizedAccess:EC2/MaliciousIPCaller.Custom: any flow with an address on an ACTIVE threat
//   intel set of the account (evidence names the set).
// - Backdoor:EC2/C&CActivity.B, CryptoCurrency:EC2/BitcoinTool.B: any flow with an address GuardDuty's
//   own intelligence (intel.ts) knows as command-and-control or cryptocurrency.
// - Backdoor:EC2/DenialOfService.Tcp (ACTOR): an instance sends DOS_MIN_CONNECTIONS small TCP
//   connections, or DOS_MIN_PACKETS packets of at most DOS_MAX_AVG_BYTES bytes, to one host.
// - Behavior:EC2/TrafficVolumeUnusual, Behavior:EC2/NetworkPortUnusual (ACTOR, OUTBOUND): a
//   baseline per instance is learned for host.learningMs from the first window the instance is seen
//   in after the detector's creation: the most bytes it sent, on connections it opened, to one
//   remote host in a window and in an hour (hosts inside its VPCs and outside apart), and the
//   protocols and server ports it connected out to. Nothing is reported before its learning period
//   ends. After it: bytes to one host above VOLUME_FACTOR times the learned maximum, in a window (at
//   least VOLUME_MIN_BYTES) or in an hour (at least VOLUME_MIN_HOUR_BYTES); an established outbound
//   connection to a server port never used while learning. The baseline then stays as learned
//   (GuardDuty keeps learning; the lab cloud freezes it so a repeated attack keeps being reported).
// Trusted IP lists: no finding about an address on an ACTIVE trusted list (they win over threat lists).
import type { Flow, FlowVerdict, NetworkInterface, Topology } from '../ec2/dataplane/model.ts';
import { inCidr } from '../ec2/dataplane/net.ts';
import { remoteIp, type Draft, type JsonObject } from './findings.ts';
import type { BehaviourSource, GuardDutyHost } from './sources.ts';

/** Counting window, on the lab clock (flow start times). Flow logs aggregate over 1 or 10 minutes; 5 sits between, so a scan or a burst of logins falls in one or two windows. */
export const WINDOW_MS = 5 * 60_000;
/** Request packets of a connection attempt that is only a probe (SYN, maybe a retry and an RST): scanners send 1–2. */
export const PROBE_MAX_PACKETS = 3;
/** Distinct instance ports one remote must touch in a window to count as probing (a web user touches 1, a contractor 1). */
export const PROBE_MIN_TARGETS = 5;
/** Distinct ports of one host an instance must probe in a window for a port scan (normal clients use 1–3 server ports per host). */
export const PORTSCAN_MIN_PORTS = 20;
/** Distinct hosts an instance must probe in a window for a (horizontal) port scan. */
export const PORTSCAN_MIN_HOSTS = 30;
/** Short SSH connections between an instance and one remote in a window for brute force (a person opens a few sessions an hour). */
export const SSH_MIN_ATTEMPTS = 20;
/** An SSH connection is "short" (a failed login) below these request packets and duration; interactive sessions last longer and carry more. */
export const SSH_SHORT_PACKETS = 30;
export const SSH_SHORT_MS = 10_000;
/** Small TCP connections to one host in a window for a SYN-style flood (normal clients make at most a few hundred). */
export const DOS_MIN_CONNECTIONS = 2_000;
/** Packets to one host in a window for a volumetric flood, when they are small (bulk transfers send full 1,400-byte packets). */
export const DOS_MIN_PACKETS = 200_000;
export const DOS_MAX_AVG_BYTES = 120;
/** How far above the learned maximum the bytes sent to one host in a window must be (normal maxima vary by up to about 1.5×). */
export const VOLUME_FACTOR = 3;
/** Below this many bytes to one host in a window nothing is unusual, whatever the baseline (an instance that sent almost nothing while learning). */
export const VOLUME_MIN_BYTES = 10_000_000;
/**
 * The same over an hour of the lab clock (hours aligned on the epoch, running total checked at
 * every window), so a slow transfer that stays under the per-window floor is seen within the hour
 * (about 0.8 MB a minute and more). A daily backup-sized burst is 20 MB.
 */
export const VOLUME_HOUR_MS = 3600_000;
export const VOLUME_MIN_HOUR_BYTES = 50_000_000;
/** At most this many port details in one PORT_PROBE action (GuardDuty lists a few). */
const MAX_PROBE_DETAILS = 10;

const PORT_NAMES: Record<number, string> = {
  21: 'FTP', 22: 'SSH', 23: 'Telnet', 25: 'SMTP', 53: 'DNS', 80: 'HTTP', 110: 'POP3', 143: 'IMAP', 443: 'HTTPS', 445: 'SMB',
  1433: 'MSSQL', 3306: 'MYSQL', 3389: 'RDP', 5432: 'POSTGRESQL', 6379: 'REDIS', 8080: 'HTTP', 27017: 'MONGODB',
};
/** The port names GuardDuty shows in localPortDetails/remotePortDetails ('Unknown' for the rest). */
export const portName = (port: number): string => PORT_NAMES[port] ?? 'Unknown';
const PROTOCOLS: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPV6' };
export const protocolLabel = (p: number): string => PROTOCOLS[p] ?? String(p);

/** How one port of a pair was used in a window. */
interface PortUse {
  protocol: number;
  localPort: number;
  remotePort: number;
  flows: number;
  accepted: number;
  /** Connection attempts of probe size. */
  probes: number;
  /** Accepted connections that carried more than a probe. */
  established: number;
}

/** An instance's traffic with one remote address in one direction in one window. */
interface Pair {
  instanceId: string;
  eni: string;
  localIp: string;
  remote: string;
  inbound: boolean;
  flows: number;
  accepted: number;
  /** Packets and bytes the instance sent to the remote on connections it opened (0 inbound). */
  packetsOut: number;
  bytesOut: number;
  /** Small TCP connections the instance opened (for floods). */
  smallTcp: number;
  sshAttempts: number;
  sshAccepted: number;
  /** By the server-side port (local inbound, remote outbound) and protocol: protocol * 65536 + port. */
  ports: Map<number, PortUse>;
}

interface Window {
  start: number;
  topology: Topology;
  pairs: Map<string, Pair>;
}

interface Baseline {
  since: number;
  until: number;
  windows: number;
  /**
   * The most bytes sent to one remote host in one window, and in one hour, while learning: [0] hosts
   * inside the account's VPCs, [1] outside (a server's answers to its clients inside are no measure
   * of what it normally sends out).
   */
  maxBytes: [number, number];
  maxHourBytes: [number, number];
  /** protocol * 65536 + server port of outbound connections while learning. */
  ports: Set<number>;
}

interface RegionFlows {
  account: string;
  region: string;
  detectorId: string;
  createdAt: number;
  windows: Map<number, Window>;
  baselines: Map<string, Baseline>;
  /** Bytes sent by an instance to a remote host in the current hour (key instance|remote). */
  hourly: Map<string, { hour: number; bytes: number }>;
  hour: number;
}

const interfaceIndex = new WeakMap<Topology, Map<string, NetworkInterface>>();
function interfacesOf(t: Topology): Map<string, NetworkInterface> {
  let m = interfaceIndex.get(t);
  if (!m) {
    m = new Map(t.interfaces.filter((i) => i.instanceId).map((i) => [i.id, i]));
    interfaceIndex.set(t, m);
  }
  return m;
}

export function flowBehaviour(host: GuardDutyHost): BehaviourSource {
  const regions = new Map<string, RegionFlows>();
  let unsubscribe: (() => void) | undefined;

  const regionOf = (account: string, region: string, det: { id: string; createdAt: number }): RegionFlows => {
    const k = `${account}|${region}`;
    let rs = regions.get(k);
    // A new detector (deleted and created again) starts from nothing, as its findings do.
    if (!rs || rs.detectorId !== det.id) {
      rs = { account, region, detectorId: det.id, createdAt: det.createdAt, windows: new Map(), baselines: new Map(), hourly: new Map(), hour: 0 };
      regions.set(k, rs);
    }
    return rs;
  };

  // Cheap: counters only. Called synchronously by the data plane for every batch of judged flows.
  const listener = (topology: Topology, flows: Flow[], verdicts: FlowVerdict[]): void => {
    const det = host.enabledDetector(topology.account, topology.region);
    if (!det) return;
    const byEni = interfacesOf(topology);
    if (!byEni.size) return;
    const rs = regionOf(topology.account, topology.region, det);
    for (let i = 0; i < flows.length; i++) {
      const v = verdicts[i]!;
      if (!v.interfaces.length) continue;
      const f = flows[i]!;
      if (f.end < det.createdAt) continue;
      for (const obs of v.interfaces) {
        if (obs.leg !== 'request') continue;
        const iface = byEni.get(obs.eni);
        if (!iface) continue;
        const w = Math.floor(f.start / WINDOW_MS);
        let win = rs.windows.get(w);
        if (!win) rs.windows.set(w, (win = { start: w * WINDOW_MS, topology, pairs: new Map() }));
        win.topology = topology;
        const inbound = obs.direction === 'ingress';
        const remote = inbound ? f.srcaddr : f.dstaddr;
        const key = `${iface.instanceId}|${inbound ? 'in' : 'out'}|${remote}`;
        let p = win.pairs.get(key);
        if (!p) {
          p = {
            instanceId: iface.instanceId!, eni: iface.id, localIp: iface.privateIps[0] ?? obs.dstaddr, remote, inbound, flows: 0, accepted: 0,
            packetsOut: 0, bytesOut: 0, smallTcp: 0, sshAttempts: 0, sshAccepted: 0, ports: new Map(),
          };
          win.pairs.set(key, p);
        }
        const ok = obs.action === 'ACCEPT';
        const icmp = f.protocol === 1 || f.protocol === 58;
        const serverPort = icmp ? 0 : f.dstport;
        const localPort = icmp ? 0 : inbound ? f.dstport : f.srcport;
        const remotePort = icmp ? 0 : inbound ? f.srcport : f.dstport;
        const probe = f.packets <= PROBE_MAX_PACKETS;
        p.flows++;
        if (ok) p.accepted++;
        // Volumes count what the instance sends on connections it opens (OUTBOUND, as GuardDuty's
        // TrafficVolumeUnusual): a server's answers to a flood of clients are not its traffic.
        if (!inbound) {
          p.packetsOut += f.packets;
          p.bytesOut += f.bytes;
          if (f.protocol === 6 && probe) p.smallTcp++;
        }
        const pk = f.protocol * 65536 + serverPort;
        let use = p.ports.get(pk);
        if (!use) p.ports.set(pk, (use = { protocol: f.protocol, localPort, remotePort, flows: 0, accepted: 0, probes: 0, established: 0 }));
        use.flows++;
        if (ok) use.accepted++;
        if (probe) use.probes++;
        else if (ok) use.established++;
        if (f.protocol === 6 && serverPort === 22 && f.packets < SSH_SHORT_PACKETS && f.end - f.start < SSH_SHORT_MS) {
          p.sshAttempts++;
          if (ok) p.sshAccepted++;
        }
      }
    }
  };

  // Once. EC2 is constructed before GuardDuty (services/index.ts), so this succeeds at once; a lab
  // cloud built with EC2 after GuardDuty subscribes on the first delivery, one without EC2 never.
  let closed = false;
  const subscribe = (): void => {
    if (unsubscribe || closed) return;
    try {
      unsubscribe = host.caps.service('ec2').dataplane.onFlows(listener);
    } catch {
      // no EC2 in this lab cloud (yet)
    }
  };
  subscribe();

  const analyse = async (rs: RegionFlows, win: Window): Promise<void> => {
    const det = host.enabledDetector(rs.account, rs.region);
    if (!det || det.id !== rs.detectorId) return;
    const end = win.start + WINDOW_MS;
    const trustedMemo = new Map<string, boolean>();
    const trusted = (ip: string): boolean => {
      let t = trustedMemo.get(ip);
      if (t === undefined) trustedMemo.set(ip, (t = host.trusted(rs.account, rs.region, ip)));
      return t;
    };
    const pending: Pending[] = [];
    const pairs = [...win.pairs.values()].filter((p) => !trusted(p.remote));
    const cidrs = win.topology.vpcs.flatMap((v) => v.cidrs);
    const outsideMemo = new Map<string, boolean>();
    const outside = (ip: string): boolean => {
      let o = outsideMemo.get(ip);
      if (o === undefined) outsideMemo.set(ip, (o = !cidrs.some((c) => inCidr(c, ip))));
      return o;
    };
    const windowInfo = { windowStart: new Date(win.start).toISOString(), windowEnd: new Date(end).toISOString() };

    // Port probes: per remote, across the account's instances.
    const byRemote = groupBy(pairs.filter((p) => p.inbound), (p) => p.remote);
    for (const [remote, list] of byRemote) {
      const targets = list.reduce((n, p) => n + p.ports.size, 0);
      if (targets < PROBE_MIN_TARGETS || !outside(remote)) continue;
      for (const p of list) {
        const open = [...p.ports.values()].filter((u) => u.accepted > 0).sort((a, b) => a.localPort - b.localPort);
        if (!open.length) continue;
        pending.push({
          type: 'Recon:EC2/PortProbeUnprotectedPort', pair: p, role: 'TARGET',
          action: {
            actionType: 'PORT_PROBE',
            portProbeAction: {
              blocked: false,
              portProbeDetails: open.slice(0, MAX_PROBE_DETAILS).map((u) => ({
                localPortDetails: { port: u.localPort, portName: portName(u.localPort) }, localIpDetails: localIpOf(p.localIp), remoteIpDetails: remoteIpOf(remote),
              })),
            },
          },
          info: { ...windowInfo, portsProbed: targets, unprotectedPorts: open.map((u) => u.localPort), rule: `probes of ${PROBE_MIN_TARGETS}+ instance ports from one address in ${WINDOW_MS / 60_000} minutes, at least one accepted` },
          vars: { port: String(open[0]!.localPort) },
          key: `Recon:EC2/PortProbeUnprotectedPort|${p.instanceId}|${remote}`,
        });
      }
    }

    // Outbound port scans: per instance.
    const outByInstance = groupBy(pairs.filter((p) => !p.inbound), (p) => p.instanceId);
    for (const list of outByInstance.values()) {
      const probed = list.map((p) => ({ p, ports: [...p.ports.values()].filter((u) => u.probes > 0) })).filter((x) => x.ports.length > 0);
      const top = probed.sort((a, b) => b.ports.length - a.ports.length || (a.p.remote < b.p.remote ? -1 : 1))[0];
      if (!top || (top.ports.length < PORTSCAN_MIN_PORTS && probed.length < PORTSCAN_MIN_HOSTS)) continue;
      const use = top.ports.sort((a, b) => a.remotePort - b.remotePort)[0]!;
      pending.push({
        type: 'Recon:EC2/Portscan', pair: top.p, role: 'ACTOR', action: connection(top.p, use, top.p.accepted === 0),
        info: { ...windowInfo, portsProbedOnHost: top.ports.length, hostsProbed: probed.length },
        vars: {}, key: `Recon:EC2/Portscan|${top.p.instanceId}`,
      });
    }

    for (const p of pairs) {
      const uses = [...p.ports.values()].sort((a, b) => b.flows - a.flows || a.remotePort - b.remotePort);
      const main = uses[0]!;
      const blocked = p.accepted === 0;
      // SSH brute force, either way.
      if (p.sshAttempts >= SSH_MIN_ATTEMPTS) {
        const use = p.ports.get(6 * 65536 + 22)!;
        pending.push({
          type: 'UnauthorizedAccess:EC2/SSHBruteForce', pair: p, role: p.inbound ? 'TARGET' : 'ACTOR', action: connection(p, use, p.sshAccepted === 0),
          info: { ...windowInfo, attempts: p.sshAttempts, accepted: p.sshAccepted },
          vars: {}, key: `UnauthorizedAccess:EC2/SSHBruteForce|${p.instanceId}|${p.inbound ? 'in' : 'out'}|${p.remote}`,
        });
      }
      // Threat lists: the account's own, then GuardDuty's intelligence.
      const list = host.threatList(rs.account, rs.region, p.remote);
      if (list) {
        pending.push({
          type: 'UnauthorizedAccess:EC2/MaliciousIPCaller.Custom', pair: p, role: 'ACTOR', action: connection(p, main, blocked),
          info: { ...windowInfo, threatListName: list }, evidence: { threatIntelligenceDetails: [{ threatListName: list, threatNames: [] }] },
          vars: { list }, key: `UnauthorizedAccess:EC2/MaliciousIPCaller.Custom|${p.instanceId}|${p.remote}`,
        });
      }
      const kinds = host.intel.address(p.remote);
      for (const [kind, type] of [['command-and-control', 'Backdoor:EC2/C&CActivity.B'], ['cryptocurrency', 'CryptoCurrency:EC2/BitcoinTool.B']] as const) {
        if (!kinds.includes(kind)) continue;
        const feed = host.intel.feedOf(p.remote, kind) ?? 'ProofPoint';
        pending.push({
          type, pair: p, role: 'ACTOR', action: connection(p, main, blocked),
          info: { ...windowInfo, threatListName: feed }, evidence: { threatIntelligenceDetails: [{ threatListName: feed, threatNames: [] }] },
          vars: {}, key: `${type}|${p.instanceId}|${p.remote}`,
        });
      }
      // Outbound TCP floods.
      if (!p.inbound && (p.smallTcp >= DOS_MIN_CONNECTIONS || (p.packetsOut >= DOS_MIN_PACKETS && p.bytesOut / p.packetsOut <= DOS_MAX_AVG_BYTES))) {
        const tcp = uses.find((u) => u.protocol === 6);
        if (tcp) {
          pending.push({
            type: 'Backdoor:EC2/DenialOfService.Tcp', pair: p, role: 'ACTOR', action: connection(p, tcp, blocked),
            info: { ...windowInfo, connections: p.flows, packets: p.packetsOut, bytes: p.bytesOut },
            vars: {}, key: `Backdoor:EC2/DenialOfService.Tcp|${p.instanceId}|${p.remote}`,
          });
        }
      }
    }

    // Hourly volumes per instance and remote (running totals of the window's hour).
    const hour = Math.floor(win.start / VOLUME_HOUR_MS);
    if (hour > rs.hour) {
      for (const [k, v] of rs.hourly) if (v.hour < hour) rs.hourly.delete(k);
      rs.hour = hour;
    }
    const hourBytes = (p: Pair): number => rs.hourly.get(`${p.instanceId}|${p.remote}`)?.bytes ?? 0;
    for (const p of win.pairs.values()) {
      if (!p.bytesOut) continue;
      const k = `${p.instanceId}|${p.remote}`;
      const h = rs.hourly.get(k);
      if (h && h.hour === hour) h.bytes += p.bytesOut;
      else if (!h || h.hour < hour) rs.hourly.set(k, { hour, bytes: p.bytesOut });
    }

    // Baselines: learn while an instance's learning period lasts, compare after it.
    const byInstance = groupBy([...win.pairs.values()], (p) => p.instanceId);
    for (const [id, mine] of [...byInstance].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      let b = rs.baselines.get(id);
      if (!b) {
        const since = Math.max(rs.createdAt, win.start);
        rs.baselines.set(id, (b = { since, until: since + host.learningMs, windows: 0, maxBytes: [0, 0], maxHourBytes: [0, 0], ports: new Set() }));
      }
      if (win.start < b.until) {
        b.windows++;
        for (const p of mine) {
          const o = outside(p.remote) ? 1 : 0;
          b.maxBytes[o] = Math.max(b.maxBytes[o], p.bytesOut);
          b.maxHourBytes[o] = Math.max(b.maxHourBytes[o], hourBytes(p));
          if (!p.inbound) for (const [k, u] of p.ports) if (u.established > 0) b.ports.add(k);
        }
        continue;
      }
      const learned = {
        learnedFrom: new Date(b.since).toISOString(), learnedUntil: new Date(b.until).toISOString(),
        learningHours: Math.round(((b.until - b.since) / 3600_000) * 100) / 100, windowsLearned: b.windows, windowMinutes: WINDOW_MS / 60_000,
      };
      for (const p of mine) {
        if (trusted(p.remote)) continue;
        const o = outside(p.remote) ? 1 : 0;
        const limit = Math.max(VOLUME_FACTOR * b.maxBytes[o], VOLUME_MIN_BYTES);
        const hourLimit = Math.max(VOLUME_FACTOR * b.maxHourBytes[o], VOLUME_MIN_HOUR_BYTES);
        if (p.bytesOut > limit || hourBytes(p) > hourLimit) {
          const use = [...p.ports.values()].sort((a, c) => c.flows - a.flows || a.remotePort - c.remotePort)[0]!;
          pending.push({
            type: 'Behavior:EC2/TrafficVolumeUnusual', pair: p, role: 'ACTOR', action: connection(p, use, p.accepted === 0),
            info: {
              ...windowInfo, bytesSent: p.bytesOut, bytesSentThisHour: hourBytes(p), threshold: limit, hourThreshold: hourLimit,
              remoteOutsideVpc: o === 1,
              baseline: { ...learned, maxBytesToOneHostPerWindow: b.maxBytes[o], maxBytesToOneHostPerHour: b.maxHourBytes[o] },
            },
            vars: {}, key: `Behavior:EC2/TrafficVolumeUnusual|${p.instanceId}|${p.remote}`,
          });
        }
        if (p.inbound) continue;
        for (const [k, u] of [...p.ports].sort((a, c) => a[0] - c[0])) {
          if (u.established === 0 || b.ports.has(k)) continue;
          pending.push({
            type: 'Behavior:EC2/NetworkPortUnusual', pair: p, role: 'ACTOR', action: connection(p, u, false),
            info: { ...windowInfo, unusualPort: u.remotePort, unusualProtocol: protocolLabel(u.protocol), baseline: { ...learned, serverPorts: [...b.ports].sort((x, y) => x - y).map((x) => `${protocolLabel(Math.floor(x / 65536))}/${x % 65536}`) } },
            vars: { port: String(u.remotePort) }, key: `Behavior:EC2/NetworkPortUnusual|${p.instanceId}|${p.remote}|${k}`,
          });
        }
      }
    }

    if (!pending.length) return;
    const resources = await instanceResources(host, rs.account, rs.region, [...new Set(pending.map((x) => x.pair.instanceId))].sort(), win.topology);
    for (const x of pending) {
      const draft: Draft = {
        type: x.type, resource: resources.get(x.pair.instanceId)!, action: x.action, resourceRole: x.role,
        additionalInfo: x.info, ...(x.evidence ? { evidence: x.evidence } : {}),
        vars: { instance: x.pair.instanceId, ip: x.pair.remote, port: '', list: '', ...x.vars }, key: x.key,
      };
      await host.report(rs.account, rs.region, draft);
    }
  };

  return {
    async deliver(nowMs: number): Promise<void> {
      subscribe();
      for (const rs of regions.values()) {
        const closed = [...rs.windows.keys()].filter((w) => (w + 1) * WINDOW_MS <= nowMs).sort((a, b) => a - b);
        for (const w of closed) {
          const win = rs.windows.get(w)!;
          rs.windows.delete(w);
          host.enqueue(() => analyse(rs, win));
        }
      }
    },
    dropAccount(account: string): void {
      for (const k of [...regions.keys()]) if (k.startsWith(`${account}|`)) regions.delete(k);
    },
    close(): void {
      closed = true;
      unsubscribe?.();
      unsubscribe = undefined;
    },
  };
}

/** RemoteIpDetails (IPv6 addresses in ipAddressV6, as the API reference has it). */
function remoteIpOf(ip: string): JsonObject {
  if (!ip.includes(':')) return remoteIp(ip, false);
  const { ipAddressV4: _v4, ...rest } = remoteIp(ip, false);
  return { ipAddressV6: ip, ...rest };
}

const localIpOf = (ip: string): JsonObject => (ip.includes(':') ? { ipAddressV6: ip } : { ipAddressV4: ip });

function groupBy<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = m.get(k);
    if (list) list.push(x);
    else m.set(k, [x]);
  }
  return m;
}

interface Pending {
  type: string;
  pair: Pair;
  role: 'ACTOR' | 'TARGET';
  action: JsonObject;
  info: JsonObject;
  evidence?: JsonObject;
  vars: Record<string, string>;
  key: string;
}

/** NetworkConnectionAction of a pair's use of one port, as GuardDuty's flow-log findings carry it. */
function connection(p: Pair, u: PortUse, blocked: boolean): JsonObject {
  return {
    actionType: 'NETWORK_CONNECTION',
    networkConnectionAction: {
      connectionDirection: p.inbound ? 'INBOUND' : 'OUTBOUND', protocol: protocolLabel(u.protocol), blocked,
      remoteIpDetails: remoteIpOf(p.remote), remotePortDetails: { port: u.remotePort, portName: portName(u.remotePort) },
      localPortDetails: { port: u.localPort, portName: portName(u.localPort) }, localIpDetails: localIpOf(p.localIp),
    },
  };
}

interface Ec2Instance {
  InstanceId?: string;
  InstanceType?: string;
  LaunchTime?: Date | string;
  ImageId?: string;
  Platform?: string;
  State?: { Name?: string };
  Placement?: { AvailabilityZone?: string };
  IamInstanceProfile?: { Arn?: string; Id?: string };
  ProductCodes?: { ProductCodeId?: string; ProductCodeType?: string }[];
  Tags?: { Key?: string; Value?: string }[];
  NetworkInterfaces?: { NetworkInterfaceId?: string; PrivateDnsName?: string; PrivateIpAddresses?: { PrivateIpAddress?: string; PrivateDnsName?: string }[]; Association?: { PublicDnsName?: string } }[];
}

/**
 * Resource `Instance` with the InstanceDetails GuardDuty shows (API reference, InstanceDetails): the
 * network interfaces as the data plane judged the traffic (addresses, security groups, VPC and
 * subnet from its topology) and the rest from EC2 (type, launch time, image, instance profile, state,
 * tags). When EC2 cannot describe the instance (terminated since), what the topology knows.
 */
export async function instanceResources(host: GuardDutyHost, account: string, region: string, ids: string[], topology: Topology): Promise<Map<string, JsonObject>> {
  const described = new Map<string, Ec2Instance>();
  if (ids.length) {
    try {
      const r = await host.caps.target.json<{ Reservations?: { Instances?: Ec2Instance[] }[] }>(account, 'ec2', 'DescribeInstances', { InstanceIds: ids }, region);
      for (const i of (r.Reservations ?? []).flatMap((x) => x.Instances ?? [])) if (i.InstanceId) described.set(i.InstanceId, i);
    } catch {
      // one of them is gone: the topology's view for all
    }
  }
  const groupNames = new Map(topology.securityGroups.map((g) => [g.id, g.name]));
  const out = new Map<string, JsonObject>();
  for (const id of ids) {
    const d = described.get(id);
    const ifaces = topology.interfaces.filter((i) => i.instanceId === id);
    const dns = new Map((d?.NetworkInterfaces ?? []).map((n) => [n.NetworkInterfaceId ?? '', n]));
    const tags = d?.Tags ? d.Tags.map((t) => ({ key: t.Key ?? '', value: t.Value ?? '' })) : Object.entries(ifaces[0]?.tags ?? {}).map(([key, value]) => ({ key, value }));
    const launch = d?.LaunchTime === undefined ? undefined : new Date(d.LaunchTime).toISOString();
    out.set(id, {
      resourceType: 'Instance',
      instanceDetails: {
        instanceId: id,
        ...(d?.InstanceType ? { instanceType: d.InstanceType } : {}),
        ...(launch ? { launchTime: launch } : {}),
        platform: d?.Platform ?? null,
        productCodes: (d?.ProductCodes ?? []).map((p) => ({ productCodeId: p.ProductCodeId ?? '', productCodeType: p.ProductCodeType ?? '' })),
        iamInstanceProfile: d?.IamInstanceProfile ? { arn: d.IamInstanceProfile.Arn ?? '', id: d.IamInstanceProfile.Id ?? '' } : null,
        networkInterfaces: ifaces.map((i) => {
          const n = dns.get(i.id);
          const names = new Map((n?.PrivateIpAddresses ?? []).map((a) => [a.PrivateIpAddress ?? '', a.PrivateDnsName ?? '']));
          return {
            ipv6Addresses: i.ipv6Ips, networkInterfaceId: i.id,
            privateDnsName: n?.PrivateDnsName ?? '', privateIpAddress: i.privateIps[0] ?? '',
            privateIpAddresses: i.privateIps.map((ip) => ({ privateDnsName: names.get(ip) ?? '', privateIpAddress: ip })),
            ...(i.publicIps[0] ? { publicIp: i.publicIps[0], publicDnsName: n?.Association?.PublicDnsName ?? '' } : {}),
            securityGroups: i.securityGroupIds.map((g) => ({ groupId: g, groupName: groupNames.get(g) ?? '' })),
            subnetId: i.subnetId, vpcId: i.vpcId,
          };
        }),
        tags,
        instanceState: d?.State?.Name ?? (ifaces.some((i) => i.active) ? 'running' : 'stopped'),
        availabilityZone: d?.Placement?.AvailabilityZone ?? ifaces[0]?.availabilityZone ?? '',
        ...(d?.ImageId ? { imageId: d.ImageId } : {}),
      },
    });
  }
  return out;
}
