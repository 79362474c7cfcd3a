// The seclab rules of the bundled pack, each on a hand-made event that should raise it and one that should not
// (shapes follow the AWS API and CloudTrail documentation).
import { describe, expect, it } from 'vitest';
import { SiemEngine } from '../../src/controls/siem/engine.ts';
import { normalizeFlowRecord, normalizeLogEvent, type SiemEvent } from '../../src/controls/siem/events.ts';
import { loadBundledRules } from '../../src/controls/siem/pack.ts';
import { at, ct } from './helpers.ts';

const pack = loadBundledRules();
const titles = (events: SiemEvent[]) => new SiemEngine(pack).run(events).map((a) => a.rule.title);
const ACCOUNT = '111122223333';
const OTHER = '999988887777';

interface Case {
  rule: string;
  hit: SiemEvent[];
  miss: SiemEvent[];
}

const trustPolicy = (principal: unknown) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole' }] });
const times = (n: number, f: (i: number) => SiemEvent) => Array.from({ length: n }, (_, i) => f(i));
const flow = (f: Record<string, unknown>) =>
  normalizeFlowRecord({ version: 2, 'account-id': ACCOUNT, 'interface-id': 'eni-1', protocol: 6, packets: 1, start: 1767225600, end: 1767225660, 'log-status': 'OK', ...f });

