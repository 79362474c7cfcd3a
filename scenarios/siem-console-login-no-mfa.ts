// Lab siem: the analyst's console password was phished. The attacker signs in to the console from abroad, without
// MFA (the analyst never set a device up), after one wrong try. The lab cloud has no console: the sign-in events are
// synthesized as CloudTrail writes them (src/cloud/services/cloudtrail/console-signin.ts, marked seclab:emulated).
import type { Scenario } from '../src/engine/types.ts';
import { recordConsoleSignIn } from '../src/cloud/services/cloudtrail/console-signin.ts';
import { ANALYST, randomRogueIp } from '../labs/siem/company.ts';
import { MINUTE } from '../labs/siem/background.ts';
import { injecting, observeAttack, siemRun } from '../labs/siem/run.ts';

interface State { ip: string; start: number }

export const consoleLoginWithoutMfa: Scenario = {
  id: 'console-login-without-mfa',
  title: "A phished password: console sign-in without MFA from abroad",
  description: "The analyst's console password was phished. The attacker fails once, then signs in to the console without MFA from a foreign hosting address, while the administrator signs in as usual, with MFA, from the office.",
  techniques: ['T1078.004'],
  detections: ['seclab: Console Login Without MFA by an IAM User or Root', 'SigmaHQ: AWS Successful Console Login Without MFA'],
  points: { blocked: 0, detected: 10 },
  async prepare(): Promise<State> {
    return { ip: randomRogueIp(), start: 0 };
  },
  async inject(session, state) {
    const st = state as State;
    return injecting(session, st, async (run) => {
      const ua = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
      recordConsoleSignIn(session.gateway.service('cloudtrail'), { account: session.accountId, userName: ANALYST, sourceIp: st.ip, userAgent: ua, mfaUsed: false, success: false });
      recordConsoleSignIn(session.gateway.service('cloudtrail'), { account: session.accountId, userName: ANALYST, sourceIp: st.ip, userAgent: ua, mfaUsed: false });
      const steps = [
        { description: `console sign-in as ${ANALYST} with a wrong password`, allowed: false, errorCode: 'Failed authentication', at: st.start },
        { description: `console sign-in as ${ANALYST}, password only (no MFA device)`, allowed: true, at: st.start },
      ];
      for (const s of steps) session.onAttackStep?.(s);
      return steps;
    });
  },
  async observe(session, steps, state) {
    const st = state as State;
    return observeAttack(session, await siemRun(session), st.start, steps, {
      what: 'the console sign-in without MFA',
      techniques: ['T1078'],
      tactics: ['initial-access', 'persistence', 'defense-evasion'],
      isAttack: (e) => e.fields['sourceIPAddress'] === st.ip,
      deadlineMs: 15 * MINUTE,
      hint: 'ConsoleLogin events say whether MFA was used in additionalEventData.MFAUsed ("Yes"/"No") and whether it worked in responseElements.ConsoleLogin.',
    }, { consoleSignIn: true });
  },
};
