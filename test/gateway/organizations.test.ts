// AWS Organizations through the gateway and moto: an organization a lab can provision, member accounts
// that are lab-cloud accounts, SCPs limiting member accounts (not the management account), and the
// aws:PrincipalOrgID / aws:ResourceOrgID condition keys.
import { describe, expect, it } from 'vitest';
import { IAMClient, CreateRoleCommand, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand, ListUsersCommand } from '@aws-sdk/client-iam';
import { STSClient, AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { S3Client, ListBucketsCommand, CreateBucketCommand } from '@aws-sdk/client-s3';
import { OrganizationsClient } from '../../src/cloud/services/organizations/client.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const errorName = (p: Promise<unknown>) => p.then(() => 'allowed', (e: Error) => e.name);
type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

async function newUser(creds: Creds, name: string, statements: object[]): Promise<Creds> {
  const iam = cloud().client(IAMClient, { credentials: creds });
  await iam.send(new CreateUserCommand({ UserName: name }));
  await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: doc(statements) }));
  const k = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
  return { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
}

/** A management account with an organization and one member account. */
async function organization() {
  const c = cloud();
  const mgmt = c.createAccount();
  const mgmtCreds = { accessKeyId: mgmt.accessKeyId, secretAccessKey: mgmt.secretAccessKey };
  const org = new OrganizationsClient(c.url, mgmtCreds);
  const created = await org.send<{ Organization: { Id: string; MasterAccountId: string } }>('CreateOrganization', { FeatureSet: 'ALL' });
  const status = await org.send<{ CreateAccountStatus: { AccountId: string; State: string } }>('CreateAccount', { Email: 'dev@example.com', AccountName: 'dev' });
  const memberId = status.CreateAccountStatus.AccountId;
  const memberCreds = c.gateway.mintRootCredentials(memberId);
  const rootId = (await org.send<{ Roots: { Id: string }[] }>('ListRoots')).Roots[0]!.Id;
  return { c, org, orgId: created.Organization.Id, mgmt, mgmtCreds, memberId, memberCreds, rootId };
}

describe('an organization', () => {
  it('is provisioned through the Organizations API; member accounts are lab-cloud accounts the management account can enter', async () => {
    const { c, org, orgId, mgmt, mgmtCreds, memberId, memberCreds } = await organization();
    expect(orgId).toMatch(/^o-[a-z0-9]{10,32}$/);
    const accounts = (await org.send<{ Accounts: { Id: string }[] }>('ListAccounts')).Accounts.map((a) => a.Id).sort();
    expect(accounts).toEqual([mgmt.accountId, memberId].sort());
    // The member sees its organization.
    const seen = await new OrganizationsClient(c.url, memberCreds).send<{ Organization: { Id: string; MasterAccountId: string } }>('DescribeOrganization');
    expect(seen.Organization).toMatchObject({ Id: orgId, MasterAccountId: mgmt.accountId });
    // The rest of the API is the management account's.
    expect(await errorName(new OrganizationsClient(c.url, memberCreds).send('ListAccounts'))).toBe('AccessDeniedException');
    // AWS creates OrganizationAccountAccessRole in new accounts, trusting the management account.
    const admin = await newUser(mgmtCreds, 'admin', [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${memberId}:role/OrganizationAccountAccessRole` }]);
    const out = await c.client(STSClient, { credentials: admin }).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${memberId}:role/OrganizationAccountAccessRole`, RoleSessionName: 'ops' }));
    const session = { accessKeyId: out.Credentials!.AccessKeyId!, secretAccessKey: out.Credentials!.SecretAccessKey!, sessionToken: out.Credentials!.SessionToken! };
    expect((await c.client(STSClient, { credentials: session }).send(new GetCallerIdentityCommand({}))).Account).toBe(memberId);
    expect(await errorName(c.client(IAMClient, { credentials: session }).send(new ListUsersCommand({})))).toBe('allowed');
  });
});

