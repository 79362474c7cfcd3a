// KMS and EBS as AWS enforces them, through the real gateway and moto with the AWS SDK v3, one test
// per documented rule (docs/moto-deviations.md, "KMS" and "EBS"): key policies and grants decide who
// uses a key, key states refuse what AWS's key state table says, EBS encryption by default and the
// default key, volumes and snapshots carry their key, the KMS side of EBS calls is authorized as the
// caller with kms:ViaService and kms:CallerAccount, snapshot sharing across accounts needs the key
// policy of the owner's key, and a disabled or pending-deletion key makes its volumes unusable.
import { describe, expect, it } from 'vitest';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import {
  KMSClient, ListKeysCommand, ListAliasesCommand, CreateKeyCommand, EncryptCommand, DecryptCommand, DisableKeyCommand, EnableKeyCommand, ScheduleKeyDeletionCommand,
  CancelKeyDeletionCommand, DescribeKeyCommand, CreateGrantCommand, ListGrantsCommand, RetireGrantCommand, RevokeGrantCommand,
  EnableKeyRotationCommand, GetKeyRotationStatusCommand, CreateAliasCommand, UpdateAliasCommand, GenerateDataKeyCommand, PutKeyPolicyCommand,
} from '@aws-sdk/client-kms';
import {
  EC2Client, CreateVolumeCommand, CreateSnapshotCommand, CopySnapshotCommand, DescribeVolumesCommand, DescribeSnapshotsCommand,
  EnableEbsEncryptionByDefaultCommand, GetEbsEncryptionByDefaultCommand, GetEbsDefaultKmsKeyIdCommand, ModifyEbsDefaultKmsKeyIdCommand,
  ResetEbsDefaultKmsKeyIdCommand, ModifySnapshotAttributeCommand, DescribeSnapshotAttributeCommand, AttachVolumeCommand, RunInstancesCommand,
  DescribeImagesCommand, StopInstancesCommand, StartInstancesCommand,
} from '@aws-sdk/client-ec2';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const AZ = 'us-east-1a';

type Creds = { accessKeyId: string; secretAccessKey: string };

function account() {
  const c = cloud();
  const root = c.createAccount();
  const rootCreds: Creds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
  const iam = c.client(IAMClient, { credentials: rootCreds });
  const newUser = async (name: string, statements: object[]): Promise<Creds> => {
    await iam.send(new CreateUserCommand({ UserName: name }));
    if (statements.length) await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: doc(statements) }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
    return { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
  };
  const kms = (credentials: Creds = rootCreds) => c.client(KMSClient, { credentials });
  const ec2 = (credentials: Creds = rootCreds) => c.client(EC2Client, { credentials });
  return { c, id: root.accountId, rootCreds, iam, newUser, kms, ec2, userArn: (n: string) => `arn:aws:iam::${root.accountId}:user/${n}` };
}

/** The error's name and HTTP status, or 'ok'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
    return `${err.name} ${err.$metadata?.httpStatusCode}`;
  }
}

async function errorOf(p: Promise<unknown>): Promise<{ name?: string; message?: string }> {
  try {
    await p;
  } catch (e) {
    return e as { name?: string; message?: string };
  }
  throw new Error('expected the call to fail');
}

const EC2_ALL = { Effect: 'Allow', Action: 'ec2:*', Resource: '*' };
/** What AWS's EBS documentation says a user needs on a key to use it for EBS. */
const EBS_KMS = ['kms:CreateGrant', 'kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncrypt*'];

