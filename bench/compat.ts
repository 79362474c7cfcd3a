// `npm run compat`: the auditing and attack tools students use, against a lab account of the lab cloud,
// before and after each lab's reference solution. Prowler (a CIS-style audit), Pacu (the attacker's
// enumeration and privilege-escalation scan) and cloudsplaining (an IAM review), each pinned in its own
// venv (scripts/tools.ts), run over HTTPS as a student runs them after `eval "$(seclab env)"`. Printed
// per client: what ran, its exit code, its error lines, and what it found (Prowler: PASS/FAIL per check),
// so that a regression of the lab cloud (a crash, a check that can no longer run, a finding that no
// longer changes with the solution) shows.
//
//   npm run compat                      all labs (iam, network, siem), all clients
//   npm run compat -- --lab iam         one lab
//   npm run compat -- --client prowler  one client (prowler | pacu | cloudsplaining)
//   npm run compat -- --json out.json   also write everything as JSON
//
// Takes several minutes (Prowler dominates); not part of CI. Installs the tools on first run.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLabCloud, type LabCloud } from '../src/cloud/labcloud.ts';
import { provisionLab, studentContext } from '../src/engine/grader.ts';
import { findLab, SOLUTIONS_DIR } from '../src/engine/labs.ts';
import { runStudentCode } from '../src/engine/student-runner.ts';
import type { LabSession } from '../src/engine/session.ts';
import type { Lab } from '../src/engine/types.ts';
import { ensureTool, run, toolBin, TOOLS, type RunResult, type ToolName } from '../scripts/tools.ts';

// The clients this compares before and after a lab (the AWS CLI and sslyze are tools of other tests).
type Client = Exclude<ToolName, 'awscli' | 'sslyze'>;
const CLIENTS: Client[] = ['prowler', 'pacu', 'cloudsplaining'];
const LABS = ['iam', 'network', 'siem'];

/** Prowler's services that the labs touch (the whole catalogue would probe ~80 services to no end). */
const PROWLER_SERVICES = ['iam', 's3', 'ec2', 'vpc', 'cloudtrail', 'cloudwatch', 'kms', 'sns', 'awslambda', 'account'];
const PACU_MODULES: { name: string; args?: string }[] = [
  { name: 'iam__enum_users_roles_policies_groups' },
  { name: 'iam__enum_permissions', args: '--all-users --all-roles' },
  // Offline: scans every user's and role's permissions that iam__enum_permissions saved (online, it scans
  // only the caller's, and the account root is no IAM user).
  { name: 'iam__privesc_scan', args: '--offline --folder {confirmed}' },
  { name: 'ec2__enum' },
  { name: 'cloudtrail__download_event_history' },
];

interface Step {
  command: string;
  code: number | null;
  durationMs: number;
  errors: string[];
}

