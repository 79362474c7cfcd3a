// Conformance: term patterns and regex terms on unstructured events.
// Each case is an example of the AWS page named above its describe block, with the sample events
// the page gives and the matches it documents.
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/cloud/services/logs/filter-pattern/index.ts';
import { matching } from './helpers.ts';

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
// "Using filter patterns to match terms in unstructured log events"
describe('unstructured log events (FilterAndPatternSyntax.html, current edition)', () => {
  const e400 = '[ERROR 400] BAD REQUEST';
  const e401 = '[ERROR 401] UNAUTHORIZED REQUEST';
  const e419 = '[ERROR 419] MISSING ARGUMENTS';
  const e420 = '[ERROR 420] INVALID ARGUMENTS';
  const four = [e400, e401, e419, e420];

  it('Example: Match a single term — ERROR', () => {
    expect(matching('ERROR', four)).toEqual(four);
  });

  it('Example: Match multiple terms — ERROR ARGUMENTS returns 419 and 420, not 400 and 401', () => {
    expect(matching('ERROR ARGUMENTS', four)).toEqual([e419, e420]);
  });

  it('Example: Match optional terms — ?ERROR ?ARGUMENTS', () => {
    expect(matching('?ERROR ?ARGUMENTS', four)).toEqual(four);
    expect(matching('?ERROR ?ARGUMENTS', ['ARGUMENTS ONLY', 'nothing here'])).toEqual(['ARGUMENTS ONLY']);
  });

  it('Note: "?" terms combined with other terms are ignored — ?ERROR ?ARGUMENTS REQUEST matches what REQUEST matches', () => {
    const documented = ['[INFO] REQUEST FAILED', '[WARN] UNAUTHORIZED REQUEST', '[ERROR] 400 BAD REQUEST'];
    expect(matching('?ERROR ?ARGUMENTS REQUEST', documented)).toEqual(documented);
    // ERROR alone no longer suffices: the ? terms have no effect.
    expect(matching('?ERROR ?ARGUMENTS REQUEST', [e419, e420])).toEqual([]);
    expect(matching('?ERROR -ARGUMENTS', ['[INFO] ok', e419])).toEqual(['[INFO] ok']);
  });

  it('Example: Match exact phrases — "INTERNAL SERVER ERROR"', () => {
    expect(matching('"INTERNAL SERVER ERROR"', [...four, '[ERROR 500] INTERNAL SERVER ERROR', 'SERVER INTERNAL ERROR'])).toEqual([
      '[ERROR 500] INTERNAL SERVER ERROR',
    ]);
  });

  it('Example: Include and exclude terms — ERROR -ARGUMENTS', () => {
    expect(matching('ERROR -ARGUMENTS', four)).toEqual([e400, e401]);
  });

  it('Example: Match everything — " "', () => {
    expect(matching('" "', [...four, '', 'x'])).toEqual([...four, '', 'x']);
  });

  it('Filter patterns are case sensitive', () => {
    expect(matching('error', four)).toEqual([]);
  });
});

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
// "Using filter patterns to match terms with a regular expression (regex)"
describe('regex terms (FilterAndPatternSyntax.html)', () => {
  it('%AUTHORIZED% returns [ERROR 401] UNAUTHORIZED REQUEST and [SUCCESS 200] AUTHORIZED REQUEST', () => {
    const events = ['[ERROR 401] UNAUTHORIZED REQUEST', '[SUCCESS 200] AUTHORIZED REQUEST', '[ERROR 400] BAD REQUEST'];
    expect(matching('%AUTHORIZED%', events)).toEqual(events.slice(0, 2));
  });

  it('the introduction examples: an IP address, and Error/Fail in either case', () => {
    expect(matching('%\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}%', ['from 10.0.12.7 port 22', 'from host-a'])).toEqual(['from 10.0.12.7 port 22']);
    expect(matching('%[Ee]rror|[Ff]ail%', ['Error: x', 'job failed', 'FAIL', 'ok'])).toEqual(['Error: x', 'job failed']);
  });

  it('regex terms combine with other terms', () => {
    expect(matching('ERROR %4\\d\\d%', ['[ERROR 404] x', '[ERROR 500] y', '[INFO 404] z'])).toEqual(['[ERROR 404] x']);
    expect(matching('ERROR -%^\\[DEBUG%', ['[ERROR] a', '[DEBUG] ERROR b'])).toEqual(['[ERROR] a']);
  });
});

