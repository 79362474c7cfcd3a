// A class with hostile submissions (test/adversarial/hostile/, one file per technique) beside honest
// ones, graded in ONE `seclab grade --submissions` run, as an instructor would: the hostile ones gain
// nothing over the untouched starter (or are flagged), the honest ones keep their exact scores, the
// install and the grade key are untouched, and nothing any submission started survives the run.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Grade } from '../../src/engine/types.ts';
import { probeSandbox } from '../../src/cloud/sandbox/index.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HOSTILE = fileURLToPath(new URL('./hostile/', import.meta.url));
const TECHNIQUES = readdirSync(HOSTILE).filter((f) => f.endsWith('.ts') && f !== 'common.ts').map((f) => f.replace(/\.ts$/, ''));
const GUARDED = ['labs/iam/checks.ts', 'src/engine/grader.ts', 'solutions/iam/solution.ts', 'node_modules/otpauth/package.json'];

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

/** Processes the hostile code of this run started (they carry a marker; started after `since`). */
function survivors(since: number): string[] {
  const out = spawnSync('ps', ['-eo', 'pid,etimes,args'], { encoding: 'utf8' }).stdout.split('\n');
  const age = (Date.now() - since) / 1000 + 1;
  return out.filter((l) => l.includes('seclab-hostile-survivor') && !l.includes('ps -eo') && Number(l.trim().split(/\s+/)[1]) <= age);
}

