// The randomness of a grading: one seed, recorded in the grade record, from which every random choice a
// lab makes (planted addresses, the company's traffic, which server an attacker takes over) is drawn, so
// `seclab grade --seed <seed>` reproduces a grading exactly. Names that must merely be unique in the
// shared lab cloud (account ids, run ids in bucket names) do not come from it.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';

/** A fresh seed for a run that was given none (16 hex digits). */
export function newSeed(): string {
  return randomBytes(8).toString('hex');
}

/** The seed of one lab in a run: the same for a lab whatever else is graded, in whatever order. */
export function labSeed(runSeed: string, labId: string): string {
  return `${runSeed}/${labId}`;
}

/** cyrb128: four 32-bit words from a string, to seed sfc32. */
function hash128(text: string): [number, number, number, number] {
  let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/** A small seeded PRNG (sfc32): same seed, same sequence. Not for secrets. */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private forks = new Map<string, number>();

  constructor(readonly seed: string) {
    [this.a, this.b, this.c, this.d] = hash128(seed);
    for (let i = 0; i < 12; i++) this.next();
  }

  /** A number in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(xs: readonly T[]): T {
    if (!xs.length) throw new RangeError('pick from an empty list');
    return xs[Math.floor(this.next() * xs.length)]!;
  }

  /**
   * A seed for an independent stream named `label`: the n-th fork with a label is the same whatever
   * was drawn from this generator or its other forks in between (e.g. `seedFor('traffic')` for each
   * simulated stretch of a company's traffic, in the order the lab asks for them).
   */
  seedFor(label: string): string {
    const n = this.forks.get(label) ?? 0;
    this.forks.set(label, n + 1);
    return `${this.seed}|${label}|${n}`;
  }

  /** An independent generator (see `seedFor`). */
  fork(label: string): Random {
    return new Random(this.seedFor(label));
  }
}

// ---- the grading's generator, for helpers that are not handed a session ----

const current = new AsyncLocalStorage<Random>();
let fallback: Random | undefined;

/** Runs `fn` with `random` as the generator `currentRandom()` returns in it (and in all it awaits). */
export function withRandom<T>(random: Random, fn: () => T): T {
  return current.run(random, fn);
}

/** Makes `random` the generator for the rest of the calling async function (and all it awaits). */
export function enterRandom(random: Random): void {
  current.enterWith(random);
}

/**
 * The generator of the grading this code runs for (gradeLab and provisionLab set it to the session's);
 * outside a grading, one seeded at random.
 */
export function currentRandom(): Random {
  return current.getStore() ?? (fallback ??= new Random(newSeed()));
}
