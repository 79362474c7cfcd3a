// A rule set: Sigma documents loaded from files and folders, validated, compiled once, with correlation
// references (by id or name) and global filters resolved. Broken rules do not stop the others from loading:
// their errors are collected in `errors`.
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { attackFromTags, type AttackInfo } from './attack.ts';
import { compileDetection, type Predicate, type Requirement } from './compile.ts';
import { parseCondition } from './condition.ts';
import {
  compileTemporalExpression,
  parseTimespan,
  type CorrelationSpec,
  type CountBounds,
} from './correlation.ts';
import { parseSigmaFile, type SigmaDocument } from './documents.ts';
import { CompileError, SigmaRuleError, formatPath, type FieldPath } from './errors.ts';
import type { Level, LogSource } from './schema.ts';
import { compileGlob, starParts } from '../../patterns/glob.ts';

export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';

export const SEVERITY_OF: Readonly<Record<Level, Severity>> = {
  informational: 'info',
  low: 'low',
  medium: 'medium',
  high: 'high',
  critical: 'critical',
};
export const LEVEL_RANK: Readonly<Record<Level, number>> = { informational: 0, low: 1, medium: 2, high: 3, critical: 4 };

/** Attribution of a rule pack (e.g. SigmaHQ rules under the Detection Rule License), from its pack.json. */
export interface PackInfo {
  readonly name?: string;
  readonly license?: string;
  readonly attribution?: string;
  readonly source?: string;
  /** File name → URL of the exact upstream version, for attribution. */
  readonly files?: Readonly<Record<string, string>>;
}

export interface RuleCommon {
  /** The rule's id; its name or `source` when it has no id. */
  readonly id: string;
  readonly name?: string;
  readonly title: string;
  readonly description?: string;
  readonly status?: string;
  readonly level: Level;
  readonly severity: Severity;
  readonly tags: readonly string[];
  readonly attack: AttackInfo;
  readonly author?: string;
  readonly references: readonly string[];
  readonly license?: string;
  readonly date?: string;
  readonly modified?: string;
  readonly falsepositives: readonly string[];
  /** File (and #document) the rule came from, relative to the loaded folder when loaded from one. */
  readonly source: string;
  /** Upstream URL of the rule file, when its pack gives one (attribution). */
  readonly url?: string;
  readonly pack?: PackInfo;
  /** False for rules only used by correlations (Sigma `generate: false`, the default) and for disabled rules. */
  standalone: boolean;
  /** Disabled by a pack manifest: evaluated only for the correlations that use it. */
  disabled?: string;
  /** Correlations that use this rule, with the input index this rule has in each. */
  readonly parents: Array<{ readonly rule: CorrelationRule; readonly input: number }>;
}

export interface DetectionRule extends RuleCommon {
  readonly kind: 'detection';
  readonly logsource: LogSource;
  /** The compiled detection (global filters applied). */
  matches: Predicate;
  /** Necessary field values, for indexing. */
  readonly requirement: Requirement | undefined;
}

export interface CorrelationRule extends RuleCommon {
  readonly kind: 'correlation';
  readonly type: CorrelationSpec['type'];
  readonly rules: readonly SigmaRule[];
  readonly groupBy: readonly string[];
  readonly timespanMs: number;
  readonly spec: CorrelationSpec;
  readonly generate: boolean;
}

export type SigmaRule = DetectionRule | CorrelationRule;

export interface RuleSet {
  readonly rules: readonly SigmaRule[];
  readonly detections: readonly DetectionRule[];
  readonly correlations: readonly CorrelationRule[];
  readonly filters: number;
  /** Problems: each names the file and the field. */
  readonly errors: readonly SigmaRuleError[];
  /** Files read. */
  readonly files: readonly string[];
  /** A rule by id or name. */
  get(ref: string): SigmaRule | undefined;
}

