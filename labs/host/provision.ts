// Builds Fabrikam Travel's account as the student finds it: a VPC with a public subnet and the web
// server's security group, the roles of the platform team, the key administrators and the web server,
// the developers (PowerUserAccess, in the same account), the bookings bucket, the bookings data as a
// snapshot of the old server's volume (not encrypted), a private CA for the company's certificates,
// and no KMS key of its own: EBS encryption by default is off.
import {
  EC2Client, CreateVpcCommand, CreateSubnetCommand, CreateInternetGatewayCommand, AttachInternetGatewayCommand,
  CreateRouteTableCommand, CreateRouteCommand, AssociateRouteTableCommand, ModifySubnetAttributeCommand,
  CreateSecurityGroupCommand, AuthorizeSecurityGroupIngressCommand, CreateVolumeCommand, CreateSnapshotCommand,
  DeleteVolumeCommand, RegisterImageCommand, DescribeImagesCommand, type Tag, type TagSpecification, type ResourceType,
} from '@aws-sdk/client-ec2';
import {
  IAMClient, CreateRoleCommand, PutRolePolicyCommand, CreateInstanceProfileCommand, AddRoleToInstanceProfileCommand,
  CreateGroupCommand, AttachGroupPolicyCommand, PutUserPolicyCommand, CreateUserCommand, AddUserToGroupCommand, CreateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { S3Client, CreateBucketCommand, PutObjectCommand, PutPublicAccessBlockCommand } from '@aws-sdk/client-s3';
import type { LabSession } from '../../src/engine/session.ts';
import {
  COMPANY, DATA_DEVICE, DATA_MOUNT, DATA_SIZE_GIB, DEVELOPER, DEVELOPERS_GROUP, HOST_NAME, INDEX_HTML, INSTANCE_NAME,
  KEY_ADMINS_ROLE, LOG_SERVER, OFFICE_CIDR, PLATFORM_ENGINEER, PLATFORM_ROLE, SUBNET_CIDR, VPC_CIDR, WEB_ROLE, makeAdmins, type HostLabEnv,
} from './company.ts';

const tags = (resource: ResourceType, t: Record<string, string>): TagSpecification[] => [{ ResourceType: resource, Tags: Object.entries(t).map(([Key, Value]): Tag => ({ Key, Value })) }];
const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

/** What the platform team may do: run the web server, its keys, certificates and volumes. */
const PLATFORM_POLICY = doc([
  { Sid: 'Servers', Effect: 'Allow', Action: ['ec2:*', 'kms:*', 'acm:*', 'acm-pca:Describe*', 'acm-pca:Get*', 'acm-pca:List*', 'acm-pca:IssueCertificate'], Resource: '*' },
  { Sid: 'ReadIam', Effect: 'Allow', Action: ['iam:Get*', 'iam:List*'], Resource: '*' },
]);

export async function provisionHost(session: LabSession): Promise<HostLabEnv & Record<string, unknown>> {
  const ec2 = session.client(EC2Client);
  const iam = session.client(IAMClient);
  const s3 = session.client(S3Client);
  const region = session.cloud.region;
  const account = session.accountId;
  const az = `${region}a`;

  // ---- network: one public subnet, the web server's security group ----
  const network = async () => {
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: VPC_CIDR, TagSpecifications: tags('vpc', { Name: 'fabrikam-web', Company: COMPANY }) }))).Vpc!.VpcId!;
    const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: SUBNET_CIDR, AvailabilityZone: az, TagSpecifications: tags('subnet', { Name: 'fabrikam-public' }) }))).Subnet!.SubnetId!;
    await ec2.send(new ModifySubnetAttributeCommand({ SubnetId: subnet, MapPublicIpOnLaunch: { Value: true } }));
    const igw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpc }));
    const rt = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpc }))).RouteTable!.RouteTableId!;
    await ec2.send(new CreateRouteCommand({ RouteTableId: rt, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: rt, SubnetId: subnet }));
    const sg = (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpc, GroupName: 'fabrikam-web', Description: 'web server: HTTPS and HTTP from anywhere, SSH from the office', TagSpecifications: tags('security-group', { Name: 'fabrikam-web' }) }))).GroupId!;
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({
      GroupId: sg, IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'customers' }] },
        { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'customers typing http://' }] },
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: OFFICE_CIDR, Description: 'admins, from the office' }] },
      ],
    }));
    return { vpc, subnet, sg };
  };

  const bucket = `fabrikam-bookings-${session.runId}`;

  // ---- people and roles ----
  const trustAccount = doc([{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'sts:AssumeRole' }]);
  const people = async () => {
    const platform = (await iam.send(new CreateRoleCommand({ RoleName: PLATFORM_ROLE, AssumeRolePolicyDocument: trustAccount, Description: 'the platform team: runs the web server' }))).Role!;
    await iam.send(new PutRolePolicyCommand({ RoleName: PLATFORM_ROLE, PolicyName: 'platform', PolicyDocument: PLATFORM_POLICY }));
    // The web server's role, and only it, may be given to instances by the platform team.
    await iam.send(new PutRolePolicyCommand({
      RoleName: PLATFORM_ROLE, PolicyName: 'pass-web-role',
      PolicyDocument: doc([{ Effect: 'Allow', Action: 'iam:PassRole', Resource: `arn:aws:iam::${account}:role/${WEB_ROLE}`, Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } } }]),
    }));
    const keyAdmins = (await iam.send(new CreateRoleCommand({ RoleName: KEY_ADMINS_ROLE, AssumeRolePolicyDocument: trustAccount, Description: 'security team: administers KMS keys, never uses them' }))).Role!;
    await iam.send(new PutRolePolicyCommand({
      RoleName: KEY_ADMINS_ROLE, PolicyName: 'kms-administration',
      PolicyDocument: doc([{ Effect: 'Allow', Action: ['kms:Create*', 'kms:Describe*', 'kms:Enable*', 'kms:List*', 'kms:Put*', 'kms:Update*', 'kms:Revoke*', 'kms:Disable*', 'kms:Get*', 'kms:Delete*', 'kms:TagResource', 'kms:UntagResource', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion'], Resource: '*' }]),
    }));
    const web = (await iam.send(new CreateRoleCommand({
      RoleName: WEB_ROLE, Description: 'the web server: reads the bookings bucket',
      AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }]),
    }))).Role!;
    await iam.send(new PutRolePolicyCommand({
      RoleName: WEB_ROLE, PolicyName: 'read-bookings',
      PolicyDocument: doc([{ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`] }]),
    }));
    const profile = (await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: WEB_ROLE }))).InstanceProfile!;
    await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: WEB_ROLE, RoleName: WEB_ROLE }));
    // The student's own identity: a platform engineer who may assume the platform role, nothing else.
    await iam.send(new CreateUserCommand({ UserName: PLATFORM_ENGINEER, Tags: [{ Key: 'team', Value: 'platform' }] }));
    await iam.send(new PutUserPolicyCommand({
      UserName: PLATFORM_ENGINEER, PolicyName: 'assume-platform-role',
      PolicyDocument: doc([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: platform.Arn! }]),
    }));
    const engineerKey = (await iam.send(new CreateAccessKeyCommand({ UserName: PLATFORM_ENGINEER }))).AccessKey!;
    await iam.send(new CreateGroupCommand({ GroupName: DEVELOPERS_GROUP }));
    await iam.send(new AttachGroupPolicyCommand({ GroupName: DEVELOPERS_GROUP, PolicyArn: 'arn:aws:iam::aws:policy/PowerUserAccess' }));
    await iam.send(new CreateUserCommand({ UserName: DEVELOPER, Tags: [{ Key: 'team', Value: 'booking-app' }] }));
    await iam.send(new AddUserToGroupCommand({ GroupName: DEVELOPERS_GROUP, UserName: DEVELOPER }));
    await iam.send(new CreateAccessKeyCommand({ UserName: DEVELOPER }));
    return { platform, keyAdmins, web, profile, engineerKey };
  };

  // ---- the bookings: a bucket the app reads, and the old server's data volume as a snapshot ----
  const data = async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true } }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'bookings/2026-12.csv', Body: 'booking,customer,card_last4\nFB-10293,Ada Lovelace,4242\n' }));
    const vol = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: az, Size: DATA_SIZE_GIB, VolumeType: 'gp3', TagSpecifications: tags('volume', { Name: 'bookings-data (old server)' }) }))).VolumeId!;
    const snap = (await ec2.send(new CreateSnapshotCommand({ VolumeId: vol, Description: 'bookings data volume of the old web server (nightly)', TagSpecifications: tags('snapshot', { Name: 'bookings-data', Dataset: 'bookings' }) }))).SnapshotId!;
    await ec2.send(new DeleteVolumeCommand({ VolumeId: vol }));
    return snap;
  };

  // ---- the image: Debian 12, what the lab cloud's host model is built from ----
  const imageName = 'debian-12-amd64-20261201-1954';
  const image = async () => (await ec2.send(new RegisterImageCommand({
    Name: imageName, Description: 'Debian 12 (bookworm) — the lab host image', Architecture: 'x86_64', RootDeviceName: '/dev/xvda',
    VirtualizationType: 'hvm', EnaSupport: true,
    BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 8, VolumeType: 'gp3', DeleteOnTermination: true } }],
  }))).ImageId!;

  const [net, who, snapshotId, imageId] = await Promise.all([network(), people(), data(), image()]);
  // The root device as the image reports it (map the root volume under this name).
  const rootDeviceName = (await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images?.[0]?.RootDeviceName ?? '/dev/xvda';
  const ca = await session.gateway.service('acm').privateCa(account, region);
  const { admins } = makeAdmins();

  const env: HostLabEnv = {
    company: COMPANY,
    region,
    vpc: { id: net.vpc, cidr: VPC_CIDR },
    subnet: { id: net.subnet, cidr: SUBNET_CIDR, availabilityZone: az },
    securityGroupId: net.sg,
    image: { id: imageId, name: imageName, rootDeviceName },
    platformRole: { name: PLATFORM_ROLE, arn: who.platform.Arn! },
    platformEngineer: { userName: PLATFORM_ENGINEER, accessKeyId: who.engineerKey.AccessKeyId!, secretAccessKey: who.engineerKey.SecretAccessKey! },
    keyAdminsRole: { name: KEY_ADMINS_ROLE, arn: who.keyAdmins.Arn! },
    instanceProfile: { name: WEB_ROLE, arn: who.profile.Arn!, roleName: WEB_ROLE, roleArn: who.web.Arn! },
    developersGroup: DEVELOPERS_GROUP,
    site: { hostName: HOST_NAME, certificateAuthorityArn: ca.arn, indexHtml: INDEX_HTML },
    data: { snapshotId, device: DATA_DEVICE, mountPoint: DATA_MOUNT, sizeGiB: DATA_SIZE_GIB },
    bucket,
    admins,
    office: OFFICE_CIDR,
    logServer: LOG_SERVER,
    instanceName: INSTANCE_NAME,
  };
  return { ...env };
}
