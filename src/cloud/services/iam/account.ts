// IAM operations moto 5.2 answers with an HTML 500 (ListServiceSpecificCredentials,
// GenerateServiceLastAccessedDetails/GetServiceLastAccessedDetails, ListOrganizationsFeatures), and the
// root user's place in the credential report and the account summary, which moto leaves out.
//
// Root access keys: every root credential in the gateway's store was minted by the lab cloud. The one
// minted when the account was created is the lab's own control credential (the console-equivalent
// access the runner and `seclab env` use), so it does not count as a root access key. Any other
// active root credential (mintRootCredentials: the keys a student phase's code holds) is a root
// access key in AWS's sense, and so is a key root creates for itself with CreateAccessKey (served
// here: moto has no root user): the credential report's <root_account> row shows it active and
// GetAccountSummary's AccountAccessKeysPresent is 1, as CIS 1.4 / Prowler expect to see.
import { randomUUID } from 'node:crypto';
import { ApiError } from '../../gateway/api-error.ts';
import { queryResult, xmlEscape, type Reply } from '../../gateway/extension.ts';
import { newAccessKeyId, newSecret, type Credential } from '../../gateway/credentials.ts';
import { ctTime } from '../cloudtrail/recorder.ts';
import { maxItemsOf, motoQuery, targetError } from './pagination.ts';
import type { IamCall } from './index.ts';

/** Active root access keys of an account, not counting the control credential minted with the account. */
export function rootAccessKeys(ctx: IamCall): Credential[] {
  return allRootKeys(ctx).slice(1).filter((c) => c.status === 'Active');
}

/** Every root credential of the account, the control credential first. */
function allRootKeys(ctx: IamCall): Credential[] {
  // Root credentials carry no user name; the store keeps them in the order they were minted.
  return ctx.iam.credentials.forUser(ctx.cred.account, undefined as unknown as string).filter((c) => c.kind === 'root' && !c.sessionToken);
}

/**
 * Whether the root user has an MFA device. AWS assigns root's device in the console only
 * (EnableMFADevice needs a UserName); the lab cloud has no console, so root never has one.
 */
function rootMfaEnabled(_ctx: IamCall): boolean {
  return false;
}

interface Job { account: string; arn: string; type: string; name: string; id: string; path: string; created: Date; services: { namespace: string; last: Date; region: string }[] }
const jobs = new Map<string, Job>();

/** AWS's display names for the namespaces the labs use (others: the namespace itself). */
const SERVICE_NAMES: Record<string, string> = {
  iam: 'AWS Identity and Access Management', sts: 'AWS Security Token Service', s3: 'Amazon S3', ec2: 'Amazon EC2',
  kms: 'AWS Key Management Service', cloudtrail: 'AWS CloudTrail', logs: 'Amazon CloudWatch Logs', monitoring: 'Amazon CloudWatch',
  sns: 'Amazon SNS', lambda: 'AWS Lambda', events: 'Amazon EventBridge', guardduty: 'Amazon GuardDuty', macie2: 'Amazon Macie',
};

/**
 * The root user's own access keys (CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey
 * signed by root without a UserName): moto has no root user and fails them. The control credential
 * is never listed and cannot be changed through the API (the lab would lock itself out).
 */
function serveRootAccessKeys(ctx: IamCall): Reply | undefined {
  const { call, requestId, cred } = ctx;
  const p = call.params;
  if (cred.kind !== 'root' || (p['UserName'] !== undefined && p['UserName'] !== '')) return undefined;
  const keyXml = (c: Credential, secret: boolean) =>
    `<AccessKeyId>${c.accessKeyId}</AccessKeyId><Status>${c.status}</Status>${secret ? `<SecretAccessKey>${c.secret}</SecretAccessKey>` : ''}<CreateDate>${ctTime(c.issuedAt ?? ctx.iam.clock.now())}</CreateDate>`;
  const rootKeys = () => allRootKeys(ctx).slice(1).filter((c) => c.status !== 'Deleted');
  const find = () => {
    const id = String(p['AccessKeyId'] ?? '');
    const c = rootKeys().find((k) => k.accessKeyId === id);
    if (!c) throw new ApiError(404, 'NoSuchEntity', `The Access Key with id ${id} cannot be found.`);
    return c;
  };
  switch (call.operation) {
    case 'CreateAccessKey': {
      if (rootKeys().length >= 2) throw new ApiError(409, 'LimitExceeded', 'Cannot exceed quota for AccessKeysPerUser: 2');
      const c = ctx.iam.credentials.add({
        accessKeyId: newAccessKeyId('AKIA'), secret: newSecret(), account: cred.account, kind: 'root',
        arn: `arn:aws:iam::${cred.account}:root`, status: 'Active', issuedAt: ctx.iam.clock.now(),
      });
      return queryResult('iam', call.operation, `<AccessKey>${keyXml(c, true)}</AccessKey>`, requestId);
    }
    case 'ListAccessKeys':
      return queryResult('iam', call.operation, `<AccessKeyMetadata>${rootKeys().map((c) => `<member>${keyXml(c, false)}</member>`).join('')}</AccessKeyMetadata><IsTruncated>false</IsTruncated>`, requestId);
    case 'UpdateAccessKey': {
      const c = find();
      if (p['Status'] !== 'Active' && p['Status'] !== 'Inactive') throw new ApiError(400, 'ValidationError', "1 validation error detected: Value at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]");
      c.status = p['Status'];
      return queryResult('iam', call.operation, '', requestId);
    }
    case 'DeleteAccessKey':
      find().status = 'Deleted';
      return queryResult('iam', call.operation, '', requestId);
  }
  return undefined;
}

