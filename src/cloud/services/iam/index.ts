// IAM in the lab cloud: the identity policies and role trust policies the authorizer evaluates
// (policy-store.ts, read from the target), virtual MFA devices checked with real TOTP (mfa.ts), and
// what moto lacks or gets wrong (extension.ts: pagination, DeleteConflict, the root user, boundaries).
import { defineService, type AuthorizationPart, type Capabilities, type ControlHandler, type ServiceRuntime } from '../../gateway/service.ts';
import type { CallContext, ServiceExtension } from '../../gateway/extension.ts';
import type { CredentialStore } from '../../gateway/credentials.ts';
import type { LabClock } from '../../gateway/clock.ts';
import type { Upstream } from '../../gateway/upstream.ts';
import { MfaRegistry, totpCode } from './mfa.ts';
import { PolicyStore, parsePolicyText } from './policy-store.ts';
import { iamExtension } from './extension.ts';

/** A call in IAM's hooks, with the IAM runtime it may use. */
export type IamCall = CallContext & { iam: IamService };

export class IamService implements ServiceRuntime {
  readonly mfa = new MfaRegistry();
  readonly policies: PolicyStore;
  readonly clock: LabClock;
  readonly credentials: CredentialStore;
  readonly target: Upstream;
  readonly extensions: ServiceExtension[];
  readonly authorization: AuthorizationPart;
  readonly control: Record<string, ControlHandler>;

  constructor(private readonly caps: Capabilities) {
    this.clock = caps.clock;
    this.credentials = caps.credentials;
    this.target = caps.target;
    this.policies = new PolicyStore(caps.target);
    this.extensions = [iamExtension(this)];
    this.authorization = {
      identityPolicies: async (cred) => cred.kind === 'role-session'
        ? this.policies.forRole(cred.account, cred.roleName ?? '')
        : this.policies.forUser(cred.account, cred.userName ?? ''),
      resourcePolicy: async ({ resource, action }) => (action === 'sts:AssumeRole' ? this.trustPolicyFor(resource) : undefined),
    };
    this.control = {
      // What the authenticator app of a lab person shows now (graders sign in as the company's people).
      '/_seclab/mfa-code': async (q) => {
        try {
          return { status: 200, value: { code: this.mfaCode(q.get('account') ?? '', q.get('serial') ?? '') } };
        } catch (e) {
          return { status: 404, value: { error: (e as Error).message } };
        }
      },
    };
  }

  /** AWS Organizations membership of accounts (IAM's account operations report it). */
  get organizations() {
    return this.caps.service('organizations');
  }

  /** CloudTrail's records (last-accessed details and the credential report read them). */
  get trail() {
    return this.caps.service('cloudtrail').trail;
  }

  /** What the authenticator app of the person holding this MFA device shows now (lab clock). */
  mfaCode(accountId: string, serial: string, offsetSteps = 0): string {
    const d = this.mfa.get(accountId, serial);
    if (!d) throw new Error(`no virtual MFA device ${serial} in account ${accountId}`);
    return totpCode(d.seedBase32, this.clock.nowMs() + offsetSteps * 30_000);
  }

  dropAccount(account: string): void {
    this.mfa.dropAccount(account);
    this.policies.dropAccount(account);
  }

  /**
   * AssumeRole's resource policy is the role's trust policy, read in the account the role ARN names
   * (which may be another account than the caller's). Like a key policy it must allow the caller,
   * directly or by naming the caller's account; across accounts the caller's identity policy must
   * allow sts:AssumeRole too (evaluate's cross-account rule). A role that does not exist trusts nobody.
   */
  private async trustPolicyFor(roleArn: string) {
    const m = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
    if (!m) return undefined;
    const [, account, roleName] = m as unknown as [string, string, string];
    const role = (await this.policies.account(account)).roles.get(roleName);
    const arnMatches = role?.Arn === undefined || role.Arn === roleArn;
    const document = role?.AssumeRolePolicyDocument && arnMatches ? parsePolicyText(role.AssumeRolePolicyDocument) : { Statement: [] };
    return { source: `trust policy of ${roleName}`, document, account, mustAllow: true };
  }
}

declare module '../../gateway/service.ts' {
  interface LabServices {
    iam: IamService;
  }
}

export const iamService = defineService('iam', (caps) => new IamService(caps));
