// Models from weights held in memory (browser-safe): random weights, or a safetensors buffer with a
// config object and an optional tokenizer. Reading tensors one at a time from a Hugging Face
// folder, and saving one, are in node/checkpoint.ts.
import * as tf from '@tensorflow/tfjs-core';
import { holdConverted, releaseConverted } from './_internal/host-conversions.js';
import { type LlamaConfig, type LlamaConfigInput, parseLlamaConfig } from './config.js';
import { resolveBindingLimit } from './device-limits.js';
import { ModelError } from './errors.js';
import { LlamaModel } from './llama-model.js';
import {
  decodeFloatElements,
  headerLength,
  parseSafetensorsHeader,
  type SafetensorsEntry,
} from './safetensors.js';
import type { Tokenizer } from './tokenizer.js';
import { blockRowsOf, buildWeights, randomWeights, weightSpecs } from './weights.js';

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
  /**
   * Largest tensor in bytes one buffer binding may hold (default: the active backend's limit,
   * `deviceBindingLimitBytes()`; Infinity off webgpu). The embedding and an untied head larger
   * than this are stored in vocab blocks ({@link VocabMatrix}); set it small to test that path.
   */
  maxBindingBytes?: number;
}

/** Where {@link buildModel} reads tensors from: a checkpoint folder or decoded bytes. */
export interface TensorSource {
  /** All tensor names. */
  readonly names: string[];
  /** Header entry of a tensor, or undefined when absent. */
  entry(name: string): SafetensorsEntry | undefined;
  /** The raw little-endian bytes of one tensor (called once per weight, in order). */
  readBytes(name: string): Promise<Uint8Array>;
}

/**
 * Builds a model from a tensor source, reading one tensor at a time and checking each against the
 * config's shapes. Each tensor's bytes are converted to float32 one block of rows at a time (the
 * whole tensor unless a device limit splits a vocabulary matrix) and uploaded before the next, so
 * the host holds at most one tensor's file bytes and one block's float32 copy beyond the model.
 * `where` names the source in messages (a folder, a file name).
 * @throws ModelError `MISSING_TENSOR`, `SHAPE_MISMATCH`, `BAD_SAFETENSORS`
 */
export async function buildModel(
  config: LlamaConfig,
  source: TensorSource,
  where: string,
  options: LoadModelFromSafetensorsOptions,
): Promise<LlamaModel> {
  const specs = weightSpecs(config);
  const limit = resolveBindingLimit(options.maxBindingBytes, where);
  const tensors = new Map<string, tf.Tensor[]>();
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
      const blockRows = blockRowsOf(spec, limit);
      const bytes = await source.readBytes(spec.name);
      const rowElements = spec.shape.slice(1).reduce((a, b) => a * b, 1);
      const blocks: tf.Tensor[] = [];
      tensors.set(spec.name, blocks);
      let r0 = 0;
      for (const rows of blockRows) {
        const shape = [rows, ...spec.shape.slice(1)]; // checkpoint rows r0 .. r0+rows
        const data = decodeFloatElements(bytes, entry.dtype, r0 * rowElements, rows * rowElements);
        holdConverted(data.byteLength);
        blocks.push(
          tf.tidy(() => {
            const raw = tf.tensor(data, shape, 'float32');
            return spec.transposed ? tf.transpose(raw) : raw; // memory layout [in, out]
          }),
        );
        releaseConverted(data.byteLength);
        r0 += rows;
      }
    }
    const known = new Set(specs.map((s) => s.name));
    const extra = source.names.filter((n) => !known.has(n));
    if (extra.length > 0)
      options.logger?.warn(
        `${where}: ignoring ${extra.length} unused tensors (${extra.slice(0, 3).join(', ')}...)`,
      );
  } catch (e) {
    for (const t of tensors.values()) tf.dispose(t);
    throw e;
  }
  const weights = buildWeights(
    config,
    (spec) => tensors.get(spec.name)!,
    options.trainable ?? true,
    limit,
  );
  options.logger?.info(
    `loaded ${where}: ${config.num_hidden_layers} layers, D=${config.hidden_size}, V=${config.vocab_size}`,
  );
  return new LlamaModel(config, weights, options.tokenizer);
}

/**
 * A LlamaForCausalLM from a `config.json` object and the bytes of its `model.safetensors`, held in
 * memory (browser-safe: e.g. both fetched). F32, F16 and BF16 become float32 one tensor (or vocab
 * block) at a time, read in place from `safetensors`, so the host needs the file's bytes plus one
 * block's float32 copy; every tensor is checked against the config's shapes. Sharded checkpoints:
 * load each shard's bytes and join them with `loadModel` from `@atmanrl/model/node`, or merge
 * them first.
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
  const file = 'model.safetensors';
  const n = headerLength(bytes.subarray(0, 8), bytes.byteLength, file);
  const json = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  const { entries } = parseSafetensorsHeader(json, bytes.byteLength - 8 - n, file);
  const source: TensorSource = {
    names: [...entries.keys()],
    entry: (name) => entries.get(name),
    readBytes: async (name) => {
      const [begin, end] = entries.get(name)!.dataOffsets;
      return bytes.subarray(8 + n + begin, 8 + n + end); // a view: no copy
    },
  };
  return buildModel(parsed, source, 'model.safetensors', options);
}

/**
 * A model with random weights (matrices ~ N(0, initializer_range), norms 1) from a seeded host RNG:
 * the same seed gives the same weights on every backend.
 * @param config sizes plus optional Hugging Face fields (see {@link LlamaConfigInput})
 * @param seed integer seed
 * @param options tokenizer to attach; trainable (default true); maxBindingBytes (as in
 *   {@link LoadModelFromSafetensorsOptions}: vocab matrices over it are stored in blocks)
 */
export function createRandomModel(
  config: LlamaConfigInput | LlamaConfig,
  seed: number,
  options: { tokenizer?: Tokenizer; trainable?: boolean; maxBindingBytes?: number } = {},
): LlamaModel {
  const parsed = parseLlamaConfig(config, 'createRandomModel config');
  const limit = resolveBindingLimit(options.maxBindingBytes, 'createRandomModel');
  const model = new LlamaModel(
    parsed,
    randomWeights(parsed, seed, options.trainable ?? true, limit),
    options.tokenizer,
  );
  return model;
}
