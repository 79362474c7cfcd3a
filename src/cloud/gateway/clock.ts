// The lab cloud's clock. On emulated targets scenarios advance it so that a 5-minute alarm period or
// an hourly delivery happens in milliseconds. It runs with wall time plus an offset, except while a
// grading holds it (`exclusive`): then it stands still and moves only when the holder advances it, so
// an attack's timeline is the same on a fast machine and a loaded one, whatever other gradings do.

import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { writeFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

export class LabClock {
  private offsetMs = 0;
  /**
   * Where mirror files live: each holds the offset, rewritten on every advance, so processes the lab
   * cloud starts (students' code, which computes MFA codes) read the clock as it is, not as it was at
   * their start. One file per process: nothing one submission does to its file reaches another's.
   */
  dir: string | undefined;
  private mirrors = new Set<string>();
  private listeners = new Set<(now: Date) => void | Promise<void>>();
  /** While held: the wall time at which the clock stopped following wall time. */
  private frozenAt: number | undefined;
  /** The holder of `exclusive`, and the queue of those waiting for it. */
  private holder: object | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly context = new AsyncLocalStorage<object>();
  /** Where the clock stood before its recent jumps (see `recentTimes`). */
  private jumps: { wall: number; before: number }[] = [];
  /** Every advance while someone observes the clock for an account (see `observe`). */
  private advances: { wall: number; before: number; after: number }[] = [];
  private observers = new Set<{ account: string; wall: number; lab: number }>();
  /** Every change of the offset (wall time it took effect): maps a client's wall-clock reading to lab time. */
  private offsets: { wall: number; offset: number }[] = [];

  now(): Date {
    return new Date(this.nowMs());
  }

  nowMs(): number {
    return (this.frozenAt ?? Date.now()) + this.offsetMs;
  }

  /** How far the lab clock is ahead of the wall clock right now. */
  offset(): number {
    return this.frozenAt === undefined ? this.offsetMs : this.nowMs() - Date.now();
  }

  /**
   * Now, and the lab times the clock stood at just before it jumped in the last `wallMs` of wall time:
   * a client that read the clock a moment ago (an MFA code computed from it) may have seen one of them,
   * whatever another grading did to the shared clock in between.
   */
  recentTimes(wallMs = 5_000): number[] {
    const since = Date.now() - wallMs;
    return [this.nowMs(), ...this.jumps.filter((j) => j.wall >= since).map((j) => j.before)];
  }

  /**
   * Marks the time an account's client code starts reading the clock (a student's phase): from then
   * until `stop`, `timesSeenBy(account)` covers every lab time the code can have read, whatever other
   * gradings do to the shared clock meanwhile and however slow the machine is.
   */
  observe(account: string): { stop: () => void } {
    const o = { account, wall: Date.now(), lab: this.nowMs() };
    this.observers.add(o);
    return {
      stop: () => {
        this.observers.delete(o);
        const oldest = Math.min(...[...this.observers].map((x) => x.wall));
        this.advances = this.advances.filter((a) => a.wall >= oldest);
      },
    };
  }

  /**
   * The lab times an account's client may have computed an MFA code from: while its code is observed,
   * the whole stretch of lab time the clock passed through since (30 s apart, jumps left out: nobody
   * read the clock inside a jump); otherwise `recentTimes`. Newest first; at most `limit`.
   */
  timesSeenBy(account: string, limit = 240): number[] {
    const mine = [...this.observers].filter((o) => o.account === account);
    if (!mine.length) return this.recentTimes();
    const start = mine.reduce((a, b) => (a.wall <= b.wall ? a : b));
    const ranges: [number, number][] = [];
    let from = start.lab;
    for (const a of this.advances) {
      if (a.wall < start.wall) continue;
      ranges.push([from, a.before]);
      from = a.after;
    }
    ranges.push([from, this.nowMs()]);
    const out: number[] = [];
    for (const [a, b] of ranges.reverse()) {
      for (let t = b; t >= a && out.length < limit; t -= 30_000) out.push(t);
      if (out.length < limit && !out.includes(a)) out.push(a);
    }
    return out.slice(0, limit);
  }

  /** Someone holds the clock (see `exclusive`). */
  get held(): boolean {
    return this.holder !== undefined;
  }

  /** The caller runs inside the current holder's `exclusive` (or nobody holds the clock). */
  mayMove(): boolean {
    return this.holder === undefined || this.context.getStore() === this.holder;
  }

  /** Resolves once the clock is not held by someone else (at once inside the holder's own work). */
  async whenFree(): Promise<void> {
    while (!this.mayMove()) await this.queue;
  }

  /**
   * Runs `fn` with the clock to itself: the clock stops following wall time and moves only when `fn`
   * (or what it calls) advances it; anyone else's `advance` waits until `fn` is done. One holder at a
   * time, in the order asked; re-entrant. Afterwards the clock follows wall time again from where it
   * stands (it never goes back).
   */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.holder !== undefined && this.context.getStore() === this.holder) return fn();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const before = this.queue;
    this.queue = before.then(() => mine);
    await before;
    const token = {};
    this.holder = token;
    this.frozenAt = Date.now();
    for (const file of this.mirrors) this.writeMirror(file);
    try {
      return await this.context.run(token, fn);
    } finally {
      const now = this.nowMs();
      this.frozenAt = undefined;
      this.offsetMs = now - Date.now();
      this.noteOffset();
      this.holder = undefined;
      for (const file of this.mirrors) this.writeMirror(file);
      release();
    }
  }

  /** Moves time forward (never backward: logs, alarms and TOTP replay checks rely on it). */
  async advance(ms: number): Promise<Date> {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`the lab clock only moves forward; got ${ms} ms`);
    await this.whenFree();
    if (ms >= 30_000) {
      this.jumps.push({ wall: Date.now(), before: this.nowMs() });
      if (this.jumps.length > 200) this.jumps.splice(0, 100);
    }
    if (this.observers.size && ms > 0) {
      this.advances.push({ wall: Date.now(), before: this.nowMs(), after: this.nowMs() + ms });
      if (this.advances.length > 20_000) this.advances.splice(0, 10_000);
    }
    this.offsetMs += ms;
    this.noteOffset();
    for (const file of this.mirrors) this.writeMirror(file);
    const now = this.now();
    for (const l of this.listeners) await l(now);
    return now;
  }

  private noteOffset(): void {
    this.offsets.push({ wall: Date.now(), offset: this.offsetMs });
    if (this.offsets.length > 10_000) this.offsets.splice(0, 5_000);
  }

  /**
   * The lab time at a moment of wall time: clients sign with their own (wall) clock, so a presigned
   * URL's X-Amz-Date + X-Amz-Expires is a wall time, and its validity runs on the lab clock from the
   * lab time it was signed at (a URL signed before the clock jumped a day is a day old).
   */
  labTimeAt(wallMs: number): number {
    if (wallMs >= Date.now()) return wallMs + this.offset();
    let offset = 0;
    for (const c of this.offsets) {
      if (c.wall > wallMs) break;
      offset = c.offset;
    }
    return wallMs + offset;
  }

  private writeMirror(file: string): void {
    try {
      // The offset; while the clock is held, `=` and the lab time it stands at (see labNow in the kit).
      const text = this.frozenAt === undefined ? String(this.offsetMs) : `=${this.nowMs()}`;
      writeFileSync(`${file}.tmp`, text, { mode: 0o644 });
      renameSync(`${file}.tmp`, file);
    } catch {
      // its reader is gone
    }
  }

  /** A new file that follows the clock's offset (readable by sandboxed code); call the result to remove it. */
  mirror(): { file: string; remove: () => void } {
    if (!this.dir) throw new Error('the lab clock has no folder for mirror files');
    const file = path.join(this.dir, randomBytes(8).toString('hex'));
    this.mirrors.add(file);
    this.writeMirror(file);
    return {
      file,
      remove: () => {
        this.mirrors.delete(file);
        rmSync(file, { force: true });
      },
    };
  }

  /** Called after every advance, e.g. by delivery or alarm evaluation. */
  onTick(listener: (now: Date) => void | Promise<void>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
