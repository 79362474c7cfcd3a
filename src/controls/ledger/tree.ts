// RFC 9162 §2.1 Merkle tree algorithms: the tree head, inclusion proofs (§2.1.3) and consistency proofs
// (§2.1.4), over any store of complete subtrees (a NodeReader), plus the verifiers a client runs.
//
// Every range the RFC's recursion needs (a sibling MTH(D[a:b])) is a run of complete subtrees, because a
// subtree of the RFC tree starts at a multiple of its left child's size. So proofs are planned first as
// lists of ranges, then each range is hashed from the complete subtrees that make it up (read from tiles,
// memory or typed arrays). Sizes and indexes are JavaScript numbers (exact up to 2^53); the bit tricks
// of the RFC use arithmetic because JS bitwise operators are 32-bit.

import { EMPTY_ROOT, HASH_SIZE, LedgerError, nodeHash, type Hash } from './hash.ts';

/** Hash of the complete subtree at `level` covering leaves [n·2^level, (n+1)·2^level). */
export type NodeReader = (level: number, n: number) => Promise<Hash>;
/** The same, synchronous (in-memory hashes: benchmarks, the accumulator). */
export type SyncNodeReader = (level: number, n: number) => Hash;

/** One complete subtree: level (0 = leaves) and index within that level. */
export interface NodeId {
  level: number;
  n: number;
}

function checkSize(what: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new LedgerError('bad-size', `${what} must be a non-negative integer, got ${v}`);
}

/** Largest power of two strictly less than n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The complete subtrees that make up leaves [start, end), left to right (start aligned as in the RFC tree). */
export function rangeNodes(start: number, end: number): NodeId[] {
  const out: NodeId[] = [];
  while (start < end) {
    let size = 1;
    let level = 0;
    while (start % (size * 2) === 0 && start + size * 2 <= end) {
      size *= 2;
      level++;
    }
    out.push({ level, n: start / size });
    start += size;
  }
  return out;
}

/** MTH of a range from its complete subtrees: fold from the right (RFC 9162 splits at the largest power of two). */
function foldRange(hashes: Hash[]): Hash {
  let h = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) h = nodeHash(hashes[i]!, h);
  return h;
}

type Range = [start: number, end: number];

/** The sibling ranges of PATH(index, D[0:size]), in proof order (leaf upward). */
export function inclusionRanges(index: number, size: number): Range[] {
  checkSize('tree size', size);
  checkSize('leaf index', index);
  if (index >= size) throw new LedgerError('index-out-of-range', `leaf index ${index} is not in a tree of size ${size}: ask for an index below the size`);
  const out: Range[] = [];
  let start = 0;
  let n = size;
  let m = index;
  while (n > 1) {
    const k = splitPoint(n);
    if (m < k) {
      out.push([start + k, start + n]);
      n = k;
    } else {
      out.push([start, start + k]);
      m -= k;
      start += k;
      n -= k;
    }
  }
  return out.reverse();
}

/** The ranges of PROOF(oldSize, D[0:newSize]) (RFC 9162 §2.1.4.1 SUBPROOF), in proof order. */
export function consistencyRanges(oldSize: number, newSize: number): Range[] {
  checkSize('old size', oldSize);
  checkSize('new size', newSize);
  if (oldSize > newSize) throw new LedgerError('bad-size', `old size ${oldSize} is larger than new size ${newSize}: a consistency proof goes from a smaller tree to a larger one`);
  if (oldSize === 0 || oldSize === newSize) return [];
  const out: Range[] = [];
  let start = 0;
  let n = newSize;
  let m = oldSize;
  let whole = true; // b in the RFC: the old tree is still exactly this subtree's left edge
  for (;;) {
    if (m === n) {
      if (!whole) out.push([start, start + n]);
      break;
    }
    const k = splitPoint(n);
    if (m <= k) {
      out.push([start + k, start + n]);
      n = k;
    } else {
      out.push([start, start + k]);
      m -= k;
      start += k;
      n -= k;
      whole = false;
    }
  }
  return out.reverse();
}

async function hashRange([start, end]: Range, read: NodeReader): Promise<Hash> {
  return foldRange(await Promise.all(rangeNodes(start, end).map((id) => read(id.level, id.n))));
}

function hashRangeSync([start, end]: Range, read: SyncNodeReader): Hash {
  return foldRange(rangeNodes(start, end).map((id) => read(id.level, id.n)));
}

/** MTH(D[0:size]). */
export async function treeRoot(size: number, read: NodeReader): Promise<Hash> {
  checkSize('tree size', size);
  return size === 0 ? Buffer.from(EMPTY_ROOT) : hashRange([0, size], read);
}

