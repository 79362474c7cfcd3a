// Lab iam end to end on the real lab cloud: the reference solution, the starter, and defective
// variants of the reference solution, each of which must lose exactly the checks its defect breaks.
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradeLab } from '../../src/engine/grader.ts';
import { findLab, SOLUTIONS_DIR } from '../../src/engine/labs.ts';
import type { LabGrade } from '../../src/engine/types.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
const reference = readFileSync(path.join(SOLUTIONS_DIR, 'iam', 'solution.ts'), 'utf8');

/** A workspace whose iam/solution.ts is the reference with `from` replaced by `to`. */
function variant(from: string, to: string): string {
  expect(reference).toContain(from);
  const ws = mkdtempSync(path.join(os.tmpdir(), 'seclab-iam-'));
  mkdirSync(path.join(ws, 'iam'));
  writeFileSync(path.join(ws, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  writeFileSync(path.join(ws, 'iam', 'solution.ts'), reference.replace(from, to));
  return ws;
}

const failed = (g: LabGrade) => [...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => c.id).sort();

async function grade(workspace: string, timeoutMs?: number): Promise<LabGrade> {
  return gradeLab(cloud(), await findLab('iam'), { workspace, timeoutMs });
}

describe('lab iam', () => {
  it('gives the reference solution full marks, every attack blocked', async () => {
    const g = await grade(SOLUTIONS_DIR);
    expect(failed(g)).toEqual([]);
    expect(g.score).toBe(g.maxScore);
    expect(g.scenarios.every((s) => s.blocked && s.businessIntact)).toBe(true);
    expect(g.scenarios.length).toBe(4);
  });

  it('gives the untouched starter at most 10 %', async () => {
    const lab = await findLab('iam');
    const g = await grade(path.dirname(lab.starter + '/iam'));
    expect(g.student.every((r) => r.ok)).toBe(true);
    expect(g.score / g.maxScore).toBeLessThanOrEqual(0.1);
    expect(g.scenarios.some((s) => s.blocked)).toBe(false);
  });

  it('MFA not enforced: loses the enforcement check and the attacks it stops', async () => {
    const g = await grade(variant('    await iam.send(new AttachGroupPolicyCommand({ GroupName: group, PolicyArn: requireMfa.Policy!.Arn! }));\n', ''));
    expect(failed(g)).toEqual(['mfa-enforced', 'stolen-developer-key', 'wrong-mfa']);
  });

  it("a wildcard left on the analyst: loses the least-privilege checks", async () => {
    const g = await grade(variant("    for (const policyName of (await iam.send(new ListUserPoliciesCommand({ UserName: p.name }))).PolicyNames ?? []) {\n      await iam.send(new DeleteUserPolicyCommand({ UserName: p.name, PolicyName: policyName }));\n    }\n", ''));
    expect(failed(g)).toEqual(['customer-data-restricted', 'least-privilege-analyst', 'no-wildcard-grants']);
  });

  it('the shared key still active: loses its retirement and the leaked-key attack', async () => {
    const g = await grade(variant('  const shared = env.sharedUser;', '  const shared = env.sharedUser;\n  return;'));
    expect(failed(g)).toEqual(['customer-data-restricted', 'leaked-shared-key', 'no-wildcard-grants', 'shared-credential-retired']);
  });

  it('a deny-everything policy breaks the business and earns no restrictive or attack points', async () => {
    const g = await grade(variant(
      "        Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } },",
      '',
    ));
    expect(g.checks.filter((c) => c.kind === 'business').every((c) => !c.passed)).toBe(true);
    expect(g.scenarios.every((s) => s.points === 0 && s.businessIntact === false)).toBe(true);
    for (const id of ['mfa-enforced', 'least-privilege-analyst', 'no-wildcard-grants', 'customer-data-restricted']) {
      expect(g.checks.find((c) => c.id === id)!.points).toBe(0);
    }
    expect(g.score).toBeLessThanOrEqual(40);
  });

  it('reports a solution that throws with its file and line, and still grades the rest', async () => {
    const g = await grade(variant('  const b = env.buckets;', "  const b = env.buckets;\n  throw new Error('boom');"));
    const run = g.student.find((r) => r.export === 'apply')!;
    expect(run.ok).toBe(false);
    expect(run.error).toMatch(/solution\.ts:\d+:\d+: Error: boom/);
    expect(g.checks.find((c) => c.id === 'audit-users-without-mfa')!.passed).toBe(true);
  });

  it('stops a solution that hangs, with a clear message', async () => {
    const g = await grade(variant('  const b = env.buckets;', '  const b = env.buckets;\n  await new Promise(() => {});'), 3000);
    const run = g.student.find((r) => r.export === 'apply')!;
    expect(run.ok).toBe(false);
    expect(run.error).toContain('did not finish within 3 s');
  });

  it('reports a solution that does not compile, pointing at the file and line', async () => {
    const g = await grade(variant('export async function apply(', 'export async function apply(((('));
    expect(g.student.every((r) => !r.ok)).toBe(true);
    expect(g.student[0]!.error).toMatch(/solution\.ts(:\d+:\d+)?: does not compile/);
    expect(g.score).toBe(0);
  });
});
