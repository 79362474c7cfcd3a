// The "Considerations when creating event patterns" of AWS's event-pattern page
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern.html#eb-create-pattern-considerations),
// one block per consideration, each with the sentence it tests. Where the page and aws/event-ruler (the
// engine EventBridge runs) disagree, the engine is followed and the test says so.
import { describe, expect, it } from 'vitest';
import { compilePattern, testEventPattern } from '../../src/cloud/services/events/pattern/index.ts';

/** Matches through the text path, as PutRule/TestEventPattern receive them. */
const m = (pattern: string, event: string) => compilePattern(pattern).matches(JSON.parse(event) as object);

describe('considerations: fields the pattern does not name are ignored', () => {
  // "EventBridge ignores the fields in the event that aren't included in the event pattern. The effect is
  // that there is a "*": "*" wildcard for fields that don't appear in the event pattern."
  it('matches whatever else the event holds', () => {
    expect(m('{"source": ["aws.ec2"]}', '{"source": "aws.ec2", "detail": {"anything": [1, {"x": null}]}, "extra": true}')).toBe(true);
  });
  // "For an event pattern to match an event, the event must contain all the field names listed in the
  // event pattern. The field names must also appear in the event with the same nesting structure."
  it('needs every field the pattern names, at the same nesting', () => {
    expect(m('{"source": ["aws.ec2"], "detail": {"state": ["running"]}}', '{"source": "aws.ec2"}')).toBe(false);
    expect(m('{"detail": {"state": ["running"]}}', '{"state": "running"}')).toBe(false);
    expect(m('{"detail": {"state": ["running"]}}', '{"detail": {"detail": {"state": "running"}}}')).toBe(false);
  });
  it('compares field names exactly (no case folding of keys)', () => {
    expect(m('{"source": ["aws.ec2"]}', '{"Source": "aws.ec2"}')).toBe(false);
  });
});

describe('considerations: values follow JSON rules', () => {
  // "The values that event patterns match follow JSON rules. You can include strings enclosed in quotation
  // marks ("), numbers, and the keywords true, false, and null." A value matches only a value of its own
  // JSON type: event-ruler quotes strings when it flattens an event and a pattern (Event.flattenObject,
  // JsonRuleCompiler.writeRules), so "5" and 5, "true" and true, "null" and null never meet.
  const cases: [string, string, boolean][] = [
    ['"5"', '5', false],
    ['5', '"5"', false],
    ['"true"', 'true', false],
    ['true', '"true"', false],
    ['false', 'false', true],
    ['"null"', 'null', false],
    ['null', '"null"', false],
    ['null', 'null', true],
    ['""', '""', true],
    ['""', 'null', false],
    ['null', '""', false],
  ];
  for (const [p, e, match] of cases) {
    it(`[${p}] against ${e}: ${match}`, () => expect(m(`{"x": [${p}]}`, `{"x": ${e}}`)).toBe(match));
  }
  it('does not match a null or empty-string pattern value against a missing field', () => {
    // (eb-event-patterns-null-values: "matching null values and empty strings" — a missing field is neither)
    expect(m('{"x": [null]}', '{}')).toBe(false);
    expect(m('{"x": [""]}', '{}')).toBe(false);
  });
  it('counts null, but not an empty array or object, as a present value for exists', () => {
    // event-ruler flattens null as the value null (a field), and [] or {} as no field at all
    expect(m('{"x": [{"exists": true}]}', '{"x": null}')).toBe(true);
    expect(m('{"x": [{"exists": false}]}', '{"x": []}')).toBe(true);
    expect(m('{"x": [{"exists": false}]}', '{"x": {}}')).toBe(true);
    expect(m('{"x": [{"exists": true}]}', '{"x": [null]}')).toBe(true);
  });
});

describe('considerations: strings match exactly', () => {
  // "For strings, EventBridge uses exact character-by-character matching without case-folding or any
  // other string normalization."
  it('does not fold case', () => {
    expect(m('{"state": ["running"]}', '{"state": "Running"}')).toBe(false);
    expect(m('{"state": [{"prefix": "run"}]}', '{"state": "RUNNING"}')).toBe(false);
  });
  it('does not normalize Unicode or whitespace', () => {
    expect(m('{"name": ["caf\\u00e9"]}', '{"name": "cafe\\u0301"}')).toBe(false);
    expect(m('{"name": ["caf\\u00e9"]}', '{"name": "café"}')).toBe(true);
    expect(m('{"name": ["a b"]}', '{"name": "a  b"}')).toBe(false);
    expect(m('{"name": ["a"]}', '{"name": " a"}')).toBe(false);
  });
});

