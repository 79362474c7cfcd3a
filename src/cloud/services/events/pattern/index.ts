// EventBridge event patterns: compile once, match many events; TestEventPattern on top.
export { compilePattern, type CompiledEventPattern } from './compile.ts';
export { InvalidEventPatternException, EventValidationException } from './errors.ts';
export { testEventPattern, parseTestEvent, REQUIRED_EVENT_FIELDS, type TestEventPatternOptions } from './test-event-pattern.ts';
