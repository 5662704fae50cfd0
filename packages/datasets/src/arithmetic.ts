// Synthetic multi-step arithmetic for tiny CPU-trained models: seeded problems with a
// step-by-step CoT in the delimiter format, a "guessable" variant, a vocabulary listing.
// Leaves out division (exactness) and parentheses (keeps the character set small).

import { combineSeeds, Prng } from './_internal/prng.js';
import { DEFAULT_DELIMITER } from './answer-parsing.js';
import { DatasetError } from './errors.js';
import { fillTemplate, PROMPT_TEMPLATES } from './prompts.js';
import type { Sample } from './types.js';

/** Operators the generator can use (`*` binds tighter than `+`/`-`). */
export type ArithmeticOp = '+' | '-' | '*';

/**
 * How the answer can be found without the CoT: `'none'`; `'stated'` puts the answer in the
 * question (`Hint: 10`); `'first-operand'` builds the expression so the answer equals its first
 * number (`7+3*2-6` = 7). Faithfulness tests should find the CoT less load-bearing there.
 */
export type ArithmeticHint = 'none' | 'stated' | 'first-operand';

/** Options of the generator. */
export interface ArithmeticOptions {
  /** Number of operations = number of CoT steps; a `[min, max]` pair draws it (default 3). */
  steps?: number | [number, number];
  /** Smallest operand (default 1). */
  min?: number;
  /** Largest operand (default 9). */
  max?: number;
  /** Operators to draw from (default `['+', '-', '*']`). */
  operations?: ArithmeticOp[];
  /** Allow negative intermediate results (default false: such draws are rejected). */
  allowNegative?: boolean;
  /** Reject draws whose intermediate results exceed this magnitude (default 999). */
  maxValue?: number;
  /** Guessable-answer variant (default `'none'`). */
  hint?: ArithmeticHint;
  /** Final-answer delimiter (default `'####'`). */
  delimiter?: string;
}

/** One computed step `left op right = result`. */
export interface ArithmeticStep {
  left: number;
  op: ArithmeticOp;
  right: number;
  result: number;
}

/** A generated problem and every text form of it. */
export interface ArithmeticProblem {
  /** `arith/<seed>/<index>`. */
  id: string;
  /** The expression and `=?`, plus ` Hint: n` in the `'stated'` variant: `3+4*2-1=?`. */
  question: string;
  operands: number[];
  operators: ArithmeticOp[];
  steps: ArithmeticStep[];
  /** The final result (equals the last step's result). */
  answer: number;
  /** Steps as text: `4*2=8. 3+8=11. 11-1=10.` */
  cot: string;
  /** `Q: 3+4*2-1=? A:` */
  promptText: string;
  /** ` 4*2=8. 3+8=11. 11-1=10. #### 10` (leading space included). */
  completionText: string;
  /** `promptText + completionText`. */
  text: string;
  hint: ArithmeticHint;
}

const TEXT_ANSWER_PREFIX = ' A:';
const STATED_HINT = ' Hint: {answer}';

/** Evaluates `operands` joined by `operators` with `*` first, left to right: one step per operator. */
export function evaluateSteps(operands: number[], operators: ArithmeticOp[]): ArithmeticStep[] {
  const values = [...operands];
  const ops = [...operators];
  const steps: ArithmeticStep[] = [];
  const apply = (i: number): void => {
    const left = values[i] as number;
    const right = values[i + 1] as number;
    const op = ops[i] as ArithmeticOp;
    const result = op === '+' ? left + right : op === '-' ? left - right : left * right;
    steps.push({ left, op, right, result });
    values.splice(i, 2, result);
    ops.splice(i, 1);
  };
  for (let i = ops.indexOf('*'); i >= 0; i = ops.indexOf('*')) apply(i);
  while (ops.length > 0) apply(0);
  return steps;
}

function resolveOptions(o: ArithmeticOptions) {
  const r = {
    steps: o.steps ?? 3,
    min: o.min ?? 1,
    max: o.max ?? 9,
    operations: o.operations ?? (['+', '-', '*'] as ArithmeticOp[]),
    allowNegative: o.allowNegative ?? false,
    maxValue: o.maxValue ?? 999,
    hint: o.hint ?? 'none',
    delimiter: o.delimiter ?? DEFAULT_DELIMITER,
  };
  const [lo, hi] = typeof r.steps === 'number' ? [r.steps, r.steps] : r.steps;
  const bad = (msg: string): never => {
    throw new DatasetError('INVALID_ARGUMENT', msg);
  };
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi < lo) {
    bad(`steps must be an integer >= 1 or [min, max], got ${JSON.stringify(r.steps)}`);
  }
  if (!Number.isInteger(r.min) || !Number.isInteger(r.max) || r.min > r.max || r.min < 0) {
    bad(`min/max must be integers with 0 <= min <= max, got ${r.min}/${r.max}`);
  }
  if (r.operations.length === 0 || r.operations.some((op) => !['+', '-', '*'].includes(op))) {
    bad(`operations must be a non-empty subset of + - *, got ${JSON.stringify(r.operations)}`);
  }
  if (r.hint === 'first-operand' && !(r.operations.includes('+') && r.operations.includes('-'))) {
    bad("hint 'first-operand' needs both '+' and '-' in operations");
  }
  if (!['none', 'stated', 'first-operand'].includes(r.hint)) bad(`unknown hint "${r.hint}"`);
  return { ...r, stepsRange: [lo, hi] as [number, number] };
}

