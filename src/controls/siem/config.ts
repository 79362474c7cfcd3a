// The SIEM's configuration: a YAML file (`siem/siem.yml` in a student's workspace) naming the sources to read,
// the rule packs, custom rules, notification channels and alerting settings. Validated with zod; every problem
// names the file, the field and the line:
//
//   siem/siem.yml: sources[1].logGroup: expected a string (line 9)
//
//   sources:
//     - name: trail
//       type: cloudtrail                       # cloudtrail | vpcflow | logs
//       s3: { bucket: "northwind-trail-${accountId}", prefix: "" }
//     - name: flows
//       type: vpcflow
//       logGroup: /northwind/vpc/flow-logs
//       format: "${version} ${account-id} ${interface-id} ..."   # custom flow-log format (no header in CloudWatch Logs)
//     - name: app
//       type: logs
//       logGroupPrefix: /northwind/app/
//   rules:
//     bundled: true                              # the bundled pack (SigmaHQ AWS rules + seclab rules)
//     folders: [rules]                           # rule files or folders, inside the folder of this file
//     disable: { <rule id or name>: <reason> }
//     custom: [ <Sigma rule as YAML> ]
//   channels:
//     - name: secops
//       type: sns
//       topicArn: "arn:aws:sns:${region}:${accountId}:secops-alerts"
//       minSeverity: medium
//   alerting:
//     minLevel: low
//     dedupWindow: 15m
//     throttle: { maxAlerts: 20, window: 1h }
//     maxEventsPerAlert: 20
//
// Placeholders in bucket, prefix, log group and topic values: `${accountId}` and `${region}` (of the SIEM).
// Flow-log formats keep their `${field}` names as they are. There is deliberately no `${env:NAME}`: a
// student's configuration is interpreted by the grader, and feedback would carry the grader's environment
// (its keys and secrets) back to the student; a configuration that uses one is refused with its line.
// Rule folders stay inside the folder of the configuration file (no `..`, absolute paths or links out), and
// what a workspace makes the grader read is bounded: the file 1 MiB, 200 custom rules, 200 rule files of at
// most 256 KiB each (sigma/ruleset.ts).
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { LineCounter, parseDocument, stringify } from 'yaml';
import { z } from 'zod';
import { parseTimespan } from './sigma/correlation.ts';
import { formatPath, type FieldPath } from './sigma/errors.ts';
import { LEVELS, type Level } from './sigma/schema.ts';

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type ChannelSeverity = (typeof SEVERITIES)[number];

/** A problem in a configuration file, naming the file, the field and the line. */
export class SiemConfigError extends Error {
  override readonly name = 'SiemConfigError';
  constructor(
    readonly file: string,
    readonly field: string,
    readonly detail: string,
    readonly line?: number,
  ) {
    super(`${file}: ${field ? `${field}: ` : ''}${detail}${line ? ` (line ${line})` : ''}`);
  }
}

