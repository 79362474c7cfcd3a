// KMS keys as AWS KMS treats them: key states and what each state refuses ("Key states of AWS KMS
// keys", key state table), the key named inside a ciphertext blob, and the key policy of the AWS
// managed key aws/ebs. Looked up in the target (moto) as the key's account.
import { ApiError } from '../../gateway/api-error.ts';
import type { Upstream } from '../../gateway/upstream.ts';
import type { PolicyDocument } from '../../policy/types.ts';

export interface KeyMeta {
  KeyId: string;
  Arn: string;
  KeyState?: string;
  KeyManager?: string;
  AWSAccountId?: string;
  DeletionDate?: Date;
}

const KEY_ARN = /^arn:aws[a-z-]*:kms:([^:]+):(\d{12}):key\/(.+)$/;
const ALIAS_ARN = /^arn:aws[a-z-]*:kms:([^:]+):(\d{12}):(alias\/.+)$/;

/** Account and region a key reference (id, key ARN, alias, alias ARN) belongs to, given the caller's. */
export function keyHome(ref: string, account: string, region: string): { account: string; region: string } {
  const m = KEY_ARN.exec(ref) ?? ALIAS_ARN.exec(ref);
  return m ? { account: m[2]!, region: m[1]! } : { account, region };
}

/** The key's metadata, looked up in the account and region its reference names; undefined when it does not exist. */
export async function describeKey(upstream: Upstream, ref: string, account: string, region: string): Promise<KeyMeta | undefined> {
  const home = keyHome(ref, account, region);
  // moto resolves a key ARN by its id only: ask with the id in the key's own account.
  const id = KEY_ARN.exec(ref)?.[3] ?? ref;
  try {
    const r = await upstream.json<{ KeyMetadata?: KeyMeta }>(home.account, 'kms', 'DescribeKey', { KeyId: id }, home.region);
    return r.KeyMetadata?.Arn ? r.KeyMetadata : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a key pending deletion has reached its deletion date: AWS has deleted it (moto keeps it). */
export function isDeleted(key: KeyMeta, nowMs: number): boolean {
  if (key.KeyState !== 'PendingDeletion' || !key.DeletionDate) return false;
  return new Date(key.DeletionDate).getTime() <= nowMs;
}

/** NotFoundException for a deleted key, as AWS KMS answers for a key that does not exist. */
export const keyNotFound = (arn: string): ApiError => new ApiError(400, 'NotFoundException', `Key '${arn}' does not exist`);

/** Operations a Disabled key refuses with DisabledException (key state table, footnote [1]). */
const REFUSED_WHEN_DISABLED = new Set([
  'Encrypt', 'Decrypt', 'ReEncrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext', 'GenerateMac', 'VerifyMac', 'Sign', 'Verify', 'GetPublicKey',
  'CreateGrant', 'EnableKeyRotation', 'DisableKeyRotation', 'RotateKeyOnDemand',
]);

/** Operations a key pending deletion refuses with KMSInvalidStateException (footnote [3]). */
const REFUSED_WHEN_PENDING_DELETION = new Set([
  ...REFUSED_WHEN_DISABLED, 'CreateAlias', 'UpdateAlias', 'EnableKey', 'DisableKey', 'ScheduleKeyDeletion',
  'TagResource', 'UntagResource', 'UpdateKeyDescription', 'ReplicateKey',
]);

/** DisabledException: "<key ARN> is disabled." (HTTP 409). */
export const disabled = (arn: string): ApiError => new ApiError(409, 'DisabledException', `${arn} is disabled.`);
/** KMSInvalidStateException: "<key ARN> is pending deletion." (HTTP 409). */
export const pendingDeletion = (arn: string): ApiError => new ApiError(409, 'KMSInvalidStateException', `${arn} is pending deletion.`);

/** The error AWS KMS answers for `operation` on a key in its state, if any. */
export function keyStateError(key: KeyMeta, operation: string): ApiError | undefined {
  if (key.KeyState === 'Disabled' && REFUSED_WHEN_DISABLED.has(operation)) return disabled(key.Arn);
  if (key.KeyState === 'PendingDeletion' && REFUSED_WHEN_PENDING_DELETION.has(operation)) return pendingDeletion(key.Arn);
  if (operation === 'CancelKeyDeletion' && key.KeyState !== 'PendingDeletion') {
    return new ApiError(409, 'KMSInvalidStateException', `${key.Arn} is not pending deletion.`);
  }
  return undefined;
}

/**
 * The key id inside a ciphertext blob (base64). moto's blob starts with the 36-character key id;
 * undefined for any other format (another target).
 */
export function keyIdInCiphertext(blob: unknown): string | undefined {
  if (typeof blob !== 'string' || !blob) return undefined;
  let bytes: Buffer;
  try {
    bytes = Buffer.from(blob, 'base64');
  } catch {
    return undefined;
  }
  const id = bytes.subarray(0, 36).toString('latin1');
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return id;
  const mrk = bytes.subarray(0, 40).toString('latin1');
  return /^mrk-[0-9a-f]{32}$/i.test(mrk) ? mrk : undefined;
}

/**
 * The key policy AWS gives the AWS managed key aws/ebs: every principal of the account that may use
 * EBS may use the key through EC2 (kms:ViaService, kms:CallerAccount); the account may read its
 * metadata and revoke grants, and nothing else (the key cannot be managed, shared or deleted).
 */
export function awsManagedEbsKeyPolicy(account: string, region: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Id: 'auto-ebs-2',
    Statement: [
      {
        Sid: 'Allow access through EBS for all principals in the account that are authorized to use EBS',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:CreateGrant', 'kms:DescribeKey'],
        Resource: '*',
        Condition: { StringEquals: { 'kms:CallerAccount': account, 'kms:ViaService': `ec2.${region}.amazonaws.com` } },
      },
      {
        Sid: 'Allow direct access to key metadata to the account',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${account}:root` },
        Action: ['kms:Describe*', 'kms:Get*', 'kms:List*', 'kms:RevokeGrant'],
        Resource: '*',
      },
    ],
  };
}
