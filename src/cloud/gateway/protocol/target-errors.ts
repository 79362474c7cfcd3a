// Errors that are not in the call's protocol, turned into errors that are. moto answers operations
// it does not implement, and requests its handlers crash on (a missing or malformed parameter), with
// Flask's HTML "500 Internal Server Error" page; its router answers unknown paths with an HTML 404.
// AWS SDKs and the AWS CLI cannot read those (botocore retries a 500 four times, then reports an
// unknown error). The gateway answers instead in the protocol of the call (query XML, EC2 XML,
// JSON, REST-XML, REST-JSON), with AWS's codes:
//
//   moto raised NotImplementedError, or has no  501 NotImplemented
//   route for a REST operation (HTML 404)
//   request body not in the protocol's syntax  400 SerializationException / InvalidRequestContentException (Lambda) / MalformedXML (S3)
//   moto's handler failed reading parameters   400 the protocol's validation error (ValidationError, InvalidParameterValue, ...)
//   anything else                              500 InternalFailure (InternalError for S3)
//
// The moto wrapper (targets/moto.ts) names the Python exception class in TARGET_EXCEPTION_HEADER;
// other targets (the motoserver Docker image, endpoints) send none, and get the body-based rules.
// No stack trace, Python or Node, reaches the client.
import { errorResponse } from './errors.ts';
import { serviceInfo } from './services.ts';
import type { ApiCall, Protocol } from './types.ts';

/** Header the moto wrapper adds to a 500 it answered because of a Python exception: the exception's class name. */
export const TARGET_EXCEPTION_HEADER = 'x-seclab-target-exception';

export interface TargetAnswer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

type Call = Pick<ApiCall, 'protocol' | 'service' | 'operation'>;

/** Python exceptions that a handler raises when a parameter is missing or has the wrong type or syntax. */
const INPUT_EXCEPTIONS = new Set([
  'KeyError', 'ValueError', 'TypeError', 'AttributeError', 'IndexError', 'JSONDecodeError', 'ExpatError', 'ParseError',
  'InvalidOperation', 'UnicodeDecodeError', 'BadRequest', 'BadRequestKeyError', 'ParamValidationError', 'binascii.Error', 'Error',
]);

const header = (h: Record<string, string | string[]>, name: string): string => {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : (v ?? '');
};

const isHtml = (text: string, contentType: string): boolean =>
  /^\s*<(!doctype\s+html|html[\s>])/i.test(text) || (contentType.includes('text/html') && /^\s*</.test(text));

