import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateUserCommand, GetUserCommand, IAMClient, ListRolesCommand, ListUsersCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, NoSuchBucket, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateKeyCommand, DescribeKeyCommand, EncryptCommand, KMSClient, ListKeysCommand, NotFoundException } from '@aws-sdk/client-kms';
import { CloudTrailClient, DescribeTrailsCommand, LookupEventsCommand, StopLoggingCommand, TrailNotFoundException } from '@aws-sdk/client-cloudtrail';
import {
  accessDeniedCode,
  accessDeniedMessage,
  accessDeniedResponse,
  authErrorResponse,
  errorResponse,
  type AuthFailure,
  type ErrorResponse,
} from '../../src/cloud/gateway/protocol/errors.ts';
import { identify, rawRequest } from '../../src/cloud/gateway/protocol/identify.ts';
import { toAuthz } from '../../src/cloud/gateway/protocol/authz-map.ts';
import type { ApiCall } from '../../src/cloud/gateway/protocol/types.ts';
import { decodeCbor } from '../../src/cloud/gateway/protocol/cbor.ts';
import { ACCOUNT } from './helpers.ts';

const BOB = `arn:aws:iam::${ACCOUNT}:user/bob`;

describe('accessDeniedMessage', () => {
  it.each([
    ['no-identity-policy', `arn:aws:iam::${ACCOUNT}:user/x`,
      `User: ${BOB} is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::${ACCOUNT}:user/x because no identity-based policy allows the iam:CreateUser action`],
    ['explicit-deny-identity', `arn:aws:iam::${ACCOUNT}:user/x`,
      `User: ${BOB} is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::${ACCOUNT}:user/x with an explicit deny in an identity-based policy`],
    ['explicit-deny-resource', `arn:aws:iam::${ACCOUNT}:user/x`,
      `User: ${BOB} is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::${ACCOUNT}:user/x with an explicit deny in a resource-based policy`],
    ['boundary', `arn:aws:iam::${ACCOUNT}:user/x`,
      `User: ${BOB} is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::${ACCOUNT}:user/x because no permissions boundary allows the iam:CreateUser action`],
    ['no-session-policy', '*', `User: ${BOB} is not authorized to perform: iam:CreateUser because no session policy allows the iam:CreateUser action`],
  ] as const)('%s', (reason, resource, want) => {
    expect(accessDeniedMessage(BOB, 'iam:CreateUser', resource, reason)).toBe(want);
  });

  it('names the denying managed policy when given', () => {
    expect(accessDeniedMessage(BOB, 's3:GetObject', 'arn:aws:s3:::b/k', 'explicit-deny-identity', { policyArn: `arn:aws:iam::${ACCOUNT}:policy/DenyS3` }))
      .toBe(`User: ${BOB} is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k with an explicit deny in an identity-based policy: arn:aws:iam::${ACCOUNT}:policy/DenyS3`);
  });

  it.each([
    ['kms', 'AccessDeniedException'], ['s3', 'AccessDenied'], ['iam', 'AccessDenied'], ['sts', 'AccessDenied'], ['ec2', 'UnauthorizedOperation'],
    ['logs', 'AccessDeniedException'], ['events', 'AccessDeniedException'], ['cloudtrail', 'AccessDeniedException'], ['sns', 'AuthorizationError'],
    ['lambda', 'AccessDeniedException'],
  ])('%s denies with %s', (service, code) => {
    expect(accessDeniedCode(service)).toBe(code);
  });
});

