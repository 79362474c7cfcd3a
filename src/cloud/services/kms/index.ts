// KMS in the lab cloud, as AWS KMS enforces it (docs/moto-deviations.md, "KMS"):
//  - key policies take part in authorization (a key policy must allow its callers), read in the
//    key's own account; the AWS managed key aws/ebs has AWS's key policy for it;
//  - grants allow their grantee the grant's operations (grants.ts), retiring is decided by the grant;
//  - an alias authorizes as the key it points to, Decrypt without KeyId as the key in the ciphertext;
//  - key states: a Disabled key or one pending deletion refuses what the key state table says
//    (keys.ts); ScheduleKeyDeletion's waiting period is 7-30 days; Enable/Disable/Schedule/Cancel
//    accept a key ARN and answer as AWS does.
// EBS encryption (src/cloud/services/ec2/ebs.ts) is hosted here: its hooks on EC2 calls and the KMS
// checks it adds to them are this runtime's, so the EC2 runtime stays the VPC data plane's.
import { defineService, type AuthorizationPart, type Capabilities, type ServiceRuntime } from '../../gateway/service.ts';
import { ApiError } from '../../gateway/api-error.ts';
import { jsonResult, type CallContext, type Reply, type ServiceExtension } from '../../gateway/extension.ts';
import type { UpstreamResponse } from '../../gateway/upstream.ts';
import { kmsKeyArn, type AuthzCheck } from '../../gateway/protocol/authz-map.ts';
import { randomUUID } from 'node:crypto';
import type { PolicyDocument, Statement } from '../../policy/types.ts';
import { awsManagedEbsKeyPolicy, describeKey, isDeleted, keyIdInCiphertext, keyNotFound, keyStateError, type KeyMeta } from './keys.ts';
import { GRANT_OPERATIONS, GrantBook, RETIRE_GRANT_ID, grantStatements, type Grant } from './grants.ts';
import { EbsEncryption } from '../ec2/ebs.ts';
import { ctTime, type CloudTrailRecord } from '../cloudtrail/recorder.ts';

const KEY_ARN = /^arn:aws[a-z-]*:kms:([^:]+):(\d{12}):key\/(.+)$/;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The key parameters of a KMS operation whose key state matters. */
function keyRefs(op: string, p: Record<string, unknown>): string[] {
  switch (op) {
    case 'CreateAlias':
    case 'UpdateAlias':
      return [str(p['TargetKeyId'])].filter((x): x is string => !!x);
    case 'ReEncrypt':
      return [str(p['SourceKeyId']) ?? keyIdInCiphertext(p['CiphertextBlob']), str(p['DestinationKeyId'])].filter((x): x is string => !!x);
    case 'Decrypt':
      return [str(p['KeyId']) ?? keyIdInCiphertext(p['CiphertextBlob'])].filter((x): x is string => !!x);
    default:
      return [str(p['KeyId'])].filter((x): x is string => !!x);
  }
}

export class KmsService implements ServiceRuntime {
  readonly extensions: ServiceExtension[];
  readonly authorization: AuthorizationPart;
  readonly grants: GrantBook;
  /** EBS encryption by default, volumes and snapshots with their keys, the KMS side of EBS calls. */
  readonly ebs: EbsEncryption;
  /** Key ARN -> whether it is an AWS managed key for EBS (alias aws/ebs). */
  private readonly awsEbsKeys = new Map<string, Promise<boolean>>();

