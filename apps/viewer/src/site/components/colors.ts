// Series colours for overlaid runs: the Okabe–Ito palette (distinguishable with colour blindness).

/** Okabe–Ito colours, yellow left out (too light on white). */
export const RUN_COLORS = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#CC79A7',
  '#56B4E9',
  '#D55E00',
  '#000000',
];

/** Colour of the i-th run. */
export function runColor(i: number): string {
  return RUN_COLORS[i % RUN_COLORS.length]!;
}

/** `#rrggbb` with an alpha channel, for faint raw curves behind smoothed ones. */
export function withAlpha(hex: string, alpha: number): string {
  const a = Math.round(alpha * 255)
    .toString(16)
    .padStart(2, '0');
  return `${hex}${a}`;
}
