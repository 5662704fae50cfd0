// buildWeights / memoryShape: a model from a caller's initializer (the GPU check builds the 1B model
// on the device this way), against the checkpoint layout of weightSpecs and a forward on cpu.
import { initBackend } from '@atmanrl/attention-mask/node';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { TINY_CONFIG } from '../test/helpers.js';
import { parseLlamaConfig } from './config.js';
import { LlamaModel } from './llama-model.js';
import { buildWeights, memoryShape, weightSpecs } from './weights.js';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

describe('buildWeights', () => {
  it('builds every spec in memory layout, splitting only vocabulary matrices over the limit', async () => {
    const config = parseLlamaConfig(TINY_CONFIG);
    const before = tf.memory().numTensors;
    const calls: [string, number[]][] = [];
    // limit: one [D=32, 100] float32 block = 12,800 bytes, so V = 262 splits into 3 blocks ≤ 100
    const weights = buildWeights(
      config,
      (spec, blockRows) => {
        calls.push([spec.name, blockRows]);
        const shape = memoryShape(spec);
        return blockRows.map((rows) =>
          spec.transposed ? tf.fill([shape[0]!, rows], 0.01) : tf.ones(shape),
        );
      },
      false,
      32 * 100 * 4,
    );
    expect(calls.map(([n]) => n)).toEqual(weightSpecs(config).map((s) => s.name));
    const embedRows = calls[0]![1];
    expect(embedRows).toHaveLength(3);
    expect(embedRows.reduce((a, b) => a + b)).toBe(config.vocab_size);
    expect(Math.max(...embedRows)).toBeLessThanOrEqual(100);
    expect(weights.embed.blocks.map((b) => b.shape)).toEqual(embedRows.map((r) => [32, r]));
    expect(calls.slice(1).every(([, rows]) => rows.length === 1)).toBe(true);
    // q_proj is [out=H*hd, in=D] on disk and [D, H*hd] in memory
    const q = weightSpecs(config).find((s) => s.name.endsWith('layers.0.self_attn.q_proj.weight'))!;
    expect(q.shape).toEqual([32, 32]);
    expect(memoryShape({ ...q, shape: [48, 32] })).toEqual([32, 48]);
    expect(weights.layers[0]!.q.trainable).toBe(false);
    const model = new LlamaModel(config, weights);
    // constant weights: every position of every row gives the same logits
    const logits = tf.tidy(() => model.forward(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32')));
    const v = await logits.data();
    const vocab = config.vocab_size;
    for (let i = 0; i < vocab; i++) expect(v[2 * vocab + i]).toBeCloseTo(v[i]!, 5);
    logits.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('disposes what it made when the initializer throws', () => {
    const config = parseLlamaConfig(TINY_CONFIG);
    const before = tf.memory().numTensors;
    let n = 0;
    expect(() =>
      buildWeights(config, (spec) => {
        if (++n === 5) throw new Error('boom');
        return [tf.zeros(memoryShape(spec))];
      }),
    ).toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
  });
});
