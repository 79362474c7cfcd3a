// Anonymous S3 reads: S3 serves an unsigned request when the bucket's owner made the data public, and
// AWS decides it as for any caller, with an anonymous principal (no account, no identity policies):
// - the bucket policy (the owner's) is evaluated with the request's context: an explicit Deny refuses;
//   an Allow whose principal is everyone ("*", {"AWS": "*"}, or a NotPrincipal that does not list "*")
//   with its conditions met allows;
// - otherwise an ACL grant to the AllUsers group (READ or FULL_CONTROL): the object's for GetObject and
//   HeadObject, the bucket's for ListObjects(V2); not when ACLs are disabled (BucketOwnerEnforced) or
//   IgnorePublicAcls (bucket's or account's) is in force;
// - RestrictPublicBuckets (bucket's or account's) with a public bucket policy: only AWS services and
//   principals of the owner's account get in, so anonymous gets nothing;
// - SSE-KMS objects: anonymous requests cannot use KMS ("Requests specifying Server Side Encryption with
//   AWS KMS managed keys require AWS Signature Version 4");
// - a missing key is 404 only to a caller allowed s3:ListBucket, 403 otherwise.
// Only GetObject, HeadObject, ListObjects and ListObjectsV2 are served: every other unsigned request
// (other operations, writes, other services) stays refused by the gateway as before. (AWS also lets
// anonymous callers write where a policy or ACL grants public write: deliberately not emulated.)
// An allowed read is forwarded to the target as the bucket owner (the target checks nothing), and
// nothing else sees it: no extension hook or observer gets a credential of the owner for it; CloudTrail
// records it in the owner's account with AWS's anonymous identity.
// The gateway hands unsigned requests to a runtime's serveUnsigned (server.ts, ServesUnsigned): S3's
// runtime serves them with anonymousReads(this, caps). (S3Service in index.ts does not install it yet:
// until it does, every unsigned request stays refused; test/services/s3-anonymous.test.ts installs it.)
import type { ApiCall } from '../../gateway/protocol/identify.ts';
import type { Reply } from '../../gateway/extension.ts';
import type { Upstream } from '../../gateway/upstream.ts';
import type { SignedRequest } from '../../gateway/sigv4.ts';
import type { ServesUnsigned, UnsignedRequest } from '../../gateway/server.ts';
import type { Capabilities } from '../../gateway/service.ts';
import { toAuthz } from '../../gateway/protocol/authz-map.ts';
import { errorResponse } from '../../gateway/protocol/errors.ts';
import { forwardUrl } from '../../gateway/protocol/wire.ts';
import { protocolErrorFor } from '../../gateway/protocol/target-errors.ts';
import { conditionsMatch } from '../../policy/conditions.ts';
import { actionMatches, wildcardMatch } from '../../policy/patterns.ts';
import type { PolicyDocument, PrincipalBlock, Statement } from '../../policy/types.ts';
import { ctTime, isReadOnly, toRequestParameters, type CloudTrailRecord } from '../cloudtrail/recorder.ts';
import { isPublicPolicy, type PublicAccessBlock } from './public-access.ts';
import type { S3Service } from './index.ts';

/** The only operations served without a signature. */
const READS = new Set(['GetObject', 'HeadObject', 'ListObjects', 'ListObjectsV2']);
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
/** Query parameters and headers that make a request signed (or an attempt at it): never anonymous. */
const SIGNING_QUERY = ['x-amz-algorithm', 'x-amz-credential', 'x-amz-signature', 'x-amz-security-token', 'awsaccesskeyid', 'signature', 'x-amz-date'];

/** What S3 lends this module: the target, the lab clock, itself and CloudTrail's store. */
export interface AnonymousDeps {
  target: Upstream;
  clock: { now(): Date };
  s3: () => S3Service | undefined;
  trail: () => { add(r: CloudTrailRecord): void; newEventId(): string } | undefined;
}

/** Whether the request carries nothing of a signature (a malformed or partial one is not anonymous). */
export function isUnsigned(signed: SignedRequest, call: ApiCall): boolean {
  if (call.auth !== 'none' || signed.headers['authorization'] !== undefined || signed.headers['x-amz-security-token'] !== undefined) return false;
  for (const k of signed.query.keys()) if (SIGNING_QUERY.includes(k.toLowerCase())) return false;
  return true;
}