describe('considerations: numbers (the engine is followed, not the page)', () => {
  // The page: "For numbers, EventBridge uses string representation. For example, 300, 300.0, and 3.0e2
  // aren't considered equal." The engine disagrees: event-ruler's JsonRuleCompiler.writeRules adds, for
  // a number in a pattern, a numeric-equality matcher (ComparableNumber) beside the literal text, and
  // ByteMachine.transitionOn compares an event number that is comparable by value. Its own test
  // ByteMachineTest.WHEN_NumericEQIsAdded_THEN_ItMatchesMultipleNumericForms has 300.0 match "300",
  // "3.0e+2" and "300.0000"; [3.0e2] matching 300.0 was checked against AWS (floci-io/floci PR 1889).
  for (const pattern of ['300', '300.0', '3.0e2', '3e+2', '300.0000']) {
    for (const event of ['300', '300.0', '3.0e2', '3.0e+2', '300.0000', '30000e-2']) {
      it(`[${pattern}] matches ${event}`, () => expect(m(`{"x": [${pattern}]}`, `{"x": ${event}}`)).toBe(true));
    }
  }
  it('matches 5, 5.0 and 5e0 alike, exactly and with numeric "="', () => {
    for (const a of ['5', '5.0', '5e0', '0.5e1']) {
      for (const b of ['5', '5.0', '5e0', '0.5e1']) {
        expect(m(`{"x": [${a}]}`, `{"x": ${b}}`)).toBe(true);
        expect(m(`{"x": [{"numeric": ["=", ${a}]}]}`, `{"x": ${b}}`)).toBe(true);
      }
    }
    expect(m('{"x": [5]}', '{"x": 5.5}')).toBe(false);
    expect(m('{"x": [-0]}', '{"x": 0}')).toBe(true);
  });
  it('keeps numbers and strings apart in exact, numeric and anything-but matching', () => {
    expect(m('{"x": [300]}', '{"x": "300"}')).toBe(false);
    expect(m('{"x": [{"numeric": [">", 0]}]}', '{"x": "300"}')).toBe(false);
    expect(m('{"x": [{"anything-but": [300]}]}', '{"x": 3.0e2}')).toBe(false);
    expect(m('{"x": [{"anything-but": [300]}]}', '{"x": "300"}')).toBe(true);
  });
  it('matches the README event of event-ruler ACMachineTest.rulesFromREADMETest (301.8 vs 3.018e2)', () => {
    const event = '{"detail": {"c.count": 5, "d.count": 3, "x.limit": 301.8, "state": "running"}}';
    const rule = '{"detail": {"c.count": [{"numeric": [">", 0, "<=", 5]}], "d.count": [{"numeric": ["<", 10]}], "x.limit": [{"numeric": ["=", 3.018e2]}]}}';
    expect(m(rule, event)).toBe(true);
    expect(m('{"detail": {"x.limit": [3.018e2]}}', event)).toBe(true);
  });
  it('matches a number beyond the comparable range by its value (an account id written as a number)', () => {
    // JsonRuleCompiler.writeRules: "the number might not be representable as a ComparableNumber, for
    // example an AWS account number, so make that condition survivable" — the literal still matches.
    expect(m('{"account": [123456789012]}', '{"account": 123456789012}')).toBe(true);
    expect(m('{"account": [123456789012]}', '{"account": 123456789013}')).toBe(false);
    expect(m('{"account": [123456789012]}', '{"account": "123456789012"}')).toBe(false);
  });
});

describe('considerations: the last pattern for a field wins', () => {
  // "If multiple patterns are specified for the same JSON field, EventBridge only uses the last one."
  // (event-ruler: JsonRuleCompiler.writeRules puts the field's values withOverriding.)
  it('keeps the later of two duplicate keys', () => {
    expect(m('{"state": ["a"], "state": ["b"]}', '{"state": "b"}')).toBe(true);
    expect(m('{"state": ["a"], "state": ["b"]}', '{"state": "a"}')).toBe(false);
  });
  it('counts a dotted and a nested spelling as the same field', () => {
    const p = '{"detail": {"state": ["a"]}, "detail.state": ["b"]}';
    expect(m(p, '{"detail": {"state": "b"}}')).toBe(true);
    expect(m(p, '{"detail": {"state": "a"}}')).toBe(false);
    const q = '{"detail.state": ["b"], "detail": {"state": ["a"]}}';
    expect(m(q, '{"detail": {"state": "a"}}')).toBe(true);
    expect(m(q, '{"detail": {"state": "b"}}')).toBe(false);
  });
  it('overrides within each $or branch', () => {
    const p = '{"a": ["1"], "$or": [{"a": ["2"]}, {"b": ["3"]}]}';
    expect(m(p, '{"a": "2"}')).toBe(true);
    expect(m(p, '{"a": "1", "b": "3"}')).toBe(true);
    expect(m(p, '{"a": "1"}')).toBe(false);
  });
});

