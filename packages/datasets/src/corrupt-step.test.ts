import { describe, expect, it } from 'vitest';
import { generateArithmeticProblem } from './arithmetic.js';
import { corruptCotStep } from './corrupt-step.js';
import { splitCotSteps } from './cot-steps.js';

const STEP = /^(-?\d+)([+\-*])(-?\d+)=(-?\d+)\.$/;

describe('corruptCotStep', () => {
  it('changes step k and carries the wrong value through (hand-computed)', () => {
    const c = corruptCotStep('4*2=8. 3+8=11. 11-1=10.', 0, { delta: 1 });
    expect(c.cot).toBe('4*2=9. 3+9=12. 12-1=11.');
    expect(c.prefix).toBe('4*2=9.');
    expect(c.cot.slice(...c.changedRange)).toBe('9');
    expect([c.originalValue, c.corruptedValue, c.answer]).toEqual([8, 9, 11]);
    const mid = corruptCotStep('4*2=8. 3+8=11. 11-1=10.', 1, { delta: -2 });
    expect(mid.cot).toBe('4*2=8. 3+8=9. 9-1=8.');
    expect(mid.prefix).toBe('4*2=8. 3+8=9.');
  });

  it('property (400 problems): only step k is wrong, later steps are recomputed from it and the answer follows the change', () => {
    for (let seed = 0; seed < 400; seed++) {
      const p = generateArithmeticProblem(seed, 1, { steps: [2, 4], max: 12 });
      const k = seed % p.steps.length;
      const c = corruptCotStep(p.cot, k, { seed });
      expect(c.corruptedValue).not.toBe(c.originalValue);
      expect(c.originalValue).toBe(p.steps[k]?.result);
      expect(c.cot.startsWith(c.prefix)).toBe(true);
      expect(p.cot.slice(0, c.changedRange[0])).toBe(c.cot.slice(0, c.changedRange[0]));
      const steps = splitCotSteps(c.cot).map((s) => s.text);
      expect(steps).toHaveLength(p.steps.length);
      steps.forEach((t, i) => {
        const [, a, op, b, r] = STEP.exec(t) as unknown as [string, string, string, string, string];
        const x = Number(a);
        const y = Number(b);
        const right = op === '+' ? x + y : op === '-' ? x - y : x * y;
        // Step k holds the mistake; every other step is correct arithmetic.
        if (i === k) expect(Number(r)).not.toBe(right);
        else expect(right).toBe(Number(r));
      });
      expect(c.answer).toBe(Number((STEP.exec(steps.at(-1) as string) as RegExpExecArray)[4]));
    }
  });

  it('rejects a step index outside the CoT', () => {
    expect(() => corruptCotStep('1+1=2.', 1)).toThrow(/out of range/);
  });
});
