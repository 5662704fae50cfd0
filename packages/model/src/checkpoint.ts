// Checkpoints in the Hugging Face folder layout: config.json, generation_config.json,
// model.safetensors (or shards + model.safetensors.index.json), tokenizer.json, tokenizer_config.json.
// Loading streams one tensor at a time; saving reads one variable back at a time.
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  type LlamaConfig,
  type LlamaConfigInput,
  loadLlamaConfig,
  parseLlamaConfig,
  toHfConfigJson,
} from './config.js';
import { ModelError } from './errors.js';
import { LlamaModel } from './llama-model.js';
import { SafetensorsCheckpoint, type SafetensorsDtype, writeSafetensors } from './safetensors.js';
import { HfTokenizer, loadTokenizer, type Tokenizer } from './tokenizer.js';
import { buildWeights, randomWeights, variableOf, weightSpecs } from './weights.js';

/** Minimal logger (libraries never call console). */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /** Create trainable variables (default true); false for a frozen reference model. */
  trainable?: boolean;
  /** Load the tokenizer when tokenizer.json exists (default true). */
  loadTokenizer?: boolean;
  logger?: Logger;
}

/**
 * Load a LlamaForCausalLM from a Hugging Face folder. Tensors are read one at a time (F32, F16 and
 * BF16 become float32) and checked against the config's shapes.
 * @throws ModelError `BAD_CONFIG`, `BAD_SAFETENSORS`, `MISSING_TENSOR`, `SHAPE_MISMATCH`, `IO`
 */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<LlamaModel> {
  const config = await loadLlamaConfig(join(dir, 'config.json'));
  const ckpt = await SafetensorsCheckpoint.open(dir);
  const specs = weightSpecs(config);
  const tensors = new Map<string, tf.Tensor>();
  try {
    for (const spec of specs) {
      const entry = ckpt.entry(spec.name);
      if (!entry) {
        const hint =
          spec.name === 'lm_head.weight' ? ' (config says tie_word_embeddings: false)' : '';
        throw new ModelError(
          'MISSING_TENSOR',
          `${dir}: checkpoint has no tensor "${spec.name}"${hint}`,
        );
      }
      if (
        entry.shape.length !== spec.shape.length ||
        entry.shape.some((s, i) => s !== spec.shape[i])
      ) {
        throw new ModelError(
          'SHAPE_MISMATCH',
          `${dir}: tensor "${spec.name}" has shape [${entry.shape}], config.json implies [${spec.shape}]`,
        );
      }
      if (entry.dtype === 'I32' || entry.dtype === 'I64') {
        throw new ModelError(
          'BAD_SAFETENSORS',
          `${dir}: tensor "${spec.name}" has integer dtype ${entry.dtype}; expected F32, F16 or BF16`,
        );
      }
      const host = await ckpt.read(spec.name);
      const t = tf.tidy(() => {
        const raw = tf.tensor(host.data as Float32Array, spec.shape, 'float32');
        return spec.transposed ? tf.transpose(raw) : raw; // memory layout [in, out]
      });
      tensors.set(spec.name, t);
    }
    const known = new Set(specs.map((s) => s.name));
    const extra = ckpt.names.filter((n) => !known.has(n));
    if (extra.length > 0)
      options.logger?.warn(
        `${dir}: ignoring ${extra.length} unused tensors (${extra.slice(0, 3).join(', ')}...)`,
      );
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw e;
  } finally {
    await ckpt.close();
  }
  const weights = buildWeights(
    config,
    (spec) => tensors.get(spec.name)!,
    options.trainable ?? true,
  );
  let tokenizer: HfTokenizer | undefined;
  const hasTokenizer = await stat(join(dir, 'tokenizer.json')).then(
    () => true,
    () => false,
  );
  if ((options.loadTokenizer ?? true) && hasTokenizer) tokenizer = await loadTokenizer(dir);
  options.logger?.info(
    `loaded ${dir}: ${config.num_hidden_layers} layers, D=${config.hidden_size}, V=${config.vocab_size}`,
  );
  return new LlamaModel(config, weights, tokenizer);
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
        const v = variableOf(model.weights, spec);
        const t = spec.transposed ? tf.transpose(v) : v.clone(); // back to [out, in]
        try {
          return (await t.data()) as Float32Array;
        } finally {
          t.dispose();
        }
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

/**
 * A model with random weights (matrices ~ N(0, initializer_range), norms 1) from a seeded host RNG:
 * the same seed gives the same weights on every backend.
 * @param config sizes plus optional Hugging Face fields (see {@link LlamaConfigInput})
 * @param seed integer seed
 * @param options tokenizer to attach; trainable (default true)
 */
export function createRandomModel(
  config: LlamaConfigInput | LlamaConfig,
  seed: number,
  options: { tokenizer?: Tokenizer; trainable?: boolean } = {},
): LlamaModel {
  const parsed = parseLlamaConfig(config, 'createRandomModel config');
  const model = new LlamaModel(
    parsed,
    randomWeights(parsed, seed, options.trainable ?? true),
    options.tokenizer,
  );
  return model;
}
