// Finding a Python with moto, and the virtual environment seclab owns when there is none.

import { execFile } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, open, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SetupError } from './errors.ts';
import type { Progress } from './types.ts';
import { runCaptured } from './run-captured.ts';

/** The moto release the tool installs and has been checked against. */
export const MOTO_PIN = '5.2.1';
/** Oldest moto accepted when found already installed. */
export const MOTO_MIN: readonly [number, number] = [5, 2];
/** Oldest Python moto 5.2 runs on. */
export const PYTHON_MIN: readonly [number, number] = [3, 10];

export const INSTALL_PYTHON_HINT =
  'Install Python 3.10+ (Debian/Ubuntu: apt-get install python3 python3-venv; macOS: brew install python@3.12; ' +
  'Windows: winget install Python.Python.3.12) or a Docker engine, then run seclab again (seclab doctor checks the setup).';

export interface PythonProbe {
  /** What was run (a name on PATH or a path). */
  command: string;
  /** sys.executable: the real interpreter path. */
  executable: string;
  version: string;
  major: number;
  minor: number;
  /** moto.__version__ when moto imports. */
  moto?: string;
  /** Whether moto.server imports (moto was installed with the [server] extra). */
  motoServer: boolean;
  /** Whether the venv and ensurepip modules are there (Debian needs python3-venv). */
  venv: boolean;
}

const PROBE_CODE = [
  'import sys, json',
  'r = {"exe": sys.executable, "ver": ".".join(str(x) for x in sys.version_info[:3]), "v": list(sys.version_info[:2])}',
  'try:',
  '    import moto',
  '    r["moto"] = moto.__version__',
  '    import moto.server',
  '    r["server"] = True',
  'except Exception:',
  '    pass',
  'try:',
  '    import venv, ensurepip',
  '    r["venv"] = True',
  'except Exception:',
  '    r["venv"] = False',
  'print(json.dumps(r))',
].join('\n');

const probeCache = new Map<string, Promise<PythonProbe | undefined>>();

/** Run `command -c <probe>`; undefined when it is not a working Python. Cached per command. */
export function probePython(command: string, timeoutMs = 15_000): Promise<PythonProbe | undefined> {
  let p = probeCache.get(command);
  if (!p) {
    p = runProbe(command, timeoutMs);
    probeCache.set(command, p);
  }
  return p;
}

/** Forget cached probes (after installing moto). */
export function clearPythonProbes(): void {
  probeCache.clear();
}

function runProbe(command: string, timeoutMs: number): Promise<PythonProbe | undefined> {
  return new Promise((resolve) => {
    execFile(command, ['-c', PROBE_CODE], { timeout: timeoutMs, windowsHide: true, env: { ...process.env, PYTHONWARNINGS: 'ignore' } }, (err, stdout) => {
      if (err) return resolve(undefined);
      try {
        const line = stdout.trim().split('\n').pop() ?? '';
        const r = JSON.parse(line) as { exe: string; ver: string; v: [number, number]; moto?: string; server?: boolean; venv: boolean };
        resolve({
          command,
          executable: r.exe || command,
          version: r.ver,
          major: r.v[0],
          minor: r.v[1],
          moto: r.moto,
          motoServer: r.server === true,
          venv: r.venv,
        });
      } catch {
        resolve(undefined);
      }
    });
  });
}

/** Numeric parts of a version string ("5.2.1.dev3" -> [5, 2, 1]). */
export function versionParts(v: string): number[] {
  return v.split(/[.+-]/).map((x) => Number.parseInt(x, 10)).filter((n) => Number.isFinite(n));
}

/** a >= b, comparing numerically part by part. */
export function versionAtLeast(v: string, min: readonly number[]): boolean {
  const parts = versionParts(v);
  for (let i = 0; i < min.length; i++) {
    const a = parts[i] ?? 0;
    if (a !== min[i]) return a > min[i]!;
  }
  return true;
}

export function pythonOk(p: PythonProbe): boolean {
  return p.major > PYTHON_MIN[0] || (p.major === PYTHON_MIN[0] && p.minor >= PYTHON_MIN[1]);
}

export function motoOk(p: PythonProbe): boolean {
  return pythonOk(p) && p.moto !== undefined && p.motoServer && versionAtLeast(p.moto, MOTO_MIN);
}

/** Full path of an executable on PATH, or undefined. */
export async function which(name: string): Promise<string | undefined> {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const exts = process.platform === 'win32' ? (process.env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const dir of dirs) {
    for (const ext of exts) {
      const full = path.join(dir, name + ext);
      try {
        await access(full, fsConstants.X_OK);
        return full;
      } catch {
        // next
      }
    }
  }
  return undefined;
}

