// Readers for the configuration a CIS scan looks at, each with the precedence rules of the program that
// reads it on a running Debian 12 system. Every value keeps the file and line it came from.

import path from 'node:path';
import { cmpC, globToRegExp, stripComment, type Line, type RootFs } from './rootfs.ts';

// ---------------------------------------------------------------------------------------------- sysctl

/**
 * Directories systemd-sysctl reads, highest priority first. A file name present in several of them is
 * read only from the first (so /etc/sysctl.d/x.conf replaces /usr/lib/sysctl.d/x.conf); all the files
 * kept are applied in lexical order of their names, and a later assignment of a key wins.
 */
export const SYSCTL_DIRS = ['/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d', '/lib/sysctl.d'];

export interface SysctlValue {
  key: string;
  value: string;
  at: Line;
}

export interface Sysctl {
  /** The value the configuration leaves (last assignment), or undefined when no file sets the key. */
  get(key: string): SysctlValue | undefined;
  /** Every assignment of a key in order, for explanations. */
  history(key: string): SysctlValue[];
  files: string[];
}

export function normSysctlKey(k: string): string {
  return k.trim().replace(/\//g, '.');
}

export function parseSysctl(fs: RootFs): Sysctl {
  const byName = new Map<string, string>();
  for (const dir of SYSCTL_DIRS) {
    for (const f of fs.listFiles(dir, '.conf')) {
      const name = path.posix.basename(f);
      if (!byName.has(name)) byName.set(name, f);
    }
  }
  const files = [...byName.keys()].sort(cmpC).map((n) => byName.get(n)!);
  // procps's `sysctl --system` reads /etc/sysctl.conf after the directories; Debian links it as
  // /etc/sysctl.d/99-sysctl.conf so that systemd-sysctl reads it too, in that position.
  const linked = files.some((f) => fs.resolve(f) === fs.resolve('/etc/sysctl.conf'));
  if (!linked && fs.exists('/etc/sysctl.conf')) files.push('/etc/sysctl.conf');
  const assignments: SysctlValue[] = [];
  for (const f of files) {
    for (const l of fs.lines(f)) {
      const t = l.text.trim();
      if (!t || t.startsWith('#') || t.startsWith(';')) continue;
      const eq = t.indexOf('=');
      if (eq < 0) continue;
      const key = normSysctlKey(t.slice(0, eq).replace(/^-/, ''));
      assignments.push({ key, value: t.slice(eq + 1).trim(), at: l });
    }
  }
  const matches = (pattern: string, key: string) => (pattern.includes('*') ? globToRegExp(pattern.replace(/\./g, '/')).test(key.replace(/\./g, '/')) : pattern === key);
  const history = (key: string) => assignments.filter((a) => matches(a.key, key));
  return { get: (key) => history(key).at(-1), history, files };
}

// -------------------------------------------------------------------------------------------- modprobe

/** kmod's configuration directories, highest priority first (same-name files: the first one is read). */
export const MODPROBE_DIRS = ['/etc/modprobe.d', '/run/modprobe.d', '/usr/local/lib/modprobe.d', '/usr/lib/modprobe.d', '/lib/modprobe.d'];

export interface Modprobe {
  /** The install command kmod uses for a module: the first `install` line for it, in file order. */
  install(mod: string): { command: string; at: Line } | undefined;
  blacklist(mod: string): Line | undefined;
  files: string[];
}

export function normModule(m: string): string {
  return m.replace(/-/g, '_');
}

export function parseModprobe(fs: RootFs): Modprobe {
  const byName = new Map<string, string>();
  for (const dir of MODPROBE_DIRS) {
    for (const f of fs.listFiles(dir, '.conf')) {
      const name = path.posix.basename(f);
      if (!byName.has(name)) byName.set(name, f);
    }
  }
  const files = [...byName.keys()].sort(cmpC).map((n) => byName.get(n)!);
  const installs: { mod: string; command: string; at: Line }[] = [];
  const blacklists: { mod: string; at: Line }[] = [];
  for (const f of files) {
    // A line ending in a backslash continues on the next one.
    const ls = fs.lines(f);
    for (let i = 0; i < ls.length; i++) {
      const at = ls[i]!;
      let t = at.text;
      while (t.endsWith('\\') && i + 1 < ls.length) t = t.slice(0, -1) + ' ' + ls[++i]!.text;
      t = t.trim();
      if (!t || t.startsWith('#')) continue;
      const [cmd, mod, ...rest] = t.split(/\s+/);
      if (!mod) continue;
      if (cmd === 'install') installs.push({ mod: normModule(mod), command: rest.join(' '), at });
      else if (cmd === 'blacklist') blacklists.push({ mod: normModule(mod), at });
    }
  }
  return {
    install: (m) => installs.find((x) => x.mod === normModule(m)),
    blacklist: (m) => blacklists.find((x) => x.mod === normModule(m))?.at,
    files,
  };
}

// ----------------------------------------------------------------------------------------------- fstab

export interface FstabEntry {
  spec: string;
  mountpoint: string;
  type: string;
  options: string[];
  at: Line;
}

export function parseFstab(fs: RootFs): FstabEntry[] {
  const out: FstabEntry[] = [];
  for (const l of fs.lines('/etc/fstab')) {
    const t = l.text.trim();
    if (!t || t.startsWith('#')) continue;
    const [spec, mountpoint, type = '', options = 'defaults'] = t.split(/\s+/);
    if (!spec || !mountpoint) continue;
    out.push({ spec, mountpoint: mountpoint.replace(/\/+$/, '') || '/', type, options: options.split(','), at: l });
  }
  return out;
}

// --------------------------------------------------------------------------------------------- systemd

/** Unit search path for enablement, highest priority first. */
export const UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/usr/local/lib/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system'];

export type UnitState = 'not-found' | 'masked' | 'enabled' | 'disabled' | 'static' | 'alias';

export interface UnitInfo {
  unit: string;
  state: UnitState;
  /** The unit file (inside the root), when found. */
  file?: string;
  /** Evidence: the mask link or the wants/ links that enable it. */
  evidence: string[];
}

export class Systemd {
  constructor(private readonly fs: RootFs) {}

  private wantsLinks(): Map<string, string[]> {
    const m = new Map<string, string[]>();
    for (const base of ['/etc/systemd/system', '/run/systemd/system']) {
      for (const d of this.fs.list(base)) {
        if (!/\.(wants|requires)$/.test(d)) continue;
        for (const u of this.fs.list(`${base}/${d}`)) {
          const link = `${base}/${d}/${u}`;
          const target = this.fs.readlink(link);
          const unit = target ? path.posix.basename(target) : u;
          // An enablement link may name an alias of the unit (ssh.service -> sshd.service).
          for (const n of new Set([u, unit])) m.set(n, [...(m.get(n) ?? []), `${link} -> ${target ?? u}`]);
        }
      }
    }
    return m;
  }

  private cache?: Map<string, string[]>;

  unit(name: string): UnitInfo {
    for (const dir of UNIT_DIRS) {
      const p = `${dir}/${name}`;
      const link = this.fs.readlink(p);
      if (link === '/dev/null' || (link === null && this.fs.exists(p) && this.fs.resolve(p) === '/dev/null')) {
        return { unit: name, state: 'masked', evidence: [`${p} -> /dev/null`] };
      }
      if (!this.fs.exists(p)) continue;
      if (link !== null && dir === '/etc/systemd/system') {
        // /etc/systemd/system/<alias> -> real unit: an alias created by `systemctl enable`.
        const real = path.posix.basename(link);
        if (real !== name) {
          const inner = this.unit(real);
          return { ...inner, unit: name, evidence: [`${p} -> ${link}`, ...inner.evidence] };
        }
      }
      const text = this.fs.read(p) ?? '';
      this.cache ??= this.wantsLinks();
      const links = this.cache.get(name) ?? [];
      if (links.length) return { unit: name, state: 'enabled', file: p, evidence: links };
      const install = /^\s*\[Install\]/m.test(text) && /^\s*(WantedBy|RequiredBy|Alias|Also)\s*=/m.test(text);
      return { unit: name, state: install ? 'disabled' : 'static', file: p, evidence: [p] };
    }
    return { unit: name, state: 'not-found', evidence: [] };
  }
}

// ------------------------------------------------------------------------------------------------ dpkg

export interface DpkgPackage {
  name: string;
  version: string;
  status: string;
  at: Line;
}

export function parseDpkgStatus(fs: RootFs): Map<string, DpkgPackage> {
  const out = new Map<string, DpkgPackage>();
  const file = '/var/lib/dpkg/status';
  let cur: Partial<DpkgPackage> = {};
  const flush = () => {
    if (cur.name && cur.status?.endsWith(' installed') && cur.status.startsWith('install')) out.set(cur.name, cur as DpkgPackage);
    cur = {};
  };
  for (const l of fs.lines(file)) {
    if (!l.text.trim()) {
      flush();
      continue;
    }
    const m = /^(Package|Status|Version):\s*(.*)$/.exec(l.text);
    if (!m) continue;
    if (m[1] === 'Package') cur = { name: m[2]!, at: l };
    else if (m[1] === 'Status') cur.status = m[2]!;
    else cur.version = m[2]!;
  }
  flush();
  return out;
}

// ---------------------------------------------------------------------------------------- key = value

/** `key value` or `key = value` files (login.defs, faillock.conf, pwquality.conf, journald.conf...). */
export function keyValues(fs: RootFs, file: string, sep: RegExp = /\s*=\s*|\s+/): { key: string; value: string; at: Line }[] {
  const out: { key: string; value: string; at: Line }[] = [];
  for (const l of fs.lines(file)) {
    const t = stripComment(l.text);
    if (!t || t.startsWith('[') || t.startsWith(';')) continue;
    const m = sep.exec(t);
    if (!m) {
      out.push({ key: t, value: '', at: l });
      continue;
    }
    out.push({ key: t.slice(0, m.index), value: t.slice(m.index + m[0].length).replace(/^"(.*)"$/, '$1'), at: l });
  }
  return out;
}

/** login.defs: a key set twice takes its last value (shadow's getdef reads the file into a table). */
export function loginDefs(fs: RootFs): Map<string, { value: string; at: Line }> {
  const m = new Map<string, { value: string; at: Line }>();
  for (const kv of keyValues(fs, '/etc/login.defs', /\s+/)) m.set(kv.key, { value: kv.value, at: kv.at });
  return m;
}

/**
 * A systemd-style configuration (journald.conf): the main file, then drop-ins `<name>.d/*.conf` from
 * /etc, /run, /usr/lib (same-name override, lexical order), later values win. Only the [section] asked.
 */
export function systemdConf(fs: RootFs, name: string, section: string): Map<string, { value: string; at: Line }> {
  const files = [`/etc/systemd/${name}`];
  const byName = new Map<string, string>();
  for (const dir of [`/etc/systemd/${name}.d`, `/run/systemd/${name}.d`, `/usr/local/lib/systemd/${name}.d`, `/usr/lib/systemd/${name}.d`]) {
    for (const f of fs.listFiles(dir, '.conf')) if (!byName.has(path.posix.basename(f))) byName.set(path.posix.basename(f), f);
  }
  files.push(...[...byName.keys()].sort(cmpC).map((n) => byName.get(n)!));
  const m = new Map<string, { value: string; at: Line }>();
  for (const f of files) {
    let sec = '';
    for (const l of fs.lines(f)) {
      const t = l.text.trim();
      if (!t || t.startsWith('#') || t.startsWith(';')) continue;
      const s = /^\[(.+)\]$/.exec(t);
      if (s) {
        sec = s[1]!;
        continue;
      }
      if (sec !== section) continue;
      const eq = t.indexOf('=');
      if (eq > 0) m.set(t.slice(0, eq).trim(), { value: t.slice(eq + 1).trim(), at: l });
    }
  }
  return m;
}

// ------------------------------------------------------------------------------------------------- PAM

export interface PamLine {
  type: string;
  control: string;
  module: string;
  args: string[];
  at: Line;
}

/** A PAM service file with `@include` expanded in place (Debian's common-* files). */
export function pamStack(fs: RootFs, service: string, depth = 0): PamLine[] {
  const out: PamLine[] = [];
  if (depth > 8) return out;
  const ls = fs.lines(`/etc/pam.d/${service}`);
  for (let i = 0; i < ls.length; i++) {
    const at = ls[i]!;
    let t = at.text;
    while (t.endsWith('\\') && i + 1 < ls.length) t = t.slice(0, -1) + ' ' + ls[++i]!.text;
    t = t.replace(/#.*$/, '').trim();
    if (!t) continue;
    const inc = /^@include\s+(\S+)/.exec(t);
    if (inc) {
      out.push(...pamStack(fs, inc[1]!, depth + 1));
      continue;
    }
    // control may be [a=b c=d] with spaces inside brackets
    const m = /^-?(\S+)\s+(\[[^\]]*\]|\S+)\s+(\S+)\s*(.*)$/.exec(t);
    if (!m) continue;
    out.push({ type: m[1]!, control: m[2]!, module: path.posix.basename(m[3]!), args: m[4] ? m[4].split(/\s+/) : [], at });
  }
  return out;
}

export function pamArg(line: PamLine, name: string): string | undefined {
  for (const a of line.args) {
    if (a === name) return '';
    if (a.startsWith(name + '=')) return a.slice(name.length + 1);
  }
  return undefined;
}

/**
 * libpwquality's settings: /etc/security/pwquality.conf.d/*.conf first (lexical order), then
 * /etc/security/pwquality.conf, which therefore wins; the PAM module's arguments are applied last and
 * beat both. Later values of a key replace earlier ones.
 */
export function pwquality(fs: RootFs, pamLine?: PamLine): Map<string, { value: string; at: Line }> {
  const m = new Map<string, { value: string; at: Line }>();
  const files = [...fs.listFiles('/etc/security/pwquality.conf.d', '.conf'), '/etc/security/pwquality.conf'];
  for (const f of files) for (const kv of keyValues(fs, f)) m.set(kv.key, { value: kv.value, at: kv.at });
  if (pamLine) {
    for (const a of pamLine.args) {
      const [k, v = ''] = a.split('=');
      if (k) m.set(k, { value: v, at: pamLine.at });
    }
  }
  return m;
}

// ------------------------------------------------------------------------------------------------ audit

export interface AuditRule {
  text: string;
  at: Line;
  /** -w path (watch) */
  watch?: string;
  perms?: string;
  key?: string;
  /** -a action,list */
  action?: string;
  syscalls: string[];
  fields: string[];
}

/** The rules augenrules concatenates: /etc/audit/rules.d/*.rules in lexical order. */
export function auditRules(fs: RootFs): AuditRule[] {
  const out: AuditRule[] = [];
  for (const f of fs.listFiles('/etc/audit/rules.d', '.rules')) {
    for (const at of fs.lines(f)) {
      const t = at.text.trim();
      if (!t || t.startsWith('#')) continue;
      const toks = t.split(/\s+/);
      const r: AuditRule = { text: t, at, syscalls: [], fields: [] };
      for (let i = 0; i < toks.length; i++) {
        const k = toks[i]!;
        const v = toks[i + 1];
        if (k === '-w') r.watch = v, i++;
        else if (k === '-p') r.perms = v, i++;
        else if (k === '-k') r.key = v, i++;
        else if (k === '-a' || k === '-A') r.action = v, i++;
        else if (k === '-S') r.syscalls.push(...(v ?? '').split(',')), i++;
        else if (k === '-F') {
          r.fields.push(v ?? '');
          if (v?.startsWith('key=')) r.key = v.slice(4);
          i++;
        }
      }
      out.push(r);
    }
  }
  return out;
}

// --------------------------------------------------------------------------------------- passwd & co

export interface PasswdEntry {
  name: string;
  password: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
  at: Line;
}

export function parsePasswd(fs: RootFs): PasswdEntry[] {
  return fs.lines('/etc/passwd').filter((l) => l.text.includes(':')).map((l) => {
    const [name = '', password = '', uid = '', gid = '', , home = '', shell = ''] = l.text.split(':');
    return { name, password, uid: Number(uid), gid: Number(gid), home, shell, at: l };
  });
}

export interface ShadowEntry {
  name: string;
  hash: string;
  lastChange: string;
  min: string;
  max: string;
  warn: string;
  inactive: string;
  at: Line;
}

export function parseShadow(fs: RootFs): ShadowEntry[] {
  return fs.lines('/etc/shadow').filter((l) => l.text.includes(':')).map((l) => {
    const [name = '', hash = '', lastChange = '', min = '', max = '', warn = '', inactive = ''] = l.text.split(':');
    return { name, hash, lastChange, min, max, warn, inactive, at: l };
  });
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
  at: Line;
}

export function parseGroup(fs: RootFs): GroupEntry[] {
  return fs.lines('/etc/group').filter((l) => l.text.includes(':')).map((l) => {
    const [name = '', , gid = '', members = ''] = l.text.split(':');
    return { name, gid: Number(gid), members: members.split(',').filter(Boolean), at: l };
  });
}

/** sudoers with `@includedir`/`#includedir` (files without '.' or ending in '~') and `@include`. */
export function sudoersLines(fs: RootFs): Line[] {
  const out: Line[] = [];
  const read = (f: string, depth: number) => {
    if (depth > 8) return;
    for (const l of fs.lines(f)) {
      const t = l.text.trim();
      const dir = /^[#@]includedir\s+(\S+)/.exec(t);
      const inc = /^[#@]include\s+(\S+)/.exec(t);
      if (dir) {
        for (const n of fs.list(dir[1]!)) if (!n.includes('.') && !n.endsWith('~')) read(path.posix.join(dir[1]!, n), depth + 1);
      } else if (inc) read(inc[1]!, depth + 1);
      else if (t && !t.startsWith('#')) out.push(l);
    }
  };
  read('/etc/sudoers', 0);
  return out;
}
