// S3 (REST-XML) request identification: bucket and key from path-style or virtual-hosted-style
// addressing, operation from method + bucket/key presence + subresource query parameters + a few
// headers, following the S3 API model's HTTP bindings (requestUri such as `/{Bucket}?policy`).

import { XMLParser } from 'fast-xml-parser';
import { isSigningParam } from './query.ts';
import type { RawRequest } from './types.ts';

export interface S3Address {
  bucket?: string;
  key?: string;
  virtualHosted: boolean;
}

export interface S3Options {
  /**
   * Host names (without port) under which buckets are addressed virtual-hosted style, besides
   * the built-in ones (`localhost`, `localhost.localstack.cloud`, `s3[.-]<region>.amazonaws.com`,
   * `s3.localhost`...). `bucket.<base>` selects `bucket`.
   */
  baseHosts?: string[];
}

const DEFAULT_BASE_HOSTS = ['localhost', 'localhost.localstack.cloud', 's3.localhost.localstack.cloud'];

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Bucket named by the Host header (virtual-hosted style), if any. */
export function bucketFromHost(hostHeader: string | undefined, opts: S3Options = {}): string | undefined {
  if (!hostHeader) return undefined;
  let host = hostHeader.trim().toLowerCase();
  if (host.startsWith('[')) return undefined; // IPv6 literal
  host = host.replace(/:\d+$/, '');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return undefined;
  // AWS endpoints: bucket.s3.amazonaws.com, bucket.s3.eu-west-1.amazonaws.com, bucket.s3-eu-west-1.amazonaws.com,
  // bucket.s3.dualstack.eu-west-1.amazonaws.com
  const aws = /^(.+?)\.s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?$/.exec(host);
  if (aws) return aws[1];
  // Emulators: bucket.s3.localhost, bucket.s3.<region>.localhost.localstack.cloud ...
  const emu = /^(.+?)\.s3(?:\.[a-z0-9-]+)?\.(?:localhost(?:\.localstack\.cloud)?)$/.exec(host);
  if (emu) return emu[1];
  const bases = [...(opts.baseHosts ?? []).map((b) => b.toLowerCase().replace(/:\d+$/, '')), ...DEFAULT_BASE_HOSTS];
  // Longest base first so that s3.localhost.localstack.cloud wins over localhost.localstack.cloud.
  bases.sort((a, b) => b.length - a.length);
  for (const base of bases) {
    if (host.endsWith(`.${base}`)) {
      const bucket = host.slice(0, -base.length - 1);
      if (bucket === 's3' || /^s3[.-]/.test(bucket)) return undefined;
      return bucket;
    }
  }
  return undefined;
}

export function s3Address(req: RawRequest, opts: S3Options = {}): S3Address {
  const vhBucket = bucketFromHost(req.headers['host'], opts);
  const path = req.path.startsWith('/') ? req.path.slice(1) : req.path;
  if (vhBucket !== undefined) {
    const key = path === '' ? undefined : safeDecode(path);
    return { bucket: vhBucket, key, virtualHosted: true };
  }
  if (path === '') return { virtualHosted: false };
  const slash = path.indexOf('/');
  if (slash < 0) return { bucket: safeDecode(path), virtualHosted: false };
  const bucket = safeDecode(path.slice(0, slash));
  const rest = path.slice(slash + 1);
  return { bucket, key: rest === '' ? undefined : safeDecode(rest), virtualHosted: false };
}

type Level = 'service' | 'bucket' | 'object';
interface Route {
  method: string;
  level: Level;
  /** Query parameter that must be present (subresource). */
  sub?: string;
  /** Extra requirement on query/headers. */
  when?: (q: URLSearchParams, h: Record<string, string>) => boolean;
  op: string;
}

const hasId = (q: URLSearchParams): boolean => q.has('id');
const noId = (q: URLSearchParams): boolean => !q.has('id');
const copy = (_q: URLSearchParams, h: Record<string, string>): boolean => h['x-amz-copy-source'] !== undefined;

