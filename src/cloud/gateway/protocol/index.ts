// The gateway's protocol layer: pure functions from raw HTTP requests to API calls, from API calls
// to IAM authorization requirements, and from errors to wire-format responses.

export type { ApiCall, Protocol, RawRequest } from './types.ts';
export { identify, parseCredential, rawRequest, serviceFromHost, type Credential, type IdentifyOptions } from './identify.ts';
export {
  toAuthz,
  copySource,
  kmsKeyArn,
  lambdaFunctionArn,
  logGroupArn,
  s3ObjectArn,
  sqsQueueArn,
  type AuthzCheck,
  type AuthzContext,
  type AuthzRequirement,
  type CallerInfo,
} from './authz-map.ts';
export {
  errorResponse,
  accessDeniedCode,
  accessDeniedStatus,
  accessDeniedMessage,
  accessDeniedResponse,
  authFailure,
  authErrorResponse,
  xmlEscape,
  type AuthFailure,
  type DenyReason,
  type ErrorOptions,
  type ErrorResponse,
} from './errors.ts';
export { SERVICES, serviceInfo, serviceForTarget, type ServiceInfo } from './services.ts';
export { decodeCbor, encodeCbor } from './cbor.ts';
export { decodeQueryParams } from './query.ts';
