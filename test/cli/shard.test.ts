// Grading beyond one machine: `seclab grade --shard i/n` and `seclab grade merge`.
// - the assignment of submissions to shards (deterministic, a partition, balanced);
// - shards made from a single run's records merge into byte-identical outputs (every format);
// - the merge refuses shards of different runs, overlapping or missing shards, and anything changed
//   or forged without the grade key;
// - a real class (lab iam) graded once and in 3 shards, merged, compared with the single run.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { FORMATS, renderOutputs, writeOutputs, type Format } from '../../src/cli/grade.ts';
import { buildGrade } from '../../src/engine/report/record.ts';
import { gradeKey, signGrade } from '../../src/engine/report/sign.ts';
import {
  classHash, mergeShards, parseShard, readShard, recordsText, selectShard, shardOf, sha256, SHARD_FILE, SHARD_RECORDS, ShardError, signManifest, writeShard,
  type ShardManifest, type ShardRun,
} from '../../src/engine/shard.ts';
import type { Grade } from '../../src/engine/types.ts';
import { fakeLab, fakeLabGrade, tmpDir } from './fixtures.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin/seclab.js');
const KEY_TEXT = 'shard-test-key';
const ENV = { SECLAB_GRADE_KEY: KEY_TEXT };
const key = gradeKey({ env: ENV });

