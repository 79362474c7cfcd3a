// What the commands share: the labs, the workspace, the lab cloud (started under a spinner, stopped
// on every way out), the version.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { findLabSafe, labIdsOf } from './labs.ts';
import { looksLikeWorkspace, resolveWorkspace } from '../engine/workspace.ts';
import type { Lab } from '../engine/types.ts';
import type { LabCloud } from '../cloud/labcloud.ts';
import { EnvironmentError, isSetupError, UsageError } from './errors.ts';
import { onInterrupt } from './interrupt.ts';
import type { Ui } from './ui.ts';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface CommonOptions {
  workspace?: string;
  target?: string;
  accountId?: string;
  yes?: boolean;
  json?: boolean;
}

export { findLabSafe as findLab, labIdsOf };

/**
 * The workspace of a command. A folder named with `--workspace` (or `$SECLAB_WORKSPACE`) must be a
 * workspace already (or an empty folder): a mistyped path is an error, never a new folder. Only
 * `seclab init <dir>` creates one there; without either, `./seclab-workspace` is used (and created by
 * `start`) as before.
 */
export async function workspaceOf(opts: CommonOptions): Promise<string> {
  const labIds = await labIdsOf();
  const ws = resolveWorkspace(opts.workspace, labIds);
  const named = opts.workspace ? { how: '--workspace', given: opts.workspace } : process.env['SECLAB_WORKSPACE'] ? { how: '$SECLAB_WORKSPACE', given: process.env['SECLAB_WORKSPACE'] } : undefined;
  if (named) checkNamedWorkspace(ws, named.how, named.given, labIds);
  return ws;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function checkNamedWorkspace(ws: string, how: string, given: string, labIds: string[]): void {
  const shown = path.relative(process.cwd(), ws) || '.';
  const q = (p: string) => (/^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`);
  let isDir = false;
  try {
    isDir = statSync(ws).isDirectory();
  } catch {
    throw new UsageError(`${how} ${given}: there is no workspace at ${ws}`,
      `Create it with \`seclab init ${q(given)}\`, or check the path (\`seclab list\` inside a workspace shows which one is used).`);
  }
  if (!isDir) throw new UsageError(`${how} ${given}: ${ws} is a file, not a workspace folder`, `Give the workspace folder, or create one with \`seclab init <dir>\`.`);
  // A workspace: seclab's state folder, a lab's solution.ts, or at least a folder named after a lab
  // (a workspace holding only siem/siem.yml is one).
  if (looksLikeWorkspace(ws, labIds) || labIds.some((id) => isDirectory(path.join(ws, id)))) return;
  let entries: string[] = [];
  try {
    entries = readdirSync(ws).filter((e) => !e.startsWith('.'));
  } catch {
    // unreadable: the command says so when it reads it
  }
  if (entries.length) {
    throw new UsageError(`${how} ${given}: ${shown} is not a seclab workspace (no lab folder, no .seclab/)`,
      `Give your workspace folder, or make this one a workspace with \`seclab init ${q(given)}\` (files already there are kept).`);
  }
}

/** Yes/no on a terminal; false when there is none (callers then ask for --yes). */
export async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return false;
  const { default: confirmPrompt } = await import('@inquirer/prompts').then((m) => ({ default: m.confirm }));
  // The prompt and its answer stay on one line: a question too long for the terminal is printed
  // above it (wrapped at spaces) and the prompt only asks.
  const { textWidth, wrapLine } = await import('./render.ts');
  const cols = process.stderr.columns || 80;
  let message = question;
  if (textWidth(question) + 2 + ' (y/N) Yes'.length >= cols) {
    process.stderr.write(`${wrapLine(question, cols - 1).join('\n')}\n`);
    message = 'Go ahead?';
  }
  try {
    return await confirmPrompt({ message, default: false }, { output: process.stderr });
  } catch (e) {
    if ((e as Error).name === 'ExitPromptError') return false;
    throw e;
  }
}

/** A plain line of input (fallback where inquirer is not wanted). */
export async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

/** The checks for `--target aws` before anything touches an account (DESIGN.md, Safety). */
export async function checkTargetSafety(opts: CommonOptions): Promise<void> {
  const { parseTargetSpec } = await import('../cloud/targets/index.ts');
  let spec;
  try {
    spec = parseTargetSpec(opts.target);
  } catch (e) {
    if (isSetupError(e)) throw new UsageError(e.message, e.hint);
    throw e;
  }
  if (spec.kind !== 'aws') return;
  if (!opts.accountId || !/^\d{12}$/.test(opts.accountId)) {
    throw new UsageError('--target aws needs --account-id <12 digits>, the sandbox account you mean to use.', 'seclab compares it with sts:GetCallerIdentity before it creates anything.');
  }
  if (!opts.yes && !(await confirm(`Create and attack lab resources in the REAL AWS account ${opts.accountId}?`))) {
    throw new UsageError('not confirmed: nothing was created in AWS.', 'Pass --yes to confirm without a prompt (CI).');
  }
}