function isJsonObject(text: string): boolean {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

/** Whether an error answer (status >= 400) is already in the call's protocol. */
export function inProtocol(call: Pick<ApiCall, 'protocol'> & Partial<Pick<ApiCall, 'service'>>, res: TargetAnswer): boolean {
  const text = res.body.toString('utf8');
  const contentType = header(res.headers, 'content-type').toLowerCase();
  if (isHtml(text, contentType)) return false;
  const trimmed = text.trim();
  switch (call.protocol) {
    case 'query':
      return /^(<\?xml[^>]*>\s*)?<(ErrorResponse|Response)[\s>]/.test(trimmed) && trimmed.includes('<Code>');
    case 'rest-xml':
      // S3 answers HEAD (and some 304/412s) without a body.
      // S3 Control nests its errors: <ErrorResponse><Error>.
      if (call.service === 's3control') return /^(<\?xml[^>]*>\s*)?<ErrorResponse[\s>][^]*?<Error>/.test(trimmed) && trimmed.includes('<Code>');
      return trimmed === '' || (/^(<\?xml[^>]*>\s*)?<Error[\s>]/.test(trimmed) && trimmed.includes('<Code>'));
    case 'json':
      return isJsonObject(trimmed);
    case 'rest-json':
      return isJsonObject(trimmed) || (trimmed === '' && header(res.headers, 'x-amzn-errortype') !== '');
    case 'cbor':
      return contentType.includes('cbor') || isJsonObject(trimmed);
  }
  return true;
}

/** The protocol's 400 code for a parameter that is missing or not valid. */
function validationCode(call: Call): string {
  switch (call.protocol) {
    case 'query':
      if (call.service === 'sns') return 'InvalidParameter';
      if (call.service === 'ec2' || call.service === 'monitoring' || call.service === 'sqs') return 'InvalidParameterValue';
      return 'ValidationError';
    case 'rest-xml':
      return 'InvalidArgument';
    case 'rest-json':
      return call.service === 'lambda' ? 'InvalidParameterValueException' : 'BadRequestException';
    default:
      if (call.service === 'logs' || call.service === 'cloudtrail') return 'InvalidParameterException';
      return 'ValidationException';
  }
}

/** Whether the request body is not in its protocol's syntax (JSON for JSON protocols, XML for REST-XML). */
function bodyUnreadable(protocol: Protocol, body: Buffer | undefined): boolean {
  const text = body?.toString('utf8').trim() ?? '';
  if (!text) return false;
  if (protocol === 'json' || protocol === 'rest-json') return !isJsonObject(text);
  if (protocol === 'rest-xml') return !text.startsWith('<');
  return false;
}

function malformedBody(call: Call): { status: number; code: string; message: string } {
  if (call.protocol === 'rest-xml') {
    return { status: 400, code: 'MalformedXML', message: 'The XML you provided was not well-formed or did not validate against our published schema' };
  }
  if (call.service === 'lambda') return { status: 400, code: 'InvalidRequestContentException', message: 'Could not parse request body into json' };
  if (call.protocol === 'rest-json') return { status: 400, code: 'BadRequestException', message: 'The request body is not valid JSON.' };
  return { status: 400, code: 'SerializationException', message: 'The request body is not a JSON object.' };
}

/**
 * The error to answer instead of a target's error that is not in the call's protocol (HTML, plain
 * text, an empty JSON body), or undefined when the target's answer can be passed on as it is.
 */
export function protocolErrorFor(call: Call, res: TargetAnswer, requestId: string, requestBody?: Buffer): TargetAnswer | undefined {
  if (res.status < 400 || inProtocol(call, res)) return undefined;
  const exception = header(res.headers, TARGET_EXCEPTION_HEADER);
  const op = call.operation && call.operation !== 'Unknown' ? call.operation : 'this operation';
  let e: { status: number; code: string; message: string };
  if (exception === 'NotImplementedError' || (res.status === 404 && call.protocol !== 'query' && call.operation && call.operation !== 'Unknown'
    && isHtml(res.body.toString('utf8'), header(res.headers, 'content-type').toLowerCase()))) {
    // moto's router answers an HTML 404 for REST paths it has no handler for: for an operation the
    // gateway recognised, that is an operation moto lacks.
    e = { status: 501, code: 'NotImplemented', message: `${op} is not available in the lab cloud: its emulator (moto) does not implement it.` };
  } else if (bodyUnreadable(call.protocol, requestBody)) {
    e = malformedBody(call);
  } else if (INPUT_EXCEPTIONS.has(exception)) {
    e = { status: 400, code: validationCode(call), message: `The lab cloud could not read the parameters of ${op} (${exception}): check that the required parameters are present and have the documented types and formats.` };
  } else if (res.status === 404) {
    e = call.protocol === 'query'
      ? { status: 400, code: 'InvalidAction', message: `The action ${op} is not valid for this web service.` }
      : { status: 404, code: call.protocol === 'rest-xml' ? 'NotFound' : 'UnknownOperationException', message: 'The requested path is not an operation of this service.' };
  } else if (res.status === 405) {
    e = { status: 405, code: 'MethodNotAllowed', message: 'The specified method is not allowed against this resource.' };
  } else if (res.status < 500) {
    e = { status: res.status, code: validationCode(call), message: `The lab cloud could not process ${op}: the request is not valid.` };
  } else {
    e = { status: 500, code: call.protocol === 'rest-xml' ? 'InternalError' : 'InternalFailure', message: `The lab cloud's emulator failed to process ${op}.` };
  }
  const r = errorResponse(call, e.status, e.code, e.message, requestId);
  return { status: r.status, headers: r.headers, body: typeof r.body === 'string' ? Buffer.from(r.body) : r.body };
}

/**
 * Service and protocol of a request the gateway failed on before (or while) identifying it, from
 * its headers alone: the SigV4 credential scope names the service, X-Amz-Target means JSON.
 */
export function guessCall(headers: Record<string, string | string[] | undefined>, url: string): Pick<ApiCall, 'protocol' | 'service' | 'operation'> {
  const h = (n: string) => {
    const v = headers[n];
    return Array.isArray(v) ? v[0] ?? '' : v ?? '';
  };
  const scope = /Credential=[^/,\s]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(h('authorization'))
    ?? /X-Amz-Credential=[^&]*?(?:%2F|\/)\d{8}(?:%2F|\/)[^&%/]+(?:%2F|\/)([^&%/]+)/i.exec(url);
  const service = scope?.[1] ?? 's3';
  const target = h('x-amz-target');
  let protocol: Protocol = serviceInfo(service).protocol;
  if (h('smithy-protocol') === 'rpc-v2-cbor') protocol = 'cbor';
  else if (target) protocol = 'json';
  else if (service === 'ec2' || h('content-type').startsWith('application/x-www-form-urlencoded')) protocol = protocol === 'rest-xml' ? protocol : 'query';
  return { service, protocol, operation: target.split('.').pop() || 'Unknown' };
}
