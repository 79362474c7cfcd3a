// Virtual MFA devices checked with real TOTP (RFC 6238). moto stores devices but accepts any code;
// the gateway keeps each device's seed (seen in the CreateVirtualMFADevice response) and checks codes.
import * as OTPAuth from 'otpauth';

export interface MfaDevice {
  account: string;
  serial: string;
  /** Base32 seed, as AWS hands it to the user (moto base64-encodes it once more in the XML). */
  seedBase32: string;
  userName?: string;
  enabled: boolean;
  /** Last TOTP time step accepted, to refuse replays of the same code. */
  lastStep: number;
  /** The device's tags (moto 5.2 drops them): CreateVirtualMFADevice, TagMFADevice, UntagMFADevice. */
  tags?: { Key: string; Value: string }[];
}

const PERIOD = 30;

function totp(seedBase32: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(seedBase32), digits: 6, period: PERIOD, algorithm: 'SHA1' });
}

export function stepAt(ms: number): number {
  return Math.floor(ms / 1000 / PERIOD);
}

/** The code an authenticator app would show at time `ms` (the "phone" of a lab person). */
export function totpCode(seedBase32: string, ms: number): string {
  return totp(seedBase32).generate({ timestamp: ms });
}

/**
 * The time steps a code may be for: around `nowMs`, or around any of several lab times (now first, then
 * the times the lab clock stood at just before its recent jumps: see LabClock.recentTimes).
 */
function candidateSteps(nowMs: number | readonly number[], around: number[]): number[] {
  const out: number[] = [];
  for (const ms of typeof nowMs === 'number' ? [nowMs] : nowMs) {
    for (const d of around) if (!out.includes(stepAt(ms) + d)) out.push(stepAt(ms) + d);
  }
  return out;
}

export class MfaRegistry {
  private devices = new Map<string, MfaDevice>(); // key: account|serial

  private key(account: string, serial: string): string {
    return `${account}|${serial}`;
  }

  add(device: Omit<MfaDevice, 'enabled' | 'lastStep'>): void {
    this.devices.set(this.key(device.account, device.serial), { ...device, enabled: false, lastStep: -1 });
  }

  get(account: string, serial: string): MfaDevice | undefined {
    return this.devices.get(this.key(account, serial));
  }

  remove(account: string, serial: string): void {
    this.devices.delete(this.key(account, serial));
  }

  forUser(account: string, userName: string): MfaDevice[] {
    return [...this.devices.values()].filter((d) => d.account === account && d.userName === userName && d.enabled);
  }

  /**
   * EnableMFADevice / ResyncMFADevice: two consecutive codes. AWS accepts a pair from the recent past
   * (the user may type slowly), so look back a few steps. Returns the step of the second code.
   */
  checkConsecutive(device: MfaDevice, code1: string, code2: string, nowMs: number | readonly number[]): number | undefined {
    for (const s of candidateSteps(nowMs, [-3, -2, -1, 0])) {
      if (s <= device.lastStep) continue;
      const t = totp(device.seedBase32);
      if (t.generate({ timestamp: s * PERIOD * 1000 }) === code1 && t.generate({ timestamp: (s + 1) * PERIOD * 1000 }) === code2) {
        return s + 1;
      }
    }
    return undefined;
  }

  /** One code (GetSessionToken, AssumeRole): current step ±1 for clock drift, no replays. */
  checkCode(device: MfaDevice, code: string, nowMs: number | readonly number[]): number | undefined {
    const t = totp(device.seedBase32);
    for (const s of candidateSteps(nowMs, [0, -1, 1])) {
      if (s <= device.lastStep) continue;
      if (t.generate({ timestamp: s * PERIOD * 1000 }) === code) return s;
    }
    return undefined;
  }

  dropAccount(account: string): void {
    for (const [k, d] of this.devices) if (d.account === account) this.devices.delete(k);
  }
}
