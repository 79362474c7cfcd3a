// SNS alarm notifications, the EventBridge state-change event and alarm history, against messages
// recorded from AWS.
import { describe, expect, it } from 'vitest';
import {
  actionHistoryItem,
  alarmNotificationMessage,
  alarmNotificationSubject,
  alarmStateChangeEvent,
  createMetricAlarm,
  deleteMetricAlarm,
  evaluateAlarm,
  MetricStore,
  setAlarmState,
  updateMetricAlarm,
  type MetricAlarm,
} from '../../src/cloud/services/cloudwatch/alarms/index.ts';
import { compilePattern } from '../../src/cloud/services/events/pattern/index.ts';
import { makeAlarm } from './helpers.ts';

describe('SNS alarm notification', () => {
  it('reproduces a recorded ALARM notification (WAF rate-based rule, M of N, notBreaching)', () => {
    const name = 'AlarmForRBRule_project-general-alb-project_alb-project-wafbase-rate-limit-rule_BLOCK';
    const { alarm } = createMetricAlarm(
      {
        AlarmName: name,
        AlarmDescription: 'Alarm for Rate-based rule events detected on Rule alb-project-wafbase-rate-limit-rule',
        AlarmActions: ['arn:aws:sns:eu-west-1:XXXXXXXXXXX:aws-alerts'],
        Namespace: 'AWS/WAFV2',
        MetricName: 'BlockedRequests',
        Statistic: 'Sum',
        Dimensions: [
          { Name: 'WebACL', Value: 'project-general-alb-project' },
          { Name: 'Region', Value: 'eu-west-1' },
          { Name: 'Rule', Value: 'alb-project-wafbase-rate-limit-rule' },
        ],
        Period: 60,
        EvaluationPeriods: 20,
        DatapointsToAlarm: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      },
      { region: 'eu-west-1', account: 'XXXXXXXXXXX', now: new Date('2023-02-23T12:07:38.685Z') },
    );
    const store = new MetricStore();
    store.putMetricData('AWS/WAFV2', [{ MetricName: 'BlockedRequests', Dimensions: alarm.Dimensions, Value: 613, Timestamp: new Date('2024-03-16T12:15:30Z') }], new Date('2024-03-16T12:16:00Z'));
    const r = evaluateAlarm({ ...alarm, StateValue: 'OK' }, store, new Date('2024-03-16T12:16:45.770Z'));
    const sns = r.actions[0]!;
    expect(sns.type).toBe('sns');
    if (sns.type !== 'sns') return;
    expect(sns.message).toBe(
      '{"AlarmName":"AlarmForRBRule_project-general-alb-project_alb-project-wafbase-rate-limit-rule_BLOCK","AlarmDescription":"Alarm for Rate-based rule events detected on Rule alb-project-wafbase-rate-limit-rule","AWSAccountId":"XXXXXXXXXXX","AlarmConfigurationUpdatedTimestamp":"2023-02-23T12:07:38.685+0000","NewStateValue":"ALARM","NewStateReason":"Threshold Crossed: 1 out of the last 20 datapoints [613.0 (16/03/24 12:15:00)] was greater than or equal to the threshold (1.0) and 19 missing datapoints were treated as [NonBreaching] (minimum 1 datapoint for OK -> ALARM transition).","StateChangeTime":"2024-03-16T12:16:45.770+0000","Region":"EU (Ireland)","AlarmArn":"arn:aws:cloudwatch:eu-west-1:XXXXXXXXXXX:alarm:AlarmForRBRule_project-general-alb-project_alb-project-wafbase-rate-limit-rule_BLOCK","OldStateValue":"OK","OKActions":[],"AlarmActions":["arn:aws:sns:eu-west-1:XXXXXXXXXXX:aws-alerts"],"InsufficientDataActions":[],"Trigger":{"MetricName":"BlockedRequests","Namespace":"AWS/WAFV2","StatisticType":"Statistic","Statistic":"SUM","Unit":null,"Dimensions":[{"value":"project-general-alb-project","name":"WebACL"},{"value":"eu-west-1","name":"Region"},{"value":"alb-project-wafbase-rate-limit-rule","name":"Rule"}],"Period":60,"EvaluationPeriods":20,"DatapointsToAlarm":1,"ComparisonOperator":"GreaterThanOrEqualToThreshold","Threshold":1.0,"TreatMissingData":"notBreaching","EvaluateLowSampleCountPercentile":""}}',
    );
    expect(sns.subject).toBe(`ALARM: "${name}" in EU (Ireland)`.slice(0, 100));
  });

  it('reproduces a recorded OK notification (Lambda Errors, no DatapointsToAlarm)', () => {
    const { alarm } = createMetricAlarm(
      {
        AlarmName: 'package-general-live-event-filter-errors',
        AlarmDescription: 'The TV4 live sports event filter lambda has had atleast 1 error within the last 5 minutes!',
        OKActions: ['arn:aws:sns:eu-west-1:123456712345:aws-alerts'],
        AlarmActions: ['arn:aws:sns:eu-west-1:123456712345:aws-alerts'],
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Statistic: 'Sum',
        Dimensions: [{ Name: 'FunctionName', Value: 'package-general-live-event-filter-function' }],
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      },
      { region: 'eu-west-1', account: '123456712345', now: new Date('2023-08-17T08:47:29.454Z') },
    );
    const store = new MetricStore();
    store.putMetricData('AWS/Lambda', [{ MetricName: 'Errors', Dimensions: alarm.Dimensions, Value: 0, Timestamp: new Date('2024-03-19T17:15:00Z') }], new Date('2024-03-19T17:16:00Z'));
    const r = evaluateAlarm({ ...alarm, StateValue: 'ALARM' }, store, new Date('2024-03-19T17:19:14.422Z'));
    const sns = r.actions[0]!;
    if (sns.type !== 'sns') throw new Error('expected an SNS action');
    expect(sns.message).toBe(
      '{"AlarmName":"package-general-live-event-filter-errors","AlarmDescription":"The TV4 live sports event filter lambda has had atleast 1 error within the last 5 minutes!","AWSAccountId":"123456712345","AlarmConfigurationUpdatedTimestamp":"2023-08-17T08:47:29.454+0000","NewStateValue":"OK","NewStateReason":"Threshold Crossed: 1 datapoint [0.0 (19/03/24 17:14:00)] was not greater than or equal to the threshold (1.0).","StateChangeTime":"2024-03-19T17:19:14.422+0000","Region":"EU (Ireland)","AlarmArn":"arn:aws:cloudwatch:eu-west-1:123456712345:alarm:package-general-live-event-filter-errors","OldStateValue":"ALARM","OKActions":["arn:aws:sns:eu-west-1:123456712345:aws-alerts"],"AlarmActions":["arn:aws:sns:eu-west-1:123456712345:aws-alerts"],"InsufficientDataActions":[],"Trigger":{"MetricName":"Errors","Namespace":"AWS/Lambda","StatisticType":"Statistic","Statistic":"SUM","Unit":null,"Dimensions":[{"value":"package-general-live-event-filter-function","name":"FunctionName"}],"Period":300,"EvaluationPeriods":1,"ComparisonOperator":"GreaterThanOrEqualToThreshold","Threshold":1.0,"TreatMissingData":"notBreaching","EvaluateLowSampleCountPercentile":""}}',
    );
    expect(sns.subject).toBe('OK: "package-general-live-event-filter-errors" in EU (Ireland)');
    expect(sns.emailMessage).toContain('You are receiving this email because your Amazon CloudWatch Alarm "package-general-live-event-filter-errors" in the EU (Ireland) region has entered the OK state');
    expect(sns.emailMessage).toContain('at "Tuesday 19 March, 2024 17:19:14 UTC"');
    expect(sns.emailMessage).toContain('- State Change:               ALARM -> OK');
  });

  it('names an extended statistic in the trigger and has a null description when there is none', () => {
    const alarm = makeAlarm({ Statistic: undefined, ExtendedStatistic: 'p99', Unit: 'Milliseconds' });
    const t = setAlarmState(alarm, { StateValue: 'ALARM', StateReason: 'test' }, new Date('2024-01-01T00:00:00Z')).transition!;
    const msg = JSON.parse(alarmNotificationMessage(alarm, t));
    expect(msg.AlarmDescription).toBeNull();
    expect(msg.Trigger).toMatchObject({ StatisticType: 'ExtendedStatistic', ExtendedStatistic: 'p99', Unit: 'Milliseconds' });
    expect(msg.Trigger.Statistic).toBeUndefined();
    expect(alarmNotificationSubject(alarm, t)).toBe('ALARM: "test-alarm" in US East (N. Virginia)');
  });
});