export interface LoadOptions {
  /** Rule ids (or names) to disable, with the reason; merged with the `disabled` lists of pack.json files. */
  readonly disabled?: ReadonlyMap<string, string>;
  /** Rules kept outside files (e.g. inline in a SIEM configuration), loaded with the files so they may reference each other. */
  readonly texts?: ReadonlyArray<{ readonly name: string; readonly text: string }>;
  /**
   * For a path given to loadRuleSet: a folder that it and everything loaded through it must stay inside once
   * links are followed (a student's rule folder may not lead to the course's solutions), or undefined.
   */
  readonly within?: (path: string) => string | undefined;
}

interface PackManifest {
  name?: string;
  license?: string;
  attribution?: string;
  source?: string;
  files?: Record<string, string>;
  disabled?: Array<{ id: string; reason?: string }>;
}

interface Loaded {
  docs: Array<{ doc: SigmaDocument; label: string; pack?: PackInfo }>;
  errors: SigmaRuleError[];
  files: string[];
  disabled: Map<string, string>;
  /** Rule files read so far through confined paths (a student's folders), against MAX_CONFINED_FILES. */
  confined?: number;
}

/**
 * Budget of what a confined path (a student's rule folder, read by the grader) may make the grader load:
 * rule files, and bytes per file. The bundled pack is not confined.
 */
export const MAX_CONFINED_FILES = 200;
export const MAX_CONFINED_FILE_BYTES = 256 * 1024;

const RULE_FILE = /\.ya?ml$/i;

function readManifest(dir: string, out: Loaded): PackInfo | undefined {
  const p = join(dir, 'pack.json');
  if (!existsSync(p)) return undefined;
  try {
    const m = JSON.parse(readFileSync(p, 'utf8')) as PackManifest;
    for (const d of m.disabled ?? []) out.disabled.set(d.id, d.reason ?? 'disabled by the pack');
    if (!m.name && !m.license && !m.attribution && !m.source) return undefined;
    return { name: m.name, license: m.license, attribution: m.attribution, source: m.source, files: m.files };
  } catch (e) {
    out.errors.push(new SigmaRuleError(p, '', `invalid pack manifest: ${(e as Error).message}`));
    return undefined;
  }
}

function loadPath(path: string, root: string, out: Loaded, pack: PackInfo | undefined, within?: string): void {
  if (within !== undefined) {
    const real = realpathSync(path);
    if (real !== within && !real.startsWith(within + sep)) {
      out.errors.push(new SigmaRuleError(relative(root, path) || path, '', 'leads outside the folder of the configuration (a link?): not loaded'));
      return;
    }
  }
  const st = statSync(path);
  if (st.isDirectory()) {
    const own = readManifest(path, out) ?? pack;
    for (const name of readdirSync(path).sort()) {
      if (name.startsWith('.')) continue;
      const child = join(path, name);
      const cst = statSync(child);
      if (cst.isDirectory() || RULE_FILE.test(name)) loadPath(child, root, out, own, within);
    }
    return;
  }
  const label = relative(root, path) || path;
  if (within !== undefined) {
    out.confined = (out.confined ?? 0) + 1;
    if (out.confined === MAX_CONFINED_FILES + 1) out.errors.push(new SigmaRuleError(label, '', `more than ${MAX_CONFINED_FILES} rule files: this one and the rest are not loaded`));
    if (out.confined > MAX_CONFINED_FILES) return;
    if (st.size > MAX_CONFINED_FILE_BYTES) {
      out.errors.push(new SigmaRuleError(label, '', `larger than ${MAX_CONFINED_FILE_BYTES / 1024} KiB: not loaded`));
      return;
    }
  }
  out.files.push(path);
  try {
    for (const doc of parseSigmaFile(readFileSync(path, 'utf8'), label)) out.docs.push({ doc, label, pack });
  } catch (e) {
    if (e instanceof SigmaRuleError) out.errors.push(e);
    else out.errors.push(new SigmaRuleError(label, '', (e as Error).message));
  }
}

