import { describe, expect, it } from 'vitest';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { renderJunit, xmlEscape } from '../../src/engine/report/junit.ts';
import { toGradescope } from '../../src/engine/report/gradescope.ts';
import { csvField, renderGradebook } from '../../src/engine/report/csv.ts';
import { feedbackFileName, renderFeedback } from '../../src/engine/report/feedback.ts';
import { labRecord, percentOf, redactLab } from '../../src/engine/report/record.ts';
import { renderClassText, renderLabText, wrapLine } from '../../src/engine/report/text.ts';
import { fakeGrade, fakeLabGrade, SECRET_FEEDBACK, SECRET_TITLE } from './fixtures.ts';

describe('grade records', () => {
  it('put scenarios inside checks[] once and keep scenarios[]', () => {
    const g = fakeGrade();
    const lab = g.labs[0]!;
    expect(lab.checks.map((c) => c.kind)).toEqual(['posture', 'posture', 'posture', 'scenario', 'scenario', 'business']);
    expect(lab.scenarios.map((s) => s.id)).toEqual(['leaked-key', 'escalation']);
    expect(labRecord(lab).checks).toHaveLength(6); // idempotent
    expect(g.score).toBe(20);
    expect(g.maxScore).toBe(45);
    expect(g.percent).toBe(44.4);
    expect(percentOf(0, 0)).toBe(0);
    const sc = lab.checks.find((c) => c.id === 'leaked-key')!;
    expect(sc).toMatchObject({ detected: true, blocked: true, businessIntact: true, timeToDetectMs: 1200 });
  });

  it('redact hidden checks for students', () => {
    const r = redactLab(fakeLabGrade());
    const text = JSON.stringify(r);
    expect(text).not.toContain(SECRET_TITLE);
    expect(text).not.toContain(SECRET_FEEDBACK);
    expect(text).not.toContain('hidden scenario feedback');
    expect(text).not.toContain('attach admin');
    expect(r.checks.filter((c) => c.hidden).map((c) => c.title)).toEqual(['hidden check', 'hidden check']);
    expect(r.score).toBe(20);
  });
});

describe('JUnit XML', () => {
  it('is well-formed and counts failures and errors', () => {
    const xml = renderJunit([fakeGrade('alice'), fakeGrade('b&ob <"x">', [fakeLabGrade({ error: 'the lab cloud died: \u0000 boom' })])]);
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
    const suites = doc.testsuites.testsuite;
    expect(suites).toHaveLength(2);
    expect(suites[1].name).toBe('b&ob <"x">.iam');
    // 2 code exports + 6 checks (+ 1 lab error for the second)
    expect(Number(suites[0].tests)).toBe(8);
    expect(Number(suites[0].failures)).toBe(3); // least, hidden posture, hidden scenario
    expect(Number(suites[0].errors)).toBe(1); // apply() failed
    expect(Number(suites[1].errors)).toBe(2);
    expect(Number(doc.testsuites.tests)).toBe(17);
    expect(xml).not.toContain('\u001b');
  });

  it('escapes the five XML characters and drops invalid ones', () => {
    expect(xmlEscape(`<a b="c" d='e'>&\u0007`)).toBe('&lt;a b=&quot;c&quot; d=&apos;e&apos;&gt;&amp;');
  });
});

describe('Gradescope results.json', () => {
  it('has the documented shape, hidden checks after publication', () => {
    const r = toGradescope(fakeGrade());
    expect(r.score).toBe(20);
    expect(r.max_score).toBe(45);
    expect(r.tests).toHaveLength(6);
    for (const t of r.tests) {
      expect(Object.keys(t)).toEqual(expect.arrayContaining(['name', 'score', 'max_score', 'output', 'visibility']));
      expect(typeof t.score).toBe('number');
    }
    expect(r.tests.reduce((a, t) => a + t.score, 0)).toBe(r.score);
    expect(r.tests.reduce((a, t) => a + t.max_score, 0)).toBe(r.max_score);
    const hidden = r.tests.filter((t) => t.visibility !== 'visible');
    expect(hidden).toHaveLength(2);
    expect(hidden.every((t) => t.visibility === 'after_published')).toBe(true);
    expect(r.output).toContain('iam/solution.ts:12:5');
  });
});

