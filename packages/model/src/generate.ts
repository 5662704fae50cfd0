// Autoregressive generation for a batch of prompts of different lengths: left padding + attention
// mask + mask-derived positions (so each row equals an unbatched run), optional KV cache, one
// batched host read per step. Sampling itself is in sampling.ts.
import * as tf from '@tensorflow/tfjs-core';
import { ModelError } from './errors.js';
import { createRng } from './rng.js';
import { sampleToken } from './sampling.js';
import type { CausalLM, GenerateOptions, GenerationResult } from './types.js';

function validate(model: CausalLM, promptIds: number[][], options: GenerateOptions): void {
  const v = model.config.vocab_size;
  if (!Array.isArray(promptIds) || promptIds.length === 0) {
    throw new ModelError(
      'BAD_ARGUMENT',
      'generate: promptIds must be a non-empty list of token-id lists',
    );
  }
  promptIds.forEach((p, r) => {
    if (p.length === 0)
      throw new ModelError(
        'BAD_ARGUMENT',
        `generate: prompt ${r} is empty; it needs at least one token (e.g. BOS)`,
      );
    for (const id of p) {
      if (!Number.isInteger(id) || id < 0 || id >= v) {
        throw new ModelError(
          'BAD_ARGUMENT',
          `generate: prompt ${r} has token id ${id}, outside [0, ${v})`,
        );
      }
    }
  });
  if (!Number.isInteger(options.maxNewTokens) || options.maxNewTokens < 0) {
    throw new ModelError(
      'BAD_ARGUMENT',
      `generate: maxNewTokens is ${options.maxNewTokens}, expected a non-negative integer`,
    );
  }
  const t = options.temperature ?? 0;
  if (!(t >= 0) || !Number.isFinite(t))
    throw new ModelError('BAD_ARGUMENT', `generate: temperature is ${t}, expected >= 0`);
  if (options.topP !== undefined && !(options.topP > 0 && options.topP <= 1)) {
    throw new ModelError(
      'BAD_ARGUMENT',
      `generate: topP is ${options.topP}, expected a number in (0, 1]`,
    );
  }
  if (options.stopStrings?.length && !model.tokenizer) {
    throw new ModelError(
      'NO_TOKENIZER',
      'generate: stopStrings need a tokenizer; load the model from a folder or set model.tokenizer',
    );
  }
}

/**
 * Generate completions (see {@link GenerateOptions}) with any {@link CausalLM}: it only reads the
 * model's config and tokenizer, its KV cache, `hiddenStates` and `head` (so it serves as the
 * implementation of `LlamaModel.generate` without importing the class).
 * @param promptIds B prompts of token ids, any lengths >= 1
 */
export async function generate(
  model: CausalLM,
  promptIds: number[][],
  options: GenerateOptions,
): Promise<GenerationResult[]> {
  validate(model, promptIds, options);
  const cfg = model.config;
  const tok = model.tokenizer;
  const b = promptIds.length;
  const v = cfg.vocab_size;
  const temperature = options.temperature ?? 0;
  const greedy = temperature === 0;
  const scale = greedy ? 1 : temperature;
  const eos = new Set(options.eosTokenIds ?? [...cfg.eos_token_id, ...(tok?.eosTokenIds ?? [])]);
  const rng = options.rng ?? createRng(options.seed ?? 0);
  const pad = cfg.pad_token_id ?? tok?.padTokenId ?? 0;
  const stops = options.stopStrings?.filter((s) => s.length > 0) ?? [];
  const useCache = options.useCache ?? true;
  const p = Math.max(...promptIds.map((x) => x.length));
  // Full sequences (left-padded prompts + generated tokens) and their padding masks, row-major.
  const seqs = promptIds.map((x) => [...new Array<number>(p - x.length).fill(pad), ...x]);
  const masks = promptIds.map((x) => [
    ...new Array<number>(p - x.length).fill(0),
    ...new Array<number>(x.length).fill(1),
  ]);
  const results: GenerationResult[] = promptIds.map(() => ({
    tokenIds: [],
    text: '',
    logProbs: [],
    truncated: false,
  }));
  const done = new Array<boolean>(b).fill(false);
  const cache = useCache ? model.createCache(b) : undefined;
  try {
    for (let step = 0; step < options.maxNewTokens && !done.every(Boolean); step++) {
      const cur = seqs[0]!.length;
      const feedFrom = cache && step > 0 ? cur - 1 : 0; // with a cache only the newest token is fed
      const logProbs = tf.tidy(() => {
        const width = cur - feedFrom;
        const ids = tf.tensor2d(
          seqs.flatMap((s) => s.slice(feedFrom)),
          [b, width],
          'int32',
        );
        const attentionMask = tf.tensor2d(masks.flat(), [b, cur], 'float32');
        const hidden = model.hiddenStates(ids, { attentionMask, ...(cache ? { cache } : {}) }); // [B,W,D]
        const last = tf.slice(hidden, [0, width - 1, 0], [b, 1, cfg.hidden_size]) as tf.Tensor3D; // [B,1,D]
        const logits = tf.reshape(model.head(last), [b, v]); // [B,V]
        return tf.logSoftmax(scale === 1 ? logits : tf.div(logits, scale)); // [B,V]
      });
      let data: Float32Array;
      try {
        data = (await logProbs.data()) as Float32Array; // the one host read of this step
      } finally {
        logProbs.dispose();
      }
      for (let r = 0; r < b; r++) {
        let next = pad;
        if (!done[r]) {
          const row = data.subarray(r * v, (r + 1) * v);
          const opts = {
            greedy,
            ...(options.topK !== undefined ? { topK: options.topK } : {}),
            ...(options.topP !== undefined ? { topP: options.topP } : {}),
          };
          next = sampleToken(row, opts, rng);
          const res = results[r]!;
          res.tokenIds.push(next);
          res.logProbs.push(row[next]!);
          if (eos.has(next)) done[r] = true;
          else if (stops.length > 0) {
            const text = tok!.decode(res.tokenIds, { skipSpecialTokens: true });
            if (stops.some((s) => text.includes(s))) done[r] = true;
          }
        }
        seqs[r]!.push(next);
        masks[r]!.push(1);
      }
    }
  } finally {
    cache?.dispose();
  }
  for (let r = 0; r < b; r++) {
    const res = results[r]!;
    res.truncated = !done[r] && res.tokenIds.length >= options.maxNewTokens;
    if (tok) res.text = tok.decode(res.tokenIds, { skipSpecialTokens: true });
  }
  return results;
}
