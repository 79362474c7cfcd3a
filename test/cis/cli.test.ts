// `seclab cis scan` as a user runs it (node bin/seclab.js in a child process).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makeRoot } from './fixture.ts';

const BIN = fileURLToPath(new URL('../../bin/seclab.js', import.meta.url));
const seclab = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

describe('seclab cis scan', () => {
  const root = makeRoot({ 'etc/ssh/sshd_config': { text: 'PermitRootLogin yes\n', mode: 0o600 } });

  it('prints failures with file:line evidence and the fix, and exits 1', () => {
    const r = seclab(['cis', 'scan', root, '--only', '5.1.20,5.1.19']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/FAIL 5\.1\.20 +sshd refuses root logins/);
    expect(r.stdout).toMatch(/\/etc\/ssh\/sshd_config:1 +PermitRootLogin yes/);
    expect(r.stdout).toMatch(/fix: PermitRootLogin no/);
    expect(r.stdout).toMatch(/1 pass, 1 fail/);
  });

  it('--format json gives the report; exit 0 when nothing fails', () => {
    const r = seclab(['cis', 'scan', root, '--only', '5.1.19', '--format', 'json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.profile).toBe('level1-server');
    expect(report.results[0]).toMatchObject({ id: '5.1.19', status: 'pass' });
  });

  it('refuses a missing folder and an unknown profile (exit 2)', () => {
    expect(seclab(['cis', 'scan', `${root}/nope`]).status).toBe(2);
    expect(seclab(['cis', 'scan', root, '--profile', 'level3']).status).toBe(2);
  });
});
