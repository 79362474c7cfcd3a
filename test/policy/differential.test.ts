// Differential test: random policies over a small alphabet, our decision compared with @cloud-copilot/iam-simulate
// (AGPL-3.0, a devDependency used here only as an oracle; src/ must never import it).
//
// The generators avoid the corners where the oracle departs from AWS's documentation or our documented
// choices, each noted where the alphabet is defined:
// - epoch-second dates: the oracle compares epoch seconds with ISO dates in milliseconds;
// - "ForAnyValue:...IfExists": the oracle ignores IfExists after ForAnyValue (the docs allow IfExists on every
//   operator but Null, so a missing key makes it true);
// - a variable with no value in a negated operator's values (the docs say StringNotEquals matches a null
//   value; the oracle says no) and in NotResource (the docs say such a resource matches nothing, so NotResource
//   applies; the oracle does not apply it): the only variable with no value, ${aws:PrincipalTag/team}, is
//   used in Resource only;
// - non-numeric values for numeric operators (the oracle's NumericNotEquals is then false, we say true);
// - a variable right after the account colon: the oracle splits "${aws:username}" at its colon when it
//   looks for the resource type, so variables only follow a "table/" prefix;
// - S3, KMS, IAM and STS actions, which the oracle authorizes with service-specific rules, and requests on
//   "*", which it expands into several simulations;
// - empty lists as context values (we treat them as a missing key, as the docs say of an empty data set);
// - "/0" ranges (the oracle's 32-bit shift makes 0.0.0.0/0 match only 0.0.0.0) and bare addresses without a
//   prefix (the oracle's NotIpAddress is false for an IPv6 caller against a bare IPv4 address).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { evaluate } from '../../src/cloud/policy/evaluate.ts';
import type { AuthzRequest, PolicyDocument, PolicySet, Statement } from '../../src/cloud/policy/types.ts';

const ACCT = '111122223333';
const FOREIGN = '999999999999';
const BOB = `arn:aws:iam::${ACCT}:user/bob`;
const ROLE = `arn:aws:iam::${ACCT}:role/app`;
const SESSION = `arn:aws:sts::${ACCT}:assumed-role/app/s1`;

const ACTION_PATTERNS = [
  '*', 'sqs:*', 'sqs:Send*', 'sqs:*Message', 'SQS:sendmessage', 'sqs:?eceiveMessage', 'sns:*', 'sqs:Delete?ueue',
  'dynamodb:Get*', 'sqs:Send?', 'ec2:*', 'sns:publish',
];

// Requests: the oracle validates that the resource is of a type the action takes.
const QUEUES = [`arn:aws:sqs:us-east-1:${ACCT}:orders`, `arn:aws:sqs:us-east-1:${ACCT}:orders-dlq`, `arn:aws:sqs:eu-west-1:${ACCT}:audit`];
const TABLES = [
  `arn:aws:dynamodb:us-east-1:${ACCT}:table/bob-data`,
  `arn:aws:dynamodb:us-east-1:${ACCT}:table/alice-data`,
  `arn:aws:dynamodb:us-east-1:${ACCT}:table/Orders`,
];
const REQUESTS: [string, string][] = [
  ...['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteQueue'].flatMap((a) => QUEUES.map((q): [string, string] => [a, q])),
  ['sns:Publish', `arn:aws:sns:us-east-1:${ACCT}:alerts`],
  ...TABLES.map((t): [string, string] => ['dynamodb:GetItem', t]),
];
const RESOURCE_PATTERNS_ANYWHERE = [
  '*',
  'arn:aws:sqs:*:*:*',
  `arn:aws:sqs:us-east-1:${ACCT}:orders*`,
  `arn:aws:sqs:us-east-1:${ACCT}:*-dlq`,
  `arn:aws:sqs:*:${ACCT}:?udit`,
  `arn:aws:sqs:us-east-1:${ACCT}:Orders`,
  `arn:aws:sns:*:${ACCT}:alerts`,
  'arn:aws:sqs:us-west-2:*:orders',
  'arn:aws:dynamodb:*:*:table/${aws:username}-*',
  'arn:aws:dynamodb:*:*:table/*',
  `arn:aws:dynamodb:us-east-1:${ACCT}:table/orders`,
  `arn:aws:dynamodb:us-east-1:${ACCT}:table/?lice-data`,
];
// May have no value (aws:PrincipalTag/team is sometimes missing): Resource only.
const RESOURCE_PATTERNS = [...RESOURCE_PATTERNS_ANYWHERE, `arn:aws:dynamodb:us-east-1:${ACCT}:table/\${aws:PrincipalTag/team}-data`];

interface KeySpec {
  key: string;
  operators: string[];
  policyValues: string[];
  /** Request values; undefined means the key is absent. */
  contextValues: (string | string[] | undefined)[];
}

