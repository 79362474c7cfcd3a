// S3 Block Public Access, enforced as AWS does for bucket policies (moto stores the settings and
// enforces none):
// - BlockPublicPolicy: PutBucketPolicy with a public policy is refused (403 AccessDenied);
// - RestrictPublicBuckets: the public statements of a bucket policy grant nothing (only the bucket
//   owner's account's authorized principals and AWS services keep access).
// The effective setting is the most restrictive of the bucket's and the account's (S3 Control).
// "Public" follows the S3 User Guide, "The meaning of public": an Allow statement whose principal is
// not fixed ("*", or an ARN with a wildcard) is public unless a condition pins it to a fixed value of
// one of the keys below, or aws:SourceIp to CIDR ranges other than everything.
// BlockPublicAcls: on buckets with ACLs enabled, requests that set a public ACL are refused (see
// extension.ts; new buckets disable ACLs, BucketOwnerEnforced, and the gateway refuses ACLs there).
// IgnorePublicAcls is moot: the authorizer grants nothing from ACLs.
import type { Upstream } from '../../gateway/upstream.ts';
import { FORWARD_MARKER } from '../../gateway/protocol/wire.ts';
import type { PolicyDocument, Statement } from '../../policy/types.ts';

export interface PublicAccessBlock {
  BlockPublicAcls?: boolean;
  IgnorePublicAcls?: boolean;
  BlockPublicPolicy?: boolean;
  RestrictPublicBuckets?: boolean;
}

/** Condition keys that make a wildcard-principal statement non-public when pinned to fixed values. */
const PINNING_KEYS = [
  'aws:sourcearn', 'aws:sourcevpc', 'aws:sourcevpce', 'aws:sourceowner', 'aws:sourceaccount', 'aws:userid',
  'aws:principalaccount', 'aws:principalarn', 'aws:principalorgid', 's3:x-amz-server-side-encryption-aws-kms-key-id',
  's3:dataaccesspointaccount', 's3:dataaccesspointarn',
];
/** Operators that compare with fixed values (StringLike and the like accept wildcards). */
const FIXED_OPERATORS = /^(ForAnyValue:|ForAllValues:)?(StringEquals|StringEqualsIgnoreCase|ArnEquals|IpAddress)$/i;

const values = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);

function principalIsFixed(principal: Statement['Principal']): boolean {
  if (principal === undefined) return true; // identity-policy shape: no principal to open
  if (principal === '*') return false;
  return Object.entries(principal).every(([kind, v]) => values(v).every((p) => (kind === 'Service' || !p.includes('*')) && p !== '*'));
}

function pinnedByCondition(condition: Statement['Condition']): boolean {
  for (const [operator, block] of Object.entries(condition ?? {})) {
    if (!FIXED_OPERATORS.test(operator.replace(/IfExists$/i, '')) || /IfExists$/i.test(operator)) continue;
    for (const [key, v] of Object.entries(block ?? {})) {
      const k = key.toLowerCase();
      const vals = values(v);
      if (!vals.length) continue;
      if (k === 'aws:sourceip') {
        if (vals.every((cidr) => !/^(0\.0\.0\.0\/0|::\/0)$/.test(cidr.trim()))) return true;
      } else if (k === 'aws:userid') {
        if (vals.every((id) => !id.includes('*'))) return true;
      } else if (PINNING_KEYS.includes(k) && vals.every((x) => !x.includes('*') && !x.includes('?'))) {
        return true;
      }
    }
  }
  return false;
}

/** Whether one statement makes a bucket policy public. */
export function isPublicStatement(st: Statement): boolean {
  if (st.Effect !== 'Allow') return false;
  if (st.NotPrincipal !== undefined) return true; // "everyone except": public
  if (principalIsFixed(st.Principal)) return false;
  return !pinnedByCondition(st.Condition);
}

export function isPublicPolicy(doc: PolicyDocument): boolean {
  const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  return statements.some((st) => st && isPublicStatement(st));
}

/** The policy without its public statements (RestrictPublicBuckets). */
export function withoutPublicStatements(doc: PolicyDocument): PolicyDocument {
  const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  return { ...doc, Statement: statements.filter((st) => st && !isPublicStatement(st)) };
}

/** The most restrictive combination of two settings. */
export function combine(...blocks: (PublicAccessBlock | undefined)[]): PublicAccessBlock {
  const out: PublicAccessBlock = {};
  for (const key of ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const) {
    out[key] = blocks.some((b) => b?.[key] === true);
  }
  return out;
}

/** A bucket's own Block Public Access configuration (undefined when it has none). */
export async function bucketPublicAccessBlock(target: Upstream, account: string, bucket: string): Promise<PublicAccessBlock | undefined> {
  try {
    const r = await target.json<{ PublicAccessBlockConfiguration?: PublicAccessBlock }>(account, 's3', 'GetPublicAccessBlock', { Bucket: bucket });
    return r.PublicAccessBlockConfiguration;
  } catch {
    return undefined;
  }
}

/** The account's Block Public Access configuration (S3 Control), read from the target; undefined when none. */
export async function accountPublicAccessBlock(target: Upstream, account: string): Promise<PublicAccessBlock | undefined> {
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const res = await target.forward(account, {
    method: 'GET',
    url: `/v20180820/configuration/publicAccessBlock?${FORWARD_MARKER}`,
    headers: {
      'x-amz-account-id': account,
      'x-amz-date': amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=AKIASECLABGATEWAY000/${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
    },
    body: Buffer.alloc(0),
  }).catch(() => undefined);
  if (!res || res.status >= 300) return undefined;
  const xml = res.body.toString('utf8');
  const flag = (name: string) => new RegExp(`<${name}>\\s*true\\s*</${name}>`, 'i').test(xml);
  return { BlockPublicAcls: flag('BlockPublicAcls'), IgnorePublicAcls: flag('IgnorePublicAcls'), BlockPublicPolicy: flag('BlockPublicPolicy'), RestrictPublicBuckets: flag('RestrictPublicBuckets') };
}
