// The student's commands: list, start, check, attack, hint, watch, reset, solution, init. Each returns
// its exit code; the interactive menu calls the same functions.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { LabCloud } from '../cloud/labcloud.ts';
import type { GradeEvents } from '../engine/grader.ts';
import { loadProgress, nextHint, recordAttempt, updateProgress, type LabProgress, markStarted } from '../engine/progress.ts';
import { erroredLab, redactLab } from '../engine/report/record.ts';
import { fmtMs, renderLabText, scenarioSummary, stepLine } from '../engine/report/text.ts';
import type { CheckGrade, Lab, LabGrade } from '../engine/types.ts';
import { ensureLabFolder, initWorkspace, labDir, referenceSolution, resetLab, solutionFile } from '../engine/workspace.ts';
import { allLabs } from './labs.ts';
import { confirm, labArg, openCloud, probeCloud, workspaceOf, type CommonOptions, type OpenCloud } from './context.ts';
import { EnvironmentError, ExitCode, UsageError } from './errors.ts';
import { interrupt, isInterrupting, onInterrupt } from './interrupt.ts';
import { renderMarkdown, renderTasks, terminalWidth, workbookMarkdown, wrapLine } from './render.ts';
import type { Ui } from './ui.ts';

export interface StudentOptions extends CommonOptions {
  /** Seconds per student export. */
  timeout?: string;
  /** Show every attack step, not only those of attacks that got through. */
  steps?: boolean;
  /** check: leave the graded account and the lab cloud up until Ctrl-C. */
  keep?: boolean;
}

const warnTo = (ui: Ui) => ({ onWarning: (m: string) => ui.warn(m) });

function progressWord(ui: Ui, lp: LabProgress | undefined, max: number): string {
  const st = ui.out;
  if (!lp || (!lp.started && lp.lastScore === null)) return st.dim('not started');
  if (lp.passed) return st.green(`✔ passed ${lp.bestScore ?? max}/${lp.maxScore ?? max}`);
  if (lp.lastScore !== null) return `${lp.lastScore}/${lp.maxScore ?? max}${lp.bestScore !== lp.lastScore ? st.dim(` (best ${lp.bestScore})`) : ''}`;
  return st.yellow('started');
}

export async function labMaxScore(lab: Lab): Promise<number> {
  const { maxScore } = await import('../engine/grader.ts');
  return maxScore(lab);
}

// ---- list ----

export async function cmdList(ui: Ui, opts: CommonOptions): Promise<number> {
  const labs = await allLabs();
  const ws = await workspaceOf(opts);
  const progress = await loadProgress(ws, warnTo(ui));
  const rows = await Promise.all(labs.map(async (l) => ({ lab: l, max: await labMaxScore(l), lp: progress.labs[l.id] })));
  if (ui.json) {
    ui.print(JSON.stringify(rows.map(({ lab, max, lp }) => ({
      id: lab.id, slide: lab.slide, title: lab.title, summary: lab.summary, maxScore: max,
      tasks: lab.tasks.map((t) => ({ id: t.id, title: t.title, hints: t.hints.length })),
      scenarios: lab.scenarios.filter((s) => !s.hidden).map((s) => ({ id: s.id, title: s.title, techniques: s.techniques })),
      folder: labDir(ws, lab.id), folderExists: existsSync(labDir(ws, lab.id)),
      progress: lp ?? null,
    })), null, 2));
    return ExitCode.OK;
  }
  const st = ui.out;
  const w = Math.max(3, ...labs.map((l) => l.id.length));
  ui.print(st.bold(`${'slide'.padEnd(6)}${'lab'.padEnd(w + 2)}${'title'.padEnd(44)}progress`));
  // Titles longer than the column are cut (with …) so that the progress column lines up within 80 columns.
  const fit = (t: string) => (t.length > 42 ? `${t.slice(0, 41)}…` : t).padEnd(44);
  for (const { lab, max, lp } of rows) ui.print(`${String(lab.slide).padEnd(6)}${lab.id.padEnd(w + 2)}${fit(lab.title)}${progressWord(ui, lp, max)}`);
  ui.print(st.dim(`\nWorkspace: ${ws}${existsSync(ws) ? '' : ' (not created yet: `seclab init` or `seclab start <lab>`)'}`));
  return ExitCode.OK;
}

// ---- start ----

