// Lab siem: the application server, compromised, pushes a large archive to hosts on the internet, in three
// streams by three different ways out: HTTPS (TCP 443), SFTP (TCP 22) and QUIC (UDP 443). No AWS API is called:
// only the VPC flow logs show it. Detected when every stream raised an alert of the exfiltration tactic — a rule
// that watches one port or one protocol misses the rest — and the administrators were told.
import type { Scenario } from '../src/engine/types.ts';
import { PROTO, exfiltration, type Flow } from '../src/cloud/services/ec2/dataplane/index.ts';
import { randomRogueIp } from '../labs/siem/company.ts';
import { labEnv, MINUTE } from '../labs/siem/background.ts';
import { injecting, observeAttack, siemRun } from '../labs/siem/run.ts';

interface Stream { what: string; ip: string; port: number; protocol: number }
interface State { streams: Stream[]; start: number; sent: boolean }
const BYTES = 1_500_000_000;
/** The ways out, each carrying a third of the archive in one long connection. */
const WAYS = [
  { what: 'HTTPS (TCP 443)', port: 443, protocol: PROTO.TCP },
  { what: 'SFTP (TCP 22)', port: 22, protocol: PROTO.TCP },
  { what: 'QUIC (UDP 443)', port: 443, protocol: PROTO.UDP },
];

export const flowExfiltration: Scenario = {
  id: 'flow-exfiltration',
  title: 'The application server sends 1.5 GB to hosts on the internet, by three ways out',
  description: 'A compromised application server uploads an archive of 1.5 GB to foreign hosts over six minutes, a third each over HTTPS (TCP 443), SFTP (TCP 22) and QUIC (UDP 443). No AWS API is involved: only the flow logs see it.',
  techniques: ['T1048', 'T1041'],
  detections: ['seclab: Large Outbound Transfer to an Internet Address (VPC Flow Logs)'],
  points: { blocked: 0, detected: 10 },
  async prepare(): Promise<State> {
    const ips: string[] = [];
    while (ips.length < WAYS.length) {
      const ip = randomRogueIp();
      if (!ips.includes(ip)) ips.push(ip);
    }
    return { streams: WAYS.map((w, i) => ({ ...w, ip: ips[i]! })), start: 0, sent: false };
  },
  async inject(session, state) {
    const st = state as State;
    return injecting(session, st, async () => {
      const steps = st.streams.map((x) => ({ description: `upload ${(BYTES / WAYS.length / 1e6).toFixed(0)} MB from the application server to ${x.ip} over ${x.what}, over 6 minutes`, allowed: true, at: st.start }));
      for (const step of steps) session.onAttackStep?.(step);
      return steps;
    });
  },
  async observe(session, steps, state) {
    const st = state as State;
    const app = labEnv(session).vpc.instances.find((i) => i.tier === 'app')!;
    const ofStream = (x: Stream) => (e: { source: string; fields: Record<string, unknown> }) =>
      e.source === 'vpcflow' && (e.fields['dstaddr'] === x.ip || e.fields['srcaddr'] === x.ip);
    return observeAttack(session, await siemRun(session), st.start, steps, {
      what: 'the 1.5 GB upload to internet hosts',
      techniques: ['T1048', 'T1041', 'T1567', 'T1030', 'T1020', 'T1537'],
      tactics: ['exfiltration'],
      isAttack: (e) => st.streams.some((x) => ofStream(x)(e)),
      parts: st.streams.map((x) => ({ what: `the upload over ${x.what}`, isPart: ofStream(x) })),
      deadlineMs: 20 * MINUTE,
      hint: 'Is there a flow log on the production VPC, and does siem.yml read its destination? A rule on the bytes of accepted flows from a private address to a public one, whatever the port and protocol, catches it.',
    }, {
      // The attacker's flows belong to the first step of the simulation.
      flows: (from) => {
        if (st.sent) return [];
        st.sent = true;
        return st.streams.flatMap((x): Flow[] => exfiltration({
          source: app.privateIp, destination: x.ip, start: from + 30_000, durationMs: 6 * MINUTE, totalBytes: BYTES / WAYS.length, connections: 1, port: x.port, seed: x.ip,
        }).map((f) => ({ ...f, protocol: x.protocol })));
      },
    });
  },
};
