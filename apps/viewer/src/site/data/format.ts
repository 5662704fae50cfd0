// Number formatting for chart ticks and tables: short, and readable for tiny values
// (learning rates) and large ones (token counts).

/** Formats a tick or value: up to 4 significant digits, exponent form below 1e-3 or from 1e5. */
export function formatNumber(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '—';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e5) return v.toExponential(1).replace('e+', 'e');
  return String(Number(v.toPrecision(4)));
}