describe('service control policies', () => {
  it('deny member accounts\' principals, their root user included, what an SCP denies; the management account is not affected', async () => {
    const { c, org, mgmtCreds, memberId, memberCreds, rootId } = await organization();
    // Attaching an SCP needs the policy type enabled on the root.
    const deny = await org.send<{ Policy: { PolicySummary: { Id: string } } }>('CreatePolicy', {
      Name: 'no-buckets', Description: 'x', Type: 'SERVICE_CONTROL_POLICY',
      Content: doc([{ Effect: 'Deny', Action: 's3:CreateBucket', Resource: '*' }]),
    });
    const policyId = deny.Policy.PolicySummary.Id;
    expect(await errorName(org.send('AttachPolicy', { PolicyId: policyId, TargetId: rootId }))).toBe('PolicyTypeNotEnabledException');
    await org.send('EnablePolicyType', { RootId: rootId, PolicyType: 'SERVICE_CONTROL_POLICY' });
    await org.send('AttachPolicy', { PolicyId: policyId, TargetId: rootId });
    const dev = await newUser(memberCreds, 'dev', [{ Effect: 'Allow', Action: '*', Resource: '*' }]);
    const e = await c.client(S3Client, { credentials: dev }).send(new CreateBucketCommand({ Bucket: `scp-${memberId}` })).then(() => undefined, (err: Error) => err);
    expect(e?.name).toBe('AccessDenied');
    expect(await errorName(c.client(S3Client, { credentials: memberCreds }).send(new CreateBucketCommand({ Bucket: `scp-root-${memberId}` })))).toBe('AccessDenied');
    // Other actions stay allowed (FullAWSAccess at every level).
    expect(await errorName(c.client(S3Client, { credentials: dev }).send(new ListBucketsCommand({})))).toBe('allowed');
    // The management account is not limited by SCPs.
    expect(await errorName(c.client(S3Client, { credentials: mgmtCreds }).send(new CreateBucketCommand({ Bucket: `scp-mgmt-${memberId}` })))).toBe('allowed');
    // The explanation names the SCP.
    const cred = c.gateway.credentials.get(dev.accessKeyId)!;
    const d = await c.gateway.decide(cred, 's3:CreateBucket', 'arn:aws:s3:::x', {});
    expect(d.decision).toBe('ExplicitDeny');
    expect(d.reason).toContain('SCP no-buckets');
  });

  it('allow only what every level from the root to the account allows', async () => {
    const { c, org, memberId, memberCreds, rootId } = await organization();
    await org.send('EnablePolicyType', { RootId: rootId, PolicyType: 'SERVICE_CONTROL_POLICY' });
    const ou = (await org.send<{ OrganizationalUnit: { Id: string } }>('CreateOrganizationalUnit', { ParentId: rootId, Name: 'sandbox' })).OrganizationalUnit.Id;
    await org.send('MoveAccount', { AccountId: memberId, SourceParentId: rootId, DestinationParentId: ou });
    const dev = await newUser(memberCreds, 'dev', [{ Effect: 'Allow', Action: '*', Resource: '*' }]);
    const s3 = c.client(S3Client, { credentials: dev });
    const iam = c.client(IAMClient, { credentials: dev });
    // A new OU gets FullAWSAccess, as in AWS; without it nothing is allowed below the OU.
    expect(await errorName(s3.send(new ListBucketsCommand({})))).toBe('allowed');
    await org.send('DetachPolicy', { PolicyId: 'p-FullAWSAccess', TargetId: ou });
    expect(await errorName(s3.send(new ListBucketsCommand({})))).toBe('AccessDenied');
    // An OU allowing IAM only: IAM works, S3 does not (the root and the account allow everything).
    const iamOnly = await org.send<{ Policy: { PolicySummary: { Id: string } } }>('CreatePolicy', {
      Name: 'iam-only', Description: 'x', Type: 'SERVICE_CONTROL_POLICY', Content: doc([{ Effect: 'Allow', Action: 'iam:*', Resource: '*' }]),
    });
    await org.send('AttachPolicy', { PolicyId: iamOnly.Policy.PolicySummary.Id, TargetId: ou });
    expect(await errorName(iam.send(new ListUsersCommand({})))).toBe('allowed');
    expect(await errorName(s3.send(new ListBucketsCommand({})))).toBe('AccessDenied');
    const cred = c.gateway.credentials.get(dev.accessKeyId)!;
    expect((await c.gateway.decide(cred, 's3:ListAllMyBuckets', '*', {})).reason).toMatch(/^no service control policy allows/);
    // The org paths of the member: o-.../r-.../ou-.../
    const m = await c.gateway.service('organizations').membership(memberId);
    expect(m?.orgPath).toBe(`${m?.orgId}/${rootId}/${ou}/`);
  });
});

