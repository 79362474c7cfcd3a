import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  compilePattern,
  InvalidEventPatternException,
  EventValidationException,
  testEventPattern,
} from '../../src/cloud/services/events/pattern/index.ts';
import { parseCidr, ipToHex } from '../../src/cloud/services/events/pattern/ip.ts';
import {
  ANYTHING_BUT_EVENTS,
  ANYTHING_BUT_RULE,
  AWS_VALIDATED_CASES,
  BAD_CIDRS,
  CIDR_RANGES,
  CORRECTNESS_CASES,
  DOC_CASES,
  EVENT_RULER_CASES,
  README_EVENT,
} from './cases.ts';

describe('event patterns: conformance', () => {
  for (const c of [...DOC_CASES, ...AWS_VALIDATED_CASES, ...EVENT_RULER_CASES]) {
    it(`${c.source}: ${c.name}`, () => {
      expect(compilePattern(c.pattern).matches(c.event)).toBe(c.match);
      // the same through the JSON text path
      expect(compilePattern(JSON.stringify(c.pattern)).matches(JSON.parse(JSON.stringify(c.event)))).toBe(c.match);
    });
  }

  it('event-ruler RulerTest: anything-but rule against eight events', () => {
    const p = compilePattern(ANYTHING_BUT_RULE);
    expect(ANYTHING_BUT_EVENTS.map(([e]) => p.matches(e))).toEqual(ANYTHING_BUT_EVENTS.map(([, m]) => m));
  });

  for (const [name, rule, event, match] of CORRECTNESS_CASES) {
    it(`event-ruler correctness-cases.json: ${name}`, () => {
      expect(compilePattern(rule).matches(event)).toBe(match);
    });
  }
});

describe('event patterns: numbers', () => {
  it('compares numbers with six decimal places', () => {
    expect(compilePattern({ x: [{ numeric: ['=', 0.3] }] }).matches({ x: 0.1 + 0.2 })).toBe(true);
    expect(compilePattern({ x: [{ numeric: ['>', 1] }] }).matches({ x: 1.000001 })).toBe(true);
    expect(compilePattern({ x: [{ numeric: ['>', 1] }] }).matches({ x: 1.0000001 })).toBe(false);
    expect(compilePattern({ x: [3.018e2] }).matches({ x: 301.8 })).toBe(true);
  });

  it('matches numbers beyond the numeric range only by value equality', () => {
    // an account id written as a number: not a ComparableNumber, still an exact match
    expect(compilePattern({ account: [123456789012] }).matches({ account: 123456789012 })).toBe(true);
    expect(compilePattern({ x: [{ numeric: ['<', 10] }] }).matches({ x: -6e9 })).toBe(false);
  });

  it('does not match numbers against strings or strings against numbers', () => {
    expect(compilePattern({ x: ['5'] }).matches({ x: 5 })).toBe(false);
    expect(compilePattern({ x: [5] }).matches({ x: '5' })).toBe(false);
    expect(compilePattern({ x: [{ 'anything-but': [5] }] }).matches({ x: '5' })).toBe(true);
    expect(compilePattern({ x: [{ 'anything-but': ['5'] }] }).matches({ x: 5 })).toBe(true);
  });

  it('matches booleans and null as literals', () => {
    expect(compilePattern({ x: [true] }).matches({ x: true })).toBe(true);
    expect(compilePattern({ x: [false] }).matches({ x: 'false' })).toBe(false);
    expect(compilePattern({ x: [null] }).matches({})).toBe(false);
    expect(compilePattern({ x: [{ exists: true }] }).matches({ x: null })).toBe(true);
  });
});

