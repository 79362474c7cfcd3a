// The ledger: an RFC 9162 Merkle log stored as C2SP tlog-tiles, with signed checkpoints (c2sp signed-note,
// tlog-checkpoint), witnesses (tlog-witness, tlog-cosignature) and an auditor. One import for all of it.
export * from './hash.ts';
export * from './tree.ts';
export * from './tiles.ts';
export * from './store.ts';
export * from './log.ts';
export * from './entry.ts';
export * from './note.ts';
export * from './checkpoint.ts';
export * from './signers.ts';
export * from './cosignature.ts';
export * from './witness.ts';
export * from './audit.ts';
