// The real AWS CLI (awscli 1.x, pinned into seclab's own venv like moto; installed on first run) against
// the lab cloud over HTTPS with AWS_CA_BUNDLE, across the services the labs use: what a student types
// must work as on AWS. The CLI runs as a child process, asynchronously: the lab cloud runs in this
// process and must keep answering.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useLabCloud } from '../helpers/cloud.ts';
import { ensureTool, run, toolBin, type RunResult } from '../../scripts/tools.ts';

const { cloud } = useLabCloud();

let awsBin = '';
let env: NodeJS.ProcessEnv = {};
let accountId = '';
let dir = '';

beforeAll(async () => {
  try {
    await ensureTool('awscli', (l) => console.log(l));
  } catch (e) {
    throw new Error(`the AWS CLI could not be installed for this test: ${(e as Error).message}`);
  }
  awsBin = toolBin('awscli', 'aws');
  const c = cloud();
  expect(c.gateway.tlsUrl, 'the lab cloud serves HTTPS').toBeTruthy();
  const root = c.createAccount();
  accountId = root.accountId;
  dir = mkdtempSync(path.join(os.tmpdir(), 'seclab-awscli-'));
  writeFileSync(path.join(dir, 'config'), '[default]\ns3 =\n    addressing_style = path\n');
  env = {
    PATH: process.env.PATH, HOME: dir, LANG: 'C.UTF-8',
    AWS_ENDPOINT_URL: c.gateway.tlsUrl!, AWS_CA_BUNDLE: c.caFile!,
    AWS_ACCESS_KEY_ID: root.accessKeyId, AWS_SECRET_ACCESS_KEY: root.secretAccessKey,
    AWS_DEFAULT_REGION: c.region, AWS_REGION: c.region,
    AWS_CONFIG_FILE: path.join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'credentials'),
    AWS_PAGER: '', AWS_MAX_ATTEMPTS: '1',
  };
}, 900_000);

function aws(...args: string[]): Promise<RunResult> {
  return run(awsBin, [...args, '--output', 'json', '--cli-read-timeout', '30'], { env, timeoutMs: 60_000 });
}

