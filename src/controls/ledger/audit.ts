// The auditor: replays a whole ledger from its store and reports every way it differs from what was
// signed, witnessed, anchored and logged at the source. Nothing in the log's own bucket is trusted: the
// trust roots are the pinned log and witness keys; the evidence is what survives (witnessed checkpoints,
// Object Lock anchors, older S3 versions of objects, CloudTrail log files, the app's audit events).
//
// Order of work: read and classify every checkpoint we can find (the log's, its older versions, the
// witnessed ones, the anchors); read every entry bundle and tile the largest of those sizes needs (and
// their older versions); compare each bundle with the level-0 hashes the log recorded at append time
// (edited / missing / reordered entries, by position); check the higher tiles and the signed root; check
// each trusted checkpoint against the replayed tree (consistency proof from the current tiles: truncation,
// fork, rewrite); then match the source events against the entries.
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { EMPTY_ROOT, nodeHash, leafHash, type Hash } from './hash.ts';
import { consistencyProofSync, treeRootSync, verifyConsistency, type SyncNodeReader } from './tree.ts';
import { entriesPath, parseEntryBundle, parseTilePath, tilePath } from './tiles.ts';
import { S3Store, type LedgerStore, type StoredVersion } from './store.ts';
import { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { canonicalJson, decodeEntry, type LedgerEntry } from './entry.ts';
import { hex8, NoteError, parseSignatureLine, splitNote, verifierFromVkey, SIG_COSIGNATURE, type NoteVerifier } from './note.ts';
import { parseCheckpoint, type Checkpoint } from './checkpoint.ts';

export interface TrustRoots {
  origin: string;
  /** The log's key(s) (0x02 from KMS, or 0x01). */
  logVkeys: string[];
  /** Cosigner vkeys (0x04); quorum = 1 unless set (0 when there are none). */
  witnessVkeys: string[];
  witnessQuorum?: number;
}

export interface AppEvent { id: string; logGroup: string; logStream: string; time: string; message: string }

export interface AuditSources {
  /** Witnessed checkpoints the auditor trusts more than the log's own bucket (witness state, anchors). */
  witnessed?: string[];
  /** Object Lock bucket: every object is a checkpoint note. */
  anchors?: LedgerStore;
  /** CloudTrail log files (AWSLogs/<acct>/CloudTrail/...json.gz). */
  trail?: { store: LedgerStore };
  appEvents?: AppEvent[];
  /** Which source events must have an entry (default: S3 data events + every app event). */
  mustLog?: (kind: 'cloudtrail' | 'app', event: Record<string, unknown>) => boolean;
}

export type DiscrepancyKind = 'edited-entry' | 'missing-entry' | 'reordered-entries' | 'truncated' | 'fork'
  | 'stale-checkpoint' | 'bad-signature' | 'unknown-key' | 'unwitnessed' | 'tile-mismatch' | 'tile-rewritten'
  | 'unlogged-source-event' | 'source-log-missing' | 'source-log-altered' | 'logging-stopped' | 'anchor-tampered'
  | 'unreadable';

export interface Discrepancy { kind: DiscrepancyKind; index?: number; detail: string; evidence: string[] }

export interface AuditReport {
  ok: boolean;
  origin: string;
  /** The size in the log's own checkpoint (0 when it has none). */
  size: number;
  /** The largest size a trusted checkpoint (witnessed or anchored, validly signed) vouches for. */
  witnessedSize: number;
  /** Entries read from the store. */
  entries: number;
  discrepancies: Discrepancy[];
}

const TILE = 256;
const hex = (h: Buffer) => h.toString('hex');
const short = (h: Buffer) => hex(h).slice(0, 16);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex').slice(0, 16);

/** The default: CloudTrail S3 data events (object reads and writes) and every app audit event. */
export function defaultMustLog(kind: 'cloudtrail' | 'app', ev: Record<string, unknown>): boolean {
  if (kind === 'app') return true;
  return ev['eventSource'] === 's3.amazonaws.com' && (ev['eventCategory'] === 'Data' || ev['managementEvent'] === false);
}

// ---- signed notes ----

interface NoteCheck {
  label: string;
  note: string;
  checkpoint?: Checkpoint;
  /** Why it could not be read (malformed note or checkpoint text). */
  unreadable?: string;
  logSigned: boolean;
  /** Distinct witness keys with a valid cosignature. */
  witnesses: string[];
  /** Known keys whose signature does not verify. */
  badKeys: string[];
  unknownKeys: string[];
}

function verifiers(vkeys: string[], what: string): NoteVerifier[] {
  return vkeys.map((v, i) => {
    try {
      return verifierFromVkey(v);
    } catch (e) {
      throw new NoteError('bad-key', `trust roots: ${what} key ${i + 1} (${JSON.stringify(v.slice(0, 60))}) is not a usable vkey: ${(e as Error).message}`);
    }
  });
}

/** Each signature line verified on its own (openNote rejects a whole note on one bad signature). */
function checkNote(label: string, note: string, logVs: NoteVerifier[], witVs: NoteVerifier[]): NoteCheck {
  const out: NoteCheck = { label, note, logSigned: false, witnesses: [], badKeys: [], unknownKeys: [] };
  let text: string, lines: string[];
  try {
    ({ text, lines } = splitNote(note));
    out.checkpoint = parseCheckpoint(text);
  } catch (e) {
    out.unreadable = (e as Error).message;
    return out;
  }
  const msg = Buffer.from(text, 'utf8');
  for (const line of lines) {
    const { name, keyId, sig } = parseSignatureLine(line);
    const key = `${name}+${hex8(keyId)}`;
    const lv = logVs.find((v) => v.name === name && v.keyId === keyId);
    const wv = witVs.find((v) => v.name === name && v.keyId === keyId);
    if (!lv && !wv) {
      if (!out.unknownKeys.includes(key)) out.unknownKeys.push(key);
      continue;
    }
    if (lv) {
      if (lv.verify(msg, sig)) out.logSigned = true;
      else out.badKeys.push(key);
    } else if (wv) {
      if (wv.verify(msg, sig)) {
        if (!out.witnesses.includes(key)) out.witnesses.push(key);
      } else out.badKeys.push(key);
    }
  }
  return out;
}

function describeCp(c: NoteCheck): string {
  const cp = c.checkpoint!;
  return `${c.label}: size ${cp.size}, root ${cp.root.toString('base64')}${c.witnesses.length ? `, cosigned by ${c.witnesses.join(', ')}` : ''}`;
}

// ---- the store ----

/**
 * Every path under `prefix` that has a version, deleted ones included: `list()` hides a path whose latest
 * version is a delete marker, and that hidden path is the evidence. A store may offer it as
 * `listVersioned(prefix)`; for an S3Store we ask S3 (ListObjectVersions); otherwise only `list()`.
 */
export async function listWithDeleted(store: LedgerStore, prefix: string): Promise<string[]> {
  const s = store as LedgerStore & { listVersioned?: (p: string) => Promise<string[]> };
  if (typeof s.listVersioned === 'function') return s.listVersioned(prefix);
  if (store instanceof S3Store) {
    const out = new Set<string>();
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    do {
      const r = await store.client.send(new ListObjectVersionsCommand({ Bucket: store.bucket, Prefix: store.prefix + prefix, KeyMarker: keyMarker, VersionIdMarker: versionMarker }));
      for (const v of [...(r.Versions ?? []), ...(r.DeleteMarkers ?? [])]) if (v.Key) out.add(v.Key.slice(store.prefix.length));
      keyMarker = r.IsTruncated ? r.NextKeyMarker : undefined;
      versionMarker = r.IsTruncated ? r.NextVersionIdMarker : undefined;
    } while (keyMarker);
    return [...out].sort();
  }
  return store.list(prefix);
}

async function versionsOf(store: LedgerStore, path: string): Promise<StoredVersion[]> {
  if (!store.versions) return [];
  try {
    return await store.versions(path);
  } catch {
    return [];
  }
}

/** Versions with content, oldest first, collapsed when consecutive versions hold the same bytes. */
function distinctData(vs: StoredVersion[]): StoredVersion[] {
  const out: StoredVersion[] = [];
  for (const v of vs) if (!v.deleteMarker && v.data && !(out.length && out[out.length - 1]!.data!.equals(v.data))) out.push(v);
  return out;
}

function describeVersions(vs: StoredVersion[]): string {
  return vs.map((v) => `${v.versionId} ${v.lastModified.toISOString()} ${v.deleteMarker ? 'delete marker' : v.data ? `sha256 ${sha(v.data)}…` : 'no data'}`).join('; ');
}

function hashesOf(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i + 32 <= data.length; i += 32) out.push(data.subarray(i, i + 32));
  return out;
}

