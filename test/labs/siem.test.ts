// Lab siem end to end on the real lab cloud: the reference solution (solution.ts, siem.yml, rules/), the starter,
// and defective variants of the reference, each of which must lose exactly the checks its defect breaks. The
// grader runs the workspace's SIEM against the scenarios while simulated time passes.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradeLab } from '../../src/engine/grader.ts';
import { findLab, SOLUTIONS_DIR } from '../../src/engine/labs.ts';
import type { LabGrade } from '../../src/engine/types.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
const REFERENCE = path.join(SOLUTIONS_DIR, 'siem');

/** A workspace holding a copy of the reference, with `from` replaced by `to` in one of its files. */
function variant(file: 'solution.ts' | 'siem.yml' | `rules/${string}`, from: string, to: string): string {
  const ws = mkdtempSync(path.join(os.tmpdir(), 'seclab-siem-'));
  writeFileSync(path.join(ws, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  cpSync(REFERENCE, path.join(ws, 'siem'), { recursive: true });
  const target = path.join(ws, 'siem', file);
  let text = '';
  try {
    text = readFileSync(target, 'utf8');
  } catch {
    // a new file
  }
  if (from) expect(text).toContain(from);
  writeFileSync(target, from ? text.replace(from, to) : to);
  return ws;
}

const failed = (g: LabGrade) => [...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => c.id).sort();

async function grade(workspace: string): Promise<LabGrade> {
  return gradeLab(cloud(), await findLab('siem'), { workspace });
}

const CLOUDTRAIL_SCENARIOS = ['cloudtrail-stopped', 'console-login-without-mfa', 's3-exfiltration', 'unauthorized-burst'];

describe('lab siem', () => {
  it('gives the reference solution full marks, within 5 s of grading', async () => {
    await grade(SOLUTIONS_DIR); // the emulator's first lab of the run warms up its services
    const t0 = Date.now();
    const g = await grade(SOLUTIONS_DIR);
    const took = Date.now() - t0;
    expect(failed(g), JSON.stringify([...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => c.feedback))).toEqual([]);
    expect(g.score).toBe(g.maxScore);
    expect(g.maxScore).toBe(100);
    expect(g.scenarios.map((s) => s.id)).toEqual(['quiet-day', 'unauthorized-burst', 'console-login-without-mfa', 's3-exfiltration', 'flow-exfiltration', 'cloudtrail-stopped']);
    for (const s of g.scenarios.filter((x) => x.id !== 'quiet-day')) {
      expect(s.detected, s.id).toBe(true);
      expect(s.timeToDetectMs, s.id).toBeLessThanOrEqual(15 * 60_000);
      expect(s.feedback, s.id).toMatch(/told by email and SMS/);
    }
    expect(g.checks.filter((c) => c.hidden).map((c) => c.id).sort()).toEqual(['rules-root-use', 'trail-global-events']);
    expect(took).toBeLessThan(5000);
  });

  it('gives the untouched starter at most 10 %', async () => {
    const lab = await findLab('siem');
    const g = await grade(lab.starter);
    expect(g.student.every((r) => r.ok)).toBe(true);
    expect(g.score / g.maxScore).toBeLessThanOrEqual(0.1);
    expect(g.scenarios.some((s) => s.passed)).toBe(false);
  });

  it('a trail that records one region: loses that check and the burst in another region', async () => {
    const g = await grade(variant('solution.ts', 'IsMultiRegionTrail: true', 'IsMultiRegionTrail: false'));
    expect(failed(g)).toEqual(['trail-multi-region', 'unauthorized-burst']);
  });

  it('a trail without log-file validation: loses that check only', async () => {
    const g = await grade(variant('solution.ts', 'EnableLogFileValidation: true', 'EnableLogFileValidation: false'));
    expect(failed(g)).toEqual(['trail-log-validation']);
  });

  it('no bucket policy: nothing is delivered, the SIEM reads no CloudTrail, and every CloudTrail detection is lost', async () => {
    const g = await grade(variant('solution.ts', '  await s3.send(new PutBucketPolicyCommand({', '  if (Date.now() < 0) await s3.send(new PutBucketPolicyCommand({'));
    expect(failed(g)).toEqual(['quiet-day', 'siem-reads-cloudtrail', 'trail-delivers-to-s3', ...CLOUDTRAIL_SCENARIOS].sort());
    expect(g.checks.find((c) => c.id === 'trail-delivers-to-s3')!.feedback).toMatch(/bucket policy/);
  });

  it('the flow logs missing from siem.yml: loses the source, the quiet day (nothing read) and the flow-only exfiltration', async () => {
    const g = await grade(variant('siem.yml', '  - name: vpc-flow-logs\n    type: vpcflow\n    logGroup: /northwind/vpc/flow-logs\n', ''));
    expect(failed(g)).toEqual(['flow-exfiltration', 'quiet-day', 'siem-reads-flow-logs']);
  });

  it('an over-broad rule floods the administrators: loses the false-positive budget only', async () => {
    const g = await grade(variant('rules/noisy.yml', '', [
      'title: Traffic From the Internet',
      'author: an eager analyst',
      'tags: [attack.initial-access, attack.t1190]',
      'logsource: { product: aws, service: vpcflowlogs }',
      'detection:',
      '  selection: { action: ACCEPT }',
      '  filter: { srcaddr|cidr: [10.0.0.0/8] }',
      '  condition: selection and not filter',
      'level: medium',
    ].join('\n')));
    expect(failed(g)).toEqual(['quiet-day']);
    expect(g.scenarios.find((s) => s.id === 'quiet-day')!.feedback).toMatch(/raised \d+ alerts on normal work \(budget 2\), from: "Traffic From the Internet"/);
  });

  it('no SMS subscription: loses that check and every attack (the administrators must hear on both channels)', async () => {
    const g = await grade(variant('solution.ts', "  await sns.send(new SubscribeCommand({ TopicArn: topic.TopicArn!, Protocol: 'sms', Endpoint: env.admins.phone }));\n", ''));
    expect(failed(g)).toEqual(['notify-sms', ...CLOUDTRAIL_SCENARIOS, 'flow-exfiltration'].sort());
    expect(g.scenarios.find((s) => s.id === 'flow-exfiltration')!.feedback).toMatch(/no SMS to \+15555550142/);
  });

  it('a rule without ATT&CK tags is detected but not credited, and the feedback says to tag it', async () => {
    const ws = variant('siem.yml', 'bundled: true', 'bundled: false');
    writeFileSync(path.join(ws, 'siem', 'rules', 'stop.yml'), [
      'title: Trail Stopped (untagged)',
      'author: me',
      'logsource: { product: aws, service: cloudtrail }',
      'detection: { selection: { eventName: StopLogging }, condition: selection }',
      'level: high',
    ].join('\n'));
    const g = await grade(ws);
    const s = g.scenarios.find((x) => x.id === 'cloudtrail-stopped')!;
    expect(s.passed).toBe(false);
    expect(s.feedback).toMatch(/raised "Trail Stopped \(untagged\)" on it, but that rule is not tagged .*defense-evasion/);
  });

  it('an invalid siem.yml: the SIEM does not start and every SIEM check says why, with the field and line', async () => {
    const g = await grade(variant('siem.yml', 'type: vpcflow', 'type: flowlogs'));
    const c = g.checks.find((x) => x.id === 'siem-config')!;
    expect(c.passed).toBe(false);
    expect(c.feedback).toMatch(/siem\/siem\.yml: sources\[1\]\.type: expected one of "cloudtrail", "vpcflow", "logs" \(line \d+\)/);
    expect(g.scenarios.every((s) => !s.passed)).toBe(true);
  });
});
