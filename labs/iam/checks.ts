// Lab iam's checks: posture (state that must hold), the audit report, and business (legitimate work
// that must still succeed). Each judges the lab cloud, never the student's code.
import { z } from 'zod';
import { IAMClient, ListAccessKeysCommand, GetUserCommand } from '@aws-sdk/client-iam';
import { S3Client, PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { IAMClient as IAM, ListUsersCommand } from '@aws-sdk/client-iam';
import type { Check, CheckOutcome } from '../../src/engine/types.ts';
import type { LabSession } from '../../src/engine/session.ts';
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

async function userExists(s: LabSession, name: string): Promise<boolean> {
  try {
    await s.client(IAMClient).send(new GetUserCommand({ UserName: name }));
    return true;
  } catch {
    return false;
  }
}

function audit(s: LabSession): AuditReport | undefined {
  return s.studentOutputs['audit'] as AuditReport | undefined;
}

const noAudit = fail('audit() returned no report (see the messages about your code above); return the report described in the workbook');

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
      const expected = (s.snapshot['usersWithoutMfa'] as string[]).slice().sort();
      const got = [...new Set(r.usersWithoutMfa)].sort();
      const missing = expected.filter((u) => !got.includes(u));
      const extra = got.filter((u) => !expected.includes(u));
      if (!missing.length && !extra.length) return pass(`all ${expected.length} users without an MFA device found`);
      return fail(`${missing.length ? `missing: ${missing.join(', ')}` : ''}${missing.length && extra.length ? '; ' : ''}${extra.length ? `not true of: ${extra.join(', ')}` : ''} — list every IAM user with no MFA device (ListUsers, ListMFADevices)`);
    },
  },
  {
    id: 'audit-shared-credential', title: 'The audit names the shared credential', kind: 'posture', points: 5, task: 'audit',
    async run(s) {
      const r = audit(s);
      if (!r) return noAudit;
      const keyId = s.snapshot['sharedKeyId'] as string | undefined;
      const named = r.sharedCredentials.some((c) => c === SHARED_USER || c === keyId);
      const wrong = r.sharedCredentials.filter((c) => c !== SHARED_USER && c !== keyId);
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
      // Every reported entry must be a policy that granted a wildcard action when the audit ran.
      const wildcard = new Set(s.snapshot['wildcardPolicies'] as string[]);
      const name = s.snapshot['overBroadPolicy'] as string;
      const planted = r.overBroadPolicies.some((p) => p === name || p === `${ANALYST}/${name}`);
      const bogus = r.overBroadPolicies.filter((p) => !wildcard.has(p));
      if (planted && !bogus.length) return pass('the analyst\'s "Action": "*" policy was flagged');
      if (!planted) return fail('a policy granting "Action": "*" to someone who needs far less was not flagged — read every user\'s inline and attached policies');
      return fail(`flagged, but they grant no wildcard action: ${bogus.join(', ')}`);
    },
  },
  {
    id: 'audit-rogue-ip', title: 'The audit finds the denied calls from an outside address in CloudTrail', kind: 'posture', points: 5, task: 'audit',
    async run(s) {
      const r = audit(s);
      if (!r) return noAudit;
      const rogue = s.snapshot['rogueIp'] as string;
      const refused = new Set(s.snapshot['refusedIps'] as string[]);
      const office = r.suspiciousSourceIps.filter((ip) => ip.startsWith('203.0.113.') || ip === '127.0.0.1');
      const unseen = r.suspiciousSourceIps.filter((ip) => !refused.has(ip));
      if (office.length) return fail(`office or local addresses reported as suspicious: ${office.join(', ')}`);
      if (unseen.length) return fail(`reported, but CloudTrail shows no refused call from: ${unseen.slice(0, 5).join(', ')}${unseen.length > 5 ? ` and ${unseen.length - 5} more` : ''}`);
      if (r.suspiciousSourceIps.includes(rogue)) return pass('the outside address behind the denied calls was found');
      return fail('the address outside the office whose calls were denied was not reported — look up events in CloudTrail (LookupEvents) with an errorCode');
    },
  },

  // ---- task 1: individual users instead of shared credentials ----
  {
    id: 'shared-credential-retired', title: 'The shared dev-team credential no longer works', kind: 'posture', points: 8, task: 'individual-users',
    async run(s) {
      if (!(await userExists(s, SHARED_USER))) return pass('the shared user was removed');
      const keys = (await s.client(IAMClient).send(new ListAccessKeysCommand({ UserName: SHARED_USER }))).AccessKeyMetadata ?? [];
      const active = keys.filter((k) => k.Status === 'Active');
      return active.length ? fail(`${SHARED_USER} still has ${active.length} active access key(s): deactivate and delete them once everyone has their own`) : pass(`${SHARED_USER} has no active access key`);
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

  // ---- task 2: least privilege ----
  {
    id: 'least-privilege-analyst', title: 'The analyst can read reports and nothing more', kind: 'posture', points: 8, task: 'least-privilege', restrictive: true,
    async run(s) {
      const e = env(s);
      const probes: [string, string][] = [
        ['iam:CreateUser', `arn:aws:iam::${s.accountId}:user/x`],
        ['iam:AttachUserPolicy', `arn:aws:iam::${s.accountId}:user/${ANALYST}`],
        ['s3:PutObject', `arn:aws:s3:::${e.buckets.artifacts}/x`],
        ['s3:GetObject', `arn:aws:s3:::${e.buckets.customerData}/${e.objects.customers}`],
        ['s3:DeleteObject', `arn:aws:s3:::${e.buckets.reports}/${e.objects.report}`],
        ['ec2:RunInstances', '*'],
        ['kms:Decrypt', '*'],
      ];
      const allowed: string[] = [];
      for (const [action, resource] of probes) {
        const d = await s.decide(ANALYST, action, resource, { mfa: true, sourceIp: person(e, ANALYST).officeIp });
        if (d.decision === 'Allow') allowed.push(action);
      }
      return allowed.length ? fail(`${ANALYST} may still: ${allowed.join(', ')} — grant only s3:GetObject (and s3:ListBucket) on the reports bucket`) : pass(`${ANALYST}'s permissions are limited to what the job needs`);
    },
  },
  {
    id: 'no-wildcard-grants', title: 'No one but the administrators holds a wildcard policy', kind: 'posture', points: 4, task: 'least-privilege', restrictive: true, hidden: true,
    async run(s) {
      const users = (await s.client(IAM).send(new ListUsersCommand({}))).Users ?? [];
      const offenders: string[] = [];
      for (const u of users) {
        if (u.UserName === ADMIN) continue;
        const set = await s.gateway.policies.forUser(s.accountId, u.UserName!);
        for (const p of set?.identity ?? []) if (hasWildcardAction(p.document as { Statement: unknown })) offenders.push(`${u.UserName} (${p.source})`);
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
      for (const u of [...DEVELOPERS, ANALYST, SHARED_USER]) {
        const ip = u === SHARED_USER ? person(e, 'ben').officeIp : person(e, u).officeIp;
        if ((await s.decide(u, 's3:GetObject', resource, { mfa: true, sourceIp: ip })).decision === 'Allow') readers.push(u);
      }
      return readers.length ? fail(`customer data is readable by: ${readers.join(', ')}`) : pass('customer data is readable by the administrator only');
    },
  },

  // ---- task 3: MFA ----
  {
    id: 'mfa-enabled', title: 'Every person has an MFA device', kind: 'posture', points: 6, task: 'mfa',
    async run(s) {
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

  // ---- business: legitimate work must still succeed ----
  {
    id: 'developers-can-deploy', title: 'Developers can still deploy build artifacts', kind: 'business', points: 0,
    async run(s) {
      const e = env(s);
      const failures: string[] = [];
      for (const dev of DEVELOPERS) {
        // A developer without a user of their own still works with the shared key.
        const who = (await userExists(s, dev)) ? dev : SHARED_USER;
        try {
          const creds = await s.signIn(who, person(e, dev).officeIp);
          if (!creds) throw new Error(`${who} has no active access key`);
          await s.client(S3Client, { credentials: creds, sourceIp: person(e, dev).officeIp })
            .send(new PutObjectCommand({ Bucket: e.buckets.artifacts, Key: `releases/${dev}-${s.runId}.zip`, Body: 'PK' }));
        } catch (err) {
          failures.push(`${dev} (as ${who}): ${(err as Error).name}: ${(err as Error).message}`);
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
        const creds = await s.signIn(ANALYST, person(e, ANALYST).officeIp);
        if (!creds) throw new Error(`${ANALYST} has no active access key`);
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
        const creds = await s.signIn(ADMIN, person(e, ADMIN).officeIp);
        if (!creds) throw new Error(`${ADMIN} has no active access key`);
        await s.client(IAMClient, { credentials: creds, sourceIp: person(e, ADMIN).officeIp }).send(new ListAccessKeysCommand({ UserName: ADMIN }));
        await s.client(S3Client, { credentials: creds, sourceIp: person(e, ADMIN).officeIp }).send(new GetObjectCommand({ Bucket: e.buckets.customerData, Key: e.objects.customers }));
        return pass('alice listed access keys and read customer data');
      } catch (err) {
        return fail(`alice could not administer: ${(err as Error).name}: ${(err as Error).message}`);
      }
    },
  },
];
