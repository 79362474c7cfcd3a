// The instance's web server, run for real: the real nginx (/usr/sbin/nginx, Debian nginx-light) on
// loopback, from the configuration the student wrote in the instance's root folder. nginx never reads
// the student's files directly: they are parsed here, includes inlined, and written back as one
// generated config in which
//   - every `listen` becomes 127.0.0.1:<free port> (443 → one ephemeral port, 80 → another; the
//     mapping is returned), IPv6 duplicates dropped;
//   - file paths (certificates, keys, roots, includes, ...) are resolved inside the instance folder,
//     following symlinks the way the instance would (an absolute link target is inside the root);
//     a path that climbs out of the root (`..` or a symlink) is refused with a clear message;
//   - pid, logs and temp folders go to a private temp folder; `user` and `load_module` are dropped
//     (no root needed, no student-supplied code loaded); `daemon off`.
// `nginx -t` runs first: a configuration error is a result (the student's mistake), not a crash.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const NGINX_BIN = '/usr/sbin/nginx';
/** worker_connections above this are lowered: nginx allocates them all when it starts. */
export const MAX_WORKER_CONNECTIONS = 1024;

export class NginxConfigError extends Error {
  constructor(message: string, readonly kind: 'escape' | 'syntax' | 'missing' | 'unsupported') {
    super(message);
    this.name = 'NginxConfigError';
  }
}

/** Whether the real nginx is installed; `reason` says what to do when it is not. */
export function nginxStatus(bin = NGINX_BIN): { installed: boolean; version?: string; reason?: string } {
  if (!existsSync(bin)) return { installed: false, reason: `nginx is not installed (${bin} missing): apt-get install nginx-light` };
  const r = spawnSync(bin, ['-v'], { encoding: 'utf8', timeout: 5000 });
  const m = /nginx\/(\S+)/.exec(`${r.stderr}${r.stdout}`);
  if (r.status !== 0 || !m) return { installed: false, reason: `${bin} -v failed: ${(r.stderr || r.error?.message || '').trim()}` };
  return { installed: true, version: m[1]! };
}

// ---- parsing -------------------------------------------------------------------------------------

interface Directive {
  name: string;
  /** Raw argument tokens as written (quotes kept), and their unquoted values. */
  raw: string[];
  args: string[];
  block?: Directive[];
  file: string;
  line: number;
}

function tokenize(text: string, file: string): { tok: string; raw: string; line: number; quoted: boolean }[] {
  const out: { tok: string; raw: string; line: number; quoted: boolean }[] = [];
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') { line++; i++; continue; }
    if (/\s/.test(c)) { i++; continue; }
    if (c === '#') { while (i < text.length && text[i] !== '\n') i++; continue; }
    if (c === ';' || c === '{' || c === '}') { out.push({ tok: c, raw: c, line, quoted: false }); i++; continue; }
    const start = i;
    const startLine = line;
    if (c === '"' || c === "'") {
      let v = '';
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\' && i + 1 < text.length) { v += text[i + 1]; i += 2; continue; }
        if (text[i] === '\n') line++;
        v += text[i++];
      }
      if (i >= text.length) throw new NginxConfigError(`${file}:${startLine}: unterminated quoted string`, 'syntax');
      i++;
      out.push({ tok: v, raw: text.slice(start, i), line: startLine, quoted: true });
      continue;
    }
    while (i < text.length && !/[\s;{}]/.test(text[i]!)) {
      if (text[i] === '\\' && i + 1 < text.length) i++;
      i++;
    }
    const raw = text.slice(start, i);
    out.push({ tok: raw, raw, line, quoted: false });
  }
  return out;
}

