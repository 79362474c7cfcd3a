// Error responses in each AWS wire protocol, shaped like the real services' so that the AWS SDK
// for JavaScript v3 and the AWS CLI (botocore) raise the right error code/class:
//
//   query (IAM, STS, SNS, CloudWatch/SQS query)  <ErrorResponse xmlns=..><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>
//   EC2                                           <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>
//   JSON 1.0/1.1                                  {"__type": Code, "message": ...} + x-amzn-ErrorType, x-amzn-RequestId
//   rpc-v2-cbor                                   CBOR {"__type", "message"} + smithy-protocol: rpc-v2-cbor
//   REST-XML (S3)                                 <Error><Code/><Message/><RequestId/><HostId/></Error> + x-amz-request-id, x-amz-id-2
//   REST-XML (S3 Control)                         <ErrorResponse><Error><Code/><Message/></Error><RequestId/><HostId/></ErrorResponse>
//   REST-JSON (Lambda, GuardDuty, Macie2)         {"message": ...} + x-amzn-ErrorType
// awsQueryCompatible services (SQS, CloudWatch) also get `x-amzn-query-error: Code;Sender|Receiver`.

import { encodeCbor } from './cbor.ts';
import { serviceInfo } from './services.ts';
import type { ApiCall } from './types.ts';

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  /** Text for every protocol except rpc-v2-cbor, whose body is binary. */
  body: string | Buffer;
}

export interface ErrorOptions {
  /** S3: x-amz-id-2 / <HostId>. Default: derived from the request id. */
  hostId?: string;
  /** Extra elements/fields (S3 <Resource>, <AWSAccessKeyId>, <StringToSign>...). */
  extra?: Record<string, string>;
  /** HEAD requests: S3 answers errors without a body. */
  head?: boolean;
  /**
   * awsQueryCompatible services (SQS, CloudWatch) over JSON/CBOR: the legacy query error code sent
   * in `x-amzn-query-error` (e.g. `AWS.SimpleQueueService.NonExistentQueue` for the modeled
   * `QueueDoesNotExist`). Clients report this code and pick the modeled error class from `__type`.
   * Default: the code itself.
   */
  queryErrorCode?: string;
}

type Call = Pick<ApiCall, 'protocol' | 'service'>;

export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const isEc2 = (call: Call): boolean => call.service === 'ec2';