describe('considerations: dot is the joining character', () => {
  // "Be aware that when EventBridge compiles event patterns for use, it uses dot (.) as the joining
  // character." The page's and event-ruler README's ("Caveat: Compiled rules and JSON keys with dots")
  // example: both rules compile alike and both match both events. The README adds that the behaviour
  // "may change in future version"; here it is followed as the engine has it today.
  const rules = ['{"detail": {"state": {"status": ["running"]}}}', '{"detail": {"state.status": ["running"]}}', '{"detail.state.status": ["running"]}', '{"detail.state": {"status": ["running"]}}'];
  const events = [
    '{"detail": {"state": {"status": "running"}}}',
    '{"detail": {"state.status": "running"}}',
    '{"detail.state.status": "running"}',
    '{"detail.state": {"status": "running"}}',
  ];
  for (const rule of rules) {
    for (const event of events) {
      it(`${rule} matches ${event}`, () => {
        expect(m(rule, event)).toBe(true);
        expect(m(rule, event.replace('running', 'stopped'))).toBe(false);
      });
    }
  }
  it('gives a field the values of both spellings when an event has both', () => {
    const event = '{"a": {"b": "x"}, "a.b": "y"}';
    expect(m('{"a": {"b": ["x"]}}', event)).toBe(true);
    expect(m('{"a.b": ["y"]}', event)).toBe(true);
    expect(m('{"a.b": ["z"]}', event)).toBe(false);
    expect(m('{"a": {"b": [{"anything-but": "x"}]}}', event)).toBe(true);
  });
  it('merges sibling fields reached through different spellings', () => {
    expect(m('{"a": {"b": ["1"], "c": ["2"]}}', '{"a": {"c": "2"}, "a.b": "1"}')).toBe(true);
    expect(m('{"a": {"b": ["1"], "c": ["2"]}}', '{"a": {"c": "2"}, "a.b": "0"}')).toBe(false);
    expect(m('{"a": [{"exists": true}], "a.b": ["1"]}', '{"a": "v", "a.b": "1"}')).toBe(true);
  });
  it('lets a dotted field outside an array go with any element of it', () => {
    // event-ruler's array consistency only constrains fields under the same array
    const event = '{"a": [{"b": "1"}, {"b": "2"}], "a.c": "3"}';
    expect(m('{"a": {"b": ["2"], "c": ["3"]}}', event)).toBe(true);
    expect(m('{"a": {"b": ["1"], "c": ["3"]}}', event)).toBe(true);
  });
  it('reads dotted keys inside arrays and keeps their elements apart', () => {
    const event = '{"items": [{"x.y": "1", "z": "a"}, {"x": {"y": "2"}, "z": "b"}]}';
    expect(m('{"items": {"x": {"y": ["1"]}, "z": ["a"]}}', event)).toBe(true);
    expect(m('{"items": {"x.y": ["2"], "z": ["b"]}}', event)).toBe(true);
    expect(m('{"items": {"x.y": ["1"], "z": ["b"]}}', event)).toBe(false);
  });
  it('handles the exists: false of a dotted field', () => {
    expect(m('{"detail.state": [{"exists": false}]}', '{"detail": {"state": "x"}}')).toBe(false);
    expect(m('{"detail": {"state": [{"exists": false}]}}', '{"detail.state": "x"}')).toBe(false);
    expect(m('{"detail": {"state": [{"exists": false}]}}', '{"detail.other": "x"}')).toBe(true);
  });
  it('counts only leaves for exists, whichever spelling reaches them', () => {
    // eb-create-pattern-operators: "Exists matching only works on leaf nodes. It does not work on
    // intermediate nodes." event-ruler has no field for an object, only for its leaves.
    expect(m('{"detail": [{"exists": true}]}', '{"detail": {"state": "x"}}')).toBe(false);
    expect(m('{"detail": [{"exists": false}]}', '{"detail": {"state": "x"}}')).toBe(true);
    expect(m('{"detail": [{"exists": true}]}', '{"detail.state": "x"}')).toBe(false);
    expect(m('{"detail.state": [{"exists": true}]}', '{"detail": {"state": null}}')).toBe(true);
  });
  it('joins names inside $or branches too', () => {
    const p = '{"$or": [{"detail.state": ["a"]}, {"detail": {"code": {"value": [1]}}}]}';
    expect(m(p, '{"detail": {"state": "a"}}')).toBe(true);
    expect(m(p, '{"detail.code.value": 1}')).toBe(true);
    expect(m(p, '{"detail": {"code.value": 2}}')).toBe(false);
  });
  it('is safe with a field named __proto__', () => {
    expect(m('{"a": {"__proto__": ["1"]}}', '{"a.__proto__": "1"}')).toBe(true);
    expect(m('{"a.__proto__": ["1"]}', '{"a": {"__proto__": "1"}}')).toBe(true);
  });
  it('works through TestEventPattern', () => {
    const event = { id: '1', account: '111122223333', source: 'lab', time: '2026-01-01T00:00:00Z', region: 'us-east-1', 'detail-type': 't', detail: { 'state.status': 'running' } };
    expect(testEventPattern('{"detail": {"state": {"status": ["running"]}}}', JSON.stringify(event))).toBe(true);
  });
});

