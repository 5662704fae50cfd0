// The Llama-3.2-1B layout (head_dim 64, 4 query heads per kv head, MLP 4× wide, tied embeddings,
// rope_theta 500000 with llama3 scaling), reduced in depth, width and vocabulary, runs one full
// AtManRL GRPO step through the trainer (`atmanrl train`: generation, saliency-reward mask fits,
// the update) with activation recomputation and a token budget, on webgpu, and matches the same
// step on cpu. The config is the real config.json (fixtures/llama-3.2-1b) through
// reduceLlamaConfig (@atmanrl/model), which tooling/gpu-check calls with no reduction for the full size.
// The webgpu suite is skipped when Dawn has no adapter, except with CI=true ATMANRL_REQUIRE_WEBGPU=1.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, probeWebgpu } from '@atmanrl/attention-mask/node';
import {
  countParameters,
  createRandomModel,
  createTinyTokenizer,
  type HfLlamaConfig,
  ModelError,
  parseLlamaConfig,
  reduceLlamaConfig,
  saveModel,
  TINY_VOCAB_SIZE,
} from '@atmanrl/model/node';
import { webgpuSuiteGate } from '@atmanrl/tooling/webgpu-suite';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli-core.js';
import { COMMANDS } from '../src/commands/index.js';
import { captureIO, deterministicMetrics, tempDir } from './helpers.js';

const FULL = JSON.parse(
  readFileSync(new URL('./fixtures/llama-3.2-1b/config.json', import.meta.url), 'utf8'),
) as HfLlamaConfig;

/** The CI size: 2 layers, 1 kv head (so 4 heads, width 256, MLP 1024), the byte tokenizer's vocabulary. */
const REDUCTION = { numLayers: 2, numKeyValueHeads: 1, vocabSize: TINY_VOCAB_SIZE };

describe('reduceLlamaConfig on the Llama-3.2-1B config.json', () => {
  it('with no reduction is the full model: 1,235,814,400 parameters', () => {
    const full = reduceLlamaConfig(FULL);
    expect(full).toEqual({ ...FULL, head_dim: 64 });
    expect(countParameters(parseLlamaConfig(full))).toBe(1_235_814_400);
  });

  it('keeps head_dim, the GQA and MLP ratios, tied embeddings and llama3 RoPE', () => {
    const c = parseLlamaConfig(reduceLlamaConfig(FULL, REDUCTION));
    expect(c).toMatchObject({
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 1,
      head_dim: 64,
      hidden_size: 256,
      intermediate_size: 1024,
      vocab_size: TINY_VOCAB_SIZE,
      tie_word_embeddings: true,
      rope_theta: 500000,
      rms_norm_eps: 1e-5,
      max_position_embeddings: 131072,
    });
    expect(c.rope_scaling).toEqual({
      rope_type: 'llama3',
      factor: 32,
      low_freq_factor: 1,
      high_freq_factor: 4,
      original_max_position_embeddings: 8192,
    });
    // special ids keep their distance from the top: 128000 -> V - 256, eos 128001/8/9 -> V - 255/8/7
    expect(c.bos_token_id).toBe(TINY_VOCAB_SIZE - 256);
    expect(c.eos_token_id).toEqual([
      TINY_VOCAB_SIZE - 255,
      TINY_VOCAB_SIZE - 248,
      TINY_VOCAB_SIZE - 247,
    ]);
  });

  it('refuses reductions that grow the model or lose a special id, naming them', () => {
    expect(() => reduceLlamaConfig(FULL, { numLayers: 17 })).toThrow(
      /numLayers 17 exceeds the config\.json value 16/,
    );
    expect(() => reduceLlamaConfig(FULL, { numKeyValueHeads: 0 })).toThrow(ModelError);
    expect(() => reduceLlamaConfig(FULL, { vocabSize: 200 })).toThrow(
      /bos_token_id 128000 has no place in a vocabulary of 200/,
    );
  });
});

const { run: runWebgpu, label } = webgpuSuiteGate(await probeWebgpu());

/**
 * cpu vs webgpu, float32, different reduction orders; 2 mask-fit steps and one update. Relative to
 * max(1, |cpu value|); measured on lavapipe: at most 3e-7 (grad_norm), 4e-8 (saliency rewards).
 */
