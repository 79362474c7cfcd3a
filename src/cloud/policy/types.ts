// Types shared by the IAM policy evaluator, the gateway's authorizer and SimulatePrincipalPolicy.

export type Effect = 'Allow' | 'Deny';

export type PrincipalBlock = '*' | Record<string, string | string[]>;

export interface Statement {
  Sid?: string;
  Effect: Effect;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: PrincipalBlock;
  NotPrincipal?: PrincipalBlock;
  Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: Statement | Statement[];
}

/** Where a policy came from, for explanations ("user inline policy X", "group developers / managed Y"). */
export interface SourcedPolicy {
  source: string;
  document: PolicyDocument;
}

export interface RequestPrincipal {
  /** arn:aws:iam::123456789012:user/bob, arn:aws:sts::123456789012:assumed-role/R/s, arn:aws:iam::123456789012:root */
  arn: string;
  account: string;
  /** For matching Principal blocks of resource policies: also the role ARN for assumed-role sessions. */
  alternateArns?: string[];
  type: 'Root' | 'IAMUser' | 'AssumedRole' | 'FederatedUser' | 'AWSService';
}

export interface AuthzRequest {
  /** "service:Action", e.g. "s3:GetObject". */
  action: string;
  /** The resource ARN, or "*" for actions without a resource. */
  resource: string;
  principal: RequestPrincipal;
  /** Condition context: keys compared case-insensitively (aws:SourceIp, aws:username, s3:prefix...). */
  context: Record<string, string | string[] | undefined>;
  /**
   * Account that owns the resource, when known and there is no resource policy to say it (S3 ARNs carry no
   * account). Defaults to the resource policy's account, then the ARN's account field, then the principal's.
   */
  resourceAccount?: string;
}

export interface PolicySet {
  /** Identity-based policies: user inline + attached managed + each group's inline and managed. */
  identity: SourcedPolicy[];
  /** Permissions boundary, when one is set. */
  boundary?: SourcedPolicy;
  /** Session policies (AssumeRole/GetFederationToken Policy parameter), when any. */
  session?: SourcedPolicy[];
  /**
   * Service control policies of the principal's account (AWS Organizations), one list per level from
   * the organization root down to the account: every level must allow, a deny at any level denies.
   * Absent for accounts SCPs do not limit (no organization, the management account).
   */
  scp?: SourcedPolicy[][];
  /** Resource-based policy of the target resource (bucket policy, key policy, topic policy). */
  resource?: SourcedPolicy & {
    /** Account that owns the resource. */
    account: string;
    /**
     * KMS key policies are the primary control: without an allow in the key policy (directly or by
     * delegating to the account root) identity policies grant nothing.
     */
    mustAllow?: boolean;
  };
}

export interface MatchedStatement {
  source: string;
  sid?: string;
  effect: Effect;
  /** Which kind of policy the statement belongs to. */
  policyType?: 'identity' | 'boundary' | 'session' | 'resource' | 'scp';
}

export interface Decision {
  decision: 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';
  /** Statements that matched the request (all of them, allows and denies). */
  matched: MatchedStatement[];
  /** One line for humans, e.g. "explicitly denied by user inline policy RequireMFA (Sid DenyWithoutMFA)". */
  reason: string;
  /** Condition operators the evaluator does not know; statements using them were treated as not matching. */
  unknownOperators?: string[];
}