export function errorResponse(call: Call, status: number, code: string, message: string, requestId: string, opts: ErrorOptions = {}): ErrorResponse {
  const info = serviceInfo(call.service);
  const fault = status >= 500 ? 'Receiver' : 'Sender';
  const extraXml = Object.entries(opts.extra ?? {})
    .map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`)
    .join('');
  switch (call.protocol) {
    case 'query': {
      if (isEc2(call)) {
        const body =
          '<?xml version="1.0" encoding="UTF-8"?>\n' +
          `<Response><Errors><Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message>${extraXml}</Error></Errors>` +
          `<RequestID>${xmlEscape(requestId)}</RequestID></Response>`;
        return { status, headers: { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId }, body };
      }
      const ns = info.xmlNamespace ?? `https://${call.service}.amazonaws.com/doc/`;
      const body =
        `<ErrorResponse xmlns="${xmlEscape(ns)}">\n` +
        `  <Error>\n    <Type>${fault}</Type>\n    <Code>${xmlEscape(code)}</Code>\n    <Message>${xmlEscape(message)}</Message>\n${extraXml ? `    ${extraXml}\n` : ''}  </Error>\n` +
        `  <RequestId>${xmlEscape(requestId)}</RequestId>\n</ErrorResponse>\n`;
      return { status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body };
    }
    case 'json': {
      const headers: Record<string, string> = {
        'content-type': `application/x-amz-json-${info.jsonVersion ?? '1.1'}`,
        'x-amzn-requestid': requestId,
        'x-amzn-errortype': code,
      };
      if (info.queryCompatible) headers['x-amzn-query-error'] = `${opts.queryErrorCode ?? code};${fault}`;
      return { status, headers, body: JSON.stringify({ __type: code, message, ...(opts.extra ?? {}) }) };
    }
    case 'cbor': {
      const headers: Record<string, string> = {
        'content-type': 'application/cbor',
        'smithy-protocol': 'rpc-v2-cbor',
        'x-amzn-requestid': requestId,
      };
      if (info.queryCompatible) headers['x-amzn-query-error'] = `${opts.queryErrorCode ?? code};${fault}`;
      return { status, headers, body: encodeCbor({ __type: code, message, ...(opts.extra ?? {}) }) };
    }
    case 'rest-xml': {
      const hostId = opts.hostId ?? Buffer.from(`seclab:${requestId}`).toString('base64');
      const headers: Record<string, string> = { 'x-amz-request-id': requestId, 'x-amz-id-2': hostId };
      if (opts.head) return { status, headers, body: '' };
      headers['content-type'] = 'application/xml';
      if (call.service === 's3control') {
        // S3 Control nests the error (as moto's s3control does), unlike S3's flat <Error>.
        const body =
          '<?xml version="1.0" encoding="UTF-8"?>\n' +
          `<ErrorResponse><Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message>${extraXml}</Error>` +
          `<RequestId>${xmlEscape(requestId)}</RequestId><HostId>${xmlEscape(hostId)}</HostId></ErrorResponse>`;
        return { status, headers, body };
      }
      const body =
        '<?xml version="1.0" encoding="UTF-8"?>\n' +
        `<Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message>${extraXml}` +
        `<RequestId>${xmlEscape(requestId)}</RequestId><HostId>${xmlEscape(hostId)}</HostId></Error>`;
      return { status, headers, body };
    }
    case 'rest-json':
    default: {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-amzn-requestid': requestId,
        'x-amzn-errortype': code,
      };
      const body: Record<string, string> = { message, ...(opts.extra ?? {}) };
      // Lambda's errors carry Type (User/Service) besides the message.
      if (call.service === 'lambda') body['Type'] = status >= 500 ? 'Service' : 'User';
      return { status, headers, body: JSON.stringify(body) };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Access denied

/** Error code of an authorization failure, per service. */
export function accessDeniedCode(service: string): string {
  switch (service) {
    case 'ec2':
      return 'UnauthorizedOperation';
    case 'sns':
      return 'AuthorizationError';
    case 's3':
    case 's3control':
    case 'iam':
    case 'sts':
    case 'monitoring': // CloudWatch (query-compatible): AccessDenied
    case 'email':
    case 'elasticloadbalancing':
      return 'AccessDenied';
    case 'sqs':
      // Over JSON/CBOR, accessDeniedResponse sends __type AccessDeniedException with this as the query error code.
      return 'AccessDenied';
    default:
      // kms, logs, events, cloudtrail, lambda, guardduty, macie2 and other JSON services.
      return 'AccessDeniedException';
  }
}

/** HTTP status of an authorization failure, per service. */
export function accessDeniedStatus(service: string): number {
  switch (service) {
    case 'kms':
    case 'logs':
    case 'events':
    case 'cloudtrail':
    case 'dynamodb':
    case 'secretsmanager':
    case 'ssm':
    case 'acm': // ACM and AWS Private CA (JSON 1.1; their AccessDeniedException has no HTTP status of its own)
    case 'acm-pca':
      return 400;
    default:
      return 403;
  }
}

export type DenyReason =
  | 'no-identity-policy'
  | 'explicit-deny-identity'
  | 'no-resource-policy'
  | 'explicit-deny-resource'
  | 'boundary'
  | 'explicit-deny-boundary'
  | 'no-session-policy'
  | 'explicit-deny-session'
  | 'scp'
  | 'explicit-deny-scp'
  | 'explicit-deny-rcp'
  | 'explicit-deny-vpc-endpoint'
  | 'no-vpc-endpoint-policy';

