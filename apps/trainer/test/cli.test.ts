// CLI tests: commands called with argv in-process (cpu backend, tiny models), plus one real
// subprocess run of `atmanrl demo --max-steps 2`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CommandDef, runCli } from '../src/cli-core.js';
import { COMMANDS } from '../src/commands/index.js';
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

function runDirs(runsDir: string): string[] {
  return readdirSync(runsDir).map((d) => join(runsDir, d));
}

describe('command exit codes', () => {
  it("runCli exits with the code a command returns (e.g. an experiment's jobs' status), else 0", async () => {
    const returning = (code: number | undefined) => ({
      ...COMMANDS,
      view: async (): Promise<CommandDef> => ({ description: 'test', run: async () => code }),
    });
    expect(await runCli(['view'], captureIO().io, returning(130))).toBe(130);
    expect(await runCli(['view'], captureIO().io, returning(undefined))).toBe(0);
  });
});

describe('atmanrl train', () => {
  it('writes a complete run folder with metrics, samples with relevance, and a checkpoint', async () => {
    const runs = tempDir();
    const { io, out, err } = captureIO();
    const code = await runCli(
      ['train', ...tinyTrainFlags(modelDir, runs), '--max-steps', '2'],
      io,
      COMMANDS,
    );
    // stderr holds only the start-up list of defaults that differ from @atmanrl/grpo's
    expect(err.filter((l) => !l.startsWith('atmanrl: defaults that differ'))).toEqual([]);
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^backend: cpu/);
    expect(out.filter((l) => l.startsWith('step '))).toHaveLength(2);
    const [dir] = runDirs(runs);
    const info = JSON.parse(readFileSync(join(dir!, 'run.json'), 'utf8'));
    expect(info).toMatchObject({
      status: 'finished',
      step: 2,
      command: 'train',
      backend: { name: 'cpu' },
    });
    expect(info.config.saliencyDirection).toBe('reliance');
    const samples = readFileSync(join(dir!, 'samples.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const rollouts = samples.filter((x) => !x.probe);
    expect(rollouts).toHaveLength(2 * 2 * 2); // steps × prompts × G
    // the fixed probes: the same 4 test problems at both logged steps, each with a mask fit
    const probes = samples.filter((x) => x.probe);
    expect(probes).toHaveLength(2 * 4);
    const ids = (step: number) => probes.filter((x) => x.step === step).map((x) => x.sampleId);
    expect(ids(1)).toEqual(ids(2));
    expect(new Set(probes.map((x) => x.promptIndex))).toEqual(new Set([2, 3, 4, 5]));
    for (const p of probes) expect(p.saliency).toBeDefined();
    expect(samples[0].rewards).toHaveProperty('outcome');
    expect(samples[0].rewards).toHaveProperty('saliency');
    expect(existsSync(join(dir!, 'checkpoints', 'step-2', 'optimizer.safetensors'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir!, 'checkpoints', 'latest.json'), 'utf8')).step).toBe(2);
  });

  it('N steps straight equal N/2 + resume + N/2 (identical metrics on cpu)', async () => {
    const straightRuns = tempDir();
    const splitRuns = tempDir();
    const a = captureIO();
    expect(
      await runCli(
        ['train', ...tinyTrainFlags(modelDir, straightRuns), '--max-steps', '4'],
        a.io,
        COMMANDS,
      ),
    ).toBe(0);
    const b = captureIO();
    expect(
      await runCli(
        ['train', ...tinyTrainFlags(modelDir, splitRuns), '--max-steps', '2'],
        b.io,
        COMMANDS,
      ),
    ).toBe(0);
    const [splitDir] = runDirs(splitRuns);
    const c = captureIO();
    expect(await runCli(['train', '--resume', splitDir!, '--max-steps', '4'], c.io, COMMANDS)).toBe(
      0,
    );
    expect(c.out.join('\n')).toMatch(/resumed at step 2/);
    const straight = deterministicMetrics(runDirs(straightRuns)[0]!);
    const resumed = deterministicMetrics(splitDir!);
    expect(resumed).toHaveLength(4);
    expect(resumed).toEqual(straight);
  });

  it('resuming with beta > 0 reloads the starting model as the frozen KL reference', async () => {
    const flags = (runs: string) => [...tinyTrainFlags(modelDir, runs), '--beta', '0.1'];
    const straightRuns = tempDir();
    expect(
      await runCli(['train', ...flags(straightRuns), '--max-steps', '2'], captureIO().io, COMMANDS),
    ).toBe(0);
    const splitRuns = tempDir();
    expect(
      await runCli(['train', ...flags(splitRuns), '--max-steps', '1'], captureIO().io, COMMANDS),
    ).toBe(0);
    const [dir] = runDirs(splitRuns);
    expect(
      await runCli(['train', '--resume', dir!, '--max-steps', '2'], captureIO().io, COMMANDS),
    ).toBe(0);
    const straight = deterministicMetrics(runDirs(straightRuns)[0]!);
    // KL to the starting model is > 0 once the policy has moved; a resumed run that used its own
    // checkpoint as the reference would log a different (smaller) KL at step 2.
    expect(straight[1]!['kl']).toBeGreaterThan(0);
    expect(deterministicMetrics(dir!)).toEqual(straight);
  });

  it('a stop request checkpoints, marks the run interrupted, and resume continues', async () => {
    const runs = tempDir();
    const control = { stop: false };
    const cap = captureIO();
    // What the SIGINT/SIGTERM handler does: ask the loop to stop after the current step.
    const io = {
      ...cap.io,
      out: (l: string) => {
        cap.out.push(l);
        if (l.startsWith('step 1/')) control.stop = true;
      },
    };
    const { runTraining } = await import('../src/_internal/train-loop.js');
    const { parseArgv, resolveConfig } = await import('../src/config.js');
    const problems: string[] = [];
    const config = resolveConfig(
      parseArgv(
        [...tinyTrainFlags(modelDir, runs), '--max-steps', '3', '--checkpoint-every', '10'],
        problems,
      ),
    );
    const outcome = await runTraining(config, io, {
      command: 'train',
      control,
      handleSignals: false,
    });
    expect(outcome.status).toBe('interrupted');
    expect(outcome.lastStep).toBe(1);
    const info = JSON.parse(readFileSync(join(outcome.runDir, 'run.json'), 'utf8'));
    expect(info.status).toBe('interrupted');
    const latest = JSON.parse(
      readFileSync(join(outcome.runDir, 'checkpoints', 'latest.json'), 'utf8'),
    );
    expect(latest.step).toBe(1);
    const r = captureIO();
    expect(await runCli(['train', '--resume', outcome.runDir], r.io, COMMANDS)).toBe(0);
    expect(JSON.parse(readFileSync(join(outcome.runDir, 'run.json'), 'utf8')).status).toBe(
      'finished',
    );
    expect(deterministicMetrics(outcome.runDir)).toHaveLength(3);
  });
});

