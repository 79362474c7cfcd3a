// toAuthz(): the IAM action(s), resource ARN(s) and request context AWS authorizes for an API call,
// following the Service Authorization Reference ("Actions, resources, and condition keys for ...")
// and the services' API documentation. Pure: resources the request does not name (the key behind a
// KMS alias, the owner of an access key) are left to the caller (see `resolve`).
//
// Conventions:
// - Every resource in `resources` must be authorized for `action` (AND), e.g. each instance of a
//   TerminateInstances call. DeleteObjects is the exception AWS makes: S3 authorizes each key
//   separately and reports denied keys inside a successful response.
// - `additional` lists further checks that must pass too (CopyObject's read of the source,
//   iam:PassRole for a role handed to a service, kms:CreateAlias on the target key).
// - IAM paths are ignored: user/role/group/policy ARNs are built as `user/NAME`.
// - Resources are `*` where the reference lists no resource type for the action, or where the
//   resource cannot be known from the request (noted per case).

import { serviceInfo } from './services.ts';
import type { ApiCall } from './types.ts';

export type AuthzContext = Record<string, string | string[]>;

export interface AuthzCheck {
  /** `prefix:Action`, e.g. `s3:GetObject`. */
  action: string;
  /** Resource ARNs (or `*`). */
  resources: string[];
  /** Request-dependent condition keys (aws:RequestedRegion, s3:prefix, aws:RequestTag/...). */
  context: AuthzContext;
}

export interface AuthzRequirement extends AuthzCheck {
  /**
   * No IAM permission is needed and policies cannot deny it: sts:GetCallerIdentity and
   * sts:GetSessionToken (authentication operations).
   */
  alwaysAllowed?: boolean;
  /** Further checks that must also pass. */
  additional?: AuthzCheck[];
  /** Things the caller must look up to complete the resource list. */
  resolve?: {
    /** KMS alias ARN used as KeyId/TargetKeyId: authorize against the key it points to. */
    kmsAliasArn?: string;
    /** UpdateAlias: the alias whose current key must also allow the call (kms:UpdateAlias on both keys). */
    kmsAliasCurrentKey?: string;
    /** Access key whose owner is the resource (GetAccessKeyLastUsed). */
    accessKeyId?: string;
  };
}

export interface CallerInfo {
  /** Name of the calling IAM user: the resource of IAM operations whose UserName defaults to the caller. */
  userName?: string;
}

type P = Record<string, unknown>;

const str = (p: P, ...keys: string[]): string | undefined => {
  for (const k of keys) {
    const v = p[k];
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  }
  return undefined;
};

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null || v === '' ? [] : [v]);
const strList = (p: P, ...keys: string[]): string[] => {
  for (const k of keys) {
    const l = list(p[k]).filter((x): x is string => typeof x === 'string' && x !== '');
    if (l.length > 0) return l;
  }
  return [];
};

const isArn = (s: string): boolean => s.startsWith('arn:');

// ---------------------------------------------------------------------------------------------
// Request tags -> aws:RequestTag/<key>, aws:TagKeys

/** Tags in any of the SDK shapes: [{Key,Value}], [{TagKey,TagValue}], {k: v}. */
function tagsOf(v: unknown): Array<[string, string]> {
  if (Array.isArray(v)) {
    return v.flatMap((t): Array<[string, string]> => {
      if (!t || typeof t !== 'object') return [];
      const o = t as P;
      const k = str(o, 'Key', 'key', 'TagKey');
      return k === undefined ? [] : [[k, str(o, 'Value', 'value', 'TagValue') ?? '']];
    });
  }
  if (v && typeof v === 'object') {
    return Object.entries(v as P).map(([k, x]): [string, string] => [k, typeof x === 'string' ? x : String(x ?? '')]);
  }
  return [];
}

function addTags(ctx: AuthzContext, tags: Array<[string, string]>): void {
  if (tags.length === 0) return;
  for (const [k, v] of tags) ctx[`aws:RequestTag/${k}`] = v;
  ctx['aws:TagKeys'] = tags.map(([k]) => k);
}

function requestTags(call: ApiCall): Array<[string, string]> {
  const p = call.params;
  if (call.service === 'ec2') {
    // TagSpecification.N.Tag.N.Key (query) / TagSpecifications (when decoded from JSON-like shapes)
    return list(p['TagSpecification'] ?? p['TagSpecifications']).flatMap((s) =>
      s && typeof s === 'object' ? tagsOf((s as P)['Tag'] ?? (s as P)['Tags']) : [],
    );
  }
  const t = p['Tags'] ?? p['tags'] ?? p['TagsList'] ?? p['Tag'];
  return tagsOf(t);
}

// ---------------------------------------------------------------------------------------------
// IAM

const IAM_USER_OPS = new Set([
  'CreateUser', 'DeleteUser', 'GetUser', 'UpdateUser', 'TagUser', 'UntagUser', 'ListUserTags',
  'ListUserPolicies', 'GetUserPolicy', 'PutUserPolicy', 'DeleteUserPolicy', 'AttachUserPolicy', 'DetachUserPolicy',
  'ListAttachedUserPolicies', 'PutUserPermissionsBoundary', 'DeleteUserPermissionsBoundary', 'ListGroupsForUser',
  'CreateAccessKey', 'DeleteAccessKey', 'UpdateAccessKey', 'ListAccessKeys',
  'CreateLoginProfile', 'GetLoginProfile', 'UpdateLoginProfile', 'DeleteLoginProfile', 'ChangePassword',
  'EnableMFADevice', 'DeactivateMFADevice', 'ResyncMFADevice', 'ListMFADevices', 'GetMFADevice',
  'UploadSSHPublicKey', 'GetSSHPublicKey', 'UpdateSSHPublicKey', 'DeleteSSHPublicKey', 'ListSSHPublicKeys',
  'UploadSigningCertificate', 'UpdateSigningCertificate', 'DeleteSigningCertificate', 'ListSigningCertificates',
  'CreateServiceSpecificCredential', 'DeleteServiceSpecificCredential', 'ListServiceSpecificCredentials',
  'ResetServiceSpecificCredential', 'UpdateServiceSpecificCredential',
]);

const IAM_GROUP_OPS = new Set([
  'CreateGroup', 'DeleteGroup', 'GetGroup', 'UpdateGroup', 'PutGroupPolicy', 'GetGroupPolicy', 'DeleteGroupPolicy',
  'ListGroupPolicies', 'AttachGroupPolicy', 'DetachGroupPolicy', 'ListAttachedGroupPolicies', 'AddUserToGroup',
  'RemoveUserFromGroup',
]);

const IAM_ROLE_OPS = new Set([
  'CreateRole', 'DeleteRole', 'GetRole', 'UpdateRole', 'UpdateAssumeRolePolicy', 'UpdateRoleDescription', 'TagRole',
  'UntagRole', 'ListRoleTags', 'PutRolePolicy', 'GetRolePolicy', 'DeleteRolePolicy', 'ListRolePolicies',
  'AttachRolePolicy', 'DetachRolePolicy', 'ListAttachedRolePolicies', 'PutRolePermissionsBoundary',
  'DeleteRolePermissionsBoundary', 'ListInstanceProfilesForRole', 'DeleteServiceLinkedRole',
]);

const IAM_POLICY_OPS = new Set([
  'DeletePolicy', 'GetPolicy', 'GetPolicyVersion', 'CreatePolicyVersion', 'DeletePolicyVersion', 'ListPolicyVersions',
  'SetDefaultPolicyVersion', 'TagPolicy', 'UntagPolicy', 'ListPolicyTags', 'ListEntitiesForPolicy',
]);

const IAM_INSTANCE_PROFILE_OPS = new Set([
  'CreateInstanceProfile', 'DeleteInstanceProfile', 'GetInstanceProfile', 'AddRoleToInstanceProfile',
  'RemoveRoleFromInstanceProfile', 'TagInstanceProfile', 'UntagInstanceProfile', 'ListInstanceProfileTags',
]);

const IAM_MFA_OPS = new Set(['CreateVirtualMFADevice', 'DeleteVirtualMFADevice', 'TagMFADevice', 'UntagMFADevice', 'ListMFADeviceTags']);

