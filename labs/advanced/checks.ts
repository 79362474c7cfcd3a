// Lab advanced's checks: the model graded on held-back days (evaluation.ts), the detector deployed and
// subscribed to the flow-log group, GuardDuty (detector, threat list, suppression of the contracted
// scanner), the response (EventBridge rules on GuardDuty findings and anomaly events targeting a
// responder, and the responder's role least privilege), and the business (customers, tiers, contractors
// and the application servers' data keep working). Everything is judged from the lab cloud's state and
// behaviour: rules by matching real event shapes, roles by the gateway's policy evaluator, the model by
// loading its file as data.
import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3';
import { LambdaClient, GetFunctionConfigurationCommand, GetPolicyCommand } from '@aws-sdk/client-lambda';
import { GuardDutyClient, ListDetectorsCommand, ListFiltersCommand, GetFilterCommand } from '@aws-sdk/client-guardduty';
import type { Check, CheckOutcome } from '../../src/engine/types.ts';
import type { LabSession } from '../../src/engine/session.ts';
import type { Credential } from '../../src/cloud/gateway/credentials.ts';
import { matches } from '../../src/cloud/services/guardduty/criteria.ts';
import { eventDetail, sampleDraft, type Finding, type JsonObject } from '../../src/cloud/services/guardduty/findings.ts';
import { compile } from '../../src/cloud/services/logs/filter-pattern/index.ts';
import { parseLogFormat, type FlowLogConfig } from '../../src/cloud/services/ec2/dataplane/index.ts';
import { DAY_MS, companyFlows } from './baseline.ts';
import { evaluationPeriod, gradeModel, type EvaluationPeriod } from './evaluation.ts';
import {
  advancedEnv, advancedHidden, ANOMALY_DETAIL_TYPE, ANOMALY_SOURCE, FLOW_LOG_GROUP, INSTANCE_ROLE, MAX_NORMAL_ALERT_RATE, MIN_ROC_AUC, type AdvancedLabEnv,
} from './company.ts';
import { instance } from '../network/company.ts';
import { detectors, probe, topology } from '../../scenarios/lib/advanced.ts';

const env = (s: LabSession): AdvancedLabEnv => advancedEnv(s.env);
const pass = (feedback: string): CheckOutcome => ({ passed: true, feedback });
const fail = (feedback: string): CheckOutcome => ({ passed: false, feedback });
/** The largest model file the grader reads (a trained model is about 1.5 MB). */
const MAX_MODEL_BYTES = 20 * 1024 * 1024;

// ---- the held-back evaluation ----

const periods = new WeakMap<LabSession, Promise<EvaluationPeriod>>();

function period(s: LabSession): Promise<EvaluationPeriod> {
  let p = periods.get(s);
  if (!p) {
    p = (async () => {
      const e = env(s);
      const t = await topology(s);
      // The flow log as provisioned (the student may have changed the account's; the evaluation is the company's traffic).
      const flowLog: FlowLogConfig = { id: e.flowLogs.flowLogId, resourceId: e.vpcs.sensitive.id, trafficType: 'ALL', destinationType: 'cloud-watch-logs', logGroupName: FLOW_LOG_GROUP, maxAggregationInterval: 60 };
      const lastKey = e.baseline.keys.at(-1) ?? '';
      const day = Date.parse(`${lastKey.slice(e.baseline.prefix.length, e.baseline.prefix.length + 10)}T00:00:00Z`);
      const baselineEnd = Number.isFinite(day) ? day + DAY_MS : Math.floor(s.now() / DAY_MS) * DAY_MS;
      return evaluationPeriod(e, t, flowLog, { scannerIp: e.knownScanner.ip, seed: advancedHidden(s.hidden).evaluationSeed, baselineEnd });
    })();
    periods.set(s, p);
  }
  return p;
}

