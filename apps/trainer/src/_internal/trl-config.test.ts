import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPTIONS } from '../config.js';
import { isSnakeCase, TRL_KEYS, translateTrlConfig, trlKey, trlTable } from './trl-config.js';

const t = (raw: Record<string, unknown>) => translateTrlConfig(raw, 'c.yaml');

describe('translateTrlConfig', () => {
  it('promptsPerStep = per_device_train_batch_size × gradient_accumulation_steps / num_generations', () => {
    // 12 completions per micro-batch × 2 micro-batches = 24 completions = 6 prompts × G 4
    const r = t({
      per_device_train_batch_size: 12,
      gradient_accumulation_steps: 2,
      num_generations: 4,
    });
    expect(r.problems).toEqual([]);
    expect(r.config).toEqual({
      promptsPerStep: 6,
      gradientAccumulationSteps: 2,
      numGenerations: 4,
    });
    // TRL's default G (8) when the file does not give one; camelCase G counts too
    expect(t({ per_device_train_batch_size: 16 }).config).toEqual({ promptsPerStep: 2 });
    expect(t({ per_device_train_batch_size: 6, numGenerations: 3 }).config).toEqual({
      numGenerations: 3,
      promptsPerStep: 2,
    });
    expect(t({ generation_batch_size: 32, num_generations: 4 }).config).toMatchObject({
      promptsPerStep: 8,
    });
  });

  it('a batch that does not split into groups is an error naming the keys and the fix', () => {
    const r = t({
      per_device_train_batch_size: 6,
      gradient_accumulation_steps: 1,
      num_generations: 4,
    });
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(
      /per_device_train_batch_size 6 × gradient_accumulation_steps 1 = 6 completions per step is not a multiple of num_generations 4.*make it a multiple of 4.*or set promptsPerStep/,
    );
  });

  it('steps_per_generation / generation_batch_size other than one generation per step are errors', () => {
    expect(
      t({ per_device_train_batch_size: 8, gradient_accumulation_steps: 2, steps_per_generation: 4 })
        .problems[0],
    ).toMatch(/steps_per_generation 4 differs from gradient_accumulation_steps 2/);
    expect(
      t({
        per_device_train_batch_size: 8,
        gradient_accumulation_steps: 2,
        generation_batch_size: 32,
      }).problems[0],
    ).toMatch(/generation_batch_size 32 differs from .* = 16/);
    // equal values are fine
    expect(
      t({ per_device_train_batch_size: 8, gradient_accumulation_steps: 2, steps_per_generation: 2 })
        .problems,
    ).toEqual([]);
  });

  it('converts TRL values: scale_rewards booleans, top_k null, reward_weights list', () => {
    expect(t({ scale_rewards: true }).config).toEqual({ scaleRewards: 'group' });
    expect(t({ scale_rewards: false }).config).toEqual({ scaleRewards: 'none' });
    expect(t({ scale_rewards: 'batch' }).config).toEqual({ scaleRewards: 'batch' });
    expect(t({ top_k: null }).config).toEqual({ topK: 0 });
    expect(t({ top_k: 50 }).config).toEqual({ topK: 50 });
    expect(t({ reward_weights: [2, 0.5] }).config).toEqual({
      outcomeWeight: 2,
      saliencyWeight: 0.5,
    });
    expect(t({ reward_weights: [3] }).config).toEqual({ outcomeWeight: 3 });
    expect(t({ reward_weights: [1, 2, 3] }).problems[0]).toMatch(
      /reward_weights: expected a list of 1 or 2 numbers .*\[outcome, saliency\]/,
    );
  });

  it('step counts are TRL optimiser updates: divided by num_iterations', () => {
    const r = t({ max_steps: 20, save_steps: 5, logging_steps: 4, num_iterations: 2 });
    expect(r.config).toEqual({
      maxSteps: 10,
      checkpointEvery: 3,
      loggingSteps: 2,
      numIterations: 2,
    });
    expect(r.warnings).toEqual([
      expect.stringMatching(
        /save_steps 5 counts optimiser updates .* 2.5 GRPO steps, rounded up to checkpointEvery 3/,
      ),
    ]);
    expect(t({ max_steps: 20 }).config).toEqual({ maxSteps: 20 }); // TRL's μ = 1
  });

  it('max_steps -1 means epochs; max_steps > 0 wins over num_train_epochs, as in TRL', () => {
    expect(t({ max_steps: -1, num_train_epochs: 2 }).config).toEqual({ numTrainEpochs: 2 });
    const r = t({ max_steps: 30, num_train_epochs: 2 });
    expect(r.config).toEqual({ maxSteps: 30 });
    expect(r.warnings[0]).toMatch(/max_steps 30 overrides num_train_epochs/);
  });

  it('ignored TRL keys are warnings with what atmanrl does instead; unknown ones are errors', () => {
    const r = t({
      bf16: true,
      use_vllm: true,
      vllm_gpu_memory_utilization: 0.3,
      report_to: 'wandb',
    });
    expect(r.problems).toEqual([]);
    expect(r.config).toEqual({});
    expect(r.warnings).toEqual([
      'ignored: bf16 — float32 throughout',
      'ignored: use_vllm — generation runs in TensorFlow.js worker threads (--workers)',
      'ignored: vllm_gpu_memory_utilization — no vLLM; generation runs in TensorFlow.js workers',
      'ignored: report_to — metrics go to the run folder (metrics.jsonl); open it with atmanrl view',
    ]);
    const u = t({ num_generation: 4, zzz_qqq_www: 1 });
    expect(u.problems).toEqual([
      expect.stringMatching(
        /^c\.yaml: num_generation: unknown option \(did you mean num_generations\?\)/,
      ),
      expect.stringMatching(/^c\.yaml: zzz_qqq_www: unknown option;/),
    ]);
  });

  it('mixed files work; a key in both forms is an error', () => {
    expect(t({ learning_rate: 0.1, maxSteps: 3, 'top-p': 0.9 }).config).toEqual({
      learningRate: 0.1,
      maxSteps: 3,
      topP: 0.9,
    });
    expect(t({ learning_rate: 0.1, learningRate: 0.2 }).problems[0]).toMatch(
      /c\.yaml: learningRate and learning_rate both set learningRate; keep one of them/,
    );
    expect(
      t({ per_device_train_batch_size: 8, num_generations: 4, promptsPerStep: 2 }).problems[0],
    ).toMatch(/promptsPerStep and per_device_train_batch_size both set promptsPerStep/);
  });
});