/** Loads rule files and folders (recursively; `*.yml`/`*.yaml`; `pack.json` manifests apply to their folder). */
export function loadRuleSet(paths: string | readonly string[], options: LoadOptions = {}): RuleSet {
  const list = typeof paths === 'string' ? [paths] : paths;
  const out: Loaded = { docs: [], errors: [], files: [], disabled: new Map(options.disabled ?? []) };
  for (const p of list) {
    const abs = resolve(p);
    if (!existsSync(abs)) {
      out.errors.push(new SigmaRuleError(p, '', 'no such file or folder'));
      continue;
    }
    const root = statSync(abs).isDirectory() ? abs : resolve(abs, '..');
    const within = options.within?.(p);
    loadPath(abs, root, out, undefined, within === undefined ? undefined : realpathSync(within));
  }
  for (const { name, text } of options.texts ?? []) {
    out.files.push(name);
    try {
      for (const doc of parseSigmaFile(text, name)) out.docs.push({ doc, label: name });
    } catch (e) {
      if (e instanceof SigmaRuleError) out.errors.push(e);
      else out.errors.push(new SigmaRuleError(name, '', (e as Error).message));
    }
  }
  return compileRuleSet(out.docs, out.errors, out.files, out.disabled);
}

/** Compiles rules from YAML texts (for tests and for rules kept outside files). */
export function ruleSetFromTexts(texts: ReadonlyArray<{ name: string; text: string }>, options: LoadOptions = {}): RuleSet {
  const docs: Loaded['docs'] = [];
  const errors: SigmaRuleError[] = [];
  for (const { name, text } of texts) {
    try {
      for (const doc of parseSigmaFile(text, name)) docs.push({ doc, label: name });
    } catch (e) {
      if (e instanceof SigmaRuleError) errors.push(e);
      else throw e;
    }
  }
  return compileRuleSet(docs, errors, texts.map((t) => t.name), new Map(options.disabled ?? []));
}

function err(doc: SigmaDocument, e: unknown): SigmaRuleError {
  if (e instanceof SigmaRuleError) return e;
  if (e instanceof CompileError) return new SigmaRuleError(doc.source, formatPath(e.path), e.detail, doc.lineOf(e.path));
  return new SigmaRuleError(doc.source, '', (e as Error).message);
}

function commonOf(doc: SigmaDocument, pack: PackInfo | undefined) {
  const d = doc.doc;
  const tags = d.tags ?? [];
  const level: Level = d.level ?? 'medium';
  return {
    id: d.id ?? d.name ?? doc.source,
    name: d.name,
    title: d.title,
    description: d.description,
    status: d.status,
    level,
    severity: SEVERITY_OF[level],
    tags,
    attack: attackFromTags(tags),
    author: d.author,
    references: d.references ?? [],
    license: d.license ?? pack?.license,
    date: d.date,
    modified: d.modified,
    falsepositives: d.falsepositives ?? [],
    source: doc.source,
    url: pack?.files?.[basename(doc.file)],
    pack: pack && { name: pack.name, license: pack.license, attribution: pack.attribution, source: pack.source },
    standalone: true,
    parents: [] as Array<{ rule: CorrelationRule; input: number }>,
  };
}

