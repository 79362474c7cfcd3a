// Northwind's ledger witness (reference), in the witness account: c2sp tlog-witness add-checkpoint as a
// Lambda function. It cosigns a checkpoint of the ledger's origin only when the log's key signed it and
// a consistency proof shows it extends what it cosigned before; it keeps that (the last cosigned
// checkpoint) in its own bucket, which no one in the company's account can write. Event { body } →
// { statusCode, headers, body }: 200 with the cosignature line, 409 with its size when the caller's
// "old" size is not its own, 422 for a bad proof, 403 for a checkpoint the log's key did not sign.
import { S3Client } from '@aws-sdk/client-s3';
import { S3Store, Witness, witnessHandler } from 'seclab/kit/ledger';

const env = process.env;
const witness = new Witness({
  skey: env.WITNESS_SKEY,
  store: new S3Store({ client: new S3Client({ forcePathStyle: true }), bucket: env.STATE_BUCKET, prefix: 'witness/' }),
  logs: [{ origin: env.LOG_ORIGIN, vkeys: [env.LOG_VKEY] }],
  now: () => Date.now(),
});

export const handler = witnessHandler(witness);
