// The target's errors that are not in the call's protocol, and what the gateway answers instead
// (src/cloud/gateway/protocol/target-errors.ts). End to end through moto: test/gateway/errors-format.test.ts.
import { describe, expect, it } from 'vitest';
import { decodeCbor } from '../../src/cloud/gateway/protocol/cbor.ts';
import { guessCall, inProtocol, protocolErrorFor, TARGET_EXCEPTION_HEADER, type TargetAnswer } from '../../src/cloud/gateway/protocol/target-errors.ts';
import type { Protocol } from '../../src/cloud/gateway/protocol/types.ts';

const HTML_500 = '<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable to complete your request.</p>\n';
const html = (status: number, exception?: string): TargetAnswer => ({
  status,
  headers: { 'content-type': 'text/html; charset=utf-8', ...(exception ? { [TARGET_EXCEPTION_HEADER]: exception } : {}) },
  body: Buffer.from(HTML_500),
});
const call = (protocol: Protocol, service: string, operation = 'DoThing') => ({ protocol, service, operation });
const text = (a: TargetAnswer | undefined) => a!.body.toString('utf8');

describe('inProtocol: which target errors pass through unchanged', () => {
  it('recognises each protocol\'s own error shape', () => {
    const ok = (protocol: Protocol, body: string, headers: Record<string, string> = {}) => inProtocol({ protocol }, { status: 400, headers, body: Buffer.from(body) });
    expect(ok('query', '<ErrorResponse xmlns="x"><Error><Code>A</Code></Error></ErrorResponse>')).toBe(true);
    expect(ok('query', '<?xml version="1.0"?>\n<Response><Errors><Error><Code>A</Code></Error></Errors></Response>')).toBe(true);
    expect(ok('rest-xml', '<?xml version="1.0"?><Error><Code>NoSuchKey</Code></Error>')).toBe(true);
    expect(ok('rest-xml', '')).toBe(true); // HEAD
    expect(ok('json', '{"__type":"X","message":"m"}')).toBe(true);
    expect(ok('rest-json', '{"message":"m"}')).toBe(true);
    expect(ok('rest-json', '', { 'x-amzn-errortype': 'X' })).toBe(true);
  });

  it('refuses HTML, plain text and bodies of another protocol', () => {
    const ok = (protocol: Protocol, body: string, headers: Record<string, string> = {}) => inProtocol({ protocol }, { status: 500, headers, body: Buffer.from(body) });
    for (const p of ['query', 'rest-xml', 'json', 'rest-json', 'cbor'] as const) expect(ok(p, HTML_500, { 'content-type': 'text/html' })).toBe(false);
    expect(ok('json', 'the emulator failed on this request')).toBe(false);
    expect(ok('json', '')).toBe(false);
    expect(ok('query', '{"message":"x"}')).toBe(false);
    expect(ok('rest-json', '')).toBe(false);
  });
});

