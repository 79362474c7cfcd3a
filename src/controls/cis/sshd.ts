// sshd_config as OpenSSH's sshd reads it (servconf.c), for the global configuration `sshd -T` prints
// without `-C`:
// - keywords are case-insensitive; `Keyword value` or `Keyword=value`; `#` starts a comment;
// - for single-valued keywords the FIRST value obtained wins (later lines are ignored), so a setting in
//   /etc/ssh/sshd_config.d/*.conf included at the top of sshd_config beats one further down;
// - `Include` is processed in place, each pattern's matches in lexical order; relative paths are under
//   /etc/ssh; an Include inside a Match block includes conditionally;
// - a `Match` line starts a conditional block lasting until the next Match or the end of that file (the
//   state is restored after an included file); `Match all` returns to the global context. Directives in a
//   conditional block do not set the global value (they are reported separately);
// - multi-valued keywords (AllowUsers, DenyUsers, AllowGroups, DenyGroups, HostKey, ...) accumulate.

import path from 'node:path';
import { expandGlob, type Line, type RootFs } from './rootfs.ts';

export const SSHD_CONFIG = '/etc/ssh/sshd_config';

const MULTI = new Set(['allowusers', 'denyusers', 'allowgroups', 'denygroups', 'hostkey', 'acceptenv', 'listenaddress', 'port', 'subsystem', 'setenv', 'include', 'hostcertificate', 'authorizedkeysfile', 'permitopen', 'permitlisten', 'channeltimeout']);

export interface SshdDirective {
  keyword: string;
  value: string;
  at: Line;
  /** The Match criteria this directive sits under, or undefined when global. */
  match?: string;
}

export interface SshdConfig {
  /** Every directive in the order sshd reads it. */
  directives: SshdDirective[];
  /** Global effective value of a keyword (lower case) with the line that set it. */
  get(keyword: string): SshdDirective | undefined;
  /** All global values of an accumulating keyword. */
  all(keyword: string): SshdDirective[];
  /** Directives for `keyword` inside Match blocks. */
  inMatch(keyword: string): SshdDirective[];
  /** Files read, in order. */
  files: string[];
  /** Settings seen after the effective one (shadowed), for explanations. */
  shadowed(keyword: string): SshdDirective[];
  exists: boolean;
}

export function parseSshd(fs: RootFs, file = SSHD_CONFIG): SshdConfig {
  const directives: SshdDirective[] = [];
  const files: string[] = [];
  const read = (f: string, match: string | undefined, depth: number): void => {
    if (depth > 16) return;
    files.push(f);
    let cur = match;
    for (const l of fs.lines(f)) {
      const t = l.text.trim();
      if (!t || t.startsWith('#')) continue;
      const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(t);
      const keyword = (m ? m[1]! : t).toLowerCase();
      const value = (m ? m[2]! : '').replace(/\s+#.*$/, '').trim();
      if (keyword === 'match') {
        cur = value.toLowerCase() === 'all' ? match : value;
        continue;
      }
      if (keyword === 'include') {
        for (const pat of value.split(/\s+/).filter(Boolean)) {
          const abs = pat.startsWith('/') ? pat : path.posix.join('/etc/ssh', pat);
          for (const inc of expandGlob(fs, abs)) if (fs.stat(inc)?.isFile) read(inc, cur, depth + 1);
        }
        continue;
      }
      directives.push({ keyword, value: unquote(value), at: l, ...(cur !== undefined ? { match: cur } : {}) });
    }
  };
  const exists = fs.exists(file);
  if (exists) read(file, undefined, 0);
  const global = directives.filter((d) => d.match === undefined);
  return {
    directives,
    files,
    exists,
    get: (k) => global.find((d) => d.keyword === k.toLowerCase()),
    all: (k) => global.filter((d) => d.keyword === k.toLowerCase()),
    inMatch: (k) => directives.filter((d) => d.match !== undefined && d.keyword === k.toLowerCase()),
    shadowed: (k) => (MULTI.has(k.toLowerCase()) ? [] : global.filter((d) => d.keyword === k.toLowerCase()).slice(1)),
  };
}

function unquote(v: string): string {
  return /^".*"$/.test(v) ? v.slice(1, -1) : v;
}

/** OpenSSH 9.2p1 (Debian 12) compiled-in defaults for the keywords CIS looks at. */
export const SSHD_DEFAULTS: Record<string, string> = {
  permitrootlogin: 'prohibit-password',
  maxauthtries: '6',
  logingracetime: '120',
  loglevel: 'INFO',
  clientaliveinterval: '0',
  clientalivecountmax: '3',
  maxsessions: '10',
  maxstartups: '10:30:100',
  permitemptypasswords: 'no',
  permituserenvironment: 'no',
  hostbasedauthentication: 'no',
  ignorerhosts: 'yes',
  usepam: 'no',
  x11forwarding: 'no',
  banner: 'none',
  disableforwarding: 'no',
  gssapiauthentication: 'no',
  ciphers: 'chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com',
  macs: 'umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1',
  kexalgorithms: 'sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256',
};

/** Apply an algorithm-list value (`+x` appends, `-x` removes, `^x` prepends) to the default list. */
export function algorithmList(value: string | undefined, def: string): string[] {
  const base = def.split(',');
  if (value === undefined) return base;
  const first = value[0];
  const items = value.replace(/^[+\-^]/, '').split(',').filter(Boolean);
  if (first === '+') return [...base, ...items];
  if (first === '^') return [...items, ...base];
  if (first === '-') {
    const res = items.map((p) => new RegExp(`^${p.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`));
    return base.filter((a) => !res.some((r) => r.test(a)));
  }
  return items;
}
