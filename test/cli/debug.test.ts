// Debuggable labs, as a student meets them on the real lab cloud (`node bin/seclab.js` in a child
// process): a responder that throws TypeError is named with its error and its log tail, `check --keep`
// leaves an account the AWS SDK reaches with the printed settings until Ctrl-C, `simulate` shows what
// the reference solution's metrics and alarms see on a normal day (the same for the same seed), and
// `hint` follows the first failed item, attacks included.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { findLab } from '../../src/engine/labs.ts';
import { scenarioTask } from '../../src/engine/grader.ts';
import { emptyProgress, nextHint, recordAttempt, saveProgress } from '../../src/engine/progress.ts';
import type { CheckGrade, LabGrade } from '../../src/engine/types.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(path.join(os.tmpdir(), 'seclab-debug-'));
const home = path.join(work, 'home');
mkdirSync(home, { recursive: true });
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  done: Promise<number | null>;
}

/** The test's own HOME (its lab cloud records, its CA); the rest of the environment as it is. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, NO_COLOR: '1', COLUMNS: '80' };
  for (const k of ['XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'SECLAB_CACHE_DIR', 'SECLAB_CLOUD', 'SECLAB_WORKSPACE', 'AWS_ENDPOINT_URL', 'SECLAB_PROXY']) delete env[k];
  return env;
}

function start(args: string[]): Run {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/seclab.js'), ...args], {
    cwd: work, env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const done = new Promise<number | null>((resolve) => child.on('close', (code, signal) => {
    children.delete(child);
    resolve(code ?? (signal ? -1 : null));
  }));
  return { child, out: () => stdout, err: () => stderr, done };
}

async function seclab(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = start(args);
  const code = await r.done;
  return { code, stdout: r.out(), stderr: r.err() };
}

/** Resolves when the child's stdout contains `text`; rejects when it exits first. */
function waitFor(r: Run, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (r.out().includes(text)) {
        r.child.stdout!.off('data', check);
        resolve();
      }
    };
    r.child.stdout!.on('data', check);
    void r.done.then((code) => (r.out().includes(text) ? resolve() : reject(new Error(`exited (${code}) before "${text}":\n${r.out()}\n${r.err()}`))));
    check();
  });
}

/** A workspace holding the reference network solution with a responder that throws TypeError on every invocation. */
function buggyResponderWorkspace(): string {
  const ws = path.join(work, 'buggy');
  mkdirSync(ws, { recursive: true });
  writeFileSync(path.join(ws, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  cpSync(path.join(ROOT, 'solutions/network'), path.join(ws, 'network'), { recursive: true });
  const file = path.join(ws, 'network/responder/index.mjs');
  const code = readFileSync(file, 'utf8');
  const head = 'export const handler = async (event) => {\n';
  expect(code).toContain(head);
  // SNS events carry Records, not records: event.records is undefined.
  writeFileSync(file, code.replace(head, `${head}  console.log('responder got an event with', Object.keys(event).join(','));\n  const n = event.records.length;\n  void n;\n`));
  return ws;
}

describe('seclab check --keep, with a responder that throws', () => {
  it('names the TypeError with the log tail, keeps the account reachable with the printed settings, and Ctrl-C stops everything', async () => {
    const ws = buggyResponderWorkspace();
    const r = start(['check', 'network', '--workspace', ws, '--keep', '--timeout', '60']);
    await waitFor(r, 'Ctrl-C stops the lab cloud');
    const out = r.out();

    // The responder check is honest: wired to the alarm topic, but every invocation failed.
    expect(out).toMatch(/✘\s+0\/4\s+A Lambda responder is deployed and triggered/);
    // (The report breaks long lines between words at 80 columns.)
    const responder = out.slice(out.indexOf('A Lambda responder is deployed and triggered')).replace(/\s+/g, ' ');
    expect(responder).toMatch(/failed every time \(TypeError: Cannot read properties of undefined \(reading 'length'\)\)/);
    // The Lambda section: invocations, the error named, the tail of /aws/lambda/northwind-responder.
    const section = out.slice(out.indexOf('\nYour Lambda functions'), out.indexOf('\nScore '));
    expect(section).toMatch(/northwind-responder: (\d+) invocations?, \1 errors?/);
    expect(section).toContain("TypeError: Cannot read properties of undefined (reading 'length')");
    expect(section).toContain('last lines of /aws/lambda/northwind-responder:');
    expect(section).toMatch(/\n {6}INFO responder got an event with Records\n/);
    for (const l of section.split('\n')) expect(l.length, l).toBeLessThanOrEqual(80);

    // The printed settings reach the graded account, still there.
    const env = Object.fromEntries([...out.matchAll(/^ {2}export (\w+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!]));
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']));
    const account = /account (\d{12}), /.exec(out)![1];
    const ca = env['AWS_CA_BUNDLE'];
    const config = {
      endpoint: env['AWS_ENDPOINT_URL'], region: env['AWS_REGION'],
      credentials: { accessKeyId: env['AWS_ACCESS_KEY_ID']!, secretAccessKey: env['AWS_SECRET_ACCESS_KEY']! },
      ...(ca ? { requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: readFileSync(ca) }) }) } : {}),
    };
    const who = await new STSClient(config).send(new GetCallerIdentityCommand({}));
    expect(who.Account).toBe(account);
    const fns = await new LambdaClient(config).send(new ListFunctionsCommand({}));
    expect(fns.Functions?.map((f) => f.FunctionName)).toContain('northwind-responder');
    const logs = await new CloudWatchLogsClient(config).send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/northwind-responder' }));
    expect(logs.events?.some((e) => e.message?.includes('responder got an event with'))).toBe(true);

    // `seclab env` finds it by the printed name, with the same key.
    const e = await seclab(['env', '--name', 'check-network']);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toContain(`export AWS_ACCESS_KEY_ID='${env['AWS_ACCESS_KEY_ID']}'`);

    // Ctrl-C: exit 130, the lab cloud's record gone, the endpoint down.
    r.child.kill('SIGINT');
    expect(await r.done).toBe(130);
    const records = path.join(home, '.cache/seclab/clouds');
    expect(existsSync(records) ? readdirSync(records) : []).toEqual([]);
    await expect(fetch(`${env['SECLAB_HTTP_ENDPOINT_URL'] ?? env['AWS_ENDPOINT_URL']}/_seclab/health`)).rejects.toThrow();
  }, 300_000);
});