function iamAuthz(call: ApiCall, account: string, caller: CallerInfo): AuthzRequirement {
  const p = call.params;
  const op = call.operation;
  const action = `iam:${op}`;
  const ctx: AuthzContext = { 'aws:RequestedRegion': 'us-east-1' };
  const arn = (type: string, name: string): string => `arn:aws:iam::${account}:${type}/${name}`;
  const policyArn = str(p, 'PolicyArn');
  if (policyArn && /^(Attach|Detach)(User|Group|Role)Policy$/.test(op)) ctx['iam:PolicyARN'] = policyArn;
  const boundary = str(p, 'PermissionsBoundary');
  if (boundary) ctx['iam:PermissionsBoundary'] = boundary;
  addTags(ctx, requestTags(call));
  const out = (resources: string[], extra: Partial<AuthzRequirement> = {}): AuthzRequirement => ({
    action,
    resources,
    context: ctx,
    ...extra,
  });

  if (IAM_USER_OPS.has(op)) {
    // UserName is optional for operations on the caller's own user (GetUser, CreateAccessKey...).
    const user = str(p, 'UserName') ?? caller.userName;
    return out([user ? arn('user', user) : '*']);
  }
  if (IAM_GROUP_OPS.has(op)) {
    const group = str(p, 'GroupName');
    return out([group ? arn('group', group) : '*']);
  }
  if (IAM_ROLE_OPS.has(op)) {
    const role = str(p, 'RoleName');
    return out([role ? arn('role', role) : '*']);
  }
  if (op === 'CreateServiceLinkedRole') {
    // arn:aws:iam::ACCT:role/aws-service-role/<service>/<name>: the name depends on the service.
    const svc = str(p, 'AWSServiceName');
    if (svc) ctx['iam:AWSServiceName'] = svc;
    return out([svc ? `arn:aws:iam::${account}:role/aws-service-role/${svc}/*` : '*']);
  }
  if (op === 'CreatePolicy') {
    const name = str(p, 'PolicyName');
    return out([name ? arn('policy', name) : '*']);
  }
  if (IAM_POLICY_OPS.has(op)) return out([policyArn ?? '*']);
  if (IAM_INSTANCE_PROFILE_OPS.has(op)) {
    const ip = str(p, 'InstanceProfileName');
    const role = str(p, 'RoleName');
    const extra: Partial<AuthzRequirement> =
      op === 'AddRoleToInstanceProfile' && role
        ? { additional: [passRole(arn('role', role), 'ec2.amazonaws.com')] }
        : {};
    return out([ip ? arn('instance-profile', ip) : '*'], extra);
  }
  if (IAM_MFA_OPS.has(op)) {
    if (op === 'CreateVirtualMFADevice') {
      const name = str(p, 'VirtualMFADeviceName');
      return out([name ? arn('mfa', name) : '*']);
    }
    const serial = str(p, 'SerialNumber');
    return out([serial ? (isArn(serial) ? serial : arn('mfa', serial)) : '*']);
  }
  if (op === 'SimulatePrincipalPolicy' || op === 'GetContextKeysForPrincipalPolicy') {
    return out([str(p, 'PolicySourceArn') ?? '*']);
  }
  if (op === 'GetAccessKeyLastUsed') {
    // The resource is the user owning the key, which the request does not name.
    const key = str(p, 'AccessKeyId');
    return out(['*'], key ? { resolve: { accessKeyId: key } } : {});
  }
  if (op === 'GenerateServiceLastAccessedDetails' || op === 'GenerateOrganizationsAccessReport') {
    return out([str(p, 'Arn', 'EntityPath') ?? '*']);
  }
  if (op === 'CreateSAMLProvider' || op === 'CreateOpenIDConnectProvider') return out(['*']);
  if (/SAMLProvider$/.test(op) || /OpenIDConnectProvider/.test(op)) {
    return out([str(p, 'SAMLProviderArn', 'OpenIDConnectProviderArn') ?? '*']);
  }
  // Account-level operations without a resource type: password policy, credential report,
  // account summary/authorization details, aliases, List* of all users/roles/groups/policies.
  return out(['*']);
}

function passRole(roleArn: string, service?: string): AuthzCheck {
  const context: AuthzContext = {};
  if (service) context['iam:PassedToService'] = service;
  return { action: 'iam:PassRole', resources: [roleArn], context };
}

// ---------------------------------------------------------------------------------------------
// STS

function stsAuthz(call: ApiCall, account: string): AuthzRequirement {
  const p = call.params;
  const op = call.operation;
  const ctx: AuthzContext = { 'aws:RequestedRegion': call.region };
  const action = `sts:${op}`;
  switch (op) {
    case 'GetCallerIdentity':
      // "No permissions are required to perform this operation" — an explicit deny does not apply.
      return { action, resources: ['*'], context: ctx, alwaysAllowed: true };
    case 'GetSessionToken':
      // "No permissions are required for a user to get a session token ... You cannot use policies
      // to control authentication operations." (IAM User Guide, Permissions for GetSessionToken)
      return { action, resources: ['*'], context: ctx, alwaysAllowed: true };
    case 'AssumeRole':
    case 'AssumeRoleWithWebIdentity':
    case 'AssumeRoleWithSAML': {
      const session = str(p, 'RoleSessionName');
      if (session) ctx['sts:RoleSessionName'] = session;
      const external = str(p, 'ExternalId');
      if (external) ctx['sts:ExternalId'] = external;
      const src = str(p, 'SourceIdentity');
      if (src) ctx['sts:SourceIdentity'] = src;
      addTags(ctx, requestTags(call));
      const transitive = strList(p, 'TransitiveTagKeys');
      if (transitive.length > 0) ctx['sts:TransitiveTagKeys'] = transitive;
      // The role's trust policy (a resource policy) must also allow it: the caller evaluates that.
      return { action, resources: [str(p, 'RoleArn') ?? '*'], context: ctx };
    }
    case 'GetFederationToken': {
      const name = str(p, 'Name');
      addTags(ctx, requestTags(call));
      return { action, resources: [name ? `arn:aws:sts::${account}:federated-user/${name}` : '*'], context: ctx };
    }
    case 'TagSession':
    case 'SetSourceIdentity':
      return { action, resources: [str(p, 'RoleArn') ?? '*'], context: ctx };
    default:
      return { action, resources: ['*'], context: ctx };
  }
}

// ---------------------------------------------------------------------------------------------
// S3

