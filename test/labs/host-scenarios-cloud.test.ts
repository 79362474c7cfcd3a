// The host lab's attacks on its data and its instance, on the real lab cloud: the account as the lab
// provisions it, then set up by hand in two ways — weak (IMDSv1, the data on an unencrypted volume,
// the unencrypted snapshot kept) where every attack gets through, and strong (a customer managed key
// with a tight policy, the data on a volume encrypted with it, the unencrypted snapshot deleted,
// IMDSv2 only with hop limit 1) where every attack is blocked.
import { describe, expect, it } from 'vitest';
import {
  EC2Client, RunInstancesCommand, CreateVolumeCommand, AttachVolumeCommand, CopySnapshotCommand, DeleteSnapshotCommand,
  AssociateIamInstanceProfileCommand, EnableEbsEncryptionByDefaultCommand, DescribeSnapshotsCommand, DescribeSnapshotAttributeCommand, DescribeVolumesCommand, DescribeInstancesCommand,
} from '@aws-sdk/client-ec2';
import { IAMClient, CreateUserCommand, AttachUserPolicyCommand, CreateAccessKeyCommand } from '@aws-sdk/client-iam';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import { KMSClient, CreateKeyCommand } from '@aws-sdk/client-kms';
import { provisionLab } from '../../src/engine/grader.ts';
import type { LabSession } from '../../src/engine/session.ts';
import type { Lab, Scenario, ScenarioResult } from '../../src/engine/types.ts';
import type { AwsCredentials } from '../../src/cloud/labcloud.ts';
import { provisionHost } from '../../labs/host/provision.ts';
import { hostEnv } from '../../labs/host/company.ts';
import { snapshotSharedOutsideScenario } from '../../scenarios/host-snapshot-shared-outside.ts';
import { stolenDeveloperKeyScenario } from '../../scenarios/host-stolen-developer-key.ts';
import { imdsSsrfScenario } from '../../scenarios/host-imds-ssrf.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

// labs/host/lab.ts is being written alongside (its checks): provisioning is what these attacks need.
const lab = { id: 'host', provision: provisionHost } as unknown as Lab;

async function run(session: LabSession, scenario: Scenario): Promise<ScenarioResult> {
  const state = await scenario.prepare!(session);
  try {
    const steps = await scenario.inject(session, state);
    return await scenario.observe(session, steps, state);
  } finally {
    await scenario.revert?.(session, state);
  }
}

/** Credentials of the platform role, through an administrator of the account. */
async function platform(session: LabSession): Promise<AwsCredentials> {
  const iam = session.client(IAMClient);
  await iam.send(new CreateUserCommand({ UserName: 'setup' }));
  await iam.send(new AttachUserPolicyCommand({ UserName: 'setup', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
  const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'setup' }))).AccessKey!;
  const sts = session.client(STSClient, { credentials: { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! } });
  const c = (await sts.send(new AssumeRoleCommand({ RoleArn: hostEnv(session.env).platformRole.arn, RoleSessionName: 'setup' }))).Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
}

const stepsOf = (r: ScenarioResult) => r.steps.map((s) => `${s.allowed ? 'allowed' : 'refused'} ${s.errorCode ?? ''} ${s.description}`);