function parse(text: string, file: string): Directive[] {
  const toks = tokenize(text, file);
  let p = 0;
  const block = (depth: number): Directive[] => {
    const ds: Directive[] = [];
    while (p < toks.length) {
      const t = toks[p]!;
      if (!t.quoted && t.tok === '}') {
        if (depth === 0) throw new NginxConfigError(`${file}:${t.line}: unexpected "}"`, 'syntax');
        p++;
        return ds;
      }
      if (!t.quoted && (t.tok === ';' || t.tok === '{')) throw new NginxConfigError(`${file}:${t.line}: unexpected "${t.tok}"`, 'syntax');
      const d: Directive = { name: t.tok, raw: [], args: [], file, line: t.line };
      p++;
      for (;;) {
        const a = toks[p];
        if (!a) throw new NginxConfigError(`${file}:${t.line}: "${t.tok}" is not terminated by ";" or "{"`, 'syntax');
        p++;
        if (!a.quoted && a.tok === ';') break;
        if (!a.quoted && a.tok === '{') { d.block = block(depth + 1); break; }
        if (!a.quoted && a.tok === '}') throw new NginxConfigError(`${file}:${a.line}: unexpected "}"`, 'syntax');
        d.raw.push(a.raw);
        d.args.push(a.tok);
      }
      ds.push(d);
    }
    if (depth > 0) throw new NginxConfigError(`${file}: unexpected end of file, expecting "}"`, 'syntax');
    return ds;
  };
  return block(0);
}

// ---- paths inside the instance root ----------------------------------------------------------------

/**
 * The host path of `instancePath` (absolute, as the instance sees it) inside `root`, following
 * symlinks as the instance would. Throws NginxConfigError('escape') when `..` or a link leaves the root.
 */
export function resolveInRoot(root: string, instancePath: string, what = instancePath): string {
  if (!instancePath.startsWith('/')) throw new Error(`resolveInRoot: not absolute: ${instancePath}`);
  const parts: string[] = [];
  const pending = instancePath.split('/').filter((s) => s && s !== '.');
  let hops = 0;
  while (pending.length) {
    const seg = pending.shift()!;
    if (seg === '..') {
      if (!parts.length) throw new NginxConfigError(`${what}: the path leaves the instance's root folder ("..")`, 'escape');
      parts.pop();
      continue;
    }
    parts.push(seg);
    const host = path.join(root, ...parts);
    let st;
    try { st = lstatSync(host); } catch { continue; }
    if (!st.isSymbolicLink()) continue;
    if (++hops > 40) throw new NginxConfigError(`${what}: too many levels of symbolic links`, 'escape');
    const target = readlinkSync(host);
    parts.pop();
    if (target.startsWith('/')) {
      // An absolute link target is a path on the instance: inside the root. Climbing above it with
      // ".." is refused (a chroot would clamp it; a config relying on that is suspicious).
      parts.length = 0;
    }
    const more = target.split('/').filter((s) => s && s !== '.');
    let up = parts.length;
    for (const m of more) {
      if (m === '..') { if (--up < 0) throw new NginxConfigError(`${what}: symbolic link ${path.posix.join('/', ...parts, seg)} -> ${target} leaves the instance's root folder`, 'escape'); } else break;
    }
    pending.unshift(...more);
  }
  return path.join(root, ...parts);
}

// ---- rewriting -------------------------------------------------------------------------------------

/** Directives whose first argument is a file or folder path on the instance. */
const PATH_DIRECTIVES = new Set([
  'ssl_certificate', 'ssl_certificate_key', 'ssl_trusted_certificate', 'ssl_client_certificate', 'ssl_dhparam',
  'ssl_crl', 'ssl_password_file', 'ssl_session_ticket_key', 'ssl_stapling_file', 'root', 'alias',
  'auth_basic_user_file', 'proxy_ssl_certificate', 'proxy_ssl_certificate_key', 'proxy_ssl_trusted_certificate',
]);
const TEMP_DIRECTIVES = ['client_body_temp_path', 'proxy_temp_path', 'fastcgi_temp_path', 'uwsgi_temp_path', 'scgi_temp_path'];

export interface PortMapping {
  /** The port the student's config listens on (443, 80, ...). */
  port: number;
  /** Where it really listens (127.0.0.1). */
  hostPort: number;
  ssl: boolean;
}

export interface PreparedConfig {
  /** The generated config nginx runs. */
  configFile: string;
  text: string;
  ports: PortMapping[];
  /** Things dropped or changed that the student may want to know about. */
  notes: string[];
  workDir: string;
  /** origin[i]: the instance's file:line that generated line i + 1 came from (when it came from one). */
  origin: string[];
}