describe('errorResponse wire formats', () => {
  it('query protocol (IAM)', () => {
    const r = errorResponse({ protocol: 'query', service: 'iam' }, 403, 'AccessDenied', 'a <b> & "c"', 'req-1');
    expect(r.status).toBe(403);
    expect(r.body).toBe(
      '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">\n  <Error>\n    <Type>Sender</Type>\n    <Code>AccessDenied</Code>\n' +
        '    <Message>a &lt;b&gt; &amp; &quot;c&quot;</Message>\n  </Error>\n  <RequestId>req-1</RequestId>\n</ErrorResponse>\n',
    );
    expect(r.headers['content-type']).toBe('text/xml');
  });
  it('EC2', () => {
    const r = errorResponse({ protocol: 'query', service: 'ec2' }, 403, 'UnauthorizedOperation', 'no', 'req-2');
    expect(r.body).toContain('<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>no</Message></Error></Errors><RequestID>req-2</RequestID></Response>');
  });
  it('query-compatible services over JSON carry the legacy code', () => {
    const r = accessDeniedResponse({ protocol: 'json', service: 'sqs' }, 'no', 'r');
    expect(JSON.parse(r.body as string)).toMatchObject({ __type: 'AccessDeniedException' });
    expect(r.headers['x-amzn-query-error']).toBe('AccessDenied;Sender');
    expect(accessDeniedResponse({ protocol: 'query', service: 'sqs' }, 'no', 'r').body).toContain('<Code>AccessDenied</Code>');
  });
  it('JSON 1.1 and 1.0', () => {
    const kms = errorResponse({ protocol: 'json', service: 'kms' }, 400, 'AccessDeniedException', 'no', 'req-3');
    expect(JSON.parse(kms.body as string)).toEqual({ __type: 'AccessDeniedException', message: 'no' });
    expect(kms.headers).toMatchObject({ 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'AccessDeniedException', 'x-amzn-requestid': 'req-3' });
    const sqs = errorResponse({ protocol: 'json', service: 'sqs' }, 400, 'AccessDenied', 'no', 'req-4');
    expect(sqs.headers).toMatchObject({ 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': 'AccessDenied;Sender' });
  });
  it('rpc-v2-cbor', () => {
    const r = errorResponse({ protocol: 'cbor', service: 'monitoring' }, 403, 'AccessDenied', 'no', 'req-5');
    expect(decodeCbor(r.body as Buffer)).toEqual({ __type: 'AccessDenied', message: 'no' });
    expect(r.headers).toMatchObject({ 'smithy-protocol': 'rpc-v2-cbor', 'content-type': 'application/cbor' });
  });
  it('S3', () => {
    const r = errorResponse({ protocol: 'rest-xml', service: 's3' }, 403, 'AccessDenied', 'Access Denied', 'req-6', { hostId: 'h' });
    expect(r.body).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>req-6</RequestId><HostId>h</HostId></Error>');
    expect(r.headers).toMatchObject({ 'x-amz-request-id': 'req-6', 'x-amz-id-2': 'h' });
    expect(errorResponse({ protocol: 'rest-xml', service: 's3' }, 403, 'AccessDenied', 'x', 'r', { head: true }).body).toBe('');
  });
});

// ---------------------------------------------------------------------------------------------
// Round trips: a local server identifies each request and answers with our error response; the
// real clients must raise the right error.

type Responder = (call: ApiCall) => ErrorResponse;
let respond: Responder = () => ({ status: 500, headers: {}, body: '' });
let lastCall: ApiCall | undefined;
let server: Server;
let endpoint = '';

const denied = (call: ApiCall): ErrorResponse => {
  const a = toAuthz(call, ACCOUNT);
  return accessDeniedResponse(call, accessDeniedMessage(BOB, a.action, a.resources[0], 'no-identity-policy'), 'req-denied', { head: call.operation.startsWith('Head') });
};
const auth = (kind: AuthFailure) => (call: ApiCall): ErrorResponse => authErrorResponse(call, kind, 'req-auth', { accessKeyId: call.accessKeyId });
const err = (status: number, code: string, message: string) => (call: ApiCall): ErrorResponse => errorResponse(call, status, code, message, 'req-err');

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const call = identify(rawRequest(req.method ?? 'GET', req.url ?? '/', req.headers, Buffer.concat(chunks)));
      lastCall = call;
      const r = (botocoreResponders.get(`${call.service} ${call.protocol} ${call.operation}`) ?? respond)(call);
      res.writeHead(r.status, r.headers);
      res.end(r.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const clients = () => {
  const cfg = { region: 'eu-west-1', endpoint, maxAttempts: 1, credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'secret' } };
  return {
    iam: new IAMClient(cfg),
    sts: new STSClient(cfg),
    s3: new S3Client({ ...cfg, forcePathStyle: true }),
    kms: new KMSClient(cfg),
    cloudtrail: new CloudTrailClient(cfg),
  };
};

type JsCase = [name: string, client: keyof ReturnType<typeof clients>, command: object, responder: Responder, want: { name: string; status: number; cls?: new (...a: never[]) => unknown; message?: RegExp }];

const JS_CASES: JsCase[] = [
  ['IAM AccessDenied', 'iam', new CreateUserCommand({ UserName: 'x' }), denied,
    { name: 'AccessDenied', status: 403, message: /^User: .* is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::123456789012:user\/x because no identity-based policy allows the iam:CreateUser action$/ }],
  ['IAM modeled NoSuchEntity', 'iam', new GetUserCommand({ UserName: 'ghost' }), err(404, 'NoSuchEntity', 'The user with name ghost cannot be found.'),
    { name: 'NoSuchEntityException', status: 404, cls: NoSuchEntityException, message: /ghost/ }],
  ['IAM unknown key', 'iam', new ListUsersCommand({}), auth('unknown-key'), { name: 'InvalidClientTokenId', status: 403 }],
  ['IAM bad signature', 'iam', new ListRolesCommand({}), auth('bad-signature'), { name: 'SignatureDoesNotMatch', status: 403 }],
  ['STS expired token', 'sts', new GetCallerIdentityCommand({}), auth('expired-token'), { name: 'ExpiredToken', status: 403 }],
  ['STS AccessDenied', 'sts', new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/r`, RoleSessionName: 's' }), denied,
    { name: 'AccessDenied', status: 403, message: /sts:AssumeRole on resource: arn:aws:iam::123456789012:role\/r/ }],
  ['S3 AccessDenied', 's3', new GetObjectCommand({ Bucket: 'b', Key: 'k' }), denied, { name: 'AccessDenied', status: 403, message: /s3:GetObject on resource: arn:aws:s3:::b\/k/ }],
  // HEAD errors have no body (as from S3): the SDK only sees the status.
  ['S3 AccessDenied on HEAD (no body)', 's3', new HeadObjectCommand({ Bucket: 'b', Key: 'k' }), denied, { name: 'Unknown', status: 403 }],
  ['S3 NotFound on HEAD (no body)', 's3', new HeadObjectCommand({ Bucket: 'b', Key: 'missing' }), (c) => errorResponse(c, 404, 'NotFound', 'Not Found', 'req-head', { head: true }),
    { name: 'NotFound', status: 404 }],
  ['S3 modeled NoSuchBucket', 's3', new ListObjectsV2Command({ Bucket: 'nope' }), err(404, 'NoSuchBucket', 'The specified bucket does not exist'),
    { name: 'NoSuchBucket', status: 404, cls: NoSuchBucket }],
  ['S3 modeled NoSuchKey', 's3', new GetObjectCommand({ Bucket: 'b', Key: 'missing' }), err(404, 'NoSuchKey', 'The specified key does not exist.'),
    { name: 'NoSuchKey', status: 404, cls: NoSuchKey }],
  ['S3 unknown key', 's3', new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: 'x' }), auth('unknown-key'), { name: 'InvalidAccessKeyId', status: 403 }],
  ['S3 bad signature', 's3', new DeleteObjectCommand({ Bucket: 'b', Key: 'k' }), auth('bad-signature'), { name: 'SignatureDoesNotMatch', status: 403 }],
  ['KMS AccessDeniedException', 'kms', new CreateKeyCommand({}), denied, { name: 'AccessDeniedException', status: 400, message: /kms:CreateKey because no identity-based policy/ }],
  ['KMS modeled NotFoundException', 'kms', new DescribeKeyCommand({ KeyId: 'k' }), err(400, 'NotFoundException', 'Key not found'), { name: 'NotFoundException', status: 400, cls: NotFoundException }],
  ['KMS unknown key', 'kms', new ListKeysCommand({}), auth('unknown-key'), { name: 'UnrecognizedClientException', status: 400 }],
  ['KMS bad signature', 'kms', new EncryptCommand({ KeyId: 'k', Plaintext: Buffer.from('x') }), auth('bad-signature'), { name: 'InvalidSignatureException', status: 400 }],
  ['CloudTrail AccessDeniedException', 'cloudtrail', new LookupEventsCommand({}), denied, { name: 'AccessDeniedException', status: 400 }],
  ['CloudTrail modeled TrailNotFound', 'cloudtrail', new StopLoggingCommand({ Name: 'x' }), err(400, 'TrailNotFoundException', 'Unknown trail'),
    { name: 'TrailNotFoundException', status: 400, cls: TrailNotFoundException }],
  ['CloudTrail expired token', 'cloudtrail', new DescribeTrailsCommand({}), auth('expired-token'), { name: 'ExpiredTokenException', status: 400 }],
];

describe('AWS SDK v3 clients parse our errors', () => {
  it.each(JS_CASES)('%s', async (_name, clientName, command, responder, want) => {
    respond = responder;
    const client = clients()[clientName] as unknown as { send(c: unknown): Promise<unknown> };
    const e = (await client.send(command).then(
      () => undefined,
      (x: unknown) => x,
    )) as { name: string; message: string; $metadata?: { httpStatusCode?: number; requestId?: string } } | undefined;
    expect(e, 'the call should fail').toBeDefined();
    expect(e!.name).toBe(want.name);
    expect(e!.$metadata?.httpStatusCode).toBe(want.status);
    if (want.cls) expect(e).toBeInstanceOf(want.cls);
    if (want.message) expect(e!.message).toMatch(want.message);
    expect(e!.$metadata?.requestId).toMatch(/^req-/);
    expect(lastCall?.operation).toBe(command.constructor.name.replace(/Command$/, ''));
  });
});

// ---------------------------------------------------------------------------------------------
// botocore (AWS CLI) for every protocol, including services whose JS clients are not installed.

interface PyCase {
  id: string;
  service: string;
  operation: string;
  params?: Record<string, unknown>;
  protocol?: string;
  /** Key the server dispatches on: `${signingName} ${protocol} ${operation}`. */
  key: string;
  responder: Responder;
  want: { code: string; status: number; exception?: string };
}

const PY_CASES: PyCase[] = [
  { id: 'iam-denied', service: 'iam', operation: 'CreateUser', params: { UserName: 'x' }, key: 'iam query CreateUser', responder: denied, want: { code: 'AccessDenied', status: 403 } },
  { id: 'iam-modeled', service: 'iam', operation: 'GetUser', params: { UserName: 'g' }, key: 'iam query GetUser', responder: err(404, 'NoSuchEntity', 'nope'), want: { code: 'NoSuchEntity', status: 404, exception: 'NoSuchEntityException' } },
  { id: 'sts-expired', service: 'sts', operation: 'GetCallerIdentity', key: 'sts query GetCallerIdentity', responder: auth('expired-token'), want: { code: 'ExpiredToken', status: 403 } },
  { id: 'ec2-denied', service: 'ec2', operation: 'DescribeInstances', key: 'ec2 query DescribeInstances', responder: denied, want: { code: 'UnauthorizedOperation', status: 403 } },
  { id: 'ec2-auth', service: 'ec2', operation: 'TerminateInstances', params: { InstanceIds: ['i-1'] }, key: 'ec2 query TerminateInstances', responder: auth('unknown-key'), want: { code: 'AuthFailure', status: 401 } },
  { id: 'sns-denied', service: 'sns', operation: 'Publish', params: { TopicArn: `arn:aws:sns:eu-west-1:${ACCOUNT}:t`, Message: 'm' }, key: 'sns query Publish', responder: denied,
    want: { code: 'AuthorizationError', status: 403, exception: 'AuthorizationErrorException' } },
  { id: 'sns-auth', service: 'sns', operation: 'CreateTopic', params: { Name: 't' }, key: 'sns query CreateTopic', responder: auth('unknown-key'), want: { code: 'InvalidClientTokenId', status: 403 } },
  { id: 'sqs-denied', service: 'sqs', operation: 'SendMessage', params: { QueueUrl: `http://localhost/${ACCOUNT}/q`, MessageBody: 'm' }, key: 'sqs json SendMessage', responder: denied, want: { code: 'AccessDenied', status: 403 } },
  { id: 'sqs-modeled', service: 'sqs', operation: 'GetQueueUrl', params: { QueueName: 'q' }, key: 'sqs json GetQueueUrl',
    responder: (c) => errorResponse(c, 400, 'com.amazonaws.sqs#QueueDoesNotExist', 'The specified queue does not exist.', 'req-sqs', { queryErrorCode: 'AWS.SimpleQueueService.NonExistentQueue' }),
    want: { code: 'AWS.SimpleQueueService.NonExistentQueue', status: 400, exception: 'QueueDoesNotExist' } },
  { id: 'cw-json', service: 'cloudwatch', operation: 'PutMetricAlarm', params: { AlarmName: 'a', EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanThreshold' }, key: 'monitoring json PutMetricAlarm', responder: denied, want: { code: 'AccessDenied', status: 403 } },
  { id: 'cw-cbor', service: 'cloudwatch', operation: 'DescribeAlarms', protocol: 'smithy-rpc-v2-cbor', key: 'monitoring cbor DescribeAlarms', responder: denied, want: { code: 'AccessDenied', status: 403 } },
  { id: 'cw-cbor-modeled', service: 'cloudwatch', operation: 'PutMetricData', params: { Namespace: 'n', MetricData: [{ MetricName: 'm', Value: 1 }] }, protocol: 'smithy-rpc-v2-cbor', key: 'monitoring cbor PutMetricData',
    responder: err(400, 'InvalidParameterValue', 'bad value'), want: { code: 'InvalidParameterValue', status: 400, exception: 'InvalidParameterValueException' } },
  { id: 'cw-query', service: 'cloudwatch', operation: 'DeleteAlarms', params: { AlarmNames: ['a'] }, protocol: 'query', key: 'monitoring query DeleteAlarms', responder: denied, want: { code: 'AccessDenied', status: 403 } },
  { id: 'logs-denied', service: 'logs', operation: 'CreateLogGroup', params: { logGroupName: 'g' }, key: 'logs json CreateLogGroup', responder: denied, want: { code: 'AccessDeniedException', status: 400 } },
  { id: 'logs-modeled', service: 'logs', operation: 'PutLogEvents', params: { logGroupName: 'g', logStreamName: 's', logEvents: [{ timestamp: 1, message: 'm' }] }, key: 'logs json PutLogEvents',
    responder: err(400, 'ResourceNotFoundException', 'The specified log group does not exist.'), want: { code: 'ResourceNotFoundException', status: 400, exception: 'ResourceNotFoundException' } },
  { id: 'events-denied', service: 'events', operation: 'PutRule', params: { Name: 'r', EventPattern: '{}' }, key: 'events json PutRule', responder: denied, want: { code: 'AccessDeniedException', status: 400 } },
  { id: 'ct-denied', service: 'cloudtrail', operation: 'StopLogging', params: { Name: 'main' }, key: 'cloudtrail json StopLogging', responder: denied, want: { code: 'AccessDeniedException', status: 400 } },
  { id: 'kms-denied', service: 'kms', operation: 'CreateKey', key: 'kms json CreateKey', responder: denied, want: { code: 'AccessDeniedException', status: 400 } },
  { id: 'kms-sig', service: 'kms', operation: 'ListKeys', key: 'kms json ListKeys', responder: auth('bad-signature'), want: { code: 'InvalidSignatureException', status: 400 } },
  { id: 's3-denied', service: 's3', operation: 'GetObject', params: { Bucket: 'b', Key: 'k' }, key: 's3 rest-xml GetObject', responder: denied, want: { code: 'AccessDenied', status: 403 } },
  { id: 's3-modeled', service: 's3', operation: 'ListObjectsV2', params: { Bucket: 'nope' }, key: 's3 rest-xml ListObjectsV2', responder: err(404, 'NoSuchBucket', 'The specified bucket does not exist'),
    want: { code: 'NoSuchBucket', status: 404, exception: 'NoSuchBucket' } },
  { id: 's3-head', service: 's3', operation: 'HeadObject', params: { Bucket: 'b', Key: 'k' }, key: 's3 rest-xml HeadObject', responder: denied, want: { code: '403', status: 403 } },
  { id: 's3-sig', service: 's3', operation: 'PutObject', params: { Bucket: 'b', Key: 'k', Body: 'x' }, key: 's3 rest-xml PutObject', responder: auth('bad-signature'), want: { code: 'SignatureDoesNotMatch', status: 403 } },
  { id: 'lambda-denied', service: 'lambda', operation: 'Invoke', params: { FunctionName: 'f' }, key: 'lambda rest-json Invoke', responder: denied, want: { code: 'AccessDeniedException', status: 403 } },
  { id: 'lambda-modeled', service: 'lambda', operation: 'GetFunction', params: { FunctionName: 'f' }, key: 'lambda rest-json GetFunction', responder: err(404, 'ResourceNotFoundException', 'Function not found'),
    want: { code: 'ResourceNotFoundException', status: 404, exception: 'ResourceNotFoundException' } },
  { id: 'lambda-auth', service: 'lambda', operation: 'ListFunctions', key: 'lambda rest-json ListFunctions', responder: auth('unknown-key'), want: { code: 'UnrecognizedClientException', status: 403 } },
  { id: 'gd-denied', service: 'guardduty', operation: 'ListFindings', params: { DetectorId: 'd' }, key: 'guardduty rest-json ListFindings', responder: denied,
    want: { code: 'AccessDeniedException', status: 403, exception: 'AccessDeniedException' } },
  { id: 'macie-denied', service: 'macie2', operation: 'ListFindings', key: 'macie2 rest-json ListFindings', responder: denied, want: { code: 'AccessDeniedException', status: 403, exception: 'AccessDeniedException' } },
];

const botocoreResponders = new Map<string, Responder>();

const hasBotocore = await new Promise<boolean>((resolve) => {
  execFile('python3', ['-c', 'import botocore'], (error) => resolve(!error));
});

interface PyResult {
  id: string;
  code: string | null;
  message: string | null;
  status: number | null;
  exception: string | null;
}

describe.skipIf(!hasBotocore)('botocore (AWS CLI) parses our errors', () => {
  let results = new Map<string, PyResult>();

  beforeAll(async () => {
    for (const c of PY_CASES) botocoreResponders.set(c.key, c.responder);
    const dir = mkdtempSync(join(tmpdir(), 'seclab-protocol-'));
    try {
      const file = join(dir, 'cases.json');
      writeFileSync(file, JSON.stringify(PY_CASES.map(({ id, service, operation, params, protocol }) => ({ id, service, operation, params, protocol }))));
      const script = fileURLToPath(new URL('./fixtures/botocore_errors.py', import.meta.url));
      const out = await new Promise<string>((resolve, reject) => {
        execFile('python3', [script, file, endpoint], { timeout: 120_000, maxBuffer: 1 << 22 }, (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
        );
      });
      results = new Map((JSON.parse(out) as PyResult[]).map((r) => [r.id, r]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      botocoreResponders.clear();
    }
  });

  it.each(PY_CASES.map((c) => [c.id, c] as const))('%s', (id, c) => {
    const r = results.get(id);
    expect(r, 'botocore result').toBeDefined();
    expect({ code: r!.code, status: r!.status }).toEqual({ code: c.want.code, status: c.want.status });
    if (c.want.exception) expect(r!.exception).toBe(c.want.exception);
    if (c.responder === denied && c.want.code !== '403') expect(r!.message).toMatch(/^User: arn:aws:iam::123456789012:user\/bob is not authorized to perform: /);
  });
});
