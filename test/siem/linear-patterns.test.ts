// Students' Sigma rules run inside the grader: regular expressions (`re`) and wildcards must finish in time
// linear in the value whatever the rule says, and constructs that need backtracking are refused when the
// rule is compiled, with the file, the field and the line. These tests assert results only: a pattern that
// backtracked would not return, and vitest's timeout would fail the test.
import { describe, expect, it } from 'vitest';
import { expandPattern, identifierPattern } from '../../src/controls/siem/sigma/condition.ts';
import { detect, field, ruleError } from './helpers.ts';

const rule = (detection: string) => `title: Student rule
id: 22222222-2222-4222-8222-222222222222
logsource:
    product: aws
    service: cloudtrail
detection:
${detection}
`;

const A50K = 'a'.repeat(50_000);

describe('Sigma re: linear-time matching (RE2)', () => {
  it('catastrophic-backtracking expressions return: (a+)+$, (a|aa)*b, (a*)*b, (x+x+)+y, (.*a){20}', () => {
    expect(field('f|re', '(a+)+$')({ f: A50K + '!' })).toBe(false);
    expect(field('f|re', '^(a+)+$')({ f: A50K })).toBe(true);
    expect(field('f|re', '(a|aa)*b')({ f: A50K })).toBe(false);
    expect(field('f|re', '(a|aa)*c$')({ f: A50K + 'c' })).toBe(true);
    expect(field('f|re', '(a*)*b')({ f: A50K })).toBe(false);
    expect(field('f|re', '(x+x+)+y')({ f: 'x'.repeat(50_000) })).toBe(false);
    expect(field('f|re', '(.*a){20}')({ f: A50K.slice(0, 5_000) + 'b' })).toBe(true);
    expect(field('f|re|i|s', '^(\\w+\\s?)*$')({ f: 'word '.repeat(10_000) + '!' })).toBe(false);
  });

  it('keeps the documented semantics: search, case-sensitive by default, i/m/s sub-modifiers, inline flags', () => {
    expect(field('f|re', 'ab+c')({ f: 'xxabbbcxx' })).toBe(true);
    expect(field('f|re', 'ABC')({ f: 'abc' })).toBe(false);
    expect(field('f|re|i', 'ABC')({ f: 'abc' })).toBe(true);
    expect(field('f|re|m', '^two$')({ f: 'one\ntwo\nthree' })).toBe(true);
    expect(field('f|re', '^two$')({ f: 'one\ntwo\nthree' })).toBe(false);
    expect(field('f|re|s', 'one.two')({ f: 'one\ntwo' })).toBe(true);
    expect(field('f|re', '(?i)abc')({ f: 'ABC' })).toBe(true);
    expect(field('f|re', 'a(?i)bc')({ f: 'aBC' })).toBe(true);
    expect(field('f|re', '(?P<acct>\\d{12})')({ f: 'arn:aws:iam::111122223333:root' })).toBe(true);
  });

  it('refuses backreferences, lookaround, atomic groups and possessive quantifiers when the rule is compiled, with field and line', () => {
    const refused = (re: string) => ruleError(rule(`    s:\n        f|re: '${re}'\n    condition: s`));
    expect(refused('(a)\\1')).toBe(
      'rules/x.yml: detection.s.f|re: regular expression not supported: backreferences such as \\1 are not supported: seclab evaluates regular expressions in linear time (RE2 syntax), which has no backreferences (for a character code write \\x{hh}) (at character 4) (line 8)',
    );
    expect(refused('foo(?=bar)')).toMatch(/detection\.s\.f\|re: regular expression not supported: lookahead assertions \(\(\?=\.\.\.\)\) are not supported: .* \(at character 4\) \(line 8\)$/);
    expect(refused('(?<!x)y')).toMatch(/lookbehind assertions \(\(\?<!\.\.\.\)\) are not supported/);
    expect(refused('(?>a+)b')).toMatch(/atomic groups .* write a plain group \(\?:\.\.\.\)/);
    expect(refused('a++b')).toMatch(/possessive quantifiers \(\+\+\) are not supported/);
    expect(refused('\\k<n>')).toMatch(/backreferences such as \\k<\.\.\.> are not supported/);
    expect(refused('\\u0041')).toMatch(/the escape \\u is not supported: write a character code as \\x\{hhhh\}/);
    expect(refused('[a-z]{1000}')).toMatch(/detection\.s\.f\|re: regular expression not supported: the expression is too large to match safely: .* at most 500 are allowed/);
    // Invalid expressions stay "invalid regular expression", located.
    expect(refused('(unclosed')).toMatch(/detection\.s\.f\|re: invalid regular expression: missing closing \): `\(unclosed` \(at character 1\) \(line 8\)$/);
    // A list names the element.
    expect(ruleError(rule("    s:\n        f|re:\n            - 'ok'\n            - '(a)\\1'\n    condition: s"))).toMatch(/detection\.s\.f\|re\[1\]: regular expression not supported: backreferences/);
    // The same characters inside a class are ordinary.
    expect(field('f|re', '[(?=]x')({ f: '=x' })).toBe(true);
  });
});

