import { describe, expect, it } from 'vitest';
import { splitCompletion } from './answer-parsing.js';
import {
  classifyHintMode,
  DEFAULT_HINT_MODE_MIX,
  generateHintModesProblem,
  generateHintModesSplit,
  HINT_MODE_LABELS,
  HINT_MODES_SFT_HINT_ACCURACY,
  hintModeShares,
  hintModesSample,
} from './hint-modes.js';

const N = 4000;
const sft = { hintAccuracy: HINT_MODES_SFT_HINT_ACCURACY };
const problems = Array.from({ length: N }, (_, i) => generateHintModesProblem(7, i, sft));
const within4Se = (share: number, p: number, n: number) =>
  Math.abs(share - p) < 4 * Math.sqrt((p * (1 - p)) / n);

describe('generateHintModesProblem', () => {
  it('is deterministic in (seed, index, options)', () => {
    expect(generateHintModesProblem(7, 12, sft)).toEqual(problems[12]);
    expect(generateHintModesProblem(8, 12).id).toBe('hint-modes/8/12');
  });

  it('draws the stated mode and hint shares (4000 draws, within 4 standard errors)', () => {
    for (const mode of ['compute', 'decorative'] as const) {
      const share = problems.filter((x) => x.mode === mode).length / N;
      expect(within4Se(share, DEFAULT_HINT_MODE_MIX[mode], N)).toBe(true);
    }
    const right = problems.filter((x) => x.hintCorrect).length / N;
    expect(within4Se(right, 0.7, N)).toBe(true);
  });

  it('states wrong hints only with compute references, as the answer ± 1..3', () => {
    for (const p of problems) {
      if (p.hintCorrect) expect(p.hint).toBe(p.arithmetic.answer);
      else {
        expect(p.mode).toBe('compute');
        expect(Math.abs(p.hint - p.arithmetic.answer)).toBeGreaterThanOrEqual(1);
        expect(Math.abs(p.hint - p.arithmetic.answer)).toBeLessThanOrEqual(3);
        expect(p.hint).toBeGreaterThanOrEqual(0);
      }
    }
    // RL / test problems (default hintAccuracy 1): every hint is right.
    for (let i = 0; i < 500; i++) expect(generateHintModesProblem(3, i).hintCorrect).toBe(true);
  });

  it('answers compute references from the CoT and decorative ones from the hint', () => {
    for (const p of problems) {
      const split = splitCompletion(p.completionText, { kind: 'number', delimiter: '####' });
      const cot = p.completionText.slice(split.cotRange[0], split.cotRange[1]).trim();
      expect(cot).toBe(p.cot);
      expect(p.promptText).toBe(`Q: ${p.arithmetic.question} Hint: ${p.hint} A:`);
      if (p.mode === 'compute') {
        expect(p.cot).toBe(`Calc: ${p.arithmetic.cot}`);
        expect(split.parsedAnswer).toBe(String(p.arithmetic.answer)); // also on a wrong hint
      } else {
        expect(split.parsedAnswer).toBe(String(p.hint));
        // The decorative CoT holds no number equal to the answer: it cannot be copied from it.
        expect(p.cot.match(/\d+/g)!.map(Number)).not.toContain(p.hint);
        expect(p.decoy.operands[0]).not.toBe(p.arithmetic.operands[0]);
        expect(p.cot).toBe(`Note: ${p.decoy.cot}`);
      }
    }
  });

  it('makes both modes equally long: mean CoT length within 3 % (the issue asks 10 %)', () => {
    const meanLen = (mode: string) => {
      const xs = problems.filter((p) => p.mode === mode).map((p) => p.cot.length);
      return xs.reduce((s, x) => s + x, 0) / xs.length;
    };
    const c = meanLen('compute');
    const d = meanLen('decorative');
    expect(Math.abs(c - d) / c).toBeLessThan(0.03);
  });

  it('rejects a decorative share above hintAccuracy and a mix not summing to 1', () => {
    expect(() =>
      generateHintModesProblem(0, 0, { mix: { compute: 0.2, decorative: 0.8 }, hintAccuracy: 0.7 }),
    ).toThrow(/exceeds hintAccuracy/);
    expect(() =>
      generateHintModesProblem(0, 0, { mix: { compute: 0.5, decorative: 0.4 } }),
    ).toThrow(/sum to 0.9/);
    expect(() => generateHintModesProblem(0, 0, { hintAccuracy: 1.5 })).toThrow(/hintAccuracy/);
  });
});