describe('host attacks: weak setup (IMDSv1, unencrypted data volume, unencrypted snapshot kept)', () => {
  let session: LabSession;
  it('setup', async () => {
    session = await provisionLab(cloud(), lab, 'weak-seed');
    const env = hostEnv(session.env);
    const ec2 = session.client(EC2Client);
    const inst = (await ec2.send(new RunInstancesCommand({
      ImageId: env.image.id, SubnetId: env.subnet.id, SecurityGroupIds: [env.securityGroupId], MinCount: 1, MaxCount: 1, InstanceType: 't3.small',
      IamInstanceProfile: { Arn: env.instanceProfile.arn },
      MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2, HttpEndpoint: 'enabled' },
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: env.instanceName }] }],
    }))).Instances![0]!;
    const vol = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: env.subnet.availabilityZone, SnapshotId: env.data.snapshotId }));
    expect(vol.Encrypted).toBe(false);
    await ec2.send(new AttachVolumeCommand({ VolumeId: vol.VolumeId, InstanceId: inst.InstanceId, Device: env.data.device }));
  }, 120_000);

  it('the snapshot shared outside: the data volume and the unencrypted snapshot are restored in the outside account', async () => {
    const r = await run(session, snapshotSharedOutsideScenario);
    expect(r.blocked, stepsOf(r).join('\n')).toBe(false);
    expect(r.feedback).toContain(`the unencrypted snapshot ${hostEnv(session.env).data.snapshotId} was still there`);
    expect(r.feedback).toContain('is not encrypted: its snapshot');
    const outside = session.hidden['hostOutsideAccount'] as string;
    expect(outside).toMatch(/^\d{12}$/);
    expect(JSON.stringify(session.env)).not.toContain(outside);
    expect(r.steps.some((s) => s.description.startsWith('outside account: CreateVolume') && s.allowed && !s.errorCode)).toBe(true);
    // revert: the attacker's snapshot is gone and nothing stays shared.
    const ec2 = session.client(EC2Client);
    const snaps = (await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots!
      .filter((x) => x.OwnerId === session.accountId && !x.Description?.startsWith('Auto-created snapshot for AMI'));
    expect(snaps.map((s) => s.SnapshotId)).toEqual([hostEnv(session.env).data.snapshotId]);
    const perms = await ec2.send(new DescribeSnapshotAttributeCommand({ SnapshotId: hostEnv(session.env).data.snapshotId, Attribute: 'createVolumePermission' }));
    expect(perms.CreateVolumePermissions).toEqual([]);
  }, 120_000);

  it('the stolen developer key: a volume of the data is attached to the attacker\'s instance', async () => {
    const r = await run(session, stolenDeveloperKeyScenario);
    expect(r.blocked, stepsOf(r).join('\n')).toBe(false);
    expect(r.feedback).toContain('mounted on the attacker\'s instance');
    expect(r.steps.some((s) => s.description.startsWith('AttachVolume') && s.allowed && !s.errorCode)).toBe(true);
    // revert: the attacker's instance is terminated and its volumes deleted.
    const running = (await session.client(EC2Client).send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['running', 'pending'] }] })))
      .Reservations!.flatMap((x) => x.Instances ?? []);
    expect(running).toHaveLength(1);
  }, 120_000);

  it('the SSRF: IMDSv1 hands out the role credentials, which read the bookings bucket from outside', async () => {
    const r = await run(session, imdsSsrfScenario);
    expect(r.blocked, stepsOf(r).join('\n')).toBe(false);
    expect(r.feedback).toContain('A-container');
    expect(r.feedback).toContain('read the bookings bucket');
    expect(r.steps.some((s) => s.description.includes('read s3://') && s.allowed && !s.errorCode)).toBe(true);
    expect(r.evidence.some((e) => e.includes('IMDSv1') && e.includes('handed out'))).toBe(true);
  }, 120_000);
});

describe('host attacks: strong setup (tight CMK, encrypted data, IMDSv2 only with hop limit 1)', () => {
  let session: LabSession;
  it('setup', async () => {
    session = await provisionLab(cloud(), lab, 'strong-seed');
    const env = hostEnv(session.env);
    const creds = await platform(session);
    const ec2 = session.client(EC2Client, { credentials: creds });
    const kms = session.client(KMSClient, { credentials: creds });
    const region = session.cloud.region;
    const key = (await kms.send(new CreateKeyCommand({
      Description: 'fabrikam web volumes',
      Policy: doc([
        {
          Sid: 'KeyAdministrators', Effect: 'Allow', Principal: { AWS: env.keyAdminsRole.arn }, Resource: '*',
          Action: ['kms:Create*', 'kms:Describe*', 'kms:Enable*', 'kms:List*', 'kms:Put*', 'kms:Update*', 'kms:Revoke*', 'kms:Disable*', 'kms:Get*', 'kms:Delete*', 'kms:TagResource', 'kms:UntagResource', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion'],
        },
        {
          Sid: 'PlatformThroughEc2', Effect: 'Allow', Principal: { AWS: env.platformRole.arn }, Resource: '*',
          Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
          Condition: { StringEquals: { 'kms:ViaService': `ec2.${region}.amazonaws.com` } },
        },
        { Sid: 'PlatformGrants', Effect: 'Allow', Principal: { AWS: env.platformRole.arn }, Resource: '*', Action: 'kms:CreateGrant', Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } } },
        { Sid: 'PlatformKeepsThePolicy', Effect: 'Allow', Principal: { AWS: env.platformRole.arn }, Resource: '*', Action: ['kms:PutKeyPolicy', 'kms:GetKeyPolicy', 'kms:DescribeKey'] },
      ]),
    }))).KeyMetadata!;
    const copy = await ec2.send(new CopySnapshotCommand({ SourceSnapshotId: env.data.snapshotId, SourceRegion: region, Encrypted: true, KmsKeyId: key.Arn, Description: 'bookings data (encrypted)' }));
    await ec2.send(new DeleteSnapshotCommand({ SnapshotId: env.data.snapshotId }));
    const inst = (await ec2.send(new RunInstancesCommand({
      ImageId: env.image.id, SubnetId: env.subnet.id, SecurityGroupIds: [env.securityGroupId], MinCount: 1, MaxCount: 1, InstanceType: 't3.small',
      MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' },
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: env.instanceName }] }],
    }))).Instances![0]!;
    // The platform role may not pass the web role (no iam:PassRole): the account root gives the instance its profile.
    await session.client(EC2Client).send(new AssociateIamInstanceProfileCommand({ InstanceId: inst.InstanceId, IamInstanceProfile: { Arn: env.instanceProfile.arn } }));
    const vol = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: env.subnet.availabilityZone, SnapshotId: copy.SnapshotId }));
    expect(vol).toMatchObject({ Encrypted: true, KmsKeyId: key.Arn });
    await ec2.send(new AttachVolumeCommand({ VolumeId: vol.VolumeId, InstanceId: inst.InstanceId, Device: env.data.device }));
    const attached = (await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [inst.InstanceId!] }] }))).Volumes!;
    expect(attached.map((v) => v.VolumeId)).toContain(vol.VolumeId);
  }, 120_000);

  it('the snapshot shared outside: shared, but the outside account cannot use the key', async () => {
    const r = await run(session, snapshotSharedOutsideScenario);
    expect(r.blocked, `${r.feedback}\n${stepsOf(r).join('\n')}`).toBe(true);
    expect(r.feedback).toContain('could not use its key');
    expect(r.steps.filter((s) => s.description.startsWith('outside account: CreateVolume')).map((s) => s.errorCode)).toEqual(['UnauthorizedOperation', 'UnauthorizedOperation']);
    expect(r.steps.every((s) => !s.description.startsWith('outside account: C') || !s.allowed)).toBe(true);
  }, 120_000);

  it('the stolen developer key: no volume of the data can be made with the developer\'s key', async () => {
    const r = await run(session, stolenDeveloperKeyScenario);
    expect(r.blocked, `${r.feedback}\n${stepsOf(r).join('\n')}`).toBe(true);
    expect(r.steps.some((s) => s.description.startsWith('launch an instance') && s.allowed)).toBe(true);
    expect(r.steps.filter((s) => s.description.startsWith('CreateVolume')).every((s) => !s.allowed && s.errorCode === 'UnauthorizedOperation')).toBe(true);
    expect(r.feedback).toContain('refused the developer through EC2');
  }, 120_000);

  it('the SSRF: IMDSv1 refused (401) and the container\'s token PUT unanswered', async () => {
    const r = await run(session, imdsSsrfScenario);
    expect(r.blocked, `${r.feedback}\n${stepsOf(r).join('\n')}`).toBe(true);
    expect(r.steps.map((s) => s.errorCode)).toEqual(['HTTP401', 'HTTP401', 'NoResponse']);
    expect(r.evidence.length).toBe(3);
    expect(r.feedback).toContain('no answer (the hop limit dropped it)');
  }, 120_000);
});

