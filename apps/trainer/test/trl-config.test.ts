// TRL GRPOConfig files through the CLI (`--config … --dry-run`), and the start-up list of
// defaults that differ from @atmanrl/grpo's. Commands are stubs: nothing trains here.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GRPO_DEFAULTS } from '@atmanrl/grpo';
import { describe, expect, it } from 'vitest';
import { grpoDefaultNotes, grpoProblems } from '../src/_internal/grpo-check.js';
import { runCli } from '../src/cli-core.js';
import { defaultConfig, defaultDifferences, OPTIONS } from '../src/config.js';
import { captureIO, tempDir } from './helpers.js';

const noop = { description: 'test', run: async () => {} };
// The GRPO commands' stubs declare the checks and notes the real ones declare.
const grpoNoop = { ...noop, validate: grpoProblems, notes: grpoDefaultNotes };
const commands = {
  sft: async () => noop,
  train: async () => grpoNoop,
  saliency: async () => noop,
  eval: async () => noop,
  view: async () => noop,
  demo: async () => ({ ...grpoNoop, defaults: { numIterations: 1, maxCompletionLength: 40 } }),
  experiment: async () => noop,
  worker: async () => noop,
};
const FIXTURE = new URL('./fixtures/trl-grpo.yaml', import.meta.url).pathname;

function file(name: string, text: string): string {
  const path = join(tempDir('trl-'), name);
  writeFileSync(path, text);
  return path;
}

