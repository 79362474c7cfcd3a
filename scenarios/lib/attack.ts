// Shared by scenarios: run an attacker's call and record what the lab cloud did with it, then judge
// the outcome from what the gateway allowed and what CloudTrail recorded.
import type { LabSession } from '../../src/engine/session.ts';
import type { AttackStep, ScenarioResult } from '../../src/engine/types.ts';

/**
 * Errors by which AWS refuses a caller: authentication or authorization. Only these count as a
 * control stopping an attacker. The gateway authorizes before the service looks at the request, so
 * any other error (NoSuchEntity...) means the controls let the call through and it failed anyway.
 */
const REFUSALS = new Set([
  'AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthorizationError', 'AuthFailure',
  'InvalidClientTokenId', 'InvalidAccessKeyId', 'UnrecognizedClientException', 'SignatureDoesNotMatch',
  'InvalidSignatureException', 'ExpiredToken', 'ExpiredTokenException', 'InvalidToken', 'MissingAuthenticationToken',
]);

export async function attempt(session: LabSession, description: string, call: () => Promise<unknown>): Promise<AttackStep> {
  const at = session.now();
  let step: AttackStep;
  try {
    await call();
    step = { description, allowed: true, at };
  } catch (e) {
    const err = e as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
    // A crash of the lab cloud is not a control either.
    const status = err.$metadata?.httpStatusCode ?? 0;
    if (status >= 500 || !status) throw new Error(`${description}: the lab cloud failed (${err.name}: ${(e as Error).message})`);
    const code = err.Code ?? err.name ?? 'Error';
    step = { description, allowed: !REFUSALS.has(code), errorCode: code, at };
  }
  session.onAttackStep?.(step);
  return step;
}

/**
 * Blocked when every step was refused. "Detected" here means each refused attempt is visible in
 * CloudTrail with its error and the attacker's address, which is what a reviewer works from.
 */
export function judgeByRefusals(session: LabSession, steps: AttackStep[], sourceIp: string, what: string): ScenarioResult {
  const allowed = steps.filter((s) => s.allowed);
  const blocked = steps.length > 0 && allowed.length === 0;
  const start = steps[0]?.at ?? session.now();
  const denied = session.events().filter((e) => e.sourceIPAddress === sourceIp && e.errorCode && Date.parse(e.eventTime) >= start - 1000);
  const evidence = denied.slice(0, 10).map((e) => `${e.eventTime} ${e.eventSource.split('.')[0]}:${e.eventName} from ${e.sourceIPAddress}: ${e.errorCode}`);
  const firstDenied = denied[0];
  return {
    blocked,
    detected: denied.length > 0,
    ...(firstDenied ? { timeToDetectMs: Math.max(0, Date.parse(firstDenied.eventTime) - Math.floor(start / 1000) * 1000) } : {}),
    steps,
    evidence,
    feedback: blocked
      ? `${what}: all ${steps.length} attempts were refused (${[...new Set(steps.map((s) => s.errorCode))].join(', ')})`
      : `${what}: ${allowed.length} of ${steps.length} attempts got past the controls: ${allowed.map((s) => (s.errorCode ? `${s.description} (then failed: ${s.errorCode})` : s.description)).join('; ')}`,
  };
}
