// S3 Object Lock as AWS documents it (S3 User Guide, "Locking objects with Object Lock", "How S3
// Object Lock works", "Managing Object Lock"; API reference of PutObjectLockConfiguration,
// PutObjectRetention, PutObjectLegalHold, DeleteObject(s), PutObject). The checkpoints of the audit
// ledger are anchored in a compliance-mode bucket: nobody, root included, may delete or shorten them.
//
// moto 5.2.1 stores retention and legal holds and refuses some deletions, but (measured, see
// docs/s3-object-lock.md):
// - compares retention dates with the wall clock, not the lab clock (which runs ahead);
// - honours x-amz-bypass-governance-retention for anyone (any value of the header, no permission);
// - lets PutObjectRetention shorten or remove any retention, compliance mode included;
// - refuses PutObjectLockConfiguration on a bucket that holds objects ("Bucket needs to be empty"),
//   although AWS allows enabling Object Lock on existing versioned buckets and changing the default;
// - lets versioning be suspended on an Object Lock bucket;
// - accepts a retain-until date in the past, or a mode without a date, on PutObject;
// - answers GetObjectRetention with XML that SDKs cannot parse, and an empty LegalHold instead of
//   NoSuchObjectLockConfiguration;
// - says "Access Denied" where AWS says "Access Denied because object protected by object lock.".
// So the gateway owns the decisions: it keeps each bucket's Object Lock configuration, reads a
// version's retention and legal hold from the target (HeadObject), decides with the lab clock, and
// makes the target agree (a deletion it allows is never refused by moto's wall clock).
import { ApiError } from '../../gateway/api-error.ts';
import type { CallContext, Reply, ServiceExtension } from '../../gateway/extension.ts';
import { xmlEscape, xmlTag } from '../../gateway/extension.ts';
import { errorResponse } from '../../gateway/protocol/errors.ts';
import type { Capabilities } from '../../gateway/service.ts';
import type { Credential } from '../../gateway/credentials.ts';
import type { ApiCall } from '../../gateway/protocol/identify.ts';
import type { AuthzCheck, AuthzRequirement } from '../../gateway/protocol/authz-map.ts';
import type { S3Service } from './index.ts';

export type LockMode = 'GOVERNANCE' | 'COMPLIANCE';
export interface DefaultRetention { mode: LockMode; days?: number; years?: number }
/** A bucket's Object Lock configuration as the gateway enforces it. */
export interface LockConfiguration {
  enabled: boolean;
  rule?: DefaultRetention;
  /** The default retention the target has (it applies it itself, with its own clock). */
  targetRule?: DefaultRetention;
}
/** What protects one object version. */
export interface VersionLock { mode?: LockMode; until?: Date; legalHold: boolean }

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const MODES: readonly string[] = ['GOVERNANCE', 'COMPLIANCE'];
export const LOCKED_MESSAGE = 'Access Denied because object protected by object lock.';
const MISSING_CONFIG = 'Bucket is missing Object Lock Configuration';
const MALFORMED = 'The XML you provided was not well-formed or did not validate against our published schema';

/** The retain-until date a default retention gives a version created at `now` (Days: 24 h each; Years: calendar years). */
export function defaultRetainUntil(now: number, rule: DefaultRetention): Date {
  const d = new Date(now);
  if (rule.years) d.setUTCFullYear(d.getUTCFullYear() + rule.years);
  if (rule.days) d.setTime(d.getTime() + rule.days * 86_400_000);
  return d;
}

/** Whether a version's retention is in force at `now`. */
export function retentionActive(lock: VersionLock, now: number): boolean {
  return !!lock.mode && !!lock.until && lock.until.getTime() > now;
}

/**
 * Deleting a version: a legal hold always protects it; an active compliance retention always (root
 * too); an active governance retention unless the request bypasses it ("x-amz-bypass-governance-retention:
 * true" AND s3:BypassGovernanceRetention allowed). Returns whether the deletion may go ahead.
 */
export async function mayDeleteVersion(lock: VersionLock, now: number, bypassRequested: boolean, bypassAllowed: () => Promise<boolean>): Promise<boolean> {
  if (lock.legalHold) return false;
  if (!retentionActive(lock, now)) return true;
  if (lock.mode === 'COMPLIANCE') return false;
  return bypassRequested && (await bypassAllowed());
}

