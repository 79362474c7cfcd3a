// Lab iam's checks: posture (state that must hold), the audit report, and business (legitimate work
// that must still succeed). Each judges the lab cloud, never the student's code, and reads the state
// the gateway enforces from: its key store (access keys and sessions), its MFA registry, and its
// policy store (users, groups, policies and the user permission boundaries moto lacks). moto is only
// the truth for what the gateway does not keep itself (console passwords).
import { z } from 'zod';
import { IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { S3Client, PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import type { Check, CheckOutcome } from '../../src/engine/types.ts';
import type { LabSession } from '../../src/engine/session.ts';
import type { Credential } from '../../src/cloud/gateway/credentials.ts';
import { ADMIN, ANALYST, DEVELOPERS, person, SHARED_USER, type IamLabEnv } from './company.ts';

export const AuditReport = z.object({
  usersWithoutMfa: z.array(z.string()),
  sharedCredentials: z.array(z.string()),
  overBroadPolicies: z.array(z.string()),
  suspiciousSourceIps: z.array(z.string()),
  notes: z.array(z.string()).optional(),
}).strict();
export type AuditReport = z.infer<typeof AuditReport>;

export function parseAuditReport(value: unknown): AuditReport {
  const r = AuditReport.safeParse(value);
  if (!r.success) {
    throw new Error(r.error.issues.map((i) => `${i.path.join('.') || 'report'}: ${i.message}`).join('; '));
  }
  return r.data;
}

const env = (s: LabSession) => s.env as unknown as IamLabEnv;
const pass = (feedback: string): CheckOutcome => ({ passed: true, feedback });
const fail = (feedback: string): CheckOutcome => ({ passed: false, feedback });
const HUMANS = [ADMIN, ...DEVELOPERS, ANALYST];
/** An office address for identities that are no one's in particular (the shared user, a contractor). */
const OFFICE_IP = '203.0.113.99';

/** Users as the gateway authorizes them (its policy store), not as a direct read of moto would say. */
async function usersNow(s: LabSession): Promise<string[]> {
  return [...(await s.gateway.service('iam').policies.account(s.accountId)).users.keys()];
}

async function userExists(s: LabSession, name: string): Promise<boolean> {
  return (await s.gateway.service('iam').policies.account(s.accountId)).users.has(name);
}

/** Credentials of a user the gateway would still accept: active access keys and unexpired sessions. */
function liveCredentials(s: LabSession, userName: string): Credential[] {
  const now = s.now();
  return s.gateway.credentials.forUser(s.accountId, userName)
    .filter((c) => c.status === 'Active' && (c.kind === 'user' || (c.kind === 'session' && (!c.expiresAt || c.expiresAt.getTime() > now))));
}

async function hasConsolePassword(s: LabSession, userName: string): Promise<boolean> {
  // The gateway keeps no console passwords: moto is their only store.
  return s.gateway.upstream.json(s.accountId, 'iam', 'GetLoginProfile', { UserName: userName }).then(() => true, () => false);
}

/** A retired identity holds no credential anyone can use (no key, no session, no console password). */
async function retired(s: LabSession, userName: string): Promise<boolean> {
  if (!(await userExists(s, userName))) return true;
  return !liveCredentials(s, userName).length && !(await hasConsolePassword(s, userName));
}

/**
 * The IAM user whose key a person works with: their own when they have a user with an active key,
 * else, for a developer, the shared key still on the laptop. Undefined when they hold nothing.
 */
export async function heldBy(s: LabSession, who: string): Promise<string | undefined> {
  if ((await userExists(s, who)) && s.keysOf(who).length) return who;
  if (DEVELOPERS.includes(who) && (await userExists(s, SHARED_USER)) && s.keysOf(SHARED_USER).length) return SHARED_USER;
  return undefined;
}

const working = new WeakMap<LabSession, Map<string, Promise<Credential | undefined>>>();

/**
 * The credential an identity really works with, as the gateway holds it: a session signed in with MFA
 * when the user has a device (session.signIn), else the long-term key. Posture checks share one per
 * identity and grading.
 */
function workingCredential(s: LabSession, userName: string, sourceIp: string): Promise<Credential | undefined> {
  let m = working.get(s);
  if (!m) working.set(s, (m = new Map()));
  let p = m.get(userName);
  if (!p) {
    p = s.signIn(userName, sourceIp).then((c) => (c ? s.gateway.credentials.get(c.accessKeyId) : undefined), () => undefined);
    m.set(userName, p);
  }
  return p;
}

/** What the gateway would decide for a real call with this credential from this address. */
async function allowed(s: LabSession, cred: Credential, action: string, resource: string, sourceIp: string): Promise<boolean> {
  const context = s.gateway.contextOf(cred, sourceIp, 'aws-cli/2.17.0 Python/3.11.9 Linux/6.1 exe/x86_64', { region: s.cloud.region });
  return (await s.gateway.decide(cred, action, resource, context, s.cloud.region)).decision === 'Allow';
}

/** Reads, writes and deletes outside a role's needs, by role. */
function probesFor(s: LabSession, role: 'developer' | 'analyst', self: string): [string, string][] {
  const e = env(s);
  const b = e.buckets;
  const iam = (x: string) => `arn:aws:iam::${s.accountId}:${x}`;
  const common: [string, string][] = [
    // reads
    ['s3:GetObject', `arn:aws:s3:::${b.customerData}/${e.objects.customers}`],
    ['s3:ListBucket', `arn:aws:s3:::${b.customerData}`],
    ['kms:Decrypt', `arn:aws:kms:${s.cloud.region}:${s.accountId}:key/*`],
    ['secretsmanager:GetSecretValue', '*'],
    // writes
    ['s3:PutObject', `arn:aws:s3:::${b.customerData}/x`],
    ['s3:PutBucketPolicy', `arn:aws:s3:::${role === 'developer' ? b.artifacts : b.reports}`],
    ['iam:CreateUser', iam('user/x')],
    ['iam:AttachUserPolicy', iam(`user/${self}`)],
    ['iam:PutUserPolicy', iam(`user/${self}`)],
    ['iam:CreateAccessKey', iam(`user/${ADMIN}`)],
    ['ec2:RunInstances', '*'],
    // deletes
    ['s3:DeleteObject', `arn:aws:s3:::${b.customerData}/${e.objects.customers}`],
    ['s3:DeleteBucket', `arn:aws:s3:::${role === 'developer' ? b.artifacts : b.reports}`],
    ['iam:DeleteUser', iam(`user/${ADMIN}`)],
  ];
  const own: [string, string][] = role === 'developer'
    ? [
      ['s3:GetObject', `arn:aws:s3:::${b.reports}/${e.objects.report}`],
      ['s3:PutObject', `arn:aws:s3:::${b.reports}/x`],
      ['s3:DeleteObject', `arn:aws:s3:::${b.artifacts}/${e.objects.artifact}`],
      ['s3:DeleteObject', `arn:aws:s3:::${b.reports}/${e.objects.report}`],
    ]
    : [
      ['s3:GetObject', `arn:aws:s3:::${b.artifacts}/${e.objects.artifact}`],
      ['s3:PutObject', `arn:aws:s3:::${b.reports}/x`],
      ['s3:PutObject', `arn:aws:s3:::${b.artifacts}/x`],
      ['s3:DeleteObject', `arn:aws:s3:::${b.reports}/${e.objects.report}`],
    ];
  return [...common, ...own];
}

/** What each person of a role may still do outside the role's needs, with the credentials they use. */
async function excess(s: LabSession, people: string[], role: 'developer' | 'analyst'): Promise<string[]> {
  const e = env(s);
  const found: string[] = [];
  for (const who of people) {
    const user = await heldBy(s, who);
    if (!user) continue; // holds nothing: the business checks report it
    const ip = person(e, who).officeIp;
    const cred = await workingCredential(s, user, ip);
    if (!cred) continue;
    const extra: string[] = [];
    for (const [action, resource] of probesFor(s, role, user)) {
      if (await allowed(s, cred, action, resource, ip)) extra.push(`${action} on ${resource.replace(/^arn:aws:(s3|iam|kms):[^:]*:\d*:?/, '')}`);
    }
    if (extra.length) found.push(`${who}${user === who ? '' : ` (as ${user})`}: ${[...new Set(extra)].join(', ')}`);
  }
  return found;
}

function audit(s: LabSession): AuditReport | undefined {
  return s.studentOutputs['audit'] as AuditReport | undefined;
}

const noAudit = fail('audit() returned no report (see the messages about your code above); return the report described in the workbook');

// ---- names in an audit report: any standard form of the same thing ----

const USER_ARN = /^arn:aws[a-z-]*:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/;
const POLICY_ARN = /^arn:aws[a-z-]*:iam::(?:\d{12}|aws):policy\/(?:.*\/)?([^/]+)$/;
const KEY_ID = /^(AKIA|ASIA)[A-Z0-9]{12,}$/;

/** A user named by name or ARN (IAM names are case-insensitive). */
export function userOf(entry: string): string {
  const t = entry.trim();
  return (USER_ARN.exec(t)?.[1] ?? t).toLowerCase();
}

/** An address, or a single-address CIDR (/32). */
export function ipOf(entry: string): string {
  return entry.trim().replace(/\/32$/, '');
}

export interface PlantedPolicy { user: string; name: string; arn?: string }

/**
 * Whether an audit entry names a policy: its name, its ARN (managed policies), or "user/policy",
 * "user:policy" with the user by name or ARN.
 */
export function namesPolicy(entry: string, p: PlantedPolicy): boolean {
  const t = entry.trim();
  const lc = t.toLowerCase();
  if (lc === p.name.toLowerCase()) return true;
  if (p.arn && lc === p.arn.toLowerCase()) return true;
  const cut = Math.max(t.lastIndexOf('/'), t.lastIndexOf(':'));
  if (cut <= 0 || POLICY_ARN.test(t)) return false;
  const [who, what] = [t.slice(0, cut), t.slice(cut + 1)];
  return what.toLowerCase() === p.name.toLowerCase() && userOf(who) === p.user.toLowerCase();
}

/** A policy document grants a wildcard action ("*" or "service:*"). */
export function hasWildcardAction(document: { Statement: unknown }): boolean {
  const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
  return statements.some((st: { Effect?: string; Action?: string | string[]; NotAction?: string | string[] }) => {
    if (st.Effect !== 'Allow') return false;
    if (st.NotAction !== undefined) return true; // allows everything but a few actions
    const actions = Array.isArray(st.Action) ? st.Action : st.Action ? [st.Action] : [];
    return actions.some((a) => a === '*' || a === '*:*' || /^[a-z0-9-]+:\*$/i.test(a));
  });
}

export const checks: Check[] = [
  // ---- task 4: the audit, graded against what was planted (captured before the student's code ran) ----
  {
    id: 'audit-users-without-mfa', title: 'The audit lists exactly the users without MFA', kind: 'posture', points: 5, task: 'audit',
    async run(s) {
      const r = audit(s);
      if (!r) return noAudit;
      const expected = (s.snapshot['usersWithoutMfa'] as string[]).map((u) => u.toLowerCase()).sort();
      const got = [...new Set(r.usersWithoutMfa.map(userOf))].sort();
      const missing = expected.filter((u) => !got.includes(u));
      const extra = got.filter((u) => !expected.includes(u));
      if (!missing.length && !extra.length) return pass(`all ${expected.length} users without an MFA device found`);
      return fail(`${missing.length ? `missing: ${missing.join(', ')}` : ''}${missing.length && extra.length ? '; ' : ''}${extra.length ? `not true of: ${extra.join(', ')}` : ''} — list every IAM user with no MFA device (ListUsers, ListMFADevices), by user name or ARN`);
    },
  },
  {
    id: 'audit-shared-credential', title: 'The audit names the shared credential', kind: 'posture', points: 5, task: 'audit',
    async run(s) {
      const r = audit(s);
      if (!r) return noAudit;
      const keyId = s.snapshot['sharedKeyId'] as string | undefined;
      // The shared user by name or ARN, or its access key id.
      const isShared = (c: string) => (KEY_ID.test(c.trim().toUpperCase()) ? c.trim().toUpperCase() === keyId : userOf(c) === SHARED_USER.toLowerCase());
      const named = r.sharedCredentials.some(isShared);
      const wrong = r.sharedCredentials.filter((c) => !isShared(c));
      if (named && !wrong.length) return pass('the shared credential was identified');
      if (!named) return fail('the credential several people use was not named — compare the source addresses and user agents each access key is used from in CloudTrail');
      return fail(`also named, without evidence of sharing: ${wrong.join(', ')}`);
    },
  },
  {
    id: 'audit-over-broad', title: 'The audit flags the over-broad policy', kind: 'posture', points: 5, task: 'audit',
    async run(s) {
      const r = audit(s);
      if (!r) return noAudit;
      // Every reported entry must name a policy that granted a wildcard action when the audit ran.
      const wildcard = s.snapshot['wildcardPolicies'] as PlantedPolicy[];
      const planted = s.snapshot['overBroadPolicy'] as PlantedPolicy;
      const flagged = r.overBroadPolicies.some((x) => namesPolicy(x, planted));
      const bogus = r.overBroadPolicies.filter((x) => !wildcard.some((p) => namesPolicy(x, p)));
      if (flagged && !bogus.length) return pass('the analyst\'s "Action": "*" policy was flagged');
      if (!flagged) return fail('a policy granting "Action": "*" to someone who needs far less was not flagged — read every user\'s inline and attached policies');
      return fail(`flagged, but they name no policy granting a wildcard action: ${bogus.join(', ')}`);
    },
  },
  {
    id: 'audit-rogue-ip', title: 'The audit tells the suspicious outside address from legitimate work away from the office', kind: 'posture', points: 5, task: 'audit',
    async run(s) {
      const r = audit(s);
      if (!r) return noAudit;
      const rogue = s.snapshot['rogueIp'] as string;
      const traveller = s.snapshot['travellerIp'] as string;
      const refused = new Set(s.snapshot['refusedIps'] as string[]);
      const reported = [...new Set(r.suspiciousSourceIps.map(ipOf))];
      const office = reported.filter((ip) => ip.startsWith('203.0.113.') || ip === '127.0.0.1');
      if (office.length) return fail(`office or local addresses reported as suspicious: ${office.join(', ')}`);
      if (reported.includes(traveller)) return fail(`${traveller} was reported, but the calls from there are a colleague's ordinary work away from the office (their own key, their own laptop, nothing refused) — an error such as NoSuchEntity is not a refusal`);
      const unseen = reported.filter((ip) => !refused.has(ip));
      if (unseen.length) return fail(`reported, but CloudTrail shows no call refused by IAM from: ${unseen.slice(0, 5).join(', ')}${unseen.length > 5 ? ` and ${unseen.length - 5} more` : ''}`);
      if (reported.includes(rogue)) return pass('the outside address behind the refused calls was found, and the colleague working away from the office was not reported');
      return fail('the address outside the office whose calls IAM refused was not reported — look up events in CloudTrail (LookupEvents) refused with AccessDenied');
    },
  },

  // ---- task 1: individual users instead of shared credentials ----
  {
    id: 'shared-credential-retired', title: 'The shared dev-team credential no longer works', kind: 'posture', points: 8, task: 'individual-users',
    async run(s) {
      // What the gateway accepts, not what moto lists: a key set Inactive in moto alone still works.
      if (!(await userExists(s, SHARED_USER))) return pass('the shared user was removed');
      const live = liveCredentials(s, SHARED_USER);
      if (!live.length) return pass(`${SHARED_USER} holds no working access key or session`);
      const keys = live.filter((c) => c.kind === 'user').length;
      const sessions = live.length - keys;
      return fail(`${SHARED_USER} still has ${keys ? `${keys} active access key(s)` : ''}${keys && sessions ? ' and ' : ''}${sessions ? `${sessions} unexpired session(s)` : ''}: deactivate and delete its keys once everyone has their own`);
    },
  },
  {
    id: 'individual-developers', title: 'Each developer has an IAM user and key of their own', kind: 'posture', points: 4, task: 'individual-users',
    async run(s) {
      const missing: string[] = [];
      for (const d of DEVELOPERS) if (!(await userExists(s, d)) || !s.keysOf(d).length) missing.push(d);
      return missing.length ? fail(`no IAM user with an active access key for: ${missing.join(', ')}`) : pass('ben and chloe each have their own user and key');
    },
  },

  // ---- task 2: least privilege, judged with the credentials each person really uses ----
  {
    id: 'least-privilege-developers', title: 'Developers can deploy artifacts and nothing more', kind: 'posture', points: 4, task: 'least-privilege', restrictive: true,
    async run(s) {
      const found = await excess(s, DEVELOPERS, 'developer');
      return found.length
        ? fail(`still allowed outside a developer's job: ${found.join('; ')} — grant s3:PutObject and s3:GetObject on the artifacts bucket's objects and s3:ListBucket on it, nothing else`)
        : pass('developers may put and get artifacts, and nothing else was allowed (reads, writes and deletes elsewhere probed)');
    },
  },
  {
    id: 'least-privilege-analyst', title: 'The analyst can read reports and nothing more', kind: 'posture', points: 4, task: 'least-privilege', restrictive: true,
    async run(s) {
      const found = await excess(s, [ANALYST], 'analyst');
      return found.length
        ? fail(`still allowed outside an analyst's job: ${found.join('; ')} — grant only s3:GetObject (and s3:ListBucket) on the reports bucket`)
        : pass(`${ANALYST}'s permissions are limited to what the job needs (reads, writes and deletes elsewhere probed)`);
    },
  },
  {
    id: 'no-wildcard-grants', title: 'No one but the administrators holds a wildcard policy', kind: 'posture', points: 4, task: 'least-privilege', restrictive: true, hidden: true,
    async run(s) {
      const offenders: string[] = [];
      for (const u of await usersNow(s)) {
        if (u === ADMIN || (await retired(s, u))) continue; // a retired identity is no one's privilege
        const set = await s.gateway.service('iam').policies.forUser(s.accountId, u);
        // A permissions boundary without wildcards caps whatever the identity policies say.
        if (set?.boundary && !hasWildcardAction(set.boundary.document as { Statement: unknown })) continue;
        for (const p of set?.identity ?? []) if (hasWildcardAction(p.document as { Statement: unknown })) offenders.push(`${u} (${p.source})`);
      }
      return offenders.length ? fail(`wildcard actions granted to: ${offenders.join('; ')}`) : pass('wildcard grants are reserved for the administrators');
    },
  },
  {
    id: 'customer-data-restricted', title: 'Only the administrator can read customer data', kind: 'posture', points: 4, task: 'least-privilege', restrictive: true, hidden: true,
    async run(s) {
      const e = env(s);
      const resource = `arn:aws:s3:::${e.buckets.customerData}/${e.objects.customers}`;
      const readers: string[] = [];
      // Every identity that still holds a credential, with the one it works with.
      for (const u of await usersNow(s)) {
        if (u === ADMIN) continue;
        const live = liveCredentials(s, u);
        if (!live.length) continue;
        const known = e.people.find((p) => p.name === u);
        const ip = known?.officeIp ?? (u === SHARED_USER ? person(e, 'ben').officeIp : OFFICE_IP);
        const cred = s.keysOf(u).length ? await workingCredential(s, u, ip) : live[0];
        if (cred && (await allowed(s, cred, 's3:GetObject', resource, ip))) readers.push(u);
      }
      return readers.length ? fail(`customer data is readable by: ${readers.join(', ')}`) : pass('customer data is readable by the administrator only');
    },
  },

  // ---- task 3: MFA ----
  {
    id: 'mfa-enabled', title: 'Every person has an MFA device', kind: 'posture', points: 6, task: 'mfa',
    async run(s) {
      // The gateway's MFA registry: a device enabled in moto alone checks no code.
      const without = HUMANS.filter((u) => !s.mfaDevicesOf(u).length);
      return without.length ? fail(`no enabled MFA device for: ${without.join(', ')} (CreateVirtualMFADevice, then EnableMFADevice with two consecutive codes)`) : pass('every person has an enabled virtual MFA device');
    },
  },
  {
    id: 'mfa-enforced', title: 'Without MFA, people can do nothing but set up their MFA', kind: 'posture', points: 6, task: 'mfa', restrictive: true,
    async run(s) {
      const e = env(s);
      const work: [string, string, string][] = [
        [ADMIN, 'iam:CreateUser', `arn:aws:iam::${s.accountId}:user/x`],
        [ADMIN, 's3:GetObject', `arn:aws:s3:::${e.buckets.customerData}/${e.objects.customers}`],
        ...DEVELOPERS.map((d): [string, string, string] => [d, 's3:PutObject', `arn:aws:s3:::${e.buckets.artifacts}/releases/x.zip`]),
        [ANALYST, 's3:GetObject', `arn:aws:s3:::${e.buckets.reports}/${e.objects.report}`],
      ];
      const open: string[] = [];
      for (const [user, action, resource] of work) {
        if (!(await userExists(s, user))) continue;
        for (const mfa of [undefined, false]) {
          const d = await s.decide(user, action, resource, { mfa, sourceIp: person(e, user).officeIp });
          if (d.decision === 'Allow') open.push(`${user} ${action} ${mfa === undefined ? 'with a long-term key' : 'in a session without MFA'}`);
        }
      }
      return open.length ? fail(`allowed without MFA: ${open.join('; ')} — deny everything but MFA self-service unless aws:MultiFactorAuthPresent is true (BoolIfExists)`) : pass('work requires an MFA session for every person');
    },
  },

  // ---- business: legitimate work must still succeed, with the credentials people still hold ----
  {
    id: 'developers-can-deploy', title: 'Developers can still deploy build artifacts', kind: 'business', points: 0,
    async run(s) {
      const e = env(s);
      const failures: string[] = [];
      for (const dev of DEVELOPERS) {
        // Their own key when they have one, else the shared key still on their laptop.
        const who = await heldBy(s, dev);
        try {
          if (!who) throw new Error(`${dev} holds no working access key (neither their own nor the shared one)`);
          const creds = await s.signIn(who, person(e, dev).officeIp);
          if (!creds) throw new Error(`${who} has no active access key`);
          await s.client(S3Client, { credentials: creds, sourceIp: person(e, dev).officeIp })
            .send(new PutObjectCommand({ Bucket: e.buckets.artifacts, Key: `releases/${dev}-${s.runId}.zip`, Body: 'PK' }));
        } catch (err) {
          failures.push(`${dev}${who ? ` (as ${who})` : ''}: ${(err as Error).name}: ${(err as Error).message}`);
        }
      }
      return failures.length ? fail(`deploying failed for ${failures.join('; ')}`) : pass('ben and chloe deployed an artifact from the office');
    },
  },
  {
    id: 'analysts-can-read-reports', title: 'The analyst can still read reports', kind: 'business', points: 0,
    async run(s) {
      const e = env(s);
      try {
        const who = await heldBy(s, ANALYST);
        const creds = who && (await s.signIn(who, person(e, ANALYST).officeIp));
        if (!creds) throw new Error(`${ANALYST} holds no working access key`);
        await s.client(S3Client, { credentials: creds, sourceIp: person(e, ANALYST).officeIp }).send(new GetObjectCommand({ Bucket: e.buckets.reports, Key: e.objects.report }));
        return pass('dan read the quarterly report');
      } catch (err) {
        return fail(`dan could not read ${e.objects.report}: ${(err as Error).name}: ${(err as Error).message}`);
      }
    },
  },
  {
    id: 'admin-can-administer', title: 'The administrator can still administer', kind: 'business', points: 0,
    async run(s) {
      const e = env(s);
      try {
        const who = await heldBy(s, ADMIN);
        const creds = who && (await s.signIn(who, person(e, ADMIN).officeIp));
        if (!creds) throw new Error(`${ADMIN} holds no working access key`);
        await s.client(IAMClient, { credentials: creds, sourceIp: person(e, ADMIN).officeIp }).send(new ListAccessKeysCommand({ UserName: ADMIN }));
        await s.client(S3Client, { credentials: creds, sourceIp: person(e, ADMIN).officeIp }).send(new GetObjectCommand({ Bucket: e.buckets.customerData, Key: e.objects.customers }));
        return pass('alice listed access keys and read customer data');
      } catch (err) {
        return fail(`alice could not administer: ${(err as Error).name}: ${(err as Error).message}`);
      }
    },
  },
];
