// Terminal reports. Students see hidden checks only as "hidden check: passed/failed"; instructors see
// everything, hidden checks marked.
import type { AttackStep, CheckGrade, Grade, LabGrade } from '../types.ts';
import { partsOf, statusOf } from './record.ts';
import { escapeControl } from './escape.ts';
import { PLAIN, type Style } from './style.ts';
import { renderFunctionsText } from './lambda-debug.ts';

export type Audience = 'student' | 'instructor';

export interface TextOptions {
  style?: Style;
  audience?: Audience;
  /** Show the attack steps of every scenario (default: only of those not blocked). */
  steps?: boolean;
  /** End with the timeline of the attacks (default: for students). */
  timeline?: boolean;
  /** Columns the timeline may use (default 80). */
  width?: number;
}

const indent = (text: string, pad: string) => text.split('\n').map((l) => pad + l).join('\n');

function pts(c: CheckGrade): string {
  return `${c.points}/${c.maxPoints}`.padStart(5);
}

export function stepLine(step: AttackStep, st: Style = PLAIN): string {
  return step.allowed
    ? `${st.red('✘ allowed')}  ${step.description}`
    : `${st.green('✔ refused')}  ${step.description}${step.errorCode ? st.dim(` (${step.errorCode})`) : ''}`;
}

export function scenarioSummary(c: CheckGrade, st: Style = PLAIN): string {
  // An outcome the lab does not grade is shown dimmed, not as a failure.
  const blocked = c.graded?.blocked === false ? st.dim : (t: string) => (c.blocked ? st.green(t) : st.red(t));
  const detected = c.graded?.detected === false ? st.dim : (t: string) => (c.detected ? st.green(t) : st.yellow(t));
  // Without colour a dimmed outcome looks like any other: say it is not graded.
  const ungraded = (which: 'blocked' | 'detected') => (c.graded?.[which] === false ? ' (not graded)' : '');
  const parts = [
    blocked(`${c.blocked ? 'blocked' : 'not blocked'}${ungraded('blocked')}`),
    detected(`${c.detected ? `detected${typeof c.timeToDetectMs === 'number' ? ` in ${fmtMs(c.timeToDetectMs)}` : ''}` : 'not detected'}${ungraded('detected')}`),
  ];
  if (c.businessIntact === false) parts.push(st.red('legitimate work broken'));
  return parts.join(', ');
}

export function fmtMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

function checkLines(c: CheckGrade, o: Required<TextOptions>): string[] {
  const st = o.style;
  if (c.hidden && o.audience === 'student') {
    return [`  ${st.mark(c.passed)} ${c.maxPoints ? pts(c) : '     '}  ${st.dim(`hidden check: ${c.passed ? 'passed' : 'failed'}`)}`];
  }
  const title = `${c.title}${c.hidden ? st.dim(' (hidden)') : ''}`;
  const head = `  ${st.mark(c.passed)} ${c.kind === 'business' ? '     ' : pts(c)}  ${c.passed ? title : st.bold(title)}`;
  const lines = [c.kind === 'scenario' ? `${head}  ${st.dim('—')} ${scenarioSummary(c, st)}` : head];
  if (c.feedback && (!c.passed || o.audience === 'instructor' || c.kind !== 'business')) lines.push(indent(st.dim(c.feedback), '           '));
  if (c.kind === 'scenario' && c.steps?.length && (o.steps || !c.blocked)) {
    for (const s of c.steps) lines.push(`             ${stepLine(s, st)}`);
  }
  return lines;
}

// ---- the timeline of the attacks ----

/** Lab-clock time from the timeline's zero: +0:42, +12:05, +1:02:03. */
export function clockOffset(ms: number): string {
  const t = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = String(t % 60).padStart(2, '0');
  return h ? `+${h}:${String(m).padStart(2, '0')}:${s}` : `+${m}:${s}`;
}

export interface AttackTimes {
  /** Lab-clock ms of the first attack step. */
  started?: number;
  detected?: number;
  blocked?: number;
}

/**
 * When an attack started (its first step), was detected (start + timeToDetectMs) and was blocked
 * (start + timeToRespondMs, or the first of the refused steps that ended it), in lab-clock ms.
 */
export function attackTimes(c: CheckGrade): AttackTimes {
  const steps = c.steps ?? [];
  if (!steps.length) return {};
  const started = Math.min(...steps.map((x) => x.at));
  const out: AttackTimes = { started };
  if (c.detected && typeof c.timeToDetectMs === 'number') out.detected = started + c.timeToDetectMs;
  if (c.blocked) {
    if (typeof c.timeToRespondMs === 'number' && c.graded?.blocked !== false) out.blocked = started + c.timeToRespondMs;
    else {
      let i = steps.length;
      while (i > 0 && !steps[i - 1]!.allowed) i--;
      out.blocked = steps[i]?.at ?? started;
    }
  }
  return out;
}