/** The path of tile (level, n) as stored: the full tile, else the widest partial one (what a reader of the largest size uses). */
function pickTile(paths: Set<string>, full: string): { path: string; width: number } | undefined {
  if (paths.has(full)) return { path: full, width: TILE };
  let best: { path: string; width: number } | undefined;
  for (const p of paths) {
    if (!p.startsWith(`${full}.p/`)) continue;
    const w = Number(p.slice(full.length + 3));
    if (Number.isInteger(w) && w > 0 && w < TILE && (!best || w > best.width)) best = { path: p, width: w };
  }
  return best;
}

/** Complete-subtree hashes kept per level in one buffer (32 bytes each). */
class MemTree {
  readonly levels: Buffer[] = [];
  constructor(readonly size: number, leaves: Buffer[]) {
    let cur = Buffer.concat(leaves.slice(0, size));
    this.levels.push(cur);
    while (cur.length >= 64) {
      const n = Math.floor(cur.length / 64);
      const next = Buffer.alloc(n * 32);
      for (let i = 0; i < n; i++) nodeHash(cur.subarray(64 * i, 64 * i + 32), cur.subarray(64 * i + 32, 64 * i + 64)).copy(next, 32 * i);
      this.levels.push(next);
      cur = next;
    }
  }
  node(level: number, n: number): Hash | undefined {
    const b = this.levels[level];
    if (!b || 32 * n + 32 > b.length) return undefined;
    return b.subarray(32 * n, 32 * n + 32);
  }
  reader(): SyncNodeReader {
    return (level, n) => {
      const h = this.node(level, n);
      if (!h) throw new Error(`no node ${level}/${n} in a tree of ${this.size}`);
      return h;
    };
  }
  root(size = this.size): Hash {
    return size === 0 ? EMPTY_ROOT : treeRootSync(size, this.reader());
  }
}

// ---- comparing a bundle with what the log recorded ----

interface Diff { kind: 'edited-entry' | 'missing-entry' | 'reordered-entries'; index: number; detail: string; evidence: string[] }

/** expected: the level-0 hashes recorded for the bundle; actual: the leaf hashes of its entries now. */
function diffBundle(base: number, expected: Buffer[], actual: Buffer[], where: string): Diff[] {
  const n = Math.min(expected.length, actual.length);
  if (expected.length === actual.length && expected.every((h, i) => h.equals(actual[i]!))) return [];
  const count = (hs: Buffer[]) => {
    const m = new Map<string, number>();
    for (const h of hs) m.set(hex(h), (m.get(hex(h)) ?? 0) + 1);
    return m;
  };
  const eCount = count(expected);
  const aCount = count(actual);
  const out: Diff[] = [];
  if (expected.length === actual.length) {
    const diff = Array.from({ length: n }, (_, p) => p).filter((p) => !expected[p]!.equals(actual[p]!));
    const moved = diff.filter((p) => eCount.has(hex(actual[p]!)));
    const edited = diff.filter((p) => !eCount.has(hex(actual[p]!)));
    if (moved.length) {
      const at = moved.map((p) => `${base + p} holds the entry recorded at ${base + expected.findIndex((h) => h.equals(actual[p]!))}`);
      out.push({ kind: 'reordered-entries', index: base + moved[0]!, detail: `entries ${moved.map((p) => base + p).join(', ')} are out of order: ${at.join('; ')}`, evidence: [where, ...moved.map((p) => `leaf ${base + p}: recorded ${short(expected[p]!)}…, now ${short(actual[p]!)}…`)] });
    }
    for (const p of edited) {
      out.push({ kind: 'edited-entry', index: base + p, detail: `entry ${base + p} no longer hashes to the leaf hash recorded when it was appended`, evidence: [where, `recorded leaf hash ${hex(expected[p]!)}`, `leaf hash of the entry now ${hex(actual[p]!)}`] });
    }
    return out;
  }
  // Lengths differ: entries were removed (or inserted); positions after the change shift.
  const missing = expected.map((h, p) => ({ h, p })).filter(({ h }) => !aCount.has(hex(h))).map(({ p }) => p);
  for (let i = 0; i < missing.length;) {
    let j = i;
    while (j + 1 < missing.length && missing[j + 1] === missing[j]! + 1) j++;
    const a = base + missing[i]!, b = base + missing[j]!;
    out.push({ kind: 'missing-entry', index: a, detail: a === b ? `entry ${a} is gone from the log` : `entries ${a}–${b} are gone from the log`, evidence: [where, `the bundle holds ${actual.length} entries, the recorded tile ${expected.length}`, ...missing.slice(i, j + 1).slice(0, 8).map((p) => `recorded leaf ${base + p}: ${hex(expected[p]!)}`)] });
    i = j + 1;
  }
  const extra = actual.map((h, p) => ({ h, p })).filter(({ h }) => !eCount.has(hex(h)));
  for (const { h, p } of extra) out.push({ kind: 'edited-entry', index: base + p, detail: `the entry now at ${base + p} was never recorded in the log's tiles`, evidence: [where, `leaf hash ${hex(h)}`] });
  const eCommon = expected.filter((h) => aCount.has(hex(h))).map(hex);
  const aCommon = actual.filter((h) => eCount.has(hex(h))).map(hex);
  const firstOff = eCommon.findIndex((h, i) => h !== aCommon[i]);
  if (firstOff >= 0) {
    const p = expected.findIndex((h) => hex(h) === eCommon[firstOff]);
    out.push({ kind: 'reordered-entries', index: base + p, detail: `the remaining entries are in another order than recorded, from entry ${base + p}`, evidence: [where] });
  }
  return out;
}

