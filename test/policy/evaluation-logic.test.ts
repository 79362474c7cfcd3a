// Conformance: evaluation logic, resource-based policies, boundaries, sessions, cross-account, KMS.
// Each case follows an example or a rule of the AWS documentation page named above its describe block.
import { describe, expect, it } from 'vitest';
import { ACCT, OTHER, check, decision, doc, federatedUser, root, roleSession, service, user } from './helpers.ts';

const ADMIN = doc({ Effect: 'Allow', Action: '*', Resource: '*' });

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
// ("Example identity-based and resource-based policy evaluation", Carlos)
describe('evaluation logic: identity and resource-based policies in one account', () => {
  const carlos = user('carlossalazar', '123456789012');
  const identity = doc(
    {
      Sid: 'AllowS3ListRead',
      Effect: 'Allow',
      Action: ['s3:GetBucketLocation', 's3:GetAccountPublicAccessBlock', 's3:ListAccessPoints', 's3:ListAllMyBuckets'],
      Resource: 'arn:aws:s3:::*',
    },
    { Sid: 'AllowS3Self', Effect: 'Allow', Action: 's3:*', Resource: ['arn:aws:s3:::carlossalazar/*', 'arn:aws:s3:::carlossalazar'] },
    { Sid: 'DenyS3Logs', Effect: 'Deny', Action: 's3:*', Resource: 'arn:aws:s3:::*log*' },
  );
  const bucketPolicy = doc({
    Effect: 'Allow',
    Principal: { AWS: 'arn:aws:iam::123456789012:user/carlossalazar' },
    Action: 's3:*',
    Resource: ['arn:aws:s3:::carlossalazar/*', 'arn:aws:s3:::carlossalazar'],
  });
  const base = { principal: carlos, resourceAccount: '123456789012' };

  it('denies saving to the carlossalazar-logs bucket: the DenyS3Logs statement matches', () => {
    const d = check({ ...base, action: 's3:ListBucket', resource: 'arn:aws:s3:::carlossalazar-logs', identity: [['user policy Carlos', identity]] });
    expect(d.decision).toBe('ExplicitDeny');
    expect(d.reason).toBe('explicitly denied by user policy Carlos (Sid DenyS3Logs)');
  });

  it('allows saving to the carlossalazar bucket when both policies allow', () => {
    const d = check({
      ...base,
      action: 's3:PutObject',
      resource: 'arn:aws:s3:::carlossalazar/file.txt',
      identity: [identity],
      resourcePolicy: bucketPolicy,
    });
    expect(d.decision).toBe('Allow');
    expect(d.matched.map((m) => [m.policyType, m.sid, m.effect])).toEqual([
      ['identity', 'AllowS3Self', 'Allow'],
      ['resource', undefined, 'Allow'],
    ]);
  });

  it('allows when only the resource-based policy allows ("the request is still allowed")', () => {
    expect(decision({ ...base, action: 's3:PutObject', resource: 'arn:aws:s3:::carlossalazar/f', resourcePolicy: bucketPolicy })).toBe('Allow');
  });

  it('allows when only the identity-based policy allows', () => {
    expect(decision({ ...base, action: 's3:PutObject', resource: 'arn:aws:s3:::carlossalazar/f', identity: [identity] })).toBe('Allow');
  });

  it('denies by default: no policy, implicit deny', () => {
    const d = check({ action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' });
    expect(d).toEqual({ decision: 'ImplicitDeny', matched: [], reason: 'no policy allows s3:GetObject on arn:aws:s3:::b/k' });
  });

  it('lets an explicit deny in the resource policy override an identity allow', () => {
    const deny = doc({ Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::b/*' });
    expect(decision({ action: 's3:DeleteObject', resource: 'arn:aws:s3:::b/k', identity: [ADMIN], resourcePolicy: deny })).toBe('ExplicitDeny');
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
// ("The difference between explicit and implicit denies")
describe('evaluation logic: explicit and implicit denies', () => {
  const policy = doc(
    { Sid: 'AllowGetList', Effect: 'Allow', Action: ['iam:Get*', 'iam:List*'], Resource: '*' },
    { Sid: 'DenyReports', Effect: 'Deny', Action: 'iam:*Report', Resource: '*' },
  );
  it('allows read-only IAM actions', () => {
    expect(decision({ action: 'iam:GetUser', resource: '*', identity: [policy] })).toBe('Allow');
  });
  it('implicitly denies other IAM actions such as iam:CreatePolicy', () => {
    expect(decision({ action: 'iam:CreatePolicy', resource: '*', identity: [policy] })).toBe('ImplicitDeny');
  });
  it('explicitly denies report actions even though they match Get*', () => {
    expect(decision({ action: 'iam:GetOrganizationsAccessReport', resource: '*', identity: [policy] })).toBe('ExplicitDeny');
  });
  it('keeps denying iam:GenerateCredentialReport when another policy allows it', () => {
    const grant = doc({ Effect: 'Allow', Action: 'iam:GenerateCredentialReport', Resource: '*' });
    const d = check({ action: 'iam:GenerateCredentialReport', resource: '*', identity: [policy, grant] });
    expect(d.decision).toBe('ExplicitDeny');
    expect(d.matched).toHaveLength(2);
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
// ("By default, all requests are implicitly denied with the exception of the AWS account root user")
describe('evaluation logic: the account root user', () => {
  it('allows the root user everything in its own account without any policy', () => {
    const d = check({ principal: root(), action: 'iam:CreateUser', resource: `arn:aws:iam::${ACCT}:user/x` });
    expect(d.decision).toBe('Allow');
    expect(d.reason).toContain('root user');
  });
  it('denies the root user when a resource policy explicitly denies everyone', () => {
    const deny = doc({ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' });
    expect(decision({ principal: root(), action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', resourcePolicy: deny })).toBe('ExplicitDeny');
  });
  it('denies the root user when a resource policy denies its account', () => {
    const deny = doc({ Effect: 'Deny', Principal: { AWS: ACCT }, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' });
    expect(decision({ principal: root(), action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', resourcePolicy: deny })).toBe('ExplicitDeny');
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
// ("Resource-based policies and implicit denies in other policy types (same account)")
describe('evaluation logic: resource-based policies and implicit denies, by principal type', () => {
  const onlyEc2 = doc({ Effect: 'Allow', Action: 'ec2:*', Resource: '*' });
  const onlyEc2Session = doc({ Effect: 'Allow', Action: 'ec2:*', Resource: '*' });
  const bucketFor = (principal: string) =>
    doc({ Effect: 'Allow', Principal: { AWS: principal }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' });
  const get = { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' };
  const session = roleSession('examplerole', 'examplerolesessionname');

  it('IAM user: a grant to the user ARN is not limited by identity policies or the permissions boundary', () => {
    expect(decision({ ...get, resourcePolicy: bucketFor(`arn:aws:iam::${ACCT}:user/bob`), boundary: onlyEc2 })).toBe('Allow');
  });
  it('IAM role: a grant to the role ARN is limited by an implicit deny in the permissions boundary', () => {
    const d = check({ ...get, principal: session, resourcePolicy: bucketFor(`arn:aws:iam::${ACCT}:role/examplerole`), boundary: onlyEc2 });
    expect(d.decision).toBe('ImplicitDeny');
    expect(d.reason).toContain('permissions boundary');
  });
  it('IAM role: a grant to the role ARN suffices without identity policies when nothing limits it', () => {
    expect(decision({ ...get, principal: session, resourcePolicy: bucketFor(`arn:aws:iam::${ACCT}:role/examplerole`) })).toBe('Allow');
  });
  it('IAM role: a grant to the role ARN is limited by a session policy', () => {
    const d = check({ ...get, principal: session, resourcePolicy: bucketFor(`arn:aws:iam::${ACCT}:role/examplerole`), session: [onlyEc2Session] });
    expect(d.decision).toBe('ImplicitDeny');
    expect(d.reason).toContain('session policy');
  });
  it('IAM role session: a grant to the session ARN is not limited by boundary or session policy', () => {
    expect(decision({ ...get, principal: session, resourcePolicy: bucketFor(session.arn), boundary: onlyEc2, session: [onlyEc2Session] })).toBe('Allow');
  });
  it('IAM federated user session: a grant to the federated user ARN is not limited by the session policy', () => {
    const fed = federatedUser('exampleuser', 'bob');
    expect(decision({ ...get, principal: fed, resourcePolicy: bucketFor(fed.arn), session: [onlyEc2Session] })).toBe('Allow');
  });
  it('IAM federated user session: a grant to the IAM user who federated is limited by the session policy', () => {
    const fed = federatedUser('exampleuser', 'bob');
    expect(decision({ ...get, principal: fed, resourcePolicy: bucketFor(`arn:aws:iam::${ACCT}:user/bob`), session: [onlyEc2Session] })).toBe('ImplicitDeny');
  });
  it('a grant to the account delegates to identity policies and grants nothing by itself', () => {
    const d = check({ ...get, resourcePolicy: bucketFor(ACCT) });
    expect(d.decision).toBe('ImplicitDeny');
    expect(d.reason).toContain('delegates to the account');
  });
  it('a grant to the account root ARN plus an identity allow allows', () => {
    const id = doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' });
    expect(decision({ ...get, resourcePolicy: bucketFor(`arn:aws:iam::${ACCT}:root`), identity: [id] })).toBe('Allow');
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
// ("Session policies": no session policy -> role session allowed, federated user implicitly denied)
describe('evaluation logic: session policies', () => {
  const s3 = doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' });
  const get = { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', identity: [s3] };
  it('allows a role session without a session policy when its identity policy allows', () => {
    expect(decision({ ...get, principal: roleSession('app', 's1') })).toBe('Allow');
  });
  it('allows a role session whose session policy also allows', () => {
    expect(decision({ ...get, principal: roleSession('app', 's1'), session: [doc({ Effect: 'Allow', Action: 's3:Get*', Resource: '*' })] })).toBe('Allow');
  });
  it('denies a role session whose session policy does not allow (intersection)', () => {
    expect(decision({ ...get, principal: roleSession('app', 's1'), session: [doc({ Effect: 'Allow', Action: 's3:Put*', Resource: '*' })] })).toBe('ImplicitDeny');
  });
  it('denies a federated user session that has no session policy', () => {
    const d = check({ ...get, principal: federatedUser('fed', 'bob') });
    expect(d.decision).toBe('ImplicitDeny');
    expect(d.reason).toContain('without a session policy');
  });
  it('explicitly denies when a session policy denies', () => {
    expect(decision({ ...get, principal: roleSession('app', 's1'), session: [doc({ Effect: 'Deny', Action: 's3:*', Resource: '*' })] })).toBe('ExplicitDeny');
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
describe('permissions boundaries', () => {
  const shirleyBoundary = doc({ Effect: 'Allow', Action: ['s3:*', 'cloudwatch:*', 'ec2:*'], Resource: '*' });
  const shirley = user('ShirleyRodriguez');

  it('ShirleyRodriguez cannot create a user: the boundary does not allow iam:CreateUser', () => {
    const d = check({
      principal: shirley,
      action: 'iam:CreateUser',
      resource: `arn:aws:iam::${ACCT}:user/new`,
      identity: [doc({ Effect: 'Allow', Action: 'iam:CreateUser', Resource: '*' })],
      boundary: shirleyBoundary,
    });
    expect(d.decision).toBe('ImplicitDeny');
    expect(d.reason).toContain('not by the permissions boundary');
  });
  it('allows what both the boundary and the identity policy allow', () => {
    const id = doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' });
    expect(decision({ principal: shirley, action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', identity: [id], boundary: shirleyBoundary })).toBe('Allow');
  });
  it('grants nothing by itself', () => {
    expect(decision({ principal: shirley, action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', boundary: shirleyBoundary })).toBe('ImplicitDeny');
  });

  const xCompany = doc(
    { Sid: 'ServiceBoundaries', Effect: 'Allow', Action: ['s3:*', 'cloudwatch:*', 'ec2:*', 'dynamodb:*'], Resource: '*' },
    { Sid: 'AllowIAMConsoleForCredentials', Effect: 'Allow', Action: ['iam:ListUsers', 'iam:GetAccountPasswordPolicy'], Resource: '*' },
    {
      Sid: 'AllowManageOwnPasswordAndAccessKeys',
      Effect: 'Allow',
      Action: ['iam:*AccessKey*', 'iam:ChangePassword', 'iam:GetUser', 'iam:*ServiceSpecificCredential*', 'iam:*SigningCertificate*'],
      Resource: ['arn:aws:iam::*:user/${aws:username}'],
    },
    { Sid: 'DenyS3Logs', Effect: 'Deny', Action: 's3:*', Resource: ['arn:aws:s3:::logs', 'arn:aws:s3:::logs/*'] },
    { Sid: 'DenyEC2Production', Effect: 'Deny', Action: 'ec2:*', Resource: 'arn:aws:ec2:*:*:instance/i-1234567890abcdef0' },
  );
  const xBoundary = { boundary: xCompany, identity: [ADMIN] };

  it('XCompanyBoundaries: a deny in the boundary is an explicit deny (logs bucket)', () => {
    const d = check({ ...xBoundary, action: 's3:GetObject', resource: 'arn:aws:s3:::logs/app.log' });
    expect(d).toMatchObject({ decision: 'ExplicitDeny', reason: 'explicitly denied by permissions boundary (Sid DenyS3Logs)' });
  });
  it('XCompanyBoundaries: denies the production instance', () => {
    expect(decision({ ...xBoundary, action: 'ec2:StopInstances', resource: 'arn:aws:ec2:us-east-1:111122223333:instance/i-1234567890abcdef0' })).toBe('ExplicitDeny');
  });
  it('XCompanyBoundaries: users manage their own access keys (${aws:username})', () => {
    expect(decision({ ...xBoundary, action: 'iam:CreateAccessKey', resource: `arn:aws:iam::${ACCT}:user/bob` })).toBe('Allow');
  });
  it("XCompanyBoundaries: but not another user's access keys", () => {
    expect(decision({ ...xBoundary, action: 'iam:CreateAccessKey', resource: `arn:aws:iam::${ACCT}:user/alice` })).toBe('ImplicitDeny');
  });
  it('XCompanyBoundaries: no other IAM actions, even for an administrator', () => {
    expect(decision({ ...xBoundary, action: 'iam:CreateRole', resource: `arn:aws:iam::${ACCT}:role/r` })).toBe('ImplicitDeny');
  });

  const delegated = doc(
    {
      Sid: 'CreateOrChangeOnlyWithBoundary',
      Effect: 'Allow',
      Action: ['iam:CreateUser', 'iam:DeleteUserPolicy', 'iam:AttachUserPolicy', 'iam:DetachUserPolicy', 'iam:PutUserPermissionsBoundary'],
      Resource: '*',
      Condition: { StringEquals: { 'iam:PermissionsBoundary': 'arn:aws:iam::111122223333:policy/XCompanyBoundaries' } },
    },
    { Sid: 'NoBoundaryUserDelete', Effect: 'Deny', Action: 'iam:DeleteUserPermissionsBoundary', Resource: '*' },
  );
  const zhang = { principal: user('Zhang'), boundary: delegated, identity: [doc({ Sid: 'IAM', Effect: 'Allow', Action: 'iam:*', Resource: '*' })] };

  it('DelegatedUserBoundary: Zhang creates users with the XCompanyBoundaries boundary', () => {
    const ctx = { 'iam:PermissionsBoundary': 'arn:aws:iam::111122223333:policy/XCompanyBoundaries' };
    expect(decision({ ...zhang, action: 'iam:CreateUser', resource: `arn:aws:iam::${ACCT}:user/new`, context: ctx })).toBe('Allow');
  });
  it('DelegatedUserBoundary: but not with another boundary, nor without one', () => {
    const other = { 'iam:PermissionsBoundary': 'arn:aws:iam::111122223333:policy/AdminAccess' };
    expect(decision({ ...zhang, action: 'iam:CreateUser', resource: `arn:aws:iam::${ACCT}:user/new`, context: other })).toBe('ImplicitDeny');
    expect(decision({ ...zhang, action: 'iam:CreateUser', resource: `arn:aws:iam::${ACCT}:user/new` })).toBe('ImplicitDeny');
  });
  it('DelegatedUserBoundary: Zhang can never delete a permissions boundary', () => {
    expect(decision({ ...zhang, action: 'iam:DeleteUserPermissionsBoundary', resource: `arn:aws:iam::${ACCT}:user/new` })).toBe('ExplicitDeny');
  });

  it('a NotPrincipal Deny in a resource policy always denies a principal that has a boundary', () => {
    const bucket = doc({ Effect: 'Deny', NotPrincipal: { AWS: [`arn:aws:iam::${ACCT}:user/bob`, `arn:aws:iam::${ACCT}:root`] }, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' });
    const s3 = doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' });
    expect(decision({ action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', identity: [s3], resourcePolicy: bucket })).toBe('Allow');
    expect(decision({ action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', identity: [s3], resourcePolicy: bucket, boundary: s3 })).toBe('ExplicitDeny');
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
describe('cross-account evaluation', () => {
  const carlos = user('carlossalazar', '111111111111');
  const identity = doc(
    { Sid: 'AllowS3ListRead', Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' },
    { Sid: 'AllowS3ProductionObjectActions', Effect: 'Allow', Action: 's3:*Object*', Resource: 'arn:aws:s3:::Production/*' },
    { Sid: 'DenyS3Logs', Effect: 'Deny', Action: 's3:*', Resource: ['arn:aws:s3:::*log*', 'arn:aws:s3:::*log*/*'] },
  );
  const production = doc({
    Effect: 'Allow',
    Action: ['s3:GetObject*', 's3:PutObject*', 's3:ReplicateObject', 's3:RestoreObject'],
    Principal: { AWS: 'arn:aws:iam::111111111111:user/carlossalazar' },
    Resource: 'arn:aws:s3:::Production/*',
  });
  const base = { principal: carlos, identity: [identity] };

  it('denies saving to Production-logs: the trusted account explicitly denies', () => {
    expect(decision({ ...base, action: 's3:PutObject', resource: 'arn:aws:s3:::Production-logs/f', resourceAccount: '222222222222' })).toBe('ExplicitDeny');
  });
  it('allows saving to Production: both accounts allow', () => {
    const d = check({ ...base, action: 's3:PutObject', resource: 'arn:aws:s3:::Production/f', resourcePolicy: production, resourceAccount: '222222222222' });
    expect(d.decision).toBe('Allow');
    expect(d.reason).toContain('AllowS3ProductionObjectActions');
  });
  it('denies deleting in Production: the bucket policy does not allow s3:DeleteObject', () => {
    const d = check({ ...base, action: 's3:DeleteObject', resource: 'arn:aws:s3:::Production/f', resourcePolicy: production, resourceAccount: '222222222222' });
    expect(d.decision).toBe('ImplicitDeny');
    expect(d.reason).toContain('cross-account');
  });
  it('denies when only the resource policy allows (the identity side must allow too)', () => {
    expect(decision({ principal: carlos, action: 's3:PutObject', resource: 'arn:aws:s3:::Production/f', resourcePolicy: production, resourceAccount: '222222222222' })).toBe('ImplicitDeny');
  });
  it('takes the resource account from the ARN when there is no resource policy', () => {
    const sqs = doc({ Effect: 'Allow', Action: 'sqs:*', Resource: '*' });
    expect(decision({ principal: carlos, identity: [sqs], action: 'sqs:SendMessage', resource: 'arn:aws:sqs:us-east-1:222222222222:q' })).toBe('ImplicitDeny');
    expect(decision({ principal: carlos, identity: [sqs], action: 'sqs:SendMessage', resource: 'arn:aws:sqs:us-east-1:111111111111:q' })).toBe('Allow');
  });
  it('allows a role session from another account named by role ARN when its identity policy allows', () => {
    const session = roleSession('auditor', 's1', OTHER);
    const bucket = doc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OTHER}:role/auditor` }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::audit/*' });
    const read = doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::audit/*' });
    expect(decision({ principal: session, action: 's3:GetObject', resource: 'arn:aws:s3:::audit/x', resourcePolicy: bucket, identity: [read] })).toBe('Allow');
    expect(decision({ principal: session, action: 's3:GetObject', resource: 'arn:aws:s3:::audit/x', resourcePolicy: bucket })).toBe('ImplicitDeny');
  });
  it('lets the root user of another account in only through the resource policy', () => {
    const bucket = doc({ Effect: 'Allow', Principal: { AWS: OTHER }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' });
    expect(decision({ principal: root(OTHER), action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', resourcePolicy: bucket })).toBe('Allow');
    expect(decision({ principal: root(OTHER), action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', resourceAccount: ACCT })).toBe('ImplicitDeny');
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_configure-api-require.html
// ("Scenario: MFA protection for resources that have resource-based policies")
describe('cross-account MFA-protected bucket', () => {
  const bucket = doc({
    Effect: 'Allow',
    Principal: { AWS: [ACCT, '222222222222', OTHER] },
    Action: ['s3:PutObject', 's3:DeleteObject'],
    Resource: ['arn:aws:s3:::ACCOUNT-A-BUCKET-NAME/*'],
    Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } },
  });
  const nikhil = { principal: user('Nikhil', OTHER), identity: [doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' })], resourcePolicy: bucket, action: 's3:PutObject', resource: 'arn:aws:s3:::ACCOUNT-A-BUCKET-NAME/f' };
  it('allows Nikhil with GetSessionToken MFA credentials', () => {
    expect(decision({ ...nikhil, context: { 'aws:MultiFactorAuthPresent': 'true' } })).toBe('Allow');
  });
  it('denies Nikhil with long-term keys (key absent)', () => {
    expect(decision(nikhil)).toBe('ImplicitDeny');
  });
  it('denies an account the bucket policy does not name', () => {
    expect(decision({ ...nikhil, principal: user('eve', '999999999999'), context: { 'aws:MultiFactorAuthPresent': 'true' } })).toBe('ImplicitDeny');
  });
});

// https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html and
// https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html ("Unlike other AWS resource policies, a KMS
// key policy does not automatically give permission to the account or any of its identities")
describe('KMS key policies (resource.mustAllow)', () => {
  const enableIam = doc({ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCT}:root` }, Action: 'kms:*', Resource: '*' });
  const adminOnly = doc({ Sid: 'Allow access for Key Administrators', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCT}:role/KeyAdmin` }, Action: 'kms:*', Resource: '*' });
  const decrypt = doc({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' });
  const key = { action: 'kms:Decrypt', resource: `arn:aws:kms:us-east-1:${ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`, mustAllow: true };

  it('allows an IAM policy grant when the key policy delegates to the account', () => {
    expect(decision({ ...key, identity: [decrypt], resourcePolicy: enableIam })).toBe('Allow');
  });
  it('ignores IAM policies when the key policy does not delegate to the account', () => {
    const d = check({ ...key, identity: [decrypt], resourcePolicy: adminOnly });
    expect(d.decision).toBe('ImplicitDeny');
    expect(d.reason).toContain('key policy');
  });
  it('allows a principal the key policy names, without IAM policies', () => {
    expect(decision({ ...key, principal: roleSession('KeyAdmin', 's'), resourcePolicy: adminOnly })).toBe('Allow');
  });
  it('denies when the key policy delegates but no IAM policy allows', () => {
    expect(decision({ ...key, resourcePolicy: enableIam })).toBe('ImplicitDeny');
  });
  it('denies even the root user when the key policy does not allow the account', () => {
    expect(decision({ ...key, principal: root(), resourcePolicy: adminOnly })).toBe('ImplicitDeny');
    expect(decision({ ...key, principal: root(), resourcePolicy: enableIam })).toBe('Allow');
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
describe('NotPrincipal with Deny', () => {
  const bobAndAccount = doc(
    { Effect: 'Deny', NotPrincipal: { AWS: ['arn:aws:iam::444455556666:user/Bob', 'arn:aws:iam::444455556666:root'] }, Action: 's3:*', Resource: ['arn:aws:s3:::BUCKETNAME', 'arn:aws:s3:::BUCKETNAME/*'] },
    { Effect: 'Allow', Principal: { AWS: OTHER }, Action: 's3:*', Resource: 'arn:aws:s3:::BUCKETNAME/*' },
  );
  const s3 = doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' });
  const get = { action: 's3:GetObject', resource: 'arn:aws:s3:::BUCKETNAME/k', identity: [s3], resourceAccount: ACCT };
  it('does not deny Bob when both Bob and his account are listed', () => {
    expect(decision({ ...get, principal: user('Bob', OTHER), resourcePolicy: bobAndAccount })).toBe('Allow');
  });
  it('denies everyone else, including other users of the same account', () => {
    expect(decision({ ...get, principal: user('Alice', OTHER), resourcePolicy: bobAndAccount })).toBe('ExplicitDeny');
  });
  it("denies Bob when only Bob's ARN is listed (the account is not excluded)", () => {
    const onlyBob = doc({ Effect: 'Deny', NotPrincipal: { AWS: 'arn:aws:iam::444455556666:user/Bob' }, Action: 's3:*', Resource: 'arn:aws:s3:::BUCKETNAME/*' });
    expect(decision({ ...get, principal: user('Bob', OTHER), resourcePolicy: onlyBob })).toBe('ExplicitDeny');
  });
  // Our reading of "AWS might validate the account first, then the user": every link must be listed, so
  // listing the account alone does not exempt its users.
  it('denies a user of an account when only the account is listed', () => {
    const onlyAccount = doc({ Effect: 'Deny', NotPrincipal: { AWS: 'arn:aws:iam::444455556666:root' }, Action: 's3:*', Resource: 'arn:aws:s3:::BUCKETNAME/*' });
    expect(decision({ ...get, principal: user('Bob', OTHER), resourcePolicy: onlyAccount })).toBe('ExplicitDeny');
  });
  it('role sessions: session, role and account must all be listed', () => {
    const session = roleSession('cross-account-read-only-role', 'cross-account-audit-app', OTHER);
    const except = (...arns: string[]) =>
      doc({ Effect: 'Deny', NotPrincipal: { AWS: arns }, Action: 's3:*', Resource: ['arn:aws:s3:::Bucket_AccountAudit', 'arn:aws:s3:::Bucket_AccountAudit/*'] });
    const sessionArn = 'arn:aws:sts::444455556666:assumed-role/cross-account-read-only-role/cross-account-audit-app';
    const all = except(sessionArn, 'arn:aws:iam::444455556666:role/cross-account-read-only-role', 'arn:aws:iam::444455556666:root');
    const withoutRole = except(sessionArn, 'arn:aws:iam::444455556666:root');
    const req = { principal: session, action: 's3:GetObject', resource: 'arn:aws:s3:::Bucket_AccountAudit/k' };
    expect(check({ ...req, resourcePolicy: all }).matched).toEqual([]);
    expect(decision({ ...req, resourcePolicy: withoutRole })).toBe('ExplicitDeny');
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
describe('Principal element', () => {
  it('lets a service principal in through the resource policy (SNS to an SQS queue, ArnEquals aws:SourceArn)', () => {
    const queue = doc({
      Effect: 'Allow',
      Principal: { Service: 'sns.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Resource: `arn:aws:sqs:us-east-1:${ACCT}:queue`,
      Condition: { ArnEquals: { 'aws:SourceArn': `arn:aws:sns:us-east-1:${ACCT}:topic` } },
    });
    const req = { principal: service('sns.amazonaws.com'), action: 'sqs:SendMessage', resource: `arn:aws:sqs:us-east-1:${ACCT}:queue`, resourcePolicy: queue };
    expect(decision({ ...req, context: { 'aws:SourceArn': `arn:aws:sns:us-east-1:${ACCT}:topic` } })).toBe('Allow');
    expect(decision({ ...req, context: { 'aws:SourceArn': `arn:aws:sns:us-east-1:${ACCT}:other` } })).toBe('ImplicitDeny');
    expect(decision({ ...req, principal: service('events.amazonaws.com') })).toBe('ImplicitDeny');
  });
  it('"*" names every principal', () => {
    const open = doc({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::public/*' });
    expect(decision({ action: 's3:GetObject', resource: 'arn:aws:s3:::public/x', resourcePolicy: open })).toBe('Allow');
    const openAws = doc({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::public/*' });
    expect(decision({ action: 's3:GetObject', resource: 'arn:aws:s3:::public/x', resourcePolicy: openAws, principal: roleSession('r', 's') })).toBe('Allow');
  });
  it('a resource policy naming another user grants nothing to this one', () => {
    const other = doc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCT}:user/alice` }, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' });
    const d = check({ action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', resourcePolicy: other });
    expect(d).toMatchObject({ decision: 'ImplicitDeny', matched: [] });
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgid
it('aws:PrincipalOrgID bucket policy with Principal "*"', () => {
  const bucket = doc({
    Sid: 'AllowPutObject',
    Effect: 'Allow',
    Principal: '*',
    Action: 's3:PutObject',
    Resource: 'arn:aws:s3:::policy-ninja-dev/*',
    Condition: { StringEquals: { 'aws:PrincipalOrgID': ['o-xxxxxxxxxxx'] } },
  });
  const req = { action: 's3:PutObject', resource: 'arn:aws:s3:::policy-ninja-dev/f', resourcePolicy: bucket, principal: user('dev', OTHER), identity: [doc({ Effect: 'Allow', Action: 's3:PutObject', Resource: '*' })] };
  expect(decision({ ...req, context: { 'aws:PrincipalOrgID': 'o-xxxxxxxxxxx' } })).toBe('Allow');
  expect(decision({ ...req, context: { 'aws:PrincipalOrgID': 'o-yyyyyyyyyyy' } })).toBe('ImplicitDeny');
  expect(decision(req)).toBe('ImplicitDeny');
});
