// CloudWatch Logs filter patterns, as a pure engine: compile a pattern once, then test or match
// log events; turn matches into metric values and dimensions; answer TestMetricFilter.
//
//   const p = compile('[version, account, eni, source, destination, srcport, destport="22", protocol="6", packets, bytes, windowstart, windowend, action="REJECT", flowlogstatus]');
//   p.test(record)                                  // fast yes/no
//   const m = p.match(record)                       // { matched, fields: { $version: '2', ... } }
//   metricValue(p, m, { metricValue: '1', defaultValue: 0 })
//   testMetricFilter('ERROR', ['[ERROR] 400 BAD REQUEST'])   // TestMetricFilter's response body
export { compile, MAX_PATTERN_LENGTH, MAX_REGEX_PER_PATTERN, type CompiledPattern, type CompileOptions, type PatternKind } from './compile.ts';
export { InvalidFilterPatternError, LogsApiError, MESSAGES, type PatternOperation } from './errors.ts';
export { FilterMatch } from './match.ts';
export {
  dimensionValues,
  MAX_DIMENSIONS,
  metricValue,
  testMetricFilter,
  validateMetricTransformation,
  type MetricFilterMatchRecord,
  type MetricTransformationInput,
  type TestMetricFilterResponse,
} from './metric.ts';