export async function cmdStart(ui: Ui, labId: string | undefined, opts: CommonOptions, show = true): Promise<number> {
  const lab = await labArg(labId);
  const ws = await workspaceOf(opts);
  const created = await ensureLabFolder(ws, lab, await allLabs());
  const progress = await updateProgress(ws, (p) => {
    markStarted(p, lab.id);
    return p;
  }, warnTo(ui));
  const file = solutionFile(ws, lab.id);
  if (ui.json) {
    ui.print(JSON.stringify({ lab: lab.id, slide: lab.slide, title: lab.title, workspace: ws, folder: labDir(ws, lab.id), created, solution: file, workbook: workbookMarkdown(lab), tasks: lab.tasks }, null, 2));
    return ExitCode.OK;
  }
  if (show) ui.print(renderMarkdown(workbookMarkdown(lab), { color: ui.out.enabled }));
  ui.print('');
  ui.print(renderTasks(lab, ui.out, progress.labs[lab.id]));
  ui.print('');
  ui.print(`${created ? ui.out.green('Created') : 'Your code:'} ${path.relative(process.cwd(), file) || file}${created ? ' from the starter' : ''}`);
  ui.print(wrapLine(ui.out.dim(`Next: edit it, then \`seclab check ${lab.id}\` (or \`seclab watch ${lab.id}\`); \`seclab hint ${lab.id}\` when stuck.`), terminalWidth(), 6).join('\n'));
  return ExitCode.OK;
}

// ---- grading for check / attack / watch ----

export interface RunOptions {
  scenarios?: string[];
  /** Print attack steps as they come (attack). */
  live?: boolean;
  timeoutMs?: number;
  /** Print the student's console output. */
  showOutput?: boolean;
}

/** Grades a lab on an open lab cloud with a spinner and, for attacks, a live view. Never throws for the student's faults. */
export async function gradeWithUi(ui: Ui, cloud: LabCloud, lab: Lab, ws: string, run: RunOptions = {}): Promise<LabGrade> {
  const { gradeLab, maxScore } = await import('../engine/grader.ts');
  const st = ui.err;
  const PHASES: Record<string, string> = {
    provision: 'provisioning the lab environment', 'student code': 'running your code', 'business checks': 'checking that legitimate work still succeeds',
    'posture checks': 'checking your controls', attacks: 'launching the attacks',
  };
  const spinner = ui.spin(`${lab.id}: ${PHASES['provision']}`);
  const hiddenScenarios = new Set(lab.scenarios.filter((s) => s.hidden).map((s) => s.id));
  const events: GradeEvents = {
    phase: (name) => spinner.text(`${lab.id}: ${PHASES[name] ?? name}`),
    studentOutput: run.showOutput === false ? undefined : (line) => ui.info(st.dim(`  │ ${line}`)),
    ...(run.live ? {
      scenarioStart: (s) => {
        spinner.text(`${lab.id}: attack ${s.hidden ? '(hidden)' : s.title}`);
        ui.info('');
        ui.info(s.hidden ? st.bold('▶ hidden attack') : `${st.bold(`▶ ${s.title}`)} ${st.dim(`[${s.id}] ${s.techniques.join(', ')}`)}`);
        if (!s.hidden) ui.info(st.dim(`  ${s.description}`));
      },
      attackStep: (id, step) => {
        if (!hiddenScenarios.has(id)) ui.info(`    ${stepLine(step, st)}`);
      },
      check: (g: CheckGrade) => {
        if (g.kind !== 'scenario') return;
        if (g.hidden) ui.info(`  ${st.mark(g.passed)} hidden check: ${g.passed ? 'passed' : 'failed'}`);
        else ui.info(`  ${st.mark(g.passed)} ${g.points}/${g.maxPoints} — ${scenarioSummary(g, st)}`);
      },
    } : {}),
  };
  let grade: LabGrade;
  try {
    grade = await gradeLab(cloud, lab, { workspace: ws, timeoutMs: run.timeoutMs, scenarios: run.scenarios, events });
  } catch (e) {
    grade = erroredLab(lab.id, lab.title, maxScore(lab), `provisioning failed: ${(e as Error).message}`);
  }
  const dead = await probeCloud(cloud);
  if (dead) {
    spinner.fail(`${lab.id}: the lab cloud stopped while grading`);
    throw new EnvironmentError(`the lab cloud died: ${dead}`, 'Run the command again; if it keeps happening, `seclab doctor`.');
  }
  if (grade.error) spinner.fail(`${lab.id}: could not be graded completely`);
  else spinner.succeed(`${lab.id}: graded in ${fmtMs(grade.durationMs)}`);
  return grade;
}

