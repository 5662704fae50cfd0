// The wasm heap check of a run's micro-batches (issue 22 item 3): an over-large request is a
// named error before the first step, with the accumulation that fits.
import { parseLlamaConfig, WASM_HEAP_LIMIT_BYTES } from '@atmanrl/model';
import { describe, expect, it } from 'vitest';
import {
  checkGenerationBudget,
  checkMemoryBudget,
  generationBytes,
  lengthOption,
  updateBytes,
} from '../src/_internal/memory-budget.js';
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

// Llama-3.2-1B's shape: 16 layers, width 2048, 32 heads of 64, 8 key/value heads.
const llama1b = parseLlamaConfig({
  vocab_size: 128256,
  hidden_size: 2048,
  intermediate_size: 8192,
  num_hidden_layers: 16,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  tie_word_embeddings: true,
});

describe('issue 35.5 and 35.18: generation in the pre-flight, naming the dominant term', () => {
  it('counts the KV cache as rows × layers × 2 × key/value width × context (hand-computed)', () => {
    const est = generationBytes(model, { rows: 8, passRows: 8, promptLen: 3095, completionLen: 4 });
    const cache = est.terms.find((t) => t.what.startsWith('the KV cache'))!;
    // 4 bytes × 8 rows × 4 layers × 2 (k, v) × (2 heads × 64) × 3,099 positions
    expect(cache.bytes).toBe(4 * 8 * 4 * 2 * 128 * 3099);
    expect(cache.what).toBe('the KV cache (8 rows × 4 layers × 3,099 positions of context)');
    // the prompt's attention scores grow with the square of the prompt: it dominates here
    expect(est.terms[0]!.what).toMatch(/^the prompt's forward pass \(8 rows × 4 layers × 3,095/);
    // fewer rows per pass shrink the prompt pass in proportion, not the cache
    const half = generationBytes(model, {
      rows: 8,
      passRows: 4,
      promptLen: 3095,
      completionLen: 4,
    });
    const pass = (e: typeof est) => e.terms.find((t) => t.what.startsWith("the prompt's"))!.bytes;
    expect(pass(half) * 2).toBe(pass(est));
    expect(half.terms.find((t) => t.what.startsWith('the KV cache'))!.bytes).toBe(cache.bytes);
  });

  it('a 3,095-token prompt names the prompt pass and --max-prompt-length, not the completions', () => {
    const c = { ...defaultConfig(), numGenerations: 8, maxCompletionLength: 4 };
    expect(() => checkGenerationBudget(c, llama1b, 3095, null)).toThrow(
      /a generation pass of 8 completions of a 3095-token prompt .* the largest term is the prompt's forward pass .*--generation-batch-size \(now 8 completions per pass\) or --max-prompt-length \(the longest prompt is 3,095 tokens\)/,
    );
    try {
      checkGenerationBudget(c, llama1b, 3095, null);
    } catch (e) {
      expect((e as Error).message).not.toMatch(/--max-completion-length/);
    }
    // the update check names the prompt too when even one completion does not fit
    expect(() =>
      checkMemoryBudget(
        { ...c, promptsPerStep: 1, gradientAccumulationSteps: 8, saliencyReward: false },
        llama1b,
        'wasm',
        3095,
      ),
    ).toThrow(/Even one completion per micro-batch does not fit: lower --max-prompt-length/);
    expect(lengthOption(3095, 4)).toMatch(/^--max-prompt-length/);
    expect(lengthOption(64, 1024)).toBe('--max-completion-length');
  });

  it('suggests the largest --generation-batch-size that fits, and that one passes', () => {
    const c = { ...defaultConfig(), numGenerations: 16, maxCompletionLength: 64 };
    const prompt = 900;
    const rows = (b: number) =>
      generationBytes(model, { rows: 16, passRows: b, promptLen: prompt, completionLen: 64 }).total;
    expect(rows(16)).toBeGreaterThan(WASM_HEAP_LIMIT_BYTES);
    let fits = 16;
    while (fits > 0 && rows(fits) > WASM_HEAP_LIMIT_BYTES) fits--;
    expect(fits).toBeGreaterThan(0);
    const all = (() => {
      try {
        return checkGenerationBudget(c, model, prompt, null).join('\n');
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(all).toContain(`--generation-batch-size ${fits} fits (the completions do not change`);
    expect(checkGenerationBudget(c, model, prompt, fits)).toEqual([]);
    // part of checkMemoryBudget (read from the run config's generationBatchSize)
    const run = { ...c, promptsPerStep: 1, gradientAccumulationSteps: 16, saliencyReward: false };
    const warnings = (() => {
      try {
        return checkMemoryBudget(run, model, 'wasm', prompt);
      } catch (e) {
        return [(e as Error).message];
      }
    })();
    expect(warnings.join('\n')).toMatch(/a generation pass of 16 completions/);
    expect(
      checkMemoryBudget(
        { ...run, generationBatchSize: fits } as typeof run,
        model,
        'wasm',
        prompt,
      ).join('\n'),
    ).not.toMatch(/generation pass/);
  });
});