describe('a TRL GRPOConfig YAML through --config', () => {
  it('loads with --dry-run (exit 0) with TRL meaning, listing the ignored keys', async () => {
    const { io, out, err } = captureIO();
    expect(await runCli(['train', '--config', FIXTURE, '--dry-run'], io, commands)).toBe(0);
    const c = JSON.parse(out.join('\n'));
    expect(c).toMatchObject({
      runsDir: 'runs/qwen-grpo-gsm8k',
      runName: 'grpo-gsm8k',
      seed: 42,
      learningRate: 1e-6,
      lrScheduler: 'cosine',
      warmupRatio: 0.1,
      weightDecay: 0,
      maxGradNorm: 1,
      maxSteps: 500,
      // 16 completions per micro-batch × 4 micro-batches = 64 completions = 8 prompts × G 8
      promptsPerStep: 8,
      gradientAccumulationSteps: 4,
      numGenerations: 8,
      beta: 0.04,
      epsilon: 0.2,
      epsilonHigh: 0.28,
      lossType: 'dapo',
      scaleRewards: 'none',
      numIterations: 1,
      maskTruncatedCompletions: true,
      outcomeWeight: 1,
      saliencyWeight: 0.5,
      maxPromptLength: 256,
      maxCompletionLength: 512,
      temperature: 0.9,
      topP: 1,
      topK: 0,
      loggingSteps: 10,
      logCompletions: true,
      numCompletionsToPrint: 2,
      checkpointEvery: 100,
      saveTotalLimit: 3,
      shuffleDataset: true,
    });
    const warnings = err.filter((l) => l.startsWith('atmanrl: warning: ignored: '));
    expect(
      warnings.map((l) => l.split(' — ')[0]!.slice('atmanrl: warning: ignored: '.length)),
    ).toEqual([
      'bf16',
      'gradient_checkpointing',
      'use_vllm',
      'vllm_mode',
      'vllm_gpu_memory_utilization',
      'report_to',
      'push_to_hub',
    ]);
    expect(warnings[0]).toBe('atmanrl: warning: ignored: bf16 — float32 throughout');
  });

  it('the same file as .yml and as JSON loads the same; another extension is an error', async () => {
    const yamlText = 'per_device_train_batch_size: 8\nnum_generations: 4\nlearning_rate: 0.001\n';
    const a = captureIO();
    expect(
      await runCli(['train', '--config', file('c.yml', yamlText), '--dry-run'], a.io, commands),
    ).toBe(0);
    const b = captureIO();
    const json = JSON.stringify({
      per_device_train_batch_size: 8,
      num_generations: 4,
      learning_rate: 0.001,
    });
    expect(
      await runCli(['train', '--config', file('c.json', json), '--dry-run'], b.io, commands),
    ).toBe(0);
    expect(JSON.parse(a.out.join('\n'))).toEqual(JSON.parse(b.out.join('\n')));
    expect(JSON.parse(a.out.join('\n'))).toMatchObject({ promptsPerStep: 2, numGenerations: 4 });
    const c = captureIO();
    expect(
      await runCli(['train', '--config', file('c.toml', yamlText), '--dry-run'], c.io, commands),
    ).toBe(1);
    expect(c.err.join('\n')).toMatch(
      /--config .*c\.toml: unknown file type "\.toml"; use a \.json, \.yaml or \.yml file/,
    );
  });

  it('bad divisibility, an unknown snake_case key and a key in both forms exit 1 with the fix', async () => {
    const path = file(
      'bad.yaml',
      [
        'per_device_train_batch_size: 6',
        'num_generations: 4',
        'num_iteration: 2',
        'learning_rate: 0.01',
        'learningRate: 0.02',
        '',
      ].join('\n'),
    );
    const { io, out, err } = captureIO();
    expect(await runCli(['train', '--config', path, '--dry-run'], io, commands)).toBe(1);
    expect(out).toEqual([]);
    const text = err.join('\n');
    expect(text).toMatch(/3 problems/);
    expect(text).toMatch(
      /bad\.yaml: per_device_train_batch_size 6 × gradient_accumulation_steps 1 = 6 completions per step is not a multiple of num_generations 4/,
    );
    expect(text).toMatch(
      /bad\.yaml: num_iteration: unknown option \(did you mean num_iterations\?\)/,
    );
    expect(text).toMatch(/bad\.yaml: learningRate and learning_rate both set learningRate/);
  });

  it('flags override TRL keys of the file', async () => {
    const path = file('c.yaml', 'learning_rate: 0.01\nmax_steps: 9\n');
    const { io, out } = captureIO();
    expect(
      await runCli(
        ['train', '--config', path, '--learning-rate', '0.5', '--dry-run'],
        io,
        commands,
      ),
    ).toBe(0);
    expect(JSON.parse(out.join('\n'))).toMatchObject({ learningRate: 0.5, maxSteps: 9 });
  });

  it('num_train_epochs with an explicit maxSteps is an error; TRL max_steps -1 leaves epochs', async () => {
    const both = captureIO();
    expect(
      await runCli(
        ['train', '--num-train-epochs', '2', '--max-steps', '5', '--dry-run'],
        both.io,
        commands,
      ),
    ).toBe(1);
    expect(both.err.join('\n')).toMatch(
      /--num-train-epochs 2 and --max-steps 5 both set the run length/,
    );
    const trl = captureIO();
    const path = file('e.yaml', 'num_train_epochs: 2\nmax_steps: -1\n');
    expect(await runCli(['train', '--config', path, '--dry-run'], trl.io, commands)).toBe(0);
    expect(JSON.parse(trl.out.join('\n'))).toMatchObject({ numTrainEpochs: 2 });
  });
});

