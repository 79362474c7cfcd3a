// The instance metadata service of the lab cloud's EC2 instances (src/cloud/services/ec2/imds.ts,
// docs/imds.md), through the real gateway and moto: IMDSv1 and IMDSv2 as the EC2 User Guide
// describes them, HttpTokens, the PUT response hop limit, HttpEndpoint, instance tags, and the
// instance profile's role credentials working against the gateway as the role, in CloudTrail with the
// instance id as session name, expiring on the lab clock.
import { describe, expect, it } from 'vitest';
import {
  EC2Client, RunInstancesCommand, DescribeImagesCommand, DescribeInstancesCommand, ModifyInstanceMetadataOptionsCommand,
  AssociateIamInstanceProfileCommand, CreateTagsCommand, StopInstancesCommand, type InstanceMetadataOptionsRequest,
} from '@aws-sdk/client-ec2';
import {
  IAMClient, CreateRoleCommand, PutRolePolicyCommand, CreateInstanceProfileCommand, AddRoleToInstanceProfileCommand, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { S3Client, ListBucketsCommand, CreateBucketCommand } from '@aws-sdk/client-s3';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { useLabCloud } from '../helpers/cloud.ts';
import type { RootCredentials } from '../../src/cloud/gateway/server.ts';

const { cloud } = useLabCloud();

const EC2_TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
const LAMBDA_TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
const allow = (action: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] });

function account() {
  const c = cloud();
  const root = c.createAccount();
  const credentials = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
  return { c, root, ec2: c.client(EC2Client, { credentials }), iam: c.client(IAMClient, { credentials }), imds: c.gateway.service('ec2').imds };
}

async function launch(ec2: EC2Client, opts: { metadata?: InstanceMetadataOptionsRequest; profile?: string; userData?: string } = {}): Promise<string> {
  const amis = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
  const run = await ec2.send(new RunInstancesCommand({
    ImageId: amis.Images![0]!.ImageId!, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro',
    ...(opts.metadata ? { MetadataOptions: opts.metadata } : {}),
    ...(opts.profile ? { IamInstanceProfile: { Name: opts.profile } } : {}),
    ...(opts.userData ? { UserData: Buffer.from(opts.userData).toString('base64') } : {}),
  }));
  return run.Instances![0]!.InstanceId!;
}

async function profile(iam: IAMClient, name: string, policy: string, trust = EC2_TRUST): Promise<string> {
  await iam.send(new CreateRoleCommand({ RoleName: `${name}-role`, AssumeRolePolicyDocument: trust }));
  await iam.send(new PutRolePolicyCommand({ RoleName: `${name}-role`, PolicyName: 'p', PolicyDocument: policy }));
  await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: name }));
  await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: name, RoleName: `${name}-role` }));
  return name;
}