// ---- CloudTrail and app events ----

const LOGGING_OFF = new Set(['StopLogging', 'DeleteTrail']);

/** A PutEventSelectors / UpdateTrail call that leaves no S3 data events selected turns the audit source off. */
function loggingOff(ev: Record<string, unknown>): string | undefined {
  if (ev['eventSource'] !== 'cloudtrail.amazonaws.com') return undefined;
  const name = String(ev['eventName'] ?? '');
  if (LOGGING_OFF.has(name)) return name;
  if (name === 'PutEventSelectors' && ev['requestParameters'] && typeof ev['requestParameters'] === 'object') {
    const p = JSON.stringify(ev['requestParameters']);
    if (!/AWS::S3::Object/.test(p) && !/"Data"/.test(p)) return `${name} without S3 data events`;
  }
  return undefined;
}

/** Every key of the logged event has the same value in the source event. */
function sameEvent(logged: Record<string, unknown>, source: Record<string, unknown>): string | undefined {
  for (const [k, v] of Object.entries(logged)) {
    if (!(k in source)) return `${k} is missing from the source`;
    if (canonicalJson(v) !== canonicalJson(source[k])) return `${k} differs: logged ${canonicalJson(v).slice(0, 120)}, source ${canonicalJson(source[k]).slice(0, 120)}`;
  }
  return undefined;
}

async function readTrail(store: LedgerStore, add: (d: Discrepancy) => void): Promise<Map<string, { file: string; record: Record<string, unknown> }>> {
  const byId = new Map<string, { file: string; record: Record<string, unknown> }>();
  let all: string[];
  try {
    all = await store.list('');
  } catch (e) {
    add({ kind: 'unreadable', detail: `the CloudTrail bucket cannot be listed: ${(e as Error).message}`, evidence: ['trail'] });
    return byId;
  }
  const read = async (file: string): Promise<Buffer | undefined> => {
    try {
      const data = await store.get(file);
      return data && (file.endsWith('.gz') ? gunzipSync(data) : data);
    } catch (e) {
      add({ kind: 'source-log-altered', detail: `the CloudTrail file ${file} cannot be read: ${(e as Error).message}`, evidence: [file] });
      return undefined;
    }
  };
  const files = all.filter((p) => /(^|\/)CloudTrail\/.*\.json(\.gz)?$/.test(p)).sort();
  const hashes = new Map<string, string>();
  for (const file of files) {
    const text = await read(file);
    if (!text) continue;
    hashes.set(file, createHash('sha256').update(text).digest('hex'));
    let records: unknown;
    try {
      records = (JSON.parse(text.toString('utf8')) as { Records?: unknown }).Records;
      if (!Array.isArray(records)) throw new Error('no Records array');
    } catch (e) {
      add({ kind: 'source-log-altered', detail: `the CloudTrail log file ${file} cannot be read: ${(e as Error).message}`, evidence: [file, `sha256 ${sha(text)}…`] });
      continue;
    }
    for (const r of records as Record<string, unknown>[]) {
      if (r && typeof r === 'object' && typeof r['eventID'] === 'string') byId.set(r['eventID'], { file, record: r });
    }
  }
  // Digest files (log file validation): every log file they list must still be there with its hash, and
  // each digest's predecessor must still be there, with no time between them.
  const byKey = (key: string, among: string[]) => among.find((f) => key === f || key.endsWith(`/${f}`));
  const digests: { file: string; d: Record<string, unknown> }[] = [];
  const digestFiles = all.filter((p) => /(^|\/)CloudTrail-Digest\/.*\.json(\.gz)?$/.test(p)).sort();
  for (const file of digestFiles) {
    const text = await read(file);
    if (!text) continue;
    try {
      digests.push({ file, d: JSON.parse(text.toString('utf8')) as Record<string, unknown> });
    } catch (e) {
      add({ kind: 'source-log-altered', detail: `the CloudTrail digest file ${file} cannot be read: ${(e as Error).message}`, evidence: [file] });
    }
  }
  for (const { file, d } of digests) {
    for (const lf of Array.isArray(d['logFiles']) ? (d['logFiles'] as Record<string, unknown>[]) : []) {
      const key = String(lf['s3Object'] ?? '');
      const found = byKey(key, files);
      if (!found) add({ kind: 'source-log-missing', detail: `the CloudTrail log file ${key}, listed in the digest ${file}, is gone`, evidence: [file, key, `sha256 ${String(lf['hashValue'] ?? '')}`] });
      else if (hashes.has(found) && lf['hashValue'] !== hashes.get(found)) add({ kind: 'source-log-altered', detail: `the CloudTrail log file ${found} no longer has the hash its digest ${file} recorded`, evidence: [file, found, `recorded sha256 ${String(lf['hashValue'])}`, `now sha256 ${hashes.get(found)}`] });
    }
    const prevKey = d['previousDigestS3Object'];
    if (typeof prevKey !== 'string' || !prevKey) continue;
    const prevFile = byKey(prevKey, digestFiles);
    const prev = prevFile && digests.find((x) => x.file === prevFile);
    if (!prevFile) {
      add({ kind: 'source-log-missing', detail: `the CloudTrail digest ${prevKey}, the predecessor of ${file}, is gone (the digest chain is broken)`, evidence: [file, prevKey] });
    } else if (prev && Date.parse(String(d['digestStartTime'])) > Date.parse(String(prev.d['digestEndTime']))) {
      add({ kind: 'logging-stopped', detail: `no CloudTrail digest covers ${String(prev.d['digestEndTime'])} to ${String(d['digestStartTime'])}: a gap in the trail's delivery`, evidence: [prevFile, file] });
    }
  }
  return byId;
}

// ---- the audit ----

