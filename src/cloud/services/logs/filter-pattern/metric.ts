// From a matched event to a metric datum, and the TestMetricFilter operation.
// Sources: "Filter pattern syntax for metric filters" (metric values, default values, dimensions),
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntaxForMetricFilters.html;
// MetricTransformation and TestMetricFilter in the CloudWatch Logs API reference.
//
// - metricValue is a number ("1" to count), or "$" and a field: `$.latency` for JSON patterns,
//   `$size` (a named field) or `$7` (the 7th field) for space-delimited ones ("Example: Extract
//   Fields from an Apache Log"). A bare name without "$" is refused (cfn-lint#1525 reports AWS
//   refusing `MetricValue: length`).
// - defaultValue is emitted for events that do not match.
// - dimensions (up to three) read fields like metricValue does and are "only applicable for JSON
//   or delimited filter patterns" (console), else "The specified filter pattern does not support
//   dimensions"; a dimension whose field is not in the event is left out of that datum ("This
//   dimension will only be published for a metric if the value is found in the log event").
import { LogsApiError, MESSAGES } from './errors.ts';
import { compile, type CompiledPattern } from './compile.ts';
import { parseSelectorRef } from './json.ts';
import type { FilterMatch } from './match.ts';
import { parseNumber } from './values.ts';

export interface MetricTransformationInput {
  metricValue: string;
  defaultValue?: number | null;
  dimensions?: Record<string, string>;
  metricName?: string;
  metricNamespace?: string;
  unit?: string;
}

export const MAX_DIMENSIONS = 3;

/**
 * The value a metric filter publishes for one event: the metric value for a match (a literal, or
 * the number in the field it names), the default value (if any) for an event that does not match,
 * undefined when nothing is published (no default value, or the field is missing or not a number).
 */
export function metricValue(
  _compiled: CompiledPattern,
  match: FilterMatch,
  transformation: Pick<MetricTransformationInput, 'metricValue' | 'defaultValue'>,
): number | undefined {
  if (!match.matched) return transformation.defaultValue ?? undefined;
  const ref = transformation.metricValue.trim();
  const literal = parseNumber(ref);
  if (literal !== undefined) return literal;
  if (!ref.startsWith('$')) return undefined;
  const v = match.value(ref);
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return parseNumber(v.trim());
  return undefined;
}

/** The dimensions of the datum for a matched event: each name with the text of its field, when present. */
export function dimensionValues(
  _compiled: CompiledPattern,
  match: FilterMatch,
  dimensions: Record<string, string> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!match.matched || !dimensions) return out;
  for (const [name, ref] of Object.entries(dimensions)) {
    const v = match.value(ref.trim());
    if (v !== undefined && v !== '') out[name] = String(v);
  }
  return out;
}

function invalid(message: string, hint: string, inferred = true): LogsApiError {
  return new LogsApiError('InvalidParameterException', message, hint, inferred);
}

/** Whether `$ref` names something the pattern can extract. */
function refersToField(compiled: CompiledPattern, ref: string): boolean {
  if (compiled.kind === 'json') return parseSelectorRef(ref) !== null;
  if (compiled.kind === 'delimited') return /^\$[1-9]\d*$/.test(ref) || compiled.fieldNames.includes(ref.slice(1));
  return false;
}

/** The checks PutMetricFilter makes on a metric transformation against its pattern; throws LogsApiError. */
export function validateMetricTransformation(compiled: CompiledPattern, t: MetricTransformationInput): void {
  const mv = (t.metricValue ?? '').trim();
  if (mv.length === 0 || t.metricValue.length > 100) {
    throw invalid('Invalid metric value', 'metricValue is required and holds at most 100 characters: a number, or $ and a field of the pattern');
  }
  if (parseNumber(mv) === undefined && !(mv.startsWith('$') && refersToField(compiled, mv))) {
    const hint =
      compiled.kind === 'json'
        ? `metricValue '${mv}' is neither a number nor a property selector such as $.latency`
        : compiled.kind === 'delimited'
          ? `metricValue '${mv}' is neither a number nor $ followed by a field of the pattern (${compiled.fieldNames.map((n) => `$${n}`).join(', ') || 'none named'}) or a position such as $7`
          : `metricValue '${mv}' must be a number: only JSON and space-delimited patterns extract fields`;
    throw invalid(`Invalid metric value '${mv}'`, hint);
  }
  const dims = t.dimensions ? Object.entries(t.dimensions) : [];
  if (dims.length > 0) {
    if (compiled.kind !== 'json' && compiled.kind !== 'delimited') {
      throw invalid(MESSAGES.dimensionsUnsupported, 'dimensions are only applicable for JSON or space-delimited filter patterns', false);
    }
    if (dims.length > MAX_DIMENSIONS) {
      throw invalid(`A metric filter can have at most ${MAX_DIMENSIONS} dimensions`, 'One metric filter can include as many as three dimensions');
    }
    if (t.defaultValue !== undefined && t.defaultValue !== null) {
      throw invalid('A metric filter with dimensions cannot have a default value', 'remove defaultValue or the dimensions');
    }
    for (const [name, ref] of dims) {
      const r = ref.trim();
      if (!r.startsWith('$') || !refersToField(compiled, r)) {
        throw invalid(`Invalid dimension value '${ref}' for dimension '${name}'`, 'a dimension value is $ followed by a field of the pattern, like metricValue');
      }
    }
  }
}

export interface MetricFilterMatchRecord {
  eventNumber: number;
  eventMessage: string;
  extractedValues: Record<string, string>;
}

export interface TestMetricFilterResponse {
  matches: MetricFilterMatchRecord[];
}

/**
 * The TestMetricFilter operation: which of the messages the pattern matches, each with its
 * 1-based position (as in the AWS CLI reference example: the first message is eventNumber 1) and
 * the values extracted from it (all strings). Throws InvalidFilterPatternError for a pattern AWS
 * refuses and LogsApiError for an empty or oversized list (1 to 50 messages).
 */
export function testMetricFilter(pattern: string, messages: readonly string[]): TestMetricFilterResponse {
  const compiled = compile(pattern, { operation: 'TestMetricFilter' });
  if (messages.length < 1 || messages.length > 50) {
    throw invalid('logEventMessages must hold between 1 and 50 messages', 'TestMetricFilter takes 1 to 50 log event messages');
  }
  const matches: MetricFilterMatchRecord[] = [];
  messages.forEach((message, i) => {
    const m = compiled.match(message);
    if (!m.matched) return;
    const extractedValues: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.fields ?? {})) extractedValues[k] = String(v);
    matches.push({ eventNumber: i + 1, eventMessage: message, extractedValues });
  });
  return { matches };
}
