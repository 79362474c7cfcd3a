// The default target: moto_server as a child process on a free loopback port.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { SetupError, TargetDiedError } from './errors.ts';
import { dockerAvailable } from './docker.ts';
import { httpRequest } from './http.ts';
import { track } from './lifecycle.ts';
import { assertPortFree, freePort, LOOPBACK, portInUseError } from './ports.ts';
import { findPython, INSTALL_PYTHON_HINT, installMotoVenv, MOTO_PIN, type PythonProbe } from './python.ts';
import type { Progress, Target } from './types.ts';

export const MOTO_IMAGE = `motoserver/moto:${MOTO_PIN}`;

/**
 * moto settings seclab relies on (POST /moto-api/config). Lambda and Batch must not need Docker:
 * the gateway runs Lambda handlers itself.
 */
export const MOTO_CONFIG = {
  lambda: { use_docker: false },
  batch: { use_docker: false },
} as const;

export interface StartMotoOptions {
  progress?: Progress;
  /** Listen on this loopback port instead of a free one. */
  port?: number;
  /** Python interpreter to use (must have moto >= 5.2, or is used to create seclab's venv). */
  python?: string;
  /** 'python' (child process), 'docker' (motoserver/moto image), or 'auto' (python, else Docker). */
  runtime?: 'auto' | 'python' | 'docker';
  /** Keep moto's per-request log lines (werkzeug INFO) in the captured output. */
  verbose?: boolean;
  /** How long to wait for moto to answer, ms (default 20 s). */
  readyTimeoutMs?: number;
}

export interface MotoTarget extends Target {
  kind: 'moto';
  url: string;
  emulated: true;
  accountSelection: 'header';
  startupMs: number;
  /** moto's version. */
  version: string;
  runtime: 'python' | 'docker';
  /** The interpreter running moto (runtime 'python'). */
  python?: string;
  /** moto's process id (runtime 'python'). */
  pid?: number;
  port: number;
  /** The last lines moto wrote (stderr/stdout), for error messages. */
  lastOutput(): string;
}

/**
 * Python code run with `python -c`: exits as soon as its stdin (a pipe from seclab) closes, which
 * happens however seclab dies, even SIGKILL; then starts moto_server's main with the arguments.
 */
