// CloudWatch metric alarms on the lab clock: metric store, evaluation, history, notifications.
export { MetricStore, parsePercentile, statisticValue, type MetricDatum, type StatisticSet, type Statistics } from './metric-store.ts';
export {
  evaluateAlarm,
  evaluationTimes,
  evaluationEnd,
  decide,
  isBreaching,
  applyState,
  stateReason,
  stateReasonData,
  type AlarmEvaluation,
  type Decision,
  type EvaluateOptions,
  type EvaluationSlot,
  type Outcome,
} from './evaluate.ts';
export { createMetricAlarm, updateMetricAlarm, deleteMetricAlarm, setAlarmState, validatePutMetricAlarm } from './lifecycle.ts';
export {
  alarmNotificationMessage,
  alarmNotificationSubject,
  alarmNotificationEmail,
  alarmStateChangeEvent,
  lambdaActionPayload,
  alarmActions,
  stateUpdateHistoryItem,
  configurationHistoryItem,
  actionHistoryItem,
} from './notifications.ts';
export { javaDouble, isoMillis, reasonDate, alarmArn, parseAlarmArn } from './format.ts';
export { regionLongName } from './regions.ts';
export * from './types.ts';