const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Whether a Principal block names everyone (anonymous callers included). */
function namesEveryone(block: PrincipalBlock): boolean {
  return block === '*' || asList(block['AWS']).includes('*');
}

/** Whether a NotPrincipal block leaves anonymous callers in ("everyone except ..."): unless it lists everyone. */
function notPrincipalIncludesAnonymous(block: PrincipalBlock): boolean {
  return block !== '*' && !Object.values(block).some((v) => asList(v).includes('*'));
}

type Context = Map<string, string | string[]>;

/** The statements of the bucket policy that apply to an anonymous request for `action` on `resource`. */
function applying(doc: PolicyDocument, action: string, resource: string, ctx: Context, unknown: string[]): Statement[] {
  const variables = doc.Version === '2012-10-17';
  return asList(doc.Statement).filter((st) => {
    if (!st || typeof st !== 'object' || (st.Effect !== 'Allow' && st.Effect !== 'Deny')) return false;
    if ((st.Action === undefined) === (st.NotAction === undefined)) return false;
    const actionHit = asList(st.Action ?? st.NotAction).some((a) => typeof a === 'string' && actionMatches(a, action));
    if (actionHit !== (st.Action !== undefined)) return false;
    if (st.Resource !== undefined && st.NotResource !== undefined) return false;
    if (st.Resource !== undefined || st.NotResource !== undefined) {
      const hit = asList(st.Resource ?? st.NotResource).some((r) => typeof r === 'string' && wildcardMatch(r, resource, 'resource', ctx, variables));
      if (hit !== (st.Resource !== undefined)) return false;
    }
    if ((st.Principal === undefined) === (st.NotPrincipal === undefined)) return false;
    const everyone = st.Principal !== undefined ? namesEveryone(st.Principal) : notPrincipalIncludesAnonymous(st.NotPrincipal!);
    if (!everyone) return false;
    return conditionsMatch(st.Condition, ctx, variables, unknown);
  });
}

/** A read of the target that fails for any other reason than "there is none" refuses (closed), never opens. */
class Unreadable extends Error {}
const NONE = /^(NoSuch|NotFound$|OwnershipControlsNotFoundError$|ServerSideEncryptionConfigurationNotFoundError$)/;
async function readOrNone<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (e) {
    const name = (e as { name?: string }).name ?? '';
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (NONE.test(name) || status === 404) return undefined;
    throw new Unreadable(`${name}: ${(e as Error).message}`);
  }
}

interface Grant { Grantee?: { URI?: string; Type?: string }; Permission?: string }

/**
 * Serves an unsigned request if it is an anonymous S3 read of a bucket the lab cloud knows; undefined
 * otherwise (the gateway then refuses it as every unsigned request).
 */
