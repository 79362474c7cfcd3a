// The ledger's log: tlog-tiles layout (Go's sumdb/tlog paths), incremental appends, proofs from stored
// tiles, reopening and crash recovery, over MemoryStore and FsStore; ledger entries (RFC 8785).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/engine/random.ts';
import { EMPTY_ROOT, LedgerError, leafHash, nodeHash, type Hash } from '../../src/controls/ledger/hash.ts';
import { treeRoot, verifyConsistency, verifyInclusion } from '../../src/controls/ledger/tree.ts';
import { entriesPath, formatEntryBundle, parseEntryBundle, parseTilePath, tilePath, tileNodeReader } from '../../src/controls/ledger/tiles.ts';
import { FsStore, MemoryStore, type LedgerStore } from '../../src/controls/ledger/store.ts';
import { Ledger, MerkleAccumulator } from '../../src/controls/ledger/log.ts';
import { canonicalJson, decodeEntry, encodeEntry, type LedgerEntry } from '../../src/controls/ledger/entry.ts';
import { ed25519Signer, generateEd25519Key, verifierFromVkey } from '../../src/controls/ledger/note.ts';
import { openCheckpoint } from '../../src/controls/ledger/checkpoint.ts';

const SEED = 'ledger-log-test-1';
const ORIGIN = 'seclab.test/ledger';
const entry = (i: number) => Buffer.from(`entry number ${i} ${'x'.repeat(i % 40)}`);

/** MTH by the RFC definition over leaf hashes (independent of the code under test). */
function mth(leaves: Hash[]): Hash {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

describe('tile paths (c2sp tlog-tiles = Go sumdb/tlog Tile.Path without the height element)', () => {
  it('formats and parses paths as Go does', () => {
    // Go: tlog.Tile{H: 8, L: 0, N: 1234067, W: 256}.Path() == "tile/8/0/x001/x234/067"
    expect(tilePath(0, 1234067)).toBe('tile/0/x001/x234/067');
    expect(tilePath(0, 1234)).toBe('tile/0/x001/234');
    expect(tilePath(0, 0)).toBe('tile/0/000');
    expect(tilePath(2, 1000000)).toBe('tile/2/x001/x000/000');
    // Go: tlog.Tile{H: 8, L: 1, N: 5, W: 17}.Path() == "tile/8/1/005.p/17"
    expect(tilePath(1, 5, 17)).toBe('tile/1/005.p/17');
    expect(tilePath(1, 5, 256)).toBe('tile/1/005');
    // Go: level -1 is "data"; tlog-tiles names the bundles "entries"
    expect(entriesPath(1234, 3)).toBe('tile/entries/x001/234.p/3');
    for (const [p, want] of [
      ['tile/0/x001/x234/067', { level: 0, n: 1234067, width: 256 }],
      ['tile/entries/x001/234.p/3', { level: -1, n: 1234, width: 3 }],
      ['tile/3/000.p/255', { level: 3, n: 0, width: 255 }],
    ] as const) expect(parseTilePath(p)).toEqual(want);
    for (const bad of ['tile/0/1234', 'tile/0/x000/001', 'tile/0/001.p/256', 'tile/0/001.p/0', 'tile/64/000', 'tile/01/000', 'checkpoint']) expect(parseTilePath(bad), bad).toBeUndefined();
    expect(() => tilePath(0, 1, 0)).toThrow(LedgerError);
    expect(() => tilePath(0, -1)).toThrow(/non-negative/);
  });
  it('entry bundles: uint16 big-endian length prefixes, truncation reported', () => {
    const b = formatEntryBundle([Buffer.from('ab'), Buffer.alloc(0), Buffer.from('xyz')]);
    expect(b.toString('hex')).toBe('000261620000000378797a');
    expect(parseEntryBundle(b).map((x) => x.toString())).toEqual(['ab', '', 'xyz']);
    expect(() => parseEntryBundle(b.subarray(0, b.length - 1))).toThrow(/truncated: entry 2 at offset 6 says 3 bytes but only 2 remain/);
    expect(() => parseEntryBundle(Buffer.from([0]))).toThrow(/2-byte length/);
    expect(() => formatEntryBundle([Buffer.alloc(65536)])).toThrow(expect.objectContaining({ code: 'entry-too-large' }));
  });
});

async function checkLog(store: LedgerStore, l: Ledger, leaves: Hash[], random: Random): Promise<void> {
  const size = leaves.length;
  expect(l.size).toBe(size);
  const root = mth(leaves);
  expect((await l.root()).equals(root)).toBe(true);
  // From the stored tiles alone (a fresh reader, nothing cached).
  const read = tileNodeReader(store, size);
  expect((await treeRoot(size, read)).equals(root)).toBe(true);
  for (let k = 0; k < 12; k++) {
    const i = random.int(0, size - 1);
    const proof = await l.inclusionProof(i);
    expect(verifyInclusion(leaves[i]!, i, size, proof, root), `inclusion ${i}/${size}`).toBe(true);
    expect(leafHash(await l.entry(i)).equals(leaves[i]!)).toBe(true);
    const old = random.int(1, size);
    const cproof = await l.consistencyProof(old);
    expect(verifyConsistency(old, size, cproof, mth(leaves.slice(0, old)), root), `consistency ${old}->${size}`).toBe(true);
  }
}

describe.each([
  ['MemoryStore', async () => ({ store: new MemoryStore() as LedgerStore, done: async () => {} })],
  [
    'FsStore',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ledger-fs-'));
      return { store: new FsStore(dir) as LedgerStore, done: () => rm(dir, { recursive: true, force: true }) };
    },
  ],
])('Ledger over %s', (_name, make) => {
  it('appends batches of random sizes; roots and proofs from stored tiles verify; reopen continues', async () => {
    const { store, done } = await make();
    try {
      const random = new Random(SEED);
      let l = await Ledger.open(store, { origin: ORIGIN });
      expect(l.size).toBe(0);
      expect((await l.root()).equals(EMPTY_ROOT)).toBe(true);
      const leaves: Hash[] = [];
      const acc = new MerkleAccumulator();
      const key = generateEd25519Key(ORIGIN);
      const signer = ed25519Signer(key.skey);
      let n = 0;
      for (let round = 0; round < 14; round++) {
        const batch = Array.from({ length: random.int(1, round % 3 === 0 ? 700 : 40) }, () => entry(n++));
        const r = await l.append(batch);
        expect(r).toEqual({ first: leaves.length, size: leaves.length + batch.length });
        for (const e of batch) {
          leaves.push(leafHash(e));
          acc.appendEntry(e);
        }
        expect(acc.root().equals(await l.root())).toBe(true);
        await checkLog(store, l, leaves, random);
        if (round % 4 === 1) {
          const note = await l.checkpoint([signer]);
          const { checkpoint } = openCheckpoint(note, [verifierFromVkey(key.vkey)], ORIGIN);
          expect(checkpoint.size).toBe(leaves.length);
          expect(checkpoint.root.equals(mth(leaves))).toBe(true);
          // Reopen from the store: the right edge comes back from the stored partial tiles.
          l = await Ledger.open(store, { origin: ORIGIN });
          expect(l.recovered).toBe(0);
          expect(l.size).toBe(leaves.length);
        }
      }
      // Appended after the last checkpoint: a reopen rolls forward over the stored bundles.
      const cpSize = Number((await store.get('checkpoint'))!.toString().split('\n')[1]);
      const reopened = await Ledger.open(store, { origin: ORIGIN });
      expect(reopened.size).toBe(leaves.length);
      expect(reopened.recovered).toBe(leaves.length - cpSize);
      expect((await reopened.root()).equals(mth(leaves))).toBe(true);
      await expect(Ledger.open(store, { origin: 'other.example/log' })).rejects.toThrow(/holds the log "seclab.test\/ledger"/);
    } finally {
      await done();
    }
  }, 120_000);
});

