// A uPlot chart as a Preact component, with read-outs: a hover tooltip giving the x value and
// every series' value, a cursor synced across the charts of a page (`syncKey`), and a legend
// holding each series' last value. Axis titles are HTML (they wrap, so they are never clipped);
// the canvas is decorative for screen readers (the legend carries the numbers as text).
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { axisWidth, INTEGER_INCRS, lastFinite, valueNear, yRange } from '../data/axes.js';
import { formatNumber } from '../data/format.js';

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

/** A labelled line chart. Re-created when its data changes (data sets here are small). */
export function Plot(props: PlotProps) {
  const host = useRef<HTMLDivElement>(null);
  const { data, series, height = 200, xLabel, yLabel, unit = '', integerX, syncKey } = props;
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
        y: { range: (_u, min, max) => yRange(min, max) },
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
          ...(s.dash ? { dash: s.dash } : {}),
          spanGaps: true,
          points: { show: s.points ?? false, size: 5 },
        })),
      ],
      hooks: {
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
              .filter(({ s }) => s.legend !== false)
              .map(({ s, i }) => {
                const near = valueNear(u.data[i + 1] as (number | null)[], idx, maxGap);
                const at =
                  near && near.row !== idx
                    ? ` <span class="at">(at ${formatNumber(u.data[0][near.row]!)})</span>`
                    : '';
                return `<tr><th scope="row"><span class="swatch" style="border-top-color:${s.color};border-top-style:${s.dash ? 'dashed' : 'solid'}"></span>${escapeHtml(s.label)}</th><td class="num">${near ? escapeHtml(withUnit(near.value, unit)) : '—'}${at}</td></tr>`;
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
      chart.destroy();
    };
  }, [data, series, height, xLabel, unit, integerX, syncKey]);
  const [tableOpen, setTableOpen] = useState(false);
  const legend = useMemo(
    () =>
      series
        .map((s, i) => ({ s, last: lastFinite(data[i + 1] ?? []) }))
        .filter(({ s }) => s.legend !== false),
    [data, series],
  );
  return (
    <figure
      class="plot"
      aria-label={unit ? `${props.title} (${unit})` : props.title}
      data-points={props.points.join(',')}
      {...props.attrs}
    >
      <figcaption>
        <span class="plot-title">
          {props.title}
          {unit ? <span class="plot-unit"> ({unit})</span> : null}
        </span>
        {props.caption ? <span class="plot-caption">{props.caption}</span> : null}
      </figcaption>
      {yLabel ? <div class="axis-label y-label">{yLabel}</div> : null}
      <div ref={host} class="plot-canvas" aria-hidden="true" />
      <div class="axis-label x-label">{xLabel ?? 'step'}</div>
      <ul class="plot-legend" aria-label={`${props.title}: last values`}>
        {legend.map(({ s, last }) => (
          <li key={s.label} data-series={s.label}>
            <span
              class="swatch"
              style={{ borderTopColor: s.color, borderTopStyle: s.dash ? 'dashed' : 'solid' }}
            />
            <span class="series-label">{s.label}</span>{' '}
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