/** S3 operation -> [action, level]. Level: what the resource ARN names. */
const S3_ACTIONS: Record<string, [string, 'service' | 'bucket' | 'object']> = {
  ListBuckets: ['ListAllMyBuckets', 'service'],
  ListDirectoryBuckets: ['ListAllMyDirectoryBuckets', 'service'],
  CreateBucket: ['CreateBucket', 'bucket'],
  DeleteBucket: ['DeleteBucket', 'bucket'],
  HeadBucket: ['ListBucket', 'bucket'],
  ListObjects: ['ListBucket', 'bucket'],
  ListObjectsV2: ['ListBucket', 'bucket'],
  ListObjectVersions: ['ListBucketVersions', 'bucket'],
  ListMultipartUploads: ['ListBucketMultipartUploads', 'bucket'],
  GetBucketLocation: ['GetBucketLocation', 'bucket'],
  GetBucketPolicy: ['GetBucketPolicy', 'bucket'],
  PutBucketPolicy: ['PutBucketPolicy', 'bucket'],
  DeleteBucketPolicy: ['DeleteBucketPolicy', 'bucket'],
  GetBucketPolicyStatus: ['GetBucketPolicyStatus', 'bucket'],
  GetBucketAcl: ['GetBucketAcl', 'bucket'],
  PutBucketAcl: ['PutBucketAcl', 'bucket'],
  GetBucketEncryption: ['GetEncryptionConfiguration', 'bucket'],
  PutBucketEncryption: ['PutEncryptionConfiguration', 'bucket'],
  DeleteBucketEncryption: ['PutEncryptionConfiguration', 'bucket'],
  GetPublicAccessBlock: ['GetBucketPublicAccessBlock', 'bucket'],
  PutPublicAccessBlock: ['PutBucketPublicAccessBlock', 'bucket'],
  DeletePublicAccessBlock: ['PutBucketPublicAccessBlock', 'bucket'],
  GetBucketVersioning: ['GetBucketVersioning', 'bucket'],
  PutBucketVersioning: ['PutBucketVersioning', 'bucket'],
  GetBucketTagging: ['GetBucketTagging', 'bucket'],
  PutBucketTagging: ['PutBucketTagging', 'bucket'],
  DeleteBucketTagging: ['PutBucketTagging', 'bucket'],
  GetBucketLogging: ['GetBucketLogging', 'bucket'],
  PutBucketLogging: ['PutBucketLogging', 'bucket'],
  GetBucketNotificationConfiguration: ['GetBucketNotification', 'bucket'],
  PutBucketNotificationConfiguration: ['PutBucketNotification', 'bucket'],
  GetBucketOwnershipControls: ['GetBucketOwnershipControls', 'bucket'],
  PutBucketOwnershipControls: ['PutBucketOwnershipControls', 'bucket'],
  DeleteBucketOwnershipControls: ['PutBucketOwnershipControls', 'bucket'],
  GetBucketLifecycleConfiguration: ['GetLifecycleConfiguration', 'bucket'],
  PutBucketLifecycleConfiguration: ['PutLifecycleConfiguration', 'bucket'],
  DeleteBucketLifecycle: ['PutLifecycleConfiguration', 'bucket'],
  GetBucketCors: ['GetBucketCORS', 'bucket'],
  PutBucketCors: ['PutBucketCORS', 'bucket'],
  DeleteBucketCors: ['PutBucketCORS', 'bucket'],
  GetBucketWebsite: ['GetBucketWebsite', 'bucket'],
  PutBucketWebsite: ['PutBucketWebsite', 'bucket'],
  DeleteBucketWebsite: ['DeleteBucketWebsite', 'bucket'],
  GetBucketReplication: ['GetReplicationConfiguration', 'bucket'],
  PutBucketReplication: ['PutReplicationConfiguration', 'bucket'],
  DeleteBucketReplication: ['PutReplicationConfiguration', 'bucket'],
  GetBucketRequestPayment: ['GetBucketRequestPayment', 'bucket'],
  PutBucketRequestPayment: ['PutBucketRequestPayment', 'bucket'],
  GetBucketAccelerateConfiguration: ['GetAccelerateConfiguration', 'bucket'],
  PutBucketAccelerateConfiguration: ['PutAccelerateConfiguration', 'bucket'],
  GetBucketAnalyticsConfiguration: ['GetAnalyticsConfiguration', 'bucket'],
  ListBucketAnalyticsConfigurations: ['GetAnalyticsConfiguration', 'bucket'],
  PutBucketAnalyticsConfiguration: ['PutAnalyticsConfiguration', 'bucket'],
  DeleteBucketAnalyticsConfiguration: ['PutAnalyticsConfiguration', 'bucket'],
  GetBucketInventoryConfiguration: ['GetInventoryConfiguration', 'bucket'],
  ListBucketInventoryConfigurations: ['GetInventoryConfiguration', 'bucket'],
  PutBucketInventoryConfiguration: ['PutInventoryConfiguration', 'bucket'],
  DeleteBucketInventoryConfiguration: ['PutInventoryConfiguration', 'bucket'],
  GetBucketMetricsConfiguration: ['GetMetricsConfiguration', 'bucket'],
  ListBucketMetricsConfigurations: ['GetMetricsConfiguration', 'bucket'],
  PutBucketMetricsConfiguration: ['PutMetricsConfiguration', 'bucket'],
  DeleteBucketMetricsConfiguration: ['PutMetricsConfiguration', 'bucket'],
  GetBucketIntelligentTieringConfiguration: ['GetIntelligentTieringConfiguration', 'bucket'],
  ListBucketIntelligentTieringConfigurations: ['GetIntelligentTieringConfiguration', 'bucket'],
  PutBucketIntelligentTieringConfiguration: ['PutIntelligentTieringConfiguration', 'bucket'],
  DeleteBucketIntelligentTieringConfiguration: ['PutIntelligentTieringConfiguration', 'bucket'],
  GetObjectLockConfiguration: ['GetBucketObjectLockConfiguration', 'bucket'],
  PutObjectLockConfiguration: ['PutBucketObjectLockConfiguration', 'bucket'],
  GetBucketAbac: ['GetBucketAbac', 'bucket'],
  PutBucketAbac: ['PutBucketAbac', 'bucket'],
  GetBucketMetadataTableConfiguration: ['GetBucketMetadataTableConfiguration', 'bucket'],
  // The V2 metadata configuration APIs are authorized with the metadata table permissions.
  GetBucketMetadataConfiguration: ['GetBucketMetadataTableConfiguration', 'bucket'],
  CreateBucketMetadataConfiguration: ['CreateBucketMetadataTableConfiguration', 'bucket'],
  DeleteBucketMetadataConfiguration: ['DeleteBucketMetadataTableConfiguration', 'bucket'],
  UpdateBucketMetadataInventoryTableConfiguration: ['UpdateBucketMetadataInventoryTableConfiguration', 'bucket'],
  UpdateBucketMetadataJournalTableConfiguration: ['UpdateBucketMetadataJournalTableConfiguration', 'bucket'],
  CreateBucketMetadataTableConfiguration: ['CreateBucketMetadataTableConfiguration', 'bucket'],
  DeleteBucketMetadataTableConfiguration: ['DeleteBucketMetadataTableConfiguration', 'bucket'],
  GetObject: ['GetObject', 'object'],
  HeadObject: ['GetObject', 'object'],
  SelectObjectContent: ['GetObject', 'object'],
  GetObjectAttributes: ['GetObjectAttributes', 'object'],
  GetObjectTorrent: ['GetObjectTorrent', 'object'],
  PutObject: ['PutObject', 'object'],
  PostObject: ['PutObject', 'object'],
  CopyObject: ['PutObject', 'object'],
  // RenameObject is not in the Service Authorization Reference; it writes the destination key.
  RenameObject: ['PutObject', 'object'],
  CreateMultipartUpload: ['PutObject', 'object'],
  UploadPart: ['PutObject', 'object'],
  UploadPartCopy: ['PutObject', 'object'],
  CompleteMultipartUpload: ['PutObject', 'object'],
  AbortMultipartUpload: ['AbortMultipartUpload', 'object'],
  ListParts: ['ListMultipartUploadParts', 'object'],
  DeleteObject: ['DeleteObject', 'object'],
  DeleteObjects: ['DeleteObject', 'object'],
  GetObjectAcl: ['GetObjectAcl', 'object'],
  PutObjectAcl: ['PutObjectAcl', 'object'],
  GetObjectTagging: ['GetObjectTagging', 'object'],
  PutObjectTagging: ['PutObjectTagging', 'object'],
  DeleteObjectTagging: ['DeleteObjectTagging', 'object'],
  GetObjectRetention: ['GetObjectRetention', 'object'],
  PutObjectRetention: ['PutObjectRetention', 'object'],
  GetObjectLegalHold: ['GetObjectLegalHold', 'object'],
  PutObjectLegalHold: ['PutObjectLegalHold', 'object'],
  RestoreObject: ['RestoreObject', 'object'],
};

/** Versioned variants: with a versionId the action names the version. */
const S3_VERSIONED: Record<string, string> = {
  GetObject: 'GetObjectVersion',
  DeleteObject: 'DeleteObjectVersion',
  GetObjectAcl: 'GetObjectVersionAcl',
  PutObjectAcl: 'PutObjectVersionAcl',
  GetObjectTagging: 'GetObjectVersionTagging',
  PutObjectTagging: 'PutObjectVersionTagging',
  DeleteObjectTagging: 'DeleteObjectVersionTagging',
  GetObjectAttributes: 'GetObjectVersionAttributes',
  GetObjectTorrent: 'GetObjectVersionTorrent',
};

/** Request headers that become s3: condition keys under the same name. */
const S3_HEADER_KEYS = [
  'x-amz-acl', 'x-amz-server-side-encryption', 'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-server-side-encryption-customer-algorithm', 'x-amz-copy-source', 'x-amz-metadata-directive',
  'x-amz-storage-class', 'x-amz-website-redirect-location', 'x-amz-grant-full-control', 'x-amz-grant-read',
  'x-amz-grant-read-acp', 'x-amz-grant-write', 'x-amz-grant-write-acp',
];

export function s3ObjectArn(bucket: string, key: string): string {
  return `arn:aws:s3:::${bucket}/${key}`;
}

