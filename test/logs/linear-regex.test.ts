// Students' metric filters and subscription filters are evaluated by the gateway on every log event, so a
// `%regex%` must finish in time linear in the event whatever it says. CloudWatch's subset has no groups,
// so the classic `(a+)+$` cannot be written; repetitions of repetitions through classes and alternatives
// can, and a backtracking RegExp takes polynomial time on them. These tests assert results only: a pattern
// that backtracked would not return, and vitest's timeout would fail the test.
import { describe, expect, it } from 'vitest';
import { compile, testMetricFilter } from '../../src/cloud/services/logs/filter-pattern/index.ts';
import { matching, refusal } from './helpers.ts';

const A50K = 'a'.repeat(50_000);

describe('%regex% filter patterns: linear-time matching (RE2)', () => {
  it('term patterns: %a*a*a*a*a*a*a*a*b%, %[a-z]*[a-z]*[a-z]*[a-z]*#$%, %\\w+\\w+\\w+\\w+\\w+:%, %.*.*.*.*=%', () => {
    expect(compile('%a*a*a*a*a*a*a*a*b%').test(A50K)).toBe(false);
    expect(compile('%a*a*a*a*a*a*a*a*b%').test(A50K + 'b')).toBe(true);
    expect(compile('%[a-z]*[a-z]*[a-z]*[a-z]*#$%').test(A50K + '#x')).toBe(false);
    expect(compile('%\\w+\\w+\\w+\\w+\\w+:%').test(A50K)).toBe(false);
    expect(compile('%.*.*.*.*=%').test(A50K)).toBe(false);
    expect(compile('%^a*a*a*a*a*a*a*a*$%').test(A50K)).toBe(true);
    expect(compile('%a|aa|aaa|aaaa%').test(A50K)).toBe(true);
  });

  it('regexes inside JSON and space-delimited patterns (two per pattern) are linear too', () => {
    const json = JSON.stringify({ user: A50K, n: 1 });
    expect(compile('{ $.user = %a*a*a*a*a*a*a*a*b% }').test(json)).toBe(false);
    expect(compile('{ $.user = %^a*a*a*a*a*a*a*a*$% && $.n = 1 }').test(json)).toBe(true);
    expect(compile('[w1 = %a*a*a*a*a*a*b%, w2]').test(`${A50K} x`)).toBe(false);
    expect(compile('[w1 = %^a*a*a*a*a*a*$%, w2 = %x*x*x*x*y%]').test(`${A50K} ${'x'.repeat(50_000)}`)).toBe(false);
  });

  it('TestMetricFilter over long events returns its answer', () => {
    const r = testMetricFilter('%a*a*a*a*a*a*a*a*b%', [A50K, A50K + 'b']);
    expect(r.matches.map((m) => m.eventNumber)).toEqual([2]);
  });

  it('keeps CloudWatch semantics: \\s is tab, newline, space (and \\v \\f \\r); \\S inside a class is everything else', () => {
    expect(matching('%a\\sb%', ['a b', 'a\tb', 'a\nb', 'a\u000bb', 'ab', 'a_b'])).toEqual(['a b', 'a\tb', 'a\nb', 'a\u000bb']);
    expect(matching('%^[\\S]+$%', ['abc', 'a c', 'a\tc', 'é~!'])).toEqual(['abc', 'é~!']);
    expect(matching('%^[\\S\\s]{3}$%', ['a c', 'abc', 'ab'])).toEqual(['a c', 'abc']);
    expect(matching('%a.b%', ['a\nb', 'ab'])).toEqual(['a\nb']); // '.' matches any character, newlines included
  });

  it('refuses expressions too large to match in bounded time, saying why, when the filter is created', () => {
    const e = refusal('%a{1001}%');
    expect(e.code).toBe('InvalidParameterException');
    expect(e.hint).toMatch(/invalid repeat count.*at most 1000 repetitions/);
    // RE2 accepts [a-z]{1000}, but matching it costs about 1000 steps per character when its DFA gives up
    expect(refusal('%[a-z]{1000}%').hint).toMatch(/too large to match safely: it compiles to \d+ instructions, at most 500 are allowed/);
    expect(refusal('%[a-z]{200}[0-9]{200}[a-z]{200}%').hint).toMatch(/too large to match safely/);
    expect(compile('%^a{400}$%').test('a'.repeat(400))).toBe(true);
    expect(compile('%[a-z]{400}%').test('a'.repeat(20_000))).toBe(true);
  });
});