describe('KMS key states', () => {
  it('a disabled key refuses cryptographic operations with DisabledException; enabled again, it works', async () => {
    const a = account();
    const { KeyMetadata } = await a.kms().send(new CreateKeyCommand({}));
    const KeyId = KeyMetadata!.KeyId!;
    const { CiphertextBlob } = await a.kms().send(new EncryptCommand({ KeyId, Plaintext: Buffer.from('secret') }));
    await a.kms().send(new DisableKeyCommand({ KeyId: KeyMetadata!.Arn })); // a key ARN, as AWS accepts
    const err = await errorOf(a.kms().send(new EncryptCommand({ KeyId, Plaintext: Buffer.from('x') })));
    expect(err.name).toBe('DisabledException');
    expect(err.message).toBe(`${KeyMetadata!.Arn} is disabled.`);
    // Decrypt without KeyId: the key named in the ciphertext is the one that is disabled.
    expect(await outcome(a.kms().send(new DecryptCommand({ CiphertextBlob })))).toBe('DisabledException 409');
    expect(await outcome(a.kms().send(new GenerateDataKeyCommand({ KeyId, KeySpec: 'AES_256' })))).toBe('DisabledException 409');
    expect(await outcome(a.kms().send(new CreateGrantCommand({ KeyId, GranteePrincipal: a.userArn('x'), Operations: ['Decrypt'] })))).toBe('DisabledException 409');
    expect(await outcome(a.kms().send(new EnableKeyRotationCommand({ KeyId })))).toBe('DisabledException 409');
    // Metadata operations still work on a disabled key.
    expect((await a.kms().send(new DescribeKeyCommand({ KeyId }))).KeyMetadata?.KeyState).toBe('Disabled');
    expect(await outcome(a.kms().send(new GetKeyRotationStatusCommand({ KeyId })))).toBe('ok');
    await a.kms().send(new EnableKeyCommand({ KeyId: KeyMetadata!.Arn }));
    expect(Buffer.from((await a.kms().send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).toString()).toBe('secret');
  });

  it('ScheduleKeyDeletion waits 7 to 30 days; pending deletion refuses use with KMSInvalidStateException; CancelKeyDeletion leaves it Disabled', async () => {
    const a = account();
    const { KeyMetadata } = await a.kms().send(new CreateKeyCommand({}));
    const KeyId = KeyMetadata!.KeyId!;
    for (const days of [6, 31]) {
      const err = await errorOf(a.kms().send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: days })));
      expect(err.name).toBe('ValidationException');
      expect(err.message).toContain(`Value '${days}' at 'pendingWindowInDays' failed to satisfy constraint`);
    }
    expect((await a.kms().send(new DescribeKeyCommand({ KeyId }))).KeyMetadata?.KeyState).toBe('Enabled');
    // Cancelling a key that is not pending deletion.
    expect(await outcome(a.kms().send(new CancelKeyDeletionCommand({ KeyId })))).toBe('KMSInvalidStateException 409');
    const scheduled = await a.kms().send(new ScheduleKeyDeletionCommand({ KeyId: KeyMetadata!.Arn, PendingWindowInDays: 7 }));
    expect(scheduled).toMatchObject({ KeyId: KeyMetadata!.Arn, KeyState: 'PendingDeletion', PendingWindowInDays: 7 });
    const days = (scheduled.DeletionDate!.getTime() - a.c.gateway.clock.nowMs()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThan(7.1);
    const err = await errorOf(a.kms().send(new EncryptCommand({ KeyId, Plaintext: Buffer.from('x') })));
    expect(err.name).toBe('KMSInvalidStateException');
    expect(err.message).toBe(`${KeyMetadata!.Arn} is pending deletion.`);
    // A key pending deletion can be neither enabled nor aliased nor scheduled again.
    expect(await outcome(a.kms().send(new EnableKeyCommand({ KeyId })))).toBe('KMSInvalidStateException 409');
    expect(await outcome(a.kms().send(new CreateAliasCommand({ AliasName: 'alias/doomed', TargetKeyId: KeyId })))).toBe('KMSInvalidStateException 409');
    expect(await outcome(a.kms().send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 30 })))).toBe('KMSInvalidStateException 409');
    expect(await a.kms().send(new CancelKeyDeletionCommand({ KeyId }))).toMatchObject({ KeyId: KeyMetadata!.Arn });
    expect((await a.kms().send(new DescribeKeyCommand({ KeyId }))).KeyMetadata?.KeyState).toBe('Disabled');
    await a.kms().send(new EnableKeyCommand({ KeyId }));
    expect(await outcome(a.kms().send(new EncryptCommand({ KeyId, Plaintext: Buffer.from('x') })))).toBe('ok');
  });

  it('rotation: EnableKeyRotation then GetKeyRotationStatus; an alias authorizes as its key', async () => {
    const a = account();
    const { KeyMetadata } = await a.kms().send(new CreateKeyCommand({}));
    const KeyId = KeyMetadata!.KeyId!;
    expect((await a.kms().send(new GetKeyRotationStatusCommand({ KeyId }))).KeyRotationEnabled).toBe(false);
    await a.kms().send(new EnableKeyRotationCommand({ KeyId }));
    expect((await a.kms().send(new GetKeyRotationStatusCommand({ KeyId }))).KeyRotationEnabled).toBe(true);
    await a.kms().send(new CreateAliasCommand({ AliasName: 'alias/app', TargetKeyId: KeyId }));
    // A user allowed by IAM, but a key policy that names only the root user, with a Deny on Encrypt for this user.
    const dev = await a.newUser('dev', [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }]);
    await a.kms().send(new PutKeyPolicyCommand({
      KeyId, PolicyName: 'default', Policy: doc([
        { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${a.id}:root` }, Action: 'kms:*', Resource: '*' },
        { Effect: 'Deny', Principal: { AWS: a.userArn('dev') }, Action: 'kms:Encrypt', Resource: '*' },
      ]),
    }));
    expect(await outcome(a.kms(dev).send(new EncryptCommand({ KeyId: 'alias/app', Plaintext: Buffer.from('x') })))).toBe('AccessDeniedException 400');
    expect(await outcome(a.kms(dev).send(new DescribeKeyCommand({ KeyId: 'alias/app' })))).toBe('ok');
  });
});

describe('KMS aliases', () => {
  it('UpdateAlias needs kms:UpdateAlias on the key the alias names now as well as on the new key: a key policy can keep its alias', async () => {
    const a = account();
    const admin = await a.newUser('admin', [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }]);
    const rootArn = `arn:aws:iam::${a.id}:root`;
    // The guarded key: the account may use it, but no one may move its alias away.
    const guarded = (await a.kms().send(new CreateKeyCommand({
      Policy: doc([
        { Effect: 'Allow', Principal: { AWS: rootArn }, Action: 'kms:*', Resource: '*' },
        { Effect: 'Deny', Principal: '*', Action: ['kms:UpdateAlias', 'kms:DeleteAlias'], Resource: '*' },
      ]),
    }))).KeyMetadata!.KeyId!;
    const other = (await a.kms().send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const spare = (await a.kms().send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await a.kms().send(new CreateAliasCommand({ AliasName: 'alias/guarded', TargetKeyId: guarded }));
    await a.kms().send(new CreateAliasCommand({ AliasName: 'alias/free', TargetKeyId: other }));
    expect(await outcome(a.kms(admin).send(new UpdateAliasCommand({ AliasName: 'alias/guarded', TargetKeyId: other })))).toBe('AccessDeniedException 400');
    // Moving an alias between keys that allow it still works.
    expect(await outcome(a.kms(admin).send(new UpdateAliasCommand({ AliasName: 'alias/free', TargetKeyId: spare })))).toBe('ok');
    const aliases = (await a.kms().send(new ListAliasesCommand({}))).Aliases ?? [];
    expect(aliases.find((x) => x.AliasName === 'alias/guarded')?.TargetKeyId).toBe(guarded);
    expect(aliases.find((x) => x.AliasName === 'alias/free')?.TargetKeyId).toBe(spare);
  });
});

describe('KMS grants', () => {
  it('a grant lets its grantee use the key without any policy; retired or revoked, it no longer does', async () => {
    const a = account();
    // A key policy that lets the root user manage the key but delegates nothing to IAM for use.
    const { KeyMetadata } = await a.kms().send(new CreateKeyCommand({
      Policy: doc([{ Sid: 'admin', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${a.id}:root` }, Action: 'kms:*', Resource: '*' }]),
    }));
    const KeyId = KeyMetadata!.KeyId!;
    const app = await a.newUser('app', []);
    const ops = await a.newUser('ops', []);
    const { CiphertextBlob } = await a.kms().send(new EncryptCommand({ KeyId, Plaintext: Buffer.from('data') }));
    expect(await outcome(a.kms(app).send(new DecryptCommand({ CiphertextBlob })))).toBe('AccessDeniedException 400');
    const g = await a.kms().send(new CreateGrantCommand({
      KeyId, GranteePrincipal: a.userArn('app'), RetiringPrincipal: a.userArn('ops'), Operations: ['Decrypt', 'DescribeKey'], Name: 'app-read',
    }));
    expect(Buffer.from((await a.kms(app).send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).toString()).toBe('data');
    // Only the grant's operations.
    expect(await outcome(a.kms(app).send(new EncryptCommand({ KeyId, Plaintext: Buffer.from('x') })))).toBe('AccessDeniedException 400');
    // ListGrants as AWS answers it: the key ARN, the issuing account.
    const listed = (await a.kms().send(new ListGrantsCommand({ KeyId }))).Grants!;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ GrantId: g.GrantId, KeyId: KeyMetadata!.Arn, GranteePrincipal: a.userArn('app'), IssuingAccount: `arn:aws:iam::${a.id}:root`, Operations: ['Decrypt', 'DescribeKey'] });
    expect(listed[0]!.CreationDate).toBeInstanceOf(Date);
    // The grantee cannot retire it (RetireGrant is not among its operations); the retiring principal can.
    expect(await outcome(a.kms(app).send(new RetireGrantCommand({ KeyId: KeyMetadata!.Arn, GrantId: g.GrantId })))).toBe('AccessDeniedException 400');
    await a.kms(ops).send(new RetireGrantCommand({ GrantToken: g.GrantToken }));
    expect(await outcome(a.kms(app).send(new DecryptCommand({ CiphertextBlob })))).toBe('AccessDeniedException 400');
    // A second grant, revoked by the key's administrator.
    const g2 = await a.kms().send(new CreateGrantCommand({ KeyId, GranteePrincipal: a.userArn('app'), Operations: ['Decrypt'] }));
    expect(await outcome(a.kms(app).send(new DecryptCommand({ CiphertextBlob })))).toBe('ok');
    await a.kms().send(new RevokeGrantCommand({ KeyId, GrantId: g2.GrantId }));
    expect(await outcome(a.kms(app).send(new DecryptCommand({ CiphertextBlob })))).toBe('AccessDeniedException 400');
  });

  it('grant constraints: the encryption context must match; invalid operations are refused', async () => {
    const a = account();
    const { KeyMetadata } = await a.kms().send(new CreateKeyCommand({}));
    const KeyId = KeyMetadata!.KeyId!;
    const app = await a.newUser('app', []);
    await a.kms().send(new CreateGrantCommand({ KeyId, GranteePrincipal: a.userArn('app'), Operations: ['Encrypt'], Constraints: { EncryptionContextSubset: { dept: 'finance' } } }));
    expect(await outcome(a.kms(app).send(new EncryptCommand({ KeyId, Plaintext: Buffer.from('x'), EncryptionContext: { dept: 'finance', x: 'y' } })))).toBe('ok');
    expect(await outcome(a.kms(app).send(new EncryptCommand({ KeyId, Plaintext: Buffer.from('x'), EncryptionContext: { dept: 'hr' } })))).toBe('AccessDeniedException 400');
    expect(await outcome(a.kms(app).send(new EncryptCommand({ KeyId, Plaintext: Buffer.from('x') })))).toBe('AccessDeniedException 400');
    expect(await outcome(a.kms().send(new CreateGrantCommand({ KeyId, GranteePrincipal: a.userArn('app'), Operations: ['Delete' as never] })))).toBe('ValidationException 400');
  });
});

