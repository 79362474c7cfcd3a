// Lab advanced: the account as provisioned, on the real lab cloud. The flow log, the instance role on
// the application servers, the developer's key, the threat feed and the GuardDuty settings are there and
// right; the fourteen baseline days parse with the anomaly engine's parser, hold the company's traffic
// and the scanner's daily scan and none of the attackers; the same seed gives the same traffic, another
// seed other traffic; the model check grades a model trained on the baseline on the held-back days, and
// refuses malformed or hostile model files with a message, never a crash.
import { describe, expect, it } from 'vitest';
import { EC2Client, DescribeFlowLogsCommand, DescribeIamInstanceProfileAssociationsCommand } from '@aws-sdk/client-ec2';
import { S3Client, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { IAMClient, GetRoleCommand } from '@aws-sdk/client-iam';
import { LabSession } from '../../src/engine/session.ts';
import { parseFlowLog } from '../../src/controls/anomaly/index.ts';
import { trainFromFlowLogs } from '../../src/kit/anomaly.ts';
import { provisionAdvanced } from '../../labs/advanced/provision.ts';
import { checks } from '../../labs/advanced/checks.ts';
import { advancedEnv, advancedHidden, FLOW_LOG_GROUP, GUARDDUTY_LEARNING_MS, INSTANCE_ROLE } from '../../labs/advanced/company.ts';
import { DAY_MS, HEADER } from '../../labs/advanced/baseline.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();

async function provision(seed: string) {
  const session = new LabSession(cloud(), cloud().createAccount(), seed);
  session.env = await provisionAdvanced(session);
  const env = advancedEnv(session.env);
  const s3 = session.client(S3Client);
  const days: string[] = [];
  for (const k of env.baseline.keys) days.push(await (await s3.send(new GetObjectCommand({ Bucket: env.baseline.bucket, Key: k }))).Body!.transformToString());
  return { session, env, s3, days };
}

/** A day's records without the fields that name the account and its interfaces (which differ per account). */
const traffic = (text: string) => text.split('\n').slice(1).map((l) => l.split(' ').filter((_, i) => i !== 1 && i !== 2).join(' '));

const modelCheck = checks.find((c) => c.id === 'model-held-back')!;

describe('lab advanced: provisioning', () => {
  let a: Awaited<ReturnType<typeof provision>>;

  it('builds the account as the student finds it: flow log, instance role on app-1 and app-2, dana\'s key, feed, scanner, GuardDuty settings', async () => {
    a = await provision('advanced-provision-1');
    const { session, env, s3 } = a;
    const h = advancedHidden(session.hidden);
    const ec2 = session.client(EC2Client);
    const fl = (await ec2.send(new DescribeFlowLogsCommand({}))).FlowLogs ?? [];
    expect(fl).toHaveLength(1);
    expect(fl[0]).toMatchObject({ FlowLogId: env.flowLogs.flowLogId, ResourceId: env.vpcs.sensitive.id, TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs', LogGroupName: FLOW_LOG_GROUP, MaxAggregationInterval: 60 });
    const trust = decodeURIComponent((await session.client(IAMClient).send(new GetRoleCommand({ RoleName: fl[0]!.DeliverLogsPermissionArn!.split('/').pop()! }))).Role!.AssumeRolePolicyDocument!);
    expect(trust).toContain('vpc-flow-logs.amazonaws.com');

    // The instance profile is on the application servers only, and their metadata service hands out working credentials.
    const assoc = (await ec2.send(new DescribeIamInstanceProfileAssociationsCommand({}))).IamInstanceProfileAssociations ?? [];
    const apps = env.instances.filter((i) => i.tier === 'app').map((i) => i.id).sort();
    expect(assoc.map((x) => x.InstanceId).sort()).toEqual(apps);
    expect(assoc.every((x) => x.IamInstanceProfile?.Arn === env.instanceRole.profileArn)).toBe(true);
    const r = await session.gateway.service('ec2').imds.sdkGet(session.accountId, apps[0]!, `/latest/meta-data/iam/security-credentials/${INSTANCE_ROLE}`);
    expect(r.status).toBe(200);
    const c = JSON.parse(r.body) as { AccessKeyId: string; SecretAccessKey: string; Token: string };
    const asApp = session.client(S3Client, { credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.Token } });
    const listed = (await asApp.send(new ListObjectsV2Command({ Bucket: env.dataBucket }))).Contents?.map((o) => o.Key).sort();
    expect(listed).toEqual(['customers/amer.csv', 'customers/apac.csv', 'customers/emea.csv']);

    expect(session.keysOf('dana').map((k) => k.accessKeyId)).toEqual([env.developer.accessKeyId]);

    // The feed: thirty addresses, the two the attacks use among them, never the scanner; nothing of it in env.
    const feed = (await (await s3.send(new GetObjectCommand({ Bucket: env.threatIntel.bucket, Key: env.threatIntel.key }))).Body!.transformToString()).split('\n').filter((l) => l && !l.startsWith('#'));
    expect(feed).toHaveLength(30);
    expect(feed).toContain(h.c2Ip);
    expect(feed).toContain(h.threatLoginIp);
    expect(feed).not.toContain(env.knownScanner.ip);
    const shown = JSON.stringify(env);
    expect(shown).not.toContain(h.c2Ip);
    expect(shown).not.toContain(h.threatLoginIp);
    expect(shown).not.toContain(h.evaluationSeed);

    const gd = session.gateway.service('guardduty');
    expect(gd.learningMs).toBe(GUARDDUTY_LEARNING_MS);
    expect(gd.intel.address(h.c2Ip)).toEqual(['command-and-control']);
    expect(gd.intel.address(h.threatLoginIp)).toEqual([]);
    expect(gd.detector(session.accountId)).toBeUndefined();
  }, 180_000);

  it('fourteen whole days of normal traffic before the lab starts, parsed by the anomaly engine, with the daily scan and no attacker', () => {
    const { session, env, days } = a;
    const h = advancedHidden(session.hidden);
    expect(env.baseline.keys).toHaveLength(14);
    const start = Math.floor(session.now() / DAY_MS) * DAY_MS;
    env.baseline.keys.forEach((k, i) => expect(k).toBe(`baseline/${new Date(start - (14 - i) * DAY_MS).toISOString().slice(0, 10)}.log`));
    let bytes = 0;
    days.forEach((text, i) => {
      bytes += text.length;
      expect(text.split('\n')[0]).toBe(HEADER);
      const p = parseFlowLog(text);
      expect(p.malformed, env.baseline.keys[i]).toBe(0);
      // About 30,000 records a day (a B2B product: two page views a minute).
      expect(p.records.length).toBeGreaterThan(20_000);
      expect(p.records.length).toBeLessThan(45_000);
      const dayStart = (start - (14 - i) * DAY_MS) / 1000;
      expect(p.records.every((r) => r.start >= dayStart && r.end < dayStart + 86_400 + 60)).toBe(true);
      expect(p.records.every((r) => r.srcaddr.startsWith('10.20.') || r.dstaddr.startsWith('10.20.'))).toBe(true);
      const peers = new Set(p.records.flatMap((r) => [r.srcaddr, r.dstaddr]));
      expect(peers.has(env.knownScanner.ip), 'the scanner scans every day').toBe(true);
      expect(peers.has(h.c2Ip)).toBe(false);
      expect(peers.has(h.threatLoginIp)).toBe(false);
      // The tiers talk: customers to web-1, web-1 to the app tier, the app tier to the database.
      expect(p.records.some((r) => r.dstport === 443 && r.dstaddr === '10.20.1.10' && r.action === 'ACCEPT')).toBe(true);
      expect(p.records.some((r) => r.dstport === 8080 && r.dstaddr.startsWith('10.20.2.'))).toBe(true);
      expect(p.records.some((r) => r.dstport === 5432 && r.dstaddr === '10.20.3.10')).toBe(true);
    });
    expect(bytes).toBeGreaterThan(20e6);
    expect(bytes).toBeLessThan(70e6);
  });

  it('the same seed gives the same traffic; another seed other traffic', async () => {
    const b = await provision('advanced-provision-1');
    const c = await provision('advanced-provision-2');
    expect(b.env.knownScanner).toEqual(a.env.knownScanner);
    expect(advancedHidden(b.session.hidden)).toEqual(advancedHidden(a.session.hidden));
    expect(traffic(b.days[3]!)).toEqual(traffic(a.days[3]!));
    expect(traffic(c.days[3]!)).not.toEqual(traffic(a.days[3]!));
    expect(advancedHidden(c.session.hidden).c2Ip).not.toBe(advancedHidden(a.session.hidden).c2Ip);
  }, 180_000);

  it('the model check: a model trained on the baseline passes the held-back days; no model, malformed and hostile files fail with a message', async () => {
    const { session, env, s3, days } = a;
    const put = (Body: string | Uint8Array) => s3.send(new PutObjectCommand({ Bucket: env.artifacts.bucket, Key: env.artifacts.modelKey, Body }));
    const none = await modelCheck.run(session);
    expect(none).toMatchObject({ passed: false });
    expect(none.feedback).toMatch(/there is no model at s3:\/\/.*anomaly\/model\.json/);

    const { model } = trainFromFlowLogs(days);
    await put(JSON.stringify(model));
    const good = await modelCheck.run(session);
    expect(good.passed, good.feedback).toBe(true);
    expect(good.feedback).toMatch(/on 2 held-back days with \d+ attack windows: ROC-AUC 0\.9\d\d/);

    // A threshold of 0: every window alerts.
    await put(JSON.stringify({ ...model, thresholds: { ...model.thresholds, robust: 0 } }));
    const noisy = await modelCheck.run(session);
    expect(noisy.passed).toBe(false);
    expect(noisy.feedback).toMatch(/alerts on \d+\.\d % of normal windows \(at most 3\.0 %\).*raise the threshold/);

    const hostile: [string, string | Uint8Array, RegExp][] = [
      ['not JSON', 'model = require("child_process")', /could not be loaded/],
      ['another format', JSON.stringify({ format: 'pickle', version: 1 }), /could not be loaded/],
      ['damaged models', JSON.stringify({ ...model, models: { robust: 'x', threshold: null, iforest: [] } }), /could not be loaded/],
      ['a prototype trap', `{"__proto__": {"polluted": true}, "format": "seclab-anomaly-model", "version": 1}`, /could not be loaded/],
      ['binary', new Uint8Array([0x1f, 0x8b, 0, 1, 2, 3]), /could not be loaded/],
    ];
    for (const [what, body, message] of hostile) {
      await put(body);
      const out = await modelCheck.run(session);
      expect(out.passed, what).toBe(false);
      expect(out.feedback, what).toMatch(message);
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  }, 300_000);
});