function s3Authz(call: ApiCall, account: string): AuthzRequirement {
  const p = call.params;
  const op = call.operation;
  const bucket = str(p, 'Bucket');
  const key = str(p, 'Key');
  const ctx: AuthzContext = { 'aws:RequestedRegion': call.region };
  for (const h of S3_HEADER_KEYS) {
    const v = str(p, h);
    if (v !== undefined) ctx[`s3:${h}`] = v;
  }
  const lock: Array<[string, string]> = [
    ['x-amz-object-lock-mode', 's3:object-lock-mode'],
    ['x-amz-object-lock-retain-until-date', 's3:object-lock-retain-until-date'],
    ['x-amz-object-lock-legal-hold', 's3:object-lock-legal-hold'],
  ];
  for (const [h, k] of lock) {
    const v = str(p, h);
    if (v !== undefined) ctx[k] = v;
  }
  const ownership = str(p, 'x-amz-object-ownership');
  if (ownership) ctx['s3:x-amz-object-ownership'] = ownership;
  const versionId = str(p, 'versionId');
  if (versionId) ctx['s3:VersionId'] = versionId;
  if (call.auth === 'sigv4' || call.auth === 'sigv4-query') ctx['s3:signatureversion'] = 'AWS4-HMAC-SHA256';
  else if (call.auth === 'sigv2') ctx['s3:signatureversion'] = 'AWS';
  if (call.auth === 'sigv4' || call.auth === 'sigv2') ctx['s3:authType'] = 'REST-HEADER';
  else if (call.auth === 'sigv4-query') ctx['s3:authType'] = 'REST-QUERY-STRING';
  if (op === 'PostObject') ctx['s3:authType'] = 'POST';
  if (['ListObjects', 'ListObjectsV2', 'ListObjectVersions', 'ListMultipartUploads'].includes(op)) {
    for (const k of ['prefix', 'delimiter', 'max-keys']) {
      const v = str(p, k);
      if (v !== undefined) ctx[`s3:${k}`] = v;
    }
  }
  const tagging = str(p, 'x-amz-tagging');
  if (tagging) {
    const tags = [...new URLSearchParams(tagging)];
    for (const [k, v] of tags) ctx[`s3:RequestObjectTag/${k}`] = v;
    ctx['s3:RequestObjectTagKeys'] = tags.map(([k]) => k);
  }
  // PutObjectTagging: the tag set in the body is the request's tags ("s3:RequestObjectTag/<key>",
  // "s3:RequestObjectTagKeys", S3 User Guide, "Tagging and access control policies").
  const tagSet = (op === 'PutObjectTagging' || op === 'PutObjectVersionTagging') ? p['Tagging'] : undefined;
  if (tagSet && typeof tagSet === 'object') {
    const set = (tagSet as P)['TagSet'];
    const tags = set && typeof set === 'object' ? list((set as P)['Tag']) : [];
    const pairs = tags.flatMap((t) => (t && typeof t === 'object' && str(t as P, 'Key') !== undefined ? [[str(t as P, 'Key')!, str(t as P, 'Value') ?? ''] as [string, string]] : []));
    for (const [k, v] of pairs) ctx[`s3:RequestObjectTag/${k}`] = v;
    ctx['s3:RequestObjectTagKeys'] = pairs.map(([k]) => k);
  }
  const cfg = p['CreateBucketConfiguration'];
  if (op === 'CreateBucket' && cfg && typeof cfg === 'object') {
    const lc = str(cfg as P, 'LocationConstraint');
    if (lc) ctx['s3:LocationConstraint'] = lc;
  }

  if (op === 'CreateSession') {
    // S3 Express One Zone: directory buckets are s3express resources.
    return { action: 's3express:CreateSession', resources: [bucket ? `arn:aws:s3express:${call.region}:${account}:bucket/${bucket}` : '*'], context: ctx };
  }
  const entry = S3_ACTIONS[op];
  if (!entry) {
    return { action: `s3:${op}`, resources: [bucket ? (key ? s3ObjectArn(bucket, key) : `arn:aws:s3:::${bucket}`) : '*'], context: ctx };
  }
  const [baseAction, level] = entry;
  const actionName = versionId && S3_VERSIONED[op] ? S3_VERSIONED[op]! : baseAction;
  const action = `s3:${actionName}`;
  const additional: AuthzCheck[] = [];
  let resources: string[];
  if (level === 'service') resources = ['*'];
  else if (level === 'bucket') resources = [bucket ? `arn:aws:s3:::${bucket}` : '*'];
  else if (op === 'DeleteObjects') {
    const del = p['Delete'];
    const objects = del && typeof del === 'object' ? list((del as P)['Objects']) : [];
    const keys = objects.flatMap((o) => (o && typeof o === 'object' && str(o as P, 'Key') !== undefined ? [o as P] : []));
    resources = bucket ? keys.map((o) => s3ObjectArn(bucket, str(o, 'Key')!)) : [];
    const versioned = keys.filter((o) => str(o, 'VersionId') !== undefined);
    if (versioned.length > 0 && bucket) {
      additional.push({
        action: 's3:DeleteObjectVersion',
        resources: versioned.map((o) => s3ObjectArn(bucket, str(o, 'Key')!)),
        context: ctx,
      });
    }
    if (resources.length === 0) resources = bucket ? [`arn:aws:s3:::${bucket}/*`] : ['*'];
  } else {
    resources = [bucket && key !== undefined ? s3ObjectArn(bucket, key) : bucket ? `arn:aws:s3:::${bucket}/*` : '*'];
  }

  // Writes that also set an ACL or tags need those permissions too.
  if (['PutObject', 'CopyObject', 'CreateMultipartUpload', 'PostObject'].includes(op)) {
    const hasAcl = Object.keys(p).some((k) => k === 'x-amz-acl' || k.startsWith('x-amz-grant-'));
    if (hasAcl) additional.push({ action: 's3:PutObjectAcl', resources, context: ctx });
    if (tagging) additional.push({ action: 's3:PutObjectTagging', resources, context: ctx });
    // Object Lock on upload (S3 User Guide, Object Lock "Required permissions"): a retention needs
    // s3:PutObjectRetention, a legal hold s3:PutObjectLegalHold. s3:BypassGovernanceRetention is
    // checked by the S3 service (services/s3/object-lock.ts) only when a bypass is actually needed.
    if (str(p, 'x-amz-object-lock-mode', 'x-amz-object-lock-retain-until-date') !== undefined) additional.push({ action: 's3:PutObjectRetention', resources, context: ctx });
    if (str(p, 'x-amz-object-lock-legal-hold') !== undefined) additional.push({ action: 's3:PutObjectLegalHold', resources, context: ctx });
  }
  if (op === 'CopyObject' || op === 'UploadPartCopy') {
    const src = copySource(str(p, 'x-amz-copy-source'));
    if (src) {
      additional.push({
        action: src.versionId ? 's3:GetObjectVersion' : 's3:GetObject',
        resources: [s3ObjectArn(src.bucket, src.key)],
        context: { 'aws:RequestedRegion': call.region, ...(src.versionId ? { 's3:VersionId': src.versionId } : {}) },
      });
    }
  }
  if (op === 'PutBucketReplication') {
    const role = findString(p, 'Role');
    if (role) additional.push(passRole(role, 's3.amazonaws.com'));
  }
  return { action, resources, context: ctx, ...(additional.length ? { additional } : {}) };
}

/** Parse x-amz-copy-source: `bucket/key[?versionId=..]`, URL-encoded, optional leading slash. */
export function copySource(v: string | undefined): { bucket: string; key: string; versionId?: string } | undefined {
  if (!v) return undefined;
  let s = v.startsWith('/') ? v.slice(1) : v;
  let versionId: string | undefined;
  const q = s.indexOf('?');
  if (q >= 0) {
    versionId = new URLSearchParams(s.slice(q + 1)).get('versionId') ?? undefined;
    s = s.slice(0, q);
  }
  let decoded = s;
  try {
    decoded = decodeURIComponent(s);
  } catch {
    // keep raw
  }
  const slash = decoded.indexOf('/');
  if (slash <= 0) return undefined;
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), ...(versionId ? { versionId } : {}) };
}

