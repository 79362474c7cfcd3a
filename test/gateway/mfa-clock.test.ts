// MFA codes a student's code computes from the lab clock stay valid whatever other gradings do to
// the shared clock meanwhile, and however slow the machine is: while a student phase runs, the
// gateway checks codes against every lab time the code can have read (LabClock.observe).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LabClock } from '../../src/cloud/gateway/clock.ts';
import { MfaRegistry, totpCode } from '../../src/cloud/services/iam/mfa.ts';

const SEED = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

function device(reg: MfaRegistry) {
  reg.add({ account: '111111111111', serial: 'arn:aws:iam::111111111111:mfa/ben', seedBase32: SEED });
  return reg.get('111111111111', 'arn:aws:iam::111111111111:mfa/ben')!;
}

afterEach(() => vi.restoreAllMocks());

describe('MFA codes and the shared lab clock', () => {
  it('codes read before other gradings moved the clock, checked long (in wall time) after, pass while the phase is observed', async () => {
    let wall = 1_800_000_000_000;
    vi.spyOn(Date, 'now').mockImplementation(() => wall);
    const clock = new LabClock();
    const reg = new MfaRegistry();
    const d = device(reg);
    const phase = clock.observe('111111111111');
    // The student's code reads the clock and computes two consecutive codes (EnableMFADevice).
    const read = clock.nowMs();
    const code1 = totpCode(SEED, read);
    const code2 = totpCode(SEED, read + 30_000);
    // Meanwhile other gradings jump the shared clock three times, and the machine is slow (a minute).
    for (let i = 0; i < 3; i++) {
      wall += 20_000;
      await clock.advance(10 * 60_000);
    }
    // Without observation (the old 5 s wall-time window) the pair is refused: the outcome depended on speed.
    expect(reg.checkConsecutive(d, code1, code2, clock.recentTimes())).toBeUndefined();
    expect(reg.checkConsecutive(d, code1, code2, clock.timesSeenBy('111111111111'))).toBeDefined();
    // Another account's phase is not widened by this one.
    expect(clock.timesSeenBy('222222222222')).toEqual(clock.recentTimes());
    phase.stop();
    // After the phase the window is the recent one again: a stale code no longer passes.
    expect(reg.checkCode({ ...d, lastStep: -1 }, code1, clock.timesSeenBy('111111111111'))).toBeUndefined();
  });

  it('the times cover what the clock passed through, not what it jumped over', async () => {
    let wall = 1_800_000_000_000;
    vi.spyOn(Date, 'now').mockImplementation(() => wall);
    const clock = new LabClock();
    const phase = clock.observe('111111111111');
    const start = clock.nowMs();
    wall += 60_000;
    await clock.advance(60 * 60_000);
    const times = clock.timesSeenBy('111111111111');
    // Before the jump: start .. start+60 s; after it: the current time. Nothing in the skipped hour.
    expect(times).toContain(start);
    expect(times).toContain(clock.nowMs());
    expect(times.some((t) => t > start + 2 * 60_000 && t < clock.nowMs() - 60_000)).toBe(false);
    phase.stop();
  });

  it('a wrong code is still refused while the phase is observed', async () => {
    const clock = new LabClock();
    const reg = new MfaRegistry();
    const d = device(reg);
    const phase = clock.observe('111111111111');
    const real = totpCode(SEED, clock.nowMs());
    const wrong = String((Number(real) + 123457) % 1_000_000).padStart(6, '0');
    expect(reg.checkCode(d, wrong, clock.timesSeenBy('111111111111'))).toBeUndefined();
    expect(reg.checkCode(d, real, clock.timesSeenBy('111111111111'))).toBeDefined();
    phase.stop();
  });
});
