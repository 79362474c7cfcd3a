// Sharded grading: `seclab grade --submissions <dir> --shard i/n` grades a deterministic share of a
// class; `seclab grade merge <dirs...>` checks the shards and combines them into the outputs one run
// would have written (src/cli/grade-merge.ts).
//
// Assignment: the class's submission names sorted by UTF-16 code units (not by locale, so every
// machine sorts alike), then round-robin: the k-th name (0-based) belongs to shard (k mod n) + 1.
// Shares differ by at most one submission; every shard of a run sees the same class folder, and
// the merge checks that they did (a hash of the sorted names).
//
// A shard folder holds grades.json (the signed records, as a single run writes them) and shard.json:
// the run's parameters (seed, labs, grader version...), the whole class's names, this shard's
// students and a hash of its grades.json, signed with the grade key (HMAC-SHA256, domain-separated
// from grade records). Without the key nobody can make a shard the merge accepts, nor swap records
// between shards or runs, nor leave a student out.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Grade, Lab } from './types.ts';
import { canonicalJson, SIGNATURE_SCHEME, verifyGrade, type GradeKey } from './report/sign.ts';
import { writeFileAtomic } from './workspace.ts';

export const SHARD_FILE = 'shard.json';
export const SHARD_RECORDS = 'grades.json';
export const SHARD_KIND = 'seclab-grade-shard';
export const SHARD_FORMAT = 1;
export const ASSIGNMENT = 'sorted-round-robin';
/** Prefixed to what a manifest's HMAC covers: a manifest's MAC is never a grade record's and vice versa. */
const DOMAIN = 'seclab-grade-shard-manifest\n';

export interface ShardSpec {
  /** 1-based. */
  index: number;
  count: number;
}

export class ShardError extends Error {
  /** usage: the shards do not belong together (or a folder is not a shard); integrity: something was changed or forged. */
  constructor(message: string, readonly kind: 'usage' | 'integrity', readonly hint?: string) {
    super(message);
    this.name = 'ShardError';
  }
}

export const MAX_SHARDS = 1000;

/** "2/5" → { index: 2, count: 5 }; the reason as a string when invalid. */
export function parseShard(value: string): ShardSpec | string {
  const m = /^\s*(\d{1,6})\s*\/\s*(\d{1,6})\s*$/.exec(value);
  if (!m) return `--shard must be i/n (this run grades share i of n, 1-based, e.g. 2/4); got "${value}"`;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS) return `--shard ${value}: n must be from 1 to ${MAX_SHARDS}`;
  if (index < 1 || index > count) return `--shard ${value}: i must be from 1 to ${count} (shards are numbered from 1)`;
  return { index, count };
}

/** Code-unit order: the same on every machine, whatever its locale. */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Which shard (1-based) a student belongs to, given every name of the class. */
export function shardOf(student: string, classNames: readonly string[], count: number): number {
  const sorted = [...new Set(classNames)].sort(byCodeUnits);
  const k = sorted.indexOf(student);
  if (k < 0) throw new Error(`${student} is not in the class`);
  return (k % count) + 1;
}

/** The submissions of one shard, in the order given. */
export function selectShard<T extends { student: string }>(subs: readonly T[], spec: ShardSpec): T[] {
  const sorted = [...new Set(subs.map((s) => s.student))].sort(byCodeUnits);
  const rank = new Map(sorted.map((name, k) => [name, k]));
  return subs.filter((s) => rank.get(s.student)! % spec.count === spec.index - 1);
}

/** sha256 of the class's names, sorted by code units, one per line. */
export function classHash(names: readonly string[]): string {
  return createHash('sha256').update([...names].sort(byCodeUnits).join('\n')).digest('hex');
}

/** What the labs grade (ids, checks, scenarios, points, hidden or not: instructor packs included). */
export function labsFingerprint(labs: readonly Lab[]): string {
  const shape = labs.map((l) => ({
    id: l.id,
    checks: l.checks.map((c) => ({ id: c.id, kind: c.kind, points: c.points, hidden: !!c.hidden })),
    scenarios: l.scenarios.map((s) => ({ id: s.id, points: s.points, hidden: !!s.hidden })),
  }));
  return createHash('sha256').update(canonicalJson(shape)).digest('hex');
}