describe('user errors are one paragraph with the fix, exit code 1', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'missing model folder',
      ['train', '--model', '/nope/llama'],
      /--model \/nope\/llama: the folder does not exist\. Pass a local Hugging Face Llama folder/,
    ],
    [
      'dataset path that does not exist',
      ['train', '--dataset', 'gsm8k', '--data-dir', '/nope/gsm8k'],
      /--data-dir \/nope\/gsm8k does not exist/,
    ],
    ['gsm8k without a data dir', ['train', '--dataset', 'gsm8k'], /needs --data-dir <folder>/],
    [
      'config typo',
      ['train', '--lerning-rate', '1'],
      /--lerning-rate: unknown option \(did you mean --learning-rate\?\)/,
    ],
    [
      'resume of a non-run',
      ['train', '--resume', '/nope/run'],
      /--resume \/nope\/run: .*run\.json does not exist/,
    ],
  ];
  it.each(cases)('%s', async (_name, argv, message) => {
    const { io, err } = captureIO();
    const code = await runCli([...argv, '--backend', 'cpu', '--runs-dir', tempDir()], io, COMMANDS);
    expect(code).toBe(1);
    const text = err.join('\n');
    expect(text).toMatch(message);
    expect(text).not.toMatch(/\n\s+at /);
  });

  it('a model folder whose tokenizer has no chat template, for a chat task', async () => {
    const dir = await tinyModelDir(1);
    const cfgPath = join(dir, 'tokenizer_config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
    delete cfg.chat_template;
    writeFileSync(cfgPath, JSON.stringify(cfg));
    const data = tempDir();
    writeFileSync(
      join(data, 'train.jsonl'),
      `${JSON.stringify({ question: 'q', answer: 'a\n#### 1' })}\n`,
    );
    const { io, err } = captureIO();
    const code = await runCli(
      [
        'train',
        '--model',
        dir,
        '--dataset',
        'gsm8k',
        '--data-dir',
        data,
        '--backend',
        'cpu',
        '--runs-dir',
        tempDir(),
      ],
      io,
      COMMANDS,
    );
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/has no chat_template.*Use an instruct model/);
  });
});

