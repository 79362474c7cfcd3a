// Builders for the recommendation families that share a shape (file permissions, packages that must be
// absent, services not in use, sysctl values, kernel modules, mount options, sshd keywords).

import type { ScanContext } from './context.ts';
import type { Line } from './rootfs.ts';
import { algorithmList, SSHD_DEFAULTS } from './sshd.ts';
import { ev, type Evidence, type Outcome, type Profile, type Recommendation } from './types.ts';

type Base = Pick<Recommendation, 'id' | 'title' | 'rationale' | 'remediation'> & { profile?: Profile; assessment?: 'automated' | 'manual' };

export function rec(b: Base, check: Recommendation['check']): Recommendation {
  return { profile: 'level1-server', assessment: 'automated', ...b, check };
}

export const pass = (detail: string, evidence: Evidence[] = []): Outcome => ({ status: 'pass', detail, evidence });
export const fail = (detail: string, evidence: Evidence[] = []): Outcome => ({ status: 'fail', detail, evidence });
export const na = (detail: string, evidence: Evidence[] = []): Outcome => ({ status: 'notapplicable', detail, evidence });
export const manual = (detail: string, evidence: Evidence[] = []): Outcome => ({ status: 'manual', detail, evidence });

/** Combine sub-checks: any fail fails; all notapplicable is notapplicable; a manual part makes it manual only when nothing failed and nothing passed. */
export function all(parts: Outcome[]): Outcome {
  const evidence = parts.flatMap((p) => p.evidence);
  const fails = parts.filter((p) => p.status === 'fail');
  if (fails.length) return fail(fails.map((p) => p.detail).join('; '), evidence);
  const applicable = parts.filter((p) => p.status !== 'notapplicable');
  if (!applicable.length) return na(parts.map((p) => p.detail).join('; '), evidence);
  if (applicable.every((p) => p.status === 'manual')) return manual(applicable.map((p) => p.detail).join('; '), evidence);
  return pass(applicable.map((p) => p.detail).join('; '), evidence);
}

export function octal(m: number): string {
  return m.toString(8).padStart(4, '0');
}

export interface ModeSpec {
  /** The most permissive mode allowed, e.g. 0o644: any bit outside it fails. */
  max: number;
  owners?: string[];
  groups?: string[];
  /** What a missing file means. */
  missing?: 'pass' | 'notapplicable' | 'fail';
}

export function checkMode(ctx: ScanContext, p: string, spec: ModeSpec): Outcome {
  const s = ctx.fs.stat(p);
  if (!s) {
    const m = spec.missing ?? 'notapplicable';
    return { status: m, detail: `${p} does not exist`, evidence: [{ file: p }] };
  }
  const owners = spec.owners ?? ['root'];
  const groups = spec.groups ?? ['root'];
  const owner = ctx.userName(s.uid);
  const group = ctx.groupName(s.gid);
  const problems: string[] = [];
  if (s.mode & ~spec.max & 0o7777) problems.push(`mode ${octal(s.mode)} is more permissive than ${octal(spec.max)}`);
  if (!owners.includes(owner)) problems.push(`owner ${owner} (expected ${owners.join(' or ')})`);
  if (!groups.includes(group)) problems.push(`group ${group} (expected ${groups.join(' or ')})`);
  const e = [{ file: p, text: `${octal(s.mode)} ${owner}:${group}` }];
  return problems.length ? fail(`${p}: ${problems.join(', ')}`, e) : pass(`${p} is ${octal(s.mode)} ${owner}:${group}`, e);
}

export function fileMode(b: Base, paths: string[], spec: ModeSpec): Recommendation {
  return rec(b, (ctx) => all(paths.map((p) => checkMode(ctx, p, spec))));
}

export function pkgEvidence(ctx: ScanContext, pkg: string): Evidence[] {
  const p = ctx.packages().get(pkg);
  return p ? ev(p.at) : [{ file: '/var/lib/dpkg/status', text: `no installed package ${pkg}` }];
}

export function packagesAbsent(b: Base, pkgs: string[]): Recommendation {
  return rec(b, (ctx) => {
    const present = pkgs.filter((p) => ctx.installed(p));
    return present.length
      ? fail(`installed: ${present.join(', ')}`, present.flatMap((p) => pkgEvidence(ctx, p)))
      : pass(`not installed: ${pkgs.join(', ')}`, [{ file: '/var/lib/dpkg/status' }]);
  });
}

