// Conformance: service control policies in the evaluator, from AWS Organizations' "SCP evaluation"
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/cloud/policy/evaluate.ts';
import type { PolicyDocument, RequestPrincipal, SourcedPolicy } from '../../src/cloud/policy/types.ts';

const ACCT = '111122223333';
const user: RequestPrincipal = { arn: `arn:aws:iam::${ACCT}:user/dev`, account: ACCT, type: 'IAMUser' };
const root: RequestPrincipal = { arn: `arn:aws:iam::${ACCT}:root`, account: ACCT, type: 'Root' };
const service: RequestPrincipal = { arn: 'cloudtrail.amazonaws.com', account: ACCT, type: 'AWSService' };
const doc = (...Statement: PolicyDocument['Statement'][]): PolicyDocument => ({ Version: '2012-10-17', Statement: Statement.flat() });
const src = (source: string, document: PolicyDocument): SourcedPolicy => ({ source, document });
const FULL = src('SCP FullAWSAccess', doc({ Effect: 'Allow', Action: '*', Resource: '*' }));
const ADMIN = [src('user policy admin', doc({ Effect: 'Allow', Action: '*', Resource: '*' }))];

const run = (principal: RequestPrincipal, action: string, scp: SourcedPolicy[][] | undefined, identity = ADMIN) =>
  evaluate({ action, resource: '*', principal, context: {} }, { identity, ...(scp ? { scp } : {}) });

describe('SCPs', () => {
  it('an Allow is needed at every level from the root to the account', () => {
    // Root and account allow everything, the OU allows only EC2: S3 is denied.
    const ec2Only = src('SCP ec2-only', doc({ Effect: 'Allow', Action: 'ec2:*', Resource: '*' }));
    expect(run(user, 'ec2:DescribeInstances', [[FULL], [ec2Only], [FULL]]).decision).toBe('Allow');
    const d = run(user, 's3:ListAllMyBuckets', [[FULL], [ec2Only], [FULL]]);
    expect(d.decision).toBe('ImplicitDeny');
    expect(d.reason).toContain('SCP ec2-only');
    // A level with no SCP at all allows nothing.
    expect(run(user, 'ec2:DescribeInstances', [[FULL], [], [FULL]]).decision).toBe('ImplicitDeny');
  });

  it('a Deny at any level wins over every Allow', () => {
    const noLeave = src('SCP deny-leave', doc({ Effect: 'Deny', Action: 'organizations:LeaveOrganization', Resource: '*' }));
    const d = run(user, 'organizations:LeaveOrganization', [[FULL, noLeave], [FULL]]);
    expect(d.decision).toBe('ExplicitDeny');
    expect(d.matched.find((m) => m.effect === 'Deny')?.policyType).toBe('scp');
  });

  it('grant nothing: an identity policy is still needed', () => {
    expect(run(user, 's3:ListAllMyBuckets', [[FULL]], []).decision).toBe('ImplicitDeny');
  });

  it('limit the member account\'s root user, not service principals', () => {
    const noS3 = src('SCP no-s3', doc({ Effect: 'Deny', Action: 's3:*', Resource: '*' }));
    expect(run(root, 's3:ListAllMyBuckets', [[FULL, noS3]]).decision).toBe('ExplicitDeny');
    expect(run(root, 'ec2:DescribeInstances', [[FULL, noS3]]).decision).toBe('Allow');
    expect(run(root, 's3:ListAllMyBuckets', undefined).decision).toBe('Allow');
    const d = evaluate(
      { action: 's3:PutObject', resource: 'arn:aws:s3:::logs/x', principal: service, context: {} },
      { identity: [], scp: [[FULL, noS3]], resource: { source: 'bucket policy', account: ACCT, document: doc({ Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::logs/*' }) } },
    );
    expect(d.decision).toBe('Allow');
  });

  it('conditions in SCPs use the request context (a region guardrail)', () => {
    const regions = src('SCP regions', doc({ Effect: 'Deny', NotAction: 'iam:*', Resource: '*', Condition: { StringNotEquals: { 'aws:RequestedRegion': ['eu-west-1'] } } }));
    const at = (region: string) => evaluate({ action: 'ec2:RunInstances', resource: '*', principal: user, context: { 'aws:RequestedRegion': region } }, { identity: ADMIN, scp: [[FULL, regions]] }).decision;
    expect(at('eu-west-1')).toBe('Allow');
    expect(at('us-east-1')).toBe('ExplicitDeny');
  });
});