const WRAPPER = [
  'import os, sys, threading',
  // The per-run secret arrives as the first line on stdin (not in the environment or the command
  // line, which other processes of the same user can read).
  '_seclab_token = b""',
  'while not _seclab_token.endswith(b"\\n"):',
  '    _chunk = os.read(0, 1)',
  '    if not _chunk:',
  '        os._exit(0)',
  '    _seclab_token += _chunk',
  '_seclab_token = _seclab_token.strip().decode()',
  'def _seclab_watch_parent():',
  '    try:',
  '        while os.read(0, 65536):',
  '            pass',
  '    except OSError:',
  '        pass',
  '    os._exit(0)',
  'threading.Thread(target=_seclab_watch_parent, name="seclab-parent-watch", daemon=True).start()',
  'if os.environ.get("SECLAB_MOTO_VERBOSE") != "1":',
  '    import logging',
  '    logging.getLogger("werkzeug").setLevel(logging.WARNING)',
  // The lab clock runs ahead of the wall clock: CloudWatch Logs accepts events up to 2 h ahead of
  // "now", so its "now" follows the offset the gateway sends with each request.
  'import datetime as _dt',
  'try:',
  '    import moto.logs.models as _lm',
  '    from flask import request as _rq, has_request_context as _hrc',
  '    _orig_utcnow = _lm.utcnow',
  '    def _lab_utcnow():',
  '        now = _orig_utcnow()',
  '        off = _rq.headers.get("x-seclab-clock-offset") if _hrc() else None',
  '        return now + _dt.timedelta(milliseconds=int(off)) if off else now',
  '    _lm.utcnow = _lab_utcnow',
  'except Exception as e:',
  '    print("seclab: lab clock not applied to moto logs:", e, file=sys.stderr)',
  // The gateway authorizes every S3 call (with aws:SecureTransport, the caller's identity...); moto's
  // own partial bucket-policy check, which knows none of that, must not refuse what it allowed.
  'try:',
  '    from moto.s3.models import FakeBucket as _FB',
  '    from moto.iam.access_control import PermissionResult as _PR',
  '    _FB.get_permission = lambda self, action, resource: _PR.NEUTRAL',
  'except Exception as e:',
  '    print("seclab: moto bucket policies still checked by moto:", e, file=sys.stderr)',
  // Keep-alive: werkzeug closes every connection under HTTP/1.0, and the gateway forwards every call.
  'from werkzeug.serving import WSGIRequestHandler',
  'WSGIRequestHandler.protocol_version = "HTTP/1.1"',
  // Only the gateway may talk to moto: every request, /moto-api/* included, must carry the secret.
  'import hmac as _hmac',
  'import werkzeug.serving as _ws',
  '_orig_run_simple = _ws.run_simple',
  'def _seclab_guard(app):',
  '    def guarded(environ, start_response):',
  '        given = environ.get("HTTP_X_SECLAB_UPSTREAM_TOKEN", "")',
  '        if not _hmac.compare_digest(given.encode(), _seclab_token.encode()):',
  '            start_response("403 Forbidden", [("Content-Type", "text/plain")])',
  '            return [b"this emulator belongs to a seclab lab cloud: talk to its gateway"]',
  // moto's apps run with debug on, so a handler's exception reaches this point. The answer names the
  // exception's class (NotImplementedError for an operation moto lacks, KeyError/ValueError... for bad
  // input) so that the gateway answers the protocol's error (gateway/protocol/target-errors.ts).
  '        try:',
  '            return app(environ, start_response)',
  '        except Exception as e:',
  '            if os.environ.get("SECLAB_MOTO_VERBOSE") == "1":',
  '                import traceback',
  '                traceback.print_exc()',
  '            start_response("500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain; charset=utf-8"), ("x-seclab-target-exception", type(e).__name__)], sys.exc_info())',
  '            return [b"the emulator failed on this request"]',
  '    return guarded',
  'def _seclab_run_simple(hostname, port, application, *a, **kw):',
  '    return _orig_run_simple(hostname, port, _seclab_guard(application), *a, **kw)',
  '_ws.run_simple = _seclab_run_simple',
  'from moto.server import main',
  'main(sys.argv[1:])',
].join('\n');

const POLL_MS = 25;
const OUTPUT_LINES = 60;

class OutputTail {
  private lines: string[] = [];
  private partial = '';
  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const parts = text.split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    for (const l of parts) if (l.trim()) this.lines.push(l);
    if (this.lines.length > OUTPUT_LINES) this.lines.splice(0, this.lines.length - OUTPUT_LINES);
  }
  tail(n = 12): string {
    const all = this.partial.trim() ? [...this.lines, this.partial] : this.lines;
    return all.slice(-n).join('\n');
  }
}

