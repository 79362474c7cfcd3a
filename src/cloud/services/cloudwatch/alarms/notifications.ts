// What CloudWatch sends when an alarm changes state: the SNS notification (JSON for most protocols, a
// text for email), the EventBridge "CloudWatch Alarm State Change" event, the Lambda action payload, and
// the alarm history items.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_AlarmHistoryItem.html
import { createHash, randomUUID } from 'node:crypto';
import { dbl, emailDate, isoMillis, isoSeconds, javaDouble, javaJson, parseAlarmArn } from './format.ts';
import { regionLongName } from './regions.ts';
import type { AlarmAction, AlarmHistoryItem, AlarmStateSnapshot, AlarmTransition, MetricAlarm, StateValue } from './types.ts';

const STATISTIC_ENUM: Record<string, string> = {
  SampleCount: 'SAMPLE_COUNT',
  Average: 'AVERAGE',
  Sum: 'SUM',
  Minimum: 'MINIMUM',
  Maximum: 'MAXIMUM',
};

function trigger(alarm: MetricAlarm): Record<string, unknown> {
  const t: Record<string, unknown> = {
    MetricName: alarm.MetricName,
    Namespace: alarm.Namespace,
  };
  if (alarm.ExtendedStatistic) {
    t.StatisticType = 'ExtendedStatistic';
    t.ExtendedStatistic = alarm.ExtendedStatistic;
  } else {
    t.StatisticType = 'Statistic';
    t.Statistic = alarm.Statistic ? (STATISTIC_ENUM[alarm.Statistic] ?? alarm.Statistic.toUpperCase()) : null;
  }
  t.Unit = alarm.Unit ?? null;
  t.Dimensions = alarm.Dimensions.map((d) => ({ value: d.Value, name: d.Name }));
  t.Period = alarm.Period;
  t.EvaluationPeriods = alarm.EvaluationPeriods;
  if (alarm.DatapointsToAlarm !== undefined) t.DatapointsToAlarm = alarm.DatapointsToAlarm;
  t.ComparisonOperator = alarm.ComparisonOperator;
  if (alarm.ThresholdMetricId !== undefined) t.ThresholdMetricId = alarm.ThresholdMetricId;
  else t.Threshold = dbl(alarm.Threshold ?? 0);
  t.TreatMissingData = alarm.TreatMissingData ?? 'missing';
  t.EvaluateLowSampleCountPercentile = alarm.EvaluateLowSampleCountPercentile ?? '';
  return t;
}

/**
 * The JSON CloudWatch publishes to an SNS topic on a state change, with AWS's member order:
 * AlarmName, AlarmDescription, AWSAccountId, AlarmConfigurationUpdatedTimestamp, NewStateValue,
 * NewStateReason, StateChangeTime, Region, AlarmArn, OldStateValue, OKActions, AlarmActions,
 * InsufficientDataActions, Trigger{...}.
 */
export function alarmNotificationMessage(alarm: MetricAlarm, transition: AlarmTransition): string {
  const { account, region } = parseAlarmArn(alarm.AlarmArn);
  return javaJson({
    AlarmName: alarm.AlarmName,
    AlarmDescription: alarm.AlarmDescription ?? null,
    AWSAccountId: account,
    AlarmConfigurationUpdatedTimestamp: isoMillis(alarm.AlarmConfigurationUpdatedTimestamp),
    NewStateValue: transition.newState.value,
    NewStateReason: transition.newState.reason,
    StateChangeTime: isoMillis(transition.newState.timestamp),
    Region: regionLongName(region),
    AlarmArn: alarm.AlarmArn,
    OldStateValue: transition.oldState.value,
    OKActions: alarm.OKActions,
    AlarmActions: alarm.AlarmActions,
    InsufficientDataActions: alarm.InsufficientDataActions,
    Trigger: trigger(alarm),
  });
}

/** ALARM: "name" in US East (N. Virginia), cut to SNS's 100-character subject limit. */
export function alarmNotificationSubject(alarm: MetricAlarm, transition: AlarmTransition): string {
  const { region } = parseAlarmArn(alarm.AlarmArn);
  const subject = `${transition.newState.value}: "${alarm.AlarmName}" in ${regionLongName(region)}`;
  return subject.length > 100 ? subject.slice(0, 100) : subject;
}

