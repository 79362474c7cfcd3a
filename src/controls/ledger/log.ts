// The log itself: appends entries in batches and keeps the tree as c2sp.org/tlog-tiles in a LedgerStore.
//
// State in memory is only the right edge: the partial tile at each tile level and the partial entry
// bundle. An append writes the new full bundles and tiles of the batch (once, never again: full tiles
// are immutable) and one new partial bundle and partial tile per level that changed (a new path, since
// the width is in the path). Bundles are written before tiles, and in order, so after a crash the
// bundles present are a prefix of the log and `open` can roll forward from them: a tile path is never
// written with two different contents. The checkpoint is written only by `checkpoint()`.

import { EMPTY_ROOT, LedgerError, leafHash, nodeHash, type Hash } from './hash.ts';
import { consistencyProof, inclusionProof, treeRoot, type NodeReader } from './tree.ts';
import {
  MAX_ENTRY_SIZE,
  TILE_HEIGHT,
  TILE_WIDTH,
  entriesPath,
  formatEntryBundle,
  parseEntryBundle,
  parseTilePath,
  splitTile,
  subtreeOfHashes,
  tileNodeReader,
  tilePath,
  tileWidth,
} from './tiles.ts';
import type { LedgerStore } from './store.ts';
import { signNote, type NoteSigner } from './note.ts';
import { formatCheckpoint, parseCheckpoint } from './checkpoint.ts';

export const CHECKPOINT_PATH = 'checkpoint';
/** Tiles kept in memory by a Ledger's readers before the cache is dropped (8 KiB each). */
const TILE_CACHE_LIMIT = 4096;

const pow = (L: number) => TILE_WIDTH ** L;

/** The unsigned text of a stored checkpoint note (what precedes the blank line), or undefined. */
export function checkpointText(note: string): string {
  const i = note.indexOf('\n\n');
  return i < 0 ? note : note.slice(0, i + 1);
}

export class Ledger {
  readonly origin: string;
  readonly store: LedgerStore;
  size = 0;
  /** Entries found past the stored checkpoint when the log was opened (an append that was never checkpointed). */
  recovered = 0;
  /** partial[L]: the hashes of the partial tile at tile level L (fewer than 256). */
  private partial: Hash[][] = [];
  private partialEntries: Buffer[] = [];
  private cache = new Map<string, Promise<Hash[]>>();

  private constructor(store: LedgerStore, origin: string) {
    this.store = store;
    this.origin = origin;
  }

  /** Opens (or starts) the log in `store`: its size from the stored checkpoint (not verified here: audit does), rolled forward over entry bundles written after it. */
  static async open(store: LedgerStore, opts: { origin: string }): Promise<Ledger> {
    if (!opts?.origin || opts.origin.includes('\n')) throw new LedgerError('bad-origin', 'a ledger needs an origin: one line, e.g. "example.com/ledger"');
    const l = new Ledger(store, opts.origin);
    const stored = await store.get(CHECKPOINT_PATH);
    let size = 0;
    if (stored) {
      let cp;
      try {
        cp = parseCheckpoint(checkpointText(stored.toString('utf8')));
      } catch (e) {
        throw new LedgerError('bad-checkpoint', `the stored checkpoint cannot be read (${(e as Error).message}); restore it from a witness or an anchor before appending`);
      }
      if (cp.origin !== opts.origin) throw new LedgerError('wrong-origin', `the store holds the log "${cp.origin}", not "${opts.origin}": open it with its own origin or use another store`);
      size = cp.size;
    }
    const end = await l.rollForward(size);
    l.recovered = end - size;
    await l.load(end);
    return l;
  }

