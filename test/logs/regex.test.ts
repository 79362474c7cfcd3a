// Conformance: the regex subset. Each case is an example of "Supported regular expressions (regex)
// syntax", https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#regex-expressions
// ("Usage of supported operators"), used as a term pattern `%...%`.
import { describe, expect, it } from 'vitest';
import { MESSAGES } from '../../src/cloud/services/logs/filter-pattern/index.ts';
import { matching, refusal } from './helpers.ts';

const on = (regex: string, events: string[]) => matching(`%${regex}%`, events);

describe('usage of supported operators', () => {
  it('^ anchors to the beginning: %^[hc]at% matches "hat" and "cat" only at the beginning', () => {
    expect(on('^[hc]at', ['hat trick', 'cat', 'that', 'bat'])).toEqual(['hat trick', 'cat']);
  });

  it('$ anchors to the end: %[hc]at$%', () => {
    expect(on('[hc]at$', ['that', 'cat', 'hats', 'cat.'])).toEqual(['that', 'cat']);
  });

  it('? zero or one: %colou?r% matches "color" and "colour"', () => {
    expect(on('colou?r', ['color', 'colour', 'colouur'])).toEqual(['color', 'colour']);
  });

  it('[] classes: %[abc]%, %[a-z]%, %[abcx-z]%', () => {
    expect(on('[abc]', ['a', 'b', 'c', 'd'])).toEqual(['a', 'b', 'c']);
    expect(on('[a-z]', ['q', 'Q', '1'])).toEqual(['q']);
    expect(on('^[abcx-z]$', ['a', 'b', 'c', 'x', 'y', 'z', 'd', 'w'])).toEqual(['a', 'b', 'c', 'x', 'y', 'z']);
  });

  it('{m, n}: %a{3,5}% matches aaa, aaaa, aaaaa; either bound can be omitted', () => {
    expect(on('^a{3,5}$', ['aa', 'aaa', 'aaaa', 'aaaaa', 'aaaaaa'])).toEqual(['aaa', 'aaaa', 'aaaaa']);
    expect(on('a{3,5}', ['aa', 'xaaay'])).toEqual(['xaaay']);
    expect(on('^a{3,}$', ['aa', 'aaa', 'aaaaaaa'])).toEqual(['aaa', 'aaaaaaa']);
    expect(on('^a{,2}$', ['', 'a', 'aa', 'aaa'])).toEqual(['', 'a', 'aa']);
    expect(on('^a{2}$', ['a', 'aa', 'aaa'])).toEqual(['aa']);
  });

  it('| alternatives: %gra|ey%, %^starting|^initializing|^shutting down%', () => {
    expect(on('gra|ey', ['gray', 'grey', 'groy'])).toEqual(['gray', 'grey']);
    expect(on('^starting|^initializing|^shutting down', ['starting up', 'initializing db', 'shutting down', 'skipping initializing x'])).toEqual([
      'starting up',
      'initializing db',
      'shutting down',
    ]);
    expect(on('abcc|ab[^c]$', ['abcc x', 'aba', 'aac x'])).toEqual(['abcc x', 'aba']);
  });

  it('\\ escapes an operator: %\\[.\\]% matches any single character between brackets', () => {
    expect(on('\\[.\\]', ['[a]', '[b]', '[7]', '[@]', '[]]', '[ ]', '[ab]', '[]'])).toEqual(['[a]', '[b]', '[7]', '[@]', '[]]', '[ ]']);
  });

  it('escape the dots of an IP address: %10\\.10\\.0\\.1%; unescaped, %10.10.0.1% also matches "10010,051"', () => {
    expect(on('10\\.10\\.0\\.1', ['10.10.0.1', '10010,051'])).toEqual(['10.10.0.1']);
    expect(on('10.10.0.1', ['10.10.0.1', '10010,051'])).toEqual(['10.10.0.1', '10010,051']);
  });

  it('* zero or more: %ab*c% matches "ac", "abc", "abbbc"; %ab[0-9]*% matches "ab", "ab0", "ab129"', () => {
    expect(on('ab*c', ['ac', 'abc', 'abbbc', 'adc'])).toEqual(['ac', 'abc', 'abbbc']);
    expect(on('^ab[0-9]*$', ['ab', 'ab0', 'ab129', 'abx'])).toEqual(['ab', 'ab0', 'ab129']);
  });

  it('+ one or more: %ab+c% matches "abc", "abbc", "abbbc" but not "ac"', () => {
    expect(on('ab+c', ['abc', 'abbc', 'abbbc', 'ac'])).toEqual(['abc', 'abbc', 'abbbc']);
  });

  it('. any single character: %.at% matches "hat", "cat", "bat", "4at", "#at" and " at"', () => {
    expect(on('^.at$', ['hat', 'cat', 'bat', '4at', '#at', ' at', 'at'])).toEqual(['hat', 'cat', 'bat', '4at', '#at', ' at']);
  });

  it('\\d, \\D: %\\d% is %[0-9]% and %\\D% is %[^0-9]%', () => {
    expect(on('^\\d$', ['5', 'a'])).toEqual(['5']);
    expect(on('^\\D$', ['5', 'a'])).toEqual(['a']);
    expect(on('^[^0-9]$', ['5', 'a'])).toEqual(['a']);
  });

  it('\\s, \\S: whitespace is the tab, the space and the newline', () => {
    expect(on('a\\sb', ['a b', 'a\tb', 'a\nb', 'ab', 'a_b'])).toEqual(['a b', 'a\tb', 'a\nb']);
    expect(on('^\\S+$', ['abc', 'a c'])).toEqual(['abc']);
  });

  it('\\w, \\W: %\\w% is %[a-zA-Z_0-9]% and %\\W% is %[^a-zA-Z_0-9]%', () => {
    expect(on('^\\w+$', ['abc_09', 'a-b'])).toEqual(['abc_09']);
    expect(on('\\W', ['abc_09', 'a-b'])).toEqual(['a-b']);
  });

  it('\\xhh: %\\x3A% matches ":" and %\\x28% matches "(", characters a pattern cannot hold otherwise', () => {
    expect(on('\\x3A', ['a:b', 'ab'])).toEqual(['a:b']);
    expect(on('\\x28\\d+\\x29', ['f(42)', 'f[42]'])).toEqual(['f(42)']);
    expect(on('[\\x41-\\x43]', ['B', 'D'])).toEqual(['B']);
  });

  it('regex matching is case-sensitive', () => {
    expect(on('error', ['ERROR', 'error'])).toEqual(['error']);
  });
});