async function modelFile(s: LabSession): Promise<{ bytes?: Uint8Array; why?: string }> {
  const e = env(s);
  try {
    const out = await s.client(S3Client).send(new GetObjectCommand({ Bucket: e.artifacts.bucket, Key: e.artifacts.modelKey }));
    if ((out.ContentLength ?? 0) > MAX_MODEL_BYTES) return { why: `s3://${e.artifacts.bucket}/${e.artifacts.modelKey} is ${out.ContentLength} bytes; a model file is a few MB at most` };
    const bytes = await out.Body!.transformToByteArray();
    if (bytes.length > MAX_MODEL_BYTES) return { why: `the model file is ${bytes.length} bytes; a model file is a few MB at most` };
    return { bytes };
  } catch (err) {
    const name = (err as { name?: string }).name;
    return { why: name === 'NoSuchKey' ? `there is no model at s3://${e.artifacts.bucket}/${e.artifacts.modelKey}: train it on the baseline (seclab anomaly train) and upload model.json there` : `the model file could not be read (${name}: ${(err as Error).message})` };
  }
}

// ---- role decisions ----

async function roleDecides(s: LabSession, roleName: string, action: string, resource: string): Promise<boolean> {
  const now = s.gateway.clock.now();
  const roleArn = `arn:aws:iam::${s.accountId}:role/${roleName}`;
  const cred: Credential = {
    accessKeyId: 'ASIASIMULATED0000000', secret: '', account: s.accountId, kind: 'role-session', roleName, roleArn,
    sessionName: 'seclab-grader', arn: `arn:aws:sts::${s.accountId}:assumed-role/${roleName}/seclab-grader`, status: 'Active',
    issuedAt: now, expiresAt: new Date(now.getTime() + 3600_000),
  };
  const context = s.gateway.contextOf(cred, '127.0.0.1', 'seclab-grader', { region: s.cloud.region });
  return (await s.gateway.decide(cred, action, resource, context, s.cloud.region)).decision === 'Allow';
}

// ---- what a rule must match ----

/** A GuardDuty finding about `what`, as the runtime shapes it (from the sample catalog, with real values). */
function finding(s: LabSession, type: string, fill: (f: JsonObject) => void): Finding {
  const d = sampleDraft(type, s.accountId);
  const f: Finding = {
    schemaVersion: '2.0', accountId: s.accountId, region: s.cloud.region, partition: 'aws', id: 'grader', arn: `arn:aws:guardduty:${s.cloud.region}:${s.accountId}:detector/x/finding/grader`,
    type, resource: d.resource, severity: type.includes('Exfiltration') || type.includes('C&C') ? 8 : 5, createdAt: new Date(s.now()).toISOString(), updatedAt: new Date(s.now()).toISOString(), title: type, description: type,
    service: { serviceName: 'guardduty', detectorId: 'x', action: d.action, resourceRole: d.resourceRole, additionalInfo: { value: '{}', type: 'default' }, eventFirstSeen: '', eventLastSeen: '', archived: false, count: 1 },
  };
  fill(f as unknown as JsonObject);
  return f;
}

/** A finding about the known scanner (or another address) probing web-1, in both shapes GuardDuty uses. */
function probeFindings(s: LabSession, ip: string): Finding[] {
  const e = env(s);
  const web = instance(e, 'web-1');
  const remote = { ipAddressV4: ip, organization: { asn: '-1', asnOrg: 'UNKNOWN', isp: 'UNKNOWN', org: 'UNKNOWN' }, country: { countryName: 'UNKNOWN' } };
  const net = finding(s, 'Recon:EC2/PortProbeUnprotectedPort', (f) => {
    ((f['resource'] as JsonObject)['instanceDetails'] as JsonObject)['instanceId'] = web.id;
    ((f['service'] as JsonObject)['action'] as JsonObject) = {
      actionType: 'PORT_PROBE', portProbeAction: { blocked: false, portProbeDetails: [{ localPortDetails: { port: 443, portName: 'HTTPS' }, remoteIpDetails: remote, localIpDetails: { ipAddressV4: web.privateIp } }] },
    };
  });
  const conn = finding(s, 'Recon:EC2/PortProbeUnprotectedPort', (f) => {
    ((f['resource'] as JsonObject)['instanceDetails'] as JsonObject)['instanceId'] = web.id;
    ((f['service'] as JsonObject)['action'] as JsonObject) = {
      actionType: 'NETWORK_CONNECTION', networkConnectionAction: { connectionDirection: 'INBOUND', protocol: 'TCP', blocked: false, remoteIpDetails: remote, localPortDetails: { port: 443 }, remotePortDetails: { port: 50000 } },
    };
  });
  return [net, conn];
}

