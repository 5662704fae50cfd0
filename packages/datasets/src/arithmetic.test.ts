import { describe, expect, it } from 'vitest';
import { splitCompletion } from './answer-parsing.js';
import {
  arithmeticSample,
  arithmeticVocabulary,
  evaluateSteps,
  generateArithmeticDataset,
  generateArithmeticProblem,
} from './arithmetic.js';
import { splitCotSteps } from './cot-steps.js';

/** Independent reference: JavaScript's own precedence rules evaluate the expression. */
function jsEval(expr: string): number {
  return new Function(`return (${expr});`)() as number;
}

describe('generateArithmeticProblem', () => {
  it('produces the documented text shape', () => {
    const p = generateArithmeticProblem(1, 0);
    expect(p.text).toMatch(
      /^Q: [\d+\-*]+=\? A: (?:\d+[+\-*]\d+=\d+\. ){2}\d+[+\-*]\d+=\d+\. #### \d+$/,
    );
    expect(p.text).toBe(p.promptText + p.completionText);
    expect(
      evaluateSteps([3, 4, 2, 1], ['+', '*', '-']).map(
        (s) => `${s.left}${s.op}${s.right}=${s.result}`,
      ),
    ).toEqual(['4*2=8', '3+8=11', '11-1=10']);
  });

  it('property (600 seeds x 3 configs): arithmetic of every step is right, gold = last step = JS eval', () => {
    const configs = [
      {},
      { steps: [1, 5] as [number, number], min: 0, max: 20, allowNegative: true },
      { steps: 4, operations: ['+', '-'] as ('+' | '-')[], max: 50 },
    ];
    for (const cfg of configs) {
      for (let seed = 0; seed < 600; seed++) {
        const p = generateArithmeticProblem(seed, seed % 7, cfg);
        const expr = p.question.replace('=?', '');
        expect(p.answer).toBe(jsEval(expr));
        const stepTexts = splitCotSteps(p.cot).map((s) => s.text);
        expect(stepTexts).toHaveLength(p.operators.length);
        let last = Number.NaN;
        for (const t of stepTexts) {
          const m = /^(-?\d+)([+\-*])(-?\d+)=(-?\d+)\.$/.exec(t);
          expect(m, t).not.toBeNull();
          const [, a, op, b, c] = m as unknown as [string, string, string, string, string];
          expect(jsEval(`${a}${op}(${b})`)).toBe(Number(c));
          last = Number(c);
        }
        expect(p.answer).toBe(last);
        const split = splitCompletion(p.completionText, { kind: 'number' });
        expect(split.parsedAnswer).toBe(String(p.answer));
        expect(split.isStrict).toBe(true);
        if (!('allowNegative' in cfg)) expect(p.steps.every((s) => s.result >= 0)).toBe(true);
      }
    }
  });

  it('is deterministic per (seed, index) and differs across seeds', () => {
    expect(generateArithmeticProblem(5, 3)).toEqual(generateArithmeticProblem(5, 3));
    const a = generateArithmeticDataset(20, 1).map((p) => p.text);
    const b = generateArithmeticDataset(20, 2).map((p) => p.text);
    expect(a).not.toEqual(b);
    expect(new Set(a).size).toBeGreaterThan(15);
  });

  it("'first-operand' variant: the answer always equals the first operand", () => {
    for (let seed = 0; seed < 300; seed++) {
      const p = generateArithmeticProblem(seed, 0, { hint: 'first-operand', steps: [1, 4] });
      expect(p.answer).toBe(p.operands[0]);
      expect(p.answer).toBe(jsEval(p.question.replace('=?', '')));
    }
  });

  it("'stated' variant: the question states the correct answer", () => {
    const p = generateArithmeticProblem(3, 1, { hint: 'stated' });
    expect(p.question).toMatch(new RegExp(`=\\? Hint: ${p.answer}$`));
  });

  it('vocabulary covers every character the generator emits, and nothing unused by default', () => {
    for (const cfg of [
      {},
      { hint: 'stated' as const, allowNegative: true },
      { operations: ['*' as const] },
    ]) {
      const vocab = new Set(arithmeticVocabulary(cfg));
      const seen = new Set<string>();
      for (const p of generateArithmeticDataset(300, 9, cfg)) for (const ch of p.text) seen.add(ch);
      for (const ch of seen) expect(vocab.has(ch), `char ${JSON.stringify(ch)}`).toBe(true);
      if (Object.keys(cfg).length === 0) expect([...seen].sort()).toEqual([...vocab].sort());
    }
    expect(arithmeticVocabulary().length).toBeLessThanOrEqual(22);
  });

  it('rejects bad options and unsatisfiable constraints with INVALID_ARGUMENT', () => {
    expect(() => generateArithmeticProblem(0, 0, { steps: 0 })).toThrow(/steps/);
    expect(() => generateArithmeticProblem(0, 0, { min: 5, max: 2 })).toThrow(/min\/max/);
    expect(() =>
      generateArithmeticProblem(0, 0, { hint: 'first-operand', operations: ['*'] }),
    ).toThrow(/first-operand/);
    expect(() =>
      generateArithmeticProblem(0, 0, { min: 50, max: 60, operations: ['*'], maxValue: 10 }),
    ).toThrow(/constraints/);
  });

  it('arithmeticSample wraps a problem as a Sample', () => {
    const p = generateArithmeticProblem(1, 0);
    const s = arithmeticSample(p);
    expect(s.prompt).toEqual([{ role: 'user', content: `Q: ${p.question}` }]);
    expect(s.gold).toBe(String(p.answer));
    expect(s.meta.promptText).toBe(p.promptText);
  });
});
