// The options of the decisive experiment (issue 29): the content-held-out splits of the modes and
// hint-modes tasks as the trainer loads them, the hint-modes classifier, the length-penalty and
// truncation control rewards in a real 1-step run (values by hand, per-reward cost metrics), and
// the errors of bad values naming their flag.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTask, type Task } from '../src/_internal/task.js';
import { runCli } from '../src/cli-core.js';
import { COMMANDS } from '../src/commands/index.js';
import { defaultConfig, type RunConfig } from '../src/config.js';
import { captureIO, tempDir, tinyModelDir, tinyTrainFlags } from './helpers.js';

/** The question of an item without its hint: `Q: 6+3-4=? Hint: 5 A:` -> `6+3-4=?`. */
function questionOf(task: Task, index: number): string {
  const prompt = task.items[index]!.promptText!;
  const m = /^Q: (.*?)(?: Hint: \d+)? A:$/.exec(prompt);
  if (!m) throw new Error(`unexpected prompt ${prompt}`);
  return m[1]!;
}

const questions = (task: Task) => new Set(task.items.map((_, i) => questionOf(task, i)));

describe('synthetic splits as the trainer loads them', () => {
  for (const syntheticTask of ['modes', 'hint-modes'] as const) {
    it(`${syntheticTask}: no test question is in the train (SFT/RL) split with --synthetic-split content`, async () => {
      const config: RunConfig = {
        ...defaultConfig(),
        syntheticTask,
        syntheticGuessableFraction: 0.4,
        modeMixBypass: 0.2,
      };
      expect(config.syntheticSplit).toBe('content');
      // sft reads `train` with limit sftExamples, eval and probes read `test`
      const train = questions(await loadTask({ ...config, limit: 4000 }, 'train'));
      const test = questions(await loadTask({ ...config, limit: 500 }, 'test'));
      expect(test.size).toBeGreaterThan(20);
      expect([...test].filter((q) => train.has(q))).toEqual([]);
      // the old split shares questions (so the check above can fail)
      const seedConfig = { ...config, syntheticSplit: 'seed' as const };
      const trainSeed = questions(await loadTask({ ...seedConfig, limit: 4000 }, 'train'));
      const testSeed = questions(await loadTask({ ...seedConfig, limit: 500 }, 'test'));
      expect([...testSeed].filter((q) => trainSeed.has(q)).length).toBeGreaterThan(0);
    });
  }

  it('hint-modes: the task classifies its own reference CoTs as their mode; hints follow the accuracy', async () => {
    const task = await loadTask(
      { ...defaultConfig(), syntheticTask: 'hint-modes', syntheticHintAccuracy: 0.7, limit: 400 },
      'train',
    );
    expect(task.modes?.labels).toEqual(['compute', 'decorative', 'other']);
    for (const item of task.items.slice(0, 100)) {
      const cot = item.referenceCompletion!.split('####')[0]!;
      expect(task.modes!.classify(item.sample, cot)).toBe(
        (item.sample.meta as { mode: string }).mode,
      );
    }
    const right = task.items.filter(
      (it) => (it.sample.meta as { hintCorrect: boolean }).hintCorrect,
    );
    expect(right.length / task.items.length).toBeGreaterThan(0.6);
    expect(right.length / task.items.length).toBeLessThan(0.8);
    const modes = await loadTask(
      { ...defaultConfig(), syntheticTask: 'modes', syntheticGuessableFraction: 0.4, limit: 5 },
      'test',
    );
    expect(modes.modes?.labels).toEqual(['terse', 'verbose', 'bypass', 'other']);
    const arithmetic = await loadTask({ ...defaultConfig(), limit: 5 }, 'test');
    expect(arithmetic.modes).toBeUndefined();
  });

  it('a hint accuracy below the decorative share is refused naming --synthetic-hint-accuracy', async () => {
    await expect(
      loadTask({ ...defaultConfig(), syntheticTask: 'hint-modes', syntheticHintAccuracy: 0.3 }),
    ).rejects.toThrow(/^--synthetic-hint-accuracy: .*hintAccuracy \(0\.3\)/);
  });
});

describe('bad values name their flag', () => {
  const cases: [string[], RegExp][] = [
    [['--synthetic-split', 'stream'], /--synthetic-split/],
    [['--synthetic-task', 'hints'], /--synthetic-task/],
    [['--synthetic-hint-accuracy', '1.5'], /--synthetic-hint-accuracy/],
    [['--length-penalty-weight', '-1'], /--length-penalty-weight/],
    [['--length-penalty-target', '0'], /--length-penalty-target/],
    [['--truncation-fractions', '0,1.2'], /--truncation-fractions.*\[0, 1\)/],
    [['--truncation-gate', 'wrong-only'], /--truncation-gate/],
  ];
  for (const [flags, message] of cases) {
    it(flags.join(' '), async () => {
      const { io, err } = captureIO();
      expect(await runCli(['train', '--dry-run', ...flags], io, COMMANDS)).toBe(1);
      expect(err.join('\n')).toMatch(message);
    });
  }
});