describe('event patterns: IP addresses (event-ruler CIDRTest)', () => {
  for (const [cidr, bottom, top] of CIDR_RANGES) {
    it(`range of ${cidr}`, () => expect(parseCidr(cidr)).toEqual({ bottom, top }));
  }
  for (const bad of BAD_CIDRS) {
    it(`refuses ${bad}`, () => expect(() => compilePattern({ ip: [{ cidr: bad }] })).toThrow(InvalidEventPatternException));
  }
  it('refuses /32 like event-ruler ("IPv4 mask bits must be < 32")', () => {
    expect(() => compilePattern({ ip: [{ cidr: '10.0.0.1/32' }] })).toThrow('Event pattern is not valid. Reason: IPv4 mask bits must be < 32');
  });
  it('reads addresses into hex (TestToString)', () => {
    expect(ipToHex('2001:db8::ff00:42:8329')).toBe('20010DB8000000000000FF0000428329');
    expect(ipToHex('54.240.196.171')).toBe('36F0C4AB');
    expect(ipToHex('700.168.0.1')).toBeUndefined();
    expect(ipToHex('snorkle')).toBeUndefined();
  });
  it('matches an IP-literal pattern value by address, not by spelling', () => {
    expect(compilePattern({ ip: ['2001:db8::1'] }).matches({ ip: '2001:0db8:0000:0000:0000:0000:0000:0001' })).toBe(true);
    expect(compilePattern({ ip: ['10.0.0.1'] }).matches({ ip: '10.0.0.2' })).toBe(false);
  });
  it('uses the address as written as the bottom of the block', () => {
    const p = compilePattern({ ip: [{ cidr: '10.0.0.5/24' }] });
    expect(p.matches({ ip: '10.0.0.4' })).toBe(false);
    expect(p.matches({ ip: '10.0.0.255' })).toBe(true);
  });
  it('keeps address families apart', () => {
    expect(compilePattern({ ip: [{ cidr: '::/0' }] }).matches({ ip: '10.0.0.1' })).toBe(false);
  });
});