interface ClientRun {
  client: Client;
  phase: 'before' | 'after';
  steps: Step[];
  /** Prowler: check id -> status counts. */
  checks?: Record<string, { PASS: number; FAIL: number; MANUAL: number; other: number }>;
  /** What the client found, one line each. */
  findings: string[];
  durationMs: number;
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const argv = process.argv.slice(2);
const opt = (name: string): string[] => argv.flatMap((a, i) => (a === `--${name}` && argv[i + 1] ? [argv[i + 1]!] : []));
const labIds = opt('lab').length ? opt('lab') : LABS;
const clients = (opt('client').length ? opt('client') : CLIENTS) as Client[];
const jsonOut = opt('json')[0];

/** Lines that say something went wrong, without the noise (deduplicated, at most `max`). */
function errorLines(text: string, max = 12): string[] {
  const seen = new Set<string>();
  for (const raw of text.split('\n')) {
    // eslint-disable-next-line no-control-regex
    const line = raw.replace(/\x1b\[[0-9;]*m/g, '').trim();
    if (!line) continue;
    if (!/error|exception|traceback|failed|denied|not implemented|crash|refused|invalid/i.test(line)) continue;
    if (/\b0 errors?\b/i.test(line)) continue;
    seen.add(line.length > 300 ? line.slice(0, 300) + '…' : line);
    if (seen.size >= max) break;
  }
  return [...seen];
}

function step(command: string, r: RunResult): Step {
  return { command, code: r.code, durationMs: r.durationMs, errors: r.code === 0 ? errorLines(r.stderr, 6) : errorLines(r.stderr + '\n' + r.stdout) };
}

function clientEnv(cloud: LabCloud, session: LabSession, home: string): NodeJS.ProcessEnv {
  const creds = session.rootCredentials;
  return {
    PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8', TERM: 'dumb',
    // As `seclab env` sets it: HTTPS with the lab cloud's CA, the gateway as proxy for the host names
    // clients build (s3control's <account>.<endpoint>, virtual-hosted buckets).
    AWS_ENDPOINT_URL: cloud.gateway.tlsUrl ?? cloud.url,
    ...(cloud.caFile ? { AWS_CA_BUNDLE: cloud.caFile, REQUESTS_CA_BUNDLE: cloud.caFile } : {}),
    HTTPS_PROXY: cloud.url,
    AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    AWS_REGION: cloud.region, AWS_DEFAULT_REGION: cloud.region,
    AWS_CONFIG_FILE: path.join(home, 'aws-config'), AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'aws-credentials'),
    AWS_MAX_ATTEMPTS: '1', AWS_RETRY_MODE: 'standard',
  };
}

// ---------------------------------------------------------------------------------------------- Prowler

async function runProwler(cloud: LabCloud, session: LabSession, phase: ClientRun['phase']): Promise<ClientRun> {
  const started = Date.now();
  const home = mkdtempSync(path.join(os.tmpdir(), 'seclab-prowler-'));
  const out = path.join(home, 'out');
  const env = clientEnv(cloud, session, home);
  const args = ['aws', '--region', cloud.region, '--service', ...PROWLER_SERVICES, '--output-formats', 'json-ocsf', '--output-directory', out,
    '--output-filename', 'compat', '--no-banner', '--ignore-exit-code-3', '--log-level', 'ERROR'];
  const r = await run(toolBin('prowler', 'prowler'), args, { env, cwd: home, timeoutMs: 900_000 });
  const checks: NonNullable<ClientRun['checks']> = {};
  const findings: string[] = [];
  try {
    const file = readdirSync(out).find((f) => f.endsWith('.ocsf.json'));
    const rows = file ? (JSON.parse(readFileSync(path.join(out, file), 'utf8')) as { status_code?: string; metadata?: { event_code?: string } }[]) : [];
    for (const f of rows) {
      const id = f.metadata?.event_code ?? '?';
      const c = (checks[id] ??= { PASS: 0, FAIL: 0, MANUAL: 0, other: 0 });
      const s = f.status_code ?? '';
      if (s === 'PASS' || s === 'FAIL' || s === 'MANUAL') c[s]++;
      else c.other++;
    }
  } catch (e) {
    findings.push(`no Prowler output could be read: ${(e as Error).message}`);
  }
  rmSync(home, { recursive: true, force: true });
  const s = step(`prowler ${args.join(' ')}`, r);
  // Prowler exits 0 when a check crashes or a call fails: it logs "ERROR" lines (on stdout or stderr).
  // Not the lab cloud's doing: Prowler's Shodan check wants an API key. The log's time stamp is dropped
  // so that a message logged twice (stdout and stderr) counts once.
  const clean = (l: string): string => l.replace(/\x1b\[[0-9;]*m/g, '').replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+\s*/, '').replace(/\s+/g, ' ').trim();
  const all = [...new Set([...s.errors, ...(r.stdout + '\n' + r.stderr).split('\n').filter((l) => /\b(ERROR|CRITICAL)\b/.test(l))].map(clean))]
    .filter((l) => l && !/Shodan API Key/.test(l))
    .map((l) => (l.length > 300 ? l.slice(0, 300) + '…' : l));
  s.errors = [...new Set(all)].slice(0, 20);
  if (all.length > 20) s.errors.push(`… ${all.length - 20} more`);
  return { client: 'prowler', phase, steps: [s], checks, findings, durationMs: Date.now() - started };
}

// ------------------------------------------------------------------------------------------------- Pacu

function findFile(dir: string, re: RegExp): string | undefined {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      const f = findFile(p, re);
      if (f) return f;
    } else if (re.test(e.name)) return p;
  }
  return undefined;
}

