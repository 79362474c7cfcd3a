// The auditor against logs built with the real Ledger and signers, then tampered with each way the
// lab's attacker can: every kind is reported at its position, and an untouched log reports nothing.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { audit, type AuditSources, type Discrepancy, type TrustRoots } from '../../src/controls/ledger/audit.ts';
import { Ledger, checkpointText } from '../../src/controls/ledger/log.ts';
import { MemoryStore, S3Store, type LedgerStore } from '../../src/controls/ledger/store.ts';
import { encodeEntry, type LedgerEntry } from '../../src/controls/ledger/entry.ts';
import { entriesPath, formatEntryBundle, parseEntryBundle, tilePath } from '../../src/controls/ledger/tiles.ts';
import { addSignatures, ed25519Signer, generateEd25519Key, signNote, splitNote, type NoteSigner } from '../../src/controls/ledger/note.ts';
import { cosigner, cosignatureVkey } from '../../src/controls/ledger/cosignature.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const ORIGIN = 'northwind.example/audit-ledger';
const LOG = generateEd25519Key(ORIGIN);
const WITNESS = generateEd25519Key('witness.northwind.example');
const logSigner = ed25519Signer(LOG.skey);
const witness = cosigner(WITNESS.skey, () => Date.parse('2026-12-08T03:00:00Z'));
const TRUST: TrustRoots = { origin: ORIGIN, logVkeys: [LOG.vkey], witnessVkeys: [cosignatureVkey(WITNESS.vkey)] };

function event(i: number, name = 'GetObject'): Record<string, unknown> {
  return {
    eventVersion: '1.09', eventID: `ev-${String(i).padStart(5, '0')}`, eventTime: new Date(Date.UTC(2026, 11, 8, 1, 0, i)).toISOString(),
    eventSource: 's3.amazonaws.com', eventName: name, eventCategory: 'Data', managementEvent: false, awsRegion: 'us-east-1',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111111111111:user/app' },
    requestParameters: { bucketName: 'northwind-customers', key: `customers/${i % 17}.json` },
  };
}

function entryOf(ev: Record<string, unknown>): LedgerEntry {
  return { v: 1, kind: 'cloudtrail', source: { type: 'cloudtrail', eventID: String(ev['eventID']), eventSource: String(ev['eventSource']), eventName: String(ev['eventName']) }, time: String(ev['eventTime']), event: ev };
}

async function cosign(note: string, w: NoteSigner = witness): Promise<string> {
  const text = checkpointText(note);
  const { lines } = splitNote(await signNote(text, [w]));
  return addSignatures(note, lines);
}

interface Built {
  store: MemoryStore;
  events: Record<string, unknown>[];
  /** Cosigned checkpoint notes, by size. */
  witnessed: Map<number, string>;
}

/** A log of `n` CloudTrail entries, checkpointed (and cosigned, written back as the feed does) at each size in `at`. */
async function build(n: number, at: number[] = [n], store = new MemoryStore()): Promise<Built> {
  const ledger = await Ledger.open(store, { origin: ORIGIN });
  const events = Array.from({ length: n }, (_, i) => event(i));
  const witnessed = new Map<number, string>();
  let done = 0;
  for (const size of [...at].sort((a, b) => a - b)) {
    await ledger.append(events.slice(done, size).map((e) => encodeEntry(entryOf(e))));
    done = size;
    const cosigned = await cosign(await ledger.checkpoint([logSigner]));
    await store.put('checkpoint', Buffer.from(cosigned));
    witnessed.set(size, cosigned);
  }
  return { store, events, witnessed };
}

const kinds = (ds: Discrepancy[]) => [...new Set(ds.map((d) => d.kind))].sort();
const find = (ds: Discrepancy[], kind: string) => ds.filter((d) => d.kind === kind);

/** The same store without versions (a plain folder, or a bucket without versioning). */
function unversioned(s: LedgerStore): LedgerStore {
  return { get: (p) => s.get(p), put: (p, d) => s.put(p, d), list: (p) => s.list(p) };
}

async function rewriteBundle(store: LedgerStore, k: number, width: number | undefined, edit: (entries: Buffer[]) => Buffer[]): Promise<void> {
  const path = entriesPath(k, width);
  const entries = parseEntryBundle((await store.get(path))!);
  await store.put(path, formatEntryBundle(edit(entries)));
}

