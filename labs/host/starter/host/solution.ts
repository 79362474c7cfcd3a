// Lab host (slide 12) — your solution. `seclab check host` provisions Fabrikam Travel's account, runs
// apply(), builds the web server's root folder from its user data (as cloud-init would on first boot),
// scans it against the CIS Benchmark, runs its nginx for real, then attacks it. apply() runs as the
// account's root user (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID... are set): `new EC2Client({})` just works.
// Read the workbook: `seclab start host`.
//
// Today it launches the server the way the company always has: as root, IMDSv1, unencrypted volumes,
// the plain snapshot of the bookings, and the user data in user-data.yaml (plain HTTP, passwords).
import { readFileSync } from 'node:fs';
import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import type { LabInput } from 'seclab/kit';

interface Env {
  region: string;
  subnet: { id: string; cidr: string; availabilityZone: string };
  securityGroupId: string;
  image: { id: string; name: string; rootDeviceName: string };
  /** Assume it (with platformEngineer's key) for everything that touches the key and the server. */
  platformRole: { name: string; arn: string };
  platformEngineer: { userName: string; accessKeyId: string; secretAccessKey: string };
  keyAdminsRole: { name: string; arn: string };
  instanceProfile: { name: string; arn: string; roleName: string; roleArn: string };
  developersGroup: string;
  site: { hostName: string; certificateAuthorityArn: string; indexHtml: string };
  data: { snapshotId: string; device: string; mountPoint: string; sizeGiB: number };
  bucket: string;
  admins: { user: string; name: string; publicKey: string }[];
  office: string;
  logServer: string;
  instanceName: string;
}

export async function apply({ env }: LabInput<Env>) {
  // TODO task 1: a customer managed KMS key whose policy says who may use it (as the platform role).
  // TODO task 2: EBS encryption by default, with that key.
  // TODO task 3: the bookings on an encrypted copy of env.data.snapshotId; delete the plain one.
  // TODO task 5: a certificate from ACM (env.site.certificateAuthorityArn) for the user data's nginx.
  const userData = readFileSync(new URL('./user-data.yaml', import.meta.url), 'utf8');
  const ec2 = new EC2Client({});
  const r = await ec2.send(new RunInstancesCommand({
    ImageId: env.image.id, InstanceType: 't3.small', MinCount: 1, MaxCount: 1,
    SubnetId: env.subnet.id, SecurityGroupIds: [env.securityGroupId],
    IamInstanceProfile: { Arn: env.instanceProfile.arn },
    // TODO task 4: IMDSv2 only, hop limit 1.
    MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2 },
    BlockDeviceMappings: [{ DeviceName: env.data.device, Ebs: { SnapshotId: env.data.snapshotId, VolumeType: 'gp3', DeleteOnTermination: false } }],
    UserData: Buffer.from(userData).toString('base64'),
    TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: env.instanceName }] }],
  }));
  return { instanceId: r.Instances![0]!.InstanceId };
}
