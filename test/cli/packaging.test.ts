// seclab as an npm package: `npm pack` holds what the CLI needs at runtime and nothing for development;
// installed globally (into a temporary --prefix, from npm's local cache when it can) it runs from any
// folder, `seclab init` makes a workspace in which `npx seclab` runs that install, and a lab is graded
// there. LocalStack support (testcontainers) is neither a dependency nor installed with it.
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WIN = process.platform === 'win32';
const NODE_BIN = path.dirname(process.execPath);
const npmBin = (name: 'npm' | 'npx') => {
  const beside = path.join(NODE_BIN, WIN ? `${name}.cmd` : name);
  return existsSync(beside) ? beside : WIN ? `${name}.cmd` : name;
};

const made: string[] = [];
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(prefix: string): string {
  // realpath: macOS's /var is a link, and npm and seclab print real paths.
  const d = realpathSync(mkdtempSync(path.join(os.tmpdir(), prefix)));
  made.push(d);
  return d;
}

/**
 * The environment of the commands: npm's own variables of an enclosing `npm test` (npm_config_local_prefix,
 * npm_package_*...) would point npm and npx at this repository; the user's cache, registry and config stay.
 */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig', 'npm_config_globalconfig']);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) || keep.has(k.toLowerCase())) env[k] = v;
  return { ...env, NO_COLOR: '1', CI: 'true', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...extra };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], cwd: string, env = cleanEnv(), timeoutMs = 240_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, shell: WIN && /\.cmd$/.test(file) }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