describe('control rewards in a 1-step run', () => {
  let modelDir = '';
  beforeAll(async () => {
    modelDir = await tinyModelDir(4);
  });

  async function oneStep(flags: string[]) {
    const runs = tempDir();
    const { io, err } = captureIO();
    const code = await runCli(
      [
        'train',
        ...tinyTrainFlags(modelDir, runs),
        '--max-steps',
        '1',
        '--probe-prompts',
        '0',
        ...flags,
      ],
      io,
      COMMANDS,
    );
    expect(err.filter((l) => !l.startsWith('atmanrl: defaults that differ'))).toEqual([]);
    expect(code).toBe(0);
    const [dir] = readdirSync(runs).map((d) => join(runs, d));
    const metrics = (
      JSON.parse(readFileSync(join(dir!, 'metrics.jsonl'), 'utf8').trim().split('\n')[0]!) as {
        metrics: Record<string, number>;
      }
    ).metrics;
    const samples = readFileSync(join(dir!, 'samples.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { cotTokens: number; rewards: Record<string, number | null> });
    return { metrics, samples };
  }

  it('saliency + length (L = 5) + truncation: values by hand, each reward logged with its cost', async () => {
    const { metrics, samples } = await oneStep([
      '--length-penalty-weight',
      '0.5',
      '--length-penalty-max-length',
      '5',
      '--truncation-reward',
      'true',
      '--truncation-weight',
      '0.3',
    ]);
    expect(samples).toHaveLength(4);
    for (const s of samples) {
      // -w·n/L with n the CoT tokens, w = 0.5, L = 5 (not --max-completion-length 6)
      expect(s.rewards['length']).toBeCloseTo((-0.5 * s.cotTokens) / 5, 12);
      const t = s.rewards['truncation']!;
      expect(t).toBeGreaterThanOrEqual(-1);
      expect(t).toBeLessThanOrEqual(1);
      if (s.cotTokens === 0) expect(t).toBe(0);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(metrics['rewards/length/mean']).toBeCloseTo(
      mean(samples.map((s) => s.rewards['length']!)),
      6,
    );
    expect(metrics['rewards/truncation/mean']).toBeCloseTo(
      mean(samples.map((s) => s.rewards['truncation']!)),
      6,
    );
    for (const name of ['saliency', 'length', 'truncation']) {
      expect(metrics[`time/reward_per_rollout/${name}`]).toBeGreaterThanOrEqual(0);
    }
    expect(metrics['rewards/length/forward_passes_per_rollout']).toBe(0);
    expect(metrics['rewards/length/backward_passes_per_rollout']).toBe(0);
    expect(metrics['rewards/truncation/forward_passes_per_rollout']).toBeGreaterThan(0);
    expect(metrics['rewards/truncation/backward_passes_per_rollout']).toBe(0);
    // per distinct fitted item (k of the 4 rollouts): its AdamW steps (1..3) backward passes and
    // 2 + steps forward passes (step 1's forward gives the initial CE), so (forward - backward)·4/2 = k ∈ 1..4
    const bwd = metrics['rewards/saliency/backward_passes_per_rollout']!;
    const fwd = metrics['rewards/saliency/forward_passes_per_rollout']!;
    expect(bwd).toBeLessThanOrEqual(3);
    const k = ((fwd - bwd) * 4) / 2;
    expect(Math.abs(k - Math.round(k))).toBeLessThan(1e-9);
    expect(Math.round(k)).toBeGreaterThanOrEqual(1);
    expect(Math.round(k)).toBeLessThanOrEqual(4);
  });

  it('length with a target T = 2 and the others off: -w·max(0, n - T)/T, no other reward', async () => {
    const { metrics, samples } = await oneStep([
      '--saliency-reward',
      'false',
      '--length-penalty-weight',
      '0.5',
      '--length-penalty-target',
      '2',
    ]);
    for (const s of samples) {
      expect(s.rewards['length']).toBeCloseTo((-0.5 * Math.max(0, s.cotTokens - 2)) / 2, 12);
      expect(Object.keys(s.rewards).sort()).toEqual(['length', 'outcome']);
    }
    expect(metrics['rewards/truncation/mean']).toBeUndefined();
    expect(metrics['time/reward_per_rollout/saliency']).toBeUndefined();
  });

  it('--overlap-rewards: per-micro-batch rewards give the same rewards, advantages and update', async () => {
    const flags = ['--gradient-accumulation-steps', '2'];
    const whole = await oneStep([...flags, '--overlap-rewards', 'false']);
    const split = await oneStep([...flags, '--overlap-rewards', 'true']);
    expect(split.samples.map((s) => s.rewards['outcome'])).toEqual(
      whole.samples.map((s) => s.rewards['outcome']),
    );
    // the mask fits are batched per micro-batch: equal up to the float rounding of their batches
    split.samples.forEach((s, i) => {
      expect(s.rewards['saliency']).toBeCloseTo(whole.samples[i]!.rewards['saliency']!, 5);
    });
    for (const k of ['reward', 'loss', 'grad_norm', 'rewards/saliency/mean']) {
      expect(split.metrics[k], k).toBeCloseTo(whole.metrics[k]!, 4);
    }
    expect(whole.metrics['grad_norm']).toBeGreaterThan(0); // an update happened
  });
});