function timeoutMsOf(opts: StudentOptions): number | undefined {
  if (opts.timeout === undefined) return undefined;
  const s = Number(opts.timeout);
  if (!Number.isFinite(s) || s <= 0) throw new UsageError(`--timeout must be a number of seconds; got "${opts.timeout}"`);
  return s * 1000;
}

function requireLabFolder(ws: string, lab: Lab): void {
  if (!existsSync(solutionFile(ws, lab.id))) {
    throw new UsageError(`there is no ${solutionFile(ws, lab.id)}`, `create it from the starter with \`seclab start ${lab.id}\` (or \`seclab init\`), or pass --workspace <dir>`);
  }
}

async function record(ui: Ui, ws: string, grade: LabGrade, kind: 'check' | 'attack' | 'watch', scenarios?: string[]): Promise<LabProgress> {
  // A grade cut short by Ctrl-C (the lab cloud stopping under it) is not an attempt.
  if (isInterrupting()) return new Promise<never>(() => {});
  return updateProgress(ws, (p) => recordAttempt(p, grade, { kind, scenarios }), warnTo(ui));
}

function passedNote(ui: Ui, lab: Lab, before: boolean, lp: LabProgress): void {
  if (lp.passed && !before) ui.print(ui.out.green(ui.out.bold(`\n🎉 Lab ${lab.id} passed! The reference solution is open: \`seclab solution ${lab.id}\``)));
}

// ---- check ----

export async function cmdCheck(ui: Ui, labId: string | undefined, opts: StudentOptions, shared?: OpenCloud): Promise<number> {
  const lab = await labArg(labId);
  const ws = await workspaceOf(opts);
  requireLabFolder(ws, lab);
  const timeoutMs = timeoutMsOf(opts);
  const before = (await loadProgress(ws, warnTo(ui))).labs[lab.id]?.passed ?? false;
  const oc = shared ?? (await openCloud(ui, opts));
  let grade: LabGrade;
  // --keep: the graded account and the lab cloud stay up after the report (src/cli/simulate.ts).
  const keep = !!opts.keep && !shared;
  try {
    grade = await gradeWithUi(ui, oc.cloud, lab, ws, { timeoutMs });
  } catch (e) {
    if (keep) await oc.close();
    throw e;
  } finally {
    if (!shared && !keep) await oc.close();
  }
  const kept = keep ? (await import('./simulate.ts')).keptAccess(oc.cloud, lab, grade) : undefined;
  const lp = await record(ui, ws, grade, 'check');
  if (ui.json) {
    ui.print(JSON.stringify({ ...redactLab(grade), progress: lp, ...(kept ? { kept } : {}) }, null, 2));
  } else {
    ui.print('');
    ui.print(renderLabText(grade, { style: ui.out, audience: 'student', steps: opts.steps }));
    passedNote(ui, lab, before, lp);
    if (!grade.passed && !grade.error) ui.print(ui.out.dim(`Stuck? \`seclab hint ${lab.id}\``));
  }
  if (keep) await (await import('./simulate.ts')).stayUp(ui, oc, lab, kept);
  return grade.passed ? ExitCode.OK : ExitCode.FAILED;
}

// ---- attack ----

export function scenarioArg(lab: Lab, which: string | undefined): string[] | undefined {
  if (!which || which === 'all') return undefined;
  const ids = which.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) {
    if (!lab.scenarios.some((s) => s.id === id)) {
      throw new UsageError(`lab ${lab.id} has no attack "${id}". Attacks: ${lab.scenarios.filter((s) => !s.hidden).map((s) => s.id).join(', ')}, or all`);
    }
  }
  return ids;
}