class DeathWatch {
  private error?: TargetDiedError;
  private listeners = new Set<(e: TargetDiedError) => void>();
  on(cb: (e: TargetDiedError) => void): () => void {
    if (this.error) {
      const e = this.error;
      queueMicrotask(() => cb(e));
      return () => {};
    }
    this.listeners.add(cb);
    return () => {
      this.listeners.delete(cb);
    };
  }
  fire(e: TargetDiedError): void {
    if (this.error) return;
    this.error = e;
    for (const cb of this.listeners) {
      try {
        cb(e);
      } catch {
        // a listener's failure must not hide the death from the others
      }
    }
    this.listeners.clear();
  }
  get died(): TargetDiedError | undefined {
    return this.error;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Configure moto (MOTO_CONFIG) and check it took. */
export async function configureMoto(url: string, headers: Record<string, string> = {}): Promise<void> {
  const res = await httpRequest(`${url}/moto-api/config`, {
    method: 'POST',
    body: JSON.stringify(MOTO_CONFIG),
    headers: { 'content-type': 'application/json', ...headers },
  });
  if (res.status >= 300) throw new Error(`moto refused its configuration (POST /moto-api/config answered HTTP ${res.status}): ${res.body.slice(0, 300)}`);
  const now = await httpRequest(`${url}/moto-api/config`, { headers });
  let cfg: Record<string, Record<string, unknown>>;
  try {
    cfg = JSON.parse(now.body) as Record<string, Record<string, unknown>>;
  } catch {
    throw new Error(`moto answered GET /moto-api/config with something that is not JSON: ${now.body.slice(0, 200)}`);
  }
  for (const [section, values] of Object.entries(MOTO_CONFIG)) {
    for (const [key, want] of Object.entries(values)) {
      if (cfg[section]?.[key] !== want) {
        throw new Error(`moto did not accept ${section}.${key}=${JSON.stringify(want)} (it reports ${JSON.stringify(cfg[section]?.[key])})`);
      }
    }
  }
}

async function resetMoto(url: string, headers: Record<string, string> = {}): Promise<void> {
  const res = await httpRequest(`${url}/moto-api/reset`, { method: 'POST', timeoutMs: 30_000, headers });
  if (res.status >= 300) throw new Error(`moto reset failed: POST /moto-api/reset answered HTTP ${res.status}`);
  // A reset wipes every backend; put seclab's configuration back in case a moto version resets it too.
  await configureMoto(url, headers);
}

/** The header carrying moto's per-run secret. */
export const UPSTREAM_TOKEN_HEADER = 'x-seclab-upstream-token';

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exit code ${String(code)}`;
}

interface Spawned {
  child: ChildProcess;
  output: OutputTail;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
}

function spawnMoto(python: string, port: number, verbose: boolean, token: string): Spawned {
  const child = spawn(python, ['-c', WRAPPER, '-H', LOOPBACK, '-p', String(port)], {
    detached: false,
    stdio: ['pipe', 'pipe', 'pipe'],
    windowsHide: true,
    env: {
      ...process.env,
      PYTHONUNBUFFERED: '1',
      PYTHONWARNINGS: process.env.PYTHONWARNINGS ?? 'ignore',
      SECLAB_MOTO_VERBOSE: verbose ? '1' : '0',
      MOTO_PORT: String(port),
      // AWS managed policies (AdministratorAccess, ReadOnlyAccess...) exist in every account, as in AWS.
      MOTO_IAM_LOAD_MANAGED_POLICIES: 'true',
    },
  });
  const output = new OutputTail();
  child.stdout!.on('data', (c: Buffer) => output.push(c));
  child.stderr!.on('data', (c: Buffer) => output.push(c));
  // Writing is never needed; the pipe only exists so moto notices when we are gone.
  child.stdin!.on('error', () => {});
  child.stdin!.write(`${token}\n`);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    child.once('error', () => {
      // spawn failure (ENOENT...): 'exit' may never come
      done = true;
      resolve({ code: null, signal: null });
    });
  });
  return { child, output, exited, hasExited: () => done };
}

async function waitReady(url: string, s: Spawned, timeoutMs: number, spawnError: () => Error | undefined, headers: Record<string, string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const err = spawnError();
    if (err) throw err;
    if (s.hasExited()) {
      const { code, signal } = await s.exited;
      throw Object.assign(new Error(`moto exited during startup (${describeExit(code, signal)})`), { motoOutput: s.output.tail() });
    }
    try {
      const res = await httpRequest(`${url}/moto-api/`, { timeoutMs: 2000, maxBody: 0, headers });
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw Object.assign(new Error(`moto did not answer on ${url} within ${Math.round(timeoutMs / 1000)} s`), { motoOutput: s.output.tail() });
    }
    await sleep(POLL_MS);
  }
}

function killHard(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) {
    try {
      child.stdin?.destroy();
    } catch {
      // ignore
    }
    child.kill('SIGKILL');
  }
}

async function startWithPython(py: PythonProbe, opts: StartMotoOptions): Promise<MotoTarget> {
  const progress = opts.progress ?? (() => {});
  const readyTimeoutMs = opts.readyTimeoutMs ?? 20_000;
  if (opts.port !== undefined) await assertPortFree(opts.port);
  const attempts = opts.port !== undefined ? 1 : 3;
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const port = opts.port ?? (await freePort());
    const url = `http://${LOOPBACK}:${port}`;
    const t0 = performance.now();
    const token = randomBytes(24).toString('hex');
    const headers = { [UPSTREAM_TOKEN_HEADER]: token };
    const s = spawnMoto(py.executable, port, opts.verbose === true, token);
    let spawnErr: Error | undefined;
    s.child.once('error', (e) => {
      spawnErr = e;
    });
    const untrack = track({ name: `moto (pid ${String(s.child.pid)})`, killNow: () => killHard(s.child) });
    void s.exited.then(untrack);
    try {
      await waitReady(url, s, readyTimeoutMs, () => spawnErr, headers);
      await configureMoto(url, headers);
    } catch (e) {
      killHard(s.child);
      await Promise.race([s.exited, sleep(2000)]);
      const out = ((e as { motoOutput?: string }).motoOutput ?? s.output.tail()).trim();
      if (/Address already in use|is in use by another program/i.test(out)) {
        if (opts.port !== undefined) throw portInUseError(opts.port);
        lastError = new Error(`port ${port} was taken before moto could listen on it`);
        progress(`Port ${port} was taken meanwhile; trying another one`);
        continue;
      }
      if (spawnErr) {
        throw new SetupError(`Could not run ${py.executable}: ${spawnErr.message}`, INSTALL_PYTHON_HINT);
      }
      throw new SetupError(
        `The lab cloud (moto) did not start: ${(e as Error).message}${out ? `\nlast output from moto:\n${out}` : ''}`,
        `Try it by hand: ${py.executable} -m moto.server -H ${LOOPBACK} -p ${port} ; seclab doctor checks the setup.`,
      );
    }
    const startupMs = Math.round(performance.now() - t0);
    return makePythonTarget(py, s, url, port, startupMs, headers);
  }
  throw new SetupError(
    `The lab cloud (moto) could not get a free loopback port after ${attempts} tries: ${lastError?.message ?? ''}`,
    'Something on this machine is grabbing ports quickly; pick one with --port <n>.',
  );
}

