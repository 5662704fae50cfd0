import { createRng } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { expectClose, read, useCpuBackend } from '../test/helpers.js';
import { EOS, tinyModel } from '../test/tiny.js';
import { completionLogProbs } from './_internal/token-log-probs.js';
import { InProcessRolloutEngine } from './rollout.js';

useCpuBackend();
const model = tinyModel(3);
afterAll(() => model.dispose());

describe('InProcessRolloutEngine', () => {
  it('returns G completions per prompt, grouped, with sampling-time log-probs and truncation', async () => {
    const engine = new InProcessRolloutEngine(model, { generationBatchSize: 4 });
    const before = tf.memory().numTensors;
    const rollouts = await engine.generate({
      promptIds: [
        [1, 2],
        [4, 5, 6],
      ],
      numGenerations: 3,
      maxCompletionLength: 5,
      temperature: 1.3,
      rng: createRng(11),
      eosTokenIds: [EOS],
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(rollouts.map((r) => r.promptIndex)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(rollouts[4]!.promptIds).toEqual([4, 5, 6]);
    for (const r of rollouts) {
      expect(r.oldLogProbs).toHaveLength(r.completionIds.length);
      const ended = r.completionIds[r.completionIds.length - 1] === EOS;
      expect(r.truncated).toBe(!ended && r.completionIds.length === 5);
    }
    // the recorded old log-probs equal a teacher-forced recomputation at the same temperature,
    // which in turn equals the model's own sequenceLogProbs (an independent implementation)
    const prompts = rollouts.map((r) => r.promptIds);
    const comps = rollouts.map((r) => r.completionIds);
    const mine = tf.tidy(() => completionLogProbs(model, prompts, comps, 1.3).logProbs);
    const theirs = model.sequenceLogProbs(prompts, comps, { temperature: 1.3 });
    const tc = mine.shape[1];
    const old = rollouts.flatMap((r) =>
      Array.from({ length: tc }, (_, j) => r.oldLogProbs![j] ?? 0),
    );
    expectClose(await read(mine), old, 1e-4);
    expectClose(await read(mine), await read(theirs.logProbs), 1e-5);
    tf.dispose([mine, theirs.logProbs, theirs.mask]);
  });

  it('the same rng state reproduces the same rollouts', async () => {
    const engine = new InProcessRolloutEngine(model);
    const req = {
      promptIds: [[1, 2]],
      numGenerations: 4,
      maxCompletionLength: 6,
      temperature: 1,
      eosTokenIds: [EOS],
    };
    const rng = createRng(5);
    const saved = rng.state();
    const a = await engine.generate({ ...req, rng });
    const b = await engine.generate({ ...req, rng: createRng(saved) });
    expect(b.map((r) => r.completionIds)).toEqual(a.map((r) => r.completionIds));
  });
});
