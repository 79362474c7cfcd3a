// Exfiltration from a compromised application server: hundreds of megabytes a minute over HTTPS to a
// host the attacker controls. Blocked when the transfers are refused and the instance is isolated
// (or stopped, or terminated): a compromised host must not keep talking to the internet.
import type { Scenario } from '../src/engine/types.ts';
import type { LabSession } from '../src/engine/session.ts';
import { PROTO, Rng, ephemeralPort, type Flow } from '../src/cloud/services/ec2/dataplane/index.ts';
import { randomRogueIp } from '../labs/network/company.ts';
import {
  blockedFrom, detection, emptyTally, labEnv, probe, type AttackMinute, type BusinessTally, judgeAttack, runAttack, freshRogueIp, ATTACK_MINUTES,
} from './lib/network.ts';

const CONNECTIONS_PER_MINUTE = 4;
const BYTES_PER_CONNECTION = 120_000_000;

interface State { ip: string; victim: { name: string; id: string; privateIp: string }; start: number; minutes: AttackMinute[]; business: BusinessTally }

export const exfiltrationScenario: Scenario = {
  id: 'exfiltration',
  title: 'Exfiltration from an application server to a rogue host',
  description: 'Malware on one of the application servers uploads the customer database to a host on the internet, about half a gigabyte a minute.',
  techniques: ['T1041', 'T1048.002', 'T1567'],
  detections: ['GuardDuty: Trojan:EC2/DropPoint', 'Flow logs: large outbound byte counts from one instance to one outside address'],
  points: { detected: 8, blocked: 8 },
  async prepare(session: LabSession): Promise<State> {
    const env = labEnv(session);
    const ip = freshRogueIp(session);
    const apps = env.instances.filter((i) => i.tier === 'app');
    const victim = session.random.pick(apps);
    session.hidden['exfiltrationIp'] = ip;
    session.hidden['exfiltrationInstance'] = victim.id;
    return { ip, victim: { name: victim.name, id: victim.id, privateIp: victim.privateIp }, start: 0, minutes: [], business: emptyTally() };
  },
  async inject(session, state) {
    const st = state as State;
    return runAttack(session, st, `uploads from ${st.victim.name}`, (minute, from, to) => {
      // Seeded by the minute of the attack, not its (wall-clock dependent) time.
      const rng = new Rng(`${st.ip}:${minute}`);
      return Array.from({ length: CONNECTIONS_PER_MINUTE }, (_, k): Flow => {
        const bytes = Math.round(BYTES_PER_CONNECTION * (0.8 + rng.next() * 0.4));
        const packets = Math.ceil(bytes / 1448);
        const start = from + k * 2000 + rng.int(0, 1500);
        return {
          srcaddr: st.victim.privateIp, dstaddr: st.ip, srcport: ephemeralPort(rng), dstport: 443, protocol: PROTO.TCP,
          packets, bytes, response: { packets: Math.ceil(packets / 2), bytes: Math.ceil(packets / 2) * 52 },
          start, end: to - 1 - rng.int(0, 3000), label: 'attack:exfiltration',
        };
      });
    });
  },
  async observe(session, steps, state) {
    const st = state as State;
    const d = await detection(session, st.start);
    const from = blockedFrom(st.minutes);
    // Isolated or gone: the instance can reach no other host on the internet either.
    const now = session.now();
    const elsewhere = randomRogueIp([st.ip]);
    const probes = await probe(session, [443, 80].map((port, k): Flow => ({
      srcaddr: st.victim.privateIp, dstaddr: elsewhere, srcport: 40000 + k, dstport: port, protocol: PROTO.TCP, packets: 10, bytes: 5000, start: now, end: now + 1000,
    })));
    const isolated = probes.every((v) => v.action !== 'ACCEPT');
    const sent = st.minutes.reduce((n, m) => n + m.flows.reduce((b, f, j) => b + (m.verdicts[j]!.action === 'ACCEPT' ? f.bytes : 0), 0), 0);
    return judgeAttack(session, st, steps, d, {
      blockedFrom: from, blocked: from !== undefined && isolated,
      blockedText: (by) => `blocked: ${st.victim.name} was cut off from minute ${from! + 1} of ${ATTACK_MINUTES}${by}, after ${(sent / 1e6).toFixed(0)} MB had left`,
      notBlockedText: from === undefined
        ? `not blocked: ${st.victim.name} was still uploading in the last minute (${(sent / 1e6).toFixed(0)} MB left in all) — isolate the instance (a security group without rules) or stop it`
        : `not blocked: the uploads to the attacker's host were refused, but ${st.victim.name} can still reach other hosts on the internet — isolate the compromised instance itself, not only the address it talked to`,
    });
  },
};
