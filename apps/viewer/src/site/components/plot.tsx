// A uPlot chart as a Preact component. The canvas is decorative for screen readers: the figure
// is labelled, and `data-points` exposes each series' point count (used by tests and tooltips).
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatNumber } from '../data/format.js';

/** One plotted series. */
export interface PlotSeries {
  label: string;
  color: string;
  width?: number;
  dash?: number[];
  /** Draw points as dots (for short curves such as eval curves). */
  points?: boolean;
  /** List it in the legend (default true; raw curves behind smoothed ones are not). */
  legend?: boolean;
}

/** Props of {@link Plot}. */
export interface PlotProps {
  title: string;
  /** uPlot aligned data: `[xs, ys1, ys2, …]`. */
  data: [number[], ...(number | null)[][]];
  series: PlotSeries[];
  xLabel?: string;
  yLabel?: string;
  height?: number;
  /** Text shown under the title (e.g. last value, area). */
  caption?: string;
  /** Extra attributes for the figure (e.g. `data-metric`). */
  attrs?: Record<string, string>;
  /** Number of points per run, for `data-points`. */
  points: number[];
}

/** A labelled line chart. Re-created when its data changes (data sets here are small). */
export function Plot(props: PlotProps) {
  const host = useRef<HTMLDivElement>(null);
  const { data, series, height = 200, xLabel, yLabel } = props;
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const width = Math.max(240, el.clientWidth || 400);
    const opts: uPlot.Options = {
      width,
      height,
      legend: { show: false },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: false } },
      axes: [
        { label: xLabel ?? 'step', stroke: '#333', grid: { stroke: '#e5e5e5' } },
        {
          label: yLabel ?? '',
          stroke: '#333',
          grid: { stroke: '#e5e5e5' },
          size: 60,
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
    };
    const chart = new uPlot(opts, data as uPlot.AlignedData, el);
    const observer = new ResizeObserver(() => {
      const w = Math.max(240, el.clientWidth);
      if (Math.abs(w - chart.width) > 2) chart.setSize({ width: w, height });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      chart.destroy();
    };
  }, [data, series, height, xLabel, yLabel]);
  const legend = series.filter((s) => s.legend !== false);
  return (
    <figure
      class="plot"
      aria-label={props.title}
      data-points={props.points.join(',')}
      {...props.attrs}
    >
      <figcaption>
        <span class="plot-title">{props.title}</span>
        {props.caption ? <span class="plot-caption">{props.caption}</span> : null}
      </figcaption>
      <div ref={host} class="plot-canvas" aria-hidden="true" />
      {legend.length > 1 ? (
        <ul class="plot-legend">
          {legend.map((s) => (
            <li key={s.label}>
              <span
                class="swatch"
                style={{ borderTopColor: s.color, borderTopStyle: s.dash ? 'dashed' : 'solid' }}
              />
              {s.label}
            </li>
          ))}
        </ul>
      ) : null}
    </figure>
  );
}
