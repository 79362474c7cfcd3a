// Metric values, default values and dimensions of metric filters.
// Sources: "Filter pattern syntax for metric filters" (FilterAndPatternSyntaxForMetricFilters.html),
// "Example: Extract Fields from an Apache Log" (ExtractBytesExample), MetricTransformation in the API reference.
import { describe, expect, it } from 'vitest';
import {
  compile,
  dimensionValues,
  LogsApiError,
  metricValue,
  validateMetricTransformation,
  type MetricTransformationInput,
} from '../../src/cloud/services/logs/filter-pattern/index.ts';

function publish(pattern: string, events: string[], t: MetricTransformationInput): (number | undefined)[] {
  const p = compile(pattern);
  return events.map((e) => metricValue(p, p.match(e), t));
}

function refusal(pattern: string, t: MetricTransformationInput): LogsApiError {
  try {
    validateMetricTransformation(compile(pattern), t);
  } catch (e) {
    expect(e).toBeInstanceOf(LogsApiError);
    return e as LogsApiError;
  }
  throw new Error('accepted');
}

describe('metric values', () => {
  // "Example: Extract Fields from an Apache Log": metricValue $size (the seventh field, "$7").
  const apache = [
    '127.0.0.1 - - [24/Sep/2013:11:49:52 -0700] "GET /index.html HTTP/1.1" 404 287',
    '127.0.0.1 - - [24/Sep/2013:11:49:52 -0700] "GET /index.html HTTP/1.1" 404 287',
    '127.0.0.1 - - [24/Sep/2013:11:50:51 -0700] "GET /~test/ HTTP/1.1" 200 3',
    '127.0.0.1 - - [24/Sep/2013:11:50:51 -0700] "GET /favicon.ico HTTP/1.1" 404 308',
    '127.0.0.1 - - [24/Sep/2013:11:50:51 -0700] "GET /favicon.ico HTTP/1.1" 404 308',
    '127.0.0.1 - - [24/Sep/2013:11:51:34 -0700] "GET /~test/index.html HTTP/1.1" 200 3',
  ];

  it('$size and $7 read the bytes transferred ([ip, id, user, timestamp, request, status_code, size])', () => {
    const pattern = '[ip, id, user, timestamp, request, status_code, size]';
    expect(publish(pattern, apache, { metricValue: '$size', defaultValue: 0 })).toEqual([287, 287, 3, 308, 308, 3]);
    expect(publish(pattern, apache, { metricValue: '$7' })).toEqual([287, 287, 3, 308, 308, 3]);
  });

  it('"1" counts matches; the default value is published for events that do not match', () => {
    // "... publishes two records every minute and the Metric Value is 1 and the Default Value is 0"
    expect(publish('[..., status_code=404, size]', apache, { metricValue: '1', defaultValue: 0 })).toEqual([1, 1, 0, 1, 1, 0]);
    // "If you don't specify a Default Value, then no data is reported for any periods where no pattern matches are found."
    expect(publish('[..., status_code=404, size]', apache, { metricValue: '1' })).toEqual([1, 1, undefined, 1, 1, undefined]);
    expect(publish('ERROR', ['ERROR x', 'ok'], { metricValue: '2.5', defaultValue: null })).toEqual([2.5, undefined]);
  });

  it('{ $.latency = * } with metricValue $.latency publishes the latency ("Publishing numerical values found in log entries")', () => {
    expect(publish('{ $.latency = * }', ['{"latency": 50, "requestType": "GET"}', '{"requestType": "GET"}'], { metricValue: '$.latency', defaultValue: 0 })).toEqual([
      50, 0,
    ]);
  });

  it('a JSON metric value may name a property the pattern does not test', () => {
    expect(publish('{ $.action = "REJECT" }', ['{"action":"REJECT","bytes":840}'], { metricValue: '$.bytes' })).toEqual([840]);
    expect(publish('{ $.action = "REJECT" }', ['{"action":"REJECT","net":{"bytes":[1,"2e3"]}}'], { metricValue: '$.net.bytes[1]' })).toEqual([2000]);
  });

  it('nothing is published when the field is missing or not a number', () => {
    expect(publish('{ $.a = 1 }', ['{"a":1}', '{"a":1,"b":"x"}', '{"a":1,"b":{"c":1}}'], { metricValue: '$.b', defaultValue: 0 })).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(publish('[a, b]', ['x -'], { metricValue: '$b' })).toEqual([undefined]);
    expect(publish('[a, b]', ['x 5'], { metricValue: '$9' })).toEqual([undefined]);
  });
});