/** The interpreter a script's shebang names, when it is a Python one. */
async function shebangPython(script: string): Promise<string | undefined> {
  try {
    const fh = await open(script, 'r');
    try {
      const buf = Buffer.alloc(256);
      const { bytesRead } = await fh.read(buf, 0, 256, 0);
      const first = buf.subarray(0, bytesRead).toString('utf8').split('\n')[0] ?? '';
      const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(first);
      if (!m) return undefined;
      const interp = m[1]!.endsWith('/env') && m[2] ? m[2] : m[1]!;
      return /python[\d.]*$/.test(path.basename(interp)) ? interp : undefined;
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
}

/** Where seclab keeps its caches: $SECLAB_CACHE_DIR, else $XDG_CACHE_HOME/seclab, else ~/.cache/seclab. */
export function cacheDir(): string {
  if (process.env.SECLAB_CACHE_DIR) return path.resolve(process.env.SECLAB_CACHE_DIR);
  const base = process.env.XDG_CACHE_HOME ? path.resolve(process.env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache');
  return path.join(base, 'seclab');
}

export function motoVenvDir(): string {
  return path.join(cacheDir(), 'moto-venv');
}

export function venvPython(dir: string): string {
  return process.platform === 'win32' ? path.join(dir, 'Scripts', 'python.exe') : path.join(dir, 'bin', 'python');
}

export interface PythonSearch {
  /** A Python >= 3.10 with moto >= 5.2 (and its server extra). */
  moto?: PythonProbe;
  /** Where that moto lives: 'path' (found installed) or 'venv' (seclab's own). */
  source?: 'path' | 'venv';
  /** A Python >= 3.10 that can create the virtual environment. */
  base?: PythonProbe;
  /** Every working interpreter looked at. */
  probes: PythonProbe[];
  /** Every command tried, for messages. */
  tried: string[];
}

/**
 * Look for moto: an explicit interpreter, $SECLAB_PYTHON, the interpreter behind `moto_server` on
 * PATH, `python3`, `python`; then seclab's own virtual environment.
 */
export async function findPython(opts: { python?: string } = {}): Promise<PythonSearch> {
  const candidates: string[] = [];
  const add = (c: string | undefined): void => {
    if (c && !candidates.includes(c)) candidates.push(c);
  };
  add(opts.python);
  add(process.env.SECLAB_PYTHON);
  const motoServer = await which('moto_server');
  if (motoServer) add(await shebangPython(motoServer));
  add('python3');
  add('python');
  if (process.platform === 'win32') add('py');

  const result: PythonSearch = { probes: [], tried: [...candidates] };
  const seen = new Set<string>();
  for (const c of candidates) {
    const p = await probePython(c);
    if (!p || seen.has(p.executable)) continue;
    seen.add(p.executable);
    result.probes.push(p);
    if (!result.base && pythonOk(p) && p.venv) result.base = p;
    if (motoOk(p)) {
      result.moto = p;
      result.source = 'path';
      result.base ??= p;
      return result;
    }
  }
  const venvPy = venvPython(motoVenvDir());
  result.tried.push(venvPy);
  const v = await probePython(venvPy);
  if (v && motoOk(v)) {
    result.moto = v;
    result.source = 'venv';
  }
  result.base ??= result.probes.find(pythonOk);
  return result;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return runCaptured(cmd, args, { timeoutMs, env: { PIP_DISABLE_PIP_VERSION_CHECK: '1' } });
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join('\n');
}

/**
 * Create seclab's virtual environment with moto[server]==MOTO_PIN using `base`. Built in a temporary
 * folder next to it and renamed into place, so an interrupted install never leaves a half venv and
 * two seclab processes installing at once do not trip over each other.
 */
export async function installMotoVenv(base: PythonProbe, progress: Progress = () => {}): Promise<PythonProbe> {
  const dir = motoVenvDir();
  if (!base.venv) {
    throw new SetupError(
      `Python ${base.version} at ${base.executable} cannot create virtual environments (the venv/ensurepip modules are missing), so seclab cannot install moto ${MOTO_PIN}.`,
      `Install them (Debian/Ubuntu: apt-get install python3-venv), or install moto yourself: ${base.command} -m pip install "moto[server]==${MOTO_PIN}"`,
    );
  }
  await mkdir(path.dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  progress(`Installing the lab cloud (moto ${MOTO_PIN}) into ${dir} — first run only, about a minute`);
  const started = Date.now();
  try {
    const mk = await run(base.executable, ['-m', 'venv', tmp], 120_000);
    if (mk.code !== 0) {
      throw new SetupError(
        `Could not create a virtual environment with ${base.executable}:\n${lastLines(mk.output, 8)}`,
        `On Debian/Ubuntu install python3-venv (apt-get install python3-venv); or install moto yourself: ${base.command} -m pip install "moto[server]==${MOTO_PIN}"`,
      );
    }
    const pip = await run(venvPython(tmp), ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', `moto[server]==${MOTO_PIN}`], 600_000);
    if (pip.code !== 0) {
      throw new SetupError(
        `Could not install moto ${MOTO_PIN} with pip:\n${lastLines(pip.output, 12)}`,
        `Check that this machine can reach PyPI (or set PIP_INDEX_URL to a mirror) and run seclab again; or install moto yourself: ${base.command} -m pip install "moto[server]==${MOTO_PIN}"`,
      );
    }
    await rm(dir, { recursive: true, force: true });
    try {
      await rename(tmp, dir);
    } catch (e) {
      // Another seclab finished first: use its venv if it works.
      clearPythonProbes();
      const other = await probePython(venvPython(dir));
      if (!other || !motoOk(other)) throw e;
    }
  } finally {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  }
  clearPythonProbes();
  const p = await probePython(venvPython(dir));
  if (!p || !motoOk(p)) {
    throw new SetupError(`moto ${MOTO_PIN} was installed into ${dir} but does not import.`, `Delete ${dir} and run seclab again.`);
  }
  progress(`Installed moto ${p.moto} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return p;
}
