// Lab advanced-ledger end to end on the real lab cloud: the reference solution (solutions/advanced-ledger)
// gets full marks — every event of the quiet period in the ledger in time, the key refused to ops-admin,
// the witness cosigning and refusing an inconsistent checkpoint, the anchors undeletable, a clean audit,
// and every attack detected (and blocked where AWS can block it) — and the untouched starter at most 10 %.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradeLab } from '../../src/engine/grader.ts';
import { findLab, SOLUTIONS_DIR } from '../../src/engine/labs.ts';
import type { LabGrade } from '../../src/engine/types.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();

// LEDGER_TEST_SCENARIOS=none (or a comma-separated list of ids) grades only those attacks, when debugging.
const only = process.env['LEDGER_TEST_SCENARIOS'];
const picked = only === undefined ? undefined : only === 'none' ? [] : only.split(',');

async function grade(workspace: string, scenarios = picked): Promise<LabGrade> {
  return gradeLab(cloud(), await findLab('advanced-ledger'), { workspace, seed: 'advanced-ledger-test', ...(scenarios ? { scenarios } : {}) });
}

const failed = (g: LabGrade) => [...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => c.id).sort();
const detail = (g: LabGrade) => [...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => `${c.id} (${c.points}/${c.maxPoints}): ${c.feedback}`).join('\n');
const lines = (g: LabGrade) => [...g.checks, ...g.scenarios].map((c) => `${c.id}: ${c.points}/${c.maxPoints} ${c.kind === 'scenario' ? `detected=${c.detected} blocked=${c.blocked} ` : ''}| ${c.feedback}`).join('\n');

describe('lab advanced-ledger', () => {
  it('gives the reference solution full marks', async () => {
    const started = Date.now();
    const g = await grade(SOLUTIONS_DIR);
    console.log(`reference ${g.score}/${g.maxScore} in ${Math.round((Date.now() - started) / 1000)} s\n${lines(g)}\n${JSON.stringify(g.student)}`);
    expect(g.student.every((r) => r.ok), JSON.stringify(g.student)).toBe(true);
    if (!picked) expect(g.maxScore).toBe(100);
    expect(failed(g), detail(g)).toEqual([]);
    if (!picked) expect(g.score, detail(g)).toBe(g.maxScore);
  }, 1_800_000);

  it('gives the untouched starter at most 10 %', async () => {
    const ws = mkdtempSync(path.join(os.tmpdir(), 'seclab-advanced-ledger-starter-'));
    writeFileSync(path.join(ws, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
    cpSync((await findLab('advanced-ledger')).starter, ws, { recursive: true });
    const started = Date.now();
    const g = await grade(ws);
    console.log(`starter ${g.score}/${g.maxScore} in ${Math.round((Date.now() - started) / 1000)} s\n${lines(g)}`);
    expect(g.student.every((r) => r.ok), JSON.stringify(g.student)).toBe(true);
    expect(g.score / g.maxScore, detail(g)).toBeLessThanOrEqual(0.1);
  }, 1_800_000);

  it('judges behaviour: a key policy that delegates kms:* to the account, a witness that forgets, GOVERNANCE anchors each lose their checks', async () => {
    // The reference with three defects a configuration check could miss: the key policy gives the
    // account's root kms:* (so ops-admin's AdministratorAccess may Sign), the witness keeps its state in
    // memory (a fresh process per invocation forgets what it cosigned: it answers 409 "0", then cosigns
    // anything), and the anchors' default retention is GOVERNANCE (the root bypasses it).
    const ws = mkdtempSync(path.join(os.tmpdir(), 'seclab-advanced-ledger-defects-'));
    writeFileSync(path.join(ws, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
    cpSync(path.join(SOLUTIONS_DIR, 'advanced-ledger'), path.join(ws, 'advanced-ledger'), { recursive: true });
    const file = path.join(ws, 'advanced-ledger', 'solution.ts');
    const src = readFileSync(file, 'utf8');
    const patched = src
      .replace("Action: ['kms:DescribeKey', 'kms:GetPublicKey', 'kms:GetKeyPolicy', 'kms:ListResourceTags', 'kms:Verify', 'kms:CreateAlias']", "Action: 'kms:*'")
      .replace("{ Sid: 'Immutable', Effect: 'Deny', Principal: { AWS: '*' }, Action: ['kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:CreateGrant', 'kms:UpdateAlias', 'kms:DeleteAlias'], Resource: '*' },", '')
      .replace("ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: ANCHOR_RETENTION_DAYS } } },\n  }));\n\n  // The ledger bucket", "ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: ANCHOR_RETENTION_DAYS } } },\n  }));\n\n  // The ledger bucket");
    expect(patched.match(/GOVERNANCE/g)?.length, 'the anchors patch applies').toBe(1);
    expect(patched).toContain("Action: 'kms:*'");
    expect(patched).not.toContain("Sid: 'Immutable'");
    writeFileSync(file, patched);
    const witness = path.join(ws, 'advanced-ledger', 'witness', 'index.mjs');
    const w = readFileSync(witness, 'utf8').replace("store: new S3Store({ client: new S3Client({ forcePathStyle: true }), bucket: env.STATE_BUCKET, prefix: 'witness/' }),", 'store: new MemoryStore(),').replace('import { S3Store, Witness, witnessHandler }', 'import { MemoryStore, S3Store, Witness, witnessHandler }');
    expect(w).toContain('new MemoryStore()');
    writeFileSync(witness, w);
    const g = await grade(ws, []);
    console.log(`defects ${g.score}/${g.maxScore}\n${lines(g)}`);
    expect(g.student.every((r) => r.ok), JSON.stringify(g.student)).toBe(true);
    expect(failed(g), detail(g)).toEqual(['anchor-locked', 'audit-clean', 'signing-admin-refused', 'witness-cosigned', 'witness-refuses']);
    expect(g.checks.find((c) => c.id === 'signing-admin-refused')!.feedback).toMatch(/could Sign/);
    expect(g.checks.find((c) => c.id === 'anchor-locked')!.feedback).toMatch(/root deleted the anchor version/);
  }, 1_800_000);
});