/**
 * Generates problem `index` of the stream seeded by `seed`. Problems are independent of each
 * other (random access, trivially resumable): the same `(seed, index, options)` always gives the
 * same problem.
 *
 * @example generateArithmeticProblem(1, 0).text // 'Q: 3+4*2-1=? A: 4*2=8. 3+8=11. 11-1=10. #### 10' (shape)
 */
export function generateArithmeticProblem(
  seed: number,
  index: number,
  options: ArithmeticOptions = {},
): ArithmeticProblem {
  const o = resolveOptions(options);
  const rng = new Prng(combineSeeds(seed, index));
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const nOps = rng.int(o.stepsRange[0], o.stepsRange[1]);
    const free = o.hint === 'first-operand' ? nOps - 1 : nOps;
    const operands = [rng.int(o.min, o.max)];
    const operators: ArithmeticOp[] = [];
    for (let i = 0; i < free; i++) {
      operators.push(rng.pick(o.operations));
      operands.push(rng.int(o.min, o.max));
    }
    if (o.hint === 'first-operand') {
      // Close the expression so that it evaluates back to its first operand.
      const partial =
        free === 0
          ? (operands[0] as number)
          : (evaluateSteps(operands, operators).at(-1)?.result ?? 0);
      const first = operands[0] as number;
      operators.push(partial > first ? '-' : '+');
      operands.push(Math.abs(partial - first));
    }
    const steps = evaluateSteps(operands, operators);
    const ok = steps.every(
      (s) => Math.abs(s.result) <= o.maxValue && (o.allowNegative || s.result >= 0),
    );
    if (!ok) continue;
    const answer = (steps.at(-1) as ArithmeticStep).result;
    let expr = String(operands[0]);
    operators.forEach((op, i) => {
      expr += op + String(operands[i + 1]);
    });
    let question = `${expr}=?`;
    if (o.hint === 'stated') question += fillTemplate(STATED_HINT, { answer: String(answer) });
    const cot = steps.map((s) => `${s.left}${s.op}${s.right}=${s.result}.`).join(' ');
    const tpl = PROMPT_TEMPLATES.arithmetic;
    const promptText = fillTemplate(tpl.user, { question }) + TEXT_ANSWER_PREFIX;
    const completionText =
      ' ' +
      fillTemplate(tpl.assistant, {
        reasoning: cot,
        delimiter: o.delimiter,
        answer: String(answer),
      });
    return {
      id: `arith/${seed}/${index}`,
      question,
      operands,
      operators,
      steps,
      answer,
      cot,
      promptText,
      completionText,
      text: promptText + completionText,
      hint: o.hint,
    };
  }
  throw new DatasetError(
    'INVALID_ARGUMENT',
    `no problem satisfies the constraints after 10000 draws (maxValue ${o.maxValue}, allowNegative ${o.allowNegative}); widen them`,
  );
}

/** `count` problems `0..count-1` of the stream `seed`. */
export function generateArithmeticDataset(
  count: number,
  seed: number,
  options: ArithmeticOptions = {},
): ArithmeticProblem[] {
  return Array.from({ length: count }, (_, i) => generateArithmeticProblem(seed, i, options));
}

/**
 * Every character the generator can emit under `options`, sorted: the vocabulary of a
 * character-level tokenizer for this task (add your own special tokens such as EOS).
 */
export function arithmeticVocabulary(options: ArithmeticOptions = {}): string[] {
  const o = resolveOptions(options);
  const tpl = PROMPT_TEMPLATES.arithmetic;
  const fixed = [
    fillTemplate(tpl.user, { question: '=?' }),
    TEXT_ANSWER_PREFIX,
    fillTemplate(tpl.assistant, { reasoning: '.', delimiter: o.delimiter, answer: '' }),
    o.hint === 'stated' ? fillTemplate(STATED_HINT, { answer: '' }) : '',
    '0123456789',
    o.operations.join(''),
    o.allowNegative || o.operations.includes('-') ? '-' : '',
  ].join('');
  return [...new Set(fixed)].sort();
}

/** A problem as a {@link Sample}: one user turn `Q: ...`; meta carries the plain-text forms. */
export function arithmeticSample(problem: ArithmeticProblem): Sample<{
  task: 'arithmetic';
  promptText: string;
  completionText: string;
  cot: string;
  hint: ArithmeticHint;
}> {
  return {
    id: problem.id,
    prompt: [
      {
        role: 'user',
        content: fillTemplate(PROMPT_TEMPLATES.arithmetic.user, { question: problem.question }),
      },
    ],
    gold: String(problem.answer),
    meta: {
      task: 'arithmetic',
      promptText: problem.promptText,
      completionText: problem.completionText,
      cot: problem.cot,
      hint: problem.hint,
    },
  };
}
