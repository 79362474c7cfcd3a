// Patterns AWS refuses, and the shape of the refusal (InvalidParameterException, HTTP 400, JSON 1.1 body).
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/cloud/gateway/api-error.ts';
import { compile, MAX_PATTERN_LENGTH, MESSAGES } from '../../src/cloud/services/logs/filter-pattern/index.ts';
import { refusal } from './helpers.ts';

describe('the refusal', () => {
  it('is an ApiError the gateway can answer with: 400 InvalidParameterException, {__type, message}', () => {
    const e = refusal('{ $.eventName = ConsoleLogin');
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(400);
    expect(e.code).toBe('InvalidParameterException');
    expect(e.toAwsJson()).toEqual({ __type: 'InvalidParameterException', message: MESSAGES.jsonUnclosed });
    expect(e.hint).toMatch(/\{ condition \}/);
  });

  it('words the generic refusal after the operation: "Invalid metric filter pattern" or "Invalid filter pattern"', () => {
    expect(refusal('{ $.a > abc }').message).toBe('Invalid metric filter pattern');
    expect(refusal('{ $.a > abc }', 'TestMetricFilter').message).toBe('Invalid metric filter pattern');
    expect(refusal('{ $.a > abc }', 'FilterLogEvents').message).toBe('Invalid filter pattern');
    expect(refusal('{ $.a > abc }', 'PutSubscriptionFilter').message).toBe('Invalid filter pattern');
  });
});

