// Conformance: condition operators, policy variables, Action/Resource wildcards, from the AWS documentation
// page named above each describe block.
import { describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../../src/cloud/policy/types.ts';
import { ACCT, check, decision, doc } from './helpers.ts';

const ADMIN = doc({ Sid: 'Admin', Effect: 'Allow', Action: '*', Resource: '*' });

/** Decision for one action/resource with the given policies and context. */
const run = (action: string, resource: string, identity: PolicyDocument[], context: Record<string, string | string[] | undefined> = {}) =>
  decision({ action, resource, identity, context });

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_aws_my-sec-creds-self-manage-mfa-only.html
describe('MFA: deny everything except managing your own MFA device unless MFA-authenticated', () => {
  const policy = doc(
    { Sid: 'AllowViewAccountInfo', Effect: 'Allow', Action: 'iam:ListVirtualMFADevices', Resource: '*' },
    { Sid: 'AllowManageOwnVirtualMFADevice', Effect: 'Allow', Action: ['iam:CreateVirtualMFADevice', 'iam:DeleteVirtualMFADevice'], Resource: 'arn:aws:iam::*:mfa/${aws:username}' },
    {
      Sid: 'AllowManageOwnUserMFA',
      Effect: 'Allow',
      Action: ['iam:DeactivateMFADevice', 'iam:EnableMFADevice', 'iam:GetUser', 'iam:ListMFADevices', 'iam:ResyncMFADevice'],
      Resource: 'arn:aws:iam::*:user/${aws:username}',
    },
    {
      Sid: 'DenyAllExceptListedIfNoMFA',
      Effect: 'Deny',
      NotAction: ['iam:ChangePassword', 'iam:CreateVirtualMFADevice', 'iam:EnableMFADevice', 'iam:GetUser', 'iam:ListMFADevices', 'iam:ListVirtualMFADevices', 'iam:ResyncMFADevice', 'sts:GetSessionToken'],
      Resource: '*',
      Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } },
    },
  );
  const both = [policy, ADMIN];

  it('denies other actions to long-term access keys (key absent: BoolIfExists is true)', () => {
    const d = check({ action: 's3:ListAllMyBuckets', resource: '*', identity: both });
    expect(d.decision).toBe('ExplicitDeny');
    expect(d.reason).toBe('explicitly denied by identity policy 1 (Sid DenyAllExceptListedIfNoMFA)');
  });
  it('denies other actions to temporary credentials without MFA', () => {
    expect(run('s3:ListAllMyBuckets', '*', both, { 'aws:MultiFactorAuthPresent': 'false' })).toBe('ExplicitDeny');
  });
  it('does not deny once MFA-authenticated', () => {
    expect(run('s3:ListAllMyBuckets', '*', both, { 'aws:MultiFactorAuthPresent': 'true' })).toBe('Allow');
  });
  it('lets a user without MFA enable their own MFA device (NotAction exempts it)', () => {
    expect(run('iam:EnableMFADevice', `arn:aws:iam::${ACCT}:user/bob`, [policy])).toBe('Allow');
  });
  it("does not let them manage another user's MFA", () => {
    expect(run('iam:EnableMFADevice', `arn:aws:iam::${ACCT}:user/alice`, [policy])).toBe('ImplicitDeny');
  });
  it('lets them create a virtual MFA device named after themselves only', () => {
    expect(run('iam:CreateVirtualMFADevice', `arn:aws:iam::${ACCT}:mfa/bob`, [policy])).toBe('Allow');
    expect(run('iam:CreateVirtualMFADevice', `arn:aws:iam::${ACCT}:mfa/alice`, [policy])).toBe('ImplicitDeny');
  });
  it('denies deleting the MFA device without MFA (not in NotAction)', () => {
    expect(run('iam:DeleteVirtualMFADevice', `arn:aws:iam::${ACCT}:mfa/bob`, [policy])).toBe('ExplicitDeny');
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html ("NotAction with Deny")
describe('NotAction', () => {
  const denyNonIam = doc({ Sid: 'DenyAllUsersNotUsingMFA', Effect: 'Deny', NotAction: 'iam:*', Resource: '*', Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } } });
  it('Deny + NotAction: IAM actions are not denied without MFA, others are', () => {
    expect(run('iam:ListUsers', '*', [denyNonIam, ADMIN])).toBe('Allow');
    expect(run('ec2:DescribeInstances', '*', [denyNonIam, ADMIN])).toBe('ExplicitDeny');
  });
  it('Allow + NotAction "iam:*": everything except IAM', () => {
    const p = doc({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' });
    expect(run('s3:GetObject', 'arn:aws:s3:::b/k', [p])).toBe('Allow');
    expect(run('iam:CreateUser', '*', [p])).toBe('ImplicitDeny');
  });
  it('Allow + NotAction "s3:DeleteBucket" on arn:aws:s3:::* does not allow s3:ListAllMyBuckets (needs "*")', () => {
    const p = doc({ Effect: 'Allow', NotAction: 's3:DeleteBucket', Resource: 'arn:aws:s3:::*' });
    expect(run('s3:GetObject', 'arn:aws:s3:::b/k', [p])).toBe('Allow');
    expect(run('s3:DeleteBucket', 'arn:aws:s3:::b', [p])).toBe('ImplicitDeny');
    expect(run('s3:ListAllMyBuckets', '*', [p])).toBe('ImplicitDeny');
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-multifactorauthpresent
describe('aws:MultiFactorAuthPresent combinations', () => {
  const allowIf = (op: string, value: string) => doc({ Effect: 'Allow', Action: 'ec2:StopInstances', Resource: '*', Condition: { [op]: { 'aws:MultiFactorAuthPresent': value } } });
  const denyIf = (op: string, value: string) => [ADMIN, doc({ Effect: 'Deny', Action: '*', Resource: '*', Condition: { [op]: { 'aws:MultiFactorAuthPresent': value } } })];
  const mfa = (v?: string) => ({ 'aws:MultiFactorAuthPresent': v });
  const stop = (identity: PolicyDocument[], present?: string) => run('ec2:StopInstances', '*', identity, mfa(present));

  it('Deny + Bool false (not recommended) does not deny long-term keys, denies temporary credentials without MFA', () => {
    expect(stop(denyIf('Bool', 'false'))).toBe('Allow');
    expect(stop(denyIf('Bool', 'false'), 'false')).toBe('ExplicitDeny');
    expect(stop(denyIf('Bool', 'false'), 'true')).toBe('Allow');
  });
  it('Deny + BoolIfExists false (recommended) denies everything not MFA-authenticated', () => {
    expect(stop(denyIf('BoolIfExists', 'false'))).toBe('ExplicitDeny');
    expect(stop(denyIf('BoolIfExists', 'false'), 'false')).toBe('ExplicitDeny');
    expect(stop(denyIf('BoolIfExists', 'false'), 'true')).toBe('Allow');
  });
  it('Allow + BoolIfExists true allows MFA and long-term keys, not temporary credentials without MFA', () => {
    expect(stop([allowIf('BoolIfExists', 'true')])).toBe('Allow');
    expect(stop([allowIf('BoolIfExists', 'true')], 'true')).toBe('Allow');
    expect(stop([allowIf('BoolIfExists', 'true')], 'false')).toBe('ImplicitDeny');
  });
  it('Allow + Bool true allows only MFA-authenticated requests', () => {
    expect(stop([allowIf('Bool', 'true')])).toBe('ImplicitDeny');
    expect(stop([allowIf('Bool', 'true')], 'false')).toBe('ImplicitDeny');
    expect(stop([allowIf('Bool', 'true')], 'true')).toBe('Allow');
  });
  it('Allow + Null false allows any temporary credentials, MFA or not', () => {
    expect(stop([allowIf('Null', 'false')])).toBe('ImplicitDeny');
    expect(stop([allowIf('Null', 'false')], 'false')).toBe('Allow');
  });
  it('Bool compares case-insensitively and accepts JSON booleans', () => {
    const p = doc({ Effect: 'Allow', Action: 'ec2:StopInstances', Resource: '*', Condition: { Bool: { 'aws:MultiFactorAuthPresent': true } } } as never);
    expect(stop([p], 'TRUE')).toBe('Allow');
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_configure-api-require.html and
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-multifactorauthage
describe('aws:MultiFactorAuthAge with NumericLessThan', () => {
  const p = doc({
    Effect: 'Allow',
    Action: ['ec2:StopInstances', 'ec2:TerminateInstances'],
    Resource: ['*'],
    Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' }, NumericLessThan: { 'aws:MultiFactorAuthAge': '3600' } },
  });
  const age = (a?: string) => run('ec2:TerminateInstances', '*', [p], { 'aws:MultiFactorAuthPresent': a === undefined ? undefined : 'true', 'aws:MultiFactorAuthAge': a });
  it('allows within an hour of MFA authentication', () => expect(age('300')).toBe('Allow'));
  it('denies an hour or more after', () => {
    expect(age('3600')).toBe('ImplicitDeny');
    expect(age('7200')).toBe('ImplicitDeny');
  });
  it('denies when MFA was not used (key absent)', () => expect(age(undefined)).toBe('ImplicitDeny'));
  it('accepts a JSON number as the policy value', () => {
    const n = doc({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { NumericLessThan: { 'aws:MultiFactorAuthAge': 3600 } } } as never);
    expect(run('ec2:StopInstances', '*', [n], { 'aws:MultiFactorAuthAge': '12' })).toBe('Allow');
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_aws_deny-ip.html
describe('aws:SourceIp: deny access from outside the company ranges', () => {
  const denyIp = doc({ Effect: 'Deny', Action: '*', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '203.0.113.0/24'] } } });
  const from = (ip?: string) => run('s3:GetObject', 'arn:aws:s3:::b/k', [denyIp, ADMIN], { 'aws:SourceIp': ip });
  it('allows requests from inside the ranges', () => {
    expect(from('192.0.2.10')).toBe('Allow');
    expect(from('203.0.113.255')).toBe('Allow');
  });
  it('denies requests from elsewhere', () => {
    expect(from('198.51.100.7')).toBe('ExplicitDeny');
    expect(from('203.0.114.0')).toBe('ExplicitDeny');
  });
  it('denies when the key is absent (NotIpAddress is a negated operator)', () => expect(from(undefined)).toBe('ExplicitDeny'));
  it('grants nothing by itself', () => expect(run('s3:GetObject', 'arn:aws:s3:::b/k', [denyIp], { 'aws:SourceIp': '192.0.2.1' })).toBe('ImplicitDeny'));
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IPAddress
describe('IpAddress', () => {
  const keys = doc({ Effect: 'Allow', Action: 'iam:*AccessKey*', Resource: `arn:aws:iam::${ACCT}:user/*`, Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } });
  const mixed = doc({ Effect: 'Allow', Action: 'someservice:*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:DB8:1234:5678::/64'] } } });
  it('matches the 203.0.113.0/24 range only', () => {
    expect(run('iam:CreateAccessKey', `arn:aws:iam::${ACCT}:user/bob`, [keys], { 'aws:SourceIp': '203.0.113.7' })).toBe('Allow');
    expect(run('iam:CreateAccessKey', `arn:aws:iam::${ACCT}:user/bob`, [keys], { 'aws:SourceIp': '198.51.100.7' })).toBe('ImplicitDeny');
  });
  it('is false when aws:SourceIp is absent (VPC endpoint request)', () => {
    expect(run('iam:CreateAccessKey', `arn:aws:iam::${ACCT}:user/bob`, [keys])).toBe('ImplicitDeny');
  });
  it('mixes IPv4 and IPv6 ranges', () => {
    expect(run('someservice:Do', '*', [mixed], { 'aws:SourceIp': '2001:db8:1234:5678::abcd' })).toBe('Allow');
    expect(run('someservice:Do', '*', [mixed], { 'aws:SourceIp': '2001:db8:1234:5679::1' })).toBe('ImplicitDeny');
    expect(run('someservice:Do', '*', [mixed], { 'aws:SourceIp': '203.0.113.1' })).toBe('Allow');
  });
  it('uses /32 for an address without a prefix', () => {
    const one = doc({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.9' } } });
    expect(run('s3:GetObject', '*', [one], { 'aws:SourceIp': '203.0.113.9' })).toBe('Allow');
    expect(run('s3:GetObject', '*', [one], { 'aws:SourceIp': '203.0.113.10' })).toBe('ImplicitDeny');
  });
  it('0.0.0.0/0 covers every IPv4 address, not IPv6 ones', () => {
    const any4 = doc({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } } });
    expect(run('s3:GetObject', '*', [any4], { 'aws:SourceIp': '198.51.100.7' })).toBe('Allow');
    expect(run('s3:GetObject', '*', [any4], { 'aws:SourceIp': '2001:db8::1' })).toBe('ImplicitDeny');
  });
  it('never matches malformed addresses (leading zeros are not octal)', () => {
    const octal = doc({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '010.0.0.0/8' } } });
    expect(run('s3:GetObject', '*', [octal], { 'aws:SourceIp': '8.1.2.3' })).toBe('ImplicitDeny');
    expect(run('s3:GetObject', '*', [octal], { 'aws:SourceIp': '10.1.2.3' })).toBe('ImplicitDeny');
    expect(run('s3:GetObject', '*', [mixed], { 'aws:SourceIp': 'not-an-ip' })).toBe('ImplicitDeny');
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_s3_home-directory-console.html and
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
describe('S3 home directory with ${aws:username}', () => {
  const home = doc(
    { Effect: 'Allow', Action: ['s3:ListAllMyBuckets', 's3:GetBucketLocation'], Resource: '*' },
    { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::bucket-name', Condition: { StringLike: { 's3:prefix': ['', 'home/', 'home/${aws:username}/*'] } } },
    { Effect: 'Allow', Action: 's3:*', Resource: ['arn:aws:s3:::bucket-name/home/${aws:username}', 'arn:aws:s3:::bucket-name/home/${aws:username}/*'] },
  );
  const list = (prefix?: string) => run('s3:ListBucket', 'arn:aws:s3:::bucket-name', [home], { 's3:prefix': prefix });
  it('allows objects in the user\'s own folder, at any depth', () => {
    expect(run('s3:GetObject', 'arn:aws:s3:::bucket-name/home/bob/notes.txt', [home])).toBe('Allow');
    expect(run('s3:PutObject', 'arn:aws:s3:::bucket-name/home/bob/a/b/c.txt', [home])).toBe('Allow');
  });
  it("denies other users' folders", () => {
    expect(run('s3:GetObject', 'arn:aws:s3:::bucket-name/home/alice/notes.txt', [home])).toBe('ImplicitDeny');
    expect(run('s3:GetObject', 'arn:aws:s3:::bucket-name/home/bobby/notes.txt', [home])).toBe('ImplicitDeny');
  });
  it('lists the root, home/ and the own folder only', () => {
    expect(list('')).toBe('Allow');
    expect(list('home/')).toBe('Allow');
    expect(list('home/bob/')).toBe('Allow');
    expect(list('home/bob/photos/')).toBe('Allow');
    expect(list('home/alice/')).toBe('ImplicitDeny');
    expect(list(undefined)).toBe('ImplicitDeny');
  });
  it('uses the aws:username from the context when given', () => {
    expect(run('s3:GetObject', 'arn:aws:s3:::bucket-name/home/carol/x', [home], { 'aws:username': 'carol' })).toBe('Allow');
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
describe('policy variables', () => {
  const queues = doc(
    { Sid: 'ListForConsole', Effect: 'Allow', Action: 'sqs:ListQueues', Resource: '*' },
    { Sid: 'AllQueueActions', Effect: 'Allow', Action: 'sqs:*', Resource: 'arn:aws:sqs:us-east-2:*:${aws:username}-queue' },
  );
  it('SQS queues named after the user', () => {
    expect(run('sqs:SendMessage', `arn:aws:sqs:us-east-2:${ACCT}:bob-queue`, [queues])).toBe('Allow');
    expect(run('sqs:SendMessage', `arn:aws:sqs:us-east-2:${ACCT}:alice-queue`, [queues])).toBe('ImplicitDeny');
    expect(run('sqs:SendMessage', `arn:aws:sqs:us-west-2:${ACCT}:bob-queue`, [queues])).toBe('ImplicitDeny');
  });
  it('are literal text without Version 2012-10-17', () => {
    const old: PolicyDocument = { Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b/${aws:username}/*' }] };
    expect(run('s3:GetObject', 'arn:aws:s3:::b/bob/x', [old])).toBe('ImplicitDeny');
    expect(run('s3:GetObject', 'arn:aws:s3:::b/${aws:username}/x', [old])).toBe('Allow');
    const v2008: PolicyDocument = { ...old, Version: '2008-10-17' };
    expect(run('s3:GetObject', 'arn:aws:s3:::b/bob/x', [v2008])).toBe('ImplicitDeny');
  });
  it('a Resource with a variable that has no value matches no resource (tag variable)', () => {
    const dept = doc({ Effect: 'Allow', Action: 's3:*', Resource: ['arn:aws:s3:::bucket/${aws:PrincipalTag/department}'] });
    expect(run('s3:GetObject', 'arn:aws:s3:::bucket/hr', [dept], { 'aws:PrincipalTag/department': 'hr' })).toBe('Allow');
    expect(run('s3:GetObject', 'arn:aws:s3:::bucket/', [dept])).toBe('ImplicitDeny');
    expect(run('s3:GetObject', 'arn:aws:s3:::bucket/${aws:PrincipalTag/department}', [dept])).toBe('ImplicitDeny');
  });
  it('a negated operator matches a variable with no value (deny unless the Team tags agree)', () => {
    const p = doc({ Effect: 'Deny', Action: 's3:GetObject', Resource: 'arn:aws:s3:::amzn-s3-demo-bucket/*', Condition: { StringNotEquals: { 's3:ExistingObjectTag/Team': '${aws:PrincipalTag/Team}' } } });
    const get = (ctx: Record<string, string>) => run('s3:GetObject', 'arn:aws:s3:::amzn-s3-demo-bucket/k', [p, ADMIN], ctx);
    expect(get({ 's3:ExistingObjectTag/Team': 'blue', 'aws:PrincipalTag/Team': 'blue' })).toBe('Allow');
    expect(get({ 's3:ExistingObjectTag/Team': 'blue', 'aws:PrincipalTag/Team': 'red' })).toBe('ExplicitDeny');
    expect(get({ 's3:ExistingObjectTag/Team': 'blue' })).toBe('ExplicitDeny');
  });
  it('a positive operator does not match a variable with no value', () => {
    const p = doc({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/Team': '${aws:ResourceTag/Team}' } } });
    expect(run('ec2:StartInstances', '*', [p], { 'aws:PrincipalTag/Team': 'blue', 'aws:ResourceTag/Team': 'blue' })).toBe('Allow');
    expect(run('ec2:StartInstances', '*', [p], { 'aws:PrincipalTag/Team': 'blue' })).toBe('ImplicitDeny');
  });
  it("takes a default value: ${aws:userid, 'anonymous'}", () => {
    const p = doc({ Effect: 'Allow', Action: 's3:*', Resource: "arn:aws:s3:::bucket/${aws:userid, 'anonymous'}/*" });
    expect(run('s3:GetObject', 'arn:aws:s3:::bucket/anonymous/x', [p])).toBe('Allow');
    expect(run('s3:GetObject', 'arn:aws:s3:::bucket/AIDAEXAMPLE/x', [p], { 'aws:userid': 'AIDAEXAMPLE' })).toBe('Allow');
    expect(run('s3:GetObject', 'arn:aws:s3:::bucket/anonymous/x', [p], { 'aws:userid': 'AIDAEXAMPLE' })).toBe('ImplicitDeny');
  });
  it('${*}, ${?} and ${$} stand for literal characters', () => {
    const p = doc({ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b/${*}${?}${$}' });
    expect(run('s3:GetObject', 'arn:aws:s3:::b/*?$', [p])).toBe('Allow');
    expect(run('s3:GetObject', 'arn:aws:s3:::b/xy$', [p])).toBe('ImplicitDeny');
  });
  it('variable values are literal, not wildcards', () => {
    const p = doc({ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b/${aws:PrincipalTag/prefix}' });
    expect(run('s3:GetObject', 'arn:aws:s3:::b/anything', [p], { 'aws:PrincipalTag/prefix': '*' })).toBe('ImplicitDeny');
  });
  it('works in condition values: SNS topic policy for account 999999999999, endpoint per user', () => {
    const topic = doc({
      Effect: 'Allow',
      Principal: { AWS: '999999999999' },
      Action: 'sns:*',
      Condition: { StringLike: { 'sns:endpoint': 'https://example.com/${aws:username}/' }, StringEquals: { 'sns:Protocol': 'https' } },
    });
    // The topic lives in another account, so its policy (not only bob's identity policy) must allow.
    const req = {
      action: 'sns:Subscribe',
      resource: 'arn:aws:sns:us-east-1:123456789012:topic',
      resourcePolicy: topic,
      resourceAccount: '123456789012',
      identity: [doc({ Effect: 'Allow', Action: 'sns:*', Resource: '*' })],
    };
    const p = { ...req, principal: { arn: 'arn:aws:iam::999999999999:user/bob', account: '999999999999', type: 'IAMUser' as const } };
    expect(decision({ ...p, context: { 'sns:Endpoint': 'https://example.com/bob/', 'sns:Protocol': 'https' } })).toBe('Allow');
    expect(decision({ ...p, context: { 'sns:Endpoint': 'https://example.com/alice/', 'sns:Protocol': 'https' } })).toBe('ImplicitDeny');
    expect(decision({ ...p, context: { 'sns:Endpoint': 'https://example.com/bob/', 'sns:Protocol': 'http' } })).toBe('ImplicitDeny');
  });
  it('substitutes ${aws:PrincipalAccount} from the principal', () => {
    const p = doc({ Effect: 'Allow', Action: 'dynamodb:*', Resource: 'arn:aws:dynamodb:us-east-1:${aws:PrincipalAccount}:table/AppData' });
    expect(run('dynamodb:GetItem', `arn:aws:dynamodb:us-east-1:${ACCT}:table/AppData`, [p])).toBe('Allow');
    expect(run('dynamodb:GetItem', 'arn:aws:dynamodb:us-east-1:999999999999:table/AppData', [p])).toBe('ImplicitDeny');
  });
  it('substitutes ${aws:SourceIp} in condition values', () => {
    const p = doc({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'app:ClientIp': '${aws:SourceIp}' } } });
    expect(run('app:Do', '*', [p], { 'aws:SourceIp': '192.0.2.1', 'app:ClientIp': '192.0.2.1' })).toBe('Allow');
    expect(run('app:Do', '*', [p], { 'aws:SourceIp': '192.0.2.1', 'app:ClientIp': '192.0.2.2' })).toBe('ImplicitDeny');
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
describe('Action and Resource matching', () => {
  const allow = (action: string | string[], resource: string | string[]) => doc({ Effect: 'Allow', Action: action, Resource: resource });
  it('action names and wildcards are case-insensitive', () => {
    expect(run('s3:GetObject', '*', [allow('S3:getobject', '*')])).toBe('Allow');
    expect(run('iam:GetAccountPasswordPolicy', '*', [allow('IAM:get*', '*')])).toBe('Allow');
  });
  it('? matches exactly one character in actions', () => {
    expect(run('ec2:StopInstances', '*', [allow('ec2:?topInstances', '*')])).toBe('Allow');
    expect(run('ec2:StopInstances', '*', [allow('ec2:?StopInstances', '*')])).toBe('ImplicitDeny');
  });
  it('"iam:*AccessKey*" matches all access key actions and nothing else', () => {
    const p = allow('iam:*AccessKey*', '*');
    for (const a of ['iam:CreateAccessKey', 'iam:ListAccessKeys', 'iam:UpdateAccessKey']) expect(run(a, '*', [p])).toBe('Allow');
    expect(run('iam:CreateUser', '*', [p])).toBe('ImplicitDeny');
  });
  it('the IAM user name in a Resource is case sensitive', () => {
    expect(run('iam:GetUser', `arn:aws:iam::${ACCT}:user/Bob`, [allow('iam:GetUser', `arn:aws:iam::${ACCT}:user/Bob`)])).toBe('Allow');
    expect(run('iam:GetUser', `arn:aws:iam::${ACCT}:user/bob`, [allow('iam:GetUser', `arn:aws:iam::${ACCT}:user/Bob`)])).toBe('ImplicitDeny');
  });
  it('* expands across / (all IAM users with path /accounting, all objects of a bucket)', () => {
    expect(run('iam:GetUser', `arn:aws:iam::${ACCT}:user/accounting/team/ana`, [allow('iam:GetUser', `arn:aws:iam::${ACCT}:user/accounting/*`)])).toBe('Allow');
    expect(run('iam:GetUser', `arn:aws:iam::${ACCT}:user/sales/ana`, [allow('iam:GetUser', `arn:aws:iam::${ACCT}:user/accounting/*`)])).toBe('ImplicitDeny');
    expect(run('s3:GetObject', 'arn:aws:s3:::amzn-s3-demo-bucket/a/b/c', [allow('s3:GetObject', 'arn:aws:s3:::amzn-s3-demo-bucket/*')])).toBe('Allow');
  });
  it('a * that ends a segment expands beyond colons; inside a segment it does not', () => {
    const trailing = allow('logs:*', 'arn:aws:logs:us-east-1:*:log-group:app*');
    expect(run('logs:PutLogEvents', `arn:aws:logs:us-east-1:${ACCT}:log-group:app-prod:log-stream:s1`, [trailing])).toBe('Allow');
    const inner = allow('logs:*', 'arn:aws:logs:us-east-1:*:log-group:*-prod:log-stream:s1');
    expect(run('logs:PutLogEvents', `arn:aws:logs:us-east-1:${ACCT}:log-group:app-prod:log-stream:s1`, [inner])).toBe('Allow');
    expect(run('logs:PutLogEvents', `arn:aws:logs:us-east-1:${ACCT}:log-group:a:b-prod:log-stream:s1`, [inner])).toBe('ImplicitDeny');
  });
  it('wildcards in region and account segments', () => {
    const p = allow('ec2:*', 'arn:aws:ec2:*:*:instance/i-1234567890abcdef0');
    expect(run('ec2:StopInstances', `arn:aws:ec2:eu-west-1:${ACCT}:instance/i-1234567890abcdef0`, [p])).toBe('Allow');
    expect(run('ec2:StopInstances', `arn:aws:ec2:eu-west-1:${ACCT}:instance/i-0000000000000000`, [p])).toBe('ImplicitDeny');
  });
  it('"arn:aws:s3:::*log*" matches bucket names containing log', () => {
    const p = allow('s3:*', 'arn:aws:s3:::*log*');
    expect(run('s3:ListBucket', 'arn:aws:s3:::app-logs', [p])).toBe('Allow');
    expect(run('s3:ListBucket', 'arn:aws:s3:::app-data', [p])).toBe('ImplicitDeny');
  });
  it('actions without resource-level permissions are requested on "*", which a specific ARN does not grant', () => {
    expect(run('s3:ListAllMyBuckets', '*', [allow('s3:ListAllMyBuckets', 'arn:aws:s3:::*')])).toBe('ImplicitDeny');
    expect(run('s3:ListAllMyBuckets', '*', [allow('s3:ListAllMyBuckets', '*')])).toBe('Allow');
  });
  it('NotResource with Allow: everything except the listed resources', () => {
    const p = doc({ Effect: 'Allow', Action: 's3:*', NotResource: ['arn:aws:s3:::HRBucket/Payroll', 'arn:aws:s3:::HRBucket/Payroll/*'] });
    expect(run('s3:GetObject', 'arn:aws:s3:::HRBucket/Benefits/x', [p])).toBe('Allow');
    expect(run('s3:GetObject', 'arn:aws:s3:::HRBucket/Payroll/x', [p])).toBe('ImplicitDeny');
  });
  it('accepts a single statement object and single string values', () => {
    const p: PolicyDocument = { Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:*:*:q' } };
    expect(run('sqs:SendMessage', `arn:aws:sqs:us-east-1:${ACCT}:q`, [p])).toBe('Allow');
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
describe('condition operators', () => {
  const allowIf = (condition: Record<string, Record<string, unknown>>) => [doc({ Sid: 'Cond', Effect: 'Allow', Action: '*', Resource: '*', Condition: condition })];
  const test = (condition: Record<string, Record<string, unknown>>, context: Record<string, string | string[] | undefined>) =>
    run('svc:Do', '*', allowIf(condition), context);

  it('StringEquals on aws:PrincipalTag/job-category: a user without the tag is denied', () => {
    const c = { StringEquals: { 'aws:PrincipalTag/job-category': 'iamuser-admin' } };
    expect(test(c, { 'aws:PrincipalTag/job-category': 'iamuser-admin' })).toBe('Allow');
    expect(test(c, { 'aws:PrincipalTag/job-category': 'IAMUSER-ADMIN' })).toBe('ImplicitDeny');
    expect(test(c, {})).toBe('ImplicitDeny');
  });
  it('compares condition key names case-insensitively ("aws:CurrentTime" is "AWS:currenttime")', () => {
    expect(test({ DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }, { 'AWS:currenttime': '2024-05-01T12:00:00Z' })).toBe('Allow');
  });
  it('StringNotEquals is true when the key is missing, StringEqualsIgnoreCase ignores case', () => {
    expect(test({ StringNotEquals: { 'aws:RequestedRegion': 'us-east-1' } }, {})).toBe('Allow');
    expect(test({ StringNotEquals: { 'aws:RequestedRegion': ['us-east-1', 'eu-west-1'] } }, { 'aws:RequestedRegion': 'eu-west-1' })).toBe('ImplicitDeny');
    expect(test({ StringEqualsIgnoreCase: { 'aws:PrincipalTag/team': 'Blue' } }, { 'aws:PrincipalTag/team': 'BLUE' })).toBe('Allow');
    expect(test({ StringNotEqualsIgnoreCase: { 'aws:PrincipalTag/team': 'Blue' } }, { 'aws:PrincipalTag/team': 'blue' })).toBe('ImplicitDeny');
  });
  it('StringLike ec2:InstanceType fails when the key is absent; StringLikeIfExists does not', () => {
    const types = ['t1.*', 't2.*', 'm3.*'];
    expect(test({ StringLike: { 'ec2:InstanceType': types } }, { 'ec2:InstanceType': 't2.micro' })).toBe('Allow');
    expect(test({ StringLike: { 'ec2:InstanceType': types } }, { 'ec2:InstanceType': 'c5.large' })).toBe('ImplicitDeny');
    expect(test({ StringLike: { 'ec2:InstanceType': types } }, {})).toBe('ImplicitDeny');
    expect(test({ StringLikeIfExists: { 'ec2:InstanceType': types } }, {})).toBe('Allow');
    expect(test({ StringLikeIfExists: { 'ec2:InstanceType': types } }, { 'ec2:InstanceType': 'c5.large' })).toBe('ImplicitDeny');
    expect(test({ StringNotLike: { 'ec2:InstanceType': types } }, { 'ec2:InstanceType': 'c5.large' })).toBe('Allow');
  });
  it('NumericLessThanEquals s3:max-keys 10', () => {
    const c = { NumericLessThanEquals: { 's3:max-keys': '10' } };
    expect(test(c, { 's3:max-keys': '10' })).toBe('Allow');
    expect(test(c, { 's3:max-keys': '11' })).toBe('ImplicitDeny');
    expect(test(c, { 's3:max-keys': 'ten' })).toBe('ImplicitDeny');
    expect(test({ NumericEquals: { n: '1.5' } }, { n: '1.50' })).toBe('Allow');
    expect(test({ NumericNotEquals: { n: '3' } }, { n: '4' })).toBe('Allow');
    expect(test({ NumericGreaterThan: { n: '3' } }, { n: '3' })).toBe('ImplicitDeny');
    expect(test({ NumericGreaterThanEquals: { n: '3' } }, { n: '3' })).toBe('Allow');
    expect(test({ NumericLessThan: { n: '-1' } }, { n: '-2' })).toBe('Allow');
  });
  it('DateGreaterThan aws:TokenIssueTime: temporary credentials issued after 2020, absent for access keys', () => {
    const c = { DateGreaterThan: { 'aws:TokenIssueTime': '2020-01-01T00:00:01Z' } };
    expect(test(c, { 'aws:TokenIssueTime': '2020-06-01T10:00:00Z' })).toBe('Allow');
    expect(test(c, { 'aws:TokenIssueTime': '2019-12-31T23:59:59Z' })).toBe('ImplicitDeny');
    expect(test(c, {})).toBe('ImplicitDeny');
  });
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_aws-dates.html
  it('date range on aws:CurrentTime, ISO 8601 or epoch seconds', () => {
    const c = { DateGreaterThan: { 'aws:CurrentTime': '2020-04-01T00:00:00Z' }, DateLessThan: { 'aws:CurrentTime': '2020-06-30T23:59:59Z' } };
    expect(test(c, { 'aws:CurrentTime': '2020-05-15T08:00:00Z' })).toBe('Allow');
    expect(test(c, { 'aws:CurrentTime': '2020-07-01T00:00:00Z' })).toBe('ImplicitDeny');
    expect(test(c, { 'aws:CurrentTime': String(Date.UTC(2020, 4, 15) / 1000) })).toBe('Allow');
    expect(test({ DateLessThanEquals: { 'aws:EpochTime': '1589500800' } }, { 'aws:EpochTime': '2020-05-15T00:00:00Z' })).toBe('Allow');
    expect(test({ DateEquals: { d: '2020-05-15' } }, { d: '2020-05-15T00:00:00Z' })).toBe('Allow');
    expect(test({ DateNotEquals: { d: '2020-05-15T00:00:00+02:00' } }, { d: '2020-05-14T22:00:00Z' })).toBe('ImplicitDeny');
    expect(test({ DateGreaterThanEquals: { d: '2020-05-15T00:00:00Z' } }, { d: 'yesterday' })).toBe('ImplicitDeny');
  });
  it('Bool aws:SecureTransport false denies plain HTTP', () => {
    const deny = doc({ Sid: 'BooleanExample', Action: 's3:*', Effect: 'Deny', Resource: ['arn:aws:s3:::DOC-EXAMPLE-BUCKET', 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/*'], Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect(run('s3:GetObject', 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/k', [deny, ADMIN], { 'aws:SecureTransport': 'false' })).toBe('ExplicitDeny');
    expect(run('s3:GetObject', 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/k', [deny, ADMIN], { 'aws:SecureTransport': 'true' })).toBe('Allow');
  });
  it('BinaryEquals compares the base-64 value', () => {
    expect(test({ BinaryEquals: { key: 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' } }, { key: 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' })).toBe('Allow');
    expect(test({ BinaryEquals: { key: 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' } }, { key: 'AAAA' })).toBe('ImplicitDeny');
  });
  it('ArnLike matches component by component where StringLike does not', () => {
    const value = 'arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt';
    expect(test({ StringLike: { 'aws:SourceArn': 'arn:aws:someservice:*:111122223333:finance/*' } }, { 'aws:SourceArn': value })).toBe('Allow');
    expect(test({ ArnLike: { 'aws:SourceArn': 'arn:aws:someservice:*:111122223333:finance/*' } }, { 'aws:SourceArn': value })).toBe('ImplicitDeny');
    expect(test({ ArnLike: { 'aws:SourceArn': 'arn:aws:someservice:*:111122223333:finance/*' } }, { 'aws:SourceArn': 'arn:aws:someservice:us-east-2:111122223333:finance/a:b' })).toBe('Allow');
  });
  it('ArnEquals behaves like ArnLike; ArnNotEquals/ArnNotLike are true for a missing key', () => {
    expect(test({ ArnEquals: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/Admin*' } }, { 'aws:PrincipalArn': `arn:aws:iam::${ACCT}:role/AdminOps` })).toBe('Allow');
    expect(test({ ArnEquals: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:*:Topic' } }, { 'aws:SourceArn': 'arn:aws:sns:us-east-1:1:topic' })).toBe('ImplicitDeny');
    expect(test({ ArnNotLike: { 'aws:SourceArn': 'arn:aws:sns:*:*:*' } }, {})).toBe('Allow');
    expect(test({ ArnNotEquals: { 'aws:SourceArn': 'arn:aws:sns:*:*:*' } }, { 'aws:SourceArn': 'arn:aws:sns:us-east-1:1:t' })).toBe('ImplicitDeny');
    expect(test({ ArnLike: { 'aws:SourceArn': 'arn:aws:sns:*' } }, { 'aws:SourceArn': 'arn:aws:sns:us-east-1:1:t' })).toBe('ImplicitDeny');
  });
  it('Null checks that a key is absent (aws:TokenIssueTime: true means long-term credentials)', () => {
    expect(test({ Null: { 'aws:TokenIssueTime': 'true' } }, {})).toBe('Allow');
    expect(test({ Null: { 'aws:TokenIssueTime': 'true' } }, { 'aws:TokenIssueTime': '2024-01-01T00:00:00Z' })).toBe('ImplicitDeny');
    expect(test({ Null: { 'aws:TokenIssueTime': false } }, { 'aws:TokenIssueTime': '2024-01-01T00:00:00Z' })).toBe('Allow');
  });
  it('ANDs blocks and keys, ORs values', () => {
    const c = { StringEquals: { 'aws:PrincipalTag/team': ['red', 'blue'], 'aws:RequestedRegion': 'eu-west-1' }, Bool: { 'aws:SecureTransport': 'true' } };
    const ok = { 'aws:PrincipalTag/team': 'blue', 'aws:RequestedRegion': 'eu-west-1', 'aws:SecureTransport': 'true' };
    expect(test(c, ok)).toBe('Allow');
    expect(test(c, { ...ok, 'aws:PrincipalTag/team': 'green' })).toBe('ImplicitDeny');
    expect(test(c, { ...ok, 'aws:RequestedRegion': 'us-east-1' })).toBe('ImplicitDeny');
    expect(test(c, { ...ok, 'aws:SecureTransport': 'false' })).toBe('ImplicitDeny');
  });
  it('an unknown operator makes the statement not match, and is reported', () => {
    const d = check({ action: 'svc:Do', resource: '*', identity: allowIf({ StringEqualz: { k: 'v' } }), context: { k: 'v' } });
    expect(d).toMatchObject({ decision: 'ImplicitDeny', matched: [], unknownOperators: ['StringEqualz'] });
    const nullIfExists = check({ action: 'svc:Do', resource: '*', identity: allowIf({ NullIfExists: { k: 'true' } }) });
    expect(nullIfExists.unknownOperators).toEqual(['NullIfExists']);
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
describe('ForAllValues and ForAnyValue', () => {
  const getItem = doc({ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: `arn:aws:dynamodb:us-east-1:${ACCT}:table/Thread`, Condition: { 'ForAllValues:StringLike': { 'dynamodb:requestedAttributes': ['PostDateTime', 'Message', 'Tags'] } } });
  const putItem = doc({ Effect: 'Deny', Action: 'dynamodb:PutItem', Resource: `arn:aws:dynamodb:us-east-1:${ACCT}:table/Thread`, Condition: { 'ForAnyValue:StringLike': { 'dynamodb:requestedAttributes': ['ID', 'PostDateTime'] } } });
  const table = `arn:aws:dynamodb:us-east-1:${ACCT}:table/Thread`;
  const attrs = (...a: string[]) => ({ 'dynamodb:requestedAttributes': a });

  it('ForAllValues: every requested attribute must be listed', () => {
    expect(run('dynamodb:GetItem', table, [getItem], attrs('PostDateTime', 'Message'))).toBe('Allow');
    expect(run('dynamodb:GetItem', table, [getItem], attrs('PostDateTime', 'UserName'))).toBe('ImplicitDeny');
  });
  it('ForAllValues: true when the key is absent or empty', () => {
    expect(run('dynamodb:GetItem', table, [getItem])).toBe('Allow');
    expect(run('dynamodb:GetItem', table, [getItem], attrs())).toBe('Allow');
  });
  it('ForAnyValue: one listed attribute is enough (PutItem with PostDateTime is denied)', () => {
    const both = [putItem, ADMIN];
    expect(run('dynamodb:PutItem', table, both, attrs('UserName', 'Message', 'PostDateTime'))).toBe('ExplicitDeny');
    expect(run('dynamodb:PutItem', table, both, attrs('UserName'))).toBe('Allow');
  });
  it('ForAnyValue: false when the key is absent, unless ...IfExists', () => {
    expect(run('dynamodb:PutItem', table, [putItem, ADMIN])).toBe('Allow');
    const ifExists = doc({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { 'ForAnyValue:StringEqualsIfExists': { 'aws:TagKeys': ['env'] } } });
    expect(run('svc:Do', '*', [ifExists])).toBe('Allow');
    expect(run('svc:Do', '*', [ifExists], { 'aws:TagKeys': ['owner'] })).toBe('ImplicitDeny');
  });
  it('negated operators apply per request value', () => {
    const anyNot = doc({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['env', 'owner'] } } });
    const allNot = doc({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { 'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['env', 'owner'] } } });
    expect(run('svc:Do', '*', [anyNot], { 'aws:TagKeys': ['env', 'cost'] })).toBe('Allow');
    expect(run('svc:Do', '*', [anyNot], { 'aws:TagKeys': ['env', 'owner'] })).toBe('ImplicitDeny');
    expect(run('svc:Do', '*', [allNot], { 'aws:TagKeys': ['env', 'cost'] })).toBe('ImplicitDeny');
    expect(run('svc:Do', '*', [allNot], { 'aws:TagKeys': ['cost', 'team'] })).toBe('Allow');
  });
  it('a multivalued key needs a set qualifier: without one the condition does not match', () => {
    const plain = doc({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:TagKeys': 'env' } } });
    expect(run('svc:Do', '*', [plain], { 'aws:TagKeys': ['env', 'owner'] })).toBe('ImplicitDeny');
  });
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-calledvia
  it('ForAnyValue:StringEquals aws:CalledVia (KMS via DynamoDB)', () => {
    const kms = doc({ Sid: 'KmsActionsIfCalledViaDynamodb', Effect: 'Allow', Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey', 'kms:DescribeKey'], Resource: 'arn:aws:kms:region:111122223333:key/my-example-key', Condition: { 'ForAnyValue:StringEquals': { 'aws:CalledVia': ['dynamodb.amazonaws.com'] } } });
    const key = 'arn:aws:kms:region:111122223333:key/my-example-key';
    expect(run('kms:ReEncryptFrom', key, [kms], { 'aws:CalledVia': ['cloudformation.amazonaws.com', 'dynamodb.amazonaws.com'] })).toBe('Allow');
    expect(run('kms:Decrypt', key, [kms])).toBe('ImplicitDeny');
  });
});
