// Shared by the host lab's attacks on its data and its instance: the attacker's foothold (dev-chris's
// stolen key, a rogue address from the run's seed), what the attacks aim at (the web server's data
// volume, every snapshot of the account) and steps that are not SDK calls (requests through an SSRF).
import { EC2Client, DescribeSnapshotsCommand, type Snapshot, type Volume } from '@aws-sdk/client-ec2';
import type { LabSession } from '../../src/engine/session.ts';
import type { AttackStep } from '../../src/engine/types.ts';
import type { AwsCredentials } from '../../src/cloud/labcloud.ts';
import { attempt } from './attack.ts';
import { randomRogueIp } from '../../labs/iam/company.ts';
import { DEVELOPER, hostEnv } from '../../labs/host/company.ts';
import { attachedVolumes, webInstance } from '../../labs/host/server.ts';

/** A public address outside the company, drawn from the run's seed (never wall-clock randomness). */
export function rogueIp(s: LabSession): string {
  return randomRogueIp(s.random);
}

/** dev-chris's access key, as stolen from the laptop; undefined when he has none left. */
export function developerKey(s: LabSession): AwsCredentials | undefined {
  const k = s.keysOf(DEVELOPER)[0];
  return k ? { accessKeyId: k.accessKeyId, secretAccessKey: k.secret } : undefined;
}

/** /dev/sdf and /dev/xvdf name the same device (AWS renames sd* to xvd* on Xen and the reverse). */
export function sameDevice(a: string | undefined, b: string | undefined): boolean {
  const norm = (d: string | undefined) => (d ?? '').replace(/^\/dev\//, '').replace(/^(xvd|sd)/, 'xvd');
  return !!a && !!b && norm(a) === norm(b);
}

export interface DataTargets {
  /** The web server (newest running instance tagged Name=env.instanceName). */
  instanceId?: string;
  /** The volume attached to it at env.data.device. */
  dataVolume?: Volume;
  /** Every snapshot the account owns (the bookings data and its copies among them), oldest first. */
  snapshots: Snapshot[];
}

/** What the attacks aim at, as the grader sees the account (the attacker finds the same with Describe*). */
export async function dataTargets(s: LabSession): Promise<DataTargets> {
  const env = hostEnv(s.env);
  const web = await webInstance(s);
  const instanceId = web?.instance.InstanceId;
  const dataVolume = instanceId ? (await attachedVolumes(s, instanceId)).find((a) => sameDevice(a.device, env.data.device))?.volume : undefined;
  // The account's own snapshots: moto's answer to OwnerIds self also holds the public images'
  // snapshots of other owners, and every image has a snapshot of its own (no bookings data in either).
  const snaps = ((await s.client(EC2Client).send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots ?? [])
    .filter((x) => x.OwnerId === s.accountId && !/^Auto-created snapshot for AMI /.test(x.Description ?? ''));
  snaps.sort((a, b) => (a.StartTime?.getTime() ?? 0) - (b.StartTime?.getTime() ?? 0) || (a.SnapshotId ?? '').localeCompare(b.SnapshotId ?? ''));
  return { instanceId, dataVolume, snapshots: snaps };
}

/** "unencrypted" or "encrypted with <key>" for feedback. */
export function encryptionOf(x: { Encrypted?: boolean; KmsKeyId?: string }): string {
  return x.Encrypted ? `encrypted with ${x.KmsKeyId ?? 'a KMS key'}` : 'not encrypted';
}

/**
 * attempt(), for EBS calls: EC2 refuses to share a snapshot encrypted with the AWS managed key aws/ebs
 * (InvalidParameter "Encrypted snapshots with EBS default key cannot be shared") and to make an
 * encrypted snapshot public (OperationNotPermitted). Those codes also mean a malformed request
 * elsewhere, so they stay out of attempt()'s refusals; here, with that message, they are what the
 * choice of key refused.
 */
export async function attemptEbs<T>(s: LabSession, description: string, call: () => Promise<T>): Promise<{ step: AttackStep; value?: T }> {
  let value: T | undefined;
  let error: { name?: string; message?: string } | undefined;
  const step = await attempt(s, description, async () => {
    try {
      value = await call();
    } catch (e) {
      error = e as { name?: string; message?: string };
      throw e;
    }
  });
  if (step.allowed && error && (
    (error.name === 'InvalidParameter' && /EBS default key cannot be shared/i.test(error.message ?? ''))
    || (error.name === 'OperationNotPermitted' && /Encrypted snapshots cannot be shared publicly/i.test(error.message ?? ''))
  )) step.allowed = false;
  return { step, value: step.errorCode ? undefined : value };
}

/** A step that is not an SDK call (an HTTP request the vulnerable app made for the attacker). */
export function recordStep(s: LabSession, description: string, allowed: boolean, errorCode?: string, at = s.now()): AttackStep {
  const step: AttackStep = { description, allowed, ...(errorCode ? { errorCode } : {}), at };
  s.onAttackStep?.(step);
  return step;
}
