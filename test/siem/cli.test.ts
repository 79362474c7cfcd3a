// `seclab siem …` as a user runs it (node bin/seclab.js in a child process): offline scans, the rules of a
// workspace's siem.yml, and alerts/sources against a running lab cloud (found through the cloud-up state file).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CloudTrailClient, CreateTrailCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { useLabCloud } from '../helpers/cloud.ts';

const BIN = fileURLToPath(new URL('../../bin/seclab.js', import.meta.url));
const tmp = (p = 'seclab-siem-cli-') => mkdtempSync(path.join(os.tmpdir(), p));

function seclab(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const home = tmp('seclab-home-');
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: tmp(),
    env: { PATH: process.env['PATH'] ?? '', HOME: home, SECLAB_CACHE_DIR: path.join(home, 'cache'), NO_COLOR: '1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

function denied(i: number) {
  return {
    eventVersion: '1.08', eventTime: `2026-01-01T00:00:${String(i).padStart(2, '0')}Z`, eventSource: 'ec2.amazonaws.com', eventName: 'DescribeInstances',
    awsRegion: 'us-east-1', sourceIPAddress: '185.220.101.7', errorCode: 'Client.UnauthorizedOperation', userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/bob' },
    eventID: `e${i}`, eventType: 'AwsApiCall', recipientAccountId: '111122223333',
  };
}

describe('seclab siem (offline)', () => {
  it('scan prints the alerts with their ATT&CK tags, rule authors and matching events; --format json for tools', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, '111122223333_CloudTrail_us-east-1_20260101T0005Z_ab.json.gz'), gzipSync(JSON.stringify({ Records: Array.from({ length: 12 }, (_, i) => denied(i)) })));
    const text = await seclab(['siem', 'scan', dir]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/MEDIUM +Burst of Access-Denied API Calls by One Identity/);
    expect(text.stdout).toMatch(/ATT&CK: Initial Access, Discovery · T1078\.004, T1580/);
    expect(text.stdout).toMatch(/by seclab/);
    expect(text.stdout).toMatch(/1 alert from 12 events in 1 file/);
    const json = await seclab(['siem', 'scan', dir, '--format', 'json']);
    const result = JSON.parse(json.stdout) as { alerts: { rule: { author: string }; attack: { techniques: string[] }; events: unknown[] }[] };
    expect(result.alerts[0]!.rule.author).toBe('seclab');
    expect(result.alerts[0]!.events.length).toBe(10);
  });

  it('scan with --rules uses that folder only; a missing path is a usage error', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'trail.json'), JSON.stringify({ Records: [denied(1)] }));
    mkdirSync(path.join(dir, 'rules'));
    writeFileSync(path.join(dir, 'rules', 'one.yml'), 'title: Any Denied EC2 Call\nauthor: me\nlogsource: {product: aws, service: cloudtrail}\ndetection: {sel: {errorCode|endswith: UnauthorizedOperation}, condition: sel}\nlevel: low\ntags: [attack.discovery]\n');
    const r = await seclab(['siem', 'scan', path.join(dir, 'trail.json'), '--rules', path.join(dir, 'rules'), '--json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { alerts: { rule: { title: string; author: string } }[] }).alerts.map((a) => [a.rule.title, a.rule.author])).toEqual([['Any Denied EC2 Call', 'me']]);
    const missing = await seclab(['siem', 'scan', path.join(dir, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file or folder/);
  });

  it('rules lists what siem.yml loads and fails on broken rules; an invalid siem.yml names the field and line', async () => {
    const ws = tmp();
    mkdirSync(path.join(ws, 'siem', 'rules'), { recursive: true });
    writeFileSync(path.join(ws, 'siem', 'siem.yml'), 'rules:\n  folders: [rules]\n');
    writeFileSync(path.join(ws, 'siem', 'rules', 'bad.yml'), 'title: Bad\nlogsource: {product: aws}\ndetection: {sel: {a|nope: 1}, condition: sel}\n');
    const r = await seclab(['siem', 'rules', '--workspace', ws, '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { rules: { title: string }[]; problems: string[] };
    expect(out.rules.length).toBeGreaterThan(50);
    expect(out.problems).toEqual(['bad.yml: detection.sel.a|nope: unknown modifier "nope" (line 3)']);
    writeFileSync(path.join(ws, 'siem', 'siem.yml'), 'sources:\n  - name: trail\n    type: cloudtrail\n    s3: { bucket: 7 }\n');
    const bad = await seclab(['siem', 'rules', '--workspace', ws]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/siem\/siem\.yml: sources\[0\]\.s3\.bucket: expected string, received number \(line 4\)/);
  });

  it('alerts without a running lab cloud says how to start one (exit 3)', async () => {
    const ws = tmp();
    mkdirSync(path.join(ws, 'siem'));
    writeFileSync(path.join(ws, 'siem', 'siem.yml'), 'sources: []\n');
    const r = await seclab(['siem', 'alerts', '--workspace', ws]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/no lab cloud is running/);
    expect(r.stderr).toMatch(/seclab cloud up/);
  });
});

describe('seclab siem (against a running lab cloud)', () => {
  const { cloud } = useLabCloud();

  it('alerts polls the sources of siem.yml, notifies, and lists the alerts; sources shows what each read', async () => {
    const c = cloud();
    const root = c.createAccount();
    const creds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
    const bucket = `trail-${root.accountId}`;
    await c.client(S3Client, { credentials: creds }).send(new CreateBucketCommand({ Bucket: bucket }));
    await c.client(S3Client, { credentials: creds }).send(new PutBucketPolicyCommand({
      Bucket: bucket, Policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/*` }] }),
    }));
    const sns = c.client(SNSClient, { credentials: creds });
    const topic = (await sns.send(new CreateTopicCommand({ Name: 'alerts' }))).TopicArn!;
    await sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: 'sms', Endpoint: '+15555550100' }));
    const iam = c.client(IAMClient, { credentials: creds });
    await iam.send(new CreateUserCommand({ UserName: 'eve' }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'eve' }))).AccessKey!;
    await c.client(CloudTrailClient, { credentials: creds }).send(new CreateTrailCommand({ Name: 'org-trail', S3BucketName: bucket, IsMultiRegionTrail: true }));
    await c.client(CloudTrailClient, { credentials: creds }).send(new StartLoggingCommand({ Name: 'org-trail' }));
    const eve = c.client(IAMClient, { credentials: { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! }, sourceIp: '185.220.101.9' });
    for (let i = 0; i < 11; i++) await eve.send(new ListRolesCommand({})).catch(() => undefined);
    await c.gateway.clock.advance(5 * 60_000);

    const home = tmp('seclab-home-');
    const cache = path.join(home, 'cache');
    mkdirSync(cache, { recursive: true });
    writeFileSync(path.join(cache, 'cloud-up.json'), JSON.stringify({
      pid: process.pid, url: c.url, region: c.region, target: 'moto', accountId: root.accountId, accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey,
      controlToken: c.gateway.controlToken, startedAt: new Date().toISOString(),
    }));
    const ws = tmp();
    mkdirSync(path.join(ws, 'siem'));
    writeFileSync(path.join(ws, 'siem', 'siem.yml'), [
      'sources:',
      '  - { name: trail, type: cloudtrail, s3: { bucket: "trail-${accountId}" } }',
      'channels:',
      '  - { name: oncall, type: sns, topicArn: "arn:aws:sns:${region}:${accountId}:alerts", minSeverity: medium }',
    ].join('\n'));
    const env = { HOME: home, SECLAB_CACHE_DIR: cache };
    const r = await seclab(['siem', 'alerts', '--workspace', ws, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { alerts: { rule: { title: string }; notifications: { channel: string }[] }[]; new: string[] };
    const burst = out.alerts.find((a) => a.rule.title === 'Burst of Access-Denied API Calls by One Identity');
    expect(burst?.notifications.map((n) => n.channel)).toEqual(['oncall']);
    expect(c.gateway.service('sns').outbox.list(root.accountId, { protocol: 'sms' }).some((d) => d.message.includes('Burst of Access-Denied') && d.message.includes('rule by seclab'))).toBe(true);

    // Asked again: the state file keeps the alerts; nothing is new and nothing is sent twice.
    const again = await seclab(['siem', 'alerts', '--workspace', ws], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/Burst of Access-Denied API Calls by One Identity/);
    expect(again.stdout).toMatch(/notified: oncall/);
    expect(c.gateway.service('sns').outbox.list(root.accountId, { protocol: 'sms' }).filter((d) => d.message.includes('Burst of Access-Denied')).length).toBe(1);

    const src = await seclab(['siem', 'sources', '--workspace', ws], env);
    expect(src.code).toBe(0);
    expect(src.stdout).toMatch(new RegExp(`✔ trail +cloudtrail +s3://trail-${root.accountId}/`));
    expect(src.stdout).toMatch(/channel oncall sns/);
  });
});
