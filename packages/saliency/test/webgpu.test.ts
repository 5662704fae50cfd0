// One mask fit on the webgpu backend (Dawn: Mesa lavapipe on CI, a GPU elsewhere) equals the same
// fit on cpu: θ trajectories, H and the loss curve. Skipped with the reason in the suite name when
// Dawn offers no adapter, except on CI with ATMANRL_REQUIRE_WEBGPU=1, where that fails the suite.
import { initBackend, probeWebgpu } from '@atmanrl/attention-mask/node';
import { webgpuSuiteGate } from '@atmanrl/tooling/webgpu-suite';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { fitSaliencyMasks } from '../src/fit.js';
import type { MaskFitResult } from '../src/types.js';
import { randomItems, tinyModel } from './helpers.js';

/** float32 on both backends, different reduction orders, 20 AdamW steps. */
const TOLERANCE = 2e-4;

const { run: runWebgpu, label } = webgpuSuiteGate(await probeWebgpu());

async function fitOn(backend: 'cpu' | 'webgpu'): Promise<MaskFitResult[]> {
  await initBackend({ prefer: backend });
  const model = tinyModel(5);
  // Two items of different lengths batched together (padding exercised), prefix reuse on.
  const items = randomItems(
    [
      [5, 6, 1, 2],
      [3, 9, 2, 1],
    ],
    17,
  );
  try {
    const before = tf.memory().numTensors;
    const fits = await fitSaliencyMasks(model, items, { steps: 20, lr: 0.02 });
    expect(tf.memory().numTensors).toBe(before);
    return fits;
  } finally {
    model.dispose();
  }
}

describe.skipIf(!runWebgpu)(`mask fit ${label}`, () => {
  afterAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it('a batched 20-step fit matches the cpu backend (θ, H, losses) without leaks', async () => {
    const cpu = await fitOn('cpu');
    const gpu = await fitOn('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    for (let i = 0; i < cpu.length; i++) {
      const a = cpu[i]!;
      const b = gpu[i]!;
      expect(b.theta).toHaveLength(a.theta.length);
      for (const [j, t] of a.theta.entries())
        expect(Math.abs(t - b.theta[j]!)).toBeLessThan(TOLERANCE);
      expect(Math.abs(a.h - b.h)).toBeLessThan(TOLERANCE);
      for (const [j, l] of a.losses.entries()) {
        expect(Math.abs(l - b.losses[j]!)).toBeLessThan(TOLERANCE * 10);
      }
      // The fit moved θ: the comparison is not between two untouched initialisations.
      expect(a.theta.some((t) => Math.abs(t + 0.4) > 0.05)).toBe(true);
    }
  });
});
