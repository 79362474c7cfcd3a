// S3 Control and Account Management in the protocol layer (pure): what identify() makes of the
// requests real clients send, what IAM authorizes, and the S3 Control requests refused because the
// gateway and moto could read them differently.
import { describe, expect, it } from 'vitest';
import { identify, rawRequest } from '../../src/cloud/gateway/protocol/identify.ts';
import { toAuthz } from '../../src/cloud/gateway/protocol/authz-map.ts';
import { foreignResource, wireProblem } from '../../src/cloud/gateway/protocol/wire.ts';
import { errorResponse } from '../../src/cloud/gateway/protocol/errors.ts';
import { protocolErrorFor } from '../../src/cloud/gateway/protocol/target-errors.ts';

const ACCOUNT = '123456789012';
const auth = (service: string) => `AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=00`;
const s3c = (method: string, url: string, headers: Record<string, string> = {}, body = '') =>
  rawRequest(method, url, { host: `${ACCOUNT}.localhost:4566`, authorization: auth('s3'), 'x-amz-account-id': ACCOUNT, ...headers }, Buffer.from(body));
const problem = (raw: ReturnType<typeof rawRequest>) => wireProblem(identify(raw), raw, { headerSigned: true });

describe('S3 Control: identification', () => {
  it.each([
    ['GET', '/v20180820/configuration/publicAccessBlock', 'GetPublicAccessBlock', 's3:GetAccountPublicAccessBlock', '*'],
    ['DELETE', '/v20180820/configuration/publicAccessBlock', 'DeletePublicAccessBlock', 's3:PutAccountPublicAccessBlock', '*'],
    ['GET', '/v20180820/accesspoint?maxResults=10', 'ListAccessPoints', 's3:ListAccessPoints', '*'],
    ['GET', '/v20180820/mrap/instances', 'ListMultiRegionAccessPoints', 's3:ListMultiRegionAccessPoints', '*'],
    ['GET', '/v20180820/accesspoint/reports', 'GetAccessPoint', 's3:GetAccessPoint', '*'],
    ['DELETE', '/v20180820/accesspoint/reports', 'DeleteAccessPoint', 's3:DeleteAccessPoint', `arn:aws:s3:us-east-1:${ACCOUNT}:accesspoint/reports`],
    ['PUT', '/v20180820/accesspoint/reports/policy', 'PutAccessPointPolicy', 's3:PutAccessPointPolicy', `arn:aws:s3:us-east-1:${ACCOUNT}:accesspoint/reports`],
    ['GET', '/v20180820/storagelens', 'ListStorageLensConfigurations', 's3:ListStorageLensConfigurations', '*'],
    ['GET', '/v20180820/storagelens/lens1', 'GetStorageLensConfiguration', 's3:GetStorageLensConfiguration', `arn:aws:s3:us-east-1:${ACCOUNT}:storage-lens/lens1`],
  ])('%s %s is %s, authorized as %s on %s', (method, url, op, action, resource) => {
    const call = identify(s3c(method, url));
    expect(call).toMatchObject({ service: 's3control', eventSource: 's3.amazonaws.com', protocol: 'rest-xml', operation: op, params: { AccountId: ACCOUNT } });
    expect(toAuthz(call, ACCOUNT)).toMatchObject({ action, resources: [resource] });
    expect(problem(s3c(method, url))).toBeUndefined();
  });

  it('reads the XML body of PutPublicAccessBlock and CreateAccessPoint', () => {
    const put = identify(s3c('PUT', '/v20180820/configuration/publicAccessBlock', {},
      '<PublicAccessBlockConfiguration xmlns="http://awss3control.amazonaws.com/doc/2018-08-20/"><BlockPublicAcls>true</BlockPublicAcls></PublicAccessBlockConfiguration>'));
    expect(put).toMatchObject({ operation: 'PutPublicAccessBlock', params: { PublicAccessBlockConfiguration: { BlockPublicAcls: 'true' } } });
    const create = identify(s3c('PUT', '/v20180820/accesspoint/ap1', {}, '<CreateAccessPointRequest><Bucket>b1</Bucket></CreateAccessPointRequest>'));
    expect(create).toMatchObject({ operation: 'CreateAccessPoint', params: { Name: 'ap1', Bucket: 'b1' } });
    const bad = s3c('PUT', '/v20180820/configuration/publicAccessBlock', {}, '<PublicAccessBlockConfiguration><BlockPublicAcls>');
    expect(problem(bad)).toMatchObject({ status: 400, code: 'MalformedXML' });
  });

  it('without x-amz-account-id a /v20180820/ request stays a bucket request (refused), as before', () => {
    const raw = rawRequest('GET', '/v20180820/configuration/publicAccessBlock', { authorization: auth('s3') });
    expect(identify(raw).service).toBe('s3');
    expect(problem(raw)).toMatchObject({ code: 'InvalidBucketName' });
  });

  it('refuses what moto could read otherwise: unknown routes, an encoded "/", a malformed account id, content encodings', () => {
    expect(problem(s3c('GET', '/v20180820/nosuchthing'))).toMatchObject({ status: 400, code: 'InvalidRequest' });
    expect(problem(s3c('GET', '/v20180820/accesspoint/a%2Fpolicy'))).toMatchObject({ status: 400, code: 'InvalidRequest' });
    expect(problem(s3c('GET', '/v20180820/accesspoint/a%2fpolicy'))).toMatchObject({ status: 400, code: 'InvalidRequest' });
    expect(problem(s3c('GET', '/v20180820/configuration/publicAccessBlock', { 'x-amz-account-id': 'me' }))).toMatchObject({ code: 'InvalidRequest' });
    expect(problem(s3c('PUT', '/v20180820/configuration/publicAccessBlock', { 'content-encoding': 'gzip' }, 'x'))).toMatchObject({ code: 'InvalidRequest' });
  });

  it('another account\'s id is AccessDenied (403), and access point ARNs of another account or region are refused', () => {
    const other = identify(s3c('GET', '/v20180820/configuration/publicAccessBlock', { 'x-amz-account-id': '210987654321' }));
    expect(foreignResource(other, ACCOUNT)).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(foreignResource(identify(s3c('GET', '/v20180820/configuration/publicAccessBlock')), ACCOUNT)).toBeUndefined();
    const arn = identify(s3c('GET', `/v20180820/accesspoint/${encodeURIComponent('arn:aws:s3:eu-west-1:123456789012:accesspoint/x')}/policy`));
    expect(arn.params['Name']).toBe('arn:aws:s3:eu-west-1:123456789012:accesspoint/x');
    expect(foreignResource(arn, ACCOUNT)).toMatchObject({ status: 400 });
  });

  it('errors in S3 Control\'s nested XML; moto\'s own S3 Control errors pass as they are', () => {
    const call = identify(s3c('GET', '/v20180820/configuration/publicAccessBlock'));
    const r = errorResponse(call, 403, 'AccessDenied', 'Access Denied', 'req-1');
    expect(r.body).toMatch(/^<\?xml[^>]*>\n<ErrorResponse><Error><Code>AccessDenied<\/Code><Message>Access Denied<\/Message><\/Error><RequestId>req-1<\/RequestId><HostId>/);
    const moto = Buffer.from('<?xml version="1.0" encoding="utf-8"?>\n<ErrorResponse xmlns="http://awss3control.amazonaws.com/doc/2018-08-20/"><Error><Type>Sender</Type><Code>NoSuchPublicAccessBlockConfiguration</Code><Message>x</Message></Error><RequestId>r</RequestId></ErrorResponse>');
    expect(protocolErrorFor(call, { status: 404, headers: {}, body: moto }, 'req-2')).toBeUndefined();
    const html = protocolErrorFor(call, { status: 500, headers: { 'content-type': 'text/html' }, body: Buffer.from('<html>boom</html>') }, 'req-3');
    expect(html?.body.toString()).toMatch(/<ErrorResponse><Error><Code>InternalError<\/Code>/);
  });
});

describe('Account Management: identification', () => {
  it.each([
    ['/getContactInformation', 'GetContactInformation'],
    ['/putContactInformation', 'PutContactInformation'],
    ['/getAlternateContact', 'GetAlternateContact'],
    ['/putAlternateContact', 'PutAlternateContact'],
    ['/deleteAlternateContact', 'DeleteAlternateContact'],
  ])('POST %s is account:%s on the account', (path, op) => {
    const raw = rawRequest('POST', path, { authorization: auth('account'), 'content-type': 'application/json' }, Buffer.from('{"AlternateContactType":"SECURITY"}'));
    const call = identify(raw);
    expect(call).toMatchObject({ service: 'account', protocol: 'rest-json', operation: op, eventSource: 'account.amazonaws.com' });
    const authz = toAuthz(call, ACCOUNT);
    expect(authz).toMatchObject({ action: `account:${op}`, resources: [`arn:aws:account::${ACCOUNT}:account`] });
    if (op.endsWith('AlternateContact')) expect(authz.context['account:AlternateContactTypes']).toEqual(['SECURITY']);
  });
});