// Messages recorded from AWS (LocalStack's tests/aws/services/events/test_events_patterns.snapshot.json,
// "MessageRaw", with LocalStack's <partition>/<region> placeholders put back).
const AWS_ERRORS: [string, string][] = [
  ['{"int": 42}', 'Event pattern is not valid. Reason: "int" must be an object or an array\n at [Source: (String)"{"int": 42}"; line: 1, column: 11]'],
  [
    '{"detail": {"equal": [{"NUMERIC": ["=", 5]}]}}',
    'Event pattern is not valid. Reason: Unrecognized match type NUMERIC\n at [Source: (String)"{"detail": {"equal": [{"NUMERIC": ["=", 5]}]}}"; line: 1, column: 36]',
  ],
  ['{"string": "my-value"}', 'Event pattern is not valid. Reason: "string" must be an object or an array\n at [Source: (String)"{"string": "my-value"}"; line: 1, column: 13]'],
  ['{"resources": []}', 'Event pattern is not valid. Reason: Empty arrays are not allowed\n at [Source: (String)"{"resources": []}"; line: 1, column: 17]'],
  ['{"my_key": [{"EXISTS": true}]}', 'Event pattern is not valid. Reason: Unrecognized match type EXISTS\n at [Source: (String)"{"my_key": [{"EXISTS": true}]}"; line: 1, column: 28]'],
  [
    '{"detail": {"c-count": [{"numeric": [">", 0, ">", 0]}]}}',
    'Event pattern is not valid. Reason: Bad numeric range operator: >\n at [Source: (String)"{"detail": {"c-count": [{"numeric": [">", 0, ">", 0]}]}}"; line: 1, column: 49]',
  ],
  [
    '{"detail": {"c-count": [{"numeric": [">", 0, "<"]}]}}',
    'Event pattern is not valid. Reason: Value of < must be numeric\n at [Source: (String)"{"detail": {"c-count": [{"numeric": [">", 0, "<"]}]}}"; line: 1, column: 50]',
  ],
  [
    '{"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:**:event-bus/*"}]}',
    'Event pattern is not valid. Reason: Consecutive wildcard characters at pos 26\n at [Source: (String)"{"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:**:event-bus/*"}]}"; line: 1, column: 72]',
  ],
  [
    '{"detail-type": [{"equals-ignore-case": ["ec2 instance state-change notification"]}]}',
    'Event pattern is not valid. Reason: equals-ignore-case match pattern must be a string\n at [Source: (String)"{"detail-type": [{"equals-ignore-case": ["ec2 instance state-change notification"]}]}"; line: 1, column: 42]',
  ],
  ['{"detail": {"sourceIPAddress": [{"cidr": "bad-type"}]}}', "Event pattern is not valid. Reason: Malformed CIDR, one '/' required"],
  [
    '{"detail": {"state": [{"anything-but": {"equals-ignore-case": 123}}]}}',
    'Event pattern is not valid. Reason: Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.\n at [Source: (String)"{"detail": {"state": [{"anything-but": {"equals-ignore-case": 123}}]}}"; line: 1, column: 66]',
  ],
  [
    '{"detail": {"state": [{"anything-but": {"equals-ignore-case": [123, 456]}}]}}',
    'Event pattern is not valid. Reason: Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.\n at [Source: (String)"{"detail": {"state": [{"anything-but": {"equals-ignore-case": [123, 456]}}]}}"; line: 1, column: 67]\n at [Source: (String)"{"detail": {"state": [{"anything-but": {"equals-ignore-case": [123, 456]}}]}}"; line: 1, column: 67]',
  ],
  [
    '{"detail-type": [{"equals-ignore-case": {"prefix": "ec2"}}]}',
    'Event pattern is not valid. Reason: equals-ignore-case match pattern must be a string\n at [Source: (String)"{"detail-type": [{"equals-ignore-case": {"prefix": "ec2"}}]}"; line: 1, column: 42]',
  ],
  [
    'this is valid json but not a dict',
    "Event pattern is not valid. Reason: Unrecognized token 'this': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: (String)\"this is valid json but not a dict\"; line: 1, column: 5]",
  ],
  [
    "{'bad': 'quotation'}",
    "Event pattern is not valid. Reason: Unexpected character (''' (code 39)): was expecting double-quote to start field name\n at [Source: (String)\"{'bad': 'quotation'}\"; line: 1, column: 2]",
  ],
  [
    '{"not": closed mark"',
    "Event pattern is not valid. Reason: Unrecognized token 'closed': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: (String)\"{\"not\": closed mark\"\"; line: 1, column: 15]",
  ],
  [
    '["not", "a", "dict", "but valid json"]',
    'Event pattern is not valid. Reason: Filter is not an object\n at [Source: (String)"["not", "a", "dict", "but valid json"]"; line: 1, column: 2]',
  ],
  ['{"EventBusArn": [{"wildcard": 123}]}', 'Event pattern is not valid. Reason: wildcard match pattern must be a string\n at [Source: (String)"{"EventBusArn": [{"wildcard": 123}]}"; line: 1, column: 34]'],
  [
    '{"EventBusArn": [{"wildcard": ["arn:aws:events:us-east-1:**:event-bus/*"]}]}',
    'Event pattern is not valid. Reason: wildcard match pattern must be a string\n at [Source: (String)"{"EventBusArn": [{"wildcard": ["arn:aws:events:us-east-1:**:event-bus/*"]}]}"; line: 1, column: 32]',
  ],
  [
    '{"detail": {"state": [{"anything-but": {"wildcard": [123, "*/dir/*"]}}]}}',
    'Event pattern is not valid. Reason: wildcard match pattern must be a string\n at [Source: (String)"{"detail": {"state": [{"anything-but": {"wildcard": [123, "*/dir/*"]}}]}}"; line: 1, column: 57]\n at [Source: (String)"{"detail": {"state": [{"anything-but": {"wildcard": [123, "*/dir/*"]}}]}}"; line: 1, column: 57]',
  ],
  [
    '{"detail": {"FilePath": [{"anything-but": {"wildcard": 123}}]}}',
    'Event pattern is not valid. Reason: wildcard match pattern must be a string\n at [Source: (String)"{"detail": {"FilePath": [{"anything-but": {"wildcard": 123}}]}}"; line: 1, column: 59]',
  ],
  [
    '{"detail": {"FileName": [{"anything-but": {"suffix": [123, ".txt"]}}]}}',
    'Event pattern is not valid. Reason: prefix/suffix match pattern must be a string\n at [Source: (String)"{"detail": {"FileName": [{"anything-but": {"suffix": [123, ".txt"]}}]}}"; line: 1, column: 58]\n at [Source: (String)"{"detail": {"FileName": [{"anything-but": {"suffix": [123, ".txt"]}}]}}"; line: 1, column: 58]',
  ],
  [
    '{"detail": {"FileName": [{"anything-but": {"suffix": 123}}]}}',
    'Event pattern is not valid. Reason: prefix/suffix match pattern must be a string\n at [Source: (String)"{"detail": {"FileName": [{"anything-but": {"suffix": 123}}]}}"; line: 1, column: 57]',
  ],
  [
    '{"detail": {"state": [{"anything-but": {"prefix": [123, "test"]}}]}}',
    'Event pattern is not valid. Reason: prefix/suffix match pattern must be a string\n at [Source: (String)"{"detail": {"state": [{"anything-but": {"prefix": [123, "test"]}}]}}"; line: 1, column: 55]\n at [Source: (String)"{"detail": {"state": [{"anything-but": {"prefix": [123, "test"]}}]}}"; line: 1, column: 55]',
  ],
  [
    '{"detail": {"state": [{"anything-but": {"prefix": 123}}]}}',
    'Event pattern is not valid. Reason: prefix/suffix match pattern must be a string\n at [Source: (String)"{"detail": {"state": [{"anything-but": {"prefix": 123}}]}}"; line: 1, column: 54]',
  ],
  ['{"time": [{"prefix": ["2022-07-13"]}]}', 'Event pattern is not valid. Reason: prefix match pattern must be a string\n at [Source: (String)"{"time": [{"prefix": ["2022-07-13"]}]}"; line: 1, column: 23]'],
  ['{"time": [{"prefix": 123}]}', 'Event pattern is not valid. Reason: prefix match pattern must be a string\n at [Source: (String)"{"time": [{"prefix": 123}]}"; line: 1, column: 25]'],
  ['{"FileName": [{"suffix": 123}]}', 'Event pattern is not valid. Reason: suffix match pattern must be a string\n at [Source: (String)"{"FileName": [{"suffix": 123}]}"; line: 1, column: 29]'],
  ['{"FileName": [{"suffix": [".png"]}]}', 'Event pattern is not valid. Reason: suffix match pattern must be a string\n at [Source: (String)"{"FileName": [{"suffix": [".png"]}]}"; line: 1, column: 27]'],
  [
    '{"detail": {"FileName": [{"anything-but": {"prefix": {"equals-ignore-case": "file"}}}]}}',
    'Event pattern is not valid. Reason: Value of anything-but must be an array or single string/number value.\n at [Source: (String)"{"detail": {"FileName": [{"anything-but": {"prefix": {"equals-ignore-case": "file"}}}]}}"; line: 1, column: 55]',
  ],
  [
    '{"detail": {"FileName": [{"anything-but": {"suffix": {"equals-ignore-case": ".png"}}}]}}',
    'Event pattern is not valid. Reason: Value of anything-but must be an array or single string/number value.\n at [Source: (String)"{"detail": {"FileName": [{"anything-but": {"suffix": {"equals-ignore-case": ".png"}}}]}}"; line: 1, column: 55]',
  ],
  ['{"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/xx"}]}}', 'Event pattern is not valid. Reason: Malformed CIDR, mask bits must be an integer'],
  ['{"detail": {"sourceIPAddress": [{"cidr": "xx.11.xx/24"}]}}', 'Event pattern is not valid. Reason: Nonstandard IP address: xx.11.xx'],
  [
    '{"detail": {"sourceIPAddress": [{"cidr": ["bad-type"]}]}}',
    'Event pattern is not valid. Reason: prefix match pattern must be a string\n at [Source: (String)"{"detail": {"sourceIPAddress": [{"cidr": ["bad-type"]}]}}"; line: 1, column: 43]',
  ],
  ['{"detail": {"sourceIPAddress": [{"cidr": "xxxx:db8:1234:1a00::/64"}]}}', 'Event pattern is not valid. Reason: Nonstandard IP address: xxxx:db8:1234:1a00::'],
  // cloud-custodian issue 6507, from PutRule
  [
    '{"source": ["aws.health"], "detail": {}}',
    'Event pattern is not valid. Reason: Empty objects are not allowed\n at [Source: (String)"{"source": ["aws.health"], "detail": {}}"; line: 1, column: 40]',
  ],
];

