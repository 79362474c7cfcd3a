// Reference solution of lab iam (slide 11). Shown to a student only after they pass the lab.
import {
  IAMClient, ListUsersCommand, ListMFADevicesCommand, ListUserPoliciesCommand, GetUserPolicyCommand,
  ListAttachedUserPoliciesCommand, CreateGroupCommand, PutGroupPolicyCommand, AttachGroupPolicyCommand,
  CreatePolicyCommand, CreateUserCommand, AddUserToGroupCommand, CreateAccessKeyCommand,
  CreateVirtualMFADeviceCommand, EnableMFADeviceCommand, DeleteUserPolicyCommand, DetachUserPolicyCommand,
  ListAccessKeysCommand, UpdateAccessKeyCommand, DeleteAccessKeyCommand, DeleteUserCommand,
} from '@aws-sdk/client-iam';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { totp, labNow, type LabInput } from 'seclab/kit';

interface Env {
  officeCidr: string;
  people: { name: string; role: 'admin' | 'developer' | 'analyst' }[];
  sharedUser: string;
  buckets: { customerData: string; artifacts: string; reports: string };
}

const iam = new IAMClient({});
const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

/** Error codes by which AWS refuses a caller (authorization), as CloudTrail records them. */
const REFUSED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'Client.UnauthorizedOperation']);

function inOffice(ip: string, cidr: string): boolean {
  // The office is a /24: compare the first three octets.
  return ip.split('.').slice(0, 3).join('.') === cidr.split('/')[0]!.split('.').slice(0, 3).join('.');
}

/** Task 4: review IAM and the access logs. Runs before apply(), on the account as it was found. */
export async function audit({ env }: LabInput<Env>) {
  const users = (await iam.send(new ListUsersCommand({}))).Users ?? [];
  const usersWithoutMfa: string[] = [];
  const overBroadPolicies: string[] = [];
  for (const u of users) {
    const name = u.UserName!;
    const devices = (await iam.send(new ListMFADevicesCommand({ UserName: name }))).MFADevices ?? [];
    if (!devices.length) usersWithoutMfa.push(name);
    for (const policyName of (await iam.send(new ListUserPoliciesCommand({ UserName: name }))).PolicyNames ?? []) {
      const p = await iam.send(new GetUserPolicyCommand({ UserName: name, PolicyName: policyName }));
      const statements = [JSON.parse(decodeURIComponent(p.PolicyDocument!)).Statement].flat();
      if (statements.some((s: { Effect: string; Action: string | string[] }) => s.Effect === 'Allow' && [s.Action].flat().includes('*'))) overBroadPolicies.push(policyName);
    }
    const attached = (await iam.send(new ListAttachedUserPoliciesCommand({ UserName: name }))).AttachedPolicies ?? [];
    // AdministratorAccess on someone who is not an administrator is over-broad too.
    const role = env.people.find((p) => p.name === name)?.role;
    for (const a of attached) if (a.PolicyName === 'AdministratorAccess' && role !== 'admin') overBroadPolicies.push(a.PolicyArn!);
  }

  // Access logs: which machines use each key, and who was refused from where.
  const ct = new CloudTrailClient({});
  const machinesByKey = new Map<string, Set<string>>();
  const userByKey = new Map<string, string>();
  const suspicious = new Set<string>();
  let NextToken: string | undefined;
  do {
    const page = await ct.send(new LookupEventsCommand({ NextToken, MaxResults: 50 }));
    for (const ev of page.Events ?? []) {
      const e = JSON.parse(ev.CloudTrailEvent!);
      const key = e.userIdentity?.accessKeyId;
      if (key && e.userIdentity.type === 'IAMUser') {
        userByKey.set(key, e.userIdentity.userName);
        if (!machinesByKey.has(key)) machinesByKey.set(key, new Set());
        machinesByKey.get(key)!.add(`${e.sourceIPAddress} ${e.userAgent}`);
      }
      // Refused by IAM, from outside the office. Other errors (NoSuchEntity, NoSuchBucketPolicy...)
      // are not refusals: a colleague working from a hotel with their own key is not suspicious.
      if (REFUSED.has(e.errorCode) && !inOffice(e.sourceIPAddress, env.officeCidr) && e.sourceIPAddress !== '127.0.0.1') suspicious.add(e.sourceIPAddress);
    }
    NextToken = page.NextToken;
  } while (NextToken);
  const sharedCredentials = [...machinesByKey].filter(([key, machines]) => {
    const inOfficeMachines = [...machines].filter((m) => inOffice(m.split(' ')[0]!, env.officeCidr));
    return new Set(inOfficeMachines).size > 1 && userByKey.get(key);
  }).map(([key]) => userByKey.get(key)!);

  return {
    usersWithoutMfa: usersWithoutMfa.sort(),
    sharedCredentials: [...new Set(sharedCredentials)],
    overBroadPolicies,
    suspiciousSourceIps: [...suspicious],
  };
}

