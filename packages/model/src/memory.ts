// Memory estimates for sizing micro-batches (issue 22): bytes of activations that one token of a
// policy update (forward + backward with the chunked head) and one mask-fit row hold at their peak,
// the fixed bytes of a model's state, and the wasm heap limit. Counts float32 tensors the tfjs tape
// keeps per layer (see the comments) times a measured factor; an upper estimate, checked against
// tf.profile's peak in memory.test.ts (estimate >= measured, < 3x measured). Leaves out backend-specific overheads other than XNNPACK's packed weights.
import type { LlamaConfig } from './config.js';
import { defaultChunkRows } from './head-log-probs.js';

/**
 * Largest wasm heap tfjs-backend-wasm 4.22 can grow to (4 GiB minus one 64 KiB page): every tensor,
 * XNNPACK's packed weights and the tape's saved activations must fit in it.
 */
export const WASM_HEAP_LIMIT_BYTES = 4294901760;

const F32 = 4;
/**
 * Measured ratio of the tape's peak to the tensors counted in `layerElements` (broadcast copies,
 * masks, gradient buffers): 3.4-3.6 on wasm with tfjs 4.22 for the configs in memory.test.ts.
 */
const TAPE_FACTOR = 4;

/** Tensor elements one layer keeps per token with `keys` attended keys (forward, for the tape). */
function layerElements(c: LlamaConfig, keys: number): number {
  const d = c.hidden_size;
  const hd = c.head_dim;
  const q = c.num_attention_heads * hd;
  const kv = c.num_key_value_heads * hd;
  const norms = 2 * 3 * d; // two RMSNorms: x², scale, x·w
  const projections = 6 * q + 6 * kv + 2 * kv; // q and k: matMul, transpose, RoPE (4); v: matMul, transpose
  const scores = 5 * c.num_attention_heads * keys; // QKᵀ, scale, bias/mask, exp, softmax
  const output = 2 * q + 2 * d; // PV, merge transpose, o-projection, residual
  const mlp = 5 * c.intermediate_size + 2 * d; // gate, sigmoid, gate·σ, up, product; down, residual
  return norms + projections + scores + output + mlp;
}

/** Options of {@link trainTokenBytes} and {@link maskFitRowBytes}. */
export interface TrainMemoryOptions {
  /**
   * Activation recomputation (`LlamaModel.recompute`): each layer keeps only its input for the
   * backward pass and reruns its forward there, so the tape holds one layer's tensors at a time.
   */
  recompute?: boolean;
}

/**
 * Peak activation bytes per token of a policy-update forward + backward (`sequenceLogProbs` /
 * GRPO's completion log-probs with the chunked head) for sequences of `seqLen` tokens (prompt +
 * completion): every layer's saved tensors plus one layer's gradients, or with `recompute` every
 * layer's input and output plus one layer's recomputed tensors and their gradients. Multiply by
 * the tokens of a micro-batch (B · seqLen) and add {@link headChunkBytes} and
 * {@link modelStateBytes}.
 */
export function trainTokenBytes(
  config: LlamaConfig,
  seqLen: number,
  options: TrainMemoryOptions = {},
): number {
  const perLayer = layerElements(config, seqLen);
  const embed = 2 * config.hidden_size; // gather + transpose
  const finalNorm = 3 * config.hidden_size;
  const layers = config.num_hidden_layers;
  if (options.recompute === true) {
    const boundaries = 2 * layers * config.hidden_size; // each layer's saved input and its output
    return F32 * (TAPE_FACTOR * (2 * perLayer + embed + finalNorm) + boundaries);
  }
  return F32 * TAPE_FACTOR * ((layers + 1) * perLayer + embed + finalNorm);
}

/**
 * Transient bytes of one head chunk (`[chunkRows, V]` logits, softmax, one-hot, gradient) when the
 * head sees `rows` rows in all (default: a full chunk).
 */
export function headChunkBytes(config: LlamaConfig, rows = Number.POSITIVE_INFINITY): number {
  const v = config.vocab_size;
  return F32 * 6 * Math.min(rows, defaultChunkRows(v)) * v;
}

/** Shape of one mask-fit row (item) for {@link maskFitRowBytes}. */
export interface MaskFitRowShape {
  /** Prompt length P (its first P-1 tokens are served from the KV cache). */
  promptLen: number;
  /** Recomputed suffix S = 1 + CoT + delimiter + answer. */
  suffixLen: number;
  /** Gold answer tokens (rows that go through the head). */
  answerLen: number;
}

/**
 * Peak bytes one item of a mask fit adds (θ-gradient forward + backward with prefix reuse): the
 * suffix tokens' saved tensors with P-1+S keys, the cached prefix keys/values, and the answer rows'
 * `[A,V]` logits (`options.recompute` as in {@link trainTokenBytes}). Multiply by the items of a
 * micro-batch (the fit's `maxBatchSize`).
 */
export function maskFitRowBytes(
  config: LlamaConfig,
  row: MaskFitRowShape,
  options: TrainMemoryOptions = {},
): number {
  const keys = row.promptLen - 1 + row.suffixLen;
  const suffix = row.suffixLen * trainTokenBytes(config, keys, options);
  const kv = config.num_key_value_heads * config.head_dim;
  const cache = F32 * config.num_hidden_layers * 2 * kv * (row.promptLen - 1);
  const head = F32 * 4 * row.answerLen * config.vocab_size; // logits, log-softmax, product, gradient
  return suffix + cache + head;
}

/**
 * Fixed bytes of a model during training: weights, their gradients and AdamW's two moments when
 * `trainable` (else the weights alone), plus XNNPACK's packed copy of every weight matrix on wasm.
 */
export function modelStateBytes(config: LlamaConfig, options: { trainable: boolean }): number {
  const d = config.hidden_size;
  const q = config.num_attention_heads * config.head_dim;
  const kv = config.num_key_value_heads * config.head_dim;
  const layer = 2 * d + d * q + 2 * d * kv + q * d + 3 * d * config.intermediate_size;
  const embed = d * config.vocab_size;
  const head = config.tie_word_embeddings ? 0 : embed;
  const params = config.num_hidden_layers * layer + embed + head + d;
  const packed = params - config.num_hidden_layers * 2 * d - d; // matrices only
  return F32 * ((options.trainable ? 4 : 1) * params + packed);
}