const cases: Case[] = [
  {
    rule: 'CloudTrail Logging Stopped or Trail Deleted',
    hit: [ct({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging' })],
    miss: [ct({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging', errorCode: 'AccessDenied' }), ct({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'StartLogging' })],
  },
  {
    rule: 'CloudTrail Event Selectors Reduce What Is Logged',
    hit: [ct({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'PutEventSelectors', requestParameters: { trailName: 't', eventSelectors: [{ includeManagementEvents: false, readWriteType: 'All' }] } })],
    miss: [ct({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'PutEventSelectors', requestParameters: { trailName: 't', eventSelectors: [{ includeManagementEvents: true, readWriteType: 'All', excludeManagementEventSources: [] }] } })],
  },
  {
    rule: 'S3 Lifecycle Rule Expires Objects Within a Week',
    hit: [ct({ eventSource: 's3.amazonaws.com', eventName: 'PutBucketLifecycle', requestParameters: { bucketName: 'logs', LifecycleConfiguration: { Rule: { ID: 'x', Status: 'Enabled', Expiration: { Days: 1 }, Filter: { Prefix: '' } } } } })],
    miss: [ct({ eventSource: 's3.amazonaws.com', eventName: 'PutBucketLifecycle', requestParameters: { bucketName: 'logs', LifecycleConfiguration: { Rule: { ID: 'x', Status: 'Enabled', Expiration: { Days: 365 } } } } })],
  },
  {
    rule: 'S3 Server Access Logging Disabled on a Bucket',
    hit: [ct({ eventSource: 's3.amazonaws.com', eventName: 'PutBucketLogging', requestParameters: { bucketName: 'b', BucketLoggingStatus: { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' } } })],
    miss: [ct({ eventSource: 's3.amazonaws.com', eventName: 'PutBucketLogging', requestParameters: { bucketName: 'b', BucketLoggingStatus: { LoggingEnabled: { TargetBucket: 'l', TargetPrefix: 'p/' } } } })],
  },
  {
    rule: 'Security Group Opens a Remote-Access or Database Port to the Internet',
    hit: [
      ct({ eventSource: 'ec2.amazonaws.com', eventName: 'AuthorizeSecurityGroupIngress', requestParameters: { groupId: 'sg-1', ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipRanges: { items: [{ cidrIp: '0.0.0.0/0' }] } }] } } }),
    ],
    miss: [
      ct({ eventSource: 'ec2.amazonaws.com', eventName: 'AuthorizeSecurityGroupIngress', requestParameters: { groupId: 'sg-1', ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: 443, toPort: 443, ipRanges: { items: [{ cidrIp: '0.0.0.0/0' }] } }] } } }),
      ct({ eventSource: 'ec2.amazonaws.com', eventName: 'AuthorizeSecurityGroupIngress', requestParameters: { groupId: 'sg-1', ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipRanges: { items: [{ cidrIp: '10.0.0.0/8' }] } }] } } }),
    ],
  },
  {
    rule: 'Network ACL Entry Allows Inbound Traffic From the Whole Internet',
    hit: [ct({ eventSource: 'ec2.amazonaws.com', eventName: 'CreateNetworkAclEntry', requestParameters: { networkAclId: 'acl-1', ruleNumber: 100, egress: false, ruleAction: 'allow', aclProtocol: '-1', cidrBlock: '0.0.0.0/0' } })],
    miss: [ct({ eventSource: 'ec2.amazonaws.com', eventName: 'CreateNetworkAclEntry', requestParameters: { networkAclId: 'acl-1', ruleNumber: 90, egress: false, ruleAction: 'deny', aclProtocol: '-1', cidrBlock: '203.0.113.9/32' } })],
  },
  {
    rule: 'EC2 AMI Shared With Another Account or Made Public',
    hit: [ct({ eventSource: 'ec2.amazonaws.com', eventName: 'ModifyImageAttribute', requestParameters: { imageId: 'ami-1', attributeType: 'launchPermission', launchPermission: { add: { items: [{ userId: OTHER }] } } } })],
    miss: [ct({ eventSource: 'ec2.amazonaws.com', eventName: 'ModifyImageAttribute', requestParameters: { imageId: 'ami-1', attributeType: 'launchPermission', launchPermission: { remove: { items: [{ userId: OTHER }] } } } })],
  },
  {
    rule: 'EBS Snapshot Shared With Another Account or Made Public',
    hit: [ct({ eventSource: 'ec2.amazonaws.com', eventName: 'ModifySnapshotAttribute', requestParameters: { snapshotId: 'snap-1', attributeType: 'CREATE_VOLUME_PERMISSION', createVolumePermission: { add: { items: [{ group: 'all' }] } } } })],
    miss: [ct({ eventSource: 'ec2.amazonaws.com', eventName: 'ModifySnapshotAttribute', requestParameters: { snapshotId: 'snap-1', attributeType: 'CREATE_VOLUME_PERMISSION', createVolumePermission: { remove: { items: [{ group: 'all' }] } } } })],
  },
  {
    rule: 'RDS Snapshot Shared With Another Account or Made Public',
    hit: [ct({ eventSource: 'rds.amazonaws.com', eventName: 'ModifyDBSnapshotAttribute', requestParameters: { dBSnapshotIdentifier: 's', attributeName: 'restore', valuesToAdd: [OTHER] } })],
    miss: [ct({ eventSource: 'rds.amazonaws.com', eventName: 'ModifyDBSnapshotAttribute', requestParameters: { dBSnapshotIdentifier: 's', attributeName: 'restore', valuesToAdd: [] } })],
  },
  {
    rule: 'S3 Bucket Policy Grants Access to Another AWS Account',
    hit: [ct({ eventSource: 's3.amazonaws.com', eventName: 'PutBucketPolicy', requestParameters: { bucketName: 'b', bucketPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OTHER}:root` }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }] } } })],
    miss: [ct({ eventSource: 's3.amazonaws.com', eventName: 'PutBucketPolicy', requestParameters: { bucketName: 'b', bucketPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/app` }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }] } } })],
  },
  {
    rule: 'IAM Role Trust Policy Updated to Trust an AWS Principal or Everyone',
    hit: [ct({ eventName: 'UpdateAssumeRolePolicy', requestParameters: { roleName: 'r', policyDocument: trustPolicy({ AWS: `arn:aws:iam::${OTHER}:root` }) } })],
    miss: [ct({ eventName: 'UpdateAssumeRolePolicy', requestParameters: { roleName: 'r', policyDocument: trustPolicy({ Service: 'ec2.amazonaws.com' }) } })],
  },
  {
    rule: 'IAM Role Created That Trusts Another Account',
    hit: [ct({ eventName: 'CreateRole', requestParameters: { roleName: 'r', assumeRolePolicyDocument: trustPolicy({ AWS: `arn:aws:iam::${OTHER}:root` }) } })],
    miss: [ct({ eventName: 'CreateRole', requestParameters: { roleName: 'r', assumeRolePolicyDocument: trustPolicy({ AWS: `arn:aws:iam::${ACCOUNT}:root` }) } })],
  },
  {
    rule: 'Administrator Policy Attached to an IAM Identity',
    hit: [ct({ eventName: 'AttachUserPolicy', requestParameters: { userName: 'x', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' } })],
    miss: [ct({ eventName: 'AttachUserPolicy', requestParameters: { userName: 'x', policyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' } })],
  },
  {
    rule: 'Console Password Created for Another IAM User',
    hit: [ct({ eventName: 'CreateLoginProfile', requestParameters: { userName: 'bob', passwordResetRequired: false } })],
    miss: [ct({ eventName: 'CreateLoginProfile', requestParameters: { userName: 'alice', passwordResetRequired: false } }), ct({ eventName: 'CreateLoginProfile', requestParameters: { userName: 'bob', passwordResetRequired: true } })],
  },
  {
    rule: 'Console Password of Another IAM User Changed',
    hit: [ct({ eventName: 'UpdateLoginProfile', requestParameters: { userName: 'bob' } })],
    miss: [ct({ eventName: 'UpdateLoginProfile', requestParameters: { userName: 'alice' } })],
  },
  {
    rule: 'Lambda Function Made Invocable by Anyone',
    hit: [ct({ eventSource: 'lambda.amazonaws.com', eventName: 'AddPermission20150331v2', requestParameters: { functionName: 'f', statementId: 's', action: 'lambda:InvokeFunction', principal: '*' } })],
    miss: [ct({ eventSource: 'lambda.amazonaws.com', eventName: 'AddPermission20150331v2', requestParameters: { functionName: 'f', statementId: 's', action: 'lambda:InvokeFunction', principal: 's3.amazonaws.com' } })],
  },
  {
    rule: 'Lambda Function Layers Changed by a Person',
    hit: [ct({ eventSource: 'lambda.amazonaws.com', eventName: 'UpdateFunctionConfiguration20150331v2', requestParameters: { functionName: 'f', layers: ['arn:aws:lambda:us-east-1:1:layer:x:1'] } })],
    miss: [
      ct({ eventSource: 'lambda.amazonaws.com', eventName: 'UpdateFunctionConfiguration20150331v2', requestParameters: { functionName: 'f', layers: ['arn:aws:lambda:us-east-1:1:layer:x:1'] }, userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/ci` } }),
      ct({ eventSource: 'lambda.amazonaws.com', eventName: 'UpdateFunctionConfiguration20150331v2', requestParameters: { functionName: 'f', timeout: 30 } }),
    ],
  },
  {
    rule: 'EC2 GPU or Accelerated Instances Launched',
    hit: [ct({ eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances', errorCode: 'Client.UnauthorizedOperation', requestParameters: { instanceType: 'p4d.24xlarge' } })],
    miss: [ct({ eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances', requestParameters: { instanceType: 't3.micro' } }), ct({ eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances', requestParameters: { instanceType: 'm7g.large' } })],
  },
  {
    rule: 'EC2 Instance User Data Modified',
    hit: [ct({ eventSource: 'ec2.amazonaws.com', eventName: 'ModifyInstanceAttribute', requestParameters: { instanceId: 'i-1', userData: '<sensitiveDataRemoved>' } })],
    miss: [ct({ eventSource: 'ec2.amazonaws.com', eventName: 'ModifyInstanceAttribute', requestParameters: { instanceId: 'i-1', instanceType: { value: 'm5.large' } } })],
  },
  {
    rule: 'Account Leaves Its AWS Organization',
    hit: [ct({ eventSource: 'organizations.amazonaws.com', eventName: 'LeaveOrganization' })],
    miss: [ct({ eventSource: 'organizations.amazonaws.com', eventName: 'DescribeOrganization' })],
  },
  {
    rule: 'RDS Database Deleted Without a Final Snapshot',
    hit: [ct({ eventSource: 'rds.amazonaws.com', eventName: 'DeleteDBInstance', requestParameters: { dBInstanceIdentifier: 'db', skipFinalSnapshot: true } })],
    miss: [ct({ eventSource: 'rds.amazonaws.com', eventName: 'DeleteDBInstance', requestParameters: { dBInstanceIdentifier: 'db', skipFinalSnapshot: false, finalDBSnapshotIdentifier: 'final' } })],
  },
  {
    rule: 'Console Login Without MFA by an IAM User or Root',
    hit: [ct({ eventSource: 'signin.amazonaws.com', eventName: 'ConsoleLogin', eventType: 'AwsConsoleSignIn', responseElements: { ConsoleLogin: 'Success' }, additionalEventData: { MFAUsed: 'No', LoginTo: 'https://console.aws.amazon.com/' } })],
    miss: [
      ct({ eventSource: 'signin.amazonaws.com', eventName: 'ConsoleLogin', responseElements: { ConsoleLogin: 'Success' }, additionalEventData: { MFAUsed: 'Yes' } }),
      ct({ eventSource: 'signin.amazonaws.com', eventName: 'ConsoleLogin', responseElements: { ConsoleLogin: 'Failure' }, additionalEventData: { MFAUsed: 'No' } }),
      ct({ eventSource: 'signin.amazonaws.com', eventName: 'ConsoleLogin', userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Admin_1/alice` }, responseElements: { ConsoleLogin: 'Success' }, additionalEventData: { MFAUsed: 'No' } }),
    ],
  },
  {
    rule: 'Root User Activity',
    hit: [ct({ eventName: 'CreateAccessKey', userIdentity: { type: 'Root', arn: `arn:aws:iam::${ACCOUNT}:root` } })],
    miss: [ct({ eventName: 'AssumeRole', eventType: 'AwsServiceEvent', userIdentity: { type: 'Root', arn: `arn:aws:iam::${ACCOUNT}:root` } })],
  },
  {
    rule: 'Burst of Access-Denied API Calls by One Identity',
    hit: times(10, (i) => ct({ eventName: 'ListRoles', errorCode: 'AccessDenied' }, at(i * 10))),
    miss: [...times(9, (i) => ct({ eventName: 'ListRoles', errorCode: 'AccessDenied' }, at(i * 10))), ...times(5, (i) => ct({ eventName: 'ListRoles', errorCode: 'AccessDenied' }, at(1000 + i)))],
  },
  {
    rule: 'Bulk S3 Object Reads From One Address',
    hit: times(25, (i) => ct({ eventSource: 's3.amazonaws.com', eventName: 'GetObject', requestParameters: { bucketName: 'data', key: `k${i}` } }, at(i))),
    miss: times(40, (i) => ct({ eventSource: 's3.amazonaws.com', eventName: 'GetObject', requestParameters: { bucketName: 'data', key: `k${i % 5}` } }, at(i))),
  },
  {
    rule: 'Many Secrets Manager Secrets Read by One Identity',
    hit: times(5, (i) => ct({ eventSource: 'secretsmanager.amazonaws.com', eventName: 'GetSecretValue', requestParameters: { secretId: `s${i}` } }, at(i))),
    miss: times(20, (i) => ct({ eventSource: 'secretsmanager.amazonaws.com', eventName: 'GetSecretValue', requestParameters: { secretId: 'db-password' } }, at(i))),
  },
  {
    rule: 'SSM Run Command Used on Several Instances',
    hit: [ct({ eventSource: 'ssm.amazonaws.com', eventName: 'SendCommand', requestParameters: { documentName: 'AWS-RunShellScript', instanceIds: ['i-1', 'i-2'] } })],
    miss: [ct({ eventSource: 'ssm.amazonaws.com', eventName: 'SendCommand', requestParameters: { documentName: 'AWS-RunShellScript', instanceIds: ['i-1'] } })],
  },
  {
    rule: 'Burst of Discovery API Calls by One Identity',
    hit: ['ListUsers', 'ListRoles', 'ListBuckets', 'DescribeInstances', 'DescribeTrails', 'ListDetectors', 'GetAccountSummary', 'DescribeSnapshots'].map((n, i) => ct({ eventName: n, readOnly: true }, at(i))),
    miss: times(30, (i) => ct({ eventName: ['DescribeInstances', 'ListBuckets'][i % 2], readOnly: true }, at(i))),
  },
  {
    rule: 'EC2 Instance Role Credentials Used to Check Their Own Identity',
    hit: [ct({ eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/web-role/i-0123456789abcdef0` } })],
    miss: [ct({ eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/web-role/alice` } })],
  },
  {
    rule: 'Large Outbound Transfer to an Internet Address (VPC Flow Logs)',
    hit: [flow({ srcaddr: '10.0.1.5', dstaddr: '198.51.100.9', srcport: 40000, dstport: 443, bytes: 60_000_000, action: 'ACCEPT' })],
    miss: [flow({ srcaddr: '10.0.1.5', dstaddr: '10.0.2.9', srcport: 40000, dstport: 443, bytes: 60_000_000, action: 'ACCEPT' }), flow({ srcaddr: '10.0.1.5', dstaddr: '198.51.100.9', srcport: 40000, dstport: 443, bytes: 5_000, action: 'ACCEPT' })],
  },
  {
    rule: 'Burst of Rejected SSH Connections From One Address (VPC Flow Logs)',
    hit: times(20, (i) => flow({ srcaddr: '203.0.113.5', dstaddr: '10.0.1.5', srcport: 50000 + i, dstport: 22, action: 'REJECT', start: 1767225600 + i })),
    miss: times(20, (i) => flow({ srcaddr: '203.0.113.5', dstaddr: '10.0.1.5', srcport: 50000 + i, dstport: 22, action: 'ACCEPT', start: 1767225600 + i })),
  },
  {
    rule: 'Port Scan From One Address (VPC Flow Logs)',
    hit: times(25, (i) => flow({ srcaddr: '203.0.113.5', dstaddr: '10.0.1.5', srcport: 55555, dstport: 20 + i, action: 'REJECT', start: 1767225600 + i })),
    // A web server answering 100 clients: many destination ports, but all from source port 443.
    miss: times(100, (i) => flow({ srcaddr: '10.0.1.5', dstaddr: `198.51.100.${i}`, srcport: 443, dstport: 1024 + i * 7, action: 'ACCEPT', start: 1767225600 + i })),
  },
  {
    rule: 'Burst of SSH Authentication Failures in Host Logs (CloudWatch Logs)',
    hit: times(20, (i) => normalizeLogEvent({ timestamp: 1767225600000 + i * 1000, message: `sshd[9]: Failed password for root from 203.0.113.5 port ${40000 + i} ssh2`, logGroup: '/var/log/secure', logStream: 'i-1' })),
    miss: times(20, (i) => normalizeLogEvent({ timestamp: 1767225600000 + i * 1000, message: `sshd[9]: Accepted publickey for ec2-user from 10.0.0.8 port ${40000 + i} ssh2`, logGroup: '/var/log/secure', logStream: 'i-1' })),
  },
];

describe('seclab rules', () => {
  it('every case names a rule of the pack', () => {
    const known = new Set(pack.rules.map((r) => r.title));
    for (const c of cases) expect(known.has(c.rule), c.rule).toBe(true);
  });
  for (const c of cases) {
    it(`${c.rule}: raised on the attack, not on the look-alike`, () => {
      expect(titles(c.hit)).toContain(c.rule);
      for (const e of c.miss) expect(titles([e]), JSON.stringify(e.fields).slice(0, 200)).not.toContain(c.rule);
      if (c.miss.length > 1) expect(titles(c.miss)).not.toContain(c.rule);
    });
  }
});
