// AWS policy evaluation for one request: identity, permissions boundary, session and resource policies.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
import { conditionsMatch } from './conditions.ts';
import { actionMatches, wildcardMatch, type Context } from './patterns.ts';
import type {
  AuthzRequest,
  Decision,
  MatchedStatement,
  PolicySet,
  PrincipalBlock,
  RequestPrincipal,
  SourcedPolicy,
  Statement,
} from './types.ts';

export { validatePolicyDocument } from './validate.ts';

type PolicyType = NonNullable<MatchedStatement['policyType']>;

/**
 * How a resource policy's Principal names the caller. It decides which implicit denies still apply:
 * - direct: the caller's own ARN (user, role session, federated user) or "*": not limited by identity
 *   policies, boundary or session policy in the same account;
 * - parent: the role ARN of a role session (or the IAM user behind a federated user): limited by the
 *   boundary and session policy;
 * - account: the account (id or root ARN): delegates to the account's identity policies, grants nothing itself.
 */
type PrincipalMatch = 'direct' | 'parent' | 'account';

interface Hit {
  statement: MatchedStatement;
  via?: PrincipalMatch;
}

interface Scan {
  allows: Hit[];
  denies: Hit[];
}

interface Run {
  req: AuthzRequest;
  ctx: Context;
  hasBoundary: boolean;
  matched: MatchedStatement[];
  unknownOperators: string[];
}

const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

const ROOT_ARN = /^arn:[^:]+:iam::(\d{12}):root$/;

function isAccountRef(value: string, account: string): boolean {
  return value === account || ROOT_ARN.exec(value)?.[1] === account;
}

function rootArn(p: RequestPrincipal): string {
  const partition = /^arn:([^:]+):/.exec(p.arn)?.[1] ?? 'aws';
  return `arn:${partition}:iam::${p.account}:root`;
}

/** How one Principal entry ("AWS": "...", "Service": "...") names the caller, if it does. */
function entryMatch(type: string, value: string, p: RequestPrincipal): PrincipalMatch | undefined {
  if (value === '*') return 'direct';
  if (type === 'Service') return p.type === 'AWSService' && value.toLowerCase() === p.arn.toLowerCase() ? 'direct' : undefined;
  if (p.type === 'AWSService') return undefined;
  if (value === p.arn) return 'direct';
  if (p.alternateArns?.includes(value)) return 'parent';
  if (type === 'AWS' && isAccountRef(value, p.account)) return p.type === 'Root' ? 'direct' : 'account';
  return undefined;
}

const STRENGTH: Record<PrincipalMatch, number> = { account: 1, parent: 2, direct: 3 };

function principalMatch(block: PrincipalBlock, p: RequestPrincipal): PrincipalMatch | undefined {
  if (block === '*') return 'direct';
  let best: PrincipalMatch | undefined;
  for (const [type, values] of Object.entries(block)) {
    for (const value of asList(values)) {
      const m = typeof value === 'string' ? entryMatch(type, value, p) : undefined;
      if (m && (!best || STRENGTH[m] > STRENGTH[best])) best = m;
    }
  }
  return best;
}

/**
 * NotPrincipal. AWS may check the account, then the role, then the session, so a Deny applies unless
 * every link of that chain is listed (reference_policies_elements_notprincipal.html); an Allow applies only
 * when none is listed.
 */
function notPrincipalApplies(block: PrincipalBlock, st: Statement, run: Run): PrincipalMatch | undefined {
  const p = run.req.principal;
  // "The NotPrincipal element with a Deny effect will always deny any IAM principal that has a
  // permissions boundary policy attached" (access_policies_boundaries.html).
  if (st.Effect === 'Deny' && run.hasBoundary) return 'direct';
  const root = rootArn(p);
  const chain = p.type === 'AWSService' ? [p.arn] : [...new Set([root, ...(p.alternateArns ?? []), p.arn])];
  const listed = (arn: string) =>
    block === '*' ||
    Object.entries(block).some(([type, values]) =>
      asList(values).some(
        (v) =>
          typeof v === 'string' &&
          (v === '*' ||
            (type === 'Service' ? v.toLowerCase() === arn.toLowerCase() : v === arn) ||
            (type === 'AWS' && arn === root && isAccountRef(v, p.account))),
      ),
    );
  if (st.Effect === 'Deny') return chain.some((arn) => !listed(arn)) ? 'direct' : undefined;
  return chain.every((arn) => !listed(arn)) ? 'direct' : undefined;
}

