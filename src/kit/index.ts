// What students' solutions may import as 'seclab/kit': small helpers, nothing that does the lab for them.
import * as OTPAuth from 'otpauth';

/**
 * The 6-digit code an authenticator app shows for a virtual MFA device seed (the Base32StringSeed of
 * CreateVirtualMFADevice) at `time` (default: the lab cloud's now). EnableMFADevice needs two consecutive codes:
 * `totp(seed, now - 30_000)` and `totp(seed)`.
 */
export function totp(seedBase32: string | Uint8Array, time: number = labNow()): string {
  const seed = typeof seedBase32 === 'string' ? seedBase32 : new TextDecoder().decode(seedBase32);
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(seed), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: time });
}

/** What every lab passes to a solution's exported functions. */
export interface LabInput<Env = Record<string, unknown>> {
  lab: string;
  accountId: string;
  region: string;
  /** The lab cloud's endpoint (also in AWS_ENDPOINT_URL). */
  endpoint: string;
  /** Lab cloud time in ms since the epoch (use it for TOTP codes: the lab clock may run ahead). */
  now: number;
  /** Facts about the lab's company: people, buckets, addresses. */
  env: Env;
}

/** The lab cloud's clock (it may run ahead of the wall clock when scenarios advance time). */
export function labNow(): number {
  return Date.now() + Number(process.env['SECLAB_CLOCK_OFFSET_MS'] ?? 0);
}
