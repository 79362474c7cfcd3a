// The CIS engine's model: recommendations, their results and the scan report.

import type { Line } from './rootfs.ts';

export type Profile = 'level1-server' | 'level2-server';
export const PROFILES: readonly Profile[] = ['level1-server', 'level2-server'];

/** pass / fail / notapplicable (the thing it governs is absent) / manual (needs a running system or a person). */
export type Status = 'pass' | 'fail' | 'notapplicable' | 'manual';

export interface Evidence {
  /** Path inside the scanned root. */
  file: string;
  line?: number;
  text?: string;
}

export interface Outcome {
  status: Status;
  /** One or two sentences: what was found. */
  detail: string;
  evidence: Evidence[];
}

export interface Recommendation {
  /** CIS Debian Linux 12 Benchmark v1.1.0 number, e.g. "5.1.20". */
  id: string;
  /** Our wording of what the recommendation asks (not CIS's text). */
  title: string;
  /** The lowest profile that includes it (level2 includes every level1 recommendation). */
  profile: Profile;
  /** CIS marks some recommendations Manual (a person decides). */
  assessment: 'automated' | 'manual';
  rationale: string;
  remediation: string;
  check(ctx: import('./context.ts').ScanContext): Outcome;
}

export interface Result {
  id: string;
  title: string;
  profile: Profile;
  section: string;
  status: Status;
  detail: string;
  evidence: Evidence[];
  rationale: string;
  remediation: string;
}

export interface Report {
  benchmark: string;
  profile: Profile;
  root: string;
  scannedAt: string;
  ms: number;
  summary: Record<Status, number> & { total: number; score: number };
  results: Result[];
}

export function ev(...lines: (Line | undefined)[]): Evidence[] {
  return lines.filter((x): x is Line => !!x).map((x) => ({ file: x.file, line: x.line, text: x.text.trim() }));
}
