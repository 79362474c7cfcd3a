// IAM as real clients (Pacu, cloudsplaining, Prowler) use it: every paginated list pages as AWS does,
// GetAccountAuthorizationDetails carries what botocore's model requires, MFA seeds stay secret,
// deletes AWS refuses are refused, the root user is in the credential report and account summary,
// and the operations moto lacks answer in IAM's format. Through the real gateway and moto.
import { describe, expect, it } from 'vitest';
import {
  IAMClient, CreateGroupCommand, ListGroupsCommand, CreateUserCommand, CreateAccessKeyCommand, ListAccessKeysCommand,
  CreateInstanceProfileCommand, ListInstanceProfilesCommand, ListSigningCertificatesCommand, ListSSHPublicKeysCommand,
  CreateAccountAliasCommand, ListAccountAliasesCommand, CreatePolicyCommand, CreatePolicyVersionCommand, ListPolicyVersionsCommand,
  ListUsersCommand, GetAccountAuthorizationDetailsCommand, CreateVirtualMFADeviceCommand, ListVirtualMFADevicesCommand,
  DeleteUserCommand, CreateLoginProfileCommand, DeleteLoginProfileCommand, DeleteAccessKeyCommand, AddUserToGroupCommand,
  RemoveUserFromGroupCommand, DeleteGroupCommand, AttachGroupPolicyCommand, DetachGroupPolicyCommand, DeletePolicyCommand,
  DeletePolicyVersionCommand, AttachUserPolicyCommand, DetachUserPolicyCommand, PutGroupPolicyCommand, DeleteGroupPolicyCommand,
  CreateRoleCommand, DeleteRoleCommand, AddRoleToInstanceProfileCommand, RemoveRoleFromInstanceProfileCommand, PutRolePolicyCommand,
  DeleteRolePolicyCommand, GenerateCredentialReportCommand, GetCredentialReportCommand, GetAccountSummaryCommand,
  ListServiceSpecificCredentialsCommand, GenerateServiceLastAccessedDetailsCommand, GetServiceLastAccessedDetailsCommand,
  ListOrganizationsFeaturesCommand, ListRolesCommand, ListPoliciesCommand, GetGroupCommand, EnableMFADeviceCommand, ListMFADevicesCommand,
  DeactivateMFADeviceCommand, UpdateAccessKeyCommand, GetServiceLastAccessedDetailsWithEntitiesCommand, ListInstanceProfileTagsCommand, ListMFADeviceTagsCommand, TagInstanceProfileCommand, TagMFADeviceCommand, UntagMFADeviceCommand, PutUserPermissionsBoundaryCommand, DeleteVirtualMFADeviceCommand, ListEntitiesForPolicyCommand, GetUserCommand,
  paginateListUsers, paginateGetAccountAuthorizationDetails,
} from '@aws-sdk/client-iam';
import { OrganizationsClient } from '../../src/cloud/services/organizations/client.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
const DOC = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' }] });
const TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] });

function account() {
  const c = cloud();
  const root = c.createAccount();
  const iam = c.client(IAMClient, { credentials: { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey } });
  return { c, root, iam };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    return `${err.name} ${err.$metadata?.httpStatusCode}: ${err.message}`;
  }
}

