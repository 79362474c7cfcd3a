// What the web server's sshd would do for one connection, read from the instance's root folder (the
// host model): the effective values of the keywords that decide who logs in and how, with OpenSSH's
// own semantics (servconf.c, auth.c, auth2-pubkey.c of OpenSSH 9.2p1, Debian 12):
// - the global configuration: the FIRST value obtained wins (parseSshd reads the files in sshd's order,
//   Include in place, drop-ins in lexical order);
// - then the Match blocks are read again for this connection (parse_server_match_config): a fresh set
//   of options where, again, the first matching value wins, copied over the global values
//   (copy_set_server_options). AllowUsers/DenyUsers/AllowGroups/DenyGroups accumulate inside the
//   matching blocks and then REPLACE the global lists; AuthorizedKeysFile and AuthenticationMethods take
//   their first line only;
// - Match criteria: User, Group (the root's /etc/group, with the primary group from /etc/passwd),
//   Host, Address and LocalAddress (CIDR), LocalPort, all; comma lists with wildcards * ? and negation !
//   (a negated match fails the criterion); every criterion of a line must match;
// - UsePAM and StrictModes are global only (not allowed inside Match: sshd refuses to start).
// passwordLogin and keyLogin then follow auth.c allowed() and the method checks.
import { BlockList, isIP } from 'node:net';
import path from 'node:path';
import { RootFs } from '../../src/controls/cis/rootfs.ts';
import { parseSshd, algorithmList, type SshdConfig, type SshdDirective } from '../../src/controls/cis/sshd.ts';

/** The keywords sshdFor reports. */
export const SSH_KEYWORDS = [
  'passwordauthentication', 'kbdinteractiveauthentication', 'pubkeyauthentication', 'permitrootlogin', 'maxauthtries',
  'permitemptypasswords', 'allowusers', 'allowgroups', 'denyusers', 'denygroups', 'authorizedkeysfile',
  'pubkeyacceptedalgorithms', 'authenticationmethods', 'usepam', 'strictmodes',
] as const;
export type SshKeyword = (typeof SSH_KEYWORDS)[number];

/** OpenSSH 9.2p1's compiled-in defaults (what `sshd -T` prints with an empty configuration). */
export const PUBKEY_ALGORITHMS_DEFAULT = 'ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256';
export const SSH_DEFAULTS: Record<SshKeyword, string> = {
  passwordauthentication: 'yes',
  kbdinteractiveauthentication: 'yes',
  pubkeyauthentication: 'yes',
  permitrootlogin: 'prohibit-password',
  maxauthtries: '6',
  permitemptypasswords: 'no',
  allowusers: '',
  allowgroups: '',
  denyusers: '',
  denygroups: '',
  authorizedkeysfile: '.ssh/authorized_keys .ssh/authorized_keys2',
  pubkeyacceptedalgorithms: PUBKEY_ALGORITHMS_DEFAULT,
  authenticationmethods: 'any',
  usepam: 'no',
  strictmodes: 'yes',
};

/** Old names sshd still reads as the same option. */
const ALIASES: Record<string, string> = {
  challengeresponseauthentication: 'kbdinteractiveauthentication',
  pubkeyacceptedkeytypes: 'pubkeyacceptedalgorithms',
};
const LISTS = new Set(['allowusers', 'allowgroups', 'denyusers', 'denygroups']);
const GLOBAL_ONLY = new Set(['usepam', 'strictmodes']);
const FLAGS = new Set(['passwordauthentication', 'kbdinteractiveauthentication', 'pubkeyauthentication', 'permitemptypasswords', 'usepam', 'strictmodes']);

export interface Connection {
  user: string;
  /** The client's address. */
  address: string;
  /** Its host name (default: the address, as sshd has it with UseDNS no). */
  host?: string;
  /** The server's address and port the client reached (default 10.0.0.10 and 22). */
  localAddress?: string;
  localPort?: number;
}

export interface SshdView {
  settings: Record<SshKeyword, string>;
  /** Where each value came from: file:line (the Match line noted), or "default". */
  evidence: Record<SshKeyword, string>;
  /** The configuration files sshd reads, in order. */
  files: string[];
  exists: boolean;
}

export interface Verdict {
  ok: boolean;
  /** Refused: every reason it is refused. Allowed: what allows it, with file:line. */
  reasons: string[];
}

// ---- accounts ----------------------------------------------------------------------------------

export interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
  /** The shadow password field (undefined: no shadow entry). */
  password?: string;
  groups: string[];
}

const asFs = (root: string | RootFs): RootFs => (typeof root === 'string' ? new RootFs(root) : root);

export function account(root: string | RootFs, user: string): Account | undefined {
  const fs = asFs(root);
  const pw = (fs.read('/etc/passwd') ?? '').split('\n').map((l) => l.split(':')).find((f) => f[0] === user && f.length >= 7);
  if (!pw) return undefined;
  const gid = Number(pw[3]);
  const sh = (fs.read('/etc/shadow') ?? '').split('\n').map((l) => l.split(':')).find((f) => f[0] === user);
  const groups: string[] = [];
  for (const l of (fs.read('/etc/group') ?? '').split('\n')) {
    const f = l.split(':');
    if (f.length < 3 || !f[0]) continue;
    const members = (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean);
    if (Number(f[2]) === gid || members.includes(user)) groups.push(f[0]);
  }
  const password = pw[1] === 'x' ? sh?.[1] : pw[1];
  return { name: user, uid: Number(pw[2]), gid, home: pw[5] || '/', shell: pw[6] || '/bin/sh', ...(password !== undefined ? { password } : {}), groups };
}

/** Every account of the root's /etc/passwd (names). */
export function accounts(root: string | RootFs): string[] {
  return (asFs(root).read('/etc/passwd') ?? '').split('\n').map((l) => l.split(':')[0]!).filter(Boolean);
}

// ---- patterns (match.c) --------------------------------------------------------------------------

/** match_pattern: * and ? wildcards, whole string. */
export function matchPattern(s: string, pattern: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
  return re.test(s);
}

/** match_pattern_list: 1 a positive match, -1 a negated match, 0 none. */
export function matchPatternList(s: string, list: string, lower = false): 1 | 0 | -1 {
  const v = lower ? s.toLowerCase() : s;
  let got = 0 as 1 | 0;
  for (const raw of list.split(',')) {
    const neg = raw.startsWith('!');
    const p = neg ? raw.slice(1) : raw;
    if (!p) continue;
    if (matchPattern(v, lower ? p.toLowerCase() : p)) {
      if (neg) return -1;
      got = 1;
    }
  }
  return got;
}

function cidrMatch(address: string, entry: string): boolean | undefined {
  const m = /^([^/]+)(?:\/(\d+))?$/.exec(entry);
  if (!m) return undefined;
  const fam = isIP(m[1]!);
  if (!fam) return undefined;
  const type = fam === 6 ? 'ipv6' : 'ipv4';
  const bits = m[2] !== undefined ? Number(m[2]) : fam === 6 ? 128 : 32;
  if (isIP(address) !== fam) return false;
  const b = new BlockList();
  b.addSubnet(m[1]!, bits, type);
  return b.check(address, type);
}

/** addr_match_list: CIDR entries or wildcard patterns against the address, ! negates. */
export function addrMatchList(address: string, list: string): 1 | 0 | -1 {
  let got = 0 as 1 | 0;
  for (const raw of list.split(',')) {
    const neg = raw.startsWith('!');
    const p = neg ? raw.slice(1) : raw;
    if (!p) continue;
    const c = cidrMatch(address, p);
    const hit = c === undefined ? matchPattern(address, p) : c;
    if (hit) {
      if (neg) return -1;
      got = 1;
    }
  }
  return got;
}

/** Does a Match line's criteria (the text after "Match") select this connection? */
export function matchSelects(criteria: string, c: Required<Connection>, acct: Account | undefined): boolean {
  const toks = criteria.trim().split(/\s+/).flatMap((t) => (/^[A-Za-z]+=/.test(t) ? [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)] : [t]));
  if (!toks.length || !toks[0]) return false;
  let result = true;
  for (let i = 0; i < toks.length; i++) {
    const kw = toks[i]!.toLowerCase();
    if (kw === 'all') continue;
    const arg = toks[++i];
    if (arg === undefined) return false;
    switch (kw) {
      case 'user': if (matchPatternList(c.user, arg) !== 1) result = false; break;
      case 'group': {
        if (!acct) { result = false; break; }
        // ga_match_pattern_list: a negated match of any group fails; otherwise one positive match.
        let found = false;
        let negated = false;
        for (const g of acct.groups) {
          const r = matchPatternList(g, arg);
          if (r === -1) negated = true;
          else if (r === 1) found = true;
        }
        if (negated || !found) result = false;
        break;
      }
      case 'host': if (matchPatternList(c.host, arg, true) !== 1) result = false; break;
      case 'address': if (addrMatchList(c.address, arg) !== 1) result = false; break;
      case 'localaddress': if (addrMatchList(c.localAddress, arg) !== 1) result = false; break;
      case 'localport': if (Number(arg) !== c.localPort) result = false; break;
      default: result = false; // RDomain, unknown criteria: not this connection
    }
  }
  return result;
}