interface RuleTarget { rule: string; functionName: string; roleName?: string }

/** Enabled rules of the default bus whose pattern matches the event, with their Lambda targets. */
async function rulesFor(s: LabSession, event: JsonObject): Promise<RuleTarget[]> {
  const rules = await s.gateway.service('events').rulesOf(s.accountId, s.cloud.region);
  const lambda = s.client(LambdaClient);
  const out: RuleTarget[] = [];
  for (const r of rules) {
    if (!r.pattern?.matches(event)) continue;
    for (const t of r.targets) {
      if (!t.Arn.startsWith('arn:aws:lambda:')) continue;
      const cfg = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: t.Arn })).catch(() => undefined);
      if (!cfg?.FunctionName) continue;
      out.push({ rule: r.rule.Name, functionName: cfg.FunctionName, ...(cfg.Role ? { roleName: cfg.Role.split('/').pop()! } : {}) });
    }
  }
  return out;
}

const busEvent = (s: LabSession, source: string, detailType: string, detail: unknown): JsonObject => ({
  version: '0', id: '00000000-0000-0000-0000-000000000000', 'detail-type': detailType, source, account: s.accountId, time: new Date(s.now()).toISOString(), region: s.cloud.region, resources: [], detail,
});

/** The events the response must act on: a GuardDuty finding of each kind the attacks raise, and an anomaly event. */
function responseEvents(s: LabSession): { what: string; event: JsonObject }[] {
  const e = env(s);
  const app = instance(e, 'app-1');
  const gd = (type: string, fill: (f: JsonObject) => void) => busEvent(s, 'aws.guardduty', 'GuardDuty Finding', eventDetail(finding(s, type, fill)));
  return [
    { what: 'a GuardDuty finding on an instance (Backdoor:EC2/C&CActivity.B)', event: gd('Backdoor:EC2/C&CActivity.B', (f) => { ((f['resource'] as JsonObject)['instanceDetails'] as JsonObject)['instanceId'] = app.id; }) },
    { what: 'a GuardDuty finding on an access key (UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom)', event: gd('UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom', (f) => { Object.assign((f['resource'] as JsonObject)['accessKeyDetails'] as JsonObject, { accessKeyId: e.developer.accessKeyId, userName: e.developer.userName }); }) },
    { what: 'a GuardDuty finding on instance credentials used outside (InstanceCredentialExfiltration.OutsideAWS)', event: gd('UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS', (f) => { Object.assign((f['resource'] as JsonObject)['accessKeyDetails'] as JsonObject, { userName: INSTANCE_ROLE, userType: 'AssumedRole' }); }) },
    { what: `an anomaly event (${ANOMALY_SOURCE} / ${ANOMALY_DETAIL_TYPE})`, event: busEvent(s, ANOMALY_SOURCE, ANOMALY_DETAIL_TYPE, { host: app.privateIp, instanceId: app.id, windowStart: new Date(s.now() - 60_000).toISOString(), windowEnd: new Date(s.now()).toISOString(), score: 9.5, threshold: 5, reasons: [{ feature: 'bytes_out', value: 3e6, normal: 2e4 }], modelVersion: 1 }) },
  ];
}

