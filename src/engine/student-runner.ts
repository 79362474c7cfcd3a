// Runs student code in its own process with the lab's credentials only and a timeout. A solution that
// does not compile, throws or hangs gets a message that points at its file and line; the rest of the
// grade still runs.
import type { ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StudentRun } from './types.ts';
import { escapeControl } from './report/escape.ts';
import { sandboxUid, type SandboxKind } from '../cloud/sandbox/index.ts';
import { launchNode, linkMessages } from '../cloud/sandbox/launch.ts';
import { stageLabFolder, type Staged } from '../cloud/sandbox/stage.ts';

const CHILD = fileURLToPath(new URL('./student-child.mjs', import.meta.url));

export interface StudentCall {
  file: string;
  exports: string[];
  /** Passed to each export as its only argument (JSON). */
  input: unknown;
  /** Environment: the lab's AWS settings. Nothing else of seclab's environment is passed on. */
  env: Record<string, string>;
  /** Per export, ms (default 60 s). */
  timeoutMs?: number;
  /** Lines the code printed, as they come. */
  onOutput?: (line: string) => void;
  /**
   * Where it runs: 'bwrap' in a sandbox that reaches the gateway only (through its Unix socket) and
   * sees only a copy of its own lab folder; 'none' as a plain child process (a student's own machine).
   */
  sandbox?: SandboxKind;
  gateway?: { url: string; socketPath?: string };
  /** A file that follows the lab clock (shown to the code as SECLAB_CLOCK_FILE). */
  clockFile?: string;
}

/** What the code may print, in all, before the rest is dropped (a flood must not slow the grader). */
const OUTPUT_LIMIT_BYTES = 1024 * 1024;
const CLOCK_INSIDE = '/run/seclab/clock';

export interface StudentResults {
  runs: StudentRun[];
  values: Record<string, unknown>;
  output: string[];
}

interface ErrorInfo { name: string; message: string; stack: string; code?: string }

/** An error as the child described it, whatever it sent. */
function errorInfo(raw: unknown): ErrorInfo {
  const e = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const str = (v: unknown, max: number) => (typeof v === 'string' ? v : v === undefined ? '' : String(v)).slice(0, max);
  return { name: str(e['name'], 200) || 'Error', message: str(e['message'], 4000) || 'unknown error', stack: str(e['stack'], 8000), code: typeof e['code'] === 'string' ? e['code'] : undefined };
}

/** "solution.ts:12:5" from a stack trace, for the first frame in the student's file. */
export function locate(file: string, err: ErrorInfo): string {
  const base = path.basename(file);
  const text = `${err.message}\n${err.stack}`;
  const re = new RegExp(`${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+):(\\d+)`);
  const m = re.exec(text);
  return m ? `${path.relative(process.cwd(), file) || base}:${m[1]}:${m[2]}` : path.relative(process.cwd(), file) || base;
}

function explain(file: string, err: ErrorInfo, phase: 'load' | 'run'): string {
  const where = locate(file, err);
  const lines = err.message.split('\n').map((l) => l.trim()).filter(Boolean);
  // esbuild starts with "Transform failed with 1 error:"; the useful line is the next one.
  const first = (/^Transform failed/.test(lines[0] ?? '') ? lines[1]?.replace(/^.*?:\d+:\d+:\s*/, '') : lines[0]) ?? err.name;
  if (phase === 'load') {
    const syntax = /Transform failed|SyntaxError|Expected|Unexpected/.test(err.message + err.name);
    return `${where}: ${syntax ? 'does not compile' : 'could not be loaded'}: ${first}`;
  }
  return `${where}: ${err.name}: ${first}`;
}

const NO_PACKAGE_JSON = 'no package.json at all';

/**
 * Solutions are ES modules: the workspace's package.json says "type": "module" (`seclab init` writes
 * it). Without it Node loads the file as CommonJS and fails with an obscure cycle error.
 */
