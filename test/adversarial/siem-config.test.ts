// Lab siem's configuration is interpreted by the grader itself (siem.yml, Sigma rules). Hostile
// configurations in one class run beside the reference: a catastrophic-backtracking regex must not
// hang the class, `${env:...}` must not leak the grader's environment, rule folders must not reach
// the reference rules; the honest submission keeps its exact score.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Grade } from '../../src/engine/types.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECRET = 'grader-secret-0f3a9c';

const REDOS_RULE = `title: Every event, slowly
id: 0b6f3a52-6c1d-4e55-9a77-1f0e2d3c4b5a
status: experimental
logsource: { product: aws, service: cloudtrail }
detection:
    selection:
        userAgent|re: '(a+)+b'
    other:
        eventName|re: '(x+x+)+y'
    condition: selection or other
level: high
`;

describe.skipIf(process.platform !== 'linux')('a class with hostile SIEM configurations, graded in one run', () => {
  let work: string;
  let grades: Grade[];
  let stderr = '';
  let stdout = '';
  let exitCode: number | null = null;
  const byStudent = (name: string) => grades.find((g) => g.student === name)!;

  beforeAll(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'seclab-adversarial-siem-'));
    const classDir = path.join(work, 'class');
    const student = (name: string, edit: (dir: string) => void) => {
      const dir = path.join(classDir, name, 'siem');
      cpSync(path.join(ROOT, 'solutions/siem'), dir, { recursive: true });
      writeFileSync(path.join(classDir, name, 'package.json'), '{ "type": "module" }\n');
      edit(dir);
    };
    student('honest', () => undefined);
    // A rule that backtracks catastrophically in a backtracking engine, on every event.
    // ...fed by the submission itself: a call whose user agent ends in 48 a's (no b): 2^48 steps for
    // a backtracking engine on every copy of that event.
    student('redos', (dir) => {
      writeFileSync(path.join(dir, 'rules', 'slow.yml'), REDOS_RULE);
      cpSync(path.join(dir, 'solution.ts'), path.join(dir, 'reference.ts'));
      writeFileSync(path.join(dir, 'solution.ts'), [
        "import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';",
        "import * as reference from './reference.ts';",
        "export * from './reference.ts';",
        'export async function apply(input: Parameters<typeof reference.apply>[0]) {',
        '  await reference.apply(input);',
        "  await new STSClient({ customUserAgent: 'a'.repeat(48) }).send(new GetCallerIdentityCommand({}));",
        '}',
        '',
      ].join('\n'));
    });
    // The grader's environment into an SNS topic name (and so into feedback).
    student('env-leak', (dir) => {
      const yml = readFileSync(path.join(dir, 'siem.yml'), 'utf8').replace('secops-alerts"', 'secops-${env:SECLAB_GRADE_KEY}"');
      writeFileSync(path.join(dir, 'siem.yml'), yml);
    });
    // Rules from outside the submission: the reference's, by path and by link.
    student('borrowed-rules', (dir) => {
      rmSync(path.join(dir, 'rules'), { recursive: true });
      symlinkSync(path.join(ROOT, 'solutions/siem/rules'), path.join(dir, 'rules'));
      const yml = readFileSync(path.join(dir, 'siem.yml'), 'utf8').replace('folders: [rules]', `folders: [rules, ${JSON.stringify(path.join(ROOT, 'solutions/siem/rules'))}]`);
      writeFileSync(path.join(dir, 'siem.yml'), yml);
    });
    mkdirSync(path.join(work, 'home'));
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/seclab.js'), 'grade', '--submissions', classDir, '--lab', 'siem', '--format', 'json', '--seed', 'adversarial-siem'], {
      cwd: work, env: { ...process.env, HOME: path.join(work, 'home'), SECLAB_GRADE_KEY: SECRET, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    exitCode = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    grades = JSON.parse(stdout) as Grade[];
  }, 600_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('grades the whole class (no configuration hangs it)', () => {
    expect(exitCode, stderr.slice(-2000)).toBe(0);
    expect(grades.map((g) => g.student).sort()).toEqual(['borrowed-rules', 'env-leak', 'honest', 'redos']);
  });

  it('the honest submission keeps its exact score', () => {
    expect(byStudent('honest').percent).toBe(100);
  });

  it('a regex that would backtrack runs in linear time: the rest of that configuration still grades', () => {
    // The slow rule matches nothing here; everything else the reference does still works.
    expect(byStudent('redos').percent).toBe(100);
  });

  it('the grader\'s environment never reaches a record', () => {
    expect(stdout).not.toContain(SECRET);
    expect(byStudent('env-leak').percent).toBeLessThan(100);
    expect(JSON.stringify(byStudent('env-leak'))).toMatch(/\$\{env:/);
  });

  it('rules from outside the submission are refused', () => {
    expect(byStudent('borrowed-rules').percent).toBeLessThan(100);
    expect(JSON.stringify(byStudent('borrowed-rules'))).toMatch(/outside|link/i);
  });
});
