// Lab host's checks: posture (the key and its policy, EBS encryption, the data, the instance's metadata
// options, CIS Level 1 on the instance's root folder, TLS on its real nginx) and business (the site
// answers over HTTPS with its content, the admins log in with their keys, the app reads its data).
// Every verdict comes from the lab cloud: the key policy through the gateway's own authorizer, the
// host from the folder its user data produced, TLS from real handshakes with the nginx it configures.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { EC2Client, GetEbsDefaultKmsKeyIdCommand } from '@aws-sdk/client-ec2';
import { S3Client, ListObjectsV2Command, GetObjectCommand } from '@aws-sdk/client-s3';
import type { Check, CheckOutcome } from '../../src/engine/types.ts';
import type { LabSession } from '../../src/engine/session.ts';
import type { Credential } from '../../src/cloud/gateway/credentials.ts';
import type { Result } from '../../src/controls/cis/index.ts';
import { parseFstab, RootFs } from '../../src/controls/cis/index.ts';
import { DEVELOPER, SITE_MARKER, hostEnv } from './company.ts';
import { attachedVolumes, caBundle, cisOf, hostOf, NO_SERVER, tlsOf, webInstance, withWebServer } from './server.ts';
import { keyLogin } from './ssh.ts';

const env = (s: LabSession) => hostEnv(s.env);
const pass = (feedback: string): CheckOutcome => ({ passed: true, feedback });
const fail = (feedback: string): CheckOutcome => ({ passed: false, feedback });

// ---- the key: KMS as the lab cloud holds it (read past authorization: a tight key policy may keep even the root out) ----

interface KeyInfo {
  arn: string;
  id: string;
  state: string;
  manager: string;
  spec?: string;
  rotation?: boolean;
  aliases: string[];
}

async function keyInfo(s: LabSession, ref: string): Promise<KeyInfo | undefined> {
  const up = s.gateway.upstream;
  try {
    const d = await up.json<{ KeyMetadata?: { Arn?: string; KeyId?: string; KeyState?: string; KeyManager?: string; KeySpec?: string } }>(s.accountId, 'kms', 'DescribeKey', { KeyId: ref }, s.cloud.region);
    const m = d.KeyMetadata;
    if (!m?.KeyId) return undefined;
    const rot = await up.json<{ KeyRotationEnabled?: boolean }>(s.accountId, 'kms', 'GetKeyRotationStatus', { KeyId: m.KeyId }, s.cloud.region).catch(() => ({ KeyRotationEnabled: undefined }));
    const al = await up.json<{ Aliases?: { AliasName?: string; TargetKeyId?: string }[] }>(s.accountId, 'kms', 'ListAliases', { KeyId: m.KeyId }, s.cloud.region).catch(() => ({ Aliases: [] }));
    const aliases = (al.Aliases ?? []).filter((a) => !a.TargetKeyId || a.TargetKeyId === m.KeyId).map((a) => a.AliasName ?? '');
    return {
      arn: m.Arn!, id: m.KeyId, state: m.KeyState ?? 'Enabled',
      // moto makes the AWS managed key aws/ebs as a customer key: its alias tells.
      manager: aliases.some((a) => a.startsWith('alias/aws/')) ? 'AWS' : m.KeyManager ?? 'CUSTOMER', ...(m.KeySpec ? { spec: m.KeySpec } : {}),
      ...(rot.KeyRotationEnabled !== undefined ? { rotation: rot.KeyRotationEnabled } : {}),
      aliases,
    };
  } catch {
    return undefined;
  }
}

interface Inspection {
  instanceId?: string;
  /** The instance's volumes by device, with the key that encrypts each. */
  volumes: { device: string; volumeId: string; encrypted: boolean; key?: KeyInfo; snapshotId?: string; root: boolean }[];
  data?: { device: string; volumeId: string; encrypted: boolean; key?: KeyInfo; snapshotId?: string; fromBookings: boolean };
  /** The key judged: the data volume's, else the EBS default key, else the account's newest customer managed key. */
  key?: KeyInfo;
  byDefault: boolean;
  defaultKey?: KeyInfo;
  metadata?: { HttpTokens?: string; HttpPutResponseHopLimit?: number; HttpEndpoint?: string };
  profileArn?: string;
}

const inspections = new WeakMap<LabSession, { afterAttacks: boolean; p: Promise<Inspection> }>();

/** What the account holds, read once per phase (business checks run again after the attacks: read again then). */
function inspect(s: LabSession): Promise<Inspection> {
  let c = inspections.get(s);
  if (!c || c.afterAttacks !== s.attacksRan) {
    c = { afterAttacks: s.attacksRan, p: load(s) };
    inspections.set(s, c);
  }
  return c.p;
}

