import { describe, expect, it } from 'vitest';
import { createRng } from './rng.js';
import { sampleToken } from './sampling.js';

const probs = [0.1, 0.5, 0.15, 0.25];
const logp = Float32Array.from(probs.map(Math.log));

describe('sampleToken', () => {
  it('greedy picks the first maximum', () => {
    expect(sampleToken(logp, { greedy: true }, createRng(0))).toBe(1);
    expect(sampleToken(Float32Array.from([0, 2, 2]), { greedy: true }, createRng(0))).toBe(1);
  });

  it('samples with the right frequencies', () => {
    const rng = createRng(3);
    const counts = [0, 0, 0, 0];
    const n = 8000;
    for (let i = 0; i < n; i++) counts[sampleToken(logp, { greedy: false }, rng)]! += 1;
    counts.forEach((c, i) => {
      expect(Math.abs(c / n - probs[i]!)).toBeLessThan(0.02);
    });
  });

  it('top-k and top-p restrict the support (HF semantics: the crossing token is kept)', () => {
    const rng = createRng(5);
    const seenK = new Set<number>();
    const seenP = new Set<number>();
    for (let i = 0; i < 400; i++) {
      seenK.add(sampleToken(logp, { greedy: false, topK: 2 }, rng));
      seenP.add(sampleToken(logp, { greedy: false, topP: 0.7 }, rng)); // 0.5 + 0.25 crosses 0.7
    }
    expect([...seenK].sort()).toEqual([1, 3]);
    expect([...seenP].sort()).toEqual([1, 3]);
    expect(sampleToken(logp, { greedy: false, topP: 0.3 }, rng)).toBe(1);
  });
});