/**
 * Changing a version's retention (PutObjectRetention): while a retention is in force, compliance mode
 * can only be extended (same mode, a later or equal date); governance mode can be extended by anyone
 * allowed s3:PutObjectRetention, and shortened, removed or changed in mode only with the bypass.
 * `next` without a mode removes the retention.
 */
export async function mayChangeRetention(current: VersionLock, next: { mode?: LockMode; until?: Date }, now: number, bypassRequested: boolean, bypassAllowed: () => Promise<boolean>): Promise<boolean> {
  if (!retentionActive(current, now)) return true;
  const extends_ = next.mode === current.mode && !!next.until && next.until.getTime() >= current.until!.getTime();
  if (extends_) return true;
  if (current.mode === 'COMPLIANCE') return false;
  return bypassRequested && (await bypassAllowed());
}

type P = Record<string, unknown>;

/**
 * Object Lock condition keys AWS sets (Service Authorization Reference, Amazon S3; S3 User Guide,
 * "Setting limits on retention periods with a bucket policy"): s3:object-lock-mode,
 * s3:object-lock-retain-until-date and s3:object-lock-remaining-retention-days on uploads with lock
 * headers and on PutObjectRetention (from its body), s3:object-lock-legal-hold on PutObjectLegalHold.
 * Remaining days count from the lab clock, rounded up (a retention of 30 days from now is 30 days).
 */
export function lockConditionKeys(operation: string, params: Record<string, unknown>, nowMs: number): Record<string, string> {
  const keys: Record<string, string> = {};
  let mode: string | undefined;
  let until: string | undefined;
  if (operation === 'PutObjectRetention') {
    const r = params['Retention'];
    if (r && typeof r === 'object') {
      mode = str((r as P)['Mode']);
      until = str((r as P)['RetainUntilDate']);
    }
  } else if (['PutObject', 'CopyObject', 'CreateMultipartUpload', 'PostObject'].includes(operation)) {
    mode = str(params['x-amz-object-lock-mode']);
    until = str(params['x-amz-object-lock-retain-until-date']);
  } else if (operation === 'PutObjectLegalHold') {
    const h = params['LegalHold'];
    const status = h && typeof h === 'object' ? str((h as P)['Status']) : undefined;
    if (status) keys['s3:object-lock-legal-hold'] = status;
  }
  if (mode) keys['s3:object-lock-mode'] = mode;
  if (until) {
    keys['s3:object-lock-retain-until-date'] = until;
    const d = isoDate(until);
    if (d) keys['s3:object-lock-remaining-retention-days'] = String(Math.max(0, Math.ceil((d.getTime() - nowMs) / 86_400_000)));
  }
  return keys;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);

function s3Error(ctx: CallContext, status: number, code: string, message: string): ApiError {
  return new ApiError(status, code, message, (requestId) => errorResponse(ctx.call, status, code, message, requestId));
}

