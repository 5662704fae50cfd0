import { describe, expect, it } from 'vitest';
import {
  formatRelevance,
  RELEVANCE_DOMAIN,
  relevanceColor,
  relevanceRgb,
  relevanceTextColor,
  scaleDomain,
  scaledColor,
  visibleText,
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

describe('scale modes', () => {
  const values = [-0.74, 0.2, 0.97, null];
  it('picks the range of each mode', () => {
    expect(scaleDomain('fixed', values)).toEqual([-1.5, 1]);
    expect(scaleDomain('fit', values)).toEqual([-0.74, 0.97]);
    expect(scaleDomain('symmetric', values)).toEqual([-0.97, 0.97]);
    expect(scaleDomain('fit', [0.3, 0.5])).toEqual([0, 0.5]);
    expect(scaleDomain('fit', [null])).toEqual([-1, 1]);
  });
  it('maps the ends of a fitted range onto the darkest colours, 0 onto white', () => {
    const d = [-0.74, 0.97] as const;
    expect(scaledColor(-0.74, d)).toBe('rgb(33, 102, 172)');
    expect(scaledColor(0.97, d)).toBe('rgb(230, 97, 1)');
    expect(scaledColor(0, d)).toBe('rgb(247, 247, 247)');
    // half of hi is the 0.5 stop of the fixed scale
    expect(scaledColor(0.485, d)).toBe('rgb(253, 184, 99)');
    expect(scaledColor(null, d)).toBeNull();
    // on the fixed range it is exactly the fixed scale
    for (const v of [-1.2, -0.3, 0.1, 0.8])
      expect(scaledColor(v, [-1.5, 1])).toBe(relevanceColor(v));
  });
  it('marks whitespace visibly', () => {
    expect(visibleText(' a\tb\n')).toBe('·a⇥b↵\n');
  });
});
