// SimulatePrincipalPolicy answered by the same evaluator that authorizes real calls (moto lacks it).
import type { PolicyStore } from './policy-store.ts';
import { ApiError } from '../../gateway/api-error.ts';
import { evaluate } from '../../policy/evaluate.ts';
import { parsePolicyText } from './policy-store.ts';
import type { AuthzRequest, PolicySet, RequestPrincipal } from '../../policy/types.ts';

export interface SimulateInput {
  PolicySourceArn?: string;
  ActionNames?: string[];
  ResourceArns?: string[];
  ResourcePolicy?: string;
  PolicyInputList?: string[];
  PermissionsBoundaryPolicyInputList?: string[];
  ContextEntries?: { ContextKeyName?: string; ContextKeyValues?: string[]; ContextKeyType?: string }[];
}

const esc = (s: string): string => s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);


/** Returns the <EvaluationResults> XML of SimulatePrincipalPolicyResult. */
export async function simulatePrincipalPolicy(iam: { policies: PolicyStore }, account: string, input: SimulateInput): Promise<string> {
  const source = input.PolicySourceArn ?? '';
  const m = /^arn:aws:iam::(\d{12}):(user|group|role)\/(?:.*\/)?([^/]+)$/.exec(source);
  if (!m) throw new ApiError(400, 'InvalidInput', `Invalid ARN: ${source}`);
  const [, acct, kind, name] = m as unknown as [string, string, 'user' | 'group' | 'role', string];
  const set: PolicySet | undefined = kind === 'user' ? await iam.policies.forUser(acct, name) : kind === 'role' ? await iam.policies.forRole(acct, name) : await iam.policies.forGroup(acct, name);
  if (!set) throw new ApiError(404, 'NoSuchEntity', `The ${kind} with name ${name} cannot be found.`);
  for (const [i, text] of (input.PolicyInputList ?? []).entries()) set.identity.push({ source: `PolicyInputList.${i + 1}`, document: parsePolicyText(text) });
  const principal: RequestPrincipal = kind === 'role'
    ? { arn: source, account: acct, type: 'AssumedRole', alternateArns: [source] }
    : { arn: source, account: acct, type: 'IAMUser' };
  const context: AuthzRequest['context'] = { 'aws:PrincipalArn': source, 'aws:PrincipalAccount': acct };
  if (kind === 'user') context['aws:username'] = name;
  for (const e of input.ContextEntries ?? []) {
    if (!e.ContextKeyName) continue;
    const values = e.ContextKeyValues ?? [];
    context[e.ContextKeyName] = e.ContextKeyType?.endsWith('List') ? values : values[0];
  }
  const resources = input.ResourceArns?.length ? input.ResourceArns : ['*'];
  let out = '<IsTruncated>false</IsTruncated><EvaluationResults>';
  for (const action of input.ActionNames ?? []) {
    for (const resource of resources) {
      const resourcePolicy = input.ResourcePolicy
        ? { source: 'ResourcePolicy', document: parsePolicyText(input.ResourcePolicy), account: acct }
        : undefined;
      const d = evaluate({ action, resource, principal, context }, { ...set, ...(resourcePolicy ? { resource: resourcePolicy } : {}) });
      const decision = d.decision === 'Allow' ? 'allowed' : d.decision === 'ExplicitDeny' ? 'explicitDeny' : 'implicitDeny';
      const matched = d.matched
        .filter((s) => (d.decision === 'Allow' ? s.effect === 'Allow' : d.decision === 'ExplicitDeny' ? s.effect === 'Deny' : false))
        .map((s) => `<member><SourcePolicyId>${esc(s.source)}</SourcePolicyId><SourcePolicyType>user</SourcePolicyType></member>`)
        .join('');
      out += `<member><EvalActionName>${esc(action)}</EvalActionName><EvalResourceName>${esc(resource)}</EvalResourceName><EvalDecision>${decision}</EvalDecision><MatchedStatements>${matched}</MatchedStatements><MissingContextValues/></member>`;
    }
  }
  return `${out}</EvaluationResults>`;
}
