// The wasm heap check of a run's micro-batches (issue 22 item 3): an over-large request is a
// named error before the first step, with the accumulation that fits.
import { parseLlamaConfig, WASM_HEAP_LIMIT_BYTES } from '@atmanrl/model';
import { describe, expect, it } from 'vitest';
import { checkMemoryBudget, updateBytes } from '../src/_internal/memory-budget.js';
import { defaultConfig } from '../src/config.js';

// Llama-3.2-1B's vocabulary at a small width: the vocabulary alone makes activations large.
const model = parseLlamaConfig({
  vocab_size: 128256,
  hidden_size: 512,
  intermediate_size: 1024,
  num_hidden_layers: 4,
  num_attention_heads: 8,
  num_key_value_heads: 2,
  tie_word_embeddings: true,
});

/** 16 prompts × 8 completions of up to 256 tokens, outcome reward only (no mask fits). */
const outcomeRun128 = () => ({
  ...defaultConfig(),
  promptsPerStep: 16,
  numGenerations: 8,
  maxCompletionLength: 256,
  saliencyReward: false,
});

describe('checkMemoryBudget', () => {
  it('warns, without refusing, when the upper estimate is above the heap but may still fit', () => {
    const c = outcomeRun128();
    const w = checkMemoryBudget({ ...c, gradientAccumulationSteps: 16 }, model, 'wasm', 64);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/estimated at up to [\d.]+ GiB of the 4\.0 GiB wasm heap/);
  });

  it('passes a run that fits and is not applied off wasm', () => {
    const small = {
      ...defaultConfig(),
      promptsPerStep: 2,
      numGenerations: 2,
      maxCompletionLength: 32,
    };
    expect(checkMemoryBudget(small, model, 'wasm', 64)).toEqual([]);
    const huge = {
      ...defaultConfig(),
      promptsPerStep: 64,
      numGenerations: 8,
      maxCompletionLength: 1024,
    };
    expect(() => checkMemoryBudget(huge, model, 'webgpu', 64)).not.toThrow();
  });

  it('counts --recompute: a smaller estimate, and a smaller accumulation that fits', () => {
    const c = outcomeRun128();
    expect(updateBytes(model, 16, 320, 0, true)).toBeLessThan(updateBytes(model, 16, 320, 0));
    const suggested = (recompute: boolean) => {
      try {
        checkMemoryBudget({ ...c, recompute }, model, 'wasm', 64);
      } catch (e) {
        return Number(/Use --gradient-accumulation-steps (\d+)/.exec((e as Error).message)?.[1]);
      }
      return 1;
    };
    const k = suggested(true);
    expect(k).toBeLessThan(suggested(false));
    expect(() =>
      checkMemoryBudget({ ...c, recompute: true, gradientAccumulationSteps: k }, model, 'wasm', 64),
    ).not.toThrow();
  });

  it('names the accumulation that fits when one micro-batch is too large', () => {
    const c = outcomeRun128();
    expect(() => checkMemoryBudget(c, model, 'wasm', 64)).toThrow(
      /--gradient-accumulation-steps 1: a micro-batch of 128 completions × 320 tokens is estimated at [\d.]+ GiB .*more than 3 × the wasm heap's [\d.]+ GiB .* Use --gradient-accumulation-steps \d+/,
    );
    // the suggested value does fit
    const k = Number(
      /Use --gradient-accumulation-steps (\d+)/.exec(
        (() => {
          try {
            checkMemoryBudget(c, model, 'wasm', 64);
          } catch (e) {
            return (e as Error).message;
          }
          return '';
        })(),
      )![1],
    );
    expect(128 % k).toBe(0);
    expect(() =>
      checkMemoryBudget({ ...c, gradientAccumulationSteps: k }, model, 'wasm', 64),
    ).not.toThrow();
    expect(updateBytes(model, 128 / k, 320, 0)).toBeLessThan(2 ** 32);
  });

  it('counts the rows of one pass under --max-tokens-per-micro-batch', () => {
    const c = outcomeRun128();
    // 128 completions × 320 tokens in one micro-batch do not fit; passes of `rows` rows do
    expect(() => checkMemoryBudget(c, model, 'wasm', 64)).toThrow(
      /--gradient-accumulation-steps 1/,
    );
    let rows = 1;
    while (updateBytes(model, rows + 1, 320, 0) <= WASM_HEAP_LIMIT_BYTES) rows++;
    expect(updateBytes(model, rows, 320, 0)).toBeLessThanOrEqual(WASM_HEAP_LIMIT_BYTES);
    expect(
      checkMemoryBudget({ ...c, maxTokensPerMicroBatch: rows * 320 + 319 }, model, 'wasm', 64),
    ).toEqual([]);
    expect(
      checkMemoryBudget({ ...c, maxTokensPerMicroBatch: (rows + 1) * 320 }, model, 'wasm', 64),
    ).toHaveLength(1);
    // a budget too large is named as the flag to change
    expect(() =>
      checkMemoryBudget({ ...c, maxTokensPerMicroBatch: 320 * 128 }, model, 'wasm', 64),
    ).toThrow(/^--max-tokens-per-micro-batch 40960: a micro-batch of 128 completions × 320 tokens/);
  });
});
