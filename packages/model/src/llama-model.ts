// The Llama decoder stack implementing CausalLM: embedding, L decoder blocks (block.ts: RMSNorm,
// RoPE with Llama 3 scaling, grouped-query attention through @atmanrl/attention-mask, SwiGLU MLP),
// final norm, tied or untied head. Generation lives in generate.ts, checkpoints in checkpoint.ts.
import { matMul } from '@atmanrl/attention-mask';
import * as tf from '@tensorflow/tfjs-core';
import { type BlockInputs, block, recomputedBlock, rmsNorm } from './block.js';
import type { LlamaConfig } from './config.js';
import { ModelError } from './errors.js';
import { generate } from './generate.js';
import { type HeadLogProbs, type HeadLogProbsOptions, headLogProbs } from './head-log-probs.js';
import { LlamaKVCache } from './kv-cache.js';
import { ropeInverseFrequencies, ropeTables } from './rope.js';
import type { Tokenizer } from './tokenizer.js';
import type { CausalLM, ForwardOptions, GenerateOptions, GenerationResult } from './types.js';
import { gatherVocabColumns, type VocabMatrix, vocabProduct } from './vocab-matrix.js';
import { type LlamaWeights, variablesOf, weightSpecs } from './weights.js';

function expect2d(name: string, t: tf.Tensor | undefined, shape: [number, number]): void {
  if (t === undefined) return;
  if (t.rank !== 2 || t.shape[0] !== shape[0] || t.shape[1] !== shape[1]) {
    throw new ModelError(
      'SHAPE_MISMATCH',
      `${name} has shape [${t.shape}], expected [B,Tpast+T] = [${shape}]`,
    );
  }
}

/** A Llama-architecture causal LM on TensorFlow.js. Owns its variables; call `dispose()`. */
export class LlamaModel implements CausalLM {
  readonly config: LlamaConfig;
  tokenizer?: Tokenizer;
  /** The parameters (see weights.ts for layout and Hugging Face names). */
  readonly weights: LlamaWeights;
  private readonly invFreq: tf.Tensor1D;
  /**
   * Activation recomputation: each decoder layer keeps only its inputs for the backward pass and
   * runs its forward again there (less memory for long sequences, about one more forward of
   * compute). Applies to `forward`, `hiddenStates` and `sequenceLogProbs` (the mask fit and the
   * policy update), except while extending a KV cache. Gradients are unchanged. Default false.
   */
  recompute = false;

  /**
   * @param config validated config
   * @param weights variables (ownership passes to the model)
   * @param tokenizer optional tokenizer (needed for `text` and stop strings in `generate`)
   */
  constructor(config: LlamaConfig, weights: LlamaWeights, tokenizer?: Tokenizer) {
    this.config = config;
    this.weights = weights;
    if (tokenizer) this.tokenizer = tokenizer;
    this.invFreq = tf.keep(
      tf.tensor1d(Float32Array.from(ropeInverseFrequencies(config)), 'float32'),
    );
  }

  /**
   * Every variable, checkpoint order; a vocabulary matrix split into blocks (a device limit, see
   * {@link VocabMatrix}) contributes its blocks in vocab order. Names: {@link variableNames}.
   */
  get variables(): tf.Variable[] {
    return weightSpecs(this.config).flatMap((s) => variablesOf(this.weights, s));
  }

  /**
   * The Hugging Face tensor name of each of {@link variables} (same order); a block of a split
   * vocabulary matrix is named with its token rows, e.g. `model.embed_tokens.weight[0:42752]`.
   */
  get variableNames(): string[] {
    return weightSpecs(this.config).flatMap((s) => {
      const vars = variablesOf(this.weights, s);
      if (vars.length === 1) return [s.name];
      let r0 = 0;
      return vars.map((v) => {
        const r1 = r0 + v.shape[1]!;
        const name = `${s.name}[${r0}:${r1}]`;
        r0 = r1;
        return name;
      });
    });
  }

  get trainableVariables(): tf.Variable[] {
    return this.variables.filter((v) => v.trainable);
  }

