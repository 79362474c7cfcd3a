// Exit codes and the errors that carry them.

export const ExitCode = {
  OK: 0,
  /** Failed checks, a lab not passed, --fail-under not reached, an invalid signature. */
  FAILED: 1,
  /** Bad command line: unknown lab, task or option, missing argument. */
  USAGE: 2,
  /** The environment: no Python/moto/Docker, port in use, the lab cloud died, wrong AWS account. */
  ENVIRONMENT: 3,
  /** Ctrl-C (SIGINT); SIGTERM gives 143 and SIGHUP 129. */
  INTERRUPTED: 130,
} as const;

export class CliError extends Error {
  /** More to say to scripts: merged into the `error` object of a `--json` command's output. */
  data?: Record<string, unknown>;
  constructor(message: string, readonly exitCode: number, readonly hint?: string) {
    super(message);
    this.name = 'CliError';
  }

  with(data: Record<string, unknown>): this {
    this.data = { ...this.data, ...data };
    return this;
  }
}

export class UsageError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.USAGE, hint);
    this.name = 'UsageError';
  }
}

export class EnvironmentError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.ENVIRONMENT, hint);
    this.name = 'EnvironmentError';
  }
}

/** A SetupError of the targets (message + hint) without importing the cloud code. */
export function isSetupError(e: unknown): e is Error & { hint: string } {
  return e instanceof Error && (e.name === 'SetupError' || e.name === 'TargetDiedError') && 'hint' in e;
}

/** The kind of an exit code, as `--json` errors name it. */
export function errorKind(exitCode: number): string {
  switch (exitCode) {
    case ExitCode.USAGE: return 'usage';
    case ExitCode.ENVIRONMENT: return 'environment';
    case ExitCode.INTERRUPTED: return 'interrupted';
    default: return 'error';
  }
}

/**
 * What a `--json` command prints on stdout when it fails (one JSON object, then a non-zero exit):
 * `{"error": {"message", "hint"?, "kind", "exitCode", ...data}}`.
 */
export function jsonError(message: string, exitCode: number, hint?: string, data?: Record<string, unknown>): string {
  return JSON.stringify({ error: { message, ...(hint ? { hint } : {}), kind: errorKind(exitCode), exitCode, ...data } }, null, 2);
}