function esmProblem(file: string): string | undefined {
  let dir = path.dirname(path.resolve(file));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { type?: string }).type === 'module') return undefined;
      } catch {
        return `${pkg} is not valid JSON: fix it (the workspace needs {"type": "module"})`;
      }
      return `${pkg} does not say "type": "module": solutions are ES modules; add it, or create the workspace with \`seclab init\``;
    }
    const up = path.dirname(dir);
    // No package.json at all (a copy of solutions/, a folder unpacked from an archive): ES module, as
    // seclab init would have made it (see NO_PACKAGE_JSON).
    if (up === dir) return `${NO_PACKAGE_JSON} above ${path.relative(process.cwd(), file)}: create the workspace with \`seclab init\` (it writes {"type": "module"}), or add that file`;
    dir = up;
  }
}

const running = new Set<ChildProcess>();
let exitHook = false;

/** Stops a student process and everything it spawned (detached children would outlive it). */
function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

function ensureExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const c of running) killGroup(c);
  });
}

/** The solution file, or its lab folder, is a link out of the submission: not run (someone else's code). */
function leavesFolder(file: string): string | undefined {
  const labDir = path.dirname(path.resolve(file));
  try {
    if (lstatSync(labDir).isSymbolicLink()) return `${path.relative(process.cwd(), labDir) || labDir} is a link, not a folder of the submission: not run`;
    const real = realpathSync(file);
    if (!real.startsWith(realpathSync(labDir) + path.sep)) return `${path.relative(process.cwd(), file)} is a link to ${real}, outside the submission: not run`;
  } catch {
    return undefined;
  }
  return undefined;
}