// Bucket configuration subresources that map to Get/Put/Delete<Name> with the same query key.
const BUCKET_CONFIG: Array<[sub: string, get?: string, put?: string, del?: string]> = [
  ['accelerate', 'GetBucketAccelerateConfiguration', 'PutBucketAccelerateConfiguration'],
  ['acl', 'GetBucketAcl', 'PutBucketAcl'],
  ['cors', 'GetBucketCors', 'PutBucketCors', 'DeleteBucketCors'],
  ['encryption', 'GetBucketEncryption', 'PutBucketEncryption', 'DeleteBucketEncryption'],
  ['lifecycle', 'GetBucketLifecycleConfiguration', 'PutBucketLifecycleConfiguration', 'DeleteBucketLifecycle'],
  ['location', 'GetBucketLocation'],
  ['logging', 'GetBucketLogging', 'PutBucketLogging'],
  ['notification', 'GetBucketNotificationConfiguration', 'PutBucketNotificationConfiguration'],
  ['ownershipControls', 'GetBucketOwnershipControls', 'PutBucketOwnershipControls', 'DeleteBucketOwnershipControls'],
  ['policy', 'GetBucketPolicy', 'PutBucketPolicy', 'DeleteBucketPolicy'],
  ['policyStatus', 'GetBucketPolicyStatus'],
  ['replication', 'GetBucketReplication', 'PutBucketReplication', 'DeleteBucketReplication'],
  ['requestPayment', 'GetBucketRequestPayment', 'PutBucketRequestPayment'],
  ['tagging', 'GetBucketTagging', 'PutBucketTagging', 'DeleteBucketTagging'],
  ['versioning', 'GetBucketVersioning', 'PutBucketVersioning'],
  ['website', 'GetBucketWebsite', 'PutBucketWebsite', 'DeleteBucketWebsite'],
  ['publicAccessBlock', 'GetPublicAccessBlock', 'PutPublicAccessBlock', 'DeletePublicAccessBlock'],
  ['object-lock', 'GetObjectLockConfiguration', 'PutObjectLockConfiguration'],
  ['metadataTable', 'GetBucketMetadataTableConfiguration', undefined, 'DeleteBucketMetadataTableConfiguration'],
  ['metadataConfiguration', 'GetBucketMetadataConfiguration', undefined, 'DeleteBucketMetadataConfiguration'],
  ['abac', 'GetBucketAbac', 'PutBucketAbac'],
];

// Configurations addressed by ?<sub>&id=: Get/Put/Delete with id, List without.
const ID_CONFIGS: Array<[sub: string, name: string]> = [
  ['analytics', 'Analytics'],
  ['intelligent-tiering', 'IntelligentTiering'],
  ['inventory', 'Inventory'],
  ['metrics', 'Metrics'],
];

