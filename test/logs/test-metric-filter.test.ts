// TestMetricFilter: the response body, from the examples of the CloudWatch Logs API reference
// (TestMetricFilter, "Test a metric filter pattern on Apache access.log events ...", as kept in
// amazonka-cloudwatch-logs' Network.AWS.CloudWatchLogs.TestMetricFilter) and the AWS CLI reference
// (awscli/examples/logs/test-metric-filter.rst).
//
// Event numbers: the 2014 API reference numbered the first message 0; the current AWS CLI example
// shows eventNumber 1 for the first message, which is what AWS answers today and what this engine does.
import { describe, expect, it } from 'vitest';
import { InvalidFilterPatternError, LogsApiError, testMetricFilter } from '../../src/cloud/services/logs/filter-pattern/index.ts';

const apache = [
  '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534',
  '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324',
  '127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355',
];

describe('TestMetricFilter response (API reference examples)', () => {
  it('Test a metric filter pattern on Apache access.log events: [ip, identity, user_id, timestamp, request, status_code, size]', () => {
    const r = testMetricFilter('[ip, identity, user_id, timestamp, request, status_code, size]', apache);
    expect(r).toEqual({
      matches: [
        {
          eventNumber: 1,
          eventMessage: apache[0],
          extractedValues: {
            $status_code: '200',
            $identity: '-',
            $request: 'GET /apache_pb.gif HTTP/1.0',
            $size: '1534',
            $user_id: 'frank',
            $ip: '127.0.0.1',
            $timestamp: '10/Oct/2000:13:25:15 -0700',
          },
        },
        {
          eventNumber: 2,
          eventMessage: apache[1],
          extractedValues: {
            $status_code: '500',
            $identity: '-',
            $request: 'GET /apache_pb.gif HTTP/1.0',
            $size: '5324',
            $user_id: 'frank',
            $ip: '127.0.0.1',
            $timestamp: '10/Oct/2000:13:35:22 -0700',
          },
        },
        {
          eventNumber: 3,
          eventMessage: apache[2],
          extractedValues: {
            $status_code: '200',
            $identity: '-',
            $request: 'GET /apache_pb.gif HTTP/1.0',
            $size: '4355',
            $user_id: 'frank',
            $ip: '127.0.0.1',
            $timestamp: '10/Oct/2000:13:50:35 -0700',
          },
        },
      ],
    });
  });

  it('... without specifying all the fields: [..., size] gives $1..$6 by position and $size', () => {
    const r = testMetricFilter('[..., size]', apache);
    expect(r.matches[1]).toEqual({
      eventNumber: 2,
      eventMessage: apache[1],
      extractedValues: {
        $size: '5324',
        $6: '500',
        $4: '10/Oct/2000:13:35:22 -0700',
        $5: 'GET /apache_pb.gif HTTP/1.0',
        $2: '-',
        $3: 'frank',
        $1: '127.0.0.1',
      },
    });
    expect(r.matches).toHaveLength(3);
  });

  it('... without specifying any fields: [] gives $1..$7', () => {
    const r = testMetricFilter('[]', apache);
    expect(r.matches.map((m) => m.extractedValues)).toEqual(
      [
        ['1534', '200', '10/Oct/2000:13:25:15 -0700'],
        ['5324', '500', '10/Oct/2000:13:35:22 -0700'],
        ['4355', '200', '10/Oct/2000:13:50:35 -0700'],
      ].map(([size, code, ts]) => ({ $7: size, $6: code, $4: ts, $5: 'GET /apache_pb.gif HTTP/1.0', $2: '-', $3: 'frank', $1: '127.0.0.1' })),
    );
  });

  it('... that matches successful requests: [..., status_code=200, size] matches events 1 and 3', () => {
    const r = testMetricFilter('[..., status_code=200, size]', apache);
    expect(r.matches.map((m) => m.eventNumber)).toEqual([1, 3]);
    expect(r.matches[0]!.extractedValues).toEqual({
      $status_code: '200',
      $size: '1534',
      $4: '10/Oct/2000:13:25:15 -0700',
      $5: 'GET /apache_pb.gif HTTP/1.0',
      $2: '-',
      $3: 'frank',
      $1: '127.0.0.1',
    });
  });

  it('... that matches 4XX response codes for html pages: [..., request=*.html*, status_code=4*,]', () => {
    const messages = [
      '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534',
      '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /about-us/index.html HTTP/1.0" 200 5324',
      '127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 404 4355',
      '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /products/index.html HTTP/1.0" 400 1534',
    ];
    expect(testMetricFilter('[..., request=*.html*, status_code=4*,]', messages)).toEqual({
      matches: [
        {
          eventNumber: 1,
          eventMessage: messages[0],
          extractedValues: {
            $status_code: '404',
            $request: 'GET /index.html HTTP/1.0',
            $7: '1534',
            $4: '10/Oct/2000:13:25:15 -0700',
            $2: '-',
            $3: 'frank',
            $1: '127.0.0.1',
          },
        },
        {
          eventNumber: 4,
          eventMessage: messages[3],
          extractedValues: {
            $status_code: '400',
            $request: 'GET /products/index.html HTTP/1.0',
            $7: '1534',
            $4: '10/Oct/2000:13:25:15 -0700',
            $2: '-',
            $3: 'frank',
            $1: '127.0.0.1',
          },
        },
      ],
    });
  });

  it('... occurrences of "[ERROR]": term patterns extract nothing', () => {
    const log = [
      '02 May 2014 00:34:12,525 [INFO] Starting the application',
      '02 May 2014 00:35:14,245 [DEBUG] Database connection established',
      '02 May 2014 00:34:14,663 [INFO] Executing SQL Query',
      '02 May 2014 00:34:16,142 [ERROR] Unhanded exception: InvalidQueryException',
      '02 May 2014 00:34:16,224 [ERROR] Terminating the application',
    ];
    expect(testMetricFilter('"[ERROR]"', log)).toEqual({
      matches: [
        { eventNumber: 4, eventMessage: log[3], extractedValues: {} },
        { eventNumber: 5, eventMessage: log[4], extractedValues: {} },
      ],
    });
    expect(testMetricFilter('"[ERROR]" Exception', log).matches.map((m) => m.eventNumber)).toEqual([4]);
  });
});