describe('considerations: arrays', () => {
  // eb-event-patterns-arrays: "If the value in the event is an array, then the event pattern matches if
  // the intersection of the event pattern array and the event array is non-empty."
  it('matches when some element matches', () => {
    const event = '{"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f", "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f"]}';
    expect(m('{"resources": ["arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f", "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"]}', event)).toBe(true);
    expect(m('{"resources": ["arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"]}', event)).toBe(false);
  });
  it('matches numbers, booleans and null in arrays, nested arrays flattened', () => {
    expect(m('{"x": [3.0e2]}', '{"x": [1, [2, 300.0]]}')).toBe(true);
    expect(m('{"x": [true]}', '{"x": [false, [true]]}')).toBe(true);
    expect(m('{"x": [null]}', '{"x": ["a", null]}')).toBe(true);
    expect(m('{"x": [{"numeric": [">", 10]}]}', '{"x": [1, 2, 3]}')).toBe(false);
  });
  it('keeps fields of one array element together (event-ruler rulesForJSONEvent)', () => {
    const event = '{"employees": [{"first": "John", "last": "Doe"}, {"first": "Anna", "last": "Smith"}]}';
    expect(m('{"employees": {"first": ["John"], "last": ["Doe"]}}', event)).toBe(true);
    expect(m('{"employees": {"first": ["John"], "last": ["Smith"]}}', event)).toBe(false);
  });
});

describe('limits', () => {
  // event-ruler reads patterns with Jackson, whose StreamReadConstraints (2.15 on) refuse a document nested
  // deeper than 1000 containers ("Document nesting depth (N) exceeds the maximum allowed (1000, from
  // `StreamReadConstraints.getMaxNestingDepth()`)", jackson-core's TestDeepNesting words it so); the
  // exception carries no location and event-ruler does not catch it.
  it('refuses a pattern nested deeper than 1000 containers, without a location', () => {
    const deep = (n: number) => '{"a":'.repeat(n) + '[1]' + '}'.repeat(n);
    expect(() => compilePattern(deep(999))).not.toThrow();
    let message = '';
    try {
      compilePattern(deep(1000));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe('Event pattern is not valid. Reason: Document nesting depth (1001) exceeds the maximum allowed (1000, from `StreamReadConstraints.getMaxNestingDepth()`)');
    expect(() => compilePattern(deep(50_000))).toThrow('Document nesting depth (1001)');
    // a nested array as a match value is refused as soon as it opens, before any depth is reached
    expect(() => compilePattern('{"a": [' + '['.repeat(5000) + ']}')).toThrow('Reason: Match value must be String, number, true, false, or null');
  });
  it('matches events of any depth without exhausting the stack', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(compilePattern({ a: ['x'] }).matches({ a: deep })).toBe(true);
    expect(compilePattern({ a: { b: ['x'] } }).matches({ a: [deep, { b: 'x' }] })).toBe(true);
    expect(compilePattern({ a: [{ exists: false }] }).matches({ a: deep })).toBe(false);
  });
});
