// Regenerates THIRD_PARTY_NOTICES.md: what seclab bundles (files copied into this repository) and the
// packages npm installs with it at runtime (the production dependency tree, read from node_modules:
// each package's package.json `license`, and its NOTICE file when it has one).
//
//   npm run notices            (after npm install; writes THIRD_PARTY_NOTICES.md)
//   npm run notices -- --check (exits 1 when the file is out of date)
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OUT = path.join(ROOT, 'THIRD_PARTY_NOTICES.md');

interface Manifest {
  name: string;
  version: string;
  license?: string | { type: string };
  licenses?: { type: string }[];
  repository?: string | { url: string };
  homepage?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  os?: string[];
  cpu?: string[];
}

interface Entry {
  name: string;
  version: string;
  license: string;
  source: string;
  platform: boolean;
  notice?: string;
  dir: string;
}

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest;
}

/** Node's lookup: `<from>/node_modules/<name>`, then each parent folder's. */
function findPackage(name: string, from: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir || !parent.startsWith(ROOT.replace(/\/$/, ''))) return undefined;
    dir = parent;
  }
}

function licenseOf(m: Manifest): string {
  if (typeof m.license === 'string') return m.license;
  if (m.license && typeof m.license === 'object') return m.license.type;
  if (m.licenses?.length) return m.licenses.map((l) => l.type).join(' OR ');
  return 'UNKNOWN';
}

function sourceOf(m: Manifest): string {
  const repo = typeof m.repository === 'string' ? m.repository : m.repository?.url;
  if (repo) {
    const gh = /^(?:github:)?([\w.-]+\/[\w.-]+)$/.exec(repo);
    if (gh) return `https://github.com/${gh[1]}`;
    return repo.replace(/^git\+/, '').replace(/^git:\/\//, 'https://').replace(/^ssh:\/\/git@/, 'https://').replace(/\.git$/, '');
  }
  return m.homepage ?? `https://www.npmjs.com/package/${m.name}`;
}

function noticeOf(dir: string): string | undefined {
  const file = readdirSync(dir).find((f) => /^NOTICE(\.(md|txt))?$/i.test(f));
  return file ? readFileSync(path.join(dir, file), 'utf8').trim() : undefined;
}

/** The production tree: dependencies and installed optional dependencies, recursively (not dev, not optional peers). */
function productionTree(): Entry[] {
  const seen = new Map<string, Entry>();
  const visit = (dir: string, optional: boolean): void => {
    const m = readManifest(dir);
    const key = `${m.name}@${m.version}`;
    if (seen.has(key)) return;
    // A platform-specific binary (esbuild's): named generically, so the file is the same on every platform.
    const platform = Boolean(m.os || m.cpu) && optional;
    const name = platform ? m.name.replace(/[^/]+$/, '<platform>') : m.name;
    seen.set(key, { name, version: m.version, license: licenseOf(m), source: sourceOf(m), platform, notice: noticeOf(dir), dir });
    const peersRequired = Object.keys(m.peerDependencies ?? {}).filter((n) => !m.peerDependenciesMeta?.[n]?.optional);
    for (const [names, opt] of [[Object.keys(m.dependencies ?? {}), false], [Object.keys(m.optionalDependencies ?? {}), true], [peersRequired, false]] as const) {
      for (const name of names) {
        const found = findPackage(name, dir);
        if (found) visit(found, opt);
        else if (!opt) throw new Error(`${name} (needed by ${key}) is not installed: run npm install first`);
      }
    }
  };
  const root = readManifest(ROOT);
  for (const name of Object.keys(root.dependencies ?? {})) {
    const found = findPackage(name, ROOT);
    if (!found) throw new Error(`${name} is not installed: run npm install first`);
    visit(found, false);
  }
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version, undefined, { numeric: true }));
}

function render(entries: Entry[]): string {
  const root = readManifest(ROOT);
  const byLicense = new Map<string, number>();
  for (const e of entries) byLicense.set(e.license, (byLicense.get(e.license) ?? 0) + 1);
  const summary = [...byLicense.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([l, n]) => `${l} (${n})`).join(', ');
  const optionalPeers = Object.entries(root.peerDependencies ?? {}).filter(([n]) => root.peerDependenciesMeta?.[n]?.optional);
  const lines: string[] = [];
  lines.push('# Third-party notices');
  lines.push('');
  lines.push(`seclab ${root.version} is licensed under the Apache License 2.0 (see [LICENSE](LICENSE)). It bundles and depends on`);
  lines.push('the third-party material below, each under its own licence. Generated by `npm run notices` (scripts/notices.ts)');
  lines.push('from the installed packages; do not edit by hand.');
  lines.push('');
  lines.push('## Bundled in this package');
  lines.push('');
  lines.push('| what | where | licence | source |');
  lines.push('|---|---|---|---|');
  const sigma = JSON.parse(readFileSync(path.join(ROOT, 'src/controls/siem/rules/sigmahq/pack.json'), 'utf8')) as { license: string; source: string; files: Record<string, string> };
  lines.push(`| ${Object.keys(sigma.files).length} SigmaHQ AWS CloudTrail detection rules, verbatim; authors named in each rule's \`author\` field | \`src/controls/siem/rules/sigmahq/\` | Detection Rule License 1.1 ([text](src/controls/siem/rules/sigmahq/LICENSE.DRL-1.1.md)) | ${sigma.source} |`);
  lines.push('');
  lines.push('## Installed with it by npm (runtime dependencies)');
  lines.push('');
  lines.push(`${entries.length} packages: ${summary}. Each package's licence text ships in its own folder under \`node_modules/\`.`);
  lines.push('`<platform>` stands for the platform-specific binary package npm installs for the machine (e.g. linux-x64).');
  lines.push('');
  lines.push('| package | version | licence | source |');
  lines.push('|---|---|---|---|');
  for (const e of entries) lines.push(`| ${e.platform ? '`' + e.name + '`' : e.name} | ${e.version} | ${e.license} | ${e.source} |`);
  lines.push('');
  if (optionalPeers.length) {
    lines.push('## Installed on first use only');
    lines.push('');
    lines.push('`--target localstack` (and moto from its Docker image on a machine without Python) install these, with their own');
    lines.push("dependencies, into seclab's cache folder on first use; they are not part of the package:");
    lines.push('');
    // Their licences as published (both MIT: https://github.com/testcontainers/testcontainers-node/blob/main/LICENSE).
    for (const [name, version] of optionalPeers) lines.push(`- ${name} ${version} (MIT, https://github.com/testcontainers/testcontainers-node)`);
    lines.push('');
  }
  const notices = entries.filter((e) => e.notice);
  if (notices.length) {
    lines.push('## NOTICE files of the packages above');
    lines.push('');
    for (const e of notices) {
      lines.push(`### ${e.name} ${e.version}`);
      lines.push('');
      lines.push('```text');
      lines.push(e.notice!);
      lines.push('```');
      lines.push('');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

const text = render(productionTree());
if (process.argv.includes('--check')) {
  const current = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '';
  if (current !== text) {
    console.error('THIRD_PARTY_NOTICES.md is out of date: run npm run notices');
    process.exit(1);
  }
  console.log('THIRD_PARTY_NOTICES.md is up to date');
} else {
  writeFileSync(OUT, text);
  console.log(`wrote ${path.relative(process.cwd(), OUT) || OUT}`);
}
