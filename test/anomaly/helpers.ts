// Hand-made and seeded synthetic flow records for the anomaly tests.
import { Random } from '../../src/engine/random.ts';
import type { FlowRecord } from '../../src/controls/anomaly/index.ts';

export function flow(srcaddr: string, dstaddr: string, start: number, over: Partial<FlowRecord> = {}): FlowRecord {
  return { srcaddr, dstaddr, srcport: 40000, dstport: 443, protocol: 6, packets: 10, bytes: 5000, start, end: start + 1, action: 'ACCEPT', ...over };
}

/** Log-normal-ish positive number around `median`. */
function around(rnd: Random, median: number): number {
  // Sum of uniforms ~ normal (Irwin–Hall), enough for test traffic.
  let z = 0;
  for (let i = 0; i < 6; i++) z += rnd.next();
  return Math.max(1, Math.round(median * Math.exp((z - 3) * 0.5)));
}

/**
 * Normal traffic of a small office: each host talks to a handful of its usual servers at random
 * moments, the servers answer. `from`/`minutes` give the period; the seed makes it reproducible.
 */
export function normalTraffic(seed: string, from: number, minutes: number, hosts = 8): FlowRecord[] {
  const rnd = new Random(seed);
  const out: FlowRecord[] = [];
  const servers = Array.from({ length: 12 }, (_, i) => `203.0.113.${i + 1}`);
  for (let h = 0; h < hosts; h++) {
    const host = `10.0.0.${h + 10}`;
    // A host's usual servers belong to the office, not to the stretch of traffic drawn.
    const office = new Random(`office/${h}`);
    const usual = [office.pick(servers), office.pick(servers), office.pick(servers)];
    for (let m = 0; m < minutes; m++) {
      const n = rnd.int(0, 4);
      for (let k = 0; k < n; k++) {
        const t = from + m * 60 + rnd.int(0, 59);
        const peer = rnd.pick(usual);
        const port = rnd.next() < 0.8 ? 443 : 80;
        out.push(flow(host, peer, t, { srcport: rnd.int(32768, 60999), dstport: port, packets: around(rnd, 12), bytes: around(rnd, 4000) }));
        out.push(flow(peer, host, t, { srcport: port, dstport: 40000, packets: around(rnd, 20), bytes: around(rnd, 30000) }));
      }
    }
  }
  return out.sort((a, b) => a.start - b.start);
}