function makePythonTarget(py: PythonProbe, s: Spawned, url: string, port: number, startupMs: number, upstreamHeaders: Record<string, string>): MotoTarget {
  const death = new DeathWatch();
  let stopping: Promise<void> | undefined;
  void s.exited.then(({ code, signal }) => {
    if (stopping) return;
    const out = s.output.tail();
    death.fire(
      new TargetDiedError(`the lab cloud (moto) stopped unexpectedly: ${describeExit(code, signal)}; last output: ${out || '(none)'}`, {
        exitCode: code,
        signal,
        lastOutput: out,
      }),
    );
  });
  const alive = (): void => {
    if (death.died) throw death.died;
  };
  return {
    kind: 'moto',
    url,
    emulated: true,
    accountSelection: 'header',
    upstreamHeaders,
    description: `moto ${py.moto ?? '?'} (python ${py.executable}) on ${url}`,
    startupMs,
    version: py.moto ?? 'unknown',
    runtime: 'python',
    python: py.executable,
    pid: s.child.pid,
    port,
    lastOutput: () => s.output.tail(),
    async reset() {
      alive();
      await resetMoto(url, upstreamHeaders);
    },
    stop() {
      stopping ??= (async () => {
        if (s.hasExited()) return;
        s.child.stdin?.end(); // the wrapper exits on EOF
        s.child.kill('SIGTERM');
        const done = await Promise.race([s.exited.then(() => true), sleep(3000).then(() => false)]);
        if (!done) {
          killHard(s.child);
          await s.exited;
        }
      })();
      return stopping;
    },
    onDeath: (cb) => death.on(cb),
  };
}

