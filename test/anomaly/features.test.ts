// Flow parsing and per-host window features on hand-made flows.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/engine/random.ts';
import { extractFeatures, FEATURE_NAMES, FeatureExtractor, parseFlowLog, type FeatureWindow } from '../../src/controls/anomaly/index.ts';
import { flow } from './helpers.ts';

const f = (w: FeatureWindow, name: string) => w.values[FEATURE_NAMES.indexOf(name)]!;
const T0 = 1_700_000_040; // a minute boundary

describe('parseFlowLog', () => {
  const header = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
  const line = '2 123456789012 eni-0a1b2c3d 10.0.1.5 198.51.100.7 49152 443 6 10 8400 1700000000 1700000060 ACCEPT OK';

  it('reads the default v2 format with and without its header, and labelled CSV', () => {
    const a = parseFlowLog(`${header}\n${line}\n`);
    expect(a.records).toEqual([{ srcaddr: '10.0.1.5', dstaddr: '198.51.100.7', srcport: 49152, dstport: 443, protocol: 6, packets: 10, bytes: 8400, start: 1700000000, end: 1700000060, action: 'ACCEPT' }]);
    expect(parseFlowLog(line).records).toEqual(a.records);
    const csv = parseFlowLog(`${header.replace(/ /g, ',').replace(/-/g, '_')},label\n${line.replace(/ /g, ',')},Malicious\n${line.replace(/ /g, ',')},Unknown\n`);
    expect(csv.labelled).toBe(true);
    expect(csv.records.map((r) => r.label)).toEqual(['Malicious', 'Background']);
    expect(parseFlowLog(gzipSync(`${header}\n${line}\n`)).records).toHaveLength(1);
  });

  it('counts malformed lines and NODATA records instead of failing', () => {
    const r = parseFlowLog([header, line, '2 123456789012 eni-1 10.0.1.5 - - - - - - 1700000000 1700000060 - NODATA', '2 1 eni-1 10.0.1.5 10.0.1.6 1 2 6 many 10 1700000000 1700000060 ACCEPT OK', 'garbage', line.replace('ACCEPT', 'MAYBE'), line].join('\n'));
    expect(r.records).toHaveLength(2);
    expect(r.noData).toBe(1);
    expect(r.malformed).toBe(3);
    expect(r.examples.map((e) => e.line)).toEqual([4, 5, 6]);
    expect(r.examples[0]!.reason).toMatch(/"packets" is not a non-negative number/);
  });
});

describe('features', () => {
  it('a beaconing host has a low inter-arrival CV to its peer; a host calling at random does not', () => {
    const rnd = new Random('beacon-test');
    const recs = [];
    for (let i = 0; i < 30; i++) recs.push(flow('10.0.0.5', '192.0.2.66', T0 + i * 10, { bytes: 300, packets: 3 }));
    let t = T0;
    for (let i = 0; i < 30; i++) {
      t += 1 + Math.floor(-Math.log(1 - rnd.next()) * 10); // exponential gaps, mean ~10 s
      recs.push(flow('10.0.0.6', '192.0.2.67', t, { bytes: 300, packets: 3 }));
    }
    const { windows } = extractFeatures(recs);
    const beacon = windows.filter((w) => w.host === '10.0.0.5');
    const random = windows.filter((w) => w.host === '10.0.0.6');
    // Once five arrivals are known the CV of a steady beacon is 0.
    expect(Math.min(...beacon.map((w) => f(w, 'beacon_cv')))).toBeLessThan(0.05);
    expect(beacon.at(-1)!.values[FEATURE_NAMES.indexOf('periodic_peers')]).toBe(1);
    expect(Math.min(...random.filter((w) => f(w, 'beacon_cv') < 3).map((w) => f(w, 'beacon_cv')))).toBeGreaterThan(0.4);
    expect(random.every((w) => f(w, 'periodic_peers') === 0)).toBe(true);
  });

  it('a scanner has many distinct ports and rejects; fan-out, fan-in, new destinations and both directions are counted', () => {
    const recs = [];
    for (let p = 1; p <= 100; p++) recs.push(flow('198.51.100.9', '10.0.0.7', T0 + (p % 50), { dstport: p, packets: 1, bytes: 44, action: 'REJECT' }));
    recs.push(flow('10.0.0.8', '203.0.113.1', T0 + 1, { bytes: 1000 }));
    recs.push(flow('10.0.0.8', '203.0.113.2', T0 + 2, { bytes: 2000, dstport: 22 }));
    recs.push(flow('203.0.113.1', '10.0.0.8', T0 + 1, { bytes: 9000, packets: 9 }));
    recs.push(flow('10.0.0.8', '203.0.113.1', T0 + 61, { bytes: 1000 }));
    recs.push(flow('10.0.0.8', '203.0.113.3', T0 + 62, { bytes: 1000 }));
    const { windows } = extractFeatures(recs);
    const scan = windows.find((w) => w.host === '198.51.100.9')!;
    expect(f(scan, 'dst_ports')).toBe(100);
    expect(f(scan, 'peers_out')).toBe(1);
    expect(f(scan, 'rejected_out')).toBe(100);
    expect(f(scan, 'reject_ratio_out')).toBe(1);
    expect(f(scan, 'bytes_per_packet_out')).toBe(44);
    const [first, second] = windows.filter((w) => w.host === '10.0.0.8');
    expect(first!.values.slice(0, 10)).toEqual([2, 3000, 20, 1, 9000, 9, 2, 2, 1, 1]);
    expect(f(first!, 'new_peer_ratio')).toBe(1);
    expect(f(first!, 'in_out_bytes_ratio')).toBeCloseTo(Math.log10(9001 / 3001), 10);
    // 203.0.113.1 was seen in the first minute, 203.0.113.3 was not.
    expect(f(second!, 'new_peer_ratio')).toBe(0.5);
    expect(second!.windowStart - first!.windowStart).toBe(60);
  });

  it('incremental: records one by one give the same windows as a whole file; windows close as time moves on; late records are counted', () => {
    const recs = [];
    for (let i = 0; i < 10; i++) recs.push(flow(`10.0.0.${i % 3}`, '203.0.113.9', T0 + i * 25));
    const ex = new FeatureExtractor({ windowSeconds: 60, latenessSeconds: 0 });
    const live: FeatureWindow[] = [];
    const closedAfter: number[] = [];
    for (const r of recs) {
      const got = ex.push(r);
      live.push(...got);
      closedAfter.push(got.length);
    }
    live.push(...ex.flush());
    expect(live).toEqual(extractFeatures(recs, { windowSeconds: 60, latenessSeconds: 0 }).windows);
    // The record at +75 s closes the first minute's windows before the file ends.
    expect(closedAfter.slice(0, 4)).toEqual([0, 0, 0, 3]);
    const late = new FeatureExtractor({ windowSeconds: 60, latenessSeconds: 0 });
    late.push(flow('10.0.0.1', '203.0.113.9', T0));
    late.push(flow('10.0.0.1', '203.0.113.9', T0 + 130));
    late.push(flow('10.0.0.1', '203.0.113.9', T0 + 5));
    expect(late.late).toBe(1);
    expect(() => new FeatureExtractor({ windowSeconds: 0 })).toThrow(/positive/);
  });
});
