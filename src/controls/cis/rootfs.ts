// Read-only access to a root filesystem in a folder, with chroot semantics: every path is relative to the
// root, and symbolic links (absolute or relative) are followed *inside* the root, never onto the scanning
// machine's own files. Results are cached for one scan.

import { lstatSync, readFileSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import path from 'node:path';

export interface FileInfo {
  /** Path inside the root, e.g. /etc/passwd (after following links). */
  path: string;
  mode: number;
  uid: number;
  gid: number;
  isDir: boolean;
  isFile: boolean;
  size: number;
}

export interface Line {
  /** Path inside the root. */
  file: string;
  /** 1-based. */
  line: number;
  text: string;
}

const MAX_LINKS = 40;

export class RootFs {
  readonly root: string;
  private readonly texts = new Map<string, string | null>();
  private readonly resolved = new Map<string, string | null>();

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** The host path of a path inside the root (no link following). */
  host(p: string): string {
    return path.join(this.root, path.posix.normalize('/' + p));
  }

  /**
   * Follow links inside the root. Returns the final path inside the root, or null when a component is
   * missing. With `followLast` false the last component itself is not followed (like lstat).
   */
  resolve(p: string, followLast = true): string | null {
    const key = `${followLast ? 'F' : 'L'}${p}`;
    if (this.resolved.has(key)) return this.resolved.get(key)!;
    let hops = 0;
    const parts = path.posix.normalize('/' + p).split('/').filter(Boolean);
    let cur = '/';
    let out: string | null = null;
    for (;;) {
      if (!parts.length) {
        out = cur;
        break;
      }
      const name = parts.shift()!;
      if (name === '..') {
        cur = path.posix.dirname(cur);
        continue;
      }
      if (name === '.') continue;
      const next = path.posix.join(cur, name);
      let st: Stats;
      try {
        st = lstatSync(this.host(next));
      } catch {
        out = null;
        break;
      }
      if (st.isSymbolicLink() && (parts.length || followLast)) {
        if (++hops > MAX_LINKS) {
          out = null;
          break;
        }
        const target = readlinkSync(this.host(next));
        const abs = target.startsWith('/') ? target : path.posix.join(cur, target);
        parts.unshift(...path.posix.normalize(abs).split('/').filter(Boolean));
        cur = '/';
        continue;
      }
      cur = next;
    }
    this.resolved.set(key, out);
    return out;
  }

  /** The target of a symbolic link (as written), or null when `p` is not a link. */
  readlink(p: string): string | null {
    const dir = this.resolve(path.posix.dirname(path.posix.normalize('/' + p)));
    if (dir === null) return null;
    try {
      const full = this.host(path.posix.join(dir, path.posix.basename(p)));
      return lstatSync(full).isSymbolicLink() ? readlinkSync(full) : null;
    } catch {
      return null;
    }
  }

  stat(p: string): FileInfo | null {
    const r = this.resolve(p);
    if (r === null) return null;
    try {
      const s = lstatSync(this.host(r));
      return { path: r, mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, isDir: s.isDirectory(), isFile: s.isFile(), size: s.size };
    } catch {
      return null;
    }
  }

  exists(p: string): boolean {
    return this.resolve(p) !== null;
  }

  read(p: string): string | null {
    const r = this.resolve(p);
    if (r === null) return null;
    if (this.texts.has(r)) return this.texts.get(r)!;
    let text: string | null = null;
    try {
      const s = lstatSync(this.host(r));
      if (s.isFile()) text = readFileSync(this.host(r), 'utf8');
    } catch {
      text = null;
    }
    this.texts.set(r, text);
    return text;
  }

  /** Lines with their numbers (the path reported is the one asked for, as an admin would name it). */
  lines(p: string): Line[] {
    const t = this.read(p);
    if (t === null) return [];
    const file = path.posix.normalize('/' + p);
    return t.split('\n').map((text, i) => ({ file, line: i + 1, text }));
  }

  /** Entry names of a directory (sorted, C locale), [] when missing. */
  list(dir: string): string[] {
    const r = this.resolve(dir);
    if (r === null) return [];
    try {
      return readdirSync(this.host(r)).sort(cmpC);
    } catch {
      return [];
    }
  }

  /** Files of a directory matching a suffix, as paths inside the root, in C-locale order. */
  listFiles(dir: string, suffix = ''): string[] {
    return this.list(dir)
      .filter((n) => n.endsWith(suffix))
      .map((n) => path.posix.join(dir, n))
      .filter((p) => this.stat(p)?.isFile);
  }

  /**
   * Walk the tree (not following links, staying out of /proc, /sys, /dev, /run and what `skip` names),
   * calling `visit` with each entry's path inside the root and its lstat.
   */
  walk(visit: (p: string, s: Stats) => void, skip: readonly string[] = []): void {
    const pruned = new Set(['/proc', '/sys', '/dev', '/run', ...skip]);
    const stack = ['/'];
    while (stack.length) {
      const dir = stack.pop()!;
      let names: string[];
      try {
        names = readdirSync(this.host(dir));
      } catch {
        continue;
      }
      for (const n of names) {
        const p = path.posix.join(dir, n);
        if (pruned.has(p)) continue;
        let s: Stats;
        try {
          s = lstatSync(this.host(p));
        } catch {
          continue;
        }
        visit(p, s);
        if (s.isDirectory()) stack.push(p);
      }
    }
  }
}

/** Byte-wise comparison, like `LC_ALL=C sort` and the lexical order glob(3), systemd and run-parts use. */
export function cmpC(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Strip a `#` comment (not inside quotes) and trim. */
export function stripComment(s: string, chars = '#'): string {
  let q: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q) {
      if (c === q) q = null;
    } else if (c === '"' || c === "'") q = c;
    else if (chars.includes(c) && (i === 0 || /\s/.test(s[i - 1]!))) return s.slice(0, i).trim();
  }
  return s.trim();
}

/** glob(3)-style match of one path component pattern (*, ?, [...]). */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        let cls = glob.slice(i + 1, end);
        if (cls.startsWith('!')) cls = '^' + cls.slice(1);
        re += `[${cls.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Expand a glob (wildcards in any component) inside the root; sorted like glob(3). */
export function expandGlob(fs: RootFs, pattern: string): string[] {
  const parts = path.posix.normalize(pattern).split('/').filter(Boolean);
  let cur = ['/'];
  for (const part of parts) {
    const next: string[] = [];
    for (const base of cur) {
      if (!/[*?[]/.test(part)) {
        const p = path.posix.join(base, part);
        if (fs.exists(p)) next.push(p);
      } else {
        const re = globToRegExp(part);
        for (const n of fs.list(base)) if (re.test(n) && (part.startsWith('.') || !n.startsWith('.'))) next.push(path.posix.join(base, n));
      }
    }
    cur = next;
  }
  return cur.sort(cmpC);
}
