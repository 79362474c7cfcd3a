// Container support (testcontainers and @testcontainers/localstack) is not a dependency of seclab:
// it pulls in about 100 packages (dockerode, ssh2, archiver...) that only `--target localstack` (and
// moto from its Docker image, on a machine without Python) need. The pinned versions are seclab's
// optional peer dependencies (package.json `peerDependencies`, `peerDependenciesMeta.optional`), which
// npm never installs by itself. On first use they are taken from, in order:
//   1. seclab's own module resolution (a clone where someone ran `npm install testcontainers`);
//   2. seclab's cache, `<cache>/localstack-support/node_modules` (SECLAB_CACHE_DIR, ~/.cache/seclab);
//   3. installed there with npm, once, with a progress message (like moto's virtual environment);
//      SECLAB_NO_INSTALL=1 turns that off and the error gives the exact command instead.

import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SetupError } from './errors.ts';
import { cacheDir } from './python.ts';
import type { Progress } from './types.ts';
import { runCaptured } from './run-captured.ts';

export const CONTAINER_PACKAGES = ['testcontainers', '@testcontainers/localstack'] as const;
type ContainerPackage = (typeof CONTAINER_PACKAGES)[number];

/** The pinned versions, from package.json's optional peer dependencies (one place to change them). */
export function containerPins(): Record<ContainerPackage, string> {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { peerDependencies?: Record<string, string> };
  const peers = pkg.peerDependencies ?? {};
  const pins = {} as Record<ContainerPackage, string>;
  for (const name of CONTAINER_PACKAGES) {
    const v = peers[name];
    if (!v) throw new Error(`package.json lists no peer dependency ${name}`);
    pins[name] = v;
  }
  return pins;
}

/** Where seclab installs container support on first use. */
export function containerSupportDir(): string {
  return path.join(cacheDir(), 'localstack-support');
}

/** The command that installs container support by hand (what the automatic install runs). */
export function containerInstallCommand(dir = containerSupportDir()): string {
  const pins = containerPins();
  return `npm install --prefix "${dir}" ${CONTAINER_PACKAGES.map((n) => `${n}@${pins[n]}`).join(' ')}`;
}

// What seclab uses of them (typed here: the packages are usually not installed when seclab is type-checked).
export interface StartedContainer {
  getId(): string;
  getHost(): string;
  getMappedPort(port: number): number;
  getConnectionUri?(): string;
  stop(opts?: { timeout?: number }): Promise<unknown>;
}
export interface ContainerBuilder<C = StartedContainer> {
  withEnvironment(env: Record<string, string>): this;
  withExposedPorts(...ports: (number | { container: number; host: number })[]): this;
  withWaitStrategy(strategy: unknown): this;
  withStartupTimeout(ms: number): this;
  start(): Promise<C>;
}
export interface StartedLocalstack extends StartedContainer {
  getConnectionUri(): string;
}
export interface TestcontainersModule {
  GenericContainer: new (image: string) => ContainerBuilder;
  Wait: { forHttp(path: string, port: number): { forStatusCodeMatching(pred: (code: number) => boolean): unknown } };
}
export interface LocalstackModule {
  LocalstackContainer: new (image: string) => ContainerBuilder<StartedLocalstack>;
}

export interface ContainerSupportStatus {
  installed: boolean;
  /** Where it was found: 'seclab' (seclab's own node_modules) or the cache folder. */
  where?: string;
  version?: string;
}

function resolveFrom(base: string, name: string): string | undefined {
  try {
    return createRequire(path.join(base, 'noop.js')).resolve(name);
  } catch {
    return undefined;
  }
}