  /**
   * A copy sharing no mutable state (tfjs tensors are immutable, so memory is shared until a
   * variable is assigned). `{ trainable: false }` gives a frozen reference model (KL term).
   */
  clone(options: { trainable?: boolean } = {}): LlamaModel {
    const trainable = options.trainable ?? true;
    const copy = (v: tf.Variable): tf.Variable => tf.variable(v, trainable);
    const w = this.weights;
    const weights: LlamaWeights = {
      embed: w.embed.clone(trainable),
      norm: copy(w.norm),
      layers: w.layers.map((l) => ({
        inputNorm: copy(l.inputNorm),
        q: copy(l.q),
        k: copy(l.k),
        v: copy(l.v),
        o: copy(l.o),
        postNorm: copy(l.postNorm),
        gate: copy(l.gate),
        up: copy(l.up),
        down: copy(l.down),
      })),
    };
    if (w.lmHead) weights.lmHead = w.lmHead.clone(trainable);
    return new LlamaModel(this.config, weights, this.tokenizer);
  }

  /** An empty KV cache for `batchSize` rows (grown by `forward`; the caller disposes it). */
  createCache(batchSize: number): LlamaKVCache {
    return new LlamaKVCache(batchSize, this.config.num_hidden_layers);
  }

  /** Token embeddings: `[B,T]` int32 -> `[B,T,D]`. */
  embed(inputIds: tf.Tensor2D): tf.Tensor3D {
    if (inputIds.rank !== 2)
      throw new ModelError('SHAPE_MISMATCH', `inputIds has rank ${inputIds.rank}, expected [B,T]`);
    if (inputIds.dtype !== 'int32')
      throw new ModelError('BAD_ARGUMENT', `inputIds has dtype ${inputIds.dtype}, expected int32`);
    const [b, t] = inputIds.shape;
    return tf.tidy(() => {
      const e = this.weights.embed;
      const cols = gatherVocabColumns(e.blocks, e.offsets, tf.reshape(inputIds, [-1])); // [D, B*T]
      return tf.reshape(tf.transpose(cols), [b, t, this.config.hidden_size]) as tf.Tensor3D;
    });
  }

