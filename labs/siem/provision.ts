// Builds Northwind's account as the security team finds it: people and an application with their keys, customer
// data, a three-tier production VPC, application log groups that the instances' CloudWatch agents write to, and
// the SIEM's integration user. No trail, no flow logs, no notification channel: that is the student's work.
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand, AttachUserPolicyCommand, CreateLoginProfileCommand } from '@aws-sdk/client-iam';
import { S3Client, CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  EC2Client, CreateVpcCommand, CreateSubnetCommand, CreateSecurityGroupCommand, AuthorizeSecurityGroupIngressCommand,
  RunInstancesCommand, CreateInternetGatewayCommand, AttachInternetGatewayCommand, type Tag,
} from '@aws-sdk/client-ec2';
import type { LabSession } from '../../src/engine/session.ts';
import {
  ADMIN, ANALYST, APP_CONFIG, APP_USER, DEVELOPER, EXPORTS, INSTANCES, LOG_GROUPS, SIEM_USER, VPC_CIDR, companyEnv, type SiemLabEnv,
} from './company.ts';
import { holdKey } from './background.ts';

const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const tags = (resource: string, t: Record<string, string>) => [{ ResourceType: resource, Tags: Object.entries(t).map(([Key, Value]): Tag => ({ Key, Value })) }] as never;

export async function provisionSiem(session: LabSession): Promise<SiemLabEnv & Record<string, unknown>> {
  const region = session.cloud.region;
  const base = companyEnv(session.runId, region);
  const iam = session.client(IAMClient);
  const s3 = session.client(S3Client);
  const b = base.buckets;
  // The administrators read their email: they confirm the SNS subscription requests sent to them.
  session.gateway.service('sns').outbox.addReader(session.accountId, base.admins.email);

  // ---- data ----
  for (const bucket of Object.values(b)) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  // The data was there long before: written straight into the emulator (no API call to record).
  await Promise.all(EXPORTS.map((key, i) => session.gateway.sinks.putObject(session.accountId, b.customerData, key, Buffer.from(`customer_id,name,email\n${10000 + i},Customer ${i},c${i}@example.com\n`))));
  for (const key of APP_CONFIG) await s3.send(new PutObjectCommand({ Bucket: b.customerData, Key: key, Body: '{"version": 3}' }));
  await s3.send(new PutObjectCommand({ Bucket: b.reports, Key: 'finance/q3-revenue.csv', Body: 'quarter,revenue\nQ3,1830000\n' }));

  // ---- people, the application and the SIEM's integration user ----
  const user = async (name: string, statements: object[] | 'admin', console?: string) => {
    await iam.send(new CreateUserCommand({ UserName: name }));
    if (statements === 'admin') await iam.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
    else await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: `${name}-access`, PolicyDocument: doc(statements) }));
    if (console) await iam.send(new CreateLoginProfileCommand({ UserName: name, Password: console, PasswordResetRequired: false }));
    const key = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
    holdKey(session, name, key.AccessKey!.AccessKeyId!); // what the person's laptop (or the app's server) holds
  };
  await user(ADMIN, 'admin', `Nw-${session.runId}-Adm1n!`);
  await user(DEVELOPER, [
    { Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'], Resource: `arn:aws:s3:::${b.artifacts}/*` },
    { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${b.artifacts}` },
    // Developers look around EC2 and its logs; they cannot read the data.
    { Effect: 'Allow', Action: ['ec2:Describe*', 'logs:Describe*'], Resource: '*' },
  ]);
  await user(ANALYST, [
    { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b.reports}/*` },
    { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${b.reports}` },
  ], `Nw-${session.runId}-Rep0rts`);
  await user(APP_USER, [
    { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${b.customerData}/*` },
    { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${b.customerData}` },
  ]);
  await user(SIEM_USER, [
    { Sid: 'ReadLogs', Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket', 'logs:FilterLogEvents', 'logs:GetLogEvents', 'logs:DescribeLogGroups', 'logs:DescribeLogStreams'], Resource: '*' },
    { Sid: 'Notify', Effect: 'Allow', Action: 'sns:Publish', Resource: '*' },
    { Sid: 'WhoAmI', Effect: 'Allow', Action: 'sts:GetCallerIdentity', Resource: '*' },
  ]);

  // ---- application log groups ----
  const logs = session.client(CloudWatchLogsClient);
  for (const g of Object.values(LOG_GROUPS)) await logs.send(new CreateLogGroupCommand({ logGroupName: g }));

  // ---- the production VPC ----
  const ec2 = session.client(EC2Client);
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: VPC_CIDR, TagSpecifications: tags('vpc', { Name: 'northwind-prod' }) }))).Vpc!.VpcId!;
  const igw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
  await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
  const sg = async (name: string, port: number, from: { cidr?: string; group?: string }) => {
    const id = (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: name, Description: `${name} tier` }))).GroupId!;
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({
      GroupId: id,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: port, ToPort: port, ...(from.cidr ? { IpRanges: [{ CidrIp: from.cidr }] } : { UserIdGroupPairs: [{ GroupId: from.group }] }) }],
    }));
    return id;
  };
  const web = await sg('prod-web', 443, { cidr: '0.0.0.0/0' });
  const app = await sg('prod-app', 8080, { group: web });
  const db = await sg('prod-db', 5432, { group: app });
  const groups = { web, app, db };
  const instances: SiemLabEnv['vpc']['instances'] = [];
  for (const spec of INSTANCES) {
    const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: spec.subnet, AvailabilityZone: `${region}a` }))).Subnet!.SubnetId!;
    const i = (await ec2.send(new RunInstancesCommand({
      ImageId: 'ami-12c6146b', InstanceType: 't3.medium', MinCount: 1, MaxCount: 1, SubnetId: subnet, PrivateIpAddress: spec.privateIp,
      SecurityGroupIds: [groups[spec.tier]], TagSpecifications: tags('instance', { Name: spec.name, Tier: spec.tier }),
    }))).Instances![0]!;
    instances.push({ name: spec.name, id: i.InstanceId!, privateIp: spec.privateIp, tier: spec.tier, ...(i.PublicIpAddress ? { publicIp: i.PublicIpAddress } : {}) });
  }
  return { ...base, vpc: { id: vpcId, name: 'northwind-prod', cidr: VPC_CIDR, instances } };
}
