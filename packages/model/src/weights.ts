// The Llama parameter set: Hugging Face tensor names and shapes, the in-memory layout (every matrix
// stored transposed, [in, out], so projections are plain matMuls), and random initialisation.
import * as tf from '@tensorflow/tfjs-core';
import type { LlamaConfig } from './config.js';
import { createRng } from './rng.js';

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

/** All variables. The embedding is stored `[D,V]` (transposed) so a tied head is a plain matMul. */
export interface LlamaWeights {
  embed: tf.Variable; // [D, V]
  layers: LlamaLayerWeights[];
  norm: tf.Variable; // [D]
  /** Untied head `[D,V]`; undefined when `tie_word_embeddings`. */
  lmHead?: tf.Variable;
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

/** Look up the variable of a spec. */
export function variableOf(weights: LlamaWeights, spec: WeightSpec): tf.Variable {
  const { layer, field } = spec.key;
  if (layer !== undefined) return weights.layers[layer]![field as keyof LlamaLayerWeights];
  return weights[field as 'embed' | 'norm' | 'lmHead']!;
}

/**
 * Build {@link LlamaWeights} from a function producing each tensor in memory layout.
 * @param make receives the spec, returns a tensor of the memory shape (transposed for matrices);
 *   ownership passes to the new variable
 */
export function buildWeights(
  config: LlamaConfig,
  make: (spec: WeightSpec) => tf.Tensor,
  trainable = true,
): LlamaWeights {
  const layers: Partial<LlamaLayerWeights>[] = Array.from(
    { length: config.num_hidden_layers },
    () => ({}),
  );
  const top: Partial<Pick<LlamaWeights, 'embed' | 'norm' | 'lmHead'>> = {};
  for (const spec of weightSpecs(config)) {
    const t = make(spec);
    const v = tf.variable(t, trainable);
    t.dispose();
    const { layer, field } = spec.key;
    if (layer !== undefined) layers[layer]![field as keyof LlamaLayerWeights] = v;
    else top[field as 'embed' | 'norm' | 'lmHead'] = v;
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
export function randomWeights(config: LlamaConfig, seed: number, trainable = true): LlamaWeights {
  const rng = createRng(seed);
  const std = config.initializer_range;
  return buildWeights(
    config,
    (spec) => {
      const shape = memoryShape(spec);
      const n = shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(n);
      if (spec.transposed) for (let i = 0; i < n; i++) data[i] = rng.normal() * std;
      else data.fill(1);
      return tf.tensor(data, shape, 'float32');
    },
    trainable,
  );
}
