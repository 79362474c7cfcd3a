// The ledger: an RFC 9162 Merkle log stored as C2SP tlog-tiles, with signed checkpoints (c2sp signed-note,
// tlog-checkpoint), witnesses (tlog-witness, tlog-cosignature) and an auditor. One import for all of it.
export * from './hash.ts';
export * from './tree.ts';
// Added as the files land: tiles.ts, store.ts, log.ts, entry.ts (CORE); note.ts, checkpoint.ts,
// signers.ts, cosignature.ts, witness.ts (NOTES); audit.ts (AUDIT).