describe('organization condition keys', () => {
  it('aws:PrincipalOrgID and aws:ResourceOrgID name the organization of the caller and of the resource\'s account', async () => {
    const { c, orgId, memberCreds, mgmt } = await organization();
    const outsider = c.createAccount();
    const outsiderCreds = { accessKeyId: outsider.accessKeyId, secretAccessKey: outsider.secretAccessKey };
    const statement = { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' };
    const member = c.gateway.credentials.get((await newUser(memberCreds, 'u', [statement])).accessKeyId)!;
    const stranger = c.gateway.credentials.get((await newUser(outsiderCreds, 'u', [statement])).accessKeyId)!;
    // A queue policy in the management account that admits the organization only. (The lab cloud
    // serves each account's own resources, so the cross-account call is evaluated, not sent.)
    // The keys as decide() supplies them, from the organization the target keeps.
    const { evaluate } = await import('../../src/cloud/policy/evaluate.ts');
    const resourcePolicy = {
      source: 'queue policy', account: mgmt.accountId,
      document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow' as const, Principal: '*' as const, Action: 'sqs:SendMessage', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': orgId } } }] },
    };
    const ctxOf = async (cred: typeof member) => {
      const [p, r] = await Promise.all([c.gateway.service('organizations').membership(cred.account), c.gateway.service('organizations').membership(mgmt.accountId)]);
      return { ...(p ? { 'aws:PrincipalOrgID': p.orgId } : {}), ...(r ? { 'aws:ResourceOrgID': r.orgId } : {}) };
    };
    const q = `arn:aws:sqs:us-east-1:${mgmt.accountId}:q`;
    const memberCtx = await ctxOf(member);
    expect(memberCtx).toEqual({ 'aws:PrincipalOrgID': orgId, 'aws:ResourceOrgID': orgId });
    expect(evaluate({ action: 'sqs:SendMessage', resource: q, principal: c.gateway.authorizer.principalOf(member), context: memberCtx }, { identity: [{ source: 'u', document: { Statement: [statement as never] } }], resource: resourcePolicy }).decision).toBe('Allow');
    const strangerCtx = await ctxOf(stranger);
    expect(strangerCtx).toEqual({ 'aws:ResourceOrgID': orgId });
    expect(evaluate({ action: 'sqs:SendMessage', resource: q, principal: c.gateway.authorizer.principalOf(stranger), context: strangerCtx }, { identity: [{ source: 'u', document: { Statement: [statement as never] } }], resource: resourcePolicy }).decision).toBe('ImplicitDeny');
  });

  it('are enforced on real requests: a role any principal of the organization may assume (aws:PrincipalOrgID in the trust policy)', async () => {
    const { c, orgId, mgmtCreds, memberCreds, mgmt } = await organization();
    const outsider = c.createAccount();
    await c.client(IAMClient, { credentials: mgmtCreds }).send(new CreateRoleCommand({
      RoleName: 'org-reader',
      AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:PrincipalOrgID': orgId } } }]),
    }));
    const roleArn = `arn:aws:iam::${mgmt.accountId}:role/org-reader`;
    const statement = { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn };
    const insider = await newUser(memberCreds, 'insider', [statement]);
    const stranger = await newUser({ accessKeyId: outsider.accessKeyId, secretAccessKey: outsider.secretAccessKey }, 'stranger', [statement]);
    expect(await errorName(c.client(STSClient, { credentials: insider }).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'in' })))).toBe('allowed');
    expect(await errorName(c.client(STSClient, { credentials: stranger }).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'out' })))).toBe('AccessDenied');
  });

  it('are enforced on real requests: an identity policy that keeps a member\'s principals inside the organization', async () => {
    const { c, orgId, memberCreds, memberId } = await organization();
    const outsider = c.createAccount();
    // Deny every IAM call on resources outside the organization (a "data perimeter" identity policy).
    const dev = await newUser(memberCreds, 'dev', [
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Effect: 'Deny', Action: 'iam:*', Resource: '*', Condition: { StringNotEqualsIfExists: { 'aws:ResourceOrgID': orgId } } },
    ]);
    const cred = c.gateway.credentials.get(dev.accessKeyId)!;
    expect((await c.gateway.decide(cred, 'iam:GetUser', `arn:aws:iam::${memberId}:user/dev`, {})).decision).toBe('Allow');
    expect((await c.gateway.decide(cred, 'iam:GetUser', `arn:aws:iam::${outsider.accountId}:user/x`, {})).decision).toBe('ExplicitDeny');
    // And through the gateway: its own account is inside the organization.
    expect(await errorName(c.client(IAMClient, { credentials: dev }).send(new ListUsersCommand({})))).toBe('allowed');
  });
});