describe('EventBridge "CloudWatch Alarm State Change" event', () => {
  it('has the documented shape (user guide, ServerCpuTooHigh)', () => {
    const alarm = {
      ...makeAlarm({
        AlarmName: 'ServerCpuTooHigh',
        AlarmDescription: 'Goes into alarm when server CPU utilization is too high!',
        Namespace: 'AWS/EC2',
        MetricName: 'CPUUtilization',
        Dimensions: [{ Name: 'InstanceId', Value: 'i-12345678901234567' }],
        Statistic: 'Average',
        DatapointsToAlarm: 1,
        Threshold: 50,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
      StateValue: 'OK' as const,
      StateReason: 'Threshold Crossed: 1 out of the last 1 datapoints [0.0666851903306472 (01/10/19 13:46:00)] was not greater than the threshold (50.0) (minimum 1 datapoint for ALARM -> OK transition).',
      StateUpdatedTimestamp: new Date('2019-10-01T13:56:40.987Z'),
    };
    const store = new MetricStore();
    store.putMetricData('AWS/EC2', [{ MetricName: 'CPUUtilization', Dimensions: alarm.Dimensions, Value: 99.50160229693434, Timestamp: new Date('2019-10-02T17:00:00Z') }], new Date('2019-10-02T17:00:00Z'));
    const r = evaluateAlarm(alarm, store, new Date('2019-10-02T17:04:40.989Z'), { eventId: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92' });
    const e = r.event!;
    expect(e).toMatchObject({
      version: '0',
      id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
      'detail-type': 'CloudWatch Alarm State Change',
      source: 'aws.cloudwatch',
      account: '123456789012',
      time: '2019-10-02T17:04:40Z',
      region: 'us-east-1',
      resources: ['arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh'],
      detail: {
        alarmName: 'ServerCpuTooHigh',
        configuration: {
          description: 'Goes into alarm when server CPU utilization is too high!',
          metrics: [
            {
              metricStat: { metric: { dimensions: { InstanceId: 'i-12345678901234567' }, name: 'CPUUtilization', namespace: 'AWS/EC2' }, period: 300, stat: 'Average' },
              returnData: true,
            },
          ],
        },
        previousState: {
          reason: 'Threshold Crossed: 1 out of the last 1 datapoints [0.0666851903306472 (01/10/19 13:46:00)] was not greater than the threshold (50.0) (minimum 1 datapoint for ALARM -> OK transition).',
          timestamp: '2019-10-01T13:56:40.987+0000',
          value: 'OK',
        },
        state: {
          reason: 'Threshold Crossed: 1 out of the last 1 datapoints [99.50160229693434 (02/10/19 16:59:00)] was greater than the threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition).',
          timestamp: '2019-10-02T17:04:40.989+0000',
          value: 'ALARM',
        },
      },
    });
    expect(JSON.parse((e.detail.state as { reasonData: string }).reasonData)).toMatchObject({
      version: '1.0',
      queryDate: '2019-10-02T17:04:40.989+0000',
      startDate: '2019-10-02T16:59:00.000+0000',
      statistic: 'Average',
      period: 300,
      recentDatapoints: [99.50160229693434],
      threshold: 50,
    });
  });

  it('is matched by the state-change rule students write', () => {
    const alarm = makeAlarm({ AlarmName: 'ssh-brute-force' });
    const r = setAlarmState(alarm, { StateValue: 'ALARM', StateReason: 'test' }, new Date('2024-01-01T00:00:00Z'));
    const rule = compilePattern({ source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], detail: { alarmName: [{ prefix: 'ssh-' }], state: { value: ['ALARM'] } } });
    expect(rule.matches(r.event!)).toBe(true);
    expect(rule.matches(alarmStateChangeEvent(alarm, { ...r.transition!, newState: { ...r.transition!.newState, value: 'OK' } }))).toBe(false);
  });
});

describe('alarm history', () => {
  const t0 = new Date('2014-04-09T18:59:06.442Z');

  it('StateUpdate items carry old and new state with the reason data as an object', () => {
    const alarm = { ...makeAlarm({ AlarmName: 'myalarm', Statistic: 'Average', EvaluationPeriods: 2, Threshold: 70, ComparisonOperator: 'GreaterThanThreshold' }), StateValue: 'ALARM' as const, StateReason: 'testing purposes' };
    const store = new MetricStore();
    store.putMetricData('Lab/Net', [{ MetricName: 'RejectedSSH', Value: 38.958, Timestamp: new Date('2014-04-09T18:49:00Z') }], t0);
    store.putMetricData('Lab/Net', [{ MetricName: 'RejectedSSH', Value: 40.292, Timestamp: new Date('2014-04-09T18:54:00Z') }], t0);
    const r = evaluateAlarm(alarm, store, t0);
    const item = r.history[0]!;
    expect(item).toMatchObject({ AlarmName: 'myalarm', AlarmType: 'MetricAlarm', HistoryItemType: 'StateUpdate', HistorySummary: 'Alarm updated from ALARM to OK', Timestamp: t0 });
    expect(item.HistoryData.startsWith('{"version":"1.0","oldState":{"stateValue":"ALARM","stateReason":"testing purposes"},"newState":{"stateValue":"OK","stateReason":"Threshold Crossed: 2 datapoints')).toBe(true);
    expect(item.HistoryData).toContain('"stateReasonData":{"version":"1.0","queryDate":"2014-04-09T18:59:06.442+0000"');
    expect(item.HistoryData).toContain('"period":300,"recentDatapoints":[38.958,40.292],"threshold":70.0');
  });

  it('ConfigurationUpdate items for create, update and delete', () => {
    const { alarm, history } = createMetricAlarm(
      { AlarmName: 'cpu', Namespace: 'AWS/EC2', MetricName: 'CPUUtilization', Statistic: 'Average', Period: 300, EvaluationPeriods: 1, Threshold: 80, ComparisonOperator: 'GreaterThanThreshold' },
      { region: 'us-east-1', account: '123456789012', now: t0 },
    );
    expect(alarm.StateValue).toBe('INSUFFICIENT_DATA');
    expect(alarm.StateReason).toBe('Unchecked: Initial alarm creation');
    expect(history[0]).toMatchObject({ HistoryItemType: 'ConfigurationUpdate', HistorySummary: 'Alarm "cpu" created' });
    expect(JSON.parse(history[0]!.HistoryData)).toMatchObject({ type: 'Create', version: '1.0', createdAlarm: { alarmName: 'cpu', threshold: 80, statistic: 'AVERAGE' } });

    const moved = setAlarmState(alarm, { StateValue: 'ALARM', StateReason: 'x' }, t0).alarm;
    const later = new Date(t0.getTime() + 60_000);
    const updated = updateMetricAlarm(moved, { AlarmName: 'cpu', Namespace: 'AWS/EC2', MetricName: 'CPUUtilization', Statistic: 'Average', Period: 300, EvaluationPeriods: 1, Threshold: 90, ComparisonOperator: 'GreaterThanThreshold' }, later);
    expect(updated.alarm.StateValue).toBe('ALARM'); // "its state is left unchanged"
    expect(updated.alarm.Threshold).toBe(90);
    expect(updated.alarm.AlarmConfigurationUpdatedTimestamp).toEqual(later);
    expect(updated.history[0]!.HistorySummary).toBe('Alarm "cpu" updated');
    const data = JSON.parse(updated.history[0]!.HistoryData);
    expect(data.oldAlarm.threshold).toBe(80);
    expect(data.updatedAlarm.threshold).toBe(90);
    expect(deleteMetricAlarm(updated.alarm, later).HistorySummary).toBe('Alarm "cpu" deleted');
  });

  it('Action items after the caller carried out an action', () => {
    const alarm = makeAlarm({ AlarmActions: ['arn:aws:sns:us-east-1:123456789012:alerts'] });
    const r = setAlarmState(alarm, { StateValue: 'ALARM', StateReason: 'test' }, t0);
    const ok = actionHistoryItem(r.alarm, r.actions[0]!, { ok: true }, t0);
    expect(ok).toMatchObject({ HistoryItemType: 'Action', HistorySummary: 'Successfully executed action arn:aws:sns:us-east-1:123456789012:alerts' });
    expect(JSON.parse(ok.HistoryData)).toMatchObject({ actionState: 'Succeeded', notificationResource: 'arn:aws:sns:us-east-1:123456789012:alerts', stateUpdateTimestamp: t0.getTime() });
    const failed = actionHistoryItem(r.alarm, r.actions[0]!, { ok: false, error: 'Resource not found' }, t0);
    expect(failed.HistorySummary.startsWith('Failed to execute action arn:aws:sns:us-east-1:123456789012:alerts')).toBe(true);
  });
});

describe('actions on transitions', () => {
  const arns = {
    AlarmActions: ['arn:aws:sns:us-east-1:123456789012:alarm-topic', 'arn:aws:lambda:us-east-1:123456789012:function:responder', 'arn:aws:automate:us-east-1:ec2:stop'],
    OKActions: ['arn:aws:sns:us-east-1:123456789012:ok-topic'],
    InsufficientDataActions: ['arn:aws:sns:us-east-1:123456789012:data-topic'],
  };
  const at = new Date('2024-01-01T00:10:00Z');

  it('fires the actions of the new state only', () => {
    const alarm = makeAlarm(arns);
    const toAlarm = setAlarmState(alarm, { StateValue: 'ALARM', StateReason: 'r' }, at);
    expect(toAlarm.actions.map((a) => [a.type, a.arn])).toEqual([
      ['sns', arns.AlarmActions[0]],
      ['lambda', arns.AlarmActions[1]],
      ['ec2', arns.AlarmActions[2]],
    ]);
    const ec2 = toAlarm.actions[2]!;
    expect(ec2.type === 'ec2' && ec2.operation).toBe('stop');
    const lambda = toAlarm.actions[1]!;
    if (lambda.type !== 'lambda') throw new Error('lambda');
    expect(JSON.parse(lambda.payload)).toMatchObject({ source: 'aws.cloudwatch', alarmArn: alarm.AlarmArn, accountId: '123456789012', region: 'us-east-1', alarmData: { alarmName: 'test-alarm', state: { value: 'ALARM' }, previousState: { value: 'INSUFFICIENT_DATA' } } });
    const toOk = setAlarmState(toAlarm.alarm, { StateValue: 'OK', StateReason: 'r' }, at);
    expect(toOk.actions.map((a) => a.arn)).toEqual(arns.OKActions);
    const toData = setAlarmState(toOk.alarm, { StateValue: 'INSUFFICIENT_DATA', StateReason: 'r' }, at);
    expect(toData.actions.map((a) => a.arn)).toEqual(arns.InsufficientDataActions);
  });

  it('fires nothing with ActionsEnabled false, and nothing when the state does not change', () => {
    const disabled: MetricAlarm = { ...makeAlarm(arns), ActionsEnabled: false };
    const r = setAlarmState(disabled, { StateValue: 'ALARM', StateReason: 'r' }, at);
    expect(r.changed).toBe(true);
    expect(r.actions).toEqual([]);
    expect(r.history).toHaveLength(1);
    const again = setAlarmState(r.alarm, { StateValue: 'ALARM', StateReason: 'r2' }, at);
    expect(again.changed).toBe(false);
    expect(again.history).toEqual([]);
  });

  it('SetAlarmState checks its input', () => {
    expect(() => setAlarmState(makeAlarm(), { StateValue: 'BROKEN' as never, StateReason: 'r' }, at)).toThrow(/stateValue/);
    expect(() => setAlarmState(makeAlarm(), { StateValue: 'OK', StateReason: 'r', StateReasonData: '{nope' }, at)).toThrow(/JSON/);
  });

  it('does not modify the alarm it is given', () => {
    const alarm = makeAlarm(arns);
    const copy = structuredClone(alarm);
    setAlarmState(alarm, { StateValue: 'ALARM', StateReason: 'r' }, at);
    evaluateAlarm(alarm, new MetricStore(), at);
    expect(alarm).toEqual(copy);
  });
});
