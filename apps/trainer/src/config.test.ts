import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { runCli } from './cli-core.js';
import {
  combinationProblems,
  defaultConfig,
  fromFlag,
  OPTIONS,
  optionsTable,
  parseArgv,
  type RunConfig,
  resolveConfig,
  toFlag,
} from './config.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), isTTY: false },
    out,
    err,
  };
}

const noop = { description: 'test', run: async () => {} };
const commands = {
  sft: async () => noop,
  train: async () => ({ ...noop, defaults: { maxSteps: 5 } }),
  saliency: async () => noop,
  eval: async () => noop,
  view: async () => noop,
  demo: async () => noop,
  experiment: async () => noop,
  worker: async () => noop,
};

describe('config', () => {
  it('maps flags one-to-one to keys', () => {
    for (const o of OPTIONS) expect(fromFlag(toFlag(o.key))).toBe(o.key);
    expect(toFlag('maxCompletionLength')).toBe('max-completion-length');
  });

  it('defaults follow the paper where it gives values (method.md)', () => {
    const c = defaultConfig();
    expect([
      c.numGenerations,
      c.learningRate,
      c.epsilon,
      c.numIterations,
      c.maxCompletionLength,
    ]).toEqual([8, 1e-6, 0.2, 2, 1024]);
    expect([
      c.saliencySteps,
      c.saliencyLr,
      c.saliencyBeta1,
      c.saliencyBeta2,
      c.saliencyWeightDecay,
    ]).toEqual([200, 1e-3, 0.6, 0.9999, 0.05]);
    expect([c.saliencyInit, c.saliencyScale, c.saliencyDirection, c.saliencyGate]).toEqual([
      -0.4,
      10,
      'reliance',
      'none',
    ]);
  });

  it('resolves defaults < command defaults < config file < flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'max-steps: 7\nlearningRate: 0.01\nseed: 3\n');
    const problems: string[] = [];
    const parsed = parseArgv(
      ['--config', file, '--seed=9', '--saliency-reward', 'false'],
      problems,
    );
    const c = resolveConfig(parsed, { maxSteps: 5, epsilon: 0.3 }, problems);
    expect([c.maxSteps, c.learningRate, c.seed, c.epsilon, c.saliencyReward]).toEqual([
      7,
      0.01,
      9,
      0.3,
      false,
    ]);
  });

  it('lists every problem as path: message', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ maxStep: 3, lossType: 'ppo', epsilon: -1 }));
    const problems: string[] = [];
    const parsed = parseArgv(
      ['--config', file, '--learning-rte', '1', '--max-steps', 'ten'],
      problems,
    );
    let message = '';
    try {
      resolveConfig(parsed, {}, problems);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/5 problems/);
    expect(message).toMatch(/--learning-rte: unknown option \(did you mean --learning-rate\?\)/);
    expect(message).toMatch(/--max-steps: expected a number, got "ten"/);
    expect(message).toMatch(/c\.json: maxStep: unknown option \(did you mean maxSteps\?\)/);
    expect(message).toMatch(/c\.json: lossType: "ppo" is not one of grpo, bnpo, dr_grpo, dapo/);
    expect(message).toMatch(/c\.json: epsilon: Too small.* \(got -1\)/);
  });

  it('a missing or malformed config file is a clear problem', () => {
    const problems: string[] = [];
    expect(() =>
      resolveConfig(parseArgv(['--config', '/nope/x.yaml'], problems), {}, problems),
    ).toThrow(/--config: cannot read \/nope\/x\.yaml/);
  });

  /** The problem message of resolving `--config <file>` with `text` in it. */
  const fileProblems = (name: string, text: string | Buffer): string => {
    const file = join(mkdtempSync(join(tmpdir(), 'cfg-')), name);
    writeFileSync(file, text);
    const problems: string[] = [];
    try {
      resolveConfig(parseArgv(['--config', file], problems), {}, problems);
    } catch (e) {
      return (e as Error).message;
    }
    return '';
  };

  it("names the file's key and value, and what a translation read it as (issue 35.11)", () => {
    const m = fileProblems('c.yaml', 'max_steps: -5\nnum_iterations: 2\n');
    expect(m).toMatch(/c\.yaml: max_steps: Too small.* \(got -5, read as maxSteps -2\)/);
    expect(fileProblems('c.yaml', 'learning_rate: .nan\n')).toMatch(
      /c\.yaml: learning_rate: .* \(got \.nan\)/,
    );
    expect(fileProblems('c.yaml', 'epsilon: -.inf\n')).toMatch(
      /c\.yaml: epsilon: .*\(got -\.inf\)/,
    );
    // an untranslated key keeps its plain form
    expect(fileProblems('c.json', '{"max-steps": 0}')).toMatch(
      /c\.json: max-steps: Too small.* \(got 0\)$/m,
    );
  });

  it('rejects a __proto__ key as unknown, in JSON and YAML (issue 35.12)', () => {
    const json = fileProblems('c.json', '{"__proto__": {"maxSteps": 3}, "seed": 1}');
    expect(json).toMatch(/1 problem\):\n {2}\S*c\.json: __proto__: unknown option$/);
    expect(fileProblems('c.yaml', '__proto__:\n  maxSteps: 3\nseed: 1\n')).toMatch(
      /c\.yaml: __proto__: unknown option/,
    );
    // and the prototype of the resolved config is untouched
    expect(Object.getPrototypeOf(defaultConfig())).toBe(Object.prototype);
  });

  it('says a too-large config file is too large, with its size (issue 35.13)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'big.yaml');
    writeFileSync(file, '');
    truncateSync(file, 17 * 1024 * 1024); // sparse: no 17 MiB written
    const problems: string[] = [];
    expect(() => resolveConfig(parseArgv(['--config', file], problems), {}, problems)).toThrow(
      /--config \S*big\.yaml: the file is 17\.0 MiB, over the 16\.0 MiB a config file may have/,
    );
  });

  it('caps a list of unknown keys at 20 and counts the rest (issue 35.14)', () => {
    const own = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`zzOption${i}`, 1]));
    const m = fileProblems('c.json', JSON.stringify(own));
    expect(m.match(/: unknown option/g)).toHaveLength(20);
    expect(m).toMatch(/c\.json: 30 more unknown options \(50 in all; the first 20 are listed\)/);
    const trl = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`zz_option_${i}`, 1]));
    const t = fileProblems('c.json', JSON.stringify(trl));
    expect(t.match(/: unknown option/g)).toHaveLength(20);
    expect(t).toMatch(/c\.json: 30 more unknown TRL-style keys \(50 in all/);
    // 20 listed + 1 count line
    expect(t).toMatch(/\(21 problems\)/);
  });

  it('the options table has one row per option', () => {
    expect(optionsTable().split('\n')).toHaveLength(OPTIONS.length + 2);
  });
});

