// `seclab dlp scan <files|folders...>`: the DLP engine (src/controls/dlp) on local files, as a Macie
// classification job would see them as S3 objects. Exit 1 when sensitive data is found.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ExitCode, UsageError } from './errors.ts';
import type { Ui } from './ui.ts';

export interface DlpScanOptions {
  json?: boolean;
  format?: string;
  managed?: string;
  ids?: string;
  custom?: string;
  allowWords?: string;
  allowRegex?: string;
}

const SELECTIONS = ['ALL', 'RECOMMENDED', 'INCLUDE', 'EXCLUDE', 'NONE'] as const;

function filesUnder(p: string, out: string[]): void {
  const st = statSync(p);
  if (st.isDirectory()) {
    for (const e of readdirSync(p, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory() || e.isFile()) filesUnder(path.join(p, e.name), out);
    }
  } else if (st.isFile()) out.push(p);
}

export async function cmdDlpScan(ui: Ui, paths: string[], opts: DlpScanOptions): Promise<number> {
  const format = opts.json ? 'json' : (opts.format ?? 'text');
  if (format !== 'json' && format !== 'text') throw new UsageError(`--format must be json or text, not "${opts.format}"`);
  const selection = (opts.managed ?? 'ALL').toUpperCase() as (typeof SELECTIONS)[number];
  if (!SELECTIONS.includes(selection)) throw new UsageError(`--managed must be one of ${SELECTIONS.join(', ').toLowerCase()}, not "${opts.managed}"`);
  for (const p of paths) if (!existsSync(p)) throw new UsageError(`no such file or folder: ${p}`, 'give files (text, CSV, TSV, JSON, JSON Lines, Parquet, XLSX, DOCX, gzip, ZIP, TAR) or folders of them');
  const dlp = await import('../controls/dlp/index.ts');
  const ids = opts.ids ? opts.ids.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
  const known = new Set(dlp.MANAGED_IDENTIFIERS.map((m) => m.id));
  for (const id of ids ?? []) if (!known.has(id)) throw new UsageError(`unknown managed data identifier: ${id}`, `known: ${[...known].join(', ')}`);

  let custom: import('../controls/dlp/index.ts').CustomDataIdentifier[] | undefined;
  if (opts.custom) {
    if (!existsSync(opts.custom)) throw new UsageError(`--custom: no such file: ${opts.custom}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(opts.custom, 'utf8'));
    } catch (e) {
      throw new UsageError(`--custom: ${opts.custom} is not JSON: ${(e as Error).message}`);
    }
    const list = (Array.isArray(parsed) ? parsed : [parsed]) as Record<string, unknown>[];
    custom = list.map((c, i) => {
      if (typeof c['regex'] !== 'string') throw new UsageError(`--custom: identifier ${i + 1} has no "regex"`, 'each entry: {"name", "regex", "keywords"?, "ignoreWords"?, "maximumMatchDistance"?}');
      return { id: String(c['id'] ?? c['name'] ?? `custom-${i + 1}`), name: String(c['name'] ?? `custom-${i + 1}`), regex: c['regex'], ...(Array.isArray(c['keywords']) ? { keywords: c['keywords'] as string[] } : {}), ...(Array.isArray(c['ignoreWords']) ? { ignoreWords: c['ignoreWords'] as string[] } : {}), ...(typeof c['maximumMatchDistance'] === 'number' ? { maximumMatchDistance: c['maximumMatchDistance'] } : {}) };
    });
  }
  const allowLists: import('../controls/dlp/index.ts').AllowList[] = [];
  if (opts.allowWords) {
    if (!existsSync(opts.allowWords)) throw new UsageError(`--allow-words: no such file: ${opts.allowWords}`);
    allowLists.push({ id: 'cli-words', criteria: { words: readFileSync(opts.allowWords, 'utf8').split(/\r?\n/).filter((w) => w.trim()) } });
  }
  if (opts.allowRegex) allowLists.push({ id: 'cli-regex', criteria: { regex: opts.allowRegex } });

  const scanOpts = { managed: { selection, ...(ids ? { ids } : {}) }, ...(custom ? { custom } : {}), ...(allowLists.length ? { allowLists } : {}) };
  const files: string[] = [];
  for (const p of paths) filesUnder(p, files);
  const results = [];
  let found = 0;
  for (const f of files) {
    let r;
    try {
      r = await dlp.scanObject(path.basename(f), readFileSync(f), scanOpts);
    } catch (e) {
      if ((e as Error).name === 'UnsupportedRegexError') throw new UsageError(`a custom identifier or allow list regex: ${(e as Error).message}`);
      throw e;
    }
    const total = r.detections.reduce((n, d) => n + d.count, 0);
    found += total;
    results.push({ file: f, ...r, totalCount: total });
  }
  if (format === 'json') {
    ui.print(JSON.stringify({ selection, files: results, totalCount: found }, null, 2));
  } else {
    for (const r of results) {
      const head = `${r.file} (${r.fileType})`;
      if (r.status === 'SKIPPED') {
        ui.print(`${head}: skipped, ${r.skipped}`);
        continue;
      }
      if (!r.detections.length) {
        ui.print(`${head}: nothing sensitive${r.status === 'PARTIAL' ? ` (partial: ${r.skipped})` : ''}`);
        continue;
      }
      ui.print(`${head}: ${r.totalCount} occurrence${r.totalCount === 1 ? '' : 's'}${r.status === 'PARTIAL' ? ` (partial: ${r.skipped})` : ''}`);
      for (const d of r.detections) ui.print(`  ${d.type.padEnd(40)} ${String(d.count).padStart(5)}  ${where(d.occurrences)}`);
    }
    ui.print(`${found} occurrence${found === 1 ? '' : 's'} of sensitive data in ${results.filter((r) => r.totalCount).length} of ${results.length} file${results.length === 1 ? '' : 's'} (managed identifiers: ${selection.toLowerCase()})`);
  }
  return found ? ExitCode.FAILED : ExitCode.OK;
}

function where(o: import('../controls/dlp/index.ts').Occurrences): string {
  const parts: string[] = [];
  for (const r of o.lineRanges ?? []) parts.push(`line ${r.start}:${r.startColumn}`);
  for (const c of o.cells ?? []) parts.push(c.cellReference ?? `row ${c.row} col ${c.columnName ? `"${c.columnName}"` : c.column}`);
  for (const r of o.records ?? []) parts.push(`record ${r.recordIndex} ${r.jsonPath}`);
  const shown = parts.slice(0, 5).join(', ');
  return parts.length > 5 ? `${shown}, ...` : shown;
}
