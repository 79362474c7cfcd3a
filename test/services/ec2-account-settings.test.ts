// EC2 operations moto lacks, answered by the lab cloud as AWS answers a new account: block public
// access for AMIs enabled (and enforced), for snapshots disabled, no instance metadata defaults, no
// Client VPN endpoints. (SSM's DescribeInstanceInformation and ListResourceComplianceSummaries are
// exercised with the AWS CLI in test/compat/awscli-s3control-account.test.ts.)
import { describe, expect, it } from 'vitest';
import {
  EC2Client, GetImageBlockPublicAccessStateCommand, GetSnapshotBlockPublicAccessStateCommand, GetInstanceMetadataDefaultsCommand,
  DescribeClientVpnEndpointsCommand, EnableImageBlockPublicAccessCommand, DisableImageBlockPublicAccessCommand, DescribeImagesCommand,
  RunInstancesCommand, CreateImageCommand, ModifyImageAttributeCommand, DescribeImageAttributeCommand,
} from '@aws-sdk/client-ec2';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();

describe('EC2 account settings moto lacks (SDK v3)', { timeout: 120_000 }, () => {
  it('a new account: AMI block public access enabled, snapshot block public access unblocked, no metadata defaults, no Client VPN', async () => {
    const c = cloud();
    const root = c.createAccount();
    const ec2 = c.client(EC2Client, { credentials: { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey } });
    expect(await ec2.send(new GetImageBlockPublicAccessStateCommand({}))).toMatchObject({ ImageBlockPublicAccessState: 'block-new-sharing', ManagedBy: 'account' });
    expect(await ec2.send(new GetSnapshotBlockPublicAccessStateCommand({}))).toMatchObject({ State: 'unblocked', ManagedBy: 'account' });
    const defaults = await ec2.send(new GetInstanceMetadataDefaultsCommand({}));
    expect(defaults.AccountLevel?.HttpTokens).toBeUndefined();
    expect((await ec2.send(new DescribeClientVpnEndpointsCommand({}))).ClientVpnEndpoints ?? []).toEqual([]);
    await expect(ec2.send(new DescribeClientVpnEndpointsCommand({ ClientVpnEndpointIds: ['cvpn-endpoint-0123456789abcdef0'] })))
      .rejects.toMatchObject({ name: 'InvalidClientVpnEndpointId.NotFound' });
    await expect(ec2.send(new GetImageBlockPublicAccessStateCommand({ DryRun: true }))).rejects.toMatchObject({ name: 'DryRunOperation' });
    const trail = c.gateway.service('cloudtrail').trail.all(root.accountId).map((r) => r.eventName);
    expect(trail).toEqual(expect.arrayContaining(['GetImageBlockPublicAccessState', 'GetSnapshotBlockPublicAccessState', 'GetInstanceMetadataDefaults', 'DescribeClientVpnEndpoints']));
  });

  it('making an AMI public is refused while block public access for AMIs is enabled, allowed once disabled', async () => {
    const c = cloud();
    const root = c.createAccount();
    const ec2 = c.client(EC2Client, { credentials: { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey } });
    const amis = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
    const run = await ec2.send(new RunInstancesCommand({ ImageId: amis.Images![0]!.ImageId!, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' }));
    const { ImageId } = await ec2.send(new CreateImageCommand({ InstanceId: run.Instances![0]!.InstanceId!, Name: 'golden' }));
    const makePublic = new ModifyImageAttributeCommand({ ImageId, LaunchPermission: { Add: [{ Group: 'all' }] } });
    await expect(ec2.send(makePublic)).rejects.toMatchObject({ name: 'OperationNotPermitted' });
    // Sharing with one account is not public sharing.
    await ec2.send(new ModifyImageAttributeCommand({ ImageId, LaunchPermission: { Add: [{ UserId: '111122223333' }] } }));
    expect((await ec2.send(new DisableImageBlockPublicAccessCommand({}))).ImageBlockPublicAccessState).toBe('unblocked');
    expect((await ec2.send(new GetImageBlockPublicAccessStateCommand({}))).ImageBlockPublicAccessState).toBe('unblocked');
    await ec2.send(makePublic);
    const perms = await ec2.send(new DescribeImageAttributeCommand({ ImageId, Attribute: 'launchPermission' }));
    expect(perms.LaunchPermissions).toEqual(expect.arrayContaining([{ Group: 'all' }]));
    expect((await ec2.send(new EnableImageBlockPublicAccessCommand({ ImageBlockPublicAccessState: 'block-new-sharing' }))).ImageBlockPublicAccessState).toBe('block-new-sharing');
    expect((await ec2.send(new GetImageBlockPublicAccessStateCommand({}))).ImageBlockPublicAccessState).toBe('block-new-sharing');
    // Per region, and per account.
    const other = c.client(EC2Client, { credentials: { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey }, region: 'eu-west-1' });
    expect((await other.send(new GetImageBlockPublicAccessStateCommand({}))).ImageBlockPublicAccessState).toBe('block-new-sharing');
    await ec2.send(new DisableImageBlockPublicAccessCommand({}));
    expect(c.gateway.service('ec2').settings.imageBlockPublicAccess(root.accountId, c.region)).toBe('unblocked');
    c.gateway.dropAccount(root.accountId);
    expect(c.gateway.service('ec2').settings.imageBlockPublicAccess(root.accountId, c.region)).toBe('block-new-sharing');
  });
});
