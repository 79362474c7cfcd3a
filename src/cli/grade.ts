// Instructor grading: `seclab grade --workspace <dir>` (one workspace) and `--submissions <dir>` (every
// sub-folder is one student, each in its own account on ONE shared lab cloud, several at once).
// Records are signed; outputs: text, JSON, JUnit XML, Gradescope results, CSV gradebook, feedback files.
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import type { LabCloud } from '../cloud/labcloud.ts';
import { buildGrade, erroredLab, withStatus } from '../engine/report/record.ts';
import { newSeed } from '../engine/random.ts';
import { gradeKey, signGrade, verifyGrade, type GradeKey } from '../engine/report/sign.ts';
import { renderJunit } from '../engine/report/junit.ts';
import { toGradescope } from '../engine/report/gradescope.ts';
import { renderGradebook } from '../engine/report/csv.ts';
import { feedbackFileName, renderFeedback } from '../engine/report/feedback.ts';
import { renderHtmlReport } from '../engine/report/html.ts';
import { fmtMs, renderClassText, renderGradeText } from '../engine/report/text.ts';
import { PLAIN } from '../engine/report/style.ts';
import type { Grade, Lab, LabGrade } from '../engine/types.ts';
import { writeFileAtomic } from '../engine/workspace.ts';
import { allLabs, findLabSafe } from './labs.ts';
import { openCloud, probeCloud, VERSION, type CommonOptions, type OpenCloud } from './context.ts';
import { EnvironmentError, ExitCode, UsageError } from './errors.ts';
import { isInterrupting } from './interrupt.ts';
import { Ui } from './ui.ts';

export const FORMATS = ['text', 'json', 'junit', 'gradescope', 'csv', 'feedback', 'html'] as const;
export type Format = (typeof FORMATS)[number];
const ALIASES: Record<string, Format> = { md: 'feedback', markdown: 'feedback', xml: 'junit', results: 'gradescope', gradebook: 'csv' };

export interface GradeOptions extends CommonOptions {
  submissions?: string;
  lab?: string[];
  format?: string[];
  out?: string;
  failUnder?: string;
  concurrency?: string;
  timeout?: string;
  student?: string;
  seed?: string;
  /** false with --no-sandbox. */
  sandbox?: boolean;
  /** Instructor pack folders (hidden checks, extra scenarios). */
  pack?: string[];
  /** --shard i/n: grade share i of n of the class (src/cli/grade-merge.ts). */
  shard?: string;
  /** --ledger [dir]: record every grade record in the grade ledger (src/engine/grade-ledger.ts). */
  ledger?: string | boolean;
}

export interface Submission {
  student: string;
  dir: string;
  /** Why it is not graded (its folder is a link...): every lab gets this as an isolation violation. */
  problem?: string;
}

/** `--lab iam --lab host,siem` → ['iam', 'host', 'siem'] (order kept, duplicates dropped). */
export function splitList(values: string[] | undefined): string[] {
  const out: string[] = [];
  for (const v of values ?? []) for (const s of v.split(',')) if (s.trim() && !out.includes(s.trim())) out.push(s.trim());
  return out;
}