function resourceMatches(pattern: string, resource: string, run: Run, variables: boolean): boolean {
  // Actions without resource-level permissions are requested on "*", which only "*" grants.
  if (resource === '*') return /^\*+$/.test(pattern);
  return wildcardMatch(pattern, resource, 'resource', run.ctx, variables);
}

/** Whether a statement applies to the request, and for resource policies how it names the caller. */
function applies(st: Statement, type: PolicyType, run: Run, variables: boolean): { via?: PrincipalMatch } | undefined {
  if (st === null || typeof st !== 'object' || (st.Effect !== 'Allow' && st.Effect !== 'Deny')) return undefined;
  const { action, resource } = run.req;
  // Statements that validation refuses (both or neither of a pair) never apply.
  if ((st.Action === undefined) === (st.NotAction === undefined)) return undefined;
  const actionHit = asList(st.Action ?? st.NotAction).some((a) => typeof a === 'string' && actionMatches(a, action));
  if (actionHit !== (st.Action !== undefined)) return undefined;

  if (st.Resource !== undefined && st.NotResource !== undefined) return undefined;
  if (st.Resource !== undefined || st.NotResource !== undefined) {
    const hit = asList(st.Resource ?? st.NotResource).some(
      (r) => typeof r === 'string' && resourceMatches(r, resource, run, variables),
    );
    if (hit !== (st.Resource !== undefined)) return undefined;
  } else if (type !== 'resource') {
    return undefined; // a resource policy's statements apply to its resource; others must name one
  }

  let via: PrincipalMatch | undefined;
  if (type === 'resource') {
    if ((st.Principal === undefined) === (st.NotPrincipal === undefined)) return undefined;
    via =
      st.Principal !== undefined
        ? principalMatch(st.Principal, run.req.principal)
        : notPrincipalApplies(st.NotPrincipal!, st, run);
    if (!via) return undefined;
  }

  if (!conditionsMatch(st.Condition, run.ctx, variables, run.unknownOperators)) return undefined;
  return { via };
}

function scan(policies: SourcedPolicy[], type: PolicyType, run: Run): Scan {
  const out: Scan = { allows: [], denies: [] };
  for (const policy of policies) {
    const doc = policy.document;
    if (!doc || typeof doc !== 'object') continue;
    // Policy variables exist only from language version 2012-10-17; before, "${...}" is literal text.
    const variables = doc.Version === '2012-10-17';
    for (const st of asList(doc.Statement)) {
      const hit = applies(st, type, run, variables);
      if (!hit) continue;
      const statement: MatchedStatement = { source: policy.source, effect: st.Effect, policyType: type };
      if (typeof st.Sid === 'string' && st.Sid) statement.sid = st.Sid;
      run.matched.push(statement);
      (st.Effect === 'Deny' ? out.denies : out.allows).push({ statement, via: hit.via });
    }
  }
  return out;
}

const label = (s: MatchedStatement) => s.source + (s.sid ? ` (Sid ${s.sid})` : '');

const PRINCIPAL_TYPE: Record<RequestPrincipal['type'], string | undefined> = {
  Root: 'Account',
  IAMUser: 'User',
  AssumedRole: 'AssumedRole',
  FederatedUser: 'FederatedUser',
  AWSService: undefined,
};

