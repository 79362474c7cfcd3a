// Every error in the protocol's own format and status, never HTML, never a gateway stack message:
// malformed bodies, operations moto does not implement, requests moto's handlers crash on, and the
// gateway's own failures, sent raw (validly signed) through the real gateway to the real moto_server,
// for each wire protocol. Also the CloudTrail trail errors and Lambda's unknown-function error that
// moto gets wrong (docs/moto-deviations.md).
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { S3Client, CreateBucketCommand } from '@aws-sdk/client-s3';
import {
  CloudTrailClient, LookupEventsCommand, CreateTrailCommand, DeleteTrailCommand, DescribeTrailsCommand, GetTrailStatusCommand, StartLoggingCommand, StopLoggingCommand,
} from '@aws-sdk/client-cloudtrail';
import { LambdaClient, InvokeCommand } from '@aws-sdk/client-lambda';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
const REGION = 'us-east-1';
type Creds = { accessKeyId: string; secretAccessKey: string };

// ---- a small SigV4 signer (header signing), independent of the gateway's verifier ----

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const hmac = (k: Buffer | string, d: string) => createHmac('sha256', k).update(d).digest();
const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function send(creds: Creds, service: string, r: { method?: string; path?: string; query?: Record<string, string>; headers?: Record<string, string>; body?: string }): Promise<Answer> {
  const method = r.method ?? 'POST';
  const path = r.path ?? '/';
  const query = r.query ?? {};
  const body = r.body ?? '';
  const url = new URL(cloud().url);
  const when = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = when.slice(0, 8);
  const headers: Record<string, string> = { host: url.host, ...(r.headers ?? {}), 'x-amz-date': when, 'x-amz-content-sha256': sha256(body) };
  const names = Object.keys(headers).map((k) => k.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const cq = Object.entries(query).map(([k, v]) => `${enc(k)}=${enc(v)}`).sort().join('&');
  const canonical = [method, path, cq, names.map((n) => `${n}:${lower[n]!.trim()}\n`).join(''), names.join(';'), headers['x-amz-content-sha256']].join('\n');
  const scope = `${day}/${REGION}/${service}/aws4_request`;
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, day), REGION), service), 'aws4_request');
  const sig = hmac(key, `AWS4-HMAC-SHA256\n${when}\n${scope}\n${sha256(canonical)}`).toString('hex');
  headers['authorization'] = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${sig}`;
  delete headers['host'];
  const res = await fetch(`${cloud().url}${path}${cq ? `?${cq}` : ''}`, { method, headers, body: method === 'GET' || method === 'HEAD' ? undefined : body });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const form = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
const json = (target: string, version = '1.1') => ({ 'content-type': `application/x-amz-json-${version}`, 'x-amz-target': target });
const CT = 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.';

function neverHtmlOrStack(a: Answer): void {
  expect(a.text).not.toMatch(/<!doctype html|<html|<title>|Internal Server Error|Traceback|seclab gateway error|\n\s+at /i);
  expect(a.headers.get('content-type') ?? '').not.toContain('text/html');
}

/** A query-protocol error: <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>. */
function queryError(a: Answer, status: number, code: string): void {
  neverHtmlOrStack(a);
  expect(a.status).toBe(status);
  expect(a.text).toMatch(/^<ErrorResponse xmlns="[^"]+">/);
  expect(a.text).toContain(`<Code>${code}</Code>`);
  expect(a.text).toContain(`<Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type>`);
  expect(a.text).toMatch(/<RequestId>[0-9a-f-]{36}<\/RequestId>/);
}

/** EC2's query error: <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>. */
function ec2Error(a: Answer, status: number, code: string): void {
  neverHtmlOrStack(a);
  expect(a.status).toBe(status);
  expect(a.text).toContain(`<Response><Errors><Error><Code>${code}</Code><Message>`);
  expect(a.text).toMatch(/<RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>$/);
}

/** A JSON-protocol error: {"__type": code, "message"} with x-amzn-ErrorType. */
function jsonError(a: Answer, status: number, code: string, version = '1.1'): { message: string } {
  neverHtmlOrStack(a);
  expect(a.status).toBe(status);
  expect(a.headers.get('content-type')).toBe(`application/x-amz-json-${version}`);
  expect(a.headers.get('x-amzn-errortype')).toBe(code);
  const body = JSON.parse(a.text) as { __type: string; message: string };
  expect(body.__type).toBe(code);
  expect(typeof body.message).toBe('string');
  return body;
}

/** A REST-JSON (Lambda) error: {"Type", "message"} with x-amzn-ErrorType. */
function restJsonError(a: Answer, status: number, code: string): { message: string; Type: string } {
  neverHtmlOrStack(a);
  expect(a.status).toBe(status);
  expect(a.headers.get('content-type')).toBe('application/json');
  expect(a.headers.get('x-amzn-errortype')).toBe(code);
  const body = JSON.parse(a.text) as { message: string; Type: string };
  expect(body.Type).toBe(status >= 500 ? 'Service' : 'User');
  return body;
}

/** An S3 error: <Error><Code/><Message/><RequestId/><HostId/></Error> with x-amz-request-id. */
function s3Error(a: Answer, status: number, code: string): void {
  neverHtmlOrStack(a);
  expect(a.status).toBe(status);
  expect(a.text).toContain(`<Error><Code>${code}</Code>`);
  expect(a.text).toMatch(/<RequestId>[^<]+<\/RequestId><HostId>[^<]+<\/HostId><\/Error>$/);
  expect(a.headers.get('x-amz-request-id')).toBeTruthy();
}

function account(): Creds & { accountId: string } {
  const r = cloud().createAccount();
  return { accountId: r.accountId, accessKeyId: r.accessKeyId, secretAccessKey: r.secretAccessKey };
}

describe('errors: operations moto does not implement answer 501 NotImplemented in the protocol', () => {
  it('query (IAM, STS, SNS, CloudWatch)', async () => {
    const a = account();
    queryError(await send(a, 'iam', { headers: form, body: 'Action=ListDelegationRequests&Version=2010-05-08' }), 501, 'NotImplemented');
    queryError(await send(a, 'sts', { headers: form, body: 'Action=GetDelegatedAccessToken&Version=2011-06-15&TradeInToken=x' }), 501, 'NotImplemented');
    queryError(await send(a, 'sns', { headers: form, body: `Action=GetDataProtectionPolicy&Version=2010-03-31&ResourceArn=arn:aws:sns:${REGION}:${a.accountId}:t` }), 501, 'NotImplemented');
    queryError(
      await send(a, 'monitoring', { headers: form, body: 'Action=GetInsightRuleReport&Version=2010-08-01&RuleName=x&StartTime=2026-01-01T00:00:00Z&EndTime=2026-01-02T00:00:00Z&Period=60' }),
      501, 'NotImplemented',
    );
  });

  it('and CloudTrail records the error the client got', async () => {
    const a = account();
    await send(a, 'iam', { headers: form, body: 'Action=ListDelegationRequests&Version=2010-05-08' });
    const { Events } = await cloud().client(CloudTrailClient, { credentials: a })
      .send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'ListDelegationRequests' }] }));
    const record = JSON.parse(Events?.[0]?.CloudTrailEvent ?? '{}') as { errorCode?: string; errorMessage?: string };
    expect(record.errorCode).toBe('NotImplemented');
    expect(record.errorMessage).toContain('ListDelegationRequests is not available in the lab cloud');
  });

  it('EC2 query', async () => {
    const a = account();
    const r = await send(a, 'ec2', { headers: form, body: 'Action=DescribeCapacityBlocks&Version=2016-11-15' });
    ec2Error(r, 501, 'NotImplemented');
    expect(r.text).toContain('DescribeCapacityBlocks is not available in the lab cloud');
  });

  it('JSON (CloudTrail, CloudWatch Logs, EventBridge)', async () => {
    const a = account();
    const body = jsonError(await send(a, 'cloudtrail', { headers: json(`${CT}ListImports`), body: '{}' }), 501, 'NotImplemented');
    expect(body.message).toContain('ListImports');
    jsonError(await send(a, 'logs', { headers: json('Logs_20140328.GetLogRecord'), body: '{"logRecordPointer":"x"}' }), 501, 'NotImplemented');
    jsonError(await send(a, 'events', { headers: json('AWSEvents.CreateEndpoint'), body: '{"Name":"x","RoutingConfig":{"FailoverConfig":{}},"EventBuses":[]}' }), 501, 'NotImplemented');
  });

  it('REST-JSON (Lambda): an operation moto has no route for', async () => {
    const a = account();
    restJsonError(await send(a, 'lambda', { method: 'GET', path: '/2020-04-22/code-signing-configs/' }), 501, 'NotImplemented');
  });
});

describe('errors: malformed bodies and parameters answer the protocol\'s 400', () => {
  it('query: a parameter moto cannot read (SNS InvalidParameter, CloudWatch InvalidParameterValue)', async () => {
    const a = account();
    queryError(await send(a, 'sns', { headers: form, body: 'Action=CreateTopic&Version=2010-03-31' }), 400, 'InvalidParameter');
    queryError(await send(a, 'monitoring', { headers: form, body: 'Action=PutMetricData&Version=2010-08-01&Namespace=x&MetricData.member.1.MetricName=m&MetricData.member.1.Value=abc' }), 400, 'InvalidParameterValue');
  });

  it('EC2 query: a number that is not one (InvalidParameterValue)', async () => {
    const a = account();
    ec2Error(await send(a, 'ec2', { headers: form, body: 'Action=RunInstances&Version=2016-11-15&ImageId=ami-12c6146b&MinCount=abc&MaxCount=1' }), 400, 'InvalidParameterValue');
  });

  it('JSON: a body that is not JSON (SerializationException), a missing required member', async () => {
    const a = account();
    jsonError(await send(a, 'logs', { headers: json('Logs_20140328.CreateLogGroup'), body: '{not json' }), 400, 'SerializationException');
    jsonError(await send(a, 'kms', { headers: json('TrentService.CreateKey'), body: 'garbage' }), 400, 'SerializationException');
    jsonError(await send(a, 'sqs', { headers: json('AmazonSQS.CreateQueue', '1.0'), body: 'garbage' }), 400, 'SerializationException', '1.0');
    jsonError(await send(a, 'logs', { headers: json('Logs_20140328.CreateLogGroup'), body: '{}' }), 400, 'InvalidParameterException');
  });

  it('REST-JSON (Lambda): a body that is not JSON (InvalidRequestContentException)', async () => {
    const a = account();
    const body = restJsonError(await send(a, 'lambda', { path: '/2015-03-31/functions', headers: { 'content-type': 'application/json' }, body: 'garbage' }), 400, 'InvalidRequestContentException');
    expect(body.message).toBe('Could not parse request body into json');
  });

  it('REST-XML (S3): XML that does not parse (MalformedXML)', async () => {
    const a = account();
    const bucket = `errfmt-${a.accountId}`;
    await cloud().client(S3Client, { credentials: a }).send(new CreateBucketCommand({ Bucket: bucket }));
    s3Error(await send(a, 's3', { method: 'PUT', path: `/${bucket}`, query: { tagging: '' }, body: '<notxml' }), 400, 'MalformedXML');
    s3Error(await send(a, 's3', { method: 'PUT', path: `/${bucket}`, query: { lifecycle: '' }, body: '<notxml' }), 400, 'MalformedXML');
  });
});

describe('errors: the gateway\'s own failures answer InternalFailure in the protocol, without stack text', () => {
  it('a failure while handling an identified call', async () => {
    const a = account();
    const gw = cloud().gateway.authorizer;
    const original = gw.authorize;
    gw.authorize = async () => {
      throw new Error('simulated failure\n    at Gateway.authorize (server.ts:1:1)');
    };
    try {
      const q = await send(a, 'iam', { headers: form, body: 'Action=ListUsers&Version=2010-05-08' });
      queryError(q, 500, 'InternalFailure');
      expect(q.text).toContain('simulated failure');
      jsonError(await send(a, 'logs', { headers: json('Logs_20140328.DescribeLogGroups'), body: '{}' }), 500, 'InternalFailure');
      restJsonError(await send(a, 'lambda', { method: 'GET', path: '/2015-03-31/functions/' }), 500, 'InternalFailure');
      s3Error(await send(a, 's3', { method: 'GET', path: '/' }), 500, 'InternalError');
      ec2Error(await send(a, 'ec2', { headers: form, body: 'Action=DescribeVpcs&Version=2016-11-15' }), 500, 'InternalFailure');
    } finally {
      gw.authorize = original;
    }
  });

  it('a failure before the call is identified (the server\'s catch-all)', async () => {
    const a = account();
    const gw = cloud().gateway as unknown as { process: (...args: unknown[]) => Promise<unknown> };
    const original = gw.process;
    gw.process = async () => {
      throw new Error('simulated failure');
    };
    try {
      queryError(await send(a, 'iam', { headers: form, body: 'Action=ListUsers&Version=2010-05-08' }), 500, 'InternalFailure');
      jsonError(await send(a, 'cloudtrail', { headers: json(`${CT}DescribeTrails`), body: '{}' }), 500, 'InternalFailure');
      restJsonError(await send(a, 'lambda', { method: 'GET', path: '/2015-03-31/functions/' }), 500, 'InternalFailure');
      s3Error(await send(a, 's3', { method: 'GET', path: '/' }), 500, 'InternalError');
    } finally {
      gw.process = original;
    }
  });
});

describe('CloudTrail: trail errors as AWS answers them', () => {
  async function setup() {
    const a = account();
    const bucket = `ct-errfmt-${a.accountId}`;
    await cloud().client(S3Client, { credentials: a }).send(new CreateBucketCommand({ Bucket: bucket }));
    const ct = cloud().client(CloudTrailClient, { credentials: a });
    return { a, bucket, ct, arn: (name: string) => `arn:aws:cloudtrail:${REGION}:${a.accountId}:trail/${name}` };
  }
  const errorOf = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
      return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
    }
    throw new Error('expected the call to fail');
  };

  it('CreateTrail with an existing name: TrailAlreadyExistsException, the trail unchanged', async () => {
    const { a, bucket, ct } = await setup();
    await ct.send(new CreateTrailCommand({ Name: 'main-trail', S3BucketName: bucket, S3KeyPrefix: 'first' }));
    const err = await errorOf(ct.send(new CreateTrailCommand({ Name: 'main-trail', S3BucketName: bucket, S3KeyPrefix: 'second' })));
    expect(err).toEqual({ name: 'TrailAlreadyExistsException', status: 400, message: `Trail main-trail already exists for customer: ${a.accountId}` });
    const { trailList } = await ct.send(new DescribeTrailsCommand({}));
    expect(trailList?.map((t) => [t.Name, t.S3KeyPrefix])).toEqual([['main-trail', 'first']]);
  });

  it('StartLogging, StopLogging, GetTrailStatus, DeleteTrail of an unknown trail: TrailNotFoundException (400)', async () => {
    const { a, ct, arn } = await setup();
    const message = `Unknown trail: ${arn('nope-trail')} for the user: ${a.accountId}`;
    for (const cmd of [new StartLoggingCommand({ Name: 'nope-trail' }), new StopLoggingCommand({ Name: 'nope-trail' }), new GetTrailStatusCommand({ Name: 'nope-trail' }), new DeleteTrailCommand({ Name: 'nope-trail' })]) {
      expect(await errorOf(ct.send(cmd as never))).toEqual({ name: 'TrailNotFoundException', status: 400, message });
    }
    const raw = await send(a, 'cloudtrail', { headers: json(`${CT}StopLogging`), body: '{"Name":"nope-trail"}' });
    expect(jsonError(raw, 400, 'TrailNotFoundException').message).toBe(message);
  });

  it('trails by ARN: StartLogging, StopLogging, DeleteTrail', async () => {
    const { bucket, ct, arn } = await setup();
    await ct.send(new CreateTrailCommand({ Name: 'arn-trail', S3BucketName: bucket }));
    await ct.send(new StartLoggingCommand({ Name: arn('arn-trail') }));
    expect((await ct.send(new GetTrailStatusCommand({ Name: 'arn-trail' }))).IsLogging).toBe(true);
    await ct.send(new StopLoggingCommand({ Name: arn('arn-trail') }));
    expect((await ct.send(new GetTrailStatusCommand({ Name: 'arn-trail' }))).IsLogging).toBe(false);
    await ct.send(new DeleteTrailCommand({ Name: arn('arn-trail') }));
    expect((await ct.send(new DescribeTrailsCommand({}))).trailList).toEqual([]);
  });

  it('DescribeTrails with trailNameList: only the trails that exist, by name or ARN; an empty list means all', async () => {
    const { bucket, ct, arn } = await setup();
    await ct.send(new CreateTrailCommand({ Name: 'trail-one', S3BucketName: bucket }));
    await ct.send(new CreateTrailCommand({ Name: 'trail-two', S3BucketName: bucket }));
    const names = async (list?: string[]) => ((await ct.send(new DescribeTrailsCommand({ trailNameList: list }))).trailList ?? []).map((t) => t.Name).sort();
    expect(await names(['nope', 'trail-one'])).toEqual(['trail-one']);
    expect(await names([arn('trail-two'), arn('nope')])).toEqual(['trail-two']);
    expect(await names(['nope'])).toEqual([]);
    expect(await names([])).toEqual(['trail-one', 'trail-two']);
    expect(await names()).toEqual(['trail-one', 'trail-two']);
  });
});

describe('Lambda: Invoke of an unknown function', () => {
  it('404 ResourceNotFoundException in Lambda\'s REST-JSON format, for RequestResponse and Event', async () => {
    const a = account();
    const message = `Function not found: arn:aws:lambda:${REGION}:${a.accountId}:function:no-such-function`;
    const raw = await send(a, 'lambda', { path: '/2015-03-31/functions/no-such-function/invocations', body: '{}' });
    expect(restJsonError(raw, 404, 'ResourceNotFoundException')).toEqual({ Type: 'User', message });
    const event = await send(a, 'lambda', { path: '/2015-03-31/functions/no-such-function/invocations', headers: { 'x-amz-invocation-type': 'Event' }, body: '{}' });
    restJsonError(event, 404, 'ResourceNotFoundException');
    const lambda = cloud().client(LambdaClient, { credentials: a });
    try {
      await lambda.send(new InvokeCommand({ FunctionName: 'no-such-function', Payload: Buffer.from('{}') }));
      expect.unreachable();
    } catch (e) {
      const err = e as { name: string; message: string; $metadata: { httpStatusCode?: number } };
      expect([err.name, err.$metadata.httpStatusCode, err.message]).toEqual(['ResourceNotFoundException', 404, message]);
    }
  });
});