describe('tile layout and immutability', () => {
  it('a tree of 70,000 entries has the tiles tlog-tiles lists, with the right contents', async () => {
    const store = new MemoryStore();
    const l = await Ledger.open(store, { origin: ORIGIN });
    const random = new Random(`${SEED}/70000`);
    const all: Buffer[] = [];
    while (all.length < 70000) {
      const batch = Array.from({ length: Math.min(70000 - all.length, random.int(1, 3000)) }, () => entry(all.length + 0)).map((e, j) => Buffer.concat([e, Buffer.from(` ${all.length + j}`)]));
      await l.append(batch);
      all.push(...batch);
    }
    const paths = await store.list('tile/');
    const parsed = paths.map((p) => ({ p, t: parseTilePath(p)! }));
    const full0 = parsed.filter(({ t }) => t.level === 0 && t.width === 256);
    expect(full0.length).toBe(273);
    // The partial tiles of the final size (earlier partial paths remain, as in any tlog-tiles log).
    for (const p of ['tile/0/273.p/112', 'tile/1/000', 'tile/1/001.p/17', 'tile/2/000.p/1', 'tile/entries/273.p/112']) expect(paths, p).toContain(p);
    expect(parsed.filter(({ t }) => t.level === 1 && t.width === 256).map(({ p }) => p)).toEqual(['tile/1/000']);
    expect(parsed.some(({ t }) => t.level >= 3)).toBe(false);
    // Contents: level 0 = leaf hashes; level 1 hash i = MTH of level-0 tile i; level 2 = MTH of level-1 tile 0.
    const leaves = all.map((e) => leafHash(e));
    const t0 = (await store.get('tile/0/005'))!;
    expect(t0.equals(Buffer.concat(leaves.slice(5 * 256, 6 * 256)))).toBe(true);
    const t1 = (await store.get('tile/1/001.p/17'))!;
    for (let i = 0; i < 17; i++) expect(t1.subarray(i * 32, i * 32 + 32).equals(mth(leaves.slice((256 + i) * 256, (257 + i) * 256)))).toBe(true);
    expect((await store.get('tile/2/000.p/1'))!.equals(mth(leaves.slice(0, 65536)))).toBe(true);
    expect(parseEntryBundle((await store.get('tile/entries/273.p/112'))!).map((b) => b.toString())).toEqual(all.slice(273 * 256).map((b) => b.toString()));
    // Never rewritten: every path has exactly one version.
    for (const p of await store.list('')) expect((await store.versions(p)).length, p).toBe(1);
    expect((await l.root()).equals(mth(leaves))).toBe(true);
  }, 120_000);

  it('one append writes only the new full tiles and bundles and one partial tile per changed level', async () => {
    const store = new MemoryStore();
    const l = await Ledger.open(store, { origin: ORIGIN });
    await l.append(Array.from({ length: 300 }, (_, i) => entry(i)));
    const before = new Set(await store.list(''));
    await l.append([entry(300), entry(301)]);
    const added = (await store.list('')).filter((p) => !before.has(p));
    expect(added.sort()).toEqual(['tile/0/001.p/46', 'tile/entries/001.p/46']);
    await l.append(Array.from({ length: 210 }, (_, i) => entry(302 + i))); // 512: fills tile 1, level 1 grows
    const added2 = (await store.list('')).filter((p) => !before.has(p) && !added.includes(p));
    expect(added2.sort()).toEqual(['tile/0/001', 'tile/1/000.p/2', 'tile/entries/001']);
  });

  it('recovers from an append that crashed after its bundles (no tile path gets two contents)', async () => {
    const inner = new MemoryStore();
    let failTiles = false;
    const flaky: LedgerStore = {
      get: (p) => inner.get(p),
      list: (p) => inner.list(p),
      versions: (p) => inner.versions(p),
      put: async (p, d) => {
        if (failTiles && p.startsWith('tile/') && !p.startsWith('tile/entries/')) throw new Error('simulated crash');
        return inner.put(p, d);
      },
    };
    const l = await Ledger.open(flaky, { origin: ORIGIN });
    const all = Array.from({ length: 1000 }, (_, i) => entry(i));
    await l.append(all.slice(0, 600));
    failTiles = true;
    await expect(l.append(all.slice(600, 900))).rejects.toThrow('simulated crash');
    expect(l.size).toBe(600); // unchanged in memory
    failTiles = false;
    const r = await Ledger.open(flaky, { origin: ORIGIN });
    expect(r.size).toBe(900);
    expect(r.recovered).toBe(900);
    await r.append(all.slice(900));
    const leaves = all.map((e) => leafHash(e));
    expect((await r.root()).equals(mth(leaves))).toBe(true);
    expect((await treeRoot(1000, tileNodeReader(inner, 1000))).equals(mth(leaves))).toBe(true);
    for (const p of await inner.list('')) expect((await inner.versions(p)).length, p).toBe(1);
  });

  it('appends that are not awaited one by one still land in order', async () => {
    const store = new MemoryStore();
    const l = await Ledger.open(store, { origin: ORIGIN });
    const all = Array.from({ length: 900 }, (_, i) => entry(i));
    const results = await Promise.all([l.append(all.slice(0, 300)), l.append(all.slice(300, 301)), l.append(all.slice(301, 900))]);
    expect(results).toEqual([{ first: 0, size: 300 }, { first: 300, size: 301 }, { first: 301, size: 900 }]);
    expect((await l.root()).equals(mth(all.map((e) => leafHash(e))))).toBe(true);
    for (const p of await store.list('')) expect((await store.versions(p)).length, p).toBe(1);
  });

  it('rejects what it cannot log, with the reason', async () => {
    const l = await Ledger.open(new MemoryStore(), { origin: ORIGIN });
    await expect(l.append([Buffer.alloc(65536)])).rejects.toThrow(/entry 0 of the batch is 65536 bytes/);
    await expect(l.append(['text' as never])).rejects.toThrow(/not bytes/);
    await expect(l.entry(0)).rejects.toThrow(/the log has 0 entries/);
    await expect(l.inclusionProof(0, 5)).rejects.toThrow(/not a size this log has had/);
    await expect(l.checkpoint([])).rejects.toThrow(/at least one signer/);
    await expect(Ledger.open(new MemoryStore(), { origin: '' })).rejects.toThrow(/needs an origin/);
    expect(await l.append([])).toEqual({ first: 0, size: 0 });
  });

  it('a store missing a tile says which one', async () => {
    const store = new MemoryStore();
    const l = await Ledger.open(store, { origin: ORIGIN });
    await l.append(Array.from({ length: 600 }, (_, i) => entry(i)));
    await store.delete('tile/0/001');
    await expect((await Ledger.open(store, { origin: ORIGIN })).inclusionProof(300)).rejects.toThrow(/tile\/0\/001 is missing/);
    // the root needs only the level-1 hash of that tile
    expect((await treeRoot(600, tileNodeReader(store, 600))).equals(await l.root())).toBe(true);
  });
});

