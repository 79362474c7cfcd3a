// "Legitimate work is broken" must agree with the checks. A scenario may find legitimate work refused
// during its attack (the network lab's company traffic) while every legitimate-work check passes
// before and after the attacks: the grade then says which attack, the legitimate-work section of every
// report shows it as a failed line, and nothing points at business checks that all passed. Graded on
// the real lab cloud with a small lab made for the test.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gradeLab } from '../../src/engine/grader.ts';
import type { AttackStep, Check, Lab, LabGrade, Scenario } from '../../src/engine/types.ts';
import { renderLabText } from '../../src/engine/report/text.ts';
import { renderFeedback } from '../../src/engine/report/feedback.ts';
import { renderHtmlReport } from '../../src/engine/report/html.ts';
import { toGradescope } from '../../src/engine/report/gradescope.ts';
import { buildGrade, redactLab } from '../../src/engine/report/record.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
const workspace = mkdtempSync(path.join(os.tmpdir(), 'seclab-business-broken-'));
afterAll(() => rmSync(workspace, { recursive: true, force: true }));

const refused = (session: { now(): number }, description: string): AttackStep => ({ description, allowed: false, errorCode: 'AccessDenied', at: session.now() });

function scenario(id: string, title: string, opts: { collateral?: boolean; hidden?: boolean } = {}): Scenario {
  return {
    id, title, description: title, techniques: ['T1078'], points: { blocked: 5 }, hidden: opts.hidden,
    async inject(session) {
      return [refused(session, `${id}: step`)];
    },
    async observe(session, steps) {
      // What the network lab's scenarios do when the company's own traffic was refused during the attack.
      if (opts.collateral) session.businessBroken = true;
      return {
        blocked: true, detected: false, steps, evidence: [],
        feedback: opts.collateral ? 'blocked; legitimate traffic was refused during the attack: 3 of 40 requests of the web tier' : 'blocked',
      };
    },
  };
}

function testLab(opts: { hiddenCollateral?: boolean; businessFails?: boolean } = {}): Lab {
  const checks: Check[] = [
    { id: 'deploy', title: 'Developers can deploy', kind: 'business', points: 0, run: async () => ({ passed: !opts.businessFails, feedback: opts.businessFails ? 'deploy refused' : 'deployed' }) },
    { id: 'strict', title: 'A strict control', kind: 'posture', points: 5, restrictive: true, task: 't', run: async () => ({ passed: true, feedback: 'in place' }) },
    { id: 'plain', title: 'A plain control', kind: 'posture', points: 5, task: 't', run: async () => ({ passed: true, feedback: 'in place' }) },
  ];
  return {
    id: 'brokenlab', slide: 99, title: 'Business broken', summary: '', objectives: [], workbook: '', starter: '', tasks: [{ id: 't', title: 'T', hints: [] }],
    provision: async () => ({}), studentSteps: [], checks,
    scenarios: [scenario('first', 'First attack'), scenario('collateral', 'The noisy attack', { collateral: true, hidden: opts.hiddenCollateral }), scenario('later', 'Later attack')],
  };
}

const grade = (lab: Lab): Promise<LabGrade> => gradeLab(cloud(), lab, { workspace, skipStudentCode: true, seed: 'business-broken' });
const find = (g: LabGrade, id: string) => g.checks.find((c) => c.id === id) ?? g.scenarios.find((c) => c.id === id)!;

describe('legitimate work refused during an attack', () => {
  it('is named in the grade, and every message says so instead of pointing at passing checks', async () => {
    const g = await grade(testLab());
    expect(g.error).toBeUndefined();
    expect(find(g, 'deploy').passed).toBe(true);
    expect(g.businessBroken).toBe('legitimate work was refused during the attack "The noisy attack"');
    const strict = find(g, 'strict');
    expect(strict.points).toBe(0);
    expect(strict.feedback).toBe('in place — but legitimate work is broken (legitimate work was refused during the attack "The noisy attack"), so this control earns nothing');
    expect(find(g, 'plain').points).toBe(5);
    for (const id of ['first', 'collateral', 'later']) {
      const s = find(g, id);
      expect(s.points, id).toBe(0);
      expect(s.businessIntact).toBe(false);
      expect(s.feedback).toContain('legitimate work is broken (legitimate work was refused during the attack "The noisy attack"), so this attack earns nothing');
    }
    const all = [...g.checks, ...g.scenarios].map((c) => c.feedback).join('\n');
    expect(all).not.toContain('see the business checks');
    expect(all).not.toContain('see the legitimate-work checks');

    // The reports: the legitimate-work section shows a failed line, not only ✔.
    const text = renderLabText(g, { audience: 'student' });
    const section = text.slice(text.indexOf('Legitimate work'), text.indexOf('Controls'));
    expect(section).toContain('✔        Developers can deploy');
    expect(section).toContain('✘        legitimate work was refused during the attack "The noisy attack"');
    expect(section).toContain('! Something legitimate is broken');
    const md = renderFeedback(buildGrade({ student: 's', workspace, target: 'moto', version: 't', startedAt: new Date(0), labs: [g] }));
    expect(md).toContain('- ✘ **legitimate work was refused during the attack "The noisy attack"**');
    const record = buildGrade({ student: 's', workspace, target: 'moto', version: 't', startedAt: new Date(0), labs: [g] });
    expect(toGradescope(record).output).toContain('brokenlab: legitimate work is broken (legitimate work was refused during the attack "The noisy attack")');
    const html = renderHtmlReport([record]);
    expect(html).toContain('<li class="check business-broken" data-passed="false"><span class="ko" title="failed">✘</span> <b>legitimate work was refused during the attack &quot;The noisy attack&quot;</b></li>');
  });

  it('does not name a hidden attack', async () => {
    const g = await grade(testLab({ hiddenCollateral: true }));
    expect(g.businessBroken).toBe('legitimate work was refused during a hidden attack');
    expect(find(g, 'strict').feedback).toContain('(legitimate work was refused during a hidden attack)');
    const student = renderLabText(redactLab(g), { audience: 'student' }) + renderLabText(g, { audience: 'student' });
    expect(student).not.toContain('The noisy attack');
    expect(student).toContain('✘        legitimate work was refused during a hidden attack');
  });

  it('names the failed legitimate-work check when that is the reason, without an extra line', async () => {
    const g = await grade(testLab({ businessFails: true }));
    expect(find(g, 'deploy').passed).toBe(false);
    // Broken from the start: the attack that refused legitimate work adds nothing new.
    expect(g.businessBroken).toBe('"Developers can deploy" failed');
    expect(find(g, 'strict').feedback).toBe('in place — but legitimate work is broken ("Developers can deploy" failed), so this control earns nothing');
    const text = renderLabText(g, { audience: 'student' });
    const section = text.slice(text.indexOf('Legitimate work'), text.indexOf('Controls'));
    expect(section).toContain('✘        Developers can deploy');
    expect(section.match(/✘/g)).toHaveLength(1);
  });

  it('leaves a grade with nothing broken as it was', async () => {
    const lab = testLab();
    lab.scenarios = lab.scenarios.filter((s) => s.id !== 'collateral');
    const g = await grade(lab);
    expect(g.businessBroken).toBeUndefined();
    expect(g.score).toBe(20);
    expect(renderLabText(g, { audience: 'student' })).not.toContain('Something legitimate is broken');
  });
});
