// S3 in the gateway: bucket policies are read for authorization; drop the cached one when it changes.
import type { ServiceExtension } from '../../gateway/extension.ts';

export const s3Extension: ServiceExtension = {
  service: 's3',
  async after({ gateway, cred, call }) {
    const bucket = String(call.params['Bucket'] ?? '');
    if (call.operation === 'CreateBucket') gateway.bucketOwners.set(bucket, cred.account);
    if (call.operation === 'DeleteBucket') gateway.bucketOwners.delete(bucket);
    if (['PutBucketPolicy', 'DeleteBucketPolicy', 'DeleteBucket'].includes(call.operation)) {
      gateway.policies.invalidateBucket(cred.account, String(call.params['Bucket'] ?? ''));
    }
  },
};