describe.skipIf(process.platform !== 'linux')('a class with hostile submissions, graded in one run', () => {
  let work: string;
  let classDir: string;
  let outDir: string;
  let home: string;
  let grades: Grade[];
  let stderr = '';
  let exitCode: number | null = null;
  const before = new Map<string, string>();
  const byStudent = (name: string) => grades.find((g) => g.student === name)!;

  const started = Date.now();

  beforeAll(async () => {
    // The sandbox is what this suite is about: a Linux machine without it must say so, not pass.
    expect(probeSandbox().kind, `no sandbox on this machine: ${probeSandbox().detail}`).toBe('bwrap');
    for (const f of GUARDED) before.set(f, sha(path.join(ROOT, f)));
    work = mkdtempSync(path.join(os.tmpdir(), 'seclab-adversarial-'));
    classDir = path.join(work, 'class');
    outDir = path.join(work, 'out');
    home = path.join(work, 'home');
    mkdirSync(home);
    const student = (name: string, files: Record<string, string>) => {
      const dir = path.join(classDir, name, 'iam');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(classDir, name, 'package.json'), '{ "type": "module", "private": true }\n');
      for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
    };
    const reference = readFileSync(path.join(ROOT, 'solutions/iam/solution.ts'), 'utf8');
    student('honest-a', { 'solution.ts': reference });
    // A copy of solutions/ as it is (no package.json of its own): must need nothing extra.
    cpSync(path.join(ROOT, 'solutions/iam'), path.join(classDir, 'honest-b', 'iam'), { recursive: true });
    student('starter', { 'solution.ts': readFileSync(path.join(ROOT, 'labs/iam/starter/iam/solution.ts'), 'utf8') });
    const common = readFileSync(path.join(HOSTILE, 'common.ts'), 'utf8');
    for (const t of TECHNIQUES) student(t, { 'solution.ts': readFileSync(path.join(HOSTILE, `${t}.ts`), 'utf8'), 'common.ts': common });
    // A submission folder that is a link to a classmate's, and a solution that is a link to the reference.
    symlinkSync(path.join(classDir, 'honest-a'), path.join(classDir, 'link-folder'));
    mkdirSync(path.join(classDir, 'link-solution', 'iam'), { recursive: true });
    writeFileSync(path.join(classDir, 'link-solution', 'package.json'), '{ "type": "module" }\n');
    symlinkSync(path.join(ROOT, 'solutions/iam/solution.ts'), path.join(classDir, 'link-solution', 'iam', 'solution.ts'));
    before.set('honest-a', sha(path.join(classDir, 'honest-a/iam/solution.ts')));
    before.set('honest-b', sha(path.join(classDir, 'honest-b/iam/solution.ts')));

    const child = spawn(process.execPath, [path.join(ROOT, 'bin/seclab.js'), 'grade', '--submissions', classDir, '--lab', 'iam', '--out', outDir, '--format', 'json,csv,text,gradescope,junit', '--timeout', '15', '--seed', 'adversarial'], {
      cwd: work, env: { ...process.env, HOME: home, XDG_CONFIG_HOME: '', SECLAB_GRADE_KEY: '', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    exitCode = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    grades = JSON.parse(readFileSync(path.join(outDir, 'grades.json'), 'utf8')) as Grade[];
  }, 600_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('grades the whole class', () => {
    expect(exitCode, stderr.slice(-2000)).toBe(0);
    expect(grades.map((g) => g.student).sort()).toEqual(['honest-a', 'honest-b', 'link-folder', 'link-solution', 'starter', ...TECHNIQUES].sort());
  });

  it('honest work keeps its exact score, and its files are untouched', () => {
    for (const name of ['honest-a', 'honest-b']) {
      const g = byStudent(name);
      expect(g.percent, `${name}: ${JSON.stringify(g.labs[0]?.student)}`).toBe(100);
      expect(g.labs[0]!.status).toBe('graded');
      expect(sha(path.join(classDir, name, 'iam/solution.ts'))).toBe(before.get(name));
    }
  });

  it('no hostile submission scores above the untouched starter', () => {
    const starter = byStudent('starter').score;
    expect(starter).toBeLessThan(50);
    for (const t of [...TECHNIQUES, 'link-folder', 'link-solution']) {
      const g = byStudent(t);
      expect(g.score, `${t} scored ${g.score} (starter ${starter}); status ${g.labs[0]?.status}: ${g.labs[0]?.statusDetail}`).toBeLessThanOrEqual(starter);
    }
  });

  it('tells the instructor what happened', () => {
    const status = (name: string) => byStudent(name).labs[0]!.status;
    expect(status('link-folder')).toBe('isolation violation');
    expect(status('link-solution')).toBe('isolation violation');
    expect(status('emulator-raider')).toBe('isolation violation');
    expect(byStudent('emulator-raider').labs[0]!.violations!.join('\n')).toMatch(/control endpoint POST \/_seclab\/accounts/);
    expect(status('hang')).toBe('timed out');
    expect(status('steal-reference')).toMatch(/crashed|did not compile/);
    const csv = readFileSync(path.join(outDir, 'gradebook.csv'), 'utf8');
    expect(csv).toMatch(/hang,.*iam: timed out/);
    expect(csv).toMatch(/link-folder,.*iam: isolation violation/);
    expect(readFileSync(path.join(outDir, 'report.txt'), 'utf8')).toMatch(/emulator-raider[\s\S]*iam: isolation violation/);
    expect(readFileSync(path.join(outDir, 'results', 'hang.json'), 'utf8')).toMatch(/iam: timed out/);
  });

  it('the install, the reference solution and seclab\'s dependencies are untouched', () => {
    for (const f of GUARDED) expect(sha(path.join(ROOT, f)), f).toBe(before.get(f));
  });

  it('the grade key never reaches a submission, and every record still verifies', () => {
    const key = readFileSync(path.join(home, '.config/seclab/grade-key'), 'utf8').trim();
    const everything = spawnSync('grep', ['-rl', key, outDir], { encoding: 'utf8' }).stdout.trim();
    expect(everything).toBe('');
    expect(stderr).not.toMatch(/Debugger listening|INSPECTOR-REACHED/);
    const verify = spawnSync(process.execPath, [path.join(ROOT, 'bin/seclab.js'), 'grade', 'verify', path.join(outDir, 'grades.json')], { env: { ...process.env, HOME: home, XDG_CONFIG_HOME: '', SECLAB_GRADE_KEY: '' }, encoding: 'utf8' });
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
  });

  it('nothing a submission started survives the run', async () => {
    // A survivor would rewrite grades.json within half a second: give it the chance.
    await new Promise((r) => setTimeout(r, 1500));
    expect(survivors(started)).toEqual([]);
    expect(JSON.parse(readFileSync(path.join(outDir, 'grades.json'), 'utf8'))).toHaveLength(grades.length);
  });
});