describe('IAM pagination', () => {
  it('every list Pacu walks has IsTruncated, honours MaxItems and pages with Marker', async () => {
    const { iam } = account();
    for (let i = 0; i < 3; i++) {
      await iam.send(new CreateGroupCommand({ GroupName: `g${i}` }));
      await iam.send(new CreateUserCommand({ UserName: `u${i}` }));
      await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: `ip${i}` }));
    }
    await iam.send(new CreateAccessKeyCommand({ UserName: 'u0' }));
    await iam.send(new CreateAccessKeyCommand({ UserName: 'u0' }));
    await iam.send(new CreateAccountAliasCommand({ AccountAlias: 'lab-alias' }));
    const { Policy } = await iam.send(new CreatePolicyCommand({ PolicyName: 'p', PolicyDocument: DOC }));
    await iam.send(new CreatePolicyVersionCommand({ PolicyArn: Policy!.Arn, PolicyDocument: DOC, SetAsDefault: true }));

    const empty = [
      await iam.send(new ListSigningCertificatesCommand({ UserName: 'u0' })),
      await iam.send(new ListSSHPublicKeysCommand({ UserName: 'u0' })),
      await iam.send(new ListAccountAliasesCommand({})),
    ];
    for (const r of empty) expect(r.IsTruncated).toBe(false);

    const groups1 = await iam.send(new ListGroupsCommand({ MaxItems: 2 }));
    expect(groups1.Groups!.map((g) => g.GroupName)).toEqual(['g0', 'g1']);
    expect(groups1.IsTruncated).toBe(true);
    const groups2 = await iam.send(new ListGroupsCommand({ MaxItems: 2, Marker: groups1.Marker }));
    expect(groups2.Groups!.map((g) => g.GroupName)).toEqual(['g2']);
    expect(groups2.IsTruncated).toBe(false);
    expect(groups2.Marker).toBeUndefined();

    const keys = await iam.send(new ListAccessKeysCommand({ UserName: 'u0', MaxItems: 1 }));
    expect(keys.AccessKeyMetadata).toHaveLength(1);
    expect(keys.IsTruncated).toBe(true);
    const profiles = await iam.send(new ListInstanceProfilesCommand({}));
    expect(profiles.InstanceProfiles).toHaveLength(3);
    expect(profiles.IsTruncated).toBe(false);
    const versions = await iam.send(new ListPolicyVersionsCommand({ PolicyArn: Policy!.Arn, MaxItems: 1 }));
    expect(versions.Versions).toHaveLength(1);
    expect(versions.IsTruncated).toBe(true);

    const users: string[] = [];
    for await (const page of paginateListUsers({ client: iam, pageSize: 1 }, {})) users.push(...page.Users!.map((u) => u.UserName!));
    expect(users).toEqual(['u0', 'u1', 'u2']);
    const roles = await iam.send(new ListRolesCommand({ MaxItems: 1 }));
    expect(roles.IsTruncated).toBe(false);
    const local = await iam.send(new ListPoliciesCommand({ Scope: 'Local', MaxItems: 1 }));
    expect(local.Policies!.map((p) => p.PolicyName)).toEqual(['p']);
    const awsManaged = await iam.send(new ListPoliciesCommand({ Scope: 'AWS' }));
    expect(awsManaged.Policies).toHaveLength(100);
    expect(awsManaged.IsTruncated).toBe(true);

    // Errors of the target stay IAM errors; MaxItems out of range is refused as AWS does.
    expect(await code(iam.send(new ListAccessKeysCommand({ UserName: 'nobody' })))).toMatch(/^NoSuchEntity(Exception)? 404/);
    expect(await code(iam.send(new ListGroupsCommand({ MaxItems: 1001 })))).toMatch(/^ValidationError(Exception)? 400/);
    expect(await code(iam.send(new ListGroupsCommand({ Marker: 'not-a-marker' })))).toMatch(/^InvalidInput(Exception)? 400/);
  });

  it('without UserName, a user lists its own keys and devices; root has none', async () => {
    const { c, iam } = account();
    await iam.send(new CreateUserCommand({ UserName: 'carol' }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'carol', PolicyArn: 'arn:aws:iam::aws:policy/IAMReadOnlyAccess' }));
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'carol' }));
    const carol = c.client(IAMClient, { credentials: { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! } });
    const own = await carol.send(new ListAccessKeysCommand({}));
    expect(own.AccessKeyMetadata!.map((k) => [k.UserName, k.AccessKeyId])).toEqual([['carol', AccessKey!.AccessKeyId]]);
    expect((await carol.send(new ListMFADevicesCommand({}))).MFADevices).toEqual([]);
    expect((await carol.send(new ListSSHPublicKeysCommand({}))).SSHPublicKeys).toEqual([]);
    const rootMfa = await iam.send(new ListMFADevicesCommand({}));
    expect(rootMfa.MFADevices).toEqual([]);
    expect(rootMfa.IsTruncated).toBe(false);
    expect((await iam.send(new ListSigningCertificatesCommand({}))).Certificates).toEqual([]);
  });

  it("a user's permissions boundary shows in GetUser, ListUsers and GetAccountAuthorizationDetails", async () => {
    const { iam } = account();
    await iam.send(new CreateUserCommand({ UserName: 'bounded' }));
    await iam.send(new CreateUserCommand({ UserName: 'free' }));
    const boundary = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
    await iam.send(new PutUserPermissionsBoundaryCommand({ UserName: 'bounded', PermissionsBoundary: boundary }));
    const expected = { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: boundary };
    expect((await iam.send(new GetUserCommand({ UserName: 'bounded' }))).User!.PermissionsBoundary).toEqual(expected);
    expect((await iam.send(new GetUserCommand({ UserName: 'free' }))).User!.PermissionsBoundary).toBeUndefined();
    const users = (await iam.send(new ListUsersCommand({}))).Users!;
    expect(users.find((u) => u.UserName === 'bounded')!.PermissionsBoundary).toEqual(expected);
    expect(users.find((u) => u.UserName === 'free')!.PermissionsBoundary).toBeUndefined();
    const gaad = await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['User'] }));
    expect(gaad.UserDetailList!.find((u) => u.UserName === 'bounded')!.PermissionsBoundary).toEqual(expected);
  });

  it('tag lists moto lacks: ListInstanceProfileTags, ListMFADeviceTags', async () => {
    const { iam } = account();
    await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'web', Tags: [{ Key: 'team', Value: 'web' }, { Key: 'env', Value: 'prod' }] }));
    await iam.send(new TagInstanceProfileCommand({ InstanceProfileName: 'web', Tags: [{ Key: 'owner', Value: 'ops' }] }));
    const tags = await iam.send(new ListInstanceProfileTagsCommand({ InstanceProfileName: 'web', MaxItems: 2 }));
    expect(tags.Tags).toHaveLength(2);
    expect(tags.IsTruncated).toBe(true);
    const rest = await iam.send(new ListInstanceProfileTagsCommand({ InstanceProfileName: 'web', Marker: tags.Marker }));
    expect([...tags.Tags!, ...rest.Tags!].map((t) => t.Key).sort()).toEqual(['env', 'owner', 'team']);
    expect(await code(iam.send(new ListInstanceProfileTagsCommand({ InstanceProfileName: 'nope' })))).toMatch(/^NoSuchEntity(Exception)? 404/);
    const { VirtualMFADevice } = await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: 'tagged', Tags: [{ Key: 'owner', Value: 'dana' }] }));
    const mfaTags = await iam.send(new ListMFADeviceTagsCommand({ SerialNumber: VirtualMFADevice!.SerialNumber }));
    expect(mfaTags.Tags).toEqual([{ Key: 'owner', Value: 'dana' }]);
    await iam.send(new TagMFADeviceCommand({ SerialNumber: VirtualMFADevice!.SerialNumber, Tags: [{ Key: 'kind', Value: 'phone' }] }));
    await iam.send(new UntagMFADeviceCommand({ SerialNumber: VirtualMFADevice!.SerialNumber, TagKeys: ['owner'] }));
    expect((await iam.send(new ListMFADeviceTagsCommand({ SerialNumber: VirtualMFADevice!.SerialNumber }))).Tags).toEqual([{ Key: 'kind', Value: 'phone' }]);
    expect(await code(iam.send(new ListMFADeviceTagsCommand({ SerialNumber: VirtualMFADevice!.SerialNumber!.replace(/tagged$/, 'none') })))).toMatch(/^NoSuchEntity(Exception)? 404/);
  });

  it('GetAccountAuthorizationDetails names its policies and pages the AWS managed ones', async () => {
    const { iam } = account();
    await iam.send(new CreateUserCommand({ UserName: 'alice' }));
    const { Policy } = await iam.send(new CreatePolicyCommand({ PolicyName: 'team-read', Path: '/team/', PolicyDocument: DOC }));
    const first = await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['LocalManagedPolicy', 'User'] }));
    expect(first.UserDetailList!.map((u) => u.UserName)).toEqual(['alice']);
    expect(first.Policies).toEqual([expect.objectContaining({ PolicyName: 'team-read', PolicyId: Policy!.PolicyId, Arn: Policy!.Arn })]);
    expect(first.IsTruncated).toBe(false);

    const page = await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['AWSManagedPolicy'] }));
    expect(page.Policies).toHaveLength(100);
    expect(page.IsTruncated).toBe(true);
    expect(page.Marker).toBeTruthy();
    let total = 0;
    for await (const p of paginateGetAccountAuthorizationDetails({ client: iam, pageSize: 1000 }, { Filter: ['AWSManagedPolicy'] })) {
      for (const pol of p.Policies!) {
        expect(pol.PolicyName).toBeTruthy();
        expect(pol.PolicyId).toBeTruthy();
      }
      total += p.Policies!.length;
    }
    expect(total).toBeGreaterThan(1000);
  }, 120_000);
});