// ---- effective configuration ---------------------------------------------------------------------

const where = (d: SshdDirective): string => `${d.at.file}:${d.at.line}${d.match !== undefined ? ` (Match ${d.match})` : ''}`;

function normalize(k: SshKeyword, v: string): string {
  if (FLAGS.has(k)) return v.toLowerCase();
  if (k === 'permitrootlogin') {
    const x = v.toLowerCase();
    return x === 'without-password' ? 'prohibit-password' : x;
  }
  if (k === 'pubkeyacceptedalgorithms') return algorithmList(v, PUBKEY_ALGORITHMS_DEFAULT).join(',');
  return v.trim().split(/\s+/).join(' ');
}

function withConnection(c: Connection): Required<Connection> {
  return { user: c.user, address: c.address, host: c.host ?? c.address, localAddress: c.localAddress ?? '10.0.0.10', localPort: c.localPort ?? 22 };
}

/** The effective sshd settings for one connection, as `sshd -T -C user=…,addr=…,host=…` prints them. */
export function sshdFor(root: string | RootFs, conn: Connection, cfg?: SshdConfig): SshdView {
  const fs = asFs(root);
  const config = cfg ?? parseSshd(fs);
  const c = withConnection(conn);
  const acct = account(fs, c.user);
  const dirs = config.directives.map((d) => ({ ...d, keyword: ALIASES[d.keyword] ?? d.keyword }));
  const cache = new Map<string, boolean>();
  const selects = (m: string): boolean => {
    if (!cache.has(m)) cache.set(m, matchSelects(m, c, acct));
    return cache.get(m)!;
  };
  const settings = {} as Record<SshKeyword, string>;
  const evidence = {} as Record<SshKeyword, string>;
  for (const k of SSH_KEYWORDS) {
    const global = dirs.filter((d) => d.keyword === k && d.match === undefined);
    const matched = GLOBAL_ONLY.has(k) ? [] : dirs.filter((d) => d.keyword === k && d.match !== undefined && selects(d.match));
    const pick = matched.length ? matched : global;
    if (!pick.length) {
      settings[k] = SSH_DEFAULTS[k];
      evidence[k] = 'default (OpenSSH 9.2p1)';
    } else if (LISTS.has(k)) {
      settings[k] = pick.map((d) => normalize(k, d.value)).filter(Boolean).join(' ');
      evidence[k] = pick.map(where).join(', ');
    } else {
      settings[k] = normalize(k, pick[0]!.value);
      evidence[k] = where(pick[0]!);
    }
  }
  return { settings, evidence, files: config.files, exists: config.exists };
}

// ---- who may log in --------------------------------------------------------------------------------

const NO_SHELL = /(^|\/)(nologin|false)$/;

function shellProblem(fs: RootFs, a: Account): string | undefined {
  if (NO_SHELL.test(a.shell)) return `${a.name}'s shell is ${a.shell} (/etc/passwd): no login shell`;
  const st = fs.stat(a.shell);
  if (!st?.isFile || !(st.mode & 0o111)) return `${a.name}'s shell ${a.shell} is not an executable file in the instance (sshd refuses the account)`;
  return undefined;
}

/** match_user: "user" or "user@host" (host part: host name pattern or address/CIDR). */
function matchUserEntry(user: string, c: Required<Connection>, entry: string): boolean {
  const at = entry.lastIndexOf('@');
  if (at < 0) return matchPattern(user, entry);
  if (!matchPattern(user, entry.slice(0, at))) return false;
  const hp = entry.slice(at + 1);
  return addrMatchList(c.address, hp) === 1 || matchPatternList(c.host, hp, true) === 1;
}

