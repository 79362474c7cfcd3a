// What one scan reads, parsed once and shared by the recommendations.

import { auditRules, loginDefs, parseDpkgStatus, parseFstab, parseGroup, parseModprobe, parsePasswd, parseShadow, parseSysctl, Systemd } from './config.ts';
import { RootFs } from './rootfs.ts';
import { parseSshd } from './sshd.ts';

export interface TreeEntry {
  path: string;
  mode: number;
  uid: number;
  gid: number;
  isDir: boolean;
  isFile: boolean;
  isLink: boolean;
}

function lazy<T>(f: () => T): () => T {
  let v: { x: T } | undefined;
  return () => (v ??= { x: f() }).x;
}

export class ScanContext {
  readonly fs: RootFs;
  readonly sshd;
  readonly sysctl;
  readonly modprobe;
  readonly fstab;
  readonly packages;
  readonly passwd;
  readonly shadow;
  readonly group;
  readonly loginDefs;
  readonly audit;
  readonly systemd: Systemd;
  /** Every entry of the tree (one walk per scan, shared by the file-system-wide recommendations). */
  readonly tree: () => TreeEntry[];

  constructor(root: string) {
    this.fs = new RootFs(root);
    const fs = this.fs;
    this.sshd = lazy(() => parseSshd(fs));
    this.sysctl = lazy(() => parseSysctl(fs));
    this.modprobe = lazy(() => parseModprobe(fs));
    this.fstab = lazy(() => parseFstab(fs));
    this.packages = lazy(() => parseDpkgStatus(fs));
    this.passwd = lazy(() => parsePasswd(fs));
    this.shadow = lazy(() => parseShadow(fs));
    this.group = lazy(() => parseGroup(fs));
    this.loginDefs = lazy(() => loginDefs(fs));
    this.audit = lazy(() => auditRules(fs));
    this.systemd = new Systemd(fs);
    this.tree = lazy(() => {
      const out: TreeEntry[] = [];
      fs.walk((p, st) => out.push({ path: p, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, isDir: st.isDirectory(), isFile: st.isFile(), isLink: st.isSymbolicLink() }));
      return out;
    });
  }

  installed(pkg: string): boolean {
    return this.packages().has(pkg);
  }

  /** Users and groups by id, for owner names in evidence. */
  userName(uid: number): string {
    return this.passwd().find((p) => p.uid === uid)?.name ?? String(uid);
  }

  groupName(gid: number): string {
    return this.group().find((g) => g.gid === gid)?.name ?? String(gid);
  }

  gid(name: string): number | undefined {
    return this.group().find((g) => g.name === name)?.gid;
  }
}
