// Lab advanced: the quiet day and the six attacks (scenarios/advanced-*.ts) on the real lab cloud.
// Against the account as provisioned (no detector, no GuardDuty, no response) nothing is detected and
// nothing blocked, and the feedback says why. Against a minimal set of controls this test builds as the
// account root, the grader credits exactly what each control did: GuardDuty with the threat feed detects
// the threat-list login (and does not block it); a network ACL deny of the C2 address blocks the
// beaconing (and detects nothing by itself); anomaly events count only when the detector function —
// the Lambda subscribed to the flow-log group — put them, never when the account root did.
import { describe, expect, it } from 'vitest';
import { zipSync, strToU8 } from 'fflate';
import { EC2Client, CreateNetworkAclEntryCommand } from '@aws-sdk/client-ec2';
import { GuardDutyClient, CreateDetectorCommand, CreateThreatIntelSetCommand, CreateFilterCommand, DeleteFilterCommand } from '@aws-sdk/client-guardduty';
import { EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { IAMClient, CreateRoleCommand, PutRolePolicyCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { LambdaClient, CreateFunctionCommand, AddPermissionCommand } from '@aws-sdk/client-lambda';
import { CloudWatchLogsClient, PutSubscriptionFilterCommand } from '@aws-sdk/client-cloudwatch-logs';
import { LabSession } from '../../src/engine/session.ts';
import type { Scenario, ScenarioResult } from '../../src/engine/types.ts';
import { provisionAdvanced } from '../../labs/advanced/provision.ts';
import { advancedEnv, advancedHidden, ANOMALY_DETAIL_TYPE, ANOMALY_SOURCE, FLOW_LOG_GROUP, type AdvancedLabEnv } from '../../labs/advanced/company.ts';
import { quietDayScenario } from '../../scenarios/advanced-quiet-day.ts';
import { slowExfiltrationScenario } from '../../scenarios/advanced-slow-exfiltration.ts';
import { ddosBurstScenario } from '../../scenarios/advanced-ddos-burst.ts';
import { c2BeaconingScenario } from '../../scenarios/advanced-c2-beaconing.ts';
import { stolenInstanceCredentialsScenario } from '../../scenarios/advanced-stolen-instance-credentials.ts';
import { advancedPortScanScenario } from '../../scenarios/advanced-port-scan.ts';
import { threatListLoginScenario } from '../../scenarios/advanced-threat-list-login.ts';
import { anomalyEvents } from '../../scenarios/lib/advanced.ts';
import { checks } from '../../labs/advanced/checks.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();

const ATTACKS: Scenario[] = [slowExfiltrationScenario, ddosBurstScenario, c2BeaconingScenario, stolenInstanceCredentialsScenario, advancedPortScanScenario, threatListLoginScenario];

async function provision(seed: string): Promise<{ session: LabSession; env: AdvancedLabEnv }> {
  const session = new LabSession(cloud(), cloud().createAccount(), seed);
  session.env = await provisionAdvanced(session);
  return { session, env: advancedEnv(session.env) };
}

/** One scenario as the grader runs it: the clock held, prepare → inject → observe → revert. */
async function run(session: LabSession, sc: Scenario): Promise<ScenarioResult> {
  return cloud().gateway.clock.exclusive(async () => {
    await session.alignClock();
    const state = sc.prepare ? await sc.prepare(session) : undefined;
    const steps = await sc.inject(session, state);
    const r = await sc.observe(session, steps, state);
    await sc.revert?.(session, state);
    return r;
  });
}

describe('lab advanced: the attacks against the account as provisioned', () => {
  it('nothing is detected and nothing is blocked, the business stays intact, and the feedback says why', async () => {
    const { session } = await provision('advanced-scenarios-1');
    const quiet = await run(session, quietDayScenario);
    // Staying quiet without anything watching earns nothing.
    expect(quiet.detected).toBe(false);
    expect(quiet.feedback).toMatch(/nothing watched the quiet day.*no detector is subscribed.*GuardDuty is not enabled/);
    const results: Record<string, ScenarioResult> = {};
    for (const sc of ATTACKS) results[sc.id] = await run(session, sc);
    for (const [id, r] of Object.entries(results)) {
      expect(r.detected, `${id}: ${r.feedback}`).toBe(false);
      expect(r.blocked, `${id}: ${r.feedback}`).toBe(false);
      expect(r.feedback, id).toMatch(/not detected: GuardDuty is not enabled \(no detector\)/);
      expect(r.feedback, id).toMatch(/not blocked/);
      expect(r.steps.length, id).toBeGreaterThan(0);
      expect(r.steps.at(-1)!.allowed, id).toBe(true);
      expect(r.timeToDetectMs, id).toBeUndefined();
      expect(r.timeToRespondMs, id).toBeUndefined();
    }
    // The network attacks also say no model saw the traffic.
    for (const id of ['slow-exfiltration', 'ddos-burst', 'c2-beaconing', 'port-scan']) expect(results[id]!.feedback).toMatch(/no Lambda function is subscribed to \/northwind\/vpc-flow-logs/);
    // The API attacks got what they wanted.
    // (ListBuckets, the attacker's `aws s3 ls`, is not in the role's policy: refused, recorded for GuardDuty.)
    const stolenSteps = results['stolen-instance-credentials']!.steps;
    expect(stolenSteps.filter((s) => !/ListBuckets/.test(s.description)).every((s) => s.allowed)).toBe(true);
    expect(stolenSteps.filter((s) => /ListBuckets/.test(s.description)).map((s) => s.errorCode)).toEqual(['AccessDenied', 'AccessDenied', 'AccessDenied', 'AccessDenied']);
    expect(results['threat-list-login']!.steps.every((s) => s.allowed)).toBe(true);
    expect(session.businessBroken).toBe(false);
  }, 600_000);
});

const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

/** A "detector" that models nothing: every invocation puts one anomaly event naming app-2. */
const NOISY_DETECTOR = `
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
const eb = new EventBridgeClient({});
export const handler = async () => {
  const detail = { host: process.env.HOST, windowStart: new Date().toISOString(), windowEnd: new Date().toISOString(), score: 9, threshold: 5, reasons: [], modelVersion: 1 };
  await eb.send(new PutEventsCommand({ Entries: [{ Source: '${ANOMALY_SOURCE}', DetailType: '${ANOMALY_DETAIL_TYPE}', Detail: JSON.stringify(detail) }] }));
  return { put: 1 };
};
`;

describe('lab advanced: the grader credits exactly what a control did', () => {
  it('GuardDuty with the threat feed detects the threat-list login and blocks nothing; a network ACL deny of the C2 blocks the beaconing and detects nothing', async () => {
    const { session, env } = await provision('advanced-scenarios-2');
    const h = advancedHidden(session.hidden);
    const gd = session.client(GuardDutyClient);
    const { DetectorId } = await gd.send(new CreateDetectorCommand({ Enable: true, FindingPublishingFrequency: 'FIFTEEN_MINUTES' }));
    await gd.send(new CreateThreatIntelSetCommand({ DetectorId, Name: 'northwind-feed', Format: 'TXT', Location: `s3://${env.threatIntel.bucket}/${env.threatIntel.key}`, Activate: true }));
    // Deny the C2 address on the app subnet's network ACL, both ways, before the allow rules.
    const ec2 = session.client(EC2Client);
    for (const Egress of [true, false]) {
      await ec2.send(new CreateNetworkAclEntryCommand({ NetworkAclId: env.subnets.app.networkAclId, RuleNumber: 10, Egress, Protocol: '-1', RuleAction: 'deny', CidrBlock: `${h.c2Ip}/32` }));
    }

    const login = await run(session, threatListLoginScenario);
    expect(login.detected, login.feedback).toBe(true);
    expect(login.blocked).toBe(false);
    expect(login.feedback).toMatch(/detected by GuardDuty (UnauthorizedAccess|Recon):IAMUser\/MaliciousIPCaller\.Custom/);
    expect(login.feedback).toMatch(/not blocked: the key still worked/);
    expect(login.timeToDetectMs).toBeGreaterThanOrEqual(0);
    // The first call of the first step raised it.
    expect(login.timeToDetectMs).toBeLessThan(60_000);
    expect(login.timeToRespondMs).toBeUndefined();

    const c2 = await run(session, c2BeaconingScenario);
    expect(c2.blocked, c2.feedback).toBe(true);
    expect(c2.feedback).toMatch(/blocked: every check-in was refused from step 1 of 4/);
    expect(c2.steps.every((s) => !s.allowed)).toBe(true);
    // The deny entry was made before the attack: the response time is that of the first refused step.
    expect(c2.timeToRespondMs).toBe(0);
    // Detected only if GuardDuty itself reported app-1's traffic to the listed address; never by a model.
    const about = session.gateway.service('guardduty').findings(session.accountId)
      .filter((f) => !f.service.archived && ['UnauthorizedAccess:EC2/MaliciousIPCaller.Custom', 'Backdoor:EC2/C&CActivity.B'].includes(f.type) && JSON.stringify(f.resource).includes(env.instances.find((i) => i.name === 'app-1')!.id));
    expect(c2.detected).toBe(about.length > 0);
    expect(c2.feedback).not.toMatch(/anomaly model \(/);

    // Nothing else blocks the stolen credentials: GuardDuty may see them, the response is missing.
    const stolen = await run(session, stolenInstanceCredentialsScenario);
    expect(stolen.blocked).toBe(false);
    expect(stolen.feedback).toMatch(/not blocked: the stolen credentials still worked/);
    expect(session.businessBroken).toBe(false);
  }, 600_000);

  it('anomaly events count when the subscribed detector function put them, not when the account root did', async () => {
    const { session, env } = await provision('advanced-scenarios-3');
    const app2 = env.instances.find((i) => i.name === 'app-2')!;
    // The root puts an event naming app-2 during the attack: a student's own credentials are not a detector.
    const root = session.client(EventBridgeClient);
    const start = session.now();
    await root.send(new PutEventsCommand({ Entries: [{ Source: ANOMALY_SOURCE, DetailType: ANOMALY_DETAIL_TYPE, Detail: JSON.stringify({ host: app2.privateIp, score: 9 }) }] }));
    expect(await anomalyEvents(session, start)).toEqual([]);

    // A detector function subscribed to the flow-log group (its events count, whatever it models).
    const iam = session.client(IAMClient);
    const role = (await iam.send(new CreateRoleCommand({ RoleName: 'noisy-detector', AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]) }))).Role!;
    await iam.send(new PutRolePolicyCommand({ RoleName: 'noisy-detector', PolicyName: 'put', PolicyDocument: doc([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: '*' }]) }));
    const lambda = session.client(LambdaClient);
    const fn = await lambda.send(new CreateFunctionCommand({
      FunctionName: 'noisy-detector', Runtime: 'nodejs20.x', Handler: 'index.handler', Timeout: 30, Role: role.Arn!,
      Code: { ZipFile: zipSync({ 'index.mjs': [strToU8(NOISY_DETECTOR), { mtime: new Date('1980-01-01T00:00:00Z') }] }) },
      Environment: { Variables: { HOST: app2.privateIp } },
    }));
    await lambda.send(new AddPermissionCommand({ FunctionName: 'noisy-detector', StatementId: 'logs', Action: 'lambda:InvokeFunction', Principal: 'logs.amazonaws.com', SourceArn: `arn:aws:logs:${session.cloud.region}:${session.accountId}:log-group:${FLOW_LOG_GROUP}:*` }));
    await session.client(CloudWatchLogsClient).send(new PutSubscriptionFilterCommand({ logGroupName: FLOW_LOG_GROUP, filterName: 'model', filterPattern: '', destinationArn: fn.FunctionArn! }));

    // A detector that alerts on every delivery is noise on the quiet day (and GuardDuty is off).
    const quiet = await run(session, quietDayScenario);
    expect(quiet.detected).toBe(false);
    expect(quiet.feedback).toMatch(/GuardDuty is not enabled/);
    const during = await anomalyEvents(session, start);
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((e) => e.function === 'noisy-detector' && e.host === app2.privateIp)).toBe(true);

    // Its events name app-2: the slow exfiltration from app-2 counts as detected by the model, not blocked.
    const exfil = await run(session, slowExfiltrationScenario);
    expect(exfil.detected, exfil.feedback).toBe(true);
    expect(exfil.blocked).toBe(false);
    expect(exfil.feedback).toMatch(/detected by anomaly model \(noisy-detector\)/);
    // It names no host of the DDoS: not detected there.
    const ddos = await run(session, ddosBurstScenario);
    expect(ddos.detected).toBe(false);
    expect(ddos.feedback).toMatch(/the detector \(noisy-detector\) put no Network Anomaly event naming/);
  }, 600_000);
});