  /** The largest size whose entry bundles are all in the store, from `size` on. */
  private async rollForward(size: number): Promise<number> {
    let s = size;
    for (;;) {
      const n = Math.floor(s / TILE_WIDTH);
      const found = (await this.store.list(entriesPath(n)))
        .map(parseTilePath)
        .filter((p): p is NonNullable<typeof p> => !!p && p.level === -1 && p.n === n);
      if (found.some((p) => p.width === TILE_WIDTH)) {
        s = (n + 1) * TILE_WIDTH;
        continue;
      }
      const w = Math.max(0, ...found.map((p) => p.width));
      return Math.max(s, n * TILE_WIDTH + w);
    }
  }

  /** Loads the right edge of a tree of `size` (rebuilding tiles a crashed append did not write). */
  private async load(size: number): Promise<void> {
    this.size = size;
    this.partial = [];
    const w0 = size % TILE_WIDTH;
    this.partialEntries = [];
    if (w0 > 0) {
      const path = entriesPath(Math.floor(size / TILE_WIDTH), w0);
      const data = await this.store.get(path);
      if (!data) throw new LedgerError('missing-bundle', `${path} is missing: the log of size ${size} cannot be continued without its last entries`);
      const entries = parseEntryBundle(data);
      if (entries.length !== w0) throw new LedgerError('bad-bundle', `${path} holds ${entries.length} entries, its name says ${w0}`);
      this.partialEntries = entries.map((e) => Buffer.from(e));
    }
    for (let L = 0; pow(L) <= size; L++) {
      const w = Math.floor(size / pow(L)) % TILE_WIDTH;
      if (w === 0) {
        this.partial[L] = [];
        continue;
      }
      const n = Math.floor(size / pow(L + 1));
      const path = tilePath(L, n, w);
      const data = await this.store.get(path);
      if (data) {
        this.partial[L] = splitTile(data, w, path).map((h) => Buffer.from(h));
      } else {
        // A crashed append wrote the bundles but not this tile: rebuild it from what is below.
        const hashes: Hash[] = [];
        if (L === 0) for (const e of this.partialEntries) hashes.push(leafHash(e));
        else for (let i = 0; i < w; i++) hashes.push(subtreeOfHashes(await this.fullTile(L - 1, n * TILE_WIDTH + i)));
        await this.store.put(path, Buffer.concat(hashes));
        this.partial[L] = hashes;
      }
    }
  }

  /** A full tile's hashes, rebuilt (and written) from the level below or the entries when it is missing. */
  private async fullTile(L: number, n: number): Promise<Hash[]> {
    const path = tilePath(L, n);
    const data = await this.store.get(path);
    if (data) return splitTile(data, TILE_WIDTH, path);
    let hashes: Hash[];
    if (L === 0) {
      const bundle = await this.store.get(entriesPath(n));
      if (!bundle) throw new LedgerError('missing-bundle', `${entriesPath(n)} and ${path} are both missing: the log cannot be continued`);
      hashes = parseEntryBundle(bundle).map((e) => leafHash(e));
      if (hashes.length !== TILE_WIDTH) throw new LedgerError('bad-bundle', `${entriesPath(n)} holds ${hashes.length} entries, a full bundle holds ${TILE_WIDTH}`);
    } else {
      hashes = [];
      for (let i = 0; i < TILE_WIDTH; i++) hashes.push(subtreeOfHashes(await this.fullTile(L - 1, n * TILE_WIDTH + i)));
    }
    await this.store.put(path, Buffer.concat(hashes));
    return hashes;
  }

  /** The tree head of the current size (from memory: no reads). */
  async root(): Promise<Hash> {
    return this.rootSync();
  }

  rootSync(): Hash {
    if (this.size === 0) return Buffer.from(EMPTY_ROOT);
    // The root's complete subtrees all lie in the partial tiles (full tiles are folded into the level
    // above): the complete runs of each level's partial tile, top level first, folded from the right.
    const parts: Hash[] = [];
    for (let L = this.partial.length - 1; L >= 0; L--) parts.push(...completeRuns(this.partial[L]!));
    let r = parts[parts.length - 1]!;
    for (let i = parts.length - 2; i >= 0; i--) r = nodeHash(parts[i]!, r);
    return r;
  }

