// Axis and read-out helpers for the charts: integer step ticks, a sensible range for constant
// series, units of timing metrics, tick-label widths (so labels are never clipped) and the
// values a hover read-out shows. Pure functions; the chart component wires them into uPlot.

/** Tick increments for an integer axis (steps): 1, 2, 5, 10, 20, 50, … — never 2.5. */
export const INTEGER_INCRS: readonly number[] = (() => {
  const out: number[] = [];
  for (let p = 1; p <= 1e9; p *= 10) out.push(p, 2 * p, 5 * p);
  return out;
})();

/**
 * The y range of a chart whose finite data span `[min, max]`. A constant series gets a band of
 * ±10 % of its value (±0.1 around 0) instead of uPlot's 0–100; otherwise 5 % padding each side.
 * `null` bounds (no finite data) give `[0, 1]`.
 */
export function yRange(min: number | null, max: number | null): [number, number] {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min === max) {
    const pad = min === 0 ? 0.1 : Math.abs(min) * 0.1;
    return [min - pad, max + pad];
  }
  const pad = (max - min) * 0.05;
  return [min - pad, max + pad];
}

/**
 * Unit of a metric, from its name: timings (`time/*`, `step_time`, `*_seconds`, the trainer's
 * `queue/worker<i>_busy` and `_idle`) are in seconds,
 * `*_ms` in milliseconds, `tokens_per_second` in tokens/s, lengths in tokens; `''` otherwise.
 */
export function metricUnit(name: string): string {
  if (/(^|\/)tokens_per_s(econd)?$/.test(name)) return 'tokens/s';
  if (/_ms$/.test(name)) return 'ms';
  if (name.startsWith('time/') || name === 'step_time' || /_seconds?$/.test(name)) return 's';
  if (/^queue\/worker\d+_(busy|idle)$/.test(name)) return 's';
  if (/^completions\/.*length$/.test(name) || /^cot_tokens\//.test(name)) return 'tokens';
  return '';
}

/**
 * Width in px of a y axis whose tick labels are `labels`: the widest label at `charPx` per
 * character plus tick and gap. Grows with the labels, so none is clipped.
 */
export function axisWidth(labels: readonly string[], charPx = 7.2): number {
  const widest = labels.reduce((m, l) => Math.max(m, l.length), 0);
  return Math.ceil(widest * charPx + 18);
}

/** The last finite value of a column, or `null`. */
export function lastFinite(values: readonly (number | null | undefined)[]): number | null {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v !== null && v !== undefined && Number.isFinite(v)) return v;
  }
  return null;
}

/**
 * The value a hover read-out shows for one column at row `idx` of aligned data: the value there,
 * else the nearest finite value of that column within `maxGap` rows on either side (so a run
 * logged every 5 steps still reads out between its points), else `null`. Returns the row used.
 */
export function valueNear(
  values: readonly (number | null | undefined)[],
  idx: number,
  maxGap: number,
): { value: number; row: number } | null {
  for (let d = 0; d <= maxGap; d++) {
    for (const i of d === 0 ? [idx] : [idx - d, idx + d]) {
      const v = values[i];
      if (v !== null && v !== undefined && Number.isFinite(v)) return { value: v, row: i };
    }
  }
  return null;
}
