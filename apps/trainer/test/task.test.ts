// Task loading: k-shot prompts for GSM8K/MMLU come from train/dev, never from the evaluated items.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTask } from '../src/_internal/task.js';
import { defaultConfig } from '../src/config.js';
import { tempDir } from './helpers.js';

const gsm = (q: string, a: number) =>
  JSON.stringify({ question: q, answer: `${q} is ${a}.\n#### ${a}` });

describe('loadTask few-shot', () => {
  it('GSM8K: shots are the first k train items; a test prompt holds them before the question', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'train.jsonl'),
      `${[gsm('t1', 1), gsm('t2', 2), gsm('t3', 3)].join('\n')}\n`,
    );
    writeFileSync(join(dir, 'test.jsonl'), `${[gsm('q1', 4), gsm('q2', 5)].join('\n')}\n`);
    const config = { ...defaultConfig(), dataset: 'gsm8k' as const, dataDir: dir, fewShot: 2 };
    const test = await loadTask(config, 'test');
    expect(test.usesChatTemplate).toBe(true);
    expect(test.items).toHaveLength(2);
    const msgs = test.items[0]!.sample.prompt;
    // system, (user, assistant) × 2 shots, user question
    expect(msgs.map((m) => m.role)).toEqual([
      'system',
      'user',
      'assistant',
      'user',
      'assistant',
      'user',
    ]);
    expect(msgs[1]!.content).toContain('t1');
    expect(msgs.at(-1)!.content).toContain('q1');
    // On the train split the shots are not also used as questions.
    const train = await loadTask(config, 'train');
    expect(train.items.map((it) => it.sample.gold)).toEqual(['3']);
  });

  it('MMLU: shots are the subject’s dev items', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'dev'));
    mkdirSync(join(dir, 'test'));
    writeFileSync(join(dir, 'dev', 'abstract_algebra_dev.csv'), 'd1,a,b,c,d,A\nd2,a,b,c,d,B\n');
    writeFileSync(join(dir, 'test', 'abstract_algebra_test.csv'), 'q1,a,b,c,d,C\n');
    const task = await loadTask(
      { ...defaultConfig(), dataset: 'mmlu', dataDir: dir, fewShot: 1 },
      'test',
    );
    const msgs = task.items[0]!.sample.prompt;
    expect(msgs.filter((m) => m.role === 'user')).toHaveLength(2);
    expect(msgs[1]!.content).toContain('d1');
  });

  it('the synthetic task refuses --few-shot with the fix', async () => {
    await expect(loadTask({ ...defaultConfig(), fewShot: 1 })).rejects.toThrow(
      /--few-shot: .* use 0/,
    );
  });

  it('task errors carry the flag as a field', async () => {
    await expect(loadTask({ ...defaultConfig(), fewShot: 1 })).rejects.toMatchObject({
      code: 'BAD_CONFIG',
      flag: '--few-shot',
    });
    await expect(loadTask({ ...defaultConfig(), split: 'dev' })).rejects.toMatchObject({
      flag: '--split',
      message: expect.stringMatching(/^--split: the synthetic task has splits train, val and test/),
    });
    await expect(
      loadTask({ ...defaultConfig(), dataset: 'gsm8k', dataDir: '/nope/gsm8k' }),
    ).rejects.toMatchObject({
      code: 'DATA_NOT_FOUND',
      flag: '--data-dir',
      message: expect.stringMatching(/^--data-dir \/nope\/gsm8k does not exist/),
    });
  });

  it('judges MMLU letters with the one answer rule (either case), as eval does', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'test'));
    writeFileSync(join(dir, 'test', 'abstract_algebra_test.csv'), 'q1,a,b,c,d,C\n');
    const task = await loadTask(
      { ...defaultConfig(), dataset: 'mmlu', dataDir: dir, split: 'test' },
      'test',
    );
    const gold = task.items[0]!.sample.gold;
    expect(task.judge('It is the third. #### c', gold).correct).toBe(true);
    expect(task.judge('It is the third. #### C', gold.toLowerCase()).correct).toBe(true);
    expect(task.judge('#### B', gold).correct).toBe(false);
    const { answersEqual } = await import('@atmanrl/eval');
    expect(answersEqual('C', gold.toLowerCase(), 'choice')).toBe(
      task.judge('#### C', gold.toLowerCase()).correct,
    );
  });
});
