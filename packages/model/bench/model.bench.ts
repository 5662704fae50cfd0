// LlamaModel on wasm, ~10M parameters (D=384, L=6, H=6, Hkv=2, I=1024, V=2048, tied):
// forward, forward+backward (sum of completion log-probs over the second half), generation of 8
// tokens (prefill included), and one decode step at context T with and without the KV cache, at
// T = 64/256/512, batch 1. tokens/s = T / mean (forward, forward+backward), 8 / mean (generate),
// 1 / mean (decode step).
// Run: pnpm --filter @atmanrl/model bench   (compare: OPENBLAS_CORETYPE=Cooperlake /usr/bin/python3 bench/model_torch.py)
import { initBackend } from '@atmanrl/attention-mask/node';
import * as tf from '@tensorflow/tfjs-core';
import { bench, describe } from 'vitest';
import { createRandomModel } from '../src/checkpoint.js';
import type { KVCache } from '../src/kv-cache.js';
import type { LlamaModel } from '../src/llama-model.js';

/** The benchmark config (also in bench/model_torch.py). */
export const BENCH_CONFIG = {
  vocab_size: 2048,
  hidden_size: 384,
  intermediate_size: 1024,
  num_hidden_layers: 6,
  num_attention_heads: 6,
  num_key_value_heads: 2,
  tie_word_embeddings: true,
  rope_theta: 500000,
};
const NEW_TOKENS = 8;
const opts = { time: 0, iterations: 3, warmupIterations: 1, warmupTime: 0 };

let model: LlamaModel | undefined;
async function getModel(): Promise<LlamaModel> {
  if (!model) {
    await initBackend({ prefer: 'wasm' });
    model = createRandomModel(BENCH_CONFIG, 0);
  }
  return model;
}

for (const T of [64, 256, 512]) {
  describe(`wasm T=${T}`, () => {
    const prompt = Array.from({ length: T }, (_, i) => (i * 7919) % BENCH_CONFIG.vocab_size);
    const half = T / 2;
    bench(
      'forward',
      async () => {
        const m = await getModel();
        const logits = tf.tidy(() => m.forward(tf.tensor2d([prompt], [1, T], 'int32')));
        await logits.data();
        logits.dispose();
      },
      opts,
    );
    bench(
      'forward+backward',
      async () => {
        const m = await getModel();
        const { value, grads } = tf.variableGrads(() =>
          tf.tidy(
            () =>
              tf.sum(
                m.sequenceLogProbs([prompt.slice(0, half)], [prompt.slice(half)]).logProbs,
              ) as tf.Scalar,
          ),
        );
        await value.data();
        tf.dispose([value, ...Object.values(grads)]);
      },
      opts,
    );
    bench(
      `generate ${NEW_TOKENS} (KV cache, prefill included)`,
      async () => {
        const m = await getModel();
        await m.generate([prompt], { maxNewTokens: NEW_TOKENS, eosTokenIds: [] });
      },
      opts,
    );
    // One decode step at context T: with the KV cache (1 new token over T cached positions;
    // updateCache:false keeps the cache reusable) and without (the whole T+1 sequence again).
    let cache: KVCache | undefined;
    bench(
      'decode step (KV cache)',
      async () => {
        const m = await getModel();
        const logits = tf.tidy(() =>
          m.forward(tf.tensor2d([[5]], [1, 1], 'int32'), { cache: cache!, updateCache: false }),
        );
        await logits.data();
        logits.dispose();
      },
      {
        ...opts,
        setup: async () => {
          const m = await getModel();
          cache = m.createCache(1);
          tf.tidy(() => {
            m.hiddenStates(tf.tensor2d([prompt], [1, T], 'int32'), { cache: cache! });
          });
        },
        teardown: () => cache?.dispose(),
      },
    );
    bench(
      'decode step (no cache)',
      async () => {
        const m = await getModel();
        const logits = tf.tidy(() => {
          const h = m.hiddenStates(tf.tensor2d([[...prompt, 5]], [1, T + 1], 'int32'));
          return m.head(tf.slice(h, [0, T, 0], [1, 1, -1]) as tf.Tensor3D);
        });
        await logits.data();
        logits.dispose();
      },
      opts,
    );
  });
}
