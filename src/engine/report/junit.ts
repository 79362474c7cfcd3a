// JUnit XML: one <testsuite> per student and lab, one <testcase> per check, scenario, business check
// and student-code export. Failed checks are <failure>, code that could not run and labs that could
// not be graded are <error>. Instructor output: hidden checks are included and marked.
import type { CheckGrade, Grade, LabGrade } from '../types.ts';
import { partsOf } from './record.ts';

// Characters XML 1.0 allows; everything else (ANSI escapes, NUL...) is dropped.
const INVALID_XML = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function xmlEscape(s: string): string {
  return s.replace(INVALID_XML, '').replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

const attrs = (a: Record<string, string | number | undefined>) =>
  Object.entries(a).filter(([, v]) => v !== undefined).map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`).join('');

const secs = (ms: number) => (ms / 1000).toFixed(3);

interface Case { classname: string; name: string; time: number; failure?: { type: string; message: string; body: string }; error?: { type: string; message: string; body: string } }

function checkCase(lab: LabGrade, c: CheckGrade): Case {
  // The name stays the same whether the check passes or fails (CI tools track tests by name).
  const name = `${c.hidden ? '[hidden] ' : ''}${c.title} [${c.id}]`;
  const cs: Case = { classname: `seclab.${lab.id}.${c.kind}`, name, time: 0 };
  if (!c.passed) {
    let body = c.feedback;
    if (c.kind === 'scenario') {
      body += `\ndetected: ${c.detected ? 'yes' : 'no'}, blocked: ${c.blocked ? 'yes' : 'no'}, business intact: ${c.businessIntact ? 'yes' : 'no'}`;
      for (const s of c.steps ?? []) body += `\n  ${s.allowed ? 'ALLOWED' : `refused (${s.errorCode ?? 'error'})`}: ${s.description}`;
    }
    cs.failure = { type: c.kind, message: `${c.points}/${c.maxPoints} points: ${c.feedback.split('\n')[0] ?? ''}`, body };
  }
  return cs;
}

function labCases(lab: LabGrade): Case[] {
  const cases: Case[] = [];
  for (const r of lab.student) {
    const cs: Case = { classname: `seclab.${lab.id}.code`, name: `student code: ${r.export}()`, time: r.durationMs };
    if (!r.ok) cs.error = { type: 'StudentCodeError', message: r.error ?? 'failed', body: r.error ?? '' };
    cases.push(cs);
  }
  const { posture, scenarios, business } = partsOf(lab);
  for (const c of [...posture, ...scenarios, ...business]) cases.push(checkCase(lab, c));
  if (lab.error) cases.push({ classname: `seclab.${lab.id}`, name: 'lab could not be graded', time: 0, error: { type: 'GradingError', message: lab.error, body: lab.error } });
  return cases;
}

function renderCase(c: Case): string {
  const head = `    <testcase${attrs({ classname: c.classname, name: c.name, time: secs(c.time) })}`;
  const inner = c.failure
    ? `      <failure${attrs({ type: c.failure.type, message: c.failure.message })}>${xmlEscape(c.failure.body)}</failure>\n`
    : c.error
      ? `      <error${attrs({ type: c.error.type, message: c.error.message })}>${xmlEscape(c.error.body)}</error>\n`
      : '';
  return inner ? `${head}>\n${inner}    </testcase>\n` : `${head}/>\n`;
}

export function renderJunit(grades: Grade[]): string {
  let tests = 0;
  let failures = 0;
  let errors = 0;
  let time = 0;
  const suites: string[] = [];
  for (const g of grades) {
    for (const lab of g.labs) {
      const cases = labCases(lab);
      const f = cases.filter((c) => c.failure).length;
      const e = cases.filter((c) => c.error).length;
      tests += cases.length;
      failures += f;
      errors += e;
      time += lab.durationMs;
      const props = [
        ['student', g.student], ['lab', lab.id], ['score', lab.score], ['maxScore', lab.maxScore], ['passed', lab.passed], ['target', g.target], ['accountId', lab.accountId],
      ].map(([k, v]) => `      <property${attrs({ name: String(k), value: String(v) })}/>\n`).join('');
      suites.push(
        `  <testsuite${attrs({ name: `${g.student}.${lab.id}`, tests: cases.length, failures: f, errors: e, skipped: 0, time: secs(lab.durationMs), timestamp: g.startedAt.replace(/Z$/, '') })}>\n`
        + `    <properties>\n${props}    </properties>\n`
        + cases.map(renderCase).join('')
        + '  </testsuite>\n',
      );
    }
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites${attrs({ name: 'seclab', tests, failures, errors, time: secs(time) })}>\n${suites.join('')}</testsuites>\n`;
}