const check = (id: string) => checks.find((c) => c.id === id)!;

describe('lab advanced: the GuardDuty and response checks', () => {
  it('pass on controls built with the SDK, and fail on an over-broad suppression rule and an over-privileged responder', async () => {
    const { session, env } = await provision('advanced-checks-1');
    const ids = ['guardduty-enabled', 'threat-list', 'scanner-suppressed', 'response-rules', 'responder-least-privilege'];
    for (const id of ids) expect((await check(id).run(session)).passed, id).toBe(false);

    const gd = session.client(GuardDutyClient);
    const { DetectorId } = await gd.send(new CreateDetectorCommand({ Enable: true, FindingPublishingFrequency: 'FIFTEEN_MINUTES' }));
    await gd.send(new CreateThreatIntelSetCommand({ DetectorId, Name: 'northwind-feed', Format: 'TXT', Location: `https://s3.amazonaws.com/${env.threatIntel.bucket}/${env.threatIntel.key}`, Activate: true }));
    for (const [name, path] of [['scanner-probes', 'service.action.portProbeAction.portProbeDetails.remoteIpDetails.ipAddressV4'], ['scanner-connections', 'service.action.networkConnectionAction.remoteIpDetails.ipAddressV4']]) {
      await gd.send(new CreateFilterCommand({ DetectorId, Name: name, Action: 'ARCHIVE', Rank: 1, FindingCriteria: { Criterion: { [path!]: { Eq: [env.knownScanner.ip] } } } }));
    }

    // A responder whose role may add network ACL entries and isolate instances, triggered by GuardDuty findings and anomaly events.
    const iam = session.client(IAMClient);
    const trust = doc([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
    const role = (await iam.send(new CreateRoleCommand({ RoleName: 'responder', AssumeRolePolicyDocument: trust }))).Role!;
    await iam.send(new PutRolePolicyCommand({
      RoleName: 'responder', PolicyName: 'respond', PolicyDocument: doc([
        { Effect: 'Allow', Action: ['ec2:CreateNetworkAclEntry', 'ec2:ModifyInstanceAttribute', 'ec2:Describe*'], Resource: '*' },
        { Effect: 'Allow', Action: ['iam:UpdateAccessKey'], Resource: `arn:aws:iam::${session.accountId}:user/${env.developer.userName}` },
        { Effect: 'Allow', Action: ['iam:PutRolePolicy'], Resource: env.instanceRole.arn },
      ]),
    }));
    const lambda = session.client(LambdaClient);
    const fn = await lambda.send(new CreateFunctionCommand({
      FunctionName: 'responder', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: role.Arn!,
      Code: { ZipFile: zipSync({ 'index.mjs': [strToU8('export const handler = async () => ({});'), { mtime: new Date('1980-01-01T00:00:00Z') }] }) },
    }));
    const events = session.client(EventBridgeClient);
    for (const [name, pattern] of [['guardduty', { source: ['aws.guardduty'], 'detail-type': ['GuardDuty Finding'] }], ['anomalies', { source: [env.anomalyEvents.source], 'detail-type': [env.anomalyEvents.detailType] }]] as const) {
      const rule = await events.send(new PutRuleCommand({ Name: name, EventPattern: JSON.stringify(pattern) }));
      await events.send(new PutTargetsCommand({ Rule: name, Targets: [{ Id: 'responder', Arn: fn.FunctionArn! }] }));
      await lambda.send(new AddPermissionCommand({ FunctionName: 'responder', StatementId: name, Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com', SourceArn: rule.RuleArn! }));
    }
    for (const id of ids) {
      const out = await check(id).run(session);
      expect(out.passed, `${id}: ${out.feedback}`).toBe(true);
    }

    // A filter on the finding type alone archives every scan, the scanner's and a real one.
    for (const name of ['scanner-probes', 'scanner-connections']) await gd.send(new DeleteFilterCommand({ DetectorId, FilterName: name }));
    await gd.send(new CreateFilterCommand({ DetectorId, Name: 'all-probes', Action: 'ARCHIVE', Rank: 1, FindingCriteria: { Criterion: { type: { Eq: ['Recon:EC2/PortProbeUnprotectedPort'] } } } }));
    const broad = await check('scanner-suppressed').run(session);
    expect(broad.passed).toBe(false);
    expect(broad.feedback).toMatch(/all-probes also archives the same finding about any other address/);

    // A responder that may administer IAM may make itself anything.
    await iam.send(new PutRolePolicyCommand({ RoleName: 'responder', PolicyName: 'admin-iam', PolicyDocument: doc([{ Effect: 'Allow', Action: 'iam:*', Resource: '*' }]) }));
    const priv = await check('responder-least-privilege').run(session);
    expect(priv.passed).toBe(false);
    expect(priv.feedback).toMatch(/responder: iam:CreateUser.*responder: iam:PutRolePolicy on role\/responder/);

    // Disabling dana's key before anything happened is not a response: the business check fails.
    expect((await check('developer-works').run(session)).passed).toBe(true);
    await iam.send(new UpdateAccessKeyCommand({ UserName: env.developer.userName, AccessKeyId: env.developer.accessKeyId, Status: 'Inactive' }));
    const dana = await check('developer-works').run(session);
    expect(dana.passed).toBe(false);
    expect(dana.feedback).toMatch(/access key .* is not active/);
  }, 300_000);
});
