// What the target will read from a request, and the requests it could read otherwise than the
// gateway. The gateway authorizes and records the call identify() finds; the target must execute
// that call and no other. Where moto (werkzeug/flask) and identify() could disagree, the request is
// refused with the protocol's 400 error, before authentication, so nothing ambiguous is ever
// authorized, forwarded or recorded as something else.
//
// How moto 5.2 reads a request (moto/core/responses.py BaseResponse.setup_class, werkzeug 3.1):
// - the service is chosen from the Authorization header's credential scope; without that header
//   (presigned URLs) from X-Amz-Target, a form body's Action/Version, or the path, defaulting to S3;
//   paths under /moto-api and /latest/ go to moto itself whatever the signature says;
// - a body is parsed as a form when its Content-Type's media type, in any case, is
//   application/x-www-form-urlencoded or multipart/form-data (gzip bodies decompressed first,
//   Content-Encoding exactly `gzip`, except for S3);
// - parameters ("querystring") are that form when it is not empty, *replacing* the URL query; else
//   the URL query; else the body parsed as a form whatever its content type (a JSON string holding
//   `&Action=...&` becomes an action); else the request headers (a header named Action works);
// - the action is the querystring's Action, then X-Amz-Target, then the REST route; JSON services
//   read each parameter from the querystring before the JSON body (and before REST path labels);
// - repeated parameters: the form and the URL query keep the first value, the body-as-form the last.
// The gateway therefore (1) parses forms exactly as werkzeug does, (2) refuses every request where
// two of these sources could disagree, and (3) forwards with a URL query that is never empty (a
// parameter no handler reads), so moto never falls back to reading parameters from a body that is
// not a form or from headers.

import { gunzipSync } from 'node:zlib';
import { decodeCbor } from './cbor.ts';
import { OPERATIONS } from './operations.ts';
import { isSigningParam } from './query.ts';
import { SERVICES, serviceInfo } from './services.ts';
import type { ApiCall, RawRequest } from './types.ts';

/** Query parameter the gateway adds when forwarding a request whose URL has no query (see above). */
export const FORWARD_MARKER = 'x-seclab-gateway=1';

/** Largest decompressed body the gateway reads (moto's own form limit, MOTO_MAX_FORM_MEMORY_SIZE). */
export const MAX_DECODED_BODY = 50 * 1024 * 1024;

/** S3 DeleteObjects: "The request can contain a list of up to 1,000 keys" (S3 API reference). */
export const MAX_DELETE_OBJECTS = 1000;

export interface WireProblem {
  status: number;
  code: string;
  message: string;
}

/** The media type of a Content-Type header as werkzeug sees it: before any `;`, trimmed, lower case. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

const FORM = 'application/x-www-form-urlencoded';
const MULTIPART = 'multipart/form-data';

/** Whether werkzeug parses the body into request.form (and moto then reads parameters from it). */
export function isWerkzeugForm(contentType: string | undefined): boolean {
  const t = mediaType(contentType);
  return t === FORM || t === MULTIPART;
}

/**
 * The body as the target's handlers read it: gzip-decompressed when Content-Encoding is exactly
 * `gzip` and the service is not S3 (moto's decompress_request_body). undefined when it cannot be
 * decompressed or would exceed MAX_DECODED_BODY.
 */
export function targetBody(req: Pick<RawRequest, 'headers' | 'body'>, service: string): Buffer | undefined {
  if (service === 's3' || req.headers['content-encoding'] !== 'gzip' || req.body.length === 0) return req.body;
  try {
    return gunzipSync(req.body, { maxOutputLength: MAX_DECODED_BODY });
  } catch {
    return undefined;
  }
}

/**
 * A form (URL query or urlencoded body) parsed as Python's parse_qsl (werkzeug, moto): pairs split on
 * `&` only, empty pieces skipped, `+` is a space, a piece without `=` has an empty value. undefined
 * when a percent-escape does not decode to UTF-8 (Python keeps such bytes escaped where JavaScript
 * substitutes U+FFFD, so the two could read different names or values).
 */
