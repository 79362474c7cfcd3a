// A student's progress in a workspace: `<workspace>/.seclab/progress.json`. Small, validated on read,
// written atomically. A corrupted file is set aside (progress.json.corrupt-<timestamp>) and a fresh
// one started, with a message that says so: nothing is lost and nothing stops the student.
import { existsSync } from 'node:fs';
import { readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { PROGRESS_DIR, writeFileAtomic } from './workspace.ts';
import type { LabGrade, Task } from './types.ts';

export const PROGRESS_VERSION = 1;
/** Attempts kept per lab (oldest dropped first). */
export const HISTORY_LIMIT = 200;

const Attempt = z.object({
  at: z.string(),
  kind: z.enum(['check', 'attack', 'watch']),
  score: z.number(),
  maxScore: z.number(),
  passed: z.boolean(),
  /** Scenarios run by an `attack` (ids), when not all of them. */
  scenarios: z.array(z.string()).optional(),
  /** Student code failed (compile error, exception, timeout). */
  codeError: z.boolean().optional(),
});

const LabProgress = z.object({
  /** When the student first opened the lab (ISO time), null when never. */
  started: z.string().nullable(),
  lastScore: z.number().nullable(),
  bestScore: z.number().nullable(),
  maxScore: z.number().nullable(),
  passed: z.boolean(),
  passedAt: z.string().nullable().optional(),
  /** Per task id: how many of its hints the student has seen. */
  hintsSeen: z.record(z.string(), z.number().int().nonnegative()),
  /** Tasks whose (visible or hidden) checks failed in the last full check. */
  failingTasks: z.array(z.string()).optional(),
  history: z.array(Attempt),
});

const ProgressFile = z.object({
  version: z.literal(PROGRESS_VERSION),
  labs: z.record(z.string(), LabProgress),
});

export type Attempt = z.infer<typeof Attempt>;
export type LabProgress = z.infer<typeof LabProgress>;
export type Progress = z.infer<typeof ProgressFile>;

export function progressFile(workspace: string): string {
  return path.join(workspace, PROGRESS_DIR, 'progress.json');
}

export function emptyProgress(): Progress {
  return { version: PROGRESS_VERSION, labs: {} };
}

export function emptyLabProgress(): LabProgress {
  return { started: null, lastScore: null, bestScore: null, maxScore: null, passed: false, passedAt: null, hintsSeen: {}, failingTasks: [], history: [] };
}

/** The lab's entry (created, not saved, when missing). */
export function labProgress(p: Progress, labId: string): LabProgress {
  return (p.labs[labId] ??= emptyLabProgress());
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

export interface LoadOptions {
  /** Told when the file was corrupted and set aside. */
  onWarning?: (message: string) => void;
  now?: Date;
}

/** Reads the progress of a workspace; a missing file is a fresh start, a corrupted one is set aside. */
export async function loadProgress(workspace: string, opts: LoadOptions = {}): Promise<Progress> {
  const file = progressFile(workspace);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyProgress();
    throw e;
  }
  let problem: string;
  try {
    const parsed = ProgressFile.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    problem = `${issue?.path.join('.') || 'the file'}: ${issue?.message ?? 'unexpected content'}`;
  } catch (e) {
    problem = `not valid JSON (${(e as Error).message})`;
  }
  let backup = `${file}.corrupt-${stamp(opts.now ?? new Date())}`;
  for (let n = 1; existsSync(backup); n++) backup = `${file}.corrupt-${stamp(opts.now ?? new Date())}-${n}`;
  await rename(file, backup);
  opts.onWarning?.(`Your progress file ${file} was damaged (${problem}). It was kept as ${path.basename(backup)} and progress starts afresh; your work in the lab folders is untouched.`);
  return emptyProgress();
}

export async function saveProgress(workspace: string, p: Progress): Promise<void> {
  const valid = ProgressFile.parse(p);
  await writeFileAtomic(progressFile(workspace), `${JSON.stringify(valid, null, 2)}\n`);
}

/** Read, change and write back. */
export async function updateProgress<T>(workspace: string, change: (p: Progress) => T, opts: LoadOptions = {}): Promise<T> {
  const p = await loadProgress(workspace, opts);
  const out = change(p);
  await saveProgress(workspace, p);
  return out;
}

// ---- changes (pure: they edit the object given) ----

export function markStarted(p: Progress, labId: string, now = new Date()): LabProgress {
  const lp = labProgress(p, labId);
  lp.started ??= now.toISOString();
  return lp;
}

/**
 * Tasks with at least one failed item in a grade, in the grade's order: checks, then attacks (a failed
 * attack names the task of what should have detected or blocked it, see `scenarioTask` in grader.ts).
 */
export function failingTasksOf(grade: Pick<LabGrade, 'checks'> & Partial<Pick<LabGrade, 'scenarios'>>): string[] {
  const tasks: string[] = [];
  for (const c of [...grade.checks, ...(grade.scenarios ?? [])]) {
    if (!c.passed && c.task && !tasks.includes(c.task)) tasks.push(c.task);
  }
  return tasks;
}

/**
 * Records a grade of a lab. Scores (last, best, passed) only change for a full grade: an `attack`
 * limited to some scenarios only adds to the history.
 */
export function recordAttempt(
  p: Progress,
  grade: Pick<LabGrade, 'id' | 'score' | 'maxScore' | 'passed' | 'checks' | 'student' | 'error'> & Partial<Pick<LabGrade, 'scenarios'>>,
  opts: { kind?: Attempt['kind']; scenarios?: string[]; now?: Date } = {},
): LabProgress {
  const now = opts.now ?? new Date();
  const lp = markStarted(p, grade.id, now);
  const partial = !!opts.scenarios;
  const attempt: Attempt = {
    at: now.toISOString(), kind: opts.kind ?? 'check', score: grade.score, maxScore: grade.maxScore, passed: grade.passed && !partial,
    ...(partial ? { scenarios: opts.scenarios } : {}),
    ...(grade.student.some((r) => !r.ok) ? { codeError: true } : {}),
  };
  lp.history.push(attempt);
  if (lp.history.length > HISTORY_LIMIT) lp.history.splice(0, lp.history.length - HISTORY_LIMIT);
  if (!partial && !grade.error) {
    lp.lastScore = grade.score;
    lp.bestScore = Math.max(lp.bestScore ?? 0, grade.score);
    lp.maxScore = grade.maxScore;
    lp.failingTasks = failingTasksOf(grade);
    if (grade.passed && !lp.passed) {
      lp.passed = true;
      lp.passedAt = now.toISOString();
    }
  }
  return lp;
}

export interface HintPick {
  task: Task;
  /** 1-based number of the hint. */
  number: number;
  total: number;
  text: string;
  /** The task's hints were all seen already: this is the last one again. */
  exhausted: boolean;
  /** Why this task: 'asked' | 'failing' (its checks failed last time) | 'first' (no check yet). */
  reason: 'asked' | 'failing' | 'first' | 'all-passing';
}

/**
 * The next hint: for the task asked for, else the first task whose checks or attacks failed in the last check,
 * else (never checked) the first task with hints left. Marks it seen. Undefined when the lab has no
 * hints at all.
 */
export function nextHint(p: Progress, labId: string, tasks: Task[], taskId?: string): HintPick | undefined {
  const lp = labProgress(p, labId);
  const withHints = tasks.filter((t) => t.hints.length > 0);
  if (!withHints.length) return undefined;
  let task: Task | undefined;
  let reason: HintPick['reason'];
  if (taskId) {
    task = tasks.find((t) => t.id === taskId);
    if (!task) throw new RangeError(`lab ${labId} has no task "${taskId}"; tasks: ${tasks.map((t) => t.id).join(', ')}`);
    reason = 'asked';
  } else if (lp.lastScore !== null && lp.failingTasks) {
    const failing = withHints.filter((t) => lp.failingTasks!.includes(t.id));
    task = failing.find((t) => (lp.hintsSeen[t.id] ?? 0) < t.hints.length) ?? failing[0];
    reason = task ? 'failing' : 'all-passing';
    task ??= withHints.find((t) => (lp.hintsSeen[t.id] ?? 0) < t.hints.length) ?? withHints[0]!;
  } else {
    task = withHints.find((t) => (lp.hintsSeen[t.id] ?? 0) < t.hints.length) ?? withHints[0]!;
    reason = 'first';
  }
  if (!task.hints.length) return { task, number: 0, total: 0, text: 'This task has no hints.', exhausted: true, reason };
  const seen = lp.hintsSeen[task.id] ?? 0;
  const exhausted = seen >= task.hints.length;
  const index = exhausted ? task.hints.length - 1 : seen;
  if (!exhausted) lp.hintsSeen[task.id] = seen + 1;
  markStarted(p, labId);
  return { task, number: index + 1, total: task.hints.length, text: task.hints[index]!, exhausted, reason };
}