/** Whether a snapshot holds the bookings data: the provisioned one or a copy of it. */
function fromBookings(s: LabSession, snapshotId: string | undefined): boolean {
  if (!snapshotId) return false;
  const origin = env(s).data.snapshotId;
  return snapshotId === origin || s.gateway.service('kms').ebs.ancestry(snapshotId).includes(origin);
}

interface SnapshotRow { SnapshotId?: string; VolumeId?: string; Encrypted?: boolean }
interface VolumeRow { VolumeId?: string; SnapshotId?: string; Encrypted?: boolean }

/**
 * The snapshots and volumes of the account that hold the bookings: the provisioned snapshot, its copies,
 * volumes made from any of them, snapshots of those volumes, and so on (moto's own AMI snapshots are not).
 */
async function bookingsCopies(s: LabSession): Promise<{ snapshots: SnapshotRow[]; volumes: VolumeRow[] }> {
  const up = s.gateway.upstream;
  const snaps = (await up.json<{ Snapshots?: SnapshotRow[] }>(s.accountId, 'ec2', 'DescribeSnapshots', { OwnerIds: ['self'] }, s.cloud.region)).Snapshots ?? [];
  const vols = (await up.json<{ Volumes?: VolumeRow[] }>(s.accountId, 'ec2', 'DescribeVolumes', {}, s.cloud.region)).Volumes ?? [];
  const data = new Set([env(s).data.snapshotId]);
  for (let grew = true; grew;) {
    grew = false;
    for (const x of snaps) {
      if (!x.SnapshotId || data.has(x.SnapshotId)) continue;
      if (s.gateway.service('kms').ebs.ancestry(x.SnapshotId).some((a) => data.has(a)) || (x.VolumeId && data.has(x.VolumeId))) { data.add(x.SnapshotId); grew = true; }
    }
    for (const v of vols) {
      if (v.VolumeId && !data.has(v.VolumeId) && v.SnapshotId && data.has(v.SnapshotId)) { data.add(v.VolumeId); grew = true; }
    }
  }
  return { snapshots: snaps.filter((x) => data.has(x.SnapshotId ?? '')), volumes: vols.filter((v) => data.has(v.VolumeId ?? '')) };
}

