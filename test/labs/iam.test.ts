// Lab iam end to end on the real lab cloud: the reference solution, the starter, and defective
// variants of the reference solution, each of which must lose exactly the checks its defect breaks.
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradeLab, provisionLab } from '../../src/engine/grader.ts';
import { findLab, SOLUTIONS_DIR } from '../../src/engine/labs.ts';
import type { LabGrade } from '../../src/engine/types.ts';
import { useLabCloud } from '../helpers/cloud.ts';
import { ANALYST, SHARED_USER } from '../../labs/iam/company.ts';

const { cloud } = useLabCloud();
const reference = readFileSync(path.join(SOLUTIONS_DIR, 'iam', 'solution.ts'), 'utf8');

/** A workspace whose iam/solution.ts is the reference with each `from` replaced by its `to`. */
function variant(...edits: [from: string, to: string][]): string {
  let text = reference;
  for (const [from, to] of edits) {
    expect(text).toContain(from);
    text = text.replace(from, to);
  }
  const ws = mkdtempSync(path.join(os.tmpdir(), 'seclab-iam-'));
  mkdirSync(path.join(ws, 'iam'));
  writeFileSync(path.join(ws, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  writeFileSync(path.join(ws, 'iam', 'solution.ts'), text);
  return ws;
}

const DELETE_INLINE = "    for (const policyName of (await iam.send(new ListUserPoliciesCommand({ UserName: p.name }))).PolicyNames ?? []) {\n      await iam.send(new DeleteUserPolicyCommand({ UserName: p.name, PolicyName: policyName }));\n    }\n";
const DEVELOPERS_GRANT = "developers: [{ Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'], Resource: `arn:aws:s3:::${b.artifacts}/*` }";
const ANALYSTS_GRANT = "analysts: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b.reports}/*` }";

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
    expect(g.scenarios.length).toBe(5);
    expect(g.maxScore).toBe(100);
  });

  it('gives the untouched starter at most 10 %', async () => {
    const lab = await findLab('iam');
    const g = await grade(path.dirname(lab.starter + '/iam'));
    expect(g.student.every((r) => r.ok)).toBe(true);
    expect(g.score / g.maxScore).toBeLessThanOrEqual(0.1);
    expect(g.scenarios.some((s) => s.blocked)).toBe(false);
  });

  it('MFA not enforced: loses the enforcement check and the attacks it stops', async () => {
    const g = await grade(variant(['    await iam.send(new AttachGroupPolicyCommand({ GroupName: group, PolicyArn: requireMfa.Policy!.Arn! }));\n', '']));
    expect(failed(g)).toEqual(['mfa-enforced', 'stolen-developer-key', 'wrong-mfa']);
  });

  it("a wildcard left on the analyst: loses the least-privilege checks", async () => {
    const g = await grade(variant([DELETE_INLINE, '']));
    expect(failed(g)).toEqual(['customer-data-restricted', 'least-privilege-analyst', 'no-wildcard-grants']);
  });

  it('the shared key still active: loses its retirement and the leaked-key attack', async () => {
    const g = await grade(variant(['  const shared = env.sharedUser;', '  const shared = env.sharedUser;\n  return;']));
    expect(failed(g)).toEqual(['customer-data-restricted', 'leaked-shared-key', 'no-wildcard-grants', 'shared-credential-retired']);
  });

  // ---- seeded defects: each loses exactly the checks and attacks its defect is about ----

  it('developers may delete releases: loses developer least privilege and the stolen-session attack', async () => {
    const g = await grade(variant([DEVELOPERS_GRANT, DEVELOPERS_GRANT.replace("'s3:GetObject']", "'s3:GetObject', 's3:DeleteObject']")]));
    expect(failed(g)).toEqual(['least-privilege-developers', 'stolen-mfa-session']);
    expect(g.checks.find((c) => c.id === 'least-privilege-developers')!.feedback).toContain('s3:DeleteObject');
  });

  it('developers may read and write every bucket: loses developer least privilege, customer data and the stolen-session attack', async () => {
    const g = await grade(variant([DEVELOPERS_GRANT, DEVELOPERS_GRANT.replace('${b.artifacts}/*', '*/*')]));
    expect(failed(g)).toEqual(['customer-data-restricted', 'least-privilege-developers', 'stolen-mfa-session']);
  });

  it('the analyst may delete reports: loses the analyst\'s least privilege only', async () => {
    const g = await grade(variant([ANALYSTS_GRANT, ANALYSTS_GRANT.replace("Action: 's3:GetObject'", "Action: ['s3:GetObject', 's3:DeleteObject']")]));
    expect(failed(g)).toEqual(['least-privilege-analyst']);
  });

  it('an audit that reports every outside address with an error: loses the outside-address audit only', async () => {
    const g = await grade(variant(['      if (REFUSED.has(e.errorCode) && !inOffice(', '      if (e.errorCode && !inOffice(']));
    expect(failed(g)).toEqual(['audit-rogue-ip']);
    expect(g.checks.find((c) => c.id === 'audit-rogue-ip')!.feedback).toContain("colleague's ordinary work");
  });

  it('an audit calling any key used from two addresses shared: loses the shared-credential audit only', async () => {
    const g = await grade(variant([
      "    const inOfficeMachines = [...machines].filter((m) => inOffice(m.split(' ')[0]!, env.officeCidr));\n    return new Set(inOfficeMachines).size > 1",
      "    return new Set([...machines].map((m) => m.split(' ')[0])).size > 1",
    ]));
    expect(failed(g)).toEqual(['audit-shared-credential']);
  });

  // ---- honest alternatives: full marks ----

  it('an audit naming things by ARN, access key id, user/policy and /32 gets full marks', async () => {
    const g = await grade(variant(
      ['overBroadPolicies.push(policyName);', 'overBroadPolicies.push(`${name}/${policyName}`);'],
      ['  }).map(([key]) => userByKey.get(key)!);', '  }).map(([key]) => key);'],
      ['    usersWithoutMfa: usersWithoutMfa.sort(),', '    usersWithoutMfa: usersWithoutMfa.map((n) => users.find((u) => u.UserName === n)!.Arn!),'],
      ['    suspiciousSourceIps: [...suspicious],', '    suspiciousSourceIps: [...suspicious].map((ip) => `${ip}/32`),'],
    ));
    expect(failed(g)).toEqual([]);
    expect(g.score).toBe(g.maxScore);
  });

  it('a shared user kept with its policy but without keys is retired: full marks', async () => {
    const g = await grade(variant(
      ['    await iam.send(new DeleteAccessKeyCommand({ UserName: shared, AccessKeyId: k.AccessKeyId! }));\n', ''],
      ['  await iam.send(new DeleteUserCommand({ UserName: shared }));', ''],
      ['  for (const policyName of (await iam.send(new ListUserPoliciesCommand({ UserName: shared }))).PolicyNames ?? []) {', '  for (const policyName of [] as string[]) {'],
    ));
    expect(failed(g)).toEqual([]);
    expect(g.score).toBe(g.maxScore);
  });

  it("a permissions boundary capping the analyst's wildcard policy is least privilege: full marks", async () => {
    // The boundary lives in the gateway only (moto lacks user permission boundaries).
    const g = await grade(variant(
      ['  ListAccessKeysCommand,', '  ListAccessKeysCommand, PutUserPermissionsBoundaryCommand,'],
      [DELETE_INLINE, `    if (p.role === 'analyst') {
      const boundary = await iam.send(new CreatePolicyCommand({ PolicyName: 'AnalystBoundary', PolicyDocument: doc(groups.analysts as object[]) }));
      await iam.send(new PutUserPermissionsBoundaryCommand({ UserName: p.name, PermissionsBoundary: boundary.Policy!.Arn! }));
    } else {
${DELETE_INLINE.replace(/^/gm, '  ').trimEnd()}
    }
`],
    ));
    expect(failed(g)).toEqual([]);
    expect(g.score).toBe(g.maxScore);
  });

  // ---- posture checks read what the gateway enforces, not moto behind its back ----

  it('a shared key deactivated in moto only still fails its check, and the leaked key still works', async () => {
    const lab = await findLab('iam');
    const session = await provisionLab(cloud(), lab);
    const key = session.keysOf(SHARED_USER)[0]!;
    // Straight to moto, bypassing the gateway (and its key store).
    await cloud().gateway.upstream.json(session.accountId, 'iam', 'UpdateAccessKey', { UserName: SHARED_USER, AccessKeyId: key.accessKeyId, Status: 'Inactive' });
    const listed = await cloud().gateway.upstream.json<{ AccessKeyMetadata?: { Status?: string }[] }>(session.accountId, 'iam', 'ListAccessKeys', { UserName: SHARED_USER });
    expect(listed.AccessKeyMetadata!.map((k) => k.Status)).toEqual(['Inactive']);

    const check = lab.checks.find((c) => c.id === 'shared-credential-retired')!;
    const out = await check.run(session);
    expect(out.passed).toBe(false);
    expect(out.feedback).toContain('1 active access key');

    const scenario = lab.scenarios.find((x) => x.id === 'leaked-shared-key')!;
    const state = await scenario.prepare!(session);
    const steps = await scenario.inject(session, state);
    const result = await scenario.observe(session, steps, state);
    expect(result.blocked).toBe(false);
    expect(steps.find((x) => x.description === 'read customer data')!.allowed).toBe(true);
  });

  it('an MFA device enabled in moto only (no code checked) does not count', async () => {
    const lab = await findLab('iam');
    const session = await provisionLab(cloud(), lab);
    const up = cloud().gateway.upstream;
    const device = await up.json<{ VirtualMFADevice?: { SerialNumber?: string } }>(session.accountId, 'iam', 'CreateVirtualMFADevice', { VirtualMFADeviceName: ANALYST });
    await up.json(session.accountId, 'iam', 'EnableMFADevice', { UserName: ANALYST, SerialNumber: device.VirtualMFADevice!.SerialNumber!, AuthenticationCode1: '123456', AuthenticationCode2: '654321' });
    const listed = await up.json<{ MFADevices?: unknown[] }>(session.accountId, 'iam', 'ListMFADevices', { UserName: ANALYST });
    expect(listed.MFADevices!.length).toBe(1);
    const out = await lab.checks.find((c) => c.id === 'mfa-enabled')!.run(session);
    expect(out.passed).toBe(false);
    expect(out.feedback).toContain(ANALYST);
  });

  it('a deny-everything policy breaks the business and earns no restrictive or attack points', async () => {
    const g = await grade(variant([
      "        Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } },",
      '',
    ]));
    expect(g.checks.filter((c) => c.kind === 'business').every((c) => !c.passed)).toBe(true);
    expect(g.scenarios.every((s) => s.points === 0 && s.businessIntact === false)).toBe(true);
    for (const id of ['mfa-enforced', 'least-privilege-analyst', 'no-wildcard-grants', 'customer-data-restricted']) {
      expect(g.checks.find((c) => c.id === id)!.points).toBe(0);
    }
    expect(g.score).toBeLessThanOrEqual(40);
  });

  it('reports a solution that throws with its file and line, and still grades the rest', async () => {
    const g = await grade(variant(['  const b = env.buckets;', "  const b = env.buckets;\n  throw new Error('boom');"]));
    const run = g.student.find((r) => r.export === 'apply')!;
    expect(run.ok).toBe(false);
    expect(run.error).toMatch(/solution\.ts:\d+:\d+: Error: boom/);
    expect(g.checks.find((c) => c.id === 'audit-users-without-mfa')!.passed).toBe(true);
  });

  it('stops a solution that hangs, with a clear message', async () => {
    const g = await grade(variant(['  const b = env.buckets;', '  const b = env.buckets;\n  await new Promise(() => {});']), 3000);
    const run = g.student.find((r) => r.export === 'apply')!;
    expect(run.ok).toBe(false);
    expect(run.error).toContain('did not finish within 3 s');
  });

  it('reports a solution that does not compile, pointing at the file and line', async () => {
    const g = await grade(variant(['export async function apply(', 'export async function apply((((']));
    expect(g.student.every((r) => !r.ok)).toBe(true);
    expect(g.student[0]!.error).toMatch(/solution\.ts(:\d+:\d+)?: does not compile/);
    expect(g.score).toBe(0);
  });
});
