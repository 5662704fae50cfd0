// The mask fit with a Llama-3-sized vocabulary (V = 128,256) on wasm (issue 22): B = 8 items,
// prompt 32, CoT 128, delimiter 1, answer 4, on a 2-layer model at D = 64 and D = 512. Reports
// the time of one fit step (the last of BENCH_STEPS, default 2), the peak bytes of live tensors
// during the fit (tf.profile) and the wasm heap size after it (the heap never shrinks, so run one
// width per process for a clean heap number: BENCH_D=64 or BENCH_D=512).
// Run: BENCH_D=64 pnpm --filter @atmanrl/saliency exec vitest bench --run bench/big-vocab.bench.ts
import { initBackend } from '@atmanrl/attention-mask/node';
import { createRandomModel } from '@atmanrl/model';
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, bench, describe } from 'vitest';
import { fitSaliencyMasks } from '../src/fit.js';
import type { SaliencyItem } from '../src/types.js';

const V = 128256;
const STEPS = Number(process.env['BENCH_STEPS'] ?? 2);
const WIDTHS = (process.env['BENCH_D'] ?? '64,512').split(',').map(Number);
const B = Number(process.env['BENCH_B'] ?? 8);
const once = { time: 0, iterations: 1, warmupIterations: 0, warmupTime: 0 };

/** Llama-3.2-1B's shape shrunk to width d and 2 layers (head_dim 64 where d allows). */
export function bigVocabConfig(d: number) {
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

function items(batch: number, prompt: number, cot: number): SaliencyItem[] {
  const ids = (n: number, salt: number) =>
    Array.from({ length: n }, (_, i) => (i * 7919 + salt * 104729) % V);
  return Array.from({ length: batch }, (_, b) => ({
    promptIds: ids(prompt, b),
    cotIds: ids(cot, b + 100),
    delimiterIds: [7],
    goldAnswerIds: ids(4, b + 200),
  }));
}

function heapBytes(): number {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  return b.wasm?.HEAPU8.length ?? 0;
}

const lines: string[] = [];
for (const d of WIDTHS) {
  describe(`V=${V}, D=${d}`, () => {
    bench(
      `mask fit, B=${B}, prompt 32, CoT 128`,
      async () => {
        await initBackend({ prefer: 'wasm' });
        const model = createRandomModel(bigVocabConfig(d), 0);
        const stamps: number[] = [];
        let error = '';
        const t0 = performance.now();
        const info = await tf.profile(async () => {
          try {
            await fitSaliencyMasks(model, items(B, 32, 128), {
              steps: STEPS,
              onStep: () => stamps.push(performance.now()),
            });
          } catch (e) {
            error = (e as Error).message.slice(0, 120);
          }
        });
        const stepMs =
          stamps.length > 1 ? stamps[stamps.length - 1]! - stamps[stamps.length - 2]! : Number.NaN;
        lines.push(
          `| mask fit B=${B} CoT 128 | ${d} | ${stepMs.toFixed(0)} | ${(performance.now() - t0).toFixed(0)} | ${(info.peakBytes / 2 ** 20).toFixed(0)} | ${(heapBytes() / 2 ** 20).toFixed(0)} | ${error} |`,
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
