// Conformance: JSON filter patterns. Each case is an example of the AWS page named above its
// describe block, applied to the JSON log event the page gives (on one line, as the page asks).
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/cloud/services/logs/filter-pattern/index.ts';
import { matching } from './helpers.ts';

const hits = (pattern: string, event: unknown) => compile(pattern).test(JSON.stringify(event));

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
// "Using filter patterns to match terms in JSON log events" — "JSON log event" sample.
describe('JSON log events (FilterAndPatternSyntax.html, current edition)', () => {
  const event = {
    eventType: 'UpdateTrail',
    sourceIPAddress: '111.111.111.111',
    arrayKey: ['value', 'another value'],
    objectList: [
      { name: 'a', id: 1 },
      { name: 'b', id: 2 },
    ],
    SomeObject: null,
    'cluster.name': 'c',
  };
  const matches = (p: string) => hits(p, event);

  it('Example: Filter pattern that matches string values', () => {
    expect(matches('{ $.eventType = "UpdateTrail" }')).toBe(true);
    expect(matches('{ $.eventType = "updatetrail" }')).toBe(false);
  });

  it('Example: ... string values (IP address) — { $.sourceIPAddress != 123.123.* }', () => {
    expect(matches('{ $.sourceIPAddress != 123.123.* }')).toBe(true);
    expect(matches('{ $.sourceIPAddress != 111.111.* }')).toBe(false);
  });

  it('Example: ... a specific array element with a string value — { $.arrayKey[0] = "value" }', () => {
    expect(matches('{ $.arrayKey[0] = "value" }')).toBe(true);
    expect(matches('{ $.arrayKey[1] = "value" }')).toBe(false);
  });

  it('Example: ... matches a string using regex — { $.eventType = %Trail% }', () => {
    expect(matches('{ $.eventType = %Trail% }')).toBe(true);
    expect(matches('{ $.eventType = %^Trail% }')).toBe(false);
  });

  it('Example: ... wildcard to match values of any element in the array using regex — { $.arrayKey[*] = %val.{2}% }', () => {
    expect(matches('{ $.arrayKey[*] = %val.{2}% }')).toBe(true);
  });

  it('Example: ... wildcard ... prefix and subnet using regex (IP address) — { $.* = %111\\.111\\.111\\.1[0-9]{1,2}% }', () => {
    expect(matches('{ $.* = %111\\.111\\.111\\.1[0-9]{1,2}% }')).toBe(true);
    expect(matches('{ $.* = %112\\.111% }')).toBe(false);
  });

  it("Example: ... a JSON property with a period (.) in the key — { $.['cluster.name'] = \"c\" }", () => {
    expect(matches("{ $.['cluster.name'] = \"c\" }")).toBe(true);
    expect(matches('{ $.cluster.name = "c" }')).toBe(false);
  });

  it('Example: ... using IS — { $.SomeObject IS NULL }', () => {
    expect(matches('{ $.SomeObject IS NULL }')).toBe(true);
    expect(matches('{ $.eventType IS NULL }')).toBe(false);
    expect(matches('{ $.SomeOtherObject IS NULL }')).toBe(false);
  });

  it('Example: ... using NOT EXISTS — { $.SomeOtherObject NOT EXISTS }', () => {
    expect(matches('{ $.SomeOtherObject NOT EXISTS }')).toBe(true);
    expect(matches('{ $.SomeObject NOT EXISTS }')).toBe(false); // it exists, with the value null
  });

  it('the string and numeric syntax examples compile', () => {
    for (const p of [
      '{ $.bandwidth > 75 }',
      '{ $.latency < 50 }',
      '{ $.refreshRate >= 60 }',
      '{ $.responseTime <= 5 }',
      '{ $.errorCode = 400}',
      '{ $.errorCode != 500 }',
      '{ $.number[0] = 1e+3 }',
      '{ $.number[0] != 1e-3 }',
    ]) {
      expect(compile(p).kind, p).toBe('json');
    }
  });

  it('numeric comparisons compare numbers, scientific notation included', () => {
    const m = { bandwidth: 80, latency: 49, refreshRate: 60, responseTime: 5, errorCode: 400, number: [1000] };
    expect(hits('{ $.bandwidth > 75 }', m)).toBe(true);
    expect(hits('{ $.latency < 50 }', m)).toBe(true);
    expect(hits('{ $.refreshRate >= 60 }', m)).toBe(true);
    expect(hits('{ $.responseTime <= 5 }', m)).toBe(true);
    expect(hits('{ $.errorCode = 400}', m)).toBe(true);
    expect(hits('{ $.errorCode != 500 }', m)).toBe(true);
    expect(hits('{ $.number[0] = 1e+3 }', m)).toBe(true);
    expect(hits('{ $.number[0] != 1e-3 }', m)).toBe(true);
    expect(hits('{ $.bandwidth > 80 }', m)).toBe(false);
    expect(hits('{ $.latency < 49 }', m)).toBe(false);
  });
});

