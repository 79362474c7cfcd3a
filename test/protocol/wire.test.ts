// wireProblem(): requests the target (moto: werkzeug + BaseResponse) could read otherwise than
// identify() are refused; what real SDKs and botocore send never is.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { identify } from '../../src/cloud/gateway/protocol/identify.ts';
import { foreignResource, parseForm, wireProblem, mediaType } from '../../src/cloud/gateway/protocol/wire.ts';
import type { RawRequest } from '../../src/cloud/gateway/protocol/types.ts';
import { botocoreFixtures, rawFromRecorded, rawFromSdkJs, req, sdkJsFixtures, sigv4 } from './helpers.ts';

const problem = (raw: RawRequest) => wireProblem(identify(raw), raw, { headerSigned: raw.headers['authorization'] !== undefined });
const FORM = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };

describe('wireProblem: what SDKs send passes', () => {
  it.each([
    ...botocoreFixtures().map((f): [string, RawRequest] => [`botocore ${f.service} ${f.operation} ${f.protocol}`, rawFromRecorded(f.request)]),
    ...sdkJsFixtures().map((f): [string, RawRequest] => [`sdk-js ${f.package} ${f.operation}`, rawFromSdkJs(f)]),
  ])('%s', (_name, raw) => {
    // Generated fixtures copy from "x1", which names no key: AWS answers InvalidArgument, so does the gateway.
    const source = raw.headers['x-amz-copy-source'];
    if (source !== undefined && !source.includes('/')) expect(problem(raw)?.code).toBe('InvalidArgument');
    else expect(problem(raw)).toBeUndefined();
  });
});