/** auth.c allowed(): DenyUsers, AllowUsers, DenyGroups, AllowGroups, in that order. */
function listProblems(v: SshdView, a: Account, c: Required<Connection>): string[] {
  const out: string[] = [];
  const s = v.settings;
  const entries = (k: SshKeyword) => s[k].split(/\s+/).filter(Boolean);
  const deniedBy = entries('denyusers').find((e) => matchUserEntry(a.name, c, e));
  if (deniedBy) out.push(`DenyUsers ${deniedBy} refuses ${a.name} (${v.evidence.denyusers})`);
  const allowUsers = entries('allowusers');
  if (allowUsers.length && !allowUsers.some((e) => matchUserEntry(a.name, c, e))) out.push(`AllowUsers ${allowUsers.join(' ')} does not name ${a.name} (${v.evidence.allowusers})`);
  const deniedGroup = entries('denygroups').find((p) => a.groups.some((g) => matchPattern(g, p)));
  if (deniedGroup) out.push(`DenyGroups ${deniedGroup} refuses ${a.name} (${v.evidence.denygroups})`);
  const allowGroups = entries('allowgroups');
  if (allowGroups.length && !allowGroups.some((p) => a.groups.some((g) => matchPattern(g, p)))) out.push(`AllowGroups ${allowGroups.join(' ')}: ${a.name} is in none of them (groups: ${a.groups.join(', ') || 'none'}) (${v.evidence.allowgroups})`);
  return out;
}

/** The AuthenticationMethods lists (each a list of methods, all required). */
function methodLists(v: SshdView): string[][] | null {
  const am = v.settings.authenticationmethods;
  if (am === 'any') return null;
  return am.split(/\s+/).filter(Boolean).map((l) => l.split(',').map((m) => m.split(':')[0]!));
}

/**
 * Could a password (or keyboard-interactive, which with UsePAM asks the password) log `user` in from
 * `address`? ok: a password guesser has something to guess.
 */
export function passwordLogin(root: string | RootFs, user: string, address: string, o: { host?: string; localAddress?: string; localPort?: number } = {}): Verdict {
  const fs = asFs(root);
  const c = withConnection({ user, address, ...o });
  const v = sshdFor(fs, c);
  const s = v.settings;
  const why: string[] = [];
  const allows: string[] = [];
  const a = account(fs, user);
  if (!a) return { ok: false, reasons: [`no account ${user} in /etc/passwd`] };
  // The methods a password guesser can use.
  const methods: string[] = [];
  if (s.passwordauthentication === 'yes') methods.push('password');
  if (s.kbdinteractiveauthentication === 'yes' && s.usepam === 'yes') methods.push('keyboard-interactive');
  if (!methods.length) {
    why.push(`sshd accepts no password: PasswordAuthentication ${s.passwordauthentication} (${v.evidence.passwordauthentication}), KbdInteractiveAuthentication ${s.kbdinteractiveauthentication} (${v.evidence.kbdinteractiveauthentication})${s.usepam !== 'yes' ? `, UsePAM ${s.usepam}` : ''}`);
  } else {
    for (const m of methods) allows.push(m === 'password' ? `PasswordAuthentication yes (${v.evidence.passwordauthentication})` : `KbdInteractiveAuthentication yes (${v.evidence.kbdinteractiveauthentication}) with UsePAM yes (${v.evidence.usepam})`);
  }
  const lists = methodLists(v);
  if (lists && !lists.some((l) => l.every((m) => methods.includes(m)))) {
    why.push(`AuthenticationMethods ${s.authenticationmethods} requires more than a password (${v.evidence.authenticationmethods})`);
  }
  why.push(...listProblems(v, a, c));
  if (a.uid === 0 && s.permitrootlogin !== 'yes') why.push(`PermitRootLogin ${s.permitrootlogin} (${v.evidence.permitrootlogin}): no password for ${user}`);
  else if (a.uid === 0) allows.push(`PermitRootLogin yes (${v.evidence.permitrootlogin})`);
  const pw = a.password;
  if (pw === undefined) why.push(`${user} has no entry in /etc/shadow: no password`);
  else if (pw === '') {
    if (s.permitemptypasswords !== 'yes') why.push(`${user}'s password is empty and PermitEmptyPasswords ${s.permitemptypasswords} (${v.evidence.permitemptypasswords}) refuses it`);
    else allows.push(`${user}'s password is EMPTY and PermitEmptyPasswords yes (${v.evidence.permitemptypasswords})`);
  } else if (pw.startsWith('!') || pw.startsWith('*')) why.push(`${user}'s password is locked or unset (/etc/shadow: "${pw.slice(0, 2)}…")`);
  else if (!pw.startsWith('$') && pw.length !== 13) why.push(`${user}'s password field is not a usable hash`);
  else allows.push(`${user} has a password (/etc/shadow)`);
  const shell = shellProblem(fs, a);
  if (shell) why.push(shell);
  return why.length ? { ok: false, reasons: why } : { ok: true, reasons: allows };
}

