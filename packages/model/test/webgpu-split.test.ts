// Issue 21 on the webgpu backend (Mesa lavapipe on CI, a GPU elsewhere): a Llama-3.2-1B-layout
// model at reduced width (GQA 8/2 heads, llama3 rope scaling at θ = 500000, tied embeddings) whose
// embedding is stored in 3 vocab blocks under a small binding limit equals the unsplit model on
// webgpu (≤ 1e-6) and the cpu reference (float32 reductions in another order: ≤ 1e-5): logits,
// head log-probs and entropies, gradients w.r.t. hidden states and every variable; a BF16
// checkpoint loads split; the device limit is read; measurePeakMemory reports GPU buffers.
// Skipped with the reason in the suite name without an adapter, unless CI requires webgpu.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@atmanrl/attention-mask/node';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostConversions, resetHostConversions } from '../src/_internal/host-conversions.js';
import { createRandomModel } from '../src/checkpoint.js';
import type { LlamaConfigInput } from '../src/config.js';
import { deviceBindingLimitBytes } from '../src/device-limits.js';
import type { LlamaModel } from '../src/llama-model.js';
import { loadModel, saveModel } from '../src/node/checkpoint.js';
import { measurePeakMemory } from '../src/peak-memory.js';
import { webgpuSuite } from './helpers.js';

const { run, label } = await webgpuSuite();

/** Llama-3.2-1B's layout (head_dim 64 -> 8, 32/8 heads -> 8/2, 16 layers -> 2, V 128256 -> 1000). */
const CONFIG: LlamaConfigInput = {
  vocab_size: 1000,
  hidden_size: 64,
  intermediate_size: 256,
  num_hidden_layers: 2,
  num_attention_heads: 8,
  num_key_value_heads: 2,
  head_dim: 8,
  rope_theta: 500000,
  rope_scaling: {
    rope_type: 'llama3',
    factor: 32,
    low_freq_factor: 1,
    high_freq_factor: 4,
    original_max_position_embeddings: 8192,
  },
  tie_word_embeddings: true,
  initializer_range: 0.1,
};
/** Embedding 1000 x 64 x 4 B = 256,000 B; 100,000 B per binding -> blocks of [334, 334, 332]. */
const LIMIT = 100_000;
const BLOCKS = [334, 334, 332];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

interface Measured {
  logits: Float32Array;
  logProbs: Float32Array;
  entropy: Float32Array;
  dHidden: Float32Array;
  /** d loss / d variable by checkpoint name; a split matrix's blocks joined along V. */
  grads: Record<string, Float32Array>;
}

/** Forward logits, head log-probs/entropies, and their gradients (hidden states, variables). */
async function measure(model: LlamaModel): Promise<Measured> {
  const ids = [
    [1, 40, 333, 334, 335, 667, 668, 999],
    [2, 0, 500, 12, 700, 998, 333, 5],
  ];
  const t = ids[0]!.length;
  const d = model.config.hidden_size;
  const targets = ids.flatMap((r) => [...r.slice(1), 3]);
  const a = tf.tensor1d(targets.map((_, i) => 1 + (i % 3)));
  const b = tf.tensor1d(targets.map((_, i) => 0.5 - (i % 2)));
  const input = tf.tensor2d(ids, undefined, 'int32');
  const before = tf.memory().numTensors;
  const objective = (h: tf.Tensor) => {
    const r = model.headLogProbs(h as tf.Tensor2D, targets, { chunkRows: 5, temperature: 0.9 });
    return tf.add(tf.sum(tf.mul(r.logProbs, a)), tf.sum(tf.mul(r.entropy, b))) as tf.Scalar;
  };
  const logits = model.forward(input);
  const hidden = tf.tidy(() => tf.reshape(model.hiddenStates(input), [2 * t, d]));
  const vals = model.headLogProbs(hidden as tf.Tensor2D, targets, {
    chunkRows: 5,
    temperature: 0.9,
  });
  const dHidden = tf.grad(objective)(hidden);
  const { value, grads } = tf.variableGrads(
    () => tf.tidy(() => objective(tf.reshape(model.hiddenStates(input), [2 * t, d]))),
    model.trainableVariables,
  );
  const names = model.variableNames.map((n) => n.replace(/\[\d+:\d+\]$/, ''));
  const byName: Record<string, tf.Tensor[]> = {};
  model.variables.forEach((v, i) => {
    const list = byName[names[i]!] ?? [];
    list.push(grads[v.name]!);
    byName[names[i]!] = list;
  });
  const out: Record<string, Float32Array> = {};
  for (const [name, parts] of Object.entries(byName)) {
    const joined = parts.length === 1 ? parts[0]! : tf.concat(parts, 1);
    out[name] = (await joined.data()) as Float32Array;
    if (parts.length > 1) joined.dispose();
  }
  const m: Measured = {
    logits: (await logits.data()) as Float32Array,
    logProbs: (await vals.logProbs.data()) as Float32Array,
    entropy: (await vals.entropy.data()) as Float32Array,
    dHidden: (await dHidden.data()) as Float32Array,
    grads: out,
  };
  tf.dispose([logits, hidden, vals.logProbs, vals.entropy, dHidden, value]);
  tf.dispose(Object.values(grads));
  expect(tf.memory().numTensors).toBe(before); // no leaks
  tf.dispose([a, b, input]);
  return m;
}