function stateSentence(alarm: MetricAlarm): string {
  const m = alarm.DatapointsToAlarm ?? alarm.EvaluationPeriods;
  const threshold = alarm.ThresholdMetricId !== undefined ? alarm.ThresholdMetricId : javaDouble(alarm.Threshold ?? 0);
  return `- The alarm is in the ALARM state when the metric is ${alarm.ComparisonOperator} ${threshold} for at least ${m} of the last ${alarm.EvaluationPeriods} period(s) of ${alarm.Period} seconds.`;
}

/** The text email subscribers receive (CloudWatch's layout, best effort). */
export function alarmNotificationEmail(alarm: MetricAlarm, transition: AlarmTransition): string {
  const { account, region } = parseAlarmArn(alarm.AlarmArn);
  const when = emailDate(transition.newState.timestamp);
  const row = (label: string, value: string) => `- ${`${label}:`.padEnd(28)}${value}`;
  const metricRow = (label: string, value: string) => `- ${`${label}:`.padEnd(37)}${value}`;
  const dims = alarm.Dimensions.length ? `[${alarm.Dimensions.map((d) => `${d.Name} = ${d.Value}`).join(', ')}]` : '';
  const list = (arns: string[]) => (arns.length ? ` [${arns.join(', ')}]` : '');
  return [
    `You are receiving this email because your Amazon CloudWatch Alarm "${alarm.AlarmName}" in the ${regionLongName(region)} region has entered the ${transition.newState.value} state, because "${transition.newState.reason}" at "${when}".`,
    '',
    'View this alarm in the AWS Management Console:',
    `https://${region}.console.aws.amazon.com/cloudwatch/deeplink.js?region=${region}#alarmsV2:alarm/${encodeURIComponent(alarm.AlarmName)}`,
    '',
    'Alarm Details:',
    row('Name', alarm.AlarmName),
    row('Description', alarm.AlarmDescription ?? ''),
    row('State Change', `${transition.oldState.value} -> ${transition.newState.value}`),
    row('Reason for State Change', transition.newState.reason),
    row('Timestamp', when),
    row('AWS Account', account),
    row('Alarm Arn', alarm.AlarmArn),
    '',
    'Threshold:',
    stateSentence(alarm),
    '',
    'Monitored Metric:',
    metricRow('MetricNamespace', alarm.Namespace ?? ''),
    metricRow('MetricName', alarm.MetricName ?? ''),
    metricRow('Dimensions', dims),
    metricRow('Period', `${alarm.Period} seconds`),
    metricRow('Statistic', alarm.ExtendedStatistic ?? alarm.Statistic ?? ''),
    metricRow('Unit', alarm.Unit ?? 'not specified'),
    metricRow('TreatMissingData', alarm.TreatMissingData ?? 'missing'),
    '',
    '',
    'State Change Actions:',
    `- OK:${list(alarm.OKActions)}`,
    `- ALARM:${list(alarm.AlarmActions)}`,
    `- INSUFFICIENT_DATA:${list(alarm.InsufficientDataActions)}`,
    '',
  ].join('\n');
}

