// The three models, all trained on normal windows only and all scoring "higher = more anomalous":
// - threshold (baseline 1): per host, mean ± k·sd per feature; the score is the largest |z|;
// - iforest (baseline 2): an isolation forest (Liu, Ting, Zhou 2008), seeded; our own because the npm
//   ones (isolation-forest 0.0.9, ml-isolation-forest 0.1.0) draw from Math.random and cannot be seeded;
// - robust (ours): per-host robust profiles (median and MAD) shrunk towards the population's profile
//   when a host has little history, |robust z| per feature, the mean of the largest few as the score.
import { Random } from '../../engine/random.ts';
import { FEATURES } from './features.ts';

export type ModelKind = 'threshold' | 'iforest' | 'robust';
export const MODEL_KINDS: readonly ModelKind[] = ['robust', 'threshold', 'iforest'];

/** Feature values on the scale the models compare them on. */
export function transform(values: readonly number[]): number[] {
  return values.map((v, j) => (FEATURES[j]!.log ? Math.log1p(Math.max(0, v)) : v));
}

// Smallest spread a feature may have (transformed scale): a feature that never moved in training
// (e.g. no rejects at all) would otherwise make the tiniest change infinitely surprising.
const SCALE_FLOOR = 0.1;
const Z_CAP = 20;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Profile {
  n: number;
  center: number[];
  scale: number[];
}

function quantile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

// Median and a robust spread: the MAD, but never less than the 10–90 % quantile spread (both scaled to a
// normal's sd). Window features are discrete (one record, zero rejects) so the MAD alone is often 0 and
// made ordinary variation look extreme (measured: ROC-AUC 0.97 / 0.91 with the MAD alone, docs/anomaly.md).
function robustProfile(rows: number[][]): Profile {
  const d = rows[0]!.length;
  const center: number[] = [];
  const scale: number[] = [];
  for (let j = 0; j < d; j++) {
    const col = rows.map((r) => r[j]!).sort((a, b) => a - b);
    const m = median(col);
    center.push(m);
    const mad = 1.4826 * median(col.map((x) => Math.abs(x - m)));
    scale.push(Math.max(mad, (quantile(col, 0.9) - quantile(col, 0.1)) / 2.563));
  }
  return { n: rows.length, center, scale };
}

function meanProfile(rows: number[][]): Profile {
  const d = rows[0]!.length;
  const center: number[] = [];
  const scale: number[] = [];
  for (let j = 0; j < d; j++) {
    const col = rows.map((r) => r[j]!);
    const m = col.reduce((s, x) => s + x, 0) / col.length;
    center.push(m);
    scale.push(Math.sqrt(col.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, col.length - 1)));
  }
  return { n: rows.length, center, scale };
}

function byHost(hosts: readonly string[], rows: number[][]): Map<string, number[][]> {
  const m = new Map<string, number[][]>();
  hosts.forEach((h, i) => {
    let l = m.get(h);
    if (!l) m.set(h, (l = []));
    l.push(rows[i]!);
  });
  return m;
}

/** Per-feature z of one transformed row against a profile (with the scale floor). */
function zs(t: readonly number[], p: Profile): number[] {
  return t.map((x, j) => Math.min(Z_CAP, Math.abs(x - p.center[j]!) / Math.max(SCALE_FLOOR, p.scale[j]!)));
}

// ---------------------------------------------------------------- baseline 1: per-feature threshold

export interface ThresholdModel {
  kind: 'threshold';
  /** Hosts need this many training windows for a profile of their own; others use the population's. */
  minHostWindows: number;
  global: Profile;
  hosts: Record<string, Profile>;
}

export function fitThreshold(hosts: readonly string[], rows: number[][], minHostWindows = 10): ThresholdModel {
  const model: ThresholdModel = { kind: 'threshold', minHostWindows, global: meanProfile(rows), hosts: {} };
  for (const [h, r] of byHost(hosts, rows)) if (r.length >= minHostWindows) model.hosts[h] = meanProfile(r);
  return model;
}

export function zThreshold(m: ThresholdModel, host: string, t: readonly number[]): number[] {
  return zs(t, m.hosts[host] ?? m.global);
}

export function scoreThreshold(m: ThresholdModel, host: string, t: readonly number[]): number {
  return Math.max(...zThreshold(m, host, t));
}

// ---------------------------------------------------------------- baseline 2: isolation forest

/** A tree as flat arrays: feature < 0 marks a leaf whose `value` is its size. */
export interface IsoTree {
  feature: number[];
  value: number[];
  left: number[];
  right: number[];
}

export interface IForestModel {
  kind: 'iforest';
  seed: string;
  sampleSize: number;
  trees: IsoTree[];
}

/** Average path length of an unsuccessful search in a binary search tree of n points. */
function c(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + 0.5772156649) - (2 * (n - 1)) / n;
}

