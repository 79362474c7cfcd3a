// Terminal styles for reporters: ANSI colors when enabled, plain text otherwise (NO_COLOR, files, pipes).

export interface Style {
  enabled: boolean;
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  magenta(s: string): string;
  /** ✔ or ✘, colored. */
  mark(passed: boolean): string;
}

const wrap = (on: boolean, open: number, close: number) => (s: string) => (on ? `\u001b[${open}m${s}\u001b[${close}m` : s);

export function makeStyle(enabled: boolean): Style {
  const st: Style = {
    enabled,
    bold: wrap(enabled, 1, 22),
    dim: wrap(enabled, 2, 22),
    red: wrap(enabled, 31, 39),
    green: wrap(enabled, 32, 39),
    yellow: wrap(enabled, 33, 39),
    cyan: wrap(enabled, 36, 39),
    magenta: wrap(enabled, 35, 39),
    mark: (passed) => (passed ? st.green('✔') : st.red('✘')),
  };
  return st;
}

export const PLAIN: Style = makeStyle(false);

/**
 * Whether to color a stream: never with NO_COLOR (any non-empty value, https://no-color.org),
 * always with FORCE_COLOR (other than 0/false), else when it is a terminal.
 */
export function colorEnabled(stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env['NO_COLOR']) return false;
  const force = env['FORCE_COLOR'];
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  if (env['TERM'] === 'dumb') return false;
  return !!stream.isTTY;
}
