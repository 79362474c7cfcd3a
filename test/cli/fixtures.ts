// Fake grades and labs for the CLI tests: no lab cloud involved.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import type { CheckGrade, Grade, Lab, LabGrade } from '../../src/engine/types.ts';
import { buildGrade } from '../../src/engine/report/record.ts';

const made: string[] = [];
// Registered by every test file that imports these fixtures: its temporary folders go with it.
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

export function tmpDir(prefix = 'seclab-cli-'): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

export const SECRET_TITLE = 'Secret wildcard check';
export const SECRET_FEEDBACK = 'the hidden feedback text';

export function fakeLabGrade(over: Partial<LabGrade> = {}): LabGrade {
  const checks: CheckGrade[] = [
    { id: 'users-mfa', title: 'Every person has MFA', kind: 'posture', passed: true, points: 10, maxPoints: 10, hidden: false, feedback: 'all good', task: 'mfa' },
    { id: 'least', title: 'Least privilege <for> "dan" & co', kind: 'posture', passed: false, points: 0, maxPoints: 10, hidden: false, feedback: 'dan may still: s3:*, "iam:*" & <more>\u001b[31m', task: 'least-privilege' },
    { id: 'wild', title: SECRET_TITLE, kind: 'posture', passed: false, points: 0, maxPoints: 5, hidden: true, feedback: SECRET_FEEDBACK, task: 'least-privilege' },
    { id: 'deploy', title: 'Developers can deploy', kind: 'business', passed: true, points: 0, maxPoints: 0, hidden: false, feedback: 'deployed' },
  ];
  const scenarios: CheckGrade[] = [
    {
      id: 'leaked-key', title: 'Leaked key', kind: 'scenario', passed: true, points: 10, maxPoints: 10, hidden: false, feedback: 'all 2 attempts were refused',
      detected: true, blocked: true, businessIntact: true, timeToDetectMs: 1200, timeToRespondMs: null, techniques: ['T1078.004'],
      steps: [{ description: 'list buckets', allowed: false, errorCode: 'AccessDenied', at: 1 }, { description: 'read data', allowed: false, errorCode: 'AccessDenied', at: 2 }],
    },
    {
      id: 'escalation', title: 'Escalation', kind: 'scenario', passed: false, points: 0, maxPoints: 10, hidden: true, feedback: 'hidden scenario feedback',
      detected: false, blocked: false, businessIntact: true, timeToDetectMs: null, timeToRespondMs: null, techniques: ['T1098'],
      steps: [{ description: 'attach admin', allowed: true, at: 3 }],
    },
  ];
  return {
    id: 'iam', title: 'Identity and access management', score: 20, maxScore: 45, passed: false, checks, scenarios,
    student: [{ export: 'audit', ok: true, durationMs: 12 }, { export: 'apply', ok: false, durationMs: 3, error: 'iam/solution.ts:12:5: TypeError: boom' }],
    accountId: '123456789012', durationMs: 1500, ...over,
  };
}

export function fakeGrade(student = 'alice', labs: LabGrade[] = [fakeLabGrade()]): Grade {
  return buildGrade({ student, workspace: `/class/${student}`, target: 'moto', version: '0.1.0', startedAt: '2025-01-02T03:04:05.000Z', labs });
}

/** A lab whose starter is a temporary folder (layout starter/<id>/solution.ts). */
export function fakeLab(id = 'demo', root = tmpDir('seclab-lab-')): Lab {
  const starter = path.join(root, 'starter');
  mkdirSync(path.join(starter, id), { recursive: true });
  writeFileSync(path.join(starter, id, 'solution.ts'), `// starter of ${id}\nexport async function apply() {}\n`);
  return {
    id, slide: 99, title: `Demo lab ${id}`, summary: 'A lab for tests.', objectives: ['test'], workbook: path.join(root, 'workbook.md'), starter,
    tasks: [
      { id: 'one', title: 'Task one', hints: ['one-a', 'one-b'] },
      { id: 'two', title: 'Task two', hints: ['two-a'] },
    ],
    provision: async () => ({}), studentSteps: [{ export: 'apply' }], checks: [], scenarios: [],
  };
}
