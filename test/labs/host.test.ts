// Lab host end to end on the real lab cloud: the reference solution (its user data applied to a real
// Debian 12 root folder, its nginx run for real), the starter, and seeded defects of the reference,
// each of which must lose the checks and the attacks its defect opens — and nothing else.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gradeLab } from '../../src/engine/grader.ts';
import { findLab, SOLUTIONS_DIR } from '../../src/engine/labs.ts';
import type { LabGrade } from '../../src/engine/types.ts';
import { imageForTests } from '../../src/host/image.ts';
import { nginxStatus } from '../../src/host/web/nginx.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
const REFERENCE = path.join(SOLUTIONS_DIR, 'host');
const image = await imageForTests();
const nginx = nginxStatus();
const skip = 'skip' in image ? image.skip : !nginx.installed ? nginx.reason : undefined;

type Edit = [file: 'solution.ts' | 'user-data.yaml', from: string | RegExp, to: string];

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A workspace whose host/ folder is the reference with the edits applied (every occurrence). */
function variant(...edits: Edit[]): string {
  const ws = mkdtempSync(path.join(os.tmpdir(), 'seclab-host-'));
  made.push(ws);
  writeFileSync(path.join(ws, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  cpSync(REFERENCE, path.join(ws, 'host'), { recursive: true });
  for (const [file, from, to] of edits) {
    const p = path.join(ws, 'host', file);
    const text = readFileSync(p, 'utf8');
    if (typeof from === 'string') {
      expect(text, `${file} should contain ${from}`).toContain(from);
      writeFileSync(p, text.split(from).join(to));
    } else {
      expect(text, `${file} should match ${from}`).toMatch(from);
      writeFileSync(p, text.replace(from, to));
    }
  }
  return ws;
}

const failed = (g: LabGrade) => [...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => c.id).sort();

async function grade(workspace: string): Promise<LabGrade> {
  return gradeLab(cloud(), await findLab('host'), { workspace });
}

const detail = (g: LabGrade) => [...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => `${c.id}: ${c.feedback}`).join('\n');

describe.skipIf(!!skip)(`lab host${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let reference: LabGrade;
  beforeAll(async () => {
    reference = await grade(SOLUTIONS_DIR);
  }, 600_000);

  it('gives the reference solution full marks: every attack blocked, the business intact', () => {
    expect(reference.student.every((r) => r.ok), JSON.stringify(reference.student)).toBe(true);
    expect(failed(reference), detail(reference)).toEqual([]);
    expect(reference.score).toBe(reference.maxScore);
    expect(reference.maxScore).toBe(100);
    expect(reference.scenarios.map((s) => s.id).sort()).toEqual([
      'http-login-interception', 'imds-ssrf', 'snapshot-shared-outside', 'ssh-password-brute-force', 'stolen-developer-key-volume', 'tls-downgrade',
    ]);
    for (const s of reference.scenarios) expect(s).toMatchObject({ blocked: true, businessIntact: true });
  });

  it('gives the starter at most 10%', async () => {
    const ws = mkdtempSync(path.join(os.tmpdir(), 'seclab-host-starter-'));
    made.push(ws);
    writeFileSync(path.join(ws, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
    const lab = await findLab('host');
    cpSync(lab.starter, ws, { recursive: true });
    const g = await grade(ws);
    expect(g.student.every((r) => r.ok), JSON.stringify(g.student)).toBe(true);
    expect(g.score / g.maxScore).toBeLessThanOrEqual(0.1);
    expect(g.scenarios.every((s) => !s.blocked || s.points === 0)).toBe(true);
  }, 600_000);

  it('a key policy that delegates to the account: the developers can use the key, their stolen key reads the data', async () => {
    const g = await grade(variant(['solution.ts', 'const policy = doc([', "const policy = doc([\n    { Sid: 'EnableIamUserPermissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'kms:*', Resource: '*' },"]));
    expect(failed(g), detail(g)).toEqual(expect.arrayContaining(['key-policy-limits-use', 'stolen-developer-key-volume']));
    expect(failed(g)).not.toContain('site-over-https');
  }, 600_000);

  it('IMDSv1 left on and the plain snapshot kept: the SSRF steals the role, the snapshot leaks', async () => {
    const g = await grade(variant(
      ['solution.ts', "HttpTokens: 'required'", "HttpTokens: 'optional'"],
      ['solution.ts', 'await ec2.send(new DeleteSnapshotCommand({ SnapshotId: env.data.snapshotId }));', 'void DeleteSnapshotCommand;'],
    ));
    expect(failed(g), detail(g)).toEqual(['imds-ssrf', 'imdsv2-only', 'no-unencrypted-copies', 'snapshot-shared-outside', 'stolen-developer-key-volume']);
  }, 600_000);

  it('legacy TLS for old clients: TLS 1.1 and CBC suites without forward secrecy let the downgrade through', async () => {
    const g = await grade(variant(
      ['user-data.yaml', /ssl_protocols\s+TLSv1\.2 TLSv1\.3;/, 'ssl_protocols TLSv1.1 TLSv1.2 TLSv1.3;'],
      ['user-data.yaml', /(ssl_ciphers [^;]*);/, '$1:ECDHE-RSA-AES128-SHA:AES128-SHA:@SECLEVEL=0;'],
    ));
    expect(failed(g), detail(g)).toEqual(['tls-ciphers', 'tls-downgrade', 'tls-protocols', 'tls-rating']);
  }, 600_000);

  it('an admin with a password and a drop-in read first that allows passwords: the SSH brute force gets in', async () => {
    const g = await grade(variant(
      ['user-data.yaml', /lock_passwd: true {10}# no password at all: SSH keys only, so sudo needs NOPASSWD/, 'lock_passwd: false\n    hashed_passwd: "$6$q8Zp3xT1$FOmRf4FtBHaKN4/c.bYsrh1vGejOUzkyFA/9Lhjl.0aDZTYP95uCRzFcVV4TfnOP7L.zgKStmL6IaKPVQzGye/"'],
      ['user-data.yaml', /\n- path: \/etc\/ssh\/sshd_config\.d\/01-fabrikam\.conf/, '\n- path: /etc/ssh/sshd_config.d/00-legacy.conf\n  permissions: "0600"\n  content: |\n    # the old deploy tool logs in with a password\n    PasswordAuthentication yes\n    AuthenticationMethods any\n- path: /etc/ssh/sshd_config.d/01-fabrikam.conf'],
    ));
    expect(failed(g), detail(g)).toContain('ssh-password-brute-force');
    expect(failed(g)).not.toContain('admins-ssh-with-keys');
    expect(failed(g)).not.toContain('site-over-https');
    expect(failed(g).filter((id) => !id.startsWith('cis-'))).toEqual(['ssh-password-brute-force']);
  }, 600_000);
});