/** First string value under `key` anywhere in a parsed body (for nested XML/JSON configurations). */
function findString(v: unknown, key: string): string | undefined {
  if (!v || typeof v !== 'object') return undefined;
  for (const [k, x] of Object.entries(v as P)) {
    if (k === key && typeof x === 'string') return x;
    const inner = findString(x, key);
    if (inner) return inner;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// KMS

export function kmsKeyArn(region: string, account: string, keyId: string): string {
  if (isArn(keyId)) return keyId;
  return `arn:aws:kms:${region}:${account}:key/${keyId}`;
}

function kmsAuthz(call: ApiCall, account: string): AuthzRequirement {
  const p = call.params;
  const op = call.operation;
  const region = call.region;
  const ctx: AuthzContext = { 'aws:RequestedRegion': region, 'kms:CallerAccount': account };
  const ec = p['EncryptionContext'];
  if (ec && typeof ec === 'object' && !Array.isArray(ec)) {
    const entries = Object.entries(ec as P);
    for (const [k, v] of entries) ctx[`kms:EncryptionContext:${k}`] = String(v);
    if (entries.length) ctx['kms:EncryptionContextKeys'] = entries.map(([k]) => k);
  }
  const algo = str(p, 'EncryptionAlgorithm');
  if (algo) ctx['kms:EncryptionAlgorithm'] = algo;
  const aliasArn = (alias: string): string => (isArn(alias) ? alias : `arn:aws:kms:${region}:${account}:${alias}`);
  const isAlias = (id: string): boolean => id.startsWith('alias/') || /^arn:[^:]+:kms:[^:]*:[^:]*:alias\//.test(id);
  /** Resource for a KeyId parameter: key ARN; aliases need resolving to the key by the caller. */
  const keyResource = (id: string | undefined): { resources: string[]; resolve?: AuthzRequirement['resolve'] } => {
    if (!id) return { resources: ['*'] };
    // An alias is authorized against the key it names (the key policy applies), which only the
    // caller can look up: `*` here, and the alias to resolve.
    if (isAlias(id)) return { resources: ['*'], resolve: { kmsAliasArn: aliasArn(id) } };
    return { resources: [kmsKeyArn(region, account, id)] };
  };

  switch (op) {
    case 'CreateKey': {
      for (const [param, key] of [
        ['KeySpec', 'kms:KeySpec'],
        ['CustomerMasterKeySpec', 'kms:KeySpec'],
        ['KeyUsage', 'kms:KeyUsage'],
        ['Origin', 'kms:KeyOrigin'],
        ['MultiRegion', 'kms:MultiRegion'],
        ['BypassPolicyLockoutSafetyCheck', 'kms:BypassPolicyLockoutSafetyCheck'],
      ] as const) {
        const v = str(p, param);
        if (v !== undefined) ctx[key] = v;
      }
      addTags(ctx, requestTags(call));
      return { action: 'kms:CreateKey', resources: ['*'], context: ctx };
    }
    case 'ListKeys':
    case 'ListAliases':
    case 'GenerateRandom':
    case 'CreateCustomKeyStore':
    case 'DescribeCustomKeyStores':
    case 'ListRetirableGrants':
      // ListAliases with KeyId is still authorized on '*' per the reference (no resource type).
      return { action: `kms:${op}`, resources: ['*'], context: ctx };
    case 'CreateAlias':
    case 'UpdateAlias': {
      // kms:CreateAlias / kms:UpdateAlias on the alias (identity policy) and on the target key (key policy).
      // UpdateAlias also needs it on the key the alias points to now (AWS: "kms:UpdateAlias on the
      // current KMS key"), so a key policy can stop an alias being moved off its key.
      const alias = str(p, 'AliasName');
      const target = keyResource(str(p, 'TargetKeyId'));
      const current = op === 'UpdateAlias' && alias ? { kmsAliasCurrentKey: aliasArn(alias) } : {};
      return {
        action: `kms:${op}`,
        resources: [alias ? aliasArn(alias) : '*'],
        context: ctx,
        additional: [{ action: `kms:${op}`, resources: target.resources, context: ctx }],
        ...(target.resolve || current.kmsAliasCurrentKey ? { resolve: { ...target.resolve, ...current } } : {}),
      };
    }
    case 'DeleteAlias': {
      // Also kms:DeleteAlias on the key the alias points to, which the caller has to look up.
      const alias = str(p, 'AliasName');
      return {
        action: 'kms:DeleteAlias',
        resources: [alias ? aliasArn(alias) : '*'],
        context: ctx,
        ...(alias ? { resolve: { kmsAliasArn: aliasArn(alias) } } : {}),
      };
    }
    case 'ReEncrypt': {
      const dest = keyResource(str(p, 'DestinationKeyId'));
      const src = keyResource(str(p, 'SourceKeyId'));
      // Without SourceKeyId the key is recorded in the ciphertext blob (symmetric keys): '*'.
      return {
        action: 'kms:ReEncryptFrom',
        resources: src.resources,
        context: ctx,
        additional: [{ action: 'kms:ReEncryptTo', resources: dest.resources, context: ctx }],
        ...(src.resolve ?? dest.resolve ? { resolve: src.resolve ?? dest.resolve } : {}),
      };
    }
    case 'CreateGrant': {
      const grantee = str(p, 'GranteePrincipal');
      if (grantee) ctx['kms:GranteePrincipal'] = grantee;
      const retiring = str(p, 'RetiringPrincipal');
      if (retiring) ctx['kms:RetiringPrincipal'] = retiring;
      const ops = strList(p, 'Operations');
      if (ops.length) ctx['kms:GrantOperations'] = ops;
      const r = keyResource(str(p, 'KeyId'));
      return { action: 'kms:CreateGrant', ...r, context: ctx };
    }
    default: {
      // Decrypt without KeyId: the key is inside the ciphertext blob, not known here ('*').
      const r = keyResource(str(p, 'KeyId'));
      return { action: `kms:${op}`, ...r, context: ctx };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// EC2

/** EC2 operations on instances named by InstanceId(.N). */
const EC2_INSTANCE_OPS = new Set([
  'TerminateInstances', 'StopInstances', 'StartInstances', 'RebootInstances', 'ModifyInstanceAttribute',
  'ModifyInstanceMetadataOptions', 'ResetInstanceAttribute', 'GetConsoleOutput', 'GetConsoleScreenshot',
  'MonitorInstances', 'UnmonitorInstances', 'AssociateIamInstanceProfile', 'ModifyInstanceMaintenanceOptions',
  'GetPasswordData', 'DescribeInstanceAttribute',
]);

function ec2Authz(call: ApiCall, account: string): AuthzRequirement {
  const p = call.params;
  const op = call.operation;
  const region = call.region;
  const ctx: AuthzContext = { 'aws:RequestedRegion': region, 'ec2:Region': region };
  const arn = (type: string, id: string, acct: string = account): string => `arn:aws:ec2:${region}:${acct}:${type}/${id}`;
  const action = `ec2:${op}`;
  addTags(ctx, requestTags(call));
  const httpTokens = str(p, 'HttpTokens') ?? str((p['MetadataOptions'] as P | undefined) ?? {}, 'HttpTokens');
  if (httpTokens) ctx['ec2:MetadataHttpTokens'] = httpTokens;

  if (EC2_INSTANCE_OPS.has(op)) {
    const ids = strList(p, 'InstanceId');
    return { action, resources: ids.length ? ids.map((i) => arn('instance', i)) : ['*'], context: ctx };
  }
  if (['ModifySnapshotAttribute', 'DeleteSnapshot', 'ResetSnapshotAttribute', 'DescribeSnapshotAttribute'].includes(op)) {
    // Snapshot ARNs carry no account: arn:aws:ec2:REGION::snapshot/ID.
    const id = str(p, 'SnapshotId');
    const cvp = p['CreateVolumePermission'];
    if (cvp && typeof cvp === 'object') {
      const c = cvp as P;
      const users = (k: string): string[] => list(c[k]).flatMap((x) => (x && typeof x === 'object' && str(x as P, 'UserId') ? [str(x as P, 'UserId')!] : []));
      const groups = (k: string): string[] => list(c[k]).flatMap((x) => (x && typeof x === 'object' && str(x as P, 'Group') ? [str(x as P, 'Group')!] : []));
      if (users('Add').length) ctx['ec2:Add/userId'] = users('Add');
      if (groups('Add').length) ctx['ec2:Add/group'] = groups('Add');
      if (users('Remove').length) ctx['ec2:Remove/userId'] = users('Remove');
    }
    const userIds = strList(p, 'UserId');
    if (userIds.length && str(p, 'OperationType') === 'add') ctx['ec2:Add/userId'] = userIds;
    return { action, resources: [id ? arn('snapshot', id, '') : '*'], context: ctx };
  }
  if (['DeleteVolume', 'AttachVolume', 'DetachVolume', 'ModifyVolume', 'CreateSnapshot'].includes(op)) {
    const id = str(p, 'VolumeId');
    const res = [id ? arn('volume', id) : '*'];
    const inst = str(p, 'InstanceId');
    if (inst && (op === 'AttachVolume' || op === 'DetachVolume')) res.push(arn('instance', inst));
    return { action, resources: res, context: ctx };
  }
  if (/^(Authorize|Revoke)SecurityGroup(Ingress|Egress)$|^DeleteSecurityGroup$|^ModifySecurityGroupRules$|^UpdateSecurityGroupRuleDescriptions/.test(op)) {
    const id = str(p, 'GroupId');
    return { action, resources: [id ? arn('security-group', id) : '*'], context: ctx };
  }
  if (['CreateNetworkAclEntry', 'ReplaceNetworkAclEntry', 'DeleteNetworkAclEntry', 'DeleteNetworkAcl'].includes(op)) {
    const id = str(p, 'NetworkAclId');
    return { action, resources: [id ? arn('network-acl', id) : '*'], context: ctx };
  }
  if (op === 'CreateFlowLogs') {
    // Resources: the VPCs/subnets/ENIs and the new flow log; '*' here. Delivering to CloudWatch
    // Logs passes a role to the service.
    const role = str(p, 'DeliverLogsPermissionArn');
    return { action, resources: ['*'], context: ctx, ...(role ? { additional: [passRole(role, 'vpc-flow-logs.amazonaws.com')] } : {}) };
  }
  if (op === 'RunInstances') {
    // RunInstances authorizes several resources (image, subnet, security groups, volumes, the new
    // instance); '*' here. An instance profile passes its role (looked up by the caller).
    return { action, resources: ['*'], context: ctx };
  }
  // Describe* and most other EC2 actions have no resource-level permissions: '*'.
  return { action, resources: ['*'], context: ctx };
}

// ---------------------------------------------------------------------------------------------
// CloudTrail, Logs, CloudWatch, SNS, SQS, EventBridge

function cloudtrailAuthz(call: ApiCall, account: string): AuthzRequirement {
  const p = call.params;
  const op = call.operation;
  const ctx: AuthzContext = { 'aws:RequestedRegion': call.region };
  const action = `cloudtrail:${op}`;
  const trailArn = (n: string): string => (isArn(n) ? n : `arn:aws:cloudtrail:${call.region}:${account}:trail/${n}`);
  addTags(ctx, requestTags(call));
  const name = str(p, 'Name', 'TrailName', 'ResourceId');
  if (['DescribeTrails', 'ListTrails', 'LookupEvents', 'ListPublicKeys', 'ListEventDataStores'].includes(op) || !name) {
    return { action, resources: ['*'], context: ctx };
  }
  const additional: AuthzCheck[] = [];
  const role = str(p, 'CloudWatchLogsRoleArn');
  if (role && (op === 'CreateTrail' || op === 'UpdateTrail')) additional.push(passRole(role, 'cloudtrail.amazonaws.com'));
  return { action, resources: [trailArn(name)], context: ctx, ...(additional.length ? { additional } : {}) };
}

/**
 * CloudWatch Logs authorizes log-group actions against `...:log-group:NAME:log-stream:` (so a
 * policy needs `log-group:NAME:*`, as AWS's AccessDenied messages show), and log-stream actions
 * against `...:log-group:NAME:log-stream:STREAM`.
 */
export function logGroupArn(region: string, account: string, group: string): string {
  return `arn:aws:logs:${region}:${account}:log-group:${group}:log-stream:`;
}

const LOGS_STREAM_OPS = new Set(['PutLogEvents', 'CreateLogStream', 'DeleteLogStream', 'GetLogEvents']);

function logsAuthz(call: ApiCall, account: string): AuthzRequirement {
  const p = call.params;
  const op = call.operation;
  const region = call.region;
  const ctx: AuthzContext = { 'aws:RequestedRegion': region };
  const action = `logs:${op}`;
  addTags(ctx, requestTags(call));
  const groupName = (id: string | undefined): string | undefined => {
    if (!id) return undefined;
    const m = /^arn:[^:]+:logs:[^:]*:[^:]*:log-group:(.+?)(?::\*|:log-stream:.*)?$/.exec(id);
    return m ? m[1] : id;
  };
  const group = groupName(str(p, 'logGroupName', 'logGroupIdentifier'));
  const stream = str(p, 'logStreamName');
  if (LOGS_STREAM_OPS.has(op) && group) {
    return { action, resources: [`arn:aws:logs:${region}:${account}:log-group:${group}:log-stream:${stream ?? ''}`], context: ctx };
  }
  if (op === 'DescribeLogGroups') {
    return { action, resources: [logGroupArn(region, account, '')], context: ctx };
  }
  if (op === 'TagResource' || op === 'UntagResource' || op === 'ListTagsForResource') {
    const arn = str(p, 'resourceArn');
    return { action, resources: [arn ?? '*'], context: ctx };
  }
  const groups = strList(p, 'logGroupNames', 'logGroupIdentifiers').map((g) => groupName(g)!);
  if (groups.length > 0) return { action, resources: groups.map((g) => logGroupArn(region, account, g)), context: ctx };
  if (!group) return { action, resources: ['*'], context: ctx };
  const additional: AuthzCheck[] = [];
  const role = str(p, 'roleArn');
  if (role && op === 'PutSubscriptionFilter') additional.push(passRole(role, 'logs.amazonaws.com'));
  return { action, resources: [logGroupArn(region, account, group)], context: ctx, ...(additional.length ? { additional } : {}) };
}

function cloudwatchAuthz(call: ApiCall, account: string): AuthzRequirement {
  const p = call.params;
  const op = call.operation;
  const region = call.region;
  const ctx: AuthzContext = { 'aws:RequestedRegion': region };
  const action = `cloudwatch:${op}`;
  const alarm = (n: string): string => `arn:aws:cloudwatch:${region}:${account}:alarm:${n}`;
  addTags(ctx, requestTags(call));
  const ns = str(p, 'Namespace');
  if (ns && op === 'PutMetricData') ctx['cloudwatch:namespace'] = ns;
  switch (op) {
    case 'PutMetricAlarm':
    case 'PutCompositeAlarm':
    case 'SetAlarmState':
    case 'DescribeAlarmHistory': {
      const n = str(p, 'AlarmName');
      return { action, resources: [n ? alarm(n) : alarm('*')], context: ctx };
    }
    case 'DeleteAlarms':
    case 'EnableAlarmActions':
    case 'DisableAlarmActions':
    case 'DescribeAlarms': {
      const names = strList(p, 'AlarmNames');
      return { action, resources: names.length ? names.map(alarm) : [alarm('*')], context: ctx };
    }
    case 'PutDashboard':
    case 'GetDashboard': {
      const n = str(p, 'DashboardName');
      return { action, resources: [n ? `arn:aws:cloudwatch::${account}:dashboard/${n}` : '*'], context: ctx };
    }
    case 'TagResource':
    case 'UntagResource':
    case 'ListTagsForResource':
      return { action, resources: [str(p, 'ResourceARN') ?? '*'], context: ctx };
    default:
      // PutMetricData, GetMetricData, GetMetricStatistics, ListMetrics...: no resource type.
      return { action, resources: ['*'], context: ctx };
  }
}

function snsAuthz(call: ApiCall, account: string): AuthzRequirement {
  const p = call.params;
  const op = call.operation;
  const ctx: AuthzContext = { 'aws:RequestedRegion': call.region };
  const action = `sns:${op}`;
  addTags(ctx, requestTags(call));
  if (op === 'CreateTopic') {
    const n = str(p, 'Name');
    return { action, resources: [n ? `arn:aws:sns:${call.region}:${account}:${n}` : '*'], context: ctx };
  }
  if (op === 'Subscribe') {
    const proto = str(p, 'Protocol');
    if (proto) ctx['sns:Protocol'] = proto;
    const ep = str(p, 'Endpoint');
    if (ep) ctx['sns:Endpoint'] = ep;
  }
  let topic = str(p, 'TopicArn', 'TargetArn', 'ResourceArn');
  const sub = str(p, 'SubscriptionArn');
  if (!topic && sub && isArn(sub)) topic = sub.slice(0, sub.lastIndexOf(':')); // subscription ARN = topic ARN + ':' + id
  if (op === 'Publish' && !topic) return { action, resources: ['*'], context: ctx }; // PhoneNumber (SMS)
  return { action, resources: [topic ?? '*'], context: ctx };
}

/** Queue ARN from a queue URL (`https://host/ACCOUNT/NAME`) or name. */
export function sqsQueueArn(region: string, account: string, urlOrName: string): string {
  const m = /\/(\d{12})\/([^/?]+)\/?$/.exec(urlOrName);
  if (m) return `arn:aws:sqs:${region}:${m[1]}:${m[2]}`;
  return `arn:aws:sqs:${region}:${account}:${urlOrName}`;
}

function sqsAuthz(call: ApiCall, account: string): AuthzRequirement {
  const p = call.params;
  const op = call.operation;
  const ctx: AuthzContext = { 'aws:RequestedRegion': call.region };
  addTags(ctx, requestTags(call));
  // Batch variants are authorized as the single action.
  const action = `sqs:${op.replace(/Batch$/, '')}`;
  if (op === 'ListQueues') return { action, resources: ['*'], context: ctx };
  const url = str(p, 'QueueUrl');
  if (url) return { action, resources: [sqsQueueArn(call.region, account, url)], context: ctx };
  const name = str(p, 'QueueName');
  if (name) return { action, resources: [sqsQueueArn(call.region, str(p, 'QueueOwnerAWSAccountId') ?? account, name)], context: ctx };
  return { action, resources: ['*'], context: ctx };
}

function eventsAuthz(call: ApiCall, account: string): AuthzRequirement {
  const p = call.params;
  const op = call.operation;
  const region = call.region;
  const ctx: AuthzContext = { 'aws:RequestedRegion': region };
  const action = `events:${op}`;
  addTags(ctx, requestTags(call));
  const busName = (b: string | undefined): string | undefined => (b ? (isArn(b) ? b.slice(b.indexOf('event-bus/') + 10) : b) : undefined);
  const busArn = (b: string | undefined): string => `arn:aws:events:${region}:${account}:event-bus/${busName(b) ?? 'default'}`;
  const ruleArn = (rule: string, bus: string | undefined): string => {
    if (isArn(rule)) return rule;
    const b = busName(bus);
    return `arn:aws:events:${region}:${account}:rule/${b && b !== 'default' ? `${b}/` : ''}${rule}`;
  };
  if (op === 'PutEvents') {
    const entries = list(p['Entries']).filter((e): e is P => !!e && typeof e === 'object');
    const sources = [...new Set(entries.map((e) => str(e, 'Source')).filter((s): s is string => !!s))];
    const types = [...new Set(entries.map((e) => str(e, 'DetailType')).filter((s): s is string => !!s))];
    if (sources.length) ctx['events:source'] = sources;
    if (types.length) ctx['events:detail-type'] = types;
    const buses = [...new Set(entries.map((e) => busArn(str(e, 'EventBusName'))))];
    return { action, resources: buses.length ? buses : [busArn(undefined)], context: ctx };
  }
  const rule = str(p, 'Name', 'Rule');
  if (rule && /Rule$|Targets/.test(op)) {
    const additional: AuthzCheck[] = [];
    if (op === 'PutTargets') {
      for (const t of list(p['Targets'])) {
        const role = t && typeof t === 'object' ? str(t as P, 'RoleArn') : undefined;
        if (role) additional.push(passRole(role, 'events.amazonaws.com'));
      }
    }
    const role = str(p, 'RoleArn');
    if (role && op === 'PutRule') additional.push(passRole(role, 'events.amazonaws.com'));
    return { action, resources: [ruleArn(rule, str(p, 'EventBusName'))], context: ctx, ...(additional.length ? { additional } : {}) };
  }
  if (/EventBus$/.test(op)) return { action, resources: [busArn(str(p, 'Name'))], context: ctx };
  if (op === 'TagResource' || op === 'UntagResource' || op === 'ListTagsForResource') {
    return { action, resources: [str(p, 'ResourceARN') ?? '*'], context: ctx };
  }
  return { action, resources: ['*'], context: ctx };
}

// ---------------------------------------------------------------------------------------------
// Lambda, GuardDuty, Macie2

/** Function ARN from a name, `name:qualifier`, partial ARN `ACCT:function:name` or full ARN. */
export function lambdaFunctionArn(region: string, account: string, fn: string, qualifier?: string): string {
  let arn: string;
  if (isArn(fn)) arn = fn;
  else if (/^\d{12}:function:/.test(fn)) arn = `arn:aws:lambda:${region}:${fn}`;
  else arn = `arn:aws:lambda:${region}:${account}:function:${fn}`;
  if (qualifier && !/:function:[^:]+:[^:]+$/.test(arn)) arn = `${arn}:${qualifier}`;
  return arn;
}

const LAMBDA_ACTIONS: Record<string, string> = {
  Invoke: 'InvokeFunction',
  InvokeWithResponseStream: 'InvokeFunction',
  InvokeAsync: 'InvokeAsync',
  GetFunctionConfiguration: 'GetFunctionConfiguration',
  ListVersionsByFunction: 'ListVersionsByFunction',
  GetLayerVersionByArn: 'GetLayerVersion',
};

function lambdaAuthz(call: ApiCall, account: string): AuthzRequirement {
  const p = call.params;
  const op = call.operation;
  const region = call.region;
  const ctx: AuthzContext = { 'aws:RequestedRegion': region };
  const action = `lambda:${LAMBDA_ACTIONS[op] ?? op}`;
  addTags(ctx, requestTags(call));
  const fn = str(p, 'FunctionName');
  const additional: AuthzCheck[] = [];
  const role = str(p, 'Role');
  if (role && (op === 'CreateFunction' || op === 'UpdateFunctionConfiguration')) additional.push(passRole(role, 'lambda.amazonaws.com'));
  const extra = additional.length ? { additional } : {};
  if (op === 'AddPermission') {
    const principal = str(p, 'Principal');
    if (principal) ctx['lambda:Principal'] = principal;
  }
  if (op === 'CreateEventSourceMapping' || op === 'UpdateEventSourceMapping') {
    if (fn) ctx['lambda:FunctionArn'] = lambdaFunctionArn(region, account, fn);
  }
  const uuid = str(p, 'UUID');
  if (uuid) return { action, resources: [`arn:aws:lambda:${region}:${account}:event-source-mapping:${uuid}`], context: ctx, ...extra };
  if (op === 'CreateEventSourceMapping') return { action, resources: ['*'], context: ctx, ...extra };
  if (fn) {
    // Qualified requests (versions, aliases) are authorized on the qualified ARN.
    const qualifier = op === 'CreateFunction' ? undefined : str(p, 'Qualifier');
    return { action, resources: [lambdaFunctionArn(region, account, fn, qualifier)], context: ctx, ...extra };
  }
  if (op === 'TagResource' || op === 'UntagResource' || op === 'ListTags') {
    return { action, resources: [str(p, 'Resource') ?? '*'], context: ctx };
  }
  const layer = str(p, 'LayerName');
  if (layer && op !== 'ListLayerVersions') {
    const v = str(p, 'VersionNumber');
    const base = isArn(layer) ? layer : `arn:aws:lambda:${region}:${account}:layer:${layer}`;
    return { action, resources: [v ? `${base}:${v}` : base], context: ctx };
  }
  const layerArn = str(p, 'Arn');
  if (layerArn) return { action, resources: [layerArn], context: ctx };
  return { action, resources: ['*'], context: ctx, ...extra };
}

/**
 * GuardDuty: the reference gives resource types only to detector CRUD, coverage, and the
 * sub-resources (filters, IP sets, threat intel sets, publishing destinations...); findings,
 * members and the Create* of sets have none ('*').
 */
const GUARDDUTY_DETECTOR_OPS = new Set(['DeleteDetector', 'GetDetector', 'UpdateDetector', 'GetCoverageStatistics', 'ListCoverage']);
const GUARDDUTY_SUB: Array<[param: string, type: string, ops: RegExp]> = [
  ['FilterName', 'filter', /^(Get|Update|Delete|Create)Filter$/],
  ['IpSetId', 'ipset', /^(Get|Update|Delete)IPSet$/],
  ['ThreatIntelSetId', 'threatintelset', /^(Get|Update|Delete)ThreatIntelSet$/],
  ['DestinationId', 'publishingdestination', /^(Describe|Update|Delete)PublishingDestination$/],
  ['ThreatEntitySetId', 'threatentityset', /^(Get|Update|Delete)ThreatEntitySet$/],
  ['TrustedEntitySetId', 'trustedentityset', /^(Get|Update|Delete)TrustedEntitySet$/],
];

function guarddutyAuthz(call: ApiCall, account: string): AuthzRequirement {
  const p = call.params;
  const op = call.operation;
  const region = call.region;
  const ctx: AuthzContext = { 'aws:RequestedRegion': region };
  const action = `guardduty:${op}`;
  addTags(ctx, requestTags(call));
  if (op === 'TagResource' || op === 'UntagResource' || op === 'ListTagsForResource') {
    return { action, resources: [str(p, 'ResourceArn') ?? '*'], context: ctx };
  }
  const detector = str(p, 'DetectorId');
  if (!detector) return { action, resources: ['*'], context: ctx };
  const base = `arn:aws:guardduty:${region}:${account}:detector/${detector}`;
  if (GUARDDUTY_DETECTOR_OPS.has(op)) return { action, resources: [base], context: ctx };
  for (const [param, type, ops] of GUARDDUTY_SUB) {
    if (!ops.test(op)) continue;
    // CreateFilter names the new filter in its body (`name`).
    const id = str(p, param) ?? (op === 'CreateFilter' ? str(p, 'name', 'Name') : undefined);
    return { action, resources: [id ? `${base}/${type}/${id}` : '*'], context: ctx };
  }
  return { action, resources: ['*'], context: ctx };
}

/** Macie2 operations with a resource type in the reference, by the type of the `id` they name. */
const MACIE2_ID_TYPES: Record<string, string> = {
  GetCustomDataIdentifier: 'custom-data-identifier',
  DeleteCustomDataIdentifier: 'custom-data-identifier',
  GetAllowList: 'allow-list',
  UpdateAllowList: 'allow-list',
  DeleteAllowList: 'allow-list',
  GetFindingsFilter: 'findings-filter',
  UpdateFindingsFilter: 'findings-filter',
  DeleteFindingsFilter: 'findings-filter',
  GetMember: 'member',
  DeleteMember: 'member',
  DisassociateMember: 'member',
};

function macie2Authz(call: ApiCall, account: string): AuthzRequirement {
  const p = call.params;
  const op = call.operation;
  const region = call.region;
  const ctx: AuthzContext = { 'aws:RequestedRegion': region };
  const action = `macie2:${op}`;
  addTags(ctx, requestTags(call));
  const arn = (type: string, id: string): string => `arn:aws:macie2:${region}:${account}:${type}/${id}`;
  const jobId = str(p, 'jobId');
  if (jobId && (op === 'DescribeClassificationJob' || op === 'UpdateClassificationJob')) {
    return { action, resources: [arn('classification-job', jobId)], context: ctx };
  }
  const id = str(p, 'id');
  const type = MACIE2_ID_TYPES[op];
  if (id && type) return { action, resources: [arn(type, id)], context: ctx };
  if (op === 'TagResource' || op === 'UntagResource' || op === 'ListTagsForResource') {
    return { action, resources: [str(p, 'resourceArn') ?? '*'], context: ctx };
  }
  // Create* (the new resource's id is not known yet), findings, sessions, resource profiles
  // (whose resourceArn is an S3 bucket, not a Macie resource) and account-level operations: '*'.
  return { action, resources: ['*'], context: ctx };
}

// ---------------------------------------------------------------------------------------------
// S3 Control (call.service 's3control'; IAM prefix s3). Service Authorization Reference, "Actions
// defined by Amazon S3": the account's Block Public Access is s3:GetAccountPublicAccessBlock /
// s3:PutAccountPublicAccessBlock (DeletePublicAccessBlock needs the latter, per its API reference),
// resource `*`; ListAccessPoints, ListMultiRegionAccessPoints, ListStorageLensConfigurations,
// GetAccessPoint and the Create/Delete/Get of jobs and grants lists are `*` or resources the request
// cannot name; an access point's policy operations are on the access point
// (arn:aws:s3:<region>:<account>:accesspoint/<name>), Storage Lens configurations on
// arn:aws:s3:<region>:<account>:storage-lens/<id>. Multi-Region Access Points are authorized on `*`
// (their ARN names the alias, which the request does not carry).

const S3CONTROL_ACTIONS: Record<string, string> = {
  GetPublicAccessBlock: 'GetAccountPublicAccessBlock',
  PutPublicAccessBlock: 'PutAccountPublicAccessBlock',
  DeletePublicAccessBlock: 'PutAccountPublicAccessBlock',
};

/** Operations on one access point named by `Name` (an access point name or ARN). */
const S3CONTROL_ACCESS_POINT_OPS = new Set([
  'CreateAccessPoint', 'DeleteAccessPoint', 'GetAccessPointPolicy', 'PutAccessPointPolicy', 'DeleteAccessPointPolicy',
  'GetAccessPointPolicyStatus',
]);

function s3controlAuthz(call: ApiCall, account: string): AuthzRequirement {
  const p = call.params;
  const op = call.operation;
  const region = call.region;
  const action = `s3:${S3CONTROL_ACTIONS[op] ?? op}`;
  const ctx: AuthzContext = { 'aws:RequestedRegion': region, 's3:ResourceAccount': account };
  if (call.auth === 'sigv4' || call.auth === 'sigv4-query') ctx['s3:signatureversion'] = 'AWS4-HMAC-SHA256';
  if (call.auth === 'sigv4') ctx['s3:authType'] = 'REST-HEADER';
  else if (call.auth === 'sigv4-query') ctx['s3:authType'] = 'REST-QUERY-STRING';
  const name = str(p, 'Name');
  if (S3CONTROL_ACCESS_POINT_OPS.has(op) && name) {
    const arn = name.startsWith('arn:') ? name : `arn:aws:s3:${region}:${account}:accesspoint/${name}`;
    ctx['s3:DataAccessPointArn'] = arn;
    ctx['s3:DataAccessPointAccount'] = account;
    return { action, resources: [arn], context: ctx };
  }
  const lens = str(p, 'ConfigId');
  if (lens && /StorageLensConfiguration/.test(op) && op !== 'ListStorageLensConfigurations') {
    return { action, resources: [`arn:aws:s3:${region}:${account}:storage-lens/${lens}`], context: ctx };
  }
  if (op === 'DescribeMultiRegionAccessPointOperation') {
    const token = str(p, 'RequestTokenARN');
    return { action, resources: [token ?? '*'], context: ctx };
  }
  if (op === 'TagResource' || op === 'UntagResource' || op === 'ListTagsForResource') {
    return { action, resources: [str(p, 'ResourceArn') ?? '*'], context: ctx };
  }
  return { action, resources: ['*'], context: ctx };
}

// ---------------------------------------------------------------------------------------------
// AWS Account Management (account): the contact operations act on the account
// (arn:aws:account::<account>:account; a management account naming a member by AccountId acts on
// arn:aws:account::<management>:account/o-*/<member>, which the lab cloud does not model: `*`).
// Alternate contacts carry account:AlternateContactTypes.

function accountAuthz(call: ApiCall, account: string): AuthzRequirement {
  const p = call.params;
  const ctx: AuthzContext = { 'aws:RequestedRegion': call.region };
  const type = str(p, 'AlternateContactType');
  if (type && /AlternateContact$/.test(call.operation)) ctx['account:AlternateContactTypes'] = [type];
  const target = str(p, 'AccountId');
  const resource = target && target !== account ? '*' : `arn:aws:account::${account}:account`;
  return { action: `account:${call.operation}`, resources: [resource], context: ctx };
}

// ---------------------------------------------------------------------------------------------
// AWS Certificate Manager (acm) and AWS Private CA (acm-pca). RequestCertificate has no resource
// type (`*`) and carries acm:DomainNames (DomainName and SubjectAlternativeNames), acm:KeyAlgorithm
// (RSA_2048 when not given), acm:CertificateAuthority, acm:ValidationMethod,
// acm:CertificateTransparencyLogging and acm:Export when the request names them ("Use condition keys
// with ACM"); no dependent action (ACM's service principal uses the private CA). The other
// certificate operations act on arn:aws:acm:<region>:<account>:certificate/<id>; ACM PCA's on
// arn:aws:acm-pca:<region>:<account>:certificate-authority/<id>; List*, ImportCertificate,
// account configuration and CreateCertificateAuthority on `*`.

function acmAuthz(call: ApiCall): AuthzRequirement {
  const p = call.params;
  const ctx: AuthzContext = { 'aws:RequestedRegion': call.region };
  addTags(ctx, requestTags(call));
  const action = `acm:${call.operation}`;
  if (call.operation === 'RequestCertificate') {
    const names = [...new Set([str(p, 'DomainName'), ...strList(p, 'SubjectAlternativeNames')].filter((n): n is string => !!n))];
    if (names.length) ctx['acm:DomainNames'] = names;
    ctx['acm:KeyAlgorithm'] = str(p, 'KeyAlgorithm') ?? 'RSA_2048';
    const ca = str(p, 'CertificateAuthorityArn');
    if (ca) ctx['acm:CertificateAuthority'] = ca;
    const method = str(p, 'ValidationMethod');
    if (method) ctx['acm:ValidationMethod'] = method;
    const options = p['Options'] && typeof p['Options'] === 'object' ? (p['Options'] as P) : {};
    const ct = str(options, 'CertificateTransparencyLoggingPreference');
    if (ct) ctx['acm:CertificateTransparencyLogging'] = ct;
    const exp = str(options, 'Export');
    if (exp) ctx['acm:Export'] = exp;
    return { action, resources: ['*'], context: ctx };
  }
  const arn = str(p, 'CertificateArn');
  return { action, resources: [arn && isArn(arn) ? arn : '*'], context: ctx };
}

function acmPcaAuthz(call: ApiCall): AuthzRequirement {
  const ctx: AuthzContext = { 'aws:RequestedRegion': call.region };
  addTags(ctx, requestTags(call));
  const arn = str(call.params, 'CertificateAuthorityArn', 'ResourceArn');
  return { action: `acm-pca:${call.operation}`, resources: [arn && isArn(arn) ? arn : '*'], context: ctx };
}

// ---------------------------------------------------------------------------------------------

/** Map an identified API call to what IAM authorizes. `account` is the caller's (and resource owner's) account. */
export function toAuthz(call: ApiCall, account: string, caller: CallerInfo = {}): AuthzRequirement {
  switch (call.service) {
    case 'iam':
      return iamAuthz(call, account, caller);
    case 'sts':
      return stsAuthz(call, account);
    case 's3':
      return s3Authz(call, account);
    case 'kms':
      return kmsAuthz(call, account);
    case 'ec2':
      return ec2Authz(call, account);
    case 'cloudtrail':
      return cloudtrailAuthz(call, account);
    case 'logs':
      return logsAuthz(call, account);
    case 'monitoring':
      return cloudwatchAuthz(call, account);
    case 'sns':
      return snsAuthz(call, account);
    case 'sqs':
      return sqsAuthz(call, account);
    case 'events':
      return eventsAuthz(call, account);
    case 'lambda':
      return lambdaAuthz(call, account);
    case 'guardduty':
      return guarddutyAuthz(call, account);
    case 'macie2':
      return macie2Authz(call, account);
    case 's3control':
      return s3controlAuthz(call, account);
    case 'account':
      return accountAuthz(call, account);
    case 'acm':
      return acmAuthz(call);
    case 'acm-pca':
      return acmPcaAuthz(call);
    default: {
      const ctx: AuthzContext = { 'aws:RequestedRegion': call.region };
      addTags(ctx, requestTags(call));
      return { action: `${serviceInfo(call.service).iamPrefix}:${call.operation}`, resources: ['*'], context: ctx };
    }
  }
}