function seclab(args: string[], opts: { env?: Record<string, string>; cwd?: string; timeout?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const home = tmpDir('seclab-home-');
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? tmpDir(),
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: '', SECLAB_GRADE_KEY: '', NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: opts.timeout ?? 30_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** Every file under a folder, relative, sorted. */
function files(dir: string, rel = ''): string[] {
  return readdirSync(path.join(dir, rel), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(dir, path.join(rel, e.name)) : [path.join(rel, e.name)]))
    .sort();
}

describe('shard assignment', () => {
  it('parses i/n and says what is wrong', () => {
    expect(parseShard('2/5')).toEqual({ index: 2, count: 5 });
    expect(parseShard('1/1')).toEqual({ index: 1, count: 1 });
    expect(parseShard('0/3')).toMatch(/i must be from 1 to 3/);
    expect(parseShard('4/3')).toMatch(/i must be from 1 to 3/);
    expect(parseShard('1/0')).toMatch(/n must be from 1/);
    for (const bad of ['x', '1', '1/2/3', '-1/2', '1.5/2', '']) expect(parseShard(bad)).toMatch(/must be i\/n/);
  });

  it('is a balanced partition that depends on the names only (not their order, not the locale)', () => {
    const names = ['zoë', 'Émile', 'alice', 'Bob', 'carol', 'dave-2', 'dave_1', 'eve', 'Ωmega', 'ünal'];
    const subs = names.map((student) => ({ student }));
    const shuffled = [...subs].reverse();
    for (const n of [1, 2, 3, 4, 10, 13]) {
      const shares = Array.from({ length: n }, (_, k) => selectShard(subs, { index: k + 1, count: n }).map((s) => s.student));
      expect(shares.flat().sort()).toEqual([...names].sort());
      const sizes = shares.map((s) => s.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      for (let k = 0; k < n; k++) {
        expect(selectShard(shuffled, { index: k + 1, count: n }).map((s) => s.student).sort()).toEqual([...shares[k]!].sort());
        for (const s of shares[k]!) expect(shardOf(s, names, n)).toBe(k + 1);
      }
    }
    // Documented rule: code-unit order (Bob, alice, carol, dave-2, dave_1, eve, zoë, Émile, ünal, Ωmega), then round-robin;
    // a shard keeps the order it was given.
    expect(selectShard(subs, { index: 1, count: 3 }).map((s) => s.student)).toEqual(['zoë', 'Bob', 'dave-2', 'Ωmega']);
    expect(classHash(names)).toBe(classHash(shuffled.map((s) => s.student)));
  });
});

// ---- merging shards made from known records ----

const LAB_IDS = ['iam'];
const SEED = 'shard-seed';
const labs = [fakeLab('iam')];
/** Names that sort differently by locale and by code unit, and two that make the same file name. */
const CLASS = ['alice', 'Bob', 'carol', 'dan o', 'dan_o', 'Émile', 'zed'];
const ALL_FORMATS = [...FORMATS] as Format[];

function classGrades(over: Partial<Grade> = {}): Grade[] {
  return CLASS.map((student, k) => signGrade({
    ...buildGrade({
      student, workspace: `/class/${student}`, target: 'moto', version: '0.1.0', startedAt: '2026-01-02T03:04:05.000Z', seed: SEED,
      labs: [fakeLabGrade({ score: 5 * k, seed: SEED, accountId: String(100000000000 + k) })],
    }),
    ...over,
  }, key));
}

async function writeSingle(dir: string, grades: Grade[]): Promise<void> {
  await writeOutputs(dir, renderOutputs(grades, ALL_FORMATS, LAB_IDS, false), grades, ALL_FORMATS, false);
}

function runOf(grades: Grade[], index: number, count: number, over: Partial<ShardRun> = {}): ShardRun {
  return {
    spec: { index, count }, version: '0.1.0', seed: SEED, target: 'moto', labs, timeoutMs: undefined, formats: ALL_FORMATS,
    classNames: grades.map((g) => g.student), grades: selectShard(grades.map((g) => ({ ...g })), { index, count }).map((g) => g as Grade), ...over,
  };
}

async function makeShards(grades: Grade[], count: number, over: (i: number) => Partial<ShardRun> = () => ({})): Promise<string[]> {
  const root = tmpDir('seclab-shards-');
  const dirs: string[] = [];
  for (let i = 1; i <= count; i++) {
    const dir = path.join(root, `shard-${i}`);
    await writeShard(dir, runOf(grades, i, count, over(i)), key);
    dirs.push(dir);
  }
  return dirs;
}

function mergeError(dirs: string[]): ShardError {
  try {
    mergeShards(dirs, key);
  } catch (e) {
    if (e instanceof ShardError) return e;
    throw e;
  }
  throw new Error('the merge succeeded');
}

const rewrite = (file: string, edit: (m: ShardManifest) => ShardManifest) => writeFileSync(file, `${JSON.stringify(edit(JSON.parse(readFileSync(file, 'utf8')) as ShardManifest), null, 2)}\n`);

describe('grade merge', () => {
  it('writes exactly what one run writes, in every format (command line)', async () => {
    const grades = classGrades();
    const single = tmpDir('seclab-single-');
    await writeSingle(single, grades);
    const dirs = await makeShards(grades, 3);
    const out = path.join(tmpDir('seclab-merged-'), 'grades');
    const r = await seclab(['grade', 'merge', ...dirs, '--out', out], { env: ENV });
    expect(r.stderr).toMatch(/Merged 3 shard\(s\): 7 submissions/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/7 graded, average/);
    expect(files(out)).toEqual(files(single));
    expect(files(out)).toContain(path.join('feedback', 'dan_o-2.md'));
    for (const f of files(single)) expect(readFileSync(path.join(out, f), 'utf8'), f).toBe(readFileSync(path.join(single, f), 'utf8'));
    // The merged records are the shards' records, untouched: their signatures verify.
    const v = await seclab(['grade', 'verify', path.join(out, 'grades.json')], { env: ENV });
    expect(v.code).toBe(0);
    // --json prints the records; --format chooses other outputs; --fail-under applies to the class.
    const j = await seclab(['grade', 'merge', ...dirs, '--out', path.join(out, '..', 'j'), '--json', '--format', 'csv', '--fail-under', '10'], { env: ENV });
    expect(j.code).toBe(1);
    expect((JSON.parse(j.stdout) as Grade[]).map((g) => g.student)).toEqual(CLASS);
    expect(files(path.join(out, '..', 'j'))).toEqual(['gradebook.csv']);
  });

  it('merges n = 1, and shards that hold no submission', async () => {
    const grades = classGrades();
    expect(mergeShards(await makeShards(grades, 1), key).grades).toEqual(grades);
    const ten = await makeShards(grades, 10);
    expect(readShard(ten[9]!).manifest.students).toEqual([]);
    expect(mergeShards([...ten].reverse(), key).grades).toEqual(grades);
  });

  it('refuses missing, repeated and foreign shards', async () => {
    const grades = classGrades();
    const dirs = await makeShards(grades, 3);
    expect(mergeError([dirs[0]!, dirs[2]!]).message).toMatch(/shard 2\/3 missing: the merge needs all 3/);
    expect(mergeError([dirs[0]!, dirs[1]!, dirs[1]!, dirs[2]!]).message).toMatch(/shard 2\/3 is given twice/);
    const four = await makeShards(grades, 4);
    expect(mergeError([dirs[0]!, dirs[1]!, four[2]!]).message).toMatch(/different numbers of shards/);
    const other = tmpDir('seclab-notshard-');
    expect(mergeError([other]).message).toMatch(/not the output of a sharded run/);
    expect(mergeError([path.join(other, 'nope')]).message).toMatch(/no such folder/);
  });

  it('refuses shards graded with different seeds, labs, versions or classes', async () => {
    const grades = classGrades();
    const base = await makeShards(grades, 3);
    const cases: [Partial<ShardRun>, RegExp, Grade[]?][] = [
      [{ seed: 'another-seed' }, /different seeds/, classGrades({ seed: 'another-seed' })],
      [{ version: '0.2.0' }, /different seclab versions/, classGrades({ version: '0.2.0' })],
      [{ labs: [fakeLab('network')] }, /different labs/],
      [{ labs: [{ ...labs[0]!, checks: [{ id: 'extra', title: 'hidden', kind: 'posture', points: 5, hidden: true, run: async () => ({ passed: true, feedback: '' }) } as never] }] }, /different lab definitions/],
      [{ timeoutMs: 5000 }, /different time limits/],
      [{ classNames: [...CLASS, 'newcomer'] }, /different classes/],
    ];
    for (const [over, message, records] of cases) {
      const odd = await makeShards(records ?? grades, 3, () => over);
      expect(mergeError([base[0]!, base[1]!, odd[2]!]).message, String(message)).toMatch(message);
    }
  });

  it('refuses anything changed or forged without the grade key', async () => {
    const grades = classGrades();
    const fresh = () => makeShards(grades, 3);

    // A score edited in a shard's grades.json.
    let dirs = await fresh();
    const rf = path.join(dirs[1]!, SHARD_RECORDS);
    const text = readFileSync(rf, 'utf8');
    writeFileSync(rf, text.replace(/"score": \d+,/, '"score": 45,'));
    expect(readFileSync(rf, 'utf8')).not.toBe(text);
    expect(mergeError(dirs)).toMatchObject({ kind: 'integrity', message: expect.stringMatching(/is not the file its shard\.json was signed with/) });

    // ... and the manifest's hash updated to match: the manifest's signature breaks.
    rewrite(path.join(dirs[1]!, SHARD_FILE), (m) => ({ ...m, recordsSha256: sha256(readFileSync(rf, 'utf8')) }));
    expect(mergeError(dirs)).toMatchObject({ kind: 'integrity', message: expect.stringMatching(/was changed after it was signed/) });

    // A student leaves herself out of the class (class list and its hash edited).
    dirs = await fresh();
    for (const d of dirs) rewrite(path.join(d, SHARD_FILE), (m) => ({ ...m, class: m.class.filter((x) => x !== 'zed'), classHash: classHash(m.class.filter((x) => x !== 'zed')) }));
    expect(mergeError(dirs).message).toMatch(/changed after it was signed/);

    // A whole shard made by someone without the key: signed with another key, or not signed.
    dirs = await fresh();
    const forger = gradeKey({ env: { SECLAB_GRADE_KEY: 'a student guessing' } });
    const forged = runOf(grades.map((g) => signGrade({ ...g, score: g.maxScore, percent: 100 }, forger)), 2, 3);
    await writeShard(dirs[1]!, forged, forger);
    expect(mergeError(dirs).message).toMatch(/signed with another key/);
    await writeShard(dirs[1]!, forged, undefined);
    expect(mergeError(dirs).message).toMatch(/is not signed/);

    // A record from another shard's grades.json (valid signature) in place of one of this shard's.
    dirs = await fresh();
    const s1 = readShard(dirs[0]!);
    const s2 = readShard(dirs[1]!);
    const swapped = recordsText([s2.grades[0]!, ...s1.grades.slice(1)]);
    writeFileSync(path.join(dirs[0]!, SHARD_RECORDS), swapped);
    expect(mergeError(dirs).message).toMatch(/is not the file its shard\.json was signed with/);

    // A record that was edited and re-listed in a manifest signed with the right key still needs its own signature.
    dirs = await fresh();
    const edited = [{ ...s1.grades[0]!, score: 99 }, ...s1.grades.slice(1)];
    writeFileSync(path.join(dirs[0]!, SHARD_RECORDS), recordsText(edited));
    rewrite(path.join(dirs[0]!, SHARD_FILE), (m) => signManifest({ ...m, recordsSha256: sha256(recordsText(edited)) }, key));
    expect(mergeError(dirs).message).toMatch(/\(Bob\): the record was changed after it was signed/);

    // Shards that do not hold their share (a shard of another assignment, signed with the key).
    dirs = await fresh();
    await writeShard(dirs[0]!, { ...runOf(grades, 1, 3), grades: grades.slice(0, 2) }, key);
    expect(mergeError(dirs).message).toMatch(/does not hold its share of the class/);
  });

  it('on the command line: exit 1 when something was changed, 2 for shards that do not belong together, 3 without the key', async () => {
    const grades = classGrades();
    const dirs = await makeShards(grades, 2);
    const out = path.join(tmpDir('seclab-merged-'), 'out');
    const missing = await seclab(['grade', 'merge', dirs[0]!, '--out', out], { env: ENV });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/shard 2\/2 missing/);
    expect((await seclab(['grade', 'merge', ...dirs], { env: ENV })).stderr).toMatch(/needs --out/);
    expect((await seclab(['grade', 'merge', ...dirs, '--out', dirs[0]!], { env: ENV })).stderr).toMatch(/is a shard folder/);
    const nokey = await seclab(['grade', 'merge', ...dirs, '--out', out]);
    expect(nokey.code).toBe(3);
    expect(nokey.stderr).toMatch(/no grade key/);
    const other = await seclab(['grade', 'merge', ...dirs, '--out', out], { env: { SECLAB_GRADE_KEY: 'another key' } });
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/signed with another key/);
    expect(existsSync(out)).toBe(false);
    const json = await seclab(['grade', 'merge', dirs[0]!, '--out', out, '--json'], { env: ENV });
    expect(json.code).toBe(2);
  });

  it('--shard is checked before anything starts', async () => {
    const cls = tmpDir('seclab-class-');
    mkdirSync(path.join(cls, 'alice', 'iam'), { recursive: true });
    const cases: [string[], RegExp][] = [
      [['--shard', '0/3', '--seed', 's', '--out', 'o'], /--shard 0\/3: i must be from 1 to 3/],
      [['--shard', '4/3', '--seed', 's', '--out', 'o'], /i must be from 1 to 3/],
      [['--shard', 'half', '--seed', 's', '--out', 'o'], /--shard must be i\/n/],
      [['--shard', '1/3', '--out', 'o'], /--shard needs --seed/],
      [['--shard', '1/3', '--seed', 's'], /--shard needs --out/],
    ];
    for (const [args, message] of cases) {
      const r = await seclab(['grade', '--submissions', cls, '--lab', 'iam', ...args], { env: ENV });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const ws = await seclab(['grade', '--workspace', path.join(cls, 'alice'), '--shard', '1/2', '--seed', 's', '--out', 'o'], { env: ENV });
    expect(ws.code).toBe(2);
    expect(ws.stderr).toMatch(/--shard splits a class: it needs --submissions/);
  });
});

// ---- a real class ----

/**
 * What legitimately differs between ANY two gradings of the same class with the same seed (two
 * unsharded runs differ in these too): the run's start time, durations, account ids and run ids
 * in resource names (unique names, not drawn from the seed: src/engine/random.ts), resource ids and
 * public addresses the emulator assigns, the lab clock of
 * attack steps (it starts at the wall clock and is shared by the students graded at once), the
 * durations of the student's functions in report.html, and the signatures over all of these.
 */
function normalize(text: string): string {
  return text
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?/g, '<time>')
    .replace(/"(durationMs|at)": \d+/g, '"$1": <n>')
    .replace(/time="[\d.]+"/g, 'time="<s>"')
    .replace(/\(\) \d+(?:\.\d+)? (?:ms|s|min)(?: \d+ s)?/g, '() <duration>') // report.html: "audit() 1.2 s"
    .replace(/\b([a-z]+)-[0-9a-f]{17}\b/g, '$1-<id>') // resource ids the emulator makes (fl-…, i-…, vpc-…)
    .replace(/\b54\.214\.\d{1,3}\.\d{1,3}\b/g, '<public-ip>') // public addresses the emulator gives instances
    .replace(/\b\d{12}\b/g, '<account>')
    .replace(/-[0-9a-f]{8}\b/g, '-<run>')
    .replace(/hmac-sha256:[0-9a-f]{12}:[0-9a-f]{64}/g, '<signature>');
}

