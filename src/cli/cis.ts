// `seclab cis scan <root-folder>`: the CIS engine (src/controls/cis) on a root filesystem in a folder.
import { existsSync, statSync } from 'node:fs';
import { ExitCode, UsageError } from './errors.ts';
import type { Ui } from './ui.ts';

export interface CisScanOptions {
  json?: boolean;
  format?: string;
  profile?: string;
  only?: string;
  verbose?: boolean;
}

export async function cmdCisScan(ui: Ui, root: string, opts: CisScanOptions): Promise<number> {
  const format = opts.json ? 'json' : (opts.format ?? 'text');
  if (format !== 'json' && format !== 'text') throw new UsageError(`--format must be json or text, not "${opts.format}"`);
  const { scan, formatText, PROFILES } = await import('../controls/cis/index.ts');
  const profile = (opts.profile ?? 'level1-server') as (typeof PROFILES)[number];
  if (!PROFILES.includes(profile)) throw new UsageError(`--profile must be one of ${PROFILES.join(', ')}, not "${opts.profile}"`);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new UsageError(`no such folder: ${root}`, 'give the folder holding a root filesystem (with etc/, usr/, var/), e.g. the host lab\'s base image (src/host/README.md)');
  }
  if (!existsSync(`${root}/etc`)) ui.warn(`${root} has no etc/ folder: is it a root filesystem?`);
  const report = scan(root, { profile, ...(opts.only ? { only: opts.only.split(',').map((s) => s.trim()) } : {}) });
  if (format === 'json') ui.print(JSON.stringify(report, null, 2));
  else ui.print(formatText(report, { verbose: !!opts.verbose, color: !!process.stdout.isTTY && !process.env['NO_COLOR'] }).trimEnd());
  return report.summary.fail ? ExitCode.FAILED : ExitCode.OK;
}