describe('audit of an untouched log', () => {
  it('reports nothing, for sizes around tile edges, with and without witnessed checkpoints and versions', async () => {
    for (const n of [0, 1, 255, 256, 257, 600]) {
      const b = await build(n, n > 10 ? [Math.floor(n / 3), n] : [n]);
      const witnessed = [...b.witnessed.values()];
      const r = await audit(b.store, TRUST, { witnessed });
      expect(r.discrepancies, `size ${n}`).toEqual([]);
      expect(r).toMatchObject({ ok: true, size: n, witnessedSize: n, entries: n });
      expect((await audit(unversioned(b.store), TRUST, { witnessed })).ok).toBe(true);
    }
  });

  it('accepts a log that grew past its last witnessed checkpoint (consistency proof from the tiles)', async () => {
    const b = await build(700, [300, 520]);
    const early = b.witnessed.get(300)!;
    const ledger = await Ledger.open(b.store, { origin: ORIGIN });
    await ledger.append([encodeEntry(entryOf(event(9000)))]);
    await b.store.put('checkpoint', Buffer.from(await cosign(await ledger.checkpoint([logSigner]))));
    const r = await audit(b.store, TRUST, { witnessed: [early] });
    expect(r.discrepancies).toEqual([]);
    expect(r.size).toBe(521);
  });

  it('matches untouched CloudTrail files and app events', async () => {
    const b = await build(40);
    const trail = new MemoryStore();
    await trail.put('AWSLogs/111111111111/CloudTrail/us-east-1/2026/12/08/a.json.gz', gzipSync(JSON.stringify({ Records: b.events.slice(0, 20) })));
    await trail.put('AWSLogs/111111111111/CloudTrail/us-east-1/2026/12/08/b.json.gz', gzipSync(JSON.stringify({ Records: b.events.slice(20) })));
    await trail.put('AWSLogs/111111111111/CloudTrail-Digest/us-east-1/2026/12/08/d.json.gz', gzipSync(JSON.stringify({ logFiles: [] })));
    const r = await audit(b.store, TRUST, { witnessed: [...b.witnessed.values()], trail: { store: trail } });
    expect(r.discrepancies).toEqual([]);
    // A store rooted at AWSLogs/<account>/ (an S3Store prefix) holds paths starting with CloudTrail/.
    const rooted = new MemoryStore();
    await rooted.put('CloudTrail/us-east-1/2026/12/08/a.json.gz', gzipSync(JSON.stringify({ Records: b.events })));
    expect((await audit(b.store, TRUST, { trail: { store: rooted } })).discrepancies).toEqual([]);
    expect(kinds((await audit(b.store, TRUST, { trail: { store: new MemoryStore() } })).discrepancies)).toEqual(['source-log-missing']);
  });
});