const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const hasGlob = (s: string): boolean => /[*?[]/.test(s);

function globDir(root: string, pattern: string, what: string): string[] {
  // nginx's include globs: only the last component may have wildcards (as Debian uses them).
  const dir = path.posix.dirname(pattern);
  const base = path.posix.basename(pattern);
  if (hasGlob(dir)) throw new NginxConfigError(`${what}: wildcards only in the last part of an include path are supported`, 'unsupported');
  const hostDir = resolveInRoot(root, dir, what);
  let names: string[];
  try { names = readdirSync(hostDir); } catch { return []; }
  const re = new RegExp(`^${base.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return names.filter((n) => !n.startsWith('.') && re.test(n)).sort().map((n) => path.posix.join(dir, n));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Turn the instance's nginx config into the generated one (no nginx run yet). */
export async function prepareConfig(root: string, o: { configPath?: string; workDir?: string } = {}): Promise<PreparedConfig> {
  const confPath = o.configPath ?? '/etc/nginx/nginx.conf';
  const prefix = '/etc/nginx';
  const notes: string[] = [];
  const ports = new Map<number, PortMapping>();
  const rootReal = path.resolve(root);
  const workDir = o.workDir ?? mkdtempSync(path.join(os.tmpdir(), 'seclab-nginx-'));
  const abs = (p: string): string => (p.startsWith('/') ? p : path.posix.join(prefix, p));
  const where = (d: Directive): string => `${d.file}:${d.line}: ${d.name}`;

  const load = (instanceFile: string, depth: number): Directive[] => {
    if (depth > 10) throw new NginxConfigError(`${instanceFile}: includes nested too deep`, 'unsupported');
    const host = resolveInRoot(rootReal, instanceFile, instanceFile);
    let text: string;
    try { text = readFileSync(host, 'utf8'); } catch { throw new NginxConfigError(`${instanceFile}: no such file in the instance`, 'missing'); }
    return expand(parse(text, instanceFile), depth);
  };
  const expand = (ds: Directive[], depth: number): Directive[] => {
    const out: Directive[] = [];
    for (const d of ds) {
      if (d.name === 'include' && !d.block) {
        const target = abs(d.args[0] ?? '');
        const files = hasGlob(target) ? globDir(rootReal, target, where(d)) : [target];
        for (const f of files) out.push(...load(f, depth + 1));
        continue;
      }
      if (d.block) d.block = expand(d.block, depth);
      out.push(d);
    }
    return out;
  };

  const tree = load(confPath, 0);
  const lines: string[] = [];
  /** For each generated line (index), the instance file:line it came from. */
  const origin: string[] = [];
  const push = (l: string, from: string): void => { lines.push(l); origin[lines.length - 1] = from; };
  const emit = async (ds: Directive[], ctx: string[], indent: string): Promise<void> => {
    const seenListen = new Set<string>();
    for (const d of ds) {
      const inServer = ctx[ctx.length - 1] === 'server';
      // The grader's machine is shared: one worker, a bounded number of connections, no OpenSSL engine.
      if (d.name === 'worker_connections' && ctx[ctx.length - 1] === 'events' && Number(d.args[0]) > MAX_WORKER_CONNECTIONS) {
        notes.push(`${where(d)}: ${d.args[0]} lowered to ${MAX_WORKER_CONNECTIONS} on the grader's machine`);
        push(`${indent}worker_connections ${MAX_WORKER_CONNECTIONS};`, `${d.file}:${d.line}`);
        continue;
      }
      if (ctx.length === 0 && ['worker_rlimit_nofile', 'ssl_engine', 'worker_cpu_affinity', 'worker_priority', 'thread_pool'].includes(d.name)) {
        notes.push(`${where(d)}: dropped on the grader's machine`);
        continue;
      }
      if (ctx.length === 0 && ['user', 'pid', 'daemon', 'master_process', 'worker_processes', 'error_log', 'lock_file', 'working_directory', 'worker_rlimit_core'].includes(d.name)) {
        if (d.name === 'user') notes.push(`${where(d)}: dropped (nginx runs as you on the grader's machine)`);
        continue;
      }
      if (d.name === 'load_module') { notes.push(`${where(d)}: dropped (modules from the instance are not loaded)`); continue; }
      if (d.name === 'disable_symlinks') { notes.push(`${where(d)}: dropped (the lab serves no symlinked file)`); continue; }
      if (d.name === 'error_log' || d.name === 'access_log' || TEMP_DIRECTIVES.includes(d.name)) continue;
      // nginx runs on the grader's machine: nothing in the student's config may write outside the
      // instance folder (cache paths, stores), hand OpenSSL files of the machine, or reach services on it.
      if (/_(cache_)?path$|_store$/.test(d.name) || ['ssl_conf_command', 'ssl_stapling_responder'].includes(d.name) || /_pass$/.test(d.name)) {
        throw new NginxConfigError(`${where(d)} ${d.name}: not allowed in the lab (the instance's nginx runs on the grader's machine, with no app behind it and no cache)`, 'unsupported');
      }
      if (d.name === 'listen' && inServer) {
        const spec = d.args[0] ?? '';
        const m = /^(?:\[([^\]]*)\]:|([^:]+):)?(\d+)$/.exec(spec);
        if (!m) throw new NginxConfigError(`${where(d)} ${spec}: only "port", "addr:port" or "[v6]:port" listens are supported`, 'unsupported');
        const port = Number(m[3]);
        const ssl = d.args.includes('ssl');
        let map = ports.get(port);
        if (!map) { map = { port, hostPort: await freePort(), ssl }; ports.set(port, map); }
        if (ssl) map.ssl = true;
        if (seenListen.has(String(port))) continue;
        seenListen.add(String(port));
        const params = d.args.slice(1).filter((a) => !/^(ipv6only=|reuseport$|backlog=|so_keepalive=|fastopen=|rcvbuf=|sndbuf=)/.test(a));
        push(`${indent}listen 127.0.0.1:${map.hostPort}${params.map((a) => ` ${quote(a)}`).join('')};`, `${d.file}:${d.line}`);
        continue;
      }
      let raw = d.raw;
      if (PATH_DIRECTIVES.has(d.name) && d.args[0] !== undefined && !d.args[0].includes('$') && !d.args[0].startsWith('data:')) {
        const inst = d.name === 'root' && !d.args[0].startsWith('/') ? path.posix.join('/usr/share/nginx', d.args[0]) : abs(d.args[0]);
        let host = resolveInRoot(rootReal, inst, `${where(d)} ${d.args[0]}`);
        if ((d.name === 'root' || d.name === 'alias') && d.args[0].endsWith('/') && !host.endsWith('/')) host += '/';
        raw = [quote(host), ...d.raw.slice(1)];
      } else if (PATH_DIRECTIVES.has(d.name) && d.args[0]?.includes('$')) {
        throw new NginxConfigError(`${where(d)} ${d.args[0]}: paths with variables are not supported in the lab`, 'unsupported');
      }
      const head = `${indent}${d.name}${raw.map((r) => ` ${r}`).join('')}`;
      if (d.block) {
        push(`${head} {`, `${d.file}:${d.line}`);
        if (d.name === 'http') {
          lines.push(`${indent}    access_log ${quote(path.join(workDir, 'access.log'))};`);
          // Paths in the configuration are resolved inside the instance when it is read; a symlink met
          // while serving (a document root linking to the grader's files) must not be followed either.
          lines.push(`${indent}    disable_symlinks on;`);
          for (const t of TEMP_DIRECTIVES) lines.push(`${indent}    ${t} ${quote(path.join(workDir, t.replace('_path', '')))};`);
        }
        await emit(d.block, [...ctx, d.name], `${indent}    `);
        lines.push(`${indent}}`);
      } else push(`${head};`, `${d.file}:${d.line}`);
    }
  };
  lines.push(`# generated by seclab from ${confPath} in ${rootReal}`);
  lines.push('daemon off;', 'master_process on;', 'worker_processes 1;');
  // As root, nginx would switch its workers to "nobody", who cannot read the private temp folders;
  // the workers stay the invoking user (as they do anyway for a normal user).
  if (process.getuid?.() === 0) lines.push('user root root;');
  lines.push(`pid ${quote(path.join(workDir, 'nginx.pid'))};`);
  lines.push(`error_log ${quote(path.join(workDir, 'error.log'))} notice;`);
  await emit(tree, [], '');
  if (!tree.some((d) => d.name === 'events')) lines.push('events {}');
  const text = `${lines.join('\n')}\n`;
  const configFile = path.join(workDir, 'nginx.conf');
  writeFileSync(configFile, text);
  return { configFile, text, ports: [...ports.values()], notes, workDir, origin };
}

