// The traffic generator: deterministic per seed, realistic shapes, judged as the lab expects.
import { describe, expect, it } from 'vitest';
import { judgeFlow } from '../../src/cloud/services/ec2/dataplane/judge.ts';
import { Rng, addressIn, exfiltration, normalTraffic, portScan, selectInterfaces, sshBruteForce, type CompanyProfile } from '../../src/cloud/services/ec2/dataplane/traffic.ts';
import { inCidr } from '../../src/cloud/services/ec2/dataplane/net.ts';
import { ROGUE, threeTier } from './fixtures.ts';

const T0 = Date.UTC(2026, 0, 5, 9);
const profile: CompanyProfile = {
  web: { tags: { Tier: 'web' } }, app: { tags: { Tier: 'app' } }, db: { tags: { Tier: 'db' } },
  backups: { firstAtMs: 5 * 60_000, everyMs: 30 * 60_000 },
};

describe('normal traffic', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const t = threeTier();
    const a = normalTraffic(t, profile, { from: T0, to: T0 + 3600_000, seed: 42 });
    const b = normalTraffic(t, profile, { from: T0, to: T0 + 3600_000, seed: 42 });
    const c = normalTraffic(t, profile, { from: T0, to: T0 + 3600_000, seed: 43 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('has the company\'s activities, inside the time range, sorted, and all of it is accepted', () => {
    const t = threeTier();
    const flows = normalTraffic(t, profile, { from: T0, to: T0 + 3600_000, seed: 1 });
    const labels = new Map<string, number>();
    for (const f of flows) labels.set(f.label!, (labels.get(f.label!) ?? 0) + 1);
    expect([...labels.keys()].sort()).toEqual(['app-db', 'backup', 'update', 'web', 'web-app']);
    // ~120 web requests per minute and ~90 queries per minute by default
    expect(labels.get('web')!).toBeGreaterThan(6000);
    expect(labels.get('web')!).toBeLessThan(8500);
    expect(labels.get('app-db')!).toBeGreaterThan(4500);
    expect(labels.get('backup')).toBe(2);
    for (let i = 1; i < flows.length; i++) expect(flows[i]!.start).toBeGreaterThanOrEqual(flows[i - 1]!.start);
    for (const f of flows) {
      expect(f.start).toBeGreaterThanOrEqual(T0);
      expect(f.end).toBeLessThan(T0 + 3600_000);
      expect(f.end).toBeGreaterThanOrEqual(f.start);
    }
    const rejected = flows.map((f) => [f.label, judgeFlow(f, t)] as const).filter(([, v]) => v.action !== 'ACCEPT');
    expect(rejected.map(([l, v]) => `${l}: ${v.reason}`)).toEqual([]);
    // users reach the web tier on its public address when it has one, from the documentation ranges
    const web = flows.filter((f) => f.label === 'web');
    expect(new Set(web.map((f) => f.dstaddr))).toEqual(new Set(['54.1.2.3', '10.0.1.11']));
    expect(web.every((f) => ['198.18.0.0/15', '198.51.100.0/24', '192.0.2.0/24'].some((c) => inCidr(c, f.srcaddr)))).toBe(true);
    // backups are big and marked as going to S3
    const backup = flows.find((f) => f.label === 'backup')!;
    expect(backup).toMatchObject({ srcaddr: '10.0.3.10', dstport: 443, pktDstAwsService: 'S3' });
    expect(backup.bytes).toBeGreaterThan(10_000_000);
  });

  it('selects tiers by tags, subnets, groups and ids, active interfaces only', () => {
    const t = threeTier();
    expect(selectInterfaces(t, { tags: { Tier: 'web' } }).map((i) => i.id)).toEqual(['eni-web1', 'eni-web2']);
    expect(selectInterfaces(t, { subnetIds: ['subnet-app'] }).map((i) => i.id)).toEqual(['eni-app1']); // eni-old is stopped
    expect(selectInterfaces(t, { securityGroupIds: ['sg-db'] }).map((i) => i.id)).toEqual(['eni-db1']);
    expect(selectInterfaces(t, { instanceIds: ['i-web2'] }).map((i) => i.id)).toEqual(['eni-web2']);
  });

  it('draws addresses inside the given blocks', () => {
    const rng = new Rng('x');
    for (let i = 0; i < 200; i++) expect(inCidr('198.18.0.0/15', addressIn(rng, '198.18.0.0/15'))).toBe(true);
  });
});

describe('attacks', () => {
  it('SSH brute force: many short TCP/22 conversations from one address, rejected at the web tier', () => {
    const flows = sshBruteForce({ attacker: ROGUE, target: '10.0.1.10', start: T0, attempts: 300, intervalMs: 1000 });
    expect(flows).toHaveLength(300);
    expect(new Set(flows.map((f) => f.srcaddr))).toEqual(new Set([ROGUE]));
    expect(flows.every((f) => f.dstport === 22 && f.protocol === 6 && f.end - f.start < 5000)).toBe(true);
    expect(new Set(flows.map((f) => f.srcport)).size).toBeGreaterThan(250);
    expect(flows[299]!.start - T0).toBeGreaterThan(200_000);
    expect(flows[299]!.start - T0).toBeLessThan(400_000);
    const t = threeTier();
    expect(flows.every((f) => judgeFlow(f, t).action === 'REJECT')).toBe(true);
  });

  it('port scan: one source, many destination ports, one packet each, mostly rejected', () => {
    const t = threeTier();
    const flows = portScan({ attacker: ROGUE, target: '10.0.1.10', start: T0, openPorts: [443] });
    expect(flows).toHaveLength(1024);
    expect(new Set(flows.map((f) => f.dstport)).size).toBe(1024);
    expect(flows.every((f) => f.packets === 1 && f.tcpFlags === 2)).toBe(true);
    const verdicts = flows.map((f) => judgeFlow(f, t));
    const accepted = flows.filter((_, i) => verdicts[i]!.action === 'ACCEPT').map((f) => f.dstport);
    expect(accepted).toEqual([443]);
    const open = verdicts[442]!.interfaces.find((o) => o.leg === 'response')!;
    expect(open.tcpFlags).toBe(18);
  });

  it('exfiltration: large outbound volumes from the app tier to a rogue host, accepted by default egress rules', () => {
    const flows = exfiltration({ source: '10.0.2.10', destination: ROGUE, start: T0, totalBytes: 3_000_000_000, connections: 3 });
    expect(flows.reduce((s, f) => s + f.bytes, 0)).toBe(3_000_000_000);
    expect(flows.every((f) => f.srcaddr === '10.0.2.10' && f.dstaddr === ROGUE)).toBe(true);
    const v = judgeFlow(flows[0]!, threeTier());
    expect(v.action).toBe('ACCEPT');
    expect(v.interfaces[0]).toMatchObject({ eni: 'eni-app1', direction: 'egress', leg: 'request', bytes: 1_000_000_000 });
  });
});
