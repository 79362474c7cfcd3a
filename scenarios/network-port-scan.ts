// A slow port scan of Northwind's public hosts from one rogue address: one SYN per port, a few
// hundred ports a minute, most of them refused; the open ones (HTTPS on the web server, SSH on the
// bastion) are probed again every minute, as scanners grab banners and try exploits.
import type { Scenario } from '../src/engine/types.ts';
import type { LabSession } from '../src/engine/session.ts';
import { PROTO, Rng, ephemeralPort, portScan, type Flow } from '../src/cloud/services/ec2/dataplane/index.ts';
import { instance } from '../labs/network/company.ts';
import {
  blockedFrom, detection, emptyTally, labEnv, type AttackMinute, type BusinessTally, judgeAttack, runAttack, freshRogueIp, ATTACK_MINUTES,
} from './lib/network.ts';

const PORTS_PER_HOST_PER_MINUTE = 120;

interface Target { address: string; open: number[] }
interface State { ip: string; targets: Target[]; ports: number[]; start: number; minutes: AttackMinute[]; business: BusinessTally }

export const portScanScenario: Scenario = {
  id: 'port-scan',
  title: 'A port scan from a rogue address',
  description: 'One address probes the web server and the bastion port after port, a few hundred a minute, and keeps poking at the ports that answer.',
  techniques: ['T1046', 'T1595.001'],
  detections: ['GuardDuty: Recon:EC2/Portscan', 'Flow logs: many REJECT records from one address to many ports'],
  points: { detected: 8, blocked: 8 },
  async prepare(session: LabSession): Promise<State> {
    const env = labEnv(session);
    const ip = freshRogueIp(session);
    session.hidden['portScanIp'] = ip;
    const web = instance(env, 'web-1');
    const bastion = instance(env, 'bastion');
    const targets = [
      { address: web.publicIp ?? web.privateIp, open: [env.ports.web] },
      { address: bastion.publicIp ?? bastion.privateIp, open: [env.ports.ssh] },
    ];
    // Ports in the order a scanner tries them: shuffled, the well-known ones first.
    const rng = new Rng(ip);
    const shuffle = (xs: number[]) => xs.map((p) => [rng.next(), p] as const).sort((a, b) => a[0] - b[0]).map(([, p]) => p);
    const ports = [...shuffle(Array.from({ length: 1024 }, (_, i) => i + 1)), ...shuffle([1433, 1521, 2375, 3306, 3389, 5432, 5900, 6379, 8080, 8443, 9200, 27017])];
    return { ip, targets, ports, start: 0, minutes: [], business: emptyTally() };
  },
  async inject(session, state) {
    const st = state as State;
    return runAttack(session, st, 'probes', (i, from, to) => {
      const slice = st.ports.slice(i * PORTS_PER_HOST_PER_MINUTE, (i + 1) * PORTS_PER_HOST_PER_MINUTE);
      return st.targets.flatMap((t, k): Flow[] => {
        // Seeded by the minute of the attack, not its (wall-clock dependent) time.
        const rng = new Rng(`${st.ip}:${i}:${k}`);
        const scan = portScan({ attacker: st.ip, target: t.address, start: from, ports: slice, openPorts: t.open, intervalMs: (to - from - 5000) / slice.length, seed: `${st.ip}:${i}:${k}` });
        // Back to the ports that answered: a banner grab or an exploit attempt each.
        const pokes = t.open.map((port): Flow => {
          const start = from + rng.int(1000, 50_000);
          return {
            srcaddr: st.ip, dstaddr: t.address, srcport: ephemeralPort(rng), dstport: port, protocol: PROTO.TCP,
            packets: 6, bytes: 640, response: { packets: 5, bytes: 1800 }, start, end: start + rng.int(200, 3000), label: 'attack:port-scan',
          };
        });
        return [...scan, ...pokes];
      });
    });
  },
  async observe(session, steps, state) {
    const st = state as State;
    const from = blockedFrom(st.minutes);
    const last = st.minutes[st.minutes.length - 1];
    const through = last ? last.flows.filter((f, j) => last.verdicts[j]!.action === 'ACCEPT').map((f) => `${f.dstaddr}:${f.dstport}`) : [];
    return judgeAttack(session, st, steps, await detection(session, st.start), {
      blockedFrom: from, blocked: from !== undefined,
      blockedText: (by) => `blocked: every probe was refused from minute ${from! + 1} of ${ATTACK_MINUTES}${by}`,
      notBlockedText: `not blocked: in the last minute the scanner still reached ${[...new Set(through)].join(', ')} — refused probes are not a block: the address must be denied (network ACL entry before the allow rules)`,
    });
  },
};