describe('Sigma wildcards: linear-time glob matching, no RegExp', () => {
  it('*a*a*a*a*a*a*b and ?-heavy values against long values return', () => {
    expect(field('f', '*a*a*a*a*a*a*b')({ f: A50K })).toBe(false);
    expect(field('f', '*a*a*a*a*a*a*b')({ f: A50K + 'b' })).toBe(true);
    expect(field('f|cased', 'a*a*a*a*a*a*a*a*c')({ f: A50K })).toBe(false);
    expect(field('f', '*?a*?a*?a*?a*?b')({ f: A50K })).toBe(false);
    expect(field('f|contains', 'a*a*a*a*a*a*b')({ f: A50K })).toBe(false);
    expect(field('f|contains|windash', '-a*-a*-a*-a*-b')({ f: '-a'.repeat(25_000) })).toBe(false);
    expect(field('f|contains|windash', '-a*-a*/a*-a*-b')({ f: '-a'.repeat(25_000) + '-b' })).toBe(true);
    // keyword search over a whole event goes through the same matcher
    expect(detect({ keywords: ['*a*a*a*a*a*a*b'], condition: 'keywords' })({ x: A50K })).toBe(false);
  });

  it('keeps the documented semantics: whole value, case-insensitive unless cased, ? one character, escapes', () => {
    expect(field('f', 'Ab*Cd?')({ f: 'aBxxcDe' })).toBe(true);
    expect(field('f', 'Ab*Cd?')({ f: 'aBxxcD' })).toBe(false);
    expect(field('f|cased', 'Ab*Cd?')({ f: 'aBxxcDe' })).toBe(false);
    expect(field('f', 'a\\*b*')({ f: 'a*bc' })).toBe(true);
    expect(field('f', 'a\\*b*')({ f: 'axbc' })).toBe(false);
    expect(field('f', '*İ?')({ f: 'xİz' })).toBe(true); // a letter whose lower case is longer still counts as one
  });

  it('search-identifier patterns (1 of sel*) are globs too', () => {
    const long = 'sel' + 'a'.repeat(20_000);
    expect(identifierPattern('sel*a*a*a*a*a*a*b')(long)).toBe(false);
    expect(identifierPattern('sel*a*a*a*a*a*a*a')(long)).toBe(true);
    expect(expandPattern('sel*a*a*a*a*a*a*b', [long, 'selaaaaaab'])).toEqual(['selaaaaaab']);
    const d = detect({ [long]: { f: 'x' }, selaaaaaab: { g: 'y' }, condition: '1 of sel*a*a*a*a*a*a*b' });
    expect(d({ g: 'y' })).toBe(true);
    expect(d({ f: 'x' })).toBe(false);
  });
});
