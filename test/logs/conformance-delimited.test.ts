// Conformance: space-delimited filter patterns. Each case is an example of the AWS page named
// above its describe block, with the sample events the page gives.
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/cloud/services/logs/filter-pattern/index.ts';
import { matching } from './helpers.ts';

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
// "Using filter patterns to match terms in space-delimited log events"
describe('space-delimited log events (FilterAndPatternSyntax.html, current edition)', () => {
  const event = '127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534';

  it('"Characters between brackets and double quotation marks are considered single fields": seven fields', () => {
    expect(compile('[ip, user, username, timestamp, request, status_code, bytes]').match(event).fields).toEqual({
      $ip: '127.0.0.1',
      $user: 'Prod',
      $username: 'frank',
      $timestamp: '10/Oct/2000:13:25:15 -0700',
      $request: 'GET /index.html HTTP/1.0',
      $status_code: '404',
      $bytes: '1534',
    });
  });

  it('[ip=%127\\.0\\.0\\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]', () => {
    const p = '[ip=%127\\.0\\.0\\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]';
    expect(matching(p, [event])).toEqual([event]);
    expect(matching(p, [event.replace('127.0.0.1', '127.0.0.0')])).toEqual([]); // outside 127.0.0.1–127.0.0.9
    expect(matching(p, [event.replace(' 404 ', ' 200 ')])).toEqual([]);
    expect(matching(p, [event.replace('index.html', 'logo.png')])).toEqual([]);
  });

  it('the ellipsis references the first four unnamed fields: [..., request =*.html*, status_code = 4*, bytes]', () => {
    const p = compile('[..., request =*.html*, status_code = 4*, bytes]');
    expect(p.match(event).fields).toEqual({
      $1: '127.0.0.1',
      $2: 'Prod',
      $3: 'frank',
      $4: '10/Oct/2000:13:25:15 -0700',
      $request: 'GET /index.html HTTP/1.0',
      $status_code: '404',
      $bytes: '1534',
    });
  });

  it('OR inside a field: status_code = 404 || status_code = 410', () => {
    const p = '[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]';
    const e410 = event.replace(' 404 ', ' 410 ');
    const e500 = event.replace(' 404 ', ' 500 ');
    expect(matching(p, [event, e410, e500])).toEqual([event, e410]);
  });

  describe('pattern matching with w1, w2 on the INFO/WARNING/ERROR sample', () => {
    const events = [
      'INFO 09/25/2014 12:00:00 GET /service/resource/67 1200',
      'INFO 09/25/2014 12:00:01 POST /service/resource/67/part/111 1310',
      'WARNING 09/25/2014 12:00:02 Invalid user request',
      'ERROR 09/25/2014 12:00:02 Failed to process request',
    ];
    const [get, post, warning, error] = events;

    it('Example: Match terms in order — [w1=ERROR, w2] returns the events whose first word is ERROR', () => {
      expect(matching('[w1=ERROR, w2]', events)).toEqual([error]);
      // The blank w2 indicator takes the rest of the event.
      expect(compile('[w1=ERROR, w2]').match(error!).fields).toEqual({ $w1: 'ERROR', $w2: '09/25/2014 12:00:02 Failed to process request' });
      // Without it, the one field is the whole event.
      expect(matching('[w1=ERROR]', events)).toEqual([]);
    });

    it('Example: Match terms with AND (&&) and OR (||) — [w1=ERROR || w1=WARNING, w2]', () => {
      expect(matching('[w1=ERROR || w1=WARNING, w2]', events)).toEqual([warning, error]);
    });

    it('Example: Exclude terms from matches — [w1!=ERROR && w1!=WARNING, w2]', () => {
      expect(matching('[w1!=ERROR && w1!=WARNING, w2]', events)).toEqual([get, post]);
    });

    it('Example: Match the top level item in a resource URI', () => {
      expect(matching('[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]', events)).toEqual([get]);
    });

    it('Example: Match the child level item in a resource URI', () => {
      expect(matching('[logLevel, date, time, method, url=%/service/resource/[0-9]+/part/[0-9]+$%, response_time]', events)).toEqual([post]);
    });
  });
});