describe('dimensions', () => {
  it('take their values from JSON properties or space-delimited fields', () => {
    const j = compile('{ $.eventName = "ConsoleLogin" }');
    expect(dimensionValues(j, j.match('{"eventName":"ConsoleLogin","sourceIPAddress":"198.51.100.7"}'), { Source: '$.sourceIPAddress', Event: '$.eventName' })).toEqual({
      Source: '198.51.100.7',
      Event: 'ConsoleLogin',
    });
    const d = compile('[ip, user, ..., status_code, bytes]');
    expect(dimensionValues(d, d.match('10.0.0.1 alice GET / 500 12'), { StatusCode: '$status_code' })).toEqual({ StatusCode: '500' });
  });

  it('"will only be published for a metric if the value is found in the log event"', () => {
    const j = compile('{ $.a = 1 }');
    expect(dimensionValues(j, j.match('{"a":1}'), { B: '$.b', A: '$.a' })).toEqual({ A: '1' });
    expect(dimensionValues(j, j.match('{"a":2}'), { A: '$.a' })).toEqual({});
  });
});

describe('validating a metric transformation against its pattern (PutMetricFilter)', () => {
  it('accepts numbers and fields of the pattern', () => {
    expect(() => validateMetricTransformation(compile('ERROR'), { metricValue: '1' })).not.toThrow();
    expect(() => validateMetricTransformation(compile('{ $.latency = * }'), { metricValue: '$.latency' })).not.toThrow();
    expect(() => validateMetricTransformation(compile('[ip, id, user, timestamp, request, status_code, size]'), { metricValue: '$size' })).not.toThrow();
    expect(() => validateMetricTransformation(compile('[ip, id, user, timestamp, request, status_code, size]'), { metricValue: '$7' })).not.toThrow();
  });

  it('refuses a field name without "$" (cfn-lint#1525: `MetricValue: length` is refused, `$length` accepted)', () => {
    const pattern = '[date, time, tag="rh-sched*", x01=throttling, x02="jobs.", ..., x10=Len, x11=of, x12=job, x13="queue*", length]';
    expect(refusal(pattern, { metricValue: 'length' }).code).toBe('InvalidParameterException');
    expect(() => validateMetricTransformation(compile(pattern), { metricValue: '$length' })).not.toThrow();
  });

  it('refuses fields the pattern does not have, and fields of term patterns', () => {
    expect(refusal('[a, b]', { metricValue: '$c' }).hint).toMatch(/\$a, \$b/);
    expect(refusal('ERROR', { metricValue: '$.latency' }).hint).toMatch(/must be a number/);
    expect(refusal('{ $.a = 1 }', { metricValue: '$a b' }).hint).toMatch(/property selector/);
    expect(refusal('{ $.a = 1 }', { metricValue: '' }).code).toBe('InvalidParameterException');
  });

  it('"The specified filter pattern does not support dimensions" for term patterns (cloudformation-resource-providers-logs#64: "?ERROR ?WARN")', () => {
    const e = refusal('?ERROR ?WARN', { metricValue: '1', dimensions: { ClusterName: '$.cluster' } });
    expect(e.toAwsJson()).toEqual({ __type: 'InvalidParameterException', message: 'The specified filter pattern does not support dimensions' });
    expect(e.inferred).toBe(false);
    expect(compile('?ERROR ?WARN').supportsDimensions).toBe(false);
    expect(compile('{ $.a = 1 }').supportsDimensions).toBe(true);
  });

  it('at most three dimensions, no default value with dimensions, dimension values are fields', () => {
    const p = '{ $.a = 1 }';
    expect(refusal(p, { metricValue: '1', dimensions: { A: '$.a', B: '$.b', C: '$.c', D: '$.d' } }).hint).toMatch(/three/);
    expect(refusal(p, { metricValue: '1', defaultValue: 0, dimensions: { A: '$.a' } }).hint).toMatch(/defaultValue/);
    expect(refusal(p, { metricValue: '1', dimensions: { A: 'a' } }).hint).toMatch(/dimension value/);
    expect(() => validateMetricTransformation(compile(p), { metricValue: '1', dimensions: { A: '$.a', B: '$.b', C: '$.c' } })).not.toThrow();
  });
});