describe('host attacks: the data under the AWS managed key aws/ebs (encryption by default, no key of its own)', () => {
  let session: LabSession;
  it('setup', async () => {
    session = await provisionLab(cloud(), lab, 'aws-managed-seed');
    const env = hostEnv(session.env);
    const ec2 = session.client(EC2Client);
    await ec2.send(new EnableEbsEncryptionByDefaultCommand({}));
    const copy = await ec2.send(new CopySnapshotCommand({ SourceSnapshotId: env.data.snapshotId, SourceRegion: session.cloud.region, Encrypted: true }));
    await ec2.send(new DeleteSnapshotCommand({ SnapshotId: env.data.snapshotId }));
    const inst = (await ec2.send(new RunInstancesCommand({
      ImageId: env.image.id, SubnetId: env.subnet.id, SecurityGroupIds: [env.securityGroupId], MinCount: 1, MaxCount: 1, InstanceType: 't3.small',
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: env.instanceName }] }],
    }))).Instances![0]!;
    const vol = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: env.subnet.availabilityZone, SnapshotId: copy.SnapshotId }));
    expect(vol.Encrypted).toBe(true);
    await ec2.send(new AttachVolumeCommand({ VolumeId: vol.VolumeId, InstanceId: inst.InstanceId, Device: env.data.device }));
  }, 120_000);

  it('the snapshot shared outside: EC2 refuses to share snapshots under aws/ebs, and that counts as refused', async () => {
    const r = await run(session, snapshotSharedOutsideScenario);
    expect(r.blocked, `${r.feedback}\n${stepsOf(r).join('\n')}`).toBe(true);
    const shares = r.steps.filter((s) => s.description.startsWith('share '));
    expect(shares.length).toBe(2);
    expect(shares.every((s) => !s.allowed && s.errorCode === 'InvalidParameter')).toBe(true);
    expect(r.feedback).toContain('AWS managed key aws/ebs, which cannot be shared');
  }, 120_000);

  it('the stolen developer key: aws/ebs lets every developer restore and attach the data', async () => {
    const r = await run(session, stolenDeveloperKeyScenario);
    expect(r.blocked, `${r.feedback}\n${stepsOf(r).join('\n')}`).toBe(false);
    expect(r.feedback).toContain('encrypted with the AWS managed key aws/ebs');
  }, 120_000);
});

describe('host attacks: no web server', () => {
  it('the SSRF scenario says there is no server to attack, and is not blocked', async () => {
    const session = await provisionLab(cloud(), lab, 'empty-seed');
    const r = await run(session, imdsSsrfScenario);
    expect(r.blocked).toBe(false);
    expect(r.steps).toEqual([]);
    expect(r.feedback).toContain('task launch');
  }, 120_000);
});