describe('audit of a tampered log', () => {
  it('an edited entry: at its position, with and without the bundle\'s older version', async () => {
    for (const versions of [true, false]) {
      const b = await build(600, [300, 600]);
      await rewriteBundle(b.store, 1, undefined, (es) => es.map((e, i) => (i === 44 ? encodeEntry(entryOf({ ...b.events[300]!, eventName: 'ListObjects' })) : e)));
      const r = await audit(versions ? b.store : unversioned(b.store), TRUST, { witnessed: [...b.witnessed.values()] });
      expect(r.ok).toBe(false);
      expect(find(r.discrepancies, 'edited-entry').map((d) => d.index)).toEqual([300]);
      if (versions) expect(find(r.discrepancies, 'tile-rewritten').map((d) => d.evidence[0])).toEqual([entriesPath(1)]);
      else expect(kinds(r.discrepancies)).toEqual(['edited-entry']);
    }
  });

  it('an edited entry with every tile rebuilt to match, no versions: edited-entry, bounded by the witnessed checkpoints', async () => {
    const b = await build(600, [300, 600]);
    const forged = new MemoryStore();
    const l2 = await Ledger.open(forged, { origin: ORIGIN });
    await l2.append(b.events.map((e, i) => encodeEntry(entryOf(i === 450 ? { ...e, eventName: 'HeadObject' } : e))));
    for (const p of await forged.list('tile/')) await b.store.put(p, (await forged.get(p))!);
    const r = await audit(unversioned(b.store), TRUST, { witnessed: [...b.witnessed.values()] });
    expect(r.discrepancies).toMatchObject([{ kind: 'edited-entry', index: 300, detail: expect.stringMatching(/tiles rebuilt; the change is at or after entry 300/) }]);
    // With the versions, the exact entry.
    const r2 = await audit(b.store, TRUST, { witnessed: [...b.witnessed.values()] });
    expect(find(r2.discrepancies, 'edited-entry').map((d) => d.index)).toEqual([450]);
  });

  it('deleted entries: missing-entry at the first deleted position', async () => {
    const b = await build(600);
    await rewriteBundle(b.store, 0, undefined, (es) => es.filter((_, i) => i < 10 || i > 12));
    const r = await audit(unversioned(b.store), TRUST, { witnessed: [...b.witnessed.values()] });
    expect(find(r.discrepancies, 'missing-entry')).toMatchObject([{ index: 10, detail: expect.stringMatching(/entries 10–12/) }]);
    expect(find(r.discrepancies, 'edited-entry')).toEqual([]);
  });

  it('a whole bundle deleted: missing-entry, and the deleted version still checks the tree', async () => {
    const b = await build(600);
    await b.store.delete(entriesPath(1));
    const r = await audit(b.store, TRUST, { witnessed: [...b.witnessed.values()] });
    expect(find(r.discrepancies, 'missing-entry').map((d) => d.index)).toEqual([256]);
    expect(find(r.discrepancies, 'edited-entry')).toEqual([]);
  });

  it('the last partial bundle and its tile deleted: missing-entry where the store ends', async () => {
    const b = await build(300, [290, 300]);
    await b.store.delete!(entriesPath(1, 44));
    await b.store.delete!(tilePath(0, 1, 44));
    const r = await audit(unversioned(b.store), TRUST, { witnessed: [b.witnessed.get(300)!] });
    expect(find(r.discrepancies, 'missing-entry')).toMatchObject([{ index: 290, detail: expect.stringMatching(/covers 300 entries, the store holds only 290/) }]);
  });

  it('reordered entries: reordered-entries at the first moved position', async () => {
    const b = await build(300);
    await rewriteBundle(b.store, 0, undefined, (es) => es.map((e, i) => (i === 5 ? es[7]! : i === 7 ? es[5]! : e)));
    const r = await audit(unversioned(b.store), TRUST, { witnessed: [...b.witnessed.values()] });
    expect(kinds(r.discrepancies)).toEqual(['reordered-entries']);
    expect(find(r.discrepancies, 'reordered-entries')[0]!.index).toBe(5);
  });

  it('a rewritten log (entries and every tile rebuilt, checkpoint signed by a replaced key): unknown-key, rewrite position from the older versions', async () => {
    const b = await build(600, [200, 600]);
    // The attacker rebuilds the log with entry 420 changed, under a key of the same name.
    const forged = new MemoryStore();
    const l2 = await Ledger.open(forged, { origin: ORIGIN });
    const events = b.events.map((e, i) => (i === 420 ? { ...e, requestParameters: { bucketName: 'northwind-customers', key: 'innocent.json' } } : e));
    await l2.append(events.map((e) => encodeEntry(entryOf(e))));
    const newKey = generateEd25519Key(ORIGIN);
    await l2.checkpoint([ed25519Signer(newKey.skey)]);
    for (const p of await forged.list('')) await b.store.put(p, (await forged.get(p))!);
    const r = await audit(b.store, TRUST, { witnessed: [b.witnessed.get(200)!] });
    expect(find(r.discrepancies, 'unknown-key')).toHaveLength(1);
    expect(find(r.discrepancies, 'edited-entry').map((d) => d.index)).toEqual([420]);
    expect(find(r.discrepancies, 'tile-rewritten').length).toBeGreaterThan(0);
    // Without the versions, the witnessed checkpoint of size 600 still shows the rewrite (not where: below 600).
    const r2 = await audit(unversioned(b.store), TRUST, { witnessed: [b.witnessed.get(600)!] });
    expect(kinds(r2.discrepancies)).toEqual(expect.arrayContaining(['unknown-key', 'edited-entry', 'unwitnessed']));
  });

  it('truncation: an older validly signed checkpoint put back, or entries gone past the checkpoint', async () => {
    const b = await build(600, [256, 600]);
    await b.store.put('checkpoint', Buffer.from(b.witnessed.get(256)!));
    const r = await audit(unversioned(b.store), TRUST, { witnessed: [b.witnessed.get(600)!] });
    expect(find(r.discrepancies, 'truncated')).toMatchObject([{ index: 256 }]);
    expect(r.witnessedSize).toBe(600);
    // The store's own versions of `checkpoint` show it too, with no witness to ask.
    const r2 = await audit(b.store, TRUST);
    expect(find(r2.discrepancies, 'truncated')).toMatchObject([{ index: 256 }]);
  });

  it('a checkpoint older than the newest anchor: stale-checkpoint', async () => {
    const b = await build(600, [300, 600]);
    const anchors = new MemoryStore();
    await anchors.put('checkpoints/300', Buffer.from(b.witnessed.get(300)!));
    await anchors.put('checkpoints/600', Buffer.from(b.witnessed.get(600)!));
    await b.store.put('checkpoint', Buffer.from(b.witnessed.get(300)!));
    const r = await audit(unversioned(b.store), TRUST, { anchors });
    expect(kinds(r.discrepancies)).toEqual(['stale-checkpoint', 'truncated']);
    expect(find(r.discrepancies, 'stale-checkpoint')[0]!.index).toBe(300);
  });

  it('a fork: two views, both signed by the log key, inconsistent', async () => {
    const a = await build(400, [400]);
    const bStore = new MemoryStore();
    const lb = await Ledger.open(bStore, { origin: ORIGIN });
    await lb.append(a.events.map((e, i) => encodeEntry(entryOf(i === 100 ? { ...e, eventName: 'HeadObject' } : e))).concat([encodeEntry(entryOf(event(5000)))]));
    await lb.checkpoint([logSigner]);
    const r = await audit(bStore, TRUST, { witnessed: [a.witnessed.get(400)!] });
    expect(find(r.discrepancies, 'fork')).toHaveLength(1);
    expect(find(r.discrepancies, 'fork')[0]!.evidence).toContain(a.witnessed.get(400)!);
    // Same size, different roots: a fork too.
    const cStore = new MemoryStore();
    const lc = await Ledger.open(cStore, { origin: ORIGIN });
    await lc.append(a.events.map((e, i) => encodeEntry(entryOf(i === 7 ? { ...e, eventName: 'HeadObject' } : e))));
    await cStore.put('checkpoint', Buffer.from(await cosign(await lc.checkpoint([logSigner]))));
    const r2 = await audit(cStore, TRUST, { witnessed: [a.witnessed.get(400)!] });
    expect(kinds(r2.discrepancies)).toEqual(['fork']);
  });

  it('signatures: bad-signature on an altered checkpoint, unwitnessed without cosignature, unknown witness ignored', async () => {
    const b = await build(50);
    const note = (await b.store.get('checkpoint'))!.toString();
    const altered = note.replace(/^(.*\n)50\n/, '$149\n');
    await b.store.put('checkpoint', Buffer.from(altered));
    const r = await audit(unversioned(b.store), TRUST);
    expect(kinds(r.discrepancies)).toContain('bad-signature');

    const c = await build(50);
    const ledger = await Ledger.open(c.store, { origin: ORIGIN });
    await c.store.put('checkpoint', Buffer.from(await ledger.checkpoint([logSigner])));
    const r2 = await audit(unversioned(c.store), TRUST);
    expect(kinds(r2.discrepancies)).toEqual(['unwitnessed']);
    // The same tree head cosigned elsewhere (the witness's state) is enough.
    const r3 = await audit(unversioned(c.store), TRUST, { witnessed: [c.witnessed.get(50)!] });
    expect(r3.discrepancies).toEqual([]);
    // A cosignature by a witness we do not pin does not count.
    const other = cosigner(generateEd25519Key('other.witness').skey, () => 0);
    await c.store.put('checkpoint', Buffer.from(await cosign(await ledger.checkpoint([logSigner]), other)));
    expect(kinds((await audit(unversioned(c.store), TRUST)).discrepancies)).toEqual(['unwitnessed']);
  });

  it('a checkpoint claiming a huge size under an unknown key, and a store that refuses reads: findings, no hang, no crash', async () => {
    const b = await build(40);
    const { formatCheckpoint } = await import('../../src/controls/ledger/checkpoint.ts');
    const mallory = ed25519Signer(generateEd25519Key(ORIGIN).skey);
    const huge = await signNote(formatCheckpoint({ origin: ORIGIN, size: 2 ** 45, root: Buffer.alloc(32, 7), extensions: [] }), [mallory]);
    await b.store.put('checkpoint', Buffer.from(huge));
    const r = await audit(unversioned(b.store), TRUST, { witnessed: [b.witnessed.get(40)!] });
    expect(kinds(r.discrepancies)).toEqual(['unknown-key', 'unwitnessed']);
    expect(r).toMatchObject({ size: 2 ** 45, witnessedSize: 40, entries: 40 });

    const c = await build(300);
    const denied: LedgerStore = { ...unversioned(c.store), get: async (p) => { if (p === entriesPath(1, 44)) throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }); return c.store.get(p); } };
    const r2 = await audit(denied, TRUST, { witnessed: [c.witnessed.get(300)!] });
    expect(find(r2.discrepancies, 'unreadable')).toMatchObject([{ detail: expect.stringMatching(/tile\/entries\/001\.p\/44 cannot be read: Access Denied/) }]);
    expect(find(r2.discrepancies, 'missing-entry').map((d) => d.index)).toEqual([256]);
  });

  // Review finding 6: a size signed by the log key is a claim, not a bound on what the audit reads.
  it('a log-signed checkpoint of 2^18 over 600 entries: one missing-entry for the rest, not one per absent bundle', async () => {
    const b = await build(600);
    const { formatCheckpoint } = await import('../../src/controls/ledger/checkpoint.ts');
    const big = await cosign(await signNote(formatCheckpoint({ origin: ORIGIN, size: 2 ** 18, root: Buffer.alloc(32, 9), extensions: [] }), [logSigner]));
    await b.store.put('checkpoint', Buffer.from(big));
    const r = await audit(unversioned(b.store), TRUST, { witnessed: [b.witnessed.get(600)!] });
    expect(find(r.discrepancies, 'missing-entry')).toMatchObject([{ index: 600, detail: expect.stringMatching(/covers 262144 entries, the store holds only 600/) }]);
    expect(r.discrepancies.length).toBeLessThan(5);
    expect(r).toMatchObject({ ok: false, size: 2 ** 18, entries: 600 });
  });

  it('bundles gone in the middle: one missing-entry for the gap; a bundle planted at 2^30 is read, the gap before it is one finding', async () => {
    const b = await build(1200);
    for (const k of [1, 2]) { await b.store.delete!(entriesPath(k)); await b.store.delete!(tilePath(0, k)); }
    const r = await audit(unversioned(b.store), TRUST, { witnessed: [b.witnessed.get(1200)!] });
    expect(find(r.discrepancies, 'missing-entry')).toMatchObject([{ index: 256, detail: expect.stringMatching(/entries 256–767: neither/) }]);
    expect(r.entries).toBe(1200 - 512);

    const c = await build(600);
    const { formatCheckpoint } = await import('../../src/controls/ledger/checkpoint.ts');
    await c.store.put(entriesPath(2 ** 22), formatEntryBundle([encodeEntry(entryOf(event(9999)))]));
    await c.store.put('checkpoint', Buffer.from(await signNote(formatCheckpoint({ origin: ORIGIN, size: 2 ** 40, root: Buffer.alloc(32, 3), extensions: [] }), [logSigner])));
    const r2 = await audit(unversioned(c.store), TRUST, { witnessed: [c.witnessed.get(600)!] });
    expect(find(r2.discrepancies, 'missing-entry').map((d) => d.index)).toEqual([600]);
    expect(r2.discrepancies.length).toBeLessThan(10);
    expect(r2.entries).toBe(601);
  });

  it('tiles: an altered higher tile is a tile-mismatch; rewriting a tile with the same bytes is not evidence', async () => {
    const b = await build(600);
    const p = tilePath(1, 0, 2);
    const t = (await b.store.get(p))!;
    await b.store.put(p, t); // same bytes again: a retried write
    expect((await audit(b.store, TRUST)).discrepancies).toEqual([]);
    const bad = Buffer.from(t);
    bad[40] ^= 1;
    await b.store.put(p, bad);
    const r = await audit(b.store, TRUST);
    expect(find(r.discrepancies, 'tile-mismatch')).toMatchObject([{ index: 256 }]);
    expect(find(r.discrepancies, 'tile-rewritten')).toMatchObject([{ evidence: [p, expect.any(String)] }]);
  });

  it('anchors: deleted or overwritten anchors, and a junk anchor', async () => {
    const b = await build(100, [50, 100]);
    // Deleted paths stay listed, as ListObjectVersions shows them in a bucket.
    const mem = new MemoryStore();
    const ever = new Set<string>();
    const anchors = Object.assign(mem, {
      put: async (p: string, d: Buffer) => { ever.add(p); await MemoryStore.prototype.put.call(mem, p, d); },
      listVersioned: async (prefix: string) => [...ever].filter((p) => p.startsWith(prefix)).sort(),
    });
    await anchors.put('checkpoints/50', Buffer.from(b.witnessed.get(50)!));
    await anchors.put('checkpoints/100', Buffer.from(b.witnessed.get(100)!));
    expect((await audit(b.store, TRUST, { anchors })).discrepancies).toEqual([]);
    // One key overwritten with each newer checkpoint is how some feeds anchor: not evidence.
    await anchors.put('latest', Buffer.from(b.witnessed.get(50)!));
    await anchors.put('latest', Buffer.from(b.witnessed.get(100)!));
    expect((await audit(b.store, TRUST, { anchors })).discrepancies).toEqual([]);
    await anchors.delete!('checkpoints/50');
    await anchors.put('checkpoints/100', Buffer.from('not a note'));
    await anchors.put('latest', Buffer.from(b.witnessed.get(50)!));
    const r = await audit(b.store, TRUST, { anchors });
    expect(kinds(r.discrepancies)).toEqual(['anchor-tampered']);
    const details = find(r.discrepancies, 'anchor-tampered').map((d) => d.detail).sort();
    expect(details).toEqual([
      expect.stringMatching(/^anchor checkpoints\/100 \(version \d+\) is not a checkpoint/),
      expect.stringMatching(/^the anchor checkpoints\/50 was deleted \(1 delete marker\(s\)\); its locked version survives/),
      expect.stringMatching(/^the anchor latest was rolled back: .* holds size 50, after .* of size 100/),
    ]);
  });
});