/** A stable id for the alarm's metric in event configurations (AWS shows a UUID there). */
function metricId(alarm: MetricAlarm): string {
  const h = createHash('md5').update(alarm.AlarmArn).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function configuration(alarm: MetricAlarm): Record<string, unknown> {
  const metric: Record<string, unknown> = {};
  if (alarm.Dimensions.length) metric.dimensions = Object.fromEntries(alarm.Dimensions.map((d) => [d.Name, d.Value]));
  metric.name = alarm.MetricName;
  metric.namespace = alarm.Namespace;
  const metricStat: Record<string, unknown> = { metric, period: alarm.Period, stat: alarm.ExtendedStatistic ?? alarm.Statistic };
  if (alarm.Unit) metricStat.unit = alarm.Unit;
  const config: Record<string, unknown> = {};
  if (alarm.AlarmDescription) config.description = alarm.AlarmDescription;
  config.metrics = [{ id: metricId(alarm), metricStat, returnData: true }];
  return config;
}

function eventState(s: AlarmStateSnapshot): Record<string, unknown> {
  return { value: s.value, reason: s.reason, reasonData: s.reasonData, timestamp: isoMillis(s.timestamp) };
}

/** The EventBridge event CloudWatch puts on the default bus when an alarm changes state. */
export function alarmStateChangeEvent(
  alarm: MetricAlarm,
  transition: AlarmTransition,
  options: { id?: string } = {},
): {
  version: '0';
  id: string;
  'detail-type': 'CloudWatch Alarm State Change';
  source: 'aws.cloudwatch';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
} {
  const { account, region } = parseAlarmArn(alarm.AlarmArn);
  return {
    version: '0',
    id: options.id ?? randomUUID(),
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account,
    time: isoSeconds(transition.newState.timestamp),
    region,
    resources: [alarm.AlarmArn],
    detail: {
      alarmName: alarm.AlarmName,
      state: eventState(transition.newState),
      previousState: eventState(transition.oldState),
      configuration: configuration(alarm),
    },
  };
}

/** The payload CloudWatch invokes a Lambda alarm action with. */
export function lambdaActionPayload(alarm: MetricAlarm, transition: AlarmTransition): string {
  const { account, region } = parseAlarmArn(alarm.AlarmArn);
  return JSON.stringify({
    source: 'aws.cloudwatch',
    alarmArn: alarm.AlarmArn,
    accountId: account,
    time: isoMillis(transition.newState.timestamp),
    region,
    alarmData: {
      alarmName: alarm.AlarmName,
      state: eventState(transition.newState),
      previousState: eventState(transition.oldState),
      configuration: configuration(alarm),
    },
  });
}

/** The actions configured for the new state, ready for the caller to carry out. */
export function alarmActions(alarm: MetricAlarm, transition: AlarmTransition): AlarmAction[] {
  if (!alarm.ActionsEnabled) return [];
  const state = transition.newState.value;
  const arns = state === 'ALARM' ? alarm.AlarmActions : state === 'OK' ? alarm.OKActions : alarm.InsufficientDataActions;
  return arns.map((arn) => actionFor(alarm, transition, arn, state));
}

function actionFor(alarm: MetricAlarm, transition: AlarmTransition, arn: string, state: StateValue): AlarmAction {
  const service = arn.split(':')[2];
  switch (service) {
    case 'sns':
      return {
        type: 'sns',
        arn,
        state,
        subject: alarmNotificationSubject(alarm, transition),
        message: alarmNotificationMessage(alarm, transition),
        emailMessage: alarmNotificationEmail(alarm, transition),
      };
    case 'lambda':
      return { type: 'lambda', arn, state, payload: lambdaActionPayload(alarm, transition) };
    case 'automate': {
      // arn:aws:automate:<region>:ec2:stop|terminate|reboot|recover
      const operation = arn.split(':')[5] ?? '';
      return { type: 'ec2', arn, state, operation };
    }
    case 'autoscaling':
      return { type: 'autoscaling', arn, state };
    case 'ssm':
    case 'ssm-incidents':
      return { type: 'ssm', arn, state };
    default:
      return { type: 'other', arn, state };
  }
}

// ---- history ----

function historyState(value: StateValue, reason: string, reasonData: string | undefined): Record<string, unknown> {
  const s: Record<string, unknown> = { stateValue: value, stateReason: reason };
  if (reasonData) {
    try {
      s.stateReasonData = JSON.parse(reasonData);
    } catch {
      s.stateReasonData = reasonData;
    }
  }
  return s;
}

/** The StateUpdate history item of a transition ("Alarm updated from OK to ALARM"). */
export function stateUpdateHistoryItem(transition: AlarmTransition): AlarmHistoryItem {
  const data = {
    version: '1.0',
    oldState: historyState(transition.oldState.value, transition.oldState.reason, transition.oldState.reasonData),
    newState: historyState(transition.newState.value, transition.newState.reason, transition.newState.reasonData),
  };
  return {
    AlarmName: transition.alarmName,
    AlarmType: 'MetricAlarm',
    Timestamp: transition.newState.timestamp,
    HistoryItemType: 'StateUpdate',
    HistorySummary: `Alarm updated from ${transition.oldState.value} to ${transition.newState.value}`,
    HistoryData: rawJson(data),
  };
}

/** Serializes JSON whose nested reason data keeps CloudWatch's Java number format. */
function rawJson(value: unknown): string {
  // stateReasonData was parsed from Java-formatted JSON; re-print its numbers the same way
  return javaJson(toJavaNumbers(value));
}

const INTEGER_KEYS = new Set(['period', 'version', 'evaluationPeriods', 'datapointsToAlarm']);

function toJavaNumbers(value: unknown, key = ''): unknown {
  if (typeof value === 'number') return INTEGER_KEYS.has(key) ? value : dbl(value);
  if (Array.isArray(value)) return value.map((v) => toJavaNumbers(v, key));
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJavaNumbers(v, k)]));
  }
  return value;
}

