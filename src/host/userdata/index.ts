// The user-data interpreter of the host model: what cloud-init (22.4, Debian 12's) does with an EC2
// instance's user data on first boot, applied to the instance's root folder. Module order follows the
// image's /etc/cloud/cloud.cfg (init: bootcmd, write_files, mounts, set_hostname, users_groups, ssh;
// config: ntp, timezone, runcmd (written only); final: packages, deferred write_files, then the user
// scripts: the #! parts and runcmd, in that order). Shell runs for real, inside the instance root in
// bubblewrap (sandbox.ts); everything else is file edits with chroot semantics (files.ts). Anything
// not honoured is a warning. A log like /var/log/cloud-init-output.log is written into the instance.
import { chown, readdir, lstat, copyFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { parseUserData, type ParsedUserData, type UserDataPart } from './parse.ts';
import { mkdirIn, readIn, resolveIn, symlinkIn, writeIn } from './files.ts';
import { ExecRefused, probeExec, runInRoot, type ShellLimits } from './sandbox.ts';
import { fetchPackages, installPackages, PACKAGE_NAME } from './packages.ts';

export { parseUserData, decodeUserData, type ParsedUserData, type UserDataPart } from './parse.ts';
export { probeExec, runInRoot, sharedUsr, ExecRefused, type ShellLimits } from './sandbox.ts';

export type ModuleStatus = 'ok' | 'failed' | 'refused' | 'warning';

export interface ModuleResult {
  module: string;
  status: ModuleStatus;
  messages: string[];
  ms: number;
}

export interface ApplyResult {
  ok: boolean;
  modules: ModuleResult[];
  warnings: string[];
  /** What /var/log/cloud-init-output.log holds. */
  log: string;
  ms: number;
}

export interface ApplyOptions {
  instanceId?: string;
  /** Run shell parts (bootcmd, runcmd, scripts, packages) when bubblewrap works (default true). */
  exec?: boolean;
  /** The instance's local-hostname from its metadata (EC2: ip-10-0-1-23): set_hostname writes it, as on a first boot. */
  localHostname?: string;
  /** Let seclab download packages missing from its cache (default true; SECLAB_HOST_FETCH=off turns it off). */
  fetch?: boolean;
  limits?: Partial<ShellLimits>;
  /** The image whose apt fetches packages (default: the cached Debian 12 image). */
  image?: string;
  log?: (line: string) => void;
}

/** Keys of cloud-config seclab interprets. */
export const HANDLED = new Set(['write_files', 'users', 'groups', 'ssh_authorized_keys', 'ssh_pwauth', 'disable_root', 'disable_root_opts', 'packages',
  'package_update', 'package_upgrade', 'package_reboot_if_required', 'runcmd', 'bootcmd', 'timezone', 'ntp', 'hostname', 'fqdn',
  'prefer_fqdn_over_hostname', 'preserve_hostname', 'mounts', 'ssh_deletekeys', 'ssh_genkeytypes', 'chpasswd', 'password']);
/** Keys that do nothing a root folder can show (they act on a running machine or the console). */
const NO_EFFECT = new Set(['final_message', 'power_state', 'phone_home', 'output', 'growpart', 'resize_rootfs', 'ssh_fp_console_blacklist',
  'ssh_key_console_blacklist', 'no_ssh_fingerprints', 'ssh_quiet_keygen', 'manage_etc_hosts', 'locale', 'keyboard', 'random_seed', 'merge_how']);

const ROOT_UGID = { uid: 0, gid: 0 };

interface Ctx {
  root: string;
  cfg: Record<string, unknown>;
  parsed: ParsedUserData;
  opts: ApplyOptions;
  out: string[];
  modules: ModuleResult[];
  exec: boolean;
  execWhy: string;
  iid: string;
}

/** Apply user data (raw bytes, or RunInstances' base64) to an instance root. */
export async function applyUserData(root: string, userData: string | Buffer, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const started = performance.now();
  const parsed = parseUserData(userData);
  return applyParsed(root, parsed, opts, started);
}

export async function applyParsed(root: string, parsed: ParsedUserData, opts: ApplyOptions = {}, started = performance.now()): Promise<ApplyResult> {
  root = path.resolve(root);
  const probe = probeExec();
  const ctx: Ctx = {
    root, cfg: parsed.config, parsed, opts, out: [], modules: [], iid: opts.instanceId ?? 'i-00000000000000000',
    exec: opts.exec !== false && probe.ok, execWhy: opts.exec === false ? 'shell execution turned off for this run' : probe.detail,
  };
  const warnings = [...parsed.warnings];
  for (const k of Object.keys(parsed.config)) {
    if (HANDLED.has(k)) continue;
    if (NO_EFFECT.has(k)) warnings.push(`${k}: acts on a running machine (console, reboot, disks); nothing to model in the root folder`);
    else warnings.push(`${k}: this cloud-config key is not interpreted by seclab (it would be by cloud-init on AWS, if it is a valid key): nothing was done for it`);
  }
  ctx.out.push(`Cloud-init v. 22.4.2 (seclab host model) running 'modules' for instance ${ctx.iid}`);
  await record(ctx, 'user-data', async (m) => {
    const raw = parsed.parts.map((p) => p.content.toString('utf8')).join('\n');
    await writeIn(root, `/var/lib/cloud/instances/${ctx.iid}/user-data.txt`, raw, 0o600, ROOT_UGID);
    if (!resolveIn(root, '/var/lib/cloud/instance')) await symlinkIn(root, '/var/lib/cloud/instance', `/var/lib/cloud/instances/${ctx.iid}`);
    m.push(`${parsed.parts.length} part(s): ${parsed.parts.map((p) => `${p.name} (${p.type})`).join(', ') || 'none'}`);
  });
  const cfg = parsed.config;
  // Boot hooks run while the user data is consumed, before any module.
  const boothooks = parsed.parts.filter((p) => p.kind === 'boothook');
  if (boothooks.length) await record(ctx, 'boothook', async (m) => {
    let failed = false;
    for (const b of boothooks) if ((await runScript(ctx, `boothook-${b.name}`, b.content.toString('utf8').replace(/^#cloud-boothook[^\n]*\n/, '#!/bin/sh\n'), m)) === 'failed') failed = true;
    if (failed) return 'failed';
  });
  // init stage
  if (cfg.bootcmd !== undefined) await record(ctx, 'bootcmd', (m) => runScript(ctx, 'bootcmd', shellScript(cfg.bootcmd, m), m));
  if (cfg.write_files !== undefined) await record(ctx, 'write_files', (m) => writeFiles(ctx, false, m));
  if (cfg.mounts !== undefined) await record(ctx, 'mounts', (m) => mounts(ctx, m));
  if ((cfg.hostname !== undefined || cfg.fqdn !== undefined || opts.localHostname) && !truthy(cfg.preserve_hostname)) await record(ctx, 'set_hostname', (m) => hostname(ctx, m));
  await record(ctx, 'users_groups', (m) => usersGroups(ctx, m));
  await record(ctx, 'ssh', (m) => ssh(ctx, m));
  if (cfg.chpasswd !== undefined || cfg.password !== undefined || cfg.ssh_pwauth !== undefined) await record(ctx, 'set_passwords', (m) => setPasswords(ctx, m));
  // config stage
  if (cfg.ntp !== undefined) await record(ctx, 'ntp', (m) => ntp(ctx, m));
  if (cfg.timezone !== undefined) await record(ctx, 'timezone', (m) => timezone(ctx, m));
  let runcmd: string | undefined;
  if (cfg.runcmd !== undefined) await record(ctx, 'runcmd', async (m) => {
    runcmd = shellScript(cfg.runcmd, m);
    await writeIn(root, `/var/lib/cloud/instances/${ctx.iid}/scripts/runcmd`, runcmd, 0o700, ROOT_UGID);
    m.push('written to /var/lib/cloud/instance/scripts/runcmd (run by scripts_user, after packages)');
  });
  // final stage
  if (cfg.packages !== undefined || cfg.package_update || cfg.package_upgrade) await record(ctx, 'package_update_upgrade_install', (m) => packages(ctx, m));
  if (Array.isArray(cfg.write_files) && cfg.write_files.some((f) => isObj(f) && truthy(f.defer))) await record(ctx, 'write_files_deferred', (m) => writeFiles(ctx, true, m));
  const scripts = parsed.parts.filter((p) => p.kind === 'shellscript');
  if (scripts.length || runcmd !== undefined) await record(ctx, 'scripts_user', (m) => userScripts(ctx, scripts, runcmd, m));
  const ms = Math.round(performance.now() - started);
  ctx.out.push(`Cloud-init v. 22.4.2 (seclab host model) finished; ${ms} ms`);
  for (const w of warnings) ctx.out.push(`WARNING: ${w}`);
  const log = ctx.out.join('\n') + '\n';
  const prev = (await readIn(root, '/var/log/cloud-init-output.log')) ?? '';
  await writeIn(root, '/var/log/cloud-init-output.log', prev + log, 0o640, { uid: 0, gid: await gidOf(root, 'adm') ?? 0 });
  const result = { ok: ctx.modules.every((x) => x.status === 'ok' || x.status === 'warning'), modules: ctx.modules, warnings, log, ms };
  await writeIn(root, '/var/lib/cloud/data/seclab-result.json', JSON.stringify(result, null, 2) + '\n', 0o600, ROOT_UGID);
  return result;
}

async function record(ctx: Ctx, module: string, fn: (messages: string[]) => Promise<void | ModuleStatus>): Promise<void> {
  const t = performance.now();
  const messages: string[] = [];
  let status: ModuleStatus = 'ok';
  try {
    const s = await fn(messages);
    if (s) status = s;
  } catch (e) {
    status = e instanceof ExecRefused ? 'refused' : 'failed';
    messages.push((e as Error).message);
  }
  const ms = Math.round(performance.now() - t);
  ctx.modules.push({ module, status, messages, ms });
  ctx.out.push(`[${module}] ${status} (${ms} ms)`);
  for (const line of messages) ctx.out.push(`  ${line.replace(/\n/g, '\n  ')}`);
  ctx.opts.log?.(`${module}: ${status}${messages.length ? ` — ${messages[0]}` : ''}`);
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const truthy = (v: unknown) => v === true || (typeof v === 'string' && /^(true|yes|on|1)$/i.test(v));
const shq = (s: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'"'"'`)}'`);

/** cloud-init's shellify: strings as they are, lists quoted word by word; one command per line. */
export function shellScript(cmds: unknown, messages: string[]): string {
  const lines = ['#!/bin/sh'];
  const list = Array.isArray(cmds) ? cmds : [cmds];
  for (const c of list) {
    if (typeof c === 'string') lines.push(c);
    else if (Array.isArray(c)) lines.push(c.map((w) => shq(String(w))).join(' '));
    else messages.push(`ignored an entry that is neither a string nor a list: ${JSON.stringify(c)}`);
  }
  return lines.join('\n') + '\n';
}

async function runScript(ctx: Ctx, name: string, script: string, m: string[], interpreter?: string[]): Promise<ModuleStatus | void> {
  if (!ctx.exec) throw new ExecRefused(`${name} not run: ${ctx.execWhy}. On AWS cloud-init would run it; seclab never runs it outside an isolated root`);
  const file = `/var/lib/cloud/instances/${ctx.iid}/scripts/${name}`;
  await writeIn(ctx.root, file, script, 0o700, ROOT_UGID);
  const r = await runInRoot(ctx.root, interpreter ? [...interpreter, file] : [file], { limits: ctx.opts.limits });
  if (r.output) {
    m.push(r.output.trimEnd());
  }
  m.push(`${name}: exit ${r.code ?? r.signal} in ${r.ms} ms`);
  if (r.code !== 0) return 'failed';
}

// ---------- write_files ----------

async function passwdMap(root: string, file: string): Promise<Map<string, string[]>> {
  const m = new Map<string, string[]>();
  for (const line of ((await readIn(root, file)) ?? '').split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && f[0]) m.set(f[0], f);
  }
  return m;
}

async function gidOf(root: string, group: string): Promise<number | undefined> {
  const g = (await passwdMap(root, '/etc/group')).get(group);
  return g ? Number(g[2]) : undefined;
}

async function ownerOf(root: string, spec: string): Promise<{ uid: number; gid: number }> {
  const [u = 'root', g] = spec.split(':');
  const pw = await passwdMap(root, '/etc/passwd');
  const uid = /^\d+$/.test(u) ? Number(u) : pw.get(u) ? Number(pw.get(u)![2]) : undefined;
  if (uid === undefined) throw new Error(`owner ${spec}: no user ${u} in the instance's /etc/passwd (write_files runs before users are created: use defer: true)`);
  let gid: number | undefined;
  // cloud-init's chownbyname with no group leaves the group as created: root's (the file was written by root).
  if (g === undefined || g === '') gid = 0;
  else gid = /^\d+$/.test(g) ? Number(g) : await gidOf(root, g);
  if (gid === undefined) throw new Error(`owner ${spec}: no group ${g} in the instance's /etc/group`);
  return { uid, gid };
}

/** cloud-init's decode_perms: an int as is (YAML 1.1 reads 0644 as octal), a string as octal. */
export function decodePerms(v: unknown, dflt = 0o644): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number') return v;
  const s = String(v).trim();
  if (/^0?o?[0-7]+$/i.test(s)) return parseInt(s.replace(/^0o/i, ''), 8);
  throw new Error(`permissions ${JSON.stringify(v)} are not an octal mode`);
}

function decodeContent(content: unknown, encoding: unknown): Buffer {
  const text = content === undefined || content === null ? '' : String(content);
  const enc = String(encoding ?? 'text/plain').toLowerCase();
  switch (enc) {
    case 'b64': case 'base64': return Buffer.from(text, 'base64');
    case 'gz': case 'gzip': return gunzipSync(Buffer.from(text, 'latin1'));
    case 'gz+b64': case 'gz+base64': case 'gzip+b64': case 'gzip+base64': return gunzipSync(Buffer.from(text, 'base64'));
    case 'text/plain': return Buffer.from(text, 'utf8');
    default: throw new Error(`encoding ${enc} is not one cloud-init knows (b64, gzip, gz+b64, text/plain)`);
  }
}

async function writeFiles(ctx: Ctx, deferred: boolean, m: string[]): Promise<ModuleStatus | void> {
  const files = ctx.cfg.write_files;
  if (!Array.isArray(files)) throw new Error('write_files must be a list');
  let failed = false;
  for (const [i, f] of files.entries()) {
    if (!isObj(f)) { m.push(`entry ${i}: not a mapping, ignored`); failed = true; continue; }
    if (truthy(f.defer) !== deferred) continue;
    const p = f.path;
    if (typeof p !== 'string' || !p) { m.push(`entry ${i}: no path, ignored (cloud-init does the same)`); failed = true; continue; }
    try {
      if (f.source !== undefined) m.push(`${p}: source (download from a URL) is not supported; content is used`);
      for (const k of Object.keys(f)) if (!['path', 'content', 'encoding', 'permissions', 'owner', 'append', 'defer', 'source'].includes(k)) m.push(`${p}: key ${k} is not a write_files key: ignored`);
      const data = decodeContent(f.content, f.encoding);
      const mode = decodePerms(f.permissions);
      const owner = await ownerOf(ctx.root, String(f.owner ?? 'root:root'));
      const append = truthy(f.append);
      const before = append ? (resolveIn(ctx.root, p) ? Buffer.from((await readIn(ctx.root, p)) ?? '', 'utf8') : Buffer.alloc(0)) : undefined;
      const host = await writeIn(ctx.root, p, before ? Buffer.concat([before, data]) : data, mode, owner);
      m.push(`${append ? 'appended to' : 'wrote'} ${path.posix.resolve('/', p)} (${data.length} bytes, ${mode.toString(8).padStart(4, '0')}, ${f.owner ?? 'root:root'})${host.startsWith(ctx.root) ? '' : ' ?'}`);
    } catch (e) {
      failed = true;
      m.push(`${p}: ${(e as Error).message}`);
    }
  }
  if (failed) return 'failed';
}

// ---------- mounts, hostname ----------

async function mounts(ctx: Ctx, m: string[]): Promise<void> {
  const list = ctx.cfg.mounts;
  if (!Array.isArray(list)) throw new Error('mounts must be a list of [device, mountpoint, type, options, dump, pass]');
  const dflt = ['', '', 'auto', 'defaults,nofail,x-systemd.requires=cloud-init.service,_netdev', '0', '2'];
  const entries: string[] = [];
  for (const e of list) {
    if (!Array.isArray(e) || !e[0]) continue;
    const f = dflt.map((d, i) => (e[i] === undefined || e[i] === null ? d : String(e[i])));
    if (!f[1] || f[1] === 'None') continue;
    // cloud-init marks its entries with comment=cloudconfig in the options and replaces them on each run.
    f[3] = `${f[3]},comment=cloudconfig`;
    entries.push(f.join('\t'));
    await mkdirIn(ctx.root, f[1]).catch(() => {});
  }
  const fstab = ((await readIn(ctx.root, '/etc/fstab')) ?? '').split('\n').filter((l) => !l.includes('comment=cloudconfig'));
  while (fstab.length && fstab[fstab.length - 1] === '') fstab.pop();
  await writeIn(ctx.root, '/etc/fstab', [...fstab, ...entries].join('\n') + '\n');
  m.push(`/etc/fstab: ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} (comment=cloudconfig)`);
}

async function hostname(ctx: Ctx, m: string[]): Promise<void> {
  const fqdn = typeof ctx.cfg.fqdn === 'string' ? ctx.cfg.fqdn : undefined;
  const host = typeof ctx.cfg.hostname === 'string' ? ctx.cfg.hostname : fqdn?.split('.')[0] ?? ctx.opts.localHostname;
  if (!host) throw new Error('hostname must be a string');
  const name = truthy(ctx.cfg.prefer_fqdn_over_hostname) && fqdn ? fqdn : host;
  await writeIn(ctx.root, '/etc/hostname', `${name}\n`, 0o644);
  m.push(`/etc/hostname: ${name}`);
}

// ---------- users and groups ----------

interface UserSpec { name: string; [k: string]: unknown }

function defaultUser(): UserSpec {
  return { name: 'debian', lock_passwd: true, gecos: 'Debian', groups: ['adm', 'audio', 'cdrom', 'dialout', 'dip', 'floppy', 'netdev', 'plugdev', 'sudo', 'video'], sudo: ['ALL=(ALL) NOPASSWD:ALL'], shell: '/bin/bash' };
}

/** cloud-init's normalize_users_groups, for the forms students write. */
function usersOf(cfg: Record<string, unknown>, m: string[]): { users: UserSpec[]; defaultName?: string } {
  let raw = cfg.users;
  if (raw === undefined) raw = ['default'];
  if (typeof raw === 'string') raw = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (isObj(raw)) raw = Object.entries(raw).map(([name, v]) => (isObj(v) ? { name, ...v } : name));
  const users: UserSpec[] = [];
  let defaultName: string | undefined;
  for (const u of raw as unknown[]) {
    if (u === 'default' || (isObj(u) && u.name === 'default')) {
      defaultName = defaultUser().name;
    } else if (typeof u === 'string') users.push({ name: u });
    else if (isObj(u) && typeof u.name === 'string') users.push(u as UserSpec);
    else m.push(`users: ignored ${JSON.stringify(u)} (no name)`);
  }
  // cloud-init's normalize_users_groups takes the default user out and adds it back last.
  if (defaultName) users.push(defaultUser());
  return { users, defaultName };
}

function listOf(v: unknown): string[] {
  if (v === undefined || v === null || v === false) return [];
  if (Array.isArray(v)) return v.map(String);
  return String(v).split(',').map((s) => s.trim()).filter(Boolean);
}

class Db {
  passwd!: string[][];
  group!: string[][];
  shadow!: string[][];
  gshadow!: string[][];
  constructor(readonly root: string) {}
  async load(): Promise<void> {
    const rd = async (f: string) => ((await readIn(this.root, f)) ?? '').split('\n').filter((l) => l.trim()).map((l) => l.split(':'));
    [this.passwd, this.group, this.shadow, this.gshadow] = await Promise.all(['/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow'].map(rd));
  }
  async save(): Promise<void> {
    const shadowGid = this.group.find((g) => g[0] === 'shadow')?.[2];
    const sg = { uid: 0, gid: shadowGid ? Number(shadowGid) : 0 };
    await writeIn(this.root, '/etc/passwd', this.passwd.map((l) => l.join(':')).join('\n') + '\n', 0o644, ROOT_UGID);
    await writeIn(this.root, '/etc/group', this.group.map((l) => l.join(':')).join('\n') + '\n', 0o644, ROOT_UGID);
    await writeIn(this.root, '/etc/shadow', this.shadow.map((l) => l.join(':')).join('\n') + '\n', 0o640, sg);
    await writeIn(this.root, '/etc/gshadow', this.gshadow.map((l) => l.join(':')).join('\n') + '\n', 0o640, sg);
  }
  user(n: string) { return this.passwd.find((l) => l[0] === n); }
  grp(n: string) { return this.group.find((l) => l[0] === n); }
  freeId(used: number[], system: boolean): number {
    if (system) { for (let i = 999; i >= 100; i--) if (!used.includes(i)) return i; }
    for (let i = 1000; ; i++) if (!used.includes(i)) return i;
  }
  addGroup(name: string, system = false, gid?: number): string[] {
    const g = this.grp(name);
    if (g) return g;
    const id = gid ?? this.freeId([...this.group.map((x) => Number(x[2])), ...this.passwd.map((x) => Number(x[3]))], system);
    const line = [name, 'x', String(id), ''];
    this.group.push(line);
    this.gshadow.push([name, '!', '', '']);
    return line;
  }
  addMember(group: string, user: string): boolean {
    const g = this.grp(group);
    if (!g) return false;
    const members = (g[3] ?? '').split(',').filter(Boolean);
    if (!members.includes(user)) members.push(user);
    g[3] = members.join(',');
    const gs = this.gshadow.find((x) => x[0] === group);
    if (gs) { const mm = (gs[3] ?? '').split(',').filter(Boolean); if (!mm.includes(user)) mm.push(user); gs[3] = mm.join(','); }
    return true;
  }
}

/** /etc/login.defs as useradd reads it (the last value of a key wins). */
async function loginDefs(root: string): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  for (const line of ((await readIn(root, '/etc/login.defs')) ?? '').split('\n')) {
    const x = /^\s*([A-Z_]+)\s+(\S+)/.exec(line);
    if (x) m.set(x[1]!, x[2]!);
  }
  return m;
}

const SUDOERS_HEADER = '# Created by cloud-init v. 22.4.2 on the seclab host model\n';

async function usersGroups(ctx: Ctx, m: string[]): Promise<ModuleStatus | void> {
  const db = new Db(ctx.root);
  await db.load();
  let failed = false;
  // groups: [name] or [{name: [members]}]
  const groups = ctx.cfg.groups;
  const gl = groups === undefined ? [] : Array.isArray(groups) ? groups : isObj(groups) ? Object.entries(groups).map(([k, v]) => ({ [k]: v })) : listOf(groups);
  for (const g of gl) {
    if (typeof g === 'string') { db.addGroup(g); m.push(`group ${g}`); continue; }
    if (isObj(g)) for (const [name, members] of Object.entries(g)) {
      db.addGroup(name);
      for (const u of listOf(members)) if (!db.user(u)) m.push(`group ${name}: member ${u} does not exist (cloud-init skips it)`); else db.addMember(name, u);
      m.push(`group ${name}${listOf(members).length ? `: ${listOf(members).join(', ')}` : ''}`);
    }
  }
  const { users } = usersOf(ctx.cfg, m);
  const sudoRules: string[] = [];
  for (const u of users) {
    const known = new Set(['name', 'gecos', 'groups', 'primary_group', 'shell', 'homedir', 'lock_passwd', 'passwd', 'hashed_passwd', 'plain_text_passwd', 'sudo', 'ssh_authorized_keys',
      'system', 'no_create_home', 'uid', 'expiredate', 'inactive', 'no_user_group', 'create_groups', 'no_log_init', 'selinux_user', 'ssh_import_id', 'ssh_redirect_user', 'doas', 'snapuser']);
    for (const k of Object.keys(u)) if (!known.has(k)) m.push(`user ${u.name}: key ${k} is not a users key: ignored`);
    for (const k of ['ssh_import_id', 'selinux_user', 'ssh_redirect_user', 'doas', 'snapuser']) if (u[k] !== undefined) m.push(`user ${u.name}: ${k} is not supported by seclab (needs the network or another distribution)`);
    const system = truthy(u.system);
    let pw = db.user(u.name);
    const home = typeof u.homedir === 'string' ? u.homedir : `/home/${u.name}`;
    if (pw) {
      m.push(`user ${u.name} exists already: groups, keys and sudo rules added (cloud-init does not change an existing account)`);
    } else {
      // useradd: the uid is the next free one; the user's own group takes the same number when free.
      const uid = u.uid !== undefined ? Number(u.uid) : db.freeId(db.passwd.map((x) => Number(x[2])), system);
      let gid: number;
      if (typeof u.primary_group === 'string') gid = Number(db.addGroup(u.primary_group, system)[2]);
      else if (truthy(u.no_user_group)) gid = 100;
      else gid = Number(db.addGroup(u.name, system, db.group.some((g) => Number(g[2]) === uid) ? undefined : uid)[2]);
      if (db.passwd.some((x) => Number(x[2]) === uid)) { m.push(`user ${u.name}: uid ${uid} is taken (useradd fails)`); failed = true; continue; }
      const shell = typeof u.shell === 'string' ? u.shell : system ? '/usr/sbin/nologin' : '/bin/sh';
      pw = [u.name, 'x', String(uid), String(gid), typeof u.gecos === 'string' ? u.gecos : '', home, shell];
      db.passwd.push(pw);
      const days = String(Math.floor(Date.now() / 86_400_000));
      const expire = u.expiredate ? String(Math.floor(Date.parse(String(u.expiredate)) / 86_400_000)) : '';
      const inactive = u.inactive !== undefined ? String(u.inactive) : '';
      // useradd --system leaves the password aging fields empty (login.defs' PASS_* apply to normal users).
      const defs = await loginDefs(ctx.root);
      db.shadow.push(system ? [u.name, '!', '', '', '', '', inactive, expire, ''] : [u.name, '!', days, defs.get('PASS_MIN_DAYS') ?? '', defs.get('PASS_MAX_DAYS') ?? '', defs.get('PASS_WARN_AGE') ?? '', inactive, expire, '']);
      m.push(`user ${u.name} (uid ${uid}, gid ${gid}, ${shell})`);
      if (!system && !truthy(u.no_create_home)) {
        const owner = { uid, gid };
        await mkdirIn(ctx.root, home, 0o755, owner);
        const skel = resolveIn(ctx.root, '/etc/skel');
        if (skel) for (const f of await readdir(skel)) {
          const st = await lstat(path.join(skel, f));
          if (!st.isFile()) continue;
          const dest = await writeIn(ctx.root, path.posix.join(home, f), '', st.mode & 0o777, owner);
          await copyFile(path.join(skel, f), dest);
          await chown(dest, uid, gid);
        }
      }
    }
    const sh = db.shadow.find((s) => s[0] === u.name);
    const hashed = typeof u.hashed_passwd === 'string' ? u.hashed_passwd : typeof u.passwd === 'string' ? u.passwd : undefined;
    if (sh && hashed) sh[1] = hashed;
    if (u.plain_text_passwd !== undefined) m.push(`user ${u.name}: plain_text_passwd is not hashed by seclab (cloud-init would, with chpasswd): the account keeps no password — use hashed_passwd`);
    const lock = u.lock_passwd === undefined ? true : truthy(u.lock_passwd);
    if (sh && lock && !sh[1]!.startsWith('!')) sh[1] = `!${sh[1]}`;
    if (sh && !lock && sh[1]!.startsWith('!') && sh[1] !== '!') sh[1] = sh[1]!.replace(/^!+/, '');
    for (const g of listOf(u.groups)) {
      if (!db.grp(g)) db.addGroup(g);
      db.addMember(g, u.name);
    }
    const sudo = u.sudo;
    if (sudo !== undefined && sudo !== false && sudo !== null && !(typeof sudo === 'string' && /^(false|none)$/i.test(sudo))) {
      sudoRules.push(`\n# User rules for ${u.name}`, ...listOf(Array.isArray(sudo) ? sudo : [sudo]).map((r) => `${u.name} ${r}`));
    }
    const keys = listOf(Array.isArray(u.ssh_authorized_keys) ? u.ssh_authorized_keys : u.ssh_authorized_keys === undefined ? [] : [u.ssh_authorized_keys]);
    if (keys.length) {
      await db.save();
      await authorizedKeys(ctx, u.name, keys, m);
    }
  }
  await db.save();
  if (sudoRules.length) {
    await writeIn(ctx.root, '/etc/sudoers.d/90-cloud-init-users', SUDOERS_HEADER + sudoRules.join('\n') + '\n', 0o440, ROOT_UGID);
    m.push('/etc/sudoers.d/90-cloud-init-users (0440)');
  }
  if (failed) return 'failed';
}

async function authorizedKeys(ctx: Ctx, user: string, keys: string[], m: string[], prefix = ''): Promise<void> {
  const pw = (await passwdMap(ctx.root, '/etc/passwd')).get(user);
  if (!pw) throw new Error(`ssh keys for ${user}: no such user`);
  const owner = { uid: Number(pw[2]), gid: Number(pw[3]) };
  const home = pw[5] || '/';
  await mkdirIn(ctx.root, path.posix.join(home, '.ssh'), 0o700, owner);
  const file = path.posix.join(home, '.ssh/authorized_keys');
  const old = ((await readIn(ctx.root, file)) ?? '').split('\n').filter(Boolean);
  const add = keys.map((k) => k.trim()).filter(Boolean).map((k) => prefix + k).filter((k) => !old.includes(k));
  await writeIn(ctx.root, file, [...old, ...add].join('\n') + '\n', 0o600, owner);
  m.push(`${file}: ${add.length} key(s) for ${user}`);
}

// ---------- ssh, passwords ----------

const DISABLE_ROOT_OPTS = 'no-port-forwarding,no-agent-forwarding,no-X11-forwarding,command="echo \'Please login as the user \\"$USER\\" rather than the user \\"$DISABLE_USER\\".\';echo;sleep 10;exit 142"';

async function ssh(ctx: Ctx, m: string[]): Promise<ModuleStatus | void> {
  const cfg = ctx.cfg;
  // Host keys: cloud-init deletes the image's and generates new ones (the image has none).
  const types = cfg.ssh_genkeytypes === undefined ? ['rsa', 'ecdsa', 'ed25519'] : listOf(cfg.ssh_genkeytypes);
  if (ctx.exec && types.length) {
    const missing = types.filter((t) => !resolveIn(ctx.root, `/etc/ssh/ssh_host_${t}_key`));
    if (missing.length) {
      const script = missing.map((t) => `ssh-keygen -q -t ${t} -N '' -f /etc/ssh/ssh_host_${t}_key`).join('\n');
      const r = await runInRoot(ctx.root, ['/bin/sh', '-c', script], { limits: { timeoutMs: 60_000 }, ownCommand: true });
      m.push(r.code === 0 ? `host keys generated (${missing.join(', ')}) with the instance's ssh-keygen` : `ssh-keygen failed: ${r.output.trim()}`);
    }
  } else if (!ctx.exec) m.push(`host keys not generated (${ctx.execWhy})`);
  const { defaultName } = usersOf(cfg, []);
  const keys = listOf(cfg.ssh_authorized_keys === undefined ? [] : Array.isArray(cfg.ssh_authorized_keys) ? cfg.ssh_authorized_keys : [cfg.ssh_authorized_keys]);
  const user = defaultName;
  if (keys.length) {
    if (user) await authorizedKeys(ctx, user, keys, m);
    else m.push('ssh_authorized_keys: no default user (users has no "default"): cloud-init gives the keys to root only');
  }
  const disableRoot = cfg.disable_root === undefined ? true : truthy(cfg.disable_root);
  if (keys.length) {
    if (disableRoot && user) {
      const opts = (typeof cfg.disable_root_opts === 'string' ? cfg.disable_root_opts : DISABLE_ROOT_OPTS).replace(/\$USER/g, user).replace(/\$DISABLE_USER/g, 'root');
      await authorizedKeys(ctx, 'root', keys, m, `${opts} `);
      m.push('disable_root: root\'s keys only print a message (log in as the default user)');
    } else await authorizedKeys(ctx, 'root', keys, m);
  }
}

/**
 * cloud-init's update_ssh_config as Debian 12 ships it (22.4.2-1+deb12u4): when sshd_config starts with
 * `Include /etc/ssh/sshd_config.d/*.conf`, the setting goes into sshd_config.d/50-cloud-init.conf (made
 * 0600), else into sshd_config; an existing line of the key is replaced, else the line is appended.
 */
async function setSshdOption(ctx: Ctx, key: string, value: string): Promise<string> {
  const main = '/etc/ssh/sshd_config';
  const mainText = (await readIn(ctx.root, main)) ?? '';
  const dropIn = mainText.split('\n').some((l) => l.startsWith(`Include ${main}.d/*.conf`));
  const file = dropIn ? `${main}.d/50-cloud-init.conf` : main;
  const existing = dropIn ? await readIn(ctx.root, file) : mainText;
  const lines = (existing ?? '').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let done = false;
  const re = new RegExp(`^\\s*${key}(\\s|=)`, 'i');
  for (let i = 0; i < lines.length; i++) if (re.test(lines[i]!)) { lines[i] = `${key} ${value}`; done = true; }
  if (!done) lines.push(`${key} ${value}`);
  await writeIn(ctx.root, file, lines.join('\n') + '\n', existing === undefined ? 0o600 : undefined);
  return `${file}: ${key} ${value}${done ? ' (replaced)' : ' (added)'}${dropIn ? ' — a drop-in: sshd reads the drop-ins in name order and keeps the first value, so one named before 50-cloud-init.conf wins' : ''}`;
}

async function setPasswords(ctx: Ctx, m: string[]): Promise<ModuleStatus | void> {
  const v = ctx.cfg.ssh_pwauth;
  if (v !== undefined && !(typeof v === 'string' && v === 'unchanged')) {
    m.push(await setSshdOption(ctx, 'PasswordAuthentication', truthy(v) ? 'yes' : 'no'));
  }
  if (ctx.cfg.chpasswd !== undefined || ctx.cfg.password !== undefined) {
    m.push('chpasswd/password: not applied by seclab (plain-text passwords in user data are readable by anyone who can read the instance\'s user data; use hashed_passwd or, better, SSH keys)');
    return 'warning';
  }
}

// ---------- ntp, timezone ----------

async function ntp(ctx: Ctx, m: string[]): Promise<ModuleStatus | void> {
  const n = ctx.cfg.ntp;
  if (n === null || n === undefined) return;
  if (!isObj(n)) throw new Error('ntp must be a mapping');
  if (n.enabled !== undefined && !truthy(n.enabled)) { m.push('ntp: enabled is false, nothing done'); return; }
  const client = String(n.ntp_client ?? 'auto');
  if (!['auto', 'chrony'].includes(client)) { m.push(`ntp_client ${client}: not installed in the image (chrony is); only chrony is configured by seclab`); return 'failed'; }
  for (const k of Object.keys(n)) if (!['enabled', 'ntp_client', 'servers', 'pools', 'config'].includes(k)) m.push(`ntp.${k}: not interpreted`);
  let pools = listOf(n.pools);
  const servers = listOf(n.servers);
  if (!pools.length && !servers.length) pools = ['0.debian.pool.ntp.org', '1.debian.pool.ntp.org', '2.debian.pool.ntp.org', '3.debian.pool.ntp.org'];
  const body = [
    '## template:jinja', '# This file is generated by cloud-init (seclab host model) from /etc/cloud/templates/chrony.conf.debian.tmpl', '',
    ...(pools.length ? ['# pools', ...pools.map((p) => `pool ${p} iburst`)] : []),
    ...(servers.length ? ['# servers', ...servers.map((s) => `server ${s} iburst`)] : []),
    '', 'keyfile /etc/chrony/chrony.keys', 'driftfile /var/lib/chrony/chrony.drift', 'logdir /var/log/chrony', 'maxupdateskew 100.0', 'rtcsync', 'makestep 1 3', '',
  ].join('\n');
  await writeIn(ctx.root, '/etc/chrony/chrony.conf', body, 0o644, ROOT_UGID);
  m.push(`/etc/chrony/chrony.conf: ${[...pools.map((p) => `pool ${p}`), ...servers.map((s) => `server ${s}`)].join(', ')}`);
}

async function timezone(ctx: Ctx, m: string[]): Promise<void> {
  const tz = String(ctx.cfg.timezone);
  if (!/^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/.test(tz) || !resolveIn(ctx.root, `/usr/share/zoneinfo/${tz}`)) throw new Error(`timezone ${tz}: no /usr/share/zoneinfo/${tz} in the instance (cloud-init fails the same way)`);
  await writeIn(ctx.root, '/etc/timezone', `${tz}\n`);
  await symlinkIn(ctx.root, '/etc/localtime', `/usr/share/zoneinfo/${tz}`);
  m.push(`/etc/timezone and /etc/localtime -> /usr/share/zoneinfo/${tz}`);
}

// ---------- packages ----------

async function packages(ctx: Ctx, m: string[]): Promise<ModuleStatus | void> {
  const cfg = ctx.cfg;
  if (truthy(cfg.package_upgrade)) m.push('package_upgrade: not done (seclab installs from its cache of the Debian 12 archive; the image is as recent as its build)');
  const raw = cfg.packages === undefined ? [] : Array.isArray(cfg.packages) ? cfg.packages : [cfg.packages];
  const names: string[] = [];
  for (const p of raw) {
    const n = Array.isArray(p) ? `${p[0]}=${p[1]}` : isObj(p) ? undefined : String(p);
    if (isObj(p)) { m.push(`packages: ${JSON.stringify(p)}: snap/apt mappings are not supported (Debian: plain package names)`); continue; }
    if (!n || !PACKAGE_NAME.test(n)) { m.push(`packages: ${JSON.stringify(p)} is not a Debian package name: refused`); continue; }
    names.push(n);
  }
  if (!names.length) return;
  if (!ctx.exec) throw new ExecRefused(`packages ${names.join(' ')} not installed: ${ctx.execWhy} (dpkg and the packages' scripts must run inside the instance)`);
  const timeoutMs = Math.max(ctx.opts.limits?.timeoutMs ?? 0, 600_000);
  const fetch = ctx.opts.fetch ?? process.env.SECLAB_HOST_FETCH !== 'off';
  if (fetch) {
    const f = await fetchPackages(ctx.root, names, (l) => m.push(l), ctx.opts.image);
    if (f.code !== 0) m.push(`fetching into seclab's package cache failed (exit ${f.code}); installing from what is cached:\n${f.output.trim().split('\n').slice(-8).join('\n')}`);
    else m.push(`fetched into seclab's package cache (${f.ms} ms)`);
  }
  const r = await installPackages(ctx.root, names, timeoutMs);
  m.push(r.output.trim().split('\n').filter((l) => !/^(Reading|Building|\(Reading database)/.test(l)).slice(-40).join('\n'));
  m.push(`apt-get install ${names.join(' ')}: exit ${r.code ?? r.signal} in ${r.ms} ms`);
  if (r.code !== 0) return 'failed';
}

// ---------- user scripts ----------

async function userScripts(ctx: Ctx, parts: UserDataPart[], runcmd: string | undefined, m: string[]): Promise<ModuleStatus | void> {
  if (!ctx.exec) throw new ExecRefused(`${[...parts.map((p) => p.name), ...(runcmd !== undefined ? ['runcmd'] : [])].join(', ')} not run: ${ctx.execWhy}. On AWS cloud-init would run them; seclab never runs them outside an isolated root`);
  let failed = false;
  // scripts_user runs every file of scripts/ in name order: the #! parts (part-001, ...) then runcmd.
  const list: { name: string; body: Buffer }[] = parts.map((p) => ({ name: p.name.replace(/[^A-Za-z0-9._-]/g, '_'), body: p.content }));
  if (runcmd !== undefined) list.push({ name: 'runcmd', body: Buffer.from(runcmd) });
  list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const s of list) {
    if (!s.body.toString('utf8', 0, 2).startsWith('#!')) {
      m.push(`${s.name}: no #! line: cloud-init fails to execute it (Exec format error); not run`);
      failed = true;
      continue;
    }
    const st = await runScript(ctx, s.name, s.body.toString('utf8'), m);
    if (st === 'failed') failed = true;
  }
  if (failed) return 'failed';
}

export { readIn, resolveIn, writeIn, mkdirIn, symlinkIn };