/**
 * Each attack on one line: when it started, was detected, was blocked, in lab-clock time from the
 * first attack (`—` did not happen, `yes` happened at a time not recorded, in parentheses when the lab does
 * not grade it). Fits `width` columns (80).
 */
export function renderTimeline(scenarios: CheckGrade[], opts: TextOptions = {}): string[] {
  const st = opts.style ?? PLAIN;
  const student = (opts.audience ?? 'student') === 'student';
  const width = Math.max(50, opts.width ?? 80);
  const rows = scenarios.map((c) => ({ c, t: attackTimes(c) }));
  const starts = rows.map((r) => r.t.started).filter((x): x is number => x !== undefined);
  if (!starts.length) return [];
  const zero = Math.min(...starts);
  // Wide enough for the longest time shown, in parentheses (attacks may run a day of lab time apart).
  const times = rows.flatMap((r) => [r.t.started, r.t.detected, r.t.blocked]).filter((x): x is number => x !== undefined);
  const W = Math.max(8, ...times.map((t) => clockOffset(t - zero).length + 2));
  const titleW = Math.min(Math.max(6, ...rows.map((r) => (student && r.c.hidden ? 13 : r.c.title.length + (r.c.hidden ? 9 : 0)))), width - 2 - 3 * (W + 2));
  const fit = (s: string) => (s.length > titleW ? `${s.slice(0, titleW - 1)}…` : s.padEnd(titleW));
  // An outcome the lab does not grade is shown in parentheses.
  let ungraded = false;
  const cell = (at: number | undefined, happened: boolean | undefined, graded: boolean) => {
    const v = at !== undefined ? clockOffset(at - zero) : happened ? 'yes' : '—';
    if (!graded) ungraded = true;
    return (graded ? v : `(${v})`).padStart(W);
  };
  const out = [st.bold('Timeline of the attacks') + st.dim(' (lab clock from the first attack)'), st.dim(`  ${'attack'.padEnd(titleW)}  ${'started'.padStart(W)}  ${'detected'.padStart(W)}  ${'blocked'.padStart(W)}`)];
  for (const { c, t } of rows) {
    if (c.hidden && student) {
      out.push(`  ${st.dim(fit('hidden attack'))}  ${st.dim(`hidden check: ${c.passed ? 'passed' : 'failed'}`.padStart(W))}`);
      continue;
    }
    const title = fit(`${escapeControl(c.title).replace(/\s+/g, ' ')}${c.hidden ? ' (hidden)' : ''}`);
    if (t.started === undefined) {
      out.push(`  ${title}  ${st.dim('did not run'.padStart(W))}`);
      continue;
    }
    const det = cell(t.detected, c.detected, c.graded?.detected !== false);
    const blk = cell(t.blocked, c.blocked, c.graded?.blocked !== false);
    const paint = (s: string, ok: boolean | undefined, graded: boolean) => (!graded ? st.dim(s) : ok ? st.green(s) : st.red(s));
    out.push(`  ${title}  ${cell(t.started, true, true)}  ${paint(det, c.detected, c.graded?.detected !== false)}  ${paint(blk, c.blocked, c.graded?.blocked !== false)}`);
  }
  out.push(st.dim(`  — did not happen${ungraded ? ' · (…) not graded in this lab' : ''}`));
  return out;
}

