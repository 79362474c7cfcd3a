// Lab advanced: C2 beaconing from app-1. An implant on the application server checks in with its
// command-and-control server every 30 seconds (a second of jitter), a few hundred bytes each way. The
// C2 address is on the company's threat feed (a GuardDuty ThreatIntelSet made from it names it) and in
// GuardDuty's own intelligence; the anomaly model sees a new, perfectly periodic peer. Blocked when the
// beacons are refused from some step on (the address denied, or app-1 isolated).
import type { Scenario } from '../src/engine/types.ts';
import { PROTO, Rng, ephemeralPort, type Flow } from '../src/cloud/services/ec2/dataplane/index.ts';
import { instance } from '../labs/network/company.ts';
import { advancedHidden } from '../labs/advanced/company.ts';
import { ATTACK_STEPS, blockedFrom, detection, emptyTally, restoreInstance, judge, labEnv, runAttack, type AttackState } from './lib/advanced.ts';

/** A check-in every 30 s (± 1 s) from `src` to `c2`:443 over [from, to). */
export function beaconFlows(src: string, c2: string, from: number, to: number, seed: string): Flow[] {
  const rng = new Rng(seed);
  const flows: Flow[] = [];
  for (let t = from + rng.int(0, 5000); t < to - 2000; t += 30_000 + rng.int(-1000, 1000)) {
    flows.push({
      srcaddr: src, dstaddr: c2, srcport: ephemeralPort(rng), dstport: 443, protocol: PROTO.TCP, packets: 4, bytes: rng.int(280, 340),
      response: { packets: 4, bytes: rng.int(420, 520) }, start: t, end: t + rng.int(80, 300), label: 'attack:c2-beaconing',
    });
  }
  return flows;
}

interface State extends AttackState { c2: string; victim: { name: string; id: string; privateIp: string } }

export const c2BeaconingScenario: Scenario = {
  id: 'c2-beaconing',
  title: 'C2 beaconing from app-1 to a command-and-control server',
  description: 'An implant on app-1 connects to its command-and-control server every 30 seconds for twenty minutes, a few hundred bytes each time.',
  techniques: ['T1071.001', 'T1573', 'T1029'],
  detections: ['GuardDuty: UnauthorizedAccess:EC2/MaliciousIPCaller.Custom (threat list)', 'GuardDuty: Backdoor:EC2/C&CActivity.B', 'Anomaly model: periodic_peers, beacon_cv'],
  points: { detected: 4, blocked: 4 },
  async prepare(session): Promise<State> {
    const env = labEnv(session);
    const v = instance(env, 'app-1');
    return { c2: advancedHidden(session.hidden).c2Ip, victim: { name: v.name, id: v.id, privateIp: v.privateIp }, start: 0, steps: [], business: emptyTally() };
  },
  async inject(session, state) {
    const st = state as State;
    return runAttack(session, st, `check-ins from ${st.victim.name}`, (i, from, to) => beaconFlows(st.victim.privateIp, st.c2, from, to, `${st.c2}:${i}`));
  },
  async observe(session, steps, state) {
    const st = state as State;
    const d = await detection(session, st.start, {
      guardDuty: { types: ['UnauthorizedAccess:EC2/MaliciousIPCaller.Custom', 'Backdoor:EC2/C&CActivity.B'], about: (f) => JSON.stringify(f.resource).includes(st.victim.id) },
      anomalyHosts: [st.victim.privateIp, st.c2],
    });
    const from = blockedFrom(st.steps);
    const through = st.steps.reduce((n, m) => n + m.verdicts.filter((v) => v.action === 'ACCEPT').length, 0);
    return judge(session, st, steps, d, {
      blocked: from !== undefined, ...(from !== undefined ? { effectiveAt: st.steps[from]!.from } : {}),
      blockedText: (by) => `blocked: every check-in was refused from step ${from! + 1} of ${ATTACK_STEPS}${by} (${through} got through before)`,
      notBlockedText: `not blocked: ${st.victim.name} still reached its C2 server in the last step (${through} check-ins in all) — deny the address (network ACL entry before the allow rules) and isolate the instance`,
    });
  },
  async revert(session, state) {
    await restoreInstance(session, (state as State).victim.name);
  },
};
