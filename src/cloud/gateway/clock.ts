// The lab cloud's clock. On emulated targets scenarios advance it so that a 5-minute alarm period or
// an hourly delivery happens in milliseconds. It runs with wall time plus an offset.

import { writeFileSync, renameSync } from 'node:fs';

export class LabClock {
  private offsetMs = 0;
  /**
   * A file holding the offset, rewritten on every advance, so processes the lab cloud starts
   * (students' code, which computes MFA codes) read the clock as it is, not as it was at their start.
   */
  file: string | undefined;
  private listeners = new Set<(now: Date) => void | Promise<void>>();

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  nowMs(): number {
    return Date.now() + this.offsetMs;
  }

  offset(): number {
    return this.offsetMs;
  }

  /** Moves time forward (never backward: logs, alarms and TOTP replay checks rely on it). */
  async advance(ms: number): Promise<Date> {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`the lab clock only moves forward; got ${ms} ms`);
    this.offsetMs += ms;
    if (this.file) {
      writeFileSync(`${this.file}.tmp`, String(this.offsetMs));
      renameSync(`${this.file}.tmp`, this.file);
    }
    const now = this.now();
    for (const l of this.listeners) await l(now);
    return now;
  }

  /** Called after every advance, e.g. by delivery or alarm evaluation. */
  onTick(listener: (now: Date) => void | Promise<void>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