describe('EBS encryption by default', () => {
  it('per Region: new volumes are encrypted with the default key, aws/ebs until ModifyEbsDefaultKmsKeyId, again after Reset', async () => {
    const a = account();
    const ec2 = a.ec2();
    expect((await ec2.send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault).toBe(false);
    expect((await ec2.send(new GetEbsDefaultKmsKeyIdCommand({}))).KmsKeyId).toBe('alias/aws/ebs');
    const plain = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ, Size: 8 }));
    expect(plain.Encrypted).toBe(false);
    await ec2.send(new EnableEbsEncryptionByDefaultCommand({}));
    const byDefault = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ, Size: 8 }));
    expect(byDefault.Encrypted).toBe(true);
    const awsEbs = await a.kms().send(new DescribeKeyCommand({ KeyId: 'alias/aws/ebs' }));
    expect(byDefault.KmsKeyId).toBe(awsEbs.KeyMetadata!.Arn);
    expect(awsEbs.KeyMetadata!.KeyManager).toBe('AWS');
    // Another Region is not affected.
    const west = a.c.client(EC2Client, { credentials: a.rootCreds, region: 'eu-west-1' });
    expect((await west.send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault).toBe(false);
    expect((await west.send(new CreateVolumeCommand({ AvailabilityZone: 'eu-west-1a', Size: 8 }))).Encrypted).toBe(false);
    // A customer managed key as the default.
    const cmk = (await a.kms().send(new CreateKeyCommand({}))).KeyMetadata!;
    await a.kms().send(new CreateAliasCommand({ AliasName: 'alias/ebs-cmk', TargetKeyId: cmk.KeyId }));
    expect((await ec2.send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: 'alias/ebs-cmk' }))).KmsKeyId).toBe(cmk.Arn);
    expect((await ec2.send(new GetEbsDefaultKmsKeyIdCommand({}))).KmsKeyId).toBe(cmk.Arn);
    const withCmk = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ, Size: 8 }));
    expect(withCmk).toMatchObject({ Encrypted: true, KmsKeyId: cmk.Arn });
    const described = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [withCmk.VolumeId!] }))).Volumes![0]!;
    expect(described).toMatchObject({ Encrypted: true, KmsKeyId: cmk.Arn });
    await ec2.send(new ResetEbsDefaultKmsKeyIdCommand({}));
    expect((await ec2.send(new GetEbsDefaultKmsKeyIdCommand({}))).KmsKeyId).toBe('alias/aws/ebs');
    expect((await ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ, Size: 8 }))).KmsKeyId).toBe(awsEbs.KeyMetadata!.Arn);
  });
});