const withIfExists = (ops: string[]) => ops.flatMap((o) => [o, `${o}IfExists`]);
const STRING_OPS = withIfExists(['StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike']);
const POSITIVE_STRING_OPS = ['StringEquals', 'StringLike', 'StringEqualsIgnoreCase'];

const KEYS: KeySpec[] = [
  {
    key: 'aws:SourceIp',
    operators: withIfExists(['IpAddress', 'NotIpAddress']),
    policyValues: ['10.0.0.0/8', '192.0.2.0/24', '203.0.113.7/32', '2001:db8::/32', '128.0.0.0/1'],
    contextValues: ['10.1.2.3', '192.0.2.200', '203.0.113.7', '198.51.100.1', '2001:db8::5', '2001:db9::1', undefined],
  },
  { key: 'aws:MultiFactorAuthPresent', operators: ['Bool', 'BoolIfExists'], policyValues: ['true', 'false'], contextValues: ['true', 'false', undefined] },
  {
    key: 'aws:MultiFactorAuthAge',
    operators: withIfExists(['NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals']),
    policyValues: ['0', '300', '3600'],
    contextValues: ['0', '299', '300', '3600', '86400', undefined],
  },
  { key: 'aws:username', operators: STRING_OPS, policyValues: ['bob', 'BOB', 'b*', 'alice', '?ob'], contextValues: ['bob'] },
  {
    key: 'aws:PrincipalTag/team',
    operators: STRING_OPS,
    policyValues: ['red', 'blue', '${aws:username}', 'r*', 'Bo?'],
    contextValues: ['red', 'blue', 'bob', 'Bob', undefined],
  },
  {
    key: 'aws:CurrentTime',
    operators: withIfExists(['DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals']),
    policyValues: ['2024-01-01T00:00:00Z', '2024-06-01T12:00:00Z'],
    contextValues: ['2023-12-31T23:59:59Z', '2024-01-01T00:00:00Z', '2024-03-01T00:00:00Z', '2025-01-01T00:00:00Z', undefined],
  },
  {
    key: 'aws:TagKeys',
    operators: [
      ...['StringEquals', 'StringLike', 'StringNotEquals', 'StringNotLike'].flatMap((o) => [`ForAnyValue:${o}`, `ForAllValues:${o}`, `ForAllValues:${o}IfExists`]),
      'StringEquals',
      'StringNotEquals',
    ],
    policyValues: ['env', 'owner', 'cost*'],
    contextValues: [['env'], ['env', 'owner'], ['cost-center', 'team'], ['team'], ['owner', 'cost-center', 'env'], undefined],
  },
  {
    key: 'aws:SourceArn',
    operators: ['ArnLike', 'ArnEquals', 'ArnNotLike', 'ArnNotEquals', 'ArnLikeIfExists', 'ArnNotLikeIfExists'],
    policyValues: [`arn:aws:sns:us-east-1:${ACCT}:alerts`, `arn:aws:sns:*:${ACCT}:*`, 'arn:aws:sns:us-east-1:*:al?rts', 'arn:aws:s3:::bucket/*'],
    contextValues: [`arn:aws:sns:us-east-1:${ACCT}:alerts`, `arn:aws:sns:eu-west-1:${FOREIGN}:alerts`, 'arn:aws:s3:::bucket/key', undefined],
  },
];

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const someOf = <T>(xs: readonly T[]) => fc.subarray([...xs], { minLength: 1, maxLength: Math.min(3, xs.length) });

/** One condition block: an operator and one key with one to three values. */
const conditionEntry = fc.oneof(
  fc
    .nat({ max: KEYS.length - 1 })
    .chain((i) => {
      const spec = KEYS[i]!;
      return fc.tuple(pick(spec.operators), someOf(spec.policyValues)).map(([op, values]) => {
        // The only variable is ${aws:username}, always present; keep it out of negated operators anyway
        // so the comparison does not hinge on it.
        const vals = /Not/.test(op) ? values.filter((v) => !v.includes('${')) : values;
        const fixed = vals.length ? vals : ['red'];
        return [op, { [spec.key]: fixed.length === 1 ? fixed[0]! : fixed }] as const;
      });
    }),
  fc.tuple(pick(KEYS.map((k) => k.key)), pick(['true', 'false'])).map(([key, v]) => ['Null', { [key]: v }] as const),
);

const condition = fc.array(conditionEntry, { maxLength: 2 }).map((entries) => {
  if (!entries.length) return undefined;
  const c: Record<string, Record<string, unknown>> = {};
  for (const [op, kv] of entries) c[op] = { ...c[op], ...kv };
  return c;
});

const one = <T>(xs: T[]) => (xs.length === 1 ? xs[0]! : xs);