export async function cmdAttack(ui: Ui, labId: string | undefined, which: string | undefined, opts: StudentOptions, shared?: OpenCloud): Promise<number> {
  const lab = await labArg(labId);
  const scenarios = scenarioArg(lab, which);
  const ws = await workspaceOf(opts);
  requireLabFolder(ws, lab);
  const timeoutMs = timeoutMsOf(opts);
  const before = (await loadProgress(ws, warnTo(ui))).labs[lab.id]?.passed ?? false;
  const oc = shared ?? (await openCloud(ui, opts));
  let grade: LabGrade;
  try {
    grade = await gradeWithUi(ui, oc.cloud, lab, ws, { timeoutMs, scenarios, live: true, showOutput: false });
  } finally {
    if (!shared) await oc.close();
  }
  const lp = await record(ui, ws, grade, 'attack', scenarios);
  const shown = redactLab(grade).scenarios;
  if (ui.json) {
    ui.print(JSON.stringify({ lab: lab.id, scenarios: shown, student: grade.student, error: grade.error, ...(grade.functions ? { functions: grade.functions } : {}) }, null, 2));
  } else {
    const st = ui.out;
    const failedCode = grade.student.filter((r) => !r.ok);
    if (failedCode.length) {
      ui.print('');
      ui.print(st.red(st.bold('✘ Your code failed (the attacks ran against what it had done):')));
      for (const r of failedCode) ui.print(st.red(`    ${r.export}(): ${r.error}`));
    }
    if (grade.error) ui.print(st.red(`✘ ${grade.error}`));
    const broken = grade.checks.filter((c) => c.kind === 'business' && !c.passed);
    if (broken.length) ui.print(st.yellow(`! Legitimate work is broken (${broken.map((c) => c.title).join('; ')}): blocked attacks earn nothing.`));
    ui.print('');
    ui.print(st.bold('Attacks'));
    for (const c of shown) {
      ui.print(c.hidden ? `  ${st.mark(c.passed)}        hidden check: ${c.passed ? 'passed' : 'failed'}` : `  ${st.mark(c.passed)} ${`${c.points}/${c.maxPoints}`.padStart(5)}  ${c.title} — ${scenarioSummary(c, st)}`);
      if (!c.hidden && !c.passed) ui.print(st.dim(`           ${c.feedback}`));
    }
    const blocked = shown.filter((c) => c.blocked).length;
    const detected = shown.filter((c) => c.detected).length;
    ui.print('');
    ui.print(st.bold(`${blocked} of ${shown.length} blocked, ${detected} detected`));
    // What the student's Lambda functions did meanwhile (src/engine/report/lambda-debug.ts).
    for (const l of (await import('../engine/report/lambda-debug.ts')).renderFunctionsText(grade, st, terminalWidth())) ui.print(l);
    if (!scenarios) passedNote(ui, lab, before, lp);
  }
  return shown.length && shown.every((c) => c.passed) && !grade.error ? ExitCode.OK : ExitCode.FAILED;
}

// ---- hint ----

export async function cmdHint(ui: Ui, labId: string | undefined, taskId: string | undefined, opts: CommonOptions): Promise<number> {
  const lab = await labArg(labId);
  const ws = await workspaceOf(opts);
  let pick;
  try {
    pick = await updateProgress(ws, (p) => nextHint(p, lab.id, lab.tasks, taskId), warnTo(ui));
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(e.message);
    throw e;
  }
  if (ui.json) {
    ui.print(JSON.stringify(pick ? { lab: lab.id, task: pick.task.id, taskTitle: pick.task.title, number: pick.number, total: pick.total, hint: pick.text, exhausted: pick.exhausted, reason: pick.reason } : { lab: lab.id, hint: null }, null, 2));
    return ExitCode.OK;
  }
  const st = ui.out;
  if (!pick) {
    ui.print(`Lab ${lab.id} has no hints.`);
    return ExitCode.OK;
  }
  const why = {
    asked: '',
    failing: ' (its checks or attacks failed in your last check)',
    first: ` (you have not checked yet: \`seclab check ${lab.id}\` tells which task needs work)`,
    'all-passing': ' (every task passed in your last check)',
  }[pick.reason];
  ui.print(wrapLine(`${st.bold(`Hint ${pick.number}/${pick.total}`)} for ${st.cyan(pick.task.title)} ${st.dim(`[${pick.task.id}]`)}${st.dim(why)}`, terminalWidth(), 2).join('\n'));
  ui.print('');
  ui.print(renderMarkdown(pick.text, { color: st.enabled, indent: 2 }));
  if (pick.exhausted) ui.print(`\n${wrapLine(st.dim('  (That was the last hint for this task. The workbook page has the background: `seclab start ' + lab.id + '`.)'), terminalWidth(), 3).join('\n')}`);
  else if (pick.number < pick.total) ui.print(st.dim(`\n  \`seclab hint ${lab.id}\` again for the next one.`));
  return ExitCode.OK;
}