describe('audit against the source logs', () => {
  async function withTrail(n: number) {
    const b = await build(n);
    const trail = new MemoryStore();
    const file = (i: number) => `AWSLogs/111111111111/CloudTrail/us-east-1/2026/12/08/f${i}.json.gz`;
    for (let i = 0; i * 10 < n; i++) await trail.put(file(i), gzipSync(JSON.stringify({ Records: b.events.slice(i * 10, i * 10 + 10) })));
    return { ...b, trail, file };
  }
  const src = (b: { witnessed: Map<number, string>; trail: MemoryStore }, extra: Partial<AuditSources> = {}): AuditSources => ({ witnessed: [...b.witnessed.values()], trail: { store: b.trail }, ...extra });

  it('a data event with no entry: unlogged-source-event; management events need none by default', async () => {
    const b = await withTrail(30);
    const unlogged = { ...event(777), eventName: 'PutObject' };
    const mgmt = { ...event(778), eventName: 'ListBuckets', eventCategory: 'Management', managementEvent: true };
    await b.trail.put(b.file(99), gzipSync(JSON.stringify({ Records: [unlogged, mgmt] })));
    const r = await audit(b.store, TRUST, src(b));
    expect(kinds(r.discrepancies)).toEqual(['unlogged-source-event']);
    expect(r.discrepancies[0]!.detail).toContain('ev-00777');
  });

  it('a deleted trail file: source-log-missing at each entry; a rewritten one: source-log-altered', async () => {
    const b = await withTrail(30);
    await b.trail.delete!(b.file(1));
    const r = await audit(b.store, TRUST, src(b));
    expect(kinds(r.discrepancies)).toEqual(['source-log-missing']);
    expect(r.discrepancies.map((d) => d.index)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    const c = await withTrail(30);
    const records = b.events.slice(20, 30).map((e, i) => (i === 3 ? { ...e, userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111111111111:user/app' }, requestParameters: { bucketName: 'northwind-customers', key: 'other.json' } } : e));
    await c.trail.put(c.file(2), gzipSync(JSON.stringify({ Records: records })));
    const r2 = await audit(c.store, TRUST, src(c));
    expect(r2.discrepancies).toMatchObject([{ kind: 'source-log-altered', index: 23 }]);
  });

  it('digest files: a listed log file gone or changed, a broken digest chain, a gap between digests', async () => {
    const b = await withTrail(20);
    const { createHash } = await import('node:crypto');
    const { gunzipSync } = await import('node:zlib');
    const acct = 'AWSLogs/111111111111/';
    const sha256 = async (p: string) => createHash('sha256').update(gunzipSync((await b.trail.get(p))!)).digest('hex');
    const dkey = (i: number) => `${acct}CloudTrail-Digest/us-east-1/2026/12/08/111111111111_CloudTrail-Digest_us-east-1_audit_us-east-1_2026120${i}T000000Z.json.gz`;
    const digest = async (i: number, files: string[], start: string, end: string, prev?: number) => b.trail.put(dkey(i), gzipSync(JSON.stringify({
      digestStartTime: start, digestEndTime: end, digestS3Object: dkey(i), previousDigestS3Object: prev === undefined ? null : dkey(prev),
      logFiles: await Promise.all(files.map(async (f) => ({ s3Bucket: 'trail', s3Object: f, hashValue: await sha256(f), hashAlgorithm: 'SHA-256' }))),
    })));
    await digest(1, [b.file(0)], '2026-12-08T00:00:00Z', '2026-12-08T01:00:00Z');
    await digest(2, [b.file(1)], '2026-12-08T01:00:00Z', '2026-12-08T02:00:00Z', 1);
    expect((await audit(b.store, TRUST, src(b))).discrepancies).toEqual([]);
    // A store rooted at the account (the digest names full keys).
    const rooted = { get: (p: string) => b.trail.get(acct + p), put: async () => {}, list: async () => (await b.trail.list(acct)).map((p) => p.slice(acct.length)) };
    expect((await audit(b.store, TRUST, { trail: { store: rooted } })).discrepancies).toEqual([]);

    await b.trail.put(b.file(1), gzipSync(JSON.stringify({ Records: b.events.slice(10, 20) }) + ' '));
    expect((await audit(b.store, TRUST, src(b))).discrepancies).toMatchObject([{ kind: 'source-log-altered', detail: expect.stringMatching(/no longer has the hash its digest/) }]);
    await b.trail.delete!(dkey(1));
    await digest(3, [], '2026-12-08T03:00:00Z', '2026-12-08T04:00:00Z', 2);
    const r = await audit(b.store, TRUST, src(b));
    expect(r.discrepancies.map((d) => d.kind).sort()).toEqual(['logging-stopped', 'source-log-altered', 'source-log-missing']);
    expect(find(r.discrepancies, 'source-log-missing')[0]!.detail).toMatch(/predecessor .* is gone/);
    expect(find(r.discrepancies, 'logging-stopped')[0]!.detail).toMatch(/no CloudTrail digest covers 2026-12-08T02:00:00Z to 2026-12-08T03:00:00Z/);
  });

  it('StopLogging in the log or in a trail file: logging-stopped', async () => {
    const b = await withTrail(20);
    const stop = { ...event(500), eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging', eventCategory: 'Management', managementEvent: true, userIdentity: { arn: 'arn:aws:iam::111111111111:user/ops-admin' } };
    const ledger = await Ledger.open(b.store, { origin: ORIGIN });
    await ledger.append([encodeEntry(entryOf(stop))]);
    await b.store.put('checkpoint', Buffer.from(await cosign(await ledger.checkpoint([logSigner]))));
    await b.trail.put(b.file(50), gzipSync(JSON.stringify({ Records: [stop] })));
    const r = await audit(b.store, TRUST, { trail: { store: b.trail } });
    expect(r.discrepancies).toMatchObject([{ kind: 'logging-stopped', index: 20, detail: expect.stringContaining('ops-admin') }]);
  });

  it('PutEventSelectors: logging-stopped when no S3 data events remain selected, not when they do', async () => {
    const b = await withTrail(10);
    const put = (i: number, selectors: unknown) => ({ ...event(i), eventSource: 'cloudtrail.amazonaws.com', eventName: 'PutEventSelectors', eventCategory: 'Management', managementEvent: true, requestParameters: { trailName: 'audit', eventSelectors: selectors } });
    await b.trail.put(b.file(60), gzipSync(JSON.stringify({ Records: [put(600, [{ readWriteType: 'All', includeManagementEvents: true, dataResources: [{ type: 'AWS::S3::Object', values: ['arn:aws:s3:::northwind-customers/'] }] }])] })));
    expect((await audit(b.store, TRUST, src(b))).discrepancies).toEqual([]);
    await b.trail.put(b.file(61), gzipSync(JSON.stringify({ Records: [put(601, [{ readWriteType: 'All', includeManagementEvents: true, dataResources: [] }])] })));
    const r = await audit(b.store, TRUST, src(b));
    expect(r.discrepancies).toMatchObject([{ kind: 'logging-stopped', detail: expect.stringMatching(/PutEventSelectors without S3 data events/) }]);
  });

  it('app audit events: unlogged, missing from the app log, altered', async () => {
    const store = new MemoryStore();
    const ledger = await Ledger.open(store, { origin: ORIGIN });
    const app = Array.from({ length: 5 }, (_, i) => ({ id: `app-${i}`, logGroup: '/northwind/app/audit', logStream: 'web-1', time: `2026-12-08T01:00:0${i}Z`, message: JSON.stringify({ action: 'update', record: `customer-${i}`, user: 'clerk' }) }));
    await ledger.append(app.slice(0, 4).map((a) => encodeEntry({ v: 1, kind: 'app', source: { type: 'app-audit', logGroup: a.logGroup, logStream: a.logStream, id: a.id }, time: a.time, event: JSON.parse(a.message) as Record<string, unknown> })));
    await store.put('checkpoint', Buffer.from(await cosign(await ledger.checkpoint([logSigner]))));
    expect((await audit(store, TRUST, { appEvents: app.slice(0, 4) })).discrepancies).toEqual([]);
    const shown = [app[0]!, { ...app[1]!, message: JSON.stringify({ action: 'read', record: 'customer-1', user: 'clerk' }) }, app[3]!, app[4]!];
    const r = await audit(store, TRUST, { appEvents: shown });
    expect(r.discrepancies.map((d) => [d.kind, d.index])).toEqual([['unlogged-source-event', undefined], ['source-log-altered', 1], ['source-log-missing', 2]]);
  });

  it('app events are matched by the id in their message, as the kit\'s feed logs them (not the CloudWatch event id)', async () => {
    const store = new MemoryStore();
    const ledger = await Ledger.open(store, { origin: ORIGIN });
    const messages = [0, 1, 2].map((i) => ({ id: `audit-${i}`, time: `2026-12-08T01:00:0${i}Z`, action: 'read', record: `customer-${i}` }));
    await ledger.append(messages.map((m) => encodeEntry({ v: 1, kind: 'app', source: { type: 'app-audit', logGroup: '/northwind/app/audit', logStream: 'web-1', id: m.id }, time: m.time, event: m })));
    await store.put('checkpoint', Buffer.from(await cosign(await ledger.checkpoint([logSigner]))));
    const cw = messages.map((m, i) => ({ id: `3795${i}000000000000000000000000000000000000000000000000000${i}`, logGroup: '/northwind/app/audit', logStream: 'web-1', time: m.time, message: JSON.stringify(m) }));
    expect((await audit(store, TRUST, { appEvents: cw })).discrepancies).toEqual([]);
    const r = await audit(store, TRUST, { appEvents: cw.slice(1) });
    expect(r.discrepancies).toMatchObject([{ kind: 'source-log-missing', index: 0, detail: expect.stringContaining('audit-0') }]);
  });
});

describe('audit over S3 versions in the lab cloud', () => {
  const { cloud } = useLabCloud();

  it('a reordered bundle in a versioned bucket: tile-rewritten and the original order from the older version', async () => {
    const c = cloud();
    const root = c.createAccount();
    const s3 = c.client(S3Client, { credentials: { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey } });
    await s3.send(new CreateBucketCommand({ Bucket: 'ledger-audit' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'ledger-audit', VersioningConfiguration: { Status: 'Enabled' } }));
    const store = new S3Store({ client: s3, bucket: 'ledger-audit', prefix: 'log/' });
    const b = await build(300, [300], store as unknown as MemoryStore);
    expect((await audit(store, TRUST)).discrepancies).toEqual([]);
    // The attacker swaps two entries and rebuilds the level-0 tile to match (the signed root then differs).
    const entries = parseEntryBundle((await store.get(entriesPath(0)))!);
    [entries[3], entries[9]] = [entries[9]!, entries[3]!];
    await s3.send(new PutObjectCommand({ Bucket: 'ledger-audit', Key: `log/${entriesPath(0)}`, Body: formatEntryBundle(entries) }));
    const r = await audit(store, TRUST, { witnessed: [b.witnessed.get(300)!] });
    expect(find(r.discrepancies, 'reordered-entries')).toMatchObject([{ index: 3 }]);
    expect(find(r.discrepancies, 'tile-rewritten')).toMatchObject([{ index: 0, evidence: [entriesPath(0), expect.stringMatching(/sha256/)] }]);

    // A deleted anchor is hidden from ListObjects, not from ListObjectVersions.
    await s3.send(new CreateBucketCommand({ Bucket: 'ledger-anchors' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'ledger-anchors', VersioningConfiguration: { Status: 'Enabled' } }));
    const anchors = new S3Store({ client: s3, bucket: 'ledger-anchors' });
    await anchors.put('300', Buffer.from(b.witnessed.get(300)!));
    expect(find((await audit(store, TRUST, { anchors })).discrepancies, 'anchor-tampered')).toEqual([]);
    await anchors.delete('300');
    const r2 = await audit(store, TRUST, { anchors });
    expect(find(r2.discrepancies, 'anchor-tampered')).toMatchObject([{ detail: expect.stringMatching(/300 was deleted .* survives/) }]);
  }, 120_000);
});