describe('TestMetricFilter response (AWS CLI reference example)', () => {
  it('aws logs test-metric-filter --filter-pattern ERROR: eventNumber starts at 1', () => {
    expect(testMetricFilter('ERROR', ['[ERROR] 400 BAD REQUEST', '[ERROR] 400 BAD REQUEST', '[INFO] 200 OK'])).toEqual({
      matches: [
        { eventNumber: 1, eventMessage: '[ERROR] 400 BAD REQUEST', extractedValues: {} },
        { eventNumber: 2, eventMessage: '[ERROR] 400 BAD REQUEST', extractedValues: {} },
      ],
    });
  });
});

describe('TestMetricFilter with JSON patterns', () => {
  it('extracts each property selector of the pattern that reaches a value, as a string', () => {
    const events = [
      '{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"No"},"responseElements":{"ConsoleLogin":"Success"},"latency":12}',
      '{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"Yes"}}',
    ];
    expect(testMetricFilter('{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && $.latency >= 0 }', events)).toEqual({
      matches: [
        {
          eventNumber: 1,
          eventMessage: events[0],
          extractedValues: { '$.eventName': 'ConsoleLogin', '$.additionalEventData.MFAUsed': 'No', '$.latency': '12' },
        },
      ],
    });
  });

  it('a wildcard selector extracts the element that matched; NOT EXISTS extracts nothing', () => {
    const r = testMetricFilter('{ $.arrayKey[*] = "another value" && $.missing NOT EXISTS }', ['{"arrayKey":["value","another value"]}']);
    expect(r.matches[0]!.extractedValues).toEqual({ '$.arrayKey[*]': 'another value' });
  });
});

describe('TestMetricFilter errors', () => {
  it('an invalid pattern: InvalidParameterException "Invalid metric filter pattern"', () => {
    expect(() => testMetricFilter('{ $.a = }', ['x'])).toThrow(InvalidFilterPatternError);
    try {
      testMetricFilter('{ $.a = }', ['x']);
    } catch (e) {
      expect((e as InvalidFilterPatternError).toAwsJson()).toEqual({ __type: 'InvalidParameterException', message: 'Invalid metric filter pattern' });
    }
  });

  it('1 to 50 messages', () => {
    expect(() => testMetricFilter('ERROR', [])).toThrow(LogsApiError);
    expect(() => testMetricFilter('ERROR', Array.from({ length: 51 }, () => 'ERROR'))).toThrow(LogsApiError);
    expect(testMetricFilter('ERROR', Array.from({ length: 50 }, () => 'ERROR')).matches).toHaveLength(50);
  });

  it('no match gives an empty list', () => {
    expect(testMetricFilter('WARN', ['ERROR'])).toEqual({ matches: [] });
  });
});