// Earlier edition of the same page, "Matching Terms in Log Events" and "OR Pattern Matching"
// (awsdocs/amazon-cloudwatch-logs-user-guide, doc_source/FilterAndPatternSyntax.md).
describe('unstructured log events (FilterAndPatternSyntax, earlier edition)', () => {
  it('Example: Single term — "ERROR" also matches inside a longer word (ERRORCODE)', () => {
    const events = ['[ERROR] A fatal exception has occurred', 'Exiting with ERRORCODE: -1'];
    expect(matching('ERROR', events)).toEqual(events);
    expect(matching('"ERROR"', events)).toEqual(events);
  });

  it('Example: Include a term and exclude a term — "Exiting with ERRORCODE: -1" is excluded', () => {
    const events = ['[ERROR] A fatal exception has occurred', 'Exiting with ERRORCODE: -1'];
    expect(matching('ERROR -Exiting', events)).toEqual(['[ERROR] A fatal exception has occurred']);
    expect(matching('"ERROR" - "Exiting"', events)).toEqual(['[ERROR] A fatal exception has occurred']);
  });

  it('Example: Multiple terms — ERROR Exception; Failed to process the request', () => {
    expect(matching('ERROR Exception', ['[ERROR] Caught IllegalArgumentException', '[ERROR] Unhandled Exception', '[ERROR] other'])).toEqual([
      '[ERROR] Caught IllegalArgumentException',
      '[ERROR] Unhandled Exception',
    ]);
    expect(
      matching('Failed to process the request', ['[WARN] Failed to process the request', '[ERROR] Unable to continue: Failed to process the request']),
    ).toHaveLength(2);
  });

  it('OR Pattern Matching: ERROR, ?ERROR ?WARN, ERROR WARN, ERROR -WARN', () => {
    const [one, two, three] = ['ERROR WARN message', 'ERROR message', 'WARN message'];
    const events = [one!, two!, three!];
    expect(matching('ERROR', events)).toEqual([one, two]);
    expect(matching('?ERROR ?WARN', events)).toEqual(events);
    expect(matching('ERROR WARN', events)).toEqual([one]);
    expect(matching('ERROR -WARN', events)).toEqual([two]);
  });

  it('Example 1: Match everything — the filter pattern "" matches all log events', () => {
    expect(matching('', ['a', '', '{"x":1}'])).toEqual(['a', '', '{"x":1}']);
    expect(matching('""', ['a', ''])).toEqual(['a', '']);
    expect(compile('   ').kind).toBe('all');
  });
});

// TestMetricFilter examples of the API reference: `"[ERROR]"` and `"[ERROR]" Exception` on a log4j-style log.
describe('quoted terms with brackets (API reference, TestMetricFilter examples)', () => {
  const log = [
    '02 May 2014 00:34:12,525 [INFO] Starting the application',
    '02 May 2014 00:35:14,245 [DEBUG] Database connection established',
    '02 May 2014 00:34:14,663 [INFO] Executing SQL Query',
    '02 May 2014 00:34:16,142 [ERROR] Unhanded exception: InvalidQueryException',
    '02 May 2014 00:34:16,224 [ERROR] Terminating the application',
  ];
  it('"[ERROR]" matches the two [ERROR] events; "[ERROR]" Exception only the first', () => {
    expect(matching('"[ERROR]"', log)).toEqual([log[3], log[4]]);
    expect(matching('"[ERROR]" Exception', log)).toEqual([log[3]]);
  });
});