describe('IAM secrets', () => {
  it('ListVirtualMFADevices returns no seed or QR code; CreateVirtualMFADevice does', async () => {
    const { iam } = account();
    const created = await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: 'bob-phone' }));
    expect(created.VirtualMFADevice!.Base32StringSeed?.length).toBeGreaterThan(0);
    const listed = await iam.send(new ListVirtualMFADevicesCommand({}));
    expect(listed.VirtualMFADevices).toHaveLength(1);
    expect(listed.VirtualMFADevices![0]!.SerialNumber).toBe(created.VirtualMFADevice!.SerialNumber);
    expect(listed.VirtualMFADevices![0]!.Base32StringSeed).toBeUndefined();
    expect(listed.VirtualMFADevices![0]!.QRCodePNG).toBeUndefined();
    expect(listed.IsTruncated).toBe(false);
  });
});

describe('IAM DeleteConflict', () => {
  it('a user is deleted only once nothing refers to it', async () => {
    const { c, root, iam } = account();
    await iam.send(new CreateUserCommand({ UserName: 'dev' }));
    await iam.send(new CreateGroupCommand({ GroupName: 'devs' }));
    const { Policy } = await iam.send(new CreatePolicyCommand({ PolicyName: 'dev-policy', PolicyDocument: DOC }));
    await iam.send(new CreateLoginProfileCommand({ UserName: 'dev', Password: 'Correct-Horse-1!' }));
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'dev' }));
    await iam.send(new AddUserToGroupCommand({ UserName: 'dev', GroupName: 'devs' }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'dev', PolicyArn: Policy!.Arn }));
    const { VirtualMFADevice } = await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: 'dev' }));
    const serial = VirtualMFADevice!.SerialNumber!;
    await iam.send(new EnableMFADeviceCommand({
      UserName: 'dev', SerialNumber: serial,
      AuthenticationCode1: c.gateway.service('iam').mfaCode(root.accountId, serial, -1), AuthenticationCode2: c.gateway.service('iam').mfaCode(root.accountId, serial),
    }));
    const del = () => code(iam.send(new DeleteUserCommand({ UserName: 'dev' })));
    expect(await del()).toBe('DeleteConflictException 409: Cannot delete entity, must delete login profile first.');
    await iam.send(new DeleteLoginProfileCommand({ UserName: 'dev' }));
    expect(await del()).toBe('DeleteConflictException 409: Cannot delete entity, must delete access keys first.');
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'dev', AccessKeyId: AccessKey!.AccessKeyId }));
    expect(await del()).toBe('DeleteConflictException 409: Cannot delete entity, must delete MFA device first.');
    expect((await iam.send(new ListMFADevicesCommand({ UserName: 'dev' }))).MFADevices).toHaveLength(1);
    expect(await code(iam.send(new DeleteVirtualMFADeviceCommand({ SerialNumber: serial })))).toBe('DeleteConflictException 409: MFA Device is still in use.');
    await iam.send(new DeactivateMFADeviceCommand({ UserName: 'dev', SerialNumber: serial }));
    await iam.send(new DeleteVirtualMFADeviceCommand({ SerialNumber: serial }));
    expect(await del()).toBe('DeleteConflictException 409: Cannot delete entity, must detach all policies first.');
    await iam.send(new DetachUserPolicyCommand({ UserName: 'dev', PolicyArn: Policy!.Arn }));
    expect(await del()).toBe('DeleteConflictException 409: Cannot delete entity, must remove user from all groups first.');
    await iam.send(new RemoveUserFromGroupCommand({ UserName: 'dev', GroupName: 'devs' }));
    expect(await del()).toBe('ok');
    expect(await code(iam.send(new GetUserCommand({ UserName: 'dev' })))).toMatch(/^NoSuchEntity/);
    expect(await del()).toMatch(/^NoSuchEntity/);
  });

  it('groups, policies and roles too', async () => {
    const { iam } = account();
    await iam.send(new CreateUserCommand({ UserName: 'u' }));
    await iam.send(new CreateGroupCommand({ GroupName: 'g' }));
    const { Policy } = await iam.send(new CreatePolicyCommand({ PolicyName: 'pol', PolicyDocument: DOC }));
    await iam.send(new AddUserToGroupCommand({ UserName: 'u', GroupName: 'g' }));
    await iam.send(new AttachGroupPolicyCommand({ GroupName: 'g', PolicyArn: Policy!.Arn }));
    await iam.send(new PutGroupPolicyCommand({ GroupName: 'g', PolicyName: 'inline', PolicyDocument: DOC }));
    const delGroup = () => code(iam.send(new DeleteGroupCommand({ GroupName: 'g' })));
    expect(await delGroup()).toBe('DeleteConflictException 409: Cannot delete entity, must remove users from group first.');
    expect((await iam.send(new GetGroupCommand({ GroupName: 'g' }))).Users).toHaveLength(1);
    await iam.send(new RemoveUserFromGroupCommand({ UserName: 'u', GroupName: 'g' }));
    expect(await delGroup()).toBe('DeleteConflictException 409: Cannot delete entity, must delete policies first.');
    await iam.send(new DeleteGroupPolicyCommand({ GroupName: 'g', PolicyName: 'inline' }));
    expect(await delGroup()).toBe('DeleteConflictException 409: Cannot delete entity, must detach all policies first.');

    const delPolicy = () => code(iam.send(new DeletePolicyCommand({ PolicyArn: Policy!.Arn })));
    expect((await iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: Policy!.Arn }))).PolicyGroups).toHaveLength(1);
    expect(await delPolicy()).toBe('DeleteConflictException 409: Cannot delete a policy attached to entities.');
    await iam.send(new DetachGroupPolicyCommand({ GroupName: 'g', PolicyArn: Policy!.Arn }));
    expect(await delGroup()).toBe('ok');
    await iam.send(new CreatePolicyVersionCommand({ PolicyArn: Policy!.Arn, PolicyDocument: DOC, SetAsDefault: false }));
    expect(await delPolicy()).toMatch(/^DeleteConflictException 409: This policy has more than one version/);
    await iam.send(new DeletePolicyVersionCommand({ PolicyArn: Policy!.Arn, VersionId: 'v2' }));
    expect(await delPolicy()).toBe('ok');

    await iam.send(new CreateRoleCommand({ RoleName: 'r', AssumeRolePolicyDocument: TRUST }));
    await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'ip' }));
    await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'ip', RoleName: 'r' }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'r', PolicyName: 'inline', PolicyDocument: DOC }));
    const delRole = () => code(iam.send(new DeleteRoleCommand({ RoleName: 'r' })));
    expect(await delRole()).toBe('DeleteConflictException 409: Cannot delete entity, must remove roles from instance profile first.');
    await iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: 'ip', RoleName: 'r' }));
    expect(await delRole()).toBe('DeleteConflictException 409: Cannot delete entity, must delete policies first.');
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'r', PolicyName: 'inline' }));
    expect(await delRole()).toBe('ok');
  });
});