describe('EBS encryption by default at launch', () => {
  it('RunInstances: with encryption by default every volume of the instance is encrypted with the default key; a block device under a CMK needs the KMS permissions', async () => {
    const a = account();
    const ec2 = a.ec2();
    const image = (await ec2.send(new DescribeImagesCommand({}))).Images![0]!.ImageId!;
    const cmk = (await a.kms().send(new CreateKeyCommand({}))).KeyMetadata!;
    await ec2.send(new EnableEbsEncryptionByDefaultCommand({}));
    await ec2.send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: cmk.Arn }));
    const volumesOf = async (instanceId: string) => (await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }] }))).Volumes!;
    // The image's root volume.
    const plain = (await ec2.send(new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1, Placement: { AvailabilityZone: AZ } }))).Instances![0]!;
    expect((await volumesOf(plain.InstanceId!)).map((v) => [v.Size, v.Encrypted, v.KmsKeyId])).toEqual([[8, true, cmk.Arn]]);
    // A block device that asks for no encryption is encrypted all the same.
    const mapped = (await ec2.send(new RunInstancesCommand({
      ImageId: image, MinCount: 1, MaxCount: 1, Placement: { AvailabilityZone: AZ },
      BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: 20, Encrypted: false } }],
    }))).Instances![0]!;
    // ... and the image's root volume is there too (moto makes none when BlockDeviceMappings are given).
    expect((await volumesOf(mapped.InstanceId!)).map((v) => [v.Size, v.Encrypted, v.KmsKeyId]).sort()).toEqual([[20, true, cmk.Arn], [8, true, cmk.Arn]]);
    // A user with EC2 permissions only cannot launch with volumes under the CMK (the default key here).
    const dev = await a.newUser('dev', [EC2_ALL]);
    const err = await errorOf(a.ec2(dev).send(new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1 })));
    expect(err.name).toBe('UnauthorizedOperation');
    expect(err.message).toContain(cmk.Arn);
    // A disabled key: the launch fails.
    await a.kms().send(new DisableKeyCommand({ KeyId: cmk.KeyId }));
    expect(await outcome(ec2.send(new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1 })))).toBe('InvalidKMSKey.InvalidState 400');
  });

  it('RunInstances: a block device from an encrypted snapshot keeps the snapshot\'s key, or takes the KmsKeyId it names; launching needs the snapshot key\'s permissions', async () => {
    const a = account();
    const ec2 = a.ec2();
    const img = (await ec2.send(new DescribeImagesCommand({}))).Images![0]!;
    const image = img.ImageId!;
    const rootDevice = img.RootDeviceName!;
    const [k1, k2] = [(await a.kms().send(new CreateKeyCommand({}))).KeyMetadata!, (await a.kms().send(new CreateKeyCommand({}))).KeyMetadata!];
    const vol = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ, Size: 5, Encrypted: true, KmsKeyId: k1.Arn }))).VolumeId!;
    const snap = (await ec2.send(new CreateSnapshotCommand({ VolumeId: vol }))).SnapshotId!;
    const keysOf = async (instanceId: string) => (await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }] }))).Volumes!
      .map((v) => [v.Attachments![0]!.Device, v.Encrypted, v.KmsKeyId, v.SnapshotId ?? null]).sort();
    const launched = (await ec2.send(new RunInstancesCommand({
      ImageId: image, MinCount: 1, MaxCount: 1, Placement: { AvailabilityZone: AZ },
      BlockDeviceMappings: [
        { DeviceName: rootDevice, Ebs: { VolumeSize: 8, Encrypted: true, KmsKeyId: k2.Arn } },
        { DeviceName: '/dev/xvdf', Ebs: { SnapshotId: snap } },
        { DeviceName: '/dev/xvdg', Ebs: { SnapshotId: snap, Encrypted: true, KmsKeyId: k2.Arn } },
      ],
    }))).Instances![0]!;
    expect(await keysOf(launched.InstanceId!)).toEqual([
      [rootDevice, true, k2.Arn, null], ['/dev/xvdf', true, k1.Arn, snap], ['/dev/xvdg', true, k2.Arn, snap],
    ].sort());
    // EC2 permissions alone do not reach the snapshot's key.
    const dev = await a.newUser('dev', [EC2_ALL]);
    const err = await errorOf(a.ec2(dev).send(new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1, BlockDeviceMappings: [{ DeviceName: '/dev/xvdf', Ebs: { SnapshotId: snap } }] })));
    expect(err.name).toBe('UnauthorizedOperation');
    expect(err.message).toContain(k1.Arn);
    // With encryption by default under k1, the developer cannot launch a plain instance, but can with
    // the root volume under the AWS managed key (which every EC2 user of the account may use).
    await ec2.send(new EnableEbsEncryptionByDefaultCommand({}));
    await ec2.send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: k1.Arn }));
    expect(await outcome(a.ec2(dev).send(new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1 })))).toBe('UnauthorizedOperation 403');
    const own = (await a.ec2(dev).send(new RunInstancesCommand({
      ImageId: image, MinCount: 1, MaxCount: 1, Placement: { AvailabilityZone: AZ },
      BlockDeviceMappings: [{ DeviceName: rootDevice, Ebs: { VolumeSize: 8, Encrypted: true, KmsKeyId: 'alias/aws/ebs' } }],
    }))).Instances![0]!;
    const [rootVol] = (await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [own.InstanceId!] }] }))).Volumes!;
    const awsEbs = (await a.kms().send(new DescribeKeyCommand({ KeyId: 'alias/aws/ebs' }))).KeyMetadata!;
    expect([rootVol!.Encrypted, rootVol!.KmsKeyId]).toEqual([true, awsEbs.Arn]);
  });
});

