// Output for the commands: data on stdout, progress and messages on stderr, spinners only on a
// terminal and never with --json, colors unless NO_COLOR (or not a terminal).
import ora, { type Ora } from 'ora';
import { colorEnabled, makeStyle, type Style } from '../engine/report/style.ts';
import { isInterrupting, setInterruptNotice } from './interrupt.ts';

export interface UiOptions {
  json?: boolean;
  /** Force spinners off (tests, --quiet). */
  quiet?: boolean;
}

export interface Spinner {
  text(t: string): void;
  succeed(t?: string): void;
  fail(t?: string): void;
  warn(t?: string): void;
  stop(): void;
}

export class Ui {
  readonly json: boolean;
  /** Styles for stdout and stderr. */
  readonly out: Style;
  readonly err: Style;
  /** Spinners animate (stderr is a terminal, no --json). */
  readonly animated: boolean;
  private spinner: Ora | undefined;
  private readonly quiet: boolean;

  constructor(opts: UiOptions = {}) {
    this.json = !!opts.json;
    this.quiet = !!opts.quiet;
    this.out = makeStyle(colorEnabled(process.stdout));
    this.err = makeStyle(colorEnabled(process.stderr));
    this.animated = !this.json && !this.quiet && !!process.stderr.isTTY && process.env['TERM'] !== 'dumb' && !process.env['CI'];
    setInterruptNotice(() => {
      this.spinner?.stop();
      this.spinner = undefined;
      if (!this.json) process.stderr.write(`\n${this.err.yellow('Interrupted: stopping the lab cloud…')}\n`);
    });
  }

  /** Runs `fn` with the spinner line cleared, so printed lines do not mix with it. */
  private paused(fn: () => void): void {
    if (isInterrupting()) return; // what still runs while the lab cloud stops has nothing useful to say
    const s = this.spinner;
    if (s?.isSpinning) s.clear();
    fn();
    if (s?.isSpinning) s.render();
  }

  /** A line on stdout (the command's result). */
  print(line = ''): void {
    this.paused(() => process.stdout.write(`${line}\n`));
  }

  /** A message on stderr (progress, notes); silent with --json. */
  info(line = ''): void {
    if (this.json) return;
    this.paused(() => process.stderr.write(`${line}\n`));
  }

  warn(line: string): void {
    this.paused(() => process.stderr.write(`${this.err.yellow(`! ${line}`)}\n`));
  }

  error(line: string, hint?: string): void {
    this.paused(() => {
      process.stderr.write(`${this.err.red(this.err.bold(`✘ ${line}`))}\n`);
      if (hint) process.stderr.write(`${this.err.dim(`  → ${hint}`)}\n`);
    });
  }

  /** A spinner on stderr: animated on a terminal, one line per start/end otherwise, nothing with --json. */
  spin(text: string): Spinner {
    this.spinner?.stop();
    const silent = this.json || this.quiet || isInterrupting();
    const o = ora({ text, stream: process.stderr, isEnabled: this.animated, isSilent: silent, discardStdin: false, color: this.err.enabled ? 'cyan' : false as never });
    if (!this.animated && !silent) process.stderr.write(`${this.err.dim(`… ${text}`)}\n`);
    else o.start();
    this.spinner = o;
    const end = (symbol: string, t?: string) => {
      if (this.spinner === o) this.spinner = undefined;
      if (silent) return void o.stop();
      if (this.animated) o.stopAndPersist({ symbol, text: t ?? o.text });
      else process.stderr.write(`${symbol} ${t ?? o.text}\n`);
    };
    return {
      text: (t) => {
        o.text = t;
      },
      succeed: (t) => end(this.err.green('✔'), t),
      fail: (t) => end(this.err.red('✘'), t),
      warn: (t) => end(this.err.yellow('!'), t),
      stop: () => {
        if (this.spinner === o) this.spinner = undefined;
        o.stop();
      },
    };
  }

  /** Runs `fn` under a spinner that ends with ✔ or ✘. */
  async task<T>(text: string, fn: (s: Spinner) => Promise<T>, done?: (v: T) => string): Promise<T> {
    const s = this.spin(text);
    try {
      const v = await fn(s);
      s.succeed(done ? done(v) : undefined);
      return v;
    } catch (e) {
      s.fail();
      throw e;
    }
  }
}

/** Writes everything pending on stdout and stderr, then exits. */
export function flushAndExit(code: number): Promise<never> {
  return new Promise<never>(() => {
    if (isInterrupting()) return; // the interrupt handler exits (130) once the lab cloud is stopped
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  });
}
