// Lab advanced-ledger (slide 16, part 2) — your solution. `seclab check advanced-ledger` provisions
// Northwind (customer records, the app and its audit log, a CloudTrail trail into a bucket and a log
// group, an empty versioned ledger bucket, the administrator ops-admin, and a second account for the
// witness), runs apply(), lets the app work for half an hour of lab time, checks what your ledger holds
// and how your controls behave, then lets ops-admin try to hide what they did. Read the workbook:
// `seclab start advanced-ledger`. apply() runs with the run account's root credentials in the environment
// (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID...), so `new S3Client({})` just works; for the witness account
// assume env.witnessAccount.deployRoleArn with the deployer's key and pass those credentials explicitly.
// import { IAMClient, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
// import { KMSClient, CreateKeyCommand, CreateAliasCommand } from '@aws-sdk/client-kms';
// import { LambdaClient, CreateFunctionCommand, AddPermissionCommand } from '@aws-sdk/client-lambda';
// import { CloudWatchLogsClient, PutSubscriptionFilterCommand } from '@aws-sdk/client-cloudwatch-logs';
// import { S3Client, CreateBucketCommand, PutObjectLockConfigurationCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
// import { zipDir } from 'seclab/kit';                 zipDir(new URL('./feed/', import.meta.url))
// import { kmsSigner, generateEd25519Key, cosignatureVkey } from 'seclab/kit/ledger';
import type { LabInput } from 'seclab/kit';

interface Env {
  accountId: string;
  region: string;
  /** The checkpoint origin your ledger must use (and the name of the log key in signed notes). */
  origin: string;
  company: {
    /** Customer records (customers/<id>.json). */
    dataBucket: string;
    recordsPrefix: string;
    /** The app (IAM user) writes one JSON audit event per access to this log group: { id, time, actor, action, record, outcome }. */
    app: { userName: string; logGroup: string };
  };
  /** Management events and S3 data events on the data bucket: to a versioned bucket and to a log group. */
  trail: { name: string; arn: string; bucket: string; logGroup: string };
  /** Versioned, empty: put the ledger here (tiles, entry bundles, checkpoint). */
  ledgerBucket: string;
  /** The administrator (AdministratorAccess) the ledger must hold to account. */
  opsAdmin: { userName: string; arn: string };
  /**
   * Another account, for the witness. Your code may use only the run account's keys; the way in is the
   * role deployRoleArn (AdministratorAccess there), which the user `deployer` (its key here) may assume.
   * The grader closes it when apply() returns: build everything of the witness in apply().
   */
  witnessAccount: { accountId: string; deployRoleArn: string; deployer: { userName: string; accessKeyId: string; secretAccessKey: string } };
  /** The names the grader looks for. */
  names: { feedFunction: string; ledgerRole: string; keyAlias: string; witnessFunction: string; witnessInvokerRole: string };
  /** The quiet period the grader judges, and how far behind the ledger may fall (lab time). */
  quiet: { minutes: number; maxLagMs: number };
}

export async function apply({ accountId, region, env }: LabInput<Env>) {
  // TODO 1 (signing): the ledger role, then a KMS key (ECC_NIST_P256, SIGN_VERIFY) only that role may Sign
  //   with, whose policy nobody may change and which nobody may schedule for deletion.
  // TODO 2 (witness): in env.witnessAccount: a state bucket, the witness function (witness/index.mjs)
  //   with its Ed25519 key, and env.names.witnessInvokerRole that the ledger role may assume to invoke it.
  // TODO 3 (anchor): a bucket with Object Lock and a COMPLIANCE default retention.
  // TODO 4 (feed): the feed function (feed/index.mjs) with the ledger role, subscribed to env.trail.logGroup
  //   and env.company.app.logGroup.
  // TODO 5 (audit): return where everything is and the trust roots.
  void accountId; void region;
  return {
    origin: env.origin,
    ledger: { bucket: env.ledgerBucket, prefix: 'log/' },
    keyId: 'TODO: the signing key\'s ARN',
    witness: { accountId: env.witnessAccount.accountId, functionName: env.names.witnessFunction, roleArn: 'TODO: the invoker role\'s ARN', vkey: 'TODO: cosignatureVkey(witness vkey)' },
    anchor: { bucket: 'TODO: the anchor bucket' },
    feed: { functionName: env.names.feedFunction },
  };
}