// Same page, "JSON object" sample and the compound-expression examples (AND, OR, order of operations).
describe('JSON compound expressions (FilterAndPatternSyntax.html)', () => {
  const event = {
    user: { id: 1, email: 'John.Stiles@example.com' },
    users: [
      { id: 2, email: 'John.Doe@example.com' },
      { id: 3, email: 'Jane.Doe@example.com' },
    ],
    actions: ['GET', 'PUT', 'DELETE'],
    coordinates: [
      [0, 1, 2],
      [4, 5, 6],
      [7, 8, 9],
    ],
  };
  const matches = (p: string) => hits(p, event);

  it('Example: Expression that matches using AND (&&)', () => {
    expect(matches('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }')).toBe(true);
  });

  it('Example: Expression that matches using OR (||) — && binds tighter than ||', () => {
    expect(matches('{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }')).toBe(true);
    // earlier edition, unquoted values
    expect(matches('{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }')).toBe(true);
  });

  it("Example: Expression that doesn't match using AND (&&) — parentheses first", () => {
    expect(matches('{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }')).toBe(false);
  });

  it("Example: Expression that doesn't match using OR (||)", () => {
    expect(matches('{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }')).toBe(false);
  });

  it('nested array indexes reach numbers ($.coordinates[1][2] = 6)', () => {
    expect(matches('{ $.coordinates[1][2] = 6 }')).toBe(true);
    expect(matches('{ $.coordinates[1][3] = 6 || $.coordinates[1][3] != 6 }')).toBe(false); // no element 3
  });
});

