// c2sp.org/tlog-tiles: the Merkle tree stored as tiles of height 8 (256 hashes per full tile) and the
// entries as bundles, at the paths Go's golang.org/x/mod/sumdb/tlog uses (Tile.Path without its height
// element: tile/<L>/<N>[.p/<W>], entries as tile/entries/<N>[.p/<W>]).

import { HASH_SIZE, LedgerError, nodeHash, type Hash } from './hash.ts';
import type { NodeReader } from './tree.ts';
import type { LedgerStore } from './store.ts';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
export const TILE_BYTES = TILE_WIDTH * HASH_SIZE;
/** An entry in a bundle is prefixed by a big-endian uint16 length. */
export const MAX_ENTRY_SIZE = 0xffff;

/** N as zero-padded 3-digit path elements, all but the last prefixed with x: 1234067 → x001/x234/067. */
export function tileIndexPath(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new LedgerError('bad-tile', `a tile index must be a non-negative integer, got ${n}`);
  let s = String(n % 1000).padStart(3, '0');
  n = Math.floor(n / 1000);
  while (n > 0) {
    s = `x${String(n % 1000).padStart(3, '0')}/${s}`;
    n = Math.floor(n / 1000);
  }
  return s;
}

function widthSuffix(width?: number): string {
  if (width === undefined || width === TILE_WIDTH) return '';
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) throw new LedgerError('bad-tile', `a tile width must be 1..256, got ${width}`);
  return `.p/${width}`;
}

/** Path of the tile at tile level `level` (0 = leaf hashes), index n, width (omitted or 256 = full). */
export function tilePath(level: number, n: number, width?: number): string {
  if (!Number.isInteger(level) || level < 0 || level > 63) throw new LedgerError('bad-tile', `a tile level must be 0..63, got ${level}`);
  return `tile/${level}/${tileIndexPath(n)}${widthSuffix(width)}`;
}

/** Path of the entry bundle n (entries n·256 …), width as for tiles. */
export function entriesPath(n: number, width?: number): string {
  return `tile/entries/${tileIndexPath(n)}${widthSuffix(width)}`;
}

/** Parses a tile or bundle path back: { level (-1 for entries), n, width (256 when full) }, or undefined. */
export function parseTilePath(path: string): { level: number; n: number; width: number } | undefined {
  const m = /^tile\/(entries|0|[1-9]\d?)\/((?:x\d{3}\/)*)(\d{3})(?:\.p\/([1-9]\d{0,2}))?$/.exec(path);
  if (!m) return undefined;
  const level = m[1] === 'entries' ? -1 : Number(m[1]);
  if (level > 63) return undefined;
  const parts = (m[2] ? m[2].split('/').filter(Boolean).map((p) => p.slice(1)) : []).concat(m[3]!);
  if (parts.length > 1 && parts[0] === '000') return undefined; // not canonical
  const n = parts.reduce((acc, p) => acc * 1000 + Number(p), 0);
  const width = m[4] ? Number(m[4]) : TILE_WIDTH;
  if (width < 1 || width > TILE_WIDTH || (m[4] && width === TILE_WIDTH)) return undefined;
  return { level, n, width };
}

/** Entry bundle: each entry as a big-endian uint16 length then its bytes. */
export function formatEntryBundle(entries: Uint8Array[]): Buffer {
  let total = 0;
  for (const [i, e] of entries.entries()) {
    if (e.length > MAX_ENTRY_SIZE) throw new LedgerError('entry-too-large', `entry ${i} is ${e.length} bytes; a tlog-tiles entry bundle holds at most ${MAX_ENTRY_SIZE} bytes per entry: split or shorten it`);
    total += 2 + e.length;
  }
  const out = Buffer.allocUnsafe(total);
  let off = 0;
  for (const e of entries) {
    out.writeUInt16BE(e.length, off);
    out.set(e, off + 2);
    off += 2 + e.length;
  }
  return out;
}

