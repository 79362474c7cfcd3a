// 'seclab/kit/anomaly' for plain Node.js, such as the lab cloud's Lambda runtime, which runs a
// function's .mjs without TypeScript support: the kit (anomaly.ts) is loaded through tsx's scoped
// loader (tsImport), which touches no other import of the process. Where TypeScript already loads
// (tsx, vitest) the kit is imported as it is. test/anomaly/lambda.test.ts checks both export lists match.
let kit;
try {
  kit = await import('./anomaly.ts');
} catch (e) {
  if (e?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e;
  const { tsImport } = await import('tsx/esm/api');
  kit = await tsImport('./anomaly.ts', import.meta.url);
}

export const {
  AnomalyError, MODEL_FORMAT, MODEL_VERSION, FEATURES, STATE_FORMAT,
  decodeSubscription, parseFlowRecords, logFormatFields, ownerOf, ownerCandidates, interfaceOfStream,
  validateState, StreamDetector,
  loadModel, createDetector, anomalyEvent, trainFromFlowLogs,
} = kit;