async function responders(s: LabSession): Promise<{ found: Map<string, RuleTarget[]>; functions: Map<string, RuleTarget> }> {
  const found = new Map<string, RuleTarget[]>();
  const functions = new Map<string, RuleTarget>();
  for (const { what, event } of responseEvents(s)) {
    const r = await rulesFor(s, event);
    found.set(what, r);
    for (const t of r) functions.set(t.functionName, t);
  }
  return { found, functions };
}

async function invokableByEvents(s: LabSession, functionName: string): Promise<boolean> {
  const text = await s.client(LambdaClient).send(new GetPolicyCommand({ FunctionName: functionName })).then((r) => r.Policy, () => undefined);
  return !!text && text.includes('events.amazonaws.com');
}

// ---- business ----

async function businessProbe(s: LabSession, minutes: number, labels: string[], what: string): Promise<CheckOutcome> {
  const e = env(s);
  const now = s.now();
  const flows = companyFlows(e, await topology(s), e.knownScanner.ip, now, now + minutes * 60_000, `business|${labels.join(',')}`).filter((f) => labels.includes(f.label ?? ''));
  if (!flows.length) return fail(`no ${what} traffic could be simulated (no instance left running in a tier?)`);
  const verdicts = await probe(s, flows);
  const refused = verdicts.map((v, i) => [v, flows[i]!] as const).filter(([v]) => v.action !== 'ACCEPT');
  if (!refused.length) return pass(`${flows.length} ${what} connections get through`);
  const [v, f] = refused[0]!;
  return fail(`${refused.length} of ${flows.length} ${what} connections are refused, e.g. ${f.srcaddr} → ${f.dstaddr}:${f.dstport}: ${v.reason}`);
}

