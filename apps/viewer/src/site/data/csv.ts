// A chart's data as CSV (RFC 4180): the x column, then one column per series.

function field(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * CSV text of aligned chart data: a header row (`xLabel`, then each label) and one row per x;
 * a missing value is an empty field; numbers are written in full (`String(v)`).
 */
export function toCsv(
  xLabel: string,
  labels: readonly string[],
  data: readonly (readonly (number | null)[])[],
): string {
  const [xs = [], ...ys] = data;
  const rows = [[xLabel, ...labels].map(field).join(',')];
  xs.forEach((x, r) => {
    rows.push(
      [
        String(x),
        ...ys.map((col) => (col[r] === null || col[r] === undefined ? '' : String(col[r]))),
      ].join(','),
    );
  });
  return `${rows.join('\r\n')}\r\n`;
}

/** A file name for a chart's CSV: its title with anything but letters, digits, `-` and `_` as `_`. */
export function csvFileName(title: string): string {
  return `${title.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '') || 'chart'}.csv`;
}
