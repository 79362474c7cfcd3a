// `seclab siem scan` core: files and folders, gzipped trail files, flow logs, custom rule folders.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanFiles } from '../../src/controls/siem/scan.ts';

let dir: string;
const rec = (name: string, time: string, extra: Record<string, unknown> = {}) => ({
  eventVersion: '1.09',
  eventTime: time,
  eventSource: 'cloudtrail.amazonaws.com',
  eventName: name,
  awsRegion: 'eu-west-1',
  sourceIPAddress: '203.0.113.66',
  userAgent: 'aws-cli/2.15.0',
  userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/mallory', accountId: '111122223333', userName: 'mallory' },
  requestParameters: { name: 'org-trail' },
  eventType: 'AwsApiCall',
  recipientAccountId: '111122223333',
  ...extra,
});

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'seclab-siem-scan-'));
  // A trail's gzipped log file, with AWS's key layout.
  const trail = join(dir, 'AWSLogs', '111122223333', 'CloudTrail', 'eu-west-1', '2026', '01', '01');
  mkdirSync(trail, { recursive: true });
  const records = { Records: [rec('DescribeTrails', '2026-01-01T00:00:00Z'), rec('StopLogging', '2026-01-01T00:01:00Z')] };
  writeFileSync(join(trail, '111122223333_CloudTrail_eu-west-1_20260101T0005Z_abc.json.gz'), gzipSync(new TextEncoder().encode(JSON.stringify(records))));
  // AccessDenied burst as JSON lines (a CloudWatch Logs export), in another file: correlations span files.
  const denied = Array.from({ length: 12 }, (_, i) =>
    JSON.stringify(rec('ListUsers', `2026-01-01T00:02:${String(i).padStart(2, '0')}Z`, { eventSource: 'iam.amazonaws.com', errorCode: 'AccessDenied' })),
  );
  writeFileSync(join(dir, 'denied.jsonl'), denied.join('\n'));
  // A flow log with one large outbound transfer.
  writeFileSync(
    join(dir, 'flows.log'),
    'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n' +
      '2 111122223333 eni-1 10.0.1.20 198.51.100.200 40000 443 6 90000 125000000 1767225600 1767225660 ACCEPT OK\n' +
      '2 111122223333 eni-1 10.0.1.20 10.0.2.30 40001 5432 6 100 9000 1767225600 1767225660 ACCEPT OK\n',
  );
  writeFileSync(join(dir, 'notes.txt'), 'nothing to see here\n');
  writeFileSync(join(dir, 'ignored.md'), '# not scanned in folders\n');
  const rules = join(dir, 'rules');
  mkdirSync(rules);
  writeFileSync(
    join(rules, 'describe.yml'),
    'title: Trails described\nid: 99999999-9999-4999-8999-999999999999\nauthor: me\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n    s:\n        eventName: DescribeTrails\n    condition: s\nlevel: low\ntags: [attack.discovery, attack.t1526]\n',
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('scanFiles', () => {
  it('scans a gzipped Records file with the bundled pack', async () => {
    const gz = join(dir, 'AWSLogs', '111122223333', 'CloudTrail', 'eu-west-1', '2026', '01', '01', '111122223333_CloudTrail_eu-west-1_20260101T0005Z_abc.json.gz');
    const result = await scanFiles([gz]);
    expect(result.files).toEqual([{ path: gz, kind: 'cloudtrail', events: 2, skipped: 0, note: undefined }]);
    expect(result.events).toBe(2);
    expect(result.rules.errors).toEqual([]);
    const titles = result.alerts.map((a) => a.rule.title).sort();
    expect(titles).toContain('CloudTrail Logging Stopped or Trail Deleted');
    const ours = result.alerts.find((a) => a.rule.title === 'CloudTrail Logging Stopped or Trail Deleted')!;
    expect(ours).toMatchObject({ severity: 'high', attack: { tactics: ['defense-evasion'], techniques: ['T1562.008'] } });
    expect(ours.events.map((e) => e.fields['eventName'])).toEqual(['StopLogging']);
    expect(ours.events[0]!.origin).toEqual({ file: gz, index: 1 });
    // SigmaHQ rules carry their authors and source (Detection Rule License attribution).
    const sigmahq = result.alerts.find((a) => a.rule.title === 'AWS CloudTrail Important Change')!;
    expect(sigmahq.rule).toMatchObject({ author: 'vitaliy0x1', license: 'DRL-1.1' });
    expect(sigmahq.rule.url).toMatch(/^https:\/\/github\.com\/SigmaHQ\/sigma\/blob\/[0-9a-f]{40}\/rules\/cloud\/aws\/cloudtrail\/aws_cloudtrail_disable_logging\.yml$/);
    expect(sigmahq.rule.attribution).toContain('Detection Rule License 1.1');
    // The answer serialises to JSON (what `--format json` prints).
    expect(() => JSON.stringify(result)).not.toThrow();
  });

  it('walks folders, reads every supported format, correlates across files, and reports what it skipped', async () => {
    const result = await scanFiles([dir]);
    const byName = Object.fromEntries(result.files.map((f) => [f.path.slice(dir.length + 1), f]));
    expect(Object.keys(byName).sort()).toEqual([
      'AWSLogs/111122223333/CloudTrail/eu-west-1/2026/01/01/111122223333_CloudTrail_eu-west-1_20260101T0005Z_abc.json.gz',
      'denied.jsonl',
      'flows.log',
      'notes.txt',
    ]);
    expect(byName['denied.jsonl']).toMatchObject({ kind: 'cloudtrail', events: 12 });
    expect(byName['flows.log']).toMatchObject({ kind: 'vpcflow', events: 2 });
    expect(byName['notes.txt']).toMatchObject({ kind: 'unknown', events: 0 });
    const titles = result.alerts.map((a) => a.rule.title);
    expect(titles).toContain('Burst of Access-Denied API Calls by One Identity');
    expect(titles).toContain('Large Outbound Transfer to an Internet Address (VPC Flow Logs)');
    const burst = result.alerts.find((a) => a.rule.title === 'Burst of Access-Denied API Calls by One Identity')!;
    expect(burst.correlation).toMatchObject({ type: 'event_count', value: 10 });
    expect(burst.events.length).toBeGreaterThanOrEqual(10);
    const flow = result.alerts.find((a) => a.rule.title.startsWith('Large Outbound'))!;
    expect(flow.events[0]!.fields).toMatchObject({ dstaddr: '198.51.100.200', bytes: 125000000 });
  });

  it('uses a custom rule folder when given one', async () => {
    const result = await scanFiles([dir], { rules: join(dir, 'rules') });
    expect(result.rules).toMatchObject({ detections: 1, correlations: 0, errors: [] });
    expect(result.alerts.map((a) => a.rule.title)).toEqual(['Trails described']);
  });

  it('fails clearly on a path that does not exist', async () => {
    await expect(scanFiles([join(dir, 'nope')])).rejects.toThrow(/ENOENT|no such file/);
  });
});