describe('EBS volumes and snapshots carry their key', () => {
  it('CreateSnapshot keeps the volume key, a volume from it too; CopySnapshot keeps it or re-encrypts with KmsKeyId', async () => {
    const a = account();
    const ec2 = a.ec2();
    const k1 = (await a.kms().send(new CreateKeyCommand({}))).KeyMetadata!;
    const k2 = (await a.kms().send(new CreateKeyCommand({}))).KeyMetadata!;
    const vol = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ, Size: 4, Encrypted: true, KmsKeyId: k1.KeyId }));
    expect(vol.KmsKeyId).toBe(k1.Arn);
    const snap = await ec2.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId, Description: 'data', TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'app', Value: 'web' }] }] }));
    expect(snap).toMatchObject({ Encrypted: true, KmsKeyId: k1.Arn, VolumeId: vol.VolumeId, VolumeSize: 4, Description: 'data' });
    const listed = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap.SnapshotId!] }))).Snapshots![0]!;
    expect(listed).toMatchObject({ Encrypted: true, KmsKeyId: k1.Arn, Tags: [{ Key: 'app', Value: 'web' }] });
    const restored = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ, SnapshotId: snap.SnapshotId }));
    expect(restored).toMatchObject({ Encrypted: true, KmsKeyId: k1.Arn, SnapshotId: snap.SnapshotId, Size: 4 });
    const same = await ec2.send(new CopySnapshotCommand({ SourceSnapshotId: snap.SnapshotId, SourceRegion: 'us-east-1' }));
    expect((await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [same.SnapshotId!] }))).Snapshots![0]).toMatchObject({ Encrypted: true, KmsKeyId: k1.Arn });
    const re = await ec2.send(new CopySnapshotCommand({ SourceSnapshotId: snap.SnapshotId, SourceRegion: 'us-east-1', Encrypted: true, KmsKeyId: k2.Arn }));
    expect((await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [re.SnapshotId!] }))).Snapshots![0]).toMatchObject({ Encrypted: true, KmsKeyId: k2.Arn });
    // A volume from the re-encrypted copy under yet another key.
    const fromCopy = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ, SnapshotId: re.SnapshotId, KmsKeyId: k1.Arn, Encrypted: true }));
    expect(fromCopy.KmsKeyId).toBe(k1.Arn);
  });
});

