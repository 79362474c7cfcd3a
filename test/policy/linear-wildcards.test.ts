// Students write IAM policies with `*` and `?` in Action, Resource and StringLike/ArnLike conditions, and the
// gateway evaluates them on every request. Matching must finish in time bounded by value × pattern length
// (a backtracking RegExp compiled from `*a*a*a*a*a*b` is polynomial in the value); the tests assert results
// only: a matcher that backtracked would not return, and vitest's timeout would fail the test. A property test
// checks the new matcher against the regular expressions it replaced, on short values where those are safe.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wildcardMatch, type WildcardMode } from '../../src/cloud/policy/patterns.ts';
import { ACCT, decision, doc } from './helpers.ts';

const A50K = 'a'.repeat(50_000);
const NO_CTX = new Map<string, string>();

describe('IAM wildcards: linear-time matching', () => {
  it('Resource: arn:aws:s3:::bucket/*a*a*a*a*a*a*b against a 50,000-character key', () => {
    const identity = [doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bucket/*a*a*a*a*a*a*b' })];
    expect(decision({ action: 's3:GetObject', resource: `arn:aws:s3:::bucket/${A50K}`, identity })).toBe('ImplicitDeny');
    expect(decision({ action: 's3:GetObject', resource: `arn:aws:s3:::bucket/${A50K}b`, identity })).toBe('Allow');
  });

  it('Resource with wildcards inside a segment (they do not cross ":") runs as an automaton', () => {
    const pattern = `arn:aws:iam::${ACCT}:user/*a*a*a*a*a*a*b`;
    expect(wildcardMatch(pattern, `arn:aws:iam::${ACCT}:user/${A50K}`, 'resource', NO_CTX, false)).toBe(false);
    expect(wildcardMatch(pattern, `arn:aws:iam::${ACCT}:user/${A50K}b`, 'resource', NO_CTX, false)).toBe(true);
    expect(wildcardMatch(pattern, `arn:aws:iam::${ACCT}:user/${'a:'.repeat(25_000)}b`, 'resource', NO_CTX, false)).toBe(false);
    expect(wildcardMatch(`arn:aws:iam::${ACCT}:user/?a?a?a?a?b`, `arn:aws:iam::${ACCT}:user/${A50K}`, 'resource', NO_CTX, false)).toBe(false);
  });

  it('StringLike and ArnLike conditions with many stars against long context values', () => {
    const allowIf = (op: string, value: string) =>
      doc({ Effect: 'Allow', Action: 'sts:GetCallerIdentity', Resource: '*', Condition: { [op]: { 'aws:UserAgent': value, 'aws:SourceArn': value } } });
    const run = (op: string, pattern: string, value: string) =>
      decision({ action: 'sts:GetCallerIdentity', resource: '*', identity: [allowIf(op, pattern)], context: { 'aws:UserAgent': value, 'aws:SourceArn': value } });
    expect(run('StringLike', '*a*a*a*a*a*a*b', A50K)).toBe('ImplicitDeny');
    expect(run('StringLike', '*a*a*a*a*a*a*b', `${A50K}b`)).toBe('Allow');
    expect(run('StringNotLike', '*a*a*a*a*a*a*b', A50K)).toBe('Allow');
    expect(run('ArnLike', 'arn:aws:*:*:*:*a*a*a*a*a*a*b', `arn:aws:s3:::${A50K}`)).toBe('ImplicitDeny');
    expect(run('ArnLike', 'arn:aws:*:*:*:*a*a*a*a*a*a*b', `arn:aws:s3:::${A50K}b`)).toBe('Allow');
    expect(run('ArnLike', 'arn:*a*a*a*a*a*:s3:::x', `arn:${A50K}:s3:::x`)).toBe('Allow');
    expect(run('ArnLike', 'arn:*a*a*a*a*a*b:s3:::x', `arn:${A50K}:s3:::x`)).toBe('ImplicitDeny');
  });

  it('Action patterns are case-insensitive globs', () => {
    expect(wildcardMatch('s3:*a*a*a*a*a*a*b', `s3:${'A'.repeat(50_000)}`, 'glob', NO_CTX, false, true)).toBe(false);
    expect(wildcardMatch('s3:*a*a*a*a*a*a*b', `s3:${'A'.repeat(50_000)}B`, 'glob', NO_CTX, false, true)).toBe(true);
  });
});

// The regular expressions the matcher replaced (patterns.ts before), as the reference on short values.
function referenceRegex(pattern: string, mode: WildcardMode, ignoreCase: boolean): RegExp | null {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const tokens = pattern.split(/([*?])/).filter((t) => t !== '');
  let src = '^';
  let colons = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t !== '*' && t !== '?') {
      src += esc(t);
      colons += t.split(':').length - 1;
      continue;
    }
    let crosses: boolean;
    if (mode === 'glob') crosses = true;
    else if (mode === 'arn') crosses = colons >= 5;
    else {
      const next = tokens[i + 1];
      crosses = t === '*' && (next === undefined || (next !== '*' && next !== '?' && next.startsWith(':')));
    }
    src += t === '*' ? (crosses ? '.*' : '[^:]*') : crosses ? '.' : '[^:]';
  }
  if (mode === 'arn' && colons < 5) return null;
  return new RegExp(src + '$', ignoreCase ? 'is' : 's');
}

describe('IAM wildcards: same answers as the regular expressions they replace', () => {
  it('glob, resource and arn modes, with and without case, on random short patterns and values', () => {
    const pattern = fc.array(fc.constantFrom('a', 'b', 'B', ':', '/', '*', '?', 'ab'), { maxLength: 12 }).map((a) => a.join(''));
    const value = fc.array(fc.constantFrom('a', 'b', 'A', 'B', ':', '/'), { maxLength: 14 }).map((a) => a.join(''));
    const mode = fc.constantFrom<WildcardMode>('glob', 'resource', 'arn');
    fc.assert(
      fc.property(pattern, value, mode, fc.boolean(), (p, v, m, ic) => {
        // arn mode needs six parts to match anything: give half of the cases a five-colon prefix
        const [pp, vv] = m === 'arn' && v.length % 2 === 0 ? [`a:b:c:d:e:${p}`, `a:b:c:d:e:${v}`] : [p, v];
        const re = referenceRegex(pp, m, ic);
        const want = re !== null && re.test(vv);
        expect(wildcardMatch(pp, vv, m, NO_CTX, false, ic)).toBe(want);
      }),
      { numRuns: 3000 },
    );
  });
});
