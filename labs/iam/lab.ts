// Lab iam (slide 11): individual IAM users, least privilege, MFA, and a review of IAM policies and
// access logs, at Northwind Analytics.
import { fileURLToPath } from 'node:url';
import type { Lab } from '../../src/engine/types.ts';
import { provisionIam, snapshotIam } from './provision.ts';
import { checks, parseAuditReport } from './checks.ts';
import { leakedSharedKey } from '../../scenarios/iam-leaked-shared-key.ts';
import { stolenDeveloperKey } from '../../scenarios/iam-stolen-developer-key.ts';
import { privilegeEscalation } from '../../scenarios/iam-privilege-escalation.ts';
import { wrongMfa } from '../../scenarios/iam-wrong-mfa.ts';
import { stolenMfaSession } from '../../scenarios/iam-stolen-mfa-session.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export const lab: Lab = {
  id: 'iam',
  slide: 11,
  title: 'Identity and access management',
  summary: 'Replace a shared credential with individual users, cut permissions to what each person needs, enforce MFA, and audit IAM policies and access logs.',
  objectives: [
    'Individual IAM users instead of shared credentials',
    'Least-privilege permissions',
    'Multi-factor authentication',
    'Regular review and audit of IAM policies and access logs',
  ],
  workbook: here('./workbook.md'),
  starter: here('./starter'),
  tasks: [
    {
      id: 'audit', title: 'Review IAM and the access logs (audit)',
      hints: [
        'Return the report from audit(): usersWithoutMfa, sharedCredentials, overBroadPolicies, suspiciousSourceIps.',
        'ListUsers, then ListMFADevices and ListAccessKeys per user; ListUserPolicies/GetUserPolicy and ListAttachedUserPolicies show what each may do.',
        'CloudTrail LookupEvents returns events with a CloudTrailEvent JSON string: group by userIdentity.accessKeyId and look at sourceIPAddress and userAgent. One key used from several machines is shared.',
        'Calls refused by IAM carry an errorCode such as AccessDenied. Which of their sourceIPAddress values is not in the office range 203.0.113.0/24?',
        'Not every error is a refusal: NoSuchEntity or NoSuchBucketPolicy means IAM let the call through. A colleague working from a hotel uses their own key from their own laptop, and nothing of theirs is refused.',
        'Name things in any standard form: users by name or ARN, the shared credential by user or access key id, policies by name, ARN or user/policy, addresses as 198.51.100.7 or 198.51.100.7/32.',
      ],
    },
    {
      id: 'individual-users', title: 'Give each developer their own user; retire the shared key',
      hints: [
        'CreateUser ben and chloe, put them in a developers group, CreateAccessKey for each.',
        'Then UpdateAccessKey the dev-team key to Inactive and delete it (or delete the user with its policies and keys).',
      ],
    },
    {
      id: 'least-privilege', title: 'Least privilege',
      hints: [
        'Developers need s3:PutObject (and s3:GetObject, s3:ListBucket) on the artifacts bucket only, not s3:DeleteObject; the analyst s3:GetObject and s3:ListBucket on the reports bucket.',
        'Least privilege is judged with the credentials people really use (an MFA session once they have a device) and probes reads, writes and deletes outside each job, IAM included.',
        'Delete the analyst\'s "Action": "*" inline policy once the analysts group grants what is needed.',
        'Attach policies to groups, not users: admins (AdministratorAccess), developers, analysts.',
      ],
    },
    {
      id: 'mfa', title: 'MFA for every person, enforced',
      hints: [
        'CreateVirtualMFADevice returns Base32StringSeed; EnableMFADevice needs two consecutive codes: totp(seed, now - 30000) and totp(seed, now) from seclab/kit.',
        'Attach to every group a policy that denies everything except managing one\'s own MFA and sts:GetSessionToken when "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}.',
        'BoolIfExists matters: with a long-term access key the aws:MultiFactorAuthPresent key is absent, and a plain Bool condition would not match.',
      ],
    },
  ],
  provision: provisionIam,
  snapshot: snapshotIam,
  studentSteps: [{ export: 'audit', parse: parseAuditReport }, { export: 'apply' }],
  checks,
  // The task whose hints help when an attack gets through (`seclab hint`).
  scenarios: [
    { ...leakedSharedKey, tasks: { blocked: 'individual-users' } },
    { ...stolenDeveloperKey, tasks: { blocked: 'mfa' } },
    { ...stolenMfaSession, tasks: { blocked: 'least-privilege' } },
    { ...privilegeEscalation, tasks: { blocked: 'least-privilege' } },
    { ...wrongMfa, tasks: { blocked: 'mfa' } },
  ],
};
