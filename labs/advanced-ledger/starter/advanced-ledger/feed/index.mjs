// The audit-ledger feed — your function. Subscription filters on the trail's log group and on the app's
// audit log group invoke it with batches of events (event.awslogs.data: gzip + base64).
// import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
// import { KMSClient } from '@aws-sdk/client-kms';
// import { decodeSubscription, entriesFromSubscription, encodeEntry, Ledger, S3Store, kmsSigner, addCheckpointRequest, addSignatures } from 'seclab/kit/ledger';

export async function handler(event) {
  // TODO: decode the batch and turn it into ledger entries.
  // TODO: take the ledger's lock (deliveries run concurrently: two appends from one size fork the log).
  // TODO: append, sign a checkpoint with the KMS key (name: the origin), get the witness's cosignature
  //       (assume the invoker role in the witness account, invoke the witness with { body }), store the
  //       cosigned checkpoint, and put it in the anchor bucket.
  void event;
  return { appended: 0 };
}
