// The judgement rides on the episode: the outcome reward's info is the task's `{ correct, split }`,
// the saliency reward reuses that split, and the metrics and sample records read it back without
// judging or splitting again.
import { initBackend } from '@atmanrl/attention-mask/node';
import { MODES_CLASSIFIER, syntheticTask } from '@atmanrl/datasets';
import { episodesFromRollouts, recordRewards, scoreCompletions } from '@atmanrl/grpo';
import {
  createRandomModel,
  createTinyTokenizer,
  type LlamaModel,
  TINY_VOCAB_SIZE,
} from '@atmanrl/model';
import { SampleRecordSchema } from '@atmanrl/runs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rolloutMetrics, sampleRecords } from '../src/_internal/episode-log.js';
import { judgementOf, outcomeReward, rewardSpecs } from '../src/_internal/rewards.js';
import type { Task } from '../src/_internal/task.js';
import { defaultConfig } from '../src/config.js';

let model: LlamaModel;
const tokenizer = createTinyTokenizer();
beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
  model = createRandomModel(
    {
      vocab_size: TINY_VOCAB_SIZE,
      hidden_size: 16,
      intermediate_size: 32,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 1,
    },
    4,
    { tokenizer },
  );
});
afterAll(() => model.dispose());

/** The task, with its rule wrapped to count calls. */
function countingTask(): { task: Task; calls: { judge: number; split: number } } {
  const base = syntheticTask({ dataset: 'synthetic', split: 'test', limit: 2 });
  const calls = { judge: 0, split: 0 };
  const task: Task = {
    ...base,
    judge: (text, gold) => {
      calls.judge++;
      return base.judge(text, gold);
    },
    split: (text) => {
      calls.split++;
      return base.split(text);
    },
  };
  return { task, calls };
}

async function scoredEpisodes(task: Task, texts: string[], saliency: boolean, diagnostics = true) {
  const items = [task.items[0]!];
  const promptIds = [task.encodePrompt(tokenizer, items[0]!)];
  const rollouts = texts.map((text) => ({
    promptIndex: 0,
    promptIds: promptIds[0]!,
    completionIds: tokenizer.encode(text, { addSpecialTokens: false }),
    text,
    oldLogProbs: null,
    truncated: false,
  }));
  const episodes = episodesFromRollouts(rollouts, items, texts.length);
  const config = {
    ...defaultConfig(),
    saliencyReward: saliency,
    saliencySteps: 2,
    saliencyDiagnostics: diagnostics,
  };
  const specs = rewardSpecs(model, tokenizer, task, config);
  const scored = await scoreCompletions(
    specs,
    texts.map(() => items[0]!),
    rollouts.map((r) => ({ text: r.text, tokenIds: r.completionIds, truncated: false })),
    {
      promptIds: texts.map(() => promptIds[0]!),
      completionIds: rollouts.map((r) => r.completionIds),
      groupSize: texts.length,
      step: 0,
    },
  );
  recordRewards(episodes, scored);
  return episodes;
}

describe('the judgement on the episode', () => {
  it('the outcome reward returns 0/-1 and the judgement as its info', async () => {
    const { task } = countingTask();
    const item = task.items[0]!;
    const gold = item.sample.gold;
    const out = await outcomeReward(task)(
      [item, item],
      [
        { text: item.referenceCompletion!, tokenIds: [], truncated: false },
        { text: `x #### ${Number(gold) + 1}`, tokenIds: [], truncated: false },
      ],
      { promptIds: [], completionIds: [], groupSize: 2, step: 0, rewards: {} },
    );
    expect(out).toEqual({
      values: [0, -1],
      info: [
        task.judge(item.referenceCompletion!, gold),
        task.judge(`x #### ${Number(gold) + 1}`, gold),
      ],
    });
  });

  it('each completion is judged and split once per step, with or without the saliency reward', async () => {
    for (const saliency of [false, true]) {
      const { task, calls } = countingTask();
      const gold = task.items[0]!.sample.gold;
      const texts = [task.items[0]!.referenceCompletion!, ` 1+1=2. #### ${Number(gold) + 1}`];
      const episodes = await scoredEpisodes(task, texts, saliency);
      expect(calls).toEqual({ judge: 2, split: 0 }); // the saliency reward reused the splits
      const metrics = rolloutMetrics(tokenizer, episodes, MODES_CLASSIFIER);
      const records = sampleRecords(3, tokenizer, episodes, MODES_CLASSIFIER);
      expect(calls).toEqual({ judge: 2, split: 0 }); // logging read them back
      expect(metrics['accuracy']).toBe(0.5);
      expect(records.map((r) => [r.correct, r.completionIndex])).toEqual([
        [true, 0],
        [false, 1],
      ]);
      expect(records.map((r) => r.cotRange)).toEqual(
        episodes.map((e) => judgementOf(e).split.cotRange),
      );
      expect(records.every((r) => typeof r.mode === 'string')).toBe(true);
      expect(records.every((r) => (r.saliency !== undefined) === saliency)).toBe(true);
    }
  });

  it('--saliency-diagnostics false: the records leave out the CEs not computed, and still validate', async () => {
    const { task } = countingTask();
    const texts = [task.items[0]!.referenceCompletion!];
    const [full] = sampleRecords(1, tokenizer, await scoredEpisodes(task, texts, true), undefined);
    const [lean] = sampleRecords(
      1,
      tokenizer,
      await scoredEpisodes(task, texts, true, false),
      undefined,
    );
    expect(Object.keys(full!.saliency!).sort()).toEqual(
      ['H', 'ceFinal', 'ceInitial', 'ceNoBias', 'fitSteps', 'reward'].sort(),
    );
    expect(Object.keys(lean!.saliency!).sort()).toEqual(
      ['H', 'ceInitial', 'fitSteps', 'reward'].sort(),
    );
    expect(lean!.saliency!.H).toBe(full!.saliency!.H);
    const line = JSON.parse(JSON.stringify({ ...lean, version: 1 }));
    expect(SampleRecordSchema.safeParse(line).success).toBe(true);
  });

  it('the records show what the episode carries, not a new judgement', async () => {
    const { task } = countingTask();
    const gold = task.items[0]!.sample.gold;
    const [e] = await scoredEpisodes(task, [task.items[0]!.referenceCompletion!], false);
    // Overwrite the recorded judgement: the record must follow it (nothing re-judges the text).
    e!.rewardInfo['outcome'] = { ...judgementOf(e!), correct: false };
    expect(sampleRecords(1, tokenizer, [e!], undefined)[0]).toMatchObject({ correct: false, gold });
  });
});