export function parseEntryBundle(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  while (off < data.length) {
    if (off + 2 > data.length) throw new LedgerError('bad-bundle', `entry bundle truncated: ${data.length - off} byte(s) left at offset ${off} where a 2-byte length was expected (entry ${out.length})`);
    const len = data.readUInt16BE(off);
    if (off + 2 + len > data.length) throw new LedgerError('bad-bundle', `entry bundle truncated: entry ${out.length} at offset ${off} says ${len} bytes but only ${data.length - off - 2} remain`);
    out.push(data.subarray(off + 2, off + 2 + len));
    off += 2 + len;
  }
  if (out.length > TILE_WIDTH) throw new LedgerError('bad-bundle', `entry bundle holds ${out.length} entries; at most ${TILE_WIDTH} fit a bundle`);
  return out;
}

/** The MTH of 2^k consecutive hashes (a complete subtree inside a tile). */
export function subtreeOfHashes(hashes: Hash[]): Hash {
  let level = hashes;
  while (level.length > 1) {
    const next: Hash[] = new Array(level.length / 2);
    for (let i = 0; i < next.length; i++) next[i] = nodeHash(level[2 * i]!, level[2 * i + 1]!);
    level = next;
  }
  return level[0]!;
}

/** The hashes of a stored tile, checked for shape. */
export function splitTile(data: Buffer, width: number, path: string): Hash[] {
  if (data.length !== width * HASH_SIZE) throw new LedgerError('bad-tile', `${path} holds ${data.length} bytes; a tile of width ${width} holds ${width * HASH_SIZE}`);
  const out: Hash[] = new Array(width);
  for (let i = 0; i < width; i++) out[i] = data.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);
  return out;
}

/** Tile coordinates of a tree of `size` entries: the width of tile n at tile level L (0 when it doesn't exist). */
export function tileWidth(size: number, level: number, n: number): number {
  const perHash = TILE_WIDTH ** level; // entries under one hash of a level-L tile
  const hashes = Math.floor(size / perHash); // complete hashes at this level
  const w = hashes - n * TILE_WIDTH;
  return w <= 0 ? 0 : Math.min(w, TILE_WIDTH);
}

/**
 * A NodeReader over the tiles of a tree of `size` in `store`: for node (level, n) it reads the tile at
 * tile level ⌊level/8⌋ that holds it (the full tile, or the partial tile of this size) and hashes the
 * 2^(level mod 8) tile hashes under it. Tiles are cached (paths are immutable).
 */
export function tileNodeReader(store: LedgerStore, size: number, cache: Map<string, Promise<Hash[]>> = new Map()): NodeReader {
  const tile = (L: number, t: number): Promise<Hash[]> => {
    const width = tileWidth(size, L, t);
    if (width === 0) return Promise.reject(new LedgerError('bad-tile', `tile ${L}/${t} does not exist in a tree of size ${size}`));
    const path = tilePath(L, t, width);
    let p = cache.get(path);
    if (!p) {
      p = store.get(path).then((data) => {
        if (!data) throw new LedgerError('missing-tile', `${path} is missing from the store: a tree of size ${size} needs it (was the log truncated or the tile deleted?)`);
        return splitTile(data, width, path);
      });
      p.catch(() => cache.delete(path));
      cache.set(path, p);
    }
    return p;
  };
  return async (level, n) => {
    if ((n + 1) * 2 ** level > size) throw new LedgerError('bad-node', `node ${level}/${n} is not a complete subtree of a tree of size ${size}`);
    const L = Math.floor(level / TILE_HEIGHT);
    const span = 2 ** (level % TILE_HEIGHT);
    const first = n * span; // index of the first hash at tile level L
    const t = Math.floor(first / TILE_WIDTH);
    const hashes = await tile(L, t);
    const off = first - t * TILE_WIDTH;
    return subtreeOfHashes(hashes.slice(off, off + span));
  };
}