const duration = z.union([z.number().positive(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v * 1000;
  const ms = parseTimespan(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a duration such as 30s, 5m, 1h or 2d (or a number of seconds), not "${v}"` });
    return z.NEVER;
  }
  return ms;
});

const name = z.string().min(1).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, ".", "_" and "-" only');

const S3Location = z.strictObject({
  bucket: z.string().min(1),
  prefix: z.string().optional(),
});

const SourceSchema = z
  .strictObject({
    name,
    type: z.enum(['cloudtrail', 'vpcflow', 'logs']),
    s3: S3Location.optional(),
    logGroup: z.string().min(1).optional(),
    logGroupPrefix: z.string().min(1).optional(),
    region: z.string().min(1).optional(),
    /** VPC Flow Logs: the flow log's LogFormat, for records without a header line (CloudWatch Logs). */
    format: z.string().min(1).optional(),
    /** How late data may arrive compared with the newest already read (default 10 minutes). */
    lookback: duration.optional(),
    /** Where a new source starts: everything already there (default), or only what arrives from now on. */
    startAt: z.enum(['beginning', 'now']).optional(),
    enabled: z.boolean().optional(),
  })
  .superRefine((s, ctx) => {
    const where = [s.s3 && 's3', s.logGroup && 'logGroup', s.logGroupPrefix && 'logGroupPrefix'].filter(Boolean);
    if (where.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: where.length
          ? `give one location, not ${where.join(' and ')}`
          : 'missing a location: s3 (bucket and prefix) or logGroup (or logGroupPrefix)',
        path: where.length ? [String(where[1])] : [],
      });
    }
    if (s.format && s.type !== 'vpcflow') ctx.addIssue({ code: 'custom', message: 'only vpcflow sources have a format', path: ['format'] });
  });

const ChannelSchema = z.strictObject({
  name,
  type: z.literal('sns'),
  topicArn: z.string().min(1),
  region: z.string().min(1).optional(),
  /** Alerts below this severity are not sent to the channel (default low). */
  minSeverity: z.enum(SEVERITIES).optional(),
  /** At most this many messages per poll; the rest are summarised in one more message (default 10). */
  maxMessagesPerPoll: z.number().int().positive().optional(),
  enabled: z.boolean().optional(),
});

const RulesSchema = z.strictObject({
  bundled: z.boolean().optional(),
  folders: z.array(z.string().min(1)).optional(),
  disable: z.union([z.array(z.string().min(1)), z.record(z.string(), z.string())]).optional(),
  custom: z.array(z.record(z.string(), z.unknown())).max(200, 'at most 200 custom rules (put more in rule files)').optional(),
});

const AlertingSchema = z.strictObject({
  minLevel: z.enum(LEVELS).optional(),
  dedupWindow: duration.optional(),
  throttle: z.strictObject({ maxAlerts: z.number().int().positive(), window: duration }).optional(),
  maxEventsPerAlert: z.number().int().positive().max(1000).optional(),
});

export const SiemConfigSchema = z.strictObject({
  sources: z.array(SourceSchema).default([]),
  rules: RulesSchema.optional(),
  channels: z.array(ChannelSchema).optional(),
  alerting: AlertingSchema.optional(),
});

export type SourceConfig = z.output<typeof SourceSchema>;
export type ChannelConfig = z.output<typeof ChannelSchema>;

export interface SiemConfig {
  /** The file it was read from (as given), or a label for configurations built in code. */
  readonly file: string;
  /** Folder that relative rule folders are resolved against. */
  readonly baseDir: string;
  readonly sources: readonly SourceConfig[];
  readonly rules: {
    readonly bundled: boolean;
    /** Absolute paths. */
    readonly folders: readonly string[];
    readonly disable: ReadonlyMap<string, string>;
    /** Inline rules as YAML texts, named after where they are in the configuration. */
    readonly custom: ReadonlyArray<{ readonly name: string; readonly text: string; readonly line?: number }>;
  };
  readonly channels: readonly ChannelConfig[];
  readonly alerting: {
    readonly minLevel?: Level;
    readonly dedupWindowMs?: number;
    readonly throttle?: { readonly maxAlerts: number; readonly windowMs: number };
    readonly maxEventsPerAlert?: number;
  };
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  let cur: unknown = raw;
  for (const p of issue.path) cur = cur !== null && typeof cur === 'object' ? (cur as Record<PropertyKey, unknown>)[p as PropertyKey] : undefined;
  if (cur === undefined && issue.code !== 'custom' && issue.code !== 'unrecognized_keys') return 'missing (mandatory)';
  if (issue.code === 'unrecognized_keys') return `unknown setting(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_value' && 'values' in issue) return `expected one of ${(issue.values as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  return issue.message.replace(/^Invalid input: /, '');
}

/** Parses and validates a configuration text. `file` names it in errors; `baseDir` resolves rule folders. */
export function parseSiemConfig(text: string, file: string, baseDir = dirname(resolve(file))): SiemConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) {
    const line = problem.linePos?.[0]?.line ?? (problem.pos ? lineCounter.linePos(problem.pos[0]).line : undefined);
    throw new SiemConfigError(file, '', `invalid YAML: ${problem.message.split('\n')[0]}`, line);
  }
  const lineOf = (path: FieldPath): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  const raw = (doc.toJS({ maxAliasCount: 100 }) as unknown) ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new SiemConfigError(file, '', 'expected a map with sources, rules, channels and alerting', lineOf([]));
  const r = SiemConfigSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
    throw new SiemConfigError(file, formatPath(path), describeIssue(issue, raw), lineOf(path));
  }
  const c = r.data;
  const dup = <T extends { name: string }>(list: readonly T[], what: string) => {
    const seen = new Set<string>();
    list.forEach((x, i) => {
      if (seen.has(x.name)) throw new SiemConfigError(file, `${what}[${i}].name`, `"${x.name}" is already the name of another ${what === 'sources' ? 'source' : 'channel'}`, lineOf([what, i, 'name']));
      seen.add(x.name);
    });
  };
  dup(c.sources, 'sources');
  dup(c.channels ?? [], 'channels');
  // Placeholders are checked here, where the line is known, not only when the SIEM starts.
  const placeholders = (value: string | undefined, path: FieldPath) => {
    const problem = value === undefined ? undefined : placeholderProblem(value);
    if (problem) throw new SiemConfigError(file, formatPath(path), problem, lineOf(path));
  };
  c.sources.forEach((s, i) => {
    placeholders(s.s3?.bucket, ['sources', i, 's3', 'bucket']);
    placeholders(s.s3?.prefix, ['sources', i, 's3', 'prefix']);
    placeholders(s.logGroup, ['sources', i, 'logGroup']);
    placeholders(s.logGroupPrefix, ['sources', i, 'logGroupPrefix']);
  });
  (c.channels ?? []).forEach((ch, i) => placeholders(ch.topicArn, ['channels', i, 'topicArn']));
  (c.rules?.folders ?? []).forEach((f, i) => {
    const rel = relative(baseDir, resolve(baseDir, f));
    if (isAbsolute(f) || rel === '..' || rel.startsWith('../') || rel.startsWith('..\\') || isAbsolute(rel)) {
      throw new SiemConfigError(file, `rules.folders[${i}]`, `"${f}" is outside the folder of ${file}: keep your rules next to it (for example folders: [rules])`, lineOf(['rules', 'folders', i]));
    }
  });
  const disable = new Map<string, string>();
  const d = c.rules?.disable;
  if (Array.isArray(d)) for (const id of d) disable.set(id, `disabled in ${file}`);
  else if (d) for (const [id, reason] of Object.entries(d)) disable.set(id, reason || `disabled in ${file}`);
  return {
    file,
    baseDir,
    sources: c.sources,
    rules: {
      bundled: c.rules?.bundled ?? true,
      folders: (c.rules?.folders ?? []).map((f) => resolve(baseDir, f)),
      disable,
      custom: (c.rules?.custom ?? []).map((rule, i) => ({ name: `${file}: rules.custom[${i}]`, text: stringify(rule), line: lineOf(['rules', 'custom', i]) })),
    },
    channels: c.channels ?? [],
    alerting: {
      minLevel: c.alerting?.minLevel,
      dedupWindowMs: c.alerting?.dedupWindow,
      throttle: c.alerting?.throttle && { maxAlerts: c.alerting.throttle.maxAlerts, windowMs: c.alerting.throttle.window },
      maxEventsPerAlert: c.alerting?.maxEventsPerAlert,
    },
  };
}

/** The largest configuration file read (the grader reads students' files). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Reads and validates a configuration file (throws SiemConfigError, or a plain error when the file cannot be read). */
export function loadSiemConfig(file: string, label = file): SiemConfig {
  let text: string;
  try {
    if (statSync(file).size > MAX_CONFIG_BYTES) throw new SiemConfigError(label, '', `larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB: keep it to sources, rules and channels (rules can go in rule files)`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof SiemConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new SiemConfigError(label, '', code === 'ENOENT' ? 'no such file: create it (see the workbook for an example)' : `cannot read it: ${(e as Error).message}`);
  }
  return parseSiemConfig(text, label, dirname(resolve(file)));
}

// ---- placeholders ----

export interface ConfigVars {
  readonly accountId?: string;
  readonly region?: string;
}

const PLACEHOLDER = /\$\{([^}]*)\}/g;

const NO_ENV =
  'environment variables (${env:NAME}) are not supported: the configuration is read by the grader, whose environment is not yours to read; write the value itself';

/** What is wrong with the placeholders of a value (unknown or environment ones), or undefined. */
function placeholderProblem(value: string): string | undefined {
  for (const m of value.matchAll(PLACEHOLDER)) {
    const k = m[1]!.trim();
    if (k === 'accountId' || k === 'region') continue;
    if (k.startsWith('env:') || k.startsWith('env.')) return NO_ENV;
    return `unknown placeholder \${${k}} (known: \${accountId}, \${region})`;
  }
  return undefined;
}

/** Replaces `${accountId}` and `${region}`; throws on other or unresolved placeholders (never reads the environment). */
export function substitute(value: string, vars: ConfigVars, where: string): string {
  return value.replace(PLACEHOLDER, (_m, key: string) => {
    const k = key.trim();
    let v: string | undefined;
    if (k === 'accountId') v = vars.accountId;
    else if (k === 'region') v = vars.region;
    else throw new Error(`${where}: ${placeholderProblem(`\${${k}}`)}`);
    if (v === undefined || v === '') throw new Error(`${where}: \${${k}} has no value`);
    return v;
  });
}

/** True when a value uses `${accountId}`. */
export const usesAccountId = (config: SiemConfig): boolean =>
  [...config.sources.flatMap((s) => [s.s3?.bucket, s.s3?.prefix, s.logGroup, s.logGroupPrefix]), ...config.channels.map((c) => c.topicArn)].some((v) => v?.includes('${accountId}'));