// Earlier edition, "Using Metric Filters to Extract Values from Space-Delimited Log Events"
// (awsdocs/amazon-cloudwatch-logs-user-guide, doc_source/FilterAndPatternSyntax.md).
describe('space-delimited log events (FilterAndPatternSyntax, earlier edition)', () => {
  const apache = [
    '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534',
    '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324',
    '127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355',
  ];
  const [ok1, err, ok2] = apache;

  it('the ellipsis: [..., status_code, bytes], [ip, user, ..., status_code, bytes], [ip, user, ...]', () => {
    expect(matching('[..., status_code, bytes]', apache)).toEqual(apache);
    expect(matching('[ip, user, ..., status_code, bytes]', apache)).toEqual(apache);
    expect(matching('[ip, user, ...]', apache)).toEqual(apache);
    expect(compile('[ip, user, ..., status_code, bytes]').match(err!).fields).toEqual({
      $ip: '127.0.0.1',
      $user: '-',
      $3: 'frank',
      $4: '10/Oct/2000:13:35:22 -0700',
      $5: 'GET /apache_pb.gif HTTP/1.0',
      $status_code: '500',
      $bytes: '5324',
    });
  });

  it('conditions: bytes > 1000, status_code = 200, status_code = 4*, request = *html*', () => {
    expect(matching('[ip, user, username, timestamp, request, status_code, bytes > 1000]', apache)).toEqual(apache);
    expect(matching('[ip, user, username, timestamp, request, status_code, bytes > 5000]', apache)).toEqual([err]);
    expect(matching('[ip, user, username, timestamp, request, status_code = 200, bytes]', apache)).toEqual([ok1, ok2]);
    expect(matching('[ip, user, username, timestamp, request, status_code = 4*, bytes]', apache)).toEqual([]);
    expect(matching('[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]', apache)).toEqual([]);
    expect(matching('[ip, user, username, timestamp, request = *gif*, status_code = 5*, bytes]', apache)).toEqual([err]);
  });

  it('&& and || on one field: status_code = 4* && status_code != 403; status_code = 403 || status_code = 404', () => {
    const e = (code: string) => apache[0]!.replace(' 200 ', ` ${code} `);
    expect(matching('[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]', [e('403'), e('404'), e('500')])).toEqual([
      e('404'),
    ]);
    expect(matching('[ip, user, username, timestamp, request, status_code = 403 || status_code = 404, bytes]', [e('403'), e('404'), e('410')])).toEqual([
      e('403'),
      e('404'),
    ]);
  });

  it('OR Pattern Matching in space-delimited filters: [w1=ERROR, w2] and [w1=ERROR || w1=WARN, w2] on two-word events', () => {
    // The earlier edition's three events; on the two-word events both editions agree.
    // (That edition also says [w1=ERROR, w2] leaves out "ERROR WARN message"; the current edition
    // has the last field take the rest of the event, and so does this engine.)
    expect(matching('[w1=ERROR, w2]', ['ERROR message', 'WARN message'])).toEqual(['ERROR message']);
    expect(matching('[w1=ERROR || w1=WARN, w2]', ['ERROR message', 'WARN message', 'INFO message'])).toEqual(['ERROR message', 'WARN message']);
  });
});

describe('splitting events into fields', () => {
  it('runs of spaces separate one field; leading and trailing spaces are ignored', () => {
    expect(compile('[a, b, c]').match('  x   y  z  ').fields).toEqual({ $a: 'x', $b: 'y', $c: 'z' });
  });

  it('an event with fewer fields than the pattern does not match', () => {
    expect(matching('[a, b, c]', ['x y', 'x', ''])).toEqual([]);
    expect(matching('[a, b, ..., c, d]', ['1 2 3', '1 2 3 4'])).toEqual(['1 2 3 4']);
  });

  it('an unterminated quote or bracket runs to the end of the event', () => {
    expect(compile('[a, b]').match('x "y z').fields).toEqual({ $a: 'x', $b: 'y z' });
    expect(compile('[a, b]').match('x [y z').fields).toEqual({ $a: 'x', $b: 'y z' });
  });

  it('nested brackets stay in one field', () => {
    expect(compile('[a, b, c]').match('x [y [z] w] v').fields).toEqual({ $a: 'x', $b: 'y [z] w', $c: 'v' });
  });

  it('[] matches every event and extracts every field by position', () => {
    expect(compile('[]').match('a "b c" d').fields).toEqual({ $1: 'a', $2: 'b c', $3: 'd' });
    expect(compile('[]').test('')).toBe(true);
  });

  it('numbers compare as numbers: 1e3 = 1000, 007 > 6; non-numbers fail < and >', () => {
    expect(matching('[a, n = 1000]', ['x 1e3', 'x 1000.0', 'x 1000', 'x 999'])).toEqual(['x 1e3', 'x 1000.0', 'x 1000']);
    expect(matching('[a, n > 6]', ['x 007', 'x -', 'x abc', 'x 6'])).toEqual(['x 007']);
    expect(matching('[a, n != 5]', ['x -', 'x 5', 'x 6'])).toEqual(['x -', 'x 6']);
  });
});