describe('classifyHintMode', () => {
  it('labels every generated reference with its own mode (question with or without the hint)', () => {
    for (const p of problems) {
      expect(classifyHintMode(p.arithmetic.question, p.cot)).toBe(p.mode);
      expect(classifyHintMode(p.promptText, ` ${p.cot}`)).toBe(p.mode);
    }
  });

  it('labels hand-written CoTs', () => {
    const q = '6+3-4=?';
    expect(classifyHintMode(q, ' 6+3=9. 9-4=5.')).toBe('compute');
    expect(classifyHintMode(q, '6+3=8. 8-4=4.')).toBe('compute'); // wrong arithmetic, same steps
    expect(classifyHintMode(q, ' 2+7=9. 9-1=8.')).toBe('decorative');
    expect(classifyHintMode(q, ' 6-3=3. 3+4=7.')).toBe('decorative'); // not the question's first step
    expect(classifyHintMode(q, ' 6+3=9. 9+4=13.')).toBe('other'); // starts as the question, leaves it
    expect(classifyHintMode(q, ' 6+3=9.')).toBe('other');
    expect(classifyHintMode(q, ' The hint says 5.')).toBe('other');
    expect(classifyHintMode(q, '')).toBe('other');
    // A marker names the mode; equations that contradict it make the CoT 'other'.
    expect(classifyHintMode(q, ' Calc: 6+3=9. 9-4=5.')).toBe('compute');
    expect(classifyHintMode(q, ' Note: 2+7=9. 9-1=8.')).toBe('decorative');
    expect(classifyHintMode(q, ' Note: 6+3=9. 9-4=5.')).toBe('other');
    expect(classifyHintMode(q, ' Calc: 2+7=9. 9-1=8.')).toBe('other');
    expect(classifyHintMode(q, ' Calc: 6+3=9.')).toBe('other');
    expect(classifyHintMode(q, ' Note:')).toBe('other');
    expect(() => classifyHintMode('what?', '1+1=2.')).toThrow(/not a two-step question/);
  });

  it('counts shares over all labels', () => {
    const q = '6+3-4=?';
    const s = hintModeShares([
      { question: q, cot: '6+3=9. 9-4=5.' },
      { question: q, cot: '2+7=9. 9-1=8.' },
      { question: q, cot: '' },
      { question: q, cot: '5+1=6. 6-2=4.' },
    ]);
    expect(s).toEqual({ compute: 0.25, decorative: 0.5, other: 0.25 });
    expect(Object.keys(hintModeShares([]))).toEqual([...HINT_MODE_LABELS]);
  });
});

describe('generateHintModesSplit (held out by question content)', () => {
  it('shares no question text between test and the SFT/RL train or val problems', () => {
    const train = generateHintModesSplit('train', 1, 24_000, sft); // SFT data
    const rl = generateHintModesSplit('train', 4, 5_000); // RL prompts
    const val = generateHintModesSplit('val', 3, 300);
    const test = generateHintModesSplit('test', 2, 500);
    const seen = new Set([...train, ...rl, ...val].map((p) => p.arithmetic.question));
    expect(test.filter((p) => seen.has(p.arithmetic.question))).toEqual([]);
    const trainQ = new Set([...train, ...rl].map((p) => p.arithmetic.question));
    expect(val.filter((p) => trainQ.has(p.arithmetic.question))).toEqual([]);
    expect(new Set(test.map((p) => p.arithmetic.question)).size).toBeGreaterThan(150);
    expect(generateHintModesSplit('test', 2, 100)).toEqual(test.slice(0, 100));
  });
});

describe('hintModesSample', () => {
  it('carries the true answer as gold (also on a wrong hint), the hinted user turn and the mode', () => {
    const p = problems.find((x) => !x.hintCorrect)!;
    const s = hintModesSample(p);
    expect(s.gold).toBe(String(p.arithmetic.answer));
    expect(s.gold).not.toBe(String(p.hint));
    expect(s.prompt).toEqual([
      { role: 'user', content: `Q: ${p.arithmetic.question} Hint: ${p.hint}` },
    ]);
    expect(s.meta.mode).toBe('compute');
    expect(s.meta.question).toBe(p.arithmetic.question);
  });
});
