// Never leave the lab cloud running after seclab is gone.
//
// Every child process and container a target starts is registered here. One set of process
// handlers (installed once, shared by all targets) stops them when seclab exits:
// - 'exit': kill every registered child synchronously (nothing asynchronous can run there);
// - SIGINT / SIGTERM / SIGHUP: when no one else listens for the signal, stop everything and then
//   re-raise the signal so seclab still dies of it as it would have without us. When another part
//   of seclab listens too (e.g. the engine's Ctrl-C cleanup, which may still need the lab cloud), we
//   leave the decision to it: its process.exit() runs the 'exit' hook above.
// - SIGKILL cannot be caught: moto's wrapper exits when its stdin pipe from us closes (see moto.ts),
//   and containers are reaped by testcontainers' Ryuk.

export interface Managed {
  /** Name for messages. */
  name: string;
  /** Kill synchronously (process 'exit' handler). */
  killNow(): void;
  /** Graceful asynchronous stop, used on signals when there is time (containers). */
  stopAsync?(): Promise<void>;
}

const managed = new Set<Managed>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let installed = false;
let handlingSignal = false;

/** Register something to stop when seclab exits. Returns the function that unregisters it. */
export function track(m: Managed): () => void {
  install();
  managed.add(m);
  return () => {
    managed.delete(m);
  };
}

/** How many children/containers are currently registered (for tests and diagnostics). */
export function trackedCount(): number {
  return managed.size;
}

function killAllNow(): void {
  for (const m of managed) {
    try {
      m.killNow();
    } catch {
      // best effort: we are exiting
    }
  }
  managed.clear();
}

function onExit(): void {
  killAllNow();
}

function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return; // someone else owns the reaction to this signal
  if (handlingSignal) return;
  handlingSignal = true;
  const asyncStops = [...managed].filter((m) => m.stopAsync).map((m) => m.stopAsync!().catch(() => undefined));
  const finish = (): void => {
    killAllNow();
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    process.removeListener('exit', onExit);
    installed = false;
    // Die of the same signal, as the default handler would have made us.
    process.kill(process.pid, signal);
  };
  if (asyncStops.length === 0) {
    finish();
    return;
  }
  const timer = setTimeout(finish, 5000);
  void Promise.all(asyncStops).then(() => {
    clearTimeout(timer);
    finish();
  });
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', onExit);
  for (const s of SIGNALS) process.on(s, onSignal);
}