describe('the KMS side of EBS calls', () => {
  it('a user with EC2 permissions only cannot use a customer managed key for EBS; with the documented KMS permissions they can', async () => {
    const a = account();
    const cmk = (await a.kms().send(new CreateKeyCommand({}))).KeyMetadata!;
    const ec2Only = await a.newUser('ec2only', [EC2_ALL]);
    const err = await errorOf(a.ec2(ec2Only).send(new CreateVolumeCommand({ AvailabilityZone: AZ, Size: 8, Encrypted: true, KmsKeyId: cmk.Arn })));
    expect(err.name).toBe('UnauthorizedOperation');
    expect(err.message).toContain('kms:');
    // The AWS managed key needs no KMS permission: its key policy lets the account use it through EC2.
    expect(await outcome(a.ec2(ec2Only).send(new CreateVolumeCommand({ AvailabilityZone: AZ, Size: 8, Encrypted: true })))).toBe('ok');
    // With kms:CreateGrant limited to grants for AWS resources and only through EC2 (kms:ViaService).
    const ebsUser = await a.newUser('ebsuser', [EC2_ALL,
      { Effect: 'Allow', Action: EBS_KMS.filter((x) => x !== 'kms:CreateGrant'), Resource: cmk.Arn, Condition: { StringEquals: { 'kms:ViaService': 'ec2.us-east-1.amazonaws.com', 'kms:CallerAccount': a.id } } },
      { Effect: 'Allow', Action: 'kms:CreateGrant', Resource: cmk.Arn, Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } } }]);
    const vol = await a.ec2(ebsUser).send(new CreateVolumeCommand({ AvailabilityZone: AZ, Size: 8, Encrypted: true, KmsKeyId: cmk.Arn }));
    expect(vol.KmsKeyId).toBe(cmk.Arn);
    // The same permissions do not let the user call KMS directly (not through EC2).
    const { CiphertextBlob } = await a.kms().send(new EncryptCommand({ KeyId: cmk.KeyId, Plaintext: Buffer.from('x') }));
    expect(await outcome(a.kms(ebsUser).send(new DecryptCommand({ CiphertextBlob })))).toBe('AccessDeniedException 400');
    expect(await outcome(a.kms(ebsUser).send(new CreateGrantCommand({ KeyId: cmk.KeyId, GranteePrincipal: a.userArn('ebsuser'), Operations: ['Decrypt'] })))).toBe('AccessDeniedException 400');
  });

  it('a KMS grant can stand in for IAM permissions: its grantee uses the key for EBS', async () => {
    const a = account();
    const cmk = (await a.kms().send(new CreateKeyCommand({}))).KeyMetadata!;
    const svc = await a.newUser('svc', [EC2_ALL]);
    const create = () => a.ec2(svc).send(new CreateVolumeCommand({ AvailabilityZone: AZ, Size: 8, Encrypted: true, KmsKeyId: cmk.Arn }));
    expect(await outcome(create())).toBe('UnauthorizedOperation 403');
    const g = await a.kms().send(new CreateGrantCommand({ KeyId: cmk.KeyId, GranteePrincipal: a.userArn('svc'), Operations: ['CreateGrant', 'DescribeKey', 'GenerateDataKeyWithoutPlaintext', 'Decrypt'] }));
    expect(await outcome(create())).toBe('ok');
    await a.kms().send(new RevokeGrantCommand({ KeyId: cmk.KeyId, GrantId: g.GrantId }));
    expect(await outcome(create())).toBe('UnauthorizedOperation 403');
  });

  it('AttachVolume needs kms:CreateGrant on the volume key (through EC2); without it the attach is refused', async () => {
    const a = account();
    const cmk = (await a.kms().send(new CreateKeyCommand({}))).KeyMetadata!;
    const image = (await a.ec2().send(new DescribeImagesCommand({}))).Images![0]!.ImageId!;
    const inst = (await a.ec2().send(new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', Placement: { AvailabilityZone: AZ } }))).Instances![0]!;
    const vol = await a.ec2().send(new CreateVolumeCommand({ AvailabilityZone: AZ, Size: 8, Encrypted: true, KmsKeyId: cmk.Arn }));
    const dev = await a.newUser('dev', [EC2_ALL]);
    const err = await errorOf(a.ec2(dev).send(new AttachVolumeCommand({ VolumeId: vol.VolumeId, InstanceId: inst.InstanceId, Device: '/dev/sdf' })));
    expect(err.name).toBe('UnauthorizedOperation');
    expect(err.message).toContain('kms:CreateGrant');
    const ops = await a.newUser('ops', [EC2_ALL, { Effect: 'Allow', Action: 'kms:CreateGrant', Resource: cmk.Arn, Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } } }]);
    expect(await outcome(a.ec2(ops).send(new AttachVolumeCommand({ VolumeId: vol.VolumeId, InstanceId: inst.InstanceId, Device: '/dev/sdf' })))).toBe('ok');
  });

  it('a disabled or pending-deletion key makes its volumes unusable: attach, create from its snapshot, copy and start fail; enabled again they work', async () => {
    const a = account();
    const cmk = (await a.kms().send(new CreateKeyCommand({}))).KeyMetadata!;
    const image = (await a.ec2().send(new DescribeImagesCommand({}))).Images![0]!.ImageId!;
    const inst = (await a.ec2().send(new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1, Placement: { AvailabilityZone: AZ } }))).Instances![0]!;
    const vol = await a.ec2().send(new CreateVolumeCommand({ AvailabilityZone: AZ, Size: 8, Encrypted: true, KmsKeyId: cmk.Arn }));
    const snap = await a.ec2().send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId }));
    await a.kms().send(new DisableKeyCommand({ KeyId: cmk.KeyId }));
    const attach = () => a.ec2().send(new AttachVolumeCommand({ VolumeId: vol.VolumeId, InstanceId: inst.InstanceId, Device: '/dev/sdg' }));
    const err = await errorOf(attach());
    expect(err.name).toBe('InvalidKMSKey.InvalidState');
    expect(err.message).toContain('The KMS key provided is in an incorrect state');
    expect(await outcome(a.ec2().send(new CreateVolumeCommand({ AvailabilityZone: AZ, SnapshotId: snap.SnapshotId })))).toBe('InvalidKMSKey.InvalidState 400');
    expect(await outcome(a.ec2().send(new CopySnapshotCommand({ SourceSnapshotId: snap.SnapshotId, SourceRegion: 'us-east-1' })))).toBe('InvalidKMSKey.InvalidState 400');
    expect(await outcome(a.ec2().send(new CreateVolumeCommand({ AvailabilityZone: AZ, Size: 8, Encrypted: true, KmsKeyId: cmk.Arn })))).toBe('InvalidKMSKey.InvalidState 400');
    await a.kms().send(new EnableKeyCommand({ KeyId: cmk.KeyId }));
    await a.kms().send(new ScheduleKeyDeletionCommand({ KeyId: cmk.KeyId, PendingWindowInDays: 7 }));
    expect(await outcome(attach())).toBe('InvalidKMSKey.InvalidState 400');
    await a.kms().send(new CancelKeyDeletionCommand({ KeyId: cmk.KeyId }));
    await a.kms().send(new EnableKeyCommand({ KeyId: cmk.KeyId }));
    expect(await outcome(attach())).toBe('ok');
    // An attached volume keeps working; stopped and started again, the instance needs the key.
    await a.ec2().send(new StopInstancesCommand({ InstanceIds: [inst.InstanceId!] }));
    await a.kms().send(new DisableKeyCommand({ KeyId: cmk.KeyId }));
    expect(await outcome(a.ec2().send(new StartInstancesCommand({ InstanceIds: [inst.InstanceId!] })))).toBe('InvalidKMSKey.InvalidState 400');
    await a.kms().send(new EnableKeyCommand({ KeyId: cmk.KeyId }));
    expect(await outcome(a.ec2().send(new StartInstancesCommand({ InstanceIds: [inst.InstanceId!] })))).toBe('ok');
  });
});

