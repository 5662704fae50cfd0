import { describe, expect, it } from 'vitest';
import {
  formatRelevance,
  RELEVANCE_DOMAIN,
  relevanceColor,
  relevanceRgb,
  relevanceTextColor,
} from './color-scale.js';

describe('relevance colour scale', () => {
  it('maps the stops to the hand-picked blue / white / orange colours', () => {
    expect(relevanceColor(-1.5)).toBe('rgb(33, 102, 172)');
    expect(relevanceColor(0)).toBe('rgb(247, 247, 247)');
    expect(relevanceColor(1)).toBe('rgb(230, 97, 1)');
  });

  it('interpolates linearly between stops', () => {
    // halfway between 0 (247,247,247) and 0.5 (253,184,99): (250, 215.5, 173) rounded
    expect(relevanceRgb(0.25)).toEqual([250, 216, 173]);
    // halfway between -0.75 (146,197,222) and 0 (247,247,247)
    expect(relevanceRgb(-0.375)).toEqual([197, 222, 235]);
  });

  it('clamps outside the fixed domain and has no colour for unmasked tokens', () => {
    expect(RELEVANCE_DOMAIN).toEqual([-1.5, 1]);
    expect(relevanceColor(-7)).toBe(relevanceColor(-1.5));
    expect(relevanceColor(3)).toBe(relevanceColor(1));
    expect(relevanceColor(null)).toBeNull();
    expect(relevanceColor(Number.NaN)).toBeNull();
  });

  it('never uses red or green hues: every colour is on the blue-orange axis', () => {
    for (let v = -1.5; v <= 1; v += 0.05) {
      const [r, g, b] = relevanceRgb(v);
      if (v < -0.01) expect(b).toBeGreaterThan(r); // blue side
      if (v > 0.01) expect(r).toBeGreaterThan(b); // orange side
      expect(g).toBeLessThanOrEqual(Math.max(r, b)); // never green-dominant
    }
  });

  it('picks white text on the dark ends and dark text near zero', () => {
    expect(relevanceTextColor(-1.5)).toBe('#fff');
    expect(relevanceTextColor(0)).toBe('#111');
    expect(relevanceTextColor(null)).toBe('inherit');
  });

  it('formats exact values for the hover title', () => {
    expect(formatRelevance(0.42131)).toBe('relevance 0.4213');
    expect(formatRelevance(null)).toContain('no mask');
  });
});
