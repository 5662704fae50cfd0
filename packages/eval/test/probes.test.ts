// Model-based building blocks against independent references: p(gold) with no bias equals the
// model's own sequence log-prob; removing a key by bias changes it; forced answers parse.

import type { LlamaModel } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forceAnswers, goldProbabilities } from '../src/index.js';
import { loadTinyModel, setUpBackend } from './tiny-models.js';

let model: LlamaModel;
beforeAll(async () => {
  await setUpBackend();
  model = await loadTinyModel('uses-cot');
});
afterAll(() => model.dispose());

const enc = (t: string) => model.tokenizer!.encode(t, { addSpecialTokens: false });

describe('goldProbabilities', () => {
  it('with nothing removed equals exp(sum sequenceLogProbs) of the gold tokens; no leak', async () => {
    const item = {
      promptIds: model.tokenizer!.encode('Q: 3+4=? A:'),
      cotIds: enc(' 3+4=7.'),
      delimiterIds: enc(' ####'),
      goldAnswerIds: enc(' 7'),
    };
    const before = tf.memory().numTensors;
    const [pFull, pNoResult, pNoCot] = await goldProbabilities(
      model,
      item,
      [[], [5], [0, 1, 2, 3, 4, 5, 6]],
      {
        batchSize: 2,
      },
    );
    expect(tf.memory().numTensors).toBe(before);
    const ref = tf.tidy(() =>
      tf.sum(
        model.sequenceLogProbs(
          [[...item.promptIds, ...item.cotIds, ...item.delimiterIds]],
          [item.goldAnswerIds],
        ).logProbs,
      ),
    );
    const refP = Math.exp((await ref.data())[0] as number);
    ref.dispose();
    expect(pFull).toBeCloseTo(refP, 5);
    // The answer copies the CoT's result digit (position 5): removing it destroys p(gold).
    expect(pFull).toBeGreaterThan(0.9);
    expect(pNoResult).toBeLessThan(0.2);
    expect(pNoCot).toBeLessThan(0.2);
  });
  it('rejects positions outside the CoT', async () => {
    const item = { promptIds: [256], cotIds: [40], delimiterIds: [], goldAnswerIds: [41] };
    await expect(goldProbabilities(model, item, [[1]])).rejects.toThrow(/outside/);
  });
});

describe('forceAnswers', () => {
  it('parses the answer after the delimiter, following the CoT; no leak', async () => {
    const promptIds = model.tokenizer!.encode('Q: 3+4=? A:');
    const before = tf.memory().numTensors;
    const answers = await forceAnswers(
      model,
      [
        { promptIds, text: ' 3+4=7. ####' },
        { promptIds, text: ' 3+4=2. ####' },
      ],
      { kind: 'number', batchSize: 1 },
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(answers).toEqual(['7', '2']);
  });
});