async function load(s: LabSession): Promise<Inspection> {
  const e = env(s);
  const up = s.gateway.upstream;
  const region = s.cloud.region;
  const byDefault = (await up.json<{ EbsEncryptionByDefault?: boolean }>(s.accountId, 'ec2', 'GetEbsEncryptionByDefault', {}, region).catch(() => ({ EbsEncryptionByDefault: false }))).EbsEncryptionByDefault === true;
  // The default key as the gateway keeps it (moto lacks GetEbsDefaultKmsKeyId): ask through the gateway as the account.
  let defaultKey: KeyInfo | undefined;
  try {
    const r = await s.client(EC2Client).send(new GetEbsDefaultKmsKeyIdCommand({}));
    if (r.KmsKeyId) defaultKey = await keyInfo(s, r.KmsKeyId);
  } catch { /* no default key */ }
  const w = await webInstance(s);
  const out: Inspection = { volumes: [], byDefault, ...(defaultKey ? { defaultKey } : {}) };
  if (w) {
    const i = w.instance;
    out.instanceId = i.InstanceId!;
    out.metadata = { HttpTokens: i.MetadataOptions?.HttpTokens, HttpPutResponseHopLimit: i.MetadataOptions?.HttpPutResponseHopLimit, HttpEndpoint: i.MetadataOptions?.HttpEndpoint };
    if (i.IamInstanceProfile?.Arn) out.profileArn = i.IamInstanceProfile.Arn;
    for (const { device, volume } of await attachedVolumes(s, i.InstanceId!)) {
      const key = volume.KmsKeyId ? await keyInfo(s, volume.KmsKeyId) : undefined;
      out.volumes.push({ device, volumeId: volume.VolumeId!, encrypted: volume.Encrypted === true, ...(key ? { key } : {}), ...(volume.SnapshotId ? { snapshotId: volume.SnapshotId } : {}), root: device === i.RootDeviceName });
    }
    const short = (d: string) => d.replace(/^\/dev\//, '').replace(/^sd/, 'xvd');
    const data = out.volumes.find((v) => short(v.device) === short(e.data.device)) ?? out.volumes.find((v) => fromBookings(s, v.snapshotId));
    if (data) out.data = { ...data, fromBookings: fromBookings(s, data.snapshotId) };
  }
  // With a data volume, its key is the one judged (a tight decoy key set as the default must not stand in for it).
  out.key = out.data ? (out.data.key?.manager === 'CUSTOMER' ? out.data.key : undefined) : defaultKey?.manager === 'CUSTOMER' ? defaultKey : undefined;
  if (!out.key && !out.data) {
    // The account's customer managed keys: judge the policy of the newest one.
    const keys = await up.json<{ Keys?: { KeyId?: string }[] }>(s.accountId, 'kms', 'ListKeys', {}, region).catch(() => ({ Keys: [] }));
    for (const k of [...(keys.Keys ?? [])].reverse()) {
      const info = await keyInfo(s, k.KeyId!);
      if (info?.manager === 'CUSTOMER' && info.state !== 'PendingDeletion') { out.key = info; break; }
    }
  }
  return out;
}

// ---- who may use the key: the gateway's own authorizer, with the context EC2's use of the key has ----

function principal(s: LabSession, who: 'developer' | 'platform' | 'keyAdmins' | 'outside'): Credential {
  const now = s.gateway.clock.now();
  const e = env(s);
  const role = (name: string, account = s.accountId): Credential => ({
    accessKeyId: 'ASIASIMULATED0000000', secret: '', account, kind: 'role-session', roleName: name, roleArn: `arn:aws:iam::${account}:role/${name}`,
    sessionName: 'seclab-grader', arn: `arn:aws:sts::${account}:assumed-role/${name}/seclab-grader`, status: 'Active',
    issuedAt: now, expiresAt: new Date(now.getTime() + 3600_000),
  });
  if (who === 'platform') return role(e.platformRole.name);
  if (who === 'keyAdmins') return role(e.keyAdminsRole.name);
  // Another account's root: its own IAM allows it everything, so only the key policy can refuse it
  // (a role of an account the lab cloud does not know would be refused for not existing).
  if (who === 'outside') return { accessKeyId: 'AKIASIMULATED0000001', secret: '', account: '999988887777', kind: 'root', arn: 'arn:aws:iam::999988887777:root', status: 'Active' };
  return { accessKeyId: 'AKIASIMULATED0000000', secret: '', account: s.accountId, kind: 'user', userName: DEVELOPER, arn: `arn:aws:iam::${s.accountId}:user/${DEVELOPER}`, status: 'Active' };
}

/** What KMS decides for `who` doing `action` on the key, directly or (viaEc2) as EC2 does it on their behalf. */
async function keyDecision(s: LabSession, key: KeyInfo, who: 'developer' | 'platform' | 'keyAdmins' | 'outside', action: string, viaEc2: boolean): Promise<boolean> {
  const cred = principal(s, who);
  const context = s.gateway.contextOf(cred, '203.0.113.10', 'aws-sdk-js/3.1169.0 ua/2.1 os/linux lang/js md/nodejs#20 api/ec2#3.1169.0', { region: s.cloud.region });
  const ctx: Record<string, string | string[] | undefined> = { ...context, 'kms:CallerAccount': cred.account };
  if (viaEc2) ctx['kms:ViaService'] = `ec2.${s.cloud.region}.amazonaws.com`;
  if (action === 'kms:CreateGrant' && viaEc2) {
    ctx['kms:GrantIsForAWSResource'] = 'true';
    ctx['kms:GrantOperations'] = ['Decrypt', 'Encrypt', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo', 'CreateGrant', 'RetireGrant', 'DescribeKey'];
  }
  return (await s.gateway.decide(cred, action, key.arn, ctx, s.cloud.region)).decision === 'Allow';
}

/** The KMS calls EC2 makes with the caller's permissions to create, attach and launch with an encrypted volume. */
const EBS_USE = ['kms:CreateGrant', 'kms:Decrypt', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:DescribeKey'];

// ---- CIS: groups of recommendations graded together ----

interface CisGroup { id: string; title: string; points: number; prefixes: string[]; hidden?: boolean }

const CIS_GROUPS: CisGroup[] = [
  { id: 'cis-filesystem-kernel', title: 'CIS 1: kernel modules, temporary file systems, boot and process hardening, banners', points: 4, prefixes: ['1.'] },
  { id: 'cis-services', title: 'CIS 2: no unneeded services or clients, time synchronisation, cron restricted', points: 3, prefixes: ['2.'] },
  { id: 'cis-network', title: 'CIS 3–4: network kernel parameters and protocols, host firewall', points: 3, prefixes: ['3.', '4.'] },
  { id: 'cis-ssh', title: 'CIS 5.1: the SSH server', points: 5, prefixes: ['5.1.'] },
  { id: 'cis-privilege-accounts', title: 'CIS 5.2–5.4: sudo, PAM, password policy and accounts', points: 4, prefixes: ['5.2.', '5.3.', '5.4.'] },
  { id: 'cis-logging', title: 'CIS 6: logging and auditing', points: 2, prefixes: ['6.'] },
  { id: 'cis-maintenance', title: 'CIS 7: permissions of system files, users and groups', points: 1, prefixes: ['7.'], hidden: true },
];

const inGroup = (g: CisGroup, r: Result) => g.prefixes.some((p) => r.id.startsWith(p));

/**
 * The lab's tailoring of the benchmark (what an OpenSCAP tailoring file does): recommendations CIS
 * itself makes conditional ("unless required"), which this server's role requires.
 */
export const TAILORING: Record<string, string> = {
  '2.1.18': 'not applied: this server\'s role is to serve the web site (CIS: "unless required")',
};

function cisCheck(g: CisGroup): Check {
  return {
    // Restrictive: a host hardened into uselessness (the admins locked out, the site down) earns nothing.
    id: g.id, title: g.title, kind: 'posture', points: g.points, task: 'launch', restrictive: true, ...(g.hidden ? { hidden: true } : {}),
    async run(s) {
      const c = await cisOf(s);
      if ('error' in c) return fail(c.error);
      const rs = c.report.results.filter((r) => inGroup(g, r) && !TAILORING[r.id]);
      const tailored = c.report.results.filter((r) => inGroup(g, r) && TAILORING[r.id]).map((r) => `${r.id} ${TAILORING[r.id]}`);
      const failed = rs.filter((r) => r.status === 'fail');
      const passed = rs.filter((r) => r.status === 'pass').length;
      const manual = rs.filter((r) => r.status === 'manual').length;
      const ud = c.host.userData;
      const note = !ud ? ' — the instance has no user data: it is the plain image' : !ud.ok ? ` — note: its user data had failures (\`seclab host fs ${c.host.instanceId} --json\`)` : '';
      if (!failed.length && !passed) return fail(`none of this group's recommendations could be judged on the instance (all ${rs.length} not applicable or manual): is what they govern (sshd, PAM, …) installed?`);
      if (!failed.length) return pass(`${passed} recommendations pass${manual ? `, ${manual} need a running system (manual)` : ''}${tailored.length ? `; ${tailored.join('; ')}` : ''}`);
      const shown = failed.slice(0, 4).map((r) => r.id).join(', ');
      const first = failed[0]!;
      const where = first.evidence[0] ? ` (${first.evidence[0].file}${first.evidence[0].line ? `:${first.evidence[0].line}` : ''})` : '';
      const trim = (t: string) => t.trim().replace(/[.\s]+$/, '');
      return fail(`${failed.length} of ${passed + failed.length} fail (${shown}${failed.length > 4 ? ', …' : ''}). First, ${first.id} ${first.title}: ${trim(first.detail)}${where}. Fix: ${trim(first.remediation)}${note}. \`seclab cis scan "$(seclab host fs ${c.host.instanceId})"\` lists them all`);
    },
  };
}


// ---- TLS ----

const WEAK = /RC4|DES|NULL|EXPORT|anon|MD5|IDEA|SEED|PSK/i;

/** GET https://<host>/ on the web server's port 443, trusting the company CA only. */
function httpsGet(port: number, host: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, servername: host, path: '/', method: 'GET', headers: { host }, ca, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** What the bookings sync job on the host gets from IMDS, and whether those credentials read the bucket. */
async function syncJobReads(s: LabSession, instanceId: string, bucket: string): Promise<{ ok: true } | { ok: false; why: string }> {
  const imds = s.gateway.service('ec2').imds;
  const base = '/latest/meta-data/iam/security-credentials/';
  const list = await imds.sdkGet(s.accountId, instanceId, base, { hops: 1 });
  if (list.status !== 200) return { ok: false, why: `the instance metadata service gives it no role (${list.status ? `HTTP ${list.status}` : list.error ?? 'no answer'}): keep HttpEndpoint enabled and the instance profile attached` };
  const role = list.body.split('\n').map((x) => x.trim()).find(Boolean);
  const got = role ? await imds.sdkGet(s.accountId, instanceId, `${base}${role}`, { hops: 1 }) : undefined;
  let c: { AccessKeyId?: string; SecretAccessKey?: string; Token?: string } = {};
  try { c = JSON.parse(got?.body ?? '{}') as typeof c; } catch { /* not credentials */ }
  if (!c.AccessKeyId || !c.SecretAccessKey) return { ok: false, why: `no credentials for ${role ?? 'its role'} (${got?.status ? `HTTP ${got.status}` : 'no answer'})` };
  const s3 = s.client(S3Client, { credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, ...(c.Token ? { sessionToken: c.Token } : {}) } });
  try {
    const first = (await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents?.[0]?.Key;
    if (first) await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: first }))).Body?.transformToString();
    return { ok: true };
  } catch (err) {
    return { ok: false, why: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

export const checks: Check[] = [
  // ---- task 1: the key ----
  {
    id: 'key-customer-managed', title: 'A customer managed KMS key, enabled, with rotation and an alias', kind: 'posture', points: 4, task: 'key',
    async run(s) {
      const i = await inspect(s);
      const k = i.key;
      if (!k) return fail(i.data ? `the data volume ${i.data.volumeId} is ${i.data.encrypted ? 'encrypted with the AWS managed key aws/ebs' : 'not encrypted'}: the key judged is the data volume's — encrypt it with a customer managed key of your own (CreateKey as the platform role, with a key policy of your own)` : 'there is no customer managed KMS key for the web server: CreateKey (as the platform role) with a key policy of your own');
      const problems = [
        k.state !== 'Enabled' ? `it is ${k.state}` : '',
        k.rotation !== true ? 'automatic rotation is off (EnableKeyRotation)' : '',
        !k.aliases.some((a) => !a.startsWith('alias/aws/')) ? 'it has no alias (CreateAlias alias/fabrikam-web): people and policies should not depend on a key id' : '',
      ].filter(Boolean);
      return problems.length ? fail(`${k.id}: ${problems.join('; ')}`) : pass(`${k.aliases.join(', ')} (${k.id}): enabled, rotated every year`);
    },
  },
  {
    id: 'key-policy-limits-use', title: 'The key policy lets only the platform team use the key, and only through EC2', kind: 'posture', points: 8, task: 'key', restrictive: true,
    async run(s) {
      const i = await inspect(s);
      const k = i.key;
      if (!k) return fail('there is no customer managed key to judge');
      const problems: string[] = [];
      for (const action of EBS_USE) {
        if (await keyDecision(s, k, 'developer', action, true)) { problems.push(`the developers (PowerUserAccess) may ${action} through EC2: they can make and attach volumes of the bookings data — a key policy statement for arn:aws:iam::${s.accountId}:root hands the key to every IAM policy that allows KMS`); break; }
      }
      if (await keyDecision(s, k, 'outside', 'kms:CreateGrant', true) || await keyDecision(s, k, 'outside', 'kms:Decrypt', true)) problems.push('another AWS account may use the key: a snapshot shared with it could be restored there');
      if (await keyDecision(s, k, 'keyAdmins', 'kms:Decrypt', false)) problems.push(`the key administrators (${env(s).keyAdminsRole.name}) may kms:Decrypt: administering a key should not mean reading the data`);
      // kms:Create* (AWS's default administrator statement) includes kms:CreateGrant: a grant to
      // themselves lets administrators decrypt after all.
      else if (await keyDecision(s, k, 'keyAdmins', 'kms:CreateGrant', false)) problems.push(`the key administrators (${env(s).keyAdminsRole.name}) may kms:CreateGrant: a grant to themselves lets them decrypt — give them kms:CreateAlias, not kms:Create*`);
      const platformMay = [];
      for (const action of EBS_USE) if (!(await keyDecision(s, k, 'platform', action, true))) platformMay.push(action);
      if (platformMay.length) problems.push(`the platform role (${env(s).platformRole.name}) may not ${platformMay.join(', ')} through EC2: it cannot launch the server with encrypted volumes`);
      if (!(await keyDecision(s, k, 'keyAdmins', 'kms:PutKeyPolicy', false)) && !(await keyDecision(s, k, 'keyAdmins', 'kms:ScheduleKeyDeletion', false))) problems.push(`the key administrators (${env(s).keyAdminsRole.name}) cannot administer the key`);
      return problems.length ? fail(problems.join('; ')) : pass('developers, other accounts and the key administrators cannot use the key; the platform role can, through EC2; the key administrators administer it');
    },
  },
  {
    id: 'key-use-only-through-ec2', title: 'Even the platform role cannot decrypt with the key outside EC2', kind: 'posture', points: 3, task: 'key', hidden: true,
    async run(s) {
      const k = (await inspect(s)).key;
      if (!k) return fail('there is no customer managed key to judge');
      const direct = [];
      for (const action of ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom']) if (await keyDecision(s, k, 'platform', action, false)) direct.push(action);
      return direct.length ? fail(`the platform role may ${direct.join(', ')} directly (not through EC2): add Condition StringEquals kms:ViaService ec2.${s.cloud.region}.amazonaws.com`) : pass('only through EC2 (kms:ViaService)');
    },
  },

  // ---- task 2: EBS encryption by default ----
  {
    id: 'ebs-encryption-by-default', title: 'EBS encryption by default is on, with the customer managed key', kind: 'posture', points: 5, task: 'default-encryption',
    async run(s) {
      const i = await inspect(s);
      if (!i.byDefault) return fail('EBS encryption by default is off in this Region: EnableEbsEncryptionByDefault');
      if (!i.defaultKey || i.defaultKey.manager !== 'CUSTOMER') return fail('encryption by default is on, but with the AWS managed key aws/ebs: ModifyEbsDefaultKmsKeyId with your key (snapshots under aws/ebs cannot be shared, and nobody can tighten its policy)');
      if (i.key && i.defaultKey.arn !== i.key.arn) return fail(`the default key is ${i.defaultKey.aliases[0] ?? i.defaultKey.id}, not the key of the data volume`);
      return pass(`on, with ${i.defaultKey.aliases[0] ?? i.defaultKey.id}`);
    },
  },

  // ---- task 3: the data ----
  {
    id: 'volumes-encrypted-with-cmk', title: 'The web server\'s root and data volumes are encrypted with the customer managed key', kind: 'posture', points: 6, task: 'data', restrictive: true,
    async run(s) {
      const i = await inspect(s);
      if (!i.instanceId) return fail(NO_SERVER(s));
      if (!i.volumes.length) return fail(`${i.instanceId} has no volume attached`);
      const bad = i.volumes.filter((v) => !v.encrypted || v.key?.manager !== 'CUSTOMER');
      if (!i.data) bad.push({ device: env(s).data.device, volumeId: '(none)', encrypted: false, root: false });
      else if (!i.data.fromBookings) return fail(`the volume at ${i.data.device} (${i.data.volumeId}) was not made from the bookings data: encrypt the bookings (an encrypted copy of env.data.snapshotId), not an empty disk`);
      if (!bad.length) return pass(`${i.volumes.map((v) => `${v.device} ${v.volumeId}`).join(', ')}: encrypted with ${i.volumes[0]!.key!.aliases[0] ?? i.volumes[0]!.key!.id}`);
      return fail(bad.map((v) => (v.volumeId === '(none)' ? `no data volume at ${v.device}` : !v.encrypted ? `${v.device} (${v.volumeId}) is not encrypted` : `${v.device} (${v.volumeId}) is encrypted with the AWS managed key aws/ebs`)).join('; '));
    },
  },
  {
    id: 'no-unencrypted-copies', title: 'No unencrypted snapshot or volume of the data is left in the account', kind: 'posture', points: 4, task: 'data', restrictive: true,
    async run(s) {
      const { snapshots, volumes } = await bookingsCopies(s);
      const plainSnaps = snapshots.filter((x) => !x.Encrypted);
      const plainVols = volumes.filter((v) => !v.Encrypted);
      if (!plainSnaps.length && !plainVols.length) return pass(`${snapshots.length} snapshot(s) and ${volumes.length} volume(s) hold the bookings, all encrypted`);
      const first = plainSnaps.find((x) => x.SnapshotId === env(s).data.snapshotId);
      return fail([
        first ? `the old server's snapshot ${first.SnapshotId} (not encrypted) is still there: anyone who may CreateVolume in the account reads the bookings from it — DeleteSnapshot once your encrypted copy exists` : '',
        plainSnaps.filter((x) => x !== first).length ? `unencrypted snapshots of the bookings: ${plainSnaps.filter((x) => x !== first).map((x) => x.SnapshotId).join(', ')}` : '',
        plainVols.length ? `unencrypted volumes of the bookings: ${plainVols.map((v) => v.VolumeId).join(', ')}` : '',
      ].filter(Boolean).join('; '));
    },
  },

  // ---- task 4: the launch ----
  {
    id: 'imdsv2-only', title: 'The instance metadata service answers IMDSv2 only, with a hop limit of 1', kind: 'posture', points: 5, task: 'launch', restrictive: true,
    async run(s) {
      const i = await inspect(s);
      if (!i.instanceId) return fail(NO_SERVER(s));
      const m = i.metadata ?? {};
      if (m.HttpEndpoint === 'disabled') return pass('the metadata service is disabled: no SSRF can reach it (but the sync job on the host gets no credentials either)');
      if (m.HttpTokens !== 'required') return fail(`HttpTokens is ${m.HttpTokens ?? 'optional'}: IMDSv1 answers any GET — an SSRF in the app reads the role's credentials (ModifyInstanceMetadataOptions HttpTokens required)`);
      if ((m.HttpPutResponseHopLimit ?? 1) > 1) return fail(`IMDSv2 required, but the hop limit is ${m.HttpPutResponseHopLimit}: containers on the host can still get a token — HttpPutResponseHopLimit 1`);
      return pass('HttpTokens required, hop limit 1');
    },
  },
  ...CIS_GROUPS.map(cisCheck),

  // ---- task 5: TLS ----
  {
    id: 'tls-protocols', title: 'Only TLS 1.2 and TLS 1.3 are accepted', kind: 'posture', points: 3, task: 'tls',
    async run(s) {
      const t = await tlsOf(s);
      if ('error' in t) return fail(t.error);
      const offered = t.result.protocols.filter((p) => p.offered).map((p) => p.protocol);
      const old = [...(t.result.sslv2.offered ? ['SSLv2'] : []), ...offered.filter((p) => !['TLSv1.2', 'TLSv1.3'].includes(p))];
      if (old.length) return fail(`the server accepts ${old.join(', ')}: \`ssl_protocols TLSv1.2 TLSv1.3;\` (in the http block or each server)`);
      if (!offered.length) return fail('no TLS version is offered');
      return pass(`${offered.join(' and ')} only`);
    },
  },
  {
    id: 'tls-ciphers', title: 'Only strong forward-secret AEAD cipher suites', kind: 'posture', points: 3, task: 'tls',
    async run(s) {
      const t = await tlsOf(s);
      if ('error' in t) return fail(t.error);
      const suites = t.result.ciphers.flatMap((c) => c.suites.map((x) => ({ ...x, protocol: c.protocol })));
      const weak = suites.filter((x) => WEAK.test(x.openssl) || WEAK.test(x.iana ?? ''));
      const noFs = suites.filter((x) => !x.fs);
      const cbc = suites.filter((x) => x.protocol !== 'TLSv1.3' && /CBC|SHA$/.test(x.iana ?? x.openssl) && !/GCM|CHACHA|CCM/.test(x.iana ?? x.openssl));
      const problems = [
        weak.length ? `weak suites: ${weak.slice(0, 4).map((x) => x.openssl).join(', ')}` : '',
        noFs.length ? `suites without forward secrecy (RSA key exchange): ${noFs.slice(0, 4).map((x) => x.openssl).join(', ')}` : '',
        cbc.length ? `CBC suites (not AEAD): ${cbc.slice(0, 4).map((x) => x.openssl).join(', ')}` : '',
      ].filter(Boolean);
      if (problems.length) return fail(`${problems.join('; ')} — ssl_ciphers with ECDHE and GCM/CHACHA20 suites only`);
      return pass(`${suites.length} suites, all ECDHE/TLS 1.3 with AEAD`);
    },
  },
  {
    id: 'tls-certificate', title: 'A certificate from the company CA for the site\'s name, with its chain', kind: 'posture', points: 2, task: 'tls',
    async run(s) {
      const t = await tlsOf(s);
      if ('error' in t) return fail(t.error);
      const c = t.result.certificate;
      if (!c) return fail(`no certificate could be read: ${t.result.certificateError ?? 'unknown error'}`);
      const problems = [
        !c.trusted ? `it is not trusted by clients that trust the company CA (${c.trustError ?? 'unknown issuer'}): use the certificate ACM issued from env.site.certificateAuthorityArn, followed by its chain` : '',
        !c.hostnameMatch ? `it does not cover ${env(s).site.hostName} (it names ${c.subjectAltNames.join(', ') || c.leaf.subject})` : '',
        c.expired ? 'it has expired' : '',
      ].filter(Boolean);
      return problems.length ? fail(problems.join('; ')) : pass(`${c.leaf.subject}, issued by ${c.leaf.issuer}, ${c.leaf.keyType} ${c.leaf.keyBits} bits, valid until ${c.leaf.notAfter}`);
    },
  },
  {
    id: 'tls-hsts', title: 'HSTS tells browsers to use HTTPS only, for a year', kind: 'posture', points: 2, task: 'tls',
    async run(s) {
      const t = await tlsOf(s);
      if ('error' in t) return fail(t.error);
      const h = t.result.https?.hsts;
      if (!h?.present) return fail(`the HTTPS answer has no Strict-Transport-Security header (${t.result.https?.status ? `status ${t.result.https.status}` : 'no HTTP answer'}): add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;`);
      if ((h.maxAge ?? 0) < 15_768_000) return fail(`HSTS max-age is ${h.maxAge} s: at least six months (31536000 is the usual year)`);
      return pass(`max-age ${h.maxAge}${h.includeSubDomains ? ', includeSubDomains' : ''}`);
    },
  },
  {
    id: 'http-redirects-to-https', title: 'Plain HTTP only redirects to HTTPS', kind: 'posture', points: 2, task: 'tls',
    async run(s) {
      const t = await tlsOf(s);
      if ('error' in t) return fail(t.error);
      const r = t.result.redirect;
      if (!t.server.ports.includes(80) || !r || !r.listening) return fail('nothing listens on port 80: people who type the name without https:// get no answer — serve port 80 with `return 301 https://$host$request_uri;`');
      if (!r.redirectsToHttps) return fail(`port 80 answers ${r.status ?? 'something'}${r.location ? ` → ${r.location}` : ''} instead of a redirect to https://: return 301 https://$host$request_uri;`);
      return pass(`port 80 answers ${r.status} → ${r.location}`);
    },
  },
  {
    id: 'tls-rating', title: 'The TLS configuration rates A or better (SSL Labs rules)', kind: 'posture', points: 1, task: 'tls', hidden: true,
    async run(s) {
      const t = await tlsOf(s);
      if ('error' in t) return fail(t.error);
      const g = t.result.rating.grade;
      return /^A/.test(g) ? pass(`rated ${g}`) : fail(`rated ${g}: ${t.result.rating.caps.slice(0, 3).map((c) => c.reason).join('; ') || t.result.rating.aPlus}`);
    },
  },

  // ---- business ----
  {
    id: 'site-over-https', title: 'The site answers over HTTPS with its home page', kind: 'business', points: 0,
    async run(s) {
      const e = env(s);
      const ca = readFileSync(await caBundle(s), 'utf8');
      const r = await withWebServer(s, async (server) => {
        const port = server.hostPort(443);
        if (port === undefined) return fail('nothing listens on port 443');
        try {
          const res = await httpsGet(port, e.site.hostName, ca);
          if (res.status !== 200) return fail(`GET https://${e.site.hostName}/ answered ${res.status}`);
          if (!res.body.includes(SITE_MARKER)) return fail(`GET https://${e.site.hostName}/ answered 200 but not with the company's home page (env.site.indexHtml)`);
          return pass(`GET https://${e.site.hostName}/ → 200, the home page, with a certificate the company's clients trust`);
        } catch (err) {
          return fail(`GET https://${e.site.hostName}/ failed: ${(err as Error).message}`);
        }
      });
      return 'error' in r ? fail(r.error) : r.value;
    },
  },
  {
    id: 'admins-ssh-with-keys', title: 'The admins can log in over SSH with their keys, from the office', kind: 'business', points: 0,
    async run(s) {
      const e = env(s);
      const w = await webInstance(s);
      if (!w) return fail(NO_SERVER(s));
      let root: string;
      try {
        root = (await hostOf(s, w.instance.InstanceId!)).root;
      } catch (err) {
        return fail(`the web server's host could not be built: ${(err as Error).message}`);
      }
      const office = e.office.replace(/0\/\d+$/, '10');
      const problems: string[] = [];
      for (const a of e.admins) {
        const r = keyLogin(root, a.user, a.publicKey, office);
        if (!r.ok) problems.push(`${a.user}: ${r.reasons.join('; ')}`);
      }
      return problems.length ? fail(problems.join(' — ')) : pass(`${e.admins.map((a) => a.user).join(' and ')} log in with their keys from ${office}`);
    },
  },
  {
    id: 'developers-keep-their-access', title: 'The developers keep their access: dev-chris\'s key works, with EC2, KMS and S3 as PowerUserAccess gives them', kind: 'business', points: 0,
    async run(s) {
      // Cutting the developers off would make the key policy and the stolen-key attack look safe for free.
      if (!s.keysOf(DEVELOPER).length) return fail(`${DEVELOPER} has no active access key any more: the developers need theirs (protect the data with the key policy, not by locking people out)`);
      const refused: string[] = [];
      for (const action of ['ec2:RunInstances', 'ec2:CreateVolume', 'kms:CreateKey', 's3:ListAllMyBuckets']) {
        if ((await s.decide(DEVELOPER, action, '*')).decision !== 'Allow') refused.push(action);
      }
      return refused.length
        ? fail(`${DEVELOPER} may no longer ${refused.join(', ')}: the developers' PowerUserAccess must keep working (the key policy is where the data key is protected)`)
        : pass(`${DEVELOPER}'s key is active; EC2, KMS and S3 work for the developers as before`);
    },
  },
  {
    id: 'app-reads-its-data', title: 'The app reads the bookings: the data volume attached, its key usable, mounted where the app looks; the sync job on the host reads the bucket with the instance role', kind: 'business', points: 0,
    async run(s) {
      const e = env(s);
      const i = await inspect(s);
      if (!i.instanceId) return fail(NO_SERVER(s));
      if (!i.data) return fail(`no volume at ${e.data.device}: the app finds no bookings`);
      if (!i.data.fromBookings) return fail(`the volume at ${i.data.device} (${i.data.volumeId}) was not made from the bookings data (env.data.snapshotId or a copy of it): the app finds an empty disk`);
      if (i.data.key && i.data.key.state !== 'Enabled') return fail(`the data volume's key is ${i.data.key.state}: EC2 cannot decrypt the volume`);
      if (i.profileArn !== e.instanceProfile.arn && !i.profileArn?.endsWith(`/${e.instanceProfile.name}`)) return fail(`the instance does not have the instance profile ${e.instanceProfile.name}: the app cannot read the bookings bucket`);
      const w = await webInstance(s);
      let fstab;
      try {
        const root = (await hostOf(s, w!.instance.InstanceId!)).root;
        fstab = parseFstab(new RootFs(root));
      } catch (err) {
        return fail(`the web server's host could not be built: ${(err as Error).message}`);
      }
      const entry = fstab.find((m) => m.mountpoint === e.data.mountPoint);
      if (!entry) return fail(`nothing is mounted at ${e.data.mountPoint} (/etc/fstab): mount the data volume there from the user data (mounts:)`);
      // The bookings sync job on the host itself (one hop from IMDS) reads the bucket with the instance
      // role, as the AWS SDK does: an IMDSv2 token first, IMDSv1 when none can be had.
      const synced = await syncJobReads(s, i.instanceId, e.bucket);
      if (!synced.ok) return fail(`the bookings sync job on the host cannot read s3://${e.bucket}: ${synced.why}`);
      return pass(`${i.data.volumeId} (from the bookings data) at ${i.data.device}, mounted at ${e.data.mountPoint}, key enabled; the sync job on the host reads s3://${e.bucket} with ${e.instanceProfile.roleName}'s credentials`);
    },
  },
];