/** Runs the CLI, expects success, returns its JSON output (or {} when it printed none). */
async function ok(...args: string[]): Promise<any> {
  const r = await aws(...args);
  expect(r.code, `aws ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout.trim() ? JSON.parse(r.stdout) : {};
}

/** Runs the CLI, expects the given AWS error code. */
async function fails(code: string, ...args: string[]): Promise<void> {
  const r = await aws(...args);
  expect(r.code, `aws ${args.join(' ')} should fail`).not.toBe(0);
  expect(r.stderr).toContain(`(${code})`);
  expect(r.stderr).not.toMatch(/<html|Traceback|seclab gateway error/i);
}

// Each CLI call is a Python start-up (1-3 s on a busy machine): generous per-test time.
describe('the AWS CLI against the lab cloud over HTTPS', { timeout: 240_000 }, () => {
  it('sts: who am I', async () => {
    const id = await ok('sts', 'get-caller-identity');
    expect(id.Account).toBe(accountId);
    expect(id.Arn).toBe(`arn:aws:iam::${accountId}:root`);
  });

  it('iam: users, groups, policies, access keys; errors in the protocol\'s format', async () => {
    await ok('iam', 'create-user', '--user-name', 'alice');
    await ok('iam', 'create-group', '--group-name', 'devs');
    await ok('iam', 'add-user-to-group', '--user-name', 'alice', '--group-name', 'devs');
    await ok('iam', 'attach-group-policy', '--group-name', 'devs', '--policy-arn', 'arn:aws:iam::aws:policy/ReadOnlyAccess');
    const key = await ok('iam', 'create-access-key', '--user-name', 'alice');
    expect(key.AccessKey.AccessKeyId).toMatch(/^AKIA/);
    const users = await ok('iam', 'list-users');
    expect(users.Users.map((u: { UserName: string }) => u.UserName)).toContain('alice');
    const groups = await ok('iam', 'list-groups-for-user', '--user-name', 'alice');
    expect(groups.Groups.map((g: { GroupName: string }) => g.GroupName)).toEqual(['devs']);
    const attached = await ok('iam', 'list-attached-group-policies', '--group-name', 'devs');
    expect(attached.AttachedPolicies.map((p: { PolicyName: string }) => p.PolicyName)).toEqual(['ReadOnlyAccess']);
    const keys = await ok('iam', 'list-access-keys', '--user-name', 'alice');
    expect(keys.AccessKeyMetadata).toHaveLength(1);
    await fails('NoSuchEntity', 'iam', 'get-user', '--user-name', 'nobody');
    // alice's credentials work, and the CLI signs with them.
    const asAlice = await run(awsBin, ['sts', 'get-caller-identity', '--output', 'json'], {
      env: { ...env, AWS_ACCESS_KEY_ID: key.AccessKey.AccessKeyId, AWS_SECRET_ACCESS_KEY: key.AccessKey.SecretAccessKey }, timeoutMs: 60_000,
    });
    expect(asAlice.code, asAlice.stderr).toBe(0);
    expect(JSON.parse(asAlice.stdout).Arn).toBe(`arn:aws:iam::${accountId}:user/alice`);
  });

  it('s3: mb, cp up and down, ls, s3api', async () => {
    const bucket = `cli-${accountId}`;
    const mb = await aws('s3', 'mb', `s3://${bucket}`);
    expect(mb.code, mb.stderr).toBe(0);
    const local = path.join(dir, 'report.txt');
    writeFileSync(local, 'quarterly numbers\n');
    const up = await aws('s3', 'cp', local, `s3://${bucket}/reports/report.txt`);
    expect(up.code, up.stderr).toBe(0);
    const ls = await aws('s3', 'ls', `s3://${bucket}/reports/`);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toMatch(/\s18 report\.txt/);
    const lsBuckets = await aws('s3', 'ls');
    expect(lsBuckets.stdout).toContain(bucket);
    const back = path.join(dir, 'back.txt');
    const down = await aws('s3', 'cp', `s3://${bucket}/reports/report.txt`, back);
    expect(down.code, down.stderr).toBe(0);
    expect(readFileSync(back, 'utf8')).toBe('quarterly numbers\n');
    const objs = await ok('s3api', 'list-objects-v2', '--bucket', bucket);
    expect(objs.Contents.map((o: { Key: string }) => o.Key)).toEqual(['reports/report.txt']);
    // head-object has no body: the CLI reports the status (404) rather than an error code.
    const head = await aws('s3api', 'head-object', '--bucket', bucket, '--key', 'missing');
    expect(head.code).not.toBe(0);
    expect(head.stderr).toMatch(/\(404\)|Not Found/);
    const rm = await aws('s3', 'rm', `s3://${bucket}/reports/report.txt`);
    expect(rm.code, rm.stderr).toBe(0);
    const empty = await ok('s3api', 'list-objects-v2', '--bucket', bucket);
    expect(empty.Contents ?? []).toEqual([]);
  });

  it('kms: a key, encrypt and decrypt', async () => {
    const key = await ok('kms', 'create-key', '--description', 'cli test');
    const keyId = key.KeyMetadata.KeyId as string;
    const keys = await ok('kms', 'list-keys');
    expect(keys.Keys.map((k: { KeyId: string }) => k.KeyId)).toContain(keyId);
    const plain = path.join(dir, 'plain.bin');
    writeFileSync(plain, 'top secret');
    const enc = await ok('kms', 'encrypt', '--key-id', keyId, '--plaintext', `fileb://${plain}`);
    const blob = path.join(dir, 'blob.bin');
    writeFileSync(blob, Buffer.from(enc.CiphertextBlob as string, 'base64'));
    const dec = await ok('kms', 'decrypt', '--ciphertext-blob', `fileb://${blob}`);
    expect(Buffer.from(dec.Plaintext as string, 'base64').toString()).toBe('top secret');
    expect(dec.KeyId).toContain(keyId);
  });

  it('ec2: the default VPC, a security group', async () => {
    const vpcs = await ok('ec2', 'describe-vpcs', '--filters', 'Name=is-default,Values=true');
    expect(vpcs.Vpcs).toHaveLength(1);
    const vpcId = vpcs.Vpcs[0].VpcId as string;
    const sg = await ok('ec2', 'create-security-group', '--group-name', 'web', '--description', 'web tier', '--vpc-id', vpcId);
    await ok('ec2', 'authorize-security-group-ingress', '--group-id', sg.GroupId, '--protocol', 'tcp', '--port', '443', '--cidr', '0.0.0.0/0');
    const got = await ok('ec2', 'describe-security-groups', '--group-ids', sg.GroupId);
    expect(got.SecurityGroups[0].IpPermissions[0]).toMatchObject({ FromPort: 443, ToPort: 443, IpProtocol: 'tcp' });
    await fails('InvalidGroup.NotFound', 'ec2', 'describe-security-groups', '--group-ids', 'sg-0123456789abcdef0');
  });

  it('logs: a log group with retention, events in and out', async () => {
    await ok('logs', 'create-log-group', '--log-group-name', '/app/web');
    await ok('logs', 'put-retention-policy', '--log-group-name', '/app/web', '--retention-in-days', '30');
    const groups = await ok('logs', 'describe-log-groups', '--log-group-name-prefix', '/app/');
    expect(groups.logGroups).toMatchObject([{ logGroupName: '/app/web', retentionInDays: 30 }]);
    await ok('logs', 'create-log-stream', '--log-group-name', '/app/web', '--log-stream-name', 's1');
    await ok('logs', 'put-log-events', '--log-group-name', '/app/web', '--log-stream-name', 's1', '--log-events', `timestamp=${Date.now()},message=hello`);
    const events = await ok('logs', 'get-log-events', '--log-group-name', '/app/web', '--log-stream-name', 's1');
    expect(events.events.map((e: { message: string }) => e.message)).toEqual(['hello']);
  });

  it('cloudtrail: a trail, and the calls above in lookup-events', async () => {
    const bucket = `trail-${accountId}`;
    await ok('s3api', 'create-bucket', '--bucket', bucket);
    await ok('s3api', 'put-bucket-policy', '--bucket', bucket, '--policy', JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'AclCheck', Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:GetBucketAcl', Resource: `arn:aws:s3:::${bucket}` },
        { Sid: 'Write', Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/AWSLogs/${accountId}/*`, Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } } },
      ],
    }));
    await ok('cloudtrail', 'create-trail', '--name', 'main', '--s3-bucket-name', bucket, '--is-multi-region-trail');
    await ok('cloudtrail', 'start-logging', '--name', 'main');
    const trails = await ok('cloudtrail', 'describe-trails');
    expect(trails.trailList.map((t: { Name: string }) => t.Name)).toContain('main');
    const status = await ok('cloudtrail', 'get-trail-status', '--name', 'main');
    expect(status.IsLogging).toBe(true);
    const events = await ok('cloudtrail', 'lookup-events', '--lookup-attributes', 'AttributeKey=EventName,AttributeValue=CreateUser');
    expect(events.Events.map((e: { Username?: string; EventName: string }) => e.EventName)).toContain('CreateUser');
    await fails('TrailNotFoundException', 'cloudtrail', 'start-logging', '--name', 'no-such-trail');
  });

  it('sns: a topic, a subscription, publish', async () => {
    const topic = await ok('sns', 'create-topic', '--name', 'alerts');
    expect(topic.TopicArn).toBe(`arn:aws:sns:${cloud().region}:${accountId}:alerts`);
    const topics = await ok('sns', 'list-topics');
    expect(topics.Topics.map((t: { TopicArn: string }) => t.TopicArn)).toContain(topic.TopicArn);
    await ok('sns', 'subscribe', '--topic-arn', topic.TopicArn, '--protocol', 'email', '--notification-endpoint', 'soc@example.com');
    const pub = await ok('sns', 'publish', '--topic-arn', topic.TopicArn, '--message', 'hello');
    expect(pub.MessageId).toBeTruthy();
  });

  it('lambda: list functions; an unknown function is a 404 ResourceNotFoundException', async () => {
    const fns = await ok('lambda', 'list-functions');
    expect(Array.isArray(fns.Functions)).toBe(true);
    await fails('ResourceNotFoundException', 'lambda', 'get-function', '--function-name', 'nope');
  });

  it('events: a rule with a pattern, a target, put-events', async () => {
    const topicArn = `arn:aws:sns:${cloud().region}:${accountId}:alerts`;
    const pattern = JSON.stringify({ source: ['aws.iam'], 'detail-type': ['AWS API Call via CloudTrail'] });
    const rule = await ok('events', 'put-rule', '--name', 'iam-changes', '--event-pattern', pattern);
    expect(rule.RuleArn).toBe(`arn:aws:events:${cloud().region}:${accountId}:rule/iam-changes`);
    await ok('events', 'put-targets', '--rule', 'iam-changes', '--targets', JSON.stringify([{ Id: 'sns', Arn: topicArn }]));
    const rules = await ok('events', 'list-rules');
    expect(rules.Rules.map((r: { Name: string }) => r.Name)).toContain('iam-changes');
    const targets = await ok('events', 'list-targets-by-rule', '--rule', 'iam-changes');
    expect(targets.Targets).toMatchObject([{ Id: 'sns', Arn: topicArn }]);
    const put = await ok('events', 'put-events', '--entries', JSON.stringify([{ Source: 'my.app', DetailType: 'test', Detail: '{"a":1}' }]));
    expect(put.FailedEntryCount).toBe(0);
    const test = await ok('events', 'test-event-pattern', '--event-pattern', pattern, '--event', JSON.stringify({
      id: '1', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.iam', account: accountId, time: '2026-01-01T00:00:00Z',
      region: cloud().region, resources: [], detail: {},
    }));
    expect(test.Result).toBe(true);
  });
});
