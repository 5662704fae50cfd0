// The options TRL users reach for, on real (tiny, cpu, in-thread) training runs and as units:
// saveTotalLimit, loggingSteps, logCompletions, evalSteps, maxPromptLength, lrScheduler cosine,
// numTrainEpochs, shuffleDataset, and the GRPO-loss options passed to @atmanrl/grpo.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GRPO_DEFAULTS } from '@atmanrl/grpo';
import { RunWriter } from '@atmanrl/runs/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { pruneCheckpoints } from '../src/_internal/checkpoint.js';
import {
  grpoOptions,
  orderedBatch,
  stepsForEpochs,
  truncatePrompt,
} from '../src/_internal/train-loop.js';
import { runCli } from '../src/cli-core.js';
import { COMMANDS } from '../src/commands/index.js';
import { defaultConfig } from '../src/config.js';
import {
  captureIO,
  deterministicMetrics,
  tempDir,
  tinyModelDir,
  tinyTrainFlags,
} from './helpers.js';

let modelDir = '';
beforeAll(async () => {
  modelDir = await tinyModelDir();
});

function onlyRun(runs: string): string {
  const dirs = readdirSync(runs);
  expect(dirs).toHaveLength(1);
  return join(runs, dirs[0]!);
}

function metricsOf(runDir: string): { step: number; metrics: Record<string, number> }[] {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

describe('TRL options on a training run', () => {
  it('saveTotalLimit, loggingSteps, logCompletions, evalSteps, maxPromptLength, cosine', async () => {
    const runs = tempDir();
    const { io, out, err } = captureIO();
    const code = await runCli(
      [
        'train',
        ...tinyTrainFlags(modelDir, runs),
        '--workers',
        '0',
        '--probe-prompts',
        '0',
        '--num-iterations',
        '1',
        '--max-steps',
        '4',
        '--checkpoint-every',
        '1',
        '--save-total-limit',
        '2',
        '--logging-steps',
        '2',
        '--log-completions',
        '--num-completions-to-print',
        '1',
        '--eval-steps',
        '2',
        '--eval-limit',
        '3',
        '--max-prompt-length',
        '4',
        '--lr-scheduler',
        'cosine',
      ],
      io,
      COMMANDS,
    );
    expect(err.filter((l) => /error/i.test(l))).toEqual([]);
    expect(code).toBe(0);
    const dir = onlyRun(runs);
    // saveTotalLimit 2: of the checkpoints of steps 1-4 only the newest two remain, latest = 4
    const ckpts = readdirSync(join(dir, 'checkpoints')).filter((d) => d.startsWith('step-'));
    expect(ckpts.sort()).toEqual(['step-3', 'step-4']);
    expect(readdirSync(join(dir, 'checkpoints')).filter((d) => d.includes('.tmp-'))).toEqual([]);
    expect(JSON.parse(readFileSync(join(dir, 'checkpoints', 'latest.json'), 'utf8')).step).toBe(4);
    // loggingSteps 2: progress lines of steps 2 and 4 only
    expect(out.filter((l) => l.startsWith('step ')).map((l) => l.split(' | ')[0])).toEqual([
      'step 2/4',
      'step 4/4',
    ]);
    // logCompletions at logging steps, numCompletionsToPrint 1 of the 2 × 2 completions
    const printed = err.filter((l) => l.startsWith('completions at step'));
    expect(printed.map((l) => l.split('\n')[0])).toEqual([
      'completions at step 2 (1 of 4):',
      'completions at step 4 (1 of 4):',
    ]);
    expect(printed[0]!.split('\n')).toHaveLength(2);
    expect(printed[0]!.split('\n')[1]).toMatch(
      /^ {2}prompt 0 #0 \| reward -?\d\.\d{3} \(outcome -?\d\.\d{3}, saliency -?\d\.\d{3}\) \| (correct|wrong)/,
    );
    const m = metricsOf(dir);
    expect(m.map((r) => r.step)).toEqual([1, 2, 3, 4]); // metrics.jsonl keeps every step
    // evalSteps 2: eval/* at steps 2 and 4 only; accuracy of 3 problems is k/3
    expect(m.map((r) => 'eval/accuracy' in r.metrics)).toEqual([false, true, false, true]);
    for (const r of [m[1]!, m[3]!]) {
      const a = r.metrics['eval/accuracy']!;
      expect(Math.round(a * 3) / 3).toBeCloseTo(a, 12);
    }
    expect(out.filter((l) => l.startsWith('eval at step'))).toHaveLength(2);
    // maxPromptLength 4: every synthetic prompt (BOS + "Q: ...") is longer, so both are cut
    expect(m.map((r) => r.metrics['prompts/truncated'])).toEqual([2, 2, 2, 2]);
    const samples = readFileSync(join(dir, 'samples.jsonl'), 'utf8').trim().split('\n');
    expect(samples.length).toBeGreaterThan(0);
    // cosine over 4 updates (μ = 1): lr · ½(1 + cos(π k / 4)), k = 0..3
    const lr = m.map((r) => r.metrics['learning_rate']!);
    const expected = [0, 1, 2, 3].map((k) => 0.01 * 0.5 * (1 + Math.cos((Math.PI * k) / 4)));
    for (const [i, v] of lr.entries()) expect(v).toBeCloseTo(expected[i]!, 10);
    // the pruned run still resumes from its latest checkpoint
    const resumed = captureIO();
    expect(await runCli(['train', '--resume', dir, '--max-steps', '5'], resumed.io, COMMANDS)).toBe(
      0,
    );
    expect(
      readdirSync(join(dir, 'checkpoints'))
        .filter((d) => d.startsWith('step-'))
        .sort(),
    ).toEqual(['step-4', 'step-5']);
  });

  it('numTrainEpochs sets maxSteps from the dataset; shuffleDataset false keeps dataset order', async () => {
    const runs = tempDir();
    const { io, out, err } = captureIO();
    const code = await runCli(
      [
        'train',
        ...tinyTrainFlags(modelDir, runs),
        '--workers',
        '0',
        '--probe-prompts',
        '0',
        '--num-iterations',
        '1',
        '--saliency-reward',
        'false',
        '--limit',
        '5',
        '--num-train-epochs',
        '1',
        '--shuffle-dataset',
        'false',
        // the GRPO-loss options reach grpo's update (GSPO ratio, entropy-quantile token mask)
        '--importance-sampling-level',
        'sequence',
        '--top-entropy-quantile',
        '0.5',
      ],
      io,
      COMMANDS,
    );
    expect(code).toBe(0);
    // 5 prompts at 2 per step = 2 steps per epoch (the incomplete last batch is dropped)
    expect(err.join('\n')).toMatch(
      /--num-train-epochs 1: 5 prompts at 2 per step = 2 steps per epoch, so --max-steps 2/,
    );
    expect(out.filter((l) => l.startsWith('step '))).toHaveLength(2);
    const dir = onlyRun(runs);
    const info = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
    expect(info.config).toMatchObject({ maxSteps: 2, numTrainEpochs: 1, shuffleDataset: false });
    const ids = readFileSync(join(dir, 'samples.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .map((s) => `${s.step}:${s.sampleId}`);
    for (const r of metricsOf(dir)) expect(Number.isFinite(r.metrics['loss'])).toBe(true);
    // synthetic train items are arith/1/<index>; in order, two prompts per step, G = 2 each
    expect([...new Set(ids)]).toEqual(['1:arith/1/0', '1:arith/1/1', '2:arith/1/2', '2:arith/1/3']);
  });
});

describe('evalSteps', () => {
  it('does not change the trajectory (greedy, no draw from the run RNG)', async () => {
    const run = async (extra: string[]) => {
      const runs = tempDir();
      const flags = [...tinyTrainFlags(modelDir, runs), '--workers', '0', '--probe-prompts', '0'];
      const code = await runCli(
        ['train', ...flags, '--max-steps', '2', ...extra],
        captureIO().io,
        COMMANDS,
      );
      expect(code).toBe(0);
      return deterministicMetrics(onlyRun(runs)).map((m) => {
        const { 'eval/accuracy': _a, 'eval/strict_rate': _s, ...rest } = m;
        return rest;
      });
    };
    const plain = await run([]);
    const withEval = await run(['--eval-steps', '1', '--eval-limit', '2']);
    expect(withEval).toEqual(plain);
  });
});

describe('the option helpers', () => {
  it('truncatePrompt keeps the last N tokens (TRL truncates from the left)', () => {
    expect(truncatePrompt([1, 2, 3, 4, 5, 6], 4)).toEqual([3, 4, 5, 6]);
    expect(truncatePrompt([1, 2, 3], 4)).toEqual([1, 2, 3]);
    expect(truncatePrompt([1, 2, 3], null)).toEqual([1, 2, 3]);
  });

  it('stepsForEpochs = ceil(epochs × floor(items / promptsPerStep))', () => {
    expect(stepsForEpochs(10, 4, 1)).toBe(2);
    expect(stepsForEpochs(10, 4, 1.5)).toBe(3);
    expect(stepsForEpochs(100, 8, 3)).toBe(36);
    expect(() => stepsForEpochs(3, 4, 1)).toThrow(/fewer than --prompts-per-step 4/);
  });

  it('orderedBatch walks the items in order, dropping an incomplete last batch', () => {
    const items = ['a', 'b', 'c', 'd', 'e'];
    let cursor = { epoch: 0, index: 0, seed: 1 };
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const b = orderedBatch(items, cursor, 2);
      seen.push(b.items.join(''));
      cursor = b.cursor;
    }
    expect(seen).toEqual(['ab', 'cd', 'ab']);
    expect(cursor).toEqual({ epoch: 1, index: 2, seed: 1 });
  });

  it('pruneCheckpoints keeps the newest N up to latest; latest and later folders stay', () => {
    const w = RunWriter.create({
      runsDir: tempDir(),
      command: 'train',
      config: {},
      seed: 0,
      backend: { name: 'cpu', detail: 'cpu' },
      versions: {},
    });
    for (const step of [1, 2, 3, 4, 5]) {
      const staged = w.stageCheckpoint(step);
      writeFileSync(join(staged, 'x'), String(step));
      w.commitCheckpoint(step, staged);
    }
    w.commitCheckpoint(4); // as after `--resume <run>/checkpoints/step-4`: step-5 is stale
    expect(pruneCheckpoints(w, 2)).toEqual(['checkpoints/step-2', 'checkpoints/step-1']);
    const left = () =>
      readdirSync(join(w.dir, 'checkpoints'))
        .filter((d) => d.startsWith('step-'))
        .sort();
    expect(left()).toEqual(['step-3', 'step-4', 'step-5']);
    expect(pruneCheckpoints(w, 1)).toEqual(['checkpoints/step-3']);
    expect(left()).toEqual(['step-4', 'step-5']);
    expect(existsSync(join(w.dir, 'checkpoints', 'step-4', 'x'))).toBe(true);
    expect(pruneCheckpoints(w, 1)).toEqual([]);
    w.close();
  });

  it('grpoOptions passes the GRPO-loss options under the same names', () => {
    const has = (k: string) => k in GRPO_DEFAULTS;
    const base = grpoOptions(defaultConfig(), [1]) as Record<string, unknown>;
    expect(base).toMatchObject({ lossType: 'grpo', lrSchedulerType: 'constant', eosTokenIds: [1] });
    expect('epsilonHigh' in base).toBe(false); // null = grpo's default
    expect('delta' in base).toBe(false);
    const warm = grpoOptions(
      { ...defaultConfig(), lrScheduler: 'constant_with_warmup', warmupRatio: 0.1 },
      [1],
    );
    expect(warm).toMatchObject({ lrSchedulerType: 'constant_with_warmup', warmupRatio: 0.1 });
    const custom = {
      ...defaultConfig(),
      importanceSamplingLevel: 'sequence' as const,
      delta: 1.5,
      topEntropyQuantile: 0.2,
    };
    if (has('importanceSamplingLevel') && has('delta') && has('topEntropyQuantile')) {
      expect(grpoOptions(custom, [1])).toMatchObject({
        importanceSamplingLevel: 'sequence',
        delta: 1.5,
        topEntropyQuantile: 0.2,
      });
    } else {
      // an @atmanrl/grpo without them: defaults are omitted, other values are a user error
      expect(() => grpoOptions(custom, [1])).toThrow(
        /--importance-sampling-level "sequence": the installed @atmanrl\/grpo has no 'importanceSamplingLevel' option/,
      );
    }
  });
});
