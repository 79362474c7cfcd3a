// bench/dlp.ts's scoring: predicted spans paired one-to-one with labelled spans (test/dlp/bench-match.test.ts).

export interface Span { s: number; e: number }

/**
 * One-to-one pairing of predicted and labelled spans (of one type): pairs with the same span first, then
 * the remaining overlapping pairs by overlap length (largest first; ties by position), each span used at
 * most once. Returns the number of pairs (the true positives).
 */
export function matchSpans(pred: readonly Span[], gold: readonly Span[]): number {
  const usedP = new Set<number>();
  const usedG = new Set<number>();
  const pairs: { p: number; g: number; exact: boolean; ov: number }[] = [];
  pred.forEach((p, i) => gold.forEach((g, j) => {
    const ov = Math.min(p.e, g.e) - Math.max(p.s, g.s);
    if (ov > 0) pairs.push({ p: i, g: j, exact: p.s === g.s && p.e === g.e, ov });
  }));
  pairs.sort((a, b) => Number(b.exact) - Number(a.exact) || b.ov - a.ov || a.g - b.g || a.p - b.p);
  let n = 0;
  for (const x of pairs) {
    if (usedP.has(x.p) || usedG.has(x.g)) continue;
    usedP.add(x.p);
    usedG.add(x.g);
    n++;
  }
  return n;
}