describe('MerkleAccumulator', () => {
  it('matches the RFC definition for sizes 0..600 and reports every complete node', () => {
    const nodes = new Map<string, Hash>();
    const acc = new MerkleAccumulator({ onNode: (level, n, h) => nodes.set(`${level}/${n}`, h) });
    const leaves: Hash[] = [];
    expect(acc.root().equals(EMPTY_ROOT)).toBe(true);
    for (let i = 0; i < 600; i++) {
      const h = leafHash(entry(i));
      leaves.push(h);
      acc.append(h);
      expect(acc.root().equals(mth(leaves)), `size ${i + 1}`).toBe(true);
    }
    expect(nodes.get('0/599')!.equals(leaves[599]!)).toBe(true);
    expect(nodes.get('9/0')!.equals(mth(leaves.slice(0, 512)))).toBe(true);
    expect(nodes.get('3/70')!.equals(mth(leaves.slice(560, 568)))).toBe(true);
    expect(nodes.size).toBe(600 + 300 + 150 + 75 + 37 + 18 + 9 + 4 + 2 + 1);
  });
});

describe('ledger entries (RFC 8785)', () => {
  const e: LedgerEntry = {
    v: 1,
    kind: 'cloudtrail',
    source: { type: 'cloudtrail', eventID: 'e-1', eventSource: 's3.amazonaws.com', eventName: 'PutObject' },
    time: '2026-12-08T01:02:03Z',
    event: { b: 1e21, a: [1, 'é', { z: null, y: true }], '\u20ac': 0.1 },
  };
  it('encodes canonically (sorted keys, ES number forms, UTF-8) and decodes back', () => {
    const b = encodeEntry(e);
    expect(b.toString('utf8')).toBe('{"event":{"a":[1,"é",{"y":true,"z":null}],"b":1e+21,"€":0.1},"kind":"cloudtrail","source":{"eventID":"e-1","eventName":"PutObject","eventSource":"s3.amazonaws.com","type":"cloudtrail"},"time":"2026-12-08T01:02:03Z","v":1}');
    expect(decodeEntry(b)).toEqual(e);
    // RFC 8785 §3.2.2.3 number examples
    expect(canonicalJson([333333333.33333329, 1e30, 4.5, 0.002, 1e-27, -0])).toBe('[333333333.3333333,1e+30,4.5,0.002,1e-27,0]');
  });
  it('says what is wrong', () => {
    expect(() => encodeEntry({ ...e, v: 2 } as never)).toThrow(/"v" must be 1/);
    expect(() => encodeEntry({ ...e, kind: 'x' } as never)).toThrow(/"kind" must be one of/);
    expect(() => encodeEntry({ ...e, time: 'yesterday' })).toThrow(/ISO 8601/);
    expect(() => encodeEntry({ ...e, source: { id: 3 } } as never)).toThrow(/"source.id" must be a string/);
    expect(() => encodeEntry({ ...e, event: { big: 'x'.repeat(70000) } })).toThrow(expect.objectContaining({ code: 'entry-too-large' }));
    expect(() => encodeEntry({ ...e, event: { n: NaN } })).toThrow(expect.objectContaining({ code: 'not-json' }));
    expect(() => decodeEntry(Buffer.from('{"v":1,'))).toThrow(/not JSON/);
    expect(() => decodeEntry(Buffer.from([0x7b, 0xff, 0x7d]))).toThrow(/not UTF-8 text: invalid byte sequence after byte 1/);
    const spaced = Buffer.from(JSON.stringify(e, null, 1));
    expect(() => decodeEntry(spaced)).toThrow(expect.objectContaining({ code: 'not-canonical' }));
    expect(decodeEntry(spaced, { canonical: false })).toEqual(e);
    expect(() => decodeEntry(Buffer.from('[1]'))).toThrow(/not a ledger entry: the entry must be a JSON object/);
  });
});

