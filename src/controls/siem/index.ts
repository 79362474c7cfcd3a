// The SIEM control: Sigma rules (detection, correlation, filters), event normalisation, the alerting engine,
// the bundled rule pack and offline scanning.
export { SiemEngine, logsourceMatches } from './engine.ts';
export type { Alert, AlertRule, EngineOptions, EngineStats, RuleMatch } from './engine.ts';
export {
  normalizeCloudTrail,
  normalizeFlowRecord,
  normalizeLogEvent,
  parseFlowLogText,
  parseLogData,
  maybeGunzip,
  isCloudTrailRecord,
  isFlowRecord,
  FLOW_V2_FIELDS,
  CLOUDTRAIL_LOGSOURCE,
  VPCFLOW_LOGSOURCE,
  LOGS_LOGSOURCE,
} from './events.ts';
export type { SiemEvent, EventSource, EventLogSource, ParsedFile, FileKind } from './events.ts';
export { scanFiles } from './scan.ts';
export type { ScanOptions, ScanResult, ScanFileReport } from './scan.ts';
export { BUNDLED_RULES_DIR, loadBundledRules } from './pack.ts';
export * from './sigma/index.ts';