function configJson(alarm: MetricAlarm): Record<string, unknown> {
  return {
    alarmName: alarm.AlarmName,
    alarmArn: alarm.AlarmArn,
    alarmDescription: alarm.AlarmDescription,
    actionsEnabled: alarm.ActionsEnabled,
    okactions: alarm.OKActions,
    alarmActions: alarm.AlarmActions,
    insufficientDataActions: alarm.InsufficientDataActions,
    metricName: alarm.MetricName,
    namespace: alarm.Namespace,
    statistic: alarm.Statistic ? STATISTIC_ENUM[alarm.Statistic] : undefined,
    extendedStatistic: alarm.ExtendedStatistic,
    dimensions: alarm.Dimensions.map((d) => ({ name: d.Name, value: d.Value })),
    period: alarm.Period,
    unit: alarm.Unit,
    evaluationPeriods: alarm.EvaluationPeriods,
    datapointsToAlarm: alarm.DatapointsToAlarm,
    threshold: alarm.Threshold !== undefined ? dbl(alarm.Threshold) : undefined,
    comparisonOperator: alarm.ComparisonOperator,
    treatMissingData: alarm.TreatMissingData,
    evaluateLowSampleCountPercentile: alarm.EvaluateLowSampleCountPercentile,
    thresholdMetricId: alarm.ThresholdMetricId,
    alarmConfigurationUpdatedTimestamp: isoMillis(alarm.AlarmConfigurationUpdatedTimestamp),
  };
}

/** ConfigurationUpdate items: "Alarm "x" created" / "updated" / "deleted". */
export function configurationHistoryItem(
  type: 'Create' | 'Update' | 'Delete',
  alarm: MetricAlarm,
  now: Date,
  previous?: MetricAlarm,
): AlarmHistoryItem {
  const data: Record<string, unknown> = { type, version: '1.0' };
  if (type === 'Create') data.createdAlarm = configJson(alarm);
  else if (type === 'Delete') data.deletedAlarm = configJson(alarm);
  else {
    data.oldAlarm = previous ? configJson(previous) : undefined;
    data.updatedAlarm = configJson(alarm);
  }
  const verb = type === 'Create' ? 'created' : type === 'Update' ? 'updated' : 'deleted';
  return {
    AlarmName: alarm.AlarmName,
    AlarmType: 'MetricAlarm',
    Timestamp: now,
    HistoryItemType: 'ConfigurationUpdate',
    HistorySummary: `Alarm "${alarm.AlarmName}" ${verb}`,
    HistoryData: javaJson(data),
  };
}

/**
 * The Action item the caller records after carrying out an action:
 * "Successfully executed action arn:aws:sns:..." or "Failed to execute action arn:... Received error: ...".
 */
export function actionHistoryItem(
  alarm: MetricAlarm,
  action: AlarmAction,
  outcome: { ok: true } | { ok: false; error: string },
  now: Date,
): AlarmHistoryItem {
  const data: Record<string, unknown> = {
    actionState: outcome.ok ? 'Succeeded' : 'Failed',
    stateUpdateTimestamp: alarm.StateUpdatedTimestamp.getTime(),
    notificationResource: action.arn,
  };
  if (action.type === 'sns' && outcome.ok) data.publishedMessage = action.message;
  if (!outcome.ok) data.error = outcome.error;
  return {
    AlarmName: alarm.AlarmName,
    AlarmType: 'MetricAlarm',
    Timestamp: now,
    HistoryItemType: 'Action',
    HistorySummary: outcome.ok ? `Successfully executed action ${action.arn}` : `Failed to execute action ${action.arn}. Received error: "${outcome.error}"`,
    HistoryData: JSON.stringify(data),
  };
}
