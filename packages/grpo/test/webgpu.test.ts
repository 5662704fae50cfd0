// The update on the webgpu backend (Dawn: Mesa lavapipe on CI, a GPU elsewhere) equals the same
// update on cpu. Regression: the global gradient norm sums every variable in one AddN, whose
// webgpu program binds one storage buffer per input, so with more variables than the device's
// buffers per stage the pipeline was invalid and the norm wrong (attention-mask's webgpu set-up
// now splits AddN). Skipped with the reason in the suite name
// when Dawn offers no adapter, except on CI with ATMANRL_REQUIRE_WEBGPU=1, where that fails.
import { initBackend, probeWebgpu } from '@atmanrl/attention-mask/node';
import { webgpuSuiteGate } from '@atmanrl/tooling/webgpu-suite';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveGrpoConfig } from '../src/config.js';
import { clipByGlobalNorm } from '../src/optimizer.js';
import { createOptimizer } from '../src/step.js';
import { type UpdateEpisode, updatePolicy } from '../src/update.js';
import { EOS, tinyModel } from './tiny.js';

const { run: runWebgpu, label } = webgpuSuiteGate(await probeWebgpu());

const EPISODES: UpdateEpisode[] = [
  [
    [1, 2],
    [3, 4, EOS],
  ],
  [[1], [6, 2, 5, EOS]],
  [
    [2, 5, 1],
    [3, 3],
  ],
  [[4], [EOS]],
].map(([p, c], i) => ({
  promptIds: p!,
  completionIds: c!,
  oldLogProbs: c!.map((_, j) => -2.08 + 0.2 * Math.cos(i + j)),
  advantage: [1, -1, 0.5, -0.5][i]!,
  truncated: false,
}));

async function updateOn(backend: 'cpu' | 'webgpu') {
  await initBackend({ prefer: backend });
  const model = tinyModel(3); // 12 trainable variables
  const optimizer = createOptimizer(model);
  const cfg = resolveGrpoConfig({
    lossType: 'bnpo',
    maxTokensPerMicroBatch: 12,
    learningRate: 1e-2,
  });
  const before = tf.memory().numTensors;
  const stats = await updatePolicy({ policy: model, optimizer }, EPISODES, cfg);
  const leaked = tf.memory().numTensors - before;
  const weights = (await Promise.all(optimizer.variables.map((v) => v.data()))).map((d) =>
    Array.from(d),
  );
  optimizer.dispose();
  model.dispose();
  return { stats, leaked, weights: weights.flat(), vars: optimizer.variables.length };
}

describe.skipIf(!runWebgpu)(`GRPO update ${label}`, () => {
  afterAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it('the global norm of 21 gradients is sqrt(Σ‖g‖²) (hand-computed)', async () => {
    await initBackend({ prefer: 'webgpu' });
    // g_i = (i+1)·[1, 1]: Σ‖g‖² = 2·Σ(i+1)² = 2·(21·22·43/6) = 6622
    const grads = Array.from({ length: 21 }, (_, i) => tf.fill([2], i + 1));
    const { grads: clipped, norm } = clipByGlobalNorm(grads, 1);
    expect((await norm.data())[0]).toBeCloseTo(Math.sqrt(6622), 3);
    expect((await clipped[20]!.data())[0]).toBeCloseTo(21 / Math.sqrt(6622), 5);
    tf.dispose([...grads, ...clipped, norm]);
  });

  it('an update with a token budget matches cpu (gradient norm, records, weights) without leaks', async () => {
    const cpu = await updateOn('cpu');
    const gpu = await updateOn('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(cpu.vars).toBeGreaterThan(7);
    expect(cpu.leaked).toBe(0);
    expect(gpu.leaked).toBe(0);
    expect(Math.abs(gpu.stats.gradNorms[0]! - cpu.stats.gradNorms[0]!)).toBeLessThan(1e-4);
    expect(
      Math.abs(gpu.stats.microBatches[0]!.loss - cpu.stats.microBatches[0]!.loss),
    ).toBeLessThan(1e-5);
    let worst = 0;
    cpu.weights.forEach((w, i) => {
      worst = Math.max(worst, Math.abs(w - gpu.weights[i]!));
    });
    // one AdamW step of lr 1e-2 moves weights by ≈ 1e-2; the backends agree far closer
    expect(worst).toBeLessThan(1e-4);
  });
});
