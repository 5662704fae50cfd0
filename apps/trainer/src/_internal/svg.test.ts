import { describe, expect, it } from 'vitest';
import { barChart, lineChart } from './svg.js';

describe('svg charts', () => {
  it('draws one polyline per series with one point per finite value, and a legend entry', () => {
    const svg = lineChart('t <1>', 'step', [
      { name: 'A', x: [1, 2, 3], y: [0, 0.5, 1] },
      { name: 'B', x: [1, 2, 3], y: [1, Number.NaN, 0] },
    ]);
    const lines = [...svg.matchAll(/<polyline points="([^"]*)"/g)].map(
      (m) => m[1]!.split(' ').length,
    );
    expect(lines).toEqual([3, 2]);
    expect(svg).toContain('t &lt;1&gt;');
    expect(svg).toMatch(/>A<\/text>[\s\S]*>B<\/text>/);
    // The first step sits on the left edge of the plot (x = left margin 56).
    expect(svg).toMatch(/<polyline points="56\.0,/);
  });

  it('draws one bar per group, a whisker only where err > 0, and the dashed baseline', () => {
    const svg = barChart(
      'p',
      [
        { name: 'A', value: 0.5, err: 0.1 },
        { name: 'B', value: 0.3, err: 0 },
      ],
      { label: 'start', value: 0.45 },
    );
    expect(svg.match(/<rect x="[\d.]+" y="[\d.]+" width/g)).toHaveLength(3); // 2 bars + plot frame
    expect(svg.match(/stroke="black"/g)).toHaveLength(1);
    expect(svg).toContain('stroke-dasharray');
  });
});
