// Golden test against an independent float64 PyTorch implementation (test/fixtures/gen_llama.py).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../src/node/checkpoint.js';
import { setUpBackend } from './helpers.js';

/** float32 vs float64, absolute, on logits of magnitude ~1-5 (measured: 3e-6 cpu, 9e-6 wasm). */
const LOGIT_TOLERANCE = 5e-5;

interface Variant {
  input_ids: number[][];
  logits: number[];
  bias: (number | '-inf')[][];
  logits_with_bias: number[];
  greedy_prompt: number[];
  greedy_continuation: number[];
}

const fixtures = join(import.meta.dirname, 'fixtures');
let golden: { variants: Record<string, Variant> };

beforeAll(async () => {
  await setUpBackend();
  golden = JSON.parse(await readFile(join(fixtures, 'golden.json'), 'utf8'));
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe.each(['tied', 'untied'])('tiny Llama (%s) vs float64 PyTorch', (variant) => {
  it('logits, biased logits and greedy continuation match', async () => {
    const g = golden.variants[variant]!;
    const model = await loadModel(join(fixtures, `tiny-llama-${variant}`));
    expect(model.config.tie_word_embeddings).toBe(variant === 'tied');
    const ids = tf.tensor2d(g.input_ids, undefined, 'int32');
    const bias = tf.tensor2d(
      g.bias.map((r) => r.map((x) => (x === '-inf' ? Number.NEGATIVE_INFINITY : x))),
    );
    const logits = tf.tidy(() => model.forward(ids));
    const biased = tf.tidy(() => model.forward(ids, { attentionBias: bias }));
    const plainDiff = maxAbsDiff(await logits.data(), g.logits);
    const biasDiff = maxAbsDiff(await biased.data(), g.logits_with_bias);
    expect(plainDiff).toBeLessThan(LOGIT_TOLERANCE);
    expect(biasDiff).toBeLessThan(LOGIT_TOLERANCE);
    // The bias really changes the logits, so the biased comparison can fail.
    expect(maxAbsDiff(g.logits, g.logits_with_bias)).toBeGreaterThan(1e-2);
    const [out] = await model.generate([g.greedy_prompt], {
      maxNewTokens: g.greedy_continuation.length,
      eosTokenIds: [],
    });
    expect(out!.tokenIds).toEqual(g.greedy_continuation);
    tf.dispose([ids, bias, logits, biased]);
    model.dispose();
  });
});
