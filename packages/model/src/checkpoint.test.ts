import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { setUpBackend, TINY_CONFIG } from '../test/helpers.js';
import { createRandomModel, loadModelFromSafetensors } from './checkpoint.js';
import { loadModel, saveModel } from './node/checkpoint.js';
import { decodeSafetensors, encodeSafetensors, type HostTensor } from './safetensors.js';
import { createTinyTokenizer } from './tiny-tokenizer.js';

beforeAll(setUpBackend);

async function allValues(vars: tf.Variable[]): Promise<Float32Array[]> {
  return Promise.all(vars.map(async (v) => (await v.data()) as Float32Array));
}

describe('checkpoints', () => {
  it('save -> load is bit-exact, writes the HF layout and keeps the tokenizer', async () => {
    const tok = createTinyTokenizer();
    for (const tie of [true, false]) {
      const model = createRandomModel({ ...TINY_CONFIG, tie_word_embeddings: tie }, 3, {
        tokenizer: tok,
      });
      const dir = await mkdtemp(join(tmpdir(), 'ckpt-'));
      const before = tf.memory().numTensors;
      await saveModel(model, dir);
      expect(tf.memory().numTensors).toBe(before);
      const loaded = await loadModel(dir);
      const a = await allValues(model.variables);
      const b = await allValues(loaded.variables);
      expect(b).toEqual(a);
      expect(loaded.config).toEqual({ ...model.config, torch_dtype: 'float32' });
      expect(loaded.tokenizer!.encode('hi')).toEqual(tok.encode('hi'));
      const { tensors } = decodeSafetensors(
        new Uint8Array(await readFile(join(dir, 'model.safetensors'))),
      );
      expect(tensors.has('lm_head.weight')).toBe(!tie);
      expect(tensors.get('model.layers.1.self_attn.k_proj.weight')!.shape).toEqual([16, 32]); // [Hkv*hd, D]
      const gen = JSON.parse(await readFile(join(dir, 'generation_config.json'), 'utf8'));
      expect(gen.eos_token_id).toEqual([260, 257]);
      model.dispose();
      loaded.dispose();
    }
  });

  it('loadModelFromSafetensors builds the same model from bytes + a config object', async () => {
    const tok = createTinyTokenizer();
    const model = createRandomModel({ ...TINY_CONFIG, tie_word_embeddings: false }, 5);
    const dir = await mkdtemp(join(tmpdir(), 'ckpt-bytes-'));
    await saveModel(model, dir, { dtype: 'BF16' });
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    const bytes = new Uint8Array(await readFile(join(dir, 'model.safetensors')));
    const before = tf.memory().numTensors;
    const fromBytes = await loadModelFromSafetensors(config, bytes.buffer, {
      tokenizer: tok,
      trainable: false,
    });
    const fromDir = await loadModel(dir, { loadTokenizer: false });
    expect(fromBytes.config).toEqual(fromDir.config);
    expect(fromBytes.tokenizer).toBe(tok);
    expect(await allValues(fromBytes.variables)).toEqual(await allValues(fromDir.variables));
    // BF16 on disk: values are the 16-bit roundings of the original weights, not the originals.
    expect(await allValues(fromBytes.variables)).not.toEqual(await allValues(model.variables));
    fromDir.dispose();
    fromBytes.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // A tensor missing from the bytes is named; nothing leaks.
    const { tensors } = decodeSafetensors(bytes);
    tensors.delete('model.norm.weight');
    await expect(loadModelFromSafetensors(config, encodeSafetensors(tensors))).rejects.toThrow(
      /model\.safetensors: checkpoint has no tensor "model\.norm\.weight"/,
    );
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('loads BF16 and F16 checkpoints (values rounded to 16 bits, logits close)', async () => {
    const model = createRandomModel(TINY_CONFIG, 4);
    const ids = tf.tensor2d([[256, 72, 105, 33]], undefined, 'int32');
    const ref = tf.tidy(() => model.forward(ids));
    for (const dtype of ['BF16', 'F16'] as const) {
      const dir = await mkdtemp(join(tmpdir(), `ckpt-${dtype}-`));
      await saveModel(model, dir, { dtype });
      const raw = new Uint8Array(await readFile(join(dir, 'model.safetensors')));
      expect(decodeSafetensors(raw).tensors.get('model.norm.weight')!.dtype).toBe(dtype);
      const loaded = await loadModel(dir);
      const out = tf.tidy(() => loaded.forward(ids));
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(out, ref))));
      const d = (await diff.data())[0]!;
      expect(d).toBeLessThan(dtype === 'BF16' ? 0.1 : 0.01);
      expect(d).toBeGreaterThan(0); // rounding really happened
      tf.dispose([out, diff]);
      loaded.dispose();
    }
    tf.dispose([ids, ref]);
    model.dispose();
  });

  it('reports a missing tensor and a shape mismatch with the tensor name', async () => {
    const model = createRandomModel({ ...TINY_CONFIG, tie_word_embeddings: false }, 2);
    const dir = await mkdtemp(join(tmpdir(), 'ckpt-bad-'));
    await saveModel(model, dir);
    model.dispose();
    const path = join(dir, 'model.safetensors');
    const { tensors } = decodeSafetensors(new Uint8Array(await readFile(path)));
    const without = new Map<string, HostTensor>(
      [...tensors].filter(([n]) => n !== 'lm_head.weight'),
    );
    await writeFile(path, encodeSafetensors(without));
    await expect(loadModel(dir)).rejects.toThrow(
      /no tensor "lm_head\.weight" \(config says tie_word_embeddings: false\)/,
    );
    const wrong = new Map(tensors);
    wrong.set('model.norm.weight', { dtype: 'F32', shape: [31], data: new Float32Array(31) });
    await writeFile(path, encodeSafetensors(wrong));
    await expect(loadModel(dir)).rejects.toMatchObject({
      code: 'SHAPE_MISMATCH',
      message: expect.stringContaining(
        '"model.norm.weight" has shape [31], config.json implies [32]',
      ),
    });
  });

  it('loads a sharded checkpoint (model.safetensors.index.json) identically', async () => {
    const model = createRandomModel(TINY_CONFIG, 6);
    const dir = await mkdtemp(join(tmpdir(), 'ckpt-shard-'));
    await saveModel(model, dir);
    const single = join(dir, 'model.safetensors');
    const { tensors } = decodeSafetensors(new Uint8Array(await readFile(single)));
    const names = [...tensors.keys()];
    const half = Math.ceil(names.length / 2);
    const shards = [names.slice(0, half), names.slice(half)];
    const weightMap: Record<string, string> = {};
    for (const [i, shard] of shards.entries()) {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      await writeFile(
        join(dir, file),
        encodeSafetensors(new Map(shard.map((n) => [n, tensors.get(n)!]))),
      );
      for (const n of shard) weightMap[n] = file;
    }
    await rm(single);
    await writeFile(
      join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: {}, weight_map: weightMap }),
    );
    const loaded = await loadModel(dir);
    expect(await allValues(loaded.variables)).toEqual(await allValues(model.variables));
    loaded.dispose();
    model.dispose();
  });

  it('createRandomModel is deterministic per seed', async () => {
    const a = createRandomModel(TINY_CONFIG, 8);
    const b = createRandomModel(TINY_CONFIG, 8);
    const c = createRandomModel(TINY_CONFIG, 9);
    expect(await allValues(a.variables)).toEqual(await allValues(b.variables));
    expect((await c.weights.embed.blocks[0]!.data())[0]).not.toBe(
      (await a.weights.embed.blocks[0]!.data())[0],
    );
    for (const m of [a, b, c]) m.dispose();
  });
});