export function packageInstalled(b: Base, pkgs: string[]): Recommendation {
  return rec(b, (ctx) => {
    const missing = pkgs.filter((p) => !ctx.installed(p));
    return missing.length
      ? fail(`not installed: ${missing.join(', ')}`, [{ file: '/var/lib/dpkg/status' }])
      : pass(`installed: ${pkgs.join(', ')}`, pkgs.flatMap((p) => pkgEvidence(ctx, p)));
  });
}

/**
 * A service "not in use": its packages are not installed, or (when something needs the package) none of
 * its units is enabled. Whether it is running right now needs a running system and is not judged.
 */
export function serviceNotInUse(b: Base, pkgs: string[], units: string[]): Recommendation {
  return rec(b, (ctx) => {
    const present = pkgs.filter((p) => ctx.installed(p));
    if (!present.length) return pass(`not installed: ${pkgs.join(', ')}`, [{ file: '/var/lib/dpkg/status' }]);
    const enabled = units.map((u) => ctx.systemd.unit(u)).filter((u) => u.state === 'enabled');
    const masked = units.map((u) => ctx.systemd.unit(u)).filter((u) => u.state === 'masked');
    if (enabled.length) {
      return fail(`${present.join(', ')} installed and ${enabled.map((u) => u.unit).join(', ')} enabled`, [...present.flatMap((p) => pkgEvidence(ctx, p)), ...enabled.flatMap((u) => u.evidence.map((e) => ({ file: e })))]);
    }
    return pass(`${present.join(', ')} installed but ${units.join(', ')} not enabled${masked.length ? ` (${masked.map((u) => u.unit).join(', ')} masked)` : ''}; whether it runs now needs a running system`, masked.flatMap((u) => u.evidence.map((e) => ({ file: e }))));
  });
}

export interface SysctlSpec {
  key: string;
  /** Accepted values (compared after trimming). */
  ok: (v: string) => boolean;
  want: string;
  /** The kernel's default, for the explanation when no file sets the key. */
  kernelDefault?: string;
}

export function checkSysctl(ctx: ScanContext, s: SysctlSpec): Outcome {
  const cur = ctx.sysctl().get(s.key);
  if (!cur) {
    return fail(`${s.key} is not set in any sysctl configuration file (the kernel default${s.kernelDefault !== undefined ? ` is ${s.kernelDefault}` : ' applies'}; the recommendation wants ${s.want} persisted); the running value needs a running system`, [{ file: '/etc/sysctl.d', text: `no ${s.key}` }]);
  }
  const hist = ctx.sysctl().history(s.key);
  const overridden = hist.slice(0, -1).filter((h) => h.at.file !== cur.at.file || h.at.line !== cur.at.line);
  const e = ev(cur.at, ...overridden.map((h) => h.at));
  return s.ok(cur.value)
    ? pass(`${s.key} = ${cur.value} (${cur.at.file}:${cur.at.line})`, e)
    : fail(`${s.key} = ${cur.value} at ${cur.at.file}:${cur.at.line}, wants ${s.want}${overridden.length ? ` (it overrides ${overridden.map((h) => `${h.value} at ${h.at.file}:${h.at.line}`).join(', ')})` : ''}`, e);
}

export function sysctlRec(b: Base, specs: SysctlSpec[]): Recommendation {
  return rec(b, (ctx) => all(specs.map((s) => checkSysctl(ctx, s))));
}

export const eq = (x: string) => (v: string) => v.trim() === x;

/** Kconfig symbols of the modules CIS names, to tell "built into the kernel" from "not built at all". */
const KCONFIG: Record<string, string> = {
  cramfs: 'CRAMFS', freevxfs: 'VXFS_FS', hfs: 'HFS_FS', hfsplus: 'HFSPLUS_FS', jffs2: 'JFFS2_FS', usb_storage: 'USB_STORAGE',
  overlay: 'OVERLAY_FS', udf: 'UDF_FS', dccp: 'IP_DCCP', tipc: 'TIPC', rds: 'RDS', sctp: 'IP_SCTP', squashfs: 'SQUASHFS',
};

