// controls/patterns: the linear-time glob matcher and the RE2-backed regular expressions that the grader and
// the gateway use for patterns students write. Checked against JavaScript's RegExp on short inputs (where its
// backtracking is harmless), and on known ReDoS inputs, asserting results only (no time thresholds: a matcher
// that backtracked would not return, and vitest's timeout would fail the test).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGlob, foldCase, starParts, type GlobPart } from '../../src/controls/patterns/glob.ts';
import { compileLinearRegex, UnsupportedRegexError } from '../../src/controls/patterns/regex.ts';

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

function referenceGlob(parts: readonly GlobPart[], ignoreCase: boolean): RegExp {
  let src = '^';
  for (const p of parts) {
    if (p.k === 'lit') src += esc(p.s);
    else if (p.k === 'cls') src += `[${p.chars.map(esc).join('')}]`;
    else {
      const any = p.except ? `[^${esc(p.except)}]` : '[\\s\\S]';
      src += p.k === 'star' ? `${any}*` : any;
    }
  }
  return new RegExp(src + '$', ignoreCase ? 'i' : '');
}

const part: fc.Arbitrary<GlobPart> = fc.oneof(
  fc.constantFrom('a', 'b', 'B', ':', 'ab', 'ba', '').map((s): GlobPart => ({ k: 'lit', s })),
  fc.constantFrom<GlobPart>({ k: 'star' }, { k: 'one' }, { k: 'cls', chars: ['-', '/'] }, { k: 'cls', chars: ['a', ':'] }),
  fc.constantFrom<GlobPart>({ k: 'star', except: ':' }, { k: 'one', except: ':' }, { k: 'star', except: ':/' }),
);
const value = fc.array(fc.constantFrom('a', 'b', 'A', 'B', ':', '-', '/'), { maxLength: 14 }).map((a) => a.join(''));

describe('compileGlob', () => {
  it('answers like the equivalent regular expression (stars, ?, classes, restricted wildcards, case)', () => {
    fc.assert(
      fc.property(fc.array(part, { maxLength: 9 }), value, fc.boolean(), (parts, v, ic) => {
        expect(compileGlob(parts, { ignoreCase: ic })(v)).toBe(referenceGlob(parts, ic).test(v));
      }),
      { numRuns: 3000 },
    );
  });

  it('finishes on the patterns that make a backtracking engine polynomial', () => {
    const a = 'a'.repeat(100_000);
    expect(compileGlob(starParts('*a*a*a*a*a*a*a*a*a*a*b'))(a)).toBe(false);
    expect(compileGlob(starParts('*a*a*a*a*a*a*a*a*a*a*b'))(a + 'b')).toBe(true);
    expect(compileGlob([{ k: 'star', except: ':' }, ...starParts('a*a*a*a*a*b').map((p) => (p.k === 'star' ? { k: 'star' as const, except: ':' } : p))])(a)).toBe(false);
    expect(compileGlob([{ k: 'one' }, { k: 'star' }, { k: 'one' }, { k: 'star' }, { k: 'one' }, { k: 'lit', s: 'b' }])(a)).toBe(false);
  });

  it('folds case unit by unit, so ? still stands for one character', () => {
    expect(foldCase('İx')).toHaveLength(2);
    expect(compileGlob([{ k: 'one' }, { k: 'lit', s: 'X' }], { ignoreCase: true })('İx')).toBe(true);
  });
});

describe('compileLinearRegex', () => {
  const cases = ['ab+c', '^a.c$', 'colou?r', '[hc]at$', 'a{2,3}', '(foo|bar)baz', '^\\d{3}-\\w+', '[^a-c]+$', 'x*', '\\.', '(?:ab)*c', '^$'];
  it('answers like RegExp on ordinary expressions, with i, m and s', () => {
    fc.assert(
      fc.property(fc.constantFrom(...cases), fc.array(fc.constantFrom('a', 'b', 'c', 'A', '\n', '1', '-', '.', 'foo', 'baz', 'hat'), { maxLength: 10 }), fc.boolean(), fc.boolean(), fc.boolean(), (src, chars, i, m, s) => {
        const v = chars.join('');
        const js = new RegExp(src, `${i ? 'i' : ''}${m ? 'm' : ''}${s ? 's' : ''}`);
        expect(compileLinearRegex(src, { ignoreCase: i, multiline: m, dotAll: s }).test(v)).toBe(js.test(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('finishes on known ReDoS expressions: (a+)+$, (a|aa)*b, (a|a?)+b, ^(([a-z])+.)+[A-Z]([a-z])+$', () => {
    const a = 'a'.repeat(50_000);
    expect(compileLinearRegex('(a+)+$').test(a + '!')).toBe(false);
    expect(compileLinearRegex('(a+)+$').test(a)).toBe(true);
    expect(compileLinearRegex('^(a+)+$').test(a + '!')).toBe(false);
    expect(compileLinearRegex('(a|aa)*b').test(a)).toBe(false);
    expect(compileLinearRegex('(a|a?)+b').test(a)).toBe(false);
    expect(compileLinearRegex('^(([a-z])+.)+[A-Z]([a-z])+$').test(a + '!')).toBe(false);
    expect(compileLinearRegex('^(\\w+\\s?)*$').test('word '.repeat(10_000) + '!')).toBe(false);
  });

  it('refuses what needs backtracking, naming the construct and its position', () => {
    const refusal = (src: string) => {
      try {
        compileLinearRegex(src);
      } catch (e) {
        expect(e).toBeInstanceOf(UnsupportedRegexError);
        return e as UnsupportedRegexError;
      }
      throw new Error(`accepted: ${src}`);
    };
    expect(refusal('(a)\\1').index).toBe(3);
    expect(refusal('x(?=y)').reason).toMatch(/^lookahead assertions/);
    expect(refusal('x(?!y)').index).toBe(1);
    expect(refusal('(?<=y)x').reason).toMatch(/^lookbehind assertions/);
    expect(refusal('(?<!y)x').reason).toMatch(/^lookbehind assertions/);
    expect(refusal('(?>ab)').reason).toMatch(/^atomic groups/);
    expect(refusal('a*+').reason).toMatch(/^possessive quantifiers/);
    expect(refusal('(?<n>a)\\k<n>').reason).toMatch(/^backreferences/);
    expect(refusal('(?P<n>a)(?P=n)').reason).toMatch(/^backreferences/);
    expect(refusal('(?R)').reason).toMatch(/^recursion/);
    expect(refusal('(?(1)a|b)').reason).toMatch(/^conditional groups/);
    expect(refusal('(ab').message).toMatch(/^invalid regular expression: missing closing \)/);
    expect(refusal('a{1001}').message).toMatch(/invalid repeat count/);
    expect(refusal('[a-z]{1000}').message).toMatch(/^the expression is too large to match safely: it compiles to \d+ instructions, at most 500 are allowed/);
    expect(refusal('(?:.*a){200}').reason).toMatch(/too large/);
    expect(compileLinearRegex('[a-z]{400}').test('x'.repeat(400))).toBe(true);
    // inside a class these are ordinary characters
    expect(compileLinearRegex('[(?=]x').test('=x')).toBe(true);
    expect(compileLinearRegex('[a++]').test('+')).toBe(true);
  });
});
