// The one fixed diverging colour scale for token relevance, shared by every sample so colours
// compare across completions and steps. Blue (negative: pushed down) – near-white (0: untouched) –
// orange (positive: re-enabled, the answer needs it). Blue/orange stays distinguishable under
// red-green colour blindness (ColorBrewer PuOr/RdBu end points).

/** Relevance range of the scale; values outside are clamped. `relevance = (min(θ,0) - c)/|c|`. */
export const RELEVANCE_DOMAIN = [-1.5, 1] as const;

/** Colour stops `[relevance, [r, g, b]]`, ascending. */
export const RELEVANCE_STOPS: readonly (readonly [number, readonly [number, number, number]])[] = [
  [-1.5, [33, 102, 172]],
  [-0.75, [146, 197, 222]],
  [0, [247, 247, 247]],
  [0.5, [253, 184, 99]],
  [1, [230, 97, 1]],
];

/** RGB triple for a relevance value (linear interpolation between stops, clamped). */
export function relevanceRgb(value: number): [number, number, number] {
  const first = RELEVANCE_STOPS[0]!;
  const last = RELEVANCE_STOPS[RELEVANCE_STOPS.length - 1]!;
  if (!(value > first[0])) return [...first[1]];
  if (value >= last[0]) return [...last[1]];
  for (let i = 1; i < RELEVANCE_STOPS.length; i++) {
    const [x1, c1] = RELEVANCE_STOPS[i]!;
    if (value <= x1) {
      const [x0, c0] = RELEVANCE_STOPS[i - 1]!;
      const t = (value - x0) / (x1 - x0);
      return [0, 1, 2].map((k) => Math.round(c0[k]! + t * (c1[k]! - c0[k]!))) as [
        number,
        number,
        number,
      ];
    }
  }
  return [...last[1]];
}

/** CSS colour for a relevance value, or `null` when the token has no mask (`relevance: null`). */
export function relevanceColor(value: number | null): string | null {
  if (value === null || !Number.isFinite(value)) return null;
  const [r, g, b] = relevanceRgb(value);
  return `rgb(${r}, ${g}, ${b})`;
}

/** Text colour with enough contrast on {@link relevanceColor}'s background (WCAG luminance). */
export function relevanceTextColor(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return 'inherit';
  const lin = relevanceRgb(value).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * lin[0]! + 0.7152 * lin[1]! + 0.0722 * lin[2]!;
  // Contrast with black (L+0.05)/0.05 vs white 1.05/(L+0.05): pick the larger.
  return (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) ? '#111' : '#fff';
}

/** Formats a relevance for the hover title, e.g. `relevance 0.4213`. */
export function formatRelevance(value: number | null): string {
  return value === null || !Number.isFinite(value)
    ? 'no mask (not a CoT token)'
    : `relevance ${value.toFixed(4)}`;
}

/** A colour scale's range `[lo, hi]` with `lo ≤ 0 ≤ hi` (0 stays white). */
export type RelevanceDomain = readonly [number, number];

/**
 * The range a scale mode uses for `values` (the relevances on screen, or one sample's):
 * `fixed` = {@link RELEVANCE_DOMAIN}; `fit` = [min, max] of the data (always including 0);
 * `symmetric` = ±max|r|; `sample` is `fit` applied to one sample (the caller passes its values).
 */
export function scaleDomain(
  mode: 'fixed' | 'fit' | 'symmetric' | 'sample',
  values: readonly (number | null)[],
): RelevanceDomain {
  if (mode === 'fixed') return RELEVANCE_DOMAIN;
  let lo = 0;
  let hi = 0;
  for (const v of values) {
    if (v === null || !Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (mode === 'symmetric') {
    const m = Math.max(-lo, hi);
    return m === 0 ? [-1, 1] : [-m, m];
  }
  if (lo === 0 && hi === 0) return [-1, 1];
  return [lo, hi];
}

/**
 * Colour of `value` on a scale spanning `domain`: negatives map linearly onto the blue half
 * (lo → the darkest blue), positives onto the orange half (hi → the darkest orange). With
 * {@link RELEVANCE_DOMAIN} this is exactly {@link relevanceColor}.
 */
export function scaledRgb(value: number, domain: RelevanceDomain): [number, number, number] {
  const [lo, hi] = domain;
  const [fixedLo, fixedHi] = RELEVANCE_DOMAIN;
  const t = value < 0 ? (lo < 0 ? (value / lo) * fixedLo : 0) : hi > 0 ? (value / hi) * fixedHi : 0;
  return relevanceRgb(t);
}

/** CSS background for `value` on `domain`, or `null` without a mask. */
export function scaledColor(value: number | null, domain: RelevanceDomain): string | null {
  if (value === null || !Number.isFinite(value)) return null;
  const [r, g, b] = scaledRgb(value, domain);
  return `rgb(${r}, ${g}, ${b})`;
}

/** Text colour with enough contrast on {@link scaledColor}'s background. */
export function scaledTextColor(value: number | null, domain: RelevanceDomain): string {
  if (value === null || !Number.isFinite(value)) return 'inherit';
  const [fixedLo, fixedHi] = RELEVANCE_DOMAIN;
  const [lo, hi] = domain;
  const t = value < 0 ? (lo < 0 ? (value / lo) * fixedLo : 0) : hi > 0 ? (value / hi) * fixedHi : 0;
  return relevanceTextColor(t);
}

/** Visible form of a token's text: `·` for a space, `⇥` for a tab, `↵` before a newline. */
export function visibleText(text: string): string {
  return text.replace(/ /g, '·').replace(/\t/g, '⇥').replace(/\n/g, '↵\n');
}
