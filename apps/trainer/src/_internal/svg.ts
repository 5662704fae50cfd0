// Minimal SVG charts for experiment reports (line charts with one series per arm, bar charts
// with error bars). Self-contained markup: no fonts or scripts beyond the SVG itself.

/** One line series. */
export interface Series {
  name: string;
  x: number[];
  y: number[];
}

/** Colour-blind-safe palette (Okabe–Ito). */
export const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#CC79A7',
  '#56B4E9',
  '#D55E00',
  '#F0E442',
  '#000000',
];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceRange(values: number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const pad = (hi - lo) * 0.08;
  return [lo - pad, hi + pad];
}

const fmt = (v: number) =>
  Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toFixed(2);

/** The `<svg>` opening, white background, title and the y grid with its 5 tick labels. */
function frame(
  title: string,
  width: number,
  height: number,
  m: { l: number; t: number },
  w: number,
  [y0, y1]: [number, number],
  sy: (y: number) => number,
): string[] {
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${m.l}" y="16" font-size="13" font-weight="bold">${esc(title)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const yv = y0 + ((y1 - y0) * i) / 4;
    out.push(`<line x1="${m.l}" x2="${m.l + w}" y1="${sy(yv)}" y2="${sy(yv)}" stroke="#ddd"/>`);
    out.push(`<text x="${m.l - 6}" y="${sy(yv) + 4}" text-anchor="end">${fmt(yv)}</text>`);
  }
  return out;
}

/** A line chart (one polyline per series) with axes, ticks and a legend. */
export function lineChart(
  title: string,
  xLabel: string,
  series: readonly Series[],
  width = 560,
  height = 300,
): string {
  const m = { l: 56, r: 140, t: 28, b: 40 };
  const w = width - m.l - m.r;
  const h = height - m.t - m.b;
  // x is a step axis: exact range, no padding below the first step.
  const xs = series.flatMap((s) => s.x).filter(Number.isFinite);
  const x0 = xs.length > 0 ? Math.min(...xs) : 0;
  const x1 = xs.length > 0 && Math.max(...xs) > x0 ? Math.max(...xs) : x0 + 1;
  const [y0, y1] = niceRange(series.flatMap((s) => s.y));
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * w;
  const sy = (y: number) => m.t + h - ((y - y0) / (y1 - y0)) * h;
  const out = frame(title, width, height, m, w, [y0, y1], sy);
  for (let i = 0; i <= 4; i++) {
    const xv = x0 + ((x1 - x0) * i) / 4;
    out.push(`<text x="${sx(xv)}" y="${m.t + h + 16}" text-anchor="middle">${fmt(xv)}</text>`);
  }
  out.push(`<rect x="${m.l}" y="${m.t}" width="${w}" height="${h}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${m.l + w / 2}" y="${height - 6}" text-anchor="middle">${esc(xLabel)}</text>`);
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const pts = s.x
      .map((x, j) => [x, s.y[j]!] as const)
      .filter(([, y]) => Number.isFinite(y))
      .map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      .join(' ');
    out.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="2"/>`);
    out.push(
      `<rect x="${m.l + w + 12}" y="${m.t + i * 18}" width="12" height="3" fill="${color}"/>`,
    );
    out.push(`<text x="${m.l + w + 28}" y="${m.t + i * 18 + 5}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** A bar chart: one bar per group with a ±err whisker, and an optional dashed baseline. */
export function barChart(
  title: string,
  bars: readonly { name: string; value: number; err: number }[],
  baseline?: { label: string; value: number },
  width = 560,
  height = 260,
): string {
  const m = { l: 56, r: 20, t: 28, b: 56 };
  const w = width - m.l - m.r;
  const h = height - m.t - m.b;
  const vals = bars.flatMap((b) => [b.value - b.err, b.value + b.err, 0]);
  if (baseline) vals.push(baseline.value);
  const [y0, y1] = niceRange(vals);
  const sy = (y: number) => m.t + h - ((y - y0) / (y1 - y0)) * h;
  const bw = w / Math.max(1, bars.length);
  const out = frame(title, width, height, m, w, [y0, y1], sy);
  bars.forEach((b, i) => {
    const x = m.l + i * bw + bw * 0.15;
    const color = PALETTE[i % PALETTE.length]!;
    const top = sy(Math.max(b.value, 0));
    const bottom = sy(Math.min(b.value, 0));
    out.push(
      `<rect x="${x}" y="${top}" width="${bw * 0.7}" height="${Math.max(0.5, bottom - top)}" fill="${color}"/>`,
    );
    if (b.err > 0) {
      const cx = x + bw * 0.35;
      out.push(
        `<line x1="${cx}" x2="${cx}" y1="${sy(b.value - b.err)}" y2="${sy(b.value + b.err)}" stroke="black"/>`,
      );
    }
    out.push(
      `<text x="${x + bw * 0.35}" y="${m.t + h + 16}" text-anchor="middle">${esc(b.name)}</text>`,
    );
    out.push(
      `<text x="${x + bw * 0.35}" y="${m.t + h + 30}" text-anchor="middle">${fmt(b.value)}</text>`,
    );
  });
  if (baseline) {
    out.push(
      `<line x1="${m.l}" x2="${m.l + w}" y1="${sy(baseline.value)}" y2="${sy(baseline.value)}" stroke="#444" stroke-dasharray="4 3"/>`,
    );
    out.push(
      `<text x="${m.l + w - 4}" y="${sy(baseline.value) - 4}" text-anchor="end">${esc(baseline.label)}</text>`,
    );
  }
  out.push(`<rect x="${m.l}" y="${m.t}" width="${w}" height="${h}" fill="none" stroke="#888"/>`);
  out.push('</svg>');
  return out.join('\n');
}