describe('sharing encrypted snapshots across accounts', () => {
  it('B creates a volume from A\'s shared snapshot only when A\'s key policy allows B; B\'s volume is under B\'s default key', async () => {
    const a = account();
    const b = account();
    const cmk = (await a.kms().send(new CreateKeyCommand({}))).KeyMetadata!;
    const vol = await a.ec2().send(new CreateVolumeCommand({ AvailabilityZone: AZ, Size: 5, Encrypted: true, KmsKeyId: cmk.Arn }));
    const snap = await a.ec2().send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId }));
    const restore = (creds = b.rootCreds) => b.ec2(creds).send(new CreateVolumeCommand({ AvailabilityZone: AZ, SnapshotId: snap.SnapshotId }));
    // Not shared: B cannot see it.
    expect(await outcome(restore())).toBe('InvalidSnapshot.NotFound 400');
    // Shared (the CreateVolumePermission form the AWS CLI and consoles use).
    await a.ec2().send(new ModifySnapshotAttributeCommand({ SnapshotId: snap.SnapshotId, Attribute: 'createVolumePermission', CreateVolumePermission: { Add: [{ UserId: b.id }] } }));
    expect((await a.ec2().send(new DescribeSnapshotAttributeCommand({ SnapshotId: snap.SnapshotId, Attribute: 'createVolumePermission' }))).CreateVolumePermissions).toEqual([{ UserId: b.id }]);
    // B sees it: listed among the snapshots restorable by B, and by id.
    const listedInB = (await b.ec2().send(new DescribeSnapshotsCommand({ RestorableByUserIds: ['self'] }))).Snapshots!;
    expect(listedInB.map((x) => [x.SnapshotId, x.OwnerId, x.Encrypted, x.KmsKeyId])).toContainEqual([snap.SnapshotId, a.id, true, cmk.Arn]);
    expect((await b.ec2().send(new DescribeSnapshotsCommand({ SnapshotIds: [snap.SnapshotId!] }))).Snapshots!.map((x) => x.OwnerId)).toEqual([a.id]);
    expect((await b.ec2().send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots!.map((x) => x.SnapshotId)).not.toContain(snap.SnapshotId);
    // Shared, but A's key policy does not allow B: refused (the snapshot's key is A's).
    const denied = await errorOf(restore());
    expect(denied.name).toBe('UnauthorizedOperation');
    expect(denied.message).toContain(cmk.Arn);
    // A's key policy allows B's account to use the key (cross-account key use): B's root can, and a
    // user of B with the EBS KMS permissions on A's key.
    await a.kms().send(new PutKeyPolicyCommand({
      KeyId: cmk.KeyId, PolicyName: 'default', Policy: doc([
        { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${a.id}:root` }, Action: 'kms:*', Resource: '*' },
        { Sid: 'b', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${b.id}:root` }, Action: ['kms:DescribeKey', 'kms:CreateGrant', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKeyWithoutPlaintext'], Resource: '*' },
      ]),
    }));
    const made = await restore();
    const bDefault = (await b.kms().send(new DescribeKeyCommand({ KeyId: 'alias/aws/ebs' }))).KeyMetadata!.Arn;
    expect(made).toMatchObject({ Encrypted: true, KmsKeyId: bDefault, SnapshotId: snap.SnapshotId, Size: 5 });
    expect((await b.ec2().send(new DescribeVolumesCommand({ VolumeIds: [made.VolumeId!] }))).Volumes![0]).toMatchObject({ SnapshotId: snap.SnapshotId, KmsKeyId: bDefault });
    // A's CloudTrail shows B using A's key through EC2 (the evidence of the restore in the owner's account).
    const inA = a.c.gateway.service('cloudtrail').trail.all(a.id).filter((r) => r.eventSource === 'kms.amazonaws.com' && r.userIdentity.accountId === b.id);
    expect(inA.map((r) => r.eventName)).toEqual(expect.arrayContaining(['CreateGrant', 'Decrypt', 'ReEncrypt']));
    expect(inA[0]).toMatchObject({ userIdentity: { type: 'Root', invokedBy: 'ec2.amazonaws.com' }, resources: [{ ARN: cmk.Arn, accountId: a.id }], recipientAccountId: a.id });
    const bNoKms = await b.newUser('nokms', [EC2_ALL]);
    expect(await outcome(restore(bNoKms))).toBe('UnauthorizedOperation 403');
    const bUser = await b.newUser('restorer', [EC2_ALL, { Effect: 'Allow', Action: EBS_KMS, Resource: cmk.Arn }]);
    expect(await outcome(restore(bUser))).toBe('ok');
    // B copies it under its own key.
    const bKey = (await b.kms().send(new CreateKeyCommand({}))).KeyMetadata!;
    const copy = await b.ec2().send(new CopySnapshotCommand({ SourceSnapshotId: snap.SnapshotId, SourceRegion: 'us-east-1', Encrypted: true, KmsKeyId: bKey.Arn }));
    expect((await b.ec2().send(new DescribeSnapshotsCommand({ SnapshotIds: [copy.SnapshotId!] }))).Snapshots![0]).toMatchObject({ Encrypted: true, KmsKeyId: bKey.Arn, OwnerId: b.id });
    // A unshares: B can no longer create volumes from it.
    await a.ec2().send(new ModifySnapshotAttributeCommand({ SnapshotId: snap.SnapshotId, Attribute: 'createVolumePermission', OperationType: 'remove', UserIds: [b.id] }));
    expect(await outcome(restore())).toBe('InvalidSnapshot.NotFound 400');
  });

  it('a snapshot encrypted with the AWS managed key aws/ebs cannot be shared; an encrypted snapshot cannot be made public', async () => {
    const a = account();
    const b = account();
    const vol = await a.ec2().send(new CreateVolumeCommand({ AvailabilityZone: AZ, Size: 1, Encrypted: true }));
    const snap = await a.ec2().send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId }));
    const err = await errorOf(a.ec2().send(new ModifySnapshotAttributeCommand({ SnapshotId: snap.SnapshotId, Attribute: 'createVolumePermission', CreateVolumePermission: { Add: [{ UserId: b.id }] } })));
    expect(err.name).toBe('InvalidParameter');
    expect(err.message).toBe('Encrypted snapshots with EBS default key cannot be shared');
    expect((await a.ec2().send(new DescribeSnapshotAttributeCommand({ SnapshotId: snap.SnapshotId, Attribute: 'createVolumePermission' }))).CreateVolumePermissions).toEqual([]);
    const cmk = (await a.kms().send(new CreateKeyCommand({}))).KeyMetadata!;
    const vol2 = await a.ec2().send(new CreateVolumeCommand({ AvailabilityZone: AZ, Size: 1, Encrypted: true, KmsKeyId: cmk.Arn }));
    const snap2 = await a.ec2().send(new CreateSnapshotCommand({ VolumeId: vol2.VolumeId }));
    expect(await outcome(a.ec2().send(new ModifySnapshotAttributeCommand({ SnapshotId: snap2.SnapshotId, Attribute: 'createVolumePermission', CreateVolumePermission: { Add: [{ Group: 'all' }] } })))).toBe('OperationNotPermitted 400');
    // An unencrypted snapshot can be shared publicly.
    const vol3 = await a.ec2().send(new CreateVolumeCommand({ AvailabilityZone: AZ, Size: 1 }));
    const snap3 = await a.ec2().send(new CreateSnapshotCommand({ VolumeId: vol3.VolumeId }));
    await a.ec2().send(new ModifySnapshotAttributeCommand({ SnapshotId: snap3.SnapshotId, Attribute: 'createVolumePermission', CreateVolumePermission: { Add: [{ Group: 'all' }] } }));
    expect((await a.ec2().send(new DescribeSnapshotAttributeCommand({ SnapshotId: snap3.SnapshotId, Attribute: 'createVolumePermission' }))).CreateVolumePermissions).toEqual([{ Group: 'all' }]);
  });
});