const identityStatement: fc.Arbitrary<Statement> = fc
  .record({
    effect: fc.constantFrom<'Allow' | 'Deny'>('Allow', 'Allow', 'Deny'),
    notAction: fc.nat({ max: 4 }).map((n) => n === 0),
    actions: someOf(ACTION_PATTERNS),
    notResource: fc.nat({ max: 4 }).map((n) => n === 0),
    resources: someOf(RESOURCE_PATTERNS),
    safeNotResources: someOf(RESOURCE_PATTERNS_ANYWHERE),
    condition,
    sid: fc.option(fc.constantFrom('A', 'B', 'C'), { nil: undefined }),
  })
  .map((r) => {
    const st: Statement = { Effect: r.effect };
    if (r.notAction) st.NotAction = one(r.actions);
    else st.Action = one(r.actions);
    if (r.notResource) st.NotResource = one(r.safeNotResources);
    else st.Resource = one(r.resources);
    if (r.condition) st.Condition = r.condition;
    return st;
  });

const policy = fc.array(identityStatement, { minLength: 1, maxLength: 3 }).map((s): PolicyDocument => ({ Version: '2012-10-17', Statement: s }));

/** Request context: each key present or not, from its small set of values. */
const context = fc.tuple(...KEYS.map((k) => pick(k.contextValues))).map((values) => {
  const ctx: Record<string, string | string[]> = {};
  KEYS.forEach((k, i) => {
    const v = values[i];
    if (v !== undefined) ctx[k.key] = v;
  });
  return ctx;
});

const PRINCIPALS = [
  '*',
  { AWS: '*' },
  { AWS: ACCT },
  { AWS: `arn:aws:iam::${ACCT}:root` },
  { AWS: BOB },
  { AWS: `arn:aws:iam::${ACCT}:user/alice` },
  { AWS: FOREIGN },
  { AWS: [BOB, FOREIGN] },
  { AWS: ROLE },
  { AWS: SESSION },
  { AWS: [SESSION, ROLE, `arn:aws:iam::${ACCT}:root`] },
] as const;

// NotPrincipal lists that name either the caller's whole chain (account, role, session or user) or nothing of
// it. For partial lists the docs say AWS "might validate the account first, then the role, and then the
// assumed-role user", so we deny unless every link is listed; the oracle instead exempts the caller when its
// account alone, or its own ARN alone, is listed.
const CALLER_CHAIN = '@caller-chain';
const NOT_PRINCIPALS = [
  { AWS: `arn:aws:iam::${ACCT}:user/alice` },
  { AWS: FOREIGN },
  { AWS: [`arn:aws:iam::${FOREIGN}:user/eve`, `arn:aws:iam::${FOREIGN}:root`] },
  { AWS: CALLER_CHAIN },
];

/** Replaces the caller-chain placeholder with the ARNs of the scenario's caller. */
function withCallerChain(doc: PolicyDocument | undefined, caller: Scenario['caller']): PolicyDocument | undefined {
  if (!doc) return doc;
  const chain = caller === 'session' ? [SESSION, ROLE, `arn:aws:iam::${ACCT}:root`] : [BOB, `arn:aws:iam::${ACCT}:root`];
  return JSON.parse(JSON.stringify(doc).replaceAll(JSON.stringify(CALLER_CHAIN), JSON.stringify(chain))) as PolicyDocument;
}

const resourceStatement: fc.Arbitrary<Statement> = fc
  .record({
    effect: fc.constantFrom<'Allow' | 'Deny'>('Allow', 'Allow', 'Deny'),
    principal: pick(PRINCIPALS),
    notPrincipal: fc.option(pick(NOT_PRINCIPALS), { nil: undefined, freq: 4 }),
    actions: someOf(ACTION_PATTERNS),
    resources: fc.option(someOf(RESOURCE_PATTERNS_ANYWHERE), { nil: undefined }),
    condition,
  })
  .map((r) => {
    // NotPrincipal with Allow grants to everyone else, including anonymous callers: only Deny uses it.
    const st: Statement =
      r.notPrincipal && r.effect === 'Deny'
        ? { Effect: r.effect, NotPrincipal: structuredClone(r.notPrincipal), Action: one(r.actions) }
        : { Effect: r.effect, Principal: structuredClone(r.principal) as Statement['Principal'], Action: one(r.actions) };
    if (r.resources) st.Resource = one(r.resources);
    if (r.condition) st.Condition = r.condition;
    return st;
  });

const resourcePolicy = fc.array(resourceStatement, { minLength: 1, maxLength: 3 }).map((s): PolicyDocument => ({ Version: '2012-10-17', Statement: s }));

const ORACLE = { Allowed: 'Allow', ExplicitlyDenied: 'ExplicitDeny', ImplicitlyDenied: 'ImplicitDeny' } as const;

