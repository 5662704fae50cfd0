// A uPlot chart as a Preact component, with read-outs: a hover tooltip giving the x value and
// every series' value, a cursor synced across the charts of a page (`syncKey`), and a legend
// holding each series' last value. Axis titles are HTML (they wrap, so they are never clipped);
// the canvas is decorative for screen readers (the legend carries the numbers as text).
// Legend entries are buttons that hide or show their series; a toolbar resets a zoom (drag to
// zoom), switches the y axis to a log scale, and downloads the chart's data as CSV. Shaded bands
// (an arm's min–max over seeds) are drawn between two series given in `bands`.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { axisWidth, INTEGER_INCRS, lastFinite, valueNear, yRange } from '../data/axes.js';
import { csvFileName, toCsv } from '../data/csv.js';
import { formatNumber } from '../data/format.js';
import { withAlpha } from './colors.js';
import { LineSwatch, swatchSvg } from './swatch.js';

/** One plotted series. */
export interface PlotSeries {
  label: string;
  color: string;
  width?: number;
  dash?: number[];
  /** Draw points as dots (for short curves such as eval curves). */
  points?: boolean;
  /** List it in the legend and tooltip (default true; raw curves behind smoothed ones are not). */
  legend?: boolean;
  /** Legend text instead of the last value (e.g. `AOC 0.708`). */
  note?: string;
  /** Label of the legend series this one belongs to (a band edge): hidden and shown with it. */
  partOf?: string;
}

/** A shaded band between two series (indices into `series`), e.g. an arm's min–max over seeds. */
export interface PlotBand {
  upper: number;
  lower: number;
  color: string;
}

/** Props of {@link Plot}. */
export interface PlotProps {
  title: string;
  /** uPlot aligned data: `[xs, ys1, ys2, …]`. */
  data: [number[], ...(number | null)[][]];
  series: PlotSeries[];
  xLabel?: string;
  yLabel?: string;
  /** Unit of the y values (`s`, `tokens`…), shown in the title, legend and tooltip. */
  unit?: string;
  /** Ticks at integers only (training steps). */
  integerX?: boolean;
  /** Charts with the same key share one cursor. */
  syncKey?: string;
  height?: number;
  /** Text shown under the title (e.g. area under the curve). */
  caption?: string;
  /** Extra attributes for the figure (e.g. `data-metric`). */
  attrs?: Record<string, string>;
  /** Number of points per run, for `data-points`. */
  points: number[];
  /** Shaded bands (their edge series are usually `legend: false` with a `partOf`). */
  bands?: PlotBand[];
}

function withUnit(v: number | null, unit: string): string {
  const s = formatNumber(v);
  return v === null || unit === '' ? s : `${s} ${unit}`;
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!,
  );
}

/** True when every finite value of the shown series is above 0 (a log axis can draw them). */
function positive(data: PlotProps['data'], shown: readonly boolean[]): boolean {
  let any = false;
  for (let i = 1; i < data.length; i++) {
    if (!shown[i - 1]) continue;
    for (const v of data[i]!) {
      if (v === null || !Number.isFinite(v)) continue;
      if (v <= 0) return false;
      any = true;
    }
  }
  return any;
}