const TOLERANCE = 1e-4;
/**
 * Padded-token budget: prompts are ~14 tokens, completions 6, fit items ~25 (+ delimiter, answer),
 * so the update's micro-batch of 4 runs as 2 passes and the 4 fits as 2 batches.
 */
const BUDGET = 50;

let modelDir = '';

/** One `atmanrl train` step on `backend`; the run's metrics and sampled completions. */
async function trainStep(backend: 'cpu' | 'webgpu') {
  const runs = tempDir('llama-1b-runs-');
  const { io, err } = captureIO();
  const before = tf.memory().numTensors;
  const code = await runCli(
    [
      'train',
      '--model',
      modelDir,
      '--runs-dir',
      runs,
      '--backend',
      backend,
      '--workers',
      '0',
      '--prompts-per-step',
      '1',
      '--num-generations',
      '4',
      '--max-completion-length',
      '6',
      '--saliency-steps',
      '2',
      '--saliency-lr',
      '0.05',
      '--learning-rate',
      '0.001',
      '--num-iterations',
      '1',
      '--probe-prompts',
      '0',
      '--max-steps',
      '1',
      '--seed',
      '5',
      '--recompute',
      '--max-tokens-per-micro-batch',
      String(BUDGET),
    ],
    io,
    COMMANDS,
  );
  expect(err.filter((l) => !l.startsWith('atmanrl: defaults') && !l.startsWith('  --'))).toEqual(
    [],
  );
  expect(code).toBe(0);
  const leaked = tf.memory().numTensors - before;
  const [dir] = readdirSync(runs).map((d) => join(runs, d));
  const info = JSON.parse(readFileSync(join(dir!, 'run.json'), 'utf8'));
  expect(info.config).toMatchObject({ recompute: true, maxTokensPerMicroBatch: BUDGET });
  expect(info.backend.name).toBe(backend);
  const samples = readFileSync(join(dir!, 'samples.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { completion?: string; completionIds?: number[] });
  return { metrics: deterministicMetrics(dir!)[0]!, samples, leaked };
}

describe.skipIf(!runWebgpu)(`a Llama-3.2-1B-layout GRPO step with mask ${label}`, () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
    const tokenizer = createTinyTokenizer();
    const config = parseLlamaConfig({
      ...reduceLlamaConfig(FULL, REDUCTION),
      // the byte tokenizer's special ids; random float32 weights
      bos_token_id: tokenizer.bosTokenId,
      eos_token_id: tokenizer.eosTokenIds,
      torch_dtype: 'float32',
    });
    const model = createRandomModel(config, 7, { tokenizer });
    modelDir = tempDir('llama-1b-layout-');
    await saveModel(model, modelDir);
    model.dispose();
  });
  afterAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it('generation, mask fits and the update (recompute, token budget) match cpu, without leaks', async () => {
    const cpu = await trainStep('cpu');
    const gpu = await trainStep('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(cpu.leaked).toBe(0);
    expect(gpu.leaked).toBe(0);
    // the same completions were sampled (same seed, same logits up to float rounding)
    expect(gpu.samples).toHaveLength(cpu.samples.length);
    expect(gpu.samples.map((s) => s.completion)).toEqual(cpu.samples.map((s) => s.completion));
    const keys = Object.keys(cpu.metrics).filter((k) => typeof cpu.metrics[k] === 'number');
    for (const k of ['loss', 'grad_norm', 'entropy', 'rewards/saliency/mean', 'reward'])
      expect(keys).toContain(k);
    const gaps = keys.map((k) => {
      const a = cpu.metrics[k] as number;
      const b = gpu.metrics[k] as number;
      return { k, a, b, gap: Math.abs(a - b) / Math.max(1, Math.abs(a)) };
    });
    const bad = gaps.filter((g) => !(g.gap <= TOLERANCE));
    expect(bad, JSON.stringify(gaps)).toEqual([]);
    // a step that did something: the fits moved H off c and the update had a gradient
    expect(cpu.metrics['grad_norm'] as number).toBeGreaterThan(0);
    expect(cpu.metrics['rewards/saliency/std'] as number).toBeGreaterThan(0);
  }, 600_000);
});