async function options(ec2: EC2Client, id: string) {
  return (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!.MetadataOptions;
}

const IMDS = 'http://169.254.169.254';

describe('EC2 instance metadata service (IMDS)', { timeout: 120_000 }, () => {
  it('IMDSv1: a GET without a token answers when HttpTokens is optional (the default); the categories of the instance', async () => {
    const { root, ec2, imds } = account();
    const id = await launch(ec2, { userData: '#cloud-config\npackages: [nginx]\n' });
    expect(await options(ec2, id)).toMatchObject({ HttpTokens: 'optional', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled', InstanceMetadataTags: 'disabled' });
    const get = (p: string) => imds.ssrf(root.accountId, id, `${IMDS}${p}`);
    const inst = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
    expect(await get('/latest/meta-data/instance-id')).toMatchObject({ status: 200, body: id });
    expect((await get('/latest/meta-data/ami-id')).body).toBe(inst.ImageId);
    expect((await get('/latest/meta-data/instance-type')).body).toBe('t3.micro');
    expect((await get('/latest/meta-data/local-ipv4')).body).toBe(inst.PrivateIpAddress);
    expect((await get('/latest/meta-data/placement/availability-zone')).body).toBe(inst.Placement!.AvailabilityZone);
    expect((await get('/latest/meta-data/placement/region')).body).toBe(cloud().region);
    expect((await get('/latest/meta-data/hostname')).body).toBe(inst.PrivateDnsName);
    const mac = (await get('/latest/meta-data/mac')).body;
    expect(mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect((await get(`/latest/meta-data/network/interfaces/macs/${mac}/local-ipv4s`)).body).toBe(inst.PrivateIpAddress);
    if (inst.PublicIpAddress) expect((await get('/latest/meta-data/public-ipv4')).body).toBe(inst.PublicIpAddress);
    const listing = (await get('/latest/meta-data/')).body.split('\n');
    expect(listing).toEqual(expect.arrayContaining(['ami-id', 'instance-id', 'instance-type', 'local-ipv4', 'mac', 'network/', 'placement/', 'hostname']));
    // No instance profile: no iam/ category.
    expect(listing).not.toContain('iam/');
    expect((await get('/latest/meta-data/iam/info')).status).toBe(404);
    expect((await get('/latest/meta-data/iam/security-credentials/')).status).toBe(404);
    // Tags only with InstanceMetadataTags enabled.
    expect((await get('/latest/meta-data/tags/instance/')).status).toBe(404);
    expect(await get('/latest/user-data')).toMatchObject({ status: 200, body: '#cloud-config\npackages: [nginx]\n' });
    expect(JSON.parse((await get('/latest/dynamic/instance-identity/document')).body)).toMatchObject({ accountId: root.accountId, instanceId: id, region: cloud().region });
    expect((await get('/latest/meta-data/no-such-thing')).status).toBe(404);
    // Hop limit 1 alone: a containerised app gets no token but falls back to IMDSv1.
    expect((await imds.request(root.accountId, id, '/latest/api/token', { method: 'PUT', hops: 2, headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' }, timeoutMs: 1000 })).status).toBe(0);
    expect(await imds.sdkGet(root.accountId, id, '/latest/meta-data/instance-id', { hops: 2 })).toMatchObject({ status: 200, body: id });
    // Only the instance's metadata address is modelled behind the vulnerable app.
    expect((await imds.ssrf(root.accountId, id, 'http://example.com/')).status).toBe(0);
  });

  it('IMDSv2: PUT /latest/api/token with a TTL of 1-21600 seconds; the token in X-aws-ec2-metadata-token; bad or expired tokens are 401', async () => {
    const { c, root, ec2, imds } = account();
    const id = await launch(ec2);
    const put = (ttl?: string, headers: Record<string, string> = {}) =>
      imds.request(root.accountId, id, '/latest/api/token', { method: 'PUT', headers: { ...(ttl !== undefined ? { 'x-aws-ec2-metadata-token-ttl-seconds': ttl } : {}), ...headers } });
    for (const bad of [undefined, '0', '21601', 'abc', '-5']) expect((await put(bad)).status, `ttl ${bad}`).toBe(400);
    expect((await put('21600')).status).toBe(200);
    const t = await put('60');
    expect(t.status).toBe(200);
    expect(t.headers['x-aws-ec2-metadata-token-ttl-seconds']).toBe('60');
    const withToken = (token: string) => imds.request(root.accountId, id, '/latest/meta-data/instance-id', { headers: { 'x-aws-ec2-metadata-token': token } });
    expect(await withToken(t.body)).toMatchObject({ status: 200, body: id });
    expect((await withToken('AQAEAnot-a-real-token==')).status).toBe(401);
    // A token request through a proxy (X-Forwarded-For) is refused; GET on the token path is not allowed.
    expect((await put('60', { 'x-forwarded-for': '203.0.113.9' })).status).toBe(403);
    expect((await imds.request(root.accountId, id, '/latest/api/token')).status).toBe(405);
    // Tokens expire on the lab clock.
    await c.gateway.clock.advance(61_000);
    expect((await withToken(t.body)).status).toBe(401);
    // A token is this instance's only.
    const other = await launch(ec2);
    const t2 = await put('600');
    expect((await imds.request(root.accountId, other, '/latest/meta-data/instance-id', { headers: { 'x-aws-ec2-metadata-token': t2.body } })).status).toBe(401);
    // The SDK's way: IMDSv2 first.
    expect(await imds.sdkGet(root.accountId, id, '/latest/meta-data/instance-id', { v1Fallback: false })).toMatchObject({ status: 200, body: id });
  });

  it('HttpTokens=required: the SSRF attacker without the PUT gets 401; the token flow still works', async () => {
    const { root, ec2, imds } = account();
    const id = await launch(ec2, { metadata: { HttpTokens: 'required' } });
    expect(await options(ec2, id)).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    expect((await imds.ssrf(root.accountId, id, `${IMDS}/latest/meta-data/instance-id`)).status).toBe(401);
    expect((await imds.ssrf(root.accountId, id, `${IMDS}/latest/meta-data/`)).status).toBe(401);
    expect(await imds.sdkGet(root.accountId, id, '/latest/meta-data/instance-id')).toMatchObject({ status: 200, body: id });
  });

  it('hop limit: a token PUT from farther than HttpPutResponseHopLimit gets no answer; ModifyInstanceMetadataOptions takes effect and keeps what it does not name', async () => {
    const { root, ec2, imds } = account();
    const id = await launch(ec2, { metadata: { HttpTokens: 'required', HttpPutResponseHopLimit: 1, InstanceMetadataTags: 'enabled' } });
    const token = (hops: number) => imds.request(root.accountId, id, '/latest/api/token', { method: 'PUT', hops, headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '300' }, timeoutMs: 1000 });
    expect((await token(1)).status).toBe(200);
    // A containerised app (one more hop): the PUT's response is lost, so the SDK has no token, and no IMDSv1 either.
    const dropped = await token(2);
    expect(dropped.status).toBe(0);
    expect(dropped.error).toMatch(/no response/);
    expect((await imds.accessLog(root.accountId, id)).slice(-1)[0]).toMatchObject({ method: 'PUT', path: '/latest/api/token', status: 0, hops: 2, version: '2.0' });
    expect((await imds.sdkGet(root.accountId, id, '/latest/meta-data/instance-id', { hops: 2 })).status).toBe(401);
    const mod = await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpPutResponseHopLimit: 2 }));
    expect(mod.InstanceMetadataOptions).toMatchObject({ State: 'pending', HttpPutResponseHopLimit: 2, HttpTokens: 'required', InstanceMetadataTags: 'enabled', HttpEndpoint: 'enabled' });
    // moto would have reset HttpTokens and InstanceMetadataTags: AWS keeps them.
    expect(await options(ec2, id)).toMatchObject({ State: 'applied', HttpTokens: 'required', HttpPutResponseHopLimit: 2, HttpEndpoint: 'enabled', InstanceMetadataTags: 'enabled' });
    expect((await token(2)).status).toBe(200);
    expect((await token(3)).status).toBe(0);
    expect(await imds.sdkGet(root.accountId, id, '/latest/meta-data/instance-id', { hops: 2 })).toMatchObject({ status: 200, body: id });
    // A dry run changes nothing (moto would apply it).
    await expect(ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpTokens: 'optional', DryRun: true }))).rejects.toMatchObject({ name: 'DryRunOperation' });
    expect(await options(ec2, id)).toMatchObject({ HttpTokens: 'required' });
    // Values AWS refuses.
    await expect(ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpPutResponseHopLimit: 65 }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpTokens: 'sometimes' as never }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(launch(ec2, { metadata: { HttpPutResponseHopLimit: 0 } })).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    // Switching IMDSv2 off again opens IMDSv1 to the SSRF.
    await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpTokens: 'optional' }));
    expect(await imds.ssrf(root.accountId, id, `${IMDS}/latest/meta-data/instance-id`)).toMatchObject({ status: 200, body: id });
    expect(await options(ec2, id)).toMatchObject({ HttpTokens: 'optional', HttpPutResponseHopLimit: 2, InstanceMetadataTags: 'enabled' });
  });

  it('instance tags with InstanceMetadataTags enabled; HttpEndpoint disabled answers 403; a stopped instance answers nothing', async () => {
    const { root, ec2, imds } = account();
    const id = await launch(ec2);
    await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'Name', Value: 'web-1' }, { Key: 'team/app', Value: 'x' }] }));
    const get = (p: string) => imds.ssrf(root.accountId, id, `${IMDS}${p}`);
    expect((await get('/latest/meta-data/tags/instance/Name')).status).toBe(404);
    await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, InstanceMetadataTags: 'enabled' }));
    expect(await get('/latest/meta-data/tags/instance/Name')).toMatchObject({ status: 200, body: 'web-1' });
    expect((await get('/latest/meta-data/tags/instance/')).body).toBe('Name');
    await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpEndpoint: 'disabled' }));
    expect(await options(ec2, id)).toMatchObject({ HttpEndpoint: 'disabled', InstanceMetadataTags: 'enabled', HttpTokens: 'optional' });
    expect((await get('/latest/meta-data/instance-id')).status).toBe(403);
    expect((await imds.request(root.accountId, id, '/latest/api/token', { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' } })).status).toBe(403);
    await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpEndpoint: 'enabled' }));
    expect((await get('/latest/meta-data/instance-id')).status).toBe(200);
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    expect((await get('/latest/meta-data/instance-id')).status).toBe(0);
  });

  it("the instance profile's role: real credentials that act as the role, recorded as AssumedRole with the instance id as session name, expiring on the lab clock", async () => {
    const { c, root, ec2, iam, imds } = account();
    await profile(iam, 'web', allow('s3:ListAllMyBuckets'));
    await profile(iam, 'narrow', allow('sqs:ListQueues'));
    await c.client(S3Client, { credentials: { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey } }).send(new CreateBucketCommand({ Bucket: `imds-${root.accountId}` }));
    const id = await launch(ec2, { profile: 'web' });
    const get = (p: string) => imds.ssrf(root.accountId, id, `${IMDS}${p}`);
    expect((await get('/latest/meta-data/')).body.split('\n')).toContain('iam/');
    const info = JSON.parse((await get('/latest/meta-data/iam/info')).body) as Record<string, string>;
    expect(info).toMatchObject({ Code: 'Success', InstanceProfileArn: `arn:aws:iam::${root.accountId}:instance-profile/web` });
    expect((await get('/latest/meta-data/iam/security-credentials/')).body).toBe('web-role');
    const doc = JSON.parse((await get('/latest/meta-data/iam/security-credentials/web-role')).body) as Record<string, string>;
    expect(doc).toMatchObject({ Code: 'Success', Type: 'AWS-HMAC' });
    expect(doc['AccessKeyId']).toMatch(/^ASIA/);
    expect(new Date(doc['Expiration']!).getTime() - c.gateway.clock.nowMs()).toBeGreaterThan(5 * 3600_000);
    const stolen = { accessKeyId: doc['AccessKeyId']!, secretAccessKey: doc['SecretAccessKey']!, sessionToken: doc['Token']! };
    // The same credentials on a second read (until near their expiry).
    expect(JSON.parse((await get('/latest/meta-data/iam/security-credentials/web-role')).body)).toMatchObject({ AccessKeyId: stolen.accessKeyId });
    // The grader's evidence: which request handed the key out, and how (IMDSv1 through the SSRF).
    const handedOut = (await imds.accessLog(root.accountId, id)).filter((e) => e.accessKeyId === stolen.accessKeyId);
    expect(handedOut[0]).toMatchObject({ method: 'GET', path: '/latest/meta-data/iam/security-credentials/web-role', status: 200, version: '1.0', hops: 1 });
    expect(imds.credentialsOf(root.accountId, id)?.accessKeyId).toBe(stolen.accessKeyId);
    const who = await c.client(STSClient, { credentials: stolen }).send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toBe(`arn:aws:sts::${root.accountId}:assumed-role/web-role/${id}`);
    const s3 = c.client(S3Client, { credentials: stolen });
    expect((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toContain(`imds-${root.accountId}`);
    const rec = c.gateway.service('cloudtrail').trail.all(root.accountId).filter((r) => r.eventName === 'ListBuckets' && r.userIdentity.accessKeyId === stolen.accessKeyId);
    expect(rec).toHaveLength(1);
    expect(rec[0]!.userIdentity).toMatchObject({ type: 'AssumedRole', arn: `arn:aws:sts::${root.accountId}:assumed-role/web-role/${id}` });
    expect(rec[0]!.userIdentity.principalId).toMatch(new RegExp(`^AROA[A-Z0-9]+:${id}$`));
    // Handed out over IMDSv1: CloudTrail says so (GuardDuty and detections key on it).
    expect(rec[0]!.userIdentity.sessionContext?.ec2RoleDelivery).toBe('1.0');

    // A role whose policy does not allow the call: denied as the role.
    const narrowId = await launch(ec2, { profile: 'narrow' });
    const nd = JSON.parse((await imds.ssrf(root.accountId, narrowId, `${IMDS}/latest/meta-data/iam/security-credentials/narrow-role`)).body) as Record<string, string>;
    const narrow = c.client(S3Client, { credentials: { accessKeyId: nd['AccessKeyId']!, secretAccessKey: nd['SecretAccessKey']!, sessionToken: nd['Token']! } });
    await expect(narrow.send(new ListBucketsCommand({}))).rejects.toMatchObject({ name: 'AccessDenied' });
    const denied = c.gateway.service('cloudtrail').trail.all(root.accountId).find((r) => r.eventName === 'ListBuckets' && r.userIdentity.accessKeyId === nd['AccessKeyId']);
    expect(denied).toMatchObject({ errorCode: 'AccessDenied', userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${root.accountId}:assumed-role/narrow-role/${narrowId}` } });

    // Expiry on the lab clock: the stolen credentials stop working; the instance gets fresh ones.
    await c.gateway.clock.advance(6 * 3600_000 + 60_000);
    await expect(s3.send(new ListBucketsCommand({}))).rejects.toMatchObject({ name: 'ExpiredToken' });
    const fresh = JSON.parse((await get('/latest/meta-data/iam/security-credentials/web-role')).body) as Record<string, string>;
    expect(fresh['AccessKeyId']).not.toBe(stolen.accessKeyId);
    const s3b = c.client(S3Client, { credentials: { accessKeyId: fresh['AccessKeyId']!, secretAccessKey: fresh['SecretAccessKey']!, sessionToken: fresh['Token']! } });
    expect((await s3b.send(new ListBucketsCommand({}))).Buckets).toBeDefined();

    // Credentials only ever delivered over IMDSv2 are recorded as 2.0.
    await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: narrowId, HttpTokens: 'required' }));
    await c.gateway.clock.advance(6 * 3600_000 + 60_000);
    const v2 = JSON.parse((await imds.sdkGet(root.accountId, narrowId, '/latest/meta-data/iam/security-credentials/narrow-role', { v1Fallback: false })).body) as Record<string, string>;
    await expect(c.client(S3Client, { credentials: { accessKeyId: v2['AccessKeyId']!, secretAccessKey: v2['SecretAccessKey']!, sessionToken: v2['Token']! } }).send(new ListBucketsCommand({}))).rejects.toMatchObject({ name: 'AccessDenied' });
    const v2rec = c.gateway.service('cloudtrail').trail.all(root.accountId).find((r) => r.eventName === 'ListBuckets' && r.userIdentity.accessKeyId === v2['AccessKeyId']);
    expect(v2rec?.userIdentity.sessionContext?.ec2RoleDelivery).toBe('2.0');
  });

  it('AssociateIamInstanceProfile adds iam/ to a running instance; a role EC2 may not assume answers AssumeRoleUnauthorizedAccess', async () => {
    const { root, ec2, iam, imds } = account();
    await profile(iam, 'later', allow('s3:ListAllMyBuckets'));
    await profile(iam, 'untrusted', allow('s3:ListAllMyBuckets'), LAMBDA_TRUST);
    const id = await launch(ec2);
    const get = (inst: string, p: string) => imds.ssrf(root.accountId, inst, `${IMDS}${p}`);
    expect((await get(id, '/latest/meta-data/iam/info')).status).toBe(404);
    await ec2.send(new AssociateIamInstanceProfileCommand({ InstanceId: id, IamInstanceProfile: { Name: 'later' } }));
    expect(JSON.parse((await get(id, '/latest/meta-data/iam/info')).body)).toMatchObject({ Code: 'Success' });
    expect(JSON.parse((await get(id, '/latest/meta-data/iam/security-credentials/later-role')).body)).toMatchObject({ Code: 'Success' });
    const other = await launch(ec2, { profile: 'untrusted' });
    expect(JSON.parse((await get(other, '/latest/meta-data/iam/security-credentials/untrusted-role')).body)).toMatchObject({ Code: 'AssumeRoleUnauthorizedAccess' });
    expect(imds.credentialsOf(root.accountId, other)).toBeUndefined();
  });

  it('giving an instance a role needs iam:PassRole on the role (RunInstances IamInstanceProfile, AssociateIamInstanceProfile)', async () => {
    const { c, root, ec2, iam, imds } = account();
    await profile(iam, 'admin', allow('*'));
    await iam.send(new CreateUserCommand({ UserName: 'dev' }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'dev', PolicyName: 'ec2', PolicyDocument: allow('ec2:*') }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'dev' }))).AccessKey!;
    const dev = c.client(EC2Client, { credentials: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! } });
    await expect(launch(dev, { profile: 'admin' })).rejects.toMatchObject({ name: 'UnauthorizedOperation', message: expect.stringContaining('iam:PassRole') });
    const plain = await launch(dev);
    await expect(dev.send(new AssociateIamInstanceProfileCommand({ InstanceId: plain, IamInstanceProfile: { Name: 'admin' } })))
      .rejects.toMatchObject({ name: 'UnauthorizedOperation' });
    expect((await imds.ssrf(root.accountId, plain, `${IMDS}/latest/meta-data/iam/info`)).status).toBe(404);
    // With iam:PassRole on the role (to EC2) the same calls succeed.
    await iam.send(new PutUserPolicyCommand({
      UserName: 'dev', PolicyName: 'pass', PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'iam:PassRole', Resource: `arn:aws:iam::${root.accountId}:role/admin-role`, Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } } }],
      }),
    }));
    await dev.send(new AssociateIamInstanceProfileCommand({ InstanceId: plain, IamInstanceProfile: { Name: 'admin' } }));
    expect((await imds.ssrf(root.accountId, plain, `${IMDS}/latest/meta-data/iam/info`)).status).toBe(200);
    expect(await launch(dev, { profile: 'admin' })).toMatch(/^i-/);
  });

  it('reachability: only through the instance\'s unguessable URL; other paths on its listener and unknown instances find nothing', async () => {
    const { root, ec2, imds } = account();
    const id = await launch(ec2);
    const url = await imds.urlOf(root.accountId, id);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{43}$/);
    expect(await (await fetch(`${url}/latest/meta-data/instance-id`)).text()).toBe(id);
    const origin = new URL(url).origin;
    expect((await fetch(`${origin}/latest/meta-data/instance-id`)).status).toBe(404);
    expect((await fetch(`${origin}/`)).status).toBe(404);
    // Another account's instance of the same id does not exist for this account.
    const other: RootCredentials = cloud().createAccount();
    await expect(imds.urlOf(other.accountId, id)).rejects.toThrow(/no instance/);
    // Nothing on the gateway serves it.
    expect((await fetch(`${cloud().url}/_seclab/imds/${id}/latest/meta-data/`)).status).not.toBe(200);
  });
});