export async function audit(log: LedgerStore, trust: TrustRoots, sources: AuditSources = {}): Promise<AuditReport> {
  const logVs = verifiers(trust.logVkeys, 'log');
  if (!logVs.length) throw new NoteError('bad-key', 'trust roots: at least one log vkey is needed');
  const witVs = verifiers(trust.witnessVkeys, 'witness');
  for (const v of witVs) if (v.type !== SIG_COSIGNATURE) throw new NoteError('bad-key', `trust roots: the witness key ${v.name} is not a cosignature (0x04) vkey; convert an Ed25519 vkey with cosignatureVkey()`);
  const quorum = trust.witnessQuorum ?? (witVs.length ? 1 : 0);
  if (quorum > witVs.length) throw new NoteError('bad-key', `trust roots: a witness quorum of ${quorum} needs at least ${quorum} witness keys (${witVs.length} given)`);

  const found: Discrepancy[] = [];
  const add = (d: Discrepancy) => found.push(d);
  // A store that refuses a read (access denied, a broken object) is a finding, not a crash of the audit.
  const failed = new Set<string>();
  const readFail = (what: string, e: unknown): void => {
    if (failed.has(what)) return;
    failed.add(what);
    add({ kind: 'unreadable', detail: `${what} cannot be read: ${(e as Error)?.message ?? String(e)}`, evidence: [what] });
  };
  const raw = log;
  log = {
    get: (p) => raw.get(p).catch((e: unknown) => { readFail(p, e); return undefined; }),
    put: (p, d) => raw.put(p, d),
    list: (p) => raw.list(p).catch((e: unknown) => { readFail(`the listing of ${p || 'the store'}`, e); return [] as string[]; }),
    ...(raw.versions ? { versions: (p: string) => raw.versions!(p).catch((e: unknown) => { readFail(`the versions of ${p}`, e); return [] as StoredVersion[]; }) } : {}),
  };

  // 1. Checkpoints: the log's own, its older versions, the witnessed ones, the anchors.
  const classify = (c: NoteCheck): void => {
    if (c.unreadable) {
      add({ kind: 'unreadable', detail: `${c.label} is not a checkpoint note: ${c.unreadable}`, evidence: [c.label, c.note.slice(0, 300)] });
      return;
    }
    if (c.checkpoint!.origin !== trust.origin) {
      add({ kind: 'unreadable', detail: `${c.label} is for the log ${JSON.stringify(c.checkpoint!.origin)}, not ${JSON.stringify(trust.origin)}`, evidence: [c.label] });
      return;
    }
    const logBad = c.badKeys.filter((k) => logVs.some((v) => `${v.name}+${hex8(v.keyId)}` === k));
    if (c.badKeys.length) add({ kind: 'bad-signature', detail: `${c.label}: the signature of ${c.badKeys.join(', ')} does not verify (text altered or signed by another key of the same name and ID)`, evidence: [c.label, c.note] });
    if (!c.logSigned && !logBad.length) {
      add({ kind: 'unknown-key', detail: `${c.label} is not signed by the log's pinned key (${logVs.map((v) => `${v.name}+${hex8(v.keyId)}`).join(', ')})${c.unknownKeys.length ? `; signed by unknown key(s) ${c.unknownKeys.join(', ')}: was the signing key replaced?` : ''}`, evidence: [c.label, c.note] });
    }
    // Extra signatures by keys we do not know are allowed by signed-note: not a finding by themselves.
  };

  const current = await log.get('checkpoint');
  let cur: NoteCheck | undefined;
  if (!current) add({ kind: 'unreadable', detail: 'the log has no checkpoint (the object `checkpoint` is missing)', evidence: ['checkpoint'] });
  else {
    cur = checkNote('the log\'s checkpoint', current.toString('utf8'), logVs, witVs);
    classify(cur);
    if (cur.unreadable || cur.checkpoint!.origin !== trust.origin) cur = undefined;
  }
  const curUsable = cur && cur.logSigned ? cur : undefined;

  const refs: (NoteCheck & { anchored: boolean; witnessed: boolean })[] = [];
  const cpVersions = distinctData(await versionsOf(log, 'checkpoint'));
  for (const v of cpVersions) {
    if (current && v.data!.equals(current)) continue;
    const c = checkNote(`checkpoint version ${v.versionId} (${v.lastModified.toISOString()})`, v.data!.toString('utf8'), logVs, witVs);
    classify(c);
    if (!c.unreadable && c.checkpoint!.origin === trust.origin && c.logSigned) refs.push({ ...c, anchored: false, witnessed: c.witnesses.length >= quorum && quorum > 0 });
  }
  for (const [i, note] of (sources.witnessed ?? []).entries()) {
    const c = checkNote(`witnessed checkpoint ${i + 1}`, note, logVs, witVs);
    classify(c);
    if (c.unreadable || c.checkpoint!.origin !== trust.origin) continue;
    if (c.witnesses.length < quorum) add({ kind: 'unwitnessed', detail: `witnessed checkpoint ${i + 1} has ${c.witnesses.length} valid cosignature(s) of the pinned witnesses; ${quorum} needed`, evidence: [c.label, c.note] });
    if (c.logSigned) refs.push({ ...c, anchored: false, witnessed: c.witnesses.length >= quorum && quorum > 0 });
  }
  if (sources.anchors) await readAnchors(sources.anchors).catch((e: unknown) => add({ kind: 'unreadable', detail: `the anchors cannot be read: ${(e as Error)?.message ?? String(e)}`, evidence: ['anchors'] }));
  async function readAnchors(anchors: LedgerStore): Promise<void> {
    const paths = (await listWithDeleted(anchors, '')).sort();
    for (const p of paths) {
      const vs = await versionsOf(anchors, p);
      const markers = vs.filter((v) => v.deleteMarker);
      if (markers.length) add({ kind: 'anchor-tampered', detail: `the anchor ${p} was deleted (${markers.length} delete marker(s)); its locked version${vs.some((v) => v.data) ? ' survives' : ' is gone'}`, evidence: [p, describeVersions(vs)] });
      const data = distinctData(vs);
      const gone = vs.filter((v) => !v.deleteMarker && !v.data);
      if (gone.length) add({ kind: 'anchor-tampered', detail: `the anchor ${p} has ${gone.length} version(s) whose content cannot be read`, evidence: [p, describeVersions(vs)] });
      const contents = data.length ? data.map((v) => ({ label: `anchor ${p} (version ${v.versionId})`, data: v.data! })) : [];
      if (!vs.length) {
        const d = await anchors.get(p);
        if (d) contents.push({ label: `anchor ${p}`, data: d });
      }
      for (const { label, data: d } of contents) {
        const c = checkNote(label, d.toString('utf8'), logVs, witVs);
        if (c.unreadable || c.checkpoint!.origin !== trust.origin || !c.logSigned) {
          add({ kind: 'anchor-tampered', detail: `${label} is not a checkpoint of ${trust.origin} signed by the log key${c.unreadable ? `: ${c.unreadable}` : ''}`, evidence: [label, d.toString('utf8').slice(0, 300)] });
          continue;
        }
        if (c.badKeys.length) add({ kind: 'bad-signature', detail: `${label}: the signature of ${c.badKeys.join(', ')} does not verify`, evidence: [label, c.note] });
        refs.push({ ...c, anchored: true, witnessed: c.witnesses.length >= quorum && quorum > 0 });
      }
      // One key may be overwritten with each new checkpoint (its versions stay); never with a smaller one.
      const sizes = data.map((v) => { try { return parseCheckpoint(splitNote(v.data!.toString('utf8')).text).size; } catch { return undefined; } });
      for (let i = 1; i < sizes.length; i++) {
        if (sizes[i] !== undefined && sizes[i - 1] !== undefined && sizes[i]! < sizes[i - 1]!) {
          add({ kind: 'anchor-tampered', detail: `the anchor ${p} was rolled back: version ${data[i]!.versionId} holds size ${sizes[i]}, after version ${data[i - 1]!.versionId} of size ${sizes[i - 1]}`, evidence: [p, describeVersions(vs)] });
        }
      }
    }
  }

  // The current checkpoint needs the witnesses' quorum, or a witnessed copy of the same tree head.
  if (cur && quorum > 0 && cur.witnesses.length < quorum) {
    const same = refs.some((r) => r.witnessed && r.checkpoint!.size === cur!.checkpoint!.size && r.checkpoint!.root.equals(cur!.checkpoint!.root));
    if (!same) add({ kind: 'unwitnessed', index: cur.checkpoint!.size, detail: `the log's checkpoint (size ${cur.checkpoint!.size}) has ${cur.witnesses.length} valid cosignature(s) of the pinned witnesses (${quorum} needed), and no witnessed checkpoint has its tree head`, evidence: [cur.note] });
  }

  const size = cur?.checkpoint?.size ?? 0;
  // Loops, not spreads: the number of checkpoints (anchors, versions) is not bounded by us.
  let witnessedSize = 0, anchoredSize = 0, signedMax = 0;
  for (const r of refs) {
    const n = r.checkpoint!.size;
    if (n > signedMax) signedMax = n;
    if ((r.witnessed || r.anchored) && n > witnessedSize) witnessedSize = n;
    if (r.anchored && n > anchoredSize) anchoredSize = n;
  }
  // 2. Entry bundles and level-0 tiles up to the largest size a validly signed checkpoint speaks of, or
  // that the store holds (a checkpoint signed by nobody we trust cannot make us read 2^40 bundles).
  const tilePaths = new Set(await log.list('tile/'));
  let stored = 0;
  for (const p of tilePaths) {
    const t = parseTilePath(p);
    if (t && t.level === -1) stored = Math.max(stored, t.n * TILE + t.width);
  }
  // A signed size is a claim, not a bound: whoever holds the log key can sign 2^40. Read no further than
  // what the store holds (every bundle or level-0 tile path, deleted ones included, plus one tile); the
  // rest of a signed size is one missing-entry finding below ("covers N, holds M").
  const allTilePaths = await listWithDeleted(raw, 'tile/').catch(() => [...tilePaths]);
  const presentSet = new Set<number>();
  let extent = stored;
  for (const p of [...tilePaths, ...allTilePaths]) {
    const t = parseTilePath(p);
    if (!t || t.level > 0) continue;
    presentSet.add(t.n);
    extent = Math.max(extent, t.n * TILE + t.width);
  }
  const present = [...presentSet].sort((a, b) => a - b);
  if (curUsable && size > signedMax) signedMax = size;
  else if (!curUsable && Math.min(size, stored) > signedMax) signedMax = Math.min(size, stored);
  const target = Math.max(stored, Math.min(signedMax, extent + TILE));
  // Sparse maps by entry index (a hostile tile path may name a position far beyond the entries).
  const leavesNow = new Map<number, Buffer>();   // leaf hashes of the entries as they stand
  const tile0 = new Map<number, Buffer>();       // level-0 hashes as stored now
  const entries = new Map<number, Buffer>();
  let entryCount = 0;
  const explained = new Set<number>(); // bundles with an entry-level discrepancy
  const rewritten: { path: string; index: number }[] = [];
  /** Entry-level findings from comparing a bundle with its level-0 tile (the tile may be the altered side). */
  const fromTile0 = new Set<Discrepancy>();

  const readVersions = async (full: string, partial?: string) => {
    const out: { path: string; vs: StoredVersion[] }[] = [];
    for (const p of partial ? [full, partial] : [full]) out.push({ path: p, vs: await versionsOf(log, p) });
    return out;
  };

  let nextPresent = 0; // index into `present`
  for (let k = 0; k * TILE < target; k++) {
    const base = k * TILE;
    const want = Math.min(TILE, target - base);
    const bFull = entriesPath(k);
    const tFull = tilePath(0, k);
    if (!presentSet.has(k) && !(await versionsOf(log, bFull)).length && !(await versionsOf(log, tFull)).length) {
      // Nothing of these entries in the store, not even an old version: jump to the next bundle the store
      // holds, with one finding for the whole gap (none at the tail: reported once after the loop).
      while (nextPresent < present.length && present[nextPresent]! <= k) nextPresent++;
      const next = nextPresent < present.length ? present[nextPresent]! : undefined;
      explained.add(k);
      if (next === undefined || next * TILE >= target) break;
      // The gap starts where the previous (possibly partial) bundle's entries end.
      let from = base;
      if (base > 0 && leavesNow.has(base - TILE)) while (!leavesNow.has(from - 1)) from--;
      if (from < size) add({ kind: 'missing-entry', index: from, detail: `entries ${from}–${Math.min(size, next * TILE) - 1}: neither the entry bundles nor their tiles are in the store`, evidence: [bFull, tFull, `next stored: ${entriesPath(next)}`] });
      k = next - 1;
      continue;
    }
    const bPick = pickTile(tilePaths, bFull);
    const tPick = pickTile(tilePaths, tFull);
    // Tile history: an immutable path with several contents was rewritten; a delete marker hid it.
    const bHist = bPick ? await versionsOf(log, bPick.path) : (await readVersions(bFull)).flatMap((x) => x.vs);
    const tHist = tPick ? await versionsOf(log, tPick.path) : await versionsOf(log, tFull);
    for (const [p, vs] of [[bPick?.path ?? bFull, bHist], [tPick?.path ?? tFull, tHist]] as const) {
      const d = distinctData(vs);
      if (d.length > 1 || vs.some((v) => v.deleteMarker)) {
        rewritten.push({ path: p, index: base });
        add({ kind: 'tile-rewritten', index: base, detail: `${p} is immutable but has ${d.length} different versions${vs.some((v) => v.deleteMarker) ? ' and a delete marker' : ''}`, evidence: [p, describeVersions(vs)] });
      }
    }
    const bOrig = distinctData(bHist)[0];
    const tOrig = distinctData(tHist)[0];

    let now: Buffer[] | undefined;
    if (bPick) {
      const data = await log.get(bPick.path);
      if (data) {
        try {
          now = parseEntryBundle(data);
        } catch (e) {
          add({ kind: 'unreadable', index: base, detail: `the entry bundle ${bPick.path} cannot be parsed: ${(e as Error).message}`, evidence: [bPick.path, `sha256 ${sha(data)}…`] });
          explained.add(k);
        }
      }
    }
    let recorded: Buffer[] | undefined;
    let recordedFrom = '';
    if (tOrig) {
      recorded = hashesOf(tOrig.data!);
      recordedFrom = `${tPick?.path ?? tFull} version ${tOrig.versionId}`;
    } else if (tPick) {
      const data = await log.get(tPick.path);
      if (data) {
        recorded = hashesOf(data);
        recordedFrom = tPick.path;
      }
    }
    if (!recorded && bOrig) {
      try {
        recorded = parseEntryBundle(bOrig.data!).map((e) => leafHash(e));
        recordedFrom = `${bPick?.path ?? bFull} version ${bOrig.versionId}`;
      } catch { /* reported with the bundle */ }
    }
    if (!recorded) {
      if (!now) {
        // Nothing at all: the log's own checkpoint says these entries exist.
        if (base < size) add({ kind: 'missing-entry', index: base, detail: `entries ${base}–${Math.min(size, base + TILE) - 1}: neither the entry bundle nor its tile is in the store`, evidence: [bFull, tFull] });
        explained.add(k);
        continue;
      }
      if (base < size) add({ kind: 'tile-mismatch', index: base, detail: `the level-0 tile of entries ${base}– is missing`, evidence: [tFull] });
    }
    if (!now) {
      if (base < size || recorded) {
        const hist = bHist.length ? ` (history: ${describeVersions(bHist)})` : '';
        add({ kind: 'missing-entry', index: base, detail: `the entry bundle of entries ${base}–${base + (recorded?.length ?? want) - 1} is gone${bOrig ? '; an earlier version survives and was used to check the tree' : ''}`, evidence: [bPick?.path ?? bFull + hist] });
        explained.add(k);
      }
      if (bOrig) {
        try {
          parseEntryBundle(bOrig.data!).forEach((e, i) => { if (base + i < target) { entries.set(base + i, e); leavesNow.set(base + i, leafHash(e)); } });
        } catch { /* nothing to recover */ }
      }
    } else {
      const actual = now.map((e) => leafHash(e));
      now.forEach((e, i) => { if (base + i < target) { entries.set(base + i, e); leavesNow.set(base + i, actual[i]!); } });
      entryCount += now.length;
      if (recorded) {
        const where = `${bPick!.path} (compared with ${recordedFrom})`;
        // A tile narrower than the bundle (a partial tile left behind) covers only its first entries.
        const cmpActual = recorded.length < now.length ? actual.slice(0, recorded.length) : actual;
        const ds = diffBundle(base, recorded, cmpActual, where);
        for (const d of ds) { add(d); fromTile0.add(d); }
        if (ds.length) explained.add(k);
      }
      // Older contents of the bundle: the original order and content, if it was rewritten.
      if (bOrig && !bOrig.data!.equals((await log.get(bPick!.path))!)) {
        try {
          const orig = parseEntryBundle(bOrig.data!).map((e) => leafHash(e));
          if (!explained.has(k)) {
            const ds = diffBundle(base, orig, actual.slice(0, Math.max(orig.length, actual.length)), `${bPick!.path} (compared with its version ${bOrig.versionId})`);
            for (const d of ds) add(d);
            if (ds.length) explained.add(k);
          }
        } catch { /* unreadable old version: the rewrite is reported */ }
      }
    }
    const curTile = tPick ? await log.get(tPick.path) : undefined;
    if (curTile) hashesOf(curTile).forEach((h, i) => { if (base + i < target) tile0.set(base + i, h); });
  }

  // 3. Higher tiles and the signed root, from the level-0 hashes as stored now.
  const known = (m: Map<number, Buffer>) => { let n = 0; while (m.has(n)) n++; return n; };
  const prefixOf = (m: Map<number, Buffer>, n: number) => Array.from({ length: n }, (_, i) => m.get(i)!);
  const tileLen = known(tile0);
  const tilesTree = new MemTree(tileLen, prefixOf(tile0, tileLen));
  for (const p of tilePaths) {
    const t = parseTilePath(p);
    if (!t || t.level < 1) continue;
    // A narrower partial tile left behind by a later append is not what a reader uses.
    const picked = pickTile(tilePaths, tilePath(t.level, t.n));
    if (picked && picked.path !== p) continue;
    const L = t.level, n = t.n;
    const data = await log.get(p);
    if (!data) continue;
    const hs = hashesOf(data);
    for (const [i, h] of hs.entries()) {
      const want = tilesTree.node(8 * L, n * TILE + i);
      if (want && !want.equals(h)) {
        const first = (n * TILE + i) * 2 ** (8 * L);
        add({ kind: 'tile-mismatch', index: first, detail: `${p}: hash ${i} is not the hash of the level-${8 * L} subtree over entries ${first}– computed from the level-0 tiles`, evidence: [p, `stored ${hex(h)}`, `computed ${hex(want)}`] });
        break;
      }
    }
    if (store_hasVersions(log)) {
      const vs = await versionsOf(log, p);
      const d = distinctData(vs);
      if (d.length > 1 || vs.some((v) => v.deleteMarker)) add({ kind: 'tile-rewritten', index: n * TILE * 2 ** (8 * L), detail: `${p} is immutable but has ${d.length} different versions`, evidence: [p, describeVersions(vs)] });
    }
  }

  // Tiles and bundles deleted outright (hidden from list(), not from the bucket's versions).
  const reportedPaths = new Set(rewritten.map((r) => r.path));
  for (const p of allTilePaths) {
    if (tilePaths.has(p) || reportedPaths.has(p)) continue;
    const t = parseTilePath(p);
    const vs = await versionsOf(log, p);
    if (!t || !vs.some((v) => v.deleteMarker)) continue;
    const first = t.level < 0 ? t.n * TILE : t.n * TILE * 2 ** (8 * t.level);
    rewritten.push({ path: p, index: first });
    add({ kind: 'tile-rewritten', index: first, detail: `${p} was deleted (tiles and bundles are never deleted by the log)`, evidence: [p, describeVersions(vs)] });
  }

  const entriesLen = known(leavesNow);
  // The signed checkpoint covers entries the store no longer holds at all.
  if (curUsable && entriesLen < size && !found.some((d) => d.kind === 'missing-entry' && d.index !== undefined && d.index >= Math.floor(entriesLen / TILE) * TILE)) {
    add({ kind: 'missing-entry', index: entriesLen, detail: `the log's signed checkpoint covers ${size} entries, the store holds only ${entriesLen}: entries ${entriesLen}–${size - 1} are gone`, evidence: [curUsable.note] });
  }
  const entriesTree = new MemTree(entriesLen, prefixOf(leavesNow, entriesLen));
  let firstExplained = Infinity;
  for (const k of explained) firstExplained = Math.min(firstExplained, k * TILE);
  for (const r of rewritten) firstExplained = Math.min(firstExplained, r.index);
  const entryLevelBefore = (m: number) => found.some((d) => d.index !== undefined && d.index < m && ['edited-entry', 'missing-entry', 'reordered-entries', 'tile-rewritten', 'tile-mismatch', 'unreadable'].includes(d.kind)) || firstExplained < m;

  // Entries that hash to the signed root while the level-0 tile does not: the tile was altered, not them.
  if (curUsable?.checkpoint && size > 0 && entriesLen >= size && entriesTree.root(size).equals(curUsable.checkpoint.root)) {
    for (const d of fromTile0) {
      if (d.index === undefined || d.index >= size) continue;
      d.kind = 'tile-mismatch';
      d.detail = `the level-0 tile hash of entry ${d.index} was altered: the entries hash to the signed root, the tile does not`;
    }
  }
  const tilesMatchCur = !!cur?.checkpoint && tileLen >= size && tilesTree.root(size).equals(cur.checkpoint.root);
  const entryChangeBefore = (m: number) => found.some((d) => d.index !== undefined && d.index < m && ['edited-entry', 'missing-entry', 'reordered-entries', 'tile-rewritten', 'unreadable'].includes(d.kind)) || firstExplained < m;
  if (cur?.checkpoint && size > 0 && tileLen >= size && !tilesMatchCur && !entryChangeBefore(size)) {
    const evidence = [`checkpoint root ${cur.checkpoint.root.toString('base64')}`, `root from the tiles ${tilesTree.root(size).toString('base64')}`];
    if (curUsable && entriesLen >= size && entriesTree.root(size).equals(tilesTree.root(size))) {
      // Entries and tiles agree with each other, not with what the log key signed: entries were changed
      // and the tiles rebuilt to match. Where: the first higher tile that no longer adds up, else the
      // largest trusted checkpoint the entries still match.
      const tm = found.filter((d) => d.kind === 'tile-mismatch' && d.index !== undefined).map((d) => d.index!);
      const at = tm.length ? tm.reduce((a, b) => Math.min(a, b)) : lastGood(refs, entriesTree, entriesLen, size);
      add({ kind: 'edited-entry', index: at, detail: `the entries agree with the level-0 tiles but not with the signed checkpoint (size ${size}): entries were changed and the tiles rebuilt; the change is at or after entry ${at}`, evidence });
    } else if (!entryLevelBefore(size)) {
      add({ kind: 'tile-mismatch', index: size, detail: `the tiles do not hash to the root of the log's checkpoint (size ${size})`, evidence });
    }
  }

  // 4. Every trusted checkpoint against the log now: truncation, stale checkpoint, fork, rewrite.
  if (cur?.checkpoint) {
    const bigger = refs.filter((r) => r.checkpoint!.size > size).sort((a, b) => b.checkpoint!.size - a.checkpoint!.size);
    if (bigger.length) {
      const r = bigger[0]!;
      const gone = entriesLen < r.checkpoint!.size;
      add({ kind: 'truncated', index: size, detail: `the log's checkpoint has ${size} entries, but ${describeCp(r)} (signed by the log) had ${r.checkpoint!.size}${gone ? `; entries from ${entriesLen} on are no longer in the store` : '; the entries are still in the store'}`, evidence: [r.label, r.note, cur.note] });
    }
    if (anchoredSize > size) {
      const r = refs.filter((x) => x.anchored).sort((a, b) => b.checkpoint!.size - a.checkpoint!.size)[0]!;
      add({ kind: 'stale-checkpoint', index: size, detail: `the log's checkpoint (size ${size}) is older than the newest anchor (${describeCp(r)})`, evidence: [r.label, r.note, cur.note] });
    }
  }
  const reported = new Set<string>();
  for (const r of refs) {
    const cp = r.checkpoint!;
    const key = `${cp.size}:${hex(cp.root)}`;
    if (reported.has(key)) continue;
    reported.add(key);
    // Against the tiles as they stand: a consistency proof from this checkpoint to the current one.
    // (When the tiles do not even match the current checkpoint, that is reported above; here the tree
    // head of this size is compared directly.)
    let tilesOk: boolean | undefined = tileLen >= cp.size ? tilesTree.root(cp.size).equals(cp.root) : undefined;
    if (cur?.checkpoint && tilesMatchCur && cp.size > 0 && cp.size < size) {
      tilesOk = verifyConsistency(cp.size, size, consistencyProofSync(cp.size, size, tilesTree.reader()), cp.root, cur.checkpoint.root);
    }
    const entriesOk = entriesLen >= cp.size ? entriesTree.root(cp.size).equals(cp.root) : undefined;
    if (tilesOk !== false && entriesOk !== false) continue;
    if (curUsable && tilesMatchCur && tilesOk === false) {
      // The log key signed both views: whatever else changed, that is a fork.
      reported.add(`cur-fork:${hex(cp.root)}`);
      add({ kind: 'fork', index: lastGood(refs, tilesTree, tileLen, cp.size), detail: `two checkpoints of ${trust.origin}, both validly signed by the log key, are not consistent: ${describeCp(r)} and the log's checkpoint (size ${size}); no consistency proof from the tiles holds`, evidence: [r.note, curUsable.note] });
      continue;
    }
    if (entryLevelBefore(cp.size)) continue; // already reported at the position where the log changed
    if (entriesOk === false || tilesOk === undefined) {
      const at = lastGood(refs, entriesTree, entriesLen, cp.size);
      add({ kind: 'edited-entry', index: at, detail: `the log was rewritten: the entries below ${cp.size} no longer hash to ${describeCp(r)}; the change is at or after entry ${at}`, evidence: [r.note] });
    } else {
      const at = lastGood(refs, tilesTree, tileLen, cp.size);
      add({ kind: 'tile-mismatch', index: at, detail: `the tiles below ${cp.size} no longer hash to ${describeCp(r)} (the entries still do); the change is at or after entry ${at}`, evidence: [r.note] });
    }
  }
  // Two trusted checkpoints of the same size with different roots fork each other whatever the store says.
  for (const a of refs) for (const b of refs) {
    if (a === b || a.checkpoint!.size !== b.checkpoint!.size || a.checkpoint!.root.equals(b.checkpoint!.root)) continue;
    const key = `fork:${[hex(a.checkpoint!.root), hex(b.checkpoint!.root)].sort().join(':')}`;
    if (reported.has(key)) continue;
    reported.add(key);
    add({ kind: 'fork', index: a.checkpoint!.size, detail: `two checkpoints of size ${a.checkpoint!.size}, both signed by the log key, have different roots: ${a.label} and ${b.label}`, evidence: [a.note, b.note] });
  }
  if (cur?.checkpoint && curUsable) {
    for (const r of refs) {
      if (r.checkpoint!.size === size && !r.checkpoint!.root.equals(cur.checkpoint.root) && !reported.has(`cur-fork:${hex(r.checkpoint!.root)}`) && !found.some((d) => d.kind === 'fork' && d.evidence.includes(r.note))) {
        reported.add(`cur-fork:${hex(r.checkpoint!.root)}`);
        add({ kind: 'fork', index: size, detail: `the log's checkpoint and ${r.label} have the same size ${size} and different roots, both signed by the log key`, evidence: [r.note, cur.note] });
      }
    }
  }

  // 5. Source events against the entries.
  const decoded = new Map<number, LedgerEntry>();
  const wantSources = !!(sources.trail || sources.appEvents);
  // A log of something else (the grade ledger) is not decoded entry by entry when no source is compared.
  const probe = [...entries.keys()].sort((a, b) => a - b).slice(0, 8).map((i) => entries.get(i)!);
  const ledgerEntries = wantSources || probe.some((e) => { try { decodeEntry(e); return true; } catch { return false; } });
  for (const i of ledgerEntries ? [...entries.keys()].sort((a, b) => a - b) : []) {
    const e = entries.get(i)!;
    try {
      decoded.set(i, decodeEntry(e));
    } catch (err) {
      if (wantSources) add({ kind: 'unreadable', index: i, detail: `entry ${i} is not a ledger entry: ${(err as Error).message}`, evidence: [`entry ${i}: ${e.toString('utf8').slice(0, 200)}`] });
    }
  }
  const editedAt = new Set(found.filter((d) => d.kind === 'edited-entry' && d.index !== undefined).map((d) => d.index!));
  const ctById = new Map<string, number>();
  const appById = new Map<string, number>();
  for (const [i, e] of decoded) {
    if (e.kind === 'cloudtrail' && e.source['eventID']) ctById.set(e.source['eventID'], i);
    if (e.kind === 'app' && e.source['id']) appById.set(e.source['id'], i);
  }
  const stopped = new Set<string>();
  for (const [i, e] of decoded) {
    if (e.kind !== 'cloudtrail') continue;
    const off = loggingOff({ ...e.event, eventSource: e.event['eventSource'] ?? e.source['eventSource'], eventName: e.event['eventName'] ?? e.source['eventName'] });
    if (off) {
      stopped.add(e.source['eventID'] ?? `#${i}`);
      add({ kind: 'logging-stopped', index: i, detail: `entry ${i}: ${off} at ${e.time} (by ${principal(e.event)}): CloudTrail stopped recording the audited events`, evidence: [`entry ${i}`, canonicalJson(e.event).slice(0, 400)] });
    }
  }
  const mustLog = sources.mustLog ?? defaultMustLog;
  if (sources.trail) {
    const records = await readTrail(sources.trail.store, add);
    for (const [id, { file, record }] of records) {
      const off = loggingOff(record);
      if (off && !stopped.has(id)) {
        stopped.add(id);
        add({ kind: 'logging-stopped', index: ctById.get(id), detail: `${off} at ${String(record['eventTime'])} (by ${principal(record)}), in the CloudTrail log file ${file}`, evidence: [file, id] });
      }
      if (!ctById.has(id) && mustLog('cloudtrail', record)) {
        add({ kind: 'unlogged-source-event', detail: `CloudTrail event ${id} (${String(record['eventName'])} at ${String(record['eventTime'])} by ${principal(record)}) has no ledger entry`, evidence: [file, canonicalJson(record).slice(0, 400)] });
      }
    }
    for (const [id, i] of ctById) {
      if (editedAt.has(i)) continue;
      const src = records.get(id);
      if (!src) {
        add({ kind: 'source-log-missing', index: i, detail: `entry ${i} (CloudTrail event ${id}, ${decoded.get(i)!.source['eventName'] ?? ''} at ${decoded.get(i)!.time}) is in no CloudTrail log file of the trail bucket: the file was deleted or rewritten`, evidence: [`entry ${i}`, canonicalJson(decoded.get(i)!.event).slice(0, 400)] });
        continue;
      }
      const why = sameEvent(decoded.get(i)!.event, src.record);
      if (why) add({ kind: 'source-log-altered', index: i, detail: `CloudTrail event ${id} in ${src.file} differs from entry ${i}: ${why}`, evidence: [src.file, `entry ${i}`] });
    }
  }
  if (sources.appEvents) {
    // An app event is known by the id inside its message (what the feed logs as source.id) or, for a
    // message without one, by its CloudWatch Logs event id.
    const parsedEvents = sources.appEvents.map((a) => {
      let ev: Record<string, unknown>;
      try {
        const parsed = JSON.parse(a.message) as unknown;
        ev = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { message: a.message };
      } catch {
        ev = { message: a.message };
      }
      const ids = [...new Set([typeof ev['id'] === 'string' ? ev['id'] : undefined, a.id].filter((x): x is string => !!x))];
      return { a, ev, ids };
    });
    const seen = new Set(parsedEvents.flatMap((p) => p.ids));
    for (const { a, ev, ids } of parsedEvents) {
      const i = ids.map((id) => appById.get(id)).find((x) => x !== undefined);
      if (i === undefined) {
        if (mustLog('app', ev)) add({ kind: 'unlogged-source-event', detail: `app audit event ${ids[0]} (${a.logGroup}/${a.logStream} at ${a.time}) has no ledger entry`, evidence: [`${a.logGroup}/${a.logStream}`, a.message.slice(0, 400)] });
        continue;
      }
      if (editedAt.has(i)) continue;
      const logged = decoded.get(i)!.event;
      const why = 'message' in logged && !('message' in ev) ? (logged['message'] === a.message ? undefined : 'the message differs') : sameEvent(logged, ev);
      if (why) add({ kind: 'source-log-altered', index: i, detail: `app audit event ${ids[0]} differs from entry ${i}: ${why}`, evidence: [`${a.logGroup}/${a.logStream}`, `entry ${i}`] });
    }
    for (const [id, i] of appById) {
      if (!seen.has(id) && !editedAt.has(i)) add({ kind: 'source-log-missing', index: i, detail: `entry ${i} (app audit event ${id}) is no longer in the app's audit log`, evidence: [`entry ${i}`, canonicalJson(decoded.get(i)!.event).slice(0, 400)] });
    }
  }

  found.sort((a, b) => (a.index ?? -1) - (b.index ?? -1));
  return { ok: found.length === 0, origin: trust.origin, size, witnessedSize, entries: entryCount, discrepancies: found };
}

function store_hasVersions(s: LedgerStore): boolean {
  return typeof s.versions === 'function';
}

/** The largest size of a checkpoint still matching the entries, below `m` (where a rewrite starts at the earliest). */
function lastGood(refs: NoteCheck[], tree: MemTree, len: number, m: number): number {
  let best = 0;
  for (const r of refs) {
    const s = r.checkpoint!.size;
    if (s < m && s <= len && s > best && tree.root(s).equals(r.checkpoint!.root)) best = s;
  }
  return best;
}

function principal(ev: Record<string, unknown>): string {
  const u = ev['userIdentity'] as Record<string, unknown> | undefined;
  return String(u?.['arn'] ?? u?.['userName'] ?? u?.['principalId'] ?? 'unknown');
}