/** The report of one lab. */
export function renderLabText(lab: LabGrade, opts: TextOptions = {}): string {
  const audience = opts.audience ?? 'student';
  const o: Required<TextOptions> = { style: opts.style ?? PLAIN, audience, steps: opts.steps ?? false, timeline: opts.timeline ?? audience === 'student', width: opts.width ?? 80 };
  const st = o.style;
  const out: string[] = [st.bold(`${lab.id} — ${lab.title}`)];
  if (lab.error) out.push('', st.red(st.bold(`✘ The lab could not be graded: ${lab.error}`)));
  const failed = lab.student.filter((r) => !r.ok);
  if (failed.length) {
    out.push('', st.red(st.bold('✘ Your code failed:')));
    for (const r of failed) out.push(st.red(indent(`${r.export}(): ${r.error ?? 'failed'}`, '    ')));
    out.push(st.dim('    The checks below ran anyway, on whatever your code had done before it stopped.'));
  } else if (lab.student.length) {
    out.push('', `  ${st.mark(true)} your code ran: ${lab.student.map((r) => `${r.export}() ${st.dim(fmtMs(r.durationMs))}`).join(', ')}`);
  }
  const { posture, scenarios, business } = partsOf(lab);
  if (business.length) {
    out.push('', st.bold('Legitimate work (must keep working)'));
    for (const c of business) out.push(...checkLines(c, o));
    // Legitimate work refused during an attack, every check above passing: a line of its own, so the
    // section agrees with what the controls and attacks say.
    if (lab.businessBroken && business.every((c) => c.passed)) out.push(`  ${st.mark(false)}        ${st.bold(escapeControl(lab.businessBroken))}`);
    if (business.some((c) => !c.passed) || lab.businessBroken) out.push(st.yellow('  ! Something legitimate is broken: restrictive controls and blocked attacks earn nothing until it works again.'));
  }
  if (posture.length) {
    out.push('', st.bold('Controls'));
    for (const c of posture) out.push(...checkLines(c, o));
  }
  if (scenarios.length) {
    out.push('', st.bold('Attacks'));
    for (const c of scenarios) out.push(...checkLines(c, o));
  }
  if (o.timeline && scenarios.length) out.push('', ...renderTimeline(scenarios, o));
  out.push(...renderFunctionsText(lab, st, o.width));
  const pct = lab.maxScore ? Math.round((lab.score / lab.maxScore) * 100) : 0;
  out.push('', `${st.bold(`Score ${lab.score}/${lab.maxScore}`)} (${pct} %) ${lab.passed ? st.green(st.bold('— passed ✔')) : st.yellow('— not passed yet')}`);
  return out.join('\n').split('\n').flatMap((l) => wrapLine(l, o.width)).join('\n');
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
const visible = (s: string): number => [...s.replace(ANSI, '')].length;

/**
 * A line wider than the terminal, broken between words with the continuation indented under the
 * line's own text (a terminal would break it mid-word at column 80). Styles (ANSI) count no width.
 */
export function wrapLine(line: string, width: number): string[] {
  if (visible(line) <= width) return [line];
  const lead = /^ */.exec(line.replace(ANSI, ''))![0].length;
  const pad = ' '.repeat(Math.min(lead + 2, Math.floor(width / 2)));
  const words = line.slice(line.indexOf(line.trimStart())).split(' ');
  const out: string[] = [];
  let cur = ' '.repeat(lead);
  let curW = lead;
  for (const w of words) {
    const ww = visible(w);
    const sep = curW > (out.length ? pad.length : lead) ? 1 : 0;
    if (curW + sep + ww > width && curW > (out.length ? pad.length : lead)) {
      out.push(cur);
      cur = pad + w;
      curW = pad.length + ww;
    } else {
      cur += (sep ? ' ' : '') + w;
      curW += sep + ww;
    }
  }
  out.push(cur);
  return out;
}

/** The report of a graded workspace (instructor view by default). */
export function renderGradeText(grade: Grade, opts: TextOptions = {}): string {
  const st = opts.style ?? PLAIN;
  const parts = grade.labs.map((l) => renderLabText(l, { audience: 'instructor', ...opts }));
  parts.push(st.bold(`${grade.student}: ${grade.score}/${grade.maxScore} (${grade.percent} %)`));
  return parts.join('\n\n');
}

/** One line per student, for a class. */
export function renderClassText(grades: Grade[], opts: TextOptions = {}): string {
  const st = opts.style ?? PLAIN;
  const ids = [...new Set(grades.flatMap((g) => g.labs.map((l) => l.id)))];
  const width = Math.max(7, ...grades.map((g) => g.student.length));
  const head = `${'student'.padEnd(width)}  ${ids.map((id) => id.padStart(8)).join(' ')}  ${'total'.padStart(9)}  ${'%'.padStart(6)}`;
  const lines = [st.bold(head)];
  for (const g of grades) {
    const by = new Map(g.labs.map((l) => [l.id, l]));
    const cells = ids.map((id) => {
      const l = by.get(id);
      if (!l) return ''.padStart(8);
      if (l.error && !l.violations?.length) return st.red('error'.padStart(8));
      // A violation shows its score in red; the line below the student says what was attempted.
      return (l.violations?.length ? st.red : l.passed ? st.green : (s: string) => s)(`${l.score}/${l.maxScore}`.padStart(8));
    });
    lines.push(`${g.student.padEnd(width)}  ${cells.join(' ')}  ${`${g.score}/${g.maxScore}`.padStart(9)}  ${g.percent.toFixed(1).padStart(6)}`);
    for (const l of g.labs) {
      const { status, detail } = statusOf(l);
      if (status === 'graded') continue;
      const paint = status === 'not graded' || status === 'isolation violation' ? st.red : (x: string) => x;
      lines.push(paint(`${' '.repeat(width)}  ${l.id}: ${status}${detail ? `: ${oneLine(detail)}` : ''}`));
    }
  }
  const avg = grades.length ? grades.reduce((a, g) => a + g.percent, 0) / grades.length : 0;
  lines.push('', `${grades.length} graded, average ${avg.toFixed(1)} %`);
  return lines.join('\n');
}

/** Student-supplied text on one line (control characters already escaped by the grader). */
function oneLine(text: string): string {
  return escapeControl(text).replace(/\s+/g, ' ').slice(0, 300);
}
