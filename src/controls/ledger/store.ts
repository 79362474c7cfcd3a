// Where a ledger keeps its tiles, entry bundles and checkpoint: memory (tests, benchmarks), a folder
// (the CLI's local ledgers) or an S3 bucket (the lab's feed). Paths are tlog-tiles paths ('checkpoint',
// 'tile/0/x001/234', …). `versions()` exposes what a versioned bucket remembers after an overwrite or a
// delete: the evidence an auditor has left when someone rewrites the log.

import { link, mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { LedgerError } from './hash.ts';

export interface StoredVersion {
  versionId: string;
  data?: Buffer;
  deleteMarker: boolean;
  lastModified: Date;
}

export interface LedgerStore {
  get(path: string): Promise<Buffer | undefined>;
  put(path: string, data: Buffer): Promise<void>;
  list(prefix: string): Promise<string[]>;
  /** Every version of a path, oldest first (S3 versioning): the evidence an auditor has left. Optional. */
  versions?(path: string): Promise<StoredVersion[]>;
  /** Removes a path (a delete marker where versions are kept). Optional: the ledger itself never deletes. */
  delete?(path: string): Promise<void>;
  /** The current content with its ETag (what putIf's ifMatch compares). Optional, with putIf. */
  getTagged?(path: string): Promise<{ data: Buffer; etag: string } | undefined>;
  /**
   * Compare-and-swap: writes only if the path still has the ETag `ifMatch`, or (ifNoneMatch) does not
   * exist yet. Returns the new ETag, or undefined when the condition failed (someone else wrote first).
   * Optional: a store without it cannot serialize writers in different processes.
   */
  putIf?(path: string, data: Buffer, cond: PutCondition): Promise<string | undefined>;
}

export type PutCondition = { ifMatch: string; ifNoneMatch?: undefined } | { ifNoneMatch: true; ifMatch?: undefined };

function checkCondition(cond: PutCondition): void {
  if (!cond || (cond.ifNoneMatch !== true && (typeof cond.ifMatch !== 'string' || cond.ifMatch === '')) || (cond.ifNoneMatch === true && cond.ifMatch !== undefined)) {
    throw new LedgerError('bad-condition', 'putIf needs either { ifMatch: <etag from getTagged> } or { ifNoneMatch: true }');
  }
}

const contentTag = (data: Buffer) => `"${createHash('sha256').update(data).digest('hex').slice(0, 32)}"`;

/** Paths are relative, '/'-separated, without empty, '.' or '..' segments (they become file names and keys). */
export function checkPath(path: string): string {
  if (typeof path !== 'string' || path === '' || path.startsWith('/') || path.endsWith('/') || path.includes('\\') || path.includes('\0') || path.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new LedgerError('bad-path', `ledger path ${JSON.stringify(path)} is not a relative '/'-separated path without '.', '..' or empty segments`);
  }
  return path;
}

/** In memory, every version kept (like a versioned bucket). */
export class MemoryStore implements LedgerStore {
  private readonly objects = new Map<string, StoredVersion[]>();
  private seq = 0;
  /** Counts of calls, for benchmarks and tests of what an append writes. */
  readonly stats = { gets: 0, puts: 0, bytesPut: 0 };

  async get(path: string): Promise<Buffer | undefined> {
    this.stats.gets++;
    const v = this.objects.get(checkPath(path));
    const last = v?.[v.length - 1];
    return last && !last.deleteMarker ? Buffer.from(last.data!) : undefined;
  }

  async put(path: string, data: Buffer): Promise<void> {
    this.stats.puts++;
    this.stats.bytesPut += data.length;
    this.push(checkPath(path), { data: Buffer.from(data), deleteMarker: false });
  }

  async delete(path: string): Promise<void> {
    if (this.objects.has(checkPath(path))) this.push(path, { deleteMarker: true });
  }

  async getTagged(path: string): Promise<{ data: Buffer; etag: string } | undefined> {
    this.stats.gets++;
    const v = this.objects.get(checkPath(path));
    const last = v?.[v.length - 1];
    return last && !last.deleteMarker ? { data: Buffer.from(last.data!), etag: `"${last.versionId}"` } : undefined;
  }

  // Check and write with no await in between: atomic for every user of this object.
  async putIf(path: string, data: Buffer, cond: PutCondition): Promise<string | undefined> {
    checkCondition(cond);
    const v = this.objects.get(checkPath(path));
    const last = v?.[v.length - 1];
    const live = last && !last.deleteMarker ? last : undefined;
    if (cond.ifNoneMatch ? live : !live || `"${live.versionId}"` !== cond.ifMatch) return undefined;
    await this.put(path, data);
    const now = this.objects.get(path)!;
    return `"${now[now.length - 1]!.versionId}"`;
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    for (const [k, v] of this.objects) if (k.startsWith(prefix) && !v[v.length - 1]!.deleteMarker) out.push(k);
    return out.sort();
  }

  async versions(path: string): Promise<StoredVersion[]> {
    return (this.objects.get(checkPath(path)) ?? []).map((v) => ({ ...v, data: v.data && Buffer.from(v.data) }));
  }

  /** Total bytes of the current objects (storage overhead in benchmarks). */
  bytes(prefix = ''): number {
    let n = 0;
    for (const [k, v] of this.objects) {
      const last = v[v.length - 1]!;
      if (k.startsWith(prefix) && !last.deleteMarker) n += last.data!.length;
    }
    return n;
  }

  private push(path: string, v: { data?: Buffer; deleteMarker: boolean }): void {
    const list = this.objects.get(path) ?? [];
    list.push({ versionId: String(++this.seq).padStart(12, '0'), lastModified: new Date(), ...v });
    this.objects.set(path, list);
  }
}

/** A folder: each path a file. Writes go to a temporary file renamed into place (no torn tiles). */
export class FsStore implements LedgerStore {
  constructor(readonly dir: string) {
    if (!dir) throw new LedgerError('bad-path', 'FsStore needs a folder');
  }

  private file(path: string): string {
    return join(this.dir, ...checkPath(path).split('/'));
  }

  async get(path: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.file(path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
      throw e;
    }
  }

  async put(path: string, data: Buffer): Promise<void> {
    const f = this.file(path);
    await mkdir(dirname(f), { recursive: true });
    const tmp = `${f}.tmp-${randomBytes(6).toString('hex')}`;
    await writeFile(tmp, data);
    await rename(tmp, f);
  }

  async delete(path: string): Promise<void> {
    await rm(this.file(path), { force: true });
  }

  async getTagged(path: string): Promise<{ data: Buffer; etag: string } | undefined> {
    const data = await this.get(path);
    return data && { data, etag: contentTag(data) };
  }

  /**
   * ifNoneMatch is atomic (link() refuses an existing name). ifMatch compares the content's hash and
   * renames: atomic against writers in this process only — a folder has no compare-and-swap; use S3 or
   * one writer when several processes share the folder.
   */
  async putIf(path: string, data: Buffer, cond: PutCondition): Promise<string | undefined> {
    checkCondition(cond);
    const f = this.file(path);
    await mkdir(dirname(f), { recursive: true });
    const tmp = `${f}.tmp-${randomBytes(6).toString('hex')}`;
    await writeFile(tmp, data);
    try {
      if (cond.ifNoneMatch) {
        try {
          await link(tmp, f);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
          throw e;
        }
        return contentTag(data);
      }
      const cur = await this.get(path);
      if (!cur || contentTag(cur) !== cond.ifMatch) return undefined;
      await rename(tmp, f);
      return contentTag(data);
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    // Walk only the folder the prefix names (tile/0/x001/… stays cheap in a big log).
    const slash = prefix.lastIndexOf('/');
    const base = slash < 0 ? '' : prefix.slice(0, slash);
    const walk = async (rel: string): Promise<void> => {
      let names;
      try {
        names = await readdir(rel ? join(this.dir, ...rel.split('/')) : this.dir, { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return;
        throw e;
      }
      for (const d of names) {
        const p = rel ? `${rel}/${d.name}` : d.name;
        if (d.name.includes('.tmp-')) continue;
        if (d.isDirectory()) {
          if (prefix.startsWith(`${p}/`) || p.startsWith(prefix) || `${p}/`.startsWith(prefix)) await walk(p);
        } else if (p.startsWith(prefix)) out.push(p);
      }
    };
    await walk(base);
    return out.sort();
  }
}

/** Keys under `prefix` in an S3 bucket (the client should use forcePathStyle against the lab cloud). */
export class S3Store implements LedgerStore {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;

  constructor(opts: { client: S3Client; bucket: string; prefix?: string }) {
    if (!opts.bucket) throw new LedgerError('bad-store', 'S3Store needs a bucket name');
    this.client = opts.client;
    this.bucket = opts.bucket;
    this.prefix = opts.prefix ? opts.prefix.replace(/\/*$/, '/') : '';
  }

  private key(path: string): string {
    return this.prefix + checkPath(path);
  }

  async get(path: string): Promise<Buffer | undefined> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
      return Buffer.from(await r.Body!.transformToByteArray());
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async put(path: string, data: Buffer): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(path), Body: data, ContentType: path === 'checkpoint' ? 'text/plain; charset=utf-8' : 'application/octet-stream' }));
  }

  async delete(path: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
  }

  async getTagged(path: string): Promise<{ data: Buffer; etag: string } | undefined> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
      const data = Buffer.from(await r.Body!.transformToByteArray());
      if (!r.ETag) throw new LedgerError('no-etag', `S3 returned no ETag for ${this.key(path)} in ${this.bucket}: a conditional write cannot be made`);
      return { data, etag: r.ETag };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** S3 conditional writes (PutObject If-Match / If-None-Match: *); a 412 or 409 means another writer won. */
  async putIf(path: string, data: Buffer, cond: PutCondition): Promise<string | undefined> {
    checkCondition(cond);
    try {
      const r = await this.client.send(new PutObjectCommand({
        Bucket: this.bucket, Key: this.key(path), Body: data,
        ContentType: path === 'checkpoint' ? 'text/plain; charset=utf-8' : 'application/octet-stream',
        ...(cond.ifNoneMatch ? { IfNoneMatch: '*' } : { IfMatch: cond.ifMatch }),
      }));
      return r.ETag ?? contentTag(data);
    } catch (e) {
      const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
      const status = err?.$metadata?.httpStatusCode;
      // 412 PreconditionFailed; 409 ConditionalRequestConflict (a concurrent conditional write); If-Match on
      // a key that is gone: 404 NoSuchKey.
      if (status === 412 || status === 409 || err?.name === 'PreconditionFailed' || err?.name === 'ConditionalRequestConflict' || (cond.ifMatch && isNotFound(e))) return undefined;
      throw e;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken: token }));
      for (const o of r.Contents ?? []) if (o.Key) out.push(o.Key.slice(this.prefix.length));
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  }

  async versions(path: string): Promise<StoredVersion[]> {
    const key = this.key(path);
    const found: { versionId: string; deleteMarker: boolean; lastModified: Date; latest: boolean; rank: number }[] = [];
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    let rank = 0;
    do {
      const r = await this.client.send(new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: key, KeyMarker: keyMarker, VersionIdMarker: versionMarker }));
      // S3 lists a key's versions (and, separately, its delete markers) newest first: `rank` keeps that
      // order for entries of equal time; IsLatest marks the newest of all.
      for (const v of r.Versions ?? []) if (v.Key === key) found.push({ versionId: v.VersionId ?? 'null', deleteMarker: false, lastModified: v.LastModified ?? new Date(0), latest: !!v.IsLatest, rank: rank++ });
      for (const d of r.DeleteMarkers ?? []) if (d.Key === key) found.push({ versionId: d.VersionId ?? 'null', deleteMarker: true, lastModified: d.LastModified ?? new Date(0), latest: !!d.IsLatest, rank: rank++ });
      keyMarker = r.IsTruncated ? r.NextKeyMarker : undefined;
      versionMarker = r.IsTruncated ? r.NextVersionIdMarker : undefined;
    } while (keyMarker);
    // Oldest first. Same timestamp: the latest goes last, then the listing's own order (newest first,
    // so reversed); a version before a delete marker of the same second.
    found.sort(
      (a, b) =>
        a.lastModified.getTime() - b.lastModified.getTime() ||
        Number(a.latest) - Number(b.latest) ||
        (a.deleteMarker === b.deleteMarker ? b.rank - a.rank : Number(a.deleteMarker) - Number(b.deleteMarker)),
    );
    const out: StoredVersion[] = [];
    for (const v of found) {
      if (v.deleteMarker) {
        out.push({ versionId: v.versionId, deleteMarker: true, lastModified: v.lastModified });
        continue;
      }
      let data: Buffer | undefined;
      try {
        // The 'null' version of an unversioned bucket is the object itself (the lab cloud refuses
        // VersionId=null on GetObject, AWS accepts it): read the current object then.
        const byId = !(v.versionId === 'null' && v.latest);
        const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(byId ? { VersionId: v.versionId } : {}) }));
        data = Buffer.from(await r.Body!.transformToByteArray());
      } catch (e) {
        if (!isNotFound(e)) throw e; // a version deleted meanwhile: report it without data
      }
      out.push({ versionId: v.versionId, data, deleteMarker: false, lastModified: v.lastModified });
    }
    return out;
  }
}

function isNotFound(e: unknown): boolean {
  const err = e as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  // A missing bucket is a 404 too, but it must not read as an empty log.
  if (err?.name === 'NoSuchBucket' || err?.Code === 'NoSuchBucket') return false;
  return err?.name === 'NoSuchKey' || err?.name === 'NotFound' || err?.name === 'NoSuchVersion' || err?.Code === 'NoSuchKey' || err?.$metadata?.httpStatusCode === 404;
}

