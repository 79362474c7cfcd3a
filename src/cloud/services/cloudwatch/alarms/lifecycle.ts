// Alarm configuration changes and SetAlarmState, with the history items CloudWatch records for them.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html
import { ApiError } from '../../../gateway/api-error.ts';
import { applyState, type AlarmEvaluation } from './evaluate.ts';
import { alarmArn } from './format.ts';
import { configurationHistoryItem } from './notifications.ts';
import { parsePercentile } from './metric-store.ts';
import {
  BAND_OPERATORS,
  STATISTICS,
  THRESHOLD_OPERATORS,
  type AlarmHistoryItem,
  type MetricAlarm,
  type PutMetricAlarmInput,
  type StateValue,
} from './types.ts';

const INITIAL_REASON = 'Unchecked: Initial alarm creation';

function validation(message: string, code = 'ValidationError'): ApiError {
  return new ApiError(400, code, message);
}

/**
 * Checks a PutMetricAlarm request. The rules are AWS's documented constraints; the exact wording of
 * AWS's messages for them is not documented, so these messages are close paraphrases.
 */
export function validatePutMetricAlarm(input: PutMetricAlarmInput): void {
  if (!input.AlarmName || input.AlarmName.length > 255) throw validation('The AlarmName must be between 1 and 255 characters long.');
  if (!/^[\x20-\x7e]+$/.test(input.AlarmName)) throw validation('Alarm names must contain only ASCII characters.');
  const ops = [...THRESHOLD_OPERATORS, ...BAND_OPERATORS] as readonly string[];
  if (!ops.includes(input.ComparisonOperator)) {
    throw validation(`1 validation error detected: Value '${input.ComparisonOperator}' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [${ops.join(', ')}]`);
  }
  if (input.TreatMissingData !== undefined && !['missing', 'ignore', 'breaching', 'notBreaching'].includes(input.TreatMissingData)) {
    throw validation(`The value ${input.TreatMissingData} for parameter TreatMissingData is not supported.`);
  }
  if (!Number.isInteger(input.EvaluationPeriods) || input.EvaluationPeriods < 1) {
    throw validation(`The value ${input.EvaluationPeriods} for parameter EvaluationPeriods must be greater than or equal to 1.`);
  }
  if (input.DatapointsToAlarm !== undefined && (input.DatapointsToAlarm < 1 || input.DatapointsToAlarm > input.EvaluationPeriods)) {
    throw validation('DatapointsToAlarm must be greater than 0 and less than or equal to EvaluationPeriods.');
  }
  if (input.Metrics && input.Metrics.length > 0) return; // metric math alarms: stored, not evaluated
  if (!input.MetricName || !input.Namespace) throw validation('MetricName and Namespace must be specified when Metrics is not.', 'MissingParameter');
  if ((input.Statistic === undefined) === (input.ExtendedStatistic === undefined)) {
    throw validation('Exactly one element of Statistic and ExtendedStatistic must be specified.', 'InvalidParameterCombination');
  }
  if (input.Statistic !== undefined && !STATISTICS.includes(input.Statistic)) {
    throw validation(`1 validation error detected: Value '${input.Statistic}' at 'statistic' failed to satisfy constraint: Member must satisfy enum value set: [${STATISTICS.join(', ')}]`);
  }
  if (input.ExtendedStatistic !== undefined && parsePercentile(input.ExtendedStatistic) === undefined) {
    throw validation(`The value ${input.ExtendedStatistic} for parameter ExtendedStatistic is not supported.`, 'InvalidParameterValue');
  }
  const period = input.Period;
  if (period === undefined || !Number.isInteger(period) || !(period === 10 || period === 20 || period === 30 || (period >= 60 && period % 60 === 0))) {
    throw validation('Period must be 10, 20, 30 or a multiple of 60.', 'InvalidParameterValue');
  }
  const maxRange = period >= 3600 ? 7 * 86400 : 86400;
  if (period * input.EvaluationPeriods > maxRange) {
    throw validation(
      `The evaluation period (Period * EvaluationPeriods) cannot exceed ${maxRange === 86400 ? 'one day' : 'seven days'} (${maxRange} seconds).`,
      'InvalidParameterValue',
    );
  }
  if ((BAND_OPERATORS as readonly string[]).includes(input.ComparisonOperator)) {
    if (input.ThresholdMetricId === undefined) throw validation('ThresholdMetricId must be specified for band comparison operators.');
  } else if (input.Threshold === undefined) {
    throw validation('Threshold must be specified.', 'MissingParameter');
  }
}