const REASONS: Record<DenyReason, ['no' | 'deny', string]> = {
  'no-identity-policy': ['no', 'identity-based policy'],
  'explicit-deny-identity': ['deny', 'an identity-based policy'],
  'no-resource-policy': ['no', 'resource-based policy'],
  'explicit-deny-resource': ['deny', 'a resource-based policy'],
  boundary: ['no', 'permissions boundary'],
  'explicit-deny-boundary': ['deny', 'a permissions boundary'],
  'no-session-policy': ['no', 'session policy'],
  'explicit-deny-session': ['deny', 'a session policy'],
  scp: ['no', 'service control policy'],
  'explicit-deny-scp': ['deny', 'a service control policy'],
  'explicit-deny-rcp': ['deny', 'a resource control policy'],
  'explicit-deny-vpc-endpoint': ['deny', 'a VPC endpoint policy'],
  'no-vpc-endpoint-policy': ['no', 'VPC endpoint policy'],
};

/**
 * AWS's access denied wording (IAM User Guide, "Troubleshooting access denied error messages"):
 *   User: <arn> is not authorized to perform: <action> on resource: <resource> because no identity-based policy allows the <action> action
 *   User: <arn> is not authorized to perform: <action> on resource: <resource> with an explicit deny in an identity-based policy
 * The "on resource:" part is left out for `*` (actions without a resource type). For explicit
 * denies AWS appends the denying policy's ARN when it is a managed policy in the same account.
 */
export function accessDeniedMessage(
  principalArn: string,
  action: string,
  resource: string | undefined,
  reason: DenyReason,
  opts: { policyArn?: string } = {},
): string {
  const on = resource && resource !== '*' ? ` on resource: ${resource}` : '';
  const [kind, what] = REASONS[reason];
  const tail = kind === 'no' ? ` because no ${what} allows the ${action} action` : ` with an explicit deny in ${what}${opts.policyArn ? `: ${opts.policyArn}` : ''}`;
  return `User: ${principalArn} is not authorized to perform: ${action}${on}${tail}`;
}

/** The message of a refused call in its service's wording: S3 says only "Access Denied". */
export function accessDeniedMessageFor(service: string, principalArn: string, action: string, resource: string | undefined, reason: DenyReason): string {
  return service === 's3' || service === 's3control' ? 'Access Denied' : accessDeniedMessage(principalArn, action, resource, reason);
}

/** The code of the lab cloud's own failure in the call's service (S3: InternalError). */
export function internalErrorCode(service: string): string {
  return service === 's3' || service === 's3control' ? 'InternalError' : 'InternalFailure';
}

/** A request body over the lab cloud's limit, in the protocol of the call (S3: EntityTooLarge, 400). */
export function bodyTooLargeResponse(call: Call, limitBytes: number, requestId: string): ErrorResponse {
  const mb = limitBytes / 1024 / 1024;
  return call.service === 's3'
    ? errorResponse(call, 400, 'EntityTooLarge', `Your proposed upload exceeds the maximum allowed size (the lab cloud accepts request bodies up to ${mb} MB)`, requestId)
    : errorResponse(call, 413, 'RequestEntityTooLarge', `The lab cloud accepts request bodies up to ${mb} MB`, requestId);
}

/** A complete AccessDenied response for the call's service and protocol. */
export function accessDeniedResponse(call: Call, message: string, requestId: string, opts: ErrorOptions = {}): ErrorResponse {
  // S3 answers AccessDenied with the detailed message for same-account requests, "Access Denied" otherwise.
  const code = accessDeniedCode(call.service);
  if (serviceInfo(call.service).queryCompatible && (call.protocol === 'json' || call.protocol === 'cbor')) {
    // Query-compatible services answer JSON/CBOR clients with AccessDeniedException and the legacy code in x-amzn-query-error.
    return errorResponse(call, accessDeniedStatus(call.service), 'AccessDeniedException', message, requestId, { queryErrorCode: code, ...opts });
  }
  return errorResponse(call, accessDeniedStatus(call.service), code, message, requestId, opts);
}

