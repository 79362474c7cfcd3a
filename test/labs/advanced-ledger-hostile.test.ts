// Lab advanced-ledger against hostile submissions (REVIEW): the reference solution changed so that each
// control passes the grader's probe while protecting nothing an administrator could not undo. Each
// defect below must lose its check (the review of issue 13 found the grader credited all three; fixed:
// the key is also tried as a second administrator from outside the office, the witness is sent checkpoints
// it must never cosign, and ops-admin tries to lift a legal hold before the delete):
// - the key policy delegates kms:* to the account and denies Sign / PutKeyPolicy / ScheduleKeyDeletion
//   to ops-admin BY NAME: the probe (and the ledger-replace-key attack) act only as ops-admin, but an
//   administrator creates another administrator and signs (checks.ts signing-admin-refused);
// - the witness is stateless: it cosigns any log-signed checkpoint sent with an empty consistency
//   proof and answers 422 to any non-empty proof; the feed always asks with old = the new size and no
//   proof. The probe sends a non-empty random proof, which this witness refuses, so it passes
//   (trust.ts probeWitness) although it cosigns forks and rollbacks;
// - the anchors carry a legal hold instead of a COMPLIANCE retention: the root cannot delete them, but
//   ops-admin may lift a legal hold (s3:PutObjectLegalHold) and then delete (checks.ts anchor-locked).
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradeLab } from '../../src/engine/grader.ts';
import { findLab, SOLUTIONS_DIR } from '../../src/engine/labs.ts';
import type { LabGrade } from '../../src/engine/types.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();

const failed = (g: LabGrade) => [...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => c.id).sort();
const lines = (g: LabGrade) => [...g.checks, ...g.scenarios].map((c) => `${c.id}: ${c.points}/${c.maxPoints} | ${c.feedback}`).join('\n');

/** Replaces `from` by `to` in `src`, insisting that it occurs exactly once (the patch must apply). */
function patch(src: string, from: string, to: string): string {
  const n = src.split(from).length - 1;
  if (n !== 1) throw new Error(`the hostile patch does not apply: ${JSON.stringify(from.slice(0, 80))} occurs ${n} times`);
  return src.replace(from, to);
}

// A witness with no state: it checks the log's signature and nothing else; it refuses only requests
// that carry a consistency proof (the grader's probe carries a random one).
const STATELESS_WITNESS = `
import { cosigner, openNote, parseAddCheckpoint, signNote, splitNote, verifierFromVkey } from 'seclab/kit/ledger';
const env = process.env;
const reply = (statusCode, body) => ({ statusCode, headers: { 'content-type': 'text/plain; charset=utf-8' }, body });
export const handler = async (event) => {
  let req;
  try { req = parseAddCheckpoint(event.body); openNote(req.note, [verifierFromVkey(env.LOG_VKEY)]); } catch (e) { return reply(403, String(e.message) + '\\n'); }
  if (req.proof.length) return reply(422, 'bad consistency proof\\n');
  const signed = await signNote(splitNote(req.note).text, [cosigner(env.WITNESS_SKEY, () => Date.now())]);
  return reply(200, signed.slice(signed.lastIndexOf('\\n\\n') + 2));
};
`;

describe('lab advanced-ledger against hostile submissions', () => {
  it('a key policy that denies ops-admin by name, a stateless witness and legal-hold anchors each lose their check', async () => {
    const ws = mkdtempSync(path.join(os.tmpdir(), 'seclab-advanced-ledger-hostile-'));
    writeFileSync(path.join(ws, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
    cpSync(path.join(SOLUTIONS_DIR, 'advanced-ledger'), path.join(ws, 'advanced-ledger'), { recursive: true });
    const dir = path.join(ws, 'advanced-ledger');

    let sol = readFileSync(path.join(dir, 'solution.ts'), 'utf8');
    // The account may do anything with the key; only the user named ops-admin is refused.
    sol = patch(sol, "Action: ['kms:DescribeKey', 'kms:GetPublicKey', 'kms:GetKeyPolicy', 'kms:ListResourceTags', 'kms:Verify', 'kms:CreateAlias']", "Action: 'kms:*'");
    sol = patch(sol, "{ Sid: 'Immutable', Effect: 'Deny', Principal: { AWS: '*' }, Action: ['kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:CreateGrant', 'kms:UpdateAlias', 'kms:DeleteAlias'], Resource: '*' },",
      "{ Sid: 'NotOpsAdmin', Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${accountId}:user/ops-admin` }, Action: ['kms:Sign', 'kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion'], Resource: '*' },");
    // Anchors: Object Lock enabled without a default retention (the feed sets a legal hold instead).
    sol = patch(sol, "ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: ANCHOR_RETENTION_DAYS } } },\n  }));\n\n  // The ledger bucket",
      "ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' },\n  }));\n\n  // The ledger bucket");
    sol = patch(sol, "{ Effect: 'Allow', Action: 's3:PutObject', Resource: `arn:aws:s3:::${anchorBucket}/${ANCHOR_PREFIX}*` },",
      "{ Effect: 'Allow', Action: ['s3:PutObject', 's3:PutObjectLegalHold'], Resource: `arn:aws:s3:::${anchorBucket}/${ANCHOR_PREFIX}*` },");
    writeFileSync(path.join(dir, 'solution.ts'), sol);

    let feed = readFileSync(path.join(dir, 'feed', 'index.mjs'), 'utf8');
    feed = patch(feed, 'let old = before;', 'let old = ledger.size; // no proof: the witness checks none');
    feed = patch(feed, "ContentType: 'text/plain; charset=utf-8', ChecksumAlgorithm: 'SHA256',", "ContentType: 'text/plain; charset=utf-8', ChecksumAlgorithm: 'SHA256', ObjectLockLegalHoldStatus: 'ON',");
    writeFileSync(path.join(dir, 'feed', 'index.mjs'), feed);
    writeFileSync(path.join(dir, 'witness', 'index.mjs'), STATELESS_WITNESS);

    const g = await gradeLab(cloud(), await findLab('advanced-ledger'), { workspace: ws, seed: 'advanced-ledger-hostile', scenarios: [] });
    console.log(`hostile ${g.score}/${g.maxScore}\n${lines(g)}\n${JSON.stringify(g.student)}`);
    expect(g.student.every((r) => r.ok), JSON.stringify(g.student)).toBe(true);
    // The rest of the submission works: the ledger keeps up and is signed and cosigned.
    expect(g.checks.find((c) => c.id === 'signing-verifies')?.passed).toBe(true);
    expect(g.checks.find((c) => c.id === 'witness-cosigned')?.passed).toBe(true);
    expect(failed(g)).toEqual(expect.arrayContaining(['signing-admin-refused', 'witness-refuses', 'anchor-locked']));
  }, 1_800_000);
});
