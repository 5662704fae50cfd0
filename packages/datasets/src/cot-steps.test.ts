import { describe, expect, it } from 'vitest';
import { splitCotSteps } from './cot-steps.js';

describe('splitCotSteps', () => {
  it('splits arithmetic steps at periods and keeps exact ranges', () => {
    const cot = '4*2=8. 3+8=11. 11-1=10.';
    const steps = splitCotSteps(cot);
    expect(steps.map((s) => s.text)).toEqual(['4*2=8.', '3+8=11.', '11-1=10.']);
    for (const s of steps) expect(cot.slice(...s.range)).toBe(s.text);
  });

  it('splits on lines and sentences but not inside decimals or prices', () => {
    const cot =
      'Janet sells 16 - 3 - 4 = 9 eggs a day.\nEach costs $1.50! So 9 * 1.5 = 13.5\n\nDone?';
    expect(splitCotSteps(cot).map((s) => s.text)).toEqual([
      'Janet sells 16 - 3 - 4 = 9 eggs a day.',
      'Each costs $1.50!',
      'So 9 * 1.5 = 13.5',
      'Done?',
    ]);
  });

  it('returns no steps for blank text', () => {
    expect(splitCotSteps('  \n ')).toEqual([]);
  });
});
