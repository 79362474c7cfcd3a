// Lab advanced: a DDoS burst against the web site. About a hundred addresses open HTTPS connections to
// web-1 for twenty minutes; twenty of them (the heaviest) twenty a minute each, the rest a few. The web
// tier must stay up: isolating web-1 or denying everyone is not a response. Blocked when, in the last
// step, every connection of the twenty heaviest sources is refused (network ACL deny entries before the
// allow rules; an ACL holds twenty entries, so pick the heaviest) and customers still get through.
import type { Scenario } from '../src/engine/types.ts';
import { PROTO, Rng, ephemeralPort, type Flow } from '../src/cloud/services/ec2/dataplane/index.ts';
import { instance } from '../labs/network/company.ts';
import { ATTACK_STEPS, detection, emptyTally, judge, labEnv, runAttack, type AttackState } from './lib/advanced.ts';

const HEAVY = 20;
const LIGHT = 80;

/** The flood's sources: hosting ranges far from the company's customers, from the seed. */
export function floodSources(seed: string): { heavy: string[]; light: string[] } {
  const rng = new Rng(`flood:${seed}`);
  const prefixes = ['37.120', '77.247', '94.102', '103.251', '138.199', '156.146', '171.25', '185.107', '195.176', '209.141'];
  const all = new Set<string>();
  while (all.size < HEAVY + LIGHT) all.add(`${rng.pick(prefixes)}.${rng.int(0, 255)}.${rng.int(2, 253)}`);
  const list = [...all];
  return { heavy: list.slice(0, HEAVY), light: list.slice(HEAVY) };
}

/** Connections to `target`:443 over [from, to): 20 a minute from each heavy source, 3 from each light one. */
export function floodFlows(target: string, sources: { heavy: string[]; light: string[] }, from: number, to: number, seed: string): Flow[] {
  const rng = new Rng(seed);
  const flows: Flow[] = [];
  const minutes = Math.max(1, Math.round((to - from) / 60_000));
  const add = (src: string, perMinute: number) => {
    for (let k = 0; k < perMinute * minutes; k++) {
      const t = from + rng.int(0, to - from - 2000);
      flows.push({
        srcaddr: src, dstaddr: target, srcport: ephemeralPort(rng), dstport: 443, protocol: PROTO.TCP, packets: rng.int(3, 8), bytes: rng.int(200, 900),
        response: { packets: 3, bytes: rng.int(150, 600) }, start: t, end: t + rng.int(50, 1500), label: 'attack:ddos-burst',
      });
    }
  };
  for (const s of sources.heavy) add(s, 20);
  for (const s of sources.light) add(s, 3);
  return flows.sort((a, b) => a.start - b.start);
}

interface State extends AttackState { sources: { heavy: string[]; light: string[] }; target: { id: string; address: string; privateIp: string } }

export const ddosBurstScenario: Scenario = {
  id: 'ddos-burst',
  title: 'A DDoS burst against the web server',
  description: 'About a hundred addresses flood web-1 with HTTPS connections for twenty minutes, twenty of them far harder than the rest. Customers must still be served.',
  techniques: ['T1498.001', 'T1499.002'],
  detections: ['Anomaly model: fan_in and flows_in of web-1 far above normal; new sources'],
  points: { detected: 4, blocked: 4 },
  async prepare(session): Promise<State> {
    const env = labEnv(session);
    const web = instance(env, 'web-1');
    const sources = floodSources(session.random.seedFor('ddos'));
    return { sources, target: { id: web.id, address: web.publicIp ?? web.privateIp, privateIp: web.privateIp }, start: 0, steps: [], business: emptyTally() };
  },
  async inject(session, state) {
    const st = state as State;
    return runAttack(session, st, 'flood connections to web-1', (i, from, to) => floodFlows(st.target.address, st.sources, from, to, `${st.sources.heavy[0]}:${i}`));
  },
  async observe(session, steps, state) {
    const st = state as State;
    const d = await detection(session, st.start, {
      guardDuty: { types: ['Backdoor:EC2/DenialOfService.Tcp'], about: (f) => JSON.stringify(f.resource).includes(st.target.id) && JSON.stringify(f.service.action).includes('INBOUND') },
      anomalyHosts: [st.target.privateIp, ...st.sources.heavy, ...st.sources.light],
    });
    const heavy = new Set(st.sources.heavy);
    const heavyRefused = (i: number) => {
      const m = st.steps[i]!;
      return m.flows.every((f, j) => !heavy.has(f.srcaddr) || m.verdicts[j]!.action !== 'ACCEPT');
    };
    let from: number | undefined;
    for (let i = st.steps.length - 1; i >= 0 && heavyRefused(i); i--) from = i;
    const last = st.steps.at(-1);
    const stillIn = last ? new Set(last.flows.filter((f, j) => heavy.has(f.srcaddr) && last.verdicts[j]!.action === 'ACCEPT').map((f) => f.srcaddr)).size : HEAVY;
    return judge(session, st, steps, d, {
      blocked: from !== undefined, ...(from !== undefined ? { effectiveAt: st.steps[from]!.from } : {}),
      blockedText: (by) => `blocked: the ${HEAVY} heaviest sources were refused from step ${from! + 1} of ${ATTACK_STEPS}${by}`,
      notBlockedText: `not blocked: ${stillIn} of the ${HEAVY} heaviest sources still reached web-1 in the last step — deny the addresses that send the most (network ACL entries before the allow rules), not the web server`,
    });
  },
};