// ---- running ---------------------------------------------------------------------------------------

export type NginxResult =
  | { ok: true; server: NginxServer }
  | { ok: false; kind: 'config' | 'refused' | 'start'; message: string; notes: string[] };

export interface NginxServer {
  pid: number;
  ports: PortMapping[];
  /** The loopback port the instance's `port` is served on (443 → ...). */
  hostPort(port: number): number | undefined;
  config: PreparedConfig;
  stop(timeoutMs?: number): Promise<void>;
}

function nginxArgs(prep: PreparedConfig): string[] {
  return ['-p', `${prep.workDir}/`, '-e', path.join(prep.workDir, 'error.log'), '-c', prep.configFile];
}

/** `nginx -t` on the generated config. Messages mention the instance's own paths where possible. */
export function testConfig(prep: PreparedConfig, bin = NGINX_BIN): { ok: boolean; message: string } {
  const r = spawnSync(bin, ['-t', '-q', ...nginxArgs(prep)], { encoding: 'utf8', timeout: 15000 });
  const message = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').filter((l) => !/test (is successful|failed)|syntax is ok/.test(l)).join('\n');
  return { ok: r.status === 0, message: message || (r.error ? r.error.message : '') };
}

async function waitListening(port: number, until: number, alive: () => boolean): Promise<boolean> {
  while (Date.now() < until && alive()) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/**
 * Start the instance's nginx on loopback. Config problems (refused paths, syntax, `nginx -t`
 * failures) come back as `{ ok: false }`; a missing nginx throws with what to install.
 */
export async function startNginx(root: string, o: { configPath?: string; timeoutMs?: number; bin?: string } = {}): Promise<NginxResult> {
  const bin = o.bin ?? NGINX_BIN;
  const st = nginxStatus(bin);
  if (!st.installed) throw new Error(st.reason);
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'seclab-nginx-'));
  const cleanup = (): void => rmSync(workDir, { recursive: true, force: true });
  let prep: PreparedConfig;
  try {
    prep = await prepareConfig(root, { ...(o.configPath ? { configPath: o.configPath } : {}), workDir });
  } catch (e) {
    cleanup();
    if (e instanceof NginxConfigError) return { ok: false, kind: e.kind === 'escape' ? 'refused' : 'config', message: e.message, notes: [] };
    throw e;
  }
  const rootReal = path.resolve(root);
  const t = testConfig(prep, bin);
  if (!t.ok) {
    cleanup();
    // Show the student's view: instance paths instead of the grader's.
    const message = t.message
      .replace(new RegExp(`${prep.configFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+)`, 'g'), (all, n: string) => prep.origin[Number(n) - 1] ?? all)
      .split(rootReal).join('').split(workDir).join('<nginx work dir>');
    return { ok: false, kind: 'config', message: `nginx -t: ${message}`, notes: prep.notes };
  }
  const child: ChildProcess = spawn(bin, nginxArgs(prep), { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  child.once('error', (e) => { stderr += e.message; });
  const killGroup = (sig: NodeJS.Signals): void => {
    try { process.kill(-child.pid!, sig); } catch { /* gone */ }
  };
  const stop = async (timeoutMs = 5000): Promise<void> => {
    if (!exited) {
      killGroup('SIGQUIT');
      const timer = setTimeout(() => killGroup('SIGKILL'), timeoutMs);
      await exit;
      clearTimeout(timer);
    }
    killGroup('SIGKILL'); // workers, should any outlive the master
    cleanup();
  };
  const until = Date.now() + (o.timeoutMs ?? 10000);
  for (const p of prep.ports) {
    if (!(await waitListening(p.hostPort, until, () => !exited))) {
      await stop(1000);
      return { ok: false, kind: 'start', message: `nginx did not start listening on 127.0.0.1:${p.hostPort} (instance port ${p.port}): ${stderr.trim() || (exited ? `exited with ${child.exitCode}` : 'timed out')}`, notes: prep.notes };
    }
  }
  const ports = prep.ports;
  return {
    ok: true,
    server: { pid: child.pid!, ports, hostPort: (port) => ports.find((m) => m.port === port)?.hostPort, config: prep, stop },
  };
}
