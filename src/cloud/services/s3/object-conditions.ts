// What S3 authorizes about an object beyond the request itself, which moto never checks:
// - s3:ExistingObjectTag/<key>: the object's current tags, for the actions that support the key
//   (Service Authorization Reference, "Actions defined by Amazon S3"; S3 User Guide, "Tagging and
//   access control policies"), the read of CopyObject's and UploadPartCopy's source included;
// - SSE-KMS ("Protecting data with server-side encryption with AWS KMS keys"): S3 uses the object's
//   KMS key as the caller (forward access session, kms:ViaService s3.<region>.amazonaws.com,
//   kms:CallerAccount), so reading an SSE-KMS object (GetObject, HeadObject, the source of a copy)
//   needs kms:Decrypt on its key, writing one (PutObject, POST, CopyObject, CreateMultipartUpload,
//   with x-amz-server-side-encryption: aws:kms or the bucket's default encryption) needs
//   kms:GenerateDataKey (multipart uploads kms:Decrypt too). The key policy of another account's key
//   must allow it; the AWS managed key aws/s3 serves its own account only.
import type { Credential } from '../../gateway/credentials.ts';
import type { Upstream } from '../../gateway/upstream.ts';
import type { ApiCall } from '../../gateway/protocol/identify.ts';
import { copySource, type AuthzCheck, type AuthzContext, type AuthzRequirement } from '../../gateway/protocol/authz-map.ts';
import { describeKey } from '../kms/keys.ts';

/** Actions whose authorization carries s3:ExistingObjectTag/<key>. */
export const EXISTING_TAG_ACTIONS = new Set([
  's3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAcl', 's3:GetObjectVersionAcl', 's3:GetObjectTagging',
  's3:GetObjectVersionTagging', 's3:GetObjectAttributes', 's3:GetObjectVersionAttributes', 's3:GetObjectLegalHold',
  's3:GetObjectRetention', 's3:PutObjectAcl', 's3:PutObjectVersionAcl', 's3:PutObjectTagging', 's3:PutObjectVersionTagging',
  's3:DeleteObjectTagging', 's3:DeleteObjectVersionTagging', 's3:PutObjectLegalHold', 's3:PutObjectRetention',
  's3:BypassGovernanceRetention', 's3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags',
]);

const OBJECT_ARN = /^arn:aws:s3:::([^/]+)\/(.+)$/;
const KMS_ARN = /^arn:aws[a-z-]*:kms:/;

export interface ObjectLookup {
  target: Upstream;
  ownerOf(bucket: string): string | undefined;
}

interface Head { ServerSideEncryption?: string; SSEKMSKeyId?: string }
interface Encryption { ServerSideEncryptionConfiguration?: { Rules?: { ApplyServerSideEncryptionByDefault?: { SSEAlgorithm?: string; KMSMasterKeyID?: string } }[] } }

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Only "there is none" answers mean no tags / no encryption; anything else (timeouts, 5xx) must not open the policy. */
const NONE = new Set(['NoSuchKey', 'NoSuchBucket', 'NotFound', 'NoSuchVersion', 'ServerSideEncryptionConfigurationNotFoundError']);
function noneOrThrow(e: unknown): void {
  const name = (e as { name?: string; Code?: string }).name ?? (e as { Code?: string }).Code ?? '';
  const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (!NONE.has(name) && status !== 404) throw e;
}

async function objectTags(target: Upstream, account: string, bucket: string, key: string, versionId?: string): Promise<Array<[string, string]>> {
  try {
    const r = await target.json<{ TagSet?: { Key?: string; Value?: string }[] }>(account, 's3', 'GetObjectTagging', { Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) });
    return (r.TagSet ?? []).flatMap((t) => (t.Key !== undefined ? [[t.Key, t.Value ?? ''] as [string, string]] : []));
  } catch (e) {
    noneOrThrow(e);
    return []; // no such object (the target answers NoSuchKey after authorization)
  }
}

async function objectHead(target: Upstream, account: string, bucket: string, key: string, versionId?: string): Promise<Head | undefined> {
  try {
    return await target.json<Head>(account, 's3', 'HeadObject', { Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) });
  } catch (e) {
    noneOrThrow(e);
    return undefined;
  }
}

/** The bucket's default encryption: the KMS key reference ('' for aws/s3) when it is SSE-KMS. */
async function defaultKmsKey(target: Upstream, account: string, bucket: string): Promise<string | undefined> {
  try {
    const r = await target.json<Encryption>(account, 's3', 'GetBucketEncryption', { Bucket: bucket });
    const d = r.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
    return d?.SSEAlgorithm?.startsWith('aws:kms') ? (d.KMSMasterKeyID ?? '') : undefined;
  } catch (e) {
    noneOrThrow(e);
    return undefined;
  }
}

/**
 * The key ARN a reference names: an ARN as such (an alias ARN as its key); a key id or alias in
 * `home` (the requester's account for a key named in the request, the bucket owner's for the
 * bucket's default); '' (no key named): the AWS managed key aws/s3 of `home`.
 */