describe('wireProblem: ambiguous requests are refused', () => {
  it.each<[string, RawRequest, string]>([
    ['query: body without a form content type', req('POST', '/?Action=GetUser', sigv4('iam'), 'Action=DeleteUser'), 'MalformedQueryString'],
    ['query: media type that only contains the form type', req('POST', '/', { ...sigv4('iam'), 'content-type': 'text/plain; x=application/x-www-form-urlencoded' }, 'Action=ListUsers'), 'MalformedQueryString'],
    ['query: multipart body', req('POST', '/', { ...sigv4('iam'), 'content-type': 'multipart/form-data; boundary=b' }, '--b\r\nContent-Disposition: form-data; name="Action"\r\n\r\nDeleteUser\r\n--b--'), 'MalformedQueryString'],
    ['query: parameters in URL and form', req('POST', '/?UserName=victim', { ...sigv4('iam'), 'content-type': 'APPLICATION/X-WWW-FORM-URLENCODED' }, 'Action=DeleteUser&UserName=me'), 'MalformedQueryString'],
    ['query: repeated name in the form', req('POST', '/', { ...sigv4('iam'), ...FORM }, 'Action=CreateUser&Action=GetUser'), 'MalformedQueryString'],
    ['query: action in another case (moto runs create_user)', req('POST', '/', { ...sigv4('iam'), ...FORM }, 'Action=createUser&UserName=x'), 'InvalidAction'],
    ['query: action in snake case', req('POST', '/', { ...sigv4('iam'), ...FORM }, 'Action=create_user&UserName=x'), 'InvalidAction'],
    ['query: action with a trailing space', req('POST', '/', { ...sigv4('iam'), ...FORM }, 'Action=CreateUser+&UserName=x'), 'InvalidAction'],
    ['json: operation in another case', req('POST', '/', { ...sigv4('kms'), 'x-amz-target': 'TrentService.scheduleKeyDeletion', 'content-type': 'application/x-amz-json-1.1' }, '{"KeyId":"k"}'), 'UnknownOperationException'],
    ['query: repeated name in the URL', req('GET', '/?Action=GetUser&Action=CreateUser', sigv4('iam')), 'MalformedQueryString'],
    ['query: escape that is not UTF-8', req('POST', '/', { ...sigv4('iam'), ...FORM }, 'Action=GetUser&UserName=%ff'), 'MalformedQueryString'],
    ['query: content encoding other than gzip', req('POST', '/', { ...sigv4('iam'), ...FORM, 'content-encoding': 'GZIP' }, gzipSync('Action=ListUsers')), 'MalformedQueryString'],
    ['query: X-Amz-Target on a query service', req('POST', '/', { ...sigv4('iam'), 'x-amz-target': 'X.DeleteUser' }, '{}'), 'SerializationException'],
    ['json: Action in the URL query', req('POST', '/?Action=ScheduleKeyDeletion', { ...sigv4('kms'), 'x-amz-target': 'TrentService.DescribeKey', 'content-type': 'application/x-amz-json-1.1' }, '{"KeyId":"k"}'), 'SerializationException'],
    ['json: form content type', req('POST', '/', { ...sigv4('kms'), 'x-amz-target': 'TrentService.DescribeKey', ...FORM }, '{"KeyId":"k"}'), 'SerializationException'],
    ['json: body that is not a JSON object', req('POST', '/', { ...sigv4('kms'), 'x-amz-target': 'TrentService.DescribeKey', 'content-type': 'application/x-amz-json-1.1' }, '{"KeyId":"k","x":NaN}'), 'SerializationException'],
    ['json: __proto__ member', req('POST', '/', { ...sigv4('kms'), 'x-amz-target': 'TrentService.DescribeKey', 'content-type': 'application/x-amz-json-1.1' }, '{"__proto__":{"KeyId":"k"}}'), 'SerializationException'],
    ['cbor: body that is not CBOR', req('POST', '/service/GraniteServiceVersion20100801/operation/PutMetricData', { ...sigv4('monitoring'), 'smithy-protocol': 'rpc-v2-cbor', 'content-type': 'application/cbor' }, 'not cbor'), 'SerializationException'],
    ['json: target of another service', req('POST', '/', { ...sigv4('kms'), 'x-amz-target': 'Logs_20140328.DescribeKey', 'content-type': 'application/x-amz-json-1.1' }, '{}'), 'SerializationException'],
    ['json: presigned (moto would route it to S3)', req('POST', '/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20260101%2Fus-east-1%2Fkms%2Faws4_request', { 'x-amz-target': 'TrentService.DescribeKey' }, '{}'), 'SerializationException'],
    ['rest-json: label also in the query', req('GET', '/2015-03-31/functions/mine?FunctionName=victim', sigv4('lambda')), 'ValidationException'],
    ['rest-json: label also in the body', req('PUT', '/2015-03-31/functions/mine/configuration', sigv4('lambda'), '{"FunctionName":"victim","Timeout":3}'), 'ValidationException'],
    ['rest-json: Action in the query', req('GET', '/2015-03-31/functions/mine?Action=DeleteFunction', sigv4('lambda')), 'ValidationException'],
    ['s3: form body on a GET', req('GET', '/b/k', { ...sigv4('s3'), ...FORM }, 'versionId=1'), 'InvalidRequest'],
    ['s3: X-Amz-Target', req('DELETE', '/b/k', { ...sigv4('s3'), 'x-amz-target': 'AmazonS3.GetObject' }), 'InvalidRequest'],
    ['s3: the emulator\'s own API', req('POST', '/moto-api/reset', sigv4('s3')), 'InvalidBucketName'],
    ['s3: empty bucket segment (//bucket/key)', req('GET', '//b/secret/x', sigv4('s3')), 'InvalidBucketName'],
    ['s3: S3 Control path', req('GET', '/v20180820/configuration/publicAccessBlock', sigv4('s3')), 'InvalidBucketName'],
    ['s3: presigned path moto routes by name_region', req('GET', '/iam_us-east-1/x?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request'), 'InvalidBucketName'],
    ['s3: repeated query parameter', req('GET', '/b/k?versionId=1&versionId=2', sigv4('s3')), 'InvalidRequest'],
    ...['///b/secret/x', 'b/secret/x#.jpg', 'b/secret/x;p', '//b/secret/x', 'b/secret/%ff'].map((src): [string, RawRequest, string] =>
      [`s3: copy source ${src}`, req('PUT', '/dst/k', { ...sigv4('s3'), 'x-amz-copy-source': src }), 'InvalidArgument']),
    ...['/b/secret/x#f', '/b/secret/x;a', '/b/secret/x%ff', '/b/a b', '/b/a\\b'].map((path): [string, RawRequest, string] =>
      [`s3: raw path ${path}`, req('GET', path, sigv4('s3')), 'InvalidURI']),
    ['s3: DeleteObjects without objects', req('POST', '/b?delete', sigv4('s3'), '<Delete></Delete>'), 'MalformedXML'],
    ['s3: DeleteObjects key that is not text', req('POST', '/b?delete', sigv4('s3'), '<Delete><Object><Key>a<b>x</b></Key></Object></Delete>'), 'MalformedXML'],
    ['s3: DeleteObjects body that is not XML', req('POST', '/b?delete', sigv4('s3'), 'Key=secret'), 'MalformedXML'],
    ['s3: POST upload with the key twice', req('POST', '/b', { ...sigv4('s3'), 'content-type': 'multipart/form-data; boundary=xx' },
      '--xx\r\nContent-Disposition: form-data; name="key"\r\n\r\npublic/a\r\n--xx\r\nContent-Disposition: form-data; name="key"\r\n\r\nsecret/a\r\n--xx--\r\n'), 'MalformedPOSTRequest'],
    ['sqs: queue URL with more path', req('POST', '/', { ...sigv4('sqs'), 'x-amz-target': 'AmazonSQS.DeleteQueue', 'content-type': 'application/x-amz-json-1.0' }, '{"QueueUrl":"http://x/123456789012/mine/../victim"}'), 'InvalidAddress'],
    ['sqs: queue in the path, none in the body', req('POST', '/123456789012/victim', { ...sigv4('sqs'), 'x-amz-target': 'AmazonSQS.DeleteQueue', 'content-type': 'application/x-amz-json-1.0' }, '{}'), 'InvalidAddress'],
    ['sqs: path and QueueUrl disagree', req('POST', '/123456789012/victim', { ...sigv4('sqs'), ...FORM }, 'Action=DeleteQueue&QueueUrl=http%3A%2F%2Fx%2F123456789012%2Fmine'), 'InvalidAddress'],
    ['repeated header', { ...req('GET', '/?Action=ListUsers', sigv4('iam')), repeatedHeaders: ['content-type'] } as RawRequest, 'MalformedQueryString'],
  ])('%s', (_name, raw, code) => {
    const p = wireProblem(identify(raw), raw, { headerSigned: raw.headers['authorization'] !== undefined, repeatedHeaders: (raw as { repeatedHeaders?: string[] }).repeatedHeaders });
    expect(p?.code).toBe(code);
    expect(p?.status).toBe(400);
  });

  it('reads what the target reads: gzip bodies decompressed, forms in any case, the form replacing the URL', () => {
    const gz = req('POST', '/', { ...sigv4('iam'), ...FORM, 'content-encoding': 'gzip' }, gzipSync('Action=CreateUser&UserName=a'));
    expect(identify(gz)).toMatchObject({ operation: 'CreateUser', params: { UserName: 'a' } });
    expect(problem(gz)).toBeUndefined();
    expect(identify(req('POST', '/', { ...sigv4('iam'), 'content-type': ' Application/X-Www-Form-Urlencoded ;charset=UTF-8' }, 'Action=ListUsers')).operation).toBe('ListUsers');
    expect(identify(req('POST', '/?Action=GetUser', sigv4('iam'), 'Action=DeleteUser')).operation).toBe('GetUser');
    // DeleteObjects: numeric character references decoded, whitespace kept, any body size.
    const big = `<Delete>${' '.repeat(2 << 20)}<Object><Key> &#x73;ecret/x</Key></Object></Delete>`;
    expect(identify(req('POST', '/b?delete', sigv4('s3'), big)).params['Delete']).toMatchObject({ Objects: [{ Key: ' secret/x' }] });
    // A POST upload's key is found however far into the body it is.
    const post = req('POST', '/b', { ...sigv4('s3'), 'content-type': 'multipart/form-data; boundary="xx"' },
      `--xx\r\nContent-Disposition: form-data; name="pad"\r\n\r\n${'p'.repeat(100_000)}\r\n--xx\r\nContent-Disposition: form-data; name="key"\r\n\r\nsecret/z\r\n--xx--\r\n`);
    expect(identify(post).params['Key']).toBe('secret/z');
  });

  it('refuses ARNs of the call\'s own service in another account or region, not other services\' ARNs', () => {
    const kms = (KeyId: string) => identify(req('POST', '/', { ...sigv4('kms', 'us-east-1'), 'x-amz-target': 'TrentService.DescribeKey', 'content-type': 'application/x-amz-json-1.1' }, JSON.stringify({ KeyId })));
    expect(foreignResource(kms('arn:aws:kms:us-east-1:111111111111:key/k'), '222222222222')?.code).toBe('ValidationException');
    expect(foreignResource(kms('arn:aws:kms:eu-west-1:222222222222:key/k'), '222222222222')).toBeDefined();
    expect(foreignResource(kms('arn:aws:kms:us-east-1:222222222222:key/k'), '222222222222')).toBeUndefined();
    expect(foreignResource(kms('k'), '222222222222')).toBeUndefined();
    const lambda = identify(req('GET', '/2015-03-31/functions/111111111111%3Afunction%3Avictim', sigv4('lambda', 'us-east-1')));
    expect(foreignResource(lambda, '222222222222')).toBeDefined();
    // Cross-account AssumeRole names an IAM role from STS: another service, allowed.
    const assume = identify(req('POST', '/', { ...sigv4('sts', 'us-east-1'), ...FORM }, 'Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Fr&RoleSessionName=s'));
    expect(foreignResource(assume, '222222222222')).toBeUndefined();
    const sqs = identify(req('POST', '/', { ...sigv4('sqs', 'us-east-1'), 'x-amz-target': 'AmazonSQS.DeleteQueue', 'content-type': 'application/x-amz-json-1.0' }, '{"QueueUrl":"http://x/111111111111/q"}'));
    expect(foreignResource(sqs, '222222222222')?.code).toBe('InvalidAddress');
  });

  it('parses forms as Python does', () => {
    expect(parseForm('a=1&&b&c=x+y&d=%41%zz')).toEqual([['a', '1'], ['b', ''], ['c', 'x y'], ['d', 'A%zz']]);
    expect(parseForm('a=%C3%A9')).toEqual([['a', 'é']]);
    expect(parseForm('a=%C3')).toBeUndefined();
    expect(mediaType(' Multipart/Form-Data ; boundary=x')).toBe('multipart/form-data');
  });
});
