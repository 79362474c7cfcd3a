// S3 Control and AWS Account Management through the gateway, with the AWS SDK for JavaScript v3:
// S3 Control requests go to `<account>.<endpoint host>` (the SDK prefixes the account id, as boto3
// and the AWS CLI do), signed as s3, under /v20180820/; the gateway identifies them as s3control,
// authorizes them with S3's actions, checks x-amz-account-id against the caller and records them in
// CloudTrail as s3.amazonaws.com events. Account Management is answered by the lab cloud itself.
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import {
  S3ControlClient, GetPublicAccessBlockCommand, PutPublicAccessBlockCommand, DeletePublicAccessBlockCommand,
  ListAccessPointsCommand, ListMultiRegionAccessPointsCommand, CreateAccessPointCommand, GetAccessPointCommand,
  GetAccessPointPolicyCommand, ListStorageLensConfigurationsCommand, PutAccessPointPolicyCommand, GetAccessPointPolicyStatusCommand,
} from '@aws-sdk/client-s3-control';
import {
  AccountClient, GetContactInformationCommand, PutContactInformationCommand, GetAlternateContactCommand,
  PutAlternateContactCommand, DeleteAlternateContactCommand,
} from '@aws-sdk/client-account';
import { S3Client, CreateBucketCommand, DeletePublicAccessBlockCommand as DeleteBucketPublicAccessBlockCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { useLabCloud } from '../helpers/cloud.ts';
import { OrganizationsClient } from '../../src/cloud/services/organizations/client.ts';
import { identify, rawRequest } from '../../src/cloud/gateway/protocol/identify.ts';
import { toAuthz } from '../../src/cloud/gateway/protocol/authz-map.ts';

const { cloud } = useLabCloud();

/** `<account>.127.0.0.1` and `<account>.localhost` are the gateway (as HTTPS_PROXY=$SECLAB_PROXY makes them for the CLI). */
const agent = new http.Agent({
  keepAlive: false,
  lookup: ((_host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) =>
    (opts?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4))) as never,
});

type Creds = { accessKeyId: string; secretAccessKey: string };

function s3control(creds: Creds, region?: string): S3ControlClient {
  const c = cloud();
  return new S3ControlClient({
    // `<account>.127.0.0.1` is no URL: the endpoint is named, as `seclab env`'s HTTPS one is.
    region: region ?? c.region, endpoint: c.url.replace('127.0.0.1', 'localhost'), credentials: creds, maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpAgent: agent }),
  });
}

