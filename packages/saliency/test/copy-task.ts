// A tiny model whose answer provably depends on one known CoT token, trained in a few seconds.
// Vocabulary: 0-9 fillers, 10-19 values, 20 delimiter, 21/22 task markers, 23 pad.
// Task 'cot':    prompt [21, f, f, f], CoT = 8 tokens, fillers plus ONE value at a random slot.
// Task 'prompt': prompt [22, f, value, f], CoT = 8 fillers.
// In both, delimiter [20] and the answer is the (only) value token in the sequence; so in 'cot'
// items exactly one CoT token is needed, in 'prompt' items none is.
import { createRandomModel, type LlamaConfigInput, type LlamaModel } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import type { SaliencyItem } from '../src/types.js';
import { lcg } from './helpers.js';

export const COPY_CONFIG: LlamaConfigInput = {
  vocab_size: 24,
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  tie_word_embeddings: true,
  pad_token_id: 23,
  initializer_range: 0.1,
};

export interface CopyItem extends SaliencyItem {
  /** Index of the value token inside the CoT, or -1 ('prompt' task). */
  valueAt: number;
}

export function copyItems(kind: 'cot' | 'prompt', n: number, seed: number): CopyItem[] {
  const r = lcg(seed);
  const filler = () => Math.floor(r() * 10);
  const value = () => 10 + Math.floor(r() * 10);
  return Array.from({ length: n }, () => {
    const v = value();
    const cot = Array.from({ length: 8 }, filler);
    if (kind === 'cot') {
      const at = Math.floor(r() * 8);
      cot[at] = v;
      return {
        promptIds: [21, filler(), filler(), filler()],
        cotIds: cot,
        delimiterIds: [20],
        goldAnswerIds: [v],
        valueAt: at,
      };
    }
    return {
      promptIds: [22, filler(), v, filler()],
      cotIds: cot,
      delimiterIds: [20],
      goldAnswerIds: [v],
      valueAt: -1,
    };
  });
}

/** Trains COPY_CONFIG on a 50/50 mix of both tasks (Adam on the answer token's CE). */
export async function trainCopyModel(
  seed = 0,
  steps = 150,
  config: LlamaConfigInput = COPY_CONFIG,
): Promise<{ model: LlamaModel; finalLoss: number }> {
  const model = createRandomModel(config, seed);
  const opt = tf.train.adam(1e-2);
  let finalLoss = Number.NaN;
  for (let step = 0; step < steps; step++) {
    const batch = [
      ...copyItems('cot', 16, seed * 1000 + step * 2),
      ...copyItems('prompt', 16, seed * 1000 + step * 2 + 1),
    ];
    const prompts = batch.map((it) => [...it.promptIds, ...it.cotIds, ...it.delimiterIds]);
    const answers = batch.map((it) => [...it.goldAnswerIds]);
    const loss = opt.minimize(
      () => tf.neg(tf.mean(model.sequenceLogProbs(prompts, answers).logProbs)) as tf.Scalar,
      true,
      model.trainableVariables,
    );
    if (loss) {
      finalLoss = (await loss.data())[0]!;
      loss.dispose();
    }
  }
  opt.dispose();
  return { model, finalLoss };
}
