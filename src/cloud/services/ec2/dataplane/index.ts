// The VPC data plane: traffic judged against security groups and network ACLs, written as flow-log
// records to each flow log's destination. See dataplane.ts for how the gateway uses it and
// model.ts for the representation of traffic and its return path.
export * from './model.ts';
export { judgeFlow, compileTopology, type CompiledTopology } from './judge.ts';
export {
  DEFAULT_LOG_FORMAT, FIELD_VERSIONS, FlowLogAggregator, FlowLogFormatError, buildS3Files, flowLogsCovering,
  logStreamName, parseLogFormat, recordsAction, renderRecord, s3FileName, s3Folder, validateLogFormat,
  type FlowLogRecord, type LogFormat, type LogStatus, type RecordContext, type S3LogFile,
} from './flowlog.ts';
export { DataPlane, invalidate, isEc2Mutation, type DataPlaneOptions, type FlowLogStats, type FlushResult, type TrackedFlowLog } from './dataplane.ts';
export { MotoTopologySource, StaticTopologySource, emptyTopology, parseDestination, toTopology, type TopologySource } from './topology.ts';
export { DeliveryError, EmulatorSinks, MemorySinks, logEventBatches, type FlowLogSinks, type LogEvent } from './sinks.ts';
export * from './traffic.ts';
