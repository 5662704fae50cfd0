// The arms table's arithmetic: which arm is the control, the order of the measures, and each
// arm's difference from the control with its seed range and whether it lies beyond two seed
// standard deviations (the experiments' rule for "a difference").

/** Mean ± sd over seeds of one metric of one arm (results.json's cells). */
export interface SeedStat {
  mean: number | null;
  std: number | null;
  n?: number;
}

/** An arm's difference from the control in one metric. */
export interface ArmDiff {
  /** Arm mean minus control mean. */
  delta: number;
  /** Smallest and largest per-seed difference (seed s of the arm minus seed s of the control). */
  range: { lo: number; hi: number; seeds: number } | null;
  /** The pooled seed sd `sqrt((sd_arm² + sd_control²) / 2)`, or `null` with fewer than 2 seeds. */
  sd: number | null;
  /** `|delta| > 2 sd` (never with fewer than 2 seeds on either side). */
  beyond: boolean;
}

/** Keys of the measures an experiment on reasoning is about, in the order they are shown. */
export const FOCUS_PATTERNS: readonly RegExp[] = [
  /^cot_tokens\/mean$/,
  /^modes\/(?!other$)/,
  /^saliency\/mask_h$/,
  /^early_answering\/aoc$/,
  /^adding_mistakes\/aoc$/,
  /^filler\/accuracy_drop$/,
  /^filler\/filler_accuracy$/,
  /^pass@1$/,
];

/**
 * The measures in display order: `focus` (results.json's own list, when it has one) or the keys
 * matching {@link FOCUS_PATTERNS} first, in that order, then the others as given.
 */
export function orderMetrics(keys: readonly string[], focus?: readonly string[]): string[] {
  const first: string[] = [];
  if (focus && focus.length > 0) {
    for (const k of focus) if (keys.includes(k) && !first.includes(k)) first.push(k);
  } else {
    for (const re of FOCUS_PATTERNS)
      for (const k of keys) if (re.test(k) && !first.includes(k)) first.push(k);
  }
  return [...first, ...keys.filter((k) => !first.includes(k))];
}

/** The keys shown by default: the focus keys of {@link orderMetrics} (all keys when none match). */
export function focusMetrics(keys: readonly string[], focus?: readonly string[]): string[] {
  const ordered = orderMetrics(keys, focus);
  const n =
    focus && focus.length > 0
      ? focus.filter((k) => keys.includes(k)).length
      : keys.filter((k) => FOCUS_PATTERNS.some((re) => re.test(k))).length;
  return n === 0 ? ordered : ordered.slice(0, n);
}

/** The default control arm: the outcome-only arm when one is named so, else the first arm. */
export function defaultControl(arms: readonly string[]): string | null {
  return (
    arms.find((a) => /(^|[-_ ])outcome([-_ ]only)?($|[-_ ])/i.test(a)) ??
    arms.find((a) => /outcome/i.test(a)) ??
    arms[0] ??
    null
  );
}

/**
 * An arm's difference from the control. `armSeeds` / `controlSeeds`: the metric per seed (from
 * each seed's evaluation), paired by seed for the range. `null` when either mean is missing.
 */
export function armDiff(
  arm: SeedStat | undefined,
  control: SeedStat | undefined,
  armSeeds: ReadonlyMap<number, number>,
  controlSeeds: ReadonlyMap<number, number>,
): ArmDiff | null {
  if (!arm || !control || arm.mean === null || control.mean === null) return null;
  if (!Number.isFinite(arm.mean) || !Number.isFinite(control.mean)) return null;
  const delta = arm.mean - control.mean;
  const diffs: number[] = [];
  for (const [seed, v] of armSeeds) {
    const c = controlSeeds.get(seed);
    if (c !== undefined && Number.isFinite(c) && Number.isFinite(v)) diffs.push(v - c);
  }
  const range =
    diffs.length > 0
      ? { lo: Math.min(...diffs), hi: Math.max(...diffs), seeds: diffs.length }
      : null;
  const enough = (s: SeedStat) => (s.n ?? 0) >= 2 && s.std !== null && Number.isFinite(s.std);
  const sd =
    enough(arm) && enough(control) ? Math.sqrt((arm.std! ** 2 + control.std! ** 2) / 2) : null;
  return { delta, range, sd, beyond: sd !== null && Math.abs(delta) > 2 * sd };
}

/** A signed number with `digits` decimals and a real minus sign (`+0.012`, `−1.26`). */
export function signed(v: number, digits: number): string {
  const s = Math.abs(v).toFixed(digits);
  if (Number(s) === 0) return `±${s}`;
  return `${v < 0 ? '−' : '+'}${s}`;
}

/** Decimals for a metric: lengths and counts 2, shares and scores 3. */
export function digitsFor(key: string): number {
  return /tokens|length|steps|time/.test(key) ? 2 : 3;
}

/**
 * Summary metrics that are the mean of a per-item value of the report's `items` (one record per
 * test item), and how to read that value: for these the arms' difference gets a paired per-item
 * standard error. (pass@1 averages several samples per item, which `items` does not hold.)
 */
export const PER_ITEM: Readonly<Record<string, (item: Record<string, unknown>) => number | null>> =
  {
    accuracy_greedy: (item) => (typeof item.correct === 'boolean' ? Number(item.correct) : null),
  };

/** Per-item values of one evaluation, by item id. */
export type ItemValues = ReadonlyMap<string, number>;

/**
 * The paired per-item standard error of an arm's difference from the control, over seeds: in
 * each seed pair s the differences d_i = arm_i − control_i over the items both evaluated, with
 * mean m_s and sample variance v_s over n_s items; the estimate is the mean of the m_s and its
 * standard error √(Σ v_s / n_s) / S. `null` without a pair of at least 2 shared items.
 */
export function pairedItemDiff(
  pairs: readonly { arm: ItemValues; control: ItemValues }[],
): { delta: number; se: number; items: number; seeds: number } | null {
  const perSeed: { m: number; v: number; n: number }[] = [];
  for (const { arm, control } of pairs) {
    const d: number[] = [];
    for (const [id, a] of arm) {
      const c = control.get(id);
      if (c !== undefined && Number.isFinite(a) && Number.isFinite(c)) d.push(a - c);
    }
    if (d.length < 2) continue;
    const m = d.reduce((x, y) => x + y, 0) / d.length;
    const v = d.reduce((x, y) => x + (y - m) ** 2, 0) / (d.length - 1);
    perSeed.push({ m, v, n: d.length });
  }
  if (perSeed.length === 0) return null;
  const S = perSeed.length;
  return {
    delta: perSeed.reduce((x, p) => x + p.m, 0) / S,
    se: Math.sqrt(perSeed.reduce((x, p) => x + p.v / p.n, 0)) / S,
    items: perSeed.reduce((x, p) => x + p.n, 0),
    seeds: S,
  };
}