/** The exact bytes of grades.json for a class run (as `seclab grade --format json --out` writes them). */
export function recordsText(grades: readonly Grade[]): string {
  return `${JSON.stringify(grades, null, 2)}\n`;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface ShardManifest {
  kind: typeof SHARD_KIND;
  format: typeof SHARD_FORMAT;
  assignment: typeof ASSIGNMENT;
  shard: ShardSpec;
  /** seclab version that graded. */
  version: string;
  seed: string;
  target: string;
  /** Lab ids in the run's order (the gradebook's columns). */
  labs: string[];
  labsFingerprint: string;
  /** --timeout in ms (null: the default). */
  timeoutMs: number | null;
  /** The formats the run was asked for: the merge writes the same. */
  formats: string[];
  /** Every submission of the class, in the order a single run lists them. */
  class: string[];
  classHash: string;
  /** This shard's students, in the order of its grades.json. */
  students: string[];
  /** sha256 of this shard's grades.json. */
  recordsSha256: string;
  /** `hmac-sha256:<key id>:<hex>`; absent when the records could not be signed. */
  signature?: string;
}

function manifestMac(m: ShardManifest, key: Buffer): string {
  const { signature: _omit, ...rest } = m;
  void _omit;
  return createHmac('sha256', key).update(DOMAIN + canonicalJson(rest)).digest('hex');
}

export function signManifest(m: ShardManifest, key: GradeKey): ShardManifest {
  return { ...m, signature: `${SIGNATURE_SCHEME}:${key.id}:${manifestMac(m, key.key)}` };
}

/** Why a manifest's signature is not valid, or undefined when it is. */
export function manifestProblem(m: ShardManifest, key: GradeKey): string | undefined {
  if (typeof m.signature !== 'string' || !m.signature) return 'is not signed (the grade key could not be used when it was graded)';
  const [scheme, keyId, hex] = m.signature.split(':');
  if (scheme !== SIGNATURE_SCHEME || !keyId || !hex || !/^[0-9a-f]{64}$/.test(hex)) return 'has a signature of an unknown format';
  if (keyId !== key.id) return `was signed with another key (key id ${keyId}; the key here is ${key.id}, from ${key.source})`;
  const expected = Buffer.from(manifestMac(m, key.key), 'hex');
  const given = Buffer.from(hex, 'hex');
  return expected.length === given.length && timingSafeEqual(expected, given) ? undefined : 'was changed after it was signed';
}

export interface ShardRun {
  spec: ShardSpec;
  version: string;
  seed: string;
  target: string;
  labs: readonly Lab[];
  timeoutMs: number | undefined;
  formats: readonly string[];
  /** Every submission of the class, in the run's order. */
  classNames: readonly string[];
  /** This shard's records (signed), in the run's order. */
  grades: readonly Grade[];
}

/** Writes grades.json (the same bytes as the json format) and the signed shard.json into `dir`. */
export async function writeShard(dir: string, run: ShardRun, key: GradeKey | undefined): Promise<ShardManifest> {
  const text = recordsText(run.grades);
  await writeFileAtomic(path.join(dir, SHARD_RECORDS), text);
  let m: ShardManifest = {
    kind: SHARD_KIND,
    format: SHARD_FORMAT,
    assignment: ASSIGNMENT,
    shard: { index: run.spec.index, count: run.spec.count },
    version: run.version,
    seed: run.seed,
    target: run.target,
    labs: run.labs.map((l) => l.id),
    labsFingerprint: labsFingerprint(run.labs),
    timeoutMs: run.timeoutMs ?? null,
    formats: [...run.formats],
    class: [...run.classNames],
    classHash: classHash(run.classNames),
    students: run.grades.map((g) => g.student),
    recordsSha256: sha256(text),
  };
  if (key) m = signManifest(m, key);
  await writeFileAtomic(path.join(dir, SHARD_FILE), `${JSON.stringify(m, null, 2)}\n`);
  return m;
}

export interface LoadedShard {
  dir: string;
  manifest: ShardManifest;
  grades: Grade[];
  /** grades.json is not the file the manifest lists (its records are not read). */
  recordsChanged?: boolean;
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Reads a shard folder; shape errors are usage errors (not a shard), nothing is trusted yet. */
export function readShard(dir: string): LoadedShard {
  const mf = path.join(dir, SHARD_FILE);
  if (!existsSync(dir)) throw new ShardError(`${dir}: no such folder`, 'usage');
  if (!existsSync(mf)) {
    throw new ShardError(`${dir} is not the output of a sharded run (no ${SHARD_FILE} in it)`, 'usage', 'grade each share with: seclab grade --submissions <dir> --shard i/n --seed <seed> --out <dir>');
  }
  let m: ShardManifest;
  try {
    m = JSON.parse(readFileSync(mf, 'utf8')) as ShardManifest;
  } catch (e) {
    throw new ShardError(`${mf} is not valid JSON: ${(e as Error).message}`, 'integrity');
  }
  const ok = m && typeof m === 'object' && m.kind === SHARD_KIND && m.format === SHARD_FORMAT && m.assignment === ASSIGNMENT
    && m.shard && Number.isInteger(m.shard.index) && Number.isInteger(m.shard.count) && m.shard.count >= 1 && m.shard.index >= 1 && m.shard.index <= m.shard.count
    && typeof m.version === 'string' && typeof m.seed === 'string' && typeof m.target === 'string' && typeof m.labsFingerprint === 'string'
    && isStrings(m.labs) && isStrings(m.formats) && isStrings(m.class) && isStrings(m.students) && typeof m.classHash === 'string' && typeof m.recordsSha256 === 'string';
  if (!ok) throw new ShardError(`${mf} is not a seclab shard manifest (format ${SHARD_FORMAT}), or was made by another seclab version`, 'usage');
  const rf = path.join(dir, SHARD_RECORDS);
  if (!existsSync(rf)) throw new ShardError(`${dir} has ${SHARD_FILE} but no ${SHARD_RECORDS}`, 'integrity');
  const text = readFileSync(rf, 'utf8');
  if (sha256(text) !== m.recordsSha256) return { dir, manifest: m, grades: [], recordsChanged: true };
  let grades: Grade[];
  try {
    grades = JSON.parse(text) as Grade[];
  } catch (e) {
    throw new ShardError(`${rf} is not valid JSON: ${(e as Error).message}`, 'integrity');
  }
  if (!Array.isArray(grades)) throw new ShardError(`${rf} does not hold a list of grade records`, 'integrity');
  return { dir, manifest: m, grades };
}

const label = (s: LoadedShard) => `${s.dir} (shard ${s.manifest.shard.index}/${s.manifest.shard.count})`;

/** What must be equal in every shard of one run, with how to say it. */
const SAME: { field: keyof ShardManifest; what: string }[] = [
  { field: 'version', what: 'seclab versions' },
  { field: 'seed', what: 'seeds (give every shard the same --seed)' },
  { field: 'labs', what: 'labs (--lab)' },
  { field: 'labsFingerprint', what: 'lab definitions (instructor packs, --pack, or labs changed between runs)' },
  { field: 'target', what: 'targets (--target)' },
  { field: 'timeoutMs', what: 'time limits (--timeout)' },
  { field: 'formats', what: 'formats (--format)' },
  { field: 'classHash', what: 'classes (the --submissions folders did not hold the same submissions)' },
];

export interface Merged {
  manifest: ShardManifest;
  /** Every record of the class, in the order one run writes them. */
  grades: Grade[];
}

/**
 * Checks shards (signatures first, then that they are the n shares of one run, each complete) and
 * returns the class's records in a single run's order. Throws ShardError.
 */
export function mergeShards(dirs: readonly string[], key: GradeKey): Merged {
  if (!dirs.length) throw new ShardError('which shard folders? e.g. seclab grade merge shard-1 shard-2 shard-3 --out grades', 'usage');
  const shards = dirs.map((d) => readShard(d));

  // Integrity: every manifest signed with this key, every grades.json the one it lists, every record signed.
  for (const s of shards) {
    const problem = manifestProblem(s.manifest, key);
    if (problem) {
      throw new ShardError(`${s.dir}/${SHARD_FILE} ${problem}: refusing to merge`, 'integrity',
        problem.includes('another key') || problem.includes('not signed') ? 'every shard and the merge need the same grade key: set SECLAB_GRADE_KEY (a CI secret) for all of them' : 'grade that shard again');
    }
    if (s.recordsChanged) throw new ShardError(`${s.dir}/${SHARD_RECORDS} is not the file its ${SHARD_FILE} was signed with (it was changed or replaced): refusing to merge`, 'integrity', 'grade that shard again');
    const m = s.manifest;
    if (s.grades.length !== m.students.length || s.grades.some((g, i) => !g || g.student !== m.students[i])) {
      throw new ShardError(`${s.dir}/${SHARD_RECORDS} does not hold the students its ${SHARD_FILE} lists`, 'integrity');
    }
    s.grades.forEach((g, i) => {
      const v = verifyGrade(g, key);
      if (!v.ok) throw new ShardError(`${s.dir}/${SHARD_RECORDS}[${i}] (${g.student}): ${v.reason}: refusing to merge`, 'integrity');
      if (g.seed !== m.seed || g.version !== m.version) throw new ShardError(`${s.dir}/${SHARD_RECORDS}[${i}] (${g.student}) was graded with seed ${g.seed} by seclab ${g.version}, not as its shard says`, 'integrity');
    });
  }

  // One run: the same n, parameters and class everywhere.
  const first = shards[0]!;
  for (const s of shards.slice(1)) {
    if (s.manifest.shard.count !== first.manifest.shard.count) {
      throw new ShardError(`${label(first)} and ${label(s)} split the class into different numbers of shards`, 'usage', 'merge the shards of one run: all graded with the same --shard i/n count');
    }
    for (const { field, what } of SAME) {
      const a = canonicalJson(first.manifest[field]);
      const b = canonicalJson(s.manifest[field]);
      if (a !== b) throw new ShardError(`${label(first)} and ${label(s)} were graded with different ${what}: ${a.slice(0, 80)} vs ${b.slice(0, 80)}`, 'usage', 'merge only the shards of one run');
    }
  }
  const n = first.manifest.shard.count;
  const seen = new Map<number, LoadedShard>();
  for (const s of shards) {
    const other = seen.get(s.manifest.shard.index);
    if (other) throw new ShardError(`shard ${s.manifest.shard.index}/${n} is given twice: ${other.dir} and ${s.dir}`, 'usage', 'give each shard folder once');
    seen.set(s.manifest.shard.index, s);
  }
  const missing = Array.from({ length: n }, (_, k) => k + 1).filter((i) => !seen.has(i));
  if (missing.length) {
    throw new ShardError(`shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${n}`).join(', ')} missing: the merge needs all ${n}`, 'usage', 'download every shard\'s output (or grade the missing ones) and merge them all');
  }

  // Each shard holds exactly its share, so the shares cover the class once.
  const classNames = first.manifest.class;
  if (classHash(classNames) !== first.manifest.classHash || new Set(classNames).size !== classNames.length) throw new ShardError(`${label(first)}: its class list does not match its hash`, 'integrity');
  const order = new Map(classNames.map((name, k) => [name, k]));
  const byStudent = new Map<string, Grade>();
  for (const s of shards) {
    const expected = selectShard(classNames.map((student) => ({ student })), s.manifest.shard).map((x) => x.student);
    const got = s.manifest.students;
    const extra = got.filter((x) => !expected.includes(x));
    const lacking = expected.filter((x) => !got.includes(x));
    if (extra.length || lacking.length || new Set(got).size !== got.length) {
      throw new ShardError(`${label(s)} does not hold its share of the class${lacking.length ? `: missing ${lacking.slice(0, 5).join(', ')}` : ''}${extra.length ? `: also holds ${extra.slice(0, 5).join(', ')}` : ''}`, 'integrity');
    }
    for (const g of s.grades) byStudent.set(g.student, g);
  }
  const grades = [...byStudent.values()].sort((a, b) => order.get(a.student)! - order.get(b.student)!);
  if (grades.length !== classNames.length) throw new ShardError(`the shards hold ${grades.length} of the class's ${classNames.length} submissions`, 'integrity');
  return { manifest: first.manifest, grades };
}
