// Shapes of CloudWatch metric alarms, as the CloudWatch API names them.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricAlarm.html

export type StateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export const THRESHOLD_OPERATORS = [
  'GreaterThanOrEqualToThreshold',
  'GreaterThanThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
] as const;
export const BAND_OPERATORS = ['LessThanLowerOrGreaterThanUpperThreshold', 'LessThanLowerThreshold', 'GreaterThanUpperThreshold'] as const;

export type ThresholdOperator = (typeof THRESHOLD_OPERATORS)[number];
export type BandOperator = (typeof BAND_OPERATORS)[number];
export type ComparisonOperator = ThresholdOperator | BandOperator;

export type TreatMissingData = 'missing' | 'ignore' | 'breaching' | 'notBreaching';
export type Statistic = 'SampleCount' | 'Average' | 'Sum' | 'Minimum' | 'Maximum';
export const STATISTICS: readonly Statistic[] = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'];

export interface Dimension {
  Name: string;
  Value: string;
}

/** A metric alarm as DescribeAlarms returns it (timestamps as Dates). */
export interface MetricAlarm {
  AlarmName: string;
  /** arn:aws:cloudwatch:<region>:<account>:alarm:<name>; the account and region are read from it. */
  AlarmArn: string;
  AlarmDescription?: string;
  AlarmConfigurationUpdatedTimestamp: Date;
  ActionsEnabled: boolean;
  OKActions: string[];
  AlarmActions: string[];
  InsufficientDataActions: string[];
  StateValue: StateValue;
  StateReason: string;
  StateReasonData?: string;
  StateUpdatedTimestamp: Date;
  StateTransitionedTimestamp?: Date;
  MetricName?: string;
  Namespace?: string;
  Statistic?: Statistic;
  ExtendedStatistic?: string;
  Dimensions: Dimension[];
  Period?: number;
  Unit?: string;
  EvaluationPeriods: number;
  DatapointsToAlarm?: number;
  Threshold?: number;
  ComparisonOperator: ComparisonOperator;
  TreatMissingData?: TreatMissingData;
  EvaluateLowSampleCountPercentile?: string;
  /** Metric math alarms: not evaluated by this engine (see evaluateAlarm). */
  Metrics?: unknown[];
  ThresholdMetricId?: string;
  Tags?: { Key: string; Value: string }[];
}

/** The PutMetricAlarm request (single-metric alarms). */
export interface PutMetricAlarmInput {
  AlarmName: string;
  AlarmDescription?: string;
  ActionsEnabled?: boolean;
  OKActions?: string[];
  AlarmActions?: string[];
  InsufficientDataActions?: string[];
  MetricName?: string;
  Namespace?: string;
  Statistic?: Statistic;
  ExtendedStatistic?: string;
  Dimensions?: Dimension[];
  Period?: number;
  Unit?: string;
  EvaluationPeriods: number;
  DatapointsToAlarm?: number;
  Threshold?: number;
  ComparisonOperator: ComparisonOperator;
  TreatMissingData?: TreatMissingData;
  EvaluateLowSampleCountPercentile?: string;
  Metrics?: unknown[];
  ThresholdMetricId?: string;
  Tags?: { Key: string; Value: string }[];
}

/** One side of a state change, as history items and events show it. */
export interface AlarmStateSnapshot {
  value: StateValue;
  reason: string;
  /** JSON text, as MetricAlarm.StateReasonData. */
  reasonData?: string;
  timestamp: Date;
}

export interface AlarmTransition {
  alarmName: string;
  alarmArn: string;
  oldState: AlarmStateSnapshot;
  newState: AlarmStateSnapshot;
}

export interface AlarmHistoryItem {
  AlarmName: string;
  AlarmType: 'MetricAlarm';
  Timestamp: Date;
  HistoryItemType: 'ConfigurationUpdate' | 'StateUpdate' | 'Action';
  HistorySummary: string;
  HistoryData: string;
}

/** An action the caller must carry out after a state change (the engine publishes nothing itself). */
export type AlarmAction =
  | {
      type: 'sns';
      arn: string;
      state: StateValue;
      /** SNS Subject, e.g. ALARM: "cpu-high" in US East (N. Virginia). */
      subject: string;
      /** The JSON message every protocol but email receives. */
      message: string;
      /** The text email subscribers receive. */
      emailMessage: string;
    }
  | { type: 'lambda'; arn: string; state: StateValue; payload: string }
  | { type: 'ec2'; arn: string; state: StateValue; operation: 'stop' | 'terminate' | 'reboot' | 'recover' | string }
  | { type: 'autoscaling' | 'ssm' | 'other'; arn: string; state: StateValue };