/** Tasks 1-3: individual users, least privilege, MFA. */
export async function apply({ accountId, env }: LabInput<Env>) {
  const b = env.buckets;
  // Deny everything but MFA self-service until the caller signed in with MFA.
  const requireMfa = await iam.send(new CreatePolicyCommand({
    PolicyName: 'RequireMFA',
    PolicyDocument: doc([
      {
        Sid: 'AllowOwnMfaSetup', Effect: 'Allow',
        Action: ['iam:CreateVirtualMFADevice', 'iam:EnableMFADevice', 'iam:ResyncMFADevice', 'iam:ListMFADevices', 'iam:GetUser'],
        Resource: ['arn:aws:iam::*:user/${aws:username}', 'arn:aws:iam::*:mfa/${aws:username}'],
      },
      {
        Sid: 'DenyAllWithoutMfa', Effect: 'Deny',
        NotAction: ['iam:CreateVirtualMFADevice', 'iam:EnableMFADevice', 'iam:ResyncMFADevice', 'iam:ListMFADevices', 'iam:GetUser', 'sts:GetSessionToken'],
        Resource: '*',
        Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } },
      },
    ]),
  }));

  const groups: Record<string, object[] | 'admin'> = {
    admins: 'admin',
    developers: [{ Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'], Resource: `arn:aws:s3:::${b.artifacts}/*` }, { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${b.artifacts}` }],
    analysts: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b.reports}/*` }, { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${b.reports}` }],
  };
  for (const [group, statements] of Object.entries(groups)) {
    await iam.send(new CreateGroupCommand({ GroupName: group }));
    if (statements === 'admin') await iam.send(new AttachGroupPolicyCommand({ GroupName: group, PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
    else await iam.send(new PutGroupPolicyCommand({ GroupName: group, PolicyName: `${group}-access`, PolicyDocument: doc(statements) }));
    await iam.send(new AttachGroupPolicyCommand({ GroupName: group, PolicyArn: requireMfa.Policy!.Arn! }));
  }

  const existing = new Set(((await iam.send(new ListUsersCommand({}))).Users ?? []).map((u) => u.UserName));
  for (const p of env.people) {
    if (!existing.has(p.name)) {
      await iam.send(new CreateUserCommand({ UserName: p.name }));
      await iam.send(new CreateAccessKeyCommand({ UserName: p.name }));
    }
    await iam.send(new AddUserToGroupCommand({ GroupName: { admin: 'admins', developer: 'developers', analyst: 'analysts' }[p.role], UserName: p.name }));
    // Permissions come from groups only.
    for (const policyName of (await iam.send(new ListUserPoliciesCommand({ UserName: p.name }))).PolicyNames ?? []) {
      await iam.send(new DeleteUserPolicyCommand({ UserName: p.name, PolicyName: policyName }));
    }
    for (const a of (await iam.send(new ListAttachedUserPoliciesCommand({ UserName: p.name }))).AttachedPolicies ?? []) {
      await iam.send(new DetachUserPolicyCommand({ UserName: p.name, PolicyArn: a.PolicyArn! }));
    }
    // Enrol a virtual MFA device: in real life the person scans the seed with their authenticator.
    const device = await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: p.name }));
    const seed = device.VirtualMFADevice!.Base32StringSeed!;
    const now = labNow();
    await iam.send(new EnableMFADeviceCommand({
      UserName: p.name, SerialNumber: device.VirtualMFADevice!.SerialNumber!,
      AuthenticationCode1: totp(seed, now - 30_000), AuthenticationCode2: totp(seed, now),
    }));
  }

  // Retire the shared credential now that everyone has their own.
  const shared = env.sharedUser;
  for (const k of (await iam.send(new ListAccessKeysCommand({ UserName: shared }))).AccessKeyMetadata ?? []) {
    await iam.send(new UpdateAccessKeyCommand({ UserName: shared, AccessKeyId: k.AccessKeyId!, Status: 'Inactive' }));
    await iam.send(new DeleteAccessKeyCommand({ UserName: shared, AccessKeyId: k.AccessKeyId! }));
  }
  for (const policyName of (await iam.send(new ListUserPoliciesCommand({ UserName: shared }))).PolicyNames ?? []) {
    await iam.send(new DeleteUserPolicyCommand({ UserName: shared, PolicyName: policyName }));
  }
  await iam.send(new DeleteUserCommand({ UserName: shared }));
  void accountId;
}
