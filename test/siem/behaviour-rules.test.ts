// Behaviour rules of the bundled pack (issue 12): instance-role credentials used outside their instance, anonymous
// S3 data access. Crafted records follow the CloudTrail documentation; a dataset-backed check uses Panther's
// instance-credential test events (skipped when ../shared/datasets is absent).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SiemEngine } from '../../src/controls/siem/engine.ts';
import { normalizeCloudTrail, type SiemEvent } from '../../src/controls/siem/events.ts';
import { loadBundledRules } from '../../src/controls/siem/pack.ts';
import { at, ct, DATASETS, hasDataset } from './helpers.ts';

const pack = loadBundledRules();
const titles = (events: SiemEvent[]) => new SiemEngine(pack).run(events).map((a) => a.rule.title);

const TWO_ADDRESSES = 'EC2 Instance Role Session Used From Two Public Addresses';
const WORKSTATION = 'EC2 Instance Role Credentials Used From a Workstation or Attack Distribution';
const ANON_READ = 'S3 Data Read or Listed Anonymously';
const ANON_REFUSED = 'Anonymous Request to an S3 Bucket Refused';

const INSTANCE = {
  type: 'AssumedRole',
  principalId: 'AROAEXAMPLEAPPROLE:i-0abcdef1234567890',
  arn: 'arn:aws:sts::111122223333:assumed-role/app-role/i-0abcdef1234567890',
  accountId: '111122223333',
  accessKeyId: 'ASIAEXAMPLEINSTANCE1',
  sessionContext: { sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::111122223333:role/app-role', userName: 'app-role' }, ec2RoleDelivery: '2.0' },
};
const SDK_ON_INSTANCE = 'aws-sdk-java/2.25.10 Linux/6.1.66-91.160.amzn2023.x86_64 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS Java/17.0.9';
const CLI_ON_MAC = 'aws-cli/2.15.30 Python/3.11.8 Darwin/23.4.0 exe/x86_64 prompt/off command/s3.cp';
const CLI_ON_KALI = 'aws-cli/2.13.25 Python/3.11.5 Linux/6.5.0-kali3-amd64 source/x86_64.kali.2023 prompt/off command/s3.ls';

/** The instance's own calls: its application reads from S3 through its public address (no VPC endpoint). */
const own = (s: number, extra: Record<string, unknown> = {}) =>
  ct({ eventSource: 's3.amazonaws.com', eventName: 'GetObject', sourceIPAddress: '54.210.33.7', userAgent: SDK_ON_INSTANCE, userIdentity: INSTANCE, requestParameters: { bucketName: 'app-data', key: `in/${s}.json` }, ...extra }, at(s));
const stolen = (s: number, eventName: string, ua = 'aws-cli/2.15.30 Python/3.11.8 Linux/6.8.0-35-generic exe/x86_64.ubuntu.24', extra: Record<string, unknown> = {}) =>
  ct({ eventSource: 's3.amazonaws.com', eventName, sourceIPAddress: '198.51.100.77', userAgent: ua, userIdentity: INSTANCE, requestParameters: { bucketName: 'app-data', key: 'customers.csv' }, ...extra }, at(s));

describe('instance-role credentials used outside their instance', () => {
  it('a second public address using the instance\'s session within the hour raises the high alert', () => {
    const events = [own(0), own(60), own(120), stolen(900, 'ListBuckets'), stolen(910, 'ListObjects'), stolen(920, 'GetObject'), own(1200)];
    expect(titles(events)).toContain(TWO_ADDRESSES);
  });

  it('the instance alone (one public address, private VPC-endpoint calls, AWS services on its behalf) raises nothing', () => {
    const day: SiemEvent[] = [];
    for (let s = 0; s < 86_400; s += 300) {
      day.push(own(s));
      day.push(own(s + 1, { sourceIPAddress: '10.0.1.50', vpcEndpointId: 'vpce-0123456789abcdef0' }));
      day.push(ct({ eventSource: 'kms.amazonaws.com', eventName: 'Decrypt', sourceIPAddress: 's3.amazonaws.com', userAgent: 's3.amazonaws.com', userIdentity: { ...INSTANCE, invokedBy: 's3.amazonaws.com' } }, at(s + 2)));
      day.push(ct({ eventSource: 'ec2messages.amazonaws.com', eventName: 'GetMessages', sourceIPAddress: 'AWS Internal', userAgent: 'amazon-ssm-agent/3.3.40.0', userIdentity: INSTANCE }, at(s + 3)));
    }
    expect(titles(day)).toEqual([]);
  });

  it('another instance of the same role, and a non-instance session of it, are other sessions', () => {
    const other = { ...INSTANCE, arn: 'arn:aws:sts::111122223333:assumed-role/app-role/i-0fedcba9876543210' };
    const ci = { ...INSTANCE, arn: 'arn:aws:sts::111122223333:assumed-role/app-role/github-actions' };
    const events = [own(0), own(10, { sourceIPAddress: '3.91.20.4', userIdentity: other }), own(20, { sourceIPAddress: '203.0.113.9', userIdentity: ci })];
    expect(titles(events)).toEqual([]);
  });

  it('instance credentials used from a Mac or a Kali machine raise an alert on their own', () => {
    expect(titles([stolen(0, 'ListBuckets', CLI_ON_MAC)])).toEqual([WORKSTATION]);
    expect(titles([stolen(0, 'GetObject', CLI_ON_KALI)])).toEqual([WORKSTATION]);
    // The same agents with a person's own keys, or with the instance's credentials from the instance, do not.
    expect(titles([ct({ eventSource: 's3.amazonaws.com', eventName: 'ListBuckets', userAgent: CLI_ON_MAC })])).toEqual([]);
    expect(titles([own(0)])).toEqual([]);
  });

  it.skipIf(!hasDataset(join(DATASETS, 'cloudtrail', 'panther_rule_tests')))(
    'Panther\'s instance-credential test events: the two uses from public addresses alert together, the eight benign ones do not',
    () => {
      const tests = readFileSync(join(DATASETS, 'cloudtrail', 'panther_rule_tests', 'cloudtrail_rule_tests.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as { rule_id: string; expected_result: boolean; log: Record<string, unknown> })
        .filter((t) => t.rule_id === 'AWS.CloudTrail.IMDSCredentialExfiltration');
      const clean = (log: Record<string, unknown>) => Object.fromEntries(Object.entries(log).filter(([k]) => !k.startsWith('p_')));
      const positives = tests.filter((t) => t.expected_result).map((t) => normalizeCloudTrail(clean(t.log)));
      const negatives = tests.filter((t) => !t.expected_result).map((t) => normalizeCloudTrail(clean(t.log)));
      expect([positives.length, negatives.length]).toEqual([2, 8]);
      expect(titles(negatives)).toEqual([]);
      const alerts = new SiemEngine(pack).run([...negatives, ...positives]);
      const hit = alerts.find((a) => a.rule.title === TWO_ADDRESSES);
      expect([...new Set(hit?.events.map((e) => e.fields['sourceIPAddress']))].sort()).toEqual(['45.33.32.156', '52.42.146.205']);
    },
  );
});

describe('anonymous S3 data access', () => {
  const ANON = { type: 'AWSAccount', principalId: '', accountId: 'ANONYMOUS_PRINCIPAL' };
  const anon = (s: number, eventName: string, extra: Record<string, unknown> = {}) =>
    ct({ eventSource: 's3.amazonaws.com', eventName, sourceIPAddress: '185.220.101.44', userAgent: 'curl/8.5.0', userIdentity: ANON, requestParameters: { bucketName: 'corp-backups', key: 'db.sql.gz' }, eventCategory: 'Data', ...extra }, at(s));

  it('a successful anonymous read or listing raises a medium alert, one per address', () => {
    const alerts = new SiemEngine(pack).run([anon(0, 'ListObjects'), anon(5, 'GetObject'), anon(9, 'GetObject', { sourceIPAddress: '45.155.205.1' })]);
    expect(alerts.filter((a) => a.rule.title === ANON_READ).map((a) => [a.severity, a.hits, a.group['sourceIPAddress']])).toEqual([
      ['medium', 2, '185.220.101.44'],
      ['medium', 1, '45.155.205.1'],
    ]);
  });

  it('refused anonymous probing of a (honey) bucket raises a low alert', () => {
    const probe = ['HeadBucket', 'ListObjects', 'GetBucketAcl', 'GetObject'].map((n, i) => anon(i, n, { errorCode: 'AccessDenied', errorMessage: 'Access Denied' }));
    expect(titles(probe)).toEqual([ANON_REFUSED]);
  });

  it('an AWSAccount identity without a principal counts as anonymous; a cross-account principal and the owner do not', () => {
    expect(titles([anon(0, 'GetObject', { userIdentity: { type: 'AWSAccount', accountId: '444455556666' } })])).toEqual([ANON_READ]);
    expect(titles([anon(0, 'GetObject', { userIdentity: { type: 'AWSAccount', principalId: 'AIDAEXAMPLEPARTNER', accountId: '444455556666' } })])).toEqual([]);
    expect(titles([anon(0, 'GetObject', { userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLEALICE', arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333' } })])).toEqual([]);
    expect(titles([anon(0, 'GetObject', { eventSource: 'ec2.amazonaws.com' })])).toEqual([]);
  });
});