function configFrom(input: PutMetricAlarmInput): Omit<MetricAlarm, 'AlarmArn' | 'StateValue' | 'StateReason' | 'StateUpdatedTimestamp' | 'AlarmConfigurationUpdatedTimestamp'> {
  return {
    AlarmName: input.AlarmName,
    AlarmDescription: input.AlarmDescription,
    ActionsEnabled: input.ActionsEnabled ?? true,
    OKActions: [...(input.OKActions ?? [])],
    AlarmActions: [...(input.AlarmActions ?? [])],
    InsufficientDataActions: [...(input.InsufficientDataActions ?? [])],
    MetricName: input.MetricName,
    Namespace: input.Namespace,
    Statistic: input.Statistic,
    ExtendedStatistic: input.ExtendedStatistic,
    Dimensions: [...(input.Dimensions ?? [])],
    Period: input.Period,
    Unit: input.Unit,
    EvaluationPeriods: input.EvaluationPeriods,
    DatapointsToAlarm: input.DatapointsToAlarm,
    Threshold: input.Threshold,
    ComparisonOperator: input.ComparisonOperator,
    TreatMissingData: input.TreatMissingData,
    EvaluateLowSampleCountPercentile: input.EvaluateLowSampleCountPercentile,
    Metrics: input.Metrics,
    ThresholdMetricId: input.ThresholdMetricId,
    Tags: input.Tags,
  };
}

/**
 * PutMetricAlarm for a new alarm: "the alarm state is immediately set to INSUFFICIENT_DATA" with the
 * reason "Unchecked: Initial alarm creation", and a ConfigurationUpdate item is recorded.
 */
export function createMetricAlarm(
  input: PutMetricAlarmInput,
  context: { region: string; account: string; now: Date; partition?: string },
): { alarm: MetricAlarm; history: AlarmHistoryItem[] } {
  validatePutMetricAlarm(input);
  const alarm: MetricAlarm = {
    ...configFrom(input),
    AlarmArn: alarmArn(context.region, context.account, input.AlarmName, context.partition),
    AlarmConfigurationUpdatedTimestamp: context.now,
    StateValue: 'INSUFFICIENT_DATA',
    StateReason: INITIAL_REASON,
    StateUpdatedTimestamp: context.now,
    StateTransitionedTimestamp: context.now,
  };
  return { alarm, history: [configurationHistoryItem('Create', alarm, context.now)] };
}

/**
 * PutMetricAlarm on an existing alarm: "its state is left unchanged, but the update completely overwrites
 * the previous configuration of the alarm."
 */
export function updateMetricAlarm(existing: MetricAlarm, input: PutMetricAlarmInput, now: Date): { alarm: MetricAlarm; history: AlarmHistoryItem[] } {
  validatePutMetricAlarm(input);
  const alarm: MetricAlarm = {
    ...configFrom(input),
    AlarmArn: existing.AlarmArn,
    AlarmConfigurationUpdatedTimestamp: now,
    StateValue: existing.StateValue,
    StateReason: existing.StateReason,
    StateReasonData: existing.StateReasonData,
    StateUpdatedTimestamp: existing.StateUpdatedTimestamp,
    StateTransitionedTimestamp: existing.StateTransitionedTimestamp,
  };
  return { alarm, history: [configurationHistoryItem('Update', alarm, now, existing)] };
}

/** DeleteAlarms: the ConfigurationUpdate item CloudWatch keeps (history outlives the alarm for two weeks). */
export function deleteMetricAlarm(alarm: MetricAlarm, now: Date): AlarmHistoryItem {
  return configurationHistoryItem('Delete', alarm, now);
}

/**
 * SetAlarmState: sets the state until the next evaluation. A change of state records a StateUpdate item,
 * fires the new state's actions and emits the EventBridge event; setting the current state changes nothing.
 */
export function setAlarmState(
  alarm: MetricAlarm,
  request: { StateValue: StateValue; StateReason: string; StateReasonData?: string },
  now: Date,
  options: { eventId?: string } = {},
): Omit<AlarmEvaluation, 'detail'> {
  if (!['OK', 'ALARM', 'INSUFFICIENT_DATA'].includes(request.StateValue)) {
    throw validation(`1 validation error detected: Value '${request.StateValue}' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]`);
  }
  if (request.StateReasonData !== undefined) {
    try {
      JSON.parse(request.StateReasonData);
    } catch {
      throw validation('State reason data must be valid JSON.', 'InvalidFormat');
    }
  }
  if (request.StateValue === alarm.StateValue) return { alarm, changed: false, history: [], actions: [] };
  return applyState(alarm, request.StateValue, request.StateReason, request.StateReasonData, now, options);
}
