// Lab advanced: a port scan of web-1 and the bastion from a rogue address, while the contracted scanner
// (env.knownScanner) runs a scan of its own. The rogue scan must be reported and its address denied; the
// contracted scanner's must be neither reported (its findings archived by a filter) nor blocked.
import type { Scenario } from '../src/engine/types.ts';
import { PROTO, Rng, ephemeralPort, portScan, type Flow } from '../src/cloud/services/ec2/dataplane/index.ts';
import { instance } from '../labs/network/company.ts';
import { scanAt } from '../labs/advanced/baseline.ts';
import {
  ATTACK_STEPS, blockedFrom, detection, emptyTally, freshRogueIp, guardDutyFindings, judge, labEnv, runAttack, scannerBlocked, type AttackState,
} from './lib/advanced.ts';

const PORTS_PER_HOST_PER_STEP = 300;

export interface ScanTarget { address: string; open: number[] }

/** Ports in the order a scanner tries them: shuffled, the well-known ones first. */
export function scanOrder(seed: string): number[] {
  const rng = new Rng(seed);
  const shuffle = (xs: number[]) => xs.map((p) => [rng.next(), p] as const).sort((a, b) => a[0] - b[0]).map(([, p]) => p);
  return [...shuffle(Array.from({ length: 1024 }, (_, i) => i + 1)), ...shuffle([1433, 1521, 2375, 3306, 3389, 5432, 5900, 6379, 8080, 8443, 9200, 27017])];
}

/** One step of the rogue scan: the next slice of ports on each target, and a poke at the open ones. */
export function rogueScanFlows(ip: string, targets: ScanTarget[], ports: number[], i: number, from: number, to: number): Flow[] {
  const slice = ports.slice((i * PORTS_PER_HOST_PER_STEP) % ports.length, ((i * PORTS_PER_HOST_PER_STEP) % ports.length) + PORTS_PER_HOST_PER_STEP);
  return targets.flatMap((t, k): Flow[] => {
    const rng = new Rng(`${ip}:${i}:${k}`);
    const scan = portScan({ attacker: ip, target: t.address, start: from, ports: slice, openPorts: t.open, intervalMs: (to - from - 5000) / Math.max(1, slice.length), seed: `${ip}:${i}:${k}` })
      .map((f) => ({ ...f, label: 'attack:port-scan' }));
    const pokes = t.open.map((port): Flow => {
      const start = from + rng.int(1000, 50_000);
      return { srcaddr: ip, dstaddr: t.address, srcport: ephemeralPort(rng), dstport: port, protocol: PROTO.TCP, packets: 6, bytes: 640, response: { packets: 5, bytes: 1800 }, start, end: start + rng.int(200, 3000), label: 'attack:port-scan' };
    });
    return [...scan, ...pokes];
  });
}

interface State extends AttackState { ip: string; targets: ScanTarget[]; ids: string[]; privateIps: string[]; ports: number[] }

export const advancedPortScanScenario: Scenario = {
  id: 'port-scan',
  title: 'A port scan from a rogue address, beside the contracted scanner',
  description: 'A rogue address probes web-1 and the bastion port after port for twenty minutes and keeps poking at the ports that answer, while the contracted scanner runs its own scan.',
  techniques: ['T1046', 'T1595.001'],
  detections: ['GuardDuty: Recon:EC2/PortProbeUnprotectedPort', 'Anomaly model: dst_ports and rejected_out of the scanning address, rejected_in of the targets'],
  points: { detected: 4, blocked: 4 },
  async prepare(session): Promise<State> {
    const env = labEnv(session);
    const ip = freshRogueIp(session);
    session.hidden['portScanIp'] = ip;
    const hosts = ['web-1', 'bastion'].map((n) => instance(env, n));
    return {
      ip, ids: hosts.map((h) => h.id), privateIps: hosts.map((h) => h.privateIp),
      targets: hosts.map((h) => ({ address: h.publicIp ?? h.privateIp, open: [h.name === 'web-1' ? env.ports.web : env.ports.ssh] })),
      ports: scanOrder(ip), start: 0, steps: [], business: emptyTally(),
    };
  },
  async inject(session, state) {
    const st = state as State;
    const env = labEnv(session);
    // The contracted scanner's scan runs in the first step, judged with the company's traffic (a refused
    // probe of an open port counts against the business).
    return runAttack(session, st, 'probes', (i, from, to) => rogueScanFlows(st.ip, st.targets, st.ports, i, from, to), undefined,
      (i, from) => (i === 0 ? scanAt(env, env.knownScanner.ip, from + 10_000) : []));
  },
  async observe(session, steps, state) {
    const st = state as State;
    const env = labEnv(session);
    const d = await detection(session, st.start, {
      guardDuty: { types: ['Recon:EC2/PortProbeUnprotectedPort', 'Recon:EC2/Portscan'], about: (f) => JSON.stringify(f.service.action).includes(st.ip) },
      anomalyHosts: [st.ip, ...st.privateIps],
    });
    const from = blockedFrom(st.steps);
    const last = st.steps.at(-1);
    const through = last ? [...new Set(last.flows.filter((f, j) => last.verdicts[j]!.action === 'ACCEPT').map((f) => `${f.dstaddr}:${f.dstport}`))] : [];
    // The contracted scanner: no unarchived finding about it, and not blocked.
    const reported = (await guardDutyFindings(session, st.start)).filter((f) => JSON.stringify(f.service.action).includes(env.knownScanner.ip));
    const blockedScanner = await scannerBlocked(session);
    const extra = [
      ...(blockedScanner ? [blockedScanner] : []),
    ];
    const r = judge(session, st, steps, d, {
      blocked: from !== undefined, ...(from !== undefined ? { effectiveAt: st.steps[from]!.from } : {}),
      blockedText: (by) => `blocked: every probe was refused from step ${from! + 1} of ${ATTACK_STEPS}${by}`,
      notBlockedText: `not blocked: in the last step the rogue scanner still reached ${through.join(', ') || 'the hosts'} — refused probes are not a block: deny the address (network ACL entry before the allow rules)`,
      extraBusiness: extra,
    });
    if (reported.length) {
      // Reporting the contracted scanner is noise, not a detection of the attack.
      r.feedback += `; the contracted scanner ${env.knownScanner.ip} was reported too (${[...new Set(reported.map((f) => f.type))].join(', ')}, unarchived): an ARCHIVE filter on its address suppresses that`;
    }
    return r;
  },
};
