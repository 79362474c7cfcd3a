// compile(): a CloudWatch Logs filter pattern → a matcher, or the InvalidParameterException AWS
// would answer. The kind is told by the first character, as AWS does: '{' JSON, '[' space-delimited,
// anything else terms; an empty (or blank) pattern matches every event.
// Reference: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
import { genericMessage, InvalidFilterPatternError, MESSAGES, PatternSyntaxError, type PatternOperation } from './errors.ts';
import { compileDelimited } from './delimited.ts';
import { compileJson } from './json.ts';
import { FilterMatch } from './match.ts';
import { compileTerms } from './terms.ts';

export type PatternKind = 'all' | 'terms' | 'json' | 'delimited';

export interface CompiledPattern {
  /** The pattern as given. */
  readonly source: string;
  readonly kind: PatternKind;
  /** `%regex%` terms in the pattern (quota: 2 per JSON or space-delimited pattern, 5 regex patterns per log group). */
  readonly regexCount: number;
  /** JSON: the property selectors the pattern uses (`$.a.b`); space-delimited: the named fields (without `$`). */
  readonly fieldNames: readonly string[];
  /** Whether metric filters on this pattern may have dimensions (JSON and space-delimited patterns). */
  readonly supportsDimensions: boolean;
  /** Whether the event matches; allocates nothing on the term and space-delimited paths. */
  test(message: string): boolean;
  /** Whether the event matches, with the values TestMetricFilter would extract. */
  match(message: string): FilterMatch;
}

export interface CompileOptions {
  /** Selects the wording of the generic refusal: "Invalid metric filter pattern" or "Invalid filter pattern". */
  operation?: PatternOperation;
}

/** AWS: filterPattern "Length Constraints: Minimum length of 0. Maximum length of 1024." */
export const MAX_PATTERN_LENGTH = 1024;
/** AWS: "a limit of 2 regex for each filter pattern when creating a delimited or JSON filter pattern". */
export const MAX_REGEX_PER_PATTERN = 2;

const MATCHED_NOTHING_EXTRACTED = new FilterMatch(true, Object.freeze({}) as Record<string, string | number>);

const cache = new Map<string, CompiledPattern>();
const CACHE_LIMIT = 2000;

/**
 * Compiles a filter pattern. Throws InvalidFilterPatternError (InvalidParameterException, HTTP 400)
 * for the patterns AWS refuses; its `hint` says what is wrong in seclab's words. Compiled patterns
 * are cached by text and may be shared.
 */
export function compile(pattern: string, options: CompileOptions = {}): CompiledPattern {
  const hit = cache.get(pattern);
  if (hit) return hit;
  const operation = options.operation ?? 'PutMetricFilter';
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new InvalidFilterPatternError(
      `1 validation error detected: Value at 'filterPattern' failed to satisfy constraint: Member must have length less than or equal to ${MAX_PATTERN_LENGTH}`,
      `the pattern has ${pattern.length} characters; AWS accepts at most ${MAX_PATTERN_LENGTH}`,
      true,
    );
  }
  let compiled: CompiledPattern;
  try {
    compiled = build(pattern);
  } catch (e) {
    if (e instanceof PatternSyntaxError) {
      throw new InvalidFilterPatternError(e.awsMessage ?? genericMessage(operation), e.message, e.inferred);
    }
    throw e;
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(pattern, compiled);
  return compiled;
}

function build(source: string): CompiledPattern {
  const text = source.trim();
  if (text.length === 0) {
    return {
      source,
      kind: 'all',
      regexCount: 0,
      fieldNames: [],
      supportsDimensions: false,
      test: () => true,
      match: () => MATCHED_NOTHING_EXTRACTED,
    };
  }
  if (text.startsWith('{')) {
    if (!text.endsWith('}')) throw new PatternSyntaxError('a JSON pattern is written { condition }', MESSAGES.jsonUnclosed);
    const json = compileJson(text.slice(1, -1));
    checkRegexQuota(json.regexCount);
    return {
      source,
      kind: 'json',
      regexCount: json.regexCount,
      fieldNames: json.selectors.map((s) => s.text),
      supportsDimensions: true,
      test: json.test,
      match: json.match,
    };
  }
  if (text.startsWith('[')) {
    if (!text.endsWith(']')) throw new PatternSyntaxError('a space-delimited pattern is written [field, field, ...]', MESSAGES.delimitedUnclosed, true);
    const d = compileDelimited(text.slice(1, -1));
    checkRegexQuota(d.regexCount);
    return {
      source,
      kind: 'delimited',
      regexCount: d.regexCount,
      fieldNames: d.names,
      supportsDimensions: true,
      test: d.test,
      match: d.match,
    };
  }
  const terms = compileTerms(text);
  const test = terms.test;
  return {
    source,
    kind: 'terms',
    regexCount: terms.regexCount,
    fieldNames: [],
    supportsDimensions: false,
    test,
    match: (m) => (test(m) ? MATCHED_NOTHING_EXTRACTED : FilterMatch.NONE),
  };
}

function checkRegexQuota(n: number): void {
  if (n > MAX_REGEX_PER_PATTERN) {
    throw new PatternSyntaxError(
      `the pattern holds ${n} regular expressions; AWS allows ${MAX_REGEX_PER_PATTERN} in a JSON or space-delimited filter pattern`,
      undefined,
      true,
    );
  }
}