describe('atmanrl sft', () => {
  it('trains a tiny model from scratch, lowers the loss and saves a loadable folder', async () => {
    const out = tempDir();
    const runs = tempDir();
    const { io, out: lines } = captureIO();
    const code = await runCli(
      [
        'sft',
        '--out',
        out,
        '--runs-dir',
        runs,
        '--backend',
        'wasm',
        '--sft-examples',
        '64',
        '--sft-batch-size',
        '8',
        '--hidden-size',
        '16',
        '--num-layers',
        '1',
        '--num-heads',
        '2',
        '--num-kv-heads',
        '1',
        '--intermediate-size',
        '32',
        '--sft-epochs',
        '2',
        '--eval-limit',
        '4',
        '--max-completion-length',
        '48',
      ],
      io,
      COMMANDS,
    );
    expect(code).toBe(0);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(true);
    const losses = deterministicMetrics(runDirs(runs)[0]!)
      .map((m) => m['loss'])
      .filter((x): x is number => typeof x === 'number');
    expect(losses.length).toBe(16);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! - 0.5);
    expect(lines.join('\n')).toMatch(/greedy accuracy on 4 held-out problems/);
  });
});

describe('atmanrl demo (subprocess)', () => {
  const cli = resolve(import.meta.dirname, '..', 'dist', 'cli.js');

  it('runs 2 steps of the main job on the embedded default model and says how to view it', () => {
    const runs = tempDir();
    const r = spawnSync(
      process.execPath,
      [
        cli,
        'demo',
        '--max-steps',
        '2',
        '--runs-dir',
        runs,
        '--saliency-steps',
        '5',
        '--eval-limit',
        '4',
        '--eval-samples',
        '2',
      ],
      {
        encoding: 'utf8',
        timeout: 600_000,
      },
    );
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^backend: /m);
    expect(r.stdout.match(/^step \d\/2 \| reward/gm)).toHaveLength(2);
    expect(r.stdout).toMatch(/atmanrl view/);
    const dir = runDirs(runs)[0]!;
    const info = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
    expect(info).toMatchObject({ command: 'demo', status: 'finished', step: 2 });
    // the before/after comparison on the same held-out problems, with standard errors
    expect(r.stdout).toMatch(/before → after on the same 4 held-out problems/);
    expect(r.stdout).toMatch(/^accuracy \(T=1 samples\) +\d\.\d{3} ± \d\.\d{3} +\d\.\d{3} ± /m);
    const before = JSON.parse(readFileSync(join(dir, 'eval', 'held-out-before.json'), 'utf8'));
    const after = JSON.parse(readFileSync(join(dir, 'eval', 'held-out-after.json'), 'utf8'));
    expect(before.summary.items).toBe(4);
    expect(after.summary.items).toBe(4);
    // Both evaluations store their completions; a plain-Node script recomputes them exactly.
    const recompute = spawnSync(
      process.execPath,
      [
        fileURLToPath(new URL('../../../experiments/scripts/recompute-eval.mjs', import.meta.url)),
        join(dir, 'eval', 'held-out-before.json'),
        join(dir, 'eval', 'held-out-after.json'),
      ],
      { encoding: 'utf8' },
    );
    expect(recompute.status).toBe(0);
    for (const line of recompute.stdout.trim().split('\n'))
      expect(JSON.parse(line)).toMatchObject({ items: 4, mismatches: [] });
    expect(r.stdout).toMatch(/Nothing changed beyond the noise|WORSE|Changed beyond the noise/);
  });

  it('SIGINT during a run checkpoints, exits 0 with status interrupted', async () => {
    const runs = tempDir();
    const child = spawn(
      process.execPath,
      [
        cli,
        'demo',
        '--max-steps',
        '50',
        '--runs-dir',
        runs,
        '--saliency-steps',
        '2',
        '--checkpoint-every',
        '100',
        '--eval-limit',
        '2',
        '--eval-samples',
        '1',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let sent = false;
    child.stdout.on('data', (d) => {
      stdout += String(d);
      if (!sent && /^step 1\/50/m.test(stdout)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    expect(code).toBe(0);
    expect(stdout).toMatch(/interrupted at step \d+; checkpoint saved/);
    const dir = runDirs(runs)[0]!;
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status).toBe('interrupted');
    const latest = JSON.parse(readFileSync(join(dir, 'checkpoints', 'latest.json'), 'utf8'));
    expect(existsSync(join(dir, latest.path, 'trainer_state.json'))).toBe(true);
  });
});
