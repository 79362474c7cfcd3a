// Errors of the CloudWatch Logs filter-pattern engine, in the shape the Logs API (JSON 1.1 protocol)
// returns them: HTTP 400, `{"__type": "InvalidParameterException", "message": "..."}`.
//
// Where each message comes from (only the first three have been seen coming from AWS):
// - "Invalid character(s) in term '...'": returned by PutMetricFilter / PutSubscriptionFilter
//   (terraform-provider-aws and serverless-plugin-log-subscription issue reports).
// - "If a filter pattern starts with '{' it must end with '}'": returned by FilterLogEvents
//   (jorgebastida/awslogs#210).
// - "Invalid metric filter pattern" (PutMetricFilter, aws/aws-cdk#16278) and "Invalid filter pattern"
//   (FilterLogEvents and the console's test, aws/aws-toolkit-jetbrains#3219): the generic refusals.
// - "The specified filter pattern does not support dimensions" (PutMetricFilter,
//   hashicorp/terraform-provider-aws#22105).
// - Anything else (the ']' counterpart of the '{' message, quotas, metric values) is worded by
//   analogy; `inferred` marks those errors so callers and tests can tell.
import { ApiError } from '../../../gateway/api-error.ts';

/** The operation a pattern is compiled for: it only changes the wording of the generic refusal. */
export type PatternOperation =
  | 'PutMetricFilter'
  | 'TestMetricFilter'
  | 'PutSubscriptionFilter'
  | 'FilterLogEvents'
  | 'StartLiveTail';

/** A refusal of the Logs API. `hint` is seclab's own explanation for students; it is not part of AWS's body. */
export class LogsApiError extends ApiError {
  constructor(
    code: string,
    message: string,
    readonly hint?: string,
    /** True when AWS's exact wording for this case is not known and the message was written by analogy. */
    readonly inferred = false,
  ) {
    super(400, code, message);
    this.name = 'LogsApiError';
  }

  /** The JSON body the Logs API answers with. */
  toAwsJson(): { __type: string; message: string } {
    return { __type: this.code, message: this.message };
  }
}

/** A filter pattern that AWS would refuse (InvalidParameterException), or one longer than 1024 characters. */
export class InvalidFilterPatternError extends LogsApiError {
  constructor(message: string, hint?: string, inferred = false, code = 'InvalidParameterException') {
    super(code, message, hint, inferred);
    this.name = 'InvalidFilterPatternError';
  }
}

export const MESSAGES = {
  invalidCharacters: (term: string) => `Invalid character(s) in term '${term}'`,
  jsonUnclosed: "If a filter pattern starts with '{' it must end with '}'",
  delimitedUnclosed: "If a filter pattern starts with '[' it must end with ']'",
  genericMetric: 'Invalid metric filter pattern',
  genericFilter: 'Invalid filter pattern',
  dimensionsUnsupported: 'The specified filter pattern does not support dimensions',
} as const;

/** The generic refusal for an operation ("Invalid metric filter pattern" / "Invalid filter pattern"). */
export function genericMessage(operation: PatternOperation): string {
  return operation === 'PutMetricFilter' || operation === 'TestMetricFilter' ? MESSAGES.genericMetric : MESSAGES.genericFilter;
}

/** Thrown inside the parsers; `compile` turns it into an InvalidFilterPatternError with the right wording. */
export class PatternSyntaxError extends Error {
  constructor(
    /** Seclab's explanation (becomes the hint). */
    message: string,
    /** AWS's message when it is a specific one (invalid characters, unbalanced braces); else the generic refusal is used. */
    readonly awsMessage?: string,
    readonly inferred = false,
  ) {
    super(message);
    this.name = 'PatternSyntaxError';
  }
}

export function invalidCharacters(term: string): PatternSyntaxError {
  return new PatternSyntaxError(
    `the term '${term}' holds characters that must be inside double quotation marks ("...") or, in a regex, written as \\xhh`,
    MESSAGES.invalidCharacters(term),
  );
}