  constructor(private readonly caps: Capabilities) {
    this.grants = new GrantBook(caps.target);
    this.ebs = new EbsEncryption(caps.target, this);
    this.extensions = [{
      service: 'kms',
      serve: (ctx) => this.serve(ctx),
      after: (ctx, res) => this.after(ctx, res),
    }, this.ebs.extension()];
    this.authorization = {
      resourcePolicy: async ({ resource }) => {
        const kms = KEY_ARN.exec(resource);
        if (!kms) return undefined;
        const [, region, account, keyId] = kms as unknown as [string, string, string, string];
        // The key's own account holds its policy and grants (not the caller's).
        const [doc, grants, awsEbs] = await Promise.all([
          this.policies.keyPolicy(account, region, keyId),
          this.grants.list(account, region, keyId),
          this.isAwsManagedEbsKey(resource),
        ]);
        const base = awsEbs ? awsManagedEbsKeyPolicy(account, region) : doc;
        const statements: Statement[] = [
          ...(base ? (Array.isArray(base.Statement) ? base.Statement : [base.Statement]) : []),
          ...grants.flatMap(grantStatements),
        ];
        if (!base && !statements.length) return 'none';
        const document: PolicyDocument = { Version: '2012-10-17', Statement: statements };
        return { source: `key policy of ${keyId}`, document, account, mustAllow: true };
      },
      resolve: async (check, cred, call) => {
        if (call.service === 'ec2') return this.ebs.resolve(check, cred, call);
        if (call.service !== 'kms') return check;
        const p = call.params;
        let out = check;
        // Authorize against the key an alias points to, as KMS does.
        if (check.resolve?.kmsAliasArn) {
          const meta = await describeKey(caps.target, check.resolve.kmsAliasArn, cred.account, call.region);
          if (meta) out = { ...out, resources: [meta.Arn] };
        }
        // UpdateAlias: the key the alias names now must allow it too (its key policy decides).
        if (check.resolve?.kmsAliasCurrentKey) {
          const meta = await describeKey(caps.target, check.resolve.kmsAliasCurrentKey, cred.account, call.region);
          if (meta) out = { ...out, additional: [...(out.additional ?? []), { action: 'kms:UpdateAlias', resources: [meta.Arn], context: out.context }] };
        }
        // Decrypt (and ReEncrypt) without a key id: the key is the one the ciphertext names.
        if ((call.operation === 'Decrypt' && !str(p['KeyId'])) || (call.operation === 'ReEncrypt' && !str(p['SourceKeyId']))) {
          const id = keyIdInCiphertext(p['CiphertextBlob']);
          if (id) out = { ...out, resources: [kmsKeyArn(call.region, cred.account, id)] };
        }
        if (call.operation === 'ScheduleKeyDeletion') {
          const days = str(p['PendingWindowInDays']) ?? (typeof p['PendingWindowInDays'] === 'number' ? String(p['PendingWindowInDays']) : '30');
          out = { ...out, context: { ...out.context, 'kms:ScheduleKeyDeletionPendingWindowInDays': days } };
        }
        if (call.operation === 'RetireGrant') out = await this.resolveRetire(out, cred.account, call.region, p);
        return out;
      },
    };
  }

  /** Where key policies are read and cached. */
  get policies() {
    return this.caps.service('iam').policies;
  }

  /** Whether the key is the AWS managed key of EBS in its account (alias aws/ebs). */
  isAwsManagedEbsKey(keyArn: string): Promise<boolean> {
    let p = this.awsEbsKeys.get(keyArn);
    if (!p) {
      const m = KEY_ARN.exec(keyArn);
      if (!m) return Promise.resolve(false);
      p = this.caps.target
        .json<{ Aliases?: { AliasName?: string }[] }>(m[2]!, 'kms', 'ListAliases', { KeyId: m[3] }, m[1])
        .then((r) => (r.Aliases ?? []).some((a) => a.AliasName === 'alias/aws/ebs'), () => false);
      // Users cannot create aliases under alias/aws/: a key's answer does not change.
      this.awsEbsKeys.set(keyArn, p);
    }
    return p;
  }

  /** The AWS managed key aws/ebs of an account and region (the target creates it on first use, as AWS does). */
  async awsManagedEbsKey(account: string, region: string): Promise<KeyMeta | undefined> {
    const meta = await describeKey(this.caps.target, 'alias/aws/ebs', account, region);
    if (meta) this.awsEbsKeys.set(meta.Arn, Promise.resolve(true));
    return meta;
  }

  /**
   * The KMS calls EC2 made for an EBS call, as CloudTrail records them: the caller's identity,
   * invokedBy ec2.amazonaws.com, the key as resource; logged in the caller's account and, for a key
   * of another account (a shared snapshot), in the key owner's account too, with a shared event id.
   */
  recordViaEc2(ctx: CallContext, checks: AuthzCheck[]): void {
    const ct = this.caps.service('cloudtrail');
    const identity = { ...ct.userIdentityOf(ctx.cred), invokedBy: 'ec2.amazonaws.com' };
    const time = ctTime(this.caps.clock.now());
    const seen = new Set<string>();
    for (const c of checks) {
      const keyArn = c.resources[0];
      const name = c.action.replace(/^kms:/, '').replace(/^ReEncrypt(From|To)$/, 'ReEncrypt');
      if (!keyArn || seen.has(`${name}|${keyArn}`)) continue;
      seen.add(`${name}|${keyArn}`);
      const owner = KEY_ARN.exec(keyArn)?.[2] ?? ctx.cred.account;
      const record: CloudTrailRecord = {
        eventVersion: '1.08', userIdentity: identity, eventTime: time, eventSource: 'kms.amazonaws.com', eventName: name,
        awsRegion: ctx.call.region, sourceIPAddress: 'ec2.amazonaws.com', userAgent: 'ec2.amazonaws.com',
        requestParameters: { keyId: keyArn, ...(name === 'CreateGrant' ? { granteePrincipal: `ec2.${ctx.call.region}.amazonaws.com`, operations: ['Decrypt'] } : {}) },
        responseElements: null, requestID: randomUUID(), eventID: ct.trail.newEventId(), readOnly: name === 'DescribeKey',
        resources: [{ ARN: keyArn, accountId: owner, type: 'AWS::KMS::Key' }], eventType: 'AwsApiCall', managementEvent: true,
        recipientAccountId: ctx.cred.account, eventCategory: 'Management',
      };
      if (owner !== ctx.cred.account) {
        record.sharedEventID = randomUUID();
        ct.trail.add(record);
        ct.trail.add({ ...record, eventID: ct.trail.newEventId(), recipientAccountId: owner });
      } else {
        ct.trail.add(record);
      }
    }
  }

