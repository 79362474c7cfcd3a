// Lab network end to end on the real lab cloud: the reference solution, the starter, and defective
// variants of the reference solution (and of its responder), each of which must lose exactly the
// checks and attack points its defect breaks.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, FilterLogEventsCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { gradeLab } from '../../src/engine/grader.ts';
import { findLab, SOLUTIONS_DIR } from '../../src/engine/labs.ts';
import type { CheckGrade, LabGrade } from '../../src/engine/types.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
const REFERENCE = path.join(SOLUTIONS_DIR, 'network');
const SCENARIOS = ['exfiltration', 'port-scan', 'ssh-brute-force'];

type Edit = [file: 'solution.ts' | 'responder/index.mjs', from: string, to: string];

/** A workspace whose network/ folder is the reference with the edits applied (every occurrence of `from`). */
function variant(...edits: Edit[]): string {
  const ws = mkdtempSync(path.join(os.tmpdir(), 'seclab-network-'));
  writeFileSync(path.join(ws, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  cpSync(REFERENCE, path.join(ws, 'network'), { recursive: true });
  for (const [file, from, to] of edits) {
    const p = path.join(ws, 'network', file);
    const text = readFileSync(p, 'utf8');
    expect(text).toContain(from);
    writeFileSync(p, text.split(from).join(to));
  }
  return ws;
}

const failed = (g: LabGrade) => [...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => c.id).sort();
const scenario = (g: LabGrade, id: string): CheckGrade => g.scenarios.find((s) => s.id === id)!;

async function grade(workspace: string): Promise<LabGrade> {
  return gradeLab(cloud(), await findLab('network'), { workspace });
}

describe('lab network', () => {
  it('gives the reference solution full marks: every attack detected and blocked, the business intact', async () => {
    const g = await grade(SOLUTIONS_DIR);
    expect(g.student.every((r) => r.ok)).toBe(true);
    expect(failed(g)).toEqual([]);
    expect(g.score).toBe(g.maxScore);
    expect(g.maxScore).toBe(100);
    expect(g.scenarios.map((s) => s.id).sort()).toEqual(SCENARIOS);
    for (const s of g.scenarios) {
      expect(s).toMatchObject({ detected: true, blocked: true, businessIntact: true });
      // Lab time: the alarm evaluates each minute, the responder acts right after.
      expect(s.timeToDetectMs).toBeGreaterThan(0);
      expect(s.timeToDetectMs).toBeLessThanOrEqual(3 * 60_000);
      expect(s.timeToRespondMs).toBeGreaterThan(0);
      expect(s.timeToRespondMs).toBeLessThanOrEqual(3 * 60_000);
      // Before the response the attack got through; after it, nothing did.
      expect(s.steps![0]!.allowed).toBe(true);
      expect(s.steps!.at(-1)!.allowed).toBe(false);
    }
  });

  it('gives the untouched starter at most 10 %', async () => {
    const lab = await findLab('network');
    const g = await grade(lab.starter);
    expect(g.student.every((r) => r.ok)).toBe(true);
    expect(g.score / g.maxScore).toBeLessThanOrEqual(0.1);
    expect(g.scenarios.some((s) => s.detected || s.blocked)).toBe(false);
    expect(g.checks.filter((c) => c.kind === 'business').every((c) => c.passed)).toBe(true);
  });

  it('flow logs on the wrong VPC: nothing is seen, so nothing is detected or blocked', async () => {
    const g = await grade(variant(['solution.ts', 'ResourceIds: [vpc.id]', 'ResourceIds: [env.vpcs.sandbox.id]']));
    // The alarms are judged as if the flow log were on the right VPC (its placement costs the first check).
    expect(failed(g)).toEqual(['exfiltration', 'flow-logs-sensitive-vpc', 'port-scan', 'ssh-brute-force']);
    expect(g.scenarios.every((s) => !s.detected && !s.blocked && s.points === 0)).toBe(true);
  });

  it('ACCEPT-only flow logs: refused connections are invisible, so the alarms on them cannot go off; the exfiltration is seen', async () => {
    const g = await grade(variant(['solution.ts', "TrafficType: 'ALL'", "TrafficType: 'ACCEPT'"]));
    expect(failed(g)).toEqual(['alarm-rejected-ssh', 'alarm-unexpected-traffic', 'flow-logs-all-traffic', 'port-scan', 'ssh-brute-force']);
    expect(scenario(g, 'exfiltration')).toMatchObject({ detected: true, blocked: true });
  });

  it('REJECT-only flow logs: the outbound-volume alarm is judged on the records the flow log really writes, and loses with the exfiltration', async () => {
    const g = await grade(variant(['solution.ts', "TrafficType: 'ALL'", "TrafficType: 'REJECT'"]));
    expect(failed(g)).toEqual(['alarm-outbound-bytes', 'exfiltration', 'flow-logs-all-traffic']);
    expect(g.checks.find((c) => c.id === 'alarm-outbound-bytes')!.feedback).toMatch(/record only REJECT traffic, and this attack is accepted traffic/);
  });

  it('honest alternative: flow logs on each production subnet instead of the VPC keep full marks', async () => {
    const g = await grade(variant(['solution.ts', "ResourceType: 'VPC', ResourceIds: [vpc.id],", "ResourceType: 'Subnet', ResourceIds: [env.subnets.web.id, env.subnets.app.id, env.subnets.db.id],"]));
    expect(failed(g)).toEqual([]);
    expect(g.score).toBe(100);
  });

  it('honest alternative: a custom (version 5) log format with filters written for it keeps full marks', async () => {
    const fields = '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${flow-direction}';
    const g = await grade(variant(
      ['solution.ts', '    MaxAggregationInterval: 60,\n', `    MaxAggregationInterval: 60, LogFormat: '${fields}',\n`],
      ['solution.ts', ', status]', ', status, vpc, direction]'],
    ));
    expect(failed(g)).toEqual([]);
    expect(g.score).toBe(100);
  });

  it('a custom log format the filters were not written for: the alarms are judged on the records as the flow log writes them', async () => {
    // The default fields with log-status and action swapped: the filters' `action=…` now reads the status.
    const fields = '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${log-status} ${action}';
    const g = await grade(variant(['solution.ts', '    MaxAggregationInterval: 60,\n', `    MaxAggregationInterval: 60, LogFormat: '${fields}',\n`]));
    for (const id of ['alarm-rejected-ssh', 'alarm-outbound-bytes', 'alarm-unexpected-traffic', 'admins-notified']) expect(failed(g)).toContain(id);
    for (const id of ['flow-logs-sensitive-vpc', 'flow-logs-all-traffic', 'responder-least-privilege']) expect(failed(g)).not.toContain(id);
  });

  it('ten-minute aggregation: records arrive after the attack is over, so no alarm is credited with going off during it', async () => {
    const g = await grade(variant(['solution.ts', 'MaxAggregationInterval: 60,', 'MaxAggregationInterval: 600,']));
    for (const id of ['alarm-rejected-ssh', 'alarm-outbound-bytes', 'alarm-unexpected-traffic', 'admins-notified']) expect(failed(g)).toContain(id);
    for (const id of ['flow-logs-sensitive-vpc', 'flow-logs-all-traffic', 'alarms-quiet-on-normal-traffic', 'responder-least-privilege']) expect(failed(g)).not.toContain(id);
    expect(g.checks.find((c) => c.id === 'alarm-outbound-bytes')!.feedback).toMatch(/MaxAggregationInterval/);
  });

  it('an outbound-volume filter that counts port 443 only: loses the outbound alarm (volume is judged over TCP 443, TCP 22 and UDP 443)', async () => {
    const g = await grade(variant(['solution.ts', 'srcport, dstport, protocol, packets, bytes, start, end, action=ACCEPT', 'srcport, dstport=443, protocol, packets, bytes, start, end, action=ACCEPT']));
    expect(failed(g)).toEqual(['alarm-outbound-bytes']);
    expect(g.checks.find((c) => c.id === 'alarm-outbound-bytes')!.feedback).toMatch(/not over SFTP \(TCP 22\)/);
  });

  it('an outbound-volume filter that counts TCP only: loses the outbound alarm', async () => {
    const g = await grade(variant(['solution.ts', 'srcport, dstport, protocol, packets, bytes, start, end, action=ACCEPT', 'srcport, dstport, protocol=6, packets, bytes, start, end, action=ACCEPT']));
    expect(failed(g)).toEqual(['alarm-outbound-bytes']);
    expect(g.checks.find((c) => c.id === 'alarm-outbound-bytes')!.feedback).toMatch(/not over QUIC \(UDP 443\)/);
  });

  it('an alarm that can never fire: the exfiltration goes unnoticed and unanswered', async () => {
    const g = await grade(variant(['solution.ts', 'threshold: 100_000_000', 'threshold: 1e15']));
    expect(failed(g)).toEqual(['alarm-outbound-bytes', 'exfiltration']);
    expect(scenario(g, 'exfiltration')).toMatchObject({ detected: false, blocked: false, points: 0 });
  });

  it('a deny rule numbered after the allow rules: detected, but nothing is blocked', async () => {
    const g = await grade(variant(['responder/index.mjs', 'NetworkAclId: acl.NetworkAclId, RuleNumber: n,', 'NetworkAclId: acl.NetworkAclId, RuleNumber: n + 200,']));
    expect(failed(g)).toEqual(['port-scan', 'ssh-brute-force']);
    for (const id of ['port-scan', 'ssh-brute-force']) expect(scenario(g, id)).toMatchObject({ detected: true, blocked: false, points: 8 });
    expect(scenario(g, 'exfiltration').passed).toBe(true); // isolation needs no network ACL
  });

  it("a responder whose role cannot change network ACLs: loses the role check and the blocking of addresses", async () => {
    const g = await grade(variant(['solution.ts', "      { Sid: 'DenyAddresses', Effect: 'Allow', Action: 'ec2:CreateNetworkAclEntry', Resource: acls.map((a) => `arn:aws:ec2:${region}:${accountId}:network-acl/${a}`) },\n", '']));
    expect(failed(g)).toEqual(['port-scan', 'responder-can-block', 'ssh-brute-force']);
    for (const id of ['port-scan', 'ssh-brute-force']) expect(scenario(g, id)).toMatchObject({ detected: true, blocked: false });
  });

  it('a responder that may also replace and delete entries and delete the production ACLs: loses least privilege only', async () => {
    const g = await grade(variant(['solution.ts', "Action: 'ec2:CreateNetworkAclEntry', Resource: acls.map(", "Action: ['ec2:CreateNetworkAclEntry', 'ec2:ReplaceNetworkAclEntry', 'ec2:DeleteNetworkAclEntry', 'ec2:DeleteNetworkAcl'], Resource: acls.map("]));
    expect(failed(g)).toEqual(['responder-least-privilege']);
    expect(g.checks.find((c) => c.id === 'responder-least-privilege')!.feedback).toMatch(/ec2:ReplaceNetworkAclEntry on the production network ACLs, ec2:DeleteNetworkAclEntry on the production network ACLs, ec2:DeleteNetworkAcl on the production network ACLs/);
  });

  it('a responder that may administer every network ACL (ec2:*NetworkAcl* on *): loses least privilege only', async () => {
    const g = await grade(variant(['solution.ts', "Action: 'ec2:CreateNetworkAclEntry', Resource: acls.map((a) => `arn:aws:ec2:${region}:${accountId}:network-acl/${a}`)", "Action: 'ec2:*NetworkAcl*', Resource: '*'"]));
    expect(failed(g)).toEqual(['responder-least-privilege']);
    expect(g.checks.find((c) => c.id === 'responder-least-privilege')!.feedback).toMatch(/ec2:ReplaceNetworkAclAssociation/);
  });

  it('a responder that may add entries to any network ACL, not only the production ones: loses least privilege only', async () => {
    const g = await grade(variant(['solution.ts', "Resource: acls.map((a) => `arn:aws:ec2:${region}:${accountId}:network-acl/${a}`)", 'Resource: `arn:aws:ec2:${region}:${accountId}:network-acl/*`']));
    expect(failed(g)).toEqual(['responder-least-privilege']);
    expect(g.checks.find((c) => c.id === 'responder-least-privilege')!.feedback).toMatch(/ec2:CreateNetworkAclEntry on network ACLs outside the production subnets/);
  });

  it('honest alternative: a responder that stops the instance instead of quarantining it keeps full marks', async () => {
    const g = await grade(variant(
      ['solution.ts', "Action: 'ec2:ModifyInstanceAttribute'", "Action: 'ec2:StopInstances'"],
      ['responder/index.mjs', 'ModifyInstanceAttributeCommand({ InstanceId: instanceId, Groups: [QUARANTINE_GROUP] })', 'StopInstancesCommand({ InstanceIds: [instanceId] })'],
      ['responder/index.mjs', 'DescribeNetworkInterfacesCommand, ModifyInstanceAttributeCommand,', 'DescribeNetworkInterfacesCommand, StopInstancesCommand,'],
    ));
    expect(failed(g)).toEqual([]);
    expect(g.score).toBe(100);
  });

  it('a responder role allowed ec2:* on everything: loses least privilege only', async () => {
    const g = await grade(variant(['solution.ts', "{ Sid: 'IsolateInstances', Effect: 'Allow', Action: 'ec2:ModifyInstanceAttribute', Resource: `arn:aws:ec2:${region}:${accountId}:instance/*` }", "{ Sid: 'IsolateInstances', Effect: 'Allow', Action: 'ec2:*', Resource: '*' }"]));
    expect(failed(g)).toEqual(['responder-least-privilege']);
  });

  it('a responder that blocks everything breaks the business: the attacks earn nothing', async () => {
    const g = await grade(variant(['responder/index.mjs', "RuleAction: 'deny', CidrBlock: `${ip}/32`,", "RuleAction: 'deny', CidrBlock: '0.0.0.0/0',"]));
    // Business checks pass before the attacks and fail after them; restrictive controls and every
    // attack then earn nothing.
    const business = g.checks.filter((c) => c.kind === 'business');
    expect(business.length).toBe(4);
    for (const c of business) expect(c.feedback).toMatch(/^after the attacks: /);
    expect(failed(g)).toEqual([...business.map((c) => c.id), 'responder-least-privilege', ...SCENARIOS].sort());
    for (const s of g.scenarios) expect(s).toMatchObject({ blocked: true, businessIntact: false, points: 0 });
    expect(scenario(g, 'ssh-brute-force').feedback).toMatch(/legitimate traffic was refused during the attack: .*\d+ of \d+ web\b/);
  });
});

describe('the flow-log group as a responder reads it', () => {
  it('FilterLogEvents honours space-delimited patterns (moto alone matches everything) and pages with its token', async () => {
    const root = cloud().createAccount();
    const logs = cloud().client(CloudWatchLogsClient, { credentials: { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey } });
    const group = '/northwind/vpc-flow-logs';
    await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 'eni-1-all' }));
    const t = cloud().gateway.clock.nowMs() - 60_000;
    const s = Math.floor(t / 1000);
    const lines = [
      `2 ${root.accountId} eni-1 185.220.101.7 10.20.1.10 51532 22 6 14 2200 ${s} ${s + 2} REJECT OK`,
      `2 ${root.accountId} eni-1 198.18.4.9 10.20.1.10 50100 443 6 10 1800 ${s} ${s + 3} ACCEPT OK`,
      `2 ${root.accountId} eni-1 185.220.101.7 10.20.1.10 51533 23 6 1 44 ${s} ${s} REJECT OK`,
      `2 ${root.accountId} eni-1 185.220.101.7 10.20.1.10 51534 22 6 12 2100 ${s + 1} ${s + 4} REJECT OK`,
    ];
    await logs.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: 'eni-1-all', logEvents: lines.map((message, i) => ({ timestamp: t + i, message })) }));
    const ssh = await logs.send(new FilterLogEventsCommand({
      logGroupName: group, startTime: t - 1000,
      filterPattern: '[version, account, eni, srcaddr, dstaddr, srcport, dstport=22, protocol, packets, bytes, start, end, action=REJECT, status]',
    }));
    expect(ssh.events!.map((e) => e.message)).toEqual([lines[0], lines[3]]);
    expect(ssh.nextToken).toBeUndefined();
    // One event a page: the token resumes where the previous page stopped.
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await logs.send(new FilterLogEventsCommand({ logGroupName: group, startTime: t - 1000, filterPattern: '[..., action=REJECT, status]', limit: 1, nextToken }));
      expect(page.events!.length).toBeLessThanOrEqual(1);
      seen.push(...page.events!.map((e) => e.message!));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(seen).toEqual([lines[0], lines[2], lines[3]]);
    // Plain terms match as before; patterns AWS refuses are refused.
    expect((await logs.send(new FilterLogEventsCommand({ logGroupName: group, startTime: t - 1000, filterPattern: 'ACCEPT' }))).events!.map((e) => e.message)).toEqual([lines[1]]);
    await expect(logs.send(new FilterLogEventsCommand({ logGroupName: group, filterPattern: '{ $.x = ' }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });
});
