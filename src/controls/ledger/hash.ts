// RFC 9162 §2.1.1 hashing (SHA-256 with domain separation between leaves and interior nodes), and the
// ledger's error type. Everything else in the ledger builds on these three functions.

import * as crypto from 'node:crypto';

const { createHash } = crypto;
// crypto.hash exists from Node 20.12; older runtimes (a Lambda image) fall back to createHash.
const oneShot: ((alg: string, data: Buffer, enc: 'buffer') => Buffer) | undefined = typeof crypto.hash === 'function' ? (crypto.hash as never) : undefined;

/** A SHA-256 hash (32 bytes). */
export type Hash = Buffer;

export const HASH_SIZE = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** MTH({d}) = SHA-256(0x00 || d): the hash of one log entry. */
export function leafHash(entry: Uint8Array): Hash {
  if (!oneShot || entry.length >= LEAF_INPUT.length) return createHash('sha256').update(LEAF_PREFIX).update(entry).digest();
  LEAF_INPUT.set(entry, 1);
  return oneShot('sha256', LEAF_INPUT.subarray(0, entry.length + 1), 'buffer');
}

// One reused input buffer and the one-shot crypto.hash (Node ≥ 20.12): interior nodes are most of the
// hashing an append does, and this is ~25% faster than a streaming hash with three updates.
const NODE_INPUT = Buffer.alloc(1 + 2 * HASH_SIZE);
// Entries up to 64 KiB (all a tile bundle can hold) are hashed from one reused buffer too.
const LEAF_INPUT = Buffer.alloc(1 + 0xffff);
NODE_INPUT[0] = 0x01;

/** SHA-256(0x01 || left || right): an interior node. */
export function nodeHash(l: Hash, r: Hash): Hash {
  if (!oneShot || l.length !== HASH_SIZE || r.length !== HASH_SIZE) return createHash('sha256').update(NODE_PREFIX).update(l).update(r).digest();
  NODE_INPUT.set(l, 1);
  NODE_INPUT.set(r, 1 + HASH_SIZE);
  return oneShot('sha256', NODE_INPUT, 'buffer');
}

/** MTH({}) = SHA-256(""): the root of the empty tree. */
export const EMPTY_ROOT: Hash = createHash('sha256').digest();

/** Errors of the ledger, with a stable `code` a caller can branch on and a message that says what to do. */
export class LedgerError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'LedgerError';
    this.code = code;
  }
}

export function isHash(h: unknown): h is Hash {
  return Buffer.isBuffer(h) && h.length === HASH_SIZE;
}
