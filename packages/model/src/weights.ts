// The Llama parameter set: Hugging Face tensor names and shapes, the in-memory layout (every matrix
// stored transposed, [in, out], so projections are plain matMuls; the vocabulary matrices in
// blocks where a device limit binds, vocab-matrix.ts), and random initialisation.
import * as tf from '@tensorflow/tfjs-core';
import type { LlamaConfig } from './config.js';
import { ModelError } from './errors.js';
import { createRng } from './rng.js';
import { VocabMatrix, vocabBlockSizes } from './vocab-matrix.js';

/** One decoder layer's variables (matrices stored [in, out], i.e. transposed from Hugging Face). */
export interface LlamaLayerWeights {
  inputNorm: tf.Variable; // [D]
  q: tf.Variable; // [D, H*hd]
  k: tf.Variable; // [D, Hkv*hd]
  v: tf.Variable; // [D, Hkv*hd]
  o: tf.Variable; // [H*hd, D]
  postNorm: tf.Variable; // [D]
  gate: tf.Variable; // [D, I]
  up: tf.Variable; // [D, I]
  down: tf.Variable; // [I, D]
}

/**
 * All variables. The embedding is stored `[D,V]` (transposed) so a tied head is a plain matMul;
 * it and an untied head are {@link VocabMatrix}es, in vocab blocks where a device limit binds.
 */
export interface LlamaWeights {
  embed: VocabMatrix; // [D, V]
  layers: LlamaLayerWeights[];
  norm: tf.Variable; // [D]
  /** Untied head `[D,V]`; undefined when `tie_word_embeddings`. */
  lmHead?: VocabMatrix;
}

/** A Hugging Face tensor: its name, its shape on disk, and whether memory holds its transpose. */
export interface WeightSpec {
  name: string;
  /** Shape in the checkpoint (Hugging Face layout, `[out, in]` for matrices). */
  shape: number[];
  /** True for matrices: memory holds the transpose. */
  transposed: boolean;
  /** Key path into {@link LlamaWeights}. */
  key: { layer?: number; field: keyof LlamaLayerWeights | 'embed' | 'norm' | 'lmHead' };
}

/** Every tensor of a LlamaForCausalLM checkpoint, in Hugging Face naming. */
export function weightSpecs(config: LlamaConfig): WeightSpec[] {
  const d = config.hidden_size;
  const qDim = config.num_attention_heads * config.head_dim;
  const kvDim = config.num_key_value_heads * config.head_dim;
  const inter = config.intermediate_size;
  const specs: WeightSpec[] = [
    {
      name: 'model.embed_tokens.weight',
      shape: [config.vocab_size, d],
      transposed: true,
      key: { field: 'embed' },
    },
  ];
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const p = `model.layers.${i}`;
    const m = (
      name: string,
      shape: number[],
      field: keyof LlamaLayerWeights,
      transposed = true,
    ): WeightSpec => ({
      name: `${p}.${name}`,
      shape,
      transposed,
      key: { layer: i, field },
    });
    specs.push(
      m('input_layernorm.weight', [d], 'inputNorm', false),
      m('self_attn.q_proj.weight', [qDim, d], 'q'),
      m('self_attn.k_proj.weight', [kvDim, d], 'k'),
      m('self_attn.v_proj.weight', [kvDim, d], 'v'),
      m('self_attn.o_proj.weight', [d, qDim], 'o'),
      m('post_attention_layernorm.weight', [d], 'postNorm', false),
      m('mlp.gate_proj.weight', [inter, d], 'gate'),
      m('mlp.up_proj.weight', [inter, d], 'up'),
      m('mlp.down_proj.weight', [d, inter], 'down'),
    );
  }
  specs.push({ name: 'model.norm.weight', shape: [d], transposed: false, key: { field: 'norm' } });
  if (!config.tie_word_embeddings) {
    specs.push({
      name: 'lm_head.weight',
      shape: [config.vocab_size, d],
      transposed: true,
      key: { field: 'lmHead' },
    });
  }
  return specs;
}

/** Whether a spec is a vocabulary matrix (embedding or LM head), stored as a {@link VocabMatrix}. */
export function isVocabSpec(spec: WeightSpec): boolean {
  return spec.key.field === 'embed' || spec.key.field === 'lmHead';
}

/** The variables of a spec: one, or a vocabulary matrix's blocks in vocab order. */
export function variablesOf(weights: LlamaWeights, spec: WeightSpec): tf.Variable[] {
  const { layer, field } = spec.key;
  if (layer !== undefined) return [weights.layers[layer]![field as keyof LlamaLayerWeights]];
  if (field === 'norm') return [weights.norm];
  return [...(weights[field as 'embed' | 'lmHead'] as VocabMatrix).blocks];
}

