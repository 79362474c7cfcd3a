// Errors raised while setting up or running a lab-cloud target.

/**
 * Something the user has to fix on their machine or command line before the lab cloud can start
 * (a missing Python, a port in use, the wrong AWS account...). `message` says what is wrong,
 * `hint` says what to do next; the CLI prints both and exits with a setup error code.
 */
export class SetupError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SetupError';
    this.hint = hint;
  }
}

/** The target's process or container went away while the lab was running. */
export class TargetDiedError extends Error {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly lastOutput: string;
  constructor(message: string, details: { exitCode: number | null; signal: string | null; lastOutput: string }) {
    super(message);
    this.name = 'TargetDiedError';
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.lastOutput = details.lastOutput;
  }
}