// Earlier edition: "JSON Metric Filter Examples", "JSON Special Considerations", "Numeric
// Comparisons", wildcard strings, OR pattern matching (awsdocs/amazon-cloudwatch-logs-user-guide).
describe('JSON log events (FilterAndPatternSyntax, earlier edition)', () => {
  const event = {
    eventType: 'UpdateTrail',
    sourceIPAddress: '111.111.111.111',
    arrayKey: ['value', 'another value'],
    objectList: [
      { name: 'a', id: 1 },
      { name: 'b', id: 2 },
    ],
    SomeObject: null,
    ThisFlag: true,
  };

  it('{ $.objectList[1].id = 2 }, and false when objectList is not an array', () => {
    expect(hits('{ $.objectList[1].id = 2 }', event)).toBe(true);
    expect(hits('{ $.objectList[1].id = 2 }', { objectList: { 1: { id: 2 } } })).toBe(false);
  });

  it('{ $.arrayKey[0] = "value" } is false if arrayKey is not an array', () => {
    expect(hits('{ $.arrayKey[0] = "value" }', { arrayKey: 'value' })).toBe(false);
  });

  it('{ $.ThisFlag IS TRUE } and IS FALSE', () => {
    expect(hits('{ $.ThisFlag IS TRUE }', event)).toBe(true);
    expect(hits('{ $.ThisFlag IS FALSE }', event)).toBe(false);
    expect(hits('{ $.ThisFlag IS FALSE }', { ThisFlag: false })).toBe(true);
    expect(hits('{ $.ThisFlag IS TRUE }', { ThisFlag: 'true' })).toBe(false); // a string is not a boolean
  });

  it('a selector pointing to an array or object matches neither = nor != ({"users": [1, 2, 3]})', () => {
    expect(hits('{$.users = 1}', { users: [1, 2, 3] })).toBe(false);
    expect(hits('{$.users != 1}', { users: [1, 2, 3] })).toBe(false);
    expect(hits('{$.user != 1}', { user: { id: 1 } })).toBe(false);
    expect(hits('{$.missing != 1}', { users: [1] })).toBe(false);
  });

  it('Numeric Comparisons examples', () => {
    const m = { latency: 1500, numbers: [9999], processes: [0, 0, 0, 0, { averageRuntime: 55.5 }], errorCode: 400 };
    expect(hits('{ $.latency >= 500 }', m)).toBe(true);
    expect(hits('{ $.numbers[0] < 10e3 }', m)).toBe(true);
    expect(hits('{ $.numbers[0] < 10e-3 }', m)).toBe(false);
    expect(hits('{ $.processes[4].averageRuntime <= 55.5 }', m)).toBe(true);
    expect(hits('{ $.errorCode = 400 }', m)).toBe(true);
    expect(hits('{ $.errorCode != 500 }', m)).toBe(true);
    expect(hits('{ $.latency > +1000 }', m)).toBe(true);
  });

  it('wildcards: *Event matches PutEvent and GetEvent, Event* matches EventId and EventName, Ev*ent only Ev*ent', () => {
    const names = ['PutEvent', 'GetEvent', 'EventId', 'EventName', 'Ev*ent', 'Evident'];
    const on = (p: string) => names.filter((n) => hits(`{ $.name = ${p} }`, { name: n }));
    expect(on('*Event')).toEqual(['PutEvent', 'GetEvent']);
    expect(on('Event*')).toEqual(['EventId', 'EventName']);
    expect(on('"Ev*ent"')).toEqual(['Ev*ent']);
  });

  it('OR Pattern Matching: {$.foo = bar}, {$.foo = baz }, {$.foo = bar || $.foo = baz }', () => {
    const events = ['{"foo": "bar"}', '{"foo": "baz"}'];
    expect(matching('{$.foo = bar}', events)).toEqual([events[0]]);
    expect(matching('{$.foo = baz }', events)).toEqual([events[1]]);
    expect(matching('{$.foo = bar || $.foo = baz }', events)).toEqual(events);
  });

  it('{ $.latency = * } matches events that have a latency ("Publishing Numerical Values Found in Log Entries")', () => {
    expect(matching('{ $.latency = * }', ['{"latency": 50, "requestType": "GET"}', '{"requestType": "GET"}', 'latency 50'])).toEqual([
      '{"latency": 50, "requestType": "GET"}',
    ]);
  });
});

describe('JSON edge cases', () => {
  it('an event that is not a JSON document never matches a JSON pattern', () => {
    expect(matching('{ $.a = 1 }', ['a=1', '{"a": 1', '', '2024-01-01 INFO {"a": 1}', '{"a": 1}'])).toEqual(['{"a": 1}']);
  });

  it('"" matches only the empty string, "*" any value, = * not null', () => {
    expect(matching('{ $.x = "" }', ['{"x":""}', '{"x":"a"}'])).toEqual(['{"x":""}']);
    expect(matching('{ $.x = "*" }', ['{"x":"a"}', '{"x":3}', '{"x":null}', '{}'])).toEqual(['{"x":"a"}', '{"x":3}']);
  });

  it('numbers written as strings compare as numbers; numbers match string wildcards', () => {
    expect(matching('{ $.code = 400 }', ['{"code":"400"}', '{"code":400}', '{"code":"400a"}'])).toEqual(['{"code":"400"}', '{"code":400}']);
    expect(matching('{ $.code > 399 }', ['{"code":"400"}', '{"code":"abc"}'])).toEqual(['{"code":"400"}']);
    expect(matching('{ $.code = 4* }', ['{"code":404}', '{"code":500}'])).toEqual(['{"code":404}']);
  });

  it('property names are case-sensitive and inherited properties do not exist', () => {
    expect(matching('{ $.Name = a }', ['{"name":"a"}', '{"Name":"a"}'])).toEqual(['{"Name":"a"}']);
    expect(matching('{ $.constructor NOT EXISTS }', ['{}'])).toEqual(['{}']);
  });

  it('several patterns on the same and on different events (the parse of the last event is shared)', () => {
    const a = compile('{ $.k = 1 }');
    const b = compile('{ $.k = 2 }');
    expect([a.test('{"k":1}'), b.test('{"k":1}'), a.test('{"k":2}'), b.test('{"k":2}'), a.test('{"k":1}')]).toEqual([true, false, false, true, true]);
  });
});

