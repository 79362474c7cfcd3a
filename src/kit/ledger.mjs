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

// Every runtime export of ledger.ts (the library's parts and the kit's glue), sorted.
export const {
  CHECKPOINT_PATH, EMPTY_ROOT, ENTRY_KINDS, FsStore, HASH_SIZE, KitError, Ledger, LedgerError,
  MAX_ENTRY_SIZE, MAX_PROOF_LINES, MAX_SIGNATURES, MemoryStore, MerkleAccumulator, NoteError, S3Store,
  SIG_COSIGNATURE, SIG_ECDSA, SIG_ED25519, SIZE_CONTENT_TYPE, TILE_BYTES, TILE_HEIGHT, TILE_WIDTH, Witness,
  addCheckpointRequest, addSignatures, appEntry, audit, canonicalJson, checkPath, checkpointText,
  cloudTrailEntry, consistencyProof, consistencyProofSync, consistencyRanges, cosignatureTime,
  cosignatureVkey, cosignedMessage, cosigner, decodeBase64, decodeEntry, decodeSubscription, defaultMustLog,
  ecdsaSigner, ecdsaVkey, ed25519PrivateKey, ed25519PublicKey, ed25519RawPublic, ed25519Signer, encodeEntry,
  entriesFromSubscription, entriesPath, entryProblem, formatCheckpoint, formatEntryBundle,
  generateEd25519Key, hex8, inclusionProof, inclusionProofSync, inclusionRanges, isHash, isValidKeyName,
  kmsSigner, leafHash, listWithDeleted, nodeHash, noteKeyId, openCheckpoint, openNote, parseAddCheckpoint,
  parseCheckpoint, parseEntryBundle, parseSignatureLine, parseSkey, parseTilePath, parseVkey, rangeNodes,
  requestCosignature, rootFromInclusionProof, signNote, splitNote, splitTile, subtreeOfHashes, tileIndexPath,
  tileNodeReader, tilePath, tileWidth, treeRoot, treeRootSync, verifierFromVkey, verifyConsistency,
  verifyInclusion, vkeyOfSkey, witnessHandler,
} = kit;