describe('event patterns: invalid patterns (messages recorded from AWS)', () => {
  for (const [pattern, message] of AWS_ERRORS) {
    it(pattern, () => {
      let err: unknown;
      try {
        compilePattern(pattern);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidEventPatternException);
      expect((err as InvalidEventPatternException).message).toBe(message);
      expect((err as InvalidEventPatternException).code).toBe('InvalidEventPatternException');
      expect((err as InvalidEventPatternException).status).toBe(400);
    });
  }

  it('reports a multi-line location (buildkite docs PR 896)', () => {
    const p = '{\n  "detail-type": [ "Build Started", "Build Finished" ],\n  "detail": {\n    "pipeline": {\n      "slug": "some-pipeline" } } }';
    expect(() => compilePattern(p)).toThrow('Reason: "slug" must be an object or an array\n at [Source: (String)"' + p + '"; line: 5, column: 16]');
  });

  const reasons: [object | string, string][] = [
    [{ a: [{ numeric: ['>', 5, '<', 1] }] }, 'Bottom must be less than top'],
    [{ a: [{ numeric: ['>', 5, '<', 5] }] }, 'Bottom must be less than top'],
    [{ a: [{ numeric: ['<', 5, '>', 1] }] }, 'Too many elements in numeric expression'],
    [{ a: [{ numeric: ['>', 1, '<', 5, 6] }] }, 'Too many terms in numeric range expression'],
    [{ a: [{ numeric: [] }] }, 'Invalid member in numeric match: ]'],
    [{ a: [{ numeric: ['!=', 1] }] }, 'Unrecognized numeric range operator: !='],
    [{ a: [{ numeric: ['>', 6e9] }] }, 'Value must be between -5.0E9 and 5.0E9, inclusive'],
    [{ a: [{ numeric: '>' }] }, 'Value of numeric must be an array.'],
    [{ a: [{ exists: 'true' }] }, 'exists match pattern must be either true or false.'],
    [{ a: [{ prefix: 'x', suffix: 'y' }] }, 'Only one key allowed in match expression'],
    [{ a: [{}] }, 'Match expression name not found'],
    [{ a: [[1]] }, 'Match value must be String, number, true, false, or null'],
    [{ a: [{ 'anything-but': [] }] }, 'Inside anything but list, either all values are number or string, mixed type is not supported'],
    [{ a: [{ 'anything-but': ['a', 1] }] }, 'Inside anything but list, either all values are number or string, mixed type is not supported'],
    [{ a: [{ 'anything-but': [null] }] }, 'Inside anything but list, start|null|boolean is not supported.'],
    [{ a: [{ 'anything-but': null }] }, 'Value of anything-but must be an array or single string/number value.'],
    [{ a: [{ 'anything-but': { contains: 'x' } }] }, 'Unsupported anything-but pattern: contains'],
    [{ a: [{ 'anything-but': { prefix: '' } }] }, 'Null prefix/suffix not allowed'],
    [{ a: [{ prefix: { 'equals-ignore-case': 'x', b: 1 } }] }, 'Only one key allowed in match expression'],
    [{ a: [{ prefix: { exact: 'x' } }] }, 'Unsupported prefix pattern: exact'],
    [{ a: [{ suffix: {} }] }, 'Suffix expression name not found'],
    [{ a: [{ wildcard: 'a\\b' }] }, 'Invalid escape character at pos 2'],
    [{ a: [{ wildcard: 'ab\\' }] }, 'Invalid escape character at pos 3'],
    [{ a: [{ 'anything-but': { wildcard: ['ok*', 'x**'] } }] }, 'Consecutive wildcard characters at pos 2'],
    [{ a: [{ contains: 'x' }] }, 'Unrecognized match type contains'],
    [{ $or: [{ a: [1] }] }, 'There must have at least 2 Objects in $or relationship.'],
    [{ $or: { a: [1] } }, 'It must be an Array followed with $or.'],
    [{ $or: [{ a: [1] }, 'b'] }, 'Only JSON object is allowed in array of $or relationship.'],
    [{ $or: [{ a: [1] }, { numeric: [1] }] }, 'numeric is Ruler reserved fieldName which cannot be used inside $or.'],
    [{ $or: [{ a: [1] }, { b: { prefix: [1] } }] }, 'prefix is Ruler reserved fieldName which cannot be used inside $or.'],
    ['', 'Filter is not an object'],
    ['{"a": [1}', "Unexpected character ('}' (code 125)): was expecting comma to separate Array entries"],
    ['{"a" [1]}', "Unexpected character ('[' (code 91)): was expecting a colon to separate field name and value"],
    ['{"a": [1]', 'Unexpected end-of-input: expected close marker for Object'],
  ];
  for (const [pattern, reason] of reasons) {
    it(`refuses ${typeof pattern === 'string' ? JSON.stringify(pattern) : JSON.stringify(pattern)}`, () => {
      expect(() => compilePattern(pattern)).toThrow(`Event pattern is not valid. Reason: ${reason}`);
    });
  }

  it('lets a later duplicate key override (event-ruler withOverriding)', () => {
    const p = compilePattern('{"a": ["x"], "a": ["y"]}');
    expect(p.matches({ a: 'y' })).toBe(true);
    expect(p.matches({ a: 'x' })).toBe(false);
  });

  it('accepts a non-ASCII wildcard and reports byte positions', () => {
    expect(compilePattern({ a: [{ wildcard: 'é*x' }] }).matches({ a: 'éabcx' })).toBe(true);
    expect(() => compilePattern({ a: [{ wildcard: 'é**' }] })).toThrow('Consecutive wildcard characters at pos 3');
  });
});