const hasSandbox = process.platform === 'linux' && spawnSync('bwrap', ['--version']).status === 0;

describe.skipIf(!hasSandbox)('a class graded once and in 3 shards (lab iam)', () => {
  const work = tmpDir('seclab-shard-class-');
  const classDir = path.join(work, 'class');
  // One student at a time per lab cloud: students graded at once share its lab clock, and the reference's MFA
  // enrolment (two TOTP codes from the lab clock) has been seen to fail when another grading moved it meanwhile.
  const grade = (args: string[]) => seclab(['grade', '--submissions', classDir, '--lab', 'iam', '--seed', 'shard-class', '--timeout', '30', '--concurrency', '1', ...args], { env: ENV, cwd: work, timeout: 300_000 });
  const results: Record<string, { code: number | null; stderr: string }> = {};

  beforeAll(async () => {
    const reference = readFileSync(path.join(ROOT, 'solutions/iam/solution.ts'), 'utf8');
    const starter = readFileSync(path.join(ROOT, 'labs/iam/starter/iam/solution.ts'), 'utf8');
    const student = (name: string, solution: string) => {
      mkdirSync(path.join(classDir, name, 'iam'), { recursive: true });
      writeFileSync(path.join(classDir, name, 'package.json'), '{ "type": "module", "private": true }\n');
      writeFileSync(path.join(classDir, name, 'iam', 'solution.ts'), solution);
    };
    student('ada', reference);
    student('Bea', starter);
    student('cy', starter.replace('export async function audit', 'export async function audit_unused'));
    student('dot', reference.replace(/export async function apply/, 'export async function apply() { throw new Error(\'not yet\'); }\nasync function apply_draft'));
    cpSync(path.join(ROOT, 'solutions/iam'), path.join(classDir, 'eli', 'iam'), { recursive: true });
    results['single'] = await grade(['--out', path.join(work, 'single')]);
    for (let i = 1; i <= 3; i++) results[`shard-${i}`] = await grade(['--shard', `${i}/3`, '--out', path.join(work, `shard-${i}`)]);
    results['merge'] = await seclab(['grade', 'merge', ...[3, 1, 2].map((i) => path.join(work, `shard-${i}`)), '--out', path.join(work, 'merged')], { env: ENV, cwd: work });
  }, 600_000);

  it('every run succeeded; each shard graded only its share', () => {
    for (const [name, r] of Object.entries(results)) expect(r.code, `${name}: ${r.stderr}`).toBe(0);
    const shares = [1, 2, 3].map((i) => (JSON.parse(readFileSync(path.join(work, `shard-${i}`, 'grades.json'), 'utf8')) as Grade[]).map((g) => g.student));
    expect(shares).toEqual([['Bea', 'dot'], ['ada', 'eli'], ['cy']]); // by code unit: Bea, ada, cy, dot, eli
  });

  it('the merged outputs are the single run\'s, apart from what differs between any two runs', () => {
    const single = path.join(work, 'single');
    const merged = path.join(work, 'merged');
    expect(files(merged)).toEqual(files(single));
    for (const f of files(single)) expect(normalize(readFileSync(path.join(merged, f), 'utf8')), f).toBe(normalize(readFileSync(path.join(single, f), 'utf8')));
    const a = JSON.parse(readFileSync(path.join(single, 'grades.json'), 'utf8')) as Grade[];
    const b = JSON.parse(readFileSync(path.join(merged, 'grades.json'), 'utf8')) as Grade[];
    expect(b.map((g) => [g.student, g.score, g.seed])).toEqual(a.map((g) => [g.student, g.score, g.seed]));
    expect(a.map((g) => g.score)).toEqual([100, 0, expect.any(Number), expect.any(Number), 100]);
  });

  it('the merged records are the shards\' records byte for byte', () => {
    const merged = JSON.parse(readFileSync(path.join(work, 'merged', 'grades.json'), 'utf8')) as Grade[];
    const fromShards = [1, 2, 3].flatMap((i) => JSON.parse(readFileSync(path.join(work, `shard-${i}`, 'grades.json'), 'utf8')) as Grade[]);
    for (const g of merged) expect(g).toEqual(fromShards.find((x) => x.student === g.student));
  });
});

