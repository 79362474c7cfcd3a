// bench/dlp.ts scores predictions against labelled spans one-to-one (bench/dlp-match.ts).
import { describe, expect, it } from 'vitest';
import { matchSpans } from '../../bench/dlp-match.ts';

describe('bench:dlp span matching', () => {
  it('one prediction covering two labels counts once', () => {
    expect(matchSpans([{ s: 0, e: 20 }], [{ s: 0, e: 9 }, { s: 10, e: 20 }])).toBe(1);
  });

  it('two predictions inside one label count once', () => {
    expect(matchSpans([{ s: 0, e: 9 }, { s: 10, e: 20 }], [{ s: 0, e: 20 }])).toBe(1);
  });

  it('exact spans pair first, then the largest overlap', () => {
    // the long prediction overlaps both labels; the exact one must not be taken from the second label
    expect(matchSpans([{ s: 0, e: 12 }, { s: 10, e: 20 }], [{ s: 0, e: 8 }, { s: 10, e: 20 }])).toBe(2);
    expect(matchSpans([{ s: 5, e: 15 }], [{ s: 0, e: 6 }, { s: 8, e: 20 }])).toBe(1);
    expect(matchSpans([], [{ s: 0, e: 1 }])).toBe(0);
    expect(matchSpans([{ s: 0, e: 1 }], [{ s: 1, e: 2 }])).toBe(0); // touching is not overlapping
  });
});
