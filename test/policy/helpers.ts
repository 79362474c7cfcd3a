// Small builders for policy-evaluation tests.
import { evaluate } from '../../src/cloud/policy/evaluate.ts';
import type {
  Decision,
  PolicyDocument,
  PolicySet,
  RequestPrincipal,
  Statement,
} from '../../src/cloud/policy/types.ts';

export const ACCT = '111122223333';
export const OTHER = '444455556666';

export const user = (name: string, account = ACCT): RequestPrincipal => ({
  arn: `arn:aws:iam::${account}:user/${name}`,
  account,
  type: 'IAMUser',
});

export const roleSession = (role: string, session: string, account = ACCT): RequestPrincipal => ({
  arn: `arn:aws:sts::${account}:assumed-role/${role}/${session}`,
  account,
  alternateArns: [`arn:aws:iam::${account}:role/${role}`],
  type: 'AssumedRole',
});

export const federatedUser = (name: string, viaUser: string, account = ACCT): RequestPrincipal => ({
  arn: `arn:aws:sts::${account}:federated-user/${name}`,
  account,
  alternateArns: [`arn:aws:iam::${account}:user/${viaUser}`],
  type: 'FederatedUser',
});

export const root = (account = ACCT): RequestPrincipal => ({ arn: `arn:aws:iam::${account}:root`, account, type: 'Root' });

export const service = (name: string): RequestPrincipal => ({ arn: name, account: '', type: 'AWSService' });

export const doc = (...statements: Statement[]): PolicyDocument => ({ Version: '2012-10-17', Statement: statements });

export interface Case {
  action: string;
  resource: string;
  principal?: RequestPrincipal;
  context?: Record<string, string | string[] | undefined>;
  /** Identity policies, each named "identity policy <index>" unless given as [source, document]. */
  identity?: (PolicyDocument | [string, PolicyDocument])[];
  boundary?: PolicyDocument;
  session?: PolicyDocument[];
  resourcePolicy?: PolicyDocument;
  resourceAccount?: string;
  mustAllow?: boolean;
}

export function check(c: Case): Decision {
  const principal = c.principal ?? user('bob');
  const set: PolicySet = {
    identity: (c.identity ?? []).map((p, i) =>
      Array.isArray(p) ? { source: p[0], document: p[1] } : { source: `identity policy ${i + 1}`, document: p },
    ),
  };
  if (c.boundary) set.boundary = { source: 'permissions boundary', document: c.boundary };
  if (c.session) set.session = c.session.map((document, i) => ({ source: `session policy ${i + 1}`, document }));
  if (c.resourcePolicy) {
    set.resource = {
      source: 'resource policy',
      document: c.resourcePolicy,
      account: c.resourceAccount ?? ACCT,
      ...(c.mustAllow ? { mustAllow: true } : {}),
    };
  }
  return evaluate(
    {
      action: c.action,
      resource: c.resource,
      principal,
      context: c.context ?? {},
      ...(c.resourceAccount && !c.resourcePolicy ? { resourceAccount: c.resourceAccount } : {}),
    },
    set,
  );
}

export const decision = (c: Case) => check(c).decision;