export function parseFormats(values: string[] | undefined): Format[] {
  const out: Format[] = [];
  for (const f of splitList(values)) {
    const name = (ALIASES[f.toLowerCase()] ?? f.toLowerCase()) as Format;
    if (!FORMATS.includes(name)) throw new UsageError(`unknown format "${f}"`, `formats: ${FORMATS.join(', ')} (comma list or repeated --format)`);
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/** A folder that holds lab folders; a submission unpacked one level deeper (alice/workspace/iam) is found too. */
function workspaceIn(dir: string, labIds: string[]): string {
  const hasLab = (d: string) => labIds.some((id) => existsSync(path.join(d, id)));
  if (hasLab(dir)) return dir;
  const subs = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.') && !e.name.startsWith('__'));
  if (subs.length === 1 && hasLab(path.join(dir, subs[0]!.name))) return path.join(dir, subs[0]!.name);
  return dir;
}

/** Every sub-folder of `dir` is one student (named after the folder). Hidden folders and node_modules are skipped. */
export function listSubmissions(dir: string, labIds: string[]): Submission[] {
  const root = path.resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new UsageError(`--submissions ${dir}: no such folder`);
  const entries = readdirSync(root, { withFileTypes: true })
    .filter((e) => (e.isDirectory() || e.isSymbolicLink()) && !e.name.startsWith('.') && e.name !== 'node_modules')
    .sort((a, b) => a.name.localeCompare(b.name));
  if (!entries.length) throw new UsageError(`--submissions ${dir} has no sub-folders`, 'put one folder per student in it (the folder name is the student name)');
  return entries.map((e) => {
    const p = path.join(root, e.name);
    // A link would grade whatever it points at (another student's folder, the reference solutions).
    if (e.isSymbolicLink()) return { student: e.name, dir: p, problem: `the submission folder is a link to ${readlinkSync(p)}, not a folder of its own: not graded` };
    const ws = workspaceIn(p, labIds);
    if (ws !== p && lstatSync(ws).isSymbolicLink()) return { student: e.name, dir: ws, problem: `${path.relative(root, ws)} is a link to ${readlinkSync(ws)}: not graded` };
    return { student: e.name, dir: ws };
  });
}

/** The lab cloud shared by all students: restarted once if it dies, and the affected students retried. */
class SharedCloud {
  private gen = 0;
  private dead = new Map<number, string>();
  private restarts = 0;
  private restarting: Promise<boolean> | undefined;

  constructor(private oc: OpenCloud, private readonly start: () => Promise<OpenCloud>, private readonly ui: Ui) {
    this.watch(oc, 0);
  }

  private watch(oc: OpenCloud, gen: number): void {
    oc.cloud.target.onDeath((e) => this.dead.set(gen, e.message));
  }

  current(): { cloud: LabCloud; gen: number } {
    return { cloud: this.oc.cloud, gen: this.gen };
  }

  /** Why the cloud of that generation died, if it did (asks the target when it is the current one). */
  async deathOf(gen: number): Promise<string | undefined> {
    if (this.dead.has(gen)) return this.dead.get(gen);
    if (gen !== this.gen) return undefined;
    const why = await probeCloud(this.oc.cloud);
    if (why && gen === this.gen) this.dead.set(gen, why);
    return why;
  }

  /** Restarts after generation `gen` died; true when a newer cloud is available. */
  async restart(gen: number): Promise<boolean> {
    if (gen < this.gen) return true;
    if (this.restarting) return this.restarting;
    if (this.restarts >= 1) return false;
    this.restarts++;
    this.restarting = (async () => {
      this.ui.warn(`the lab cloud died (${this.dead.get(gen) ?? 'unknown reason'}): restarting it once and grading the affected students again`);
      await this.oc.close();
      try {
        this.oc = await this.start();
      } catch (e) {
        this.ui.error(`the lab cloud could not be restarted: ${(e as Error).message}`);
        return false;
      }
      this.gen++;
      this.watch(this.oc, this.gen);
      this.ui.info(`  lab cloud restarted on ${this.oc.cloud.url}`);
      return true;
    })();
    try {
      return await this.restarting;
    } finally {
      this.restarting = undefined;
    }
  }

  close(): Promise<void> {
    return this.oc.close();
  }
}

async function gradeLabsOn(cloud: LabCloud, labs: Lab[], dir: string, timeoutMs: number | undefined, onPhase?: (lab: Lab, phase: string) => void, seed?: string): Promise<LabGrade[]> {
  const { gradeLab, maxScore } = await import('../engine/grader.ts');
  const out: LabGrade[] = [];
  for (const lab of labs) {
    const t0 = Date.now();
    let g: LabGrade;
    try {
      g = await gradeLab(cloud, lab, { workspace: dir, timeoutMs, seed, events: { phase: (p) => onPhase?.(lab, p) } });
    } catch (e) {
      g = erroredLab(lab.id, lab.title, maxScore(lab), `could not be graded: ${(e as Error).message}`, Date.now() - t0);
    }
    // Free what the gateway keeps per account (credentials, CloudTrail): the grade is computed.
    if (g.accountId) {
      try {
        cloud.gateway.dropAccount(g.accountId);
      } catch {
        // not fatal
      }
    }
    out.push(g);
  }
  return out;
}

async function pool<T, R>(items: T[], n: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  return results;
}

function signAll(ui: Ui, grades: Grade[]): Grade[] {
  let key: GradeKey;
  try {
    key = gradeKey({ create: true });
  } catch (e) {
    ui.warn(`the grades are not signed: ${(e as Error).message}`);
    return grades;
  }
  return grades.map((g) => signGrade(g, key));
}

function numberOption(name: string, value: string | undefined, check: (n: number) => boolean, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || !check(n)) throw new UsageError(`${name} must be ${what}; got "${value}"`);
  return n;
}

export async function cmdGrade(ui0: Ui, opts: GradeOptions): Promise<number> {
  if (!!opts.workspace === !!opts.submissions) {
    throw new UsageError('grade needs either --workspace <dir> (one student) or --submissions <dir> (one sub-folder per student)', 'e.g. seclab grade --workspace solutions --lab iam --format json');
  }
  const formats = parseFormats(opts.format);
  if (opts.json && !formats.includes('json')) formats.push('json');
  if (!formats.length) formats.push(...(opts.out ? (['text', 'json', 'junit', 'gradescope', 'csv', 'feedback', 'html'] as Format[]) : (['text'] as Format[])));
  const stdoutFormats: Format[] = opts.out ? (opts.json ? ['json'] : ['text']) : formats;
  if (!opts.out && formats.length > 1) throw new UsageError(`several formats (${formats.join(', ')}) need --out <dir>`, 'or choose one format for stdout');
  const failUnder = numberOption('--fail-under', opts.failUnder, (n) => n >= 0 && n <= 100, 'a percentage between 0 and 100');
  const concurrency = numberOption('--concurrency', opts.concurrency ?? '2', (n) => Number.isInteger(n) && n >= 1 && n <= 64, 'a whole number from 1 to 64')!;
  const timeoutS = numberOption('--timeout', opts.timeout, (n) => n > 0, 'a number of seconds');
  const timeoutMs = timeoutS === undefined ? undefined : timeoutS * 1000;
  // One seed for the run (each lab's randomness is drawn from it and the lab id), kept in every record.
  if (opts.seed !== undefined && !/^[\x21-\x7e]{1,128}$/.test(opts.seed)) throw new UsageError(`--seed must be 1 to 128 printable characters without spaces; got "${opts.seed}"`);
  const seed = opts.seed ?? newSeed();
  const shard = opts.shard === undefined ? undefined : (await import('./grade-merge.ts')).shardOption(opts);
  // Machine output on stdout: keep stderr to warnings and errors.
  const machine = stdoutFormats.some((f) => f !== 'text');
  const ui = machine && !ui0.json ? new Ui({ json: true }) : ui0;

  const all = await allLabs();
  const wanted = splitList(opts.lab);
  const chosen = wanted.length ? await Promise.all(wanted.map((id) => findLabSafe(id))) : all;
  // The instructor's hidden checks and extra scenarios, kept outside the repository students clone.
  const { applyPacks, PackError } = await import('../engine/pack.ts');
  const labs = await applyPacks(chosen, opts.pack ?? []).catch((e: Error) => {
    throw e instanceof PackError ? new UsageError(e.message, 'see docs/instructor-pack.md') : e;
  });
  const labIds = labs.map((l) => l.id);

  let subs: Submission[];
  if (opts.workspace) {
    const dir = path.resolve(opts.workspace);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--workspace ${opts.workspace}: no such folder`);
    // A workspace unpacked one folder down (alice/my-work/iam) is found here too.
    subs = [{ student: opts.student ?? path.basename(dir), dir: workspaceIn(dir, all.map((l) => l.id)) }];
  } else {
    const outDir = opts.out ? path.resolve(opts.out) : undefined;
    subs = listSubmissions(opts.submissions!, all.map((l) => l.id)).filter((s) => !outDir || (s.dir !== outDir && !s.dir.startsWith(outDir + path.sep)));
    if (shard) subs = shard.select(subs);
  }

  // Submissions are untrusted: a class is graded only in the sandbox, unless the instructor says otherwise.
  const sandboxMode = opts.sandbox === false ? 'off' : opts.submissions ? 'require' : 'auto';
  const cloudOpts = { ...opts, sandboxMode } as const;
  // A restart happens under the grading counter: no spinner of its own.
  const shared = new SharedCloud(await openCloud(ui, cloudOpts), () => openCloud(ui, cloudOpts, 'Restarting the lab cloud', true), ui);
  if (shared.current().cloud.sandbox === 'none') {
    ui.warn(sandboxMode === 'off'
      ? 'grading without the sandbox (--no-sandbox): submissions\' code runs with your user\'s rights'
      : 'this machine has no sandbox for submissions\' code (see seclab doctor): grade only work you trust here');
  }
  const target = opts.target ?? 'moto';
  const startedAt = new Date();
  const single = !!opts.workspace;
  let done = 0;
  const running = new Set<string>();
  const spinner = ui.spin(single ? `Grading ${subs[0]!.student}` : `Grading 0/${subs.length}`);
  const counter = () => spinner.text(`Grading ${done}/${subs.length} · ${concurrency} at once${running.size ? ` · now: ${[...running].slice(0, 4).join(', ')}${running.size > 4 ? '…' : ''}` : ''}`);
  let cloudFailures = 0;

  let grades: Grade[];
  try {
    grades = await pool(subs, concurrency, async (s) => {
      running.add(s.student);
      if (!single) counter();
      const t0 = Date.now();
      let labGrades: LabGrade[] = [];
      for (let attempt = 0; !s.problem; attempt++) {
        const { cloud, gen } = shared.current();
        labGrades = await gradeLabsOn(cloud, labs, s.dir, timeoutMs, single ? (lab, p) => spinner.text(`Grading ${s.student}: ${lab.id}: ${p}`) : undefined, seed);
        const death = await shared.deathOf(gen);
        if (!death) break;
        if (attempt === 0 && (await shared.restart(gen))) continue;
        cloudFailures++;
        labGrades = labGrades.map((g) => ({ ...g, score: 0, passed: false, error: `the lab cloud died while grading: ${death}` }));
        break;
      }
      if (s.problem) {
        const { maxScore } = await import('../engine/grader.ts');
        labGrades = labs.map((l) => ({ ...erroredLab(l.id, l.title, maxScore(l), s.problem!), violations: [s.problem!] }));
      }
      labGrades = labGrades.map(withStatus);
      running.delete(s.student);
      done++;
      const g = buildGrade({ student: s.student, workspace: s.dir, target, version: VERSION, startedAt, labs: labGrades, seed });
      if (!single) {
        counter();
        const odd = g.labs.filter((l) => (l.status ?? 'graded') !== 'graded');
        const bad = odd.some((l) => l.status === 'not graded' || l.status === 'isolation violation');
        ui.info(`  ${bad ? ui.err.red('✘') : odd.length ? ui.err.yellow('!') : ui.err.green('✔')} ${s.student.padEnd(20)} ${`${g.score}/${g.maxScore}`.padStart(9)} ${g.percent.toFixed(1).padStart(6)} %  ${ui.err.dim(fmtMs(Date.now() - t0))}${odd.length ? `  ${odd.map((l) => `${l.id}: ${l.status}`).join(', ')}` : ''}`);
      }
      return g;
    });
  } finally {
    await shared.close();
  }
  spinner.succeed(single ? `Graded ${subs[0]!.student} in ${fmtMs(Date.now() - startedAt.getTime())}` : `Graded ${subs.length} submissions in ${fmtMs(Date.now() - startedAt.getTime())}`);

  if (isInterrupting()) return new Promise<never>(() => {}); // grades cut short are not written
  grades = signAll(ui, grades);
  // A ledger that cannot be written must not cost the grades: they are still written, the exit code says it.
  const ledgerError = opts.ledger ? await recordInLedger(ui, opts.ledger, grades) : undefined;
  const outputs = renderOutputs(grades, formats, labIds, single);

  if (opts.out) {
    const written = await writeOutputs(path.resolve(opts.out), outputs, grades, formats, single);
    ui.info(`Wrote ${written.length} file(s) to ${path.resolve(opts.out)}: ${written.slice(0, 6).join(', ')}${written.length > 6 ? ', …' : ''}`);
    if (shard) await shard.write(ui, path.resolve(opts.out), { grades, labs, seed, target, timeoutMs, formats, version: VERSION });
  }
  for (const f of stdoutFormats) {
    const text = f === 'text' ? (single ? renderGradeText(grades[0]!, { style: ui0.out, audience: 'instructor' }) : renderClassText(grades, { style: ui0.out })) : outputs.stdout[f];
    if (text !== undefined) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  if (ledgerError) {
    ui0.error(`the grades were not recorded in the grade ledger: ${ledgerError.message}`, ledgerError.hint ?? 'fix it and grade again with --ledger');
    return ExitCode.ENVIRONMENT;
  }
  if (cloudFailures) {
    ui0.error(`${cloudFailures} submission(s) could not be graded because the lab cloud died`, 'their records carry the error; grade them again with --submissions on a folder holding only them');
    return ExitCode.ENVIRONMENT;
  }
  if (failUnder !== undefined) {
    const below = grades.filter((g) => g.percent < failUnder);
    if (below.length) {
      ui0.error(`${below.length} of ${grades.length} below ${failUnder} %: ${below.slice(0, 10).map((g) => `${g.student} ${g.percent} %`).join(', ')}${below.length > 10 ? ', …' : ''}`);
      return ExitCode.FAILED;
    }
  }
  return ExitCode.OK;
}

interface Rendered {
  /** What each format prints on stdout. */
  stdout: Partial<Record<Format, string>>;
}

export function renderOutputs(grades: Grade[], formats: Format[], labIds: string[], single: boolean): Rendered {
  const stdout: Rendered['stdout'] = {};
  for (const f of formats) {
    switch (f) {
      case 'json': stdout.json = `${JSON.stringify(single ? grades[0] : grades, null, 2)}\n`; break;
      case 'junit': stdout.junit = renderJunit(grades); break;
      case 'gradescope': stdout.gradescope = `${JSON.stringify(single ? toGradescope(grades[0]!) : Object.fromEntries(grades.map((g) => [g.student, toGradescope(g)])), null, 2)}\n`; break;
      case 'csv': stdout.csv = renderGradebook(grades, labIds); break;
      case 'feedback': stdout.feedback = grades.map(renderFeedback).join('\n---\n\n'); break;
      case 'html': stdout.html = renderHtmlReport(grades); break;
      case 'text': break;
    }
  }
  return { stdout };
}

/** File names for a set of students, unique even when two names sanitize alike. */
function uniqueNames(grades: Grade[], ext: string): string[] {
  const used = new Set<string>();
  return grades.map((g) => {
    const base = feedbackFileName(g.student).replace(/\.md$/, '');
    let name = `${base}${ext}`;
    for (let n = 2; used.has(name); n++) name = `${base}-${n}${ext}`;
    used.add(name);
    return name;
  });
}

export async function writeOutputs(dir: string, r: Rendered, grades: Grade[], formats: Format[], single: boolean): Promise<string[]> {
  const written: string[] = [];
  const put = async (rel: string, text: string) => {
    await writeFileAtomic(path.join(dir, rel), text);
    written.push(rel);
  };
  for (const f of formats) {
    switch (f) {
      case 'json': await put('grades.json', r.stdout.json!); break;
      case 'junit': await put('junit.xml', r.stdout.junit!); break;
      case 'csv': await put('gradebook.csv', r.stdout.csv!); break;
      case 'html': await put('report.html', r.stdout.html!); break;
      case 'gradescope':
        if (single) await put('results.json', `${JSON.stringify(toGradescope(grades[0]!), null, 2)}\n`);
        else {
          const names = uniqueNames(grades, '.json');
          for (let i = 0; i < grades.length; i++) await put(path.join('results', names[i]!), `${JSON.stringify(toGradescope(grades[i]!), null, 2)}\n`);
        }
        break;
      case 'feedback': {
        const names = uniqueNames(grades, '.md');
        for (let i = 0; i < grades.length; i++) await put(path.join('feedback', names[i]!), renderFeedback(grades[i]!));
        break;
      }
      case 'text':
        await put('report.txt', `${single ? renderGradeText(grades[0]!, { style: PLAIN }) : renderClassText(grades, { style: PLAIN })}\n`);
        break;
    }
  }
  return written;
}

/** Appends the signed records to the grade ledger and signs its checkpoint (before anything is written out). */
async function recordInLedger(ui: Ui, ledger: string | boolean, grades: Grade[]): Promise<{ message: string; hint?: string } | undefined> {
  const gl = await import('../engine/grade-ledger.ts');
  const dir = typeof ledger === 'string' ? ledger : gl.defaultGradeLedgerDir();
  try {
    const r = await gl.recordGrades(dir, grades);
    ui.info(`Recorded ${grades.length} grade record(s) in the grade ledger ${r.dir} (entries ${r.first}–${r.size - 1}; check one with \`seclab grade verify <file> --ledger${typeof ledger === 'string' ? ` ${dir}` : ''}\`)`);
    return undefined;
  } catch (e) {
    return { message: (e as Error).message, ...(e instanceof gl.GradeLedgerError && e.hint ? { hint: e.hint } : {}) };
  }
}

// ---- verify ----

export async function cmdVerify(ui: Ui, files: string[], ledger?: string | boolean): Promise<number> {
  if (!files.length) throw new UsageError('which file? e.g. seclab grade verify out/grades.json');
  if (ledger) return verifyInLedger(ui, files, ledger);
  let key: GradeKey;
  try {
    key = gradeKey({ create: false });
  } catch (e) {
    throw new EnvironmentError((e as Error).message, 'Verify on the machine that graded, or set SECLAB_GRADE_KEY to the key used.');
  }
  const results: { file: string; index?: number; student?: string; ok: boolean; reason: string }[] = [];
  for (const file of files) {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      results.push({ file, ok: false, reason: `cannot read: ${(e as Error).message}` });
      continue;
    }
    const records = Array.isArray(data) ? data : [data];
    records.forEach((rec, i) => {
      const v = verifyGrade(rec, key);
      results.push({ file, ...(Array.isArray(data) ? { index: i } : {}), student: v.student, ok: v.ok, reason: v.reason });
    });
  }
  if (ui.json) ui.print(JSON.stringify(results, null, 2));
  else {
    for (const r of results) {
      const who = `${r.file}${r.index !== undefined ? `[${r.index}]` : ''}${r.student ? ` (${r.student})` : ''}`;
      ui.print(`${ui.out.mark(r.ok)} ${who}: ${r.ok ? r.reason : ui.out.red(r.reason)}`);
    }
  }
  return results.every((r) => r.ok) ? ExitCode.OK : ExitCode.FAILED;
}

