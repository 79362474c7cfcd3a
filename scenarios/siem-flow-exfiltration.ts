// Lab siem: the application server, compromised, pushes a large archive to a host on the internet over HTTPS. No
// AWS API is called: only the VPC flow logs show it.
import type { Scenario } from '../src/engine/types.ts';
import { exfiltration } from '../src/cloud/services/ec2/dataplane/index.ts';
import { randomRogueIp } from '../labs/siem/company.ts';
import { labEnv, MINUTE } from '../labs/siem/background.ts';
import { injecting, observeAttack, siemRun } from '../labs/siem/run.ts';

interface State { ip: string; start: number; sent: boolean }
const BYTES = 1_500_000_000;

export const flowExfiltration: Scenario = {
  id: 'flow-exfiltration',
  title: 'The application server sends 1.5 GB to a host on the internet',
  description: 'A compromised application server uploads an archive of 1.5 GB to a foreign host over HTTPS, in four connections over six minutes. No AWS API is involved: only the flow logs see it.',
  techniques: ['T1048', 'T1041'],
  detections: ['seclab: Large Outbound Transfer to an Internet Address (VPC Flow Logs)'],
  points: { blocked: 0, detected: 10 },
  async prepare(): Promise<State> {
    return { ip: randomRogueIp(), start: 0, sent: false };
  },
  async inject(session, state) {
    const st = state as State;
    return injecting(session, st, async (run) => {
      const step = { description: `upload ${BYTES / 1e9} GB from the application server to ${st.ip}:443 over 6 minutes`, allowed: true, at: st.start };
      session.onAttackStep?.(step);
      return [step];
    });
  },
  async observe(session, steps, state) {
    const st = state as State;
    const app = labEnv(session).vpc.instances.find((i) => i.tier === 'app')!;
    return observeAttack(session, await siemRun(session), st.start, steps, {
      what: 'the 1.5 GB upload to an internet host',
      techniques: ['T1048', 'T1041', 'T1567', 'T1030', 'T1020', 'T1537'],
      tactics: ['exfiltration'],
      isAttack: (e) => e.source === 'vpcflow' && (e.fields['dstaddr'] === st.ip || e.fields['srcaddr'] === st.ip),
      deadlineMs: 20 * MINUTE,
      hint: 'Is there a flow log on the production VPC, and does siem.yml read its destination? A rule on the bytes of accepted flows from a private address to a public one catches it.',
    }, {
      // The attacker's flows belong to the first step of the simulation.
      flows: (from) => {
        if (st.sent) return [];
        st.sent = true;
        return exfiltration({ source: app.privateIp, destination: st.ip, start: from + 30_000, durationMs: 6 * MINUTE, totalBytes: BYTES, connections: 4, seed: st.ip });
      },
    });
  },
};