export async function runStudentCode(call: StudentCall): Promise<StudentResults> {
  const runs: StudentRun[] = [];
  const values: Record<string, unknown> = {};
  const output: string[] = [];
  if (!existsSync(call.file)) {
    for (const e of call.exports) runs.push({ export: e, ok: false, durationMs: 0, error: `${call.file} does not exist: run \`seclab init\` to create a workspace` });
    return { runs, values, output };
  }
  ensureExitHook();
  const outside = leavesFolder(call.file);
  if (outside) {
    for (const e of call.exports) runs.push({ export: e, ok: false, durationMs: 0, error: outside });
    return { runs, values, output };
  }
  const kind = call.sandbox ?? 'none';
  const moduleProblem = esmProblem(call.file);
  // In the sandbox, a submission without any package.json gets one saying ES module (see stageLabFolder).
  const defaultEsm = !!moduleProblem?.startsWith(NO_PACKAGE_JSON) && kind === 'bwrap';
  if (moduleProblem && !defaultEsm) {
    for (const e of call.exports) runs.push({ export: e, ok: false, durationMs: 0, error: moduleProblem });
    return { runs, values, output };
  }
  const timeoutMs = call.timeoutMs ?? 60_000;
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? '',
    // No profile or shared credentials: only the lab's credentials reach the code.
    AWS_CONFIG_FILE: '/nonexistent/seclab-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/seclab-credentials',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    NODE_NO_WARNINGS: '1',
    ...call.env,
  };
  const labDir = path.dirname(path.resolve(call.file));
  const uid = sandboxUid();
  let staged: Staged | undefined;
  const mounts: { host: string; inside: string; rw?: boolean }[] = [];
  if (kind === 'bwrap') {
    try {
      staged = stageLabFolder(labDir, uid, { esmPackageJson: defaultEsm });
    } catch (e) {
      for (const ex of call.exports) runs.push({ export: ex, ok: false, durationMs: 0, error: `${path.relative(process.cwd(), labDir) || labDir}: ${(e as Error).message}` });
      return { runs, values, output };
    }
    mounts.push(...staged.mounts);
    if (call.clockFile) {
      mounts.push({ host: call.clockFile, inside: CLOCK_INSIDE });
      env['SECLAB_CLOCK_FILE'] = CLOCK_INSIDE;
    }
  } else if (call.clockFile) {
    env['SECLAB_CLOCK_FILE'] = call.clockFile;
  }
  // Its own process group (and in a sandbox its own PID namespace), so everything it starts is
  // stopped with it (see killGroup).
  const child = launchNode({
    kind, script: CHILD, cwd: labDir, env, uid, mounts,
    gateway: call.gateway ?? { url: env['AWS_ENDPOINT_URL'] ?? '' },
    execArgv: ['--max-old-space-size=768'],
    limits: { memoryMb: 1024, cpuSeconds: Math.ceil((timeoutMs * call.exports.length) / 1000) + 30, processes: 128, fileSizeMb: 64, openFiles: 1024 },
  });
  running.add(child);
  let printed = 0;
  const collect = (chunk: Buffer) => {
    if (printed > OUTPUT_LIMIT_BYTES) return;
    printed += chunk.length;
    for (const raw of chunk.toString('utf8').split('\n')) {
      if (!raw) continue;
      const line = escapeControl(raw.length > 2000 ? `${raw.slice(0, 2000)}… (line cut)` : raw);
      output.push(line);
      if (output.length > 200) output.shift();
      call.onOutput?.(line);
    }
    if (printed > OUTPUT_LIMIT_BYTES) {
      const note = `(more than ${OUTPUT_LIMIT_BYTES / 1024 / 1024} MB of output: the rest is dropped)`;
      output.push(note);
      call.onOutput?.(note);
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  await new Promise<void>((resolve) => {
    let current: string | undefined;
    let startedAt = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const pending = new Set(call.exports);
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const name = current ?? [...pending][0] ?? 'module';
        killGroup(child);
        runs.push({ export: name, ok: false, durationMs: Date.now() - startedAt, error: `${path.relative(process.cwd(), call.file)}: ${name}() did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped (an endless loop or a promise that never settles?)` });
        pending.delete(name);
      }, timeoutMs);
    };
    arm();
    // Messages come from the student's process: anything it sends is checked before it is used.
    const link = linkMessages(child, (raw) => {
      const msg = (raw && typeof raw === 'object' ? raw : {}) as { type?: unknown; export?: unknown; ok?: unknown; durationMs?: unknown; value?: unknown; error?: unknown };
      const name = typeof msg.export === 'string' ? msg.export : undefined;
      if (msg.type === 'ready') link.send({ file: call.file, exports: call.exports, input: call.input });
      else if (msg.type === 'start' && name && pending.has(name)) {
        current = name;
        startedAt = Date.now();
        arm();
      } else if (msg.type === 'load-error') {
        const error = explain(call.file, errorInfo(msg.error), 'load');
        for (const e of pending) runs.push({ export: e, ok: false, durationMs: 0, error });
        pending.clear();
      } else if (msg.type === 'result' && name && pending.has(name)) {
        pending.delete(name);
        const durationMs = typeof msg.durationMs === 'number' && Number.isFinite(msg.durationMs) ? msg.durationMs : 0;
        runs.push({ export: name, ok: msg.ok === true, durationMs, ...(msg.ok === true ? {} : { error: explain(call.file, errorInfo(msg.error), 'run') }) });
        if (msg.ok === true) values[name] = msg.value;
      }
    }, (why) => {
      killGroup(child);
      for (const e of pending) runs.push({ export: e, ok: false, durationMs: Date.now() - startedAt, error: `${path.relative(process.cwd(), call.file)}: the process running your code ${why} and was stopped` });
      pending.clear();
    });
    // However often the code says it started a new step, the whole run has one deadline.
    const deadline = setTimeout(() => killGroup(child), timeoutMs * call.exports.length + 5_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      clearTimeout(deadline);
      running.delete(child);
      staged?.remove();
      for (const ex of pending) runs.push({ export: ex, ok: false, durationMs: 0, error: `could not start the process for your code: ${e.message}` });
      pending.clear();
      resolve();
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(deadline);
      killGroup(child); // whatever it left running
      running.delete(child);
      staged?.remove();
      for (const e of pending) {
        runs.push({ export: e, ok: false, durationMs: Date.now() - startedAt, error: `${path.relative(process.cwd(), call.file)}: the process running your code exited (${signal ?? `code ${code}`}) before ${e}() finished${output.length ? `; last output: ${output.slice(-3).join(' | ')}` : ''}` });
      }
      resolve();
    });
  });
  return { runs, values, output };
}
