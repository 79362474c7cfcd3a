// validatePolicyDocument: the problems that make IAM answer MalformedPolicyDocument.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
import { describe, expect, it } from 'vitest';
import { validatePolicyDocument } from '../../src/cloud/policy/evaluate.ts';

const good = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'A', Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::b/*', Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } } }],
};

describe('validatePolicyDocument', () => {
  it('accepts well-formed identity and resource policies, as objects or JSON text', () => {
    expect(validatePolicyDocument(good, { kind: 'identity' })).toEqual([]);
    expect(validatePolicyDocument(JSON.stringify(good))).toEqual([]);
    const bucket = { Version: '2012-10-17', Statement: { Effect: 'Deny', Principal: '*', NotAction: 's3:GetObject', Condition: { NumericLessThan: { 'aws:MultiFactorAuthAge': 3600 } } } };
    expect(validatePolicyDocument(bucket, { kind: 'resource' })).toEqual([]);
  });
  it('refuses what is not a JSON object', () => {
    expect(validatePolicyDocument('{not json')).toEqual(['the policy document is not valid JSON']);
    expect(validatePolicyDocument([good])).toEqual(['the policy document must be a JSON object']);
    expect(validatePolicyDocument(null)).toEqual(['the policy document must be a JSON object']);
  });
  it('reports a missing Statement, a bad Version and unknown elements', () => {
    expect(validatePolicyDocument({ Version: '2012-10-17' })).toEqual(['missing Statement']);
    expect(validatePolicyDocument({ ...good, Version: '2012-10-18', Extra: 1 })).toEqual([
      'unknown top-level element "Extra"',
      'Version must be "2012-10-17" or "2008-10-17", not "2012-10-18"',
    ]);
    expect(validatePolicyDocument({ Statement: [{ ...good.Statement[0], Actions: 'x' }] })).toEqual(['Statement 1 (Sid A): unknown element "Actions"']);
  });
  it('reports a missing or invalid Effect', () => {
    expect(validatePolicyDocument({ Statement: { Action: '*', Resource: '*' } })).toEqual(['Statement 1: missing Effect']);
    expect(validatePolicyDocument({ Statement: { Effect: 'allow', Action: '*', Resource: '*' } })).toEqual(['Statement 1: Effect must be "Allow" or "Deny", not "allow"']);
  });
  it('reports both or neither of Action/NotAction and Resource/NotResource', () => {
    expect(validatePolicyDocument({ Statement: { Effect: 'Allow', Action: '*', NotAction: 'iam:*', Resource: '*' } })).toEqual(['Statement 1: has both Action and NotAction']);
    expect(validatePolicyDocument({ Statement: { Effect: 'Allow', Resource: '*' } })).toEqual(['Statement 1: missing Action or NotAction']);
    expect(validatePolicyDocument({ Statement: { Effect: 'Allow', Action: '*' } }, { kind: 'identity' })).toEqual(['Statement 1: missing Resource or NotResource']);
    expect(validatePolicyDocument({ Statement: { Effect: 'Allow', Action: '*', Resource: '*', NotResource: 'x' } })).toEqual(['Statement 1: has both Resource and NotResource']);
  });
  it('checks action syntax and value types', () => {
    expect(validatePolicyDocument({ Statement: { Effect: 'Allow', Action: 'GetItem', Resource: '*' } })).toEqual(['Statement 1: action "GetItem" must be "*" or "service:action"']);
    expect(validatePolicyDocument({ Statement: { Effect: 'Allow', Action: [], Resource: 5 } })).toEqual([
      'Statement 1: Action must be a string or a non-empty list of strings',
      'Statement 1: Resource must be a string or a non-empty list of strings',
    ]);
  });
  it('reports unknown condition operators and malformed condition values', () => {
    const problems = validatePolicyDocument({
      Statement: { Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEqualz: { k: 'v' }, NullIfExists: { k: 'true' }, StringEquals: { k: { nested: 1 } } } },
    });
    expect(problems).toEqual([
      'Statement 1: unknown condition operator "StringEqualz"',
      'Statement 1: unknown condition operator "NullIfExists"',
      'Statement 1: condition StringEquals k must be a string, number, boolean or a list of them',
    ]);
    expect(validatePolicyDocument({ Statement: { Effect: 'Allow', Action: '*', Resource: '*', Condition: { 'ForAnyValue:StringLikeIfExists': { k: ['a*'] } } } })).toEqual([]);
  });
  it('checks Principal use by policy kind', () => {
    const withPrincipal = { Statement: { Effect: 'Allow', Principal: { AWS: '111122223333' }, Action: '*', Resource: '*' } };
    expect(validatePolicyDocument(withPrincipal, { kind: 'identity' })).toEqual(['Statement 1: Principal and NotPrincipal are not allowed in identity-based policies']);
    expect(validatePolicyDocument({ Statement: { Effect: 'Allow', Action: '*' } }, { kind: 'resource' })).toEqual(['Statement 1: missing Principal']);
    expect(validatePolicyDocument({ Statement: { Effect: 'Allow', Principal: { User: 'bob' }, Action: '*' } })).toEqual(['Statement 1: unknown Principal type "User"']);
    expect(validatePolicyDocument({ Statement: { Effect: 'Deny', Principal: '*', NotPrincipal: { AWS: '1' }, Action: '*' } })).toEqual(['Statement 1: has both Principal and NotPrincipal']);
  });
  it('reports duplicate Sids and an empty Statement list', () => {
    const dup = { Statement: [good.Statement[0], good.Statement[0]] };
    expect(validatePolicyDocument(dup)).toEqual(['Statement 2 (Sid A): duplicate Sid "A"']);
    expect(validatePolicyDocument({ Statement: [] })).toEqual(['Statement must not be empty']);
  });
});
