// Property tests (fast-check): the fast paths agree with their plain definitions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/cloud/services/logs/filter-pattern/index.ts';

const word = fc.stringMatching(/^[A-Za-z0-9_]{1,8}$/);
const field = fc.oneof(word, word.map((w) => `"${w} ${w}"`), word.map((w) => `[${w} ${w}]`), fc.constantFrom('-', '22', '443', 'REJECT', 'ACCEPT'));
const event = fc.array(field, { maxLength: 12 }).chain((fields) =>
  fc.array(fc.constantFrom(' ', '  ', '\t'), { minLength: fields.length + 1, maxLength: fields.length + 1 }).map((gaps) => {
    let s = gaps[0]!;
    fields.forEach((f, i) => (s += f + gaps[i + 1]!));
    return s;
  }),
);

describe('term patterns', () => {
  it('a bare word matches exactly the events that contain it', () => {
    fc.assert(
      fc.property(word, fc.string({ maxLength: 40 }), (w, text) => {
        const p = compile(w);
        expect(p.test(text)).toBe(text.includes(w));
        expect(p.test(`${text}${w}`)).toBe(true);
      }),
    );
  });

  it('a quoted phrase matches the events that contain it, quotes and backslashes escaped', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s.trim() !== ''), fc.string({ maxLength: 30 }), (phrase, text) => {
        const p = compile(`"${phrase.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
        expect(p.test(text)).toBe(text.includes(phrase));
        expect(p.test(text + phrase)).toBe(true);
      }),
    );
  });
});

describe('space-delimited patterns', () => {
  const patterns = [
    '[a, b, c]',
    '[a, b=22 || b=443, c]',
    '[..., x=REJECT, y]',
    '[a, ..., z]',
    '[a, b, ...]',
    '[]',
    '[a, b != -, ..., c > 100]',
    '[w1, w2=%^[A-Z]%]',
  ];

  it('test() and match() agree, and match() extracts one value per field', () => {
    fc.assert(
      fc.property(fc.constantFrom(...patterns), event, (pattern, e) => {
        const p = compile(pattern);
        const m = p.match(e);
        expect(m.matched).toBe(p.test(e));
        if (m.matched) {
          for (const v of Object.values(m.fields ?? {})) expect(typeof v).toBe('string');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('[] extracts the fields in order, without quotes and brackets', () => {
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 10 }), (words) => {
        const m = compile('[]').match(words.map((w, i) => (i % 3 === 1 ? `"${w} x"` : i % 3 === 2 ? `[${w} y]` : w)).join(' '));
        expect(Object.keys(m.fields!)).toEqual(words.map((_, i) => `$${i + 1}`));
        words.forEach((w, i) => expect(m.fields![`$${i + 1}`]).toBe(i % 3 === 1 ? `${w} x` : i % 3 === 2 ? `${w} y` : w));
      }),
    );
  });

  it('numeric conditions agree with Number() on integers', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: -1e9, max: 1e9 }), (v, lit) => {
        expect(compile(`[a, n > ${lit}]`).test(`x ${v}`)).toBe(v > lit);
        expect(compile(`[a, n <= ${lit}]`).test(`x ${v}`)).toBe(v <= lit);
        expect(compile(`[a, n = ${lit}]`).test(`x ${v}`)).toBe(v === lit);
      }),
      { numRuns: 300 },
    );
  });
});

describe('JSON patterns', () => {
  it('= and != on a present string are complements; on a missing one both are false', () => {
    fc.assert(
      fc.property(word, word, (value, literal) => {
        const e = JSON.stringify({ k: value });
        expect(compile(`{ $.k = "${literal}" }`).test(e)).toBe(value === literal);
        expect(compile(`{ $.k != "${literal}" }`).test(e)).toBe(value !== literal);
        expect(compile(`{ $.other = "${literal}" || $.other != "${literal}" }`).test(e)).toBe(false);
      }),
    );
  });
});