function compileRuleSet(
  docs: Loaded['docs'],
  errors: SigmaRuleError[],
  files: string[],
  disabled: Map<string, string>,
): RuleSet {
  const detections: DetectionRule[] = [];
  const byRef = new Map<string, SigmaRule>();
  const register = (rule: SigmaRule, doc: SigmaDocument): boolean => {
    for (const [key, attr] of [
      [rule.id, 'id'],
      [rule.name, 'name'],
    ] as const) {
      if (!key) continue;
      const prev = byRef.get(key);
      if (prev && prev !== rule) {
        errors.push(new SigmaRuleError(doc.source, attr, `${attr} "${key}" is already used by ${prev.source}`, doc.lineOf([attr])));
        return false;
      }
    }
    byRef.set(rule.id, rule);
    if (rule.name) byRef.set(rule.name, rule);
    return true;
  };

  // 1. Detection rules.
  for (const { doc, pack } of docs) {
    if (doc.kind !== 'detection') continue;
    try {
      const compiled = compileDetection(doc.doc.detection);
      const rule: DetectionRule = {
        kind: 'detection',
        ...commonOf(doc, pack),
        logsource: { category: doc.doc.logsource.category, product: doc.doc.logsource.product, service: doc.doc.logsource.service },
        matches: compiled.predicate,
        requirement: compiled.requirement,
      };
      if (register(rule, doc)) detections.push(rule);
    } catch (e) {
      errors.push(err(doc, e));
    }
  }

  // 2. Global filters: `rule and not filter` for each referenced rule.
  let filters = 0;
  for (const { doc } of docs) {
    if (doc.kind !== 'filter') continue;
    try {
      const { rules: refs, ...detection } = doc.doc.filter;
      const compiled = compileDetection(detection as Record<string, unknown>, ['filter']);
      refs.forEach((ref, i) => {
        const target = byRef.get(ref);
        if (!target || target.kind !== 'detection') {
          throw new CompileError(['filter', 'rules', i], `unknown detection rule "${ref}"`);
        }
        const base = target.matches;
        const f = compiled.predicate;
        target.matches = (ctx) => base(ctx) && !f(ctx);
      });
      filters++;
    } catch (e) {
      errors.push(err(doc, e));
    }
  }

  // 3. Correlations, in dependency order (a correlation may use another correlation).
  const pending = docs.filter((d) => d.doc.kind === 'correlation');
  const correlations: CorrelationRule[] = [];
  let progress = true;
  while (pending.length && progress) {
    progress = false;
    for (let i = 0; i < pending.length; i++) {
      const { doc, pack } = pending[i]!;
      if (doc.kind !== 'correlation') continue;
      const refs = doc.doc.correlation.rules;
      const missing = refs.filter((r) => !byRef.has(r));
      const waitingOn = missing.filter((r) => pending.some((p) => p.doc.kind === 'correlation' && p.doc !== doc && (p.doc.doc.id === r || p.doc.doc.name === r)));
      if (waitingOn.length && waitingOn.length === missing.length) continue;
      pending.splice(i--, 1);
      progress = true;
      const unknown = missing.find((r) => !waitingOn.includes(r));
      if (unknown !== undefined) {
        const at = refs.indexOf(unknown);
        errors.push(err(doc, new CompileError(['correlation', 'rules', at], `unknown rule "${unknown}" (reference a rule by its id or name)`)));
        continue;
      }
      try {
        const rule = compileCorrelation(doc, pack, byRef);
        if (register(rule, doc)) {
          correlations.push(rule);
          rule.rules.forEach((r, input) => r.parents.push({ rule, input }));
        }
      } catch (e) {
        errors.push(err(doc, e));
      }
    }
  }
  for (const { doc } of pending) errors.push(new SigmaRuleError(doc.source, 'correlation.rules', 'circular reference between correlation rules', doc.lineOf(['correlation', 'rules'])));

  // 4. Which rules raise alerts on their own.
  const all: SigmaRule[] = [...detections, ...correlations];
  for (const rule of all) {
    const reason = disabled.get(rule.id) ?? (rule.name ? disabled.get(rule.name) : undefined);
    if (reason) rule.disabled = reason;
    const usedBy = rule.parents.map((p) => p.rule);
    rule.standalone = !rule.disabled && (usedBy.length === 0 || usedBy.some((c) => c.generate));
  }
  return {
    rules: all,
    detections,
    correlations,
    filters,
    errors,
    files,
    get: (ref) => byRef.get(ref),
  };
}

