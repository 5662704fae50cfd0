// A series' line sample: its colour and its exact dash pattern (the one the chart draws), so
// seeds drawn dashed and dotted are told apart in legends too.

const W = 26;

/** The dash as an SVG `stroke-dasharray` (`undefined`: solid). */
export function dashArray(dash: readonly number[] | undefined): string | undefined {
  return dash && dash.length > 0 ? dash.join(' ') : undefined;
}

/** A line sample as SVG markup (for HTML built as text, e.g. the chart tooltip). */
export function swatchSvg(color: string, dash: readonly number[] | undefined): string {
  const d = dashArray(dash);
  const safe = color.replace(/[^#a-zA-Z0-9(),. ]/g, '');
  return `<svg class="swatch-line" width="${W}" height="8" aria-hidden="true"><line x1="0" y1="4" x2="${W}" y2="4" stroke="${safe}" stroke-width="2"${d ? ` stroke-dasharray="${d}"` : ''}/></svg>`;
}

/** A line sample as an element. */
export function LineSwatch(props: { color: string; dash?: readonly number[] | undefined }) {
  const d = dashArray(props.dash);
  return (
    <svg class="swatch-line" width={W} height={8} aria-hidden="true" data-dash={d ?? 'solid'}>
      <line
        x1="0"
        y1="4"
        x2={W}
        y2="4"
        stroke={props.color}
        stroke-width="2"
        {...(d ? { 'stroke-dasharray': d } : {})}
      />
    </svg>
  );
}