/** Condition context with lower-cased keys, plus the principal keys AWS always supplies when the caller did not. */
function buildContext(req: AuthzRequest): Context {
  const ctx = new Map<string, string | string[]>();
  for (const [k, v] of Object.entries(req.context)) if (v !== undefined) ctx.set(k.toLowerCase(), v);
  const p = req.principal;
  const defaults: [string, string | undefined][] = [
    ['aws:principalaccount', p.account],
    ['aws:principalarn', p.type === 'AssumedRole' ? (p.alternateArns?.find((a) => a.includes(':role/')) ?? p.arn) : p.arn],
    ['aws:principaltype', PRINCIPAL_TYPE[p.type]],
    ['aws:username', p.type === 'IAMUser' ? p.arn.slice(p.arn.lastIndexOf('/') + 1) : undefined],
  ];
  for (const [k, v] of defaults) if (v !== undefined && !ctx.has(k)) ctx.set(k, v);
  return ctx;
}

function accountOfArn(arn: string): string | undefined {
  const account = arn.split(':')[4];
  return account && /^\d{12}$/.test(account) ? account : undefined;
}

/**
 * A VPC endpoint policy for a request that goes through the endpoint: it grants nothing by itself and
 * must allow the request as well (explicit deny wins; no allowing statement denies). Its Principal
 * names who may use the endpoint: "*", an account (any of its principals) or a principal's ARN.
 * (AWS PrivateLink, "Control access to VPC endpoints using endpoint policies".)
 */
export function evaluateEndpointPolicy(req: AuthzRequest, policy: SourcedPolicy): Decision {
  const run: Run = { req, ctx: buildContext(req), hasBoundary: false, matched: [], unknownOperators: [] };
  const found = scan([policy], 'resource', run);
  const decide = (decision: Decision['decision'], reason: string): Decision => {
    const d: Decision = { decision, matched: run.matched, reason };
    if (run.unknownOperators.length) d.unknownOperators = run.unknownOperators;
    return d;
  };
  if (found.denies[0]) return decide('ExplicitDeny', `explicitly denied by ${label(found.denies[0].statement)}`);
  if (found.allows[0]) return decide('Allow', `allowed by ${label(found.allows[0].statement)}`);
  return decide('ImplicitDeny', `${policy.source} does not allow ${req.action} on ${req.resource}`);
}

