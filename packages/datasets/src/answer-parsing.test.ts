import { describe, expect, it } from 'vitest';
import { parseAnswer, splitCompletion } from './answer-parsing.js';

// [completion, expected answer, expected isStrict] in the style of real model outputs.
const NUMERIC: [string, string | null, boolean][] = [
  ['Janet sells 16 - 3 - 4 = 9 eggs.\nShe makes 9 * 2 = $18.\n#### 18', '18', true],
  ['She makes $18 a day.\n#### $18', '18', true],
  ['...\n#### 18.', '18', true],
  ['...\n#### 18.00', '18', true],
  ['Total is 1,200.\n#### 1,200', '1200', true],
  ['The change is a loss.\n#### -12', '-12', true],
  ['#### 18 dollars', '18', true],
  ['#### 25%', '25', true],
  ['#### The answer is 42', '42', true],
  ['3 * 6 = 18\n#### 3 * 6 = 18', '18', true],
  ['#### **18**', '18', true],
  ['Step 1: 5 + 5 = 10\n####\n10', '10', true],
  ['#### $1,234.50 per week', '1234.5', true],
  ['#### 0.5', '0.5', true],
  ['#### .75 hours', '0.75', true],
  ['#### 18\n#### 20', '18', true],
  ['#### 5 apples.\nI hope this helps! 7', '5', true],
  ['#### -$4', '-4', true],
  ['#### $-4', '-4', true],
  ['#### 2021-22 season: 7', '2021', true],
  ['####', null, true],
  ['#### none', null, true],
  ['She has 3 + 4 = 7 apples. The answer is 7.', '7', false],
  ['So the final answer is $1,000.', '1000', false],
  ['Therefore, the answer is: 12 cookies', '12', false],
  ['We get \\boxed{36}.', '36', false],
  ['First 2 + 2 = 4, then 4 * 3 = 12', '12', false],
  ['I am not sure how to solve this', null, false],
  ['Answer: -3', '-3', false],
  ['Let me compute 12 / 4 = 3', '3', false],
];

const CHOICE: [string, string | null, boolean][] = [
  ['Photosynthesis happens in chloroplasts.\n#### B', 'B', true],
  ['#### (B)', 'B', true],
  ['#### B)', 'B', true],
  ['#### B.', 'B', true],
  ['#### b', 'B', true],
  ['#### The answer is C', 'C', true],
  ['#### **D**', 'D', true],
  ['#### A. 42', 'A', true],
  ['#### (c) Paris', 'C', true],
  ['#### Option D', 'D', true],
  ['#### answer: a', 'A', true],
  ['#### I choose C because it fits', 'C', true],
  ['#### [A]', 'A', true],
  ['Reasoning...\n####\nD', 'D', true],
  ['#### E', null, true],
  ['#### none of these', null, true],
  ['A train leaves at noon. The answer is (B).', 'B', false],
  ['A careful reading shows... Answer: C', 'C', false],
  ['So the correct answer is d.', 'D', false],
  ['A is wrong, B is wrong.\nC', 'C', false],
  ['A cell is the basic unit of life.', null, false],
  ['The answer is **A**', 'A', false],
];

describe('splitCompletion: numeric table', () => {
  it.each(NUMERIC)('%j -> %j (strict %j)', (text, want, strict) => {
    const s = splitCompletion(text, { kind: 'number' });
    expect(s.parsedAnswer).toBe(want);
    expect(s.isStrict).toBe(strict);
    expect(s.truncated).toBe(!strict);
  });
});

describe('splitCompletion: choice table', () => {
  it.each(CHOICE)('%j -> %j (strict %j)', (text, want, strict) => {
    const s = splitCompletion(text, { kind: 'choice' });
    expect(s.parsedAnswer).toBe(want);
    expect(s.isStrict).toBe(strict);
  });
});

describe('splitCompletion: ranges', () => {
  it('gives the CoT before the delimiter and the answer on its line', () => {
    const text = 'A: 4*2=8. 3+8=11.  \n#### 11\nextra';
    const s = splitCompletion(text, { kind: 'number' });
    expect(text.slice(...s.cotRange)).toBe('A: 4*2=8. 3+8=11.');
    expect(s.answerRange).not.toBeNull();
    expect(text.slice(...(s.answerRange as [number, number]))).toBe('11');
    expect(s.truncated).toBe(false);
  });

  it('marks a completion without delimiter as truncated with the whole text as CoT', () => {
    const text = 'We compute 4*2=8 and then ';
    const s = splitCompletion(text, { kind: 'number' });
    expect(s.truncated).toBe(true);
    expect(s.answerRange).toBeNull();
    expect(s.cotRange).toEqual([0, text.length - 1]);
    expect(s.parsedAnswer).toBe('8');
  });

  it('takes the answer from the next line when the delimiter line is empty', () => {
    const text = 'x\n####   \n  42 \n';
    const s = splitCompletion(text, { kind: 'number' });
    expect(text.slice(...(s.answerRange as [number, number]))).toBe('42');
  });

  it('honours a custom delimiter and ignores the default one then', () => {
    const text = 'so #### 3 is wrong\nFinal answer: 7';
    const s = splitCompletion(text, { kind: 'number', delimiter: 'Final answer:' });
    expect(s.parsedAnswer).toBe('7');
    expect(text.slice(...s.cotRange)).toBe('so #### 3 is wrong');
  });

  it('parseAnswer returns the same answer and flag as splitCompletion', () => {
    expect(parseAnswer('#### (b)', { kind: 'choice' })).toEqual({ answer: 'B', isStrict: true });
    expect(parseAnswer('it is 5', { kind: 'number' })).toEqual({ answer: '5', isStrict: false });
  });
});
