// Lab advanced: slow exfiltration from app-2. Malware on the application server uploads customer data to
// a host it controls, about 3 MB a minute over HTTPS — below the 19 MB hourly backups and far below what
// lab network's per-minute byte alarms were tuned for, so only a model of app-2's own behaviour (it never
// talks to that host, never sends that much outside) sees it. Blocked when the uploads are refused from
// some step on and app-2 can reach no other internet host either (isolated, stopped).
import type { Scenario } from '../src/engine/types.ts';
import { PROTO, Rng, ephemeralPort, type Flow } from '../src/cloud/services/ec2/dataplane/index.ts';
import { instance, randomRogueIp } from '../labs/network/company.ts';
import {
  ATTACK_STEPS, blockedFrom, detection, emptyTally, restoreInstance, freshRogueIp, judge, labEnv, probe, runAttack, type AttackState,
} from './lib/advanced.ts';

/** Uploads of about 3 MB a minute from `src` to `dst`:443 over [from, to). */
export function slowExfiltrationFlows(src: string, dst: string, from: number, to: number, seed: string): Flow[] {
  const rng = new Rng(seed);
  const flows: Flow[] = [];
  for (let t = from + rng.int(0, 20_000); t < to - 1000; t += 60_000 + rng.int(-8000, 8000)) {
    const bytes = rng.int(2_500_000, 3_500_000);
    const packets = Math.ceil(bytes / 1448);
    flows.push({
      srcaddr: src, dstaddr: dst, srcport: ephemeralPort(rng), dstport: 443, protocol: PROTO.TCP, packets, bytes,
      response: { packets: Math.ceil(packets / 2), bytes: Math.ceil(packets / 2) * 52 }, start: t, end: Math.min(to - 1, t + rng.int(20_000, 40_000)), label: 'attack:slow-exfiltration',
    });
  }
  return flows;
}

interface State extends AttackState { ip: string; victim: { name: string; id: string; privateIp: string } }

export const slowExfiltrationScenario: Scenario = {
  id: 'slow-exfiltration',
  title: 'Slow exfiltration from app-2, under the per-minute thresholds',
  description: 'Malware on app-2 uploads customer data to a host on the internet, about 3 MB a minute over HTTPS, for twenty minutes: less per minute than the hourly backup sends.',
  techniques: ['T1041', 'T1030', 'T1048.002'],
  detections: ['Anomaly model: bytes_out, peers_out and new_peer_ratio far above app-2\'s normal', 'GuardDuty: Behavior:EC2/TrafficVolumeUnusual (after its learning period)'],
  points: { detected: 4, blocked: 4 },
  async prepare(session): Promise<State> {
    const env = labEnv(session);
    const ip = freshRogueIp(session);
    session.hidden['slowExfiltrationIp'] = ip;
    const v = instance(env, 'app-2');
    return { ip, victim: { name: v.name, id: v.id, privateIp: v.privateIp }, start: 0, steps: [], business: emptyTally() };
  },
  async inject(session, state) {
    const st = state as State;
    return runAttack(session, st, `uploads from ${st.victim.name}`, (i, from, to) => slowExfiltrationFlows(st.victim.privateIp, st.ip, from, to, `${st.ip}:${i}`));
  },
  async observe(session, steps, state) {
    const st = state as State;
    const d = await detection(session, st.start, {
      guardDuty: { types: ['Behavior:EC2/TrafficVolumeUnusual', 'Exfiltration:EC2/TrafficVolumeUnusual'], about: (f) => JSON.stringify(f.resource).includes(st.victim.id) },
      anomalyHosts: [st.victim.privateIp, st.ip],
    });
    const from = blockedFrom(st.steps);
    const now = session.now();
    const elsewhere = randomRogueIp([st.ip], session.random);
    const isolated = (await probe(session, [443, 80].map((port, k): Flow => ({
      srcaddr: st.victim.privateIp, dstaddr: elsewhere, srcport: 40000 + k, dstport: port, protocol: PROTO.TCP, packets: 10, bytes: 5000, start: now, end: now + 1000,
    })))).every((v) => v.action !== 'ACCEPT');
    const sent = st.steps.reduce((n, m) => n + m.flows.reduce((b, f, j) => b + (m.verdicts[j]!.action === 'ACCEPT' ? f.bytes : 0), 0), 0);
    return judge(session, st, steps, d, {
      blocked: from !== undefined && isolated, ...(from !== undefined ? { effectiveAt: st.steps[from]!.from } : {}),
      blockedText: (by) => `blocked: ${st.victim.name} was cut off from step ${from! + 1} of ${ATTACK_STEPS}${by}, after ${(sent / 1e6).toFixed(0)} MB had left`,
      notBlockedText: from === undefined
        ? `not blocked: ${st.victim.name} was still uploading in the last step (${(sent / 1e6).toFixed(0)} MB left in all) — isolate the instance (a quarantine security group without rules) or stop it`
        : `not blocked: the uploads were refused, but ${st.victim.name} can still reach other hosts on the internet — isolate the compromised instance itself`,
    });
  },
  async revert(session, state) {
    await restoreInstance(session, (state as State).victim.name);
  },
};
