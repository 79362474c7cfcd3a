// S3 in the lab cloud: bucket names are global (which account owns each), bucket policies take part
// in authorization (with the root user's lockout escape hatch), and new buckets get AWS's defaults.
import { defineService, type AuthorizationPart, type Capabilities, type ServiceRuntime } from '../../gateway/service.ts';
import type { ServiceExtension } from '../../gateway/extension.ts';
import type { Upstream } from '../../gateway/upstream.ts';
import { s3Extension } from './extension.ts';
import { resolveObjectConditions } from './object-conditions.ts';
import { VpcEndpoints } from './vpc-endpoints.ts';
import { accountPublicAccessBlock, bucketPublicAccessBlock, combine, withoutPublicStatements, type PublicAccessBlock } from './public-access.ts';
import { anonymousReads } from './anonymous.ts';
import { ObjectLock, lockConditionKeys } from './object-lock.ts';
import type { ServesUnsigned } from '../../gateway/server.ts';

const BUCKET_ARN = 'arn:aws:s3:::';

export class S3Service implements ServiceRuntime {
  /** S3 bucket names are global: which account created each bucket. */
  readonly bucketOwners = new Map<string, string>();
  readonly target: Upstream;
  readonly extensions: ServiceExtension[];
  readonly authorization: AuthorizationPart;
  /** Block Public Access settings as read from the target, until a call changes them. */
  private readonly bucketBlocks = new Map<string, Promise<PublicAccessBlock | undefined>>();
  private readonly accountBlocks = new Map<string, Promise<PublicAccessBlock | undefined>>();
  /** VPC endpoints (EC2's), for calls that go through one (X-Seclab-Vpce). */
  readonly endpoints: VpcEndpoints;
  /** Unsigned requests: anonymous reads of public data, as AWS decides them (anonymous.ts). */
  readonly serveUnsigned: ServesUnsigned['serveUnsigned'];
  /** Object Lock (retention, legal holds, governance bypass) decided with the lab clock (object-lock.ts). */
  readonly objectLock: ObjectLock;

  constructor(private readonly caps: Capabilities) {
    this.target = caps.target;
    this.endpoints = new VpcEndpoints(caps.target);
    this.serveUnsigned = anonymousReads(this, caps);
    this.objectLock = new ObjectLock(this, caps);
    this.extensions = [
      s3Extension(this),
      this.objectLock.extension(),
      this.endpoints.extension(),
      // The account-level setting is S3 Control's: any change there is read again.
      { service: 's3control', after: async ({ cred }) => void this.accountBlocks.delete(cred.account) },
    ];
    const bucketOf = (resource: string) => (resource.startsWith(BUCKET_ARN) ? resource.slice(BUCKET_ARN.length).split('/')[0] || undefined : undefined);
    this.authorization = {
      // S3 ARNs carry no account: the bucket's owner decides whether a request is cross-account.
      // CreateBucket acts in the caller's own account, even on a name another account holds (the
      // extension then answers BucketAlreadyExists, as AWS does).
      resourceOwner: (resource, action, cred) => {
        const bucket = bucketOf(resource);
        if (!bucket) return undefined;
        return (action !== 's3:CreateBucket' && this.bucketOwners.get(bucket)) || cred.account;
      },
      resourcePolicy: async ({ resource, action, owner, cred }) => {
        const bucket = bucketOf(resource);
        if (!bucket) return undefined;
        if (bucket === '*') return 'none';
        // Lockout recovery: the root user of the account that owns a bucket can always read, replace
        // and delete the bucket's policy, whatever the policy says (S3 User Guide, "I accidentally
        // denied everyone access to my bucket"): the bucket policy is left out (an SCP still applies).
        if (cred.kind === 'root' && owner === cred.account && resource === `${BUCKET_ARN}${bucket}`
          && ['s3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy'].includes(action)) return 'none';
        // A policy that cannot be read fails the call (closed), rather than being ignored (open).
        const doc = await this.policies.bucketPolicy(owner, bucket);
        if (!doc) return 'none';
        // RestrictPublicBuckets: the policy's public statements grant nothing.
        const restricted = (await this.publicAccessBlock(owner, bucket)).RestrictPublicBuckets;
        return { source: `bucket policy of ${bucket}`, document: restricted ? withoutPublicStatements(doc) : doc, account: owner };
      },
      vpcEndpoint: (id, cred, region) => this.endpoints.find(id, cred.account, region),
      // The object's current tags (s3:ExistingObjectTag) and the KMS permissions of SSE-KMS objects.
      resolve: async (requirement, cred, call) => {
        if (call.service !== 's3') return requirement;
        const conditions = await resolveObjectConditions({ target: this.target, ownerOf: (b) => this.bucketOwners.get(b) }, requirement, cred, call);
        // A governance bypass that matters needs s3:BypassGovernanceRetention too (object-lock.ts).
        const resolved = await this.objectLock.withBypassCheck(conditions, cred, call);
        // Object Lock's condition keys (some from the body, remaining days from the lab clock).
        const lock = lockConditionKeys(call.operation, call.params, caps.clock.nowMs());
        if (Object.keys(lock).length === 0) return resolved;
        const withLock = <T extends { context: Record<string, string | string[]> }>(c: T): T => ({ ...c, context: { ...c.context, ...lock } });
        return { ...withLock(resolved), ...(resolved.additional ? { additional: resolved.additional.map(withLock) } : {}) };
      },
    };
  }

  /** The Block Public Access settings in force for a bucket: the most restrictive of the bucket's and its account's. */
  async publicAccessBlock(account: string, bucket: string): Promise<PublicAccessBlock> {
    const key = `${account}|${bucket}`;
    let b = this.bucketBlocks.get(key);
    if (!b) this.bucketBlocks.set(key, (b = bucketPublicAccessBlock(this.target, account, bucket)));
    let a = this.accountBlocks.get(account);
    if (!a) this.accountBlocks.set(account, (a = accountPublicAccessBlock(this.target, account)));
    return combine(await b, await a);
  }

  /** A bucket's Block Public Access changed (or the bucket went): read it again. */
  forgetPublicAccessBlock(account: string, bucket: string): void {
    this.bucketBlocks.delete(`${account}|${bucket}`);
  }

  dropAccount(account: string): void {
    this.endpoints.dropAccount(account);
    this.objectLock.dropAccount(account);
    this.accountBlocks.delete(account);
    for (const k of this.bucketBlocks.keys()) if (k.startsWith(`${account}|`)) this.bucketBlocks.delete(k);
  }

  /** Where bucket policies are read and cached. */
  get policies() {
    return this.caps.service('iam').policies;
  }
}

declare module '../../gateway/service.ts' {
  interface LabServices {
    s3: S3Service;
  }
}

export const s3Service = defineService('s3', (caps) => new S3Service(caps));