  /** RetireGrant is authorized by the grant: its key, and which grant (the retiring principal's statement names it). */
  private async resolveRetire(check: Parameters<NonNullable<AuthorizationPart['resolve']>>[0], account: string, region: string, p: Record<string, unknown>) {
    let keyArn: string | undefined;
    let grantId = str(p['GrantId']);
    const token = str(p['GrantToken']);
    if (token) {
      const t = this.grants.byToken(token);
      if (t) {
        keyArn = kmsKeyArn(t.region, t.account, t.keyId);
        grantId = t.grantId;
      }
    }
    const keyRef = str(p['KeyId']);
    if (!keyArn && keyRef) keyArn = (await describeKey(this.caps.target, keyRef, account, region))?.Arn;
    if (!keyArn || !grantId) return check;
    return { ...check, resources: [keyArn], context: { ...check.context, [RETIRE_GRANT_ID]: grantId } };
  }

  /** Key states, and the key lifecycle operations moto gets wrong (a key ARN, the waiting period, the answers). */
  private async serve(ctx: CallContext): Promise<Reply | undefined> {
    const { cred, call, requestId } = ctx;
    const op = call.operation;
    const p = call.params;
    if (op === 'ScheduleKeyDeletion' && p['PendingWindowInDays'] !== undefined) {
      const days = Number(p['PendingWindowInDays']);
      if (!Number.isInteger(days) || days < 7 || days > 30) {
        const constraint = days < 7 ? 'greater than or equal to 7' : 'less than or equal to 30';
        throw new ApiError(400, 'ValidationException', `1 validation error detected: Value '${String(p['PendingWindowInDays'])}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value ${constraint}`);
      }
    }
    if (op === 'CreateGrant') {
      const ops = Array.isArray(p['Operations']) ? (p['Operations'] as unknown[]).map(String) : [];
      const bad = ops.filter((o) => !GRANT_OPERATIONS.includes(o));
      if (!ops.length || bad.length) {
        throw new ApiError(400, 'ValidationException', `1 validation error detected: Value '[${ops.join(', ')}]' at 'operations' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [${GRANT_OPERATIONS.join(', ')}]]`);
      }
      if (!str(p['GranteePrincipal'])) throw new ApiError(400, 'ValidationException', "1 validation error detected: Value null at 'granteePrincipal' failed to satisfy constraint: Member must not be null");
    }
    const refs = keyRefs(op, p);
    let key: KeyMeta | undefined;
    for (const ref of refs) {
      const meta = await describeKey(this.caps.target, ref, cred.account, call.region);
      if (!meta) continue; // the target answers NotFoundException
      // The waiting period is over (lab clock): the key is gone.
      if (isDeleted(meta, this.caps.clock.nowMs())) throw keyNotFound(meta.Arn);
      key ??= meta;
      const err = keyStateError(meta, op);
      if (err) throw err;
    }
    if (!key || !['EnableKey', 'DisableKey', 'ScheduleKeyDeletion', 'CancelKeyDeletion'].includes(op)) return undefined;
    const home = KEY_ARN.exec(key.Arn)!;
    const [account, region, keyId] = [home[2]!, home[1]!, home[3]!];
    try {
      if (op === 'ScheduleKeyDeletion') {
        const days = p['PendingWindowInDays'] === undefined ? 30 : Number(p['PendingWindowInDays']);
        const r = await this.caps.target.json<{ DeletionDate?: Date }>(account, 'kms', op, { KeyId: keyId, PendingWindowInDays: days }, region);
        return jsonResult({
          KeyId: key.Arn,
          DeletionDate: r.DeletionDate ? r.DeletionDate.getTime() / 1000 : undefined,
          KeyState: 'PendingDeletion',
          PendingWindowInDays: days,
        }, requestId);
      }
      await this.caps.target.json(account, 'kms', op, { KeyId: keyId }, region);
    } catch (e) {
      const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      throw new ApiError(err.$metadata?.httpStatusCode ?? 400, err.name ?? 'KMSInternalException', err.message ?? '');
    }
    return jsonResult(op === 'CancelKeyDeletion' ? { KeyId: key.Arn } : {}, requestId);
  }

