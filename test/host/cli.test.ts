// `seclab host apply` and `seclab host fs` as a user runs them (node bin/seclab.js in a child process);
// a small synthetic root, no shell execution (fast, no image).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const made: string[] = [];
/** mkdtemp, removed after the file's tests. */
function tmp(prefix: string): string {
  const d = mkdtempSync(prefix);
  made.push(d);
  return d;
}
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

const BIN = fileURLToPath(new URL('../../bin/seclab.js', import.meta.url));
const seclab = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

function root(): string {
  const r = tmp(path.join(os.tmpdir(), 'seclab-cli-root-'));
  for (const d of ['etc/ssh', 'usr/bin', 'root', 'home']) mkdirSync(path.join(r, d), { recursive: true });
  writeFileSync(path.join(r, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
  writeFileSync(path.join(r, 'etc/group'), 'root:x:0:\nsudo:x:27:\nshadow:x:42:\n');
  writeFileSync(path.join(r, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n');
  writeFileSync(path.join(r, 'etc/gshadow'), 'root:*::\n');
  writeFileSync(path.join(r, 'etc/ssh/sshd_config'), 'Include /etc/ssh/sshd_config.d/*.conf\n');
  return r;
}

describe('seclab host', () => {
  it('apply: writes the files of a #cloud-config into the folder, prints the log, exit 0', () => {
    const r = root();
    const ud = path.join(tmp(path.join(os.tmpdir(), 'seclab-cli-ud-')), 'user-data.yaml');
    writeFileSync(ud, '#cloud-config\nusers: []\nwrite_files:\n  - path: /etc/ssh/sshd_config.d/10-cis.conf\n    content: "PermitRootLogin no\\n"\n    permissions: "0600"\n');
    const out = seclab(['host', 'apply', r, ud, '--no-exec']);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/\[write_files\] ok/);
    expect(readFileSync(path.join(r, 'etc/ssh/sshd_config.d/10-cis.conf'), 'utf8')).toBe('PermitRootLogin no\n');
  });

  it('apply --json: the result; exit 1 when a module failed or was refused', () => {
    const r = root();
    const ud = path.join(tmp(path.join(os.tmpdir(), 'seclab-cli-ud-')), 'user-data.sh');
    writeFileSync(ud, '#!/bin/sh\necho hi\n');
    const out = seclab(['host', 'apply', r, ud, '--no-exec', '--json']);
    expect(out.status).toBe(1);
    const res = JSON.parse(out.stdout);
    expect(res.modules.find((m: { module: string }) => m.module === 'scripts_user')).toMatchObject({ status: 'refused' });
  });

  it('usage errors (exit 2): not a root folder, not an instance id', () => {
    expect(seclab(['host', 'apply', os.tmpdir(), '/nonexistent']).status).toBe(2);
    expect(seclab(['host', 'fs', 'not-an-instance']).status).toBe(2);
  });
});
