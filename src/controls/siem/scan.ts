// `seclab siem scan`: offline evaluation of log files against a rule pack, as analysts use Sigma tools.
//
//   const result = await scanFiles(['trail/', 'flows.log.gz'], { rules: 'my-rules/' });
//
// Files may be CloudTrail logs (a `Records` file as delivered to S3, gzipped or not, a JSON array, JSON lines),
// VPC Flow Logs text (with or without a header line), or CloudWatch Logs exports; folders are walked recursively
// (files ending in .json, .jsonl, .ndjson, .gz, .log, .txt, .csv, or without extension). Events of all files are
// evaluated together in time order, so correlations span files (CloudTrail writes a file every few minutes).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SiemEngine, type Alert, type EngineOptions, type EngineStats } from './engine.ts';
import { parseLogData, type FileKind, type SiemEvent } from './events.ts';
import { loadBundledRules } from './pack.ts';
import { loadRuleSet, type RuleSet } from './sigma/ruleset.ts';

export interface ScanOptions {
  /** A rule pack folder or rule files (default: the bundled pack). */
  readonly rules?: string | readonly string[];
  /** An already loaded rule set (takes precedence over `rules`). */
  readonly ruleSet?: RuleSet;
  /** Engine settings (deduplication, throttling, minimum level). */
  readonly engine?: EngineOptions;
  /** Field names of flow-log files that have no header line (a custom format). */
  readonly flowHeader?: string | readonly string[];
  /** Applied to every event before evaluation (e.g. redaction). */
  readonly transform?: (event: SiemEvent) => SiemEvent;
}

export interface ScanFileReport {
  readonly path: string;
  /** What the file was recognised as; `unknown` files are reported and skipped. */
  readonly kind: FileKind | 'error';
  readonly events: number;
  /** Records or lines that could not be read (including `untimed`). */
  readonly skipped: number;
  /** CloudTrail records skipped because they have no valid time (no ISO 8601 `eventTime`, no valid `@timestamp`). */
  readonly untimed?: number;
  /** CloudTrail records without `eventTime` whose `@timestamp` was used as the event time. */
  readonly timestampFallback?: number;
  readonly note?: string;
}

/**
 * The result of a scan. `alerts` is what `seclab siem scan --format json` prints: each alert carries its rule
 * (id, title, level, author, references, license and attribution), severity, ATT&CK tactics and techniques, the
 * group it was deduplicated on, first/last time, the number of hits and the matching events (each with `time`,
 * `source`, `summary`, `fields` = the original record, and `origin` = file and index).
 */
export interface ScanResult {
  readonly alerts: Alert[];
  readonly files: ScanFileReport[];
  /** Events evaluated. */
  readonly events: number;
  readonly rules: {
    readonly detections: number;
    readonly correlations: number;
    /** Rule problems, each naming the file and the field. */
    readonly errors: readonly string[];
  };
  readonly stats: EngineStats;
  /** What the reader of the result should know about how the input was read (said once per scan). */
  readonly notes: readonly string[];
  /** Input that was not evaluated, with counts (e.g. CloudTrail records without a valid event time). */
  readonly warnings: readonly string[];
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

const SCANNABLE = /\.(json|jsonl|ndjson|gz|log|txt|csv)$/i;

function collect(path: string, explicit: boolean, out: string[]): void {
  const st = statSync(path);
  if (st.isDirectory()) {
    for (const name of readdirSync(path).sort()) {
      if (name.startsWith('.')) continue;
      collect(join(path, name), false, out);
    }
  } else if (explicit || SCANNABLE.test(path) || !basename(path).includes('.')) out.push(path);
}

/** Scans files and folders; see ScanResult for the shape of the answer. Throws when a path does not exist. */
export async function scanFiles(paths: readonly string[], opts: ScanOptions = {}): Promise<ScanResult> {
  const ruleSet = opts.ruleSet ?? (opts.rules ? loadRuleSet(opts.rules) : loadBundledRules());
  const files: string[] = [];
  for (const p of paths) collect(p, true, files);
  const reports: ScanFileReport[] = [];
  const events: SiemEvent[] = [];
  for (const f of files) {
    try {
      const parsed = parseLogData(readFileSync(f), f, opts.flowHeader);
      const evs = opts.transform ? parsed.events.map(opts.transform) : parsed.events;
      for (const e of evs) events.push(e);
      reports.push({
        path: f,
        kind: parsed.kind,
        events: evs.length,
        skipped: parsed.skipped,
        ...(parsed.untimed ? { untimed: parsed.untimed } : {}),
        ...(parsed.timestampFallback ? { timestampFallback: parsed.timestampFallback } : {}),
        note: parsed.note,
      });
    } catch (e) {
      reports.push({ path: f, kind: 'error', events: 0, skipped: 0, note: (e as Error).message });
    }
  }
  const engine = new SiemEngine(ruleSet, opts.engine);
  const alerts = engine.run(events);
  const notes: string[] = [];
  const warnings: string[] = [];
  const fallback = reports.filter((r) => r.timestampFallback);
  if (fallback.length) {
    const n = fallback.reduce((a, r) => a + r.timestampFallback!, 0);
    notes.push(`${plural(n, 'CloudTrail record')} without eventTime in ${plural(fallback.length, 'file')} (${fallback.slice(0, 3).map((r) => r.path).join(', ')}${fallback.length > 3 ? ', …' : ''}): their @timestamp was used as the event time`);
  }
  for (const r of reports) {
    if (r.untimed) warnings.push(`${r.path}: ${plural(r.untimed, 'CloudTrail record')} skipped: no valid event time (eventTime must be ISO 8601, e.g. 2024-07-30T21:31:10Z; @timestamp is used when eventTime is absent). Fix the export to keep eventTime.`);
  }
  return {
    alerts,
    files: reports,
    events: events.length,
    rules: {
      detections: ruleSet.detections.length,
      correlations: ruleSet.correlations.length,
      errors: ruleSet.errors.map((e) => e.message),
    },
    stats: { ...engine.stats },
    notes,
    warnings,
  };
}
