// A feedback file per student (Markdown). Hidden checks are left out entirely.
import type { CheckGrade, Grade } from '../types.ts';
import { codeErrors, partsOf } from './record.ts';
import { renderFunctionsMarkdown } from './lambda-debug.ts';

const md = (s: string) => s.replace(/([\\`*_[\]<>])/g, '\\$1');
const mark = (p: boolean) => (p ? '✔' : '✘');

function line(c: CheckGrade): string {
  const pts = c.maxPoints > 0 ? ` (${c.points}/${c.maxPoints})` : '';
  let s = `- ${mark(c.passed)} **${md(c.title)}**${pts}`;
  if (c.kind === 'scenario') s += ` — ${c.blocked ? 'blocked' : 'not blocked'}${c.graded?.blocked === false ? ' (not graded)' : ''}, ${c.detected ? 'detected' : 'not detected'}${c.graded?.detected === false ? ' (not graded)' : ''}`;
  if (c.feedback) s += `  \n  ${md(c.feedback).replace(/\n/g, '  \n  ')}`;
  return s;
}

export function renderFeedback(grade: Grade): string {
  const out: string[] = [
    `# seclab feedback: ${md(grade.student)}`,
    '',
    `**Score: ${grade.score} / ${grade.maxScore} (${grade.percent} %)** · graded ${grade.startedAt} on ${grade.target} with seclab ${grade.version}`,
  ];
  for (const lab of grade.labs) {
    out.push('', `## ${lab.id}: ${md(lab.title)} — ${lab.score} / ${lab.maxScore}${lab.passed ? ' ✔ passed' : ''}`);
    if (lab.error) out.push('', `> **This lab could not be graded:** ${md(lab.error)}`);
    const errors = codeErrors(lab);
    if (errors.length) out.push('', '### Your code', '', ...errors.map((e) => `- ✘ ${md(e)}`));
    const { posture, scenarios, business } = partsOf(lab);
    const visible = (cs: CheckGrade[]) => cs.filter((c) => !c.hidden);
    if (visible(posture).length) out.push('', '### Controls', '', ...visible(posture).map(line));
    if (visible(scenarios).length) out.push('', '### Attacks', '', ...visible(scenarios).map(line));
    // Legitimate work refused during an attack while every legitimate-work check passed: said as a
    // failed line of its own, so this section agrees with the controls and attacks that earned nothing.
    const refused = lab.businessBroken && business.every((c) => c.passed) ? [`- ✘ **${md(lab.businessBroken)}**`] : [];
    if (visible(business).length || refused.length) {
      out.push('', '### Legitimate work (must keep working; a control that breaks it earns nothing)', '', ...visible(business).map(line), ...refused);
    }
    out.push(...renderFunctionsMarkdown(lab));
  }
  return `${out.join('\n')}\n`;
}

/** A file name for a student's feedback: letters, digits, dot, dash and underscore only. */
export function feedbackFileName(student: string): string {
  const safe = student.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_') || 'student';
  return `${safe}.md`;
}
