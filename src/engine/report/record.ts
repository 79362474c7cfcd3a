// Grade records: the JSON format documented in docs/cli.md. A record lists every check of a lab in
// `checks[]`, scenarios included (kind 'scenario'), and keeps `scenarios[]` as well.
import type { CheckGrade, Grade, LabGrade, LabStatus } from '../types.ts';

export function percentOf(score: number, max: number): number {
  return max > 0 ? Math.round((score / max) * 1000) / 10 : 0;
}

/** Posture, scenario and business results of a lab, whether or not its scenarios were merged into `checks`. */
export function partsOf(lab: LabGrade): { posture: CheckGrade[]; scenarios: CheckGrade[]; business: CheckGrade[] } {
  const inChecks = lab.checks.filter((c) => c.kind === 'scenario');
  return {
    posture: lab.checks.filter((c) => c.kind === 'posture'),
    scenarios: inChecks.length ? inChecks : lab.scenarios ?? [],
    business: lab.checks.filter((c) => c.kind === 'business'),
  };
}

/** The lab as recorded: scenarios inside `checks[]` too (posture, then scenario, then business). */
export function labRecord(lab: LabGrade): LabGrade {
  const { posture, scenarios, business } = partsOf(lab);
  return { ...lab, checks: [...posture, ...scenarios, ...business], scenarios };
}

export interface GradeInput {
  student: string;
  workspace: string;
  target: string;
  version: string;
  startedAt: Date | string;
  labs: LabGrade[];
  /** The run's seed (default: the labs' seed when they share one). */
  seed?: string;
}

/** Builds a grade record (unsigned): totals over the labs, scenarios merged into checks. */
export function buildGrade(input: GradeInput): Grade {
  const labs = input.labs.map(labRecord);
  const score = labs.reduce((a, l) => a + l.score, 0);
  const maxScore = labs.reduce((a, l) => a + l.maxScore, 0);
  const seeds = [...new Set(labs.map((l) => l.seed).filter((x): x is string => !!x))];
  const seed = input.seed ?? (seeds.length === 1 ? seeds[0] : undefined);
  return {
    tool: 'seclab',
    version: input.version,
    student: input.student,
    workspace: input.workspace,
    target: input.target,
    startedAt: typeof input.startedAt === 'string' ? input.startedAt : input.startedAt.toISOString(),
    ...(seed !== undefined ? { seed } : {}),
    score,
    maxScore,
    percent: percentOf(score, maxScore),
    labs,
  };
}

/** A LabGrade for a lab that could not be graded at all. */
export function erroredLab(id: string, title: string, maxScore: number, error: string, durationMs = 0): LabGrade {
  return { id, title, score: 0, maxScore, passed: false, checks: [], scenarios: [], student: [], accountId: '', durationMs, error };
}

/**
 * What a student may see of a check: hidden checks keep only whether they passed and their points
 * (title, id, feedback, task and attack details are removed).
 */
export function redactCheck(c: CheckGrade, n: number): CheckGrade {
  if (!c.hidden) return c;
  return { id: `hidden-${n}`, title: 'hidden check', kind: c.kind, passed: c.passed, points: c.points, maxPoints: c.maxPoints, hidden: true, feedback: '' };
}

/** A lab grade as a student may see it (hidden checks redacted). */
export function redactLab(lab: LabGrade): LabGrade {
  let n = 0;
  const rec = labRecord(lab);
  const map = new Map<CheckGrade, CheckGrade>();
  const red = (c: CheckGrade) => {
    if (!map.has(c)) map.set(c, redactCheck(c, c.hidden ? ++n : 0));
    return map.get(c)!;
  };
  return { ...rec, checks: rec.checks.map(red), scenarios: rec.scenarios.map(red) };
}

/** Student code failures of a lab, one line each (they carry file:line). */
export function codeErrors(lab: LabGrade): string[] {
  return lab.student.filter((r) => !r.ok && r.error).map((r) => `${r.export}(): ${r.error}`);
}

/** What happened to a lab's submission, from its runs, error and violations (see LabGrade.status). */
export function statusOf(lab: LabGrade): { status: LabStatus; detail?: string } {
  if (lab.violations?.length) return { status: 'isolation violation', detail: lab.violations[0] };
  if (lab.error) return { status: 'not graded', detail: lab.error };
  const failed = (lab.student ?? []).filter((r) => !r.ok && r.error);
  const first = (re: RegExp) => failed.find((r) => re.test(r.error!));
  const compile = first(/does not compile/);
  if (compile) return { status: 'did not compile', detail: compile.error };
  const timeout = first(/did not finish within|was stopped/);
  if (timeout) return { status: 'timed out', detail: timeout.error };
  if (failed.length) return { status: 'crashed', detail: failed[0]!.error };
  return { status: 'graded' };
}

export function withStatus(lab: LabGrade): LabGrade {
  const { status, detail } = statusOf(lab);
  return { ...lab, status, ...(detail ? { statusDetail: detail } : {}) };
}
