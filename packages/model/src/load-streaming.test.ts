// Loading 16-bit checkpoints tensor by tensor (issue 21): BF16 and F16 files load to exactly the
// widened values (reference: the host bit conversions of _internal/half.ts on the F32 weights) and
// to the same weights as an F32 file of those values; the float32 the loader holds at once is one
// tensor (or one vocab block when a limit splits the embedding), not the model; split loads save
// back to the same file.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { setUpBackend, TINY_CONFIG } from '../test/helpers.js';
import { bf16ToFloat, floatToBf16, floatToHalf, halfToFloat } from './_internal/half.js';
import { hostConversions, resetHostConversions } from './_internal/host-conversions.js';
import { createRandomModel, loadModelFromSafetensors } from './checkpoint.js';
import { parseLlamaConfig } from './config.js';
import type { LlamaModel } from './llama-model.js';
import { loadModel, saveModel } from './node/checkpoint.js';
import { decodeSafetensors, encodeSafetensors, type HostTensor } from './safetensors.js';
import { weightSpecs } from './weights.js';

beforeAll(setUpBackend);

const CONFIG = { ...TINY_CONFIG, tie_word_embeddings: false };
const parsed = parseLlamaConfig(CONFIG, 'test');
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
/** float32 bytes of the largest tensor, and of the whole model. */
const LARGEST = Math.max(...weightSpecs(parsed).map((s) => 4 * numel(s.shape)));
const TOTAL = weightSpecs(parsed).reduce((a, s) => a + 4 * numel(s.shape), 0);

/** The model's tensors in checkpoint layout, read back through an F32 save (bit-exact). */
async function checkpointTensors(model: LlamaModel): Promise<Map<string, HostTensor>> {
  const dir = await mkdtemp(join(tmpdir(), 'load-f32-'));
  await saveModel(model, dir);
  return decodeSafetensors(new Uint8Array(await readFile(join(dir, 'model.safetensors')))).tensors;
}

const widen = {
  BF16: (x: number) => bf16ToFloat(floatToBf16(x)),
  F16: (x: number) => halfToFloat(floatToHalf(x)),
};

describe('16-bit checkpoints load tensor by tensor', () => {
  for (const dtype of ['BF16', 'F16'] as const) {
    it(`${dtype}: exactly the widened values, the same as an F32 file of them; one tensor of float32 at a time`, async () => {
      const model = createRandomModel(CONFIG, 4);
      const original = await checkpointTensors(model);
      const dir = await mkdtemp(join(tmpdir(), `load-${dtype}-`));
      await saveModel(model, dir, { dtype });
      model.dispose();
      // Independent reference: each F32 value rounded to dtype and widened on the host.
      const want = new Map<string, HostTensor>();
      for (const [name, t] of original) {
        want.set(name, {
          ...t,
          dtype: 'F32',
          data: Float32Array.from(t.data as Float32Array, widen[dtype]),
        });
      }
      const before = tf.memory().numTensors;
      resetHostConversions();
      const fromDir = await loadModel(dir, { loadTokenizer: false });
      expect(hostConversions.live).toBe(0);
      expect(hostConversions.peak).toBe(LARGEST); // one tensor at a time ...
      expect(hostConversions.peak).toBeLessThan(TOTAL / 4); // ... not the model
      const got = await checkpointTensors(fromDir);
      for (const [name, t] of want) expect(got.get(name)!.data, name).toEqual(t.data);
      // The same bytes in memory (browser-safe path) and an F32 file of the widened values.
      const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
      resetHostConversions();
      const fromBytes = await loadModelFromSafetensors(
        config,
        new Uint8Array(await readFile(join(dir, 'model.safetensors'))),
      );
      expect(hostConversions.peak).toBe(LARGEST);
      const fromF32 = await loadModelFromSafetensors(config, encodeSafetensors(want));
      const values = async (m: LlamaModel) =>
        Promise.all(m.variables.map(async (v) => (await v.data()) as Float32Array));
      const ref = await values(fromF32);
      expect(await values(fromBytes)).toEqual(ref);
      expect(await values(fromDir)).toEqual(ref);
      for (const m of [fromDir, fromBytes, fromF32]) m.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('with a limit that splits the vocab matrices, holds one block of float32 and saves back the same file', async () => {
    const model = createRandomModel(CONFIG, 4);
    const dir = await mkdtemp(join(tmpdir(), 'load-split-'));
    await saveModel(model, dir, { dtype: 'BF16' });
    model.dispose();
    const plain = await loadModel(dir, { loadTokenizer: false });
    const unsplit = await checkpointTensors(plain);
    plain.dispose();
    resetHostConversions();
    const limit = 100 * 128; // 262 rows of 128 bytes -> blocks of [88, 88, 86] rows
    const split = await loadModel(dir, { loadTokenizer: false, maxBindingBytes: limit });
    expect(split.weights.embed.blocks.map((b) => b.shape[1])).toEqual([88, 88, 86]);
    expect(split.weights.lmHead!.blocks).toHaveLength(3);
    // Largest block: 88 vocab rows x 32 floats (the layer matrices are 32x64 = 8 KiB).
    expect(hostConversions.peak).toBe(88 * 32 * 4);
    const got = await checkpointTensors(split);
    for (const [name, t] of unsplit) expect(got.get(name)!.data, name).toEqual(t.data);
    split.dispose();
  });

  it('refuses a layer matrix over the limit with DEVICE_LIMIT, naming it and leaking nothing', async () => {
    const model = createRandomModel(CONFIG, 4);
    const dir = await mkdtemp(join(tmpdir(), 'load-limit-'));
    await saveModel(model, dir);
    model.dispose();
    const before = tf.memory().numTensors;
    await expect(loadModel(dir, { maxBindingBytes: 4096 })).rejects.toMatchObject({
      code: 'DEVICE_LIMIT',
      // q_proj (32x32 floats) fits exactly; gate_proj (64x32) does not.
      message: expect.stringMatching(/model\.layers\.0\.mlp\.gate_proj\.weight: 8192 bytes exceed/),
    });
    expect(() => createRandomModel(CONFIG, 4, { maxBindingBytes: 4095 })).toThrow(
      /q_proj\.weight: 4096 bytes exceed the device's per-binding limit of 4095 bytes/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
