// Lab host's key policy check on the real lab cloud, one key policy at a time (no instance needed: the
// check judges the account's newest customer managed key): the tight reference policy passes; each
// way of handing the key to someone else fails with the reason.
import { describe, expect, it } from 'vitest';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import { KMSClient, CreateKeyCommand } from '@aws-sdk/client-kms';
import { IAMClient, DetachGroupPolicyCommand } from '@aws-sdk/client-iam';
import { provisionLab } from '../../src/engine/grader.ts';
import { findLab } from '../../src/engine/labs.ts';
import type { LabSession } from '../../src/engine/session.ts';
import { hostEnv } from '../../labs/host/company.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

/** A fresh lab account with one key made by the platform role under `policy` (statements of the session's env). */
async function withKey(statements: (s: LabSession) => object[]): Promise<{ passed: boolean; feedback: string; hidden: { passed: boolean; feedback: string } }> {
  const lab = await findLab('host');
  const s = await provisionLab(cloud(), lab, 'key-policy');
  const env = hostEnv(s.env);
  const sts = s.client(STSClient, { credentials: { accessKeyId: env.platformEngineer.accessKeyId, secretAccessKey: env.platformEngineer.secretAccessKey } });
  const c = (await sts.send(new AssumeRoleCommand({ RoleArn: env.platformRole.arn, RoleSessionName: 't' }))).Credentials!;
  const kms = s.client(KMSClient, { credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } });
  await kms.send(new CreateKeyCommand({ Policy: doc(statements(s)) }));
  const check = (id: string) => lab.checks.find((x) => x.id === id)!.run(s);
  return { ...(await check('key-policy-limits-use')), hidden: await check('key-use-only-through-ec2') };
}

const ADMIN = ['kms:CreateAlias', 'kms:Describe*', 'kms:Enable*', 'kms:List*', 'kms:Put*', 'kms:Update*', 'kms:Revoke*', 'kms:Disable*', 'kms:Get*', 'kms:Delete*', 'kms:TagResource', 'kms:UntagResource', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion'];
const USE = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'];

function tight(s: LabSession): object[] {
  const env = hostEnv(s.env);
  return [
    { Sid: 'Administration', Effect: 'Allow', Principal: { AWS: [env.keyAdminsRole.arn, env.platformRole.arn] }, Action: ADMIN, Resource: '*' },
    { Sid: 'UseThroughEc2', Effect: 'Allow', Principal: { AWS: env.platformRole.arn }, Action: USE, Resource: '*', Condition: { StringEquals: { 'kms:ViaService': `ec2.${s.cloud.region}.amazonaws.com`, 'kms:CallerAccount': s.accountId } } },
    { Sid: 'Grants', Effect: 'Allow', Principal: { AWS: env.platformRole.arn }, Action: ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant'], Resource: '*', Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } } },
  ];
}

describe('lab host: who may use the key (key-policy-limits-use)', () => {
  it('the tight policy passes: developers, other accounts and key administrators cannot use it; the platform role can, through EC2 only', async () => {
    const r = await withKey(tight);
    expect(r, r.feedback).toMatchObject({ passed: true });
    expect(r.hidden.passed, r.hidden.feedback).toBe(true);
  });

  it('the default "Enable IAM User Permissions" statement hands the key to the developers (PowerUserAccess)', async () => {
    const r = await withKey((s) => [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${s.accountId}:root` }, Action: 'kms:*', Resource: '*' }, ...tight(s)]);
    expect(r.passed).toBe(false);
    expect(r.feedback).toMatch(/developers .* may kms:CreateGrant through EC2/);
  });

  it('a statement for another account fails; so does Principal "*"', async () => {
    const partner = await withKey((s) => [...tight(s), { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999988887777:root' }, Action: ['kms:Decrypt', 'kms:CreateGrant'], Resource: '*' }]);
    expect(partner.passed).toBe(false);
    expect(partner.feedback).toMatch(/another AWS account may use the key/);
    const anyone = await withKey((s) => [...tight(s), { Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt', Resource: '*' }]);
    expect(anyone.passed).toBe(false);
    expect(anyone.feedback).toMatch(/developers|another AWS account/);
  });

  it('key administrators who may decrypt, and a platform role that may not use the key through EC2, fail with the reason', async () => {
    const admins = await withKey((s) => [...tight(s), { Effect: 'Allow', Principal: { AWS: hostEnv(s.env).keyAdminsRole.arn }, Action: 'kms:Decrypt', Resource: '*' }]);
    expect(admins.passed).toBe(false);
    expect(admins.feedback).toMatch(/key administrators .* may kms:Decrypt/);
    const noUse = await withKey((s) => tight(s).slice(0, 1));
    expect(noUse.passed).toBe(false);
    expect(noUse.feedback).toMatch(/platform role .* may not .*kms:Decrypt.* through EC2/);
  });

  it('AWS\'s default administrator statement (kms:Create*) lets the administrators grant themselves the key', async () => {
    const r = await withKey((s) => tight(s).map((st) => ((st as { Sid: string }).Sid === 'Administration' ? { ...st, Action: ['kms:Create*', ...ADMIN.slice(1)] } : st)));
    expect(r.passed).toBe(false);
    expect(r.feedback).toMatch(/key administrators .* may kms:CreateGrant/);
  });

  it('use outside EC2 (no kms:ViaService condition) fails the hidden check only', async () => {
    const r = await withKey((s) => tight(s).map((st) => ((st as { Sid: string }).Sid === 'UseThroughEc2' ? { ...st, Condition: undefined } : st)));
    expect(r.passed, r.feedback).toBe(true);
    expect(r.hidden.passed).toBe(false);
    expect(r.hidden.feedback).toMatch(/kms:ViaService/);
  });

  it('cutting the developers off is not a control: their PowerUserAccess detached, the business check fails', async () => {
    const lab = await findLab('host');
    const check = lab.checks.find((x) => x.id === 'developers-keep-their-access')!;
    const s = await provisionLab(cloud(), lab, 'developers');
    expect(await check.run(s)).toMatchObject({ passed: true });
    await s.client(IAMClient).send(new DetachGroupPolicyCommand({ GroupName: hostEnv(s.env).developersGroup, PolicyArn: 'arn:aws:iam::aws:policy/PowerUserAccess' }));
    const r = await check.run(s);
    expect(r.passed).toBe(false);
    expect(r.feedback).toMatch(/may no longer ec2:RunInstances/);
  });
});
