// Lab advanced: a hostile student's tricks, each on the real lab cloud, each asserting the grade does
// not rise (or another account's does not fall). Tricks already covered elsewhere are not repeated:
// anomaly events put with the student's own credentials (advanced-scenarios), malformed, binary,
// prototype-trap and other-format model files (advanced-provision), a responder that isolates every
// finding's instance and a threshold far too low (advanced-defects), a key disabled in advance
// (the business check developer-works).
import { describe, expect, it } from 'vitest';
import { zipSync, strToU8 } from 'fflate';
import { GuardDutyClient, CreateDetectorCommand, CreateSampleFindingsCommand, UpdateDetectorCommand } from '@aws-sdk/client-guardduty';
import { IAMClient, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { LambdaClient, CreateFunctionCommand, AddPermissionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import { CloudWatchLogsClient, PutSubscriptionFilterCommand } from '@aws-sdk/client-cloudwatch-logs';
import { S3Client, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { LabSession } from '../../src/engine/session.ts';
import type { Scenario, ScenarioResult } from '../../src/engine/types.ts';
import { trainFromFlowLogs } from '../../src/kit/anomaly.ts';
import { provisionAdvanced } from '../../labs/advanced/provision.ts';
import { checks } from '../../labs/advanced/checks.ts';
import { advancedEnv, ANOMALY_DETAIL_TYPE, ANOMALY_SOURCE, FLOW_LOG_GROUP, type AdvancedLabEnv } from '../../labs/advanced/company.ts';
import { slowExfiltrationScenario } from '../../scenarios/advanced-slow-exfiltration.ts';
import { ddosBurstScenario } from '../../scenarios/advanced-ddos-burst.ts';
import { threatListLoginScenario } from '../../scenarios/advanced-threat-list-login.ts';
import { anomalyEvents } from '../../scenarios/lib/advanced.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();

async function provision(seed: string): Promise<{ session: LabSession; env: AdvancedLabEnv }> {
  const session = new LabSession(cloud(), cloud().createAccount(), seed);
  session.env = await provisionAdvanced(session);
  return { session, env: advancedEnv(session.env) };
}

/** One scenario as the grader runs it; `during` runs between the attack and the grader's look. */
async function run(session: LabSession, sc: Scenario, during?: () => Promise<void>): Promise<ScenarioResult> {
  return cloud().gateway.clock.exclusive(async () => {
    await session.alignClock();
    const state = sc.prepare ? await sc.prepare(session) : undefined;
    const steps = await sc.inject(session, state);
    await during?.();
    const r = await sc.observe(session, steps, state);
    await sc.revert?.(session, state);
    return r;
  });
}

const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

/** A "detector" that models nothing: every invocation puts one anomaly event per address of HOSTS. */
const EVERY_HOST_DETECTOR = `
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
const eb = new EventBridgeClient({});
export const handler = async () => {
  const hosts = process.env.HOSTS.split(',');
  const at = new Date().toISOString();
  for (let i = 0; i < hosts.length; i += 10) {
    await eb.send(new PutEventsCommand({ Entries: hosts.slice(i, i + 10).map((host) => ({ Source: '${ANOMALY_SOURCE}', DetailType: '${ANOMALY_DETAIL_TYPE}', Detail: JSON.stringify({ host, windowStart: at, windowEnd: at, score: 9, threshold: 5, reasons: [], modelVersion: 1 }) })) }));
  }
  return { put: hosts.length };
};
`;

/** A function with its own role allowed events:PutEvents; subscribed to the flow-log group when `subscribe`. */
async function fakeDetector(session: LabSession, name: string, hosts: string[], o: { subscribe: boolean; roleArn?: string }): Promise<string> {
  const iam = session.client(IAMClient);
  let roleArn = o.roleArn;
  if (!roleArn) {
    roleArn = (await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]) }))).Role!.Arn!;
    await iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'put', PolicyDocument: doc([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: '*' }]) }));
  }
  const lambda = session.client(LambdaClient);
  const fn = await lambda.send(new CreateFunctionCommand({
    FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Timeout: 30, Role: roleArn,
    Code: { ZipFile: zipSync({ 'index.mjs': [strToU8(EVERY_HOST_DETECTOR), { mtime: new Date('1980-01-01T00:00:00Z') }] }) },
    Environment: { Variables: { HOSTS: hosts.join(',') } },
  }));
  if (o.subscribe) {
    await lambda.send(new AddPermissionCommand({ FunctionName: name, StatementId: 'logs', Action: 'lambda:InvokeFunction', Principal: 'logs.amazonaws.com', SourceArn: `arn:aws:logs:${session.cloud.region}:${session.accountId}:log-group:${FLOW_LOG_GROUP}:*` }));
    await session.client(CloudWatchLogsClient).send(new PutSubscriptionFilterCommand({ logGroupName: FLOW_LOG_GROUP, filterName: name, filterPattern: '', destinationArn: fn.FunctionArn! }));
  }
  return roleArn;
}

