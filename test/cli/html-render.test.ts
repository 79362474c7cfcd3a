// The HTML class report without a browser: escaping of every field a submission can reach, the
// page's one script allowed by hash, degenerate classes, and the statistics it is drawn from.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { classStats, htmlEscape, renderHtmlReport } from '../../src/engine/report/html.ts';
import type { Grade } from '../../src/engine/types.ts';
import { fakeGrade, fakeLabGrade, SECRET_TITLE } from './fixtures.ts';

const EVIL = '<script>alert(1)</script>"\'&<img src=x onerror=alert(2)>\u001b[31m';

function evilGrade(): Grade {
  const lab = fakeLabGrade({
    status: 'isolation violation', statusDetail: EVIL, violations: [EVIL], error: EVIL, businessBroken: EVIL,
    student: [{ export: 'apply', ok: false, durationMs: 1, error: EVIL }],
  });
  lab.checks = lab.checks.map((c) => ({ ...c, feedback: EVIL, title: `${c.title} ${EVIL}`, id: `${c.id}${EVIL}`, task: EVIL }));
  lab.scenarios = lab.scenarios.map((c) => ({ ...c, feedback: EVIL, techniques: [EVIL], steps: c.steps!.map((s) => ({ ...s, description: EVIL, errorCode: EVIL })) }));
  return { ...fakeGrade(EVIL, [lab]), seed: EVIL, workspace: EVIL, target: EVIL, version: EVIL, startedAt: EVIL };
}

describe('the HTML class report (rendering)', () => {
  it('escapes everything a submission can put in a record', () => {
    const html = renderHtmlReport([evilGrade(), fakeGrade('bob')]);
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('\u001b');
    expect(html.match(/<script\b/g)).toHaveLength(1);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;&lt;img src=x onerror=alert(2)&gt;\\x1b[31m');
    // Element ids are indexes, never names.
    expect([...html.matchAll(/\sid="([^"]*)"/g)].map((m) => m[1]).every((id) => /^[a-z0-9-]+$/.test(id!))).toBe(true);
  });

  it('allows its own script by hash and nothing else', () => {
    const html = renderHtmlReport([fakeGrade('alice')]);
    const script = html.match(/<script>([\s\S]*?)<\/script>/)![1]!;
    const hash = createHash('sha256').update(script, 'utf8').digest('base64');
    expect(html).toContain(`script-src 'sha256-${hash}'`);
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//);
  });

  it('marks hidden checks for the instructor', () => {
    const html = renderHtmlReport([fakeGrade('alice')]);
    expect(html).toContain(SECRET_TITLE);
    expect(html).toMatch(/<li class="check is-hidden" data-check="wild" data-passed="false">.*<span class="badge hidden"/);
  });

  it('renders an empty class and a lab that could not be graded', () => {
    expect(renderHtmlReport([])).toContain('<span class="big" data-stat="students">0</span>');
    const errored = fakeGrade('carol', [{ ...fakeLabGrade(), checks: [], scenarios: [], student: [], error: 'the lab cloud died', status: 'not graded', score: 0, passed: false }]);
    const html = renderHtmlReport([errored, fakeGrade('dave')]);
    expect(html).toContain('This lab could not be graded:</b> the lab cloud died');
    expect(html).toMatch(/data-stat="status-count" data-status="not graded" data-lab="iam">1</);
  });

  it('counts rates over the students graded on each check', () => {
    const a = fakeGrade('a');
    const b = fakeGrade('b', [fakeLabGrade({ checks: fakeLabGrade().checks.map((c) => ({ ...c, passed: true })) })]);
    const st = classStats([a, b]);
    expect(st.students).toBe(2);
    expect(st.checks.find((c) => c.id === 'least')).toMatchObject({ passed: 1, of: 2 });
    expect(st.checks.find((c) => c.id === 'users-mfa')).toMatchObject({ passed: 2, of: 2 });
    expect(st.attacks.find((c) => c.id === 'leaked-key')).toMatchObject({ blocked: 2, detected: 2, of: 2, ttd: [1200, 1200] });
    expect(st.tasks.find((t) => t.task === 'least-privilege')).toMatchObject({ passed: 1, of: 2 });
    expect(st.medianPercent).toBe(a.percent);
  });

  it('escapes for HTML', () => {
    expect(htmlEscape('a<b>&"\'')).toBe('a&lt;b&gt;&amp;&quot;&#39;');
    expect(htmlEscape('\u0000x\ud800')).toBe('\\x00x\uFFFD');
    expect(htmlEscape('😀')).toBe('😀');
  });
});
