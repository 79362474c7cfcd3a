// What the gateway's authorizer needs to know about AWS Organizations, read from the target (moto keeps
// organizations, accounts, OUs and policies): which organization an account belongs to, its path
// from the root, and the service control policies (SCPs) that apply at each level of that path.
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
import type { Upstream } from '../../gateway/upstream.ts';
import { FORWARD_MARKER } from '../../gateway/protocol/wire.ts';
import type { PolicyDocument, SourcedPolicy } from '../../policy/types.ts';

export interface OrgMembership {
  orgId: string;
  managementAccount: string;
  rootId: string;
  /** aws:PrincipalOrgPaths / aws:ResourceOrgPaths: o-xxx/r-xxx/ou-xxx/.../ */
  orgPath: string;
  /**
   * The SCPs of each level from the root to the account itself (every level must allow an action,
   * a deny at any level denies it); undefined when SCPs do not apply: the management account, or
   * an organization without the SERVICE_CONTROL_POLICY type enabled on its root.
   */
  scpLevels?: SourcedPolicy[][];
}

export class OrgError extends Error {
  constructor(readonly code: string, message: string, readonly status = 400) {
    super(message);
  }
}

/** One Organizations call to the target as an account's root (the gateway's own read; nothing recorded). */
export async function orgCall<T>(upstream: Upstream, account: string, operation: string, params: object = {}): Promise<T> {
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const res = await upstream.forward(account, {
    method: 'POST',
    url: `/?${FORWARD_MARKER}`,
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSOrganizationsV20161128.${operation}`,
      'x-amz-date': amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=AKIASECLABGATEWAY000/${amzDate.slice(0, 8)}/us-east-1/organizations/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
    },
    body: Buffer.from(JSON.stringify(params)),
  });
  const text = res.body.toString('utf8');
  if (res.status >= 300) {
    const code = /"__type"\s*:\s*"(?:[^"#]*#)?([^"]+)"/.exec(text)?.[1] ?? String(res.status);
    const message = /"[Mm]essage"\s*:\s*"([^"]*)"/.exec(text)?.[1] ?? '';
    throw new OrgError(code, message, res.status);
  }
  return (text ? JSON.parse(text) : {}) as T;
}

interface Described { Organization?: { Id?: string; MasterAccountId?: string } }

export class OrgDirectory {
  private cache = new Map<string, Promise<OrgMembership | undefined>>();

  constructor(private readonly upstream: Upstream) {}

  /** Any change to organizations, OUs, accounts or policies: read everything again. */
  invalidate(): void {
    this.cache.clear();
  }

  /** The organization an account belongs to (and the SCPs that limit its principals), if any. */
  membership(account: string): Promise<OrgMembership | undefined> {
    let p = this.cache.get(account);
    if (!p) {
      p = this.read(account);
      this.cache.set(account, p);
      // A failed read is not remembered: the next request asks again (and fails closed meanwhile).
      p.catch(() => this.cache.delete(account));
    }
    return p;
  }

  private async read(account: string): Promise<OrgMembership | undefined> {
    let org: Described['Organization'];
    try {
      org = (await orgCall<Described>(this.upstream, account, 'DescribeOrganization')).Organization;
    } catch (e) {
      if (e instanceof OrgError && e.code === 'AWSOrganizationsNotInUseException') return undefined;
      throw e;
    }
    if (!org?.Id || !org.MasterAccountId) return undefined;
    const mgmt = org.MasterAccountId;
    const roots = (await orgCall<{ Roots?: { Id: string; PolicyTypes?: { Type: string; Status: string }[] }[] }>(this.upstream, mgmt, 'ListRoots')).Roots ?? [];
    const root = roots[0];
    if (!root) return undefined;
    // The path from the account up to the root.
    const chain: string[] = [account];
    for (let id = account, hops = 0; hops < 10; hops++) {
      const parents = (await orgCall<{ Parents?: { Id: string; Type: string }[] }>(this.upstream, mgmt, 'ListParents', { ChildId: id })).Parents ?? [];
      const parent = parents[0];
      if (!parent) break;
      chain.unshift(parent.Id);
      if (parent.Type === 'ROOT') break;
      id = parent.Id;
    }
    const ous = chain.slice(0, -1);
    const membership: OrgMembership = { orgId: org.Id, managementAccount: mgmt, rootId: root.Id, orgPath: `${org.Id}/${ous.join('/')}/` };
    const scpEnabled = (root.PolicyTypes ?? []).some((t) => t.Type === 'SERVICE_CONTROL_POLICY' && t.Status === 'ENABLED');
    // "SCPs don't affect users or roles in the management account."
    if (!scpEnabled || account === mgmt) return membership;
    membership.scpLevels = [];
    for (const target of chain) {
      const summaries = (await orgCall<{ Policies?: { Id: string; Name: string }[] }>(this.upstream, mgmt, 'ListPoliciesForTarget', { TargetId: target, Filter: 'SERVICE_CONTROL_POLICY' })).Policies ?? [];
      const level: SourcedPolicy[] = [];
      for (const s of summaries) {
        const content = (await orgCall<{ Policy?: { Content?: string } }>(this.upstream, mgmt, 'DescribePolicy', { PolicyId: s.Id })).Policy?.Content;
        let document: PolicyDocument = { Statement: [] };
        try {
          if (content) document = JSON.parse(content) as PolicyDocument;
        } catch {
          // CreatePolicy validated it; an unreadable document allows nothing.
        }
        level.push({ source: `SCP ${s.Name} attached to ${target}`, document });
      }
      membership.scpLevels.push(level);
    }
    return membership;
  }
}