describe('protocolErrorFor', () => {
  it('passes successes and protocol errors on', () => {
    expect(protocolErrorFor(call('json', 'logs'), { status: 200, headers: {}, body: Buffer.from('<html>') }, 'r')).toBeUndefined();
    expect(protocolErrorFor(call('json', 'logs'), { status: 400, headers: {}, body: Buffer.from('{"__type":"X","message":"m"}') }, 'r')).toBeUndefined();
  });

  it('NotImplementedError: 501 NotImplemented in each protocol', () => {
    const q = protocolErrorFor(call('query', 'iam', 'ListDelegationRequests'), html(500, 'NotImplementedError'), 'req-1');
    expect(q!.status).toBe(501);
    expect(text(q)).toContain('<Type>Receiver</Type>');
    expect(text(q)).toContain('<Code>NotImplemented</Code>');
    expect(text(q)).toContain('ListDelegationRequests is not available in the lab cloud');
    const e = protocolErrorFor(call('query', 'ec2', 'DescribeCapacityBlocks'), html(500, 'NotImplementedError'), 'req-1');
    expect(text(e)).toContain('<Response><Errors><Error><Code>NotImplemented</Code>');
    const j = protocolErrorFor(call('json', 'cloudtrail', 'ListImports'), html(500, 'NotImplementedError'), 'req-1');
    expect([j!.status, j!.headers['x-amzn-errortype'], JSON.parse(text(j)).__type]).toEqual([501, 'NotImplemented', 'NotImplemented']);
    const s = protocolErrorFor(call('rest-xml', 's3', 'SelectObjectContent'), html(500, 'NotImplementedError'), 'req-1');
    expect(text(s)).toMatch(/^<\?xml[^>]*>\n<Error><Code>NotImplemented<\/Code>/);
    const c = protocolErrorFor(call('cbor', 'monitoring', 'GetInsightRuleReport'), html(500, 'NotImplementedError'), 'req-1');
    expect(c!.headers['smithy-protocol']).toBe('rpc-v2-cbor');
    expect(decodeCbor(c!.body)).toMatchObject({ __type: 'NotImplemented' });
  });

  it('an HTML 404 for a recognised REST operation is one moto lacks (501); an unknown one stays 404', () => {
    expect(protocolErrorFor(call('rest-json', 'lambda', 'ListCodeSigningConfigs'), html(404), 'r')!.status).toBe(501);
    const unknown = protocolErrorFor(call('rest-json', 'lambda', 'Unknown'), html(404), 'r');
    expect([unknown!.status, unknown!.headers['x-amzn-errortype']]).toEqual([404, 'UnknownOperationException']);
    const q = protocolErrorFor(call('query', 'iam', 'Nope'), html(404), 'r');
    expect([q!.status, text(q).includes('<Code>InvalidAction</Code>')]).toEqual([400, true]);
  });

  it('a crash on input: the protocol\'s 400 validation code', () => {
    const code = (protocol: Protocol, service: string) => {
      const r = protocolErrorFor(call(protocol, service), html(500, 'KeyError'), 'r')!;
      expect(r.status).toBe(400);
      return r.headers['x-amzn-errortype'] ?? /<Code>([^<]+)<\/Code>/.exec(text(r))![1];
    };
    expect(code('query', 'iam')).toBe('ValidationError');
    expect(code('query', 'sts')).toBe('ValidationError');
    expect(code('query', 'sns')).toBe('InvalidParameter');
    expect(code('query', 'ec2')).toBe('InvalidParameterValue');
    expect(code('query', 'monitoring')).toBe('InvalidParameterValue');
    expect(code('json', 'logs')).toBe('InvalidParameterException');
    expect(code('json', 'kms')).toBe('ValidationException');
    expect(code('rest-json', 'lambda')).toBe('InvalidParameterValueException');
    expect(code('rest-xml', 's3')).toBe('InvalidArgument');
  });

  it('a body not in the protocol\'s syntax: the protocol\'s malformed-body error, with or without the exception header', () => {
    for (const exception of [undefined, 'JSONDecodeError']) {
      const l = protocolErrorFor(call('rest-json', 'lambda', 'CreateFunction'), html(500, exception), 'r', Buffer.from('garbage'));
      expect([l!.status, l!.headers['x-amzn-errortype'], JSON.parse(text(l))]).toEqual([400, 'InvalidRequestContentException', { Type: 'User', message: 'Could not parse request body into json' }]);
      const s = protocolErrorFor(call('rest-xml', 's3', 'PutBucketTagging'), html(500, exception), 'r', Buffer.from('not xml'));
      expect([s!.status, /<Code>([^<]+)</.exec(text(s))![1]]).toEqual([400, 'MalformedXML']);
      const j = protocolErrorFor(call('json', 'events', 'PutRule'), html(500, exception), 'r', Buffer.from('{"a":'));
      expect([j!.status, j!.headers['x-amzn-errortype']]).toEqual([400, 'SerializationException']);
    }
  });

  it('without the exception header (Docker image, other endpoints): 500 InternalFailure, S3 InternalError', () => {
    const j = protocolErrorFor(call('json', 'logs'), html(500), 'r');
    expect([j!.status, j!.headers['x-amzn-errortype']]).toEqual([500, 'InternalFailure']);
    const s = protocolErrorFor(call('rest-xml', 's3'), html(500), 'r');
    expect([s!.status, /<Code>([^<]+)</.exec(text(s))![1]]).toEqual([500, 'InternalError']);
  });

  it('never passes on HTML or stack text', () => {
    for (const p of ['query', 'rest-xml', 'json', 'rest-json'] as const) {
      for (const ex of [undefined, 'NotImplementedError', 'KeyError', 'RuntimeError']) {
        const r = protocolErrorFor(call(p, p === 'rest-xml' ? 's3' : 'logs'), html(500, ex), 'r');
        expect(text(r)).not.toMatch(/<html|<!doctype|Traceback|Internal Server Error/i);
        expect(String(r!.headers['content-type'])).not.toContain('html');
      }
    }
  });
});

describe('guessCall: the protocol of a request the gateway could not identify', () => {
  const auth = (service: string) => `AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261207/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=x`;
  it('reads the service from the credential scope and the protocol from the headers', () => {
    expect(guessCall({ authorization: auth('iam'), 'content-type': 'application/x-www-form-urlencoded' }, '/')).toMatchObject({ service: 'iam', protocol: 'query' });
    expect(guessCall({ authorization: auth('ec2') }, '/')).toMatchObject({ service: 'ec2', protocol: 'query' });
    expect(guessCall({ authorization: auth('logs'), 'x-amz-target': 'Logs_20140328.PutLogEvents' }, '/')).toMatchObject({ service: 'logs', protocol: 'json', operation: 'PutLogEvents' });
    expect(guessCall({ authorization: auth('monitoring'), 'smithy-protocol': 'rpc-v2-cbor' }, '/service/GraniteServiceVersion20100801/operation/PutMetricData')).toMatchObject({ service: 'monitoring', protocol: 'cbor' });
    expect(guessCall({ authorization: auth('lambda') }, '/2015-03-31/functions')).toMatchObject({ service: 'lambda', protocol: 'rest-json' });
    expect(guessCall({}, '/bucket/key?X-Amz-Credential=AKIAEXAMPLE%2F20261207%2Fus-east-1%2Fs3%2Faws4_request')).toMatchObject({ service: 's3', protocol: 'rest-xml' });
    expect(guessCall({}, '/')).toMatchObject({ service: 's3', protocol: 'rest-xml' });
  });
});
