// Gradescope autograder results (https://gradescope-autograders.readthedocs.io/en/latest/specs/):
// one results.json per submission. Hidden checks are tests with visibility "after_published", so
// students see them only once grades are published.
import type { CheckGrade, Grade } from '../types.ts';
import { codeErrors, partsOf, statusOf } from './record.ts';

export interface GradescopeTest {
  name: string;
  score: number;
  max_score: number;
  status: 'passed' | 'failed';
  output: string;
  visibility: 'visible' | 'hidden' | 'after_due_date' | 'after_published';
  tags?: string[];
}

export interface GradescopeResults {
  score: number;
  max_score: number;
  output: string;
  visibility: 'visible';
  stdout_visibility: 'hidden';
  tests: GradescopeTest[];
}

function scenarioOutput(c: CheckGrade): string {
  if (c.kind !== 'scenario') return c.feedback;
  const lines = [c.feedback, `Detected: ${c.detected ? 'yes' : 'no'} · Blocked: ${c.blocked ? 'yes' : 'no'} · Legitimate work intact: ${c.businessIntact ? 'yes' : 'no'}`];
  if (c.techniques?.length) lines.push(`MITRE ATT&CK: ${c.techniques.join(', ')}`);
  return lines.join('\n');
}

export function toGradescope(grade: Grade): GradescopeResults {
  const tests: GradescopeTest[] = [];
  const out: string[] = [];
  for (const lab of grade.labs) {
    const { status } = statusOf(lab);
    if (status !== 'graded') out.push(`${lab.id}: ${status}`);
    for (const v of lab.violations ?? []) out.push(`${lab.id}: isolation violation: ${v}`);
    if (lab.error) out.push(`${lab.id}: could not be graded: ${lab.error}`);
    for (const e of codeErrors(lab)) out.push(`${lab.id}: your code failed: ${e}`);
    if (lab.businessBroken) out.push(`${lab.id}: legitimate work is broken (${lab.businessBroken}): restrictive controls and blocked attacks earn nothing until it works again`);
    const { posture, scenarios, business } = partsOf(lab);
    for (const c of [...posture, ...scenarios, ...business]) {
      tests.push({
        name: `${lab.id}: ${c.kind === 'business' ? 'legitimate work — ' : c.kind === 'scenario' ? 'attack — ' : ''}${c.title}`,
        score: c.points,
        max_score: c.maxPoints,
        status: c.passed ? 'passed' : 'failed',
        output: scenarioOutput(c),
        visibility: c.hidden ? 'after_published' : 'visible',
        tags: [lab.id, c.kind, ...(c.task ? [c.task] : [])],
      });
    }
  }
  return {
    score: grade.score,
    max_score: grade.maxScore,
    output: out.length ? out.join('\n') : `seclab ${grade.version}: ${grade.score}/${grade.maxScore} (${grade.percent} %)`,
    visibility: 'visible',
    stdout_visibility: 'hidden',
    tests,
  };
}