function xmlReply(ctx: CallContext, body: string, status = 200): Reply {
  return { status, headers: { 'content-type': 'application/xml', 'x-amz-request-id': ctx.requestId }, body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}` };
}

/** Parses an ISO 8601 date as S3 takes it; undefined when it is not one. */
function isoDate(v: string | undefined): Date | undefined {
  if (!v || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(v.trim())) return undefined;
  const d = new Date(v.trim());
  return Number.isNaN(d.getTime()) ? undefined : d;
}

const errName = (e: unknown): string => (e as { name?: string; Code?: string }).Code ?? (e as { name?: string }).name ?? 'Error';
const errStatus = (e: unknown): number | undefined => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

export class ObjectLock {
  /** Per bucket name (global, as in AWS): its owner and its configuration, read from the target once. */
  private readonly configs = new Map<string, { owner: string; config: Promise<LockConfiguration | undefined> }>();
  /** Per call: the versions (key NUL versionId) on which the authorizer allowed the governance bypass. */
  private readonly bypassChecked = new WeakMap<ApiCall, Set<string>>();
  /** Lock headers of multipart uploads, applied when the upload completes. */
  private readonly uploads = new Map<string, { mode?: LockMode; until?: Date; explicit: boolean }>();

  constructor(private readonly s3: S3Service, private readonly caps: Capabilities) {}

  private ownerOf(bucket: string, ctx: CallContext): string {
    return this.s3.bucketOwners.get(bucket) ?? ctx.cred.account;
  }

  /** The bucket's configuration; undefined when the bucket does not exist (the target answers). */
  configuration(owner: string, bucket: string): Promise<LockConfiguration | undefined> {
    const known = this.configs.get(bucket);
    if (known && known.owner === owner) return known.config;
    const config = this.readConfiguration(owner, bucket);
    this.configs.set(bucket, { owner, config });
    // A failed read, or a bucket that does not exist yet, is not remembered.
    const drop = () => {
      if (this.configs.get(bucket)?.config === config) this.configs.delete(bucket);
    };
    config.then((c) => c ?? drop(), drop);
    return config;
  }

  private async readConfiguration(owner: string, bucket: string): Promise<LockConfiguration | undefined> {
    try {
      const r = await this.s3.target.json<{ ObjectLockConfiguration?: { ObjectLockEnabled?: string; Rule?: { DefaultRetention?: { Mode?: string; Days?: number; Years?: number } } } }>(owner, 's3', 'GetObjectLockConfiguration', { Bucket: bucket });
      const c = r.ObjectLockConfiguration;
      const d = c?.Rule?.DefaultRetention;
      const rule = d?.Mode && MODES.includes(d.Mode) && (d.Days || d.Years) ? { mode: d.Mode as LockMode, ...(d.Days ? { days: d.Days } : {}), ...(d.Years ? { years: d.Years } : {}) } : undefined;
      return { enabled: c?.ObjectLockEnabled === 'Enabled', ...(rule ? { rule, targetRule: rule } : {}) };
    } catch (e) {
      const name = errName(e);
      if (name === 'ObjectLockConfigurationNotFoundError') return { enabled: false };
      if (name === 'NoSuchBucket') return undefined;
      throw e;
    }
  }

  forget(bucket: string): void {
    this.configs.delete(bucket);
  }

  dropAccount(account: string): void {
    for (const [b, v] of this.configs) if (v.owner === account) this.configs.delete(b);
  }

  /** Retention and legal hold of one version (the current one without a version id); undefined when there is none. */
  async versionLock(owner: string, bucket: string, key: string, versionId?: string): Promise<VersionLock | undefined> {
    try {
      const h = await this.s3.target.json<{ ObjectLockMode?: string; ObjectLockRetainUntilDate?: Date; ObjectLockLegalHoldStatus?: string }>(owner, 's3', 'HeadObject', { Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) });
      return {
        ...(h.ObjectLockMode && MODES.includes(h.ObjectLockMode) ? { mode: h.ObjectLockMode as LockMode } : {}),
        ...(h.ObjectLockRetainUntilDate ? { until: new Date(h.ObjectLockRetainUntilDate) } : {}),
        legalHold: h.ObjectLockLegalHoldStatus === 'ON',
      };
    } catch (e) {
      const status = errStatus(e);
      // No such key or version, or a delete marker (405): nothing to protect.
      if (status === 404 || status === 405 || status === 400) return undefined;
      throw e;
    }
  }

  /**
   * Authorization: a request that asks to bypass governance retention (x-amz-bypass-governance-retention:
   * true) on a version whose active governance retention stands in its way must also be allowed
   * s3:BypassGovernanceRetention on that object. The check joins the call's own authorization (same
   * request context, SCPs, boundaries, resource and VPC endpoint policies); the S3 hooks below then
   * know the bypass was authorized. Only versions that need it are checked: the header on an unlocked
   * version needs no such permission.
   */
  async withBypassCheck(requirement: AuthzRequirement, cred: Credential, call: ApiCall): Promise<AuthzRequirement> {
    const p = call.params;
    if (str(p['x-amz-bypass-governance-retention'])?.toLowerCase() !== 'true') return requirement;
    const bucket = str(p['Bucket']);
    if (!bucket) return requirement;
    let targets: { key: string; versionId?: string }[] = [];
    if (call.operation === 'DeleteObject' && str(p['versionId']) && str(p['Key']) !== undefined) targets = [{ key: str(p['Key'])!, versionId: str(p['versionId'])! }];
    else if (call.operation === 'PutObjectRetention' && str(p['Key']) !== undefined) targets = [{ key: str(p['Key'])!, ...(str(p['versionId']) ? { versionId: str(p['versionId'])! } : {}) }];
    else if (call.operation === 'DeleteObjects') {
      const objects = ((p['Delete'] as P | undefined)?.['Objects'] ?? []) as P[];
      targets = (Array.isArray(objects) ? objects : []).flatMap((o) => (str(o['VersionId']) ? [{ key: str(o['Key']) ?? '', versionId: str(o['VersionId'])! }] : []));
    }
    if (targets.length === 0) return requirement;
    const owner = this.s3.bucketOwners.get(bucket) ?? cred.account;
    const config = await this.configuration(owner, bucket);
    if (!config?.enabled) return requirement;
    const now = this.caps.clock.nowMs();
    let next: { mode?: LockMode; until?: Date } | undefined;
    if (call.operation === 'PutObjectRetention') {
      const r = p['Retention'];
      const body = r && typeof r === 'object' ? (r as P) : {};
      const mode = str(body['Mode']);
      const until = isoDate(str(body['RetainUntilDate']));
      next = { ...(mode && MODES.includes(mode) ? { mode: mode as LockMode } : {}), ...(until ? { until } : {}) };
    }
    const resources = new Set<string>();
    const checked = new Set<string>();
    for (const t of targets) {
      const lock = await this.versionLock(owner, bucket, t.key, t.versionId);
      if (!lock || lock.mode !== 'GOVERNANCE' || !retentionActive(lock, now)) continue;
      if (next && (await mayChangeRetention(lock, next, now, false, async () => false))) continue; // an extension
      if (!next && lock.legalHold) continue; // refused whatever the bypass
      resources.add(`arn:aws:s3:::${bucket}/${t.key}`);
      checked.add(`${t.key}\0${t.versionId ?? ''}`);
    }
    if (resources.size === 0) return requirement;
    this.bypassChecked.set(call, checked);
    const check: AuthzCheck = { action: 's3:BypassGovernanceRetention', resources: [...resources], context: { ...requirement.context } };
    return { ...requirement, additional: [...(requirement.additional ?? []), check] };
  }

  /** Whether this call's bypass of a version's governance retention was authorized (see withBypassCheck). */
  private bypassAuthorized(ctx: CallContext, key: string, versionId?: string): () => Promise<boolean> {
    return async () => this.bypassChecked.get(ctx.call)?.has(`${key}\0${versionId ?? ''}`) ?? false;
  }

  /**
   * Before the target deletes a version the gateway allowed to go: moto compares retention with the
   * wall clock (behind the lab clock) and may still hold it; its retention is cleared first.
   */
  private async releaseInTarget(owner: string, bucket: string, key: string, versionId: string, lock: VersionLock): Promise<void> {
    if (!lock.mode || !lock.until || lock.until.getTime() <= Date.now() - 1000) return;
    await this.s3.target.json(owner, 's3', 'PutObjectRetention', { Bucket: bucket, Key: key, VersionId: versionId, Retention: {} });
  }

  /** Validated lock headers of a write (PutObject, CopyObject, CreateMultipartUpload). */
  private lockHeaders(ctx: CallContext): { mode?: LockMode; until?: Date; legalHold?: string } {
    const p = ctx.call.params;
    const mode = str(p['x-amz-object-lock-mode']);
    const untilText = str(p['x-amz-object-lock-retain-until-date']);
    const legalHold = str(p['x-amz-object-lock-legal-hold']);
    if (mode !== undefined && !MODES.includes(mode)) throw s3Error(ctx, 400, 'InvalidArgument', 'Unknown wormMode directive.');
    if ((mode === undefined) !== (untilText === undefined)) {
      throw s3Error(ctx, 400, 'InvalidArgument', 'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied');
    }
    let until: Date | undefined;
    if (untilText !== undefined) {
      until = isoDate(untilText);
      if (!until) throw s3Error(ctx, 400, 'InvalidArgument', 'The retain until date must be provided in ISO 8601 format');
      if (until.getTime() <= this.caps.clock.nowMs()) throw s3Error(ctx, 400, 'InvalidArgument', 'The retain until date must be in the future!');
    }
    if (legalHold !== undefined && legalHold !== 'ON' && legalHold !== 'OFF') throw s3Error(ctx, 400, 'InvalidArgument', "Legal Hold must be either of 'ON' or 'OFF'");
    return { ...(mode ? { mode: mode as LockMode } : {}), ...(until ? { until } : {}), ...(legalHold ? { legalHold } : {}) };
  }

  /** The bucket's configuration, or InvalidRequest when Object Lock is not enabled on it. */
  private async requireLock(ctx: CallContext, bucket: string): Promise<LockConfiguration | undefined> {
    const config = await this.configuration(this.ownerOf(bucket, ctx), bucket);
    if (config && !config.enabled) throw s3Error(ctx, 400, 'InvalidRequest', MISSING_CONFIG);
    return config;
  }

  extension(): ServiceExtension {
    return {
      service: 's3',

      serve: async (ctx) => {
        const { call } = ctx;
        const bucket = str(call.params['Bucket']);
        if (!bucket) return undefined;
        switch (call.operation) {
          case 'GetObjectLockConfiguration': return this.getConfiguration(ctx, bucket);
          case 'PutObjectLockConfiguration': return this.putConfiguration(ctx, bucket);
          case 'GetObjectRetention': return this.getRetention(ctx, bucket, 'retention');
          case 'GetObjectLegalHold': return this.getRetention(ctx, bucket, 'legal-hold');
          case 'DeleteObjects': return this.deleteObjects(ctx, bucket);
          default: return undefined;
        }
      },

      before: async (ctx) => {
        const { call } = ctx;
        const p = call.params;
        const bucket = str(p['Bucket']);
        if (!bucket) return;
        const owner = this.ownerOf(bucket, ctx);
        switch (call.operation) {
          case 'PutBucketVersioning': {
            const status = str((p['VersioningConfiguration'] as P | undefined)?.['Status']);
            const config = await this.configuration(owner, bucket);
            if (config?.enabled && status !== undefined && status !== 'Enabled') {
              throw s3Error(ctx, 409, 'InvalidBucketState', 'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.');
            }
            return;
          }
          case 'PutObject': case 'CopyObject': case 'CreateMultipartUpload': {
            const h = this.lockHeaders(ctx);
            if (h.mode || h.legalHold) {
              const config = await this.configuration(owner, bucket);
              if (config && !config.enabled) throw s3Error(ctx, 400, 'InvalidRequest', MISSING_CONFIG);
            }
            return;
          }
          case 'PutObjectLegalHold': {
            await this.requireLock(ctx, bucket);
            const status = str((p['LegalHold'] as P | undefined)?.['Status']);
            if (status !== 'ON' && status !== 'OFF') throw s3Error(ctx, 400, 'MalformedXML', MALFORMED);
            return;
          }
          case 'PutObjectRetention': return this.checkRetentionChange(ctx, owner, bucket);
          case 'DeleteObject': {
            const versionId = str(p['versionId']);
            const key = str(p['Key']);
            if (!versionId || key === undefined) return; // a delete marker: always allowed
            const config = await this.configuration(owner, bucket);
            if (!config?.enabled) return;
            const lock = await this.versionLock(owner, bucket, key, versionId);
            if (!lock) return;
            const bypass = str(p['x-amz-bypass-governance-retention'])?.toLowerCase() === 'true';
            if (!(await mayDeleteVersion(lock, this.caps.clock.nowMs(), bypass, this.bypassAuthorized(ctx, key, versionId)))) {
              throw s3Error(ctx, 403, 'AccessDenied', LOCKED_MESSAGE);
            }
            await this.releaseInTarget(owner, bucket, key, versionId, lock);
            return;
          }
          default: return;
        }
      },

      after: async (ctx, res) => {
        const { call } = ctx;
        const p = call.params;
        const bucket = str(p['Bucket']);
        if (!bucket) return;
        switch (call.operation) {
          case 'CreateBucket': case 'DeleteBucket':
            this.forget(bucket);
            return;
          case 'AbortMultipartUpload':
            this.uploads.delete(str(p['uploadId']) ?? '');
            return;
          case 'CreateMultipartUpload': {
            const uploadId = xmlTag(res.body.toString('utf8'), 'UploadId');
            const h = this.lockHeaders(ctx);
            if (uploadId) this.uploads.set(uploadId, { ...(h.mode ? { mode: h.mode } : {}), ...(h.until ? { until: h.until } : {}), explicit: !!h.mode });
            return;
          }
          case 'PutObject': case 'CopyObject': case 'CompleteMultipartUpload': {
            const owner = this.ownerOf(bucket, ctx);
            const config = await this.configuration(owner, bucket);
            if (!config?.enabled) return;
            const versionId = [res.headers['x-amz-version-id']].flat()[0];
            const key = str(p['Key']);
            if (!versionId || key === undefined) return;
            let explicit = !!str(p['x-amz-object-lock-mode']);
            if (call.operation === 'CompleteMultipartUpload') {
              const uploadId = str(p['uploadId']) ?? '';
              const u = this.uploads.get(uploadId);
              this.uploads.delete(uploadId);
              if (u?.explicit) {
                await this.s3.target.json(owner, 's3', 'PutObjectRetention', { Bucket: bucket, Key: key, VersionId: versionId, Retention: { Mode: u.mode, RetainUntilDate: u.until } });
              }
              explicit = !!u?.explicit;
            }
            if (explicit) return;
            // The bucket's default retention, from the lab clock (moto would use its own wall clock,
            // or a default the gateway has since replaced).
            if (config.rule) {
              const until = defaultRetainUntil(this.caps.clock.nowMs(), config.rule);
              await this.s3.target.json(owner, 's3', 'PutObjectRetention', { Bucket: bucket, Key: key, VersionId: versionId, Retention: { Mode: config.rule.mode, RetainUntilDate: until } });
            } else if (config.targetRule) {
              await this.s3.target.json(owner, 's3', 'PutObjectRetention', { Bucket: bucket, Key: key, VersionId: versionId, Retention: {} });
            }
            return;
          }
          default: return;
        }
      },
    };
  }

  private async getConfiguration(ctx: CallContext, bucket: string): Promise<Reply | undefined> {
    const config = await this.configuration(this.ownerOf(bucket, ctx), bucket);
    if (!config) return undefined; // NoSuchBucket, from the target
    if (!config.enabled) throw s3Error(ctx, 404, 'ObjectLockConfigurationNotFoundError', 'Object Lock configuration does not exist for this bucket');
    const r = config.rule;
    const rule = r ? `<Rule><DefaultRetention><Mode>${r.mode}</Mode>${r.days ? `<Days>${r.days}</Days>` : ''}${r.years ? `<Years>${r.years}</Years>` : ''}</DefaultRetention></Rule>` : '';
    return xmlReply(ctx, `<ObjectLockConfiguration xmlns="${NS}"><ObjectLockEnabled>Enabled</ObjectLockEnabled>${rule}</ObjectLockConfiguration>`);
  }

  /**
   * PutObjectLockConfiguration: ObjectLockEnabled must be Enabled (it cannot be turned off); a
   * DefaultRetention needs a mode and exactly one of Days and Years, a positive integer; the bucket's
   * versioning must be Enabled. AWS allows it on existing buckets that hold objects; moto only on empty
   * ones, so the gateway keeps the default itself and enables Object Lock in moto another way.
   */
  private async putConfiguration(ctx: CallContext, bucket: string): Promise<Reply | undefined> {
    const owner = this.ownerOf(bucket, ctx);
    const config = await this.configuration(owner, bucket);
    if (!config) return undefined; // NoSuchBucket, from the target
    const body = ctx.call.params['ObjectLockConfiguration'] as P | undefined;
    if (!body || typeof body !== 'object' || str(body['ObjectLockEnabled']) !== 'Enabled') throw s3Error(ctx, 400, 'MalformedXML', MALFORMED);
    let rule: DefaultRetention | undefined;
    const ruleXml = body['Rule'];
    if (ruleXml !== undefined) {
      const d = (ruleXml as P | undefined)?.['DefaultRetention'] as P | undefined;
      const mode = str(d?.['Mode']);
      const days = str(d?.['Days']);
      const years = str(d?.['Years']);
      if (!d || !mode || !MODES.includes(mode) || (days === undefined) === (years === undefined)) throw s3Error(ctx, 400, 'MalformedXML', MALFORMED);
      const n = Number(days ?? years);
      if (!Number.isInteger(n) || n <= 0) throw s3Error(ctx, 400, 'InvalidArgument', 'Default retention period must be a positive integer value.');
      rule = { mode: mode as LockMode, ...(days !== undefined ? { days: n } : { years: n }) };
    }
    const versioning = await this.s3.target.json<{ Status?: string }>(owner, 's3', 'GetBucketVersioning', { Bucket: bucket });
    if (versioning.Status !== 'Enabled') {
      throw s3Error(ctx, 409, 'InvalidBucketState', "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration");
    }
    // moto gets Object Lock without the default retention: the gateway applies the default itself
    // (from the lab clock), and moto with a default of its own would refuse every CopyObject into the
    // bucket (it asks a copy, which has no body, for Content-MD5 or a checksum).
    let targetRule = config.targetRule;
    try {
      await this.s3.target.json(owner, 's3', 'PutObjectLockConfiguration', { Bucket: bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } });
      targetRule = undefined;
    } catch (e) {
      // moto refuses a bucket that holds objects ("Bucket needs to be empty"). A repeated CreateBucket
      // with Object Lock by its owner turns Object Lock on in moto (us-east-1's idempotent CreateBucket);
      // the default retention stays the gateway's, applied after each write.
      if (errName(e) !== 'InvalidBucket') throw e;
      if (!config.enabled) {
        try {
          await this.s3.target.json(owner, 's3', 'CreateBucket', { Bucket: bucket, ObjectLockEnabledForBucket: true });
        } catch (e2) {
          throw s3Error(ctx, 501, 'NotImplemented', `The lab cloud can enable Object Lock on a bucket that already holds objects only in us-east-1 (${errName(e2)}); enable it when you create the bucket (ObjectLockEnabledForBucket).`);
        }
      }
    }
    const next: LockConfiguration = { enabled: true, ...(rule ? { rule } : {}), ...(targetRule ? { targetRule } : {}) };
    this.configs.set(bucket, { owner, config: Promise.resolve(next) });
    return { status: 200, headers: { 'x-amz-request-id': ctx.requestId }, body: '' };
  }

  /** GetObjectRetention / GetObjectLegalHold, from the version's HeadObject (moto's own answers do not parse). */
  private async getRetention(ctx: CallContext, bucket: string, what: 'retention' | 'legal-hold'): Promise<Reply | undefined> {
    const p = ctx.call.params;
    const key = str(p['Key']);
    const versionId = str(p['versionId']);
    if (key === undefined) return undefined;
    const config = await this.requireLock(ctx, bucket);
    if (!config) return undefined;
    const owner = this.ownerOf(bucket, ctx);
    let lock: VersionLock;
    try {
      const h = await this.s3.target.json<{ ObjectLockMode?: string; ObjectLockRetainUntilDate?: Date; ObjectLockLegalHoldStatus?: string; DeleteMarker?: boolean }>(owner, 's3', 'HeadObject', { Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) });
      lock = { ...(h.ObjectLockMode ? { mode: h.ObjectLockMode as LockMode } : {}), ...(h.ObjectLockRetainUntilDate ? { until: new Date(h.ObjectLockRetainUntilDate) } : {}), legalHold: h.ObjectLockLegalHoldStatus === 'ON' };
      if (h.ObjectLockLegalHoldStatus === 'OFF' && what === 'legal-hold') {
        return xmlReply(ctx, `<LegalHold xmlns="${NS}"><Status>OFF</Status></LegalHold>`);
      }
    } catch (e) {
      const status = errStatus(e);
      if (status === 405) throw s3Error(ctx, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
      if (status === 404 || status === 400) {
        if (versionId) throw s3Error(ctx, 404, 'NoSuchVersion', 'The specified version does not exist.');
        throw s3Error(ctx, 404, 'NoSuchKey', 'The specified key does not exist.');
      }
      throw e;
    }
    const none = () => s3Error(ctx, 404, 'NoSuchObjectLockConfiguration', 'The specified object does not have a ObjectLock configuration');
    if (what === 'legal-hold') {
      if (!lock.legalHold) throw none();
      return xmlReply(ctx, `<LegalHold xmlns="${NS}"><Status>ON</Status></LegalHold>`);
    }
    if (!lock.mode || !lock.until) throw none();
    return xmlReply(ctx, `<Retention xmlns="${NS}"><Mode>${lock.mode}</Mode><RetainUntilDate>${lock.until.toISOString()}</RetainUntilDate></Retention>`);
  }

  private async checkRetentionChange(ctx: CallContext, owner: string, bucket: string): Promise<void> {
    const p = ctx.call.params;
    const key = str(p['Key']);
    if (key === undefined) return;
    const config = await this.requireLock(ctx, bucket);
    if (!config) return;
    const r = p['Retention'];
    const body = r && typeof r === 'object' ? (r as P) : {};
    if (r === undefined) throw s3Error(ctx, 400, 'MalformedXML', MALFORMED);
    const mode = str(body['Mode']);
    const untilText = str(body['RetainUntilDate']);
    if (mode !== undefined && !MODES.includes(mode)) throw s3Error(ctx, 400, 'MalformedXML', MALFORMED);
    if ((mode === undefined) !== (untilText === undefined)) throw s3Error(ctx, 400, 'MalformedXML', MALFORMED);
    const until = untilText === undefined ? undefined : isoDate(untilText);
    if (untilText !== undefined && !until) throw s3Error(ctx, 400, 'MalformedXML', MALFORMED);
    const now = this.caps.clock.nowMs();
    if (until && until.getTime() <= now) throw s3Error(ctx, 400, 'InvalidArgument', 'The retain until date must be in the future!');
    const versionId = str(p['versionId']);
    const current = await this.versionLock(owner, bucket, key, versionId);
    // No such version (or a delete marker): moto would fail with a 500 rather than answer.
    if (!current) throw versionId ? s3Error(ctx, 404, 'NoSuchVersion', 'The specified version does not exist.') : s3Error(ctx, 404, 'NoSuchKey', 'The specified key does not exist.');
    const bypass = str(p['x-amz-bypass-governance-retention'])?.toLowerCase() === 'true';
    const next = { ...(mode ? { mode: mode as LockMode } : {}), ...(until ? { until } : {}) };
    if (!(await mayChangeRetention(current, next, now, bypass, this.bypassAuthorized(ctx, key, versionId)))) {
      throw s3Error(ctx, 403, 'AccessDenied', LOCKED_MESSAGE);
    }
  }

  /**
   * DeleteObjects on an Object Lock bucket: every key is decided on its own, as AWS does; a refused
   * version is reported in the result (AccessDenied), the others are deleted.
   */
  private async deleteObjects(ctx: CallContext, bucket: string): Promise<Reply | undefined> {
    const owner = this.ownerOf(bucket, ctx);
    const config = await this.configuration(owner, bucket);
    if (!config?.enabled) return undefined;
    const p = ctx.call.params;
    const del = (p['Delete'] ?? {}) as P;
    const objects = (Array.isArray(del['Objects']) ? del['Objects'] : []) as P[];
    const quiet = str(del['Quiet'])?.trim().toLowerCase() === 'true';
    const bypass = str(p['x-amz-bypass-governance-retention'])?.toLowerCase() === 'true';
    const now = this.caps.clock.nowMs();
    const out: string[] = [];
    for (const o of objects) {
      const key = str(o['Key']) ?? '';
      const versionId = str(o['VersionId']);
      const vTag = versionId ? `<VersionId>${xmlEscape(versionId)}</VersionId>` : '';
      try {
        if (versionId) {
          const lock = await this.versionLock(owner, bucket, key, versionId);
          if (lock) {
            if (!(await mayDeleteVersion(lock, now, bypass, this.bypassAuthorized(ctx, key, versionId)))) {
              out.push(`<Error><Key>${xmlEscape(key)}</Key>${vTag}<Code>AccessDenied</Code><Message>${xmlEscape(LOCKED_MESSAGE)}</Message></Error>`);
              continue;
            }
            await this.releaseInTarget(owner, bucket, key, versionId, lock);
          }
        }
        const r = await this.s3.target.json<{ DeleteMarker?: boolean; VersionId?: string }>(owner, 's3', 'DeleteObject', { Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) });
        if (quiet) continue;
        const marker = r.DeleteMarker ? '<DeleteMarker>true</DeleteMarker>' : '';
        const markerVersion = !versionId && r.VersionId ? `<DeleteMarkerVersionId>${xmlEscape(r.VersionId)}</DeleteMarkerVersionId>` : '';
        out.push(`<Deleted><Key>${xmlEscape(key)}</Key>${vTag}${marker}${markerVersion}</Deleted>`);
      } catch (e) {
        const code = errName(e);
        out.push(`<Error><Key>${xmlEscape(key)}</Key>${vTag}<Code>${xmlEscape(code)}</Code><Message>${xmlEscape((e as Error).message ?? code)}</Message></Error>`);
      }
    }
    return xmlReply(ctx, `<DeleteResult xmlns="${NS}">${out.join('')}</DeleteResult>`);
  }
}
