import { describe, expect, it } from 'vitest';
import { splitCompletion } from './answer-parsing.js';
import type { Gsm8kItem } from './gsm8k.js';
import type { MmluItem } from './mmlu.js';
import {
  buildGsm8kPrompt,
  buildMmluPrompt,
  fillTemplate,
  gsm8kSample,
  mmluSample,
} from './prompts.js';

const gsm: Gsm8kItem = {
  id: 'g/0',
  question: 'What is 2+3?',
  answer: '2+3=<<2+3=5>>5\n#### 5',
  reasoning: '2+3=5',
  gold: '5',
};
const mmlu: MmluItem = {
  id: 'mmlu/test/virology/0',
  subject: 'high_school_us_history',
  category: 'humanities',
  split: 'test',
  question: 'Who?',
  choices: ['w', 'x', 'y', 'z'],
  answer: 'C',
};

describe('prompt builders', () => {
  it('GSM8K zero-shot: a system instruction naming the delimiter, then the question', () => {
    const m = buildGsm8kPrompt(gsm);
    expect(m.map((x) => x.role)).toEqual(['system', 'user']);
    expect(m[0]?.content).toContain('step by step');
    expect(m[0]?.content).toContain('"#### <answer>"');
    expect(m[1]?.content).toBe('What is 2+3?');
  });

  it('k-shot examples become user/assistant turns whose answer parses back to the gold', () => {
    const m = buildGsm8kPrompt(gsm, {
      shots: [gsm, { ...gsm, question: 'Q2', reasoning: 'r', gold: '-7' }],
      delimiter: 'ANSWER:',
    });
    expect(m.map((x) => x.role)).toEqual([
      'system',
      'user',
      'assistant',
      'user',
      'assistant',
      'user',
    ]);
    expect(m[2]?.content).toBe('2+3=5\nANSWER: 5');
    expect(m[0]?.content).toContain('"ANSWER: <answer>"');
    const parsed = splitCompletion(m[4]?.content ?? '', { kind: 'number', delimiter: 'ANSWER:' });
    expect(parsed.parsedAnswer).toBe('-7');
  });

  it('MMLU: subject in the instruction, lettered choices, dev shots answer with the delimiter line', () => {
    const m = buildMmluPrompt(mmlu, { shots: [{ ...mmlu, answer: 'B' }] });
    expect(m[0]?.content).toContain('high school us history');
    expect(m[1]?.content).toBe('Who?\nA. w\nB. x\nC. y\nD. z');
    expect(m[2]).toEqual({ role: 'assistant', content: '#### B' });
    expect(m.at(-1)?.role).toBe('user');
  });

  it('a custom template without system message is honoured', () => {
    const m = buildGsm8kPrompt(gsm, {
      template: { system: '', user: 'Problem: {question} ({delimiter})', assistant: '' },
    });
    expect(m).toEqual([{ role: 'user', content: 'Problem: What is 2+3? (####)' }]);
  });

  it('an unknown placeholder throws instead of leaking into the prompt', () => {
    expect(() => fillTemplate('{question} {oops}', { question: 'q' })).toThrow(/\{oops\}/);
  });

  it('samples carry id, prompt, gold and meta', () => {
    expect(gsm8kSample(gsm)).toMatchObject({
      id: 'g/0',
      gold: '5',
      meta: { task: 'gsm8k', reasoning: '2+3=5' },
    });
    expect(mmluSample(mmlu)).toMatchObject({
      gold: 'C',
      meta: { subject: 'high_school_us_history', category: 'humanities' },
    });
  });
});