describe('the root user and the operations moto lacks', () => {
  it('the credential report starts with <root_account>; the summary tells root keys truthfully', async () => {
    const { c, root, iam } = account();
    await iam.send(new CreateUserCommand({ UserName: 'alice' }));
    await iam.send(new GenerateCredentialReportCommand({}));
    const report = Buffer.from((await iam.send(new GetCredentialReportCommand({}))).Content!).toString('utf8');
    const [header, rootRow, userRow] = report.trim().split('\n');
    const cols = header!.split(',');
    const row = Object.fromEntries(rootRow!.split(',').map((v, i) => [cols[i], v]));
    expect(row['user']).toBe('<root_account>');
    expect(row['arn']).toBe(`arn:aws:iam::${root.accountId}:root`);
    expect(row['password_enabled']).toBe('not_supported');
    // AWS writes a date or no_information here, never N/A (Prowler's root-usage check parses it).
    expect(row['password_last_used']).toBe('no_information');
    expect(row['mfa_active']).toBe('false');
    // The credential the account was created with is the lab's control credential, not a root key.
    expect(row['access_key_1_active']).toBe('false');
    expect(userRow!.startsWith('alice,')).toBe(true);
    const summary = (await iam.send(new GetAccountSummaryCommand({}))).SummaryMap!;
    expect(summary['AccountAccessKeysPresent']).toBe(0);
    expect(summary['AccountMFAEnabled']).toBe(0);
    expect(summary['Users']).toBe(1);

    // Root keys handed to code (a student phase's) are root access keys while they are active.
    c.gateway.mintRootCredentials(root.accountId);
    expect((await iam.send(new GetAccountSummaryCommand({}))).SummaryMap!['AccountAccessKeysPresent']).toBe(1);
    const report2 = Buffer.from((await iam.send(new GetCredentialReportCommand({}))).Content!).toString('utf8');
    const row2 = Object.fromEntries(report2.split('\n')[1]!.split(',').map((v, i) => [cols[i], v]));
    expect(row2['access_key_1_active']).toBe('true');
  });

  it('root manages its own access keys; they count as root keys, the control credential does not', async () => {
    const { c, iam } = account();
    expect((await iam.send(new ListAccessKeysCommand({}))).AccessKeyMetadata).toEqual([]);
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({}));
    expect(AccessKey!.SecretAccessKey).toBeTruthy();
    const rootKey = c.client(IAMClient, { credentials: { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! } });
    expect((await rootKey.send(new GetAccountSummaryCommand({}))).SummaryMap!['AccountAccessKeysPresent']).toBe(1);
    const listed = await iam.send(new ListAccessKeysCommand({}));
    expect(listed.AccessKeyMetadata!.map((k) => [k.AccessKeyId, k.Status])).toEqual([[AccessKey!.AccessKeyId, 'Active']]);
    await iam.send(new UpdateAccessKeyCommand({ AccessKeyId: AccessKey!.AccessKeyId, Status: 'Inactive' }));
    expect(await code(rootKey.send(new GetAccountSummaryCommand({})))).toMatch(/InvalidClientTokenId/);
    expect((await iam.send(new GetAccountSummaryCommand({}))).SummaryMap!['AccountAccessKeysPresent']).toBe(0);
    await iam.send(new DeleteAccessKeyCommand({ AccessKeyId: AccessKey!.AccessKeyId }));
    expect((await iam.send(new ListAccessKeysCommand({}))).AccessKeyMetadata).toEqual([]);
    expect(await code(iam.send(new DeleteAccessKeyCommand({ AccessKeyId: AccessKey!.AccessKeyId })))).toMatch(/^NoSuchEntity(Exception)? 404/);
  });

  it('ListServiceSpecificCredentials, service last accessed and ListOrganizationsFeatures answer as IAM does', async () => {
    const { root, iam } = account();
    await iam.send(new CreateUserCommand({ UserName: 'alice' }));
    const creds = await iam.send(new ListServiceSpecificCredentialsCommand({ UserName: 'alice' }));
    expect(creds.ServiceSpecificCredentials).toEqual([]);
    expect(await code(iam.send(new ListServiceSpecificCredentialsCommand({ UserName: 'nobody' })))).toMatch(/^NoSuchEntity(Exception)? 404/);
    expect((await iam.send(new ListServiceSpecificCredentialsCommand({}))).ServiceSpecificCredentials).toEqual([]);

    const arn = `arn:aws:iam::${root.accountId}:user/alice`;
    const { JobId } = await iam.send(new GenerateServiceLastAccessedDetailsCommand({ Arn: arn }));
    expect(JobId).toMatch(/^[0-9a-f-]{36}$/);
    const job = await iam.send(new GetServiceLastAccessedDetailsCommand({ JobId }));
    expect(job.JobStatus).toBe('COMPLETED');
    expect(job.ServicesLastAccessed).toEqual([]);
    expect(job.JobCompletionDate).toBeInstanceOf(Date);
    expect(await code(iam.send(new GenerateServiceLastAccessedDetailsCommand({ Arn: `arn:aws:iam::${root.accountId}:user/nobody` })))).toMatch(/^NoSuchEntity(Exception)? 404/);
    expect(await code(iam.send(new GetServiceLastAccessedDetailsCommand({ JobId: '00000000-0000-0000-0000-000000000000' })))).toMatch(/^NoSuchEntity(Exception)? 404/);

    expect(await code(iam.send(new ListOrganizationsFeaturesCommand({})))).toMatch(/^OrganizationNotFoundException 400/);
  });

  it('ListOrganizationsFeatures: the management account sees its organization, members are refused', async () => {
    const { c, root, iam } = account();
    const orgs = new OrganizationsClient(c.url, { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey });
    const { Organization } = await orgs.send<{ Organization: { Id: string } }>('CreateOrganization', { FeatureSet: 'ALL' });
    const features = await iam.send(new ListOrganizationsFeaturesCommand({}));
    expect(features.OrganizationId).toBe(Organization.Id);
    expect(features.EnabledFeatures).toEqual([]);
    const created = await orgs.send<{ CreateAccountStatus: { AccountId?: string } }>('CreateAccount', { Email: 'member@example.com', AccountName: 'member' });
    const memberId = created.CreateAccountStatus.AccountId!;
    const memberRoot = c.gateway.mintRootCredentials(memberId);
    const member = c.client(IAMClient, { credentials: memberRoot });
    expect(await code(member.send(new ListOrganizationsFeaturesCommand({})))).toMatch(/^AccountNotManagementOrDelegatedAdministratorException 400/);
  });

  it('service last accessed comes from CloudTrail', async () => {
    const { c, root, iam } = account();
    await iam.send(new CreateUserCommand({ UserName: 'bob' }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'bob', PolicyArn: 'arn:aws:iam::aws:policy/IAMReadOnlyAccess' }));
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }));
    const bob = c.client(IAMClient, { credentials: { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! } });
    await bob.send(new ListUsersCommand({}));
    const { JobId } = await iam.send(new GenerateServiceLastAccessedDetailsCommand({ Arn: `arn:aws:iam::${root.accountId}:user/bob` }));
    const job = await iam.send(new GetServiceLastAccessedDetailsCommand({ JobId }));
    expect(job.ServicesLastAccessed).toEqual([expect.objectContaining({ ServiceNamespace: 'iam', LastAuthenticatedEntity: `arn:aws:iam::${root.accountId}:user/bob` })]);
    const entities = await iam.send(new GetServiceLastAccessedDetailsWithEntitiesCommand({ JobId, ServiceNamespace: 'iam' }));
    expect(entities.EntityDetailsList).toEqual([expect.objectContaining({ EntityInfo: expect.objectContaining({ Name: 'bob', Type: 'USER', Arn: `arn:aws:iam::${root.accountId}:user/bob` }) })]);
    expect((await iam.send(new GetServiceLastAccessedDetailsWithEntitiesCommand({ JobId, ServiceNamespace: 's3' }))).EntityDetailsList).toEqual([]);
  });
});
