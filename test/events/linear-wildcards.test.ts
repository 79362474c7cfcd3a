// EventBridge rules that students write are matched by the gateway on every event. Wildcards (`wildcard`,
// `anything-but: { wildcard }`) are matched by the glob matcher of values.ts (no RegExp is built from a
// pattern), prefix/suffix and equals-ignore-case by string operations: all finish in time bounded by value ×
// pattern length. The tests assert results only: a matcher that backtracked would not return, and vitest's
// timeout would fail the test.
import { describe, expect, it } from 'vitest';
import { compilePattern } from '../../src/cloud/services/events/pattern/index.ts';

const A50K = 'a'.repeat(50_000);

describe('event patterns: linear-time wildcards', () => {
  it('wildcard *a*a*a*a*a*a*b against a long value', () => {
    const p = compilePattern({ detail: { key: [{ wildcard: '*a*a*a*a*a*a*b' }] } });
    expect(p.matches({ detail: { key: A50K } })).toBe(false);
    expect(p.matches({ detail: { key: `${A50K}b` } })).toBe(true);
    expect(p.matches({ detail: { key: `${A50K}ba` } })).toBe(false);
  });

  it('anything-but wildcards, several of them, against long values', () => {
    const p = compilePattern({ detail: { key: [{ 'anything-but': { wildcard: ['*a*a*a*a*a*a*b', 'x*a*a*a*a*c'] } }] } });
    expect(p.matches({ detail: { key: A50K } })).toBe(true);
    expect(p.matches({ detail: { key: `${A50K}b` } })).toBe(false);
    expect(p.matches({ detail: { key: `x${A50K}c` } })).toBe(false);
  });

  it('prefix, suffix and equals-ignore-case over long values', () => {
    const p = compilePattern({
      detail: {
        a: [{ prefix: { 'equals-ignore-case': 'AAAA' } }],
        b: [{ suffix: `${'a'.repeat(1000)}b` }],
        c: [{ 'equals-ignore-case': A50K.toUpperCase() }],
      },
    });
    expect(p.matches({ detail: { a: A50K, b: `${A50K}b`, c: A50K } })).toBe(true);
    expect(p.matches({ detail: { a: A50K, b: A50K, c: A50K } })).toBe(false);
  });

  it('a pattern with many $or branches of wildcards still answers', () => {
    const p = compilePattern({ $or: Array.from({ length: 20 }, (_, i) => ({ detail: { [`k${i}`]: [{ wildcard: '*a*a*a*a*a*a*b' }] } })) });
    const detail = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, A50K.slice(0, 5_000)]));
    expect(p.matches({ detail })).toBe(false);
  });
});