// ---------------------------------------------------------------------------------------------
// Authentication failures

export type AuthFailure = 'bad-signature' | 'unknown-key' | 'expired-token' | 'invalid-token' | 'missing-auth' | 'clock-skew';

const SIG_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/** Code, status and message AWS uses for an authentication failure, per service family. */
export function authFailure(call: Call, kind: AuthFailure, detail: { accessKeyId?: string; skew?: string } = {}): { status: number; code: string; message: string } {
  // S3 Control authenticates as S3 does (same signing name, same front end).
  const family = call.service === 's3' || call.service === 's3control' ? 's3' : isEc2(call) ? 'ec2' : call.protocol === 'query' ? 'query' : 'json';
  switch (kind) {
    case 'bad-signature':
      if (family === 's3') {
        return { status: 403, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.' };
      }
      if (family === 'ec2') return { status: 401, code: 'AuthFailure', message: 'AWS was not able to validate the provided access credentials' };
      if (family === 'query') return { status: 403, code: 'SignatureDoesNotMatch', message: SIG_MISMATCH };
      return { status: call.service === 'lambda' ? 403 : 400, code: 'InvalidSignatureException', message: SIG_MISMATCH };
    case 'unknown-key':
    case 'invalid-token':
      if (family === 's3') {
        return kind === 'unknown-key'
          ? { status: 403, code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records.' }
          : { status: 400, code: 'InvalidToken', message: 'The provided token is malformed or otherwise invalid.' };
      }
      if (family === 'ec2') return { status: 401, code: 'AuthFailure', message: 'AWS was not able to validate the provided access credentials' };
      if (family === 'query') return { status: 403, code: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.' };
      return { status: call.service === 'lambda' ? 403 : 400, code: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
    case 'expired-token':
      if (family === 's3') return { status: 400, code: 'ExpiredToken', message: 'The provided token has expired.' };
      if (family === 'ec2') return { status: 400, code: 'RequestExpired', message: 'Request has expired.' };
      if (family === 'query') return { status: 403, code: 'ExpiredToken', message: 'The security token included in the request is expired' };
      return { status: call.service === 'lambda' ? 403 : 400, code: 'ExpiredTokenException', message: 'The security token included in the request is expired' };
    case 'missing-auth':
      if (family === 's3') return { status: 403, code: 'AccessDenied', message: 'Access Denied' };
      if (family === 'ec2') return { status: 401, code: 'AuthFailure', message: 'AWS was not able to validate the provided access credentials' };
      if (family === 'query') return { status: 403, code: 'MissingAuthenticationToken', message: 'Request is missing Authentication Token' };
      return { status: 403, code: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
    case 'clock-skew':
      if (family === 's3') return { status: 403, code: 'RequestTimeTooSkewed', message: 'The difference between the request time and the current time is too large.' };
      if (family === 'ec2') return { status: 400, code: 'RequestExpired', message: 'Request has expired.' };
      if (family === 'query') return { status: 403, code: 'SignatureDoesNotMatch', message: `Signature expired: ${detail.skew ?? 'the request time is too far from the current time'}` };
      return { status: 400, code: 'InvalidSignatureException', message: `Signature expired: ${detail.skew ?? 'the request time is too far from the current time'}` };
  }
}

/** A complete response for an authentication failure. */
export function authErrorResponse(
  call: Call,
  kind: AuthFailure,
  requestId: string,
  detail: { accessKeyId?: string; skew?: string } = {},
  opts: ErrorOptions = {},
): ErrorResponse {
  const f = authFailure(call, kind, detail);
  const extra = { ...(opts.extra ?? {}) };
  if (call.service === 's3' && detail.accessKeyId && (f.code === 'InvalidAccessKeyId' || f.code === 'SignatureDoesNotMatch')) {
    extra['AWSAccessKeyId'] = detail.accessKeyId;
  }
  return errorResponse(call, f.status, f.code, f.message, requestId, { ...opts, extra });
}
