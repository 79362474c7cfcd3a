import { describe, expect, it } from 'vitest';
import {
  AttachUserPolicyCommand,
  CreateLoginProfileCommand,
  CreateUserCommand,
  EnableMFADeviceCommand,
  GenerateCredentialReportCommand,
  GetUserCommand,
  IAMClient,
  PutUserPolicyCommand,
  SimulatePrincipalPolicyCommand,
  UpdateAccountPasswordPolicyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetBucketEncryptionCommand,
  GetBucketLocationCommand,
  GetBucketLoggingCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketCorsCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { CreateAliasCommand, CreateKeyCommand, EncryptCommand, KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { CloudTrailClient, CreateTrailCommand, LookupEventsCommand, StopLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { decodeCbor, encodeCbor } from '../../src/cloud/gateway/protocol/cbor.ts';
import { identify } from '../../src/cloud/gateway/protocol/identify.ts';
import { decodeQueryParams } from '../../src/cloud/gateway/protocol/query.ts';
import type { ApiCall } from '../../src/cloud/gateway/protocol/types.ts';
import {
  ACCOUNT,
  REGION,
  botocoreFixtures,
  capture,
  captureHandler,
  rawFromRecorded,
  rawFromSdkJs,
  req,
  sdkConfig,
  sdkJsFixtures,
  sigv4,
} from './helpers.ts';

const cfg = { ...sdkConfig, requestHandler: captureHandler };
const iam = new IAMClient(cfg);
const sts = new STSClient(cfg);
const s3path = new S3Client({ ...cfg, forcePathStyle: true });
const s3vhost = new S3Client(cfg);
const kms = new KMSClient(cfg);
const cloudtrail = new CloudTrailClient(cfg);

type Expect = Partial<Pick<ApiCall, 'service' | 'protocol' | 'eventSource'>> & { params?: Record<string, unknown> };
type Case = [client: { send(c: never): Promise<unknown> }, command: object, expect?: Expect];

const opName = (command: object): string => command.constructor.name.replace(/Command$/, '');

// Requests captured live from the AWS SDK for JavaScript v3 clients installed in the project.
const SDK_CASES: Case[] = [
  [iam, new CreateUserCommand({ UserName: 'bob', Path: '/dev/', Tags: [{ Key: 'team', Value: 'red' }] }),
    { service: 'iam', protocol: 'query', eventSource: 'iam.amazonaws.com', params: { UserName: 'bob', Path: '/dev/', Tags: [{ Key: 'team', Value: 'red' }] } }],
  [iam, new PutUserPolicyCommand({ UserName: 'bob', PolicyName: 'p', PolicyDocument: '{"Version":"2012-10-17","Statement":[]}' }),
    { params: { UserName: 'bob', PolicyName: 'p', PolicyDocument: '{"Version":"2012-10-17","Statement":[]}' } }],
  [iam, new AttachUserPolicyCommand({ UserName: 'bob', PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }), { params: { PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' } }],
  [iam, new GetUserCommand({}), { params: {} }],
  [iam, new CreateLoginProfileCommand({ UserName: 'bob', Password: 'P4ssw0rd!x', PasswordResetRequired: true }), { params: { UserName: 'bob', PasswordResetRequired: 'true' } }],
  [iam, new EnableMFADeviceCommand({ UserName: 'bob', SerialNumber: `arn:aws:iam::${ACCOUNT}:mfa/bob`, AuthenticationCode1: '123456', AuthenticationCode2: '654321' })],
  [iam, new SimulatePrincipalPolicyCommand({ PolicySourceArn: `arn:aws:iam::${ACCOUNT}:user/bob`, ActionNames: ['s3:GetObject', 'iam:CreateUser'] }),
    { params: { ActionNames: ['s3:GetObject', 'iam:CreateUser'] } }],
  [iam, new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 14 }), { params: { MinimumPasswordLength: '14' } }],
  [iam, new GenerateCredentialReportCommand({})],
  [sts, new GetCallerIdentityCommand({}), { service: 'sts', protocol: 'query', params: {} }],
  [sts, new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/r`, RoleSessionName: 's' }), { params: { RoleArn: `arn:aws:iam::${ACCOUNT}:role/r`, RoleSessionName: 's' } }],
  [sts, new GetSessionTokenCommand({ SerialNumber: `arn:aws:iam::${ACCOUNT}:mfa/bob`, TokenCode: '123456' }), { params: { TokenCode: '123456' } }],
  [kms, new CreateKeyCommand({ Description: 'ebs', Tags: [{ TagKey: 'lab', TagValue: 'host' }] }),
    { service: 'kms', protocol: 'json', params: { Description: 'ebs', Tags: [{ TagKey: 'lab', TagValue: 'host' }] } }],
  [kms, new EncryptCommand({ KeyId: 'alias/ebs', Plaintext: Buffer.from('x') }), { params: { KeyId: 'alias/ebs' } }],
  [kms, new ScheduleKeyDeletionCommand({ KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab', PendingWindowInDays: 7 })],
  [kms, new CreateAliasCommand({ AliasName: 'alias/ebs', TargetKeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' })],
  [cloudtrail, new LookupEventsCommand({ MaxResults: 5 }), { service: 'cloudtrail', protocol: 'json', params: { MaxResults: 5 } }],
  [cloudtrail, new StopLoggingCommand({ Name: 'main' }), { params: { Name: 'main' } }],
  [cloudtrail, new CreateTrailCommand({ Name: 'main', S3BucketName: 'trail-bkt' })],
];

const bkt = 'data-bkt';
const S3_CASES: Array<[command: object, params?: Record<string, unknown>]> = [
  [new ListBucketsCommand({}), {}],
  [new CreateBucketCommand({ Bucket: bkt, ACL: 'private' }), { Bucket: bkt, 'x-amz-acl': 'private' }],
  [new HeadBucketCommand({ Bucket: bkt }), { Bucket: bkt }],
  [new DeleteBucketCommand({ Bucket: bkt })],
  [new PutObjectCommand({ Bucket: bkt, Key: 'dir/a b+c%.txt', Body: 'hello', ServerSideEncryption: 'aws:kms', ACL: 'bucket-owner-full-control' }),
    { Bucket: bkt, Key: 'dir/a b+c%.txt', 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-acl': 'bucket-owner-full-control' }],
  [new GetObjectCommand({ Bucket: bkt, Key: 'ünï/cödé.txt' }), { Bucket: bkt, Key: 'ünï/cödé.txt' }],
  [new GetObjectCommand({ Bucket: bkt, Key: 'k', VersionId: 'v1' }), { Key: 'k', versionId: 'v1' }],
  [new HeadObjectCommand({ Bucket: bkt, Key: 'k' }), { Key: 'k' }],
  [new ListObjectsV2Command({ Bucket: bkt, Prefix: 'home/bob/', Delimiter: '/', MaxKeys: 10 }), { Bucket: bkt, prefix: 'home/bob/', delimiter: '/', 'max-keys': '10' }],
  [new ListObjectsCommand({ Bucket: bkt, Prefix: 'x' }), { prefix: 'x' }],
  [new ListObjectVersionsCommand({ Bucket: bkt })],
  [new CopyObjectCommand({ Bucket: bkt, Key: 'copy.txt', CopySource: 'src-bkt/dir/orig.txt' }), { Key: 'copy.txt', 'x-amz-copy-source': 'src-bkt/dir/orig.txt' }],
  [new DeleteObjectCommand({ Bucket: bkt, Key: 'k' }), { Key: 'k' }],
  [new DeleteObjectsCommand({ Bucket: bkt, Delete: { Objects: [{ Key: 'a' }, { Key: 'b/c', VersionId: 'v' }] } }),
    { Delete: { Objects: [{ Key: 'a' }, { Key: 'b/c', VersionId: 'v' }] } }],
  [new PutBucketPolicyCommand({ Bucket: bkt, Policy: '{"Version":"2012-10-17","Statement":[]}' }), { Policy: '{"Version":"2012-10-17","Statement":[]}' }],
  [new GetBucketPolicyCommand({ Bucket: bkt })],
  [new DeleteBucketPolicyCommand({ Bucket: bkt })],
  [new GetBucketPolicyStatusCommand({ Bucket: bkt })],
  [new PutBucketEncryptionCommand({ Bucket: bkt, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] } }),
    { ServerSideEncryptionConfiguration: { Rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } } } }],
  [new GetBucketEncryptionCommand({ Bucket: bkt })],
  [new PutPublicAccessBlockCommand({ Bucket: bkt, PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true } }),
    { PublicAccessBlockConfiguration: { BlockPublicAcls: 'true', BlockPublicPolicy: 'true' } }],
  [new GetPublicAccessBlockCommand({ Bucket: bkt })],
  [new DeletePublicAccessBlockCommand({ Bucket: bkt })],
  [new PutBucketVersioningCommand({ Bucket: bkt, VersioningConfiguration: { Status: 'Enabled' } }), { VersioningConfiguration: { Status: 'Enabled' } }],
  [new GetBucketVersioningCommand({ Bucket: bkt })],
  [new PutBucketTaggingCommand({ Bucket: bkt, Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] } })],
  [new GetBucketAclCommand({ Bucket: bkt })],
  [new PutObjectAclCommand({ Bucket: bkt, Key: 'k', ACL: 'public-read' }), { Key: 'k', 'x-amz-acl': 'public-read' }],
  [new PutObjectTaggingCommand({ Bucket: bkt, Key: 'k', Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] } })],
  [new GetObjectTaggingCommand({ Bucket: bkt, Key: 'k' })],
  [new GetBucketLoggingCommand({ Bucket: bkt })],
  [new PutBucketNotificationConfigurationCommand({ Bucket: bkt, NotificationConfiguration: {} })],
  [new GetBucketLocationCommand({ Bucket: bkt })],
  [new CreateMultipartUploadCommand({ Bucket: bkt, Key: 'big' })],
  [new UploadPartCommand({ Bucket: bkt, Key: 'big', UploadId: 'u1', PartNumber: 1, Body: 'x' }), { uploadId: 'u1', partNumber: '1' }],
  [new CompleteMultipartUploadCommand({ Bucket: bkt, Key: 'big', UploadId: 'u1', MultipartUpload: { Parts: [{ PartNumber: 1, ETag: 'e' }] } })],
  [new AbortMultipartUploadCommand({ Bucket: bkt, Key: 'big', UploadId: 'u1' })],
  [new PutBucketOwnershipControlsCommand({ Bucket: bkt, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } })],
  [new PutBucketLifecycleConfigurationCommand({ Bucket: bkt, LifecycleConfiguration: { Rules: [{ ID: 'r', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 1 } }] } })],
  [new PutBucketCorsCommand({ Bucket: bkt, CORSConfiguration: { CORSRules: [{ AllowedMethods: ['GET'], AllowedOrigins: ['*'] }] } })],
];

function expectCall(call: ApiCall, operation: string, e: Expect = {}): void {
  expect(call.operation).toBe(operation);
  expect(call.region).toBe(REGION);
  expect(call.accessKeyId).toBe('AKIAIOSFODNN7EXAMPLE');
  if (e.service) expect(call.service).toBe(e.service);
  if (e.protocol) expect(call.protocol).toBe(e.protocol);
  if (e.eventSource) expect(call.eventSource).toBe(e.eventSource);
  if (e.params) expect(call.params).toMatchObject(e.params);
}

describe('identify: requests from the installed AWS SDK v3 clients', () => {
  it.each(SDK_CASES.map((c) => [opName(c[1]), ...c] as const))('%s', async (op, client, command, e) => {
    const call = identify(await capture(client, command));
    expectCall(call, op, e);
    if (e?.params && Object.keys(e.params).length === 0) expect(call.params).toEqual({});
  });

  describe.each([
    ['path-style', s3path],
    ['virtual-hosted', s3vhost],
  ] as const)('S3 %s', (_style, client) => {
    it.each(S3_CASES.map((c) => [opName(c[0]), ...c] as const))('%s', async (op, command, params) => {
      const raw = await capture(client, command);
      const call = identify(raw);
      expectCall(call, op, { service: 's3', protocol: 'rest-xml', eventSource: 's3.amazonaws.com', params });
      if (op !== 'ListBuckets') expect(call.params['Bucket']).toBe(bkt);
      // The JS SDK names some operations in an x-id query parameter: it must agree.
      const xid = raw.query.get('x-id');
      if (xid) expect(xid).toBe(op);
    });
  });
});

const PROTOCOL: Record<string, ApiCall['protocol']> = {
  query: 'query',
  ec2: 'query',
  json: 'json',
  'rest-xml': 'rest-xml',
  'rest-json': 'rest-json',
  'smithy-rpc-v2-cbor': 'cbor',
};

// Operations whose HTTP request cannot be told apart from another's on the gateway's endpoint.
const INDISTINGUISHABLE: Record<string, string> = {
  'ListDirectoryBuckets': 'same request as ListBuckets; AWS tells them apart by the s3express-control endpoint',
  'WriteGetObjectResponse': 'sent to a host-prefixed S3 Object Lambda endpoint (<route>.<endpoint>)',
};

describe('identify: requests recorded from botocore (AWS CLI)', () => {
  const fixtures = botocoreFixtures();
  const services = [...new Set(fixtures.map((f) => f.service))];

  it.each(services)('%s: every recorded request is identified', (service) => {
    const mismatches: string[] = [];
    for (const f of fixtures.filter((x) => x.service === service)) {
      if (INDISTINGUISHABLE[f.operation]) continue;
      const call = identify(rawFromRecorded(f.request));
      const got = `${call.service} ${call.operation} ${call.protocol}`;
      const want = `${f.signingName} ${f.operation} ${PROTOCOL[f.protocol]}`;
      if (got !== want) mismatches.push(`${f.kind}${f.pathStyle ? ' path-style' : ''}: ${f.request.method} ${f.request.url.slice(0, 100)} -> ${got}, want ${want}`);
      if (call.region !== REGION && f.kind !== 'presigned-s3') mismatches.push(`${f.operation}: region ${call.region}`);
      if (call.accessKeyId !== 'AKIDEXAMPLE') mismatches.push(`${f.operation}: access key ${call.accessKeyId}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('decodes JSON and CBOR bodies into the parameters botocore was given', () => {
    for (const f of fixtures) {
      if (f.kind !== 'explicit' || (f.protocol !== 'json' && f.protocol !== 'smithy-rpc-v2-cbor')) continue;
      if (JSON.stringify(f.params).includes('<bytes>')) continue;
      expect(identify(rawFromRecorded(f.request)).params, `${f.service} ${f.operation} ${f.protocol}`).toEqual(f.params);
    }
  });

  it('decodes query forms into nested parameters', () => {
    const find = (service: string, op: string, protocol = 'query') =>
      identify(rawFromRecorded(fixtures.find((f) => f.service === service && f.operation === op && f.protocol === protocol)!.request));
    expect(find('iam', 'CreateUser').params).toEqual({ UserName: 'bob', Path: '/dev/', Tags: [{ Key: 'team', Value: 'red' }] });
    expect(find('sns', 'CreateTopic').params).toEqual({ Name: 'alerts', Attributes: { DisplayName: 'Alerts' }, Tags: [{ Key: 'k', Value: 'v' }] });
    expect(find('ec2', 'DescribeInstances', 'ec2').params).toEqual({ InstanceId: ['i-0123456789abcdef0'], Filter: [{ Name: 'tag:env', Value: ['prod', 'dev'] }] });
    expect(find('ec2', 'ModifySnapshotAttribute', 'ec2').params).toMatchObject({ CreateVolumePermission: { Add: [{ UserId: '999999999999' }] } });
    expect(find('cloudwatch', 'PutMetricData').params).toEqual({ Namespace: 'n', MetricData: [{ MetricName: 'm', Value: '1.5' }] });
  });

  it('reads presigned URLs (SigV4 query and legacy SigV2)', () => {
    for (const f of fixtures.filter((x) => x.kind.startsWith('presigned'))) {
      const call = identify(rawFromRecorded(f.request));
      expect(call.auth).toBe(f.kind === 'presigned-s3' ? 'sigv2' : 'sigv4-query');
      expect(call.params).toEqual({ Bucket: 'data-bkt', Key: 'report.csv' });
    }
  });
});

describe('identify: requests recorded from other AWS SDK v3 clients', () => {
  it.each(sdkJsFixtures().map((f) => [`${f.package.replace('@aws-sdk/client-', '')} ${f.operation}`, f] as const))('%s', (_name, f) => {
    const call = identify(rawFromSdkJs(f));
    expect(call.operation).toBe(f.operation);
    expect(call.region).toBe(REGION);
    expect(call.sessionToken).toBe('TOKEN');
  });

  it('binds REST-JSON path labels, headers and payloads', () => {
    const byOp = (pkg: string, op: string) => identify(rawFromSdkJs(sdkJsFixtures().find((f) => f.package.endsWith(pkg) && f.operation === op)!));
    expect(byOp('lambda', 'Invoke').params).toEqual({ FunctionName: 'responder', InvocationType: 'Event', Payload: '{"a":1}' });
    expect(byOp('lambda', 'ListFunctions').params).toEqual({ MaxItems: '5' });
    expect(byOp('guardduty', 'GetFindings').params).toMatchObject({ DetectorId: 'det1', findingIds: ['f1'] });
    expect(byOp('cloudwatch', 'PutMetricAlarm')).toMatchObject({ service: 'monitoring', eventSource: 'monitoring.amazonaws.com', protocol: 'json' });
  });
});

describe('identify: hand-made edge cases', () => {
  const cases: Array<[name: string, raw: ReturnType<typeof req>, expected: Partial<ApiCall>]> = [
    ['anonymous S3 GET (public bucket)', req('GET', '/public-bkt/data/card.csv'),
      { service: 's3', operation: 'GetObject', auth: 'none', region: 'us-east-1', params: { Bucket: 'public-bkt', Key: 'data/card.csv' } }],
    ['S3 virtual host on AWS with dotted bucket', req('GET', '/k?acl', { host: 'my.bucket.s3.eu-west-2.amazonaws.com' }),
      { service: 's3', operation: 'GetObjectAcl', region: 'eu-west-2', params: { Bucket: 'my.bucket', Key: 'k', acl: '' } }],
    ['S3 path style on an IP address', req('PUT', '/bkt?tagging', { host: '127.0.0.1:4566', ...sigv4('s3') }, '<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>'),
      { operation: 'PutBucketTagging', params: { Bucket: 'bkt', tagging: '', Tagging: { TagSet: { Tag: { Key: 'a', Value: 'b' } } } } }],
    ['S3 UploadPartCopy', req('PUT', '/bkt/k?partNumber=2&uploadId=u', { ...sigv4('s3'), 'x-amz-copy-source': '/src/k' }), { operation: 'UploadPartCopy' }],
    ['S3 ListParts', req('GET', '/bkt/k?uploadId=u', sigv4('s3')), { operation: 'ListParts' }],
    ['S3 ListBucketMetricsConfigurations vs Get', req('GET', '/bkt?metrics', sigv4('s3')), { operation: 'ListBucketMetricsConfigurations' }],
    ['S3 GetBucketMetricsConfiguration', req('GET', '/bkt?metrics&id=m', sigv4('s3')), { operation: 'GetBucketMetricsConfiguration' }],
    ['S3 browser POST upload', req('POST', '/bkt', { 'content-type': 'multipart/form-data; boundary=XX' },
      '--XX\r\nContent-Disposition: form-data; name="key"\r\n\r\nuploads/a.txt\r\n--XX\r\nContent-Disposition: form-data; name="acl"\r\n\r\npublic-read\r\n--XX\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhi\r\n--XX--\r\n'),
      { operation: 'PostObject', params: { Bucket: 'bkt', Key: 'uploads/a.txt', 'x-amz-acl': 'public-read', 'content-type': 'multipart/form-data; boundary=XX' } }],
    ['SQS query protocol (older SDKs)', req('POST', '/', { ...sigv4('sqs'), 'content-type': 'application/x-www-form-urlencoded' },
      'Action=SendMessage&Version=2012-11-05&QueueUrl=http%3A%2F%2Flocalhost%2F123456789012%2Fq&MessageBody=hi&MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=x'),
      { service: 'sqs', protocol: 'query', operation: 'SendMessage',
        params: { QueueUrl: 'http://localhost/123456789012/q', MessageBody: 'hi', MessageAttribute: [{ Name: 'a', Value: { DataType: 'String', StringValue: 'x' } }] } }],
    ['unsigned query request: service from Version', req('GET', '/?Action=ListUsers&Version=2010-05-08'), { service: 'iam', operation: 'ListUsers', protocol: 'query', params: {} }],
    ['unsigned query request: service from AWS host name', req('POST', '/', { host: 'sts.eu-central-1.amazonaws.com', 'content-type': 'application/x-www-form-urlencoded' }, 'Action=GetCallerIdentity'),
      { service: 'sts', operation: 'GetCallerIdentity', region: 'eu-central-1' }],
    // As the target (werkzeug) reads it: a form whatever the case of its media type, a body without
    // one is not read, and a form with fields replaces the URL query.
    ['query form body, content type in another case', req('POST', '/', { ...sigv4('iam'), 'content-type': 'Application/X-WWW-Form-Urlencoded ; charset=utf-8' }, 'Action=ListUsers&Version=2010-05-08'),
      { service: 'iam', operation: 'ListUsers', protocol: 'query' }],
    ['query body without a content type is not read', req('POST', '/?Action=GetUser', sigv4('iam'), 'Action=DeleteUser&UserName=x'),
      { service: 'iam', operation: 'GetUser', params: {} }],
    ['query form body replaces the URL query', req('POST', '/?Action=GetUser', { ...sigv4('iam'), 'content-type': 'application/x-www-form-urlencoded' }, 'Action=DeleteUser&UserName=x'),
      { service: 'iam', operation: 'DeleteUser', params: { UserName: 'x' } }],
    ['SigV4a scope: region from X-Amz-Region-Set', req('GET', '/bkt/k', {
      authorization: 'AWS4-ECDSA-P256-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/s3/aws4_request, SignedHeaders=host, Signature=00',
      'x-amz-region-set': 'ap-south-1' }), { service: 's3', operation: 'GetObject', region: 'ap-south-1', accessKeyId: 'AKIAIOSFODNN7EXAMPLE' }],
    ['session token header', req('POST', '/', { ...sigv4('sts'), 'x-amz-security-token': 'FQoGZX' }, 'Action=GetCallerIdentity&Version=2011-06-15'),
      { sessionToken: 'FQoGZX', auth: 'sigv4' }],
    ['JSON target of a service without a table entry', req('POST', '/', { ...sigv4('secretsmanager'), 'x-amz-target': 'secretsmanager.GetSecretValue', 'content-type': 'application/x-amz-json-1.1' }, '{"SecretId":"db"}'),
      { service: 'secretsmanager', operation: 'GetSecretValue', protocol: 'json', params: { SecretId: 'db' } }],
    ['JSON target without a signature', req('POST', '/', { 'x-amz-target': 'Logs_20140328.DescribeLogGroups' }, '{}'), { service: 'logs', operation: 'DescribeLogGroups' }],
    ['CBOR without a signature', req('POST', '/service/GraniteServiceVersion20100801/operation/DescribeAlarms', { 'smithy-protocol': 'rpc-v2-cbor', 'content-type': 'application/cbor' }, encodeCbor({ AlarmNames: ['a'] })),
      { service: 'monitoring', operation: 'DescribeAlarms', protocol: 'cbor', params: { AlarmNames: ['a'] } }],
    ['malformed JSON body', req('POST', '/', { ...sigv4('kms'), 'x-amz-target': 'TrentService.CreateKey' }, '{not json'), { operation: 'CreateKey', params: {} }],
    ['malformed CBOR body', req('POST', '/service/GraniteServiceVersion20100801/operation/PutMetricData', { ...sigv4('monitoring'), 'smithy-protocol': 'rpc-v2-cbor' }, Buffer.from([0xbf, 0x61])),
      { operation: 'PutMetricData', params: {} }],
    ['JSON service without a target', req('POST', '/', sigv4('kms'), '{}'), { service: 'kms', operation: 'Unknown', protocol: 'json' }],
    ['query service without Action', req('POST', '/', sigv4('iam'), 'Foo=1'), { service: 'iam', operation: 'Unknown', protocol: 'query' }],
    ['REST-JSON path that matches no route', req('GET', '/2015-03-31/nothing-here', sigv4('lambda')), { service: 'lambda', operation: 'Unknown', protocol: 'rest-json' }],
    ['Lambda path without a signature', req('GET', '/2015-03-31/functions/fn', {}), { service: 'lambda', operation: 'GetFunction', params: { FunctionName: 'fn' } }],
    ['Lambda qualified ARN in the path', req('POST', `/2015-03-31/functions/${encodeURIComponent(`arn:aws:lambda:${REGION}:${ACCOUNT}:function:fn:live`)}/invocations`, sigv4('lambda'), '{}'),
      { operation: 'Invoke', params: { FunctionName: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:fn:live`, Payload: '{}' } }],
    ['Lambda route chosen by a literal query parameter', req('GET', '/2019-09-30/functions/fn/provisioned-concurrency?List=ALL', sigv4('lambda')),
      { operation: 'ListProvisionedConcurrencyConfigs' }],
    ['Lambda route without it', req('GET', '/2019-09-30/functions/fn/provisioned-concurrency?Qualifier=1', sigv4('lambda')),
      { operation: 'GetProvisionedConcurrencyConfig', params: { FunctionName: 'fn', Qualifier: '1' } }],
  ];
  it.each(cases)('%s', (_name, raw, expected) => {
    expect(identify(raw)).toMatchObject(expected);
  });

  it('never throws on odd input', () => {
    const odd = [
      req('GET', '/%E0%A4%A', {}),
      req('DELETE', '/', { authorization: 'garbage' }),
      req('POST', '/service/x/operation/', { 'smithy-protocol': 'rpc-v2-cbor' }),
      req('PATCH', '/bkt/k', sigv4('s3')),
      req('POST', '/', { 'x-amz-target': 'NoDot' }, '[]'),
    ];
    for (const r of odd) expect(() => identify(r)).not.toThrow();
    expect(identify(req('PATCH', '/bkt/k', sigv4('s3'))).operation).toBe('Unknown');
    expect(identify(req('POST', '/', { ...sigv4('kms'), 'x-amz-target': 'NoDot' })).operation).toBe('Unknown');
  });
});

describe('query form decoding', () => {
  it.each([
    ['flat scalars', [['UserName', 'bob']], { UserName: 'bob' }],
    ['member lists', [['ActionNames.member.2', 'b'], ['ActionNames.member.1', 'a']], { ActionNames: ['a', 'b'] }],
    ['lists of structures', [['Tags.member.1.Key', 'k'], ['Tags.member.1.Value', 'v']], { Tags: [{ Key: 'k', Value: 'v' }] }],
    ['entry maps', [['Attributes.entry.1.key', 'Policy'], ['Attributes.entry.1.value', '{"a":1}']], { Attributes: { Policy: '{"a":1}' } }],
    ['EC2 flattened lists', [['Filter.1.Name', 'n'], ['Filter.1.Value.1', 'x'], ['Filter.1.Value.2', 'y'], ['Filter.2.Name', 'm']],
      { Filter: [{ Name: 'n', Value: ['x', 'y'] }, { Name: 'm' }] }],
    ['list indexes sort numerically', [['Id.10', 'j'], ['Id.2', 'b'], ['Id.1', 'a']], { Id: ['a', 'b', 'j'] }],
    ['empty list', [['Tags', '']], { Tags: '' }],
    ['nested structure', [['CreateVolumePermission.Add.1.UserId', '1']], { CreateVolumePermission: { Add: [{ UserId: '1' }] } }],
  ] as Array<[string, Array<[string, string]>, Record<string, unknown>]>)('%s', (_n, fields, want) => {
    expect(decodeQueryParams(fields)).toEqual(want);
  });
});

describe('CBOR', () => {
  it('round-trips what Smithy sends', () => {
    const v = { s: 'ü', n: 1, neg: -300, big: 2 ** 40, f: 1.5, t: true, f2: false, nul: null, l: [1, 'a', { x: [] }], b: new Uint8Array([1, 2]) };
    expect(decodeCbor(encodeCbor(v))).toEqual(v);
  });
  it('decodes half floats, indefinite lengths and timestamps', () => {
    // {_ "a": [_ 1, 2], "h": 1.5 (half), "t": 1(1700000000)}
    const bytes = Buffer.from([0xbf, 0x61, 0x61, 0x9f, 0x01, 0x02, 0xff, 0x61, 0x68, 0xf9, 0x3e, 0x00, 0x61, 0x74, 0xc1, 0x1a, 0x65, 0x53, 0xf1, 0x00, 0xff]);
    expect(decodeCbor(bytes)).toEqual({ a: [1, 2], h: 1.5, t: new Date(1700000000 * 1000) });
  });
  it('rejects truncated input', () => {
    expect(() => decodeCbor(Buffer.from([0x82, 0x01]))).toThrow();
  });
});
