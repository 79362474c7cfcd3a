// The pipeline's authorization step: IAM policy evaluation of every action a call performs, with the
// identity, resource and organization policies that the services contribute (service.ts,
// AuthorizationPart). The evaluator itself is src/cloud/policy/.
import type { LabClock } from './clock.ts';
import type { Credential } from './credentials.ts';
import type { CallContext, ServiceExtension } from './extension.ts';
import type { AuthorizationPart, ResourcePolicy, VpcEndpointView } from './service.ts';
import { ApiError } from './api-error.ts';
import { toAuthz, type AuthzCheck } from './protocol/authz-map.ts';
import { accessDeniedCode, accessDeniedMessageFor, accessDeniedResponse, accessDeniedStatus } from './protocol/errors.ts';
import type { ApiCall } from './protocol/identify.ts';
import { evaluate, evaluateEndpointPolicy } from '../policy/evaluate.ts';
import type { AuthzRequest, Decision, RequestPrincipal } from '../policy/types.ts';

export class Authorizer {
  constructor(
    private readonly clock: LabClock,
    private readonly defaultRegion: string,
    private readonly parts: () => AuthorizationPart[],
  ) {}

  principalOf(cred: Credential): RequestPrincipal {
    if (cred.kind === 'root') return { arn: cred.arn, account: cred.account, type: 'Root' };
    if (cred.kind === 'role-session') {
      return { arn: cred.arn, account: cred.account, type: 'AssumedRole', alternateArns: cred.roleArn ? [cred.roleArn] : [] };
    }
    return { arn: cred.arn, account: cred.account, type: 'IAMUser' };
  }

  /** Condition keys AWS sets for a request by this credential. */
  contextOf(cred: Credential, sourceIp: string, userAgent: string, call: { region: string; secure?: boolean }): AuthzRequest['context'] {
    const now = this.clock.now();
    const ctx: AuthzRequest['context'] = {
      'aws:CurrentTime': now.toISOString(),
      'aws:EpochTime': String(Math.floor(now.getTime() / 1000)),
      'aws:SourceIp': sourceIp,
      'aws:UserAgent': userAgent,
      // True exactly for requests over the gateway's HTTPS listener.
      'aws:SecureTransport': call.secure ? 'true' : 'false',
      'aws:RequestedRegion': call.region,
      'aws:PrincipalAccount': cred.account,
      'aws:PrincipalArn': cred.kind === 'role-session' ? cred.roleArn : cred.arn,
      'aws:ViaAWSService': 'false',
    };
    if (cred.kind === 'user' || cred.kind === 'session') {
      ctx['aws:username'] = cred.userName;
      ctx['aws:userid'] = cred.userId;
      ctx['aws:PrincipalType'] = 'User';
    } else if (cred.kind === 'role-session') {
      ctx['aws:userid'] = `${cred.userId ?? ''}:${cred.sessionName ?? ''}`;
      ctx['aws:PrincipalType'] = 'AssumedRole';
    } else {
      ctx['aws:PrincipalType'] = 'Account';
    }
    // aws:MultiFactorAuthPresent is absent for long-term keys (why policies use BoolIfExists), and
    // present for temporary credentials, true only when the session was obtained with a valid code.
    if (cred.kind === 'session' || cred.kind === 'role-session') {
      ctx['aws:MultiFactorAuthPresent'] = cred.mfaAuthenticated ? 'true' : 'false';
      if (cred.issuedAt) ctx['aws:TokenIssueTime'] = cred.issuedAt.toISOString();
      if (cred.mfaAuthenticated && cred.mfaAuthTime) {
        ctx['aws:MultiFactorAuthAge'] = String(Math.floor((now.getTime() - cred.mfaAuthTime.getTime()) / 1000));
      }
    }
    return ctx;
  }