  /**
   * Logits `[B,T,V]` for `[B,T]` int32 ids (or `options.inputEmbeds` `[B,T,D]`); see
   * {@link ForwardOptions} for bias, suppression, padding, positions and the cache. Synchronous.
   * @throws ModelError `SHAPE_MISMATCH` / `BAD_ARGUMENT` naming the bad argument
   */
  forward(inputIds: tf.Tensor2D | null, options: ForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => {
      const hidden = this.hiddenStates(inputIds, options); // [B,T,D]
      return this.head(hidden);
    });
  }

  /** The output head `[D,V]` (the embedding table when the head is tied), in vocab blocks. */
  get headWeight(): VocabMatrix {
    return this.weights.lmHead ?? this.weights.embed;
  }

  /**
   * Log-probs of `targets` and entropies through the head, chunked over rows (see
   * {@link headLogProbs}): hidden `[N,D]` -> `[N]`, `[N]`. Never holds `[N,V]` for the backward pass.
   */
  headLogProbs(
    hidden: tf.Tensor2D,
    targets: ArrayLike<number>,
    options: HeadLogProbsOptions = {},
  ): HeadLogProbs {
    return headLogProbs(hidden, this.headWeight.blocks as readonly tf.Tensor2D[], targets, options);
  }

  /** Final-norm hidden states times the output head: `[B,T,D]` -> logits `[B,T,V]`. */
  head(hidden: tf.Tensor3D): tf.Tensor3D {
    const [b, t, d] = hidden.shape;
    return tf.tidy(() => {
      const w = this.headWeight.blocks; // [D,V_k] each
      return tf.reshape(vocabProduct(tf.reshape(hidden, [b * t, d]) as tf.Tensor2D, w, matMul), [
        b,
        t,
        this.config.vocab_size,
      ]) as tf.Tensor3D;
    });
  }

  /**
   * The decoder stack without the head: `[B,T]` ids (or `inputEmbeds`) -> normalised hidden
   * states `[B,T,D]` (`[B,R,D]` for `outputRows` of R rows). Extends `options.cache` unless
   * `updateCache` is false. Call in tf.tidy.
   */
  hiddenStates(inputIds: tf.Tensor2D | null, options: ForwardOptions = {}): tf.Tensor3D {
    const cfg = this.config;
    const x0 = this.checkedInput(inputIds, options);
    const [b, t] = x0.shape;
    const cache = options.cache as LlamaKVCache | undefined;
    if (cache !== undefined) {
      if (!(cache instanceof LlamaKVCache) || cache.disposed) {
        throw new ModelError(
          'BAD_ARGUMENT',
          "cache must be a live cache from this model's createCache()",
        );
      }
      if (cache.batchSize !== b) {
        throw new ModelError(
          'SHAPE_MISMATCH',
          `cache was created for batch size ${cache.batchSize}, inputs have B = ${b}`,
        );
      }
    }
    const past = cache?.length ?? 0;
    const tk = past + t;
    expect2d('attentionBias', options.attentionBias, [b, tk]);
    expect2d('suppress', options.suppress, [b, tk]);
    expect2d('attentionMask', options.attentionMask, [b, tk]);
    if (
      options.positionIds &&
      (options.positionIds.shape[0] !== b || options.positionIds.shape[1] !== t)
    ) {
      throw new ModelError(
        'SHAPE_MISMATCH',
        `positionIds has shape [${options.positionIds.shape}], expected [B,T] = [${b},${t}]`,
      );
    }
    const rows = options.outputRows;
    if (
      rows !== undefined &&
      !(
        Number.isInteger(rows.start) &&
        Number.isInteger(rows.end) &&
        0 <= rows.start &&
        rows.start < rows.end &&
        rows.end <= t
      )
    ) {
      throw new ModelError(
        'BAD_ARGUMENT',
        `outputRows is [${rows.start}, ${rows.end}); expected integers 0 <= start < end <= T = ${t}`,
      );
    }
    const update = options.updateCache ?? true;
    const newKeys: tf.Tensor4D[] = [];
    const newValues: tf.Tensor4D[] = [];
    const out = tf.tidy(() => {
      const keyMask = options.attentionMask ? tf.cast(options.attentionMask, 'float32') : undefined; // [B,Tk]
      const positions = options.positionIds ?? this.defaultPositions(b, t, past, keyMask);
      const { cos, sin } = ropeTables(positions, this.invFreq); // [B,1,T,hd]
      // Recomputation would rebuild the cache entries in the backward pass: not when extending it.
      const recompute = this.recompute && !(cache && update);
      let x: tf.Tensor = x0; // [B,T,D]
      this.weights.layers.forEach((w, layer) => {
        const inputs: BlockInputs = {
          cos,
          sin,
          past,
          ...(keyMask ? { keyMask: keyMask as tf.Tensor2D } : {}),
          ...(cache?.keys[layer] ? { pastK: cache.keys[layer] } : {}),
          ...(cache?.values[layer] ? { pastV: cache.values[layer] } : {}),
          ...(options.suppress ? { suppress: options.suppress } : {}),
          ...(options.queries !== undefined ? { queries: options.queries } : {}),
          ...(options.attentionBias ? { bias: options.attentionBias } : {}),
          // The last layer's output is the result: only the wanted rows.
          ...(rows !== undefined && layer === this.weights.layers.length - 1 ? { rows } : {}),
        };
        if (recompute) {
          x = recomputedBlock(x, w, inputs, cfg);
          return;
        }
        const o = block(x, w, inputs, cfg); // [B,T,D]; keys, values [B,Hkv,Tk,hd]
        if (cache !== undefined && update) {
          newKeys.push(tf.keep(o.k));
          newValues.push(tf.keep(o.v));
        }
        x = o.x;
      });
      return rmsNorm(x, this.weights.norm, cfg.rms_norm_eps) as tf.Tensor3D; // [B,T|R,D]
    });
    if (cache && update) {
      for (let l = 0; l < newKeys.length; l++) {
        cache.keys[l]?.dispose();
        cache.values[l]?.dispose();
        cache.keys[l] = newKeys[l]!;
        cache.values[l] = newValues[l]!;
      }
    }
    return out;
  }

  private checkedInput(inputIds: tf.Tensor2D | null, options: ForwardOptions): tf.Tensor3D {
    if (options.inputEmbeds) {
      const e = options.inputEmbeds;
      if (e.rank !== 3 || e.shape[2] !== this.config.hidden_size) {
        throw new ModelError(
          'SHAPE_MISMATCH',
          `inputEmbeds has shape [${e.shape}], expected [B,T,D] with D = ${this.config.hidden_size}`,
        );
      }
      return e;
    }
    if (!inputIds)
      throw new ModelError('BAD_ARGUMENT', 'forward needs inputIds or options.inputEmbeds');
    return this.embed(inputIds);
  }

  /** `[B,T]` int32 positions: from the padding mask (left padding) or Tpast + arange(T). */
  private defaultPositions(b: number, t: number, past: number, keyMask?: tf.Tensor): tf.Tensor2D {
    if (!keyMask)
      return tf.tile(tf.reshape(tf.range(past, past + t, 1, 'int32'), [1, t]), [
        b,
        1,
      ]) as tf.Tensor2D;
    const cum = tf.sub(tf.cumsum(keyMask, 1), 1); // [B,Tk]
    const last = tf.slice(cum, [0, past], [b, t]); // [B,T]
    return tf.cast(tf.maximum(last, 0), 'int32') as tf.Tensor2D;
  }

  /** Generate completions for B prompts of any lengths (see {@link GenerateOptions}). */
  generate(promptIds: number[][], options: GenerateOptions): Promise<GenerationResult[]> {
    return generate(this, promptIds, options);
  }

  /**
   * log p(completion token | prefix) for each row: logProbs `[B,Tc]` (0 on padding; differentiable
   * w.r.t. the variables) and mask `[B,Tc]`. Rows are laid out as in `generate` (left-padded
   * prompts), so the values match generation-time log-probs. `temperature` divides the logits.
   * The head runs on the completion rows only, chunked ({@link headLogProbs}): memory for the
   * logits is `[chunkRows,V]`, not `[B,Tc,V]`.
   * @throws ModelError `BAD_ARGUMENT` for mismatched counts, empty prompts or ids outside the vocabulary
   */
  sequenceLogProbs(
    promptIds: number[][],
    completionIds: number[][],
    options: { temperature?: number } = {},
  ): { logProbs: tf.Tensor2D; mask: tf.Tensor2D } {
    if (promptIds.length !== completionIds.length || promptIds.length === 0) {
      throw new ModelError(
        'BAD_ARGUMENT',
        `sequenceLogProbs: ${promptIds.length} prompts and ${completionIds.length} completions; expected the same non-zero count`,
      );
    }
    const b = promptIds.length;
    const p = Math.max(...promptIds.map((x) => x.length));
    const tc = Math.max(...completionIds.map((x) => x.length));
    if (p === 0)
      throw new ModelError(
        'BAD_ARGUMENT',
        'sequenceLogProbs: every prompt is empty; a prompt needs at least one token',
      );
    const v = this.config.vocab_size;
    const pad = this.config.pad_token_id ?? 0;
    // Layout as in generation: [left pads, prompt, completion, right pads], so completions start at column P.
    const ids = new Int32Array(b * (p + tc)).fill(pad);
    const attn = new Float32Array(b * (p + tc));
    const targets = new Int32Array(b * tc);
    const mask = new Float32Array(b * tc);
    promptIds.forEach((prompt, r) => {
      if (prompt.length === 0)
        throw new ModelError('BAD_ARGUMENT', `sequenceLogProbs: prompt ${r} is empty`);
      const row = r * (p + tc);
      const comp = completionIds[r]!;
      [...prompt, ...comp].forEach((id, j) => {
        if (!Number.isInteger(id) || id < 0 || id >= v) {
          throw new ModelError(
            'BAD_ARGUMENT',
            `sequenceLogProbs: token id ${id} in row ${r} is outside [0, ${v})`,
          );
        }
        ids[row + p - prompt.length + j] = id;
        attn[row + p - prompt.length + j] = 1;
      });
      comp.forEach((id, j) => {
        targets[r * tc + j] = id;
        mask[r * tc + j] = 1;
      });
    });
    return tf.tidy(() => {
      const maskT = tf.tensor2d(mask, [b, tc]);
      if (tc === 0) return { logProbs: tf.zeros([b, 0]) as tf.Tensor2D, mask: maskT };
      const hidden = this.hiddenStates(tf.tensor2d(ids, [b, p + tc], 'int32'), {
        attentionMask: tf.tensor2d(attn, [b, p + tc]),
      }); // [B,P+Tc,D]
      // Position P-1+j predicts completion token j.
      const h = tf.slice(hidden, [0, p - 1, 0], [b, tc, this.config.hidden_size]); // [B,Tc,D]
      const temperature = options.temperature ?? 1;
      const { logProbs: flat } = this.headLogProbs(
        tf.reshape(h, [b * tc, this.config.hidden_size]) as tf.Tensor2D, // [B*Tc,D]
        targets,
        { temperature },
      ); // [B*Tc]
      const logProbs = tf.mul(tf.reshape(flat, [b, tc]), maskT) as tf.Tensor2D;
      return { logProbs, mask: maskT };
    });
  }

  /** Free every variable (the vocabulary matrices' blocks included). */
  dispose(): void {
    for (const v of this.variables) v.dispose();
    this.invFreq.dispose();
  }
}
