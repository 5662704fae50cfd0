// The CausalLM contract (CONTRACTS.md): what saliency, GRPO and eval rely on, independent of Llama.
import type { QueryRows } from '@atmanrl/attention-mask';
import type * as tf from '@tensorflow/tfjs-core';
import type { LlamaConfig } from './config.js';
import type { HeadLogProbs, HeadLogProbsOptions } from './head-log-probs.js';
import type { KVCache } from './kv-cache.js';
import type { Rng } from './rng.js';
import type { Tokenizer } from './tokenizer.js';

/** Options of `CausalLM.forward`. Tpast = cache length (0 without a cache). */
export interface ForwardOptions {
  /** `[B, Tpast+T]` additive per-key attention bias in logit units (-Infinity removes a key). Differentiable. */
  attentionBias?: tf.Tensor2D;
  /** Query rows that get `attentionBias` (default 'all'; key-position ranges are absolute). */
  queries?: QueryRows;
  /** `[B, Tpast+T]` AtMan multiplicative suppression factors in [0,1]. */
  suppress?: tf.Tensor2D;
  /** `[B, Tpast+T]` 1 = real token, 0 = padding (left padding for batched prompts). */
  attentionMask?: tf.Tensor2D;
  /** `[B,T]` int32 positions; default `cumsum(attentionMask)-1` (clamped at 0) or `Tpast + arange(T)`. */
  positionIds?: tf.Tensor2D;
  /** Past keys/values from `createCache`; extended by this call unless `updateCache: false`. */
  cache?: KVCache;
  /** Default true. false = read the cache without extending it (safe inside tf.grad). */
  updateCache?: boolean;
  /** `[B,T,D]` input embeddings used instead of `inputIds` (gradient x input). */
  inputEmbeds?: tf.Tensor3D;
  /**
   * Rows `[start, end)` of this call's T rows whose output is wanted: the result has `end-start`
   * rows instead of T, and the last decoder layer computes its queries, attention and MLP for
   * those rows only (the keys and values of every row, and so a cache update, are unchanged). The
   * rows equal those of the full output. For losses that read a few rows (the mask fit's answer).
   */
  outputRows?: { start: number; end: number };
}

/** Options of `CausalLM.generate`. */
export interface GenerateOptions {
  /** Maximum number of generated tokens per prompt. */
  maxNewTokens: number;
  /** 0 (default) = greedy; otherwise logits are divided by it before sampling. */
  temperature?: number;
  /** Keep only the k most likely tokens when sampling (0/undefined = off). */
  topK?: number;
  /** Nucleus sampling: keep the smallest set with cumulative probability >= topP (1/undefined = off). */
  topP?: number;
  /** Seed of a fresh RNG (default 0); ignored when `rng` is given. */
  seed?: number;
  /** RNG to draw from (its state advances; lets callers resume exactly). */
  rng?: Rng;
  /** Stop a sequence once its decoded text contains one of these (the string is kept, as in HF). */
  stopStrings?: string[];
  /** End-of-sequence ids (default: config `eos_token_id` and the tokenizer's EOS ids). */
  eosTokenIds?: number[];
  /** Use the KV cache (default true); false recomputes the whole sequence each step. */
  useCache?: boolean;
}

/** One generated completion. */
export interface GenerationResult {
  /** Generated ids (prompt excluded), including the EOS token when one was produced. */
  tokenIds: number[];
  /** Decoded `tokenIds` with special tokens skipped ('' when the model has no tokenizer). */
  text: string;
  /**
   * Per generated token: log p(token) under the policy's temperature-scaled distribution
   * (softmax(logits / temperature), temperature 1 when greedy), before top-k/top-p truncation —
   * what TRL's GRPO recomputes as the "old" log-probs.
   */
  logProbs: number[];
  /** True when maxNewTokens was reached without EOS or a stop string. */
  truncated: boolean;
}

/** A causal language model usable by saliency, GRPO and eval. */
export interface CausalLM {
  readonly config: LlamaConfig;
  readonly tokenizer?: Tokenizer;
  /** An empty KV cache for `batchSize` rows. */
  createCache(batchSize: number): KVCache;
  /** `[B,T]` int32 -> `[B,T,D]` embeddings. Call in tf.tidy. */
  embed(inputIds: tf.Tensor2D): tf.Tensor3D;
  /** `[B,T]` int32 (or null with `inputEmbeds`) -> logits `[B,T,V]`. Synchronous; call in tf.tidy. */
  forward(inputIds: tf.Tensor2D | null, options?: ForwardOptions): tf.Tensor3D;
  /**
   * `forward` without the head: final hidden states `[B,T,D]` (after the final norm), so callers
   * can apply the head to the rows they need only (`head`, `headLogProbs`). Same options as
   * `forward`; `forward(x, o)` equals `head(hiddenStates(x, o))`. Call in tf.tidy.
   */
  hiddenStates(inputIds: tf.Tensor2D | null, options?: ForwardOptions): tf.Tensor3D;
  /** The output head: hidden states `[B,T,D]` -> logits `[B,T,V]`. Call in tf.tidy. */
  head(hidden: tf.Tensor3D): tf.Tensor3D;
  /**
   * Per-row log-prob of `targets[i]` and entropy under the head, for hidden states `[N,D]`,
   * computed in row chunks with its own gradient so `[N,V]` logits are never held for the
   * backward pass (see `headLogProbs` in head-log-probs.ts). Call in tf.tidy / tf.variableGrads.
   */
  headLogProbs(
    hidden: tf.Tensor2D,
    targets: ArrayLike<number>,
    options?: HeadLogProbsOptions,
  ): HeadLogProbs;
  /** Generate completions for prompts of any lengths (batched with left padding). */
  generate(promptIds: number[][], options: GenerateOptions): Promise<GenerationResult[]>;
  /**
   * Per-token log-probs of `completionIds[b]` after `promptIds[b]`: logProbs `[B,Tc]`
   * (differentiable w.r.t. trainableVariables) and mask `[B,Tc]` (1 on real completion tokens).
   */
  sequenceLogProbs(
    promptIds: number[][],
    completionIds: number[][],
    options?: { temperature?: number },
  ): { logProbs: tf.Tensor2D; mask: tf.Tensor2D };
  readonly trainableVariables: tf.Variable[];
  dispose(): void;
}