/** Evaluates one request against the policies that apply to it, the way AWS does within and across accounts. */
export function evaluate(req: AuthzRequest, set: PolicySet): Decision {
  const p = req.principal;
  const run: Run = { req, ctx: buildContext(req), hasBoundary: !!set.boundary, matched: [], unknownOperators: [] };
  // The root user has no identity policies, boundary or session policy.
  const isPrincipalWithPolicies = p.type !== 'Root' && p.type !== 'AWSService';
  const none: Scan = { allows: [], denies: [] };
  const identity = isPrincipalWithPolicies ? scan(set.identity, 'identity', run) : none;
  const boundary = isPrincipalWithPolicies && set.boundary ? scan([set.boundary], 'boundary', run) : none;
  const session = isPrincipalWithPolicies && set.session?.length ? scan(set.session, 'session', run) : none;
  const resource = set.resource ? scan([set.resource], 'resource', run) : none;
  // SCPs limit every principal of a member account, its root user included, but not service principals.
  const scpLevels = p.type !== 'AWSService' && set.scp ? set.scp.map((level) => scan(level, 'scp', run)) : [];
  const scpDeny = scpLevels.find((l) => l.denies.length)?.denies[0];
  const scpMissing = set.scp?.[scpLevels.findIndex((l) => !l.allows.length)];

  const decide = (decision: Decision['decision'], reason: string): Decision => {
    const d: Decision = { decision, matched: run.matched, reason };
    if (run.unknownOperators.length) d.unknownOperators = run.unknownOperators;
    return d;
  };

  // 1. An explicit deny in any policy wins.
  const deny = scpDeny ?? identity.denies[0] ?? boundary.denies[0] ?? session.denies[0] ?? resource.denies[0];
  if (deny) return decide('ExplicitDeny', `explicitly denied by ${label(deny.statement)}`);
  // 1b. Every level of the organization from the root to the account must allow it in an SCP.
  if (scpMissing) {
    const where = scpMissing.map((s) => s.source).join(', ') || 'an organization level without any SCP';
    return decide('ImplicitDeny', `no service control policy allows ${req.action} on ${req.resource} (${where})`);
  }

  const resourceAccount = req.resourceAccount ?? set.resource?.account ?? accountOfArn(req.resource) ?? p.account;
  const sameAccount = resourceAccount === p.account;
  const what = `${req.action} on ${req.resource}`;
  const byResource = (via: PrincipalMatch) => resource.allows.find((h) => h.via === via);
  const anyResourceAllow = resource.allows[0];
  const keyPolicy = set.resource?.mustAllow ? set.resource : undefined;

  // 2. The root user and AWS service principals.
  if (p.type === 'Root') {
    if (!sameAccount || keyPolicy) {
      if (anyResourceAllow) return decide('Allow', `allowed by ${label(anyResourceAllow.statement)}`);
      return decide(
        'ImplicitDeny',
        keyPolicy
          ? `the key policy ${keyPolicy.source} does not allow the account root user`
          : `cross-account request: no resource policy of account ${resourceAccount} allows ${what}`,
      );
    }
    return decide('Allow', 'the account root user has full access to its own account');
  }
  if (p.type === 'AWSService') {
    const hit = byResource('direct');
    if (hit) return decide('Allow', `allowed by ${label(hit.statement)}`);
    return decide('ImplicitDeny', `no resource policy allows service principal ${p.arn} to perform ${what}`);
  }

  // 3. Users, role sessions and federated users.
  const identityAllow = identity.allows[0];
  const boundaryOk = !set.boundary || boundary.allows.length > 0;
  // A federated user (GetFederationToken) gets its permissions only through a session policy.
  const sessionOk = set.session?.length ? session.allows.length > 0 : p.type !== 'FederatedUser';
  const limitsOk = boundaryOk && sessionOk;
  const direct = byResource('direct');
  const parent = byResource('parent');
  const account = byResource('account');

  if (sameAccount) {
    // A resource policy naming the caller itself is not limited by implicit denies elsewhere.
    if (direct) return decide('Allow', `allowed by ${label(direct.statement)}`);
    if (parent && limitsOk) return decide('Allow', `allowed by ${label(parent.statement)}`);
    if (identityAllow && limitsOk && (!keyPolicy || account)) {
      return decide('Allow', `allowed by ${label(identityAllow.statement)}`);
    }
  } else if (anyResourceAllow && identityAllow && limitsOk) {
    return decide('Allow', `allowed by ${label(identityAllow.statement)} and ${label(anyResourceAllow.statement)}`);
  }

  // 4. Implicit deny: say which policy was missing an allow.
  let reason = `no policy allows ${what}`;
  const granted = identityAllow ?? parent;
  if (granted && !boundaryOk) {
    reason = `allowed by ${label(granted.statement)} but not by the permissions boundary ${set.boundary!.source}`;
  } else if (granted && !sessionOk) {
    reason = set.session?.length
      ? `allowed by ${label(granted.statement)} but not by the session policy`
      : `a federated user session without a session policy has no permissions`;
  } else if (keyPolicy && identityAllow) {
    reason = `allowed by ${label(identityAllow.statement)} but the key policy ${keyPolicy.source} neither allows this principal nor delegates to the account`;
  } else if (!sameAccount && identityAllow) {
    reason = `cross-account request: allowed by ${label(identityAllow.statement)} but no resource policy of account ${resourceAccount} allows it`;
  } else if (!sameAccount && anyResourceAllow) {
    reason = `cross-account request: allowed by ${label(anyResourceAllow.statement)} but not by the caller's identity policies`;
  } else if (account) {
    reason = `${label(account.statement)} delegates to the account, but no identity policy allows ${what}`;
  }
  return decide('ImplicitDeny', reason);
}