function explain(r: Run): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`;
}

/** Tracked files under `dirs` that exist in the working tree (undefined without git). */
function tracked(dirs: string[]): string[] | undefined {
  try {
    const out = execFileSync('git', ['ls-files', '-z', '--', ...dirs], { cwd: ROOT, encoding: 'utf8' });
    return out.split('\0').filter((f) => f && existsSync(path.join(ROOT, f)));
  } catch {
    return undefined;
  }
}

const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
};

describe('the npm package', () => {
  let packDir: string;
  let tarball: string;
  let files: string[];

  beforeAll(async () => {
    packDir = tmp('seclab-pack-');
    const r = await run(npmBin('npm'), ['pack', '--json', '--pack-destination', packDir], ROOT);
    expect(r.code, explain(r)).toBe(0);
    const [info] = JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(packDir, info!.filename);
    files = info!.files.map((f) => f.path.replace(/\\/g, '/'));
    expect(existsSync(tarball)).toBe(true);
  }, 180_000);

  it('holds what the CLI needs at runtime', () => {
    for (const f of ['package.json', 'README.md', 'LICENSE', 'THIRD_PARTY_NOTICES.md', 'bin/seclab.js', 'src/cli/main.ts', 'src/kit/index.ts',
      'src/engine/student-child.mjs', 'src/runtime/fallback-resolve.mjs', 'src/controls/siem/rules/sigmahq/LICENSE.DRL-1.1.md', 'docs/cli.md']) {
      expect(files, f).toContain(f);
    }
    // Every lab (definition, workbook, starter), scenario and reference solution.
    const runtime = tracked(['labs', 'scenarios', 'solutions', 'src', 'bin']);
    if (runtime) {
      expect(runtime.length).toBeGreaterThan(100);
      expect(runtime.filter((f) => !files.includes(f))).toEqual([]);
    }
    const labs = files.filter((f) => /^labs\/[^/]+\/lab\.ts$/.test(f)).map((f) => f.split('/')[1]!);
    expect(labs).toContain('iam');
    for (const id of labs) {
      expect(files).toContain(`labs/${id}/workbook.md`);
      expect(files.some((f) => f.startsWith(`labs/${id}/starter/`)), `starter of ${id}`).toBe(true);
    }
  });

  it('holds nothing for development: tests, benchmarks, CI, scripts, tool configuration', () => {
    const dev = files.filter((f) =>
      /^(test|bench|\.ci|scripts|types|node_modules)\//.test(f) ||
      /(^|\/)node_modules\//.test(f) ||
      /\.(test|spec)\.[cm]?[jt]s$/.test(f) ||
      /^(tsconfig\.json|vitest\.config\.ts|package-lock\.json|\.gitignore)$/.test(f) ||
      /\.tgz$/.test(f));
    expect(dev).toEqual([]);
  });

  it('does not depend on LocalStack support: testcontainers is an optional peer, installed on first use', () => {
    const deps = Object.keys(manifest.dependencies);
    expect(deps).not.toContain('testcontainers');
    expect(deps).not.toContain('@testcontainers/localstack');
    for (const name of ['testcontainers', '@testcontainers/localstack']) {
      expect(manifest.peerDependencies?.[name], name).toMatch(/^\d+\.\d+\.\d+$/);
      expect(manifest.peerDependenciesMeta?.[name]?.optional, name).toBe(true);
    }
    // So a fresh clone's `npm install` does not pull them (nor ssh2, dockerode...) either.
    const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    expect(Object.keys(lock.packages).filter((k) => /node_modules\/(testcontainers|@testcontainers\/localstack|ssh2|dockerode)$/.test(k))).toEqual([]);
    expect(readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).toContain('Apache License');
  });

  it('THIRD_PARTY_NOTICES.md lists the installed runtime dependencies (npm run notices regenerates it)', async () => {
    const r = await run(process.execPath, [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'scripts/notices.ts', '--check'], ROOT);
    expect(r.code, explain(r)).toBe(0);
  });

  it('installing LocalStack support on first use can be refused: the error gives the exact command', async () => {
    const { installContainerSupport, containerSupportDir } = await import('../../src/cloud/targets/localstack-support.ts');
    const { SetupError } = await import('../../src/cloud/targets/errors.ts');
    const saved = { no: process.env.SECLAB_NO_INSTALL, cache: process.env.SECLAB_CACHE_DIR };
    process.env.SECLAB_NO_INSTALL = '1';
    process.env.SECLAB_CACHE_DIR = tmp('seclab-cache-');
    try {
      const e = await installContainerSupport().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(SetupError);
      expect((e as Error).message).toMatch(/--target localstack needs container support/);
      expect((e as InstanceType<typeof SetupError>).hint).toBe(`Install it yourself: npm install --prefix "${containerSupportDir()}" testcontainers@${manifest.peerDependencies!.testcontainers} @testcontainers/localstack@${manifest.peerDependencies!['@testcontainers/localstack']}`);
      expect(existsSync(containerSupportDir())).toBe(false);
    } finally {
      for (const [k, v] of [['SECLAB_NO_INSTALL', saved.no], ['SECLAB_CACHE_DIR', saved.cache]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  describe('installed globally', () => {
    let prefix: string;
    let seclab: string;
    let home: string;

    beforeAll(async () => {
      prefix = tmp('seclab-prefix-');
      // --prefer-offline: from npm's cache when it has the packages (as after `npm ci`), else the registry.
      const r = await run(npmBin('npm'), ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], packDir, cleanEnv(), 300_000);
      expect(r.code, explain(r)).toBe(0);
      seclab = WIN ? path.join(prefix, 'seclab.cmd') : path.join(prefix, 'bin', 'seclab');
      home = WIN ? path.join(prefix, 'node_modules', 'seclab') : path.join(prefix, 'lib', 'node_modules', 'seclab');
      expect(existsSync(seclab), explain(r)).toBe(true);
    }, 300_000);

    it('brings its own runtime (tsx) and not testcontainers', () => {
      expect(existsSync(path.join(home, 'node_modules', 'tsx', 'package.json'))).toBe(true);
      expect(existsSync(path.join(home, 'node_modules', 'testcontainers'))).toBe(false);
      expect(existsSync(path.join(home, 'node_modules', 'ssh2'))).toBe(false);
    });

    it('runs from an empty folder outside any package', async () => {
      const empty = tmp('seclab-empty-');
      const help = await run(seclab, ['--help'], empty);
      expect(help.code, explain(help)).toBe(0);
      expect(help.stdout).toMatch(/Usage: seclab/);
      const version = await run(seclab, ['--version'], empty);
      expect(version.stdout.trim()).toBe(manifest.version);
    });

    it('seclab doctor says whether LocalStack support is installed and what it is for', async () => {
      const empty = tmp('seclab-empty-');
      const r = await run(seclab, ['doctor', '--json'], empty, cleanEnv({ SECLAB_CACHE_DIR: tmp('seclab-cache-') }));
      const report = JSON.parse(r.stdout) as { checks: { name: string; ok: boolean; optional?: boolean; detail: string; fix?: string }[] };
      const row = report.checks.find((c) => c.name === 'LocalStack support');
      expect(row, explain(r)).toBeDefined();
      expect(row!.optional).toBe(true);
      expect(row!.ok).toBe(false);
      expect(row!.detail).toMatch(/not installed.*--target localstack/);
      expect(row!.fix).toMatch(/npm install --prefix .*testcontainers@\d/);
    });

    describe('a workspace made by seclab init', () => {
      let ws: string;

      beforeAll(async () => {
        const empty = tmp('seclab-empty-');
        const r = await run(seclab, ['init', 'my-work'], empty);
        expect(r.code, explain(r)).toBe(0);
        ws = path.join(empty, 'my-work');
      }, 120_000);

      it('depends on the seclab that created it', () => {
        const pkg = JSON.parse(readFileSync(path.join(ws, 'package.json'), 'utf8')) as { type: string; devDependencies?: Record<string, string> };
        expect(pkg.type).toBe('module');
        expect(pkg.devDependencies?.seclab).toBe(`file:${home}`);
        expect(realpathSync(path.join(ws, 'node_modules', 'seclab'))).toBe(realpathSync(home));
      });

      it('an older workspace (no dependency on seclab) gets one from `seclab init .`, keeping the work', async () => {
        const old = tmp('seclab-old-');
        writeFileSync(path.join(old, 'package.json'), '{\n  "name": "seclab-workspace",\n  "private": true,\n  "type": "module"\n}\n');
        mkdirSync(path.join(old, 'iam'));
        writeFileSync(path.join(old, 'iam', 'solution.ts'), '// my work\n');
        const r = await run(seclab, ['init', '.'], old);
        expect(r.code, explain(r)).toBe(0);
        expect(JSON.parse(readFileSync(path.join(old, 'package.json'), 'utf8')).devDependencies).toEqual({ seclab: `file:${home}` });
        expect(readFileSync(path.join(old, 'iam', 'solution.ts'), 'utf8')).toBe('// my work\n');
        const help = await run(npmBin('npx'), ['--no', '--', 'seclab', '--version'], old);
        expect(help.stdout.trim(), explain(help)).toBe(manifest.version);
      });

      it('runs `npx seclab` from inside, without asking the registry', async () => {
        // --no: npx must find seclab in the workspace; it may not install anything.
        const r = await run(npmBin('npx'), ['--no', '--', 'seclab', '--help'], ws);
        expect(r.code, explain(r)).toBe(0);
        expect(r.stdout).toMatch(/Usage: seclab/);
        const list = await run(npmBin('npx'), ['--no', '--', 'seclab', 'list', '--json'], ws);
        expect(list.code, explain(list)).toBe(0);
        expect(list.stdout).toContain('"iam"');
      });

      it('grades a lab there: the reference solution of iam scores full marks', async () => {
        cpSync(path.join(home, 'solutions', 'iam'), path.join(ws, 'iam'), { recursive: true });
        const r = await run(npmBin('npx'), ['--no', '--', 'seclab', 'check', 'iam', '--json'], ws, cleanEnv(), 280_000);
        expect(r.code, explain(r)).toBe(0);
        const grade = JSON.parse(r.stdout) as { id: string; score: number; maxScore: number; passed: boolean };
        expect(grade.id).toBe('iam');
        expect(grade.passed).toBe(true);
        expect(grade.score).toBe(grade.maxScore);
      }, 300_000);
    });
  });
});
