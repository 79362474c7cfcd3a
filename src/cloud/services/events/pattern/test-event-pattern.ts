// The TestEventPattern operation's semantics.
// https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_TestEventPattern.html
import { compilePattern, type CompiledEventPattern } from './compile.ts';
import { EventValidationException } from './errors.ts';

/**
 * Envelope fields TestEventPattern insists on. The API reference also lists `resources`, but AWS accepts
 * events without it (checked against AWS by LocalStack's validated tests), so it is only required when
 * asked for with `requireResources`.
 */
export const REQUIRED_EVENT_FIELDS = ['id', 'account', 'source', 'time', 'region', 'detail-type'] as const;

export interface TestEventPatternOptions {
  /** Also require `resources`, as the API reference documents. Default false (AWS's behaviour). */
  requireResources?: boolean;
}

/** Parses and checks an event the way TestEventPattern does; throws ValidationException otherwise. */
export function parseTestEvent(eventJson: string | object, options: TestEventPatternOptions = {}): Record<string, unknown> {
  let event: unknown;
  if (typeof eventJson === 'string') {
    try {
      event = JSON.parse(eventJson);
    } catch {
      throw new EventValidationException();
    }
  } else event = eventJson;
  if (event === null || typeof event !== 'object' || Array.isArray(event)) throw new EventValidationException();
  const fields = options.requireResources ? [...REQUIRED_EVENT_FIELDS, 'resources'] : REQUIRED_EVENT_FIELDS;
  for (const f of fields) if (!Object.prototype.hasOwnProperty.call(event, f)) throw new EventValidationException();
  return event as Record<string, unknown>;
}

/**
 * TestEventPattern: the pattern is compiled first (InvalidEventPatternException), then the event is
 * checked (ValidationException "Parameter Event is not valid."), then matched.
 */
export function testEventPattern(
  pattern: string | object | CompiledEventPattern,
  eventJson: string | object,
  options: TestEventPatternOptions = {},
): boolean {
  const compiled = isCompiled(pattern) ? pattern : compilePattern(pattern);
  const event = parseTestEvent(eventJson, options);
  return compiled.matches(event);
}

function isCompiled(p: unknown): p is CompiledEventPattern {
  return typeof p === 'object' && p !== null && typeof (p as CompiledEventPattern).matches === 'function' && 'branchCount' in p;
}