export async function serveAccountOperation(ctx: IamCall): Promise<Reply | undefined> {
  const { call, requestId, cred } = ctx;
  const p = call.params;
  const rootKeys = serveRootAccessKeys(ctx);
  if (rootKeys) return rootKeys;
  switch (call.operation) {
    case 'ListServiceSpecificCredentials': {
      // No CodeCommit/Keyspaces/Bedrock credentials exist in the lab cloud: an empty list, after the
      // user (when named) is checked to exist.
      if (p['UserName']) {
        const up = await motoQuery(ctx, 'GetUser', { UserName: p['UserName'] });
        if (up.status >= 300) throw targetError(ctx, up);
      }
      maxItemsOf(p);
      return queryResult('iam', call.operation, '<ServiceSpecificCredentials/><IsTruncated>false</IsTruncated>', requestId);
    }
    case 'ListOrganizationsFeatures': {
      // Centralized root access (RootCredentialsManagement, RootSessions) is never enabled in the lab
      // cloud: the management account sees its organization with no features.
      const org = await ctx.iam.organizations.membership(cred.account);
      if (!org) throw new ApiError(400, 'OrganizationNotFoundException', 'The request was rejected because no organization is associated with your account.');
      if (org.managementAccount !== cred.account) {
        throw new ApiError(400, 'AccountNotManagementOrDelegatedAdministratorException', 'The request was rejected because the account making the request is not the management account or delegated administrator account for centralized root access.');
      }
      return queryResult('iam', call.operation, `<OrganizationId>${xmlEscape(org.orgId)}</OrganizationId><EnabledFeatures/>`, requestId);
    }
    case 'GenerateServiceLastAccessedDetails': {
      const arn = String(p['Arn'] ?? '');
      const m = /^arn:aws:iam::(\d{12}):(user|role|group|policy)\/(?:.*\/)?([^/]+)$/.exec(arn);
      if (!m) throw new ApiError(400, 'InvalidInput', `ARN ${arn} is not valid.`);
      if (m[1] !== cred.account) throw new ApiError(404, 'NoSuchEntity', `The entity with ARN ${arn} cannot be found.`);
      const probe = m[2] === 'user' ? ['GetUser', { UserName: m[3] }] as const
        : m[2] === 'role' ? ['GetRole', { RoleName: m[3] }] as const
          : m[2] === 'group' ? ['GetGroup', { GroupName: m[3] }] as const : ['GetPolicy', { PolicyArn: arn }] as const;
      const up = await motoQuery(ctx, probe[0], probe[1]);
      if (up.status >= 300) throw new ApiError(404, 'NoSuchEntity', `The entity with ARN ${arn} cannot be found.`);
      // What the entity's own calls reached, from the lab's CloudTrail (users and roles; groups and
      // policies would need per-member attribution, and report none).
      const services = new Map<string, { namespace: string; last: Date; region: string }>();
      for (const r of ctx.iam.trail.all(cred.account)) {
        const id = r.userIdentity as { arn?: string; sessionContext?: { sessionIssuer?: { arn?: string } } };
        const mine = m[2] === 'user' ? id.arn === arn : m[2] === 'role' ? id.sessionContext?.sessionIssuer?.arn === arn : false;
        if (!mine) continue;
        const namespace = String(r.eventSource).replace(/\.amazonaws\.com$/, '');
        const when = new Date(r.eventTime);
        const prev = services.get(namespace);
        if (!prev || prev.last < when) services.set(namespace, { namespace, last: when, region: r.awsRegion });
      }
      const jobId = randomUUID();
      const id = /<(?:UserId|RoleId|GroupId|PolicyId)>([^<]*)</.exec(up.xml)?.[1] ?? '';
      const path = /<Path>([^<]*)</.exec(up.xml)?.[1] ?? '/';
      // AWS keeps a report for 4 hours; the lab cloud keeps the latest thousand.
      if (jobs.size >= 1000) jobs.delete(jobs.keys().next().value!);
      jobs.set(jobId, { account: cred.account, arn, type: m[2]!.toUpperCase(), name: m[3]!, id, path, created: ctx.iam.clock.now(), services: [...services.values()].sort((a, b) => a.namespace.localeCompare(b.namespace)) });
      return queryResult('iam', call.operation, `<JobId>${jobId}</JobId>`, requestId);
    }
    case 'GetServiceLastAccessedDetails': {
      const job = jobs.get(String(p['JobId'] ?? ''));
      if (!job || job.account !== cred.account) throw new ApiError(404, 'NoSuchEntity', `The job with ID ${String(p['JobId'] ?? '')} cannot be found.`);
      maxItemsOf(p);
      const created = ctTime(job.created);
      const list = job.services.map((s) => `<member><ServiceName>${xmlEscape(SERVICE_NAMES[s.namespace] ?? s.namespace)}</ServiceName><ServiceNamespace>${xmlEscape(s.namespace)}</ServiceNamespace><LastAuthenticated>${ctTime(s.last)}</LastAuthenticated><LastAuthenticatedEntity>${xmlEscape(job.arn)}</LastAuthenticatedEntity><LastAuthenticatedRegion>${xmlEscape(s.region)}</LastAuthenticatedRegion><TotalAuthenticatedEntities>1</TotalAuthenticatedEntities></member>`).join('');
      return queryResult('iam', call.operation,
        `<JobStatus>COMPLETED</JobStatus><JobType>SERVICE_LEVEL</JobType><JobCreationDate>${created}</JobCreationDate><ServicesLastAccessed>${list}</ServicesLastAccessed><JobCompletionDate>${created}</JobCompletionDate><IsTruncated>false</IsTruncated>`,
        requestId);
    }
    case 'GetServiceLastAccessedDetailsWithEntities': {
      const job = jobs.get(String(p['JobId'] ?? ''));
      if (!job || job.account !== cred.account) throw new ApiError(404, 'NoSuchEntity', `The job with ID ${String(p['JobId'] ?? '')} cannot be found.`);
      maxItemsOf(p);
      const used = job.services.find((s) => s.namespace === String(p['ServiceNamespace'] ?? ''));
      const created = ctTime(job.created);
      const entity = used
        ? `<member><EntityInfo><Arn>${xmlEscape(job.arn)}</Arn><Name>${xmlEscape(job.name)}</Name><Type>${job.type}</Type><Id>${xmlEscape(job.id)}</Id><Path>${xmlEscape(job.path)}</Path></EntityInfo><LastAuthenticated>${ctTime(used.last)}</LastAuthenticated></member>`
        : '';
      return queryResult('iam', call.operation,
        `<JobStatus>COMPLETED</JobStatus><JobCreationDate>${created}</JobCreationDate><JobCompletionDate>${created}</JobCompletionDate><EntityDetailsList>${entity}</EntityDetailsList><IsTruncated>false</IsTruncated>`,
        requestId);
    }
  }
  return undefined;
}

