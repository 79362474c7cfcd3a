// SSH brute force against Northwind's public hosts from one rogue address: many short TCP/22
// conversations. The web server's security group refuses them (rejected SSH in the flow logs); the
// bastion, open to SSH from anywhere for the contractors, accepts them until someone blocks the address.
import type { Scenario } from '../src/engine/types.ts';
import type { LabSession } from '../src/engine/session.ts';
import { sshBruteForce, type Flow } from '../src/cloud/services/ec2/dataplane/index.ts';
import { instance } from '../labs/network/company.ts';
import {
  blockedFrom, detection, emptyTally, labEnv, type AttackMinute, type BusinessTally, judgeAttack, runAttack, freshRogueIp, ATTACK_MINUTES,
} from './lib/network.ts';

const ATTEMPTS_PER_HOST_PER_MINUTE = 24;

interface State { ip: string; targets: string[]; start: number; minutes: AttackMinute[]; business: BusinessTally }

export const sshBruteForceScenario: Scenario = {
  id: 'ssh-brute-force',
  title: 'SSH brute force from a rogue address',
  description: 'An address never seen before tries passwords over SSH against the web server and the bastion, dozens of times a minute, for several minutes.',
  techniques: ['T1110.001', 'T1021.004', 'T1133'],
  detections: ['GuardDuty: UnauthorizedAccess:EC2/SSHBruteForce', 'Flow logs: many REJECT records to port 22 from one address'],
  points: { detected: 8, blocked: 8 },
  async prepare(session: LabSession): Promise<State> {
    const env = labEnv(session);
    const ip = freshRogueIp(session);
    session.hidden['sshBruteForceIp'] = ip;
    const targets = ['web-1', 'bastion'].map((n) => instance(env, n)).map((i) => i.publicIp ?? i.privateIp);
    return { ip, targets, start: 0, minutes: [], business: emptyTally() };
  },
  async inject(session, state) {
    const st = state as State;
    return runAttack(session, st, 'SSH login attempts', (minute, from, to) => st.targets.flatMap((target, k): Flow[] => sshBruteForce({
      attacker: st.ip, target, start: from, attempts: ATTEMPTS_PER_HOST_PER_MINUTE, intervalMs: (to - from) / (ATTEMPTS_PER_HOST_PER_MINUTE + 1), seed: `${st.ip}:${minute}:${k}`,
    }).map((f) => ({ ...f, start: Math.min(f.start, to - 4000), end: Math.min(f.end, to - 1) }))));
  },
  async observe(session, steps, state) {
    const st = state as State;
    const from = blockedFrom(st.minutes);
    const bastionAccepted = st.minutes.reduce((n, m) => n + m.verdicts.filter((v, j) => v.action === 'ACCEPT' && m.flows[j]!.dstaddr === st.targets[1]).length, 0);
    return judgeAttack(session, st, steps, await detection(session, st.start), {
      blockedFrom: from, blocked: from !== undefined,
      blockedText: (by) => `blocked: every SSH attempt was refused from minute ${from! + 1} of ${ATTACK_MINUTES}${by}; the bastion had let ${bastionAccepted} through before`,
      notBlockedText: `not blocked: the bastion still accepted SSH from the attacker in the last minute (${bastionAccepted} conversations in all) — have the responder add a network ACL deny entry for the address, numbered below the allow rules`,
    });
  },
};