async function runPacu(cloud: LabCloud, session: LabSession, phase: ClientRun['phase']): Promise<ClientRun> {
  const started = Date.now();
  const home = mkdtempSync(path.join(os.tmpdir(), 'seclab-pacu-'));
  const env = clientEnv(cloud, session, home);
  const pacu = toolBin('pacu', 'pacu');
  const steps: Step[] = [];
  const findings: string[] = [];
  const creds = session.rootCredentials;
  // A session and the keys, as a student does at Pacu's prompt (import from the environment is what
  // `eval "$(seclab env)"` sets up; --set-keys takes them on the command line).
  const setup = ['-q', '--new-session', `lab-${session.accountId}`, '--set-keys', `lab,${creds.accessKeyId},${creds.secretAccessKey}`];
  steps.push(step(`pacu ${setup.join(' ').replace(creds.secretAccessKey, '<secret>')}`, await run(pacu, setup, { env, cwd: home, timeoutMs: 120_000 })));
  const regions = ['-q', '--session', `lab-${session.accountId}`, '--set-regions', cloud.region];
  steps.push(step(`pacu ${regions.join(' ')}`, await run(pacu, regions, { env, cwd: home, timeoutMs: 120_000 })));
  for (const m of PACU_MODULES) {
    const confirmed = path.join(home, '.local', 'share', 'pacu', `lab-${session.accountId}`, 'downloads', 'confirmed_permissions');
    // The trailing slash is needed: Pacu 1.7 joins the folder and file names by string concatenation.
    const margs = m.args?.replace('{confirmed}', confirmed + path.sep);
    if (m.name === 'iam__privesc_scan' && !existsSync(confirmed)) {
      findings.push(`${m.name}: not run (iam__enum_permissions found no user or role to scan)`);
      continue;
    }
    const args = ['-q', '--session', `lab-${session.accountId}`, '--module-name', m.name, ...(margs ? [`--module-args=${margs}`] : []), '--exec'];
    const r = await run(pacu, args, { env, cwd: home, timeoutMs: 300_000, input: 'y\ny\ny\n' });
    const s = step(`pacu ${args.join(' ')}`, r);
    if (process.env.SECLAB_COMPAT_VERBOSE) process.stdout.write(r.stdout + r.stderr);
    // Pacu exits 0 when a module crashes: the traceback (or its own error line) is the failure.
    if (s.code === 0 && /Traceback|Error:|\[.+\] Error|KeyError|AttributeError/.test(r.stdout + r.stderr)) {
      s.errors = errorLines(r.stdout + r.stderr);
      if (!s.errors.length) s.errors = ['the module printed a traceback'];
    }
    steps.push(s);
    // The summary Pacu prints at the end of each module (the last one: a module may run others first).
    const out = r.stdout.replace(/\x1b\[[0-9;]*m/g, '');
    const at = out.lastIndexOf(`[${m.name}] MODULE SUMMARY:`);
    if (at >= 0) {
      const lines = out.slice(at).split('\n').slice(1).map((l) => l.trim()).filter((l) => l && !/^Type 'whoami'|^Running module/.test(l));
      findings.push(`${m.name}: ${lines.slice(0, 16).join('; ')}`);
    } else findings.push(`${m.name}: no summary printed`);
    if (m.name === 'iam__privesc_scan') {
      const admins = [...out.matchAll(/^\s*(\S+) already has administrator permissions/gm)].map((x) => x[1]);
      findings.push(`iam__privesc_scan: already administrators: ${admins.length ? admins.join(', ') : 'none'}`);
      const file = findFile(home, /^offline_privesc_scan_.*\.json$/);
      if (file) {
        const methods = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string[]>;
        const names = Object.keys(methods).sort();
        findings.push(`iam__privesc_scan: ${names.length} principal(s) with escalation paths${names.length ? ': ' + names.map((n) => `${n} (${methods[n]!.length} method(s): ${methods[n]!.slice(0, 4).join(', ')}${methods[n]!.length > 4 ? ', …' : ''})`).join('; ') : ''}`);
      }
    }
  }
  rmSync(home, { recursive: true, force: true });
  return { client: 'pacu', phase, steps, findings, durationMs: Date.now() - started };
}

// ------------------------------------------------------------------------------------------ cloudsplaining

async function runCloudsplaining(cloud: LabCloud, session: LabSession, phase: ClientRun['phase']): Promise<ClientRun> {
  const started = Date.now();
  const home = mkdtempSync(path.join(os.tmpdir(), 'seclab-cloudsplaining-'));
  const env = clientEnv(cloud, session, home);
  const bin = toolBin('cloudsplaining', 'cloudsplaining');
  const steps: Step[] = [];
  const findings: string[] = [];
  const dl = ['download', '--output', home];
  const d = await run(bin, dl, { env, cwd: home, timeoutMs: 300_000 });
  steps.push(step(`cloudsplaining ${dl.join(' ')}`, d));
  const input = readdirSync(home).find((f) => f.endsWith('.json'));
  if (input) {
    const out = path.join(home, 'report');
    mkdirSync(out);
    const sc = ['scan', '--input-file', path.join(home, input), '--output', out, '--skip-open-report'];
    const s = await run(bin, sc, { env, cwd: home, timeoutMs: 300_000 });
    steps.push(step(`cloudsplaining ${sc.join(' ')}`, s));
    try {
      if (process.env.SECLAB_COMPAT_VERBOSE) process.stdout.write(`${readdirSync(out).join(' ')}\n${s.stdout}${s.stderr}\n`);
      if (process.env.SECLAB_COMPAT_KEEP) cpSync(out, process.env.SECLAB_COMPAT_KEEP + '-' + phase, { recursive: true });
      const results = readdirSync(out).find((f) => f.startsWith('iam-results') && f.endsWith('.json'));
      const data = results ? (JSON.parse(readFileSync(path.join(out, results), 'utf8')) as Record<string, unknown>) : {};
      findings.push(...summarizeCloudsplaining(data));
    } catch (e) {
      findings.push(`no results file: ${(e as Error).message}`);
    }
  }
  rmSync(home, { recursive: true, force: true });
  return { client: 'cloudsplaining', phase, steps, findings, durationMs: Date.now() - started };
}

/** Per risk type, the policies whose permissions allow it (iam-results-*.json: policy -> risk -> findings). */
function summarizeCloudsplaining(data: Record<string, unknown>): string[] {
  const risks = ['PrivilegeEscalation', 'DataExfiltration', 'ResourceExposure', 'InfrastructureModification', 'CredentialsExposure', 'ServiceWildcard'];
  const by: Record<string, Set<string>> = Object.fromEntries(risks.map((r) => [r, new Set<string>()]));
  for (const kind of ['customer_managed_policies', 'inline_policies', 'aws_managed_policies']) {
    const coll = (data[kind] ?? {}) as Record<string, Record<string, unknown>>;
    for (const [id, v] of Object.entries(coll)) {
      const name = `${kind.split('_')[0]}:${String(v?.PolicyName ?? id)}`;
      for (const r of risks) {
        const hit = v?.[r] as { findings?: unknown[] } | unknown[] | undefined;
        const n = Array.isArray(hit) ? hit.length : Array.isArray(hit?.findings) ? hit.findings.length : 0;
        if (n > 0) by[r]!.add(name);
      }
    }
  }
  const lines: string[] = [];
  for (const r of risks) {
    const s = [...by[r]!].sort();
    lines.push(`${r}: ${s.length} polic${s.length === 1 ? 'y' : 'ies'}${s.length ? ` (${s.slice(0, 6).join(', ')}${s.length > 6 ? ', …' : ''})` : ''}`);
  }
  const principals = ['users', 'groups', 'roles'].map((k) => `${k} ${Object.keys((data[k] as object | undefined) ?? {}).length}`).join(', ');
  lines.push(`principals reviewed: ${principals}`);
  return lines;
}

// ------------------------------------------------------------------------------------------------ labs

async function applySolution(cloud: LabCloud, session: LabSession, lab: Lab): Promise<string[]> {
  const { input, env, clockFile, revoke } = studentContext(session, lab);
  const channel = cloud.sandbox === 'bwrap' ? await cloud.gateway.openChannel(session.accountId, 'your code') : undefined;
  const res = await runStudentCode({
    file: path.join(SOLUTIONS_DIR, lab.id, 'solution.ts'),
    exports: lab.studentSteps.map((s) => s.export),
    input, env, timeoutMs: 120_000,
    sandbox: cloud.sandbox, gateway: { url: cloud.url, socketPath: channel?.socketPath }, clockFile,
  }).finally(async () => {
    revoke();
    await channel?.close();
  });
  return res.runs.map((r) => `${r.export}(): ${r.ok ? 'ok' : `FAILED ${r.error}`} (${(r.durationMs / 1000).toFixed(1)} s)`);
}

const RUNNERS: Record<Client, (c: LabCloud, s: LabSession, p: ClientRun['phase']) => Promise<ClientRun>> = {
  prowler: runProwler, pacu: runPacu, cloudsplaining: runCloudsplaining,
};

function print(line = ''): void {
  process.stdout.write(line + '\n');
}

function printRun(r: ClientRun): void {
  print(`  ${r.client} (${r.phase}, ${(r.durationMs / 1000).toFixed(1)} s)`);
  for (const s of r.steps) {
    print(`    $ ${s.command.length > 160 ? s.command.slice(0, 160) + '…' : s.command}`);
    print(`      exit ${s.code} in ${(s.durationMs / 1000).toFixed(1)} s${s.errors.length ? `, ${s.errors.length} error line(s):` : ''}`);
    for (const e of s.errors) print(`        ! ${e}`);
  }
  if (r.checks) {
    const ids = Object.keys(r.checks).sort();
    const tot = ids.reduce((a, id) => ({ PASS: a.PASS + r.checks![id]!.PASS, FAIL: a.FAIL + r.checks![id]!.FAIL }), { PASS: 0, FAIL: 0 });
    print(`    checks: ${ids.length} ran, findings PASS ${tot.PASS} FAIL ${tot.FAIL}`);
  }
  for (const f of r.findings) print(`    - ${f}`);
}

/** Prowler: per check id, before -> after, the ones that changed first. */
function printProwlerDiff(before: ClientRun, after: ClientRun): void {
  const ids = [...new Set([...Object.keys(before.checks ?? {}), ...Object.keys(after.checks ?? {})])].sort();
  const fmt = (c?: { PASS: number; FAIL: number; MANUAL: number; other: number }): string =>
    c ? `PASS ${c.PASS} FAIL ${c.FAIL}${c.MANUAL ? ` MANUAL ${c.MANUAL}` : ''}${c.other ? ` other ${c.other}` : ''}` : 'did not run';
  const changed = ids.filter((id) => fmt(before.checks?.[id]) !== fmt(after.checks?.[id]));
  print(`  prowler checks, before -> after (${changed.length} changed of ${ids.length}):`);
  for (const id of changed) print(`    * ${id.padEnd(62)} ${fmt(before.checks?.[id]).padEnd(22)} -> ${fmt(after.checks?.[id])}`);
  for (const id of ids.filter((i) => !changed.includes(i))) print(`      ${id.padEnd(62)} ${fmt(after.checks?.[id])}`);
}

async function main(): Promise<void> {
  const t0 = Date.now();
  print(`seclab compat: ${clients.map((c) => TOOLS[c].requirements.join(' ')).join(', ')}; labs ${labIds.join(', ')}`);
  for (const c of clients) await ensureTool(c, (l) => print(`  ${l}`));
  const cloud = await startLabCloud({ progress: () => {} });
  const all: { lab: string; solution: string[]; runs: ClientRun[] }[] = [];
  try {
    print(`lab cloud ${cloud.gateway.tlsUrl ?? cloud.url} (sandbox: ${cloud.sandbox})`);
    for (const id of labIds) {
      const lab = await findLab(id);
      const lt = Date.now();
      print();
      print(`=== lab ${id}`);
      const session = await provisionLab(cloud, lab);
      print(`  provisioned account ${session.accountId}`);
      const runs: ClientRun[] = [];
      for (const c of clients) {
        const r = await RUNNERS[c](cloud, session, 'before');
        printRun(r);
        runs.push(r);
      }
      print(`  --- reference solution solutions/${id}/solution.ts`);
      const solution = await applySolution(cloud, session, lab);
      for (const l of solution) print(`    ${l}`);
      for (const c of clients) {
        const r = await RUNNERS[c](cloud, session, 'after');
        printRun(r);
        runs.push(r);
      }
      const pb = runs.find((r) => r.client === 'prowler' && r.phase === 'before');
      const pa = runs.find((r) => r.client === 'prowler' && r.phase === 'after');
      if (pb && pa) printProwlerDiff(pb, pa);
      print(`  lab ${id}: ${((Date.now() - lt) / 1000).toFixed(0)} s`);
      all.push({ lab: id, solution, runs });
    }
  } finally {
    await cloud.stop();
  }
  const failing = all.flatMap((l) => l.runs.flatMap((r) => r.steps.filter((s) => s.code !== 0 || s.errors.length).map((s) => `${l.lab}/${r.client}/${r.phase}: ${s.command.split(' ').slice(0, 4).join(' ')}`)));
  print();
  print(`compat: ${((Date.now() - t0) / 1000).toFixed(0)} s; ${failing.length} client step(s) with errors${failing.length ? ':' : ''}`);
  for (const f of failing) print(`  ${f}`);
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify(all, null, 2));
}

main().catch((e: Error) => {
  process.stderr.write(`compat: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
