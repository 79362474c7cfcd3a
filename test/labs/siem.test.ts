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

/** A rule on every accepted flow from the internet: fires all day on customers. */
const NOISY_RULE = [
  'title: Traffic From the Internet',
  'author: an eager analyst',
  'tags: [attack.initial-access, attack.t1190]',
  'logsource: { product: aws, service: vpcflowlogs }',
  'detection:',
  '  selection: { action: ACCEPT }',
  '  filter: { srcaddr|cidr: [10.0.0.0/8] }',
  '  condition: selection and not filter',
  'level: medium',
].join('\n');

/** A student's own rule on large uploads out of the VPC, with `extra` selection lines (e.g. a port). */
const UPLOAD_RULE = (extra: string) => [
  'title: Big Upload',
  'id: 4f0c1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b',
  'author: a student',
  'tags: [attack.exfiltration, attack.t1048]',
  'logsource: { product: aws, service: vpcflowlogs }',
  'detection:',
  '  selection:',
  '    action: ACCEPT',
  '    bytes|gt: 52428800',
  '    srcaddr|cidr: [10.0.0.0/8]',
  `${extra}  filter:`,
  '    dstaddr|cidr: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]',
  '  condition: selection and not filter',
  'level: high',
].join('\n');

describe('lab siem', () => {
  it('gives the reference solution full marks', async () => {
    // No wall-clock threshold here (the suite must pass on a loaded machine): `npm run bench` measures speed.
    const g = await grade(SOLUTIONS_DIR);
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
    // The exfiltration went out by three ways, each caught.
    const flows = g.scenarios.find((s) => s.id === 'flow-exfiltration')!;
    expect(flows.steps!.map((s) => s.description).join('\n')).toMatch(/TCP 443[\s\S]*TCP 22[\s\S]*UDP 443/);
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
    const g = await grade(variant('rules/noisy.yml', '', NOISY_RULE));
    expect(failed(g)).toEqual(['quiet-day']);
    expect(g.scenarios.find((s) => s.id === 'quiet-day')!.feedback).toMatch(/raised \d+ alerts on normal work \(budget 2\).*, from: "Traffic From the Internet"/);
  });

  it('an over-broad rule hidden by aggressive deduplication and throttling in siem.yml: still loses the false-positive budget, only', async () => {
    const ws = variant('siem.yml', '  dedupWindow: 15m\n  throttle: { maxAlerts: 10, window: 1h }', '  dedupWindow: 24h\n  throttle: { maxAlerts: 1, window: 24h }');
    writeFileSync(path.join(ws, 'siem', 'rules', 'noisy.yml'), NOISY_RULE);
    const g = await grade(ws);
    expect(failed(g)).toEqual(['quiet-day']);
    expect(g.scenarios.find((s) => s.id === 'quiet-day')!.feedback).toMatch(/raised \d+ alerts on normal work \(budget 2\) \(counted with the SIEM's default deduplication.*let only 1 through.*"Traffic From the Internet"/);
  });

  it('a rule on every console sign-in, throttled to one alert a day: loses the false-positive budget (sign-ins from the office and from home)', async () => {
    const ws = variant('siem.yml', '  dedupWindow: 15m\n  throttle: { maxAlerts: 10, window: 1h }', '  dedupWindow: 24h\n  throttle: { maxAlerts: 1, window: 24h }');
    writeFileSync(path.join(ws, 'siem', 'rules', 'signin.yml'), [
      'title: Console Sign-In',
      'author: an eager analyst',
      'tags: [attack.initial-access, attack.t1078]',
      'logsource: { product: aws, service: cloudtrail }',
      'detection: { selection: { eventName: ConsoleLogin }, condition: selection }',
      'level: medium',
    ].join('\n'));
    const g = await grade(ws);
    expect(failed(g)).toEqual(['quiet-day']);
    expect(g.scenarios.find((s) => s.id === 'quiet-day')!.feedback).toMatch(/"Console Sign-In"/);
  });

  it('honest alternative: the reference with aggressive deduplication and throttling keeps full marks', async () => {
    const g = await grade(variant('siem.yml', '  dedupWindow: 15m\n  throttle: { maxAlerts: 10, window: 1h }', '  dedupWindow: 24h\n  throttle: { maxAlerts: 1, window: 24h }'));
    expect(failed(g), JSON.stringify([...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => c.feedback))).toEqual([]);
    expect(g.score).toBe(100);
  });

  it('an outbound-volume rule that watches port 443 only: misses the upload over SFTP and loses the flow exfiltration, only', async () => {
    const ws = variant('siem.yml', '  folders: [rules]', '  folders: [rules]\n  disable: [baa40067-f330-41e1-8d0d-b136719e42f6]');
    writeFileSync(path.join(ws, 'siem', 'rules', 'upload.yml'), UPLOAD_RULE('    dstport: 443\n'));
    const g = await grade(ws);
    expect(failed(g)).toEqual(['flow-exfiltration']);
    expect(g.scenarios.find((s) => s.id === 'flow-exfiltration')!.feedback).toMatch(/raised "Big Upload" on the upload over HTTPS \(TCP 443\), the upload over QUIC \(UDP 443\), but no alert tagged exfiltration .* on the upload over SFTP \(TCP 22\)/);
  });

  it('an outbound-volume rule that watches TCP only: misses the upload over QUIC and loses the flow exfiltration, only', async () => {
    const ws = variant('siem.yml', '  folders: [rules]', '  folders: [rules]\n  disable: [baa40067-f330-41e1-8d0d-b136719e42f6]');
    writeFileSync(path.join(ws, 'siem', 'rules', 'upload.yml'), UPLOAD_RULE('    protocol: 6\n'));
    const g = await grade(ws);
    expect(failed(g)).toEqual(['flow-exfiltration']);
    expect(g.scenarios.find((s) => s.id === 'flow-exfiltration')!.feedback).toMatch(/on the upload over QUIC \(UDP 443\)/);
  });

  it('honest alternative: an own outbound-volume rule on any port and protocol instead of the bundled one keeps full marks', async () => {
    const ws = variant('siem.yml', '  folders: [rules]', '  folders: [rules]\n  disable: [baa40067-f330-41e1-8d0d-b136719e42f6]');
    writeFileSync(path.join(ws, 'siem', 'rules', 'upload.yml'), UPLOAD_RULE(''));
    const g = await grade(ws);
    expect(failed(g)).toEqual([]);
    expect(g.scenarios.find((s) => s.id === 'flow-exfiltration')!.feedback).toMatch(/detected .* by "Big Upload"/);
  });

  it("a key rotated away from the person who holds it: the analyst's work fails (business), whatever new key the student made", async () => {
    const ws = variant('solution.ts', "import { IAMClient, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';", "import { IAMClient, CreateRoleCommand, PutRolePolicyCommand, ListAccessKeysCommand, CreateAccessKeyCommand, DeleteAccessKeyCommand } from '@aws-sdk/client-iam';");
    const file = path.join(ws, 'siem', 'solution.ts');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/\n}\s*$/, [
      '',
      "  // Rotate the analyst's key: a new key nobody gave dan, the one on his laptop deleted.",
      "  const old = (await iam.send(new ListAccessKeysCommand({ UserName: 'dan' }))).AccessKeyMetadata![0]!.AccessKeyId!;",
      "  await iam.send(new CreateAccessKeyCommand({ UserName: 'dan' }));",
      "  await iam.send(new DeleteAccessKeyCommand({ UserName: 'dan', AccessKeyId: old }));",
      '}',
      '',
    ].join('\n')));
    const g = await grade(ws);
    expect(failed(g)).toContain('company-work-continues');
    expect(g.checks.filter((c) => c.kind === 'posture' && !c.passed)).toEqual([]);
    expect(g.checks.find((c) => c.id === 'company-work-continues')!.feedback).toMatch(/dan reads the revenue report: the key is gone/);
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