describe('CSV gradebook', () => {
  it('escapes quotes, commas and newlines, and defuses formulas', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=HYPERLINK("x")', { text: true })).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField(-3)).toBe('-3');
    expect(csvField(undefined)).toBe('');
  });

  it('says what happened per lab: timed out, crashed, isolation violation', () => {
    const csv = renderGradebook([
      fakeGrade('t', [fakeLabGrade({ student: [{ export: 'apply', ok: false, durationMs: 60_000, error: 'solution.ts: apply() did not finish within 60 s and was stopped' }] })]),
      fakeGrade('v', [fakeLabGrade({ violations: ['your code: used credentials of another account (123456789012)'] })]),
      fakeGrade('c', [fakeLabGrade({ student: [{ export: 'apply', ok: false, durationMs: 5, error: 'solution.ts:12:5: TypeError: x is undefined' }] })]),
    ]);
    const rows = csv.trimEnd().split('\r\n').slice(1);
    expect(rows[0]).toMatch(/^t,.*,iam: timed out,iam: solution\.ts: apply\(\) did not finish/);
    expect(rows[1]).toMatch(/^v,.*,iam: isolation violation,iam: your code: used credentials of another account/);
    expect(rows[2]).toMatch(/^c,.*,iam: crashed,iam: solution\.ts:12:5: TypeError/);
  });

  it('has one row per student with per-lab scores, total and percent', () => {
    const csv = renderGradebook([fakeGrade('Smith, Jane'), fakeGrade('=cmd', [fakeLabGrade({ error: 'died, "badly"' })])]);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe('student,iam,total,max,percent,status,errors');
    // The fake grade's code threw: that is what happened to it.
    expect(lines[1]).toBe('"Smith, Jane",20,20,45,44.4,iam: crashed,iam: iam/solution.ts:12:5: TypeError: boom');
    expect(lines[2]).toBe(`'=cmd,20,20,45,44.4,iam: not graded,"iam: died, ""badly"""`);
  });
});

describe('feedback files', () => {
  it('leave hidden checks out entirely', () => {
    const md = renderFeedback(fakeGrade());
    expect(md).not.toContain(SECRET_TITLE);
    expect(md).not.toContain(SECRET_FEEDBACK);
    expect(md).not.toContain('Escalation');
    expect(md).not.toContain('hidden');
    expect(md).toContain('Every person has MFA');
    expect(md).toContain('Leaked key');
    expect(md).toContain('iam/solution.ts:12:5');
    expect(md).toContain('Score: 20 / 45');
  });

  it('get safe file names', () => {
    expect(feedbackFileName('alice')).toBe('alice.md');
    const evil = feedbackFileName('../../etc/passwd');
    expect(evil).not.toMatch(/[/\\]/);
    expect(evil.startsWith('.')).toBe(false);
    expect(feedbackFileName('Jane Smith')).toBe('Jane_Smith.md');
  });
});

describe('text reports', () => {
  it('show students hidden checks only as passed/failed', () => {
    const t = renderLabText(fakeLabGrade(), { audience: 'student' });
    expect(t).not.toContain(SECRET_TITLE);
    expect(t).not.toContain(SECRET_FEEDBACK);
    expect(t).toContain('hidden check: failed');
    expect(t).toContain('apply(): iam/solution.ts:12:5: TypeError: boom');
    expect(t).toContain('Score 20/45');
  });

  it('fit the terminal: long lines break between words, continued under their own text', () => {
    const g = fakeLabGrade();
    const long = 'escalation by dev-team: 6 of 6 attempts got past the controls: attach AdministratorAccess to self; put an inline admin policy on self; create an access key for the administrator';
    g.checks.push({ ...g.checks[0]!, id: 'long', title: 'A developer tries to escalate privileges with a rather long title', kind: 'scenario', passed: false, feedback: long, steps: [] } as never);
    for (const width of [60, 80, 120]) {
      const t = renderLabText(g, { audience: 'instructor', width });
      for (const line of t.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(width);
      // Nothing lost: the words are all there, none cut in two.
      expect(t.replace(/\s+/g, ' ')).toContain(long);
    }
    expect(wrapLine('  word '.repeat(30), 40).every((l) => l.length <= 40)).toBe(true);
    expect(wrapLine('\u001b[1m' + 'x'.repeat(10) + '\u001b[22m', 10)).toHaveLength(1);
  });

  it('show instructors everything', () => {
    const t = renderLabText(fakeLabGrade(), { audience: 'instructor' });
    expect(t).toContain(SECRET_TITLE);
    expect(renderClassText([fakeGrade('alice'), fakeGrade('bob')])).toMatch(/alice\s+20\/45\s+20\/45\s+44\.4/);
  });
});