export function fitIForest(rows: number[][], seed: string, trees = 100, sampleSize = 256): IForestModel {
  const rnd = new Random(seed);
  const psi = Math.min(sampleSize, rows.length);
  const limit = Math.ceil(Math.log2(Math.max(2, psi)));
  const out: IsoTree[] = [];
  for (let k = 0; k < trees; k++) {
    // Sample without replacement (partial Fisher-Yates).
    const idx = rows.map((_, i) => i);
    for (let i = 0; i < psi; i++) {
      const j = i + Math.floor(rnd.next() * (idx.length - i));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    const tree: IsoTree = { feature: [], value: [], left: [], right: [] };
    const build = (members: number[], depth: number): number => {
      const node = tree.feature.length;
      tree.feature.push(-1); tree.value.push(members.length); tree.left.push(-1); tree.right.push(-1);
      if (depth >= limit || members.length <= 1) return node;
      // Only features that vary among the members can split them.
      const d = rows[0]!.length;
      const candidates: [number, number, number][] = [];
      for (let f = 0; f < d; f++) {
        let lo = Infinity, hi = -Infinity;
        for (const m of members) { const v = rows[m]![f]!; if (v < lo) lo = v; if (v > hi) hi = v; }
        if (hi > lo) candidates.push([f, lo, hi]);
      }
      if (!candidates.length) return node;
      const [f, lo, hi] = candidates[Math.floor(rnd.next() * candidates.length)]!;
      const split = lo + rnd.next() * (hi - lo);
      const l = members.filter((m) => rows[m]![f]! < split);
      const r = members.filter((m) => rows[m]![f]! >= split);
      tree.feature[node] = f;
      tree.value[node] = split;
      const li = build(l, depth + 1);
      const ri = build(r, depth + 1);
      tree.left[node] = li;
      tree.right[node] = ri;
      return node;
    };
    build(idx.slice(0, psi), 0);
    out.push(tree);
  }
  return { kind: 'iforest', seed, sampleSize: psi, trees: out };
}

export function scoreIForest(m: IForestModel, t: readonly number[]): number {
  let total = 0;
  for (const tree of m.trees) {
    let node = 0;
    let depth = 0;
    while (tree.feature[node]! >= 0) {
      node = t[tree.feature[node]!]! < tree.value[node]! ? tree.left[node]! : tree.right[node]!;
      depth++;
    }
    total += depth + c(tree.value[node]!);
  }
  return 2 ** (-(total / m.trees.length) / c(m.sampleSize));
}

// ---------------------------------------------------------------- ours: robust per-host profiles

export interface RobustModel {
  kind: 'robust';
  /** Pseudo-count of the population's profile when blending with a host's own (more history, more of its own). */
  shrinkage: number;
  /** How many of the largest |z| make the score. */
  top: number;
  /**
   * Unseen hosts are judged against the known host (or the population) they resemble most, since normal
   * traffic has several roles (a busy workstation, a server answering once a minute) that one population
   * profile blurs; known hosts are always judged against their own profile.
   */
  roles?: boolean;
  global: Profile;
  hosts: Record<string, Profile>;
}

export function fitRobust(hosts: readonly string[], rows: number[][], shrinkage = 20, top = 3, roles = true): RobustModel {
  const model: RobustModel = { kind: 'robust', shrinkage, top, roles, global: robustProfile(rows), hosts: {} };
  for (const [h, r] of byHost(hosts, rows)) if (r.length >= 3) model.hosts[h] = robustProfile(r);
  return model;
}

/** The profile a host is judged against: its own, blended with the population's by how much history it has. */
export function robustProfileOf(m: RobustModel, host: string): Profile {
  const own = m.hosts[host];
  if (!own) return m.global;
  const w = own.n / (own.n + m.shrinkage);
  const g = m.global;
  return {
    n: own.n,
    center: own.center.map((x, j) => w * x + (1 - w) * g.center[j]!),
    // A host's spread never shrinks below a share of the population's: a quiet week is not a promise.
    scale: own.scale.map((s, j) => Math.max(Math.sqrt(w * s * s + (1 - w) * g.scale[j]! ** 2), 0.25 * g.scale[j]!)),
  };
}

// Hosts with this many training windows also serve as "roles" a new host may resemble.
const ROLE_MIN_WINDOWS = 10;
const roleCache = new WeakMap<RobustModel, Profile[]>();

/** The profiles an unseen host is compared with: the population's and every well-known host's. */
function rolesOf(m: RobustModel): Profile[] {
  let r = roleCache.get(m);
  if (!r) {
    r = [m.global, ...Object.keys(m.hosts).sort().filter((h) => m.hosts[h]!.n >= ROLE_MIN_WINDOWS).map((h) => robustProfileOf(m, h))];
    roleCache.set(m, r);
  }
  return r;
}

function topMean(z: number[], top: number): number {
  z.sort((a, b) => b - a);
  let s = 0;
  for (let i = 0; i < top; i++) s += z[i] ?? 0;
  return s / top;
}

/** The profile a window is judged against: the host's own; for an unseen host, the role it resembles most. */
export function judgeProfile(m: RobustModel, host: string, t: readonly number[]): Profile {
  if (m.hosts[host] || !m.roles) return robustProfileOf(m, host);
  let best = m.global;
  let bestScore = Infinity;
  for (const p of rolesOf(m)) {
    const s = topMean(zs(t, p), m.top);
    if (s < bestScore) { bestScore = s; best = p; }
  }
  return best;
}

export function zRobust(m: RobustModel, host: string, t: readonly number[]): number[] {
  return zs(t, judgeProfile(m, host, t));
}

export function scoreRobust(m: RobustModel, host: string, t: readonly number[]): number {
  return topMean(zRobust(m, host, t), m.top);
}
