// Reads the policies that apply to a principal from the upstream emulator and caches them per account
// until the next IAM change there. Permission boundaries of users are kept here: moto 5.2 does not
// implement PutUserPermissionsBoundary, so the gateway serves it (role boundaries moto does keep).
import type { PolicyDocument, PolicySet, SourcedPolicy } from '../../policy/types.ts';
import type { Upstream } from '../../gateway/upstream.ts';

interface ManagedRef { PolicyName?: string; PolicyArn?: string }
interface InlineRef { PolicyName?: string; PolicyDocument?: string }
interface UserDetail { UserName: string; UserId: string; Arn: string; UserPolicyList?: InlineRef[]; GroupList?: string[]; AttachedManagedPolicies?: ManagedRef[] }
interface GroupDetail { GroupName: string; Arn: string; GroupPolicyList?: InlineRef[]; AttachedManagedPolicies?: ManagedRef[] }
interface RoleDetail { RoleName: string; RoleId: string; Arn: string; RolePolicyList?: InlineRef[]; AttachedManagedPolicies?: ManagedRef[]; PermissionsBoundary?: { PermissionsBoundaryArn?: string }; AssumeRolePolicyDocument?: string }
interface PolicyDetail { Arn: string; DefaultVersionId?: string; PolicyVersionList?: { Document?: string; VersionId?: string; IsDefaultVersion?: boolean }[] }

export interface AccountDetails {
  users: Map<string, UserDetail>;
  groups: Map<string, GroupDetail>;
  roles: Map<string, RoleDetail>;
  /** Customer managed policies by ARN: default version document. */
  managed: Map<string, PolicyDocument>;
  /** Policy sets already assembled for principals (this object is replaced on every IAM change). */
  sets: Map<string, Promise<PolicySet | undefined>>;
  /** Parsed inline documents by their text, so each is parsed (and compiled by the evaluator) once. */
  parsed: Map<string, PolicyDocument>;
}

/** IAM returns policy documents URL-encoded; moto does too. */
export function parsePolicyText(text: string): PolicyDocument {
  let t = text.trim();
  if (t.startsWith('%7B') || t.startsWith('%7b')) t = decodeURIComponent(t);
  return JSON.parse(t) as PolicyDocument;
}

export class PolicyStore {
  private details = new Map<string, Promise<AccountDetails>>();
  private awsManaged = new Map<string, Promise<PolicyDocument | undefined>>();
  private bucketPolicies = new Map<string, Promise<PolicyDocument | undefined>>();
  private keyPolicies = new Map<string, Promise<PolicyDocument | undefined>>();
  private topicPolicies = new Map<string, Promise<PolicyDocument | undefined>>();
  /** account -> user name -> boundary policy ARN */
  private userBoundaries = new Map<string, Map<string, string>>();

  constructor(private readonly upstream: Upstream) {}

  invalidate(account: string): void {
    this.details.delete(account);
  }

  invalidateBucket(account: string, bucket: string): void {
    this.bucketPolicies.delete(`${account}|${bucket}`);
  }

  invalidateTopic(account: string, topicArn: string): void {
    this.topicPolicies.delete(`${account}|${topicArn}`);
  }

  /** SNS topic policies (the default one lets the owning account publish and subscribe). */
  topicPolicy(account: string, region: string, topicArn: string): Promise<PolicyDocument | undefined> {
    const k = `${account}|${topicArn}`;
    let p = this.topicPolicies.get(k);
    if (!p) {
      p = this.upstream
        .json<{ Attributes?: { Policy?: string } }>(account, 'sns', 'GetTopicAttributes', { TopicArn: topicArn }, region)
        .then((r) => (r.Attributes?.Policy ? parsePolicyText(r.Attributes.Policy) : undefined), () => undefined);
      this.topicPolicies.set(k, p);
    }
    return p;
  }

  /** keyId may be an id, a key ARN or an alias: any change to a key policy drops the account's cache. */
  invalidateKey(account: string, _keyId: string): void {
    for (const k of this.keyPolicies.keys()) if (k.startsWith(`${account}|`)) this.keyPolicies.delete(k);
  }