async function keyArn(target: Upstream, ref: string, home: string, region: string): Promise<{ arn: string; awsManaged: boolean; account: string }> {
  const name = ref || 'alias/aws/s3';
  const meta = await describeKey(target, name, home, region);
  const arn = meta?.Arn ?? (KMS_ARN.test(name) ? name : `arn:aws:kms:${region}:${home}:${name.startsWith('alias/') ? name : `key/${name}`}`);
  const account = arn.split(':')[4] ?? home;
  return { arn, awsManaged: name === 'alias/aws/s3' || (meta as { KeyManager?: string } | undefined)?.KeyManager === 'AWS', account };
}

function kmsCheck(action: string, arn: string, cred: Credential, region: string, objectArn: string): AuthzCheck {
  const context: AuthzContext = {
    'aws:RequestedRegion': region,
    'aws:ViaAWSService': 'true',
    'kms:ViaService': `s3.${region}.amazonaws.com`,
    'kms:CallerAccount': cred.account,
    'kms:EncryptionContext:aws:s3:arn': objectArn,
    'kms:EncryptionContextKeys': ['aws:s3:arn'],
  };
  return { action, resources: [arn], context };
}

/** Adds s3:ExistingObjectTag to the checks that take it, and the KMS permissions SSE-KMS objects need. */
export async function resolveObjectConditions(s3: ObjectLookup, req: AuthzRequirement, cred: Credential, call: ApiCall): Promise<AuthzRequirement> {
  const region = call.region;
  const ownerOf = (bucket: string) => s3.ownerOf(bucket) ?? cred.account;
  const p = call.params;
  const versionOf = (check: AuthzCheck): string | undefined => {
    const v = check.context['s3:VersionId'];
    return typeof v === 'string' ? v : undefined;
  };

  // s3:ExistingObjectTag/<key> for every check on one object that supports it.
  const withTags = async (check: AuthzCheck): Promise<AuthzCheck> => {
    if (!EXISTING_TAG_ACTIONS.has(check.action) || check.resources.length !== 1) return check;
    const m = OBJECT_ARN.exec(check.resources[0]!);
    if (!m) return check;
    const [, bucket, key] = m as unknown as [string, string, string];
    const tags = await objectTags(s3.target, ownerOf(bucket), bucket, key, versionOf(check));
    if (!tags.length) return check;
    const context = { ...check.context };
    for (const [k, v] of tags) context[`s3:ExistingObjectTag/${k}`] = v;
    return { ...check, context };
  };
  const { additional, ...main } = req;
  const first = await withTags(main);
  const rest = await Promise.all((additional ?? []).map(withTags));

  // SSE-KMS.
  const kms: AuthzCheck[] = [];
  const addKms = (c: AuthzCheck) => {
    if (!kms.some((k) => k.action === c.action && k.resources[0] === c.resources[0])) kms.push(c);
  };
  const bucket = str(p['Bucket']);
  const key = str(p['Key']);
  const op = call.operation;
  const readsOf: Array<{ bucket: string; key: string; versionId?: string }> = [];
  if ((op === 'GetObject' || op === 'HeadObject') && bucket && key) readsOf.push({ bucket, key, ...(str(p['versionId']) ? { versionId: str(p['versionId'])! } : {}) });
  if (op === 'CopyObject' || op === 'UploadPartCopy') {
    const src = copySource(str(p['x-amz-copy-source']));
    if (src) readsOf.push(src);
  }
  for (const r of readsOf) {
    const owner = ownerOf(r.bucket);
    const head = await objectHead(s3.target, owner, r.bucket, r.key, r.versionId);
    if (!head?.ServerSideEncryption?.startsWith('aws:kms')) continue;
    const k = await keyArn(s3.target, head.SSEKMSKeyId ?? '', owner, region);
    // aws/s3's key policy lets principals of its own account use it through S3, and no one else.
    if (k.awsManaged && k.account === cred.account) continue;
    addKms(kmsCheck('kms:Decrypt', k.arn, cred, region, `arn:aws:s3:::${r.bucket}/${r.key}`));
  }
  if (['PutObject', 'PostObject', 'CopyObject', 'CreateMultipartUpload'].includes(op) && bucket && key !== undefined) {
    const sse = str(p['x-amz-server-side-encryption']);
    let ref: string | undefined;
    let home = cred.account;
    if (sse) {
      if (sse.startsWith('aws:kms')) ref = str(p['x-amz-server-side-encryption-aws-kms-key-id']) ?? '';
    } else {
      home = ownerOf(bucket);
      ref = await defaultKmsKey(s3.target, home, bucket);
    }
    if (ref !== undefined) {
      const k = await keyArn(s3.target, ref, home, region);
      if (!(k.awsManaged && k.account === cred.account)) {
        const objectArn = `arn:aws:s3:::${bucket}/${key}`;
        addKms(kmsCheck('kms:GenerateDataKey', k.arn, cred, region, objectArn));
        if (op === 'CreateMultipartUpload') addKms(kmsCheck('kms:Decrypt', k.arn, cred, region, objectArn));
      }
    }
  }
  const all = [...rest, ...kms];
  return { ...first, ...(all.length ? { additional: all } : {}) };
}
