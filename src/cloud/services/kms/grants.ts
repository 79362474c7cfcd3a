// KMS grants as AWS KMS honours them ("Grants in AWS KMS"): a grant lets its grantee principal use
// the key in the grant's operations, within its constraints, without any key policy or IAM policy
// statement; the retiring principal (and the grantee, when RetireGrant is among the operations) may
// retire it. The lab cloud keeps the grants in the target (moto stores them but enforces nothing) and
// hands them to the authorizer as statements of the key's resource policy: a statement naming the
// grantee is a "direct" allow, which IAM's evaluation honours without an identity-policy allow, while
// an explicit deny still wins.
import type { Upstream } from '../../gateway/upstream.ts';
import type { Statement } from '../../policy/types.ts';

export interface Grant {
  KeyId?: string;
  GrantId?: string;
  Name?: string | null;
  GranteePrincipal?: string;
  RetiringPrincipal?: string | null;
  Operations?: string[];
  Constraints?: { EncryptionContextSubset?: Record<string, string>; EncryptionContextEquals?: Record<string, string> } | null;
}

/** Grant operations AWS accepts (CreateGrant's Operations enum). */
export const GRANT_OPERATIONS = [
  'Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo',
  'Sign', 'Verify', 'GetPublicKey', 'CreateGrant', 'RetireGrant', 'DescribeKey', 'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext', 'GenerateMac', 'VerifyMac', 'DeriveSharedSecret',
];

/** The internal condition key the authorizer's RetireGrant check carries: the grant being retired. */
export const RETIRE_GRANT_ID = 'seclab:RetireGrantId';

const principalBlock = (p: string): Record<string, string> => (/^arn:|^\d{12}$/.test(p) ? { AWS: p } : { Service: p });

/** A grant as statements of its key's resource policy. */
export function grantStatements(g: Grant): Statement[] {
  if (!g.GranteePrincipal || !g.GrantId) return [];
  const out: Statement[] = [];
  const ops = (g.Operations ?? []).filter((o) => o !== 'RetireGrant');
  if (ops.length) {
    const condition: Record<string, Record<string, unknown>> = {};
    const subset = g.Constraints?.EncryptionContextSubset;
    const equals = g.Constraints?.EncryptionContextEquals;
    const pairs = { ...(subset ?? {}), ...(equals ?? {}) };
    if (Object.keys(pairs).length) {
      condition['StringEquals'] = Object.fromEntries(Object.entries(pairs).map(([k, v]) => [`kms:EncryptionContext:${k}`, v]));
    }
    if (equals) condition['ForAllValues:StringEquals'] = { 'kms:EncryptionContextKeys': Object.keys(equals) };
    out.push({
      Sid: `Grant ${g.GrantId}`,
      Effect: 'Allow',
      Principal: principalBlock(g.GranteePrincipal),
      Action: ops.map((o) => `kms:${o}`),
      Resource: '*',
      ...(Object.keys(condition).length ? { Condition: condition } : {}),
    });
  }
  const retirers = [
    ...(g.RetiringPrincipal ? [g.RetiringPrincipal] : []),
    ...((g.Operations ?? []).includes('RetireGrant') ? [g.GranteePrincipal] : []),
  ];
  for (const r of retirers) {
    out.push({
      Sid: `Grant ${g.GrantId} retirement`,
      Effect: 'Allow',
      Principal: principalBlock(r),
      Action: 'kms:RetireGrant',
      Resource: '*',
      Condition: { StringEquals: { [RETIRE_GRANT_ID]: g.GrantId } },
    });
  }
  return out;
}

interface TokenEntry { account: string; region: string; keyId: string; grantId: string }

/** The grants of every key, read from the target and cached until a grant operation changes them. */
export class GrantBook {
  private readonly cache = new Map<string, Promise<Grant[]>>();
  private readonly tokens = new Map<string, TokenEntry>();
  /** GrantId -> when it was created (AWS's ListGrants CreationDate; moto has none). */
  readonly created = new Map<string, Date>();

  constructor(private readonly upstream: Upstream) {}

  /** The key's grants (account and region: the key's own). */
  list(account: string, region: string, keyId: string): Promise<Grant[]> {
    const k = `${account}|${region}|${keyId}`;
    let p = this.cache.get(k);
    if (!p) {
      p = this.upstream
        .json<{ Grants?: Grant[] }>(account, 'kms', 'ListGrants', { KeyId: keyId }, region)
        .then((r) => r.Grants ?? [], () => []);
      this.cache.set(k, p);
    }
    return p;
  }

  invalidate(account: string): void {
    for (const k of this.cache.keys()) if (k.startsWith(`${account}|`)) this.cache.delete(k);
  }

  remember(token: string, entry: TokenEntry, at: Date): void {
    this.tokens.set(token, entry);
    this.created.set(entry.grantId, at);
  }

  byToken(token: string): TokenEntry | undefined {
    return this.tokens.get(token);
  }

  dropAccount(account: string): void {
    this.invalidate(account);
    for (const [t, e] of this.tokens) if (e.account === account) this.tokens.delete(t);
  }
}