  /** The first answer of the services that contribute `key`. */
  private async first<T>(ask: (p: AuthorizationPart) => Promise<T | undefined> | T | undefined): Promise<T | undefined> {
    for (const p of this.parts()) {
      const v = await ask(p);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  /** Evaluates one action on one resource for a credential (also used by the engine's checks). */
  async decide(cred: Credential, action: string, resource: string, context: AuthzRequest['context'], region = this.defaultRegion, full?: { context?: AuthzRequest['context'] }): Promise<Decision> {
    const set = cred.kind === 'root' ? { identity: [] } : await this.first((p) => p.identityPolicies?.(cred));
    if (!set) {
      return { decision: 'ImplicitDeny', matched: [], reason: `the principal ${cred.arn} no longer exists` };
    }
    // Resources whose ARN names no account (S3 buckets): their owner decides whether the request is cross-account.
    const owner = await this.first((p) => p.resourceOwner?.(resource, action, cred));
    const found = await this.first((p) => p.resourcePolicy?.({ resource, action, owner: owner ?? cred.account, region, cred }));
    const resourcePolicy: ResourcePolicy | undefined = found === 'none' ? undefined : found;
    // AWS Organizations: the SCPs that limit the caller's account, and the org condition keys of the
    // caller (aws:PrincipalOrgID, aws:PrincipalOrgPaths) and of the resource's account (aws:ResourceOrgID, aws:ResourceOrgPaths).
    const resourceAccount = owner ?? resourcePolicy?.account ?? /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/.exec(resource)?.[1] ?? cred.account;
    const membership = (account: string) => this.first((p) => p.membership?.(account));
    const [principalOrg, resourceOrg] = await Promise.all([membership(cred.account), membership(resourceAccount)]);
    const orgContext: AuthzRequest['context'] = {
      // "aws:ResourceAccount: the AWS account ID of the resource owner" (global condition keys): for S3,
      // the account that owns the bucket, whatever the ARN says.
      ...(resource !== '*' ? { 'aws:ResourceAccount': resourceAccount } : {}),
      ...(principalOrg ? { 'aws:PrincipalOrgID': principalOrg.orgId, 'aws:PrincipalOrgPaths': [principalOrg.orgPath] } : {}),
      ...(resourceOrg ? { 'aws:ResourceOrgID': resourceOrg.orgId, 'aws:ResourceOrgPaths': [resourceOrg.orgPath] } : {}),
    };
    const all = { ...orgContext, ...context };
    if (full) full.context = all;
    return evaluate(
      { action, resource, principal: this.principalOf(cred), context: all, resourceAccount: owner },
      { ...set, ...(resourcePolicy ? { resource: resourcePolicy } : {}), ...(principalOrg?.scpLevels ? { scp: principalOrg.scpLevels } : {}) },
    );
  }

  /**
   * The VPC endpoint a call goes through (X-Seclab-Vpce). An endpoint for another service is not on
   * the call's path (a host with an S3 endpoint reaches IAM over the internet): undefined. An id no
   * service knows is refused: the lab cannot say what that endpoint would allow.
   */
  private async endpointFor(id: string, cred: Credential, call: ApiCall): Promise<VpcEndpointView | undefined> {
    const endpoint = await this.first((p) => p.vpcEndpoint?.(id, cred, call.region));
    if (!endpoint) {
      throw new ApiError(400, 'InvalidRequest', `The lab cloud knows no VPC endpoint ${id} (header X-Seclab-Vpce): create it with CreateVpcEndpoint first.`);
    }
    const service = endpoint.serviceName.split('.').pop();
    return service === call.service ? endpoint : undefined;
  }

  /** Authorizes a call: its services' fixed rules first, then every resource of every action it performs. */
  async authorize(ctx: CallContext, extensions: ServiceExtension[]): Promise<void> {
    const { cred, call } = ctx;
    let authz = toAuthz(call, cred.account, { userName: cred.userName });
    if (authz.alwaysAllowed) return;
    for (const ext of extensions) await ext.admit?.(ctx);
    const base = this.contextOf(cred, ctx.sourceIp, ctx.userAgent, call);
    const endpoint = ctx.vpce ? await this.endpointFor(ctx.vpce, cred, call) : undefined;
    for (const p of this.parts()) if (p.resolve) authz = await p.resolve(authz, cred, call);
    const checks: AuthzCheck[] = [authz, ...(authz.additional ?? [])];
    // Every resource of every check must be allowed. (DeleteObjects: S3 would report refused keys
    // inside a successful response; the gateway refuses the whole call instead.)
    for (const check of checks) {
      // Through a VPC endpoint: the call's own actions carry aws:SourceVpce and aws:SourceVpc, and
      // aws:VpcSourceIp instead of aws:SourceIp ("If the request comes from a host that uses an Amazon
      // VPC endpoint, then the aws:SourceIp key is not available"); what the service does on the
      // caller's behalf (S3's use of a KMS key, iam:PassRole) does not go through the endpoint.
      const viaEndpoint = endpoint && check.action.startsWith(`${call.service}:`) ? endpoint : undefined;
      const context: AuthzRequest['context'] = { ...base, ...check.context };
      if (viaEndpoint) {
        delete context['aws:SourceIp'];
        Object.assign(context, { 'aws:SourceVpce': viaEndpoint.id, 'aws:SourceVpc': viaEndpoint.vpcId, 'aws:VpcSourceIp': ctx.sourceIp });
      }
      for (const resource of check.resources) {
        const full: { context?: AuthzRequest['context'] } = {};
        const d = await this.decide(cred, check.action, resource, context, call.region, full);
        if (d.decision === 'Allow' && viaEndpoint?.policy) {
          // The endpoint policy must allow the request too (with the same keys: aws:ResourceAccount, org ids...).
          const e = evaluateEndpointPolicy(
            { action: check.action, resource, principal: this.principalOf(cred), context: full.context ?? context },
            { source: `VPC endpoint policy of ${viaEndpoint.id}`, document: viaEndpoint.policy },
          );
          if (e.decision === 'Allow') continue;
          const reason = e.decision === 'ExplicitDeny' ? 'explicit-deny-vpc-endpoint' : 'no-vpc-endpoint-policy';
          const message = accessDeniedMessageFor(call.service, cred.arn, check.action, resource, reason);
          throw new ApiError(accessDeniedStatus(call.service), accessDeniedCode(call.service), message, (requestId) => accessDeniedResponse(call, message, requestId));
        }
        if (d.decision === 'Allow') continue;
        const byResource = d.matched.some((m) => m.effect === 'Deny' && m.policyType === 'resource');
        const byScp = d.matched.some((m) => m.effect === 'Deny' && m.policyType === 'scp');
        const reason = d.decision === 'ExplicitDeny'
          ? (byScp ? 'explicit-deny-scp' : byResource ? 'explicit-deny-resource' : d.reason.includes('boundary') ? 'explicit-deny-boundary' : 'explicit-deny-identity')
          : d.reason.startsWith('no service control policy') ? 'scp' : d.reason.includes('boundary') ? 'boundary'
            // AssumeRole: the role's trust policy (its resource policy) does not allow the caller.
            : check.action === 'sts:AssumeRole' && !d.matched.some((m) => m.policyType === 'resource' && m.effect === 'Allow') ? 'no-resource-policy'
            : 'no-identity-policy';
        const message = accessDeniedMessageFor(call.service, cred.arn, check.action, resource, reason);
        throw new ApiError(accessDeniedStatus(call.service), accessDeniedCode(call.service), message, (requestId) => accessDeniedResponse(call, message, requestId));
      }
    }
  }
}