describe('runCli', () => {
  it('--dry-run prints the resolved config with command defaults', async () => {
    const { io, out } = capture();
    expect(await runCli(['train', '--dry-run', '--seed', '4'], io, commands)).toBe(0);
    const printed = JSON.parse(out.join('\n'));
    expect(printed).toMatchObject({ seed: 4, maxSteps: 5, saliencyDirection: 'reliance' });
  });

  it('a config typo exits 1 with the fix, no stack trace', async () => {
    const { io, err } = capture();
    expect(await runCli(['train', '--num-generation', '4'], io, commands)).toBe(1);
    const text = err.join('\n');
    expect(text).toMatch(/did you mean --num-generations/);
    expect(text).not.toMatch(/at .*\.js:\d+/);
  });

  it('an unknown command exits 1 with usage', async () => {
    const { io, err } = capture();
    expect(await runCli(['trian'], io, commands)).toBe(1);
    expect(err.join('\n')).toMatch(
      /unknown command "trian" \(did you mean "train"\?\)[\s\S]*usage: atmanrl/,
    );
  });

  it('--version prints the trainer and node versions', async () => {
    const { io, out } = capture();
    expect(await runCli(['--version'], io, commands)).toBe(0);
    expect(out.join('\n')).toMatch(/^atmanrl \d+\.\d+\.\d+ \(node \d+/);
  });

  it('<command> --help lists only that command’s options', async () => {
    const view = capture();
    expect(await runCli(['view', '--help'], view.io, commands)).toBe(0);
    const v = view.out.join('\n');
    expect(v).toMatch(/`--port`/);
    expect(v).not.toMatch(/`--learning-rate`/);
    const train = capture();
    await runCli(['train', '--help'], train.io, commands);
    const t = train.out.join('\n');
    expect(t).toMatch(/`--learning-rate`/);
    expect(t).not.toMatch(/`--port`/);
    expect(t).not.toMatch(/`--sft-batch-size`/);
  });

  it('a bad enum names the flag as typed and suggests the value', async () => {
    const { io, err } = capture();
    expect(await runCli(['train', '--loss-type', 'dapoo', '--dry-run'], io, commands)).toBe(1);
    expect(err.join('\n')).toMatch(
      /--loss-type: "dapoo" is not one of grpo, bnpo, dr_grpo, dapo \(did you mean dapo\?\)/,
    );
  });

  it('--dry-run rejects an invalid combination with exit 1 and the fix', async () => {
    const { io, err, out } = capture();
    expect(
      await runCli(
        ['train', '--num-generations', '1', '--temperature', '0', '--dry-run'],
        io,
        commands,
      ),
    ).toBe(1);
    const text = err.join('\n');
    expect(text).toMatch(/--num-generations 1: .*use 2 or more/);
    expect(text).toMatch(/--temperature 0:/);
    expect(out).toEqual([]);
  });

  it('an internal error exits 2', async () => {
    const { io, err } = capture();
    const broken = {
      ...commands,
      eval: async () => ({
        description: 'x',
        run: async () => {
          throw new TypeError('boom');
        },
      }),
    };
    expect(await runCli(['eval'], io, broken)).toBe(2);
    expect(err.join('\n')).toMatch(/internal error: boom/);
  });
});

describe('RunConfig is inferred from the option table', () => {
  it('gives each key its option type, nullable where the default is null', () => {
    expectTypeOf<RunConfig['lossType']>().toEqualTypeOf<'grpo' | 'bnpo' | 'dr_grpo' | 'dapo'>();
    expectTypeOf<RunConfig['epsilonHigh']>().toEqualTypeOf<number | null>();
    expectTypeOf<RunConfig['runName']>().toEqualTypeOf<string | null>();
    expectTypeOf<RunConfig['saliencyReward']>().toEqualTypeOf<boolean>();
    expectTypeOf<RunConfig['maxSteps']>().toEqualTypeOf<number>();
    expectTypeOf<keyof RunConfig>().toEqualTypeOf<(typeof OPTIONS)[number]['key']>();
    const d = defaultConfig();
    expect(Object.keys(d).sort()).toEqual(OPTIONS.map((o) => o.key).sort());
  });
});

describe('combinationProblems', () => {
  it('names each invalid combination with its flag and fix, for GRPO commands only', () => {
    const bad = {
      ...defaultConfig(),
      numGenerations: 1,
      promptsPerStep: 3,
      gradientAccumulationSteps: 2,
      temperature: 0,
      epsilon: 0.2,
      epsilonHigh: 0.1,
    };
    const p = combinationProblems(bad, 'train');
    expect(p).toHaveLength(4);
    expect(p[0]).toMatch(/^--num-generations 1: .*use 2 or more/);
    expect(p[1]).toMatch(/^--gradient-accumulation-steps 2: the 3 × 1 = 3 completions/);
    expect(p[2]).toMatch(/^--temperature 0: .*> 0/);
    expect(p[3]).toMatch(/^--epsilon-high 0.1 is below --epsilon 0.2/);
    expect(combinationProblems(bad, 'eval')).toEqual([]);
    expect(combinationProblems(defaultConfig(), 'train')).toEqual([]);
  });

  it('checks the modes mix', () => {
    const c = { ...defaultConfig(), syntheticTask: 'modes' as const, modeMixTerse: 0.5 };
    expect(combinationProblems(c, 'sft')[0]).toMatch(/sum to 1.2/);
  });
});

describe('the queue, revision and generation-batch options (rows only; default off)', () => {
  it('default to off, 600 s for the queue timeout', () => {
    expect(defaultConfig()).toMatchObject({
      generationBatchSize: null,
      revision: null,
      queue: null,
      queueTimeout: 600,
    });
  });

  it('take valid values from flags', async () => {
    const { io, out } = capture();
    const argv = [
      'train',
      '--dry-run',
      '--generation-batch-size',
      '2',
      '--revision',
      'v1.0',
      '--queue',
      'rediss://user:pw@host:6380/0',
      '--queue-timeout',
      '30',
    ];
    expect(await runCli(argv, io, commands)).toBe(0);
    expect(JSON.parse(out.join('\n'))).toMatchObject({
      generationBatchSize: 2,
      revision: 'v1.0',
      queue: 'rediss://user:pw@host:6380/0',
      queueTimeout: 30,
    });
  });

  it.each([
    [
      ['--queue', 'http://host:6379'],
      /--queue: expected a redis:\/\/ or rediss:\/\/ URL \(got "http:\/\/host:6379"\)/,
    ],
    [['--generation-batch-size', '0'], /--generation-batch-size: Too small.*\(got 0\)/],
    [['--queue-timeout', '0'], /--queue-timeout: Too small.*\(got 0\)/],
  ])('rejects %j naming the flag', async (flags, message) => {
    const { io, err } = capture();
    expect(await runCli(['train', '--dry-run', ...flags], io, commands)).toBe(1);
    expect(err.join('\n')).toMatch(message);
  });
});

describe('the README options table', () => {
  it('is the option table itself (regenerate: node dist/cli.js train --help)', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(optionsTable());
  });
});