/**
 * Checkpoint rows per stored block of a spec under a per-binding limit (float32): one block for
 * everything that fits; vocabulary matrices over the limit split by token rows.
 * @throws ModelError `DEVICE_LIMIT` for a layer matrix over the limit (only vocab matrices split)
 */
export function blockRowsOf(spec: WeightSpec, limitBytes: number): number[] {
  const rows = spec.shape[0]!;
  const rowElements = spec.shape.slice(1).reduce((a, b) => a * b, 1);
  if (isVocabSpec(spec)) return vocabBlockSizes(rows, rowElements, limitBytes, spec.name);
  const bytes = 4 * rows * rowElements;
  if (bytes > limitBytes) {
    throw new ModelError(
      'DEVICE_LIMIT',
      `${spec.name}: ${bytes} bytes exceed the device's per-binding limit of ${limitBytes} bytes; only the embedding and LM head are split into blocks, so this model needs a backend with larger limits (webgpu: maxStorageBufferBindingSize)`,
    );
  }
  return [rows];
}

/**
 * Build {@link LlamaWeights} from a function producing each tensor in memory layout.
 * @param make receives the spec and its checkpoint rows per block ({@link blockRowsOf}), returns
 *   one tensor per block in memory shape (transposed for matrices: `[D, rows_k]` for a vocabulary
 *   block); ownership passes to the new variables
 * @param limitBytes per-binding limit (default: none)
 */
export function buildWeights(
  config: LlamaConfig,
  make: (spec: WeightSpec, blockRows: number[]) => tf.Tensor[],
  trainable = true,
  limitBytes = Number.POSITIVE_INFINITY,
): LlamaWeights {
  const layers: Partial<LlamaLayerWeights>[] = Array.from(
    { length: config.num_hidden_layers },
    () => ({}),
  );
  const top: Partial<Pick<LlamaWeights, 'embed' | 'norm' | 'lmHead'>> = {};
  const made: tf.Variable[] = [];
  try {
    for (const spec of weightSpecs(config)) {
      const tensors = make(spec, blockRowsOf(spec, limitBytes));
      const vars = tensors.map((t) => {
        const v = tf.variable(t, trainable);
        t.dispose();
        made.push(v);
        return v;
      });
      const { layer, field } = spec.key;
      if (layer !== undefined) layers[layer]![field as keyof LlamaLayerWeights] = vars[0]!;
      else if (field === 'norm') top.norm = vars[0]!;
      else top[field as 'embed' | 'lmHead'] = new VocabMatrix(vars);
    }
  } catch (e) {
    for (const v of made) v.dispose();
    throw e;
  }
  const weights: LlamaWeights = {
    embed: top.embed!,
    layers: layers as LlamaLayerWeights[],
    norm: top.norm!,
  };
  if (top.lmHead) weights.lmHead = top.lmHead;
  return weights;
}

/** Memory-layout shape of a spec. */
export function memoryShape(spec: WeightSpec): number[] {
  return spec.transposed ? [spec.shape[1]!, spec.shape[0]!] : spec.shape;
}

/**
 * Random weights as in Hugging Face `_init_weights`: matrices ~ N(0, initializer_range), norms = 1.
 * Drawn on the host from a seeded RNG, so every backend gets the same numbers.
 */
export function randomWeights(
  config: LlamaConfig,
  seed: number,
  trainable = true,
  limitBytes = Number.POSITIVE_INFINITY,
): LlamaWeights {
  const rng = createRng(seed);
  const std = config.initializer_range;
  return buildWeights(
    config,
    (spec, blockRows) => {
      const shape = memoryShape(spec);
      const n = shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(n);
      if (spec.transposed) for (let i = 0; i < n; i++) data[i] = rng.normal() * std;
      else data.fill(1);
      if (blockRows.length === 1) return [tf.tensor(data, shape, 'float32')];
      // Vocab blocks are column ranges of the [D,V] memory layout: same numbers as unsplit.
      const [d, v] = shape as [number, number];
      let c0 = 0;
      return blockRows.map((w) => {
        const block = new Float32Array(d * w); // [D, w]
        for (let r = 0; r < d; r++) block.set(data.subarray(r * v + c0, r * v + c0 + w), r * w);
        c0 += w;
        return tf.tensor(block, [d, w], 'float32');
      });
    },
    trainable,
    limitBytes,
  );
}
