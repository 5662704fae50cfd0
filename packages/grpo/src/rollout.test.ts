import { createRng } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { expectClose, read, useCpuBackend } from '../test/helpers.js';
import { EOS, tinyModel } from '../test/tiny.js';
import { completionLogProbs } from './_internal/token-log-probs.js';
import { resolveGrpoConfig } from './config.js';
import type { RewardSpec } from './rewards.js';
import {
  generateOptionsOf,
  InProcessRolloutEngine,
  type RolloutRequest,
  rolloutSampling,
} from './rollout.js';
import { createOptimizer, grpoStep } from './step.js';

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

describe('the sampling record', () => {
  it('rolloutSampling takes the config sampling fields, optional ones only when set', () => {
    const c = resolveGrpoConfig({ temperature: 0.7, maxCompletionLength: 64, topK: 5 });
    expect(rolloutSampling(c)).toEqual({
      maxCompletionLength: 64,
      temperature: 0.7,
      topP: 1,
      topK: 5,
    });
    const s = rolloutSampling(resolveGrpoConfig({ stopStrings: ['\n\n'], eosTokenIds: [7] }));
    expect(s.stopStrings).toEqual(['\n\n']);
    expect(s.eosTokenIds).toEqual([7]);
    expect(Object.keys(rolloutSampling(resolveGrpoConfig({})))).not.toContain('stopStrings');
  });

  it('rolloutSampling of a request keeps the sampling fields only, in fresh arrays', () => {
    const eosTokenIds = [EOS];
    const request = {
      promptIds: [[1, 2]],
      numGenerations: 2,
      rng: createRng(0),
      maxCompletionLength: 5,
      temperature: 1,
      eosTokenIds,
    };
    const s = rolloutSampling(request);
    expect(s).toEqual({ maxCompletionLength: 5, temperature: 1, eosTokenIds: [EOS] });
    expect(s.eosTokenIds).not.toBe(eosTokenIds);
  });

  it('generateOptionsOf maps it to generate options, leaving out topP 1 and topK 0 (off)', () => {
    const rng = createRng(1);
    expect(
      generateOptionsOf({ maxCompletionLength: 9, temperature: 1, topP: 1, topK: 0 }, rng),
    ).toEqual({ maxNewTokens: 9, temperature: 1, rng });
    expect(
      generateOptionsOf(
        {
          maxCompletionLength: 9,
          temperature: 0.5,
          topP: 0.9,
          topK: 3,
          stopStrings: ['x'],
          eosTokenIds: [2],
        },
        rng,
      ),
    ).toEqual({
      maxNewTokens: 9,
      temperature: 0.5,
      rng,
      topP: 0.9,
      topK: 3,
      stopStrings: ['x'],
      eosTokenIds: [2],
    });
  });

  it('grpoStep hands the engine the config sampling record whole', async () => {
    const lengthReward: RewardSpec<string> = {
      name: 'len',
      fn: async (_s, cs) => cs.map((c) => c.tokenIds.length),
    };
    const requests: RolloutRequest[] = [];
    const inner = new InProcessRolloutEngine(model);
    const engine = {
      generate: (r: RolloutRequest) => {
        requests.push(r);
        return inner.generate(r);
      },
    };
    const config = {
      numGenerations: 2,
      maxCompletionLength: 3,
      temperature: 0.9,
      topP: 0.95,
      topK: 4,
      eosTokenIds: [EOS],
    };
    const optimizer = createOptimizer(model, config);
    const rng = createRng(3);
    await grpoStep(
      {
        policy: model,
        optimizer,
        engine,
        rng,
        config,
        rewards: [lengthReward],
      },
      { samples: ['a'], promptIds: [[1, 2]] },
    );
    optimizer.dispose();
    expect(requests).toHaveLength(1);
    const { promptIds, numGenerations, rng: used, ...sampling } = requests[0]!;
    expect(promptIds).toEqual([[1, 2]]);
    expect(numGenerations).toBe(2);
    expect(used).toBe(rng);
    expect(sampling).toEqual(rolloutSampling(resolveGrpoConfig(config)));
  });
});