// ---- keys ---------------------------------------------------------------------------------------------

export interface AuthorizedKey {
  options: Record<string, string | true>;
  type: string;
  blob: string;
  comment: string;
  line: number;
}

const KEY_TYPE = /^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp\d+|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com|ssh-(rsa|ed25519|dss)-cert-v01@openssh\.com|ecdsa-sha2-nistp\d+-cert-v01@openssh\.com)$/;

/** One authorized_keys line: [options] keytype base64 [comment]. */
export function parseAuthorizedKey(text: string, line = 0): AuthorizedKey | undefined {
  const t = text.trim();
  if (!t || t.startsWith('#')) return undefined;
  let rest = t;
  const options: Record<string, string | true> = {};
  const first = t.split(/\s+/)[0]!;
  if (!KEY_TYPE.test(first)) {
    // Options up to the first whitespace outside quotes.
    let i = 0;
    let q = false;
    for (; i < t.length; i++) {
      const ch = t[i]!;
      if (ch === '\\' && q) { i++; continue; }
      if (ch === '"') q = !q;
      else if (!q && /\s/.test(ch)) break;
    }
    const opts = t.slice(0, i);
    rest = t.slice(i).trim();
    let cur = '';
    q = false;
    const parts: string[] = [];
    for (let j = 0; j < opts.length; j++) {
      const ch = opts[j]!;
      if (ch === '\\' && q) { cur += ch + (opts[j + 1] ?? ''); j++; continue; }
      if (ch === '"') q = !q;
      if (ch === ',' && !q) { parts.push(cur); cur = ''; } else cur += ch;
    }
    if (cur) parts.push(cur);
    for (const p of parts) {
      const eq = p.indexOf('=');
      if (eq < 0) options[p.toLowerCase()] = true;
      else options[p.slice(0, eq).toLowerCase()] = p.slice(eq + 1).replace(/^"|"$/g, '');
    }
  }
  const f = rest.split(/\s+/);
  if (!f[0] || !KEY_TYPE.test(f[0]) || !f[1]) return undefined;
  return { options, type: f[0], blob: f[1], comment: f.slice(2).join(' '), line };
}

