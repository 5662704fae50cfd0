// Cost of the AtManRL mask fit on a ~10M-parameter Llama (the @atmanrl/model bench config:
// D=384, L=6, H=6, Hkv=2, I=1024, V=2048, tied) on wasm: per-step time of the fit with prefix
// reuse vs the naive fit that recomputes the whole sequence (prefixReuse: false), at CoT lengths
// 32/128/256 with batch 1 and 8 (prompt 128, delimiter 1, answer 4), and one 16-row chunk of the
// AtMan sweep. Each fit runs BENCH_STEPS (default 3) steps; per-step times come from onStep
// timestamps and are extrapolated to 200 steps in the table printed at the end (see README).
// Run: pnpm --filter @atmanrl/saliency bench, then (ratios to PyTorch's same-algorithm fit)
// OPENBLAS_CORETYPE=Cooperlake /usr/bin/python3 bench/fit_torch.py
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@atmanrl/attention-mask/node';
import { createRandomModel, type LlamaModel } from '@atmanrl/model';
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, bench, describe } from 'vitest';
import { buildLayout } from '../src/_internal/layout.js';
import { createObjective } from '../src/_internal/objective.js';
import { fitSaliencyMasks } from '../src/fit.js';
import type { SaliencyItem } from '../src/types.js';

const BENCH_CONFIG = {
  vocab_size: 2048,
  hidden_size: 384,
  intermediate_size: 1024,
  num_hidden_layers: 6,
  num_attention_heads: 6,
  num_key_value_heads: 2,
  tie_word_embeddings: true,
  rope_theta: 500000,
};
const STEPS = Number(process.env['BENCH_STEPS'] ?? 3);
const once = { time: 0, iterations: 1, warmupIterations: 0, warmupTime: 0 };

let model: LlamaModel | undefined;
async function getModel(): Promise<LlamaModel> {
  if (!model) {
    await initBackend({ prefer: 'wasm' });
    model = createRandomModel(BENCH_CONFIG, 0);
  }
  return model;
}

function items(batch: number, prompt: number, cot: number): SaliencyItem[] {
  const ids = (n: number, salt: number) =>
    Array.from({ length: n }, (_, i) => (i * 7919 + salt * 104729) % 2048);
  return Array.from({ length: batch }, (_, b) => ({
    promptIds: ids(prompt, b),
    cotIds: ids(cot, b + 100),
    delimiterIds: [7],
    goldAnswerIds: ids(4, b + 200),
  }));
}

interface Row {
  what: string;
  prompt: number;
  cot: number;
  batch: number;
  totalMs: number;
  stepMs: number;
}
const rows: Row[] = [];

async function timeFit(
  what: string,
  prompt: number,
  cot: number,
  batch: number,
  prefixReuse: boolean,
  maxBatchSize?: number,
): Promise<void> {
  const m = await getModel();
  const stamps: number[] = [];
  const t0 = performance.now();
  await fitSaliencyMasks(m, items(batch, prompt, cot), {
    steps: STEPS,
    prefixReuse,
    ...(maxBatchSize ? { maxBatchSize } : {}),
    onStep: () => stamps.push(performance.now()),
  });
  const totalMs = performance.now() - t0;
  const stepMs = (stamps[stamps.length - 1]! - stamps[0]!) / (stamps.length - 1);
  // per-step time of a whole batch (micro-batches run one after the other)
  const micro = Math.ceil(batch / (maxBatchSize ?? batch));
  rows.push({
    what: maxBatchSize ? `${what} (micro-batch ${maxBatchSize})` : what,
    prompt,
    cot,
    batch,
    totalMs,
    stepMs: stepMs * micro,
  });
}

async function timeAtmanChunk(prompt: number, cot: number): Promise<void> {
  const m = await getModel();
  const k = 16;
  const item = items(1, prompt, cot)[0]!;
  const layout = buildLayout(new Array<SaliencyItem>(k).fill(item), 2048, 0);
  const t0 = performance.now();
  const obj = createObjective(m, layout, { prefixReuse: true, queries: 'all' });
  const t1 = performance.now();
  const ce = tf.tidy(() => {
    const f = new Float32Array(k * obj.keyLen).fill(1);
    for (let r = 0; r < k; r++) f[r * obj.keyLen + layout.prefixLen + 1 + r] = 0.1;
    return obj.perItemCe({ suppress: tf.tensor2d(f, [k, obj.keyLen]) });
  });
  await ce.data();
  const t2 = performance.now();
  ce.dispose();
  obj.dispose();
  rows.push({
    what: 'atman chunk (16 rows)',
    prompt,
    cot,
    batch: 1,
    totalMs: t2 - t0,
    stepMs: t2 - t1,
  });
}

for (const cot of [32, 128, 256]) {
  for (const batch of [1, 8]) {
    describe(`prompt 128, CoT ${cot}, batch ${batch}`, () => {
      // B=8 at CoT 256 exhausts the wasm heap in one batch (attention scores [B,H,S,T] per layer)
      const micro = cot === 256 && batch === 8 ? 4 : undefined;
      bench(
        `fit, prefix reuse (${STEPS} steps)`,
        () => timeFit('fit reuse', 128, cot, batch, true, micro),
        once,
      );
      bench(
        `fit, naive (${STEPS} steps)`,
        () => timeFit('fit naive', 128, cot, batch, false, micro),
        once,
      );
    });
  }
  describe(`prompt 128, CoT ${cot}, AtMan`, () => {
    bench('AtMan sweep, one 16-row chunk', () => timeAtmanChunk(128, cot), once);
  });
}
describe('prompt growth, CoT 64, batch 1', () => {
  for (const prompt of [32, 512]) {
    bench(`prompt ${prompt}, prefix reuse`, () => timeFit('fit reuse', prompt, 64, 1, true), once);
    bench(`prompt ${prompt}, naive`, () => timeFit('fit naive', prompt, 64, 1, false), once);
  }
});

afterAll(() => {
  const lines = [
    '| what | prompt | CoT | B | total ms | ms/step (or chunk) | est. 200-step ms per item |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const fit = r.what.startsWith('fit');
    // fixed part (prefix, two CE evaluations) + 200 steps, divided over the batch
    const est = fit ? (r.totalMs - r.stepMs * STEPS + 200 * r.stepMs) / r.batch : Number.NaN;
    lines.push(
      `| ${r.what} | ${r.prompt} | ${r.cot} | ${r.batch} | ${r.totalMs.toFixed(0)} | ${r.stepMs.toFixed(0)} | ${fit ? est.toFixed(0) : '-'} |`,
    );
  }
  console.info(`\n${lines.join('\n')}\n`);
  // For bench/fit_torch.py, which prints the project / PyTorch ratios next to its own times.
  const out = join(dirname(fileURLToPath(import.meta.url)), '..', '.test-results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'fit-bench.json'), JSON.stringify(rows));
  model?.dispose();
});