describe('the TRL table', () => {
  it('names every required TRL key, and maps only to real options', () => {
    const required = [
      'num_generations',
      'per_device_train_batch_size',
      'gradient_accumulation_steps',
      'learning_rate',
      'weight_decay',
      'lr_scheduler_type',
      'warmup_steps',
      'warmup_ratio',
      'max_grad_norm',
      'beta',
      'epsilon',
      'epsilon_high',
      'loss_type',
      'scale_rewards',
      'max_completion_length',
      'num_iterations',
      'temperature',
      'top_p',
      'top_k',
      'reward_weights',
      'mask_truncated_completions',
      'max_steps',
      'seed',
      'output_dir',
      'run_name',
      'save_steps',
      'log_completions',
      'num_completions_to_print',
      'logging_steps',
      'max_prompt_length',
      'save_total_limit',
      'num_train_epochs',
      'shuffle_dataset',
      'eval_steps',
      'importance_sampling_level',
      'delta',
      'top_entropy_quantile',
    ];
    for (const k of required) expect(trlKey(k)?.ours.length, k).toBeGreaterThan(0);
    const keys = new Set<string>(OPTIONS.map((o) => o.key));
    for (const row of TRL_KEYS) for (const o of row.ours) expect(keys.has(o), o).toBe(true);
    expect(trlKey('vllm_server_host')?.trl).toBe('vllm_*');
    expect(isSnakeCase('num_generations')).toBe(true);
    expect(isSnakeCase('numGenerations')).toBe(false);
    expect(isSnakeCase('seed')).toBe(false);
  });

  it('is the README\'s "Coming from TRL" table', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(trlTable());
    expect(trlTable().split('\n')).toHaveLength(TRL_KEYS.length + 2);
  });
});
