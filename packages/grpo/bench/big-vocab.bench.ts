// The policy-update core with a Llama-3-sized vocabulary (V = 128,256) on wasm (issue 22): the
// gradient of the summed completion log-probs of 16 completions (BENCH_N) × 128 tokens (prompt 32) w.r.t.
// every trainable variable, on a 2-layer model at D = 64 and D = 512. Reports the time of one
// forward+backward (the second of two), the peak bytes of live tensors (tf.profile) and the wasm
// heap size after it (the heap never shrinks: run one width per process, BENCH_D=64 or 512).
// Run: BENCH_D=64 pnpm --filter @atmanrl/grpo exec vitest bench --run bench/big-vocab.bench.ts
import { initBackend } from '@atmanrl/attention-mask/node';
import { createRandomModel } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, bench, describe } from 'vitest';
import { completionLogProbs } from '../src/_internal/token-log-probs.js';

const V = 128256;
const WIDTHS = (process.env['BENCH_D'] ?? '64,512').split(',').map(Number);
const N = Number(process.env['BENCH_N'] ?? 16);
const once = { time: 0, iterations: 1, warmupIterations: 0, warmupTime: 0 };

function bigVocabConfig(d: number) {
  const heads = Math.max(1, d / 64);
  return {
    vocab_size: V,
    hidden_size: d,
    intermediate_size: 4 * d,
    num_hidden_layers: 2,
    num_attention_heads: heads,
    num_key_value_heads: Math.max(1, heads / 4),
    tie_word_embeddings: true,
    rope_theta: 500000,
  };
}

function heapBytes(): number {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  return b.wasm?.HEAPU8.length ?? 0;
}

const ids = (n: number, salt: number) =>
  Array.from({ length: n }, (_, i) => (i * 7919 + salt * 104729) % V);
const prompts = Array.from({ length: N }, (_, b) => ids(32, b));
const completions = Array.from({ length: N }, (_, b) => ids(128, b + 50));

const lines: string[] = [];
for (const d of WIDTHS) {
  describe(`V=${V}, D=${d}`, () => {
    bench(
      `update, ${N} completions x 128 tokens`,
      async () => {
        await initBackend({ prefer: 'wasm' });
        const model = createRandomModel(bigVocabConfig(d), 0);
        const vars = model.trainableVariables;
        let stepMs = Number.NaN;
        let error = '';
        const t0 = performance.now();
        const info = await tf.profile(async () => {
          try {
            for (let i = 0; i < 2; i++) {
              const s = performance.now();
              const { value, grads } = tf.variableGrads(
                () =>
                  tf.tidy(() =>
                    tf.sum(completionLogProbs(model, prompts, completions, 1).logProbs),
                  ) as tf.Scalar,
                vars,
              );
              const norm = tf.tidy(() =>
                tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))),
              );
              await norm.data();
              norm.dispose();
              value.dispose();
              for (const g of Object.values(grads)) g.dispose();
              stepMs = performance.now() - s;
            }
          } catch (e) {
            error = (e as Error).message.slice(0, 120);
          }
        });
        lines.push(
          `| update ${N}x128 | ${d} | ${stepMs.toFixed(0)} | ${(performance.now() - t0).toFixed(0)} | ${(info.peakBytes / 2 ** 20).toFixed(0)} | ${(heapBytes() / 2 ** 20).toFixed(0)} | ${error} |`,
        );
        model.dispose();
      },
      once,
    );
  });
}

afterAll(() => {
  console.info(
    `\n| what | D | ms/step | total ms | peak tensors MiB | wasm heap MiB | error |\n|---|---|---|---|---|---|---|\n${lines.join('\n')}\n`,
  );
});