export const checks: Check[] = [
  // ---- task 1: the model ----
  {
    id: 'model-held-back', title: 'The anomaly model separates attacks from normal traffic on held-back days', kind: 'posture', points: 12, task: 'model',
    async run(s) {
      const file = await modelFile(s);
      if (!file.bytes) return fail(file.why!);
      const g = gradeModel(file.bytes, await period(s), { minRocAuc: MIN_ROC_AUC, maxAlertRate: MAX_NORMAL_ALERT_RATE });
      return g.ok ? pass(g.message) : fail(g.message);
    },
  },

  // ---- task 2: the detector ----
  {
    id: 'detector-subscribed', title: 'A detector Lambda is subscribed to the flow-log group and may publish anomaly events', kind: 'posture', points: 6, task: 'detector',
    // After the attacks: a detector that was never invoked, or failed every time, detected nothing.
    afterAttacks: true,
    async run(s) {
      const dets = await detectors(s);
      if (!dets.length) return fail(`no Lambda function is subscribed to ${FLOW_LOG_GROUP} (PutSubscriptionFilter with the function's ARN, and lambda AddPermission for logs.amazonaws.com)`);
      const lambda = s.client(LambdaClient);
      const problems: string[] = [];
      const { subscription } = await s.gateway.service('logs').filters(s.accountId, s.cloud.region, FLOW_LOG_GROUP);
      const line = parseLogFormat(undefined).render({ interfaceId: 'eni-0123456789abcdef0', accountId: s.accountId, logStatus: 'OK', start: 1, end: 60, srcaddr: '10.20.2.11', dstaddr: '185.220.101.7', srcport: 40000, dstport: 443, protocol: 6, packets: 2000, bytes: 3_000_000, action: 'ACCEPT' });
      for (const d of dets) {
        const cfg = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: d.functionName })).catch(() => undefined);
        if (cfg?.Runtime && !cfg.Runtime.startsWith('nodejs')) problems.push(`${d.functionName} runs ${cfg.Runtime}; the lab cloud runs Node.js functions (nodejs20.x)`);
        const f = subscription.find((x) => x.filterName === d.filterName);
        let matchesAll = false;
        try {
          matchesAll = compile(f?.filterPattern ?? '', { operation: 'PutSubscriptionFilter' }).test(line);
        } catch {
          matchesAll = false;
        }
        if (!matchesAll) problems.push(`the subscription filter ${d.filterName} does not pass ordinary flow-log records (an ACCEPT record of app-2): use an empty filter pattern so the model sees all traffic`);
        if (!(await roleDecides(s, d.roleName, 'events:PutEvents', `arn:aws:events:${s.cloud.region}:${s.accountId}:event-bus/default`))) problems.push(`${d.functionName}'s role ${d.roleName} may not events:PutEvents on the default bus`);
        const text = await lambda.send(new GetPolicyCommand({ FunctionName: d.functionName })).then((r) => r.Policy, () => undefined);
        if (!text?.includes('logs.amazonaws.com')) problems.push(`${d.functionName} has no resource policy letting logs.amazonaws.com invoke it (lambda AddPermission)`);
      }
      const ok = dets.filter((d) => !problems.some((p) => p.includes(d.functionName) || p.includes(d.filterName)));
      if (!ok.length) return fail(problems.join('; '));
      const wired = `${ok.map((d) => d.functionName).join(', ')} is subscribed to ${FLOW_LOG_GROUP} and may put events on the default bus`;
      if (!s.attacksRan) return pass(wired);
      const runs = s.gateway.service('lambda').invocations.filter((i) => i.account === s.accountId && ok.some((d) => d.functionName === i.functionName));
      if (!runs.length) return fail(`${wired}, but it was never invoked during the attacks`);
      if (runs.every((r) => r.result.functionError)) {
        const p = runs[0]!.result.payload as { errorType?: string; errorMessage?: string } | undefined;
        return fail(`${wired}, but all ${runs.length} invocations failed (${p?.errorType ?? 'error'}: ${String(p?.errorMessage ?? '').slice(0, 160)})`);
      }
      return pass(`${wired}; it ran ${runs.length} times`);
    },
  },

  // ---- task 3: GuardDuty ----
  {
    id: 'guardduty-enabled', title: 'GuardDuty is enabled, publishing findings every 15 minutes', kind: 'posture', points: 3, task: 'guardduty',
    async run(s) {
      const d = s.gateway.service('guardduty').detector(s.accountId, s.cloud.region);
      if (!d) return fail(`GuardDuty has no detector in ${s.cloud.region}: CreateDetector with Enable true`);
      if (d.status !== 'ENABLED') return fail(`the GuardDuty detector ${d.detectorId} is disabled`);
      if (d.findingPublishingFrequency !== 'FIFTEEN_MINUTES') return fail(`the detector publishes updates of findings every ${d.findingPublishingFrequency}: FIFTEEN_MINUTES gets repeated activity to the responder sooner`);
      return pass(`detector ${d.detectorId} enabled, FIFTEEN_MINUTES`);
    },
  },
  {
    id: 'threat-list', title: 'A ThreatIntelSet from the company\'s threat feed is ACTIVE', kind: 'posture', points: 4, task: 'guardduty',
    async run(s) {
      const e = env(s);
      const h = advancedHidden(s.hidden);
      const gd = s.gateway.service('guardduty');
      const lists = gd.lists(s.accountId, s.cloud.region).filter((l) => l.kind === 'ThreatIntelSet');
      if (!lists.length) return fail(`no ThreatIntelSet: CreateThreatIntelSet with Format TXT, Location s3://${e.threatIntel.bucket}/${e.threatIntel.key} and Activate true`);
      const bad = lists.filter((l) => l.status !== 'ACTIVE');
      const named = [h.c2Ip, h.threatLoginIp].every((ip) => gd.threatList(s.accountId, s.cloud.region, ip));
      if (!named) return fail(bad.length ? `${bad.map((l) => `${l.name} is ${l.status}${l.reason ? ` (${l.reason})` : ''}`).join('; ')}` : 'the active threat lists do not hold the company\'s feed (every address of env.threatIntel)');
      return pass(`${lists.filter((l) => l.status === 'ACTIVE').map((l) => `${l.name} (${l.entries ?? '?'} entries)`).join(', ')} ACTIVE`);
    },
  },
  {
    id: 'scanner-suppressed', title: 'The contracted scanner\'s findings are archived by a filter, and only its', kind: 'posture', points: 3, task: 'guardduty',
    async run(s) {
      const e = env(s);
      const gd = s.client(GuardDutyClient);
      const detectorId = (await gd.send(new ListDetectorsCommand({})).catch(() => ({ DetectorIds: [] }))).DetectorIds?.[0];
      if (!detectorId) return fail('GuardDuty has no detector, so no filter');
      const names = (await gd.send(new ListFiltersCommand({ DetectorId: detectorId }))).FilterNames ?? [];
      const filters = [];
      for (const n of names) {
        const f = await gd.send(new GetFilterCommand({ DetectorId: detectorId, FilterName: n })).catch(() => undefined);
        if (f?.Action === 'ARCHIVE') filters.push(f);
      }
      if (!filters.length) return fail(`no ARCHIVE filter: CreateFilter with Action ARCHIVE and FindingCriteria on the scanner's address (${e.knownScanner.ip})`);
      // The SDK gives the criteria in its own casing; the runtime matches the API's JSON: read them through the runtime's view.
      const raw = filters.map((f) => ({ name: f.Name!, criteria: criteriaJson(f.FindingCriteria) }));
      const scanner = probeFindings(s, e.knownScanner.ip).map(eventDetail);
      const rogue = probeFindings(s, '185.220.101.77').map(eventDetail);
      const suppressing = raw.filter((f) => scanner.some((x) => matches(x, f.criteria)));
      if (!suppressing.length) return fail(`no ARCHIVE filter matches a finding about ${e.knownScanner.ip} probing web-1 (criteria on service.action.networkConnectionAction.remoteIpDetails.ipAddressV4 and service.action.portProbeAction.portProbeDetails.remoteIpDetails.ipAddressV4)`);
      const broad = suppressing.filter((f) => rogue.some((x) => matches(x, f.criteria)));
      if (broad.length) return fail(`${broad.map((f) => f.name).join(', ')} also archives the same finding about any other address: it would hide a real scan — name the scanner's address`);
      return pass(`${suppressing.map((f) => f.name).join(', ')} archive(s) findings about ${e.knownScanner.ip} and nothing else of the kind`);
    },
  },

  // ---- task 4: the response ----
  {
    id: 'response-rules', title: 'EventBridge rules send GuardDuty findings and anomaly events to a responder', kind: 'posture', points: 6, task: 'response',
    afterAttacks: true,
    async run(s) {
      const { found, functions } = await responders(s);
      const missing = [...found].filter(([, r]) => !r.length).map(([what]) => what);
      if (missing.length) return fail(`no enabled rule on the default bus targets a Lambda function for ${missing.join('; ')}`);
      const refused: string[] = [];
      for (const fn of functions.keys()) if (!(await invokableByEvents(s, fn))) refused.push(fn);
      if (refused.length) return fail(`${refused.join(', ')} may not be invoked by events.amazonaws.com (lambda AddPermission with the rule's ARN as SourceArn)`);
      const wired = `${[...new Set([...found.values()].flat().map((t) => `${t.rule} → ${t.functionName}`))].join(', ')}`;
      if (!s.attacksRan) return pass(wired);
      const runs = s.gateway.service('lambda').invocations.filter((i) => i.account === s.accountId && functions.has(i.functionName));
      if (runs.length && runs.every((r) => r.result.functionError)) return fail(`${wired}, but every one of its ${runs.length} invocations during the attacks failed`);
      return pass(`${wired}${runs.length ? `; ran ${runs.length} times` : ''}`);
    },
  },
  {
    id: 'responder-least-privilege', title: 'The responder\'s role can do nothing else of consequence', kind: 'posture', points: 6, task: 'response', restrictive: true,
    async run(s) {
      const e = env(s);
      const { functions } = await responders(s);
      const roles = [...new Set([...functions.values()].map((t) => t.roleName).filter((r): r is string => !!r))];
      if (!roles.length) return fail('there is no responder with an execution role yet');
      const arn = (type: string, id: string) => `arn:aws:ec2:${s.cloud.region}:${s.accountId}:${type}/${id}`;
      const acct = s.accountId;
      const probes: [string, string][] = [
        ['iam:CreateUser', `arn:aws:iam::${acct}:user/backdoor`],
        ['iam:CreateAccessKey', `arn:aws:iam::${acct}:user/${e.developer.userName}`],
        ['iam:AttachUserPolicy', `arn:aws:iam::${acct}:user/${e.developer.userName}`],
        ['iam:DeleteUser', `arn:aws:iam::${acct}:user/${e.developer.userName}`],
        ['iam:PassRole', `arn:aws:iam::${acct}:role/${INSTANCE_ROLE}`],
        ['iam:UpdateAssumeRolePolicy', `arn:aws:iam::${acct}:role/${INSTANCE_ROLE}`],
        ['iam:CreateRole', `arn:aws:iam::${acct}:role/backdoor`],
        ['ec2:TerminateInstances', arn('instance', instance(e, 'db-1').id)],
        ['ec2:DeleteNetworkAcl', arn('network-acl', e.subnets.web.networkAclId)],
        ['ec2:DeleteFlowLogs', '*'],
        ['ec2:AuthorizeSecurityGroupIngress', arn('security-group', e.securityGroups.db)],
        ['ec2:RunInstances', '*'],
        ['ec2:DeleteVpc', arn('vpc', e.vpcs.sensitive.id)],
        ['s3:GetObject', `arn:aws:s3:::${e.dataBucket}/customers/emea.csv`],
        ['s3:DeleteBucket', `arn:aws:s3:::${e.dataBucket}`],
        ['logs:DeleteLogGroup', `arn:aws:logs:${s.cloud.region}:${acct}:log-group:${FLOW_LOG_GROUP}:log-stream:`],
        ['guardduty:DeleteDetector', `arn:aws:guardduty:${s.cloud.region}:${acct}:detector/x`],
        ['guardduty:CreateFilter', `arn:aws:guardduty:${s.cloud.region}:${acct}:detector/x/filter/x`],
        ['events:DeleteRule', `arn:aws:events:${s.cloud.region}:${acct}:rule/x`],
        ['lambda:UpdateFunctionCode', `arn:aws:lambda:${s.cloud.region}:${acct}:function:x`],
      ];
      const allowed: string[] = [];
      for (const role of roles) {
        // Its own role: a responder that may rewrite its own permissions may do anything.
        for (const [action, resource] of [...probes, ['iam:PutRolePolicy', `arn:aws:iam::${acct}:role/${role}`] as [string, string], ['iam:AttachRolePolicy', `arn:aws:iam::${acct}:role/${role}`] as [string, string]]) {
          if (await roleDecides(s, role, action, resource)) allowed.push(`${role}: ${action}${resource.includes(':role/') || resource.includes(':user/') ? ` on ${resource.split(':').pop()}` : ''}`);
        }
      }
      return allowed.length
        ? fail(`the responder may also: ${[...new Set(allowed)].join(', ')} — grant only what responding needs (network ACL entries, the instance's security groups, the app role's inline policy, the key's status, SNS)`)
        : pass(`${roles.join(', ')} limited to what responding needs`);
    },
  },

  // ---- business ----
  {
    id: 'customers-reach-web-site', title: 'Customers can still reach the web site', kind: 'business', points: 0,
    run: (s) => businessProbe(s, 10, ['web'], 'customer HTTPS'),
  },
  {
    id: 'tiers-work', title: 'The web tier reaches the app tier and the app tier the database', kind: 'business', points: 0,
    run: (s) => businessProbe(s, 10, ['web-app', 'app-db'], 'web → app and app → database'),
  },
  {
    id: 'contractors-reach-bastion', title: 'Contractors can still SSH to the bastion', kind: 'business', points: 0,
    run: (s) => businessProbe(s, 30, ['contractor-ssh'], 'contractor SSH'),
  },
  {
    id: 'developer-works', title: 'dana, the developer, can still work with her key', kind: 'business', points: 0,
    async run(s) {
      const e = env(s);
      // After the attacks her key may be disabled: the threat-list login used a copy of it (the response).
      if (s.hidden['advancedAttacksBegan'] === true) return pass('not judged after the attacks: a key the responder disabled after a login from a threat-list address stays disabled until dana gets a new one');
      const key = s.keysOf(e.developer.userName).find((k) => k.accessKeyId === e.developer.accessKeyId);
      if (!key) return fail(`${e.developer.userName}'s access key ${e.developer.accessKeyId} is not active: disable a key when it is misused (the response), not before`);
      const d = await s.decide(e.developer.userName, 's3:ListBucket', `arn:aws:s3:::${e.dataBucket}`, { sourceIp: '203.0.113.10' });
      if (d.decision !== 'Allow') return fail(`${e.developer.userName} may no longer list ${e.dataBucket} from the office (${d.decision})`);
      return pass(`${e.developer.userName}'s key is active and she lists ${e.dataBucket} from the office`);
    },
  },
  {
    id: 'apps-read-customer-data', title: 'The application servers read customer data with their role', kind: 'business', points: 0,
    async run(s) {
      const e = env(s);
      const imds = s.gateway.service('ec2').imds;
      for (const name of ['app-1', 'app-2']) {
        const r = await imds.sdkGet(s.accountId, instance(e, name).id, `/latest/meta-data/iam/security-credentials/${INSTANCE_ROLE}`);
        if (r.status !== 200) return fail(`${name} gets no credentials for ${INSTANCE_ROLE} from its metadata service (HTTP ${r.status}): keep the instance profile on the application servers`);
      }
      // A session of the role issued now (what the instances get once their credentials rotate): sessions
      // revoked during the attacks are refused, as on AWS, but the role itself must still work.
      const missing: string[] = [];
      for (const [action, resource] of [['s3:ListBucket', `arn:aws:s3:::${e.dataBucket}`], ['s3:GetObject', `arn:aws:s3:::${e.dataBucket}/customers/emea.csv`]] as const) {
        if (!(await roleDecides(s, INSTANCE_ROLE, action, resource))) missing.push(action);
      }
      if (missing.length) return fail(`a new session of ${INSTANCE_ROLE} may not ${missing.join(' or ')} on ${e.dataBucket}: revoke sessions issued before the incident (aws:TokenIssueTime), not the role's permissions`);
      return pass(`app-1 and app-2 get ${INSTANCE_ROLE} credentials, and a new session of it reads s3://${e.dataBucket}/customers/`);
    },
  },
];

/** The SDK's FindingCriteria ({ Criterion: { k: { Eq, Equals, ... } } }) as the API's JSON ({ criterion: { k: { eq, equals } } }). */
function criteriaJson(c: unknown): JsonObject {
  const crit = (c as { Criterion?: Record<string, Record<string, unknown>> } | undefined)?.Criterion ?? {};
  const out: Record<string, Record<string, unknown>> = {};
  for (const [k, cond] of Object.entries(crit)) {
    out[k] = Object.fromEntries(Object.entries(cond ?? {}).filter(([, v]) => v !== undefined).map(([op, v]) => [op.charAt(0).toLowerCase() + op.slice(1), v]));
  }
  return { criterion: out };
}