// ---- the CI files of docs/ci-grading.md ----

describe('docs/ci-grading.md workflows', () => {
  const read = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');
  const doc = read('docs/ci-grading.md');

  it('are valid YAML, referenced from the doc, and every ```yaml block of the doc parses', async () => {
    const { parse } = await import('yaml');
    for (const f of ['docs/ci/github-actions.yml', 'docs/ci/gitlab-ci.yml']) {
      expect(() => parse(read(f)), f).not.toThrow();
      expect(doc).toContain(f.replace('docs/', ''));
    }
    const blocks = [...doc.matchAll(/```ya?ml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThan(0);
    for (const b of blocks) expect(() => parse(b)).not.toThrow();
  });

  it('GitHub Actions: a matrix of shards uploading artifacts, a merge job that downloads them all', async () => {
    const { parse } = await import('yaml');
    const wf = parse(read('docs/ci/github-actions.yml')) as { env: Record<string, string>; jobs: Record<string, { needs?: string; strategy?: { matrix: { shard: number[]; total: number[] } }; steps: { uses?: string; run?: string; with?: Record<string, unknown> }[] }> };
    const { grade, merge } = wf.jobs as Required<typeof wf.jobs>;
    const { shard, total } = grade!.strategy!.matrix;
    expect(total).toHaveLength(1);
    expect(shard).toEqual(Array.from({ length: total[0]! }, (_, k) => k + 1));
    const runs = (job: typeof grade) => job!.steps.map((s) => s.run ?? '').join('\n');
    expect(runs(grade)).toMatch(/seclab grade --submissions \S+\s+--shard \$\{\{ matrix\.shard \}\}\/\$\{\{ matrix\.total \}\}\s+--seed "\$\{\{ github\.run_id \}\}"\s+--out "shard-\$\{\{ matrix\.shard \}\}"/);
    expect(grade!.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))?.with).toMatchObject({ name: 'shard-${{ matrix.shard }}', path: 'shard-${{ matrix.shard }}/' });
    expect(merge!.needs).toBe('grade');
    expect(merge!.steps.find((s) => s.uses?.startsWith('actions/download-artifact'))?.with).toMatchObject({ pattern: 'shard-*', path: 'shards' });
    expect(runs(merge)).toMatch(/seclab grade merge shards\/shard-\* --out grades/);
    expect(wf.env['SECLAB_GRADE_KEY']).toBe('${{ secrets.SECLAB_GRADE_KEY }}');
  });

  it('GitLab CI: parallel jobs with CI_NODE_INDEX/CI_NODE_TOTAL and artifacts, a merge stage that needs them', async () => {
    const { parse } = await import('yaml');
    const ci = parse(read('docs/ci/gitlab-ci.yml')) as Record<string, { stage?: string; parallel?: number; script?: string[]; needs?: { job: string; artifacts: boolean }[]; artifacts?: { paths: string[] } }> & { stages: string[] };
    expect(ci.stages).toEqual(['grade', 'merge']);
    expect(ci['grade']!.parallel).toBeGreaterThan(1);
    expect(ci['grade']!.script!.join('\n')).toMatch(/seclab grade --submissions \S+\s+--shard "\$\{CI_NODE_INDEX\}\/\$\{CI_NODE_TOTAL\}"\s+--seed "\$\{CI_PIPELINE_ID\}"\s+--out "shard-\$\{CI_NODE_INDEX\}"/);
    expect(ci['grade']!.artifacts!.paths).toEqual(['shard-*/']);
    expect(ci['merge']!.stage).toBe('merge');
    expect(ci['merge']!.needs).toEqual([{ job: 'grade', artifacts: true }]);
    expect(ci['merge']!.script!.join('\n')).toMatch(/seclab grade merge shard-\* --out grades/);
  });
});
