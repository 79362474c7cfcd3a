// Reading VPC Flow Log v2 records: the 14 default fields as AWS writes them (space separated, with or
// without the header line), or CSV with those columns (and optionally `label`, as the labelled
// Stratosphere captures in ../shared/datasets/flows/derived/ have). Bad lines are counted, never fatal.
import { gunzipSync } from 'node:zlib';

export type Label = 'Malicious' | 'Benign' | 'Background';

export interface FlowRecord {
  srcaddr: string;
  dstaddr: string;
  srcport: number;
  dstport: number;
  protocol: number;
  packets: number;
  bytes: number;
  /** Unix seconds. */
  start: number;
  end: number;
  action: 'ACCEPT' | 'REJECT';
  label?: Label;
}

export interface ParseReport {
  records: FlowRecord[];
  lines: number;
  /** NODATA / SKIPDATA records: no traffic to count, not an error. */
  noData: number;
  malformed: number;
  /** The first few malformed lines (1-based line number and why), to show the user. */
  examples: { line: number; reason: string }[];
  /** Whether any record carried a label column. */
  labelled: boolean;
}

/** The 14 default fields of a version 2 flow log record, in AWS's order. */
export const DEFAULT_FIELDS = ['version', 'account-id', 'interface-id', 'srcaddr', 'dstaddr', 'srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start', 'end', 'action', 'log-status'] as const;

const REQUIRED = ['srcaddr', 'dstaddr', 'srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start', 'end', 'action'] as const;

function normalise(name: string): string {
  return name.trim().toLowerCase().replace(/_/g, '-');
}

function splitCsv(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') q = false; else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') { out.push(cur); cur = ''; } else cur += c;
  }
  out.push(cur);
  return out;
}

const LABELS: Record<string, Label> = { malicious: 'Malicious', benign: 'Benign', background: 'Background' };

/** Parses one file's text (gzip is unpacked). */
export function parseFlowLog(data: string | Buffer): ParseReport {
  const text = typeof data === 'string' ? data : (data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : data).toString('utf8');
  const report: ParseReport = { records: [], lines: 0, noData: 0, malformed: 0, examples: [], labelled: false };
  const bad = (line: number, reason: string) => {
    report.malformed++;
    if (report.examples.length < 5) report.examples.push({ line, reason });
  };
  let columns: string[] = [...DEFAULT_FIELDS];
  let headerKind: 'csv' | 'space' | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (!raw || raw.startsWith('#')) continue;
    report.lines++;
    const isCsv = raw.includes(',');
    const parts = isCsv ? splitCsv(raw).map((s) => s.trim()) : raw.split(/\s+/);
    // A header line names the columns (AWS's own, a custom format's, or the CSV's).
    if (parts.includes('srcaddr') || parts.includes('dstaddr')) {
      columns = parts.map(normalise);
      headerKind = isCsv ? 'csv' : 'space';
      report.lines--;
      continue;
    }
    if (headerKind && headerKind !== (isCsv ? 'csv' : 'space')) {
      bad(i + 1, isCsv ? 'a CSV line under a space-separated header' : 'a space-separated line under a CSV header');
      continue;
    }
    if (parts.length < columns.length) {
      bad(i + 1, `${parts.length} fields, expected ${columns.length}`);
      continue;
    }
    const get = (name: string): string | undefined => {
      const k = columns.indexOf(name);
      return k < 0 ? undefined : parts[k];
    };
    const status = get('log-status');
    if (status === 'NODATA' || status === 'SKIPDATA') {
      report.noData++;
      continue;
    }
    const missing = REQUIRED.find((f) => columns.indexOf(f) < 0);
    if (missing) {
      bad(i + 1, `no "${missing}" column`);
      continue;
    }
    const num = (name: string): number => {
      const v = get(name)!;
      return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
    };
    const rec: FlowRecord = {
      srcaddr: get('srcaddr')!,
      dstaddr: get('dstaddr')!,
      srcport: num('srcport'),
      dstport: num('dstport'),
      protocol: num('protocol'),
      packets: num('packets'),
      bytes: num('bytes'),
      start: num('start'),
      end: num('end'),
      action: get('action') as 'ACCEPT',
    };
    const numeric = (['srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start', 'end'] as const).find((k) => !Number.isFinite(rec[k]) || rec[k] < 0);
    if (numeric) {
      bad(i + 1, `"${numeric}" is not a non-negative number: "${get(numeric)}"`);
      continue;
    }
    if (rec.action !== 'ACCEPT' && rec.action !== 'REJECT') {
      bad(i + 1, `action must be ACCEPT or REJECT, not "${get('action')}"`);
      continue;
    }
    if (!rec.srcaddr || rec.srcaddr === '-' || !rec.dstaddr || rec.dstaddr === '-') {
      bad(i + 1, 'no source or destination address');
      continue;
    }
    if (rec.end < rec.start) {
      bad(i + 1, `end ${rec.end} is before start ${rec.start}`);
      continue;
    }
    const label = get('label');
    if (label !== undefined) {
      report.labelled = true;
      const l = LABELS[label.toLowerCase()];
      // Zeek's "Unknown" and anything else: unlabelled like Background.
      rec.label = l ?? 'Background';
    }
    report.records.push(rec);
  }
  return report;
}
