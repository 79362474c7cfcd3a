// The two tables of "Configuring how CloudWatch alarms treat missing data" (CloudWatch user guide,
// "How alarm state is evaluated when data is missing"). 0 = not breaching, X = breaching, - = missing,
// oldest first; CloudWatch retrieves the 5 most recent data points.
import { describe, expect, it } from 'vitest';
import { decide, evaluateAlarm, MetricStore, type TreatMissingData } from '../../src/cloud/services/cloudwatch/alarms/index.ts';
import { makeAlarm, putSeries } from './helpers.ts';

type Expect = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | 'RETAIN';
const MODES: TreatMissingData[] = ['missing', 'ignore', 'breaching', 'notBreaching'];

// Datapoints to Alarm = Evaluation Periods = 3
const TABLE_3_OF_3: [string, Expect[]][] = [
  ['0 - X - X', ['OK', 'OK', 'OK', 'OK']],
  ['0 - - - -', ['OK', 'OK', 'OK', 'OK']],
  ['- - - - -', ['INSUFFICIENT_DATA', 'RETAIN', 'ALARM', 'OK']],
  ['0 X X - X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
  ['- - - - X', ['INSUFFICIENT_DATA', 'RETAIN', 'ALARM', 'OK']],
  // "the alarm goes to ALARM state even if missing data is treated as missing, because the oldest
  // evaluated data point is breaching and there aren't any non-breaching data points"
  ['X - - - -', ['ALARM', 'RETAIN', 'ALARM', 'OK']],
];

// Datapoints to Alarm = 2, Evaluation Periods = 3
const TABLE_2_OF_3: [string, Expect[]][] = [
  ['0 - X - X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
  ['0 0 X 0 X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
  ['0 - X - -', ['OK', 'OK', 'ALARM', 'OK']],
  ['- - - - 0', ['OK', 'OK', 'ALARM', 'OK']],
  ['- - - - X', ['INSUFFICIENT_DATA', 'RETAIN', 'ALARM', 'OK']],
];

const parse = (row: string) => row.split(' ').map((c) => (c === '-' ? undefined : c === 'X'));

describe('missing data: decision tables', () => {
  for (const [table, n, m] of [
    [TABLE_3_OF_3, 3, 3],
    [TABLE_2_OF_3, 3, 2],
  ] as const) {
    for (const [row, expected] of table) {
      MODES.forEach((mode, i) => {
        it(`${m} of ${n}: ${row} with ${mode} -> ${expected[i]}`, () => {
          expect(decide(parse(row), n, m, mode).state).toBe(expected[i]);
        });
      });
    }
  }
});

describe('missing data: the same rows through the metric store and the evaluator', () => {
  const values = (row: string) => row.split(' ').map((c) => (c === '-' ? undefined : c === 'X' ? 10 : 0));
  const now = new Date('2024-05-14T12:40:38.505Z');
  const end = new Date('2024-05-14T12:40:00Z');
  for (const [table, n, m] of [
    [TABLE_3_OF_3, 3, 3],
    [TABLE_2_OF_3, 3, 2],
  ] as const) {
    for (const [row, expected] of table) {
      MODES.forEach((mode, i) => {
        it(`${m} of ${n}: ${row} with ${mode}`, () => {
          for (const start of ['OK', 'ALARM'] as const) {
            const alarm = { ...makeAlarm({ EvaluationPeriods: n, DatapointsToAlarm: m, TreatMissingData: mode, Period: 300 }), StateValue: start };
            const store = new MetricStore();
            putSeries(store, alarm, values(row), end);
            const r = evaluateAlarm(alarm, store, now, { eventId: 'e' });
            const want = expected[i] === 'RETAIN' ? start : expected[i];
            expect(r.alarm.StateValue).toBe(want);
            expect(r.changed).toBe(want !== start);
          }
        });
      });
    }
  }

  it('row 2 goes to ALARM once the non-breaching point leaves the 5 retrieved ("The next time this alarm is evaluated...")', () => {
    const alarm = makeAlarm({ EvaluationPeriods: 3, DatapointsToAlarm: 3, TreatMissingData: 'breaching', Period: 300 });
    const store = new MetricStore();
    putSeries(store, alarm, [0, undefined, undefined, undefined, undefined], end);
    const first = evaluateAlarm(alarm, store, now);
    expect(first.alarm.StateValue).toBe('OK');
    const later = evaluateAlarm(first.alarm, store, new Date(now.getTime() + 300_000));
    expect(later.alarm.StateValue).toBe('ALARM');
    expect(later.alarm.StateReason).toBe('Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [Breaching].');
  });

  it('evaluates on the most recent existing datapoints when there are enough, even old ones', () => {
    // 0 X X - X: the 3 most recent existing are X X X
    expect(decide(parse('0 X X - X'), 3, 3, 'missing').evaluated).toEqual([4, 2, 1]);
  });

  it('ignores missing data for AWS/DynamoDB metrics whatever TreatMissingData says', () => {
    const alarm = { ...makeAlarm({ Namespace: 'AWS/DynamoDB', TreatMissingData: 'breaching' }), StateValue: 'OK' as const };
    const r = evaluateAlarm(alarm, new MetricStore(), now);
    expect(r.changed).toBe(false);
    expect(r.detail.outcome).toBe('RETAIN');
  });
});