/** Where the folder's kernels have the module: file paths, or which kernels build it in. */
export function moduleFiles(ctx: ScanContext, mod: string): { kernels: string[]; files: string[]; builtin: string[] } {
  const name = mod.replace(/-/g, '_');
  const kernels = ctx.fs.list('/lib/modules').filter((k) => ctx.fs.stat(`/lib/modules/${k}/kernel`)?.isDir);
  const files: string[] = [];
  for (const k of kernels) {
    const prefix = `/lib/modules/${k}/kernel/`;
    for (const e of ctx.tree()) {
      if (!e.isFile || !e.path.startsWith(prefix) && !e.path.startsWith(`/usr${prefix}`)) continue;
      const base = e.path.slice(e.path.lastIndexOf('/') + 1).replace(/\.ko(\.(xz|zst|gz))?$/, '');
      if (base !== e.path.slice(e.path.lastIndexOf('/') + 1) && base.replace(/-/g, '_') === name) files.push(e.path);
    }
  }
  const sym = KCONFIG[name];
  const builtin = sym ? kernels.filter((k) => (ctx.fs.read(`/boot/config-${k}`) ?? '').split('\n').includes(`CONFIG_${sym}=y`)) : [];
  return { kernels, files, builtin };
}

/**
 * A kernel module "not available", as CIS audits it: when the folder's kernels do not have the module at
 * all (no .ko file, not built in) it passes; when a kernel builds it in, modprobe cannot keep it out and
 * it fails; otherwise kmod's install command for it must be /bin/false or /bin/true (so `modprobe`
 * cannot load it) and it must be blacklisted. A folder without kernels (/lib/modules empty) is judged on
 * its configuration, as the instance's kernel may have the module. Whether it is loaded now needs a
 * running system.
 */
export function moduleRec(b: Base, mod: string): Recommendation {
  return rec(b, (ctx) => {
    const where = moduleFiles(ctx, mod);
    if (where.builtin.length) return fail(`${mod} is built into kernel ${where.builtin.join(', ')} (CONFIG_${KCONFIG[mod.replace(/-/g, '_')]}=y): modprobe configuration cannot make it unavailable`, where.builtin.map((k) => ({ file: `/boot/config-${k}`, text: `CONFIG_${KCONFIG[mod.replace(/-/g, '_')]}=y` })));
    if (where.kernels.length && !where.files.length) return pass(`${mod} is not available: kernel ${where.kernels.join(', ')} has no ${mod} module`, where.kernels.map((k) => ({ file: `/lib/modules/${k}/kernel`, text: `no ${mod}.ko` })));
    const mp = ctx.modprobe();
    const inst = mp.install(mod);
    const bl = mp.blacklist(mod);
    const problems: string[] = [];
    if (!inst) problems.push(`no "install ${mod} /bin/false"`);
    else if (!/^(\/usr)?\/bin\/(false|true)$/.test(inst.command.trim())) problems.push(`the install command for ${mod} is "${inst.command}" (first one wins), not /bin/false or /bin/true`);
    if (!bl) problems.push(`no "blacklist ${mod}"`);
    const e = [...ev(inst?.at, bl), ...where.files.slice(0, 1).map((file) => ({ file }))];
    return problems.length
      ? fail(`${where.files.length ? `the kernel has ${mod} (${where.files[0]}) and there is ` : ''}${problems.join(' and ')} in /etc/modprobe.d`, e.length ? e : [{ file: '/etc/modprobe.d' }])
      : pass(`${mod}: install ${inst!.command} and blacklisted (whether it is loaded now needs a running system)`, e);
  });
}