function compileCorrelation(doc: SigmaDocument & { kind: 'correlation' }, pack: PackInfo | undefined, byRef: Map<string, SigmaRule>): CorrelationRule {
  const c = doc.doc.correlation;
  const p = (...rest: Array<string | number>): FieldPath => ['correlation', ...rest];
  const rules = c.rules.map((ref, i) => {
    const r = byRef.get(ref);
    if (!r) throw new CompileError(p('rules', i), `unknown rule "${ref}" (reference a rule by its id or name)`);
    return r;
  });
  const spanText = c.timespan ?? c.timeframe;
  if (spanText === undefined) throw new CompileError(p('timespan'), 'missing (mandatory)');
  const timespanMs = parseTimespan(spanText);
  if (timespanMs === undefined) {
    throw new CompileError(p(c.timespan !== undefined ? 'timespan' : 'timeframe'), `expected a number and a unit s, m, h or d (e.g. 5m), not "${spanText}"`);
  }
  const groupBy = c['group-by'] ?? [];
  const aliases = c.aliases ?? {};
  for (const [alias, map] of Object.entries(aliases)) {
    for (const name of Object.keys(map)) {
      if (!c.rules.includes(name) && !rules.some((r) => r.name === name || r.id === name)) {
        throw new CompileError(p('aliases', alias, name), `"${name}" is not one of the correlated rules`);
      }
    }
  }
  const groupFields = rules.map((r) =>
    groupBy.map((g) => {
      const map = aliases[g];
      if (!map) return g;
      return map[r.name ?? ''] ?? map[r.id] ?? g;
    }),
  );

  let bounds: CountBounds | undefined;
  let valueFields: string[] | undefined;
  let expression: CorrelationSpec['expression'];
  const cond = c.condition;
  if (c.type === 'event_count' || c.type === 'value_count') {
    if (cond === undefined) throw new CompileError(p('condition'), `missing: ${c.type} needs a condition such as {gte: 10}`);
    if (typeof cond === 'string') throw new CompileError(p('condition'), `${c.type} needs a map such as {gte: 10}, not an expression`);
    const { field, ...b } = cond;
    bounds = b;
    if (!Object.values(b).some((v) => v !== undefined)) throw new CompileError(p('condition'), 'needs one of gt, gte, lt, lte, eq');
    if (c.type === 'value_count') {
      valueFields = field ?? c.field;
      if (!valueFields?.length) throw new CompileError(p('condition', 'field'), 'missing: value_count needs the field whose distinct values are counted');
    } else if (field) throw new CompileError(p('condition', 'field'), 'only value_count correlations count a field');
  } else if (typeof cond === 'string') {
    let ast;
    try {
      ast = parseCondition(cond);
    } catch (e) {
      throw new CompileError(p('condition'), (e as Error).message);
    }
    const names = c.rules;
    expression = compileTemporalExpression(ast, (name) => {
      const idx: number[] = [];
      const matches = compileGlob(starParts(name)); // linear-time, no RegExp built from the rule's text
      names.forEach((n, i) => {
        if (matches(n) || matches(rules[i]!.name ?? '') || matches(rules[i]!.id)) idx.push(i);
      });
      if (!idx.length) throw new CompileError(p('condition'), `"${name}" is not one of the correlated rules`);
      return idx;
    });
  } else if (cond) {
    const { field, ...b } = cond;
    if (field) throw new CompileError(p('condition', 'field'), 'only value_count correlations count a field');
    bounds = b;
  }
  if ((c.type === 'temporal' || c.type === 'temporal_ordered') && rules.length < 2 && !expression) {
    throw new CompileError(p('rules'), `${c.type} needs at least two rules`);
  }
  const spec: CorrelationSpec = {
    type: c.type,
    inputs: rules.length,
    groupBy,
    groupFields,
    timespanMs,
    bounds,
    valueFields,
    expression,
  };
  const base = commonOf(doc, pack);
  // A correlation without its own level or tags takes them from the rules it correlates.
  const level: Level =
    doc.doc.level ??
    rules.reduce<Level>((acc, r) => (LEVEL_RANK[r.level] > LEVEL_RANK[acc] ? r.level : acc), 'informational');
  const tags = doc.doc.tags ?? [...new Set(rules.flatMap((r) => r.tags))];
  return {
    kind: 'correlation',
    ...base,
    level,
    severity: SEVERITY_OF[level],
    tags,
    attack: attackFromTags(tags),
    type: c.type,
    rules,
    groupBy,
    timespanMs,
    spec,
    generate: doc.doc.generate ?? c.generate ?? false,
  };
}
