// Ctrl-C (and SIGTERM/SIGHUP): run the registered cleanups (stop the lab cloud, close watchers),
// bounded in time, then exit 130 (143, 129). A second Ctrl-C exits at once. The targets' own
// 'exit' hook still kills any child left (see src/cloud/targets/lifecycle.ts), so nothing is orphaned.

type Cleanup = () => void | Promise<void>;

const cleanups = new Set<Cleanup>();
const CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
let installed = false;
let interrupting = false;
let beforeCleanup: ((signal: NodeJS.Signals) => void) | undefined;

/** Registers a cleanup for an interruption; returns the function that removes it. */
export function onInterrupt(fn: Cleanup): () => void {
  cleanups.add(fn);
  return () => {
    cleanups.delete(fn);
  };
}

/** Called first on an interruption (e.g. to stop a spinner and say what happens). */
export function setInterruptNotice(fn: (signal: NodeJS.Signals) => void): void {
  beforeCleanup = fn;
}

export function isInterrupting(): boolean {
  return interrupting;
}

export async function runCleanups(timeoutMs = 5000): Promise<void> {
  const all = [...cleanups].reverse();
  cleanups.clear();
  await Promise.race([
    Promise.allSettled(all.map(async (f) => f())),
    new Promise((r) => setTimeout(r, timeoutMs).unref()),
  ]);
}

function handle(signal: NodeJS.Signals): void {
  const code = CODES[signal] ?? 1;
  if (interrupting) {
    process.exit(code); // second Ctrl-C: now; the 'exit' hooks still kill the children
  }
  interrupting = true;
  try {
    beforeCleanup?.(signal);
  } catch {
    // nothing may stop the cleanup
  }
  void runCleanups().finally(() => process.exit(code));
}

/** Installs the handlers (once). The targets' lifecycle then leaves the reaction to us. */
export function installInterruptHandlers(): void {
  if (installed) return;
  installed = true;
  for (const s of Object.keys(CODES) as NodeJS.Signals[]) process.on(s, handle);
}

/** The same as a Ctrl-C, from code (e.g. Ctrl-C read as a key in raw mode). */
export function interrupt(signal: NodeJS.Signals = 'SIGINT'): void {
  handle(signal);
}
