// Northwind's normal traffic as flow-log records, generated in bulk (a day at a time, not minute by
// minute): the data plane's traffic generator (the company's profile, contractors, the contracted
// scanner's daily scan) judged against the production VPC as provisioned and aggregated as the flow
// log aggregates (60 s), rendered in the default v2 format with the header line AWS's S3 files have.
// The same functions give the grader's held-back evaluation days (with labelled attacks mixed in).
import { PROTO, Rng, ephemeralPort, normalTraffic, parseLogFormat, type Flow, type FlowLogConfig, type FlowLogRecord, type Topology } from '../../src/cloud/services/ec2/dataplane/index.ts';
import type { FlowRecord } from '../../src/controls/anomaly/index.ts';
import { recordsOf } from '../network/simulate.ts';
import { instance, sideTraffic, type NetworkLabEnv } from '../network/company.ts';
import { advancedProfile } from './company.ts';

export const DAY_MS = 24 * 3600_000;
export const HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';

/** When in a day (ms after 00:00 UTC) the contracted scanner starts its daily scan: from the scanner's address. */
export function scanStartOfDay(scannerIp: string): number {
  const rng = new Rng(`scan-time:${scannerIp}`);
  return (2 * 60 + rng.int(0, 120)) * 60_000;
}

/** Ports the contracted scanner checks on each public host (the same every day: a scan policy). */
function scanPolicy(scannerIp: string): number[] {
  const rng = new Rng(`scan-policy:${scannerIp}`);
  const common = [21, 22, 23, 25, 53, 80, 110, 143, 443, 445, 993, 995, 1433, 3306, 3389, 5432, 5900, 8080, 8443];
  const more = Array.from({ length: 40 }, () => rng.int(1, 1024));
  return [...new Set([...common, ...more])];
}

/** One scan by the contracted scanner of web-1 and the bastion, from `start` (about three minutes). */
export function scanAt(env: NetworkLabEnv, scannerIp: string, start: number): Flow[] {
  const targets = ['web-1', 'bastion'].map((n) => instance(env, n)).map((i) => ({ address: i.publicIp ?? i.privateIp, open: i.name === 'web-1' ? [env.ports.web] : [env.ports.ssh] }));
  const ports = scanPolicy(scannerIp);
  const rng = new Rng(`scan:${scannerIp}:${start}`);
  const flows: Flow[] = [];
  targets.forEach((t, k) => {
    ports.forEach((port, j) => {
      const s = start + k * 90_000 + j * 1500 + rng.int(0, 400);
      const open = t.open.includes(port);
      flows.push({
        srcaddr: scannerIp, dstaddr: t.address, srcport: ephemeralPort(rng), dstport: port, protocol: PROTO.TCP,
        packets: open ? 5 : 1, bytes: open ? 420 : 60, response: open ? { packets: 4, bytes: 900 } : false, start: s, end: s + (open ? 600 : 0), label: 'known-scanner',
      });
    });
  });
  return flows;
}

/** The contracted scanner's daily scans of web-1 and the bastion that start in [from, to). */
export function scannerFlows(env: NetworkLabEnv, scannerIp: string, from: number, to: number): Flow[] {
  const flows: Flow[] = [];
  for (let day = Math.floor(from / DAY_MS) * DAY_MS; day < to; day += DAY_MS) {
    const start = day + scanStartOfDay(scannerIp);
    if (start >= from && start < to) flows.push(...scanAt(env, scannerIp, start).filter((f) => f.start < to));
  }
  return flows;
}

/** The company's normal traffic over [from, to): customers, tiers, backups, updates, contractors, the scanner. */
export function companyFlows(env: NetworkLabEnv, t: Topology, scannerIp: string, from: number, to: number, seed: string): Flow[] {
  // The generator picks among a tier's interfaces in topology order, which follows the (random) interface
  // ids: in address order, the same seed gives the same traffic in every account.
  const ordered: Topology = { ...t, interfaces: [...t.interfaces].sort((a, b) => (a.privateIps[0] ?? '').localeCompare(b.privateIps[0] ?? '', 'en', { numeric: true }) || a.id.localeCompare(b.id)) };
  return [...normalTraffic(ordered, advancedProfile(env), { from, to, seed }), ...sideTraffic(env, from, to, seed), ...scannerFlows(env, scannerIp, from, to)];
}

/** The flow log's records for these flows, a day at a time (the aggregator keeps a day's windows). */
export function recordsFor(t: Topology, flowLog: FlowLogConfig, flows: Flow[]): FlowLogRecord[] {
  const key = (r: FlowLogRecord) => `${r.srcaddr} ${r.dstaddr} ${r.srcport} ${r.dstport} ${r.protocol}`;
  return recordsOf(t, flows, flowLog).sort((a, b) => a.start - b.start || key(a).localeCompare(key(b)) || a.interfaceId.localeCompare(b.interfaceId));
}

/** A flow-log file: the header line, then one v2 default record per line. */
export function renderFile(records: FlowLogRecord[]): string {
  const f = parseLogFormat(undefined);
  return `${HEADER}\n${records.map((r) => f.render(r)).join('\n')}\n`;
}

export const dayKey = (prefix: string, dayStart: number): string => `${prefix}${new Date(dayStart).toISOString().slice(0, 10)}.log`;

/** The baseline: `days` whole UTC days ending before `before`, one file each. */
export function baselineFiles(env: NetworkLabEnv, t: Topology, flowLog: FlowLogConfig, o: { scannerIp: string; seed: string; days: number; before: number; prefix: string }): { key: string; body: string; records: number }[] {
  const end = Math.floor(o.before / DAY_MS) * DAY_MS;
  const out: { key: string; body: string; records: number }[] = [];
  for (let i = o.days; i >= 1; i--) {
    const from = end - i * DAY_MS;
    const records = recordsFor(t, flowLog, companyFlows(env, t, o.scannerIp, from, from + DAY_MS, `${o.seed}|baseline|${i}`));
    out.push({ key: dayKey(o.prefix, from), body: renderFile(records), records: records.length });
  }
  return out;
}

/** A flow-log record as the anomaly engine reads it (what a file round trip would give). */
export function asFlowRecord(r: FlowLogRecord, label?: FlowRecord['label']): FlowRecord {
  return {
    srcaddr: r.srcaddr ?? '-', dstaddr: r.dstaddr ?? '-', srcport: r.srcport ?? 0, dstport: r.dstport ?? 0, protocol: r.protocol ?? 0,
    packets: r.packets ?? 0, bytes: r.bytes ?? 0, start: r.start, end: r.end, action: r.action === 'REJECT' ? 'REJECT' : 'ACCEPT', ...(label ? { label } : {}),
  };
}