/** A labelled line chart. Re-created when its data changes (data sets here are small). */
export function Plot(props: PlotProps) {
  const host = useRef<HTMLDivElement>(null);
  const chartRef = useRef<uPlot | null>(null);
  const { data, series, height = 200, xLabel, yLabel, unit = '', integerX, syncKey, bands } = props;
  const [hidden, setHidden] = useState<ReadonlySet<string>>(new Set());
  const hiddenRef = useRef(hidden);
  hiddenRef.current = hidden;
  const [log, setLog] = useState(false);
  const [xRange, setXRange] = useState<[number, number] | null>(null);
  const isShown = (s: PlotSeries, h: ReadonlySet<string>) => !h.has(s.partOf ?? s.label);
  const shown = series.map((s) => isShown(s, hidden));
  const canLog = positive(data, shown);
  const useLog = log && canLog;
  const full: [number, number] | null =
    data[0].length > 0 ? [data[0][0]!, data[0][data[0].length - 1]!] : null;
  const zoomed = xRange !== null && full !== null && (xRange[0] > full[0] || xRange[1] < full[1]);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const width = Math.max(200, el.clientWidth || 400);
    const tip = document.createElement('div');
    tip.className = 'plot-tip';
    tip.setAttribute('role', 'status');
    tip.hidden = true;
    let hovered = false;
    // Rows a series may be away from the cursor and still read out (sparse runs, overlays).
    const maxGap = Math.max(1, Math.ceil(data[0].length / 20));
    const opts: uPlot.Options = {
      width,
      height,
      legend: { show: false },
      cursor: {
        y: false,
        drag: { x: true, y: false },
        ...(syncKey ? { sync: { key: syncKey, setSeries: false } } : {}),
      },
      scales: {
        x: { time: false },
        y: useLog ? { distr: 3 } : { range: (_u, min, max) => yRange(min, max) },
      },
      axes: [
        {
          stroke: '#333',
          grid: { stroke: '#e5e5e5' },
          size: 30,
          ...(integerX ? { incrs: [...INTEGER_INCRS] } : {}),
          values: (_u, splits) => splits.map((v) => formatNumber(v)),
        },
        {
          stroke: '#333',
          grid: { stroke: '#e5e5e5' },
          size: (_u, values) => axisWidth(values ?? []),
          values: (_u, splits) => splits.map((v) => formatNumber(v)),
        },
      ],
      series: [
        { label: xLabel ?? 'step' },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.width ?? 1.5,
          show: isShown(s, hiddenRef.current),
          ...(s.dash ? { dash: s.dash } : {}),
          spanGaps: true,
          points: { show: s.points ?? false, size: 5 },
        })),
      ],
      ...(bands && bands.length > 0
        ? {
            bands: bands.map((b) => ({
              series: [b.upper + 1, b.lower + 1] as [number, number],
              fill: withAlpha(b.color, 0.15),
            })),
          }
        : {}),
      hooks: {
        setScale: [
          (u, key) => {
            if (key !== 'x') return;
            const sc = u.scales.x;
            if (sc?.min != null && sc.max != null) setXRange([sc.min, sc.max]);
          },
        ],
        setCursor: [
          (u) => {
            const idx = u.cursor.idx;
            const left = u.cursor.left ?? -1;
            if (!hovered || idx === null || idx === undefined || left < 0) {
              tip.hidden = true;
              return;
            }
            const x = u.data[0][idx]!;
            const rows = series
              .map((s, i) => ({ s, i }))
              .filter(({ s, i }) => s.legend !== false && u.series[i + 1]?.show !== false)
              .map(({ s, i }) => {
                const near = valueNear(u.data[i + 1] as (number | null)[], idx, maxGap);
                const at =
                  near && near.row !== idx
                    ? ` <span class="at">(at ${formatNumber(u.data[0][near.row]!)})</span>`
                    : '';
                return `<tr><th scope="row">${swatchSvg(s.color, s.dash)}${escapeHtml(s.label)}</th><td class="num">${near ? escapeHtml(withUnit(near.value, unit)) : '—'}${at}</td></tr>`;
              })
              .join('');
            tip.innerHTML = `<div class="tip-x">${escapeHtml(xLabel ?? 'step')} ${escapeHtml(formatNumber(x))}</div><table>${rows}</table>`;
            tip.hidden = false;
            const top = u.cursor.top ?? 0;
            // Keep the box inside the plot: flip to the left of the cursor past the middle.
            const flip = left > u.over.clientWidth / 2;
            tip.style.left = flip ? '' : `${left + 12}px`;
            tip.style.right = flip ? `${u.over.clientWidth - left + 12}px` : '';
            tip.style.top = `${Math.max(0, Math.min(top, u.over.clientHeight - 40))}px`;
          },
        ],
      },
    };
    const chart = new uPlot(opts, data as uPlot.AlignedData, el);
    chartRef.current = chart;
    chart.over.appendChild(tip);
    const enter = () => {
      hovered = true;
    };
    const leave = () => {
      hovered = false;
      tip.hidden = true;
    };
    chart.over.addEventListener('mouseenter', enter);
    chart.over.addEventListener('mouseleave', leave);
    const observer = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (Math.abs(w - chart.width) > 2) chart.setSize({ width: w, height });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      chart.over.removeEventListener('mouseenter', enter);
      chart.over.removeEventListener('mouseleave', leave);
      chartRef.current = null;
      chart.destroy();
    };
  }, [data, series, height, xLabel, unit, integerX, syncKey, bands, useLog]);
  const [tableOpen, setTableOpen] = useState(false);
  const legend = useMemo(
    () =>
      series
        .map((s, i) => ({ s, last: lastFinite(data[i + 1] ?? []) }))
        .filter(({ s }) => s.legend !== false),
    [data, series],
  );
  const toggle = (label: string) => {
    const next = new Set(hidden);
    if (next.has(label)) next.delete(label);
    else next.add(label);
    setHidden(next);
    const chart = chartRef.current;
    if (!chart) return;
    chart.batch(() => {
      series.forEach((s, i) => {
        const show = isShown(s, next);
        if (chart.series[i + 1]?.show !== show) chart.setSeries(i + 1, { show });
      });
    });
  };
  const resetZoom = () => {
    const chart = chartRef.current;
    if (!chart) return;
    // A zoom is shared by the charts of one sync group: reset them all, each to its own data.
    const plots = syncKey ? uPlot.sync(syncKey).plots : [chart];
    for (const p of plots.includes(chart) ? plots : [chart]) {
      const xs = p.data[0];
      if (xs.length > 0) p.setScale('x', { min: xs[0]!, max: xs[xs.length - 1]! });
    }
  };
  const downloadCsv = () => {
    const csv = toCsv(
      xLabel ?? 'step',
      series.map((s) => s.label),
      data,
    );
    const a = document.createElement('a');
    a.href = `data:text/csv;charset=utf-8,${encodeURIComponent(csv)}`;
    a.download = csvFileName(props.title);
    a.click();
  };
  return (
    <figure
      class="plot"
      aria-label={unit ? `${props.title} (${unit})` : props.title}
      data-points={props.points.join(',')}
      data-hidden={[...hidden].join('|')}
      data-log={useLog ? 'true' : 'false'}
      data-bands={String(bands?.length ?? 0)}
      data-xrange={xRange ? xRange.join(',') : undefined}
      {...props.attrs}
    >
      <figcaption>
        <span class="plot-title">
          {props.title}
          {unit ? <span class="plot-unit"> ({unit})</span> : null}
        </span>
        {props.caption ? <span class="plot-caption">{props.caption}</span> : null}
      </figcaption>
      <div class="plot-tools">
        <button
          type="button"
          class="small"
          disabled={!zoomed}
          onClick={resetZoom}
          title="Drag across the chart to zoom in"
        >
          Reset zoom
        </button>
        <label class="control" title={canLog ? undefined : 'needs values above 0'}>
          <input
            type="checkbox"
            checked={useLog}
            disabled={!canLog}
            onChange={(e) => setLog((e.target as HTMLInputElement).checked)}
          />{' '}
          log y
        </label>
        <button type="button" class="small" onClick={downloadCsv}>
          CSV
        </button>
      </div>
      {yLabel ? <div class="axis-label y-label">{yLabel}</div> : null}
      <div ref={host} class="plot-canvas" aria-hidden="true" />
      <div class="axis-label x-label">{xLabel ?? 'step'}</div>
      <ul class="plot-legend" aria-label={`${props.title}: last values (press to hide a series)`}>
        {legend.map(({ s, last }) => (
          <li key={s.label} data-series={s.label}>
            <button
              type="button"
              class="legend-toggle"
              aria-pressed={!hidden.has(s.label)}
              title={hidden.has(s.label) ? 'show this series' : 'hide this series'}
              onClick={() => toggle(s.label)}
            >
              <LineSwatch color={s.color} dash={s.dash} />
              <span class="series-label">{s.label}</span>
            </button>{' '}
            <span class="last">
              {s.note ?? (last === null ? 'no finite value' : `last ${withUnit(last, unit)}`)}
            </span>
          </li>
        ))}
      </ul>
      <details
        class="plot-data"
        onToggle={(e) => setTableOpen((e.currentTarget as HTMLDetailsElement).open)}
      >
        <summary>Data table</summary>
        {tableOpen ? <PlotTable data={data} series={series} xLabel={xLabel ?? 'step'} /> : null}
      </details>
    </figure>
  );
}

/** A table value: 6 significant digits (the chart's ticks use 4). */
function precise(v: number | null): string {
  return v === null || !Number.isFinite(v) ? '—' : String(Number(v.toPrecision(6)));
}

/** The chart's numbers as a table (the canvas' text alternative), rendered only when opened. */
function PlotTable(props: { data: PlotProps['data']; series: PlotSeries[]; xLabel: string }) {
  const { data, series } = props;
  const cols = series.map((s, i) => ({ s, i })).filter(({ s }) => s.legend !== false);
  return (
    <div class="table-scroll plot-table">
      <table>
        <thead>
          <tr>
            <th scope="col" class="num">
              {props.xLabel}
            </th>
            {cols.map(({ s }) => (
              <th key={s.label} scope="col" class="num">
                {s.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {data[0].map((x, row) => (
            <tr key={x}>
              <th scope="row" class="num">
                {formatNumber(x)}
              </th>
              {cols.map(({ s, i }) => (
                <td key={s.label} class="num">
                  {precise(data[i + 1]?.[row] ?? null)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