  private async after({ cred, call }: CallContext, res: UpstreamResponse): Promise<UpstreamResponse | void> {
    const op = call.operation;
    const p = call.params;
    if (op === 'PutKeyPolicy') this.policies.invalidateKey(cred.account, String(p['KeyId'] ?? ''));
    if (op === 'CreateGrant' || op === 'RetireGrant' || op === 'RevokeGrant') this.grants.invalidate(cred.account);
    if (op === 'CreateGrant') {
      const r = JSON.parse(res.body.toString('utf8')) as { GrantId?: string; GrantToken?: string };
      const key = await describeKey(this.caps.target, String(p['KeyId'] ?? ''), cred.account, call.region);
      const m = key ? KEY_ARN.exec(key.Arn) : null;
      if (r.GrantId && r.GrantToken && m) this.grants.remember(r.GrantToken, { account: m[2]!, region: m[1]!, keyId: m[3]!, grantId: r.GrantId }, this.caps.clock.now());
      return;
    }
    if (op === 'ListGrants') {
      // AWS: KeyId is the key ARN, IssuingAccount and CreationDate are set, absent fields are left out.
      const r = JSON.parse(res.body.toString('utf8')) as { Grants?: Grant[]; Truncated?: boolean; NextMarker?: string };
      const key = await describeKey(this.caps.target, String(p['KeyId'] ?? ''), cred.account, call.region);
      const grants = (r.Grants ?? []).map((g) => {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(g)) if (v !== null && v !== undefined) out[k] = v;
        if (key) out['KeyId'] = key.Arn;
        out['IssuingAccount'] = `arn:aws:iam::${key?.AWSAccountId ?? cred.account}:root`;
        const at = g.GrantId ? this.grants.created.get(g.GrantId) : undefined;
        if (at) out['CreationDate'] = at.getTime() / 1000;
        return out;
      });
      const body = Buffer.from(JSON.stringify({ Grants: grants, Truncated: false }));
      return { ...res, headers: { ...res.headers, 'content-length': String(body.length) }, body };
    }
    if (op === 'ListKeys' || op === 'ListAliases') {
      // Keys whose waiting period is over are deleted (and their aliases with them).
      const r = JSON.parse(res.body.toString('utf8')) as { Keys?: { KeyId?: string }[]; Aliases?: { TargetKeyId?: string }[] };
      const ids = [...new Set([...(r.Keys ?? []).map((k) => k.KeyId), ...(r.Aliases ?? []).map((a) => a.TargetKeyId)].filter((x): x is string => !!x))];
      const gone = new Set<string>();
      for (const id of ids) {
        const meta = await describeKey(this.caps.target, id, cred.account, call.region);
        if (meta && isDeleted(meta, this.caps.clock.nowMs())) gone.add(id);
      }
      if (!gone.size) return;
      if (r.Keys) r.Keys = r.Keys.filter((k) => !gone.has(k.KeyId ?? ''));
      if (r.Aliases) r.Aliases = r.Aliases.filter((a) => !gone.has(a.TargetKeyId ?? ''));
      const body = Buffer.from(JSON.stringify(r));
      return { ...res, headers: { ...res.headers, 'content-length': String(body.length) }, body };
    }
    if (op === 'DescribeKey') {
      // The AWS managed key of EBS is managed by AWS.
      const r = JSON.parse(res.body.toString('utf8')) as { KeyMetadata?: KeyMeta & Record<string, unknown> };
      if (r.KeyMetadata?.Arn && (await this.isAwsManagedEbsKey(r.KeyMetadata.Arn))) {
        r.KeyMetadata.KeyManager = 'AWS';
        r.KeyMetadata['Description'] = 'Default key that protects my EBS volumes when no other key is defined';
        const body = Buffer.from(JSON.stringify(r));
        return { ...res, headers: { ...res.headers, 'content-length': String(body.length) }, body };
      }
    }
  }

  dropAccount(account: string): void {
    this.grants.dropAccount(account);
    this.ebs.dropAccount(account);
  }
}

declare module '../../gateway/service.ts' {
  interface LabServices {
    kms: KmsService;
  }
}

export const kmsService = defineService('kms', (caps) => new KmsService(caps));
