// How an emulated service plugs into the lab cloud. The gateway is the request pipeline only
// (identify, authenticate, authorize, dispatch, record); each folder under src/cloud/services/ exports
// one ServiceModule whose runtime gets, from the registry, the narrow capabilities it needs and adds
// what the target lacks through hooks. Adding a service is adding a folder and one line in
// services/index.ts; nothing here or in server.ts names a service.
import type { LabClock } from './clock.ts';
import type { Credential, CredentialStore } from './credentials.ts';
import type { ServiceExtension } from './extension.ts';
import type { Sinks } from './sinks.ts';
import type { Upstream } from './upstream.ts';
import type { ApiCall } from './protocol/identify.ts';
import type { AuthzRequirement } from './protocol/authz-map.ts';
import type { SandboxKind } from '../sandbox/index.ts';
import type { AuthzRequest, Decision, PolicyDocument, PolicySet, SourcedPolicy } from '../policy/types.ts';

/**
 * The runtimes by name. Each service folder adds its own entry with a module augmentation:
 *   declare module '../../gateway/service.ts' { interface LabServices { sns: SnsService } }
 * so `gateway.service('sns')` is typed without the gateway importing the folder.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface LabServices {}
export type ServiceName = keyof LabServices & string;

/** What a lab cloud gives its services: each takes what it needs, nothing hands out the gateway. */
export interface Capabilities {
  /** The lab clock (moved by graders; every time a service writes comes from it). */
  readonly clock: LabClock;
  /** The emulator behind the gateway (moto or LocalStack), spoken to as an account. */
  readonly target: Upstream;
  /** Writes into the target as AWS's own services deliver (log events, objects), announced to listeners. */
  readonly sinks: Sinks;
  /** The lab cloud's default region. */
  readonly region: string;
  /** Access keys the gateway authenticates (IAM keys, STS sessions, a Lambda invocation's role). */
  readonly credentials: CredentialStore;
  /** Accounts of the lab cloud (AWS Organizations creates them). */
  readonly accounts: { create(accountId: string): void };
  /** Authorization of one action by one credential, by the same pipeline that authorizes calls. */
  readonly authorizer: {
    decide(cred: Credential, action: string, resource: string, context: AuthzRequest['context'], region?: string): Promise<Decision>;
  };
  /** For code a submission supplies (Lambda handlers): how it runs and how it reaches the lab cloud. */
  readonly sandboxing: {
    kind(): SandboxKind;
    /** The gateway's URL. */
    url(): string;
    /** A socket of the gateway reserved for one sandboxed process working in one account. */
    openChannel(account: string, who: string): Promise<{ socketPath: string; close(): Promise<void> }>;
    /** Measures the time requests signed with this key spend in the gateway (excluded from timeouts). */
    trackKey(accessKeyId: string): { waitedMs(): number; stop(): void };
  };
  /** Runs time-driven work up to the lab clock's now (deliveries, evaluations). */
  flush(): Promise<void>;
  /** Another service's runtime, looked up when called (construction order does not matter). */
  service<K extends ServiceName>(name: K): LabServices[K];
}

/** A call as the pipeline decided it: what CloudTrail records. */
export interface CallOutcome {
  cred: Credential;
  call: ApiCall;
  sourceIp: string;
  userAgent: string;
  requestId: string;
  error?: { code: string; message: string };
}

/** Membership of an account in an AWS Organizations organization, as authorization needs it. */
export interface OrgMembershipView {
  orgId: string;
  orgPath: string;
  /** SCPs per level from the root to the account; undefined when SCPs do not apply. */
  scpLevels?: SourcedPolicy[][];
}

/** A VPC endpoint as authorization sees it. */
export interface VpcEndpointView {
  id: string;
  vpcId: string;
  /** e.g. com.amazonaws.us-east-1.s3 */
  serviceName: string;
  account: string;
  /** The endpoint policy (undefined: the default, full access). */
  policy?: PolicyDocument;
}

/** A resource-based policy that takes part in a decision. */
export type ResourcePolicy = NonNullable<PolicySet['resource']>;

/** What a service contributes to authorization. */
export interface AuthorizationPart {
  /** The identity-based policies of a credential's principal (undefined: the principal no longer exists). */
  identityPolicies?(cred: Credential): Promise<PolicySet | undefined>;
  /** The account that owns a resource whose ARN names none (S3 buckets); undefined when not this service's. */
  resourceOwner?(resource: string, action: string, cred: Credential): string | undefined;
  /**
   * The resource-based policy of a resource this service owns (bucket, topic, key, role trust policy);
   * 'none' when the resource is this service's and has none (or is left out), undefined when not its own.
   */
  resourcePolicy?(q: { resource: string; action: string; owner: string; region: string; cred: Credential }): Promise<ResourcePolicy | 'none' | undefined>;
  /** Organization membership of an account (aws:PrincipalOrgID, aws:ResourceOrgID, SCPs). */
  membership?(account: string): Promise<OrgMembershipView | undefined>;
  /** A VPC endpoint by id (undefined when unknown to this service): its VPC, service and policy. */
  vpcEndpoint?(id: string, cred: Credential, region: string): Promise<VpcEndpointView | undefined>;
  /** The resources a check really concerns (a KMS alias authorizes as its key). */
  resolve?(requirement: AuthzRequirement, cred: Credential, call: ApiCall): Promise<AuthzRequirement>;
}

/** Handler of one control endpoint (/_seclab/...); needs the control token. */
export type ControlHandler = (query: URLSearchParams, input: Record<string, unknown>) => Promise<{ status: number; value: unknown }>;

/**
 * A download behind an unguessable URL, as AWS hands out presigned S3 URLs (Lambda's code location):
 * GET /_seclab/<prefix>/<token>, open to whoever holds the URL (no control token); undefined: not found.
 */
export type LinkHandler = (token: string) => Promise<{ contentType: string; body: Buffer } | undefined>;

/** What a service runtime may hook into; everything is optional. */
export interface ServiceRuntime {
  /** Hooks on calls, by SigV4 signing name. */
  readonly extensions?: ServiceExtension[];
  readonly authorization?: AuthorizationPart;
  /** Sees every authenticated call once decided, allowed or refused. */
  observe?(outcome: CallOutcome): void;
  /** Control endpoints by full path (e.g. /_seclab/outbox). */
  readonly control?: Record<string, ControlHandler>;
  /** Downloads by URL prefix (e.g. lambda-code): see LinkHandler. */
  readonly links?: Record<string, LinkHandler>;
  /** Time-driven work, in flush order: deliver what happened, let work in flight settle, evaluate, settle again. */
  deliver?(nowMs: number): Promise<void>;
  settle?(): Promise<void>;
  evaluate?(nowMs: number): Promise<void>;
  /** Forgets an account (its resources stay in the target until reset). */
  dropAccount?(account: string): void;
  /** Stops timers and processes when the lab cloud stops. */
  close?(): void;
}

export interface ServiceModule<K extends ServiceName = ServiceName> {
  readonly name: K;
  create(caps: Capabilities): LabServices[K] & ServiceRuntime;
}

/** Declares a service module with its name checked against LabServices. */
export function defineService<K extends ServiceName>(name: K, create: (caps: Capabilities) => LabServices[K] & ServiceRuntime): ServiceModule<K> {
  return { name, create };
}