describe('TestEventPattern', () => {
  const event = { ...README_EVENT };

  it('answers true and false (LocalStack test_event_pattern_source, recorded against AWS)', () => {
    const e = { id: '1', source: 'order', 'detail-type': 'Test', account: '123456789012', region: 'us-east-1', time: '2024-07-11T13:55:39Z' };
    expect(testEventPattern({ source: ['order'], 'detail-type': ['Test'] }, JSON.stringify(e))).toBe(true);
    expect(testEventPattern({ source: ['shipment'], 'detail-type': ['Test'] }, JSON.stringify(e))).toBe(false);
  });

  it('accepts an event without resources (as AWS does, though the reference lists it)', () => {
    const { resources: _drop, ...noResources } = event;
    expect(testEventPattern({ source: ['aws.ec2'] }, JSON.stringify(noResources))).toBe(true);
    expect(() => testEventPattern({ source: ['aws.ec2'] }, JSON.stringify(noResources), { requireResources: true })).toThrow(EventValidationException);
  });

  for (const field of ['id', 'account', 'source', 'time', 'region', 'detail-type']) {
    it(`refuses an event without ${field}`, () => {
      const e: Record<string, unknown> = { ...event };
      delete e[field];
      let err: unknown;
      try {
        testEventPattern({ source: ['aws.ec2'] }, JSON.stringify(e));
      } catch (x) {
        err = x;
      }
      expect(err).toBeInstanceOf(EventValidationException);
      expect((err as EventValidationException).code).toBe('ValidationException');
      expect((err as EventValidationException).message).toBe('Parameter Event is not valid.');
    });
  }

  it('refuses a plain string and a JSON array as the event', () => {
    expect(() => testEventPattern({ a: [1] }, 'plain string')).toThrow('Parameter Event is not valid.');
    expect(() => testEventPattern({ a: [1] }, '[1]')).toThrow('Parameter Event is not valid.');
  });

  it('checks the pattern before the event', () => {
    expect(() => testEventPattern('{"a": 1}', 'not json')).toThrow(InvalidEventPatternException);
  });

  it('accepts a compiled pattern', () => {
    const p = compilePattern({ detail: { state: ['running'] } });
    expect(testEventPattern(p, event)).toBe(true);
  });
});

