// Small host-side statistics over plain arrays (rewards are read back to JS once per step).

/** Mean ignoring NaN; NaN when nothing is left. */
export function nanMean(xs: readonly number[]): number {
  let s = 0;
  let n = 0;
  for (const x of xs) {
    if (!Number.isNaN(x)) {
      s += x;
      n++;
    }
  }
  return n === 0 ? Number.NaN : s / n;
}

/** Unbiased (Bessel-corrected, like torch.std) standard deviation ignoring NaN; 0 for < 2 values. */
export function nanStd(xs: readonly number[]): number {
  const m = nanMean(xs);
  let s = 0;
  let n = 0;
  for (const x of xs) {
    if (!Number.isNaN(x)) {
      s += (x - m) ** 2;
      n++;
    }
  }
  return n < 2 ? 0 : Math.sqrt(s / (n - 1));
}