/** GetAccountSummary: AccountAccessKeysPresent and AccountMFAEnabled as they are for this account's root. */
export function rewriteAccountSummary(ctx: IamCall, xml: string): string {
  const set = (s: string, key: string, value: number) => {
    const re = new RegExp(`(<entry><key>${key}</key><value>)\\d+(</value></entry>)`);
    return re.test(s) ? s.replace(re, `$1${value}$2`) : s.replace('</SummaryMap>', `<entry><key>${key}</key><value>${value}</value></entry></SummaryMap>`);
  };
  return set(set(xml, 'AccountAccessKeysPresent', rootAccessKeys(ctx).length ? 1 : 0), 'AccountMFAEnabled', rootMfaEnabled(ctx) ? 1 : 0);
}

/** The credential report with AWS's first row, the root user's. */
export function addRootRow(ctx: IamCall, csv: string): string {
  const lines = csv.replace(/\r?\n$/, '').split(/\r?\n/);
  if (lines.some((l) => l.startsWith('<root_account>,'))) return csv;
  const header = lines[0]!.split(',');
  const keys = rootAccessKeys(ctx);
  const values: Record<string, string> = {
    user: '<root_account>', arn: `arn:aws:iam::${ctx.cred.account}:root`,
    user_creation_time: ctTime(new Date(ctx.iam.trail.all(ctx.cred.account)[0]?.eventTime ?? ctx.iam.clock.now())).replace(/\.\d+Z$|Z$/, '+00:00'),
    // As AWS's report for a root user that never signed in: a date or `no_information`, never N/A
    // (Prowler parses it as a date unless it says no_information).
    password_enabled: 'not_supported', password_last_used: 'no_information', password_last_changed: 'not_supported', password_next_rotation: 'not_supported',
    mfa_active: String(rootMfaEnabled(ctx)),
    access_key_1_active: String(keys.length > 0), access_key_2_active: String(keys.length > 1),
    ...(keys[0]?.issuedAt ? { access_key_1_last_rotated: ctTime(keys[0].issuedAt).replace(/\.\d+Z$|Z$/, '+00:00') } : {}),
    ...(keys[1]?.issuedAt ? { access_key_2_last_rotated: ctTime(keys[1].issuedAt).replace(/\.\d+Z$|Z$/, '+00:00') } : {}),
    cert_1_active: 'false', cert_2_active: 'false',
  };
  const row = header.map((h) => values[h] ?? 'N/A').join(',');
  return [lines[0], row, ...lines.slice(1)].join('\n') + '\n';
}
