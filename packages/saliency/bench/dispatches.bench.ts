// WebGPU dispatches (compute programs launched) per mask-fit step, with the fused webgpu kernels
// of @atmanrl/model on and off (ATMANRL_WEBGPU_FUSED=0), and the step time on this adapter
// (relative only on lavapipe: a CPU runs the shaders). The step is tooling/gpu-check's mask-fit
// loop: θ per CoT token, bias 10·min(θ,0) on the CoT keys for the answer rows, the prompt in the
// KV cache (updateCache: false), Adam on θ only, one loss read per step.
// Configs: a tiny Llama (2 layers, width 32) and the 41.6M one of tooling/gpu-check (8 layers,
// width 512, vocab 32000, GQA 8/4). On lavapipe the 41.6M config runs at a reduced sequence
// (prompt 8, CoT 16, answer 4; BENCH_FULL=1 for the gpu-check shape 64/128/16): dispatch counts
// depend on the layer count and the op graph, not on T. A third config keeps the 41.6M layout
// (8 layers, GQA 8/4) at width 64, for machines too slow for the real one (BENCH_CONFIGS).
// Run: cd packages/saliency && nice -n 19 npx vitest bench --run bench/dispatches.bench.ts
// (needs a Dawn adapter; skipped with the reason otherwise).

import { countWebgpuDispatches } from '@atmanrl/attention-mask';
import { initBackend, probeWebgpu } from '@atmanrl/attention-mask/node';
import { createRandomModel, type LlamaModel } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, bench, describe } from 'vitest';

const TINY = {
  vocab_size: 300,
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  rope_theta: 10000,
  tie_word_embeddings: true,
  initializer_range: 0.2,
};
const CONFIG_41M = {
  vocab_size: 32000,
  hidden_size: 512,
  intermediate_size: 1536,
  num_hidden_layers: 8,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  rope_theta: 500000,
  tie_word_embeddings: true,
  initializer_range: 0.02,
};
const full = process.env['BENCH_FULL'] === '1';
const STEPS = Number(process.env['BENCH_STEPS'] ?? 3);
const once = { time: 0, iterations: 1, warmupIterations: 0, warmupTime: 0 };
const probe = await probeWebgpu();

interface Row {
  config: string;
  fused: boolean;
  shape: string;
  dispatches: number;
  msPerStep: number;
  top: string;
}
const rows: Row[] = [];

function randomIds(n: number, vocab: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % vocab;
  });
}

/** Dispatches of one mask-fit step (after a warm-up step that compiles the shaders) and ms/step. */
async function maskFitDispatches(
  model: LlamaModel,
  vocab: number,
  [P, C, A]: [number, number, number],
): Promise<{ dispatches: number; byProgram: Record<string, number>; msPerStep: number }> {
  const T = P + C + A;
  const ids = randomIds(T, vocab, 7);
  const input = (x: number[]) => tf.tensor2d([x], undefined, 'int32');
  const cache = model.createCache(1);
  tf.tidy(() => {
    model.forward(input(ids.slice(0, P)), { cache });
  });
  const suffix = input(ids.slice(P)); // [1,C+A]
  const targets = tf.oneHot(tf.tensor1d(ids.slice(P + C), 'int32'), vocab); // [A,V]
  const theta = tf.variable(tf.zeros([1, C]), true);
  const optimizer = tf.train.adam(0.1);
  const loss = () => {
    const bias = tf.concat(
      [tf.zeros([1, P]), tf.mul(10, tf.minimum(theta, 0)), tf.zeros([1, A])],
      1,
    ); // [1,T]
    const logits = model.forward(suffix, {
      cache,
      updateCache: false,
      attentionBias: bias as tf.Tensor2D,
      queries: { start: P + C - 1, end: T },
    }); // [1,C+A,V]
    const last = tf.slice(logits, [0, C - 1, 0], [1, A, -1]); // rows predicting the answer
    const logp = tf.logSoftmax(tf.reshape(last, [A, -1]));
    const nll = tf.neg(tf.mean(tf.sum(tf.mul(logp, targets), 1)));
    return tf.add(nll, tf.mul(0.01, tf.sum(tf.relu(tf.neg(theta))))) as tf.Scalar;
  };
  const step = async () => {
    const cost = optimizer.minimize(loss, true, [theta])!;
    await cost.data();
    cost.dispose();
  };
  await step(); // compiles
  const { byProgram, dispatches } = await countWebgpuDispatches(step);
  const start = performance.now();
  for (let i = 0; i < STEPS; i++) await step();
  const msPerStep = (performance.now() - start) / STEPS;
  tf.dispose([suffix, targets, theta]);
  optimizer.dispose();
  cache.dispose();
  return { dispatches, byProgram, msPerStep };
}

const NARROW_8 = { ...CONFIG_41M, vocab_size: 512, hidden_size: 64, intermediate_size: 192 };
const allCases = [
  { name: 'tiny (L=2, D=32)', config: TINY, shape: [8, 16, 4] as [number, number, number] },
  {
    name: '41.6M layout at width 64 (L=8, D=64, V=512)',
    config: NARROW_8,
    shape: [8, 16, 4] as [number, number, number],
  },
  {
    name: '41.6M (L=8, D=512)',
    config: CONFIG_41M,
    shape: (full ? [64, 128, 16] : [8, 16, 4]) as [number, number, number],
  },
];
/** BENCH_CONFIGS=tiny,narrow,41m (default all): a loaded machine may skip the 41.6M one. */
const wanted = (process.env['BENCH_CONFIGS'] ?? 'tiny,narrow,41m').split(',');
const keys = ['tiny', 'narrow', '41m'];
const cases = allCases.filter((_, i) => wanted.includes(keys[i]!));

describe.skipIf(!probe.available)(
  `mask-fit dispatches on webgpu${probe.available ? '' : ` (skipped: ${probe.reason})`}`,
  () => {
    for (const c of cases) {
      for (const fused of [false, true]) {
        bench(
          `${c.name} fused=${fused}`,
          async () => {
            await initBackend({ prefer: 'webgpu' });
            if (fused) delete process.env['ATMANRL_WEBGPU_FUSED'];
            else process.env['ATMANRL_WEBGPU_FUSED'] = '0';
            const model = createRandomModel(c.config, 2, { trainable: false });
            try {
              const r = await maskFitDispatches(model, c.config.vocab_size, c.shape);
              const top = Object.entries(r.byProgram)
                .sort((a, b) => b[1] - a[1])
                .slice(0, 6)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ');
              rows.push({
                config: c.name,
                fused,
                shape: c.shape.join('/'),
                dispatches: r.dispatches,
                msPerStep: Math.round(r.msPerStep),
                top,
              });
            } finally {
              model.dispose();
              delete process.env['ATMANRL_WEBGPU_FUSED'];
            }
          },
          once,
        );
      }
    }
  },
);

afterAll(() => {
  if (rows.length === 0) return;
  const lines = [
    '| config | fused | P/C/A | dispatches/step | ms/step (this adapter) | most launched |',
    '| --- | --- | --- | ---: | ---: | --- |',
    ...rows.map(
      (r) =>
        `| ${r.config} | ${r.fused ? 'yes' : 'no'} | ${r.shape} | ${r.dispatches} | ${r.msPerStep} | ${r.top} |`,
    ),
  ];
  console.info(
    `\nadapter: ${probe.available ? probe.adapter.device : 'none'}\n${lines.join('\n')}\n`,
  );
});
