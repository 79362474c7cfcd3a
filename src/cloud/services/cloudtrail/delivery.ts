// CloudTrail delivery, which moto does not do: log files (gzipped JSON `Records`) into the trail's S3
// bucket with AWS's key layout, hourly digest files chained and signed as CloudTrail signs them (for
// log-file validation), and events into the trail's CloudWatch Logs group. Honours multi-region,
// global service events, management/data event selectors, StartLogging/StopLogging and DeleteTrail
// (the StopLogging call itself is delivered; nothing after it), all on the lab clock.
import { createHash, createSign, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { CloudTrailRecord, CloudTrailStore } from './recorder.ts';
import type { Upstream } from '../../gateway/upstream.ts';
import type { Sinks } from '../../gateway/sinks.ts';
import { evaluate } from '../../policy/evaluate.ts';
import { parsePolicyText } from '../iam/policy-store.ts';

interface TrailInfo {
  Name: string;
  TrailARN: string;
  HomeRegion: string;
  S3BucketName?: string;
  S3KeyPrefix?: string;
  IsMultiRegionTrail?: boolean;
  IncludeGlobalServiceEvents?: boolean;
  LogFileValidationEnabled?: boolean;
  CloudWatchLogsLogGroupArn?: string;
}

interface EventSelector {
  ReadWriteType?: 'ReadOnly' | 'WriteOnly' | 'All';
  IncludeManagementEvents?: boolean;
  DataResources?: { Type?: string; Values?: string[] }[];
}

/** Logging turns on or off at a record sequence number (the StartLogging/StopLogging record itself is in). */
interface Transition {
  seq: number;
  logging: boolean;
}

interface TrailState {
  account: string;
  name: string;
  region: string;
  transitions: Transition[];
  deletedAtSeq?: number;
  /** Next record sequence number to consider. */
  cursor: number;
  /** Log files delivered since the last digest, per region. */
  pendingDigest: Map<string, { s3Bucket: string; s3Object: string; hashValue: string; hashAlgorithm: 'SHA-256'; newestEventTime: string; oldestEventTime: string }[]>;
  lastDigest: Map<string, { bucket: string; key: string; hash: string; signature: string; endTime: number }>;
  digestStart?: number;
  lastDelivery?: { time: number; ok: boolean; error?: string };
  /** The trail's settings when last seen (a deleted trail still delivers what came before). */
  lastKnown?: TrailInfo;
}

const GLOBAL_SOURCES = new Set(['iam.amazonaws.com', 'sts.amazonaws.com', 'cloudfront.amazonaws.com', 'route53.amazonaws.com', 'organizations.amazonaws.com']);
const HOUR = 3600_000;

const pad = (n: number) => String(n).padStart(2, '0');
function stamp(ms: number, seconds = false): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${seconds ? pad(d.getUTCSeconds()) : ''}Z`;
}
function datePath(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
}
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export class CloudTrailDelivery {
  private trails = new Map<string, TrailState>(); // account|name
  /** One signing key per region, as CloudTrail has; the public key is served for validation. */
  private keys = new Map<string, { privateKey: KeyObject; fingerprint: string; publicKeyDer: Buffer }>();

  constructor(private readonly store: CloudTrailStore, private readonly upstream: Upstream, private readonly sinks: Sinks) {}

  private state(account: string, name: string, region: string): TrailState {
    const k = `${account}|${name}`;
    let t = this.trails.get(k);
    if (!t) {
      t = { account, name, region, transitions: [], cursor: this.store.nextSeq(account), pendingDigest: new Map(), lastDigest: new Map() };
      this.trails.set(k, t);
    }
    return t;
  }

  /** Called by the gateway after a successful CloudTrail control call, before its record is added. */
  noteCall(account: string, region: string, operation: string, params: Record<string, unknown>, now: number): void {
    const raw = String(params['Name'] ?? params['TrailName'] ?? '');
    const name = raw.startsWith('arn:') ? raw.split('/').pop()! : raw;
    if (!name) return;
    const seq = this.store.nextSeq(account);
    if (operation === 'CreateTrail') {
      this.trails.delete(`${account}|${name}`);
      this.state(account, name, region);
    } else if (operation === 'StartLogging') {
      const t = this.state(account, name, region);
      t.transitions.push({ seq, logging: true });
      t.digestStart ??= now;
    } else if (operation === 'StopLogging') {
      this.state(account, name, region).transitions.push({ seq: seq + 1, logging: false });
    } else if (operation === 'DeleteTrail') {
      this.state(account, name, region).deletedAtSeq = seq + 1;
    }
  }

  /**
   * Whether the trail logs now, as delivery decides it (StartLogging/StopLogging/DeleteTrail seen by
   * the gateway), which is what checks must read rather than the emulator's own status.
   */
  isLogging(account: string, name: string): boolean {
    const t = this.trails.get(`${account}|${name}`);
    if (!t || t.deletedAtSeq !== undefined) return false;
    return this.loggingAt(t, Number.MAX_SAFE_INTEGER);
  }

  status(account: string, name: string): TrailState['lastDelivery'] {
    return this.trails.get(`${account}|${name}`)?.lastDelivery;
  }

  /** ListPublicKeys: the keys digest files of a region are signed with. */
  publicKeys(region: string): { Value: string; Fingerprint: string; ValidityStartTime: number; ValidityEndTime: number }[] {
    const k = this.key(region);
    return [{ Value: k.publicKeyDer.toString('base64'), Fingerprint: k.fingerprint, ValidityStartTime: 0, ValidityEndTime: 4102444800 }];
  }

  private key(region: string) {
    let k = this.keys.get(region);
    if (!k) {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const publicKeyDer = publicKey.export({ type: 'pkcs1', format: 'der' }) as Buffer;
      k = { privateKey, publicKeyDer, fingerprint: createHash('md5').update(publicKeyDer).digest('hex') };
      this.keys.set(region, k);
    }
    return k;
  }

  private loggingAt(t: TrailState, seq: number): boolean {
    if (t.deletedAtSeq !== undefined && seq >= t.deletedAtSeq) return false;
    let on = false;
    for (const tr of t.transitions) if (tr.seq <= seq) on = tr.logging;
    return on;
  }

  private static selected(record: CloudTrailRecord, selectors: EventSelector[]): boolean {
    // No custom selectors: all management events, no data events (CloudTrail's default).
    if (!selectors.length) return record.managementEvent;
    return selectors.some((s) => {
      const rw = s.ReadWriteType ?? 'All';
      if (rw === 'ReadOnly' && !record.readOnly) return false;
      if (rw === 'WriteOnly' && record.readOnly) return false;
      if (record.managementEvent) return s.IncludeManagementEvents !== false;
      return (s.DataResources ?? []).some((d) => d.Type === 'AWS::S3::Object' && (d.Values ?? []).some((v) => {
        const arn = (record.resources ?? []).find((r) => r.ARN.includes('/'))?.ARN ?? '';
        return v === 'arn:aws:s3' || v === 'arn:aws:s3:::' || arn.startsWith(v);
      }));
    });
  }

  /** Does the bucket policy let CloudTrail write this object (AWS refuses delivery otherwise)? */
  private async mayWrite(account: string, trail: TrailInfo, key: string): Promise<string | undefined> {
    const bucket = trail.S3BucketName!;
    const text = await this.upstream.s3BucketPolicy(account, bucket).catch((e: Error) => {
      throw new Error(e.name === 'NoSuchBucket' ? `bucket ${bucket} does not exist` : e.message);
    });
    if (!text) return `bucket ${bucket} has no bucket policy allowing cloudtrail.amazonaws.com to write`;
    const d = evaluate(
      {
        action: 's3:PutObject', resource: `arn:aws:s3:::${bucket}/${key}`,
        principal: { arn: 'cloudtrail.amazonaws.com', account, type: 'AWSService' },
        context: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceArn': trail.TrailARN, 'aws:SourceAccount': account },
      },
      { identity: [], resource: { source: `bucket policy of ${bucket}`, document: parsePolicyText(text), account } },
    );
    return d.decision === 'Allow' ? undefined : `the bucket policy of ${bucket} does not allow cloudtrail.amazonaws.com to s3:PutObject ${key}: ${d.reason}`;
  }

  /** Delivers everything recorded since the last delivery, for every trail (call on clock ticks). */
  async deliverAll(now: number): Promise<void> {
    for (const t of [...this.trails.values()]) {
      try {
        await this.deliver(t, now);
      } catch (e) {
        t.lastDelivery = { time: now, ok: false, error: (e as Error).message };
      }
    }
  }

  private async deliver(t: TrailState, now: number): Promise<void> {
    const end = this.store.nextSeq(t.account);
    if (t.cursor >= end && !t.digestStart) return;
    const found = await this.upstream
      .json<{ trailList?: TrailInfo[] }>(t.account, 'cloudtrail', 'DescribeTrails', { trailNameList: [t.name] }, t.region)
      .then((r) => r.trailList?.find((x) => x.Name === t.name));
    if (!found) {
      // Deleted: deliver what came before the deletion, then forget the trail.
      if (t.deletedAtSeq === undefined) t.deletedAtSeq = end;
    }
    const trail = found ?? t.lastKnown;
    if (!trail) return;
    t.lastKnown = trail;
    const selectors = found
      ? (await this.upstream.json<{ EventSelectors?: EventSelector[] }>(t.account, 'cloudtrail', 'GetEventSelectors', { TrailName: t.name }, t.region)).EventSelectors ?? []
      : [];
    const batch = this.store.range(t.account, t.cursor, end).filter(({ seq, record }) => {
      if (!this.loggingAt(t, seq)) return false;
      const inRegion = trail.IsMultiRegionTrail || record.awsRegion === trail.HomeRegion;
      const global = GLOBAL_SOURCES.has(record.eventSource);
      if (global && trail.IncludeGlobalServiceEvents === false) return false;
      return (inRegion || (global && trail.HomeRegion === 'us-east-1')) && CloudTrailDelivery.selected(record, selectors);
    });
    const byRegion = new Map<string, CloudTrailRecord[]>();
    for (const { record } of batch) {
      const list = byRegion.get(record.awsRegion) ?? [];
      list.push(record);
      byRegion.set(record.awsRegion, list);
    }
    const prefix = trail.S3KeyPrefix ? `${trail.S3KeyPrefix}/` : '';
    let error: string | undefined;
    for (const [region, records] of byRegion) {
      if (trail.S3BucketName) {
        const key = `${prefix}AWSLogs/${t.account}/CloudTrail/${region}/${datePath(now)}/${t.account}_CloudTrail_${region}_${stamp(now)}_${randomBytes(8).toString('hex').slice(0, 16)}.json.gz`;
        const refusal = await this.mayWrite(t.account, trail, key);
        if (refusal) {
          error = refusal;
        } else {
          const json = JSON.stringify({ Records: records });
          await this.sinks.putObject(t.account, trail.S3BucketName, key, gzipSync(json));
          const times = records.map((r) => r.eventTime).sort();
          const list = t.pendingDigest.get(region) ?? [];
          list.push({ s3Bucket: trail.S3BucketName, s3Object: key, hashValue: createHash('sha256').update(json).digest('hex'), hashAlgorithm: 'SHA-256', oldestEventTime: times[0]!, newestEventTime: times[times.length - 1]! });
          t.pendingDigest.set(region, list);
        }
      }
      const group = /:log-group:([^:]+)/.exec(trail.CloudWatchLogsLogGroupArn ?? '')?.[1];
      if (group) {
        const groupRegion = trail.CloudWatchLogsLogGroupArn!.split(':')[3] ?? trail.HomeRegion;
        await this.sinks.putLogEvents(t.account, groupRegion, group, `${t.account}_CloudTrail_${region}`,
          records.map((r) => ({ timestamp: Date.parse(r.eventTime), message: JSON.stringify(r) })));
      }
    }
    // Only now is the batch delivered (a failed put above throws, and the records are tried again).
    t.cursor = end;
    if (byRegion.size) t.lastDelivery = { time: now, ok: !error, ...(error ? { error } : {}) };
    if (trail.LogFileValidationEnabled && trail.S3BucketName && t.digestStart !== undefined && now - t.digestStart >= HOUR) {
      await this.writeDigests(t, trail, now);
    }
  }

  /** Hourly digest files: the log files of the hour, chained to the previous digest and signed. */
  private async writeDigests(t: TrailState, trail: TrailInfo, now: number): Promise<void> {
    const regions = new Set([trail.HomeRegion, ...t.pendingDigest.keys(), ...t.lastDigest.keys()]);
    const prefix = trail.S3KeyPrefix ? `${trail.S3KeyPrefix}/` : '';
    for (const region of regions) {
      const files = t.pendingDigest.get(region) ?? [];
      const previous = t.lastDigest.get(region);
      const key = `${prefix}AWSLogs/${t.account}/CloudTrail-Digest/${region}/${datePath(now)}/${t.account}_CloudTrail-Digest_${region}_${t.name}_${trail.HomeRegion}_${stamp(now, true)}.json.gz`;
      const times = files.flatMap((f) => [f.oldestEventTime, f.newestEventTime]).sort();
      const k = this.key(region);
      const digest = {
        awsAccountId: t.account,
        digestStartTime: iso(previous?.endTime ?? t.digestStart!),
        digestEndTime: iso(now),
        digestS3Bucket: trail.S3BucketName,
        digestS3Object: key,
        digestPublicKeyFingerprint: k.fingerprint,
        digestSignatureAlgorithm: 'SHA256withRSA',
        newestEventTime: times[times.length - 1] ?? null,
        oldestEventTime: times[0] ?? null,
        previousDigestS3Bucket: previous?.bucket ?? null,
        previousDigestS3Object: previous?.key ?? null,
        previousDigestHashValue: previous?.hash ?? null,
        previousDigestHashAlgorithm: previous ? 'SHA-256' : null,
        previousDigestSignature: previous?.signature ?? null,
        logFiles: files,
      };
      const json = JSON.stringify(digest);
      const hash = createHash('sha256').update(json).digest('hex');
      // CloudTrail signs: end time, bucket/key, hex hash of the digest, previous signature.
      const toSign = `${digest.digestEndTime}\n${trail.S3BucketName}/${key}\n${hash}\n${previous?.signature ?? 'null'}`;
      const signature = createSign('RSA-SHA256').update(toSign).sign(k.privateKey).toString('hex');
      if (await this.mayWrite(t.account, trail, key)) continue;
      await this.sinks.putObject(t.account, trail.S3BucketName!, key, gzipSync(json), { signature, 'signature-algorithm': 'SHA256withRSA' });
      t.lastDigest.set(region, { bucket: trail.S3BucketName!, key, hash, signature, endTime: now });
      t.pendingDigest.set(region, []);
    }
    t.digestStart = now;
  }
}
