// The SIEM control: Sigma rules (detection, correlation, filters), event normalisation, the alerting engine,
// the bundled rule pack and offline scanning.
export { SiemEngine, logsourceMatches } from './engine.ts';
export type { Alert, AlertRule, EngineOptions, EngineStats, RuleMatch } from './engine.ts';
export {
  normalizeCloudTrail,
  cloudTrailTime,
  hasValidTime,
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
export type { SiemEvent, EventSource, EventLogSource, EventTimeSource, ParsedFile, FileKind } from './events.ts';
export { scanFiles } from './scan.ts';
export type { ScanOptions, ScanResult, ScanFileReport } from './scan.ts';
export { BUNDLED_RULES_DIR, loadBundledRules } from './pack.ts';
export * from './sigma/index.ts';
export { Siem } from './siem.ts';
export type { SiemOptions, SiemAlert, Notification, ChannelStatus, RuleInfo, SiemStats, AwsCredentials } from './siem.ts';
export { loadSiemConfig, parseSiemConfig, substitute, SiemConfigError, SiemConfigSchema, SEVERITIES } from './config.ts';
export type { SiemConfig, SourceConfig, ChannelConfig, ConfigVars, ChannelSeverity } from './config.ts';
export { DEFAULT_LOOKBACK_MS, fileStamp } from './sources.ts';
export type { SourceStatus, SourceCheckpoint } from './sources.ts';
export { alertMessage, alertSubject, alertLine, attributionLine, attackLine } from './notify.ts';
