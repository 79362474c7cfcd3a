// What AWS gives every new bucket since April 2023, which moto does not: "Amazon S3 automatically
// enables S3 Block Public Access and disables access control lists (ACLs) for all new buckets", and
// "all new buckets are configured with server-side encryption with Amazon S3 managed keys (SSE-S3)"
// (S3 User Guide, "Default settings for new S3 buckets"; "Setting default server-side encryption
// behavior for Amazon S3 buckets"). The gateway applies them right after a successful CreateBucket,
// as the account, so GetBucketEncryption, GetPublicAccessBlock and GetBucketOwnershipControls answer
// as AWS does; a client changes them afterwards as it would in AWS.
import type { Upstream } from '../../gateway/upstream.ts';

const OBJECT_OWNERSHIP = ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'];

export async function applyNewBucketDefaults(upstream: Upstream, account: string, bucket: string, params: Record<string, unknown>): Promise<void> {
  const requested = String(params['x-amz-object-ownership'] ?? '');
  const ownership = OBJECT_OWNERSHIP.includes(requested) ? requested : 'BucketOwnerEnforced';
  await upstream.json(account, 's3', 'PutBucketEncryption', {
    Bucket: bucket,
    ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false }] },
  });
  await upstream.json(account, 's3', 'PutPublicAccessBlock', {
    Bucket: bucket,
    PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
  });
  await upstream.json(account, 's3', 'PutBucketOwnershipControls', { Bucket: bucket, OwnershipControls: { Rules: [{ ObjectOwnership: ownership }] } });
}

/** The bucket's Object Ownership setting; undefined when it has none (ACLs enabled, as ObjectWriter). */
export async function ownershipOf(upstream: Upstream, account: string, bucket: string): Promise<string | undefined> {
  try {
    const r = await upstream.json<{ OwnershipControls?: { Rules?: { ObjectOwnership?: string }[] } }>(account, 's3', 'GetBucketOwnershipControls', { Bucket: bucket });
    return r.OwnershipControls?.Rules?.[0]?.ObjectOwnership;
  } catch {
    return undefined;
  }
}

/** Grantees that make an ACL public (S3 User Guide, "The meaning of public"): everyone, or every AWS user. */
const PUBLIC_GRANTEES = /acs\.amazonaws\.com\/groups\/global\/(AllUsers|AuthenticatedUsers)/i;

/**
 * Whether a request sets a public ACL: a canned ACL public-read, public-read-write or
 * authenticated-read, a grant header or an AccessControlPolicy body that names the AllUsers or
 * AuthenticatedUsers group.
 */
export function publicAclRequested(params: Record<string, unknown>): boolean {
  if (['public-read', 'public-read-write', 'authenticated-read'].includes(String(params['x-amz-acl'] ?? ''))) return true;
  if (Object.entries(params).some(([k, v]) => k.startsWith('x-amz-grant-') && PUBLIC_GRANTEES.test(String(v)))) return true;
  const body = params['AccessControlPolicy'];
  return body !== undefined && PUBLIC_GRANTEES.test(JSON.stringify(body));
}

/**
 * Whether a request sets an ACL that ACLs-disabled buckets refuse: any grant header, or a canned ACL
 * other than the bucket owner's full control ("bucket-owner-full-control canned ACL or an equivalent
 * form" succeed; "private" too on CreateBucket, where it is the default). PutBucketAcl/PutObjectAcl
 * with an XML body set an ACL by definition.
 */
export function aclRequested(params: Record<string, unknown>, operation?: string): boolean {
  const acl = params['x-amz-acl'];
  const grants = Object.keys(params).some((k) => k.startsWith('x-amz-grant-'));
  if (grants) return true;
  if (acl === undefined) return operation === 'PutBucketAcl' || operation === 'PutObjectAcl';
  const allowed = operation === 'CreateBucket' || operation === undefined ? ['private', 'bucket-owner-full-control'] : ['bucket-owner-full-control'];
  return !allowed.includes(String(acl));
}
