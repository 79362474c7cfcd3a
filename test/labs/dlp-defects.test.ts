// Lab dlp: seeded defects of the reference solution, each of which must lose the checks and the
// attacks its defect opens — and nothing else. (Reference, starter and the suite without its
// administrator test: dlp.test.ts; weak and cheating test suites: dlp-test-suite.test.ts.)
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradeLab } from '../../src/engine/grader.ts';
import { findLab, SOLUTIONS_DIR } from '../../src/engine/labs.ts';
import type { LabGrade } from '../../src/engine/types.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();

/** Grades a workspace whose dlp/ folder is the reference with each [from, to] replaced in `file`. */
async function gradeVariant(edits: [file: string, from: string, to: string][]): Promise<LabGrade> {
  const ws = mkdtempSync(path.join(os.tmpdir(), 'seclab-dlp-defect-'));
  writeFileSync(path.join(ws, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  cpSync(path.join(SOLUTIONS_DIR, 'dlp'), path.join(ws, 'dlp'), { recursive: true });
  for (const [file, from, to] of edits) {
    const p = path.join(ws, 'dlp', file);
    const text = readFileSync(p, 'utf8');
    expect(text, `${file} should contain ${from}`).toContain(from);
    writeFileSync(p, text.split(from).join(to));
  }
  return gradeLab(cloud(), await findLab('dlp'), { workspace: ws, seed: 'dlp-defects' });
}

const failed = (g: LabGrade) => [...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => c.id).sort();
const detail = (g: LabGrade) => [...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => `${c.id} (${c.points}/${c.maxPoints}): ${c.feedback}`).join('\n');

describe('lab dlp, seeded defects', () => {
  it('a responder that quarantines wherever Macie finds data: the partner\'s exports are taken away (customer data is saved by the network perimeter, which refuses the responder), the business is broken', async () => {
    const g = await gradeVariant([['solution.ts', 'const watched = [b.staging, b.supportLogs];', 'const watched = [b.staging, b.supportLogs, b.customerData, b.analyticsExports];']]);
    expect(g.student.every((r) => r.ok), JSON.stringify(g.student)).toBe(true);
    expect(failed(g), detail(g)).toEqual(expect.arrayContaining(['partner-reads-exports', 'quarantine-responder']));
    expect(g.businessBroken).toBeTruthy();
    // restrictive controls and attacks earn nothing while the business is broken
    for (const id of ['insider-perimeter', 'partner-scope', 'network-perimeter']) expect(g.checks.find((c) => c.id === id)?.points, id).toBe(0);
    expect(g.scenarios.reduce((n, s) => n + s.points, 0)).toBe(0);
    expect(g.score).toBeLessThan(60);
  }, 900_000);

  it('a network perimeter that forgets Macie: the classification job cannot read customer data, its findings are incomplete — nothing else is lost', async () => {
    const g = await gradeVariant([['solution.ts', ", `arn:aws:iam::${accountId}:role/aws-service-role/macie.amazonaws.com/AWSServiceRoleForAmazonMacie`]", ']']]);
    expect(failed(g), detail(g)).toEqual(['findings-accurate']);
    expect(g.checks.find((c) => c.id === 'findings-accurate')!.feedback).toMatch(/PERMISSION_DENIED|denied/i);
  }, 900_000);

  it('a job that reads .csv and .jsonl files only: renamed and compressed card data is never analysed, never found, never quarantined', async () => {
    const g = await gradeVariant([['solution.ts', "s3JobDefinition: { bucketDefinitions: [{ accountId, buckets: [b.customerData, b.supportLogs, b.staging, b.analyticsExports, b.qaFixtures] }] },",
      "s3JobDefinition: { bucketDefinitions: [{ accountId, buckets: [b.customerData, b.supportLogs, b.staging, b.analyticsExports, b.qaFixtures] }], scoping: { includes: { and: [{ simpleScopeTerm: { comparator: 'EQ', key: 'OBJECT_EXTENSION', values: ['csv', 'jsonl'] } }] } } },"]]);
    const f = failed(g);
    expect(f, detail(g)).toEqual(expect.arrayContaining(['classification-job', 'dlp-renamed-compressed']));
    const renamed = g.scenarios.find((s) => s.id === 'dlp-renamed-compressed')!;
    expect(renamed).toMatchObject({ detected: false, blocked: false });
    // the staging drop is a .csv: still found and quarantined
    expect(g.scenarios.find((s) => s.id === 'dlp-staging-drop')).toMatchObject({ detected: true, blocked: true });
    expect(f.filter((id) => !['classification-job', 'findings-accurate', 'dlp-renamed-compressed', 'dlp-pii-in-log'].includes(id)), detail(g)).toEqual([]);
  }, 900_000);

  it('analysts may still change bucket policies, ACLs and bucket Block Public Access: the perimeter check says so, and so does the reference\'s own test suite; nothing becomes public (account Block Public Access holds)', async () => {
    const g = await gradeVariant([['solution.ts', "{\n        Sid: 'NoPublicAccessChanges', Effect: 'Deny', Resource: '*',", "{\n        Sid: 'NoPublicAccessChanges', Effect: 'Deny', Resource: 'arn:aws:s3:::nothing-at-all',"]]);
    const f = failed(g);
    expect(f, detail(g)).toEqual(expect.arrayContaining(['insider-perimeter', 'dlp-tests-pass']));
    expect(g.checks.find((c) => c.id === 'insider-perimeter')!.feedback).toMatch(/PublicAccessBlock|PutBucketPolicy|ACL/);
    // the attacks: the account's Block Public Access (which the perimeter still protects) keeps everything private
    expect(g.scenarios.filter((s) => !s.passed).map((s) => s.id), detail(g)).toEqual([]);
    expect(f.filter((id) => id !== 'insider-perimeter' && !id.startsWith('dlp-tests-')), detail(g)).toEqual([]);
  }, 900_000);
});
