// The lab cloud's targets: what the gateway forwards to.

import type { TargetDiedError } from './errors.ts';

export type TargetKind = 'moto' | 'localstack' | 'endpoint' | 'aws';

/**
 * How the upstream tells accounts apart, so the gateway can give every run its own account:
 * - `header`: moto's `x-moto-account-id` request header;
 * - `access-key`: LocalStack's convention, a 12-digit account id used as the access key id;
 * - `none`: one account only (real AWS, or an endpoint whose convention is unknown).
 */
export type AccountSelection = 'header' | 'access-key' | 'none';

export interface Target {
  kind: TargetKind;
  /** Base URL of the upstream (e.g. http://127.0.0.1:51234). For 'aws' undefined (SDK default endpoints). */
  url?: string;
  /**
   * Whether it is an emulator (not real AWS): the gateway owns the clock and fills the emulator's gaps.
   * How accounts are selected there is `accountSelection` (moto: the x-moto-account-id header).
   */
  emulated: boolean;
  accountSelection: AccountSelection;
  /**
   * Headers every request to the target must carry (moto started by seclab refuses requests without
   * its per-run secret, so only the gateway can reach it). Never given to students' code.
   */
  upstreamHeaders?: Record<string, string>;
  /** One line for humans, e.g. "moto 5.2.1 (python /usr/bin/python3.11) on http://127.0.0.1:51234". */
  description: string;
  /** Milliseconds the target took to become ready (started targets only). */
  startupMs?: number;
  /** Wipe all state (moto: POST /moto-api/reset). No-op for aws. */
  reset(): Promise<void>;
  /** Stop it and everything it started. Idempotent. */
  stop(): Promise<void>;
  /**
   * Call `cb` once if the target dies unexpectedly (not through stop()); called at once if it
   * already has. Returns a function that unsubscribes. Targets that cannot die (aws) never call it.
   */
  onDeath(cb: (error: TargetDiedError) => void): () => void;
}

export interface Progress {
  (message: string): void;
}
