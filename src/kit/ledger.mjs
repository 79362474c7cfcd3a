// 'seclab/kit/ledger' for plain Node.js, such as the lab cloud's Lambda runtime, which runs a
// function's .mjs without TypeScript support: the kit (ledger.ts) is loaded through tsx's scoped
// loader (tsImport), which touches no other import of the process. Where TypeScript already loads
// (tsx, vitest) the kit is imported as it is. test/kit/ledger-lambda.test.ts checks both export lists match.
let kit;
try {
  kit = await import('./ledger.ts');
} catch (e) {
  if (e?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e;
  const { tsImport } = await import('tsx/esm/api');
  kit = await tsImport('./ledger.ts', import.meta.url);
}

export const {
  // the Merkle log (hash, tree, tiles, store, log, entry)
  HASH_SIZE, leafHash, nodeHash, EMPTY_ROOT, LedgerError, isHash,
  treeRoot, inclusionProof, consistencyProof, verifyInclusion, verifyConsistency, rootFromInclusionProof,
  MemoryStore, FsStore, S3Store, tilePath, entriesPath, parseEntryBundle, formatEntryBundle,
  Ledger, MerkleAccumulator, canonicalJson, encodeEntry, decodeEntry,
  // signed notes, checkpoints, signers, cosignatures, the witness
  NoteError, signNote, addSignatures, openNote, generateEd25519Key, ed25519Signer, verifierFromVkey, vkeyOfSkey,
  kmsSigner, ecdsaVkey, ecdsaSigner, formatCheckpoint, parseCheckpoint, openCheckpoint,
  cosigner, cosignatureVkey, Witness, addCheckpointRequest,
  // the auditor
  audit,
  // the glue for a feed and a witness in Lambda
  decodeSubscription, cloudTrailEntry, appEntry, entriesFromSubscription, witnessHandler, KitError,
} = kit;
