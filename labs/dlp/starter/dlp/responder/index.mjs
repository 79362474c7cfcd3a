// Your quarantine responder: a Lambda function (Node.js 20) that solution.ts deploys. It runs in the lab
// cloud with its execution role's credentials, so it can do exactly what that role allows. The AWS SDK
// v3 is available, as in the real Lambda runtime.
//
// Invoked by an EventBridge rule, the event is { source: 'aws.macie', 'detail-type': 'Macie Finding',
// detail: <the finding> }: detail.type ('SensitiveData:S3Object/Financial'...), and where it was found,
// detail.resourcesAffected.s3Bucket.name and detail.resourcesAffected.s3Object.key.
// import { S3Client, CopyObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';

export const handler = async (event) => {
  const finding = event.detail ?? {};
  console.log(`${finding.type} in s3://${finding.resourcesAffected?.s3Bucket?.name}/${finding.resourcesAffected?.s3Object?.key}`);
  // TODO: where sensitive data must not be (staging, support logs), copy the object to the quarantine
  // bucket and delete it where it was; leave every other bucket alone.
  return { actions: [] };
};