// Last: it moves the lab clock by days.
describe('key deletion', () => {
  it('at the end of the waiting period (lab clock) the key is deleted: NotFoundException, gone from ListKeys and ListAliases; its volumes stay unusable', async () => {
    const a = account();
    const cmk = (await a.kms().send(new CreateKeyCommand({}))).KeyMetadata!;
    await a.kms().send(new CreateAliasCommand({ AliasName: 'alias/old', TargetKeyId: cmk.KeyId }));
    const vol = await a.ec2().send(new CreateVolumeCommand({ AvailabilityZone: AZ, Size: 1, Encrypted: true, KmsKeyId: cmk.Arn }));
    const snap = await a.ec2().send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId }));
    await a.kms().send(new ScheduleKeyDeletionCommand({ KeyId: cmk.KeyId, PendingWindowInDays: 7 }));
    await a.c.gateway.clock.advance(6 * 86_400_000);
    expect((await a.kms().send(new DescribeKeyCommand({ KeyId: cmk.KeyId }))).KeyMetadata?.KeyState).toBe('PendingDeletion');
    await a.c.gateway.clock.advance(2 * 86_400_000);
    const err = await errorOf(a.kms().send(new DescribeKeyCommand({ KeyId: cmk.KeyId })));
    expect(err.name).toBe('NotFoundException');
    expect(await outcome(a.kms().send(new CancelKeyDeletionCommand({ KeyId: cmk.KeyId })))).toBe('NotFoundException 400');
    expect((await a.kms().send(new ListKeysCommand({}))).Keys!.map((k) => k.KeyId)).not.toContain(cmk.KeyId);
    expect((await a.kms().send(new ListAliasesCommand({}))).Aliases!.map((x) => x.AliasName)).not.toContain('alias/old');
    expect(await outcome(a.ec2().send(new CreateVolumeCommand({ AvailabilityZone: AZ, SnapshotId: snap.SnapshotId })))).toBe('InvalidKMSKey.InvalidState 400');
  });
});
