// Contoso Pay's quarantine responder (reference). Invoked by an EventBridge rule on Macie sensitive
// data findings. Card or personal data found where it must not be (the buckets in WATCHED_BUCKETS:
// staging and the support logs) is copied to the quarantine bucket under <source bucket>/<key> and
// deleted where it was. Findings on other buckets (customer data, where it belongs; the partner's
// exports) are left alone. Configuration comes from the function's environment (set by solution.ts).
import { S3Client, CopyObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';

// AWS_ENDPOINT_URL and the role's credentials come from the function's environment, as on AWS.
const s3 = new S3Client({ forcePathStyle: true });
const QUARANTINE_BUCKET = process.env.QUARANTINE_BUCKET;
const WATCHED = (process.env.WATCHED_BUCKETS ?? '').split(',').filter(Boolean);

/** CopySource is "<bucket>/<key>" with the key URL-encoded (slashes kept). */
const copySource = (bucket, key) => `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;

export const handler = async (event) => {
  // EventBridge's envelope: the finding is the detail.
  const finding = event?.detail ?? {};
  const bucket = finding.resourcesAffected?.s3Bucket?.name;
  const key = finding.resourcesAffected?.s3Object?.key;
  if (!String(finding.type ?? '').startsWith('SensitiveData') || !bucket || !key) {
    console.log(`ignored: not a sensitive data finding on an S3 object (${finding.type ?? event?.['detail-type']})`);
    return { ignored: true };
  }
  if (!WATCHED.includes(bucket)) {
    console.log(`ignored: ${finding.type} on s3://${bucket}/${key} (not a bucket this responder watches)`);
    return { ignored: true };
  }
  const target = `${bucket}/${key}`;
  await s3.send(new CopyObjectCommand({ Bucket: QUARANTINE_BUCKET, Key: target, CopySource: copySource(bucket, key) }));
  try {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  } catch (e) {
    console.log(`copied s3://${bucket}/${key} to s3://${QUARANTINE_BUCKET}/${target} but could not delete the original: ${e.name}`);
    throw e;
  }
  console.log(`quarantined s3://${bucket}/${key} → s3://${QUARANTINE_BUCKET}/${target} (${finding.type}, severity ${finding.severity?.description}, finding ${finding.id})`);
  return { quarantined: `s3://${QUARANTINE_BUCKET}/${target}`, from: `s3://${bucket}/${key}`, findingId: finding.id };
};