// ---- watch ----

/**
 * Re-checks the lab whenever a file in its folder changes (debounced), on one lab cloud. Returns when
 * the student presses q (or Esc); Ctrl-C interrupts (exit 130) unless `ctrlCReturns` (the menu).
 */
export async function cmdWatch(ui: Ui, labId: string | undefined, opts: StudentOptions & { ctrlCReturns?: boolean }, shared?: OpenCloud): Promise<number> {
  const lab = await labArg(labId);
  const ws = await workspaceOf(opts);
  requireLabFolder(ws, lab);
  const timeoutMs = timeoutMsOf(opts);
  const folder = labDir(ws, lab.id);
  const { watch } = await import('chokidar');
  const oc = shared ?? (await openCloud(ui, opts));
  let last = ExitCode.FAILED as number;
  let running = false;
  let again = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tty = !!process.stdin.isTTY && !ui.json;
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));

  const runOnce = async (why: string): Promise<void> => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      if (ui.animated && !ui.json) process.stdout.write('\u001b[2J\u001b[H');
      ui.info(ui.err.dim(`${new Date().toLocaleTimeString()} · ${why}`));
      const before = (await loadProgress(ws, warnTo(ui))).labs[lab.id]?.passed ?? false;
      const grade = await gradeWithUi(ui, oc.cloud, lab, ws, { timeoutMs });
      const lp = await record(ui, ws, grade, 'watch');
      last = grade.passed ? ExitCode.OK : ExitCode.FAILED;
      if (ui.json) ui.print(JSON.stringify({ ...redactLab(grade), progress: lp }));
      else {
        ui.print('');
        ui.print(renderLabText(grade, { style: ui.out, audience: 'student', steps: opts.steps }));
        passedNote(ui, lab, before, lp);
      }
    } catch (e) {
      if (e instanceof EnvironmentError) {
        ui.error(e.message, e.hint);
        stop();
        last = ExitCode.ENVIRONMENT;
        return;
      }
      ui.error(`the check failed: ${(e as Error).message}`);
    } finally {
      running = false;
    }
    if (!stopped) ui.info(ui.err.dim(`\nWatching ${folder} — save a file to re-check${tty ? ' · Enter re-checks now · q quits' : ' · Ctrl-C quits'}`));
    if (again && !stopped) {
      again = false;
      await runOnce('changed while checking');
    }
  };

  const watcher = watch(folder, {
    ignoreInitial: true,
    ignored: (p: string) => /(^|[/\\])(node_modules|\.git|\.seclab)([/\\]|$)|\.tmp-\d+-|~$|\.swp$/.test(p),
    awaitWriteFinish: { stabilityThreshold: 150, pollInterval: 50 },
  });
  const onKey = (buf: Buffer) => {
    const k = buf.toString('utf8');
    if (k === 'q' || k === 'Q' || k === '\u001b') stop();
    else if (k === '\u0003') {
      if (opts.ctrlCReturns) stop();
      else interrupt('SIGINT');
    } else if (k === '\r' || k === '\n' || k === ' ') void runOnce('re-check asked');
  };
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    if (tty) {
      process.stdin.off('data', onKey);
      process.stdin.setRawMode(false);
      process.stdin.pause();
    }
    finish();
  };
  const off = onInterrupt(async () => {
    stop();
    await watcher.close();
  });
  watcher.on('all', (_event, file) => {
    clearTimeout(timer);
    timer = setTimeout(() => void runOnce(`changed: ${path.relative(folder, file) || path.basename(file)}`), 300);
  });
  watcher.on('error', (e) => ui.warn(`watching ${folder}: ${(e as Error).message}`));
  if (tty) {
    process.stdin.setRawMode(true);
    process.stdin.resume();
    process.stdin.on('data', onKey);
  }
  try {
    await runOnce('first check');
    await done;
  } finally {
    off();
    stop();
    await watcher.close();
    if (!shared) await oc.close();
  }
  return last;
}

// ---- reset ----