  // Appends and checkpoints of one Ledger run one at a time (a caller that forgets an await must not
  // interleave two batches). Separate processes appending to one store are not coordinated.
  private queue: Promise<unknown> = Promise.resolve();
  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(f, f);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Appends a batch; writes its bundles and tiles (not the checkpoint). Returns the first new index and the new size. */
  append(entries: Uint8Array[]): Promise<{ first: number; size: number }> {
    return this.serial(() => this.appendNow(entries));
  }

  private async appendNow(entries: Uint8Array[]): Promise<{ first: number; size: number }> {
    if (!Array.isArray(entries)) throw new LedgerError('bad-entry', 'append takes an array of entries (Uint8Array / Buffer)');
    for (const [i, e] of entries.entries()) {
      if (!(e instanceof Uint8Array)) throw new LedgerError('bad-entry', `entry ${i} of the batch is not bytes (Uint8Array / Buffer): encode it first (encodeEntry)`);
      if (e.length > MAX_ENTRY_SIZE) throw new LedgerError('entry-too-large', `entry ${i} of the batch is ${e.length} bytes; at most ${MAX_ENTRY_SIZE} fit a tlog-tiles entry: shorten it`);
    }
    const first = this.size;
    if (entries.length === 0) return { first, size: first };
    // Work on copies so a failed write leaves the ledger as it was.
    const partial = this.partial.map((a) => a.slice());
    let pe = this.partialEntries.slice();
    let s = this.size;
    const bundles: [string, Buffer][] = [];
    const tiles: [string, Buffer, Hash[]][] = [];
    const changed = new Set<number>();
    const push = (L: number, h: Hash): void => {
      const row = (partial[L] ??= []);
      row.push(h);
      changed.add(L);
      if (row.length === TILE_WIDTH) {
        const n = Math.floor(s / pow(L + 1)) - 1;
        tiles.push([tilePath(L, n), Buffer.concat(row), row]);
        partial[L] = [];
        push(L + 1, subtreeOfHashes(row));
      }
    };
    for (const e of entries) {
      // No copy here: bundles are formatted (copied) below; what stays in memory is copied at the end.
      const b = Buffer.isBuffer(e) ? e : Buffer.from(e.buffer, e.byteOffset, e.byteLength);
      pe.push(b);
      s++;
      if (pe.length === TILE_WIDTH) {
        bundles.push([entriesPath(s / TILE_WIDTH - 1), formatEntryBundle(pe)]);
        pe = [];
      }
      push(0, leafHash(b));
    }
    if (pe.length > 0) bundles.push([entriesPath(Math.floor(s / TILE_WIDTH), pe.length), formatEntryBundle(pe)]);
    for (const L of changed) {
      const row = partial[L]!;
      if (row.length > 0) tiles.push([tilePath(L, Math.floor(s / pow(L + 1)), row.length), Buffer.concat(row), row.slice()]);
    }
    for (const [path, data] of bundles) await this.store.put(path, data); // in order: a crash leaves a prefix
    await inBatches(tiles, 16, ([path, data]) => this.store.put(path, data));
    this.partial = partial;
    this.partialEntries = pe.map((b) => Buffer.from(b)); // the caller may reuse its buffers
    this.size = s;
    if (this.cache.size > TILE_CACHE_LIMIT) this.cache.clear();
    for (const [path, , hashes] of tiles) this.cache.set(path, Promise.resolve(hashes));
    return { first, size: s };
  }

  /** Signs `<origin>\n<size>\n<root>\n[extensions]` with the signers and writes it to `checkpoint`; returns the signed note. */
  checkpoint(signers: NoteSigner[], extensions: string[] = []): Promise<string> {
    return this.serial(() => this.checkpointNow(signers, extensions));
  }

