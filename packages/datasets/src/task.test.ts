// The task record and the one answer rule, against hand-written cases.
import { describe, expect, it } from 'vitest';
import { DatasetError } from './errors.js';
import { loadTask } from './node/task.js';
import {
  answerMatches,
  answerRule,
  createTask,
  syntheticTask,
  type TaskTokenizer,
} from './task.js';

describe('answerMatches (the one answer rule)', () => {
  it('numbers are equal after normalisation', () => {
    expect(answerMatches('18', '18', 'number')).toBe(true);
    expect(answerMatches('18.00', '18', 'number')).toBe(true);
    expect(answerMatches('1,000', '1000', 'number')).toBe(true);
    expect(answerMatches('17', '18', 'number')).toBe(false);
    expect(answerMatches(null, '18', 'number')).toBe(false);
  });

  it('choices are the same letter in either case', () => {
    expect(answerMatches('B', 'B', 'choice')).toBe(true);
    // A gold letter written in lower case names the same option (the trainer's rule; eval's exact
    // comparison scored this wrong).
    expect(answerMatches('B', 'b', 'choice')).toBe(true);
    expect(answerMatches('b', 'B', 'choice')).toBe(true);
    expect(answerMatches('C', 'B', 'choice')).toBe(false);
    expect(answerMatches(null, 'B', 'choice')).toBe(false);
  });

  it('judge parses with the task delimiter and kind, then applies the rule', () => {
    const mmlu = answerRule('choice', '####');
    expect(mmlu.judge('Paris is in France. #### (b)', 'B')).toEqual({
      correct: true,
      split: {
        cotRange: [0, 19],
        answerRange: [25, 28],
        parsedAnswer: 'B',
        isStrict: true,
        truncated: false,
      },
    });
    expect(mmlu.judge('#### C', 'b').correct).toBe(false);
    const num = answerRule('number', 'Answer:');
    expect(num.judge('2+3=5. Answer: 5', '5').correct).toBe(true);
    // Without the task's delimiter the fallback parse still judges (isStrict false).
    const j = num.judge('2+3=5. #### 5', '5');
    expect(j.correct).toBe(true);
    expect(j.split.isStrict).toBe(false);
  });
});

describe('Task', () => {
  const tok: TaskTokenizer = {
    bosTokenId: 1,
    encode: (text) => [...text].map((c) => c.charCodeAt(0)),
    applyChatTemplate: (messages, o) =>
      `${messages.map((m) => `<${m.role}>${m.content}`).join('')}${o?.addGenerationPrompt ? '<assistant>' : ''}`,
  };

  it('encodes plain prompts as BOS + text and chat prompts through the template', () => {
    const task = syntheticTask({ dataset: 'synthetic', split: 'test', limit: 1 });
    const item = task.items[0]!;
    expect(task.encodePrompt(tok, item)).toEqual([1, ...tok.encode(item.promptText!)]);
    const chat = createTask({
      name: 'gsm8k',
      kind: 'number',
      delimiter: '####',
      usesChatTemplate: true,
      items: [
        {
          sample: { id: 'q', prompt: [{ role: 'user', content: 'hi' }], gold: '1', meta: {} },
          promptText: null,
          referenceCompletion: null,
        },
      ],
    });
    expect(chat.encodePrompt(tok, chat.items[0]!)).toEqual(tok.encode('<user>hi<assistant>'));
  });

  it("the synthetic task's reference completions are judged correct", async () => {
    const task = await loadTask({ dataset: 'synthetic', split: 'train', limit: 20 });
    expect(task.items).toHaveLength(20);
    for (const it of task.items)
      expect(task.judge(it.referenceCompletion!, it.sample.gold).correct).toBe(true);
    const modes = await loadTask({
      dataset: 'synthetic',
      split: 'test',
      limit: 20,
      synthetic: { task: 'modes', guessableFraction: 0.4 },
    });
    for (const it of modes.items)
      expect(modes.judge(it.referenceCompletion!, it.sample.gold).correct).toBe(true);
  });

  it('throws DatasetError naming the option', async () => {
    const fail = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        return e as DatasetError;
      }
      throw new Error('expected a DatasetError');
    };
    const shots = await fail(loadTask({ dataset: 'synthetic', split: 'train', fewShot: 2 }));
    expect(shots).toBeInstanceOf(DatasetError);
    expect(shots).toMatchObject({ code: 'INVALID_ARGUMENT', option: 'fewShot' });
    expect(shots.message).toMatch(/use 0/);
    const split = await fail(loadTask({ dataset: 'synthetic', split: 'dev' }));
    expect(split).toMatchObject({ code: 'INVALID_ARGUMENT', option: 'split' });
    const dir = await fail(loadTask({ dataset: 'gsm8k', split: 'test', dataDir: '/nope/x' }));
    expect(dir).toMatchObject({ code: 'NOT_FOUND', option: 'dataDir' });
    expect(dir.message).toMatch(/^\/nope\/x does not exist/);
    const mix = await fail(
      loadTask({
        dataset: 'synthetic',
        split: 'test',
        synthetic: { task: 'modes', modeMix: { terse: 0.5, verbose: 0.5, bypass: 0.5 } },
      }),
    );
    expect(mix).toMatchObject({ code: 'INVALID_ARGUMENT', option: 'synthetic.modeMix' });
  });
});