function creds(root: { accessKeyId: string; secretAccessKey: string }): Creds {
  return { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
}

describe('S3 Control through the gateway (SDK v3)', { timeout: 120_000 }, () => {
  it('identifies /v20180820 requests as s3control with S3 actions, whatever the host', () => {
    const req = rawRequest('GET', '/v20180820/configuration/publicAccessBlock', {
      host: '123456789012.localhost:4566', 'x-amz-account-id': '123456789012',
      authorization: 'AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00',
    });
    const call = identify(req);
    expect(call).toMatchObject({ service: 's3control', eventSource: 's3.amazonaws.com', operation: 'GetPublicAccessBlock', protocol: 'rest-xml', params: { AccountId: '123456789012' } });
    expect(toAuthz(call, '123456789012')).toMatchObject({ action: 's3:GetAccountPublicAccessBlock', resources: ['*'] });
    const policy = identify(rawRequest('GET', '/v20180820/accesspoint/ap1/policy', { 'x-amz-account-id': '123456789012', authorization: req.headers['authorization'] }));
    expect(policy).toMatchObject({ service: 's3control', operation: 'GetAccessPointPolicy', params: { Name: 'ap1' } });
    expect(toAuthz(policy, '123456789012')).toMatchObject({ action: 's3:GetAccessPointPolicy', resources: ['arn:aws:s3:us-east-1:123456789012:accesspoint/ap1'] });
    const list = identify(rawRequest('GET', '/v20180820/mrap/instances?maxResults=5', { 'x-amz-account-id': '123456789012', authorization: req.headers['authorization'] }));
    expect(list).toMatchObject({ operation: 'ListMultiRegionAccessPoints', params: { MaxResults: '5' } });
    expect(toAuthz(list, '123456789012').action).toBe('s3:ListMultiRegionAccessPoints');
    // A bucket request is still one; `/v20180820` alone is refused as a bucket name (see wire.ts).
    expect(identify(rawRequest('GET', '/v20180820x/key', { authorization: req.headers['authorization'] })).service).toBe('s3');
  });

  it('account Block Public Access: 404 before any, put, get, delete; access points; MRAP and Storage Lens lists; CloudTrail', async () => {
    const c = cloud();
    const root = c.createAccount();
    const client = s3control(creds(root));
    const AccountId = root.accountId;
    const before = await client.send(new GetPublicAccessBlockCommand({ AccountId })).catch((e: unknown) => e);
    expect(before).toMatchObject({ name: 'NoSuchPublicAccessBlockConfiguration', $metadata: { httpStatusCode: 404 } });
    const config = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: false };
    await client.send(new PutPublicAccessBlockCommand({ AccountId, PublicAccessBlockConfiguration: config }));
    const got = await client.send(new GetPublicAccessBlockCommand({ AccountId }));
    expect(got.PublicAccessBlockConfiguration).toEqual(config);
    await client.send(new DeletePublicAccessBlockCommand({ AccountId }));
    await expect(client.send(new GetPublicAccessBlockCommand({ AccountId }))).rejects.toMatchObject({ name: 'NoSuchPublicAccessBlockConfiguration' });

    expect((await client.send(new ListAccessPointsCommand({ AccountId }))).AccessPointList ?? []).toEqual([]);
    const bucket = `ap-${AccountId}`;
    await c.client(S3Client, { credentials: creds(root) }).send(new CreateBucketCommand({ Bucket: bucket }));
    const created = await client.send(new CreateAccessPointCommand({ AccountId, Name: 'reports', Bucket: bucket }));
    expect(created.AccessPointArn).toBe(`arn:aws:s3:${c.region}:${AccountId}:accesspoint/reports`);
    const aps = await client.send(new ListAccessPointsCommand({ AccountId }));
    expect(aps.AccessPointList?.map((a) => [a.Name, a.Bucket])).toEqual([['reports', bucket]]);
    const ap = await client.send(new GetAccessPointCommand({ AccountId, Name: 'reports' }));
    expect(ap).toMatchObject({ Name: 'reports', Bucket: bucket, NetworkOrigin: 'Internet' });
    await expect(client.send(new GetAccessPointPolicyCommand({ AccountId, Name: 'reports' }))).rejects.toMatchObject({ name: 'NoSuchAccessPointPolicy' });
    expect((await client.send(new ListMultiRegionAccessPointsCommand({ AccountId }))).AccessPoints ?? []).toEqual([]);
    expect((await client.send(new ListStorageLensConfigurationsCommand({ AccountId }))).StorageLensConfigurationList ?? []).toEqual([]);

    const trail = c.gateway.service('cloudtrail').trail.all(AccountId).filter((r) => r.eventSource === 's3.amazonaws.com' && r.eventName !== 'CreateBucket');
    expect(trail.map((r) => [r.eventName, r.errorCode ?? null])).toEqual(expect.arrayContaining([
      ['GetPublicAccessBlock', 'NoSuchPublicAccessBlockConfiguration'],
      ['PutPublicAccessBlock', null],
      ['DeletePublicAccessBlock', null],
      ['ListAccessPoints', null],
      ['ListMultiRegionAccessPoints', null],
      ['CreateAccessPoint', null],
    ]));
  });

  it('another account\'s id is AccessDenied; an IAM user needs s3:GetAccountPublicAccessBlock', async () => {
    const c = cloud();
    const root = c.createAccount();
    const other = c.createAccount();
    const client = s3control(creds(root));
    const refused = await client.send(new GetPublicAccessBlockCommand({ AccountId: other.accountId })).catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    // Errors are S3 Control's nested XML (here: an unsigned request, which the lab cloud refuses).
    const raw = await fetch(`${c.url}/v20180820/configuration/publicAccessBlock`, { headers: { 'x-amz-account-id': root.accountId } });
    expect(raw.status).toBeGreaterThanOrEqual(400);
    expect(await raw.text()).toMatch(/^<\?xml[^>]*>\n<ErrorResponse><Error><Code>\w+<\/Code><Message>[^<]+<\/Message><\/Error><RequestId>/);

    const iam = c.client(IAMClient, { credentials: creds(root) });
    await iam.send(new CreateUserCommand({ UserName: 'auditor' }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'auditor' }))).AccessKey!;
    const auditor = s3control({ accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! });
    await expect(auditor.send(new GetPublicAccessBlockCommand({ AccountId: root.accountId }))).rejects.toMatchObject({ name: 'AccessDenied' });
    await iam.send(new PutUserPolicyCommand({
      UserName: 'auditor', PolicyName: 'pab',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetAccountPublicAccessBlock', 's3:ListAccessPoints'], Resource: '*' }] }),
    }));
    await expect(auditor.send(new GetPublicAccessBlockCommand({ AccountId: root.accountId }))).rejects.toMatchObject({ name: 'NoSuchPublicAccessBlockConfiguration' });
    await expect(auditor.send(new ListAccessPointsCommand({ AccountId: root.accountId }))).resolves.toBeTruthy();
    await expect(auditor.send(new PutPublicAccessBlockCommand({ AccountId: root.accountId, PublicAccessBlockConfiguration: { BlockPublicAcls: true } })))
      .rejects.toMatchObject({ name: 'AccessDenied' });
    const denied = c.gateway.service('cloudtrail').trail.all(root.accountId).filter((r) => r.eventName === 'PutPublicAccessBlock');
    expect(denied.map((r) => r.errorCode)).toEqual(['AccessDenied']);
  });
  it('access points belong to their Region; the policy status says whether the policy is public', async () => {
    const c = cloud();
    const root = c.createAccount();
    const AccountId = root.accountId;
    const here = s3control(creds(root));
    const eu = s3control(creds(root), 'eu-west-1');
    const bucket = `apr-${AccountId}`;
    await c.client(S3Client, { credentials: creds(root) }).send(new CreateBucketCommand({ Bucket: bucket }));
    const created = await eu.send(new CreateAccessPointCommand({ AccountId, Name: 'eu-ap', Bucket: bucket }));
    expect(created.AccessPointArn).toBe(`arn:aws:s3:eu-west-1:${AccountId}:accesspoint/eu-ap`);
    expect((await eu.send(new GetAccessPointCommand({ AccountId, Name: 'eu-ap' }))).AccessPointArn).toBe(created.AccessPointArn);
    expect((await eu.send(new ListAccessPointsCommand({ AccountId }))).AccessPointList?.map((a) => a.AccessPointArn)).toEqual([created.AccessPointArn]);
    expect((await here.send(new ListAccessPointsCommand({ AccountId }))).AccessPointList ?? []).toEqual([]);
    await expect(here.send(new GetAccessPointCommand({ AccountId, Name: 'eu-ap' }))).rejects.toMatchObject({ name: 'NoSuchAccessPoint', $metadata: { httpStatusCode: 404 } });

    await here.send(new CreateAccessPointCommand({ AccountId, Name: 'home', Bucket: bucket }));
    const arn = `arn:aws:s3:${c.region}:${AccountId}:accesspoint/home`;
    const policy = (principal: unknown) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: principal, Action: 's3:GetObject', Resource: `${arn}/object/*` }] });
    await here.send(new PutAccessPointPolicyCommand({ AccountId, Name: 'home', Policy: policy({ AWS: `arn:aws:iam::${AccountId}:root` }) }));
    expect((await here.send(new GetAccessPointPolicyStatusCommand({ AccountId, Name: 'home' }))).PolicyStatus?.IsPublic).toBe(false);
    await here.send(new PutAccessPointPolicyCommand({ AccountId, Name: 'home', Policy: policy('*') }));
    expect((await here.send(new GetAccessPointPolicyStatusCommand({ AccountId, Name: 'home' }))).PolicyStatus?.IsPublic).toBe(true);
  });

  it('the account\'s BlockPublicPolicy, set through S3 Control, refuses a public bucket policy until it is deleted', async () => {
    const c = cloud();
    const root = c.createAccount();
    const client = s3control(creds(root));
    const s3 = c.client(S3Client, { credentials: creds(root) });
    const bucket = `bpa-${root.accountId}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new DeleteBucketPublicAccessBlockCommand({ Bucket: bucket }));
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }] });
    await client.send(new PutPublicAccessBlockCommand({ AccountId: root.accountId, PublicAccessBlockConfiguration: { BlockPublicPolicy: true } }));
    await expect(s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }))).rejects.toMatchObject({ name: 'AccessDenied' });
    await client.send(new DeletePublicAccessBlockCommand({ AccountId: root.accountId }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }));
  });
});

describe('AWS Account Management (SDK v3)', { timeout: 120_000 }, () => {
  it('contact information and alternate contacts: not found, put, get, delete; validation; CloudTrail', async () => {
    const c = cloud();
    const root = c.createAccount();
    const account = c.client(AccountClient, { credentials: creds(root) });
    // Every account has its sign-up contact.
    expect((await account.send(new GetContactInformationCommand({}))).ContactInformation).toMatchObject({ FullName: 'Lab Student', CountryCode: 'US' });
    const info = { FullName: 'Ana Lopez', AddressLine1: '1 Main St', City: 'Seattle', PostalCode: '98101', CountryCode: 'US', PhoneNumber: '+12065550100', CompanyName: 'Example Corp' };
    await account.send(new PutContactInformationCommand({ ContactInformation: info }));
    expect((await account.send(new GetContactInformationCommand({}))).ContactInformation).toEqual(info);

    await expect(account.send(new GetAlternateContactCommand({ AlternateContactType: 'SECURITY' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(account.send(new DeleteAlternateContactCommand({ AlternateContactType: 'SECURITY' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    const sec = { AlternateContactType: 'SECURITY' as const, Name: 'SOC', Title: 'Security team', EmailAddress: 'soc@example.com', PhoneNumber: '+12065550199' };
    await account.send(new PutAlternateContactCommand(sec));
    expect((await account.send(new GetAlternateContactCommand({ AlternateContactType: 'SECURITY' }))).AlternateContact).toEqual(sec);
    await expect(account.send(new GetAlternateContactCommand({ AlternateContactType: 'BILLING' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(account.send(new GetAlternateContactCommand({ AlternateContactType: 'PAYROLL' as never }))).rejects.toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    await expect(account.send(new PutAlternateContactCommand({ ...sec, EmailAddress: undefined as never }))).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(account.send(new GetAlternateContactCommand({ AlternateContactType: 'SECURITY', AccountId: c.createAccount().accountId }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await account.send(new DeleteAlternateContactCommand({ AlternateContactType: 'SECURITY' }));
    await expect(account.send(new GetAlternateContactCommand({ AlternateContactType: 'SECURITY' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });

    // State per account, dropped with it.
    const other = c.createAccount();
    expect((await c.client(AccountClient, { credentials: creds(other) }).send(new GetContactInformationCommand({}))).ContactInformation?.FullName).toBe('Lab Student');
    const names = c.gateway.service('cloudtrail').trail.all(root.accountId).filter((r) => r.eventSource === 'account.amazonaws.com').map((r) => [r.eventName, r.errorCode ?? null]);
    expect(names).toEqual(expect.arrayContaining([['GetContactInformation', null], ['PutContactInformation', null], ['PutAlternateContact', null], ['DeleteAlternateContact', null]]));
    c.gateway.dropAccount(root.accountId);
    expect(c.gateway.service('account').contactInformation(root.accountId)).toBeUndefined();
  });

  it('an IAM user needs account:GetAlternateContact on the account', async () => {
    const c = cloud();
    const root = c.createAccount();
    const iam = c.client(IAMClient, { credentials: creds(root) });
    await iam.send(new CreateUserCommand({ UserName: 'reader' }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'reader' }))).AccessKey!;
    const reader = c.client(AccountClient, { credentials: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! } });
    await expect(reader.send(new GetAlternateContactCommand({ AlternateContactType: 'SECURITY' }))).rejects.toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } });
    await iam.send(new PutUserPolicyCommand({
      UserName: 'reader', PolicyName: 'contacts',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'account:GetAlternateContact', Resource: `arn:aws:account::${root.accountId}:account`, Condition: { 'ForAllValues:StringEquals': { 'account:AlternateContactTypes': ['SECURITY'] } } }] }),
    }));
    await expect(reader.send(new GetAlternateContactCommand({ AlternateContactType: 'SECURITY' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(reader.send(new GetAlternateContactCommand({ AlternateContactType: 'BILLING' }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('the management account acts on a member\'s contacts once trusted access is enabled; a member cannot act on another', async () => {
    const c = cloud();
    const mgmt = c.createAccount();
    const org = new OrganizationsClient(c.url, creds(mgmt));
    const created = await org.send<{ Organization: { Id: string } }>('CreateOrganization', { FeatureSet: 'ALL' });
    const memberId = (await org.send<{ CreateAccountStatus: { AccountId: string } }>('CreateAccount', { Email: 'dev@example.com', AccountName: 'dev' })).CreateAccountStatus.AccountId;
    const asMgmt = c.client(AccountClient, { credentials: creds(mgmt) });
    const sec = { AccountId: memberId, AlternateContactType: 'SECURITY' as const, Name: 'SOC', Title: 'SOC', EmailAddress: 'soc@example.com', PhoneNumber: '+12065550199' };
    await expect(asMgmt.send(new PutAlternateContactCommand(sec))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await org.send('EnableAWSServiceAccess', { ServicePrincipal: 'account.amazonaws.com' });
    await asMgmt.send(new PutAlternateContactCommand(sec));
    expect(c.gateway.service('account').alternateContact(memberId, 'SECURITY')).toMatchObject({ Name: 'SOC' });
    expect(c.gateway.service('account').alternateContact(mgmt.accountId, 'SECURITY')).toBeUndefined();
    // The member sees it as its own; it cannot act on the management account.
    const member = c.client(AccountClient, { credentials: c.gateway.mintRootCredentials(memberId) });
    expect((await member.send(new GetAlternateContactCommand({ AlternateContactType: 'SECURITY' }))).AlternateContact?.Name).toBe('SOC');
    await expect(member.send(new GetAlternateContactCommand({ AccountId: mgmt.accountId, AlternateContactType: 'SECURITY' }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    // An IAM user of the management account is authorized on the member's accountInOrganization ARN.
    const iam = c.client(IAMClient, { credentials: creds(mgmt) });
    await iam.send(new CreateUserCommand({ UserName: 'contacts' }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'contacts' }))).AccessKey!;
    await iam.send(new PutUserPolicyCommand({
      UserName: 'contacts', PolicyName: 'member',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'account:GetAlternateContact', Resource: `arn:aws:account::${mgmt.accountId}:account/${created.Organization.Id}/${memberId}` }] }),
    }));
    const user = c.client(AccountClient, { credentials: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! } });
    expect((await user.send(new GetAlternateContactCommand({ AccountId: memberId, AlternateContactType: 'SECURITY' }))).AlternateContact?.Name).toBe('SOC');
    await expect(user.send(new GetAlternateContactCommand({ AlternateContactType: 'SECURITY' }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});
