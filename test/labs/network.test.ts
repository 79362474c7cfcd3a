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

/** A workspace whose network/ folder is the reference with the edits applied. */
function variant(...edits: Edit[]): string {
  const ws = mkdtempSync(path.join(os.tmpdir(), 'seclab-network-'));
  writeFileSync(path.join(ws, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  cpSync(REFERENCE, path.join(ws, 'network'), { recursive: true });
  for (const [file, from, to] of edits) {
    const p = path.join(ws, 'network', file);
    const text = readFileSync(p, 'utf8');
    expect(text).toContain(from);
    writeFileSync(p, text.replace(from, to));
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
    expect(failed(g)).toEqual(['exfiltration', 'flow-logs-sensitive-vpc', 'port-scan', 'ssh-brute-force']);
    expect(g.scenarios.every((s) => !s.detected && !s.blocked && s.points === 0)).toBe(true);
  });

  it('ACCEPT-only flow logs: refused connections are invisible, the exfiltration is not', async () => {
    const g = await grade(variant(['solution.ts', "TrafficType: 'ALL'", "TrafficType: 'ACCEPT'"]));
    expect(failed(g)).toEqual(['flow-logs-all-traffic', 'port-scan', 'ssh-brute-force']);
    expect(scenario(g, 'exfiltration')).toMatchObject({ detected: true, blocked: true });
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