  private async checkpointNow(signers: NoteSigner[], extensions: string[]): Promise<string> {
    if (!Array.isArray(signers) || signers.length === 0) throw new LedgerError('no-signer', 'a checkpoint needs at least one signer (the log key)');
    const text = formatCheckpoint({ origin: this.origin, size: this.size, root: this.rootSync(), extensions });
    const note = await signNote(text, signers);
    await this.store.put(CHECKPOINT_PATH, Buffer.from(note, 'utf8'));
    return note;
  }

  /** Entry `index` (from its bundle, or memory for the partial one). */
  async entry(index: number): Promise<Buffer> {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) throw new LedgerError('index-out-of-range', `entry ${index} does not exist: the log has ${this.size} entries (0..${this.size - 1})`);
    const n = Math.floor(index / TILE_WIDTH);
    const width = tileWidth(this.size, 0, n);
    if (width < TILE_WIDTH) return Buffer.from(this.partialEntries[index - n * TILE_WIDTH]!);
    const path = entriesPath(n);
    const data = await this.store.get(path);
    if (!data) throw new LedgerError('missing-bundle', `${path} is missing from the store (entry ${index})`);
    const e = parseEntryBundle(data)[index - n * TILE_WIDTH];
    if (!e) throw new LedgerError('bad-bundle', `${path} has no entry ${index - n * TILE_WIDTH}`);
    return Buffer.from(e);
  }

  /** A NodeReader over the stored tiles of the current size (tiles this ledger wrote are cached). */
  nodeReader(): NodeReader {
    return tileNodeReader(this.store, this.size, this.cache);
  }

  async inclusionProof(index: number, size: number = this.size): Promise<Hash[]> {
    this.checkSize(size);
    return inclusionProof(index, size, this.nodeReader());
  }

  async consistencyProof(oldSize: number, size: number = this.size): Promise<Hash[]> {
    this.checkSize(size);
    return consistencyProof(oldSize, size, this.nodeReader());
  }

  /** MTH of an earlier size, from the stored tiles. */
  async rootAt(size: number): Promise<Hash> {
    this.checkSize(size);
    return treeRoot(size, this.nodeReader());
  }

  private checkSize(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.size) throw new LedgerError('bad-size', `size ${size} is not a size this log has had (it has ${this.size} entries)`);
  }
}

/** The complete-subtree hashes of a run of hashes (a partial tile), left to right, largest first. */
function completeRuns(hashes: Hash[]): Hash[] {
  const out: Hash[] = [];
  let start = 0;
  while (start < hashes.length) {
    let span = 1;
    while (start + span * 2 <= hashes.length && start % (span * 2) === 0) span *= 2;
    out.push(subtreeOfHashes(hashes.slice(start, start + span)));
    start += span;
  }
  return out;
}

async function inBatches<T>(items: T[], width: number, f: (t: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(f));
}

/**
 * The right edge of a tree (a compact range) in memory: O(log n) state, amortized one node hash per
 * append. `onNode` sees every complete subtree as it is formed (to build stored hashes elsewhere).
 */
export class MerkleAccumulator {
  size = 0;
  private edge: Hash[] = [];
  private readonly onNode?: (level: number, n: number, hash: Hash) => void;

  constructor(opts: { onNode?: (level: number, n: number, hash: Hash) => void } = {}) {
    this.onNode = opts.onNode;
  }

  /** Appends a leaf hash (leafHash(entry)). */
  append(leaf: Hash): void {
    let h = leaf;
    let s = this.size;
    let level = 0;
    this.onNode?.(0, s, h);
    while (s % 2 === 1) {
      h = nodeHash(this.edge.pop()!, h);
      s = (s - 1) / 2;
      level++;
      this.onNode?.(level, s, h);
    }
    this.edge.push(h);
    this.size++;
  }

  appendEntry(entry: Uint8Array): void {
    this.append(leafHash(entry));
  }

  root(): Hash {
    if (this.edge.length === 0) return Buffer.from(EMPTY_ROOT);
    let r = this.edge[this.edge.length - 1]!;
    for (let i = this.edge.length - 2; i >= 0; i--) r = nodeHash(this.edge[i]!, r);
    return r;
  }
}
