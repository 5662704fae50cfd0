// Models from weights held in memory (browser-safe): random weights, or a safetensors buffer with a
// config object and an optional tokenizer. Reading tensors one at a time from a Hugging Face
// folder, and saving one, are in node/checkpoint.ts.
import * as tf from '@tensorflow/tfjs-core';
import { type LlamaConfig, type LlamaConfigInput, parseLlamaConfig } from './config.js';
import { ModelError } from './errors.js';
import { LlamaModel } from './llama-model.js';
import { decodeSafetensors, type HostTensor, type SafetensorsEntry } from './safetensors.js';
import type { Tokenizer } from './tokenizer.js';
import { buildWeights, randomWeights, weightSpecs } from './weights.js';

/** Minimal logger (libraries never call console). */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

/** Options of {@link loadModelFromSafetensors}. */
export interface LoadModelFromSafetensorsOptions {
  /** Create trainable variables (default true); false for a frozen reference model. */
  trainable?: boolean;
  /** Tokenizer to attach, e.g. `new HfTokenizer(tokenizerJson, tokenizerConfig)`. */
  tokenizer?: Tokenizer;
  logger?: Logger;
}

/** Where {@link buildModel} reads tensors from: a checkpoint folder or decoded bytes. */
export interface TensorSource {
  /** All tensor names. */
  readonly names: string[];
  /** Header entry of a tensor, or undefined when absent. */
  entry(name: string): SafetensorsEntry | undefined;
  /** Read one tensor (called once per weight, in order). */
  read(name: string): Promise<HostTensor>;
}

/**
 * Builds a model from a tensor source, reading one tensor at a time and checking each against the
 * config's shapes. `where` names the source in messages (a folder, a file name).
 * @throws ModelError `MISSING_TENSOR`, `SHAPE_MISMATCH`, `BAD_SAFETENSORS`
 */
export async function buildModel(
  config: LlamaConfig,
  source: TensorSource,
  where: string,
  options: LoadModelFromSafetensorsOptions,
): Promise<LlamaModel> {
  const specs = weightSpecs(config);
  const tensors = new Map<string, tf.Tensor>();
  try {
    for (const spec of specs) {
      const entry = source.entry(spec.name);
      if (!entry) {
        const hint =
          spec.name === 'lm_head.weight' ? ' (config says tie_word_embeddings: false)' : '';
        throw new ModelError(
          'MISSING_TENSOR',
          `${where}: checkpoint has no tensor "${spec.name}"${hint}`,
        );
      }
      if (
        entry.shape.length !== spec.shape.length ||
        entry.shape.some((s, i) => s !== spec.shape[i])
      ) {
        throw new ModelError(
          'SHAPE_MISMATCH',
          `${where}: tensor "${spec.name}" has shape [${entry.shape}], config.json implies [${spec.shape}]`,
        );
      }
      if (entry.dtype === 'I32' || entry.dtype === 'I64') {
        throw new ModelError(
          'BAD_SAFETENSORS',
          `${where}: tensor "${spec.name}" has integer dtype ${entry.dtype}; expected F32, F16 or BF16`,
        );
      }
      const host = await source.read(spec.name);
      const t = tf.tidy(() => {
        const raw = tf.tensor(host.data as Float32Array, spec.shape, 'float32');
        return spec.transposed ? tf.transpose(raw) : raw; // memory layout [in, out]
      });
      tensors.set(spec.name, t);
    }
    const known = new Set(specs.map((s) => s.name));
    const extra = source.names.filter((n) => !known.has(n));
    if (extra.length > 0)
      options.logger?.warn(
        `${where}: ignoring ${extra.length} unused tensors (${extra.slice(0, 3).join(', ')}...)`,
      );
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw e;
  }
  const weights = buildWeights(
    config,
    (spec) => tensors.get(spec.name)!,
    options.trainable ?? true,
  );
  options.logger?.info(
    `loaded ${where}: ${config.num_hidden_layers} layers, D=${config.hidden_size}, V=${config.vocab_size}`,
  );
  return new LlamaModel(config, weights, options.tokenizer);
}

/**
 * A LlamaForCausalLM from a `config.json` object and the bytes of its `model.safetensors`, held in
 * memory (browser-safe: e.g. both fetched). F32, F16 and BF16 become float32; every tensor is
 * checked against the config's shapes. Sharded checkpoints: load each shard's bytes and join them
 * with `loadModel` from `@atmanrl/model/node`, or merge them first.
 * @param config the parsed `config.json` (validated here)
 * @param safetensors the file's bytes
 * @throws ModelError `BAD_CONFIG`, `BAD_SAFETENSORS`, `MISSING_TENSOR`, `SHAPE_MISMATCH`
 */
export async function loadModelFromSafetensors(
  config: unknown,
  safetensors: Uint8Array | ArrayBuffer,
  options: LoadModelFromSafetensorsOptions = {},
): Promise<LlamaModel> {
  const parsed = parseLlamaConfig(config, 'config.json');
  const bytes = safetensors instanceof Uint8Array ? safetensors : new Uint8Array(safetensors);
  const { tensors } = decodeSafetensors(bytes, 'model.safetensors');
  const source: TensorSource = {
    names: [...tensors.keys()],
    entry: (name) => {
      const t = tensors.get(name);
      return t && { dtype: t.dtype, shape: t.shape, dataOffsets: [0, 0] };
    },
    read: async (name) => tensors.get(name)!,
  };
  return buildModel(parsed, source, 'model.safetensors', options);
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
