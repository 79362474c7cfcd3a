// Reference solution of lab advanced-ledger (slide 16, part 2). Shown to a student only after they pass.
// 1. signing: a KMS key (ECC_NIST_P256, SIGN_VERIFY) whose key policy lets only the ledger role Sign and
//    denies everyone PutKeyPolicy and ScheduleKeyDeletion — ops-admin's AdministratorAccess included;
// 2. witness: in the witness account, a Witness function with its own Ed25519 key and state bucket, and
//    a role the ledger role may assume to invoke it;
// 3. anchor: a bucket with Object Lock, COMPLIANCE default retention, for every cosigned checkpoint (and
//    the ledger bucket under the same lock: a deleted tile or bundle keeps its version);
// 4. feed: the ledger-feed function (role `ledger`) fed by subscription filters on the trail's log group
//    and the app's audit log group; it appends, signs, gets the cosignature and anchors (feed/index.mjs);
// 5. audit: apply() returns where everything is and the trust roots, which the grader checks.
import { CloudWatchLogsClient, PutSubscriptionFilterCommand } from '@aws-sdk/client-cloudwatch-logs';
import { IAMClient, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { KMSClient, CreateKeyCommand, CreateAliasCommand } from '@aws-sdk/client-kms';
import { LambdaClient, AddPermissionCommand, CreateFunctionCommand, PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import { S3Client, CreateBucketCommand, PutBucketVersioningCommand, PutObjectLockConfigurationCommand, PutPublicAccessBlockCommand } from '@aws-sdk/client-s3';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import { zipDir, type LabInput } from 'seclab/kit';
import { cosignatureVkey, generateEd25519Key, kmsSigner } from 'seclab/kit/ledger';

interface Env {
  origin: string;
  company: { dataBucket: string; app: { logGroup: string } };
  trail: { logGroup: string };
  ledgerBucket: string;
  witnessAccount: { accountId: string; deployRoleArn: string; deployer: { accessKeyId: string; secretAccessKey: string } };
  names: { feedFunction: string; ledgerRole: string; keyAlias: string; witnessFunction: string; witnessInvokerRole: string };
}

const LEDGER_PREFIX = 'log/';
const ANCHOR_PREFIX = 'checkpoints/';
/** How long an anchored checkpoint cannot be deleted by anyone (the company's audit retention). */
const ANCHOR_RETENTION_DAYS = 400;
/**
 * What the feed must log from the trail: every S3 data event (the trail selects the data bucket's
 * only), what changes the trail or the ledger key, and nothing the feed itself causes: its kms:Sign,
 * sts:AssumeRole and the ledger bucket's ListObjectsV2 (an S3 management event) would invoke it again
 * on every delivery, for ever.
 */
const TRAIL_FILTER = '{ ($.eventSource = "s3.amazonaws.com" && $.eventCategory = "Data") || ($.eventSource = "cloudtrail.amazonaws.com") || ($.eventSource = "kms.amazonaws.com" && $.eventName != "Sign" && $.eventName != "GetPublicKey" && $.eventName != "DescribeKey") || ($.eventSource = "iam.amazonaws.com") || ($.eventSource = "lambda.amazonaws.com") }';

const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const BLOCK_ALL = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };

export async function apply({ accountId, region, env }: LabInput<Env>) {
  const iam = new IAMClient({});
  const kms = new KMSClient({});
  const s3 = new S3Client({ forcePathStyle: true });
  const lambda = new LambdaClient({});
  const logs = new CloudWatchLogsClient({});
  // The witness account, through the deploy role (the only way in; it closes when apply() returns).
  const deployer = new STSClient({ credentials: { accessKeyId: env.witnessAccount.deployer.accessKeyId, secretAccessKey: env.witnessAccount.deployer.secretAccessKey } });
  const c = (await deployer.send(new AssumeRoleCommand({ RoleArn: env.witnessAccount.deployRoleArn, RoleSessionName: 'build-witness' }))).Credentials!;
  const w = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
  const wIam = new IAMClient({ credentials: w });
  const wS3 = new S3Client({ forcePathStyle: true, credentials: w });
  const wLambda = new LambdaClient({ credentials: w });
  const n = env.names;
  const arn = (service: string, resource: string, account = accountId) => `arn:aws:${service}:${region}:${account}:${resource}`;
  const ledgerRoleArn = `arn:aws:iam::${accountId}:role/${n.ledgerRole}`;
  const invokerRoleArn = `arn:aws:iam::${env.witnessAccount.accountId}:role/${n.witnessInvokerRole}`;
  const anchorBucket = `${env.ledgerBucket}-anchors`;
  const ownLogs = (fn: string, account = accountId) => ({
    Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: [arn('logs', `log-group:/aws/lambda/${fn}`, account), arn('logs', `log-group:/aws/lambda/${fn}:*`, account)],
  });

  // ---- the ledger role first: the key policy names it ----
  await iam.send(new CreateRoleCommand({
    RoleName: n.ledgerRole, Description: 'the audit ledger feed',
    AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]),
  }));

  // ---- 1. signing: only the ledger role signs; nobody changes the policy or deletes the key ----
  const key = (await kms.send(new CreateKeyCommand({
    KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Description: 'Northwind audit ledger checkpoints',
    BypassPolicyLockoutSafetyCheck: true,
    Policy: doc([
      // The account (and through IAM its administrators) may read the key, never use it to sign.
      { Sid: 'AccountReads', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: ['kms:DescribeKey', 'kms:GetPublicKey', 'kms:GetKeyPolicy', 'kms:ListResourceTags', 'kms:Verify', 'kms:CreateAlias'], Resource: '*' },
      { Sid: 'LedgerSigns', Effect: 'Allow', Principal: { AWS: ledgerRoleArn }, Action: ['kms:Sign', 'kms:GetPublicKey', 'kms:DescribeKey'], Resource: '*' },
      // In AWS, moving or deleting the alias needs kms:UpdateAlias / kms:DeleteAlias on this key too.
      { Sid: 'Immutable', Effect: 'Deny', Principal: { AWS: '*' }, Action: ['kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:CreateGrant', 'kms:UpdateAlias', 'kms:DeleteAlias'], Resource: '*' },
    ]),
  }))).KeyMetadata!;
  await kms.send(new CreateAliasCommand({ AliasName: n.keyAlias, TargetKeyId: key.KeyId! }));
  const logVkey = (await kmsSigner(kms, key.Arn!, env.origin)).vkey;

  // ---- 3. anchors: Object Lock, COMPLIANCE ----
  await s3.send(new CreateBucketCommand({ Bucket: anchorBucket, ObjectLockEnabledForBucket: true }));
  await s3.send(new PutPublicAccessBlockCommand({ Bucket: anchorBucket, PublicAccessBlockConfiguration: BLOCK_ALL }));
  await s3.send(new PutObjectLockConfigurationCommand({
    Bucket: anchorBucket,
    ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: ANCHOR_RETENTION_DAYS } } },
  }));

  // The ledger bucket too: its tiles and bundles are written once, so locking every version costs
  // nothing and keeps what an administrator deletes (a delete marker hides a version, never removes it).
  await s3.send(new PutObjectLockConfigurationCommand({
    Bucket: env.ledgerBucket,
    ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: ANCHOR_RETENTION_DAYS } } },
  }));

  // ---- 2. the witness, in the witness account ----
  const witnessKey = generateEd25519Key(`witness.northwind.example/${env.witnessAccount.accountId}`);
  const stateBucket = `northwind-witness-state-${env.witnessAccount.accountId}`;
  await wS3.send(new CreateBucketCommand({ Bucket: stateBucket }));
  await wS3.send(new PutBucketVersioningCommand({ Bucket: stateBucket, VersioningConfiguration: { Status: 'Enabled' } }));
  await wS3.send(new PutPublicAccessBlockCommand({ Bucket: stateBucket, PublicAccessBlockConfiguration: BLOCK_ALL }));
  const witnessRole = (await wIam.send(new CreateRoleCommand({
    RoleName: 'ledger-witness-function', Description: 'the witness keeps its state',
    AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]),
  }))).Role!;
  await wIam.send(new PutRolePolicyCommand({
    RoleName: 'ledger-witness-function', PolicyName: 'state',
    PolicyDocument: doc([
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${stateBucket}/*` },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${stateBucket}` },
      ownLogs(n.witnessFunction, env.witnessAccount.accountId),
    ]),
  }));
  const witnessFn = (await wLambda.send(new CreateFunctionCommand({
    FunctionName: n.witnessFunction, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: witnessRole.Arn!, Timeout: 30, MemorySize: 256,
    Code: { ZipFile: zipDir(new URL('./witness/', import.meta.url)) },
    Environment: { Variables: { WITNESS_SKEY: witnessKey.skey, STATE_BUCKET: stateBucket, LOG_ORIGIN: env.origin, LOG_VKEY: logVkey } },
  })));
  // One instance at a time: two racing instances could each cosign a different view of the same size
  // (the Witness's compare-and-swap on its state refuses the loser too; this keeps the race from happening).
  await wLambda.send(new PutFunctionConcurrencyCommand({ FunctionName: n.witnessFunction, ReservedConcurrentExecutions: 1 }));
  await wIam.send(new CreateRoleCommand({
    RoleName: n.witnessInvokerRole, Description: 'the company\'s ledger asks the witness to cosign',
    AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: ledgerRoleArn }, Action: 'sts:AssumeRole' }]),
  }));
  await wIam.send(new PutRolePolicyCommand({
    RoleName: n.witnessInvokerRole, PolicyName: 'invoke-witness',
    PolicyDocument: doc([{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: witnessFn.FunctionArn! }]),
  }));

  // ---- 4. the feed ----
  await iam.send(new PutRolePolicyCommand({
    RoleName: n.ledgerRole, PolicyName: 'ledger',
    PolicyDocument: doc([
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: `arn:aws:s3:::${env.ledgerBucket}/*` },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${env.ledgerBucket}` },
      { Effect: 'Allow', Action: 's3:PutObject', Resource: `arn:aws:s3:::${anchorBucket}/${ANCHOR_PREFIX}*` },
      { Effect: 'Allow', Action: ['kms:Sign', 'kms:GetPublicKey'], Resource: key.Arn! },
      { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: invokerRoleArn },
      ownLogs(n.feedFunction),
    ]),
  }));
  const feed = await lambda.send(new CreateFunctionCommand({
    FunctionName: n.feedFunction, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ledgerRoleArn, Timeout: 60, MemorySize: 512,
    Code: { ZipFile: zipDir(new URL('./feed/', import.meta.url)) },
    Environment: {
      Variables: {
        LEDGER_BUCKET: env.ledgerBucket, LEDGER_PREFIX, ORIGIN: env.origin, KEY_ID: key.Arn!,
        WITNESS_ROLE_ARN: invokerRoleArn, WITNESS_FUNCTION: n.witnessFunction, ANCHOR_BUCKET: anchorBucket, ANCHOR_PREFIX,
      },
    },
  }));
  for (const [group, filterPattern] of [[env.trail.logGroup, TRAIL_FILTER], [env.company.app.logGroup, '']] as const) {
    await lambda.send(new AddPermissionCommand({
      FunctionName: n.feedFunction, StatementId: `logs-${group.replace(/[^A-Za-z0-9]/g, '-')}`, Action: 'lambda:InvokeFunction',
      Principal: 'logs.amazonaws.com', SourceArn: arn('logs', `log-group:${group}:*`), SourceAccount: accountId,
    }));
    await logs.send(new PutSubscriptionFilterCommand({ logGroupName: group, filterName: 'audit-ledger', filterPattern, destinationArn: feed.FunctionArn! }));
  }

  // ---- 5. where everything is, and the trust roots (the grader checks each against the cloud) ----
  return {
    origin: env.origin,
    ledger: { bucket: env.ledgerBucket, prefix: LEDGER_PREFIX },
    keyId: key.Arn!,
    logVkey,
    witness: { accountId: env.witnessAccount.accountId, functionName: n.witnessFunction, roleArn: invokerRoleArn, vkey: cosignatureVkey(witnessKey.vkey) },
    anchor: { bucket: anchorBucket, prefix: ANCHOR_PREFIX },
    feed: { functionName: n.feedFunction },
  };
}