describe('seclab simulate', () => {
  it('shows the reference solution\'s metrics and alarms on normal traffic, in 80 columns, the same for the same seed', async () => {
    const args = ['simulate', 'network', '--workspace', path.join(ROOT, 'solutions'), '--minutes', '6', '--seed', 'debug-test'];
    const text = await seclab(args);
    expect(text.code, text.stderr).toBe(0);
    for (const l of text.stdout.split('\n')) expect(l.length, l).toBeLessThanOrEqual(80);
    expect(text.stdout).toContain('network: 6 minutes of the company\'s normal activity, no attacks');
    expect(text.stdout).toMatch(/Northwind\/FlowLogs\/OutboundBytes\n {4}max per minute \d/);
    expect(text.stdout).toMatch(/northwind-outbound-bytes {2}Sum over 60 s >= /);
    expect(text.stdout).toMatch(/0 of 6 periods breaching/);

    const [a, b] = await Promise.all([seclab([...args, '--json']), seclab([...args, '--json'])]);
    expect(a.code, a.stderr).toBe(0);
    const ra = JSON.parse(a.stdout) as { minutes: number; metrics: { name: string; perMinute: (number | null)[]; maxPerMinute: number | null }[]; alarms: { name: string; perPeriod: (number | null)[]; breaching: number; state: string }[] };
    const rb = JSON.parse(b.stdout) as typeof ra;
    expect(ra.minutes).toBe(6);
    const outbound = ra.metrics.find((m) => m.name === 'OutboundBytes')!;
    expect(outbound.perMinute).toHaveLength(6);
    // Normal traffic sends data out every minute; the reference's alarms stay quiet on it.
    expect(outbound.perMinute.every((v) => v !== null && v > 0)).toBe(true);
    expect(ra.alarms.map((x) => x.name).sort()).toEqual(['northwind-outbound-bytes', 'northwind-rejected-ssh', 'northwind-unexpected-traffic']);
    for (const x of ra.alarms) {
      expect(x.breaching).toBe(0);
      expect(x.state).not.toBe('ALARM');
    }
    // The same seed plays the same day.
    const seen = (r: typeof ra) => ({ metrics: r.metrics.map((m) => [m.name, m.perMinute]), alarms: r.alarms.map((x) => [x.name, x.perPeriod]) });
    expect(seen(rb)).toEqual(seen(ra));
  }, 300_000);

  it('lists the SIEM rules that matched normal activity, and how close the counting rules came', async () => {
    const ws = path.join(work, 'siem-noisy');
    mkdirSync(ws, { recursive: true });
    writeFileSync(path.join(ws, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
    cpSync(path.join(ROOT, 'solutions/siem'), path.join(ws, 'siem'), { recursive: true });
    // A rule on every refused call: the company's developer has an occasional AccessDenied.
    writeFileSync(path.join(ws, 'siem/rules/noisy.yml'), [
      'title: Any Access Denied', 'id: 11111111-2222-4333-8444-555555555555', 'status: experimental', 'author: test', 'date: 2026-12-01',
      'tags:', '    - attack.discovery', 'logsource:', '    product: aws', '    service: cloudtrail',
      'detection:', '    selection:', '        errorCode: AccessDenied', '    condition: selection', 'level: medium', '',
    ].join('\n'));
    const r = await seclab(['simulate', 'siem', '--workspace', ws, '--minutes', '20', '--seed', 'debug-test', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { rules: { rule: string; alerts: number; hits: number }[]; correlations: { rule: string; condition: string; max: number }[]; notes: string[] };
    // Counting correlations: the largest count of a window of normal work, beside the rule's condition.
    const burst = report.correlations.find((c) => c.rule === 'Burst of Access-Denied API Calls by One Identity');
    expect(burst?.condition).toMatch(/^gte \d+$/);
    expect(burst!.max).toBeGreaterThan(0);
    expect(burst!.max).toBeLessThan(Number(burst!.condition.split(' ')[1]));
    const noisy = report.rules.find((x) => x.rule === 'Any Access Denied');
    expect(noisy?.alerts).toBeGreaterThan(0);
    expect(report.notes.join(' ')).toMatch(/your SIEM read \d+ CloudTrail events/);
  }, 300_000);
});

describe('seclab hint follows the first failed item, attacks included', () => {
  const check = (over: Partial<CheckGrade>): CheckGrade => ({ id: 'x', title: 'x', kind: 'posture', passed: true, points: 1, maxPoints: 1, hidden: false, feedback: '', ...over });

  it('a failed attack names the task of the outcome it lost (detection before blocking, in task order)', async () => {
    const lab = await findLab('network');
    const brute = lab.scenarios.find((s) => s.id === 'ssh-brute-force')!;
    expect(scenarioTask(lab, brute, { passed: false, detected: true, blocked: false })).toBe('responder');
    expect(scenarioTask(lab, brute, { passed: false, detected: false, blocked: false })).toBe('alarms');
    expect(scenarioTask(lab, brute, { passed: true, detected: true, blocked: true })).toBeUndefined();
    const iam = await findLab('iam');
    expect(scenarioTask(iam, iam.scenarios.find((s) => s.id === 'leaked-shared-key')!, { passed: false, blocked: false })).toBe('individual-users');
  });

  it('when only attacks failed, hint goes to their task, not back to the first task', async () => {
    const lab = await findLab('network');
    const grade: LabGrade = {
      id: 'network', title: lab.title, score: 84, maxScore: 100, passed: false, student: [], accountId: '1', durationMs: 1,
      checks: lab.checks.map((c) => check({ id: c.id, kind: c.kind, task: c.task })),
      scenarios: [check({ id: 'ssh-brute-force', kind: 'scenario', passed: false, detected: true, blocked: false, task: 'responder' })],
    };
    const p = emptyProgress();
    recordAttempt(p, grade);
    expect(p.labs['network']!.failingTasks).toEqual(['responder']);
    expect(nextHint(p, 'network', lab.tasks)).toMatchObject({ task: { id: 'responder' }, number: 1, reason: 'failing' });

    // Through the command line, on a workspace whose last check failed only attacks.
    const ws = path.join(work, 'hint-ws');
    mkdirSync(path.join(ws, 'network'), { recursive: true });
    writeFileSync(path.join(ws, 'network', 'solution.ts'), 'export async function apply() {}\n');
    const q = emptyProgress();
    recordAttempt(q, grade);
    await saveProgress(ws, q);
    const r = await seclab(['hint', 'network', '--workspace', ws, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ task: 'responder', number: 1, reason: 'failing' });
  }, 60_000);
});