function expectClose(got: Measured, want: Measured, tol: number): void {
  expect(maxAbsDiff(got.logits, want.logits)).toBeLessThan(tol);
  expect(maxAbsDiff(got.logProbs, want.logProbs)).toBeLessThan(tol);
  // Entropies are ~ln V = 6.9 (float32 ulp 4.8e-7), summed over blocks in another order: relative.
  expect(maxAbsDiff(got.entropy, want.entropy)).toBeLessThan(tol * Math.log(1000));
  const dScale = Math.max(1, ...Array.from(want.dHidden, Math.abs));
  expect(maxAbsDiff(got.dHidden, want.dHidden)).toBeLessThan(tol * dScale);
  expect(Object.keys(got.grads)).toEqual(Object.keys(want.grads));
  for (const name of Object.keys(want.grads)) {
    const scale = Math.max(1, ...Array.from(want.grads[name]!, Math.abs));
    expect(maxAbsDiff(got.grads[name]!, want.grads[name]!), name).toBeLessThan(tol * scale);
  }
}

describe.skipIf(!run)(`vocab blocks ${label}`, () => {
  let reference: Measured;
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
    const model = createRandomModel(CONFIG, 21);
    reference = await measure(model);
    model.dispose();
    const info = await initBackend({ prefer: 'webgpu' });
    expect(info.name).toBe('webgpu');
  });
  afterAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it('reads a finite per-binding limit from the device', () => {
    const limit = deviceBindingLimitBytes();
    expect(Number.isFinite(limit)).toBe(true);
    expect(limit).toBeGreaterThanOrEqual(128 * 2 ** 20); // WebGPU's guaranteed minimum
  });

  it('3 embedding blocks equal the unsplit model on webgpu and the cpu reference', async () => {
    const split = createRandomModel(CONFIG, 21, { maxBindingBytes: LIMIT });
    expect(split.weights.embed.blocks.map((b) => b.shape[1])).toEqual(BLOCKS);
    const plain = createRandomModel(CONFIG, 21);
    expect(plain.weights.embed.blocks).toHaveLength(1);
    const got = await measure(split);
    const unsplit = await measure(plain);
    expectClose(got, unsplit, 1e-6);
    expectClose(got, reference, 1e-5);
    split.dispose();
    plain.dispose();
  });

  it('a BF16 checkpoint loads into blocks, one block of float32 at a time, and generates', async () => {
    const model = createRandomModel(CONFIG, 21);
    const dir = await mkdtemp(join(tmpdir(), 'webgpu-split-'));
    await saveModel(model, dir, { dtype: 'BF16' });
    model.dispose();
    resetHostConversions();
    const split = await loadModel(dir, { maxBindingBytes: LIMIT });
    expect(hostConversions.peak).toBe(334 * 64 * 4); // the largest block
    const plain = await loadModel(dir);
    const a = await measure(split);
    const b = await measure(plain);
    expectClose(a, b, 1e-6);
    const [x] = await split.generate([[1, 2, 3]], { maxNewTokens: 4, eosTokenIds: [] });
    const [y] = await plain.generate([[1, 2, 3]], { maxNewTokens: 4, eosTokenIds: [] });
    expect(x!.tokenIds).toEqual(y!.tokenIds);
    split.dispose();
    plain.dispose();
  });

  it('measurePeakMemory reports engine bytes exactly and GPU buffers at least as large', async () => {
    const gpu = () => (tf.memory() as { numBytesInGPU?: number }).numBytesInGPU ?? Number.NaN;
    const startInGPU = gpu();
    const m = await measurePeakMemory(async () => {
      const a = tf.zeros([1000]); // 4,000 B
      const c = tf.tidy(() => tf.add(tf.mul(a, a), a)); // +8,000 B at the peak
      await c.data();
      a.dispose();
      return c;
    });
    expect(m.peakBytes - m.startBytes).toBe(12_000);
    expect(m.endBytes - m.startBytes).toBe(4_000);
    expect(m.peakBytesInGPU! - startInGPU).toBeGreaterThanOrEqual(12_000); // + staging, uniforms
    expect(m.peakBytesAllocatedInGPU).toBeGreaterThanOrEqual(m.peakBytesInGPU!);
    m.result.dispose();
  });
});