/**
 * `grade verify --ledger`: each record must be in the grade ledger with these exact bytes (canonical
 * JSON), proven by an inclusion proof against the ledger's signed checkpoint. The HMAC signature is
 * checked too when the grade key is here.
 */
async function verifyInLedger(ui: Ui, files: string[], ledger: string | boolean): Promise<number> {
  const gl = await import('../engine/grade-ledger.ts');
  const dir = typeof ledger === 'string' ? ledger : gl.defaultGradeLedgerDir();
  let l: Awaited<ReturnType<typeof gl.openGradeLedger>>;
  let cp: Awaited<ReturnType<typeof gl.ledgerCheckpoint>>;
  try {
    l = await gl.openGradeLedger(dir);
    cp = await gl.ledgerCheckpoint(l);
  } catch (e) {
    if (e instanceof gl.GradeLedgerError) throw new EnvironmentError(`the grade ledger: ${e.message}`, e.hint);
    throw new EnvironmentError(`the grade ledger ${path.resolve(dir)}: its checkpoint does not verify: ${(e as Error).message}`, `the ledger was tampered with: run \`seclab ledger audit ${dir} --vkey ${path.join(path.resolve(dir), gl.VKEY_FILE)}\``);
  }
  let key: GradeKey | undefined;
  try {
    key = gradeKey({ create: false });
  } catch { /* the ledger proof stands on its own */ }
  const results: { file: string; index?: number; student?: string; ok: boolean; status: string; reason: string; signature?: string; entry?: number; proof?: unknown }[] = [];
  for (const file of files) {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      results.push({ file, ok: false, status: 'unreadable', reason: `cannot read: ${(e as Error).message}` });
      continue;
    }
    const records = Array.isArray(data) ? data : [data];
    for (const [i, rec] of records.entries()) {
      const p = await gl.proveGrade(l, rec, cp);
      const sig = key ? verifyGrade(rec, key) : undefined;
      const student = typeof (rec as Record<string, unknown>)?.['student'] === 'string' ? String((rec as Record<string, unknown>)['student']) : undefined;
      results.push({
        file, ...(Array.isArray(data) ? { index: i } : {}), ...(student ? { student } : {}), ok: p.ok, status: p.status, reason: p.reason,
        ...(sig ? { signature: sig.ok ? 'valid' : sig.reason } : {}),
        ...(p.index !== undefined ? { entry: p.index } : {}),
        ...(p.proof ? { proof: { size: p.size, root: p.root, leafHash: p.leafHash, hashes: p.proof } } : {}),
        ...(p.changed ? { changed: p.changed } : {}),
      });
    }
  }
  if (ui.json) ui.print(JSON.stringify({ ledger: l.dir, origin: l.origin, size: cp.size, root: cp.root.toString('base64'), results }, null, 2));
  else {
    ui.info(`grade ledger ${l.dir} (${l.origin}): signed checkpoint of ${cp.size} record(s)`);
    for (const r of results) {
      const who = `${r.file}${r.index !== undefined ? `[${r.index}]` : ''}${r.student ? ` (${r.student})` : ''}`;
      ui.print(`${ui.out.mark(r.ok)} ${who}: ${r.ok ? r.reason : ui.out.red(r.reason)}${r.signature && r.signature !== 'valid' ? ` (signature: ${r.signature})` : ''}`);
    }
  }
  return results.every((r) => r.ok) ? ExitCode.OK : ExitCode.FAILED;
}