describe('regexes AWS refuses', () => {
  it("%something!% is rejected since '!' is not supported", () => {
    const e = refusal('%something!%');
    expect(e.message).toBe(MESSAGES.invalidCharacters('%something!%'));
  });

  it('parentheses are not supported, even escaped (use \\x28 and \\x29)', () => {
    expect(refusal('%(ab)+%').message).toBe("Invalid character(s) in term '%(ab)+%'");
    expect(refusal('%\\(x\\)%').message).toBe("Invalid character(s) in term '%\\(x\\)%'");
  });

  it('multi-byte characters are not supported', () => {
    expect(refusal('%café%').message).toBe("Invalid character(s) in term '%café%'");
  });

  it.each([
    ['%%', 'empty'],
    ['%*a%', 'nothing to repeat'],
    ['%a**%', 'a repetition of a repetition'],
    ['%a{5,2}%', 'a range out of order'],
    ['%a{x}%', 'a brace that is not a repetition'],
    ['%[]%', 'an empty class'],
    ['%[a%', 'an unclosed class'],
    ['%a]%', 'a stray ]'],
    ['%a|%', 'an empty alternative'],
    ['%\\b%', 'an undocumented escape (\\b)'],
    ['%\\n%', 'an undocumented escape (\\n)'],
    ['%\\x4%', '\\x with one hex digit'],
    ['%[z-a]%', 'a reversed range'],
    ['%abc', 'no closing %'],
  ])('%s is refused (%s)', (pattern) => {
    const e = refusal(pattern);
    expect(e.code).toBe('InvalidParameterException');
    expect(e.hint).toBeTruthy();
  });

  it('a lazy quantifier is accepted: in a search it accepts what the greedy one does', () => {
    expect(on('ab*?c', ['abbc', 'ac', 'ab'])).toEqual(['abbc', 'ac']);
  });
});