export interface OpenCloud {
  cloud: LabCloud;
  /** Stops the lab cloud (idempotent). */
  close(): Promise<void>;
}

/**
 * Starts the lab cloud under a spinner. It is stopped by `close()`, on Ctrl-C (through the interrupt
 * handlers) and, as a last resort, by the targets' exit hook.
 */
export async function openCloud(ui: Ui, opts: CommonOptions & { port?: number; sandboxMode?: 'auto' | 'require' | 'off' }, label = 'Starting the lab cloud', quiet = false): Promise<OpenCloud> {
  await checkTargetSafety(opts);
  const target = opts.target ?? 'moto';
  const noop = { text() {}, succeed() {}, fail() {}, warn() {}, stop() {} };
  const spinner = quiet ? noop : ui.spin(`${label} (${target})`);
  const t0 = Date.now();
  let cloud: LabCloud;
  try {
    const { startLabCloud } = await import('../cloud/labcloud.ts');
    cloud = await startLabCloud({ target, port: opts.port, sandbox: opts.sandboxMode, progress: (m) => spinner.text(`${label}: ${m}`) });
  } catch (e) {
    spinner.fail(`${label}: failed`);
    throw toEnvironmentError(e);
  }
  // One line on the terminal: what runs the lab cloud only when it fits.
  const secs = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  const full = `Lab cloud ready on ${cloud.url} (${cloud.target.description}, ${secs})`;
  const fits = !process.stderr.isTTY || full.length + 2 <= (process.stderr.columns || 80);
  spinner.succeed(`Lab cloud ready on ${cloud.url} ${ui.err.dim(`(${fits ? `${cloud.target.description}, ` : ''}${secs})`)}`);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    off();
    await cloud.stop().catch(() => undefined);
  };
  const off = onInterrupt(close);
  return { cloud, close };
}

/** Errors of the environment (SetupError of the targets, a port in use...) as exit code 3. */
export function toEnvironmentError(e: unknown): Error {
  if (isSetupError(e)) return new EnvironmentError(e.message, e.hint);
  if ((e as Error)?.name === 'SandboxUnavailableError' || e instanceof Error && e.message.startsWith('no sandbox for submissions')) {
    return new EnvironmentError((e as Error).message, 'Grade a class on Linux with bubblewrap (apt-get install bubblewrap), or pass --no-sandbox if you trust every submission (docs/security.md).');
  }
  if (e instanceof UsageError || e instanceof EnvironmentError) return e;
  const msg = (e as Error)?.message ?? String(e);
  if (/already in use/.test(msg)) return new EnvironmentError(msg, 'Choose another port with --port, or stop what is using it.');
  if (/not available yet/.test(msg)) return new EnvironmentError(msg, 'Use the default local lab cloud: --target moto.');
  return new EnvironmentError(`the lab cloud could not start: ${msg}`, 'Run `seclab doctor` to see what is missing.');
}

/** The lab named on the command line; a usage error naming the labs when there is none. */
export async function labArg(id: string | undefined): Promise<Lab> {
  if (!id) throw new UsageError(`which lab? Labs: ${(await labIdsOf()).join(', ')}`, 'e.g. seclab check iam');
  return findLabSafe(id);
}

/**
 * Whether the lab cloud still works: the gateway's record of a dead target, else a quick request to the
 * target itself (a connection refused shows a death before the child's exit event arrives).
 * Returns why it is dead, or undefined when it answers.
 */
export async function probeCloud(cloud: LabCloud): Promise<string | undefined> {
  const known = cloud.gateway.upstream.deathMessage;
  if (known) return known;
  // A busy emulator is slow, not dead: only a refused connection (or the child's exit) says dead.
  const url = cloud.target.url;
  if (!url) return undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      await r.arrayBuffer().catch(() => undefined);
      return undefined;
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
      if (cloud.gateway.upstream.deathMessage) return cloud.gateway.upstream.deathMessage;
      if (cause === 'ECONNREFUSED' && attempt === 2) return `the emulator at ${url} refuses connections`;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  return undefined;
}
