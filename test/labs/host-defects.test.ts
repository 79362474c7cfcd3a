// Lab host: seeded defects of the reference solution, each of which must lose the checks and the
// attacks its defect opens — and nothing else. (Reference and starter: host.test.ts.)
import { describe, expect, it } from 'vitest';
import { useLabCloud } from '../helpers/cloud.ts';
import { detail, failed, grade as gradeIn, hostLabSkip, variant } from './host-fixture.ts';

const { cloud } = useLabCloud();
const skip = await hostLabSkip();
const grade = (ws: string) => gradeIn(cloud(), ws);

describe.skipIf(!!skip)(`lab host, seeded defects${skip ? ` (skipped: ${skip})` : ''}`, () => {
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
