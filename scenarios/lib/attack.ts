// Shared by scenarios: run an attacker's call and record what the lab cloud did with it, then judge
// the outcome from what the gateway allowed and what CloudTrail recorded.
import type { LabSession } from '../../src/engine/session.ts';
import type { AttackStep, ScenarioResult } from '../../src/engine/types.ts';

export async function attempt(session: LabSession, description: string, call: () => Promise<unknown>): Promise<AttackStep> {
  const at = session.now();
  try {
    await call();
    return { description, allowed: true, at };
  } catch (e) {
    const err = e as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
    // Only refusals count as blocked; a crash of the lab cloud is not a control.
    const status = err.$metadata?.httpStatusCode ?? 0;
    if (status >= 500 || !status) throw new Error(`${description}: the lab cloud failed (${err.name}: ${(e as Error).message})`);
    return { description, allowed: false, errorCode: err.Code ?? err.name, at };
  }
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
      : `${what}: ${allowed.length} of ${steps.length} attempts succeeded: ${allowed.map((s) => s.description).join('; ')}`,
  };
}