interface Scenario {
  /** The caller: user bob, or a session of role app. */
  caller?: 'user' | 'session';
  action: string;
  resource: string;
  context: Record<string, string | string[]>;
  identity: PolicyDocument[];
  boundary?: PolicyDocument;
  resourcePolicy?: PolicyDocument;
  resourceAccount: string;
}

function ours(s: Scenario): string {
  const req: AuthzRequest = {
    action: s.action,
    resource: s.resource,
    principal: s.caller === 'session' ? { arn: SESSION, account: ACCT, alternateArns: [ROLE], type: 'AssumedRole' } : { arn: BOB, account: ACCT, type: 'IAMUser' },
    context: s.context,
    resourceAccount: s.resourceAccount,
  };
  const set: PolicySet = { identity: s.identity.map((document, i) => ({ source: `p${i}`, document })) };
  if (s.boundary) set.boundary = { source: 'pb', document: s.boundary };
  if (s.resourcePolicy) set.resource = { source: 'rp', document: s.resourcePolicy, account: s.resourceAccount };
  return evaluate(req, set).decision;
}

async function oracle(s: Scenario): Promise<string> {
  const response = await runSimulation(
    {
      request: {
        principal: s.caller === 'session' ? SESSION : BOB,
        action: s.action,
        resource: { resource: s.resource, accountId: s.resourceAccount },
        // The oracle does not derive principal keys; we do, so give it the same aws:username.
        contextVariables: { 'aws:username': 'bob', ...s.context },
      },
      identityPolicies: s.identity.map((policy, i) => ({ name: `p${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(s.boundary ? { permissionBoundaryPolicies: [{ name: 'pb', policy: s.boundary }] } : {}),
      ...(s.resourcePolicy ? { resourcePolicy: s.resourcePolicy } : {}),
    },
    {},
  );
  if (response.resultType === 'error') throw new Error(`the oracle refused the scenario: ${JSON.stringify(response.errors)}`);
  return ORACLE[response.overallResult];
}

// POLICY_DIFF_RUNS raises the number of runs for a deeper local search.
const NUM_RUNS = Number(process.env.POLICY_DIFF_RUNS ?? 300);
const request = pick(REQUESTS).map(([action, resource]) => ({ action, resource }));

describe('differential against @cloud-copilot/iam-simulate', () => {
  it('identity policies with an optional permissions boundary', async () => {
    const scenario = fc.record({
      request,
      context,
      identity: fc.array(policy, { minLength: 1, maxLength: 2 }),
      boundary: fc.option(policy, { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(scenario, async ({ request: r, ...s }) => {
        const full: Scenario = { ...r, ...s, resourceAccount: ACCT };
        expect(ours(full)).toBe(await oracle(full));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('identity and resource policies, same account and cross-account', async () => {
    const scenario = fc.record({
      request,
      context,
      identity: fc.array(policy, { maxLength: 2 }),
      boundary: fc.option(policy, { nil: undefined, freq: 3 }),
      resourcePolicy,
      resourceAccount: pick([ACCT, ACCT, FOREIGN]),
      caller: pick(['user', 'session'] as const),
    });
    await fc.assert(
      fc.asyncProperty(scenario, async ({ request: r, ...s }) => {
        const full: Scenario = { ...r, ...s, resourcePolicy: withCallerChain(s.resourcePolicy, s.caller) };
        expect(ours(full)).toBe(await oracle(full));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('produces allows and explicit denies often enough to be meaningful', () => {
    // Guards the generators: a suite where everything is implicitly denied would compare nothing.
    const scenarios = {
      identity: fc.record({ request, context, identity: fc.array(policy, { minLength: 1, maxLength: 2 }) }).map(
        ({ request: r, ...s }): Scenario => ({ ...r, ...s, resourceAccount: ACCT }),
      ),
      resource: fc.record({ request, context, resourcePolicy, resourceAccount: pick([ACCT, FOREIGN]), identity: fc.array(policy, { maxLength: 2 }) }).map(
        ({ request: r, ...s }): Scenario => ({ ...r, ...s, resourcePolicy: withCallerChain(s.resourcePolicy, 'user') }),
      ),
    };
    for (const arbitrary of Object.values(scenarios)) {
      const counts: Record<string, number> = { Allow: 0, ExplicitDeny: 0, ImplicitDeny: 0 };
      for (const s of fc.sample(arbitrary, { numRuns: NUM_RUNS, seed: 1 })) counts[ours(s)]!++;
      expect(counts.Allow).toBeGreaterThan(NUM_RUNS / 20);
      expect(counts.ExplicitDeny).toBeGreaterThan(NUM_RUNS / 20);
    }
  });
});