export function treeRootSync(size: number, read: SyncNodeReader): Hash {
  checkSize('tree size', size);
  return size === 0 ? Buffer.from(EMPTY_ROOT) : hashRangeSync([0, size], read);
}

/** PATH(index, D[0:size]) of RFC 9162 §2.1.3.1. */
export async function inclusionProof(index: number, size: number, read: NodeReader): Promise<Hash[]> {
  return Promise.all(inclusionRanges(index, size).map((r) => hashRange(r, read)));
}

export function inclusionProofSync(index: number, size: number, read: SyncNodeReader): Hash[] {
  return inclusionRanges(index, size).map((r) => hashRangeSync(r, read));
}

/** PROOF(oldSize, D[0:newSize]) of RFC 9162 §2.1.4.1 (empty when oldSize is 0 or equals newSize). */
export async function consistencyProof(oldSize: number, newSize: number, read: NodeReader): Promise<Hash[]> {
  return Promise.all(consistencyRanges(oldSize, newSize).map((r) => hashRange(r, read)));
}

export function consistencyProofSync(oldSize: number, newSize: number, read: SyncNodeReader): Hash[] {
  return consistencyRanges(oldSize, newSize).map((r) => hashRangeSync(r, read));
}

const isHash32 = (h: unknown): h is Hash => Buffer.isBuffer(h) && h.length === HASH_SIZE;
const validSize = (v: number) => Number.isSafeInteger(v) && v >= 0;

/** RFC 9162 §2.1.3.2: does `proof` show that `leaf` (a leaf hash) is entry `index` of the tree with `root`? */
export function verifyInclusion(leaf: Hash, index: number, size: number, proof: Hash[], root: Hash): boolean {
  if (!validSize(index) || !validSize(size) || index >= size) return false;
  if (!isHash32(leaf) || !isHash32(root) || !Array.isArray(proof) || !proof.every(isHash32)) return false;
  const r = inclusionWalk(leaf, index, size, proof);
  return r !== undefined && r.equals(root);
}

/**
 * RFC 9162 §2.1.3.2's walk from a leaf up through an inclusion proof: the root it leads to, or undefined
 * when the proof has too many or too few hashes for (index, size).
 */
function inclusionWalk(leaf: Hash, index: number, size: number, proof: Hash[]): Hash | undefined {
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

/** RFC 9162 §2.1.4.2: does `proof` show that the tree (newSize, newRoot) extends (oldSize, oldRoot)? */
export function verifyConsistency(oldSize: number, newSize: number, proof: Hash[], oldRoot: Hash, newRoot: Hash): boolean {
  if (!validSize(oldSize) || !validSize(newSize) || oldSize > newSize) return false;
  if (!Array.isArray(proof) || !proof.every(isHash32)) return false;
  // A tree of size 0 has exactly one root, SHA-256(""): any other "old root" of size 0 is a lie, not a
  // prefix. (RFC 9162 defines consistency proofs only for 0 < m < n; Go's tlog.CheckTree refuses size 0
  // outright; transparency-dev accepts any old root. We accept the empty tree, and only with its root.)
  if (oldSize === 0 && !(isHash32(oldRoot) && oldRoot.equals(EMPTY_ROOT))) return false;
  if (oldSize === newSize) return proof.length === 0 && Buffer.isBuffer(oldRoot) && Buffer.isBuffer(newRoot) && oldRoot.equals(newRoot);
  if (oldSize === 0) return proof.length === 0; // the empty tree is a prefix of every tree
  if (!isHash32(oldRoot) || !isHash32(newRoot) || proof.length === 0) return false;
  // When the old tree is a complete subtree its root is the proof's implicit first element.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(oldRoot) && sr.equals(newRoot);
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

/** The root a verified inclusion proof leads to (for callers that want to compare roots themselves). */
export function rootFromInclusionProof(leaf: Hash, index: number, size: number, proof: Hash[]): Hash {
  if (!validSize(index) || !validSize(size) || index >= size) throw new LedgerError('index-out-of-range', `leaf index ${index} is not in a tree of size ${size}`);
  if (!isHash32(leaf) || !proof.every(isHash32)) throw new LedgerError('bad-proof', 'proof hashes must be 32 bytes each');
  const expected = inclusionRanges(index, size).length;
  if (proof.length !== expected) throw new LedgerError('bad-proof', `an inclusion proof for index ${index} in a tree of size ${size} has ${expected} hashes, got ${proof.length}`);
  // The length was checked against (index, size), so the walk ends at the root.
  return inclusionWalk(leaf, index, size, proof)!;
}