// CloudTrail metric filters of the AWS Security Hub controls CloudWatch.1–CloudWatch.14 (CIS AWS
// Foundations Benchmark), https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html
describe('CIS / Security Hub CloudTrail patterns', () => {
  const trail = (o: Record<string, unknown>) => JSON.stringify({ eventVersion: '1.08', eventType: 'AwsApiCall', ...o });

  it('CloudWatch.1 root user: { $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }', () => {
    const p = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }';
    expect(
      matching(p, [
        trail({ userIdentity: { type: 'Root' }, eventName: 'ListBuckets' }),
        trail({ userIdentity: { type: 'Root', invokedBy: 'support.amazonaws.com' } }),
        trail({ userIdentity: { type: 'Root' }, eventType: 'AwsServiceEvent' }),
        trail({ userIdentity: { type: 'IAMUser' } }),
      ]),
    ).toHaveLength(1);
  });

  it('CloudWatch.2 unauthorized API calls: { ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }', () => {
    const p = '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }';
    const events = [
      trail({ errorCode: 'Client.UnauthorizedOperation' }),
      trail({ errorCode: 'AccessDenied' }),
      trail({ errorCode: 'AccessDeniedException' }),
      trail({ errorCode: 'NoSuchBucket' }),
      trail({}),
    ];
    expect(matching(p, events)).toEqual(events.slice(0, 3));
  });

  it('CloudWatch.3 console sign-in without MFA: { ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }', () => {
    const p = '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }';
    const events = [
      trail({ eventName: 'ConsoleLogin', additionalEventData: { MFAUsed: 'No' } }),
      trail({ eventName: 'ConsoleLogin', additionalEventData: { MFAUsed: 'Yes' } }),
      trail({ eventName: 'GetObject', additionalEventData: { MFAUsed: 'No' } }),
    ];
    expect(matching(p, events)).toEqual(events.slice(0, 1));
  });

  it('CloudWatch.5 CloudTrail changes, unquoted event names', () => {
    const p =
      '{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }';
    expect(matching(p, [trail({ eventName: 'StopLogging' }), trail({ eventName: 'LookupEvents' })])).toHaveLength(1);
  });

  it('CloudWatch.7 CMK deletion: { ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }', () => {
    const p = '{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }';
    const events = [
      trail({ eventSource: 'kms.amazonaws.com', eventName: 'ScheduleKeyDeletion' }),
      trail({ eventSource: 'kms.amazonaws.com', eventName: 'Encrypt' }),
      trail({ eventSource: 's3.amazonaws.com', eventName: 'DisableKey' }),
    ];
    expect(matching(p, events)).toEqual(events.slice(0, 1));
  });

  it('CloudWatch.4 IAM policy changes (a long OR of unquoted names) compiles and matches', () => {
    const p =
      '{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}';
    expect(matching(p, [trail({ eventName: 'AttachUserPolicy' }), trail({ eventName: 'ListPolicies' })])).toHaveLength(1);
  });
});
