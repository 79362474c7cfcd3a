// Lab advanced-ledger (slide 16, "lab advanced, part 2"): a tamper-evident audit trail for data access
// and modification. A Lambda feed appends every CloudTrail data event on the customer records and every
// app audit event to an RFC 9162 Merkle log kept as C2SP tlog-tiles in S3, signs checkpoints with a KMS
// key no administrator can use, gets them cosigned by a witness in another account and anchors them in
// an Object Lock bucket. Graded on a quiet period (nothing missed, nothing late, the controls behave) and
// on an administrator's attempts to hide what they did (GRADING.md).
import { fileURLToPath } from 'node:url';
import type { Lab } from '../../src/engine/types.ts';
import { ledgerAttacks } from '../../scenarios/lib/ledger.ts';
import { provisionLedger } from './provision.ts';
import { checks } from './checks.ts';
import { parseApplyOutput } from './env.ts';
import { appMinute, MINUTE } from './company.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export const lab: Lab = {
  id: 'advanced-ledger',
  slide: 16,
  title: 'A tamper-evident audit ledger: Merkle log, KMS signatures, a witness and Object Lock anchors',
  summary: 'Keep a record of every access to Northwind\'s customer records that even an administrator cannot rewrite unnoticed: an append-only Merkle log fed by CloudTrail and the app\'s own audit events, checkpoints signed with a KMS key only the ledger may use, cosigned by a witness in another account and anchored where nobody can delete them.',
  objectives: [
    'A Lambda feed that turns CloudTrail data events and app audit events into ledger entries, appended to an RFC 9162 Merkle log in S3 (C2SP tlog-tiles), without forking it when deliveries run at once',
    'Checkpoints (C2SP tlog-checkpoint, signed notes) signed with a KMS ECC key whose policy no administrator can use or change',
    'A witness in a separate account that cosigns a checkpoint only when it is consistent with what it cosigned before (C2SP tlog-witness, tlog-cosignature)',
    'Every cosigned checkpoint anchored in an S3 Object Lock bucket (COMPLIANCE): not even the account\'s root can delete it',
    'Trust roots an auditor can pin, and an audit that finds edited, deleted, reordered, truncated or forked history',
  ],
  workbook: here('./workbook.md'),
  starter: here('./starter'),
  tasks: [
    {
      id: 'feed', title: 'The feed: CloudTrail and app events into the ledger',
      hints: [
        'One function, env.names.feedFunction, with the role env.names.ledgerRole; lambda AddPermission for logs.amazonaws.com per log group (SourceArn `arn:aws:logs:<region>:<account>:log-group:<group>:*`), then PutSubscriptionFilter on env.trail.logGroup and on env.company.app.logGroup with the function\'s ARN.',
        'In the handler: decodeSubscription(event) → entriesFromSubscription(batch) gives LedgerEntry records (CloudTrail ones carry source.eventID, app ones source.id) → Ledger.open(new S3Store({ client, bucket: env.ledgerBucket, prefix: \'log/\' }), { origin: env.origin }) → ledger.append(entries.map(encodeEntry)) → ledger.checkpoint([signer]).',
        'The trail\'s log group gets every management event too, including your feed\'s own kms:Sign: a subscription filter that passes it invokes the feed again on every delivery. Filter it out (a JSON filter pattern such as `{ ($.eventSource = "s3.amazonaws.com" && $.eventCategory = "Data") || ($.eventSource = "cloudtrail.amazonaws.com") }` — the feed\'s own ListObjectsV2 is an S3 management event), but keep what the audit needs: S3 data events and trail changes (StopLogging, DeleteTrail, PutEventSelectors).',
        'Deliveries run at the same time (each log group, each PutLogEvents is an invocation of its own). Two appends from the same size write different tiles at the same paths: a fork you made yourself. Serialize: take a lock with an S3 conditional write (PutObject with IfNoneMatch: \'*\' fails with 412 while someone holds it), and park entries you could not append under a prefix of their own for the next holder.',
        'The role needs s3:GetObject/PutObject/DeleteObject/ListBucket on the ledger bucket, kms:Sign on the key, sts:AssumeRole on the witness role, s3:PutObject on the anchors — nothing else.',
        'The grader checks that every S3 data event on the data bucket and every app audit event of a 30-minute quiet period is in the ledger within 10 minutes of lab time.',
      ],
    },
    {
      id: 'signing', title: 'A KMS key only the ledger may sign with, and nobody can take away',
      hints: [
        'CreateKey with KeySpec ECC_NIST_P256 and KeyUsage SIGN_VERIFY; kmsSigner(kms, keyArn, env.origin) from seclab/kit/ledger signs checkpoints with it (c2sp signed-note key type 0x02, named with the origin).',
        'Create the ledger role first: the key policy names it. Allow the ledger role kms:Sign; allow the account only what reads the key (DescribeKey, GetPublicKey, GetKeyPolicy…). A statement giving the account\'s root kms:* would let every administrator\'s IAM policy (ops-admin has AdministratorAccess) Sign too.',
        'Deny PutKeyPolicy and ScheduleKeyDeletion to Principal {"AWS": "*"}: then nobody can loosen the policy or destroy the key (CreateKey needs BypassPolicyLockoutSafetyCheck: true for such a policy).',
        'The grader derives the log key itself from KMS GetPublicKey of the key apply() names: it must be a key of the run account.',
      ],
    },
    {
      id: 'witness', title: 'A witness in the other account',
      hints: [
        'Build it during apply() through the witness account\'s deploy role (STS AssumeRole env.witnessAccount.deployRoleArn with the deployer\'s key; the grader closes that door when apply() returns): a state bucket, a function env.names.witnessFunction whose handler is witnessHandler(new Witness({ skey, store: new S3Store({ … state bucket … }), logs: [{ origin: env.origin, vkeys: [logVkey] }], now: () => Date.now() })).',
        'generateEd25519Key(name) makes the witness\'s key; give the function the skey (its environment), and return cosignatureVkey(vkey) as witness.vkey.',
        'A role env.names.witnessInvokerRole in the witness account that the ledger role may assume (trust policy naming the ledger role\'s ARN) and that may lambda:InvokeFunction the witness. The feed assumes it and invokes the witness with { body: addCheckpointRequest(oldSize, proof, note) }.',
        'Old size: what the witness cosigned last. On 409 the body is the witness\'s size: compute ledger.consistencyProof(thatSize) and ask again. On 200 add the cosignature lines to the note (addSignatures) and store it as the checkpoint.',
        'The grader asks your witness to cosign the current checkpoint, and to accept a log-signed checkpoint with a bogus consistency proof: it must refuse that (422).',
      ],
    },
    {
      id: 'anchor', title: 'Anchors nobody can delete',
      hints: [
        'CreateBucket with ObjectLockEnabledForBucket: true, then PutObjectLockConfiguration with a DefaultRetention in COMPLIANCE mode (GOVERNANCE can be bypassed by an administrator).',
        'The feed puts every cosigned checkpoint there, one object per size (e.g. checkpoints/000000000042).',
        'Put env.ledgerBucket under the same COMPLIANCE default retention (PutObjectLockConfiguration on the existing versioned bucket): deleting a bundle then only adds a delete marker, and its version stays as evidence.',
        'The grader tries to delete an anchor version as the account\'s root: COMPLIANCE refuses even that.',
      ],
    },
    {
      id: 'audit', title: 'Trust roots for the auditor',
      hints: [
        'apply() returns { origin, ledger: { bucket, prefix }, keyId, logVkey, witness: { accountId, functionName, roleArn, vkey }, anchor: { bucket, prefix }, feed: { functionName } }.',
        'The grader pins only what it can check: the log key from KMS, the witness key only if the witness function in the witness account cosigns with it and refuses an inconsistent checkpoint.',
        'Run `seclab ledger audit` (docs/ledger.md) against your bucket with those keys: an untouched ledger must report nothing.',
      ],
    },
  ],
  provision: provisionLedger,
  studentSteps: [{ export: 'apply', parse: parseApplyOutput }],
  checks,
  scenarios: ledgerAttacks,
  /** `seclab simulate`: the app's normal work, a minute at a time (CloudTrail delivers, the feed runs). */
  async normalActivity(session, minutes, onMinute) {
    for (let m = 1; m <= minutes; m++) {
      await appMinute(session);
      onMinute?.(m);
    }
    return {};
  },
};

export { MINUTE };
