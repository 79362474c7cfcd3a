import { expect } from 'vitest';
import { compile, InvalidFilterPatternError, type PatternOperation } from '../../src/cloud/services/logs/filter-pattern/index.ts';

/** The events (of `events`) that `pattern` matches, checking that test() and match() agree. */
export function matching(pattern: string, events: readonly string[]): string[] {
  const p = compile(pattern);
  return events.filter((e) => {
    const t = p.test(e);
    expect(p.match(e).matched, `test() and match() disagree on ${JSON.stringify(e)}`).toBe(t);
    return t;
  });
}

/** The error compile() throws for a pattern AWS refuses. */
export function refusal(pattern: string, operation?: PatternOperation): InvalidFilterPatternError {
  try {
    compile(pattern, operation ? { operation } : {});
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidFilterPatternError);
    return e as InvalidFilterPatternError;
  }
  throw new Error(`pattern was accepted: ${pattern}`);
}