function installedVersion(dir: string, name: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** Where each package resolves, without importing anything (importing testcontainers is slow). */
function locate(): { where: string; files: Record<ContainerPackage, string>; version?: string } | undefined {
  const pins = containerPins();
  const major = (v: string | undefined) => v?.split('.')[0];
  // seclab's own resolution: accepted with the pinned major version.
  const own = path.dirname(fileURLToPath(import.meta.url));
  const ownFiles = CONTAINER_PACKAGES.map((n) => resolveFrom(own, n));
  if (ownFiles.every(Boolean)) {
    let version: string | undefined;
    try {
      const pkg = createRequire(path.join(own, 'noop.js')).resolve('testcontainers/package.json');
      version = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
    } catch {
      version = undefined;
    }
    if (major(version) === major(pins.testcontainers)) {
      return { where: 'seclab', files: Object.fromEntries(CONTAINER_PACKAGES.map((n, i) => [n, ownFiles[i]!])) as Record<ContainerPackage, string>, version };
    }
  }
  const dir = containerSupportDir();
  // The cache must hold the pinned versions (an older seclab may have installed others).
  if (!CONTAINER_PACKAGES.every((n) => installedVersion(dir, n) === pins[n])) return undefined;
  const files = CONTAINER_PACKAGES.map((n) => resolveFrom(dir, n));
  if (!files.every(Boolean)) return undefined;
  return { where: dir, files: Object.fromEntries(CONTAINER_PACKAGES.map((n, i) => [n, files[i]!])) as Record<ContainerPackage, string>, version: pins.testcontainers };
}

/** Whether container support is installed, and where (checks files only: fast, for `seclab doctor`). */
export function containerSupportStatus(): ContainerSupportStatus {
  const found = locate();
  return found ? { installed: true, where: found.where, version: found.version } : { installed: false };
}

/** The npm to run: the one that started us (npm_execpath), else the one beside node, else npm on PATH. */
function npmCommand(): { file: string; args: string[]; shell: boolean } {
  const execpath = process.env.npm_execpath;
  if (execpath && /npm-cli\.js$/.test(execpath) && existsSync(execpath)) return { file: process.execPath, args: [execpath], shell: false };
  const win = process.platform === 'win32';
  const beside = path.join(path.dirname(process.execPath), win ? 'npm.cmd' : 'npm');
  if (existsSync(beside)) return { file: beside, args: [], shell: win };
  return { file: win ? 'npm.cmd' : 'npm', args: [], shell: win };
}

function run(file: string, args: string[], shell: boolean, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return runCaptured(file, args, { timeoutMs, shell, env: { npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' } });
}

/**
 * Install the pinned packages into seclab's cache. Built in a temporary sibling folder and renamed into
 * place, so an interrupted install leaves nothing half done and two seclabs installing at once do not
 * trip over each other.
 */
export async function installContainerSupport(progress: Progress = () => {}, why = '--target localstack'): Promise<void> {
  const dir = containerSupportDir();
  const pins = containerPins();
  const specs = CONTAINER_PACKAGES.map((n) => `${n}@${pins[n]}`);
  if (process.env.SECLAB_NO_INSTALL === '1') {
    throw new SetupError(
      `${why} needs container support (${specs.join(', ')}), which is not installed, and SECLAB_NO_INSTALL=1 forbids installing it.`,
      `Install it yourself: ${containerInstallCommand(dir)}`,
    );
  }
  await mkdir(path.dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  progress(`${why} needs container support, not installed yet: installing ${specs.join(' and ')} with npm into ${dir} — first use only, about 20 s`);
  const started = Date.now();
  const npm = npmCommand();
  try {
    await mkdir(tmp, { recursive: true });
    await writeFile(path.join(tmp, 'package.json'), `${JSON.stringify({ name: 'seclab-localstack-support', private: true, description: 'Installed by seclab on first use of --target localstack; safe to delete.' }, null, 2)}\n`);
    let res: { code: number | null; output: string };
    try {
      res = await run(npm.file, [...npm.args, 'install', '--prefix', tmp, '--no-audit', '--no-fund', '--save-exact', ...specs], npm.shell, 600_000);
    } catch (e) {
      throw new SetupError(`Could not run npm to install container support: ${(e as Error).message}`, `Install it yourself: ${containerInstallCommand(dir)}`, { cause: e });
    }
    if (res.code !== 0) {
      throw new SetupError(
        `Could not install container support (${specs.join(', ')}) with npm:\n${res.output.trim().split('\n').slice(-12).join('\n')}`,
        `Check that this machine can reach the npm registry and run seclab again; or install it yourself: ${containerInstallCommand(dir)}`,
      );
    }
    await rm(dir, { recursive: true, force: true });
    try {
      await rename(tmp, dir);
    } catch (e) {
      // Another seclab finished first: use its copy if it is complete.
      if (!locate()) throw e;
    }
  } finally {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  }
  if (!locate()) throw new SetupError(`Container support was installed into ${dir} but cannot be found there.`, `Delete ${dir} and run seclab again, or: ${containerInstallCommand(dir)}`);
  progress(`Installed container support in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

async function load(progress: Progress, why: string): Promise<Record<ContainerPackage, string>> {
  let found = locate();
  if (!found) {
    await installContainerSupport(progress, why);
    found = locate();
    if (!found) throw new SetupError('Container support is not installed.', `Install it: ${containerInstallCommand()}`);
  }
  return found.files;
}

/** testcontainers (GenericContainer, Wait), installed on first use. Call only once Docker answered. */
export async function loadTestcontainers(progress: Progress = () => {}, why = 'moto from its Docker image'): Promise<TestcontainersModule> {
  const files = await load(progress, why);
  return (await import(pathToFileURL(files.testcontainers).href)) as TestcontainersModule;
}

/** @testcontainers/localstack (LocalstackContainer), installed on first use. Call only once Docker answered. */
export async function loadLocalstackModule(progress: Progress = () => {}): Promise<LocalstackModule> {
  const files = await load(progress, '--target localstack');
  return (await import(pathToFileURL(files['@testcontainers/localstack']).href)) as LocalstackModule;
}

/** The `seclab doctor` row: installed or not, and what its absence disables. */
export function checkContainerSupport(): { name: string; ok: boolean; optional: true; detail: string; fix?: string } {
  const s = containerSupportStatus();
  if (s.installed) {
    return {
      name: 'LocalStack support',
      ok: true,
      optional: true,
      detail: `testcontainers ${s.version ?? ''} ${s.where === 'seclab' ? "in seclab's node_modules" : `in ${s.where}`}`.replace(/ {2,}/g, ' '),
    };
  }
  return {
    name: 'LocalStack support',
    ok: false,
    optional: true,
    detail: `not installed (testcontainers ${containerPins().testcontainers}): only --target localstack and moto from Docker (no Python) need it; their first use installs it with npm into ${containerSupportDir()}`,
    fix: `to install it now: ${containerInstallCommand()}`,
  };
}