  dropAccount(account: string): void {
    this.details.delete(account);
    this.userBoundaries.delete(account);
    for (const m of [this.bucketPolicies, this.keyPolicies, this.topicPolicies]) for (const k of m.keys()) if (k.startsWith(`${account}|`)) m.delete(k);
  }

  setUserBoundary(account: string, userName: string, policyArn: string | undefined): void {
    let m = this.userBoundaries.get(account);
    if (!m) this.userBoundaries.set(account, (m = new Map()));
    if (policyArn) m.set(userName, policyArn);
    else m.delete(userName);
    this.invalidate(account);
  }

  userBoundary(account: string, userName: string): string | undefined {
    return this.userBoundaries.get(account)?.get(userName);
  }

  account(account: string): Promise<AccountDetails> {
    let p = this.details.get(account);
    if (!p) {
      p = this.load(account);
      this.details.set(account, p);
      p.catch(() => this.details.delete(account));
    }
    return p;
  }

  private async load(account: string): Promise<AccountDetails> {
    const out: AccountDetails = { users: new Map(), groups: new Map(), roles: new Map(), managed: new Map(), sets: new Map(), parsed: new Map() };
    let marker: string | undefined;
    do {
      const page = await this.upstream.json<{
        UserDetailList?: UserDetail[]; GroupDetailList?: GroupDetail[]; RoleDetailList?: RoleDetail[]; Policies?: PolicyDetail[]; IsTruncated?: boolean; Marker?: string;
      }>(account, 'iam', 'GetAccountAuthorizationDetails', { Filter: ['User', 'Group', 'Role', 'LocalManagedPolicy'], ...(marker ? { Marker: marker } : {}) });
      for (const u of page.UserDetailList ?? []) out.users.set(u.UserName, u);
      for (const g of page.GroupDetailList ?? []) out.groups.set(g.GroupName, g);
      for (const r of page.RoleDetailList ?? []) out.roles.set(r.RoleName, r);
      for (const p of page.Policies ?? []) {
        const v = p.PolicyVersionList?.find((x) => x.IsDefaultVersion) ?? p.PolicyVersionList?.[0];
        if (v?.Document) out.managed.set(p.Arn, parsePolicyText(v.Document));
      }
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return out;
  }

  private async managedDocument(account: string, details: AccountDetails, arn: string): Promise<PolicyDocument | undefined> {
    const local = details.managed.get(arn);
    if (local) return local;
    if (!arn.startsWith('arn:aws:iam::aws:policy/')) return undefined;
    // AWS managed policies never change: cache them for every account.
    let p = this.awsManaged.get(arn);
    if (!p) {
      p = (async () => {
        const pol = await this.upstream.json<{ Policy?: { DefaultVersionId?: string } }>(account, 'iam', 'GetPolicy', { PolicyArn: arn });
        const ver = await this.upstream.json<{ PolicyVersion?: { Document?: string } }>(account, 'iam', 'GetPolicyVersion', { PolicyArn: arn, VersionId: pol.Policy?.DefaultVersionId ?? 'v1' });
        return ver.PolicyVersion?.Document ? parsePolicyText(ver.PolicyVersion.Document) : undefined;
      })();
      this.awsManaged.set(arn, p);
      p.catch(() => this.awsManaged.delete(arn));
    }
    return p;
  }

  private async collect(account: string, details: AccountDetails, label: string, inline: InlineRef[] | undefined, attached: ManagedRef[] | undefined, into: SourcedPolicy[]): Promise<void> {
    for (const i of inline ?? []) {
      if (!i.PolicyDocument) continue;
      let document = details.parsed.get(i.PolicyDocument);
      if (!document) details.parsed.set(i.PolicyDocument, (document = parsePolicyText(i.PolicyDocument)));
      into.push({ source: `${label} inline policy ${i.PolicyName}`, document });
    }
    for (const m of attached ?? []) {
      if (!m.PolicyArn) continue;
      const doc = await this.managedDocument(account, details, m.PolicyArn);
      if (doc) into.push({ source: `${label} managed policy ${m.PolicyName ?? m.PolicyArn}`, document: doc });
    }
  }

  /** Identity policies and boundary of an IAM user; undefined when the user no longer exists. */
  async forUser(account: string, userName: string): Promise<(PolicySet & { user: UserDetail }) | undefined> {
    const details = await this.account(account);
    return this.memo(details, `user/${userName}`, () => this.assembleUser(account, details, userName)) as Promise<(PolicySet & { user: UserDetail }) | undefined>;
  }

  /** Returns a copy, so callers may add policies (SimulatePrincipalPolicy's PolicyInputList). */
  private async memo(details: AccountDetails, key: string, build: () => Promise<PolicySet | undefined>): Promise<PolicySet | undefined> {
    let p = details.sets.get(key);
    if (!p) details.sets.set(key, (p = build()));
    const set = await p;
    return set && { ...set, identity: [...set.identity] };
  }

  private async assembleUser(account: string, details: AccountDetails, userName: string): Promise<(PolicySet & { user: UserDetail }) | undefined> {
    const user = details.users.get(userName);
    if (!user) return undefined;
    const identity: SourcedPolicy[] = [];
    await this.collect(account, details, `user ${userName}`, user.UserPolicyList, user.AttachedManagedPolicies, identity);
    for (const g of user.GroupList ?? []) {
      const group = details.groups.get(g);
      if (group) await this.collect(account, details, `group ${g}`, group.GroupPolicyList, group.AttachedManagedPolicies, identity);
    }
    const boundaryArn = this.userBoundary(account, userName);
    const boundaryDoc = boundaryArn ? await this.managedDocument(account, details, boundaryArn) : undefined;
    return {
      user, identity,
      ...(boundaryArn ? { boundary: { source: `permissions boundary ${boundaryArn}`, document: boundaryDoc ?? { Statement: [] } } } : {}),
    };
  }

  async forRole(account: string, roleName: string): Promise<(PolicySet & { role: RoleDetail }) | undefined> {
    const details = await this.account(account);
    return this.memo(details, `role/${roleName}`, () => this.assembleRole(account, details, roleName)) as Promise<(PolicySet & { role: RoleDetail }) | undefined>;
  }

  private async assembleRole(account: string, details: AccountDetails, roleName: string): Promise<(PolicySet & { role: RoleDetail }) | undefined> {
    const role = details.roles.get(roleName);
    if (!role) return undefined;
    const identity: SourcedPolicy[] = [];
    await this.collect(account, details, `role ${roleName}`, role.RolePolicyList, role.AttachedManagedPolicies, identity);
    const boundaryArn = role.PermissionsBoundary?.PermissionsBoundaryArn;
    const boundaryDoc = boundaryArn ? await this.managedDocument(account, details, boundaryArn) : undefined;
    return {
      role, identity,
      ...(boundaryArn ? { boundary: { source: `permissions boundary ${boundaryArn}`, document: boundaryDoc ?? { Statement: [] } } } : {}),
    };
  }

  async forGroup(account: string, groupName: string): Promise<PolicySet | undefined> {
    const details = await this.account(account);
    const group = details.groups.get(groupName);
    if (!group) return undefined;
    const identity: SourcedPolicy[] = [];
    await this.collect(account, details, `group ${groupName}`, group.GroupPolicyList, group.AttachedManagedPolicies, identity);
    return { identity };
  }

  bucketPolicy(account: string, bucket: string): Promise<PolicyDocument | undefined> {
    const k = `${account}|${bucket}`;
    let p = this.bucketPolicies.get(k);
    if (!p) {
      p = this.upstream.s3BucketPolicy(account, bucket).then((t) => (t ? parsePolicyText(t) : undefined));
      this.bucketPolicies.set(k, p);
      p.catch(() => this.bucketPolicies.delete(k));
    }
    return p;
  }

  keyPolicy(account: string, region: string, keyId: string): Promise<PolicyDocument | undefined> {
    const k = `${account}|${region}|${keyId}`;
    let p = this.keyPolicies.get(k);
    if (!p) {
      p = this.upstream
        .json<{ Policy?: string }>(account, 'kms', 'GetKeyPolicy', { KeyId: keyId, PolicyName: 'default' }, region)
        .then((r) => (r.Policy ? parsePolicyText(r.Policy) : undefined), () => undefined);
      this.keyPolicies.set(k, p);
    }
    return p;
  }
}