async function startWithDocker(opts: StartMotoOptions): Promise<MotoTarget> {
  const progress = opts.progress ?? (() => {});
  const { GenericContainer, Wait } = await (await import('./localstack-support.ts')).loadTestcontainers(progress);
  progress(`Starting the lab cloud from the Docker image ${MOTO_IMAGE} (the first pull takes a while)`);
  const t0 = performance.now();
  let container = new GenericContainer(MOTO_IMAGE)
    .withEnvironment({ MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' })
    .withWaitStrategy(Wait.forHttp('/moto-api/', 5000).forStatusCodeMatching((c) => c < 500))
    .withStartupTimeout(120_000);
  container = opts.port !== undefined ? container.withExposedPorts({ container: 5000, host: opts.port }) : container.withExposedPorts(5000);
  if (opts.port !== undefined) await assertPortFree(opts.port);
  const started = await container.start();
  const host = started.getHost();
  const port = started.getMappedPort(5000);
  const url = `http://${host === 'localhost' ? LOOPBACK : host}:${port}`;
  try {
    await configureMoto(url);
  } catch (e) {
    await started.stop().catch(() => undefined);
    throw e;
  }
  const startupMs = Math.round(performance.now() - t0);
  let stopping: Promise<void> | undefined;
  const untrack = track({
    name: `moto container ${started.getId().slice(0, 12)}`,
    killNow: () => {
      // Cannot stop a container synchronously; testcontainers' Ryuk reaps it when we are gone.
    },
    stopAsync: async () => {
      await started.stop({ timeout: 2000 });
    },
  });
  const death = new DeathWatch();
  return {
    kind: 'moto',
    url,
    emulated: true,
    accountSelection: 'header',
    description: `moto ${MOTO_PIN} (Docker image ${MOTO_IMAGE}) on ${url}`,
    startupMs,
    version: MOTO_PIN,
    runtime: 'docker',
    port,
    lastOutput: () => '',
    reset: () => resetMoto(url),
    stop() {
      stopping ??= (async () => {
        untrack();
        await started.stop({ timeout: 2000 });
      })();
      return stopping;
    },
    onDeath: (cb) => death.on(cb),
  };
}

/**
 * Start moto: an installed moto >= 5.2, else seclab's own virtual environment (created on first
 * use), else the motoserver/moto image when a Docker engine is there, else a SetupError that says
 * what to install.
 */
export async function startMoto(opts: StartMotoOptions = {}): Promise<MotoTarget> {
  const runtime = opts.runtime ?? 'auto';
  if (runtime === 'docker') {
    const docker = await dockerAvailable();
    if (!docker.ok) throw new SetupError(`Cannot run moto in Docker: ${docker.reason}.`, 'Start a Docker engine, or use moto with Python (leave out the Docker choice).');
    return startWithDocker(opts);
  }
  const found = await findPython({ python: opts.python });
  if (found.moto) return startWithPython(found.moto, opts);
  if (found.base?.venv) {
    try {
      const py = await installMotoVenv(found.base, opts.progress);
      return startWithPython(py, opts);
    } catch (e) {
      if (runtime === 'python') throw e;
      const docker = await dockerAvailable();
      if (!docker.ok) throw e;
      opts.progress?.(`Could not install moto with Python (${(e as Error).message.split('\n')[0]}); using Docker instead`);
      return startWithDocker(opts);
    }
  }
  const docker = runtime === 'auto' ? await dockerAvailable() : { ok: false, reason: 'Docker not allowed' };
  if (docker.ok) return startWithDocker(opts);
  if (found.base) {
    // Python is there but cannot make a venv (Debian without python3-venv): installMotoVenv says what to do.
    return installMotoVenv(found.base, opts.progress).then((py) => startWithPython(py, opts));
  }
  const seen = found.probes.map((p) => `${p.command} is Python ${p.version}`).join('; ');
  throw new SetupError(
    `The lab cloud needs Python 3.10 or newer (for moto ${MOTO_PIN}) or a Docker engine, and this machine has neither` +
      ` (${seen ? `${seen}; ` : ''}looked for ${found.tried.join(', ')}; Docker: ${docker.reason}).`,
    INSTALL_PYTHON_HINT,
  );
}