describe('messages seen from AWS', () => {
  it("a pattern that starts with '{' must end with '}' (jorgebastida/awslogs#210)", () => {
    const e = refusal('{$.kubernetes.namespace_name="abc" && $.kubernetes.container_name="def"');
    expect(e.message).toBe("If a filter pattern starts with '{' it must end with '}'");
    expect(e.inferred).toBe(false);
  });

  it('curly quotes pasted from a word processor: Invalid character(s) in term (serverless-plugin-log-subscription#47)', () => {
    const e = refusal('[timestamp=*Z && request_id=“*-*“ && type && event=“{*“]');
    expect(e.message).toMatch(/^Invalid character\(s\) in term '/);
    expect(refusal('“ERROR”').message).toBe("Invalid character(s) in term '“ERROR”'");
  });

  it('parentheses in a regex, escaped or not: Invalid character(s) in term (modernisation-platform-environments#5137)', () => {
    expect(refusal('%Failed \\(code 5\\)%').message).toMatch(/^Invalid character\(s\) in term/);
  });

  it('conditions naming another field: "Invalid filter pattern" in the console (amazon-cloudwatch-logs-user-guide#21)', () => {
    const e = refusal('[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]', 'FilterLogEvents');
    expect(e.message).toBe('Invalid filter pattern');
    expect(e.hint).toMatch(/'status_code' and 'bytes'/);
  });
});

describe('documented restrictions', () => {
  it('"The variables IS NOT and EXISTS currently aren\'t supported"', () => {
    expect(refusal('{ $.SomeObject IS NOT NULL }').hint).toMatch(/IS NOT/);
    expect(refusal('{ $.SomeObject EXISTS }').hint).toMatch(/EXISTS/);
  });

  it('one wildcard per property selector, three wildcard selectors per pattern', () => {
    expect(refusal('{ $.a[*].b[*] = 1 }').inferred).toBe(true);
    expect(refusal('{ $.*.b.* = 1 }').hint).toMatch(/2 wildcards/);
    expect(() => compile('{ $.a[*] = 1 || $.b[*] = 2 || $.* = 3 }')).not.toThrow();
    expect(refusal('{ $.a[*] = 1 || $.b[*] = 2 || $.* = 3 || $.c[*] = 4 }').hint).toMatch(/4 wildcard selectors/);
  });

  it('two regexes per JSON or space-delimited pattern', () => {
    expect(() => compile('{ $.a = %x% && $.b = %y% }')).not.toThrow();
    expect(refusal('{ $.a = %x% && $.b = %y% && $.c = %z% }').hint).toMatch(/3 regular expressions/);
    expect(refusal('[a=%x%, b=%y%, c=%z%]').hint).toMatch(/3 regular expressions/);
  });

  it(`at most ${MAX_PATTERN_LENGTH} characters`, () => {
    expect(() => compile('a'.repeat(MAX_PATTERN_LENGTH))).not.toThrow();
    expect(refusal('a'.repeat(MAX_PATTERN_LENGTH + 1)).message).toMatch(/length less than or equal to 1024/);
  });

  it('non-alphanumeric JSON values must be quoted ("such as \'@\', \'$\', \'\\\\\'")', () => {
    expect(refusal('{ $.email = john@example.com }').message).toBe("Invalid character(s) in term 'john@example.com'");
    expect(() => compile('{ $.email = "john@example.com" }')).not.toThrow();
    expect(() => compile('{ $.sourceIPAddress != 123.123.* }')).not.toThrow();
  });

  it('relational operators need numbers', () => {
    expect(refusal('{ $.latency > fast }').hint).toMatch(/not a number/);
    expect(refusal('[a, b >= "5"]').hint).toMatch(/not a number/);
  });
});

describe('malformed patterns', () => {
  it.each([
    ['[a, b', "If a filter pattern starts with '[' it must end with ']'"],
    ['{ }', 'Invalid metric filter pattern'],
    ['{ $.a = }', 'Invalid metric filter pattern'],
    ['{ $.a }', 'Invalid metric filter pattern'],
    ['{ a = 1 }', 'Invalid metric filter pattern'],
    ['{ $.a = 1 $.b = 2 }', 'Invalid metric filter pattern'],
    ['{ $.a = 1 && }', 'Invalid metric filter pattern'],
    ['{ ($.a = 1 }', 'Invalid metric filter pattern'],
    ['{ $.a = 1) }', 'Invalid metric filter pattern'],
    ['{ $.a == 1 }', 'Invalid metric filter pattern'],
    ['{ $.a = 1, $.b = 2 }', 'Invalid metric filter pattern'],
    ['{ $.a IS MAYBE }', 'Invalid metric filter pattern'],
    ['{ $.a = "unterminated }', 'Invalid metric filter pattern'],
    ['{ $ = 1 }', "Invalid character(s) in term '$'"],
    ['{ $.a.@b = 1 }', "Invalid character(s) in term '$.a.@b'"],
    ['{ $.a & $.b }', "Invalid character(s) in term '&'"],
    ['[a, ..., b, ..., c]', 'Invalid metric filter pattern'],
    ['[a.b]', 'Invalid metric filter pattern'],
    ['[a, = 1]', 'Invalid metric filter pattern'],
    ['[a, b IS NULL]', 'Invalid metric filter pattern'],
    ['[a, $b = 1]', "Invalid character(s) in term '$b'"],
    ['"unterminated', 'Invalid metric filter pattern'],
    ['ERROR(', "Invalid character(s) in term 'ERROR('"],
    ['"a"b', 'Invalid metric filter pattern'],
    ['ERROR -', 'Invalid metric filter pattern'],
    ['{ $.a = 1 } ERROR', "If a filter pattern starts with '{' it must end with '}'"],
  ])('%s → %s', (pattern, message) => {
    const e = refusal(pattern);
    expect(e.message).toBe(message);
    expect(e.hint, 'seclab explains the refusal').toBeTruthy();
  });

  it('valid patterns compile to the right kind', () => {
    expect(compile('ERROR').kind).toBe('terms');
    expect(compile(' { $.a = 1 } ').kind).toBe('json');
    expect(compile('[a, b]').kind).toBe('delimited');
    expect(compile('').kind).toBe('all');
    expect(compile('"[ERROR]"').kind).toBe('terms');
  });
});
