// Small synthetic root filesystems for the CIS engine's tests, built under a temp folder.
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { scan, type Profile, type Result } from '../../src/controls/cis/index.ts';

export type Entry = string | { text: string; mode?: number } | { link: string } | { dir: true; mode?: number };

const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
const gid = typeof process.getgid === 'function' ? process.getgid() : 0;

/** The account files every fixture has; root is whoever runs the test, so owner checks see "root". */
export const BASE: Record<string, Entry> = {
  'etc/passwd': { text: `root:x:${uid}:${gid}:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nsshd:x:100:65534::/run/sshd:/usr/sbin/nologin\n`, mode: 0o644 },
  'etc/group': { text: `root:x:${gid}:\ndaemon:x:1:\nshadow:x:42:\nnogroup:x:65534:\n`, mode: 0o644 },
  'etc/shadow': { text: 'root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nsshd:!:19000::::::\n', mode: 0o640 },
  'etc/shells': { text: '/bin/sh\n/bin/bash\n', mode: 0o644 },
  'var/lib/dpkg/status': 'Package: openssh-server\nStatus: install ok installed\nVersion: 1:9.2p1-2\n\n',
};

export function makeRoot(files: Record<string, Entry>, base: Record<string, Entry> = BASE): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'seclab-cis-'));
  for (const [rel, e] of Object.entries({ ...base, ...files })) {
    const p = path.join(root, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    if (typeof e === 'string') writeFileSync(p, e);
    else if ('link' in e) symlinkSync(e.link, p);
    else if ('dir' in e) {
      mkdirSync(p, { recursive: true });
      if (e.mode !== undefined) chmodSync(p, e.mode);
    } else {
      writeFileSync(p, e.text);
      if (e.mode !== undefined) chmodSync(p, e.mode);
    }
  }
  return root;
}

/** Scan a fixture and return the result of one recommendation. */
export function check(files: Record<string, Entry>, id: string, profile: Profile = 'level2-server'): Result {
  const r = scan(makeRoot(files), { profile, only: [id] }).results[0];
  if (!r) throw new Error(`no recommendation ${id}`);
  return r;
}
