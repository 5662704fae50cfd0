// Pairs each eval summary metric with its own baseline, named as the data names it: `K_random`
// or `K_baseline` beside `K` (the eval package's convention), an explicit `baselines` map when a
// report carries one, and the filler-token accuracy against no-CoT accuracy.

/** Pairs that do not follow the suffix convention (see packages/eval's summary keys). */
export const KNOWN_BASELINES: Readonly<Record<string, string>> = {
  'filler/filler_accuracy': 'filler/no_cot_accuracy',
};

/** A summary metric with its baseline key (or `null`). */
export interface MetricPair {
  key: string;
  baseline: string | null;
}

/**
 * Summary keys as metric rows: each key with its baseline key; keys that serve as a baseline
 * are not rows of their own. Order follows `keys`.
 */
export function pairBaselines(
  keys: readonly string[],
  explicit: Readonly<Record<string, string>> = {},
): MetricPair[] {
  const present = new Set(keys);
  const baselineOf = (k: string): string | null => {
    const e = explicit[k] ?? KNOWN_BASELINES[k];
    if (e !== undefined && present.has(e)) return e;
    for (const suffix of ['_random', '_baseline'])
      if (present.has(`${k}${suffix}`)) return `${k}${suffix}`;
    return null;
  };
  const pairs = keys.map((key) => ({ key, baseline: baselineOf(key) }));
  const used = new Set(pairs.map((p) => p.baseline).filter((b): b is string => b !== null));
  return pairs.filter((p) => !used.has(p.key));
}

/**
 * Short name of a baseline relative to its metric: the part after their common `/` prefix
 * (`early_answering/aoc` + `early_answering/aoc_random` → `aoc_random`).
 */
export function baselineName(key: string, baseline: string): string {
  const cut = key.lastIndexOf('/');
  const prefix = cut < 0 ? '' : key.slice(0, cut + 1);
  return prefix !== '' && baseline.startsWith(prefix) ? baseline.slice(prefix.length) : baseline;
}

/**
 * The word for an eval curve's baseline: `random` or `baseline` from the summary key holding
 * the curve area's baseline value (`<curve>/…_random`, `<curve>/…_baseline`); `baseline` when
 * the summary does not say.
 */
export function curveBaselineWord(
  curveName: string,
  areaBaseline: number | undefined,
  summary: Readonly<Record<string, number | null>>,
): string {
  if (areaBaseline === undefined) return 'baseline';
  for (const [k, v] of Object.entries(summary)) {
    if (v === null || Math.abs(v - areaBaseline) > 1e-12) continue;
    if (!k.toLowerCase().includes(curveName.toLowerCase())) continue;
    if (k.endsWith('_random')) return 'random';
    if (k.endsWith('_baseline')) return 'baseline';
  }
  return 'baseline';
}

/** Formats a summary value: integers (counts) without decimals, others with 4. */
export function formatSummaryValue(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return Number.isInteger(v) ? String(v) : v.toFixed(4);
}
