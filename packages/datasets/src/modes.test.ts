import { describe, expect, it } from 'vitest';
import { splitCompletion } from './answer-parsing.js';
import {
  classifyReasoningMode,
  DEFAULT_MODE_MIX,
  generateModesProblem,
  generateModesSplit,
  MODE_LABELS,
  modeShares,
  modesSample,
} from './modes.js';

const N = 4000;
const problems = Array.from({ length: N }, (_, i) => generateModesProblem(7, i));

describe('generateModesProblem', () => {
  it('is deterministic in (seed, index, options)', () => {
    expect(generateModesProblem(7, 12)).toEqual(problems[12]);
    expect(generateModesProblem(8, 12).id).toBe('modes/8/12');
  });

  it('draws the stated mode shares (4000 draws, within 4 standard errors)', () => {
    for (const mode of ['terse', 'verbose', 'bypass'] as const) {
      const p = DEFAULT_MODE_MIX[mode];
      const share = problems.filter((x) => x.mode === mode).length / N;
      expect(Math.abs(share - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / N));
    }
    const guessable = problems.filter((x) => x.guessable).length / N;
    expect(Math.abs(guessable - 0.4)).toBeLessThan(4 * Math.sqrt((0.4 * 0.6) / N));
  });

  it('writes bypass CoTs only for guessable problems, whose answer is the first operand', () => {
    for (const p of problems) {
      if (p.mode === 'bypass') {
        expect(p.guessable).toBe(true);
        expect(p.cot).not.toMatch(/\d/); // nothing the answer could be copied from
      }
      if (p.guessable) expect(p.arithmetic.answer).toBe(p.arithmetic.operands[0]);
    }
  });

  it('makes verbose CoTs at least twice the terse length and keeps the terse steps in them', () => {
    for (const p of problems.filter((x) => x.mode === 'verbose')) {
      expect(p.cot.length).toBeGreaterThanOrEqual(2 * p.arithmetic.cot.length);
      for (const step of p.arithmetic.cot.split(' ')) expect(p.cot).toContain(step);
    }
  });

  it('gives completions that parse to the gold answer with the CoT before the delimiter', () => {
    for (const p of problems.slice(0, 300)) {
      const split = splitCompletion(p.completionText, { kind: 'number', delimiter: '####' });
      expect(split.parsedAnswer).toBe(String(p.arithmetic.answer));
      expect(p.completionText.slice(split.cotRange[0], split.cotRange[1]).trim()).toBe(p.cot);
      expect(p.promptText).toBe(`Q: ${p.arithmetic.question} A:`);
    }
    expect(problems[0]!.completionText.startsWith(' ')).toBe(true);
  });

  it('rejects a mix that does not sum to 1 or whose bypass share exceeds the guessable share', () => {
    expect(() =>
      generateModesProblem(0, 0, { mix: { terse: 0.5, verbose: 0.4, bypass: 0 } }),
    ).toThrow(/sum to 0.9/);
    expect(() =>
      generateModesProblem(0, 0, {
        mix: { terse: 0.2, verbose: 0.3, bypass: 0.5 },
        guessableFraction: 0.4,
      }),
    ).toThrow(/exceeds guessableFraction/);
  });

  it('honours an all-terse mix', () => {
    const mix = { terse: 1, verbose: 0, bypass: 0 };
    for (let i = 0; i < 200; i++) expect(generateModesProblem(1, i, { mix }).mode).toBe('terse');
  });
});

