// The ledger's witness — your function, in the witness account. Event { body: <c2sp tlog-witness
// add-checkpoint request> } → { statusCode, headers: { 'content-type' }, body }.
// import { S3Client } from '@aws-sdk/client-s3';
// import { S3Store, Witness, witnessHandler } from 'seclab/kit/ledger';

export async function handler(event) {
  // TODO: a Witness with its key (skey), its state in its own bucket, and the log it trusts (origin and
  //       the log's vkey): cosign only checkpoints consistent with what it cosigned before.
  void event;
  return { statusCode: 501, headers: { 'content-type': 'text/plain' }, body: 'not implemented\n' };
}
