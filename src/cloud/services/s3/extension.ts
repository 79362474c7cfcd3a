// S3 in the gateway: bucket policies are read for authorization; drop the cached one when it changes.
// Bucket names are global (s3.bucketOwners): a name another account holds is BucketAlreadyExists.
// New buckets get the defaults AWS applies since April 2023 (see defaults.ts; moto applies none).
import { ApiError } from '../../gateway/api-error.ts';
import type { CallContext, ServiceExtension } from '../../gateway/extension.ts';
import { errorResponse } from '../../gateway/protocol/errors.ts';
import { aclRequested, applyNewBucketDefaults, ownershipOf, publicAclRequested } from './defaults.ts';
import { isPublicPolicy } from './public-access.ts';
import { parsePolicyText } from '../iam/policy-store.ts';
import type { PolicyDocument } from '../../policy/types.ts';
import type { S3Service } from './index.ts';

/** CreateBucket calls that create a new bucket (not us-east-1's 200 OK for a bucket the caller owns). */
const creating = new WeakSet<CallContext>();

function s3Error(ctx: CallContext, status: number, code: string, message: string, extra: Record<string, string> = {}): ApiError {
  return new ApiError(status, code, message, (requestId) => errorResponse(ctx.call, status, code, message, requestId, { extra }));
}

export function s3Extension(s3: S3Service): ServiceExtension {
  return {
    service: 's3',

    async before(ctx) {
      const { cred, call } = ctx;
      const bucket = String(call.params['Bucket'] ?? '');
      if (call.operation === 'CreateBucket') {
        const owner = s3.bucketOwners.get(bucket);
        if (owner && owner !== cred.account) {
          throw s3Error(ctx, 409, 'BucketAlreadyExists',
            'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.', { BucketName: bucket });
        }
        // "Amazon S3 returns this error in all AWS Regions except in the North Virginia Region. For legacy
        // compatibility, if you re-create an existing bucket that you already own in the North Virginia
        // Region, Amazon S3 returns 200 OK" (CreateBucket, Errors).
        if (owner && call.region !== 'us-east-1') {
          throw s3Error(ctx, 409, 'BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', { BucketName: bucket });
        }
        const ownership = String(call.params['x-amz-object-ownership'] ?? 'BucketOwnerEnforced');
        if (ownership === 'BucketOwnerEnforced' && aclRequested(call.params, 'CreateBucket')) {
          throw s3Error(ctx, 400, 'InvalidBucketAclWithObjectOwnership', "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting");
        }
        // BlockPublicAcls of the account: "PUT Bucket calls fail if the request includes a public ACL".
        if (publicAclRequested(call.params) && (await s3.publicAccessBlock(cred.account, bucket)).BlockPublicAcls) {
          throw s3Error(ctx, 403, 'AccessDenied', 'Access Denied');
        }
        if (!owner) creating.add(ctx);
        return;
      }
      // BlockPublicPolicy: a public bucket policy is refused, for the bucket's or the account's setting.
      if (call.operation === 'PutBucketPolicy') {
        let doc: PolicyDocument | undefined;
        try {
          doc = parsePolicyText(String(call.params['Policy'] ?? ''));
        } catch {
          doc = undefined; // malformed: the target answers MalformedPolicy
        }
        const owner = s3.bucketOwners.get(bucket) ?? cred.account;
        if (doc && isPublicPolicy(doc) && (await s3.publicAccessBlock(owner, bucket)).BlockPublicPolicy) {
          throw new ApiError(403, 'AccessDenied', `User: ${cred.arn} is not authorized to perform: s3:PutBucketPolicy on resource: "arn:aws:s3:::${bucket}" because public policies are blocked by the BlockPublicPolicy block public access setting.`);
        }
      }
      // ACLs disabled (BucketOwnerEnforced): setting an ACL other than the bucket owner's full control fails.
      if (['PutObject', 'CopyObject', 'CreateMultipartUpload', 'PutObjectAcl', 'PutBucketAcl'].includes(call.operation) && aclRequested(call.params, call.operation)) {
        const owner = s3.bucketOwners.get(bucket) ?? cred.account;
        if ((await ownershipOf(s3.target, owner, bucket)) === 'BucketOwnerEnforced') {
          throw s3Error(ctx, 400, 'AccessControlListNotSupported', 'The bucket does not allow ACLs');
        }
        // BlockPublicAcls (bucket's or account's): PutBucketAcl and PutObjectAcl fail if the ACL is
        // public, PUT Object calls if the request includes a public ACL.
        if (publicAclRequested(call.params) && (await s3.publicAccessBlock(owner, bucket)).BlockPublicAcls) {
          throw s3Error(ctx, 403, 'AccessDenied', 'Access Denied');
        }
      }
    },

    async after(ctx) {
      const { cred, call } = ctx;
      const bucket = String(call.params['Bucket'] ?? '');
      if (call.operation === 'CreateBucket') {
        s3.bucketOwners.set(bucket, cred.account);
        if (creating.has(ctx)) await applyNewBucketDefaults(s3.target, cred.account, bucket, call.params);
      }
      if (call.operation === 'DeleteBucket') s3.bucketOwners.delete(bucket);
      if (['CreateBucket', 'DeleteBucket', 'PutPublicAccessBlock', 'DeletePublicAccessBlock'].includes(call.operation)) {
        s3.forgetPublicAccessBlock(s3.bucketOwners.get(bucket) ?? cred.account, bucket);
      }
      if (['PutBucketPolicy', 'DeleteBucketPolicy', 'DeleteBucket'].includes(call.operation)) {
        s3.policies.invalidateBucket(cred.account, bucket);
      }
    },
  };
}