describe('the GRPO-loss options', () => {
  it('load from TRL keys and are checked by grpo before anything runs', async () => {
    const path = file(
      'loss.yaml',
      'importance_sampling_level: sequence\ntop_entropy_quantile: 0.2\ndelta: 4\n',
    );
    const ok = captureIO();
    expect(await runCli(['train', '--config', path, '--dry-run'], ok.io, commands)).toBe(0);
    expect(JSON.parse(ok.out.join('\n'))).toMatchObject({
      importanceSamplingLevel: 'sequence',
      topEntropyQuantile: 0.2,
      delta: 4,
    });
    // grpo's rule delta > 1 + epsilon, reported under the flag, exit 1
    const bad = captureIO();
    expect(await runCli(['train', '--delta', '1.1', '--dry-run'], bad.io, commands)).toBe(1);
    expect(bad.err.join('\n')).toMatch(/--delta: delta = 1\.1 is invalid/);
    const zero = captureIO();
    expect(
      await runCli(['train', '--top-entropy-quantile', '0', '--dry-run'], zero.io, commands),
    ).toBe(1);
    expect(zero.err.join('\n')).toMatch(/--top-entropy-quantile 0: must be in \(0, 1\]/);
  });

  it("train and demo declare grpo's checks, which name the flag as a field (not by parsing text)", async () => {
    const { trainCommand } = await import('../src/commands/train.js');
    const { demoCommand } = await import('../src/commands/demo.js');
    expect(trainCommand.validate).toBe(grpoProblems);
    expect(demoCommand.validate).toBe(grpoProblems);
    expect(trainCommand.notes).toBe(grpoDefaultNotes);
    expect(demoCommand.notes).toBe(grpoDefaultNotes);
    expect(await grpoProblems(defaultConfig())).toEqual([]);
    const [p] = await grpoProblems({ ...defaultConfig(), delta: 1.1 });
    expect(p).toMatchObject({
      flag: '--delta',
      message: expect.stringMatching(/^delta = 1\.1 is invalid/),
    });
    const bad = captureIO();
    expect(await runCli(['train', '--delta', '1.1', '--dry-run'], bad.io, commands)).toBe(1);
    expect(bad.err.join('\n')).toMatch(/--delta: delta = 1\.1 is invalid/);
  });
});

describe('defaults that differ from @atmanrl/grpo', () => {
  it('are derived from the option table and grpo’s GRPO_DEFAULTS, with each one’s source', () => {
    const diffs = defaultDifferences(defaultConfig(), new Set(), GRPO_DEFAULTS);
    const byKey = Object.fromEntries(diffs.map((d) => [d.key, d]));
    // the three the issue names, each against the library's value
    expect(byKey['lossType']).toMatchObject({ value: 'grpo', grpoDefault: 'dapo' });
    expect(byKey['numIterations']).toMatchObject({ value: 2, grpoDefault: 1 });
    expect(byKey['maxCompletionLength']).toMatchObject({ value: 1024, grpoDefault: 256 });
    // independent check: every listed option really differs, and every other grpo-mapped one
    // with a library default really agrees
    for (const o of OPTIONS as readonly {
      key: string;
      grpo?: string;
      default: unknown;
      source: string;
    }[]) {
      if (o.grpo === undefined || !(o.grpo in GRPO_DEFAULTS)) continue;
      const lib = (GRPO_DEFAULTS as Readonly<Record<string, unknown>>)[o.grpo];
      if (lib === undefined) continue;
      const differs = JSON.stringify(o.default ?? null) !== JSON.stringify(lib);
      expect(o.key in byKey, o.key).toBe(differs);
      if (differs) expect(byKey[o.key]!.source).toBe(o.source);
    }
    // options the user set are not listed
    const set = defaultDifferences(defaultConfig(), new Set(['lossType']), GRPO_DEFAULTS);
    expect(set.map((d) => d.key)).not.toContain('lossType');
  });

  it('are printed at start-up (and in --dry-run) for options not set, on stderr', async () => {
    const { io, out, err } = captureIO();
    expect(await runCli(['train', '--loss-type', 'grpo', '--dry-run'], io, commands)).toBe(0);
    JSON.parse(out.join('\n')); // stdout stays the config
    const text = err.join('\n');
    expect(text).toMatch(/defaults that differ from @atmanrl\/grpo/);
    expect(text).toMatch(/--num-iterations 2 \(grpo: 1; from paper\)/);
    expect(text).toMatch(/--max-completion-length 1024 \(grpo: 256; from paper\)/);
    expect(text).not.toMatch(/--loss-type/);
    // a command's own default is named as such; an equal value is not listed
    const demo = captureIO();
    expect(await runCli(['demo', '--dry-run'], demo.io, commands)).toBe(0);
    const d = demo.err.join('\n');
    expect(d).toMatch(/--max-completion-length 40 \(grpo: 256; from command default\)/);
    expect(d).not.toMatch(/--num-iterations/);
    // not for commands that do not run GRPO
    const ev = captureIO();
    expect(await runCli(['eval', '--dry-run'], ev.io, commands)).toBe(0);
    expect(ev.err).toEqual([]);
  });
});
