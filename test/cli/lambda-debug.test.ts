// The Lambda section of reports without a lab cloud: a grade carrying `functions` shows each function's
// invocations, errors, refused triggers and log tail in the terminal report (within 80 columns) and in
// the Markdown feedback; a grade without them shows nothing more.
import { describe, expect, it } from 'vitest';
import { compactLine, invocationError, renderFunctionsMarkdown, renderFunctionsText } from '../../src/engine/report/lambda-debug.ts';
import { renderFeedback } from '../../src/engine/report/feedback.ts';
import { renderLabText } from '../../src/engine/report/text.ts';
import { buildGrade } from '../../src/engine/report/record.ts';
import type { FunctionDebug, LabGrade } from '../../src/engine/types.ts';

const responder: FunctionDebug = {
  name: 'northwind-responder', invocations: 3, errors: 3,
  errorKinds: [{ type: 'TypeError', message: "Cannot read properties of undefined (reading 'length') ".repeat(3).trim(), count: 3 }],
  refused: [],
  logTail: ['INFO responder got an event with Records', `INFO ${'x'.repeat(200)}`],
};
const unused: FunctionDebug = {
  name: 'helper', invocations: 0, errors: 0, errorKinds: [],
  refused: [{ service: 'sns.amazonaws.com', reason: 'helper has no resource policy letting sns.amazonaws.com invoke it (lambda AddPermission)', count: 2 }],
  logTail: [],
};

const lab = (functions?: FunctionDebug[]): LabGrade => ({
  id: 'network', title: 'Network monitoring and response', score: 72, maxScore: 100, passed: false, checks: [], scenarios: [], student: [],
  accountId: '123456789012', durationMs: 1, ...(functions ? { functions } : {}),
});

describe('the Lambda section of reports', () => {
  it('names each error with its count, refused triggers and the log tail, within 80 columns', () => {
    const text = renderLabText(lab([responder, unused]), { width: 80 });
    const section = text.slice(text.indexOf('Your Lambda functions'), text.indexOf('\nScore '));
    expect(section).toContain('northwind-responder: 3 invocations, 3 errors');
    expect(section).toContain("TypeError: Cannot read properties of undefined (reading 'length')");
    expect(section).toContain('(×3)');
    expect(section).toContain('last lines of /aws/lambda/northwind-responder:');
    expect(section).toContain('INFO responder got an event with Records');
    expect(section).toContain('helper: never invoked');
    expect(section).toMatch(/trigger refused 2 times: helper has no resource policy/);
    expect(section).toContain('/aws/lambda/helper is empty');
    for (const l of section.split('\n')) expect(l.length, l).toBeLessThanOrEqual(80);
  });

  it('adds nothing when the grade has no functions', () => {
    expect(renderFunctionsText(lab())).toEqual([]);
    expect(renderFunctionsMarkdown(lab())).toEqual([]);
    expect(renderLabText(lab())).not.toContain('Lambda');
  });

  it('is in the Markdown feedback, log lines in a code block', () => {
    const md = renderFeedback(buildGrade({ student: 'ada', workspace: '/w', target: 'moto', version: '0', startedAt: '2026-01-01T00:00:00Z', labs: [lab([responder])] }));
    expect(md).toContain('### Your Lambda functions');
    expect(md).toContain('- `northwind-responder`: 3 invocations, 3 errors');
    expect(md).toMatch(/```\n {4}TypeError: Cannot read properties/);
  });

  it('reads errors as Lambda reports them and log lines without time and request id', () => {
    expect(invocationError({ result: { payload: { errorType: 'TypeError', errorMessage: 'boom' }, functionError: 'Unhandled' } })).toEqual({ type: 'TypeError', message: 'boom' });
    expect(invocationError({ result: { payload: { ok: 1 } } })).toBeUndefined();
    // A timeout names its request: the same error every time is one kind.
    expect(invocationError({ result: { functionError: 'Unhandled', payload: { errorType: 'Sandbox.Timedout', errorMessage: 'RequestId: 0f8fad5b-d9cb-469f-a165-70867728950e Error: Task timed out after 3.00 seconds' } } })!.message)
      .toBe('Error: Task timed out after 3.00 seconds');
    expect(compactLine('2026-12-07T15:07:00.000Z\t0f8fad5b-d9cb-469f-a165-70867728950e\tERROR\tfailed:\n  at x')).toBe('ERROR failed: at x');
    expect(compactLine('plain line')).toBe('plain line');
  });
});
