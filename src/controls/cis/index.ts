// CIS engine: scan a root filesystem in a folder against the file-checkable recommendations of the CIS
// Debian Linux 12 Benchmark (Level 1 / Level 2 - Server). Usable on its own: `seclab cis scan <root>`.

import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { ScanContext } from './context.ts';
import { RECOMMENDATIONS, SECTIONS } from './recommendations.ts';
import type { Outcome, Profile, Report, Result, Status } from './types.ts';

export type { Evidence, Profile, Recommendation, Report, Result, Status } from './types.ts';
export { PROFILES } from './types.ts';
export { RECOMMENDATIONS } from './recommendations.ts';
export { RootFs } from './rootfs.ts';
export { parseSshd } from './sshd.ts';
export { parseSysctl, parseModprobe, parseFstab, Systemd, pwquality, pamStack, auditRules, parseDpkgStatus } from './config.ts';

export const BENCHMARK = 'CIS Debian Linux 12 Benchmark v1.1.0 (file-checkable recommendations, seclab wording)';

export interface ScanOptions {
  profile?: Profile;
  /** Only these recommendation ids (for tests and focused checks). */
  only?: readonly string[];
}

/** Recommendations in a profile: level2-server includes level1-server. */
export function recommendationsFor(profile: Profile = 'level1-server') {
  return RECOMMENDATIONS.filter((r) => profile === 'level2-server' || r.profile === 'level1-server');
}

export function scan(root: string, opts: ScanOptions = {}): Report {
  const abs = path.resolve(root);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new Error(`${root} is not a folder`);
  const profile = opts.profile ?? 'level1-server';
  const started = performance.now();
  const ctx = new ScanContext(abs);
  const results: Result[] = [];
  for (const r of recommendationsFor(profile)) {
    if (opts.only && !opts.only.includes(r.id)) continue;
    let o: Outcome;
    try {
      o = r.check(ctx);
    } catch (e) {
      o = { status: 'manual', detail: `could not be checked: ${(e as Error).message}`, evidence: [] };
    }
    if (r.assessment === 'manual' && o.status !== 'notapplicable') o = { ...o, status: 'manual' };
    results.push({ id: r.id, title: r.title, profile: r.profile, section: SECTIONS[r.id.split('.')[0]!] ?? '', status: o.status, detail: o.detail, evidence: o.evidence, rationale: r.rationale, remediation: r.remediation });
  }
  const summary = { pass: 0, fail: 0, notapplicable: 0, manual: 0 } as Record<Status, number>;
  for (const r of results) summary[r.status]++;
  const scored = summary.pass + summary.fail;
  return {
    benchmark: BENCHMARK,
    profile,
    root: abs,
    scannedAt: new Date().toISOString(),
    ms: Math.round((performance.now() - started) * 10) / 10,
    summary: { ...summary, total: results.length, score: scored ? Math.round((summary.pass / scored) * 1000) / 10 : 0 },
    results,
  };
}

const MARK: Record<Status, string> = { pass: 'PASS', fail: 'FAIL', notapplicable: 'N/A ', manual: 'MAN ' };

/** Plain text, one line per recommendation, evidence and remediation under failures (verbose: under all). */
export function formatText(r: Report, opts: { verbose?: boolean; color?: boolean } = {}): string {
  const c = (code: string, s: string) => (opts.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const colorOf: Record<Status, string> = { pass: '32', fail: '31', notapplicable: '2', manual: '33' };
  const out: string[] = [`${r.benchmark}`, `profile ${r.profile} · root ${r.root}`, ''];
  let section = '';
  for (const x of r.results) {
    if (x.section !== section) {
      section = x.section;
      out.push(c('1', `${x.id.split('.')[0]} ${section}`));
    }
    out.push(`  ${c(colorOf[x.status], MARK[x.status])} ${x.id.padEnd(10)} ${x.title}`);
    if (x.status === 'fail' || opts.verbose) {
      out.push(`       ${x.detail}`);
      for (const e of x.evidence.slice(0, 6)) out.push(c('2', `       ${e.file}${e.line ? `:${e.line}` : ''}${e.text ? `  ${e.text}` : ''}`));
      if (x.evidence.length > 6) out.push(c('2', `       … ${x.evidence.length - 6} more`));
      if (x.status === 'fail') out.push(`       fix: ${x.remediation}`);
    } else if (x.status === 'manual') {
      out.push(c('2', `       ${x.detail}`));
    }
  }
  const s = r.summary;
  out.push('', `${s.pass} pass, ${s.fail} fail, ${s.manual} manual, ${s.notapplicable} not applicable · score ${s.score}% of ${s.pass + s.fail} scored · ${r.ms} ms`);
  return out.join('\n') + '\n';
}