/** The algorithms a key of this type signs with (an ssh-rsa key signs with rsa-sha2-*). */
function algorithmsOf(type: string): string[] {
  if (type === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  if (type === 'ssh-rsa-cert-v01@openssh.com') return ['rsa-sha2-512-cert-v01@openssh.com', 'rsa-sha2-256-cert-v01@openssh.com', 'ssh-rsa-cert-v01@openssh.com'];
  return [type];
}

/** auth_secure_path with StrictModes: the file, then each folder up to the home folder (or /). */
function strictModeProblems(fs: RootFs, file: string, a: Account): string[] {
  const out: string[] = [];
  const check = (p: string, kind: 'file' | 'folder'): boolean => {
    const st = fs.stat(p);
    if (!st) return false;
    if (kind === 'file' && !st.isFile) { out.push(`${p} is not a regular file`); return false; }
    if (st.uid !== 0 && st.uid !== a.uid) out.push(`bad ownership of ${kind} ${p}: uid ${st.uid}, not ${a.name} (${a.uid}) or root`);
    if (st.mode & 0o022) out.push(`bad modes for ${kind} ${p}: ${(st.mode & 0o7777).toString(8).padStart(4, '0')} (group or others may write it)`);
    return true;
  };
  const real = fs.resolve(file) ?? file;
  if (!check(real, 'file')) return out;
  const home = fs.resolve(a.home) ?? a.home;
  let dir = path.posix.dirname(real);
  for (;;) {
    check(dir, 'folder');
    if (dir === home || dir === '/') break;
    dir = path.posix.dirname(dir);
  }
  return out;
}

function expandTokens(p: string, a: Account): string {
  const s = p.replace(/%(.)/g, (m, ch: string) => (ch === 'h' ? a.home : ch === 'u' ? a.name : ch === '%' ? '%' : ch === 'U' ? String(a.uid) : m));
  return s.startsWith('/') ? s : path.posix.join(a.home, s);
}

/** from="pattern-list" of an authorized_keys line (addresses, CIDR or host names; ! negates). */
function fromAllows(list: string, c: Required<Connection>): boolean {
  // match_host_and_ip: a negated match of either refuses; otherwise one positive match is needed.
  const host = matchPatternList(c.host, list, true);
  const ip = addrMatchList(c.address, list);
  if (host === -1 || ip === -1) return false;
  return host === 1 || ip === 1;
}

/**
 * Could this admin log in to a shell with their key? `publicKeyLine`: "ssh-ed25519 AAAA… comment" (the
 * key type and the base64 blob are compared).
 */
export function keyLogin(root: string | RootFs, user: string, publicKeyLine: string, address: string, o: { host?: string; localAddress?: string; localPort?: number } = {}): Verdict {
  const fs = asFs(root);
  const c = withConnection({ user, address, ...o });
  const v = sshdFor(fs, c);
  const s = v.settings;
  const why: string[] = [];
  const allows: string[] = [];
  const a = account(fs, user);
  if (!a) return { ok: false, reasons: [`no account ${user} in /etc/passwd`] };
  const key = parseAuthorizedKey(publicKeyLine);
  if (!key) return { ok: false, reasons: [`not an OpenSSH public key: ${publicKeyLine.slice(0, 40)}`] };
  const shell = shellProblem(fs, a);
  if (shell) why.push(shell);
  why.push(...listProblems(v, a, c));
  if (s.usepam !== 'yes' && a.password?.startsWith('!')) why.push(`${user}'s account is locked (/etc/shadow "!…") and UsePAM ${s.usepam} (${v.evidence.usepam}): sshd refuses a locked account even with a key`);
  if (s.pubkeyauthentication === 'no') why.push(`PubkeyAuthentication no (${v.evidence.pubkeyauthentication})`);
  const lists = methodLists(v);
  if (lists && !lists.some((l) => l.every((m) => m === 'publickey'))) why.push(`AuthenticationMethods ${s.authenticationmethods} requires more than a key (${v.evidence.authenticationmethods})`);
  if (a.uid === 0 && (s.permitrootlogin === 'no' || s.permitrootlogin === 'forced-commands-only')) why.push(`PermitRootLogin ${s.permitrootlogin} (${v.evidence.permitrootlogin}): no shell for root with a key`);
  const accepted = s.pubkeyacceptedalgorithms.split(',');
  if (!algorithmsOf(key.type).some((alg) => accepted.some((p) => matchPattern(alg, p)))) why.push(`PubkeyAcceptedAlgorithms does not accept ${key.type} keys (${v.evidence.pubkeyacceptedalgorithms})`);
  // AuthorizedKeysFile: the first file holding the key with usable options.
  const files = s.authorizedkeysfile.toLowerCase() === 'none' ? [] : s.authorizedkeysfile.split(/\s+/).filter(Boolean).map((p) => expandTokens(p, a));
  let found: string | undefined;
  const problems: string[] = [];
  for (const f of files) {
    const lines = fs.lines(f);
    if (!lines.length) continue;
    for (const l of lines) {
      const k = parseAuthorizedKey(l.text, l.line);
      if (!k || k.type !== key.type || k.blob !== key.blob) continue;
      const where = `${f}:${l.line}`;
      if (typeof k.options.command === 'string') { problems.push(`${where}: the key is restricted to command="${k.options.command.slice(0, 60)}" (no shell)`); continue; }
      if (typeof k.options.from === 'string' && !fromAllows(k.options.from, c)) { problems.push(`${where}: from="${k.options.from}" does not include ${address}`); continue; }
      if (s.strictmodes !== 'no') {
        const sm = strictModeProblems(fs, f, a);
        if (sm.length) { problems.push(...sm.map((x) => `StrictModes: ${x}`)); continue; }
      }
      found = where;
      break;
    }
    if (found) break;
  }
  if (!found) {
    if (problems.length) why.push(...problems);
    else why.push(`the key is in none of ${files.join(', ') || '(AuthorizedKeysFile none)'} (AuthorizedKeysFile ${v.evidence.authorizedkeysfile})`);
  } else allows.push(`key in ${found}`, `PubkeyAuthentication ${s.pubkeyauthentication} (${v.evidence.pubkeyauthentication})`);
  return why.length ? { ok: false, reasons: why } : { ok: true, reasons: allows };
}