describe('--saliency-diagnostics', () => {
  it('is on by default (the fit options unchanged) and reaches the mask fits when false', async () => {
    const { saliencyFitOptions } = await import('./_internal/run-setup.js');
    expect(defaultConfig().saliencyDiagnostics).toBe(true);
    expect('diagnostics' in saliencyFitOptions(defaultConfig())).toBe(false);
    const c = { ...defaultConfig(), saliencyDiagnostics: false };
    expect(saliencyFitOptions(c).diagnostics).toBe(false);
  });
});

describe('--max-tokens-per-micro-batch', () => {
  it('is off by default and reaches grpo and the mask fits when set', async () => {
    expect(defaultConfig().maxTokensPerMicroBatch).toBeNull();
    const { saliencyFitOptions } = await import('./_internal/run-setup.js');
    expect('maxTokensPerBatch' in saliencyFitOptions(defaultConfig())).toBe(false);
    const c = { ...defaultConfig(), maxTokensPerMicroBatch: 4096 };
    expect(saliencyFitOptions(c).maxTokensPerBatch).toBe(4096);
    const { grpoInput } = await import('./config.js');
    const { GRPO_DEFAULTS } = await import('@atmanrl/grpo');
    const g = GRPO_DEFAULTS;
    expect(grpoInput(c, g)['maxTokensPerMicroBatch']).toBe(4096);
    expect('maxTokensPerMicroBatch' in grpoInput(defaultConfig(), g)).toBe(false);
  });

  it.each([
    ['0', /--max-tokens-per-micro-batch: Too small.*\(got 0\)/],
    ['2.5', /--max-tokens-per-micro-batch: .*int.*\(got 2\.5\)/i],
    ['lots', /--max-tokens-per-micro-batch: expected a number, got "lots"/],
  ])('rejects %s with exit 1 naming the flag', async (value, message) => {
    const { io, err } = capture();
    expect(
      await runCli(['train', '--dry-run', '--max-tokens-per-micro-batch', value], io, commands),
    ).toBe(1);
    expect(err.join('\n')).toMatch(message);
  });

  it('refuses the entropy quantile together with a budget, with the fix', async () => {
    const { io, err } = capture();
    const argv = ['train', '--max-tokens-per-micro-batch', '512', '--top-entropy-quantile', '0.2'];
    expect(await runCli(argv, io, commands)).toBe(1);
    expect(err.join('\n')).toMatch(
      /--max-tokens-per-micro-batch 512 with --top-entropy-quantile 0.2: .*set --top-entropy-quantile 1/,
    );
  });

  it('may change on --resume, like --recompute (memory knobs)', async () => {
    const { resumedConfig } = await import('./_internal/resume.js');
    const stored = defaultConfig();
    const given = { ...defaultConfig(), maxTokensPerMicroBatch: 2048, recompute: true };
    const explicit = new Set(['maxTokensPerMicroBatch', 'recompute']);
    const { config, changes } = resumedConfig(stored, given, explicit, 'x');
    expect(config).toMatchObject({ maxTokensPerMicroBatch: 2048, recompute: true });
    expect(changes).toEqual({
      maxTokensPerMicroBatch: { from: null, to: 2048 },
      recompute: { from: false, to: true },
    });
  });

  it('is listed by --help of the commands that read it', async () => {
    for (const command of ['train', 'saliency', 'eval'] as const) {
      const { io, out } = capture();
      await runCli([command, '--help'], io, commands);
      expect(out.join('\n')).toMatch(/\| `--max-tokens-per-micro-batch` \| integer \| `null` \|/);
    }
    const { io, out } = capture();
    await runCli(['sft', '--help'], io, commands);
    expect(out.join('\n')).not.toMatch(/max-tokens-per-micro-batch/);
  });
});