export async function serveAnonymous(deps: AnonymousDeps, req: UnsignedRequest): Promise<Reply | undefined> {
  const { call, signed, requestId } = req;
  if (call.service !== 's3' || !READS.has(call.operation) || !isUnsigned(signed, call)) return undefined;
  const s3 = deps.s3();
  const bucket = typeof call.params['Bucket'] === 'string' ? call.params['Bucket'] : '';
  const owner = bucket ? s3?.bucketOwners.get(bucket) : undefined;
  if (!s3 || !owner) return undefined;
  const target = deps.target;

  const record = (error?: { code: string; message: string }) => {
    const trail = deps.trail();
    if (!trail) return;
    const dataEvent = call.params['Key'] !== undefined;
    const params: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(call.params)) params[k === 'Bucket' ? 'BucketName' : k] = v;
    params['Host'] = `${bucket}.s3.${call.region}.amazonaws.com`;
    const resource = dataEvent ? `arn:aws:s3:::${bucket}/${String(call.params['Key'])}` : `arn:aws:s3:::${bucket}`;
    // The caller has no account: AWS logs the call in the bucket owner's account only, as ANONYMOUS_PRINCIPAL.
    trail.add({
      eventVersion: '1.08',
      userIdentity: { type: 'AWSAccount', principalId: '', accountId: 'ANONYMOUS_PRINCIPAL' },
      eventTime: ctTime(deps.clock.now()),
      eventSource: call.eventSource, eventName: call.operation, awsRegion: call.region,
      sourceIPAddress: req.sourceIp, userAgent: req.userAgent,
      requestParameters: toRequestParameters(params), responseElements: null,
      ...(error ? { errorCode: error.code, errorMessage: error.message } : {}),
      requestID: requestId, eventID: trail.newEventId(), readOnly: isReadOnly(call.operation),
      resources: [{ ARN: resource, accountId: owner }],
      eventType: 'AwsApiCall', managementEvent: !dataEvent, recipientAccountId: owner, eventCategory: dataEvent ? 'Data' : 'Management',
    });
  };
  const fail = (status: number, code: string, message: string): Reply => {
    record({ code, message });
    return errorResponse(call, status, code, message, requestId);
  };
  const denied = () => fail(403, 'AccessDenied', 'Access Denied');

  // GetObject: "response-*" overrides "cannot be used with an unsigned (anonymous) request" (GetObject, URI parameters).
  if (Object.keys(call.params).some((k) => k.toLowerCase().startsWith('response-'))) {
    return fail(400, 'InvalidRequest', 'Request specific response headers cannot be used for anonymous GET requests.');
  }

  let authz;
  try {
    authz = toAuthz(call, owner);
  } catch {
    return denied();
  }
  if (authz.additional?.length || authz.resources.length !== 1) return denied();
  const now = deps.clock.now();
  // The context of an anonymous request: no aws:Principal* keys, no s3:authType or s3:signatureversion.
  const base: Record<string, string | string[]> = {
    'aws:CurrentTime': now.toISOString(),
    'aws:EpochTime': String(Math.floor(now.getTime() / 1000)),
    'aws:SourceIp': req.sourceIp,
    'aws:UserAgent': req.userAgent,
    'aws:SecureTransport': req.secure ? 'true' : 'false',
    'aws:ViaAWSService': 'false',
    'aws:ResourceAccount': owner,
  };

  let bpa: PublicAccessBlock;
  let policy: PolicyDocument | undefined;
  let aclsOff: boolean;
  try {
    bpa = await s3.publicAccessBlock(owner, bucket);
    policy = await s3.policies.bucketPolicy(owner, bucket);
    const ownership = await readOrNone(() => target.json<{ OwnershipControls?: { Rules?: { ObjectOwnership?: string }[] } }>(owner, 's3', 'GetBucketOwnershipControls', { Bucket: bucket }));
    aclsOff = ownership?.OwnershipControls?.Rules?.[0]?.ObjectOwnership === 'BucketOwnerEnforced';
  } catch {
    return denied();
  }
  const restricted = !!bpa.RestrictPublicBuckets && !!policy && isPublicPolicy(policy);

  /** Whether an anonymous caller may perform `action` on `resource` (S3's evaluation for an anonymous principal). */
  const allowed = async (action: string, resource: string, context: Record<string, string | string[]>): Promise<boolean> => {
    // RestrictPublicBuckets with a public policy: no one outside the owner's account (AWS services aside).
    if (restricted) return false;
    const ctx: Context = new Map(Object.entries({ ...base, ...context }).map(([k, v]) => [k.toLowerCase(), v]));
    const object = /^arn:aws:s3:::[^/]+\/(.+)$/.exec(resource)?.[1];
    if (object !== undefined && (action === 's3:GetObject' || action === 's3:GetObjectVersion')) {
      // s3:ExistingObjectTag/<key>: the object's current tags.
      const versionId = typeof context['s3:VersionId'] === 'string' ? context['s3:VersionId'] : undefined;
      const tags = await readOrNone(() => target.json<{ TagSet?: { Key?: string; Value?: string }[] }>(owner, 's3', 'GetObjectTagging', { Bucket: bucket, Key: object, ...(versionId ? { VersionId: versionId } : {}) }));
      for (const t of tags?.TagSet ?? []) if (t.Key !== undefined) ctx.set(`s3:existingobjecttag/${t.Key.toLowerCase()}`, t.Value ?? '');
    }
    const unknown: string[] = [];
    const statements = policy ? applying(policy, action, resource, ctx, unknown) : [];
    // A condition the evaluator cannot read might have denied: refuse rather than guess.
    if (unknown.length || statements.some((st) => st.Effect === 'Deny')) return false;
    if (statements.some((st) => st.Effect === 'Allow')) return true;
    if (aclsOff || bpa.IgnorePublicAcls) return false;
    const versionId = typeof context['s3:VersionId'] === 'string' ? context['s3:VersionId'] : undefined;
    const acl = await readOrNone(() => (object !== undefined
      ? target.json<{ Grants?: Grant[] }>(owner, 's3', 'GetObjectAcl', { Bucket: bucket, Key: object, ...(versionId ? { VersionId: versionId } : {}) })
      : target.json<{ Grants?: Grant[] }>(owner, 's3', 'GetBucketAcl', { Bucket: bucket })));
    // READ on an object lets its data be read, READ on a bucket lets it be listed.
    return (acl?.Grants ?? []).some((g) => g.Grantee?.URI === ALL_USERS && (g.Permission === 'READ' || g.Permission === 'FULL_CONTROL'));
  };

  const context = { ...authz.context } as Record<string, string | string[]>;
  try {
    if (!(await allowed(authz.action, authz.resources[0]!, context))) return denied();
    if (call.operation === 'GetObject' || call.operation === 'HeadObject') {
      const versionId = typeof call.params['versionId'] === 'string' ? call.params['versionId'] : undefined;
      const head = await readOrNone(() => target.json<{ ServerSideEncryption?: string }>(owner, 's3', 'HeadObject', { Bucket: bucket, Key: String(call.params['Key']), ...(versionId ? { VersionId: versionId } : {}) }));
      if (!head) {
        // A missing key: 404 only to a caller that may list the bucket (GetObject, "Permissions").
        const mayList = await allowed('s3:ListBucket', `arn:aws:s3:::${bucket}`, { 'aws:RequestedRegion': call.region });
        if (!mayList) return denied();
      } else if (head.ServerSideEncryption?.startsWith('aws:kms')) {
        return fail(400, 'InvalidArgument', 'Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4.');
      }
    }
  } catch (e) {
    if (e instanceof Unreadable) return denied();
    throw e;
  }

  // Forwarded as the bucket owner: the target serves the object or the listing. moto makes its own
  // (partial) decision on requests without an Authorization header; the gateway's own reads carry one
  // it does not verify, as here (the decision is the one above).
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  let res;
  try {
    res = await target.forward(owner, {
      method: signed.method,
      url: forwardUrl(call, req.rawUrl, signed.headers['host']),
      headers: {
        ...signed.headers, host: new URL(target.url).host, 'x-amz-date': amzDate,
        authorization: `AWS4-HMAC-SHA256 Credential=AKIASECLABGATEWAY000/${amzDate.slice(0, 8)}/${call.region}/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
      },
      body: signed.body,
    });
  } catch (e) {
    return errorResponse(call, 503, 'ServiceUnavailable', `the lab cloud's emulator did not answer: ${(e as Error).message}`, requestId);
  }
  if (res.status >= 300) {
    res = protocolErrorFor(call, res, requestId, signed.body) ?? res;
    const text = res.body.toString('utf8');
    record({ code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? String(res.status), message: /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? '' });
  } else {
    record();
  }
  return { status: res.status, headers: res.headers, body: res.body };
}

/** S3's serveUnsigned: anonymous reads of the buckets `s3` knows, recorded in CloudTrail when the lab cloud has it. */
export function anonymousReads(s3: S3Service, caps: Pick<Capabilities, 'clock' | 'service'>): ServesUnsigned['serveUnsigned'] {
  const trail = () => {
    try {
      return caps.service('cloudtrail').trail;
    } catch {
      return undefined; // a lab cloud without CloudTrail
    }
  };
  return (req) => serveAnonymous({ target: s3.target, clock: caps.clock, s3: () => s3, trail }, req);
}