describe('event patterns: properties', () => {
  const scalar = fc.oneof(fc.string({ maxLength: 8 }), fc.integer({ min: -1000, max: 1000 }), fc.boolean(), fc.constant(null));
  const eventArb = fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(fc.string({ minLength: 1, maxLength: 3 }), scalar)), {
    minKeys: 1,
    maxKeys: 5,
  });

  it('a pattern listing an event field value matches the event', () => {
    fc.assert(
      fc.property(eventArb, (event) => {
        const [key, value] = Object.entries(event)[0]!;
        const leaf = Array.isArray(value) ? value : value !== null && typeof value === 'object' ? undefined : [value];
        if (!leaf || leaf.length === 0) return;
        expect(compilePattern({ [key]: leaf }).matches(event)).toBe(true);
        expect(compilePattern({ [key]: [{ exists: true }] }).matches(event)).toBe(true);
        expect(compilePattern({ [key]: [{ exists: false }] }).matches(event)).toBe(false);
      }),
    );
  });

  it('anything-but of a value list is the complement of the list for single string values', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 4 }), { minLength: 1, maxLength: 4 }), fc.string({ maxLength: 4 }), (list, v) => {
        const inList = compilePattern({ a: list }).matches({ a: v });
        const notInList = compilePattern({ a: [{ 'anything-but': list }] }).matches({ a: v });
        expect(notInList).toBe(!inList);
      }),
    );
  });

  it('refuses malformed text only with InvalidEventPatternException', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (text) => {
        try {
          compilePattern(text);
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidEventPatternException);
        }
      }),
    );
  });

  it('matches 100,000 events (the time is reported, not judged: bench/ measures speed)', () => {
    const p = compilePattern({
      source: ['aws.ec2'],
      'detail-type': [{ prefix: 'EC2' }],
      detail: { state: [{ 'anything-but': ['pending', 'stopping'] }], 'source-ip': [{ cidr: '10.0.0.0/8' }], 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
    });
    const started = performance.now();
    let n = 0;
    for (let i = 0; i < 100_000; i++) if (p.matches(README_EVENT)) n++;
    const ms = performance.now() - started;
    expect(n).toBe(100_000);
    console.log(`100,000 events matched in ${ms.toFixed(0)} ms`);
  });
});
