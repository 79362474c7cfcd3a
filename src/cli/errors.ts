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
  constructor(message: string, readonly exitCode: number, readonly hint?: string) {
    super(message);
    this.name = 'CliError';
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