/** Where a path is mounted, per the folder's configuration: an fstab entry or a systemd .mount unit. */
export function mountOf(ctx: ScanContext, mp: string): { kind: 'fstab' | 'unit' | 'systemd-api'; options: string[]; at?: Line; evidence: Evidence[] } | undefined {
  const e = ctx.fstab().find((f) => f.mountpoint === mp);
  if (e) return { kind: 'fstab', options: e.options, at: e.at, evidence: ev(e.at) };
  const unitName = mp.slice(1).replace(/\//g, '-') + '.mount';
  const u = ctx.systemd.unit(unitName);
  if (u.state === 'enabled' || (u.state === 'static' && mp === '/tmp' && ctx.fs.exists('/etc/systemd/system/local-fs.target.wants/tmp.mount'))) {
    const text = u.file ? ctx.fs.read(u.file) ?? '' : '';
    const opt = /^\s*Options\s*=\s*(.*)$/m.exec(text)?.[1] ?? '';
    return { kind: 'unit', options: opt.split(','), evidence: [...u.evidence.map((x) => ({ file: x })), ...(u.file ? [{ file: u.file, text: `Options=${opt}` }] : [])] };
  }
  if (mp === '/dev/shm') return { kind: 'systemd-api', options: ['nosuid', 'nodev', 'strictatime', 'mode=1777'], evidence: [{ file: '/etc/fstab', text: 'no /dev/shm entry: systemd mounts it (tmpfs, nosuid,nodev)' }] };
  return undefined;
}

export function partitionRec(b: Base, mp: string): Recommendation {
  return rec(b, (ctx) => {
    const m = mountOf(ctx, mp);
    if (!m) return fail(`no separate file system for ${mp}: neither /etc/fstab nor an enabled ${mp.slice(1).replace(/\//g, '-')}.mount unit mounts it`, [{ file: '/etc/fstab' }]);
    return pass(`${mp} is mounted separately (${m.kind === 'fstab' ? 'fstab' : m.kind === 'unit' ? 'systemd mount unit' : 'by systemd'}); that it is mounted now needs a running system`, m.evidence);
  });
}

export function mountOptionRec(b: Base, mp: string, option: string): Recommendation {
  return rec(b, (ctx) => {
    const m = mountOf(ctx, mp);
    if (!m) return na(`${mp} is not a separate file system (see its partition recommendation)`, [{ file: '/etc/fstab' }]);
    return m.options.includes(option)
      ? pass(`${mp} has ${option}`, m.evidence)
      : fail(`${mp} is mounted without ${option} (options: ${m.options.join(',') || 'defaults'})`, m.evidence);
  });
}

/** A global sshd_config keyword's effective value (first one wins) and where it came from. */
export function sshdValue(ctx: ScanContext, keyword: string): { value: string; evidence: Evidence[]; from: string } {
  const d = ctx.sshd().get(keyword);
  const sh = ctx.sshd().shadowed(keyword);
  if (d) return { value: d.value, evidence: ev(d.at, ...sh.map((s) => s.at)), from: `${d.at.file}:${d.at.line}${sh.length ? `, shadowing ${sh.map((s) => `${s.value} at ${s.at.file}:${s.at.line}`).join(', ')}` : ''}` };
  return { value: SSHD_DEFAULTS[keyword.toLowerCase()] ?? '', evidence: [{ file: '/etc/ssh/sshd_config', text: `${keyword} not set: OpenSSH default` }], from: 'the OpenSSH 9.2 default' };
}

export function sshdRec(b: Base, keyword: string, ok: (v: string) => boolean, want: string): Recommendation {
  return rec(b, (ctx) => {
    if (!ctx.installed('openssh-server') && !ctx.sshd().exists) return na('openssh-server is not installed', [{ file: '/var/lib/dpkg/status' }]);
    const v = sshdValue(ctx, keyword);
    const inMatch = ctx.sshd().inMatch(keyword).filter((d) => !ok(d.value));
    const matchNote = inMatch.length ? ` (and a Match block sets ${keyword} ${inMatch.map((d) => `${d.value} at ${d.at.file}:${d.at.line}`).join(', ')})` : '';
    if (!ok(v.value)) return fail(`${keyword} is ${v.value || '(empty)'} from ${v.from}; wants ${want}${matchNote}`, v.evidence);
    if (inMatch.length) return fail(`${keyword} is ${v.value} globally but a Match block overrides it with ${inMatch.map((d) => `${d.value} at ${d.at.file}:${d.at.line}`).join(', ')}`, [...v.evidence, ...ev(...inMatch.map((d) => d.at))]);
    return pass(`${keyword} ${v.value} (${v.from})`, v.evidence);
  });
}

export function sshdAlgorithmsRec(b: Base, keyword: string, weak: string[]): Recommendation {
  return rec(b, (ctx) => {
    if (!ctx.installed('openssh-server') && !ctx.sshd().exists) return na('openssh-server is not installed', [{ file: '/var/lib/dpkg/status' }]);
    const d = ctx.sshd().get(keyword);
    const list = algorithmList(d?.value, SSHD_DEFAULTS[keyword.toLowerCase()]!);
    const bad = list.filter((a) => weak.includes(a.toLowerCase()));
    const e = d ? ev(d.at) : [{ file: '/etc/ssh/sshd_config', text: `${keyword} not set: OpenSSH default list` }];
    return bad.length ? fail(`${keyword} allows weak ${bad.join(', ')}${d ? ` (${d.at.file}:${d.at.line})` : ' (OpenSSH default list)'}`, e) : pass(`${keyword}: ${list.join(',')}`, e);
  });
}

/** sshd time values: 60, 1m, 1m30s, 2h. */
export function sshdSeconds(v: string): number {
  let total = 0;
  const re = /(\d+)([smhdwSMHDW]?)/g;
  let m: RegExpExecArray | null;
  let matched = '';
  while ((m = re.exec(v))) {
    matched += m[0];
    total += Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2]!.toLowerCase()] ?? 1);
  }
  return matched === v.trim() ? total : NaN;
}
