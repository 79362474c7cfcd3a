// identify(): which service, operation, region and access key an HTTP request to the gateway is,
// and its parameters, for every protocol the AWS SDKs and the AWS CLI speak. Pure: no I/O.
//
// Service, region and access key come from the SigV4 credential scope (Authorization header, or
// X-Amz-Credential of a presigned URL), falling back to the X-Amz-Target prefix, the Smithy RPC v2
// path, the Host name, the query `Version=` and finally S3 (whose anonymous requests carry nothing
// else).

import { decodeCbor } from './cbor.ts';
import { decodeQueryParams, isSigningParam, queryFields } from './query.ts';
import { hasRestRoutes, matchRestJson } from './rest-json.ts';
import { s3Address, s3Operation, s3Params, type S3Options } from './s3.ts';
import { isS3ControlPath, s3controlCall } from './s3control.ts';
import { serviceForApiVersion, serviceForTarget, serviceInfo } from './services.ts';
import type { ApiCall, Protocol, RawRequest } from './types.ts';
import { targetBody } from './wire.ts';

export type { ApiCall, Protocol, RawRequest } from './types.ts';

export interface IdentifyOptions {
  /** Region when neither the signature nor the host names one. Default us-east-1. */
  defaultRegion?: string;
  /** Extra host names under which S3 buckets are addressed virtual-hosted style (see S3Options). */
  s3BaseHosts?: string[];
}

export interface Credential {
  accessKeyId?: string;
  date?: string;
  region?: string;
  service?: string;
  auth: NonNullable<ApiCall['auth']>;
}

/** Access key id, date, region and service of the request's signature, when it is signed. */
export function parseCredential(req: Pick<RawRequest, 'headers' | 'query'>): Credential {
  const authz = req.headers['authorization'];
  if (authz) {
    const v4 = /^AWS4-[A-Z0-9-]+\s+.*?Credential=([^,\s]+)/.exec(authz);
    if (v4) return { ...scope(v4[1]!, req.headers['x-amz-region-set']), auth: 'sigv4' };
    const v2 = /^AWS\s+([^:\s]+):/.exec(authz);
    if (v2) return { accessKeyId: v2[1], auth: 'sigv2' };
  }
  const qc = req.query.get('X-Amz-Credential');
  if (qc) return { ...scope(qc, req.query.get('X-Amz-Region-Set') ?? undefined), auth: 'sigv4-query' };
  const v2 = req.query.get('AWSAccessKeyId');
  if (v2) return { accessKeyId: v2, auth: 'sigv2' };
  return { auth: 'none' };
}

function scope(credential: string, regionSet: string | undefined): Omit<Credential, 'auth'> {
  const parts = credential.split('/');
  if (parts.length >= 5) {
    // AKID/yyyymmdd/region/service/aws4_request
    return { accessKeyId: parts[0], date: parts[1], region: parts[2], service: parts[3] };
  }
  if (parts.length === 4) {
    // SigV4a: AKID/yyyymmdd/service/aws4_request, regions in X-Amz-Region-Set
    const region = regionSet?.split(',')[0]?.trim();
    return { accessKeyId: parts[0], date: parts[1], service: parts[2], region: region && region !== '*' ? region : undefined };
  }
  return { accessKeyId: parts[0] };
}

/** Signing name and region suggested by an AWS-style host name (iam.amazonaws.com, bkt.s3.eu-west-1.amazonaws.com). */
export function serviceFromHost(hostHeader: string | undefined): { service?: string; region?: string } {
  if (!hostHeader) return {};
  const host = hostHeader.toLowerCase().replace(/:\d+$/, '');
  const m = /^(.*?)\.?amazonaws\.com(?:\.cn)?$/.exec(host);
  if (!m) return {};
  const labels = m[1]!.split('.').filter(Boolean);
  const regionLabel = labels.find((l) => /^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(l));
  const s3Label = labels.findIndex((l) => /^s3(-|$)/.test(l));
  if (s3Label >= 0) {
    const r = /^s3-([a-z]{2}-[a-z]+-\d)$/.exec(labels[s3Label]!);
    return { service: 's3', region: regionLabel ?? r?.[1] };
  }
  let prefix = labels[0];
  if (!prefix) return {};
  prefix = prefix.replace(/-fips$/, '');
  const aliases: Record<string, string> = { queue: 'sqs', api: labels[1] ?? 'api' };
  return { service: aliases[prefix] ?? prefix, region: regionLabel };
}

const CBOR_PATH = /^\/service\/([^/]+)\/operation\/([^/]+)\/?$/;

function header(req: RawRequest, name: string): string | undefined {
  return req.headers[name];
}

function jsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function cborBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  try {
    const v = decodeCbor(body);
    return v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function identify(req: RawRequest, opts: IdentifyOptions = {}): ApiCall {
  const cred = parseCredential(req);
  const target = header(req, 'x-amz-target');
  const targetPrefix = target && target.includes('.') ? target.slice(0, target.lastIndexOf('.')) : undefined;
  const cbor = CBOR_PATH.exec(req.path);
  const isCbor =
    cbor !== null && (header(req, 'smithy-protocol') === 'rpc-v2-cbor' || /application\/cbor/i.test(header(req, 'content-type') ?? ''));
  const fromHost = serviceFromHost(header(req, 'host'));

  // The body as the target reads it (gzip decompressed except for S3); undecodable: empty.
  const bodyOf = (svc: string | undefined): Buffer => targetBody(req, svc ?? '') ?? Buffer.alloc(0);
  let fields: Map<string, string> | undefined;
  const getFields = (): Map<string, string> => (fields ??= queryFields(bodyOf(service), header(req, 'content-type'), req.query));

  let service =
    cred.service ??
    (targetPrefix ? serviceForTarget(targetPrefix) : undefined) ??
    (isCbor ? serviceForTarget(decodeURIComponentSafe(cbor![1]!)) : undefined) ??
    fromHost.service;
  if (service === undefined && !target && !isCbor) {
    const f = getFields();
    const version = f.get('Version');
    if (f.has('Action') && version) service = serviceForApiVersion(version);
    if (service === undefined && /^\/20\d\d-\d\d-\d\d\/(functions|event-source-mappings|layers|tags|account-settings)/.test(req.path)) {
      service = 'lambda';
    }
  }
  service ??= 's3';
  if (service === 's3express' || service === 's3-object-lambda') service = 's3';
  // S3 Control is signed as s3; the target serves it by its path (see s3control.ts). Every S3 Control
  // request names its account in x-amz-account-id: without it, it stays a bucket request (to a
  // bucket named v20180820, which wire.ts refuses as the target would serve S3 Control).
  if (service === 's3' && isS3ControlPath(req.path) && req.headers['x-amz-account-id'] !== undefined) service = 's3control';

  const info = serviceInfo(service);
  const region = cred.region ?? fromHost.region ?? opts.defaultRegion ?? 'us-east-1';
  const sessionToken =
    header(req, 'x-amz-security-token') ?? req.query.get('X-Amz-Security-Token') ?? req.query.get('SecurityToken') ?? undefined;
  const base = {
    service,
    eventSource: info.eventSource,
    region,
    ...(cred.accessKeyId !== undefined ? { accessKeyId: cred.accessKeyId } : {}),
    ...(sessionToken !== undefined ? { sessionToken } : {}),
    auth: cred.auth,
  };
  const result = (protocol: Protocol, operation: string, params: Record<string, unknown>): ApiCall => ({
    ...base,
    protocol,
    operation: operation || 'Unknown',
    params,
  });

  // S3 is REST whatever else the request carries: the target's S3 never reads X-Amz-Target.
  if (service === 's3') {
    const addr = s3Address(req, { baseHosts: opts.s3BaseHosts } satisfies S3Options);
    const op = s3Operation(req.method, addr, req.query, req.headers);
    const problems: Array<{ code: string; message: string }> = [];
    const call = result('rest-xml', op, s3Params(op, addr, req, problems));
    return problems.length ? { ...call, malformed: problems[0]! } : call;
  }
  if (service === 's3control') {
    const m = s3controlCall(req);
    if (!m) return result('rest-xml', 'Unknown', {});
    const call = result('rest-xml', m.operation, m.params);
    return m.malformed ? { ...call, malformed: m.malformed } : call;
  }
  const body = bodyOf(service);
  if (target) {
    const op = target.includes('.') ? target.slice(target.lastIndexOf('.') + 1) : '';
    return result('json', op, jsonBody(body));
  }
  if (isCbor) {
    return result('cbor', decodeURIComponentSafe(cbor![2]!), cborBody(body));
  }
  if (hasRestRoutes(service)) {
    const m = matchRestJson(service, req.method, req.path, req.query, req.headers, body);
    if (!m) return result('rest-json', 'Unknown', jsonBody(body));
    const call = result('rest-json', m.operation, m.params);
    return m.conflict ? { ...call, malformed: { code: 'ValidationException', message: `${m.conflict}; give it once.` } } : call;
  }
  const f = getFields();
  const action = f.get('Action');
  if (action) {
    const rest = [...f].filter(([k]) => k !== 'Action' && k !== 'Version' && !isSigningParam(k));
    return result('query', action, decodeQueryParams(rest));
  }
  const protocol = info.protocol;
  return result(protocol, 'Unknown', protocol === 'json' || protocol === 'rest-json' ? jsonBody(body) : {});
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Build a RawRequest from a request URL (path + query, as in Node's `req.url`), headers and body. */
export function rawRequest(method: string, url: string, headers: Record<string, string | string[] | undefined>, body: Buffer = Buffer.alloc(0)): RawRequest {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  const query = new URLSearchParams(rawQuery);
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    h[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  }
  return { method: method.toUpperCase(), path, query, rawQuery, headers: h, body };
}