const ROUTES: Route[] = [
  { method: 'GET', level: 'service', op: 'ListBuckets' },
  // bucket level
  ...ID_CONFIGS.flatMap(([sub, name]): Route[] => [
    { method: 'GET', level: 'bucket', sub, when: hasId, op: `GetBucket${name}Configuration` },
    { method: 'GET', level: 'bucket', sub, when: noId, op: `ListBucket${name}Configurations` },
    { method: 'PUT', level: 'bucket', sub, op: `PutBucket${name}Configuration` },
    { method: 'DELETE', level: 'bucket', sub, op: `DeleteBucket${name}Configuration` },
  ]),
  ...BUCKET_CONFIG.flatMap(([sub, get, put, del]): Route[] => [
    ...(get ? [{ method: 'GET', level: 'bucket' as const, sub, op: get }] : []),
    ...(put ? [{ method: 'PUT', level: 'bucket' as const, sub, op: put }] : []),
    ...(del ? [{ method: 'DELETE', level: 'bucket' as const, sub, op: del }] : []),
  ]),
  { method: 'GET', level: 'bucket', sub: 'uploads', op: 'ListMultipartUploads' },
  { method: 'GET', level: 'bucket', sub: 'versions', op: 'ListObjectVersions' },
  { method: 'GET', level: 'bucket', sub: 'session', op: 'CreateSession' },
  { method: 'GET', level: 'bucket', when: (q) => q.get('list-type') === '2', op: 'ListObjectsV2' },
  { method: 'GET', level: 'bucket', op: 'ListObjects' },
  { method: 'HEAD', level: 'bucket', op: 'HeadBucket' },
  { method: 'PUT', level: 'bucket', sub: 'metadataInventoryTable', op: 'UpdateBucketMetadataInventoryTableConfiguration' },
  { method: 'PUT', level: 'bucket', sub: 'metadataJournalTable', op: 'UpdateBucketMetadataJournalTableConfiguration' },
  { method: 'PUT', level: 'bucket', op: 'CreateBucket' },
  { method: 'DELETE', level: 'bucket', op: 'DeleteBucket' },
  { method: 'POST', level: 'bucket', sub: 'delete', op: 'DeleteObjects' },
  { method: 'POST', level: 'bucket', sub: 'metadataTable', op: 'CreateBucketMetadataTableConfiguration' },
  { method: 'POST', level: 'bucket', sub: 'metadataConfiguration', op: 'CreateBucketMetadataConfiguration' },
  { method: 'POST', level: 'bucket', op: 'PostObject' }, // browser-based (HTML form) upload
  // object level
  { method: 'GET', level: 'object', sub: 'uploadId', op: 'ListParts' },
  { method: 'GET', level: 'object', sub: 'acl', op: 'GetObjectAcl' },
  { method: 'GET', level: 'object', sub: 'attributes', op: 'GetObjectAttributes' },
  { method: 'GET', level: 'object', sub: 'legal-hold', op: 'GetObjectLegalHold' },
  { method: 'GET', level: 'object', sub: 'retention', op: 'GetObjectRetention' },
  { method: 'GET', level: 'object', sub: 'tagging', op: 'GetObjectTagging' },
  { method: 'GET', level: 'object', sub: 'torrent', op: 'GetObjectTorrent' },
  { method: 'GET', level: 'object', op: 'GetObject' },
  { method: 'HEAD', level: 'object', op: 'HeadObject' },
  { method: 'PUT', level: 'object', sub: 'uploadId', when: (q, h) => q.has('partNumber') && copy(q, h), op: 'UploadPartCopy' },
  { method: 'PUT', level: 'object', sub: 'uploadId', when: (q) => q.has('partNumber'), op: 'UploadPart' },
  { method: 'PUT', level: 'object', sub: 'acl', op: 'PutObjectAcl' },
  { method: 'PUT', level: 'object', sub: 'legal-hold', op: 'PutObjectLegalHold' },
  { method: 'PUT', level: 'object', sub: 'retention', op: 'PutObjectRetention' },
  { method: 'PUT', level: 'object', sub: 'tagging', op: 'PutObjectTagging' },
  { method: 'PUT', level: 'object', sub: 'renameObject', op: 'RenameObject' },
  { method: 'PUT', level: 'object', sub: 'encryption', op: 'UpdateObjectEncryption' },
  { method: 'PUT', level: 'object', when: copy, op: 'CopyObject' },
  { method: 'PUT', level: 'object', op: 'PutObject' },
  { method: 'POST', level: 'object', sub: 'uploads', op: 'CreateMultipartUpload' },
  { method: 'POST', level: 'object', sub: 'uploadId', op: 'CompleteMultipartUpload' },
  { method: 'POST', level: 'object', sub: 'restore', op: 'RestoreObject' },
  { method: 'POST', level: 'object', sub: 'select', op: 'SelectObjectContent' },
  { method: 'DELETE', level: 'object', sub: 'uploadId', op: 'AbortMultipartUpload' },
  { method: 'DELETE', level: 'object', sub: 'tagging', op: 'DeleteObjectTagging' },
  { method: 'DELETE', level: 'object', op: 'DeleteObject' },
];

export function s3Operation(method: string, addr: S3Address, query: URLSearchParams, headers: Record<string, string>): string {
  const m = method.toUpperCase();
  if (m === 'POST' && addr.bucket === 'WriteGetObjectResponse' && !addr.virtualHosted) return 'WriteGetObjectResponse';
  const level: Level = addr.bucket === undefined ? 'service' : addr.key === undefined ? 'bucket' : 'object';
  for (const r of ROUTES) {
    if (r.method !== m || r.level !== level) continue;
    if (r.sub !== undefined && !query.has(r.sub)) continue;
    if (r.when && !r.when(query, headers)) continue;
    return r.op;
  }
  return 'Unknown';
}

/** Headers worth keeping as parameters: what authorization conditions and CloudTrail look at. */
const PARAM_HEADERS = /^(x-amz-(server-side-encryption.*|acl|grant-.*|copy-source.*|storage-class|tagging.*|object-lock-.*|website-redirect-location|metadata-directive|expected-bucket-owner|source-expected-bucket-owner|bypass-governance-retention|mfa|request-payer|object-ownership|bucket-object-lock-enabled|rename-source|object-attributes|confirm-remove-self-bucket-access)|content-md5|content-length|content-type|range|if-match|if-none-match)$/;

// Numeric character references (&#x70;) are decoded as the target's expat decodes them; a DOCTYPE
// (entity declarations, which moto's xmltodict refuses) makes the body malformed.
const xml = new XMLParser({ ignoreAttributes: true, removeNSPrefix: true, parseTagValue: false, trimValues: true, htmlEntities: true });
// DeleteObjects keys keep their whitespace, as moto reads them (xmltodict, strip_whitespace=False).
const xmlKeepSpace = new XMLParser({ ignoreAttributes: true, removeNSPrefix: true, parseTagValue: false, trimValues: false, htmlEntities: true });