export async function cmdReset(ui: Ui, labId: string | undefined, opts: CommonOptions): Promise<number> {
  const lab = await labArg(labId);
  const ws = await workspaceOf(opts);
  const folder = labDir(ws, lab.id);
  if (existsSync(folder) && !opts.yes) {
    if (!process.stdin.isTTY) throw new UsageError(`reset replaces ${folder} with the starter`, 'pass --yes to confirm (your folder is kept as a .bak-<timestamp> copy)');
    if (!(await confirm(`Replace ${path.relative(process.cwd(), folder) || folder} with the starter? Your current folder is kept as ${lab.id}.bak-<timestamp>.`))) {
      ui.info('Nothing changed.');
      return ExitCode.OK;
    }
  }
  const r = await resetLab(ws, lab);
  if (ui.json) ui.print(JSON.stringify({ lab: lab.id, folder: r.folder, backup: r.backup ?? null }, null, 2));
  else {
    ui.print(`${ui.out.green('✔')} ${r.folder} holds the starter again.`);
    if (r.backup) ui.print(ui.out.dim(`  Your previous work is in ${r.backup}`));
  }
  return ExitCode.OK;
}

// ---- solution ----

export async function cmdSolution(ui: Ui, labId: string | undefined, opts: CommonOptions): Promise<number> {
  const lab = await labArg(labId);
  const ws = await workspaceOf(opts);
  const lp = (await loadProgress(ws, warnTo(ui))).labs[lab.id];
  const file = referenceSolution(lab.id);
  if (!lp?.passed) {
    const best = lp?.bestScore !== null && lp?.bestScore !== undefined ? ` Your best so far: ${lp.bestScore}/${lp.maxScore}.` : '';
    if (ui.json) ui.print(JSON.stringify({ lab: lab.id, passed: false, bestScore: lp?.bestScore ?? null, maxScore: lp?.maxScore ?? null }, null, 2));
    else {
      ui.print(`The reference solution of ${lab.id} opens once you pass the lab (full marks in \`seclab check ${lab.id}\`).${best}`);
      ui.print(ui.out.dim(`Stuck? \`seclab hint ${lab.id}\` gives the next hint.`));
    }
    return ExitCode.FAILED;
  }
  if (!existsSync(file)) throw new EnvironmentError(`the reference solution ${file} is missing from this installation`);
  const source = readFileSync(file, 'utf8');
  if (ui.json) ui.print(JSON.stringify({ lab: lab.id, passed: true, file, source }, null, 2));
  else {
    ui.print(ui.out.bold(`Reference solution of ${lab.id} (${file})`));
    ui.print('');
    ui.print(renderMarkdown(`\`\`\`ts\n${source}\n\`\`\``, { color: ui.out.enabled, width: 200 }));
  }
  return ExitCode.OK;
}

// ---- init ----

export async function cmdInit(ui: Ui, dir: string | undefined, opts: CommonOptions): Promise<number> {
  const labs = await allLabs();
  const target = path.resolve(dir ?? opts.workspace ?? (process.env['SECLAB_WORKSPACE'] || 'seclab-workspace'));
  const r = await initWorkspace(target, labs);
  if (ui.json) {
    ui.print(JSON.stringify(r, null, 2));
    return ExitCode.OK;
  }
  const st = ui.out;
  ui.print(`${st.green('✔')} Workspace ${r.workspace}`);
  for (const id of r.created) ui.print(`  ${st.green('+')} ${id}/ ${st.dim('(from the starter)')}`);
  for (const id of r.kept) ui.print(`  ${st.yellow('=')} ${id}/ ${st.dim('already has work: left as it is (`seclab reset ' + id + '` restores the starter)')}`);
  for (const f of r.files) ui.print(`  ${st.green('+')} ${f}`);
  // The workspace depends on this seclab (node_modules/.bin/seclab), so `npx seclab` works inside it.
  const rel = path.relative(process.cwd(), r.workspace);
  const shown = !rel ? '.' : rel.startsWith('..') ? r.workspace : rel;
  ui.print('');
  ui.print(shown === '.'
    ? `Next: npx seclab    ${st.dim(`(the menu; or: npx seclab start ${labs[0]?.id ?? '<lab>'})`)}`
    : `Next: cd ${shown} && npx seclab    ${st.dim(`(or from here: npx seclab menu --workspace ${shown})`)}`);
  return ExitCode.OK;
}