export function parseForm(text: string): Array<[string, string]> | undefined {
  const out: Array<[string, string]> = [];
  for (const piece of text.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const name = eq < 0 ? piece : piece.slice(0, eq);
    const value = eq < 0 ? '' : piece.slice(eq + 1);
    const n = strictDecode(name);
    const v = strictDecode(value);
    if (n === undefined || v === undefined) return undefined;
    out.push([n, v]);
  }
  return out;
}

function strictDecode(s: string): string | undefined {
  const plus = s.replace(/\+/g, ' ');
  if (!plus.includes('%')) return plus;
  try {
    return decodeURIComponent(plus);
  } catch {
    // Python leaves a lone or malformed `%` as it is; anything else (bad UTF-8) is refused.
    if (/%(?![0-9A-Fa-f]{2})/.test(plus)) {
      try {
        return decodeURIComponent(plus.replace(/%(?![0-9A-Fa-f]{2})/g, '%25'));
      } catch {
        return undefined;
      }
    }
    return undefined;
  }
}

/** The body's form fields as werkzeug parses them (urlencoded media type only; invalid UTF-8: none). */
export function formFields(body: Buffer, contentType: string | undefined): Array<[string, string]> {
  if (mediaType(contentType) !== FORM || body.length === 0) return [];
  const text = body.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(body)) return []; // werkzeug: a decode error leaves the form empty
  return parseForm(text) ?? [];
}

/**
 * The parameters moto reads for a query-protocol request: the form body when it has fields, else
 * the URL query. First value of a repeated name (refused anyway by wireProblem()).
 */
export function queryProtocolFields(req: Pick<RawRequest, 'headers' | 'body' | 'query'>, service: string): Map<string, string> {
  const body = targetBody(req, service) ?? Buffer.alloc(0);
  const form = formFields(body, req.headers['content-type']);
  const pairs = form.length > 0 ? form : [...req.query];
  const fields = new Map<string, string>();
  for (const [k, v] of pairs) if (!fields.has(k)) fields.set(k, v);
  return fields;
}

/** Paths moto serves itself (its control API, its own instance metadata), whatever the signature. */
const MOTO_OWN_PATH = /^\/(moto-api(\/|$)|latest\/(meta-data|api)\/|favicon\.ico$)/i;

function duplicates(names: Iterable<string>): string | undefined {
  const seen = new Set<string>();
  for (const k of names) {
    if (seen.has(k)) return k;
    seen.add(k);
  }
  return undefined;
}

/** Headers whose repetition would let the two sides pick different values. */
const SINGLE_HEADERS = /^(host|authorization|content-type|content-length|content-encoding|transfer-encoding|x-amz-.*|smithy-protocol)$/;

export interface WireContext {
  /** Header names (lower case) that occurred more than once in the request. */
  repeatedHeaders?: string[];
  /** Whether the request carries an Authorization header (moto routes by its credential scope). */
  headerSigned: boolean;
}

/**
 * Why the target could execute something else than `call`, or undefined when it cannot. The answer
 * uses the protocol's own 400 error codes.
 */