const MALFORMED_XML = { code: 'MalformedXML', message: 'The XML you provided was not well-formed or did not validate against our published schema' };

/**
 * S3 request parameters: Bucket, Key, query parameters (wire names), relevant headers, parsed XML
 * body. Bodies are read whole, whatever their size (only object content is not read). What cannot
 * be read the way the target reads it is reported in `problems` (the gateway refuses the request).
 */
export function s3Params(op: string, addr: S3Address, req: RawRequest, problems: Array<{ code: string; message: string }> = []): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  if (addr.bucket !== undefined) params['Bucket'] = addr.bucket;
  if (addr.key !== undefined) params['Key'] = addr.key;
  for (const [k, v] of req.query) {
    if (isSigningParam(k) || k === 'x-id') continue;
    params[k] = v;
  }
  for (const [k, v] of Object.entries(req.headers)) {
    if (PARAM_HEADERS.test(k)) params[k] = v;
  }
  if (op === 'PostObject') {
    // Browser-based upload: the key, ACL and encryption come as multipart form fields.
    const fields = postFormFields(req.body, req.headers['content-type']);
    if (typeof fields === 'string') problems.push({ code: 'MalformedPOSTRequest', message: fields });
    else Object.assign(params, fields);
    return params;
  }
  if (op === 'PutObject' || op === 'UploadPart' || op === 'WriteGetObjectResponse') return params;
  if (req.body.length === 0) {
    if (op === 'DeleteObjects') problems.push(MALFORMED_XML);
    return params;
  }
  const text = req.body.toString('utf8');
  if (op === 'PutBucketPolicy') {
    params['Policy'] = text;
    return params;
  }
  const looksXml = text.trimStart().startsWith('<');
  if (!looksXml) {
    if (op === 'DeleteObjects') problems.push(MALFORMED_XML);
    return params;
  }
  if (/<!DOCTYPE|<!ENTITY/i.test(text) || !Buffer.from(text, 'utf8').equals(req.body)) {
    problems.push(MALFORMED_XML);
    return params;
  }
  try {
    const doc = (op === 'DeleteObjects' ? xmlKeepSpace : xml).parse(text, true) as Record<string, unknown>;
    for (const [root, value] of Object.entries(doc)) {
      if (root === '?xml') continue;
      params[root] = normalizeXml(op, root, value);
    }
  } catch {
    // Not well-formed: the target could read it otherwise (or not at all); never authorize a guess.
    problems.push(MALFORMED_XML);
  }
  return params;
}

/** Make list-valued elements lists even when they occur once (DeleteObjects' Object, TagSet's Tag). */
function normalizeXml(op: string, root: string, value: unknown): unknown {
  if (op === 'DeleteObjects' && root === 'Delete' && value && typeof value === 'object') {
    const { Object: one, ...rest } = value as Record<string, unknown>;
    const objects = one === undefined ? [] : Array.isArray(one) ? one : [one];
    return { ...rest, Objects: objects };
  }
  return value;
}

const POST_FIELDS: Record<string, string> = {
  key: 'Key',
  acl: 'x-amz-acl',
  'x-amz-server-side-encryption': 'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-aws-kms-key-id': 'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-storage-class': 'x-amz-storage-class',
  tagging: 'x-amz-tagging',
};

/**
 * Selected fields of a multipart/form-data POST upload, read from the whole body; a message when
 * the form cannot be read unambiguously (no boundary, a selected field given twice).
 */
function postFormFields(body: Buffer, contentType: string | undefined): Record<string, string> | string {
  const boundary = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  const b = boundary?.[1] ?? boundary?.[2];
  if (!b) return 'The body of a POST upload must be multipart/form-data with a boundary.';
  const text = body.toString('latin1');
  const out: Record<string, string> = {};
  for (const part of text.split(`--${b}`).slice(1)) {
    const m = /^\r?\n((?:[^\r\n]+\r?\n)*)\r?\n/.exec(part);
    if (!m) continue;
    const disposition = /^content-disposition:\s*form-data;(.*)$/im.exec(m[1]!);
    if (!disposition) continue;
    const name = /(?:^|;)\s*name="([^"]*)"/i.exec(disposition[1]!)?.[1];
    if (name === undefined || /(?:^|;)\s*filename\*?=/i.test(disposition[1]!)) continue;
    const target = POST_FIELDS[name.toLowerCase()];
    if (!target) continue;
    if (out[target] !== undefined) return `The form field ${name} appears more than once.`;
    const value = part.slice(m[0].length).replace(/\r?\n$/, '');
    out[target] = Buffer.from(value, 'latin1').toString('utf8');
  }
  return out;
}
