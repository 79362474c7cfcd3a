// Builds Northwind as the student finds it in lab advanced-ledger: customer records in a data bucket,
// the application's IAM user and its audit log group, a CloudTrail trail (management events and S3 data
// events on the data bucket, log file validation, delivery to a versioned trail bucket and to a
// CloudWatch Logs group), an empty versioned bucket for the ledger, the administrator ops-admin (whose
// key only the grader holds) and a second account for the witness. No ledger, no key, no witness.
import {
  IAMClient, CreateUserCommand, PutUserPolicyCommand, CreateAccessKeyCommand, AttachUserPolicyCommand, CreateRoleCommand, PutRolePolicyCommand,
  AttachRolePolicyCommand, DeleteAccessKeyCommand, UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CloudTrailClient, CreateTrailCommand, PutEventSelectorsCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { S3Client, CreateBucketCommand, PutObjectCommand, PutPublicAccessBlockCommand, PutBucketVersioningCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import type { LabSession } from '../../src/engine/session.ts';
import {
  APP_LOG_GROUP, APP_USER, FEED_FUNCTION, HIDDEN_KEY, KEY_ALIAS, LEDGER_ROLE, MAX_LAG_MS, OPS_ADMIN, QUIET_MINUTES, RECORDS_PREFIX,
  TRAIL_LOG_GROUP, TRAIL_LOG_ROLE, TRAIL_NAME, WITNESS_DEPLOY_ROLE, WITNESS_DEPLOYER, WITNESS_FUNCTION, WITNESS_INVOKER_ROLE,
  ledgerEnv, ledgerHidden, type LedgerHidden, type LedgerLabEnv,
} from './env.ts';
import { APP_STREAM, customerRecords } from './company.ts';

const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const BLOCK_ALL = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };

export async function provisionLedger(session: LabSession): Promise<LedgerLabEnv & Record<string, unknown>> {
  const account = session.accountId;
  const region = session.cloud.region;
  const id = session.runId;
  const iam = session.client(IAMClient);
  const s3 = session.client(S3Client);
  const logs = session.client(CloudWatchLogsClient);
  const trail = session.client(CloudTrailClient);
  const buckets = { data: `northwind-customer-records-${id}`, trail: `northwind-cloudtrail-${id}`, ledger: `northwind-audit-ledger-${id}` };

  const bucket = async (name: string, versioned: boolean) => {
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: name, PublicAccessBlockConfiguration: BLOCK_ALL }));
    if (versioned) await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
  };
  await Promise.all([bucket(buckets.data, true), bucket(buckets.trail, true), bucket(buckets.ledger, true)]);

  // ---- customer records ----
  const records = customerRecords(session.seed);
  await Promise.all(records.map((r) => s3.send(new PutObjectCommand({ Bucket: buckets.data, Key: r.key, Body: r.body, ContentType: 'application/json' }))));

  // ---- the application: its own user and audit log group ----
  await logs.send(new CreateLogGroupCommand({ logGroupName: APP_LOG_GROUP }));
  await logs.send(new CreateLogStreamCommand({ logGroupName: APP_LOG_GROUP, logStreamName: APP_STREAM }));
  await iam.send(new CreateUserCommand({ UserName: APP_USER, Tags: [{ Key: 'team', Value: 'platform' }] }));
  await iam.send(new PutUserPolicyCommand({
    UserName: APP_USER, PolicyName: 'customer-records',
    PolicyDocument: doc([
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${buckets.data}/${RECORDS_PREFIX}*` },
      { Effect: 'Allow', Action: ['logs:PutLogEvents', 'logs:CreateLogStream'], Resource: [`arn:aws:logs:${region}:${account}:log-group:${APP_LOG_GROUP}`, `arn:aws:logs:${region}:${account}:log-group:${APP_LOG_GROUP}:*`] },
    ]),
  }));
  const appKey = (await iam.send(new CreateAccessKeyCommand({ UserName: APP_USER }))).AccessKey!;

  // ---- the administrator (the insider) ----
  const admin = (await iam.send(new CreateUserCommand({ UserName: OPS_ADMIN, Tags: [{ Key: 'team', Value: 'operations' }] }))).User!;
  await iam.send(new AttachUserPolicyCommand({ UserName: OPS_ADMIN, PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
  const adminKey = (await iam.send(new CreateAccessKeyCommand({ UserName: OPS_ADMIN }))).AccessKey!;

  // ---- CloudTrail: to the trail bucket and to CloudWatch Logs ----
  const trailArn = `arn:aws:cloudtrail:${region}:${account}:trail/${TRAIL_NAME}`;
  await s3.send(new PutBucketPolicyCommand({
    Bucket: buckets.trail,
    Policy: doc([
      { Sid: 'AWSCloudTrailAclCheck', Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:GetBucketAcl', Resource: `arn:aws:s3:::${buckets.trail}`, Condition: { StringEquals: { 'aws:SourceArn': trailArn } } },
      { Sid: 'AWSCloudTrailWrite', Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${buckets.trail}/AWSLogs/${account}/*`, Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceArn': trailArn } } },
    ]),
  }));
  const group = await logs.send(new CreateLogGroupCommand({ logGroupName: TRAIL_LOG_GROUP })).then(() => `arn:aws:logs:${region}:${account}:log-group:${TRAIL_LOG_GROUP}:*`);
  const logsRole = (await iam.send(new CreateRoleCommand({
    RoleName: TRAIL_LOG_ROLE, Description: 'CloudTrail delivers to CloudWatch Logs',
    AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 'sts:AssumeRole' }]),
  }))).Role!;
  await iam.send(new PutRolePolicyCommand({
    RoleName: TRAIL_LOG_ROLE, PolicyName: 'deliver',
    PolicyDocument: doc([{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: group }]),
  }));
  await trail.send(new CreateTrailCommand({
    Name: TRAIL_NAME, S3BucketName: buckets.trail, IsMultiRegionTrail: true, IncludeGlobalServiceEvents: true, EnableLogFileValidation: true,
    CloudWatchLogsLogGroupArn: group, CloudWatchLogsRoleArn: logsRole.Arn!,
  }));
  await trail.send(new PutEventSelectorsCommand({
    TrailName: TRAIL_NAME,
    EventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: true, DataResources: [{ Type: 'AWS::S3::Object', Values: [`arn:aws:s3:::${buckets.data}/`] }] }],
  }));
  await trail.send(new StartLoggingCommand({ Name: TRAIL_NAME }));

  // ---- the witness's account, and the one way into it while apply() runs ----
  const witness = session.cloud.createAccount();
  const wCreds = { accessKeyId: witness.accessKeyId, secretAccessKey: witness.secretAccessKey };
  const wIam = session.client(IAMClient, { credentials: wCreds });
  const deployRoleArn = `arn:aws:iam::${witness.accountId}:role/${WITNESS_DEPLOY_ROLE}`;
  const deployer = (await iam.send(new CreateUserCommand({ UserName: WITNESS_DEPLOYER, Tags: [{ Key: 'purpose', Value: 'builds the ledger witness in its account; key deleted after setup' }] }))).User!;
  await iam.send(new PutUserPolicyCommand({ UserName: WITNESS_DEPLOYER, PolicyName: 'deploy-witness', PolicyDocument: doc([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: deployRoleArn }]) }));
  const deployerKey = (await iam.send(new CreateAccessKeyCommand({ UserName: WITNESS_DEPLOYER }))).AccessKey!;
  await wIam.send(new CreateRoleCommand({
    RoleName: WITNESS_DEPLOY_ROLE, Description: 'the company builds its ledger witness (during setup only)',
    AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: deployer.Arn! }, Action: 'sts:AssumeRole' }]),
  }));
  await wIam.send(new AttachRolePolicyCommand({ RoleName: WITNESS_DEPLOY_ROLE, PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
  const witnessAccount: LedgerLabEnv['witnessAccount'] = {
    accountId: witness.accountId, deployRoleArn,
    deployer: { userName: WITNESS_DEPLOYER, accessKeyId: deployerKey.AccessKeyId!, secretAccessKey: deployerKey.SecretAccessKey! },
  };

  const hidden: LedgerHidden = {
    opsAdmin: { userName: OPS_ADMIN, accessKeyId: adminKey.AccessKeyId!, secretAccessKey: adminKey.SecretAccessKey! },
    app: { userName: APP_USER, accessKeyId: appKey.AccessKeyId!, secretAccessKey: appKey.SecretAccessKey! },
    witnessAccount: { accountId: witness.accountId, ...wCreds },
    records: records.map((r) => r.key),
  };
  session.hidden[HIDDEN_KEY] = hidden;

  const env: LedgerLabEnv = {
    accountId: account,
    region,
    origin: `northwind.example/audit-ledger/${account}`,
    company: { dataBucket: buckets.data, recordsPrefix: RECORDS_PREFIX, app: { userName: APP_USER, logGroup: APP_LOG_GROUP } },
    trail: { name: TRAIL_NAME, arn: trailArn, bucket: buckets.trail, logGroup: TRAIL_LOG_GROUP },
    ledgerBucket: buckets.ledger,
    opsAdmin: { userName: OPS_ADMIN, arn: admin.Arn! },
    witnessAccount,
    names: { feedFunction: FEED_FUNCTION, ledgerRole: LEDGER_ROLE, keyAlias: KEY_ALIAS, witnessFunction: WITNESS_FUNCTION, witnessInvokerRole: WITNESS_INVOKER_ROLE },
    quiet: { minutes: QUIET_MINUTES, maxLagMs: MAX_LAG_MS },
  };
  return { ...env };
}

/**
 * Closes the way into the witness account once apply() has returned: the deployer's keys deleted (run
 * account), the deploy role trusting nobody (witness account). Idempotent; the grader calls it first.
 */
export async function closeWitnessSetup(session: LabSession): Promise<void> {
  const key = 'advanced-ledger-witness-closed';
  if (session.hidden[key]) return;
  session.hidden[key] = true;
  const env = ledgerEnv(session);
  const w = ledgerHidden(session).witnessAccount;
  const iam = session.client(IAMClient);
  await iam.send(new DeleteAccessKeyCommand({ UserName: env.witnessAccount.deployer.userName, AccessKeyId: env.witnessAccount.deployer.accessKeyId })).catch(() => undefined);
  const wIam = session.client(IAMClient, { credentials: { accessKeyId: w.accessKeyId, secretAccessKey: w.secretAccessKey } });
  await wIam.send(new UpdateAssumeRolePolicyCommand({
    RoleName: WITNESS_DEPLOY_ROLE,
    PolicyDocument: doc([{ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }]),
  })).catch(() => undefined);
}