export function wireProblem(call: ApiCall, req: RawRequest, ctx: WireContext): WireProblem | undefined {
  const info = serviceInfo(call.service);
  const bad = (code: string, message: string, status = 400): WireProblem => ({ status, code, message });
  const generic = call.protocol === 'query' ? 'MalformedQueryString'
    : call.protocol === 'rest-xml' ? 'InvalidRequest'
      : call.protocol === 'rest-json' ? 'ValidationException' : 'SerializationException';

  const repeated = (ctx.repeatedHeaders ?? []).find((h) => SINGLE_HEADERS.test(h));
  if (repeated) return bad(generic, `The header ${repeated} appears more than once.`);
  // The path as clients send it: unreserved characters, sub-delimiters, '/', '%XX' (UTF-8). The
  // target's server cuts a raw '#' (fragment) and moto a raw ';' (path parameters) off the path,
  // so `/bucket/secret/x;a` would be authorized as one key and serve another.
  if (!/^[A-Za-z0-9\-._~!$&'()*+,=:@/%]*$/.test(req.path) || (req.rawQuery ?? '').includes('#')) {
    return bad(call.service === 's3' ? 'InvalidURI' : generic, 'The request URI contains characters that must be percent-encoded.');
  }
  if (req.path.split('/').some((seg) => strictDecode(seg) === undefined)) {
    return bad(call.service === 's3' ? 'InvalidURI' : generic, 'The request path contains a percent-escape that is not valid UTF-8.');
  }
  if (MOTO_OWN_PATH.test(req.path) || MOTO_OWN_PATH.test(safeDecode(req.path))) {
    return call.service === 's3'
      ? bad('InvalidBucketName', 'The specified bucket is not valid.')
      : bad(generic, `The path ${req.path} is not an API of this service.`);
  }

  // Routing: without an Authorization header moto guesses the service, defaulting to S3.
  if (!ctx.headerSigned) {
    if (call.service !== 's3') {
      return bad(generic, `The lab cloud accepts presigned (query-string) signatures for S3 only; sign ${call.service} requests with an Authorization header.`);
    }
    if (req.headers['x-amz-target'] !== undefined) return bad('InvalidRequest', 'An S3 request cannot carry X-Amz-Target.');
    const first = req.path.split('/')[1] ?? '';
    if (safeDecode(first).includes('_') || /\/\.well-known\/jwks\.json\/?$/.test(req.path)) {
      return bad('InvalidBucketName', 'The specified bucket is not valid.');
    }
  }
  if (call.service === 's3' && call.params['Bucket'] === '') {
    // `//bucket/key`: the gateway would see no bucket (and authorize `*`) where moto finds one.
    return bad('InvalidBucketName', 'The specified bucket is not valid.');
  }
  if (call.service === 's3' && /^\/v20180820(\/|$)/i.test(req.path)) {
    // moto serves S3 Control under this path with an S3 signature. identify() takes /v20180820/...
    // with x-amz-account-id for S3 Control (protocol/s3control.ts); what is left here (no account
    // header, `/v20180820` alone, other cases) would be a bucket to the gateway: refused.
    return bad('InvalidBucketName', 'The specified bucket is not valid.');
  }
  if (call.service === 's3control') {
    const problem = s3controlProblem(call, req);
    if (problem) return problem;
  }

  // Content encoding: moto decompresses exactly `gzip` (not for S3); anything else it reads raw.
  const encoding = req.headers['content-encoding'];
  if (call.service !== 's3' && encoding !== undefined && encoding !== '' && req.body.length > 0) {
    if (encoding !== 'gzip') return bad(generic, `Content-Encoding ${encoding} is not supported; use gzip or none.`);
    if (targetBody(req, call.service) === undefined) return bad(generic, 'The body is not valid gzip data (or is larger than 50 MiB decompressed).');
  }
  const body = targetBody(req, call.service) ?? Buffer.alloc(0);
  const type = mediaType(req.headers['content-type']);

  // URL query: repeated names, and escapes that do not decode the same way on both sides.
  const rawQuery = queryString(req);
  const urlPairs = parseForm(rawQuery);
  if (urlPairs === undefined) return bad(generic, 'The query string contains a percent-escape that is not valid UTF-8.');
  const dupUrl = duplicates(urlPairs.map(([k]) => k));
  if (dupUrl !== undefined) return bad(generic, `The parameter ${dupUrl} appears more than once.`);
  const apiParams = urlPairs.filter(([k]) => !isSigningParam(k));

  const target = req.headers['x-amz-target'];
  if (target !== undefined && call.protocol !== 'json') {
    return bad(generic, `X-Amz-Target is not part of a ${call.protocol} request to ${call.service}.`);
  }

  // moto runs an operation by its snake_case form: `createUser`, `create_user` and `CreateUser `
  // all run CreateUser. Only the exact API names are authorized (and recorded).
  const known = OPERATIONS[call.service];
  if ((call.protocol === 'query' || call.protocol === 'json' || call.protocol === 'cbor') && known && call.operation !== 'Unknown' && !known.includes(call.operation)) {
    return call.protocol === 'query'
      ? bad('InvalidAction', `The action ${call.operation} is not valid for this web service.`)
      : bad('UnknownOperationException', `Unknown operation ${call.operation}.`);
  }

  if (call.service === 'sqs') {
    const sqs = sqsProblem(call, req);
    if (sqs) return bad(sqs.code, sqs.message);
  }

  switch (call.protocol) {
    case 'query': {
      if (body.length > 0) {
        if (type !== FORM) {
          return bad(generic, `A query-protocol body must have Content-Type ${FORM}; got ${req.headers['content-type'] ?? 'none'}.`);
        }
        const text = body.toString('utf8');
        if (!Buffer.from(text, 'utf8').equals(body)) return bad(generic, 'The form body is not valid UTF-8.');
        const form = parseForm(text);
        if (form === undefined) return bad(generic, 'The form body contains a percent-escape that is not valid UTF-8.');
        const dup = duplicates(form.map(([k]) => k));
        if (dup !== undefined) return bad(generic, `The parameter ${dup} appears more than once.`);
        if (form.length > 0 && apiParams.length > 0) {
          return bad(generic, `Parameters are given both in the URL query (${apiParams.map(([k]) => k).join(', ')}) and in the form body; send them in one place.`);
        }
      }
      return undefined;
    }
    case 'json':
    case 'cbor': {
      if (target !== undefined && call.protocol === 'json') {
        const prefix = target.includes('.') ? target.slice(0, target.lastIndexOf('.')) : '';
        const known = SERVICES[call.service] !== undefined;
        const prefixes = info.targetPrefixes ?? [];
        if (known && !prefixes.includes(prefix) && !prefixes.includes(prefix.split('.').pop() ?? '')) {
          return bad(generic, `X-Amz-Target ${target} does not belong to ${call.service}.`);
        }
      }
      if (apiParams.length > 0) {
        return bad(generic, `A ${call.protocol.toUpperCase()} request carries its input in the body; the URL query has ${apiParams.map(([k]) => k).join(', ')}.`);
      }
      if (body.length > 0 && (type === FORM || type === MULTIPART)) {
        return bad(generic, `A ${call.protocol.toUpperCase()} request cannot have Content-Type ${type}.`);
      }
      if (call.protocol === 'json' && body.length > 0 && !isJsonObject(body)) {
        return bad(generic, 'The request body is not a JSON object.');
      }
      if (call.protocol === 'cbor' && body.length > 0 && !isCborMap(body)) {
        return bad(generic, 'The request body is not a CBOR map.');
      }
      return undefined;
    }
    case 'rest-json': {
      if (apiParams.some(([k]) => k === 'Action')) return bad(generic, 'A REST request cannot carry an Action parameter.');
      if (call.malformed) return bad(call.malformed.code, call.malformed.message);
      if (body.length > 0 && (type === FORM || type === MULTIPART)) {
        return bad(generic, `This request cannot have Content-Type ${type}.`);
      }
      if (body.length > 0 && /"__proto__"\s*:/.test(body.toString('utf8'))) return bad(generic, 'The body cannot have a member named __proto__.');
      return undefined;
    }
    case 'rest-xml':
      return s3Problem(call, req, type);
  }
  return undefined;
}

function s3Problem(call: ApiCall, req: RawRequest, type: string): WireProblem | undefined {
  const bad = (code: string, message: string): WireProblem => ({ status: 400, code, message });
  if (req.body.length > 0 && (type === FORM || type === MULTIPART)) {
    // werkzeug parses such a body into a form, which moto then reads instead of the URL query
    // (prefix, versionId, key...). Only a browser-based upload (POST to the bucket) is a form.
    if (!(call.operation === 'PostObject' && type === MULTIPART)) {
      return bad('InvalidRequest', `Content-Type ${type} is accepted only for a browser-based upload (POST to a bucket) in the lab cloud.`);
    }
  }
  if (call.malformed) return bad(call.malformed.code, call.malformed.message);
  const source = req.headers['x-amz-copy-source'];
  if (source !== undefined && !plainCopySource(source)) {
    // moto reads it with Python's urlparse: `#...` and `;...` are dropped, `//host` is a host, all
    // leading slashes go; the gateway would authorize a different source object than is copied.
    return bad('InvalidArgument', 'Copy Source must be bucket/key, URL-encoded, optionally with ?versionId=.');
  }
  if (call.operation === 'PostObject' && typeof call.params['Key'] !== 'string') {
    return bad('InvalidArgument', 'Bucket POST must contain a field named \'key\'.');
  }
  if (call.operation === 'DeleteObjects') {
    const del = call.params['Delete'];
    const objects = del && typeof del === 'object' ? (del as Record<string, unknown>)['Objects'] : undefined;
    if (!Array.isArray(objects) || objects.length === 0 || objects.length > MAX_DELETE_OBJECTS) {
      return bad('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    }
    for (const o of objects) {
      const ok = o && typeof o === 'object' && typeof (o as Record<string, unknown>)['Key'] === 'string' &&
        ['undefined', 'string'].includes(typeof (o as Record<string, unknown>)['VersionId']);
      if (!ok) return bad('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    }
  }
  return undefined;
}

/**
 * S3 Control: only the operations of its model (moto's router would run others by its own routes),
 * with the account in x-amz-account-id (compared with the caller's in foreignResource()), and no
 * content encoding (moto and the gateway could read a compressed body differently).
 */
function s3controlProblem(call: ApiCall, req: RawRequest): WireProblem | undefined {
  const bad = (code: string, message: string, status = 400): WireProblem => ({ status, code, message });
  if (call.operation === 'Unknown') return bad('InvalidRequest', `${req.method} ${req.path.split('?')[0]} is not an S3 Control operation.`);
  // moto routes on the decoded path: `accesspoint/a%2Fpolicy` would be GetAccessPoint of "a/policy"
  // to the gateway and GetAccessPointPolicy of "a" to moto.
  if (/%2f/i.test(req.path)) return bad('InvalidRequest', 'An S3 Control request path cannot contain an encoded "/" (%2F).');
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding !== '' && req.body.length > 0) return bad('InvalidRequest', `Content-Encoding ${encoding} is not supported for S3 Control requests.`);
  if (!/^\d{12}$/.test(String(call.params['AccountId'] ?? ''))) {
    return bad('InvalidRequest', 'The request must name the account in the x-amz-account-id header (12 digits).');
  }
  return undefined;
}

/** `bucket/key` or `/bucket/key`, optionally `?versionId=...`, read the same by urlparse and copySource(). */
function plainCopySource(v: string): boolean {
  const m = /^\/?([^/?#;:%]+)\/([^?#;]+)(?:\?versionId=([^&#;]*))?$/.exec(v);
  return m !== null && strictDecode(m[2]!) !== undefined && (m[3] === undefined || strictDecode(m[3]) !== undefined);
}

function isCborMap(body: Buffer): boolean {
  try {
    const v = decodeCbor(body);
    return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
  } catch {
    return false;
  }
}

function isJsonObject(body: Buffer): boolean {
  try {
    const text = body.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(body)) return false;
    // JavaScript gives "__proto__" a meaning when objects are merged; Python does not.
    if (/"__proto__"\s*:/.test(text)) return false;
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
}

function queryString(req: RawRequest): string {
  // RawRequest keeps the parsed query; its serialization preserves order and repetitions.
  return req.rawQuery ?? req.query.toString();
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const QUEUE_URL = /^https?:\/\/[^/?#]+\/(\d{12})\/([A-Za-z0-9_-]{1,80}(?:\.fifo)?)$/;

/**
 * SQS: moto takes the queue name from the last "/" segment of QueueUrl, or from the request path
 * when there is no QueueUrl, and the account from the request (never from the URL). A QueueUrl that
 * is not a plain queue URL, or a path naming a queue, is refused unless both say the same.
 */
function sqsProblem(call: ApiCall, req: RawRequest): { code: string; message: string } | undefined {
  const url = call.params['QueueUrl'];
  if (url !== undefined && (typeof url !== 'string' || (/^https?:/i.test(url) && !QUEUE_URL.test(url)) || (!/^https?:/i.test(url) && url.includes('/')))) {
    return { code: 'InvalidAddress', message: `The address ${String(url)} is not a queue URL.` };
  }
  const path = req.path.replace(/\/+$/, '');
  if (path !== '') {
    const name = /^\/\d{12}\/([A-Za-z0-9_-]{1,80}(?:\.fifo)?)$/.exec(path)?.[1];
    const urlName = typeof url === 'string' ? url.split('/').pop() : undefined;
    if (!name || urlName !== name) {
      return { code: 'InvalidAddress', message: `The request path ${req.path} must name the same queue as QueueUrl.` };
    }
  }
  return undefined;
}

/**
 * A resource the call names in another account or region than the one the target will act in.
 * moto serves every request from the caller's account (the gateway selects it) and the request's
 * region, and resolves an ARN or queue URL of its own service by the name in it (Lambda function
 * ARNs, KMS key ARNs, EventBridge bus ARNs, queue URLs...): authorizing the ARN as written would
 * authorize another resource than the one executed on. Checked once the caller's account is known.
 */
export function foreignResource(call: ApiCall, account: string): WireProblem | undefined {
  const generic = call.service === 'sqs' ? 'InvalidAddress'
    : call.protocol === 'query' ? 'InvalidParameterValue' : call.protocol === 'rest-xml' ? 'InvalidArgument' : 'ValidationException';
  const refuse = (what: string): WireProblem => ({
    status: 400, code: generic,
    message: `${what} is in another account or region than this request's (${account}, ${call.region}); the lab cloud serves each account's own resources in the request's region only.`,
  });
  // S3 Control: AWS refuses a request naming another account than the caller's (AccessDenied).
  if (call.service === 's3control' && call.params['AccountId'] !== account) {
    return { status: 403, code: 'AccessDenied', message: 'Access Denied' };
  }
  const url = call.service === 'sqs' ? call.params['QueueUrl'] : undefined;
  const q = typeof url === 'string' ? QUEUE_URL.exec(url) : null;
  if (q && q[1] !== account) return refuse(`The queue ${String(url)}`);
  const prefixes = new Set([call.service, serviceInfo(call.service).iamPrefix]);
  for (const [name, value] of Object.entries(call.params)) {
    if (typeof value !== 'string') continue;
    const arn = /^arn:aws[a-z-]*:([^:]+):([^:]*):([^:]*):/.exec(value);
    if (arn && prefixes.has(arn[1]!)) {
      if ((/^\d{12}$/.test(arn[3]!) && arn[3] !== account) || (arn[2] !== '' && arn[2] !== call.region)) return refuse(`${name} ${value}`);
    }
    // Lambda's partial ARN: 123456789012:function:name
    const partial = call.service === 'lambda' ? /^(\d{12}):function:/.exec(value) : null;
    if (partial && partial[1] !== account) return refuse(`${name} ${value}`);
  }
  return undefined;
}

/**
 * A "/" encoded inside an S3 bucket name: the gateway and the target would split bucket and key
 * differently. (Everything else the two could read differently: protocol/wire.ts.)
 */
export function malformedRequest(call: ApiCall, req: Pick<RawRequest, 'path'>): { status?: number; code: string; message: string } | undefined {
  if (call.service === 's3' && /^\/[^/]*%2f/i.test(req.path)) {
    return { code: 'InvalidBucketName', message: 'The specified bucket is not valid.' };
  }
  return undefined;
}

/**
 * The URL to send the target, path-style: the target must see the bucket the gateway authorized.
 * A virtual-hosted request (bucket in the Host header) becomes /bucket/key; any other Host is
 * replaced, so the target cannot read a bucket from a Host the gateway did not.
 */
export function forwardUrl(call: ApiCall, rawUrl: string, host: string | undefined): string {
  const bucket = call.service === 's3' ? call.params['Bucket'] : undefined;
  let url = rawUrl;
  if (typeof bucket === 'string' && bucket && host?.toLowerCase().startsWith(`${bucket.toLowerCase()}.`)) {
    url = `/${encodeURIComponent(bucket)}${rawUrl.startsWith('/') ? rawUrl : `/${rawUrl}`}`.replace(/^(\/[^/?]+)\/\?/, '$1?');
  }
  // A URL query that is never empty: moto would otherwise read parameters from a body that is not
  // a form (a JSON string holding "&Action=...") or from the request headers.
  const q = url.indexOf('?');
  if (q < 0) return `${url}?${FORWARD_MARKER}`;
  if (q === url.length - 1) return `${url}${FORWARD_MARKER}`;
  return url;
}
