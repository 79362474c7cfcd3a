// `seclab doctor`: is this machine ready for the lab cloud? Checks only; the CLI prints them.

import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dockerAvailable } from './docker.ts';
import { probeSandbox } from '../sandbox/index.ts';
import { checkContainerSupport } from './localstack-support.ts';
import { freePort, LOOPBACK } from './ports.ts';
import { checkHostImage } from '../../host/image.ts';
import { nginxStatus } from '../../host/web/nginx.ts';
import { cacheDir, findPython, INSTALL_PYTHON_HINT, MOTO_PIN, motoVenvDir, type PythonSearch } from './python.ts';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  /** A failure here does not stop the default lab cloud. */
  optional?: boolean;
}

export const NODE_MIN: readonly [number, number] = [20, 19];

export function checkNode(version: string = process.versions.node): DoctorCheck {
  const [maj = 0, min = 0] = version.split('.').map(Number);
  const ok = maj > NODE_MIN[0] || (maj === NODE_MIN[0] && min >= NODE_MIN[1]);
  return {
    name: 'Node.js',
    ok,
    detail: `Node.js ${version}${ok ? '' : ` (seclab needs ${NODE_MIN.join('.')} or newer)`}`,
    ...(ok ? {} : { fix: 'Install Node.js 20.19+ or 22 LTS (https://nodejs.org, or: nvm install 22)' }),
  };
}

function checkPython(found: PythonSearch, dockerOk: boolean): DoctorCheck {
  const base = found.base;
  if (base) {
    return {
      name: 'Python',
      ok: true,
      detail: `Python ${base.version} at ${base.executable}${base.venv ? '' : ' (without the venv module)'}`,
    };
  }
  const seen = found.probes.map((p) => `${p.command} is ${p.version}`).join(', ');
  return {
    name: 'Python',
    ok: false,
    optional: dockerOk,
    detail: `no Python 3.10+ found${seen ? ` (${seen})` : ''}${dockerOk ? '; moto will run from its Docker image instead' : ''}`,
    fix: INSTALL_PYTHON_HINT,
  };
}

function checkMoto(found: PythonSearch, dockerOk: boolean): DoctorCheck {
  if (found.moto) {
    const where = found.source === 'venv' ? `seclab's environment ${motoVenvDir()}` : found.moto.executable;
    return { name: 'moto (lab cloud)', ok: true, detail: `moto ${found.moto.moto} with ${where}` };
  }
  if (found.base?.venv) {
    return {
      name: 'moto (lab cloud)',
      ok: true,
      detail: `not installed yet; the first run installs moto ${MOTO_PIN} into ${motoVenvDir()} with ${found.base.executable} (needs access to PyPI, about a minute)`,
    };
  }
  if (dockerOk) {
    return { name: 'moto (lab cloud)', ok: true, detail: `will run from the Docker image motoserver/moto:${MOTO_PIN}` };
  }
  if (found.base) {
    return {
      name: 'moto (lab cloud)',
      ok: false,
      detail: `cannot be installed: Python ${found.base.version} at ${found.base.executable} has no venv module`,
      fix: `apt-get install python3-venv, or: ${found.base.command} -m pip install "moto[server]==${MOTO_PIN}"`,
    };
  }
  return { name: 'moto (lab cloud)', ok: false, detail: 'cannot be installed or run: no Python 3.10+ and no Docker engine', fix: INSTALL_PYTHON_HINT };
}

async function checkPort(): Promise<DoctorCheck> {
  try {
    const port = await freePort();
    return { name: 'Loopback port', ok: true, detail: `can listen on ${LOOPBACK} (got port ${port})` };
  } catch (e) {
    return {
      name: 'Loopback port',
      ok: false,
      detail: `cannot listen on ${LOOPBACK}: ${(e as Error).message}`,
      fix: 'Check that the loopback interface is up and that no sandbox or firewall forbids listening sockets.',
    };
  }
}

async function checkCache(): Promise<DoctorCheck> {
  const dir = cacheDir();
  const probe = path.join(dir, `.doctor-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(probe, 'ok');
    await rm(probe, { force: true });
    return { name: 'Cache folder', ok: true, detail: `${dir} is writable` };
  } catch (e) {
    return {
      name: 'Cache folder',
      ok: false,
      detail: `${dir} is not writable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      fix: 'Set SECLAB_CACHE_DIR (or XDG_CACHE_HOME) to a writable folder, or fix the permissions.',
    };
  }
}

/** Run every check (in parallel) and return them in a stable order. Prints nothing. */
export async function runDoctor(): Promise<DoctorCheck[]> {
  const [found, docker, port, cache] = await Promise.all([findPython(), dockerAvailable(), checkPort(), checkCache()]);
  return [
    checkNode(),
    checkPython(found, docker.ok),
    checkMoto(found, docker.ok),
    {
      name: 'Docker engine',
      ok: docker.ok,
      optional: true,
      detail: docker.ok ? docker.reason : `${docker.reason}; only needed for --target localstack`,
      ...(docker.ok ? {} : { fix: 'Install and start Docker (or set DOCKER_HOST) if you want --target localstack.' }),
    },
    checkContainerSupport(),
    checkSandbox(),
    port,
    cache,
    await checkHostImage(),
    checkNginx(),
    checkGo(),
  ];
}

/**
 * Go: only to prove the ledger's formats against an independent implementation (Go's sumdb tlog and note
 * packages, test/helpers/tlog-go); the ledger itself is TypeScript and needs nothing.
 */
export function checkGo(): DoctorCheck {
  const r = spawnSync('go', ['version'], { encoding: 'utf8', timeout: 10_000 });
  const version = r.status === 0 ? /go(\d+\.\d+(?:\.\d+)?)/.exec(r.stdout)?.[1] : undefined;
  return version
    ? { name: 'Go (ledger tests)', ok: true, optional: true, detail: `Go ${version}: the ledger's interoperability test runs Go's tlog and note packages against seclab's checkpoints, proofs and tiles` }
    : { name: 'Go (ledger tests)', ok: false, optional: true, detail: 'no `go` on PATH; only the ledger\'s interoperability test (Go\'s tlog package) skips, the ledger works without it', fix: 'Install Go 1.22 or later (https://go.dev/dl/) for the ledger interoperability test' };
}

/** The real nginx: lab host runs the instance's web server configuration with it. */
function checkNginx(): DoctorCheck {
  const st = nginxStatus();
  return st.installed
    ? { name: 'nginx (host lab)', ok: true, optional: true, detail: `nginx ${st.version}: lab host runs the instance's web server configuration with it` }
    : { name: 'nginx (host lab)', ok: false, optional: true, detail: `${st.reason}; lab host's TLS checks, its site check and its TLS and HTTP attacks cannot run without it`, fix: 'apt-get install nginx-light' };
}

/** The sandbox for submissions' code: what grading a class needs, and what is lost without it. */
function checkSandbox(): DoctorCheck {
  const probe = probeSandbox();
  return {
    name: 'Sandbox',
    ok: probe.kind !== 'none',
    optional: true,
    detail: probe.kind !== 'none'
      ? probe.detail
      : `${probe.detail}; your own \`seclab check\` works, but \`seclab grade --submissions\` refuses to grade a class without --no-sandbox`,
    ...(probe.kind !== 'none' ? {} : { fix: process.platform === 'linux' ? 'Install bubblewrap: apt-get install bubblewrap (see docs/security.md)' : 'Grade classes on Linux with bubblewrap (see docs/security.md)' }),
  };
}
