// Checkpoints in the Hugging Face folder layout (Node): config.json, generation_config.json,
// model.safetensors (or shards + model.safetensors.index.json), tokenizer.json, tokenizer_config.json.
// Loading streams one tensor at a time; saving reads one variable back at a time.
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { buildModel, type Logger } from '../checkpoint.js';
import { type LlamaConfig, toHfConfigJson } from '../config.js';
import type { LlamaModel } from '../llama-model.js';
import type { SafetensorsDtype } from '../safetensors.js';
import { HfTokenizer } from '../tokenizer.js';
import { variablesOf, weightSpecs } from '../weights.js';
import { loadLlamaConfig } from './config.js';
import { SafetensorsCheckpoint, writeSafetensors } from './safetensors-files.js';
import { loadTokenizer } from './tokenizer.js';

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /** Create trainable variables (default true); false for a frozen reference model. */
  trainable?: boolean;
  /** Load the tokenizer when tokenizer.json exists (default true). */
  loadTokenizer?: boolean;
  logger?: Logger;
  /**
   * Largest tensor in bytes one buffer binding may hold (default: the active backend's limit);
   * a larger embedding or head is stored in vocab blocks. See `LoadModelFromSafetensorsOptions`.
   */
  maxBindingBytes?: number;
}

/**
 * Load a LlamaForCausalLM from a Hugging Face folder. Tensors are read one at a time (F32, F16 and
 * BF16 become float32, one tensor or vocab block at a time, so the host holds one tensor's file
 * bytes and one block's float32 copy beyond the model) and checked against the config's shapes.
 * @throws ModelError `BAD_CONFIG`, `BAD_SAFETENSORS`, `MISSING_TENSOR`, `SHAPE_MISMATCH`, `IO`
 */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<LlamaModel> {
  const config = await loadLlamaConfig(join(dir, 'config.json'));
  const hasTokenizer = await stat(join(dir, 'tokenizer.json')).then(
    () => true,
    () => false,
  );
  const tokenizer =
    (options.loadTokenizer ?? true) && hasTokenizer ? await loadTokenizer(dir) : undefined;
  const ckpt = await SafetensorsCheckpoint.open(dir);
  try {
    return await buildModel(config, ckpt, dir, {
      ...(options.trainable === undefined ? {} : { trainable: options.trainable }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(options.maxBindingBytes === undefined
        ? {}
        : { maxBindingBytes: options.maxBindingBytes }),
      ...(tokenizer === undefined ? {} : { tokenizer }),
    });
  } finally {
    await ckpt.close();
  }
}

/** Options of {@link saveModel}. */
export interface SaveModelOptions {
  /** Stored float type (default F32, bit-exact round trip). */
  dtype?: Extract<SafetensorsDtype, 'F32' | 'F16' | 'BF16'>;
}

/**
 * Save in the Hugging Face folder layout (config.json, generation_config.json, model.safetensors,
 * and the tokenizer files when the model has an {@link HfTokenizer}). The weights file is written
 * under a temporary name and renamed, so a crash never leaves a half-written model.safetensors.
 */
export async function saveModel(
  model: LlamaModel,
  dir: string,
  options: SaveModelOptions = {},
): Promise<void> {
  const dtype = options.dtype ?? 'F32';
  await mkdir(dir, { recursive: true });
  const config: LlamaConfig = {
    ...model.config,
    torch_dtype: { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[dtype],
  };
  await writeFile(join(dir, 'config.json'), `${JSON.stringify(toHfConfigJson(config), null, 2)}\n`);
  const gen: Record<string, unknown> = { _from_model_config: true };
  if (config.bos_token_id !== undefined) gen['bos_token_id'] = config.bos_token_id;
  if (config.eos_token_id.length > 0)
    gen['eos_token_id'] =
      config.eos_token_id.length === 1 ? config.eos_token_id[0] : config.eos_token_id;
  if (config.pad_token_id !== undefined) gen['pad_token_id'] = config.pad_token_id;
  await writeFile(join(dir, 'generation_config.json'), `${JSON.stringify(gen, null, 2)}\n`);
  const tmp = join(dir, 'model.safetensors.tmp');
  await writeSafetensors(
    tmp,
    weightSpecs(config).map((spec) => ({
      name: spec.name,
      dtype,
      shape: spec.shape,
      data: async () => {
        // One read per block: a split vocab matrix's blocks are consecutive token rows.
        const blocks = variablesOf(model.weights, spec);
        const out = blocks.length === 1 ? null : new Float32Array(spec.shape[0]! * spec.shape[1]!);
        let at = 0;
        for (const v of blocks) {
          const t = spec.transposed ? tf.transpose(v) : v.clone(); // back to [out, in]
          try {
            const data = (await t.data()) as Float32Array;
            if (out === null) return data;
            out.set(data, at);
            at += data.length;
          } finally {
            t.dispose();
          }
        }
        return out!;
      },
    })),
    { format: 'pt' },
  );
  await rename(tmp, join(dir, 'model.safetensors'));
  const tok = model.tokenizer;
  if (tok instanceof HfTokenizer) {
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tok.files.tokenizerJson));
    await writeFile(
      join(dir, 'tokenizer_config.json'),
      `${JSON.stringify(tok.files.tokenizerConfig, null, 2)}\n`,
    );
  }
}
