// Lab dlp: the lab clock moves weeks during a grading (the mutation grading of the student's suite moves
// it by the quarantine deadline per variant and per drop probe, before the graded attacks run). No attack
// may then count as blocked because the grader's own credentials or presigned URL expired: a submission
// without the control must lose the attack, however far the clock went.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { describe, expect, it } from 'vitest';
import { gradeLab, provisionLab } from '../../src/engine/grader.ts';
import { findLab, SOLUTIONS_DIR } from '../../src/engine/labs.ts';
import type { LabGrade } from '../../src/engine/types.ts';
import { dlpEnv, QUARANTINE_DEADLINE_MS } from '../../labs/dlp/company.ts';
import { clientAs, companyActors } from '../../labs/dlp/actors.ts';
import { attempt } from '../../scenarios/lib/attack.ts';
import { httpGet, ownCredentialsFailed } from '../../scenarios/lib/dlp.ts';
import { stagingDropScenario } from '../../scenarios/dlp-staging-drop.ts';
import { presignedUrlOutsideScenario } from '../../scenarios/dlp-presigned-url-outside.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
const HOUR = 3600_000;

/** A workspace whose dlp/solution.ts is the reference with each [from, to] replaced. */
function variant(edits: [from: string, to: string][]): string {
  const ws = mkdtempSync(path.join(os.tmpdir(), 'seclab-dlp-clock-'));
  writeFileSync(path.join(ws, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  cpSync(path.join(SOLUTIONS_DIR, 'dlp'), path.join(ws, 'dlp'), { recursive: true });
  const file = path.join(ws, 'dlp', 'solution.ts');
  let text = readFileSync(file, 'utf8');
  for (const [from, to] of edits) {
    expect(text, `solution.ts should contain ${from}`).toContain(from);
    text = text.split(from).join(to);
  }
  writeFileSync(file, text);
  return ws;
}

const detail = (g: LabGrade) => [...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => `${c.id} (${c.points}/${c.maxPoints}): ${c.feedback}`).join('\n');

describe('lab dlp, the lab clock moved weeks by the grading', () => {
  it('without the network perimeter and the analysts\' perimeter (and without the tests of them), the presigned URL and the copy outside get through after the mutation grading moved the clock', async () => {
    const ws = variant([
      // customer-data's policy stays, but refuses nobody (every address is in 0.0.0.0/0)
      ["NotIpAddress: { 'aws:SourceIp': env.network.officeCidr },", "NotIpAddress: { 'aws:SourceIp': '0.0.0.0/0' },"],
      // the analysts may write to other accounts' buckets
      ["{ Sid: 'CompanyBucketsOnly', Effect: 'Deny', Action: 's3:*', Resource: '*', Condition: { StringNotEquals: { 'aws:ResourceAccount': accountId } } },", ''],
      // the suite leaves out its tests of those two controls, so it passes and the mutation grading runs
      ['return { results, state };', 'return { results: results.filter((r) => !/outside account|presigned URL/.test(r.name)), state };'],
    ]);
    const before = cloud().gateway.clock.nowMs();
    const g = await gradeLab(cloud(), await findLab('dlp'), { workspace: ws, seed: 'dlp-clock' });
    expect(g.error, detail(g)).toBeUndefined();
    expect(g.businessBroken ?? false, detail(g)).toBe(false);
    // The suite passed twice: every variant ran, each moving the clock by the deadline (25 h) at least.
    expect(g.checks.find((c) => c.id === 'dlp-tests-pass')?.passed, detail(g)).toBe(true);
    const presigned = g.scenarios.find((s) => s.id === 'dlp-presigned-url-outside')!;
    // When the URL was opened, the clock stood more than the seven days of the URL and 7 × the deadline past the start.
    expect(presigned.steps?.[0]?.at ?? 0).toBeGreaterThan(before + 7 * QUARANTINE_DEADLINE_MS + 7 * 24 * HOUR);
    expect(presigned.blocked, presigned.feedback).toBe(false);
    expect(presigned.steps?.map((s) => [s.allowed, s.errorCode ?? null])).toEqual([[true, null]]);
    const copy = g.scenarios.find((s) => s.id === 'dlp-card-copy-outside')!;
    expect(copy.blocked, copy.feedback).toBe(false);
    expect(copy.steps?.map((s) => [s.allowed, s.errorCode ?? null])).toEqual([[true, null], [true, null], [true, null]]);
    // The checks of those controls fail; the attacks the variant leaves protected stay blocked.
    const failed = [...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => c.id).sort();
    expect(failed, detail(g)).toEqual(expect.arrayContaining(['dlp-card-copy-outside', 'dlp-presigned-url-outside', 'insider-perimeter', 'network-perimeter']));
    for (const id of ['dlp-object-made-public', 'dlp-staging-drop', 'dlp-pii-in-log', 'dlp-renamed-compressed']) {
      expect(g.scenarios.find((s) => s.id === id)?.passed, `${id}\n${detail(g)}`).toBe(true);
    }
  }, 600_000);

  it('an expired presigned URL or role session of the grader\'s own is not a control: the attack cannot count it as blocked', async () => {
    const lab = await findLab('dlp');
    const session = await provisionLab(cloud(), lab, 'dlp-clock-expiry');
    const env = dlpEnv(session.env);
    const key = env.objects.customerData[0]!;
    const actors = companyActors(session);
    const analyst = actors.analyst();
    const url = await getSignedUrl(clientAs(session, S3Client, analyst), new GetObjectCommand({ Bucket: env.buckets.customerData, Key: key }), { expiresIn: 3600 });
    // From the office, before the clock moves: the URL and the session work (the provisioned bucket has no perimeter).
    expect((await httpGet(session, 'office', url, '203.0.113.20')).step.allowed).toBe(true);
    await session.gateway.clock.exclusive(async () => {
      await session.gateway.clock.advance(2 * HOUR);
      await expect(httpGet(session, 'outside, after expiry', url, '192.0.2.77')).rejects.toThrow(/grader's own|expired/i);
      const s3 = clientAs(session, S3Client, analyst);
      const step = await attempt(session, 'the expired session reads', () => s3.send(new GetObjectCommand({ Bucket: env.buckets.customerData, Key: key })));
      expect(step).toMatchObject({ allowed: false, errorCode: 'ExpiredToken' });
      expect(() => ownCredentialsFailed([step])).toThrow(/ExpiredToken/);
      // A fresh session works after the jump.
      const fresh = await attempt(session, 'a fresh session reads', () => clientAs(session, S3Client, companyActors(session).analyst()).send(new GetObjectCommand({ Bucket: env.buckets.customerData, Key: key })));
      expect(fresh).toMatchObject({ allowed: true });
      expect(() => ownCredentialsFailed([fresh])).not.toThrow();
    });
    cloud().gateway.dropAccount(session.accountId);
  }, 120_000);

  it('the first attack starts on a Monday at 09:00 UTC of lab time wherever the clock stood, the later ones at 09:00: a drop\'s time to the next daily or weekly Macie run is the same whenever the grading runs', async () => {
    const session = await provisionLab(cloud(), await findLab('dlp'), 'dlp-clock-week');
    const clock = session.gateway.clock;
    const seen: string[] = [];
    // Held, as a grading holds it (else it follows wall time between the calls).
    await clock.exclusive(async () => {
      for (const by of [0, 3 * 24 * HOUR + 5 * HOUR + 7 * 60_000, 29 * HOUR + 1]) {
        await clock.advance(by);
        const state = await stagingDropScenario.prepare!(session);
        const at = clock.now();
        seen.push(`${at.getUTCDay()} ${at.toISOString().slice(11)}`);
        // Already there: the next attack starts at the same moment (the attacks without a deadline take no lab time).
        await presignedUrlOutsideScenario.prepare!(session);
        expect(clock.nowMs()).toBe(at.getTime());
        await stagingDropScenario.revert?.(session, state);
      }
    });
    // Monday; + 3 d 5 h 7 min → Thursday 14:07, starts Friday; + 29 h → Saturday 14:00, starts Sunday.
    expect(seen).toEqual(['1 09:00:00.000Z', '5 09:00:00.000Z', '0 09:00:00.000Z']);
    cloud().gateway.dropAccount(session.accountId);
  }, 60_000);
});