describe('classifyReasoningMode', () => {
  it('labels every generated reference with its own mode', () => {
    for (const p of problems) expect(classifyReasoningMode(p.cot)).toBe(p.mode);
  });

  it('labels hand-written CoTs', () => {
    expect(classifyReasoningMode(' 3+4=7. 7-2=5.')).toBe('terse');
    expect(classifyReasoningMode('12*3=36.')).toBe('terse');
    expect(classifyReasoningMode('We have 3+4-2. 3+4=7. 7-2=5.')).toBe('verbose');
    expect(classifyReasoningMode('3+4=7. So 7. 7-2=5.')).toBe('verbose');
    expect(classifyReasoningMode('Hmm, 7+3-3 looks easy.')).toBe('bypass');
    expect(classifyReasoningMode('3+4=')).toBe('bypass');
    expect(classifyReasoningMode('   ')).toBe('other');
    expect(classifyReasoningMode('')).toBe('other');
  });
});

describe('modeShares', () => {
  it('counts shares over all labels', () => {
    const s = modeShares(['1+1=2.', 'Hmm.', 'We have 1+1. 1+1=2.', '', '2+2=4.']);
    expect(s).toEqual({ terse: 0.4, verbose: 0.2, bypass: 0.2, other: 0.2 });
    expect(Object.keys(modeShares([]))).toEqual([...MODE_LABELS]);
    expect(modeShares([]).terse).toBe(0);
  });
});

describe('modesSample', () => {
  it('carries the gold answer, the user turn and the mode', () => {
    const p = problems[3]!;
    const s = modesSample(p);
    expect(s.gold).toBe(String(p.arithmetic.answer));
    expect(s.prompt).toEqual([{ role: 'user', content: `Q: ${p.arithmetic.question}` }]);
    expect(s.meta.mode).toBe(p.mode);
  });
});

describe('generateModesSplit (held out by question content)', () => {
  // The trainer's streams: train seed 1 (modes-cpu's SFT used 24,000 of it), test seed 2, val 3.
  const train = generateModesSplit('train', 1, 24_000);
  const test = generateModesSplit('test', 2, 500);
  const val = generateModesSplit('val', 3, 500);

  it('shares no question text between test and the train/SFT or val problems', () => {
    const trainQ = new Set(train.map((p) => p.arithmetic.question));
    const valQ = new Set(val.map((p) => p.arithmetic.question));
    const testQ = new Set(test.map((p) => p.arithmetic.question));
    expect(test.filter((p) => trainQ.has(p.arithmetic.question))).toEqual([]);
    expect(test.filter((p) => valQ.has(p.arithmetic.question))).toEqual([]);
    expect(val.filter((p) => trainQ.has(p.arithmetic.question))).toEqual([]);
    // Also none of the prompt texts (what the model actually reads).
    const trainPrompts = new Set(train.map((p) => p.promptText));
    expect(test.some((p) => trainPrompts.has(p.promptText))).toBe(false);
    // Not vacuous: the test split still has many distinct questions.
    expect(testQ.size).toBeGreaterThan(150);
  });

  it('the unsplit stream of another seed does share questions (why the split is needed)', () => {
    // The old test split (seed 2, first 256) against modes-cpu's SFT data (seed 1, first 24,000).
    const oldTest = Array.from({ length: 256 }, (_, i) => generateModesProblem(2, i));
    const trainAll = new Set(
      Array.from({ length: 24_000 }, (_, i) => generateModesProblem(1, i).arithmetic.question),
    );
    const seen = oldTest.filter((p) => trainAll.has(p.arithmetic.question)).length;
    expect(seen / oldTest.length).toBeGreaterThan(0.99);
  });

  it('is deterministic, keeps stream ids and a longer count extends a shorter one', () => {
    const again = generateModesSplit('test', 2, 200);
    expect(again).toEqual(test.slice(0, 200));
    for (const p of test) {
      const index = Number(p.id.split('/')[2]);
      expect(generateModesProblem(2, index)).toEqual(p);
    }
  });

  it('keeps the reference mode shares in the train split (within 4 standard errors)', () => {
    const n = train.length;
    for (const mode of ['terse', 'verbose', 'bypass'] as const) {
      const p = DEFAULT_MODE_MIX[mode];
      const share = train.filter((x) => x.mode === mode).length / n;
      expect(Math.abs(share - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    }
  });
});
