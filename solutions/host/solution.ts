// Reference solution of lab host (slide 12). Shown to a student only after they pass the lab.
// As the platform team: a customer managed key only the platform role can use, and only through EC2;
// EBS encryption by default with it; the bookings data copied to an encrypted snapshot and the plain
// one deleted; a certificate from the company's private CA; the web server launched with IMDSv2 only,
// encrypted volumes and the user data in user-data.yaml (CIS Level 1, key-only SSH, nginx TLS only).
import { createPrivateKey, randomBytes } from 'node:crypto';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import { KMSClient, CreateKeyCommand, EnableKeyRotationCommand, CreateAliasCommand } from '@aws-sdk/client-kms';
import {
  EC2Client, EnableEbsEncryptionByDefaultCommand, ModifyEbsDefaultKmsKeyIdCommand, CopySnapshotCommand,
  DeleteSnapshotCommand, RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { ACMClient, RequestCertificateCommand, ExportCertificateCommand } from '@aws-sdk/client-acm';
import type { LabInput } from 'seclab/kit';
import { ec2UserData } from './user-data.ts';

interface Env {
  region: string;
  subnet: { id: string };
  securityGroupId: string;
  image: { id: string; rootDeviceName: string };
  platformRole: { arn: string };
  platformEngineer: { accessKeyId: string; secretAccessKey: string };
  keyAdminsRole: { arn: string };
  instanceProfile: { arn: string };
  site: { hostName: string; certificateAuthorityArn: string; indexHtml: string };
  data: { snapshotId: string; device: string };
  admins: { user: string; name: string; publicKey: string }[];
  instanceName: string;
}

const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

export async function apply({ accountId, region, env }: LabInput<Env>) {
  // ---- work as the platform team: the key policy names its role, not the account (and root may not assume roles) ----
  const engineer = { accessKeyId: env.platformEngineer.accessKeyId, secretAccessKey: env.platformEngineer.secretAccessKey };
  const assumed = await new STSClient({ credentials: engineer }).send(new AssumeRoleCommand({ RoleArn: env.platformRole.arn, RoleSessionName: 'deploy-web' }));
  const c = assumed.Credentials!;
  const credentials = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
  const kms = new KMSClient({ credentials });
  const ec2 = new EC2Client({ credentials });
  const acm = new ACMClient({ credentials });

  // ---- 1. the key: administered by the key administrators, used by the platform role through EC2 only ----
  const ec2Service = `ec2.${region}.amazonaws.com`;
  const policy = doc([
    {
      Sid: 'Administration', Effect: 'Allow', Principal: { AWS: [env.keyAdminsRole.arn, env.platformRole.arn] },
      Action: ['kms:CreateAlias', 'kms:Describe*', 'kms:Enable*', 'kms:List*', 'kms:Put*', 'kms:Update*', 'kms:Revoke*', 'kms:Disable*', 'kms:Get*', 'kms:Delete*', 'kms:TagResource', 'kms:UntagResource', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion'],
      Resource: '*',
    },
    {
      Sid: 'UseThroughEc2', Effect: 'Allow', Principal: { AWS: env.platformRole.arn },
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'], Resource: '*',
      Condition: { StringEquals: { 'kms:ViaService': ec2Service, 'kms:CallerAccount': accountId } },
    },
    {
      Sid: 'GrantsForEc2', Effect: 'Allow', Principal: { AWS: env.platformRole.arn },
      Action: ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant'], Resource: '*',
      Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    },
  ]);
  const key = (await kms.send(new CreateKeyCommand({ Description: 'Fabrikam web server volumes', KeyUsage: 'ENCRYPT_DECRYPT', KeySpec: 'SYMMETRIC_DEFAULT', Policy: policy }))).KeyMetadata!;
  await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId! }));
  await kms.send(new CreateAliasCommand({ AliasName: 'alias/fabrikam-web', TargetKeyId: key.KeyId! }));

  // ---- 2. EBS encryption by default, with that key ----
  await ec2.send(new EnableEbsEncryptionByDefaultCommand({}));
  await ec2.send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: key.Arn! }));

  // ---- 3. the bookings on an encrypted snapshot; the plain one goes ----
  const copy = (await ec2.send(new CopySnapshotCommand({
    SourceSnapshotId: env.data.snapshotId, SourceRegion: region, Encrypted: true, KmsKeyId: key.Arn!,
    Description: 'bookings data (encrypted copy)',
    TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'Name', Value: 'bookings-data-encrypted' }, { Key: 'Dataset', Value: 'bookings' }] }],
  }))).SnapshotId!;
  await ec2.send(new DeleteSnapshotCommand({ SnapshotId: env.data.snapshotId }));

  // ---- 4. the certificate, from the company's private CA ----
  const arn = (await acm.send(new RequestCertificateCommand({ DomainName: env.site.hostName, CertificateAuthorityArn: env.site.certificateAuthorityArn }))).CertificateArn!;
  const passphrase = randomBytes(24).toString('base64url');
  const exported = await acm.send(new ExportCertificateCommand({ CertificateArn: arn, Passphrase: new TextEncoder().encode(passphrase) }));
  const keyPem = createPrivateKey({ key: exported.PrivateKey!, passphrase }).export({ type: 'pkcs8', format: 'pem' }) as string;
  const certChainPem = `${exported.Certificate!.trim()}\n${exported.CertificateChain!.trim()}\n`;

  // ---- 5. the web server: IMDSv2 only, encrypted volumes, hardened by its user data ----
  const instance = (await ec2.send(new RunInstancesCommand({
    ImageId: env.image.id, InstanceType: 't3.small', MinCount: 1, MaxCount: 1,
    SubnetId: env.subnet.id, SecurityGroupIds: [env.securityGroupId],
    IamInstanceProfile: { Arn: env.instanceProfile.arn },
    MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' },
    BlockDeviceMappings: [
      { DeviceName: env.image.rootDeviceName, Ebs: { VolumeSize: 8, VolumeType: 'gp3', Encrypted: true, KmsKeyId: key.Arn!, DeleteOnTermination: true } },
      { DeviceName: env.data.device, Ebs: { SnapshotId: copy, VolumeType: 'gp3', DeleteOnTermination: false } },
    ],
    UserData: ec2UserData({ admins: env.admins, indexHtml: env.site.indexHtml, certChainPem, keyPem }),
    TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: env.instanceName }] }],
  }))).Instances![0]!;
  return { instanceId: instance.InstanceId, keyArn: key.Arn, certificateArn: arn };
}