describe('lab advanced: a hostile student', () => {
  it('a detector that names every production host on every delivery detects nothing: the hosts it names that an attack does not involve are false alarms', async () => {
    const { session, env } = await provision('advanced-hostile-1');
    const production = env.instances.filter((i) => i.vpc === 'sensitive').map((i) => i.privateIp);
    await fakeDetector(session, 'every-host', production, { subscribe: true });
    const exfil = await run(session, slowExfiltrationScenario);
    // Before: app-2 was among the hosts named, so the exfiltration counted as detected by the model.
    expect(exfil.detected, exfil.feedback).toBe(false);
    expect(exfil.feedback).toMatch(/also named .*web-1.*which it does not involve/);
    const ddos = await run(session, ddosBurstScenario);
    expect(ddos.detected, ddos.feedback).toBe(false);
    expect(ddos.feedback).toMatch(/also named .*app-2.*which it does not involve/);
  }, 600_000);

  it('events from a function that is not subscribed, even with the detector\'s own role, are not the detector\'s', async () => {
    const { session, env } = await provision('advanced-hostile-2');
    const app2 = env.instances.find((i) => i.name === 'app-2')!;
    // The real "detector" is subscribed but never names app-2; its twin with the same role names it.
    const roleArn = await fakeDetector(session, 'quiet-detector', ['10.99.99.99'], { subscribe: true });
    await fakeDetector(session, 'twin', [app2.privateIp], { subscribe: false, roleArn });
    const exfil = await run(session, slowExfiltrationScenario, async () => {
      // As a scheduled rule would, during the attack.
      await session.client(LambdaClient).send(new InvokeCommand({ FunctionName: 'twin', Payload: strToU8('{}') }));
    });
    expect(exfil.detected, exfil.feedback).toBe(false);
    expect((await anomalyEvents(session, 0)).some((e) => e.host === app2.privateIp)).toBe(false);
  }, 600_000);

  it('GuardDuty sample findings (CreateSampleFindings during the attack) never count as a detection', async () => {
    const { session } = await provision('advanced-hostile-3');
    const gd = session.client(GuardDutyClient);
    // No threat list: GuardDuty cannot know the login address; only samples could "detect" it.
    const { DetectorId } = await gd.send(new CreateDetectorCommand({ Enable: true, FindingPublishingFrequency: 'FIFTEEN_MINUTES' }));
    const types = ['UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom', 'Recon:IAMUser/MaliciousIPCaller.Custom', 'UnauthorizedAccess:IAMUser/MaliciousIPCaller', 'Recon:IAMUser/MaliciousIPCaller'];
    const r = await run(session, threatListLoginScenario, async () => {
      await gd.send(new CreateSampleFindingsCommand({ DetectorId, FindingTypes: types }));
      await gd.send(new UpdateDetectorCommand({ DetectorId, FindingPublishingFrequency: 'SIX_HOURS' }));
    });
    expect(session.gateway.service('guardduty').findings(session.accountId, session.cloud.region).filter((f) => types.includes(f.type)).length).toBeGreaterThan(0);
    expect(r.detected, r.feedback).toBe(false);
  }, 600_000);

  it('the model check: a threshold above every window (no false positives, no detections) fails; an 18 MB, over-limit, deeply nested, Infinity-threshold or other-version file is refused without a crash', async () => {
    const { session, env } = await provision('advanced-hostile-4');
    const s3 = session.client(S3Client);
    // A fresh client (and connection) per upload: between uploads the check runs for a while, and a
    // kept-alive socket the gateway closes after 30 s idle can be reset under load (clients make one attempt).
    const put = (Body: string | Uint8Array) => session.client(S3Client).send(new PutObjectCommand({ Bucket: env.artifacts.bucket, Key: env.artifacts.modelKey, Body }));
    const modelCheck = checks.find((c) => c.id === 'model-held-back')!;
    const days: string[] = [];
    for (const k of env.baseline.keys) days.push(await (await s3.send(new GetObjectCommand({ Bucket: env.baseline.bucket, Key: k }))).Body!.transformToString());
    const { model } = trainFromFlowLogs(days);

    // ROC-AUC does not depend on the threshold: before, this passed with recall 0.
    await put(JSON.stringify({ ...model, thresholds: Object.fromEntries(Object.keys(model.thresholds).map((k) => [k, 1e300])) }));
    const blind = await modelCheck.run(session);
    expect(blind.passed, blind.feedback).toBe(false);
    expect(blind.feedback).toMatch(/above every attack window/);

    const hostile: [string, string][] = [
      ['Infinity thresholds', JSON.stringify({ ...model, thresholds: { ...model.thresholds, robust: 1 } }).replace(/"robust":1([,}])/, '"robust":1e999$1')],
      ['another format version', JSON.stringify({ ...model, version: 999 })],
      ['deeply nested', `{"format":"seclab-anomaly-model","version":1,"models":${'['.repeat(200_000)}${']'.repeat(200_000)}}`],
    ];
    for (const [what, body] of hostile) {
      await put(body);
      const out = await modelCheck.run(session);
      expect(out.passed, `${what}: ${out.feedback}`).toBe(false);
      expect(out.feedback, what).toMatch(/could not be (loaded|evaluated)|held-back/);
    }
    // A genuine model padded to 18 MB (under the limit) is graded as the model it is, without a crash.
    await put(JSON.stringify({ ...model, padding: 'x'.repeat(17 * 1024 * 1024) }));
    const padded = await modelCheck.run(session);
    expect(padded.passed, padded.feedback).toBe(true);
    // Over the grader's limit: refused before reading.
    await put(JSON.stringify({ ...model, padding: 'x'.repeat(20 * 1024 * 1024) }));
    const big = await modelCheck.run(session);
    expect(big.passed).toBe(false);
    expect(big.feedback).toMatch(/bytes; a model file is a few MB at most/);
  }, 600_000);
});
